//! A claim about a family member named by a size (`h_L`, `h_{L-2}`, `g_N`) that the
//! loops do not define at the sizes the claim is about (E0506): at the sample sizes (as
//! the claim's own `at` values and equality givens set them), or at large sizes, where
//! the subscript and the loops' ranges move apart (`for l in 0..0` defines h_1 alone, a
//! loop over `N` and a claim about `h_L`). A member missing only at small sizes
//! (`h_{L-1}` at L = 1, `h_2` beside `for l in 0..L-1`) is no error: such a claim is
//! about the sizes where it exists, and the engines decide it there.

use super::member_range::{members_text, Members};
use super::members::{eval_const, Exact, Form};
use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::BTreeMap;

/// The sizes' sample values, with the derived sizes computed from them (empty without a
/// `sample` line).
pub(super) fn sample_values(program: &Program, env: &Env) -> BTreeMap<String, i64> {
    let mut vals = BTreeMap::new();
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs {
                if let Some(Exact::Int(v)) = eval_const(&b.value) {
                    if env.sizes.contains_key(&b.name.name) {
                        vals.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
    }
    let mut with_derived = vals.clone();
    if !vals.is_empty() && super::outputs::derive_sizes_at(&mut with_derived, env) {
        vals = with_derived;
    }
    vals
}

/// The first size in the large search (each size from here to `LARGE + 5`).
const LARGE: i64 = 20;

/// E0506 for a claim's reference `r` to a member named by a size that no statement
/// defines at the claim's sizes or at large sizes (see the module comment).
pub(super) fn missing_at_claim_sizes(
    r: &Ref,
    c: &Claim,
    families: &BTreeMap<String, Members>,
    sample: &BTreeMap<String, i64>,
    env: &Env,
) -> Option<Diagnostic> {
    let key = super::family_key(&r.name);
    let m = families.get(&key)?;
    if m.unplaced
        || (m.ranges.is_empty() && m.starts.is_empty())
        || env.tensors.get(&key).is_none_or(|t| t.family_arity != 1)
    {
        return None;
    }
    let [IndexExpr::Affine(a)] = r.name.sub.as_slice() else {
        return None;
    };
    let f = Form::of_affine(a).filter(|f| !f.is_constant())?;
    let forms: Vec<&Form> = std::iter::once(&f)
        .chain(m.ranges.iter().flat_map(|(lo, hi)| [lo, hi]))
        .chain(&m.starts)
        .chain(&m.sized_starts)
        .collect();
    let mut names: Vec<String> = forms
        .iter()
        .flat_map(|g| g.terms.keys().flatten().cloned())
        .collect();
    names.sort();
    names.dedup();
    let derived = |n: &String| env.derived_sizes.iter().any(|(d, _)| d == n);
    if names.len() > 4
        || !names
            .iter()
            .all(|n| env.sizes.contains_key(n) && !derived(n))
    {
        return None;
    }
    let (fixed, givens) = claim_sizes(c, &names)?;
    let holds = |vals: &BTreeMap<String, i64>| {
        givens.iter().all(|(op, l, r)| {
            let (Some(a), Some(b)) = (l.eval(vals), r.eval(vals)) else {
                return false;
            };
            match op {
                RelOp::Eq | RelOp::Approx => a == b,
                RelOp::Lt => a < b,
                RelOp::Le => a <= b,
                RelOp::Gt => a > b,
                RelOp::Ge => a >= b,
            }
        })
    };
    let missing = |vals: &BTreeMap<String, i64>| missing_at(&f, m, vals) == Some(true);
    // The claim's sizes: the sample values, as the claim's `at` and givens set them.
    let mut at_claim: BTreeMap<String, i64> = names
        .iter()
        .filter_map(|n| sample.get(n).map(|v| (n.clone(), *v)))
        .collect();
    at_claim.extend(fixed.iter().map(|(n, v)| (n.clone(), *v)));
    let show = |at: &BTreeMap<String, i64>| {
        at.iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let shown = if at_claim.len() == names.len() && holds(&at_claim) && missing(&at_claim) {
        format!("{}, the sizes the claim is about", show(&at_claim))
    } else {
        // Large sizes: missing there, the member is missing at sizes without end.
        let large = search(&names, &fixed, LARGE, |v| holds(v) && missing(v))?;
        match search(&names, &fixed, 1, |v| holds(v) && missing(v)) {
            Some(least) => format!(
                "{} (nor at {}: the subscript and the loops' ranges move apart)",
                show(&least),
                show(&large)
            ),
            None => format!(
                "{} (the subscript and the loops' ranges move apart)",
                show(&large)
            ),
        }
    };
    Some(
        Diagnostic::error(
            "E0506",
            r.name.span,
            format!(
                "the claim names `{}`, a member of `{key}` that no statement defines at {shown}",
                print_name(&r.name),
            ),
        )
        .with_hint(format!(
            "the members of `{key}` are {}: name one of them, or say with a given which sizes the claim is about",
            members_text(&key, m)
        )),
    )
}

/// Whether member `f` is missing at `vals` (no start, outside every range); `None` when
/// a form cannot be evaluated there.
fn missing_at(f: &Form, m: &Members, vals: &BTreeMap<String, i64>) -> Option<bool> {
    let at = f.eval(vals)?;
    for s in m.starts.iter().chain(&m.sized_starts) {
        if s.eval(vals)? == at {
            return Some(false);
        }
    }
    for (lo, hi) in &m.ranges {
        if lo.eval(vals)? <= at && at <= hi.eval(vals)? {
            return Some(false);
        }
    }
    Some(true)
}

/// The claim's own values of `names` (its `at` and its givens `L = 3`) and its givens on
/// them as compared forms; `None` when a given names them in a form this check does not
/// read.
#[allow(clippy::type_complexity)]
fn claim_sizes(
    c: &Claim,
    names: &[String],
) -> Option<(BTreeMap<String, i64>, Vec<(RelOp, Form, Form)>)> {
    let mut fixed = BTreeMap::new();
    for b in &c.at {
        if names.contains(&b.name.name) {
            match eval_const(&b.value) {
                Some(Exact::Int(v)) => fixed.insert(b.name.name.clone(), v),
                _ => return None,
            };
        }
    }
    let mut givens = Vec::new();
    for g in &c.given {
        let mut named = Vec::new();
        crate::syntax::visit::walk_refs(g, &mut |x| named.push(print_name(&x.name)));
        if !named.iter().any(|n| names.contains(n)) {
            continue;
        }
        let Expr::Rel(op, l, r, _) = g else {
            return None;
        };
        let (Some(l), Some(r)) = (Form::of_expr(l), Form::of_expr(r)) else {
            return None;
        };
        let vars: Vec<&String> = l.terms.keys().chain(r.terms.keys()).flatten().collect();
        if !vars.iter().all(|n| names.contains(n)) {
            return None;
        }
        // `L = 3`: a value of its own.
        if matches!(op, RelOp::Eq) && r.is_constant() && l.terms.len() == 1 {
            let (m, coef) = l.terms.iter().next()?;
            if let ([n], 1) = (m.as_slice(), *coef) {
                fixed.insert(n.clone(), r.constant - l.constant);
            }
        }
        givens.push((*op, l, r));
    }
    Some((fixed, givens))
}

/// The first point (sizes from `from` to `from + 5`, the first name fastest; `fixed`
/// values kept) where `want` holds.
fn search(
    names: &[String],
    fixed: &BTreeMap<String, i64>,
    from: i64,
    want: impl Fn(&BTreeMap<String, i64>) -> bool,
) -> Option<BTreeMap<String, i64>> {
    let free: Vec<&String> = names.iter().filter(|n| !fixed.contains_key(*n)).collect();
    let mut vals: BTreeMap<String, i64> = fixed.clone();
    for n in &free {
        vals.insert((*n).clone(), from);
    }
    loop {
        if want(&vals) {
            return Some(vals);
        }
        let mut carried = true;
        for n in &free {
            let v = vals.get_mut(*n)?;
            *v += 1;
            carried = *v > from + 5;
            if carried {
                *v = from;
            } else {
                break;
            }
        }
        if carried {
            return None;
        }
    }
}
