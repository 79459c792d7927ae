//! The finding model shared by every output format.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::pack::types::{Confidence, Location, Mitigation, PackFinding, RuleInfo, Severity, Span};

/// One finding, ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub pack: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    /// Path as the user sees it.
    pub path: String,
    /// Path relative to the repository root (what the fingerprint uses).
    pub repository_path: String,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
    #[serde(skip)]
    pub span: Span,
    pub related: Vec<Location>,
    pub mitigations: Vec<Mitigation>,
    /// Line-independent identity: sha256 of rule id, repository path and the pack's key.
    pub fingerprint: String,
    pub tags: Vec<String>,
    #[serde(serialize_with = "properties_as_map")]
    pub properties: Vec<(String, String)>,
}

impl Finding {
    /// Builds a report finding from a pack's, resolving paths for display.
    pub fn from_pack(
        finding: PackFinding,
        pack: &str,
        rule: &RuleInfo,
        display: impl Fn(&str) -> String,
    ) -> Finding {
        let fingerprint = fingerprint(&finding.rule_id, &finding.path, &finding.fingerprint_key);
        Finding {
            rule_name: rule.name.clone(),
            tags: rule.tags.clone(),
            pack: pack.to_owned(),
            severity: finding.severity,
            confidence: finding.confidence,
            message: finding.message,
            path: display(&finding.path),
            start_line: finding.span.start_line,
            start_column: finding.span.start_column,
            end_line: finding.span.end_line,
            end_column: finding.span.end_column,
            span: finding.span,
            related: finding
                .related
                .into_iter()
                .map(|l| Location {
                    path: display(&l.path),
                    ..l
                })
                .collect(),
            mitigations: finding.mitigations,
            fingerprint,
            properties: finding.properties,
            repository_path: finding.path,
            rule_id: finding.rule_id,
        }
    }
}

/// sha256(rule id, path, key): stable while lines move, different per rule and file.
pub fn fingerprint(rule_id: &str, repository_path: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule_id, repository_path, key] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn properties_as_map<S: serde::Serializer>(
    properties: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let map: BTreeMap<&str, &str> = properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    map.serialize(serializer)
}

/// What kind of problem stopped (part of) a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// A file was over the size limit.
    TooLarge,
    /// A file was not UTF-8.
    Encoding,
    /// A file named on the command line that no pack reads.
    Unmatched,
    /// A pack could not parse a file.
    Parse,
    /// A pack cannot analyse a construct in a file.
    Unsupported,
    /// A file exceeded a pack's limit.
    Limit,
    /// A pack failed to load or run, or returned invalid output.
    Pack,
    /// A repository of a `--github-org` scan could not be read (the others were scanned).
    Repository,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Encoding => "encoding",
            ErrorKind::Unmatched => "unmatched",
            ErrorKind::Parse => "parse",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "limit",
            ErrorKind::Pack => "pack",
            ErrorKind::Repository => "repository",
        }
    }
}

/// A problem that kept part of the scan from running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanError {
    pub kind: ErrorKind,
    /// For pack errors: `timeout`, `out-of-memory`, `trap`, `interface-mismatch`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The file involved; `null` for errors about a pack as a whole.
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl ScanError {
    pub fn new(kind: ErrorKind, message: String) -> ScanError {
        ScanError {
            kind,
            reason: None,
            path: None,
            pack: None,
            line: None,
            column: None,
            message,
        }
    }

    #[must_use]
    pub fn path(mut self, path: String) -> ScanError {
        self.path = Some(path);
        self
    }

    #[must_use]
    pub fn pack(mut self, pack: String) -> ScanError {
        self.pack = Some(pack);
        self
    }

    #[must_use]
    pub fn reason(mut self, reason: &str) -> ScanError {
        self.reason = Some(reason.to_owned());
        self
    }

    #[must_use]
    pub fn line(mut self, line: u32) -> ScanError {
        self.line = Some(line);
        self
    }

    #[must_use]
    pub fn column(mut self, column: u32) -> ScanError {
        self.column = Some(column);
        self
    }
}

