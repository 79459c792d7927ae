//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and most security dashboards read it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::pack::types::Severity;
use crate::report::{Finding, Report, rule_docs};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    text.push('\n');
    text
}

pub fn to_value(report: &Report) -> Value {
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let rules: Vec<Value> = report
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            rule_index.insert(rule.info.id.as_str(), index);
            let info = &rule.info;
            let mut value = json!({
                "id": info.id,
                "name": info.name,
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": info.description},
                "help": {
                    "text": format!("{}\n\nRemediation: {}", info.title, info.remediation),
                    "markdown": rule_docs::page(&rule.pack, &rule.platform, info),
                },
                "defaultConfiguration": {"level": level(info.default_severity)},
                "properties": {
                    "tags": info.tags,
                    "pack": rule.pack,
                    "security-severity": security_severity(info.default_severity),
                    "precision": precision(info.default_confidence.as_str()),
                },
            });
            if !rule.help_uri.is_empty() {
                value["helpUri"] = json!(rule.help_uri);
            }
            value
        })
        .collect();

    let to_result = |finding: &Finding| {
        let mut result = json!({
            "ruleId": finding.rule_id,
            "level": level(finding.severity),
            "message": {"text": finding.message},
            "locations": [location(&finding.path, finding.start_line, finding.start_column, finding.end_line, finding.end_column, None)],
            "partialFingerprints": {"sluice/v1": finding.fingerprint},
            "properties": {
                "severity": finding.severity,
                "confidence": finding.confidence,
                "security-severity": security_severity(finding.severity),
                "mitigations": finding.mitigations,
                "tags": finding.tags,
                "pack": finding.pack,
            },
        });
        if let Some(index) = rule_index.get(finding.rule_id.as_str()) {
            result["ruleIndex"] = json!(index);
        }
        if !finding.related.is_empty() {
            result["relatedLocations"] = finding
                .related
                .iter()
                .enumerate()
                .map(|(id, related)| {
                    let mut value = location(
                        &related.path,
                        related.span.start_line,
                        related.span.start_column,
                        related.span.end_line,
                        related.span.end_column,
                        Some(&related.message),
                    );
                    value["id"] = json!(id);
                    value
                })
                .collect();
        }
        result
    };
    // Suppressed findings stay in the log, marked, so dashboards can show accepted risks.
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(to_result)
        .chain(report.suppressed.iter().map(|suppressed| {
            let mut result = to_result(&suppressed.finding);
            let mut suppression = json!({"kind": "inSource"});
            if let Some(reason) = &suppressed.suppression.reason {
                suppression["justification"] = json!(reason);
            }
            result["suppressions"] = json!([suppression]);
            result
        }))
        .collect();

    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|error| {
            let mut value = json!({
                "level": "error",
                "message": {"text": error.message},
                "descriptor": {"id": error.kind.as_str()},
            });
            if let Some(path) = &error.path {
                value["locations"] = json!([location(
                    path,
                    error.line.unwrap_or(1),
                    error.column.unwrap_or(1),
                    error.line.unwrap_or(1),
                    error.column.unwrap_or(1),
                    None
                )]);
            }
            value
        })
        .collect();

    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sluice",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
        }],
    })
}

fn location(
    path: &str,
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
    message: Option<&str>,
) -> Value {
    let mut value = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": path},
            "region": {
                "startLine": start_line.max(1),
                "startColumn": start_column.max(1),
                "endLine": end_line.max(start_line).max(1),
                "endColumn": end_column.max(1),
            },
        },
    });
    if let Some(message) = message {
        value["message"] = json!({"text": message});
    }
    value
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning maps this 0–10 score to its own severity buckets.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn precision(confidence: &str) -> &'static str {
    match confidence {
        "high" => "high",
        "medium" => "medium",
        _ => "low",
    }
}
