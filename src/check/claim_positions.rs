//! A claim's fixed positions that exist at no size (E0214, session 29): a negative
//! position on a dimension whose positions run from 0 (`claim y[-1,0] == 3` on `y[b,j] =
//! ...`). Such an element is in no model, so the claim is about nothing; before this
//! check the exact path wrote `x[-1,0]` out as a free value and refuted the claim with a
//! witness at an element that does not exist, the moments path proved `Var(x[-1,0]) ==
//! 1`, and Monte Carlo said "no layer or step where every tensor of the claim exists".
//! A position past the end at the sample sizes (`y[5,7]` at J = 3) is not this error:
//! it exists at larger sizes, and the claim is about those (docs/language.md).
//!
//! Dimensions whose positions do not run from 0 are not checked here: a centred index's
//! (`param W[dx]` with `index dx : D centered`), a fixed start slice (`input h[B, 0,
//! I]`), a dimension along a loop variable, and rules' states.

use super::env::Env;
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;
use std::collections::BTreeMap;

/// E0301, a warning: a size's capital in a claim's index position with a shift or a
/// factor (`y.grad[b,X-1]`, `h[b,T-1]`) is a summed index, the sum over x of
/// `y.grad[b,x-1]`, not the last position; a statement gets E0301 for the same reading
/// (docs/language.md), a claim was silently refuted (probe34 p08). A plain capital
/// (`y[b,X]`, a sum as intended) and an index's capital (`x-DX`) are not reported.
fn capital_positions(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    each_claim_ref(program, |r| {
        for ix in r.indices.iter().flatten() {
            let IndexExpr::Affine(a) = ix else { continue };
            if a.plain_var().is_some() {
                continue;
            }
            let Some(cap) = a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .map(|f| f.name.as_str())
                .find(|n| is_summed_index(n) && env.sizes.contains_key(*n))
            else {
                continue;
            };
            let text = crate::syntax::printer::print_affine(a);
            let small = cap.to_lowercase();
            diags.push(
                        Diagnostic::warning(
                            "E0301",
                            a.span,
                            format!(
                                "`{text}` in an index position sums over {small}: `{cap}` there is a summed index, not the number {cap}"
                            ),
                        )
                        .with_label("a sum, not one position")
                        .with_hint(format!(
                            "tq has no positions counted from the end: to name the last position, give the size a value (`given {cap} = 5`) and write the position (`4`); to mean the sum, this is it"
                        )),
                    );
        }
    });
}

/// E0214 for each fixed negative position a claim reads on a dimension from 0.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    capital_positions(program, env, diags);
    past_the_end(program, env, diags);
    let mut centred: BTreeMap<(String, usize), bool> = BTreeMap::new();
    shapes(&program.items, env, &mut centred);
    each_claim_ref(program, |r| {
        if r.name.base.contains('.') {
            return;
        }
        let key = env.key_of(&r.name);
        let Some(t) = env.tensors.get(&key) else {
            return;
        };
        for (pos, ix) in r.indices.iter().flatten().enumerate() {
            let IndexExpr::Affine(a) = ix else { continue };
            if !a.terms.is_empty() || a.constant >= 0 {
                continue;
            }
            let Some(dim) = t.dims.get(pos) else { continue };
            // Only a dimension over a declared size, whose first declaration
            // or statement reads it with an index from 0.
            if !env.sizes.contains_key(dim.as_str())
                || centred.get(&(key.clone(), pos)).copied().unwrap_or(true)
            {
                continue;
            }
            let what = if r.grad {
                format!("`{key}.grad`")
            } else {
                format!("`{key}`")
            };
            diags.push(no_such_element(
                a.span,
                format!(
                    "position {} of dimension {} of {what} exists at no size: its positions run from 0 to `{dim}` - 1",
                    a.constant,
                    pos + 1
                ),
                "no such element",
                (t.span, pos, dim),
                format!(
                    "positions count from 0 (the first element is at 0, the last at `{dim}` - 1; tq has no positions counted from the end): name the element by its position from 0"
                ),
            ));
        }
    });
}

