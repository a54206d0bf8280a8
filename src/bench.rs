//! `tq bench`: the Monte Carlo workload of ../shared/bench/peer_resnet_mc.py on the
//! dense executor — problems/resnet.tq's program with B = 16, X = Y = 32, J = 32, D = 3,
//! L = 8, sigma_W^2 = 1/(L D^2 J), zero padding, the forward program and the derived
//! backward program pruned to the input gradient L_0.grad (the peer scripts compute no
//! weight gradients either). Not a timed test: docs/performance.md has the numbers.

use crate::check::Env;
use crate::num::dense::{Needed, Precision};
use crate::num::seed::Domain;
use crate::num::trials::{cores, Executor, TrialModel, TrialRun};
use crate::num::Machine;
use crate::syntax::ast::{Boundary, Program};
use std::time::Instant;

/// The workload's sizes.
pub const SIZES: [(&str, f64); 6] = [
    ("B", 16.0),
    ("X", 32.0),
    ("Y", 32.0),
    ("J", 32.0),
    ("D", 3.0),
    ("L", 8.0),
];

/// The most timed trials `tq bench` runs (a few minutes at the workload's size).
pub const MAX_TRIALS: usize = 1000;

/// What one benchmark run measured.
#[derive(Clone, Debug)]
pub struct BenchResult {
    pub trials: usize,
    /// Trials run at the same time (one per core).
    pub threads: usize,
    pub seconds_per_trial: f64,
    /// Operations per trial (multiply-adds and element operations, docs/numeric.md).
    pub ops_per_trial: u64,
    /// Mean over trials of the variance over elements of L_L and of L_0.grad, at
    /// positions two or more away from the border (as the peer script).
    pub var_forward: f64,
    pub var_backward: f64,
    /// The closed form (1 + D^2 J sigma_W^2)^L.
    pub closed_form: f64,
}

/// Variance over the elements at x, y in 2..=X-3 (all b, j) of a member.
fn interior_var(run: &crate::num::dense::Dense, key: &(String, bool)) -> Option<f64> {
    let a = run.arrays.get(key)?;
    if a.lo.len() != 4 {
        return None;
    }
    // The interior box, in the array's own coordinates (it starts at `lo`).
    let inner = |k: usize, hi: i64| -> Option<ndarray::SliceInfoElem> {
        let n = a.data.shape()[k] as i64;
        let s = (2 - a.lo[k]).clamp(0, n);
        let e = (hi + 1 - a.lo[k]).clamp(s, n);
        Some(ndarray::SliceInfoElem::Slice {
            start: s as isize,
            end: Some(e as isize),
            step: 1,
        })
    };
    let (xh, yh) = (SIZES[1].1 as i64 - 3, SIZES[2].1 as i64 - 3);
    let all = ndarray::SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 1,
    };
    let region = [all, inner(1, xh)?, inner(2, yh)?, all];
    let info: &[ndarray::SliceInfoElem] = &region;
    let (mut n, mut s1, mut s2) = (0usize, 0.0, 0.0);
    ndarray::Zip::from(a.data.slice(info))
        .and(a.mask.slice(info))
        .for_each(|v, m| {
            if *m {
                n += 1;
                s1 += v;
                s2 += v * v;
            }
        });
    if n == 0 {
        return None;
    }
    let mean = s1 / n as f64;
    Some(s2 / n as f64 - mean * mean)
}

