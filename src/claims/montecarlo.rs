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
//! lowers, pruned to the statements the setting's claims need, else on the interpreter.

use super::scalar::{self, Scope};
use super::Verdict;
use crate::check::Env;
use crate::claims::{Method, Outcome};
use crate::num::dense::{prune, Needed};
use crate::num::seed::Domain;
use crate::num::trials::{cores, Executor, TrialError, TrialModel, TrialRun};
use crate::num::{Bind, Machine, NumError};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Claim, IndexExpr, Item, ItemKind, Program, Ref, RelOp};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// erfc with fractional error below 1.2e-7 (Numerical Recipes' erfcc).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The z with P(|N(0,1)| > z) = p.
pub fn z_for(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid / std::f64::consts::SQRT_2) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error about 1e−15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    // One Lentz step with the partial numerator `aa`: updates c and d, returns the factor
    // of h.
    let mut step = |aa: f64| {
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        d * c
    };
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(|T| > t) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub fn t_tail(t: f64, df: f64) -> f64 {
    beta_inc(0.5 * df, 0.5, df / (df + t * t))
}

/// The t with P(|T_df| > t) = p: the threshold of a test on `df + 1` trials. Student's
/// quantile rather than the normal one, so that the early looks of a sequential test,
/// on few trials, keep their level (at 40 trials and p = 1e−9 it is 8.0 where the normal
/// quantile is 6.1).
pub fn t_for(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1e4);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_tail(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One moment the claim mentions.
#[derive(Clone, Debug)]
struct Moment {
    var: bool,
    target: Ref,
}

/// Replaces `Var(T)` and `E[T]` by symbols `mc_k`; other calls that cannot be estimated
/// are reported.
/// `x` when the arguments are the one expression `x^2` with `x` a reference.
fn square_of_ref(args: &[ast::Expr]) -> Option<&ast::Expr> {
    match args {
        [ast::Expr::Binary(ast::BinOp::Pow, x, k, _)]
            if matches!(**x, ast::Expr::Ref(_))
                && matches!(&**k, ast::Expr::Num(n, _) if n.parse::<f64>() == Ok(2.0)) =>
        {
            Some(x)
        }
        _ => None,
    }
}

fn extract(e: &ast::Expr, out: &mut Vec<Moment>) -> Result<ast::Expr, String> {
    // `E(x^2)` of an element is `Var(x) + E(x)^2`, both estimated.
    if let ast::Expr::Call(c) = e {
        if let (true, Some(x)) = (c.func.name == "E", square_of_ref(&c.args)) {
            let call = |name: &str| {
                ast::Expr::Call(ast::Call {
                    func: ast::Ident {
                        name: name.into(),
                        span: c.func.span,
                    },
                    args: vec![x.clone()],
                    brackets: c.brackets,
                    span: c.span,
                })
            };
            let second = ast::Expr::Binary(
                ast::BinOp::Add,
                Box::new(call("Var")),
                Box::new(ast::Expr::Binary(
                    ast::BinOp::Pow,
                    Box::new(call("E")),
                    Box::new(ast::Expr::Num("2".into(), c.span)),
                    c.span,
                )),
                c.span,
            );
            return extract(&second, out);
        }
    }
    Ok(match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Var" | "E") => {
            let [ast::Expr::Ref(r)] = c.args.as_slice() else {
                return Err(format!(
                    "`{}` of an expression is not estimated yet",
                    c.func.name
                ));
            };
            // An upper-case name in an index position is a summed index (docs/language.md):
            // `Var(x[I])` is the variance of a sum, not of one element.
            let summed = r.indices.iter().flatten().any(|ix| match ix {
                ast::IndexExpr::Affine(a) => a
                    .terms
                    .iter()
                    .any(|t| t.factors.iter().any(|f| ast::is_summed_index(&f.name))),
                ast::IndexExpr::Lookup(_) => false,
            });
            if summed {
                return Err(format!(
                    "`{}` of a sum over a capital index is not estimated yet",
                    c.func.name
                ));
            }
            out.push(Moment {
                var: c.func.name == "Var",
                target: r.clone(),
            });
            ast::Expr::Ref(Ref::plain(&format!("mc_{}", out.len() - 1), c.span))
        }
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Cov" | "solve" | "sup") => {
            return Err(format!(
                "`{}(...)` is not estimated by Monte Carlo yet",
                c.func.name
            ))
        }
        ast::Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c
                .args
                .iter()
                .map(|a| extract(a, out))
                .collect::<Result<_, _>>()?;
            ast::Expr::Call(c)
        }
        ast::Expr::Unary(op, x, s) => ast::Expr::Unary(*op, Box::new(extract(x, out)?), *s),
        ast::Expr::Binary(op, l, r, s) => ast::Expr::Binary(
            *op,
            Box::new(extract(l, out)?),
            Box::new(extract(r, out)?),
            *s,
        ),
        ast::Expr::Sum(..) => return Err("sums of moments are not estimated yet".into()),
        other => other.clone(),
    })
}

