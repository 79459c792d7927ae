//! FG-015: a script downloads code and runs it without verifying it.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Job, Step, Text};
use crate::shell::{self, Command};

pub const META: RuleMeta = RuleMeta {
    id: "FG-015",
    name: "unverified-script-execution",
    title: "Unverified script execution: downloaded code piped into an interpreter",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: "A `run:` script downloads code and executes it in one go — `curl … | bash`, \
        `wget -O- … | sudo sh`, `bash <(curl …)`, `sh -c \"$(curl …)\"`, `eval \"$(curl …)\"`, \
        PowerShell `iex (iwr …)` / `Invoke-Expression …DownloadString(…)`, or \
        `deno run -A https://…`. Nothing checks what was downloaded: whoever controls the \
        server, the domain, a CDN in between or (for a moving URL such as a branch on \
        `raw.githubusercontent.com`) the repository behind it runs code in the job with its \
        token and secrets, as in the 2021 Codecov bash-uploader compromise.\n\n\
        Severity: Medium; High when the URL is plain `http://` (anyone on the network path \
        can replace the script). A URL that names a full 40-character commit SHA is \
        immutable content and is reported at Info with a `commit-pinned-url` mitigation. \
        Interpreters recognised after the pipe: `sh`, `bash`, `zsh`, `dash`, `ksh`, `fish`, \
        `python`/`python3`, `perl`, `ruby`, `node`, `pwsh` (also behind `sudo`/`env`). \
        Quoted text and comments are not commands and are not reported. A download saved \
        to a file and checked (`sha256sum -c`, `gpg --verify`) before it runs is not a \
        pipe and is not reported.",
    remediation: "Download to a file, verify a checksum or signature you pinned in the \
        workflow (`echo \"<sha256>  install.sh\" | sha256sum -c`), then run it; better, use a \
        released, SHA-pinned action or a package manager with lockfiles. If you must fetch \
        a script from GitHub, use a URL that names a full commit SHA.",
    help_uri: "",
    tags: &["supply-chain", "remote-code"],
};

/// Programs that execute code read from standard input.
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "pwsh",
    "powershell",
];
const DOWNLOADERS: &[&str] = &["curl", "wget"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if let Some(run) = step.run {
                check_script(file, job, step, run, findings);
            }
        }
    }
}

/// One download-and-run found in a script.
struct Hit {
    range: std::ops::Range<usize>,
    how: String,
    url: Option<String>,
}

