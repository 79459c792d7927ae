//! YAML with exact positions.
//!
//! [`parse`] turns a YAML stream into [`Document`]s whose every [`Node`] knows its [`Span`] in the
//! source and its [`Route`] from the document root. Scalars additionally map positions *inside*
//! their value back to the source ([`Node::span_of`]), so a finding about an expression on the
//! third line of a `run: |` block points at that exact line and column.
//!
//! The model is deliberately untyped: every scalar keeps its text ([`Node::as_str`]); only
//! `~`, `null` (also `Null`, `NULL`) and empty plain values become [`Value::Null`]. YAML 1.1
//! booleans such as `on` stay strings, which is what CI platforms expect of keys like `on:`.
//!
//! Aliases are expanded (bounded by [`Limits::max_alias_expansion`]), merge keys (`<<`) applied,
//! nesting bounded by [`Limits::max_depth`]; hostile input produces an error, never a panic.
//!
//! Tags are kept as the parser resolves them: the handle followed by the suffix. Local tags keep
//! their `!` (`!reference [a, b]` has tag `!reference`), the non-specific tag is `!`, `!!str` is
//! `tag:yaml.org,2002:str`, and a verbatim tag `!<x>` is `x`. Tagged values are parsed like
//! untagged ones.

use std::fmt;
use std::ops::Range;

use crate::types::{FileError, FileErrorKind, SourceFile, Span};

mod build;
mod enclosing;
mod position;
mod route;
mod scalar;
#[cfg(test)]
mod tests;
mod text;

pub use enclosing::{enclosing_block, link_enclosing_blocks};
pub use route::{Route, RouteSegment};
pub use text::Text;

/// Parses every document of a YAML stream with the default [`Limits`].
///
/// An empty stream (or one with only comments) gives no documents.
///
/// # Errors
/// A [`YamlErrorKind::Syntax`] error for invalid YAML (including undefined aliases), a
/// [`YamlErrorKind::Limit`] error when nesting or alias expansion exceeds the limits.
pub fn parse(source: &str) -> Result<Vec<Document>, YamlError> {
    parse_with(source, Limits::default())
}

/// Parses every document of a YAML stream with explicit limits.
///
/// # Errors
/// As [`parse`].
pub fn parse_with(source: &str, limits: Limits) -> Result<Vec<Document>, YamlError> {
    build::parse(source, limits)
}

/// Parses every file of a scan request. A file that is not valid YAML (or exceeds the limits)
/// becomes a [`FileError`] in `errors` with its position; the others are returned with their
/// documents, so one broken file never hides the rest.
pub fn parse_files<'f>(
    files: impl IntoIterator<Item = &'f SourceFile>,
    errors: &mut Vec<FileError>,
) -> Vec<(&'f str, Vec<Document>)> {
    let mut parsed = Vec::new();
    for file in files {
        match parse(&file.content) {
            Ok(documents) => parsed.push((file.path.as_str(), documents)),
            Err(error) => errors.push(error.into_file_error(&file.path)),
        }
    }
    parsed
}

/// Bounds that keep hostile input cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Deepest allowed nesting of sequences and mappings (default 256). Node trees are walked
    /// recursively, so values beyond a few thousand risk exhausting the stack.
    pub max_depth: usize,
    /// Most nodes that expanding aliases may produce in one stream, counting every node of each
    /// copy (default 100 000).
    pub max_alias_expansion: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_alias_expansion: 100_000,
        }
    }
}

/// Why parsing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Invalid YAML or an exceeded limit.
    pub kind: YamlErrorKind,
    /// What went wrong, without the position.
    pub message: String,
    /// Where the problem was detected (often empty, at the offending character).
    pub span: Span,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.span.start_line, self.span.start_column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    /// The error as the pack reports it for the file at `path`: the span carries the position,
    /// the message says what is wrong.
    pub fn into_file_error(self, path: &str) -> FileError {
        FileError {
            path: path.to_owned(),
            kind: match self.kind {
                YamlErrorKind::Syntax => FileErrorKind::Parse,
                YamlErrorKind::Limit => FileErrorKind::Limit,
            },
            message: self.message,
            span: Some(self.span),
        }
    }
}

