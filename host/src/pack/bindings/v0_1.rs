//! `sluice:pack@0.1.x`.

use crate::pack::types as host;

wasmtime::component::bindgen!({
    path: "../wit/v0.1",
    world: "sluice:pack/pack@0.1.0",
});

pub use exports::sluice::pack::rules::{PackInfo as WitPackInfo, ScanRequest, ScanResult};
// `self::` because the generated module shares its name with this crate.
pub use self::sluice::pack::host::{Host, LogLevel};
use self::sluice::pack::types as wit;

impl From<wit::Severity> for host::Severity {
    fn from(s: wit::Severity) -> Self {
        match s {
            wit::Severity::Info => host::Severity::Info,
            wit::Severity::Low => host::Severity::Low,
            wit::Severity::Medium => host::Severity::Medium,
            wit::Severity::High => host::Severity::High,
            wit::Severity::Critical => host::Severity::Critical,
        }
    }
}

impl From<wit::Confidence> for host::Confidence {
    fn from(c: wit::Confidence) -> Self {
        match c {
            wit::Confidence::Low => host::Confidence::Low,
            wit::Confidence::Medium => host::Confidence::Medium,
            wit::Confidence::High => host::Confidence::High,
        }
    }
}

impl From<wit::Span> for host::Span {
    fn from(s: wit::Span) -> Self {
        host::Span {
            start_byte: s.start_byte,
            end_byte: s.end_byte,
            start_line: s.start_line,
            start_column: s.start_column,
            end_line: s.end_line,
            end_column: s.end_column,
        }
    }
}

impl From<WitPackInfo> for host::PackInfo {
    fn from(info: WitPackInfo) -> Self {
        host::PackInfo {
            id: info.id,
            name: info.name,
            version: info.version,
            platform: info.platform,
            description: info.description,
            patterns: info.patterns,
            content_patterns: info
                .content_patterns
                .into_iter()
                .map(|c| host::ContentPattern {
                    glob: c.glob,
                    marker: c.marker,
                })
                .collect(),
            rules: info
                .rules
                .into_iter()
                .map(|r| host::RuleInfo {
                    id: r.id,
                    name: r.name,
                    title: r.title,
                    default_severity: r.default_severity.into(),
                    default_confidence: r.default_confidence.into(),
                    description: r.description,
                    remediation: r.remediation,
                    help_uri: r.help_uri,
                    tags: r.tags,
                })
                .collect(),
            options: info
                .options
                .into_iter()
                .map(|o| host::OptionInfo {
                    name: o.name,
                    description: o.description,
                    default_value: o.default_value,
                })
                .collect(),
        }
    }
}

impl From<wit::Finding> for host::PackFinding {
    fn from(f: wit::Finding) -> Self {
        host::PackFinding {
            rule_id: f.rule_id,
            severity: f.severity.into(),
            confidence: f.confidence.into(),
            message: f.message,
            path: f.path,
            span: f.span.into(),
            related: f
                .related
                .into_iter()
                .map(|l| host::Location {
                    path: l.path,
                    span: l.span.into(),
                    message: l.message,
                })
                .collect(),
            mitigations: f
                .mitigations
                .into_iter()
                .map(|m| host::Mitigation {
                    kind: m.kind,
                    description: m.description,
                })
                .collect(),
            fingerprint_key: f.fingerprint_key,
            properties: f.properties,
        }
    }
}

impl From<wit::FileError> for host::PackFileError {
    fn from(e: wit::FileError) -> Self {
        host::PackFileError {
            path: e.path,
            kind: match e.kind {
                wit::FileErrorKind::Parse => host::FileErrorKind::Parse,
                wit::FileErrorKind::Unsupported => host::FileErrorKind::Unsupported,
                wit::FileErrorKind::Limit => host::FileErrorKind::Limit,
            },
            message: e.message,
            span: e.span.map(Into::into),
        }
    }
}

/// Builds the request for this version.
pub fn request(files: &[crate::pack::SourceFile], options: &[(String, String)]) -> ScanRequest {
    ScanRequest {
        files: files
            .iter()
            .map(|f| wit::SourceFile {
                path: f.path.clone(),
                content: f.content.clone(),
            })
            .collect(),
        options: options.to_vec(),
    }
}

/// Splits a scan result into host findings and file errors.
pub fn result(result: ScanResult) -> (Vec<host::PackFinding>, Vec<host::PackFileError>) {
    (
        result.findings.into_iter().map(Into::into).collect(),
        result.errors.into_iter().map(Into::into).collect(),
    )
}
