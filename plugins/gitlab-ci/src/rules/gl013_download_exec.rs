//! GL-013: a script downloads code and runs it without verifying it.

use sluice_pack_sdk::fingerprint::KeyCounter;
use sluice_pack_sdk::shell::download;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::scripts::span_in;

pub const META: RuleMeta = RuleMeta {
    id: "GL-013",
    name: "download-then-execute",
    title: "Downloaded code piped into an interpreter without verification",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl013_download_exec.md"),
    remediation: "Download to a file, check a pinned checksum or signature \
        (`sha256sum -c`), then run it; or use a package manager with a lockfile, or a \
        container image that already contains the tool.",
    help_uri: "",
    tags: &["supply-chain", "remote-code"],
};

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    for (section, at) in job.script_lines() {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        let mut keys = KeyCounter::default();
        let place = format!("job `{}` (its {section})", job.name);
        for hit in download::find(script) {
            let finding = hit.finding(
                &META,
                at.path,
                span_in(&at, hit.range.clone()),
                &place,
                at.route(),
                &mut keys,
            );
            findings.push(finding.property("job", job.name));
        }
    }
}
