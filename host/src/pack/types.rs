//! The host's own view of packs and their output, independent of any WIT version.
//!
//! Every supported interface version converts into these types (see `bindings`), so the rest of
//! the host never sees generated code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a finding is, least severe first (so `Ord` compares severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected info, low, medium, high or critical)")
            })
    }
}

/// How sure the pack is, least sure first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A region of a file (1-based lines/columns in chars, 0-based bytes, ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// Metadata of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub title: String,
    pub default_severity: Severity,
    pub default_confidence: Confidence,
    pub description: String,
    pub remediation: String,
    pub help_uri: String,
    pub tags: Vec<String>,
}

/// An option a pack understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionInfo {
    pub name: String,
    pub description: String,
    pub default_value: String,
}

/// A file matching `glob` is a pack's input when its text contains `marker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentPattern {
    pub glob: String,
    pub marker: String,
}

/// What a pack says about itself, validated at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub platform: String,
    pub description: String,
    pub patterns: Vec<String>,
    /// Files read only when their text contains a marker.
    #[serde(default)]
    pub content_patterns: Vec<ContentPattern>,
    pub rules: Vec<RuleInfo>,
    pub options: Vec<OptionInfo>,
}

impl PackInfo {
    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// A place related to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub path: String,
    pub span: Span,
    pub message: String,
}

/// A safeguard that lowered a finding's severity or confidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mitigation {
    pub kind: String,
    pub description: String,
}

/// A finding as a pack returned it (paths relative to the repository root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackFinding {
    pub rule_id: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    pub path: String,
    pub span: Span,
    pub related: Vec<Location>,
    pub mitigations: Vec<Mitigation>,
    pub fingerprint_key: String,
    pub properties: Vec<(String, String)>,
}

/// Why a pack could not analyse a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileErrorKind {
    Parse,
    Unsupported,
    Limit,
}

/// A file a pack could not (fully) analyse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackFileError {
    pub path: String,
    pub kind: FileErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

/// One scan call's output, after the host checked and capped it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackOutput {
    pub findings: Vec<PackFinding>,
    pub file_errors: Vec<PackFileError>,
    /// Problems with the pack's output itself (undeclared rules, caps hit), for the report.
    pub output_problems: Vec<String>,
}
