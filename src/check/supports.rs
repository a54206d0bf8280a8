//! The supports of the leaves' elements: the values an element of a leaf can take, from
//! its declaration (`bernoulli(p)`: {0, 1}; `uniform(a, b)`: [a, b]; `categorical(n)`:
//! {0, …, n − 1}). A normal, `moments` or `symmetric` leaf takes every real and has no
//! entry, and so does a leaf declared with a value (`param B[J] = 0` is an initial value:
//! a given may set a learned parameter to any real).
//!
//! A given that sets an element (`given m[b,i] = 2`) or a whole leaf (`given m = 2`) to a
//! value outside the support holds at no element: a claim under it holds vacuously (it
//! was proved, and `m^2 == m` refuted with a witness m = 2; probe34 p13). A number outside
//! is E0512 at the given (`check::givens`); a value the support test cannot decide (a
//! symbol, `given m[b,i] = p`, or a support with symbolic ends) leaves the claim
//! undecided unless a refutation's witness puts the value inside
//! (`claims::support_open`, docs/soundness.md, "The domains").

use super::Env;
use crate::syntax::ast::{Expr, Init, ItemKind, Program, RelOp};
use crate::syntax::printer::print_expr;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::collections::BTreeMap;

/// What values an element of a leaf takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Support {
    /// These values only (a mask, a class).
    Values(Vec<BigRational>),
    /// Between these ends, both included.
    Interval(BigRational, BigRational),
    /// Narrower than the reals, but not known as numbers (`uniform(-s, s)`).
    Unknown,
}

/// A leaf's support and the declaration it comes from (`bernoulli(p)`).
#[derive(Clone, Debug, PartialEq)]
pub struct LeafSupport {
    pub support: Support,
    pub why: String,
    /// The ends of a `uniform(lo, hi)` support as written, whether numbers or not: a
    /// symbolic value, or ends read under the symbols' domains and a claim's givens,
    /// are decided with them (`claims::supports`).
    pub ends: Option<(Expr, Expr)>,
}

/// Whether a value is in a support.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Membership {
    Inside,
    Outside,
    /// Not decided: the value or the support's ends are not numbers.
    Open,
}

