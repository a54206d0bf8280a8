//! Session 43 (given43, issue #14, probe42 r04 and r01): claims the sampled checks never
//! reached.
//!
//! - Gradient claims under a whole-tensor given (`given U == c W`), with a loss made of a
//!   positively homogeneous function of degree d (abs, relu: 1; a square: 2) of each
//!   tensor: U.grad = c^(d-1) W.grad for every c > 0. At `sample c = 1` every factor
//!   c^e is 1, so a claim with the wrong power of c, or with a size's factor at its
//!   sample value, holds on the one run main's binary made (`confirmed`). Each false claim
//!   must not be `confirmed` or `proved`, each true twin must not be `refuted`. Names,
//!   ranks, functions, the symbol's domain (positive, or a location with `c > 0` given)
//!   and the given's form (`U == c W`, `U == W` with a size factor, an unrelated `q == W`)
//!   vary.
//! - `invariant(y, c)` where y switches at a threshold that is an even, nonlinear function
//!   of c (`[c c > T]`, `[c^4 > T]`, `[sqrt(c c + 1) > T]`, through a computed `s = c c`)
//!   placed away from the program's numbers and beyond the shifts: `confirmed` on main's
//!   binary. The true twin (a bracket that holds for every c) must not be `refuted`.
//!
//! `TQ_GIVEN43_CASES=200 cargo test --release --test given43 -- --ignored` runs the long
//! version; `TQ_GIVEN43_DUMP=dir` writes every generated file there (to run another
//! binary on them).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A file of gradient claims under a whole-tensor given: (source, which claims are false).
fn tensor_given_file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let pairs = [
        ("W", "U"),
        ("A", "B"),
        ("Wq", "Wk"),
        ("V", "Z"),
        ("M1", "M2"),
    ];
    let (w, u) = pairs[rng.random_range(0..pairs.len())];
    let sizes = [("J", "j"), ("N", "n"), ("K", "k"), ("D", "d")];
    let (s1, i1) = sizes[rng.random_range(0..sizes.len())];
    let rank2 = rng.random_bool(0.5);
    let (s2, i2) = if s1 == "H" { ("G", "g") } else { ("H", "h") };
    let (dims, ix, sum) = if rank2 {
        (
            format!("{s1},{s2}"),
            format!("{i1},{i2}"),
            format!("{i1},{i2}"),
        )
    } else {
        (s1.to_string(), i1.to_string(), i1.to_string())
    };
    let c = ["c", "k2", "alpha", "s"][rng.random_range(0..4)];
    let signed = rng.random_bool(0.3);
    // f and its degree of homogeneity.
    let (f, d): (fn(&str) -> String, i32) = match rng.random_range(0..3) {
        0 => (|x| format!("abs({x})"), 1),
        1 => (|x| format!("relu({x})"), 1),
        _ => (|x| format!("{x}^2"), 2),
    };
    let sample_s1 = rng.random_range(2..=4);
    let mut src = String::new();
    src += &format!(
        "size {s1}{}\nsymbol {c}\n",
        if rank2 {
            format!(", {s2}")
        } else {
            String::new()
        }
    );
    src += &format!("param {w}[{dims}] ~ normal(0, 1)\nparam {u}[{dims}] ~ normal(0, 1)\n");
    src += &format!("input r[{dims}] ~ normal(0, 1)\ninput q[{dims}] ~ normal(0, 1)\n");
    let mut loss = format!(
        "sum_{{{sum}}}(r[{ix}] {}) + sum_{{{sum}}}(r[{ix}] {})",
        f(&format!("{w}[{ix}]")),
        f(&format!("{u}[{ix}]"))
    );
    if signed {
        src += &format!("input z[{dims}] ~ normal(0, 1)\no[{ix}] = z[{ix}] + {c}\n");
        loss += &format!(" + sum_{{{sum}}}(o[{ix}])");
    }
    src += &format!("Loss = {loss}\n");
    let pos = if signed {
        format!(", {c} > 0")
    } else {
        String::new()
    };
    let mut falsity = Vec::new();
    // U.grad = c^(d-1) W.grad.
    let true_factor = if d == 1 {
        String::new()
    } else {
        format!("{c} ")
    };
    let wrong_factor = if d == 1 {
        ["1/", "1/2 "][rng.random_range(0..2)]
    } else {
        ["", "1/"][rng.random_range(0..2)]
    };
    let wrong = match wrong_factor {
        "1/" => format!("{w}.grad[{ix}]/{c}"),
        "1/2 " => format!("{w}.grad[{ix}]/{c}^2"),
        _ => format!("{w}.grad[{ix}]"),
    };
    src += &format!("expect refuted\nclaim {u}.grad[{ix}] == {wrong} given {u} == {c} {w}{pos}\n");
    falsity.push(true);
    src +=
        &format!("claim {u}.grad[{ix}] == {true_factor}{w}.grad[{ix}] given {u} == {c} {w}{pos}\n");
    falsity.push(false);
    // An unrelated given: the gradient of W read with c at its sample value.
    let (plain, scaled) = if d == 1 {
        let sign = if f("x").starts_with("abs") {
            format!("[{w}[{ix}] > 0] - r[{ix}] [{w}[{ix}] < 0]")
        } else {
            format!("[{w}[{ix}] > 0]")
        };
        (format!("r[{ix}] {sign}"), None::<String>)
    } else {
        (format!("2 r[{ix}] {w}[{ix}]"), None)
    };
    let _ = scaled;
    // Loss times c: the claim without c holds only at the sample c = 1.
    src = src.replace(&format!("Loss = {loss}"), &format!("Loss = {c} ({loss})"));
    src += &format!("expect refuted\nclaim {w}.grad[{ix}] == {plain} given q == {w}\n");
    falsity.push(true);
    src += &format!("claim {w}.grad[{ix}] == {c} ({plain}) given q == {w}\n");
    falsity.push(false);
    src += &format!(
        "sample {s1} = {sample_s1}{}, {c} = 1\n",
        if rank2 {
            format!(", {s2} = 2")
        } else {
            String::new()
        }
    );
    (src, falsity)
}

