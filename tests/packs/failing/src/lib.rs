//! A pack whose `scan` returns `Err`: the host must report it as the pack's own failure.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPX-001");

struct Failing;

impl Pack for Failing {
    fn info() -> PackInfo {
        common::info("test-failing", &[RULE])
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        Err("deliberate failure".to_owned())
    }
}

export_pack!(Failing);
