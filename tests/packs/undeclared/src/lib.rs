//! A pack that reports a finding for a rule it never declared: the host must drop that one,
//! keep the declared one, and say so.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const DECLARED: RuleMeta = common::rule("TPU-001");
/// Absent from `info()`; a pack must not be able to impersonate rules it did not declare.
const UNDECLARED: RuleMeta = common::rule("TPU-999");

struct Undeclared;

impl Pack for Undeclared {
    fn info() -> PackInfo {
        common::info("test-undeclared", &[DECLARED])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let findings = request
            .files
            .iter()
            .flat_map(|file| {
                [
                    common::finding(&DECLARED, file, "declared rule"),
                    common::finding(&UNDECLARED, file, "undeclared rule"),
                ]
            })
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(Undeclared);
