//! A typed view of GitHub Actions files over the SDK's YAML tree.
//!
//! Every value keeps the [`Node`] it was read from, so rules can point at exact spans and build
//! line-independent fingerprints from routes. Files come from strangers: a value of an
//! unexpected shape (a mapping where a string belongs, `on: true`, a job that is a list) is
//! treated as absent, never as an error and never as a panic. Schema validation is not this
//! module's job; rules only ever see what GitHub could plausibly run.

mod action;
mod job;
mod map;
mod permissions;
mod step;
mod triggers;
mod uses;
mod workflow;

pub use action::{Action, Runs};
pub use job::{Environment, Job};
pub use map::Map;
pub use permissions::{Level, Permissions};
pub use sluice_pack_sdk::yaml::Text;
pub use step::Step;
pub use triggers::{Input, Trigger, Triggers};
pub use uses::{RefKind, Uses, ref_kind};
pub use workflow::Workflow;

use sluice_pack_sdk::yaml::Node;

/// What a YAML document is, decided from its content.
#[derive(Debug)]
pub enum Definition<'a> {
    Workflow(Workflow<'a>),
    Action(Action<'a>),
}

impl<'a> Definition<'a> {
    /// Recognises a workflow or an action from a document's root; `None` for anything else.
    ///
    /// The host may hand us arbitrary YAML (`--platform github-actions`), so recognition
    /// needs the keys GitHub itself requires: a workflow has a `jobs:` mapping and a trigger
    /// (or sits where GitHub loads workflows from); an action has `runs:` with `using:` (or is
    /// named like an action manifest).
    pub fn recognise(root: &'a Node, path: &str) -> Option<Definition<'a>> {
        let mapping = root.as_mapping()?;
        let in_workflows_dir = is_workflow_path(path);
        if mapping.get("jobs").and_then(Node::as_mapping).is_some()
            && (in_workflows_dir || workflow::trigger_node(root).is_some())
        {
            return Workflow::new(root).map(Definition::Workflow);
        }
        let runs = mapping.get("runs")?;
        let named_like_action = is_action_path(path);
        if runs.get("using").is_some() || (named_like_action && runs.as_mapping().is_some()) {
            return Some(Definition::Action(Action::new(root)));
        }
        None
    }

    /// Every group of steps that runs on one runner: the steps of each workflow job, or the
    /// steps of a composite action (with no job).
    pub fn step_groups(&self) -> Vec<(Option<&Job<'a>>, &[Step<'a>])> {
        match self {
            Definition::Workflow(workflow) => workflow
                .jobs
                .iter()
                .map(|job| (Some(job), job.steps.as_slice()))
                .collect(),
            Definition::Action(action) => action
                .runs
                .as_ref()
                .map(|runs| vec![(None, runs.steps.as_slice())])
                .unwrap_or_default(),
        }
    }

    pub fn as_workflow(&self) -> Option<&Workflow<'a>> {
        match self {
            Definition::Workflow(workflow) => Some(workflow),
            Definition::Action(_) => None,
        }
    }
}

/// `.github/workflows/<name>.yml` at any depth (monorepos vendor whole repositories).
pub fn is_workflow_path(path: &str) -> bool {
    let path = path.replace('\\', "/");
    let Some((dir, file)) = path.rsplit_once('/') else {
        return false;
    };
    (dir == ".github/workflows" || dir.ends_with("/.github/workflows")) && has_yaml_extension(file)
}

/// `action.yml` / `action.yaml` in any directory.
pub fn is_action_path(path: &str) -> bool {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    file == "action.yml" || file == "action.yaml"
}

fn has_yaml_extension(file: &str) -> bool {
    file.ends_with(".yml") || file.ends_with(".yaml")
}

/// Every scalar under `node`, depth first, keys included.
pub fn scalars(node: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if let Some(sequence) = node.as_sequence() {
            stack.extend(sequence.iter().rev());
        } else if let Some(mapping) = node.as_mapping() {
            for (key, value) in mapping.iter().collect::<Vec<_>>().into_iter().rev() {
                stack.push(value);
                stack.push(key);
            }
        } else if node.as_str().is_some() {
            out.push(node);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_and_action_paths() {
        assert!(is_workflow_path(".github/workflows/ci.yml"));
        assert!(is_workflow_path("sub/project/.github/workflows/ci.yaml"));
        assert!(!is_workflow_path(".github/workflows/nested/ci.yml"));
        assert!(!is_workflow_path(".github/workflows/README.md"));
        assert!(!is_workflow_path("ci.yml"));
        assert!(is_action_path("action.yml"));
        assert!(is_action_path(".github/actions/setup/action.yaml"));
        assert!(!is_action_path(".github/actions/setup/my-action.yml"));
    }
}
