//! AZ-012: `system.debug: true` set in the pipeline.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::expressions::sole_parameter;
use crate::model::Unit;
use crate::model::params::{Origin, Resolved};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-012",
    name: "debug-tracing-enabled",
    title: "Debug tracing (`system.debug`) enabled in the pipeline",
    default_severity: Severity::Low,
    default_confidence: Confidence::High,
    description: include_str!("az012_debug_tracing.md"),
    remediation: "Remove `system.debug: true` from the YAML; enable diagnostics for a single \
        run from the \"Run pipeline\" dialog when needed.",
    help_uri: "",
    tags: &["logging", "secrets"],
};

fn is_true(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true")
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for variable in &unit.all_variables {
        if !variable.name.trim().eq_ignore_ascii_case("system.debug") {
            continue;
        }
        let Some(value) = variable.value.as_str() else {
            continue;
        };
        // `value: ${{ parameters.debug }}`: the value a caller writes, or a runtime
        // parameter's default (what every run uses unless someone changes it when queuing).
        let mut confidence = Confidence::High;
        let mut note = String::new();
        if let Some(name) = sole_parameter(value) {
            match variable.params.resolve(name) {
                Resolved::Value(supplied) => {
                    if !supplied.loc.node.as_str().is_some_and(is_true) {
                        continue;
                    }
                    note = format!(" (parameter `{name}` is `true` in {})", supplied.loc.path);
                }
                Resolved::Unknown(Some(declaration), Origin::Pipeline)
                    if declaration
                        .default
                        .and_then(|d| d.as_str())
                        .is_some_and(is_true) =>
                {
                    confidence = Confidence::Medium;
                    note = format!(" (runtime parameter `{name}` defaults to `true`)");
                }
                Resolved::Unknown(..) => continue,
            }
        } else if !is_true(value) {
            continue;
        }
        findings.push(
            Finding::new(&META, variable.path, variable.value.span)
                .confidence(super::context_confidence(unit, confidence))
                .message(format!(
                    "`{}: {}`{note} turns on verbose diagnostics for every run; their logs may \
                     show values that are not registered as secrets",
                    variable.name.trim(),
                    value.trim()
                ))
                .fingerprint_key(format!("{}|system.debug", variable.name_node.route)),
        );
    }
}
