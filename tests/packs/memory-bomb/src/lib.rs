//! A pack that allocates without end: the host's memory limit must stop it.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPM-001");

/// Allocation size per step.
const CHUNK: usize = 1024 * 1024;

struct MemoryBomb;

impl Pack for MemoryBomb {
    fn info() -> PackInfo {
        common::info("test-memory-bomb", &[RULE])
    }

    fn scan(_request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Written page by page below, so the memory is really used, not just reserved;
            // `black_box` keeps the optimiser from dropping chunks nobody reads.
            let mut chunk = vec![0u8; CHUNK];
            let stamp = u8::try_from(hoard.len() % 251).unwrap_or(0);
            for byte in chunk.iter_mut().step_by(4096) {
                *byte = stamp ^ 0xa5;
            }
            hoard.push(std::hint::black_box(chunk));
        }
    }
}

export_pack!(MemoryBomb);
