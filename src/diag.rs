//! The one diagnostic type of tq: a code, a message, a span and a hint.
//!
//! Every stage (parse, check, claims) reports problems as [`Diagnostic`]s; rendering
//! happens only at the edge ([`render_plain`] for snapshots and pipes, the binary's
//! fancy handler for terminals, [`Diagnostic::to_json`] for `--format json`).

use crate::span::{line_col, LineIndex, Span};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A code such as `E0202`, documented in docs/diagnostics.md.
    pub code: &'static str,
    /// Lower-case, no final period, names the thing and the mismatch.
    pub message: String,
    pub span: Span,
    /// A label shown under the span.
    pub label: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Other places the diagnostic refers to, each with its label (the first of two
    /// definitions that contradict each other). Boxed: most diagnostics have none, and
    /// a small `Diagnostic` keeps `Result<_, Diagnostic>` cheap.
    pub related: Option<Box<Vec<(Span, String)>>>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: None,
            hint: None,
            related: None,
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Labels another place in the source (shown beside the main span).
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related
            .get_or_insert_with(Default::default)
            .push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// One-based line and column of the start of the span in `src`.
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        line_col(src, self.span.start as usize)
    }

    /// The JSON object of the command-line contract.
    pub fn to_json(&self, src: &str) -> serde_json::Value {
        self.to_json_at(&LineIndex::new(src))
    }

    /// [`Diagnostic::to_json`] with the lines of the source indexed once (for many
    /// diagnostics of one file).
    pub fn to_json_at(&self, lines: &LineIndex) -> serde_json::Value {
        let (line, column) = lines.line_col(self.span.start as usize);
        serde_json::json!({
            "severity": self.severity.as_str(),
            "code": self.code,
            "message": self.message,
            "line": line,
            "column": column,
            "hint": self.hint,
        })
    }

    /// A miette report for this diagnostic over the named source.
    pub fn to_report(&self, path: &str, src: &str) -> miette::Report {
        self.report_over(path, src, None)
    }

    /// The report over the lines it shows only when `lines` indexes `src`: rendering
    /// then costs each diagnostic its own lines, not the whole file (30,000 one-line
    /// errors in a 60 KB file took 9 s, each copying and scanning the file).
    fn report_over(&self, path: &str, src: &str, lines: Option<&LineIndex>) -> miette::Report {
        self.report_drawn(path, src, lines, true)
    }

    /// The report, with the source lines drawn only when `draw` is set.
    fn report_drawn(
        &self,
        path: &str,
        src: &str,
        lines: Option<&LineIndex>,
        draw: bool,
    ) -> miette::Report {
        let start = (self.span.start as usize).min(src.len());
        let len = (self.span.len()).min(src.len() - start);
        let related = self
            .related
            .iter()
            .flat_map(|r| r.iter())
            .map(|(sp, l)| {
                let s = (sp.start as usize).min(src.len());
                let n = sp.len().min(src.len() - s);
                (miette::SourceSpan::new(s.into(), n), l.clone())
            })
            .collect();
        let report = MietteDiag {
            code: self.code,
            message: escaped(&self.message),
            severity: match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Note => miette::Severity::Advice,
            },
            span: miette::SourceSpan::new(start.into(), len),
            label: escaped(self.label.as_deref().unwrap_or("here")),
            hint: self.hint.as_deref().map(escaped),
            related,
        };
        if !draw {
            return miette::Report::new(report);
        }
        let Some(lines) = lines else {
            let named = miette::NamedSource::new(path, visible(src)).with_language("tq");
            return miette::Report::new(report).with_source_code(named);
        };
        // The lines of every span, with the context miette draws around them.
        let spans = std::iter::once(report.span).chain(report.related.iter().map(|r| r.0));
        let (lo, hi) = spans.fold((src.len(), 0), |(lo, hi), s| {
            (lo.min(s.offset()), hi.max(s.offset() + s.len()))
        });
        let (first, _) = lines.line_col(lo.min(hi));
        let (last, _) = lines.line_col(hi);
        let first = first.saturating_sub(WINDOW_CONTEXT).max(1);
        let start = lines.line_start(first);
        let end = lines.line_start(last + WINDOW_CONTEXT + 1).max(start);
        miette::Report::new(report).with_source_code(Window {
            name: path.to_string(),
            text: visible(&src[start..end]),
            start,
            line: first - 1,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

#[derive(Debug)]
struct MietteDiag {
    code: &'static str,
    message: String,
    severity: miette::Severity,
    span: miette::SourceSpan,
    label: String,
    hint: Option<String>,
    related: Vec<(miette::SourceSpan, String)>,
}

impl fmt::Display for MietteDiag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteDiag {}

impl miette::Diagnostic for MietteDiag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(
            std::iter::once(miette::LabeledSpan::new_with_span(
                Some(self.label.clone()),
                self.span,
            ))
            .chain(
                self.related
                    .iter()
                    .map(|(s, l)| miette::LabeledSpan::new_with_span(Some(l.clone()), *s)),
            ),
        ))
    }
}

