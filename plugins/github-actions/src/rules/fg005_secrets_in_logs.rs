//! FG-005: a secret printed to the job log.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Job, Map, Step, Text, Workflow};
use crate::shell::{self, Command};

pub const META: RuleMeta = RuleMeta {
    id: "FG-005",
    name: "secrets-in-logs",
    title: "Secrets in logs: a secret is echoed or the environment is dumped",
    default_severity: Severity::Low,
    default_confidence: Confidence::High,
    description: include_str!("fg005_secrets_in_logs.md"),
    remediation: "Do not print secrets; pass them to tools through environment variables or \
        stdin. To debug, print whether a secret is set (`[ -n \"$TOKEN\" ] && echo set`).",
    help_uri: "",
    tags: &["secrets", "logging"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let workflow = file.definition.as_workflow();
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            let Some(run) = step.run else {
                continue;
            };
            let secret_env = secret_variables(workflow, job, step);
            for command in shell::commands(run.value) {
                if let Some((range, what, confidence)) = leak(&command, run.value, &secret_env) {
                    let matched = &run.value[range.clone()];
                    let context = match job {
                        Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                        None => format!("step `{}`", step.label()),
                    };
                    findings.push(
                        Finding::new(&META, file.path, run.span_of(range.clone()))
                            .confidence(confidence)
                            .message(format!("{context} {what} (`{}`)", shorten(matched)))
                            .fingerprint_key(format!("{}|{}", run.route(), matched.trim()))
                            .property("command", shorten(matched)),
                    );
                }
            }
        }
    }
}

/// Environment variables holding a secret or the token, for this step: (name, where).
fn secret_variables(
    workflow: Option<&Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
) -> Vec<(String, &'static str)> {
    let mut found: Vec<(String, &'static str)> = Vec::new();
    let mut add = |map: Map<'_>, whence: &'static str| {
        for (name, value) in map.iter() {
            let secret = Text::from_node(value).is_some_and(|v| is_secret_expression(v.value));
            found.retain(|(n, _)| n != name.value);
            if secret {
                found.push((name.value.to_owned(), whence));
            }
        }
    };
    if let Some(workflow) = workflow {
        add(workflow.env, "workflow `env:`");
    }
    if let Some(job) = job {
        add(job.env, "job `env:`");
    }
    add(step.env, "step `env:`");
    found
}

fn is_secret_expression(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.contains("${{")
        && (lower.contains("secrets.")
            || lower.contains("secrets[")
            || lower.contains("github.token"))
}

/// Whether a command prints a secret: (range in the script, description, confidence).
fn leak(
    command: &Command<'_>,
    script: &str,
    secret_env: &[(String, &'static str)],
) -> Option<(std::ops::Range<usize>, String, Confidence)> {
    // Output to a file or another program is not the log. Redirections are not words, so
    // look at what follows the command on its line.
    let rest = script[command.range.end..].trim_start_matches([' ', '\t']);
    let piped = rest.starts_with('|') && !rest.starts_with("||");
    let tail = rest
        .split(['\n', ';', '|'])
        .next()
        .unwrap_or_default()
        .split("&&")
        .next()
        .unwrap_or_default();
    let redirected = tail
        .match_indices('>')
        .any(|(at, _)| !tail[..at].ends_with('2') && !tail[..at].ends_with('>'));
    if redirected || piped {
        return None;
    }
    // `env` alone has no program (it is a wrapper prefix).
    let words: Vec<&str> = command.words.iter().map(|w| w.text.as_str()).collect();
    let dump = matches!(
        words.as_slice(),
        ["printenv"] | ["env"] | ["set"] | ["export", "-p"] | ["declare", "-x"]
    );
    if dump {
        let (name, whence) = secret_env.first()?;
        return Some((
            command.range.clone(),
            format!("dumps the environment while `{name}` (from {whence}) holds a secret"),
            Confidence::Medium,
        ));
    }
    let program = command.program()?;
    let args = command.args();
    if program.text == "printenv" {
        let arg = args.iter().find(|a| !a.text.starts_with('-'))?;
        let (name, whence) = secret_env.iter().find(|(n, _)| *n == arg.text)?;
        return Some((
            command.range.clone(),
            format!("prints `{name}`, which holds a secret (from {whence})"),
            Confidence::High,
        ));
    }
    if program.text != "echo" && program.text != "printf" {
        return None;
    }
    if args.iter().any(|a| a.text.contains("::add-mask::")) {
        return None;
    }
    for arg in args {
        if prints_secret_expression(arg.raw) {
            return Some((
                command.range.clone(),
                format!("prints a secret expression with `{}`", program.text),
                Confidence::High,
            ));
        }
        // `$(echo -n "$TOKEN" | sha256sum)` prints a digest, not the secret.
        if arg.raw.contains("$(") || arg.raw.contains('`') {
            continue;
        }
        for (name, whence) in secret_env {
            if references_variable(arg.raw, name) {
                return Some((
                    command.range.clone(),
                    format!("prints `${name}`, which holds a secret (from {whence})"),
                    Confidence::High,
                ));
            }
        }
        if references_variable(arg.raw, "GITHUB_TOKEN") {
            return Some((
                command.range.clone(),
                "prints `$GITHUB_TOKEN`".to_owned(),
                Confidence::Medium,
            ));
        }
    }
    None
}

/// A `${{ }}` in the word whose value is a secret (`secrets.X`, `secrets['X']`,
/// `github.token`, optionally with `||` fallbacks), not a test of one (`secrets.X == ''`).
fn prints_secret_expression(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(open) = lower[from..].find("${{") {
        let start = from + open + 3;
        let end = lower[start..].find("}}").map_or(lower.len(), |e| start + e);
        let inner = &lower[start..end];
        let names_secret = inner.contains("secrets.")
            || inner.contains("secrets[")
            || inner.contains("github.token");
        let tests = ["==", "!=", "<", ">", "!", "(", "&&"]
            .iter()
            .any(|op| inner.contains(op));
        if names_secret && !tests {
            return true;
        }
        from = end;
    }
    false
}

/// `$NAME` or `${NAME…}` in a word (not inside single quotes).
fn references_variable(raw: &str, name: &str) -> bool {
    if raw.starts_with('\'') {
        return false;
    }
    let plain = format!("${name}");
    let braced = format!("${{{name}");
    raw.match_indices(&plain).any(|(at, m)| {
        !raw[at + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    }) || raw.match_indices(&braced).any(|(at, m)| {
        raw[at + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    })
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 80;
    let single: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single.chars().count() <= LIMIT {
        single
    } else {
        format!("{}…", single.chars().take(LIMIT).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables() {
        assert!(references_variable("\"$TOKEN\"", "TOKEN"));
        assert!(references_variable("${TOKEN:-x}", "TOKEN"));
        assert!(!references_variable("$TOKENS", "TOKEN"));
        assert!(!references_variable("'$TOKEN'", "TOKEN"));
    }

    #[test]
    fn expressions() {
        assert!(prints_secret_expression("\"${{ secrets.NPM_TOKEN }}\""));
        assert!(prints_secret_expression("${{ secrets.A || secrets.B }}"));
        assert!(!prints_secret_expression(
            "\"missing: ${{ secrets.A == '' }}\""
        ));
        assert!(!prints_secret_expression("${{ github.event_name }}"));
    }
}
