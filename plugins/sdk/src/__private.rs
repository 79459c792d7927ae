//! Plumbing used by `export_pack!`. Not part of the SDK's stable API.

pub use wit_bindgen;

wit_bindgen::generate!({
    path: "../../wit/v0.1",
    world: "sluice:pack/pack@0.1.0",
    pub_export_macro: true,
    export_macro_name: "__export_pack_raw",
    default_bindings_module: "::sluice_pack_sdk::__private",
    runtime_path: "::sluice_pack_sdk::__private::wit_bindgen::rt",
});

use exports::sluice::pack::rules as wit;
use sluice::pack::types as wit_types;

use crate::types::{
    Confidence, FileError, FileErrorKind, Finding, PackInfo, ScanOutput, ScanRequest, Severity,
    SourceFile, Span,
};

/// Runs `P::scan` on a request received over the component boundary.
pub fn scan<P: crate::Pack>(request: wit::ScanRequest) -> Result<wit::ScanResult, String> {
    let request = ScanRequest {
        files: request
            .files
            .into_iter()
            .map(|f| SourceFile {
                path: f.path,
                content: f.content,
            })
            .collect(),
        options: request.options,
    };
    P::scan(&request).map(output_to_wit)
}

/// Converts pack metadata for the component boundary.
pub fn info_to_wit(info: PackInfo) -> wit::PackInfo {
    wit::PackInfo {
        id: info.id.to_owned(),
        name: info.name.to_owned(),
        version: info.version.to_owned(),
        platform: info.platform.to_owned(),
        description: info.description.to_owned(),
        patterns: info.patterns.iter().map(|p| (*p).to_owned()).collect(),
        content_patterns: info
            .content_patterns
            .iter()
            .map(|c| wit_types::ContentPattern {
                glob: c.glob.to_owned(),
                marker: c.marker.to_owned(),
            })
            .collect(),
        rules: info
            .rules
            .into_iter()
            .map(|r| wit_types::RuleInfo {
                id: r.id.to_owned(),
                name: r.name.to_owned(),
                title: r.title.to_owned(),
                default_severity: severity_to_wit(r.default_severity),
                default_confidence: confidence_to_wit(r.default_confidence),
                description: r.description.to_owned(),
                remediation: r.remediation.to_owned(),
                help_uri: r.help_uri.to_owned(),
                tags: r.tags.iter().map(|t| (*t).to_owned()).collect(),
            })
            .collect(),
        options: info
            .options
            .into_iter()
            .map(|o| wit_types::OptionInfo {
                name: o.name.to_owned(),
                description: o.description.to_owned(),
                default_value: o.default_value.to_owned(),
            })
            .collect(),
    }
}

fn output_to_wit(output: ScanOutput) -> wit::ScanResult {
    wit::ScanResult {
        findings: output.findings.into_iter().map(finding_to_wit).collect(),
        errors: output.errors.into_iter().map(error_to_wit).collect(),
    }
}

fn finding_to_wit(f: Finding) -> wit_types::Finding {
    wit_types::Finding {
        rule_id: f.rule_id,
        severity: severity_to_wit(f.severity),
        confidence: confidence_to_wit(f.confidence),
        message: f.message,
        path: f.path,
        span: span_to_wit(f.span),
        related: f
            .related
            .into_iter()
            .map(|l| wit_types::Location {
                path: l.path,
                span: span_to_wit(l.span),
                message: l.message,
            })
            .collect(),
        mitigations: f
            .mitigations
            .into_iter()
            .map(|m| wit_types::Mitigation {
                kind: m.kind,
                description: m.description,
            })
            .collect(),
        fingerprint_key: f.fingerprint_key,
        properties: f.properties,
    }
}

fn error_to_wit(e: FileError) -> wit_types::FileError {
    wit_types::FileError {
        path: e.path,
        kind: match e.kind {
            FileErrorKind::Parse => wit_types::FileErrorKind::Parse,
            FileErrorKind::Unsupported => wit_types::FileErrorKind::Unsupported,
            FileErrorKind::Limit => wit_types::FileErrorKind::Limit,
        },
        message: e.message,
        span: e.span.map(span_to_wit),
    }
}

fn span_to_wit(s: Span) -> wit_types::Span {
    wit_types::Span {
        start_byte: s.start_byte,
        end_byte: s.end_byte,
        start_line: s.start_line,
        start_column: s.start_column,
        end_line: s.end_line,
        end_column: s.end_column,
    }
}

fn severity_to_wit(s: Severity) -> wit_types::Severity {
    match s {
        Severity::Info => wit_types::Severity::Info,
        Severity::Low => wit_types::Severity::Low,
        Severity::Medium => wit_types::Severity::Medium,
        Severity::High => wit_types::Severity::High,
        Severity::Critical => wit_types::Severity::Critical,
    }
}

fn confidence_to_wit(c: Confidence) -> wit_types::Confidence {
    match c {
        Confidence::Low => wit_types::Confidence::Low,
        Confidence::Medium => wit_types::Confidence::Medium,
        Confidence::High => wit_types::Confidence::High,
    }
}

/// Exports a [`Pack`](crate::Pack) implementation as the component's `sluice:pack/rules`.
///
/// ```ignore
/// struct MyPack;
/// impl sluice_pack_sdk::Pack for MyPack { /* ... */ }
/// sluice_pack_sdk::export_pack!(MyPack);
/// ```
///
/// Only expands to anything on `wasm32`; native builds (unit tests) use [`testing`](crate::testing).
#[macro_export]
macro_rules! export_pack {
    ($pack:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct SluiceExport;
            impl $crate::__private::exports::sluice::pack::rules::Guest for SluiceExport {
                fn info() -> $crate::__private::exports::sluice::pack::rules::PackInfo {
                    $crate::__private::info_to_wit(<$pack as $crate::Pack>::info())
                }
                fn scan(
                    request: $crate::__private::exports::sluice::pack::rules::ScanRequest,
                ) -> ::core::result::Result<
                    $crate::__private::exports::sluice::pack::rules::ScanResult,
                    ::std::string::String,
                > {
                    $crate::__private::scan::<$pack>(request)
                }
            }
    $crate::__private::__export_pack_raw!(SluiceExport with_types_in $crate::__private);
        };
    };
}
