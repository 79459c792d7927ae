//! FG-004: a token with broad write access, or every secret, handed to a workflow.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::exposure::{self, PRIVILEGED};
use crate::mitigations::Safeguard;
use crate::model::{Job, Level, Permissions, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-004",
    name: "broad-permissions",
    title: "Broad permissions: write-all token, sensitive write scopes or inherited secrets",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg004_broad_permissions.md"),
    remediation: "Declare `permissions:` per job with only the scopes it uses (`contents: \
        read` by default), move writes to a separate job that does not touch untrusted input, \
        and pass reusable workflows only the secrets they need.",
    help_uri: "",
    tags: &["permissions", "least-privilege"],
};

/// Write scopes whose abuse compromises the repository or its releases.
const SENSITIVE_SCOPES: &[&str] = &["contents", "actions", "packages"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    // Workflow level: weighed by the most exposed job that inherits it.
    if let Some(permissions) = &workflow.permissions {
        let inheriting: Vec<&Job<'_>> = workflow
            .jobs
            .iter()
            .filter(|j| j.permissions.is_none())
            .collect();
        check_block(
            file,
            workflow,
            permissions,
            &inheriting,
            "the workflow",
            findings,
        );
    }
    for job in &workflow.jobs {
        if let Some(permissions) = &job.permissions {
            check_block(
                file,
                workflow,
                permissions,
                &[job],
                &format!("job `{}`", job.id.value),
                findings,
            );
        }
        if let Some(secrets) = job.secrets
            && secrets.as_str().is_some_and(|s| s.trim() == "inherit")
        {
            let events = exposure::job_events(workflow, job, PRIVILEGED);
            if events.is_empty() {
                continue;
            }
            let callee = job.uses.map_or("a reusable workflow", |u| u.value.trim());
            let (severity, safeguards) = weigh(workflow, job, &events);
            let text = format!(
                "{} job `{}` passes `secrets: inherit` to `{callee}`: every repository secret \
                 reaches the called workflow",
                triggers(&events),
                job.id.value
            );
            findings.push(build(
                file,
                secrets,
                "secrets: inherit",
                text,
                severity,
                &safeguards,
                &events,
            ));
        }
    }
}

fn check_block(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    permissions: &Permissions<'_>,
    jobs: &[&Job<'_>],
    owner: &str,
    findings: &mut Vec<Finding>,
) {
    match permissions {
        // A workflow-level grant every job overrides gives nothing.
        Permissions::WriteAll(_) if jobs.is_empty() => {}
        Permissions::WriteAll(node) => {
            // Any trigger: write-all is never needed. Weighed by the most exposed job.
            let worst = jobs
                .iter()
                .map(|job| {
                    let events = exposure::job_events(workflow, job, PRIVILEGED);
                    if events.is_empty() {
                        (META.default_severity, Vec::new(), events)
                    } else {
                        let (severity, safeguards) = weigh(workflow, job, &events);
                        (severity, safeguards, events)
                    }
                })
                .rev()
                .max_by_key(|(severity, _, _)| *severity);
            let (severity, safeguards, events) =
                worst.unwrap_or((META.default_severity, Vec::new(), Vec::new()));
            let on = if events.is_empty() {
                String::new()
            } else {
                format!(" on {}", triggers(&events))
            };
            let text = format!(
                "{owner} grants `permissions: write-all`{on}: the `GITHUB_TOKEN` can write to \
                 every scope (contents, actions, packages, id-token …)"
            );
            findings.push(build(
                file,
                node,
                "write-all",
                text,
                severity,
                &safeguards,
                &events,
            ));
        }
        Permissions::Scopes { scopes, .. } => {
            for (scope, level) in scopes {
                if *level != Level::Write || !SENSITIVE_SCOPES.contains(&scope.value) {
                    continue;
                }
                let worst = jobs
                    .iter()
                    .filter_map(|job| {
                        let events = exposure::job_events(workflow, job, PRIVILEGED);
                        if events.is_empty() {
                            return None;
                        }
                        let (severity, safeguards) = weigh(workflow, job, &events);
                        Some((severity, safeguards, events, job.id.value))
                    })
                    .rev()
                    .max_by_key(|(severity, ..)| *severity);
                let Some((severity, safeguards, events, job_id)) = worst else {
                    continue;
                };
                let Some(entry) = permissions.node().entry(scope.value) else {
                    continue;
                };
                let span_node = &entry.key;
                let via = if owner == "the workflow" {
                    format!(
                        "the workflow grants `{}: write` (inherited by job `{job_id}`)",
                        scope.value
                    )
                } else {
                    format!("{owner} grants `{}: write`", scope.value)
                };
                let text = format!(
                    "{via} on {}, an event outsiders can trigger: {}",
                    triggers(&events),
                    consequence(scope.value)
                );
                let mut finding = build(
                    file,
                    span_node,
                    &format!("{}: write", scope.value),
                    text,
                    severity,
                    &safeguards,
                    &events,
                );
                // Key and value together.
                finding.span = entry.key.span.cover(entry.value.span);
                findings.push(finding);
            }
        }
        Permissions::ReadAll(_) | Permissions::Other(_) => {}
    }
}

fn consequence(scope: &str) -> &'static str {
    match scope {
        "contents" => "a compromised step can push commits and tags",
        "actions" => {
            "a compromised step can cancel, re-run and dispatch workflows and delete caches"
        }
        _ => "a compromised step can publish packages",
    }
}

fn weigh(workflow: &Workflow<'_>, job: &Job<'_>, events: &[&str]) -> (Severity, Vec<Safeguard>) {
    let safeguards = exposure::gates(workflow, job, events);
    (
        exposure::apply_gates(META.default_severity, &safeguards),
        safeguards,
    )
}

fn triggers(events: &[&str]) -> String {
    events
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join("/")
}

fn build(
    file: &FileContext<'_, '_>,
    node: &Node,
    matched: &str,
    text: String,
    severity: Severity,
    safeguards: &[Safeguard],
    events: &[&str],
) -> Finding {
    let lowered = severity != META.default_severity;
    let mut finding = Finding::new(&META, file.path, node.span)
        .severity(severity)
        .message(format!(
            "{text}{}",
            exposure::mitigated_suffix(lowered, safeguards)
        ))
        .fingerprint_key(format!("{}|{matched}", node.route))
        .property("grant", matched);
    if !events.is_empty() {
        finding = finding.property("trigger", events.join(","));
    }
    for safeguard in safeguards {
        finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
    }
    finding
}
