//! A typed view of a CircleCI configuration over the SDK's positioned YAML.
//!
//! Nothing is dropped: inline orbs are parsed into their own [`Scope`] (commands, jobs,
//! executors, nested orbs) and analysed like the configuration's own; registry orbs stay
//! references. Lookups follow CircleCI's naming: `cmd` in the scope that uses it, `orb/cmd`
//! in the inline orb `orb` declared there.

pub mod params;
pub mod steps;
pub mod workflows;

use sluice_pack_sdk::yaml::{Node, Value};

use crate::Text;
pub use params::ParamDecl;
pub use steps::{Run, Step};
pub use workflows::{Workflow, WorkflowJob};

/// One configuration file.
#[derive(Debug)]
pub struct Config<'a> {
    pub version: Option<Text<'a>>,
    /// `setup: true`: a setup configuration that continues with another file.
    pub setup: bool,
    /// Pipeline parameters (`parameters:` at the top).
    pub parameters: Vec<ParamDecl<'a>>,
    /// `scopes[0]` is the configuration itself, the others its inline orbs.
    pub scopes: Vec<Scope<'a>>,
    pub workflows: Vec<Workflow<'a>>,
}

/// The configuration or one inline orb: what names resolve against.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    /// `""` for the configuration, `orb/` (or `outer/inner/`) for inline orbs, for messages.
    pub prefix: String,
    pub orbs: Vec<OrbDecl<'a>>,
    pub executors: Vec<Executor<'a>>,
    pub commands: Vec<Command<'a>>,
    pub jobs: Vec<Job<'a>>,
}

/// An entry of `orbs:`.
#[derive(Debug)]
pub struct OrbDecl<'a> {
    pub name: Text<'a>,
    pub kind: OrbKind<'a>,
}

#[derive(Debug)]
pub enum OrbKind<'a> {
    /// `ns/name@version` (or anything else written as a scalar).
    Registry(Text<'a>),
    /// A mapping defining the orb in place: the index of its [`Scope`].
    Inline(usize),
    /// `name: {}`: a placeholder orb-tools fills with the orb being developed when it packs
    /// the configuration; its content is not in the file.
    Placeholder,
}

/// Where a job or command runs.
#[derive(Debug, Clone, Default)]
pub struct Environment<'a> {
    /// `docker: - image:` nodes.
    pub images: Vec<Text<'a>>,
    pub machine: Option<&'a Node>,
    pub macos: Option<&'a Node>,
    pub resource_class: Option<Text<'a>>,
    /// `executor:` (a name or `{name: …, params}`).
    pub executor: Option<&'a Node>,
    pub variables: Option<&'a Node>,
}

/// An entry of `executors:`.
#[derive(Debug)]
pub struct Executor<'a> {
    pub name: Text<'a>,
    pub parameters: Vec<ParamDecl<'a>>,
    pub runs_on: Environment<'a>,
}

/// An entry of `commands:`.
#[derive(Debug)]
pub struct Command<'a> {
    pub name: Text<'a>,
    pub parameters: Vec<ParamDecl<'a>>,
    pub steps: Vec<Step<'a>>,
}

/// An entry of `jobs:`.
#[derive(Debug)]
pub struct Job<'a> {
    pub name: Text<'a>,
    pub parameters: Vec<ParamDecl<'a>>,
    pub runs_on: Environment<'a>,
    pub steps: Vec<Step<'a>>,
}

