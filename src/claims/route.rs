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
    /// `invariant(T, x)` without a boundary rule; its point is read as givens
    /// (`tensor_sym/invariant.rs`).
    Invariant,
    /// A relation that reads tensor elements or explicit sums (also through a scalar
    /// value written out from them, not in a moment), without a boundary rule or a point
    /// of its own: the symbolic engine at a generic index (`tensor_sym/`) first;
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
            // Its own point too (fix42, probe42 r07): the engine reads it as givens.
            ast::Expr::Call(c) if c.func.name == "invariant" && claim.boundary.is_none() => {
                Route::Invariant
            }
            ast::Expr::Rel(..)
                if !own_point
                    && (tensor_sym::about_elements(&claim.body)
                        || tensor_sym::reads_element_values(&claim.body, program, env)) =>
            {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::ItemKind;

    /// The route of every claim of a source, in file order.
    fn routes(src: &str) -> Vec<Route> {
        let parsed = crate::syntax::parser::parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program;
        let (env, diags) = crate::check::check(&program);
        assert!(diags.is_empty(), "{diags:?}");
        program
            .items
            .iter()
            .filter_map(|it| match &it.kind {
                ItemKind::Claim(c) => Some(Route::of(c, &program, &env)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn update_rules_own_their_sequences_and_equivalence() {
        let src = "symbol mu, eta\nrule A over t:\n  v[t+1] = mu v[t] + g[t]\n  theta[t+1] = theta[t] - eta v[t+1]\nrule B over t:\n  v[t+1] = mu v[t] + g[t]\n  theta[t+1] = theta[t] - eta v[t+1]\nclaim equivalent(A, B)\nclaim B.theta[t] == A.theta[t]\n  given A.v[0] = 0, B.v[0] = 0, B.theta[0] = A.theta[0]\nclaim mu + eta == eta + mu\n";
        assert_eq!(
            routes(src),
            [Route::UpdateRules, Route::UpdateRules, Route::General]
        );
    }

    #[test]
    fn element_claims_invariance_and_the_rest() {
        let src = "size d\nindex i : d\nsymbol sigma\nparam W[d] ~ normal(0, sigma^2)\nparam b[d]\ninput x[d] ~ normal(0, 1)\ny[i] = W[i] x[i] + b[i]\ns = y[I]\nclaim invariant(W, b)\nclaim y[i] - b[i] == W[i] x[i]\nclaim sum_{i}(y[i]) == s\nclaim Var(s) == d*sigma^2\nclaim s == s\n";
        assert_eq!(
            routes(src),
            [
                Route::Invariant,
                Route::Elements,
                Route::Elements,
                Route::General,
                // A scalar written out from elements is an element with no index
                // (probe39/h l14).
                Route::Elements
            ]
        );
    }

    #[test]
    fn a_point_or_boundary_of_its_own_leaves_the_general_engines() {
        let src = "size d\nindex i : d\nparam b[d]\ninput x[d]\ny[i] = x[i] + b[i]\nclaim invariant(y, b) at d = 2\nclaim y[i] == x[i] + b[i] at d = 2\n";
        // fix42: `invariant` reads its own point as givens (probe42 r07).
        assert_eq!(routes(src), [Route::Invariant, Route::General]);
    }

    #[test]
    fn includes_blocks_go_to_the_sampled_run() {
        let src = "size d\nindex i : d\nparam w[d]\ninput x[d]\ny = w[I] x[I]\nLoss = y^2\nclaim backprop includes:\n  y.grad = 2 y\n";
        let r = routes(src);
        assert_eq!(r, [Route::Includes]);
        assert!(!r[0].general());
    }
}
