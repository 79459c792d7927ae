//! AZ-012: `system.debug: true` set in the pipeline.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::model::Unit;

pub const META: RuleMeta = RuleMeta {
    id: "AZ-012",
    name: "debug-tracing-enabled",
    title: "Debug tracing (`system.debug`) enabled in the pipeline",
    default_severity: Severity::Low,
    default_confidence: Confidence::High,
    description: "A variable `system.debug` is set to `true` in the YAML, at any level \
        (pipeline, stage, job, variable template), in mapping form (`system.debug: true`) or \
        list form (`- name: system.debug` / `value: true`). Every run then writes verbose \
        agent and task diagnostics to its log: full command lines, environment, HTTP \
        traffic of tasks; values not registered as secrets, and transformed secrets, end up \
        readable by everyone who can see the logs.\n\n\
        Severity: Low; confidence High (the value is literal). Not reported: `false`, \
        expressions, and debug enabled at queue time (\"Enable system diagnostics\"), which \
        the YAML cannot show. Confidence Low in a standalone template.",
    remediation: "Remove `system.debug: true` from the YAML; enable diagnostics for a single \
        run from the \"Run pipeline\" dialog when needed.",
    help_uri: "",
    tags: &["logging", "secrets"],
};

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for variable in &unit.all_variables {
        if !variable.name.trim().eq_ignore_ascii_case("system.debug") {
            continue;
        }
        let Some(value) = variable.value.as_str() else {
            continue;
        };
        if !value.trim().eq_ignore_ascii_case("true") {
            continue;
        }
        findings.push(
            Finding::new(&META, variable.path, variable.value.span)
                .confidence(super::context_confidence(unit, Confidence::High))
                .message(format!(
                    "`{}: {}` turns on verbose diagnostics for every run; their logs may show \
                     values that are not registered as secrets",
                    variable.name.trim(),
                    value.trim()
                ))
                .fingerprint_key(format!("{}|system.debug", variable.name_node.route)),
        );
    }
}