impl<'a> Config<'a> {
    /// Reads a configuration document. `None` when the document is not a mapping or has
    /// none of CircleCI's top-level keys (it is not a CircleCI configuration).
    pub fn parse(root: &'a Node) -> Option<Config<'a>> {
        let mapping = root.as_mapping()?;
        let known = [
            "version",
            "jobs",
            "workflows",
            "orbs",
            "commands",
            "executors",
        ];
        if !known.iter().any(|k| mapping.get(k).is_some()) {
            return None;
        }
        let mut scopes = Vec::new();
        parse_scope(root, String::new(), &mut scopes);
        Some(Config {
            version: root.get("version").and_then(Text::from_node),
            setup: root
                .get("setup")
                .and_then(Node::as_str)
                .is_some_and(|s| s == "true"),
            parameters: params::parse(root.get("parameters")),
            scopes,
            workflows: workflows::parse(root.get("workflows")),
        })
    }

    /// The job a workflow entry of scope `scope` runs, with its scope index.
    pub fn job(&self, scope: usize, reference: &str) -> Option<(usize, &Job<'a>)> {
        let (scope, name) = self.resolve(scope, reference)?;
        self.scopes[scope]
            .jobs
            .iter()
            .find(|j| j.name.value == name)
            .map(|j| (scope, j))
    }

    /// The reusable command `reference` invoked from scope `scope`, with its scope index.
    pub fn command(&self, scope: usize, reference: &str) -> Option<(usize, &Command<'a>)> {
        let (scope, name) = self.resolve(scope, reference)?;
        self.scopes[scope]
            .commands
            .iter()
            .find(|c| c.name.value == name)
            .map(|c| (scope, c))
    }

    /// The executor `reference` used from scope `scope`.
    pub fn executor(&self, scope: usize, reference: &str) -> Option<(usize, &Executor<'a>)> {
        let (scope, name) = self.resolve(scope, reference)?;
        self.scopes[scope]
            .executors
            .iter()
            .find(|e| e.name.value == name)
            .map(|e| (scope, e))
    }

    /// Whether `reference` (`orb/cmd`) names something of a registry or placeholder orb,
    /// which the scan cannot see.
    pub fn is_external_reference(&self, scope: usize, reference: &str) -> bool {
        let Some((orb, _)) = reference.split_once('/') else {
            return false;
        };
        self.scopes.get(scope).is_some_and(|s| {
            s.orbs.iter().any(|o| {
                o.name.value == orb && matches!(o.kind, OrbKind::Registry(_) | OrbKind::Placeholder)
            })
        })
    }

    /// `orb/rest` → the inline orb's scope and `rest`; `name` → this scope and `name`.
    fn resolve<'r>(&self, scope: usize, reference: &'r str) -> Option<(usize, &'r str)> {
        let current = self.scopes.get(scope)?;
        match reference.split_once('/') {
            Some((orb, rest)) => current.orbs.iter().find_map(|o| match o.kind {
                OrbKind::Inline(index) if o.name.value == orb => self.resolve(index, rest),
                _ => None,
            }),
            None => Some((scope, reference)),
        }
    }
}

/// Parses the commands, jobs, executors and orbs of `node` into `scopes` (its own scope first
/// at the index it returns, then its inline orbs).
fn parse_scope<'a>(node: &'a Node, prefix: String, scopes: &mut Vec<Scope<'a>>) -> usize {
    let index = scopes.len();
    scopes.push(Scope {
        prefix: prefix.clone(),
        ..Scope::default()
    });
    let mut orbs = Vec::new();
    if let Some(mapping) = node.get("orbs").and_then(Node::as_mapping) {
        for (key, value) in mapping.iter() {
            let Some(name) = Text::from_node(key) else {
                continue;
            };
            let kind = match &value.value {
                Value::Mapping(m) if m.is_empty() => OrbKind::Placeholder,
                Value::Mapping(_) => OrbKind::Inline(parse_scope(
                    value,
                    format!("{prefix}{}/", name.value),
                    scopes,
                )),
                _ => match Text::from_node(value) {
                    Some(reference) => OrbKind::Registry(reference),
                    None => {
                        sluice_pack_sdk::log::warn(&format!(
                            "orb `{}` at line {} is neither a reference nor a definition",
                            name.value, key.span.start_line
                        ));
                        continue;
                    }
                },
            };
            orbs.push(OrbDecl { name, kind });
        }
    }
    let scope = &mut scopes[index];
    scope.orbs = orbs;
    scope.executors = entries(node.get("executors"))
        .map(|(name, value)| Executor {
            name,
            parameters: params::parse(value.get("parameters")),
            runs_on: environment(value),
        })
        .collect();
    scope.commands = entries(node.get("commands"))
        .map(|(name, value)| Command {
            name,
            parameters: params::parse(value.get("parameters")),
            steps: steps::parse(value.get("steps")),
        })
        .collect();
    scope.jobs = entries(node.get("jobs"))
        .map(|(name, value)| Job {
            name,
            parameters: params::parse(value.get("parameters")),
            runs_on: environment(value),
            steps: steps::parse(value.get("steps")),
        })
        .collect();
    index
}

/// `(name, definition)` of a mapping of definitions.
fn entries(node: Option<&Node>) -> impl Iterator<Item = (Text<'_>, &Node)> {
    node.and_then(Node::as_mapping)
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(key, value)| Some((Text::from_node(key)?, value)))
}

fn environment(node: &Node) -> Environment<'_> {
    let images = node
        .get("docker")
        .and_then(Node::as_sequence)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get("image").and_then(Text::from_node))
                .collect()
        })
        .unwrap_or_default();
    Environment {
        images,
        machine: node.get("machine"),
        macos: node.get("macos"),
        resource_class: node.get("resource_class").and_then(Text::from_node),
        executor: node.get("executor"),
        variables: node.get("environment"),
    }
}
