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
    description: "A `run` script (of a job, a reusable command, an inline orb or a \
        `pre-steps`/`post-steps` entry) downloads code and executes it in one go — \
        `curl … | bash`, `wget -O- … | sudo sh`, `bash <(curl …)`, `sh -c \"$(curl …)\"`, \
        PowerShell `iex (iwr …)`. Nothing checks what arrived: whoever controls the server, \
        the domain or a moving URL runs code in the job with its contexts and secrets (the \
        2021 Codecov uploader compromise).\n\n\
        Severity: Medium; High over plain `http://`; Info with a `commit-pinned-url` \
        mitigation when the URL names a full 40-character commit SHA. Quoted text and \
        comments are not commands and are not reported; a download saved to a file and \
        verified before it runs is not a pipe and is not reported.",
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
