//! `tq fmt`: files rewritten in the printer's canonical layout, comments kept
//! (`tq::syntax::format`); `--check` only reports the files that would change.

use super::io::{collect_files, display_name, read_bytes, say, say_raw, theme, write_out, Entry};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Formats every `.tq` file named or found under `paths`. Exit 0 when every file is (or
/// now is) formatted; 1 when a file does not parse or, with `--check`, is not
/// formatted; 2 when a file cannot be read or written.
pub fn fmt(paths: Vec<PathBuf>, check: bool) -> ExitCode {
    let mut status = 0u8;
    for entry in collect_files(&paths) {
        let path = match entry {
            Entry::File(p) => p,
            Entry::Failed(p, d) => {
                say_raw(&tq::diag::render_plain(&display_name(&p), "", &[d]));
                status = status.max(2);
                continue;
            }
        };
        status = status.max(fmt_one(&path, check));
    }
    ExitCode::from(status)
}

fn fmt_one(path: &Path, check: bool) -> u8 {
    let name = display_name(path);
    let source = match read_bytes(path).map(|b| tq::report::decode_source(&b)) {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => {
            let (shown, d) = *e;
            say_raw(&tq::diag::render_plain(&name, &shown, &[d]));
            return 2;
        }
        Err(d) => {
            say_raw(&tq::diag::render_plain(&name, "", &[d]));
            return 2;
        }
    };
    let formatted = match tq::syntax::format::format_source(&source) {
        Ok(f) => f,
        Err(diags) => {
            let text = match theme() {
                Some(t) => tq::diag::render_with(&name, &source, &diags, t),
                None => tq::diag::render_plain(&name, &source, &diags),
            };
            say_raw(&text);
            say(format!("{name}: not formatted (it does not parse)"));
            return 1;
        }
    };
    let stdin = path.as_os_str() == "-";
    if check {
        if formatted != source {
            let line = first_difference(&source, &formatted);
            say(format!(
                "{name}: not formatted (first difference at line {line}); run `tq fmt {name}`"
            ));
            return 1;
        }
        return 0;
    }
    if stdin {
        return match write_out(&formatted) {
            Ok(()) => 0,
            Err(_) => 2,
        };
    }
    if formatted == source {
        return 0;
    }
    match std::fs::write(path, formatted.as_bytes()) {
        Ok(()) => {
            say(format!("formatted {name}"));
            0
        }
        Err(e) => {
            say(format!("{name}: cannot be written: {e}"));
            2
        }
    }
}

/// The 1-based line at which two texts first differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut la = a.lines();
    let mut lb = b.lines();
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return n,
            _ => return n,
        }
    }
}
