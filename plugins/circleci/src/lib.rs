//! The CircleCI rule pack — placeholder until its implementation lands (not for release).

use sluice_pack_sdk::{Confidence, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, Severity};

/// The pack's version.
pub const PACK_VERSION: &str = "0.0.0";

const PLACEHOLDER: RuleMeta = RuleMeta {
    id: "CC-000",
    name: "placeholder",
    title: "Placeholder rule of an unfinished pack",
    default_severity: Severity::Info,
    default_confidence: Confidence::Low,
    description: "Never reported.",
    remediation: "None.",
    help_uri: "",
    tags: &[],
};

/// The CircleCI pack.
#[derive(Debug)]
pub struct Circleci;

impl Pack for Circleci {
    fn info() -> PackInfo {
        PackInfo {
            id: "circleci",
            name: "CircleCI",
            version: PACK_VERSION,
            platform: "circleci",
            description: "CircleCI pipelines (placeholder).",
            patterns: &[".circleci/*.yml"],
            content_patterns: &[],
            rules: vec![PLACEHOLDER],
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(Circleci);
