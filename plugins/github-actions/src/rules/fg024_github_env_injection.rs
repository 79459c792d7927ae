//! FG-024: attacker data written to `$GITHUB_ENV`, `$GITHUB_PATH` or `$GITHUB_OUTPUT`.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use super::fg021_cross_step_output_taint::line_taint;
use crate::contexts::Tier;
use crate::mitigations::{self, Effect, Safeguard};
use crate::model::{Job, Step, Text, Workflow};

pub const META: RuleMeta = RuleMeta {
    id: "FG-024",
    name: "github-env-injection",
    title: "GitHub environment file injection: attacker data written to $GITHUB_ENV/$GITHUB_PATH",
    default_severity: Severity::Critical,
    default_confidence: Confidence::High,
    description: include_str!("fg024_github_env_injection.md"),
    remediation: "Do not write event data to `$GITHUB_ENV` or `$GITHUB_PATH`. Set it with \
        `env:` on the steps that need it. If it must cross steps, use a step output with a \
        random here-document delimiter, or strip newlines first \
        (`printf 'TITLE=%s\\n' \"${TITLE//$'\\n'/ }\"`).",
    help_uri: "",
    tags: &["injection", "environment"],
};

/// Events whose fork-triggered runs get a read-only token and no secrets.
const UNPRIVILEGED: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let workflow = file.definition.as_workflow();
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if let Some(run) = step.run {
                check_script(file, workflow, job, step, run, findings);
            }
        }
    }
}

fn check_script(
    file: &FileContext<'_, '_>,
    workflow: Option<&Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    run: Text<'_>,
    findings: &mut Vec<Finding>,
) {
    let envs = [Some(step.env), job.map(|j| j.env), workflow.map(|w| w.env)];
    let mut offset = 0;
    let mut seen: Vec<String> = Vec::new();
    for line in run.value.split_inclusive('\n') {
        let start = offset + (line.len() - line.trim_start().len());
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('#') || !trimmed.contains('>') && !trimmed.contains("tee") {
            continue;
        }
        let Some(target) = ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"]
            .into_iter()
            .find(|t| trimmed.contains(&format!("${t}")) || trimmed.contains(&format!("${{{t}}}")))
        else {
            continue;
        };
        let Some((source, tier, reachable)) = line_taint(file.definition, &envs, trimmed) else {
            continue;
        };
        let output = target == "GITHUB_OUTPUT";
        let mut base = match (output, tier) {
            (false, Tier::Anyone) => Severity::Critical,
            (false, Tier::TriggerAccess) => Severity::Medium,
            (true, Tier::Anyone) => Severity::Medium,
            // Forging outputs of a workflow the caller already controls adds nothing.
            (true, Tier::TriggerAccess) => continue,
        };
        let safeguards = safeguards(workflow, job, step);
        let single_line = (target != "GITHUB_PATH" && is_single_line(&source)).then(|| {
            base = base.downgrade(2);
            format!("`{source}` is a branch name or title, which cannot contain a newline")
        });
        let severity = assess(base, &safeguards);
        let mut confidence = if reachable {
            Confidence::High
        } else {
            Confidence::Low
        };
        if severity == Severity::Info {
            confidence = Confidence::Low;
        }
        let effect = match target {
            "GITHUB_ENV" => {
                "a newline in it defines arbitrary environment variables for every later step"
            }
            "GITHUB_PATH" => "it decides which directory later steps run programs from",
            _ => "a newline in it forges other outputs of the step",
        };
        let place = match job {
            Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
            None => format!("step `{}`", step.label()),
        };
        let mut message = format!("{place} writes `{source}` to `${target}`: {effect}");
        if !reachable {
            message.push_str(" (no trigger of this workflow sets it)");
        }
        if severity < base || single_line.is_some() {
            let mut lowered: Vec<&str> =
                safeguards.iter().map(|s| s.description.as_str()).collect();
            lowered.extend(single_line.as_deref());
            message.push_str(&format!(" (mitigated: {})", lowered.join("; ")));
        }
        let key_text = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
        let occurrence = seen.iter().filter(|k| **k == key_text).count();
        seen.push(key_text.clone());
        let mut key = format!("{}|{key_text}", run.route());
        if occurrence > 0 {
            key.push_str(&format!("#{}", occurrence + 1));
        }
        let mut finding = Finding::new(&META, file.path, run.span_of(start..start + trimmed.len()))
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(key)
            .property("step", step.label())
            .property("target", target)
            .property("context", source);
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        if let Some(note) = single_line {
            finding = finding.mitigation("single-line-value", note);
        }
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

fn safeguards(
    workflow: Option<&Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
) -> Vec<Safeguard> {
    let mut found = Vec::new();
    if let Some(job) = job {
        if let Some(condition) = &job.condition {
            found.extend(mitigations::condition_safeguards(
                condition.value,
                &format!("job `{}` `if:`", job.id.value),
            ));
        }
        found.extend(mitigations::environment(job));
        for earlier in job
            .steps
            .iter()
            .filter(|s| s.index < step.index && mitigations::checks_actor(s))
        {
            found.push(Safeguard::new(
                "maintainer-check",
                Effect::MaintainerCheck,
                format!(
                    "step `{}` verifies the actor and stops the job for outsiders first",
                    earlier.label()
                ),
            ));
        }
    }
    if let Some(condition) = &step.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("step `{}` `if:`", step.label()),
        ));
    }
    if let Some(workflow) = workflow {
        found.extend(mitigations::label_trigger(workflow));
        if let Some(job) = job {
            found.extend(mitigations::needs_gates(workflow, job));
            found.extend(mitigations::token(workflow, job));
        }
        let names: Vec<&str> = workflow.triggers.names().collect();
        if !names.is_empty() && names.iter().all(|n| UNPRIVILEGED.contains(n)) {
            found.push(Safeguard::new(
                "unprivileged-event",
                Effect::PathIsolation,
                format!(
                    "the workflow only runs for {}, where fork runs get a read-only token and no secrets",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join("/")
                ),
            ));
        }
    }
    found
}

/// Monotone: adding a safeguard never raises the result. (`PathIsolation` stands for the
/// unprivileged-event safeguard here.)
fn assess(base: Severity, safeguards: &[Safeguard]) -> Severity {
    let has = |effect: Effect| safeguards.iter().any(|s| s.effect == effect);
    if has(Effect::ForkGuard) || has(Effect::NoToken) {
        return Severity::Info;
    }
    let unprivileged = if has(Effect::PathIsolation) { 2 } else { 0 };
    let steps = mitigations::access_gate_steps(safeguards).max(unprivileged);
    let mut severity = base.downgrade(steps);
    if has(Effect::BotActor) {
        severity = severity.cap(Severity::High);
    }
    if has(Effect::ReadOnlyToken) {
        severity = severity.cap(Severity::Low);
    }
    severity
}

/// Sources GitHub keeps on one line: Git ref names cannot contain a newline, and titles are
/// single-line.
fn is_single_line(source: &str) -> bool {
    let path = source.split_whitespace().next().unwrap_or(source);
    [
        "head_ref",
        "head_branch",
        ".ref",
        ".label",
        ".title",
        "display_title",
        "page_name",
    ]
    .iter()
    .any(|suffix| path.ends_with(suffix))
}
