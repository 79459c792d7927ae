//! `workflows:` and the job entries they list.

use sluice_pack_sdk::yaml::{Node, Value};

use super::steps::{self, Step};
use crate::Text;

/// One workflow.
#[derive(Debug, Clone)]
pub struct Workflow<'a> {
    pub name: Text<'a>,
    pub jobs: Vec<WorkflowJob<'a>>,
    /// `triggers: - schedule:` present.
    pub scheduled: Option<&'a Node>,
    pub when: Option<&'a Node>,
    pub unless: Option<&'a Node>,
}

/// One entry of a workflow's `jobs:` list.
#[derive(Debug, Clone)]
pub struct WorkflowJob<'a> {
    /// The job it runs (`build`, `orb/job`), as written.
    pub job: Text<'a>,
    /// `name:` override, else the job reference: what `requires` refers to.
    pub name: String,
    pub requires: Vec<Text<'a>>,
    pub contexts: Vec<Text<'a>>,
    pub filters: Option<&'a Node>,
    /// `type: approval`.
    pub approval: bool,
    /// The entry's mapping (job parameters are its other keys).
    pub args: Option<&'a Node>,
    /// `matrix: parameters:`.
    pub matrix: Option<&'a Node>,
    pub pre_steps: Vec<Step<'a>>,
    pub post_steps: Vec<Step<'a>>,
}

/// Keys of a workflow job entry that are not job parameters.
pub const ENTRY_KEYS: &[&str] = &[
    "requires",
    "context",
    "filters",
    "type",
    "name",
    "matrix",
    "pre-steps",
    "post-steps",
    "serial-group",
    "override-with",
];

/// Every workflow under `workflows:` (the legacy `version:` key is skipped).
pub fn parse(node: Option<&Node>) -> Vec<Workflow<'_>> {
    let Some(mapping) = node.and_then(Node::as_mapping) else {
        return Vec::new();
    };
    mapping
        .iter()
        .filter(|(_, value)| value.as_mapping().is_some())
        .filter_map(|(key, value)| {
            let name = Text::from_node(key)?;
            let jobs = value
                .get("jobs")
                .and_then(Node::as_sequence)
                .map(|items| items.iter().filter_map(parse_entry).collect())
                .unwrap_or_default();
            let scheduled = value
                .get("triggers")
                .and_then(Node::as_sequence)
                .and_then(|t| t.iter().find_map(|trigger| trigger.get("schedule")));
            Some(Workflow {
                name,
                jobs,
                scheduled,
                when: value.get("when"),
                unless: value.get("unless"),
            })
        })
        .collect()
}

fn parse_entry(item: &Node) -> Option<WorkflowJob<'_>> {
    let (job, args) = match &item.value {
        Value::Scalar(_) => (Text::from_node(item)?, None),
        Value::Mapping(mapping) => {
            let entry = mapping.entries.first()?;
            (Text::from_node(&entry.key)?, Some(&entry.value))
        }
        _ => return None,
    };
    let get = |key: &str| args.and_then(|a| a.get(key));
    let name = get("name")
        .and_then(Node::as_str)
        .unwrap_or(job.value)
        .to_owned();
    Some(WorkflowJob {
        job,
        name,
        requires: texts(get("requires")),
        contexts: texts(get("context")),
        filters: get("filters"),
        approval: get("type").and_then(Node::as_str) == Some("approval"),
        args,
        matrix: get("matrix"),
        pre_steps: steps::parse(get("pre-steps")),
        post_steps: steps::parse(get("post-steps")),
    })
}

/// A scalar or a sequence of scalars.
pub fn texts(node: Option<&Node>) -> Vec<Text<'_>> {
    match node {
        Some(node) => match node.as_sequence() {
            Some(items) => items.iter().filter_map(Text::from_node).collect(),
            None => Text::from_node(node).into_iter().collect(),
        },
        None => Vec::new(),
    }
}
