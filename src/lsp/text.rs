//! Positions: byte offsets into a document's text and the protocol's (line, UTF-16
//! column) pairs, both ways.
//!
//! The protocol counts lines from 0 and columns in UTF-16 code units (the default
//! position encoding, the one this server announces). A position past the end of a
//! line means the end of that line; a line past the end of the text, the end of the
//! text. A byte offset inside a character counts as the start of that character.

use lsp_types::{Position, Range};

/// The starts of the lines of a text.
#[derive(Clone, Debug)]
pub struct LineMap {
    starts: Vec<usize>,
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
        let mut starts = vec![0];
        // The protocol's line ends: `\n`, `\r\n` and a lone `\r`.
        let b = text.as_bytes();
        starts.extend(
            (0..b.len())
                .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
                .map(|i| i + 1),
        );
        LineMap { starts }
    }

    /// The number of lines (a text ending in a newline has an empty last line).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line` (0-based) without its line break.
    pub fn line_range(&self, text: &str, line: usize) -> (usize, usize) {
        let Some(&start) = self.starts.get(line) else {
            return (text.len(), text.len());
        };
        let mut end = self
            .starts
            .get(line + 1)
            .map(|s| s - 1)
            .unwrap_or(text.len());
        if end > start && text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end)
    }

    /// The protocol position of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let character = text[start..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a protocol position.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let (start, end) = self.line_range(text, line);
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            // At the character, or inside its surrogate pair.
            if units + c.len_utf16() > pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The protocol range of a byte range.
    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(
            self.position(text, start),
            self.position(text, end.max(start)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_code_units_both_ways() {
        // σ is one UTF-16 unit (2 bytes in UTF-8), 𝑥 two units (4 bytes).
        let text = "ab\nσ𝑥 = 1\r\nlast";
        let m = LineMap::new(text);
        assert_eq!(m.lines(), 3);
        let eq = text.find('=').unwrap();
        assert_eq!(m.position(text, eq), Position::new(1, 4));
        assert_eq!(m.offset(text, Position::new(1, 4)), eq);
        // Inside the surrogate pair: the start of the character.
        let x = text.find('𝑥').unwrap();
        assert_eq!(m.offset(text, Position::new(1, 2)), x);
        assert_eq!(m.position(text, x + 1), Position::new(1, 1));
        // Past the end of a line: its end, before the \r\n.
        assert_eq!(
            m.offset(text, Position::new(1, 99)),
            text.find('\r').unwrap()
        );
        // Past the last line: the end of the text.
        assert_eq!(m.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(m.position(text, text.len()), Position::new(2, 4));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_as_the_protocol_says() {
        let text = "ab\rcd\r\nef\r";
        let m = LineMap::new(text);
        assert_eq!(m.lines(), 4);
        assert_eq!(m.position(text, 3), Position::new(1, 0));
        assert_eq!(m.line_range(text, 0), (0, 2));
        assert_eq!(m.line_range(text, 1), (3, 5));
        assert_eq!(m.offset(text, Position::new(2, 9)), 9);
        assert_eq!(m.position(text, text.len()), Position::new(3, 0));
    }
}
