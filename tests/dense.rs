//! The dense executor against the element-wise interpreter (the reference semantics):
//! for every model in problems/ whose program lowers to array operations, both runs,
//! from the same seed, write the same elements of the same tensors (forward values and
//! gradients) with values that agree to 1e-12 relative.

use std::path::Path;
use tq::num::dense::{run_model_dense, DenseError, DenseModel};
use tq::num::gradcheck::run_model;
use tq::num::Store;
use tq::report::{check_source, FileReport, Options};

fn report(rel: &str) -> FileReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let src = std::fs::read_to_string(&path).unwrap();
    let opts = Options {
        no_monte_carlo: true,
        no_numeric: true,
        ..Options::default()
    };
    check_source(rel, &src, &opts)
}

/// Largest disagreement, relative to max(|a|, |b|, the largest |value| of the tensor,
/// 1e-3 × the largest |value| of the run): a tensor that is zero in exact arithmetic
/// (batch norm's `b.grad`) is rounding noise in both runs, of the size of the run's values
/// times 2^-52, and is compared on that scale.
fn compare(name: &str, reference: &Store, dense: &Store) -> f64 {
    let run_scale = reference
        .values()
        .flat_map(|t| t.values())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let mut rk: Vec<_> = reference.keys().collect();
    let mut dk: Vec<_> = dense.keys().collect();
    rk.sort();
    dk.sort();
    assert_eq!(rk, dk, "{name}: the tensors written differ");
    let mut worst: f64 = 0.0;
    for (k, r) in reference {
        let d = &dense[k];
        let mut rp: Vec<_> = r.keys().collect();
        let mut dp: Vec<_> = d.keys().collect();
        rp.sort();
        dp.sort();
        assert_eq!(rp, dp, "{name}: the elements written of {k:?} differ");
        let scale = r
            .values()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-3 * run_scale);
        for (p, a) in r {
            let b = d[p];
            let rel = if a == &b {
                0.0
            } else {
                (a - b).abs() / a.abs().max(b.abs()).max(scale)
            };
            assert!(
                rel <= 1e-12,
                "{name}: {k:?}{p:?}: element-wise {a}, dense {b} (relative {rel:e})"
            );
            worst = worst.max(rel);
        }
    }
    worst
}

#[test]
fn dense_runs_agree_with_the_interpreter_on_every_lowered_problem() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".tq").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut lowered = Vec::new();
    let mut not_lowered = Vec::new();
    for name in &names {
        let r = report(&format!("problems/{name}.tq"));
        if r.program.items.is_empty() {
            continue;
        }
        let back = tq::grad::backward(&r.program, &r.env);
        let loss = back.seeds.first().map(String::as_str);
        for seed in [0u64, 7] {
            let reference = match run_model(&r.program, &r.env, &back.items, loss, seed) {
                Ok(m) => m.machine.vals,
                Err(_) => break, // the model cannot be run at all (no distribution, ...)
            };
            match run_model_dense(&r.program, &r.env, &back.items, loss, seed, &|_| Ok(())) {
                Ok(d) => {
                    let w = compare(name, &reference, &d.machine.to_store());
                    if seed == 0 {
                        lowered.push(format!("{name} ({w:.1e})"));
                    }
                }
                Err(DenseError::Unsupported(why)) => {
                    not_lowered.push(format!("{name}: {why}"));
                    break;
                }
                Err(DenseError::Refused(e)) => panic!("{name}: refused: {e}"),
            }
        }
    }
    eprintln!("lowered: {}", lowered.join(", "));
    eprintln!("not lowered:\n  {}", not_lowered.join("\n  "));
    // The models the Monte Carlo engine needs most lower.
    for must in ["resnet", "deep_linear", "single_unit", "dropout"] {
        assert!(
            lowered.iter().any(|l| l.starts_with(&format!("{must} "))),
            "{must} does not lower: {not_lowered:?}"
        );
    }
}

#[test]
fn boundary_rules_and_pruning_agree_with_the_interpreter() {
    let r = report("problems/resnet.tq");
    let back = tq::grad::backward(&r.program, &r.env);
    let loss = back.seeds.first().map(String::as_str);
    for boundary in [
        tq::syntax::ast::Boundary::Zero,
        tq::syntax::ast::Boundary::Circular,
    ] {
        let setup = move |m: &mut tq::num::Machine| {
            m.boundary = Some(boundary);
            m.consts.insert("X".into(), 5.0);
            m.consts.insert("D".into(), 3.0);
            Ok(())
        };
        let reference =
            tq::num::gradcheck::run_model_with(&r.program, &r.env, &back.items, loss, 3, &setup)
                .unwrap()
                .machine
                .vals;
        let dense = run_model_dense(&r.program, &r.env, &back.items, loss, 3, &setup).unwrap();
        compare("resnet", &reference, &dense.machine.to_store());
        // Pruned to the input gradient: the same L_0.grad, no weight gradients.
        let needed = [("L".to_string(), true)].into_iter().collect();
        let model =
            DenseModel::new(&r.program, &r.env, &back.items, loss, &setup, Some(&needed)).unwrap();
        let pruned = model.run(3).unwrap().machine.to_store();
        let k = ("L_{0}".to_string(), true);
        assert_eq!(pruned[&k], dense.machine.to_store()[&k]);
        assert!(!pruned.keys().any(|(m, g)| *g && m.starts_with('W')));
    }
}