/// The longest name [`suggest`] finds a near name for.
pub const MAX_SUGGESTED_LEN: usize = 64;

/// The work all the "did you mean" searches over a file's own names may do together:
/// each candidate read counts one, each cell of an edit distance one. A search is linear
/// in the names declared, so a file with thousands of undeclared names among thousands
/// of declared ones (a `size` list cut in two, its `sample` line intact) made the
/// searches quadratic: 3,353 names against 6,650, 4.7 s of CPU. Past this work no name
/// gets a suggestion (never a partial search's best), and each later search costs
/// nothing.
pub const SUGGEST_WORK: usize = 4_000_000;

/// The count of [`SUGGEST_WORK`] one file's searches share (the checker holds one).
#[derive(Debug)]
pub struct Suggestions {
    left: usize,
}

impl Default for Suggestions {
    fn default() -> Self {
        Suggestions { left: SUGGEST_WORK }
    }
}

impl Suggestions {
    /// A count that never runs out, for searches over a fixed list (keywords, functions).
    fn unbounded() -> Self {
        Suggestions { left: usize::MAX }
    }

    /// Whether the work is spent: no search is made any more.
    pub fn spent(&self) -> bool {
        self.left == 0
    }

    /// Takes `work` from the count; `false` (and the count spent) when it is not there.
    pub fn charge(&mut self, work: usize) -> bool {
        match self.left.checked_sub(work) {
            Some(left) => {
                self.left = left;
                true
            }
            None => {
                self.left = 0;
                false
            }
        }
    }

    /// [`suggest`], charged to this count: `None` once the count is spent, also in the
    /// middle of a search.
    pub fn suggest<'a>(
        &mut self,
        n: &str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let len = n.chars().count();
        // A name past this length gets no suggestion: two or fewer edits of it are no
        // misspelling worth naming, and the distance costs the product of the lengths (a
        // fuzzed file comparing 100,000-letter names hung `tq check` in it).
        if len > MAX_SUGGESTED_LEN || self.spent() {
            return None;
        }
        let allowed = if len <= 4 { 1 } else { 2 };
        let a = folded(n);
        let mut b = Vec::new();
        let mut best: Option<(usize, &str)> = None;
        for cand in names {
            if !self.charge(1) {
                return None;
            }
            if cand == n {
                continue;
            }
            // The distance is at least the difference of the lengths: skipped unread.
            let cand_len = cand.chars().count();
            if cand_len.abs_diff(len) > allowed {
                continue;
            }
            b.clear();
            b.extend(cand.chars().flat_map(char::to_lowercase));
            if !self.charge(a.len() * b.len()) {
                return None;
            }
            let Some(d) = distance_within(&a, &b, allowed) else {
                continue;
            };
            if d < len.max(1) && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, cand));
            }
        }
        best.map(|(_, c)| c)
    }
}

/// The known name closest to `n`, for "did you mean": within a Damerau-Levenshtein
/// distance (a transposition of neighbours counts as one edit, letter case is ignored)
/// scaled by its length — one edit for names of up to four letters, two beyond — and
/// less than its length. `n` itself is never suggested. Unbounded: for fixed lists
/// (keywords, functions, rules); a search over a file's own names goes through the
/// file's [`Suggestions`].
pub fn suggest<'a>(n: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    Suggestions::unbounded().suggest(n, names)
}

