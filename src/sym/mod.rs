//! Exact symbolic algebra over rationals (BigRational), written for tq.
//!
//! Every constructor returns the canonical normal form (docs/symbolic.md):
//! - sums are flat, their terms sorted by the total order of [`Expr`], like terms
//!   collected into one rational coefficient, the constant (if any) last;
//! - products are flat, equal bases collected into one power (exponents added), the
//!   rational coefficient kept in front, factors sorted;
//! - powers fold when exact (rational to an integer power, perfect roots), `x^0 = 1`,
//!   `x^1 = x`, `(x^a)^n = x^(a n)` for integer n, `(x y)^n = x^n y^n` for integer n;
//! - `sqrt(x)` is `x^(1/2)`; `exp(ln x) = x`, `ln(exp x) = x`, `ln 1 = 0`, `exp 0 = 1`,
//!   and a function of a rational folds where the built-in function table ([`func`])
//!   has an exact value (`sigmoid 0 = 1/2`, `tanh 0 = 0`, `gelu 0 = 0`, relu and abs
//!   of any rational); its derivative is the table's template.
//!
//! Products of sums are not multiplied out automatically; [`expand`] does that, and
//! [`together`] brings an expression over one denominator. Identity testing
//! ([`relation`]) uses both and falls back to exact evaluation at random points.

mod algebra;
pub mod bounds;
mod coefs;
pub mod defined;
mod domain;
mod enclose;
mod eval;
mod exact_work;
mod exp_form;
pub mod func;
mod interval;
mod parse;
mod print;
mod radical;
pub mod rat;
mod relation;
mod solve;
pub mod sturm;
pub mod typeset;

pub use defined::{collecting, Condition, Domains, Interval};
pub use domain::{within, Bound, Domain};
pub use eval::{eval_exact, eval_f64, EvalError};
pub use exact_work::{
    charge_exact, count_exact_items, current_exact_work, exact_work_spent, with_exact_work,
    ExactWork, EXACT_CLAIM_WORK, EXACT_FILE_WORK,
};
pub use exp_form::identical_in_exp_form;
pub use func::Func;
pub use parse::{parse_ascii, parse_number, parse_relation, ParseError};
pub use radical::identical_in_radical_form;
pub use relation::{
    abbreviated, check_relation, empty_setting, fails_by_range_at, holds_exact, Assumption,
    CheckOptions, Decision, ProofRule, Rel, Witness,
};
pub use solve::{
    approx_one_plus_pow, solve, solve_linear, solve_one_plus_pow, solve_pow, ApproxStep,
};

pub use algebra::{
    charge_work, content, expand, identical, simplify, together, with_work_budget, work_exhausted,
    work_left, Work, CLAIM_WORK, FILE_WORK,
};

use coefs::Coefs;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::{BTreeMap, BTreeSet};

/// An expression in canonical form. Build it with the constructors, never directly.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
///
/// The order (by variant, then contents: numbers < symbols < powers < functions <
/// products < sums; numbers by value) is the total, deterministic order used to sort
/// terms and factors. It is the order `derive(Ord)` would give, with numbers compared
/// by [`rat::cmp`] instead of `Ratio`'s continued fractions (see there).
pub enum Expr {
    /// An exact rational number.
    Num(BigRational),
    /// A named symbol.
    Sym(String),
    /// `base^exp`; never with exponent 0 or 1, never a foldable rational power.
    Pow(Box<Expr>, Box<Expr>),
    /// A function application (never [`Func::Sqrt`], which is a power).
    Func(Func, Box<Expr>),
    /// A product of at least two factors, the rational coefficient (if not 1) first.
    Mul(Vec<Expr>),
    /// A sum of at least two terms, the constant (if not 0) last.
    Add(Vec<Expr>),
}

impl Expr {
    /// The variant's place in the order.
    fn rank(&self) -> u8 {
        match self {
            Expr::Num(_) => 0,
            Expr::Sym(_) => 1,
            Expr::Pow(..) => 2,
            Expr::Func(..) => 3,
            Expr::Mul(_) => 4,
            Expr::Add(_) => 5,
        }
    }
}

