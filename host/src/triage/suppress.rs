//! Inline suppressions: a comment containing `sluice: ignore[RULE-ID,RULE-ID] optional reason`
//! (or `sluice:ignore[...]`) accepts the named rules' findings on that line.
//!
//! A comment applies to a finding when it stands on a line of the finding's primary span, on the
//! line directly above it, or on a line of one of its related locations in the same file or the
//! line directly above one (packs point at the enclosing step or job there, so a comment on or
//! above the step's first line covers a finding deep inside its script). Comments are recognised by the file's syntax: YAML `#`
//! (which also covers shell comments inside `run: |` blocks, since they sit on the same lines)
//! and Groovy `//` and `/* ... */`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::report::{Finding, Report, SuppressedFinding, Suppression};

/// One `sluice: ignore[...]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreComment {
    /// 1-based line of the directive.
    pub line: u32,
    /// Rule ids, case-sensitive, as written.
    pub rules: Vec<String>,
    /// Text after the closing `]`, if any.
    pub reason: Option<String>,
}

/// Something wrong with an ignore comment; reported on stderr, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Moves every finding an ignore comment covers from `report.findings` to `report.suppressed`.
/// `known_rules` are the ids some loaded pack declares: an ignore naming another id is a
/// warning (a typo there would otherwise silently suppress nothing).
pub fn apply(report: &mut Report, known_rules: &BTreeSet<String>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut comments: BTreeMap<&str, Vec<IgnoreComment>> = BTreeMap::new();
    for (path, text) in &report.sources {
        let found = ignore_comments(path, text, &mut warnings);
        for comment in &found {
            for rule in comment.rules.iter().filter(|r| !known_rules.contains(*r)) {
                warnings.push(Warning {
                    path: path.clone(),
                    line: comment.line,
                    message: format!(
                        "`sluice: ignore` names `{rule}`, which no loaded rule pack declares"
                    ),
                });
            }
        }
        if !found.is_empty() {
            comments.insert(path.as_str(), found);
        }
    }
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for finding in std::mem::take(&mut report.findings) {
        match covering_comment(&finding, &comments) {
            Some(suppression) => suppressed.push(SuppressedFinding {
                finding,
                suppression,
            }),
            None => kept.push(finding),
        }
    }
    report.findings = kept;
    report.suppressed.extend(suppressed);
    warnings
}

/// The comment that suppresses `finding`: on its primary span first, then the line above, then
/// its related locations in the same file (and the line above each).
fn covering_comment(
    finding: &Finding,
    comments: &BTreeMap<&str, Vec<IgnoreComment>>,
) -> Option<Suppression> {
    let in_file = comments.get(finding.path.as_str())?;
    let mut ranges = vec![(finding.start_line, finding.end_line.max(finding.start_line))];
    if finding.start_line > 1 {
        ranges.push((finding.start_line - 1, finding.start_line - 1));
    }
    ranges.extend(
        finding
            .related
            .iter()
            .filter(|related| related.path == finding.path)
            .map(|related| {
                // From the line above, where comments about a step naturally go.
                let span = &related.span;
                (
                    span.start_line.saturating_sub(1).max(1),
                    span.end_line.max(span.start_line),
                )
            }),
    );
    ranges.iter().find_map(|(first, last)| {
        in_file
            .iter()
            .find(|c| (*first..=*last).contains(&c.line) && c.rules.contains(&finding.rule_id))
            .map(|c| Suppression {
                reason: c.reason.clone(),
                path: finding.path.clone(),
                line: c.line,
            })
    })
}

/// Every well-formed ignore comment in a file; malformed ones become warnings.
pub fn ignore_comments(path: &str, text: &str, warnings: &mut Vec<Warning>) -> Vec<IgnoreComment> {
    let segments = if is_groovy(path) {
        groovy_comments(text)
    } else {
        yaml_comments(text)
    };
    let mut found = Vec::new();
    for (line, comment) in segments {
        match parse_directive(line, &comment) {
            None => {}
            Some(Ok(directive)) => found.push(directive),
            Some(Err(message)) => warnings.push(Warning {
                path: path.to_owned(),
                line,
                message,
            }),
        }
    }
    found
}

/// Jenkins pipelines are Groovy; everything else the packs read is YAML-like with `#` comments.
fn is_groovy(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.contains("jenkinsfile") || name.ends_with(".groovy") || name.ends_with(".gvy")
}

