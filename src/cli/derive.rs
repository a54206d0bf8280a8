//! `tq derive` and `tq render`: everything tq derives about one file.

use super::args::{DeriveFormat, RenderFormat};
use super::io::{read_source, theme};
use std::path::PathBuf;
use std::process::ExitCode;
use tq::report::{self, Options};

pub fn derive(file: PathBuf, format: DeriveFormat, seed: u64, steps: bool) -> ExitCode {
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

pub fn render(file: PathBuf, format: RenderFormat, fragment: bool, seed: u64) -> ExitCode {
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
