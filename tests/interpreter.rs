//! The interpreter's compiled statements (src/num/compiled.rs) against its slow path:
//! every model of problems/ and tests/cases/, run forward and backward from the same seed
//! and through the second-moment program, must store the same values bit for bit, count
//! the same steps, leave the same kink fingerprint, and fail with the same message where
//! the slow path fails (a budget of steps small enough that the larger models reach it,
//! so the refusal point is compared too).

use std::path::{Path, PathBuf};
use tq::num::{Machine, NumError, Store};
use tq::report::{check_source, FileReport, Options};

fn report(path: &Path) -> Option<FileReport> {
    let src = std::fs::read_to_string(path).ok()?;
    let opts = Options {
        no_monte_carlo: true,
        no_numeric: true,
        ..Options::default()
    };
    Some(check_source(&path.display().to_string(), &src, &opts))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "tq") {
            out.push(p);
        }
    }
}

/// Every stored value as bits, in a sorted order.
fn bits(s: &Store) -> Vec<((String, bool), Vec<i64>, u64)> {
    let mut out: Vec<_> = s
        .iter()
        .flat_map(|(k, t)| {
            t.iter()
                .map(move |(p, v)| (k.clone(), p.clone(), v.to_bits()))
        })
        .collect();
    out.sort();
    out
}

/// What a run left: values, steps, kink fingerprint; or its error.
type Outcome = Result<(Vec<((String, bool), Vec<i64>, u64)>, u64, u64), String>;

fn outcome(m: Result<Machine, String>) -> Outcome {
    m.map(|m| (bits(&m.vals), m.steps(), m.kink_sides))
}

/// The budget of steps of these runs: a few of the larger models reach it.
const STEPS: u64 = 2_000_000;

#[test]
fn compiled_runs_agree_with_the_interpreter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("problems"), &mut paths);
    files(&root.join("tests/cases"), &mut paths);
    paths.sort();
    let (mut runs, mut refused, mut moments) = (0, 0, 0);
    for path in &paths {
        let Some(r) = report(path) else { continue };
        if r.program.items.is_empty() {
            continue;
        }
        let name = path.display();
        let back = tq::grad::backward(&r.program, &r.env);
        let loss = back.seeds.first().map(String::as_str);
        let run = |slow: bool| -> (Outcome, Outcome) {
            let set = move |m: &mut Machine| -> Result<(), NumError> {
                m.slow_path = slow;
                m.max_steps = STEPS;
                Ok(())
            };
            let model =
                tq::num::gradcheck::run_model_after(&r.program, &r.env, &back.items, loss, 3, &set)
                    .map_err(|e| e.message);
            let fwd = outcome(
                model
                    .as_ref()
                    .map(|m| m.forward.clone())
                    .map_err(Clone::clone),
            );
            let all = outcome(model.map(|m| m.machine));
            (fwd, all)
        };
        let (slow_fwd, slow_all) = run(true);
        let (fast_fwd, fast_all) = run(false);
        assert_eq!(slow_fwd, fast_fwd, "{name}: the forward runs differ");
        assert_eq!(slow_all, fast_all, "{name}: the backward runs differ");
        match &slow_all {
            Ok(_) => runs += 1,
            Err(e) if e.contains("element evaluations") => refused += 1,
            Err(_) => {}
        }
        let second = |slow: bool| {
            let set = move |m: &mut Machine| -> Result<(), NumError> {
                m.slow_path = slow;
                m.max_steps = STEPS;
                Ok(())
            };
            outcome(tq::moments::position::run_with_backward(
                &r.program, &r.env, &set,
            ))
        };
        let (slow, fast) = (second(true), second(false));
        assert_eq!(slow, fast, "{name}: the second-moment runs differ");
        if slow.is_ok() {
            moments += 1;
        }
    }
    eprintln!(
        "{} files: {runs} model runs agree, {refused} refused at the same step, {moments} second-moment runs agree",
        paths.len()
    );
    // The comparison covered real runs, including refusals by the budget.
    assert!(
        runs > 100 && moments > 20 && refused > 0,
        "{runs} {moments} {refused}"
    );
}
