//! A generator of summed capitals inside parenthesized groups (issue #14, grad37): random
//! small right-hand sides in which the capitals `J` and `K` are summed inside groups, shared
//! by two groups of one product, or read outside the groups too, under powers, products,
//! quotients, `tanh` and `exp`, and groups nested in groups. Each model is derived and its
//! backward program (scatter and gather form) checked against central finite differences
//! (`tq::num::gradcheck`) for every leaf. A copy of a group in a derivative that changed
//! the scope of one of its capitals (probe36 b25/b26, grad37 items 1 and 2) fails the check.
//! `TQ_GRAD_GROUPS_MODELS` sets the number of models (120 by default).
//!
//! OPEN (grad37): with `tanh`/`exp` factors the generator finds wrong gradients of another
//! sub-class: a copy of a call (`exp(a[b,J] e[b,K] m[b] - 1)`, or the `y` of tanh' = 1 - y^2)
//! keeps its argument's own capitals, and a factor of the derivative reading the same
//! capital outside the call (`(a[b,J] e[b,K]/8)`) makes the term sum it, inside the call
//! too. 74 of 120 models with calls fail (on the session's base binary as well). The
//! test with calls is `#[ignore]`d until that is fixed: `cargo test --release --test
//! grad_groups -- --ignored`. Repros: /work/reports/grad37_open/.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::report::{check_source, Options};

/// A factor of a term: a read, a group, or a function of a group.
fn factor(rng: &mut ChaCha8Rng, depth: u32, calls: bool) -> String {
    let reads = ["a[b,J]", "m[b]", "e[b,K]", "c[b]", "a[b,J]", "e[b,K]"];
    if depth == 0 || rng.random_range(0..3) == 0 {
        return reads[rng.random_range(0..reads.len())].to_string();
    }
    let g = group(rng, depth - 1, calls);
    match rng.random_range(0..if calls { 5 } else { 3 }) {
        0 => g,
        1 => format!("{g}^2"),
        2 => format!("{g}^3"),
        3 => format!("tanh({g})"),
        _ => format!("exp({g} / 8)"),
    }
}

/// A parenthesized sum of one or two products and perhaps a constant.
fn group(rng: &mut ChaCha8Rng, depth: u32, calls: bool) -> String {
    let mut s = format!("({}", term(rng, depth, calls));
    let op = if rng.random_bool(0.5) { "+" } else { "-" };
    if rng.random_bool(0.6) {
        s.push_str(&format!(" {op} {}", term(rng, depth, calls)));
    } else {
        s.push_str(&format!(" {op} 1"));
    }
    s.push(')');
    s
}

/// A product of one to three factors, perhaps over a group.
fn term(rng: &mut ChaCha8Rng, depth: u32, calls: bool) -> String {
    let n = rng.random_range(1..=3);
    let mut s = (0..n)
        .map(|_| factor(rng, depth, calls))
        .collect::<Vec<_>>()
        .join(" ");
    if depth > 0 && rng.random_range(0..4) == 0 {
        s = format!("{s} / ({}^2 + 1)", group(rng, depth - 1, calls));
    }
    s
}

fn model(rng: &mut ChaCha8Rng, calls: bool) -> String {
    // The right side holds at least one group.
    let mut rhs = term(rng, 2, calls);
    while !rhs.contains('(') {
        rhs = term(rng, 2, calls);
    }
    if rng.random_bool(0.3) {
        rhs = format!("{rhs} + {}", term(rng, 1, calls));
    }
    format!(
        "size B, J, K
param a[B, J] ~ normal(0, 1/4)
param e[B, K] ~ normal(0, 1/4)
param m[B] ~ normal(0, 1/4)
input c[B] ~ normal(0, 1/4)
r[b] = {rhs}
loss = sum_{{b}}(r[b])
sample B = 2, J = 3, K = 2
"
    )
}

/// Groups under powers, products and quotients, nested (the class fixed in grad36/37).
#[test]
fn summed_capitals_in_groups_pass_gradcheck() {
    run(false);
}

/// The same with `tanh` and `exp` of groups: OPEN (see the module comment).
#[test]
#[ignore]
fn summed_capitals_in_groups_and_calls_pass_gradcheck() {
    run(true);
}

fn run(calls: bool) {
    let n: u64 = std::env::var("TQ_GRAD_GROUPS_MODELS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let opts = Options {
        no_monte_carlo: true,
        ..Options::default()
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for seed in 0..n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let src = model(&mut rng, calls);
        let r = check_source("group.tq", &src, &opts);
        if r.unexpected_errors() > 0 {
            failures.push(format!("seed {seed}: errors {:?}\n{src}", r.diagnostics));
            continue;
        }
        if r.gradcheck.is_empty() {
            // Not run (an overflow, or nothing to check): says why, never passes silently.
            assert!(
                r.gradcheck_skipped.is_some(),
                "seed {seed}: no gradient check and no reason\n{src}"
            );
            continue;
        }
        checked += 1;
        for g in &r.gradcheck {
            if !g.passed {
                failures.push(format!(
                    "seed {seed}: {} relative error {:e}\n{src}",
                    g.tensor, g.max_rel_error
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked * 10 >= n * 9,
        "only {checked} of {n} models checked"
    );
}
