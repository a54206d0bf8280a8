//! Reading sources and writing output: every byte tq reads or writes goes through here.
//!
//! - Reads are capped: at most [`MAX_FILE_BYTES`] + 1 bytes are ever read from a file,
//!   a device or standard input (`-`), whatever its metadata says, so `/dev/zero` or an
//!   endless pipe is refused after 1 MiB.
//! - Directory walks follow symbolic links but visit each directory and each file once
//!   (by canonical path), so a link cycle ends and nothing is checked twice.
//! - A file that cannot be read is one [`Entry::Failed`] with a coded diagnostic; the
//!   others are still read.
//! - Writes to standard output never panic: a closed pipe ends the command quietly with
//!   status 0 (as ripgrep does), any other write error (a full disk) is status 2 with a
//!   message. Messages to standard error are best effort.

use std::collections::HashSet;
use std::fmt::Display;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tq::diag::Diagnostic;
use tq::span::Span;

/// The largest file tq reads, in bytes (the parser refuses larger sources too).
pub const MAX_FILE_BYTES: usize = tq::syntax::parser::MAX_SOURCE_BYTES;

/// The path that names standard input.
const STDIN: &str = "-";

/// How standard input is named in reports and messages.
pub const STDIN_NAME: &str = "<stdin>";

/// A message on standard error, best effort (a closed or full stderr is ignored).
pub fn say(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "tq: {message}");
}

/// Text on standard error as it is (diagnostics already rendered), best effort.
pub fn say_raw(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `text` to standard output and flushes it. `Err` carries the status to end
/// the command with: 0 when the reader has gone (a closed pipe, `| head`), 2 with a
/// message on any other error (`> /dev/full`).
pub fn write_out(text: &str) -> Result<(), ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => Err(write_failed(&e)),
    }
}

/// The status of a failed write to standard output (see [`write_out`]).
fn write_failed(e: &std::io::Error) -> ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        ExitCode::SUCCESS
    } else {
        say(format!("cannot write to standard output: {e}"));
        ExitCode::from(2)
    }
}

/// Writes `text` and ends the command with `status`, or with the write's status when
/// the write fails.
pub fn finish(text: &str, status: ExitCode) -> ExitCode {
    match write_out(text) {
        Ok(()) => status,
        Err(code) => code,
    }
}

/// The name a path is reported under (`<stdin>` for `-`).
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// A diagnostic about a whole file that could not be read (at its start).
fn unreadable(code: &'static str, message: String, hint: &str) -> Diagnostic {
    Diagnostic::error(code, Span::new(0, 0), message).with_hint(hint)
}

/// Reads at most [`MAX_FILE_BYTES`] bytes; one more is refused with E0003.
fn read_capped(reader: impl Read, name: &str) -> Result<Vec<u8>, Diagnostic> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            unreadable(
                "E0005",
                format!("{name} cannot be read: {e}"),
                "check that the file exists and is readable",
            )
        })?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(unreadable(
            "E0003",
            format!("{name} is more than the limit of {MAX_FILE_BYTES} bytes (1 MiB); reading stopped there"),
            "split the problem into several files",
        ));
    }
    Ok(bytes)
}

