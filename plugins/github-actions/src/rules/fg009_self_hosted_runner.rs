//! FG-009: a self-hosted runner reachable by pull requests and other outsider events.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::exposure;
use crate::model::{Job, Text};

pub const META: RuleMeta = RuleMeta {
    id: "FG-009",
    name: "self-hosted-runner",
    title: "Self-hosted runner reachable by external pull requests or events",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg009_self_hosted_runner.md"),
    remediation: "Run pull request jobs on GitHub-hosted runners, or on ephemeral, isolated \
        self-hosted runners (just-in-time runners, one job per VM) in a runner group that \
        public repositories cannot use; require approval for fork pull request workflows.",
    help_uri: "",
    tags: &["self-hosted-runner", "persistence"],
};

const EVENTS: &[&str] = &[
    "pull_request_target",
    "pull_request",
    "issue_comment",
    "workflow_run",
];

/// Prefixes of GitHub-hosted runner images.
const HOSTED_PREFIXES: &[&str] = &["ubuntu-", "windows-", "macos-"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let Some(runner) = self_hosted(job) else {
            continue;
        };
        let events = exposure::job_events(workflow, job, EVENTS);
        if events.is_empty() {
            continue;
        }
        let privileged: Vec<&str> = events
            .iter()
            .copied()
            .filter(|e| exposure::PRIVILEGED.contains(e))
            .collect();
        let fork = if privileged.is_empty() {
            None
        } else {
            exposure::privileged_fork_run(workflow, job, &privileged).filter(|r| r.executes())
        };
        let base = if fork.is_some() {
            Severity::Critical
        } else if events.iter().any(|e| exposure::EXTERNAL_PR.contains(e)) {
            Severity::High
        } else {
            Severity::Medium
        };
        let safeguards = exposure::gates(workflow, job, &events);
        let severity = exposure::apply_gates(base, &safeguards);
        let triggers = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let then = match &fork {
            Some(run) => format!(
                "; it checks out the pull request (`{}`) and runs {} on that runner",
                run.checkout.reference,
                run.analysis
                    .execution
                    .as_ref()
                    .map_or_else(|| "it".to_owned(), |e| exposure::one_line(&e.what))
            ),
            None => String::new(),
        };
        let mut finding = Finding::new(&META, file.path, runner.label.span())
            .severity(severity)
            .confidence(runner.confidence)
            .message(format!(
                "{triggers} job `{}` runs on {}{then}{}",
                job.id.value,
                runner.why,
                exposure::mitigated_suffix(severity != base, &safeguards)
            ))
            .fingerprint_key(format!(
                "{}|{}|{}",
                runner.label.route(),
                runner.label.value.trim(),
                job.id.value
            ))
            .property("trigger", events.join(","))
            .property("job", job.id.value);
        if let Some(run) = &fork {
            finding = finding.related(
                file.path,
                run.checkout.span,
                "checks out the pull request head",
            );
        }
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

struct Runner<'a> {
    label: Text<'a>,
    confidence: Confidence,
    why: String,
}

/// Whether the job's `runs-on` selects a self-hosted runner, and by which value.
fn self_hosted<'a>(job: &Job<'a>) -> Option<Runner<'a>> {
    let runs_on = job.runs_on?;
    let (labels, group) = if let Some(mapping) = runs_on.as_mapping() {
        (
            mapping.get("labels").map(labels_of).unwrap_or_default(),
            mapping.get("group").and_then(Text::from_node),
        )
    } else {
        (labels_of(runs_on), None)
    };
    let mut resolved: Vec<(Text<'a>, String)> = Vec::new();
    for label in &labels {
        for value in matrix_values(job, label) {
            resolved.push((*label, value));
        }
    }
    if let Some((label, value)) = resolved
        .iter()
        .find(|(_, v)| v.trim().eq_ignore_ascii_case("self-hosted"))
    {
        let via = if label.value.contains("${{") {
            format!(" (via `{}`)", label.value.trim())
        } else {
            String::new()
        };
        return Some(Runner {
            label: *label,
            confidence: Confidence::High,
            why: format!("a self-hosted runner (`{}` label{via})", value.trim()),
        });
    }
    if let Some(group) = group {
        return Some(Runner {
            label: group,
            confidence: Confidence::Medium,
            why: format!(
                "runner group `{}` (runner groups hold self-hosted or larger runners)",
                group.value.trim()
            ),
        });
    }
    // Only custom labels, all known: a self-hosted runner or a larger runner.
    let all_known = !resolved.is_empty() && resolved.iter().all(|(_, v)| !v.contains("${{"));
    let custom = resolved.iter().all(|(_, v)| !is_hosted(v));
    if all_known && custom {
        let (label, _) = resolved[0];
        let names: Vec<String> = resolved
            .iter()
            .map(|(_, v)| format!("`{}`", v.trim()))
            .collect();
        return Some(Runner {
            label,
            confidence: Confidence::Medium,
            why: format!(
                "custom runner labels {} (no GitHub-hosted image: a self-hosted or larger runner)",
                names.join(", ")
            ),
        });
    }
    None
}

fn labels_of(node: &sluice_pack_sdk::yaml::Node) -> Vec<Text<'_>> {
    if let Some(text) = Text::from_node(node) {
        return vec![text];
    }
    node.as_sequence()
        .map(|items| items.iter().filter_map(Text::from_node).collect())
        .unwrap_or_default()
}

/// The values a label can take: itself, or for `${{ matrix.x }}` the matrix's values of `x`.
fn matrix_values(job: &Job<'_>, label: &Text<'_>) -> Vec<String> {
    let value = label.value.trim();
    let name = value
        .strip_prefix("${{")
        .and_then(|v| v.strip_suffix("}}"))
        .map(str::trim)
        .and_then(|v| v.strip_prefix("matrix."));
    let Some(name) = name else {
        return vec![value.to_owned()];
    };
    let Some(matrix) = job.node.get("strategy").and_then(|s| s.get("matrix")) else {
        return vec![value.to_owned()];
    };
    let mut values = Vec::new();
    let mut push = |node: &sluice_pack_sdk::yaml::Node| {
        if let Some(text) = node.as_str() {
            values.push(text.to_owned());
        } else if let Some(items) = node.as_sequence() {
            // A list-valued entry is one runs-on list; any label of it counts.
            values.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)));
        }
    };
    if let Some(axis) = matrix.get(name) {
        if let Some(items) = axis.as_sequence() {
            items.iter().for_each(&mut push);
        } else {
            push(axis);
        }
    }
    if let Some(include) = matrix.get("include").and_then(|i| i.as_sequence()) {
        for entry in include {
            if let Some(v) = entry.get(name) {
                push(v);
            }
        }
    }
    if values.is_empty() {
        values.push(value.to_owned());
    }
    values
}

fn is_hosted(label: &str) -> bool {
    let label = label.trim().to_ascii_lowercase();
    label.contains("${{") || HOSTED_PREFIXES.iter().any(|p| label.starts_with(p))
}
