//! Walks over expressions that collect references and calls.

use crate::syntax::ast::*;

/// Calls `f` on every reference in an expression (including lookups in index lists).
pub fn walk_refs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Ref)) {
    match e {
        Expr::Num(..) => {}
        Expr::Ref(r) => walk_ref(r, f),
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => walk_refs(x, f),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            walk_refs(l, f);
            walk_refs(r, f);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| walk_refs(a, f)),
        Expr::Deriv(n, d, _) => {
            walk_ref(n, f);
            walk_ref(d, f);
        }
    }
}

pub(super) fn walk_ref<'a>(r: &'a Ref, f: &mut dyn FnMut(&'a Ref)) {
    f(r);
    for ix in r.indices.iter().flatten() {
        if let IndexExpr::Lookup(inner) = ix {
            walk_ref(inner, f);
        }
    }
}

pub(super) fn collect_claim_refs<'a>(e: &'a Expr, out: &mut Vec<&'a Ref>) {
    match e {
        // `order(backward, L)`: the first argument names a pass.
        Expr::Call(c) if c.func.name == "order" => c
            .args
            .iter()
            .skip(1)
            .for_each(|a| collect_claim_refs(a, out)),
        Expr::Rel(_, l, r, _) => {
            collect_claim_refs(l, out);
            collect_claim_refs(r, out);
        }
        // `solve(rel, unknown)`: the unknown is a name or power of one, checked like the rest.
        Expr::Call(c) if c.func.name == "equivalent" => {}
        _ => walk_refs(e, &mut |r| out.push(r)),
    }
}

pub(super) fn collect_calls<'a>(e: &'a Expr, out: &mut Vec<&'a Call>) {
    match e {
        Expr::Call(c) => {
            out.push(c);
            c.args.iter().for_each(|a| collect_calls(a, out));
        }
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => collect_calls(x, out),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            collect_calls(l, out);
            collect_calls(r, out);
        }
        _ => {}
    }
}
