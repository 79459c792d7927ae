//! A pack that panics in `scan`: with `panic = abort` (wasm's default) the guest traps.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPP-001");

struct Panic;

impl Pack for Panic {
    fn info() -> PackInfo {
        common::info("test-panic", &[RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        panic!("deliberate test panic: {} files", request.files.len());
    }
}

export_pack!(Panic);
