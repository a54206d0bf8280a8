//! Deciding one moment claim: the sequential test look by look, refutation with its
//! re-check on each half of the trials, confirmation when the test resolves 5%.

use super::extract::{bind_positions, extract, pattern_of, unpooled_position, Moment};
use super::givens::{binding_holds, given_values, unmet_condition};
use super::pool::{heterogeneity, Pool, PoolMemo, HETERO_MIN};
use super::stats::{self, estimate, rounding, t_for, z_for};
use super::trials::{
    depends_on_stand_in, looks, magnitude_key, means, setting_key, spent_at, unwritten_key, Ctx,
    MeansMemo, Pruning, TrialStats, Trials,
};
use super::{und, FALSE_REFUTATION};
use crate::check::Env;
use crate::claims::scalar::{self, Scope};
use crate::claims::Verdict;
use crate::claims::{Method, Outcome};
use crate::num::dense::{Needed, Precision};
use crate::num::trials::Executor;
use crate::num::{Bind, Machine};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Claim, RelOp};
use std::collections::BTreeMap;
mod claim_test;
mod class_test;
#[allow(unused_imports)]
pub use claim_test::*;

/// How much a claim's Monte Carlo run has to establish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Monte Carlo decides the claim (or re-checks a refutation): trials until it is
    /// refuted or confirmed, or the budget is spent.
    Decide,
    /// A second check of a claim the moments engine refuted: trials until Monte Carlo
    /// refutes it too, or confirms it, or its threshold is within [`RECHECK_RESOLUTION`]
    /// of the values (an error of 5% or more is then refuted again).
    Recheck,
    /// A second check of a claim the moments engine proved (or confirmed from its exact
    /// closed form): trials until its threshold is within [`SANITY_RESOLUTION`] of the
    /// values (enough to refute an error of 20%), or earlier when it is refuted or
    /// confirmed.
    Sanity,
}

impl Need {
    /// The resolution at which the run stops undecided, if any.
    fn stop_at(self) -> Option<f64> {
        match self {
            Need::Decide => None,
            Need::Recheck => Some(RECHECK_RESOLUTION),
            Need::Sanity => Some(SANITY_RESOLUTION),
        }
    }
}

/// The resolution a confirmation needs: z × standard error ≤ 5% of the values compared.
pub const RESOLUTION: f64 = 0.05;

/// The reason `claim_test`'s comparison gives when the estimate of a side is not finite
/// (kept equal to its `Look::Fails` text; tests/cases/sound34/rms_zero_variance_end.tq
/// fails when they part).
const NOT_FINITE: &str = "the estimate is not finite";
/// Not finite at some of the claim's bindings (`1 / t` at t = 0), finite at others.
const NOT_FINITE_SOME: &str = "the estimate is not finite at some of the positions";
/// A sanity run stops once its refutation threshold (z × standard error) is within 10% of
/// the values: an error of 20% or more then lies at least as far again beyond it, and is
/// refuted unless the estimate falls z standard errors short of the truth.
pub const SANITY_RESOLUTION: f64 = 0.1;
/// A re-check of a refutation stops once its threshold is within 2.5% of the values:
/// an error of 5% or more is refuted again.
pub const RECHECK_RESOLUTION: f64 = 0.025;

/// What one look at the first `n` trials says about every binding of the claim.
enum Look {
    /// Refuted at some binding (the outcome, with its witness).
    Refuted(Outcome),
    /// Not refuted: the tested lines, the bindings not yet resolved enough to confirm,
    /// and the largest refutation threshold (z × standard error over the larger side)
    /// over all the bindings.
    Open {
        tested: Vec<String>,
        weak: Vec<String>,
        worst: f64,
        /// Whether `worst` was measured against the size of the moments (a right side
        /// of 0) somewhere.
        of_moments: bool,
        /// A binding would be decided but waits for the comparison of the pooled
        /// elements ([`HETERO_MIN`] trials).
        waiting: bool,
        /// A strict relation whose interval did not exclude equality somewhere.
        strict_open: bool,
    },
    /// The claim cannot be decided by Monte Carlo (a reason).
    Fails(String),
    /// As [`Look::Fails`] (every trial gave the same values), and the relation fails at
    /// those values ([`Outcome::open_at_values`]).
    FrozenFails(String),
}

