//! `tq export`: PrairieLearn question directories or a Moodle XML quiz from problem files.

use super::args::ExportTarget;
use super::check::check_all;
use super::io::{finish, read_paths, say, say_raw, Loaded};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::export::{Kind, Question};
use tq::report::{self, Options};

/// Why OUT must not be written: a `.tq` file, or one of the inputs (probe31/b A:
/// `tq export --to moodle v.tq w.tq`, OUT forgotten, overwrote the problem file v.tq
/// with w.tq's quiz, status 0 and nothing said). Checked before any work.
fn output_clobbers_a_source(to: &ExportTarget, out: &Path, paths: &[PathBuf]) -> Option<String> {
    let shown = out.display();
    let same = |p: &PathBuf| {
        p == out
            || matches!(
                (std::fs::canonicalize(p), std::fs::canonicalize(out)),
                (Ok(a), Ok(b)) if a == b
            )
    };
    let usage = match to {
        ExportTarget::Moodle => "tq export --to moodle OUT.xml FILE...",
        _ => "tq export --to prairielearn DIR FILE...",
    };
    if paths.iter().any(same) {
        return Some(format!(
            "{shown} is both the output and an input: the export would overwrite it; name the output first (`{usage}`)"
        ));
    }
    if out.extension().is_some_and(|e| e == "tq") {
        return Some(format!(
            "the output {shown} is a .tq file: the export would overwrite a problem file with its questions; name the output first (`{usage}`)"
        ));
    }
    None
}

/// One file on its way to a question.
struct Pending {
    path: String,
    base: report::FileReport,
    names: Vec<String>,
    prepared: Vec<tq::variants::Prepared>,
}

