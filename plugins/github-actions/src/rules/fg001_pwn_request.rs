//! FG-001: a privileged workflow checks out pull request code and runs it.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::checkout::{self, ForkCheckout, Method};
use crate::conditions::Condition;
use crate::execution::{self, Analysis, Level, Region};
use crate::mitigations::{self, Effect, Safeguard};
use crate::model::{Job, Workflow};
use crate::repository::{Link, MAX_DEPTH, Repository};

pub const META: RuleMeta = RuleMeta {
    id: "FG-001",
    name: "pwn-request",
    title: "Pwn request: privileged workflow runs code from a pull request",
    default_severity: Severity::Critical,
    default_confidence: Confidence::High,
    description: include_str!("fg001_pwn_request.md"),
    remediation: "Do not check out pull request code in privileged workflows. Run untrusted \
        builds under `pull_request` (no secrets, read-only token) and, if results need a \
        privileged step, pass them as artifacts to a separate `workflow_run` job that treats \
        them as data. If a privileged job must look at the code, check it out into a \
        subdirectory, never execute anything from it, set `permissions: {}` or read-only, \
        and gate the job on `github.event.pull_request.head.repo.full_name == \
        github.repository` or a protected environment.",
    help_uri: "",
    tags: &["pwn-request", "untrusted-checkout"],
};

/// Fork checkouts examined per job.
const MAX_CANDIDATES: usize = 16;

/// Events that run with the base repository's secrets and a writable token while a pull
/// request author controls the code.
const PRIVILEGED: &[&str] = &["pull_request_target", "workflow_run", "issue_comment"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    let mut privileged: Vec<&str> = PRIVILEGED
        .iter()
        .copied()
        .filter(|event| workflow.triggers.contains(event))
        .collect();
    // A reusable workflow runs with its caller's event. Which one is unknown, unless its
    // jobs test for a privileged one (`github.event_name == 'issue_comment'`).
    let mut inherited: Vec<&str> = Vec::new();
    if workflow.triggers.contains("workflow_call") {
        for job in &workflow.jobs {
            let Some(condition) = &job.condition else {
                continue;
            };
            for event in Condition::parse(condition.value).compared_events() {
                if let Some(known) = PRIVILEGED.iter().find(|p| **p == event)
                    && !privileged.contains(known)
                {
                    privileged.push(known);
                    inherited.push(known);
                }
            }
        }
    }
    // Local callers in the repository lend their privileged events (and are pointed at).
    let mut callers: Vec<(&str, Link)> = Vec::new();
    if workflow.triggers.contains("workflow_call") {
        caller_events(file.repository, file.path, &mut Vec::new(), &mut callers);
        for (event, _) in &callers {
            if !privileged.contains(event) {
                privileged.push(event);
                inherited.push(event);
            }
        }
    }
    if privileged.is_empty() {
        return;
    }
    for job in &workflow.jobs {
        let job_events = match &job.condition {
            Some(condition) => Condition::parse(condition.value).reachable_events(&privileged),
            None => privileged.clone(),
        };
        if job_events.is_empty() {
            continue;
        }
        if let Some(mut finding) = check_job(file, workflow, job, &job_events, &inherited) {
            let mut shown: Vec<&Link> = Vec::new();
            for (event, link) in &callers {
                if job_events.contains(event) && !shown.contains(&link) {
                    shown.push(link);
                    finding = finding.related(
                        link.path.clone(),
                        link.span,
                        format!("called by `uses: {}`, which runs on `{event}`", link.uses),
                    );
                }
            }
            findings.push(finding);
        }
    }
}

