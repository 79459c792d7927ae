//! One subject's evaluation: resolve what to scan, scan it (or hit the cache), and say what
//! state that puts the subject in. No writes happen here.

use std::sync::Arc;

use serde_json::Value;

use k8s_openapi::jiff::civil::Date;

use crate::api::ComplianceState;
use crate::api::report::PolicyResult;
use crate::github::RepoSpec;
use crate::operator::context::Shared;
use crate::operator::evaluate::{Limits, evaluate};
use crate::operator::kinds::WatchedKind;
use crate::operator::policy::SelectedPolicy;
use crate::operator::policy::apply::unknown_results;
use crate::operator::policy::evaluate_policies;
use crate::operator::resolve::{Resolution, resolve};
use crate::operator::scanner::ScanOutcome;

/// The repository a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub repository: String,
    pub url: String,
    pub host: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub path: Option<String>,
}

/// Why there is no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoResult {
    /// The condition and status reason (`UnsupportedHost`, `RepositoryNotFound`, ...).
    pub reason: String,
    pub message: String,
    /// A scan was attempted and failed (retried with backoff), as opposed to nothing being
    /// scannable (re-checked at the normal interval).
    pub scan_failed: bool,
}

/// The outcome of evaluating a subject.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub source: Option<Source>,
    /// The scan, when one ran (an incomplete scan still lists what it found).
    pub outcome: Option<Arc<ScanOutcome>>,
    /// Why the scan did not run or is incomplete; the state is then `Unknown`.
    pub failure: Option<NoResult>,
    pub state: ComplianceState,
    /// Why the state is what it is (broken limits, or the failure).
    pub reasons: Vec<String>,
    /// The result of every policy selecting the subject (empty: the default limits applied).
    pub policies: Vec<PolicyResult>,
}

impl Evaluation {
    fn failed(source: Option<Source>, reason: &str, message: String, scan_failed: bool) -> Self {
        Evaluation {
            source,
            reasons: vec![message.clone()],
            outcome: None,
            failure: Some(NoResult {
                reason: reason.to_owned(),
                message,
                scan_failed,
            }),
            state: ComplianceState::Unknown,
            policies: Vec::new(),
        }
    }

    /// Re-decides the state under the `policies` selecting the subject, as of `today` (UTC):
    /// each one's overrides and thresholds, the worst wins. A failed scan stays `Unknown` under
    /// every policy; without policies the default limits stand.
    pub fn apply_policies(&mut self, policies: &[SelectedPolicy], today: Date) {
        if policies.is_empty() {
            return;
        }
        if let Some(failure) = &self.failure {
            self.policies = unknown_results(policies, &failure.message);
            return;
        }
        let Some(outcome) = &self.outcome else {
            return;
        };
        let repository = self.source.as_ref().map(|s| s.repository.as_str());
        if let Some(verdict) =
            evaluate_policies(&outcome.report.findings, policies, repository, today)
        {
            self.state = verdict.state;
            self.reasons = verdict.reasons;
            self.policies = verdict.results;
        }
    }
}

