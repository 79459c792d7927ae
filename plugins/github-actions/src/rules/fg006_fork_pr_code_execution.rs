//! FG-006: a `pull_request` job runs code from the pull request.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::execution::Level;
use crate::exposure;

pub const META: RuleMeta = RuleMeta {
    id: "FG-006",
    name: "fork-pr-code-execution",
    title: "Fork PR code execution: a `pull_request` job runs the pull request's code",
    default_severity: Severity::Info,
    default_confidence: Confidence::High,
    description: include_str!("fg006_fork_pr_code_execution.md"),
    remediation: "Keep untrusted builds on GitHub-hosted runners with a read-only token (`permissions: \
        contents: read`), and require approval for workflows from outside collaborators.",
    help_uri: "",
    tags: &["untrusted-checkout", "fork"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let events = exposure::job_events(workflow, job, &["pull_request"]);
        if events.is_empty() {
            continue;
        }
        let Some(run) = exposure::pull_request_run(workflow, job) else {
            continue;
        };
        let Some(execution) = &run.analysis.execution else {
            continue;
        };
        let safeguards = exposure::gates(workflow, job, &events);
        let base = META.default_severity;
        let severity = exposure::apply_gates(base, &safeguards);
        let confidence = if execution.level == Level::Confirmed {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let runs = if execution.level == Level::Confirmed {
            format!("runs {}", exposure::one_line(&execution.what))
        } else {
            format!(
                "runs {}, which may load code from it",
                exposure::one_line(&execution.what)
            )
        };
        let mut finding = Finding::new(&META, file.path, run.checkout.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "`pull_request` job `{}` checks out {} and {runs}: code from a fork runs on the \
                 runner (with a read-only token and no secrets){}",
                job.id.value,
                if run.checkout.reference.contains("${{")
                    || run.checkout.reference.starts_with("refs/")
                {
                    format!("`{}`", run.checkout.reference)
                } else {
                    run.checkout.reference.clone()
                },
                exposure::mitigated_suffix(severity != base, &safeguards)
            ))
            .fingerprint_key(format!(
                "{}|{}|{}",
                run.checkout.route, run.checkout.reference, job.id.value
            ))
            .property("job", job.id.value)
            .property("execution", execution.level.as_str())
            .related(
                file.path,
                execution.span,
                format!(
                    "runs the checked-out code: {}",
                    exposure::one_line(&execution.what)
                ),
            );
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}
