//! Byte-range spans into the original source text.

/// A half-open byte range `start..end` into the original (untransliterated) source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// The text with every lone carriage return (one not followed by `\n`: the classic Mac
/// line end) made a `\n`, byte for byte, so that offsets are unchanged. A lone `\r` ends
/// a line for editors (the language server protocol counts `\n`, `\r\n` and `\r`) and
/// for the snippets miette draws; tq read it as a space, so a file with classic Mac line
/// ends was one long line and its diagnostics said line 1 where the snippet said line 2.
/// Every reader of a source (the checker, the formatter, the language server) takes its
/// text through here. `\r\n` is left as it is.
pub fn normalize_line_ends(src: &str) -> std::borrow::Cow<'_, str> {
    let b = src.as_bytes();
    let lone = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    if !(0..b.len()).any(lone) {
        return std::borrow::Cow::Borrowed(src);
    }
    let mut out = b.to_vec();
    for (i, byte) in out.iter_mut().enumerate() {
        if lone(i) {
            *byte = b'\n';
        }
    }
    // Only ASCII bytes changed, to ASCII: still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| src.to_string()))
}

/// The starts of the lines of a text, for many [`line_col`] look-ups: each costs a
/// binary search and a scan of one line instead of a scan from the start of the text.
pub struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
    /// Whether each line is ASCII: there a column is the byte distance from the line's
    /// start, without a scan (40,000 diagnostics on one 200 KB line scanned it each).
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        // A lone `\r` ends a line too ([`normalize_line_ends`]).
        let b = src.as_bytes();
        starts.extend(
            (0..b.len())
                .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
                .map(|i| i + 1),
        );
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let end = starts.get(k + 1).copied().unwrap_or(src.len());
                src.as_bytes()[s..end].is_ascii()
            })
            .collect();
        LineIndex { src, starts, ascii }
    }

    /// The same as [`line_col`] on the text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        // Lines starting at or before the offset (the first always does).
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        if self.ascii[line - 1] {
            return (line, offset - start + 1);
        }
        // Characters before the offset: the bytes that do not continue a character (an
        // offset inside a character counts that character, as `char_indices` did).
        let bytes = &self.src.as_bytes()[start..offset];
        let col = bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        (line, col + 1)
    }

    /// The byte offset where a one-based line starts (the text's length past its end).
    pub fn line_start(&self, line: usize) -> usize {
        match line.checked_sub(1) {
            Some(k) => self.starts.get(k).copied().unwrap_or(self.src.len()),
            None => 0,
        }
    }
}

/// One-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let mut line = 1;
    let mut col = 1;
    let b = src.as_bytes();
    for (i, ch) in src.char_indices() {
        if i >= offset {
            break;
        }
        if ch == '\n' || (ch == '\r' && b.get(i + 1) != Some(&b'\n')) {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::{line_col, LineIndex};

    /// The indexed look-up (with its shortcut on ASCII lines) agrees with the scan from
    /// the start at every byte offset, inside characters and past the end included.
    #[test]
    fn indexed_columns_agree_with_the_scan_everywhere() {
        let texts = [
            "size B\nσ_W = 1\n\n𝒩 x é\r\nplain ascii line\nlast",
            "ascii only\nno tails",
            "",
            "\n\n",
            "αβγ",
        ];
        for text in texts {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    index.line_col(offset),
                    line_col(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }
}
