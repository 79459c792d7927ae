//! GL-005: a secret-looking variable printed with `echo` / `printf`, or `set -x` in a job
//! that handles secrets.

use sluice_pack_sdk::shell::{self, reeval};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::scripts::span_in;

pub const META: RuleMeta = RuleMeta {
    id: "GL-005",
    name: "secrets-in-logs",
    title: "Secret-looking variable printed to the job log",
    default_severity: Severity::Low,
    default_confidence: Confidence::Medium,
    description: include_str!("gl005_secrets_in_logs.md"),
    remediation: "Do not print secrets; pipe them into the command that needs them \
        (`--password-stdin`), mark the variables masked and protected, and avoid `set -x` in \
        jobs that handle credentials.",
    help_uri: "",
    tags: &["secrets", "logging"],
};

/// Whether a variable name looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper == "CI_JOB_TOKEN" {
        return true;
    }
    let parts: Vec<&str> = upper.split('_').filter(|p| !p.is_empty()).collect();
    let last = parts.last().copied().unwrap_or_default();
    // `TOKEN_URL`, `SECRET_NAME`, `KEY_ID`: metadata about a secret, not the secret.
    if matches!(
        last,
        "URL" | "NAME" | "ID" | "FILE" | "PATH" | "DIR" | "TYPE" | "USER" | "USERNAME" | "HEADER"
    ) && parts.len() > 1
    {
        return false;
    }
    let secret_part = |p: &&str| {
        matches!(
            *p,
            "TOKEN" | "SECRET" | "PASSWORD" | "PASSWD" | "CREDENTIALS" | "APIKEY" | "PASSPHRASE"
        )
    };
    if parts.iter().any(secret_part) {
        return true;
    }
    parts.windows(2).any(|w| {
        matches!(
            (w[0], w[1]),
            ("PRIVATE", "KEY") | ("API", "KEY") | ("ACCESS", "KEY") | ("SECRET", "KEY")
        )
    })
}

/// The text after a command is `|` (not `||`) or a redirection: output does not reach the log.
fn output_captured(script: &str, end: usize) -> bool {
    let rest = script[end..].trim_start_matches([' ', '\t']);
    (rest.starts_with('|') && !rest.starts_with("||"))
        || rest.starts_with('>')
        || rest.starts_with("1>")
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    let lines = job.script_lines();
    let mut secret_seen: Option<String> = None;
    for (_, at) in &lines {
        if let Some(script) = at.node.as_str() {
            for command in shell::commands(script) {
                for word in &command.words {
                    if let Some(r) = reeval::expanded_refs(word.raw, word.range.start)
                        .into_iter()
                        .find(|r| is_secret_name(&r.name))
                    {
                        secret_seen.get_or_insert(r.name);
                    }
                }
            }
        }
    }
    for (section, at) in &lines {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        for command in shell::commands(script) {
            let Some(program) = command.program() else {
                continue;
            };
            let name = program.text.as_str();
            if name == "set" {
                let traces = command
                    .args()
                    .iter()
                    .any(|a| a.text.starts_with('-') && a.text.contains('x'));
                if let (true, Some(secret)) = (traces, &secret_seen) {
                    findings.push(
                        Finding::new(&META, at.path, span_in(at, command.range.clone()))
                            .message(format!(
                                "job `{}` turns on `set -x` in its {section} while its scripts \
                                 use `${secret}`: traced commands print it expanded",
                                job.name
                            ))
                            .fingerprint_key(format!("{}|set -x", at.route()))
                            .property("job", job.name),
                    );
                }
                continue;
            }
            if name != "echo" && name != "printf" {
                continue;
            }
            if output_captured(script, command.range.end) {
                continue;
            }
            let secret = command.args().iter().find_map(|word| {
                reeval::expanded_refs(word.raw, word.range.start)
                    .into_iter()
                    .find(|r| is_secret_name(&r.name))
            });
            let Some(secret) = secret else {
                continue;
            };
            findings.push(
                Finding::new(&META, at.path, span_in(at, secret.range.clone()))
                    .severity(Severity::Low)
                    .message(format!(
                        "job `{}` prints `${}` with `{name}` in its {section}; unless the \
                         variable is masked, its value lands in the job log",
                        job.name, secret.name
                    ))
                    .fingerprint_key(format!("{}|{name}|{}", at.route(), secret.name))
                    .property("job", job.name)
                    .property("variable", secret.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn secret_names() {
        assert!(is_secret_name("NPM_TOKEN"));
        assert!(is_secret_name("AWS_SECRET_ACCESS_KEY"));
        assert!(is_secret_name("SSH_PRIVATE_KEY"));
        assert!(!is_secret_name("TOKEN_URL"));
        assert!(!is_secret_name("AWS_ACCESS_KEY_ID"));
        assert!(!is_secret_name("KEYBOARD"));
        assert!(!is_secret_name("CI_COMMIT_SHA"));
    }
}
