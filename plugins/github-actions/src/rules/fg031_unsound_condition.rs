//! FG-031: expressions that do not test what they appear to — substring `contains` on a
//! string literal and `a && b || c` pseudo-ternaries whose middle value can be falsy.

use sluice_pack_sdk::expr::{self, context_refs};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::contexts;
use crate::model::{Definition, Text, scalars};

pub const META: RuleMeta = RuleMeta {
    id: "FG-031",
    name: "unsound-condition",
    title: "Expression tests less than it appears to (substring `contains`, pseudo-ternary)",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg031_unsound_condition.md"),
    remediation: "Compare exactly: `github.ref == 'refs/heads/main' || github.ref == \
        'refs/heads/release'`, or `contains(fromJSON('[\"refs/heads/main\", \
        \"refs/heads/release\"]'), github.ref)`. For a ternary, make sure the middle value is \
        a non-empty literal (`cond && 'x' || 'y'`) or restructure into separate steps with \
        `if:`.",
    help_uri: "",
    tags: &["logic", "condition"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let root = match file.definition {
        Definition::Workflow(workflow) => workflow.node,
        Definition::Action(action) => action.node,
    };
    for node in scalars(root) {
        let Some(text) = Text::from_node(node) else {
            continue;
        };
        // `if:` values are expressions even without `${{ }}`.
        let is_condition =
            node.route.to_string().ends_with(".if") || node.route.to_string() == "if";
        let pieces: Vec<std::ops::Range<usize>> = if is_condition && !text.value.contains("${{") {
            std::iter::once(0..text.value.len()).collect()
        } else {
            expr::find_expressions(text.value)
                .into_iter()
                .map(|e| e.inner)
                .collect()
        };
        for piece in pieces {
            unsound_contains(file, text, piece.clone(), findings);
            pseudo_ternary(file, text, piece, findings);
        }
    }
}

/// Whether an outsider or a branch pusher chooses the value of `path`.
fn influenced(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [
        "github.ref",
        "github.ref_name",
        "github.head_ref",
        "github.actor",
        "github.triggering_actor",
    ]
    .contains(&lower.as_str())
        || lower.starts_with("github.event.")
        || lower.starts_with("inputs.")
        || lower.starts_with("env.")
        || lower.starts_with("steps.")
        || lower.starts_with("needs.")
}

/// `contains('<literal>', <context>)`.
fn unsound_contains(
    file: &FileContext<'_, '_>,
    text: Text<'_>,
    piece: std::ops::Range<usize>,
    findings: &mut Vec<Finding>,
) {
    let source = &text.value[piece.clone()];
    let lower = source.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("contains(") {
        let call = from + found;
        from = call + "contains(".len();
        // `xcontains(` is another function.
        if lower[..call]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            continue;
        }
        let bytes = source.as_bytes();
        let mut i = from;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'\'') {
            continue;
        }
        // The literal.
        let mut j = i + 1;
        let mut literal = String::new();
        loop {
            match bytes.get(j) {
                None => return,
                Some(b'\'') if bytes.get(j + 1) == Some(&b'\'') => {
                    literal.push('\'');
                    j += 2;
                }
                Some(b'\'') => break,
                Some(_) => {
                    let c = source[j..].chars().next().unwrap_or(' ');
                    literal.push(c);
                    j += c.len_utf8();
                }
            }
        }
        let after_literal = j + 1;
        let rest = source[after_literal..].trim_start();
        let Some(second) = rest.strip_prefix(',') else {
            continue;
        };
        let close = match_paren(second).unwrap_or(second.len());
        let argument = second[..close].trim();
        let refs = context_refs(argument);
        let Some(reference) = refs.first() else {
            continue;
        };
        let call_end = source.len() - second.len() + close + 1;
        let span = text.span_of(piece.start + call..piece.start + call_end.min(source.len()));
        let shown = &source[call..call_end.min(source.len())];
        let (severity, who) = if influenced(&reference.path) {
            (
                Severity::Medium,
                "whoever controls it can pick a substring that matches",
            )
        } else {
            (Severity::Low, "a partial value matches too")
        };
        findings.push(
            Finding::new(&META, file.path, span)
                .severity(severity)
                .confidence(Confidence::High)
                .message(format!(
                    "`{shown}` at `{}` tests whether `{}` is a substring of '{literal}', not one of its items: {who}",
                    text.route(),
                    reference.path
                ))
                .fingerprint_key(format!("{}|{}", text.route(), shown))
                .property("pattern", "substring-contains")
                .property("value", reference.path.clone()),
        );
    }
}

