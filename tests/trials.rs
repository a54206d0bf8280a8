//! The trial runner (`num::trials`) shared by Monte Carlo claims, `tq plot` and
//! `tq bench`: trial t depends on its number only (not on the threads or the order the
//! trials run in), the dense executor and the interpreter draw the same samples for it,
//! and a program whose dense run does not lower falls back to the interpreter.

mod common;

use tq::num::seed::Domain;
use tq::num::trials::{Executor, TrialError, TrialModel, TrialRun};
use tq::report::{check_source, FileReport};

/// A deep linear chain whose `for` block reads `h_k` one position before where it writes
/// it (written the iteration before): the dense model compiles, but its run refuses the
/// block (not lowered), while the interpreter runs it; the moments engine solves
/// Var(y_k) (away from the border).
const SHIFTED_BLOCK: &str = "size M, K
index i, j : M
symbol sigma
boundary zero
param W_k[M, M] ~ normal(0, sigma^2) for k in 1..K
input y_0[M] ~ normal(0, 1)
for k in 1..K:
  for j:
    h_k[j] = W_k[j, I] y_{k-1}[I]
    y_k[j] = h_k[j-1]
sample M = 8, K = 3, sigma = 0.3
";

fn report(name: &str, src: &str) -> FileReport {
    let r = check_source(name, src, &common::fast());
    assert_eq!(r.unexpected_errors(), 0, "{name} has errors");
    r
}

/// A member (name, grad) and its (count, sum, sum of squares).
type MemberMoments = ((String, bool), (usize, f64, f64));

/// Every member's (count, sum, sum of squares) in a trial, sorted by member.
fn all_moments(run: &TrialRun) -> Vec<MemberMoments> {
    let mut keys = run.keys();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let m = run.moments(&k, &[]).expect("a member the run wrote");
            (k, m)
        })
        .collect()
}

fn model<'r>(r: &'r FileReport, executor: Executor, seed: u64) -> TrialModel<'r, 'r> {
    let back = r.analysis().backward();
    let setup: tq::num::gradcheck::Setup = &|_| Ok(());
    TrialModel::new(
        &r.program,
        &r.env,
        &back.items,
        back.seeds.first().map(String::as_str),
        setup,
        None,
        executor,
        seed,
        Domain::MonteCarlo,
    )
    .unwrap_or_else(|e| panic!("the model: {e}"))
}

#[test]
fn trials_do_not_depend_on_the_threads_or_the_order_they_run_in() {
    let r = common::report_of_problem("deep_linear.tq");
    let m = model(&r, Executor::Auto, 7);
    assert!(m.is_dense(), "deep_linear lowers to array operations");
    let one: Vec<_> = m
        .run_all(0..6, 1, |_, run| all_moments(&run))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let two: Vec<_> = m
        .run_all(0..6, 2, |_, run| all_moments(&run))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // Bit for bit: the same samples and the same kernels on either number of threads.
    assert_eq!(one, two);
    // Alone, out of order, trial t gives what it gave among the others.
    for t in [4, 0, 2] {
        assert_eq!(all_moments(&m.run(t).unwrap()), one[t], "trial {t}");
    }
    // The trials are not copies of one another, and another seed draws other samples.
    assert_ne!(one[0], one[1]);
    let other = model(&r, Executor::Auto, 8);
    assert_ne!(all_moments(&other.run(0).unwrap()), one[0]);
    // The results come back in trial order, with the trial's number.
    let numbers: Vec<usize> = m
        .run_all(3..9, 2, |t, _| t)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(numbers, (3..9).collect::<Vec<_>>());
}

