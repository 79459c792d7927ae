//! From files to pipelines: spec headers, local includes, roots, and each job's effective
//! configuration (`!reference`, `extends:`, `default:`, `inherit:`, variables).

use std::collections::{BTreeSet, HashMap, HashSet};

use sluice_pack_sdk::log;
use sluice_pack_sdk::yaml::{Document, Node};

use crate::includes::{self, Include, IncludeKind};
use crate::model::{At, Val};

/// Top-level keys that are not jobs. `pages` is a job.
pub const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "include",
    "workflow",
    "default",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
    // Deprecated globals.
    "types",
];

/// Keys a job takes from `default:` when it does not set them.
const DEFAULT_KEYS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// Deprecated top-level keys that act as defaults.
const GLOBAL_DEFAULTS: &[&str] = &[
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// One declared input of a component or template (`spec: inputs:`).
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    /// Only `string` inputs without `options:` can carry arbitrary text.
    pub free_text: bool,
}

/// One parsed file: its `spec:` header and its pipeline documents.
#[derive(Debug)]
pub struct FileConfig<'a> {
    pub path: &'a str,
    pub inputs: Option<Vec<Input>>,
    pub documents: Vec<&'a Node>,
    pub includes: Vec<Include<'a>>,
}

impl<'a> FileConfig<'a> {
    pub fn new(path: &'a str, documents: &'a [Document]) -> FileConfig<'a> {
        let mut inputs = None;
        let mut pipeline = Vec::new();
        for document in documents {
            let root = &document.root;
            // The header document holds only `spec:`; a file of one document is a pipeline.
            let is_header = documents.len() > 1
                && root.get("spec").is_some()
                && root.as_mapping().is_some_and(|m| m.len() == 1);
            if is_header {
                inputs = Some(spec_inputs(root));
            } else if root.as_mapping().is_some() {
                pipeline.push(root);
            }
        }
        let includes = pipeline
            .iter()
            .flat_map(|root| includes::of_document(path, root))
            .collect();
        FileConfig {
            path,
            inputs,
            documents: pipeline,
            includes,
        }
    }

    /// Whether `$[[ inputs.name ]]` can carry arbitrary text (undeclared inputs count as text).
    pub fn input_is_free_text(&self, name: &str) -> bool {
        self.inputs
            .as_ref()
            .and_then(|inputs| inputs.iter().find(|i| i.name == name))
            .is_none_or(|i| i.free_text)
    }
}

fn spec_inputs(root: &Node) -> Vec<Input> {
    let Some(inputs) = root.get("spec").and_then(|s| s.get("inputs")) else {
        return Vec::new();
    };
    let Some(mapping) = inputs.as_mapping() else {
        return Vec::new();
    };
    mapping
        .iter()
        .filter_map(|(key, value)| {
            let name = key.as_str()?.to_owned();
            let kind = value.get("type").and_then(Node::as_str).unwrap_or("string");
            let has_options = value.get("options").is_some();
            let has_regex = value.get("regex").is_some();
            Some(Input {
                name,
                free_text: kind == "string" && !has_options && !has_regex,
            })
        })
        .collect()
}

/// One job, fully resolved.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub name: &'a str,
    /// The job's key, where it is written.
    pub key: At<'a>,
    /// Effective configuration.
    pub config: Val<'a>,
    /// Effective variables: global ones it inherits, then its own.
    pub variables: Vec<(At<'a>, Val<'a>)>,
}

impl<'a> Job<'a> {
    /// Script lines in run order: `hooks: pre_get_sources_script`, `before_script`, `script`,
    /// `after_script`.
    pub fn script_lines(&self) -> Vec<(&'static str, At<'a>)> {
        let hooks = self
            .config
            .get("hooks")
            .and_then(|h| h.get("pre_get_sources_script"));
        let sections = [
            ("pre_get_sources_script", hooks),
            ("before_script", self.config.get("before_script")),
            ("script", self.config.get("script")),
            ("after_script", self.config.get("after_script")),
        ];
        sections
            .into_iter()
            .flat_map(|(section, value)| {
                value
                    .map(Val::flat_scalars)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |at| (section, at))
            })
            .collect()
    }

    /// The value of variable `name` as text (`{value: …}` mappings included).
    pub fn variable(&self, name: &str) -> Option<(At<'a>, &'a str)> {
        self.variables
            .iter()
            .rev()
            .find(|(k, _)| k.node.as_str() == Some(name))
            .and_then(|(_, v)| variable_text(v))
    }
}

/// A variable's value: a scalar, or the `value:` of the mapping form.
pub fn variable_text<'a>(value: &Val<'a>) -> Option<(At<'a>, &'a str)> {
    match value {
        Val::Scalar(at) => at.node.as_str().map(|s| (*at, s)),
        Val::Map(..) => value
            .get("value")
            .and_then(|v| v.as_str().map(|s| (v.at(), s))),
        _ => None,
    }
}

