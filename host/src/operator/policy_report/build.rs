//! The content of a subject's `PolicyReport` (pure): one result per finding the sluice report
//! lists, or one result about the scan itself, and the counts over them.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::api::report::{PipelineSecurityReportStatus, ReportFinding};
use crate::api::report_status::truncate;
use crate::operator::evaluate::{Limits, is_limited};
use crate::operator::evaluation::Evaluation;
use crate::operator::policy::SelectedPolicy;
use crate::operator::policy::apply::limits;
use crate::operator::policy::overrides::apply_overrides;
use crate::operator::report_writer::Subject;
use crate::report::Finding;

/// `source` of every result: the engine Policy Reporter names.
pub const SOURCE: &str = "sluice";
/// `policy` of the result about the scan itself (no finding to name).
pub const SCAN_POLICY: &str = "sluice-scan";
/// Longest result message, in bytes.
const MAX_MESSAGE: usize = 1000;

/// What the CRD calls `result`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Warn,
    Error,
    Skip,
}

/// `results[].timestamp`: a protobuf Timestamp.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultTime {
    pub seconds: i64,
    pub nanos: i32,
}

/// One `results[]` entry of `wgpolicyk8s.io/v1alpha2`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    pub policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    pub result: Outcome,
    pub source: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub scored: bool,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    pub timestamp: ResultTime,
}

/// `summary`: how many results of each outcome.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub pass: u32,
    pub fail: u32,
    pub warn: u32,
    pub error: u32,
    pub skip: u32,
}

/// Everything of a `PolicyReport` below `metadata`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Body {
    pub scope: ObjectReference,
    pub summary: Summary,
    pub results: Vec<PolicyResult>,
}

/// What a `PolicyReport` is built from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub subject: &'a Subject,
    pub evaluation: &'a Evaluation,
    /// The sluice report's status as written this pass: its listed findings become results.
    pub status: &'a PipelineSecurityReportStatus,
    pub policies: &'a [SelectedPolicy],
    pub today: Date,
    pub now: Timestamp,
}

/// The report body, every result stamped `now` (see [`settle`] for carrying stamps over).
pub fn body(inputs: &Inputs<'_>) -> Body {
    let Inputs {
        subject,
        evaluation,
        status,
        ..
    } = *inputs;
    let stamp = ResultTime {
        seconds: inputs.now.as_second(),
        nanos: 0,
    };
    let source = evaluation.source.as_ref();
    let mut origin = BTreeMap::new();
    if let Some(source) = source {
        origin.insert("repository".to_owned(), source.repository.clone());
        if let Some(commit) = &source.commit {
            origin.insert("commit".to_owned(), commit.clone());
        }
    }
    let mut results = Vec::new();
    if let Some(failure) = &evaluation.failure {
        let mut properties = origin.clone();
        properties.insert("reason".to_owned(), failure.reason.clone());
        results.push(PolicyResult {
            policy: SCAN_POLICY.to_owned(),
            rule: Some(failure.reason.clone()),
            category: None,
            severity: None,
            // Nothing was attempted for a subject that cannot be scanned by design (an
            // unsupported host, a Helm chart source): skipped, not an error.
            result: if failure.scan_failed {
                Outcome::Error
            } else {
                Outcome::Skip
            },
            source: SOURCE.to_owned(),
            message: truncate(&failure.message, MAX_MESSAGE),
            scored: true,
            properties,
            timestamp: stamp,
        });
    }
    let all: &[Finding] = evaluation
        .outcome
        .as_ref()
        .map_or(&[], |o| o.report.findings.as_slice());
    let by_fingerprint: HashMap<&str, &Finding> = all
        .iter()
        .rev()
        .map(|f| (f.fingerprint.as_str(), f))
        .collect();
    let limited = limited(
        all,
        inputs.policies,
        source.map(|s| s.repository.as_str()),
        inputs.today,
    );
    for listed in &status.findings {
        let finding = by_fingerprint.get(listed.fingerprint.as_str()).copied();
        results.push(finding_result(
            listed,
            finding,
            limited.contains(listed.fingerprint.as_str()),
            &origin,
            stamp,
        ));
    }
    if results.is_empty() {
        let files = evaluation
            .outcome
            .as_ref()
            .map_or(0, |o| o.report.files_scanned);
        let at = source
            .and_then(|s| s.commit.as_deref())
            .map(|c| format!(" at commit {c}"))
            .unwrap_or_default();
        results.push(PolicyResult {
            policy: SCAN_POLICY.to_owned(),
            rule: Some("Scanned".to_owned()),
            category: None,
            severity: None,
            result: Outcome::Pass,
            source: SOURCE.to_owned(),
            message: format!("{files} pipeline file(s) scanned{at}; no findings"),
            scored: true,
            properties: origin,
            timestamp: stamp,
        });
    }
    let mut summary = Summary::default();
    for result in &results {
        let count = match result.result {
            Outcome::Pass => &mut summary.pass,
            Outcome::Fail => &mut summary.fail,
            Outcome::Warn => &mut summary.warn,
            Outcome::Error => &mut summary.error,
            Outcome::Skip => &mut summary.skip,
        };
        *count += 1;
    }
    Body {
        scope: subject.object_reference(),
        summary,
        results,
    }
}

