//! FG-032: runner or step debug logging switched on in the workflow itself.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::env_settings;

pub const META: RuleMeta = RuleMeta {
    id: "FG-032",
    name: "debug-logging",
    title: "Debug logging enabled in the workflow",
    default_severity: Severity::Low,
    default_confidence: Confidence::Medium,
    description: include_str!("fg032_debug_logging.md"),
    remediation: "Remove the variable from the workflow. To debug a run, use \"Re-run jobs → \
        Enable debug logging\" or set the `ACTIONS_STEP_DEBUG` repository variable \
        temporarily.",
    help_uri: "",
    tags: &["logging", "information-disclosure"],
};

const NAMES: &[&str] = &["ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG", "RUNNER_DEBUG"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for setting in env_settings::settings(file.definition, NAMES) {
        if mirrors_official_switch(&setting.value) {
            continue;
        }
        let (severity, confidence, how) = match setting.enabled() {
            Some(false) => continue,
            Some(true) => (Severity::Low, Confidence::Medium, "switches on"),
            None => (
                Severity::Info,
                Confidence::Low,
                "can switch on (the value is an expression)",
            ),
        };
        let what = if setting.name.eq_ignore_ascii_case("ACTIONS_RUNNER_DEBUG") {
            "runner diagnostic logging"
        } else {
            "step debug logging"
        };
        let mut finding = Finding::new(&META, file.path, setting.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "`{}: {}` in {} {how} {what}, whose output can expose values secret masking \
                 does not catch",
                setting.name,
                setting.value.trim(),
                setting.place
            ))
            .fingerprint_key(format!(
                "{}|{}={}",
                setting.route,
                setting.name,
                setting.value.trim()
            ))
            .property("variable", setting.name.clone());
        if let Some(job) = setting.job {
            finding = finding.property("job", job);
        }
        findings.push(finding);
    }
}

/// `${{ runner.debug == '1' }}`, `${{ secrets.ACTIONS_STEP_DEBUG }}`, `${{ vars.RUNNER_DEBUG }}`:
/// passing on the repository's own debug switch (re-run with debug logging, the
/// `ACTIONS_*_DEBUG` secret or variable) turns nothing on by itself.
fn mirrors_official_switch(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if !lower.contains("${{") {
        return false;
    }
    let refs: Vec<String> = sluice_pack_sdk::expr::find_expressions(&lower)
        .iter()
        .flat_map(|e| e.context_refs(&lower))
        .map(|r| r.path)
        .collect();
    !refs.is_empty()
        && refs.iter().all(|path| {
            path == "runner.debug"
                || ["secrets.", "vars."].iter().any(|p| {
                    path.strip_prefix(p)
                        .is_some_and(|name| NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)))
                })
        })
}
