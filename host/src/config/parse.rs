//! Parsing `.sluice.yml` with positions and checking it against the loaded packs, so every
//! mistake is reported with its file, line, column and key instead of being ignored.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use sluice_pack_sdk::yaml::{self, Mapping, Node, ScalarStyle, Value};

use crate::config::ConfigError;
use crate::pack::types::{PackInfo, Severity};

/// A checked configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Settings per rule id, in file order.
    pub rules: Vec<(String, RuleConfig)>,
    /// Settings per pack id, in file order.
    pub packs: Vec<(String, PackConfig)>,
}

/// `rules.<ID>`.
#[derive(Debug, Clone, Default)]
pub struct RuleConfig {
    /// The rule is not reported at all.
    pub disable: bool,
    /// Replaces the severity the pack gave.
    pub severity: Option<Severity>,
    /// Findings matching any of these are dropped (and counted).
    pub ignore: Vec<IgnoreEntry>,
}

/// One `ignore` entry: a glob on the repository-relative path, optionally `:LINE`.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    /// The entry as written.
    pub text: String,
    pub glob: GlobMatcher,
    /// Only findings whose primary span contains this line.
    pub line: Option<u32>,
}

/// `packs.<ID>`.
#[derive(Debug, Clone, Default)]
pub struct PackConfig {
    /// Option name and its values (one for a string, several for a list).
    pub options: Vec<(String, Vec<String>)>,
}

const TOP_KEYS: &[&str] = &["rules", "packs"];
const RULE_KEYS: &[&str] = &["disable", "severity", "ignore"];
const PACK_KEYS: &[&str] = &["options"];

/// Parses `text` (the contents of `path`) and checks every rule id, pack id and option name
/// against `packs`.
pub fn parse(path: &Path, text: &str, packs: &[&PackInfo]) -> Result<Config, ConfigError> {
    let checker = Checker { path, packs };
    let documents = yaml::parse(text).map_err(|e| checker.at(e.span, e.message))?;
    let mut config = Config {
        path: path.to_owned(),
        ..Config::default()
    };
    let Some(document) = documents.first() else {
        return Ok(config);
    };
    if let Some(extra) = documents.get(1) {
        return Err(checker.error(
            &extra.root,
            "a configuration file holds one YAML document; remove the `---` separator",
        ));
    }
    if let Some(warning) = document.warnings.first() {
        return Err(checker.at(warning.span, warning.message.clone()));
    }
    let root = &document.root;
    if root.is_null() {
        return Ok(config);
    }
    for entry in checker.mapping(root, "the configuration")? {
        match entry.name {
            "rules" => config.rules = checker.rules(entry.value)?,
            "packs" => config.packs = checker.packs(entry.value)?,
            other => return Err(checker.unknown_key(entry.key, other, "", TOP_KEYS)),
        }
    }
    Ok(config)
}

/// A mapping entry whose key is a string.
struct Entry<'n> {
    key: &'n Node,
    name: &'n str,
    value: &'n Node,
}

struct Checker<'a> {
    path: &'a Path,
    packs: &'a [&'a PackInfo],
}