/// Runs `trials` timed trials (after one warm-up trial) of the workload on `program`
/// (problems/resnet.tq), its matrix products in `precision`, trial t (0 the warm-up) seeded with
/// [`crate::num::seed::trial_seed`]`(seed, Domain::Bench, t)`.
pub fn resnet(
    program: &Program,
    env: &Env,
    trials: usize,
    seed: u64,
    threads: Option<usize>,
    precision: Precision,
) -> Result<BenchResult, String> {
    let back = crate::grad::backward(program, env);
    let l = SIZES[5].1;
    let (d, j) = (SIZES[4].1, SIZES[3].1);
    let setup = |m: &mut Machine| {
        for (k, v) in SIZES {
            m.consts.insert(k.to_string(), v);
        }
        m.consts
            .insert("sigma_W".to_string(), (1.0 / (l * d * d * j)).sqrt());
        m.boundary = Some(Boundary::Zero);
        Ok(())
    };
    let needed: Needed = [("L".to_string(), false), ("L".to_string(), true)]
        .into_iter()
        .collect();
    let model = TrialModel::new(
        program,
        env,
        &back.items,
        None,
        &setup,
        Some(&needed),
        Executor::Dense,
        seed,
        Domain::Bench,
    )
    .map_err(|e| e.to_string())?
    .with_precision(precision);
    let top = (format!("L_{{{}}}", l as i64), false);
    let bottom = ("L_{0}".to_string(), true);
    let interior = |run: &TrialRun| -> Result<(f64, f64), String> {
        let TrialRun::Dense(run) = run else {
            return Err("the bench runs on the dense executor".into());
        };
        Ok((
            interior_var(&run.machine, &top).ok_or("L_L was not computed")?,
            interior_var(&run.machine, &bottom).ok_or("L_0.grad was not computed")?,
        ))
    };
    // Warm-up: trial 0.
    let warm = model.run(0).map_err(|e| e.to_string())?;
    let ops = warm.work();
    let start = Instant::now();
    // Trials are independent: one worker per core (or per `threads`) runs every
    // `threads`-th trial, as the Monte Carlo engine does; results are summed in trial
    // order. With one worker, the large matrix products split their rows over the cores
    // instead (as NumPy's BLAS does).
    let threads = threads.unwrap_or_else(cores).clamp(1, trials.max(1));
    let results = model.run_all(1..trials + 1, threads, |_, run| interior(&run));
    let (mut vf, mut vb) = (0.0, 0.0);
    for r in results {
        let (a, b) = r.map_err(|e| e.to_string())??;
        vf += a;
        vb += b;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = trials.max(1) as f64;
    Ok(BenchResult {
        trials,
        threads,
        seconds_per_trial: secs / n,
        ops_per_trial: ops,
        var_forward: vf / n,
        var_backward: vb / n,
        closed_form: (1.0 + 1.0 / l).powf(l),
    })
}

/// What `tq bench --interpreter` measured: the element interpreter (src/num/) running a
/// file's second-moment program, forward and backward, at the file's `sample` values
/// (the run `tq derive` and the moment claims make position by position), on the
/// compiled statements and on the slow path, one after the other.
#[derive(Clone, Debug)]
pub struct InterpreterBench {
    pub runs: usize,
    /// Element evaluations of one run (the same on both paths).
    pub steps: u64,
    pub compiled_seconds: f64,
    pub slow_seconds: f64,
}

/// Every stored value of a run as (member, gradient, position, bits).
type Bits = Vec<(String, bool, Vec<i64>, u64)>;

/// Runs the second-moment program of `program` `runs` times on each path; an error when
/// it cannot be run or when the two paths store different values or count different steps.
pub fn interpreter(program: &Program, env: &Env, runs: usize) -> Result<InterpreterBench, String> {
    let time = |slow: bool| -> Result<(u64, f64, Bits), String> {
        let set = |m: &mut Machine| {
            m.slow_path = slow;
            Ok(())
        };
        let start = Instant::now();
        let (mut steps, mut values) = (0, Vec::new());
        for _ in 0..runs.max(1) {
            let m = crate::moments::position::run_with_backward(program, env, &set)
                .or_else(|_| crate::moments::position::run(program, env, &set))?;
            steps = m.steps();
            values = m
                .vals
                .iter()
                .flat_map(|((n, g), t)| {
                    t.iter()
                        .map(move |(p, v)| (n.clone(), *g, p.clone(), v.to_bits()))
                })
                .collect();
        }
        let secs = start.elapsed().as_secs_f64();
        values.sort();
        Ok((steps, secs, values))
    };
    let (steps, compiled_seconds, fast) = time(false)?;
    let (slow_steps, slow_seconds, slow) = time(true)?;
    if steps != slow_steps || fast != slow {
        return Err(format!(
            "the compiled statements and the slow path disagree ({steps} and {slow_steps} steps)"
        ));
    }
    Ok(InterpreterBench {
        runs: runs.max(1),
        steps,
        compiled_seconds,
        slow_seconds,
    })
}
