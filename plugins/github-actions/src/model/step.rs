//! One step of a job or of a composite action.

use sluice_pack_sdk::yaml::Node;

use super::{Map, Text, Uses};

/// A step: either `uses:` an action or `run:`s a script (GitHub rejects both or neither, but
/// we model what is written).
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// Position in the step list, from 0.
    pub index: usize,
    pub node: &'a Node,
    pub id: Option<Text<'a>>,
    pub name: Option<Text<'a>>,
    pub condition: Option<Text<'a>>,
    pub uses: Option<Text<'a>>,
    pub with: Map<'a>,
    pub run: Option<Text<'a>>,
    pub shell: Option<Text<'a>>,
    pub working_directory: Option<Text<'a>>,
    pub env: Map<'a>,
}

impl<'a> Step<'a> {
    pub fn new(index: usize, node: &'a Node) -> Step<'a> {
        let text = |key: &str| node.get(key).and_then(Text::from_node);
        Step {
            index,
            node,
            id: text("id"),
            name: text("name"),
            condition: text("if"),
            uses: text("uses"),
            with: Map::new(node.get("with")),
            run: text("run"),
            shell: text("shell"),
            working_directory: text("working-directory"),
            env: Map::new(node.get("env")),
        }
    }

    /// Steps of a `steps:` sequence; items that are not mappings are skipped but keep their
    /// index, so indexes match the file.
    pub fn list(node: Option<&'a Node>) -> Vec<Step<'a>> {
        node.and_then(Node::as_sequence)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, item)| item.as_mapping().is_some())
            .map(|(index, item)| Step::new(index, item))
            .collect()
    }

    /// The parsed `uses:` reference.
    pub fn action(&self) -> Option<Uses<'a>> {
        self.uses.map(|uses| Uses::parse(uses.value))
    }

    /// Whether this step uses the action `owner/repo[/path]` (any ref, case-insensitive as
    /// GitHub treats repository names).
    pub fn uses_action(&self, name: &str) -> bool {
        self.action()
            .and_then(|uses| uses.repository_name())
            .is_some_and(|action| action.eq_ignore_ascii_case(name))
    }

    /// How to name the step in messages: its id, else its name, else its position.
    pub fn label(&self) -> String {
        match (self.id, self.name) {
            (Some(id), _) => id.value.to_owned(),
            (None, Some(name)) => name.value.to_owned(),
            (None, None) => format!("#{}", self.index + 1),
        }
    }
}
