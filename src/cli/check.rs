//! `tq check` and `tq errata`: many files, checked on a pool of threads.

use super::args::CheckFormat;
use super::io::{
    display_name, file_progress, finish, progress, read_paths, read_source, say_raw, theme, Loaded,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::claims::cache::{tool_identity, VerdictCache};
use tq::report::{self, FileReport, Options};

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
    let (reports, unreadable) = check_paths(&paths, &opts, cache);
    let failed = reports.iter().filter(|r| !r.passed(&opts)).count();
    let status = if unreadable {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    let out = match format {
        CheckFormat::Json => {
            let doc = serde_json::json!({
                "files": reports.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
                "summary": report::summary_json(&reports),
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        CheckFormat::Text => {
            let t = theme();
            let mut out = String::new();
            for r in &reports {
                out.push_str(&report::text_report(r, &opts, t.clone()));
            }
            let s = report::summary_json(&reports);
            out.push_str(&format!(
                "{} file{}, {} failed; {} claim{}: {} proved, {} confirmed, {} refuted, {} undecided; {} error{}\n",
                reports.len(),
                if reports.len() == 1 { "" } else { "s" },
                failed,
                s["claims"],
                if s["claims"] == 1 { "" } else { "s" },
                s["proved"],
                s["confirmed"],
                s["refuted"],
                s["undecided"],
                s["errors"],
                if s["errors"] == 1 { "" } else { "s" }
            ));
            out
        }
    };
    finish(&out, status)
}

pub fn errata(paths: Vec<PathBuf>, seed: u64, cache: bool) -> ExitCode {
    let opts = Options {
        seed,
        ..Options::default()
    };
    let (reports, unreadable) = check_paths(&paths, &opts, cache);
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
/// and written to the verdict cache beside each file.
fn check_paths(paths: &[PathBuf], opts: &Options, cache: bool) -> (Vec<FileReport>, bool) {
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
    let mut checked = check_all_cached(&sources, opts, tool.as_deref()).into_iter();
    let reports = loaded
        .into_iter()
        .filter_map(|l| match l {
            Loaded::Text(..) => checked.next(),
            Loaded::Unreadable(r) => Some(*r),
        })
        .collect();
    (reports, unreadable)
}

/// Checks the files on as many threads as the machine has cores; the reports come back
/// in file order, so the output does not depend on the scheduling.
pub fn check_all(sources: &[(String, String)], opts: &Options) -> Vec<FileReport> {
    check_all_cached(sources, opts, None)
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
fn check_all_cached(
    sources: &[(String, String)],
    opts: &Options,
    tool: Option<&str>,
) -> Vec<FileReport> {
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
    let mut slots: Vec<Option<FileReport>> = (0..sources.len()).map(|_| None).collect();
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
                let r = report::check_source(path, src, &opts);
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
