//! Independent sampled trials of a model: the one runner behind Monte Carlo claims
//! (`claims::montecarlo`), `tq plot` and `tq bench`.
//!
//! A [`TrialModel`] is the model ready for trials: compiled for the dense executor when
//! it lowers to array operations, else run on the element-wise interpreter (the
//! reference semantics). Trial `t` draws its leaves, scalar inputs and incoming
//! gradients afresh from the generator seeded with
//! [`trial_seed`]`(seed, domain, t)`, so each trial depends on its number only: the
//! results are the same in any order and on any number of threads.
//!
//! A caller runs one trial first ([`TrialModel::run`]), to learn what a trial costs
//! ([`TrialRun::work`]) and how many its budget allows, then the others
//! ([`TrialModel::run_all`]): on several threads on the dense executor (each thread's
//! matrix products then stay on that thread), one after another on the interpreter.
//! When a dense run turns out not to lower ([`TrialError::Unsupported`]), the caller
//! may [`TrialModel::fall_back`] to the interpreter and start again (unless it asked
//! for [`Executor::Dense`]). What is measured
//! from a trial (statistics of some members, variances of a region) is the caller's.

use super::dense::{serial_products, DenseError, DenseModel, DenseRun, Needed};
use super::gradcheck::{run_model_with, ModelRun, Setup};
use super::seed::{trial_seed, Domain};
use super::{Machine, NumError};
use crate::check::Env;
use crate::syntax::ast::{Item, Program};

/// Where the trials run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// The dense executor when the program lowers, else the interpreter.
    Auto,
    /// The dense executor only: a program that does not lower is an error.
    Dense,
    /// The element-wise interpreter (the reference semantics).
    Interpreter,
}

/// Why a trial was not run.
#[derive(Clone, Debug, PartialEq)]
pub enum TrialError {
    /// The program does not lower to array operations (a dense run only); the
    /// interpreter can run it.
    Unsupported(String),
    /// Refused: over a work or memory budget.
    Refused(NumError),
    /// The interpreter's run failed.
    Failed(NumError),
}

impl TrialError {
    /// The message, without the executor's prefix.
    pub fn message(&self) -> &str {
        match self {
            TrialError::Unsupported(m) => m,
            TrialError::Refused(e) | TrialError::Failed(e) => &e.message,
        }
    }
}

impl std::fmt::Display for TrialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrialError::Unsupported(m) => {
                write!(f, "{}", DenseError::Unsupported(m.clone()))
            }
            TrialError::Refused(e) | TrialError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl From<DenseError> for TrialError {
    fn from(e: DenseError) -> TrialError {
        match e {
            DenseError::Unsupported(m) => TrialError::Unsupported(m),
            DenseError::Refused(e) => TrialError::Refused(e),
        }
    }
}

/// The constants (sizes and symbols with their `sample` values) of a run past which each
/// costs [`CONSTANT_COST`] in every trial.
pub const FREE_CONSTANTS: usize = 64;
/// Operations counted per constant of a run past the first [`FREE_CONSTANTS`]: every
/// trial copies the machine with its map of constants and drops it (a file of 10,000
/// sizes spent 2.7 s of CPU in `tq check` copying and freeing maps, uncounted;
/// measured at about 0.1 µs a constant).
pub const CONSTANT_COST: u64 = 100;

/// The fixed cost in every trial of a run with `n` constants.
pub fn constants_cost(n: usize) -> u64 {
    (n.saturating_sub(FREE_CONSTANTS) as u64).saturating_mul(CONSTANT_COST)
}

