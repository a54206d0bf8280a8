//! Gradient checks: the derived backward program against central finite differences
//! of the forward program, along random directions, and the scatter form against the
//! gather form. The rules are in docs/numeric.md.

use super::{Machine, NumError};
use crate::check::Env;
use crate::syntax::ast::*;
use crate::syntax::printer::print_ref;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The largest relative error a gradient check accepts.
pub const THRESHOLD: f64 = 1e-6;
/// The finite-difference step along a unit-variance random direction.
pub const STEP: f64 = 1e-5;
/// Directional derivatives smaller than this fraction of the objective are compared
/// absolutely (see docs/numeric.md).
pub const FLOOR: f64 = 1e-4;
/// Element evaluations allowed for all the runs of one file's gradient check
/// (about a second); larger `sample` sizes are refused before the first run.
pub const BUDGET: u64 = 8_000_000;
/// Element evaluations the sampled runs of the model made for one file's claims may
/// spend together (element claims the engines left undecided, `includes` blocks, claims
/// with givens that set values or whole tensors, their re-checks and retries): two runs
/// at [`BUDGET`]. Each such claim ran the model once at the full budget, charged to
/// nothing: 30 claims at distinct givens on a model past the budget took 46 s of
/// `tq check` (session 36). The scope is the thread's ([`with_file_runs`], set by
/// `claims::decide_all`); outside one each run has [`BUDGET`] alone.
pub const FILE_RUNS_BUDGET: u64 = 2 * BUDGET;

thread_local! {
    /// What the file's model runs have left, inside a [`with_file_runs`] scope.
    static RUNS_LEFT: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with `budget` element evaluations for all the model runs made on this
/// thread (scopes nest: the inner one replaces the outer for its duration).
pub fn with_file_runs<R>(budget: u64, f: impl FnOnce() -> R) -> R {
    let outer = RUNS_LEFT.with(|r| r.replace(Some(budget)));
    let out = f();
    RUNS_LEFT.with(|r| r.set(outer));
    out
}

/// Charges a run's element evaluations to the scope's budget (nothing outside one).
fn charge(steps: u64) {
    RUNS_LEFT.with(|r| {
        if let Some(left) = r.get() {
            r.set(Some(left.saturating_sub(steps.max(1))));
        }
    });
}

/// The refusal of a run when the file's model runs have spent their budget.
fn runs_spent() -> NumError {
    NumError {
        too_large: true,
        message: format!(
            "the sampled runs of this file's claims have spent their budget of {FILE_RUNS_BUDGET} element evaluations (num::gradcheck::FILE_RUNS_BUDGET); use smaller sizes on the `sample` line or fewer claims that need a run"
        ),
    }
}

/// Random directions per tensor.
pub const DIRECTIONS: usize = 2;
/// Directions whose finite difference straddles a kink (relu or abs at 0) are drawn
/// again, at most this many times per tensor; beyond that the tensor's check fails
/// (the derivative could not be checked).
pub const MAX_STRADDLES: usize = 8;

/// One line of the JSON `gradcheck` list.
#[derive(Clone, Debug)]
pub struct GradCheck {
    /// The declared tensor (`W_l`, `x`), or `gather form` for the scatter/gather comparison.
    pub tensor: String,
    pub max_rel_error: f64,
    pub passed: bool,
    /// Elements left out of the directions because a step of that element alone crosses a
    /// kink at the sampled point (a Bernoulli mask drawn 0 before a relu: probe36 b02).
    pub at_kink: usize,
}

impl GradCheck {
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "tensor": self.tensor,
            "max_rel_error": self.max_rel_error,
            "passed": self.passed,
        });
        if self.at_kink > 0 {
            v["elements_at_a_kink"] = self.at_kink.into();
        }
        v
    }
}

type Element = (String, Vec<i64>);

/// Values that overflow f64, or that are undefined (NaN: `ln` of a negative number, probe31/d
/// e28), say nothing about the derivation: the check is not run (never failed) and says why.
fn not_finite(what: &str) -> NumError {
    NumError {
        too_large: false,
        message: format!(
            "{what} at the sampled point (an f64 overflow, or a function outside its domain such as `ln` of a negative number); choose a point or sizes where the values are finite"
        ),
    }
}

