//! FG-002: attacker-controlled expressions expanded into `run:` scripts.

use sluice_pack_sdk::expr;
use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::contexts::{self, Tainted, Tier};
use crate::model::{Definition, Job, Step, Text, Workflow};
use crate::repository::{self, Reached};
use crate::taint::is_non_text_input;

pub const META: RuleMeta = RuleMeta {
    id: "FG-002",
    name: "script-injection",
    title: "Script injection: attacker-controlled expression expanded into a shell script",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg002_script_injection.md"),
    remediation: "Pass the value through an environment variable and quote it in the script:\n\n\
        ```yaml\n- env:\n    TITLE: ${{ github.event.issue.title }}\n  run: echo \"$TITLE\"\n```",
    help_uri: "",
    tags: &["injection"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let workflow = file.definition.as_workflow();
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if let Some(run) = step.run {
                check_script(file, workflow, job, step, run, findings);
                check_reevaluated_env(file, workflow, job, step, run, findings);
            }
            // Only calls that pass attacker text are followed; a nested call that passes its
            // own is found when its file is checked.
            if step.uses.is_some() && !repository::bind(&step.with, &[]).is_empty() {
                let reached = file.repository.expand_action(file.path, step, &[]);
                check_reached(file, job, &reached, findings);
            }
        }
    }
    if let Some(workflow) = workflow {
        for job in workflow
            .jobs
            .iter()
            .filter(|job| job.uses.is_some() && !repository::bind(&job.with, &[]).is_empty())
        {
            let reached = file.repository.expand_workflow_call(file.path, job, &[]);
            check_reached(file, Some(job), &reached, findings);
        }
    }
}

/// Attacker-controlled values passed through `with:` to a local composite action or reusable
/// workflow and expanded there as `${{ inputs.x }}` in a `run:` script. Reported at the
/// expansion, with every call on the way as a related location.
fn check_reached(
    file: &FileContext<'_, '_>,
    job: Option<&Job<'_>>,
    reached: &[Reached<'_, '_>],
    findings: &mut Vec<Finding>,
) {
    // One finding per expansion site, however many call paths lead to it.
    let mut reported: Vec<(&str, u32, usize)> = Vec::new();
    for reached in reached.iter().filter(|r| !r.bindings.is_empty()) {
        let Some(run) = reached.step.run else {
            continue;
        };
        let mut seen: Vec<String> = Vec::new();
        for expression in expr::find_expressions(run.value) {
            let site = (reached.path, run.span().start_byte, expression.range.start);
            if reported.contains(&site) {
                continue;
            }
            let Some(binding) = expr::context_refs(expression.text)
                .iter()
                .filter(|r| contexts::is_text_position(expression.text, r))
                .find_map(|r| repository::bound_input(&r.path, &reached.bindings))
            else {
                continue;
            };
            let normalised: String = expression
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let occurrence = seen.iter().filter(|e| **e == normalised).count();
            seen.push(normalised.clone());
            let chain: Vec<String> = reached
                .chain
                .iter()
                .map(|link| format!("{}:{}", link.path, link.route))
                .collect();
            let mut key = format!(
                "{}|{}:{}|{normalised}",
                chain.join(">"),
                reached.path,
                run.route()
            );
            if occurrence > 0 {
                key.push_str(&format!("#{}", occurrence + 1));
            }
            let place = match reached.job {
                Some(called) => format!(
                    "step `{}` of job `{}`",
                    reached.step.label(),
                    called.id.value
                ),
                None => format!("step `{}`", reached.step.label()),
            };
            let caller = match job {
                Some(job) => format!("job `{}` of `{}`", job.id.value, file.path),
                None => format!("`{}`", file.path),
            };
            let message = format!(
                "`${{{{ {} }}}}` expands attacker-controlled `{}` (passed by {caller}) into the \
                 `run:` script of {place}",
                expression.text, binding.context
            );
            reported.push(site);
            let mut finding =
                Finding::new(&META, reached.path, run.span_of(expression.range.clone()))
                    .severity(Severity::High)
                    .confidence(Confidence::High)
                    .message(message)
                    .fingerprint_key(key);
            for link in &reached.chain {
                finding = finding.related(
                    link.path.clone(),
                    link.span,
                    format!("`uses: {}` passes `{}` to it", link.uses, binding.context),
                );
            }
            if let Some(job) = job {
                finding = finding.property("job", job.id.value);
            }
            if let Some(called) = reached.job {
                finding = finding.property("called-job", called.id.value);
            }
            findings.push(
                finding
                    .property("step", reached.step.label())
                    .property("context", binding.context.clone())
                    .property("via", file.path),
            );
        }
    }
}

/// The strongest tainted reference of one expression.
struct Source {
    path: String,
    tier: Tier,
    /// Every tainted context the reference covers (several for `toJSON(github.event)`).
    tainted: Vec<&'static Tainted>,
    /// Serialised whole rather than a single field.
    dumped: bool,
}