fn check_script(
    file: &FileContext<'_, '_>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    run: Text<'_>,
    findings: &mut Vec<Finding>,
) {
    let script = run.value;
    let commands = shell::commands(script);
    let mut hits: Vec<Hit> = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        // `curl … | bash`
        if is_program(command, DOWNLOADERS)
            && let Some(next) = commands.get(index + 1)
            && script
                .get(command.range.end..next.range.start)
                .is_some_and(is_pipe)
            && let Some(interpreter) = program_name(next).filter(|p| INTERPRETERS.contains(p))
        {
            hits.push(Hit {
                range: command.range.start..next.range.end,
                how: format!(
                    "pipes the download of `{}` into `{interpreter}`",
                    program_name(command).unwrap_or("curl")
                ),
                url: url_of(command),
            });
            continue;
        }
        // `sh -c "$(curl …)"`, `eval "$(curl …)"`
        if let Some(word) = command.words.iter().find(|w| substitutes_download(&w.text)) {
            let program = program_name(command).unwrap_or("");
            let runs = command.words.iter().any(|w| w.text == "eval")
                || (INTERPRETERS.contains(&program)
                    && command.args().iter().any(|a| a.text == "-c"))
                || word.text.trim_start().starts_with("$(")
                    && command.program().is_some_and(|p| p.range == word.range);
            if runs {
                hits.push(Hit {
                    range: command.range.clone(),
                    how: "runs the output of a download as a script".to_owned(),
                    url: url_in(&word.text),
                });
            }
        }
    }
    // Forms the command splitter cuts apart: process substitution, PowerShell, deno.
    let mut offset = 0;
    for line in script.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        let lead = line.len() - line.trim_start().len();
        let range = start + lead..start + lead + trimmed.len();
        if hits
            .iter()
            .any(|h| h.range.start < range.end && range.start < h.range.end)
        {
            continue;
        }
        let how = if let Some(at) = ["<(curl", "<( curl", "<(wget", "<( wget"]
            .iter()
            .find_map(|p| lower.find(p))
        {
            let before = lower[..at].trim_end();
            ["bash", "sh", "zsh", "source", "."]
                .iter()
                .any(|s| before.ends_with(s))
                .then(|| "runs a download through process substitution".to_owned())
        } else if (has_word(&lower, "iex") || lower.contains("invoke-expression"))
            && [
                "downloadstring",
                "iwr ",
                "invoke-webrequest",
                "irm ",
                "invoke-restmethod",
            ]
            .iter()
            .any(|d| lower.contains(d))
        {
            Some("passes a download to PowerShell `Invoke-Expression`".to_owned())
        } else if lower.contains("deno run")
            && (lower.contains(" -a ") || lower.contains("--allow-all"))
            && lower.contains("https://")
        {
            Some("runs a remote module with `deno run` and all permissions".to_owned())
        } else {
            None
        };
        if let Some(how) = how {
            hits.push(Hit {
                range,
                how,
                url: url_in(trimmed),
            });
        }
    }

    hits.sort_by_key(|h| h.range.start);
    let mut seen: Vec<String> = Vec::new();
    for hit in hits {
        let text = script
            .get(hit.range.clone())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let occurrence = seen.iter().filter(|t| **t == text).count();
        seen.push(text.clone());
        let mut key = format!("{}|{text}", run.route());
        if occurrence > 0 {
            key.push_str(&format!("#{}", occurrence + 1));
        }
        let place = match job {
            Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
            None => format!("step `{}`", step.label()),
        };
        let url_text = hit
            .url
            .as_deref()
            .map(|u| format!(" from `{u}`"))
            .unwrap_or_default();
        let mut message = format!("{place} {}{url_text} without verifying it", hit.how);
        let mut severity = Severity::Medium;
        let mut finding = Finding::new(&META, file.path, run.span_of(hit.range.clone()));
        if let Some(url) = &hit.url {
            if url.starts_with("http://") {
                severity = Severity::High;
                message
                    .push_str(" (over plain HTTP, so anyone on the network path can replace it)");
            } else if has_commit_sha(url) {
                severity = Severity::Info;
                finding = finding.mitigation(
                    "commit-pinned-url",
                    format!("`{url}` names a full commit SHA, so its content cannot change"),
                );
                message.push_str(" (mitigated: the URL names a full commit SHA)");
            }
            finding = finding.property("url", url.clone());
        }
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        findings.push(
            finding
                .severity(severity)
                .message(message)
                .fingerprint_key(key)
                .property("step", step.label()),
        );
    }
}

fn program_name<'c>(command: &'c Command<'_>) -> Option<&'c str> {
    let program = command.program()?;
    Some(program.text.rsplit('/').next().unwrap_or(&program.text))
}

fn is_program(command: &Command<'_>, names: &[&str]) -> bool {
    program_name(command).is_some_and(|p| names.contains(&p))
}

/// The text between two commands is a single pipe (`|` or `|&`), across line continuations.
fn is_pipe(between: &str) -> bool {
    let compact: String = between
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\\')
        .collect();
    compact == "|" || compact == "|&"
}

/// `$(curl …)`, `$(wget …)` or a backquoted download.
fn substitutes_download(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["$(curl ", "$(wget ", "`curl ", "`wget "]
        .iter()
        .any(|p| lower.contains(p))
}

fn url_of(command: &Command<'_>) -> Option<String> {
    command.args().iter().find_map(|a| url_in(&a.text))
}

/// The first `http(s)://` URL in a text.
fn url_in(text: &str) -> Option<String> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ')' | '`' | ';' | '|'))
        .collect();
    Some(url)
}

/// A path segment of 40 hexadecimal digits.
fn has_commit_sha(url: &str) -> bool {
    url.split(['/', '@', '?', '=', '#'])
        .any(|segment| segment.len() == 40 && segment.chars().all(|c| c.is_ascii_hexdigit()))
}

fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}