/// A leaf of the program: a declared tensor (all its members) or a scalar input.
struct Leaf {
    name: String,
    elements: Vec<Element>,
}

/// A leaf the gradient check perturbs: a declared tensor that is not an integer index
/// table, or a scalar input.
enum LeafItem<'p> {
    Decl(&'p Decl),
    Scalar(&'p Ident),
}

/// The program's leaves in order: the one list [`leaves`] and [`leaf_elements_within`]
/// both read.
fn leaf_items<'p>(program: &'p Program, env: &'p Env) -> impl Iterator<Item = LeafItem<'p>> + 'p {
    program.items.iter().flat_map(move |item| match &item.kind {
        ItemKind::Decl(d)
            if d.kind != DeclKind::Grad
                && !env
                    .tensors
                    .get(&env.key_of(&d.target.name))
                    .is_some_and(|t| t.is_int) =>
        {
            vec![LeafItem::Decl(d)]
        }
        ItemKind::Scalar(names) => names.iter().map(LeafItem::Scalar).collect(),
        _ => Vec::new(),
    })
}

fn leaves(program: &Program, env: &Env, m: &mut Machine) -> Result<Vec<Leaf>, NumError> {
    let mut out = Vec::new();
    for leaf in leaf_items(program, env) {
        out.push(match leaf {
            LeafItem::Decl(d) => Leaf {
                name: print_ref(&Ref {
                    indices: None,
                    ..d.target.clone()
                }),
                elements: m.decl_elements(d)?,
            },
            LeafItem::Scalar(n) => Leaf {
                name: n.name.clone(),
                elements: vec![(n.name.clone(), vec![])],
            },
        });
    }
    Ok(out)
}

/// The gradient check's runs times its leaves' elements, counted from the sizes
/// ([`Machine::decl_members`], never enumerated), refused when over `budget` with the
/// same message as a forward run over it. A declaration whose members cannot be counted
/// here is left to the run, which reports it.
fn leaf_elements_within(
    program: &Program,
    env: &Env,
    m: &mut Machine,
    budget: u64,
    why: &str,
    share_out: &std::cell::Cell<Option<u64>>,
) -> Result<(), NumError> {
    let mut leaves = 0u64;
    let mut elements = 0u64;
    for leaf in leaf_items(program, env) {
        leaves += 1;
        match leaf {
            LeafItem::Decl(d) => {
                let Ok(members) = m.decl_members(d) else {
                    return Ok(());
                };
                for member in &members {
                    elements = elements.saturating_add(member.elements() as u64);
                }
            }
            LeafItem::Scalar(_) => elements = elements.saturating_add(1),
        }
    }
    let runs = 2 * DIRECTIONS as u64 * leaves + 3;
    let need = elements.saturating_mul(runs);
    // Sampling stops at the share of one run too (its steps count toward the first
    // run), so a check refused here never stores more than the share's elements.
    let share = budget / runs;
    if m.max_steps > share {
        m.max_steps = share;
        share_out.set(Some(share));
    }
    if need > budget {
        return Err(NumError {
            too_large: true,
            message: format!(
                "a gradient check needs at least {need} element evaluations here (its {elements} leaf elements in each of {runs} runs, counted from the sizes), more than {budget}{why}; use smaller sizes on the `sample` line"
            ),
        });
    }
    Ok(())
}

/// The objective: the seeded tensors weighted by their incoming gradients, plus the loss.
struct Objective {
    weighted: Vec<(Element, f64)>,
    loss: Option<String>,
}

impl Objective {
    fn value(&self, m: &Machine) -> f64 {
        let get = |e: &Element| {
            m.vals
                .get(&(e.0.clone(), false))
                .and_then(|t| t.get(&e.1))
                .copied()
                .unwrap_or(0.0)
        };
        let mut f: f64 = self.weighted.iter().map(|(e, g)| g * get(e)).sum();
        if let Some(l) = &self.loss {
            f += get(&(l.clone(), vec![]));
        }
        f
    }
}

fn forward<'a>(base: &Machine<'a>, program: &Program) -> Result<Machine<'a>, NumError> {
    let mut m = base.clone();
    m.run_items(&program.items, &mut Vec::new())?;
    Ok(m)
}

