//! CircleCI's `<< … >>` config-compilation expressions.
//!
//! CircleCI replaces `<< pipeline.git.branch >>`, `<< pipeline.parameters.x >>` and
//! `<< parameters.x >>` in the configuration text when it compiles the config, before any
//! shell runs: whatever the value holds becomes part of the script. `<<# parameters.flag >>`
//! … `<</ parameters.flag >>` sections (boolean conditionals) and `\<<` (a literal `<<`) are
//! not substitutions.

use std::ops::Range;

/// One `<< … >>` substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression<'t> {
    /// Bytes of `<< … >>` in the text.
    pub range: Range<usize>,
    /// The trimmed content, such as `pipeline.git.branch`.
    pub content: &'t str,
}

impl Expression<'_> {
    /// `parameters.x` → `x`.
    pub fn parameter(&self) -> Option<&str> {
        self.content.strip_prefix("parameters.")
    }

    /// `pipeline.parameters.x` → `x`.
    pub fn pipeline_parameter(&self) -> Option<&str> {
        self.content.strip_prefix("pipeline.parameters.")
    }
}

/// Every substitution in `text`, in order.
pub fn find(text: &str) -> Vec<Expression<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text.get(from..).and_then(|rest| rest.find("<<")) {
        let start = from + offset;
        let escaped = start > 0 && text.as_bytes()[start - 1] == b'\\';
        let Some(close) = text[start + 2..].find(">>") else {
            break;
        };
        let end = start + 2 + close + 2;
        let content = text[start + 2..end - 2].trim();
        if escaped || content.is_empty() {
            from = end;
            continue;
        }
        // Sections and comments of CircleCI's mustache-like syntax substitute nothing, and a
        // heredoc (`cat <<EOF … >> out`) is shell text, not an expression.
        if !is_reference(content) && !content.starts_with("include(") {
            // Resume right after this `<<`: a later real expression must still be found.
            from = start + 2;
            continue;
        }
        from = end;
        found.push(Expression {
            range: start..end,
            content,
        });
    }
    found
}

/// `pipeline.git.branch`, `parameters.x-y`, `matrix.os`: a dotted name.
fn is_reference(content: &str) -> bool {
    content.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && content
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Byte ranges of run-time or compile-time values in an image reference: `<< … >>`, `${VAR}`
/// and `$VAR` (CircleCI expands environment variables in `image:` and `auth:`).
pub fn image_expressions(text: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = find(text).into_iter().map(|e| e.range).collect();
    ranges.extend(sluice_pack_sdk::text::dollar_variables(text));
    ranges.sort_by_key(|r| r.start);
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substitutions_and_skips_sections() {
        let text = "echo <<pipeline.git.branch>> << parameters.x >> <<# parameters.b >>-v<</ parameters.b >> \\<< no >>";
        let found = find(text);
        let contents: Vec<&str> = found.iter().map(|e| e.content).collect();
        assert_eq!(contents, ["pipeline.git.branch", "parameters.x"]);
        assert_eq!(&text[found[0].range.clone()], "<<pipeline.git.branch>>");
        assert_eq!(found[1].parameter(), Some("x"));
    }

    #[test]
    fn unterminated_expression_is_ignored() {
        assert!(find("cat <<EOF\nhello\nEOF").is_empty());
        assert!(find("a << b").is_empty());
        assert!(find("cat <<EOF > x\necho >> y").is_empty());
        assert_eq!(find("cat <<EOF\n<< parameters.x >>").len(), 1);
    }

    #[test]
    fn image_expressions_cover_all_forms() {
        let r = image_expressions("${REG}/x:<< parameters.tag >>-$SUFFIX");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], 0..6);
    }
}
