//! The trial runner (`num::trials`) shared by Monte Carlo claims, `tq plot` and
//! `tq bench`: trial t depends on its number only (not on the threads or the order the
//! trials run in), the dense executor and the interpreter draw the same samples for it,
//! and a program whose dense run does not lower falls back to the interpreter.

mod common;

use tq::claims::Verdict;
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

/// A cheap tensor `h` beside an expensive one `g` that no claim about `h` reads.
fn cheap_beside_costly(claims: &str) -> String {
    format!(
        "size d, n, m
index i : d
index b : n
index k, q : m
symbol sigma
param W[d] ~ normal(0, sigma^2)
param V[m, m] ~ normal(0, 1/m)
input x[n, d] ~ normal(0, 1)
input z[n, m] ~ normal(0, 1)
h[b] = W[I] x[b, I]
g[b, k] = tanh(V[k, Q] z[b, Q])
{claims}
sample d = 8, n = 32, m = 64, sigma = 0.5
"
    )
}

/// The file's claims, in order.
fn claims_of(p: &tq::syntax::ast::Program) -> Vec<tq::syntax::ast::Claim> {
    p.items
        .iter()
        .filter_map(|i| match &i.kind {
            tq::syntax::ast::ItemKind::Claim(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// `claim` decided by Monte Carlo (the sequential test) on the statements of `src`, with the trials' targets of the claims of `targets_src`
/// (the same statements); the outcome and the pruning and count of the trials it ran.
fn decided_with_targets(
    src: &str,
    targets_src: &str,
    claim: &tq::syntax::ast::Claim,
) -> (tq::claims::Outcome, tq::claims::montecarlo::Pruning, usize) {
    use tq::claims::montecarlo::{self, Ctx, Need};
    let parsed = tq::syntax::parser::parse(src);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let (env, diags) = tq::check::check(&parsed.program);
    assert!(diags.is_empty(), "{diags:?}");
    let other = tq::syntax::parser::parse(targets_src);
    let derived = tq::analysis::Derived::new();
    let a = tq::analysis::Analysis::new(&parsed.program, &env, &derived);
    let back = a.backward();
    let targets = montecarlo::moment_keys(&other.program, &env, &back.items);
    let ctx = Ctx {
        program: &parsed.program,
        env: &env,
        back: &back.items,
        loss: a.loss(),
        seed: 5,
        targets: &targets,
        fixed_budget: false,
        shares: 1,
        precision: tq::num::dense::Precision::F64,
        used: &Default::default(),
    };
    let mut cache = std::collections::BTreeMap::new();
    let mut budget = montecarlo::FILE_BUDGET;
    let o = montecarlo::decide(claim, &ctx, &mut cache, &mut budget, Need::Decide)
        .expect("a moment claim");
    assert_eq!(cache.len(), 1, "one setting's trials");
    let t = cache.into_values().next().unwrap().expect("trials ran");
    (o, t.pruning().clone(), t.max_trials())
}

/// A claim decided under a setting that no claim of the file states (its givens
/// rewritten before Monte Carlo: the other points of a confirmation, a witness re-checked
/// at its point, givens resolved in another order) runs trials of the statements it
/// reads only, in as many trials as the whole program's budget allows, so its evidence is
/// the same as when its trials ran the whole program (speed31 finding 1: pyramid's
/// `Var(I_s)` ran the convolutions, sigmoids and backward program in every trial).
#[test]
fn a_rewritten_claim_runs_only_what_it_reads_in_as_many_trials() {
    use tq::claims::montecarlo::DENSE_MAX_TRIALS;
    let written = "claim Var(h) == d sigma^2 given d == 8";
    let src = cheap_beside_costly(written);
    let claim_with = |givens: &str| {
        let text = format!("claim Var(h) == d sigma^2 given {givens}");
        claims_of(&tq::syntax::parser::parse(&cheap_beside_costly(&text)).program).remove(0)
    };
    // The claim as written: its setting is the file's, pruned to `h`, and `h` is cheap,
    // so the budget allows every trial.
    let (o, pruning, n) = decided_with_targets(&src, &src, &claim_with("d == 8"));
    assert_eq!(o.verdict, Verdict::Confirmed, "{}", o.evidence);
    let h: tq::num::dense::Needed = [("h".to_string(), false)].into_iter().collect();
    assert_eq!(pruning.run.as_ref(), Some(&h));
    assert_eq!(n, DENSE_MAX_TRIALS);
    // The rewrites of the class: a point's value added as a given (`claim_at_point`),
    // the givens in another order (resolved in dependency order), a boundary rule set.
    for givens in [
        "d == 8, n == 32",
        "n == 32, d == 8",
        "d == 8, m == 64",
        "d == 8, n == 32, m == 64",
        "boundary zero, d == 8",
    ] {
        let c = claim_with(givens);
        // Under the file's own targets the rewritten setting is unknown: pruned to `h`,
        // counted on the whole program.
        let (pruned, pruning, n) = decided_with_targets(&src, &src, &c);
        assert_eq!(pruning.basis, None, "{givens}");
        assert_eq!(pruning.run.as_ref(), Some(&h), "{givens}");
        assert!(
            n < DENSE_MAX_TRIALS,
            "{givens}: {n} trials, as if `g` cost nothing"
        );
        // The same claim where the file states its setting, with a claim about `g` too:
        // every statement runs in every trial. The same trials, the same evidence.
        let targets_src = cheap_beside_costly(&format!(
            "{written}\nclaim Var(h) == d sigma^2 given {givens}\nclaim Var(g[b,k]) <= 1 given {givens}"
        ));
        let (whole, pruning, n_whole) = decided_with_targets(&src, &targets_src, &c);
        assert_eq!(pruning.run.as_ref().map(|r| r.len()), Some(2), "{givens}");
        assert_eq!(n, n_whole, "{givens}");
        assert_eq!(pruned.verdict, whole.verdict, "{givens}");
        assert_eq!(pruned.evidence, whole.evidence, "{givens}");
    }
}
