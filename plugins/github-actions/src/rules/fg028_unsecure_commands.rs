//! FG-028: `ACTIONS_ALLOW_UNSECURE_COMMANDS` re-enables `::set-env` and `::add-path`.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::env_settings;

pub const META: RuleMeta = RuleMeta {
    id: "FG-028",
    name: "unsecure-commands",
    title: "Deprecated `set-env`/`add-path` workflow commands re-enabled",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg028_unsecure_commands.md"),
    remediation: "Remove `ACTIONS_ALLOW_UNSECURE_COMMANDS`. Write to the environment files \
        instead: `echo \"NAME=value\" >> \"$GITHUB_ENV\"` and `echo \"$DIR\" >> \
        \"$GITHUB_PATH\"`. If an old action needs the commands, upgrade or replace it.",
    help_uri: "",
    tags: &["workflow-commands", "injection"],
};

const NAME: &str = "ACTIONS_ALLOW_UNSECURE_COMMANDS";

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for setting in env_settings::settings(file.definition, &[NAME]) {
        let (severity, confidence, how) = match setting.enabled() {
            Some(false) => continue,
            Some(true) => (Severity::High, Confidence::High, "enables"),
            None => (
                Severity::Medium,
                Confidence::Medium,
                "may enable (the value is an expression)",
            ),
        };
        let scope = if setting.place.starts_with("workflow") {
            "every step of every job"
        } else if setting.via_github_env {
            "every later step of the job"
        } else if setting.place.starts_with("job") {
            "every step of the job"
        } else {
            "this step"
        };
        let mut finding = Finding::new(&META, file.path, setting.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "`{}: {}` in {} {how} the `::set-env`/`::add-path` commands for {scope}: any \
                 output reaching the log can then set environment variables or `PATH`",
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
            .property("value", setting.value.trim());
        if let Some(job) = setting.job {
            finding = finding.property("job", job);
        }
        findings.push(finding);
    }
}
