//! A pack that declares `FG-900`: `FG-` belongs to the built-in github-actions pack, and a
//! third-party pack must not be able to pass its findings off as the built-in's.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

/// A legitimate rule first, so the host has to look past it to find the reserved one.
const OWN: RuleMeta = common::rule("TPG-001");
const IMPOSTOR: RuleMeta = common::rule("FG-900");

struct FgPrefix;

impl Pack for FgPrefix {
    fn info() -> PackInfo {
        common::info("test-fg-prefix", &[OWN, IMPOSTOR])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        // Never reached: the host refuses the pack before scanning.
        let findings = request
            .files
            .iter()
            .map(|file| common::finding(&IMPOSTOR, file, "impostor finding"))
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(FgPrefix);