/// The kind of a [`YamlError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YamlErrorKind {
    /// Not valid YAML.
    Syntax,
    /// Valid, but nests too deep or expands too many aliases.
    Limit,
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The document's content; [`Value::Null`] for an empty document (`---` alone).
    pub root: Node,
    /// Suspicious but valid constructs, such as duplicate keys.
    pub warnings: Vec<YamlWarning>,
}

/// Something valid but probably unintended, such as a duplicate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlWarning {
    /// What looks wrong, such as ``duplicate key `foo` (first defined on line 3)``.
    pub message: String,
    /// Where (for duplicate keys: the later key).
    pub span: Span,
}

/// One node of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's source text: for scalars the value as written (quotes and block indicators
    /// included, anchors and tags excluded), for collections from the first item to the last
    /// (brackets included for flow collections). Empty values get an empty span right after
    /// their `:` or `-`. Alias copies keep the spans of the anchored node.
    pub span: Span,
    /// Where the node sits in its document. Keys carry the route of their value.
    pub route: Route,
    /// The tag, if any (see the [module docs](self) for its form).
    pub tag: Option<String>,
    /// The anchor name (without `&`), if any.
    pub anchor: Option<String>,
    /// The content.
    pub value: Value,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `~`, `null`, `Null`, `NULL` or an empty plain value.
    Null,
    /// Any other scalar, as text.
    Scalar(Scalar),
    /// A block (`- a`) or flow (`[a]`) sequence.
    Sequence(Vec<Node>),
    /// A block (`a: b`) or flow (`{a: b}`) mapping.
    Mapping(Mapping),
}

/// A scalar's text plus how its bytes map back to the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value: escapes resolved, lines folded, block indentation removed.
    pub text: String,
    /// How it was written.
    pub style: ScalarStyle,
    layout: scalar::Layout,
}

impl Scalar {
    /// The source span that produced `range` (byte offsets into [`Scalar::text`]).
    ///
    /// Plain, quoted and block scalars map each character to where it is written: a substring on
    /// the third line of a `run: |` block maps to that source line and column, an escape such as
    /// `\u00e9` maps to the whole escape, a space that folding produced maps to the line break it
    /// replaced. The result never leaves the scalar's span. `None` if the range is out of bounds
    /// or not on char boundaries.
    pub fn span_of(&self, range: Range<usize>) -> Option<Span> {
        self.layout.span_of(&self.text, range)
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    /// Unquoted.
    Plain,
    /// `'…'`.
    SingleQuoted,
    /// `"…"`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// A mapping's entries in source order.
///
/// Duplicate keys are kept (the first wins in lookups); merged (`<<`) entries appear where the
/// merge key was, minus keys the mapping defines itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapping {
    /// The entries, in source order.
    pub entries: Vec<Entry>,
}

/// One key/value pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key (its span is the key's text).
    pub key: Node,
    /// The value.
    pub value: Node,
}

impl Mapping {
    /// The value of the first entry whose key is the scalar `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The first entry whose key is the scalar `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key.is_key(key))
    }

    /// `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|e| (&e.key, &e.value))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    /// Mapping lookup by scalar key text; `None` if this is not a mapping or has no such key.
    /// A null key (`~:`, `null:`, empty) matches `""`, `"~"` and the spellings of `null`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_mapping()?.get(key)
    }

    /// Like [`Node::get`] but gives the key node too (findings often point at the key).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_mapping()?.entry(key)
    }

    /// The scalar's text (`None` for null, sequences and mappings).
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    /// The scalar (`None` for null, sequences and mappings).
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The mapping.
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    /// `~`, `null` or an empty value.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// For a scalar: the source span of a byte range of its text (see [`Scalar::span_of`]).
    /// `None` if not a scalar or the range is out of bounds.
    pub fn span_of(&self, range: Range<usize>) -> Option<Span> {
        self.as_scalar()?.span_of(range)
    }

    fn is_key(&self, key: &str) -> bool {
        match &self.value {
            Value::Scalar(scalar) => scalar.text == key,
            Value::Null => matches!(key, "" | "~" | "null" | "Null" | "NULL"),
            Value::Sequence(_) | Value::Mapping(_) => false,
        }
    }
}
