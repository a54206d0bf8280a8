//! The rendered page as a typed document: what `tq render` says, independent of the
//! output language. [`super::build`] makes one from a checked file; the writers
//! ([`super::latex`], [`super::markdown`]) print it. Math is held as LaTeX math (the
//! course's notation, typeset from the syntax tree or from a `sym::Expr`), which both
//! writers set as math (`$...$`); text is held unescaped and each writer escapes it.

/// A run of a paragraph, a list item, a line or a table cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    /// Prose, unescaped.
    Text(String),
    /// LaTeX math, set in math mode.
    Math(String),
    /// Prose set in bold.
    Strong(String),
}

/// One line of a program or of the moments section: indentation depth, content and
/// an optional note set small after it (`[closed form, from ...]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub depth: usize,
    pub content: Vec<Inline>,
    pub note: Vec<Inline>,
}

/// One row of an aligned derivation: `lhs = rhs` and, when known, `= at` (its value at
/// the point).
#[derive(Clone, Debug, PartialEq)]
pub struct AlignRow {
    pub lhs: String,
    pub rhs: String,
    pub at: Option<String>,
}

/// One question: the claim's number in the file, the claim as math, and the lines of
/// an `includes` block under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub number: usize,
    pub math: String,
    pub lines: Vec<Line>,
}

/// One row of the table of claims: number, verdict (none when no engine decided) and
/// how it was decided (method and evidence, with the expressions typeset).
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimRow {
    pub number: usize,
    pub verdict: Option<String>,
    pub evidence: Vec<Inline>,
}

/// A block of the page.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A part of the page (Problem, Solution).
    Section(String),
    /// A section of the solution (Backpropagation, Moments, ...).
    Subsection(String),
    /// A paragraph, with a run-in heading (`Given.`) when `lead` is set.
    Paragraph {
        lead: Option<String>,
        body: Vec<Inline>,
    },
    /// A bulleted list.
    Items(Vec<Vec<Inline>>),
    /// Remarks set apart (the gather form's boundary notes); may be empty.
    Notes(Vec<Vec<Inline>>),
    /// Indented lines (a program, the moments engine's results).
    Lines(Vec<Line>),
    /// Numbered questions (the claims, as asked).
    Questions(Vec<Question>),
    /// An aligned list of equations.
    Align(Vec<AlignRow>),
    /// The table of claims with their verdicts.
    Claims(Vec<ClaimRow>),
}

/// A rendered page.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub title: Vec<Inline>,
    pub author: Option<Vec<Inline>>,
    /// The file the page is rendered from (written as a comment).
    pub path: String,
    pub blocks: Vec<Block>,
}

impl Line {
    /// A line of math.
    pub fn math(depth: usize, m: String) -> Line {
        Line {
            depth,
            content: vec![Inline::Math(m)],
            note: Vec::new(),
        }
    }
}
