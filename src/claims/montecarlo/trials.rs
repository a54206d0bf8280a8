//! The trials of one setting (sizes, symbols, boundary rule): run in rounds on the dense
//! executor or the interpreter, their per-trial statistics and the looks of the
//! sequential test.

use super::extract::{extract, pattern_of, Pattern};
use super::givens::apply_givens;
pub(super) use super::targets::{classes_for, patterns_for, setting_key};
pub use super::targets::{moment_keys, Targets};
use super::{
    BUDGET, DENSE_BUDGET, DENSE_MAX_TRIALS, FALSE_REFUTATION, FILE_BUDGET, MAX_TRIALS, MIN_TRIALS,
    OPS_PER_EVALUATION,
};
use crate::check::Env;
use crate::num::dense::{prune, Needed};
use crate::num::seed::Domain;
use crate::num::trials::{cores, Executor, TrialError, TrialModel, TrialRun};
use crate::num::{Bind, Machine};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Claim, Item, ItemKind, Program, Ref};
use std::collections::{BTreeSet, HashMap};

/// The key of a statistic of a trial: member (or `member#slice`, `member#band`),
/// gradient or not, pattern.
pub(super) type StatKey = (String, bool, Pattern);

/// The keys of a trial's statistics in the order they were computed, and where each is
/// (the last of equal keys, as a map filled in that order keeps): one copy shared by
/// every trial of a setting whose keys are the same.
pub(super) struct StatKeys {
    keys: Vec<StatKey>,
    index: crate::num::FastMap<StatKey, usize>,
}

/// The trials' shared [`StatKeys`]: the last ones built.
pub(super) type KeysMemo = std::sync::Mutex<Option<std::sync::Arc<StatKeys>>>;

/// One trial's statistics: count, sum and sum of squares of the selected elements, per
/// (member, gradient or not, pattern). The values are the trial's own and the keys are
/// shared ([`StatKeys`]): a map of its own per trial (hundreds of slices and bands per
/// member in each of the first `SLICE_TRIALS` trials) was 270 MB and a third of
/// problems/resnet.tq's time, in building, page faults and dropping.
pub(super) struct TrialStats {
    keys: std::sync::Arc<StatKeys>,
    vals: Vec<(usize, f64, f64)>,
}

impl TrialStats {
    /// The statistic of `key`, if the trial has it.
    pub(super) fn get(&self, key: &StatKey) -> Option<&(usize, f64, f64)> {
        self.keys.index.get(key).map(|&i| &self.vals[i])
    }

    /// Every key the trial has (each once, in no particular order).
    pub(super) fn keys(&self) -> impl Iterator<Item = &StatKey> {
        self.keys.index.keys()
    }

    /// The statistics of `entries` (in the order computed), with the keys of `memo` when
    /// they are the same.
    fn new(entries: Vec<(StatKey, (usize, f64, f64))>, memo: &KeysMemo) -> TrialStats {
        let (keys, vals): (Vec<StatKey>, Vec<_>) = entries.into_iter().unzip();
        let last = memo.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let keys = match last {
            Some(k) if k.keys == keys => k,
            _ => {
                let mut index =
                    crate::num::FastMap::with_capacity_and_hasher(keys.len(), Default::default());
                for (i, k) in keys.iter().enumerate() {
                    index.insert(k.clone(), i);
                }
                let k = std::sync::Arc::new(StatKeys { keys, index });
                *memo.lock().unwrap_or_else(|e| e.into_inner()) = Some(k.clone());
                k
            }
        };
        TrialStats { keys, vals }
    }
}

/// The trial means already read, per tensor (member, gradient or not, pattern), for the
/// trials of one setting: the trials only grow, so a prefix read once is read again from
/// here (`None` for a trial that lacks the tensor). Without it every claim re-read every
/// trial at every look (500 claims `Var(y) ~= 2 I` on 40,000 trials took 9 s).
pub(super) type MeansMemo =
    std::cell::RefCell<HashMap<(String, bool, Pattern), Vec<Option<(f64, f64)>>>>;

