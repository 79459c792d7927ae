//! A well-behaved pack: one `TPE-001` finding on the first line of every file it is given.
//! Scanned beside a hostile pack, its findings prove that one pack's failure costs only that
//! pack's findings.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPE-001");

struct Echo;

impl Pack for Echo {
    fn info() -> PackInfo {
        common::info("test-echo", &[RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let findings = request
            .files
            .iter()
            .map(|file| common::finding(&RULE, file, format!("echo saw {}", file.path)))
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(Echo);
