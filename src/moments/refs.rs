//! Syntax helpers: scattered writes, additive terms, summed capitals and the references
//! an expression or a program reads.

use crate::syntax::ast::{self as ast, BinOp, IndexExpr, Item, ItemKind, Ref, UnOp};
use std::collections::BTreeSet;

/// Why the elements of a left side are not each written by the same number of terms
/// of the statement: a position with a stride, two indices, a symbol factor or a
/// lookup (the gather form leaves such writes as scatters). `None` for plain indices,
/// an index plus a constant and fixed positions.
pub(super) fn scattered(lhs: &Ref) -> Option<String> {
    for ix in lhs.indices.iter().flatten() {
        match ix {
            IndexExpr::Lookup(_) => {
                return Some(format!(
                    "a looked-up position ({}): how many terms reach each element depends on the looked-up values",
                    crate::syntax::printer::print_ref(lhs)
                ))
            }
            IndexExpr::Affine(a) => {
                let plain = a.terms.is_empty()
                    || (a.terms.len() == 1
                        && a.terms[0].coef == 1
                        && a.terms[0].factors.len() == 1);
                if !plain {
                    return Some(format!(
                        "a strided position ({}, a scatter in the gather form): how many terms reach each element depends on the element, and tq does not count them",
                        crate::syntax::printer::print_ref(lhs)
                    ));
                }
            }
        }
    }
    None
}

/// The additive terms of an expression, with their signs.
/// The terms of a sum with their signs (`true`: subtracted).
pub fn split_terms<'e>(e: &'e ast::Expr, neg: bool, out: &mut Vec<(bool, &'e ast::Expr)>) {
    match e {
        ast::Expr::Binary(BinOp::Add, l, r, _) => {
            split_terms(l, neg, out);
            split_terms(r, neg, out);
        }
        ast::Expr::Binary(BinOp::Sub, l, r, _) => {
            split_terms(l, neg, out);
            split_terms(r, !neg, out);
        }
        ast::Expr::Unary(UnOp::Neg, x, _) => split_terms(x, !neg, out),
        other => out.push((neg, other)),
    }
}

/// Capital (summed) indices of a product term, outside function arguments and inner sums,
/// also those inside a looked-up subscript: `e[w[T], i]` is Σ_t e[w[t], i] (the
/// interpreter's reading, `check::capitals`), not one lookup (session 27: the engine
/// gave it the moments of one lookup, `E(u) == m` proved for the true T m).
pub(super) fn capitals(e: &ast::Expr) -> Vec<String> {
    fn of_ref(r: &Ref, out: &mut Vec<String>) {
        for ix in r.indices.iter().flatten() {
            match ix {
                IndexExpr::Affine(a) => {
                    for t in &a.terms {
                        for f in &t.factors {
                            if ast::is_summed_index(&f.name) && !out.contains(&f.name) {
                                out.push(f.name.clone());
                            }
                        }
                    }
                }
                IndexExpr::Lookup(inner) => of_ref(inner, out),
            }
        }
    }
    fn walk(e: &ast::Expr, out: &mut Vec<String>) {
        match e {
            ast::Expr::Ref(r) => of_ref(r, out),
            ast::Expr::Unary(_, x, _) => walk(x, out),
            ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..) => {}
            ast::Expr::Binary(_, l, r, _) => {
                walk(l, out);
                walk(r, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

/// The tensor references of an expression outside function arguments.
pub(super) fn refs_in(e: &ast::Expr) -> Vec<&Ref> {
    fn walk<'e>(e: &'e ast::Expr, out: &mut Vec<&'e Ref>) {
        match e {
            ast::Expr::Ref(r) => out.push(r),
            ast::Expr::Unary(_, x, _) => walk(x, out),
            ast::Expr::Binary(_, l, r, _) => {
                walk(l, out);
                walk(r, out);
            }
            ast::Expr::Call(c) => c.args.iter().for_each(|a| walk(a, out)),
            ast::Expr::Sum(_, b, _) => walk(b, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

pub(super) fn refs_vars(r: &Ref) -> BTreeSet<String> {
    r.indices
        .iter()
        .flatten()
        .filter_map(|ix| match ix {
            IndexExpr::Affine(a) => Some(
                a.terms
                    .iter()
                    .flat_map(|t| t.factors.iter().map(|f| f.name.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Every tensor reference of a block: `f(ref, is_left_side)`.
pub(super) fn visit_refs(items: &[Item], f: &mut dyn FnMut(&Ref, bool)) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => {
                f(&eq.lhs, true);
                for r in refs_in(&eq.rhs) {
                    f(r, false);
                }
            }
            ItemKind::ForIndices(fi) => visit_refs(&fi.body, f),
            ItemKind::Loop(l) => visit_refs(&l.body, f),
            _ => {}
        }
    }
}
