//! Which agents run a job: Microsoft-hosted, self-hosted, agentless, or unknown.

use std::rc::Rc;

use sluice_pack_sdk::Span;
use sluice_pack_sdk::yaml::Node;

use super::params::{Params, Resolved};
use super::yaml_ext;
use crate::expressions::{is_entirely_expression, sole_parameter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Microsoft-hosted agents (`vmImage:`, `Azure Pipelines`, `Hosted …`), fresh per job.
    Hosted,
    /// A named agent pool of the organisation: self-hosted agents (scale sets included).
    SelfHosted,
    /// `pool: server`: agentless, no code runs.
    Server,
    /// Chosen by an expression at run time.
    Unknown,
}

/// A job's pool and where it is written.
#[derive(Debug, Clone)]
pub struct Pool<'a> {
    pub kind: PoolKind,
    /// The pool name or image, for messages.
    pub name: String,
    /// Where it is written; `None` for Azure's default (Microsoft-hosted).
    pub place: Option<(&'a str, Span, String)>,
}

impl Pool<'_> {
    /// No `pool:` anywhere: YAML pipelines default to Microsoft-hosted agents.
    pub fn default_hosted<'x>() -> Pool<'x> {
        Pool {
            kind: PoolKind::Hosted,
            name: "Azure Pipelines (default)".to_owned(),
            place: None,
        }
    }
}

/// Classifies a pool name.
fn by_name(name: &str) -> PoolKind {
    let lower = name.trim().to_ascii_lowercase();
    if lower == "azure pipelines" || lower.starts_with("hosted") {
        PoolKind::Hosted
    } else if lower == "server" {
        PoolKind::Server
    } else if is_entirely_expression(name) || name.contains("$(") || name.contains("${{") {
        PoolKind::Unknown
    } else {
        PoolKind::SelfHosted
    }
}

/// The pool a `pool:` value selects; `None` when it names no pool (only `demands:`), so the
/// job inherits its stage's or pipeline's. `${{ parameters.x }}` is followed when its value
/// is written in the request.
pub fn classify<'a>(path: &'a str, node: &'a Node, params: &Rc<Params<'a>>) -> Option<Pool<'a>> {
    classify_depth(path, node, params, 0)
}

fn classify_depth<'a>(
    path: &'a str,
    node: &'a Node,
    params: &Rc<Params<'a>>,
    depth: usize,
) -> Option<Pool<'a>> {
    if let Some(text) = node.as_str() {
        if let Some(name) = sole_parameter(text)
            && depth < 8
            && let Resolved::Value(value) = params.resolve(name)
        {
            return classify_depth(value.loc.path, value.loc.node, &value.scope, depth + 1);
        }
        return Some(Pool {
            kind: by_name(text),
            name: text.trim().to_owned(),
            place: Some((path, node.span, node.route.to_string())),
        });
    }
    if let Some(image) = yaml_ext::get(node, "vmImage") {
        return Some(Pool {
            kind: PoolKind::Hosted,
            name: image.as_str().unwrap_or("vmImage").to_owned(),
            place: Some((path, image.span, image.route.to_string())),
        });
    }
    let name = yaml_ext::get(node, "name")?;
    let mut pool = classify_depth(path, name, params, depth)?;
    // `name: Azure Pipelines` with `vmImage` under an insertion is still hosted.
    if pool.kind == PoolKind::Unknown && yaml_ext::has(node, "vmImage") {
        pool.kind = PoolKind::Hosted;
    }
    Some(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(by_name("Azure Pipelines"), PoolKind::Hosted);
        assert_eq!(by_name("Hosted Ubuntu 1604"), PoolKind::Hosted);
        assert_eq!(by_name("MyPool"), PoolKind::SelfHosted);
        assert_eq!(by_name("$(poolName)"), PoolKind::Unknown);
        assert_eq!(by_name("server"), PoolKind::Server);
    }
}
