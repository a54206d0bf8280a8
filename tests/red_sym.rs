//! A soundness generator for the scalar claims of the symbolic engine (issue #14, red
//! team session 28).
//!
//! Each case is a small `.tq` file of scalar claims whose truth is known by construction,
//! checked through `tq::report::check_source` as a user's file would be:
//!
//! - **identities**: a random expression and the same expression after a few valid
//!   rewrites (distribution, exp/ln rules on positive arguments, sigmoid/tanh/softplus in
//!   exponential form, relu/abs/max/min in terms of each other, `x → x y / y` with a `y`
//!   that may vanish), and the same claim perturbed (a factor, a sign, a constant, an
//!   exponent);
//! - **inequalities** from known ones (AM-GM and `sqrt(p q) <= (p + q)/2`,
//!   `ln(1 + x) <= x`, `exp(x) >= 1 + x`, Cauchy–Schwarz in two terms, the triangle
//!   inequality, `max >= min`, `x + 1/x >= 2`, Bernoulli, `floor(x) <= x`, `2^N >= N + 1`),
//!   with domains and givens, at random arguments, and their negations and perturbations;
//! - **givens chains** (`given a = 2, b = a`, in either order) and random relations
//!   under bound givens, whose truth is not known (only the checks on `proved` and on
//!   witnesses apply).
//!
//! The checks, with an evaluator of its own (exact rationals where the value is rational,
//! floating point with a margin elsewhere; nothing of tq's `sym`):
//!
//! - a true claim is never `refuted`; a claim false at a point the test finds is never
//!   `proved` (a `confirmed` false claim is counted and listed, not a disagreement:
//!   `confirmed` is evidence);
//! - a `proved` claim holds and both sides are defined at every test point of the
//!   domains that satisfies the givens (a proof of a claim undefined somewhere is wrong);
//! - a `refuted` claim carries a witness whose point lies in the domains (reals; positive
//!   reals for `symbol`; positive whole numbers for `size`), satisfies the givens, has
//!   both sides defined, and fails the relation when re-evaluated here.
//!
//! `cargo test --release --test red_sym` runs 60 files in CI (fixed seeds); the long
//! run: `TQ_RED_SYM_CASES=3000 TQ_RED_SYM_SEED=1 cargo test --release --test red_sym --
//! --ignored --nocapture` (docs/soundness.md, "Red team, session 28").

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// `scalar a`: every real.
    Real,
    /// `symbol p`: a positive real.
    Pos,
    /// `size N`: a positive whole number.
    Size,
}

const VARS: [(&str, Kind); 6] = [
    ("a", Kind::Real),
    ("b", Kind::Real),
    ("c", Kind::Real),
    ("p", Kind::Pos),
    ("q", Kind::Pos),
    ("N", Kind::Size),
];
const A: usize = 0;
const B: usize = 1;
const P: usize = 3;
const Q: usize = 4;
const N: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fun {
    Exp,
    Ln,
    Sqrt,
    Sigmoid,
    Tanh,
    Relu,
    Abs,
    Softplus,
    Floor,
}

impl Fun {
    fn name(self) -> &'static str {
        match self {
            Fun::Exp => "exp",
            Fun::Ln => "ln",
            Fun::Sqrt => "sqrt",
            Fun::Sigmoid => "sigmoid",
            Fun::Tanh => "tanh",
            Fun::Relu => "relu",
            Fun::Abs => "abs",
            Fun::Softplus => "softplus",
            Fun::Floor => "floor",
        }
    }
}

#[derive(Clone, Debug)]
enum E {
    Num(i64, i64),
    Var(usize),
    Add(Box<E>, Box<E>),
    Sub(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
    Div(Box<E>, Box<E>),
    Neg(Box<E>),
    /// A whole exponent.
    Pow(Box<E>, i64),
    /// An exponent that is an expression (a positive base, or a size as exponent).
    PowExpr(Box<E>, Box<E>),
    F(Fun, Box<E>),
    Max(Box<E>, Box<E>),
    Min(Box<E>, Box<E>),
}

fn bx(e: E) -> Box<E> {
    Box::new(e)
}
fn num(n: i64) -> E {
    E::Num(n, 1)
}
fn add(a: E, b: E) -> E {
    E::Add(bx(a), bx(b))
}
fn sub(a: E, b: E) -> E {
    E::Sub(bx(a), bx(b))
}
fn mul(a: E, b: E) -> E {
    E::Mul(bx(a), bx(b))
}
fn div(a: E, b: E) -> E {
    E::Div(bx(a), bx(b))
}
fn neg(a: E) -> E {
    E::Neg(bx(a))
}
fn pow(a: E, k: i64) -> E {
    E::Pow(bx(a), k)
}
fn f(g: Fun, a: E) -> E {
    E::F(g, bx(a))
}

impl E {
    /// The `.tq` text, every operation parenthesized.
    fn text(&self) -> String {
        match self {
            E::Num(n, 1) if *n >= 0 => n.to_string(),
            E::Num(n, 1) => format!("({n})"),
            E::Num(n, d) => format!("({n}/{d})"),
            E::Var(k) => VARS[*k].0.to_string(),
            E::Add(a, b) => format!("({} + {})", a.text(), b.text()),
            E::Sub(a, b) => format!("({} - {})", a.text(), b.text()),
            E::Mul(a, b) => format!("({} * {})", a.text(), b.text()),
            E::Div(a, b) => format!("({} / {})", a.text(), b.text()),
            E::Neg(a) => format!("(-{})", a.text()),
            E::Pow(a, k) if *k < 0 => format!("({}^({k}))", a.text()),
            E::Pow(a, k) => format!("({}^{k})", a.text()),
            E::PowExpr(a, b) => format!("({}^{})", a.text(), b.text()),
            E::F(g, a) => format!("{}({})", g.name(), a.text()),
            E::Max(a, b) => format!("max({}, {})", a.text(), b.text()),
            E::Min(a, b) => format!("min({}, {})", a.text(), b.text()),
        }
    }