/// Trial means of x and x² over the elements of a moment's tensor (fixed indices fixed,
/// free indices pooled), for every trial.
pub(super) fn means(
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
    pub(super) first: Machine<'a>,
    pub(super) stats: Vec<TrialStats>,
    /// The most trials the setting's budget allows.
    pub(super) max: usize,
    /// The work of one trial, in element evaluations of the file's budget.
    pub(super) cost: u64,
    /// How many trials (the first ones) record the slices and bands of the pools
    /// ([`SLICE_TRIALS`] at most, fewer when recording them would exceed
    /// [`STATS_SLICE_READS`] or the setting's share of [`STATS_FILE_ENTRIES`]).
    pub(super) slice_trials: usize,
    /// Whether the trials run on the dense executor.
    pub(super) dense: bool,
    pub(super) sets: Vec<(String, Expr)>,
    pub(super) boundary: Option<ast::Boundary>,
    /// What the trials compute, and what their count is set by ([`Pruning`]).
    pub(super) pruning: Pruning,
    /// The means of the trials read so far ([`MeansMemo`]).
    pub(super) memo: MeansMemo,
    /// The comparisons of pooled elements made so far, and the statistics they read
    /// (`pool::PoolMemo`).
    pub(super) pools: super::pool::PoolMemo,
    /// The keys of the trials' statistics, shared ([`TrialStats`]).
    pub(super) keys: KeysMemo,
}

/// The tensors a setting's trials compute (the statements are pruned to those they
/// depend on, [`prune`]), and the tensors whose statements set the trials' count
/// (`basis`: the budget counts the operations of a trial of those statements).
///
/// For a setting some claim of the file has ([`moment_keys`]), both are its claims'
/// tensors. For a claim decided under a setting no claim of the file has (its givens
/// resolved or rewritten before Monte Carlo: the other points of a confirmation, a
/// witness re-checked at its point, sizes set from other givens), `basis` is `None`, the
/// whole program, as the trials' count always was, and `run` is what that claim reads:
/// its trials draw every sampled value as before and compute the same values of its
/// tensors, in as many trials, without the statements it does not read. (The trials'
/// largest value, the scale of the rounding a confirmation's margin adds, is then taken
/// over the statements it reads, as in every pruned setting.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pruning {
    pub basis: Option<Needed>,
    pub run: Option<Needed>,
}

impl Pruning {
    /// The pruning of a claim that reads `reads` under the setting `key`, and the name of
    /// the trials it shares: those of the setting, or (for a setting no claim of the file
    /// has) those of the claims under `key` that read the same tensors.
    pub(super) fn of(targets: &Targets, key: &str, reads: &Needed) -> (Pruning, String) {
        match targets.settings.get(key) {
            // The setting's tensors and this claim's own (probe32/a w30h).
            Some(n) => {
                let mut n = n.clone();
                n.extend(reads.iter().cloned());
                (
                    Pruning {
                        basis: Some(n.clone()),
                        run: Some(n),
                    },
                    key.to_string(),
                )
            }
            None => (
                Pruning {
                    basis: None,
                    run: Some(reads.clone()),
                },
                format!("{key} reading {reads:?}"),
            ),
        }
    }
}

/// The key under which a trial's statistics keep the largest |value| the run wrote
/// ([`TrialRun::magnitude`]): `(1, M, M²)`. No member is named with `#`.
pub(super) fn magnitude_key() -> (String, bool, Pattern) {
    ("#magnitude".to_string(), false, Pattern::new())
}

/// How many trials (the first ones) also record the slices of the pooled elements
/// ([`slice_key`]), and at most how many slices a pattern records (beyond, none).
pub(super) const SLICE_TRIALS: usize = 1280;
pub(super) const MAX_SLICES: usize = 512;

