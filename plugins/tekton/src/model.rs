//! A typed view of Tekton documents over the SDK's positioned YAML.
//!
//! Nothing is copied: every view borrows the [`Node`]s, so findings point at the exact scalar.
//! Unknown fields are ignored, missing ones are `None`; a document is never rejected for its
//! shape, because a half-written Task still deserves its findings.

pub mod resource;
pub mod step;
pub mod task;

pub use resource::{Kind, Resource};
pub use step::Step;
pub use task::{Param, Ref, TaskSpec};

use sluice_pack_sdk::Span;
use sluice_pack_sdk::yaml::Node;

/// The items of a sequence node (empty for anything else).
pub fn items(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_sequence).unwrap_or(&[])
}

/// The span of a byte range of a scalar's text, or the node's span if it cannot be mapped.
pub fn span_in(node: &Node, range: std::ops::Range<usize>) -> Span {
    node.span_of(range).unwrap_or(node.span)
}

/// A scalar that YAML reads as `true` (`true`, `True`, `TRUE`; Kubernetes accepts no other
/// spelling).
pub fn is_true(node: Option<&Node>) -> bool {
    node.and_then(Node::as_str)
        .is_some_and(|s| matches!(s, "true" | "True" | "TRUE"))
}