#[test]
fn a_trial_draws_the_same_samples_on_either_executor() {
    let r = common::report_of_problem("deep_linear.tq");
    let dense = model(&r, Executor::Auto, 3);
    let interp = model(&r, Executor::Interpreter, 3);
    assert!(dense.is_dense() && !interp.is_dense());
    assert_eq!(interp.executor_name(), "interpreter");
    for t in 0..3 {
        let a = all_moments(&dense.run(t).unwrap());
        let b = all_moments(&interp.run(t).unwrap());
        assert_eq!(a.len(), b.len(), "trial {t}: the members written differ");
        for ((ka, (na, s1a, s2a)), (kb, (nb, s1b, s2b))) in a.iter().zip(&b) {
            assert_eq!((ka, na), (kb, nb), "trial {t}");
            for (x, y) in [(s1a, s1b), (s2a, s2b)] {
                let scale = x.abs().max(y.abs()).max(*s2a);
                assert!(
                    (x - y).abs() <= 1e-10 * scale,
                    "trial {t} {ka:?}: dense {x}, interpreter {y}"
                );
            }
        }
    }
}

#[test]
fn a_dense_run_that_does_not_lower_falls_back_to_the_interpreter() {
    let r = report("shifted_block.tq", SHIFTED_BLOCK);
    let mut m = model(&r, Executor::Auto, 0);
    assert!(m.is_dense(), "the dense model compiles");
    match m.run(0) {
        Err(TrialError::Unsupported(why)) => assert!(
            why.contains("reads a tensor it writes at another position"),
            "{why}"
        ),
        Err(e) => panic!("not the refusal expected: {e}"),
        Ok(_) => panic!("the dense run lowered the shifted block"),
    }
    // Every trial after the first refuses too, in trial order.
    for r in m.run_all(1..4, 2, |_, _| ()) {
        assert!(matches!(r, Err(TrialError::Unsupported(_))));
    }
    assert!(m.can_fall_back());
    assert!(m.fall_back());
    assert!(!m.is_dense() && !m.can_fall_back() && !m.fall_back());
    let run = m.run(0).unwrap();
    assert!(run.work() > 0);
    let written = run.keys();
    for k in ["y_{3}", "h_{3}"] {
        assert!(written.contains(&(k.to_string(), false)), "{k} not written");
    }
}

/// Before the shared runner, `tq plot` stopped with "the model cannot be run: not
/// lowered to array operations" on such a program, where the Monte Carlo engine fell
/// back to the interpreter; then, since the moments engine refuses a tensor read at
/// another position of the `for` block that writes it (a read before its write, issue
/// #14), with "no variance recurrence with a closed form". Now (issue #17) it draws the
/// sampled points of every family on the interpreter the runner falls back to, with the
/// engine's values only where it has them (the start y_0).
#[test]
fn plot_of_a_block_read_before_its_write_samples_on_the_interpreter() {
    let r = report("shifted_block.tq", SHIFTED_BLOCK);
    let plot = tq::plot::series(&r, 40, 0).unwrap();
    assert_eq!(plot.executor, "interpreter");
    assert_eq!(plot.var, "k");
    let family = |label: &str| {
        plot.series
            .iter()
            .find(|s| s.label == label)
            .unwrap_or_else(|| panic!("{label}: {:?}", plot.series))
    };
    let members = |s: &tq::plot::Series| s.sampled.iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(members(family("Var(h_k)")), [1.0, 2.0, 3.0]);
    let y = family("Var(y_k)");
    assert_eq!(members(y), [0.0, 1.0, 2.0, 3.0]);
    // The input y_0 ~ normal(0, 1): the engine's exact value, and the samples near it.
    assert_eq!(y.predicted.first(), Some(&(0.0, 1.0)), "{:?}", y.predicted);
    let (_, m, h) = y.sampled[0];
    assert!((m - 1.0).abs() <= h * 3.29 / 1.96, "y_0: {m} ± {h}");
    // On the dense executor alone the run does not lower: nothing is drawn.
    let Err(e) = tq::plot::series_on(&r, 40, 0, Executor::Dense) else {
        panic!("the dense executor lowered the shifted block")
    };
    assert!(e.contains("the model cannot be run"), "{e}");
}
