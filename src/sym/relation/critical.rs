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
        if self.dom.integers.contains(s) {
            return self.whole_critical_values(s);
        }
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
        // The closed ends, then both ends approached from inside, nearest first (snd42:
        // with several symbols the near ends come early, `D W x < 20` for W, x in [0, 1)
        // needs W = x = 99/100 beside a large D).
        for end in [&dom.lo, &dom.hi] {
            if let End::At(a, false) = end {
                out.push(a.clone());
            }
        }
        for d in [r(1, 100), r(1, 8), r(1, 2)] {
            if let End::At(a, _) = &dom.lo {
                out.push(a + &d);
            }
            if let End::At(b, _) = &dom.hi {
                out.push(b - &d);
            }
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

    /// The values of the whole-number symbol `s` (a size) that are tried with the other
    /// symbols' critical values (snd42, probe41 q04): its least value and the two above,
    /// then the powers of four from 16 to 65,536, so that a claim false
    /// only at a large size and an extreme value of another symbol (`D tanh(u)^2 <= 10`:
    /// D = 16, u = 2048) is met. A symbol in an exponent keeps its small values (`a^N`
    /// at N = 2^16 is a number of 65,536 digits).
    fn whole_critical_values(&self, s: &str) -> Vec<BigRational> {
        let dom = self.dom.of(s);
        let first = match &dom.lo {
            End::At(v, _) => v.ceil(),
            End::Unbounded => BigRational::one(),
        };
        let mut out: Vec<BigRational> = (0..3)
            .map(|k| &first + BigRational::from_integer(BigInt::from(k)))
            .collect();
        let mut exponents = BTreeSet::new();
        self.lhs.exponent_symbols(&mut exponents);
        self.rhs.exponent_symbols(&mut exponents);
        if !exponents.contains(s) {
            let large: Vec<i64> = (2..=8).map(|j| 1i64 << (2 * j)).collect();
            out.extend(
                large
                    .into_iter()
                    .map(|v| BigRational::from_integer(BigInt::from(v)))
                    .filter(|v| *v > first),
            );
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
        let lines = self.line_points();
        for p in self
            .critical_points(CRITICAL_POINTS)
            .into_iter()
            .chain(lines)
        {
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

    /// Points next to the line where an argument affine in the claim's two real symbols
    /// is zero (snd42, probe41 q05: `abs(gelu(a) - gelu(b)) <= 1.128 abs(a - b)` is
    /// false only for b near a, with a where gelu's slope exceeds 1.128, about [1.35,
    /// 1.48]): the first symbol on the grid of its domain (multiples of 1/8 in [−12,
    /// 12], powers of two), the second on the line moved by ±1/64. Empty unless the claim
    /// has exactly two symbols, both real.
    fn line_points(&self) -> Vec<BTreeMap<String, BigRational>> {
        let syms: Vec<&String> = self.syms.iter().collect();
        let [s, t] = syms.as_slice() else {
            return Vec::new();
        };
        if self.dom.integers.contains(*s)
            || self.dom.integers.contains(*t)
            || !self.consts.is_empty()
        {
            return Vec::new();
        }
        let mut lines: Vec<[BigRational; 3]> = Vec::new();
        for side in [self.lhs, self.rhs] {
            arguments(side, &mut |arg| {
                if let Some(l) = affine_in_two(arg, s, t) {
                    if !lines.contains(&l) {
                        lines.push(l);
                    }
                }
            });
        }
        let r = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let mut out = Vec::new();
        for [c, p, q] in lines.iter().take(2) {
            for v in self.dom.grid(s) {
                let on = (-c - p * &v) / q;
                for d in [r(1, 64), r(-1, 64)] {
                    out.push(BTreeMap::from([
                        ((*s).clone(), v.clone()),
                        ((*t).clone(), &on + &d),
                    ]));
                }
            }
        }
        out
    }

    /// The points made of [`Problem::critical_values`], simplest first, at most `cap`;
    /// empty when a named constant is among the claim's symbols, when every symbol is a
    /// whole number (their own points cover them: small points, whole points, the
    /// univariate search) or no symbol has a value. Whole-number symbols beside real
    /// ones take [`Problem::whole_critical_values`] (snd42: they emptied the points).
    pub(super) fn critical_points(&self, cap: usize) -> Vec<BTreeMap<String, BigRational>> {
        let syms: Vec<&String> = self.syms.iter().collect();
        if syms.is_empty()
            || syms.iter().any(|s| self.consts.contains_key(*s))
            || syms.iter().all(|s| self.dom.integers.contains(*s))
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

/// `[c, p, q]` with `arg = c + p s + q t` for every s, t (p, q non-zero), when `arg` reads
/// both and nothing else and is affine in them (checked exactly at three further points;
/// a wrong guess only costs points, never a verdict).
fn affine_in_two(arg: &Expr, s: &str, t: &str) -> Option<[BigRational; 3]> {
    let free = arg.free_symbols();
    if free.len() != 2 || !free.contains(s) || !free.contains(t) || !small(arg, &mut 64) {
        return None;
    }
    let r = |n: i64| BigRational::from_integer(BigInt::from(n));
    let at = |x: BigRational, y: BigRational| {
        eval_exact(
            arg,
            &BTreeMap::from([(s.to_string(), x), (t.to_string(), y)]),
        )
        .ok()
    };
    let c = at(r(0), r(0))?;
    let p = at(r(1), r(0))? - &c;
    let q = at(r(0), r(1))? - &c;
    if p.is_zero() || q.is_zero() {
        return None;
    }
    for (x, y) in [(2, 3), (-5, 7), (11, -13)] {
        if at(r(x), r(y))? != &c + &p * r(x) + &q * r(y) {
            return None;
        }
    }
    Some([c, p, q])
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
