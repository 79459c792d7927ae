//! Where each byte of a scalar's value comes from in the source.
//!
//! The parser hands over the *value* of a scalar (escapes resolved, lines folded, indentation
//! removed) but not how it maps back to the source. We re-read the scalar's source text with the
//! YAML rules for its style, producing pieces that are either copied verbatim from one source line
//! or synthesised (escape sequences, `''`, folded line breaks). The pieces are then checked
//! against the parser's value; only if every byte matches do we trust them. Otherwise the scalar
//! falls back to one opaque segment covering its whole span, which is coarse but never wrong.

use std::ops::Range;

use super::position::{Pos, Positioner};
use crate::types::Span;

/// A run of value bytes and the source text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    value_start: usize,
    value_end: usize,
    start: Pos,
    end: Pos,
    /// The value bytes are a verbatim copy of the source bytes (all on one line), so offsets
    /// inside the segment map one to one. Otherwise every value byte maps to the whole source
    /// range.
    verbatim: bool,
}

/// The source layout of one scalar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Layout {
    /// What the node's span covers.
    pub(crate) span: Span,
    /// Contiguous, ordered, covering the whole value (empty for an empty value).
    pub(crate) segments: Vec<Segment>,
}

impl Layout {
    /// The source span of `range` (byte offsets into `text`, the value this layout describes).
    pub(crate) fn span_of(&self, text: &str, range: Range<usize>) -> Option<Span> {
        if range.start > range.end
            || range.end > text.len()
            || !text.is_char_boundary(range.start)
            || !text.is_char_boundary(range.end)
        {
            return None;
        }
        if text.is_empty() || self.segments.is_empty() {
            let start = Pos::start_of(self.span);
            return Some(start.span_to(start));
        }
        let start = if range.start < text.len() {
            self.start_pos(text, range.start)?
        } else {
            self.end_pos(text, range.start)?
        };
        if range.start == range.end {
            return Some(start.span_to(start));
        }
        let end = self.end_pos(text, range.end)?;
        Some(start.span_to(end))
    }

    /// Where the value byte at `offset` (< value length) starts in the source.
    fn start_pos(&self, text: &str, offset: usize) -> Option<Pos> {
        let index = self.segments.partition_point(|s| s.value_end <= offset);
        let segment = self.segments.get(index)?;
        if !segment.verbatim {
            return Some(segment.start);
        }
        let prefix = text.get(segment.value_start..offset)?;
        Some(segment.start.advance(prefix.len(), prefix.chars().count()))
    }

    /// Where the value up to `offset` (exclusive, > 0) ends in the source.
    fn end_pos(&self, text: &str, offset: usize) -> Option<Pos> {
        let index = self.segments.partition_point(|s| s.value_end < offset);
        let segment = self.segments.get(index)?;
        if !segment.verbatim {
            return Some(segment.end);
        }
        let prefix = text.get(segment.value_start..offset)?;
        Some(segment.start.advance(prefix.len(), prefix.chars().count()))
    }
}

/// One piece of a scalar as re-read from the source.
#[derive(Debug)]
enum Piece {
    /// Source bytes copied to the value unchanged.
    Verbatim(Range<usize>),
    /// Value text produced by the source range (an escape, a folded line break).
    Synth(String, Range<usize>),
}

impl Piece {
    fn source(&self) -> &Range<usize> {
        match self {
            Piece::Verbatim(range) | Piece::Synth(_, range) => range,
        }
    }
}

/// Layout of a plain scalar whose text runs from `start` to `end` (the parser's token end, just
/// after the last content character).
pub(crate) fn plain(at: &Positioner<'_>, value: &str, start: usize, end: usize) -> Layout {
    let pieces = plain_pieces(at.source(), start, end);
    finish(at, value, start, end, pieces)
}

fn plain_pieces(src: &str, start: usize, end: usize) -> Option<Vec<Piece>> {
    let bytes = src.as_bytes();
    let mut pieces = Vec::new();
    let mut previous_end: Option<usize> = None;
    let mut blank_lines = 0usize;
    for (index, (line_start, line_end, _)) in lines(src, start, end).enumerate() {
        let mut content_start = line_start;
        if index > 0 {
            while content_start < line_end && is_blank(bytes.get(content_start)) {
                content_start += 1;
            }
        }
        let mut content_end = line_end;
        while content_end > content_start && is_blank(bytes.get(content_end - 1)) {
            content_end -= 1;
        }
        if content_start == content_end {
            blank_lines += 1;
            continue;
        }
        if let Some(previous_end) = previous_end {
            pieces.push(Piece::Synth(fold(blank_lines), previous_end..content_start));
        }
        pieces.push(Piece::Verbatim(content_start..content_end));
        previous_end = Some(content_end);
        blank_lines = 0;
    }
    Some(pieces)
}

