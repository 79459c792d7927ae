//! AZ-004: a service connection used in a job that runs pull-request code.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::exposure::{self, Question};
use crate::model::{Unit, describe_job};
use crate::service_connections;

pub const META: RuleMeta = RuleMeta {
    id: "AZ-004",
    name: "service-connection-in-pr-job",
    title: "Service connection used in a job that runs pull-request code",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("az004_service_connection.md"),
    remediation: "Use service connections only in jobs that pull requests cannot run \
        (`condition: ne(variables['Build.Reason'], 'PullRequest')`, a separate pipeline with \
        `pr: none`), and restrict the connection to the pipelines that need it with \
        approvals and checks.",
    help_uri: "",
    tags: &["pull-request", "secrets", "service-connection"],
};

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        let Some(runner) = job
            .steps
            .iter()
            .find(|s| !s.scripts().is_empty() || s.runs_code())
        else {
            continue;
        };
        for step in &job.steps {
            for connection in service_connections::of_step(step) {
                if connection.arm && super::az008_arm_on_pr::is_arm_task(step) {
                    continue;
                }
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
                let name = service_connections::name(&connection);
                let input = connection.input.as_str().unwrap_or_default();
                let runs = if std::ptr::eq(runner.node, step.node) {
                    "itself builds pull-request code".to_owned()
                } else {
                    format!(
                        "is in a job that runs pull-request code (step `{}`)",
                        runner.label()
                    )
                };
                let message = format!(
                    "step `{}` of {} uses service connection `{name}` (`{input}`) and {runs} {}{}",
                    step.label(),
                    describe_job(job),
                    exposure.trigger,
                    exposure.mitigation_note()
                );
                let finding = exposure.apply(
                    Finding::new(&META, step.path, connection.value.span)
                        .message(message)
                        .fingerprint_key(format!("{}|{input}|{name}", connection.value.route))
                        .related(runner.path, runner.node.span, "runs pull-request code")
                        .property("job", job.id.clone())
                        .property("connection", name),
                );
                let confidence = super::context_confidence(unit, finding.confidence);
                findings.push(finding.confidence(confidence));
            }
        }
    }
}
