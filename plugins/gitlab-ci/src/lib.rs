//! The GitLab CI rule pack (skeleton: filled in by the pack's implementation).

use sluice_pack_sdk::{Pack, PackInfo, ScanOutput, ScanRequest};

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

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
            description: "GitLab CI pipelines.",
            patterns: &[],
            rules: Vec::new(),
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(GitlabCi);
