//! AZ-005: a script prints a secret-looking variable.

use sluice_pack_sdk::shell::{commands, reeval::expanded_refs};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::expressions::macros;
use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-005",
    name: "secrets-in-logs",
    title: "Secret-looking variable printed to the build log",
    default_severity: Severity::Low,
    default_confidence: Confidence::Medium,
    description: include_str!("az005_secrets_in_logs.md"),
    remediation: "Do not print secrets; mark them secret (variable groups, `issecret=true`) so \
        Azure masks them, and print only whether they are set.",
    help_uri: "",
    tags: &["secrets", "logging"],
};

const PRINTERS: &[&str] = &[
    "echo",
    "printf",
    "write-host",
    "write-output",
    "write-information",
    "write-verbose",
];

const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "api_key",
    "accesskey",
    "access_key",
    "privatekey",
    "private_key",
    "credential",
    "connectionstring",
];

/// Whether a variable name looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        for step in &job.steps {
            for script in step.scripts().into_iter().filter(|s| s.inline) {
                let Some(text) = script.node.as_str() else {
                    continue;
                };
                let mut seen: Vec<String> = Vec::new();
                for command in commands(text) {
                    let Some(program) = command.program() else {
                        continue;
                    };
                    if !PRINTERS.contains(&program.text.to_ascii_lowercase().as_str())
                        || goes_elsewhere(text, &command)
                    {
                        continue;
                    }
                    for word in command.args() {
                        if word.raw.contains("##vso[") {
                            continue;
                        }
                        let mut names: Vec<(std::ops::Range<usize>, String)> = macros(word.raw)
                            .into_iter()
                            .map(|m| {
                                (
                                    word.range.start + m.range.start
                                        ..word.range.start + m.range.end,
                                    m.name.to_owned(),
                                )
                            })
                            .collect();
                        names.extend(
                            expanded_refs(word.raw, word.range.start)
                                .into_iter()
                                .map(|r| (r.range, r.name)),
                        );
                        names.extend(percent_refs(word.raw, word.range.start));
                        for (range, name) in names {
                            // `$token.Length`, `$($token.Length)`: a property, not the value.
                            if !looks_secret(&name)
                                || text.get(range.end..).is_some_and(|r| r.starts_with('.'))
                            {
                                continue;
                            }
                            let occurrence = seen.iter().filter(|n| **n == name).count();
                            seen.push(name.clone());
                            let mut key = format!("{}|{name}", script.node.route);
                            if occurrence > 0 {
                                key.push_str(&format!("#{}", occurrence + 1));
                            }
                            findings.push(
                                Finding::new(&META, step.path, super::span_in(script.node, range))
                                    .message(format!(
                                        "step `{}` of {} prints `{name}` with `{}`; a value not \
                                         registered as secret appears in the build log",
                                        step.label(),
                                        describe_job(job),
                                        program.text
                                    ))
                                    .confidence(super::context_confidence(unit, Confidence::Medium))
                                    .fingerprint_key(key)
                                    .property("variable", name),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The output is piped into another command or redirected to a file, not logged.
fn goes_elsewhere(script: &str, command: &sluice_pack_sdk::shell::Command<'_>) -> bool {
    let after = script
        .get(command.range.end..)
        .unwrap_or_default()
        .trim_start_matches([' ', '\t']);
    (after.starts_with('|') && !after.starts_with("||"))
        || command
            .words
            .iter()
            .any(|w| w.raw.starts_with('>') || w.raw.starts_with("1>") || w.raw == "|")
        || after.starts_with('>')
}

/// `%NAME%` references (cmd.exe).
fn percent_refs(raw: &str, base: usize) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = raw.get(from..).and_then(|r| r.find('%')).map(|i| from + i) {
        let Some(len) = raw.get(start + 1..).and_then(|r| r.find('%')) else {
            break;
        };
        let name = &raw[start + 1..start + 1 + len];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((base + start..base + start + len + 2, name.to_owned()));
        }
        from = start + len + 2;
    }
    out
}