fn grad_of(m: &Machine, e: &Element) -> f64 {
    m.vals
        .get(&(e.0.clone(), true))
        .and_then(|t| t.get(&e.1))
        .copied()
        .unwrap_or(0.0)
}

/// The sum of |z g| over every stored value z of a machine after a backward run that
/// has its gradient g (the leaves, the intermediate tensors and the seeded outputs): the
/// first-order bound of the objective's rounding error, in units of 2^-52.
fn rounding_scale(m: &Machine) -> f64 {
    let mut total = 0.0;
    for ((name, grad), values) in m.vals.iter() {
        if *grad {
            continue;
        }
        let Some(grads) = m.vals.get(&(name.clone(), true)) else {
            continue;
        };
        for (pos, v) in values {
            let term = (v * grads.get(pos).copied().unwrap_or(0.0)).abs();
            if term.is_finite() {
                total += term;
            }
        }
    }
    total
}

/// The sampled leaves, the incoming gradients and the generator, ready to run.
struct Prepared<'a> {
    base: Machine<'a>,
    objective: Objective,
    rng: ChaCha8Rng,
    /// The run's budget is what the file's model runs had left ([`with_file_runs`]).
    capped: bool,
}

/// Changes a machine before anything is sampled (sizes, symbols, boundary, stand-ins).
pub type Setup<'s> = &'s dyn Fn(&mut Machine) -> Result<(), NumError>;

fn prepare<'a>(
    program: &Program,
    env: &'a Env,
    loss: Option<&str>,
    seed: u64,
    setup: Setup,
    after: Option<Setup>,
    any_inputs: bool,
) -> Result<Prepared<'a>, NumError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut base = Machine::before_sizes(program, env)?;
    base.stand_in = true;
    base.arbitrary_inputs = any_inputs;
    base.max_steps = BUDGET;
    setup(&mut base)?;
    // Within the file's budget for model runs, when a scope sets one.
    let mut capped = false;
    if let Some(left) = RUNS_LEFT.with(|r| r.get()) {
        if left == 0 {
            return Err(runs_spent());
        }
        capped = left < base.max_steps;
        base.max_steps = base.max_steps.min(left);
    }
    base.require_sizes()?;
    if let Err(e) = base.sample_ready_leaves(program, &mut rng) {
        charge(base.steps());
        return Err(e);
    }
    if let Some(after) = after {
        after(&mut base)?;
    }
    // Scalar inputs without an `at` value get a random one.
    for item in &program.items {
        if let ItemKind::Scalar(names) = &item.kind {
            for n in names {
                let key = (n.name.clone(), false);
                if !base.vals.get(&key).is_some_and(|t| t.contains_key(&vec![])) {
                    let z: f64 = if base.small_integers {
                        rng.random_range(-2i64..=2) as f64
                    } else {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        super::leaves::free_scalar_value(env, &n.name, z)
                    };
                    base.vals.entry(key).or_default().insert(vec![], z);
                }
            }
        }
    }
    // Leaves whose distribution reads a computed tensor, once the scalars it may read
    // have their values.
    base.draw_pending(program)?;
    // Incoming gradients.
    let mut weighted = Vec::new();
    for item in &program.items {
        if let ItemKind::Decl(d) = &item.kind {
            if d.kind == DeclKind::Grad {
                let Some(init) = &d.init else { continue };
                for e in base.decl_elements(d)? {
                    let g = base.draw(init, &mut rng)?;
                    weighted.push((e, g));
                }
            }
        }
    }
    let objective = Objective {
        loss: if weighted.is_empty() {
            loss.map(str::to_string)
        } else {
            None
        },
        weighted,
    };
    Ok(Prepared {
        base,
        objective,
        rng,
        capped,
    })
}

fn run_backward<'a>(
    fwd: &Machine<'a>,
    objective: &Objective,
    items: &[Item],
) -> Result<Machine<'a>, NumError> {
    let mut m = fwd.clone();
    backward_on(&mut m, objective, items)?;
    Ok(m)
}

