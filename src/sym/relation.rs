//! Deciding relations between expressions, honestly: `proved` only from the normal
//! form (or exact constants), `confirmed` from agreement at random points, `refuted`
//! with the point and both values, `undecided` with the reason.

use super::{identical, to_ascii, Expr};
use crate::verdict::Verdict;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// The relation claimed.
#[derive(Clone, Debug, PartialEq)]
pub enum Rel {
    /// `==`
    Eq,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `|l − r| ≤ tol` (absolute tolerance).
    Approx(f64),
    /// `|l − r| ≤ tol · max(|l|, |r|)` (relative tolerance).
    ApproxRel(f64),
}

impl Rel {
    /// The operator as written in the ASCII syntax (`~=` for both approximations).
    pub fn symbol(&self) -> &'static str {
        match self {
            Rel::Eq => "==",
            Rel::Le => "<=",
            Rel::Ge => ">=",
            Rel::Lt => "<",
            Rel::Gt => ">",
            Rel::Approx(_) | Rel::ApproxRel(_) => "~=",
        }
    }
}

/// A restriction on the sampled points, `lhs rel rhs` (`x > 0`, `p >= 1/2`); read one
/// with [`super::parse_relation`].
pub type Assumption = (Expr, Rel, Expr);

/// How points are chosen.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Seed of the `ChaCha8Rng` that draws the points.
    pub seed: u64,
    /// How many points must agree for `confirmed` (default 8).
    pub points: usize,
    /// Sampled as integers 1..=12 (sizes, depths, exponents); symbols in exponents are
    /// added automatically.
    pub integer_symbols: BTreeSet<String>,
    /// Assumptions every point must satisfy: (lhs, rel, rhs). Points are drawn and
    /// rejected until they hold (at most 20 tries per point wanted).
    pub assumptions: Vec<Assumption>,
    /// Symbols known to be positive. Every non-integer symbol is sampled positive
    /// unless it is in `signed_symbols`; listing it here overrides `signed_symbols`.
    pub positive_symbols: BTreeSet<String>,
    /// Symbols that may take either sign: sampled as ±n/d. Symbols under `log`, bases
    /// of non-integer powers and `positive_symbols` stay positive regardless.
    pub signed_symbols: BTreeSet<String>,
    /// The symbols' domains (from the declarations and the givens): a symbol with a
    /// domain is drawn inside it (docs/symbolic.md, "Domains"), so no point lies
    /// outside what the model allows.
    pub domains: BTreeMap<String, super::Domain>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            seed: 0,
            points: 8,
            integer_symbols: BTreeSet::new(),
            assumptions: Vec::new(),
            positive_symbols: BTreeSet::new(),
            signed_symbols: BTreeSet::new(),
            domains: BTreeMap::new(),
        }
    }
}

/// A verdict and what it rests on.
#[derive(Clone, Debug)]
pub struct Decision {
    /// proved, confirmed, refuted or undecided (docs/symbolic.md says exactly when).
    pub verdict: Verdict,
    /// `symbolic`, `exact-eval`, `random-points`, `numeric` or `none`.
    pub method: String,
    /// What the verdict rests on: the counterexample with both values, the number of
    /// agreeing points, or why nothing could be decided.
    pub evidence: String,
    /// Points evaluated that counted: agreeing points for confirmed (and for a proof
    /// by exact evaluation), the agreeing points plus the counterexample for refuted,
    /// 0 for a proof from the normal form.
    pub points: usize,
}

fn decision(verdict: Verdict, method: &str, evidence: String) -> Decision {
    Decision {
        verdict,
        method: method.to_string(),
        evidence,
        points: 0,
    }
}

impl Decision {
    fn with_points(mut self, n: usize) -> Decision {
        self.points = n;
        self
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
        Rel::ApproxRel(t) => (l - r).abs() <= *t * l.abs().max(r.abs()),
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
        Rel::ApproxRel(t) => {
            let t = BigRational::from_float(*t)?;
            (l - r).abs() <= t * l.abs().max(r.abs())
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
    let mut must_be_positive = opts.positive_symbols.clone();
    positive_required(lhs, &mut must_be_positive);
    positive_required(rhs, &mut must_be_positive);
    for (a, _, b) in &opts.assumptions {
        positive_required(a, &mut must_be_positive);
        positive_required(b, &mut must_be_positive);
    }
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
                if let Some(d) = opts.domains.get(s) {
                    let mut d = d.clone();
                    if must_be_positive.contains(s) {
                        d.meet(&super::Domain::nonnegative(true, "positive"));
                    }
                    if ints.contains(s) {
                        d.integer = true;
                    }
                    if let Some(v) = d.sample(&mut rng) {
                        return (s.clone(), v);
                    }
                }
                let v = if ints.contains(s) {
                    BigRational::from_integer(BigInt::from(rng.random_range(1..=12)))
                } else {
                    let v = BigRational::new(
                        BigInt::from(rng.random_range(1..=40)),
                        BigInt::from(rng.random_range(1..=12)),
                    );
                    if opts.signed_symbols.contains(s)
                        && !must_be_positive.contains(s)
                        && rng.random_bool(0.5)
                    {
                        -v
                    } else {
                        v
                    }
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
                Some(false) => {
                    return refuted(&syms, &at, format!("left {l}, right {r}"))
                        .with_points(agreed + 1)
                }
                None => exact_all = false,
            },
            _ => exact_all = false,
        }
        match (lhs.eval_f64(&atf), rhs.eval_f64(&atf)) {
            (Ok(l), Ok(r)) if l.is_finite() && r.is_finite() => {
                if holds(l, rel, r) {
                    agreed += 1;
                } else {
                    return refuted(&syms, &at, format!("left {l:.10}, right {r:.10}"))
                        .with_points(agreed + 1);
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
        )
        .with_points(agreed);
    }
    if syms.is_empty() && exact_all {
        return decision(
            Verdict::Proved,
            "exact-eval",
            format!("left {}, right {}", to_ascii(lhs), to_ascii(rhs)),
        )
        .with_points(1);
    }
    if syms.is_empty() {
        return decision(
            Verdict::Confirmed,
            "numeric",
            "holds in floating point (a side is irrational)".into(),
        )
        .with_points(1);
    }
    // Ordering of polynomials with a constant difference is decided exactly.
    let d = super::expand(&(lhs.clone() - rhs.clone()));
    if let Expr::Num(c) = &d {
        let ok = match rel {
            Rel::Le => !c.is_positive(),
            Rel::Ge => !c.is_negative(),
            Rel::Lt => c.is_negative(),
            Rel::Gt => c.is_positive(),
            Rel::Eq => c.is_zero(),
            Rel::Approx(t) => BigRational::from_float(*t).is_some_and(|t| c.abs() <= t),
            // A relative tolerance depends on the values, not only on the difference.
            Rel::ApproxRel(_) => false,
        };
        if ok {
            return decision(
                Verdict::Proved,
                "symbolic",
                format!("the difference is the constant {c}"),
            )
            .with_points(agreed);
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
    .with_points(agreed)
}

/// Symbols that must be sampled positive: those under `log` and in the bases of
/// non-integer powers.
fn positive_required(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| positive_required(x, out)),
        Expr::Pow(b, x) => {
            if x.as_int().is_none() {
                out.extend(b.free_symbols());
            }
            positive_required(b, out);
            positive_required(x, out);
        }
        Expr::Func(f, x) => {
            if f.entry().domain != super::func::Domain::All {
                out.extend(x.free_symbols());
            }
            positive_required(x, out);
        }
    }
}
