//! A tensor read in every iteration of a layer loop is the same draw in every layer
//! (probe31/c g29c, g33): `h_{l+1} = A h_l + K c` makes h_l = A^l h_0 + K (1 + A + … +
//! A^(l-1)) c, and the state is correlated with c. The moments engine took the state to
//! be free of such a read ("zero-mean weights: the terms are uncorrelated") and proved the
//! variance of a sum of independent terms. Generated recurrences (shapes × coefficients)
//! claim both values at fixed members: the true one is never refuted, the one that
//! assumes independence (a different number from l = 2 on) is never proved or confirmed.
//! Monte Carlo is off, so what is decided is the exact engines' alone.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

/// A rational as (numerator, denominator), enough for the small powers below.
fn frac(n: i64, d: i64) -> String {
    if d == 1 && n >= 0 {
        format!("{n}")
    } else if d == 1 {
        format!("({n})")
    } else {
        format!("({n}/{d})")
    }
}

/// The recurrence's shape: the shared term it adds, and whether that term is the start.
const SHAPES: [(&str, &str, bool); 3] = [
    ("c[j]", "param c[J] ~ normal(0, 1/2)", false),
    ("x[b,j]", "input x[B, J] ~ normal(0, 1/2)", false),
    ("h_0[b,j]", "", true),
];

#[test]
fn a_term_read_in_every_layer_is_correlated_with_the_state() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let coefs: [(i64, i64); 6] = [(-2, 1), (-1, 1), (1, 2), (1, 1), (2, 1), (3, 1)];
    let mut decided = 0;
    for (term, decl, start) in SHAPES {
        for _ in 0..4 {
            let (an, ad) = coefs[rng.random_range(0..coefs.len())];
            let k: i64 = [-1, 1, 2][rng.random_range(0..3)];
            // Coefficients of h_0 and of the shared term at member l, exactly:
            // a_l = A^l, s_l = 1 + A + … + A^(l-1) (as fractions over ad^l).
            let l = 2 + rng.random_range(0..2) as u32;
            let a_l = (an.pow(l), ad.pow(l));
            // s_l ad^(l-1) = sum_{i<l} an^i ad^(l-1-i)
            let s_num: i64 = (0..l).map(|i| an.pow(i) * ad.pow(l - 1 - i)).sum();
            let s_den = ad.pow(l - 1);
            // sum_{i<l} A^(2i), over ad^(2(l-1)).
            let sq_num: i64 = (0..l)
                .map(|i| an.pow(2 * i) * ad.pow(2 * (l - 1 - i)))
                .sum();
            let a2 = format!("{}^2", frac(a_l.0, a_l.1));
            // Independence would give Var(h_l) = A^(2l) + K^2 v (1 + A^2 + … + A^(2(l-1))),
            // v the shared term's variance (1/2; 1 for the start).
            let v = if start { "" } else { " / 2" };
            let independent = format!("{a2} + ({k})^2 {}{v}", frac(sq_num, s_den * s_den));
            let truth = if start {
                // h_l = (A^l + K s_l) h_0.
                frac(a_l.0 * s_den + k * s_num * a_l.1, a_l.1 * s_den) + "^2"
            } else {
                // h_l = A^l h_0 + K s_l c.
                format!("{a2} + ({k})^2 {}^2 / 2", frac(s_num, s_den))
            };
            let src = format!(
                "size B, J, L\ninput h_0[B, J] ~ normal(0, 1)\n{decl}\nfor l in 0..L-1:\n  h_{{l+1}}[b,j] = {a} h_l[b,j] + ({k}) {term}\nclaim Var(h_{l}) == {truth}\nclaim Var(h_{l}) == {independent}\nsample B = 2, J = 3, L = 3\n",
                a = frac(an, ad),
            );
            let opts = Options {
                no_monte_carlo: true,
                ..Options::default()
            };
            let rep = check_source("gen.tq", &src, &opts);
            assert!(rep.diagnostics.is_empty(), "{src}: {:?}", rep.diagnostics);
            assert_eq!(rep.claims.len(), 2, "{src}");
            let (t, f) = (&rep.claims[0], &rep.claims[1]);
            assert_ne!(t.verdict, Verdict::Refuted, "{src}\n{}", t.evidence);
            assert!(
                !matches!(f.verdict, Verdict::Proved | Verdict::Confirmed),
                "the independent value was taken: {src}\n{}",
                f.evidence
            );
            if t.verdict == Verdict::Proved || f.verdict == Verdict::Refuted {
                decided += 1;
            }
        }
    }
    // Nothing here asks the engines to decide (Monte Carlo is off); the count is printed
    // so that a change which makes them decide the true values shows up in the log.
    eprintln!("decided exactly: {decided} of {}", SHAPES.len() * 4);
}
