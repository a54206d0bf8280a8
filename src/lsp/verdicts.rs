//! The claims' verdicts beside their lines: inlay hints at the end of each claim's
//! first line, and the same as code lenses above it. Before the verdicts of the
//! current version arrive, each claim shows that it is being decided.

use super::document::Document;
use super::worker::ClaimView;
use crate::syntax::ast::{Item, ItemKind};
use crate::verdict::Verdict;
use lsp_types::{CodeLens, Command, InlayHint, InlayHintLabel, InlayHintTooltip, Position, Range};

/// Each claim's 1-based line, in source order (nested claims included).
fn claim_lines(doc: &Document) -> Vec<usize> {
    // One line index for all the claims: a scan from the start of the text for each
    // was quadratic (50,000 claims in 900 KB held the server for minutes).
    fn walk(items: &[Item], lines: &crate::span::LineIndex, out: &mut Vec<usize>) {
        for it in items {
            match &it.kind {
                ItemKind::Claim(_) => out.push(lines.line_col(it.span.start as usize).0),
                ItemKind::Loop(l) => walk(&l.body, lines, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    let lines = crate::span::LineIndex::new(doc.text());
    walk(&doc.report.program.items, &lines, &mut out);
    out
}

fn symbol(v: Verdict) -> &'static str {
    match v {
        Verdict::Proved => "✓",
        Verdict::Confirmed => "≈",
        Verdict::Refuted => "✗",
        Verdict::Undecided => "?",
    }
}

/// What to show at each claim line: (1-based line, label, tooltip).
fn shown(doc: &Document) -> Vec<(usize, String, String)> {
    match &doc.verdicts {
        Some(v) if v.unavailable.is_none() => v
            .claims
            .iter()
            .map(|c: &ClaimView| {
                (
                    c.line,
                    format!("{} {}", symbol(c.verdict), c.label),
                    c.detail.clone(),
                )
            })
            .collect(),
        Some(_) => Vec::new(),
        None if doc.has_errors() => Vec::new(),
        None => claim_lines(doc)
            .into_iter()
            .map(|l| {
                (
                    l,
                    "… deciding".to_string(),
                    "tq is deciding this claim in the background".to_string(),
                )
            })
            .collect(),
    }
}

fn end_of_line(doc: &Document, line: usize) -> Position {
    let (_, end) = doc.lines.line_range(doc.text(), line.saturating_sub(1));
    doc.lines.position(doc.text(), end)
}

/// Inlay hints for the claims whose lines fall in `range`.
pub fn inlay_hints(doc: &Document, range: Range) -> Vec<InlayHint> {
    shown(doc)
        .into_iter()
        .filter(|(l, _, _)| {
            let l0 = (*l as u32).saturating_sub(1);
            range.start.line <= l0 && l0 <= range.end.line
        })
        .map(|(l, label, tip)| InlayHint {
            position: end_of_line(doc, l),
            label: InlayHintLabel::String(label),
            kind: None,
            text_edits: None,
            tooltip: Some(InlayHintTooltip::String(tip)),
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect()
}

/// A code lens above each claim with its verdict (a title only: no command runs).
pub fn code_lenses(doc: &Document) -> Vec<CodeLens> {
    shown(doc)
        .into_iter()
        .map(|(l, label, _)| {
            let start = Position::new((l as u32).saturating_sub(1), 0);
            CodeLens {
                range: Range::new(start, end_of_line(doc, l)),
                command: Some(Command {
                    title: label,
                    command: String::new(),
                    arguments: None,
                }),
                data: None,
            }
        })
        .collect()
}