pub fn export(
    to: ExportTarget,
    out: PathBuf,
    paths: Vec<PathBuf>,
    count: usize,
    seed: u64,
) -> ExitCode {
    if count == 0 || count > tq::variants::MAX_VARIANTS {
        say(format!(
            "--count must be from 1 to {} (asked for {count})",
            tq::variants::MAX_VARIANTS
        ));
        return ExitCode::from(2);
    }
    if let Some(why) = output_clobbers_a_source(&to, &out, &paths) {
        say(why);
        return ExitCode::from(2);
    }
    let mut status_io = false;
    let mut lines: Vec<String> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let base_opts = Options {
        seed,
        no_numeric: true,
        no_monte_carlo: true,
        // The program and its diagnostics only: each variant's claims are decided in
        // its own check, within its share of the file's budgets.
        no_claims: true,
        ..Options::default()
    };
    for l in read_paths(&paths) {
        let (path, src) = match l {
            Loaded::Text(p, s) => (p, s),
            Loaded::Unreadable(r) => {
                say_raw(&tq::diag::render_plain(&r.path, &r.source, &r.diagnostics));
                status_io = true;
                continue;
            }
        };
        let base = report::check_source(&path, &src, &base_opts);
        // A file to fix (not an `expect error` example) says where: its diagnostics
        // go to stderr, located, as `tq check` prints them.
        if base.unexpected_errors() > 0 && base.expected_error.is_none() {
            say_raw(&tq::diag::render_plain(
                &base.path,
                &base.source,
                &base.diagnostics,
            ));
        }
        // The variants' preparation shares one file's symbolic and exact work, 1/K each
        // (`variants::prepare_all`, as in `tq variants`).
        let planned = tq::export::plan_file(&base, count, seed);
        let (names, prepared) = match planned {
            Ok(p) => p,
            Err(e) => {
                lines.push(format!("skipped {path}: {e}"));
                continue;
            }
        };
        pending.push(Pending {
            path,
            base,
            names,
            prepared,
        });
    }
    // Every variant of every file, checked on the thread pool in one go.
    let sources: Vec<(String, String)> = pending
        .iter()
        .flat_map(|p| {
            p.prepared.iter().enumerate().map(|(k, v)| {
                let name = if p.names.is_empty() {
                    p.path.clone()
                } else {
                    format!("{} (variant {})", p.path, k + 1)
                };
                (name, v.source.clone())
            })
        })
        .collect();
    // Each file's `includes` blocks decided once on the file itself: its variants change
    // no statement (`claims::includes::Shared`, as in `tq variants`).
    let mut shared = tq::claims::includes::Shared::default();
    for p in &pending {
        if !p.names.is_empty() {
            tq::claims::shared_includes(
                &p.base.analysis(),
                &p.base.source,
                &Options {
                    seed,
                    ..Options::default()
                },
                &mut shared,
            );
        }
    }
    // A file's variants share its Monte Carlo budget (docs/cli.md); the files do not.
    let opts = Options {
        shared_includes: (!shared.is_empty()).then(|| std::sync::Arc::new(shared)),
        seed,
        monte_carlo_shares: pending
            .iter()
            .map(|p| p.prepared.len() as u64)
            .max()
            .unwrap_or(1),
        ..Options::default()
    };
    let mut reports = check_all(&sources, &opts).into_iter();
    let mut questions: Vec<Question> = Vec::new();
    for p in pending {
        let variants: Vec<tq::variants::Variant> = p
            .prepared
            .into_iter()
            .filter_map(|prepared| {
                reports
                    .next()
                    .map(|report| tq::variants::Variant::new(prepared, report))
            })
            .collect();
        match tq::export::question(&p.path, &p.base, &p.names, &variants, seed) {
            Ok(q) => {
                if let Some(other) = questions.iter().find(|o| o.qid == q.qid) {
                    lines.push(format!(
                        "skipped {}: its question name `{}` is already taken by {}",
                        p.path, q.qid, other.path
                    ));
                    continue;
                }
                questions.push(q);
            }
            Err(why) => lines.push(format!("skipped {}: {why}", p.path)),
        }
    }
    let mut summary: Vec<String> = Vec::new();
    for q in &questions {
        let formulas = q
            .answers
            .iter()
            .filter(|a| matches!(a.kind, Kind::Symbolic { .. }))
            .count();
        let dest = match to {
            ExportTarget::Prairielearn => out.join(&q.qid).display().to_string(),
            ExportTarget::Moodle => format!("{} (category tq/{})", out.display(), q.qid),
        };
        summary.push(format!(
            "exported {} -> {dest}: {} answer{} ({} number{}, {} formula{}), {} variant{}",
            q.path,
            q.answers.len(),
            plural(q.answers.len()),
            q.answers.len() - formulas,
            plural(q.answers.len() - formulas),
            formulas,
            plural(formulas),
            q.variants.len(),
            plural(q.variants.len())
        ));
        for n in &q.notes {
            summary.push(format!("  note: {n}"));
        }
    }
    summary.extend(lines);
    if questions.is_empty() {
        say("no file has an answer to export");
        let _ = finish(&format!("{}\n", summary.join("\n")), ExitCode::SUCCESS);
        return ExitCode::from(if status_io { 2 } else { 1 });
    }
    let written = match to {
        ExportTarget::Prairielearn => write_prairielearn(&out, &questions),
        ExportTarget::Moodle => {
            let questions: Vec<&Question> = questions.iter().collect();
            summary.push(format!(
                "{}: {} numerical question{}",
                out.display(),
                tq::export::moodle::count(&questions),
                plural(tq::export::moodle::count(&questions))
            ));
            write_file(&out, &tq::export::moodle::quiz(&questions))
        }
    };
    if let Err(e) = written {
        say(e);
        return ExitCode::from(2);
    }
    let status = if status_io {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    finish(&format!("{}\n", summary.join("\n")), status)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_prairielearn(dir: &Path, questions: &[Question]) -> Result<(), String> {
    for q in questions {
        let qdir = dir.join(&q.qid);
        std::fs::create_dir_all(&qdir).map_err(|e| format!("{}: {e}", qdir.display()))?;
        for (rel, text) in tq::export::prairielearn::files(q) {
            write_file(&dir.join(rel), &text)?;
        }
    }
    Ok(())
}
