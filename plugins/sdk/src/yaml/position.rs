//! Char index → byte offset → line/column conversion for one source text.
//!
//! `saphyr-parser` reports positions as *char* indices. [`crate::text::LineIndex`] answers the
//! same questions but counts the chars of a line prefix on every lookup, which turns into
//! quadratic time on hostile single-line inputs (a minified 1 MiB flow mapping has ~100k nodes on
//! one line). This index answers every lookup with binary searches while producing exactly the
//! same lines and columns as `LineIndex` (lines split on `\n` only, columns count chars).

use crate::types::Span;

/// One point in the source: 0-based byte offset, 1-based line and char column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Pos {
    pub(crate) byte: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    /// The span from `self` to `end` (an `end` before `self` gives an empty span at `self`).
    pub(crate) fn span_to(self, end: Pos) -> Span {
        let end = if end.byte < self.byte { self } else { end };
        Span {
            start_byte: self.byte,
            end_byte: end.byte,
            start_line: self.line,
            start_column: self.column,
            end_line: end.line,
            end_column: end.column,
        }
    }

    /// The position `chars` characters (all on this line, `bytes` long) further on.
    pub(crate) fn advance(self, bytes: usize, chars: usize) -> Pos {
        Pos {
            byte: to_u32(usize_from(self.byte).saturating_add(bytes)),
            line: self.line,
            column: to_u32(usize_from(self.column).saturating_add(chars)),
        }
    }

    pub(crate) fn start_of(span: Span) -> Pos {
        Pos {
            byte: span.start_byte,
            line: span.start_line,
            column: span.start_column,
        }
    }

    pub(crate) fn end_of(span: Span) -> Pos {
        Pos {
            byte: span.end_byte,
            line: span.end_line,
            column: span.end_column,
        }
    }
}

/// Position lookups over one source text.
#[derive(Debug)]
pub(crate) struct Positioner<'s> {
    source: &'s str,
    /// Byte offset of the first byte of every line.
    line_starts: Vec<usize>,
    /// `(char index, byte offset just past the char)` of every non-ASCII char, in order. Pure
    /// ASCII files (the common case) keep this empty and convert by identity.
    wide: Vec<(usize, usize)>,
}

impl<'s> Positioner<'s> {
    pub(crate) fn new(source: &'s str) -> Positioner<'s> {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        let wide = if source.is_ascii() {
            Vec::new()
        } else {
            source
                .char_indices()
                .enumerate()
                .filter(|(_, (_, c))| !c.is_ascii())
                .map(|(char_index, (byte, c))| (char_index, byte + c.len_utf8()))
                .collect()
        };
        Positioner {
            source,
            line_starts,
            wide,
        }
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    /// Byte offset of the char with index `char_index` (clamped to the end of the source).
    pub(crate) fn byte_of_char(&self, char_index: usize) -> usize {
        let before = self.wide.partition_point(|&(c, _)| c < char_index);
        let byte = match before.checked_sub(1).and_then(|i| self.wide.get(i)) {
            None => char_index,
            Some(&(c, end)) => end.saturating_add(char_index - c - 1),
        };
        byte.min(self.source.len())
    }

    /// Char index of the char starting at `byte` (which must be a char boundary).
    fn char_of_byte(&self, byte: usize) -> usize {
        let before = self.wide.partition_point(|&(_, end)| end <= byte);
        match before.checked_sub(1).and_then(|i| self.wide.get(i)) {
            None => byte,
            Some(&(c, end)) => c + 1 + (byte - end),
        }
    }

    /// `byte` clamped into the source and moved back onto a char boundary.
    pub(crate) fn floor(&self, byte: usize) -> usize {
        let mut byte = byte.min(self.source.len());
        while !self.source.is_char_boundary(byte) {
            byte -= 1;
        }
        byte
    }

    /// The position of a byte offset (clamped into the source, floored to a char boundary).
    pub(crate) fn pos(&self, byte: usize) -> Pos {
        let byte = self.floor(byte);
        let line = self
            .line_starts
            .partition_point(|&start| start <= byte)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = self.char_of_byte(byte) - self.char_of_byte(line_start);
        Pos {
            byte: to_u32(byte),
            line: to_u32(line + 1),
            column: to_u32(column + 1),
        }
    }

    /// The span of a byte range.
    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        self.pos(start).span_to(self.pos(end.max(start)))
    }
}

pub(crate) fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

pub(crate) fn usize_from(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::LineIndex;

    #[test]
    fn agrees_with_line_index() {
        let source = "a: é\r\nb: \"ü€😀\"\n\n  c: x\n😀";
        let positioner = Positioner::new(source);
        let index = LineIndex::new(source);
        for (char_index, (byte, _)) in source.char_indices().enumerate() {
            assert_eq!(positioner.byte_of_char(char_index), byte);
            let pos = positioner.pos(byte);
            assert_eq!((pos.line, pos.column), index.position(byte), "byte {byte}");
            assert_eq!(usize_from(pos.byte), byte);
        }
        let end = positioner.pos(source.len());
        assert_eq!((end.line, end.column), index.position(source.len()));
        assert_eq!(positioner.byte_of_char(10_000), source.len());
        // Inside a multi-byte char: floored to its start.
        assert_eq!(positioner.pos(4).byte, 3);
    }
}