pub async fn evaluate_subject(shared: &Shared, kind: WatchedKind, object: &Value) -> Evaluation {
    match resolve(kind, object) {
        Resolution::Unscannable { reason, message } => {
            Evaluation::failed(None, reason.as_str(), message, false)
        }
        Resolution::Inline {
            file_name,
            document,
        } => {
            let scanned = shared.scanner.scan_inline(&file_name, &document).await;
            finish(shared, None, scanned)
        }
        Resolution::Repository(target) => {
            let mut source = Source {
                repository: target.repo.full_name(),
                url: target.url.clone(),
                host: target.repo.host.clone(),
                git_ref: target.revision.git_ref.clone(),
                commit: target.revision.commit.clone(),
                path: target.path.clone(),
            };
            // Never send a request for a repository that is not on a GitHub host we were
            // configured for: its owner/repo could name someone else's repository there.
            if !shared.accepts_host(&target.repo.host) {
                let message = format!(
                    "{} is not a GitHub host this operator reads (configured: {}); the pipelines of {} are not scanned",
                    target.repo.host,
                    shared.settings.github_hosts.join(", "),
                    target.url
                );
                return Evaluation::failed(Some(source), "UnsupportedHost", message, false);
            }
            let commit = match &target.revision.commit {
                Some(commit) => commit.clone(),
                None => {
                    let spec = RepoSpec {
                        owner: target.repo.owner.clone(),
                        repo: target.repo.repo.clone(),
                        git_ref: target.revision.git_ref.clone(),
                    };
                    match shared.scanner.resolve(&spec).await {
                        Ok(commit) => commit,
                        Err(failure) => {
                            return Evaluation::failed(
                                Some(source),
                                failure.reason,
                                failure.message,
                                true,
                            );
                        }
                    }
                }
            };
            source.commit = Some(commit.clone());
            let scanned = shared
                .scanner
                .scan_commit(&target.repo.owner, &target.repo.repo, &commit)
                .await;
            finish(shared, Some(source), scanned)
        }
    }
}

fn finish(
    shared: &Shared,
    source: Option<Source>,
    scanned: Result<Arc<ScanOutcome>, crate::operator::scanner::ScanFailure>,
) -> Evaluation {
    let outcome = match scanned {
        Ok(outcome) => outcome,
        Err(failure) => {
            return Evaluation::failed(source, failure.reason, failure.message, true);
        }
    };
    if let Some(problem) = outcome.incomplete() {
        for error in &outcome.report.errors {
            if let Some(pack) = &error.pack {
                shared.metrics.pack_error(pack);
            }
        }
        let reason = if outcome
            .report
            .errors
            .iter()
            .any(|e| e.kind == crate::report::ErrorKind::Pack)
        {
            "PackError"
        } else {
            "FileError"
        };
        let mut evaluation = Evaluation::failed(source, reason, problem, true);
        evaluation.outcome = Some(outcome);
        return evaluation;
    }
    let (state, reasons) = evaluate(&outcome.report.findings, &Limits::default());
    Evaluation {
        source,
        outcome: Some(outcome),
        failure: None,
        state,
        reasons,
        policies: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PolicySpec;
    use crate::api::policy::Thresholds;

    fn selected(name: &str) -> SelectedPolicy {
        SelectedPolicy {
            kind: crate::operator::policy::NAMESPACED_KIND,
            namespace: Some("ns".into()),
            name: name.into(),
            spec: PolicySpec {
                thresholds: Thresholds {
                    max_critical: Some(100),
                    ..Thresholds::default()
                },
                ..PolicySpec::default()
            },
        }
    }

    #[test]
    fn a_failed_scan_is_unknown_under_every_policy() {
        let mut evaluation = Evaluation::failed(None, "RateLimited", "rate limited".into(), true);
        let today = "2026-01-01".parse().expect("a date");
        evaluation.apply_policies(&[selected("a"), selected("b")], today);
        assert_eq!(evaluation.state, ComplianceState::Unknown);
        assert_eq!(evaluation.reasons, ["rate limited"]);
        let results: Vec<(&str, ComplianceState, &[String])> = evaluation
            .policies
            .iter()
            .map(|p| (p.name.as_str(), p.state, p.reasons.as_slice()))
            .collect();
        let why = ["rate limited".to_owned()];
        assert_eq!(
            results,
            [
                ("a", ComplianceState::Unknown, &why[..]),
                ("b", ComplianceState::Unknown, &why[..])
            ]
        );
    }

    #[test]
    fn without_policies_nothing_changes() {
        let mut evaluation = Evaluation::failed(None, "UnsupportedHost", "no".into(), false);
        let before = evaluation.clone();
        evaluation.apply_policies(&[], "2026-01-01".parse().expect("a date"));
        assert_eq!(evaluation.state, before.state);
        assert!(evaluation.policies.is_empty());
    }
}
