//! Where expressions are defined, and what is known of their values.
//!
//! - **Definedness conditions.** The normal form folds `x · x⁻¹` to 1 and `0 · ln 0` to
//!   0, so it forgets where an expression was undefined. While a [`collecting`] scope
//!   is open, the constructors record a [`Condition`] for every division
//!   (`base⁻ⁿ`: base ≠ 0), every fractional power (base ≥ 0, or > 0 for a negative
//!   exponent) and every logarithm (argument > 0) they build, before any folding; the
//!   relation checker requires them (docs/soundness.md).
//! - **Ranges.** [`range`] bounds an expression over the symbols' domains with exact
//!   rational endpoints, open or closed, using only facts that hold exactly:
//!   `exp > 0`, `sigmoid ∈ (0, 1)`, `tanh ∈ (−1, 1)`, `relu, abs ≥ 0`, `step ∈ [0, 1]`,
//!   a positive base to any power is positive, even powers are non-negative, and
//!   interval arithmetic on sums and products. No floating point.
//! - **Enclosures.** [`enclose`] bounds the value at a point in floating point with
//!   every operation widened outward by 10⁻¹² relative plus 10⁻³⁰⁰ absolute (far
//!   beyond the library functions' error of about 10⁻¹⁶), giving up on overflow. It
//!   re-checks a refutation found in floating point: an underflowed or overflowed
//!   value never separates from what it is compared with.

pub use super::enclose::{enclose, Enclosure};
use super::interval::{closed, open};
pub use super::interval::{End, Interval};
use super::{Expr, Func};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What must hold for an expression to be defined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// A denominator: `e ≠ 0`.
    NonZero(Expr),
    /// The argument of a logarithm, or the base of a negative fractional power: `e > 0`.
    Positive(Expr),
    /// The base of a positive fractional power: `e ≥ 0`.
    NonNegative(Expr),
    /// `base^exp` with an exponent that is not a number (`x^(-s)`, `x^(s/2)`): defined
    /// where the base is positive, or the exponent is whole and (the base is non-zero
    /// or the exponent is ≥ 0), or the base is ≥ 0 and the exponent positive. Which of
    /// these the domains show is decided by [`Condition::on_domains`]; the expression
    /// the condition is about is the base.
    Power(Expr, Expr),
}

impl Condition {
    /// The expression the condition is about.
    pub fn expr(&self) -> &Expr {
        match self {
            Condition::NonZero(e)
            | Condition::Positive(e)
            | Condition::NonNegative(e)
            | Condition::Power(e, _) => e,
        }
    }

    /// A [`Condition::Power`] as one of the other conditions on the domains (`None`:
    /// it holds everywhere there): the base positive holds; a whole exponent (integer
    /// coefficients on symbols the domains make integers) needs the base non-zero unless
    /// the exponent is ≥ 0; another exponent needs the base ≥ 0 when it is positive,
    /// > 0 otherwise. Other conditions are returned as they are.
    pub fn on_domains(&self, dom: &Domains) -> Option<Condition> {
        self.on_domains_whole(dom, &BTreeSet::new())
    }

    /// [`Condition::on_domains`], with the symbols of `whole` whole numbers too (an
    /// update rule's step `t ≥ 0`, which the domains give as a real).
    pub fn on_domains_whole(&self, dom: &Domains, whole: &BTreeSet<String>) -> Option<Condition> {
        let Condition::Power(b, x) = self else {
            return Some(self.clone());
        };
        if range(b, dom).lo_above_zero(true) {
            return None;
        }
        // 0^x is defined where x >= 0 (0^0 = 1).
        if b.as_num().is_some_and(|v| v.is_zero()) {
            return Some(Condition::NonNegative(x.clone()));
        }
        let ex = range(x, dom);
        if whole_on(x, dom, whole) {
            if ex.lo_above_zero(false) {
                None
            } else {
                Some(Condition::NonZero(b.clone()))
            }
        } else if ex.lo_above_zero(true) {
            Some(Condition::NonNegative(b.clone()))
        } else {
            Some(Condition::Positive(b.clone()))
        }
    }

    /// The same condition on `f(expr)` (after a substitution).
    pub fn map(&self, f: impl Fn(&Expr) -> Expr) -> Condition {
        match self {
            Condition::NonZero(e) => Condition::NonZero(f(e)),
            Condition::Positive(e) => Condition::Positive(f(e)),
            Condition::NonNegative(e) => Condition::NonNegative(f(e)),
            Condition::Power(b, x) => Condition::Power(f(b), f(x)),
        }
    }

