//! Baselines: a file of accepted findings' fingerprints, so a legacy repository can adopt sluice
//! and fail only on new findings. The format is documented in `docs/baseline.md`.
//!
//! ```json
//! {"version": 1, "tool": "sluice", "findings": [{"fingerprint": "…", "ruleId": "FG-002", "path": ".github/workflows/ci.yml", "message": "…"}]}
//! ```
//!
//! Only `fingerprint` decides whether a finding is baselined; the other fields are there for the
//! people reviewing the file. Fingerprints do not depend on lines, so editing around a finding
//! does not resurrect it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::{Finding, Report};

/// The baseline format version this host reads and writes.
pub const BASELINE_VERSION: u64 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BaselineEntry {
    /// Declared first so the derived order is the file's order.
    pub path: String,
    pub rule_id: String,
    pub fingerprint: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u64,
    tool: String,
    findings: Vec<BaselineEntry>,
}

/// Why a baseline could not be read or written (a usage error: exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("baseline {path}:{line}:{column}: not valid JSON: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "baseline {path}: unsupported version {found} (this sluice reads version {BASELINE_VERSION})"
    )]
    Version { path: String, found: String },
    #[error("baseline {path}:{line}:{column}: not a sluice baseline: {message}")]
    Shape {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot write baseline {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The fingerprints of a loaded baseline.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Reads and validates a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: shown.clone(),
            source,
        })?;
        Baseline::parse(&shown, &text)
    }

    /// Parses a baseline's text; `path` only names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Baseline, BaselineError> {
        // The version is checked before the shape, so a newer format is reported as such and
        // not as a pile of unknown fields.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BaselineError::Syntax {
                path: path.to_owned(),
                line: e.line(),
                column: e.column(),
                message: without_position(&e),
            })?;
        match value.get("version") {
            Some(version) if version.as_u64() == Some(BASELINE_VERSION) => {}
            Some(other) => {
                return Err(BaselineError::Version {
                    path: path.to_owned(),
                    found: other.to_string(),
                });
            }
            None => {
                return Err(BaselineError::Shape {
                    path: path.to_owned(),
                    line: 1,
                    column: 1,
                    message: "missing field `version`".to_owned(),
                });
            }
        }
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| BaselineError::Shape {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: without_position(&e),
        })?;
        Ok(Baseline {
            fingerprints: file.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Removes baselined findings from the report and counts them in `report.baselined`.
    pub fn apply(&self, report: &mut Report) {
        let before = report.findings.len();
        report.findings.retain(|f| !self.contains(&f.fingerprint));
        report.baselined += before - report.findings.len();
    }
}

/// The baseline document for `findings`: sorted by path, rule and fingerprint, one entry per
/// distinct finding, so the same findings always give the same bytes whatever order the files
/// were scanned in.
pub fn render(findings: &[Finding]) -> String {
    let entries: BTreeSet<BaselineEntry> = findings
        .iter()
        .map(|f| BaselineEntry {
            path: f.repository_path.clone(),
            rule_id: f.rule_id.clone(),
            fingerprint: f.fingerprint.clone(),
            message: f.message.clone(),
        })
        .collect();
    let file = BaselineFile {
        version: BASELINE_VERSION,
        tool: "sluice".to_owned(),
        findings: entries.into_iter().collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a baseline is plain strings");
    text.push('\n');
    text
}

/// Writes the baseline for `findings` to `path`.
pub fn write(path: &Path, findings: &[Finding]) -> Result<(), BaselineError> {
    std::fs::write(path, render(findings)).map_err(|source| BaselineError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// serde_json appends " at line L column C"; the error already says where.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_line() {
        let error =
            Baseline::parse("b.json", "{\n  \"version\": 1,\n  oops\n}").expect_err("not JSON");
        assert!(
            error.to_string().starts_with("baseline b.json:3:"),
            "{error}"
        );
    }

    #[test]
    fn unknown_versions_are_refused() {
        let error = Baseline::parse(
            "b.json",
            r#"{"version": 2, "tool": "sluice", "findings": []}"#,
        )
        .expect_err("version 2");
        assert!(matches!(error, BaselineError::Version { .. }), "{error}");
    }

    #[test]
    fn a_valid_baseline_knows_its_fingerprints() {
        let baseline = Baseline::parse(
            "b.json",
            r#"{"version": 1, "tool": "sluice", "findings": [{"fingerprint": "ab", "ruleId": "FG-001", "path": "x", "message": "m"}]}"#,
        )
        .expect("valid");
        assert!(baseline.contains("ab"));
        assert!(!baseline.contains("cd"));
    }
}