/// Why Monte Carlo's pooled statistics do not estimate the moment of `target`'s element:
/// a position that is neither a number nor a plain index of its own (a loop variable
/// the claim binds, an index repeated, an index with an offset or a factor).
fn unpooled_position(target: &Ref, loop_vars: &[String]) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    let name = &target.name.base;
    for ix in target.indices.iter().flatten() {
        let IndexExpr::Affine(a) = ix else {
            return Some(format!(
                "Monte Carlo does not estimate the moment of `{name}` at a looked-up position yet"
            ));
        };
        if a.terms.is_empty() {
            continue;
        }
        let plain = match a.terms.as_slice() {
            [t] if a.constant == 0 && t.coef == 1 && t.factors.len() == 1 => {
                Some(t.factors[0].name.clone())
            }
            _ => None,
        };
        let Some(v) = plain else {
            return Some(format!(
                "Monte Carlo pools the elements of `{name}` over its free positions; a shifted or scaled position selects other elements, which it does not estimate yet"
            ));
        };
        if loop_vars.contains(&v) {
            return Some(format!(
                "Monte Carlo pools the elements of `{name}` over its free positions; a position at the loop variable `{v}` selects the elements of one step, which it does not estimate yet"
            ));
        }
        if !seen.insert(v.clone()) {
            return Some(format!(
                "Monte Carlo pools the elements of `{name}` over its free positions; the index `{v}` repeated selects a diagonal, which it does not estimate yet"
            ));
        }
    }
    None
}

/// A tensor member's elements selected by fixed positions (`[0, x, y, 0]`: `Some(0)`,
/// `None`, `None`, `Some(0)`).
type Pattern = Vec<Option<i64>>;

fn pattern_of(target: &Ref) -> Pattern {
    target
        .indices
        .iter()
        .flatten()
        .map(|ix| match ix {
            IndexExpr::Affine(a) if a.terms.is_empty() => Some(a.constant),
            _ => None,
        })
        .collect()
}

/// One trial's statistics: count, sum and sum of squares of the selected elements, per
/// (member, gradient or not, pattern).
type TrialStats = HashMap<(String, bool, Pattern), (usize, f64, f64)>;

/// The trial means already read, per tensor (member, gradient or not, pattern), for the
/// trials of one setting: the trials only grow, so a prefix read once is read again from
/// here (`None` for a trial that lacks the tensor). Without it every claim re-read every
/// trial at every look (500 claims `Var(y) ~= 2 I` on 40,000 trials took 9 s).
type MeansMemo = std::cell::RefCell<HashMap<(String, bool, Pattern), Vec<Option<(f64, f64)>>>>;

/// Trial means of x and x² over the elements of a moment's tensor (fixed indices fixed,
/// free indices pooled), for every trial.
fn means(
    m0: &mut Machine,
    stats: &[TrialStats],
    memo: &MeansMemo,
    target: &Ref,
    b: &Bind,
) -> Option<Vec<(f64, f64)>> {
    let probe = ast::Expr::Ref(Ref {
        indices: None,
        ..target.clone()
    });
    if !m0.all_exist(&probe, b) {
        return None;
    }
    let member = m0.member_of(&target.name, b).ok()?;
    let key = (member, target.grad, pattern_of(target));
    let mut memo = memo.borrow_mut();
    let read = memo.entry(key.clone()).or_default();
    for st in stats.iter().skip(read.len()) {
        let m = st
            .get(&key)
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, s1, s2)| (s1 / *n as f64, s2 / *n as f64));
        read.push(m);
    }
    read.get(..stats.len())?.iter().copied().collect()
}

