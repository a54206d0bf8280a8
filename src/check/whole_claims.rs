//! E0507: a tensor named without its indices in a claim's relation, outside a moment
//! (`E`, `Var`, `Cov`) or a claim function (`invariant`, `mults`, `order`, ...). A
//! relation compares numbers; such a name fell through to a free symbol with the positive
//! domain of symbols (probe36 h22, h23): `claim t > 0` for `t[i] = -relu(x[i])` and
//! `claim x > 0` for `input x[I] ~ normal(0, 1)` were proved, and `claim y == 2 W` for
//! `y[i] = 2 W[i]` was refuted "at W = 1, y = 1". A given may still set a whole tensor
//! (`given U = c W`, docs/language.md); this reads the relation only.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::BTreeSet;

/// Adds an E0507 for the first tensor named without indices in each claim's relation.
pub(super) fn check(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    for item in items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        if c.includes.is_some() {
            continue;
        }
        // A claim that already has an error (a name not defined, `Var y` without its
        // parentheses, `d(y)/d(x)` of a tensor) gets no second diagnostic here.
        if diags.iter().any(|d| {
            d.severity == crate::diag::Severity::Error
                && item.span.start <= d.span.start
                && d.span.end <= item.span.end
        }) {
            continue;
        }
        // The names the claim uses as indices (`[w == w[t]]` beside `s.grad[t,w]`).
        let mut indices: BTreeSet<String> = BTreeSet::new();
        crate::syntax::visit::walk_refs(&c.body, &mut |r| {
            for ix in r.indices.iter().flatten() {
                if let IndexExpr::Affine(a) = ix {
                    for t in &a.terms {
                        indices.extend(t.factors.iter().map(|f| f.name.clone()));
                    }
                }
            }
        });
        let Some((r, dims)) = whole(&c.body, env, &indices) else {
            continue;
        };
        let name = print_name(&r.name);
        let grad = if r.grad { ".grad" } else { "" };
        let indices: Vec<String> = dims
            .iter()
            .enumerate()
            .map(|(k, d)| {
                if d.chars().next().is_some_and(|ch| ch.is_ascii_uppercase())
                    && d.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    d.to_lowercase()
                } else {
                    ["i", "j", "k", "m", "n"][k % 5].to_string()
                }
            })
            .collect();
        diags.push(
            Diagnostic::error(
                "E0507",
                r.span,
                format!(
                    "`{name}{grad}` is a tensor with {} {}: a relation compares numbers, and a tensor named without its indices is none",
                    dims.len(),
                    if dims.len() == 1 { "index" } else { "indices" }
                ),
            )
            .with_label("a whole tensor")
            .with_hint(format!(
                "name its elements (`{name}{grad}[{}]`: the claim then holds for every element), or a moment of it (`E({name}{grad})`, `Var({name}{grad})`)",
                indices.join(",")
            )),
        );
    }
}

/// The first reference in `e`, outside a call that is not an element-wise function, to a
/// tensor with indices written without them, and its dimensions.
fn whole<'e>(e: &'e Expr, env: &Env, indices: &BTreeSet<String>) -> Option<(&'e Ref, Vec<String>)> {
    match e {
        Expr::Ref(r) if r.indices.is_none() => {
            // A size, symbol, scalar or index that shares a tensor's letter (the batch `B`
            // beside a bias `B[j]`, the depth `L` beside the family `L_l`, the index `w`
            // beside the labels `w[t]`) is that name, not the tensor.
            let name = print_name(&r.name);
            if !r.grad
                && r.name.sub.is_empty()
                && (env.sizes.contains_key(&name)
                    || env.symbols.contains_key(&name)
                    || env.scalars.contains_key(&name)
                    || indices.contains(&name)
                    || env.index_capital(&name).is_some())
            {
                return None;
            }
            let t = env.tensors.get(&env.key_of(&r.name))?;
            (t.rank > 0).then(|| (r, t.dims.clone()))
        }
        // Moments, `invariant`, `mults`, `order`, `solve`, `equivalent`: their own
        // reading of a whole tensor.
        Expr::Call(c) if crate::sym::func::lookup(&c.func.name).is_none() => None,
        Expr::Deriv(..) => None,
        _ => crate::syntax::visit::children(e).find_map(|c| whole(c, env, indices)),
    }
}
