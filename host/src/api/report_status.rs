//! Turns a scan report into the findings part of a `PipelineSecurityReport` status: counts over
//! every finding, the worst few in full, and a digest of all fingerprints. The cap keeps the
//! object far below etcd's 1.5 MiB limit whatever the repository holds.

use sha2::{Digest, Sha256};

use crate::pack::types::Severity;
use crate::report::{Finding, Report};

use super::report::{FindingSummary, PackVersion, ReportFinding};

/// How many findings a report status lists unless the operator is configured otherwise.
pub const DEFAULT_FINDINGS_CAP: usize = 100;
/// Longest message kept in a status, in bytes (cut on a character boundary, marked with `…`).
pub const MAX_MESSAGE_LEN: usize = 512;
/// Longest path kept in a status, in bytes.
pub const MAX_PATH_LEN: usize = 512;

/// The findings part of a report status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsStatus {
    /// Counts over all findings.
    pub summary: FindingSummary,
    /// The worst `cap` findings.
    pub findings: Vec<ReportFinding>,
    /// How many findings are not in `findings`.
    pub omitted: u32,
    /// sha256 hex of the sorted, de-duplicated fingerprints of all findings.
    pub digest: String,
}

/// Summary, the worst `cap` findings (severity, then confidence, then path and line), how many
/// were left out, and the fingerprint digest.
pub fn findings_status(report: &Report, cap: usize) -> FindingsStatus {
    let mut summary = FindingSummary::default();
    for finding in &report.findings {
        let count = match finding.severity {
            Severity::Critical => &mut summary.critical,
            Severity::High => &mut summary.high,
            Severity::Medium => &mut summary.medium,
            Severity::Low => &mut summary.low,
            Severity::Info => &mut summary.info,
        };
        *count = count.saturating_add(1);
        summary.total = summary.total.saturating_add(1);
    }

    let mut worst: Vec<&Finding> = report.findings.iter().collect();
    worst.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.confidence.cmp(&a.confidence))
            .then_with(|| a.repository_path.cmp(&b.repository_path))
            .then_with(|| a.start_line.cmp(&b.start_line))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    let findings: Vec<ReportFinding> = worst.iter().take(cap).map(|f| report_finding(f)).collect();
    let omitted = u32::try_from(report.findings.len() - findings.len()).unwrap_or(u32::MAX);

    FindingsStatus {
        summary,
        findings,
        omitted,
        digest: fingerprint_digest(report.findings.iter().map(|f| f.fingerprint.as_str())),
    }
}

/// The packs that took part in the scan, with their versions.
pub fn pack_versions(report: &Report) -> Vec<PackVersion> {
    report
        .packs
        .iter()
        .map(|p| PackVersion {
            id: p.id.clone(),
            version: p.version.clone(),
        })
        .collect()
}