/// Independent trials of one setting (sizes, symbols, boundary): the statistics of the
/// tensors whose moments the file's claims mention, per trial. The trials are run in
/// rounds, as far as the claims of the setting ask ([`Trials::extend`]); every claim reads
/// a prefix of them, so its verdict does not depend on the other claims.
pub struct Trials<'a> {
    /// The constants of the setting, and (as empty maps) the members the first trial wrote.
    first: Machine<'a>,
    stats: Vec<TrialStats>,
    /// The most trials the setting's budget allows.
    max: usize,
    /// The work of one trial, in element evaluations of the file's budget.
    cost: u64,
    /// Whether the trials run on the dense executor.
    dense: bool,
    sets: Vec<(String, Expr)>,
    boundary: Option<ast::Boundary>,
    needed: Option<Needed>,
    /// The means of the trials read so far ([`MeansMemo`]).
    memo: MeansMemo,
}

/// What the moment claims of a file need from the trials.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// (family key, gradient or not) → the fixed-position patterns claims select.
    patterns: BTreeMap<(String, bool), BTreeSet<Pattern>>,
    /// Per setting (givens and boundary): the tensors its claims mention.
    settings: BTreeMap<String, Needed>,
}

/// The trials' cache key of a claim: its givens and boundary rule.
fn setting_key(claim: &Claim) -> String {
    format!(
        "{:?} {:?}",
        claim.given.iter().map(print_expr).collect::<Vec<_>>(),
        claim.boundary
    )
}

/// Every tensor (and fixed positions) whose moments a claim of the program mentions.
pub fn moment_keys(program: &Program, env: &Env) -> Targets {
    let mut out = Targets::default();
    fn add(c: &Claim, env: &Env, out: &mut Targets) {
        let mut ms = Vec::new();
        if let ast::Expr::Rel(_, l, r, _) = &c.body {
            let _ = extract(l, &mut ms);
            let _ = extract(r, &mut ms);
        }
        for m in &ms {
            let k = (env.key_of(&m.target.name), m.target.grad);
            out.patterns
                .entry(k.clone())
                .or_default()
                .insert(pattern_of(&m.target));
            out.settings.entry(setting_key(c)).or_default().insert(k);
        }
    }
    fn walk(items: &[Item], env: &Env, out: &mut Targets) {
        for it in items {
            match &it.kind {
                ItemKind::Claim(c) => add(c, env, out),
                ItemKind::Derivation(d) => {
                    for (_, c) in d.step_claims() {
                        add(&c, env, out);
                    }
                }
                ItemKind::Loop(l) => walk(&l.body, env, out),
                _ => {}
            }
        }
    }
    walk(&program.items, env, &mut out);
    out
}

/// The family key of a stored member (`L_{3}` → `L`).
fn family(member: &str) -> &str {
    member.split_once("_{").map_or(member, |(k, _)| k)
}

fn patterns_for<'t>(
    targets: &'t Targets,
    member: &str,
    grad: bool,
) -> Option<&'t BTreeSet<Pattern>> {
    targets
        .patterns
        .get(&(family(member).to_string(), grad))
        .or_else(|| targets.patterns.get(&(member.to_string(), grad)))
}

/// The statistics one trial gives of the members the claims ask about.
fn stats_of(run: &TrialRun, targets: &Targets) -> TrialStats {
    let mut out = TrialStats::new();
    for key in run.keys() {
        let Some(pats) = patterns_for(targets, &key.0, key.1) else {
            continue;
        };
        for fixed in pats {
            if let Some(m) = run.moments(&key, fixed) {
                out.insert((key.0.clone(), key.1, fixed.clone()), m);
            }
        }
    }
    out
}

/// The members a run wrote, as empty maps (what [`means`] asks of the first machine).
fn keys_only<'a>(base: &Machine<'a>, keys: impl Iterator<Item = (String, bool)>) -> Machine<'a> {
    let mut m = base.clone();
    m.vals = keys.map(|k| (k, HashMap::new())).collect();
    m
}

/// What the trials of a file are run from.
pub struct Ctx<'p, 'a> {
    pub program: &'p Program,
    pub env: &'a Env,
    pub back: &'p [Item],
    pub loss: Option<&'p str>,
    pub seed: u64,
    pub targets: &'p Targets,
    /// The former fixed-budget rule instead of the sequential test: every trial the
    /// budget allows, one look at the whole α with the normal threshold (kept to measure
    /// the sequential test against it: tests/sequential.rs).
    pub fixed_budget: bool,
}

