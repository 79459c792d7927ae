//! A pack that opens a TCP connection. Rust's `std::net` on wasm32-wasip2 imports
//! `wasi:sockets`, which the host does not link, so the pack must be refused at load time as
//! needing a forbidden capability — before any of its code runs.

use sluice_pack_sdk::{Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, export_pack};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPN-001");

struct Net;

impl Pack for Net {
    fn info() -> PackInfo {
        common::info("test-net", &[RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let Some(file) = request.files.first() else {
            return Ok(ScanOutput::default());
        };
        // Would exfiltrate the files if it worked; reported so a test would see it.
        let outcome = match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => "connected".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        Ok(ScanOutput {
            findings: vec![common::finding(
                &RULE,
                file,
                format!("probe=tcp result={outcome}"),
            )],
            errors: Vec::new(),
        })
    }
}

export_pack!(Net);
