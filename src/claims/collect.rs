//! The claims of a program with the point in force where each stands (the `at` scoping
//! rule, docs/language.md "Claims"), each derivation step a claim of its own, and the
//! byte ranges of the `claim` items that the verdict cache leaves out of the key every
//! claim shares.

use super::*;
use std::collections::BTreeSet;

/// The byte ranges of the `claim` items of a program (in loops too): what the verdict
/// cache leaves out of the context every claim's key shares.
pub fn claim_items(items: &[Item], out: &mut Vec<(usize, usize)>) {
    for it in items {
        match &it.kind {
            ItemKind::Claim(_) => out.push((it.span.start as usize, it.span.end as usize)),
            ItemKind::Loop(l) => claim_items(&l.body, out),
            _ => {}
        }
    }
}

/// Claims with the point (`at a = 2, b = 1`) in force where they stand; each step of a
/// derivation is a claim of its own, at its line. The scoping rule (docs/language.md,
/// "Claims"): the file-level `at` lines before the claim give the point (a later line
/// sets its names again), a claim's own
/// `at` overrides it name by name, and a name the claim's `given` sets takes the
/// given's value. Every claim's givens are solved here, once, in dependency order
/// ([`crate::check::givens`]): every engine reads the resolved givens. The last part of
/// each entry is the claim's `tol`, `given` and `at` as written, for its report (the
/// resolved givens, `s = 2 (1)` for `s = 2 t, t = 1`, are what the engines read, not
/// what the author wrote).
#[allow(clippy::type_complexity)]
pub(super) fn collect(
    items: &[Item],
    env: &Env,
    at: &mut Vec<Binding>,
    out: &mut Vec<(crate::syntax::span::Span, Claim, Vec<Binding>, String)>,
) {
    let defs = computed_definitions(items, env);
    collect_in(items, &defs, env, at, out)
}

#[allow(clippy::type_complexity)]
fn collect_in(
    items: &[Item],
    defs: &BTreeMap<String, ast::Expr>,
    env: &Env,
    at: &mut Vec<Binding>,
    out: &mut Vec<(crate::syntax::span::Span, Claim, Vec<Binding>, String)>,
) {
    let scoped = |c: &Claim, at: &[Binding]| -> (Claim, Vec<Binding>) {
        let mut c = c.clone();
        rename_shadowing_sums(&mut c);
        let given: Vec<ast::Expr> = c.given.iter().map(|g| on_inputs(g, defs, env)).collect();
        c.given = crate::check::givens::resolved(&given, &c.at, env);
        let set = |name: &str| {
            c.at.iter().any(|b| b.name.name == name)
                || c.given.iter().any(|g| match g {
                    ast::Expr::Rel(RelOp::Eq, l, _, _) => {
                        let l = match &**l {
                            ast::Expr::Binary(ast::BinOp::Pow, b, _, _) => b,
                            l => l,
                        };
                        matches!(l, ast::Expr::Ref(r) if r.indices.is_none()
                            && crate::syntax::printer::print_name(&r.name) == name)
                    }
                    _ => false,
                })
        };
        let mut here: Vec<Binding> = at.iter().filter(|b| !set(&b.name.name)).cloned().collect();
        here.extend(c.at.iter().cloned());
        (c, here)
    };
    for item in items {
        match &item.kind {
            // A later `at` line sets its names again and keeps the others.
            ItemKind::At(bs) => {
                at.retain(|b| !bs.iter().any(|n| n.name.name == b.name.name));
                at.extend(bs.iter().cloned());
            }
            ItemKind::Claim(c) => {
                let tail = crate::syntax::printer::print_claim_tail(c);
                let (c, here) = scoped(c, at);
                out.push((item.span, c, here, tail));
            }
            ItemKind::Derivation(d) => {
                for (span, c) in d.step_claims() {
                    let tail = crate::syntax::printer::print_claim_tail(&c);
                    let (c, here) = scoped(&c, at);
                    out.push((span, c, here, tail));
                }
            }
            ItemKind::Loop(l) => collect_in(&l.body, defs, env, &mut at.clone(), out),
            _ => {}
        }
    }
}