/// A name's characters in lower case, as [`edit_distance`] compares them.
fn folded(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The optimal-string-alignment distance (Damerau-Levenshtein without edits of a
/// substring twice), ignoring case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (folded(a), folded(b));
    distance_within(&a, &b, usize::MAX).expect("every distance is within usize::MAX")
}

/// The optimal-string-alignment distance of `a` and `b` when it is at most `max`, else
/// `None` (found as soon as no later row can come back under `max`).
fn distance_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    // d[i][j]: distance between a[..i] and b[..j], three rows kept.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    let mut prev_min: usize = 0;
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        // Every later cell comes from this row or, by a transposition, from the row
        // before it plus one: below neither, no later row can reach `max` again.
        if row_min.min(prev_min.saturating_add(1)) > max {
            return None;
        }
        prev_min = row_min;
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|&d| d <= max)
}

/// Lines of context a [`Window`] keeps around its spans (miette draws one or two).
const WINDOW_CONTEXT: usize = 3;

/// The lines of a source one diagnostic shows, standing in for the whole source:
/// miette reads a span by scanning its source from the start.
struct Window {
    name: String,
    text: String,
    /// Byte offset of `text` in the source (a line start).
    start: usize,
    /// Zero-based line number of `text`'s first line.
    line: usize,
}

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let offset = span
            .offset()
            .checked_sub(self.start)
            .ok_or(miette::MietteError::OutOfBounds)?;
        let local = miette::SourceSpan::new(offset.into(), span.len());
        let c = <str as miette::SourceCode>::read_span(&self.text, &local, before, after)?;
        let global =
            miette::SourceSpan::new((c.span().offset() + self.start).into(), c.span().len());
        // miette counts the column of the header (`FILE:LINE:COL`, read with no context
        // lines) in bytes; tq's columns are characters (the `at` line, JSON), so a line
        // with `σ` or `𝒩` before the span had its header a column or three too far.
        let column = if before == 0 && after == 0 {
            char_column(&self.text, offset).unwrap_or(c.column())
        } else {
            c.column()
        };
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                c.data(),
                global,
                c.line() + self.line,
                column,
                c.line_count(),
            )
            .with_language("tq"),
        ))
    }
}

/// The zero-based column in characters of byte `offset` of `text` (from the start of its
/// line: after the last `\n` or `\r` before it); `None` inside a character.
fn char_column(text: &str, offset: usize) -> Option<usize> {
    let before = text.get(..offset)?;
    let start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    Some(before[start..].chars().count())
}

/// Whether `c` would act on a terminal rather than show: a control character other than
/// tab and line ends (C0, DEL, C1) or a direction mark, embedding, override or isolate
/// (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder what is drawn.
fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A source excerpt as drawn: each character that would act on the terminal
/// ([`acts_on_terminal`]) replaced by one of the same length in UTF-8, so the spans still
/// fall where they did (`?` for a one-byte control, `¿` for a two-byte one, U+FFFD for the
/// three-byte marks). A file's raw ESC turned the terminal red, and U+202E reordered the
/// excerpt (probe 28b, json_controls.tq).
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if !acts_on_terminal(c) {
                c
            } else {
                match c.len_utf8() {
                    1 => '?',
                    2 => '\u{BF}',
                    _ => '\u{FFFD}',
                }
            }
        })
        .collect()
}

