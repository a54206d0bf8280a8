//! The VS Code grammar (editors/vscode/syntaxes/tq.tmLanguage.json) checked by
//! `vscode-tmgrammar-test` (npm; `npm install` in editors/vscode, which .ci/run does):
//! the hand-written cases of editors/vscode/tests/syntax.test.tq, and every problem file
//! with assertions generated from its text — each statement's leading keyword, every
//! comment, every `.grad` gets its scope. Skipped (with a note) when the tool is not
//! installed, except under `CI=true`, where that fails.

mod common;

use common::root;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool() -> Option<PathBuf> {
    let p = root().join("editors/vscode/node_modules/.bin/vscode-tmgrammar-test");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "vscode-tmgrammar-test is not installed (run `npm install` in editors/vscode)"
    );
    eprintln!("note: vscode-tmgrammar-test not installed (npm install in editors/vscode); grammar test skipped");
    None
}

fn run(tool: &Path, files: &[PathBuf]) {
    let out = Command::new(tool)
        .arg("-g")
        .arg(root().join("editors/vscode/syntaxes/tq.tmLanguage.json"))
        .args(files)
        .output()
        .expect("vscode-tmgrammar-test runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    // Every file was run (the tool prints one line per file).
    let ran = text.matches("run successfuly").count() + text.matches("run successfully").count();
    assert_eq!(ran, files.len(), "{text}");
}

/// The scope a statement's first word gets.
fn keyword_scope(word: &str) -> Option<&'static str> {
    Some(match word {
        "size" | "index" | "symbol" | "scalar" | "boundary" | "sample" | "vary" | "rule" => {
            "storage.type.tq"
        }
        "param" | "input" | "grad" => "storage.type.tensor.tq",
        "claim" | "derivation" => "keyword.other.claim.tq",
        "for" => "keyword.control.tq",
        "expect" => "keyword.control.expect.tq",
        _ => return None,
    })
}

/// An assertion line marking columns `from..to` (in characters) of the line above.
fn assertion(from: usize, to: usize, scope: &str) -> String {
    if from == 0 {
        format!("# <{} {scope}", "-".repeat(to))
    } else {
        format!("#{}{} {scope}", " ".repeat(from - 1), "^".repeat(to - from))
    }
}

/// A syntax test of one `.tq` text: its lines, each followed by its assertions.
fn with_assertions(text: &str) -> (String, usize) {
    let mut out = String::from("# SYNTAX TEST \"source.tq\" \"a problem file\"\n");
    let mut count = 0;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        // Columns in characters; lines that are not ASCII are left without assertions
        // (the tool counts UTF-16 units; the hand-written cases cover Unicode names).
        if !line.is_ascii() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let comment = line.find('#');
        let code = &line[..comment.unwrap_or(line.len())];
        let word: String = code[indent..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let mut lines = Vec::new();
        if let Some(scope) = keyword_scope(&word) {
            lines.push(assertion(indent, indent + word.len(), scope));
        }
        let mut from = 0;
        while let Some(k) = code[from..].find(".grad") {
            let at = from + k + 1;
            lines.push(assertion(at, at + 4, "variable.language.grad.tq"));
            from = at + 4;
        }
        if let Some(c) = comment {
            lines.push(assertion(
                c,
                line.trim_end().len(),
                "comment.line.number-sign.tq",
            ));
        }
        count += lines.len();
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    (out, count)
}

#[test]
fn the_grammar_passes_its_syntax_tests() {
    let Some(tool) = tool() else { return };
    run(&tool, &[root().join("editors/vscode/tests/syntax.test.tq")]);
}

#[test]
fn the_grammar_scopes_every_problem_file() {
    let Some(tool) = tool() else { return };
    let dir = std::env::temp_dir().join(format!("tq-grammar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut total = 0;
    for p in common::tq_files(&root().join("problems")) {
        let (test, n) = with_assertions(&std::fs::read_to_string(&p).unwrap());
        total += n;
        let name = common::rel(&p).replace('/', "_");
        let out = dir.join(name);
        std::fs::write(&out, test).unwrap();
        files.push(out);
    }
    assert!(
        files.len() >= 20 && total > 500,
        "{} files, {total} assertions",
        files.len()
    );
    run(&tool, &files);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generated_assertions_mark_the_right_columns() {
    let (t, n) = with_assertions("  for b: h.grad[b] += 1  # note\nclaim x == 1\n");
    assert_eq!(n, 4);
    assert_eq!(
        t,
        "# SYNTAX TEST \"source.tq\" \"a problem file\"\n  for b: h.grad[b] += 1  # note\n# ^^^ keyword.control.tq\n#          ^^^^ variable.language.grad.tq\n#                        ^^^^^^ comment.line.number-sign.tq\nclaim x == 1\n# <----- keyword.other.claim.tq\n"
    );
}
