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
    description: "`secrets: inherit` on a job that calls a reusable workflow hands the callee \
        every secret of the repository, its organisation and its environments, instead of \
        the few it needs. The callee — and every action it uses, at whatever ref it uses \
        them — can read all of them; a compromise of a shared workflow repository then \
        yields every secret of every caller.\n\n\
        Severity: **Medium**/High for a callee in another repository; **Low**/High for a \
        local callee (`./.github/workflows/…`), which is reviewed and versioned with the \
        caller (reported with a `local-callee` mitigation).\n\n\
        Division of labour: on jobs that `pull_request_target`, `issue_comment` or \
        `workflow_run` can reach, FG-004 (broad permissions) reports `secrets: inherit` \
        with gate-aware severity, so FG-036 covers the other jobs and never reports the \
        same key twice. `toJSON(secrets)` and computed `secrets[…]` keys, which also hand \
        out every secret, are FG-013's.",
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
