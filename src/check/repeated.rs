//! E0216: an index named twice where each index is named once — in the positions a left
//! side writes (`y[b,b] = x[b]`), in a `for` list (`for b,b,j:`) or in a sum's list
//! (`sum_{n,n}(g[n])`). Such a file was accepted and the engines read it two ways
//! (probe36 h09, h10): the moments engine and the exact engines bound the second name
//! alone (`y[b,b] = x[b]` as y[b0,b1] = x[b1]; `for b,b,j,j:` as one pass), the sampled
//! runs nested the repeated name (each element written B J times) and `tq emit` wrote a
//! diagonal, so each refuted the other's true claims and `tq derive` printed a variance
//! labelled exact that the model does not have. A diagonal is written with a bracket
//! (`y[b,c] = [b == c] x[b]`), a double sum with a second name (`sum_{n,n'}`).

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// Adds an E0216 for every left side, `for` list and sum list that names an index twice,
/// in statements, claims (their `backprop includes` blocks too), rules and derivations.
pub(super) fn check(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    check_in(items, env, diags, &[])
}

/// [`check`] inside the `for` blocks that bind `bound` (fix42, probe42 r17: a `for n:`
/// nested in a `for n:` was accepted; the sampled run ran the inner block N times for
/// each outer n and `tq emit` wrote it once, as `for n,n:`, which is this error).
fn check_in(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>, bound: &[Ident]) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                left_side(&eq.lhs, env, diags);
                sums(&eq.rhs, diags);
            }
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Value(e)) => sums(e, diags),
                Some(Init::Dist(c)) => c.args.iter().for_each(|a| sums(a, diags)),
                None => {}
            },
            ItemKind::Loop(l) => check_in(&l.body, env, diags, bound),
            ItemKind::ForIndices(f) => {
                if let Some((first, again)) = f
                    .indices
                    .iter()
                    .find_map(|i| bound.iter().find(|b| b.name == i.name).map(|b| (b, i)))
                {
                    diags.push(
                        Diagnostic::error(
                            "E0216",
                            again.span,
                            format!(
                                "`{}` is already listed by an enclosing `for`: each listed index runs over its size once",
                                again.name
                            ),
                        )
                        .with_label("listed again")
                        .with_related(first.span, "listed here")
                        .with_hint(format!(
                            "the inner block already runs at each `{0}` of the outer `for`: drop `{0}` from the inner list (or the inner `for`), or give a second index over the same size its own name (`{0}'`)",
                            again.name
                        )),
                    );
                }
                if let Some((first, again)) = twice(&f.indices) {
                    diags.push(
                        Diagnostic::error(
                            "E0216",
                            again.span,
                            format!(
                                "`{}` is listed twice in this `for` list: each listed index runs over its size once",
                                again.name
                            ),
                        )
                        .with_label("listed again")
                        .with_related(first.span, "listed here")
                        .with_hint(format!(
                            "list each index once (`{}`); a second index over the same size gets its own name (`{}'`)",
                            distinct(&f.indices),
                            again.name
                        )),
                    );
                }
                let mut inner = bound.to_vec();
                inner.extend(f.indices.iter().cloned());
                check_in(&f.body, env, diags, &inner);
            }
            ItemKind::Rule(r) => check_in(&r.body, env, diags, bound),
            ItemKind::Claim(c) => {
                sums(&c.body, diags);
                c.given.iter().for_each(|g| sums(g, diags));
                if let Some(block) = &c.includes {
                    check(block, env, diags);
                }
            }
            ItemKind::Derivation(d) => {
                d.given.iter().for_each(|g| sums(g, diags));
                sums(&d.start, diags);
                d.steps.iter().for_each(|s| sums(&s.expr, diags));
            }
            _ => {}
        }
    }
}

/// The first name of `ids` that an earlier one repeats: (the first, the repeat).
fn twice(ids: &[Ident]) -> Option<(&Ident, &Ident)> {
    ids.iter().enumerate().find_map(|(k, again)| {
        ids[..k]
            .iter()
            .find(|first| first.name == again.name)
            .map(|first| (first, again))
    })
}

/// The names of `ids`, each once, in order, joined by commas.
fn distinct(ids: &[Ident]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for i in ids {
        if !seen.contains(&i.name.as_str()) {
            seen.push(&i.name);
        }
    }
    seen.join(",")
}

/// E0216 for a sum whose list names an index twice, anywhere in `e`.
fn sums(e: &Expr, diags: &mut Vec<Diagnostic>) {
    crate::syntax::visit::walk_expr(e, |x| {
        if let Expr::Sum(ids, ..) = x {
            if let Some((first, again)) = twice(ids) {
                diags.push(
                    Diagnostic::error(
                        "E0216",
                        again.span,
                        format!(
                            "`{}` is listed twice in this sum: each listed index is summed over its size once",
                            again.name
                        ),
                    )
                    .with_label("listed again")
                    .with_related(first.span, "listed here")
                    .with_hint(format!(
                        "sum over each index once (`sum_{{{}}}`); a double sum over the same size names its second index apart (`{}'`)",
                        distinct(ids),
                        again.name
                    )),
                );
            }
        }
        true
    });
}

/// E0216 for a left side whose positions name one index in two places (`y[b,b]`,
/// `y[b, b+1]`): a statement writes every combination of its left side's indices, each
/// named once.
fn left_side(r: &Ref, env: &Env, diags: &mut Vec<Diagnostic>) {
    let Some(indices) = &r.indices else {
        return;
    };
    let mut seen: BTreeMap<&str, &Ident> = BTreeMap::new();
    for ix in indices {
        let IndexExpr::Affine(a) = ix else {
            continue;
        };
        let mut here: Vec<&Ident> = Vec::new();
        for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
            let name = f.name.as_str();
            if env.sizes.contains_key(name)
                || env.symbols.contains_key(name)
                || env.scalars.contains_key(name)
                || here.iter().any(|h| h.name == name)
            {
                continue;
            }
            here.push(f);
        }
        for f in here {
            if let Some(first) = seen.get(f.name.as_str()) {
                let written = crate::syntax::printer::print_ref(r);
                diags.push(
                    Diagnostic::error(
                        "E0216",
                        f.span,
                        format!(
                            "`{}` names two positions of `{written}`: a left side names each of its indices once",
                            f.name
                        ),
                    )
                    .with_label("named again")
                    .with_related(first.span, "named here")
                    .with_hint(format!(
                        "give the second position its own index and write the diagonal with a bracket: `[{0} == {0}'] ...` with `{0}'` in the second place",
                        f.name
                    )),
                );
                return;
            }
            seen.insert(f.name.as_str(), f);
        }
    }
}