/// `sluice: ignore[A,B] reason` inside a comment's text: `None` if the comment has no directive,
/// `Err` with what is wrong if it has a malformed one.
fn parse_directive(line: u32, comment: &str) -> Option<Result<IgnoreComment, String>> {
    let at = comment.find("sluice:")?;
    let rest = comment[at + "sluice:".len()..].trim_start();
    let rest = rest.strip_prefix("ignore")?;
    let Some(list) = rest.strip_prefix('[') else {
        return Some(Err(
            "`sluice: ignore` needs the rule ids in brackets, e.g. `sluice: ignore[FG-002] reason`"
                .to_owned(),
        ));
    };
    let Some(close) = list.find(']') else {
        return Some(Err(
            "`sluice: ignore[` has no closing `]`; nothing is suppressed".to_owned(),
        ));
    };
    let mut rules = Vec::new();
    for id in list[..close].split(',').map(str::trim) {
        if id.is_empty() {
            return Some(Err(
                "`sluice: ignore[...]` has an empty rule id; nothing is suppressed".to_owned(),
            ));
        }
        if id.contains('*') {
            return Some(Err(format!(
                "`sluice: ignore[{id}]`: `*` is not allowed, name each rule id; nothing is suppressed"
            )));
        }
        rules.push(id.to_owned());
    }
    let reason = list[close + 1..].trim();
    Some(Ok(IgnoreComment {
        line,
        rules,
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    }))
}

/// (line, text after `#`) for every YAML comment. `#` starts a comment at the start of a line or
/// after whitespace, outside quoted scalars.
fn yaml_comments(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .zip(1u32..)
        .filter_map(|(line, number)| {
            yaml_comment_start(line).map(|start| (number, line[start..].to_owned()))
        })
        .collect()
}

/// Byte offset just after the `#` that opens a comment on `line`, if any.
fn yaml_comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut previous: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match quote {
            Some('\'') => {
                if c == '\'' {
                    // `''` is an escaped quote inside a single-quoted scalar.
                    if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
            }
            Some(_) => {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    quote = None;
                }
            }
            None => {
                let at_boundary = previous.is_none_or(char::is_whitespace);
                if c == '#' && at_boundary {
                    return Some(index + 1);
                }
                // A quote opens a quoted scalar (or a shell string) only where a value can
                // start, so the apostrophe in `don't` does not hide a later comment.
                let opens = previous.is_none_or(|p| p.is_whitespace() || "[{,:=(".contains(p));
                if (c == '\'' || c == '"') && opens {
                    quote = Some(c);
                }
            }
        }
        previous = Some(c);
    }
    None
}

