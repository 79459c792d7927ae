//! Tokenizer for the Groovy subset Jenkinsfiles use.
//!
//! Strings are lexed completely — single, double (GString), triple single, triple double,
//! slashy `/…/` and dollar-slashy `$/…/$` — so braces, quotes and `//` inside them never reach
//! the parser. Each string keeps its *cooked* value (escapes resolved, the text the shell will
//! see) with a byte map back to the source, and its `${…}` / `$name.path` interpolations.

use std::ops::Range;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Ident,
    Number,
    /// A string literal; the index into [`Lexed::strings`].
    Str(usize),
    /// Operators and brackets; the text is the token's source.
    Punct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub range: Range<usize>,
    /// A line break separates this token from the previous one (Groovy ends statements there).
    pub newline_before: bool,
}

/// How a string literal was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Single,
    TripleSingle,
    Double,
    TripleDouble,
    Slashy,
    DollarSlashy,
}

impl Quote {
    /// Whether Groovy substitutes `${…}` inside this kind of string.
    pub fn interpolates(self) -> bool {
        !matches!(self, Quote::Single | Quote::TripleSingle)
    }
}

/// One `${expr}` or `$a.b` inside an interpolating string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolation {
    /// Source bytes of the whole interpolation, `$` included.
    pub range: Range<usize>,
    /// The Groovy expression as written (`env.CHANGE_TITLE`).
    pub expr: String,
    /// Where the placeholder for this value sits in [`StrLit::cooked`].
    pub cooked_at: usize,
}

/// A string literal with its value and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub quote: Quote,
    /// Source bytes of the literal, quotes included.
    pub range: Range<usize>,
    /// The value with escapes resolved; every interpolation is replaced by [`PLACEHOLDER`].
    pub cooked: String,
    /// Source offset of every byte of `cooked`, plus one entry for its end.
    pub map: Vec<usize>,
    pub interpolations: Vec<Interpolation>,
}

/// Stands for an interpolated Groovy value in a cooked string: a plain word, so the shell
/// splitter sees ordinary text where the value goes.
pub const PLACEHOLDER: &str = "GROOVYVALUE";

impl StrLit {
    /// The literal text when the string has no interpolation.
    pub fn constant(&self) -> Option<&str> {
        self.interpolations
            .is_empty()
            .then_some(self.cooked.as_str())
    }

    /// Source range of cooked bytes `range`.
    pub fn source_range(&self, range: Range<usize>) -> Range<usize> {
        let at = |i: usize| self.map.get(i).copied().unwrap_or(self.range.end);
        let start = at(range.start);
        // The end maps through the last byte, so an escape at the end is covered whole.
        let end = if range.end > range.start {
            at(range.end - 1) + 1
        } else {
            start
        };
        start..end.max(start)
    }
}

/// A tokenized file.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub strings: Vec<StrLit>,
    /// Source ranges of comments.
    pub comments: Vec<Range<usize>>,
}

/// A lexical error: what is wrong and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub range: Range<usize>,
}

const PUNCTUATION: &[&str] = &[
    "<=>", "==~", "?.", "*.", ".&", "..", "==", "!=", "<=", ">=", "&&", "||", "=~", "->", "<<",
    ">>", "+=", "-=", "*=", "/=", "++", "--", "?:", "**",
];

/// Words after which `/` starts a slashy string rather than a division.
const OPERATOR_KEYWORDS: &[&str] = &["return", "case", "in", "assert", "else"];

/// Tokenizes `source`.
pub fn lex(source: &str) -> Result<Lexed, LexError> {
    Lexer {
        src: source,
        bytes: source.as_bytes(),
        pos: 0,
        out: Lexed::default(),
        newline: false,
    }
    .run()
}