impl<'a> Trials<'a> {
    /// The first trial of a setting, which learns what a trial costs and so how many the
    /// budget allows: [`BUDGET`] element evaluations element-wise, [`DENSE_BUDGET`]
    /// operations dense, and the setting's equal share of [`FILE_BUDGET`] (in element
    /// evaluations; one is [`OPS_PER_EVALUATION`] operations); `budget` is charged with
    /// the trials run. Trials run on the dense executor when the program lowers (if a trial
    /// does not, they all run again on the interpreter).
    fn start(
        ctx: &Ctx<'_, 'a>,
        sets: Vec<(String, Expr)>,
        boundary: Option<ast::Boundary>,
        needed: Option<Needed>,
        executor: Executor,
        budget: &mut u64,
    ) -> Result<Trials<'a>, String> {
        let setup = |m: &mut Machine| apply_givens(m, ctx.env, &sets, boundary);
        let mut model = TrialModel::new(
            ctx.program,
            ctx.env,
            ctx.back,
            ctx.loss,
            &setup,
            needed.as_ref(),
            executor,
            ctx.seed,
            Domain::MonteCarlo,
        )
        .map_err(|e| format!("the model cannot be run: {}", e.message()))?;
        let settings = ctx.targets.settings.len();
        let (run, max, cost) = loop {
            let run = match model.run(0) {
                Ok(r) => r,
                // A dense trial that does not lower: all of them on the interpreter.
                Err(TrialError::Unsupported(_)) if model.fall_back() => continue,
                Err(TrialError::Failed(e)) => {
                    return Err(format!("the model cannot be run: {}", e.message))
                }
                Err(e) => return Err(e.message().to_string()),
            };
            let (max, cost) = if model.is_dense() {
                let ops = run.work().max(1);
                // The file's budget is shared equally by its settings (so the first ones
                // do not starve the others), and never more than what is left.
                let share = FILE_BUDGET.saturating_mul(OPS_PER_EVALUATION) / settings.max(1) as u64;
                // (Not what the file has left: a setting's budget, and so its verdicts,
                // must not depend on the claims decided before it, which the verdict
                // cache may have read instead of running; the shares add up to the
                // file's budget.)
                let allowed = DENSE_BUDGET.min(share);
                let n = ((allowed / ops) as usize).min(DENSE_MAX_TRIALS);
                if n < MIN_TRIALS {
                    *budget = budget.saturating_sub(ops / OPS_PER_EVALUATION);
                    return Err(format!(
                        "one trial needs {ops} operations on the dense executor; {MIN_TRIALS} trials exceed the Monte Carlo budget ({allowed} of {DENSE_BUDGET} operations per setting, {} per file shared by its {settings} settings; use smaller sizes)",
                        FILE_BUDGET.saturating_mul(OPS_PER_EVALUATION)
                    ));
                }
                (n, (ops / OPS_PER_EVALUATION).max(1))
            } else {
                let steps = run.work().max(1);
                let allowed = BUDGET.min(FILE_BUDGET / settings.max(1) as u64);
                let n = ((allowed / steps) as usize).min(MAX_TRIALS);
                if n < MIN_TRIALS {
                    *budget = budget.saturating_sub(steps);
                    return Err(format!(
                        "one trial needs {steps} element evaluations; {MIN_TRIALS} trials exceed the Monte Carlo budget ({allowed} of {BUDGET} per setting, {FILE_BUDGET} per file shared by its {settings} settings; use smaller sizes)"
                    ));
                }
                (n, steps)
            };
            break (run, max, cost);
        };
        *budget = budget.saturating_sub(cost);
        let first = keys_only(run.machine(), run.keys().into_iter());
        let stats = vec![stats_of(&run, ctx.targets)];
        Ok(Trials {
            first,
            stats,
            max,
            cost,
            dense: model.is_dense(),
            sets,
            boundary,
            needed,
            memo: Default::default(),
        })
    }

    /// Runs trials up to `to` (at most [`Self::max`]); each is seeded from its number,
    /// so the results are the same whatever the number of cores and whichever claim asked
    /// first. The dense ones run on every core.
    fn extend(&mut self, ctx: &Ctx<'_, 'a>, to: usize, budget: &mut u64) -> Result<(), String> {
        let to = to.min(self.max);
        if self.stats.len() >= to {
            return Ok(());
        }
        let (sets, boundary) = (&self.sets, self.boundary);
        let setup = |m: &mut Machine| apply_givens(m, ctx.env, sets, boundary);
        let executor = if self.dense {
            Executor::Dense
        } else {
            Executor::Interpreter
        };
        let model = TrialModel::new(
            ctx.program,
            ctx.env,
            ctx.back,
            ctx.loss,
            &setup,
            self.needed.as_ref(),
            executor,
            ctx.seed,
            Domain::MonteCarlo,
        )
        .map_err(|e| format!("the model cannot be run: {}", e.message()))?;
        let from = self.stats.len();
        let mut fresh = Vec::with_capacity(to - from);
        let mut unsupported = false;
        for r in model.run_all(from..to, cores(), |_, run| stats_of(&run, ctx.targets)) {
            match r {
                Ok(s) => fresh.push(s),
                Err(TrialError::Unsupported(_)) => unsupported = true,
                Err(TrialError::Failed(e)) => {
                    return Err(format!("the model cannot be run: {}", e.message))
                }
                Err(e) => return Err(e.message().to_string()),
            }
        }
        *budget = budget.saturating_sub(self.cost.saturating_mul((to - from) as u64));
        if unsupported {
            // A dense trial that does not lower: every trial again on the interpreter
            // (never a mixture of the two).
            let mut again = Trials::start(
                ctx,
                self.sets.clone(),
                self.boundary,
                self.needed.clone(),
                Executor::Interpreter,
                budget,
            )?;
            again.extend(ctx, to, budget)?;
            *self = again;
            return Ok(());
        }
        self.stats.extend(fresh);
        Ok(())
    }
}

