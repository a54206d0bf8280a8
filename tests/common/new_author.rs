//! The files under tests/new_author/: one mistake a new author makes each, written from
//! the documentation. The one reader of them, shared by tests/diagnostics.rs (each gets
//! one located diagnostic with a hint) and tests/hints_applied.rs (each literal hint,
//! applied, gives a file tq accepts).
//!
//! A file's first line states the one diagnostic it must get (`# diagnostic: E0201 4`:
//! the code and the line, or `E0201 4:7` with the column, in characters from 1), and a
//! `# hint:` line, when there is one, words the hint must contain.

use tq::diag::Diagnostic;
use tq::report::{check_source, FileReport, Options};

/// One file of tests/new_author/ and what its header asks for.
pub struct Mistake {
    /// The file's name (`claim_single_equals.tq`).
    pub name: String,
    pub src: String,
    /// The code of the one diagnostic it must get.
    pub code: String,
    pub line: usize,
    pub column: Option<usize>,
    /// Words the hint must contain.
    pub hint: Option<String>,
}

impl Mistake {
    /// The header's place as written (`4` or `4:16`).
    pub fn place(&self) -> String {
        match self.column {
            Some(c) => format!("{}:{c}", self.line),
            None => self.line.to_string(),
        }
    }
}

/// Every file of tests/new_author/, sorted by name; a file without a `# diagnostic:`
/// first line panics (the header is the file's point).
pub fn mistakes() -> Vec<Mistake> {
    let dir = super::root().join("tests/new_author");
    super::tq_files(&dir)
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let src = std::fs::read_to_string(&path).unwrap();
            let want = src
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# diagnostic:"))
                .unwrap_or_else(|| panic!("{name}: no `# diagnostic:` first line"));
            let mut it = want.split_whitespace();
            let code = it
                .next()
                .unwrap_or_else(|| panic!("{name}: no code"))
                .to_string();
            let place = it.next().unwrap_or_else(|| panic!("{name}: no line"));
            let (line, column) = match place.split_once(':') {
                Some((l, c)) => (l.parse().unwrap(), Some(c.parse().unwrap())),
                None => (place.parse().unwrap(), None),
            };
            let hint = src
                .lines()
                .find_map(|l| l.strip_prefix("# hint:"))
                .map(|h| h.trim().to_string());
            Mistake {
                name,
                src,
                code,
                line,
                column,
                hint,
            }
        })
        .collect()
}

/// The options the new-author files are checked with: everything but Monte Carlo.
pub fn options() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

/// The report of a new-author source (a file's text, or that text with a hint applied).
pub fn report(src: &str) -> FileReport {
    check_source("t.tq", src, &options())
}

/// The errors that count against a source: an error its `expect error` line names is
/// the file's point, not a failure.
pub fn errors(src: &str) -> Vec<Diagnostic> {
    let r = report(src);
    if r.unexpected_errors() == 0 {
        return Vec::new();
    }
    r.diagnostics.into_iter().filter(|d| d.is_error()).collect()
}