/// A root file and everything it includes locally, merged.
#[derive(Debug)]
pub struct Pipeline<'a> {
    pub root: &'a str,
    /// Merged top-level configuration (`!reference` not yet resolved).
    pub top: Val<'a>,
    pub jobs: Vec<Job<'a>>,
}

impl<'a> Pipeline<'a> {
    /// Builds every pipeline of the request: each file no other file includes is a root.
    pub fn all(files: &'a [FileConfig<'a>]) -> Vec<Pipeline<'a>> {
        let paths: Vec<&str> = files.iter().map(|f| f.path).collect();
        let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut included: HashSet<&str> = HashSet::new();
        for file in files {
            let mut missing = Vec::new();
            for include in &file.includes {
                if let IncludeKind::Local(pattern) = include.kind {
                    let targets = includes::resolve_local(pattern, &paths);
                    if targets.is_empty() {
                        missing.push(format!("`{pattern}`"));
                    }
                    for target in targets {
                        if target != file.path {
                            included.insert(target);
                            edges.entry(file.path).or_default().push(target);
                        }
                    }
                }
            }
            if !missing.is_empty() {
                log::warn(&format!(
                    "{}: local include {} names no file of the scan; analysed without it",
                    file.path,
                    missing.join(", ")
                ));
            }
        }
        let by_path: HashMap<&str, &FileConfig<'a>> = files.iter().map(|f| (f.path, f)).collect();
        let mut roots: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| !included.contains(p))
            .collect();
        // Files only reachable through an include cycle still get analysed.
        let mut reached: HashSet<&str> = HashSet::new();
        for root in &roots {
            reach(root, &edges, &mut reached);
        }
        for path in &paths {
            if !reached.contains(path) {
                roots.push(path);
                reach(path, &edges, &mut reached);
            }
        }
        roots
            .into_iter()
            .filter_map(|root| {
                let mut order = Vec::new();
                let mut visited = HashSet::from([root]);
                merge_order(root, &edges, &mut visited, &mut order);
                let mut top: Option<Val<'a>> = None;
                for path in order {
                    let Some(file) = by_path.get(path) else {
                        continue;
                    };
                    for document in &file.documents {
                        let val = Val::from_node(file.path, document);
                        top = Some(match top {
                            Some(base) => Val::merge(&base, &val),
                            None => val,
                        });
                    }
                }
                // A file without pipeline content (empty, or only a header) has no jobs.
                let top = top?;
                let jobs = jobs(&top);
                Some(Pipeline { root, top, jobs })
            })
            .collect()
    }
}

fn reach<'p>(path: &'p str, edges: &HashMap<&'p str, Vec<&'p str>>, seen: &mut HashSet<&'p str>) {
    if !seen.insert(path) {
        return;
    }
    for next in edges.get(path).into_iter().flatten() {
        reach(next, edges, seen);
    }
}

/// Included files first (their own includes before them), the including file last: later
/// content wins when merged, as GitLab merges the including file over its includes.
fn merge_order<'p>(
    path: &'p str,
    edges: &HashMap<&'p str, Vec<&'p str>>,
    visited: &mut HashSet<&'p str>,
    order: &mut Vec<&'p str>,
) {
    for next in edges.get(path).into_iter().flatten() {
        if visited.insert(next) {
            merge_order(next, edges, visited, order);
        }
    }
    order.push(path);
}

/// GitLab's nesting limit for `!reference` and `extends:`.
const MAX_DEPTH: usize = 11;

/// Replaces `!reference [a, b]` by the node it names in the merged configuration.
/// Unresolvable names are collected in `warnings` (logged once per pipeline, not per job).
pub fn resolve<'a>(
    val: &Val<'a>,
    top: &Val<'a>,
    depth: usize,
    warnings: &mut BTreeSet<String>,
) -> Val<'a> {
    if depth > MAX_DEPTH {
        return val.clone();
    }
    match val {
        Val::Ref(at, parts) => {
            let mut target = Some(top);
            for part in parts {
                target = target.and_then(|t| t.get(part));
            }
            match target {
                Some(found) if !parts.is_empty() => resolve(found, top, depth + 1, warnings),
                _ => {
                    warnings.insert(format!(
                        "{}:{}: `!reference [{}]` names nothing in the configuration (maybe \
                         in an include outside the scan); analysed without it",
                        at.path,
                        at.span().start_line,
                        parts.join(", ")
                    ));
                    val.clone()
                }
            }
        }
        Val::Seq(at, items) => Val::Seq(
            *at,
            items
                .iter()
                .map(|i| resolve(i, top, depth, warnings))
                .collect(),
        ),
        Val::Map(at, entries) => Val::Map(
            *at,
            entries
                .iter()
                .map(|(k, v)| (*k, resolve(v, top, depth, warnings)))
                .collect(),
        ),
        Val::Scalar(_) => val.clone(),
    }
}

