//! The document store: the text the editor holds for each open file, checked at once
//! on every change (parse and check only: fast enough for every keystroke), and what
//! the background worker derived for that same version when it arrives.

use super::text::LineMap;
use super::worker::{Derived, Verdicts};
use crate::analysis;
use crate::report::FileReport;
use lsp_types::{TextDocumentContentChangeEvent, Uri};
use std::collections::HashMap;

/// One open document.
pub struct Document {
    pub uri: Uri,
    pub version: i32,
    /// The text, the parsed program, its environment and its diagnostics (no claims:
    /// those are decided in the background).
    pub report: FileReport,
    pub lines: LineMap,
    /// The backward program and the moments, for this version, once derived.
    pub derived: Option<Derived>,
    /// The claims' verdicts, for this version, once decided.
    pub verdicts: Option<Verdicts>,
    /// Why the server no longer holds the editor's text ([`apply_changes`] refused a
    /// change): the text is empty and ranged changes are ignored until a change that
    /// sends the whole text, or the document is opened again.
    pub lost: Option<String>,
}

impl Document {
    pub fn new(uri: Uri, version: i32, text: String) -> Document {
        let report = quick_report(uri.as_str(), &text);
        Document {
            lines: LineMap::new(&report.source),
            uri,
            version,
            report,
            derived: None,
            verdicts: None,
            lost: None,
        }
    }

    /// A document whose changes could not be followed: no text, one E0003 at its
    /// start saying why, with the way back.
    pub fn lost(uri: Uri, version: i32, why: String) -> Document {
        let mut doc = Document::new(uri, version, String::new());
        doc.report.diagnostics.push(
            crate::diag::Diagnostic::error(
                "E0003",
                crate::syntax::span::Span::new(0, 0),
                format!("tq stopped following this document's changes: {why}"),
            )
            .with_hint("close the file and open it again (or make the editor send the whole text)"),
        );
        doc.lost = Some(why);
        doc
    }

    /// A document the server does not check because the open documents' text would pass
    /// [`MAX_OPEN_BYTES`]: no text kept, one E0003 saying why, with the way back.
    pub fn refused(uri: Uri, version: i32, why: String) -> Document {
        let mut doc = Document::new(uri, version, String::new());
        doc.report.diagnostics.push(
            crate::diag::Diagnostic::error(
                "E0003",
                crate::syntax::span::Span::new(0, 0),
                format!("tq does not check this document: {why}"),
            )
            .with_hint("close other .tq documents, then edit this one or open it again"),
        );
        doc.lost = Some(why);
        doc
    }

    pub fn text(&self) -> &str {
        &self.report.source
    }

    /// Whether the file has errors (then nothing is derived from it).
    pub fn has_errors(&self) -> bool {
        self.report.diagnostics.iter().any(|d| d.is_error())
    }
}

/// The parse and check of a text (`tq check`'s front end, [`crate::report::check_front`]):
/// a [`FileReport`] without claims or gradient checks.
pub fn quick_report(path: &str, text: &str) -> FileReport {
    let text = &*crate::span::normalize_line_ends(text);
    // `tq check`'s own front end: the same program (index capitals resolved, derived
    // sizes expanded), environment and diagnostics.
    let crate::report::Checked {
        program,
        env,
        diagnostics,
    } = crate::report::check_front(text);
    FileReport {
        path: path.to_string(),
        source: text.to_string(),
        program,
        env,
        diagnostics,
        claims: Vec::new(),
        expected_error: None,
        gradcheck: Vec::new(),
        gradcheck_skipped: None,
        derived: analysis::Derived::new(),
    }
}

/// The bound on the bytes the server keeps live for one open document (its parse and
/// check, and the facts the worker derived for it) per byte of its text
/// (docs/performance.md, "The language server's memory"; tests/lsp_memory.rs).
pub const RETAINED_PER_SOURCE_BYTE: usize = 200;

/// The largest text the server follows, in bytes: eight times the largest file tq
/// reads (a document past [`MAX_SOURCE_BYTES`] gets E0003 but is still followed, so
/// that edits can bring it back under).
///
/// [`MAX_SOURCE_BYTES`]: crate::syntax::parser::MAX_SOURCE_BYTES
pub const MAX_DOCUMENT_BYTES: usize = 8 * crate::syntax::parser::MAX_SOURCE_BYTES;

/// The most text, in bytes, of all the open documents the server checks together (4 MiB:
/// four files of tq's largest, or a thousand of the size of problems/). What a document
/// keeps is about [`RETAINED_PER_SOURCE_BYTE`] times its text at most, so this bounds the
/// server's memory over documents (probe38 k14: eight open 300 KB documents held 456 MB);
/// a document opened or changed past it is not checked, and gets one E0003 saying so
/// (docs/editors.md).
pub const MAX_OPEN_BYTES: usize = 4 * crate::syntax::parser::MAX_SOURCE_BYTES;

/// The most bytes one `didChange` may make the server scan: each ranged change scans
/// the text once (its line starts) and moves its tail. A 1 MiB document takes 256
/// ranged changes in one notification; a 10 KB one, 25,000.
pub const MAX_CHANGE_WORK: usize = 256 << 20;