/// The tensors of one trial, from whichever executor ran it.
// One value per trial, made and consumed in place: boxing either variant would add an
// allocation to every trial for no saving (the two runs differ by about 200 bytes).
#[allow(clippy::large_enum_variant)]
pub enum TrialRun<'a> {
    Dense(DenseRun<'a>),
    Interpreter(ModelRun<'a>),
}

impl<'a> TrialRun<'a> {
    /// The trial's work: operations on the dense executor, element evaluations on the
    /// interpreter (docs/numeric.md).
    pub fn work(&self) -> u64 {
        let own = match self {
            // The plans the trial made are the model's, read by every later trial: a
            // trial costs what it does without them (session 39, probe38/h k21).
            TrialRun::Dense(r) => r.machine.ops.saturating_sub(r.machine.plan_ops),
            TrialRun::Interpreter(r) => r.machine.steps(),
        };
        own.saturating_add(constants_cost(self.machine().consts.len()))
    }

    /// The machine of the run: its sizes, constants and boundary rule.
    pub fn machine(&self) -> &Machine<'a> {
        match self {
            TrialRun::Dense(r) => &r.machine.m,
            TrialRun::Interpreter(r) => &r.machine,
        }
    }

    /// The members the run wrote: (member, grad).
    pub fn keys(&self) -> Vec<(String, bool)> {
        match self {
            TrialRun::Dense(r) => r.machine.arrays.keys().cloned().collect(),
            TrialRun::Interpreter(r) => r.machine.vals.keys().cloned().collect(),
        }
    }

    /// The members the run wrote, borrowed (in no particular order).
    pub fn key_refs(&self) -> Vec<&(String, bool)> {
        match self {
            TrialRun::Dense(r) => r.machine.arrays.keys().collect(),
            TrialRun::Interpreter(r) => r.machine.vals.keys().collect(),
        }
    }

    /// The largest finite |value| the run wrote, over every member: the scale of the
    /// rounding in any value computed from them (Monte Carlo's floating-point floor,
    /// `claims::montecarlo::stats::rounding`).
    pub fn magnitude(&self) -> f64 {
        match self {
            TrialRun::Dense(r) => r
                .machine
                .arrays
                .values()
                .map(|a| a.largest())
                .fold(0.0, f64::max),
            TrialRun::Interpreter(r) => r
                .machine
                .vals
                .values()
                .flat_map(|vals| vals.values())
                .filter(|v| v.is_finite())
                .fold(0.0, |m: f64, v| m.max(v.abs())),
        }
    }

    /// How many elements the run stores for a member (0 for a member not written): what
    /// reading its statistics costs.
    pub fn elements(&self, key: &(String, bool)) -> usize {
        match self {
            TrialRun::Dense(r) => r.machine.arrays.get(key).map_or(0, |a| a.data.len()),
            TrialRun::Interpreter(r) => r.machine.vals.get(key).map_or(0, |v| v.len()),
        }
    }

    /// The statistics of the elements matching `fixed` per free dimension and position
    /// along it ([`super::dense::Arr::slice_moments`]); empty for a member not
    /// written.
    pub fn slice_moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
        max: usize,
    ) -> super::dense::Slices {
        match self {
            TrialRun::Dense(r) => r
                .machine
                .arrays
                .get(key)
                .map(|a| a.slice_moments(fixed, max))
                .unwrap_or_default(),
            TrialRun::Interpreter(r) => match r.machine.vals.get(key) {
                Some(vals) => grouped(vals, fixed, max, |pos, free, add| {
                    for &k in free {
                        add((k, pos[k]));
                    }
                }),
                None => super::dense::Slices::new(),
            },
        }
    }

    /// The statistics of the elements matching `fixed` per combination of their positions
    /// along `dims` (Monte Carlo's position classes); empty for a member not written, or
    /// beyond `max` combinations.
    pub fn class_moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
        dims: &[usize],
        max: usize,
    ) -> std::collections::BTreeMap<Vec<i64>, (usize, f64, f64)> {
        let written = self.written_class_moments(key, fixed, dims, max);
        // A gradient written at none of the matching positions is 0 there
        // ([`TrialRun::moments`]).
        if key.1 && written.is_empty() && self.written_moments(key, fixed).is_none_or(|m| m.0 == 0)
        {
            let mut primal = self.written_class_moments(&(key.0.clone(), false), fixed, dims, max);
            primal.values_mut().for_each(|m| *m = (m.0, 0.0, 0.0));
            return primal;
        }
        written
    }

    /// [`TrialRun::class_moments`] of the elements the run wrote.
    fn written_class_moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
        dims: &[usize],
        max: usize,
    ) -> std::collections::BTreeMap<Vec<i64>, (usize, f64, f64)> {
        match self {
            TrialRun::Dense(r) => r
                .machine
                .arrays
                .get(key)
                .map(|a| a.class_moments(fixed, dims, max))
                .unwrap_or_default(),
            TrialRun::Interpreter(r) => match r.machine.vals.get(key) {
                Some(vals) => grouped(vals, fixed, max, |pos, _, add| {
                    if dims.iter().all(|&d| d < pos.len()) {
                        add(dims.iter().map(|&d| pos[d]).collect::<Vec<i64>>());
                    }
                }),
                None => Default::default(),
            },
        }
    }

    /// The statistics of the elements matching `fixed` per pair of free dimensions and
    /// difference of the positions along them ([`super::dense::Arr::band_moments`]);
    /// empty for a member not written, or beyond `max` bands.
    pub fn band_moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
        max: usize,
    ) -> super::dense::Bands {
        match self {
            TrialRun::Dense(r) => r
                .machine
                .arrays
                .get(key)
                .map(|a| a.band_moments(fixed, max))
                .unwrap_or_default(),
            TrialRun::Interpreter(r) => match r.machine.vals.get(key) {
                Some(vals) => grouped(vals, fixed, max, |pos, free, add| {
                    for (i, &a) in free.iter().enumerate() {
                        for &b in &free[i + 1..] {
                            add((a, b, pos[a] - pos[b]));
                        }
                    }
                }),
                None => super::dense::Bands::new(),
            },
        }
    }

    /// Count, sum and sum of squares of the elements of member `key` whose positions
    /// match `fixed` (`Some(p)`: position p in that dimension; `None`: any), compared
    /// dimension by dimension as far as both go; `None` for a member not written.
    ///
    /// A gradient that the backward program wrote at none of the matching positions,
    /// where its tensor has elements there, is 0 at each of them: no output reads them
    /// (the last position of an odd X pooled in pairs), so no term reaches their
    /// gradient. They were taken for elements that do not exist, and a false
    /// `Var(x.grad[b,4]) == 1` at X = 5 was undecided (mc34 item 2).
    pub fn moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
    ) -> Option<(usize, f64, f64)> {
        if let Some(n) = self.unwritten_gradient(key, fixed) {
            return Some((n, 0.0, 0.0));
        }
        self.written_moments(key, fixed)
    }

    /// For a gradient `key` the run wrote at none of the positions matching `fixed`, where
    /// its tensor has elements: how many (each is 0, [`TrialRun::moments`]).
    pub fn unwritten_gradient(&self, key: &(String, bool), fixed: &[Option<i64>]) -> Option<usize> {
        if !key.1 || self.written_moments(key, fixed).is_some_and(|m| m.0 > 0) {
            return None;
        }
        self.written_moments(&(key.0.clone(), false), fixed)
            .map(|m| m.0)
            .filter(|&n| n > 0)
    }

    /// [`TrialRun::moments`] of the elements the run wrote.
    fn written_moments(
        &self,
        key: &(String, bool),
        fixed: &[Option<i64>],
    ) -> Option<(usize, f64, f64)> {
        match self {
            TrialRun::Dense(r) => r.machine.arrays.get(key).map(|a| a.moments(fixed)),
            TrialRun::Interpreter(r) => {
                let vals = r.machine.vals.get(key)?;
                let (mut n, mut s1, mut s2) = (0usize, 0.0, 0.0);
                for (pos, v) in vals {
                    if fixed
                        .iter()
                        .zip(pos)
                        .all(|(f, p)| f.is_none_or(|f| f == *p))
                    {
                        n += 1;
                        s1 += v;
                        s2 += v * v;
                    }
                }
                Some((n, s1, s2))
            }
        }
    }
}

