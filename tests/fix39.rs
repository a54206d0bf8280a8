//! Session 39 (fix39): element claims by distribution support (probe39/h l03, l10), scalar
//! values of tensor models as elements with no index (l14), and scalar random inputs as
//! random variables in the written-out engine (probe39/p p03). Generators: each model is
//! made from a seeded draw, its truth known by construction.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::claims::Verdict;
use tq::report::check_source;

/// The verdict of every claim of a source (no diagnostics expected).
fn verdicts(src: &str) -> Vec<(Verdict, String)> {
    let r = check_source("g.tq", src, &common::fast());
    assert!(r.diagnostics.is_empty(), "{src}\n{:?}", r.diagnostics);
    r.claims
        .iter()
        .map(|c| (c.verdict, c.evidence.clone()))
        .collect()
}

/// A rational `n/d` as `.tq` text.
fn frac(n: i64, d: i64) -> String {
    if n < 0 {
        format!("(-{}/{d})", -n)
    } else {
        format!("{n}/{d}")
    }
}

/// `(x - a)(x - b) >= 0` with a < b close together inside a `uniform(lo, hi)` support is
/// false on (a, b) (refuted); `(x - lo')(hi' - x) >= 0` with [lo, hi] inside [lo', hi'] holds
/// on the support and fails outside it (never refuted: a point outside is no witness).
#[test]
fn uniform_support_sections_and_ends() {
    let mut rng = ChaCha8Rng::seed_from_u64(39);
    for case in 0..8 {
        let lo = rng.random_range(-6..=2i64);
        let hi = lo + rng.random_range(1..=5i64);
        // Two roots 1/50 apart, strictly inside [lo, hi] (a denominator of 100).
        let a = rng.random_range(lo * 100 + 1..=hi * 100 - 3);
        let b = a + 2;
        let shape = ["x[n,j]", "x[n,j] - 0", "2 x[n,j] - x[n,j]"][case % 3];
        let src = format!(
            "size N, J\ninput x[N, J] ~ uniform({lo}, {hi})\ny[n,j] = ({shape} - {a}) ({shape} - {b})\nw[n,j] = (x[n,j] - {lo2}) ({hi2} - x[n,j])\nexpect refuted\nclaim y[n,j] >= 0\nclaim w[n,j] >= 0\nsample N = 2, J = {j}\n",
            a = frac(a, 100),
            b = frac(b, 100),
            lo2 = lo - rng.random_range(0..=1i64),
            hi2 = hi + rng.random_range(0..=1i64),
            j = 1 + case % 2,
        );
        let v = verdicts(&src);
        assert_eq!(v[0].0, Verdict::Refuted, "{src}\n{:?}", v[0]);
        assert!(
            matches!(v[1].0, Verdict::Confirmed | Verdict::Proved),
            "{src}\n{:?}",
            v[1]
        );
    }
}

/// A claim about `categorical(K)` labels false at one class only (the class c, or the ends
/// 0 and K - 1) is refuted; the true bounds are not.
#[test]
fn categorical_single_class_failures() {
    let mut rng = ChaCha8Rng::seed_from_u64(3939);
    for _ in 0..6 {
        let k = rng.random_range(20..=300i64);
        let c = rng.random_range(1..k - 1);
        let src = format!(
            "size T\nsize K = {k}\ninput lab[T] ~ categorical(K)\ny[t] = lab[t]\nexpect refuted\nclaim (y[t] - {c})^2 >= 1\nexpect refuted\nclaim y[t] <= {km2}\nexpect refuted\nclaim y[t] >= 1\nclaim y[t] ({km1} - y[t]) >= 0\nsample T = 2\n",
            km2 = k - 2,
            km1 = k - 1,
        );
        let v = verdicts(&src);
        for (i, want) in [Verdict::Refuted, Verdict::Refuted, Verdict::Refuted]
            .iter()
            .enumerate()
        {
            assert_eq!(v[i].0, *want, "{src}\nclaim {i}: {:?}", v[i]);
        }
        assert!(
            matches!(v[3].0, Verdict::Confirmed | Verdict::Proved),
            "{src}\n{:?}",
            v[3]
        );
    }
}

/// A computed scalar of a tensor model (`y = x[k]`, a product, a sum) is decided like an
/// element: a claim false on half the draws is refuted, never confirmed from one draw.
#[test]
fn scalars_of_tensor_models_are_written_out() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let defs = [
        "x[{k}]",
        "w[{k}] x[{k}]",
        "x[{k}] + w[{k}]",
        "w[I] x[I]",
        "sum_{i}(x[i]) - x[{k}]",
    ];
    for (n, def) in defs.iter().enumerate() {
        let k = rng.random_range(0..3i64);
        let c = rng.random_range(0..=3i64);
        let def = def.replace("{k}", &k.to_string());
        // y takes every real (a sum or product of normal leaves): `y >= -c` and `y <= c`
        // are false; `y^2 + 1 > 0` holds.
        let src = format!(
            "size I\ninput x[I] ~ normal(0, 1)\nparam w[I] ~ normal(0, 1)\ny = {def}\nexpect refuted\nclaim y >= -{c}\nexpect refuted\nclaim y <= {c}\nclaim y^2 + 1 > 0\nsample I = {i}\n",
            i = 3 + n % 2,
        );
        let v = verdicts(&src);
        assert_eq!(v[0].0, Verdict::Refuted, "{src}\n{:?}", v[0]);
        assert_eq!(v[1].0, Verdict::Refuted, "{src}\n{:?}", v[1]);
        assert!(
            matches!(v[2].0, Verdict::Confirmed | Verdict::Proved),
            "{src}\n{:?}",
            v[2]
        );
        assert!(
            !v[0].1.contains("one sampled run") && !v[1].1.contains("one sampled run"),
            "{src}\n{v:?}"
        );
    }
}

/// A scalar mask `mk ~ bernoulli(p)` times an element: E and Var are exact over the mask
/// (E = p f|1 + (1 - p) f|0), never a free symbol the witness sets.
#[test]
fn scalar_masks_are_random_in_the_element_engine() {
    let mut rng = ChaCha8Rng::seed_from_u64(303);
    for _ in 0..4 {
        let a = rng.random_range(1..=5i64);
        let src = format!(
            "size I\nsymbol p\ninput x[I]\ninput mk ~ bernoulli(p)\nt[i] = {a} mk x[i]\nclaim E(t[i]) == {a} p x[i]\nclaim Var(t[i]) == {a2} p (1 - p) x[i]^2\nexpect refuted\nclaim Var(t[i]) == {a2} p x[i]^2\nsample I = 2, p = 1/2\n",
            a2 = a * a,
        );
        let v = verdicts(&src);
        assert_eq!(v[0].0, Verdict::Proved, "{src}\n{:?}", v[0]);
        assert_eq!(v[1].0, Verdict::Proved, "{src}\n{:?}", v[1]);
        assert_eq!(v[2].0, Verdict::Refuted, "{src}\n{:?}", v[2]);
        assert!(!v[2].1.contains("mk ="), "{src}\n{:?}", v[2]);
    }
    // A normal scalar: its moments are not computed by the element engine, and the true
    // variance is never refuted with z set to a value.
    let src = "size I\ninput x[I]\ninput z ~ normal(0, 1)\nt[i] = z x[i]\nclaim Var(t[i]) == x[i]^2\nsample I = 2\n";
    let v = verdicts(src);
    assert_ne!(v[0].0, Verdict::Refuted, "{v:?}");
}