/// The privileged events local callers give the reusable workflow at `path`, each with the
/// calling job's `uses:`; callers that are reusable themselves pass on their callers' events.
fn caller_events(
    repository: &Repository<'_>,
    path: &str,
    visited: &mut Vec<String>,
    out: &mut Vec<(&'static str, Link)>,
) {
    if visited.len() >= MAX_DEPTH || visited.iter().any(|v| v == path) {
        return;
    }
    visited.push(path.to_owned());
    for (caller, workflow, job) in repository.callers(path) {
        let Some(uses) = job.uses else {
            continue;
        };
        let mut events: Vec<&'static str> = PRIVILEGED
            .iter()
            .copied()
            .filter(|event| workflow.triggers.contains(event))
            .collect();
        if workflow.triggers.contains("workflow_call") {
            let mut above = Vec::new();
            caller_events(repository, caller, visited, &mut above);
            for (event, _) in above {
                if !events.contains(&event) {
                    events.push(event);
                }
            }
        }
        if let Some(condition) = &job.condition {
            let reachable = Condition::parse(condition.value).reachable_events(&events);
            events.retain(|e| reachable.contains(e));
        }
        let link = Link {
            path: caller.to_owned(),
            span: uses.span(),
            route: uses.route().to_string(),
            uses: uses.value.trim().to_owned(),
        };
        out.extend(events.into_iter().map(|event| (event, link.clone())));
    }
    visited.pop();
}

/// The first fork checkout of a job that is reachable and followed by something that may run
/// it.
fn check_job(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    job_events: &[&str],
    inherited: &[&str],
) -> Option<Finding> {
    let trusted = checkout::trusted_checkouts(workflow, job);
    // Each candidate re-reads the rest of the job; a real job has one or two, so a cap keeps a
    // hostile file with thousands of checkout commands linear.
    for candidate in checkout::fork_checkouts(workflow, job)
        .into_iter()
        .take(MAX_CANDIDATES)
    {
        let events: Vec<&str> = job_events
            .iter()
            .copied()
            .filter(|e| candidate.events.is_empty() || candidate.events.contains(e))
            .collect();
        if events.is_empty() {
            continue;
        }
        let region = Region::after_checkout(&candidate, &trusted);
        let analysis = execution::analyze_in(
            workflow,
            job,
            &candidate,
            &region,
            Some((file.path, file.repository)),
        );
        if analysis.execution.is_none() && analysis.opaque.is_none() {
            continue;
        }
        let safeguards = safeguards(workflow, job, &candidate, &events, &analysis, &region);
        let level = analysis.execution.as_ref().map(|e| e.level);
        let (severity, confidence, mitigated) = assess(level, &safeguards);
        return Some(finding(
            file,
            job,
            &candidate,
            &Reach {
                events: &events,
                inherited,
            },
            &analysis,
            &safeguards,
            (severity, confidence, mitigated),
        ));
    }
    None
}

/// Every safeguard that applies to this checkout.
fn safeguards(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    candidate: &ForkCheckout<'_, '_>,
    events: &[&str],
    analysis: &Analysis,
    region: &Region,
) -> Vec<Safeguard> {
    let mut found = Vec::new();
    if let Some(condition) = &job.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("job `{}` `if:`", job.id.value),
        ));
    }
    if let Some(condition) = &candidate.step.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("checkout step `{}` `if:`", candidate.step.label()),
        ));
    }
    if events == ["pull_request_target"] {
        found.extend(mitigations::label_trigger(workflow));
    }
    found.extend(mitigations::environment(job));
    // A check that fails the job protects everything after it; checking out alone is harmless,
    // so a check between the checkout and the first execution counts too.
    let first_run = analysis
        .execution
        .as_ref()
        .map(|e| e.step_index)
        .or(analysis.opaque.as_ref().map(|(index, _)| *index))
        .unwrap_or(usize::MAX);
    for step in job.steps.iter().filter(|s| {
        s.index < first_run && s.index != candidate.step.index && mitigations::checks_actor(s)
    }) {
        found.push(Safeguard::new(
            "maintainer-check",
            Effect::MaintainerCheck,
            format!(
                "step `{}` verifies the actor and stops the job for outsiders before the code runs",
                step.label()
            ),
        ));
    }
    found.extend(mitigations::needs_gates(workflow, job));
    found.extend(mitigations::token(workflow, job));
    if analysis.execution.is_none() && !region.fork.is_empty() {
        if region.trusted.is_empty() {
            found.push(Safeguard::new(
                "path-isolation",
                Effect::PathIsolation,
                format!(
                    "pull request code is checked out to `{}/` and nothing is run from there",
                    region.fork
                ),
            ));
        } else {
            found.push(Safeguard::new(
                "trusted-ref-isolation",
                Effect::TrustedRefIsolation,
                format!(
                    "pull request code is checked out to `{}/`; what runs comes from a trusted checkout",
                    region.fork
                ),
            ));
        }
    }
    found
}

