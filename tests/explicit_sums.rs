//! A capital index inside an explicit sum's argument (probe30/d finding 1): every engine
//! that runs a statement reads it as docs/language.md's summation scope says, a capital
//! summed over the additive term in which it occurs, so `sum_{j}(W[j,I] x[b,I])` is
//! sum_j sum_i W[j,i] x[b,i]. Generated statements (shapes × sizes) are run on the
//! interpreter's slow path, its compiled statements and the dense executor, and each
//! value is compared with the sum written out here from the same sampled inputs.
//! (The NumPy emitter is compared on tests/cases/speed30/ by tests/emit.rs; the moments
//! engine by the case files' Var claims.)

use tq::num::Store;
use tq::report::{check_source, Options};

/// The inputs of a run: x[b,i], W[j,i], w[j].
struct Inputs<'s>(&'s Store);

impl Inputs<'_> {
    fn get(&self, name: &str, pos: &[i64]) -> f64 {
        self.0[&(name.to_string(), false)][pos]
    }
}

/// A shape: the right side of `r[b] = ...` and its value written out.
type Shape = (&'static str, fn(&Inputs, i64, i64, i64) -> f64);

fn dot(v: &Inputs, b: i64, j: i64, ni: i64, f: impl Fn(f64) -> f64) -> f64 {
    (0..ni)
        .map(|i| v.get("W", &[j, i]) * f(v.get("x", &[b, i])))
        .sum()
}

const SHAPES: [Shape; 8] = [
    ("sum_{j}(W[j,I] x[b,I])", |v, b, ni, nj| {
        (0..nj).map(|j| dot(v, b, j, ni, |x| x)).sum()
    }),
    ("sum_{j}(W[j,I] x[b,I] w[j])", |v, b, ni, nj| {
        (0..nj)
            .map(|j| dot(v, b, j, ni, |x| x) * v.get("w", &[j]))
            .sum()
    }),
    ("sum_{j}(w[j] W[j,I] x[b,I])", |v, b, ni, nj| {
        (0..nj)
            .map(|j| v.get("w", &[j]) * dot(v, b, j, ni, |x| x))
            .sum()
    }),
    ("sum_{j}(W[j,I] x[b,I] + w[j])", |v, b, ni, nj| {
        (0..nj)
            .map(|j| dot(v, b, j, ni, |x| x) + v.get("w", &[j]))
            .sum()
    }),
    ("sum_{j}((W[j,I] + W[j,I]) x[b,I])", |v, b, ni, nj| {
        (0..nj).map(|j| 2.0 * dot(v, b, j, ni, |x| x)).sum()
    }),
    ("sum_{j}(tanh(W[j,I] x[b,I]))", |v, b, ni, nj| {
        (0..nj).map(|j| dot(v, b, j, ni, |x| x).tanh()).sum()
    }),
    ("sum_{j}(W[j,I] tanh(x[b,I]))", |v, b, ni, nj| {
        (0..nj).map(|j| dot(v, b, j, ni, f64::tanh)).sum()
    }),
    (
        "2 sum_{j}(W[j,I] x[b,I]) - sum_{j}(w[j])",
        |v, b, ni, nj| {
            let s: f64 = (0..nj).map(|j| dot(v, b, j, ni, |x| x)).sum();
            let t: f64 = (0..nj).map(|j| v.get("w", &[j])).sum();
            2.0 * s - t
        },
    ),
];

#[test]
fn capitals_inside_explicit_sums_are_summed_over_their_term_by_every_executor() {
    let mut compared = 0;
    for (rhs, value) in SHAPES {
        for (nb, ni, nj) in [(1, 1, 1), (2, 3, 2), (1, 2, 3), (2, 1, 3), (3, 3, 3)] {
            let src = format!(
                "size B, I, J\ninput x[B, I] ~ normal(0, 1)\nparam W[J, I] ~ normal(0, 1)\ninput w[J] ~ normal(0, 1)\nr[b] = {rhs}\nsample B = {nb}, I = {ni}, J = {nj}\n"
            );
            let opts = Options {
                no_numeric: true,
                no_monte_carlo: true,
                ..Options::default()
            };
            let rep = check_source("gen.tq", &src, &opts);
            assert!(rep.diagnostics.is_empty(), "{src}: {:?}", rep.diagnostics);
            let run = |slow: bool| -> Store {
                let setup = move |m: &mut tq::num::Machine| {
                    m.slow_path = slow;
                    Ok(())
                };
                tq::num::gradcheck::run_model_with(&rep.program, &rep.env, &[], None, 7, &setup)
                    .unwrap_or_else(|e| panic!("{src}: {e:?}"))
                    .machine
                    .vals
            };
            let slow = run(true);
            let compiled = run(false);
            let dense = tq::num::dense::run_model_dense(
                &rep.program,
                &rep.env,
                &[],
                None,
                7,
                &|_: &mut tq::num::Machine| Ok(()),
            )
            .unwrap_or_else(|e| panic!("{src}: {e:?}"))
            .machine
            .to_store();
            for (name, store) in [
                ("slow path", &slow),
                ("compiled", &compiled),
                ("dense", &dense),
            ] {
                let v = Inputs(store);
                for b in 0..nb {
                    let want = value(&v, b, ni, nj);
                    let got = store[&("r".to_string(), false)][&vec![b]];
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "{name}: `r[b] = {rhs}` at B = {nb}, I = {ni}, J = {nj}, b = {b}: {got}, written out {want}"
                    );
                    compared += 1;
                }
            }
            // The three executors drew the same inputs.
            assert_eq!(
                slow[&("x".to_string(), false)],
                dense[&("x".to_string(), false)]
            );
        }
    }
    assert_eq!(compared, SHAPES.len() * 3 * (1 + 2 + 1 + 2 + 3));
}