    /// Whether a value satisfies it (of a [`Condition::Power`], a value of the base
    /// alone: only a positive base is known to).
    pub fn holds_at(&self, v: &BigRational) -> bool {
        match self {
            Condition::NonZero(_) => !v.is_zero(),
            Condition::Positive(_) => v.is_positive(),
            Condition::NonNegative(_) => !v.is_negative(),
            Condition::Power(..) => v.is_positive(),
        }
    }

    /// Whether every value in the interval satisfies it.
    fn holds_on(&self, i: &Interval) -> bool {
        match self {
            Condition::NonZero(_) => i.excludes_zero(),
            Condition::Positive(_) => i.lo_above_zero(true),
            Condition::NonNegative(_) => i.lo_above_zero(false),
            Condition::Power(..) => i.lo_above_zero(true),
        }
    }
}

/// Whether `e` takes whole values only on the domains: integer numbers, symbols the
/// domains make integers, and sums, products and non-negative whole powers of them.
fn whole_on(e: &Expr, dom: &Domains, whole: &BTreeSet<String>) -> bool {
    match e {
        Expr::Num(r) => r.is_integer(),
        Expr::Sym(s) => dom.integers.contains(s) || whole.contains(s),
        Expr::Add(v) | Expr::Mul(v) => v.iter().all(|x| whole_on(x, dom, whole)),
        Expr::Pow(b, x) => {
            whole_on(b, dom, whole)
                && x.as_num()
                    .is_some_and(|r| r.is_integer() && !r.is_negative())
        }
        Expr::Func(..) => false,
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::NonZero(e) => write!(f, "{} ≠ 0", super::to_ascii(e)),
            Condition::Positive(e) => write!(f, "{} > 0", super::to_ascii(e)),
            Condition::NonNegative(e) => write!(f, "{} ≥ 0", super::to_ascii(e)),
            Condition::Power(b, x) => {
                write!(f, "{}^({}) defined", super::to_ascii(b), super::to_ascii(x))
            }
        }
    }
}

thread_local! {
    static COLLECT: RefCell<Option<BTreeSet<Condition>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, with its result, the definedness conditions of every power
/// and logarithm the constructors built meanwhile (before folding). Scopes nest: the
/// inner scope's conditions are also the outer's.
pub fn collecting<T>(f: impl FnOnce() -> T) -> (T, Vec<Condition>) {
    let outer = COLLECT.with(|c| c.borrow_mut().replace(BTreeSet::new()));
    let out = f();
    let mine = COLLECT.with(|c| c.borrow_mut().take()).unwrap_or_default();
    if let Some(mut o) = outer {
        o.extend(mine.iter().cloned());
        COLLECT.with(|c| *c.borrow_mut() = Some(o));
    }
    (out, mine.into_iter().collect())
}

/// Records a condition in the open [`collecting`] scope (a no-op outside one): for a
/// lowering that reuses an expression built earlier, whose conditions it kept.
pub fn note_condition(c: Condition) {
    note(c)
}

fn note(c: Condition) {
    COLLECT.with(|cell| {
        if let Ok(mut b) = cell.try_borrow_mut() {
            if let Some(set) = b.as_mut() {
                set.insert(c);
            }
        }
    });
}

/// Whether a [`collecting`] scope is open on this thread (a lowering that would reuse
/// an expression built earlier without its conditions must not, then).
pub fn is_collecting() -> bool {
    active()
}

fn active() -> bool {
    COLLECT.with(|c| c.try_borrow().map(|b| b.is_some()).unwrap_or(false))
}

/// Called by [`Expr::pow`] before it folds anything.
pub(super) fn note_pow(base: &Expr, exp: &Expr) {
    if !active() {
        return;
    }
    let Some(x) = exp.as_num() else {
        // An exponent that is not a number and reads as negative or fractional (`x^(-s)`,
        // `x^(s/2)`): what it needs of the base depends on the exponent's domain, judged
        // with the domains ([`Condition::on_domains`]). A positive number as base needs
        // nothing. (A difference such as the distance `L - l` of a closed form is not
        // taken as negative here; powers whose exponents a product adds are, below.)
        if !base.as_num().is_some_and(|b| b.is_positive()) && suspicious(exp) {
            note(Condition::Power(base.clone(), exp.clone()));
        }
        return;
    };
    let cond = if x.is_integer() {
        if !x.is_negative() {
            return;
        }
        Condition::NonZero(base.clone())
    } else if x.is_negative() {
        Condition::Positive(base.clone())
    } else {
        Condition::NonNegative(base.clone())
    };
    if let Some(b) = base.as_num() {
        if cond.holds_at(b) {
            return;
        }
    }
    note(cond);
}

/// Called by [`Expr::mul`] when it adds the exponents of powers of one base: each power
/// at an exponent that is not a number needs what [`Condition::Power`] says, which the
/// sum no longer shows (`x^(-s) x^s` is 1, undefined at x = 0).
pub(super) fn note_power_fold(base: &Expr, exps: &[Expr]) {
    if !active() || exps.len() < 2 || base.as_num().is_some_and(|b| b.is_positive()) {
        return;
    }
    for e in exps {
        if e.as_num().is_none() {
            note(Condition::Power(base.clone(), e.clone()));
        }
    }
}

/// Called by [`Expr::pow`] when it folds a power of a power at a whole exponent,
/// `(x^e)^n` to `x^(e n)`: the inner power at an exponent that is not a number needs what
/// [`Condition::Power`] says, which the product of the exponents no longer shows
/// (`(a^b)^2` is `a^(2 b)`, -1 at a = -1, b = 1/2, where a^b is undefined; crit43,
/// probe43 r17).
pub(super) fn note_power_of_power(base: &Expr, exp: &Expr) {
    if !active() || exp.as_num().is_some() || base.as_num().is_some_and(|b| b.is_positive()) {
        return;
    }
    note(Condition::Power(base.clone(), exp.clone()));
}

/// The conditions that normalising the exponent `e` again would record (only while a
/// [`collecting`] scope is open): every power reached through its sums, products and
/// the exponents of its powers, as [`Expr::mul`] reaches them. A product takes a lone
/// exponent as it is instead of normalising it again (session 33); this keeps what it
/// records the same.
pub(super) fn note_exponent_powers(e: &Expr) {
    if !active() {
        return;
    }
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match x {
            Expr::Add(v) | Expr::Mul(v) => stack.extend(v.iter()),
            Expr::Pow(b, p) => {
                note_pow(b, p);
                stack.push(p);
            }
            Expr::Num(_) | Expr::Sym(_) | Expr::Func(..) => {}
        }
    }
}

