//! A pack that declares options and reports what it received: one `TPO-001` finding per file
//! whose message lists every option of the scan request in order (`options: a=1, a=2`), so a
//! test sees exactly what the host passed from `.sluice.yml`.

use sluice_pack_sdk::{OptionMeta, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPO-001");

struct Options;

impl Pack for Options {
    fn info() -> PackInfo {
        let mut info = common::info("test-options", &[RULE]);
        info.options = vec![
            OptionMeta {
                name: "labels",
                description: "A list option.",
                default_value: "",
            },
            OptionMeta {
                name: "mode",
                description: "A single-valued option.",
                default_value: "normal",
            },
        ];
        info
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let received: Vec<String> = request
            .options
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let findings = request
            .files
            .iter()
            .map(|file| common::finding(&RULE, file, format!("options: {}", received.join(", "))))
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(Options);
