//! GL-012: `CI_DEBUG_TRACE` / `CI_DEBUG_SERVICES` switched on in the configuration.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::model::{At, Val};
use crate::pipeline::{FileConfig, variable_text};

pub const META: RuleMeta = RuleMeta {
    id: "GL-012",
    name: "debug-trace-enabled",
    title: "Debug tracing enabled: every variable is printed to the job log",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl012_debug_trace.md"),
    remediation: "Remove the variable from the configuration. To debug, set it for one \
        manual run from the UI (Run pipeline → variables), then delete the log.",
    help_uri: "",
    tags: &["secrets", "logging"],
};

const DEBUG_VARIABLES: &[&str] = &["CI_DEBUG_TRACE", "CI_DEBUG_SERVICES"];

fn report(key: &At<'_>, value: &Val<'_>, place: &str, findings: &mut Vec<Finding>) {
    let Some(name) = key.node.as_str() else {
        return;
    };
    if !DEBUG_VARIABLES.contains(&name) {
        return;
    }
    let Some((at, text)) = variable_text(value) else {
        return;
    };
    if !text.trim().eq_ignore_ascii_case("true") {
        return;
    }
    findings.push(
        Finding::new(&META, at.path, at.span())
            .message(format!(
                "{place} sets `{name}: \"true\"`, which prints every variable of the job, \
                 secrets included, into the job log"
            ))
            .fingerprint_key(format!("{}|{name}", at.route())),
    );
}

pub fn check_file(file: &FileConfig<'_>, findings: &mut Vec<Finding>) {
    for document in &file.documents {
        let root = Val::from_node(file.path, document);
        if let Some(variables) = root.get("variables") {
            for (key, value) in variables.entries() {
                report(key, value, "the top-level `variables:`", findings);
            }
        }
    }
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    if let Some(variables) = job.config.get("variables") {
        for (key, value) in variables.entries() {
            report(key, value, &format!("job `{}`", job.name), findings);
        }
    }
}
