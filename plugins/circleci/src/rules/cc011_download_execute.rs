//! CC-011: a `run` script downloads code and executes it unverified.

use sluice_pack_sdk::fingerprint::KeyCounter;
use sluice_pack_sdk::shell::download;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{FileContext, all_steps};
use crate::model::Step;

pub const META: RuleMeta = RuleMeta {
    id: "CC-011",
    name: "unverified-script-execution",
    title: "Unverified script execution: downloaded code piped into an interpreter",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("cc011_download_execute.md"),
    remediation: "Download to a file, verify a checksum or signature pinned in the \
        configuration (`echo \"<sha256>  install.sh\" | sha256sum -c`), then run it; prefer \
        a package manager, a pinned orb or a convenience image that already has the tool.",
    help_uri: "",
    tags: &["supply-chain", "remote-code"],
};

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for step in all_steps(file.config) {
        let Step::Run(run) = step else {
            continue;
        };
        let Some(command) = run.command else {
            continue;
        };
        let mut keys = KeyCounter::default();
        let place = format!("step `{}`", run.label());
        for hit in download::find(command.value) {
            findings.push(hit.finding(
                &META,
                file.path,
                command.span_of(hit.range.clone()),
                &place,
                command.route(),
                &mut keys,
            ));
        }
    }
}
