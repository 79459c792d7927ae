//! A pack built without the SDK, straight from `wit/pack.wit`: `sluice:pack@0.2.0`, whose
//! `finding` has one more field than 0.1. The host supports only 0.1.x and must say so when
//! loading it, instead of instantiating it and misreading its records.

// wit-bindgen's export glue is `unsafe` FFI with `export_name`; the SDK hides the same glue
// behind `export_pack!`, which this pack does not use.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    path: "wit",
    world: "sluice:pack/pack@0.2.0",
});

use exports::sluice::pack::rules::{Guest, PackInfo, ScanRequest, ScanResult};
use sluice::pack::types::{Confidence, Finding, RuleInfo, Severity, Span};

struct OtherWit;

impl Guest for OtherWit {
    fn info() -> PackInfo {
        PackInfo {
            id: "test-other-wit".to_owned(),
            name: "test-other-wit".to_owned(),
            version: "0.1.0".to_owned(),
            platform: "test".to_owned(),
            description: "A sluice test pack for an unsupported interface version.".to_owned(),
            patterns: vec!["**/*.yml".to_owned(), "**/*.yaml".to_owned()],
            rules: vec![RuleInfo {
                id: "TPV-001".to_owned(),
                name: "test-rule".to_owned(),
                title: "Test rule".to_owned(),
                default_severity: Severity::Low,
                default_confidence: Confidence::High,
                description: "Emitted by a sluice test pack.".to_owned(),
                remediation: "Nothing to fix: this is a test.".to_owned(),
                help_uri: String::new(),
                tags: vec!["test".to_owned()],
            }],
            options: Vec::new(),
        }
    }

    fn scan(request: ScanRequest) -> Result<ScanResult, String> {
        let findings = request
            .files
            .into_iter()
            .map(|file| Finding {
                rule_id: "TPV-001".to_owned(),
                severity: Severity::Low,
                confidence: Confidence::High,
                message: format!("other-wit saw {}", file.path),
                path: file.path,
                span: Span {
                    start_byte: 0,
                    end_byte: 0,
                    start_line: 1,
                    start_column: 1,
                    end_line: 1,
                    end_column: 1,
                },
                related: Vec::new(),
                mitigations: Vec::new(),
                fingerprint_key: String::new(),
                properties: Vec::new(),
                cwe: vec!["CWE-94".to_owned()],
            })
            .collect();
        Ok(ScanResult {
            findings,
            errors: Vec::new(),
        })
    }
}

export!(OtherWit);
