//! Issue #18 (probe 35, a04): the language server decides every claim as `tq check`
//! does. The server once built its own program from the text and skipped the
//! resolution of index capitals (`DX` for `index dx : D`, `J` for `index j : N`), so a
//! true claim about `DX` was refuted in the editor and proved by `tq check`. Now both
//! read `report::check_front`; this test holds them together: every file of problems/
//! and a sample of tests/cases/ (every fifth file that writes an index capital or a
//! derived size, and one in forty of the others) goes through `tq check`'s pipeline
//! (`report::check_source`) and through the server's (`lsp::document::quick_report`,
//! then the worker's `decide`), and the editor's label of each claim line must be the
//! same.

mod common;

use common::root;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tq::claims::Options;

fn tq_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            tq_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "tq") {
            out.push(p);
        }
    }
}

/// An index capital or a derived size written in the text: the files the two
/// pipelines once read differently.
fn reads_capitals(src: &str) -> bool {
    src.lines().any(|l| {
        let l = l.trim_start();
        (l.starts_with("size ") && l.contains('='))
            || l.starts_with("index ")
            || l.starts_with("claim") && l.contains("D")
    })
}

/// `(line, label)` of each claim: the server's view of `tq check`'s reports, and the
/// server's own.
/// Each claim's line and verdict label.
type Labels = Vec<(usize, String)>;

fn both(name: &str, src: &str, opts: &Options) -> (Labels, Labels) {
    let cli = tq::report::check_source(name, src, opts);
    let cli_views = tq::lsp::worker::claim_views(&cli, &cli.claims, &HashMap::new());
    let quick = tq::lsp::document::quick_report(name, src);
    let lsp = tq::lsp::worker::decide(&quick, 1, opts, &HashMap::new());
    let pick = |v: &[tq::lsp::worker::ClaimView]| {
        v.iter()
            .map(|c| (c.line, c.label.clone()))
            .collect::<Vec<_>>()
    };
    (pick(&cli_views), pick(&lsp.claims))
}

#[test]
fn the_server_decides_every_claim_as_tq_check_does() {
    let root = root();
    let mut files = Vec::new();
    tq_files(&root.join("problems"), &mut files);
    let mut cases = Vec::new();
    tq_files(&root.join("tests/cases"), &mut cases);
    cases.sort();
    for (k, p) in cases.into_iter().enumerate() {
        let src = std::fs::read_to_string(&p).unwrap_or_default();
        // A fifth of the files that write an index capital or a derived size, and one in
        // forty of the others: about 60 files (both pipelines check each, so the whole set
        // took 8 minutes, too long for every push; the problems files are all taken).
        if (reads_capitals(&src) && k % 5 == 0) || k % 40 == 0 {
            files.push(p);
        }
    }
    files.sort();
    let opts = Options {
        no_gradcheck: true,
        ..Options::default()
    };
    // The files are independent: both pipelines of each file run on every core.
    let results = common::each_in_parallel(&files, |p| {
        let src = std::fs::read_to_string(p).unwrap();
        let name = p.strip_prefix(root).unwrap().display().to_string();
        let (cli, lsp) = both(&name, &src, &opts);
        (name, cli, lsp)
    });
    let mut differ = Vec::new();
    let mut claims = 0;
    for (name, cli, lsp) in results {
        claims += cli.len();
        if cli != lsp {
            differ.push(format!("{name}:\n  tq check: {cli:?}\n  tq lsp:   {lsp:?}"));
        }
    }
    assert!(claims > 100, "only {claims} claims compared");
    assert!(
        differ.is_empty(),
        "{} of {} files decided differently:\n{}",
        differ.len(),
        files.len(),
        differ.join("\n")
    );
}

/// The probe's files (written anew, not copied): index capitals in claims, in a
/// derived size, and `J` for `index j : N`; each claim must be proved by both.
#[test]
fn index_capitals_are_their_sizes_in_the_editor() {
    let files = [
        // DX in a claim (language.md's own example, a conv of window D).
        "size B, X, D\nindex dx : D\nboundary circular\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,x] = W[DX] x[b,x+DX]\nclaim mults(y) == B X DX\nclaim DX == D\nsample B = 2, X = 5, D = 3\n",
        // A derived size written with the capital: a valid conv's output.
        "size B, X, D\nindex dx : D\nsize Y = X - DX + 1\nboundary valid\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,y] = W[DX] x[b,y+DX]\nclaim mults(y) == B Y D\nclaim Y + DX == X + 1\nsample B = 2, X = 6, D = 3\n",
        // `J` for `index j : N`.
        "size B, N\nindex j : N\ninput x[B, N] ~ normal(0, 1)\ny[b] = sum_{j}(x[b,j])\nclaim Var(y) == J\nclaim J >= 1\nsample B = 2, N = 4\n",
    ];
    let opts = Options {
        no_gradcheck: true,
        ..Options::default()
    };
    for (k, src) in files.iter().enumerate() {
        let name = format!("capitals{k}.tq");
        let (cli, lsp) = both(&name, src, &opts);
        assert_eq!(cli, lsp, "{src}");
        assert!(!cli.is_empty(), "{src}");
        for (line, label) in &lsp {
            assert!(label.starts_with("proved"), "line {line}: {label}\n{src}");
        }
    }
}

/// probe38 k05: a claim under `expect refuted` (an exam's planted error) is labelled as
/// `tq check` says it, "(expected)", and is offered no replacement of its right side:
/// the replacement would turn the planted error into a true claim and fail the file. An
/// unexpected refutation of the same claim keeps its replacement.
#[test]
fn a_planted_error_is_labelled_expected_and_not_replaced() {
    let mut values = HashMap::new();
    for (planted, u) in [(true, "a^2"), (false, "a^2"), (true, "a b"), (false, "a b")] {
        let src = format!(
            "scalar a, b\nu = {u}\nat a = 2, b = 2\n{}claim u == 5\n",
            if planted { "expect refuted\n" } else { "" }
        );
        let r = tq::report::check_source("k05.tq", &src, &tq::report::Options::default());
        let views = tq::lsp::worker::claim_views(&r, &r.claims, &{
            values.insert("u".to_string(), u.to_string());
            values.clone()
        });
        assert_eq!(views.len(), 1, "{src}");
        let v = &views[0];
        assert!(v.label.starts_with("refuted"), "{src}: {}", v.label);
        assert_eq!(
            v.label.ends_with("(expected)"),
            planted,
            "{src}: {}",
            v.label
        );
        assert_eq!(
            v.replacement.is_none(),
            planted,
            "{src}: {:?}",
            v.replacement
        );
    }
}
