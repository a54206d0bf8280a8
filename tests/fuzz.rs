//! The fuzz run: proptest mutates the files in problems/ and tests/robustness/ (by
//! characters and by the language's structure: lines, numbers, operator chains,
//! nesting) and runs every command's library pipeline on each mutant (parse, check, the
//! claim engines, derive, `derive --steps`, render, emit, and every feature of `tq lsp`); no input may panic or take
//! more than a second. A bounded run is part of the normal suite
//! (`fuzz_pipeline_bounded`, `fuzz_binary_under_limits`); the long runs are `#[ignore]`d:
//!
//! ```text
//! TQ_FUZZ_CASES=1000000 cargo test --release --test fuzz -- --ignored --nocapture
//! ```
//!
//! The campaign of a million executions and more is `fuzz_long` (in process, resource
//! limits per input: a counting allocator for memory, the thread's CPU clock for time;
//! a sample through the binary under `prlimit`):
//!
//! ```text
//! TQ_FUZZ_LONG=1000000 cargo test --release --test fuzz -- --ignored --nocapture fuzz_long
//! ```
//!
//! The result of the last run is recorded in docs/fuzzing.md.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

// The test binary's allocator counts the bytes live and their peak, so that the long
// run can flag an input that needs more than 1 GB.
common::counting::counting_allocator!();

/// The CPU time of the calling thread (the wall clock where it cannot be read): the
/// machine running the campaign is shared, so wall time would flag inputs for the load
/// of other processes.
fn thread_cpu() -> Duration {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    EPOCH.with(|e| e.elapsed())
}

thread_local! {
    static EPOCH: Instant = Instant::now();
}

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::time::{Duration, Instant};
use tq::report::{check_source, Options};

#[path = "fuzz/mutate.rs"]
mod mutate;

use mutate::*;

fn problem_sources() -> Vec<String> {
    let root = common::root();
    common::tq_files(&root.join("problems"))
        .into_iter()
        .chain(common::tq_files(&root.join("tests/robustness")))
        .map(|p| std::fs::read_to_string(&p).unwrap())
        .collect()
}

/// Every command's library pipeline on one source (the numeric runs when `numeric`).
fn pipeline(src: &str, numeric: bool) -> tq::report::FileReport {
    let opts = Options {
        no_numeric: !numeric,
        no_monte_carlo: !numeric,
        ..Options::default()
    };
    let report = check_source("fuzz.tq", src, &opts);
    outputs(&report);
    report
}

/// The commands whose outputs [`outputs`] makes, one by one (the long run limits each).
type Command = fn(&tq::report::FileReport);
const COMMANDS: [(&str, Command); 7] = [
    ("derive", |r| {
        let _ = tq::derive::derive_text(r, None);
    }),
    ("derive --format json", |r| {
        let _ = tq::derive::derive_json(r);
    }),
    ("render", |r| render_as(r, tq::render::Format::Latex)),
    ("render --format markdown", |r| {
        render_as(r, tq::render::Format::Markdown)
    }),
    ("render --audience student", |r| {
        let _ = tq::render::render(
            r,
            tq::render::RenderOptions {
                format: tq::render::Format::Markdown,
                fragment: false,
                audience: tq::render::Audience::Student,
            },
        );
    }),
    ("emit", |r| {
        if r.unexpected_errors() == 0 {
            let _ = tq::emit::numpy(r);
        }
    }),
    ("derive --steps", |r| {
        if r.unexpected_errors() == 0 {
            if let Ok(chains) = tq::derive::steps_of(r, 0) {
                let _ = tq::derive::steps::text(&chains);
            }
        }
    }),
];

fn render_as(report: &tq::report::FileReport, format: tq::render::Format) {
    let _ = tq::render::render(
        report,
        tq::render::RenderOptions {
            format,
            fragment: false,
            audience: Default::default(),
        },
    );
}

/// Every output of a checked file: derive (text, JSON), render (LaTeX, Markdown), and for
/// a file without errors emit and `derive --steps`.
fn outputs(report: &tq::report::FileReport) {
    for (_, command) in COMMANDS {
        command(report);
    }
}

