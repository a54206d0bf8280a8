//! Every erratum of the seeds is pinned: the literal transcription in problems/errata/
//! must be rejected with the right code at the right place, or its wrong claim refuted.

use crate::common;
use std::path::Path;
use tq::claims::{Method, Verdict};
use tq::report::{FileReport, Options};

/// The report of the erratum file whose name starts with `prefix`, checked once with the
/// options of `tq check` and shared with every test that reads it.
fn report(prefix: &str) -> &'static FileReport {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/errata");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".tq"))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one erratum file starts with {prefix}"
    );
    let path = found.remove(0);
    common::shared_report(&common::rel(&path), "full", common::full)
}

/// The error with this code, its line and column, and the source text it points at.
fn error(r: &FileReport, code: &str) -> (usize, usize, String, String) {
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.is_error() && d.code == code)
        .unwrap_or_else(|| panic!("{}: no {code} among {:?}", r.path, r.diagnostics));
    let (line, col) = d.line_col(&r.source);
    let text = r.source[d.span.start as usize..d.span.end as usize].to_string();
    (line, col, text, d.message.clone())
}

fn line_of(r: &FileReport, needle: &str) -> usize {
    r.source
        .lines()
        .position(|l| !l.trim_start().starts_with('#') && l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{}: no line contains {needle}", r.path))
}

#[test]
fn erratum_1_pyramid_rank_mismatch() {
    let r = report("e1_");
    let (line, _col, text, message) = error(r, "E0202");
    assert!(
        r.passed(&Options::default()),
        "the expected error makes the file pass"
    );
    // The message names the tensor, its declared rank and the rank used.
    assert!(message.starts_with("`W` has rank 4"), "{message}");
    // The first error is the weight read with three indices (the literal transcription
    // drops one); L read with five follows it.
    assert_eq!(message, "`W` has rank 4 but is used with 3 indices");
    assert_eq!(
        text, "W_{l+1,left}[dx,dy,i]",
        "the span covers the reference with its index list"
    );
    assert!(
        line >= line_of(r, "L_{l+1,s}"),
        "points at the transcribed equation"
    );
}

#[test]
fn erratum_2_ugcnn_time_index() {
    let r = report("e2_");
    let (line, _col, text, message) = error(r, "E0402");
    assert_eq!(text, "t", "points at the stray t");
    assert!(
        message.contains("`t` in `G_t`") && message.contains("not a loop variable"),
        "{message}"
    );
    assert_eq!(line, line_of(r, "G_t"));
    assert!(r.passed(&Options::default()));
}

#[test]
fn erratum_3_two_gates_stray_factor() {
    let r = report("e3_");
    let (line, _col, text, message) = error(r, "E0202");
    // The first error is the bias read without its index; the stray `R[j]` (rank 3, one
    // index) follows it.
    assert_eq!(text, "B^{GR}");
    assert_eq!(message, "`B^{GR}` has rank 1 but is used with 0 indices");
    assert_eq!(line, line_of(r, "B^{GR} R[j]"));
    assert!(r.passed(&Options::default()));
}

#[test]
fn erratum_4_softmax_index_not_in_argument() {
    let r = report("e4_");
    let (line, _col, _text, message) = error(r, "E0207");
    assert!(message.contains("softmax"), "{message}");
    assert_eq!(line, line_of(r, "softmax"));
    assert!(r.passed(&Options::default()));
}

#[test]
fn errata_5_to_7_are_refuted() {
    // Each wrong answer is refuted by the moments engine with a counterexample (e5: the
    // exponent l instead of l + 1; e6: variance sigma instead of sigma^2; e7:
    // (1 + ln 2 / L)^L taken for 2); Monte Carlo checks it a second time. No
    // `expect refuted` claim comes out proved or confirmed.
    for (prefix, refuted_line) in [
        ("e5_", "Var(L_{l+1}) == (1 + D^2 J sigma_W^2)^l"),
        ("e6_", "Var(y) == 1"),
        ("e7_", "Var(L_L) == 2"),
    ] {
        let r = report(prefix);
        assert_eq!(r.unexpected_errors(), 0, "{}: {:?}", r.path, r.diagnostics);
        let expected: Vec<_> = r.claims.iter().filter(|c| c.expect.is_some()).collect();
        assert!(
            !expected.is_empty(),
            "{}: no `expect refuted` claim",
            r.path
        );
        for c in &expected {
            assert!(
                matches!(c.verdict, Verdict::Refuted | Verdict::Undecided),
                "{}: line {} came out {:?}",
                r.path,
                c.line,
                c.verdict
            );
        }
        let hit = r
            .claims
            .iter()
            .find(|c| c.source.starts_with(refuted_line))
            .unwrap_or_else(|| panic!("{}: no claim `{refuted_line}`", r.path));
        assert_eq!(
            hit.verdict,
            Verdict::Refuted,
            "{}: {}",
            r.path,
            hit.evidence
        );
        // Refuted by the exact moments derivation, with a counterexample.
        assert_eq!(hit.method, Method::Moments, "{}", hit.evidence);
        assert!(hit.evidence.contains("left"), "{}", hit.evidence);
        // Nothing outside the expectations is refuted.
        for c in &r.claims {
            if c.verdict == Verdict::Refuted {
                assert!(
                    c.expect.is_some(),
                    "{}: line {} refuted unexpectedly: {}",
                    r.path,
                    c.line,
                    c.evidence
                );
            }
        }
        assert!(r.passed(&Options::default()));
        if prefix == "e7_" {
            // And the right value of the same model is confirmed by the same trials.
            let right = r
                .claims
                .iter()
                .find(|c| c.source.starts_with("Var(L_L) == 1 + ln(2)"))
                .unwrap();
            assert_eq!(right.verdict, Verdict::Proved, "{}", right.evidence);
        }
    }
}

/// docs/seed-errata.md is what `tq errata problems/errata/` prints: regenerated here from
/// the erratum files (the same checks, seed 0) and compared byte for byte.
#[test]
fn seed_errata_page_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("problems/errata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tq"))
        .collect();
    files.sort();
    let reports: Vec<&FileReport> = files
        .iter()
        .map(|p| {
            let rel = format!(
                "problems/errata/{}",
                p.file_name().unwrap().to_str().unwrap()
            );
            common::shared_report(&rel, "full", common::full)
        })
        .collect();
    let page = tq::errata::markdown(&reports, 0, "problems/errata/");
    // Every erratum is caught, and the page says so with its explanation.
    assert_eq!(page.matches("\n## Erratum ").count(), files.len());
    assert_eq!(page.matches("Caught: yes").count(), files.len(), "{page}");
    assert_eq!(page.matches("**What is right.** (not stated").count(), 0);
    assert_eq!(page.matches("**The seed.** (not stated").count(), 0);
    let on_disk = std::fs::read_to_string(root.join("docs/seed-errata.md")).unwrap_or_default();
    assert!(
        on_disk == page,
        "docs/seed-errata.md is stale: regenerate it with\n  cargo run --release -- errata problems/errata/ > docs/seed-errata.md"
    );
}

#[test]
fn errata_header_sections_are_read() {
    let h = tq::errata::header(
        "# erratum 9: a title\n# source: seed 1\n#   problem 2\n# seed: says x\n# right: y\n#   and z\n# note: hidden\n#   also hidden\nsize n\n# not a header\n",
    );
    assert_eq!(h.title, "9: a title");
    assert_eq!(h.source, "seed 1 problem 2");
    assert_eq!(h.seed, "says x");
    assert_eq!(h.right, "y and z");
}
