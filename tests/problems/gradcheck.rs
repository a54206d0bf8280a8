//! Gradient checks: every differentiable model passes, a planted wrong derivative
//! fails, and every derived program is itself a `.tq` program that checks.

use crate::common;
use std::path::Path;
use tq::report::{check_source, FileReport, Options};
use tq::syntax::ast::{Item, ItemKind, Program};
use tq::syntax::{parser, printer};

/// The report of a problem file as `tq check` makes it, computed once in this binary and
/// shared with the snapshots, errata and render tests (the gradient check does not depend
/// on the Monte Carlo runs; these tests read the gradient checks and the derivation only).
fn report(rel: &str) -> &'static FileReport {
    common::shared_report(rel, "full", common::full)
}

#[test]
fn the_seed_models_pass_gradcheck() {
    for name in [
        "resnet",
        "ugrnn",
        "ugrnn_two_gates",
        "gru",
        "rnn_lm",
        "ugcnn",
        "video_cnn",
        "pyramid",
        "conv",
        "batchnorm",
        "comp_graph",
        "multihead_mlp",
        "residual_mlp",
        "deep_linear",
        "gelu_mlp",
    ] {
        let r = report(&format!("problems/{name}.tq"));
        assert!(
            r.gradcheck_skipped.is_none(),
            "{name}: {:?}",
            r.gradcheck_skipped
        );
        assert!(
            r.gradcheck.len() >= 2,
            "{name}: a check per leaf and the gather form"
        );
        for g in &r.gradcheck {
            assert!(g.passed && g.max_rel_error <= 1e-6, "{name}: {g:?}");
        }
        let json = r.to_json();
        assert_eq!(
            json["gradcheck"].as_array().unwrap().len(),
            r.gradcheck.len()
        );
    }
}

/// Removes the `k`-th equation (in program order) from a list of items and returns it.
fn drop_equation(items: &mut Vec<Item>, k: &mut usize) -> Option<Item> {
    let mut i = 0;
    while i < items.len() {
        let hit = match &mut items[i].kind {
            ItemKind::Equation(_) => {
                if *k == 0 {
                    true
                } else {
                    *k -= 1;
                    false
                }
            }
            ItemKind::ForIndices(f)
                if f.body.len() == 1 && matches!(f.body[0].kind, ItemKind::Equation(_)) =>
            {
                if *k == 0 {
                    true
                } else {
                    *k -= 1;
                    false
                }
            }
            ItemKind::Loop(l) => {
                if let Some(it) = drop_equation(&mut l.body, k) {
                    return Some(it);
                }
                false
            }
            _ => false,
        };
        if hit {
            return Some(items.remove(i));
        }
        i += 1;
    }
    None
}

#[test]
fn a_dropped_term_fails_gradcheck() {
    for name in ["gru", "resnet", "rnn_lm"] {
        let r = report(&format!("problems/{name}.tq"));
        let d = tq::derive::derivation(r).expect("derivable");
        let gather: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        let loss = d.backward.seeds.first().map(String::as_str);
        // Each statement of the loop body dropped in turn: every one must be noticed,
        // by the finite differences or by the gather form.
        let mut k = 0;
        loop {
            let mut planted = d.backward.items.clone();
            let mut which = k;
            let Some(dropped) = drop_equation(&mut planted, &mut which) else {
                break;
            };
            k += 1;
            // `Loss.grad = 1` is never read: the unit gradient is left out of products.
            if let ItemKind::Equation(eq) = &dropped.kind {
                if eq.lhs.grad
                    && eq.lhs.indices.is_none()
                    && loss == Some(eq.lhs.name.base.as_str())
                {
                    continue;
                }
            }
            let checks =
                tq::num::gradcheck::gradcheck(&r.program, &r.env, &planted, &gather, loss, 0)
                    .unwrap();
            assert!(
                checks.iter().any(|g| !g.passed),
                "{name}: dropping statement {} went unnoticed: {checks:?}",
                k - 1
            );
        }
        assert!(k >= 3, "{name}: only {k} statements");
    }
}

#[test]
fn every_derived_program_parses_and_checks_again() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
    let mut n = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("tq") {
            continue;
        }
        let rel = format!("problems/{}", path.file_name().unwrap().to_str().unwrap());
        let r = report(&rel);
        let Some(d) = tq::derive::derivation(r) else {
            continue;
        };
        if d.backward.items.is_empty() {
            continue;
        }
        // The model's declarations and equations, then the derived program.
        let forward: Vec<Item> = r
            .program
            .items
            .iter()
            .filter(|i| !matches!(i.kind, ItemKind::Claim(_)))
            .cloned()
            .collect();
        for backward in [
            d.backward.items.clone(),
            d.gather.iter().map(|g| g.item.clone()).collect::<Vec<_>>(),
        ] {
            let mut items = forward.clone();
            items.extend(backward);
            let text = printer::print_program(&Program { items });
            let parsed = parser::parse(&text);
            assert!(
                parsed.diagnostics.is_empty(),
                "{rel}: {:?}\n{text}",
                parsed.diagnostics
            );
            let (_, diags) = tq::check::check(&parsed.program);
            let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty(), "{rel}: {errors:?}\n{text}");
        }
        n += 1;
    }
    assert!(n >= 12, "only {n} derived programs");
}

