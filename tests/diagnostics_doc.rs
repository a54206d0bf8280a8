//! Every example in docs/diagnostics.md produces the code of its section.

mod common;

use tq::report::{check_bytes, check_source, Options};

/// How an example is run: as a file's text (```tq), as its bytes with `\xNN` escapes
/// (```tq-bytes, for decoding errors), or as a path given to the built binary
/// (```tq-path, for files that cannot be read).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Text,
    Bytes,
    Path,
}

fn examples() -> Vec<(String, Kind, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .expect("docs/diagnostics.md exists");
    let mut out = Vec::new();
    let mut code = None;
    let mut block: Option<(Kind, String)> = None;
    for line in doc.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            code = rest.split_whitespace().next().map(str::to_string);
        } else if line.starts_with("```tq") {
            let kind = match line.trim() {
                "```tq-bytes" => Kind::Bytes,
                "```tq-path" => Kind::Path,
                _ => Kind::Text,
            };
            block = Some((kind, String::new()));
        } else if line.starts_with("```") {
            if let (Some((k, b)), Some(c)) = (block.take(), code.clone()) {
                out.push((c, k, b));
            }
        } else if let Some((_, b)) = block.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

/// The bytes of a ```tq-bytes example: `\xNN` is the byte NN, everything else as written.
fn unescape(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'\\' && b.get(k + 1) == Some(&b'x') && k + 3 < b.len() {
            let hex = std::str::from_utf8(&b[k + 2..k + 4]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits after \\x"));
            k += 4;
        } else {
            out.push(b[k]);
            k += 1;
        }
    }
    out
}

/// The diagnostics (code, has a hint) of an example.
fn run(kind: Kind, src: &str) -> Vec<(String, bool)> {
    let report = match kind {
        Kind::Text => check_source("example.tq", src, &Options::default()),
        Kind::Bytes => check_bytes("example.tq", &unescape(src), &Options::default()),
        Kind::Path => {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_tq"))
                .env("TQ_NO_CACHE", "1")
                .args(["check", "--format", "json", src.trim()])
                .output()
                .expect("tq runs");
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            return doc["files"][0]["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap().to_string(),
                        d["hint"].is_string(),
                    )
                })
                .collect();
        }
    };
    report
        .diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.hint.is_some()))
        .collect()
}

#[test]
fn every_documented_code_has_a_working_example() {
    let examples = examples();
    assert!(
        examples.len() >= 20,
        "found only {} examples",
        examples.len()
    );
    for (code, kind, src) in examples {
        let diags = run(kind, &src);
        let codes: Vec<&str> = diags.iter().map(|(c, _)| c.as_str()).collect();
        assert!(
            codes.contains(&code.as_str()),
            "the example for {code} gives {codes:?}:\n{src}"
        );
        let hint = diags.iter().find(|(c, _)| *c == code).unwrap().1;
        assert!(hint || code == "E0001", "{code} has no hint");
    }
}

// ---- every hint that writes a line writes one tq reads ----

const KEYWORDS: &[&str] = &[
    "size", "index", "symbol", "scalar", "param", "input", "sample", "at", "claim", "for",
    "boundary", "vary", "expect", "grad",
];

/// (code, line from 1, hint) of every diagnostic of `src`, claims not decided.
fn located(src: &str) -> Vec<(String, usize, String)> {
    check_source("example.tq", src, &common::fast())
        .diagnostics
        .iter()
        .map(|d| {
            let (line, _) = d.line_col(src);
            (d.code.to_string(), line, d.hint.clone().unwrap_or_default())
        })
        .collect()
}

/// The first word of a line (`for`, `claim`, `h_l` of `h_l[b,j] = ...`).
fn first_word(line: &str) -> &str {
    let t = line.trim_start();
    let end = t
        .find(|c: char| c.is_whitespace() || matches!(c, '[' | '(' | ':'))
        .unwrap_or(t.len());
    &t[..end]
}

