//! How exposed a job is to outsiders: which risky events reach it, which gates stand in the
//! way, and whether pull request code lands on its runner and runs.
//!
//! Rules that weigh a construct (a broad token, `id-token: write`, a self-hosted runner, a
//! cache save …) by who can trigger it share this: the events come from `on:` narrowed by the
//! job's `if:`, the gates are the [`mitigations`] safeguards, and [`apply_gates`] turns them
//! into one monotone severity adjustment (adding a gate never raises a result).

use sluice_pack_sdk::Severity;

use crate::checkout::{self, ForkCheckout, Method};
use crate::conditions::Condition;
use crate::execution::{self, Analysis, Region};
use crate::mitigations::{self, Effect, Safeguard};
use crate::model::{Job, Workflow};

/// Events that run with the base repository's secrets and a token that can write while an
/// outsider (a pull request author, a commenter) decides when they run.
pub const PRIVILEGED: &[&str] = &["pull_request_target", "issue_comment", "workflow_run"];

/// Events an outsider can start on this repository: the privileged ones and `pull_request`.
pub const EXTERNAL_PR: &[&str] = &["pull_request_target", "pull_request"];

/// The events of `candidates` that the workflow listens to and the job's `if:` lets through,
/// in `candidates` order.
pub fn job_events<'e>(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    candidates: &[&'e str],
) -> Vec<&'e str> {
    let listened: Vec<&'e str> = candidates
        .iter()
        .copied()
        .filter(|event| workflow.triggers.contains(event))
        .collect();
    if listened.is_empty() {
        return listened;
    }
    match &job.condition {
        Some(condition) => Condition::parse(condition.value).reachable_events(&listened),
        None => listened,
    }
}

/// Gates between an outsider and the job: its `if:`, a `labeled`-only `pull_request_target`
/// (when that is the only event in play), an environment, and gates on needed jobs.
pub fn gates(workflow: &Workflow<'_>, job: &Job<'_>, events: &[&str]) -> Vec<Safeguard> {
    let mut found = Vec::new();
    if let Some(condition) = &job.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("job `{}` `if:`", job.id.value),
        ));
    }
    if events == ["pull_request_target"] {
        found.extend(mitigations::label_trigger(workflow));
    }
    found.extend(mitigations::environment(job));
    found.extend(mitigations::needs_gates(workflow, job));
    found
}

/// `base` lowered by the gates among `safeguards`: a fork guard gives Info; otherwise the
/// strongest gate counts (a label gate with an environment, an author-association check or a
/// permission-checking needed job: two levels; a label gate, an environment, a maintainer
/// check or a human actor guard: one level); a bot actor guard caps at High because a later
/// push to the pull request still runs as the bot.
pub fn apply_gates(base: Severity, safeguards: &[Safeguard]) -> Severity {
    let has = |effect: Effect| safeguards.iter().any(|s| s.effect == effect);
    if has(Effect::ForkGuard) {
        return Severity::Info;
    }
    let steps = mitigations::access_gate_steps(safeguards);
    let mut severity = base.downgrade(steps);
    if has(Effect::BotActor) {
        severity = severity.cap(Severity::High);
    }
    severity
}

/// ` (mitigated: …)` when the safeguards lowered the result, else nothing.
pub fn mitigated_suffix(lowered: bool, safeguards: &[Safeguard]) -> String {
    if !lowered || safeguards.is_empty() {
        return String::new();
    }
    let descriptions: Vec<&str> = safeguards.iter().map(|s| s.description.as_str()).collect();
    format!(" (mitigated: {})", descriptions.join("; "))
}

/// Pull request code on the runner, and what runs it.
#[derive(Debug, Clone)]
pub struct ForkRun<'s, 'a> {
    pub checkout: ForkCheckout<'s, 'a>,
    pub analysis: Analysis,
    /// Where the fork code is.
    pub region: Region,
}

impl ForkRun<'_, '_> {
    /// Whether a later step is recognised as running the checked-out code.
    pub fn executes(&self) -> bool {
        self.analysis.execution.is_some()
    }
}

/// The first checkout of pull request code in the job under privileged events (the same
/// checkouts FG-001 recognises), with the analysis of what follows it; the first one followed
/// by an execution wins, else the first one.
pub fn privileged_fork_run<'s, 'a>(
    workflow: &'s Workflow<'a>,
    job: &'s Job<'a>,
    events: &[&str],
) -> Option<ForkRun<'s, 'a>> {
    let trusted = checkout::trusted_checkouts(workflow, job);
    let mut first = None;
    for candidate in checkout::fork_checkouts(workflow, job).into_iter().take(16) {
        if !candidate.events.is_empty() && !events.iter().any(|e| candidate.events.contains(e)) {
            continue;
        }
        let region = Region::after_checkout(&candidate, &trusted);
        let analysis = execution::analyze(workflow, job, &candidate, &region);
        let run = ForkRun {
            checkout: candidate,
            analysis,
            region,
        };
        if run.executes() {
            return Some(run);
        }
        first.get_or_insert(run);
    }
    first
}

