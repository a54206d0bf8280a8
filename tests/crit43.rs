//! Session 43 (crit43, probe43 r22, r13, r17, issue #14): generated variants of three
//! classes of wrong verdicts.
//!
//! - A given that sets a scalar leaf (`param c = 1`, `input a ~ normal(m, v)`,
//!   `uniform(lo, hi)`, `bernoulli(q)`) is the leaf's value for the moments engine too:
//!   `E(a) == c given a == c` and `Var(a) == 0 given a == c` are true, the leaf's own
//!   moments under that given false; a given that bounds the leaf (`given a > t`)
//!   conditions its law, so the unconditioned mean is false under it. Before, the
//!   moments engine read the declared law under every such given and proved the false
//!   claims (and refuted the true ones).
//! - `~=` with a tolerance on tensor elements (ranks 1 and 2, offsets and tolerances
//!   in thousandths, at and around the tolerance): true exactly when |offset| <= tol.
//!   The exact element check compared `==` and refuted every true one.
//! - A power of a power at a real exponent (`(a^b)^n`, n even, `a^(b + k)`, `a^(1/b)`):
//!   `(...)^n >= 0` is true wherever it is defined and must not be refuted; the folded
//!   identity `(a^b)^n == a^(n b)` is undefined for a < 0 and must not be proved.
//!
//! `TQ_CRIT43_CASES=120 cargo test --release --test crit43 -- --ignored` runs the long
//! version; `TQ_CRIT43_DUMP=dir` writes every generated file there.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn leaf_name(rng: &mut ChaCha8Rng) -> &'static str {
    ["a", "c0", "keep", "noise", "w2", "g"][rng.random_range(0..6)]
}

/// A scalar leaf set by a given: (source, which claims are false).
fn leaf_file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let n = leaf_name(rng);
    // (declaration, mean, variance, a value in the support other than the mean)
    let (decl, mean, var, c): (String, i64, i64, i64) = match rng.random_range(0..4) {
        0 => {
            let v = rng.random_range(-3..=3);
            let c = v + rng.random_range(1..=4);
            (format!("param {n} = {v}"), v, 0, c)
        }
        1 => {
            let m = rng.random_range(-2..=2);
            let v = rng.random_range(1..=4);
            let c = m + [-3, -1, 2, 5][rng.random_range(0..4)];
            (format!("input {n} ~ normal({m}, {v})"), m, v, c)
        }
        2 => {
            let lo = rng.random_range(-4..=0);
            let hi = lo + 2 * rng.random_range(1..=3);
            // A value in [lo, hi] other than the mean (lo + hi)/2.
            let c = if rng.random_bool(0.5) { lo } else { hi };
            // Var = (hi - lo)^2 / 12, written as a fraction below.
            (
                format!("input {n} ~ uniform({lo}, {hi})"),
                (lo + hi) / 2,
                -(hi - lo),
                c,
            )
        }
        _ => (format!("input {n} ~ bernoulli(1/2)"), -100, -100, 1),
    };
    let (mean_s, var_s) = match (mean, var) {
        (-100, -100) => ("1/2".to_string(), "1/4".to_string()),
        (m, v) if v < 0 => (m.to_string(), format!("{}/12", v * v)),
        (m, v) => (m.to_string(), v.to_string()),
    };
    let z = "zz";
    let mut src = format!("{decl}\ninput {z} ~ normal(0, 1)\ny = {n} {z}\n");
    let mut falsity = Vec::new();
    let mut claim = |src: &mut String, text: String, is_false: bool| {
        if is_false {
            src.push_str("expect refuted\n");
        }
        src.push_str(&format!("claim {text}\n"));
        falsity.push(is_false);
    };
    claim(&mut src, format!("E({n}) == {c} given {n} == {c}"), false);
    claim(
        &mut src,
        format!("E({n}) == {mean_s} given {n} == {c}"),
        true,
    );
    claim(&mut src, format!("Var({n}) == 0 given {n} == {c}"), false);
    if var != 0 {
        claim(
            &mut src,
            format!("Var({n}) == {var_s} given {n} == {c}"),
            true,
        );
    }
    claim(
        &mut src,
        format!("Var(y) == {} given {n} == {c}", c * c),
        false,
    );
    claim(
        &mut src,
        format!("E(y^2) == {} given {n} == {c}", c * c),
        false,
    );
    // The declared second moment, as a fraction over 12 (false unless it is c^2).
    let second12 = match (mean, var) {
        (-100, -100) => 6,
        (m, v) if v < 0 => v * v + 12 * m * m,
        (m, v) => 12 * (v + m * m),
    };
    if second12 != 12 * c * c {
        claim(
            &mut src,
            format!("E(y^2) == ({var_s}) + ({mean_s})^2 given {n} == {c}"),
            true,
        );
    }
    // A bound on a random leaf conditions its law: the unconditioned mean is false.
    if var != 0 {
        claim(
            &mut src,
            format!("E({n}) == {mean_s} given {n} > {mean_s}"),
            true,
        );
    }
    (src, falsity)
}

