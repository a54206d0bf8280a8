//! A generator of summed capitals inside parenthesized groups (issue #14, grad37/38): random
//! small right-hand sides in which the capitals `J` and `K` are summed inside groups, shared
//! by two groups of one product, or read outside the groups too, under powers, products,
//! quotients, functions (`tanh`, `exp`, `sigmoid`, `relu`, `softplus`, `abs`, `ln`, `sqrt`,
//! fractional powers) and groups nested in groups. Each model is derived and its backward
//! program (scatter and gather form) checked against central finite differences
//! (`tq::num::gradcheck`) for every leaf. A copy of a group in a derivative that changed
//! the scope of one of its capitals (probe36 b25/b26, grad37 items 1 and 2) fails the check,
//! and so does a copy of a call whose argument sums a capital that a factor beside the copy
//! reads too (grad38: `exp((a[b,J] e[b,K] m[b] - 1)/8) (a[b,J] e[b,K]/8)` summed J and K over
//! the product, inside the copied call as well; 74 of 120 models with `tanh`/`exp` failed).
//! `TQ_GRAD_GROUPS_MODELS` sets the number of models (120 by default).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::report::{check_source, Options};

/// A factor of a term: a read, a group, or a function of a group.
fn factor(rng: &mut ChaCha8Rng, depth: u32, calls: bool) -> String {
    // `w[J,K]` reads both capitals at once (a capital shared with `a` and `e`).
    let reads = [
        "a[b,J]", "m[b]", "e[b,K]", "c[b]", "a[b,J]", "e[b,K]", "w[J,K]",
    ];
    if depth == 0 || rng.random_range(0..3) == 0 {
        return reads[rng.random_range(0..reads.len())].to_string();
    }
    let g = group(rng, depth - 1, calls);
    match rng.random_range(0..if calls { 13 } else { 3 }) {
        0 => g,
        1 => format!("{g}^2"),
        2 => format!("{g}^3"),
        3 => format!("tanh({g})"),
        4 => format!("exp({g} / 8)"),
        5 => format!("sigmoid({g})"),
        // Off the kink when the group is identically 0 (`(x - x)`): there the gradient
        // check rightly fails with "every direction crosses a kink" (no derivative).
        6 => format!("relu({g} + 1/3)"),
        7 => format!("softplus({g})"),
        8 => format!("abs({g} - 1/3)"),
        // Functions defined for positive arguments only, of a positive group.
        9 => format!("ln({g}^2 + 1)"),
        10 => format!("sqrt({g}^2 + 1)"),
        11 => format!("({g}^2 + 1)^(3/2)"),
        _ => format!("({g}^2 + 1)^(-1/2)"),
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
param w[J, K] ~ normal(0, 1/4)
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

/// The same with functions of groups (copies of calls, grad38).
#[test]
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
