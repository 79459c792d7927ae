//! A workflow file (`.github/workflows/*.yml`).

use sluice_pack_sdk::yaml::Node;

use super::{Job, Map, Permissions, Text, Triggers};

/// A workflow: triggers, defaults and jobs.
#[derive(Debug, Clone)]
pub struct Workflow<'a> {
    pub node: &'a Node,
    pub name: Option<Text<'a>>,
    pub triggers: Triggers<'a>,
    pub permissions: Option<Permissions<'a>>,
    pub env: Map<'a>,
    /// `defaults.run.working-directory`.
    pub working_directory: Option<Text<'a>>,
    pub jobs: Vec<Job<'a>>,
}

impl<'a> Workflow<'a> {
    /// A workflow from its document root; `None` if the root is not a mapping.
    pub fn new(root: &'a Node) -> Option<Workflow<'a>> {
        root.as_mapping()?;
        Some(Workflow {
            node: root,
            name: root.get("name").and_then(Text::from_node),
            triggers: Triggers::new(trigger_node(root)),
            permissions: root.get("permissions").map(Permissions::new),
            env: Map::new(root.get("env")),
            working_directory: root
                .get("defaults")
                .and_then(|d| d.get("run"))
                .and_then(|r| r.get("working-directory"))
                .and_then(Text::from_node),
            jobs: root
                .get("jobs")
                .and_then(Node::as_mapping)
                .map(|jobs| {
                    jobs.iter()
                        .filter_map(|(key, value)| Job::new(key, value))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    pub fn job(&self, id: &str) -> Option<&Job<'a>> {
        self.jobs.iter().find(|job| job.id.value == id)
    }

    /// The permissions a job's token gets: its own block, else the workflow's.
    pub fn effective_permissions<'s>(&'s self, job: &'s Job<'a>) -> Option<&'s Permissions<'a>> {
        job.permissions.as_ref().or(self.permissions.as_ref())
    }
}

/// The `on:` value. YAML 1.1 tooling writes the key as `true`, so accept that spelling too.
pub(crate) fn trigger_node(root: &Node) -> Option<&Node> {
    let mapping = root.as_mapping()?;
    mapping.get("on").or_else(|| mapping.get("true"))
}
