//! FG-007: the `GITHUB_TOKEN` is in the environment of a step that runs pull request code.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::execution::Level;
use crate::exposure::{self, ForkRun, PRIVILEGED};
use crate::mitigations::{self, Effect};
use crate::model::{Job, Step, Text, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-007",
    name: "token-exposure-build-steps",
    title: "Token exposure: `GITHUB_TOKEN` in the environment of a step running pull request code",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg007_token_exposure.md"),
    remediation: "Do not pass the token to steps that run untrusted code; run them with \
        `permissions: {}` or read-only, and give the token only to a later step that does not \
        execute the checkout.",
    help_uri: "",
    tags: &["token", "untrusted-checkout"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let privileged = exposure::job_events(workflow, job, PRIVILEGED);
        let (events, run, base) = if !privileged.is_empty()
            && let Some(run) = exposure::privileged_fork_run(workflow, job, &privileged)
        {
            (privileged, run, Severity::Medium)
        } else {
            let events = exposure::job_events(workflow, job, &["pull_request"]);
            if events.is_empty() {
                continue;
            }
            let Some(run) = exposure::pull_request_run(workflow, job) else {
                continue;
            };
            (events, run, Severity::Low)
        };
        if !run.executes() {
            continue;
        }
        check_job(file, workflow, job, &events, &run, base, findings);
    }
}

fn check_job(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    events: &[&str],
    run: &ForkRun<'_, '_>,
    base: Severity,
    findings: &mut Vec<Finding>,
) {
    let mut safeguards = exposure::gates(workflow, job, events);
    if let Some(permissions) = workflow.effective_permissions(job) {
        if permissions.is_empty() {
            safeguards.push(mitigations::Safeguard::new(
                "no-token",
                Effect::NoToken,
                format!("job `{}` has an empty `permissions:` block", job.id.value),
            ));
        } else if permissions.is_read_only() {
            safeguards.push(mitigations::Safeguard::new(
                "read-only-token",
                Effect::ReadOnlyToken,
                format!("job `{}` has a read-only token", job.id.value),
            ));
        }
    }
    let mut severity = exposure::apply_gates(base, &safeguards);
    if safeguards.iter().any(|s| s.effect == Effect::NoToken) {
        severity = Severity::Info;
    } else if safeguards.iter().any(|s| s.effect == Effect::ReadOnlyToken) {
        severity = severity.cap(Severity::Low);
    }
    let triggers = events
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join("/");
    for step in job.steps.iter().take(64) {
        let Some((name, value, whence)) = token_variable(workflow, job, step) else {
            continue;
        };
        let Some(execution) = exposure::step_runs_fork_code(workflow, job, run, step) else {
            continue;
        };
        let confidence = if execution.level == Level::Confirmed {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let mut finding = Finding::new(&META, file.path, value.span())
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "{triggers} job `{}`: step `{}` has `{name}` set to the token (in {whence}) \
                 while it runs {} from the pull request, checked out as {}{}",
                job.id.value,
                step.label(),
                exposure::one_line(&execution.what),
                shown_reference(&run.checkout.reference),
                exposure::mitigated_suffix(severity != base, &safeguards)
            ))
            .fingerprint_key(format!(
                "{}|{name}|{}",
                value.route(),
                step.id
                    .map_or_else(|| step.index.to_string(), |i| i.value.to_owned())
            ))
            .property("job", job.id.value)
            .property("variable", name)
            .related(
                file.path,
                execution.span,
                format!(
                    "runs the checked-out code: {}",
                    exposure::one_line(&execution.what)
                ),
            )
            .related(file.path, run.checkout.span, "checks out the pull request");
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

/// The first variable of the step's environment that carries the token (step `env:` overrides
/// job `env:`, which overrides the workflow's): (name, its value, where it is set).
fn token_variable<'a>(
    workflow: &Workflow<'a>,
    job: &Job<'a>,
    step: &Step<'a>,
) -> Option<(String, Text<'a>, &'static str)> {
    let mut env: Vec<(String, Option<Text<'a>>, &'static str)> = Vec::new();
    for (map, whence) in [
        (workflow.env, "the workflow's `env:`"),
        (job.env, "the job's `env:`"),
        (step.env, "the step's `env:`"),
    ] {
        for (name, value) in map.iter() {
            env.retain(|(n, _, _)| n != name.value);
            env.push((name.value.to_owned(), Text::from_node(value), whence));
        }
    }
    env.into_iter().find_map(|(name, value, whence)| {
        let value = value?;
        is_token(value.node).then_some((name, value, whence))
    })
}

fn is_token(node: &Node) -> bool {
    let Some(text) = node.as_str() else {
        return false;
    };
    let lower: String = text.to_ascii_lowercase().split_whitespace().collect();
    lower.contains("secrets.github_token") || lower.contains("github.token")
}

fn shown_reference(reference: &str) -> String {
    if reference.starts_with("the ") {
        reference.to_owned()
    } else {
        format!("`{reference}`")
    }
}
