//! JK-009: change-request code on a persistent agent or the controller.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::agents::AgentKind;
use crate::execution;
use crate::exposure::Exposure;
use crate::model::ScriptStep;

pub const META: RuleMeta = RuleMeta {
    id: "JK-009",
    name: "change-request-agent",
    title: "Change-request code runs on a persistent agent or the controller",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("jk009_agent_risk.md"),
    remediation: "Build change requests in ephemeral executors: `agent { kubernetes { … } }`, \
        a `podTemplate` with `node(POD_LABEL)`, a cloud label whose agents are used once, \
        or a Docker agent without host mounts. Give the controller zero executors. Keep \
        permanent agents for trusted branches (`when { not { changeRequest() } }`).",
    help_uri: "",
    tags: &["change-request", "runner", "untrusted-code"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let model = file.model;
    for (index, agent) in model.agents.iter().enumerate() {
        let (base_severity, base_confidence, what) = match &agent.kind {
            AgentKind::Controller(label) => (
                Severity::Critical,
                Confidence::High,
                format!("the controller (label `{label}`)"),
            ),
            AgentKind::Any => (
                Severity::High,
                Confidence::Medium,
                "any executor, the controller's and permanent agents' included".to_owned(),
            ),
            AgentKind::Label(label) => (
                Severity::High,
                Confidence::Medium,
                format!(
                    "agents labelled `{label}`, which outlive the build unless the label is an ephemeral cloud template"
                ),
            ),
            AgentKind::DynamicLabel => (
                Severity::Medium,
                Confidence::Low,
                "agents chosen by a label computed at run time".to_owned(),
            ),
            AgentKind::Docker { escape: Some(flag) } => (
                Severity::High,
                Confidence::High,
                format!("a Docker container given the host through `{flag}`"),
            ),
            AgentKind::Docker { escape: None } | AgentKind::Kubernetes | AgentKind::None => {
                continue;
            }
        };
        let exposed: Option<(&ScriptStep<'_>, String, Exposure)> = model
            .scripts
            .iter()
            .filter(|s| s.scope.agent == Some(index))
            .filter_map(|s| {
                let command = execution::runs_workspace_code(model.file, s)?;
                Some((s, command, Exposure::of(model, &s.scope)))
            })
            .max_by_key(|(s, _, e)| (e.rank(), std::cmp::Reverse(s.range.start)));
        let Some((step, command, exposure)) = exposed else {
            continue;
        };
        let stage = step.scope.stage_name();
        let base = format!(
            "`{}` runs {command} {} on {what}",
            agent.display,
            step.scope.whereabouts()
        );
        let (severity, confidence, message) = match &exposure {
            Exposure::Explicit(_) => (
                base_severity,
                base_confidence,
                format!("{base}, on change-request builds"),
            ),
            Exposure::Implicit(evidence) => (
                base_severity.downgrade(1),
                base_confidence.min(Confidence::Medium),
                format!(
                    "{base}; the pipeline builds change requests (`{}` on line {}) and nothing keeps them from this step",
                    file.excerpt(evidence.clone()),
                    file.line(evidence.start)
                ),
            ),
            Exposure::Excluded(_) => (
                Severity::Info,
                base_confidence,
                format!("{base}; change-request builds are excluded from this step"),
            ),
            Exposure::Unshown => continue,
        };
        let finding = Finding::new(&META, file.path, file.span(agent.range.clone()))
            .confidence(confidence)
            .fingerprint_key(format!("{stage}|{}", agent.display))
            .related(
                file.path,
                file.span(step.call.name_range.clone()),
                "a script step of the stage runs here",
            )
            .property("stage", stage)
            .property("agent", agent.display.clone());
        let (finding, severity) =
            super::apply_change_request_gates(file, step, &exposure, finding, severity);
        findings.push(finding.severity(severity).message(message));
    }
}
