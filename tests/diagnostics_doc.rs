//! Every example in docs/diagnostics.md produces the code of its section.

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