/// Every feature of `tq lsp` on the mutant, as an editor would ask for it with the
/// background results in place: diagnostics, hover and definition at every 7th byte
/// (at most about 4,000 offsets), symbols, inlay hints, code lenses, code actions, formatting.
fn lsp_features(report: &tq::report::FileReport) {
    use tq::lsp::{diagnostics, document::Document, edits, hover, navigation, verdicts, worker};
    let uri: lsp_types::Uri = "file:///fuzz.tq".parse().unwrap();
    let mut doc = Document::new(uri, 1, report.source.clone());
    let derived = worker::derive_facts(&doc.report, 1);
    let views = worker::claim_views(report, &report.claims, &derived.values);
    doc.derived = Some(derived);
    doc.verdicts = Some(worker::Verdicts {
        version: 1,
        claims: views,
        unavailable: None,
    });
    let _ = diagnostics::publish(&doc);
    // Every 7th byte, or about 4,000 offsets spread over a longer text: a request costs
    // the server about the same at any size (1,000 hovers on a 650 KB flood took
    // 0.03 s of CPU over stdio, 2026-12-05), so the stage's time grew only with the
    // number of requests (3 s at every 7th byte of 650 KB) and flagged floods as slow.
    let step = (doc.text().len() / 4_000).max(7);
    for offset in (0..=doc.text().len()).step_by(step) {
        let _ = hover::hover(&doc, offset);
        if let Some((_, _, t)) = navigation::resolve(&doc, offset) {
            let _ = navigation::definition(&doc, &t);
        }
    }
    let _ = navigation::document_symbols(&doc);
    let end = doc.lines.position(doc.text(), doc.text().len());
    let all = lsp_types::Range::new(lsp_types::Position::new(0, 0), end);
    let _ = verdicts::inlay_hints(&doc, all);
    let _ = verdicts::code_lenses(&doc);
    let _ = edits::code_actions(&doc, all);
    let _ = edits::format(&doc);
}

/// A few ranged `didChange` edits derived from `n` applied to `src` as the server
/// applies them ([`tq::lsp::document::apply_changes`]), then the edited text's
/// diagnostics and hovers.
fn lsp_edits(src: &str, n: u64) {
    use lsp_types::{Position, Range, TextDocumentContentChangeEvent};
    use tq::lsp::{diagnostics, document, hover};
    let lines = src.lines().count() as u64 + 2;
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m.max(1)
    };
    const TEXTS: [&str; 8] = ["", "x", "\n", "claim ", "[", "\u{1F600}", "  ", "é)"];
    let changes: Vec<TextDocumentContentChangeEvent> = (0..1 + next(6))
        .map(|_| {
            let a = Position::new(next(lines) as u32, next(200) as u32);
            let b = Position::new(next(lines) as u32, next(200) as u32);
            TextDocumentContentChangeEvent {
                range: Some(Range::new(a, b)),
                range_length: None,
                text: TEXTS[next(TEXTS.len() as u64) as usize].to_string(),
            }
        })
        .collect();
    let Ok(text) = document::apply_changes(Some(src), changes) else {
        return;
    };
    let uri: lsp_types::Uri = "file:///edited.tq".parse().unwrap();
    let doc = document::Document::new(uri, 2, text);
    let _ = diagnostics::publish(&doc);
    let step = (doc.text().len() / 500).max(13);
    for offset in (0..=doc.text().len()).step_by(step) {
        let _ = hover::hover(&doc, offset);
    }
}

/// Runs `f` on a thread with the binary's stack (64 MiB), as every command runs.
fn with_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("the fuzz run itself does not panic");
}

