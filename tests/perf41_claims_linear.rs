//! perf41 (issues #15/#16, front41's m08): the work of `tq check` per claim must not grow
//! with the number of claims in the file. The engines that decide one claim read the
//! model from the program's items, which hold every claim too; each claim re-scanned all
//! the others (16,000 small claims: 21 s). Not a timed test: it counts the items the
//! model's walks are handed (`tq::syntax::model_items::items_walked`), which grows in
//! N² when every claim walks every other one, and linearly when the model's items are
//! listed once per file (`with_model_items` in `claims::decide_all`).
//! perf42: also with Monte Carlo on and more claim forms; the copy of the program without
//! `at` lines (the sampled runs, the moments engine) is in scope too (`model_items::listed`).

mod common;

use tq::report::check_source;
use tq::syntax::model_items::items_walked;

/// A file of `n` claims of four forms over one of several models.
fn file(model: &str, elem: &str, n: usize) -> String {
    let mut s = format!("{model}\n");
    for k in 0..n {
        s.push_str(&match k % 4 {
            0 => format!("claim E({elem}[0]) + {k} == {k}\n"),
            1 => format!("claim {} {elem}[i] == {} x[i]\n", k + 1, 2 * (k + 1)),
            2 => format!("claim Var({elem}[i]) <= {}\n", k + 40),
            _ => format!("claim a + {k} >= a + {}\n", k as i64 - 1),
        });
    }
    s.push_str("sample I = 3, a = 1\n");
    s
}

/// perf42: more claim forms, each taking another engine's path: a given on a symbol
/// (the given-cycle check, the element engines' machine), a claim at a point (`at`), an
/// element claim under a given, a mean the moments engine writes out.
fn file_more_forms(model: &str, elem: &str, n: usize) -> String {
    let mut s = format!("{model}\n");
    for k in 0..n {
        s.push_str(&match k % 4 {
            0 => format!("claim E({elem}[1]) + {k} == {k} given a == 2\n"),
            1 => format!("claim {elem}[i] + a == {elem}[i] + {} at a = {}\n", k, k),
            2 => format!(
                "claim {} {elem}[i] == {} {elem}[i] given a == {}\n",
                k + 1,
                k + 1,
                k
            ),
            _ => format!("claim E({elem}[0] + {k}) == {k}\n"),
        });
    }
    s.push_str("sample I = 3, a = 1\n");
    s
}

fn walked(src: &str) -> u64 {
    walked_with(src, &common::fast())
}

fn walked_with(src: &str, opts: &tq::report::Options) -> u64 {
    let before = items_walked();
    let r = check_source("many.tq", src, opts);
    assert!(!r.claims.is_empty(), "{src}");
    items_walked() - before
}

#[test]
fn the_model_walks_of_a_check_grow_linearly_in_its_claims() {
    let models = [
        (
            "size I\nsymbol a\ninput x[I] ~ normal(0, 1)\ny[i] = 2 x[i]",
            "y",
        ),
        (
            "size I\nsymbol a\ninput x[I] ~ normal(0, 1)\nu[i] = x[i] + x[i]\nz[i] = u[i]",
            "z",
        ),
        (
            "size I\nsymbol a\ninput x[I] ~ normal(0, 1)\nh[i] = 2 x[i]\nw[i] = h[i] + x[i]",
            "h",
        ),
    ];
    for (model, elem) in models {
        for n in [40, 120] {
            let one = walked(&file(model, elem, n));
            let two = walked(&file(model, elem, 2 * n));
            assert!(one > 0, "no model walk counted for {n} claims of\n{model}");
            // Linear: twice the claims, about twice the walks (quadratic was four times).
            assert!(
                two * 10 <= one * 25,
                "{n} claims: {one} items walked, {} claims: {two}\n{model}",
                2 * n
            );
        }
    }
}

/// perf42: the same with Monte Carlo on (its sanity runs of the moment claims, its
/// decisions), and with the claim forms of [`file_more_forms`]: the model's walks of the
/// element engines' machine (`num::Machine::new`), the random-declaration and support
/// scans (`tensor_sym`), and the scalar definitions a claim reads are listed once.
#[test]
fn the_model_walks_stay_linear_with_monte_carlo_and_more_claim_forms() {
    let models = [
        (
            "size I\nsymbol a\ninput x[I] ~ normal(0, 1)\ny[i] = 2 x[i]",
            "y",
        ),
        (
            "size I\nsymbol a\ninput x[I] ~ uniform(0, 1)\nh[i] = relu(x[i] - 1/2)\nw[i] = h[i] + x[i]",
            "w",
        ),
    ];
    let full = tq::report::Options::default();
    for (model, elem) in models {
        for (n, opts) in [(40, &full), (60, &common::fast())] {
            for make in [file, file_more_forms] {
                let one = walked_with(&make(model, elem, n), opts);
                let two = walked_with(&make(model, elem, 2 * n), opts);
                assert!(one > 0, "no model walk counted for {n} claims of\n{model}");
                assert!(
                    two * 10 <= one * 25,
                    "{n} claims: {one} items walked, {} claims: {two}\n{model}",
                    2 * n
                );
            }
        }
    }
}