/// Severity and confidence after safeguards; also whether any safeguard changed the result.
///
/// Monotone by construction: adding a safeguard never raises the result. (The reference
/// scanner applied some safeguards only "if nothing applied yet", so a label gate plus a
/// read-only token ranked higher than the read-only token alone.)
pub fn assess(level: Option<Level>, safeguards: &[Safeguard]) -> (Severity, Confidence, bool) {
    let has = |effect: Effect| safeguards.iter().any(|s| s.effect == effect);
    let (mut severity, mut confidence) = match level {
        Some(Level::Confirmed) => (Severity::Critical, Confidence::High),
        Some(Level::Likely) => (Severity::Critical, Confidence::Medium),
        None => (Severity::High, Confidence::Low),
    };
    let before = (severity, confidence);

    // Gates on who can start the job: a fork guard shuts outsiders out; otherwise the
    // strongest gate counts.
    if has(Effect::ForkGuard) {
        (severity, confidence) = (Severity::Info, Confidence::Low);
    } else {
        severity = severity.downgrade(mitigations::access_gate_steps(safeguards));
        if has(Effect::BotActor) {
            // A later push to the pull request still runs as the bot (TOCTOU): never below
            // what the other gates give, never above High.
            severity = severity.cap(Severity::High);
        }
    }

    // Where the code lands.
    if has(Effect::TrustedRefIsolation) {
        (severity, confidence) = (Severity::Info, Confidence::Low);
    } else if has(Effect::PathIsolation) {
        severity = severity.downgrade(1);
        confidence = Confidence::Low;
    }

    // What a compromise would give.
    if has(Effect::NoToken) {
        (severity, confidence) = (Severity::Info, Confidence::Low);
    } else if has(Effect::ReadOnlyToken) {
        severity = severity.cap(Severity::Low);
    }
    (severity, confidence, (severity, confidence) != before)
}

/// The privileged events under which a finding happens.
struct Reach<'e> {
    events: &'e [&'e str],
    /// Events that only a calling workflow can have (this one is reusable).
    inherited: &'e [&'e str],
}