/// A model ready for trials (see the module's documentation).
pub struct TrialModel<'p, 'a> {
    program: &'p Program,
    env: &'a Env,
    back: &'p [Item],
    loss: Option<&'p str>,
    setup: Setup<'p>,
    dense: Option<DenseModel<'a>>,
    executor: Executor,
    seed: u64,
    domain: Domain,
}

impl<'p, 'a> TrialModel<'p, 'a> {
    /// The model of `program` and its derived backward program `back`, `setup` applied
    /// before anything is sampled, the statements pruned to those the `needed` tensors
    /// depend on (on the dense executor), trial `t` seeded with
    /// [`trial_seed`]`(seed, domain, t)`. An error when the dense model is refused (too
    /// large), or does not lower and `executor` is [`Executor::Dense`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        program: &'p Program,
        env: &'a Env,
        back: &'p [Item],
        loss: Option<&'p str>,
        setup: Setup<'p>,
        needed: Option<&Needed>,
        executor: Executor,
        seed: u64,
        domain: Domain,
    ) -> Result<TrialModel<'p, 'a>, TrialError> {
        Self::new_within(
            program,
            env,
            back,
            loss,
            setup,
            needed,
            executor,
            seed,
            domain,
            super::dense::MAX_OPS,
        )
    }

    /// [`TrialModel::new`], the dense model refused from its counts when a trial's
    /// sampled values and member arrays alone cost more than `max_ops` operations
    /// ([`DenseModel::new_within`]): before a single leaf is enumerated.
    #[allow(clippy::too_many_arguments)]
    pub fn new_within(
        program: &'p Program,
        env: &'a Env,
        back: &'p [Item],
        loss: Option<&'p str>,
        setup: Setup<'p>,
        needed: Option<&Needed>,
        executor: Executor,
        seed: u64,
        domain: Domain,
        max_ops: u64,
    ) -> Result<TrialModel<'p, 'a>, TrialError> {
        let dense = match executor {
            Executor::Interpreter => None,
            Executor::Auto | Executor::Dense => {
                match DenseModel::new_within(program, env, back, loss, setup, needed, max_ops) {
                    Ok(m) => Some(m),
                    Err(DenseError::Unsupported(_)) if executor == Executor::Auto => None,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(TrialModel {
            program,
            env,
            back,
            loss,
            setup,
            dense,
            executor,
            seed,
            domain,
        })
    }

    /// The model with its dense runs' matrix products in `precision` (the interpreter
    /// always computes in f64).
    pub fn with_precision(mut self, precision: super::dense::Precision) -> Self {
        if let Some(d) = self.dense.as_mut() {
            d.precision = precision;
        }
        self
    }

    /// Whether the trials run on the dense executor.
    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// The dense model, when the trials run on the dense executor.
    pub fn dense(&self) -> Option<&DenseModel<'a>> {
        self.dense.as_ref()
    }

    /// `dense executor` or `interpreter`.
    pub fn executor_name(&self) -> &'static str {
        if self.is_dense() {
            "dense executor"
        } else {
            "interpreter"
        }
    }

    /// Whether the trials may move to the interpreter: they run on the dense executor,
    /// and [`Executor::Auto`] was asked for.
    pub fn can_fall_back(&self) -> bool {
        self.dense.is_some() && self.executor == Executor::Auto
    }

    /// Runs the trials on the interpreter from now on (after a dense run that did not
    /// lower), when [`Self::can_fall_back`]; whether it did.
    pub fn fall_back(&mut self) -> bool {
        let can = self.can_fall_back();
        if can {
            self.dense = None;
        }
        can
    }

    /// The generator seed of trial `t`.
    pub fn seed_of(&self, t: usize) -> u64 {
        trial_seed(self.seed, self.domain, t as u64)
    }

    /// Trial `t`.
    pub fn run(&self, t: usize) -> Result<TrialRun<'a>, TrialError> {
        let seed = self.seed_of(t);
        match &self.dense {
            Some(m) => Ok(TrialRun::Dense(m.run(seed)?)),
            None => run_model_with(
                self.program,
                self.env,
                self.back,
                self.loss,
                seed,
                self.setup,
            )
            .map(TrialRun::Interpreter)
            .map_err(TrialError::Failed),
        }
    }

    /// Trial `t`, refused past `max_work`: a dense one past that many operations
    /// ([`DenseModel::run_within`]), one on the interpreter past that many element
    /// evaluations (its `max_steps`).
    pub fn run_within(&self, t: usize, max_work: u64) -> Result<TrialRun<'a>, TrialError> {
        match &self.dense {
            Some(m) => Ok(TrialRun::Dense(m.run_within(self.seed_of(t), max_work)?)),
            None => {
                let setup = self.setup;
                let capped = |m: &mut Machine| {
                    setup(m)?;
                    m.max_steps = m.max_steps.min(max_work);
                    Ok(())
                };
                run_model_with(
                    self.program,
                    self.env,
                    self.back,
                    self.loss,
                    self.seed_of(t),
                    &capped,
                )
                .map(TrialRun::Interpreter)
                .map_err(TrialError::Failed)
            }
        }
    }

    /// `f(t, trial t)` for every trial `t` in `ts`, in the order of `ts`. On the dense
    /// executor the trials run on `workers` threads ([`parallel_trials`]), every trial
    /// to the end; on the interpreter one after another, up to the first that fails
    /// (the last result then).
    pub fn run_all<T: Send>(
        &self,
        ts: std::ops::Range<usize>,
        workers: usize,
        f: impl Fn(usize, TrialRun<'a>) -> T + Sync,
    ) -> Vec<Result<T, TrialError>> {
        match &self.dense {
            Some(m) => {
                let (seed, domain) = (self.seed, self.domain);
                parallel_trials(ts, workers, |t| {
                    m.run(trial_seed(seed, domain, t as u64))
                        .map(|r| f(t, TrialRun::Dense(r)))
                        .map_err(TrialError::from)
                })
            }
            None => {
                let mut out = Vec::with_capacity(ts.len());
                for t in ts {
                    let r = self.run(t).map(|r| f(t, r));
                    let failed = r.is_err();
                    out.push(r);
                    if failed {
                        break;
                    }
                }
                out
            }
        }
    }
}

