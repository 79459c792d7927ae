//! FG-036: `secrets: inherit` hands a reusable workflow every secret.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::exposure;
use crate::model::{Job, Text, Uses};

pub const META: RuleMeta = RuleMeta {
    id: "FG-036",
    name: "secrets-inherit",
    title: "Reusable workflow called with `secrets: inherit`",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg036_secrets_inherit.md"),
    remediation: "Pass the secrets the callee declares by name: `secrets: { NPM_TOKEN: \
        ${{ secrets.NPM_TOKEN }} }`, and declare them under `on.workflow_call.secrets` in \
        the callee.",
    help_uri: "",
    tags: &["secrets", "excessive-permissions"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        // FG-004 reports `secrets: inherit` on jobs that privileged events reach.
        if exposure::job_events(workflow, job, exposure::PRIVILEGED).is_empty() {
            inherit(file, job, findings);
        }
    }
}

fn inherit(file: &FileContext<'_, '_>, job: &Job<'_>, findings: &mut Vec<Finding>) {
    let (Some(secrets), Some(uses)) = (job.secrets.and_then(Text::from_node), job.uses) else {
        return;
    };
    if secrets.value.trim() != "inherit" {
        return;
    }
    let callee = uses.value.trim();
    let local = matches!(Uses::parse(callee), Uses::Local { .. });
    let mut finding = Finding::new(&META, file.path, secrets.span())
        .confidence(Confidence::High)
        .fingerprint_key(format!(
            "{}|inherit|{}",
            secrets.route(),
            callee.split('@').next().unwrap_or(callee)
        ))
        .property("job", job.id.value)
        .property("pattern", "inherit")
        .related(
            file.path,
            uses.span(),
            "the reusable workflow that receives every secret",
        );
    if local {
        finding = finding
            .severity(Severity::Low)
            .message(format!(
                "job `{}` passes every secret to the local reusable workflow `{callee}` with `secrets: inherit`",
                job.id.value
            ))
            .mitigation(
                "local-callee",
                format!("`{callee}` lives in this repository and changes only with it"),
            );
    } else {
        finding = finding.severity(Severity::Medium).message(format!(
            "job `{}` passes every secret to the reusable workflow `{callee}` with `secrets: inherit`",
            job.id.value
        ));
    }
    findings.push(finding);
}
