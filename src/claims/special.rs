//! Routing to the engines for particular claim forms: update rules over steps
//! (`rules.rs`) and claims about tensor elements written out symbolically at a generic
//! index (`tensor_sym.rs`, `elements.rs`). Each returns `None` for a claim that is not its kind, so the general
//! engines (symbolic, sampled run, Monte Carlo) see every other claim unchanged.

use super::{ProofRule, Verdict};
use crate::check::Env;
use crate::claims::Options;
use crate::syntax::ast::{Claim, Program};

/// A verdict, its method and its evidence.
pub type Outcome = (Verdict, String, String);

/// Decides the claim when one of the special engines owns it, with the rule a proof
/// by that engine rests on.
pub fn decide(
    claim: &Claim,
    program: &Program,
    env: &Env,
    opts: &Options,
) -> Option<(Outcome, ProofRule)> {
    if claim.includes.is_some() {
        return None;
    }
    super::rules::decide(claim, program, env, opts.seed)
        .map(|o| (o, ProofRule::LinearRecurrence))
        .or_else(|| {
            super::tensor_sym::decide(claim, program, env, opts)
                .map(|o| (o, ProofRule::TensorSymbolic))
        })
}
