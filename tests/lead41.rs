//! Session 41 (probe41): claims false only at a point the claim's own expression names,
//! and a closed form with a condition on several names.
//!
//! - A generator of one-variable claims false only in a window around a centre c far from
//!   the origin (|c| from 13 to 10^6), the centre of a function's argument (`sigmoid(z -
//!   c)`, `tanh(z - c)`, `exp(-(z - c)^2)`, `relu(z - c)`, `abs(k z - k c)`): each false
//!   claim was `confirmed` before (the grid covers [−12, 12] and powers of two to 1024);
//!   each true twin must not be `refuted`. `TQ_CENTRES_CASES=400 cargo test --release
//!   --test lead41 -- --ignored` runs the long version.
//! - `tq derive` of a ReLU net with biases prints its closed form's condition `d*v/2 - 1
//!   != 0` and the form at He initialisation (q08).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated file: (source, which claims are false).
fn file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let c: i64 = match rng.random_range(0..3) {
        0 => rng.random_range(13..=200),
        1 => -rng.random_range(13..=5000),
        _ => rng.random_range(1000..=1_000_000),
    };
    let arg = if c >= 0 {
        format!("z - {c}")
    } else {
        format!("z + {}", -c)
    };
    let (falsely, truly) = match rng.random_range(0..5) {
        0 => (
            format!("sigmoid({arg}) (1 - sigmoid({arg})) < 1/5"),
            format!("sigmoid({arg}) (1 - sigmoid({arg})) <= 1/4"),
        ),
        1 => (
            format!("tanh({arg})^2 > 1/10"),
            format!("tanh({arg})^2 < 1"),
        ),
        2 => (
            format!("exp(-({arg})^2) < 1/2"),
            format!("exp(-({arg})^2) <= 1"),
        ),
        3 => (format!("relu({arg}) == 0"), format!("relu({arg}) >= 0")),
        _ => {
            let k = rng.random_range(2..=9);
            (
                format!("abs({k} ({arg})) > 1/1000"),
                format!("abs({k} ({arg})) >= 0"),
            )
        }
    };
    (
        format!("scalar z\nexpect refuted\nclaim {falsely}\nclaim {truly}\n"),
        vec![true, false],
    )
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bad = Vec::new();
    for i in 0..cases {
        let (src, falsity) = file(&mut rng);
        let name = format!("centres_{i}.tq");
        common::generated::judge(&name, &src, &falsity, "false at the centre", &mut bad);
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn claims_false_only_near_a_centre_far_out() {
    run(24, 41);
}

#[test]
#[ignore]
fn claims_false_only_near_a_centre_far_out_long() {
    run(common::generated::long_cases("TQ_CENTRES_CASES", 400), 4141);
}

#[test]
fn a_geometric_closed_form_in_two_names_says_where_it_is_defined() {
    let path = common::root().join("tests/data/lead41/relu_bias_he.tq");
    let src = std::fs::read_to_string(&path).unwrap();
    let r = tq::report::check_source("relu_bias_he.tq", &src, &common::fast());
    let text = tq::derive::derive_text(&r, None);
    let line = text
        .lines()
        .find(|l| l.starts_with("Var(a_k) = alpha"))
        .unwrap_or_else(|| panic!("no closed form of Var(a_k):\n{text}"));
    assert!(
        line.contains("where d*v/2 - 1 != 0 (at v = 2/d: alpha + k*sb)"),
        "{line}"
    );
}
