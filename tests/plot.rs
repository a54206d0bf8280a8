//! `tq plot`: the predicted curves are the moments engine's closed forms at the sample
//! values, the sampled points agree with them within their intervals, the SVG shows both
//! series and is the same for the same seed, and bad requests are refused with a message.

use std::path::Path;
use std::process::{Command, Output};
use tq::report::{check_source, Options};

fn tq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tq"))
        .env("TQ_NO_CACHE", "1")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("tq runs")
}

fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tq-plot-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn report(path: &str) -> tq::report::FileReport {
    let src = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap();
    let opts = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    check_source(path, &src, &opts)
}

/// The default of `tq plot`.
const TRIALS: usize = 200;

#[test]
fn resnet_predictions_are_the_closed_forms_and_the_samples_agree() {
    let r = report("problems/resnet.tq");
    let consts = tq::num::Machine::new(&r.program, &r.env).unwrap().consts;
    let (d, j, s, l) = (consts["D"], consts["J"], consts["sigma_W"], consts["L"]);
    // The seeds' answers (a) and (c): (1 + D^2 J sigma_W^2)^l and ^(L - l).
    let step = 1.0 + d * d * j * s * s;
    let plot = tq::plot::series(&r, TRIALS, 0).unwrap();
    assert_eq!(plot.executor, "dense executor");
    assert!(!plot.zero_padding);
    assert_eq!(plot.series.len(), 2, "{:?}", plot.series);
    for sr in &plot.series {
        let members: Vec<f64> = sr.predicted.iter().map(|p| p.0).collect();
        assert_eq!(
            members,
            (0..=l as i64).map(|k| k as f64).collect::<Vec<_>>(),
            "{}",
            sr.label
        );
        assert_eq!(sr.status, "exact");
        for &(k, y) in &sr.predicted {
            let want = if sr.grad {
                step.powf(l - k)
            } else {
                step.powf(k)
            };
            assert!(
                (y - want).abs() <= 1e-12 * want,
                "{} at {k}: {y} vs {want}",
                sr.label
            );
        }
        assert_eq!(sr.sampled.len(), sr.predicted.len());
        for (&(k, m, h), &(_, y)) in sr.sampled.iter().zip(&sr.predicted) {
            assert!(h > 0.0 && h < 0.2 * y, "{} at {k}: interval {h}", sr.label);
            assert!(
                (m - y).abs() <= h,
                "{} at {k}: sampled {m} ± {h}, predicted {y}",
                sr.label
            );
        }
    }
    // Other seeds: every point within its interval widened to a family-wise 1% level
    // over the ten points (Bonferroni, z = 3.29 instead of 1.96).
    for seed in 1..5 {
        let plot = tq::plot::series(&r, TRIALS, seed).unwrap();
        for sr in &plot.series {
            for (&(k, m, h), &(_, y)) in sr.sampled.iter().zip(&sr.predicted) {
                assert!(
                    (m - y).abs() <= h * 3.29 / 1.96,
                    "seed {seed}, {} at {k}: sampled {m} ± {h}, predicted {y}",
                    sr.label
                );
            }
        }
    }
    assert_eq!(plot.series[0].label, "Var(L_l)");
    assert_eq!(plot.series[1].label, "Var(L_l.grad)");
    assert_eq!(plot.series[1].closed_form, "(D^2*J*sigma_W^2 + 1)^(L - l)");
}