/// The bytes of one file, or of standard input for `-`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    if path.as_os_str() == STDIN {
        return read_capped(std::io::stdin().lock(), STDIN_NAME);
    }
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| {
        unreadable(
            "E0005",
            format!("{name} cannot be read: {e}"),
            "check that the file exists and is readable",
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().map_err(cannot)?.is_dir() {
        return Err(unreadable(
            "E0005",
            format!("{name} is a directory"),
            "name a .tq file (tq check and tq errata also search directories)",
        ));
    }
    read_capped(file, &name)
}

/// One file's text, for the commands that read one file: a read or decoding error is
/// printed (code, file, line, column, hint) and gives status 2.
pub fn read_source(path: &Path) -> Result<String, ExitCode> {
    let name = display_name(path);
    let decoded = match read_bytes(path) {
        Ok(bytes) => tq::report::decode_source(&bytes),
        Err(d) => Err(Box::new((String::new(), d))),
    };
    decoded.map_err(|e| {
        let (shown, d) = *e;
        say_raw(&tq::diag::render_plain(&name, &shown, &[d]));
        ExitCode::from(2)
    })
}

/// A file found by [`collect_files`].
pub enum Entry {
    /// A file (or `-`) to read.
    File(PathBuf),
    /// A path that cannot be read, with the diagnostic that says why.
    Failed(PathBuf, Diagnostic),
}

/// Every `.tq` file named or found (recursively, in sorted order) under the paths: each
/// directory and each file once, by canonical path, so symbolic link cycles end.
pub fn collect_files(paths: &[PathBuf]) -> Vec<Entry> {
    let mut walk = Walk::default();
    for p in paths {
        walk.visit(p, true);
    }
    walk.out
}

#[derive(Default)]
struct Walk {
    dirs: HashSet<PathBuf>,
    files: HashSet<PathBuf>,
    out: Vec<Entry>,
}

impl Walk {
    fn fail(&mut self, path: &Path, code: &'static str, message: String, hint: &str) {
        self.out.push(Entry::Failed(
            path.to_path_buf(),
            unreadable(code, message, hint),
        ));
    }

    fn visit(&mut self, path: &Path, named: bool) {
        if path.as_os_str() == STDIN {
            self.out.push(Entry::File(path.to_path_buf()));
            return;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
                let hint = if link {
                    "a symbolic link that leads nowhere or back to itself: remove or fix the link"
                } else {
                    "check that the file exists and is readable"
                };
                self.fail(
                    path,
                    "E0005",
                    format!("{} cannot be read: {e}", path.display()),
                    hint,
                );
                return;
            }
        };
        // The same directory or file reached again (through a link, or named twice) is
        // not visited again.
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if meta.is_dir() {
            if !self.dirs.insert(canonical.clone()) {
                if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) {
                    say(format!(
                        "note: {} leads to {}, which is already searched; skipped",
                        path.display(),
                        canonical.display()
                    ));
                }
                return;
            }
            let entries = match std::fs::read_dir(path) {
                Ok(rd) => rd,
                Err(e) => {
                    self.fail(
                        path,
                        "E0005",
                        format!("the directory {} cannot be read: {e}", path.display()),
                        "check that the directory is readable",
                    );
                    return;
                }
            };
            let mut found: Vec<PathBuf> = Vec::new();
            for e in entries {
                match e {
                    Ok(e) => found.push(e.path()),
                    Err(e) => self.fail(
                        path,
                        "E0005",
                        format!("the directory {} cannot be read: {e}", path.display()),
                        "check that the directory is readable",
                    ),
                }
            }
            found.sort();
            let before = self.out.len();
            for p in found {
                if p.extension().is_some_and(|e| e == "tq") || p.is_dir() {
                    self.visit(&p, false);
                }
            }
            // A directory named on the command line with nothing to check is a mistake
            // (a wrong path, files not yet written), not a pass.
            if named && self.out.len() == before {
                self.fail(
                    path,
                    "E0005",
                    format!("no `.tq` file under the directory {}", path.display()),
                    "name a `.tq` file, or a directory that contains one",
                );
            }
        } else {
            if !self.files.insert(canonical) {
                return;
            }
            if !named && !meta.is_file() {
                self.fail(
                    path,
                    "E0005",
                    format!(
                        "{} is not a regular file (a pipe, a device or a socket)",
                        path.display()
                    ),
                    "tq reads such a file only when it is named on the command line",
                );
                return;
            }
            self.out.push(Entry::File(path.to_path_buf()));
        }
    }
}

/// A source to check: its name and text, or the report of why it cannot be read.
pub enum Loaded {
    Text(String, String),
    Unreadable(Box<tq::report::FileReport>),
}

/// Every `.tq` file named or found under the paths, read and decoded, in order; those
/// that cannot be read are reports with one diagnostic each.
pub fn read_paths(paths: &[PathBuf]) -> Vec<Loaded> {
    let failed = |name: &str, shown: String, d: Diagnostic| {
        Loaded::Unreadable(Box::new(tq::report::FileReport::unreadable(name, shown, d)))
    };
    collect_files(paths)
        .into_iter()
        .map(|entry| match entry {
            Entry::File(p) => {
                let name = display_name(&p);
                match read_bytes(&p).map(|b| tq::report::decode_source(&b)) {
                    Ok(Ok(text)) => Loaded::Text(name, text),
                    Ok(Err(e)) => {
                        let (shown, d) = *e;
                        failed(&name, shown, d)
                    }
                    Err(d) => failed(&name, String::new(), d),
                }
            }
            Entry::Failed(p, d) => failed(&display_name(&p), String::new(), d),
        })
        .collect()
}

/// A progress bar on stderr for work that may take more than about a second; hidden
/// when stderr is not a terminal (indicatif draws nothing then either, and ignores
/// errors when it draws).
pub fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 1 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{bar:20}] {pos}/{len} {elapsed} {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    // Shown only once the work has taken about a second.
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A spinner on stderr that shows what one command on one file is doing (the file and
/// the claim being decided), only when stderr is a terminal; hidden otherwise.
pub fn spinner() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Claims' progress of the file `path` as the message of `bar`
/// (`problems/resnet.tq: line 45: Var(R_{l+1}) == …`).
pub fn file_progress(bar: &indicatif::ProgressBar, path: &str) -> tq::claims::Progress {
    let (bar, path) = (bar.clone(), path.to_string());
    tq::claims::Progress(std::sync::Arc::new(move |what: &str| {
        if !bar.is_hidden() {
            bar.set_message(format!("{path}: {what}"));
        }
    }))
}

pub fn theme() -> Option<miette::GraphicalTheme> {
    if std::io::stdout().is_terminal() {
        Some(miette::GraphicalTheme::unicode())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let endless = std::io::repeat(b'a');
        let d = read_capped(endless, "x").unwrap_err();
        assert_eq!(d.code, "E0003");
        let exact = std::io::repeat(b'a').take(MAX_FILE_BYTES as u64);
        assert_eq!(read_capped(exact, "x").unwrap().len(), MAX_FILE_BYTES);
    }
}
