//! Tests driven by the files in problems/: one insta snapshot per file (source, what
//! `tq check` says, what `tq derive` prints), the printer round-trip, the pins of the
//! seeds' errata (`errata`), `tq render` (`render`) and the gradient checks
//! (`gradcheck`). One binary, so that each file is checked once with the options of
//! `tq check` (`common::shared_report`) and every test reads that report.

mod common;

/// The `tq` binary's allocator (src/alloc.rs), so the files are checked as `tq check` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[path = "problems/errata.rs"]
mod errata;
#[path = "problems/gradcheck.rs"]
mod gradcheck;
#[path = "problems/render.rs"]
mod render;
#[path = "problems/scripts.rs"]
mod scripts;

use std::path::Path;
use tq::report::{text_report, Options};
use tq::syntax::{parser, printer};

fn rel(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The report with floating-point error sizes replaced by the bound they met (the last
/// digits of a finite difference may differ between machines; the verdict may not).
fn stable(report: &str) -> String {
    report
        .lines()
        .map(|l| match l.find("max relative error ") {
            Some(k) if l.contains("gradcheck  passed") => {
                format!("{}max relative error <= 1e-6", &l[..k])
            }
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn snapshots_of_every_problem_file() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../problems", "**/*.tq", |path| {
            let src = std::fs::read_to_string(path).expect("readable problem file");
            let opts = Options::default();
            let report = common::shared_report(&rel(path), "full", common::full);
            assert_eq!(report.source, src);
            let out = format!(
                "{src}\n======== tq check ========\n{}\n======== tq derive ========\n{}",
                stable(&text_report(report, &opts, None)),
                tq::derive::derive_text(report, None)
            );
            insta::assert_snapshot!(out);
        });
    });
}

#[test]
fn printer_round_trip_for_every_problem_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
    let mut n = 0;
    for path in common::tq_files(&root) {
        let src = std::fs::read_to_string(&path).unwrap();
        let first = parser::parse(&src);
        let printed = printer::print_program(&first.program);
        let second = parser::parse(&printed);
        if first.diagnostics.is_empty() {
            assert!(
                second.diagnostics.is_empty(),
                "{}: the printed program does not parse: {:?}\n{printed}",
                path.display(),
                second.diagnostics
            );
        }
        assert_eq!(
            printer::without_spans(&first.program),
            printer::without_spans(&second.program),
            "{}: parse(print(p)) differs from p\n{printed}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 20, "only {n} problem files");
}