/// Where the Groovy scanner is.
enum GroovyState {
    Code,
    LineComment(String),
    BlockComment(String),
    Text(&'static str),
}

/// (line, text) for every Groovy comment, one entry per line a block comment spans. Strings
/// (`'`, `"`, `'''`, `"""`) are skipped so `"https://..."` is not a comment.
fn groovy_comments(text: &str) -> Vec<(u32, String)> {
    let chars: Vec<char> = text.chars().collect();
    let starts = |at: usize, token: &str| {
        token
            .chars()
            .enumerate()
            .all(|(offset, t)| chars.get(at + offset) == Some(&t))
    };
    let mut found = Vec::new();
    let mut line = 1u32;
    let mut state = GroovyState::Code;
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        match &mut state {
            GroovyState::Code => {
                if starts(at, "//") {
                    state = GroovyState::LineComment(String::new());
                    at += 2;
                    continue;
                }
                if starts(at, "/*") {
                    state = GroovyState::BlockComment(String::new());
                    at += 2;
                    continue;
                }
                if let Some(delimiter) = ["'''", "\"\"\"", "'", "\""]
                    .into_iter()
                    .find(|d| starts(at, d))
                {
                    state = GroovyState::Text(delimiter);
                    at += delimiter.len();
                    continue;
                }
            }
            GroovyState::LineComment(comment) => {
                if c == '\n' {
                    found.push((line, std::mem::take(comment)));
                    state = GroovyState::Code;
                } else {
                    comment.push(c);
                }
            }
            GroovyState::BlockComment(comment) => {
                if starts(at, "*/") {
                    found.push((line, std::mem::take(comment)));
                    state = GroovyState::Code;
                    at += 2;
                    continue;
                }
                if c == '\n' {
                    found.push((line, std::mem::take(comment)));
                } else {
                    comment.push(c);
                }
            }
            GroovyState::Text(delimiter) => {
                let delimiter = *delimiter;
                if c == '\\' && chars.get(at + 1).is_some_and(|next| *next != '\n') {
                    at += 2;
                    continue;
                }
                if starts(at, delimiter) {
                    state = GroovyState::Code;
                    at += delimiter.len();
                    continue;
                }
                // Single-line strings cannot span lines: recover at the line's end instead of
                // treating the rest of the file as text.
                if c == '\n' && delimiter.len() == 1 {
                    state = GroovyState::Code;
                }
            }
        }
        if c == '\n' {
            line += 1;
        }
        at += 1;
    }
    if let GroovyState::LineComment(comment) | GroovyState::BlockComment(comment) = state {
        found.push((line, comment));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::types::{Confidence, Location, Severity, Span};

    fn lines(start: u32, end: u32) -> Span {
        Span {
            start_line: start,
            end_line: end,
            start_column: 1,
            end_column: 2,
            ..Span::default()
        }
    }

    /// A finding on line 10 of `a.yml` with one related location.
    fn finding(related_path: &str, related_line: u32) -> Finding {
        Finding {
            rule_id: "FG-001".to_owned(),
            rule_name: "pwn-request".to_owned(),
            pack: "github-actions".to_owned(),
            severity: Severity::High,
            confidence: Confidence::High,
            message: "m".to_owned(),
            path: "a.yml".to_owned(),
            repository_path: "a.yml".to_owned(),
            start_line: 10,
            start_column: 1,
            end_line: 10,
            end_column: 2,
            span: lines(10, 10),
            related: vec![Location {
                path: related_path.to_owned(),
                span: lines(related_line, related_line),
                message: "runs here".to_owned(),
            }],
            mitigations: Vec::new(),
            fingerprint: "f".to_owned(),
            tags: Vec::new(),
            properties: Vec::new(),
        }
    }

    fn suppressed_count(finding: Finding) -> usize {
        let comment_on_line_3 = "x: 1\nx: 2\nx: 3 # sluice: ignore[FG-001] ok\n";
        let mut report = Report::default();
        report
            .sources
            .insert("a.yml".to_owned(), comment_on_line_3.into());
        report
            .sources
            .insert("b.yml".to_owned(), comment_on_line_3.into());
        report.findings.push(finding);
        let known = BTreeSet::from(["FG-001".to_owned()]);
        assert!(apply(&mut report, &known).is_empty());
        report.suppressed.len()
    }

    #[test]
    fn related_locations_count_only_in_the_findings_file() {
        assert_eq!(suppressed_count(finding("a.yml", 3)), 1);
        assert_eq!(suppressed_count(finding("b.yml", 3)), 0);
        assert_eq!(
            suppressed_count(finding("a.yml", 4)),
            1,
            "the line above it"
        );
        assert_eq!(suppressed_count(finding("a.yml", 5)), 0);
    }

    fn directives(path: &str, text: &str) -> Vec<(u32, Vec<String>, Option<String>)> {
        let mut warnings = Vec::new();
        ignore_comments(path, text, &mut warnings)
            .into_iter()
            .map(|c| (c.line, c.rules, c.reason))
            .collect()
    }

    #[test]
    fn yaml_comments_outside_quotes_only() {
        assert_eq!(yaml_comment_start("# x"), Some(1));
        assert_eq!(yaml_comment_start("a: b # x"), Some(6));
        assert_eq!(yaml_comment_start("a: b#c"), None);
        assert_eq!(yaml_comment_start("a: 'b # c'"), None);
        assert_eq!(yaml_comment_start("a: \"b \\\" # c\""), None);
        assert_eq!(yaml_comment_start("a: 'it''s # c'"), None);
        assert_eq!(yaml_comment_start("  echo don't # c"), Some(14));
    }

    #[test]
    fn directives_with_and_without_reason() {
        let text = "a: 1 # sluice: ignore[FG-001, FG-002] trusted input\nb: 2 #sluice:ignore[FG-003]\nc: '# sluice: ignore[FG-004]'\n";
        assert_eq!(
            directives("w.yml", text),
            vec![
                (
                    1,
                    vec!["FG-001".to_owned(), "FG-002".to_owned()],
                    Some("trusted input".to_owned())
                ),
                (2, vec!["FG-003".to_owned()], None),
            ]
        );
    }

    #[test]
    fn wildcards_and_missing_brackets_are_warnings() {
        let mut warnings = Vec::new();
        let found = ignore_comments(
            "w.yml",
            "# sluice: ignore[*]\n# sluice: ignore FG-001\n",
            &mut warnings,
        );
        assert!(found.is_empty());
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[0].line, 1);
        assert_eq!(warnings[1].line, 2);
    }

    #[test]
    fn groovy_line_and_block_comments_but_not_strings() {
        let text = "sh \"curl https://x\" // sluice: ignore[JK-002] reviewed\n/* a\n sluice: ignore[JK-001] */\nsh 'echo // sluice: ignore[JK-003]'\n";
        assert_eq!(
            directives("Jenkinsfile", text),
            vec![
                (1, vec!["JK-002".to_owned()], Some("reviewed".to_owned())),
                (3, vec!["JK-001".to_owned()], None),
            ]
        );
    }
}