/// The key of the statistics of one slice of a member's pooled elements: the pattern
/// with one more dimension fixed (`member#slice`). No member is named with `#`.
pub(super) fn slice_key(member: &str, grad: bool, pattern: Pattern) -> (String, bool, Pattern) {
    (format!("{member}#slice"), grad, pattern)
}

/// At most this many position classes a pattern records (beyond, none: the claim is
/// then decided as before, by the pool alone).
pub(super) const MAX_CLASSES: usize = 64;

/// The key that marks a gradient pattern the backward program wrote at none of its
/// positions in a trial (where the tensor has elements): its value there is 0 whatever
/// the leaves' values, a structural zero, not a frozen estimate of a random quantity
/// (mc34 item 2: x.grad[b,4] of pairs pooled from X = 5). No member is named with `#`.
pub(super) fn unwritten_key(member: &str, pattern: Pattern) -> (String, bool, Pattern) {
    (format!("{member}#unwritten"), true, pattern)
}

/// The key of the statistics of one position class of a member's pooled elements: the
/// pattern with the class's dimensions fixed at its positions (`member#class`). No
/// member is named with `#`.
pub(super) fn class_key(member: &str, grad: bool, pattern: Pattern) -> (String, bool, Pattern) {
    (format!("{member}#class"), grad, pattern)
}

/// The key of the statistics of one band of a member's pooled elements: the elements of
/// pattern `pattern` whose positions along dimensions `a` and `b` differ by `d`
/// (`member#band`, the pattern `[a, b, d, pattern...]`). No member is named with `#`.
pub(super) fn band_key(
    member: &str,
    grad: bool,
    (a, b, d): (usize, usize, i64),
    pattern: &[Option<i64>],
) -> (String, bool, Pattern) {
    (
        format!("{member}#band"),
        grad,
        band_pattern((a, b, d), pattern),
    )
}

/// The pattern of a band's key ([`band_key`]): `[a, b, d, pattern...]`.
fn band_pattern((a, b, d): (usize, usize, i64), pattern: &[Option<i64>]) -> Pattern {
    let mut p: Pattern = Vec::with_capacity(3 + pattern.len());
    p.extend([Some(a as i64), Some(b as i64), Some(d)]);
    p.extend_from_slice(pattern);
    p
}

/// What recording one trial's statistics costs: the elements read and the map entries
/// kept, for every trial (`plain`: the pools) and for the first trials only (`slices`:
/// the slices and bands beside the pools, [`SLICE_TRIALS`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StatsCost {
    pub plain_reads: u64,
    pub plain_entries: u64,
    pub slice_reads: u64,
    pub slice_entries: u64,
}

/// The statistics one trial (number `t`) gives of the members the claims ask about; the
/// slices and bands only while `t < slice_trials`.
fn stats_of(
    t: usize,
    run: &TrialRun,
    targets: &Targets,
    slice_trials: usize,
    memo: &KeysMemo,
) -> TrialStats {
    stats_costed(t, run, targets, slice_trials, memo).0
}

