//! AZ-008: an Azure Resource Manager identity used on a pipeline pull requests trigger.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::exposure::{self, Question};
use crate::model::{Step, Unit, describe_job, yaml_ext};
use crate::service_connections;

pub const META: RuleMeta = RuleMeta {
    id: "AZ-008",
    name: "arm-identity-on-pr",
    title: "Azure Resource Manager identity (service principal or workload identity) on a PR pipeline",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("az008_arm_on_pr.md"),
    remediation: "Run Azure deployments only from pipelines pull requests cannot trigger \
        (`pr: none`) or behind `condition: ne(variables['Build.Reason'], 'PullRequest')`, put \
        them in deployment jobs with a protected environment, and scope the connection to \
        the resource group it needs.",
    help_uri: "",
    tags: &["pull-request", "cloud-credentials", "oidc"],
};

/// Whether the task is one AZ-008 owns (an ARM connection is its identity).
pub fn is_arm_task(step: &Step<'_>) -> bool {
    service_connections::of_step(step).iter().any(|c| c.arm)
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        for step in &job.steps {
            let Some(connection) = service_connections::of_step(step)
                .into_iter()
                .find(|c| c.arm)
            else {
                continue;
            };
            let Some(exposure) = exposure::pull_request(
                unit,
                job,
                &step.conditions,
                Question {
                    base: Severity::High,
                    needs_secrets: true,
                    environment_gates: true,
                },
            ) else {
                continue;
            };
            let task = step
                .task()
                .and_then(|t| t.as_str())
                .unwrap_or("task")
                .to_owned();
            let name = service_connections::name(&connection);
            let spn = yaml_ext::get(step.node, "inputs")
                .and_then(|i| yaml_ext::get_str(i, "addSpnToEnvironment"))
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let spn_note = if spn {
                " and hands its credentials to the script (`addSpnToEnvironment: true`)"
            } else {
                ""
            };
            let message = format!(
                "task `{task}` in {} uses Azure Resource Manager connection `{name}`{spn_note} \
                 {}{}",
                describe_job(job),
                exposure.trigger,
                exposure.mitigation_note()
            );
            let finding = exposure.apply(
                Finding::new(&META, step.path, connection.value.span)
                    .message(message)
                    .fingerprint_key(format!("{}|{task}|{name}", connection.value.route))
                    .property("job", job.id.clone())
                    .property("connection", name),
            );
            let confidence = super::context_confidence(unit, finding.confidence);
            findings.push(finding.confidence(confidence));
        }
    }
}