/// The backward program on a machine holding the forward values.
fn backward_on(m: &mut Machine, objective: &Objective, items: &[Item]) -> Result<(), NumError> {
    for ((member, pos), g) in &objective.weighted {
        m.vals
            .entry((member.clone(), true))
            .or_default()
            .insert(pos.clone(), *g);
    }
    m.run_items(items, &mut Vec::new())
}

/// A sampled run of a model and its derived backward program.
pub struct ModelRun<'a> {
    /// The values after the forward and the backward program.
    pub machine: Machine<'a>,
    /// The values after the forward program only.
    pub forward: Machine<'a>,
    /// The incoming gradients (`grad T ~ ...`), element by element.
    pub seeds: Vec<((String, Vec<i64>), f64)>,
}

/// The model run once at sampled values: forward, then the derived backward program.
/// Claims about tensor elements and `includes` blocks are evaluated on the result. An
/// input declared without a distribution (a fixed but arbitrary value) is drawn from a
/// standard normal: the claims evaluated on this run hold for every value of it, so any
/// draw may refute one (docs/language.md, "Inputs without a distribution").
pub fn run_model<'a>(
    program: &Program,
    env: &'a Env,
    scatter: &[Item],
    loss: Option<&str>,
    seed: u64,
) -> Result<ModelRun<'a>, NumError> {
    let p = prepare(program, env, loss, seed, &|_| Ok(()), None, true)?;
    run_prepared(p, program, scatter)
}

/// [`run_model`] with the machine changed before sampling, for the Monte Carlo trials:
/// an input declared without a distribution makes it fail (a moment of a value that is
/// fixed but arbitrary is not estimated by drawing it).
pub fn run_model_with<'a>(
    program: &Program,
    env: &'a Env,
    scatter: &[Item],
    loss: Option<&str>,
    seed: u64,
    setup: Setup,
) -> Result<ModelRun<'a>, NumError> {
    let p = prepare(program, env, loss, seed, setup, None, false)?;
    run_prepared(p, program, scatter)
}

/// The forward program and the backward pass of a prepared model.
fn run_prepared<'a>(
    p: Prepared<'a>,
    program: &Program,
    scatter: &[Item],
) -> Result<ModelRun<'a>, NumError> {
    let capped = p.capped;
    // A run stopped by what the file's runs had left, not by its own budget.
    let spent = |m: &Machine, e: NumError| {
        if capped && e.too_large && m.steps() >= m.max_steps {
            runs_spent()
        } else {
            e
        }
    };
    let mut fwd = p.base;
    if let Err(e) = fwd.run_items(&program.items, &mut Vec::new()) {
        charge(fwd.steps());
        return Err(spent(&fwd, e));
    }
    let mut machine = fwd.clone();
    let ran = backward_on(&mut machine, &p.objective, scatter);
    charge(machine.steps());
    if let Err(e) = ran {
        return Err(spent(&machine, e));
    }
    Ok(ModelRun {
        machine,
        forward: fwd,
        seeds: p.objective.weighted,
    })
}

/// [`run_model`] with the sampled leaves changed before the forward program runs (a
/// given that sets a whole tensor, `U = c W`; a shifted bias for `invariant`).
pub fn run_model_after<'a>(
    program: &Program,
    env: &'a Env,
    scatter: &[Item],
    loss: Option<&str>,
    seed: u64,
    after: Setup,
) -> Result<ModelRun<'a>, NumError> {
    let p = prepare(program, env, loss, seed, &|_| Ok(()), Some(after), true)?;
    run_prepared(p, program, scatter)
}

/// [`run_model`] at a given point: `before` changes the machine before anything is
/// sampled (sizes, symbols), `after` the sampled leaves, and `seed_value` the incoming
/// gradients (`grad T ~ ...`) element by element where it gives a value (the re-check of
/// an exact refutation of a gradient claim at its witness).
#[allow(clippy::too_many_arguments)]
pub fn run_model_at<'a>(
    program: &Program,
    env: &'a Env,
    scatter: &[Item],
    loss: Option<&str>,
    seed: u64,
    (before, after): (Setup, Setup),
    seed_value: &dyn Fn(&str, &[i64]) -> Option<f64>,
) -> Result<ModelRun<'a>, NumError> {
    let mut p = prepare(program, env, loss, seed, before, Some(after), true)?;
    for ((member, pos), g) in &mut p.objective.weighted {
        if let Some(v) = seed_value(member, pos) {
            *g = v;
        }
    }
    run_prepared(p, program, scatter)
}