/// Decides a claim that mentions `Var` or `E`; `None` when it mentions neither.
///
/// Sequential: the claim is tested after [`MIN_TRIALS`] trials, then each time their
/// number doubles, up to the setting's budget ([`looks`]); look k refutes only beyond the
/// Student-t threshold for the probability [`spent_at`]`(k)` (split over the layers or
/// steps tested), so a true claim is refuted with probability below [`FALSE_REFUTATION`]
/// over all the looks together. The claim stops at the first look that refutes or
/// confirms it (or, for [`Need::Sanity`], that resolves [`SANITY_RESOLUTION`]).
///
/// A refutation carries its witness: the run's sizes and symbols, the layer or step,
/// the seed, both estimates and the interval of their difference, re-checked on each
/// half of the trials on its own.
///
/// With `ctx.precision` [`Precision::F32`] the trials' matrix products run in f32
/// (docs/numeric.md "Single precision"): such trials may confirm a claim or leave it
/// undecided, but never refute it: a claim they refute is decided again on f64 trials
/// (the reference), whose verdict stands, so no refutation rests on f32 values.
pub fn decide<'a>(
    claim: &Claim,
    ctx: &Ctx<'_, 'a>,
    cache: &mut BTreeMap<String, Result<Trials<'a>, String>>,
    budget: &mut u64,
    need: Need,
) -> Option<Outcome> {
    let o = decide_in(claim, ctx, cache, budget, need)?;
    if ctx.precision == Precision::F64 {
        return Some(o);
    }
    if o.verdict == Verdict::Refuted {
        let reference = Ctx {
            precision: Precision::F64,
            ..*ctx
        };
        let mut again = decide_in(claim, &reference, cache, budget, need)?;
        again.evidence = format!(
            "{} (decided on f64 trials: the f32 trials refuted it, and no refutation rests on f32 values)",
            again.evidence
        );
        return Some(again);
    }
    let mut o = o;
    o.evidence = format!("{} (matrix products in f32)", o.evidence);
    Some(o)
}

