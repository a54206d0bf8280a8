//! Multiplying out ([`expand`]), one denominator ([`together`]), identity of normal forms
//! ([`identical`]), [`simplify`], and the shared budget of symbolic work
//! ([`with_work_budget`]) every call charges.

use super::*;

/// Multiplies out products of sums and positive integer powers of sums. Returns the
/// expression unchanged when the result would exceed [`MAX_TERMS`] terms.
pub fn expand(e: &Expr) -> Expr {
    if work_exhausted() {
        return e.clone();
    }
    let mut budget = MAX_EXPAND_WORK;
    expand_inner(e, &mut budget).unwrap_or_else(|| e.clone())
}

/// The work (units of [`product_weight`]) one claim may spend in all its calls of
/// [`expand`] and [`together`] together (see [`with_work_budget`]): each call has its
/// own cap ([`MAX_EXPAND_WORK`]), but a decision procedure that expands thousands of
/// times (a search over substitutions, a fixed point) is bounded only by this one.
pub const CLAIM_WORK: usize = 250_000;

/// The work all the claims of one file may spend together: a file of many claims, each
/// under [`CLAIM_WORK`], is still bounded (the claims after the budget ran out are
/// undecided with the reason).
pub const FILE_WORK: usize = 600_000;

thread_local! {
    /// Products left in the current [`with_work_budget`] scope (`None`: no scope).
    static SHARED_WORK: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Whether a call gave up in the current scope because the shared budget ran out.
    static SHARED_EXHAUSTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with at most `limit` units of expansion work (see [`product_weight`]) for all
/// the expansions it makes on this thread, and says whether that budget ran out (then
/// some expansion gave up and left its expression unexpanded, so a result that needed
/// it is not a proof) and how much of it was used. Scopes nest: the inner one replaces
/// the outer for its duration.
pub fn with_work_budget<R>(limit: usize, f: impl FnOnce() -> R) -> (R, Work) {
    let outer = SHARED_WORK.with(|w| w.replace(Some(limit)));
    let outer_exhausted = SHARED_EXHAUSTED.with(|x| x.replace(false));
    let r = f();
    let left = SHARED_WORK.with(|w| w.replace(outer)).unwrap_or(0);
    let exhausted = SHARED_EXHAUSTED.with(|x| x.replace(outer_exhausted));
    let used = if exhausted { limit } else { limit - left };
    (r, Work { exhausted, used })
}

/// The units left in the current [`with_work_budget`] scope (`None`: no scope).
pub fn work_left() -> Option<usize> {
    SHARED_WORK.with(|w| w.get())
}

/// Charges `units` to the current [`with_work_budget`] scope when they fit (`true`, also
/// outside any scope); otherwise charges nothing and returns `false`. For work replayed
/// rather than done: a result reused from an earlier computation costs what computing it
/// cost, so a budget runs out where it would have.
pub fn charge_work(units: usize) -> bool {
    SHARED_WORK.with(|w| match w.get() {
        Some(left) if units > left => false,
        Some(left) => {
            w.set(Some(left - units));
            true
        }
        None => true,
    })
}

/// What a [`with_work_budget`] scope spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    /// The budget ran out: some expansion gave up.
    pub exhausted: bool,
    /// Units of work used (the whole limit when exhausted).
    pub used: usize,
}

/// Whether the shared budget of the current [`with_work_budget`] scope has run out
/// (a search that expands at each step should stop: nothing more will expand).
pub fn work_exhausted() -> bool {
    SHARED_EXHAUSTED.with(|x| x.get())
}

/// Charges `cost` products to the budget of the call, and their `weight` to the shared
/// one of the current [`with_work_budget`] scope; `None` when a cap or a budget is
/// exceeded.
fn charge(budget: &mut usize, cost: usize, weight: usize) -> Option<()> {
    if cost > MAX_TERMS || cost > *budget {
        return None;
    }
    let shared = SHARED_WORK.with(|w| w.get());
    if let Some(left) = shared {
        if weight > left {
            SHARED_EXHAUSTED.with(|x| x.set(true));
            SHARED_WORK.with(|w| w.set(Some(0)));
            return None;
        }
        SHARED_WORK.with(|w| w.set(Some(left - weight)));
    }
    *budget -= cost;
    Some(())
}

/// The work of multiplying every term of `a` by every term of `b`, in units that
/// follow the time it takes: one per product, plus the factors and coefficient words
/// each product has to merge (a product of two 40-factor terms costs far more than one
/// of two symbols, and a budget counted in products alone let a claim over long
/// products of sums run for seconds).
fn product_weight(a: &[Expr], b: &[Expr]) -> usize {
    let size = |t: &[Expr]| -> usize { t.iter().map(term_size).fold(0, usize::saturating_add) };
    let products = a.len().saturating_mul(b.len());
    products
        .saturating_add(size(a).saturating_mul(b.len()))
        .saturating_add(size(b).saturating_mul(a.len()))
}