/// At these sizes (82,944 and 331,776 index combinations per convolution) the dense
/// executor binds the filter offsets one at a time: the forward products accumulate into
/// one array and the backward program writes shifted slices. With J = 8 the shifted
/// reads and writes go element by element through offset tables; with J = 16 they go
/// row by row, a block of rows (one x, every y) located at once. Every way must still
/// agree with the interpreter element by element.
#[test]
fn offset_by_offset_products_agree_with_the_interpreter() {
    let r = report("problems/resnet.tq");
    let back = tq::grad::backward(&r.program, &r.env);
    let loss = back.seeds.first().map(String::as_str);
    for (boundary, j) in [
        (tq::syntax::ast::Boundary::Zero, 8.0),
        (tq::syntax::ast::Boundary::Circular, 8.0),
        (tq::syntax::ast::Boundary::Zero, 16.0),
        (tq::syntax::ast::Boundary::Circular, 16.0),
    ] {
        let setup = move |m: &mut tq::num::Machine| {
            m.boundary = Some(boundary);
            for (k, v) in [
                ("B", 2.0),
                ("X", 8.0),
                ("Y", 9.0),
                ("J", j),
                ("D", 3.0),
                ("L", 2.0),
            ] {
                m.consts.insert(k.into(), v);
            }
            Ok(())
        };
        let reference =
            tq::num::gradcheck::run_model_with(&r.program, &r.env, &back.items, loss, 5, &setup)
                .unwrap()
                .machine
                .vals;
        let dense = run_model_dense(&r.program, &r.env, &back.items, loss, 5, &setup).unwrap();
        compare("resnet", &reference, &dense.machine.to_store());
    }
}

