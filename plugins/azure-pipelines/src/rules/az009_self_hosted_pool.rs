//! AZ-009: a self-hosted agent pool runs pull-request builds.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::exposure::{self, Question};
use crate::model::pool::PoolKind;
use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-009",
    name: "self-hosted-pool-on-pr",
    title: "Self-hosted agent pool runs pull-request builds",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("az009_self_hosted_pool.md"),
    remediation: "Run pull-request validation on Microsoft-hosted agents, or on ephemeral \
        self-hosted agents isolated from other pipelines and the internal network; keep \
        persistent pools for pipelines pull requests cannot trigger.",
    help_uri: "",
    tags: &["pull-request", "runner"],
};

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        if job.pool.kind != PoolKind::SelfHosted {
            continue;
        }
        let Some((path, span, route)) = job.pool.place.clone() else {
            continue;
        };
        let Some(exposure) = exposure::pull_request(
            unit,
            job,
            &job.conditions,
            Question {
                base: Severity::High,
                needs_secrets: false,
                environment_gates: true,
            },
        ) else {
            continue;
        };
        let message = format!(
            "{} runs on self-hosted agent pool `{}` {}{}",
            describe_job(job),
            job.pool.name,
            exposure.trigger,
            exposure.mitigation_note()
        );
        let finding = exposure.apply(
            Finding::new(&META, path, span)
                .message(message)
                .fingerprint_key(format!("{route}|{}", job.pool.name))
                .related(job.path, job.anchor, "job")
                .property("pool", job.pool.name.clone()),
        );
        let confidence = super::context_confidence(unit, finding.confidence);
        findings.push(finding.confidence(confidence));
    }
}