/// The factors of one term plus the 64-bit words of its coefficient, a factor counted by
/// what cloning and comparing it costs: a symbol or a power of one with a number
/// exponent is 1, any other factor (a function, a power of a sum) its node count. A
/// product of 100 nested `exp` factors counted 1 per factor let `identical` run 3.5 s
/// under a budget it believed was 170,000 units: every unit cloned and compared chains
/// 50 deep on average.
fn term_size(t: &Expr) -> usize {
    let words = |r: &BigRational| (r.numer().bits() + r.denom().bits()).div_ceil(64) as usize;
    let factor = |f: &Expr| match f {
        Expr::Num(r) => words(r),
        Expr::Sym(_) => 1,
        Expr::Pow(b, x) if matches!(**b, Expr::Sym(_)) && matches!(**x, Expr::Num(_)) => 1,
        other => other.node_count(),
    };
    match t {
        Expr::Mul(fs) => fs.iter().map(factor).fold(0, usize::saturating_add),
        other => factor(other),
    }
}

fn terms_of(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    }
}

fn expand_inner(e: &Expr, budget: &mut usize) -> Option<Expr> {
    Some(match e {
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Add(ts) => {
            let mut out = Vec::new();
            for t in ts {
                out.push(expand_inner(t, budget)?);
            }
            Expr::add(out)
        }
        Expr::Mul(fs) => {
            let mut acc: Vec<Expr> = vec![Expr::one()];
            for f in fs {
                let ft = terms_of(&expand_inner(f, budget)?);
                charge(
                    budget,
                    acc.len().saturating_mul(ft.len()),
                    product_weight(&acc, &ft),
                )?;
                let mut next = Vec::with_capacity(acc.len() * ft.len());
                for a in &acc {
                    for b in &ft {
                        next.push(Expr::mul(vec![a.clone(), b.clone()]));
                    }
                }
                acc = terms_of(&Expr::add(next));
            }
            Expr::add(acc)
        }
        Expr::Pow(b, ex) => {
            let b2 = expand_inner(b, budget)?;
            match (ex.as_int(), &b2) {
                (Some(n), Expr::Add(_)) if (1..=64).contains(&n) => {
                    let bt = terms_of(&b2);
                    let mut acc: Vec<Expr> = vec![Expr::one()];
                    for _ in 0..n {
                        charge(
                            budget,
                            acc.len().saturating_mul(bt.len()),
                            product_weight(&acc, &bt),
                        )?;
                        let mut next = Vec::with_capacity(acc.len() * bt.len());
                        for x in &acc {
                            for y in &bt {
                                next.push(Expr::mul(vec![x.clone(), y.clone()]));
                            }
                        }
                        acc = terms_of(&Expr::add(next));
                    }
                    Expr::add(acc)
                }
                _ => Expr::pow(b2, expand_inner(ex, budget)?),
            }
        }
        Expr::Func(f, x) => Expr::func(*f, expand_inner(x, budget)?),
    })
}

/// The expression as numerator / denominator, both expanded polynomials in its atoms
/// (symbols, non-integer powers, functions). Beyond [`MAX_TERMS`] terms in any
/// intermediate expansion it gives up and returns `(e, 1)`.
pub fn together(e: &Expr) -> (Expr, Expr) {
    let mut budget = MAX_TOGETHER_WORK;
    together_checked(e, &mut budget).unwrap_or_else(|| (e.clone(), Expr::one()))
}

/// [`together`], or `None` when an expansion would exceed [`MAX_TERMS`] terms.
fn together_checked(e: &Expr, budget: &mut usize) -> Option<(Expr, Expr)> {
    Some(match e {
        Expr::Add(ts) => {
            let mut num = Expr::zero();
            let mut den = Expr::one();
            for t in ts {
                let (n, d) = together_checked(t, budget)?;
                if d == den {
                    num = expand_inner(&Expr::add(vec![num, n]), budget)?;
                } else {
                    num = expand_inner(
                        &Expr::add(vec![
                            Expr::mul(vec![num, d.clone()]),
                            Expr::mul(vec![n, den.clone()]),
                        ]),
                        budget,
                    )?;
                    den = expand_inner(&Expr::mul(vec![den, d]), budget)?;
                }
            }
            (num, den)
        }
        Expr::Mul(fs) => {
            let mut num = Expr::one();
            let mut den = Expr::one();
            for f in fs {
                let (n, d) = together_checked(f, budget)?;
                num = expand_inner(&Expr::mul(vec![num, n]), budget)?;
                den = expand_inner(&Expr::mul(vec![den, d]), budget)?;
            }
            (num, den)
        }
        Expr::Pow(b, ex) => match ex.as_int() {
            Some(n) if (-64..0).contains(&n) => {
                let (bn, bd) = together_checked(b, budget)?;
                (
                    expand_inner(&Expr::pow(bd, Expr::int(-n)), budget)?,
                    expand_inner(&Expr::pow(bn, Expr::int(-n)), budget)?,
                )
            }
            Some(n) if (1..=64).contains(&n) => {
                let (bn, bd) = together_checked(b, budget)?;
                (
                    expand_inner(&Expr::pow(bn, Expr::int(n)), budget)?,
                    expand_inner(&Expr::pow(bd, Expr::int(n)), budget)?,
                )
            }
            _ => (e.clone(), Expr::one()),
        },
        Expr::Num(r) => (
            Expr::Num(BigRational::from_integer(r.numer().clone())),
            Expr::Num(BigRational::from_integer(r.denom().clone())),
        ),
        _ => (e.clone(), Expr::one()),
    })
}