/// The numbers of trials at which a claim is tested: [`MIN_TRIALS`], then doubling, up to
/// `max` (the last look). Fixed before any trial is seen, as the spending rule requires.
pub fn looks(max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut n = MIN_TRIALS.min(max);
    loop {
        out.push(n);
        if n >= max {
            return out;
        }
        n = (2 * n).min(max);
    }
}

/// The false-refutation probability spent at look `k` (from 0) of `count`: half of it at
/// the last look, a quarter at the one before, and so on, α 2^(k − count); the looks
/// together spend less than α = [`FALSE_REFUTATION`].
pub fn spent_at(k: usize, count: usize) -> f64 {
    FALSE_REFUTATION * 0.5f64.powi((count - k) as i32)
}

/// Whether the tensors of a claim depend on a leaf (or incoming gradient) whose
/// distribution is given only by moments or symmetry (sampled as a normal stand-in).
fn depends_on_stand_in(program: &Program, env: &Env, back: &[Item], targets: &Needed) -> bool {
    let mut stand_ins: Needed = BTreeSet::new();
    for item in &program.items {
        if let ItemKind::Decl(d) = &item.kind {
            if let Some(ast::Init::Dist(c)) = &d.init {
                if matches!(c.func.name.as_str(), "moments" | "symmetric") {
                    stand_ins.insert((env.key_of(&d.target.name), d.kind == ast::DeclKind::Grad));
                }
            }
        }
    }
    if stand_ins.is_empty() {
        return false;
    }
    let (fwd, bwd) = prune(&program.items, back, env, targets);
    let mut live: Needed = targets.clone();
    fn reads(items: &[Item], env: &Env, out: &mut Needed) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(e) => {
                    out.insert((env.key_of(&e.lhs.name), e.lhs.grad));
                    crate::check::walk_refs(&e.rhs, &mut |r| {
                        out.insert((env.key_of(&r.name), r.grad));
                    });
                }
                ItemKind::Loop(l) => reads(&l.body, env, out),
                ItemKind::ForIndices(f) => reads(&f.body, env, out),
                _ => {}
            }
        }
    }
    reads(&fwd, env, &mut live);
    reads(&bwd, env, &mut live);
    live.iter().any(|k| stand_ins.contains(k))
}

