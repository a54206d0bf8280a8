//! Claims about moments (`Var(L_l) == (1 + D^2 J sigma_W^2)^l`, `E[u] == 1/2`) decided by
//! Monte Carlo: the program is run in independent trials, each with freshly sampled
//! weights and inputs; every moment is estimated from the trial means, and the claim's
//! left − right gets a standard error from the trials (delta method). A claim is refuted
//! only when the estimate lies beyond z standard errors, z chosen so that a true claim is
//! refuted with probability below 1e−6 (split over the layers or steps tested); otherwise
//! it is `confirmed` (method monte-carlo) — or stays `undecided` when a tensor the claim
//! mentions depends on a distribution given only by its moments or symmetry, stood in for
//! by a normal (one instance can refute a claim about all such distributions, never
//! confirm it). Trials run on the dense executor ([`crate::num::dense`]) when the program
//! lowers, pruned to the statements the setting's claims need (a claim rewritten before
//! Monte Carlo, to those it reads: [`Pruning`]), else on the interpreter.

mod classes;
mod decide;
mod extract;
pub(crate) mod givens;
pub(crate) mod interior;
mod pool;
pub(crate) mod spread;
mod stats;
mod targets;
mod trials;

pub use decide::{decide, Need, RECHECK_RESOLUTION, RESOLUTION, SANITY_RESOLUTION};
pub(crate) use decide::{member_ranges, only_in_subscripts, MEMBER_MARGIN};
pub use givens::{apply_givens, binding_holds, given_values, unmet_condition};
pub use interior::with_interior_runs;
pub use stats::{t_for, t_tail, z_for};
pub use trials::{
    budget_key, looks, moment_keys, setting_needs, spent_at, Ctx, Pruning, Targets, Trials,
};

use crate::claims::Outcome;

/// Element evaluations the trials of one setting may use.
pub const BUDGET: u64 = 10_000_000;
/// Element evaluations all the Monte Carlo runs of one file may use together.
pub const FILE_BUDGET: u64 = 20_000_000;
/// Operations (dense executor: multiply-adds, element operations, statement costs) the
/// trials of one setting may use when the program lowers (docs/numeric.md).
pub const DENSE_BUDGET: u64 = 2_000_000_000;
/// An element evaluation of the interpreter costs about as much time as this many
/// operations of the dense executor (about 250 ns); the file budget is shared at this rate.
pub const OPS_PER_EVALUATION: u64 = 250;
/// Dense trials at most.
pub const DENSE_MAX_TRIALS: usize = 40_000;
/// Trials at most, and at least (fewer than this and the claim stays undecided).
pub const MAX_TRIALS: usize = 400;
pub const MIN_TRIALS: usize = 40;
/// The probability of refuting a true claim.
pub const FALSE_REFUTATION: f64 = 1e-6;

fn und(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

/// wrong42 (issue #14): whether the expressions read what a loop over `var` computes: a
/// tensor it writes, or the gradient of a tensor it reads or writes. The claim's `var` is
/// then that loop's variable, over its range (`x.grad[b,t,j] == h.grad[b,t,j] (1 -
/// h[b,t,j]^2)` beside `for t in 2..T-1`); otherwise an index named like it ranges over
/// its dimension too (snd41 p10: `E(y[b,t]^2) == 1` of a y written outside the loop was
/// tried at the loop's steps only, and confirmed, false at t = 0).
pub(crate) fn reads_loop_values(
    exprs: &[&crate::syntax::ast::Expr],
    program: &crate::syntax::ast::Program,
    env: &crate::check::Env,
    var: &str,
) -> bool {
    use crate::syntax::ast::{Item, ItemKind};
    use std::collections::BTreeSet;
    fn body(
        items: &[Item],
        env: &crate::check::Env,
        w: &mut BTreeSet<String>,
        r: &mut BTreeSet<String>,
    ) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(eq) => {
                    w.insert(env.key_of(&eq.lhs.name));
                    crate::syntax::visit::walk_refs(&eq.rhs, &mut |x| {
                        r.insert(env.key_of(&x.name));
                    });
                }
                ItemKind::Loop(l) => body(&l.body, env, w, r),
                ItemKind::ForIndices(f) => body(&f.body, env, w, r),
                _ => {}
            }
        }
    }
    fn find(
        items: &[Item],
        env: &crate::check::Env,
        var: &str,
        w: &mut BTreeSet<String>,
        r: &mut BTreeSet<String>,
    ) {
        for it in items {
            match &it.kind {
                ItemKind::Loop(l) if l.range.var.name == var => body(&l.body, env, w, r),
                ItemKind::Loop(l) => find(&l.body, env, var, w, r),
                ItemKind::ForIndices(f) => find(&f.body, env, var, w, r),
                _ => {}
            }
        }
    }
    let (mut written, mut read) = (BTreeSet::new(), BTreeSet::new());
    find(&program.items, env, var, &mut written, &mut read);
    let mut hit = false;
    for e in exprs {
        crate::syntax::visit::walk_refs(e, &mut |x| {
            let key = env.key_of(&x.name);
            hit |= written.contains(&key) || (x.grad && read.contains(&key));
        });
    }
    hit
}