#[test]
fn resnet_svg_shows_both_series_and_is_reproducible() {
    let dir = std::env::temp_dir().join(format!("tq-plot-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b, c) = (dir.join("a.svg"), dir.join("b.svg"), dir.join("c.svg"));
    for (p, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let out = tq(&[
            "plot",
            "problems/resnet.tq",
            "-o",
            p.to_str().unwrap(),
            "--seed",
            seed,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (a, b, c) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
        std::fs::read_to_string(c).unwrap(),
    );
    assert!(a.starts_with("<svg"));
    for label in [
        "predicted Var(L_l) = (D^2*J*sigma_W^2 + 1)^l (moments engine",
        "predicted Var(L_l.grad) = (D^2*J*sigma_W^2 + 1)^(L - l) (moments engine",
        "sampled Var(L_l): 200 trials (seed 3, dense executor), 95% interval",
        "sampled Var(L_l.grad): 200 trials",
    ] {
        assert!(a.contains(label), "missing {label:?}");
    }
    // Five members per family: one marker each.
    assert_eq!(
        a.matches("<circle").count(),
        2 * 5 + 2,
        "markers and legend"
    );
    assert_eq!(a, b, "same seed, same SVG");
    assert_ne!(a, c, "another seed samples other points");
    // To standard output without -o.
    let out = tq(&["plot", "problems/resnet.tq", "--seed", "3"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), a);
}

#[test]
fn zero_padding_is_said_in_the_legend() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/resnet.tq"),
    )
    .unwrap()
    .replace("boundary circular", "boundary zero");
    let p = temp("resnet_zero.tq", &src);
    let out = tq(&["plot", &p, "--trials", "20"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("closed form, zero padding: holds away from the border)"));
    assert!(svg.contains("zero padding: every position, border included"));
    assert!(svg.contains(
        "predicted Var(L_l), mean over all positions (second-moment program, zero padding)"
    ));
    // The pooled samples estimate the mean over positions of the second-moment program,
    // which lies below the closed form once the border has had an effect (l >= 1).
    let r = check_source(
        &p,
        &src,
        &Options {
            no_numeric: true,
            no_monte_carlo: true,
            ..Options::default()
        },
    );
    let plot = tq::plot::series(&r, TRIALS, 0).unwrap();
    assert!(plot.zero_padding);
    let fwd = &plot.series[0];
    assert_eq!(fwd.label, "Var(L_l)");
    assert_eq!(fwd.pooled.len(), fwd.predicted.len());
    assert!(
        plot.series[1].pooled.is_empty(),
        "backward: no pooled curve"
    );
    let z = tq::claims::montecarlo::z_for(0.01 / fwd.sampled.len() as f64);
    for ((&(k, m, h), &(_, pool)), &(_, y)) in
        fwd.sampled.iter().zip(&fwd.pooled).zip(&fwd.predicted)
    {
        if k >= 1.0 {
            assert!(pool < y, "at {k}: pooled {pool} vs closed form {y}");
        }
        assert!(
            (m - pool).abs() <= h * z / 1.96,
            "at {k}: sampled {m} ± {h}, pooled prediction {pool}"
        );
    }
}

#[test]
fn a_file_without_a_variance_recurrence_is_refused() {
    let out = tq(&["plot", "problems/comp_graph.tq"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot plot: the moments engine derives no variance recurrence"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_trial_counts_are_refused() {
    for n in ["0", "1", "10001"] {
        let out = tq(&["plot", "problems/resnet.tq", "--trials", n]);
        assert_eq!(out.status.code(), Some(2), "--trials {n}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("--trials must be from 2 to 10000 (asked for {n})")),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    // Within the range but over the work budget at these sizes: refused after the first
    // trial measures the work, before the others run.
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/resnet.tq"),
    )
    .unwrap()
    .replace(
        "sample B = 2, X = 6, Y = 6, J = 3, D = 3, L = 4, sigma_W = 0.1",
        "sample B = 4, X = 16, Y = 16, J = 8, D = 3, L = 4, sigma_W = 0.05",
    );
    let p = temp("resnet_big.tq", &src);
    let out = tq(&["plot", &p, "--trials", "10000"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("operations on the dense executor") && err.contains("over the budget"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_plotted_problem_file_agrees_with_its_prediction() {
    // Every file in problems/ that plots: with circular padding or no shifted reads, each
    // sampled point lies within its interval widened to a family-wise 1% level over the
    // file's points (Bonferroni); under zero padding the pooled points include the border,
    // where the variance is lower, so they may only lie below.
    let mut plotted = Vec::new();
    let mut dir: Vec<_> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("problems"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tq"))
        .collect();
    dir.sort();
    for p in dir {
        let name = format!("problems/{}", p.file_name().unwrap().to_string_lossy());
        let r = report(&name);
        let Ok(plot) = tq::plot::series(&r, TRIALS, 0) else {
            continue;
        };
        let points: usize = plot.series.iter().map(|s| s.sampled.len()).sum();
        let z = tq::claims::montecarlo::z_for(0.01 / points as f64);
        for sr in &plot.series {
            assert_eq!(sr.sampled.len(), sr.predicted.len(), "{name}: {}", sr.label);
            for (&(k, m, h), &(_, y)) in sr.sampled.iter().zip(&sr.predicted) {
                let widened = h * z / 1.96;
                let ok = if plot.zero_padding {
                    m <= y + widened
                } else {
                    (m - y).abs() <= widened
                };
                if let Some(&(_, pool)) = sr.pooled.iter().find(|p| p.0 == k) {
                    assert!(
                        (m - pool).abs() <= widened,
                        "{name}, {} at {k}: sampled {m} ± {h}, pooled prediction {pool}",
                        sr.label
                    );
                }
                assert!(
                    ok,
                    "{name}, {} at {k}: sampled {m} ± {h}, predicted {y}",
                    sr.label
                );
            }
        }
        plotted.push(name);
    }
    assert!(
        plotted.len() >= 4,
        "expected resnet, deep_linear, pyramid, single_unit at least: {plotted:?}"
    );
}

#[test]
fn the_interpreter_samples_what_the_dense_executor_samples() {
    // The same seeds draw the same samples on both executors (docs/numeric.md), so the
    // sampled points agree to rounding; the predictions are the same closed forms.
    let r = report("problems/resnet.tq");
    let dense = tq::plot::series_on(&r, 20, 5, tq::plot::Executor::Auto).unwrap();
    let interp = tq::plot::series_on(&r, 20, 5, tq::plot::Executor::Interpreter).unwrap();
    assert_eq!(dense.executor, "dense executor");
    assert_eq!(interp.executor, "interpreter");
    assert_eq!(dense.series.len(), interp.series.len());
    for (a, b) in dense.series.iter().zip(&interp.series) {
        assert_eq!(a.label, b.label);
        assert_eq!(a.predicted, b.predicted);
        assert_eq!(a.sampled.len(), b.sampled.len());
        for (p, q) in a.sampled.iter().zip(&b.sampled) {
            assert_eq!(p.0, q.0);
            assert!(
                (p.1 - q.1).abs() <= 1e-9 * p.1.abs(),
                "{}: {p:?} vs {q:?}",
                a.label
            );
            assert!(
                (p.2 - q.2).abs() <= 1e-6 * p.2.abs(),
                "{}: {p:?} vs {q:?}",
                a.label
            );
        }
    }
}