/// Applies the changes of a `didChange` in order: a change without a range replaces
/// the whole text (full sync, what this server asks for); one with a range replaces
/// that range (positions past a line's end or the text's end are clamped to them, a
/// range whose end is before its start is empty). `text` is `None` for a document
/// already lost: only a change with the whole text brings it back. `Err` (why) when
/// the text would pass [`MAX_DOCUMENT_BYTES`] or the changes [`MAX_CHANGE_WORK`]:
/// the caller drops the text ([`Document::lost`]) rather than grow or scan without end.
pub fn apply_changes(
    text: Option<&str>,
    changes: Vec<TextDocumentContentChangeEvent>,
) -> Result<String, String> {
    // A full replacement makes every earlier change moot.
    let last_full = changes.iter().rposition(|c| c.range.is_none());
    let (mut text, rest) = match (last_full, text) {
        (Some(k), _) => (String::new(), &changes[k..]),
        (None, Some(t)) => (t.to_string(), &changes[..]),
        (None, None) => return Err(
            "an earlier change could not be followed and no change since has sent the whole text"
                .into(),
        ),
    };
    let too_big = |n: usize| {
        format!(
            "the document would be {n} bytes, more than the limit of {MAX_DOCUMENT_BYTES} bytes"
        )
    };
    let mut work = 0usize;
    for c in rest {
        match c.range {
            None => {
                if c.text.len() > MAX_DOCUMENT_BYTES {
                    return Err(too_big(c.text.len()));
                }
                text.clone_from(&c.text);
            }
            Some(r) => {
                work = work.saturating_add(text.len() + c.text.len());
                if work > MAX_CHANGE_WORK {
                    return Err(format!(
                        "one change notification held more edits than the server follows (over {MAX_CHANGE_WORK} bytes of text to scan)"
                    ));
                }
                let m = LineMap::new(&text);
                let start = m.offset(&text, r.start);
                let end = m.offset(&text, r.end).max(start);
                let len = text.len() - (end - start) + c.text.len();
                if len > MAX_DOCUMENT_BYTES {
                    return Err(too_big(len));
                }
                text.replace_range(start..end, &c.text);
            }
        }
    }
    Ok(text)
}

/// The open documents by URI.
#[derive(Default)]
pub struct Store {
    pub docs: HashMap<Uri, Document>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    #[test]
    fn ranged_changes_apply_in_order_and_full_changes_replace() {
        let change = |range: Option<Range>, text: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: text.to_string(),
        };
        let r = |a: (u32, u32), b: (u32, u32)| {
            Some(Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1)))
        };
        let out = apply_changes(
            Some("size σ, B\nx = 1\n"),
            vec![
                change(r((1, 4), (1, 5)), "2"),
                change(r((0, 5), (0, 6)), "J"),
            ],
        );
        assert_eq!(out.unwrap(), "size J, B\nx = 2\n");
        assert_eq!(
            apply_changes(Some("old"), vec![change(None, "new")]).unwrap(),
            "new"
        );
    }

    #[test]
    fn out_of_range_and_backward_ranges_are_clamped() {
        let change = |a: (u32, u32), b: (u32, u32), text: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1))),
            range_length: Some(u32::MAX),
            text: text.to_string(),
        };
        let apply = |t: &str, c| apply_changes(Some(t), vec![c]).unwrap();
        // Past the end of the text: appended.
        assert_eq!(
            apply("ab\ncd", change((u32::MAX, u32::MAX), (u32::MAX, 0), "!")),
            "ab\ncd!"
        );
        // Past a line's end: at its end, before the line break.
        assert_eq!(
            apply("ab\r\ncd", change((0, 99), (0, 1000), "!")),
            "ab!\r\ncd"
        );
        // An end before the start: an insertion at the start.
        assert_eq!(apply("abcd", change((0, 3), (0, 1), "!")), "abc!d");
        // Inside a surrogate pair: at the character's start, never inside it.
        assert_eq!(apply("𝑥y", change((0, 1), (0, 1), "!")), "!𝑥y");
    }

    #[test]
    fn growth_and_work_past_the_limits_lose_the_document_until_a_whole_text() {
        let full = |text: String| TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text,
        };
        let append = |text: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(u32::MAX, 0),
                Position::new(u32::MAX, 0),
            )),
            range_length: None,
            text: text.to_string(),
        };
        let half = "x".repeat(MAX_DOCUMENT_BYTES / 2 + 1);
        let why = apply_changes(Some(""), vec![append(&half), append(&half)]).unwrap_err();
        assert!(why.contains("more than the limit"), "{why}");
        assert!(apply_changes(Some(""), vec![full("y".repeat(MAX_DOCUMENT_BYTES + 1))]).is_err());
        // Many small edits of a large text: refused by the work budget, not scanned.
        let big = "a\n".repeat(1 << 19);
        let many: Vec<_> = (0..300).map(|_| append("b")).collect();
        let why = apply_changes(Some(&big), many).unwrap_err();
        assert!(why.contains("more edits"), "{why}");
        // Lost: ranged changes are not applied; a whole text brings the document back,
        // and the changes after it apply to it.
        assert!(apply_changes(None, vec![append("z")]).is_err());
        assert_eq!(
            apply_changes(None, vec![append("z"), full("new".into()), append("!")]).unwrap(),
            "new!"
        );
    }
}