fn decide_in<'a>(
    claim: &Claim,
    ctx: &Ctx<'_, 'a>,
    cache: &mut BTreeMap<String, Result<Trials<'a>, String>>,
    budget: &mut u64,
    need: Need,
) -> Option<Outcome> {
    let (program, env, back, seed) = (ctx.program, ctx.env, ctx.back, ctx.seed);
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return None;
    };
    let mut moments = Vec::new();
    let (l, r) = match (extract(l, &mut moments), extract(r, &mut moments)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return (!moments.is_empty() || calls_var_or_mean(&claim.body)).then(|| und(e))
        }
    };
    if moments.is_empty() {
        return None;
    }
    let (lhs, rhs) = match (
        scalar::lower(&l, &Scope::default()),
        scalar::lower(&r, &Scope::default()),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Some(und(e)),
    };
    // Givens: sizes and symbols set (`X == 8`, `sigma_W^2 == ...`), a boundary rule.
    let sets = match given_values(claim, env) {
        Ok(s) => s,
        Err(e) => return Some(und(e)),
    };
    let boundary = claim.boundary;
    let rel = *op;
    // A claim of the form `E(T) <rel> value` (one moment, alone on its side): the pool's
    // mean is the average of its elements' means, so a pool whose mean fails the
    // relation has an element whose mean fails it, whether or not the elements share
    // one distribution; so for `Var(T)` when the elements share their mean.
    let is_moment = |e: &ast::Expr| matches!(e, ast::Expr::Ref(r) if r.name.base == "mc_0");
    let averaged = moments.len() == 1 && (is_moment(&l) || is_moment(&r));
    let explicit_tol = claim.tol.is_some();
    let tol = match &claim.tol {
        Some(t) => scalar::lower(t, &Scope::default())
            .ok()
            .and_then(|t| t.eval_f64(&BTreeMap::new()).ok())
            .unwrap_or(0.0),
        // The same default as the exact engines (docs/language.md).
        None => 1e-6,
    };
    // Loop variables the claim uses: every value of the loop where the tensors exist.
    let used: Vec<ast::Range> = crate::claims::program_loops(&program.items)
        .into_iter()
        .filter(|r| crate::claims::mentions(&claim.text, &r.var.name))
        .collect();
    // A trial's statistics pool the elements of a member over every position not fixed
    // by a number. That estimates one element's moment only when the positions are
    // distinct plain indices: a position read at a loop variable the claim binds
    // (`Var(h[b,t,j]) == 4^t`), a repeated index (the diagonal `s[t,t]`) or a shifted one
    // selects other elements than the pool, and was compared with the pool's moment.
    let loop_vars: Vec<String> = used.iter().map(|r| r.var.name.clone()).collect();
    for m in &moments {
        if let Some(why) = unpooled_position(&m.target, &loop_vars) {
            return Some(und(why));
        }
        // A whole tensor along a loop (`Var(h)` of `h[b,t,j]` in `for t in 1..T`) is
        // pooled over every step, the start included: the steps' elements have their own
        // distributions (a leaky integrator's variance changes with t), and the pool was
        // compared with the claim at each step (`Var(h) == beta^(2t) v0 + ...` refuted
        // "at t = 3" by the pool's 0.77 against the step's 0.36).
        if m.target.indices.is_none() {
            let key = env.key_of(&m.target.name);
            if let Some(v) = env.tensors.get(&key).and_then(|t| {
                t.dims.iter().find_map(|d| match d.strip_prefix('~') {
                    Some(v) => Some(format!("`{v}`")),
                    // A start slice declared at a fixed position (`input h[B, 0, J]`):
                    // the dimension of a recurrence.
                    None => d.starts_with('@').then(|| "its recurrence".to_string()),
                })
            }) {
                return Some(und(format!(
                    "Monte Carlo pools the elements of `{}` over every step of {v}, whose elements need not share one distribution; name one step's elements (`{}[b, 2, j]`, a fixed step) to compare it",
                    m.target.name.base, m.target.name.base
                )));
            }
        }
    }
    // The givens' values, for the interior program below (the trials take them).
    let border_sets = sets.clone();
    // The tensors the claim reads.
    let mine: Needed = moments
        .iter()
        .map(|m| (env.key_of(&m.target.name), m.target.grad))
        .collect();
    // Trials, shared by the claims with the same setting; under a setting no claim of
    // the file has (a claim rewritten before Monte Carlo), pruned to what this claim
    // reads, in as many trials as before ([`Pruning`]).
    let key = setting_key(claim);
    // The tensors the file's claims with these givens mention, and this claim's: a claim
    // run at another claim's setting (a point of `other_points`, `I == 1`) needs its own
    // (probe32/a w30h: the trials kept only the other claim's tensors, and a true claim
    // was undecided "no layer or step where every tensor of the claim exists").
    let (pruning, slot) = Pruning::of(ctx.targets, &key, &mine);
    ctx.used.borrow_mut().insert(key);
    // f32 trials are kept apart from the setting's f64 ones.
    let slot = match ctx.precision {
        Precision::F64 => slot,
        Precision::F32 => format!("f32 {slot}"),
    };
    // Trials of this setting that left out a tensor this claim reads are started again
    // with it.
    if matches!(cache.get(&slot), Some(Ok(t)) if t.pruning.run.as_ref().is_some_and(|n| !mine.is_subset(n)))
    {
        cache.remove(&slot);
    }
    let trials = match cache
        .entry(slot)
        .or_insert_with(|| Trials::start(ctx, sets, boundary, pruning, Executor::Auto, budget))
    {
        Ok(t) => t,
        Err(e) => return Some(und(e.clone())),
    };
    let mut m0 = trials.first.clone();
    let run_consts: BTreeMap<String, f64> = m0.consts.clone().into_iter().collect();
    let loop_names: std::collections::BTreeSet<String> =
        used.iter().map(|r| r.var.name.clone()).collect();
    if let Some(why) = unmet_condition(claim, env, &run_consts, &loop_names) {
        return Some(und(why));
    }
    let mut consts = m0.consts.clone();
    // The named constants a formula may read (`sqrt(v/(2 pi))`), unless the file
    // gives the name a value of its own.
    for (name, v) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)] {
        if crate::num::is_named_constant(env, name) {
            consts.entry(name.into()).or_insert(v);
        }
    }
    let stood_in = depends_on_stand_in(program, env, back, &mine);
    // Every combination of the used loops' values.
    let mut bindings: Vec<Bind> = vec![vec![]];
    for r in &used {
        let (Ok(lo), Ok(hi)) = (m0.const_expr(&r.from), m0.const_expr(&r.to)) else {
            return Some(und(format!(
                "the range of `{}` is not a constant",
                r.var.name
            )));
        };
        let (mut lo, mut hi) = (lo.round() as i64, hi.round() as i64);
        // A family variable (`l` of `Var(h_l)`) stands for every member of the family,
        // not for the range of the first loop over `l`: `for l in 0..L-1` writes h_1 to
        // h_L, and a last member written after the loops (`h_L = W_L h_{L-1}`) is one
        // too. The values of every loop and family declaration over `l`, two more at
        // each end; a value at which a member the claim names does not exist is left out
        // below, as it is at every look.
        if subscript_only(&moments, &r.var.name) {
            for other in member_ranges(&program.items, &r.var.name) {
                if let (Ok(a), Ok(b)) = (m0.const_expr(&other.from), m0.const_expr(&other.to)) {
                    lo = lo.min(a.round() as i64);
                    hi = hi.max(b.round() as i64);
                }
            }
            lo = lo.saturating_sub(MEMBER_MARGIN);
            hi = hi.saturating_add(MEMBER_MARGIN);
        } else if let (Ok((a, b)), false) = (
            m0.index_range(&r.var.name),
            super::reads_loop_values(&[&claim.body], program, env, &r.var.name),
        ) {
            // A loop variable named like an index (`t` of `size T` beside `for t in
            // 1..T-1`) read at a position, of a tensor the loop does not compute: every
            // position of the dimension, not the loop's range alone (snd41, wrong42,
            // issue #14 p10: `E(y[b,t]^2) == 1` with y 0 at t = 0 was confirmed at t =
            // 1..3; renamed `k` it was refuted). Positions where an element does not
            // exist are left out below.
            lo = lo.min(a);
            hi = hi.max(b);
        }
        bindings = super::targets::each_value(bindings, &r.var.name, lo, hi);
    }
    // Values at which a member the claim names does not exist (`h_{-1}`, `h_{L+2}`).
    bindings.retain(|b| {
        moments.iter().all(|mo| {
            let t = bind_positions(&mo.target, b);
            let probe = ast::Expr::Ref(ast::Ref { indices: None, ..t });
            m0.all_exist(&probe, b)
        })
    });
    // Values of the loop and family variables that the claim's givens leave out (`given
    // l >= 1`; `l == 1` at a witness's layer).
    let before = bindings.len();
    bindings.retain(|b| binding_holds(claim, env, &run_consts, b));
    if bindings.is_empty() && before > 0 {
        return Some(und(
            "the givens leave no member of the claim's families at the run's sizes".to_string(),
        ));
    }
    // Bindings where a pooled tensor has elements away from the border and at it (by the
    // interior program: a read outside the range reads 0): two position classes with
    // different moments, whose pool is no element's (probe 29: `Var(L_l) == (D s)^l` of a
    // zero-padded convolution stack was refuted "at l = 1" by the pool, where every
    // interior element has the claimed value, and that pool was the refutation's witness).
    // Such a binding is not compared, for a tensor named with plain indices (`Var(y[b,x])`)
    // and for a whole tensor (`Var(L_l)`) alike. Second flag: a tensor named with indices
    // all of whose elements are at the border (a dilated window wider than the tensor:
    // every position reads padding), whose pool may still mix classes (2 and 3 taps
    // inside): compared class by class where the trials record classes, else pooled with
    // the heterogeneity test (session 34: the false `E(y[b,t]^2) <= 5 s v / 4` was
    // confirmed at the pool's 1.20 where t = 1 has 3/2).
    // The interior runs share the file's budget (`interior`): past it, the claim is
    // undecided with the reason (whether its pools mix is not known).
    let mut spent = false;
    let border: Vec<(bool, bool)> = bindings
        .iter()
        .map(|b| {
            let mut all_at_border = false;
            let mixed = moments.iter().any(|mo| {
                let t = bind_positions(&mo.target, b);
                let pooled = t.indices.iter().flatten().all(|ix| {
                    ix.plain_var()
                        .is_some_and(|v| !crate::syntax::ast::is_summed_index(&v.name))
                });
                // A whole tensor only under a rule that reads zeros outside (the interior
                // program reads a bracket of a class, `[c[b] == 0]`, as outside, and split
                // a categorical mixture's pool with no border at all).
                let crosses = t.indices.is_some()
                    || matches!(
                        claim.boundary.or(env.boundary),
                        Some(ast::Boundary::Zero | ast::Boundary::Valid)
                    );
                if !(pooled && crosses) {
                    return false;
                }
                let boundary = claim.boundary.or(env.boundary);
                match super::interior::split(program, env, &t, b, &border_sets, boundary, true) {
                    Ok(Ok(Some((inside, outside)))) => {
                        all_at_border |= inside == 0 && outside > 0 && t.indices.is_some();
                        inside > 0 && outside > 0
                    }
                    Ok(_) => false,
                    Err(super::interior::Spent) => {
                        spent = true;
                        false
                    }
                }
            });
            (mixed, all_at_border)
        })
        .collect();
    if spent {
        return Some(und(super::interior::spent_reason()));
    }
    let border_mixed: Vec<bool> = border.iter().map(|b| b.0).collect();
    let border_only: Vec<bool> = border.iter().map(|b| b.1).collect();
    let schedule = if ctx.fixed_budget {
        vec![trials.max]
    } else {
        looks(trials.max)
    };
    // Position classes the structure of the program creates that the pool of a moment
    // mixes (a stride or reflection that meets itself, a transpose's diagonal, a position
    // read as a value): the pool's moment is then no element's, and it confirms nothing
    // (probe32/a w23f, w34e). Which positions a binding fixes does not depend on its
    // values, so the first binding's are read.
    // Each moment's target at the first binding, with the program parts it is read in
    // (the backward program too for a gradient).
    let first_bound = |mo: &Moment| -> (ast::Ref, Vec<&[ast::Item]>) {
        let t = match bindings.first() {
            Some(b) => bind_positions(&mo.target, b),
            None => mo.target.clone(),
        };
        let parts: Vec<&[ast::Item]> = if t.grad {
            vec![&program.items, back]
        } else {
            vec![&program.items]
        };
        (t, parts)
    };
    let classes = moments.iter().find_map(|mo| {
        let (t, parts) = first_bound(mo);
        super::classes::unnamed_classes(&parts, env, &t, &super::extract::pattern_of(&t))
    });
    // The dimensions of each moment's pool along which it may hold position classes,
    // recorded apart by the trials (`classes::class_dims`, session 33).
    let circular = matches!(
        claim.boundary.or(env.boundary),
        Some(ast::Boundary::Circular)
    );
    let class_dims: Vec<Option<Vec<usize>>> = moments
        .iter()
        .map(|mo| {
            let (t, parts) = first_bound(mo);
            super::classes::class_dims(&parts, env, &t, &pattern_of(&t), circular)
        })
        .collect();
    let claim_test = ClaimTest {
        classes,
        class_dims,
        lhs: &lhs,
        rhs: &rhs,
        moments: &moments,
        consts: &consts,
        rel,
        tol,
        explicit_tol,
        env,
        seed,
        decides: need == Need::Decide,
        averaged,
        compares: trials.max >= HETERO_MIN,
        looked_up: looked_up(&program.items, env),
        border_mixed,
        border_only,
        rounding: match ctx.precision {
            Precision::F64 => stats::ROUNDING_F64,
            Precision::F32 => stats::ROUNDING_F32,
        },
    };
    for (k, &n) in schedule.iter().enumerate() {
        if let Err(e) = trials.extend(ctx, n, budget) {
            return Some(und(e));
        }
        let n = n.min(trials.stats.len());
        let last = k + 1 == schedule.len() || n < schedule[k];
        let p = spent_at(k, schedule.len()) / bindings.len().max(1) as f64;
        let alpha = FALSE_REFUTATION / bindings.len().max(1) as f64;
        let (z, z_confirm) = if ctx.fixed_budget {
            (z_for(alpha), z_for(alpha))
        } else {
            // The resolution asked of a confirmation is the fixed-budget rule's: the
            // threshold of a single test at the whole α (with Student's correction on
            // few trials), so that at the last look a claim is confirmed exactly when it
            // was before the looks were added.
            (t_for(p, (n - 1) as f64), t_for(alpha, (n - 1) as f64))
        };
        let look_text = if schedule.len() > 1 {
            format!("look {} of {}, ", k + 1, schedule.len())
        } else {
            String::new()
        };
        let (tested, weak, worst, of_moments, waiting, strict_open) = match claim_test.look(
            &mut m0,
            &trials.stats[..n],
            (&trials.memo, &trials.pools),
            &bindings,
            (z, z_confirm, &|k: usize| {
                let k = k.max(1) as f64;
                if ctx.fixed_budget {
                    (z_for(alpha / k), z_for(alpha / k))
                } else {
                    (
                        t_for(p / k, (n - 1) as f64),
                        t_for(alpha / k, (n - 1) as f64),
                    )
                }
            }),
            &look_text,
        ) {
            Look::Refuted(o) => return Some(o),
            // The estimate not finite (`Look::Fails` of `claim_test`'s trial comparison):
            // a side undefined or overflowing at these values, marked so that a claim
            // tried here is not confirmed (docs/soundness.md, "Definedness").
            // Finite at other bindings (wrong42): the next look may refute there.
            Look::Fails(e) if e == NOT_FINITE_SOME && !last => continue,
            Look::Fails(e) if e == NOT_FINITE || e == NOT_FINITE_SOME => {
                return Some(Outcome {
                    not_finite: true,
                    ..und(e)
                })
            }
            // Some elements of the gradient pooled are reached by no statement: marked,
            // so that a claim tried at such sizes is not confirmed (probe37 p02).
            Look::Fails(e) if e.starts_with(UNREACHED) => {
                return Some(Outcome {
                    unreached: true,
                    ..und(e)
                })
            }
            Look::Fails(e) => return Some(und(e)),
            Look::FrozenFails(e) => {
                return Some(Outcome {
                    open_at_values: true,
                    ..und(e)
                })
            }
            Look::Open {
                tested,
                weak,
                worst,
                of_moments,
                waiting,
                strict_open,
            } => (tested, weak, worst, of_moments, waiting, strict_open),
        };
        if tested.is_empty() {
            return Some(und(
                "no layer or step where every tensor of the claim exists",
            ));
        }
        let summary = format!(
            "{} ({n} independent trials, {look_text}refuted only beyond {z:.2} standard errors)",
            tested.join("; "),
        );
        if weak.is_empty() {
            if stood_in {
                return Some(und(format!(
                    "consistent with Monte Carlo using normal stand-ins for distributions given by moments or symmetry, which does not establish it for all of them: {summary}"
                )));
            }
            // What a confirmation establishes, said where it is given (probe41 q06:
            // `E(S[0,0]) == 1.04 D`, exactly D, was confirmed with nothing saying that an
            // error under 5% is not excluded).
            let resolution = if explicit_tol || !matches!(rel, ast::RelOp::Eq) {
                ""
            } else {
                "; agrees to the test's 5% resolution: an error under about 5% is not excluded"
            };
            return Some(Outcome::new(
                Verdict::Confirmed,
                Method::MonteCarlo,
                format!("{summary}{resolution}"),
            ));
        }
        // A verdict waiting for the comparison of the pooled elements: the next look.
        if waiting && !last {
            continue;
        }
        if let Some(enough) = need.stop_at().filter(|r| worst <= *r) {
            return Some(und(format!(
                "{} run (the moments engine decided this claim, so Monte Carlo stops once it would refute an error of {:.0}%{}): not refuted by {n} trials, not precise enough to confirm: {}",
                if need == Need::Sanity { "sanity" } else { "re-check" },
                enough * 200.0,
                if of_moments {
                    " of the moments' size: the right side is 0"
                } else {
                    ""
                },
                weak[0]
            )));
        }
        if last {
            return Some(Outcome {
                open_at_values: strict_open,
                ..und(format!(
                    "not refuted, but Monte Carlo with {n} trials is not precise enough to confirm: {}",
                    weak[0]
                ))
            });
        }
    }
    Some(und("no trials were run"))
}