impl Ord for Expr {
    fn cmp(&self, other: &Expr) -> std::cmp::Ordering {
        match (self, other) {
            (Expr::Num(a), Expr::Num(b)) => rat::cmp(a, b),
            (Expr::Sym(a), Expr::Sym(b)) => a.cmp(b),
            (Expr::Pow(b1, e1), Expr::Pow(b2, e2)) => b1.cmp(b2).then_with(|| e1.cmp(e2)),
            (Expr::Func(f1, x1), Expr::Func(f2, x2)) => f1.cmp(f2).then_with(|| x1.cmp(x2)),
            (Expr::Mul(a), Expr::Mul(b)) | (Expr::Add(a), Expr::Add(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Expr {
    fn partial_cmp(&self, other: &Expr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Integer exponents beyond this are not folded (they stay symbolic powers).
pub const MAX_EXPONENT: i64 = 4096;
/// Numbers beyond this many bits are not produced by folding.
pub const MAX_BITS: u64 = 1 << 16;
/// `expand` gives up (leaves the expression as it is) beyond this many terms.
pub const MAX_TERMS: usize = 20_000;
/// `expand` gives up beyond this many term-by-term products in one call (a bound on
/// its time: roughly a few seconds at worst).
pub const MAX_EXPAND_WORK: usize = 400_000;
/// `together` (and so the proof step of `identical`) gives up beyond this many
/// term-by-term products in one call.
pub const MAX_TOGETHER_WORK: usize = 100_000;

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn bits(r: &BigRational) -> u64 {
    rat::bits(r)
}

/// Exact `r^n` when the result stays small.
pub fn rat_pow(r: &BigRational, n: i64) -> Option<BigRational> {
    if n.unsigned_abs() > MAX_EXPONENT as u64 {
        return None;
    }
    let result_bits = (bits(r) as u128) * (n.unsigned_abs() as u128);
    if result_bits > MAX_BITS as u128 {
        note_exact_budget();
        return None;
    }
    // Squarings up to the result's length: quadratic in its words at most.
    let words = (result_bits as u64).div_ceil(64).max(1);
    if !charge_exact(1 + words.saturating_mul(words)) {
        note_exact_budget();
        return None;
    }
    if r.is_zero() && n < 0 {
        return None;
    }
    // By squaring, numerator and denominator apart: powers of coprime integers stay
    // coprime, so no gcd is taken (a product at a time, each reduced by a gcd of the
    // growing numbers, was cubic in the exponent: `a^2000` at `a = 10000` took 4 s).
    let e = n.unsigned_abs() as usize;
    let (num, den) = (
        num_traits::pow(r.numer().clone(), e),
        num_traits::pow(r.denom().clone(), e),
    );
    Some(if n < 0 {
        rat::normalized(den, num)
    } else {
        BigRational::new_raw(num, den)
    })
}

thread_local! {
    /// Whether a constructor or an exact evaluation on this thread reached the bit
    /// budget [`MAX_BITS`] since the last [`take_exact_budget_hit`].
    static EXACT_BUDGET_HIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note_exact_budget() {
    EXACT_BUDGET_HIT.with(|h| h.set(true));
}

/// Whether an exact number reached the bit budget ([`MAX_BITS`]) on this thread since
/// the last call, and resets the flag: a claim left undecided says so in its reason.
pub fn take_exact_budget_hit() -> bool {
    EXACT_BUDGET_HIT.with(|h| h.replace(false))
}

/// Whether an exact number reached the bit budget on this thread (without resetting).
pub fn exact_budget_hit() -> bool {
    EXACT_BUDGET_HIT.with(|h| h.get())
}

/// The exact `q`-th root of a non-negative integer, if it is one.
fn int_root(n: &BigInt, q: u32) -> Option<BigInt> {
    if n.is_negative() {
        return None;
    }
    let r = n.nth_root(q);
    if num_traits::pow(r.clone(), q as usize) == *n {
        Some(r)
    } else {
        None
    }
}

impl Expr {
    /// A rational constant.
    pub fn num(r: BigRational) -> Expr {
        Expr::Num(r)
    }
    /// An integer constant.
    pub fn int(n: i64) -> Expr {
        Expr::Num(BigRational::from_integer(BigInt::from(n)))
    }
    /// The rational `n/d` (reduced); a zero denominator gives 0 rather than a panic —
    /// build divisions with `/` to keep them symbolic.
    pub fn rat(n: i64, d: i64) -> Expr {
        if d == 0 {
            return Expr::int(0);
        }
        Expr::Num(rat(n, d))
    }
    /// A symbol.
    pub fn sym(name: &str) -> Expr {
        Expr::Sym(name.to_string())
    }
    /// The constant 0.
    pub fn zero() -> Expr {
        Expr::int(0)
    }
    /// The constant 1.
    pub fn one() -> Expr {
        Expr::int(1)
    }

    /// The value, when the expression is a rational constant.
    pub fn as_num(&self) -> Option<&BigRational> {
        match self {
            Expr::Num(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the expression is the constant 0.
    pub fn is_zero(&self) -> bool {
        self.as_num().is_some_and(|r| r.is_zero())
    }

    /// The value, when the expression is an integer constant that fits an `i64`.
    pub fn as_int(&self) -> Option<i64> {
        self.as_num()
            .filter(|r| r.is_integer())
            .and_then(|r| r.to_integer().to_i64())
    }

    /// The rational coefficient and the rest of a term (`3 x y` → (3, x y)).
    pub fn split_coef(&self) -> (BigRational, Expr) {
        match self {
            Expr::Num(r) => (r.clone(), Expr::one()),
            Expr::Mul(fs) => match fs.first() {
                Some(Expr::Num(r)) => {
                    let rest: Vec<Expr> = fs[1..].to_vec();
                    (
                        r.clone(),
                        if rest.len() == 1 {
                            rest[0].clone()
                        } else {
                            Expr::Mul(rest)
                        },
                    )
                }
                _ => (BigRational::one(), self.clone()),
            },
            _ => (BigRational::one(), self.clone()),
        }
    }

    /// [`Expr::split_coef`] of an owned term, without copying the rest (the rest of a
    /// term of a sum of towers is the tower: copying it per term per sum made building
    /// nested expressions quadratic in their depth, session 33).
    fn into_coef(self) -> (BigRational, Expr) {
        match self {
            Expr::Num(r) => (r, Expr::one()),
            Expr::Mul(mut fs) if matches!(fs.first(), Some(Expr::Num(_))) => {
                let Expr::Num(r) = fs.remove(0) else {
                    unreachable!("the first factor is a number")
                };
                (
                    r,
                    if fs.len() == 1 {
                        fs.pop().unwrap_or_else(Expr::one)
                    } else {
                        Expr::Mul(fs)
                    },
                )
            }
            other => (BigRational::one(), other),
        }
    }

    /// A canonical sum.
    ///
    /// Like terms are collected into one coefficient while the coefficient stays within
    /// [`MAX_BITS`] bits (checked by a bound before the sum is computed,
    /// [`rat::add_within`]); a coefficient that would pass it is kept as a second term
    /// over the same factors, so the value is always exact and no number past the
    /// budget is ever built (see [`Coefs`]).
    pub fn add(terms: Vec<Expr>) -> Expr {
        // The terms merged are exact work of the file, counted before (a constructor
        // cannot refuse; a spent budget stops the next claim, [`exact_work`]).
        count_exact_items(terms.len());
        let mut coef: BTreeMap<Expr, Coefs> = BTreeMap::new();
        let mut constant = Coefs::new(BigRational::zero());
        let mut stack = terms;
        while let Some(t) = stack.pop() {
            match t {
                Expr::Add(ts) => stack.extend(ts),
                Expr::Num(r) => constant.add(r),
                other => {
                    let (c, rest) = other.into_coef();
                    match coef.get_mut(&rest) {
                        Some(slot) => slot.add(c),
                        None => {
                            coef.insert(rest, Coefs::new(c));
                        }
                    }
                }
            }
        }
        let mut out: Vec<Expr> = Vec::new();
        for (rest, cs) in coef {
            let mut cs: Vec<BigRational> = cs.0.into_iter().filter(|c| !c.is_zero()).collect();
            // The last part takes the rest itself, the others a copy.
            let last = cs.pop();
            for c in cs {
                out.push(Expr::mul(vec![Expr::Num(c), rest.clone()]));
            }
            if let Some(c) = last {
                out.push(Expr::mul(vec![Expr::Num(c), rest]));
            }
        }
        out.sort();
        let mut constants: Vec<BigRational> =
            constant.0.into_iter().filter(|c| !c.is_zero()).collect();
        constants.sort_by(rat::cmp_fixed);
        out.extend(constants.into_iter().map(Expr::Num));
        match out.len() {
            0 => Expr::zero(),
            1 => out.pop().unwrap_or_else(Expr::zero),
            _ => Expr::Add(out),
        }
    }

    /// A canonical product.
    pub fn mul(factors: Vec<Expr>) -> Expr {
        Expr::mul_depth(factors, 0)
    }

    fn mul_depth(factors: Vec<Expr>, depth: usize) -> Expr {
        count_exact_items(factors.len());
        let mut c = Coefs::new(BigRational::one());
        let mut powers: BTreeMap<Expr, Vec<Expr>> = BTreeMap::new();
        let mut stack = factors;
        while let Some(f) = stack.pop() {
            match f {
                Expr::Mul(fs) => stack.extend(fs),
                Expr::Num(r) => c.mul(r),
                Expr::Pow(b, e) => powers.entry(*b).or_default().push(*e),
                other => powers.entry(other).or_default().push(Expr::one()),
            }
        }
        if c.is_zero() {
            return Expr::zero();
        }
        let mut out = Vec::new();
        for (base, mut exps) in powers {
            defined::note_power_fold(&base, &exps);
            // One exponent is already in normal form (the constructors built it): taken
            // as it is. Summing it again normalised the whole chain of exponents above
            // it, so each product over a power tower re-walked the tower (session 33:
            // building a tower's derivative was cubic in its height); the definedness
            // conditions that walk recorded are recorded without it.
            let e = if exps.len() == 1 {
                let e = exps.pop().unwrap_or_else(Expr::zero);
                defined::note_exponent_powers(&e);
                e
            } else {
                Expr::add(exps)
            };
            match Expr::pow(base, e) {
                Expr::Num(r) => c.mul(r),
                Expr::Mul(fs) => {
                    for f in fs {
                        match f {
                            Expr::Num(r) => c.mul(r),
                            other => out.push(other),
                        }
                    }
                }
                other => out.push(other),
            }
        }
        if c.is_zero() {
            return Expr::zero();
        }
        // A power may have split into factors whose bases repeat (`(a^2)^-1 = a^-2`
        // beside `a`): merge them by base, through the constructor again. Each round
        // merges at least two factors; the depth bound is a guard, not a limit reached
        // in practice.
        out.sort();
        let mut seen = BTreeSet::new();
        let repeats = out.iter().any(|f| !seen.insert(f.base()));
        if repeats && depth < 16 {
            out.extend(c.0.into_iter().map(Expr::Num));
            return Expr::mul_depth(out, depth + 1);
        }
        let mut merged = out;
        merged.retain(|f| f.as_num().is_none_or(|r| !r.is_one()));
        // Parts in a fixed order, so that equal products compare equal: their absolute
        // values sorted, the sign on the first (then `x - x` cancels whatever the
        // order the parts were met in).
        let mut negative = false;
        let mut parts: Vec<BigRational> = Vec::new();
        for r in c.0 {
            if r.is_negative() {
                negative = !negative;
            }
            let a = r.abs();
            if !a.is_one() {
                parts.push(a);
            }
        }
        parts.sort_by(rat::cmp_fixed);
        if negative {
            match parts.first_mut() {
                Some(p) => *p = -p.clone(),
                None => parts.push(-BigRational::one()),
            }
        }
        let coefs: Vec<Expr> = parts.into_iter().map(Expr::Num).collect();
        if merged.is_empty() && coefs.len() <= 1 {
            return coefs.into_iter().next().unwrap_or_else(Expr::one);
        }
        // The coefficient first; past the bit budget, its further parts after it (numbers
        // sort first).
        merged.splice(0..0, coefs);
        if merged.len() == 1 {
            merged.pop().unwrap_or_else(Expr::one)
        } else {
            Expr::Mul(merged)
        }
    }

    /// The base of a power, or the expression itself (borrowed).
    fn base(&self) -> &Expr {
        match self {
            Expr::Pow(b, _) => b,
            other => other,
        }
    }

    /// A canonical power.
    pub fn pow(base: Expr, exp: Expr) -> Expr {
        defined::note_pow(&base, &exp);
        // 1^x = 1 for every real x (`p^t` at p = 1).
        if exp.is_zero() || base.as_num().is_some_and(|b| b.is_one()) {
            return Expr::one();
        }
        if exp.as_num().is_some_and(|r| r.is_one()) {
            return base;
        }
        if let (Expr::Num(b), Expr::Num(e)) = (&base, &exp) {
            if b.is_one() {
                return Expr::one();
            }
            if e.is_integer() {
                if let Some(n) = e.to_integer().to_i64() {
                    if let Some(r) = rat_pow(b, n) {
                        return Expr::Num(r);
                    }
                }
            } else if let (Some(p), Some(q)) = (e.numer().to_i64(), e.denom().to_u32()) {
                // Exact roots: (n/d)^(p/q) when n and d are perfect q-th powers.
                if q <= 64 && !b.is_negative() {
                    if let (Some(rn), Some(rd)) = (int_root(b.numer(), q), int_root(b.denom(), q)) {
                        let root = BigRational::new(rn, rd);
                        if let Some(r) = rat_pow(&root, p) {
                            return Expr::Num(r);
                        }
                    }
                }
            }
            if b.is_zero() && e.is_positive() {
                return Expr::zero();
            }
        }
        if base.is_zero() && exp.as_num().is_some_and(|e| e.is_positive()) {
            return Expr::zero();
        }
        if let Some(n) = exp.as_int() {
            match &base {
                Expr::Pow(b, e) => {
                    // The inner power's definedness, before the fold hides it (crit43,
                    // probe43 r17: `(a^b)^2` became `a^(2 b)`, -1 at a = -1, b = 1/2).
                    defined::note_power_of_power(b, e);
                    return Expr::pow((**b).clone(), Expr::mul(vec![(**e).clone(), Expr::int(n)]));
                }
                Expr::Mul(fs) => {
                    return Expr::mul(
                        fs.iter()
                            .map(|f| Expr::pow(f.clone(), Expr::int(n)))
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        // (x^a)^(p/q) with a integer and x^a known non-negative is not simplified: the
        // sign of x is unknown.
        Expr::Pow(Box::new(base), Box::new(exp))
    }

    /// A canonical function application.
    pub fn func(f: Func, x: Expr) -> Expr {
        defined::note_func(f, &x);
        match (f, &x) {
            (Func::Sqrt, _) => return Expr::sqrt(x),
            (Func::Exp, Expr::Func(Func::Ln, a)) => return (**a).clone(),
            (Func::Ln, Expr::Func(Func::Exp, a)) => return (**a).clone(),
            // softplus(0) = ln(2): the one rational point where softplus is the logarithm
            // of a rational, so that a tie there is an identity (probe42 r11:
            // `[softplus(x) >= ln(2)] == [x > 0]` was confirmed, false at x = 0).
            (Func::Softplus, Expr::Num(r)) if r.is_zero() => return Expr::ln(Expr::int(2)),
            (_, Expr::Num(r)) => {
                if let Some(v) = (f.entry().exact)(r) {
                    return Expr::Num(v);
                }
            }
            _ => {}
        }
        Expr::Func(f, Box::new(x))
    }

    /// `x^(1/2)`.
    pub fn sqrt(x: Expr) -> Expr {
        Expr::pow(x, Expr::rat(1, 2))
    }
    /// The natural logarithm.
    pub fn ln(x: Expr) -> Expr {
        Expr::func(Func::Ln, x)
    }
    /// The exponential.
    pub fn exp(x: Expr) -> Expr {
        Expr::func(Func::Exp, x)
    }

    /// Rebuilds the expression through the constructors (idempotent on canonical input).
    pub fn normalize(&self) -> Expr {
        match self {
            Expr::Num(_) | Expr::Sym(_) => self.clone(),
            Expr::Add(ts) => Expr::add(ts.iter().map(|t| t.normalize()).collect()),
            Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| f.normalize()).collect()),
            Expr::Pow(b, e) => Expr::pow(b.normalize(), e.normalize()),
            Expr::Func(f, x) => Expr::func(*f, x.normalize()),
        }
    }

    /// The number of nodes of the expression tree (numbers, symbols, sums, products,
    /// powers, functions), counted without recursion. The scalar lowering bounds every
    /// value it writes out by this count ([`crate::lower::MAX_VALUE_NODES`]).
    pub fn node_count(&self) -> usize {
        let mut n = 0usize;
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            n += 1;
            match e {
                Expr::Num(_) | Expr::Sym(_) => {}
                Expr::Add(v) | Expr::Mul(v) => stack.extend(v.iter()),
                Expr::Pow(b, x) => {
                    stack.push(b);
                    stack.push(x);
                }
                Expr::Func(_, x) => stack.push(x),
            }
        }
        n
    }

    /// The symbols occurring in the expression.
    pub fn free_symbols(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_symbols(&mut out);
        out
    }

    fn collect_symbols(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Sym(s) => {
                out.insert(s.clone());
            }
            Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| x.collect_symbols(out)),
            Expr::Pow(b, e) => {
                b.collect_symbols(out);
                e.collect_symbols(out);
            }
            Expr::Func(_, x) => x.collect_symbols(out),
        }
    }

    /// Symbols that appear in exponents (they are sampled as integers).
    pub fn exponent_symbols(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Num(_) | Expr::Sym(_) => {}
            Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| x.exponent_symbols(out)),
            Expr::Pow(b, e) => {
                b.exponent_symbols(out);
                e.collect_symbols(out);
            }
            Expr::Func(_, x) => x.exponent_symbols(out),
        }
    }

    /// Replaces a symbol by an expression.
    pub fn subs(&self, name: &str, value: &Expr) -> Expr {
        match self {
            Expr::Sym(s) if s == name => value.clone(),
            Expr::Num(_) | Expr::Sym(_) => self.clone(),
            Expr::Add(ts) => Expr::add(ts.iter().map(|t| t.subs(name, value)).collect()),
            Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| f.subs(name, value)).collect()),
            Expr::Pow(b, e) => Expr::pow(b.subs(name, value), e.subs(name, value)),
            Expr::Func(f, x) => Expr::func(*f, x.subs(name, value)),
        }
    }

    /// The derivative with respect to a symbol.
    pub fn diff(&self, x: &str) -> Expr {
        match self {
            Expr::Num(_) => Expr::zero(),
            Expr::Sym(s) => Expr::int(if s == x { 1 } else { 0 }),
            Expr::Add(ts) => Expr::add(ts.iter().map(|t| t.diff(x)).collect()),
            Expr::Mul(fs) => {
                let mut terms = Vec::new();
                for k in 0..fs.len() {
                    let d = fs[k].diff(x);
                    if d.is_zero() {
                        continue;
                    }
                    let mut prod: Vec<Expr> = fs.clone();
                    prod[k] = d;
                    terms.push(Expr::mul(prod));
                }
                Expr::add(terms)
            }
            Expr::Pow(b, e) => {
                let db = b.diff(x);
                let de = e.diff(x);
                let mut terms = Vec::new();
                if !db.is_zero() {
                    // e b^(e-1) b'
                    terms.push(Expr::mul(vec![
                        (**e).clone(),
                        Expr::pow((**b).clone(), Expr::add(vec![(**e).clone(), Expr::int(-1)])),
                        db,
                    ]));
                }
                if !de.is_zero() {
                    // b^e ln(b) e'
                    terms.push(Expr::mul(vec![self.clone(), Expr::ln((**b).clone()), de]));
                }
                Expr::add(terms)
            }
            Expr::Func(f, a) => {
                let da = a.diff(x);
                if da.is_zero() {
                    return Expr::zero();
                }
                let a = (**a).clone();
                let outer = f.entry().derivative.build(&a, self);
                Expr::mul(vec![outer, da])
            }
        }
    }

    /// Exact value at a point; fails on unbound symbols, division by zero, irrational
    /// results and numbers too large to fold. The error is [`EvalError`] as text; use
    /// the free function [`eval_exact`] for the typed error.
    pub fn eval_exact(&self, at: &BTreeMap<String, BigRational>) -> Result<BigRational, String> {
        eval::eval_exact(self, at).map_err(|e| e.to_string())
    }

    /// Floating-point value at a point (non-finite values are returned, not refused);
    /// fails only on unbound symbols. See [`eval_f64`] for the typed error.
    pub fn eval_f64(&self, at: &BTreeMap<String, f64>) -> Result<f64, String> {
        eval::eval_f64(self, at).map_err(|e| e.to_string())
    }
}

impl std::ops::Add for Expr {
    type Output = Expr;
    fn add(self, o: Expr) -> Expr {
        Expr::add(vec![self, o])
    }
}
impl std::ops::Sub for Expr {
    type Output = Expr;
    fn sub(self, o: Expr) -> Expr {
        Expr::add(vec![self, Expr::mul(vec![Expr::int(-1), o])])
    }
}
impl std::ops::Mul for Expr {
    type Output = Expr;
    fn mul(self, o: Expr) -> Expr {
        Expr::mul(vec![self, o])
    }
}
impl std::ops::Div for Expr {
    type Output = Expr;
    fn div(self, o: Expr) -> Expr {
        Expr::mul(vec![self, Expr::pow(o, Expr::int(-1))])
    }
}
impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::mul(vec![Expr::int(-1), self])
    }
}

pub use print::{ascii_len, integer_source, to_ascii, to_latex, to_text, IntForm, SOURCE_DIGITS};

/// Re-canonicalises `e` through the constructors; idempotent.
pub fn normalize(e: &Expr) -> Expr {
    e.normalize()
}

/// `e` with every occurrence of the symbol `name` replaced by `value`, in normal form.
pub fn subs(e: &Expr, name: &str, value: &Expr) -> Expr {
    e.subs(name, value)
}

/// The symbols occurring in `e`.
pub fn free_symbols(e: &Expr) -> BTreeSet<String> {
    e.free_symbols()
}

/// The derivative of `e` with respect to the symbol `var`, in normal form (not
/// simplified; see [`simplify`]). Every construct is differentiable: `relu' = step`,
/// `step' = 0` (almost everywhere), `abs'(x) = x/abs(x)`.
pub fn diff(e: &Expr, var: &str) -> Expr {
    e.diff(var)
}

#[cfg(test)]
mod exact_budget_tests {
    use super::*;

    /// `(10^digits + 1) / 10^digits`, a decimal whose numerator and denominator are
    /// both long.
    fn near_one(digits: u32) -> BigRational {
        let d = num_traits::pow(BigInt::from(10), digits as usize);
        BigRational::new(&d + 1, d)
    }

    #[test]
    fn a_product_past_the_bit_budget_is_kept_in_exact_parts() {
        take_exact_budget_hit();
        let q = near_one(308);
        let n = 100usize;
        let e = Expr::mul(
            std::iter::repeat_n(Expr::Num(q.clone()), n)
                .chain([Expr::sym("a")])
                .collect(),
        );
        assert!(
            exact_budget_hit(),
            "100 factors of 2,046 bits pass 65,536 bits"
        );
        let Expr::Mul(fs) = &e else {
            panic!("not a product: {e:?}")
        };
        let parts: Vec<&BigRational> = fs.iter().filter_map(|f| f.as_num()).collect();
        assert!(parts.len() >= 2, "{} parts", parts.len());
        assert!(parts.iter().all(|p| bits(p) <= MAX_BITS));
        assert_eq!(fs.last(), Some(&Expr::sym("a")));
        // The parts multiply to the exact coefficient (compared without reducing).
        let (mut num, mut den) = (BigInt::one(), BigInt::one());
        for p in &parts {
            num *= p.numer();
            den *= p.denom();
        }
        assert_eq!(num, num_traits::pow(q.numer().clone(), n));
        assert_eq!(den, num_traits::pow(q.denom().clone(), n));
        // Normal forms of equal values compare equal, and normalizing is idempotent.
        assert_eq!(e.normalize(), e);
        let twice = Expr::mul(vec![e.clone(), Expr::int(2)]);
        assert_eq!(twice, Expr::mul(vec![Expr::int(2), e.clone()]));
        assert!((e.clone() - e.clone()).is_zero(), "x - x cancels");
        let minus = Expr::mul(vec![Expr::int(-1), e.clone()]);
        assert!(Expr::add(vec![e.clone(), minus]).is_zero());
        assert!(take_exact_budget_hit());
        assert!(!exact_budget_hit());
    }

    #[test]
    fn a_sum_past_the_bit_budget_keeps_like_terms_apart_and_exact() {
        take_exact_budget_hit();
        // 50 coefficients 1/(10^400 + k): their sum's denominator would be about 66,000
        // bits.
        let d = num_traits::pow(BigInt::from(10), 400);
        let cs: Vec<BigRational> = (1..=50)
            .map(|k| BigRational::new(BigInt::one(), &d + BigInt::from(2 * k + 1)))
            .collect();
        let x = Expr::sym("x");
        let e = Expr::add(
            cs.iter()
                .map(|c| Expr::mul(vec![Expr::Num(c.clone()), x.clone()]))
                .collect(),
        );
        assert!(exact_budget_hit());
        let Expr::Add(ts) = &e else {
            panic!("not a sum: {e:?}")
        };
        assert!(ts.len() >= 2);
        let mut total = BigRational::zero();
        for t in ts {
            let (c, rest) = t.split_coef();
            assert_eq!(rest, x);
            assert!(bits(&c) <= MAX_BITS);
            total += c;
        }
        let expected: BigRational = cs.iter().fold(BigRational::zero(), |a, c| a + c);
        assert_eq!(total, expected);
        // Constants likewise, and an exact evaluation that would pass the budget is
        // refused before it is computed.
        let k = Expr::add(cs.iter().cloned().map(Expr::Num).collect());
        assert!(matches!(k, Expr::Add(_)));
        let at = BTreeMap::from([("x".to_string(), BigRational::one())]);
        assert_eq!(eval_exact(&e, &at), Err(EvalError::TooLarge));
        take_exact_budget_hit();
    }

    #[test]
    fn sums_agree_with_ratio_arithmetic_on_decimals() {
        let vals = [
            near_one(20),
            near_one(30),
            BigRational::new(BigInt::from(7), BigInt::from(1000)),
            BigRational::new(BigInt::from(-3), BigInt::from(40)),
            BigRational::new(BigInt::from(5), BigInt::from(6)),
            BigRational::from_integer(BigInt::from(-12)),
            BigRational::zero(),
        ];
        for a in &vals {
            for b in &vals {
                assert_eq!(rat::add(a, b), a + b, "{a} + {b}");
                assert!(rat::bits(&(a + b)) <= rat::add_bits(a, b), "{a} + {b}");
                assert!(rat::bits(&(a * b)) <= rat::mul_bits(a, b), "{a} * {b}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_work_budget_spans_calls_and_is_reported() {
        let (x, y) = (Expr::sym("x"), Expr::sym("y"));
        let sq = Expr::pow(x.clone() + y.clone() + Expr::one(), Expr::int(2));
        // Each call alone is far under its own cap; together they exceed a shared 20.
        let (results, work) =
            with_work_budget(40, || (0..5).map(|_| expand(&sq)).collect::<Vec<_>>());
        assert!(work.exhausted);
        assert_eq!(work.used, 40);
        assert!(matches!(results[0], Expr::Add(_)), "the first call expands");
        assert_eq!(
            results[4], sq,
            "a call past the budget leaves it unexpanded"
        );
        // Outside a scope nothing is shared, and the flag does not leak.
        assert!(!work_exhausted());
        assert!(matches!(expand(&sq), Expr::Add(_)));
        let (_, work) = with_work_budget(1_000, || expand(&sq));
        assert!(!work.exhausted);
        assert!(work.used > 0 && work.used < 1_000, "{work:?}");
    }

    fn s(n: &str) -> Expr {
        Expr::sym(n)
    }

    #[test]
    fn exact_powers_by_squaring_agree_with_repeated_products() {
        let r = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        for base in [r(3, 7), r(-3, 7), r(-2, 1), r(1, 1), r(10_000, 1), r(0, 1)] {
            for n in [-9i64, -4, -1, 0, 1, 2, 5, 13] {
                let got = rat_pow(&base, n);
                if base.is_zero() && n < 0 {
                    assert_eq!(got, None);
                    continue;
                }
                let mut want = BigRational::one();
                let f = if n < 0 { base.recip() } else { base.clone() };
                for _ in 0..n.unsigned_abs() {
                    want *= &f;
                }
                assert_eq!(got, Some(want), "{base}^{n}");
            }
        }
        // A large exact power is computed (quickly: by squaring), and the limits hold.
        let p = rat_pow(&r(10_000, 1), 1999).expect("within the bit limit");
        assert_eq!(p.numer().to_string().len(), 1999 * 4 + 1);
        assert_eq!(rat_pow(&r(2, 1), MAX_EXPONENT + 1), None);
    }

    #[test]
    fn like_terms_and_powers_collect() {
        let a = s("a");
        assert_eq!(a.clone() + a.clone(), Expr::int(2) * a.clone());
        assert_eq!(a.clone() * a.clone(), Expr::pow(a.clone(), Expr::int(2)));
        assert_eq!(a.clone() - a.clone(), Expr::zero());
        assert_eq!(Expr::pow(Expr::int(8), Expr::rat(1, 3)), Expr::int(2));
        assert_eq!(Expr::sqrt(Expr::rat(4, 9)), Expr::rat(2, 3));
        assert_eq!(a.clone() / a.clone(), Expr::one());
    }

    #[test]
    fn comp_graph_partials() {
        let (a, b) = (s("a"), s("b"));
        let x = Expr::pow(a.clone(), Expr::int(2));
        let y = Expr::pow(b.clone(), Expr::int(2));
        let v = x.clone() + y + Expr::one();
        let u = x / v.clone();
        let du_da = u.diff("a");
        let want = Expr::int(2) * a.clone() * (Expr::pow(b.clone(), Expr::int(2)) + Expr::one())
            / Expr::pow(v.clone(), Expr::int(2));
        assert!(identical(&du_da, &want));
        let at: BTreeMap<String, BigRational> =
            [("a".to_string(), rat(2, 1)), ("b".to_string(), rat(1, 1))].into();
        assert_eq!(du_da.eval_exact(&at).unwrap(), rat(2, 9));
        assert_eq!(u.diff("b").eval_exact(&at).unwrap(), rat(-2, 9));
        assert_eq!(
            to_ascii(&simplify(&du_da)),
            "2*a*(b^2 + 1)/(a^2 + b^2 + 1)^2"
        );
        assert_eq!(
            to_ascii(&simplify(&u.diff("b"))),
            "-2*a^2*b/(a^2 + b^2 + 1)^2"
        );
        assert_eq!(to_text(&simplify(&du_da)), "2a(b² + 1)/(a² + b² + 1)²");
    }

    #[test]
    fn binomial_identity() {
        let x = s("x");
        let l = Expr::pow(Expr::one() + x.clone(), Expr::int(2));
        let r = Expr::one() + Expr::int(2) * x.clone() + Expr::pow(x.clone(), Expr::int(2));
        assert!(identical(&l, &r));
        assert!(!identical(&l, &(Expr::one() + Expr::pow(x, Expr::int(2)))));
    }

    #[test]
    fn split_powers_merge_with_their_base() {
        // (a^2)^(b - 1) (a^2)^(-b) a = (a^2)^(-1) a = a^-1: the split power must merge
        // with the factor a even though they are not neighbours in the sort.
        let (a, b) = (s("a"), s("b"));
        let a2 = Expr::pow(a.clone(), Expr::int(2));
        let e = Expr::mul(vec![
            Expr::pow(a2.clone(), b.clone() - Expr::one()),
            Expr::pow(a2, -b),
            a.clone(),
        ]);
        assert_eq!(e, Expr::pow(a, Expr::int(-1)));
        assert_eq!(e.normalize(), e);
    }

    #[test]
    fn huge_exponents_stay_symbolic() {
        let e = Expr::pow(Expr::int(10), Expr::int(1_000_000));
        assert!(matches!(e, Expr::Pow(..)));
        assert!(e.eval_exact(&BTreeMap::new()).is_err());
    }
}
