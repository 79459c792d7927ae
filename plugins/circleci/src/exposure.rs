//! Does a workflow job run for pull requests from forks, and what gates it?
//!
//! CircleCI builds a fork's pull request on a branch named `pull/<number>` when the project
//! enables "Build forked pull requests"; whether it does, and whether it passes secrets to
//! those builds, are project settings the configuration cannot show. So every job is assumed
//! to run for fork pull requests unless the configuration itself keeps them out: a branch
//! filter that no `pull/…` branch passes, a workflow `when` that requires a fixed branch, a
//! scheduled trigger, or a job it requires that is filtered out. A `type: approval` job
//! upstream lets the pull request run only after a person approves: a gate, not an exclusion.

use sluice_pack_sdk::yaml::{Node, Value};

use crate::expressions;
use crate::model::{Workflow, WorkflowJob};

/// A safeguard found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Stable kind for `Finding::mitigation`.
    pub kind: &'static str,
    pub description: String,
}

/// How a workflow job is reachable by fork pull requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// Gates that keep fork pull requests out entirely (empty: they reach the job).
    pub excluded: Vec<Gate>,
    /// Gates that leave the job reachable but put a person in between.
    pub approvals: Vec<Gate>,
}

impl Exposure {
    pub fn reaches_forks(&self) -> bool {
        self.excluded.is_empty()
    }

    /// Every gate, exclusions first.
    pub fn gates(&self) -> impl Iterator<Item = &Gate> {
        self.excluded.iter().chain(&self.approvals)
    }
}

/// The exposure of `entry` in `workflow`. `parameters_from_setup`: a setup workflow of the
/// repository may set pipeline parameters, so they do not gate anything.
pub fn of(
    workflow: &Workflow<'_>,
    entry: &WorkflowJob<'_>,
    parameters_from_setup: bool,
) -> Exposure {
    let mut exposure = Exposure::default();
    if workflow.scheduled.is_some() {
        exposure.excluded.push(Gate {
            kind: "scheduled-workflow",
            description: format!(
                "workflow `{}` runs on a schedule, not for pull requests",
                workflow.name.value
            ),
        });
    }
    let unless_webhook = workflow
        .unless
        .filter(|u| excludes_webhooks(u))
        .map(|_| "the pipeline is not triggered by a push or pull request webhook".to_owned());
    if let Some(reason) = workflow
        .when
        .and_then(|w| condition_gate(w, parameters_from_setup))
        .or(unless_webhook)
    {
        exposure.excluded.push(Gate {
            kind: "workflow-condition",
            description: format!("workflow `{}` runs only when {reason}", workflow.name.value),
        });
    }
    let mut visited = Vec::new();
    upstream(workflow, entry, &mut exposure, &mut visited);
    exposure
}

/// Adds the gates of `entry` and of every job it requires, transitively.
fn upstream<'w>(
    workflow: &'w Workflow<'_>,
    entry: &'w WorkflowJob<'_>,
    exposure: &mut Exposure,
    visited: &mut Vec<&'w str>,
) {
    if visited.contains(&entry.name.as_str()) {
        return;
    }
    visited.push(&entry.name);
    let own = visited.len() == 1;
    if let Some(reason) = entry.filters.and_then(branch_filter_excludes_forks) {
        let description = if own {
            format!("job `{}` {reason}", entry.name)
        } else {
            format!(
                "required job `{}` {reason}, so this job does not run either",
                entry.name
            )
        };
        exposure.excluded.push(Gate {
            kind: "branch-filter",
            description,
        });
    }
    if entry.approval && !own {
        exposure.approvals.push(Gate {
            kind: "approval-gate",
            description: format!(
                "job `{}` (`type: approval`) must be approved before this job runs",
                entry.name
            ),
        });
    }
    for required in &entry.requires {
        // `requires: - build: [success]` is a mapping in newer configs: keep the plain names.
        if let Some(upstream_entry) = workflow.jobs.iter().find(|j| j.name == required.value) {
            upstream(workflow, upstream_entry, exposure, visited);
        }
    }
}

/// Why a job's `filters:` keep `pull/<n>` branches out, if they do.
fn branch_filter_excludes_forks(filters: &Node) -> Option<String> {
    let branches = filters.get("branches");
    let patterns = |key: &str| -> Vec<String> {
        let node = branches.and_then(|b| b.get(key));
        match node.map(|n| &n.value) {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::Scalar(s)) => vec![s.text.clone()],
            _ => Vec::new(),
        }
    };
    let only = patterns("only");
    let ignore = patterns("ignore");
    if !only.is_empty() && !only.iter().any(|p| may_match_fork_branch(p)) {
        return Some(format!("runs only on branches {}", quote_list(&only)));
    }
    if let Some(pattern) = ignore.iter().find(|p| may_match_fork_branch(p)) {
        return Some(format!("ignores branches matching `{pattern}`"));
    }
    // A `tags:` filter without `branches:` still runs on every branch.
    None
}

