//! A pack that returns a flood of valid findings, the first few with 100 KiB messages: the host
//! must keep only its cap of findings, cut long messages, and report both.
//!
//! It floods the file that contains a line `sluice-test-flood: N` with N findings (so tests can
//! choose the size without rebuilding), or the first file with [`DEFAULT_FINDINGS`].

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPF-001");

/// Far above the host's cap of 10,000 findings per call.
pub const DEFAULT_FINDINGS: usize = 1_000_000;
/// Marks the file to flood and the number of findings.
pub const DIRECTIVE: &str = "sluice-test-flood:";
/// The first findings get a huge message; they are within the host's cap, so they are kept and
/// must come out cut.
pub const HUGE_MESSAGES: usize = 5;
/// Length of a huge message in bytes.
pub const HUGE_BYTES: usize = 100 * 1024;

struct Flood;

/// `x` then two-byte characters: the host's 4096-byte cut falls inside a character, so it must
/// find a character boundary instead of producing invalid UTF-8 (or panicking).
fn huge_message() -> String {
    let mut message = String::with_capacity(HUGE_BYTES);
    message.push('x');
    while message.len() + 'é'.len_utf8() <= HUGE_BYTES {
        message.push('é');
    }
    message
}

impl Pack for Flood {
    fn info() -> PackInfo {
        common::info("test-flood", &[RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let directive = request.files.iter().find_map(|file| {
            let line = file.content.lines().find(|line| line.contains(DIRECTIVE))?;
            let count = line.split(DIRECTIVE).nth(1)?.trim().parse::<usize>().ok()?;
            Some((file, count))
        });
        let Some((file, count)) =
            directive.or_else(|| request.files.first().map(|file| (file, DEFAULT_FINDINGS)))
        else {
            return Ok(ScanOutput::default());
        };
        let huge = huge_message();
        // Sized up front: doubling a vector of a million findings would need half again the
        // memory at its peak.
        let mut findings = Vec::with_capacity(count);
        for index in 0..count {
            let message = if index < HUGE_MESSAGES {
                huge.clone()
            } else {
                format!("flood {index}")
            };
            findings.push(common::finding(&RULE, file, message));
        }
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(Flood);
