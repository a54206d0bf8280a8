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

/// The most detail lines a summarised hint's tooltip lists.
const MAX_TOOLTIP_CLAIMS: usize = 20;

/// One line's hint from its claims' verdicts: the claim's own label when the line holds
/// one claim; for a claim over an unrolled loop's members (one verdict per member, all
/// on one line) one summary: the count of each verdict, worst first, then the label of
/// the first member that does not pass (or of the first member), and a tooltip with
/// the members' reports, those that do not pass first (probe38 k22: 257 hints of 120
/// characters each, stacked at the end of one line).
fn summarised(views: &[&ClaimView]) -> (String, String) {
    if let [c] = views {
        return (
            format!("{} {}", symbol(c.verdict), c.label),
            c.detail.clone(),
        );
    }
    let order = [
        Verdict::Refuted,
        Verdict::Undecided,
        Verdict::Confirmed,
        Verdict::Proved,
    ];
    let word = |v: Verdict| match v {
        Verdict::Refuted => "refuted",
        Verdict::Undecided => "undecided",
        Verdict::Confirmed => "confirmed",
        Verdict::Proved => "proved",
    };
    let counts: Vec<String> = order
        .iter()
        .filter_map(|v| {
            let n = views.iter().filter(|c| c.verdict == *v).count();
            (n > 0).then(|| format!("{} {n} {}", symbol(*v), word(*v)))
        })
        .collect();
    let mut ranked: Vec<&&ClaimView> = views.iter().collect();
    ranked.sort_by_key(|c| (c.acceptable, order.iter().position(|v| *v == c.verdict)));
    let first = ranked[0];
    let label = format!(
        "{} of {} members; first: {}",
        counts.join(", "),
        views.len(),
        first.label
    );
    let mut tip: Vec<String> = ranked
        .iter()
        .take(MAX_TOOLTIP_CLAIMS)
        .map(|c| c.detail.clone())
        .collect();
    if views.len() > MAX_TOOLTIP_CLAIMS {
        tip.push(format!(
            "… and {} more (`tq check` lists every member)",
            views.len() - MAX_TOOLTIP_CLAIMS
        ));
    }
    (label, tip.join("\n"))
}

/// What to show at each claim line: (1-based line, label, tooltip), one per line.
fn shown(doc: &Document) -> Vec<(usize, String, String)> {
    match &doc.verdicts {
        Some(v) if v.unavailable.is_none() => {
            let mut lines: std::collections::BTreeMap<usize, Vec<&ClaimView>> =
                std::collections::BTreeMap::new();
            for c in &v.claims {
                lines.entry(c.line).or_default().push(c);
            }
            lines
                .into_iter()
                .map(|(line, views)| {
                    let (label, tip) = summarised(&views);
                    (line, label, tip)
                })
                .collect()
        }
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

/// front41 (issue #18, m08): the most inlay hints, and the most code lenses, one
/// answer of the server carries. A file of 80,000 claims answered a request for the
/// whole document with 80,000 hints (megabytes of JSON, on every refresh); an editor
/// asks for the visible range, so the first ones in it are the ones seen. The code
/// lenses past the cap are summarised by one more lens at the last one shown
/// (docs/editors.md).
pub const MAX_VERDICTS_SHOWN: usize = 2_000;

/// Inlay hints for the claims whose lines fall in `range` (the first
/// [`MAX_VERDICTS_SHOWN`] of them).
pub fn inlay_hints(doc: &Document, range: Range) -> Vec<InlayHint> {
    shown(doc)
        .into_iter()
        .filter(|(l, _, _)| {
            let l0 = (*l as u32).saturating_sub(1);
            range.start.line <= l0 && l0 <= range.end.line
        })
        .take(MAX_VERDICTS_SHOWN)
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

/// A code lens above each claim with its verdict (a title only: no command runs): the
/// first [`MAX_VERDICTS_SHOWN`] claims' lines, then one lens that counts the others.
pub fn code_lenses(doc: &Document) -> Vec<CodeLens> {
    let all = shown(doc);
    let total = all.len();
    let mut out: Vec<CodeLens> = all
        .into_iter()
        .take(MAX_VERDICTS_SHOWN)
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
        .collect();
    if total > MAX_VERDICTS_SHOWN {
        let range = out.last().map(|c| c.range).unwrap_or_default();
        out.push(CodeLens {
            range,
            command: Some(Command {
                title: format!(
                    "{} more claims' verdicts are not shown (the editor gets the first {MAX_VERDICTS_SHOWN}); `tq check` lists them all",
                    total - MAX_VERDICTS_SHOWN
                ),
                command: String::new(),
                arguments: None,
            }),
            data: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(line: usize, verdict: Verdict, acceptable: bool, label: &str) -> ClaimView {
        ClaimView {
            line,
            verdict,
            acceptable,
            label: label.to_string(),
            detail: format!("{label} (detail)"),
            replacement: None,
        }
    }

    /// probe38 k22: the members of a claim over an unrolled loop share one line and get
    /// one hint that counts them, the worst first; a line with one claim keeps its label.
    #[test]
    fn the_members_of_one_line_are_summarised_in_one_hint() {
        let mut many: Vec<ClaimView> = (0..13)
            .map(|k| view(10, Verdict::Proved, true, &format!("proved [m{k}]")))
            .collect();
        many.extend(
            (0..244).map(|k| view(10, Verdict::Undecided, true, &format!("undecided: u{k}"))),
        );
        let refs: Vec<&ClaimView> = many.iter().collect();
        let (label, tip) = summarised(&refs);
        assert!(
            label.starts_with("? 244 undecided, ✓ 13 proved of 257 members"),
            "{label}"
        );
        assert!(label.contains("first: undecided: u0"), "{label}");
        assert_eq!(tip.lines().count(), MAX_TOOLTIP_CLAIMS + 1, "{tip}");
        assert!(
            tip.ends_with("… and 237 more (`tq check` lists every member)"),
            "{tip}"
        );
        // A member that fails comes first, whatever its place.
        many.push(view(10, Verdict::Refuted, false, "refuted: at l = 200"));
        let refs: Vec<&ClaimView> = many.iter().collect();
        let (label, tip) = summarised(&refs);
        assert!(
            label.starts_with("✗ 1 refuted, ? 244 undecided, ✓ 13 proved of 258 members"),
            "{label}"
        );
        assert!(label.ends_with("first: refuted: at l = 200"), "{label}");
        assert!(tip.starts_with("refuted: at l = 200"), "{tip}");
        // An expected refutation passes: it is not put before a failing member.
        let planted = [
            view(3, Verdict::Refuted, true, "refuted: x (expected)"),
            view(3, Verdict::Undecided, false, "undecided: y"),
        ];
        let refs: Vec<&ClaimView> = planted.iter().collect();
        assert!(
            summarised(&refs).0.ends_with("first: undecided: y"),
            "{:?}",
            summarised(&refs)
        );
        // One claim: its own label.
        let one = [view(4, Verdict::Proved, true, "proved [exact]")];
        let refs: Vec<&ClaimView> = one.iter().collect();
        assert_eq!(summarised(&refs).0, "✓ proved [exact]");
    }
}
