//! front41 (issues #15, #18, m08): what the language server sends for one document is
//! capped. A file of tens of thousands of claims got one inlay hint and one code lens per
//! claim in every answer (megabytes of JSON on every refresh); the editor now gets the
//! first `MAX_VERDICTS_SHOWN` (2,000) of each, and the code lenses one more lens that
//! counts the others (docs/editors.md, "front41").

mod common;

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

const CAP: usize = 2_000;

/// Files of more claims than the cap (several shapes of claim, several counts): the
/// hints of the whole document and the lenses are capped, before and after the
/// verdicts arrive, and the lenses end with one that says how many are left out.
#[test]
fn inlay_hints_and_code_lenses_are_capped_per_document() {
    for (n, claim) in [
        (CAP + 1, "claim x == 6\n"),
        (CAP + 700, "claim x >= 5\n"),
        (3 * CAP, "claim x + a == 8\n"),
    ] {
        let mut text = String::from("scalar a, b\nx = a^2 + b\nat a = 2, b = 1\n");
        for _ in 0..n {
            text.push_str(claim);
        }
        let uri = format!("file:///tmp/tq-lsp-caps-{n}.tq");
        let mut c = Client::start();
        c.initialize();
        c.open(&uri, &text, 1);
        c.diagnostics(&uri, 1, Duration::from_secs(60));
        let whole = json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": n + 10, "character": 0}}});
        // Before the verdicts (each claim "… deciding") and after them.
        for settled in [false, true] {
            let hints = if settled {
                settled_hints(&mut c, &uri, n + 10, Duration::from_secs(600))
            } else {
                let r = c.result("textDocument/inlayHint", whole.clone());
                r.as_array().cloned().unwrap_or_default()
            };
            assert_eq!(hints.len(), CAP, "n = {n}, settled = {settled}");
            let r = c.result(
                "textDocument/codeLens",
                json!({"textDocument": {"uri": uri}}),
            );
            let lenses = r.as_array().cloned().unwrap_or_default();
            assert_eq!(lenses.len(), CAP + 1, "n = {n}, settled = {settled}");
            let last = lenses.last().unwrap()["command"]["title"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                last.starts_with(&format!("{} more claims' verdicts", n - CAP)),
                "{last}"
            );
            // A range of the document gets the hints in it, up to the cap.
            let part = json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 3, "character": 0}, "end": {"line": 12, "character": 0}}});
            let r = c.result("textDocument/inlayHint", part);
            assert_eq!(r.as_array().map_or(0, |a| a.len()), 10);
        }
        assert!(c.finish().success());
    }
}
