//! From findings to a compliance state. The one place the state model lives:
//! `Critical` when critical findings exceed `maxCritical`, `NonCompliant` when another
//! threshold is exceeded, `Warning` when counted findings exist within the thresholds,
//! `Compliant` otherwise; `Unknown` is decided by the caller when the scan failed.

use crate::api::ComplianceState;
use crate::pack::types::{Confidence, Severity};
use crate::report::Finding;

/// Limits a subject is held to. Without any policy the operator uses [`Limits::default`]:
/// any critical or high finding breaks the limits, medium and below warn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_critical: Option<u32>,
    pub max_high: Option<u32>,
    pub max_medium: Option<u32>,
    /// Any finding tagged `unpinned-reference` breaks the limits.
    pub require_pinned: bool,
    /// Findings less sure than this are not counted.
    pub min_confidence: Option<Confidence>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_critical: Some(0),
            max_high: Some(0),
            max_medium: None,
            require_pinned: false,
            min_confidence: None,
        }
    }
}

/// The tag every pack puts on findings about unpinned actions, images, orbs, includes.
pub const UNPINNED_TAG: &str = "unpinned-reference";

/// The state of a subject whose scan succeeded, with the reasons a limit was broken.
pub fn evaluate<'f>(
    findings: impl IntoIterator<Item = &'f Finding>,
    limits: &Limits,
) -> (ComplianceState, Vec<String>) {
    let mut counts = [0u32; 5];
    let mut unpinned = 0u32;
    let mut counted = 0u32;
    for finding in findings {
        if !is_counted(finding, limits) {
            continue;
        }
        counted += 1;
        counts[finding.severity as usize] += 1;
        if finding.tags.iter().any(|t| t == UNPINNED_TAG) {
            unpinned += 1;
        }
    }
    let count = |s: Severity| counts[s as usize];
    let mut reasons = Vec::new();
    let over = |count: u32, max: Option<u32>| max.is_some_and(|max| count > max);
    if over(count(Severity::Critical), limits.max_critical) {
        reasons.push(format!(
            "{} critical finding(s), more than maxCritical {}",
            count(Severity::Critical),
            limits.max_critical.unwrap_or_default()
        ));
        return (ComplianceState::Critical, reasons);
    }
    for (severity, max, name) in [
        (Severity::High, limits.max_high, "maxHigh"),
        (Severity::Medium, limits.max_medium, "maxMedium"),
    ] {
        if over(count(severity), max) {
            reasons.push(format!(
                "{} {severity} finding(s), more than {name} {}",
                count(severity),
                max.unwrap_or_default()
            ));
        }
    }
    if limits.require_pinned && unpinned > 0 {
        reasons.push(format!(
            "{unpinned} unpinned reference(s) while requirePinnedActions is set"
        ));
    }
    if !reasons.is_empty() {
        (ComplianceState::NonCompliant, reasons)
    } else if counted > 0 {
        (ComplianceState::Warning, reasons)
    } else {
        (ComplianceState::Compliant, reasons)
    }
}

/// Whether `finding` counts towards the state at all under `limits`.
pub fn is_counted(finding: &Finding, limits: &Limits) -> bool {
    // Informational findings are context, not risk: they never change the state.
    finding.severity != Severity::Info
        && limits
            .min_confidence
            .is_none_or(|min| finding.confidence >= min)
}

/// Whether `finding` counts against a limit that is set (so enough of them break it), as
/// opposed to only making the subject `Warning`.
pub fn is_limited(finding: &Finding, limits: &Limits) -> bool {
    if !is_counted(finding, limits) {
        return false;
    }
    let by_severity = match finding.severity {
        Severity::Critical => limits.max_critical,
        Severity::High => limits.max_high,
        Severity::Medium => limits.max_medium,
        Severity::Low | Severity::Info => None,
    };
    by_severity.is_some()
        || (limits.require_pinned && finding.tags.iter().any(|t| t == UNPINNED_TAG))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A finding with only what the state model reads set (shared with the policy tests).
    pub(crate) fn finding(severity: Severity, confidence: Confidence, tags: &[&str]) -> Finding {
        Finding {
            rule_id: "XX-001".into(),
            rule_name: "rule".into(),
            pack: "pack".into(),
            severity,
            confidence,
            message: "m".into(),
            path: "p".into(),
            repository_path: "p".into(),
            start_line: 1,
            start_column: 1,
            end_line: 1,
            end_column: 2,
            span: Default::default(),
            related: Vec::new(),
            mitigations: Vec::new(),
            fingerprint: "f".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            properties: Vec::new(),
        }
    }

    #[test]
    fn the_state_model() {
        let limits = Limits::default();
        let high = finding(Severity::High, Confidence::High, &[]);
        let critical = finding(Severity::Critical, Confidence::High, &[]);
        let medium = finding(Severity::Medium, Confidence::Low, &[UNPINNED_TAG]);
        let info = finding(Severity::Info, Confidence::High, &[]);
        assert_eq!(evaluate([], &limits).0, ComplianceState::Compliant);
        assert_eq!(evaluate([&info], &limits).0, ComplianceState::Compliant);
        assert_eq!(evaluate([&medium], &limits).0, ComplianceState::Warning);
        assert_eq!(
            evaluate([&medium, &high], &limits).0,
            ComplianceState::NonCompliant
        );
        let (state, reasons) = evaluate([&high, &critical], &limits);
        assert_eq!(state, ComplianceState::Critical);
        assert!(reasons[0].contains("maxCritical 0"), "{reasons:?}");
        let pinned = Limits {
            require_pinned: true,
            ..Limits::default()
        };
        assert_eq!(
            evaluate([&medium], &pinned).0,
            ComplianceState::NonCompliant
        );
        let sure = Limits {
            require_pinned: true,
            min_confidence: Some(Confidence::Medium),
            ..Limits::default()
        };
        assert_eq!(evaluate([&medium], &sure).0, ComplianceState::Compliant);
        let lenient = Limits {
            max_high: Some(1),
            ..Limits::default()
        };
        assert_eq!(evaluate([&high], &lenient).0, ComplianceState::Warning);
    }

    #[test]
    fn limited_findings_are_those_a_set_limit_counts() {
        let limits = Limits::default();
        let high = finding(Severity::High, Confidence::Low, &[]);
        let medium = finding(Severity::Medium, Confidence::High, &[UNPINNED_TAG]);
        let info = finding(Severity::Info, Confidence::High, &[]);
        assert!(is_limited(&high, &limits));
        assert!(!is_limited(&medium, &limits), "no maxMedium by default");
        assert!(is_counted(&medium, &limits));
        assert!(!is_counted(&info, &limits) && !is_limited(&info, &limits));
        let pinned = Limits {
            require_pinned: true,
            ..Limits::default()
        };
        assert!(is_limited(&medium, &pinned));
        let sure = Limits {
            min_confidence: Some(Confidence::Medium),
            ..Limits::default()
        };
        assert!(!is_limited(&high, &sure), "below minConfidence");
    }
}