/// A correct gradient whose objective is a cubic with a tiny slope along the direction
/// tried (one shared scalar weight over three residual layers): the central difference's
/// truncation error alone exceeded 1e-6 of the slope (found by the soundness generator,
/// `--seed 643054`); Richardson's step resolves it. The planted wrong derivatives of
/// `a_dropped_term_fails_gradcheck` still fail.
#[test]
fn a_cubic_objective_with_a_tiny_slope_passes() {
    let src = "size B, T, C, D, L, V
index dt : D
symbol sigma_W
boundary circular
param W[D, C, C] ~ normal(0, sigma_W^2)
param Emb[V, C] ~ normal(1/2, 1)
input tok[B, T] ~ categorical(V)
grad h_L ~ normal(0, 1)
h_0[b, t, c] = Emb[tok[b, t], c]
for l in 0..L-1:
  h_{l+1}[b, t, c] = h_l[b, t, c] + W[DT, C', c] h_l[b, t + DT, C']
sample B = 2, T = 4, C = 1, D = 1, L = 3, V = 3, sigma_W = 1/2
";
    for seed in [643054, 0, 1, 2] {
        let opts = Options {
            no_monte_carlo: true,
            seed,
            ..Options::default()
        };
        let r = check_source("cubic.tq", src, &opts);
        assert!(
            !r.gradcheck.is_empty(),
            "no gradient check: {:?}",
            r.gradcheck_skipped
        );
        for g in &r.gradcheck {
            assert!(
                g.passed,
                "seed {seed}: {} relative error {}",
                g.tensor, g.max_rel_error
            );
        }
    }
}

/// An objective identically 0 up to rounding (the sum of layer-norm outputs, probe36 b21):
/// every gradient is exactly 0, and the finite differences are F's rounding noise over the
/// step. The check's floor scales with the terms that cancel (the sum of |z ∂F/∂z| over the
/// computed values), so it passes at every seed; a gradient planted wrong by 1e-6 or 1e-7
/// of x still fails (the floor is about 3e-9 here, the planted directional error 1e-7).
#[test]
fn a_cancelling_objective_passes_and_a_small_planted_error_fails() {
    let src = "size B, J
symbol eps
input x[B, J] ~ normal(0, 1)
m[b] = x[b,J] / J
v[b] = (x[b,J] - m[b])^2 / J
n[b,j] = (x[b,j] - m[b]) / sqrt(v[b] + eps)
loss = sum_{b}(sum_{j}(n[b,j]))
sample B = 4, J = 8, eps = 0.01
";
    for seed in 0..12 {
        let opts = Options {
            no_monte_carlo: true,
            seed,
            ..Options::default()
        };
        let r = check_source("ln_zero.tq", src, &opts);
        assert!(
            !r.gradcheck.is_empty(),
            "seed {seed}: {:?}",
            r.gradcheck_skipped
        );
        for g in &r.gradcheck {
            assert!(
                g.passed,
                "seed {seed}: {} relative error {}",
                g.tensor, g.max_rel_error
            );
        }
        let d = tq::derive::derivation(&r).expect("derivable");
        let gather: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        let loss = d.backward.seeds.first().map(String::as_str);
        for wrong in ["1000000", "10000000"] {
            let mut planted = d.backward.items.clone();
            let extra = parser::parse(&format!("for b,j: x.grad[b,j] += x[b,j] / {wrong}\n"));
            assert!(extra.diagnostics.is_empty(), "{:?}", extra.diagnostics);
            planted.extend(extra.program.items);
            let checks =
                tq::num::gradcheck::gradcheck(&r.program, &r.env, &planted, &gather, loss, seed)
                    .unwrap();
            assert!(
                checks.iter().any(|g| g.tensor == "x" && !g.passed),
                "seed {seed}: x.grad planted wrong by x/{wrong} passed: {checks:?}"
            );
        }
    }
}

/// Every derived program of problems/ and tests/cases/, both forms, printed as `.tq` and
/// parsed back is the same program (spans aside): the printer writes nothing the parser
/// reads otherwise (session 36, h13: a relation that was a whole right side lost its
/// parentheses, `a.grad = a > 1`, and `tq derive` and the editor's inserted program did
/// not parse; session 38: a file with per-member sizes iterates the members' indices,
/// `for b,n_3,n_2:`, which a `for` line did not read).
#[test]
fn every_printed_derived_program_reads_back_the_same() {
    let opts = Options {
        no_claims: true,
        no_numeric: true,
        ..Options::default()
    };
    let mut n = 0;
    for dir in ["problems", "tests/cases"] {
        for path in common::tq_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)) {
            let src = std::fs::read_to_string(&path).unwrap();
            let r = check_source(&common::rel(&path), &src, &opts);
            if r.diagnostics.iter().any(|d| d.is_error()) {
                continue;
            }
            let Some(d) = tq::derive::derivation(&r) else {
                continue;
            };
            for items in [
                d.backward.items.clone(),
                d.gather.iter().map(|g| g.item.clone()).collect::<Vec<_>>(),
            ] {
                if items.is_empty() {
                    continue;
                }
                let program = Program { items };
                let text = printer::print_program(&program);
                let back = parser::parse(&text);
                assert!(
                    back.diagnostics.is_empty(),
                    "{}: the printed derived program does not parse: {:?}\n{text}",
                    path.display(),
                    back.diagnostics
                );
                assert_eq!(
                    printer::without_spans(&back.program),
                    printer::without_spans(&program),
                    "{}: the printed derived program reads back otherwise\n{text}",
                    path.display()
                );
                n += 1;
            }
        }
    }
    assert!(n >= 100, "only {n} derived programs");
}