/// An exponent that is not a number and reads as negative (every term of its expanded
/// form has a negative coefficient: `-s`, `-2 s - 1`) or fractional (a term with a
/// coefficient that is not whole: `s/2`).
fn suspicious(exp: &Expr) -> bool {
    // The terms and their coefficients are borrowed: the exponent of a power tower is
    // the whole tower above it, and a copy of it per power built made building a tower
    // quadratic in its height (session 33).
    let terms = match exp {
        Expr::Add(ts) => ts.as_slice(),
        other => std::slice::from_ref(other),
    };
    // A term's coefficient, `None` for 1.
    fn coef(t: &Expr) -> Option<&BigRational> {
        match t {
            Expr::Num(r) => Some(r),
            Expr::Mul(fs) => fs.iter().find_map(|f| f.as_num()),
            _ => None,
        }
    }
    terms
        .iter()
        .all(|t| coef(t).is_some_and(|r| r.is_negative()))
        || terms
            .iter()
            .any(|t| coef(t).is_some_and(|r| !r.is_integer()))
}

/// Called by [`Expr::func`] before it folds anything.
pub(super) fn note_func(f: Func, x: &Expr) {
    if !active() || f != Func::Ln {
        return;
    }
    if x.as_num().is_some_and(|v| v.is_positive()) {
        return;
    }
    note(Condition::Positive(x.clone()));
}

/// The conditions visible in a canonical expression: its negative and fractional
/// powers and its logarithms (what folding kept).
pub fn conditions_of(e: &Expr, out: &mut BTreeSet<Condition>) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| conditions_of(x, out)),
        Expr::Pow(b, x) => {
            if x.as_num().is_none() && !b.as_num().is_some_and(|v| v.is_positive()) && suspicious(x)
            {
                out.insert(Condition::Power((**b).clone(), (**x).clone()));
            }
            if let Some(r) = x.as_num() {
                if r.is_integer() && r.is_negative() {
                    out.insert(Condition::NonZero((**b).clone()));
                } else if !r.is_integer() {
                    out.insert(if r.is_negative() {
                        Condition::Positive((**b).clone())
                    } else {
                        Condition::NonNegative((**b).clone())
                    });
                }
            }
            conditions_of(b, out);
            conditions_of(x, out);
        }
        Expr::Func(f, x) => {
            if *f == Func::Ln {
                out.insert(Condition::Positive((**x).clone()));
            }
            conditions_of(x, out);
        }
    }
}

