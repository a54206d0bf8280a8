//! `tq check` and `tq errata`: many files, checked on a pool of threads.

use super::args::CheckFormat;
use super::io::{progress, read_paths, read_source, theme};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::report::{self, FileReport, Options};

pub fn check(paths: Vec<PathBuf>, format: CheckFormat, seed: u64, strict: bool) -> ExitCode {
    let opts = Options {
        seed,
        strict,
        ..Options::default()
    };
    let sources = match read_paths(&paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tq: {e}");
            return ExitCode::from(2);
        }
    };
    let reports = check_all(&sources, &opts);
    let failed = reports.iter().filter(|r| !r.passed(&opts)).count();
    match format {
        CheckFormat::Json => {
            let doc = serde_json::json!({
                "files": reports.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
                "summary": report::summary_json(&reports),
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        CheckFormat::Text => {
            let t = theme();
            for r in &reports {
                print!("{}", report::text_report(r, &opts, t.clone()));
            }
            let s = report::summary_json(&reports);
            println!(
                "{} file{}, {} failed; {} claims: {} proved, {} confirmed, {} refuted, {} undecided; {} errors",
                reports.len(),
                if reports.len() == 1 { "" } else { "s" },
                failed,
                s["claims"],
                s["proved"],
                s["confirmed"],
                s["refuted"],
                s["undecided"],
                s["errors"]
            );
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn errata(paths: Vec<PathBuf>, seed: u64) -> ExitCode {
    let opts = Options {
        seed,
        ..Options::default()
    };
    let sources = match read_paths(&paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tq: {e}");
            return ExitCode::from(2);
        }
    };
    let reports = check_all(&sources, &opts);
    print!("{}", tq::errata::markdown(&reports, seed));
    if reports.iter().any(|r| !r.passed(&opts)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A file checked without numeric runs, for commands that need only its program;
/// exit 2 on an I/O error, 1 (with the diagnostics) when the file has errors.
pub fn checked_without_runs(file: &Path) -> Result<FileReport, ExitCode> {
    let src = read_source(file).map_err(|e| {
        eprintln!("tq: {e}");
        ExitCode::from(2)
    })?;
    let opts = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    let r = report::check_source(&file.display().to_string(), &src, &opts);
    if r.unexpected_errors() > 0 {
        eprint!(
            "{}",
            tq::diag::render_plain(&r.path, &r.source, &r.diagnostics)
        );
        return Err(ExitCode::from(1));
    }
    Ok(r)
}

/// Checks the files on as many threads as the machine has cores; the reports come back
/// in file order, so the output does not depend on the scheduling.
pub fn check_all(sources: &[(String, String)], opts: &Options) -> Vec<FileReport> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let bar = progress(sources.len(), "checking");
    let mut slots: Vec<Option<FileReport>> = (0..sources.len()).map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((path, src)) = sources.get(k) else {
                    break;
                };
                let r = report::check_source(path, src, opts);
                if let Ok(mut slots) = done.lock() {
                    slots[k] = Some(r);
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    slots.into_iter().flatten().collect()
}