/// The forward program at the sampled leaves with the values changed between two
/// statements: the top-level items before `split` run, then `between` changes the
/// machine, then the rest runs (an intervention on a computed value, for `invariant`).
pub fn run_forward_split<'a>(
    program: &Program,
    env: &'a Env,
    seed: u64,
    split: usize,
    between: Setup,
) -> Result<Machine<'a>, NumError> {
    let p = prepare(program, env, None, seed, &|_| Ok(()), None, true)?;
    let mut m = p.base;
    let split = split.min(program.items.len());
    let ran = m
        .run_items(&program.items[..split], &mut Vec::new())
        .and_then(|()| between(&mut m))
        .and_then(|()| m.run_items(&program.items[split..], &mut Vec::new()));
    charge(m.steps());
    ran.map(|()| m)
}

/// Runs the gradient checks of one file. `scatter` and `gather` are the derived
/// backward programs; `loss` is the scalar loss when no `grad` declaration seeds it.
pub fn gradcheck(
    program: &Program,
    env: &Env,
    scatter: &[Item],
    gather: &[Item],
    loss: Option<&str>,
    seed: u64,
) -> Result<Vec<GradCheck>, NumError> {
    gradcheck_within(program, env, scatter, gather, loss, seed, BUDGET, "")
}

/// [`gradcheck`] under `budget` element evaluations (at most [`BUDGET`]; `tq variants
/// --count K` gives each variant a share, docs/cli.md), `why` said after the budget
/// when the check needs more.
#[allow(clippy::too_many_arguments)]
pub fn gradcheck_within(
    program: &Program,
    env: &Env,
    scatter: &[Item],
    gather: &[Item],
    loss: Option<&str>,
    seed: u64,
    budget: u64,
    why: &str,
) -> Result<Vec<GradCheck>, NumError> {
    let budget = budget.min(BUDGET);
    // Every run writes each leaf element at least once (a direction perturbs them all):
    // counted from the sizes, before anything is sampled, so a check that cannot fit is
    // refused without storing its leaves (probe36 h01: 2^20 elements held 0.9 GB and
    // took seconds to sample before the forward run's count refused the check).
    let capped_at = std::cell::Cell::new(None);
    let guard = |m: &mut Machine| leaf_elements_within(program, env, m, budget, why, &capped_at);
    let over = |steps: String| {
        NumError {
        too_large: true,
        message: format!(
            "a gradient check needs {steps} element evaluations here, more than {budget}{why}; use smaller sizes on the `sample` line"
        ),
    }
    };
    // A run stopped at the share the guard set is the check's budget, not the run's.
    let past_share = |e: &NumError| {
        capped_at
            .get()
            .is_some_and(|share| e.too_large && e.message == super::steps_exceeded(share).message)
    };
    // What a run may spend outside the guard's share (the file's runs may have left less).
    let saved = BUDGET.min(RUNS_LEFT.with(|r| r.get()).unwrap_or(u64::MAX));
    let Prepared {
        mut base,
        objective,
        mut rng,
        ..
    } = match prepare(program, env, loss, seed, &guard, None, true) {
        Err(e) if past_share(&e) => {
            return Err(NumError {
                too_large: true,
                message: format!(
                    "a gradient check needs more than {budget} element evaluations here{why}: sampling its leaves alone passed the share of one of its runs ({}); use smaller sizes on the `sample` line",
                    capped_at.get().unwrap_or(0)
                ),
            });
        }
        r => r?,
    };
    if objective.weighted.is_empty() && objective.loss.is_none() {
        base.max_steps = saved;
        return Ok(vec![]);
    }
    let leaves = leaves(program, env, &mut base)?;
    // Forward runs: two per direction and leaf; backward runs cost about as much.
    let runs = (2 * DIRECTIONS * leaves.len() + 3) as u64;
    // The forward run stops as soon as it passes its share of the budget (it ran to its
    // end before, however far past the share: probe36 h01, 3,000,000 steps for a share
    // of 1,142,857).
    let share = budget / runs;
    if base.steps() > share {
        return Err(over(format!("about {}", base.steps().saturating_mul(runs))));
    }
    base.max_steps = saved.min(share);
    capped_at.set(Some(base.max_steps));
    let fwd = forward(&base, program);
    base.max_steps = saved;
    let mut fwd = match fwd {
        Err(e) if past_share(&e) && saved > share => {
            return Err(over(format!("more than {}", share.saturating_mul(runs))));
        }
        r => r?,
    };
    fwd.max_steps = saved;
    if fwd.steps().saturating_mul(runs) > budget {
        return Err(NumError {
            too_large: true,
            message: format!(
                "a gradient check needs about {} element evaluations here, more than {budget}{why}; use smaller sizes on the `sample` line",
                fwd.steps().saturating_mul(runs)
            ),
        });
    }
    // Richardson's extra pair of runs (below), for as many directions as the budget
    // leaves room for.
    let mut extra_runs = (budget / fwd.steps().max(1)).saturating_sub(runs) / 2;
    let f0 = objective.value(&fwd);
    if !f0.is_finite() {
        return Err(not_finite(&format!("the objective is {f0}")));
    }
    let back = run_backward(&fwd, &objective, scatter)?;
    if let Some(e) = leaves
        .iter()
        .flat_map(|l| l.elements.iter())
        .find(|e| !grad_of(&back, e).is_finite())
    {
        return Err(not_finite(&format!(
            "the gradient of `{}` is {}",
            e.0,
            grad_of(&back, e)
        )));
    }
    let all_zero = leaves
        .iter()
        .flat_map(|l| l.elements.iter())
        .all(|e| grad_of(&back, e) == 0.0);
    if f0 == 0.0 && all_zero {
        return Err(NumError {
            too_large: false,
            message: "the objective and every gradient are zero at the sampled point; the check would be vacuous".into(),
        });
    }
    let back_gather = run_backward(&fwd, &objective, gather)?;
    let mut out = Vec::new();
    // Below this size a directional derivative is compared absolutely: a central
    // difference cannot resolve it to 1e-6 relative (its rounding error is about
    // 2^-52 |F| / STEP ≈ 1e-11 |F|).
    // F's own rounding error is about 2^-52 times the sum of |z ∂F/∂z| over every value z
    // the forward program computes (each is rounded once): an objective that cancels
    // (the sum of layer-norm outputs, identically 0: probe36 b21) has |F| at rounding
    // level while its terms are not, and its finite differences are that rounding over
    // the step. The floor scales with the terms, not with |F| alone.
    let floor = FLOOR * f0.abs().max(1.0).max(rounding_scale(&back));
    let mut gather_diff: f64 = 0.0;
    let mut gather_scale: f64 = 1.0;
    for leaf in &leaves {
        let mut worst: f64 = 0.0;
        let mut checked = 0;
        let mut straddled = 0;
        // The elements the directions move: all, until every direction drawn crossed a
        // kink; then those whose own step crosses none.
        let mut support: Option<Vec<bool>> = None;
        while checked < DIRECTIONS {
            let dir: Vec<f64> = leaf
                .elements
                .iter()
                .enumerate()
                .map(|(k, _)| {
                    let d: f64 = StandardNormal.sample(&mut rng);
                    if support.as_ref().is_none_or(|s| s[k]) {
                        d
                    } else {
                        0.0
                    }
                })
                .collect();
            let analytic: f64 = leaf
                .elements
                .iter()
                .zip(&dir)
                .map(|(e, d)| grad_of(&back, e) * d)
                .sum();
            let shifted = |step: f64| -> Result<(f64, u64), NumError> {
                let mut m = base.clone();
                for (e, d) in leaf.elements.iter().zip(&dir) {
                    let slot = m.vals.entry((e.0.clone(), false)).or_default();
                    let v = slot.get(&e.1).copied().unwrap_or(0.0);
                    slot.insert(e.1.clone(), v + step * d);
                }
                let m = forward(&m, program)?;
                Ok((objective.value(&m), m.kink_sides))
            };
            let ((plus, plus_sides), (minus, minus_sides)) = (shifted(STEP)?, shifted(-STEP)?);
            if plus_sides != minus_sides {
                // The two points lie on different sides of a kink (relu or abs at 0): the
                // difference quotient is not a derivative there. Another direction, up to
                // MAX_STRADDLES times; then the check cannot be made and does not pass.
                straddled += 1;
                if straddled > MAX_STRADDLES {
                    // The sampled point may sit on a kink in some elements only (a
                    // Bernoulli mask drawn 0 makes `relu(m x)`'s argument 0 whichever
                    // way x moves, and every step of m crosses it: probe36 b02). Each
                    // element alone is stepped once, within the budget; the directions
                    // then move only those whose step crosses no kink, and the line says
                    // how many were left out. Where none is left, or the budget has no
                    // room, the check cannot be made and does not pass.
                    let n = leaf.elements.len();
                    if support.is_none() && n > 1 && extra_runs >= n as u64 {
                        extra_runs -= n as u64;
                        let mut keep = vec![false; n];
                        for (k, e) in leaf.elements.iter().enumerate() {
                            let side = |step: f64| -> Result<u64, NumError> {
                                let mut m = base.clone();
                                let slot = m.vals.entry((e.0.clone(), false)).or_default();
                                let v = slot.get(&e.1).copied().unwrap_or(0.0);
                                slot.insert(e.1.clone(), v + step);
                                Ok(forward(&m, program)?.kink_sides)
                            };
                            keep[k] = side(STEP)? == side(-STEP)?;
                        }
                        if keep.iter().any(|&k| k) && keep.iter().any(|&k| !k) {
                            support = Some(keep);
                            straddled = 0;
                            continue;
                        }
                    }
                    worst = f64::INFINITY;
                    break;
                }
                continue;
            }
            checked += 1;
            let numeric = (plus - minus) / (2.0 * STEP);
            if !numeric.is_finite() || !analytic.is_finite() {
                return Err(not_finite(&format!(
                    "along a direction of `{}` the finite difference is {numeric} and the derived gradient {analytic}",
                    leaf.name
                )));
            }
            let rel_of = |numeric: f64| {
                (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(floor)
            };
            let mut rel = rel_of(numeric);
            if rel > THRESHOLD && extra_runs > 0 {
                // A central difference is off by (h²/6) times the third directional
                // derivative; where that alone fails the check (a cubic objective with a
                // tiny slope), Richardson's step: D(h/2) as well, and (4 D(h/2) − D(h))/3,
                // whose error is O(h⁴). It can only make the numeric value more accurate,
                // so a wrong gradient still fails.
                extra_runs -= 1;
                let ((p2, s2p), (m2, s2m)) = (shifted(STEP / 2.0)?, shifted(-STEP / 2.0)?);
                if s2p == plus_sides && s2m == plus_sides {
                    let half = (p2 - m2) / STEP;
                    if half.is_finite() {
                        rel = rel.min(rel_of((4.0 * half - numeric) / 3.0));
                    }
                }
            }
            if std::env::var("TQ_DEBUG_GRADCHECK").is_ok() {
                eprintln!(
                    "{}: f0 {f0:e} numeric {numeric:e} analytic {analytic:e}",
                    leaf.name
                );
            }
            worst = worst.max(if rel.is_nan() { f64::INFINITY } else { rel });
        }
        for e in &leaf.elements {
            let (a, b) = (grad_of(&back, e), grad_of(&back_gather, e));
            if !b.is_finite() {
                return Err(not_finite(&format!(
                    "the gather-form gradient of `{}` is {b}",
                    e.0
                )));
            }
            gather_diff = gather_diff.max((a - b).abs());
            gather_scale = gather_scale.max(a.abs());
        }
        out.push(GradCheck {
            tensor: leaf.name.clone(),
            max_rel_error: worst,
            passed: worst <= THRESHOLD,
            at_kink: support.map_or(0, |s| s.iter().filter(|&&k| !k).count()),
        });
    }
    let rel = gather_diff / gather_scale;
    out.push(GradCheck {
        tensor: "gather form".to_string(),
        max_rel_error: rel,
        passed: rel <= THRESHOLD,
        at_kink: 0,
    });
    Ok(out)
}
