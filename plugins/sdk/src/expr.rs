//! GitHub Actions expressions (`${{ … }}`).
//!
//! [`find_expressions`] locates the expressions in a piece of text (usually a YAML scalar's
//! value); [`context_refs`] lists the context accesses (`github.event.issue.title`,
//! `secrets.TOKEN`, …) inside one expression, normalised so rules can compare paths.
//!
//! Both work on byte offsets. Combine them with [`crate::yaml::Node::span_of`] to point findings
//! at the exact source position of an expression inside a scalar.

use std::ops::Range;

/// One `${{ … }}` expression found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expression<'a> {
    /// The whole `${{ … }}`, as byte offsets into the searched text.
    pub range: Range<usize>,
    /// Between `${{` and `}}`, as byte offsets into the searched text.
    pub inner: Range<usize>,
    /// The inner text without surrounding whitespace.
    pub text: &'a str,
}

impl Expression<'_> {
    /// The context accesses of this expression, with ranges as byte offsets into `input` (the
    /// text this expression was found in).
    pub fn context_refs(&self, input: &str) -> Vec<ContextRef> {
        let Some(inner) = input.get(self.inner.clone()) else {
            return Vec::new();
        };
        let mut refs = context_refs(inner);
        for r in &mut refs {
            r.range = r.range.start + self.inner.start..r.range.end + self.inner.start;
        }
        refs
    }
}

/// Finds every terminated `${{ … }}` in `text`, in order.
///
/// A `}}` inside a string literal (`'a }} b'`, with `''` as the escaped quote) does not end the
/// expression. An unterminated `${{` is skipped and the search goes on after it.
pub fn find_expressions(text: &str) -> Vec<Expression<'_>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    // Built after the first unterminated `${{`, so that many of them stay linear.
    let mut closers: Option<Closers> = None;
    while let Some(open) = text.get(from..).and_then(|rest| rest.find("${{")) {
        let start = from + open;
        let inner_start = start + 3;
        let end = match &closers {
            Some(closers) => closers.closing_from(inner_start),
            None => {
                let end = expression_end(bytes, inner_start);
                if end.is_none() {
                    closers = Some(Closers::new(bytes));
                }
                end
            }
        };
        match end {
            Some(inner_end) => {
                let inner = text.get(inner_start..inner_end).unwrap_or("");
                found.push(Expression {
                    range: start..inner_end + 2,
                    inner: inner_start..inner_end,
                    text: inner.trim(),
                });
                from = inner_end + 2;
            }
            None => from = inner_start,
        }
    }
    found
}

/// The offset of the `}}` closing an expression whose body starts at `from`.
fn expression_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        match bytes.get(i)? {
            b'\'' => i = skip_literal(bytes, i)?,
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
}

/// For every offset, the closing `}}` that [`expression_end`] would find from there, both when
/// the offset is outside and inside a string literal. Scanning from two offsets that reach the
/// same offset in the same state ends the same way, so one right-to-left pass answers every
/// start in constant time.
struct Closers {
    /// `[outside, inside]` per offset; `u32::MAX` for none.
    table: Vec<[u32; 2]>,
}

impl Closers {
    const NONE: u32 = u32::MAX;

    fn new(bytes: &[u8]) -> Closers {
        let mut table = vec![[Self::NONE; 2]; bytes.len() + 2];
        for i in (0..bytes.len()).rev() {
            let at = |offset: usize, state: usize| {
                table
                    .get(offset)
                    .map_or(Self::NONE, |entry: &[u32; 2]| entry[state])
            };
            let quote = bytes.get(i) == Some(&b'\'');
            let outside = if bytes.get(i) == Some(&b'}') && bytes.get(i + 1) == Some(&b'}') {
                u32::try_from(i).unwrap_or(Self::NONE)
            } else if quote {
                at(i + 1, 1)
            } else {
                at(i + 1, 0)
            };
            let inside = if quote && bytes.get(i + 1) == Some(&b'\'') {
                at(i + 2, 1)
            } else if quote {
                at(i + 1, 0)
            } else {
                at(i + 1, 1)
            };
            if let Some(entry) = table.get_mut(i) {
                *entry = [outside, inside];
            }
        }
        Closers { table }
    }

