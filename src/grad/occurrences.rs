//! Occurrences of a tensor in a right-hand side: their indices, the sums that enclose
//! them, and their numbering.

use crate::syntax::ast::*;
use std::collections::HashMap;

pub(super) fn is_capital(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

pub(super) fn index_vars(ix: &IndexExpr) -> Vec<String> {
    match ix {
        IndexExpr::Affine(a) => a
            .terms
            .iter()
            .flat_map(|t| t.factors.iter().map(|f| f.name.clone()))
            .collect(),
        IndexExpr::Lookup(r) => r.indices.iter().flatten().flat_map(index_vars).collect(),
    }
}

/// The index names of a reference whose positions are all plain single indices.
pub(super) fn plain_vars(r: &Ref) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for ix in r.indices.iter().flatten() {
        match ix {
            IndexExpr::Affine(a)
                if a.terms.len() == 1
                    && a.terms[0].coef == 1
                    && a.terms[0].factors.len() == 1
                    && a.constant == 0 =>
            {
                out.push(a.terms[0].factors[0].name.clone())
            }
            _ => return None,
        }
    }
    Some(out)
}

pub(super) fn collect_occurrences<'a>(e: &'a Expr, out: &mut Vec<&'a Ref>) {
    match e {
        Expr::Ref(r) => out.push(r),
        Expr::Unary(_, x, _) | Expr::Sum(_, x, _) | Expr::Softmax(_, x, _) => {
            collect_occurrences(x, out)
        }
        Expr::Binary(_, l, r, _) => {
            collect_occurrences(l, out);
            collect_occurrences(r, out);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| collect_occurrences(a, out)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => {}
    }
}

/// The indices of the explicit sums (`sum_{n}(...)`) that enclose an occurrence.
pub(super) fn enclosing_sums(e: &Expr, target: &Ref, acc: &mut Vec<String>) -> bool {
    match e {
        Expr::Ref(r) => std::ptr::eq(r, target),
        Expr::Sum(ids, x, _) => {
            let n = acc.len();
            acc.extend(ids.iter().map(|i| i.name.clone()));
            if enclosing_sums(x, target, acc) {
                return true;
            }
            acc.truncate(n);
            false
        }
        Expr::Unary(_, x, _) | Expr::Softmax(_, x, _) => enclosing_sums(x, target, acc),
        Expr::Binary(_, l, r, _) => {
            enclosing_sums(l, target, acc) || enclosing_sums(r, target, acc)
        }
        Expr::Call(c) => c.args.iter().any(|a| enclosing_sums(a, target, acc)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => false,
    }
}

/// Numbers the occurrences of `e` in the order of [`collect_occurrences`] and records,
/// for every node, the numbers of the occurrences it holds (`start..end`).
pub(super) fn number_occurrences(
    e: &Expr,
    next: &mut usize,
    spans: &mut HashMap<*const Expr, (usize, usize)>,
) {
    let start = *next;
    match e {
        Expr::Ref(_) => *next += 1,
        Expr::Unary(_, x, _) | Expr::Sum(_, x, _) | Expr::Softmax(_, x, _) => {
            number_occurrences(x, next, spans)
        }
        Expr::Binary(_, l, r, _) => {
            number_occurrences(l, next, spans);
            number_occurrences(r, next, spans);
        }
        Expr::Call(c) => c
            .args
            .iter()
            .for_each(|a| number_occurrences(a, next, spans)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => {}
    }
    spans.insert(e as *const Expr, (start, *next));
}

pub(super) fn has_explicit_sum(e: &Expr) -> bool {
    match e {
        Expr::Sum(..) => true,
        Expr::Unary(_, x, _) | Expr::Softmax(_, x, _) => has_explicit_sum(x),
        Expr::Binary(_, l, r, _) => has_explicit_sum(l) || has_explicit_sum(r),
        Expr::Call(c) => c.args.iter().any(has_explicit_sum),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) | Expr::Ref(_) => false,
    }
}