/// [`stats_of`] with what it cost ([`StatsCost`]).
fn stats_costed(
    t: usize,
    run: &TrialRun,
    targets: &Targets,
    slice_trials: usize,
    memo: &KeysMemo,
) -> (TrialStats, StatsCost) {
    // The entries are gathered first, then their keys shared with the other trials'
    // ([`TrialStats`]). The slice and band names are built once per member, not once
    // per entry.
    let mut entries: Vec<(StatKey, (usize, f64, f64))> = Vec::new();
    let mut cost = StatsCost::default();
    let m = run.magnitude();
    entries.push((magnitude_key(), (1, m, m * m)));
    for key in run.key_refs() {
        let Some(pats) = patterns_for(targets, &key.0, key.1) else {
            continue;
        };
        let (slice_name, band_name) = if t < slice_trials {
            (
                slice_key(&key.0, key.1, Pattern::new()).0,
                band_key(&key.0, key.1, (0, 0, 0), &[]).0,
            )
        } else {
            (String::new(), String::new())
        };
        let elements = run.elements(key) as u64;
        cost.plain_reads += elements;
        let classes = classes_for(targets, &key.0, key.1);
        for fixed in pats {
            cost.plain_reads += elements;
            if let Some(m) = run.moments(key, fixed) {
                entries.push(((key.0.clone(), key.1, fixed.clone()), m));
                cost.plain_entries += 1;
            }
            // A gradient no statement writes at these positions: 0 by the program's
            // structure, marked so ([`unwritten_key`]).
            if run.unwritten_gradient(key, fixed).is_some() {
                entries.push((unwritten_key(&key.0, fixed.clone()), (1, 0.0, 0.0)));
            }
            // The position classes, on every trial (a class is compared with the claim
            // on its own: `decide::claim_test`).
            for dims in classes.and_then(|c| c.get(fixed)).into_iter().flatten() {
                let by_class = run.class_moments(key, fixed, dims, MAX_CLASSES);
                cost.plain_reads += elements;
                cost.plain_entries += by_class.len() as u64;
                let name = class_key(&key.0, key.1, Pattern::new()).0;
                for (at, m) in by_class {
                    let mut pat = fixed.clone();
                    for (&d, &p) in dims.iter().zip(&at) {
                        if pat.len() <= d {
                            pat.resize(d + 1, None);
                        }
                        pat[d] = Some(p);
                    }
                    entries.push(((name.clone(), key.1, pat), m));
                }
            }
            if t < slice_trials {
                let slices = run.slice_moments(key, fixed, MAX_SLICES);
                if slices.len() <= MAX_SLICES {
                    entries.reserve(slices.len());
                    if !slices.is_empty() {
                        cost.slice_reads += elements;
                    }
                    cost.slice_entries += slices.len() as u64;
                    for ((k, p), m) in slices {
                        let mut pat = fixed.clone();
                        if pat.len() <= k {
                            pat.resize(k + 1, None);
                        }
                        pat[k] = Some(p);
                        entries.push(((slice_name.clone(), key.1, pat), m));
                    }
                }
                let bands = run.band_moments(key, fixed, MAX_SLICES);
                if bands.len() <= MAX_SLICES {
                    entries.reserve(bands.len());
                    // Each element is read once per pair of free dimensions.
                    let pairs: BTreeSet<(usize, usize)> =
                        bands.keys().map(|&(a, b, _)| (a, b)).collect();
                    cost.slice_reads += elements * pairs.len() as u64;
                    cost.slice_entries += bands.len() as u64;
                    for (band, m) in bands {
                        entries.push(((band_name.clone(), key.1, band_pattern(band, fixed)), m));
                    }
                }
            }
        }
    }
    (TrialStats::new(entries, memo), cost)
}

/// The members a run wrote, as empty maps (what [`means`] asks of the first machine).
fn keys_only<'a>(base: &Machine<'a>, keys: impl Iterator<Item = (String, bool)>) -> Machine<'a> {
    let mut m = base.clone();
    m.vals = keys.map(|k| (k, Default::default())).collect();
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
    /// How many checks share the file's budgets (`tq variants`: its variants); each
    /// setting gets `1/shares` of its budget (at least 1).
    pub shares: u64,
    /// The element type of the dense trials' matrix products (`--precision`).
    pub precision: crate::num::dense::Precision,
    /// The settings (their [`setting_key`]s) whose trials the claims decided since it
    /// was last cleared read: what the verdict cache records of a claim's dependencies
    /// on the other claims of its setting ([`setting_needs`]).
    pub used: &'p std::cell::RefCell<BTreeSet<String>>,
}