impl LeafSupport {
    /// `{0, 1}`, `[-1, 1]`, `not known as numbers`.
    pub fn show(&self) -> String {
        match &self.support {
            Support::Values(v) => format!(
                "{{{}}}",
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Support::Interval(a, b) => format!("[{a}, {b}]"),
            Support::Unknown => "a set tq does not know as numbers".to_string(),
        }
    }

    /// Whether the number `v` is in the support.
    pub fn contains(&self, v: &BigRational) -> Membership {
        match &self.support {
            Support::Values(vs) if vs.contains(v) => Membership::Inside,
            Support::Values(_) => Membership::Outside,
            Support::Interval(a, b) if a <= v && v <= b => Membership::Inside,
            Support::Interval(..) => Membership::Outside,
            Support::Unknown => Membership::Open,
        }
    }

    /// Whether the value of a given (an expression of the file) is in the support, with
    /// the values of `at` for the names it reads.
    pub fn test(&self, value: &Expr, at: &BTreeMap<String, BigRational>) -> Membership {
        if self.support == Support::Unknown {
            return Membership::Open;
        }
        if let Some(v) = exact_value(value, at) {
            return self.contains(&v);
        }
        // A constant that is not rational (`sqrt(2)`): compared in floating point, with
        // a margin; a value within it of the support's edge is not decided.
        let Some(v) = super::givens::constant(value).filter(|v| v.is_finite()) else {
            return Membership::Open;
        };
        let f = |r: &BigRational| num_traits::ToPrimitive::to_f64(r).unwrap_or(f64::NAN);
        let near = |a: f64| (v - a).abs() <= 1e-9 * a.abs().max(1.0);
        match &self.support {
            Support::Values(vs) if vs.iter().any(|x| near(f(x))) => Membership::Open,
            Support::Values(_) => Membership::Outside,
            Support::Interval(a, b) if near(f(a)) || near(f(b)) => Membership::Open,
            Support::Interval(a, b) if f(a) < v && v < f(b) => Membership::Inside,
            Support::Interval(..) => Membership::Outside,
            Support::Unknown => Membership::Open,
        }
    }
}

/// The exact value of an expression of the file at a point (the names it reads set by
/// `at`), when it has one.
pub fn exact_value(value: &Expr, at: &BTreeMap<String, BigRational>) -> Option<BigRational> {
    let e = crate::sym::parse_ascii(&print_expr(value))
        .ok()?
        .normalize();
    if !e.free_symbols().iter().all(|n| at.contains_key(n)) {
        return None;
    }
    e.eval_exact(at).ok()
}

/// The supports of the file's leaves (tensors and scalar leaves declared with a
/// distribution narrower than the reals), by key ([`Env::key_of`]).
pub fn of(program: &Program, env: &Env) -> BTreeMap<String, LeafSupport> {
    let number = |e: &Expr| exact_value(e, &BTreeMap::new());
    let mut out = BTreeMap::new();
    for item in &program.items {
        let ItemKind::Decl(d) = &item.kind else {
            continue;
        };
        if d.kind == crate::syntax::ast::DeclKind::Grad {
            continue;
        }
        let key = env.key_of(&d.target.name);
        if !env.tensors.contains_key(&key) {
            continue;
        }
        let (support, why) = match &d.init {
            Some(Init::Dist(c)) => {
                let why = format!(
                    "{}({})",
                    c.func.name,
                    c.args.iter().map(print_expr).collect::<Vec<_>>().join(", ")
                );
                let s = match (c.func.name.as_str(), c.args.as_slice()) {
                    ("bernoulli", [p]) => match number(p) {
                        Some(p) if p.is_one() => Support::Values(vec![BigRational::one()]),
                        Some(p) if p.is_zero() => Support::Values(vec![BigRational::zero()]),
                        _ => Support::Values(vec![BigRational::zero(), BigRational::one()]),
                    },
                    ("uniform", [lo, hi]) => match (number(lo), number(hi)) {
                        (Some(lo), Some(hi)) if lo <= hi => Support::Interval(lo, hi),
                        _ => Support::Unknown,
                    },
                    ("categorical", [n]) => match number(n).and_then(|n| {
                        num_traits::ToPrimitive::to_i64(&n.to_integer())
                            .filter(|k| (1..=1_000_000).contains(k))
                    }) {
                        Some(k) if k <= 64 => Support::Values(
                            (0..k)
                                .map(|i| BigRational::from_integer(i.into()))
                                .collect(),
                        ),
                        _ => Support::Unknown,
                    },
                    // Every real (a symmetric distribution of that variance may take any
                    // value).
                    ("normal" | "moments" | "symmetric", _) => continue,
                    _ => Support::Unknown,
                };
                (s, why)
            }
            // A declared value is an initial value (`param beta[J] = 1  # initialized
            // to ...`): a learned parameter takes every real, and a given may set it
            // (problems/batchnorm.tq: `BN == a given beta[j] = sigma_B[j], ...`).
            Some(Init::Value(_)) | None => continue,
        };
        let ends = match &d.init {
            Some(Init::Dist(c)) if c.func.name == "uniform" && c.args.len() == 2 => {
                Some((c.args[0].clone(), c.args[1].clone()))
            }
            _ => None,
        };
        out.insert(key, LeafSupport { support, why, ends });
    }
    out
}

/// A given that sets an element or the whole of a leaf with a support
/// (`m[b,i] = 2`, `m = 2`): the reference as written, the leaf's key, its support and
/// the value.
pub fn leaf_given<'a>(g: &'a Expr, env: &'a Env) -> Option<(&'a Expr, &'a LeafSupport, &'a Expr)> {
    let Expr::Rel(RelOp::Eq, l, r, _) = g else {
        return None;
    };
    let Expr::Ref(x) = &**l else {
        return None;
    };
    if x.grad || x.name.base.contains('.') {
        return None;
    }
    let key = env.key_of(&x.name);
    // A size or symbol shares no key with a leaf (`settable` sets those by name).
    if env.sizes.contains_key(&key) || env.symbols.contains_key(&key) {
        return None;
    }
    let s = env.elem_supports.get(&key)?;
    Some((&**l, s, &**r))
}
