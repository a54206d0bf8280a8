//! Claims about tensor elements decided symbolically at a generic index (`elements.rs`):
//! `invariant(T, x)`, identities such as `BN^{c}[n,j] == BN[n,j] given U = c W, c > 0`,
//! exact expectations over Bernoulli elements (`E(ghat[i]) == g[i]`), and inequalities
//! with a non-negativity certificate. Each proof is cross-checked: by exact evaluation at
//! random rational points with the sums written out at the `sample` sizes, or on a
//! sampled run of the model. What is not proved is confirmed or refuted by those checks,
//! or left to the general engines.
//!
//! Files: `mod.rs` the entry point ([`decide`]: which element claims this engine takes);
//! `givens.rs` the givens and the lowering at a generic index; `relation.rs` relations
//! between elements (proof, certificate, cross-checks); `exact.rs` exact evaluation at
//! random rational points; `invariant.rs` `invariant(T, x)` and the perturbed run;
//! `sampled.rs` the sampled run with tensor givens; `scaling.rs` gradients under a
//! scaling given.

mod exact;
mod givens;
mod invariant;
mod relation;
mod sampled;
mod scaling;

use super::Verdict;
use crate::check::Env;
use crate::claims::Options;
use crate::syntax::ast::{self as ast, DeclKind, Init, ItemKind, Program};
use crate::syntax::printer::print_expr;
use invariant::invariant;
use relation::relation;
use std::collections::BTreeSet;

type Outcome = (Verdict, String, String);

fn und(why: impl Into<String>) -> Outcome {
    (Verdict::Undecided, "none".into(), why.into())
}

/// Random points of the exact check.
const POINTS: usize = 8;

/// Whether the expression reads tensor elements, explicit sums or `invariant`.
fn about_elements(e: &ast::Expr) -> bool {
    let mut found = false;
    crate::check::walk_refs(e, &mut |r| {
        if r.indices.is_some() {
            found = true;
        }
    });
    found || print_expr(e).contains("sum_{")
}

/// Tensors whose elements are random with a distribution other than Bernoulli (their
/// moments are the Monte Carlo and moments engines' business).
fn non_bernoulli_random(program: &Program, env: &Env) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for it in &program.items {
        if let ItemKind::Decl(d) = &it.kind {
            if d.kind == DeclKind::Grad {
                continue;
            }
            if let Some(Init::Dist(c)) = &d.init {
                if c.func.name != "bernoulli" {
                    out.insert(env.key_of(&d.target.name));
                }
            }
        }
    }
    out
}

fn has_moment(e: &ast::Expr) -> bool {
    let t = print_expr(e);
    ["E(", "E[", "Var(", "Cov("].iter().any(|p| t.contains(p))
}

/// Decides the claim when it is about tensor elements and this engine can say something.
pub fn decide(claim: &ast::Claim, program: &Program, env: &Env, opts: &Options) -> Option<Outcome> {
    if claim.boundary.is_some() || !claim.at.is_empty() {
        return None;
    }
    match &claim.body {
        ast::Expr::Call(c) if c.func.name == "invariant" => {
            Some(invariant(c, claim, program, env, opts))
        }
        ast::Expr::Rel(op, l, r, _) if about_elements(&claim.body) => {
            relation(*op, l, r, claim, program, env, opts)
        }
        _ => None,
    }
}