/// What the trials of the setting `key` depend on beyond the claim that reads them: the
/// tensors the setting's claims mention, which prune the statements and so set the cost
/// of a trial and the trials' budget (text to compare; `None` for a setting no claim of
/// the file has: its trials run the whole program).
pub fn setting_needs(targets: &Targets, key: &str) -> String {
    format!("{:?}", targets.settings.get(key))
}

/// What a moment claim's Monte Carlo run depends on in the file's other claims, besides
/// its setting's tensors ([`setting_needs`]): the number of settings (each gets an equal
/// share of the file's operations and statistics) and the positions the claims select
/// of every tensor (recorded in each trial, whose statistics are counted against the
/// budget). `None` for a claim that mentions no moment (no trial is run for it).
pub fn budget_key(targets: &Targets, claim: &Claim) -> Option<String> {
    let mut ms = Vec::new();
    if let ast::Expr::Rel(_, l, r, _) = &claim.body {
        let _ = extract(l, &mut ms);
        let _ = extract(r, &mut ms);
    }
    if ms.is_empty() && !super::decide::calls_var_or_mean(&claim.body) {
        return None;
    }
    Some(format!(
        "{} settings {:?}",
        targets.settings.len(),
        targets.patterns
    ))
}

impl<'a> Trials<'a> {
    /// What the trials compute and what their count is set by.
    pub fn pruning(&self) -> &Pruning {
        &self.pruning
    }

    /// The most trials the setting's budget allows.
    pub fn max_trials(&self) -> usize {
        self.max
    }