/// The domains of the symbols, for ranges and for the search of small points.
#[derive(Clone, Debug, Default)]
pub struct Domains {
    /// Positive integers (sizes, depths).
    pub integers: BTreeSet<String>,
    /// Whole-number symbols whose least value is not 1: a family variable ranges from
    /// its family's first member (`l` of `Var(h_l)` from 0 when `h_0` is a member).
    pub whole_from: BTreeMap<String, BigInt>,
    /// Positive reals.
    pub positive: BTreeSet<String>,
    /// Every other symbol named here ranges over all reals; a symbol in none of the
    /// sets is treated as positive (the sampling convention of docs/symbolic.md).
    pub real: BTreeSet<String>,
    /// Bounds read from the assumptions (`x > 0`, `p <= 1`).
    pub bounds: BTreeMap<String, Interval>,
}

impl Domains {
    /// The interval of a symbol.
    pub fn of(&self, s: &str) -> Interval {
        let base = if self.integers.contains(s) {
            let least = self.whole_from.get(s).cloned().unwrap_or_else(BigInt::one);
            Interval::new(closed(BigRational::from_integer(least)), End::Unbounded)
        } else if self.real.contains(s) && !self.positive.contains(s) {
            Interval::all()
        } else {
            Interval::positive()
        };
        match self.bounds.get(s) {
            Some(b) => base.intersect(b),
            None => base,
        }
    }

    /// Adds the bound of an assumption `lhs rel rhs` when one side is a symbol and the
    /// other a number.
    pub fn assume(&mut self, lhs: &Expr, rel: &super::Rel, rhs: &Expr) {
        use super::Rel;
        let (name, rel, c) = match (lhs, rhs) {
            (Expr::Sym(s), Expr::Num(c)) => (s, rel.clone(), c),
            (Expr::Num(c), Expr::Sym(s)) => (
                s,
                match rel {
                    Rel::Lt => Rel::Gt,
                    Rel::Gt => Rel::Lt,
                    Rel::Le => Rel::Ge,
                    Rel::Ge => Rel::Le,
                    r => r.clone(),
                },
                c,
            ),
            _ => return,
        };
        let i = match rel {
            Rel::Gt => Interval::new(open(c.clone()), End::Unbounded),
            Rel::Ge => Interval::new(closed(c.clone()), End::Unbounded),
            Rel::Lt => Interval::new(End::Unbounded, open(c.clone())),
            Rel::Le => Interval::new(End::Unbounded, closed(c.clone())),
            Rel::Eq => Interval::point(c.clone()),
            _ => return,
        };
        let next = match self.bounds.get(name) {
            Some(b) => b.intersect(&i),
            None => i,
        };
        self.bounds.insert(name.clone(), next);
    }

    /// A grid of values of a real symbol inside its domain: every multiple of 1/8 in
    /// [−12, 12] and ±2^j for j = 4..10 (empty for a whole-number symbol). A claim in
    /// one variable that random points miss on a short interval (`gelu(x) >= -0.16`
    /// fails only on about (−1.05, −0.5)) is scanned on it.
    pub fn grid(&self, s: &str) -> Vec<BigRational> {
        if self.integers.contains(s) {
            return Vec::new();
        }
        let r = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let dom = self.of(s);
        (-96..=96)
            .map(|k| r(k, 8))
            .chain((4..=10).flat_map(|j| [r(1 << j, 1), r(-(1 << j), 1)]))
            .filter(|v| dom.contains(v))
            .collect()
    }

    /// Small candidate values of a symbol, simplest first, inside its domain.
    pub fn candidates(&self, s: &str) -> Vec<BigRational> {
        let r = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let raw: Vec<BigRational> = if self.integers.contains(s) {
            // From the least whole number of the domain (0 for a family variable whose
            // first member is 0; the interval below keeps sizes at 1 and above).
            let least = self
                .whole_from
                .get(s)
                .and_then(num_traits::ToPrimitive::to_i64)
                .unwrap_or(1)
                .min(1);
            (least..=4).map(|n| r(n, 1)).collect()
        } else {
            [
                (0, 1),
                (1, 1),
                (-1, 1),
                (2, 1),
                (-2, 1),
                (1, 2),
                (-1, 2),
                (3, 1),
                (1, 3),
                (3, 2),
                (-3, 1),
                (2, 3),
                (-1, 3),
            ]
            .iter()
            .map(|(n, d)| r(*n, *d))
            .collect()
        };
        let dom = self.of(s);
        raw.into_iter().filter(|v| dom.contains(v)).collect()
    }
}

