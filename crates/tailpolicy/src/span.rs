//! Byte-offset spans and the conversion to line/column, done only at the edges.

use serde::Serialize;

/// A half-open byte range `start..end` into the policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    /// An empty span at `offset`.
    pub const fn at(offset: u32) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value together with the place in the source it came from.
///
/// Equality and hashing ignore the span so models compare by content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// How columns are counted when a byte offset is turned into a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    /// Unicode scalar values, as terminals and rustc count them.
    Chars,
    /// UTF-16 code units, as browsers, editors and LSP count them (the WASM API's default).
    #[default]
    Utf16,
    /// Raw bytes.
    Utf8,
}

impl PositionEncoding {
    /// `"chars"`, `"utf16"` or `"utf8"` (the WASM API's `encoding` option).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "chars" => Some(Self::Chars),
            "utf16" => Some(Self::Utf16),
            "utf8" => Some(Self::Utf8),
            _ => None,
        }
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

/// Maps byte offsets to line/column positions for one source text.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of every line.
    line_starts: Vec<u32>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        // Eight bytes at a time, looking into a word only when it holds a `\n`: lines are
        // short, and a searcher's setup per match (`match_indices`) cost more than this.
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
        const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
        let mut push = |i: usize| line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
        let chunks = text.as_bytes().chunks_exact(8);
        let tail = chunks.remainder();
        let mut at = 0;
        for chunk in chunks {
            let word = u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
            let x = word ^ NEWLINES;
            if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
                for (j, _) in chunk.iter().enumerate().filter(|(_, b)| **b == b'\n') {
                    push(at + j);
                }
            }
            at += 8;
        }
        for (j, _) in tail.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            push(at + j);
        }
        Self { text, line_starts }
    }

    /// The position of `offset`; offsets past the end or inside a character are clamped.
    pub fn position(&self, offset: u32, encoding: PositionEncoding) -> LineColumn {
        let offset = (offset as usize).min(self.text.len());
        let offset = floor_char_boundary(self.text, offset);
        let line = self
            .line_starts
            .partition_point(|&start| start as usize <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let prefix = self.text.get(line_start..offset).unwrap_or("");
        let column = match encoding {
            PositionEncoding::Chars => prefix.chars().count(),
            PositionEncoding::Utf16 => prefix.encode_utf16().count(),
            PositionEncoding::Utf8 => prefix.len(),
        };
        LineColumn {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    /// The start and (exclusive) end of `span`, clamped like [`Self::position`] and with
    /// the end never before the start: the one conversion every output uses.
    pub fn span(&self, span: Span, encoding: PositionEncoding) -> (LineColumn, LineColumn) {
        (
            self.position(span.start, encoding),
            self.position(span.end.max(span.start), encoding),
        )
    }

    /// The byte offset of a 1-based position (the inverse of [`LineIndex::position`]);
    /// a column past the end of its line is clamped to the line's end, a line past the end
    /// of the text to the end of the text.
    pub fn offset(&self, position: LineColumn, encoding: PositionEncoding) -> u32 {
        let index = (position.line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(index) else {
            return u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        };
        let line = self.line_text(position.line);
        let mut left = (position.column as usize).saturating_sub(1);
        let mut width = 0;
        for c in line.chars() {
            let units = match encoding {
                PositionEncoding::Chars => 1,
                PositionEncoding::Utf16 => c.len_utf16(),
                PositionEncoding::Utf8 => c.len_utf8(),
            };
            if left < units {
                break;
            }
            left -= units;
            width += c.len_utf8();
        }
        start.saturating_add(u32::try_from(width).unwrap_or(u32::MAX))
    }

    /// The text of the 1-based line `line`, without its line ending.
    pub fn line_text(&self, line: u32) -> &'a str {
        let index = (line as usize).saturating_sub(1);
        let start = self.line_starts.get(index).copied().unwrap_or(0) as usize;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&e| e as usize);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_utf16_units() {
        let text = "ab\n\u{1F600}x\nlast";
        let index = LineIndex::new(text);
        assert_eq!(
            index.position(0, PositionEncoding::Chars),
            LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            index.position(3, PositionEncoding::Chars),
            LineColumn { line: 2, column: 1 }
        );
        // `x` follows a 4-byte emoji: column 2 in chars, 3 in UTF-16, 5 in bytes.
        assert_eq!(index.position(7, PositionEncoding::Chars).column, 2);
        assert_eq!(index.position(7, PositionEncoding::Utf16).column, 3);
        assert_eq!(index.position(7, PositionEncoding::Utf8).column, 5);
        assert_eq!(index.line_text(3), "last");
        for offset in [0, 3, 7, 8, 9, 13] {
            for encoding in [
                PositionEncoding::Chars,
                PositionEncoding::Utf16,
                PositionEncoding::Utf8,
            ] {
                assert_eq!(
                    index.offset(index.position(offset, encoding), encoding),
                    offset
                );
            }
        }
        assert_eq!(
            index.position(999, PositionEncoding::Chars),
            LineColumn { line: 3, column: 5 }
        );
    }
}
