//! Helpers shared by the integration tests: paths relative to the repository, reading
//! problem files, and the options the tests run with.
#![allow(dead_code)]

pub mod counting;
pub mod generated;
pub mod new_author;
pub mod rational;

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

/// The report of the repository file `rel` (e.g. `problems/resnet.tq`) under the options
/// `opts` makes, computed once per test binary and shared by every test that asks for the
/// same file under the same `label` (each label must always name the same options). Two
/// tests asking for the same file at once wait for one computation; different files are
/// computed in parallel.
pub fn shared_report(rel: &str, label: &'static str, opts: fn() -> Options) -> &'static FileReport {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Cell = &'static OnceLock<FileReport>;
    static CELLS: OnceLock<Mutex<HashMap<(String, &'static str), Cell>>> = OnceLock::new();
    let cell: Cell = *CELLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((rel.to_string(), label))
        .or_insert_with(|| Box::leak(Box::new(OnceLock::new())));
    cell.get_or_init(|| {
        let src =
            std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        check_source(rel, &src, &opts())
    })
}

/// The options of `tq check` (`Options::default()`), for [`shared_report`].
pub fn full() -> Options {
    Options::default()
}

/// Everything but the Monte Carlo runs of moment claims (the same as [`fast`]), for
/// [`shared_report`] under the label `"no_monte_carlo"`.
pub fn no_monte_carlo() -> Options {
    fast()
}

/// Neither the numeric runs nor the Monte Carlo runs: the program, its checks and the
/// claims the symbolic engines decide, for [`shared_report`] under the label `"quick"`.
pub fn quick() -> Options {
    Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    }
}

/// Whether a tool an optional test needs is there (`found`): when it is missing, a note
/// and `false` (the test is skipped), or a failure under `CI=true`, where .ci/run
/// installs it (`install` says how).
pub fn optional_tool(found: bool, what: &str, install: &str) -> bool {
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is needed by this test and CI=true: {install}"
        );
        eprintln!("note: {what} is not installed; this test is skipped ({install})");
    }
    found
}

/// Whether `program probe...` runs and succeeds; see [`optional_tool`].
pub fn tool_available(program: &str, probe: &[&str], install: &str) -> bool {
    let found = std::process::Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    optional_tool(found, program, install)
}

/// Whether python3 with NumPy is there (the emitted modules need it); see
/// [`optional_tool`].
pub fn numpy_available() -> bool {
    tool_available("python3", &["-c", "import numpy"], "pip install numpy")
}

/// The `tq` binary run in the repository root with the verdict cache off.
pub fn tq_bin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tq"))
        .env("TQ_NO_CACHE", "1")
        .args(args)
        .current_dir(root())
        .output()
        .expect("tq runs")
}

/// Writes `text` to `name` in a directory of this test process (`tq-PREFIX-test-PID`)
/// and returns its path.
pub fn temp_file(prefix: &str, name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tq-{prefix}-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// `f(item)` for every item, on as many threads as there are cores (each worker takes
/// the next item not yet taken, so one slow item does not hold back a fixed share), the
/// results in the order of `items`. A panic in `f` fails the caller's test. For test
/// files whose items (case files, problem files) are independent of each other: the
/// checks are the same as one after another, only the wall time is shorter.
pub fn each_in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else {
                    return;
                };
                let r = f(item);
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was run"))
        .collect()
}

/// A stride-2 valid window whose output size is derived (`size Y = {y_size}`) and whose
/// answer counts its outputs (`mults(y) == B Y D`), followed by `tail` (a `vary` line or
/// nothing): the model of probe34 p09/p31, where a variant's Y may be no whole number.
pub fn strided_window(y_size: &str, tail: &str) -> String {
    format!(
        "size B, X
size D = 3
index dx : D
size Y = {y_size}
boundary valid
input x[B, X] ~ normal(0, 1)
param W[D] ~ normal(0, 1/D)
y[b,y] = W[DX] x[b, 2y+DX]
claim mults(y) == B Y D
sample B = 2, X = 9
{tail}"
    )
}
