//! A pack whose metadata declares the same rule id twice: the host must refuse to load it.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPB-001");

struct BadInfo;

impl Pack for BadInfo {
    fn info() -> PackInfo {
        common::info("test-bad-info", &[RULE, RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        // Never reached: a pack with invalid metadata must not run at all.
        let findings = request
            .files
            .iter()
            .map(|file| common::finding(&RULE, file, "bad-info pack was run"))
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(BadInfo);
