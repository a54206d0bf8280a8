//! The lexical layer: the located input type, the parse error, the shared parsing
//! context, white space, symbols, words and keywords.

use crate::syntax::ast::IndexExpr;
use crate::syntax::lines::Ascii;
use crate::syntax::span::Span;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::satisfy;
use nom::combinator::recognize;
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};
use nom_locate::LocatedSpan;

/// Input of the line parsers; `extra` is the offset of the line in the whole text, so
/// a line is parsed without nom_locate counting the newlines before it (which made
/// parsing a file quadratic in its length).
pub(super) type In<'a> = LocatedSpan<&'a str, usize>;

/// The offset of an input position in the whole (transliterated) text.
pub(super) fn off(i: &In<'_>) -> usize {
    i.location_offset() + i.extra
}

pub(super) const TOO_DEEP: &str = "a shallower expression";
/// A `sample` or `at` setting of a power (`sigma^2 = 0.5`): they set names.
pub(super) const SET_POWER: &str =
    "`=` after the name (a setting gives a name its value, not a power of it)";
pub(super) const TOO_LONG: &str = "a shorter expression";
/// A numeral longer than [`MAX_NUMBER_CHARS`].
pub(super) const TOO_LONG_NUMBER: &str = "a number of at most 40 characters";
/// The longest numeral read (a longer one is E0003, named as too long).
pub(super) const MAX_NUMBER_CHARS: usize = 40;
/// A reference's index list directly followed by a second one (`W[j][I]`).
pub(super) const CHAINED_INDEX: &str = "one pair of brackets for all the indices";
/// A derivative of a derivative (`d(d(u)/d(a))/d(a)`).
pub(super) const NESTED_DERIV: &str = "the name of a value to differentiate";
pub(super) const TOO_MUCH: &str = "a statement that needs less parsing work";

/// Words that end an expression (they introduce the next part of a statement, or, for
/// `expect`, a line of its own that a statement must not run into).
pub(super) const RESERVED: &[&str] = &[
    "given", "at", "tol", "for", "in", "over", "reversed", "includes", "by", "expect",
];

/// The words that start a statement (the dispatch of `statements.rs`), for "did you
/// mean" on a misspelled one.
pub(crate) const KEYWORDS: &[&str] = &[
    "size",
    "symbol",
    "scalar",
    "index",
    "boundary",
    "param",
    "input",
    "grad",
    "at",
    "sample",
    "derivation",
    "vary",
    "claim",
    "expect",
    "rule",
    "for",
];

/// A parse error: the furthest position reached and what was expected there.
#[derive(Debug, Clone, Copy)]
pub(super) struct PErr {
    pub(super) offset: usize,
    pub(super) expected: &'static str,
}

impl<'a> ParseError<In<'a>> for PErr {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PErr {
            offset: off(&input),
            expected: "",
        }
    }
    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        if other.offset >= self.offset {
            other
        } else {
            self
        }
    }
}

pub(super) type PResult<'a, T> = IResult<In<'a>, T, PErr>;

pub(super) fn fail<'a, T>(input: In<'a>, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(PErr {
        offset: off(&input),
        expected,
    }))
}

pub(super) fn failure<'a, T>(input: In<'a>, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr {
        offset: off(&input),
        expected,
    }))
}

/// Parsing state shared by the line parsers: the map back to original offsets and the
/// current expression depth.
pub(super) struct Ctx<'s> {
    pub(super) ascii: &'s Ascii,
    pub(super) depth: std::cell::Cell<usize>,
    /// Binary operators read so far in the current statement.
    pub(super) operators: std::cell::Cell<usize>,
    /// Names read so far in the current statement, each attempt counted (backtracking
    /// reads a name again), against `steps_limit` ([`super::PARSE_STEPS_PER_BYTE`]).
    pub(super) steps: std::cell::Cell<usize>,
    pub(super) steps_limit: std::cell::Cell<usize>,
    /// Braced subscripts already tried in the current statement, by the offset after
    /// the `{`. An index term is read as a reference first and, when no `[` follows,
    /// again as an affine term, so each level of `h_{h_{…}}` read its subscript twice,
    /// on success and on failure alike: 2^depth reads. With this every offset is read
    /// once, whatever the outcome (docs/fuzzing.md).
    pub(super) subscripts: std::cell::RefCell<std::collections::HashMap<usize, SubscriptMemo>>,
    /// Names that lines which failed to parse would have defined.
    pub(super) unparsed: std::cell::RefCell<Vec<String>>,
    /// Keywords already reported as written for a name (one diagnostic for one cause).
    pub(super) keyword_names: std::cell::RefCell<Vec<String>>,
}

/// What reading a braced subscript at an offset gave.
pub(super) enum SubscriptMemo {
    /// Read: the offset after the `}` and the items.
    Read(usize, Vec<IndexExpr>),
    /// Failed at nesting depth `depth`: the same attempt fails again at that depth or
    /// deeper (a shallower one might get further before the depth limit, so it reads
    /// again). `hard` is a `nom::Err::Failure`.
    Failed { err: PErr, hard: bool, depth: usize },
}

impl Ctx<'_> {
    /// Counts one step of parsing work; past the statement's limit every later step
    /// fails, and the statement is refused with E0003 (`recovery.rs`).
    pub(super) fn parse_step<'a>(&self, i: In<'a>) -> Result<(), nom::Err<PErr>> {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if n > self.steps_limit.get() {
            return Err(nom::Err::Failure(PErr {
                offset: off(&i),
                expected: TOO_MUCH,
            }));
        }
        Ok(())
    }

    pub(super) fn span(&self, from: In<'_>, to: In<'_>) -> Span {
        self.ascii.span(off(&from), off(&to))
    }
}

/// White space: spaces, tabs, line ends, and a form feed (read as a space inside a line
/// as at its start; it was reported as "unexpected `` after the end of the statement",
/// the character printed raw: probe38 k25).
pub(super) fn ws(i: In<'_>) -> PResult<'_, In<'_>> {
    take_while(|c: char| matches!(c, ' ' | '\n' | '\r' | '\t' | '\x0c')).parse(i)
}

pub(super) fn sym<'a>(s: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        match tag::<_, _, PErr>(s).parse(i) {
            Ok(r) => Ok(r),
            Err(_) => fail(i, s),
        }
    }
}

pub(super) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic()
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// A bare word (letters then letters and digits).
pub(super) fn word(i: In<'_>) -> PResult<'_, In<'_>> {
    recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)
}

pub(super) fn keyword<'a>(kw: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let (rest, w) = word(i)?;
        if *w.fragment() == kw {
            Ok((rest, w))
        } else {
            fail(i, kw)
        }
    }
}