/// Bounds of `e` over the domains, from exact facts only (see the module docs).
pub fn range(e: &Expr, dom: &Domains) -> Interval {
    match e {
        Expr::Num(r) => Interval::point(r.clone()),
        Expr::Sym(s) => dom.of(s),
        Expr::Add(ts) => {
            let mut acc = Interval::point(BigRational::zero());
            for t in ts {
                acc = acc.add(&range(t, dom));
            }
            acc
        }
        Expr::Mul(fs) => {
            let mut acc = Interval::point(BigRational::one());
            for f in fs {
                acc = acc.mul(&range(f, dom));
            }
            acc
        }
        Expr::Pow(b, x) => {
            let bi = range(b, dom);
            match x.as_int() {
                Some(n) if n != 0 && n.unsigned_abs() <= super::MAX_EXPONENT as u64 => bi.powi(n),
                Some(n) if n % 2 == 0 && n > 0 && !bi.lo_above_zero(true) => {
                    if bi.excludes_zero() {
                        Interval::positive()
                    } else {
                        Interval::nonnegative()
                    }
                }
                _ => {
                    let coarse = pow_range(&bi, &range(x, dom));
                    match x.as_num().and_then(|q| tight_pow(&bi, q)) {
                        Some(t) => coarse.intersect(&t),
                        None => coarse,
                    }
                }
            }
        }
        Expr::Func(f, x) => {
            let xi = range(x, dom);
            let coarse = func_range(*f, &xi);
            match tight(*f, &xi) {
                Some(t) => coarse.intersect(&t),
                None => coarse,
            }
        }
    }
}

/// Exact rational bounds on `b^q` for a rational exponent over a base interval whose
/// low end is positive: `exp(q ln b)`, from [`super::bounds`], increasing in the base
/// for q > 0 and decreasing for q < 0 (`2^(1/2)` in [1.41421356237, 1.41421356238]).
fn tight_pow(bi: &Interval, q: &BigRational) -> Option<Interval> {
    use super::bounds;
    let (End::At(a, _), hi) = (&bi.lo, &bi.hi) else {
        return None;
    };
    if !a.is_positive() || q.is_integer() {
        return None;
    }
    // A square root directly (cheaper and tighter than exp(ln(b)/2)).
    if *q == BigRational::new(1.into(), 2.into()) {
        let sqrt = |x: &BigRational| bounds::memo(2, x, bounds::sqrt);
        let lo = sqrt(a).map(|(l, _)| closed(l));
        let up = match hi {
            End::At(b, _) => sqrt(b).map(|(_, h)| closed(h)),
            End::Unbounded => None,
        };
        return Some(Interval::new(
            lo.unwrap_or(End::Unbounded),
            up.unwrap_or(End::Unbounded),
        ));
    }
    let ln = |x: &BigRational| bounds::memo(1, x, bounds::ln);
    let exp = |x: &BigRational| bounds::memo(0, x, bounds::exp);
    // q ln(b) bounded below and above, for b at one end.
    let qln = |b: &BigRational, lower: bool| -> Option<BigRational> {
        let (l, h) = ln(b)?;
        Some(if q.is_positive() == lower {
            q * l
        } else {
            q * h
        })
    };
    let (low_base, high_base) = if q.is_positive() {
        (
            Some(a),
            if let End::At(b, _) = hi {
                Some(b)
            } else {
                None
            },
        )
    } else {
        (
            if let End::At(b, _) = hi {
                Some(b)
            } else {
                None
            },
            Some(a),
        )
    };
    let lo = low_base
        .and_then(|b| qln(b, true))
        .and_then(|v| exp(&v))
        .map(|(l, _)| closed(l));
    let up = high_base
        .and_then(|b| qln(b, false))
        .and_then(|v| exp(&v))
        .map(|(_, h)| closed(h));
    if lo.is_none() && up.is_none() {
        return None;
    }
    Some(Interval::new(
        lo.unwrap_or(End::Unbounded),
        up.unwrap_or(End::Unbounded),
    ))
}

