//! Shell variables that reach a second evaluation.
//!
//! A variable the shell expands itself (`echo "$TITLE"`) is data: the shell never parses the
//! value as code, whatever it contains. It becomes code again only when the expanded text is
//! evaluated a second time: `eval "… $TITLE"`, `sh -c "… $TITLE"` / `bash -c`, `source <(… $TITLE …)`,
//! or a command substitution whose command is the value (`` `$CMD` ``, `$($CMD)`). This module
//! finds those places so every pack applies the same rule: substitution by the CI system before
//! the shell runs is an injection, expansion by the shell is not, unless it is re-evaluated.

use std::ops::Range;

use super::{Command, commands};

/// One variable that is evaluated a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reevaluation {
    /// The variable's name as written (`TITLE`, `CI_COMMIT_MESSAGE`, `env:TITLE` → `TITLE`).
    pub variable: String,
    /// Bytes of the reference (`$TITLE`, `${TITLE}`) in the script.
    pub range: Range<usize>,
    /// What evaluates it again, as a clause for messages: "`eval` runs it as shell code".
    pub how: String,
}

/// Shells whose `-c` argument is a script.
const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "pwsh", "powershell"];

/// Every reference to a variable accepted by `is_tracked` that reaches a second evaluation.
pub fn find(script: &str, is_tracked: impl Fn(&str) -> bool) -> Vec<Reevaluation> {
    let mut found = Vec::new();
    let mut push = |reference: VariableRef, how: &str| {
        if is_tracked(&reference.name)
            && !found
                .iter()
                .any(|r: &Reevaluation| r.range == reference.range)
        {
            found.push(Reevaluation {
                variable: reference.name,
                range: reference.range,
                how: how.to_owned(),
            });
        }
    };
    let commands = commands(script);
    for command in &commands {
        let program = program_name(command);
        if command.words.iter().any(|w| w.text == "eval")
            || program.is_some_and(|p| p.eq_ignore_ascii_case("invoke-expression") || p == "iex")
        {
            let how = if program.is_some_and(|p| p != "eval" && !p.contains('$')) {
                "`Invoke-Expression` runs it as code"
            } else {
                "`eval` runs it as shell code"
            };
            let from = command.program_index().unwrap_or(0);
            for word in &command.words[from..] {
                for reference in expanded_refs(word.raw, word.range.start) {
                    push(reference, how);
                }
            }
        }
        if let Some(shell) = program.filter(|p| SHELLS.contains(p)) {
            let args = command.args();
            if let Some(at) = args
                .iter()
                .position(|a| a.text == "-c" || a.text == "-Command")
                && let Some(code) = args.get(at + 1)
            {
                let how = format!("`{shell} {}` runs it as shell code", args[at].text);
                for reference in expanded_refs(code.raw, code.range.start) {
                    push(reference, &how);
                }
            }
        }
        // `$CMD args` runs the value as a command line after word splitting.
        if let Some(word) = command.program()
            && let Some(reference) = expanded_refs(word.raw, word.range.start)
                .into_iter()
                .find(|r| r.range.start == word.range.start)
        {
            push(reference, "the script runs it as a command line");
        }
        for word in &command.words {
            for (inner, start) in substitutions(word.raw, word.range.start) {
                let lead = inner.len() - inner.trim_start().len();
                if let Some(reference) = expanded_refs(inner, start)
                    .into_iter()
                    .find(|r| r.range.start == start + lead)
                {
                    push(
                        reference,
                        "a command substitution runs it as a command line",
                    );
                }
            }
        }
    }
    // `source <(…)` / `. <(…)`: the splitter cuts at the parentheses, so look at lines.
    let mut offset = 0;
    for line in script.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        for prefix in ["source <(", ". <(", "source <( ", ". <( "] {
            if let Some(rest) = trimmed.strip_prefix(prefix) {
                let body_start = start + lead + prefix.len();
                let body_end = rest.rfind(')').unwrap_or(rest.len());
                for reference in expanded_refs(&rest[..body_end], body_start) {
                    push(reference, "`source <(…)` runs it as shell code");
                }
                break;
            }
        }
    }
    found.sort_by_key(|r| r.range.start);
    found
}

