//! Points the claim's own expression singles out (probe41 q01–q03, q05b): a failure on a
//! short interval far from the origin, or next to an open end of a given, is not left to
//! the grid and the random draws, which cover [−12, 12], powers of two to 1024 and
//! small rationals.
//!
//! For each real symbol (whole-number symbols have their own points):
//! - the centres the expression names: where an argument of a function or of a
//!   non-integer power is zero or at its vertex, when that argument is a polynomial of
//!   degree 1 or 2 in the symbol alone (`sigmoid(z - 13)`, `relu(a - 10^6)`,
//!   `exp(-(z - 13)^2)`: z = 13, a = 10^6), with steps of 1/64, 1/8, 1/2 and 1 to
//!   each side;
//! - the ends of its domain approached from inside (`given a < 0`: a = −1/100, −1/8, −1/2;
//!   a closed end itself);
//! - powers of two from 2^11 to 2^64 (and their negatives where the domain allows), for
//!   claims false only at large magnitudes (`sqrt(a) < 10^5`, `ln(a) < 40`).
//!
//! With several symbols, their values are combined simplest first (the first values of
//! every symbol together), at most [`CRITICAL_POINTS`] points. A failure at such a point
//! is a witness like any other: exact, or separated by interval enclosures.

use super::*;
use crate::sym::interval::End;
use crate::sym::Func;

/// At most this many points are tried ([`Problem::critical_points`]).
pub(super) const CRITICAL_POINTS: usize = 256;

impl Problem<'_> {
    /// The values of the real symbol `s` that the claim singles out, in the order they
    /// are tried: centres with their steps, the domain's ends from inside, large powers
    /// of two; each inside the domain and once.
    fn critical_values(&self, s: &str) -> Vec<BigRational> {
        let r = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let mut centres = Vec::new();
        for side in [self.lhs, self.rhs] {
            arguments(side, &mut |arg| {
                if let Some(c) = centre(arg, s) {
                    if !centres.contains(&c) {
                        centres.push(c);
                    }
                }
            });
        }
        let steps = [r(0, 1), r(1, 64), r(1, 8), r(1, 2), r(1, 1)];
        let mut out: Vec<BigRational> = Vec::new();
        for c in &centres {
            for d in &steps {
                out.push(c + d);
                out.push(c - d);
            }
        }
        let dom = self.dom.of(s);
        let inward = [r(1, 100), r(1, 8), r(1, 2)];
        if let End::At(a, open) = &dom.lo {
            if !open {
                out.push(a.clone());
            }
            out.extend(inward.iter().map(|d| a + d));
        }
        if let End::At(b, open) = &dom.hi {
            if !open {
                out.push(b.clone());
            }
            out.extend(inward.iter().map(|d| b - d));
        }
        for j in (11..=64).step_by(3) {
            let p = BigRational::from_integer(BigInt::from(1u8) << j);
            out.push(p.clone());
            out.push(-p);
        }
        let mut kept: Vec<BigRational> = Vec::new();
        for v in out {
            if dom.contains(&v) && !kept.contains(&v) {
                kept.push(v);
            }
        }
        kept
    }

    /// The claim at its [`Problem::critical_points`]: the refutation at the first that
    /// fails, else the note for the evidence (empty when none held).
    // The refutation is the one large value this returns, once per claim.
    #[allow(clippy::result_large_err)]
    pub(super) fn at_critical_points(&self, syms: &BTreeSet<String>) -> Result<String, Decision> {
        let mut held = 0;
        for p in self.critical_points(CRITICAL_POINTS) {
            match self.at_point(&p) {
                PointResult::Holds { .. } => held += 1,
                PointResult::Fails(w) => {
                    let exact = w.checked_by == "exact evaluation";
                    let w = if exact { self.shrink(w) } else { w };
                    return Err(refuted(syms, w, exact).with_points(held + 1));
                }
                PointResult::Skip(_) => {}
            }
        }
        Ok(if held > 0 {
            format!(
                ", at {held} points the claim singles out (centres of its functions' arguments, the domain's ends, large powers of two)"
            )
        } else {
            String::new()
        })
    }

    /// The points made of [`Problem::critical_values`], simplest first, at most `cap`;
    /// empty when a whole-number symbol or a named constant is among the claim's
    /// symbols (their own points cover them) or no symbol has a value.
    pub(super) fn critical_points(&self, cap: usize) -> Vec<BTreeMap<String, BigRational>> {
        let syms: Vec<&String> = self.syms.iter().collect();
        if syms.is_empty()
            || syms
                .iter()
                .any(|s| self.dom.integers.contains(*s) || self.consts.contains_key(*s))
        {
            return Vec::new();
        }
        let values: Vec<Vec<BigRational>> = syms.iter().map(|s| self.critical_values(s)).collect();
        if values.iter().any(Vec::is_empty) {
            return Vec::new();
        }
        let lens: Vec<usize> = values.iter().map(Vec::len).collect();
        points::tuples_by_total(&lens, cap)
            .into_iter()
            .map(|idx| {
                syms.iter()
                    .zip(&idx)
                    .zip(&values)
                    .map(|((s, i), vs)| ((*s).clone(), vs[*i].clone()))
                    .collect()
            })
            .collect()
    }
}

