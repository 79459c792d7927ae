//! GL-001: a merge request pipeline builds the merge request's code while secrets are in reach.

use sluice_pack_sdk::shell::{self, reeval};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use super::gl005_secrets_in_logs::is_secret_name;
use crate::exposure;
use crate::pipeline::variable_text;
use crate::scripts::{build_in_checkout, referenced_names, span_in};

pub const META: RuleMeta = RuleMeta {
    id: "GL-001",
    name: "mr-pipeline-secrets",
    title: "Merge request pipeline runs merge request code with access to secrets",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Medium,
    description: include_str!("gl001_mr_pipeline_secrets.md"),
    remediation: "Keep secrets out of merge request pipelines: mark variables protected \
        (only protected branches and tags see them), split jobs that need credentials into \
        jobs that run on the default branch, and admit only same-project merge requests \
        where credentials are unavoidable.",
    help_uri: "",
    tags: &["untrusted-code", "secrets"],
};

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    if !context.exposure.on_mr() {
        return;
    }
    let Some((at, range, build)) = build_in_checkout(&job.script_lines()) else {
        return;
    };
    let mut secrets: Vec<String> = Vec::new();
    if job.config.get("secrets").is_some() {
        secrets.push("Vault `secrets:`".to_owned());
    }
    if job.config.get("id_tokens").is_some() {
        secrets.push("`id_tokens:`".to_owned());
    }
    for (_, value) in &job.variables {
        if let Some((_, text)) = variable_text(value)
            && let Some(name) = referenced_names(text)
                .into_iter()
                .find(|n| is_secret_name(n))
            && name != "CI_JOB_TOKEN"
        {
            secrets.push(format!("`${name}`"));
            break;
        }
    }
    'lines: for (_, line) in job.script_lines() {
        let Some(script) = line.node.as_str() else {
            continue;
        };
        for command in shell::commands(script) {
            for word in &command.words {
                if let Some(r) = reeval::expanded_refs(word.raw, word.range.start)
                    .into_iter()
                    .find(|r| is_secret_name(&r.name) && r.name != "CI_JOB_TOKEN")
                {
                    secrets.push(format!("`${}`", r.name));
                    break 'lines;
                }
            }
        }
    }
    let severity = if secrets.is_empty() {
        Severity::Medium
    } else {
        Severity::High
    };
    let with = if secrets.is_empty() {
        String::new()
    } else {
        format!(" while it handles {}", secrets.join(", "))
    };
    let mut finding = Finding::new(&META, at.path, span_in(&at, range))
        .severity(severity)
        .confidence(Confidence::High)
        .message(format!(
            "job `{}` {} and runs `{build}` on the merge request's code{with}",
            job.name,
            exposure::describe(context.exposure)
        ))
        .fingerprint_key(format!("{}|{build}", at.route()))
        .property("job", job.name);
    if let Some(admitted) = context.exposure.admitted_by {
        finding = finding.related(
            admitted.path,
            admitted.span(),
            "admits merge request pipelines",
        );
    }
    findings.push(exposure::apply_gates(finding, context.exposure));
}