/// Layout of a single- or double-quoted scalar whose opening quote is at `open`.
pub(crate) fn quoted(at: &Positioner<'_>, value: &str, open: usize, double: bool) -> Layout {
    match quoted_pieces(at.source(), open, double) {
        Some((end, pieces)) => finish(at, value, open, end, Some(pieces)),
        None => finish(at, value, open, open, None),
    }
}

/// One source line of a quoted scalar.
#[derive(Debug, Default)]
struct QuotedLine {
    pieces: Vec<Piece>,
    /// Ends with `\` + line break (double-quoted only): the break is not content.
    escaped_break: bool,
    /// Where the line's text stops (line break, escape or closing quote).
    raw_end: usize,
}

fn quoted_pieces(src: &str, open: usize, double: bool) -> Option<(usize, Vec<Piece>)> {
    let bytes = src.as_bytes();
    let quote = if double { b'"' } else { b'\'' };
    if bytes.get(open) != Some(&quote) {
        return None;
    }
    let mut lines: Vec<QuotedLine> = Vec::new();
    let mut line = QuotedLine::default();
    let mut i = open + 1;
    let mut run_start = i;
    let close = loop {
        let byte = *bytes.get(i)?;
        match byte {
            b'\n' => {
                let text_end = if i > run_start && bytes.get(i - 1) == Some(&b'\r') {
                    i - 1
                } else {
                    i
                };
                push_run(&mut line.pieces, run_start, text_end);
                if !line.escaped_break {
                    line.raw_end = text_end;
                }
                lines.push(std::mem::take(&mut line));
                i += 1;
                run_start = i;
            }
            b'\'' if !double && bytes.get(i + 1) == Some(&b'\'') => {
                push_run(&mut line.pieces, run_start, i);
                line.pieces.push(Piece::Synth("'".to_owned(), i..i + 2));
                i += 2;
                run_start = i;
            }
            b'\\' if double => {
                push_run(&mut line.pieces, run_start, i);
                match bytes.get(i + 1) {
                    Some(b'\n' | b'\r') => {
                        line.escaped_break = true;
                        line.raw_end = i;
                        i += 1;
                    }
                    _ => {
                        let (len, decoded) = escape(src, i)?;
                        line.pieces
                            .push(Piece::Synth(decoded.to_string(), i..i + len));
                        i += len;
                    }
                }
                run_start = i;
            }
            _ if byte == quote => {
                push_run(&mut line.pieces, run_start, i);
                line.raw_end = i;
                lines.push(line);
                break i;
            }
            _ => i += 1,
        }
    };

    let last = lines.len().saturating_sub(1);
    // Per line: strip the blanks that folding removes, then find the content bounds.
    let mut prepared: Vec<(QuotedLine, usize, usize, bool)> = Vec::with_capacity(lines.len());
    for (index, mut line) in lines.into_iter().enumerate() {
        if index > 0 {
            strip_leading_blanks(bytes, &mut line.pieces);
        }
        if index < last && !line.escaped_break {
            strip_trailing_blanks(bytes, &mut line.pieces);
        }
        let (content_start, content_end) = match (line.pieces.first(), line.pieces.last()) {
            (Some(first), Some(last_piece)) => (first.source().start, last_piece.source().end),
            _ => (line.raw_end, line.raw_end),
        };
        let blank = index > 0 && index < last && line.pieces.is_empty() && !line.escaped_break;
        prepared.push((line, content_start, content_end, blank));
    }

    let mut pieces = Vec::new();
    let mut previous: Option<(usize, bool)> = None;
    let mut blank_lines = 0usize;
    for (line, content_start, content_end, blank) in prepared {
        if blank {
            blank_lines += 1;
            continue;
        }
        if let Some((previous_end, escaped)) = previous {
            let separator = if escaped {
                "\n".repeat(blank_lines)
            } else {
                fold(blank_lines)
            };
            pieces.push(Piece::Synth(separator, previous_end..content_start));
        }
        previous = Some((content_end, line.escaped_break));
        pieces.extend(line.pieces);
        blank_lines = 0;
    }
    Some((close + 1, pieces))
}

