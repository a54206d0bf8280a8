//! `tq plot`: variance against depth, time or scale as an SVG, forward and backward.
//!
//! Every family of the program (a tensor with members over a loop: `L_l`, `R_{l+1}`, or
//! a tensor with the loop variable in its index list, `h[b,t,j]`, one member per step)
//! is drawn member by member, forward and, where the derived backward program runs,
//! backward (`L_l.grad`, `h.grad[b,t,j]`):
//!
//! - **sampled**: independent trials of the model (weights, inputs and incoming
//!   gradients resampled each trial, trial t seeded by
//!   `num::seed::trial_seed(seed, Plot, t)`), on the dense executor when the program
//!   lowers, else on the interpreter: per member, the mean over trials of the per-trial
//!   variance over the member's elements (taken about the mean of all trials), with a 95%
//!   interval from the spread across trials;
//! - **predicted**: what the moments engine derives for the member, where it derives
//!   anything: the closed form of the family's variance recurrence (`Var(L_l) =
//!   (D^2*J*sigma_W^2 + 1)^l`, as `tq derive` prints it) evaluated at the file's `sample`
//!   values, else the member's own mean and second moment (the engine's value member by
//!   member), each with its status (exact, or the approximations it rests on).
//!
//! A file with no family but random tensors (one layer) is drawn tensor by tensor in
//! program order. A file of update rules is drawn rule by rule over the steps
//! (`rules.rs`). A file with no random tensor and no rule (a scalar program) is
//! refused with the reason. Under zero padding the engine's values hold away from the
//! border only; the samples pool every position, and a forward family also gets the mean
//! over positions of the second-moment program (`moments::position`), which is what they
//! estimate. No IO: the SVG is a string.

use crate::check::{Env, TensorKind};
use crate::claims::montecarlo::{DENSE_BUDGET, FILE_BUDGET};
use crate::moments::{self, Approximation, Entry};
use crate::num::dense::Needed;
use crate::num::seed::Domain;
use crate::num::trials::{cores, TrialError, TrialModel, TrialRun};
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::{self, Boundary, Item, ItemKind};
use plotters::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

mod rules;
mod svg;

pub use rules::RULE_STEPS;
pub use svg::svg;

/// What a plot draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotKind {
    /// Variances of families (or tensors), sampled and predicted.
    Variance,
    /// Update rules: each rule's parameter over the steps, exact and simulated.
    Rules,
}

/// The most trials `tq plot` accepts (and the fewest: 2, for an interval).
pub const MAX_TRIALS: usize = 10_000;
pub const MIN_TRIALS: usize = 2;
/// Operations all the trials of one plot may use on the dense executor.
pub const PLOT_DENSE_BUDGET: u64 = DENSE_BUDGET;
/// Element evaluations all the trials of one plot may use on the interpreter.
pub const PLOT_BUDGET: u64 = FILE_BUDGET;

/// One curve: predicted values and sampled points of one family's variance.
#[derive(Clone, Debug)]
pub struct Series {
    /// `Var(L_l)`, `Var(L_l.grad)`, `Var(h[t])`, or for a file drawn tensor by tensor
    /// `Var(each tensor)`.
    pub label: String,
    pub grad: bool,
    /// The closed form the prediction comes from (ASCII, in the member subscript);
    /// empty when the prediction is the engine's value member by member (or absent).
    pub closed_form: String,
    /// `exact`, or the approximations the predicted values rest on; empty when the
    /// moments engine predicts no member.
    pub status: String,
    /// The approximations the predicted values rest on (empty when exact), typed: the
    /// caption's border note is decided from these, never from `status`'s text.
    pub approx: BTreeSet<Approximation>,
    /// (member, predicted variance): the members the moments engine has a value for.
    pub predicted: Vec<(f64, f64)>,
    /// (member, mean of the per-trial variances, half-width of the 95% interval).
    pub sampled: Vec<(f64, f64, f64)>,
    /// Under zero padding, a forward family: (member, the variance averaged over
    /// all positions, border included) from the moments engine's second-moment program
    /// run position by position (`moments::position`) — what the pooled samples estimate.
    /// Empty otherwise, or when the program is not multilinear in zero-mean leaves.
    pub pooled: Vec<(f64, f64)>,
    /// Why the moments engine predicts no member (when `predicted` is empty).
    pub unpredicted: String,
}

