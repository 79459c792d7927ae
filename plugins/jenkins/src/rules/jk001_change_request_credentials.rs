//! JK-001: credentials bound where a change request's code runs.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::execution;
use crate::exposure::Exposure;
use crate::model::ScriptStep;

pub const META: RuleMeta = RuleMeta {
    id: "JK-001",
    name: "change-request-credentials",
    title: "Credentials exposed to change-request (pull request) code",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("jk001_change_request_credentials.md"),
    remediation: "Keep credentials out of change-request builds: move the binding into a \
        stage with `when { not { changeRequest() } }` (or `branch 'main'`), or require an \
        `input` approval from a maintainer before the stage. For fork pull requests, keep \
        the multibranch trust setting at its default and never bind deploy credentials in \
        stages that build untrusted code.",
    help_uri: "",
    tags: &["change-request", "credentials", "untrusted-code"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let model = file.model;
    for (index, binding) in model.bindings.iter().enumerate() {
        let exposed: Option<(&ScriptStep<'_>, String, Exposure)> = model
            .scripts
            .iter()
            .filter(|s| s.scope.credentials.contains(&index))
            .filter_map(|s| {
                let command = execution::runs_workspace_code(model.file, s)?;
                Some((s, command, Exposure::of(model, &s.scope)))
            })
            .max_by_key(|(s, _, e)| (e.rank(), std::cmp::Reverse(s.range.start)));
        let Some((step, command, exposure)) = exposed else {
            continue;
        };
        let ids = if binding.ids.is_empty() {
            String::from("(ids not written literally)")
        } else {
            binding
                .ids
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let stage = step.scope.stage_name();
        let step_name = &step.call.name;
        let base = format!(
            "`{}` binds credentials {ids} around `{step_name}` running {command} {}",
            binding.how,
            step.scope.whereabouts()
        );
        let (severity, confidence, message) = match &exposure {
            Exposure::Explicit(_) => (
                Severity::High,
                Confidence::High,
                format!(
                    "{base} that runs on change-request builds, where the pull request's code can read them"
                ),
            ),
            Exposure::Implicit(evidence) => (
                Severity::Medium,
                Confidence::Medium,
                format!(
                    "{base}, where the pull request's code can read them: the pipeline builds change requests (`{}` on line {}) and nothing keeps them from this step",
                    file.excerpt(evidence.clone()),
                    file.line(evidence.start)
                ),
            ),
            Exposure::Excluded(_) => (
                Severity::Info,
                Confidence::High,
                format!("{base}, from which change-request builds are excluded"),
            ),
            Exposure::Unshown => continue,
        };
        let finding = Finding::new(&META, file.path, file.span(binding.range.clone()))
            .confidence(confidence)
            .fingerprint_key(format!("{stage}|{}|{}", binding.how, binding.ids.join(",")))
            .related(
                file.path,
                file.span(step.call.name_range.clone()),
                "a script step runs here with the credentials",
            )
            .property("stage", stage)
            .property("credentials", binding.ids.join(","));
        let (finding, severity) =
            super::apply_change_request_gates(file, step, &exposure, finding, severity);
        findings.push(finding.severity(severity).message(message));
    }
}
