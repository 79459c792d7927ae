//! AZ-002: attacker-controlled text substituted into a script before the shell runs it.

use std::collections::HashMap;

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::expressions::{
    context_names, is_text_valued, macros, runtime_body, runtime_expressions, template_body,
    template_expressions,
};
use crate::mitigations::{self, PrGate};
use crate::model::params::{Origin, Resolved};
use crate::model::steps::ScriptText;
use crate::model::{Job, PrTrigger, Step, Unit, describe_job};
use crate::sources::{self, Control, Source};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-002",
    name: "script-injection",
    title: "Script injection: attacker-controlled text substituted into a script",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("az002_script_injection.md"),
    remediation: "Map the value into the step's environment (`env: BRANCH: \
        $(Build.SourceBranchName)`) and use it as a shell variable (`\"$BRANCH\"`, \
        `$env:BRANCH`); never pass it to `eval` or `bash -c`. Give template parameters a \
        `values:` list or a non-string type when they do not need free text.",
    help_uri: "",
    tags: &["injection", "pull-request"],
};

/// Where tainted text comes from, for severity and the message.
#[derive(Debug, Clone)]
enum Origin2 {
    Source(&'static Source),
    Parameter { name: String, origin: Origin },
}

/// Variables of the job whose value carries a source (`BRANCH: $(Build.SourceBranchName)`).
fn aliases(job: &Job<'_>) -> HashMap<String, &'static Source> {
    let mut tainted: HashMap<String, &'static Source> = HashMap::new();
    // Aliases of aliases: a few rounds settle any realistic chain.
    for _ in 0..3 {
        for variable in &job.variables {
            let Some(text) = variable.value.as_str() else {
                continue;
            };
            if let Some(source) = source_in(text, &tainted) {
                tainted
                    .entry(variable.name.to_ascii_lowercase())
                    .or_insert(source);
            }
        }
    }
    tainted
}

/// The first source a text substitutes (macro or template expression), aliases included.
fn source_in(text: &str, aliases: &HashMap<String, &'static Source>) -> Option<&'static Source> {
    for m in macros(text) {
        if let Some(source) = lookup(m.name, aliases) {
            return Some(source);
        }
    }
    for range in template_expressions(text) {
        let expression = &text[range];
        if !is_text_valued(template_body(expression)) {
            continue;
        }
        for (_, name) in context_names(expression, "variables") {
            if let Some(source) = lookup(name, aliases) {
                return Some(source);
            }
        }
    }
    // `BRANCH: $[ variables['Build.SourceBranchName'] ]` copies the text at run time.
    for range in runtime_expressions(text) {
        let expression = &text[range];
        if !is_text_valued(runtime_body(expression)) {
            continue;
        }
        for (_, name) in context_names(expression, "variables") {
            if let Some(source) = lookup(name, aliases) {
                return Some(source);
            }
        }
    }
    None
}

fn lookup(name: &str, aliases: &HashMap<String, &'static Source>) -> Option<&'static Source> {
    sources::source(name).or_else(|| aliases.get(&name.to_ascii_lowercase()).copied())
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        let aliases = aliases(job);
        for step in &job.steps {
            for script in step.scripts() {
                check_script(unit, job, step, script, &aliases, findings);
            }
        }
    }
}

fn check_script(
    unit: &Unit<'_>,
    job: &Job<'_>,
    step: &Step<'_>,
    script: ScriptText<'_>,
    aliases: &HashMap<String, &'static Source>,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = script.node.as_str() else {
        return;
    };
    let mut hits: Vec<(std::ops::Range<usize>, String, Origin2, Option<String>)> = Vec::new();
    for m in macros(text) {
        if let Some(source) = sources::source(m.name) {
            hits.push((
                m.range.clone(),
                format!("$({})", m.name),
                Origin2::Source(source),
                None,
            ));
        } else if let Some(source) = aliases.get(&m.name.to_ascii_lowercase()) {
            hits.push((
                m.range.clone(),
                format!("$({})", m.name),
                Origin2::Source(source),
                Some(format!("variable `{}` holds `{}`", m.name, source.name)),
            ));
        }
    }
    for range in template_expressions(text) {
        let expression = &text[range.clone()];
        // `${{ eq(variables['Build.SourceBranchName'], 'main') }}` inserts `True`/`False`.
        if !is_text_valued(template_body(expression)) {
            continue;
        }
        for (_, name) in context_names(expression, "variables") {
            if let Some(source) = lookup(name, aliases) {
                hits.push((
                    range.clone(),
                    expression.to_owned(),
                    Origin2::Source(source),
                    None,
                ));
            }
        }
        for (_, name) in context_names(expression, "parameters") {
            match step.params.resolve(name) {
                Resolved::Value(value) => {
                    if let Some(passed) = value.loc.node.as_str()
                        && let Some(source) = source_in(passed, aliases)
                    {
                        hits.push((
                            range.clone(),
                            expression.to_owned(),
                            Origin2::Source(source),
                            Some(format!(
                                "parameter `{name}` is passed `{}` in {}",
                                passed.trim(),
                                value.loc.path
                            )),
                        ));
                    }
                }
                Resolved::Unknown(declaration, origin) => {
                    if declaration.is_none_or(|d| d.is_free_text()) {
                        hits.push((
                            range.clone(),
                            expression.to_owned(),
                            Origin2::Parameter {
                                name: name.to_owned(),
                                origin,
                            },
                            None,
                        ));
                    }
                }
            }
        }
    }
    // Environment forms are data unless evaluated again.
    let mut tracked: HashMap<String, &'static Source> = HashMap::new();
    for (key, value) in step.env() {
        if let (Some(name), Some(value)) = (key.as_str(), value.as_str())
            && let Some(source) = source_in(value, aliases)
        {
            tracked.insert(name.to_ascii_uppercase(), source);
        }
    }
    for (name, source) in aliases {
        tracked.insert(sources::env_name(name), source);
    }
    for reevaluation in reeval::find(text, |variable| {
        sources::source_by_env_name(variable).is_some()
            || tracked.contains_key(&variable.to_ascii_uppercase())
    }) {
        let variable = reevaluation.variable.clone();
        let Some(source) = sources::source_by_env_name(&variable)
            .or_else(|| tracked.get(&variable.to_ascii_uppercase()).copied())
        else {
            continue;
        };
        let written = text
            .get(reevaluation.range.clone())
            .unwrap_or(&variable)
            .to_owned();
        hits.push((
            reevaluation.range,
            written,
            Origin2::Source(source),
            Some(format!("evaluated again by {}", reevaluation.how)),
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for (range, written, origin, via) in hits {
        report(
            unit, job, step, script, range, &written, &origin, via, &mut seen, findings,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    unit: &Unit<'_>,
    job: &Job<'_>,
    step: &Step<'_>,
    script: ScriptText<'_>,
    range: std::ops::Range<usize>,
    written: &str,
    origin: &Origin2,
    via: Option<String>,
    seen: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) {
    let node: &Node = script.node;
    let occurrence = seen.iter().filter(|w| *w == written).count();
    seen.push(written.to_owned());
    let mut key = format!("{}|{written}", node.route);
    if occurrence > 0 {
        key.push_str(&format!("#{}", occurrence + 1));
    }
    let pr_may_run = unit.triggers.pr.may_run();
    let (mut severity, mut confidence, what) = match origin {
        Origin2::Source(source) => {
            let severity = match source.control {
                Control::PullRequestAuthor if pr_may_run => Severity::High,
                Control::PullRequestAuthor | Control::Contributor => Severity::Medium,
                Control::Restricted => Severity::Low,
            };
            let confidence =
                if source.pull_request_only && matches!(unit.triggers.pr, PrTrigger::Disabled(_)) {
                    Confidence::Low
                } else {
                    Confidence::High
                };
            (
                severity,
                confidence,
                format!("`{}` ({})", source.name, source.why),
            )
        }
        Origin2::Parameter { name, origin } => {
            let who = match origin {
                Origin::Pipeline => "whoever queues the run chooses it",
                Origin::Template | Origin::StandaloneTemplate => {
                    "whoever calls the template chooses it"
                }
            };
            (
                Severity::Medium,
                Confidence::Medium,
                format!("free-text parameter `{name}` ({who})"),
            )
        }
    };
    let mut finding = Finding::new(&META, step.path, super::span_in(node, range.clone()));
    if severity == Severity::High
        && let Some((PrGate::ExcludesPullRequests, condition)) =
            mitigations::strongest(&step.conditions)
    {
        severity = Severity::Medium;
        finding = finding.mitigation(
            "pr-excluded-condition",
            format!(
                "`{}` keeps pull-request builds out; pushers still control the text",
                condition.text.trim()
            ),
        );
    }
    confidence = super::context_confidence(unit, confidence);
    let via_text = via.map(|v| format!(" ({v})")).unwrap_or_default();
    let kind = if script.inline {
        "script"
    } else {
        "command-line arguments"
    };
    let message = format!(
        "step `{}` of {} substitutes `{written}`{via_text} into its {kind} (`{}`) before the \
         shell parses it: {what}",
        step.label(),
        describe_job(job),
        script.key,
    );
    findings.push(
        finding
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(key)
            .property("job", job.id.clone())
            .property("expression", written.to_owned()),
    );
}