/// Under `pull_request` the default `actions/checkout` already checks out the pull request
/// (its merge commit), so every checkout without a trusted `ref:` counts: the first one that
/// is followed by an execution of the checked-out code, else the first one.
pub fn pull_request_run<'s, 'a>(
    workflow: &'s Workflow<'a>,
    job: &'s Job<'a>,
) -> Option<ForkRun<'s, 'a>> {
    let mut first = None;
    for step in job
        .steps
        .iter()
        .filter(|s| checkout::is_checkout_action(s))
        .take(16)
    {
        let git_ref = step.with.text("ref");
        let repository = step.with.text("repository");
        let default = git_ref.is_none_or(|r| r.value.trim().is_empty())
            && repository.is_none_or(|r| r.value.trim().is_empty());
        let head = git_ref.is_some_and(|r| {
            let lower = r.value.to_ascii_lowercase();
            lower.contains("head_ref")
                || lower.contains("pull_request.head.")
                || lower.contains("refs/pull/")
        });
        if !default && !head {
            continue;
        }
        let path = step
            .with
            .text("path")
            .and_then(|p| checkout::workspace_path(p.value, ""))
            .unwrap_or_default();
        let (span, route, reference) = match git_ref {
            Some(r) if head => (r.span(), r.route().to_string(), r.value.trim().to_owned()),
            _ => {
                let uses = step.uses.expect("a checkout action step has `uses:`");
                (
                    uses.span(),
                    uses.route().to_string(),
                    "the pull request merge commit".to_owned(),
                )
            }
        };
        let candidate = ForkCheckout {
            step,
            method: Method::Action,
            span,
            route,
            reference,
            events: vec!["pull_request"],
            path: path.clone(),
            script_rest: None,
            unsafe_opt_in: false,
        };
        let region = Region {
            fork: path,
            trusted: Vec::new(),
        };
        let analysis = execution::analyze(workflow, job, &candidate, &region);
        let run = ForkRun {
            checkout: candidate,
            analysis,
            region,
        };
        if run.executes() {
            return Some(run);
        }
        first.get_or_insert(run);
    }
    first
}

/// `text` on one line, runs of whitespace collapsed (commands with line continuations).
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `step` itself runs code from `run`'s checkout (classified as if the checkout had
/// happened right before it).
pub fn step_runs_fork_code(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    run: &ForkRun<'_, '_>,
    step: &crate::model::Step<'_>,
) -> Option<execution::Execution> {
    if step.index < run.checkout.step.index {
        return None;
    }
    if step.index == run.checkout.step.index && run.checkout.script_rest.is_none() {
        return None;
    }
    let probe = ForkCheckout {
        step,
        method: run.checkout.method,
        span: run.checkout.span,
        route: run.checkout.route.clone(),
        reference: run.checkout.reference.clone(),
        events: run.checkout.events.clone(),
        path: run.checkout.path.clone(),
        script_rest: Some(if step.index == run.checkout.step.index {
            run.checkout.script_rest.unwrap_or(0)
        } else {
            0
        }),
        unsafe_opt_in: run.checkout.unsafe_opt_in,
    };
    execution::analyze(workflow, job, &probe, &run.region)
        .execution
        .filter(|e| e.step_index == step.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(effect: Effect) -> Safeguard {
        Safeguard::new("test", effect, "test")
    }

    #[test]
    fn gates_lower_and_never_raise() {
        let all = [
            Effect::ForkGuard,
            Effect::BotActor,
            Effect::HumanActor,
            Effect::LabelGate,
            Effect::Environment,
            Effect::MaintainerCheck,
            Effect::PermissionGateJob,
            Effect::AuthorAssociation,
        ];
        assert_eq!(
            apply_gates(Severity::Medium, &[guard(Effect::ForkGuard)]),
            Severity::Info
        );
        assert_eq!(
            apply_gates(Severity::Critical, &[guard(Effect::BotActor)]),
            Severity::High
        );
        assert_eq!(
            apply_gates(
                Severity::High,
                &[guard(Effect::LabelGate), guard(Effect::Environment)]
            ),
            Severity::Low
        );
        for base in Severity::ALL {
            for mask in 0u32..(1 << all.len()) {
                let set: Vec<Safeguard> = (0..all.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| guard(all[i]))
                    .collect();
                let before = apply_gates(base, &set);
                assert!(before <= base);
                for extra in all {
                    let mut more = set.clone();
                    more.push(guard(extra));
                    assert!(apply_gates(base, &more) <= before, "{set:?} + {extra:?}");
                }
            }
        }
    }
}