/// The offset of the `)` closing an argument list that starts at the beginning of `text`.
fn match_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    for (at, c) in text.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                if depth == 0 {
                    return Some(at);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Splits at a top-level two-character operator, outside strings and parentheses; ranges.
fn split_top(text: &str, op: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let op = op.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut in_string, mut start, mut i) = (0i32, false, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'(' | b'[' if !in_string => depth += 1,
            b')' | b']' if !in_string => depth -= 1,
            b if !in_string && depth == 0 && b == op[0] && bytes.get(i + 1) == Some(&op[1]) => {
                parts.push(start..i);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(start..bytes.len());
    parts
}

/// How a middle value can be falsy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Falsy {
    /// Always (`''`, `false`, `0`, `null`).
    Literal,
    /// When the value happens to be empty.
    MaybeEmpty,
}

fn falsy(value: &str) -> Option<Falsy> {
    let value = value.trim();
    let value = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(value)
        .trim();
    if matches!(
        value.to_ascii_lowercase().as_str(),
        "''" | "false" | "0" | "null"
    ) {
        return Some(Falsy::Literal);
    }
    if value.starts_with('\'') || value.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let refs = context_refs(value);
    // Only a bare access can be empty; a comparison or a function produces a boolean/string.
    let reference = refs.first()?;
    if reference.range != (0..value.len()) {
        return None;
    }
    let path = reference.path.to_ascii_lowercase();
    let maybe_empty = [
        "inputs.",
        "env.",
        "vars.",
        "steps.",
        "needs.",
        "matrix.",
        "github.event.inputs.",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        || path == "github.head_ref"
        || path == "github.base_ref";
    maybe_empty.then_some(Falsy::MaybeEmpty)
}

/// What makes a fallback dangerous, if anything.
fn dangerous(value: &str) -> Option<String> {
    for reference in context_refs(value) {
        // A value compared or tested yields a boolean, not the attacker's text.
        if !contexts::is_text_position(value, &reference) {
            continue;
        }
        if contexts::tainted(&reference.path, false)
            .iter()
            .any(|t| t.tier == contexts::Tier::Anyone)
        {
            return Some(format!("attacker-controlled `{}`", reference.path));
        }
        if contexts::pr_head_events(&reference.path, false).is_some_and(|e| !e.is_empty()) {
            return Some(format!("pull request code (`{}`)", reference.path));
        }
    }
    None
}

fn pseudo_ternary(
    file: &FileContext<'_, '_>,
    text: Text<'_>,
    piece: std::ops::Range<usize>,
    findings: &mut Vec<Finding>,
) {
    let source = &text.value[piece.clone()];
    let alternatives = split_top(source, "||");
    if alternatives.len() < 2 {
        return;
    }
    for (index, alternative) in alternatives.iter().enumerate().take(alternatives.len() - 1) {
        let conjuncts = split_top(&source[alternative.clone()], "&&");
        if conjuncts.len() < 2 {
            continue;
        }
        let middle_range = conjuncts[conjuncts.len() - 1].clone();
        let middle = source[alternative.clone()][middle_range].trim();
        let Some(kind) = falsy(middle) else { continue };
        let fallback_range =
            alternatives[index + 1].start..alternatives[alternatives.len() - 1].end;
        let fallback = source[fallback_range.clone()].trim();
        let danger = dangerous(fallback);
        let (severity, confidence, why) = match (kind, &danger) {
            (_, Some(danger)) => (
                Severity::Medium,
                if kind == Falsy::Literal {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                format!(
                    "the fallback, {danger}, is used whenever `{middle}` is falsy, even when the condition holds"
                ),
            ),
            (Falsy::Literal, None) => (
                Severity::Low,
                Confidence::High,
                format!(
                    "`{middle}` is always falsy, so the result is always the fallback `{fallback}` and the condition has no effect"
                ),
            ),
            (Falsy::MaybeEmpty, None) => continue,
        };
        let start = alternative.start;
        let end = fallback_range.end;
        let whole = source[start..end].trim();
        let offset = start + (source[start..end].len() - source[start..end].trim_start().len());
        let span = text.span_of(piece.start + offset..piece.start + offset + whole.len());
        findings.push(
            Finding::new(&META, file.path, span)
                .severity(severity)
                .confidence(confidence)
                .message(format!(
                    "pseudo-ternary `{whole}` at `{}`: {why}",
                    text.route()
                ))
                .fingerprint_key(format!("{}|{}", text.route(), whole))
                .property("pattern", "pseudo-ternary"),
        );
        // One finding per expression: later alternatives are part of this fallback.
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falsy_values() {
        assert_eq!(falsy("''"), Some(Falsy::Literal));
        assert_eq!(falsy("false"), Some(Falsy::Literal));
        assert_eq!(falsy("inputs.ref"), Some(Falsy::MaybeEmpty));
        assert_eq!(falsy("'main'"), None);
        assert_eq!(falsy("github.sha"), None);
        assert_eq!(falsy("github.ref == 'x'"), None);
    }

    #[test]
    fn splits() {
        let text = "a && (b || c) || 'x||y'";
        let parts: Vec<&str> = split_top(text, "||")
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(parts, ["a && (b || c) ", " 'x||y'"]);
    }
}
