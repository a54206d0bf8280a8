//! fix42 (issue #14, probe42 r05): the verdict cache keys a claim by its identity. Two
//! `claim backprop includes:` blocks with as many statements, two derivations with the
//! same steps under different givens, two claims written alike at different lines with
//! different `expect` markers: each must get its own verdict, evidence and `expect`
//! marker with the cache on (cold and warm) exactly as with it off. Before, the second
//! read the first's entry: a true block was refuted, a false one confirmed, and an
//! `expect refuted` was lost.
//!
//! The files are generated (a generator of the class: gradient statements of several
//! tensors and factors, blocks in both orders, other claim kinds written twice).

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tq-fix42-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (line, verdict, evidence, expected) of each claim of `file`.
fn check(file: &Path, cache: bool) -> Vec<(u64, String, String, String)> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tq"));
    if cache {
        cmd.env_remove("TQ_NO_CACHE");
    } else {
        cmd.env("TQ_NO_CACHE", "1");
    }
    let out = cmd
        .args(["check", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["files"][0]["claims"]
        .as_array()
        .unwrap_or_else(|| panic!("no claims: {v}"))
        .iter()
        .map(|c| {
            (
                c["line"].as_u64().unwrap_or(0),
                c["verdict"].as_str().unwrap_or("").to_string(),
                c["evidence"].to_string(),
                c["expected"].to_string(),
            )
        })
        .collect()
}

/// The files of the class, each with the verdicts its claims must get (in order).
fn files() -> Vec<(String, Vec<&'static str>)> {
    let mut out = Vec::new();
    // Gradient blocks of one statement each: the true one and a wrong factor, in both
    // orders, for W.grad and r.grad.
    for (grad, right, wrong) in [
        ("W.grad[j]", "c r[j]", "r[j]"),
        ("W.grad[j]", "c r[j]", "2 c r[j]"),
        ("r.grad[j]", "c W[j]", "W[j]"),
    ] {
        for true_first in [true, false] {
            let block = |rhs: &str, expect: bool| {
                format!(
                    "{}claim backprop includes:\n  for j: {grad} = {rhs}\n",
                    if expect { "expect refuted\n" } else { "" }
                )
            };
            let mut src = "size J\nsymbol c\nparam W[J] ~ normal(0, 1)\ninput r[J] ~ normal(0, 1)\nLoss = c sum_{j}(r[j] W[j])\n".to_string();
            let verdicts = if true_first {
                src += &block(right, false);
                src += &block(wrong, true);
                vec!["confirmed", "refuted"]
            } else {
                src += &block(wrong, true);
                src += &block(right, false);
                vec!["refuted", "confirmed"]
            };
            src += "sample J = 3, c = 3\n";
            out.push((src, verdicts));
        }
    }
    // Two blocks about different tensors, one statement each.
    out.push((
        "size J\nparam W[J] ~ normal(0, 1)\ninput r[J] ~ normal(0, 1)\nLoss = sum_{j}(r[j] W[j])\nclaim backprop includes:\n  for j: W.grad[j] = r[j]\nexpect refuted\nclaim backprop includes:\n  for j: r.grad[j] = 5 W[j]\nsample J = 3\n".to_string(),
        vec!["confirmed", "refuted"],
    ));
    // Two derivations with the same steps under different givens.
    out.push((
        "scalar a, b\nx = a + b\nderivation d given b == 0:\n  x\n  = a   by algebra\nderivation d given b == 1:\n  x\n  expect refuted\n  = a   by algebra\n".to_string(),
        vec!["proved", "refuted"],
    ));
    // The same claim twice: the `expect` marker of each is its own.
    out.push((
        "scalar a\ny = a^2\nclaim y >= 0\nexpect refuted\nclaim y >= 1\nclaim y >= 0\n".to_string(),
        vec!["proved", "refuted", "proved"],
    ));
    out
}

#[test]
fn claims_written_alike_get_their_own_cached_verdicts() {
    let d = dir("alike");
    let mut bad = Vec::new();
    for (k, (src, verdicts)) in files().into_iter().enumerate() {
        let file = d.join(format!("f{k}.tq"));
        std::fs::write(&file, &src).unwrap();
        let plain = check(&file, false);
        let cold = check(&file, true);
        let warm = check(&file, true);
        let got: Vec<&str> = plain.iter().map(|c| c.1.as_str()).collect();
        if got != verdicts {
            bad.push(format!(
                "{src}\n  without the cache: {got:?}, want {verdicts:?}"
            ));
        }
        for (name, run) in [("cold", &cold), ("warm", &warm)] {
            if *run != plain {
                bad.push(format!(
                    "{src}\n  with the cache ({name}): {run:?}\n  without: {plain:?}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