/// The most syntax nodes a computed scalar's definition may have written out in the
/// inputs for a given on it to be read as a constraint on them ([`on_inputs`]).
const MAX_DEFINITION_NODES: usize = 400;

/// The file's computed scalars (`x = a^2`, each set once by `=` at the top level) written
/// out in the scalar inputs, symbols and sizes (`w = x + y` is `a^2 + b^2`), when that
/// reads no tensor, sum, moment or other computed value and stays within
/// [`MAX_DEFINITION_NODES`]: what a given on a computed value constrains.
fn computed_definitions(items: &[Item], env: &Env) -> BTreeMap<String, ast::Expr> {
    use crate::syntax::printer::print_name;
    let mut written: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        if let ItemKind::Equation(eq) = &item.kind {
            *written.entry(print_name(&eq.lhs.name)).or_default() += 1;
        }
    }
    let mut defs: BTreeMap<String, ast::Expr> = BTreeMap::new();
    for item in items {
        let ItemKind::Equation(eq) = &item.kind else {
            continue;
        };
        let name = print_name(&eq.lhs.name);
        if eq.lhs.indices.is_some()
            || eq.lhs.grad
            || eq.op != ast::AssignOp::Set
            || written.get(&name) != Some(&1)
            || !env.computed_scalars.contains(&name)
        {
            continue;
        }
        // Read in program order: the values it reads are written out already.
        let value = substitute(&eq.rhs, &defs, env);
        let mut nodes = 0usize;
        crate::syntax::visit::walk_expr(&value, |_| {
            nodes += 1;
            true
        });
        let mut pure = nodes <= MAX_DEFINITION_NODES;
        crate::syntax::visit::walk_refs(&value, &mut |r| {
            let n = print_name(&r.name);
            pure &= r.indices.is_none()
                && !r.grad
                && !env.computed_scalars.contains(&n)
                && (env.sizes.contains_key(&n)
                    || env.symbols.contains_key(&n)
                    || env.scalars.contains_key(&n));
        });
        pure &= crate::lower::lower(&value, &crate::lower::Scope::default()).is_ok();
        if pure {
            defs.insert(name, value);
        }
    }
    defs
}

/// `e` with each computed scalar that [`computed_definitions`] wrote out replaced by its
/// value in the inputs.
fn substitute(e: &ast::Expr, defs: &BTreeMap<String, ast::Expr>, env: &Env) -> ast::Expr {
    match e {
        ast::Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            let n = crate::syntax::printer::print_name(&r.name);
            match defs.get(&n) {
                Some(v) if env.computed_scalars.contains(&n) => v.clone(),
                _ => e.clone(),
            }
        }
        _ => crate::syntax::visit::map_children(e, |c| substitute(c, defs, env)),
    }
}

/// A given `x = v` on a computed scalar read as the constraint it is on the inputs the
/// program computes `x` from (`x = a^2`: `a^2 = v`), so that every engine solves it as a
/// given on them (a power of a scalar input at both roots, a symbol set) and no point or
/// witness breaks it (probe36 h21: `claim x == 3 given x = 3` was refuted at a = 0, the
/// given dropped). Another given, and one on a value not written out, is kept as written.
fn on_inputs(g: &ast::Expr, defs: &BTreeMap<String, ast::Expr>, env: &Env) -> ast::Expr {
    let ast::Expr::Rel(RelOp::Eq, l, r, span) = g else {
        return g.clone();
    };
    let mut reads = false;
    for side in [l, r] {
        crate::syntax::visit::walk_refs(side, &mut |x| {
            reads |= x.indices.is_none()
                && !x.grad
                && defs.contains_key(&crate::syntax::printer::print_name(&x.name));
        });
    }
    if !reads {
        return g.clone();
    }
    ast::Expr::Rel(
        RelOp::Eq,
        Box::new(substitute(l, defs, env)),
        Box::new(substitute(r, defs, env)),
        *span,
    )
}

