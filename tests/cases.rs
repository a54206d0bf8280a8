//! Claims as data: every `.tq` file under tests/cases/ states, in its header comments,
//! the verdict tq must give each of its claims, in file order:
//!
//! ```text
//! # verdicts: proved refuted confirmed|proved undecided
//! # options: fast            (optional: no Monte Carlo runs of moment claims)
//! # evidence: 1/9            (optional: text every refuted or undecided claim's evidence contains)
//! ```
//!
//! A wrong claim is planted in a file with `expect refuted` before it, so the file also
//! passes `tq check`. Adding a case is adding a file.

mod common;

/// The `tq` binary's allocator (src/alloc.rs), so the files are checked as `tq check` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tq::report::{check_source, Options};

struct Expected {
    verdicts: Vec<Vec<String>>,
    fast: bool,
    evidence: Vec<String>,
}

fn header(src: &str) -> Expected {
    let mut e = Expected {
        verdicts: Vec::new(),
        fast: false,
        evidence: Vec::new(),
    };
    for line in src.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(v) = line.strip_prefix("verdicts:") {
            e.verdicts = v
                .split_whitespace()
                .map(|alts| alts.split('|').map(str::to_string).collect())
                .collect();
        } else if let Some(o) = line.strip_prefix("options:") {
            e.fast = o.split_whitespace().any(|w| w == "fast");
        } else if let Some(t) = line.strip_prefix("evidence:") {
            e.evidence.push(t.trim().to_string());
        }
    }
    e
}

/// What is wrong with one case file (nothing when it gets its stated verdicts).
fn failures_of(path: &std::path::Path) -> Vec<String> {
    let mut failures = Vec::new();
    let name = common::rel(path);
    let src = std::fs::read_to_string(path).unwrap();
    let want = header(&src);
    assert!(
        !want.verdicts.is_empty(),
        "{name}: no `# verdicts:` line in the header"
    );
    let opts = if want.fast {
        common::fast()
    } else {
        Options::default()
    };
    let r = check_source(&name, &src, &opts);
    if r.unexpected_errors() > 0 {
        failures.push(format!("{name}: errors {:?}", r.diagnostics));
        return failures;
    }
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    if got.len() != want.verdicts.len() {
        failures.push(format!(
            "{name}: {} claims, the header states {}",
            got.len(),
            want.verdicts.len()
        ));
        return failures;
    }
    for (c, alts) in r.claims.iter().zip(&want.verdicts) {
        let v = c.verdict.as_str();
        if !alts.iter().any(|a| a == v) {
            failures.push(format!(
                "{name}: `{}` is {v}, expected {} ({}: {})",
                c.source,
                alts.join(" or "),
                c.method,
                c.evidence
            ));
        }
        // Issue 14's witness rule: every `refuted` carries, in its JSON form (as `tq
        // check --format json` prints it), a witness with the point, both sides and the
        // second path that re-checked it.
        if v == "refuted" {
            let j = c.to_json();
            let w = &j["witness"];
            let text = |k: &str| w[k].as_str().is_some_and(|s| !s.trim().is_empty());
            if !(w["point"].is_object() && text("left") && text("right") && text("checked_by")) {
                failures.push(format!(
                    "{name}: `{}` is refuted ({}) without a complete witness: {w}",
                    c.source, c.method
                ));
            }
        }
        if matches!(v, "refuted" | "undecided") {
            for text in &want.evidence {
                if !c.evidence.contains(text.as_str()) {
                    failures.push(format!(
                        "{name}: `{}`: the evidence lacks `{text}`: {}",
                        c.source, c.evidence
                    ));
                }
            }
        }
    }
    if !r.passed(&opts) {
        failures.push(format!("{name}: the file does not pass `tq check`"));
    }
    failures
}

#[test]
fn every_case_gets_its_stated_verdicts() {
    let files = common::tq_files(&common::root().join("tests/cases"));
    assert!(files.len() >= 6, "too few cases under tests/cases/");
    // The files are independent: checked on every core (each worker takes the next file
    // not yet taken, those `tq check DIR` would start first taken first), their failures
    // reported in file order.
    let sources: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let order = tq::report::costliest_first(sources.iter().map(String::as_str));
    let mut by_file: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    for (k, f) in order.iter().zip(common::each_in_parallel(&order, |&k| {
        failures_of(&files[k])
    })) {
        by_file[*k] = f;
    }
    let failures: Vec<String> = by_file.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_header_is_read() {
    let e = header("# verdicts: proved refuted|undecided\n# options: fast\n# evidence: 1/9\nsize B\n# verdicts: ignored\n");
    assert_eq!(
        e.verdicts,
        vec![
            vec!["proved".to_string()],
            vec!["refuted".into(), "undecided".into()]
        ]
    );
    assert!(e.fast);
    assert_eq!(e.evidence, vec!["1/9".to_string()]);
}