/// Everything `tq plot` draws.
#[derive(Clone, Debug)]
pub struct Plot {
    pub series: Vec<Series>,
    pub trials: usize,
    pub seed: u64,
    /// `dense executor` or `interpreter`.
    pub executor: &'static str,
    /// Zero padding: the engine's values hold away from the border only, the sampled
    /// points pool every position.
    pub zero_padding: bool,
    /// The x axis: the loop variables of the families (`l`, `t`), or `tensor`.
    pub var: String,
    /// Names of the x positions when the file is drawn tensor by tensor (else empty: the
    /// x positions are the members' subscripts or steps).
    pub ticks: Vec<String>,
    /// The file's `sample` values, as written (`B = 2, X = 6, ...`).
    pub sample: String,
    /// Why the backward families are not drawn (empty when they are, or there are none).
    pub backward_note: String,
    pub kind: PlotKind,
    /// Lines of the caption of a plot of update rules (the inputs, the values taken from
    /// `tq derive`'s mapping, the gaps between the runs).
    pub notes: Vec<String>,
}

/// How a family's members are laid out.
#[derive(Clone, Debug, PartialEq)]
enum Along {
    /// Members `L_{k}` (a one-subscript family).
    Member,
    /// Slices at position k of dimension d (`h[b,t,j]`: d = 1).
    Dim(usize),
    /// One tensor among the file's tensors: position k on the x axis.
    Tensor(usize),
}

struct Wanted {
    key: String,
    grad: bool,
    var: String,
    along: Along,
    /// A closed form of the variance in `#n` with its status.
    closed: Option<(sym::Expr, BTreeSet<Approximation>)>,
}

/// The member number of `L_{3}` for family `L`.
fn member_index(member: &str, key: &str) -> Option<i64> {
    member
        .strip_prefix(key)?
        .strip_prefix("_{")?
        .strip_suffix('}')?
        .parse()
        .ok()
}

/// Per-trial sums of one member: (elements, sum, sum of squares).
type Sums = BTreeMap<(usize, i64), (usize, f64, f64)>;

/// Where the trials run ([`Executor::Auto`]: the dense executor when the program
/// lowers, else the interpreter).
pub use crate::num::trials::Executor;