/// sha256 hex over the sorted, de-duplicated fingerprints, one per line: independent of the
/// order and of line moves, different as soon as one finding appears or goes.
pub fn fingerprint_digest<'a>(fingerprints: impl IntoIterator<Item = &'a str>) -> String {
    let mut sorted: Vec<&str> = fingerprints.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut hasher = Sha256::new();
    for fingerprint in sorted {
        hasher.update(fingerprint.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

fn report_finding(finding: &Finding) -> ReportFinding {
    ReportFinding {
        rule_id: finding.rule_id.clone(),
        severity: finding.severity.as_str().to_owned(),
        confidence: finding.confidence.as_str().to_owned(),
        path: truncate(&finding.repository_path, MAX_PATH_LEN),
        line: finding.start_line,
        message: truncate(&finding.message, MAX_MESSAGE_LEN),
        fingerprint: finding.fingerprint.clone(),
    }
}

/// At most `max` bytes, cut on a character boundary; a cut text ends with `…` (counted).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::types::{Confidence, Span};
    use crate::report::PackSummary;

    fn finding(
        rule: &str,
        severity: Severity,
        confidence: Confidence,
        path: &str,
        line: u32,
    ) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            rule_name: "a rule".to_owned(),
            pack: "github-actions".to_owned(),
            severity,
            confidence,
            message: format!("{rule} in {path}:{line}"),
            path: format!("/checkout/{path}"),
            repository_path: path.to_owned(),
            start_line: line,
            start_column: 1,
            end_line: line,
            end_column: 10,
            span: Span::default(),
            related: Vec::new(),
            mitigations: Vec::new(),
            // Line-independent, like the real fingerprint.
            fingerprint: format!("{rule}:{path}"),
            tags: Vec::new(),
            properties: Vec::new(),
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            findings,
            ..Report::default()
        }
    }

    #[test]
    fn counts_every_finding_and_lists_the_worst_first() {
        let report = report(vec![
            finding("FG-003", Severity::Medium, Confidence::High, "b.yml", 1),
            finding("FG-001", Severity::Critical, Confidence::Low, "z.yml", 9),
            finding("FG-002", Severity::High, Confidence::Medium, "a.yml", 7),
            finding("FG-002", Severity::High, Confidence::High, "c.yml", 3),
            finding("FG-002", Severity::High, Confidence::Medium, "a.yml", 2),
            finding("FG-004", Severity::Info, Confidence::High, "a.yml", 1),
            finding("FG-005", Severity::Low, Confidence::High, "a.yml", 1),
        ]);
        let status = findings_status(&report, 4);
        assert_eq!(
            status.summary,
            FindingSummary {
                critical: 1,
                high: 3,
                medium: 1,
                low: 1,
                info: 1,
                total: 7
            }
        );
        let order: Vec<(&str, &str, &str, u32)> = status
            .findings
            .iter()
            .map(|f| {
                (
                    f.severity.as_str(),
                    f.confidence.as_str(),
                    f.path.as_str(),
                    f.line,
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("critical", "low", "z.yml", 9),
                ("high", "high", "c.yml", 3),
                ("high", "medium", "a.yml", 2),
                ("high", "medium", "a.yml", 7),
            ]
        );
        assert_eq!(status.omitted, 3);
        // The repository path, not the display path.
        assert_eq!(status.findings[0].rule_id, "FG-001");
        assert_eq!(status.findings[0].message, "FG-001 in z.yml:9");
    }

    #[test]
    fn a_cap_above_the_count_keeps_everything() {
        let report = report(vec![
            finding("FG-001", Severity::Low, Confidence::High, "a.yml", 1),
            finding("FG-002", Severity::High, Confidence::High, "a.yml", 2),
        ]);
        let status = findings_status(&report, DEFAULT_FINDINGS_CAP);
        assert_eq!(status.findings.len(), 2);
        assert_eq!(status.omitted, 0);
        let empty = findings_status(&Report::default(), DEFAULT_FINDINGS_CAP);
        assert_eq!(empty.summary, FindingSummary::default());
        assert!(empty.findings.is_empty());
        assert_eq!(empty.digest.len(), 64);
    }

    #[test]
    fn digest_covers_all_findings_in_any_order() {
        let a = finding("FG-001", Severity::Low, Confidence::High, "a.yml", 1);
        let b = finding("FG-002", Severity::High, Confidence::High, "a.yml", 2);
        let c = finding("FG-003", Severity::Info, Confidence::Low, "b.yml", 3);
        let forward = findings_status(&report(vec![a.clone(), b.clone(), c.clone()]), 1);
        let backward = findings_status(&report(vec![c.clone(), b.clone(), a.clone()]), 1);
        assert_eq!(forward.digest, backward.digest);
        // A finding beyond the cap still changes the digest.
        let fewer = findings_status(&report(vec![b.clone(), a.clone()]), 1);
        assert_ne!(forward.digest, fewer.digest);
        assert_eq!(forward.findings, fewer.findings);
        // Moving a finding to another line keeps its fingerprint, hence the digest.
        let mut moved = a.clone();
        moved.start_line = 40;
        let moved = findings_status(&report(vec![moved, b, c]), 1);
        assert_eq!(moved.digest, forward.digest);
    }

    #[test]
    fn long_messages_and_paths_are_cut_on_a_character_boundary() {
        let mut long = finding("FG-001", Severity::High, Confidence::High, "a.yml", 1);
        long.message = "é".repeat(2_000);
        long.repository_path = format!("{}.yml", "dir/".repeat(500));
        let status = findings_status(&report(vec![long]), 10);
        let kept = &status.findings[0];
        assert!(
            kept.message.len() <= MAX_MESSAGE_LEN,
            "{}",
            kept.message.len()
        );
        assert!(kept.message.len() > MAX_MESSAGE_LEN - 8);
        assert!(kept.message.ends_with('…'));
        assert!(kept.message.trim_end_matches('…').chars().all(|c| c == 'é'));
        assert!(kept.path.len() <= MAX_PATH_LEN);
        assert!(kept.path.starts_with("dir/dir/"));
        let short = finding("FG-002", Severity::High, Confidence::High, "a.yml", 1);
        assert_eq!(
            findings_status(&report(vec![short]), 1).findings[0].message,
            "FG-002 in a.yml:1"
        );
    }

    #[test]
    fn ten_thousand_findings_stay_far_below_the_etcd_limit() {
        let findings = (0..10_000u32)
            .map(|i| {
                let mut f = finding(
                    "FG-001",
                    Severity::ALL[(i % 5) as usize],
                    Confidence::High,
                    &format!(".github/workflows/w{i}.yml"),
                    i,
                );
                f.message = "x".repeat(4_000);
                f
            })
            .collect();
        let status = findings_status(&report(findings), DEFAULT_FINDINGS_CAP);
        assert_eq!(status.findings.len(), DEFAULT_FINDINGS_CAP);
        assert_eq!(status.omitted, 9_900);
        assert_eq!(status.summary.total, 10_000);
        assert_eq!(status.summary.critical, 2_000);
        assert!(status.findings.iter().all(|f| f.severity == "critical"));
        let full = crate::api::PipelineSecurityReportStatus {
            summary: status.summary,
            findings: status.findings,
            findings_omitted: status.omitted,
            fingerprint_digest: Some(status.digest),
            ..Default::default()
        };
        let bytes = serde_json::to_vec(&full).expect("serializable").len();
        assert!(bytes < 256 * 1024, "status is {bytes} bytes");
    }

    #[test]
    fn pack_versions_come_from_the_report() {
        let report = Report {
            packs: vec![PackSummary {
                id: "gitlab-ci".to_owned(),
                version: "1.2.0".to_owned(),
                source: "built-in".to_owned(),
                files: 3,
            }],
            ..Report::default()
        };
        assert_eq!(
            pack_versions(&report),
            [PackVersion {
                id: "gitlab-ci".to_owned(),
                version: "1.2.0".to_owned()
            }]
        );
    }
}
