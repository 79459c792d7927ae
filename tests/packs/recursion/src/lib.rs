//! A pack that recurses without bound: the host must report a stack overflow, not crash.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPR-001");

struct Recursion;

/// Recurses forever. The condition is opaque (so rustc's unconditional-recursion lint and the
/// optimiser both see a base case) and the result is used after the call (so it is not a tail
/// call that could become a loop).
#[inline(never)]
fn dive(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let below = dive(std::hint::black_box(depth + 1));
    std::hint::black_box(below ^ depth)
}

impl Pack for Recursion {
    fn info() -> PackInfo {
        common::info("test-recursion", &[RULE])
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        let depth = dive(0);
        Err(format!(
            "recursion ended at depth {depth}, which cannot happen"
        ))
    }
}

export_pack!(Recursion);