fn finding(
    file: &FileContext<'_, '_>,
    job: &Job<'_>,
    candidate: &ForkCheckout<'_, '_>,
    reach: &Reach<'_>,
    analysis: &Analysis,
    safeguards: &[Safeguard],
    (severity, confidence, mitigated): (Severity, Confidence, bool),
) -> Finding {
    let events = reach.events;
    let triggers = events
        .iter()
        .map(|e| {
            if reach.inherited.contains(e) {
                format!("`{e}` (via `workflow_call`)")
            } else {
                format!("`{e}`")
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let how = match candidate.method {
        Method::Action if candidate.unsafe_opt_in => format!(
            "checks out the pull request head (`{}`) with `allow-unsafe-pr-checkout: true`",
            candidate.reference
        ),
        Method::Action => format!(
            "checks out the pull request head (`{}`)",
            candidate.reference
        ),
        Method::Script => format!(
            "checks out the pull request head with `{}`",
            candidate.reference
        ),
    };
    let (then, execution) = match (&analysis.execution, &analysis.opaque) {
        (Some(run), _) if run.level == Level::Confirmed => {
            (format!("and then runs {}", run.what), "confirmed")
        }
        (Some(run), _) => (
            format!(
                "and then runs {}, which may load code from the checkout",
                run.what
            ),
            "likely",
        ),
        (None, Some((_, uses))) => (
            format!("and then uses `{uses}`, which may run the checked-out code"),
            "unknown",
        ),
        (None, None) => (String::new(), "none"),
    };
    let mut message = format!("{triggers} job `{}` {how} {then}", job.id.value);
    if mitigated {
        let lowered: Vec<&str> = safeguards.iter().map(|s| s.description.as_str()).collect();
        message.push_str(&format!(" (mitigated: {})", lowered.join("; ")));
    }
    let mut finding = Finding::new(&META, file.path, candidate.span)
        .severity(severity)
        .confidence(confidence)
        .message(message)
        .fingerprint_key(format!("{}|{}", candidate.route, candidate.reference))
        .property("trigger", events.join(","))
        .property("job", job.id.value)
        .property("checkout-ref", candidate.reference.clone())
        .property("execution", execution);
    if let Some(run) = &analysis.execution
        && let Some((path, span)) = &run.remote
    {
        finding = finding
            .related(
                path.clone(),
                *span,
                format!("runs the checked-out code: {}", run.what),
            )
            .related(
                file.path,
                run.span,
                "calls the local composite action that runs the checked-out code",
            );
    } else if let Some(run) = &analysis.execution {
        finding = finding.related(
            file.path,
            run.span,
            format!("runs the checked-out code: {}", run.what),
        );
    } else if let Some((index, uses)) = &analysis.opaque
        && let Some(step) = job.step(*index).and_then(|s| s.uses)
    {
        finding = finding.related(
            file.path,
            step.span(),
            format!("`{uses}` may run the checked-out code"),
        );
    }
    for safeguard in safeguards {
        finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(effect: Effect) -> Safeguard {
        Safeguard::new("test", effect, "test")
    }

    fn result(level: Option<Level>, effects: &[Effect]) -> (Severity, Confidence) {
        let safeguards: Vec<Safeguard> = effects.iter().copied().map(guard).collect();
        let (severity, confidence, _) = assess(level, &safeguards);
        (severity, confidence)
    }

    const CONFIRMED: Option<Level> = Some(Level::Confirmed);

    #[test]
    fn base_levels() {
        assert_eq!(
            result(CONFIRMED, &[]),
            (Severity::Critical, Confidence::High)
        );
        assert_eq!(
            result(Some(Level::Likely), &[]),
            (Severity::Critical, Confidence::Medium)
        );
        assert_eq!(result(None, &[]), (Severity::High, Confidence::Low));
    }

    #[test]
    fn fork_guard_wins_over_weaker_gates() {
        assert_eq!(
            result(CONFIRMED, &[Effect::ForkGuard, Effect::LabelGate]),
            (Severity::Info, Confidence::Low)
        );
    }

    #[test]
    fn bot_guard_caps_but_never_suppresses() {
        assert_eq!(
            result(CONFIRMED, &[Effect::BotActor]),
            (Severity::High, Confidence::High)
        );
        assert_eq!(
            result(CONFIRMED, &[Effect::BotActor, Effect::LabelGate]),
            (Severity::High, Confidence::High)
        );
        assert_eq!(
            result(CONFIRMED, &[Effect::BotActor, Effect::AuthorAssociation]).0,
            Severity::Medium
        );
    }

    #[test]
    fn gates_downgrade() {
        assert_eq!(result(CONFIRMED, &[Effect::LabelGate]).0, Severity::High);
        assert_eq!(result(CONFIRMED, &[Effect::Environment]).0, Severity::High);
        assert_eq!(
            result(CONFIRMED, &[Effect::LabelGate, Effect::Environment]).0,
            Severity::Medium
        );
        assert_eq!(result(CONFIRMED, &[Effect::HumanActor]).0, Severity::High);
        assert_eq!(
            result(CONFIRMED, &[Effect::MaintainerCheck]).0,
            Severity::High
        );
        assert_eq!(
            result(CONFIRMED, &[Effect::AuthorAssociation]).0,
            Severity::Medium
        );
        assert_eq!(
            result(CONFIRMED, &[Effect::PermissionGateJob]).0,
            Severity::Medium
        );
    }

    #[test]
    fn tokens() {
        assert_eq!(
            result(CONFIRMED, &[Effect::NoToken]),
            (Severity::Info, Confidence::Low)
        );
        assert_eq!(result(CONFIRMED, &[Effect::ReadOnlyToken]).0, Severity::Low);
        assert_eq!(
            result(CONFIRMED, &[Effect::LabelGate, Effect::ReadOnlyToken]).0,
            Severity::Low
        );
    }

    #[test]
    fn adding_a_safeguard_never_raises_the_result() {
        let all = [
            Effect::ForkGuard,
            Effect::BotActor,
            Effect::HumanActor,
            Effect::LabelGate,
            Effect::Environment,
            Effect::MaintainerCheck,
            Effect::PermissionGateJob,
            Effect::AuthorAssociation,
            Effect::TrustedRefIsolation,
            Effect::PathIsolation,
            Effect::NoToken,
            Effect::ReadOnlyToken,
        ];
        for level in [CONFIRMED, Some(Level::Likely), None] {
            for mask in 0u32..(1 << all.len()) {
                let set: Vec<Effect> = (0..all.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| all[i])
                    .collect();
                let base = result(level, &set);
                for extra in all {
                    let mut more = set.clone();
                    more.push(extra);
                    let after = result(level, &more);
                    assert!(
                        after.0 <= base.0 && after.1 <= base.1,
                        "{set:?} + {extra:?}: {base:?} -> {after:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn isolation() {
        assert_eq!(
            result(None, &[Effect::TrustedRefIsolation]),
            (Severity::Info, Confidence::Low)
        );
        assert_eq!(
            result(None, &[Effect::PathIsolation]),
            (Severity::Medium, Confidence::Low)
        );
    }
}
