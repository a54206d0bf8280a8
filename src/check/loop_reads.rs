//! Reads along a loop variable against the extent they read (docs/language.md,
//! "Output sizes and the boundary rule"): in `for t in 1..T:`, a read `x[b,t]` of an
//! `x` declared over `T` positions reaches `x[b,T]` in the last iteration, one past its
//! extent. The positions a read `v + c` visits are `from + c .. to + c`; when the
//! difference to the dimension's first (0) or last (S − 1) position is a constant of
//! the wrong sign, whatever the sizes, the read falls outside in every model: without
//! a boundary rule that is E0301, under `boundary valid` E0303 (under `zero` and
//! `circular` such a read is defined: it reads padding or wraps around).
//!
//! Only reads of a dimension with a declared extent (a size) are checked; a recurrence
//! read at its own start (`h[b,t-1]` with `input h[B, 0, J]`) is governed by the start
//! rule (E0401), and a position that moves with something else than the loop variable
//! by the boundary rule of [`crate::check::outputs`].

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_affine, print_expr};
use crate::syntax::visit::walk_refs;

/// Checks every read along a loop variable of `items` (see the module comment).
pub fn check(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    // Tensors declared over a loop's range (`input x[B, t, J] ~ ... for t in 1..T`) hold
    // the positions of that range, not 0..T-1: their reads are not checked here.
    fn ranged(items: &[Item], env: &Env, out: &mut std::collections::BTreeSet<String>) {
        for it in items {
            match &it.kind {
                ItemKind::Decl(d) if d.family.is_some() => {
                    out.insert(env.key_of(&d.target.name));
                }
                ItemKind::Loop(l) => ranged(&l.body, env, out),
                ItemKind::ForIndices(f) => ranged(&f.body, env, out),
                _ => {}
            }
        }
    }
    let mut skip = std::collections::BTreeSet::new();
    ranged(items, env, &mut skip);
    let mut loops = Vec::new();
    walk(items, env, &skip, &mut loops, diags);
}

fn walk<'a>(
    items: &'a [Item],
    env: &Env,
    skip: &std::collections::BTreeSet<String>,
    loops: &mut Vec<&'a Range>,
    diags: &mut Vec<Diagnostic>,
) {
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                loops.push(&l.range);
                walk(&l.body, env, skip, loops, diags);
                loops.pop();
            }
            ItemKind::ForIndices(f) => walk(&f.body, env, skip, loops, diags),
            ItemKind::Equation(eq) if !loops.is_empty() => {
                walk_refs(&eq.rhs, &mut |r| {
                    if !skip.contains(&env.key_of(&r.name)) {
                        read(r, env, loops, diags)
                    }
                });
            }
            _ => {}
        }
    }
}

/// A whole number, when `e` (a loop end plus an offset, less a position) is one.
fn constant(text: &str) -> Option<num_rational::BigRational> {
    let x = crate::sym::parse_ascii(text).ok()?.normalize();
    if !x.free_symbols().is_empty() {
        return None;
    }
    x.eval_exact(&Default::default()).ok()
}

fn read(r: &Ref, env: &Env, loops: &[&Range], diags: &mut Vec<Diagnostic>) {
    let Some(idx) = &r.indices else { return };
    let key = env.key_of(&r.name);
    let Some(t) = env.tensors.get(&key) else {
        return;
    };
    for (pos, ix) in idx.iter().enumerate() {
        let IndexExpr::Affine(a) = ix else { continue };
        if a.terms.len() != 1 || a.terms[0].coef != 1 || a.terms[0].factors.len() != 1 {
            continue;
        }
        let var = &a.terms[0].factors[0].name;
        // The innermost loop that binds the variable.
        let Some(range) = loops.iter().rev().find(|l| &l.var.name == var) else {
            continue;
        };
        let Some(dim) = t.dims.get(pos) else { continue };
        if !env.sizes.contains_key(dim) {
            continue;
        }
        let c = a.constant;
        let from = print_expr(&range.from);
        let to = print_expr(&range.to);
        // Past the last position: to + c - (dim - 1) > 0 for every size.
        let over = constant(&format!("({to}) + ({c}) - ({dim}) + 1"))
            .filter(|d| *d > num_rational::BigRational::from_integer(0.into()));
        // Before the first: from + c < 0 for every size.
        let under = constant(&format!("({from}) + ({c})"))
            .filter(|d| *d < num_rational::BigRational::from_integer(0.into()));
        let at = |end: &str| {
            crate::sym::parse_ascii(&format!("({end}) + ({c})"))
                .map(|x| crate::sym::to_ascii(&x.normalize()))
                .unwrap_or_else(|_| format!("{end} + {c}"))
        };
        let (reach, last) = match (&over, &under) {
            (Some(_), _) => (
                format!("up to `{}`", at(&to)),
                format!("past its last position `{dim} - 1`"),
            ),
            (None, Some(_)) => (
                format!("down to `{}`", at(&from)),
                "before its first position 0".to_string(),
            ),
            (None, None) => continue,
        };
        let text = print_affine(a);
        let msg = format!(
            "`{key}` is read at `{text}` in `for {var} in {from}..{to}`, {reach}: {last} (dimension {} has extent `{dim}`)",
            pos + 1
        );
        let fit = if over.is_some() {
            let d = over.as_ref().map(|d| d.to_string()).unwrap_or_default();
            format!(
                "end the loop {d} earlier (`for {var} in {from}..{to} - {d}`), or read an earlier position (`{var} - {d}`)"
            )
        } else {
            let start = under
                .as_ref()
                .and_then(|d| crate::sym::parse_ascii(&format!("({from}) - ({d})")).ok())
                .map(|x| crate::sym::to_ascii(&x.normalize()))
                .unwrap_or_else(|| from.clone());
            format!("start the loop at `{start}` (`for {var} in {start}..{to}`)")
        };
        let (code, hint) = match env.boundary {
            None => (
                "E0301",
                format!("{fit}; or declare how reads outside a tensor behave (`boundary zero`, `boundary circular`)"),
            ),
            Some(Boundary::Valid) => (
                "E0303",
                format!("{fit}: under `boundary valid` every read must be inside"),
            ),
            Some(_) => continue,
        };
        diags.push(
            Diagnostic::error(code, a.span, msg)
                .with_label(format!("reaches outside `{key}`"))
                .with_related(range.span, "the loop's range")
                .with_hint(hint),
        );
    }
}
