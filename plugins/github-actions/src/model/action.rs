//! An action manifest (`action.yml`).

use sluice_pack_sdk::yaml::Node;

use super::{Map, Step, Text};

/// An action: its inputs and how it runs.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    pub node: &'a Node,
    pub name: Option<Text<'a>>,
    pub inputs: Map<'a>,
    pub runs: Option<Runs<'a>>,
}

/// The `runs:` block.
#[derive(Debug, Clone)]
pub struct Runs<'a> {
    pub node: &'a Node,
    /// `composite`, `docker`, `node20` …
    pub using: Option<Text<'a>>,
    /// Steps of a composite action.
    pub steps: Vec<Step<'a>>,
    /// Image of a Docker action.
    pub image: Option<Text<'a>>,
    /// Entry point of a JavaScript action.
    pub main: Option<Text<'a>>,
}

impl<'a> Action<'a> {
    pub fn new(root: &'a Node) -> Action<'a> {
        let runs = root
            .get("runs")
            .filter(|runs| runs.as_mapping().is_some())
            .map(|node| Runs {
                node,
                using: node.get("using").and_then(Text::from_node),
                steps: Step::list(node.get("steps")),
                image: node.get("image").and_then(Text::from_node),
                main: node.get("main").and_then(Text::from_node),
            });
        Action {
            node: root,
            name: root.get("name").and_then(Text::from_node),
            inputs: Map::new(root.get("inputs")),
            runs,
        }
    }

    /// Whether this is a composite action (its steps run in the caller's job).
    pub fn is_composite(&self) -> bool {
        self.runs
            .as_ref()
            .and_then(|runs| runs.using)
            .is_some_and(|using| using.value.eq_ignore_ascii_case("composite"))
    }
}
