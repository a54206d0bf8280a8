//! Walks over expressions that collect the references of a claim and the calls of an
//! expression (built on [`crate::syntax::visit`]).

use crate::syntax::ast::*;
use crate::syntax::visit::walk_expr;
pub use crate::syntax::visit::walk_refs;

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

/// Every call of an expression, outer calls before the calls in their arguments.
pub(super) fn collect_calls<'a>(e: &'a Expr, out: &mut Vec<&'a Call>) {
    walk_expr(e, |x| {
        if let Expr::Call(c) = x {
            out.push(c);
        }
        true
    });
}
