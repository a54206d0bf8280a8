//! Claims about tensor elements decided symbolically at a generic index (`elements.rs`):
//! `invariant(T, x)`, identities such as `BN^{c}[n,j] == BN[n,j] given U = c W, c > 0`,
//! exact expectations over Bernoulli elements (`E(ghat[i]) == g[i]`), and inequalities
//! with a non-negativity certificate. Each proof is cross-checked: by exact evaluation at
//! random rational points with the sums written out at the `sample` sizes, or on a
//! sampled run of the model. What is not proved is confirmed or refuted by those checks,
//! or left to the general engines.
//!
//! Files: `mod.rs` the entry points ([`decide_invariant`], [`decide_relation`]) and what
//! counts as a claim about elements;
//! `givens.rs` the givens and the lowering at a generic index; `relation.rs` relations
//! between elements (proof, certificate, cross-checks); `exact.rs` exact evaluation at
//! random rational points; `invariant.rs` `invariant(T, x)` and the perturbed run;
//! `sampled.rs` the sampled run with tensor givens, at several points; `scaling.rs`
//! gradients under a scaling given; `thresholds.rs` values of a name on both sides of
//! the program's steps and kinks (given43).

pub(crate) mod exact;
mod givens;
mod invariant;
mod relation;
mod sampled;
mod scaling;
mod thresholds;

use crate::analysis::Analysis;
use crate::check::Env;
use crate::claims::Options;
use crate::claims::Outcome;
use crate::syntax::ast::{self as ast, DeclKind, Init, ItemKind, Program};
use crate::syntax::printer::print_expr;
pub use exact::SharedSides;
use invariant::invariant;
use relation::relation;
use std::collections::BTreeSet;