    fn vars(&self, out: &mut Vec<usize>) {
        match self {
            E::Num(..) => {}
            E::Var(k) => {
                if !out.contains(k) {
                    out.push(*k)
                }
            }
            E::Add(a, b)
            | E::Sub(a, b)
            | E::Mul(a, b)
            | E::Div(a, b)
            | E::PowExpr(a, b)
            | E::Max(a, b)
            | E::Min(a, b) => {
                a.vars(out);
                b.vars(out)
            }
            E::Neg(a) | E::Pow(a, _) | E::F(_, a) => a.vars(out),
        }
    }

    fn size(&self) -> usize {
        match self {
            E::Num(..) | E::Var(_) => 1,
            E::Add(a, b)
            | E::Sub(a, b)
            | E::Mul(a, b)
            | E::Div(a, b)
            | E::PowExpr(a, b)
            | E::Max(a, b)
            | E::Min(a, b) => 1 + a.size() + b.size(),
            E::Neg(a) | E::Pow(a, _) | E::F(_, a) => 1 + a.size(),
        }
    }

    /// Positive wherever defined, by construction (conservative).
    fn positive(&self) -> bool {
        match self {
            E::Num(n, _) => *n > 0,
            E::Var(k) => VARS[*k].1 != Kind::Real,
            E::Add(a, b) | E::Mul(a, b) | E::Div(a, b) => a.positive() && b.positive(),
            E::Pow(a, _) => a.positive(),
            E::PowExpr(a, _) => a.positive(),
            E::F(Fun::Exp | Fun::Sigmoid | Fun::Softplus, _) => true,
            E::F(Fun::Sqrt, a) => a.positive(),
            E::Max(a, b) => a.positive() || b.positive(),
            E::Min(a, b) => a.positive() && b.positive(),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The test's own evaluator.

#[derive(Clone, Debug)]
enum Val {
    X(BigRational),
    /// A floating-point value and a bound on its absolute error.
    F(f64, f64),
}

/// The relative error charged to every floating-point operation (rounding and the
/// library functions' error, with a wide margin).
const EPS: f64 = 1e-14;

impl Val {
    fn f(&self) -> f64 {
        match self {
            Val::X(r) => r.to_f64().unwrap_or(f64::NAN),
            Val::F(x, _) => *x,
        }
    }
    /// The absolute error bound (a rational converted to floating point: one rounding).
    fn err(&self) -> f64 {
        match self {
            Val::X(r) => r.to_f64().map_or(f64::INFINITY, |x| x.abs() * 1e-16),
            Val::F(_, e) => *e,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Bad {
    /// Undefined at the point (division by zero, ln of a non-positive, ...).
    Undefined,
    /// Cannot tell in floating point (a value near a kink of definedness, overflow).
    Unclear,
}

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// A floating-point result with its error bound (the operands' propagated error `e`
/// plus one rounding).
fn fl(x: f64, e: f64) -> Result<Val, Bad> {
    let e = e + EPS * x.abs() + 1e-300;
    if x.is_finite() && x.abs() < 1e200 && e.is_finite() {
        Ok(Val::F(x, e))
    } else {
        Err(Bad::Unclear)
    }
}

fn exact_sqrt(r: &BigRational) -> Option<BigRational> {
    let n = r.numer().sqrt();
    let d = r.denom().sqrt();
    (&n * &n == *r.numer() && &d * &d == *r.denom()).then(|| BigRational::new(n, d))
}

fn eval(e: &E, pt: &[BigRational]) -> Result<Val, Bad> {
    use Val::X;
    Ok(match e {
        E::Num(n, d) => X(rat(*n, *d)),
        E::Var(k) => X(pt[*k].clone()),
        E::Add(a, b) | E::Sub(a, b) | E::Mul(a, b) | E::Max(a, b) | E::Min(a, b) => {
            let (x, y) = (eval(a, pt)?, eval(b, pt)?);
            match (x, y) {
                (X(x), X(y)) => X(match e {
                    E::Add(..) => x + y,
                    E::Sub(..) => x - y,
                    E::Mul(..) => x * y,
                    E::Max(..) => x.max(y),
                    _ => x.min(y),
                }),
                (x, y) => {
                    let (ex, ey) = (x.err(), y.err());
                    let (x, y) = (x.f(), y.f());
                    match e {
                        E::Add(..) => fl(x + y, ex + ey)?,
                        E::Sub(..) => fl(x - y, ex + ey)?,
                        E::Mul(..) => fl(x * y, x.abs() * ey + y.abs() * ex + ex * ey)?,
                        E::Max(..) => fl(x.max(y), ex.max(ey))?,
                        _ => fl(x.min(y), ex.max(ey))?,
                    }
                }
            }
        }
        E::Div(a, b) => {
            let (x, y) = (eval(a, pt)?, eval(b, pt)?);
            match (x, y) {
                (_, X(y)) if y.is_zero() => return Err(Bad::Undefined),
                (X(x), X(y)) => X(x / y),
                (x, y) => {
                    let (ex, ey) = (x.err(), y.err());
                    let (x, y) = (x.f(), y.f());
                    if y.abs() <= 2.0 * ey {
                        return Err(Bad::Unclear);
                    }
                    let r = x / y;
                    fl(r, (ex + r.abs() * ey) / (y.abs() - ey))?
                }
            }
        }
        E::Neg(a) => match eval(a, pt)? {
            X(x) => X(-x),
            Val::F(x, e) => Val::F(-x, e),
        },
        E::Pow(a, k) => match eval(a, pt)? {
            X(x) if x.is_zero() && *k < 0 => return Err(Bad::Undefined),
            X(x) => X(tq::sym::rat_pow(&x, *k).ok_or(Bad::Unclear)?),
            Val::F(x, e) => {
                if x.abs() <= 2.0 * e && *k < 0 {
                    return Err(Bad::Unclear);
                }
                // |x^k - y^k| <= |k| max(|x|, |y|)^(k - 1) |x - y| on the interval.
                let k = *k as i32;
                let m = if k > 0 { x.abs() + e } else { x.abs() - e };
                fl(x.powi(k), (k.abs() as f64) * m.powi(k - 1).abs() * e)?
            }
        },
        E::PowExpr(a, b) => {
            let (x, y) = (eval(a, pt)?, eval(b, pt)?);
            match (x, y) {
                (X(x), X(y))
                    if y.is_integer() && y.abs() <= BigRational::from_integer(64.into()) =>
                {
                    let k = y.to_integer().to_i64().unwrap();
                    if x.is_zero() && k <= 0 {
                        return Err(Bad::Undefined);
                    }
                    X(tq::sym::rat_pow(&x, k).ok_or(Bad::Unclear)?)
                }
                (x, y) => {
                    let (ex, ey) = (x.err(), y.err());
                    let (x, y) = (x.f(), y.f());
                    if x.abs() <= 2.0 * ex {
                        return Err(Bad::Unclear);
                    }
                    if x < 0.0 {
                        // A negative base at an exponent that is not a whole number.
                        return Err(Bad::Undefined);
                    }
                    // x^y = exp(y ln x): the error of y ln x, then exp's.
                    let r = x.powf(y);
                    let el = ex / (x - ex) * y.abs() + ey * x.ln().abs() + ex * ey;
                    fl(r, r * (el.exp() - 1.0))?
                }
            }
        }
        E::F(g, a) => {
            let x = eval(a, pt)?;
            if let X(r) = &x {
                match g {
                    Fun::Relu => return Ok(X(r.clone().max(BigRational::zero()))),
                    Fun::Abs => return Ok(X(r.abs())),
                    Fun::Floor => return Ok(X(r.floor())),
                    Fun::Ln if !r.is_positive() => return Err(Bad::Undefined),
                    Fun::Ln if r.is_one() => return Ok(X(BigRational::zero())),
                    Fun::Sqrt if r.is_negative() => return Err(Bad::Undefined),
                    Fun::Sqrt => {
                        if let Some(s) = exact_sqrt(r) {
                            return Ok(X(s));
                        }
                    }
                    Fun::Exp if r.is_zero() => return Ok(X(BigRational::one())),
                    Fun::Sigmoid if r.is_zero() => return Ok(X(rat(1, 2))),
                    Fun::Tanh if r.is_zero() => return Ok(X(BigRational::zero())),
                    _ => {}
                }
            }
            let (v, e) = (x.f(), x.err());
            match g {
                Fun::Ln | Fun::Sqrt if v.abs() <= 2.0 * e => return Err(Bad::Unclear),
                Fun::Ln if v < 0.0 => return Err(Bad::Undefined),
                Fun::Sqrt if v < 0.0 => return Err(Bad::Undefined),
                Fun::Floor if (v - v.round()).abs() <= e + 1e-12 => return Err(Bad::Unclear),
                Fun::Exp if v.abs() > 600.0 => return Err(Bad::Unclear),
                _ => {}
            }
            match g {
                Fun::Exp => {
                    let r = v.exp();
                    fl(r, r * (e.exp() - 1.0))?
                }
                Fun::Ln => fl(v.ln(), e / (v - e))?,
                Fun::Sqrt => fl(v.sqrt(), e / (v - e).sqrt())?,
                Fun::Sigmoid => fl(1.0 / (1.0 + (-v).exp()), e)?,
                Fun::Tanh => fl(v.tanh(), e)?,
                Fun::Relu => fl(v.max(0.0), e)?,
                Fun::Abs => fl(v.abs(), e)?,
                Fun::Softplus => {
                    let r = if v > 30.0 {
                        v + (-v).exp().ln_1p()
                    } else {
                        v.exp().ln_1p()
                    };
                    fl(r, e)?
                }
                Fun::Floor => fl(v.floor(), 0.0)?,
            }
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rel {
    Eq,
    Le,
    Ge,
    Lt,
    Gt,
}

impl Rel {
    fn text(self) -> &'static str {
        match self {
            Rel::Eq => "==",
            Rel::Le => "<=",
            Rel::Ge => ">=",
            Rel::Lt => "<",
            Rel::Gt => ">",
        }
    }
    fn negated(self) -> Rel {
        match self {
            Rel::Eq => Rel::Eq,
            Rel::Le => Rel::Gt,
            Rel::Ge => Rel::Lt,
            Rel::Lt => Rel::Ge,
            Rel::Gt => Rel::Le,
        }
    }
    fn strict(self) -> Rel {
        match self {
            Rel::Le => Rel::Lt,
            Rel::Ge => Rel::Gt,
            r => r,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Holds {
    Yes,
    No,
    Unclear,
}

fn compare(l: &Val, r: &Val, rel: Rel) -> Holds {
    let sign = match (l, r) {
        (Val::X(x), Val::X(y)) => (x - y).signum().to_i64().unwrap(),
        _ => {
            let (x, y) = (l.f(), r.f());
            let d = x - y;
            let err = l.err() + r.err() + 1e-12 * (1.0 + x.abs() + y.abs());
            if d.abs() <= err {
                // Equal within the error bound: nothing can be read.
                return Holds::Unclear;
            }
            if d > 0.0 {
                1
            } else {
                -1
            }
        }
    };
    let ok = match rel {
        Rel::Eq => sign == 0,
        Rel::Le => sign <= 0,
        Rel::Ge => sign >= 0,
        Rel::Lt => sign < 0,
        Rel::Gt => sign > 0,
    };
    if ok {
        Holds::Yes
    } else {
        Holds::No
    }
}

// ---------------------------------------------------------------------------------------
// Claims.

#[derive(Clone, Debug)]
enum Given {
    /// `x rel c`.
    Bound(usize, Rel, BigRational),
    /// `x = e` (an expression of the other symbols, or a number).
    Set(usize, E),
}

impl Given {
    fn text(&self) -> String {
        match self {
            Given::Bound(k, rel, c) => format!("{} {} {}", VARS[*k].0, rel.text(), rat_text(c)),
            Given::Set(k, e) => format!("{} = {}", VARS[*k].0, e.text()),
        }
    }
}

fn rat_text(r: &BigRational) -> String {
    if r.is_integer() {
        r.to_integer().to_string()
    } else {
        format!("{}/{}", r.numer(), r.denom())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Truth {
    True,
    False,
    Unknown,
}

#[derive(Clone, Debug)]
struct Claim {
    left: E,
    rel: Rel,
    right: E,
    givens: Vec<Given>,
    truth: Truth,
    family: &'static str,
}

impl Claim {
    fn text(&self) -> String {
        let mut s = format!(
            "{} {} {}",
            self.left.text(),
            self.rel.text(),
            self.right.text()
        );
        if !self.givens.is_empty() {
            s.push_str(" given ");
            s.push_str(
                &self
                    .givens
                    .iter()
                    .map(Given::text)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        s
    }

    fn vars(&self) -> Vec<usize> {
        let mut v = Vec::new();
        self.left.vars(&mut v);
        self.right.vars(&mut v);
        for g in &self.givens {
            match g {
                Given::Bound(k, ..) => {
                    if !v.contains(k) {
                        v.push(*k)
                    }
                }
                Given::Set(k, e) => {
                    if !v.contains(k) {
                        v.push(*k)
                    }
                    e.vars(&mut v)
                }
            }
        }
        v
    }

    /// The point with the `Set` givens applied in dependency order, or `None` when a
    /// given fails (a bound, a set value outside the domain, or undefined).
    fn settle(&self, mut pt: Vec<BigRational>) -> Option<Vec<BigRational>> {
        for _ in 0..=self.givens.len() {
            for g in &self.givens {
                if let Given::Set(k, e) = g {
                    match eval(e, &pt) {
                        Ok(Val::X(v)) => pt[*k] = v,
                        _ => return None,
                    }
                }
            }
        }
        self.satisfies(&pt).then_some(pt)
    }

    /// The point lies in the domains and satisfies every given.
    fn satisfies(&self, pt: &[BigRational]) -> bool {
        for &k in &self.vars() {
            if !in_domain(k, &pt[k]) {
                return false;
            }
        }
        self.givens.iter().all(|g| match g {
            Given::Bound(k, rel, c) => {
                compare(&Val::X(pt[*k].clone()), &Val::X(c.clone()), *rel) == Holds::Yes
            }
            Given::Set(k, e) => match eval(e, pt) {
                Ok(v) => compare(&Val::X(pt[*k].clone()), &v, Rel::Eq) == Holds::Yes,
                Err(_) => false,
            },
        })
    }

    fn at(&self, pt: &[BigRational]) -> Result<Holds, Bad> {
        let l = eval(&self.left, pt)?;
        let r = eval(&self.right, pt)?;
        Ok(compare(&l, &r, self.rel))
    }
}

fn in_domain(k: usize, v: &BigRational) -> bool {
    match VARS[k].1 {
        Kind::Real => true,
        Kind::Pos => v.is_positive(),
        Kind::Size => v.is_integer() && v.is_positive(),
    }
}

/// Test points of the domains: the simple values first, then random ones.
fn points(rng: &mut ChaCha8Rng, count: usize) -> Vec<Vec<BigRational>> {
    let simple: [(i64, i64); 14] = [
        (0, 1),
        (1, 1),
        (-1, 1),
        (2, 1),
        (-2, 1),
        (1, 2),
        (-1, 2),
        (3, 1),
        (-3, 1),
        (1, 3),
        (5, 2),
        (-7, 3),
        (1, 10),
        (10, 1),
    ];
    let mut out = Vec::new();
    for i in 0..count {
        let pt = (0..VARS.len())
            .map(|k| {
                let v = if i < 24 && rng.random_bool(0.8) {
                    let (n, d) = simple[rng.random_range(0..simple.len())];
                    rat(n, d)
                } else {
                    rat(rng.random_range(-40..41), rng.random_range(1..9))
                };
                match VARS[k].1 {
                    Kind::Real => v,
                    Kind::Pos if v.is_positive() => v,
                    Kind::Pos => v.abs() + rat(1, 4),
                    Kind::Size => BigRational::from_integer(
                        (v.abs().to_integer() % BigInt::from(6)) + BigInt::from(1),
                    ),
                }
            })
            .collect();
        out.push(pt);
    }
    // Every variable equal (u = v in many templates), and every real 0.
    out.push(vec![rat(1, 1); VARS.len()]);
    let mut zero = vec![rat(1, 1); VARS.len()];
    zero[0] = rat(0, 1);
    zero[1] = rat(0, 1);
    zero[2] = rat(0, 1);
    out.push(zero);
    out
}

// ---------------------------------------------------------------------------------------
// Generation.

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn small_num(&mut self) -> E {
        let (n, d) = self.pick(&[
            (1, 1),
            (2, 1),
            (3, 1),
            (-1, 1),
            (-2, 1),
            (1, 2),
            (3, 2),
            (-1, 3),
            (5, 1),
        ]);
        E::Num(n, d)
    }

    fn var(&mut self, reals_only: bool) -> E {
        if reals_only {
            E::Var(self.pick(&[0, 1, 2]))
        } else {
            E::Var(self.pick(&[0, 1, 2, 3, 4, 0, 3, 5]))
        }
    }

    /// An expression defined at every point of the domains.
    fn total(&mut self, depth: u32) -> E {
        if depth == 0 || self.rng.random_bool(0.3) {
            return if self.rng.random_bool(0.75) {
                self.var(false)
            } else {
                self.small_num()
            };
        }
        let d = depth - 1;
        match self.rng.random_range(0..16) {
            0 | 1 => add(self.total(d), self.total(d)),
            2 => sub(self.total(d), self.total(d)),
            3 | 4 => mul(self.total(d), self.total(d)),
            5 => div(self.total(d), self.positive(d)),
            6 => neg(self.total(d)),
            7 => {
                let k = self.pick(&[2, 3, 2]);
                pow(self.total(d), k)
            }
            8 => f(Fun::Exp, self.total(d.min(1))),
            9 => f(Fun::Ln, self.positive(d)),
            10 => f(Fun::Sqrt, self.positive(d)),
            11 => {
                let g = self.pick(&[Fun::Sigmoid, Fun::Tanh, Fun::Softplus]);
                f(g, self.total(d))
            }
            12 => {
                let g = self.pick(&[Fun::Relu, Fun::Abs]);
                f(g, self.total(d))
            }
            13 => E::Max(bx(self.total(d)), bx(self.total(d))),
            14 => E::Min(bx(self.total(d)), bx(self.total(d))),
            _ => pow(self.positive(d), -1),
        }
    }

    /// An expression positive at every point of the domains.
    fn positive(&mut self, depth: u32) -> E {
        if depth == 0 || self.rng.random_bool(0.3) {
            return match self.rng.random_range(0..4) {
                0 => E::Num(self.pick(&[1, 2, 3, 5]), self.pick(&[1, 2, 3])),
                1 => E::Var(N),
                _ => E::Var(self.pick(&[P, Q])),
            };
        }
        let d = depth - 1;
        match self.rng.random_range(0..9) {
            0 => add(self.positive(d), self.positive(d)),
            1 => mul(self.positive(d), self.positive(d)),
            2 => div(self.positive(d), self.positive(d)),
            3 => f(Fun::Exp, self.total(d.min(1))),
            4 => add(pow(self.total(d), 2), self.positive(d)),
            5 => f(Fun::Sqrt, self.positive(d)),
            6 => f(Fun::Sigmoid, self.total(d)),
            7 => f(Fun::Softplus, self.total(d)),
            _ => pow(self.positive(d), self.pick(&[2, -1, 3])),
        }
    }

    /// Apply one valid rewrite at a random node of `e` (value kept wherever both are
    /// defined; `x → x y / y` may shrink where the result is defined).
    fn rewrite(&mut self, e: &E) -> E {
        // Descend to a random node with probability by size.
        let here = self.rng.random_range(0..e.size().max(1)) == 0;
        if !here {
            match e {
                E::Add(a, b)
                | E::Sub(a, b)
                | E::Mul(a, b)
                | E::Div(a, b)
                | E::Max(a, b)
                | E::Min(a, b)
                | E::PowExpr(a, b) => {
                    let (a, b) = if self.rng.random_bool(0.5) {
                        (self.rewrite(a), (**b).clone())
                    } else {
                        ((**a).clone(), self.rewrite(b))
                    };
                    return match e {
                        E::Add(..) => add(a, b),
                        E::Sub(..) => sub(a, b),
                        E::Mul(..) => mul(a, b),
                        E::Div(..) => div(a, b),
                        E::Max(..) => E::Max(bx(a), bx(b)),
                        E::Min(..) => E::Min(bx(a), bx(b)),
                        _ => E::PowExpr(bx(a), bx(b)),
                    };
                }
                E::Neg(a) => return neg(self.rewrite(a)),
                E::Pow(a, k) => return pow(self.rewrite(a), *k),
                E::F(g, a) => return f(*g, self.rewrite(a)),
                _ => {}
            }
        }
        self.rewrite_here(e)
    }

    fn rewrite_here(&mut self, e: &E) -> E {
        let c = |x: &E| x.clone();
        let generic = |g: &mut Gen, e: &E| -> E {
            match g.rng.random_range(0..4) {
                // x → x y / y, y maybe zero somewhere.
                0 => {
                    let y = g.total(1);
                    div(mul(c(e), c(&y)), y)
                }
                1 => {
                    let y = g.total(1);
                    sub(add(c(e), c(&y)), y)
                }
                2 => mul(c(e), num(1)),
                _ => {
                    let y = g.positive(1);
                    mul(div(c(e), c(&y)), y)
                }
            }
        };
        match e {
            E::Add(a, b) => match self.rng.random_range(0..2) {
                0 => add(c(b), c(a)),
                _ => sub(c(a), neg(c(b))),
            },
            E::Sub(a, b) => add(c(a), mul(num(-1), c(b))),
            E::Mul(a, b) => match (&**a, &**b) {
                (E::Add(x, y), z) | (z, E::Add(x, y)) => add(mul(c(x), c(z)), mul(c(y), c(z))),
                _ => mul(c(b), c(a)),
            },
            E::Div(a, b) => match self.rng.random_range(0..2) {
                0 => mul(c(a), pow(c(b), -1)),
                _ => div(neg(c(a)), neg(c(b))),
            },
            E::Pow(a, 2) => mul(c(a), c(a)),
            E::Pow(a, 3) => mul(pow(c(a), 2), c(a)),
            E::Pow(a, -1) => div(num(1), c(a)),
            E::Pow(a, k) => mul(pow(c(a), k - 1), c(a)),
            E::F(Fun::Exp, a) => match &**a {
                E::Add(x, y) => mul(f(Fun::Exp, c(x)), f(Fun::Exp, c(y))),
                E::Sub(x, y) => div(f(Fun::Exp, c(x)), f(Fun::Exp, c(y))),
                E::Neg(x) => pow(f(Fun::Exp, c(x)), -1),
                _ => match self.rng.random_range(0..2) {
                    0 => pow(f(Fun::Exp, div(c(a), num(2))), 2),
                    _ => f(Fun::Exp, f(Fun::Ln, f(Fun::Exp, c(a)))),
                },
            },
            E::F(Fun::Ln, a) => match &**a {
                E::Mul(x, y) if x.positive() && y.positive() => {
                    add(f(Fun::Ln, c(x)), f(Fun::Ln, c(y)))
                }
                E::Div(x, y) if x.positive() && y.positive() => {
                    sub(f(Fun::Ln, c(x)), f(Fun::Ln, c(y)))
                }
                E::Pow(x, k) if x.positive() => mul(num(*k), f(Fun::Ln, c(x))),
                E::F(Fun::Exp, x) => c(x),
                _ => neg(f(Fun::Ln, pow(c(a), -1))),
            },
            E::F(Fun::Sqrt, a) => match &**a {
                E::Mul(x, y) if x.positive() && y.positive() => {
                    mul(f(Fun::Sqrt, c(x)), f(Fun::Sqrt, c(y)))
                }
                E::Pow(x, 2) => f(Fun::Abs, c(x)),
                _ => div(c(a), f(Fun::Sqrt, c(a))),
            },
            E::F(Fun::Sigmoid, a) => match self.rng.random_range(0..2) {
                0 => div(num(1), add(num(1), f(Fun::Exp, neg(c(a))))),
                _ => sub(num(1), f(Fun::Sigmoid, neg(c(a)))),
            },
            E::F(Fun::Tanh, a) => match self.rng.random_range(0..2) {
                0 => sub(mul(num(2), f(Fun::Sigmoid, mul(num(2), c(a)))), num(1)),
                _ => div(
                    sub(f(Fun::Exp, c(a)), f(Fun::Exp, neg(c(a)))),
                    add(f(Fun::Exp, c(a)), f(Fun::Exp, neg(c(a)))),
                ),
            },
            E::F(Fun::Softplus, a) => match self.rng.random_range(0..2) {
                0 => f(Fun::Ln, add(num(1), f(Fun::Exp, c(a)))),
                _ => add(c(a), f(Fun::Softplus, neg(c(a)))),
            },
            E::F(Fun::Relu, a) => match self.rng.random_range(0..3) {
                0 => div(add(c(a), f(Fun::Abs, c(a))), num(2)),
                1 => E::Max(bx(c(a)), bx(num(0))),
                _ => add(c(a), f(Fun::Relu, neg(c(a)))),
            },
            E::F(Fun::Abs, a) => match self.rng.random_range(0..4) {
                0 => add(f(Fun::Relu, c(a)), f(Fun::Relu, neg(c(a)))),
                1 => E::Max(bx(c(a)), bx(neg(c(a)))),
                2 => f(Fun::Sqrt, pow(c(a), 2)),
                _ => match &**a {
                    E::Mul(x, y) => mul(f(Fun::Abs, c(x)), f(Fun::Abs, c(y))),
                    _ => f(Fun::Abs, neg(c(a))),
                },
            },
            E::Max(a, b) => match self.rng.random_range(0..3) {
                0 => div(add(add(c(a), c(b)), f(Fun::Abs, sub(c(a), c(b)))), num(2)),
                1 => neg(E::Min(bx(neg(c(a))), bx(neg(c(b))))),
                _ => E::Max(bx(c(b)), bx(c(a))),
            },
            E::Min(a, b) => match self.rng.random_range(0..2) {
                0 => div(sub(add(c(a), c(b)), f(Fun::Abs, sub(c(a), c(b)))), num(2)),
                _ => sub(add(c(a), c(b)), E::Max(bx(c(a)), bx(c(b)))),
            },
            _ => generic(self, e),
        }
    }

    /// A perturbation of a claim side that makes a true identity false (wherever the
    /// test finds a point where they differ).
    fn perturb(&mut self, e: &E) -> E {
        match self.rng.random_range(0..7) {
            0 => mul(num(2), c_(e)),
            1 => add(c_(e), num(1)),
            2 => neg(c_(e)),
            3 => pow(c_(e), 2),
            4 => add(c_(e), E::Num(1, 1000)),
            5 => mul(c_(e), E::Num(1001, 1000)),
            _ => add(c_(e), self.var(false)),
        }
    }

    fn identity(&mut self) -> Vec<Claim> {
        let depth = self.rng.random_range(1..4);
        let left = self.total(depth);
        let mut right = left.clone();
        for _ in 0..self.rng.random_range(1..4) {
            right = self.rewrite(&right);
        }
        let (left, right) = if self.rng.random_bool(0.5) {
            (left, right)
        } else {
            (right, left)
        };
        let wrong = self.perturb(&right);
        vec![
            Claim {
                left: left.clone(),
                rel: Rel::Eq,
                right,
                givens: vec![],
                truth: Truth::True,
                family: "identity",
            },
            Claim {
                left,
                rel: Rel::Eq,
                right: wrong,
                givens: vec![],
                truth: Truth::Unknown,
                family: "identity perturbed",
            },
        ]
    }

    /// A known inequality at random arguments, with its negation and a perturbation.
    fn inequality(&mut self) -> Vec<Claim> {
        let d = self.rng.random_range(0..3);
        let u = self.total(d);
        let d = self.rng.random_range(0..3);
        let v = self.total(d);
        let d = self.rng.random_range(0..2);
        let pp = self.positive(d);
        let d = self.rng.random_range(0..2);
        let qq = self.positive(d);
        let a = E::Var(A);
        let mut givens = Vec::new();
        let (left, rel, right) = match self.rng.random_range(0..17) {
            0 => (f(Fun::Exp, u.clone()), Rel::Ge, add(num(1), u)),
            1 => (
                add(pow(u.clone(), 2), pow(v.clone(), 2)),
                Rel::Ge,
                mul(mul(num(2), u), v),
            ),
            2 => (
                f(Fun::Abs, add(u.clone(), v.clone())),
                Rel::Le,
                add(f(Fun::Abs, u), f(Fun::Abs, v)),
            ),
            3 => (
                E::Max(bx(u.clone()), bx(v.clone())),
                Rel::Ge,
                E::Min(bx(u), bx(v)),
            ),
            4 => (f(Fun::Relu, u.clone()), Rel::Ge, u),
            5 => (
                f(Fun::Sqrt, mul(pp.clone(), qq.clone())),
                Rel::Le,
                div(add(pp, qq), num(2)),
            ),
            6 => (f(Fun::Ln, add(num(1), pp.clone())), Rel::Le, pp),
            7 => (f(Fun::Ln, pp.clone()), Rel::Le, sub(pp, num(1))),
            8 => {
                let x = self.total(1);
                let y = self.total(1);
                (
                    pow(add(mul(u.clone(), x.clone()), mul(v.clone(), y.clone())), 2),
                    Rel::Le,
                    mul(add(pow(u, 2), pow(v, 2)), add(pow(x, 2), pow(y, 2))),
                )
            }
            9 => (
                add(div(pp.clone(), qq.clone()), div(qq, pp)),
                Rel::Ge,
                num(2),
            ),
            10 => (f(Fun::Softplus, u.clone()), Rel::Ge, f(Fun::Relu, u)),
            11 => {
                givens.push(Given::Bound(A, Rel::Gt, rat(-1, 1)));
                (f(Fun::Ln, add(num(1), a.clone())), Rel::Le, a)
            }
            12 => {
                givens.push(Given::Bound(A, Rel::Gt, rat(0, 1)));
                (add(a.clone(), div(num(1), a)), Rel::Ge, num(2))
            }
            13 => {
                let k = self.pick(&[2, 3, 4, 5]);
                givens.push(Given::Bound(A, Rel::Ge, rat(-1, 1)));
                (
                    pow(add(num(1), a.clone()), k),
                    Rel::Ge,
                    add(num(1), mul(num(k), a)),
                )
            }
            14 => (f(Fun::Floor, u.clone()), Rel::Le, u),
            15 => (
                E::PowExpr(bx(num(2)), bx(E::Var(N))),
                Rel::Ge,
                add(E::Var(N), num(1)),
            ),
            _ => (f(Fun::Sigmoid, u.clone()), Rel::Lt, num(1)),
        };
        let mut out = vec![Claim {
            left: left.clone(),
            rel,
            right: right.clone(),
            givens: givens.clone(),
            truth: Truth::True,
            family: "inequality",
        }];
        // Negation (false wherever the test finds a point of the original's strict
        // side), and a perturbation of the smaller side.
        out.push(Claim {
            left: left.clone(),
            rel: rel.negated(),
            right: right.clone(),
            givens: givens.clone(),
            truth: Truth::Unknown,
            family: "inequality negated",
        });
        let (l2, r2) = match rel {
            Rel::Ge | Rel::Gt => (left.clone(), self.perturb(&right)),
            _ => (self.perturb(&left), right.clone()),
        };
        out.push(Claim {
            left: l2,
            rel,
            right: r2,
            givens: givens.clone(),
            truth: Truth::Unknown,
            family: "inequality perturbed",
        });
        // The strict form (false where equality is reached).
        if rel != rel.strict() {
            out.push(Claim {
                left,
                rel: rel.strict(),
                right,
                givens,
                truth: Truth::Unknown,
                family: "inequality strict",
            });
        }
        out
    }

    /// Givens that chain (`a = 2, b = a` and the reverse order), and random relations
    /// under bound givens.
    fn givens_claims(&mut self) -> Vec<Claim> {
        let mut out = Vec::new();
        let e = self.total(2);
        let (n, d) = self.pick(&[(2, 1), (-1, 1), (1, 2), (3, 1), (0, 1)]);
        let first = Given::Set(A, E::Num(n, d));
        let second = match self.rng.random_range(0..3) {
            0 => Given::Set(B, E::Var(A)),
            1 => Given::Set(B, add(E::Var(A), num(1))),
            _ => Given::Set(B, mul(num(2), E::Var(A))),
        };
        let chain = if self.rng.random_bool(0.5) {
            vec![first, second]
        } else {
            vec![second, first]
        };
        // The claim states e's value under the givens, computed here; or a wrong value.
        let probe = Claim {
            left: e.clone(),
            rel: Rel::Eq,
            right: num(0),
            givens: chain.clone(),
            truth: Truth::Unknown,
            family: "",
        };
        let base = vec![rat(1, 1); VARS.len()];
        if let Some(pt) = probe.settle(base) {
            if let Ok(Val::X(v)) = eval(&e, &pt) {
                let (vn, vd) = (v.numer().to_i64(), v.denom().to_i64());
                if let (Some(vn), Some(vd)) = (vn, vd) {
                    let mut vs = Vec::new();
                    e.vars(&mut vs);
                    if vs.iter().all(|k| *k == A || *k == B) {
                        out.push(Claim {
                            left: e.clone(),
                            rel: Rel::Eq,
                            right: E::Num(vn, vd),
                            givens: chain.clone(),
                            truth: Truth::True,
                            family: "givens chain",
                        });
                        out.push(Claim {
                            left: e.clone(),
                            rel: Rel::Eq,
                            right: E::Num(vn + vd, vd),
                            givens: chain.clone(),
                            truth: Truth::False,
                            family: "givens chain wrong",
                        });
                    }
                }
            }
        }
        // A random relation under a bound given: truth unknown.
        let l = self.total(2);
        let r = self.total(1);
        let rel = self.pick(&[Rel::Le, Rel::Ge, Rel::Lt, Rel::Gt, Rel::Eq]);
        let k = self.pick(&[A, B, P]);
        let c = self.pick(&[(0, 1), (1, 1), (-1, 1), (1, 2), (2, 1)]);
        let brel = self.pick(&[Rel::Ge, Rel::Gt, Rel::Le, Rel::Lt]);
        let c = rat(c.0, c.1);
        if !(VARS[k].1 == Kind::Pos && matches!(brel, Rel::Le | Rel::Lt) && !c.is_positive()) {
            out.push(Claim {
                left: l,
                rel,
                right: r,
                givens: vec![Given::Bound(k, brel, c)],
                truth: Truth::Unknown,
                family: "random relation",
            });
        }
        out
    }
}

fn c_(e: &E) -> E {
    e.clone()
}

// ---------------------------------------------------------------------------------------
// Running one file.

#[derive(Default, Debug)]
struct Tally {
    files: usize,
    claims: usize,
    proved: usize,
    refuted: usize,
    confirmed: usize,
    undecided: usize,
    known_false: usize,
    false_confirmed: Vec<String>,
    unverifiable_witness: Vec<String>,
    disagreements: Vec<String>,
}

fn header() -> &'static str {
    "scalar a, b, c\nsymbol p, q\nsize N\n"
}

/// Settle each claim's truth by the test's points: a true-by-construction claim must
/// hold wherever defined (else the generator is wrong); an unknown one is false when a
/// point fails clearly.
fn settle_truth(claim: &mut Claim, pts: &[Vec<BigRational>]) -> Result<(), String> {
    let mut failing = None;
    for pt in pts {
        let Some(pt) = claim.settle(pt.clone()) else {
            continue;
        };
        if let Ok(Holds::No) = claim.at(&pt) {
            failing = Some(pt);
            break;
        }
    }
    match (claim.truth, failing) {
        (Truth::True, Some(pt)) => Err(format!(
            "generator: the true claim `{}` fails at {}",
            claim.text(),
            show(&pt, claim)
        )),
        (Truth::False, None) => {
            claim.truth = Truth::Unknown;
            Ok(())
        }
        (Truth::Unknown, Some(_)) => {
            claim.truth = Truth::False;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn show(pt: &[BigRational], claim: &Claim) -> String {
    claim
        .vars()
        .iter()
        .map(|&k| format!("{} = {}", VARS[k].0, rat_text(&pt[k])))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_file(seed: u64, tally: &mut Tally) {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let mut claims = Vec::new();
    while claims.len() < 8 {
        let batch = match g.rng.random_range(0..3) {
            0 => g.identity(),
            1 => g.inequality(),
            _ => g.givens_claims(),
        };
        claims.extend(batch);
    }
    let mut prng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let pts = points(&mut prng, 80);
    let mut src = String::from(header());
    for c in claims.iter_mut() {
        if let Err(e) = settle_truth(c, &pts) {
            panic!("{e} (seed {seed})");
        }
        src.push_str(&format!("claim {}\n", c.text()));
    }
    let opts = Options {
        seed,
        no_monte_carlo: true,
        no_gradcheck: true,
        ..Options::default()
    };
    let report = check_source("red_sym.tq", &src, &opts);
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {} (line {})", d.code, d.message, d.span.start))
        .collect();
    assert!(
        errors.is_empty(),
        "seed {seed}: the generated file does not check: {errors:?}\n{src}"
    );
    assert_eq!(
        report.claims.len(),
        claims.len(),
        "seed {seed}: claims written and decided differ\n{src}"
    );
    tally.files += 1;
    for (c, r) in claims.iter().zip(&report.claims) {
        tally.claims += 1;
        let text = c.text();
        let mut fail = |what: String| {
            tally
                .disagreements
                .push(format!("seed {seed}, {}: `{text}`: {what}", c.family))
        };
        if c.truth == Truth::False {
            tally.known_false += 1;
        }
        match r.verdict {
            Verdict::Proved => {
                tally.proved += 1;
                if c.truth == Truth::False {
                    fail(format!("false, proved: {}", r.evidence));
                }
                for pt in &pts {
                    let Some(pt) = c.settle(pt.clone()) else {
                        continue;
                    };
                    match c.at(&pt) {
                        Err(Bad::Undefined) => {
                            fail(format!(
                                "proved, but undefined at {}: {}",
                                show(&pt, c),
                                r.evidence
                            ));
                            break;
                        }
                        Ok(Holds::No) => {
                            fail(format!("proved, but fails at {}", show(&pt, c)));
                            break;
                        }
                        _ => {}
                    }
                }
            }
            Verdict::Refuted => {
                tally.refuted += 1;
                if c.truth == Truth::True {
                    fail(format!("true, refuted: {}", r.evidence));
                }
                check_witness(c, r, &mut fail, &mut tally.unverifiable_witness, seed);
            }
            Verdict::Confirmed => {
                tally.confirmed += 1;
                if c.truth == Truth::False {
                    tally
                        .false_confirmed
                        .push(format!("seed {seed}, {}: `{text}`", c.family));
                }
            }
            Verdict::Undecided => tally.undecided += 1,
        }
    }
}

fn check_witness(
    c: &Claim,
    r: &tq::claims::ClaimReport,
    fail: &mut impl FnMut(String),
    unverifiable: &mut Vec<String>,
    seed: u64,
) {
    let Some(w) = &r.witness else {
        fail(format!("refuted without a witness: {}", r.evidence));
        return;
    };
    let mut pt = vec![rat(1, 1); VARS.len()];
    let mut missing = Vec::new();
    for k in c.vars() {
        match w.point.get(VARS[k].0) {
            Some(v) => pt[k] = v.clone(),
            None => missing.push(k),
        }
    }
    // A symbol a given sets may be left out of the point: set it here.
    let set_by_given: Vec<usize> = c
        .givens
        .iter()
        .filter_map(|g| match g {
            Given::Set(k, _) => Some(*k),
            _ => None,
        })
        .collect();
    // A symbol the witness leaves out (one the sides do not depend on after
    // simplification) is taken at 1.
    let _ = &set_by_given;
    for _ in 0..=c.givens.len() {
        for g in &c.givens {
            if let Given::Set(k, e) = g {
                if missing.contains(k) {
                    if let Ok(Val::X(v)) = eval(e, &pt) {
                        pt[*k] = v;
                    }
                }
            }
        }
    }
    if !c.satisfies(&pt) {
        fail(format!(
            "the witness {} is outside the domains or the givens ({})",
            show(&pt, c),
            w.describe()
        ));
        return;
    }
    match c.at(&pt) {
        Err(Bad::Undefined) => fail(format!(
            "the witness {} is a point where the claim is undefined ({})",
            show(&pt, c),
            w.describe()
        )),
        Ok(Holds::Yes) => fail(format!(
            "the claim holds at its witness {} ({}; evidence: {})",
            show(&pt, c),
            w.describe(),
            r.evidence
        )),
        Ok(Holds::No) => {}
        _ => unverifiable.push(format!(
            "seed {seed}: `{}` at {} ({})",
            c.text(),
            show(&pt, c),
            w.describe()
        )),
    }
}

fn run(first: u64, count: u64) -> Tally {
    let mut tally = Tally::default();
    for seed in first..first + count {
        run_file(seed, &mut tally);
        if count >= 200 && (seed - first + 1).is_multiple_of(200) {
            eprintln!(
                "red_sym: {} files, {} claims, {} disagreements so far",
                tally.files,
                tally.claims,
                tally.disagreements.len()
            );
        }
    }
    tally
}

fn summary(t: &Tally) -> String {
    format!(
        "{} files, {} claims: {} proved, {} refuted (each witness re-checked; {} unverifiable in floating point), {} confirmed, {} undecided; {} known false ({} of them confirmed); {} disagreements",
        t.files,
        t.claims,
        t.proved,
        t.refuted,
        t.unverifiable_witness.len(),
        t.confirmed,
        t.undecided,
        t.known_false,
        t.false_confirmed.len(),
        t.disagreements.len()
    )
}

#[test]
fn generated_scalar_claims_are_never_wrong() {
    let t = run(0, 60);
    eprintln!("red_sym: {}", summary(&t));
    assert!(
        t.disagreements.is_empty(),
        "{}\n{}",
        summary(&t),
        t.disagreements.join("\n")
    );
    // The generator must exercise every verdict, or it tests nothing.
    assert!(
        t.proved > 0 && t.refuted > 0 && t.known_false > 0,
        "{}",
        summary(&t)
    );
}

#[test]
#[ignore]
fn generated_scalar_claims_long_run() {
    let count = std::env::var("TQ_RED_SYM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let first = std::env::var("TQ_RED_SYM_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1)
        * 1_000_000;
    let t = run(first, count);
    eprintln!("red_sym long run: {}", summary(&t));
    for d in &t.disagreements {
        eprintln!("DISAGREEMENT {d}");
    }
    for d in &t.false_confirmed {
        eprintln!("FALSE-CONFIRMED {d}");
    }
    for d in &t.unverifiable_witness {
        eprintln!("UNVERIFIABLE {d}");
    }
    assert!(t.disagreements.is_empty(), "{}", summary(&t));
}