fn finding_result(
    listed: &ReportFinding,
    finding: Option<&Finding>,
    limited: bool,
    origin: &BTreeMap<String, String>,
    stamp: ResultTime,
) -> PolicyResult {
    let mut properties = origin.clone();
    properties.insert("file".to_owned(), listed.path.clone());
    properties.insert("line".to_owned(), listed.line.to_string());
    properties.insert("fingerprint".to_owned(), listed.fingerprint.clone());
    properties.insert("confidence".to_owned(), listed.confidence.clone());
    if let Some(finding) = finding {
        properties.insert("pack".to_owned(), finding.pack.clone());
    }
    PolicyResult {
        // Policy Reporter lists and filters by policy: the rule id is what `sluice explain`
        // takes, the rule's name says what it is about.
        policy: listed.rule_id.clone(),
        rule: finding.map(|f| f.rule_name.clone()),
        // A rule's first tag is its main concern (injection, secrets, supply-chain, ...).
        category: finding.and_then(|f| f.tags.first().cloned()),
        severity: Some(listed.severity.clone()),
        result: if limited {
            Outcome::Fail
        } else {
            Outcome::Warn
        },
        source: SOURCE.to_owned(),
        message: listed.message.clone(),
        scored: true,
        properties,
        timestamp: stamp,
    }
}

/// Fingerprints of the findings that count against a limit that is set, under the default
/// limits when no policy selects the subject, else under at least one selecting policy (after
/// its rule overrides).
fn limited(
    findings: &[Finding],
    policies: &[SelectedPolicy],
    repository: Option<&str>,
    today: Date,
) -> HashSet<String> {
    if policies.is_empty() {
        let defaults = Limits::default();
        return findings
            .iter()
            .filter(|f| is_limited(f, &defaults))
            .map(|f| f.fingerprint.clone())
            .collect();
    }
    let mut out = HashSet::new();
    for policy in policies {
        let policy_limits = limits(&policy.spec.thresholds);
        let counted = apply_overrides(findings, &policy.spec.rule_overrides, repository, today);
        out.extend(
            counted
                .findings
                .iter()
                .filter(|f| is_limited(f, &policy_limits))
                .map(|f| f.fingerprint.clone()),
        );
    }
    out
}

/// Carries each result's time stamp over from `current` when it already reported the same
/// thing (same finding, or the same scan outcome), so an unchanged pass yields an identical
/// body and no write: the stamp says when a result was first seen.
pub fn settle(desired: &mut Body, current: &[PolicyResult]) {
    let seen: HashMap<String, ResultTime> =
        current.iter().map(|r| (identity(r), r.timestamp)).collect();
    for result in &mut desired.results {
        if let Some(stamp) = seen.get(&identity(result)) {
            result.timestamp = *stamp;
        }
    }
}

fn identity(result: &PolicyResult) -> String {
    match result.properties.get("fingerprint") {
        Some(fingerprint) => format!("finding/{fingerprint}"),
        None => format!(
            "scan/{}/{}/{:?}",
            result.policy,
            result.rule.as_deref().unwrap_or_default(),
            result.result
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PolicySpec;
    use crate::api::policy::{OverrideSeverity, RuleOverride, Thresholds};
    use crate::operator::policy::NAMESPACED_KIND;
    use crate::operator::policy::overrides::tests::finding;
    use crate::pack::types::Severity;

    fn policy(thresholds: Thresholds, overrides: Vec<RuleOverride>) -> SelectedPolicy {
        SelectedPolicy {
            kind: NAMESPACED_KIND,
            namespace: Some("shop".into()),
            name: "p".into(),
            spec: PolicySpec {
                thresholds,
                rule_overrides: overrides,
                ..PolicySpec::default()
            },
        }
    }

    fn sorted(set: HashSet<String>) -> Vec<String> {
        let mut list: Vec<String> = set.into_iter().collect();
        list.sort();
        list
    }

    #[test]
    fn fail_follows_the_limits_in_force() {
        let today: Date = "2026-06-15".parse().expect("a date");
        let findings = [
            finding("FG-001", Severity::Critical),
            finding("FG-002", Severity::High),
            finding("FG-014", Severity::Medium),
            finding("FG-003", Severity::Low),
        ];
        // No policy: the default limits (maxCritical 0, maxHigh 0).
        assert_eq!(
            sorted(limited(&findings, &[], None, today)),
            ["FG-001-Critical", "FG-002-High"]
        );
        // A policy limiting medium findings, and ignoring FG-002.
        let strict = policy(
            Thresholds {
                max_medium: Some(5),
                ..Thresholds::default()
            },
            vec![RuleOverride {
                rule: "FG-002".into(),
                severity: OverrideSeverity::Ignore,
                repositories: vec![],
                reason: "accepted".into(),
                expires: None,
            }],
        );
        assert_eq!(
            sorted(limited(
                &findings,
                std::slice::from_ref(&strict),
                None,
                today
            )),
            ["FG-014-Medium"]
        );
        // Under several policies, breaking any one's limit is enough.
        let defaults = policy(
            Thresholds {
                max_high: Some(0),
                ..Thresholds::default()
            },
            vec![],
        );
        assert_eq!(
            sorted(limited(&findings, &[strict, defaults], None, today)),
            ["FG-002-High", "FG-014-Medium"]
        );
    }

    #[test]
    fn settled_stamps_carry_over_per_finding() {
        let stamp = |seconds| ResultTime { seconds, nanos: 0 };
        let result = |fingerprint: &str, seconds| PolicyResult {
            policy: "FG-001".into(),
            rule: None,
            category: None,
            severity: Some("high".into()),
            result: Outcome::Fail,
            source: SOURCE.into(),
            message: String::new(),
            scored: true,
            properties: [("fingerprint".to_owned(), fingerprint.to_owned())].into(),
            timestamp: stamp(seconds),
        };
        let mut desired = Body {
            scope: ObjectReference::default(),
            summary: Summary::default(),
            results: vec![result("a", 200), result("b", 200)],
        };
        settle(&mut desired, &[result("a", 100), result("c", 50)]);
        let stamps: Vec<i64> = desired
            .results
            .iter()
            .map(|r| r.timestamp.seconds)
            .collect();
        assert_eq!(stamps, [100, 200], "a was seen before, b is new");
    }
}
