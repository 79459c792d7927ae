//! CC-002: attacker-controlled text substituted into a `run` script before the shell runs.

use std::collections::HashMap;

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{FileContext, apply_gates};
use crate::expansion::{JobInstance, RunSite};
use crate::exposure::Exposure;
use crate::expressions;
use crate::sources;
use crate::taint::{self, Origin};

pub const META: RuleMeta = RuleMeta {
    id: "CC-002",
    name: "script-injection",
    title: "Script injection: attacker-controlled text substituted into a run script",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("cc002_script_injection.md"),
    remediation: "Pass the value through the environment and quote it: \
        `environment: {BRANCH: << pipeline.git.branch >>}` then `echo \"$BRANCH\"`, or use \
        `$CIRCLE_BRANCH` directly. Never `eval` it or pass it to `sh -c`. Give parameters a \
        narrow `type` (`enum`, `boolean`) when they select behaviour.",
    help_uri: "",
    tags: &["injection"],
};

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for instance in &file.expansion.jobs {
        for site in &instance.runs {
            check_site(file, Some(instance), site, findings);
        }
    }
    for site in &file.expansion.orphan_runs {
        check_site(file, None, site, findings);
    }
}

fn check_site(
    file: &FileContext<'_, '_, '_>,
    instance: Option<&JobInstance<'_, '_>>,
    site: &RunSite<'_, '_>,
    findings: &mut Vec<Finding>,
) {
    let Some(command) = site.run.command else {
        return;
    };
    let place = place(instance, site);
    let exposure = site.exposure(&instance.map(|i| i.exposure.clone()).unwrap_or_default());
    let exposure = &exposure;
    for expression in expressions::find(command.value) {
        let origins = taint::origins(file.config, &expression, &site.env);
        let Some(origin) = taint::worst(&origins) else {
            continue;
        };
        let written = &command.value[expression.range.clone()];
        let mut finding = Finding::new(&META, file.path, command.span_of(expression.range.clone()))
            .severity(origin.severity)
            .confidence(origin.confidence)
            .message(format!(
                "{place} substitutes `{written}` into its `run` script before the shell \
                 runs; its value is {}",
                origin.what
            ))
            .fingerprint_key(format!("{}|{written}", command.route()))
            .property("expression", expression.content);
        // Outermost binding first: the order a reader follows from the workflow inwards.
        for (span, what) in &origin.bindings {
            finding = finding.related(file.path, *span, what.clone());
        }
        if origin.from_forks {
            finding = apply_gates(finding, exposure, 1);
        }
        findings.push(with_context(finding, instance, site));
    }
    check_reevaluation(file, instance, site, exposure, &place, findings);
}

/// `$CIRCLE_BRANCH` and aliases of attacker text that the script evaluates a second time.
fn check_reevaluation(
    file: &FileContext<'_, '_, '_>,
    instance: Option<&JobInstance<'_, '_>>,
    site: &RunSite<'_, '_>,
    exposure: &Exposure,
    place: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(command) = site.run.command else {
        return;
    };
    let mut aliases: HashMap<&str, (Origin, &Node)> = HashMap::new();
    let job_variables = instance
        .and_then(|i| i.job)
        .and_then(|(_, job)| job.runs_on.variables);
    for variables in [job_variables, site.run.environment].into_iter().flatten() {
        let Some(mapping) = variables.as_mapping() else {
            continue;
        };
        for (key, value) in mapping.iter() {
            let (Some(name), origins) = (
                key.as_str(),
                taint::node_origins(file.config, value, &site.env),
            ) else {
                continue;
            };
            if let Some(origin) = taint::worst(&origins) {
                aliases.insert(name, (origin.clone(), key));
            }
        }
    }
    let tracked =
        |name: &str| aliases.contains_key(name) || sources::environment_variable(name).is_some();
    for hit in reeval::find(command.value, tracked) {
        let (severity, confidence, what, from_forks, alias_key) =
            match aliases.get(hit.variable.as_str()) {
                Some((origin, key)) => (
                    origin.severity,
                    origin.confidence,
                    format!("set from {}", origin.what),
                    origin.from_forks,
                    Some(*key),
                ),
                None => match sources::environment_variable(&hit.variable) {
                    Some(source) => (
                        source.severity,
                        Confidence::High,
                        source.why.to_owned(),
                        source.severity == Severity::High,
                        None,
                    ),
                    None => continue,
                },
            };
        let mut finding = Finding::new(&META, file.path, command.span_of(hit.range.clone()))
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "{place} evaluates `${}` a second time ({}); its value is {what}",
                hit.variable, hit.how
            ))
            .fingerprint_key(format!("{}|reeval|{}", command.route(), hit.variable))
            .property("variable", hit.variable.clone());
        if let Some(key) = alias_key {
            finding = finding.related(
                file.path,
                key.span,
                format!(
                    "`{}` is set from attacker-controlled text here",
                    hit.variable
                ),
            );
        }
        if from_forks {
            finding = apply_gates(finding, exposure, 1);
        }
        findings.push(with_context(finding, instance, site));
    }
}

/// "job `build` (workflow `main`), in command `greet`," for messages.
fn place(instance: Option<&JobInstance<'_, '_>>, site: &RunSite<'_, '_>) -> String {
    let mut place = match instance.filter(|i| !i.label.is_empty()) {
        Some(instance) => format!("job `{}`", instance.label),
        None => "the configuration".to_owned(),
    };
    if let Some(first) = site.via.first() {
        place.push_str(&format!(" in command `{first}`"));
        for inner in &site.via[1..] {
            place.push_str(&format!(" → `{inner}`"));
        }
    }
    place
}

fn with_context(
    mut finding: Finding,
    instance: Option<&JobInstance<'_, '_>>,
    site: &RunSite<'_, '_>,
) -> Finding {
    if let Some(instance) = instance.filter(|i| !i.label.is_empty()) {
        finding = finding.property("job", instance.label.clone());
    }
    if !site.via.is_empty() {
        finding = finding.property("command", site.via.join(" > "));
    }
    finding
}
