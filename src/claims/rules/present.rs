//! Presentation of rule results: expressions over one denominator with each side's
//! common factor taken out.

use super::sequence::rat;
use crate::sym::{self, Expr};
use num_rational::BigRational;
use std::collections::BTreeMap;

/// The expression over one denominator with each side's common factor taken out:
/// `mu*(1 - eta*lambda)`, `lambda*A.theta[0]/(1 - eta*lambda)`.
pub fn present(e: &Expr) -> Expr {
    let (mut n, mut d) = sym::together(e);
    // The denominator's constant (or, without one, its first term) positive:
    // `(a + b)/(1 - x)`, not `(-a - b)/(x - 1)`.
    let lead = match &d {
        Expr::Add(ts) => ts
            .last()
            .filter(|t| t.as_num().is_some())
            .or(ts.first())
            .map(|t| t.split_coef().0),
        other => Some(other.split_coef().0),
    };
    if lead.is_some_and(|c| num_traits::Signed::is_negative(&c)) {
        n = sym::expand(&-n);
        d = sym::expand(&-d);
    }
    let (cn, rn) = content(&n);
    let (cd, rd) = content(&d);
    let out = Expr::mul(vec![
        cn,
        rn,
        Expr::pow(Expr::mul(vec![cd, rd]), Expr::int(-1)),
    ]);
    let s = sym::simplify(e);
    if sym::ascii_len(&s) + 4 < sym::ascii_len(&out) {
        s
    } else {
        out
    }
}

/// A polynomial as (content, primitive part): the rational gcd of the coefficients and the
/// common powers of the atoms.
fn content(e: &Expr) -> (Expr, Expr) {
    let e = sym::expand(e);
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
            Some(g0) => sym::rat::gcd_rational(&g0, &c),
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
    let mut cf = vec![Expr::Num(g.unwrap_or_else(|| rat(1, 1)))];
    for (b, k) in common.unwrap_or_default() {
        cf.push(Expr::pow(b, Expr::int(k)));
    }
    let c = Expr::mul(cf);
    if c.is_zero() {
        return (Expr::one(), e);
    }
    let rest = sym::expand(&(e.clone() / c.clone()));
    // A leading minus belongs to the content: `-(a - 1)` is written `1 - a` when the
    // constant is positive.
    (c, rest)
}