/// The values a claim's givens set (`X == 8`, `sigma_W^2 == ...` as sigma_W), numbers
/// first, then those computed from them; an error for a given that sets nothing.
pub fn given_values(claim: &Claim) -> Result<Vec<(String, Expr)>, String> {
    let mut sets: Vec<(String, Expr)> = Vec::new();
    for g in &claim.given {
        // A condition (`c > 0`, a derived size's `Y - 0 <= X/2`) sets nothing: the run's
        // values are checked against it ([`unmet_condition`]).
        if matches!(g, ast::Expr::Rel(op, ..) if *op != RelOp::Eq && *op != RelOp::Approx) {
            continue;
        }
        let ast::Expr::Rel(RelOp::Eq, gl, gr, _) = g else {
            return Err(format!(
                "the given `{}` is not a value to set",
                print_expr(g)
            ));
        };
        let (Ok(a), Ok(b)) = (
            scalar::lower(gl, &Scope::default()),
            scalar::lower(gr, &Scope::default()),
        ) else {
            return Err(format!("the given `{}` cannot be read", print_expr(g)));
        };
        match &a {
            Expr::Sym(n) => sets.push((n.clone(), b)),
            Expr::Pow(base, e) if matches!(**base, Expr::Sym(_)) && e.as_int().is_some() => {
                let Expr::Sym(n) = &**base else { continue };
                sets.push((
                    n.clone(),
                    Expr::pow(b, Expr::pow((**e).clone(), Expr::int(-1))),
                ));
            }
            _ => {
                return Err(format!(
                    "the given `{}` is not a value to set",
                    print_expr(g)
                ))
            }
        }
    }
    // The constants the claim sees: the sample line changed by the givens (in order).
    sets.sort_by_key(|(_, v)| !v.free_symbols().is_empty());
    Ok(sets)
}

/// The first of a claim's conditions (`c > 0`, `Y - 0 <= X/2`: a given that relates
/// instead of setting) that the run's values `consts` do not satisfy, or that cannot be
/// evaluated there (it reads a tensor, a loop variable): the reason the run does not test
/// the claim. `None` when every condition holds at the run's values (in floating point,
/// with a relative slack of 1e-12 against rounding: the values are the run's, not exact).
pub fn unmet_condition(claim: &Claim, consts: &BTreeMap<String, f64>) -> Option<String> {
    for g in &claim.given {
        let ast::Expr::Rel(op, gl, gr, _) = g else {
            continue;
        };
        if matches!(op, RelOp::Eq | RelOp::Approx) {
            continue;
        }
        let val = |e: &ast::Expr| {
            scalar::lower(e, &Scope::default())
                .ok()
                .and_then(|x| x.eval_f64(consts).ok())
        };
        let (Some(a), Some(b)) = (val(gl), val(gr)) else {
            return Some(format!(
                "the given `{}` cannot be evaluated at the run's sizes and symbols",
                print_expr(g)
            ));
        };
        let slack = 1e-12 * a.abs().max(b.abs());
        let holds = match op {
            RelOp::Le => a <= b + slack,
            RelOp::Lt => a < b - slack,
            RelOp::Ge => a + slack >= b,
            RelOp::Gt => a > b + slack,
            _ => true,
        };
        if !holds {
            return Some(format!(
                "the run's sizes and symbols do not satisfy the given `{}` ({a} against {b})",
                print_expr(g)
            ));
        }
    }
    None
}

