//! Derivation blocks: a planted wrong step in a seed's transcription is refuted at its
//! own line with the values that disprove it; the derivation diagnostics; the printer
//! round trip; and every example of docs/derivations.md checks.

use std::path::Path;
use tq::claims::Verdict;
use tq::report::{check_source, Options};
use tq::syntax::{parser, printer};

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The value after `key ` up to the next `,` or `;` or `:` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in {text}"))
        + key.len();
    let rest = &text[at..];
    let end = rest.find([',', ';', ' ', ':']).unwrap_or(rest.len());
    rest[..end]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number after `{key}` in {text}"))
}

#[test]
fn a_step_with_a_dropped_factor_is_refuted_at_its_line_and_the_others_still_hold() {
    let good = read("problems/worked_004.tq");
    let right = "  = M sigma^2 Var(y_{k-1})";
    let wrong = "  = sigma^2 Var(y_{k-1})  ";
    assert_eq!(good.matches(right).count(), 1);
    let line = good[..good.find(right).unwrap()].lines().count() + 1;
    let src = good.replace(right, wrong);
    let r = check_source("planted.tq", &src, &Options::default());
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert!(!r.passed(&Options::default()));
    let refuted: Vec<_> = r
        .claims
        .iter()
        .filter(|c| c.verdict == Verdict::Refuted && c.expect.is_none())
        .collect();
    assert_eq!(
        refuted.len(),
        1,
        "{:?}",
        refuted.iter().map(|c| &c.source).collect::<Vec<_>>()
    );
    let c = refuted[0];
    assert_eq!(c.line, line, "{}", c.source);
    assert!(c.column > 1);
    assert!(c.source.contains("var_c step 4"), "{}", c.source);
    // The evidence names a point and both sides there; they differ by the dropped M.
    let m = number_after(&c.evidence, "M = ");
    let left = number_after(&c.evidence, "left ");
    let right_v = number_after(&c.evidence, "right ");
    assert!(left != right_v, "{}", c.evidence);
    assert!(
        (left - m * right_v).abs() <= 1e-9 * left.abs(),
        "{}",
        c.evidence
    );
    // Monte Carlo refutes it too, at the witness's point (the dropped factor is M there).
    let tq::claims::Outcome {
        verdict: v,
        evidence: ev,
        ..
    } = c.numeric.as_ref().expect("a second, numeric check");
    assert_eq!(*v, Verdict::Refuted, "{ev}");
    assert!(ev.starts_with("at the witness ("), "{ev}");
    let mw = number_after(ev, "M = ");
    let (l, rr) = (number_after(ev, "left "), number_after(ev, "right "));
    assert!(
        (l / rr - mw).abs() < 0.25 * mw,
        "left/right should be about M = {mw}: {ev}"
    );
    // Every other step of the file is still proved or confirmed (the seed's own wrong
    // reason, `expect refuted`, still refuted).
    for o in r.claims.iter().filter(|o| o.line != line) {
        match o.expect {
            Some(_) => assert_eq!(o.verdict, Verdict::Refuted, "{}", o.source),
            None => assert!(
                matches!(o.verdict, Verdict::Proved | Verdict::Confirmed),
                "{}: {:?} {}",
                o.source,
                o.verdict,
                o.evidence
            ),
        }
    }
    // Marked `expect refuted`, the planted step lets the file pass.
    let marked = good.replace(right, &format!("  expect refuted\n{wrong}"));
    let r = check_source("marked.tq", &marked, &Options::default());
    assert!(r.passed(&Options::default()), "{:?}", r.diagnostics);
}

fn codes_at(src: &str) -> Vec<(String, usize, usize, bool)> {
    let r = check_source("d.tq", src, &Options::default());
    r.diagnostics
        .iter()
        .map(|d| {
            let (l, c) = d.line_col(src);
            (d.code.to_string(), l, c, d.hint.is_some())
        })
        .collect()
}

const HEAD: &str = "size M\nsymbol sigma\nparam w[M] ~ normal(0, sigma^2)\n";

#[test]
fn an_unknown_rule_is_e0703_at_the_rule() {
    let src = format!("{HEAD}derivation v:\n  Var(w)\n  = sigma^2   by magic\n");
    assert_eq!(codes_at(&src), vec![("E0703".to_string(), 6, 18, true)]);
}

#[test]
fn an_empty_derivation_is_e0702() {
    for body in [
        "derivation v:\n  Var(w)\n",
        "derivation v:\nclaim Var(w) == sigma^2\n",
    ] {
        let src = format!("{HEAD}{body}");
        let got = codes_at(&src);
        assert_eq!(got, vec![("E0702".to_string(), 4, 1, true)], "{src}");
    }
}

#[test]
fn a_misplaced_relation_is_e0701() {
    let src = format!("{HEAD}derivation v:\n  = Var(w)\n  = sigma^2   by declared\n");
    assert_eq!(codes_at(&src), vec![("E0701".to_string(), 5, 3, true)]);
    let src = format!("{HEAD}derivation v:\n  Var(w)\n  sigma^2   by declared\n");
    let got = codes_at(&src);
    assert!(got.contains(&("E0701".to_string(), 6, 3, true)), "{got:?}");
}

