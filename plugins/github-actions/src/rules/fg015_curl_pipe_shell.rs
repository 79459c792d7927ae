//! FG-015: a script downloads code and runs it without verifying it.

use sluice_pack_sdk::fingerprint::KeyCounter;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Job, Step, Text};
use sluice_pack_sdk::shell::download;

pub const META: RuleMeta = RuleMeta {
    id: "FG-015",
    name: "unverified-script-execution",
    title: "Unverified script execution: downloaded code piped into an interpreter",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg015_curl_pipe_shell.md"),
    remediation: "Download to a file, verify a checksum or signature you pinned in the \
        workflow (`echo \"<sha256>  install.sh\" | sha256sum -c`), then run it; better, use a \
        released, SHA-pinned action or a package manager with lockfiles. If you must fetch \
        a script from GitHub, use a URL that names a full commit SHA.",
    help_uri: "",
    tags: &["supply-chain", "remote-code"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if let Some(run) = step.run {
                check_script(file, job, step, run, findings);
            }
        }
    }
}

fn check_script(
    file: &FileContext<'_, '_>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    run: Text<'_>,
    findings: &mut Vec<Finding>,
) {
    let mut keys = KeyCounter::default();
    let place = match job {
        Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
        None => format!("step `{}`", step.label()),
    };
    for hit in download::find(run.value) {
        let mut finding = hit.finding(
            &META,
            file.path,
            run.span_of(hit.range.clone()),
            &place,
            run.route(),
            &mut keys,
        );
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        findings.push(finding.property("step", step.label()));
    }
}
