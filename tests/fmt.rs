//! `tq fmt`: on every `.tq` file of the repository that parses, the formatter keeps the
//! meaning (the same program, spans aside), is idempotent and keeps every comment in
//! order; the files of problems/ are formatted (`tq fmt --check problems/` in CI); and the
//! command rewrites, checks and refuses what does not parse.

mod common;

use common::{rel, root, tq_files};
use tq::syntax::format::{format_source, same_meaning};

fn comments(text: &str) -> Vec<String> {
    // A lone carriage return ends a line (and so a comment) for tq as for editors.
    tq::span::normalize_line_ends(text)
        .lines()
        .filter_map(|l| l.find('#').map(|i| l[i..].trim_end().to_string()))
        .collect()
}

#[test]
fn formatting_keeps_meaning_and_comments_and_is_idempotent() {
    let mut checked = 0;
    for dir in [
        "problems",
        "tests/cases",
        "tests/robustness",
        "tests/givens",
    ] {
        for path in tq_files(&root().join(dir)) {
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(once) = format_source(&src) else {
                continue;
            };
            let name = rel(&path);
            assert!(
                same_meaning(&src, &once),
                "{name}: meaning changed:\n{once}"
            );
            assert_eq!(
                format_source(&once).ok().as_deref(),
                Some(once.as_str()),
                "{name}: not idempotent"
            );
            assert_eq!(
                comments(&src),
                comments(&once),
                "{name}: comments changed:\n{once}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} files formatted");
}

#[test]
fn problem_files_are_formatted() {
    let mut unformatted = Vec::new();
    for path in tq_files(&root().join("problems")) {
        let src = std::fs::read_to_string(&path).unwrap();
        match format_source(&src) {
            Ok(f) if f == src => {}
            _ => unformatted.push(rel(&path)),
        }
    }
    assert!(
        unformatted.is_empty(),
        "run `tq fmt problems/`: {unformatted:?}"
    );
}

#[test]
fn the_command_rewrites_checks_and_refuses_what_does_not_parse() {
    let dir = std::env::temp_dir().join(format!("tq-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("a.tq");
    let bad = dir.join("b.tq");
    std::fs::write(&good, "size B,J # sizes\ninput x[B,J] ~ normal(0,1)\n").unwrap();
    std::fs::write(&bad, "size B\ninput x[B ~ normal(0, 1)\n").unwrap();
    let tq = env!("CARGO_BIN_EXE_tq");
    let run = |args: &[&str]| std::process::Command::new(tq).args(args).output().unwrap();
    let g = good.to_str().unwrap();
    let out = run(&["fmt", "--check", g]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "unformatted file passes --check"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not formatted"));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "size B,J # sizes\ninput x[B,J] ~ normal(0,1)\n",
        "--check changed the file"
    );
    assert_eq!(run(&["fmt", g]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "size B, J  # sizes\ninput x[B,J] ~ normal(0, 1)\n"
    );
    assert_eq!(run(&["fmt", "--check", g]).status.code(), Some(0));
    let before = std::fs::read_to_string(&bad).unwrap();
    let out = run(&["fmt", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("E0"),
        "no diagnostic code"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        before,
        "a file that does not parse was changed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
