//! A generator of moment claims false only at a closed end a given adds (session 39,
//! probe38/p a12: `E(y^2) < v given a >= 0, a <= 1` of a leaky ReLU, a tie at a = 1, was
//! confirmed: Monte Carlo tried the closed ends of the declared domains, never a
//! given's).
//!
//! Each file is a leaky ReLU of slope `a` (or of `a + d`, a second symbol at a sample
//! value) over x ~ normal(0, v) of a random shape, whose second moment is
//! E(y^2) = (1 + s^2) v / 2 for the slope s, increasing in s > 0. A random bound c closes
//! the slope above (`given a <= c`, written also as `c >= a` or `2 a <= 2 c`) or below
//! (`a >= c`); the claim is strict against the moment's value at the bound:
//!
//! - a tie: `E(y^2) < k v` (above) or `E(y^2) > k v` (below) with k = (1 + s_c^2)/2 for the
//!   slope's bound s_c (c, or c + d), false at
//!   the given's end alone: never `confirmed` or `proved` (undecided or refuted);
//! - with room: the same with k moved by 1/4 the claim's way, true on the whole given:
//!   never `refuted`.
//!
//! The sample slope lies inside the given (c/2 above, 2c below), so the moves Monte Carlo
//! makes from it reach the bound only by chance. `cargo test --release --test given_ends`
//! runs 16 files (fixed seeds); the long run: `TQ_GIVEN_ENDS_CASES=400 cargo test
//! --release --test given_ends -- --ignored --nocapture`.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use common::rational::{rat, text};

/// One generated file: its source, and per claim whether it is the tie (false).
fn file(rng: &mut ChaCha8Rng) -> (String, Vec<bool>) {
    let bounds = [
        rat(1, 4),
        rat(1, 2),
        rat(3, 4),
        rat(1, 1),
        rat(3, 2),
        rat(2, 1),
        rat(5, 3),
    ];
    let c = bounds[rng.random_range(0..bounds.len())].clone();
    let upper = rng.random_bool(0.5);
    let two = rng.random_bool(0.3);
    // The slope: `a`, or `a + d` with d at a sample value (the given then bounds a + d).
    let d = rat(1, rng.random_range(4..=8));
    let (slope, bounded) = if two {
        ("(a + d)".to_string(), "a + d".to_string())
    } else {
        ("a".to_string(), "a".to_string())
    };
    let bound = if two { &c + &d } else { c.clone() };
    let given = match (upper, rng.random_range(0..3)) {
        (true, 0) => format!("{bounded} <= {}", text(&bound)),
        (true, 1) => format!("{} >= {bounded}", text(&bound)),
        (true, _) => format!("2 ({bounded}) <= {}", text(&(&bound * rat(2, 1)))),
        (false, 0) => format!("{bounded} >= {}", text(&bound)),
        (false, 1) => format!("{} <= {bounded}", text(&bound)),
        (false, _) => format!("2 ({bounded}) >= {}", text(&(&bound * rat(2, 1)))),
    };
    let a0 = if upper {
        &c / rat(2, 1)
    } else {
        &c * rat(2, 1)
    };
    // The moment at the slope's bound (c, or c + d for the slope a + d).
    let k = (rat(1, 1) + &bound * &bound) / rat(2, 1);
    let room = if upper {
        &k + rat(1, 4)
    } else {
        &k - rat(1, 4)
    };
    let op = if upper { "<" } else { ">" };
    let (shape, index) = match rng.random_range(0..3) {
        0 => ("[B]", "[b]"),
        1 => ("[B, J]", "[b,j]"),
        _ => ("[N, B]", "[n,b]"),
    };
    let sizes = match shape {
        "[B]" => format!("B = {}", rng.random_range(2..=4)),
        "[B, J]" => format!("B = 2, J = {}", rng.random_range(2..=3)),
        _ => format!("N = 2, B = {}", rng.random_range(2..=3)),
    };
    let size_decl = match shape {
        "[B]" => "size B",
        "[B, J]" => "size B, J",
        _ => "size N, B",
    };
    let v = rat(rng.random_range(1..=4), rng.random_range(1..=2));
    let mut claims = Vec::new();
    let mut ties = Vec::new();
    // The two claims in a random order.
    let tie_first = rng.random_bool(0.5);
    for tie in [tie_first, !tie_first] {
        let kk = if tie { &k } else { &room };
        if tie {
            claims.push("expect refuted".to_string());
        }
        claims.push(format!(
            "claim E(y^2) {op} {} v given {given}, v > 0",
            text(kk)
        ));
        ties.push(tie);
    }
    let symbols = if two { "symbol a, d, v" } else { "symbol a, v" };
    let extra = if two {
        format!(", d = {}", text(&d))
    } else {
        String::new()
    };
    let src = format!(
        "{size_decl}\n{symbols}\ninput x{shape} ~ normal(0, v)\ny{index} = relu(x{index}) - {slope} relu(-x{index})\n{}\nsample {sizes}, a = {}, v = {}{extra}\n",
        claims.join("\n"),
        text(&a0),
        text(&v)
    );
    (src, ties)
}

fn run(cases: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bad = Vec::new();
    for i in 0..cases {
        let (src, ties) = file(&mut rng);
        let name = format!("given_ends_{i}.tq");
        common::generated::judge(&name, &src, &ties, "false at the given's end", &mut bad);
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn strict_claims_at_given_ends() {
    run(16, 39);
}

#[test]
#[ignore]
fn strict_claims_at_given_ends_long() {
    run(
        common::generated::long_cases("TQ_GIVEN_ENDS_CASES", 400),
        3939,
    );
}