impl Problem<'_> {
    /// Why points cannot confirm the claim when a step in it (`[a^2 > 2]`, `[a >= sqrt(2)]`)
    /// switches at an irrational point: there the step takes its value by its own
    /// convention, no rational test point reaches it, and floating point rounds it away
    /// (probe42 r11: `[a^2 > 2] == [a >= sqrt(2)] + [a <= -sqrt(2)]`, false at a = √2,
    /// was confirmed). The step's argument must be a polynomial of degree 1 or 2 in one
    /// symbol whose root is irrational: a rational polynomial with a positive
    /// discriminant that is not a square, or a linear one whose root is not rational.
    pub(super) fn irrational_switch(&self) -> Option<String> {
        let mut found = None;
        for side in [self.lhs, self.rhs] {
            steps(side, &mut |arg| {
                if found.is_none() {
                    found = irrational_root(arg);
                }
            });
        }
        let (s, approx) = found?;
        Some(format!(
            "not refuted at any point tried, but a step of the claim switches at {s} ≈ {approx:.10}, an irrational point that no test point reaches exactly; there the step takes its value by its own convention (`[x > 0]` is 0 at 0), which floating point cannot see, so the claim is not confirmed"
        ))
    }
}

/// Calls `f` on the argument of every step (`[x > 0]`, as sym writes a bracket) in `e`.
fn steps(e: &Expr, f: &mut impl FnMut(&Expr)) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| steps(x, f)),
        Expr::Pow(b, x) => {
            steps(b, f);
            steps(x, f);
        }
        Expr::Func(g, x) => {
            if *g == Func::Step {
                f(x);
            }
            steps(x, f);
        }
    }
}

/// `(s, root)` when `arg`, in the one symbol `s`, is zero at an irrational point (one
/// such root, approximately): a rational quadratic with a positive discriminant that is
/// not the square of a rational, or `c1 s + c0` with constants whose ratio exact
/// evaluation cannot give.
fn irrational_root(arg: &Expr) -> Option<(String, f64)> {
    let syms = arg.free_symbols();
    let mut it = syms.iter();
    let s = it.next()?.clone();
    if it.next().is_some() || arg.node_count() > 64 {
        return None;
    }
    if !small(arg, &mut 64) {
        // Not a polynomial to expand (an irrational constant such as `sqrt(2)`): only
        // the linear form below.
    } else if let Some(p) = sturm::poly_of(&crate::sym::expand(arg), &s) {
        if p.len() != 3 || p[2].is_zero() {
            return None;
        }
        let four = BigRational::from_integer(BigInt::from(4));
        let disc = &p[1] * &p[1] - four * &p[0] * &p[2];
        if disc <= BigRational::zero() || is_rational_square(&disc) {
            return None;
        }
        let (a, b, d) = (p[2].to_f64()?, p[1].to_f64()?, disc.to_f64()?);
        return Some((s, (-b + d.sqrt()) / (2.0 * a)));
    }
    // c1 s + c0 with irrational constants (`a - sqrt(2)`).
    let zero: BTreeMap<String, BigRational> = [(s.clone(), BigRational::zero())].into();
    let one: BTreeMap<String, BigRational> = [(s.clone(), BigRational::one())].into();
    let c0 = arg.subs(&s, &Expr::int(0));
    let c1 = Expr::add(vec![
        arg.subs(&s, &Expr::int(1)),
        Expr::mul(vec![Expr::int(-1), c0.clone()]),
    ]);
    let linear = Expr::add(vec![
        Expr::mul(vec![c1.clone(), Expr::sym(&s)]),
        c0.clone(),
        Expr::mul(vec![Expr::int(-1), arg.clone()]),
    ]);
    if !crate::sym::algebra::identical(&linear, &Expr::int(0)) || c1.is_zero() {
        return None;
    }
    let root = Expr::mul(vec![Expr::int(-1), c0, Expr::pow(c1, Expr::int(-1))]);
    if eval_exact(&root, &zero).is_ok() {
        return None;
    }
    let approx = root.eval_f64(&to_f64_point(&one)).ok()?;
    approx.is_finite().then_some((s, approx))
}

/// Whether the positive rational `q` is the square of a rational.
fn is_rational_square(q: &BigRational) -> bool {
    let sq = |n: &BigInt| {
        let r = n.sqrt();
        &r * &r == *n
    };
    sq(q.numer()) && sq(q.denom())
}

/// Calls `f` on the argument of every function application and the base of every
/// power whose exponent is not a whole number, in `e`.
fn arguments(e: &Expr, f: &mut impl FnMut(&Expr)) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| arguments(x, f)),
        Expr::Pow(b, x) => {
            if x.as_int().is_none() {
                f(b);
            }
            arguments(b, f);
            arguments(x, f);
        }
        Expr::Func(_, x) => {
            f(x);
            arguments(x, f);
        }
    }
}

/// Where `arg`, a polynomial of degree 1 or 2 in `s` alone, is zero (degree 1) or at
/// its vertex (degree 2); `None` otherwise.
fn centre(arg: &Expr, s: &str) -> Option<BigRational> {
    if arg.free_symbols().iter().any(|x| x != s) {
        return None;
    }
    if !small(arg, &mut 64) {
        return None;
    }
    let p = sturm::poly_of(&crate::sym::expand(arg), s)?;
    match p.len() {
        2 if !p[1].is_zero() => Some(-&p[0] / &p[1]),
        3 if !p[2].is_zero() => Some(-&p[1] / (BigRational::from_integer(BigInt::from(2)) * &p[2])),
        _ => None,
    }
}

/// Whether `e` has at most `left` nodes and no power above the fourth: small enough to
/// expand for [`centre`].
fn small(e: &Expr, left: &mut usize) -> bool {
    if *left == 0 {
        return false;
    }
    *left -= 1;
    match e {
        Expr::Num(_) | Expr::Sym(_) => true,
        Expr::Add(v) | Expr::Mul(v) => v.iter().all(|x| small(x, left)),
        Expr::Pow(b, x) => x.as_int().is_some_and(|n| n.abs() <= 4) && small(b, left),
        Expr::Func(_, x) => small(x, left),
    }
}
