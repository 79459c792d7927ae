//! Task specs (a `Task`'s `spec`, an inline `taskSpec`, a `StepAction` seen as one step),
//! params and references to other objects.

use sluice_pack_sdk::yaml::Node;

use super::{Step, items};

/// The body of a Task: steps, sidecars, the step template, volumes and params.
#[derive(Debug, Clone, Copy)]
pub struct TaskSpec<'a> {
    pub node: &'a Node,
}

impl<'a> TaskSpec<'a> {
    pub fn steps(&self) -> Vec<Step<'a>> {
        items(self.node.get("steps"))
            .iter()
            .map(|node| Step::new(node, "step"))
            .collect()
    }

    pub fn sidecars(&self) -> Vec<Step<'a>> {
        items(self.node.get("sidecars"))
            .iter()
            .map(|node| Step::new(node, "sidecar"))
            .collect()
    }

    pub fn step_template(&self) -> Option<Step<'a>> {
        self.node
            .get("stepTemplate")
            .filter(|n| n.as_mapping().is_some())
            .map(|node| Step::new(node, "stepTemplate"))
    }

    /// Steps, sidecars and the step template: every container the Task's pod runs.
    pub fn containers(&self) -> Vec<Step<'a>> {
        let mut all = self.steps();
        all.extend(self.sidecars());
        all.extend(self.step_template());
        all
    }

    pub fn volumes(&self) -> &'a [Node] {
        items(self.node.get("volumes"))
    }

    pub fn params(&self) -> Vec<Param<'a>> {
        params_of(self.node)
    }
}

/// A declared param (`spec.params[]` of a Task, Pipeline or StepAction).
#[derive(Debug, Clone, Copy)]
pub struct Param<'a> {
    pub name: &'a str,
    pub node: &'a Node,
}

impl<'a> Param<'a> {
    pub fn default(&self) -> Option<&'a Node> {
        self.node.get("default")
    }

    /// `enum: [a, b]` (Tekton validates the value against the list before the run starts).
    pub fn has_enum(&self) -> bool {
        !items(self.node.get("enum")).is_empty()
    }
}

/// The declared params of a spec node.
pub fn params_of(spec: &Node) -> Vec<Param<'_>> {
    items(spec.get("params"))
        .iter()
        .filter_map(|node| {
            Some(Param {
                name: node.get("name")?.as_str()?,
                node,
            })
        })
        .collect()
}

/// Params passed to something (`params: [{name, value}]` of a run, a pipeline task, a
/// resolver, a step `ref`): name and value node.
pub fn bindings_of(node: Option<&Node>) -> Vec<(&str, &Node)> {
    items(node)
        .iter()
        .filter_map(|p| Some((p.get("name")?.as_str()?, p.get("value")?)))
        .collect()
}

/// A `taskRef`, `pipelineRef` or step `ref`.
#[derive(Debug, Clone, Copy)]
pub struct Ref<'a> {
    pub node: &'a Node,
}

impl<'a> Ref<'a> {
    pub fn name(&self) -> Option<&'a Node> {
        self.node.get("name")
    }

    /// `bundle:` (v1beta1 shorthand for the bundles resolver).
    pub fn bundle(&self) -> Option<&'a Node> {
        self.node.get("bundle")
    }

    pub fn resolver(&self) -> Option<&'a Node> {
        self.node.get("resolver")
    }

    /// A resolver param's value.
    pub fn param(&self, name: &str) -> Option<&'a Node> {
        bindings_of(self.node.get("params"))
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// Whether the object is looked up by name in the run's namespace (or cluster, for
    /// `ClusterTask`) rather than fetched by a resolver.
    pub fn is_local(&self) -> bool {
        self.resolver().is_none() && self.bundle().is_none()
    }

    /// `taskRef.kind` (`Task` when absent).
    pub fn kind(&self) -> &'a str {
        self.node
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("Task")
    }
}
