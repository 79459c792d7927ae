//! One job of a workflow.

use sluice_pack_sdk::yaml::Node;

use super::{Map, Permissions, Step, Text, triggers::list_of_strings};

/// A job: either a list of steps on a runner, or a call of a reusable workflow (`uses:`).
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The job's key in `jobs:`.
    pub id: Text<'a>,
    pub node: &'a Node,
    pub name: Option<Text<'a>>,
    pub condition: Option<Text<'a>>,
    pub permissions: Option<Permissions<'a>>,
    pub environment: Option<Environment<'a>>,
    pub needs: Vec<Text<'a>>,
    pub runs_on: Option<&'a Node>,
    pub container: Option<&'a Node>,
    pub services: Option<&'a Node>,
    pub env: Map<'a>,
    /// `defaults.run.working-directory`.
    pub working_directory: Option<Text<'a>>,
    pub steps: Vec<Step<'a>>,
    /// Reusable workflow called by this job.
    pub uses: Option<Text<'a>>,
    /// Inputs passed to the reusable workflow.
    pub with: Map<'a>,
    /// `secrets:` passed to the reusable workflow (`inherit` or a mapping).
    pub secrets: Option<&'a Node>,
}

/// `environment:` as a name or as `{name, url}`.
#[derive(Debug, Clone, Copy)]
pub struct Environment<'a> {
    pub node: &'a Node,
    pub name: Option<Text<'a>>,
    pub url: Option<Text<'a>>,
}

impl<'a> Job<'a> {
    /// A job from its `jobs:` entry; `None` if the value is not a mapping.
    pub fn new(key: &'a Node, node: &'a Node) -> Option<Job<'a>> {
        let id = Text::from_node(key)?;
        node.as_mapping()?;
        let text = |key: &str| node.get(key).and_then(Text::from_node);
        Some(Job {
            id,
            node,
            name: text("name"),
            condition: text("if"),
            permissions: node.get("permissions").map(Permissions::new),
            environment: node.get("environment").and_then(Environment::new),
            needs: node
                .get("needs")
                .and_then(list_of_strings)
                .unwrap_or_default(),
            runs_on: node.get("runs-on"),
            container: node.get("container"),
            services: node.get("services"),
            env: Map::new(node.get("env")),
            working_directory: node
                .get("defaults")
                .and_then(|d| d.get("run"))
                .and_then(|r| r.get("working-directory"))
                .and_then(Text::from_node),
            steps: Step::list(node.get("steps")),
            uses: text("uses"),
            with: Map::new(node.get("with")),
            secrets: node.get("secrets"),
        })
    }

    /// The step at file index `index`.
    pub fn step(&self, index: usize) -> Option<&Step<'a>> {
        self.steps.iter().find(|s| s.index == index)
    }
}

impl<'a> Environment<'a> {
    fn new(node: &'a Node) -> Option<Environment<'a>> {
        if let Some(name) = Text::from_node(node) {
            return Some(Environment {
                node,
                name: Some(name),
                url: None,
            });
        }
        node.as_mapping()?;
        Some(Environment {
            node,
            name: node.get("name").and_then(Text::from_node),
            url: node.get("url").and_then(Text::from_node),
        })
    }

    /// Whether the environment names something: an empty name (or an expression that may
    /// evaluate to nothing is still a name) does not gate anything.
    pub fn is_named(&self) -> bool {
        self.name.is_some_and(|name| !name.value.trim().is_empty())
    }
}
