//! When a pipeline runs: `trigger:` (CI) and `pr:` (pull-request validation).

use sluice_pack_sdk::yaml::{Node, Value};

use super::yaml_ext;

/// Whether pull requests start the pipeline.
#[derive(Debug, Clone, Copy)]
pub enum PrTrigger<'a> {
    /// `pr:` is written and not `none`.
    Explicit(&'a Node),
    /// No `pr:`: GitHub and Bitbucket repositories build every pull request by default;
    /// Azure Repos only when a branch policy asks. The repository type is not in the YAML.
    Default,
    /// `pr: none` (or `false`).
    Disabled(&'a Node),
    /// A template analysed without a pipeline: nobody knows.
    Unknown,
}

impl PrTrigger<'_> {
    /// Pull requests may run the pipeline.
    pub fn may_run(&self) -> bool {
        !matches!(self, PrTrigger::Disabled(_))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Triggers<'a> {
    pub pr: PrTrigger<'a>,
}

fn is_none(node: &Node) -> bool {
    node.as_str()
        .is_some_and(|s| matches!(s.trim().to_ascii_lowercase().as_str(), "none" | "false"))
}

impl<'a> Triggers<'a> {
    pub fn of_pipeline(root: &'a Node) -> Triggers<'a> {
        let pr = match yaml_ext::get(root, "pr") {
            None => PrTrigger::Default,
            Some(node) if is_none(node) => PrTrigger::Disabled(node),
            // `pr:` with an empty value or `pr: {autoCancel: …}` still validates every PR.
            Some(node) if matches!(node.value, Value::Null) => PrTrigger::Explicit(node),
            Some(node) => PrTrigger::Explicit(node),
        };
        Triggers { pr }
    }

    pub fn unknown() -> Triggers<'a> {
        Triggers {
            pr: PrTrigger::Unknown,
        }
    }
}
