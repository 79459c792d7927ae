//! FG-010: a privileged job saves a cache after pull request code touched the workspace.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::execution::Level;
use crate::exposure::{self, PRIVILEGED};
use crate::model::{Step, Text};

pub const META: RuleMeta = RuleMeta {
    id: "FG-010",
    name: "cache-poisoning",
    title: "Cache poisoning: privileged job saves a cache built from pull request code",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg010_cache_poisoning.md"),
    remediation: "Do not save caches in privileged jobs that handle pull request code: use \
        `actions/cache/restore` only, set `cache: false` on setup actions, or move the build \
        to a `pull_request` workflow.",
    help_uri: "",
    tags: &["cache-poisoning", "untrusted-checkout"],
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
        let saves: Vec<(&Step<'_>, Text<'_>, String)> = job
            .steps
            .iter()
            .filter_map(|s| saves_cache(s).map(|(uses, how)| (s, uses, how)))
            .collect();
        if saves.is_empty() {
            continue;
        }
        let fork = exposure::privileged_fork_run(workflow, job, &events);
        let safeguards = exposure::gates(workflow, job, &events);
        let triggers = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        for (step, uses, how) in saves {
            let key = step.with.text("key").filter(|k| attacker_key(k.value));
            let (base, confidence, why) = match (&fork, key) {
                (Some(run), _) => match &run.analysis.execution {
                    Some(e) => (
                        Severity::High,
                        if e.level == Level::Confirmed {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        },
                        format!(
                            "after checking out the pull request (`{}`) and running {}",
                            run.checkout.reference,
                            exposure::one_line(&e.what)
                        ),
                    ),
                    None => (
                        Severity::Medium,
                        Confidence::Low,
                        format!(
                            "after checking out the pull request (`{}`); its files may land in the cached paths",
                            run.checkout.reference
                        ),
                    ),
                },
                (None, Some(key)) => (
                    Severity::Low,
                    Confidence::Low,
                    format!(
                        "under a key taken from the pull request (`{}`)",
                        key.value.trim()
                    ),
                ),
                (None, None) => continue,
            };
            let severity = exposure::apply_gates(base, &safeguards);
            let mut finding = Finding::new(&META, file.path, uses.span())
                .severity(severity)
                .confidence(confidence)
                .message(format!(
                    "{triggers} job `{}` saves a cache with {how} {why}; the default branch's \
                     later runs restore it{}",
                    job.id.value,
                    exposure::mitigated_suffix(severity != base, &safeguards)
                ))
                .fingerprint_key(format!(
                    "{}|{}|{}",
                    uses.route(),
                    uses.value.trim(),
                    job.id.value
                ))
                .property("trigger", events.join(","))
                .property("job", job.id.value);
            if let Some(run) = &fork {
                finding = finding.related(
                    file.path,
                    run.checkout.span,
                    "checks out the pull request head",
                );
                if let Some(e) = &run.analysis.execution {
                    finding = finding.related(
                        file.path,
                        e.span,
                        format!("runs the checked-out code: {}", exposure::one_line(&e.what)),
                    );
                }
            }
            for safeguard in &safeguards {
                finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
            }
            findings.push(finding);
        }
    }
}

/// Whether the step saves a cache: its `uses:` and a description.
fn saves_cache<'a>(step: &Step<'a>) -> Option<(Text<'a>, String)> {
    let uses = step.uses?;
    let name = step.action()?.repository_name()?.to_ascii_lowercase();
    let input = |key: &str| {
        step.with
            .text(key)
            .map(|v| v.value.trim().to_ascii_lowercase())
    };
    let enabled = |key: &str| input(key).is_some_and(|v| !v.is_empty() && v != "false");
    let shown = format!("`{}`", uses.value.trim());
    let saves = match name.as_str() {
        "actions/cache" | "actions/cache/save" => true,
        "actions/cache/restore" => false,
        // setup-go caches unless told not to (v4 and later).
        "actions/setup-go" => input("cache").is_none_or(|v| v != "false"),
        n if n.starts_with("actions/setup-") => enabled("cache"),
        "swatinem/rust-cache" => input("save-if").is_none_or(|v| v != "false"),
        "ruby/setup-ruby" => enabled("bundler-cache"),
        "gradle/actions/setup-gradle" | "gradle/gradle-build-action" => {
            input("cache-disabled").is_none_or(|v| v != "true")
                && input("cache-read-only").is_none_or(|v| v != "true")
        }
        "astral-sh/setup-uv" => enabled("enable-cache"),
        _ => false,
    };
    saves.then_some((uses, shown))
}

fn attacker_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.contains("github.head_ref")
        || lower.contains("github.event.pull_request.")
        || lower.contains("github.event.workflow_run.head_")
        || lower.contains("github.event.comment.")
}
