//! A hint's fix is one tq accepts (issue #18; probe31/b na/: nine hints whose literal
//! fix was itself rejected: `given all I`, `x[b]` for `x[b I]`, a shape deleted instead
//! of moved, ...). For every file under tests/new_author/ whose hint carries a literal
//! fix, the fix is made to the source as an author would make it, and the result must
//! check without an error.
//!
//! The literal forms a hint takes (the test reads them off the hint's text):
//! - "delete this line": the diagnostic's line is removed;
//! - "did you mean `w`?": the text under the diagnostic's span is replaced by `w`;
//! - the whole corrected line in backticks (its first word is the line's own, and it
//!   keeps at least half the line's words): the line is replaced by it, indentation kept;
//!   two statements joined by "on the next", "on a line before" or ", then" (`expect
//!   refuted` before a claim, two declarations split, a size declared first) replace it
//!   by both;
//! - "delete `x`": the first `x` from the diagnostic's place on its line is removed.
//!
//! A hint with none of these (advice, a choice between fixes, an example with `...`)
//! is not applied.

mod common;

use common::new_author::errors;
use tq::diag::Diagnostic;

const KEYWORDS: &[&str] = &[
    "size",
    "index",
    "symbol",
    "scalar",
    "param",
    "input",
    "grad",
    "claim",
    "expect",
    "sample",
    "at",
    "vary",
    "boundary",
    "for",
    "derivation",
    "rule",
];

/// The backticked parts of a hint, in order.
fn snippets(hint: &str) -> Vec<&str> {
    hint.split('`').skip(1).step_by(2).collect()
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// The source with the hint's literal fix made, and which form it was; None when the
/// hint has no literal fix.
fn apply(src: &str, d: &Diagnostic) -> Option<(String, &'static str)> {
    let hint = d.hint.as_deref()?;
    let start = d.span.start as usize;
    let line_start = src[..start].rfind('\n').map_or(0, |k| k + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |k| start + k);
    let line = &src[line_start..line_end];
    let indent = &line[..line.len() - line.trim_start().len()];
    let replace_line =
        |with: &str| format!("{}{indent}{with}{}", &src[..line_start], &src[line_end..]);
    if hint.contains("delete this line") {
        let end = (line_end + 1).min(src.len());
        return Some((
            format!("{}{}", &src[..line_start], &src[end..]),
            "delete line",
        ));
    }
    if let Some(rest) = hint.strip_prefix("did you mean `") {
        let word = rest.split('`').next()?;
        let end = (d.span.end as usize).min(src.len());
        return Some((
            format!("{}{word}{}", &src[..start], &src[end..]),
            "did you mean",
        ));
    }
    let own = first_word(line);
    // A statement: a keyword's line, an equation, or a line that starts as this one.
    let statement = |s: &&str| {
        !s.contains("...")
            && !s.contains('…')
            && s.split_whitespace().count() > 1
            && (first_word(s) == own
                || (own != "=" && KEYWORDS.contains(&first_word(s)))
                || (own != "=" && s.contains(" = ")))
    };
    let mut lines: Vec<&str> = snippets(hint).into_iter().filter(statement).collect();
    lines.dedup();
    let two = ["on the next", "on a line before", ", then `"];
    if two.iter().any(|w| hint.contains(w)) && lines.len() >= 2 {
        return Some((
            replace_line(&lines.join(&format!("\n{indent}"))),
            "two lines",
        ));
    }
    // The whole corrected line: it starts as this one and keeps at least half its words
    // (`size L = 3` for `size N_l for l in 0..L` is an edit elsewhere, not this line).
    let words = |s: &str| -> std::collections::BTreeSet<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mine = words(line);
    if let Some(best) = lines
        .iter()
        .filter(|s| first_word(s) == own)
        .filter(|s| 2 * words(s).intersection(&mine).count() >= mine.len())
        .max_by_key(|s| s.len())
    {
        return Some((replace_line(best), "line"));
    }
    if let Some(rest) = hint.split("delete `").nth(1) {
        let what = rest.split('`').next()?;
        let k = src[start..line_end].find(what)? + start;
        return Some((format!("{}{}", &src[..k], &src[k + what.len()..]), "delete"));
    }
    None
}

#[test]
fn each_literal_hint_of_a_new_author_mistake_gives_a_file_tq_accepts() {
    let mut failures = Vec::new();
    let mut applied = 0;
    for m in common::new_author::mistakes() {
        let (name, src) = (m.name, m.src);
        let found = errors(&src);
        let [d] = found.as_slice() else {
            // tests/diagnostics.rs holds each file to exactly one diagnostic.
            continue;
        };
        let Some((fixed, form)) = apply(&src, d) else {
            continue;
        };
        applied += 1;
        let after = errors(&fixed);
        if let Some(e) = after.first() {
            let (l, c) = e.line_col(&fixed);
            failures.push(format!(
                "{name}: the hint {:?} ({form}) gives a file with {} at {l}:{c}: {} (hint: {:?})",
                d.hint.as_deref().unwrap_or(""),
                e.code,
                e.message,
                e.hint.as_deref().unwrap_or("")
            ));
        }
    }
    assert!(
        applied >= 60,
        "only {applied} hints were applied: the forms this test reads have drifted from the hints"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The forms themselves, on lines written here: each fix is made where the hint says.
#[test]
fn the_forms_of_a_literal_hint_are_applied_where_they_say() {
    let src = "size B\nboundary zeros\n";
    let d = Diagnostic::error("E0001", tq::span::Span::new(16, 21), "x")
        .with_hint("did you mean `zero`? this place takes ...");
    assert_eq!(apply(src, &d).unwrap().0, "size B\nboundary zero\n");
    let d = Diagnostic::error("E0102", tq::span::Span::new(0, 4), "x")
        .with_hint("delete this line: it is declared above");
    assert_eq!(apply(src, &d).unwrap().0, "boundary zeros\n");
    let src = "size B\n  claim a == 1 for all B\n";
    let d = Diagnostic::error("E0001", tq::span::Span::new(22, 25), "x")
        .with_hint("drop it: `claim a == 1`");
    assert_eq!(apply(src, &d).unwrap().0, "size B\n  claim a == 1\n");
    let src = "input x[B] ~ normal(0, 1), z[B] ~ normal(0, 1)\n";
    let d = Diagnostic::error("E0001", tq::span::Span::new(25, 26), "x").with_hint(
        "one declaration per line: `input x[B] ~ normal(0, 1)` on one line, then `input z[B] ~ normal(0, 1)` on the next",
    );
    assert_eq!(
        apply(src, &d).unwrap().0,
        "input x[B] ~ normal(0, 1)\ninput z[B] ~ normal(0, 1)\n"
    );
    let src = "param w ~ normal(0, 1) # [I]\n";
    let d = Diagnostic::error("E0001", tq::span::Span::new(6, 7), "x")
        .with_hint("a declaration ends: delete `~`, or not");
    assert_eq!(apply(src, &d).unwrap().0, "param w  normal(0, 1) # [I]\n");
    let d = Diagnostic::error("E0001", tq::span::Span::new(6, 7), "x")
        .with_hint("an example: `param w[...] ~ normal(0, 1)`");
    assert!(apply(src, &d).is_none());
}