/// The tensors `items` read at a looked-up position (`e[w[t], i]`), as `(key, true)`
/// (which elements of their gradients are written depends on the sampled values), and
/// those written at one (`y[w[t], i] += ...`), as `(key, false)`, by family key.
fn looked_up(items: &[ast::Item], env: &Env) -> std::collections::BTreeSet<(String, bool)> {
    let mut out = std::collections::BTreeSet::new();
    let lookup = |r: &ast::Ref| {
        r.indices
            .iter()
            .flatten()
            .any(|ix| matches!(ix, ast::IndexExpr::Lookup(_)))
    };
    for it in items {
        match &it.kind {
            ast::ItemKind::Loop(l) => out.extend(looked_up(&l.body, env)),
            ast::ItemKind::ForIndices(f) => out.extend(looked_up(&f.body, env)),
            ast::ItemKind::Equation(eq) => {
                if lookup(&eq.lhs) {
                    out.insert((env.key_of(&eq.lhs.name), false));
                }
                crate::check::walk_refs(&eq.rhs, &mut |r| {
                    if lookup(r) {
                        out.insert((env.key_of(&r.name), true));
                    }
                })
            }
            _ => {}
        }
    }
    out
}

/// The gradient of a declared tensor has an element at every position of its
/// declaration, but a run writes only the elements some statement reaches: an input read
/// only at strided or windowed positions (`x[b, 2y]` under `valid`, X odd) has elements
/// whose gradient is 0, which the pool leaves out. Then the pool's moment is that of the
/// elements reached, no element's: the reason, with the counts of the first trial.
/// How the reason of [`unreached`] begins (a point with that reason is marked
/// [`Outcome::unreached`]).
const UNREACHED: &str = "Monte Carlo pools the elements of";

