//! Deciding relations between expressions, honestly: `proved` only from the normal
//! form (or exact constants), `confirmed` from agreement at random points, `refuted`
//! with the point and both values, `undecided` with the reason.

use super::{identical, to_ascii, Expr};
use crate::claims::Verdict;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// The relation claimed.
#[derive(Clone, Debug, PartialEq)]
pub enum Rel {
    Eq,
    Le,
    Ge,
    Lt,
    Gt,
    /// `|l − r| ≤ tol` (absolute).
    Approx(f64),
}

/// How points are chosen.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub seed: u64,
    pub points: usize,
    /// Sampled as integers 1..=12 (sizes, depths, exponents).
    pub integer_symbols: BTreeSet<String>,
    /// Assumptions every point must satisfy: (lhs, rel, rhs).
    pub assumptions: Vec<(Expr, Rel, Expr)>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            seed: 0,
            points: 8,
            integer_symbols: BTreeSet::new(),
            assumptions: Vec::new(),
        }
    }
}

/// A verdict and what it rests on.
#[derive(Clone, Debug)]
pub struct Decision {
    pub verdict: Verdict,
    pub method: String,
    pub evidence: String,
}

fn decision(verdict: Verdict, method: &str, evidence: String) -> Decision {
    Decision {
        verdict,
        method: method.to_string(),
        evidence,
    }
}

fn holds(l: f64, rel: &Rel, r: f64) -> bool {
    let tol = 1e-9 * l.abs().max(r.abs()).max(1.0);
    match rel {
        Rel::Eq => (l - r).abs() <= tol,
        Rel::Le => l <= r + tol,
        Rel::Ge => l + tol >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(t) => (l - r).abs() <= *t,
    }
}

fn holds_exact(l: &BigRational, rel: &Rel, r: &BigRational) -> Option<bool> {
    Some(match rel {
        Rel::Eq => l == r,
        Rel::Le => l <= r,
        Rel::Ge => l >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(t) => {
            let d = (l - r).abs().to_f64()?;
            // Decide exactly unless within rounding of the tolerance.
            if (d - t).abs() <= 1e-12 * t.abs().max(1e-300) {
                return None;
            }
            d <= *t
        }
    })
}

fn show(at: &BTreeMap<String, BigRational>) -> String {
    at.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A counterexample: the point (when there are symbols) and both values.
fn refuted(
    syms: &BTreeSet<String>,
    at: &BTreeMap<String, BigRational>,
    values: String,
) -> Decision {
    if syms.is_empty() {
        decision(Verdict::Refuted, "exact-eval", values)
    } else {
        decision(
            Verdict::Refuted,
            "random-points",
            format!("at {}: {values}", show(at)),
        )
    }
}

/// Decides `lhs rel rhs`.
pub fn check_relation(lhs: &Expr, rel: &Rel, rhs: &Expr, opts: &CheckOptions) -> Decision {
    // Symbolic proof of an identity.
    if *rel == Rel::Eq && identical(lhs, rhs) {
        return decision(
            Verdict::Proved,
            "symbolic",
            "both sides have the same normal form (as rational functions of their atoms)".into(),
        );
    }
    let mut syms = lhs.free_symbols();
    syms.extend(rhs.free_symbols());
    for (a, _, b) in &opts.assumptions {
        syms.extend(a.free_symbols());
        syms.extend(b.free_symbols());
    }
    let mut ints = opts.integer_symbols.clone();
    lhs.exponent_symbols(&mut ints);
    rhs.exponent_symbols(&mut ints);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let points = if syms.is_empty() {
        1
    } else {
        opts.points.max(1)
    };
    let mut agreed = 0;
    let mut exact_all = true;
    let mut last_failure = String::new();
    let mut tries = 0;
    while agreed < points && tries < points * 20 {
        tries += 1;
        let at: BTreeMap<String, BigRational> = syms
            .iter()
            .map(|s| {
                let v = if ints.contains(s) {
                    BigRational::from_integer(BigInt::from(rng.random_range(1..=12)))
                } else {
                    BigRational::new(
                        BigInt::from(rng.random_range(1..=40)),
                        BigInt::from(rng.random_range(1..=12)),
                    )
                };
                (s.clone(), v)
            })
            .collect();
        let atf: BTreeMap<String, f64> = at
            .iter()
            .map(|(k, v)| (k.clone(), v.to_f64().unwrap_or(f64::NAN)))
            .collect();
        // Assumptions.
        let mut ok = true;
        for (a, r, b) in &opts.assumptions {
            match (a.eval_f64(&atf), b.eval_f64(&atf)) {
                (Ok(x), Ok(y)) if holds(x, r, y) => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        // Exact values when both sides are rational here.
        match (lhs.eval_exact(&at), rhs.eval_exact(&at)) {
            (Ok(l), Ok(r)) => match holds_exact(&l, rel, &r) {
                Some(true) => {
                    agreed += 1;
                    continue;
                }
                Some(false) => return refuted(&syms, &at, format!("left {l}, right {r}")),
                None => exact_all = false,
            },
            _ => exact_all = false,
        }
        match (lhs.eval_f64(&atf), rhs.eval_f64(&atf)) {
            (Ok(l), Ok(r)) if l.is_finite() && r.is_finite() => {
                if holds(l, rel, r) {
                    agreed += 1;
                } else {
                    return refuted(&syms, &at, format!("left {l:.10}, right {r:.10}"));
                }
            }
            (Err(e), _) | (_, Err(e)) => last_failure = e,
            _ => last_failure = "a side is not finite".into(),
        }
    }
    if agreed < points {
        return decision(
            Verdict::Undecided,
            "none",
            if last_failure.is_empty() {
                format!("could not find {points} points satisfying the assumptions")
            } else {
                format!("cannot evaluate: {last_failure}")
            },
        );
    }
    if syms.is_empty() && exact_all {
        return decision(
            Verdict::Proved,
            "exact-eval",
            format!("left {}, right {}", to_ascii(lhs), to_ascii(rhs)),
        );
    }
    if syms.is_empty() {
        return decision(
            Verdict::Confirmed,
            "numeric",
            "holds in floating point (a side is irrational)".into(),
        );
    }
    // Ordering of polynomials with a constant difference is decided exactly.
    let d = lhs.clone() - rhs.clone();
    if let Expr::Num(c) = &d {
        let ok = match rel {
            Rel::Le => !c.is_positive(),
            Rel::Ge => !c.is_negative(),
            Rel::Lt => c.is_negative(),
            Rel::Gt => c.is_positive(),
            Rel::Eq => c.is_zero(),
            Rel::Approx(t) => c.abs().to_f64().is_some_and(|x| x <= *t),
        };
        if ok {
            return decision(
                Verdict::Proved,
                "symbolic",
                format!("the difference is the constant {c}"),
            );
        }
    }
    decision(
        Verdict::Confirmed,
        "random-points",
        format!(
            "holds at {points} random points{}",
            if exact_all { " (exactly)" } else { "" }
        ),
    )
}
