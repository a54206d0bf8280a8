//! The new author's mistakes of tests/new_author/ in the editor: `tq lsp` publishes the
//! one diagnostic each file states in its `# diagnostic: CODE LINE[:COL]` header, at the
//! same line and column (LSP counts lines from 0), and hover and code actions on the
//! file answer without an error (a hover on the first tensor names it or is empty; code
//! actions are a list). The files are those written for issue #18's last items (lower-case
//! sizes, softmax, Iverson brackets, claims about elements), run in one server.

#![allow(unused_imports)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[path = "lsp/client.rs"]
#[allow(dead_code)]
mod client;

use client::*;

const FILES: &[&str] = &[
    "size_lower_case_used_as_index.tq",
    "size_lower_case_summed.tq",
    "size_lower_case_index_declared.tq",
    "claim_size_in_other_case.tq",
    "cov_one_argument.tq",
    "iverson_single_equals.tq",
    "iverson_label_not_categorical.tq",
    "loop_range_to.tq",
    "softmax_capital_index.tq",
    "softmax_claim_tensor_case.tq",
    "softmax_result_index_dropped.tq",
    // Issue #18, session 24: softmax fixes, element claims, and eight mistakes written
    // from docs/language.md (rules, includes, vary, solve, at, derivations).
    "softmax_dropped_index_capital.tq",
    "softmax_named_index_summed.tq",
    "claim_element_index_renamed.tq",
    "claim_element_capital_one_side.tq",
    "claim_element_index_without_size_renamed.tq",
    "rule_state_without_step.tq",
    "equivalent_rule_typo.tq",
    "includes_batch_index_free.tq",
    "vary_size_fraction.tq",
    "solve_single_equals.tq",
    "at_computed_value.tq",
    "derivation_rule_typo.tq",
    "rule_over_other_step.tq",
];

#[test]
fn new_author_mistakes_reach_the_editor_at_their_places() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/new_author");
    let mut c = Client::start();
    c.initialize();
    let mut failures = Vec::new();
    for (k, name) in FILES.iter().enumerate() {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let want = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# diagnostic:"))
            .unwrap_or_else(|| panic!("{name}: no `# diagnostic:` line"));
        let mut it = want.split_whitespace();
        let code = it.next().unwrap().to_string();
        let place = it.next().unwrap();
        let (line, col) = match place.split_once(':') {
            Some((l, c)) => (l.parse::<u64>().unwrap(), Some(c.parse::<u64>().unwrap())),
            None => (place.parse::<u64>().unwrap(), None),
        };
        let uri = format!("file:///tmp/tq-lsp-new-author-{k}.tq");
        c.open(&uri, &text, 1);
        let d = c.diagnostics(&uri, 1, Duration::from_secs(60));
        let errors: Vec<&Value> = d["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["source"] != "tq claims")
            .collect();
        match errors.as_slice() {
            [e] => {
                let at = (
                    e["range"]["start"]["line"].as_u64().unwrap() + 1,
                    e["range"]["start"]["character"].as_u64().unwrap() + 1,
                );
                if e["code"] != code.as_str() || at.0 != line || col.is_some_and(|c| c != at.1) {
                    failures.push(format!(
                        "{name}: got {} at {}:{}, want {code} at {place}",
                        e["code"], at.0, at.1
                    ));
                }
            }
            _ => failures.push(format!("{name}: want one diagnostic, got {d}")),
        }
        // Hover on the first line after the header and code actions at the error's line:
        // answered, not an error.
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 7}}),
        );
        if r.get("error").is_some() {
            failures.push(format!("{name}: hover failed: {r}"));
        }
        let r = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line - 1, "character": 0}, "end": {"line": line - 1, "character": 0}}, "context": {"diagnostics": []}}),
        );
        if r.get("error").is_some() || !(r["result"].is_array() || r["result"].is_null()) {
            failures.push(format!("{name}: code actions failed: {r}"));
        }
    }
    assert!(c.finish().success());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