#[test]
fn an_expect_without_a_step_is_e0004() {
    let src =
        format!("{HEAD}derivation v:\n  Var(w)\n  = sigma^2   by declared\n  expect refuted\n");
    assert_eq!(codes_at(&src), vec![("E0004".to_string(), 7, 3, true)]);
    let src =
        format!("{HEAD}derivation v:\n  expect refuted\n  Var(w)\n  = sigma^2   by declared\n");
    assert_eq!(codes_at(&src), vec![("E0004".to_string(), 5, 3, true)]);
}

#[test]
fn derivations_print_and_parse_back_unchanged() {
    let src = "size M\nsymbol a, b\nderivation d given a = 0, b > 0:\n  a + b\n  == b   by given\n  <= 2 b\n  >= b   by algebra\n  expect refuted\n  < 0\n  > -1   by algebra\n  ~= -1\n";
    let first = parser::parse(src);
    let printed = printer::print_program(&first.program);
    let second = parser::parse(&printed);
    assert!(
        second.diagnostics.is_empty(),
        "{:?}\n{printed}",
        second.diagnostics
    );
    assert_eq!(
        printer::without_spans(&first.program),
        printer::without_spans(&second.program),
        "{printed}"
    );
    assert!(printed.contains("expect refuted"), "{printed}");
    assert!(printed.contains("given a == 0, b > 0"), "{printed}");
}

#[test]
fn a_monte_carlo_check_of_sides_equal_in_every_trial_is_not_refuted_by_rounding() {
    let src = "size M, K\nindex i, j : M\nsymbol sigma\nparam W_k[M, M] ~ normal(0, sigma^2) for k in 1..K\ninput y_0[M] ~ normal(0, 1)\nfor k in 1..K:\n  y_k[j] = W_k[j, I] y_{k-1}[I]\nclaim M sigma^2 Var(y_{k-1}) == Var(y_{k-1}) given sigma^2 = 1/M\nsample M = 8, K = 3, sigma = 0.3\n";
    let r = check_source("rounding.tq", src, &Options::default());
    let c = &r.claims[0];
    let tq::claims::Outcome {
        verdict: v,
        evidence: ev,
        ..
    } = c.numeric.as_ref().expect("a Monte Carlo check");
    assert_ne!(*v, Verdict::Refuted, "{ev}");
    assert_eq!(c.verdict, Verdict::Proved, "{}", c.evidence);
}

#[test]
fn monte_carlo_does_not_read_a_sum_over_a_capital_index_as_one_element() {
    let src = "size M\nindex i : M\nsymbol mu, chi\ninput x[M] ~ moments(mu, chi)\nclaim Var(x[I]) == M Var(x[i])\nsample M = 8, mu = 0.5, chi = 1.25\n";
    let r = check_source("sum.tq", src, &Options::default());
    let c = &r.claims[0];
    assert_eq!(c.verdict, Verdict::Proved, "{}", c.evidence);
    let tq::claims::Outcome {
        verdict: v,
        evidence: ev,
        ..
    } = c.numeric.as_ref().expect("a Monte Carlo check");
    assert_eq!(*v, Verdict::Undecided, "{ev}");
    assert!(ev.contains("capital index"), "{ev}");
}

/// The ```tq blocks of docs/derivations.md, each with the rule its section is about.
fn doc_examples() -> Vec<(String, String)> {
    let doc = read("docs/derivations.md");
    let mut out = Vec::new();
    let mut rule = None;
    let mut block: Option<String> = None;
    for line in doc.lines() {
        if let Some(r) = line.strip_prefix("### ") {
            rule = Some(r.trim().to_string());
        } else if line.starts_with("```tq") {
            block = Some(String::new());
        } else if line.starts_with("```") {
            if let (Some(b), Some(r)) = (block.take(), rule.clone()) {
                out.push((r, b));
            }
        } else if let Some(b) = block.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

#[test]
fn every_rule_has_a_documented_example_whose_steps_all_hold() {
    let examples = doc_examples();
    for (rule, _) in tq::syntax::ast::DERIVATION_RULES {
        assert!(
            examples.iter().any(|(r, _)| r == rule),
            "docs/derivations.md has no example for `{rule}`"
        );
    }
    for (rule, src) in &examples {
        assert!(
            src.contains(&format!("by {rule}")),
            "the `{rule}` example does not use it:\n{src}"
        );
        let r = check_source("example.tq", src, &Options::default());
        assert!(r.diagnostics.is_empty(), "{rule}: {:?}", r.diagnostics);
        assert!(!r.claims.is_empty(), "{rule}: no steps");
        for c in &r.claims {
            assert!(
                matches!(c.verdict, Verdict::Proved | Verdict::Confirmed),
                "{rule}: {} is {:?}: {}",
                c.source,
                c.verdict,
                c.evidence
            );
        }
    }
}
