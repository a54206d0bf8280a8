//! Walks over the expression tree. This is the one place that knows which parts of an
//! [`Expr`] are subexpressions: the checker, grad and the other stages walk through
//! these functions instead of matching every variant again, so a new kind of
//! expression is taught to every walk here.
//!
//! Depth: the parser bounds nesting (`MAX_EXPR_DEPTH`) and operator chains
//! (`MAX_EXPR_OPERATORS`, E0003). [`walk_expr`] and the reference walks keep their own
//! stack and use no call stack however deep the tree is; [`map_children`] and
//! [`children_mut`] go one level down, so a rewrite built on them recurses as deep as
//! the tree, which the parser's bounds keep small.

use super::ast::{Call, Expr, IndexExpr, Ref};
use std::collections::BTreeMap;

/// The direct subexpressions of `e`, in source order: the operand of a sign, an
/// Iverson bracket, a sum or a softmax; both sides of an operator or a relation; the
/// arguments of a call. Numbers, references and derivatives `d(u)/d(a)` have none (the
/// parts of a reference or a derivative are references: see [`walk_refs`]).
pub fn children(e: &Expr) -> impl DoubleEndedIterator<Item = &Expr> {
    let (pair, args): ([Option<&Expr>; 2], &[Expr]) = match e {
        Expr::Num(..) | Expr::Ref(_) | Expr::Deriv(..) => ([None, None], &[]),
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => ([Some(x), None], &[]),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => ([Some(l), Some(r)], &[]),
        Expr::Call(c) => ([None, None], &c.args),
    };
    pair.into_iter().flatten().chain(args)
}

/// The direct subexpressions of `e`, as [`children`], for rewriting in place.
pub fn children_mut(e: &mut Expr) -> impl DoubleEndedIterator<Item = &mut Expr> {
    let (pair, args): ([Option<&mut Expr>; 2], &mut [Expr]) = match e {
        Expr::Num(..) | Expr::Ref(_) | Expr::Deriv(..) => ([None, None], &mut []),
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => ([Some(&mut **x), None], &mut []),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            ([Some(&mut **l), Some(&mut **r)], &mut [])
        }
        Expr::Call(c) => ([None, None], &mut c.args),
    };
    pair.into_iter().flatten().chain(args)
}

/// Calls `visit` on `e` and on every subexpression, parents before children, in source
/// order. Where `visit` returns false, the children of that node are skipped (a walk
/// that stops at function arguments, brackets or relations says so there).
pub fn walk_expr<'a>(e: &'a Expr, mut visit: impl FnMut(&'a Expr) -> bool) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if visit(e) {
            stack.extend(children(e).rev());
        }
    }
}

/// The indices bound by the explicit sums (`sum_{n}(...)`) anywhere in `e`, in source
/// order, each once, added to `out` (those already there are not added again).
pub fn sum_ids(e: &Expr, out: &mut Vec<String>) {
    walk_expr(e, |x| {
        if let Expr::Sum(ids, ..) = x {
            for i in ids {
                if !out.contains(&i.name) {
                    out.push(i.name.clone());
                }
            }
        }
        true
    });
}

/// Calls `f` on every reference of an expression in source order: the references that
/// are operands, both sides of a derivative `d(u)/d(a)`, and the lookups in index lists
/// (`w[t]` in `P[t, w[t]]`, after `P[t, w[t]]` itself).
pub fn walk_refs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Ref)) {
    walk_expr(e, |x| {
        match x {
            Expr::Ref(r) => walk_ref(r, f),
            Expr::Deriv(n, d, _) => {
                walk_ref(n, f);
                walk_ref(d, f);
            }
            _ => {}
        }
        true
    });
}

/// Calls `f` on a reference and then on the lookups in its index lists, in order.
pub fn walk_ref<'a>(r: &'a Ref, f: &mut dyn FnMut(&'a Ref)) {
    let mut stack = vec![r];
    while let Some(r) = stack.pop() {
        f(r);
        let lookups = r.indices.iter().flatten().filter_map(|ix| match ix {
            IndexExpr::Lookup(inner) => Some(&**inner),
            IndexExpr::Affine(_) => None,
        });
        let at = stack.len();
        stack.extend(lookups);
        stack[at..].reverse();
    }
}