fn push_run(pieces: &mut Vec<Piece>, start: usize, end: usize) {
    if start < end {
        pieces.push(Piece::Verbatim(start..end));
    }
}

fn strip_leading_blanks(bytes: &[u8], pieces: &mut Vec<Piece>) {
    let mut remove = 0;
    for piece in pieces.iter_mut() {
        let Piece::Verbatim(range) = piece else { break };
        while range.start < range.end && is_blank(bytes.get(range.start)) {
            range.start += 1;
        }
        if range.start < range.end {
            break;
        }
        remove += 1;
    }
    pieces.drain(..remove);
}

fn strip_trailing_blanks(bytes: &[u8], pieces: &mut Vec<Piece>) {
    while let Some(Piece::Verbatim(range)) = pieces.last_mut() {
        while range.start < range.end && is_blank(bytes.get(range.end - 1)) {
            range.end -= 1;
        }
        if range.start < range.end {
            break;
        }
        pieces.pop();
    }
}

/// Decodes the double-quoted escape starting with the `\` at `at`: its source length and value.
fn escape(src: &str, at: usize) -> Option<(usize, char)> {
    let rest = src.get(at + 1..)?;
    let code = rest.chars().next()?;
    let simple = match code {
        '0' => Some('\0'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        't' | '\t' => Some('\t'),
        'n' => Some('\n'),
        'v' => Some('\x0b'),
        'f' => Some('\x0c'),
        'r' => Some('\r'),
        'e' => Some('\x1b'),
        ' ' => Some(' '),
        '"' => Some('"'),
        '/' => Some('/'),
        '\\' => Some('\\'),
        'N' => Some('\u{85}'),
        '_' => Some('\u{a0}'),
        'L' => Some('\u{2028}'),
        'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(decoded) = simple {
        return Some((1 + code.len_utf8(), decoded));
    }
    let digits = match code {
        'x' => 2,
        'u' => 4,
        'U' => 8,
        _ => return None,
    };
    let hex = rest.get(1..1 + digits)?;
    let decoded = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((2 + digits, decoded))
}

/// Layout of a literal (`|`) or folded (`>`) block scalar whose indicator is at `header`;
/// `fallback_end` bounds the span should the source not match the value.
pub(crate) fn block(
    at: &Positioner<'_>,
    value: &str,
    header: usize,
    literal: bool,
    fallback_end: usize,
) -> Layout {
    let src = at.source();
    let bytes = src.as_bytes();
    // The indicator plus up to two chomping / indentation indicators.
    let mut header_end = header + 1;
    while header_end < header + 3
        && matches!(bytes.get(header_end), Some(b'+' | b'-' | b'1'..=b'9'))
    {
        header_end += 1;
    }
    let body_start = src
        .get(header..)
        .and_then(|rest| rest.find('\n'))
        .map_or(src.len(), |i| header + i + 1);
    let result = if literal {
        literal_pieces(src, value, body_start)
    } else {
        folded_pieces(src, value, body_start)
    };
    match result {
        Some((content_end, pieces)) => finish(
            at,
            value,
            header,
            content_end.unwrap_or(header_end),
            Some(pieces),
        ),
        None => finish(at, value, header, fallback_end.max(header_end), None),
    }
}

type BlockPieces = (Option<usize>, Vec<Piece>);

fn literal_pieces(src: &str, value: &str, body_start: usize) -> Option<BlockPieces> {
    let mut pieces = Vec::new();
    let mut value_at = 0usize;
    let mut indent: Option<usize> = None;
    let mut content_end = None;
    for (line_start, line_end, next_start) in lines(src, body_start, src.len()) {
        if value_at >= value.len() {
            break;
        }
        let text = src.get(line_start..line_end)?;
        let rest = value.get(value_at..)?;
        let value_line = rest.split('\n').next().unwrap_or("");
        if value_line.is_empty() {
            if !text.bytes().all(|b| b == b' ') {
                return None;
            }
        } else {
            let lead = text.strip_suffix(value_line)?;
            if !lead.bytes().all(|b| b == b' ') || *indent.get_or_insert(lead.len()) != lead.len() {
                return None;
            }
            pieces.push(Piece::Verbatim(line_start + lead.len()..line_end));
            content_end = Some(line_end);
        }
        value_at += value_line.len();
        if rest.as_bytes().get(value_line.len()) == Some(&b'\n') {
            pieces.push(Piece::Synth("\n".to_owned(), line_end..next_start));
            value_at += 1;
        }
    }
    Some((content_end, pieces))
}

fn folded_pieces(src: &str, value: &str, body_start: usize) -> Option<BlockPieces> {
    let value_bytes = value.as_bytes();
    let mut pieces = Vec::new();
    let mut value_at = 0usize;
    let mut indent: Option<usize> = None;
    let mut previous_end = body_start;
    let mut content_end = None;
    for (line_start, line_end, _) in lines(src, body_start, src.len()) {
        if value_at >= value.len() {
            break;
        }
        let text = src.get(line_start..line_end)?;
        let lead = text.bytes().take_while(|&b| b == b' ').count();
        if lead == text.len() {
            // Empty line: its line break is one of the separators in the value.
            continue;
        }
        let indent = match indent {
            Some(indent) => indent,
            None => {
                // Content may itself start with spaces (explicit indentation indicator), so take
                // the indentation from how many leading spaces the value kept.
                let rest = value.get(value_at..)?;
                let kept = rest
                    .trim_start_matches('\n')
                    .bytes()
                    .take_while(|&b| b == b' ')
                    .count();
                *indent.insert(lead.saturating_sub(kept))
            }
        };
        if lead < indent {
            break;
        }
        let content = text.get(indent..)?;
        let separator_start = value_at;
        while !value.get(value_at..)?.starts_with(content) {
            match value_bytes.get(value_at) {
                Some(b' ' | b'\n') => value_at += 1,
                _ => return None,
            }
        }
        if value_at > separator_start {
            let separator = value.get(separator_start..value_at)?.to_owned();
            pieces.push(Piece::Synth(separator, previous_end..line_start + indent));
        }
        pieces.push(Piece::Verbatim(line_start + indent..line_end));
        value_at += content.len();
        previous_end = line_end;
        content_end = Some(line_end);
    }
    let rest = value.get(value_at..)?;
    if !rest.is_empty() {
        if !rest.bytes().all(|b| b == b'\n') {
            return None;
        }
        pieces.push(Piece::Synth(rest.to_owned(), previous_end..previous_end));
    }
    Some((content_end, pieces))
}

/// Checks `pieces` against the parser's `value` and turns them into segments, clamped to the
/// node span `start..end`. Without pieces (or on any mismatch) the whole value maps to the span.
fn finish(
    at: &Positioner<'_>,
    value: &str,
    start: usize,
    end: usize,
    pieces: Option<Vec<Piece>>,
) -> Layout {
    let end = end.max(start);
    let span = at.span(start, end);
    let segments = pieces
        .and_then(|pieces| segments(at, value, start, end, &pieces))
        .unwrap_or_else(|| opaque(value, span));
    Layout { span, segments }
}

fn segments(
    at: &Positioner<'_>,
    value: &str,
    start: usize,
    end: usize,
    pieces: &[Piece],
) -> Option<Vec<Segment>> {
    let src = at.source();
    let clamp = |offset: usize| offset.clamp(start, end);
    let mut out = Vec::with_capacity(pieces.len());
    let mut value_at = 0usize;
    for piece in pieces {
        let (text, range, verbatim) = match piece {
            Piece::Verbatim(range) => (src.get(range.clone())?, range.clone(), true),
            Piece::Synth(text, range) => (text.as_str(), range.clone(), false),
        };
        if text.is_empty() {
            continue;
        }
        if !value.get(value_at..)?.starts_with(text) {
            return None;
        }
        if verbatim && (range.start < start || range.end > end) {
            return None;
        }
        let source_start = clamp(range.start);
        out.push(Segment {
            value_start: value_at,
            value_end: value_at + text.len(),
            start: at.pos(source_start),
            end: at.pos(clamp(range.end).max(source_start)),
            verbatim,
        });
        value_at += text.len();
    }
    (value_at == value.len()).then_some(out)
}

/// The fallback layout: every value byte maps to the whole span.
fn opaque(value: &str, span: Span) -> Vec<Segment> {
    if value.is_empty() {
        return Vec::new();
    }
    vec![Segment {
        value_start: 0,
        value_end: value.len(),
        start: Pos::start_of(span),
        end: Pos::end_of(span),
        verbatim: false,
    }]
}

/// Layout of a scalar whose position is known only roughly (empty values, fallbacks).
pub(crate) fn coarse(value: &str, span: Span) -> Layout {
    Layout {
        span,
        segments: opaque(value, span),
    }
}

/// What `n` empty lines between two content lines fold into.
fn fold(blank_lines: usize) -> String {
    if blank_lines == 0 {
        " ".to_owned()
    } else {
        "\n".repeat(blank_lines)
    }
}

fn is_blank(byte: Option<&u8>) -> bool {
    matches!(byte, Some(b' ' | b'\t'))
}

/// The lines of `src[start..end]`: `(start, end without "\r\n"/"\n", start of the next line)`.
fn lines(src: &str, start: usize, end: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let end = end.min(src.len());
    let mut at = start;
    let mut done = start > end;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let rest = src.get(at..end)?;
        let (line_end, next) = match rest.find('\n') {
            Some(i) => (at + i, at + i + 1),
            None => {
                done = true;
                (end, end)
            }
        };
        let text_end = if line_end > at && src.as_bytes().get(line_end - 1) == Some(&b'\r') {
            line_end - 1
        } else {
            line_end
        };
        let line = (at, text_end, next);
        at = next;
        if at >= end && !done {
            // A break right at `end`: the (empty) line after it is not part of the range.
            done = true;
        }
        Some(line)
    })
}