struct Lexer<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    out: Lexed,
    newline: bool,
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Lexed, LexError> {
        // A `#!` line at the very start is a comment in Groovy scripts.
        if self.src.starts_with("#!") {
            self.pos = self.src.find('\n').unwrap_or(self.src.len());
        }
        while self.pos < self.bytes.len() {
            let c = self.bytes[self.pos];
            let start = self.pos;
            match c {
                b'\n' => {
                    self.newline = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                // A backslash before a line break continues the line.
                b'\\' if matches!(self.peek(1), Some(b'\n' | b'\r')) => self.pos += 2,
                b'/' if self.peek(1) == Some(b'/') => {
                    self.pos = self.src[start..]
                        .find('\n')
                        .map_or(self.src.len(), |i| start + i);
                    self.out.comments.push(start..self.pos);
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    let Some(end) = self.src[start + 2..].find("*/") else {
                        return Err(self.error("unterminated block comment", start..start + 2));
                    };
                    if self.src[start..start + 2 + end].contains('\n') {
                        self.newline = true;
                    }
                    self.pos = start + 2 + end + 2;
                    self.out.comments.push(start..self.pos);
                }
                b'\'' | b'"' => {
                    let lit = self.string(start)?;
                    self.push_string(lit);
                }
                b'$' if self.peek(1) == Some(b'/') => {
                    let lit = self.dollar_slashy(start)?;
                    self.push_string(lit);
                }
                b'/' if self.slashy_allowed() => match self.slashy(start) {
                    Some(lit) => self.push_string(lit),
                    None => self.punct(start),
                },
                c if c.is_ascii_digit() => {
                    let end = self.scan_while(start, |b| b.is_ascii_alphanumeric() || b == b'_');
                    // A decimal part, but not the `..` range operator.
                    let end = if self.bytes.get(end) == Some(&b'.')
                        && self.bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
                    {
                        self.scan_while(end + 1, |b| b.is_ascii_alphanumeric() || b == b'_')
                    } else {
                        end
                    };
                    self.push(TokenKind::Number, start..end);
                }
                c if is_ident_start(c) => {
                    let end = self.scan_while(start, is_ident_byte);
                    self.push(TokenKind::Ident, start..end);
                }
                _ => self.punct(start),
            }
        }
        Ok(self.out)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn error(&self, message: &str, range: Range<usize>) -> LexError {
        LexError {
            message: message.to_owned(),
            range,
        }
    }

    fn scan_while(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        let mut end = from;
        while end < self.bytes.len() && keep(self.bytes[end]) {
            end += 1;
        }
        end
    }

    fn push(&mut self, kind: TokenKind, range: Range<usize>) {
        self.pos = range.end;
        self.out.tokens.push(Token {
            kind,
            range,
            newline_before: std::mem::take(&mut self.newline),
        });
    }

    fn push_string(&mut self, lit: StrLit) {
        let range = lit.range.clone();
        self.out.strings.push(lit);
        self.push(TokenKind::Str(self.out.strings.len() - 1), range);
    }

    fn punct(&mut self, start: usize) {
        let rest = &self.src[start..];
        let len = PUNCTUATION
            .iter()
            .find(|p| rest.starts_with(**p))
            .map_or_else(
                || rest.chars().next().map_or(1, char::len_utf8),
                |p| p.len(),
            );
        self.push(TokenKind::Punct, start..start + len);
    }

    /// `/` starts a slashy string where a value is expected: after an operator, an opening
    /// bracket, a comma, a keyword such as `return`, or at the start of the file.
    fn slashy_allowed(&self) -> bool {
        let next = self.peek(1);
        if next.is_none_or(|b| b.is_ascii_whitespace() || b == b'=') {
            return false;
        }
        let Some(previous) = self.out.tokens.last() else {
            return true;
        };
        let text = &self.src[previous.range.clone()];
        match previous.kind {
            TokenKind::Ident => OPERATOR_KEYWORDS.contains(&text),
            TokenKind::Number | TokenKind::Str(_) => false,
            TokenKind::Punct => !matches!(text, ")" | "]" | "}"),
        }
    }

    /// A quoted string starting at `start` (`'`, `"`, `'''` or `"""`).
    fn string(&self, start: usize) -> Result<StrLit, LexError> {
        let q = self.bytes[start];
        let triple = self.bytes.get(start + 1) == Some(&q) && self.bytes.get(start + 2) == Some(&q);
        let quote = match (q, triple) {
            (b'\'', false) => Quote::Single,
            (b'\'', true) => Quote::TripleSingle,
            (_, false) => Quote::Double,
            (_, true) => Quote::TripleDouble,
        };
        let open = if triple { 3 } else { 1 };
        let mut builder = Builder::new(quote, start);
        let mut i = start + open;
        loop {
            let Some(&b) = self.bytes.get(i) else {
                return Err(self.error("unterminated string", start..start + open));
            };
            if b == q {
                if !triple {
                    return Ok(builder.finish(i + 1));
                }
                if self.bytes.get(i + 1) == Some(&q) && self.bytes.get(i + 2) == Some(&q) {
                    // `""""` ends with the last three quotes: a quote just before them is text.
                    let mut end = i + 3;
                    while self.bytes.get(end) == Some(&q) && end - i < 5 {
                        builder.char(self.src, end - 3);
                        end += 1;
                    }
                    return Ok(builder.finish(end));
                }
            }
            if b == b'\n' && !triple {
                return Err(self.error("unterminated string", start..start + open));
            }
            if b == b'\\' {
                i = builder.escape(self.src, i);
                continue;
            }
            if b == b'$'
                && quote.interpolates()
                && let Some(next) = self.interpolation(&mut builder, i)?
            {
                i = next;
                continue;
            }
            i = builder.char(self.src, i);
        }
    }

    /// `/…/`; `None` when it does not close on a later byte (then `/` is an operator).
    fn slashy(&self, start: usize) -> Option<StrLit> {
        let mut builder = Builder::new(Quote::Slashy, start);
        let mut i = start + 1;
        loop {
            let &b = self.bytes.get(i)?;
            match b {
                b'/' => return Some(builder.finish(i + 1)),
                b'\\' if self.bytes.get(i + 1) == Some(&b'/') => {
                    builder.push_mapped("/", i);
                    i += 2;
                }
                b'$' => match self.interpolation(&mut builder, i).ok()? {
                    Some(next) => i = next,
                    None => i = builder.char(self.src, i),
                },
                _ => i = builder.char(self.src, i),
            }
        }
    }

    /// `$/…/$`, with `$$` and `$/` escapes.
    fn dollar_slashy(&self, start: usize) -> Result<StrLit, LexError> {
        let mut builder = Builder::new(Quote::DollarSlashy, start);
        let mut i = start + 2;
        loop {
            let Some(&b) = self.bytes.get(i) else {
                return Err(self.error("unterminated dollar-slashy string", start..start + 2));
            };
            if b == b'/' && self.bytes.get(i + 1) == Some(&b'$') {
                return Ok(builder.finish(i + 2));
            }
            if b == b'$' {
                match self.bytes.get(i + 1) {
                    Some(b'$') => {
                        builder.push_mapped("$", i);
                        i += 2;
                        continue;
                    }
                    Some(b'/') => {
                        builder.push_mapped("/", i);
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
                if let Some(next) = self.interpolation(&mut builder, i)? {
                    i = next;
                    continue;
                }
            }
            i = builder.char(self.src, i);
        }
    }

    /// An interpolation at `at` (`$`); the offset after it, or `None` if `$` is literal.
    fn interpolation(&self, builder: &mut Builder, at: usize) -> Result<Option<usize>, LexError> {
        match self.bytes.get(at + 1) {
            Some(b'{') => {
                let end = self.closing_brace(at + 2)?;
                builder.interpolation(at..end + 1, self.src[at + 2..end].trim());
                Ok(Some(end + 1))
            }
            Some(&c) if is_ident_start(c) && c != b'$' => {
                // `$a.b.c`: dotted identifiers; a `.` not followed by a name ends it.
                let mut end = self.scan_while(at + 1, is_ident_byte);
                while self.bytes.get(end) == Some(&b'.')
                    && self
                        .bytes
                        .get(end + 1)
                        .is_some_and(|c| is_ident_start(*c) && *c != b'$')
                {
                    end = self.scan_while(end + 1, is_ident_byte);
                }
                builder.interpolation(at..end, &self.src[at + 1..end]);
                Ok(Some(end))
            }
            _ => Ok(None),
        }
    }

    /// The `}` closing a `${` whose body starts at `from`; strings and braces inside nest.
    fn closing_brace(&self, from: usize) -> Result<usize, LexError> {
        let mut depth = 0usize;
        let mut i = from;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'{' => depth += 1,
                b'}' if depth == 0 => return Ok(i),
                b'}' => depth -= 1,
                b'\'' | b'"' => {
                    i = self.string(i)?.range.end;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        Err(self.error("unterminated `${` interpolation", from - 2..from))
    }
}

/// Builds a string's cooked value and source map.
struct Builder {
    quote: Quote,
    start: usize,
    cooked: String,
    map: Vec<usize>,
    interpolations: Vec<Interpolation>,
}

impl Builder {
    fn new(quote: Quote, start: usize) -> Builder {
        Builder {
            quote,
            start,
            cooked: String::new(),
            map: Vec::new(),
            interpolations: Vec::new(),
        }
    }

    fn push_mapped(&mut self, text: &str, source: usize) {
        self.cooked.push_str(text);
        self.map.extend(std::iter::repeat_n(source, text.len()));
    }

    /// Copies the character at `at`; returns the offset after it.
    fn char(&mut self, src: &str, at: usize) -> usize {
        let c = src[at..].chars().next().unwrap_or(' ');
        self.cooked.push(c);
        self.map.extend(at..at + c.len_utf8());
        at + c.len_utf8()
    }

    /// Resolves the escape at `at` (`\`); returns the offset after it.
    fn escape(&mut self, src: &str, at: usize) -> usize {
        let Some(next) = src[at + 1..].chars().next() else {
            self.push_mapped("\\", at);
            return at + 1;
        };
        let resolved = match next {
            'n' => "\n",
            't' => "\t",
            'r' => "\r",
            'b' => "\u{8}",
            'f' => "\u{c}",
            '\\' => "\\",
            '\'' => "'",
            '"' => "\"",
            '$' => "$",
            '/' => "/",
            // A backslash before a line break joins the lines.
            '\n' => "",
            'u' => {
                let decoded = src
                    .get(at + 2..at + 6)
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                if let Some(c) = decoded {
                    let mut buffer = [0u8; 4];
                    let text = c.encode_utf8(&mut buffer);
                    self.push_mapped(text, at);
                    return at + 6;
                }
                "\\u"
            }
            // Groovy rejects other escapes; keep them as written.
            _ => {
                self.push_mapped("\\", at);
                return self.char(src, at + 1);
            }
        };
        self.push_mapped(resolved, at);
        at + 1 + next.len_utf8()
    }

    fn interpolation(&mut self, range: Range<usize>, expr: &str) {
        self.interpolations.push(Interpolation {
            range: range.clone(),
            expr: expr.to_owned(),
            cooked_at: self.cooked.len(),
        });
        self.push_mapped(PLACEHOLDER, range.start);
    }

    fn finish(mut self, end: usize) -> StrLit {
        self.map.push(end);
        StrLit {
            quote: self.quote,
            range: self.start..end,
            cooked: self.cooked,
            map: self.map,
            interpolations: self.interpolations,
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_string(source: &str) -> StrLit {
        let lexed = lex(source).expect("lexes");
        assert_eq!(lexed.strings.len(), 1, "{source}");
        lexed.strings[0].clone()
    }

    #[test]
    fn gstring_interpolations_have_source_ranges() {
        let src = r#"sh "echo ${env.CHANGE_TITLE} $CHANGE_BRANCH.x \$HOME""#;
        let s = only_string(src);
        assert_eq!(s.quote, Quote::Double);
        assert_eq!(s.interpolations.len(), 2);
        assert_eq!(s.interpolations[0].expr, "env.CHANGE_TITLE");
        assert_eq!(
            &src[s.interpolations[0].range.clone()],
            "${env.CHANGE_TITLE}"
        );
        assert_eq!(s.interpolations[1].expr, "CHANGE_BRANCH.x");
        assert!(s.cooked.ends_with(" $HOME"), "{}", s.cooked);
    }

    #[test]
    fn braces_and_comment_markers_inside_strings_are_text() {
        let lexed = lex("x = 'a { // b' // real comment\ny = \"}\" /* c { */ z").expect("lexes");
        let texts: Vec<_> = lexed
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Punct)
            .map(|t| t.range.clone())
            .collect();
        assert_eq!(texts.len(), 2, "only the two `=` are punctuation");
        assert_eq!(lexed.strings[0].cooked, "a { // b");
    }

    #[test]
    fn triple_quoted_single_does_not_interpolate() {
        let s = only_string("'''echo ${env.CHANGE_TITLE}\n'''");
        assert!(s.interpolations.is_empty());
        assert_eq!(s.cooked, "echo ${env.CHANGE_TITLE}\n");
    }

    #[test]
    fn slashy_and_division() {
        let lexed = lex("a = b / c\nd = /x{y}/\ne = $/p${q}/$").expect("lexes");
        assert_eq!(lexed.strings.len(), 2);
        assert_eq!(lexed.strings[0].cooked, "x{y}");
        assert_eq!(lexed.strings[1].interpolations[0].expr, "q");
    }

    #[test]
    fn nested_strings_in_interpolation() {
        let s = only_string(r#""a ${x.collect { "}" }.join('}')} b""#);
        assert_eq!(s.interpolations.len(), 1);
        assert!(s.cooked.ends_with(" b"));
    }

    #[test]
    fn errors_have_positions() {
        let error = lex("x\n  'abc").expect_err("unterminated");
        assert_eq!(error.range.start, 4);
        assert!(lex("/* open").is_err());
        assert!(lex("\"\"\"never closed").is_err());
    }

    #[test]
    fn unicode_escapes() {
        assert_eq!(only_string(r#""\u00e9""#).cooked, "é");
        // A short or multi-byte `\u` sequence is kept as written, never sliced mid-character.
        assert!(only_string("\"\\u€€\"").cooked.starts_with("\\u"));
    }

    #[test]
    fn source_range_maps_escapes() {
        let src = r#"'a\'b $X'"#;
        let s = only_string(src);
        let at = s.cooked.find("$X").expect("ref");
        assert_eq!(&src[s.source_range(at..at + 2)], "$X");
    }
}