fn und(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

/// Random points of the exact check.
const POINTS: usize = 8;

/// Whether the expression reads tensor elements, explicit sums or `invariant`.
pub(in crate::claims) fn about_elements(e: &ast::Expr) -> bool {
    let mut found = false;
    crate::check::walk_refs(e, &mut |r| {
        if r.indices.is_some() {
            found = true;
        }
    });
    crate::syntax::visit::walk_expr(e, |x| {
        found |= matches!(x, ast::Expr::Sum(..));
        // `min(T)` / `max(T)` of a whole tensor reads its elements (wrong41: `min(h) >= -1`
        // of a computed tanh layer was left to the general engines, which decide none).
        found |= matches!(x, ast::Expr::Call(c)
            if matches!(c.func.name.as_str(), "min" | "max")
                && matches!(c.args.as_slice(), [ast::Expr::Ref(r)] if r.indices.is_none()));
        !found
    });
    found
}

/// Whether a claim without element references reads a scalar value that is written out
/// from tensor elements or explicit sums (`y = x[0]`, `s = w[I] x[I]`, through other
/// scalar values): such a scalar is an element with no index, decided like the elements
/// (written out, the exact check's random points and special points), not by the one
/// value of one sampled run (probe39/h l14: `claim y >= 0` for y = x[0] ~ N(0, 1) was
/// confirmed on one draw). Moments are left out: their scalars go to the moments engine.
pub(in crate::claims) fn reads_element_values(e: &ast::Expr, program: &Program, env: &Env) -> bool {
    if has_moment(e) {
        return false;
    }
    // Each scalar value's right sides (top level; a value also written in a loop or by
    // several statements is not written out, and the engine leaves it).
    let mut defs: std::collections::BTreeMap<String, Vec<&ast::Expr>> = Default::default();
    for it in crate::syntax::model_items::model_items(program) {
        if let ItemKind::Equation(eq) = &it.kind {
            if eq.lhs.indices.is_none() && !eq.lhs.grad {
                defs.entry(env.key_of(&eq.lhs.name))
                    .or_default()
                    .push(&eq.rhs);
            }
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<&ast::Expr> = vec![e];
    while let Some(x) = todo.pop() {
        let mut next = Vec::new();
        crate::check::walk_refs(x, &mut |r| {
            if r.indices.is_none() && !r.grad {
                next.push(env.key_of(&r.name));
            }
        });
        for key in next {
            if !seen.insert(key.clone()) || seen.len() > 256 {
                continue;
            }
            for rhs in defs.get(&key).into_iter().flatten() {
                if about_elements(rhs) {
                    return true;
                }
                todo.push(rhs);
            }
        }
    }
    false
}

/// Tensors whose elements are random with a distribution other than Bernoulli (their
/// moments are the Monte Carlo and moments engines' business).
fn non_bernoulli_random(program: &Program, env: &Env) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // Top-level declarations only: the model's items, listed once per file (perf42).
    for it in crate::syntax::model_items::model_items(program) {
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

/// Decides `invariant(T, x)` (the claim router gives this engine every such claim
/// without a boundary rule). The point in force (`at`: the file's `at` lines before it
/// and its own) reaches it as givens, as for the element engines, except a value of x
/// itself: the claim is about every value of x (fix42, probe42 r07: the givens and
/// the point were ignored, and `invariant(out, W) given alpha == 0` of
/// `out = x + alpha relu(W x)` was refuted at the sampled alpha).
pub fn decide_invariant(
    call: &ast::Call,
    claim: &ast::Claim,
    at: &[ast::Binding],
    a: &Analysis,
    opts: &Options,
) -> Outcome {
    let x = match call.args.get(1) {
        Some(ast::Expr::Ref(x)) => a.env.key_of(&x.name),
        _ => String::new(),
    };
    let point: Vec<ast::Binding> = at.iter().filter(|b| b.name.name != x).cloned().collect();
    let pointed = super::with_moments::claim_with_point(claim, &point, a.env);
    invariant(
        call,
        pointed.as_ref().unwrap_or(claim),
        a.program,
        a.env,
        opts,
    )
}

/// Decides a relation between tensor elements (or explicit sums) when this engine can
/// say something; `None` leaves the claim to the general engines.
/// `shared`: the file's left sides written out for the exact check, shared by its
/// claims ([`SharedSides`]).
pub fn decide_relation(
    claim: &ast::Claim,
    a: &Analysis,
    opts: &Options,
    shared: &std::cell::RefCell<SharedSides>,
) -> Option<Outcome> {
    // crit43 (probe43 r13): `l ~= r tol t` is `|l - r| <= t` (1e-6 without `tol`), as
    // the scalar and moment engines read it; every element engine below (the proof, the
    // exact check, the equal-elements point, the sampled re-checks) compared `==`.
    if let Some(c) = approx_as_bound(claim) {
        let ast::Expr::Rel(op, l, r, _) = &c.body else {
            return None;
        };
        return relation(*op, l, r, &c, a, opts, shared).map(|o| Outcome {
            evidence: format!("{APPROX_READ}{}", o.evidence),
            ..o
        });
    }
    match &claim.body {
        ast::Expr::Rel(op, l, r, _) => relation(*op, l, r, claim, a, opts, shared),
        _ => None,
    }
}

/// How an element engine's evidence introduces a `~=` claim read as a bound.
pub(crate) const APPROX_READ: &str = "`~=` read as abs(left - right) <= tol: ";

/// `l ~= r tol t` as the bound `abs(l - r) <= t` (t = 1/1000000 without `tol`: the
/// default of docs/language.md, "Relations"), for the engines that compare exactly or
/// with `==`; `None` for another relation.
pub(crate) fn approx_as_bound(claim: &ast::Claim) -> Option<ast::Claim> {
    let ast::Expr::Rel(ast::RelOp::Approx, l, r, span) = &claim.body else {
        return None;
    };
    let span = *span;
    let num = |n: &str| ast::Expr::Num(n.to_string(), span);
    let tol = claim.tol.clone().unwrap_or_else(|| {
        ast::Expr::Binary(
            ast::BinOp::Div,
            Box::new(num("1")),
            Box::new(num("1000000")),
            span,
        )
    });
    let diff = ast::Expr::Binary(ast::BinOp::Sub, l.clone(), r.clone(), span);
    let abs = ast::Expr::Call(ast::Call {
        func: ast::Ident {
            name: "abs".to_string(),
            span,
        },
        args: vec![diff],
        brackets: false,
        span,
    });
    Some(ast::Claim {
        body: ast::Expr::Rel(ast::RelOp::Le, Box::new(abs), Box::new(tol), span),
        tol: None,
        ..claim.clone()
    })
}
