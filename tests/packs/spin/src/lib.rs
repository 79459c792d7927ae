//! A pack whose `scan` never returns: the host's epoch deadline must interrupt it.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPS-001");

struct Spin;

impl Pack for Spin {
    fn info() -> PackInfo {
        // `info` stays fast: loading must succeed so that the time limit of `scan` is tested.
        common::info("test-spin", &[RULE])
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        // `black_box` hides the counter from the optimiser, so the loop cannot be proven
        // side-effect free and removed (or turned into a trap).
        let mut counter: u64 = 0;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

export_pack!(Spin);
