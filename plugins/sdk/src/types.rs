//! The pack author's view of the `sluice:pack` interface: plain Rust types, no wit-bindgen.
//!
//! These mirror `wit/v0.1/pack.wit` one to one; `export_pack!` converts them at the boundary.

use std::fmt;

/// How bad a finding is, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// Lower by `steps` levels, never below `Info`.
    #[must_use]
    pub fn downgrade(self, steps: u8) -> Severity {
        let index = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::ALL[index.saturating_sub(usize::from(steps))]
    }

    /// The lower of `self` and `cap`.
    #[must_use]
    pub fn cap(self, cap: Severity) -> Severity {
        self.min(cap)
    }

    /// Lower-case name as used in reports and on the command line.
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
        f.write_str(self.as_str())
    }
}

/// How sure a rule is that the finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// Lower-case name as used in reports.
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
        f.write_str(self.as_str())
    }
}

/// A region of a file: 1-based lines and columns (columns count `char`s), 0-based byte offsets,
/// ends exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Span {
    /// The smallest span covering both.
    #[must_use]
    pub fn cover(self, other: Span) -> Span {
        let (start, end) = (
            if other.start_byte < self.start_byte {
                other
            } else {
                self
            },
            if other.end_byte > self.end_byte {
                other
            } else {
                self
            },
        );
        Span {
            start_byte: start.start_byte,
            start_line: start.start_line,
            start_column: start.start_column,
            end_byte: end.end_byte,
            end_line: end.end_line,
            end_column: end.end_column,
        }
    }
}

/// Metadata of one rule. Declared as a `const` beside the rule's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable id such as `FG-002`.
    pub id: &'static str,
    /// Short kebab-case name such as `script-injection`.
    pub name: &'static str,
    /// One-line title.
    pub title: &'static str,
    pub default_severity: Severity,
    pub default_confidence: Confidence,
    /// What the rule detects and why it matters (Markdown).
    pub description: &'static str,
    /// How to fix it (Markdown).
    pub remediation: &'static str,
    /// Documentation link; may be empty.
    pub help_uri: &'static str,
    /// Classification tags such as `injection`, `unpinned-reference`.
    pub tags: &'static [&'static str],
}

/// An option a pack understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionMeta {
    pub name: &'static str,
    pub description: &'static str,
    pub default_value: &'static str,
}

/// Everything the host needs to know about a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    pub platform: &'static str,
    pub description: &'static str,
    /// Globs relative to the repository root (`**` crosses directories, `{a,b}` alternates).
    pub patterns: &'static [&'static str],
    /// Files read only when their text contains a marker (see [`ContentPattern`]).
    pub content_patterns: &'static [ContentPattern],
    pub rules: Vec<RuleMeta>,
    pub options: Vec<OptionMeta>,
}

/// Files a pack reads only when their text shows they are its own: a path matching `glob`
/// whose content contains `marker`. For platforms recognised by content rather than by path,
/// such as Tekton objects (`apiVersion: tekton.dev/v1`) anywhere in a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentPattern {
    pub glob: &'static str,
    /// A plain, case-sensitive substring.
    pub marker: &'static str,
}

/// One file handed to the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    pub content: String,
}

/// One scan request: every matching file of a repository plus user options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanRequest {
    pub files: Vec<SourceFile>,
    pub options: Vec<(String, String)>,
}

impl ScanRequest {
    /// The file at `path`, if the repository has it.
    pub fn file(&self, path: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The value of option `name`, if the user set it.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A place that explains a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub span: Span,
    pub message: String,
}

/// A safeguard that lowered a finding's severity or confidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mitigation {
    /// Stable kind such as `fork-guard`.
    pub kind: String,
    /// What exactly was found.
    pub description: String,
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    pub path: String,
    pub span: Span,
    pub related: Vec<Location>,
    pub mitigations: Vec<Mitigation>,
    /// What keeps this the same finding when lines move (route + matched text).
    pub fingerprint_key: String,
    pub properties: Vec<(String, String)>,
}

impl Finding {
    /// Starts a finding of `rule` at `path`/`span` with the rule's default severity and
    /// confidence and its title as the message.
    pub fn new(rule: &RuleMeta, path: impl Into<String>, span: Span) -> Finding {
        Finding {
            rule_id: rule.id.to_owned(),
            severity: rule.default_severity,
            confidence: rule.default_confidence,
            message: rule.title.to_owned(),
            path: path.into(),
            span,
            related: Vec::new(),
            mitigations: Vec::new(),
            fingerprint_key: String::new(),
            properties: Vec::new(),
        }
    }

    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Finding {
        self.message = message.into();
        self
    }

    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    #[must_use]
    pub fn confidence(mut self, confidence: Confidence) -> Finding {
        self.confidence = confidence;
        self
    }

    #[must_use]
    pub fn fingerprint_key(mut self, key: impl Into<String>) -> Finding {
        self.fingerprint_key = key.into();
        self
    }

    #[must_use]
    pub fn related(
        mut self,
        path: impl Into<String>,
        span: Span,
        message: impl Into<String>,
    ) -> Finding {
        self.related.push(Location {
            path: path.into(),
            span,
            message: message.into(),
        });
        self
    }

    #[must_use]
    pub fn mitigation(
        mut self,
        kind: impl Into<String>,
        description: impl Into<String>,
    ) -> Finding {
        self.mitigations.push(Mitigation {
            kind: kind.into(),
            description: description.into(),
        });
        self
    }

    #[must_use]
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Finding {
        self.properties.push((key.into(), value.into()));
        self
    }
}

/// Why a file could not be analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileErrorKind {
    /// Not valid for its format.
    Parse,
    /// Valid, but uses something the pack cannot analyse.
    Unsupported,
    /// Valid, but exceeded a pack limit (nesting, alias expansion).
    Limit,
}

/// A file the pack could not (fully) analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: String,
    pub kind: FileErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

/// Everything one scan produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanOutput {
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
}

/// A rule pack. Implement this and call [`export_pack!`](crate::export_pack) once.
pub trait Pack {
    /// Describes the pack and every rule it can emit.
    fn info() -> PackInfo;

    /// Analyses one repository's matching files. `Err` fails the whole scan; per-file problems
    /// go into [`ScanOutput::errors`].
    fn scan(request: &ScanRequest) -> Result<ScanOutput, String>;
}