/// How many segments a layout has and whether any maps verbatim.
#[cfg(test)]
pub(crate) fn segment_count(layout: &Layout) -> (usize, bool) {
    (
        layout.segments.len(),
        layout.segments.iter().any(|s| s.verbatim),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::position::usize_from;

    fn check(src: &str, value: &str, layout: &Layout) {
        // Every verbatim char maps to a source byte holding the same char.
        for (offset, c) in value.char_indices() {
            let span = layout
                .span_of(value, offset..offset + c.len_utf8())
                .expect("in range");
            let start = usize_from(span.start_byte);
            let end = usize_from(span.end_byte);
            assert!(
                start >= usize_from(layout.span.start_byte),
                "{value:?} {offset}"
            );
            assert!(
                end <= usize_from(layout.span.end_byte),
                "{value:?} {offset}"
            );
            if let Some(s) = layout
                .segments
                .iter()
                .find(|s| s.verbatim && s.value_start <= offset && offset < s.value_end)
            {
                let _ = s;
                assert_eq!(
                    src.get(start..end),
                    Some(&value[offset..offset + c.len_utf8()])
                );
            }
        }
    }

    #[test]
    fn plain_multi_line() {
        let src = "k: plain\n  multi\n\n  line\n";
        let at = Positioner::new(src);
        let layout = plain(&at, "plain multi\nline", 3, 24);
        assert_eq!(segment_count(&layout), (5, true));
        check(src, "plain multi\nline", &layout);
        let span = layout.span_of("plain multi\nline", 12..16).expect("span");
        assert_eq!((span.start_line, span.start_column), (4, 3));
    }

    #[test]
    fn double_quoted_escapes_and_folds() {
        let src = "a: \"x\n  y  \\\n   z\n\n  w\\t\\u00e9\"\n";
        let at = Positioner::new(src);
        let value = "x y  z\nw\té";
        let layout = quoted(&at, value, 3, true);
        assert!(layout.segments.iter().any(|s| s.verbatim));
        assert_eq!(layout.segments.len(), 8, "{layout:#?}");
        check(src, value, &layout);
        let span = layout.span_of(value, 9..11).expect("é");
        assert_eq!(
            src.get(usize_from(span.start_byte)..usize_from(span.end_byte)),
            Some("\\u00e9")
        );
    }

    #[test]
    fn single_quoted_doubled_quote() {
        let src = "f: 'it''s'\n";
        let at = Positioner::new(src);
        let layout = quoted(&at, "it's", 3, false);
        assert_eq!(layout.segments.len(), 3);
        let span = layout.span_of("it's", 3..4).expect("s");
        assert_eq!(span.start_column, 9);
    }

    #[test]
    fn literal_and_folded() {
        let src = "run: |\n  echo 1\n   echo 2\n\n  end\nnext: >2\n    more\n  normal\n  text\n\n  last\n";
        let at = Positioner::new(src);
        let layout = block(&at, "echo 1\n echo 2\n\nend\n", 5, true, src.len());
        assert!(layout.segments.iter().all(|s| s.value_end > s.value_start));
        check(src, "echo 1\n echo 2\n\nend\n", &layout);
        assert_eq!(layout.span.end_line, 5);
        let header = src.find('>').expect("header");
        let value = "  more\nnormal text\nlast\n";
        let layout = block(&at, value, header, false, src.len());
        check(src, value, &layout);
        assert!(
            layout.segments.iter().filter(|s| s.verbatim).count() >= 4,
            "{layout:#?}"
        );
    }
}