/// Whether a text quoted in a hint is a whole line to write: a statement that starts
/// with a keyword, or an equation (`du = d(u)/d(a)`, `y[b,t] = x[b, 2t]`). Left out: a
/// placeholder (`...`), the author's own line quoted back, the form a hint warns
/// against (after "not "), fragments and lists of settings.
fn suggested_line(quote: &str, hint: &str, src: &str) -> bool {
    if quote.contains("...") || quote.trim().is_empty() {
        return false;
    }
    let at = hint.find(&format!("`{quote}`")).unwrap_or(0);
    if hint[..at].ends_with("not ") {
        return false;
    }
    if src.lines().any(|l| l.trim().starts_with(quote)) {
        return false;
    }
    let word = first_word(quote);
    if KEYWORDS.contains(&word) && quote.contains(' ') {
        return true;
    }
    // An equation: a name (with an index list) and ` = ` a value; not `a = 2, s = a`.
    match quote.split_once(" = ") {
        Some((lhs, rhs)) => {
            let name_like = lhs.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && !lhs.contains(' ')
                && !rhs.starts_with('=');
            let settings = rhs.contains(", ") && rhs.split(", ").skip(1).all(|s| s.contains(" = "));
            name_like && !settings
        }
        None => false,
    }
}

/// `src` with `quote` written in: over the nearest line at or above line `line`
/// (counted from one) that starts with the same word when it is the diagnostic's own
/// line or a statement keyword's (`for l in 0..L-1:` over the loop's header), else as a new line
/// before it (a declaration before the block the line is in). Returns the text, the
/// line written (from 1) and whether it replaced the diagnostic's own line.
fn apply(src: &str, line: usize, quote: &str) -> (String, usize, bool) {
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let at = (line - 1).min(lines.len().saturating_sub(1));
    let word = first_word(quote);
    let target = (0..=at)
        .rev()
        .find(|&j| !lines[j].trim_start().starts_with('#') && first_word(&lines[j]) == word);
    let indent = |l: &str| l[..l.len() - l.trim_start().len()].to_string();
    match target {
        Some(j) if j == at || KEYWORDS.contains(&word) => {
            let ind = indent(&lines[j]);
            lines[j] = format!("{ind}{quote}");
            (lines.join("\n") + "\n", j + 1, j == at)
        }
        _ => {
            let mut j = at;
            if KEYWORDS.contains(&word) && !["claim", "sample", "at", "expect"].contains(&word) {
                while j > 0 && lines[j].starts_with([' ', '\t']) {
                    j -= 1;
                }
            }
            let ind = indent(&lines[j]);
            lines.insert(j, format!("{ind}{quote}"));
            (lines.join("\n") + "\n", j + 1, false)
        }
    }
}

/// The examples of docs/diagnostics.md and the files of tests/new_author/, each with
/// the code it is about.
fn every_example() -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = examples()
        .into_iter()
        .filter(|(_, k, _)| *k == Kind::Text)
        .enumerate()
        .map(|(n, (code, _, src))| (format!("docs example {n} ({code})"), code, src))
        .collect();
    for path in common::tq_files(&common::root().join("tests/new_author")) {
        let src = std::fs::read_to_string(&path).unwrap();
        let Some(code) = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# diagnostic:"))
            .and_then(|l| l.split_whitespace().next())
        else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        out.push((name, code.to_string(), src));
    }
    out
}

/// A hint that writes a line (`write `for l in 0..L-1:``, `name the first derivative:
/// `du = d(u)/d(a)``) writes one that parses: each such line, written into its example
/// where the hint says, gives no new syntax error; one written over the line of the
/// diagnostic also clears the diagnostic's code there (the examples of
/// docs/diagnostics.md and every file of tests/new_author/).
#[test]
fn every_line_a_hint_writes_parses_and_is_accepted() {
    let mut failures = Vec::new();
    let mut applied = 0;
    for (name, code, src) in every_example() {
        let before = located(&src);
        let Some((_, line, hint)) = before.iter().find(|(c, _, _)| *c == code) else {
            continue;
        };
        let syntax_before = before
            .iter()
            .filter(|(c, _, _)| c == "E0001" || c == "E0006")
            .count();
        for quote in hint.split('`').skip(1).step_by(2) {
            if !suggested_line(quote, hint, &src) {
                continue;
            }
            applied += 1;
            let (fixed, written, own) = apply(&src, *line, quote);
            let after = located(&fixed);
            let syntax: Vec<_> = after
                .iter()
                .filter(|(c, _, _)| c == "E0001" || c == "E0006")
                .collect();
            let new_syntax =
                syntax.len() > syntax_before || syntax.iter().any(|(_, l, _)| *l == written);
            let still = own && after.iter().any(|(c, l, _)| *c == code && *l == written);
            if new_syntax || still {
                failures.push(format!(
                    "{name}: the hint's line `{quote}` written at line {written} gives {after:?}"
                ));
            }
        }
    }
    assert!(applied >= 150, "only {applied} hints write a line");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
