//! Occurrences of a tensor in a right-hand side: their indices, the sums that enclose
//! them, and their numbering.

use crate::syntax::ast::*;
use crate::syntax::visit::{children, walk_expr};
use std::collections::HashMap;

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

/// Relations, Iverson brackets and derivatives are constant for differentiation: no
/// occurrence inside them is differentiated.
fn opaque(e: &Expr) -> bool {
    matches!(e, Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..))
}

/// The references of `e` that are differentiated, in source order.
pub(super) fn collect_occurrences<'a>(e: &'a Expr, out: &mut Vec<&'a Ref>) {
    walk_expr(e, |x| {
        if let Expr::Ref(r) = x {
            out.push(r);
        }
        !opaque(x)
    });
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
        _ if opaque(e) => false,
        _ => children(e).any(|x| enclosing_sums(x, target, acc)),
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
    if let Expr::Ref(_) = e {
        *next += 1;
    } else if !opaque(e) {
        children(e).for_each(|x| number_occurrences(x, next, spans));
    }
    spans.insert(e as *const Expr, (start, *next));
}

pub(super) fn has_explicit_sum(e: &Expr) -> bool {
    match e {
        Expr::Sum(..) => true,
        _ if opaque(e) => false,
        _ => children(e).any(has_explicit_sum),
    }
}
