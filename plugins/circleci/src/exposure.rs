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

/// The exposure of `entry` in `workflow`.
pub fn of(workflow: &Workflow<'_>, entry: &WorkflowJob<'_>) -> Exposure {
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
    if let Some(branch) = workflow.when.and_then(required_branch) {
        exposure.excluded.push(Gate {
            kind: "workflow-condition",
            description: format!(
                "workflow `{}` runs only when the branch is `{branch}`",
                workflow.name.value
            ),
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
            format!("required job `{}` {reason}, so this job does not run either", entry.name)
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

/// The literal branch a `when:` condition requires (`equal: [main, << pipeline.git.branch >>]`,
/// possibly under `and:`).
fn required_branch(condition: &Node) -> Option<String> {
    if let Some(items) = condition.get("and").and_then(Node::as_sequence) {
        return items.iter().find_map(required_branch);
    }
    let values = condition.get("equal")?.as_sequence()?;
    let is_branch = |n: &Node| {
        n.as_str().is_some_and(|s| {
            expressions::find(s)
                .iter()
                .any(|e| e.content == "pipeline.git.branch")
        })
    };
    if !values.iter().any(is_branch) {
        return None;
    }
    values
        .iter()
        .filter(|n| !is_branch(n))
        .filter_map(Node::as_str)
        .find(|s| !s.contains("<<") && !s.starts_with("pull/"))
        .map(str::to_owned)
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
