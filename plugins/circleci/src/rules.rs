//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod cc001_fork_pr_secrets;
pub mod cc002_script_injection;
pub mod cc003_unpinned_orb;
pub mod cc009_self_hosted_runner;
pub mod cc010_unpinned_image;
pub mod cc011_download_execute;

use sluice_pack_sdk::{Finding, RuleMeta};

use crate::expansion::Expansion;
use crate::exposure::Exposure;
use crate::model::{Config, Step, steps};

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    cc001_fork_pr_secrets::META,
    cc002_script_injection::META,
    cc003_unpinned_orb::META,
    cc009_self_hosted_runner::META,
    cc010_unpinned_image::META,
    cc011_download_execute::META,
];

/// One configuration file, parsed and expanded.
#[derive(Debug)]
pub struct FileContext<'f, 'c, 'a> {
    /// Repository-relative path, for findings.
    pub path: &'f str,
    pub config: &'c Config<'a>,
    pub expansion: &'f Expansion<'c, 'a>,
}

/// Runs every rule over one file.
pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    let mut found = Vec::new();
    cc001_fork_pr_secrets::check(file, &mut found);
    cc002_script_injection::check(file, &mut found);
    cc003_unpinned_orb::check(file, &mut found);
    cc009_self_hosted_runner::check(file, &mut found);
    cc010_unpinned_image::check(file, &mut found);
    cc011_download_execute::check(file, &mut found);
    keep_worst_per_place(&mut found);
    findings.extend(found);
}

/// A job or command expanded in several workflows reports the same place several times,
/// and YAML aliases (`docker: *image`) copy one piece of text into several jobs: keep the
/// worst report of each place. CC-001 is about a job, not a piece of text, so its reports
/// stay one per job even when jobs share the command that checks out.
fn keep_worst_per_place(findings: &mut Vec<Finding>) {
    let mut kept: Vec<(Finding, usize)> = Vec::new();
    for finding in findings.drain(..) {
        let per_job = finding.rule_id == cc001_fork_pr_secrets::META.id;
        let same = kept.iter_mut().find(|(k, _)| {
            k.rule_id == finding.rule_id
                && k.span == finding.span
                && (!per_job || k.fingerprint_key == finding.fingerprint_key)
        });
        match same {
            Some((existing, places)) => {
                if existing.fingerprint_key != finding.fingerprint_key {
                    *places += 1;
                }
                if (finding.severity, finding.confidence) > (existing.severity, existing.confidence)
                {
                    *existing = finding;
                }
            }
            None => kept.push((finding, 1)),
        }
    }
    *findings = kept
        .into_iter()
        .map(|(finding, places)| {
            if places > 1 {
                // Aliased text: the fingerprint of whichever copy was kept stays stable only
                // if the copies are ordered the same way, which they are (source order).
                finding.property("places", places.to_string())
            } else {
                finding
            }
        })
        .collect();
}

/// Every step written in the file (jobs, commands, `pre-steps`/`post-steps`, nested and
/// passed steps), each once.
pub fn all_steps<'c, 'a>(config: &'c Config<'a>) -> Vec<&'c Step<'a>> {
    let mut found = Vec::new();
    let mut visit = |step: &'c Step<'a>| found.push(step);
    for scope in &config.scopes {
        for job in &scope.jobs {
            steps::walk(&job.steps, &mut visit);
        }
        for command in &scope.commands {
            steps::walk(&command.steps, &mut visit);
        }
    }
    for workflow in &config.workflows {
        for entry in &workflow.jobs {
            steps::walk(&entry.pre_steps, &mut visit);
            steps::walk(&entry.post_steps, &mut visit);
        }
    }
    found
}

/// Applies the gates of `exposure` to a finding about fork-controlled text or fork code:
/// an exclusion lowers it to Info, an approval by `approval_steps`; both are recorded.
pub fn apply_gates(mut finding: Finding, exposure: &Exposure, approval_steps: u8) -> Finding {
    for gate in exposure.gates() {
        finding = finding.mitigation(gate.kind, gate.description.clone());
    }
    if !exposure.reaches_forks() {
        finding.severity = sluice_pack_sdk::Severity::Info;
    } else if !exposure.approvals.is_empty() {
        finding.severity = finding.severity.downgrade(approval_steps);
    }
    finding
}