fn unreached(m0: &mut Machine, stats: &[TrialStats], mo: &Moment, b: &Bind) -> Option<String> {
    if !mo.target.grad {
        return None;
    }
    let env = m0.env;
    let key = env.key_of(&mo.target.name);
    let info = env.tensors.get(&key)?;
    if info.family_arity > 0 || info.kind == crate::check::TensorKind::Computed {
        return None;
    }
    let member = m0.member_of(&mo.target.name, b).ok()?;
    let pat = pattern_of(&mo.target);
    let mut expected = 1f64;
    for (k, d) in info.dims.iter().enumerate() {
        if pat.get(k).is_some_and(|p| p.is_some()) {
            continue;
        }
        if !env.sizes.contains_key(d) {
            return None;
        }
        expected *= *m0.consts.get(d)?;
    }
    // The elements written can depend on the trial (an embedding's rows that the sampled
    // words look up): the fewest over the trials.
    let key = (member.clone(), true, pat);
    let n = stats
        .iter()
        .filter_map(|st| st.get(&key).map(|m| m.0))
        .min()?;
    (expected.is_finite() && (n as f64) < expected).then(|| {
        format!(
            "{UNREACHED} `{member}.grad` that the backward program writes (in some trial {n} of {expected}): the others are elements that no statement reaches, whose gradient is 0, so the pool's moment is no element's (name the elements to compare)"
        )
    })
}

