//! `--format json`: `{"version": 1, "findings": [...], "errors": [...], "summary": {...}}`.

use serde_json::{Value, json};

use crate::report::Report;

/// Version of the JSON layout; bumped when a field is renamed or removed.
pub const JSON_VERSION: u32 = 1;

pub fn render(report: &Report) -> String {
    let value = to_value(report);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|e| {
        json!({"version": JSON_VERSION, "error": format!("cannot serialize report: {e}")})
            .to_string()
    });
    text.push('\n');
    text
}

pub fn to_value(report: &Report) -> Value {
    let mut value = json!({
        "version": JSON_VERSION,
        "tool": {"name": "sluice", "version": env!("CARGO_PKG_VERSION")},
        "findings": report.findings,
        "errors": report.errors,
        "packs": report.packs,
        "summary": report.summary(),
    });
    if report.show_suppressed {
        value["suppressed"] = json!(report.suppressed);
    }
    // Only remote scans have it, so local reports keep their shape.
    if !report.repositories.is_empty() {
        value["repositories"] = json!(report.repositories);
    }
    value
}