/// The coarse range facts of a power at an exponent that is not a small whole number.
fn pow_range(bi: &Interval, xi: &Interval) -> Interval {
    // a^x ≥ 1 for a ≥ 1, x ≥ 0 (and ≤ 1 when either is reversed).
    let one = BigRational::one();
    let base_ge_1 = matches!(&bi.lo, End::At(a, _) if *a >= one);
    let base_le_1 = bi.lo_above_zero(true) && matches!(&bi.hi, End::At(b, _) if *b <= one);
    let (x_ge_0, x_le_0) = (xi.lo_above_zero(false), xi.hi_below_zero(false));
    let base_gt_1 = match &bi.lo {
        End::At(a, o) => *a > one || (*a == one && *o),
        End::Unbounded => false,
    };
    if base_gt_1 && xi.lo_above_zero(true) {
        Interval::new(open(one), End::Unbounded)
    } else if (base_ge_1 && x_ge_0) || (base_le_1 && x_le_0) {
        Interval::new(closed(one), End::Unbounded)
    } else if (base_ge_1 && x_le_0) || (base_le_1 && x_ge_0) {
        Interval::new(open(BigRational::zero()), closed(one))
    } else if bi.lo_above_zero(true) {
        Interval::positive()
    } else if bi.lo_above_zero(false) {
        Interval::nonnegative()
    } else {
        Interval::all()
    }
}

/// Exact rational bounds on an increasing function over `xi` from its finite ends
/// ([`super::bounds`]: series with a bounded remainder, no floating point): `exp(1)`
/// in [2.71828182845…, 2.71828182846…]. `None` when neither end gives one.
fn tight(f: Func, xi: &Interval) -> Option<Interval> {
    use super::bounds;
    let one = BigRational::one;
    let two = || BigRational::from_integer(2.into());
    let exp = |x: &BigRational| bounds::memo(0, x, bounds::exp);
    let ln = |x: &BigRational| bounds::memo(1, x, bounds::ln);
    let sqrt = |x: &BigRational| bounds::memo(2, x, bounds::sqrt);
    // A lower bound of f at the low end, an upper bound at the high end.
    let (lo_end, hi_end) = match (&xi.lo, &xi.hi) {
        (End::At(a, _), End::At(b, _)) => (Some(a), Some(b)),
        (End::At(a, _), End::Unbounded) => (Some(a), None),
        (End::Unbounded, End::At(b, _)) => (None, Some(b)),
        (End::Unbounded, End::Unbounded) => return None,
    };
    let lower = |a: &BigRational| -> Option<BigRational> {
        match f {
            Func::Exp => Some(exp(a)?.0),
            Func::Ln => Some(ln(a)?.0),
            Func::Sqrt => Some(sqrt(a)?.0),
            Func::Sigmoid => Some(one() / (one() + exp(&-a.clone())?.1)),
            Func::Tanh => Some(one() - two() / (one() + exp(&(two() * a))?.0)),
            Func::Softplus => Some(ln(&(one() + exp(a)?.0))?.0),
            _ => None,
        }
    };
    let upper = |b: &BigRational| -> Option<BigRational> {
        match f {
            Func::Exp => Some(exp(b)?.1),
            Func::Ln => Some(ln(b)?.1),
            Func::Sqrt => Some(sqrt(b)?.1),
            Func::Sigmoid => Some(one() / (one() + exp(&-b.clone())?.0)),
            Func::Tanh => Some(one() - two() / (one() + exp(&(two() * b))?.1)),
            Func::Softplus => Some(ln(&(one() + exp(b)?.1))?.1),
            _ => None,
        }
    };
    // ln and sqrt are bounded only where they are defined (a low end > 0, >= 0).
    let lo = lo_end.and_then(lower).map(closed);
    let hi = hi_end
        .filter(|b| match f {
            Func::Ln => b.is_positive(),
            Func::Sqrt => !b.is_negative(),
            _ => true,
        })
        .and_then(upper)
        .map(closed);
    if lo.is_none() && hi.is_none() {
        return None;
    }
    Some(Interval::new(
        lo.unwrap_or(End::Unbounded),
        hi.unwrap_or(End::Unbounded),
    ))
}

