//! tq's diagnostics as the protocol's: the code, the span as a range (UTF-16
//! columns), the message with its label and hint, the related places; and the claims
//! that do not pass (refuted, or not as expected) once their verdicts arrive.

use super::document::Document;
use crate::diag::{self, Severity};
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams,
};

/// One tq diagnostic over the document's text.
pub fn to_lsp(doc: &Document, d: &diag::Diagnostic) -> Diagnostic {
    let text = doc.text();
    let range = doc
        .lines
        .range(text, d.span.start as usize, d.span.end as usize);
    let mut message = d.message.clone();
    if let Some(label) = &d.label {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\nhelp: {hint}"));
    }
    let related = d.related.as_ref().map(|r| {
        r.iter()
            .map(|(span, label)| DiagnosticRelatedInformation {
                location: Location::new(
                    doc.uri.clone(),
                    doc.lines
                        .range(text, span.start as usize, span.end as usize),
                ),
                message: label.clone(),
            })
            .collect()
    });
    Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("tq".into()),
        message,
        related_information: related,
        ..Diagnostic::default()
    }
}

/// The most diagnostics of a document sent to the editor at each change: a file of
/// 30,000 erroneous lines sent 30,000 on every keystroke (megabytes of JSON, written on
/// the server's main loop: the requests behind them waited 3-14 s; found by the LSP
/// edit campaign of 2026-12-05). The first ones are the ones to fix first.
pub const MAX_PUBLISHED: usize = 1_000;

/// Everything to publish for the document's current version: its diagnostics and,
/// when the verdicts of this version have arrived, a warning on each claim that does
/// not pass (refuted, or not what its `expect` line says). The cap counts both: the
/// claim warnings once went past it (session 36, h05: 3,000 refuted claims sent 3,000
/// warnings, 780 KB on every edit).
pub fn publish(doc: &Document) -> PublishDiagnosticsParams {
    let all = &doc.report.diagnostics;
    let failing: Vec<_> = doc
        .verdicts
        .iter()
        .flat_map(|v| v.claims.iter().filter(|c| !c.acceptable))
        .collect();
    let total = all.len() + failing.len();
    let mut out: Vec<Diagnostic> = all
        .iter()
        .take(MAX_PUBLISHED)
        .map(|d| to_lsp(doc, d))
        .collect();
    let room = MAX_PUBLISHED - out.len();
    for c in failing.iter().take(room) {
        let (start, end) = doc.lines.line_range(doc.text(), c.line.saturating_sub(1));
        out.push(Diagnostic {
            range: doc.lines.range(doc.text(), start, end),
            severity: Some(DiagnosticSeverity::WARNING),
            source: Some("tq claims".into()),
            message: format!("claim {}\n{}", c.label, c.detail),
            ..Diagnostic::default()
        });
    }
    if total > MAX_PUBLISHED {
        // The rest are not sent: one note at the last one shown says how many.
        let range = out.last().map(|d| d.range).unwrap_or_default();
        out.push(Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::INFORMATION),
            source: Some("tq".into()),
            message: format!(
                "{} more diagnostics are not shown (the editor gets the first {MAX_PUBLISHED}); `tq check` lists them all",
                total - MAX_PUBLISHED
            ),
            ..Diagnostic::default()
        });
    }
    PublishDiagnosticsParams {
        uri: doc.uri.clone(),
        diagnostics: out,
        version: Some(doc.version),
    }
}
