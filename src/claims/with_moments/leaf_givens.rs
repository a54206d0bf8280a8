//! crit43 (probe43 r22, issue #14): a claim's givens that read a random quantity, as the
//! moments engine takes them. A given that sets a scalar leaf to a value (`given c0 == 2`
//! for `param c0 = 0`, `given keep == 1` for `input keep ~ bernoulli(p)`, `given a == 2`
//! for `input a ~ normal(0, 1)`) is put into the model: the leaf is that constant, the
//! one resolved substitution every engine reads (docs/language.md, "Givens are solved as
//! a system"). Any other given that reads a leaf or a computed value (`given a > 0`,
//! `given a^2 == 4`, `given s > 0` with `s = sum_{n}(x[n])`) conditions the law of what
//! it reads, which the moments engine does not do: the claim is left to the other
//! engines with that reason. Before, the moments engine read the model's own
//! distributions under every such given: `E(c0) == 0 given c0 == 2` and `E(a) == 0
//! given a > 0` were proved.

use crate::analysis::givens::{Given, Givens};
use crate::check::{Env, TensorKind};
use crate::sym::Expr;
use crate::syntax::ast;
use crate::syntax::printer::print_expr;

/// The names of random or computed values an expression reads: declared tensors and
/// scalar leaves (with a distribution or a declared value a given may set), computed
/// tensors and computed scalars.
fn random_reads(e: &ast::Expr, env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    crate::syntax::visit::walk_refs(e, &mut |r| {
        let key = env.key_of(&r.name);
        let name = crate::syntax::printer::print_name(&r.name);
        if env.sizes.contains_key(&name) || env.symbols.contains_key(&name) {
            return;
        }
        if env.tensors.contains_key(&key) || env.computed_scalars.contains(&name) || r.grad {
            out.push(name);
        }
    });
    out
}

/// A scalar leaf a given may set by name: declared with `input` or `param`, without
/// indices or family subscripts.
fn scalar_leaf(name: &str, env: &Env) -> bool {
    env.tensors
        .get(name)
        .is_some_and(|t| t.rank == 0 && t.family_arity == 0 && t.kind != TensorKind::Computed)
        && !env.computed_scalars.contains(name)
}

/// The scalar leaves the claim's givens set, with their values (to put into the model's
/// moments), or why the moments engine cannot read the givens: one conditions a random
/// or computed value instead of setting a scalar leaf. `Ok(empty)` when no given reads
/// a leaf or a computed value.
pub(super) fn leaf_settings(claim: &ast::Claim, env: &Env) -> Result<Vec<(String, Expr)>, String> {
    let givens = Givens::read(&claim.given, env);
    let values: Vec<(String, Expr)> = givens.values(false).unwrap_or_default();
    let mut out = Vec::new();
    for (g, written) in givens.all.iter().zip(&givens.written) {
        let why = |what: &str| {
            format!(
                "the given `{}` {what}: it conditions the law of a random value, which the moments engine does not do (it reads the model's own distributions)",
                print_expr(written)
            )
        };
        match g {
            Given::Set(s) if scalar_leaf(&s.name, env) => {
                if s.power.is_some() {
                    return Err(why("sets a power of a leaf"));
                }
                if !random_reads(&s.value, env).is_empty() {
                    return Err(why("sets a leaf to a random value"));
                }
                match values.iter().find(|(n, _)| *n == s.name) {
                    Some((n, v)) => out.push((n.clone(), v.clone())),
                    None => return Err(why("sets a leaf to a value that cannot be read")),
                }
            }
            // Whole-tensor givens have their own reason (`decide_with_moments`).
            Given::Tensor { .. } => {}
            _ => {
                let reads = random_reads(written, env);
                if let Some(first) = reads.first() {
                    return Err(why(&format!("reads `{first}`")));
                }
            }
        }
    }
    Ok(out)
}

/// Whether the claim takes a moment (`E`, `Var`, `Cov`, `solve`): only then do the
/// givens above concern the moments engine.
pub(super) fn has_moments(claim: &ast::Claim) -> bool {
    let mut calls = Vec::new();
    crate::claims::moments::find(&claim.body, &mut calls);
    !calls.is_empty()
}