/// A file of `invariant` claims whose threshold is an even, nonlinear function of the
/// leaf: (source, which claims are false).
fn invariant_file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let leaf = ["c", "g", "beta", "tau"][rng.random_range(0..4)];
    let (size, ix) = [("N", "n"), ("K", "k"), ("B", "b")][rng.random_range(0..3)];
    // |leaf| at the switch, away from the shifts (<= 40) and from the written numbers.
    let at: f64 = rng.random_range(45.0..400.0);
    let (cond, computed) = match rng.random_range(0..4) {
        0 => (format!("[{leaf} {leaf} > {}]", (at * at).round()), None),
        1 => (format!("[{leaf}^4 > {}]", (at.powi(4)).round()), None),
        2 => (
            format!("[sqrt({leaf} {leaf} + 1) > 3*{}]", (at / 3.0).round()),
            None,
        ),
        _ => (
            format!("[sq > {}]", (at * at).round()),
            Some(format!("sq = {leaf} {leaf}\n")),
        ),
    };
    let dist = ["~ normal(0, 1)", ""][rng.random_range(0..2)];
    let mut src = format!("size {size}\ninput x[{size}] ~ normal(0, 1)\ninput {leaf} {dist}\n");
    if let Some(c) = &computed {
        src += c;
    }
    src += &format!("y[{ix}] = x[{ix}] {cond}\n");
    src += &format!("w[{ix}] = x[{ix}] [{leaf} {leaf} + 1 > 0]\n");
    src += "expect refuted\nclaim invariant(y, ";
    src += leaf;
    src += ")\n";
    src += &format!("claim invariant(w, {leaf})\nsample {size} = 3\n");
    (src, vec![true, false])
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dump = std::env::var("TQ_GIVEN43_DUMP").ok();
    let mut bad = Vec::new();
    for i in 0..cases {
        let (src, falsity) = match i % 2 {
            0 => tensor_given_file(&mut rng),
            _ => invariant_file(&mut rng),
        };
        let name = format!("given43_{i}.tq");
        if let Some(dir) = &dump {
            std::fs::write(std::path::Path::new(dir).join(&name), &src).unwrap();
        }
        common::generated::judge(
            &name,
            &src,
            &falsity,
            "false away from the sample point or across an even threshold",
            &mut bad,
        );
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn whole_tensor_givens_and_even_thresholds() {
    run(24, 43);
}

#[test]
#[ignore]
fn whole_tensor_givens_and_even_thresholds_long() {
    run(common::generated::long_cases("TQ_GIVEN43_CASES", 200), 4343);
}
