//! The document store: the text the editor holds for each open file, checked at once
//! on every change (parse and check only: fast enough for every keystroke), and what
//! the background worker derived for that same version when it arrives.

use super::text::LineMap;
use super::worker::{Derived, Verdicts};
use crate::analysis;
use crate::check;
use crate::report::FileReport;
use crate::syntax::parser;
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
        }
    }

    pub fn text(&self) -> &str {
        &self.report.source
    }

    /// Whether the file has errors (then nothing is derived from it).
    pub fn has_errors(&self) -> bool {
        self.report.diagnostics.iter().any(|d| d.is_error())
    }
}

/// The parse and check of a text: a [`FileReport`] without claims or gradient checks.
pub fn quick_report(path: &str, text: &str) -> FileReport {
    let text = &*crate::span::normalize_line_ends(text);
    let mut parsed = parser::parse(text);
    let mut diagnostics = parsed.diagnostics;
    let (member_diags, derived_sizes) =
        check::members::expand_derived(&mut parsed.program, &mut parsed.unparsed);
    diagnostics.extend(member_diags);
    let (env, check_diags) = check::check_after_parse(&parsed.program, &parsed.unparsed);
    diagnostics.extend(check_diags);
    if !diagnostics.iter().any(|d| d.is_error()) {
        diagnostics.extend(check::outputs::check(&parsed.program, &env, &derived_sizes));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    FileReport {
        path: path.to_string(),
        source: text.to_string(),
        program: parsed.program,
        env,
        diagnostics,
        claims: Vec::new(),
        expected_error: None,
        gradcheck: Vec::new(),
        gradcheck_skipped: None,
        derived: analysis::Derived::new(),
    }
}

/// Applies the changes of a `didChange` in order: a change without a range replaces
/// the whole text (full sync, what this server asks for); one with a range replaces
/// that range.
pub fn apply_changes(text: &str, changes: Vec<TextDocumentContentChangeEvent>) -> String {
    let mut text = text.to_string();
    for c in changes {
        match c.range {
            None => text = c.text,
            Some(r) => {
                let m = LineMap::new(&text);
                let start = m.offset(&text, r.start);
                let end = m.offset(&text, r.end).max(start);
                text.replace_range(start..end, &c.text);
            }
        }
    }
    text
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
            "size σ, B\nx = 1\n",
            vec![
                change(r((1, 4), (1, 5)), "2"),
                change(r((0, 5), (0, 6)), "J"),
            ],
        );
        assert_eq!(out, "size J, B\nx = 2\n");
        assert_eq!(apply_changes("old", vec![change(None, "new")]), "new");
    }
}
