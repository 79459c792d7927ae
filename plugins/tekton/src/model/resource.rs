//! One Kubernetes object of a Tekton API group.

use sluice_pack_sdk::yaml::Node;

use crate::selection::is_tekton_api_version;

/// The kinds the pack analyses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Task,
    ClusterTask,
    Pipeline,
    PipelineRun,
    TaskRun,
    StepAction,
    TriggerTemplate,
    TriggerBinding,
    ClusterTriggerBinding,
    EventListener,
    /// Another kind of a Tekton group (`CustomRun`, `Condition`, `Interceptor`, …).
    Other,
}

impl Kind {
    fn from_name(name: &str) -> Kind {
        match name {
            "Task" => Kind::Task,
            "ClusterTask" => Kind::ClusterTask,
            "Pipeline" => Kind::Pipeline,
            "PipelineRun" => Kind::PipelineRun,
            "TaskRun" => Kind::TaskRun,
            "StepAction" => Kind::StepAction,
            "TriggerTemplate" => Kind::TriggerTemplate,
            "TriggerBinding" => Kind::TriggerBinding,
            "ClusterTriggerBinding" => Kind::ClusterTriggerBinding,
            "EventListener" => Kind::EventListener,
            _ => Kind::Other,
        }
    }
}

/// A Tekton object: `apiVersion` in a Tekton group and a `kind`.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub kind: Kind,
    /// The kind as written, for messages.
    pub kind_name: &'a str,
    /// `metadata.name` (or `generateName`).
    pub name: &'a str,
    pub node: &'a Node,
}

impl<'a> Resource<'a> {
    /// The Tekton object `node` describes, if any. Objects nested in a `TriggerTemplate` are
    /// found by the walker, objects in a `kind: List` by [`Resource::all_in`].
    pub fn recognise(node: &'a Node) -> Option<Resource<'a>> {
        let api = node.get("apiVersion")?.as_str()?;
        if !is_tekton_api_version(api.trim()) {
            return None;
        }
        let kind_name = node.get("kind")?.as_str()?;
        let metadata = node.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Node::as_str)
            .unwrap_or("(unnamed)");
        Some(Resource {
            kind: Kind::from_name(kind_name.trim()),
            kind_name,
            name,
            node,
        })
    }

    /// The Tekton objects of a document: itself, or the `items` of a `kind: List`.
    pub fn all_in(root: &'a Node) -> Vec<Resource<'a>> {
        if let Some(resource) = Resource::recognise(root) {
            return vec![resource];
        }
        if root.get("kind").and_then(Node::as_str) == Some("List") {
            return super::items(root.get("items"))
                .iter()
                .filter_map(Resource::recognise)
                .collect();
        }
        Vec::new()
    }

    pub fn spec(&self) -> Option<&'a Node> {
        self.node.get("spec")
    }

    /// `metadata.annotations.<key>`.
    pub fn annotation(&self, key: &str) -> Option<&'a Node> {
        self.node.get("metadata")?.get("annotations")?.get(key)
    }

    /// Every annotation (key node, value node).
    pub fn annotations(&self) -> Vec<(&'a Node, &'a Node)> {
        self.node
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(Node::as_mapping)
            .map(|m| m.iter().collect())
            .unwrap_or_default()
    }

    /// "PipelineRun `x`".
    pub fn label(&self) -> String {
        format!("{} `{}`", self.kind_name, self.name)
    }
}
