//! FG-001 + FG-002 in the same job: the pull request author controls both the code the job
//! runs and text expanded into its shell scripts (the Ultralytics pattern).
//!
//! Runs once over every finding of a scan, so chains through local actions and reusable
//! workflows correlate too. Unlike the reference scanner, only a real pwn request (above Info
//! after its safeguards) merges, only with a real injection (High, attacker-controlled, from a
//! trigger that fills it) in the same job, and the FG-002 findings are kept.

use sluice_pack_sdk::{Confidence, Finding, Severity};

use super::{fg001_pwn_request, fg002_script_injection};

/// A job, as (file path, job id).
type JobKey = (String, String);

fn property<'f>(finding: &'f Finding, key: &str) -> Option<&'f str> {
    finding
        .properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every job an FG-002 finding runs in: its own job, the calling job of a chain, and the
/// called job of a reusable workflow.
fn injection_jobs(finding: &Finding) -> Vec<JobKey> {
    let mut jobs = Vec::new();
    if let Some(job) = property(finding, "job") {
        let path = property(finding, "via").unwrap_or(&finding.path);
        jobs.push((path.to_owned(), job.to_owned()));
    }
    if let Some(job) = property(finding, "called-job") {
        jobs.push((finding.path.clone(), job.to_owned()));
    }
    jobs
}

/// Raises each real FG-001 that shares a job with a real FG-002 to Critical.
pub fn correlate(findings: &mut [Finding]) {
    let injections: Vec<(Vec<JobKey>, String, sluice_pack_sdk::Span, String)> = findings
        .iter()
        .filter(|f| {
            f.rule_id == fg002_script_injection::META.id
                && f.severity == Severity::High
                && f.confidence == Confidence::High
        })
        .map(|f| {
            (
                injection_jobs(f),
                f.path.clone(),
                f.span,
                property(f, "context").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    if injections.is_empty() {
        return;
    }
    for finding in findings
        .iter_mut()
        .filter(|f| f.rule_id == fg001_pwn_request::META.id && f.severity > Severity::Info)
    {
        let Some(job) = property(finding, "job") else {
            continue;
        };
        let key = (finding.path.clone(), job.to_owned());
        let Some((_, path, span, context)) =
            injections.iter().find(|(jobs, ..)| jobs.contains(&key))
        else {
            continue;
        };
        finding.severity = Severity::Critical;
        finding.message.push_str(&format!(
            "; the same job also expands attacker-controlled `{context}` into a shell script \
             (FG-002): the pull request author controls both the code and the commands \
             (Ultralytics pattern)"
        ));
        finding.related.push(sluice_pack_sdk::Location {
            path: path.clone(),
            span: *span,
            message: format!("script injection of `{context}` in the same job (FG-002)"),
        });
        finding
            .properties
            .push(("correlated".to_owned(), "FG-002".to_owned()));
    }
}

/// One script-injection finding per place: when cross-file analysis reaches an expression the
/// file's own analysis already reported (an action's `${{ inputs.x }}` is Medium on its own and
/// High once a caller is known to pass attacker text), only the most severe, most confident one
/// stays. Other rules may report one place more than once on purpose (FG-022: one finding per
/// advisory).
pub fn keep_worst_per_place(findings: &mut Vec<Finding>) {
    let id = fg002_script_injection::META.id;
    let key = |f: &Finding| {
        (
            f.rule_id.clone(),
            f.path.clone(),
            f.span.start_byte,
            f.span.end_byte,
        )
    };
    let mut worst: std::collections::HashMap<(String, String, u32, u32), (Severity, Confidence)> =
        std::collections::HashMap::new();
    for finding in findings.iter().filter(|f| f.rule_id == id) {
        let rank = (finding.severity, finding.confidence);
        worst
            .entry(key(finding))
            .and_modify(|best| *best = (*best).max(rank))
            .or_insert(rank);
    }
    let mut kept = std::collections::HashSet::new();
    findings.retain(|finding| {
        if finding.rule_id != id {
            return true;
        }
        let place = key(finding);
        worst.get(&place) == Some(&(finding.severity, finding.confidence)) && kept.insert(place)
    });
}
