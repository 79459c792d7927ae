//! `parameters:` declarations of pipelines, jobs, commands and executors.

use sluice_pack_sdk::yaml::Node;

use crate::Text;

/// One declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamDecl<'a> {
    pub name: Text<'a>,
    /// `string`, `boolean`, `integer`, `enum`, `env_var_name`, `steps`, `executor`; `None`
    /// when missing (CircleCI rejects that, so it is analysed as text).
    pub kind: Option<&'a str>,
    pub default: Option<&'a Node>,
}

impl ParamDecl<'_> {
    /// Whether the value can hold arbitrary text. Booleans, integers, enums (a fixed list)
    /// and `env_var_name` (validated as `[A-Za-z_][A-Za-z0-9_]*`) cannot.
    pub fn holds_text(&self) -> bool {
        !matches!(
            self.kind,
            Some("boolean" | "integer" | "enum" | "env_var_name" | "steps" | "executor")
        )
    }
}

/// The declarations under `parameters:` (none if absent or not a mapping).
pub fn parse(node: Option<&Node>) -> Vec<ParamDecl<'_>> {
    let Some(mapping) = node.and_then(Node::as_mapping) else {
        return Vec::new();
    };
    mapping
        .iter()
        .filter_map(|(key, value)| {
            let name = Text::from_node(key)?;
            Some(ParamDecl {
                name,
                kind: value.get("type").and_then(Node::as_str),
                default: value.get("default"),
            })
        })
        .collect()
}

/// The declaration named `name`.
pub fn find<'p, 'a>(decls: &'p [ParamDecl<'a>], name: &str) -> Option<&'p ParamDecl<'a>> {
    decls.iter().find(|d| d.name.value == name)
}