impl Checker<'_> {
    fn at(&self, span: sluice_pack_sdk::Span, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            line: span.start_line,
            column: span.start_column,
            message: message.into(),
        }
    }

    fn error(&self, node: &Node, message: impl Into<String>) -> ConfigError {
        self.at(node.span, message)
    }

    /// The entries of a mapping whose keys are strings, as (key, value node). Errors point at
    /// the offending key.
    fn mapping<'n>(&self, node: &'n Node, what: &str) -> Result<Vec<Entry<'n>>, ConfigError> {
        let mapping: &Mapping = match &node.value {
            Value::Mapping(mapping) => mapping,
            _ => return Err(self.error(node, format!("{what} must be a mapping"))),
        };
        mapping
            .entries
            .iter()
            .map(|entry| match entry.key.as_str() {
                Some(name) => Ok(Entry {
                    key: &entry.key,
                    name,
                    value: &entry.value,
                }),
                None => Err(self.error(&entry.key, format!("keys of {what} must be strings"))),
            })
            .collect()
    }

    fn unknown_key(
        &self,
        key_node: &Node,
        key: &str,
        parent: &str,
        expected: &[&str],
    ) -> ConfigError {
        let place = if parent.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in `{parent}`")
        };
        self.error(
            key_node,
            format!(
                "unknown key `{key}` {place} (expected {})",
                expected.join(", ")
            ),
        )
    }

    fn rules(&self, node: &Node) -> Result<Vec<(String, RuleConfig)>, ConfigError> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        let mut rules = Vec::new();
        for entry in self.mapping(node, "`rules`")? {
            let id = entry.name;
            if !self.packs.iter().any(|pack| pack.rule(id).is_some()) {
                return Err(self.error(entry.key, self.unknown_rule_message(id)));
            }
            rules.push((id.to_owned(), self.rule(id, entry.value)?));
        }
        Ok(rules)
    }

    fn unknown_rule_message(&self, id: &str) -> String {
        let known: Vec<&str> = self
            .packs
            .iter()
            .flat_map(|pack| pack.rules.iter().map(|rule| rule.id.as_str()))
            .collect();
        let close = crate::scan::filter::close_matches(id, &known);
        let hint = if close.is_empty() {
            "; `sluice rules` lists them".to_owned()
        } else {
            format!("; did you mean {}?", close.join(" or "))
        };
        format!("unknown rule `rules.{id}`: no loaded pack declares it{hint}")
    }

    fn rule(&self, id: &str, node: &Node) -> Result<RuleConfig, ConfigError> {
        let parent = format!("rules.{id}");
        let mut rule = RuleConfig::default();
        if node.is_null() {
            return Ok(rule);
        }
        for entry in self.mapping(node, &format!("`{parent}`"))? {
            let name = format!("{parent}.{}", entry.name);
            let value = entry.value;
            match entry.name {
                "disable" => rule.disable = self.boolean(value, &name)?,
                "severity" => rule.severity = Some(self.severity(value, &name)?),
                "ignore" => rule.ignore = self.ignores(value, &name)?,
                other => return Err(self.unknown_key(entry.key, other, &parent, RULE_KEYS)),
            }
        }
        Ok(rule)
    }

    fn scalar<'n>(
        &self,
        node: &'n Node,
        name: &str,
        expected: &str,
    ) -> Result<&'n str, ConfigError> {
        match &node.value {
            Value::Scalar(scalar) => Ok(scalar.text.as_str()),
            Value::Null => {
                Err(self.error(node, format!("`{name}` has no value (expected {expected})")))
            }
            Value::Sequence(_) => {
                Err(self.error(node, format!("`{name}` is a list (expected {expected})")))
            }
            Value::Mapping(_) => {
                Err(self.error(node, format!("`{name}` is a mapping (expected {expected})")))
            }
        }
    }

    fn boolean(&self, node: &Node, name: &str) -> Result<bool, ConfigError> {
        let text = self.scalar(node, name, "true or false")?;
        // `"true"` is a string in YAML (and in the JSON Schema): only plain scalars are
        // booleans, so the file means the same to sluice and to an editor using the schema.
        let plain = node
            .as_scalar()
            .is_some_and(|scalar| scalar.style == ScalarStyle::Plain);
        match text {
            "true" if plain => Ok(true),
            "false" if plain => Ok(false),
            other => Err(self.error(
                node,
                format!("`{name}` must be true or false (unquoted), not `{other}`"),
            )),
        }
    }

    fn severity(&self, node: &Node, name: &str) -> Result<Severity, ConfigError> {
        const EXPECTED: &str = "info, low, medium, high or critical";
        let text = self.scalar(node, name, EXPECTED)?;
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == text)
            .ok_or_else(|| {
                self.error(
                    node,
                    format!("`{name}` has unknown severity `{text}` (expected {EXPECTED})"),
                )
            })
    }

    fn list<'n>(&self, node: &'n Node, name: &str) -> Result<&'n [Node], ConfigError> {
        match &node.value {
            Value::Sequence(items) => Ok(items),
            Value::Null => Ok(&[]),
            _ => Err(self.error(node, format!("`{name}` must be a list"))),
        }
    }

    fn ignores(&self, node: &Node, name: &str) -> Result<Vec<IgnoreEntry>, ConfigError> {
        self.list(node, name)?
            .iter()
            .map(|item| {
                let text = self.scalar(item, name, "a path glob, optionally followed by :LINE")?;
                self.ignore_entry(item, name, text)
            })
            .collect()
    }

    fn ignore_entry(
        &self,
        node: &Node,
        name: &str,
        text: &str,
    ) -> Result<IgnoreEntry, ConfigError> {
        let (pattern, line) = match text.rsplit_once(':') {
            None => (text, None),
            Some((pattern, line_text)) => {
                let line = line_text.parse::<u32>().ok().filter(|line| *line > 0);
                let Some(line) = line else {
                    return Err(self.error(
                        node,
                        format!(
                            "`{name}` entry `{text}` has a bad line number `{line_text}` (expected GLOB or GLOB:LINE with LINE from 1)"
                        ),
                    ));
                };
                (pattern, Some(line))
            }
        };
        if pattern.is_empty() {
            return Err(self.error(
                node,
                format!("`{name}` entry `{text}` has an empty path glob"),
            ));
        }
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                self.error(
                    node,
                    format!("`{name}` entry `{text}` is not a valid glob: {}", e.kind()),
                )
            })?
            .compile_matcher();
        Ok(IgnoreEntry {
            text: text.to_owned(),
            glob,
            line,
        })
    }

    fn packs(&self, node: &Node) -> Result<Vec<(String, PackConfig)>, ConfigError> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        let mut packs = Vec::new();
        for entry in self.mapping(node, "`packs`")? {
            let id = entry.name;
            let Some(info) = self.packs.iter().find(|pack| pack.id == id) else {
                let known: Vec<&str> = self.packs.iter().map(|pack| pack.id.as_str()).collect();
                return Err(self.error(
                    entry.key,
                    format!(
                        "unknown pack `packs.{id}`: no loaded pack has this id (loaded: {})",
                        known.join(", ")
                    ),
                ));
            };
            packs.push((id.to_owned(), self.pack(info, entry.value)?));
        }
        Ok(packs)
    }

    fn pack(&self, info: &PackInfo, node: &Node) -> Result<PackConfig, ConfigError> {
        let parent = format!("packs.{}", info.id);
        let mut pack = PackConfig::default();
        if node.is_null() {
            return Ok(pack);
        }
        for entry in self.mapping(node, &format!("`{parent}`"))? {
            match entry.name {
                "options" => {
                    pack.options = self.options(info, entry.value, &format!("{parent}.options"))?;
                }
                other => return Err(self.unknown_key(entry.key, other, &parent, PACK_KEYS)),
            }
        }
        Ok(pack)
    }

    fn options(
        &self,
        info: &PackInfo,
        node: &Node,
        parent: &str,
    ) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        let mut options = Vec::new();
        for entry in self.mapping(node, &format!("`{parent}`"))? {
            let (option, value) = (entry.name, entry.value);
            let name = format!("{parent}.{option}");
            if !info.options.iter().any(|declared| declared.name == option) {
                let declared: Vec<&str> = info.options.iter().map(|o| o.name.as_str()).collect();
                let declares = if declared.is_empty() {
                    "it declares no options".to_owned()
                } else {
                    format!("it declares {}", declared.join(", "))
                };
                return Err(self.error(
                    entry.key,
                    format!(
                        "unknown option `{name}`: pack `{}` has no option `{option}` ({declares})",
                        info.id
                    ),
                ));
            }
            const EXPECTED: &str = "a string or a list of strings";
            let values = match &value.value {
                Value::Sequence(items) => items
                    .iter()
                    .map(|item| self.scalar(item, &name, "a string").map(str::to_owned))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => vec![self.scalar(value, &name, EXPECTED)?.to_owned()],
            };
            options.push((option.to_owned(), values));
        }
        Ok(options)
    }
}
