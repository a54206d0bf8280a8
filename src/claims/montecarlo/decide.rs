//! Deciding one moment claim: the sequential test look by look, refutation with its
//! re-check on each half of the trials, confirmation when the test resolves 5%.

use super::extract::{bind_positions, extract, pattern_of, unpooled_position, Moment};
use super::givens::{given_values, unmet_condition};
use super::pool::{heterogeneity, Pool, PoolMemo, HETERO_MIN};
use super::stats::{self, estimate, rounding, t_for, z_for};
use super::trials::{
    depends_on_stand_in, looks, magnitude_key, means, setting_key, spent_at, Ctx, MeansMemo,
    TrialStats, Trials,
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
    },
    /// The claim cannot be decided by Monte Carlo (a reason).
    Fails(String),
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
    // Trials, shared by the claims with the same setting.
    let key = setting_key(claim);
    let needed = ctx.targets.settings.get(&key).cloned();
    ctx.used.borrow_mut().insert(key.clone());
    // f32 trials are kept apart from the setting's f64 ones.
    let slot = match ctx.precision {
        Precision::F64 => key,
        Precision::F32 => format!("f32 {key}"),
    };
    let trials = match cache
        .entry(slot)
        .or_insert_with(|| Trials::start(ctx, sets, boundary, needed, Executor::Auto, budget))
    {
        Ok(t) => t,
        Err(e) => return Some(und(e.clone())),
    };
    let mut m0 = trials.first.clone();
    let run_consts: BTreeMap<String, f64> = m0.consts.clone().into_iter().collect();
    if let Some(why) = unmet_condition(claim, env, &run_consts) {
        return Some(und(why));
    }
    let mut consts = m0.consts.clone();
    // The named constants a formula may read (`sqrt(v/(2 pi))`), unless the file
    // gives the name a value of its own.
    consts.entry("pi".into()).or_insert(std::f64::consts::PI);
    consts.entry("e".into()).or_insert(std::f64::consts::E);
    let mine: Needed = moments
        .iter()
        .map(|m| (env.key_of(&m.target.name), m.target.grad))
        .collect();
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
        }
        bindings = bindings
            .into_iter()
            .flat_map(|b| {
                (lo..=hi).map(move |v| {
                    let mut b = b.clone();
                    b.push((r.var.name.clone(), v));
                    b
                })
            })
            .collect();
    }
    // Values at which a member the claim names does not exist (`h_{-1}`, `h_{L+2}`).
    bindings.retain(|b| {
        moments.iter().all(|mo| {
            let t = bind_positions(&mo.target, b);
            let probe = ast::Expr::Ref(ast::Ref { indices: None, ..t });
            m0.all_exist(&probe, b)
        })
    });
    // Bindings where a pooled tensor has elements away from the border and at it (by the
    // interior program: a read outside the range reads 0): two position classes with
    // different moments, whose pool is no element's (probe 29: `Var(L_l) == (D s)^l` of a
    // zero-padded convolution stack was refuted "at l = 1" by the pool, where every
    // interior element has the claimed value, and that pool was the refutation's witness).
    // Such a binding is not compared, for a tensor named with plain indices (`Var(y[b,x])`)
    // and for a whole tensor (`Var(L_l)`) alike.
    let border_mixed: Vec<bool> = bindings
        .iter()
        .map(|b| {
            moments.iter().any(|mo| {
                let t = bind_positions(&mo.target, b);
                let pooled = t.indices.iter().flatten().all(|ix| {
                    ix.plain_var()
                        .is_some_and(|v| !crate::syntax::ast::is_summed_index(&v.name))
                });
                let setup = |m: &mut Machine| {
                    super::apply_givens(
                        m,
                        program,
                        env,
                        &border_sets,
                        claim.boundary.or(env.boundary),
                    )
                };
                // A whole tensor only under a rule that reads zeros outside (the interior
                // program reads a bracket of a class, `[c[b] == 0]`, as outside, and split
                // a categorical mixture's pool with no border at all).
                let crosses = t.indices.is_some()
                    || matches!(
                        claim.boundary.or(env.boundary),
                        Some(ast::Boundary::Zero | ast::Boundary::Valid)
                    );
                pooled
                    && crosses
                    && matches!(
                        crate::moments::position::interior_split(program, env, &t, b, &setup),
                        Ok(Some((inside, outside))) if inside > 0 && outside > 0
                    )
            })
        })
        .collect();
    let schedule = if ctx.fixed_budget {
        vec![trials.max]
    } else {
        looks(trials.max)
    };
    let claim_test = ClaimTest {
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
        let (tested, weak, worst, of_moments, waiting) = match claim_test.look(
            &mut m0,
            &trials.stats[..n],
            (&trials.memo, &trials.pools),
            &bindings,
            (z, z_confirm),
            &look_text,
        ) {
            Look::Refuted(o) => return Some(o),
            Look::Fails(e) => return Some(und(e)),
            Look::Open {
                tested,
                weak,
                worst,
                of_moments,
                waiting,
            } => (tested, weak, worst, of_moments, waiting),
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
            return Some(Outcome::new(
                Verdict::Confirmed,
                Method::MonteCarlo,
                summary,
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
            return Some(und(format!(
                "not refuted, but Monte Carlo with {n} trials is not precise enough to confirm: {}",
                weak[0]
            )));
        }
    }
    Some(und("no trials were run"))
}

/// A claim's test, applied at each look.
struct ClaimTest<'c> {
    lhs: &'c Expr,
    rhs: &'c Expr,
    moments: &'c [Moment],
    consts: &'c BTreeMap<String, f64>,
    rel: RelOp,
    tol: f64,
    explicit_tol: bool,
    env: &'c Env,
    seed: u64,
    /// Monte Carlo decides the claim (not a second check of the moments engine's verdict).
    decides: bool,
    /// The claim is `E(T) <rel> value` or `Var(T) <rel> value`: a refutation by the pool
    /// holds for some element even when the pooled elements differ in distribution (for
    /// a variance, when they share their mean).
    averaged: bool,
    /// The setting affords [`HETERO_MIN`] trials: a confirmation waits for the
    /// comparison of the pooled elements ([`heterogeneity`]).
    compares: bool,
    /// The tensors the model reads at a looked-up position (`e[w[t], i]`): which
    /// elements of their gradients are written depends on the sampled values.
    looked_up: std::collections::BTreeSet<(String, bool)>,
    /// Per binding: a pooled tensor has elements away from the border and at it, whose
    /// pool is no element's; the binding is not compared.
    border_mixed: Vec<bool>,
    /// The relative accuracy of the trials' values ([`stats::ROUNDING_F64`], or
    /// [`stats::ROUNDING_F32`] when their matrix products ran in f32).
    rounding: f64,
}

