//! The fuzz run: proptest mutates the files in problems/ and runs parse, check and the
//! claim engines on each mutant; no input may panic or take more than a second.
//! Outside the normal suite (it is `#[ignore]`d):
//!
//! ```text
//! TQ_FUZZ_CASES=100000 cargo test --release --test fuzz -- --ignored --nocapture
//! ```
//!
//! The result of the last run is recorded in docs/fuzzing.md.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;
use std::time::{Duration, Instant};
use tq::report::{check_source, Options};

/// Fragments a mutation may insert: the language's tokens and some hostile ones.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "_",
    "^",
    "^{",
    "_{",
    "'",
    ",",
    ":",
    "=",
    "+=",
    "-=",
    "==",
    "~=",
    "<=",
    "~",
    "..",
    ".grad",
    "+",
    "-",
    "*",
    "/",
    " ",
    "\n",
    "\n  ",
    "\t",
    "#",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    "1e400",
    "0.5",
    "x",
    "I",
    "J'",
    "dx",
    "DX",
    "l",
    "l+1",
    "t-1",
    "2x+1",
    "for ",
    "for l in 0..L-1:\n  ",
    "claim ",
    "expect refuted\n",
    "expect error E0202\n",
    "param ",
    "input ",
    "grad ",
    "size ",
    "index ",
    "symbol ",
    "boundary zero\n",
    "softmax_{w}(",
    "sum_{i}(",
    "sigmoid(",
    "σ",
    "Δx",
    "≈",
    "ℓ",
    "←",
    "é",
    "\u{0}",
    "d(u)/d(a)",
    "Var(",
    "E[",
    "solve(",
    "at a = 2",
    "given ",
    "sample B = 1000000000\n",
    "[a > 0]",
    "w[t]",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, frag: usize },
    Duplicate { at: usize, len: usize },
    Swap { a: usize, b: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, frag)| Mutation::Insert { at, frag }),
        (any::<usize>(), 1usize..80).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>(), 1usize..20).prop_map(|(a, b, len)| Mutation::Swap {
            a,
            b,
            len
        }),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(src: &str, muts: &[Mutation]) -> String {
    let mut s = src.to_string();
    for m in muts {
        let n = s.len().max(1);
        match *m {
            Mutation::Delete { at, len } => {
                let a = floor_char(&s, at % n);
                let b = floor_char(&s, a + len);
                s.replace_range(a..b, "");
            }
            Mutation::Insert { at, frag } => {
                let a = floor_char(&s, at % n);
                s.insert_str(a, FRAGMENTS[frag]);
            }
            Mutation::Duplicate { at, len } => {
                let a = floor_char(&s, at % n);
                let b = floor_char(&s, a + len);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Mutation::Swap { a, b, len } => {
                let a0 = floor_char(&s, a % n);
                let a1 = floor_char(&s, a0 + len);
                let piece = s[a0..a1].to_string();
                s.replace_range(a0..a1, "");
                let n2 = s.len().max(1);
                let b0 = floor_char(&s, b % n2);
                s.insert_str(b0, &piece);
            }
        }
    }
    s
}

fn problem_sources() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "tq") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("problems"),
        &mut out,
    );
    out
}

#[test]
#[ignore = "the fuzz run is long; see docs/fuzzing.md"]
fn fuzz_parse_and_check() {
    let cases: u32 = std::env::var("TQ_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    fuzz(cases, false, Duration::from_secs(1));
}

/// The numeric runs (gradient checks) on mutated files: fewer cases, each slower.
#[test]
#[ignore = "the fuzz run is long; see docs/fuzzing.md"]
fn fuzz_numeric() {
    let cases: u32 = std::env::var("TQ_FUZZ_NUMERIC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    fuzz(cases, true, Duration::from_secs(30));
}

fn fuzz(cases: u32, numeric: bool, limit: Duration) {
    let sources = problem_sources();
    assert!(!sources.is_empty());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (0..sources.len(), prop::collection::vec(mutation(), 1..6));
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let count = std::cell::Cell::new(0u64);
    let result = runner.run(&strategy, |(file, muts)| {
        let src = apply(&sources[file], &muts);
        let start = Instant::now();
        let opts = Options {
            no_numeric: !numeric,
            ..Options::default()
        };
        let report = check_source("fuzz.tq", &src, &opts);
        let _ = tq::derive::derive_text(&report, None);
        let took = start.elapsed();
        count.set(count.get() + 1);
        if took > slowest.get() {
            slowest.set(took);
        }
        prop_assert!(took < limit, "took {took:?} on:\n{src}");
        Ok(())
    });
    // A panic or a slow input fails the run (proptest shrinks it and reports it).
    result.unwrap();
    println!(
        "fuzz ({}): {} inputs, 0 panics, slowest {:?}",
        if numeric {
            "with gradient checks"
        } else {
            "parse, check, derive"
        },
        count.get(),
        slowest.get()
    );
}
