//! Which engine owns which claim form: the route of a claim, decided once from its form
//! before any engine runs (docs/claims.md's "Which engine decides a claim").

use super::{rules, tensor_sym};
use crate::check::Env;
use crate::syntax::ast::{self as ast, Claim, Program};

/// The engine that owns a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// An `includes` block: statement by statement against the derived program's
    /// contributions on a sampled run (`includes.rs`).
    Includes,
    /// `equivalent(A, B)`, or a claim that names an update rule's sequence, in a file with
    /// rules (`rules/`).
    UpdateRules,
    /// `invariant(T, x)` without a boundary rule or a point of its own
    /// (`tensor_sym/invariant.rs`).
    Invariant,
    /// A relation that reads tensor elements or explicit sums, without a boundary rule or
    /// a point of its own: the symbolic engine at a generic index (`tensor_sym/`) first;
    /// what it leaves goes the general way.
    Elements,
    /// Everything else: the moments engine and the exact engine (`sym`), Monte Carlo as
    /// the second check of a moment (and the first of what they leave undecided), and a
    /// sampled run of the model when the scalar lowering meets tensor elements.
    General,
}

impl Route {
    /// The route of a claim (its givens already resolved).
    pub fn of(claim: &Claim, program: &Program, env: &Env) -> Route {
        if claim.includes.is_some() {
            return Route::Includes;
        }
        if rules::owns(claim, program, env) {
            return Route::UpdateRules;
        }
        let own_point = claim.boundary.is_some() || !claim.at.is_empty();
        match &claim.body {
            ast::Expr::Call(c) if c.func.name == "invariant" && !own_point => Route::Invariant,
            ast::Expr::Rel(..) if !own_point && tensor_sym::about_elements(&claim.body) => {
                Route::Elements
            }
            _ => Route::General,
        }
    }

    /// Whether the general engines (moments, exact, Monte Carlo, sampled run) may decide
    /// a claim on this route when its own engine leaves it.
    pub fn general(self) -> bool {
        matches!(self, Route::Elements | Route::General)
    }
}
