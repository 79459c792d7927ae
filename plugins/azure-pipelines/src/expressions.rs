//! Azure Pipelines' three expression syntaxes, found by byte range in a piece of text.
//!
//! - `$(name)`: a macro, replaced by the agent with the variable's value before the task (or
//!   script) runs: text substitution into the script.
//! - `${{ … }}`: a template expression, evaluated when the YAML is compiled: also text
//!   substitution.
//! - `$[ … ]`: a runtime expression, allowed only as a variable's or condition's value; its
//!   result becomes a variable, never script text.

use std::ops::Range;

/// A `$(name)` macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro<'t> {
    pub range: Range<usize>,
    /// The variable name as written (`Build.SourceBranchName`).
    pub name: &'t str,
}

/// Characters Azure accepts in a macro's variable name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Every `$(name)` macro of `text`. `$(command args)` (a shell command substitution) is not a
/// macro: the name stops at the first character a variable name cannot hold.
pub fn macros(text: &str) -> Vec<Macro<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|rest| rest.find("$(")) {
        let start = from + at;
        let name_start = start + 2;
        let rest = text.get(name_start..).unwrap_or_default();
        let name_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if name_len > 0 && rest[name_len..].starts_with(')') {
            found.push(Macro {
                range: start..name_start + name_len + 1,
                name: &rest[..name_len],
            });
            from = name_start + name_len + 1;
        } else {
            from = name_start;
        }
    }
    found
}

/// Byte ranges of `open … close` spans, `open` and `close` included; an unterminated one runs
/// to the end of the text.
fn delimited(text: &str, open: &str, close: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|rest| rest.find(open)) {
        let start = from + at;
        let body = start + open.len();
        let end = text
            .get(body..)
            .and_then(|rest| rest.find(close))
            .map_or(text.len(), |i| body + i + close.len());
        found.push(start..end);
        from = end;
    }
    found
}

/// Every `${{ … }}` template expression of `text`.
pub fn template_expressions(text: &str) -> Vec<Range<usize>> {
    delimited(text, "${{", "}}")
}

/// Every `$[ … ]` runtime expression of `text`.
pub fn runtime_expressions(text: &str) -> Vec<Range<usize>> {
    delimited(text, "$[", "]")
}

/// Every expression of any of the three kinds, for deciding whether a value is known before
/// the run (image references, pool names).
pub fn all_expressions(text: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = macros(text).into_iter().map(|m| m.range).collect();
    ranges.extend(template_expressions(text));
    ranges.extend(runtime_expressions(text));
    ranges.sort_by_key(|r| r.start);
    ranges
}

/// Whether the whole (trimmed) text is one expression of any kind.
pub fn is_entirely_expression(text: &str) -> bool {
    let trimmed = text.trim();
    let lead = text.len() - text.trim_start().len();
    !trimmed.is_empty()
        && all_expressions(text)
            .iter()
            .any(|r| r.start == lead && r.end == lead + trimmed.len())
}

/// The body of a `${{ … }}` expression, trimmed (`${{ parameters.x }}` → `parameters.x`).
pub fn template_body(expression: &str) -> &str {
    expression
        .strip_prefix("${{")
        .map(|s| s.strip_suffix("}}").unwrap_or(s))
        .unwrap_or(expression)
        .trim()
}

/// What a template expression names under `context` (`variables` or `parameters`), in the
/// forms `context.name`, `context['name']` and `context["name"]`, with byte offsets relative
/// to `expression`.
pub fn context_names<'t>(expression: &'t str, context: &str) -> Vec<(Range<usize>, &'t str)> {
    let mut found = Vec::new();
    let lower = expression.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower.get(from..).and_then(|rest| rest.find(context)) {
        let start = from + at;
        let after = start + context.len();
        from = after;
        // `myvariables.x` is not `variables.x`.
        if lower[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            continue;
        }
        let rest = &expression[after..];
        if let Some(name) = rest.strip_prefix('.') {
            let len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(name.len());
            if len > 0 {
                found.push((start..after + 1 + len, &name[..len]));
                from = after + 1 + len;
            }
        } else if let Some(quoted) = rest.strip_prefix("['").or_else(|| rest.strip_prefix("[\""))
            && let Some(len) = quoted.find(['\'', '"'])
        {
            let end = after + 2 + len + 2;
            found.push((start..end.min(expression.len()), &quoted[..len]));
            from = end.min(expression.len());
        }
    }
    found
}

