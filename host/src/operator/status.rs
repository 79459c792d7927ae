//! The report status a subject should have, and whether it differs from the one it has.
//!
//! Time stamps are carried over from the current status whenever what they date did not
//! change (the state, a condition's status, the evaluation's result), so evaluating an
//! unchanged subject produces an identical status and no write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::api::report::{PipelineSecurityReportStatus, ReportSource, WorkloadRef};
use crate::api::report_status::{findings_status, pack_versions};
use crate::operator::correlate::Correlation;
use crate::operator::evaluation::Evaluation;

/// Condition types.
pub const SCANNED: &str = "Scanned";
pub const SCAN_FAILED: &str = "ScanFailed";

/// The status `evaluation` calls for, before time stamps are settled.
pub fn desired_status(
    evaluation: &Evaluation,
    correlation: &Correlation,
    generation: Option<i64>,
    findings_cap: usize,
) -> PipelineSecurityReportStatus {
    let mut status = PipelineSecurityReportStatus {
        state: evaluation.state,
        observed_generation: generation,
        source: evaluation.source.as_ref().map(|s| ReportSource {
            repository: s.repository.clone(),
            url: s.url.clone(),
            host: s.host.clone(),
            git_ref: s.git_ref.clone(),
            commit: s.commit.clone(),
            path: s.path.clone(),
        }),
        workloads: correlation
            .workloads
            .iter()
            .map(|w| WorkloadRef {
                api_version: Some(w.api_version().to_owned()),
                kind: w.kind.clone(),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
            })
            .collect(),
        remote_destination: correlation.remote.clone(),
        policies: evaluation.policies.clone(),
        ..PipelineSecurityReportStatus::default()
    };
    if let Some(outcome) = &evaluation.outcome {
        let findings = findings_status(&outcome.report, findings_cap);
        status.summary = findings.summary;
        status.findings = findings.findings;
        status.findings_omitted = findings.omitted;
        status.fingerprint_digest = Some(findings.digest);
        status.packs = pack_versions(&outcome.report);
    }
    let condition = |type_: &str, on: bool, reason: &str, message: String| Condition {
        type_: type_.to_owned(),
        status: if on { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message,
        observed_generation: generation,
        last_transition_time: Time(Timestamp::UNIX_EPOCH),
    };
    match &evaluation.failure {
        None => {
            let outcome = evaluation.outcome.as_ref();
            let files: usize = outcome.map_or(0, |o| o.report.files_scanned);
            let message = match evaluation.source.as_ref().and_then(|s| s.commit.as_deref()) {
                Some(commit) => format!(
                    "{files} pipeline file(s) scanned at commit {commit}; {} finding(s)",
                    status.summary.total
                ),
                None => format!(
                    "the pipeline definition was scanned; {} finding(s)",
                    status.summary.total
                ),
            };
            status.conditions = vec![
                condition(SCANNED, true, "Scanned", message),
                condition(SCAN_FAILED, false, "Succeeded", String::new()),
            ];
            if evaluation
                .state
                .at_least(crate::api::ComplianceState::NonCompliant)
            {
                status.reason = Some("ThresholdsExceeded".to_owned());
            }
        }
        Some(failure) => {
            status.reason = Some(failure.reason.clone());
            status.conditions = vec![
                condition(SCANNED, false, &failure.reason, failure.message.clone()),
                condition(
                    SCAN_FAILED,
                    failure.scan_failed,
                    &failure.reason,
                    if failure.scan_failed {
                        failure.message.clone()
                    } else {
                        String::new()
                    },
                ),
            ];
        }
    }
    status
}

/// Fills in the time stamps of `desired` from `current` where nothing they date changed, and
/// says whether the result differs from `current` (a write is needed). `last_evaluated` moves
/// only when something else changed.
pub fn settle(
    desired: &mut PipelineSecurityReportStatus,
    current: Option<&PipelineSecurityReportStatus>,
    now: Timestamp,
) -> bool {
    let now_text = now.to_string();
    desired.state_since = Some(state_since(desired, current, now).to_string());
    for condition in &mut desired.conditions {
        condition.last_transition_time = current
            .and_then(|c| {
                c.conditions
                    .iter()
                    .find(|old| old.type_ == condition.type_ && old.status == condition.status)
            })
            .map_or(Time(now), |old| old.last_transition_time.clone());
    }
    desired.last_evaluated = current.and_then(|c| c.last_evaluated.clone());
    if current == Some(desired) {
        return false;
    }
    desired.last_evaluated = Some(now_text);
    true
}

/// When the state `desired` has was first seen: carried over while it stays the same.
pub fn state_since(
    desired: &PipelineSecurityReportStatus,
    current: Option<&PipelineSecurityReportStatus>,
    now: Timestamp,
) -> Timestamp {
    current
        .filter(|c| c.state == desired.state)
        .and_then(|c| c.state_since.as_deref())
        .and_then(|since| since.parse().ok())
        .unwrap_or(now)
}