/// The coarse range facts of a function over `xi` (signs, (0, 1), ≥ 1, ...).
fn func_range(f: Func, xi: &Interval) -> Interval {
    let xi = xi.clone();
    {
        {
            let z = BigRational::zero;
            let one = BigRational::one;
            match f {
                Func::Exp => {
                    if xi.lo_above_zero(false) {
                        Interval::new(closed(one()), End::Unbounded)
                    } else if xi.hi_below_zero(false) {
                        Interval::new(open(z()), closed(one()))
                    } else {
                        Interval::positive()
                    }
                }
                Func::Sigmoid => {
                    let half = BigRational::new(1.into(), 2.into());
                    if xi.lo_above_zero(false) {
                        Interval::new(closed(half), open(one()))
                    } else if xi.hi_below_zero(false) {
                        Interval::new(open(z()), closed(half))
                    } else {
                        Interval::new(open(z()), open(one()))
                    }
                }
                Func::Tanh => {
                    if xi.lo_above_zero(false) {
                        Interval::new(closed(z()), open(one()))
                    } else if xi.hi_below_zero(false) {
                        Interval::new(open(-one()), closed(z()))
                    } else {
                        Interval::new(open(-one()), open(one()))
                    }
                }
                Func::Relu => {
                    let lo = match &xi.lo {
                        End::At(a, o) if a.is_positive() => End::At(a.clone(), *o),
                        _ => closed(z()),
                    };
                    let hi = match &xi.hi {
                        End::At(b, o) if b.is_positive() => End::At(b.clone(), *o),
                        End::At(_, _) => closed(z()),
                        End::Unbounded => End::Unbounded,
                    };
                    Interval::new(lo, hi)
                }
                Func::Abs => xi.abs(),
                // softplus(x) = ln(1 + e^x) > 0; erf maps into (-1, 1); gelu is only
                // bounded below (by about -0.17), which no exact fact here states.
                Func::Softplus => Interval::positive(),
                Func::Erf => Interval::new(open(-one()), open(one())),
                Func::Gelu => Interval::all(),
                Func::Step => {
                    if xi.lo_above_zero(true) {
                        Interval::point(one())
                    } else if xi.hi_below_zero(false) {
                        Interval::point(z())
                    } else {
                        Interval::new(closed(z()), closed(one()))
                    }
                }
                Func::Ln => {
                    let ge1 = matches!(&xi.lo, End::At(a, _) if *a >= one());
                    let le1 =
                        xi.lo_above_zero(true) && matches!(&xi.hi, End::At(b, _) if *b <= one());
                    if ge1 {
                        Interval::nonnegative()
                    } else if le1 {
                        Interval::nonnegative().neg()
                    } else {
                        Interval::all()
                    }
                }
                Func::Sqrt => {
                    if xi.lo_above_zero(false) {
                        Interval::nonnegative()
                    } else {
                        Interval::all()
                    }
                }
            }
        }
    }
}

