//! `permissions:` at workflow or job level.

use sluice_pack_sdk::yaml::Node;

use super::Text;

/// What a `permissions:` block grants the `GITHUB_TOKEN`.
#[derive(Debug, Clone)]
pub enum Permissions<'a> {
    /// `permissions: read-all`.
    ReadAll(&'a Node),
    /// `permissions: write-all`.
    WriteAll(&'a Node),
    /// A scope map; `permissions: {}` is an empty map and means no token permissions at all.
    Scopes {
        node: &'a Node,
        scopes: Vec<(Text<'a>, Level)>,
    },
    /// Anything else (an expression, a typo): not understood, so never treated as safe.
    Other(&'a Node),
}

/// The access one scope grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    None,
    Read,
    Write,
    /// A value GitHub would reject or that we cannot read.
    Unknown,
}

impl<'a> Permissions<'a> {
    pub fn new(node: &'a Node) -> Permissions<'a> {
        if let Some(text) = node.as_str() {
            return match text.trim() {
                "read-all" => Permissions::ReadAll(node),
                "write-all" => Permissions::WriteAll(node),
                _ => Permissions::Other(node),
            };
        }
        match node.as_mapping() {
            Some(mapping) => Permissions::Scopes {
                node,
                scopes: mapping
                    .iter()
                    .filter_map(|(key, value)| {
                        let level = match value.as_str().map(str::trim) {
                            Some("none") => Level::None,
                            Some("read") => Level::Read,
                            Some("write") => Level::Write,
                            _ => Level::Unknown,
                        };
                        Some((Text::from_node(key)?, level))
                    })
                    .collect(),
            },
            None => Permissions::Other(node),
        }
    }

    pub fn node(&self) -> &'a Node {
        match self {
            Permissions::ReadAll(node)
            | Permissions::WriteAll(node)
            | Permissions::Other(node)
            | Permissions::Scopes { node, .. } => node,
        }
    }

    /// `permissions: {}` (or every scope `none`): the token can do nothing.
    pub fn is_empty(&self) -> bool {
        matches!(self, Permissions::Scopes { scopes, .. }
            if scopes.iter().all(|(_, level)| *level == Level::None))
    }

    /// No scope can write; unknown values do not count as read-only.
    pub fn is_read_only(&self) -> bool {
        match self {
            Permissions::ReadAll(_) => true,
            Permissions::Scopes { scopes, .. } => scopes
                .iter()
                .all(|(_, level)| matches!(level, Level::None | Level::Read)),
            Permissions::WriteAll(_) | Permissions::Other(_) => false,
        }
    }
}