fn check_script(
    file: &FileContext<'_, '_>,
    workflow: Option<&Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    run: Text<'_>,
    findings: &mut Vec<Finding>,
) {
    let mut seen: Vec<String> = Vec::new();
    for expression in expr::find_expressions(run.value) {
        let Some(source) = strongest_source(expression.text, workflow) else {
            continue;
        };
        let normalised: String = expression
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let occurrence = seen.iter().filter(|e| **e == normalised).count();
        seen.push(normalised.clone());
        let mut key = format!("{}|{normalised}", run.route());
        if occurrence > 0 {
            // The same expression twice in one script: both are findings, and each needs its
            // own identity for baselines.
            key.push_str(&format!("#{}", occurrence + 1));
        }

        let reachable = source
            .tainted
            .iter()
            .any(|t| is_reachable(t, file.definition, workflow));
        let (severity, confidence, who) = match source.tier {
            Tier::Anyone => (
                Severity::High,
                if reachable {
                    Confidence::High
                } else {
                    Confidence::Low
                },
                "attacker-controlled",
            ),
            Tier::TriggerAccess => (
                Severity::Medium,
                if reachable {
                    Confidence::Medium
                } else {
                    Confidence::Low
                },
                "caller-controlled",
            ),
        };
        let place = match job {
            Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
            None => format!("step `{}`", step.label()),
        };
        let what = if source.dumped {
            format!("`{}`, which contains {who} text,", source.path)
        } else {
            format!("{who} `{}`", source.path)
        };
        let mut message = format!(
            "`${{{{ {} }}}}` expands {what} into the `run:` script of {place}",
            expression.text
        );
        if source.tier == Tier::TriggerAccess {
            message.push_str(" (whoever can trigger the workflow or call it chooses the value)");
        }
        if !reachable {
            message.push_str(" (no trigger of this workflow sets it)");
        }
        let mut finding = Finding::new(&META, file.path, run.span_of(expression.range.clone()))
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(key);
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        findings.push(
            finding
                .property("step", step.label())
                .property("context", source.path),
        );
    }
}

/// An `env:` variable holding attacker-controlled text is data to the shell (`"$TITLE"` is
/// safe) until the script evaluates it a second time: `eval "$TITLE"`, `bash -c "… $TITLE"`.
fn check_reevaluated_env(
    file: &FileContext<'_, '_>,
    workflow: Option<&Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    run: Text<'_>,
    findings: &mut Vec<Finding>,
) {
    // Innermost scope wins, as GitHub resolves `env:`.
    let scopes = [Some(step.env), job.map(|j| j.env), workflow.map(|w| w.env)];
    let binding = |name: &str| {
        scopes.iter().flatten().find_map(|env| {
            let value = env.text(name)?;
            let key = env.iter().find(|(k, _)| k.value == name)?.0;
            Some((key, value))
        })
    };
    let tainted_source = |name: &str| {
        let (_, value) = binding(name)?;
        expr::find_expressions(value.value)
            .iter()
            .filter_map(|e| strongest_source(e.text, workflow))
            .max_by_key(|source| source.tier)
    };
    let mut seen: Vec<String> = Vec::new();
    for hit in reeval::find(run.value, |name| tainted_source(name).is_some()) {
        let (Some(source), Some((key, _))) =
            (tainted_source(&hit.variable), binding(&hit.variable))
        else {
            continue;
        };
        let (severity, who) = match source.tier {
            Tier::Anyone => (Severity::High, "attacker-controlled"),
            Tier::TriggerAccess => (Severity::Medium, "caller-controlled"),
        };
        let place = match job {
            Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
            None => format!("step `{}`", step.label()),
        };
        let reference = run.value.get(hit.range.clone()).unwrap_or_default();
        let mut finding = Finding::new(&META, file.path, run.span_of(hit.range.clone()))
            .severity(severity)
            .confidence(Confidence::High)
            .message(format!(
                "`{reference}` holds {who} `{}` and {} in {place}",
                source.path, hit.how
            ))
            .fingerprint_key({
                let base = format!("{}|reeval|{}|{}", run.route(), hit.variable, hit.how);
                let occurrence = seen.iter().filter(|k| **k == base).count();
                seen.push(base.clone());
                if occurrence > 0 {
                    format!("{base}#{}", occurrence + 1)
                } else {
                    base
                }
            })
            .related(
                file.path,
                key.span(),
                format!("`{}` is set from `{}` here", hit.variable, source.path),
            );
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        findings.push(
            finding
                .property("step", step.label())
                .property("context", source.path),
        );
    }
}

/// The most dangerous tainted context an expression's text result carries, if any.
fn strongest_source(expression: &str, workflow: Option<&Workflow<'_>>) -> Option<Source> {
    expr::context_refs(expression)
        .iter()
        .filter(|r| contexts::is_text_position(expression, r))
        .filter(|r| !is_non_text_input(r, workflow))
        .filter_map(|reference| {
            let dumped = contexts::is_dumped(expression, reference);
            let tainted = contexts::tainted(&reference.path, dumped);
            let tier = tainted.iter().map(|t| t.tier).max()?;
            // A dump names a parent object; a field that is itself tainted is not a dump.
            let whole = dumped
                && tainted
                    .iter()
                    .all(|t| t.path.split('.').count() > reference.path.split('.').count());
            Some(Source {
                path: reference.path.clone(),
                tier,
                tainted,
                dumped: whole,
            })
        })
        .max_by_key(|source| source.tier)
}

/// Whether some trigger of the workflow fills the context. Reusable workflows and composite
/// actions run for whatever event their caller had, so they always may.
fn is_reachable(
    tainted: &Tainted,
    definition: &Definition<'_>,
    workflow: Option<&Workflow<'_>>,
) -> bool {
    let Some(workflow) = workflow else {
        return matches!(definition, Definition::Action(_));
    };
    if tainted.events.is_empty() || workflow.triggers.events.is_empty() {
        return true;
    }
    workflow
        .triggers
        .names()
        .any(|name| name == "workflow_call" || tainted.events.contains(&name))
}