/// `f(k)` for every `k` in `ks`, on `workers` threads (worker `w` takes every
/// `workers`-th trial), the results in the order of `ks`: independent trials, each seeded
/// from its own number, so the results do not depend on the number of workers. With
/// more than one worker, each worker's matrix products stay on its thread.
pub fn parallel_trials<T: Send>(
    ks: std::ops::Range<usize>,
    workers: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let n = ks.len();
    let workers = workers.clamp(1, n.max(1));
    if workers == 1 {
        return ks.map(f).collect();
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let f = &f;
        let start = ks.start;
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    serial_products(|| {
                        (w..n)
                            .step_by(workers)
                            .map(|i| (i, f(start + i)))
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(rs) => {
                    for (i, r) in rs {
                        slots[i] = Some(r);
                    }
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// The number of cores (1 when unknown), read once per process: the standard
/// library's answer reads the cgroup files at every call (1,302 `openat` in 3 trials
/// of `tq bench --threads 1`, session 29), and a trial asks at every large product.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

/// Count, sum and sum of squares of the interpreter's elements matching `fixed`, per
/// group: `groups` names the groups of an element from its position and its free
/// dimensions (a slice per free dimension and position, a band per pair of free
/// dimensions and difference). Empty beyond `max` groups, as the dense arrays' own.
fn grouped<'v, K: Ord>(
    vals: impl IntoIterator<Item = (&'v Vec<i64>, &'v f64)>,
    fixed: &[Option<i64>],
    max: usize,
    groups: impl Fn(&[i64], &[usize], &mut dyn FnMut(K)),
) -> std::collections::BTreeMap<K, (usize, f64, f64)> {
    let mut out = std::collections::BTreeMap::new();
    for (pos, &v) in vals {
        if !fixed
            .iter()
            .zip(pos)
            .all(|(f, p)| f.is_none_or(|f| f == *p))
        {
            continue;
        }
        let free: Vec<usize> = (0..pos.len())
            .filter(|k| !fixed.get(*k).is_some_and(|f| f.is_some()))
            .collect();
        groups(pos, &free, &mut |k| {
            let e = out.entry(k).or_insert((0, 0.0, 0.0));
            e.0 += 1;
            e.1 += v;
            e.2 += v * v;
        });
        if out.len() > max {
            return std::collections::BTreeMap::new();
        }
    }
    out
}