/// `~=` with a tolerance on elements: (source, which claims are false).
fn approx_file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let t = ["x", "u", "act", "h2"][rng.random_range(0..4)];
    let rank2 = rng.random_bool(0.5);
    let (decl_dims, ix, sample) = if rank2 {
        ("[B,I]", "[b,i]", "sample B = 2, I = 3")
    } else {
        ("[N]", "[n]", "sample N = 3")
    };
    let sizes = if rank2 { "size B, I" } else { "size N" };
    let dist = ["uniform(0, 1)", "normal(0, 1)", "uniform(-2, 2)"][rng.random_range(0..3)];
    let d: i64 = rng.random_range(-9..=9);
    let mut src = format!("{sizes}\ninput {t}{decl_dims} ~ {dist}\ny{ix} = {t}{ix} + {d}/1000\n");
    let mut falsity = Vec::new();
    for _ in 0..4 {
        let tol: i64 = match rng.random_range(0..3) {
            0 => d.abs(),
            1 => d.abs() + rng.random_range(1..=5),
            _ => (d.abs() - rng.random_range(1..=3)).max(1),
        }
        .max(1);
        let is_false = d.abs() > tol;
        if is_false {
            src.push_str("expect refuted\n");
        }
        let tol_text = if rng.random_bool(0.5) {
            format!("{tol}/1000")
        } else {
            format!("{}", tol as f64 / 1000.0)
        };
        src.push_str(&format!("claim y{ix} ~= {t}{ix} tol {tol_text}\n"));
        falsity.push(is_false);
    }
    src.push_str(sample);
    src.push('\n');
    (src, falsity)
}

/// Powers of powers at a real exponent: (source, which claims are false).
fn power_file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let (a, b) = [("a", "b"), ("x", "r"), ("base", "k2")][rng.random_range(0..3)];
    let inner = match rng.random_range(0..4) {
        0 => format!("{a}^{b}"),
        1 => format!("{a}^({b} - 1)"),
        2 => format!("({a} - 2)^{b}"),
        _ => format!("{a}^(1/{b})"),
    };
    let n = [2, 4, 6][rng.random_range(0..3)];
    let src = format!(
        "scalar {a}, {b}\nclaim ({inner})^{n} >= 0\nclaim ({inner})^{n} + 1 > 0\nclaim ({a}^{b})^{n} == {a}^({n} {b})\n"
    );
    // The identity is undefined where a < 0: never proved or confirmed.
    (src, vec![false, false, true])
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dump = std::env::var("TQ_CRIT43_DUMP").ok();
    let mut bad = Vec::new();
    for i in 0..cases {
        let (src, falsity, why) = match i % 3 {
            0 => {
                let (s, f) = leaf_file(&mut rng);
                (s, f, "false: the given sets or bounds the leaf")
            }
            1 => {
                let (s, f) = approx_file(&mut rng);
                (s, f, "false: the difference exceeds the tolerance")
            }
            _ => {
                let (s, f) = power_file(&mut rng);
                (s, f, "undefined where the base is negative")
            }
        };
        let name = format!("crit43_{i}.tq");
        if let Some(dir) = &dump {
            std::fs::write(std::path::Path::new(dir).join(&name), &src).unwrap();
        }
        common::generated::judge(&name, &src, &falsity, why, &mut bad);
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn leaf_givens_element_tolerances_and_powers_of_powers() {
    run(24, 43);
}

#[test]
#[ignore]
fn leaf_givens_element_tolerances_and_powers_of_powers_long() {
    run(common::generated::long_cases("TQ_CRIT43_CASES", 120), 4343);
}
