//! `tq check` and `tq errata`: many files, checked on a pool of threads.

use super::args::CheckFormat;
use super::io::{
    display_name, file_progress, finish, progress, read_paths, read_source, say_raw, theme, Loaded,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::claims::cache::{tool_identity, VerdictCache};
use tq::report::{self, FileReport, Options, Tally};

/// What `tq check` keeps of a checked file: its part of the output and its counts. The
/// report itself (the program, the environment, the derived values) is dropped on the
/// checking thread as soon as the file is checked, so the memory of `tq check DIR` does
/// not grow with the number of files (docs/performance.md, session 32).
struct Kept {
    out: String,
    passed: bool,
    tally: Tally,
}

pub fn check(
    paths: Vec<PathBuf>,
    format: CheckFormat,
    seed: u64,
    strict: bool,
    cache: bool,
    precision: tq::num::dense::Precision,
) -> ExitCode {
    let opts = Options {
        seed,
        strict,
        precision,
        ..Options::default()
    };
    let t = theme();
    let keep = |r: FileReport| Kept {
        out: match format {
            // One element of the `files` array, laid out as in the whole document.
            CheckFormat::Json => pretty_at(&r.to_json(), 4),
            CheckFormat::Text => report::text_report(&r, &opts, t.clone()),
        },
        passed: r.passed(&opts),
        tally: Tally::of(&r),
    };
    let (kept, unreadable) = check_paths(&paths, &opts, cache, &keep);
    let failed = kept.iter().filter(|k| !k.passed).count();
    let mut s = Tally::default();
    kept.iter().for_each(|k| s.merge(&k.tally));
    let status = if unreadable {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    let out = match format {
        // The layout of `serde_json::to_string_pretty` of `{"files": [...], "summary": {...}}`,
        // written from the files' pieces.
        CheckFormat::Json => {
            let mut out = String::from("{\n  \"files\": [");
            if !kept.is_empty() {
                out.push('\n');
                for (k, file) in kept.iter().enumerate() {
                    out.push_str("    ");
                    out.push_str(&file.out);
                    out.push_str(if k + 1 < kept.len() { ",\n" } else { "\n" });
                }
                out.push_str("  ");
            }
            out.push_str("],\n  \"summary\": ");
            out.push_str(&pretty_at(&s.to_json(), 2));
            out.push_str("\n}\n");
            out
        }
        CheckFormat::Text => {
            let mut out = String::new();
            for k in &kept {
                out.push_str(&k.out);
            }
            out.push_str(&format!(
                "{} file{}, {} failed; {} claim{}: {} proved, {} confirmed, {} refuted, {} undecided; {} error{}\n",
                s.files,
                if s.files == 1 { "" } else { "s" },
                failed,
                s.claims,
                if s.claims == 1 { "" } else { "s" },
                s.proved,
                s.confirmed,
                s.refuted,
                s.undecided,
                s.errors,
                if s.errors == 1 { "" } else { "s" }
            ));
            out
        }
    };
    finish(&out, status)
}

/// A JSON value pretty-printed as it appears `indent` spaces deep in a pretty-printed
/// document (every line after the first indented; strings hold no raw newline).
fn pretty_at(v: &serde_json::Value, indent: usize) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    let pad = format!("\n{}", " ".repeat(indent));
    text.replace('\n', &pad)
}

pub fn errata(paths: Vec<PathBuf>, seed: u64, cache: bool) -> ExitCode {
    let opts = Options {
        seed,
        ..Options::default()
    };
    let (reports, unreadable) = check_paths(&paths, &opts, cache, &|r| r);
    let status = if unreadable {
        ExitCode::from(2)
    } else if reports.iter().any(|r| !r.passed(&opts)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    let named = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    finish(&tq::errata::markdown(&reports, seed, &named), status)
}

/// A file checked without numeric runs, for commands that need only its program;
/// exit 2 on an I/O error, 1 (with the diagnostics) when the file has errors.
pub fn checked_without_runs(file: &Path) -> Result<FileReport, ExitCode> {
    let src = read_source(file)?;
    let opts = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    let r = report::check_source(&display_name(file), &src, &opts);
    if r.unexpected_errors() > 0 {
        say_raw(&tq::diag::render_plain(&r.path, &r.source, &r.diagnostics));
        return Err(ExitCode::from(1));
    }
    Ok(r)
}

/// Reads and checks every `.tq` file named or found under the paths, in order; a file
/// that cannot be read is reported with its diagnostic (the others are still checked),
/// and the flag says whether there was one. With `cache`, claims' verdicts are read from
/// and written to the verdict cache beside each file. Each report is handed to `keep` on
/// its checking thread as soon as its file is checked; what `keep` returns is kept.
fn check_paths<T: Send>(
    paths: &[PathBuf],
    opts: &Options,
    cache: bool,
    keep: &(dyn Fn(FileReport) -> T + Sync),
) -> (Vec<T>, bool) {
    let loaded = read_paths(paths);
    let unreadable = loaded.iter().any(|l| matches!(l, Loaded::Unreadable(_)));
    let sources: Vec<(String, String)> = loaded
        .iter()
        .filter_map(|l| match l {
            Loaded::Text(name, text) => Some((name.clone(), text.clone())),
            Loaded::Unreadable(_) => None,
        })
        .collect();
    let tool = if cache { tool_identity() } else { None };
    let mut checked = check_all_cached(&sources, opts, tool.as_deref(), keep).into_iter();
    let kept = loaded
        .into_iter()
        .filter_map(|l| match l {
            Loaded::Text(..) => checked.next(),
            Loaded::Unreadable(r) => Some(keep(*r)),
        })
        .collect();
    (kept, unreadable)
}

/// Checks the files on as many threads as the machine has cores; the reports come back
/// in file order, so the output does not depend on the scheduling.
pub fn check_all(sources: &[(String, String)], opts: &Options) -> Vec<FileReport> {
    check_all_cached(sources, opts, None, &|r| r)
}

/// The verdict cache of a file: `.tq-cache/` in its directory (none for standard input).
fn cache_for(path: &str, tool: &str) -> Option<VerdictCache> {
    if path == super::io::STDIN_NAME {
        return None;
    }
    Some(VerdictCache::beside(Path::new(path), tool))
}

/// [`check_all`], each file with its verdict cache when `tool` (the build's identity)
/// is given.
fn check_all_cached<T: Send>(
    sources: &[(String, String)],
    opts: &Options,
    tool: Option<&str>,
    keep: &(dyn Fn(FileReport) -> T + Sync),
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    // The files likely to take longest start first (`report::costliest_first`); each
    // report goes to its file's slot, so the output keeps the file order.
    let order = report::costliest_first(sources.iter().map(|(_, src)| src.as_str()));
    let bar = progress(sources.len(), "checking");
    // The files checked at once share one file's memory budget (docs/cli.md).
    let memory = (threads > 1).then(tq::claims::MemoryGate::one_file);
    let mut slots: Vec<Option<T>> = (0..sources.len()).map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let worker = || loop {
                let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&k) = order.get(taken) else {
                    break;
                };
                let (path, src) = &sources[k];
                let opts = Options {
                    cache: tool.and_then(|t| cache_for(path, t)),
                    progress: Some(file_progress(&bar, path)),
                    memory: memory.clone(),
                    ..opts.clone()
                };
                let r = keep(report::check_source(path, src, &opts));
                if let Ok(mut slots) = done.lock() {
                    slots[k] = Some(r);
                }
                bar.inc(1);
            };
            if std::thread::Builder::new()
                .stack_size(crate::STACK_BYTES)
                .spawn_scoped(s, worker)
                .is_err()
            {
                // The other threads take this one's share of the files.
                eprintln!("tq: could not start a checking thread");
            }
        }
    });
    bar.finish_and_clear();
    slots.into_iter().flatten().collect()
}
