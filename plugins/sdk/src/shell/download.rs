//! Download-then-execute: a script fetches code and runs it without anything checking what
//! arrived (`curl … | sh`, `bash <(curl …)`, `sh -c "$(wget -O- …)"`, PowerShell
//! `iex (iwr …)`, `deno run -A https://…`).

use std::ops::Range;

use super::{Command, commands};
use crate::fingerprint::KeyCounter;
use crate::{Finding, RuleMeta, Severity, Span};

/// Programs that execute code read from standard input.
pub const INTERPRETERS: &[&str] = &[
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

/// One download-and-run in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadExec {
    /// Bytes of the script from the download to the interpreter.
    pub range: Range<usize>,
    /// How the download is run, for messages: "pipes the download of `curl` into `bash`".
    pub how: String,
    /// The first `http(s)://` URL of the download, if it names one literally.
    pub url: Option<String>,
    /// The script text of the hit with whitespace runs collapsed, for fingerprints.
    pub text: String,
}

impl DownloadExec {
    /// The URL is plain `http://`, so anyone on the network path can replace the script.
    pub fn is_plain_http(&self) -> bool {
        self.url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
    }

    /// The URL names a full 40-digit commit SHA, so its content cannot change.
    pub fn is_commit_pinned(&self) -> bool {
        self.url.as_deref().is_some_and(has_commit_sha)
    }
}

impl DownloadExec {
    /// The finding every pack reports for this download: Medium; High over plain HTTP;
    /// Info with a `commit-pinned-url` mitigation when the URL names a commit SHA. `place`
    /// starts the message (``job `build` ``), `span` locates the hit, `keys` numbers repeats
    /// of the same text under `route` (the script's place in the document).
    pub fn finding(
        &self,
        rule: &RuleMeta,
        path: &str,
        span: Span,
        place: &str,
        route: impl std::fmt::Display,
        keys: &mut KeyCounter,
    ) -> Finding {
        let url_text = self
            .url
            .as_deref()
            .map(|u| format!(" from `{u}`"))
            .unwrap_or_default();
        let mut message = format!("{place} {}{url_text} without verifying it", self.how);
        let mut finding = Finding::new(rule, path, span).severity(Severity::Medium);
        if let Some(url) = &self.url {
            if self.is_plain_http() {
                finding = finding.severity(Severity::High);
                message
                    .push_str(" (over plain HTTP, so anyone on the network path can replace it)");
            } else if self.is_commit_pinned() {
                finding = finding.severity(Severity::Info).mitigation(
                    "commit-pinned-url",
                    format!("`{url}` names a full commit SHA, so its content cannot change"),
                );
                message.push_str(" (mitigated: the URL names a full commit SHA)");
            }
            finding = finding.property("url", url.clone());
        }
        finding
            .message(message)
            .fingerprint_key(keys.key(format!("{route}|{}", self.text)))
    }
}

/// Every download-then-execute in `script`, in script order.
pub fn find(script: &str) -> Vec<DownloadExec> {
    let commands = commands(script);
    let mut hits: Vec<DownloadExec> = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        // `curl … | bash`
        if is_program(command, DOWNLOADERS)
            && let Some(next) = commands.get(index + 1)
            && script
                .get(command.range.end..next.range.start)
                .is_some_and(is_pipe)
            && let Some(interpreter) = program_name(next).filter(|p| INTERPRETERS.contains(p))
        {
            hits.push(DownloadExec {
                range: command.range.start..next.range.end,
                how: format!(
                    "pipes the download of `{}` into `{interpreter}`",
                    program_name(command).unwrap_or("curl")
                ),
                url: url_of(command),
                text: String::new(),
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
                hits.push(DownloadExec {
                    range: command.range.clone(),
                    how: "runs the output of a download as a script".to_owned(),
                    url: url_in(&word.text),
                    text: String::new(),
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
        if let Some(how) = line_form(&lower) {
            hits.push(DownloadExec {
                range,
                how: how.to_owned(),
                url: url_in(trimmed),
                text: String::new(),
            });
        }
    }
    hits.sort_by_key(|h| h.range.start);
    for hit in &mut hits {
        hit.text = script
            .get(hit.range.clone())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
    }
    hits
}

/// Process substitution, PowerShell and deno forms, recognised on one lower-cased line.
fn line_form(lower: &str) -> Option<&'static str> {
    if let Some(at) = ["<(curl", "<( curl", "<(wget", "<( wget"]
        .iter()
        .find_map(|p| lower.find(p))
    {
        let before = lower[..at].trim_end();
        return ["bash", "sh", "zsh", "source", "."]
            .iter()
            .any(|s| before.ends_with(s))
            .then_some("runs a download through process substitution");
    }
    let powershell_runs = has_word(lower, "iex") || lower.contains("invoke-expression");
    let powershell_downloads = [
        "downloadstring",
        "iwr ",
        "invoke-webrequest",
        "irm ",
        "invoke-restmethod",
    ]
    .iter()
    .any(|d| lower.contains(d));
    if powershell_runs && powershell_downloads {
        return Some("passes a download to PowerShell `Invoke-Expression`");
    }
    if lower.contains("deno run")
        && (lower.contains(" -a ") || lower.contains("--allow-all"))
        && lower.contains("https://")
    {
        return Some("runs a remote module with `deno run` and all permissions");
    }
    None
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
pub fn url_in(text: &str) -> Option<String> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ')' | '`' | ';' | '|'))
        .collect();
    Some(url)
}

/// A path segment of 40 hexadecimal digits.
pub fn has_commit_sha(url: &str) -> bool {
    url.split(['/', '@', '?', '=', '#'])
        .any(|segment| segment.len() == 40 && segment.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `word` appears in `text` delimited by non-identifier characters.
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hows(script: &str) -> Vec<String> {
        find(script).into_iter().map(|h| h.how).collect()
    }

    #[test]
    fn pipes_and_substitutions() {
        let script =
            "curl -fsSL https://x.io/i.sh | sudo bash\nsh -c \"$(wget -qO- http://y.io/s)\"\n";
        let hits = find(script);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].url.as_deref(), Some("https://x.io/i.sh"));
        assert!(hits[0].how.contains("`bash`"));
        assert_eq!(
            &script[hits[0].range.clone()],
            "curl -fsSL https://x.io/i.sh | sudo bash"
        );
        assert!(hits[1].is_plain_http());
    }

    #[test]
    fn powershell_and_process_substitution() {
        assert_eq!(
            hows("iex ((New-Object Net.WebClient).DownloadString('https://a/b.ps1'))").len(),
            1
        );
        assert_eq!(hows("bash <(curl -s https://a/b)").len(), 1);
        assert_eq!(
            hows("Invoke-WebRequest https://a/b -OutFile b.ps1").len(),
            0
        );
    }

    #[test]
    fn downloads_that_are_not_run() {
        assert!(
            find("curl -o install.sh https://a/i.sh\nsha256sum -c sums\nsh install.sh").is_empty()
        );
        assert!(find("echo \"curl https://a | sh\"\n# curl https://a | sh").is_empty());
        assert!(find("curl https://a/x.json | jq .").is_empty());
    }

    #[test]
    fn commit_pinned_urls() {
        let hits = find(
            "curl https://raw.githubusercontent.com/o/r/0123456789abcdef0123456789abcdef01234567/i.sh | sh",
        );
        assert!(hits[0].is_commit_pinned());
    }
}
