//! `tq derive` and `tq render`: everything tq derives about one file.

use super::args::{Audience, DeriveFormat, RenderFormat};
use super::io::{
    display_name, file_progress, finish, read_source, say, say_raw, spinner, theme, write_out,
};
use std::path::PathBuf;
use std::process::ExitCode;
use tq::report::{self, Options};

pub fn derive(file: PathBuf, format: DeriveFormat, seed: u64, steps: bool) -> ExitCode {
    let src = match read_source(&file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The same claims verdicts as `tq check` (the numeric runs included).
    let bar = spinner();
    let opts = Options {
        seed,
        progress: Some(file_progress(&bar, &display_name(&file))),
        ..Options::default()
    };
    let r = report::check_source(&display_name(&file), &src, &opts);
    bar.finish_and_clear();
    let chains = if steps && r.unexpected_errors() == 0 {
        match tq::derive::steps_of(&r, seed) {
            Ok(c) => Some(c),
            Err(e) => {
                say(format!("{}: {e}", r.path));
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
                audience: tq::render::Audience::Key,
            },
        ),
    };
    let status = if r.unexpected_errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    finish(&out, status)
}

pub fn render(
    file: PathBuf,
    format: RenderFormat,
    fragment: bool,
    seed: u64,
    audience: Audience,
) -> ExitCode {
    let src = match read_source(&file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let audience = match audience {
        Audience::Key => tq::render::Audience::Key,
        Audience::Student => tq::render::Audience::Student,
    };
    // The student page shows no verdicts: nothing is run.
    let student = audience == tq::render::Audience::Student;
    let bar = spinner();
    let opts = Options {
        seed,
        no_numeric: student,
        no_monte_carlo: student,
        progress: Some(file_progress(&bar, &display_name(&file))),
        ..Options::default()
    };
    let r = report::check_source(&display_name(&file), &src, &opts);
    bar.finish_and_clear();
    let format = match format {
        RenderFormat::Latex => tq::render::Format::Latex,
        RenderFormat::Markdown => tq::render::Format::Markdown,
    };
    let doc = tq::render::render(
        &r,
        tq::render::RenderOptions {
            format,
            fragment,
            audience,
        },
    );
    if let Err(code) = write_out(&doc) {
        return code;
    }
    // A claim the page asks students to show must not be one tq refutes: say so, and fail.
    let false_shown: Vec<_> = r
        .claims
        .iter()
        .filter(|c| {
            c.verdict == tq::verdict::Verdict::Refuted
                && c.expect != Some(tq::syntax::ast::Expectation::Refuted)
        })
        .collect();
    for c in &false_shown {
        say(format!(
            "{}:{}:{}: the page lists `{}` under \"Show that\", but tq refutes it ({}); fix the claim, or mark it `expect refuted` to ask for the error instead",
            r.path, c.line, c.column, c.source, c.method.as_str()
        ));
    }
    if student && false_shown.is_empty() {
        say("the student page runs the exact engines only: run `tq check` on the file before handing it out (claims Monte Carlo refutes are not seen here)");
    }
    if r.unexpected_errors() > 0 {
        say_raw(&tq::diag::render_plain(&r.path, &r.source, &r.diagnostics));
        ExitCode::from(1)
    } else if student && !false_shown.is_empty() {
        // The key prints each claim's verdict beside it; the student page would ask to
        // show a false claim.
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
