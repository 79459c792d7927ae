//! FG-016: a privileged job uses a local action (`uses: ./…`) after checking out fork code.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use super::fg001_pwn_request::assess;
use crate::checkout::{self, is_within, workspace_path};
use crate::execution::Level;
use crate::exposure::{self, PRIVILEGED};
use crate::mitigations::{self, Safeguard};
use crate::model::{Uses, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-016",
    name: "local-action-after-untrusted-checkout",
    title: "Local action used after checking out untrusted code",
    default_severity: Severity::Critical,
    default_confidence: Confidence::High,
    description: include_str!("fg016_local_action_untrusted_checkout.md"),
    remediation: "Never run local actions from a checkout of pull request code in a \
        privileged workflow. Check the base repository out to the workspace root and the \
        pull request into a subdirectory that is only read as data, or move the work to a \
        `pull_request` workflow without secrets.",
    help_uri: "",
    tags: &["pwn-request", "untrusted-checkout"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let events = exposure::job_events(workflow, job, PRIVILEGED);
        if events.is_empty() {
            continue;
        }
        let forks = checkout::fork_checkouts(workflow, job);
        let trusted = checkout::trusted_checkouts(workflow, job);
        let mut reported: Vec<usize> = Vec::new();
        for fork in forks.iter().take(16) {
            if !fork.events.is_empty() && !fork.events.iter().any(|e| events.contains(e)) {
                continue;
            }
            for step in job.steps.iter().filter(|s| s.index > fork.step.index) {
                let Some(uses) = step.uses else { continue };
                let Uses::Local { path } = Uses::parse(uses.value) else {
                    continue;
                };
                if reported.contains(&step.index) {
                    continue;
                }
                let cwd = String::new();
                let Some(dir) = workspace_path(path, &cwd) else {
                    continue;
                };
                if !is_within(&dir, &fork.path) {
                    continue;
                }
                // A trusted checkout that replaced the action's directory after the fork
                // checkout (or that holds it outside the fork's tree) wins.
                let replaced = trusted.iter().find(|t| {
                    t.step_index < step.index
                        && is_within(&dir, &t.path)
                        && (t.step_index > fork.step.index
                            || (t.path.len() > fork.path.len() && !t.path.is_empty()))
                        && t.path != fork.path
                });
                if replaced.is_some() {
                    continue;
                }
                reported.push(step.index);
                let safeguards = safeguards(workflow, job, fork.step.index, step.index);
                let (severity, confidence, mitigated) = assess(Some(Level::Confirmed), &safeguards);
                let trigger = events
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join("/");
                let mut message = format!(
                    "{trigger} job `{}` uses the local action `{}` after checking out the pull \
                     request head (`{}`), so the pull request supplies its `action.yml`",
                    job.id.value,
                    uses.value.trim(),
                    fork.reference
                );
                if mitigated {
                    let lowered: Vec<&str> =
                        safeguards.iter().map(|s| s.description.as_str()).collect();
                    message.push_str(&format!(" (mitigated: {})", lowered.join("; ")));
                }
                let mut finding = Finding::new(&META, file.path, uses.span())
                    .severity(severity)
                    .confidence(confidence)
                    .message(message)
                    .fingerprint_key(format!("{}|{}", uses.route(), uses.value.trim()))
                    .related(
                        file.path,
                        fork.span,
                        "the pull request head is checked out here",
                    )
                    .property("job", job.id.value)
                    .property("uses", uses.value.trim())
                    .property("checkout-ref", fork.reference.clone());
                for safeguard in &safeguards {
                    finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
                }
                findings.push(finding);
            }
        }
    }
}

fn safeguards(
    workflow: &Workflow<'_>,
    job: &crate::model::Job<'_>,
    checkout_index: usize,
    action_index: usize,
) -> Vec<Safeguard> {
    let mut found = Vec::new();
    if let Some(condition) = &job.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("job `{}` `if:`", job.id.value),
        ));
    }
    if let Some(step) = job.step(checkout_index)
        && let Some(condition) = &step.condition
    {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("checkout step `{}` `if:`", step.label()),
        ));
    }
    found.extend(mitigations::label_trigger(workflow));
    found.extend(mitigations::environment(job));
    for step in job.steps.iter().filter(|s| {
        s.index != checkout_index && s.index < action_index && mitigations::checks_actor(s)
    }) {
        found.push(Safeguard::new(
            "maintainer-check",
            mitigations::Effect::MaintainerCheck,
            format!(
                "step `{}` verifies the actor and stops the job for outsiders",
                step.label()
            ),
        ));
    }
    found.extend(mitigations::needs_gates(workflow, job));
    found.extend(mitigations::token(workflow, job));
    found
}
