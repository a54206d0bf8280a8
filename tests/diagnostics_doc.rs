//! Every example in docs/diagnostics.md produces the code of its section.

use tq::report::{check_source, Options};

fn examples() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .expect("docs/diagnostics.md exists");
    let mut out = Vec::new();
    let mut code = None;
    let mut block: Option<String> = None;
    for line in doc.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            code = rest.split_whitespace().next().map(str::to_string);
        } else if line.starts_with("```tq") {
            block = Some(String::new());
        } else if line.starts_with("```") {
            if let (Some(b), Some(c)) = (block.take(), code.clone()) {
                out.push((c, b));
            }
        } else if let Some(b) = block.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

#[test]
fn every_documented_code_has_a_working_example() {
    let examples = examples();
    assert!(
        examples.len() >= 20,
        "found only {} examples",
        examples.len()
    );
    for (code, src) in examples {
        let report = check_source("example.tq", &src, &Options::default());
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(&code.as_str()),
            "the example for {code} gives {codes:?}:\n{src}"
        );
        let d = report.diagnostics.iter().find(|d| d.code == code).unwrap();
        assert!(d.hint.is_some() || code == "E0001", "{code} has no hint");
    }
}