/// The bounded run of the normal suite: `TQ_FUZZ_BOUNDED_CASES` mutants (150 by default)
/// through every command's library pipeline, without numeric runs, each under 5 s (the
/// test machine is shared; the long run holds inputs to 1 s).
#[test]
fn fuzz_pipeline_bounded() {
    let cases: u32 = std::env::var("TQ_FUZZ_BOUNDED_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    with_stack(move || fuzz(cases, false, Duration::from_secs(5), [11u8; 32]));
}

/// A sample of mutants through the binary under `prlimit` (1 GB of address space, 20 s
/// of CPU: `tq check` runs the numeric claims, whose Monte Carlo budget is about 5 s,
/// docs/numeric.md): an abort, a stack overflow, a panic or a kill by a limit fails the
/// test.
#[test]
fn fuzz_binary_under_limits() {
    let cases: u32 = std::env::var("TQ_FUZZ_BINARY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let sources = problem_sources();
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[13u8; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (0..sources.len(), prop::collection::vec(mutation(), 1..6));
    let dir = std::env::temp_dir().join(format!("tq-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mutant.tq");
    let result = runner.run(&strategy, |(k, muts)| {
        let src = apply(&sources[k], &muts);
        std::fs::write(&file, &src).unwrap();
        {
            let args = ["check"];
            let out = std::process::Command::new("prlimit")
                .args(["--as=1073741824", "--cpu=20", "--"])
                .arg(env!("CARGO_BIN_EXE_tq"))
                .env("TQ_NO_CACHE", "1")
                .args(args)
                .arg(&file)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("prlimit runs");
            let code = out.status.code();
            // 0, 1 and 2 are tq's statuses; None is a signal (abort, stack overflow, a
            // limit), 101 a panic.
            prop_assert!(
                matches!(code, Some(0..=2)),
                "tq {args:?} ended with {:?} on:\n{src}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result.unwrap();
}

#[test]
#[ignore = "the fuzz run is long; see docs/fuzzing.md"]
fn fuzz_parse_and_check() {
    let cases: u32 = std::env::var("TQ_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    with_stack(move || fuzz(cases, false, Duration::from_secs(1), [7u8; 32]));
}

/// The numeric runs (gradient checks) on mutated files: fewer cases, each slower.
#[test]
#[ignore = "the fuzz run is long; see docs/fuzzing.md"]
fn fuzz_numeric() {
    let cases: u32 = std::env::var("TQ_FUZZ_NUMERIC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    with_stack(move || fuzz(cases, true, Duration::from_secs(30), [7u8; 32]));
}

/// A hard deadline on each input of a fuzz run, in wall-clock time: the CPU limit below is
/// checked when an input ends, so an input that hangs would never be reported. The watchdog
/// prints the input that overran and ends the process, failing the test at once.
struct Watchdog {
    current: std::sync::Arc<std::sync::Mutex<Option<(Instant, String)>>>,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    fn start(deadline: Duration) -> Watchdog {
        let current: std::sync::Arc<std::sync::Mutex<Option<(Instant, String)>>> =
            Default::default();
        let done: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let (c, d) = (current.clone(), done.clone());
        std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let guard = c.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((start, src)) = guard.as_ref() {
                    if start.elapsed() > deadline {
                        eprintln!(
                            "fuzz: an input ran past the deadline of {deadline:?} (wall clock); the input:\n{src}"
                        );
                        std::process::exit(101);
                    }
                }
            }
        });
        Watchdog { current, done }
    }

    fn watch(&self, src: &str) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), src.to_string()));
    }

    fn clear(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

fn fuzz(cases: u32, numeric: bool, limit: Duration, seed: [u8; 32]) {
    let sources = problem_sources();
    assert!(!sources.is_empty());
    let config = Config {
        cases,
        failure_persistence: None,
        // A slow input fails the run at once: shrinking one reruns it hundreds of times (a
        // mutant of 8.7 s of CPU was shrunk for 55 minutes of CI before the test failed).
        max_shrink_time: 60_000,
        ..Config::default()
    };
    // The wall-clock deadline: eight times the CPU limit, for a loaded machine.
    let watchdog = Watchdog::start(limit * 8);
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (0..sources.len(), prop::collection::vec(mutation(), 1..6));
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let count = std::cell::Cell::new(0u64);
    let result = runner.run(&strategy, |(file, muts)| {
        let src = apply(&sources[file], &muts);
        // `TQ_FUZZ_DUMP=FILE` writes each input before it runs (the last one is the
        // culprit when a run hangs).
        if let Some(p) = std::env::var_os("TQ_FUZZ_DUMP") {
            let _ = std::fs::write(p, &src);
        }
        // The thread's CPU time, not the wall clock: the limit bounds tq's work, and a
        // shared machine's load must not fail the run (the pipeline runs on this thread
        // without numeric runs; with them, trials on other threads are not counted, which
        // the numeric mode's generous limit allows for).
        watchdog.watch(&src);
        let start = thread_cpu();
        let report = pipeline(&src, numeric);
        let took = thread_cpu().saturating_sub(start);
        // The language server's features on the same text, under the same limit of
        // their own (its derivation runs again, in the server's background thread).
        let start = thread_cpu();
        lsp_features(&report);
        let took_lsp = thread_cpu().saturating_sub(start);
        watchdog.clear();
        prop_assert!(took_lsp < limit, "tq lsp took {took_lsp:?} on:\n{src}");
        let took = took.max(took_lsp);
        count.set(count.get() + 1);
        if took > slowest.get() {
            slowest.set(took);
            // `TQ_FUZZ_SLOWEST=FILE` keeps the slowest input so far, with its stage times.
            if let Some(p) = std::env::var_os("TQ_FUZZ_SLOWEST") {
                let _ = std::fs::write(
                    p,
                    format!("# slowest stage {took:?} (tq lsp {took_lsp:?})\n{src}"),
                );
            }
        }
        prop_assert!(took < limit, "took {took:?} on:\n{src}");
        Ok(())
    });
    // A panic or a slow input fails the run (proptest shrinks it and reports it).
    result.unwrap();
    println!(
        "fuzz ({}): {} inputs, 0 panics, slowest {:?}",
        if numeric {
            "with gradient checks"
        } else {
            "parse, check, derive"
        },
        count.get(),
        slowest.get()
    );
}

/// The commands the long run's binary sample takes in turn (each file argument last).
const BINARY_COMMANDS: &[&[&str]] = &[
    &["check"],
    &["derive", "--steps"],
    &["render"],
    &["emit"],
    &["variants", "--count", "3"],
    &["plot", "--trials", "2"],
    &["export", "--to", "moodle", "/dev/null"],
    &["errata"],
    &["fmt", "--check"],
    &["derive", "--format", "json"],
    &["render", "--audience", "student"],
];

/// Limits of one input in the long run: the issue's 2 s of CPU and 1 GB of memory.
const LONG_CPU: Duration = Duration::from_secs(2);
const LONG_BYTES: usize = 1 << 30;
/// The CPU limit of the in-process numeric stage (gradient checks, claims decided on a
/// sampled run): their work budgets are about 2 s each by design (docs/numeric.md), so
/// a file with both may take longer than the 2 s of the other stages.
const LONG_NUMERIC_CPU: Duration = Duration::from_secs(10);

/// What the long run counts: executions per stage, coverage, the worst input per stage
/// and the findings.
#[derive(Default)]
struct Campaign {
    stages: BTreeMap<&'static str, u64>,
    codes: BTreeMap<String, u64>,
    verdicts: BTreeMap<String, u64>,
    clean: u64,
    with_errors: u64,
    slowest: BTreeMap<&'static str, Duration>,
    peak: usize,
    binary_status: BTreeMap<String, u64>,
    binary_stages: BTreeMap<String, u64>,
    findings: Vec<String>,
    saved: usize,
    /// Mutants over `TQ_FUZZ_LONG_MAX_INPUT_BYTES`, not run.
    oversized: u64,
}

impl Campaign {
    fn stage(&mut self, name: &'static str, cpu: Duration) {
        *self.stages.entry(name).or_default() += 1;
        let s = self.slowest.entry(name).or_default();
        if cpu > *s {
            *s = cpu;
        }
    }

    fn summary(&self, wall: Duration, executions: u64) -> String {
        let mut out = format!(
            "fuzz_long: {executions} inputs in {:.0} s, {} findings\nstages (executions, slowest CPU):\n",
            wall.as_secs_f64(),
            self.findings.len()
        );
        for (k, v) in &self.stages {
            match self.slowest.get(k) {
                Some(t) => out += &format!("  {k}: {v}, {t:?}\n"),
                None => out += &format!("  {k}: {v}\n"),
            }
        }
        out += &format!(
            "inputs without error: {}, with diagnostics of severity error: {}\npeak live memory of one input: {} MB\n",
            self.clean,
            self.with_errors,
            self.peak >> 20
        );
        out += "diagnostic codes reached (inputs):\n";
        for (k, v) in &self.codes {
            out += &format!("  {k}: {v}\n");
        }
        out += "claim verdicts (claims):\n";
        for (k, v) in &self.verdicts {
            out += &format!("  {k}: {v}\n");
        }
        out += "binary sample (runs per command):\n";
        for (k, v) in &self.binary_stages {
            out += &format!("  {k}: {v}\n");
        }
        out += "binary sample (exit statuses):\n";
        for (k, v) in &self.binary_status {
            out += &format!("  {k}: {v}\n");
        }
        if self.oversized > 0 {
            out += &format!(
                "mutants over the input size, not run (not among the inputs above): {}\n",
                self.oversized
            );
        }
        for f in &self.findings {
            out += &format!("FINDING: {f}\n");
        }
        out
    }
}

/// Runs `f` with the input's limits: a panic, more than [`LONG_CPU`] of the thread's CPU
/// or more than [`LONG_BYTES`] live at once is a finding.
fn limited<T>(
    camp: &mut Campaign,
    stage: &'static str,
    what: &dyn Fn() -> String,
    f: impl FnOnce() -> T,
) -> Option<T> {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = thread_cpu();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let cpu = thread_cpu().saturating_sub(start);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    camp.stage(stage, cpu);
    camp.peak = camp.peak.max(peak);
    match r {
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            camp.findings
                .push(format!("panic in {stage} ({msg}) on {}", what()));
            None
        }
        Ok(v) => {
            let limit = if stage == "check with numeric runs" {
                LONG_NUMERIC_CPU
            } else {
                LONG_CPU
            };
            if cpu > limit {
                camp.findings
                    .push(format!("{stage} took {cpu:?} of CPU on {}", what()));
            }
            if peak > LONG_BYTES {
                camp.findings
                    .push(format!("{stage} held {} MB on {}", peak >> 20, what()));
            }
            Some(v)
        }
    }
}

/// The long campaign: `TQ_FUZZ_LONG` executions (default 1,000,000), every one through
/// parse, check and the symbolic claim engines; one in `TQ_FUZZ_LONG_PIPELINE` (4) also
/// through derive (text, JSON, `--steps`), render (LaTeX, Markdown) and emit, each
/// command limited on its own; one in
/// `TQ_FUZZ_LONG_NUMERIC` (2,000) through `check` with its numeric runs in process; one
/// in `TQ_FUZZ_LONG_BINARY` (10,000) through the binary's `tq check` under `prlimit`
/// (1 GB, 20 s of CPU: Monte Carlo claims have a 5 s budget by design). The findings are
/// collected, not shrunk, and the run goes on; each input is saved before it runs (an
/// abort leaves it in `target/fuzz-long/current-seed{N}.tq`), each finding's input is saved
/// beside it. `TQ_FUZZ_REPORT` names a file for the summary; `TQ_FUZZ_LONG_SECONDS`
/// stops the run after that many seconds (the summary states the inputs actually run).
/// `TQ_FUZZ_LONG_FRONT=1` is the front-end campaign: every input through parse, check
/// and `tq derive` without the claim engines, and one in `TQ_FUZZ_LONG_PIPELINE` through
/// the claims and every stage above (the million-input campaign of session 33, with
/// `TQ_FUZZ_LONG_PIPELINE=1000`).
#[test]
#[ignore = "the campaign is long; see docs/fuzzing.md"]
fn fuzz_long() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let total = env("TQ_FUZZ_LONG", 1_000_000);
    let every_pipeline = env("TQ_FUZZ_LONG_PIPELINE", 4).max(1);
    let every_numeric = env("TQ_FUZZ_LONG_NUMERIC", 2_000).max(1);
    let every_binary = env("TQ_FUZZ_LONG_BINARY", 10_000).max(1);
    let seed = env("TQ_FUZZ_LONG_SEED", 7) as u8;
    let front = env("TQ_FUZZ_LONG_FRONT", 0) != 0;
    let check_every = env("TQ_FUZZ_LONG_CHECK_EVERY", 1).max(1);
    let max_input = env("TQ_FUZZ_LONG_MAX_INPUT_BYTES", u64::MAX) as usize;
    let report_path = std::env::var("TQ_FUZZ_REPORT").ok();
    let deadline = std::env::var("TQ_FUZZ_LONG_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs);
    // `TQ_FUZZ_LONG_CORPUS=TEXT`: only the corpus files whose name contains TEXT (a
    // campaign seeded from one file, e.g. `e7_resnet`).
    let only = std::env::var("TQ_FUZZ_LONG_CORPUS").ok();
    with_stack(move || {
        let mut sources = problem_sources_named();
        if let Some(only) = &only {
            sources.retain(|(name, _)| name.contains(only.as_str()));
            assert!(!sources.is_empty(), "no corpus file's name contains {only}");
        }
        // `TQ_FUZZ_LONG_MAX_SEED_BYTES=N`: only the corpus files of at most N bytes (the
        // million-input front-end campaign seeds from the small files; the mutations
        // still grow them, by spreads, repeats and nests).
        if let Some(max) = std::env::var("TQ_FUZZ_LONG_MAX_SEED_BYTES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            sources.retain(|(_, text)| text.len() <= max);
            assert!(
                !sources.is_empty(),
                "no corpus file has at most {max} bytes"
            );
        }
        let dir = common::root().join("target/fuzz-long");
        std::fs::create_dir_all(&dir).unwrap();
        // One file per seed: runs of several seeds side by side each hand the binary
        // stage their own input.
        let current = dir.join(format!("current-seed{seed}.tq"));
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy = (
            0..sources.len(),
            prop::collection::vec(mutation_long(), 1..6),
        );
        let mut camp = Campaign::default();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let start = Instant::now();
        let mut done = 0;
        for n in 0..total {
            if deadline.is_some_and(|d| start.elapsed() > d) {
                eprintln!("fuzz_long: stopped at the deadline after {n} inputs");
                break;
            }
            done = n + 1;
            let (k, muts) = strategy.new_tree(&mut runner).expect("a case").current();
            let src = apply(&sources[k].1, &muts);
            if src.len() > max_input {
                // Over the campaign's input size (`TQ_FUZZ_LONG_MAX_INPUT_BYTES`): not run,
                // counted apart, so that the executions stated are the ones run.
                camp.oversized += 1;
                continue;
            }
            std::fs::write(&current, &src).unwrap();
            let what = || format!("{} with {muts:?}", sources[k].0);
            if front {
                // Every input through the parser; one in `TQ_FUZZ_LONG_CHECK_EVERY` on
                // through the checker and `tq derive` (and the claims and every stage on
                // one in `TQ_FUZZ_LONG_PIPELINE`).
                let parsed = limited(&mut camp, "parse", &what, || {
                    tq::syntax::parser::parse(&tq::span::normalize_line_ends(&src))
                        .diagnostics
                        .len()
                });
                if parsed.is_none() || n % check_every != 0 {
                    save_findings(&mut camp, &dir, seed, &src);
                    progress(&camp, n, &start);
                    continue;
                }
            }
            // The front-end campaign (`TQ_FUZZ_LONG_FRONT=1`): the inputs between two
            // pipeline runs go through parse, check and `tq derive` only, no claim engine.
            let front_only = front && n % every_pipeline != 0;
            let cheap = Options {
                no_numeric: true,
                no_monte_carlo: true,
                no_claims: front_only,
                ..Options::default()
            };
            let first = if front_only {
                "parse+check"
            } else {
                "parse+check+claims"
            };
            let Some(report) = limited(&mut camp, first, &what, || {
                check_source("fuzz.tq", &src, &cheap)
            }) else {
                continue;
            };
            if front_only {
                limited(&mut camp, "derive (front end)", &what, || {
                    let _ = tq::derive::derive_text(&report, None);
                });
            }
            let mut codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
            codes.sort_unstable();
            codes.dedup();
            for c in codes {
                *camp.codes.entry(c.to_string()).or_default() += 1;
            }
            for c in &report.claims {
                *camp.verdicts.entry(format!("{:?}", c.verdict)).or_default() += 1;
            }
            if report.unexpected_errors() == 0 {
                camp.clean += 1;
            } else {
                camp.with_errors += 1;
            }
            if n % every_pipeline == 0 {
                // Each command on its own: the limits are per command, as a user runs them.
                for (stage, command) in COMMANDS {
                    limited(&mut camp, stage, &what, || command(&report));
                }
                // The language server's features and the formatter (`tq fmt`): the
                // formatted text must format to itself and mean what the input meant.
                limited(&mut camp, "lsp features", &what, || lsp_features(&report));
                let formatted = limited(&mut camp, "fmt", &what, || {
                    tq::syntax::format::format_source(&src).ok().map(|f| {
                        let again = tq::syntax::format::format_source(&f).ok();
                        let same = tq::syntax::format::same_meaning(&src, &f);
                        (f, again, same)
                    })
                });
                if let Some(Some((f, again, same))) = formatted {
                    if again.as_deref() != Some(f.as_str()) || !same {
                        camp.findings.push(format!(
                            "fmt is not idempotent or changes the meaning on {}",
                            what()
                        ));
                    } else if f != src {
                        // The formatted text re-checks to the same verdicts.
                        let verdicts = |r: &tq::report::FileReport| {
                            r.claims
                                .iter()
                                .map(|c| format!("{:?}", c.verdict))
                                .collect::<Vec<_>>()
                        };
                        let before = verdicts(&report);
                        let after = limited(&mut camp, "fmt re-check", &what, || {
                            verdicts(&check_source("fuzz.tq", &f, &cheap))
                        });
                        if after.is_some_and(|a| a != before) {
                            camp.findings.push(format!(
                                "the formatted text re-checks to other verdicts on {}",
                                what()
                            ));
                        }
                    }
                }
                // The editor's path: ranged edits (positions past line ends, inside
                // surrogate pairs, reversed) applied as `didChange` does, then the
                // diagnostics and hovers of the edited text.
                limited(&mut camp, "lsp edits", &what, || lsp_edits(&src, n));
            }
            drop(report);
            if n % every_numeric == 0 {
                let numeric = Options {
                    no_monte_carlo: true,
                    ..Options::default()
                };
                limited(&mut camp, "check with numeric runs", &what, || {
                    check_source("fuzz.tq", &src, &numeric)
                });
            }
            if n % every_binary == 0 {
                // Every command in turn through the binary (the commands the library
                // stages above do not reach: variants, plot, export, errata, fmt).
                let args = BINARY_COMMANDS[(n / every_binary) as usize % BINARY_COMMANDS.len()];
                let out = std::process::Command::new("prlimit")
                    .args(["--as=1073741824", "--cpu=20", "--"])
                    .arg(env!("CARGO_BIN_EXE_tq"))
                    .env("TQ_NO_CACHE", "1")
                    .args(args)
                    .arg(&current)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .expect("prlimit runs");
                let label = format!("binary tq {}", args.join(" "));
                *camp.binary_stages.entry(label.clone()).or_default() += 1;
                let code = out.status.code();
                *camp.binary_status.entry(format!("{code:?}")).or_default() += 1;
                if !matches!(code, Some(0..=2)) {
                    camp.findings.push(format!(
                        "{label} ended with {:?} on {}",
                        out.status,
                        what()
                    ));
                }
            }
            save_findings(&mut camp, &dir, seed, &src);
            progress(&camp, n, &start);
        }
        std::panic::set_hook(hook);
        let summary = camp.summary(start.elapsed(), done - camp.oversized);
        println!("{summary}");
        if let Some(p) = report_path {
            std::fs::write(p, &summary).unwrap();
        }
        assert!(camp.findings.is_empty(), "{summary}");
    });
}

/// Prints the campaign's findings not printed yet and saves the input beside them.
fn save_findings(camp: &mut Campaign, dir: &std::path::Path, seed: u8, src: &str) {
    if camp.findings.len() > camp.saved {
        for f in &camp.findings[camp.saved..] {
            eprintln!("fuzz_long: FINDING {f}");
        }
        camp.saved = camp.findings.len();
        let name = format!("finding-seed{seed}-{}.tq", camp.saved);
        std::fs::write(dir.join(name), src).unwrap();
    }
}

/// A line on standard error every 50,000 inputs.
fn progress(camp: &Campaign, n: u64, start: &Instant) {
    if (n + 1).is_multiple_of(50_000) {
        eprintln!(
            "fuzz_long: {} inputs, {:.0} s, {} findings",
            n + 1,
            start.elapsed().as_secs_f64(),
            camp.findings.len()
        );
    }
}

/// The corpus with each file's name: problems/, tests/robustness/, and the files of
/// tests/cases/ with update rules (`rule` blocks, `equivalent`), which problems/ has
/// few of.
fn problem_sources_named() -> Vec<(String, String)> {
    let root = common::root();
    let rules = common::tq_files(&root.join("tests/cases"))
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("rule ")))
        });
    common::tq_files(&root.join("problems"))
        .into_iter()
        .chain(common::tq_files(&root.join("tests/robustness")))
        .chain(rules)
        .map(|p| (common::rel(&p), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// Replays one file through the stages of `fuzz_long` and prints the CPU time of each:
/// `TQ_FUZZ_REPLAY=FILE cargo test --release --test fuzz -- --ignored --nocapture replay`.
#[test]
#[ignore = "a tool for findings of the long run"]
fn replay() {
    let Ok(path) = std::env::var("TQ_FUZZ_REPLAY") else {
        return;
    };
    with_stack(move || {
        let src = std::fs::read_to_string(&path).unwrap();
        let mut camp = Campaign::default();
        let what = || path.clone();
        let cheap = Options {
            no_numeric: true,
            no_monte_carlo: true,
            ..Options::default()
        };
        let report = limited(&mut camp, "parse+check+claims", &what, || {
            check_source("fuzz.tq", &src, &cheap)
        })
        .unwrap();
        limited(&mut camp, "derive", &what, || {
            let _ = tq::derive::derive_text(&report, None);
            let _ = tq::derive::derive_json(&report);
        });
        limited(&mut camp, "render", &what, || {
            for format in [tq::render::Format::Latex, tq::render::Format::Markdown] {
                let _ = tq::render::render(
                    &report,
                    tq::render::RenderOptions {
                        format,
                        fragment: false,
                        audience: Default::default(),
                    },
                );
            }
        });
        limited(&mut camp, "emit+steps", &what, || {
            if report.unexpected_errors() == 0 {
                let _ = tq::emit::numpy(&report);
                if let Ok(chains) = tq::derive::steps_of(&report, 0) {
                    let _ = tq::derive::steps::text(&chains);
                }
            }
        });
        let numeric = Options {
            no_monte_carlo: true,
            ..Options::default()
        };
        limited(&mut camp, "check with numeric runs", &what, || {
            check_source("fuzz.tq", &src, &numeric)
        });
        println!("{}", camp.summary(Duration::ZERO, 1));
    });
}