/// Functions whose result carries their arguments' text (as opposed to `eq`, `contains`,
/// `startsWith`… which give booleans).
const TEXT_FUNCTIONS: &[&str] = &[
    "format(",
    "coalesce(",
    "replace(",
    "lower(",
    "upper(",
    "trim(",
    "join(",
    "split(",
    "iif(",
];

/// Whether an expression body (`variables['X']`, `format('{0}', variables.X)`) evaluates to
/// text that may contain its variables' values; `eq(variables.X, 'main')` does not.
pub fn is_text_valued(body: &str) -> bool {
    let lower = body.trim().to_ascii_lowercase();
    lower.starts_with("variables")
        || lower.starts_with("parameters")
        || TEXT_FUNCTIONS.iter().any(|f| lower.starts_with(f))
}

/// The body of a `$[ … ]` runtime expression, trimmed.
pub fn runtime_body(expression: &str) -> &str {
    expression
        .strip_prefix("$[")
        .map(|s| s.strip_suffix(']').unwrap_or(s))
        .unwrap_or(expression)
        .trim()
}

/// If `text` is exactly one `${{ parameters.x }}` (whitespace allowed around it), `x`.
pub fn sole_parameter(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    let ranges = template_expressions(trimmed);
    let [only] = ranges.as_slice() else {
        return None;
    };
    if only.start != 0 || only.end != trimmed.len() {
        return None;
    }
    let body = template_body(trimmed);
    let names = context_names(body, "parameters");
    match names.as_slice() {
        [(range, name)] if range.start == 0 && range.end == body.len() => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_stop_at_non_name_characters() {
        let found = macros("echo $(Build.SourceBranchName) $(git rev-parse HEAD) $(a-b_c)");
        let names: Vec<&str> = found.iter().map(|m| m.name).collect();
        assert_eq!(names, ["Build.SourceBranchName", "a-b_c"]);
        assert_eq!(found[0].range, 5..30);
    }

    #[test]
    fn context_names_accept_every_form() {
        let names: Vec<&str> = context_names(
            "eq(variables['Build.Reason'], variables.x, variables[\"y.z\"], myvariables.q)",
            "variables",
        )
        .into_iter()
        .map(|(_, n)| n)
        .collect();
        assert_eq!(names, ["Build.Reason", "x", "y.z"]);
    }

    #[test]
    fn sole_parameter_is_only_the_whole_value() {
        assert_eq!(sole_parameter(" ${{ parameters.steps }} "), Some("steps"));
        assert_eq!(sole_parameter("${{ parameters['pool'] }}"), Some("pool"));
        assert_eq!(sole_parameter("x ${{ parameters.steps }}"), None);
        assert_eq!(sole_parameter("${{ coalesce(parameters.a, 'b') }}"), None);
    }

    #[test]
    fn text_valued_expressions() {
        assert!(is_text_valued("variables['Build.SourceBranchName']"));
        assert!(is_text_valued("format('{0}-x', variables.branch)"));
        assert!(!is_text_valued(
            "eq(variables['Build.SourceBranchName'], 'main')"
        ));
    }

    #[test]
    fn entirely_expression() {
        assert!(is_entirely_expression("$(image)"));
        assert!(is_entirely_expression(" ${{ parameters.image }}"));
        assert!(!is_entirely_expression("ubuntu:$(tag)"));
    }
}