    /// The first trial of a setting, which learns what a trial costs and so how many the
    /// budget allows: [`BUDGET`] element evaluations element-wise, [`DENSE_BUDGET`]
    /// operations dense, and the setting's equal share of [`FILE_BUDGET`] (in element
    /// evaluations; one is [`OPS_PER_EVALUATION`] operations); `budget` is charged with
    /// the trials run. Trials run on the dense executor when the program lowers (if a trial
    /// does not, they all run again on the interpreter). The first trial runs the
    /// statements of `pruning.basis` (its work sets the count), the later ones those of
    /// `pruning.run` ([`Pruning`]).
    pub(super) fn start(
        ctx: &Ctx<'_, 'a>,
        sets: Vec<(String, Expr)>,
        boundary: Option<ast::Boundary>,
        pruning: Pruning,
        executor: Executor,
        budget: &mut u64,
    ) -> Result<Trials<'a>, String> {
        let setup = |m: &mut Machine| apply_givens(m, ctx.program, ctx.env, &sets, boundary);
        let settings = ctx.targets.settings.len();
        // The dense operations the setting may spend ([`DENSE_BUDGET`], its equal share
        // of the file's), and so the most one trial may cost for [`MIN_TRIALS`] of them
        // to fit: the model is refused from its counts when sampling its leaves alone
        // costs more (before a leaf is enumerated), and the first trial is stopped as
        // soon as it passes that (it paid a whole trial only to learn that it is too
        // costly: 60 claims at large given sizes, 0.1 s each, 5.8 s to refuse them all,
        // probe 29b). The same settings are refused as when the whole trial ran: a trial
        // over this cap leaves fewer than MIN_TRIALS in the budget. Likewise on the
        // interpreter, in element evaluations.
        let dense_allowed = DENSE_BUDGET
            .min(FILE_BUDGET.saturating_mul(OPS_PER_EVALUATION) / settings.max(1) as u64)
            / ctx.shares.max(1);
        let dense_cap = dense_allowed / MIN_TRIALS as u64;
        let steps_allowed = BUDGET.min(FILE_BUDGET / settings.max(1) as u64) / ctx.shares.max(1);
        let steps_cap = steps_allowed / MIN_TRIALS as u64;
        let over_dense = |budget: &mut u64, how: &str| {
            *budget = budget.saturating_sub(dense_cap / OPS_PER_EVALUATION);
            format!(
                "one trial needs more than {dense_cap} operations on the dense executor ({how}); {MIN_TRIALS} trials exceed the Monte Carlo budget ({dense_allowed} of {DENSE_BUDGET} operations per setting, {} per file shared by its {settings} settings{}; use smaller sizes)",
                FILE_BUDGET.saturating_mul(OPS_PER_EVALUATION),
                shared_by(ctx.shares)
            )
        };
        let mut model = match TrialModel::new_within(
            ctx.program,
            ctx.env,
            ctx.back,
            ctx.loss,
            &setup,
            pruning.basis.as_ref(),
            executor,
            ctx.seed,
            Domain::MonteCarlo,
            dense_cap,
        ) {
            Ok(m) => m,
            Err(TrialError::Refused(e))
                if e.message
                    .contains(&format!("more than {dense_cap} operations")) =>
            {
                return Err(over_dense(
                    budget,
                    "counted from the sizes before any value was sampled",
                ));
            }
            Err(e) => return Err(format!("the model cannot be run: {}", e.message())),
        }
        .with_precision(ctx.precision);
        let (run, max, cost) = loop {
            let cap = if model.is_dense() {
                dense_cap
            } else {
                steps_cap
            };
            let run = match model.run_within(0, cap) {
                Ok(r) => r,
                Err(TrialError::Refused(e))
                    if model.is_dense()
                        && e.message
                            .contains(&format!("more than {dense_cap} operations")) =>
                {
                    return Err(over_dense(budget, "it was stopped there"));
                }
                Err(TrialError::Failed(e))
                    if !model.is_dense()
                        && e.message
                            .contains(&format!("more than {steps_cap} element evaluations")) =>
                {
                    *budget = budget.saturating_sub(steps_cap);
                    return Err(format!(
                        "one trial needs more than {steps_cap} element evaluations (it was stopped there); {MIN_TRIALS} trials exceed the Monte Carlo budget ({steps_allowed} of {BUDGET} per setting, {FILE_BUDGET} per file shared by its {settings} settings{}; use smaller sizes)",
                        shared_by(ctx.shares)
                    ));
                }
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
                // do not starve the others): `dense_allowed` above. (Not what the file
                // has left: a setting's budget, and so its verdicts, must not depend on
                // the claims decided before it, which the verdict cache may have read
                // instead of running; the shares add up to the file's budget.)
                let allowed = dense_allowed;
                let n = ((allowed / ops) as usize).min(DENSE_MAX_TRIALS);
                if n < MIN_TRIALS {
                    *budget = budget.saturating_sub(ops / OPS_PER_EVALUATION);
                    return Err(format!(
                        "one trial needs {ops} operations on the dense executor; {MIN_TRIALS} trials exceed the Monte Carlo budget ({allowed} of {DENSE_BUDGET} operations per setting, {} per file shared by its {settings} settings{}; use smaller sizes)",
                        FILE_BUDGET.saturating_mul(OPS_PER_EVALUATION),
                        shared_by(ctx.shares)
                    ));
                }
                (n, (ops / OPS_PER_EVALUATION).max(1))
            } else {
                let steps = run.work().max(1);
                let allowed = steps_allowed;
                let n = ((allowed / steps) as usize).min(MAX_TRIALS);
                if n < MIN_TRIALS {
                    *budget = budget.saturating_sub(steps);
                    return Err(format!(
                        "one trial needs {steps} element evaluations; {MIN_TRIALS} trials exceed the Monte Carlo budget ({allowed} of {BUDGET} per setting, {FILE_BUDGET} per file shared by its {settings} settings{}; use smaller sizes)",
                        shared_by(ctx.shares)
                    ));
                }
                (n, steps)
            };
            break (run, max, cost);
        };
        // The statistics each trial records are work and memory too, which the run's
        // own count above leaves out (a mutant of erratum e7 with X = Y = 60 spent twice
        // its trials' time reading the slices and bands of 60×60 pools, and one with
        // L = 100 held 660 MB of them): sized on the first trial, before any other runs.
        let keys = KeysMemo::default();
        let (stats0, sc) = stats_costed(0, &run, ctx.targets, SLICE_TRIALS, &keys);
        let (max, cost, slice_trials) =
            stats_bounds(max, cost, model.is_dense(), sc, settings, budget)?;
        *budget = budget.saturating_sub(cost);
        let first = keys_only(run.machine(), run.keys().into_iter());
        let stats = vec![stats0];
        Ok(Trials {
            first,
            stats,
            max,
            cost,
            slice_trials,
            dense: model.is_dense(),
            sets,
            boundary,
            pruning,
            memo: Default::default(),
            pools: Default::default(),
            keys,
        })
    }

    /// Runs trials up to `to` (at most [`Self::max`]); each is seeded from its number,
    /// so the results are the same whatever the number of cores and whichever claim asked
    /// first. The dense ones run on every core.
    pub(super) fn extend(
        &mut self,
        ctx: &Ctx<'_, 'a>,
        to: usize,
        budget: &mut u64,
    ) -> Result<(), String> {
        let to = to.min(self.max);
        if self.stats.len() >= to {
            return Ok(());
        }
        let (sets, boundary) = (&self.sets, self.boundary);
        let setup = |m: &mut Machine| apply_givens(m, ctx.program, ctx.env, sets, boundary);
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
            self.pruning.run.as_ref(),
            executor,
            ctx.seed,
            Domain::MonteCarlo,
        )
        .map_err(|e| format!("the model cannot be run: {}", e.message()))?
        .with_precision(ctx.precision);
        let from = self.stats.len();
        let slice_trials = self.slice_trials;
        let mut fresh = Vec::with_capacity(to - from);
        let mut unsupported = false;
        for r in model.run_all(from..to, cores(), |t, run| {
            stats_of(t, &run, ctx.targets, slice_trials, &self.keys)
        }) {
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
                self.pruning.clone(),
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

/// Element reads the slices and bands of one setting's trials may cost together (about
/// 2 ns each): the first trials record them while this lasts, [`HETERO_MIN`] at least.
pub(super) const STATS_SLICE_READS: u64 = 200_000_000;
/// Statistics (map entries, about 100 bytes each) all the trials of one file may keep,
/// shared equally by its settings: beyond its share, a setting records slices on fewer
/// trials and runs fewer trials.
pub(super) const STATS_FILE_ENTRIES: u64 = 2_500_000;
/// Operations of the dense executor one element read of the statistics costs.
const STATS_READ_OPS: u64 = 2;

/// The trials a setting may run (`max`), the cost of one (`cost`, in the file budget's
/// unit) and the trials that record slices, once the statistics' own work and memory
/// (`sc`, measured on the first trial) are counted: reading the pools costs a trial what
/// it reads beyond the run's own work (a pool is read once per element the run wrote,
/// so within it on every model whose statistics are not the bulk of its trials), the
/// slices and bands are recorded on as many of the first trials as
/// [`STATS_SLICE_READS`] and the memory allow, and the entries kept by all the trials
/// stay within the setting's share of [`STATS_FILE_ENTRIES`]. Fewer than
/// [`MIN_TRIALS`] trials: the setting is refused with the reason (its claims undecided).
fn stats_bounds(
    max: usize,
    cost: u64,
    dense: bool,
    sc: StatsCost,
    settings: usize,
    budget: &mut u64,
) -> Result<(usize, u64, usize), String> {
    use super::pool::HETERO_MIN;
    // The run's cost in operations (dense) or element evaluations (interpreter).
    let (run_ops, reads) = if dense {
        (
            cost.saturating_mul(OPS_PER_EVALUATION),
            sc.plain_reads.saturating_mul(STATS_READ_OPS),
        )
    } else {
        (
            cost,
            sc.plain_reads.saturating_mul(STATS_READ_OPS) / OPS_PER_EVALUATION,
        )
    };
    let (max, cost) = if reads > run_ops {
        let scale = (run_ops + (reads - run_ops)) as f64 / run_ops.max(1) as f64;
        (
            ((max as f64) / scale) as usize,
            ((cost as f64) * scale).ceil() as u64,
        )
    } else {
        (max, cost)
    };
    let share = STATS_FILE_ENTRIES / settings.max(1) as u64;
    let mut slice_trials = SLICE_TRIALS;
    if let Some(n) = STATS_SLICE_READS.checked_div(sc.slice_reads) {
        slice_trials = slice_trials.min(n as usize);
    }
    if let Some(n) = (share * 3 / 4).checked_div(sc.slice_entries) {
        slice_trials = slice_trials.min(n as usize);
    }
    let slice_trials = slice_trials.max(HETERO_MIN);
    // The first HETERO_MIN trials record their slices and bands whatever
    // STATS_SLICE_READS says (the pooled elements are compared from there on). Past it
    // those reads are the setting's own work, taken from its trials' budget before any
    // trial runs: a band is read once per element and pair of free dimensions, so three
    // rank-16 tensors of 2^16 elements read 31,000,000 elements a trial, 5·10^9 over
    // 160 trials, ten times a whole setting's budget (9 s of CPU, uncounted).
    let forced = sc.slice_reads.saturating_mul(slice_trials as u64);
    let (max, cost) = if forced > STATS_SLICE_READS {
        let excess = (forced - STATS_SLICE_READS).saturating_mul(STATS_READ_OPS);
        // In the run's unit: operations (dense) or element evaluations.
        let (excess, per_trial) = if dense {
            (excess, cost.saturating_mul(OPS_PER_EVALUATION).max(1))
        } else {
            (excess / OPS_PER_EVALUATION, cost.max(1))
        };
        let allowed = per_trial.saturating_mul(max as u64);
        let left = allowed.saturating_sub(excess);
        let n = (left / per_trial) as usize;
        if n < MIN_TRIALS {
            *budget = budget.saturating_sub(cost);
            return Err(format!(
                "the statistics the trials keep exceed the Monte Carlo budget: the slices and bands of the pools the claims ask about read {} elements a trial (an element once per pair of free dimensions), {forced} on the first {slice_trials} trials that compare the pooled elements, more than {STATS_SLICE_READS} and more than the setting's budget leaves for {MIN_TRIALS} trials; use smaller sizes or tensors of fewer dimensions",
                sc.slice_reads
            ));
        }
        (n, cost)
    } else {
        (max, cost)
    };
    let left = share.saturating_sub(sc.slice_entries.saturating_mul(slice_trials as u64));
    let max = max.min((left / sc.plain_entries.max(1)) as usize);
    if max < MIN_TRIALS {
        *budget = budget.saturating_sub(cost);
        return Err(format!(
            "the statistics the trials keep exceed the Monte Carlo budget: each trial keeps {} of the pools the claims ask about, and the first {slice_trials} (at least {HETERO_MIN}, to compare the pooled elements) {} of their slices and bands each, more than {MIN_TRIALS} trials afford within this setting's share ({share}) of the {STATS_FILE_ENTRIES} statistics a file keeps, shared by its {settings} settings; use smaller sizes or fewer layers",
            sc.plain_entries, sc.slice_entries
        ));
    }
    Ok((max, cost, slice_trials))
}

/// The words naming a budget shared by several checks (`tq variants`), or nothing.
fn shared_by(shares: u64) -> String {
    if shares > 1 {
        format!(", and by the {shares} variants checked together")
    } else {
        String::new()
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
pub(super) fn depends_on_stand_in(
    program: &Program,
    env: &Env,
    back: &[Item],
    targets: &Needed,
) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::montecarlo::{DENSE_MAX_TRIALS, FALSE_REFUTATION};

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