impl ClaimTest<'_> {
    /// The run's values of the sizes and symbols, for a witness.
    fn run_values(&self) -> BTreeMap<String, f64> {
        self.consts
            .iter()
            .filter(|(k, _)| self.env.sizes.contains_key(*k) || self.env.symbols.contains_key(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The test on the trials `stats` (a prefix of the setting's) at threshold `z`.
    fn look(
        &self,
        m0: &mut Machine,
        stats: &[TrialStats],
        (memo, pools): (&MeansMemo, &PoolMemo),
        bindings: &[Bind],
        (z, z_confirm): (f64, f64),
        look_text: &str,
    ) -> Look {
        let (lhs, rhs, moments, rel, tol) = (self.lhs, self.rhs, self.moments, self.rel, self.tol);
        let n_tr = stats.len();
        let mut tested = Vec::new();
        let mut weak = Vec::new();
        let mut worst: f64 = 0.0;
        let mut of_moments = false;
        // A binding would be decided but waits for the comparison of the pooled elements.
        let mut waiting = false;
        // Each trial's largest |value| (the scale of its rounding), for the accuracy.
        let magnitude_key = magnitude_key();
        let magnitude: Vec<f64> = stats
            .iter()
            .map(|st| st.get(&magnitude_key).map_or(0.0, |m| m.1))
            .collect();
        for (bi, b) in bindings.iter().enumerate() {
            if self.border_mixed.get(bi).copied().unwrap_or(false) {
                let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                let line = format!(
                    "{}: not compared (the elements away from the border and at it have different moments under zero padding, and their pool is no element's)",
                    if at.is_empty() { "the whole tensors".to_string() } else { format!("at {}", at.join(", ")) }
                );
                weak.push(line.clone());
                tested.push(line);
                continue;
            }
            // Positions at the loop variables (`h[b,t]`) fixed at this binding's values.
            let bound: Vec<Moment> = moments
                .iter()
                .map(|mo| Moment {
                    var: mo.var,
                    target: bind_positions(&mo.target, b),
                })
                .collect();
            let moments = &bound[..];
            // Means of the trial statistics; skip bindings where a tensor is missing.
            let Some(cols) = moments
                .iter()
                .map(|mo| means(m0, stats, memo, &mo.target, b))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let mut at: BTreeMap<String, f64> = self.consts.clone();
            for (v, x) in b {
                at.insert(v.clone(), *x as f64);
            }
            // The pool estimates one element's moment only when the pooled elements
            // share one distribution: a cumulative sum, a reflection that meets itself,
            // a position-dependent mask make them differ, and the pool's moment is then
            // no element's (the claim about every element was confirmed at the average).
            let mut mixed = None;
            let mut untested = false;
            // A gradient pool that leaves out elements no statement reaches: a claim
            // about one moment alone that the pool (of elements) fails, some element
            // fails; nothing else is decided ([`unreached`]).
            let unreached_why = moments.iter().find_map(|mo| unreached(m0, stats, mo, b));
            // Written at looked-up positions, the elements pooled are those the trial's
            // values select, and their moments are conditional on being selected (a row of
            // an embedding looked up at least once): the pool decides nothing.
            let selected = |grad: bool| {
                moments.iter().find(|mo| {
                    mo.target.grad == grad
                        && self
                            .looked_up
                            .contains(&(self.env.key_of(&mo.target.name), grad))
                })
            };
            if let (Some(why), Some(_)) = (&unreached_why, selected(true)) {
                return Look::Fails(format!(
                    "{why}; which elements are written depends on the looked-up values, so the pool is of the elements selected"
                ));
            }
            if let Some(mo) = selected(false) {
                return Look::Fails(format!(
                    "`{}` is written at looked-up positions: which of its elements a trial writes depends on the sampled values, and Monte Carlo pools the elements written, so the pool's moment is conditional on the selection, no element's",
                    crate::syntax::printer::print_name(&mo.target.name)
                ));
            }
            for mo in moments {
                match heterogeneity(m0, stats, pools, mo, b) {
                    Pool::Mixed(why, in_mean, which) => {
                        mixed = Some((why, in_mean, which));
                        break;
                    }
                    Pool::Untested => untested = true,
                    Pool::Same => {}
                }
            }
            let Some((lv, rv, se)) = estimate(lhs, rhs, moments, &cols, &at, 0..n_tr) else {
                return Look::Fails(
                    "the claim's formula cannot be evaluated at the sample values".into(),
                );
            };
            let d = lv - rv;
            if !d.is_finite() || !se.is_finite() {
                return Look::Fails("the estimate is not finite".into());
            }
            let margin = z * se;
            // Rounding: when the two sides agree trial by trial (a given such as
            // `sigma^2 = 1/M` makes `M sigma^2 Var(y)` and `Var(y)` the same quantity),
            // the standard error is at the level of rounding and so is the difference; a
            // difference within floating-point accuracy of the values refutes nothing.
            // The accuracy is of the values compared and of the moments they are
            // computed from: a right side of 0 has no size of its own.
            let accuracy = rounding(
                self.rounding,
                lhs,
                rhs,
                moments,
                &cols,
                &magnitude,
                &at,
                0..n_tr,
            );
            let fails = match rel {
                RelOp::Eq => d.abs() > margin + accuracy,
                RelOp::Approx => d.abs() > tol + margin + accuracy,
                RelOp::Le | RelOp::Lt => d > margin + accuracy,
                RelOp::Ge | RelOp::Gt => d < -(margin + accuracy),
            };
            let at_text: Vec<String> = b.iter().map(|(v, x)| format!("{v} = {x}")).collect();
            let where_ = if at_text.is_empty() {
                String::new()
            } else {
                format!("at {}: ", at_text.join(", "))
            };
            let line = format!("{where_}left {lv:.4}, right {rv:.4}, standard error {se:.2e}");
            // No spread at all: every trial gave the same value. For a random quantity that
            // is no measure of precision (14 layers of relu and dropout at p = 1/2 give 0 in
            // every trial; the mean is 1, carried by the rare surviving paths), so it
            // neither refutes nor confirms; a quantity that is truly constant is the
            // moments engine's to decide exactly. The same holds when that one value is the
            // claimed one (`E(h_L) == 0` there would be confirmed, and is false).
            // (Two sides that vary from trial to trial but agree in each, as under a given
            // that makes them one quantity, are not this: that is evidence.)
            let frozen = !cols.is_empty()
                && cols
                    .iter()
                    .all(|c| c[..n_tr.min(c.len())].windows(2).all(|w| w[0] == w[1]));
            if frozen {
                return Look::Fails(format!(
                    "{line}: every trial gave the same values, so the trials cannot measure how far the mean may be from them (values that are rare at these sizes are not seen)"
                ));
            }
            // Too heavy a tail for the trials to estimate the mean: neither refuted nor
            // confirmed at this look (a later look, with more trials, may decide).
            if let Some((why, need)) = super::stats::heavy_tail(moments, &cols, 0..n_tr) {
                if need > super::DENSE_MAX_TRIALS as f64 {
                    return Look::Fails(why);
                }
                weak.push(format!("{line} ({why})"));
                tested.push(line);
                // Nothing is measured yet: a sanity run or re-check must not stop here
                // as "precise enough" (gelu_mlp's sanity runs stopped at 40 trials).
                worst = f64::INFINITY;
                continue;
            }
            let scale = lv.abs().max(rv.abs()).max(1e-12);
            // How far a sanity run or re-check has to go: its threshold within a share
            // of the values. A right side of exactly 0 (`E(y) == 0`) has no size of its
            // own, so the share is of the size of the moments compared: the root mean
            // square of an `E`'s tensor, the mean square of a `Var`'s (the threshold
            // never reached 10% of an estimate near 0, and a proved `E(y_1) == 0` ran
            // to the whole budget: 15,791 trials in problems/deep_linear.tq).
            let stop_scale = if rv == 0.0 {
                moments
                    .iter()
                    .zip(&cols)
                    .map(|(mo, col)| {
                        let square = col.iter().map(|c| c.1).sum::<f64>() / col.len().max(1) as f64;
                        if mo.var {
                            square
                        } else {
                            square.sqrt()
                        }
                    })
                    .filter(|v| v.is_finite())
                    .fold(scale, f64::max)
            } else {
                scale
            };
            of_moments |= stop_scale > scale;
            worst = worst.max(margin / stop_scale);
            if let Some((why, in_mean, which)) = &mixed {
                // The pool's mean is the average of its elements' means, and with equal
                // means its variance is the average of theirs: a claim about that one
                // moment alone that the pool fails, some element fails.
                let averaged = self.averaged && !(moments[0].var && *in_mean);
                // Elements whose means differ have no one mean: `E(T) == value` (every
                // element's mean is that value) fails at some element whatever the
                // value, also where the pool's average happens to equal it (the
                // diagonal of `x[i] x[i']`: the pool's v/I is no element's mean).
                if *in_mean && self.averaged && !moments[0].var && rel == RelOp::Eq && !fails {
                    let values = self.run_values();
                    let w = crate::sym::Witness::of_run(
                        &values,
                        if at_text.is_empty() {
                            "the whole tensors (elements that differ in mean)".to_string()
                        } else {
                            format!("{} (elements that differ in mean)", at_text.join(", "))
                        },
                        self.seed,
                        format!("≈ {lv:.6} (the pool's mean)"),
                        format!("≈ {rv:.6}"),
                        "on all the trials that record the slices and on each half of them on its own".to_string(),
                    );
                    let mut o = Outcome::new(
                        Verdict::Refuted,
                        Method::MonteCarlo,
                        format!(
                            "{line}; {which}: the elements do not share one mean, so the claim that every element's mean is the right side fails at some element"
                        ),
                    );
                    o.witness = Some(w);
                    return Look::Refuted(o);
                }
                if !(fails && averaged) {
                    return Look::Fails(why.clone());
                }
            }
            if let Some(why) = &unreached_why {
                if fails && !self.averaged {
                    return Look::Fails(why.clone());
                }
            }
            if fails && untested && self.compares && (!self.averaged || moments[0].var) {
                waiting = true;
                // A variance of a pool whose elements differ in mean is more than any
                // element's: the refutation waits for the comparison too.
                weak.push(format!(
                    "{line} (the pooled elements are compared with each other from {HETERO_MIN} trials on)"
                ));
                tested.push(line);
                continue;
            }
            if fails {
                // The independent re-check: each half of the trials on its own must
                // refute too (at the same z, with its own standard error).
                let half = n_tr / 2;
                let halves = [0..half, half..n_tr];
                let mut seen = Vec::new();
                for h in halves {
                    let Some((hl, hr, hse)) = estimate(lhs, rhs, moments, &cols, &at, h.clone())
                    else {
                        break;
                    };
                    let hd = hl - hr;
                    let m = z * hse
                        + rounding(
                            self.rounding,
                            lhs,
                            rhs,
                            moments,
                            &cols,
                            &magnitude,
                            &at,
                            h.clone(),
                        );
                    let ok = match rel {
                        RelOp::Eq => hd.abs() > m,
                        RelOp::Approx => hd.abs() > tol + m,
                        RelOp::Le | RelOp::Lt => hd > m,
                        RelOp::Ge | RelOp::Gt => hd < -m,
                    };
                    if !ok || !hd.is_finite() {
                        break;
                    }
                    seen.push(format!("{hd:.4} ± {m:.2e}"));
                }
                if seen.len() < 2 {
                    weak.push(format!(
                        "{line} (refuted by all {n_tr} trials, but not by each half of them on its own)"
                    ));
                    tested.push(line);
                    continue;
                }
                let values = self.run_values();
                let mut w = crate::sym::Witness::of_run(
                    &values,
                    if at_text.is_empty() {
                        "the whole tensors".to_string()
                    } else {
                        at_text.join(", ")
                    },
                    self.seed,
                    format!("≈ {lv:.6}"),
                    format!("≈ {rv:.6}"),
                    format!(
                        "each half of the trials ({half} independent trials) on its own: left − right = {}",
                        seen.join(" and ")
                    ),
                );
                w.estimate = Some(format!(
                    "left − right = {d:.6}, interval [{:.6}, {:.6}] (z = {z:.2} standard errors of {se:.2e}; {n_tr} trials, {look_text}sequential test)",
                    d - margin,
                    d + margin
                ));
                let mut o = Outcome::new(
                    Verdict::Refuted,
                    Method::MonteCarlo,
                    format!(
                        "{line}; left − right = {d:.4} lies beyond {z:.2} standard errors{} ({n_tr} independent trials, {look_text}weights resampled each trial)",
                        if matches!(rel, RelOp::Approx) { format!(" plus the tolerance {tol}") } else { String::new() },
                    ),
                );
                o.witness = Some(w);
                return Look::Refuted(o);
            }
            // Confirmation needs power: the test must resolve 5% of the values compared.
            // Nor can it resolve beyond the rounding of the values: a difference of
            // 10⁻¹⁸ on a mean that is 0 up to rounding is no evidence either way.
            let margin = z_confirm * se + accuracy;
            // A strict relation is confirmed only by an interval that excludes equality:
            // resolving 5% of the values says nothing of `<` against `==` (`Var(s) > 8`
            // and `Var(s) < 8` were both confirmed where Var(s) is exactly 8).
            let decisive = match rel {
                RelOp::Le => d + margin <= 0.0 || margin <= RESOLUTION * scale,
                RelOp::Ge => d - margin >= 0.0 || margin <= RESOLUTION * scale,
                RelOp::Lt => d + margin < 0.0,
                RelOp::Gt => d - margin > 0.0,
                // An explicit tolerance is the resolution asked for: the whole interval
                // must lie within it. Resolving 5% is not enough: `Var(L_L) ~= 2 tol
                // 0.01` at a true 1.955 must not be confirmed by an interval of ±0.04
                // around 1.96.
                RelOp::Approx if self.explicit_tol => d.abs() + margin <= tol,
                RelOp::Approx => margin <= (RESOLUTION * scale).max(tol),
                RelOp::Eq => margin <= RESOLUTION * scale,
            };
            if let Some(why) = &unreached_why {
                if decisive {
                    return Look::Fails(why.clone());
                }
            }
            if decisive && untested && self.compares {
                waiting = true;
                weak.push(format!(
                    "{line} (the pooled elements are compared with each other from {HETERO_MIN} trials on)"
                ));
            } else if !decisive {
                weak.push(if matches!(rel, RelOp::Approx) && self.explicit_tol {
                    format!(
                        "{line} (|left − right| + z × standard error = {:.3}{}, more than the tolerance {tol})",
                        d.abs() + z_confirm * se,
                        rounding_text(accuracy, z_confirm * se)
                    )
                } else if matches!(rel, RelOp::Lt | RelOp::Gt) {
                    format!(
                        "{line} (left − right = {d:.4} ± {margin:.3}: the interval does not exclude equality, which a strict relation needs)"
                    )
                } else {
                    format!(
                        "{line} (z × standard error = {:.3}{}, more than 5% of the values{})",
                        z_confirm * se,
                        rounding_text(accuracy, z_confirm * se),
                        if self.decides && rv == 0.0 && matches!(rel, RelOp::Eq | RelOp::Approx) {
                            "; a claim that a value is 0 is resolved only by an absolute \
                             tolerance: write `~= 0 tol t`"
                        } else {
                            ""
                        }
                    )
                });
            }
            tested.push(line);
        }
        Look::Open {
            tested,
            weak,
            worst,
            of_moments,
            waiting,
        }
    }
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
            "Monte Carlo pools the elements of `{member}.grad` that the backward program writes (in some trial {n} of {expected}): the others are elements that no statement reaches, whose gradient is 0, so the pool's moment is no element's (name the elements to compare)"
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
const MEMBER_MARGIN: i64 = 2;

/// Whether `var` appears in the claim's moments only in family subscripts (`h_l`,
/// `W_{l+1}`), never in an index position (`h[b,t,j]`, which stays within its loop).
fn subscript_only(moments: &[Moment], var: &str) -> bool {
    let names = |ix: &ast::IndexExpr| crate::syntax::printer::print_index(ix);
    let in_sub = moments.iter().any(|m| {
        m.target
            .name
            .sub
            .iter()
            .any(|ix| crate::claims::mentions(&names(ix), var))
    });
    let in_position = moments.iter().any(|m| {
        m.target
            .indices
            .iter()
            .flatten()
            .any(|ix| crate::claims::mentions(&names(ix), var))
    });
    in_sub && !in_position
}

/// The ranges of every loop and family declaration over `var`.
fn member_ranges<'a>(items: &'a [ast::Item], var: &str) -> Vec<&'a ast::Range> {
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