/// A message, label or hint as drawn: each character that would act on the terminal
/// written as its code point (`U+001B`).
fn escaped(text: &str) -> String {
    if !text.chars().any(acts_on_terminal) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if acts_on_terminal(c) {
            out.push_str(&format!("U+{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Renders diagnostics as miette draws them, without colour (for snapshots and pipes).
pub fn render_plain(path: &str, src: &str, diags: &[Diagnostic]) -> String {
    render_with(path, src, diags, miette::GraphicalTheme::unicode_nocolor())
}

/// Renders diagnostics with the given miette theme.
pub fn render_with(
    path: &str,
    src: &str,
    diags: &[Diagnostic],
    theme: miette::GraphicalTheme,
) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    let lines = LineIndex::new(src);
    let (drawn, rest) = diags.split_at(diags.len().min(MAX_DRAWN_DIAGNOSTICS));
    for d in drawn {
        let widest = widest_drawn_line(d, src, &lines);
        let draw = widest <= MAX_DRAWN_LINE;
        let report = d.report_drawn(path, src, Some(&lines), draw);
        let _ = handler.render_report(&mut out, report.as_ref());
        let (line, col) = lines.line_col(d.span.start as usize);
        if !draw {
            out.push_str(&format!(
                "  (line {line} is not drawn: a line it shows has {widest} bytes, more than {MAX_DRAWN_LINE})\n"
            ));
        }
        out.push_str(&format!("  at {path}:{line}:{col}\n"));
    }
    if !rest.is_empty() {
        // The others by code, each with its first place: drawing 14,000 diagnostics of
        // a file of repeated lines wrote 17 MB in 4 s, and nobody reads past the first.
        let mut codes: Vec<(&str, usize, usize)> = Vec::new();
        for d in rest {
            match codes.iter_mut().find(|c| c.0 == d.code) {
                Some(c) => c.1 += 1,
                None => codes.push((d.code, 1, d.span.start as usize)),
            }
        }
        let list: Vec<String> = codes
            .iter()
            .map(|(code, n, at)| {
                let (line, col) = lines.line_col(*at);
                format!("{code} × {n} (the first at {path}:{line}:{col})")
            })
            .collect();
        out.push_str(&format!(
            "  … and {} more diagnostics, not drawn (at most {MAX_DRAWN_DIAGNOSTICS} are drawn per file): {}; `--format json` lists every one\n",
            rest.len(),
            list.join(", ")
        ));
    }
    out
}

/// The most diagnostics drawn for one file; the others are counted by code.
pub const MAX_DRAWN_DIAGNOSTICS: usize = 100;

/// The longest source line (in bytes) a drawn report shows; a longer one is not drawn
/// (the columns of miette's drawing are bounded, and such a line is unreadable anyway).
pub const MAX_DRAWN_LINE: usize = 4_000;

/// The widest line among those a report of `d` would draw (its spans' lines and the
/// context around them).
fn widest_drawn_line(d: &Diagnostic, src: &str, lines: &LineIndex) -> usize {
    let spans = std::iter::once(d.span).chain(d.related.iter().flat_map(|r| r.iter()).map(|r| r.0));
    let (lo, hi) = spans.fold((src.len(), 0), |(lo, hi), s| {
        (
            lo.min((s.start as usize).min(src.len())),
            hi.max((s.start as usize + s.len()).min(src.len())),
        )
    });
    let (first, _) = lines.line_col(lo.min(hi));
    let (last, _) = lines.line_col(hi);
    let first = first.saturating_sub(WINDOW_CONTEXT).max(1);
    (first..=last + WINDOW_CONTEXT)
        .map(|n| {
            let a = lines.line_start(n);
            lines.line_start(n + 1).max(a) - a
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control characters and direction overrides of a file never reach the terminal
    /// raw: the excerpt shows a placeholder of the same length (the underline stays under
    /// the right character), the message the code point.
    #[test]
    fn control_characters_are_drawn_visibly() {
        let src =
            "size B\ny[b] = 2 x[b] \u{0} \u{1b}[31m\ny2[b] = 2 \u{202e} evil \u{85}\u{7}\u{7f}\n";
        let at = src.find('\u{202e}').unwrap();
        let d = Diagnostic::error("E0001", Span::new(at, at + 3), "unexpected `\u{202e}`");
        let nul = src.find('\u{0}').unwrap();
        let d2 = Diagnostic::error("E0001", Span::new(nul, nul + 1), "unexpected `\u{0}`")
            .with_hint("not `\u{1b}`");
        let out = render_plain("c.tq", src, &[d, d2]);
        for c in ['\u{0}', '\u{1b}', '\u{202e}', '\u{85}', '\u{7}', '\u{7f}'] {
            assert!(!out.contains(c), "{c:?} in {out}");
        }
        assert!(out.contains("unexpected `U+202E`"), "{out}");
        assert!(out.contains("U+001B"), "{out}");
        assert!(out.contains("at c.tq:3:11"), "{out}");
        assert_eq!(visible(src).len(), src.len());
        // Text without such characters is drawn as before.
        assert_eq!(visible("σ ≈ 2\t\r\n"), "σ ≈ 2\t\r\n");
    }

    /// A diagnostic at a column past 65,535 made miette panic while drawing the line
    /// (found by the fuzz campaign of 2026-12-04): a line over [`MAX_DRAWN_LINE`] is
    /// not drawn, the report says so and still names the place.
    #[test]
    fn a_diagnostic_on_a_very_long_line_is_reported_without_drawing_it() {
        for width in [MAX_DRAWN_LINE + 1, 70_000, 300_000] {
            let src = format!("size B\nclaim {}q == 1\nsize C\n", "a + ".repeat(width / 4));
            let at = src.find('q').unwrap();
            let d = Diagnostic::error("E0501", Span::new(at, at + 1), "`q` is not defined");
            let out = render_plain("long.tq", &src, &[d]);
            assert!(out.contains("E0501"), "{out}");
            assert!(out.contains("is not drawn"), "{out}");
            assert!(out.contains(&format!("at long.tq:2:{}", at - 6)), "{out}");
        }
        // A line at the limit is still drawn.
        let src = format!("size B\nclaim {}q == 1\n", "a".repeat(100));
        let at = src.find('q').unwrap();
        let d = Diagnostic::error("E0501", Span::new(at, at + 1), "`q` is not defined");
        assert!(!render_plain("short.tq", &src, &[d]).contains("is not drawn"));
    }

    #[test]
    fn edit_distance_counts_a_swap_of_neighbours_once() {
        assert_eq!(edit_distance("tahn", "tanh"), 1);
        assert_eq!(edit_distance("inptu", "input"), 1);
        assert_eq!(edit_distance("sigmod", "sigmoid"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("Relu", "relu"), 0);
    }

    #[test]
    fn a_distance_within_a_bound_is_the_distance() {
        // Every pair of words over a three-letter alphabet up to length 4, every bound up
        // to 5: the early exit never hides a distance within the bound.
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = words
                .iter()
                .filter(|w| w.len() == words.last().map_or(0, String::len))
                .flat_map(|w| ["a", "b", "C"].map(|c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        for a in &words {
            for b in &words {
                let d = edit_distance(a, b);
                for max in 0..=5 {
                    let within = distance_within(&folded(a), &folded(b), max);
                    assert_eq!(within, (d <= max).then_some(d), "{a:?} {b:?} {max}");
                }
            }
        }
    }

    #[test]
    fn a_files_suggestions_share_one_count_of_work() {
        let names: Vec<String> = (0..2_000).map(|k| format!("S{k}")).collect();
        let mut file = Suggestions::default();
        let first = file.suggest("S2001", names.iter().map(String::as_str));
        assert_eq!(first, suggest("S2001", names.iter().map(String::as_str)));
        assert!(first.is_some());
        let mut found = 1;
        let mut searches = 1;
        while !file.spent() {
            let n = format!("S{}", 2_000 + searches);
            found += usize::from(file.suggest(&n, names.iter().map(String::as_str)).is_some());
            searches += 1;
        }
        // Each search reads 2,000 names and compares the near ones: a few hundred
        // searches spend the work, and every search after it is refused at once.
        assert!(searches * 2_000 <= SUGGEST_WORK, "{searches}");
        assert!(found + 1 >= searches, "{found} of {searches}");
        assert_eq!(
            file.suggest("S9999", names.iter().map(String::as_str)),
            None
        );
        assert!(!file.charge(1));
    }

    #[test]
    fn suggestions_are_scaled_by_length() {
        let names = ["tanh", "sigmoid", "sqrt", "softplus", "gelu", "relu", "exp"];
        assert_eq!(suggest("gleu", names), Some("gelu"));
        assert_eq!(suggest("softpuls", names), Some("softplus"));
        assert_eq!(suggest("Relu", names), Some("relu"));
        assert_eq!(suggest("conv", names), None);
        assert_eq!(suggest("tahn", names), Some("tanh"));
        assert_eq!(suggest("sigmod", names), Some("sigmoid"));
        assert_eq!(suggest("sqtr", names), Some("sqrt"));
        assert_eq!(suggest("q", names), None);
        // Two edits only for names of five letters or more.
        assert_eq!(suggest("thna", ["tanh"]), None);
        assert_eq!(suggest("sofplsu", ["softplus"]), Some("softplus"));
        // Never the name itself, never a whole-name replacement.
        assert_eq!(suggest("a", ["b"]), None);
        assert_eq!(suggest("aa", ["a"]), Some("a"));
        assert_eq!(suggest("tanh", ["tanh"]), None);
    }
}
