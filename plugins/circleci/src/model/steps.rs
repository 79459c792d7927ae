//! Steps in every form CircleCI accepts.

use sluice_pack_sdk::yaml::{Node, Value};

use crate::Text;

/// One step.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    /// `- checkout` or `- checkout: {path: …}`.
    Checkout { node: &'a Node },
    /// `- run: "cmd"`, `- run: {command: …}` (also the deprecated `deploy:`).
    Run(Run<'a>),
    /// `- when:` / `- unless:` with a `condition` and nested `steps`.
    Conditional {
        keyword: Text<'a>,
        condition: Option<&'a Node>,
        steps: Vec<Step<'a>>,
    },
    /// A built-in step other than `run`/`checkout` (`save_cache`, `add_ssh_keys`, …).
    Builtin {
        name: Text<'a>,
        args: Option<&'a Node>,
    },
    /// A reusable command, local (`greet`) or from an orb (`node/install`), with arguments;
    /// `passed` are steps given as arguments (`steps`-typed parameters), which are the
    /// caller's own steps.
    Invoke {
        name: Text<'a>,
        args: Option<&'a Node>,
        passed: Vec<Step<'a>>,
    },
    /// A `steps` parameter's placeholder (`- steps: << parameters.x >>`), a step that is
    /// itself an expression, or one that cannot be read.
    Opaque { node: &'a Node },
}

/// A `run` step.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The `run`/`deploy` key, where the step starts.
    pub key: &'a Node,
    /// The shell script (`None` when missing or not a scalar).
    pub command: Option<Text<'a>>,
    pub name: Option<Text<'a>>,
    pub environment: Option<&'a Node>,
}

impl Run<'_> {
    /// `name:`, or the first line of the command, for messages.
    pub fn label(&self) -> String {
        if let Some(name) = self.name {
            return name.value.to_owned();
        }
        let first = self
            .command
            .map(|c| c.value.lines().next().unwrap_or_default().trim())
            .unwrap_or_default();
        if first.chars().count() > 40 {
            format!("{}…", first.chars().take(40).collect::<String>())
        } else {
            first.to_owned()
        }
    }
}

const BUILTINS: &[&str] = &[
    "setup_remote_docker",
    "save_cache",
    "restore_cache",
    "store_artifacts",
    "store_test_results",
    "persist_to_workspace",
    "attach_workspace",
    "add_ssh_keys",
];

/// The steps of a `steps:` sequence.
pub fn parse(node: Option<&Node>) -> Vec<Step<'_>> {
    node.and_then(Node::as_sequence)
        .map(|items| items.iter().map(parse_one).collect())
        .unwrap_or_default()
}

fn parse_one(item: &Node) -> Step<'_> {
    match &item.value {
        Value::Scalar(_) => {
            let Some(name) = Text::from_node(item) else {
                return Step::Opaque { node: item };
            };
            classify(name, None, item)
        }
        Value::Mapping(mapping) => {
            // A step is a one-key mapping; CircleCI rejects more, the first key decides.
            let Some(entry) = mapping.entries.first() else {
                return Step::Opaque { node: item };
            };
            let Some(name) = Text::from_node(&entry.key) else {
                return Step::Opaque { node: item };
            };
            classify(name, Some(&entry.value), item)
        }
        Value::Null | Value::Sequence(_) => Step::Opaque { node: item },
    }
}

fn classify<'a>(name: Text<'a>, args: Option<&'a Node>, item: &'a Node) -> Step<'a> {
    match name.value {
        "checkout" => Step::Checkout { node: name.node },
        "run" | "deploy" => {
            let args = args.filter(|a| !a.is_null());
            let (command, label, environment) = match args {
                Some(node) if node.as_mapping().is_some() => (
                    node.get("command").and_then(Text::from_node),
                    node.get("name").and_then(Text::from_node),
                    node.get("environment"),
                ),
                Some(node) => (Text::from_node(node), None, None),
                None => (None, None, None),
            };
            Step::Run(Run {
                key: name.node,
                command,
                name: label,
                environment,
            })
        }
        "when" | "unless" => Step::Conditional {
            keyword: name,
            condition: args.and_then(|a| a.get("condition")),
            steps: parse(args.and_then(|a| a.get("steps"))),
        },
        builtin if BUILTINS.contains(&builtin) => Step::Builtin { name, args },
        // `- steps: << parameters.x >>`: where a `steps` parameter's steps go; the caller's
        // steps are analysed at the invocation that passes them.
        "steps" => Step::Opaque { node: item },
        _ if name.value.starts_with("<<") => Step::Opaque { node: item },
        _ => Step::Invoke {
            name,
            args,
            passed: args
                .and_then(Node::as_mapping)
                .into_iter()
                .flat_map(|m| m.iter())
                .filter(|(_, value)| value.as_sequence().is_some())
                .flat_map(|(_, value)| parse(Some(value)))
                .collect(),
        },
    }
}

/// Calls `visit` on every step, nested conditional steps included, in order.
pub fn walk<'s, 'a>(steps: &'s [Step<'a>], visit: &mut impl FnMut(&'s Step<'a>)) {
    for step in steps {
        visit(step);
        match step {
            Step::Conditional { steps, .. } => walk(steps, visit),
            Step::Invoke { passed, .. } => walk(passed, visit),
            _ => {}
        }
    }
}