/// Whether a claim calls `Var` or `E` outside the forms Monte Carlo does not estimate
/// at all (`solve`, `Cov`, `sup`, sums): a claim about a moment it cannot estimate is
/// undecided with the reason; a claim in one of those forms is not its to decide.
pub(super) fn calls_var_or_mean(e: &ast::Expr) -> bool {
    let mut found = false;
    crate::syntax::visit::walk_expr(e, |x| match x {
        ast::Expr::Call(c) if super::extract::self_cov(c) => {
            found = true;
            false
        }
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Cov" | "solve" | "sup") => false,
        ast::Expr::Sum(..) => false,
        ast::Expr::Call(c) => {
            found |= matches!(c.func.name.as_str(), "Var" | "E");
            !found
        }
        _ => !found,
    });
    found
}

/// How many values past the loops' ends a family variable is tried at ([`member_ranges`]).
pub(crate) const MEMBER_MARGIN: i64 = 2;

/// Whether `var` appears in the claim's moments only in family subscripts (`h_l`,
/// `W_{l+1}`), never in an index position (`h[b,t,j]`, which stays within its loop).
fn subscript_only(moments: &[Moment], var: &str) -> bool {
    only_in_subscripts(&moments.iter().map(|m| &m.target).collect::<Vec<_>>(), var)
}

