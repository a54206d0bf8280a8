//! The `tq` command line: all IO happens here.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::report::{self, FileReport, Options};

#[derive(Parser)]
#[command(
    name = "tq",
    version,
    about = "A derivation checker for the mathematics of deep learning"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CheckFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DeriveFormat {
    Text,
    Latex,
    Markdown,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check files, decide every claim; exit 1 on an error or a refuted claim.
    Check {
        /// Files or directories (searched recursively for .tq files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Seed of every random choice (random points, Monte Carlo).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Undecided claims fail the check.
        #[arg(long)]
        strict: bool,
    },
    /// Print the Markdown page of the seeds' errata (docs/seed-errata.md) from erratum files;
    /// exit 1 when an erratum is not caught.
    Errata {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The seed of every random choice.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Print everything tq derives about one file.
    Derive {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: DeriveFormat,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also print each derived moment as a worked chain of steps, every line
        /// labelled with its rule and checked by tq (text and json).
        #[arg(long)]
        steps: bool,
    },
    /// Time the dense Monte Carlo engine on the workload of the peer script
    /// (../shared/bench/peer_resnet_mc.py): the ResNet of FILE with B=16, X=Y=32, J=32,
    /// D=3, L=8, zero padding, forward and input-gradient backward (docs/performance.md).
    Bench {
        /// The ResNet model.
        #[arg(default_value = "problems/resnet.tq")]
        file: PathBuf,
        /// Timed trials, after one warm-up trial (1 to 1000).
        #[arg(long, default_value_t = 5)]
        trials: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Trials run at the same time, one per thread (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Randomized versions of a problem from its `vary` lines, each checked.
    Variants {
        file: PathBuf,
        /// How many distinct variants (at most 100).
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Seed of the choice of variants and of every numeric run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value = "markdown")]
        format: VariantsFormat,
    },
    /// Export the forward and the derived backward program as code.
    Emit {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "numpy")]
        target: EmitTarget,
    },
    /// Variance against depth as SVG: the moments engine's closed forms and sampled trials.
    Plot {
        file: PathBuf,
        /// Write the SVG here instead of to standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Independent trials of the model for the sampled points (2 to 10000).
        #[arg(long, default_value_t = 200)]
        trials: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Write the problem and the solution tq derives as LaTeX or Markdown.
    Render {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "latex")]
        format: RenderFormat,
        /// No preamble: a fragment to include in another document.
        #[arg(long)]
        fragment: bool,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum VariantsFormat {
    Markdown,
    Latex,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum EmitTarget {
    Numpy,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum RenderFormat {
    Latex,
    Markdown,
}

/// The largest file tq reads, in bytes (the parser refuses larger sources too).
const MAX_FILE_BYTES: u64 = 1 << 20;

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() || p.extension().is_some_and(|e| e == "tq") {
                collect_files(&p, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn read_source(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{}: the file is {} bytes, more than the limit of {MAX_FILE_BYTES} bytes",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: the file is not valid UTF-8", path.display()))
}

/// A file checked without numeric runs, for commands that need only its program;
/// exit 2 on an I/O error, 1 (with the diagnostics) when the file has errors.
fn checked_without_runs(file: &Path) -> Result<FileReport, ExitCode> {
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

/// Every `.tq` file named or found under the paths, with its source, in order.
fn read_paths(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files)?;
    }
    files
        .iter()
        .map(|f| read_source(f).map(|s| (f.display().to_string(), s)))
        .collect()
}

/// A progress bar on stderr for work that may take more than about a second; hidden
/// when stderr is not a terminal (indicatif draws nothing then either).
fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    // Shown only once the work has taken about a second.
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Checks the files on as many threads as the machine has cores; the reports come back
/// in file order, so the output does not depend on the scheduling.
fn check_all(sources: &[(String, String)], opts: &Options) -> Vec<FileReport> {
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
            let worker = || loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((path, src)) = sources.get(k) else {
                    break;
                };
                let r = report::check_source(path, src, opts);
                if let Ok(mut slots) = done.lock() {
                    slots[k] = Some(r);
                }
                bar.inc(1);
            };
            if std::thread::Builder::new()
                .stack_size(STACK_BYTES)
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

fn theme() -> Option<miette::GraphicalTheme> {
    if std::io::stdout().is_terminal() {
        Some(miette::GraphicalTheme::unicode())
    } else {
        None
    }
}

/// The stack of every thread that runs the pipeline (the main work and each checking
/// thread): the walks over expressions recurse, and the parser bounds an expression to
/// [`tq::syntax::parser::MAX_EXPR_OPERATORS`] operators and
/// [`tq::syntax::parser::MAX_EXPR_DEPTH`] levels, which this stack holds in every walk.
const STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    // Every command runs on one thread with the same generous stack as the checking
    // threads of `tq check`.
    match std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(run)
        .map(|t| t.join())
    {
        Ok(Ok(code)) => code,
        _ => ExitCode::from(101),
    }
}