/// A pack that took part in the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackSummary {
    pub id: String,
    pub version: String,
    pub source: String,
    pub files: usize,
}

/// A rule as listed in reports (SARIF needs every rule of every pack used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRule {
    pub pack: String,
    /// The pack's platform (the documentation's comment syntax depends on it).
    pub platform: String,
    pub info: RuleInfo,
    /// The rule's own help URI, or the committed page of a built-in rule.
    pub help_uri: String,
}

/// Counts for the summary line and the JSON `summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub files: usize,
    pub findings: usize,
    pub errors: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    /// Findings dropped by `ignore` entries of `.sluice.yml`.
    pub config_ignored: usize,
    /// Findings hidden by a `sluice: ignore[...]` comment.
    pub suppressed: usize,
    /// Findings hidden because their fingerprint is in the `--baseline` file.
    pub baselined: usize,
    /// Pack runs answered from the result cache (fetched commits scanned before).
    pub cached_results: usize,
}

/// Where and why a finding was suppressed in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    /// The text after the rule list, if any.
    pub reason: Option<String>,
    /// Display path of the file holding the comment.
    pub path: String,
    /// Line of the comment (1-based).
    pub line: u32,
}

/// A finding an inline comment suppressed, kept for the summary, `--show-suppressed` and SARIF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub suppression: Suppression,
}

/// Everything a scan produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Worst first, then by path and position.
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub packs: Vec<PackSummary>,
    pub rules: Vec<ReportRule>,
    pub files_scanned: usize,
    /// File contents by display path, to show source lines.
    pub sources: BTreeMap<String, Arc<str>>,
    /// Findings dropped by `ignore` entries of `.sluice.yml` (counted, never silent).
    pub config_ignored: usize,
    /// Findings inline comments suppressed (not in `findings`), in the same order.
    pub suppressed: Vec<SuppressedFinding>,
    /// `--show-suppressed`: table and JSON list `suppressed` (SARIF always carries them, marked).
    pub show_suppressed: bool,
    /// How many findings the `--baseline` file hid.
    pub baselined: usize,
    /// Repositories read through the GitHub API, with the commit each ref resolved to.
    pub repositories: Vec<ScannedRepository>,
    /// Pack runs answered from the result cache instead of running the pack.
    pub cached_results: usize,
}

/// A repository scanned through the GitHub API (`--github`), in the order named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScannedRepository {
    /// `owner/repo`.
    pub repository: String,
    /// The ref as given; absent for the default branch.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The commit that was scanned.
    pub commit: String,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            files: self.files_scanned,
            findings: self.findings.len(),
            errors: self.errors.len(),
            config_ignored: self.config_ignored,
            suppressed: self.suppressed.len(),
            baselined: self.baselined,
            cached_results: self.cached_results,
            ..Summary::default()
        };
        for finding in &self.findings {
            match finding.severity {
                Severity::Critical => summary.critical += 1,
                Severity::High => summary.high += 1,
                Severity::Medium => summary.medium += 1,
                Severity::Low => summary.low += 1,
                Severity::Info => summary.info += 1,
            }
        }
        summary
    }

    /// Sorts findings worst first, then by path, line, column and rule.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.start_line.cmp(&b.start_line))
                .then_with(|| a.start_column.cmp(&b.start_column))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.message.cmp(&b.message))
        });
        self.errors.sort_by(|a, b| {
            a.path
                .cmp(&b.path)
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.message.cmp(&b.message))
        });
    }

    /// Keeps only findings at or above `min`.
    pub fn retain_min_severity(&mut self, min: Severity) {
        self.findings.retain(|f| f.severity >= min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_separates_fields() {
        assert_ne!(fingerprint("A", "bc", ""), fingerprint("A", "b", "c"));
        assert_eq!(fingerprint("A", "b", "c"), fingerprint("A", "b", "c"));
        assert_eq!(fingerprint("A", "b", "c").len(), 64);
    }
}
