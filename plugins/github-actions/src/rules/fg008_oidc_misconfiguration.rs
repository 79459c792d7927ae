//! FG-008: `id-token: write` where outsiders decide when the job runs.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use crate::execution::Level;
use crate::exposure::{self, PRIVILEGED};
use crate::model::{Job, Level as Access, Permissions, Step, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-008",
    name: "oidc-misconfiguration",
    title: "OIDC misconfiguration: `id-token: write` on an externally triggered job",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg008_oidc_misconfiguration.md"),
    remediation: "Grant `id-token: write` only to a job that runs on trusted events (push to a \
        protected branch, release) or in a protected environment, and scope the cloud trust \
        policy to that branch or environment (`sub` claim), not to the whole repository.",
    help_uri: "",
    tags: &["oidc", "cloud-credentials", "permissions"],
};

/// Actions that exchange the OIDC token for credentials.
const CLOUD_AUTH: &[&str] = &[
    "aws-actions/configure-aws-credentials",
    "google-github-actions/auth",
    "azure/login",
    "hashicorp/vault-action",
    "pypa/gh-action-pypi-publish",
    "octo-sts/action",
    "docker/login-action",
];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let Some(grant) = id_token_grant(workflow, job) else {
            continue;
        };
        let cloud: Vec<String> = job.steps.iter().filter_map(|s| cloud_auth(s)).collect();
        let events = exposure::job_events(workflow, job, PRIVILEGED);
        let cloud_note = if cloud.is_empty() {
            String::new()
        } else {
            format!(" and authenticates with {}", cloud.join(", "))
        };
        let job_id = job.id.value;
        if events.is_empty() {
            if cloud.is_empty() {
                continue;
            }
            findings.push(
                Finding::new(&META, file.path, grant.span)
                    .severity(Severity::Info)
                    .message(format!(
                        "job `{job_id}` can request an OIDC token ({}){cloud_note}; it is not \
                         reachable by outsider-triggered events — keep the cloud trust policy \
                         scoped to trusted branches or environments",
                        grant.how
                    ))
                    .fingerprint_key(format!("{}|{}|{job_id}", grant.route, grant.matched))
                    .property("job", job_id),
            );
            continue;
        }
        let fork = exposure::privileged_fork_run(workflow, job, &events);
        let executing = fork.as_ref().and_then(|f| f.analysis.execution.clone());
        let (base, confidence) = match &executing {
            Some(run) if run.level == Level::Confirmed => (Severity::Critical, Confidence::High),
            Some(_) => (Severity::Critical, Confidence::Medium),
            None if events.contains(&"pull_request_target") => (Severity::High, Confidence::High),
            None => (Severity::Medium, Confidence::High),
        };
        let safeguards = exposure::gates(workflow, job, &events);
        let severity = exposure::apply_gates(base, &safeguards);
        let triggers = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let consequence = match (&executing, &fork) {
            (Some(run), Some(fork)) => format!(
                "; it checks out the pull request (`{}`) and runs {}, so a pull request author can mint cloud credentials",
                fork.checkout.reference,
                exposure::one_line(&run.what)
            ),
            _ => "; any injection in the job can mint cloud credentials".to_owned(),
        };
        let mut finding = Finding::new(&META, file.path, grant.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "{triggers} job `{job_id}` can request an OIDC token ({}){cloud_note}{consequence}{}",
                grant.how,
                exposure::mitigated_suffix(severity != base, &safeguards)
            ))
            .fingerprint_key(format!("{}|{}|{job_id}", grant.route, grant.matched))
            .property("trigger", events.join(","))
            .property("job", job_id);
        if let (Some(run), Some(fork)) = (&executing, &fork) {
            finding = finding
                .related(
                    file.path,
                    fork.checkout.span,
                    "checks out the pull request head",
                )
                .related(
                    file.path,
                    run.span,
                    format!(
                        "runs the checked-out code: {}",
                        exposure::one_line(&run.what)
                    ),
                );
        }
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

/// Where a job's `id-token: write` comes from.
struct Grant {
    span: Span,
    route: String,
    matched: &'static str,
    how: String,
}

fn id_token_grant(workflow: &Workflow<'_>, job: &Job<'_>) -> Option<Grant> {
    let (permissions, owner) = match &job.permissions {
        Some(p) => (p, "the job"),
        None => (workflow.permissions.as_ref()?, "the workflow"),
    };
    match permissions {
        Permissions::WriteAll(node) => Some(grant_at(
            node,
            node.span,
            "write-all",
            format!("`write-all` from {owner}"),
        )),
        Permissions::Scopes { scopes, node } => {
            scopes
                .iter()
                .find(|(scope, level)| scope.value == "id-token" && *level == Access::Write)?;
            let entry = node.entry("id-token")?;
            Some(grant_at(
                &entry.key,
                entry.key.span.cover(entry.value.span),
                "id-token: write",
                format!("`id-token: write` from {owner}"),
            ))
        }
        Permissions::ReadAll(_) | Permissions::Other(_) => None,
    }
}

fn grant_at(node: &Node, span: Span, matched: &'static str, how: String) -> Grant {
    Grant {
        span,
        route: node.route.to_string(),
        matched,
        how,
    }
}

fn cloud_auth(step: &Step<'_>) -> Option<String> {
    let name = step.action()?.repository_name()?;
    CLOUD_AUTH
        .iter()
        .any(|a| name.eq_ignore_ascii_case(a))
        .then(|| format!("`{name}`"))
}
