//! AZ-013: a script downloads code and runs it without verifying it.

use sluice_pack_sdk::shell::download;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-013",
    name: "unverified-script-execution",
    title: "Unverified script execution: downloaded code piped into an interpreter",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: "A `script`/`bash`/`powershell`/`pwsh` step or a task's inline script \
        (`script`, `inlineScript`, `Inline`) downloads code and executes it in one go — \
        `curl … | bash`, `wget -O- … | sudo sh`, `bash <(curl …)`, `sh -c \"$(curl …)\"`, \
        PowerShell `iex (iwr …)` / `Invoke-Expression …DownloadString(…)`. Nothing checks \
        what was downloaded: whoever controls the server, the domain, a CDN in between or a \
        moving URL runs code in the job with its secrets and service connections.\n\n\
        Severity: Medium; High when the URL is plain `http://`; Info with a \
        `commit-pinned-url` mitigation when the URL names a full 40-character commit SHA. \
        Quoted text and comments are not commands and are not reported; a download saved to \
        a file and checked before it runs is not a pipe and is not reported. Confidence Low \
        in a standalone template.",
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
                let mut seen: Vec<String> = Vec::new();
                for hit in download::find(text) {
                    let written = text
                        .get(hit.range.clone())
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let occurrence = seen.iter().filter(|t| **t == written).count();
                    seen.push(written.clone());
                    let mut key = format!("{}|{written}", script.node.route);
                    if occurrence > 0 {
                        key.push_str(&format!("#{}", occurrence + 1));
                    }
                    let url_text = hit
                        .url
                        .as_deref()
                        .map(|u| format!(" from `{u}`"))
                        .unwrap_or_default();
                    let mut message = format!(
                        "step `{}` of {} {}{url_text} without verifying it",
                        step.label(),
                        describe_job(job),
                        hit.how
                    );
                    let mut severity = Severity::Medium;
                    let mut finding = Finding::new(
                        &META,
                        step.path,
                        super::span_in(script.node, hit.range.clone()),
                    );
                    if let Some(url) = &hit.url {
                        if hit.is_plain_http() {
                            severity = Severity::High;
                            message.push_str(
                                " (over plain HTTP, so anyone on the network path can replace it)",
                            );
                        } else if hit.is_commit_pinned() {
                            severity = Severity::Info;
                            finding = finding.mitigation(
                                "commit-pinned-url",
                                format!(
                                    "`{url}` names a full commit SHA, so its content cannot change"
                                ),
                            );
                            message.push_str(" (mitigated: the URL names a full commit SHA)");
                        }
                        finding = finding.property("url", url.clone());
                    }
                    findings.push(
                        finding
                            .severity(severity)
                            .confidence(super::context_confidence(unit, Confidence::High))
                            .message(message)
                            .fingerprint_key(key)
                            .property("job", job.id.clone()),
                    );
                }
            }
        }
    }
}