/// [`subscript_only`] of the references a claim's moments take.
pub(crate) fn only_in_subscripts(targets: &[&ast::Ref], var: &str) -> bool {
    let names = |ix: &ast::IndexExpr| crate::syntax::printer::print_index(ix);
    let in_sub = targets.iter().any(|t| {
        t.name
            .sub
            .iter()
            .any(|ix| crate::claims::mentions(&names(ix), var))
    });
    let in_position = targets.iter().any(|t| {
        t.indices
            .iter()
            .flatten()
            .any(|ix| crate::claims::mentions(&names(ix), var))
    });
    in_sub && !in_position
}

/// The ranges of every loop and family declaration over `var`.
pub(crate) fn member_ranges<'a>(items: &'a [ast::Item], var: &str) -> Vec<&'a ast::Range> {
    let mut out = Vec::new();
    for it in items {
        match &it.kind {
            ast::ItemKind::Loop(l) => {
                if l.range.var.name == var {
                    out.push(&l.range);
                }
                out.extend(member_ranges(&l.body, var));
            }
            ast::ItemKind::Decl(d) => {
                if let Some(r) = d.family.as_ref().filter(|r| r.var.name == var) {
                    out.push(r);
                }
            }
            _ => {}
        }
    }
    out
}

/// The floating-point rounding added to a confirmation's margin, in words, when it is not
/// negligible beside `z × standard error` (`zse`). Its scale is the largest value any
/// tensor of the trial computed, so a heavy-tailed neighbour (`exp(3 x)`) widens it: it
/// is printed apart, not folded into the `z × standard error` figure (which read
/// 3872.222 for a claim whose own figure was 1.842).
fn rounding_text(accuracy: f64, zse: f64) -> String {
    if accuracy > 0.0005 && accuracy > 0.01 * zse {
        format!(
            ", plus {accuracy:.3e} for the rounding of values as large as the largest the trials computed"
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::rounding_text;

    #[test]
    fn the_rounding_is_named_apart_from_z_times_the_standard_error_when_it_matters() {
        // A neighbour's exp(3 x) set the rounding scale of `E(1/x)`'s comparison.
        let t = rounding_text(3870.0, 1.842);
        assert!(t.starts_with(", plus 3.870e3 for the rounding"), "{t}");
        // Negligible beside the statistical margin, or tiny in absolute terms: not named.
        assert_eq!(rounding_text(1e-6, 1.842), "");
        assert_eq!(rounding_text(0.001, 1.0), "");
        assert_eq!(rounding_text(0.0, 0.0), "");
    }
}
