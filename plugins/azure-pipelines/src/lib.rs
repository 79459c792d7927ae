//! The Azure Pipelines rule pack (skeleton: filled in by the pack's implementation).

use sluice_pack_sdk::{Pack, PackInfo, ScanOutput, ScanRequest};

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The Azure Pipelines pack.
#[derive(Debug)]
pub struct AzurePipelines;

impl Pack for AzurePipelines {
    fn info() -> PackInfo {
        PackInfo {
            id: "azure-pipelines",
            name: "Azure Pipelines",
            version: PACK_VERSION,
            platform: "azure-pipelines",
            description: "Azure Pipelines pipelines.",
            patterns: &[],
            rules: Vec::new(),
            options: Vec::new(),
        }
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Ok(ScanOutput::default())
    }
}

sluice_pack_sdk::export_pack!(AzurePipelines);
