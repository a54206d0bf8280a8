//! Helpers shared by the integration tests: paths relative to the repository, reading
//! problem files, and the options the tests run with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tq::report::{check_source, FileReport, Options};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the repository root, for stable names in snapshots.
pub fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The text of `problems/NAME`.
pub fn problem(name: &str) -> String {
    std::fs::read_to_string(root().join("problems").join(name))
        .unwrap_or_else(|e| panic!("problems/{name}: {e}"))
}

/// Everything but the Monte Carlo runs of moment claims.
pub fn fast() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

/// The report of `problems/NAME` with the default options.
pub fn report_of_problem(name: &str) -> FileReport {
    check_source(name, &problem(name), &Options::default())
}

/// Every `.tq` file under `dir`, sorted.
pub fn tq_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "tq")
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted by path.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
