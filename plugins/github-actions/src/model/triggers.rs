//! The `on:` block: which events start a workflow, and their filters.

use sluice_pack_sdk::yaml::Node;

use super::{Map, Text};

/// Every event a workflow listens to, from any of the three forms of `on:` (a single event
/// name, a list of names, or a mapping of names to their configuration).
#[derive(Debug, Clone, Default)]
pub struct Triggers<'a> {
    pub node: Option<&'a Node>,
    pub events: Vec<Trigger<'a>>,
}

/// One event of `on:`.
#[derive(Debug, Clone, Copy)]
pub struct Trigger<'a> {
    /// The event name as written (`pull_request_target`).
    pub name: Text<'a>,
    /// The event's configuration (`types:`, `branches:`, `inputs:` …), when it has one.
    pub config: Option<&'a Node>,
}

/// An input declared by `workflow_dispatch` or `workflow_call`.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub name: Text<'a>,
    pub node: &'a Node,
}

impl<'a> Triggers<'a> {
    pub fn new(node: Option<&'a Node>) -> Triggers<'a> {
        let mut events = Vec::new();
        if let Some(node) = node {
            if let Some(name) = Text::from_node(node) {
                events.push(Trigger { name, config: None });
            } else if let Some(sequence) = node.as_sequence() {
                events.extend(
                    sequence
                        .iter()
                        .filter_map(Text::from_node)
                        .map(|name| Trigger { name, config: None }),
                );
            } else if let Some(mapping) = node.as_mapping() {
                events.extend(mapping.iter().filter_map(|(key, value)| {
                    Some(Trigger {
                        name: Text::from_node(key)?,
                        config: (!value.is_null()).then_some(value),
                    })
                }));
            }
        }
        Triggers { node, events }
    }

    pub fn get(&self, event: &str) -> Option<&Trigger<'a>> {
        self.events.iter().find(|t| t.name.value == event)
    }

    pub fn contains(&self, event: &str) -> bool {
        self.get(event).is_some()
    }

    /// Event names in file order.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.events.iter().map(|t| t.name.value)
    }

    /// The declaration of input `name` under `workflow_dispatch` or `workflow_call`.
    /// GitHub matches input names case-insensitively.
    pub fn input(&self, name: &str) -> Option<Input<'a>> {
        ["workflow_dispatch", "workflow_call"]
            .iter()
            .filter_map(|event| self.get(event))
            .flat_map(|trigger| trigger.inputs())
            .find(|input| input.name.value.eq_ignore_ascii_case(name))
    }
}

impl<'a> Trigger<'a> {
    /// A configuration value such as `types` or `branches`.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.config?.get(key)
    }

    /// The activity types the event is filtered to (`types: [labeled]`); `None` when the
    /// event is not filtered, which means every activity type.
    pub fn activity_types(&self) -> Option<Vec<Text<'a>>> {
        list_of_strings(self.get("types")?)
    }

    /// Declared `inputs:` (only `workflow_dispatch` and `workflow_call` have them).
    pub fn inputs(&self) -> Vec<Input<'a>> {
        Map::new(self.get("inputs"))
            .iter()
            .map(|(name, node)| Input { name, node })
            .collect()
    }
}

impl<'a> Input<'a> {
    /// The declared `type:` (`string`, `boolean`, `choice` …), if any.
    pub fn kind(&self) -> Option<&'a str> {
        self.node.get("type")?.as_str()
    }
}

/// A scalar or a list of scalars, as GitHub accepts for filters.
pub(crate) fn list_of_strings(node: &Node) -> Option<Vec<Text<'_>>> {
    if let Some(text) = Text::from_node(node) {
        return Some(vec![text]);
    }
    node.as_sequence()
        .map(|items| items.iter().filter_map(Text::from_node).collect())
}
