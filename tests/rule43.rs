//! rule43 (issue #14, probe43 r01, r16): update-rule claims read the givens that set a
//! rule's start in the claim's own text (one substitution with the unrolled rules), and
//! read the point in force (`at` lines, a claim's own `at`) as settings. Before, a start
//! set by a given stayed free in the claim's text (`M.v[0] == 0 given M.v[0] == 0` was
//! refuted at M.v[0] = 8), and `at eta = 1/10` was ignored (a claim true there was
//! refuted at eta = 8/11).
//!
//! A generator of the class: SGD, heavy-ball momentum, an EMA and SGD with weight decay;
//! starts set to several values; the hyperparameter set by a claim's own `at`, by a file
//! `at` line or by a given; true claims (the symbolic one-step formula, the formula at
//! the point) and false ones (off by one, the formula at another point).

mod common;

use common::generated::judge;

/// (rule declaration, qualified state, one-step formula in `{s}` (the start) with the
/// hyperparameter `{p}` and its name).
const RULES: &[(&str, &str, &str, &str)] = &[
    (
        "rule S over t:\n  theta[t+1] = theta[t] - eta g[t]\n",
        "S.theta",
        "{s} - {p} g[0]",
        "eta",
    ),
    (
        "rule M over t:\n  v[t+1] = mu v[t] + g[t]\n  theta[t+1] = theta[t] - eta v[t+1]\n",
        "M.v",
        "{p} {s} + g[0]",
        "mu",
    ),
    (
        "rule E over t:\n  m[t+1] = beta m[t] + (1 - beta) g[t]\n",
        "E.m",
        "{p} {s} + (1 - {p}) g[0]",
        "beta",
    ),
    (
        "rule W over t:\n  w[t+1] = (1 - eta lambda) w[t] - eta g[t]\n",
        "W.w",
        "(1 - eta {p}) {s} - eta g[0]",
        "lambda",
    ),
];

/// The starts a given sets (never 0, so that the hyperparameter reaches every formula).
const STARTS: &[&str] = &["1", "-2", "3/4", "5"];
/// The hyperparameter's point and another value.
const POINTS: &[(&str, &str)] = &[("1/10", "1/5"), ("1/2", "3/4"), ("9/10", "1/3")];

fn formula(f: &str, start: &str, p: &str) -> String {
    // Parenthesized: `9/10 M.v[0]` reads as 9/(10 M.v[0]).
    f.replace("{s}", &format!("({start})"))
        .replace("{p}", &format!("({p})"))
}

#[test]
fn starts_and_points_of_update_rule_claims() {
    let mut bad = Vec::new();
    let mut files = 0;
    for (k, (rule, state, f, p)) in RULES.iter().enumerate() {
        for (i, start) in STARTS.iter().enumerate() {
            let (at, other) = POINTS[(i + k) % POINTS.len()];
            let s0 = format!("{state}[0]");
            let s1 = format!("{state}[1]");
            let given = format!("given {s0} == {start}");
            let mut src = String::from("symbol eta, mu, beta, lambda\n");
            src.push_str(rule);
            let mut falses = Vec::new();
            let mut claim = |src: &mut String, text: String, is_false: bool| {
                src.push_str(&format!("claim {text}\n"));
                falses.push(is_false);
            };
            // The start in the claim's text and in the rules.
            claim(&mut src, format!("{s0} == {start} {given}"), false);
            claim(&mut src, format!("{s0} == {s0} {given}"), false);
            claim(
                &mut src,
                format!("{s1} == {} {given}", formula(f, &s0, p)),
                false,
            );
            claim(
                &mut src,
                format!("{s1} == {} {given}", formula(f, start, p)),
                false,
            );
            claim(
                &mut src,
                format!("{s1} == {} + 1 {given}", formula(f, &s0, p)),
                true,
            );
            claim(&mut src, format!("{s0} == {start} + 1 {given}"), true);
            // The point: the claim's own `at`, then a file `at` line.
            let at_text = format!("at {p} = {at}");
            claim(
                &mut src,
                format!("{s1} == {} {at_text}", formula(f, &s0, at)),
                false,
            );
            claim(
                &mut src,
                format!("{s1} == {} {at_text}", formula(f, &s0, other)),
                true,
            );
            claim(
                &mut src,
                format!("{s1} == {} {given} {at_text}", formula(f, start, at)),
                false,
            );
            src.push_str(&format!("{at_text}\n"));
            claim(&mut src, format!("{s1} == {}", formula(f, &s0, at)), false);
            claim(
                &mut src,
                format!("{s1} == {}", formula(f, &s0, other)),
                true,
            );
            // A given sets the name: the given's value, whatever the `at` line says.
            claim(
                &mut src,
                format!("{s1} == {} given {p} == {other}", formula(f, &s0, other)),
                false,
            );
            claim(
                &mut src,
                format!("{s1} == {} given {p} == {other}", formula(f, &s0, at)),
                true,
            );
            src.push_str("sample eta = 0.1, mu = 0.9, beta = 0.9, lambda = 0.01\n");
            judge(
                &format!("rule43_{k}_{i}.tq"),
                &src,
                &falses,
                "false at the start and point its givens and `at` set",
                &mut bad,
            );
            files += 1;
        }
    }
    assert!(files >= 16);
    assert!(
        bad.is_empty(),
        "{} wrong verdicts:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