/// Calls `f` on the references that are operands of the expression and on both sides
/// of a derivative, in source order; unlike [`walk_refs`], not on the lookups inside
/// index lists.
pub fn walk_operand_refs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Ref)) {
    walk_expr(e, |x| {
        match x {
            Expr::Ref(r) => f(r),
            Expr::Deriv(n, d, _) => {
                f(n);
                f(d);
            }
            _ => {}
        }
        true
    });
}

/// `e` with each direct subexpression replaced by `f` of it, in source order; the
/// operators, spans, bound indices and function names are kept, and a node without
/// subexpressions is cloned. One step of a rewrite: the rewrite matches the variants it
/// changes and hands the rest to this.
pub fn map_children(e: &Expr, mut f: impl FnMut(&Expr) -> Expr) -> Expr {
    match e {
        Expr::Unary(op, x, s) => Expr::Unary(*op, Box::new(f(x)), *s),
        Expr::Iverson(x, s) => Expr::Iverson(Box::new(f(x)), *s),
        Expr::Sum(ids, x, s) => Expr::Sum(ids.clone(), Box::new(f(x)), *s),
        Expr::Softmax(id, x, s) => Expr::Softmax(id.clone(), Box::new(f(x)), *s),
        Expr::Binary(op, l, r, s) => {
            let l = f(l);
            Expr::Binary(*op, Box::new(l), Box::new(f(r)), *s)
        }
        Expr::Rel(op, l, r, s) => {
            let l = f(l);
            Expr::Rel(*op, Box::new(l), Box::new(f(r)), *s)
        }
        Expr::Call(c) => Expr::Call(Call {
            func: c.func.clone(),
            args: c.args.iter().map(f).collect(),
            brackets: c.brackets,
            span: c.span,
        }),
        Expr::Num(..) | Expr::Ref(_) | Expr::Deriv(..) => e.clone(),
    }
}

/// Renames the index names of a reference's index lists (lookups inside them too) by
/// `map`, old name to new; other names stay.
pub fn rename_indices(r: &mut Ref, map: &BTreeMap<String, String>) {
    for ix in r.indices.iter_mut().flatten() {
        match ix {
            IndexExpr::Affine(a) => {
                for f in a.terms.iter_mut().flat_map(|t| &mut t.factors) {
                    if let Some(n) = map.get(&f.name) {
                        f.name = n.clone();
                    }
                }
            }
            IndexExpr::Lookup(r) => rename_indices(r, map),
        }
    }
}

