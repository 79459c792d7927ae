//! Mapping access that sees through Azure's conditional insertions.
//!
//! `${{ if … }}:`, `${{ else }}:` and `${{ each … }}:` are valid YAML keys whose values are
//! inserted into the surrounding mapping when the template is compiled. We cannot evaluate
//! them, so every branch is treated as possibly taken: a key written under an insertion is
//! found as if it were written directly (the direct one wins when both exist).

use sluice_pack_sdk::yaml::{Node, Value};

/// Whether a key is a template expression (`${{ if … }}`, `${{ each … }}`, `${{ else }}`).
pub fn is_insertion(key: &Node) -> bool {
    key.as_str()
        .is_some_and(|k| k.trim_start().starts_with("${{"))
}

/// Case-insensitive key comparison: Azure accepts `Steps:` as well as `steps:`.
fn key_is(key: &Node, name: &str) -> bool {
    key.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name))
}

/// Nesting bound for insertions inside insertions.
const MAX_INSERTION_DEPTH: usize = 16;

/// Every `(key, value)` of a mapping, insertions flattened, in source order, with the
/// insertion keys each entry sits under.
pub fn entries(node: &Node) -> Vec<(&Node, &Node, Vec<&Node>)> {
    let mut out = Vec::new();
    collect_entries(node, &mut Vec::new(), &mut out, 0);
    out
}

fn collect_entries<'n>(
    node: &'n Node,
    conditions: &mut Vec<&'n Node>,
    out: &mut Vec<(&'n Node, &'n Node, Vec<&'n Node>)>,
    depth: usize,
) {
    let Some(mapping) = node.as_mapping() else {
        return;
    };
    for (key, value) in mapping.iter() {
        if is_insertion(key) {
            if depth < MAX_INSERTION_DEPTH && matches!(value.value, Value::Mapping(_)) {
                conditions.push(key);
                collect_entries(value, conditions, out, depth + 1);
                conditions.pop();
            }
        } else {
            out.push((key, value, conditions.clone()));
        }
    }
}

/// The value of `key`, direct or under an insertion.
pub fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    entry(node, key).map(|(_, value)| value)
}

/// The key and value of `key`, direct or under an insertion.
pub fn entry<'n>(node: &'n Node, key: &str) -> Option<(&'n Node, &'n Node)> {
    let mapping = node.as_mapping()?;
    if let Some((k, v)) = mapping.iter().find(|(k, _)| key_is(k, key)) {
        return Some((k, v));
    }
    entries(node)
        .into_iter()
        .find(|(k, _, _)| key_is(k, key))
        .map(|(k, v, _)| (k, v))
}

/// The scalar text of `key`.
pub fn get_str<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    get(node, key).and_then(Node::as_str)
}

/// Whether the node is a mapping that holds `key` (directly or under an insertion).
pub fn has(node: &Node, key: &str) -> bool {
    entry(node, key).is_some()
}

/// A mapping whose every key is an insertion: a sequence item that only inserts other items.
pub fn is_insertion_only(node: &Node) -> bool {
    node.as_mapping()
        .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, _)| is_insertion(k)))
}