/// A sum whose index is also a free index of the claim outside it (`sum_{i}(x[b,i]) >=
/// x[b,i]`) gets a fresh name for it (`i'`, as an author would write): the sum's `i` is
/// its own, as in the model's statements. Every engine reads the claim once renamed
/// (probe43 r08: the outer `i` was read as bound everywhere, a true claim refuted with a
/// witness at `x[0,i]`, an element that does not exist).
fn rename_shadowing_sums(c: &mut Claim) {
    let (mut free, mut all) = (BTreeSet::new(), BTreeSet::new());
    free_indices(&c.body, &mut Vec::new(), &mut free, &mut all);
    for g in &c.given {
        free_indices(g, &mut Vec::new(), &mut free, &mut all);
    }
    rename_in(&mut c.body, &free, &mut all);
    for g in &mut c.given {
        rename_in(g, &free, &mut all);
    }
}

/// The names a reference reads as indices: its positions, lookups and member subscripts.
fn ref_index_names(r: &ast::Ref, out: &mut Vec<String>) {
    for ix in r.indices.iter().flatten().chain(r.name.sub.iter()) {
        match ix {
            ast::IndexExpr::Affine(a) => out.extend(
                a.terms
                    .iter()
                    .flat_map(|t| t.factors.iter().map(|f| f.name.clone())),
            ),
            ast::IndexExpr::Lookup(l) => ref_index_names(l, out),
        }
    }
}

fn free_indices(
    e: &ast::Expr,
    bound: &mut Vec<String>,
    free: &mut BTreeSet<String>,
    all: &mut BTreeSet<String>,
) {
    match e {
        ast::Expr::Sum(ids, x, _) => {
            let n = bound.len();
            bound.extend(ids.iter().map(|i| i.name.clone()));
            all.extend(ids.iter().map(|i| i.name.clone()));
            free_indices(x, bound, free, all);
            bound.truncate(n);
        }
        ast::Expr::Ref(r) => {
            let mut names = Vec::new();
            ref_index_names(r, &mut names);
            for n in names {
                if !bound.contains(&n) {
                    free.insert(n.clone());
                }
                all.insert(n);
            }
        }
        _ => {
            for x in crate::syntax::visit::children(e) {
                free_indices(x, bound, free, all);
            }
        }
    }
}

fn rename_in(e: &mut ast::Expr, free: &BTreeSet<String>, all: &mut BTreeSet<String>) {
    if let ast::Expr::Sum(ids, x, _) = e {
        let mut map = BTreeMap::new();
        for i in ids.iter_mut().filter(|i| free.contains(&i.name)) {
            let mut n = format!("{}'", i.name);
            while all.contains(&n) {
                n.push('\'');
            }
            all.insert(n.clone());
            map.insert(std::mem::replace(&mut i.name, n.clone()), n);
        }
        if !map.is_empty() {
            rename_bound(x, &map);
        }
    }
    for x in crate::syntax::visit::children_mut(e) {
        rename_in(x, free, all);
    }
}

/// `map`'s names renamed in `e`, except under a sum that binds them again.
fn rename_bound(e: &mut ast::Expr, map: &BTreeMap<String, String>) {
    match e {
        ast::Expr::Sum(ids, x, _) => {
            let mut inner = map.clone();
            inner.retain(|k, _| !ids.iter().any(|i| i.name == *k));
            if !inner.is_empty() {
                rename_bound(x, &inner);
            }
        }
        ast::Expr::Ref(r) => rename_ref(r, map),
        _ => {
            for x in crate::syntax::visit::children_mut(e) {
                rename_bound(x, map);
            }
        }
    }
}

fn rename_ref(r: &mut ast::Ref, map: &BTreeMap<String, String>) {
    for ix in r.indices.iter_mut().flatten().chain(r.name.sub.iter_mut()) {
        match ix {
            ast::IndexExpr::Affine(a) => {
                for f in a.terms.iter_mut().flat_map(|t| &mut t.factors) {
                    if let Some(n) = map.get(&f.name) {
                        f.name = n.clone();
                    }
                }
            }
            ast::IndexExpr::Lookup(l) => rename_ref(l, map),
        }
    }
}
