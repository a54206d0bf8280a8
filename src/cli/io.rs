//! Reading sources and the small terminal helpers of the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The largest file tq reads, in bytes (the parser refuses larger sources too).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
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

pub fn read_source(path: &Path) -> Result<String, String> {
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

/// Every `.tq` file named or found under the paths, with its source, in order.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
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
pub fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
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

pub fn theme() -> Option<miette::GraphicalTheme> {
    if std::io::stdout().is_terminal() {
        Some(miette::GraphicalTheme::unicode())
    } else {
        None
    }
}
