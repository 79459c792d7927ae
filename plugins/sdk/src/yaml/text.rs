//! A scalar value that remembers where it came from: what typed pack models hold instead of
//! bare strings, so every rule can point at the exact node or substring.

use std::fmt;
use std::ops::Range;

use super::{Node, Route};
use crate::types::Span;

/// A scalar's text together with its node, for spans and routes.
#[derive(Clone, Copy)]
pub struct Text<'a> {
    pub value: &'a str,
    pub node: &'a Node,
}

impl<'a> Text<'a> {
    /// The node's text if it is a scalar (numbers and booleans included, as written).
    pub fn from_node(node: &'a Node) -> Option<Text<'a>> {
        node.as_str().map(|value| Text { value, node })
    }

    pub fn span(&self) -> Span {
        self.node.span
    }

    pub fn route(&self) -> &'a Route {
        &self.node.route
    }

    /// The exact source span of a byte range of [`Text::value`], correct inside block
    /// scalars; the whole value's span if the range cannot be mapped (folded scalars, escapes).
    pub fn span_of(&self, range: Range<usize>) -> Span {
        self.node.span_of(range).unwrap_or(self.node.span)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at {}", self.value, self.node.route)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}