/// The loop variable of every family written in a loop, and the range of each loop
/// variable (as written).
fn loop_vars(items: &[Item], env: &Env, cur: Option<&ast::Loop>, out: &mut LoopVars) {
    for it in items {
        match &it.kind {
            ItemKind::Loop(lp) => {
                out.ranges
                    .entry(lp.range.var.name.clone())
                    .or_insert((lp.range.from.clone(), lp.range.to.clone()));
                loop_vars(&lp.body, env, Some(lp), out);
            }
            ItemKind::ForIndices(f) => loop_vars(&f.body, env, cur, out),
            ItemKind::Equation(eq) => {
                if let Some(lp) = cur {
                    out.var
                        .entry(env.key_of(&eq.lhs.name))
                        .or_insert(lp.range.var.name.clone());
                }
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct LoopVars {
    var: BTreeMap<String, String>,
    ranges: BTreeMap<String, (ast::Expr, ast::Expr)>,
}

/// A loop bound at the sample values (sizes, symbols; `+ - *` and numbers).
fn bound(e: &ast::Expr, at: &BTreeMap<String, f64>) -> Option<f64> {
    match e {
        ast::Expr::Num(s, _) => s.parse().ok(),
        ast::Expr::Ref(r) if r.indices.is_none() && !r.grad => at
            .get(&crate::syntax::printer::print_name(&r.name))
            .copied(),
        ast::Expr::Unary(ast::UnOp::Neg, a, _) => Some(-bound(a, at)?),
        ast::Expr::Binary(op, a, b, _) => {
            let (a, b) = (bound(a, at)?, bound(b, at)?);
            match op {
                ast::BinOp::Add => Some(a + b),
                ast::BinOp::Sub => Some(a - b),
                ast::BinOp::Mul | ast::BinOp::Jux => Some(a * b),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A series' status: empty when the engine predicts nothing, else `exact` or the
/// approximations its values rest on, joined by `; `.
fn status_text(predicts: bool, approx: &BTreeSet<Approximation>) -> String {
    if !predicts {
        String::new()
    } else if approx.is_empty() {
        "exact".into()
    } else {
        approx
            .iter()
            .map(|a| a.text())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The engine's variance of one element of a member, at the sample values, with the
/// approximations it rests on; `None` when the engine does not know it.
fn rv_var(
    rv: &moments::rv::Rv,
    at: &BTreeMap<String, f64>,
) -> Option<(f64, BTreeSet<Approximation>)> {
    let (m, m2) = (rv.mean.as_ref()?, rv.m2.as_ref()?);
    let v = (m2.clone() - m.clone() * m.clone()).eval_f64(at).ok()?;
    v.is_finite().then(|| (v, rv.approx.clone()))
}

/// The engine's value for member `k` of a family (a fixed member, else the loop's
/// template, as the engine itself reads members).
/// Whether every definedness condition of a closed form at one member (a denominator
/// not 0, a logarithm's argument positive: [`sym::defined::conditions_of`]) holds at
/// the sample values; a condition that cannot be evaluated is left to `eval_f64`.
fn defined_at_sample(e: &sym::Expr, at: &BTreeMap<String, f64>) -> bool {
    use sym::defined::Condition;
    let mut conds = BTreeSet::new();
    sym::defined::conditions_of(e, &mut conds);
    conds.iter().all(|c| match c.expr().eval_f64(at) {
        Ok(x) => match c {
            Condition::NonZero(_) => x != 0.0,
            Condition::Positive(_) | Condition::Power(..) => x > 0.0,
            Condition::NonNegative(_) => x >= 0.0,
        },
        Err(_) => true,
    })
}

/// The variance of member `k` from the recurrence itself, member by member from its
/// start: the start's mean and variance from the closed forms (where they are defined),
/// then each step's `mean_step` and `var_step` at the sample values. `None` when a step
/// reads another state, the members are not one apart, or a value is not finite.
fn step_by_step(r: &moments::Recurrence, k: i64, at: &BTreeMap<String, f64>) -> Option<f64> {
    let offset = |e: &sym::Expr| {
        sym::simplify(&(e.clone() - sym::Expr::sym(&r.var)))
            .eval_f64(&BTreeMap::new())
            .ok()
            .filter(|x| x.fract() == 0.0)
            .map(|x| x as i64)
    };
    let (cr, cw) = (offset(&r.from)?, offset(&r.to)?);
    let start = r.start.eval_f64(at).ok().filter(|x| x.fract() == 0.0)? as i64;
    if cw - cr != 1 || k < start || k - start > 100_000 {
        return None;
    }
    let at_start = |e: &Option<sym::Expr>| -> Option<f64> {
        let e = e.as_ref()?.subs("#n", &sym::Expr::int(start));
        defined_at_sample(&e, at)
            .then(|| e.eval_f64(at).ok())
            .flatten()
    };
    let (mut m, mut v) = (at_start(&r.mean_closed)?, at_start(&r.var_closed)?);
    let step = r.var_step.as_ref()?;
    let mut vals = at.clone();
    for j in start + 1..=k {
        vals.insert(r.var.clone(), (j - cw) as f64);
        vals.insert("x".into(), v);
        vals.insert("E".into(), m);
        let v_next = step.eval_f64(&vals).ok()?;
        vals.insert("x".into(), m);
        let m_next = r.mean_step.eval_f64(&vals).ok()?;
        (m, v) = (m_next, v_next);
        if !(m.is_finite() && v.is_finite()) {
            return None;
        }
    }
    Some(v)
}

fn member_var(
    e: Option<&Entry>,
    k: i64,
    at: &BTreeMap<String, f64>,
) -> Option<(f64, BTreeSet<Approximation>)> {
    match e? {
        Entry::Plain(rv) => rv_var(rv, at),
        Entry::Family { members, templates } => {
            if let Some((_, rv)) = members
                .iter()
                .find(|(s, _)| s.eval_f64(at).ok() == Some(k as f64))
            {
                return rv_var(rv, at);
            }
            let t = templates.last()?;
            let rv = moments::subs_rv(&t.rv, &t.var, &(sym::Expr::int(k) - t.offset.clone()));
            rv_var(&rv, at)
        }
    }
}

/// What one trial measures of one wanted family (plain data, shared by the threads).
struct Spec {
    key: String,
    grad: bool,
    along: Along,
    /// Positions probed along a dimension (`Along::Dim`).
    range: (i64, i64),
}

/// Per member of a trial: (wanted family, member, elements, sum, sum of squares).
fn measure(run: &TrialRun, specs: &[Spec]) -> Vec<(usize, i64, usize, f64, f64)> {
    let mut out = Vec::new();
    let keys = run.keys();
    for (i, s) in specs.iter().enumerate() {
        match s.along {
            Along::Member => {
                for k in &keys {
                    if k.1 != s.grad {
                        continue;
                    }
                    if let Some(m) = member_index(&k.0, &s.key) {
                        if let Some((n, s1, s2)) = run.moments(k, &[]) {
                            out.push((i, m, n, s1, s2));
                        }
                    }
                }
            }
            Along::Dim(d) => {
                let key = (s.key.clone(), s.grad);
                let mut fixed = vec![None; d + 1];
                for p in s.range.0..=s.range.1 {
                    fixed[d] = Some(p);
                    if let Some((n, s1, s2)) = run.moments(&key, &fixed) {
                        out.push((i, p, n, s1, s2));
                    }
                }
            }
            Along::Tensor(x) => {
                if let Some((n, s1, s2)) = run.moments(&(s.key.clone(), s.grad), &[]) {
                    out.push((i, x as i64, n, s1, s2));
                }
            }
        }
    }
    out.retain(|p| p.2 > 0);
    out
}

/// The model and its first trial: with the backward program when `back` is given.
#[allow(clippy::too_many_arguments)]
fn first_trial<'p, 'a>(
    program: &'p ast::Program,
    env: &'a Env,
    back: &'p [Item],
    loss: Option<&'p str>,
    setup: crate::num::gradcheck::Setup<'p>,
    needed: &Needed,
    executor: Executor,
    seed: u64,
) -> Result<(TrialModel<'p, 'a>, TrialRun<'a>), String> {
    let mut model = TrialModel::new(
        program,
        env,
        back,
        loss,
        setup,
        Some(needed),
        executor,
        seed,
        Domain::Plot,
    )
    .map_err(|e| format!("the model cannot be run: {e}"))?;
    // A dense run that does not lower falls back to the interpreter.
    let first = match model.run(0) {
        Err(TrialError::Unsupported(_)) if model.fall_back() => model.run(0),
        other => other,
    }
    .map_err(|e| format!("the model cannot be run: {e}"))?;
    Ok((model, first))
}

/// The predicted and sampled series of a checked file: `trials` trials, trial t seeded
/// by [`crate::num::seed::trial_seed`]`(seed, Plot, t)`.
pub fn series(r: &FileReport, trials: usize, seed: u64) -> Result<Plot, String> {
    series_on(r, trials, seed, Executor::Auto)
}

/// [`series`] on a chosen executor.
pub fn series_on(
    r: &FileReport,
    trials: usize,
    seed: u64,
    executor: Executor,
) -> Result<Plot, String> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return Err("nothing is plotted from a file with errors".into());
    }
    if !(MIN_TRIALS..=MAX_TRIALS).contains(&trials) {
        return Err(format!(
            "--trials must be from {MIN_TRIALS} to {MAX_TRIALS} (asked for {trials})"
        ));
    }
    let env = &r.env;
    let back = r.analysis().backward();
    let analysis = r.analysis().moments();
    let random = env
        .tensors
        .values()
        .any(|t| t.kind != TensorKind::Computed && !t.is_int);
    let rules = r
        .program
        .items
        .iter()
        .any(|it| matches!(it.kind, ItemKind::Rule(_)));
    if !random && rules {
        return rules::rule_plot(r, seed);
    }
    if !random {
        return Err(if env.tensors.is_empty() {
            "the file declares no tensor (a scalar program has exact values at its `at` point, which `tq derive` prints); there is no variance to sample or predict".into()
        } else {
            "the file declares no random tensor (no `param` or `input`); there is no variance to sample or predict".into()
        });
    }
    // Closed forms of the variance recurrences, by family.
    let mut closed: BTreeMap<(String, bool), (sym::Expr, BTreeSet<Approximation>, String)> =
        BTreeMap::new();
    for rec in &analysis.recurrences {
        if let Some(c) = &rec.var_closed {
            closed.entry((rec.tensor.clone(), rec.grad)).or_insert((
                sym::simplify(c),
                rec.approx.clone(),
                rec.var.clone(),
            ));
        }
    }
    let mut lv = LoopVars::default();
    loop_vars(&r.program.items, env, None, &mut lv);
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut fams: BTreeSet<String> = BTreeSet::new();
    for (name, t) in &env.tensors {
        if t.kind == TensorKind::Param || t.is_int {
            continue;
        }
        let computed = t.kind == TensorKind::Computed;
        if t.family_arity == 1 && (computed || !t.start_members.is_empty()) {
            fams.insert(name.clone());
            for grad in [false, true] {
                let c = closed.get(&(name.clone(), grad));
                let var = c
                    .map(|c| c.2.clone())
                    .or_else(|| lv.var.get(name).cloned())
                    .unwrap_or_else(|| "l".into());
                wanted.push(Wanted {
                    key: name.clone(),
                    grad,
                    var,
                    along: Along::Member,
                    closed: c.map(|c| (c.0.clone(), c.1.clone())),
                });
            }
        } else if t.family_arity == 0 && (computed || !t.start_positions.is_empty()) {
            let dim = t
                .dims
                .iter()
                .enumerate()
                .find_map(|(d, s)| s.strip_prefix('~').map(|v| (d, v.to_string())))
                .or_else(|| {
                    // A recurrence's start slice (`input h[B, 0, J]`): along its loop.
                    let d = t.start_positions.first()?.0;
                    Some((d, lv.var.get(name)?.clone()))
                });
            if let Some((d, var)) = dim {
                fams.insert(name.clone());
                for grad in [false, true] {
                    wanted.push(Wanted {
                        key: name.clone(),
                        grad,
                        var: var.clone(),
                        along: Along::Dim(d),
                        closed: None,
                    });
                }
            }
        }
    }
    // A family the engine solves that the declarations did not name.
    for ((key, grad), (c, status, var)) in &closed {
        if !fams.contains(key) {
            wanted.push(Wanted {
                key: key.clone(),
                grad: *grad,
                var: var.clone(),
                along: Along::Member,
                closed: Some((c.clone(), status.clone())),
            });
        }
    }
    let mut ticks = Vec::new();
    if wanted.is_empty() {
        // No family: every random or computed tensor, in program order.
        let mut ts: Vec<(&String, &crate::check::TensorInfo)> = env
            .tensors
            .iter()
            .filter(|(_, t)| t.kind != TensorKind::Param && !t.is_int && t.family_arity == 0)
            .collect();
        // Members of a family unrolled at a fixed size (`size L = 12`: L_1 .. L_12) share
        // their loop body's span: among them, numeric order (L_2 before L_10).
        ts.sort_by(|(a, ta), (b, tb)| {
            ta.span
                .start
                .cmp(&tb.span.start)
                .then_with(|| natural_cmp(a, b))
        });
        for (i, (name, _)) in ts.iter().enumerate() {
            ticks.push((*name).clone());
            for grad in [false, true] {
                wanted.push(Wanted {
                    key: (*name).clone(),
                    grad,
                    var: "tensor".into(),
                    along: Along::Tensor(i),
                    closed: None,
                });
            }
        }
    }
    if wanted.is_empty() {
        return Err(
            "the file has no family over layers, time or scale and no tensor to sample".into(),
        );
    }
    wanted.sort_by(|a, b| a.grad.cmp(&b.grad).then(a.key.cmp(&b.key)));
    let has_back = !back.items.is_empty();
    let mut backward_note = String::new();
    if !has_back {
        // No backward program (no scalar loss, no `grad` declaration): there is no
        // gradient to sample, and a series of zeros would read as vanishing gradients
        // (probe38 k23, a07).
        wanted.retain(|w| !w.grad);
        backward_note = "no backward program (the file has no scalar loss and no `grad` declaration): no gradient is drawn".into();
    }
    let loss = back.seeds.first().map(String::as_str);
    let all: Needed = wanted.iter().map(|w| (w.key.clone(), w.grad)).collect();
    let forward: Needed = wanted
        .iter()
        .filter(|w| !w.grad)
        .map(|w| (w.key.clone(), false))
        .collect();
    let setup = |_: &mut crate::num::Machine| Ok(());
    let (model, first) = match first_trial(
        &r.program,
        env,
        if has_back { &back.items } else { &[] },
        loss,
        &setup,
        &all,
        executor,
        seed,
    ) {
        Ok(x) => x,
        Err(e) if has_back => {
            let fwd = first_trial(&r.program, env, &[], None, &setup, &forward, executor, seed)?;
            backward_note = format!("backward not sampled: {e}");
            wanted.retain(|w| !w.grad);
            fwd
        }
        Err(e) => return Err(e),
    };
    let work = first.work().max(1);
    let need = work.saturating_mul(trials as u64);
    if model.is_dense() && need > PLOT_DENSE_BUDGET {
        return Err(format!(
            "{trials} trials need {need} operations on the dense executor ({work} per trial), over the budget of {PLOT_DENSE_BUDGET}; at most {} trials at these sizes",
            PLOT_DENSE_BUDGET / work
        ));
    }
    if !model.is_dense() && need > PLOT_BUDGET {
        return Err(format!(
            "{trials} trials need {need} element evaluations on the interpreter ({work} per trial), over the budget of {PLOT_BUDGET}; at most {} trials at these sizes",
            PLOT_BUDGET / work
        ));
    }
    let consts = first.machine().consts.clone();
    let specs: Vec<Spec> = wanted
        .iter()
        .map(|w| {
            let range = lv
                .ranges
                .get(&w.var)
                .and_then(|(a, b)| Some((bound(a, &consts)?, bound(b, &consts)?)))
                .map(|(a, b)| (a.min(b) as i64 - 1, a.max(b) as i64 + 1))
                .filter(|(a, b)| b - a <= 4096)
                .unwrap_or((0, 64));
            Spec {
                key: w.key.clone(),
                grad: w.grad,
                along: w.along.clone(),
                range,
            }
        })
        .collect();
    let mut sums: Vec<Sums> = vec![Sums::new(); wanted.len()];
    for (i, k, n, s1, s2) in measure(&first, &specs) {
        sums[i].insert((0, k), (n, s1, s2));
    }
    drop(first);
    for (t, res) in (1..).zip(model.run_all(1..trials, cores(), |_, run| measure(&run, &specs))) {
        let per = res.map_err(|e| format!("the model cannot be run: {e}"))?;
        for (i, k, n, s1, s2) in per {
            sums[i].insert((t, k), (n, s1, s2));
        }
    }
    let executor = model.executor_name();
    let mut at = consts;
    at.insert("pi".into(), std::f64::consts::PI);
    let zero_padding = r.env.boundary == Some(Boundary::Zero);
    // Zero padding: every position's variance from the second-moment program.
    let positions = if zero_padding {
        moments::position::run(&r.program, env, &|_| Ok(())).ok()
    } else {
        None
    };
    let mut out: Vec<Series> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (w, acc) in wanted.iter().zip(sums) {
        let members: BTreeSet<i64> = acc.keys().map(|(_, k)| *k).collect();
        let mut predicted = Vec::new();
        let mut sampled = Vec::new();
        let mut pooled = Vec::new();
        let mut approx: BTreeSet<Approximation> = BTreeSet::new();
        let entry = analysis.entries.get(&(w.key.clone(), w.grad));
        for k in members {
            let member = match w.along {
                Along::Member => format!("{}_{{{k}}}", w.key),
                _ => w.key.clone(),
            };
            if let (Some(m), false, false) = (&positions, w.grad, matches!(w.along, Along::Dim(_)))
            {
                if let Some(vals) = m.vals.get(&(member, false)) {
                    if !vals.is_empty() {
                        pooled.push((k as f64, vals.values().sum::<f64>() / vals.len() as f64));
                    }
                }
            }
            match (&w.closed, &w.along) {
                // A closed form undefined at this member and the sample values (`(s^l -
                // 1)/(s - 1)` at s = 1, folded to a wrong line, probe 29c e18c): the
                // member's value from the recurrence, layer by layer, where the engine has
                // it; else no predicted point there.
                (Some((c, _)), _) if !defined_at_sample(&c.subs("#n", &sym::Expr::int(k)), &at) => {
                    let rec = analysis
                        .recurrences
                        .iter()
                        .find(|r| r.tensor == w.key && r.grad == w.grad && r.var_closed.is_some());
                    let stepped = rec.and_then(|r| step_by_step(r, k, &at));
                    match stepped.map(|y| (y, BTreeSet::new())).or_else(|| member_var(entry, k, &at)) {
                        Some((y, ap)) => {
                            predicted.push((k as f64, y));
                            approx.extend(ap);
                            notes.push(format!(
                                "the closed form {} is undefined at {} = {k} at the sample values (a 0/0); the prediction there is the recurrence's value, member by member",
                                sym::to_ascii(c),
                                w.var
                            ));
                        }
                        None => notes.push(format!(
                            "the closed form {} is undefined at {} = {k} at the sample values; no prediction is drawn there",
                            sym::to_ascii(c),
                            w.var
                        )),
                    }
                }
                (Some((c, _)), _) => {
                    let y = c
                        .subs("#n", &sym::Expr::int(k))
                        .eval_f64(&at)
                        .map_err(|e| {
                            format!(
                                "the closed form {} cannot be evaluated at the sample values: {e}",
                                sym::to_ascii(c)
                            )
                        })?;
                    predicted.push((k as f64, y));
                }
                (None, Along::Member) => {
                    if let Some((y, ap)) = member_var(entry, k, &at) {
                        predicted.push((k as f64, y));
                        approx.extend(ap);
                    }
                }
                (None, Along::Tensor(_)) => {
                    if let Some((y, ap)) = member_var(entry, 0, &at) {
                        predicted.push((k as f64, y));
                        approx.extend(ap);
                    }
                }
                (None, Along::Dim(_)) => {}
            }
            // Every trial's (mean, mean of squares) for this member.
            let per: Vec<(f64, f64)> = (0..trials)
                .filter_map(|t| acc.get(&(t, k)))
                .map(|&(n, s1, s2)| (s1 / n as f64, s2 / n as f64))
                .collect();
            if per.len() < trials {
                continue;
            }
            let nt = per.len() as f64;
            let mu = per.iter().map(|p| p.0).sum::<f64>() / nt;
            // The per-trial variance about the mean of all trials.
            let v: Vec<f64> = per
                .iter()
                .map(|(m1, m2)| m2 - 2.0 * mu * m1 + mu * mu)
                .collect();
            let mean = v.iter().sum::<f64>() / nt;
            let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nt - 1.0)).sqrt();
            if !(mean.is_finite() && sd.is_finite()) {
                // An overflowed or undefined estimate is not a point at any height: say so.
                let name = match w.along {
                    Along::Member => format!("{}_{k}", w.key),
                    Along::Dim(_) => format!("{}[{k}]", w.key),
                    Along::Tensor(_) => ticks.get(k as usize).cloned().unwrap_or_default(),
                };
                let g = if w.grad { ".grad" } else { "" };
                notes.push(format!(
                    "Var({name}{g}) is not drawn: its sampled estimate is not finite (overflow or an undefined value in the trials)"
                ));
                continue;
            }
            sampled.push((k as f64, mean, 1.96 * sd / nt.sqrt()));
        }
        if sampled.is_empty() && predicted.is_empty() {
            continue;
        }
        let g = if w.grad { ".grad" } else { "" };
        let (closed_form, approx) = match &w.closed {
            Some((c, a)) => (
                sym::to_ascii(&sym::simplify(&c.subs("#n", &sym::Expr::sym(&w.var)))),
                a.clone(),
            ),
            None => (String::new(), approx),
        };
        let unpredicted = if predicted.is_empty() {
            match analysis.unknown.get(&(w.key.clone(), w.grad)) {
                Some(why) => format!(
                    "moments engine: no value ({})",
                    why.split(": ").next().unwrap_or(why)
                ),
                None if matches!(w.along, Along::Dim(_)) => {
                    "moments engine: no value per step".into()
                }
                None => "moments engine: no value".into(),
            }
        } else {
            String::new()
        };
        let label = match w.along {
            Along::Member => format!("Var({}_{}{g})", w.key, w.var),
            Along::Dim(_) => format!("Var({}{g}[{}])", w.key, w.var),
            Along::Tensor(_) => format!("Var(tensor{g})"),
        };
        // A file drawn tensor by tensor: one series per direction.
        if let (Along::Tensor(_), Some(s)) = (&w.along, out.iter_mut().find(|s| s.label == label)) {
            s.predicted.extend(predicted);
            s.sampled.extend(sampled);
            s.pooled.extend(pooled);
            s.approx.extend(approx);
            s.status = status_text(!s.predicted.is_empty(), &s.approx);
            continue;
        }
        out.push(Series {
            label,
            grad: w.grad,
            closed_form,
            status: status_text(!predicted.is_empty() || w.closed.is_some(), &approx),
            approx,
            predicted,
            sampled,
            pooled,
            unpredicted,
        });
    }
    if out.iter().all(|s| s.sampled.is_empty()) {
        return Err("nothing to plot: no member of a family was computed in every trial".into());
    }
    let mut vars: Vec<String> = Vec::new();
    for w in &wanted {
        if !vars.contains(&w.var) {
            vars.push(w.var.clone());
        }
    }
    let sample = sample_text(&r.program);
    Ok(Plot {
        var: vars.join(", "),
        series: out,
        trials,
        seed,
        executor,
        zero_padding,
        ticks,
        sample,
        backward_note,
        kind: PlotKind::Variance,
        notes,
    })
}

/// The file's `sample` values as written (`B = 4, I = 3`), every `sample` line in order,
/// for the captions.
pub(crate) fn sample_text(program: &crate::syntax::ast::Program) -> String {
    program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Sample(bs) => Some(
                bs.iter()
                    .map(|b| {
                        format!(
                            "{} = {}",
                            b.name.name,
                            crate::syntax::printer::print_expr(&b.value)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names compared with their digit runs as numbers (`L_2` < `L_10`), else as text.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(&rb) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    ra.len().cmp(&rb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod natural_order {
    use super::natural_cmp;

    #[test]
    fn digit_runs_compare_as_numbers() {
        let mut v = vec!["L_10", "L_2", "L_1", "L_0", "L_12", "h", "L_007"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["L_0", "L_1", "L_2", "L_007", "L_10", "L_12", "h"]);
    }
}
