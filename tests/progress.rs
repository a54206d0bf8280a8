//! Progress (issue 16): the checker tells a progress hook the claim it is deciding and
//! the gradient check, and the command line draws nothing when stderr is not a terminal.

use std::sync::{Arc, Mutex};
use tq::claims::{Options, Progress};

#[test]
fn the_hook_hears_every_claim_and_the_gradient_check() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/problems/dropout.tq"))
        .unwrap();
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = heard.clone();
    let opts = Options {
        progress: Some(Progress(Arc::new(move |what: &str| {
            sink.lock().unwrap().push(what.to_string())
        }))),
        ..Options::default()
    };
    let r = tq::report::check_source("dropout.tq", &src, &opts);
    let heard = heard.lock().unwrap();
    for c in &r.claims {
        let line = format!("line {}: {}", c.line, c.source);
        assert!(heard.contains(&line), "{line} not in {heard:?}");
    }
    assert!(heard.iter().any(|h| h == "gradient check"), "{heard:?}");
}

#[test]
fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
    for args in [
        vec!["check", "problems/dropout.tq"],
        vec!["check", "problems/dropout.tq", "problems/comp_graph.tq"],
        vec!["derive", "problems/dropout.tq"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tq"))
            .env("TQ_NO_CACHE", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
