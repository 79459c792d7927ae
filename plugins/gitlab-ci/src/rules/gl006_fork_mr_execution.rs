//! GL-006: a job explicitly fetches, checks out or merges the merge request's source branch.

use sluice_pack_sdk::shell::{self, reeval};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure;
use crate::pipeline::Job;
use crate::scripts::{build_command, referenced_names, span_in};

pub const META: RuleMeta = RuleMeta {
    id: "GL-006",
    name: "fork-mr-execution",
    title: "Job fetches and runs the merge request source branch",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl006_fork_mr_execution.md"),
    remediation: "Do not fetch merge request sources into jobs that hold credentials; let \
        GitLab's own checkout run the merge request pipeline, keep credentials protected, and \
        run anything that needs secrets after merge, on the default branch.",
    help_uri: "",
    tags: &["untrusted-code"],
};

const MR_SOURCE_VARIABLES: &[&str] = &[
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "CI_MERGE_REQUEST_REF_PATH",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_URL",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH",
    "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
    "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA",
];

fn mr_source(job: &Job<'_>, name: &str) -> Option<&'static str> {
    if let Some(found) = MR_SOURCE_VARIABLES.iter().find(|v| **v == name) {
        return Some(found);
    }
    let (_, value) = job.variable(name)?;
    referenced_names(value)
        .iter()
        .find_map(|n| MR_SOURCE_VARIABLES.iter().find(|v| *v == n).copied())
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    let lines = job.script_lines();
    for (index, (section, at)) in lines.iter().enumerate() {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        for command in shell::commands(script) {
            if command.program().is_none_or(|p| p.text != "git") {
                continue;
            }
            let args = command.args();
            let Some(sub) = args.first().map(|a| a.text.as_str()) else {
                continue;
            };
            if !matches!(
                sub,
                "fetch" | "checkout" | "switch" | "merge" | "pull" | "clone"
            ) {
                continue;
            }
            let by_variable = args.iter().find_map(|w| {
                reeval::expanded_refs(w.raw, w.range.start)
                    .into_iter()
                    .find_map(|r| mr_source(job, &r.name).map(|s| (format!("${}", r.name), s)))
            });
            // `git fetch origin merge-requests/$CI_MERGE_REQUEST_IID/head`: the MR's head ref.
            let by_ref = || {
                args.iter()
                    .find(|w| w.text.contains("merge-requests/") && w.text.contains("/head"))
                    .map(|w| (w.text.clone(), "refs/merge-requests/<iid>/head"))
            };
            let Some((reference, source)) = by_variable.or_else(by_ref) else {
                continue;
            };
            let from_fork = source.contains("SOURCE_PROJECT");
            if !context.exposure.on_mr() && !from_fork {
                continue;
            }
            // Build commands after the checkout, in this line or a later one.
            let rest = &script[command.range.end..];
            let build = build_command(rest).map(|(_, t)| t).or_else(|| {
                lines[index + 1..]
                    .iter()
                    .find_map(|(_, l)| build_command(l.node.as_str()?).map(|(_, t)| t))
            });
            let severity = if build.is_some() {
                Severity::High
            } else {
                Severity::Medium
            };
            let then = build
                .map(|b| format!(" and then runs `{b}`"))
                .unwrap_or_default();
            let mut finding = Finding::new(&META, at.path, span_in(at, command.range.clone()))
                .severity(severity)
                .message(format!(
                    "job `{}` runs `git {sub}` on `{reference}` in its {section}{then}",
                    job.name
                ))
                .fingerprint_key(format!("{}|{}", at.route(), command.text()))
                .property("job", job.name)
                .property("source", source);
            if context.exposure.on_mr() {
                finding = exposure::apply_gates(finding, context.exposure);
            }
            findings.push(finding);
        }
    }
}
