//! AZ-013: a script downloads code and runs it without verifying it.

use sluice_pack_sdk::fingerprint::KeyCounter;
use sluice_pack_sdk::shell::download;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-013",
    name: "unverified-script-execution",
    title: "Unverified script execution: downloaded code piped into an interpreter",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("az013_download_execute.md"),
    remediation: "Download to a file, verify a checksum or signature pinned in the pipeline, \
        then run it; or use a pinned task or a package manager with lockfiles.",
    help_uri: "",
    tags: &["supply-chain", "remote-code"],
};

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        for step in &job.steps {
            for script in step.scripts().into_iter().filter(|s| s.inline) {
                let Some(text) = script.node.as_str() else {
                    continue;
                };
                let mut keys = KeyCounter::default();
                let place = format!("step `{}` of {}", step.label(), describe_job(job));
                for hit in download::find(text) {
                    let finding = hit.finding(
                        &META,
                        step.path,
                        super::span_in(script.node, hit.range.clone()),
                        &place,
                        &script.node.route,
                        &mut keys,
                    );
                    findings.push(
                        finding
                            .confidence(super::context_confidence(unit, Confidence::High))
                            .property("job", job.id.clone()),
                    );
                }
            }
        }
    }
}