/// A `$NAME` / `${NAME…}` / `$env:NAME` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRef {
    pub name: String,
    pub range: Range<usize>,
}

/// References in `raw` (shell text as written, starting at byte `base` of the script) that the
/// shell expands: those outside single quotes.
pub fn expanded_refs(raw: &str, base: usize) -> Vec<VariableRef> {
    let bytes = raw.as_bytes();
    let mut refs = Vec::new();
    let mut in_single = false;
    let mut in_double = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !in_single => i += 1,
            b'\'' if !in_double => in_single = !in_single,
            b'"' if !in_single => in_double = !in_double,
            b'$' if !in_single => {
                if let Some((name, end)) = reference_at(raw, i) {
                    refs.push(VariableRef {
                        name,
                        range: base + i..base + end,
                    });
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

/// The variable referenced at `raw[at] == '$'` and the end of the reference.
fn reference_at(raw: &str, at: usize) -> Option<(String, usize)> {
    let rest = &raw[at + 1..];
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(inner) = rest.strip_prefix('{') {
        let name: String = inner.chars().take_while(|c| is_name(*c)).collect();
        let close = inner.find('}')?;
        return (!name.is_empty()).then(|| (name, at + 2 + close + 1));
    }
    let (rest, skip) = match rest.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("env:") => (&rest[4..], 4),
        _ => (rest, 0),
    };
    let name: String = rest.chars().take_while(|c| is_name(*c)).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((name.clone(), at + 1 + skip + name.len()))
}

/// The commands inside `$( … )` and backquotes of a word, with their script offsets.
fn substitutions(raw: &str, base: usize) -> Vec<(&str, usize)> {
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(open) = raw[search..].find("$(").map(|i| i + search) {
        let inner_start = open + 2;
        let Some(close) = raw[inner_start..].find(')').map(|i| i + inner_start) else {
            break;
        };
        found.push((&raw[inner_start..close], base + inner_start));
        search = close + 1;
    }
    let mut search = 0;
    while let Some(open) = raw[search..].find('`').map(|i| i + search) {
        let Some(close) = raw[open + 1..].find('`').map(|i| i + open + 1) else {
            break;
        };
        found.push((&raw[open + 1..close], base + open + 1));
        search = close + 1;
    }
    found
}

fn program_name<'c>(command: &'c Command<'_>) -> Option<&'c str> {
    let program = command.program()?;
    Some(program.text.rsplit('/').next().unwrap_or(&program.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(script: &str) -> Vec<(String, String)> {
        find(script, |name| name == "TITLE")
            .into_iter()
            .map(|r| (script[r.range].to_owned(), r.how))
            .collect()
    }

    #[test]
    fn plain_expansion_is_data() {
        assert!(
            found("echo \"$TITLE\"\nprintf '%s' \"${TITLE}\" > out\ngit commit -m \"$TITLE\"")
                .is_empty()
        );
        assert!(
            found("bash -c 'echo $TITLE'").is_empty(),
            "the inner shell expands it once"
        );
        assert!(
            found("bash -c 'echo $1' _ \"$TITLE\"").is_empty(),
            "passed as an argument"
        );
        assert!(
            found("eval \"$OTHER\"").is_empty(),
            "not a tracked variable"
        );
    }

    #[test]
    fn second_evaluations() {
        assert_eq!(
            found("eval \"echo $TITLE\""),
            [(
                "$TITLE".to_owned(),
                "`eval` runs it as shell code".to_owned()
            )]
        );
        assert_eq!(
            found("sudo bash -c \"echo ${TITLE}\""),
            [(
                "${TITLE}".to_owned(),
                "`bash -c` runs it as shell code".to_owned()
            )]
        );
        assert_eq!(found("source <(echo \"$TITLE\")").len(), 1);
        assert_eq!(found("x=`$TITLE`").len(), 1);
        assert_eq!(found("$TITLE --flag").len(), 1);
        assert_eq!(found("Invoke-Expression \"$env:TITLE\"").len(), 1);
    }

    #[test]
    fn references() {
        let refs = expanded_refs("a $X '${Y}' \"${Z:-d}\" $env:W $1", 10);
        let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["X", "Z", "W"]);
        assert_eq!(refs[0].range, 12..14);
    }
}