/// Whether a CircleCI branch filter (a name, or a `/regex/`) may accept `pull/123`. Regexes
/// are judged by their start: `.*`, `.+`, `pull…` or a lookahead may; a literal prefix such
/// as `^release-` cannot.
pub fn may_match_fork_branch(pattern: &str) -> bool {
    let pattern = pattern.trim();
    let Some(regex) = pattern
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .filter(|p| !p.is_empty())
    else {
        return pattern.starts_with("pull/");
    };
    let body = regex.trim_start_matches('^').trim_start_matches('(');
    body.starts_with(".*")
        || body.starts_with(".+")
        || body.starts_with("pull")
        || body.starts_with("?!")
        || body.starts_with('[')
        || body.starts_with('\\')
}

/// Why a workflow `when:` condition cannot hold for a fork pull request's build, if it
/// cannot: the branch must equal a fixed name, the trigger must be a schedule or the API, a
/// named schedule must be running, or a boolean pipeline parameter must be true (only API and
/// manual triggers set one — unless a setup workflow can, `parameters_from_setup`). `and`
/// needs one such item, `or` needs all; `not` is never counted.
pub fn condition_gate(condition: &Node, parameters_from_setup: bool) -> Option<String> {
    if let Some(items) = condition.get("and").and_then(Node::as_sequence) {
        return items
            .iter()
            .find_map(|item| condition_gate(item, parameters_from_setup));
    }
    if let Some(items) = condition.get("or").and_then(Node::as_sequence) {
        let reasons: Option<Vec<String>> = items
            .iter()
            .map(|item| condition_gate(item, parameters_from_setup))
            .collect();
        return reasons.filter(|r| !r.is_empty()).map(|r| r.join(" or "));
    }
    if let Some(text) = condition.as_str() {
        return parameter_gate(text, parameters_from_setup);
    }
    if let Some(negated) = condition.get("not") {
        return excludes_webhooks(negated)
            .then(|| "the pipeline is not triggered by a push or pull request webhook".to_owned());
    }
    let values = condition.get("equal")?.as_sequence()?;
    let literal = values
        .iter()
        .filter_map(Node::as_str)
        .find(|s| expressions::find(s).is_empty())?;
    let expression = values.iter().filter_map(Node::as_str).find_map(|s| {
        let found = expressions::find(s);
        (found.len() == 1).then(|| found[0].content.to_owned())
    })?;
    match expression.as_str() {
        "pipeline.git.branch" if !literal.starts_with("pull/") => {
            Some(format!("the branch is `{literal}`"))
        }
        "pipeline.trigger_source" if matches!(literal, "scheduled_pipeline" | "api") => {
            Some(format!("the pipeline is triggered by `{literal}`"))
        }
        "pipeline.schedule.name" => Some(format!("the schedule `{literal}` runs it")),
        _ if literal == "true" => {
            parameter_gate(&format!("<< {expression} >>"), parameters_from_setup)
        }
        _ => None,
    }
}

/// `equal: [webhook, << pipeline.trigger_source >>]`: true exactly for pushes and pull
/// requests, so its negation keeps fork pull requests out.
fn excludes_webhooks(condition: &Node) -> bool {
    let Some(values) = condition.get("equal").and_then(Node::as_sequence) else {
        return false;
    };
    let texts: Vec<&str> = values.iter().filter_map(Node::as_str).collect();
    texts.len() == 2
        && texts.contains(&"webhook")
        && texts.iter().any(|t| {
            expressions::find(t)
                .iter()
                .any(|e| e.content == "pipeline.trigger_source")
        })
}

/// `<< pipeline.parameters.x >>` as a condition.
fn parameter_gate(text: &str, parameters_from_setup: bool) -> Option<String> {
    if parameters_from_setup {
        return None;
    }
    let found = expressions::find(text);
    let name = found.first()?.pipeline_parameter()?;
    Some(format!(
        "pipeline parameter `{name}` is true (set by API or manual triggers only)"
    ))
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_branch_patterns() {
        assert!(may_match_fork_branch("/.*/"));
        assert!(may_match_fork_branch("/pull\\/.*/"));
        assert!(may_match_fork_branch("pull/12"));
        assert!(!may_match_fork_branch("main"));
        assert!(!may_match_fork_branch("/^release-.*/"));
        assert!(!may_match_fork_branch("/main|master/"));
    }
}
