//! A generator of `min(T)` / `max(T)` claims about computed tensors and gradients
//! (wrong41, issue #14 item 1, p02/p09). The extreme of a value the model computes (a
//! layer `y = a x + c`, `tanh`, `relu`, a gradient of `± Σ x² / 2`) was an atom named
//! after the tensor alone and filled in from drawn values of elements the model computes:
//! `max(y) >= y[0]` of `y = 2 x - 1` was refuted, `max(x.grad) >= x[0]` of
//! `L = -Σ x²/2` (x.grad = -x) proved.
//!
//! Each file states, for a random value of rank 1 or 2, a random function and sign, the
//! true `max(T) >= T[k]`, `min(T) <= T[k]`, `max(T) >= min(T)` (never `refuted`) and the
//! false `max(T) <= T[k] - 1`, `min(T) >= T[k] + 1` (never `proved` or `confirmed`).
//! `cargo test --release --test wrong41_extremes` runs 10 files (fixed seed); the long run:
//! `TQ_W41_CASES=200 cargo test --release --test wrong41_extremes -- --ignored`.

mod common;

use common::generated::{judge, long_cases};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated file's source and the number of its true claims (stated first).
fn file(rng: &mut ChaCha8Rng) -> (String, usize) {
    let rank2 = rng.random_bool(0.5);
    let (decl, ix, el, sample) = if rank2 {
        (
            "size B, J\ninput x[B, J] ~ normal(0, 1)\n",
            "b,j",
            "1,0",
            "sample B = 2, J = 2",
        )
    } else {
        (
            "size J\ninput x[J] ~ normal(0, 1)\n",
            "j",
            "1",
            "sample J = 3",
        )
    };
    let a = [-3, -2, -1, 1, 2, 3][rng.random_range(0..6)];
    let c = rng.random_range(-2..=2);
    let f = ["", "tanh", "relu", "sigmoid"][rng.random_range(0..4)];
    let (model, t) = if rng.random_bool(0.3) {
        let s = if rng.random_bool(0.5) { "-" } else { "" };
        let sum = if rank2 {
            "sum_{b,j}(x[b,j]^2)"
        } else {
            "sum_{j}(x[j]^2)"
        };
        (format!("L = {s}{sum} / 2\n"), "x.grad".to_string())
    } else {
        (
            format!("y[{ix}] = {f}({a} x[{ix}] + {c})\n"),
            "y".to_string(),
        )
    };
    let e = format!("{t}[{el}]");
    let claims = format!(
        "claim max({t}) >= {e}\nclaim min({t}) <= {e}\nclaim max({t}) >= min({t})\nexpect refuted\nclaim max({t}) <= {e} - 1\nexpect refuted\nclaim min({t}) >= {e} + 1\n"
    );
    (format!("{decl}{model}{claims}{sample}\n"), 3)
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bad = Vec::new();
    for n in 0..cases {
        let (src, trues) = file(&mut rng);
        let false_claims: Vec<bool> = (0..trues + 2).map(|i| i >= trues).collect();
        let name = format!("w41_extremes_{n}.tq");
        judge(&name, &src, &false_claims, "false extreme", &mut bad);
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn extremes_of_computed_values() {
    run(10, 41);
}

#[test]
#[ignore]
fn extremes_of_computed_values_long() {
    run(long_cases("TQ_W41_CASES", 200), 4141);
}
