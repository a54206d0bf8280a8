//! A generator of loops that write a tensor over part of a dimension (session 39, issue
//! #14 item 5): random ranges, offsets and loop-variable names against the extent of the
//! dimension written. `y[b, v + c] = k x[b, v]` in `for v in lo..T-1-hi` writes the
//! positions lo + c .. T - 1 - hi + c of a dimension that `z[b,t] = y[b,t] + 1` reads over
//! the whole of T: every element of y and z has variance k² only when the loop writes
//! every position (lo + c = 0 and hi = c). The whole-tensor claims `Var(y) == k²` and
//! `Var(z) == k²` are proved exactly then, and never otherwise (y's unwritten elements
//! read 0: Var 0; z's are 1: Var 0); the claim at the loop's own variable, `Var(y[b, v +
//! c]) == k²`, is about the written elements and is proved whatever the range (at c = 0;
//! never refuted at another offset).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::report::check_source;
use tq::verdict::Verdict;

fn model(var: &str, lo: i64, hi: i64, c: i64, k: i64, t: i64) -> String {
    let pos = match c {
        0 => var.to_string(),
        c if c > 0 => format!("{var}+{c}"),
        c => format!("{var}-{}", -c),
    };
    let last = if hi == 0 {
        "T-1".to_string()
    } else {
        format!("T-{}", 1 + hi)
    };
    format!(
        "size B, T\ninput x[B, T] ~ normal(0, 1)\nfor {var} in {lo}..{last}:\n  y[b,{pos}] = {k} x[b,{var}]\nz[b,t] = y[b,t] + 1\nclaim Var(y[b,{pos}]) == {k2}\nclaim Var(y) == {k2}\nclaim Var(z) == {k2}\nsample B = 2, T = {t}\n",
        k2 = k * k
    )
}

#[test]
fn whole_tensor_claims_are_proved_only_where_the_loop_covers_the_extent() {
    let mut rng = ChaCha8Rng::seed_from_u64(39);
    let (mut covered, mut partial) = (0, 0);
    for _ in 0..40 {
        let var = ["t", "k", "s"][rng.random_range(0..3)];
        // One model in four writes the whole extent.
        let full = rng.random_range(0..4) == 0;
        let lo: i64 = if full { 0 } else { rng.random_range(0..3) };
        let hi: i64 = if full { 0 } else { rng.random_range(0..3) };
        // Written positions lo + c ..= T - 1 - hi + c inside 0..T-1.
        let c: i64 = rng.random_range(-lo..=hi);
        let k: i64 = rng.random_range(2..5);
        let t: i64 = lo + hi + rng.random_range(2..4);
        let src = model(var, lo, hi, c, k, t);
        let r = check_source("gen.tq", &src, &common::fast());
        assert!(
            r.diagnostics
                .iter()
                .all(|d| d.severity != tq::diag::Severity::Error),
            "{src}\n{:?}",
            r.diagnostics
        );
        assert_eq!(r.claims.len(), 3, "{src}");
        let whole = lo + c == 0 && hi == c;
        // The written elements: proved at every range (at an offset, `y[b,v-2]`, the
        // claim's read of an index plus a constant is taken to depend on the border, as
        // everywhere: never refuted).
        if c == 0 {
            assert_eq!(
                r.claims[0].verdict,
                Verdict::Proved,
                "{src}\n{}",
                r.claims[0].evidence
            );
        } else {
            assert_ne!(
                r.claims[0].verdict,
                Verdict::Refuted,
                "{src}\n{}",
                r.claims[0].evidence
            );
        }
        for claim in &r.claims[1..] {
            if whole {
                assert_eq!(claim.verdict, Verdict::Proved, "{src}\n{}", claim.evidence);
            } else {
                assert_ne!(claim.verdict, Verdict::Proved, "{src}\n{}", claim.evidence);
                assert_ne!(
                    claim.verdict,
                    Verdict::Confirmed,
                    "{src}\n{}",
                    claim.evidence
                );
            }
        }
        if whole {
            covered += 1;
        } else {
            partial += 1;
        }
    }
    // Both kinds were generated.
    assert!(covered > 0 && partial > 0, "{covered} {partial}");
}
