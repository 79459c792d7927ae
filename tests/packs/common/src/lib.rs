//! Helpers shared by the test rule packs, so each pack's source shows only the behaviour it
//! tests: metadata that passes every host check, and findings that are valid in every field.

use sluice_pack_sdk::{
    Confidence, Finding, OptionMeta, PackInfo, RuleMeta, Severity, SourceFile, Span,
};

/// Every test pack reads all YAML files, so any fixture directory with a workflow matches.
pub const PATTERNS: &[&str] = &["**/*.yml", "**/*.yaml"];

/// Metadata of a rule that passes the host's checks (non-empty id and title).
///
/// Low severity: a test pack's findings must not change the exit code on their own, so a
/// test that sees exit code 2 knows it came from an error, not from `--fail-on`.
pub const fn rule(id: &'static str) -> RuleMeta {
    RuleMeta {
        id,
        name: "test-rule",
        title: "Test rule",
        default_severity: Severity::Low,
        default_confidence: Confidence::High,
        description: "Emitted by a sluice test pack.",
        remediation: "Nothing to fix: this is a test.",
        help_uri: "",
        tags: &["test"],
    }
}

/// Metadata of test pack `id` declaring `rules` (in that order, duplicates kept, so a pack can
/// declare broken metadata on purpose).
pub fn info(id: &'static str, rules: &[RuleMeta]) -> PackInfo {
    PackInfo {
        id,
        name: id,
        version: "0.1.0",
        platform: "test",
        description: "A sluice test pack.",
        patterns: PATTERNS,
        content_patterns: &[],
        rules: rules.to_vec(),
        options: Vec::<OptionMeta>::new(),
    }
}

/// The span of `content`'s first line (without its line break).
pub fn first_line_span(content: &str) -> Span {
    let line = content.lines().next().unwrap_or("");
    let chars = u32::try_from(line.chars().count()).unwrap_or(u32::MAX - 1);
    Span {
        start_byte: 0,
        end_byte: u32::try_from(line.len()).unwrap_or(u32::MAX),
        start_line: 1,
        start_column: 1,
        end_line: 1,
        end_column: chars + 1,
    }
}

/// A well-formed finding of `rule` on the first line of `file`.
pub fn finding(rule: &RuleMeta, file: &SourceFile, message: impl Into<String>) -> Finding {
    Finding::new(rule, file.path.clone(), first_line_span(&file.content))
        .message(message)
        .fingerprint_key(rule.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_span_counts_chars_not_bytes() {
        let span = first_line_span("née: 1\nnext");
        assert_eq!((span.start_byte, span.end_byte), (0, 7));
        assert_eq!((span.start_column, span.end_column), (1, 7));
    }
}
