//! FG-027: a label gate that survives new pushes to the pull request.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use crate::checkout;
use crate::conditions::normalise;
use crate::mitigations::{self, Effect};
use crate::model::{Job, Text, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-027",
    name: "toctou-label-gate",
    title: "TOCTOU label gate: approval label survives new commits",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg027_toctou_label_gate.md"),
    remediation: "Gate on the `labeled` event itself (`types: [labeled]` and \
        `github.event.label.name == 'safe to test'`) and check out \
        `github.event.pull_request.head.sha` from that event, or require a deployment \
        environment with reviewers; remove the label on `synchronize` so it has to be \
        re-applied after every push.",
    help_uri: "",
    tags: &["pwn-request", "toctou"],
};

/// A label gate: where it is and which label.
struct Gate {
    span: Span,
    label: String,
    /// `job `x` if:` or `step `y``.
    place: String,
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    let Some(trigger) = workflow.triggers.get("pull_request_target") else {
        return;
    };
    if let Some(types) = trigger.activity_types()
        && !types.is_empty()
        && !types
            .iter()
            .any(|t| t.value.trim().eq_ignore_ascii_case("synchronize"))
    {
        return;
    }
    let stripping = label_stripping(workflow);
    for job in &workflow.jobs {
        let forks = checkout::fork_checkouts(workflow, job);
        let Some(fork) = forks.first() else { continue };
        // The job's own gate, else one on a job it needs.
        let gate = gate_of(job).or_else(|| {
            job.needs
                .iter()
                .filter_map(|id| workflow.job(id.value))
                .find_map(gate_of)
        });
        let Some(gate) = gate else { continue };
        if job
            .condition
            .is_some_and(|c| normalise(c.value).contains("github.event.action=='labeled'"))
        {
            continue;
        }
        let fork_guard = job.condition.is_some_and(|c| {
            mitigations::condition_safeguards(c.value, "job")
                .iter()
                .any(|s| s.effect == Effect::ForkGuard)
        });
        let mut severity = Severity::High;
        let mut confidence = Confidence::High;
        let mut finding = Finding::new(&META, file.path, gate.span);
        let mut notes: Vec<String> = Vec::new();
        if let Some((span, description)) = &stripping {
            severity = severity.downgrade(1);
            notes.push(description.clone());
            finding = finding
                .mitigation("label-stripping", description.clone())
                .related(file.path, *span, "removes labels on new pushes");
        }
        if fork_guard {
            severity = Severity::Info;
            confidence = Confidence::Low;
            let description = format!(
                "job `{}` `if:` only admits pull requests from this repository",
                job.id.value
            );
            notes.push(description.clone());
            finding = finding.mitigation("fork-guard", description);
        }
        let mut message = format!(
            "job `{}` checks out the pull request head (`{}`) behind the label `{}` ({}), but \
             `pull_request_target` also runs on `synchronize`: a push after the label was \
             applied runs unreviewed code",
            job.id.value, fork.reference, gate.label, gate.place
        );
        if !notes.is_empty() {
            message.push_str(&format!(" (mitigated: {})", notes.join("; ")));
        }
        findings.push(
            finding
                .severity(severity)
                .confidence(confidence)
                .message(message)
                .fingerprint_key(format!("jobs.{}|label-gate|{}", job.id.value, gate.label))
                .related(
                    file.path,
                    fork.span,
                    "pull request code is checked out here",
                )
                .property("job", job.id.value)
                .property("label", gate.label),
        );
    }
}

/// A presence-of-label gate in the job's `if:` or in one of its steps.
fn gate_of(job: &Job<'_>) -> Option<Gate> {
    if let Some(condition) = job.condition
        && let Some((span, label)) = labels_gate(condition)
    {
        return Some(Gate {
            span,
            label,
            place: format!("job `{}` `if:`", job.id.value),
        });
    }
    for step in &job.steps {
        if step.uses_action("mheap/github-action-required-labels") {
            let label = step
                .with
                .text("labels")
                .or_else(|| step.with.text("label"))
                .map_or_else(|| "<required>".to_owned(), |l| l.value.trim().to_owned());
            return Some(Gate {
                span: step.uses.map_or(step.node.span, |u| u.span()),
                label,
                place: format!("step `{}`", step.label()),
            });
        }
        if let Some(condition) = step.condition
            && let Some((span, label)) = labels_gate(condition)
        {
            return Some(Gate {
                span,
                label,
                place: format!("step `{}` `if:`", step.label()),
            });
        }
    }
    None
}

/// `contains(github.event.pull_request.labels.*.name, 'x')`: the span of the call and `x`.
fn labels_gate(condition: Text<'_>) -> Option<(Span, String)> {
    let lower = condition.value.to_ascii_lowercase();
    let at = lower.find("github.event.pull_request.labels")?;
    let call = lower[..at].rfind("contains(").unwrap_or(at);
    let end = lower[at..].find(')').map_or(lower.len(), |e| at + e + 1);
    let inside = &condition.value[at..end];
    let label = inside
        .split(['\'', '"'])
        .nth(1)
        .unwrap_or("<label>")
        .to_owned();
    // `!contains(...)` is an exclusion, not a gate.
    if lower[..call].trim_end().ends_with('!') {
        return None;
    }
    Some((condition.span_of(call..end), label))
}

/// A step anywhere that removes labels: its span and a description.
fn label_stripping(workflow: &Workflow<'_>) -> Option<(Span, String)> {
    for job in &workflow.jobs {
        for step in &job.steps {
            if step.uses_action("actions-ecosystem/action-remove-labels") {
                return Some((
                    step.uses.map_or(step.node.span, |u| u.span()),
                    format!(
                        "step `{}` of job `{}` removes labels with `actions-ecosystem/action-remove-labels`",
                        step.label(),
                        job.id.value
                    ),
                ));
            }
            let script = step
                .run
                .or_else(|| step.with.text("script"))
                .map(|t| t.value.to_ascii_lowercase());
            if let Some(script) = script
                && ((script.contains("gh pr edit") && script.contains("--remove-label"))
                    || (script.contains("delete") && script.contains("/labels/"))
                    || script.contains("removelabel"))
            {
                return Some((
                    step.node.span,
                    format!(
                        "step `{}` of job `{}` removes labels on new pushes",
                        step.label(),
                        job.id.value
                    ),
                ));
            }
        }
    }
    None
}