    fn closing_from(&self, offset: usize) -> Option<usize> {
        let end = self.table.get(offset)?[0];
        (end != Self::NONE)
            .then(|| usize::try_from(end).ok())
            .flatten()
    }
}

/// Given the opening quote of a string literal at `at`, the offset just past its closing quote
/// (`None` if unterminated).
fn skip_literal(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The contexts whose accesses [`context_refs`] reports.
pub const CONTEXTS: &[&str] = &[
    "github", "env", "vars", "secrets", "inputs", "steps", "needs", "matrix", "job", "jobs",
    "runner", "strategy",
];

/// One access to a context inside an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextRef {
    /// Byte offsets, into the string given to [`context_refs`], of the whole access (from the
    /// context name to the end of the last property or index). To get offsets into the text an
    /// expression was found in, pass `&input[expr.inner.clone()]` and add `expr.inner.start`, or
    /// use [`Expression::context_refs`].
    pub range: Range<usize>,
    /// The normalised path: dot-separated, context name lower-cased, `['x']` written as `.x`,
    /// indices (`[0]`, `[*]`, `.*`, computed `[expr]`) written as `*`. Property names keep their
    /// case (expressions compare them case-insensitively, so compare with
    /// `eq_ignore_ascii_case` when that matters).
    pub path: String,
}

/// Nesting of computed indices (`a[b[c]]`) beyond which the inner accesses are not reported.
const MAX_INDEX_NESTING: usize = 16;

/// Every context access in `expression` (the text inside `${{ }}`, surrounding whitespace
/// allowed), in order.
///
/// String literals are skipped; function names (`contains(`, `format(`, `toJSON(`) are not
/// accesses but their arguments are scanned. Accesses on a function's result
/// (`fromJSON(x).y`) are not reported; the accesses inside computed indices are
/// (`github.event[inputs.field]` reports `github.event.*` and `inputs.field`).
pub fn context_refs(expression: &str) -> Vec<ContextRef> {
    let mut scanner = RefScanner {
        text: expression,
        bytes: expression.as_bytes(),
        brackets: brackets(expression.as_bytes()),
        refs: Vec::new(),
    };
    scanner.scan(0, expression.len(), 0);
    scanner.refs
}

struct RefScanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    /// `(open, close)` offsets of every matched `[`…`]` pair outside string literals, by `open`.
    brackets: Vec<(usize, usize)>,
    refs: Vec<ContextRef>,
}

impl RefScanner<'_> {
    fn scan(&mut self, from: usize, to: usize, nesting: usize) {
        let bytes = self.bytes;
        let mut i = from;
        // Whether the last token was a `.`, making a following identifier a property name.
        let mut after_dot = false;
        while i < to {
            let Some(&byte) = bytes.get(i) else { break };
            match byte {
                b'\'' => {
                    i = skip_literal(bytes, i).unwrap_or(to).min(to);
                    after_dot = false;
                }
                b'.' => {
                    i += 1;
                    after_dot = true;
                }
                b if b.is_ascii_whitespace() => i += 1,
                b if is_ident_start(b) => {
                    let end = ident_end(bytes, i, to);
                    let name = self.text.get(i..end).unwrap_or("");
                    let is_call = bytes.get(skip_ws(bytes, end, to)) == Some(&b'(');
                    let context = CONTEXTS
                        .iter()
                        .find(|context| context.eq_ignore_ascii_case(name));
                    match context {
                        Some(context) if !after_dot && !is_call => {
                            let (path, chain_end) = self.chain(end, to, nesting);
                            self.refs.push(ContextRef {
                                range: i..chain_end,
                                path: format!("{context}{path}"),
                            });
                            i = chain_end;
                        }
                        _ => i = end,
                    }
                    after_dot = false;
                }
                b if b.is_ascii_digit() => {
                    // Numbers, including `1.5` and `0x1F`: neither identifiers nor accesses.
                    while i < to
                        && bytes
                            .get(i)
                            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
                    {
                        i += 1;
                    }
                    after_dot = false;
                }
                _ => {
                    i += self
                        .text
                        .get(i..)
                        .and_then(|rest| rest.chars().next())
                        .map_or(1, char::len_utf8);
                    after_dot = false;
                }
            }
        }
    }

    /// Reads the property chain after a context name ending at `at`: the normalised suffix
    /// (`.event.issue`) and where the chain ends. Accesses inside computed indices are recorded
    /// too.
    fn chain(&mut self, at: usize, to: usize, nesting: usize) -> (String, usize) {
        let bytes = self.bytes;
        let mut path = String::new();
        let mut end = at;
        loop {
            let next = skip_ws(bytes, end, to);
            match bytes.get(next) {
                Some(b'.') if next < to => {
                    let name_start = skip_ws(bytes, next + 1, to);
                    match bytes.get(name_start) {
                        Some(b'*') if name_start < to => {
                            path.push_str(".*");
                            end = name_start + 1;
                        }
                        Some(&b) if name_start < to && is_ident_start(b) => {
                            let name_end = ident_end(bytes, name_start, to);
                            path.push('.');
                            path.push_str(self.text.get(name_start..name_end).unwrap_or(""));
                            end = name_end;
                        }
                        _ => break,
                    }
                }
                Some(b'[') if next < to => {
                    let Some(close) = self.matching_bracket(next).filter(|&close| close < to)
                    else {
                        break;
                    };
                    let inside_start = skip_ws(bytes, next + 1, close);
                    let inside_end = trim_end(bytes, inside_start, close);
                    let inside = self.text.get(inside_start..inside_end).unwrap_or("");
                    match literal_key(inside) {
                        Some(key) => {
                            path.push('.');
                            path.push_str(&key);
                        }
                        None => {
                            path.push_str(".*");
                            if nesting < MAX_INDEX_NESTING {
                                self.scan(inside_start, inside_end, nesting + 1);
                            }
                        }
                    }
                    end = close + 1;
                }
                _ => break,
            }
        }
        (path, end)
    }

    fn matching_bracket(&self, open: usize) -> Option<usize> {
        let index = self
            .brackets
            .binary_search_by_key(&open, |&(o, _)| o)
            .ok()?;
        self.brackets.get(index).map(|&(_, close)| close)
    }
}

