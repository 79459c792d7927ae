//! Mappings the model keeps open-ended (`env:`, `with:`, `inputs:`).

use sluice_pack_sdk::yaml::Node;

use super::Text;

/// A mapping of names to values; empty when the key is missing or not a mapping (an `env:`
/// given as an expression is opaque to static analysis).
#[derive(Debug, Clone, Copy, Default)]
pub struct Map<'a> {
    pub node: Option<&'a Node>,
}

impl<'a> Map<'a> {
    pub fn new(node: Option<&'a Node>) -> Map<'a> {
        Map { node }
    }

    /// The value of `name`, compared exactly.
    pub fn get(&self, name: &str) -> Option<&'a Node> {
        self.node?.as_mapping()?.get(name)
    }

    /// The scalar value of `name`.
    pub fn text(&self, name: &str) -> Option<Text<'a>> {
        self.get(name).and_then(Text::from_node)
    }

    /// Entries whose key is a scalar, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (Text<'a>, &'a Node)> + use<'a> {
        self.node
            .and_then(Node::as_mapping)
            .into_iter()
            .flat_map(|mapping| mapping.iter())
            .filter_map(|(key, value)| Some((Text::from_node(key)?, value)))
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}
