//! FG-011: a bot actor guard in front of a job that checks out and runs pull request code.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use crate::execution::Level;
use crate::exposure;
use crate::mitigations::{Effect, Safeguard};
use crate::model::{Job, Text, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-011",
    name: "bot-actor-toctou",
    title: "Bot actor guard TOCTOU: `github.actor == '…[bot]'` in front of pull request code",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg011_bot_actor_toctou.md"),
    remediation: "Check `github.event.pull_request.user.login` (the pull request author) \
        together with `github.event.pull_request.head.repo.full_name == github.repository`, \
        and check out `github.event.pull_request.head.sha` rather than a branch.",
    help_uri: "",
    tags: &["toctou", "actor-guard", "untrusted-checkout"],
};

const EVENTS: &[&str] = &["pull_request_target", "workflow_run"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let events = exposure::job_events(workflow, job, EVENTS);
        if events.is_empty() {
            continue;
        }
        let safeguards = exposure::gates(workflow, job, &events);
        // A fork guard next to the bot check closes the hole: forks never reach the job.
        if !safeguards.iter().any(|s| s.effect == Effect::BotActor)
            || safeguards.iter().any(|s| s.effect == Effect::ForkGuard)
        {
            continue;
        }
        let Some(guard) = bot_guard(workflow, job) else {
            continue;
        };
        let Some(run) = exposure::privileged_fork_run(workflow, job, &events) else {
            continue;
        };
        let Some(execution) = &run.analysis.execution else {
            continue;
        };
        let reference = run.checkout.reference.to_ascii_lowercase();
        let pinned = reference.contains("head.sha") || reference.contains("head_sha");
        let confidence = match (pinned, execution.level) {
            (false, Level::Confirmed) => Confidence::High,
            (true, Level::Likely) => Confidence::Low,
            _ => Confidence::Medium,
        };
        // The bot guard is the subject, not a mitigation of it.
        let others: Vec<Safeguard> = safeguards
            .iter()
            .filter(|s| s.effect != Effect::BotActor)
            .cloned()
            .collect();
        let base = META.default_severity;
        let severity = exposure::apply_gates(base, &others);
        let triggers = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let mut finding = Finding::new(&META, file.path, guard.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "{triggers} job `{}` trusts the bot actor check `{}`{} and then checks out \
                 the pull request (`{}`) and runs {}: an attacker who gets the bot to act on \
                 their pull request, or pushes right after it, runs code with the job's secrets{}",
                job.id.value,
                guard.text,
                guard.location,
                run.checkout.reference,
                exposure::one_line(&execution.what),
                exposure::mitigated_suffix(severity != base, &others)
            ))
            .fingerprint_key(format!("{}|{}|{}", guard.route, guard.text, job.id.value))
            .property("trigger", events.join(","))
            .property("job", job.id.value)
            .related(
                file.path,
                run.checkout.span,
                "checks out the pull request head",
            )
            .related(
                file.path,
                execution.span,
                format!(
                    "runs the checked-out code: {}",
                    exposure::one_line(&execution.what)
                ),
            );
        for safeguard in &others {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

struct Guard {
    span: Span,
    route: String,
    text: String,
    location: String,
}

/// The quoted `…[bot]` literal of the job's `if:` or of a needed job's `if:`.
fn bot_guard(workflow: &Workflow<'_>, job: &Job<'_>) -> Option<Guard> {
    if let Some(condition) = job.condition
        && let Some(guard) = bot_literal(condition, String::new())
    {
        return Some(guard);
    }
    job.needs
        .iter()
        .filter_map(|id| workflow.job(id.value))
        .find_map(|dep| {
            dep.condition
                .and_then(|c| bot_literal(c, format!(" (in needed job `{}`)", dep.id.value)))
        })
}

/// Fields that name whoever caused the latest event (not the pull request's author).
const EVENT_ACTORS: &[&str] = &[
    "github.actor",
    "github.triggering_actor",
    "github.event.sender.login",
];

fn bot_literal(condition: Text<'_>, location: String) -> Option<Guard> {
    let value = condition.value;
    let lower = value.to_ascii_lowercase();
    if !EVENT_ACTORS.iter().any(|field| {
        lower.match_indices(field).any(|(at, m)| {
            !lower[at + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
    }) {
        return None;
    }
    let at = value.find("[bot]")?;
    let start = value[..at].rfind(['\'', '"']).unwrap_or(at);
    let end = value[at..]
        .find(['\'', '"'])
        .map_or(at + "[bot]".len(), |e| at + e + 1);
    let text = value[start..end].to_owned();
    Some(Guard {
        span: condition.span_of(start..end),
        route: condition.route().to_string(),
        text,
        location,
    })
}
