//! The Jenkins rule pack — placeholder until its implementation lands (not for release).

use sluice_pack_sdk::{Confidence, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, Severity};

/// The pack's version.
pub const PACK_VERSION: &str = "0.0.0";

const PLACEHOLDER: RuleMeta = RuleMeta {
    id: "JK-000",
    name: "placeholder",
    title: "Placeholder rule of an unfinished pack",
    default_severity: Severity::Info,
    default_confidence: Confidence::Low,
    description: "Never reported.",
    remediation: "None.",
    help_uri: "",
    tags: &[],
};

/// The Jenkins pack.
#[derive(Debug)]
pub struct Jenkins;

impl Pack for Jenkins {
    fn info() -> PackInfo {
        PackInfo {
            id: "jenkins",
            name: "Jenkins",
            version: PACK_VERSION,
            platform: "jenkins",
            description: "Jenkins pipelines (placeholder).",
            patterns: &["Jenkinsfile"],
            content_patterns: &[],
            rules: vec![PLACEHOLDER],
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(Jenkins);
