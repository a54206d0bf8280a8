//! `tq bench`: the dense Monte Carlo engine timed on the peer workload.

use super::args::BenchPrecision;
use super::check::checked_without_runs;
use super::io::{finish, say};
use std::path::PathBuf;
use std::process::ExitCode;
use tq::num::dense::Precision;

pub fn bench(
    file: PathBuf,
    trials: usize,
    seed: u64,
    threads: Option<usize>,
    precision: BenchPrecision,
    interpreter: bool,
) -> ExitCode {
    let r = match checked_without_runs(&file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if threads == Some(0) {
        say("--threads must be at least 1");
        return ExitCode::from(2);
    }
    if !(1..=tq::bench::MAX_TRIALS).contains(&trials) {
        say(format!("--trials must be from 1 to {} (asked for {trials}); each trial takes a fraction of a second",
            tq::bench::MAX_TRIALS
        ));
        return ExitCode::from(2);
    }
    if interpreter {
        return match tq::bench::interpreter(&r.program, &r.env, trials) {
            Ok(b) => {
                let rate = |s: f64| b.steps as f64 * b.runs as f64 / s.max(1e-9);
                let out = format!(
                    "tq interpreter: {} steps per run, {} run{}; compiled {:.3} s ({:.3e} steps/s); slow path {:.3} s ({:.3e} steps/s); {:.2}x\n",
                    b.steps,
                    b.runs,
                    if b.runs == 1 { "" } else { "s" },
                    b.compiled_seconds,
                    rate(b.compiled_seconds),
                    b.slow_seconds,
                    rate(b.slow_seconds),
                    b.slow_seconds / b.compiled_seconds.max(1e-9)
                );
                finish(&out, ExitCode::SUCCESS)
            }
            Err(e) => {
                say(e);
                ExitCode::from(1)
            }
        };
    }
    let precisions: &[Precision] = match precision {
        BenchPrecision::F64 => &[Precision::F64],
        BenchPrecision::F32 => &[Precision::F32],
        BenchPrecision::Both => &[Precision::F64, Precision::F32],
    };
    let mut out = String::new();
    for &p in precisions {
        match tq::bench::resnet(&r.program, &r.env, trials, seed, threads, p) {
            Ok(b) => {
                out.push_str(&format!(
                    "tq dense {}: var(L_L)={:.4} closed={:.4} var(L_0.grad)={:.4} closed={:.4} sec/trial={:.4} ({} trial{} on {} thread{}, {:.3e} operations per trial)\n",
                    p.name(),
                    b.var_forward,
                    b.closed_form,
                    b.var_backward,
                    b.closed_form,
                    b.seconds_per_trial,
                    b.trials,
                    if b.trials == 1 { "" } else { "s" },
                    b.threads,
                    if b.threads == 1 { "" } else { "s" },
                    b.ops_per_trial as f64
                ));
            }
            Err(e) => {
                say(e);
                return ExitCode::from(1);
            }
        }
    }
    finish(&out, ExitCode::SUCCESS)
}