#[test]
fn oversized_runs_are_refused_before_allocating() {
    let r = report("problems/resnet.tq");
    let back = tq::grad::backward(&r.program, &r.env);
    let setup = |m: &mut tq::num::Machine| {
        for (k, v) in [("B", 64.0), ("X", 256.0), ("Y", 256.0), ("J", 64.0)] {
            m.consts.insert(k.into(), v);
        }
        Ok(())
    };
    match DenseModel::new(&r.program, &r.env, &back.items, None, &setup, None) {
        Err(DenseError::Refused(e)) => assert!(e.message.contains("use smaller sizes"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a 268M-element input was accepted"),
    }
}

#[test]
fn a_statement_that_reads_what_it_writes_elsewhere_is_not_lowered() {
    // In place, element by element, later iterations read x as already updated: whole
    // arrays would read the old values. The dense run refuses; the interpreter runs it.
    let src = "size N\nindex i, k : N\ninput x[N] ~ normal(0, 1)\nparam W[N, N] ~ normal(0, 1)\nfor i,k: x[i] += W[i,k] x[k]\nsample N = 3\n";
    let opts = Options {
        no_monte_carlo: true,
        no_numeric: true,
        ..Options::default()
    };
    let r = check_source("inline.tq", src, &opts);
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let back = tq::grad::backward(&r.program, &r.env);
    match run_model_dense(&r.program, &r.env, &back.items, None, 0, &|_| Ok(())) {
        Err(DenseError::Unsupported(why)) => {
            assert!(why.contains("reads the tensor it writes"), "{why}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("lowered a statement whose iterations read each other's writes"),
    }
    assert!(run_model(&r.program, &r.env, &back.items, None, 0).is_ok());
}

#[test]
fn monte_carlo_falls_back_to_the_interpreter_when_a_statement_does_not_lower() {
    // `x[i] += 0 x[k]` reads x where other iterations write it: not lowered. The claim is
    // still tested, on the element-wise interpreter (at most 400 trials there).
    let src = "size N\nindex i, k : N\ninput x[N] ~ normal(0, 1)\nfor i,k: x[i] += 0 x[k]\nclaim Var(x) == 1\nsample N = 4\n";
    let r = check_source("inline.tq", src, &Options::default());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let c = &r.claims[0];
    assert_ne!(c.verdict, tq::claims::Verdict::Refuted, "{}", c.evidence);
    assert!(
        c.evidence.contains("400 trials") || c.evidence.contains("400 independent trials"),
        "{}",
        c.evidence
    );
}

/// Element-wise combinations (`+`, `-`, `*`, `/`, `^`, comparisons) of two
/// values over the same indices, or of a value and a number on either side, are combined
/// in place in one of the two buffers (`Dense::zip`'s flat path): the values must be the
/// interpreter's, and a member whose storage was read whole (shared with the value being
/// combined, `h[b,j] + h[b,j]`) must keep its own values for the statements after it.
#[test]
fn element_wise_combinations_in_place_agree_with_the_interpreter() {
    let src = "\
size B, J
input h[B, J] ~ normal(0, 1)
input g[B, J] ~ normal(1, 2)
s[b,j] = h[b,j] + h[b,j]
d[b,j] = h[b,j] - g[b,j]
p[b,j] = h[b,j] g[b,j] / 4
q[b,j] = 2 - h[b,j]
r[b,j] = 3 / g[b,j]
w[b,j] = g[b,j]^2 + [h[b,j] > 0]
m[b,j] = relu(h[b,j]) + 0.5 tanh(g[b,j])
t[b,j] = h[b,j] + s[b,j] + d[b,j]
sample B = 3, J = 5
";
    let r = check_source(
        "in_place.tq",
        src,
        &Options {
            no_monte_carlo: true,
            no_numeric: true,
            ..Options::default()
        },
    );
    assert!(
        r.unexpected_errors() == 0,
        "the model does not check: {:?}",
        r.diagnostics
    );
    let setup = |_: &mut tq::num::Machine| Ok(());
    for seed in [0, 7] {
        let reference =
            tq::num::gradcheck::run_model_with(&r.program, &r.env, &[], None, seed, &setup)
                .unwrap()
                .machine
                .vals;
        let dense = run_model_dense(&r.program, &r.env, &[], None, seed, &setup).unwrap();
        let store = dense.machine.to_store();
        // (Within rounding: the dense executor divides as a product by the reciprocal.)
        compare("in_place", &reference, &store);
        // Sums and products of the same pairs are the same numbers exactly.
        for name in ["s", "d", "q", "t"] {
            let k = (name.to_string(), false);
            for (p, v) in &reference[&k] {
                assert_eq!(store[&k][p].to_bits(), v.to_bits(), "{k:?}{p:?}");
            }
        }
        let h = &store[&("h".to_string(), false)];
        let s = &store[&("s".to_string(), false)];
        for (p, v) in h {
            assert_eq!(s[p], 2.0 * v, "h was changed by the in-place sum at {p:?}");
        }
    }
}

/// A model's trials share the plans of its statements and reads (made by the first trial
/// that runs each statement at each binding, read by the later ones, on every core):
/// reading them changes no value. One model runs seeds 0, 7, 0, 3 in turn; every run
/// equals the interpreter's at its seed (to 1e-12 relative, as above) and the repeated
/// seed gives the same bits, on every problem that lowers (layers and loops: one plan per
/// binding) and on models that read at looked-up positions (never kept: they depend on
/// the values).
#[test]
fn trials_that_read_the_plans_agree_with_the_interpreter() {
    let mut files: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("problems"))
            .unwrap()
            .filter_map(|e| {
                let n = e.ok()?.file_name().into_string().ok()?;
                n.ends_with(".tq").then(|| format!("problems/{n}"))
            })
            .collect();
    files.sort();
    files.push("tests/cases/red14f/embedding_lookup.tq".into());
    files.push("tests/cases/red14b/embedding_onehot.tq".into());
    let mut checked = Vec::new();
    for rel in &files {
        let r = report(rel);
        if r.program.items.is_empty() {
            continue;
        }
        let back = tq::grad::backward(&r.program, &r.env);
        let loss = back.seeds.first().map(String::as_str);
        let Ok(model) = DenseModel::new(&r.program, &r.env, &back.items, loss, &|_| Ok(()), None)
        else {
            continue;
        };
        let mut first_zero = None;
        let mut runs = 0;
        for seed in [0u64, 7, 0, 3] {
            let Ok(reference) = run_model(&r.program, &r.env, &back.items, loss, seed) else {
                break;
            };
            let dense = match model.run(seed) {
                Ok(d) => d.machine.to_store(),
                Err(DenseError::Unsupported(_)) => break,
                Err(DenseError::Refused(e)) => panic!("{rel}: refused: {e}"),
            };
            compare(rel, &reference.machine.vals, &dense);
            if seed == 0 {
                match &first_zero {
                    None => first_zero = Some(dense),
                    Some(z) => assert!(*z == dense, "{rel}: seed 0 run again differs"),
                }
            }
            runs += 1;
        }
        if runs == 4 {
            checked.push(rel.clone());
        }
    }
    eprintln!("checked: {}", checked.join(", "));
    for must in ["resnet", "pyramid", "deep_linear", "embedding_lookup"] {
        assert!(
            checked.iter().any(|c| c.contains(must)),
            "{must} was not run four times: {checked:?}"
        );
    }
}