/// Whether `a - b` is zero as a rational function of its atoms (a proof of identity
/// wherever both sides are defined).
pub fn identical(a: &Expr, b: &Expr) -> bool {
    let diff = Expr::add(vec![a.clone(), Expr::mul(vec![Expr::int(-1), b.clone()])]);
    if diff.is_zero() || expand(&diff).is_zero() {
        return true;
    }
    let mut budget = MAX_TOGETHER_WORK;
    match together_checked(&diff, &mut budget) {
        Some((n, _)) => n.is_zero() || expand(&n).is_zero(),
        None => false,
    }
}

/// A simpler equal form: the shortest printed of the expression, its expansion, its
/// form over one expanded denominator, and its form over the product of its own
/// denominators with the numerator's common factor taken out (`2 a (b^2 + 1)/(a^2 + b^2 + 1)^2`).
pub fn simplify(e: &Expr) -> Expr {
    let mut best = e.clone();
    let mut best_len = print::ascii_len(e);
    let expanded = expand(e);
    let (n, d) = together(e);
    let over = Expr::mul(vec![n, Expr::pow(d, Expr::int(-1))]);
    let factored = over_factored_denominator(e);
    for cand in [expanded, over, factored] {
        let l = print::ascii_len(&cand);
        if l < best_len {
            best = cand;
            best_len = l;
        }
    }
    best
}

/// `Σ terms` as `content · (numerator) / Π base^k`, keeping the denominators' bases
/// as they are (not multiplied out).
fn over_factored_denominator(e: &Expr) -> Expr {
    let ex = expand(e);
    let terms = terms_of(&ex);
    // The largest negative integer power of each base.
    let mut den: BTreeMap<Expr, i64> = BTreeMap::new();
    let factors_of = |t: &Expr| -> Vec<Expr> {
        match t {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        }
    };
    for t in &terms {
        for f in factors_of(t) {
            if let Expr::Pow(b, k) = &f {
                if let Some(k) = k.as_int() {
                    if k < 0 {
                        let slot = den.entry((**b).clone()).or_insert(0);
                        *slot = (*slot).max(-k);
                    }
                }
            }
        }
    }
    if den.is_empty() {
        return ex;
    }
    let d = Expr::mul(
        den.iter()
            .map(|(b, k)| Expr::pow(b.clone(), Expr::int(*k)))
            .collect(),
    );
    // Each term times the denominator first, so that its powers cancel, then expanded.
    let numer = expand(&Expr::add(
        terms
            .iter()
            .map(|t| Expr::mul(vec![t.clone(), d.clone()]))
            .collect(),
    ));
    // The numerator's common factor taken out: its content ([`content`]).
    let (content, inner) = content(&numer);
    Expr::mul(vec![content, inner, Expr::pow(d, Expr::int(-1))])
}

/// A polynomial as (content, primitive part): the rational gcd of the coefficients and the
/// common powers of the atoms.
pub fn content(e: &Expr) -> (Expr, Expr) {
    let e = expand(e);
    let terms: Vec<Expr> = match &e {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    if terms.len() < 2 {
        return (Expr::one(), e);
    }
    let mut common: Option<BTreeMap<Expr, i64>> = None;
    let mut g: Option<BigRational> = None;
    for t in &terms {
        let (c, rest) = t.split_coef();
        g = Some(match g {
            None => c.clone(),
            Some(g0) => super::rat::gcd_rational(&g0, &c),
        });
        let fs = match &rest {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        };
        let mut here = BTreeMap::new();
        for f in fs {
            match &f {
                Expr::Pow(b, k) if k.as_int().is_some_and(|k| k > 0) => {
                    here.insert((**b).clone(), k.as_int().unwrap_or(1));
                }
                Expr::Num(_) => {}
                other => {
                    here.insert(other.clone(), 1);
                }
            }
        }
        common = Some(match common {
            None => here,
            Some(c0) => c0
                .into_iter()
                .filter_map(|(b, k)| here.get(&b).map(|k2| (b, k.min(*k2))))
                .collect(),
        });
    }
    let mut cf = vec![Expr::Num(g.unwrap_or_else(BigRational::one))];
    for (b, k) in common.unwrap_or_default() {
        cf.push(Expr::pow(b, Expr::int(k)));
    }
    let c = Expr::mul(cf);
    if c.is_zero() {
        return (Expr::one(), e);
    }
    let rest = expand(&(e.clone() / c.clone()));
    // A leading minus belongs to the content: `-(a - 1)` is written `1 - a` when the
    // constant is positive.
    (c, rest)
}
