//! Turning byte offsets into the line/column spans findings carry.

use std::ops::Range;

use crate::types::Span;

/// Byte offset → 1-based line and column for one file, built once per file.
#[derive(Debug, Clone)]
pub struct LineIndex<'s> {
    source: &'s str,
    /// Byte offset of the first byte of every line.
    line_starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub fn new(source: &'s str) -> LineIndex<'s> {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            source,
            line_starts,
        }
    }

    /// The text this index was built over.
    pub fn source(&self) -> &'s str {
        self.source
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp to the end, offsets
    /// inside a multi-byte character count as that character.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line];
        let column = self
            .source
            .get(line_start..offset)
            .map_or_else(|| offset - line_start, |prefix| prefix.chars().count());
        (to_u32(line + 1), to_u32(column + 1))
    }

    /// The span of a byte range.
    pub fn span(&self, range: Range<usize>) -> Span {
        let (start_line, start_column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end.max(range.start));
        Span {
            start_byte: to_u32(range.start.min(self.source.len())),
            end_byte: to_u32(range.end.max(range.start).min(self.source.len())),
            start_line,
            start_column,
            end_line,
            end_column,
        }
    }

    /// The text of 1-based line `line` without its line break.
    pub fn line_text(&self, line: u32) -> Option<&'s str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.source.len(), |next| next - 1);
        self.source
            .get(start..end)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// Number of lines (a trailing newline does not start a new line of text, but counts).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Byte ranges of `$NAME` and `${…}` references in a text, as shells, GitLab and CircleCI write
/// variables (a lone `$` is not one).
pub fn dollar_variables(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if bytes.get(i) == Some(&b'{') {
            while i < bytes.len() && bytes[i] != b'}' {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        } else {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
        }
        if i > start + 1 {
            spans.push(start..i);
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_chars() {
        let index = LineIndex::new("ab\ncé d\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(3), (2, 1));
        // 'é' is two bytes; 'd' is the 4th character of line 2.
        assert_eq!(index.position(7), (2, 4));
        assert_eq!(index.position(100), (3, 1));
    }

    #[test]
    fn span_and_line_text() {
        let index = LineIndex::new("one\r\ntwo\nthree");
        let span = index.span(5..8);
        assert_eq!((span.start_line, span.start_column), (2, 1));
        assert_eq!((span.end_line, span.end_column), (2, 4));
        assert_eq!(index.line_text(1), Some("one"));
        assert_eq!(index.line_text(3), Some("three"));
        assert_eq!(index.line_text(4), None);
        assert_eq!(index.line_text(0), None);
    }
}
