//! Each selecting policy's verdict (overrides, then thresholds through the one state model in
//! [`crate::operator::evaluate`]), and the subject's state: the worst verdict.

use k8s_openapi::jiff::civil::Date;

use crate::api::ComplianceState;
use crate::api::policy::{Confidence as PolicyConfidence, Thresholds};
use crate::api::report::PolicyResult;
use crate::operator::evaluate::{Limits, evaluate};
use crate::pack::types::Confidence;
use crate::report::Finding;

use super::overrides::apply_overrides;
use super::select::SelectedPolicy;

/// The outcome over every selecting policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVerdict {
    pub state: ComplianceState,
    /// The worst policies' reasons, each prefixed with the policy that gave it.
    pub reasons: Vec<String>,
    /// One result per policy, in the order of `policies` (sorted by the selection).
    pub results: Vec<PolicyResult>,
}

/// A policy's thresholds as the state model's limits. Absent limits are no limit: a policy
/// that sets only `maxHigh` allows any number of critical findings.
pub fn limits(thresholds: &Thresholds) -> Limits {
    Limits {
        max_critical: thresholds.max_critical,
        max_high: thresholds.max_high,
        max_medium: thresholds.max_medium,
        require_pinned: thresholds.require_pinned_actions,
        min_confidence: thresholds.min_confidence.map(|c| match c {
            PolicyConfidence::Low => Confidence::Low,
            PolicyConfidence::Medium => Confidence::Medium,
            PolicyConfidence::High => Confidence::High,
        }),
    }
}

/// Evaluates a successful scan's `findings` against every policy; `None` when no policy
/// selects the subject (the default limits then apply).
pub fn evaluate_policies(
    findings: &[Finding],
    policies: &[SelectedPolicy],
    repository: Option<&str>,
    today: Date,
) -> Option<PolicyVerdict> {
    let results: Vec<PolicyResult> = policies
        .iter()
        .map(|policy| {
            let counted = apply_overrides(findings, &policy.spec.rule_overrides, repository, today);
            let (state, mut reasons) = evaluate(
                counted.findings.iter().map(AsRef::as_ref),
                &limits(&policy.spec.thresholds),
            );
            reasons.extend(counted.notes);
            result(policy, state, reasons)
        })
        .collect();
    let state = ComplianceState::worst_of(results.iter().map(|r| r.state))?;
    let reasons = results
        .iter()
        .filter(|r| r.state == state)
        .flat_map(|r| {
            r.reasons
                .iter()
                .map(move |reason| format!("{}: {reason}", r.name))
        })
        .collect();
    Some(PolicyVerdict {
        state,
        reasons,
        results,
    })
}

/// Every policy's result when the scan failed: `Unknown`, for `why`.
pub fn unknown_results(policies: &[SelectedPolicy], why: &str) -> Vec<PolicyResult> {
    policies
        .iter()
        .map(|p| result(p, ComplianceState::Unknown, vec![why.to_owned()]))
        .collect()
}

fn result(policy: &SelectedPolicy, state: ComplianceState, reasons: Vec<String>) -> PolicyResult {
    PolicyResult {
        kind: policy.kind.to_owned(),
        namespace: policy.namespace.clone(),
        name: policy.name.clone(),
        state,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PolicySpec;
    use crate::api::policy::{OverrideSeverity, RuleOverride};
    use crate::operator::policy::overrides::tests::finding;
    use crate::pack::types::Severity;

    fn policy(name: &str, thresholds: Thresholds, overrides: Vec<RuleOverride>) -> SelectedPolicy {
        SelectedPolicy {
            kind: super::super::NAMESPACED_KIND,
            namespace: Some("shop".into()),
            name: name.into(),
            spec: PolicySpec {
                thresholds,
                rule_overrides: overrides,
                ..PolicySpec::default()
            },
        }
    }

    fn today() -> Date {
        "2026-06-15".parse().expect("a date")
    }

    #[test]
    fn no_policy_no_verdict() {
        assert_eq!(
            evaluate_policies(&[finding("FG-001", Severity::High)], &[], None, today()),
            None
        );
    }

    #[test]
    fn the_worst_policy_wins_and_each_result_is_recorded() {
        let findings = [
            finding("FG-001", Severity::High),
            finding("FG-002", Severity::Medium),
        ];
        let lenient = policy(
            "lenient",
            Thresholds {
                max_high: Some(3),
                ..Thresholds::default()
            },
            vec![],
        );
        let strict = policy(
            "strict",
            Thresholds {
                max_high: Some(0),
                ..Thresholds::default()
            },
            vec![],
        );
        let verdict = evaluate_policies(&findings, &[lenient.clone(), strict], None, today())
            .expect("a verdict");
        assert_eq!(verdict.state, ComplianceState::NonCompliant);
        let states: Vec<(&str, ComplianceState)> = verdict
            .results
            .iter()
            .map(|r| (r.name.as_str(), r.state))
            .collect();
        assert_eq!(
            states,
            [
                ("lenient", ComplianceState::Warning),
                ("strict", ComplianceState::NonCompliant)
            ]
        );
        assert_eq!(
            verdict.reasons,
            ["strict: 1 high finding(s), more than maxHigh 0"]
        );

        // An override in one policy only changes that policy's count.
        let ignoring = policy(
            "ignoring",
            Thresholds {
                max_high: Some(0),
                ..Thresholds::default()
            },
            vec![RuleOverride {
                rule: "FG-001".into(),
                severity: OverrideSeverity::Ignore,
                repositories: vec![],
                reason: "r".into(),
                expires: None,
            }],
        );
        let verdict =
            evaluate_policies(&findings, &[ignoring, lenient], None, today()).expect("a verdict");
        assert_eq!(verdict.state, ComplianceState::Warning);
        assert!(
            verdict
                .results
                .iter()
                .all(|r| r.state == ComplianceState::Warning)
        );
    }

    #[test]
    fn absent_thresholds_are_no_limit() {
        let findings = [finding("FG-001", Severity::Critical)];
        let only_high = policy(
            "p",
            Thresholds {
                max_high: Some(0),
                ..Thresholds::default()
            },
            vec![],
        );
        let verdict = evaluate_policies(&findings, &[only_high], None, today()).expect("a verdict");
        assert_eq!(verdict.state, ComplianceState::Warning);
    }
}