/// The loops of a program (`for l in 0..L-1`), outer first, each variable once.
pub fn program_loops(items: &[super::ast::Item]) -> Vec<super::ast::Range> {
    use super::ast::{Item, ItemKind, Range};
    fn walk(items: &[Item], out: &mut Vec<Range>) {
        for it in items {
            if let ItemKind::Loop(l) = &it.kind {
                if !out.iter().any(|r| r.var.name == l.range.var.name) {
                    out.push(l.range.clone());
                }
                walk(&l.body, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(items, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::parse;
    use crate::syntax::printer::print_expr;

    /// The right-hand side of the one equation of `src`.
    fn rhs(src: &str) -> Expr {
        let parsed = parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        match &parsed.program.items.last().unwrap().kind {
            crate::syntax::ast::ItemKind::Equation(eq) => eq.rhs.clone(),
            other => panic!("not an equation: {other:?}"),
        }
    }

    const ALL_KINDS: &str = "y[i] = -a[i] + sigmoid(b[I] c[I], d) * [a[i] > 0] + sum_{j}(e[j]) \
                             + softmax_{i}(f[i]) / g[i, w[t]] + d(u)/d(v) + 2";

    #[test]
    fn children_are_the_direct_subexpressions_in_source_order() {
        let e = rhs("y[i] = f(a[i], b[i] + c[i], 3)");
        let kids: Vec<String> = children(&e).map(print_expr).collect();
        assert_eq!(kids, ["a[i]", "b[i] + c[i]", "3"]);
        let e = rhs("y[i] = a[i] - b[i]");
        let kids: Vec<String> = children(&e).map(print_expr).collect();
        assert_eq!(kids, ["a[i]", "b[i]"]);
        let e = rhs("y[i] = sum_{j}(a[j])");
        assert_eq!(children(&e).map(print_expr).collect::<Vec<_>>(), ["a[j]"]);
        assert_eq!(children(&rhs("y[i] = a[i]")).count(), 0);
        assert_eq!(children(&rhs("y = d(u)/d(v)")).count(), 0);
    }

    #[test]
    fn walk_expr_is_preorder_and_skips_what_the_visitor_refuses() {
        let e = rhs("y[i] = f(a[i] + b[i]) c[i]");
        let mut seen = Vec::new();
        walk_expr(&e, |x| {
            seen.push(print_expr(x));
            !matches!(x, Expr::Call(_))
        });
        assert_eq!(seen, ["f(a[i] + b[i]) c[i]", "f(a[i] + b[i])", "c[i]"]);
        let mut all = 0;
        walk_expr(&e, |_| {
            all += 1;
            true
        });
        // The product, the call, the sum, a, b and c.
        assert_eq!(all, 6);
    }

    #[test]
    fn walk_refs_sees_lookups_and_derivative_sides_and_operand_refs_do_not_see_lookups() {
        let e = rhs(ALL_KINDS);
        let mut deep = Vec::new();
        walk_refs(&e, &mut |r| deep.push(r.name.base.clone()));
        assert_eq!(
            deep,
            ["a", "b", "c", "d", "a", "e", "f", "g", "w", "u", "v"]
        );
        let mut shallow = Vec::new();
        walk_operand_refs(&e, &mut |r| shallow.push(r.name.base.clone()));
        assert_eq!(shallow, ["a", "b", "c", "d", "a", "e", "f", "g", "u", "v"]);
    }

    #[test]
    fn nested_lookups_are_visited_in_order() {
        let e = rhs("y[t] = P[t, w[v[t]], z[t]]");
        let mut seen = Vec::new();
        walk_refs(&e, &mut |r| seen.push(r.name.base.clone()));
        assert_eq!(seen, ["P", "w", "v", "z"]);
    }

    #[test]
    fn map_children_with_the_identity_rebuilds_the_same_tree() {
        let e = rhs(ALL_KINDS);
        fn copy(e: &Expr) -> Expr {
            map_children(e, copy)
        }
        assert_eq!(copy(&e), e);
        // A rewrite that changes only numbers reaches every one of them.
        fn bump(e: &Expr) -> Expr {
            match e {
                Expr::Num(_, s) => Expr::Num("7".into(), *s),
                _ => map_children(e, bump),
            }
        }
        assert_eq!(
            print_expr(&bump(&rhs("y[i] = 2 a[i] + f(3, [a[i] > 1])"))),
            "7 a[i] + f(7, [a[i] > 7])"
        );
    }

    #[test]
    fn children_mut_rewrites_in_place() {
        let mut e = rhs("y[i] = f(a[i], 2) - 3");
        fn zero(e: &mut Expr) {
            if let Expr::Num(t, _) = e {
                *t = "0".into();
            }
            children_mut(e).for_each(zero);
        }
        zero(&mut e);
        assert_eq!(print_expr(&e), "f(a[i], 0) - 0");
    }

    #[test]
    fn walks_reach_every_reference_of_the_longest_chain_the_parser_accepts() {
        let n = crate::syntax::parser::MAX_EXPR_OPERATORS;
        let src = format!("y = {}", vec!["a"; n].join(" + "));
        let e = rhs(&format!("scalar a\n{src}"));
        let mut refs = 0;
        walk_refs(&e, &mut |_| refs += 1);
        assert_eq!(refs, n);
    }
}
