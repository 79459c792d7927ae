//! FG-012: an `if:` whose `${{ }}` does not span the whole value is always true.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::Text;

pub const META: RuleMeta = RuleMeta {
    id: "FG-012",
    name: "if-always-true",
    title: "If always true: `${{ }}` does not span the whole `if:` condition",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg012_if_always_true.md"),
    remediation: "Write the condition without `${{ }}` (`if: a && b`) or wrap the whole \
        condition in a single `${{ }}`.",
    help_uri: "",
    tags: &["logic-error", "guard-bypass"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for (job, steps) in file.definition.step_groups() {
        if let Some(job) = job
            && let Some(condition) = job.condition
        {
            report(
                file,
                condition,
                &format!("job `{}`", job.id.value),
                findings,
            );
        }
        for step in steps {
            if let Some(condition) = step.condition {
                let context = match job {
                    Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                    None => format!("step `{}`", step.label()),
                };
                report(file, condition, &context, findings);
            }
        }
    }
}

fn report(
    file: &FileContext<'_, '_>,
    condition: Text<'_>,
    context: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(pieces) = template_pieces(condition.value) else {
        return;
    };
    let shown = shorten(condition.value.trim());
    findings.push(
        Finding::new(&META, file.path, condition.span())
            .message(format!(
                "{context} `if: {shown}` mixes {pieces} outside a single `${{{{ }}}}`; GitHub \
                 substitutes the expressions into a non-empty string, so the condition is always true"
            ))
            .fingerprint_key(format!("{}|{}", condition.route(), condition.value.trim()))
            .property("condition", condition.value.trim()),
    );
}

/// `None` when the condition is evaluated as an expression (no `${{`, or one `${{ }}`
/// spanning the whole trimmed value); otherwise a description of what sits outside.
fn template_pieces(value: &str) -> Option<String> {
    let trimmed = value.trim();
    if !trimmed.contains("${{") {
        return None;
    }
    let expressions = expression_ranges(trimmed);
    if let [only] = expressions.as_slice()
        && only.start == 0
        && only.end == trimmed.len()
    {
        return None;
    }
    let count = expressions.len();
    let outside = outside_text(trimmed, &expressions);
    Some(match (count, outside.is_empty()) {
        (1, false) => format!("`${{{{ }}}}` with text `{}`", shorten(&outside)),
        (n, true) => format!("{n} separate `${{{{ }}}}` expressions"),
        (n, false) => format!(
            "{n} `${{{{ }}}}` expressions with text `{}`",
            shorten(&outside)
        ),
    })
}

/// Byte ranges of every `${{ … }}`, closing braces inside string literals ignored; an
/// unclosed expression runs to the end.
fn expression_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("${{") {
        let start = from + found;
        let bytes = text.as_bytes();
        let mut i = start + 3;
        let mut in_string = false;
        let mut end = text.len();
        while i < bytes.len() {
            match bytes[i] {
                b'\'' => in_string = !in_string,
                b'}' if !in_string && bytes.get(i + 1) == Some(&b'}') => {
                    end = i + 2;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        ranges.push(start..end);
        from = end;
    }
    ranges
}

fn outside_text(text: &str, expressions: &[std::ops::Range<usize>]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for range in expressions {
        out.push_str(&text[at..range.start]);
        out.push(' ');
        at = range.end;
    }
    out.push_str(&text[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn templates() {
        assert_eq!(template_pieces("github.actor == 'x'"), None);
        assert_eq!(template_pieces("${{ github.actor == 'x' }}"), None);
        assert_eq!(template_pieces("  ${{ a ||\n b }}\n"), None);
        assert_eq!(template_pieces("${{ a == '}}' }}"), None);
        assert!(template_pieces("${{ a }} && ${{ b }}").is_some());
        assert!(template_pieces("${{ a }} && true").is_some());
        assert!(template_pieces("github.ref == ${{ x }}").is_some());
    }
}
