//! Strided and shifted reads that a derived size keeps inside (probe33/a a01): with
//! `size X = 2 T` and `t` over `0..T-1`, `x[b, 2t]` and `x[b, 2t+1]` are inside `X` for
//! every `T`, so E0301 ("can fall outside") is not reported. Decided exactly on linear
//! forms in the sizes: the position's least and greatest values over the indices' ranges
//! against `0` and the extent minus one, for every value of the sizes (each at least 1).

use super::env::Env;
use crate::syntax::ast::{Affine, BinOp, Expr, UnOp};
use std::collections::BTreeMap;

/// A linear form in the sizes: a constant and a coefficient per size.
#[derive(Clone, Debug, Default)]
struct Linear {
    constant: i128,
    coefs: BTreeMap<String, i128>,
}

impl Linear {
    fn constant(c: i128) -> Self {
        Linear {
            constant: c,
            coefs: BTreeMap::new(),
        }
    }

    fn size(name: &str) -> Self {
        let mut coefs = BTreeMap::new();
        coefs.insert(name.to_string(), 1);
        Linear { constant: 0, coefs }
    }

    fn add(mut self, other: &Linear, sign: i128) -> Option<Self> {
        self.constant = self
            .constant
            .checked_add(other.constant.checked_mul(sign)?)?;
        for (n, c) in &other.coefs {
            let e = self.coefs.entry(n.clone()).or_insert(0);
            *e = e.checked_add(c.checked_mul(sign)?)?;
        }
        Some(self)
    }

    fn scale(mut self, k: i128) -> Option<Self> {
        self.constant = self.constant.checked_mul(k)?;
        for c in self.coefs.values_mut() {
            *c = c.checked_mul(k)?;
        }
        Some(self)
    }

    fn as_constant(&self) -> Option<i128> {
        self.coefs
            .values()
            .all(|c| *c == 0)
            .then_some(self.constant)
    }

    /// Whether the form is at least 0 for every value of its sizes at least 1: with
    /// each size `1 + u` (`u ≥ 0`), the constant and every coefficient are ≥ 0.
    fn nonnegative_for_all_sizes(&self) -> bool {
        let at_one = self
            .coefs
            .values()
            .try_fold(self.constant, |acc, c| acc.checked_add(*c));
        at_one.is_some_and(|v| v >= 0) && self.coefs.values().all(|c| *c >= 0)
    }
}

/// A size's value as a linear form: a derived size (`size X = 2 T + 1`) by its
/// expression, any other size as itself (at least 1).
fn size_form(env: &Env, name: &str, depth: usize) -> Option<Linear> {
    if depth > 16 {
        return None;
    }
    match env.derived_sizes.iter().find(|(n, _)| n == name) {
        Some((_, e)) => expr_form(env, e, depth + 1),
        None if env.sizes.contains_key(name) => Some(Linear::size(name)),
        None => None,
    }
}

fn expr_form(env: &Env, e: &Expr, depth: usize) -> Option<Linear> {
    match e {
        Expr::Num(t, _) => Some(Linear::constant(t.parse().ok()?)),
        Expr::Ref(r)
            if r.indices.is_none()
                && !r.grad
                && r.name.sub.is_empty()
                && r.name.sup.is_empty()
                && r.name.primes == 0 =>
        {
            size_form(env, &r.name.base, depth)
        }
        Expr::Unary(UnOp::Neg, x, _) => expr_form(env, x, depth)?.scale(-1),
        Expr::Binary(op, l, r, _) => {
            let (l, r) = (expr_form(env, l, depth)?, expr_form(env, r, depth)?);
            match op {
                BinOp::Add => l.add(&r, 1),
                BinOp::Sub => l.add(&r, -1),
                BinOp::Mul | BinOp::Jux => match (l.as_constant(), r.as_constant()) {
                    (Some(k), _) => r.scale(k),
                    (_, Some(k)) => l.scale(k),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether every value of the position `a` (each index over `0..size-1`) lies in
/// `0..dim-1` for every value of the sizes: only for positions whose terms are one
/// lower-case index with a size each, and an extent that is a size.
pub(super) fn always_inside(env: &Env, a: &Affine, dim: &str) -> bool {
    let Some(extent) = size_form(env, dim, 0) else {
        return false;
    };
    // The least and the greatest value of the position, as linear forms.
    let mut least = Linear::constant(i128::from(a.constant));
    let mut most = Linear::constant(i128::from(a.constant));
    for t in &a.terms {
        let [f] = t.factors.as_slice() else {
            return false;
        };
        // A declared index's size, or a lower-case size name's own (`t` over `T`).
        if env.indices.get(&f.name).is_some_and(|i| i.centered) {
            return false;
        }
        let Some(size) = env.index_size(&f.name) else {
            return false;
        };
        let Some(range) = size_form(env, &size, 0) else {
            return false;
        };
        // The index's greatest value, its size minus one, times the coefficient.
        let Some(top) = range
            .add(&Linear::constant(1), -1)
            .and_then(|r| r.scale(i128::from(t.coef)))
        else {
            return false;
        };
        let side = if t.coef >= 0 { &mut most } else { &mut least };
        match side.clone().add(&top, 1) {
            Some(v) => *side = v,
            None => return false,
        }
    }
    let room = extent
        .add(&Linear::constant(1), -1)
        .and_then(|e| e.add(&most, -1));
    least.nonnegative_for_all_sizes() && room.is_some_and(|r| r.nonnegative_for_all_sizes())
}
