//! AZ-001: a pull-request build runs the pull request's code in a job that holds secrets or a
//! service connection.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::az005_secrets_in_logs::looks_secret;
use crate::exposure::{self, Question};
use crate::expressions::macros;
use crate::model::{Condition, Job, Unit, describe_job};
use crate::service_connections;

pub const META: RuleMeta = RuleMeta {
    id: "AZ-001",
    name: "pr-build-with-secrets",
    title: "Pull-request build runs PR code with access to secrets or service connections",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("az001_pr_build_secrets.md"),
    remediation: "Do not give pull-request builds secrets: move secret-using jobs behind \
        `condition: ne(variables['Build.Reason'], 'PullRequest')` or into a separate pipeline \
        with `pr: none`, keep \"make secrets available to builds of forks\" off, and require a \
        team member's comment before building pull requests from forks.",
    help_uri: "",
    tags: &["pull-request", "secrets", "pwn-request"],
};

/// The first thing in a job that gives it a secret, and the insertions it sits under.
fn secret_access<'j, 'a>(job: &'j Job<'a>) -> Option<(&'a str, Span, String, &'j [Condition<'a>])> {
    if let Some(group) = job.groups.iter().min_by_key(|g| g.conditions.len()) {
        return Some((
            group.loc.path,
            group.loc.node.span,
            format!(
                "variable group `{}`",
                group.loc.node.as_str().unwrap_or("(expression)")
            ),
            &group.conditions,
        ));
    }
    for step in &job.steps {
        if let Some(connection) = service_connections::of_step(step).first() {
            return Some((
                step.path,
                connection.value.span,
                format!(
                    "service connection `{}`",
                    service_connections::name(connection)
                ),
                &step.conditions,
            ));
        }
        for (key, value) in step.env() {
            if let Some(text) = value.as_str()
                && let Some(secret) = macros(text).into_iter().find(|m| {
                    m.name.eq_ignore_ascii_case("System.AccessToken") || looks_secret(m.name)
                })
            {
                return Some((
                    step.path,
                    key.span,
                    format!("`$({})` mapped into `env:`", secret.name),
                    &step.conditions,
                ));
            }
        }
        if step.checkout().is_some()
            && let Some(persist) = crate::model::yaml_ext::get(step.node, "persistCredentials")
            && persist
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        {
            return Some((
                step.path,
                persist.span,
                "the job token persisted by `persistCredentials: true`".to_owned(),
                &step.conditions,
            ));
        }
    }
    None
}

fn checks_out_nothing(job: &Job<'_>) -> bool {
    let checkouts: Vec<&Node> = job.steps.iter().filter_map(|s| s.checkout()).collect();
    !checkouts.is_empty()
        && checkouts
            .iter()
            .all(|c| c.as_str().is_some_and(|s| s.eq_ignore_ascii_case("none")))
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        let Some(runner) = job.steps.iter().find(|s| s.runs_code()) else {
            continue;
        };
        if checks_out_nothing(job) {
            continue;
        }
        let Some((secret_path, secret_span, secret, secret_conditions)) = secret_access(job) else {
            continue;
        };
        // Step conditions include the job's; a group's insertions are added to them.
        let conditions: Vec<Condition<'_>> = job
            .conditions
            .iter()
            .chain(secret_conditions.iter())
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
        let message = format!(
            "{} runs pull-request code (step `{}`) with {secret} {}{}",
            describe_job(job),
            runner.label(),
            exposure.trigger,
            exposure.mitigation_note()
        );
        let finding = Finding::new(&META, job.path, job.anchor)
            .message(message)
            .fingerprint_key(format!(
                "{}|{}|{secret}",
                job.stage.as_deref().unwrap_or(""),
                job.id
            ))
            .related(secret_path, secret_span, "secret access")
            .related(runner.path, runner.node.span, "runs pull-request code")
            .property("job", job.id.clone());
        let finding = exposure.apply(finding);
        let confidence = super::context_confidence(unit, finding.confidence);
        findings.push(finding.confidence(confidence));
    }
}