/// A job or template with `extends:` applied (parents in order, the job itself last).
fn extended<'a>(
    name: &str,
    top: &Val<'a>,
    stack: &mut Vec<String>,
    warnings: &mut BTreeSet<String>,
) -> Option<Val<'a>> {
    let raw = resolve(top.get(name)?, top, 0, warnings);
    if !raw.is_map() {
        return None;
    }
    let mut base: Option<Val<'a>> = None;
    if let Some(parents) = raw.get("extends") {
        for parent in parents.flat_items() {
            let Some(parent_name) = parent.as_str() else {
                continue;
            };
            if stack.iter().any(|s| s == parent_name) || stack.len() >= MAX_DEPTH {
                warnings.insert(format!(
                    "`extends: {parent_name}` loops or nests too deep; ignored"
                ));
                continue;
            }
            stack.push(parent_name.to_owned());
            let resolved = extended(parent_name, top, stack, warnings);
            stack.pop();
            match resolved {
                Some(parent_val) => {
                    base = Some(match base {
                        Some(b) => Val::merge(&b, &parent_val),
                        None => parent_val,
                    });
                }
                None => {
                    warnings.insert(format!(
                        "{}: `extends: {parent_name}` names no template of the scan (maybe in \
                         an include outside it); analysed without it",
                        parent.at().path
                    ));
                }
            }
        }
    }
    Some(match base {
        Some(b) => Val::merge(&b, &raw),
        None => raw,
    })
}

/// `inherit: <what>:` → `None` = inherit everything, `Some(list)` = only those keys.
fn inherit_filter(job: &Val<'_>, what: &str) -> Option<Vec<String>> {
    let value = job.get("inherit")?.get(what)?;
    if let Some(text) = value.as_str() {
        return if text.trim() == "false" {
            Some(Vec::new())
        } else {
            None
        };
    }
    Some(
        value
            .flat_items()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

fn jobs<'a>(top: &Val<'a>) -> Vec<Job<'a>> {
    let mut warnings = BTreeSet::new();
    let mut defaults: Option<Val<'a>> = None;
    for key in GLOBAL_DEFAULTS {
        if let Some((k, v)) = top.entry(key) {
            let single = Val::Map(k.to_owned(), vec![(*k, resolve(v, top, 0, &mut warnings))]);
            defaults = Some(match defaults {
                Some(d) => Val::merge(&d, &single),
                None => single,
            });
        }
    }
    if let Some(default) = top.get("default") {
        let default = resolve(default, top, 0, &mut warnings);
        defaults = Some(match defaults {
            Some(d) => Val::merge(&d, &default),
            None => default,
        });
    }
    let global_variables: Vec<(At<'a>, Val<'a>)> = top
        .get("variables")
        .map(|v| resolve(v, top, 0, &mut warnings).entries().to_vec())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (key, value) in top.entries() {
        let Some(name) = key.node.as_str() else {
            continue;
        };
        if RESERVED.contains(&name) || name.starts_with('.') {
            continue;
        }
        if !value.is_map() && !matches!(value, Val::Ref(..)) {
            log::warn(&format!(
                "{}:{}: top-level key `{name}` is neither a job nor a keyword; skipped",
                key.path,
                key.span().start_line
            ));
            continue;
        }
        let Some(mut config) = extended(name, top, &mut vec![name.to_owned()], &mut warnings)
        else {
            continue;
        };
        if let Some(defaults) = &defaults {
            let allowed = inherit_filter(&config, "default");
            for (default_key, default_value) in defaults.entries() {
                let Some(default_name) = default_key.node.as_str() else {
                    continue;
                };
                let inherited = allowed
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|k| k == default_name));
                if DEFAULT_KEYS.contains(&default_name)
                    && inherited
                    && config.get(default_name).is_none()
                {
                    config = config.with(*default_key, default_value.clone());
                }
            }
        }
        let allowed = inherit_filter(&config, "variables");
        let mut variables: Vec<(At<'a>, Val<'a>)> = global_variables
            .iter()
            .filter(|(k, _)| {
                allowed
                    .as_ref()
                    .is_none_or(|list| k.node.as_str().is_some_and(|n| list.iter().any(|a| a == n)))
            })
            .cloned()
            .collect();
        if let Some(own) = config.get("variables") {
            variables.extend(own.entries().iter().cloned());
        }
        out.push(Job {
            name,
            key: *key,
            config,
            variables,
        });
    }
    // One message per pipeline: the host rate-limits pack logs.
    if !warnings.is_empty() {
        log::warn(&warnings.into_iter().collect::<Vec<_>>().join("; "));
    }
    out
}
