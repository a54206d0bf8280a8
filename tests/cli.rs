//! The command line of render, variants and emit: exit codes, messages, and a silent
//! stderr when it is not a terminal (the progress bar draws only on terminals).

mod common;

use std::process::Output;

fn tq(args: &[&str]) -> Output {
    common::tq_bin(args)
}

fn temp(name: &str, text: &str) -> String {
    common::temp_file("cli", name, text)
}

const GRAPH: &str = "scalar a, b\nx = a^2\nu = x / (b^2 + 1)\nat a = 2, b = 1\nclaim u == 2\nclaim a.grad == 2\nvary a in 1..3, b in {1, 2}\n";

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let out = tq(&[
        "check",
        "problems/comp_graph.tq",
        "problems/gru.tq",
        "problems/conv.tq",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn variants_are_identical_for_an_identical_seed_and_refuse_bad_counts() {
    let f = temp("graph.tq", GRAPH);
    let a = tq(&[
        "variants", &f, "--count", "4", "--seed", "3", "--format", "json",
    ]);
    let b = tq(&[
        "variants", &f, "--count", "4", "--seed", "3", "--format", "json",
    ]);
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert_eq!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(doc["variants"].as_array().unwrap().len(), 4);
    assert_eq!(doc["available"], 6);
    let too_many = tq(&["variants", &f, "--count", "9", "--seed", "3"]);
    assert_eq!(too_many.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&too_many.stderr).contains("only 6 distinct"));
    let refused = tq(&["variants", &f, "--count", "1000"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("from 1 to 100"));
    let plain = temp("plain.tq", "scalar a\nx = a^2\n");
    let none = tq(&["variants", &plain]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no `vary` line"));
}

#[test]
fn render_and_emit_refuse_files_with_errors() {
    let bad = temp("bad.tq", "size B\ny[b] = W[b]\n");
    let r = tq(&["render", &bad, "--format", "markdown"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("Nothing is derived from a file with errors")
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("E0101"));
    let e = tq(&["emit", &bad, "--target", "numpy"]);
    assert_eq!(e.status.code(), Some(1));
    assert!(e.stdout.is_empty());
    let missing = tq(&["render", "no/such/file.tq"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `tq bench` (the workload of docs/performance.md): the variances it prints agree with
/// the closed form (1 + 1/8)^8 = 2.5658 within the Monte Carlo error of two trials (less
/// near the border under zero padding, hence the lower margin), and are the same on a
/// second run with the same seed on one thread instead of one per core. Trial counts
/// outside 1..=1000 are refused before anything runs.
#[test]
fn bench_variances_match_the_closed_form_and_repeat() {
    let vars = |threads: &str| -> Vec<f64> {
        let out = tq(&[
            "bench",
            "--trials",
            "2",
            "--seed",
            "3",
            "--threads",
            threads,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        ["var(L_L)=", "var(L_0.grad)="]
            .iter()
            .map(|k| {
                let rest = &text[text.find(k).unwrap_or_else(|| panic!("{text}")) + k.len()..];
                rest.split_whitespace().next().unwrap().parse().unwrap()
            })
            .collect()
    };
    let first = vars("2");
    for v in &first {
        assert!((2.2..2.9).contains(v), "variance {v} far from 2.5658");
    }
    assert_eq!(first, vars("1"));
    for bad in ["0", "1001"] {
        let out = tq(&["bench", "--trials", bad]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--trials must be from 1 to 1000"), "{err}");
    }
}

/// `tq bench --precision both` runs the workload in f64 and then with its matrix products
/// in f32, on the same trials: the variances printed agree to f32's rounding (relative
/// 10^-4, where the Monte Carlo error of two trials is about 10^-1), and the f64 line is
/// the default run's.
#[test]
fn bench_in_f32_agrees_with_f64_on_the_same_trials() {
    let run = |precision: &str| -> String {
        let out = tq(&[
            "bench",
            "--trials",
            "2",
            "--seed",
            "3",
            "--precision",
            precision,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let vars = |line: &str| -> Vec<f64> {
        ["var(L_L)=", "var(L_0.grad)="]
            .iter()
            .map(|k| {
                let rest = &line[line.find(k).unwrap_or_else(|| panic!("{line}")) + k.len()..];
                rest.split_whitespace().next().unwrap().parse().unwrap()
            })
            .collect()
    };
    let both = run("both");
    let lines: Vec<&str> = both.lines().collect();
    assert_eq!(lines.len(), 2, "{both}");
    assert!(lines[0].starts_with("tq dense f64: "), "{both}");
    assert!(lines[1].starts_with("tq dense f32: "), "{both}");
    let (double, single) = (vars(lines[0]), vars(lines[1]));
    assert_eq!(double, vars(&run("f64")));
    for (d, s) in double.iter().zip(&single) {
        assert!((d - s).abs() <= 1e-4 * d, "f64 {d} against f32 {s}");
    }
}

/// `tq check --precision f32` (issue 16) prints the verdicts of f64: operands outside
/// f32's safe range (tests/cases/speed26: products of 10^40, which overflow f32, and of
/// 10^-50, which it rounds to 0) are multiplied in f64, a claim the f32 trials refute is
/// decided again on f64 trials (its evidence says so), and a claim they confirm says its
/// products ran in f32.
#[test]
fn check_in_f32_gives_the_verdicts_of_f64() {
    let (mut again, mut single) = (0, 0);
    for file in [
        "tests/cases/speed26/f32_overflow_scale.tq",
        "tests/cases/speed26/f32_underflow_scale.tq",
        "tests/cases/lead15/bias_nonzero_mean.tq",
    ] {
        let run = |precision: &str| -> Vec<(String, String)> {
            let out = tq(&["check", "--format", "json", "--precision", precision, file]);
            let v: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
            v["files"][0]["claims"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["verdict"].as_str().unwrap().to_string(),
                        c["evidence"].as_str().unwrap_or("").to_string()
                            + c["numeric"]["evidence"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        };
        let (double, f32s) = (run("f64"), run("f32"));
        assert!(!double.is_empty(), "{file}");
        let verdicts = |v: &[(String, String)]| v.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
        assert_eq!(verdicts(&double), verdicts(&f32s), "{file}");
        for ((_, d), (_, s)) in double.iter().zip(&f32s) {
            assert!(!d.contains("in f32") && !d.contains("f64 trials"), "{d}");
            again += s.matches("decided on f64 trials").count();
            single += s.matches("(matrix products in f32)").count();
        }
    }
    assert!(again > 0, "no f32 refutation was decided again in f64");
    assert!(single > 0, "no claim was decided on f32 trials");
}

#[test]
fn explain_prints_a_codes_section_and_refuses_unknown_codes() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .unwrap();
    for code in ["E0203", "e0203", "203"] {
        let out = tq(&["explain", code]);
        assert_eq!(out.status.code(), Some(0), "{code}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("## E0203 — "), "{code}: {text}");
        assert!(text.contains("```tq"), "no example: {text}");
        assert!(
            !text.contains("## E0204"),
            "ran into the next section: {text}"
        );
    }
    // Every code of the page can be explained.
    for line in page.lines().filter(|l| l.starts_with("## E")) {
        let code = line[3..].split_whitespace().next().unwrap();
        let out = tq(&["explain", code]);
        assert_eq!(out.status.code(), Some(0), "{code}");
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(line),
            "{code}"
        );
    }
    let out = tq(&["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0203"));
}

/// An expectation is met only by its own verdict: an `expect refuted` claim that tq cannot
/// decide has not been shown false, so the file fails (with or without `--strict`); an
/// `expect undecided` claim passes only when undecided, also under `--strict`.
#[test]
fn expectations_are_met_only_by_their_own_verdict() {
    let undecided_expected_refuted = temp(
        "expect_refuted_undecided.tq",
        "symbol x\nexpect refuted\nclaim 0/0 == 1\n",
    );
    for strict in [false, true] {
        let mut args = vec!["check", "--no-cache", undecided_expected_refuted.as_str()];
        if strict {
            args.push("--strict");
        }
        let out = tq(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "strict {strict}: {text}");
        assert!(text.contains("undecided"), "{text}");
    }
    let undecided_expected = temp(
        "expect_undecided.tq",
        "symbol x\nexpect undecided\nclaim 0/0 == 1\nclaim x + x == 2 x\n",
    );
    for strict in [false, true] {
        let mut args = vec!["check", "--no-cache", undecided_expected.as_str()];
        if strict {
            args.push("--strict");
        }
        let out = tq(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "strict {strict}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let decided_expected_undecided = temp(
        "expect_undecided_proved.tq",
        "symbol x\nexpect undecided\nclaim x + x == 2 x\n",
    );
    let out = tq(&["check", "--no-cache", decided_expected_undecided.as_str()]);
    assert_eq!(out.status.code(), Some(1));
}

/// The key of a checked file, as Markdown.
fn key_page(r: &tq::report::FileReport) -> String {
    tq::render::render(
        r,
        tq::render::RenderOptions {
            format: tq::render::Format::Markdown,
            fragment: false,
            audience: tq::render::Audience::Key,
        },
    )
}

/// The key gives each member of an unrolled claim its own verdict (`Var(h_l)` at l = 1
/// proved, at l = 2 refuted): every member showed the first member's report, so a
/// refuted claim read "proved" on the page.
#[test]
fn render_gives_each_member_of_an_unrolled_claim_its_own_verdict() {
    let src = "size B, J
size L = 2
input h_0[B, J] ~ normal(0, 1)
for l in 1..L:
  h_l[b,j] = 2 h_{l-1}[b,j]
claim Var(h_l) == 4
sample B = 2, J = 3
";
    let opts = tq::report::Options {
        no_monte_carlo: true,
        ..tq::report::Options::default()
    };
    let r = tq::report::check_source("members.tq", src, &opts);
    let verdicts: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    // A claim over `h_l` covers every member, h_0 included (Var 1, 4, 16 at l = 0, 1, 2;
    // session 30: the members of a fixed depth are those the claim names, the start too).
    assert_eq!(verdicts, ["refuted", "proved", "refuted"], "{:?}", r.claims);
    let page = key_page(&r);
    let rows: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .collect();
    assert_eq!(rows.len(), 3, "{page}");
    assert!(rows[0].contains("refuted"), "{}", rows[0]);
    assert!(
        rows[1].contains("proved") && !rows[1].contains("refuted"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains("refuted"), "{}", rows[2]);
}

/// A fixed depth over six members is folded on the page (first two members, a vertical
/// ellipsis, the last), in the declarations and the program alike; each claim keeps
/// its row.
#[test]
fn render_folds_a_long_unrolled_depth() {
    let src = "size B, J
size L = 40
input h_0[B, J] ~ normal(0, 1)
param W_l[J, J] ~ normal(0, 1/J) for l in 1..L
for l in 1..L:
  h_l[b,j] = W_l[j,J'] h_{l-1}[b,J']
claim Var(h_L) == 1
sample B = 2, J = 3
";
    let opts = tq::report::Options {
        no_monte_carlo: true,
        no_numeric: true,
        ..tq::report::Options::default()
    };
    let r = tq::report::check_source("deep.tq", src, &opts);
    let page = key_page(&r);
    // The problem and the solution, before the table of claims (whose evidence names
    // the members the engine went through).
    let body = page.split("| # |").next().unwrap();
    assert!(body.contains("\\vdots"), "{body}");
    assert!(body.contains("W_{40}"), "the last member is kept: {body}");
    assert!(
        !body.contains("W_{20}"),
        "a middle member is folded: {body}"
    );
    // Of the 40 members, the page names the first two and the last in each folded run.
    let named: std::collections::BTreeSet<u32> = (1..=40)
        .filter(|k| body.contains(&format!("W_{{{k}}}")))
        .collect();
    assert!(named.len() <= 6, "members named: {named:?}");
}
