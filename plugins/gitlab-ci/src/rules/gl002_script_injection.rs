//! GL-002: text substituted into a script before the shell parses it.

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure;
use crate::scripts::{input_refs, span_in};
use crate::sources;

pub const META: RuleMeta = RuleMeta {
    id: "GL-002",
    name: "script-injection",
    title: "Script injection: attacker-influenced text evaluated as shell code",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl002_script_injection.md"),
    remediation: "Pass inputs through a variable instead of interpolating them \
        (`variables: TITLE: $[[ inputs.title ]]` then `\"$TITLE\"` in the script), declare \
        `options:`/`type:` for inputs, and never `eval` or `sh -c` text built from commit or \
        merge request metadata.",
    help_uri: "",
    tags: &["injection"],
};

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    for (section, at) in job.script_lines() {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        let file = context.files.get(at.path);
        for input in input_refs(script) {
            if file.is_some_and(|f| !f.input_is_free_text(&input.name)) {
                continue;
            }
            let text = &script[input.range.clone()];
            findings.push(
                Finding::new(&META, at.path, span_in(&at, input.range.clone()))
                    .message(format!(
                        "job `{}` interpolates `{text}` into its {section}: GitLab substitutes \
                         the input before the shell parses the script",
                        job.name
                    ))
                    .fingerprint_key(format!("{}|{text}", at.route()))
                    .property("job", job.name)
                    .property("input", input.name.clone()),
            );
        }
        for hit in reeval::find(script, |name| sources::attacker_source(job, name).is_some()) {
            let Some(source) = sources::attacker_source(job, &hit.variable) else {
                continue;
            };
            let mut severity = if context.exposure.on_mr() {
                Severity::High
            } else {
                Severity::Medium
            };
            if source.needs_push_rights {
                severity = severity.downgrade(1);
            }
            let alias = if hit.variable == source.name {
                String::new()
            } else {
                format!(" (an alias of `{}`)", source.name)
            };
            let mut finding = Finding::new(&META, at.path, span_in(&at, hit.range.clone()))
                .severity(severity)
                .confidence(Confidence::High)
                .message(format!(
                    "job `{}` uses `${}`{alias}, {}, in its {section}, where {}",
                    job.name, hit.variable, source.why, hit.how
                ))
                .fingerprint_key(format!("{}|{}|{}", at.route(), hit.variable, hit.how))
                .property("job", job.name)
                .property("source", source.name);
            if context.exposure.on_mr() {
                finding = exposure::apply_gates(finding, context.exposure);
            }
            findings.push(finding);
        }
    }
}
