//! The GitLab CI rule pack — placeholder until its implementation lands (not for release).

use sluice_pack_sdk::{Confidence, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, Severity};

/// The pack's version.
pub const PACK_VERSION: &str = "0.0.0";

const PLACEHOLDER: RuleMeta = RuleMeta {
    id: "GL-000",
    name: "placeholder",
    title: "Placeholder rule of an unfinished pack",
    default_severity: Severity::Info,
    default_confidence: Confidence::Low,
    description: "Never reported.",
    remediation: "None.",
    help_uri: "",
    tags: &[],
};

/// The GitLab CI pack.
#[derive(Debug)]
pub struct GitlabCi;

impl Pack for GitlabCi {
    fn info() -> PackInfo {
        PackInfo {
            id: "gitlab-ci",
            name: "GitLab CI",
            version: PACK_VERSION,
            platform: "gitlab-ci",
            description: "GitLab CI pipelines (placeholder).",
            patterns: &[".gitlab-ci.yml"],
            content_patterns: &[],
            rules: vec![PLACEHOLDER],
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(GitlabCi);
