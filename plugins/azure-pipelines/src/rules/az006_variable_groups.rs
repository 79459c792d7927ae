//! AZ-006: variable groups on a pipeline pull requests trigger.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::exposure::{self, Question};
use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-006",
    name: "variable-group-on-pr",
    title: "Variable group available to pull-request builds",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("az006_variable_groups.md"),
    remediation: "Reference variable groups only in stages or jobs that pull requests cannot \
        run (`condition: ne(variables['Build.Reason'], 'PullRequest')`, a separate pipeline \
        with `pr: none`), and protect the group with approvals and pipeline permissions.",
    help_uri: "",
    tags: &["pull-request", "secrets"],
};

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        for group in &job.groups {
            let conditions: Vec<_> = job
                .conditions
                .iter()
                .chain(group.conditions.iter())
                .cloned()
                .collect();
            let Some(exposure) = exposure::pull_request(
                unit,
                job,
                &conditions,
                Question {
                    base: Severity::High,
                    needs_secrets: true,
                    environment_gates: true,
                },
            ) else {
                continue;
            };
            let name = group
                .loc
                .node
                .as_str()
                .unwrap_or("(expression)")
                .trim()
                .to_owned();
            let message = format!(
                "variable group `{name}` reaches {} {}{}",
                describe_job(job),
                exposure.trigger,
                exposure.mitigation_note()
            );
            let finding = exposure.apply(
                Finding::new(&META, group.loc.path, group.loc.node.span)
                    .message(message)
                    .fingerprint_key(format!("{}|{name}", group.loc.node.route))
                    .property("group", name),
            );
            let confidence = super::context_confidence(unit, finding.confidence);
            findings.push(finding.confidence(confidence));
        }
    }
}
