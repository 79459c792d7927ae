//! FG-014: a job reachable by a risky event has no `permissions:` anywhere.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::exposure::{self, PRIVILEGED};

pub const META: RuleMeta = RuleMeta {
    id: "FG-014",
    name: "missing-permissions-risky-events",
    title: "Missing permissions: job on a risky event inherits the repository's default token",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Medium,
    description: include_str!("fg014_missing_permissions.md"),
    remediation: "Add `permissions: {}` (or the few read scopes the workflow needs) at the top \
        of the workflow and grant write scopes per job only where needed.",
    help_uri: "",
    tags: &["permissions", "least-privilege"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    if workflow.permissions.is_some() {
        return;
    }
    for job in &workflow.jobs {
        if job.permissions.is_some() {
            continue;
        }
        let events = exposure::job_events(workflow, job, PRIVILEGED);
        if events.is_empty() {
            continue;
        }
        let safeguards = exposure::gates(workflow, job, &events);
        let severity = exposure::apply_gates(META.default_severity, &safeguards);
        let lowered = severity != META.default_severity;
        let triggers = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let what = if job.uses.is_some() {
            "calls a reusable workflow without a `permissions:` block"
        } else {
            "has no `permissions:` block"
        };
        let mut finding = Finding::new(&META, file.path, job.id.span())
            .severity(severity)
            .message(format!(
                "{triggers} job `{}` {what} (nor does the workflow): its `GITHUB_TOKEN` gets the \
                 repository default, often write-all{}",
                job.id.value,
                exposure::mitigated_suffix(lowered, &safeguards)
            ))
            .fingerprint_key(format!("{}|{}", job.id.route(), job.id.value))
            .property("trigger", events.join(","))
            .property("job", job.id.value);
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}