/// Whether the condition holds at every point of the domains, by [`range`].
pub fn condition_holds(c: &Condition, dom: &Domains) -> bool {
    match c.on_domains(dom) {
        None => true,
        Some(c) => c.holds_on(&range(c.expr(), dom)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collecting_keeps_conditions_that_folding_drops() {
        let x = Expr::sym("x");
        let (e, conds) = collecting(|| x.clone() / x.clone());
        assert_eq!(e, Expr::one());
        assert_eq!(conds, vec![Condition::NonZero(x.clone())]);
        let (e, conds) = collecting(|| Expr::zero() * Expr::ln(Expr::zero()));
        assert_eq!(e, Expr::zero());
        assert_eq!(conds, vec![Condition::Positive(Expr::zero())]);
        // Outside a scope nothing is recorded (and nothing is slowed beyond one check).
        let (_, none) = collecting(|| ());
        assert!(none.is_empty());
    }

    /// Session 25: `x^(-s) x^s` folds to 1 and `x^(s/2) x^(s/2)` to `x^s`; the powers'
    /// conditions survive, and on the domains they say what the base needs.
    #[test]
    fn powers_at_symbolic_exponents_keep_their_conditions() {
        let (x, s) = (Expr::sym("x"), Expr::sym("s"));
        let neg = Expr::mul(vec![Expr::int(-1), s.clone()]);
        let (e, conds) = collecting(|| {
            Expr::mul(vec![
                Expr::pow(x.clone(), neg.clone()),
                Expr::pow(x.clone(), s.clone()),
            ])
        });
        assert_eq!(e, Expr::one());
        assert!(conds.contains(&Condition::Power(x.clone(), neg.clone())));
        // s a whole number >= 1, x every real: x != 0 is needed, and not shown.
        let mut dom = Domains::default();
        dom.integers.insert("s".into());
        dom.real.insert("x".into());
        let c = Condition::Power(x.clone(), neg);
        assert_eq!(c.on_domains(&dom), Some(Condition::NonZero(x.clone())));
        assert!(!condition_holds(&c, &dom));
        // A whole exponent >= 0 needs nothing; half of one needs x >= 0.
        assert_eq!(
            Condition::Power(x.clone(), s.clone()).on_domains(&dom),
            None
        );
        let half = Expr::mul(vec![
            Expr::num(BigRational::new(1.into(), 2.into())),
            s.clone(),
        ]);
        assert_eq!(
            Condition::Power(x.clone(), half).on_domains(&dom),
            Some(Condition::NonNegative(x.clone()))
        );
        // A positive base needs nothing at any exponent; 0^s needs s >= 0.
        let y = Expr::sym("y");
        assert_eq!(Condition::Power(y, Expr::sym("c")).on_domains(&dom), None);
        assert_eq!(
            Condition::Power(Expr::zero(), s.clone()).on_domains(&dom),
            Some(Condition::NonNegative(s))
        );
    }

    #[test]
    fn ranges_from_exact_facts() {
        let dom = Domains {
            real: ["x".to_string()].into(),
            ..Default::default()
        };
        let x = Expr::sym("x");
        let r = range(&Expr::exp(Expr::int(-1000) * x.clone()), &dom);
        assert!(r.lo_above_zero(true));
        let s = range(
            &(Expr::func(Func::Sigmoid, Expr::int(1000)) - Expr::one()),
            &dom,
        );
        assert!(s.hi_below_zero(true), "{s}");
        let sq = range(&(Expr::pow(x.clone(), Expr::int(2)) + Expr::one()), &dom);
        assert!(sq.lo_above_zero(true), "{sq}");
        assert!(!range(&x, &dom).excludes_zero());
    }

    /// erf and gelu are enclosed (reference values to 20 digits from an arbitrary-precision
    /// library): a float comparison of them can now refute, as for tanh and sigmoid.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn erf_and_gelu_enclosures_contain_the_true_values() {
        let cases = [
            (
                "-6",
                -0.999_999_999_999_999_978_48,
                -5.919_525_870_226_188_844_2e-9,
            ),
            (
                "-3",
                -0.999_977_909_503_001_414_56,
                -0.004_049_694_094_890_283_58,
            ),
            (
                "-3/4",
                -0.711_155_633_653_515_131_6,
                -0.169_970_514_282_651_149_5,
            ),
            (
                "-1/10",
                -0.112_462_916_018_284_892_2,
                -0.046_017_216_272_297_101_853,
            ),
            (
                "3/10",
                0.328_626_759_459_127_427_64,
                0.185_373_426_656_685_791_19,
            ),
            (
                "1",
                0.842_700_792_949_714_869_34,
                0.841_344_746_068_542_948_59,
            ),
            (
                "5/2",
                0.999_593_047_982_555_041_06,
                2.484_475_836_685_559_662_1,
            ),
            (
                "4",
                0.999_999_984_582_742_099_72,
                3.999_873_315_032_667_520_3,
            ),
        ];
        for (x, erf, gelu) in cases {
            let at: BTreeMap<String, BigRational> =
                [("x".to_string(), x.parse::<BigRational>().unwrap())].into();
            // A value within the exact checks' tie tolerance of erf's limit ±1 is no
            // enclosure (session 38, p16: it would make a tie of two different sides).
            if 1.0 - f64::abs(erf) <= 1e-9 {
                assert_eq!(enclose(&Expr::func(Func::Erf, Expr::sym("x")), &at), None);
                continue;
            }
            let e = enclose(&Expr::func(Func::Erf, Expr::sym("x")), &at).unwrap();
            assert!(
                e.0 <= erf && erf <= e.1 && e.1 - e.0 < 1e-9,
                "erf({x}): {e:?}"
            );
            let g = enclose(&Expr::func(Func::Gelu, Expr::sym("x")), &at).unwrap();
            assert!(
                g.0 <= gelu && gelu <= g.1 && g.1 - g.0 < 1e-9,
                "gelu({x}): {g:?}"
            );
        }
    }

    #[test]
    fn enclosures_do_not_separate_underflow_from_zero() {
        // exp(−10⁵) underflows to 0 in floating point: no enclosure at all.
        let e = Expr::exp(Expr::int(-100000));
        assert_eq!(enclose(&e, &BTreeMap::new()), None);
        // 10^400 overflows.
        let big = Expr::pow(Expr::int(10), Expr::int(400));
        assert_eq!(enclose(&big, &BTreeMap::new()), None);
        // An ordinary value is enclosed tightly.
        let (lo, hi) = enclose(&Expr::exp(Expr::one()), &BTreeMap::new()).unwrap();
        assert!(lo < std::f64::consts::E && std::f64::consts::E < hi && hi - lo < 1e-10);
    }
}
