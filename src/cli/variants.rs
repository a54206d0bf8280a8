//! `tq variants`: randomized versions of a problem, each checked.

use super::args::VariantsFormat;
use super::check::check_all;
use super::io::{display_name, finish, read_source, say, say_raw};
use std::path::PathBuf;
use std::process::ExitCode;
use tq::report::{self, Options};

pub fn variants(file: PathBuf, count: usize, seed: u64, format: VariantsFormat) -> ExitCode {
    let src = match read_source(&file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let path = display_name(&file);
    let base = report::check_source(
        &path,
        &src,
        &Options {
            seed,
            no_numeric: true,
            no_monte_carlo: true,
            // The program and its diagnostics only: each variant's claims are decided
            // in its own check, within its share of the file's budgets.
            no_claims: true,
            ..Options::default()
        },
    );
    if base.unexpected_errors() > 0 || base.expected_error.is_some() {
        say_raw(&tq::diag::render_plain(
            &base.path,
            &base.source,
            &base.diagnostics,
        ));
        say("variants are made only from a file without errors");
        if format == VariantsFormat::Json {
            // A JSON reader gets a document as `check` gives one: the file's diagnostics
            // and no variants (issue #18: it got nothing on standard output).
            return failed_json(&path, seed, base.to_json()["diagnostics"].clone(), None, 1);
        }
        return ExitCode::from(1);
    }
    let plan = match tq::variants::plan(&base.program, count, seed) {
        Ok(p) => p,
        Err(e) => {
            say(format!("{path}: {e}"));
            if format == VariantsFormat::Json {
                return failed_json(&path, seed, serde_json::json!([]), Some(e.to_string()), 2);
            }
            return ExitCode::from(2);
        }
    };
    if (count as u64) > plan.available {
        say(format!("{path}: {count} variants were asked for, but the `vary` lines allow only {} distinct ones; all are printed",
            plan.available
        ));
    }
    // Preparing the variants (their scalar programs and answers, computed exactly) shares
    // one file's symbolic and exact work, 1/K each (`variants::prepare_all`): the output
    // depends on the file only.
    let prepared: Vec<tq::variants::Prepared> =
        tq::variants::prepare_all(&base.program, &base.env, &plan.names, &plan.chosen);
    let sources: Vec<(String, String)> = prepared
        .iter()
        .enumerate()
        .map(|(k, p)| (format!("{path} (variant {})", k + 1), p.source.clone()))
        .collect();
    // The file's `includes` blocks decided once on the file itself: the variants change
    // no statement (`claims::includes::Shared`, docs/performance.md).
    let mut shared = tq::claims::includes::Shared::default();
    tq::claims::shared_includes(
        &base.analysis(),
        &base.source,
        &Options {
            seed,
            ..Options::default()
        },
        &mut shared,
    );
    // The variants share one file's Monte Carlo budget (docs/cli.md).
    let opts = Options {
        seed,
        monte_carlo_shares: sources.len() as u64,
        shared_includes: (!shared.is_empty()).then(|| std::sync::Arc::new(shared)),
        ..Options::default()
    };
    let reports = check_all(&sources, &opts);
    let variants: Vec<tq::variants::Variant> = prepared
        .into_iter()
        .zip(reports)
        .map(|(prepared, report)| tq::variants::Variant::new(prepared, report))
        .collect();
    let out = match format {
        VariantsFormat::Markdown => tq::variants::markdown(&path, &plan, seed, &variants),
        VariantsFormat::Latex => tq::variants::latex(&path, &plan, seed, &variants),
        VariantsFormat::Json => {
            serde_json::to_string_pretty(&tq::variants::to_json(&path, &plan, seed, &variants))
                .unwrap_or_default()
        }
    };
    let status = if tq::variants::any_failed(&variants) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    finish(&format!("{}\n", out.trim_end()), status)
}

/// The JSON document of a file no variant is made from: its diagnostics (as `check`
/// writes them) or the reason, and an empty list of variants.
fn failed_json(
    path: &str,
    seed: u64,
    diagnostics: serde_json::Value,
    error: Option<String>,
    status: u8,
) -> ExitCode {
    let doc = serde_json::json!({
        "path": path,
        "seed": seed,
        "error": error.unwrap_or_else(|| "variants are made only from a file without errors".into()),
        "diagnostics": diagnostics,
        "variants": [],
    });
    finish(
        &format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ),
        ExitCode::from(status),
    )
}
