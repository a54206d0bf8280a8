//! The parser: logical lines (see [`super::lines`]) to [`Program`], with nom 8 over
//! `nom_locate` spans. Each logical line is parsed on its own, so one bad line gives
//! one diagnostic and the rest of the file is still read. nom's types stay in here.
//!
//! Files, by concept:
//! - `mod.rs`: the entry point [`parse`], the limits, and the line results shared by
//!   the files below.
//! - `tokens.rs`: the located input, the parse error, the context, white space, words
//!   and keywords.
//! - `names.rs`: identifiers, subscripts, index expressions, tensor references.
//! - `expressions.rs`: expressions by precedence, bounded in depth and operators.
//! - `statements.rs`: declarations, equations, bindings and the statement dispatch.
//! - `claims.rs`: claims and derivation blocks.
//! - `recovery.rs`: blocks, one logical line at a time, and the diagnostics of a line
//!   that fails.
//! - `notations.rs`: a line written in another notation (LaTeX, slices, Python's
//!   `range`, `W[j][I]`, nested derivatives, `where` for `given`), reported where it
//!   starts, with the line rewritten.
//! - `hints.rs`: the hints of a failed line (keywords of other languages, habits,
//!   index positions, missing operands, unknown characters).

mod claims;
mod expressions;
mod hints;
mod names;
mod notations;
mod recovery;
mod slips;
mod statements;
mod tokens;

use super::ast::*;
use super::lines::{logical_lines, transliterate};
use super::span::Span;
use crate::diag::Diagnostic;
use tokens::Ctx;
/// The statement keywords (for [`super::lines`], which takes unindented block bodies in).
pub(crate) use tokens::KEYWORDS;

/// The largest source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// The deepest expression nesting accepted (brackets, calls, signs, powers).
pub const MAX_EXPR_DEPTH: usize = 64;
/// The most binary operators (`+`, `-`, `*`, `/`, juxtaposition) accepted in one
/// expression (each side of an equation or relation): a chain of n terms is a tree n deep for every later walk (check, sym,
/// grad, eval, moments, print), so chains are bounded like nesting.
pub const MAX_EXPR_OPERATORS: usize = 4000;
/// The parsing work one statement may take: this many names read (each attempt of the
/// backtracking parser counted) per byte of the statement, plus [`PARSE_STEPS_MIN`].
/// Nested subscripts were read again at each level on two paths (a reference, then an
/// index term), so `h_{h_{…}}` 22 deep took 2.8 s and 2,000 deep never ended; past the
/// limit the statement is E0003. The files of `problems/`, `tests/cases/` and
/// `tests/robustness/` parse within 1 per byte (measured by setting this to 1).
pub const PARSE_STEPS_PER_BYTE: usize = 16;
/// See [`PARSE_STEPS_PER_BYTE`].
pub const PARSE_STEPS_MIN: usize = 1_000;

fn print_ref_text(r: &Ref) -> String {
    super::printer::print_ref(r)
}

/// The result of parsing: the program (with what could be read) and the diagnostics.
pub struct Parsed {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    /// The names lines that failed to parse would have defined (a tensor's printed name
    /// and family key, the sizes and symbols of a `size` line): their uses are
    /// consequences of the syntax error, not errors of their own
    /// ([`crate::check::check_after_parse`]).
    pub unparsed: Vec<String>,
}

/// Parses a whole source file. Never fails and never panics: what cannot be read is
/// reported as diagnostics and left out of the program.
pub fn parse(src: &str) -> Parsed {
    if src.len() > MAX_SOURCE_BYTES {
        return Parsed {
            program: Program { items: vec![] },
            unparsed: vec![],
            diagnostics: vec![Diagnostic::error(
                "E0003",
                Span::new(0, 0),
                format!(
                    "the file is {} bytes, more than the limit of {} bytes",
                    src.len(),
                    MAX_SOURCE_BYTES
                ),
            )
            .with_hint("split the problem into several files")],
        };
    }
    let ascii = transliterate(src);
    let lines = logical_lines(&ascii.text);
    let ctx = Ctx {
        ascii: &ascii,
        depth: std::cell::Cell::new(0),
        operators: std::cell::Cell::new(0),
        steps: std::cell::Cell::new(0),
        steps_limit: std::cell::Cell::new(PARSE_STEPS_MIN),
        subscripts: Default::default(),
        unparsed: Default::default(),
        keyword_names: Default::default(),
    };
    let mut diagnostics = Vec::new();
    let items = ctx.block(&lines, &mut diagnostics, BlockKind::Top);
    if let Some((start, end)) = super::lines::tab_width_dependent(src) {
        // front41 (issue #18, l15): once, at the first line whose depth depends on the
        // tab width (docs/diagnostics.md, E0804).
        diagnostics.push(
            Diagnostic::error(
                "E0804",
                Span::new(start, end),
                "this line's indentation mixes tabs and spaces: whether it is deeper than the line above depends on the width of a tab",
            )
            .with_label("tabs and spaces")
            .with_hint("indent with spaces only (tq reads a tab as four spaces; an editor may show it as eight)"),
        );
    }
    Parsed {
        program: Program { items },
        diagnostics,
        unparsed: ctx.unparsed.into_inner(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BlockKind {
    Top,
    Loop,
    Rule,
    ForIndices,
    Derivation,
}

enum GivenItem {
    Boundary(Boundary),
    Rel(Expr),
}

enum LineResult {
    Item(Box<Item>),
    Expect(Expectation, Span),
    /// A line of a derivation: the relation to the previous line (none on the first),
    /// the expression, the rule cited.
    Step(Option<RelOp>, Box<Expr>, Option<Ident>, Span),
}
