//! The Tekton rule pack — placeholder until its implementation lands (not for release).

use sluice_pack_sdk::{Confidence, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, Severity};

/// The pack's version.
pub const PACK_VERSION: &str = "0.0.0";

const PLACEHOLDER: RuleMeta = RuleMeta {
    id: "TK-000",
    name: "placeholder",
    title: "Placeholder rule of an unfinished pack",
    default_severity: Severity::Info,
    default_confidence: Confidence::Low,
    description: "Never reported.",
    remediation: "None.",
    help_uri: "",
    tags: &[],
};

/// The Tekton pack.
#[derive(Debug)]
pub struct Tekton;

impl Pack for Tekton {
    fn info() -> PackInfo {
        PackInfo {
            id: "tekton",
            name: "Tekton",
            version: PACK_VERSION,
            platform: "tekton",
            description: "Tekton pipelines (placeholder).",
            patterns: &[".tekton/**/*.yaml"],
            content_patterns: &[],
            rules: vec![PLACEHOLDER],
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(Tekton);
