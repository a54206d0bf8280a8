//! The names, member references and loop variables an item mentions.

use super::*;

/// Calls `f` with the base of every subscripted name and member factor of an item
/// (`N` for `N_{l-1}`, `n` for `n_l`, `W` for `W_l`).
pub(super) fn visit_item_names(item: &Item, f: &mut dyn FnMut(&str)) {
    visit_item_members(item, &mut |base, _, _| f(base));
}

/// Calls `f` with (base, subscript text, span) of every member-like name of an item:
/// factors of index positions (`N_{l-1}`, `n_0`) and names with one subscript in
/// formulas (`N_{l-1}` in `2/N_{l-1}`).
pub(super) fn visit_item_members(item: &Item, f: &mut dyn FnMut(&str, &str, Span)) {
    let on_factor = |id: &Ident, f: &mut dyn FnMut(&str, &str, Span)| {
        if let Some((base, sub, _)) = split_member(&id.name) {
            f(base, sub, id.span);
        }
    };
    let mut refs: Vec<&Ref> = Vec::new();
    let mut factors: Vec<&Ident> = Vec::new();
    item_parts(item, &mut refs, &mut factors);
    for id in factors {
        on_factor(id, f);
    }
    for r in refs {
        if r.name.sub.len() == 1 && r.name.sup.is_empty() && r.indices.is_none() && !r.grad {
            let sub = crate::syntax::printer::print_index(&r.name.sub[0]);
            f(&r.name.base, &sub, r.name.span);
        }
    }
}

/// Calls `f` with every name an item's subscripts and index positions use (`l` in
/// `h_{l-1}`, `x[b,l]`) and every bare name of its formulas.
pub(super) fn visit_item_vars(item: &Item, f: &mut dyn FnMut(&str)) {
    let mut refs: Vec<&Ref> = Vec::new();
    let mut factors: Vec<&Ident> = Vec::new();
    item_parts(item, &mut refs, &mut factors);
    for id in factors {
        f(&id.name);
        if let Some((_, sub, _)) = split_member(&id.name) {
            for w in sub.split(|c: char| !c.is_ascii_alphanumeric()) {
                f(w);
            }
        }
    }
    for r in refs {
        if r.name.sub.is_empty() && r.indices.is_none() {
            f(&r.name.base);
        }
    }
}

/// The references and index-position factors of an item, its blocks included.
pub(super) fn item_parts<'a>(
    item: &'a Item,
    refs: &mut Vec<&'a Ref>,
    factors: &mut Vec<&'a Ident>,
) {
    let mut exprs: Vec<&'a Expr> = Vec::new();
    let mut top_refs: Vec<&'a Ref> = Vec::new();
    match &item.kind {
        ItemKind::Decl(d) => {
            top_refs.push(&d.target);
            match &d.init {
                Some(Init::Dist(c)) => exprs.extend(c.args.iter()),
                Some(Init::Value(e)) => exprs.push(e),
                None => {}
            }
        }
        ItemKind::Equation(eq) => {
            top_refs.push(&eq.lhs);
            exprs.push(&eq.rhs);
        }
        ItemKind::Loop(l) => {
            exprs.push(&l.range.from);
            exprs.push(&l.range.to);
            for b in &l.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::ForIndices(fi) => {
            for b in &fi.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::Rule(r) => {
            for b in &r.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::Claim(c) => {
            exprs.push(&c.body);
            exprs.extend(c.tol.iter());
            exprs.extend(c.given.iter());
            exprs.extend(c.at.iter().map(|b| &b.value));
            if let Some(body) = &c.includes {
                for b in body {
                    item_parts(b, refs, factors);
                }
            }
        }
        ItemKind::At(bs) | ItemKind::Sample(bs) => exprs.extend(bs.iter().map(|b| &b.value)),
        _ => {}
    }
    for e in exprs {
        crate::syntax::visit::walk_expr(e, |x| {
            match x {
                Expr::Ref(r) => top_refs.push(r),
                Expr::Deriv(a, b, _) => {
                    top_refs.push(a);
                    top_refs.push(b);
                }
                Expr::Sum(ids, _, _) => factors.extend(ids.iter()),
                Expr::Softmax(id, _, _) => factors.push(id),
                _ => {}
            }
            true
        });
    }
    while let Some(r) = top_refs.pop() {
        refs.push(r);
        for ix in r.name.sub.iter().chain(r.indices.iter().flatten()) {
            match ix {
                IndexExpr::Lookup(l) => top_refs.push(l),
                IndexExpr::Affine(a) => {
                    factors.extend(a.terms.iter().flat_map(|t| t.factors.iter()))
                }
            }
        }
    }
}

/// The size of an item as the expansion copies it: its blocks' items, expression nodes,
/// references and index-position factors (each a heap value of the copy), for the
/// expansion's budget ([`super::MAX_EXPANDED_WEIGHT`]).
pub(super) fn item_weight(item: &Item) -> u64 {
    fn exprs_of<'a>(item: &'a Item, out: &mut Vec<&'a Expr>, items: &mut u64) {
        *items += 1;
        match &item.kind {
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Dist(c)) => out.extend(c.args.iter()),
                Some(Init::Value(e)) => out.push(e),
                None => {}
            },
            ItemKind::Equation(eq) => out.push(&eq.rhs),
            ItemKind::Loop(l) => {
                out.push(&l.range.from);
                out.push(&l.range.to);
                l.body.iter().for_each(|b| exprs_of(b, out, items));
            }
            ItemKind::ForIndices(fi) => fi.body.iter().for_each(|b| exprs_of(b, out, items)),
            ItemKind::Rule(r) => r.body.iter().for_each(|b| exprs_of(b, out, items)),
            ItemKind::Claim(c) => {
                out.push(&c.body);
                out.extend(c.tol.iter());
                out.extend(c.given.iter());
                out.extend(c.at.iter().map(|b| &b.value));
                if let Some(body) = &c.includes {
                    body.iter().for_each(|b| exprs_of(b, out, items));
                }
            }
            ItemKind::At(bs) | ItemKind::Sample(bs) => out.extend(bs.iter().map(|b| &b.value)),
            _ => {}
        }
    }
    let mut exprs = Vec::new();
    let mut n = 0u64;
    exprs_of(item, &mut exprs, &mut n);
    for e in exprs {
        crate::syntax::visit::walk_expr(e, |_| {
            n += 1;
            true
        });
    }
    let mut refs = Vec::new();
    let mut factors = Vec::new();
    item_parts(item, &mut refs, &mut factors);
    n + refs.len() as u64 + factors.len() as u64
}