/// E0214 for a fixed position past the end of a dimension whose size the claim's own
/// givens or `at` set to a whole number (probe41 q07: `claim x[3] == 5 given D == 2` was
/// refuted "at x[3] = 0 (D = 2)", an element the model at D = 2 does not have, and
/// `Var(x[3]) == 1 given D == 2` was proved): the claim is about no element at all.
fn past_the_end(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut centred: BTreeMap<(String, usize), bool> = BTreeMap::new();
    // The sizes the `at` lines before a claim set (front41: `at J = 3` then a claim on
    // `y[0,3]` was refuted with a witness at an element that does not exist).
    let mut in_force: BTreeMap<String, i64> = BTreeMap::new();
    for item in &program.items {
        let c = match &item.kind {
            ItemKind::At(bs) => {
                for b in bs {
                    match &b.value {
                        Expr::Num(v, _) if env.sizes.contains_key(&b.name.name) => {
                            match v.parse::<i64>() {
                                Ok(v) => in_force.insert(b.name.name.clone(), v),
                                Err(_) => in_force.remove(&b.name.name),
                            };
                        }
                        _ => {
                            in_force.remove(&b.name.name);
                        }
                    }
                }
                continue;
            }
            ItemKind::Claim(c) => c,
            _ => continue,
        };
        let mut set: BTreeMap<String, i64> = in_force.clone();
        for g in &c.given {
            if let Expr::Rel(RelOp::Eq, l, r, _) = g {
                for (a, b) in [(l, r), (r, l)] {
                    if let (Expr::Ref(rf), Expr::Num(v, _)) = (&**a, &**b) {
                        let n = crate::syntax::printer::print_name(&rf.name);
                        if rf.indices.is_none() && env.sizes.contains_key(&n) {
                            if let Ok(v) = v.parse::<i64>() {
                                set.insert(n, v);
                            }
                        }
                    }
                }
            }
        }
        for b in &c.at {
            if let Expr::Num(v, _) = &b.value {
                if env.sizes.contains_key(&b.name.name) {
                    if let Ok(v) = v.parse::<i64>() {
                        set.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
        if set.is_empty() {
            continue;
        }
        if centred.is_empty() {
            shapes(&program.items, env, &mut centred);
        }
        for e in std::iter::once(&c.body).chain(c.given.iter()) {
            walk_refs(e, &mut |r: &Ref| {
                if r.name.base.contains('.') {
                    return;
                }
                let key = env.key_of(&r.name);
                let Some(t) = env.tensors.get(&key) else {
                    return;
                };
                for (pos, ix) in r.indices.iter().flatten().enumerate() {
                    let IndexExpr::Affine(a) = ix else { continue };
                    let Some(dim) = t.dims.get(pos) else { continue };
                    let Some(size) = set.get(dim.as_str()) else {
                        continue;
                    };
                    if !a.terms.is_empty()
                        || a.constant < *size
                        || centred.get(&(key.clone(), pos)).copied().unwrap_or(true)
                    {
                        continue;
                    }
                    diags.push(no_such_element(
                        a.span,
                        format!(
                            "position {} of dimension {} of `{key}` does not exist when `{dim}` = {size}, as this claim sets it: its positions run from 0 to {}",
                            a.constant,
                            pos + 1,
                            size - 1
                        ),
                        "no such element at this size",
                        (t.span, pos, dim),
                        format!(
                            "a claim under this given is about no element: set `{dim}` to at least {} or name a position below {size}",
                            a.constant + 1
                        ),
                    ));
                }
            });
        }
    }
}

/// The E0214 diagnostic of a fixed position a dimension does not have: `at` is the
/// position's span, `dimension` the tensor's declaration span, the dimension's place and
/// its size's name.
fn no_such_element(
    at: Span,
    message: String,
    label: &str,
    dimension: (Span, usize, &str),
    hint: String,
) -> Diagnostic {
    let (declared, pos, dim) = dimension;
    Diagnostic::error("E0214", at, message)
        .with_label(label)
        .with_related(
            declared,
            format!("dimension {} runs over `{dim}` from 0", pos + 1),
        )
        .with_hint(hint)
}

/// Every reference the claims of `program` make, in their bodies and givens.
fn each_claim_ref<'p>(program: &'p Program, mut f: impl FnMut(&'p Ref)) {
    for item in &program.items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        for e in std::iter::once(&c.body).chain(c.given.iter()) {
            walk_refs(e, &mut f);
        }
    }
}

/// Per tensor and dimension: whether its positions are centred (or not from 0), from its
/// declaration or its first statement (`true` for anything but a plain index or size
/// from 0).
fn shapes(items: &[Item], env: &Env, centred: &mut BTreeMap<(String, usize), bool>) {
    for item in items {
        let target = match &item.kind {
            ItemKind::Decl(d) if d.family.is_none() => &d.target,
            ItemKind::Equation(eq) => &eq.lhs,
            ItemKind::Loop(l) => {
                shapes(&l.body, env, centred);
                continue;
            }
            ItemKind::ForIndices(f) => {
                shapes(&f.body, env, centred);
                continue;
            }
            _ => continue,
        };
        let key = env.key_of(&target.name);
        for (pos, ix) in target.indices.iter().flatten().enumerate() {
            let from_zero = ix.plain_var().is_some_and(|f| {
                env.sizes.contains_key(f.name.as_str()) || !env.index_centered(&f.name)
            });
            centred.entry((key.clone(), pos)).or_insert(!from_zero);
        }
    }
}
