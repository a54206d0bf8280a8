//! Inequalities between written-out elements proved by a certificate: the facts (givens
//! and the bounds that `min(T)` and `max(T)` put on every element of T) are turned into
//! non-negative slack variables one by one, and the difference of the two sides must
//! become a polynomial in the slacks with non-negative coefficients.

use crate::sym::{self, Expr};
use num_rational::BigRational;
use num_traits::Signed;
use std::collections::BTreeSet;

/// A fact `expr >= 0`.
pub type Fact = Expr;

/// Proves `d >= 0` from facts `f_k >= 0` by slack variables: each fact, in some order,
/// is solved for one of its symbols (`g = min + s₁`), and `d` must become a polynomial in
/// the slacks with non-negative coefficients. Returns the substitution used.
pub fn nonneg_certificate(d: &Expr, facts: &[Fact]) -> Option<Vec<(String, Expr)>> {
    fn go(
        d: &Expr,
        facts: &[Fact],
        used: &mut Vec<(String, Expr)>,
        slacks: &mut Vec<String>,
        budget: &mut usize,
    ) -> Option<Vec<(String, Expr)>> {
        if *budget == 0 || sym::work_exhausted() {
            return None;
        }
        *budget -= 1;
        if is_nonneg_in(d, slacks) {
            return Some(used.clone());
        }
        let (f, rest) = facts.split_first()?;
        let f = sym::expand(f);
        let slack = format!("s{}", slacks.len() + 1);
        let mut cands: Vec<String> = f
            .free_symbols()
            .into_iter()
            .filter(|s| !slacks.contains(s))
            .collect();
        cands.reverse();
        for v in cands {
            // Only a constant, non-zero coefficient makes `v = ...` a change of variables
            // valid at every point.
            if f.diff(&v)
                .as_num()
                .is_none_or(|c| c == &BigRational::from_integer(0.into()))
            {
                continue;
            }
            let Some(sol) = sym::solve_linear(&f, &Expr::sym(&slack), &v) else {
                continue;
            };
            let sub = |e: &Expr| sym::expand(&e.subs(&v, &sol));
            let d2 = sub(d);
            let rest2: Vec<Expr> = rest.iter().map(sub).collect();
            used.push((v.clone(), sol.clone()));
            slacks.push(slack.clone());
            if let Some(r) = go(&d2, &rest2, used, slacks, budget) {
                return Some(r);
            }
            used.pop();
            slacks.pop();
        }
        // The fact may not be needed.
        go(d, rest, used, slacks, budget)
    }
    let mut budget = 2000;
    go(
        &sym::expand(d),
        facts,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut budget,
    )
}

/// Whether `d` (expanded) is a sum of non-negative multiples of products of slacks.
fn is_nonneg_in(d: &Expr, slacks: &[String]) -> bool {
    let d = sym::expand(d);
    let terms = match &d {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    terms.iter().all(|t| {
        let (c, rest) = t.split_coef();
        !c.is_negative() && rest.free_symbols().iter().all(|s| slacks.contains(s)) && {
            // Only products of (positive integer) powers of slacks.
            let fs = match &rest {
                Expr::Mul(fs) => fs.clone(),
                other => vec![other.clone()],
            };
            fs.iter().all(|f| match f {
                Expr::Sym(_) | Expr::Num(_) => true,
                Expr::Pow(b, e) => {
                    matches!(&**b, Expr::Sym(_)) && e.as_int().is_some_and(|k| k > 0)
                }
                _ => false,
            })
        }
    })
}

/// The `min(T)`/`max(T)` atoms of an expression and the facts they bring for the
/// elements of T that occur: `T[i] − min(T) ≥ 0`, `max(T) − T[i] ≥ 0`.
pub fn extreme_facts(exprs: &[&Expr]) -> Vec<Fact> {
    let mut syms = BTreeSet::new();
    for e in exprs {
        syms.extend(e.free_symbols());
    }
    let mut out = Vec::new();
    for s in &syms {
        for (f, lo) in [("min", true), ("max", false)] {
            let Some(t) = s
                .strip_prefix(&format!("{f}("))
                .and_then(|r| r.strip_suffix(')'))
            else {
                continue;
            };
            for el in syms
                .iter()
                .filter(|e| e.starts_with(&format!("{t}[")) && !e.starts_with("sum_"))
            {
                let (a, b) = (Expr::sym(el), Expr::sym(s));
                out.push(if lo { a - b } else { b - a });
            }
            // max(T) − min(T) ≥ 0, for any T (wrong41).
            let hi = format!("max({t})");
            if lo && syms.contains(&hi) {
                out.push(Expr::sym(&hi) - Expr::sym(s));
            }
        }
    }
    out
}