fn run() -> ExitCode {
    tq::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check {
            paths,
            format,
            seed,
            strict,
        } => {
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
        Command::Bench {
            file,
            trials,
            seed,
            threads,
        } => {
            let r = match checked_without_runs(&file) {
                Ok(r) => r,
                Err(code) => return code,
            };
            if threads == Some(0) {
                eprintln!("tq: --threads must be at least 1");
                return ExitCode::from(2);
            }
            if !(1..=tq::bench::MAX_TRIALS).contains(&trials) {
                eprintln!(
                    "tq: --trials must be from 1 to {} (asked for {trials}); each trial takes a fraction of a second",
                    tq::bench::MAX_TRIALS
                );
                return ExitCode::from(2);
            }
            match tq::bench::resnet(&r.program, &r.env, trials, seed, threads) {
                Ok(b) => {
                    println!(
                        "tq dense: var(L_L)={:.4} closed={:.4} var(L_0.grad)={:.4} closed={:.4} sec/trial={:.4} ({} trial{} on {} thread{}, {:.3e} operations per trial)",
                        b.var_forward,
                        b.closed_form,
                        b.var_backward,
                        b.closed_form,
                        b.seconds_per_trial,
                        b.trials,
                        if b.trials == 1 { "" } else { "s" },
                        b.threads,
                        if b.threads == 1 { "" } else { "s" },
                        b.ops_per_trial as f64
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tq: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Errata { paths, seed } => {
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
        Command::Derive {
            file,
            format,
            seed,
            steps,
        } => {
            let src = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tq: {e}");
                    return ExitCode::from(2);
                }
            };
            // The same claims verdicts as `tq check` (the numeric runs included).
            let opts = Options {
                seed,
                ..Options::default()
            };
            let r = report::check_source(&file.display().to_string(), &src, &opts);
            let chains = if steps && r.unexpected_errors() == 0 {
                match tq::derive::steps_of(&r, seed) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        eprintln!("tq: {}: {e}", r.path);
                        return ExitCode::from(1);
                    }
                }
            } else {
                None
            };
            let out = match format {
                DeriveFormat::Json => {
                    let mut doc = tq::derive::derive_json(&r);
                    if let Some(c) = &chains {
                        doc["steps"] = tq::derive::steps::json(c);
                    }
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                }
                DeriveFormat::Text => {
                    let mut t = tq::derive::derive_text(&r, theme());
                    if let Some(c) = &chains {
                        t.push_str(&tq::derive::steps::text(c));
                    }
                    t
                }
                DeriveFormat::Latex | DeriveFormat::Markdown => tq::render::render(
                    &r,
                    tq::render::RenderOptions {
                        format: if format == DeriveFormat::Latex {
                            tq::render::Format::Latex
                        } else {
                            tq::render::Format::Markdown
                        },
                        fragment: false,
                    },
                ),
            };
            print!("{out}");
            if r.unexpected_errors() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Variants {
            file,
            count,
            seed,
            format,
        } => {
            let src = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tq: {e}");
                    return ExitCode::from(2);
                }
            };
            let path = file.display().to_string();
            let base = report::check_source(
                &path,
                &src,
                &Options {
                    seed,
                    no_numeric: true,
                    no_monte_carlo: true,
                    ..Options::default()
                },
            );
            if base.unexpected_errors() > 0 || base.expected_error.is_some() {
                eprint!(
                    "{}",
                    tq::diag::render_plain(&base.path, &base.source, &base.diagnostics)
                );
                eprintln!("tq: variants are made only from a file without errors");
                return ExitCode::from(1);
            }
            let plan = match tq::variants::plan(&base.program, count, seed) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("tq: {path}: {e}");
                    return ExitCode::from(2);
                }
            };
            if (count as u64) > plan.available {
                eprintln!(
                    "tq: {path}: {count} variants were asked for, but the `vary` lines allow only {} distinct ones; all are printed",
                    plan.available
                );
            }
            let prepared: Vec<tq::variants::Prepared> = plan
                .chosen
                .iter()
                .map(|vals| tq::variants::prepare(&base.program, &base.env, &plan.names, vals))
                .collect();
            let sources: Vec<(String, String)> = prepared
                .iter()
                .enumerate()
                .map(|(k, p)| (format!("{path} (variant {})", k + 1), p.source.clone()))
                .collect();
            let opts = Options {
                seed,
                ..Options::default()
            };
            let reports = check_all(&sources, &opts);
            let variants: Vec<tq::variants::Variant> = prepared
                .into_iter()
                .zip(reports)
                .map(|(prepared, report)| tq::variants::Variant { prepared, report })
                .collect();
            let out = match format {
                VariantsFormat::Markdown => tq::variants::markdown(&path, &plan, seed, &variants),
                VariantsFormat::Latex => tq::variants::latex(&path, &plan, seed, &variants),
                VariantsFormat::Json => serde_json::to_string_pretty(&tq::variants::to_json(
                    &path, &plan, seed, &variants,
                ))
                .unwrap_or_default(),
            };
            println!("{}", out.trim_end());
            if tq::variants::any_failed(&variants) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Plot {
            file,
            output,
            trials,
            seed,
        } => {
            if !(tq::plot::MIN_TRIALS..=tq::plot::MAX_TRIALS).contains(&trials) {
                eprintln!(
                    "tq: --trials must be from {} to {} (asked for {trials})",
                    tq::plot::MIN_TRIALS,
                    tq::plot::MAX_TRIALS
                );
                return ExitCode::from(2);
            }
            let r = match checked_without_runs(&file) {
                Ok(r) => r,
                Err(code) => return code,
            };
            let svg = tq::plot::series(&r, trials, seed)
                .and_then(|p| tq::plot::svg(&format!("{}: variance against depth", r.path), &p));
            match svg {
                Ok(svg) => match output {
                    Some(p) => match std::fs::write(&p, svg) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("tq: {}: {e}", p.display());
                            ExitCode::from(2)
                        }
                    },
                    None => {
                        print!("{svg}");
                        ExitCode::SUCCESS
                    }
                },
                Err(e) => {
                    eprintln!("tq: {}: cannot plot: {e}", r.path);
                    ExitCode::from(1)
                }
            }
        }
        Command::Emit { file, target } => {
            let r = match checked_without_runs(&file) {
                Ok(r) => r,
                Err(code) => return code,
            };
            match target {
                EmitTarget::Numpy => match tq::emit::numpy(&r) {
                    Ok(code) => {
                        print!("{code}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("tq: {}: cannot emit NumPy: {e}", r.path);
                        ExitCode::from(1)
                    }
                },
            }
        }
        Command::Render {
            file,
            format,
            fragment,
            seed,
        } => {
            let src = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tq: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = Options {
                seed,
                ..Options::default()
            };
            let r = report::check_source(&file.display().to_string(), &src, &opts);
            let format = match format {
                RenderFormat::Latex => tq::render::Format::Latex,
                RenderFormat::Markdown => tq::render::Format::Markdown,
            };
            print!(
                "{}",
                tq::render::render(&r, tq::render::RenderOptions { format, fragment })
            );
            if r.unexpected_errors() > 0 {
                let plain = tq::diag::render_plain(&r.path, &r.source, &r.diagnostics);
                eprint!("{plain}");
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
