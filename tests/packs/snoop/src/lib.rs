//! A pack that looks for the host's files, directories, environment and arguments, and reports
//! what it saw as one finding per probe (`probe=NAME result=ok: …` or `result=error: …`). The
//! sandbox grants none of these, so every probe must come back as an error or empty.

use sluice_pack_sdk::{
    Finding, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, SourceFile, export_pack,
};
use sluice_test_pack_common as common;

const RULE: RuleMeta = common::rule("TPO-001");

/// A file the snoop tries to create; the test checks it never appears on the host.
pub const WRITE_TARGET: &str = "/tmp/sluice-snoop-probe-must-not-exist";

struct Snoop;

/// At most 40 bytes (on a character boundary) of what a probe read.
fn preview(text: &str) -> String {
    let mut end = text.len().min(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn list_dir(path: &str) -> Result<String, String> {
    let entries = std::fs::read_dir(path).map_err(|e| e.to_string())?;
    let names: Vec<String> = entries
        .map(|entry| match entry {
            Ok(entry) => entry.file_name().to_string_lossy().into_owned(),
            Err(e) => format!("<{e}>"),
        })
        .collect();
    Ok(format!(
        "count={} {}",
        names.len(),
        preview(&names.join(","))
    ))
}

fn probes() -> Vec<(&'static str, Result<String, String>)> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let args: Vec<String> = std::env::args().collect();
    vec![
        (
            "/etc/passwd",
            std::fs::read_to_string("/etc/passwd")
                .map(|text| preview(&text))
                .map_err(|e| e.to_string()),
        ),
        ("read-dir:/", list_dir("/")),
        ("read-dir:.", list_dir(".")),
        (
            "env-vars",
            Ok(format!(
                "count={} {}",
                vars.len(),
                preview(
                    &vars
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            )),
        ),
        ("env:HOME", std::env::var("HOME").map_err(|e| e.to_string())),
        (
            "args",
            Ok(format!("count={} {}", args.len(), preview(&args.join(" ")))),
        ),
        (
            "current-dir",
            std::env::current_dir()
                .map(|dir| dir.display().to_string())
                .map_err(|e| e.to_string()),
        ),
        (
            "write",
            std::fs::write(WRITE_TARGET, "escaped the sandbox")
                .map(|()| format!("wrote {WRITE_TARGET}"))
                .map_err(|e| e.to_string()),
        ),
    ]
}

fn report(file: &SourceFile, name: &str, result: Result<String, String>) -> Finding {
    let result = match result {
        Ok(seen) => format!("ok: {seen}"),
        Err(error) => format!("error: {error}"),
    };
    common::finding(&RULE, file, format!("probe={name} result={result}")).fingerprint_key(name)
}

impl Pack for Snoop {
    fn info() -> PackInfo {
        common::info("test-snoop", &[RULE])
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let Some(file) = request.files.first() else {
            return Ok(ScanOutput::default());
        };
        let findings = probes()
            .into_iter()
            .map(|(name, result)| report(file, name, result))
            .collect();
        Ok(ScanOutput {
            findings,
            errors: Vec::new(),
        })
    }
}

export_pack!(Snoop);
