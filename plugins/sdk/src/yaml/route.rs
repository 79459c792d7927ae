//! Routes: where a node sits in its document, as a path of keys and indices.

use std::fmt;

/// One step of a [`Route`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteSegment {
    /// A mapping value, by its key's text.
    Key(String),
    /// A sequence item, by its 0-based index.
    Index(usize),
}

/// The path from a document's root to a node, such as `jobs.build.steps[2].run`.
///
/// Displays keys that are plain identifiers (ASCII letters, digits, `_`, `-`) dot-separated and
/// every other key quoted in brackets (`jobs["my.job"]`); the root displays as the empty string.
/// Stable across edits that only move lines, which makes it a good fingerprint ingredient.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Route(Vec<RouteSegment>);

impl Route {
    /// The route of a document's root node.
    pub fn root() -> Route {
        Route(Vec::new())
    }

    /// The route of the value under key `k` of the mapping at `self`.
    #[must_use]
    pub fn key(&self, k: &str) -> Route {
        self.with(RouteSegment::Key(k.to_owned()))
    }

    /// The route of item `i` of the sequence at `self`.
    #[must_use]
    pub fn index(&self, i: usize) -> Route {
        self.with(RouteSegment::Index(i))
    }

    /// The steps from the root, outermost first.
    pub fn segments(&self) -> &[RouteSegment] {
        &self.0
    }

    /// Whether this is the root route.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    fn with(&self, segment: RouteSegment) -> Route {
        let mut segments = Vec::with_capacity(self.0.len() + 1);
        segments.extend_from_slice(&self.0);
        segments.push(segment);
        Route(segments)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                RouteSegment::Index(i) => write!(f, "[{i}]")?,
                RouteSegment::Key(key) if is_identifier(key) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                RouteSegment::Key(key) => {
                    f.write_str("[\"")?;
                    for c in key.chars() {
                        match c {
                            '"' => f.write_str("\\\"")?,
                            '\\' => f.write_str("\\\\")?,
                            '\n' => f.write_str("\\n")?,
                            '\r' => f.write_str("\\r")?,
                            '\t' => f.write_str("\\t")?,
                            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                            c => write!(f, "{c}")?,
                        }
                    }
                    f.write_str("\"]")?;
                }
            }
        }
        Ok(())
    }
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
