//! snd41's generator, run by tests/wrong42.rs (wrong42 took the fix up). Verdicts do not depend on the names of loop variables and claim indices (snd41, issue
//! #14 p10/p06: a claim's free index named like a loop variable, `x[b,t]` beside `for t in
//! 1..T-1`, was read over the loop's range only, so the failing position t = 0 was never
//! tried: `E(y[b,t]^2) == 1` with y zero at t = 0 was `confirmed`; renamed `k` it was not).
//!
//! Each generated model has a tensor `y` equal to `x` except at the positions a bracket
//! zeroes (the first r or the last r), a loop over part of T that writes another tensor,
//! and claims of known truth about `y[b,V]`. Three spellings of each file: the claim's
//! index named like the loop variable, the loop variable renamed, and the claim's index
//! a declared `index k : T`. A false claim is never `proved` or `confirmed`, a true one
//! never `refuted`, and no spelling refutes what another proves or confirms.
//! `cargo test --release --test wrong42`; the long run: `TQ_RENAME_CASES=60 cargo
//! test --release --test wrong42 -- --ignored --nocapture`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::report::{check_source, Options};

/// The claims of one file, each with its truth.
fn claims(v: &str, var: &str) -> Vec<(String, bool)> {
    vec![
        (format!("y[b,{v}] == x[b,{v}]"), false),
        (format!("y[b,{v}]^2 <= x[b,{v}]^2"), true),
        (format!("E(y[b,{v}]^2) == {var}"), false),
        (format!("E(y[b,{v}]^2) <= {var}"), true),
        (format!("x[b,{v}]^2 > 0"), false),
        (format!("Var(y[b,{v}]) >= {var}"), false),
        (format!("abs(y[b,{v}]) <= abs(x[b,{v}])"), true),
    ]
}

/// One file: the loop variable `lv`, the claims' index `cv`.
fn file(shape: &Shape, lv: &str, cv: &str) -> String {
    let Shape {
        var,
        mask,
        range,
        t,
    } = shape;
    let mut s = format!(
        "size B, T\nindex k : T\ninput x[B, T] ~ normal(0, {var})\ny[b,t] = [{mask}] x[b,t]\nfor {lv} in {range}:\n  h[b,{lv}] = x[b,{lv}] + 1\n"
    );
    for (c, truth) in claims(cv, var) {
        if !truth {
            s.push_str("expect refuted\n");
        }
        s.push_str(&format!("claim {c}\n"));
    }
    s.push_str(&format!("sample B = 2, T = {t}\n"));
    s
}

struct Shape {
    var: String,
    mask: String,
    range: String,
    t: u32,
}

fn shape(rng: &mut ChaCha8Rng) -> Shape {
    let r = rng.random_range(1..=2);
    let mask = if rng.random_bool(0.5) {
        format!("t >= {r}")
    } else {
        format!("t <= T - {}", r + 1)
    };
    let range = ["1..T-1", "0..T-2", "2..T-1", "1..T-2"][rng.random_range(0..4)].to_string();
    let var = ["1", "2", "1/2"][rng.random_range(0..3)].to_string();
    Shape {
        var,
        mask,
        range,
        t: rng.random_range(4..=6),
    }
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bad = Vec::new();
    for n in 0..cases {
        let sh = shape(&mut rng);
        let spellings = [("t", "t"), ("s", "t"), ("t", "k")];
        let mut verdicts: Vec<Vec<String>> = Vec::new();
        for (lv, cv) in spellings {
            let src = file(&sh, lv, cv);
            // `TQ_RENAME_DUMP=DIR` writes the files out (to run another binary on them).
            if let Ok(dir) = std::env::var("TQ_RENAME_DUMP") {
                let _ = std::fs::write(format!("{dir}/rename_{n}_{lv}_{cv}.tq"), &src);
            }
            let r = check_source(&format!("rename_{n}.tq"), &src, &Options::default());
            assert_eq!(r.unexpected_errors(), 0, "{src}\n{:?}", r.diagnostics);
            let truths: Vec<bool> = claims(cv, &sh.var).into_iter().map(|c| c.1).collect();
            assert_eq!(r.claims.len(), truths.len(), "{src}");
            for (c, truth) in r.claims.iter().zip(&truths) {
                let v = c.verdict.as_str();
                let wrong = if *truth {
                    v == "refuted"
                } else {
                    v == "proved" || v == "confirmed"
                };
                if wrong {
                    bad.push(format!("{src}  `{}` ({truth}): {v}", c.source));
                }
            }
            verdicts.push(
                r.claims
                    .iter()
                    .map(|c| c.verdict.as_str().to_string())
                    .collect(),
            );
        }
        for k in 0..verdicts[0].len() {
            let vs: Vec<&str> = verdicts.iter().map(|v| v[k].as_str()).collect();
            let holds = vs.iter().any(|v| *v == "proved" || *v == "confirmed");
            let fails = vs.contains(&"refuted");
            if holds && fails {
                bad.push(format!(
                    "{}  claim {k}: the spellings disagree: {vs:?}",
                    file(&sh, "t", "t")
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn verdicts_do_not_depend_on_loop_and_index_names() {
    run(6, 41);
}

#[test]
#[ignore]
fn verdicts_do_not_depend_on_loop_and_index_names_long() {
    let cases = std::env::var("TQ_RENAME_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    run(cases, 4141);
}