/// The text of a single string literal (`'x'`, with `''` unescaped), if `inside` is one.
fn literal_key(inside: &str) -> Option<String> {
    let body = inside.strip_prefix('\'')?.strip_suffix('\'')?;
    // The literal must end exactly at the end of `inside`.
    (skip_literal(inside.as_bytes(), 0)? == inside.len()).then(|| body.replace("''", "'"))
}

/// Every matched `[`…`]` pair outside string literals, sorted by the `[`.
fn brackets(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut open = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'\'' => {
                let Some(next) = skip_literal(bytes, i) else {
                    break;
                };
                i = next;
                continue;
            }
            b'[' => open.push(i),
            b']' => {
                if let Some(start) = open.pop() {
                    pairs.push((start, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs.sort_unstable();
    pairs
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn ident_end(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut i = from;
    while i < to
        && bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    {
        i += 1;
    }
    i
}

fn skip_ws(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut i = from;
    while i < to && bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn trim_end(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut end = to;
    while end > from && bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(expression: &str) -> Vec<String> {
        context_refs(expression)
            .into_iter()
            .map(|r| r.path)
            .collect()
    }

    #[test]
    fn finds_two_expressions_on_a_line() {
        let text = "echo ${{ github.head_ref }} and ${{github.base_ref}}!";
        let found = find_expressions(text);
        assert_eq!(found.len(), 2);
        assert_eq!(&text[found[0].range.clone()], "${{ github.head_ref }}");
        assert_eq!(&text[found[0].inner.clone()], " github.head_ref ");
        assert_eq!(found[0].text, "github.head_ref");
        assert_eq!(&text[found[1].range.clone()], "${{github.base_ref}}");
        assert_eq!(found[1].text, "github.base_ref");
    }

    #[test]
    fn whitespace_variations() {
        for text in [
            "${{github.head_ref}}",
            "${{   github.head_ref   }}",
            "${{\tgithub.head_ref\n}}",
        ] {
            let found = find_expressions(text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].range, 0..text.len());
            assert_eq!(found[0].text, "github.head_ref");
            assert_eq!(paths(found[0].text), ["github.head_ref"]);
        }
    }

    #[test]
    fn literals_may_contain_closing_braces() {
        let text = "x ${{ format('a }} b ''{0}}''', github.actor) }} y ${{ 'it''s' }}";
        let found = find_expressions(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].text, "format('a }} b ''{0}}''', github.actor)");
        assert_eq!(found[1].text, "'it''s'");
        assert_eq!(paths(found[0].text), ["github.actor"]);
        assert!(paths(found[1].text).is_empty());
    }

    #[test]
    fn unterminated_expressions_are_ignored() {
        assert!(find_expressions("${{ github.actor").is_empty());
        assert!(find_expressions("${{ 'unterminated }}").is_empty());
        let found = find_expressions("${{ oops ${{ github.actor }}");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "oops ${{ github.actor");
        let found = find_expressions("$ {{ no }} ${ { no } } ${{}}");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "");
    }

    #[test]
    fn array_indices_become_stars() {
        assert_eq!(
            paths("github.event.pages[0].page_name"),
            ["github.event.pages.*.page_name"]
        );
        assert_eq!(
            paths("github.event.pages[*].page_name"),
            ["github.event.pages.*.page_name"]
        );
        assert_eq!(
            paths("github.event.pages.*.page_name"),
            ["github.event.pages.*.page_name"]
        );
    }

    #[test]
    fn bracket_literals_become_dots() {
        assert_eq!(
            paths("github['event']['issue'].title"),
            ["github.event.issue.title"]
        );
        assert_eq!(paths("GitHub [ 'event' ] . issue"), ["github.event.issue"]);
    }

    #[test]
    fn function_arguments_are_scanned() {
        assert_eq!(paths("toJSON(github.event)"), ["github.event"]);
        assert_eq!(paths("format('{0}', github.head_ref)"), ["github.head_ref"]);
        assert_eq!(
            paths("contains(github.event.issue.labels.*.name, 'bug') && !cancelled()"),
            ["github.event.issue.labels.*.name"]
        );
        // Accesses on a function's result are not context accesses.
        assert_eq!(
            paths("fromJSON(steps.meta.outputs.json).github.x"),
            ["steps.meta.outputs.json"]
        );
        // A function that happens to share a context's name is still a call.
        assert!(paths("github(1)").is_empty());
    }

    #[test]
    fn literals_and_keywords_are_not_refs() {
        assert!(paths("'github.event.issue.title'").is_empty());
        assert!(paths("true && false || null == 1.5").is_empty());
        assert_eq!(
            paths("secrets.TOKEN != '' && env.FOO == 'github.x'"),
            ["secrets.TOKEN", "env.FOO"]
        );
    }

    #[test]
    fn computed_indices_are_scanned() {
        let refs = context_refs("github.event[inputs.field].body");
        let paths: Vec<_> = refs.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["inputs.field", "github.event.*.body"]);
        assert_eq!(refs[1].range, 0..31);
        assert_eq!(refs[0].range, 13..25);
    }

    #[test]
    fn ranges_and_names_with_dashes() {
        let expression = "  needs.build-job.outputs.sha == steps.x.outputs.y ";
        let refs = context_refs(expression);
        assert_eq!(refs.len(), 2);
        assert_eq!(
            &expression[refs[0].range.clone()],
            "needs.build-job.outputs.sha"
        );
        assert_eq!(&expression[refs[1].range.clone()], "steps.x.outputs.y");
        assert_eq!(refs[0].path, "needs.build-job.outputs.sha");
    }

    #[test]
    fn expression_refs_are_absolute() {
        let text = "run: echo ${{ github.event.issue.title }}";
        let found = find_expressions(text);
        let refs = found[0].context_refs(text);
        assert_eq!(&text[refs[0].range.clone()], "github.event.issue.title");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let nested = format!("{}github{}", "github[".repeat(1000), "]".repeat(1000));
        assert_eq!(context_refs(&nested).len(), MAX_INDEX_NESTING + 1);
        let unbalanced = "github[".repeat(20_000);
        assert_eq!(context_refs(&unbalanced).len(), 20_000);
        let unterminated = "${{ ".repeat(100_000);
        assert!(find_expressions(&unterminated).is_empty());
        let quoted = "${{ '".repeat(50_000);
        assert!(find_expressions(&quoted).is_empty());
        for text in [
            "[",
            "]",
            "'",
            "github.",
            "github[",
            "github['x'",
            "é.github.é",
            "github[']",
        ] {
            let _ = context_refs(text);
            let _ = find_expressions(&format!("${{{{ {text} }}}}"));
        }
    }
}
