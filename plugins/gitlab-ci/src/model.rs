//! A merged view of GitLab CI configuration that remembers where every value was written.
//!
//! GitLab builds a job from several places (its own keys, `extends:` parents, `default:`,
//! `!reference` tags, included files), so a job's effective value can come from another file.
//! [`Val`] is a YAML tree whose leaves keep the file path and positioned node they came from,
//! so findings always point at the file and line where the construct is written.

use sluice_pack_sdk::Span;
use sluice_pack_sdk::yaml::{Node, Value};

/// A node and the file it was written in.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub path: &'a str,
    pub node: &'a Node,
}

impl<'a> At<'a> {
    pub fn span(&self) -> Span {
        self.node.span
    }

    /// Stable text for fingerprints: the node's route in its document.
    pub fn route(&self) -> String {
        self.node.route.to_string()
    }
}

/// A configuration value with its origin.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    /// A scalar or null.
    Scalar(At<'a>),
    Seq(At<'a>, Vec<Val<'a>>),
    /// Entries keyed by their key node.
    Map(At<'a>, Vec<(At<'a>, Val<'a>)>),
    /// An unresolved `!reference [a, b, …]`.
    Ref(At<'a>, Vec<String>),
}

impl<'a> Val<'a> {
    /// Converts a node, keeping `!reference` tags as [`Val::Ref`].
    pub fn from_node(path: &'a str, node: &'a Node) -> Val<'a> {
        let at = At { path, node };
        if node.tag.as_deref() == Some("!reference") {
            let parts = node
                .as_sequence()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            return Val::Ref(at, parts);
        }
        match &node.value {
            Value::Sequence(items) => {
                Val::Seq(at, items.iter().map(|i| Val::from_node(path, i)).collect())
            }
            Value::Mapping(mapping) => Val::Map(
                at,
                mapping
                    .entries
                    .iter()
                    .map(|e| (At { path, node: &e.key }, Val::from_node(path, &e.value)))
                    .collect(),
            ),
            Value::Null | Value::Scalar(_) => Val::Scalar(at),
        }
    }

    pub fn at(&self) -> At<'a> {
        match self {
            Val::Scalar(at) | Val::Seq(at, _) | Val::Map(at, _) | Val::Ref(at, _) => *at,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    pub fn entry(&self, key: &str) -> Option<(&At<'a>, &Val<'a>)> {
        match self {
            Val::Map(_, entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.node.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(At<'a>, Val<'a>)] {
        match self {
            Val::Map(_, entries) => entries,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Val::Scalar(at) => at.node.as_str(),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self, Val::Map(..))
    }

    /// Items of a sequence; a single value counts as a one-item list (GitLab accepts both
    /// for `script:`, `extends:`, `tags:` …).
    pub fn items(&self) -> Vec<&Val<'a>> {
        match self {
            Val::Seq(_, items) => items.iter().collect(),
            Val::Scalar(at) if at.node.is_null() => Vec::new(),
            other => vec![other],
        }
    }

    /// Like [`Val::items`], with nested sequences flattened: `!reference` tags inside a list
    /// (`rules: [!reference [.base, rules], {if: …}]`) splice their items in, as GitLab does.
    pub fn flat_items(&self) -> Vec<&Val<'a>> {
        let mut out = Vec::new();
        for item in self.items() {
            match item {
                Val::Seq(..) => out.extend(item.flat_items()),
                other => out.push(other),
            }
        }
        out
    }

    /// Every scalar leaf, nested sequences flattened in order (as GitLab flattens scripts).
    pub fn flat_scalars(&self) -> Vec<At<'a>> {
        let mut out = Vec::new();
        self.collect_scalars(&mut out, 0);
        out
    }

    fn collect_scalars(&self, out: &mut Vec<At<'a>>, depth: usize) {
        if depth > 16 {
            return;
        }
        match self {
            Val::Scalar(at) if !at.node.is_null() => out.push(*at),
            Val::Seq(_, items) => {
                for item in items {
                    item.collect_scalars(out, depth + 1);
                }
            }
            // An unquoted script line such as `- echo a: b` parses as a mapping; GitLab
            // rejects it, but its text is still worth checking.
            Val::Map(_, entries) => {
                for (key, value) in entries {
                    out.push(*key);
                    value.collect_scalars(out, depth + 1);
                }
            }
            Val::Scalar(_) | Val::Ref(..) => {}
        }
    }

    /// Whether a boolean-ish scalar is true (`true`, `"true"`, `1`).
    pub fn is_true(&self) -> bool {
        self.as_str()
            .is_some_and(|s| matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }

    /// Deep merge as GitLab's `extends:` does: mappings merge key by key, the overlay wins,
    /// everything else (arrays included) is replaced by the overlay.
    pub fn merge(base: &Val<'a>, overlay: &Val<'a>) -> Val<'a> {
        match (base, overlay) {
            (Val::Map(_, base_entries), Val::Map(at, over_entries)) => {
                let mut merged: Vec<(At<'a>, Val<'a>)> = Vec::new();
                for (key, value) in base_entries {
                    let name = key.node.as_str();
                    match over_entries
                        .iter()
                        .rev()
                        .find(|(k, _)| k.node.as_str() == name)
                    {
                        Some((over_key, over_value)) => {
                            merged.push((*over_key, Val::merge(value, over_value)));
                        }
                        None => merged.push((*key, value.clone())),
                    }
                }
                for (key, value) in over_entries {
                    let name = key.node.as_str();
                    if !merged.iter().any(|(k, _)| k.node.as_str() == name) {
                        merged.push((*key, value.clone()));
                    }
                }
                Val::Map(*at, merged)
            }
            (_, overlay) => overlay.clone(),
        }
    }

    /// A copy without the entries named in `keys`.
    pub fn without(&self, keys: &[&str]) -> Val<'a> {
        match self {
            Val::Map(at, entries) => Val::Map(
                *at,
                entries
                    .iter()
                    .filter(|(k, _)| !k.node.as_str().is_some_and(|n| keys.contains(&n)))
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A copy with `key` set to `value` (replacing an existing entry).
    pub fn with(&self, key: At<'a>, value: Val<'a>) -> Val<'a> {
        match self {
            Val::Map(at, entries) => {
                let name = key.node.as_str();
                let mut entries: Vec<_> = entries
                    .iter()
                    .filter(|(k, _)| k.node.as_str() != name)
                    .cloned()
                    .collect();
                entries.push((key, value));
                Val::Map(*at, entries)
            }
            other => other.clone(),
        }
    }
}