/// Sets a machine's constants and boundary rule from a claim's givens.
pub fn apply_givens(
    m: &mut Machine,
    env: &Env,
    sets: &[(String, Expr)],
    boundary: Option<ast::Boundary>,
) -> Result<(), NumError> {
    for (n, v) in sets {
        let at: BTreeMap<String, f64> = m.consts.clone().into_iter().collect();
        let x = v.eval_f64(&at).map_err(|e| NumError { message: e })?;
        if env.sizes.contains_key(n) {
            let max = crate::check::MAX_SAMPLE_SIZE;
            let why = if !x.is_finite() || x.abs() > max as f64 || x < 1.0 && x.fract() == 0.0 {
                Some(format!(
                    "is out of range: sizes for numeric runs are whole numbers from 1 to {max}"
                ))
            } else if x.fract() != 0.0 {
                Some("is not a whole number".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                return Err(NumError {
                    message: format!("size {n} = {x} {why}"),
                });
            }
        }
        m.consts.insert(n.clone(), x);
    }
    if let Some(bd) = boundary {
        m.boundary = Some(bd);
    }
    Ok(())
}

/// Left, right and the standard error of left − right over the trials `range` (the
/// delta method, as in [`decide`]).
fn estimate(
    lhs: &Expr,
    rhs: &Expr,
    moments: &[Moment],
    cols: &[Vec<(f64, f64)>],
    at: &BTreeMap<String, f64>,
    range: std::ops::Range<usize>,
) -> Option<(f64, f64, f64)> {
    let n = range.len() as f64;
    let nm = moments.len();
    let mean1: Vec<f64> = cols
        .iter()
        .map(|c| c[range.clone()].iter().map(|x| x.0).sum::<f64>() / n)
        .collect();
    let mean2: Vec<f64> = cols
        .iter()
        .map(|c| c[range.clone()].iter().map(|x| x.1).sum::<f64>() / n)
        .collect();
    let mut at = at.clone();
    for j in 0..nm {
        let v = if moments[j].var {
            mean2[j] - mean1[j] * mean1[j]
        } else {
            mean1[j]
        };
        at.insert(format!("mc_{j}"), v);
    }
    let (lv, rv) = (lhs.eval_f64(&at).ok()?, rhs.eval_f64(&at).ok()?);
    let f = lhs.clone() - rhs.clone();
    let grads: Vec<f64> = (0..nm)
        .map(|j| f.diff(&format!("mc_{j}")).eval_f64(&at).unwrap_or(f64::NAN))
        .collect();
    let lin: Vec<f64> = range
        .map(|t| {
            (0..nm)
                .map(|j| {
                    let (m1, m2) = cols[j][t];
                    grads[j]
                        * if moments[j].var {
                            m2 - 2.0 * mean1[j] * m1
                        } else {
                            m1
                        }
                })
                .sum()
        })
        .collect();
    let lm = lin.iter().sum::<f64>() / n;
    let sd = (lin.iter().map(|x| (x - lm) * (x - lm)).sum::<f64>() / (n - 1.0)).sqrt();
    Some((lv, rv, sd / n.sqrt()))
}

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
pub fn decide<'a>(
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
            return (!moments.is_empty() || e.contains("Var") || e.contains('E')).then(|| und(e))
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
    let sets = match given_values(claim) {
        Ok(s) => s,
        Err(e) => return Some(und(e)),
    };
    let boundary = claim.boundary;
    let rel = *op;
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
    let used: Vec<ast::Range> = super::program_loops(&program.items)
        .into_iter()
        .filter(|r| super::mentions(&claim.text, &r.var.name))
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
    // Trials, shared by the claims with the same setting.
    let key = setting_key(claim);
    let needed = ctx.targets.settings.get(&key).cloned();
    let trials = match cache
        .entry(key)
        .or_insert_with(|| Trials::start(ctx, sets, boundary, needed, Executor::Auto, budget))
    {
        Ok(t) => t,
        Err(e) => return Some(und(e.clone())),
    };
    let mut m0 = trials.first.clone();
    let run_consts: BTreeMap<String, f64> = m0.consts.clone().into_iter().collect();
    if let Some(why) = unmet_condition(claim, &run_consts) {
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
        let (lo, hi) = (lo.round() as i64, hi.round() as i64);
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
        let (tested, weak, worst) = match claim_test.look(
            &mut m0,
            &trials.stats[..n],
            &trials.memo,
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
            } => (tested, weak, worst),
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
        if let Some(enough) = need.stop_at().filter(|r| worst <= *r) {
            return Some(und(format!(
                "{} run (the moments engine decided this claim, so Monte Carlo stops once it would refute an error of {:.0}%): not refuted by {n} trials, not precise enough to confirm: {}",
                if need == Need::Sanity { "sanity" } else { "re-check" },
                enough * 200.0,
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
}

impl ClaimTest<'_> {
    /// The test on the trials `stats` (a prefix of the setting's) at threshold `z`.
    fn look(
        &self,
        m0: &mut Machine,
        stats: &[TrialStats],
        memo: &MeansMemo,
        bindings: &[Bind],
        (z, z_confirm): (f64, f64),
        look_text: &str,
    ) -> Look {
        let (lhs, rhs, moments, rel, tol) = (self.lhs, self.rhs, self.moments, self.rel, self.tol);
        let n_tr = stats.len();
        let mut tested = Vec::new();
        let mut weak = Vec::new();
        let mut worst: f64 = 0.0;
        for b in bindings.iter() {
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
            let rounding = 1e-9 * lv.abs().max(rv.abs());
            let fails = match rel {
                RelOp::Eq => d.abs() > margin + rounding,
                RelOp::Approx => d.abs() > tol + margin + rounding,
                RelOp::Le | RelOp::Lt => d > margin + rounding,
                RelOp::Ge | RelOp::Gt => d < -(margin + rounding),
            };
            let at_text: Vec<String> = b.iter().map(|(v, x)| format!("{v} = {x}")).collect();
            let where_ = if at_text.is_empty() {
                String::new()
            } else {
                format!("at {}: ", at_text.join(", "))
            };
            let line = format!("{where_}left {lv:.4}, right {rv:.4}, standard error {se:.2e}");
            let scale = lv.abs().max(rv.abs()).max(1e-12);
            worst = worst.max(margin / scale);
            if fails {
                // The independent re-check: each half of the trials on its own must
                // refute too (at the same z, with its own standard error).
                let half = n_tr / 2;
                let halves = [0..half, half..n_tr];
                let mut seen = Vec::new();
                for h in halves {
                    let Some((hl, hr, hse)) = estimate(lhs, rhs, moments, &cols, &at, h) else {
                        break;
                    };
                    let hd = hl - hr;
                    let m = z * hse + 1e-9 * hl.abs().max(hr.abs());
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
                let values: BTreeMap<String, f64> = self
                    .consts
                    .iter()
                    .filter(|(k, _)| {
                        self.env.sizes.contains_key(*k) || self.env.symbols.contains_key(*k)
                    })
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
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
            let margin = z_confirm * se;
            let decisive = match rel {
                RelOp::Le | RelOp::Lt => d + margin <= 0.0 || margin <= RESOLUTION * scale,
                RelOp::Ge | RelOp::Gt => d - margin >= 0.0 || margin <= RESOLUTION * scale,
                // An explicit tolerance is the resolution asked for: the whole interval
                // must lie within it. Resolving 5% is not enough: `Var(L_L) ~= 2 tol
                // 0.01` at a true 1.955 must not be confirmed by an interval of ±0.04
                // around 1.96.
                RelOp::Approx if self.explicit_tol => d.abs() + margin <= tol,
                RelOp::Approx => margin <= (RESOLUTION * scale).max(tol),
                RelOp::Eq => margin <= RESOLUTION * scale,
            };
            if !decisive {
                weak.push(if matches!(rel, RelOp::Approx) && self.explicit_tol {
                    format!(
                        "{line} (|left − right| + z × standard error = {:.3}, more than the tolerance {tol})",
                        d.abs() + margin
                    )
                } else {
                    format!(
                        "{line} (z × standard error = {margin:.3}, more than 5% of the values)"
                    )
                });
            }
            tested.push(line);
        }
        Look::Open {
            tested,
            weak,
            worst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I_x(2, 3) = P(Binomial(4, x) >= 2), on both sides of the continued fraction's
    /// switch at x = 3/7; I_x(1, 1) = x.
    #[test]
    fn incomplete_beta_matches_binomial_tails() {
        for (x, want) in [
            (0.3, 1.0 - 0.7f64.powi(4) - 4.0 * 0.3 * 0.7f64.powi(3)),
            (0.5, 11.0 / 16.0),
        ] {
            assert!((beta_inc(2.0, 3.0, x) - want).abs() < 1e-12, "{x}");
        }
        assert!((beta_inc(1.0, 1.0, 0.25) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn student_t_quantiles_match_the_tables() {
        // Two-sided quantiles from the t table, and the normal limit.
        for (p, df, t) in [
            (0.05, 10.0, 2.228),
            (0.01, 39.0, 2.708),
            (0.001, 5.0, 6.869),
            (0.05, 1.0, 12.706),
        ] {
            assert!(
                (t_for(p, df) - t).abs() < 2e-3,
                "t({p}, {df}) = {}",
                t_for(p, df)
            );
        }
        assert!((t_for(1e-6, 1e9) - z_for(1e-6)).abs() < 1e-3);
        assert!((t_for(1e-6, 39_999.0) - 4.892).abs() < 0.01);
        // A small sample needs a larger threshold than the normal one.
        assert!(t_for(1e-9, 39.0) > z_for(1e-9) + 1.0);
    }

    #[test]
    fn looks_double_to_the_budget_and_spend_less_than_alpha() {
        assert_eq!(looks(40), vec![40]);
        assert_eq!(looks(100), vec![40, 80, 100]);
        assert_eq!(looks(400), vec![40, 80, 160, 320, 400]);
        let l = looks(DENSE_MAX_TRIALS);
        assert_eq!(*l.last().unwrap(), DENSE_MAX_TRIALS);
        assert_eq!(l.len(), 11);
        let spent: f64 = (0..l.len()).map(|k| spent_at(k, l.len())).sum();
        assert!(spent < FALSE_REFUTATION);
        assert_eq!(spent_at(l.len() - 1, l.len()), FALSE_REFUTATION / 2.0);
    }
}
