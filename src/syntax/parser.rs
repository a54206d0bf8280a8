//! The parser: logical lines (see [`super::lines`]) to [`Program`], with nom 8 over
//! `nom_locate` spans. Each logical line is parsed on its own, so one bad line gives
//! one diagnostic and the rest of the file is still read. nom's types stay in here.

use super::ast::*;
use super::lines::{logical_lines, transliterate, Ascii, Line, MAX_DEPTH};
use super::span::Span;
use crate::diag::Diagnostic;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, peek, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::{IResult, Parser};
use nom_locate::LocatedSpan;

/// Input of the line parsers; `extra` is the offset of the line in the whole text, so
/// a line is parsed without nom_locate counting the newlines before it (which made
/// parsing a file quadratic in its length).
type In<'a> = LocatedSpan<&'a str, usize>;

/// The offset of an input position in the whole (transliterated) text.
fn off(i: &In<'_>) -> usize {
    i.location_offset() + i.extra
}

/// The largest source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// The deepest expression nesting accepted (brackets, calls, signs, powers).
pub const MAX_EXPR_DEPTH: usize = 64;
/// The most binary operators (`+`, `-`, `*`, `/`, juxtaposition) accepted in one
/// expression (each side of an equation or relation): a chain of n terms is a tree n deep for every later walk (check, sym,
/// grad, eval, moments, print), so chains are bounded like nesting.
pub const MAX_EXPR_OPERATORS: usize = 4000;

const TOO_DEEP: &str = "a shallower expression";
const TOO_LONG: &str = "a shorter expression";

/// Words that end an expression (they introduce the next part of a statement).
const RESERVED: &[&str] = &[
    "given", "at", "tol", "for", "in", "over", "reversed", "includes", "by",
];

/// A parse error: the furthest position reached and what was expected there.
#[derive(Debug)]
struct PErr {
    offset: usize,
    expected: &'static str,
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

type PResult<'a, T> = IResult<In<'a>, T, PErr>;

fn fail<'a, T>(input: In<'a>, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(PErr {
        offset: off(&input),
        expected,
    }))
}

fn failure<'a, T>(input: In<'a>, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr {
        offset: off(&input),
        expected,
    }))
}

/// Parsing state shared by the line parsers: the map back to original offsets and the
/// current expression depth.
struct Ctx<'s> {
    ascii: &'s Ascii,
    depth: std::cell::Cell<usize>,
    /// Binary operators read so far in the current statement.
    operators: std::cell::Cell<usize>,
}

impl Ctx<'_> {
    fn span(&self, from: In<'_>, to: In<'_>) -> Span {
        self.ascii.span(off(&from), off(&to))
    }
}

fn ws(i: In<'_>) -> PResult<'_, In<'_>> {
    take_while(|c: char| c == ' ' || c == '\n' || c == '\r' || c == '\t').parse(i)
}

fn sym<'a>(s: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        match tag::<_, _, PErr>(s).parse(i) {
            Ok(r) => Ok(r),
            Err(_) => fail(i, s),
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// A bare word (letters then letters and digits).
fn word(i: In<'_>) -> PResult<'_, In<'_>> {
    recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)
}

fn keyword<'a>(kw: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
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

impl<'s> Ctx<'s> {
    fn ident<'a>(&self, i: In<'a>) -> PResult<'a, Ident> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, w) = match word(i) {
            Ok(r) => r,
            Err(_) => return fail(start, "a name"),
        };
        let (i, primes) = take_while(|c| c == '\'').parse(i)?;
        let mut name = w.fragment().to_string();
        name.push_str(primes.fragment());
        Ok((
            i,
            Ident {
                name,
                span: self.span(start, i),
            },
        ))
    }

    fn ident_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Ident>> {
        separated_list1(sym(","), |i| self.ident(i)).parse(i)
    }

    /// A list of declared names, which may carry labels and subscripts (`sigma_W`,
    /// `mu'`, `W^{h,R}`); each is kept by its printed spelling.
    fn name_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Ident>> {
        separated_list1(sym(","), |i| {
            let (i, n) = self.name(i)?;
            Ok((
                i,
                Ident {
                    name: super::printer::print_name(&n),
                    span: n.span,
                },
            ))
        })
        .parse(i)
    }

    /// A decorated name: base, primes, `^{labels}`, `_x` or `_{...}` in either order.
    fn name<'a>(&self, i: In<'a>) -> PResult<'a, Name> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, w) = match word(i) {
            Ok(r) => r,
            Err(_) => return fail(start, "a name"),
        };
        if RESERVED.contains(w.fragment()) {
            return fail(start, "a name");
        }
        let mut base = w.fragment().to_string();
        // A rule's sequence named from outside the rule: `A.v`, `B.theta`.
        if let Ok((rest, (_, member))) = (char::<_, PErr>('.'), word).parse(i) {
            if *member.fragment() != "grad" {
                base.push('.');
                base.push_str(member.fragment());
                i = rest;
            }
        }
        let (rest, primes) = take_while(|c| c == '\'').parse(i)?;
        i = rest;
        let mut sup = Vec::new();
        let mut sub = Vec::new();
        for _ in 0..2 {
            if sup.is_empty() {
                if let Ok((rest, labels)) = self.sup_labels(i) {
                    sup = labels;
                    i = rest;
                    continue;
                }
            }
            if sub.is_empty() {
                if let Ok((rest, items)) = self.subscript(i) {
                    sub = items;
                    i = rest;
                    continue;
                }
            }
        }
        Ok((
            i,
            Name {
                base,
                primes: primes.fragment().len() as u8,
                sup,
                sub,
                span: self.span(start, i),
            },
        ))
    }

    /// `^{h,R}`: a label only when every item is a word or a word with digits and at
    /// least one item starts with a letter.
    fn sup_labels<'a>(&self, i: In<'a>) -> PResult<'a, Vec<String>> {
        let (i, _) = tag("^{").parse(i)?;
        let (i, items) = separated_list1(
            char(','),
            recognize((
                satisfy(|c: char| c.is_ascii_alphanumeric()),
                take_while(|c: char| c.is_ascii_alphanumeric() || c == '\''),
            )),
        )
        .parse(i)?;
        let (i, _) = char('}').parse(i)?;
        if !items
            .iter()
            .any(|s| s.fragment().starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return fail(i, "a label");
        }
        Ok((i, items.iter().map(|s| s.fragment().to_string()).collect()))
    }

    /// `_l`, `_0`, `_W`, `_{l+1}`, `_{l,s+1}`, `_{l+1,left}`.
    fn subscript<'a>(&self, i: In<'a>) -> PResult<'a, Vec<IndexExpr>> {
        let (i, _) = char('_').parse(i)?;
        if let Ok((i2, _)) = char::<_, PErr>('{').parse(i) {
            let (i2, items) = separated_list1(sym(","), |i| self.index_expr(i)).parse(i2)?;
            let (i2, _) = sym("}")(i2)?;
            return Ok((i2, items));
        }
        let start = i;
        let (i, tok) = take_while1(|c: char| c.is_ascii_alphanumeric()).parse(i)?;
        let span = self.span(start, i);
        let text = tok.fragment();
        let item = if let Ok(n) = text.parse::<i64>() {
            Affine {
                terms: vec![],
                constant: n,
                span,
            }
        } else {
            Affine {
                terms: vec![AffineTerm {
                    coef: 1,
                    factors: vec![Ident {
                        name: text.to_string(),
                        span,
                    }],
                }],
                constant: 0,
                span,
            }
        };
        Ok((i, vec![IndexExpr::Affine(item)]))
    }

    fn integer<'a>(&self, i: In<'a>) -> PResult<'a, i64> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, d) = digit1(i)?;
        match d.fragment().parse::<i64>() {
            Ok(n) if n <= 1_000_000_000 => Ok((i, n)),
            _ => failure(start, "an integer below 10^9"),
        }
    }

    /// An index position: an affine expression or a lookup `w[t]`.
    fn index_expr<'a>(&self, i: In<'a>) -> PResult<'a, IndexExpr> {
        let (i, _) = ws(i)?;
        let start = i;
        // A lookup: a name directly followed by `[`.
        if let Ok((rest, r)) = self.reference(i) {
            if r.indices.is_some() {
                return Ok((rest, IndexExpr::Lookup(Box::new(r))));
            }
        }
        let (mut i, first_neg) = opt(sym("-")).parse(i)?;
        let mut terms = Vec::new();
        let mut constant = 0i64;
        let mut negative = first_neg.is_some();
        loop {
            let (rest, (coef, factors)) = self.affine_term(i)?;
            let coef = if negative { -coef } else { coef };
            if factors.is_empty() {
                constant = constant.saturating_add(coef);
            } else {
                terms.push(AffineTerm { coef, factors });
            }
            i = rest;
            let (rest, _) = ws(i)?;
            if let Ok((rest, _)) = char::<_, PErr>('+').parse(rest) {
                negative = false;
                i = rest;
            } else if let Ok((rest, _)) = char::<_, PErr>('-').parse(rest) {
                negative = true;
                i = rest;
            } else {
                break;
            }
        }
        Ok((
            i,
            IndexExpr::Affine(Affine {
                terms,
                constant,
                span: self.span(start, i),
            }),
        ))
    }

    /// `2`, `x`, `2x`, `2*x`, `s*x`, `J'`.
    fn affine_term<'a>(&self, i: In<'a>) -> PResult<'a, (i64, Vec<Ident>)> {
        let (i, _) = ws(i)?;
        let (i, coef) = opt(|i| self.integer(i)).parse(i)?;
        let mut factors = Vec::new();
        let (mut i, _) = if coef.is_some() {
            opt(sym("*")).parse(i)?
        } else {
            (i, None)
        };
        // Factors: names separated by `*` (or directly after the coefficient).
        loop {
            let (rest, _) = ws(i)?;
            match self.ident(rest) {
                Ok((rest2, id)) if !RESERVED.contains(&id.name.as_str()) => {
                    factors.push(id);
                    i = rest2;
                }
                _ => break,
            }
            let (rest, _) = ws(i)?;
            match char::<_, PErr>('*').parse(rest) {
                Ok((rest2, _)) => i = rest2,
                Err(_) => break,
            }
        }
        if coef.is_none() && factors.is_empty() {
            return fail(i, "an index");
        }
        Ok((i, (coef.unwrap_or(1), factors)))
    }

    fn index_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<IndexExpr>> {
        let (i, _) = char('[').parse(i)?;
        let (i, items) = separated_list1(sym(","), |i| self.index_expr(i)).parse(i)?;
        let (i, _) = match sym("]")(i) {
            Ok(r) => r,
            Err(_) => return failure(i, "`,` or `]`"),
        };
        Ok((i, items))
    }

    fn grad_suffix<'a>(&self, i: In<'a>) -> PResult<'a, bool> {
        let (i, g) = opt(tag(".grad")).parse(i)?;
        Ok((i, g.is_some()))
    }

    /// A name with `.grad` and an index list: `L_l.grad[b,x,y,j]`, `L_l[b,x,y,j].grad`, `W`.
    fn reference<'a>(&self, i: In<'a>) -> PResult<'a, Ref> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, name) = self.name(i)?;
        let (i, g1) = self.grad_suffix(i)?;
        let (i, indices) = opt(|i| self.index_list(i)).parse(i)?;
        let (i, g2) = if indices.is_some() {
            self.grad_suffix(i)?
        } else {
            (i, false)
        };
        Ok((
            i,
            Ref {
                name,
                grad: g1 || g2,
                indices,
                span: self.span(start, i),
            },
        ))
    }

    // ----- expressions -----

    fn deeper<'a, T>(&self, i: In<'a>, f: impl FnOnce(In<'a>) -> PResult<'a, T>) -> PResult<'a, T> {
        let d = self.depth.get();
        if d >= MAX_EXPR_DEPTH {
            return failure(i, TOO_DEEP);
        }
        self.depth.set(d + 1);
        let r = f(i);
        self.depth.set(d);
        r
    }

    /// Counts one binary operator of the statement against [`MAX_EXPR_OPERATORS`].
    fn count_operator(&self, i: In<'_>) -> Result<(), nom::Err<PErr>> {
        let n = self.operators.get() + 1;
        self.operators.set(n);
        if n > MAX_EXPR_OPERATORS {
            return Err(nom::Err::Failure(PErr {
                offset: off(&i),
                expected: TOO_LONG,
            }));
        }
        Ok(())
    }

    /// An expression, possibly a relation.
    fn rel_expr<'a>(&self, i: In<'a>, single_eq: bool) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, lhs) = self.expr(i)?;
        let (i2, _) = ws(i)?;
        let ops: &[(&str, RelOp)] = &[
            ("==", RelOp::Eq),
            ("<=", RelOp::Le),
            (">=", RelOp::Ge),
            ("~=", RelOp::Approx),
            ("<", RelOp::Lt),
            (">", RelOp::Gt),
        ];
        for (s, op) in ops {
            if let Ok((rest, _)) = tag::<_, _, PErr>(*s).parse(i2) {
                let (rest, rhs) = self.expr(rest)?;
                return Ok((
                    rest,
                    Expr::Rel(*op, Box::new(lhs), Box::new(rhs), self.span(start, rest)),
                ));
            }
        }
        if single_eq {
            if let Ok((rest, _)) = (char::<_, PErr>('='), peek(satisfy(|c| c != '='))).parse(i2) {
                let (rest, rhs) = self.expr(rest)?;
                return Ok((
                    rest,
                    Expr::Rel(
                        RelOp::Eq,
                        Box::new(lhs),
                        Box::new(rhs),
                        self.span(start, rest),
                    ),
                ));
            }
        }
        Ok((i, lhs))
    }

    fn expr<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        if self.depth.get() == 0 {
            // Each outermost expression (a side of an equation or relation) has its own
            // operator count, also when the statement parser tries several forms.
            self.operators.set(0);
        }
        self.deeper(i, |i| self.additive(i))
    }

    fn additive<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, mut acc) = self.term(i)?;
        loop {
            let (rest, _) = ws(i)?;
            let op = if let Ok((r, _)) = char::<_, PErr>('+').parse(rest) {
                (r, BinOp::Add)
            } else if let Ok((r, _)) = (char::<_, PErr>('-'), peek(satisfy(|c| c != '=')))
                .parse(rest)
                .map(|(r, (m, _))| (r, m))
            {
                (r, BinOp::Sub)
            } else {
                break;
            };
            // `+=` and `-=` are assignments, not sums.
            if op.0.fragment().starts_with('=') {
                break;
            }
            self.count_operator(rest)?;
            let (rest, rhs) = self.term(op.0)?;
            acc = Expr::Binary(op.1, Box::new(acc), Box::new(rhs), self.span(start, rest));
            i = rest;
        }
        Ok((i, acc))
    }

    fn term<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, mut acc) = self.unary(i)?;
        loop {
            let (rest, _) = ws(i)?;
            let (rest, op) = if let Ok((r, _)) = char::<_, PErr>('*').parse(rest) {
                (r, BinOp::Mul)
            } else if let Ok((r, _)) = char::<_, PErr>('/').parse(rest) {
                (r, BinOp::Div)
            } else if self.starts_primary(rest) {
                (rest, BinOp::Jux)
            } else {
                break;
            };
            self.count_operator(rest)?;
            let (rest, rhs) = self.unary(rest)?;
            acc = Expr::Binary(op, Box::new(acc), Box::new(rhs), self.span(start, rest));
            i = rest;
        }
        Ok((i, acc))
    }

    /// Whether a juxtaposed factor starts here.
    fn starts_primary(&self, i: In<'_>) -> bool {
        match i.fragment().chars().next() {
            Some(c) if c.is_ascii_digit() || c == '(' || c == '[' => true,
            Some(c) if c.is_ascii_alphabetic() => {
                let w: String = i
                    .fragment()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                !RESERVED.contains(&w.as_str())
            }
            _ => false,
        }
    }

    fn unary<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        if let Ok((rest, _)) = char::<_, PErr>('-').parse(i) {
            let (rest, e) = self.deeper(rest, |r| self.unary(r))?;
            return Ok((
                rest,
                Expr::Unary(UnOp::Neg, Box::new(e), self.span(start, rest)),
            ));
        }
        self.power(i)
    }

    fn power<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, base) = self.primary(i)?;
        let (i2, _) = ws(i)?;
        if let Ok((rest, _)) = char::<_, PErr>('^').parse(i2) {
            let (rest, _) = ws(rest)?;
            let (rest, exp) = if let Ok((r, _)) = char::<_, PErr>('{').parse(rest) {
                let (r, e) = self.expr(r)?;
                let (r, _) = sym("}")(r)?;
                (r, e)
            } else if let Ok((r, _)) = char::<_, PErr>('-').parse(rest) {
                let s2 = rest;
                let (r, e) = self.deeper(r, |r| self.power(r))?;
                (r, Expr::Unary(UnOp::Neg, Box::new(e), self.span(s2, r)))
            } else {
                self.deeper(rest, |r| self.power(r))?
            };
            return Ok((
                rest,
                Expr::Binary(
                    BinOp::Pow,
                    Box::new(base),
                    Box::new(exp),
                    self.span(start, rest),
                ),
            ));
        }
        Ok((i, base))
    }

    fn number<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let start = i;
        let (i, text) = recognize((
            digit1,
            opt((char('.'), digit1)),
            opt((
                alt((char('e'), char('E'))),
                opt(alt((char('+'), char('-')))),
                digit1,
            )),
        ))
        .parse(i)?;
        if text.fragment().len() > 40 {
            return failure(start, "a number of at most 40 characters");
        }
        Ok((
            i,
            Expr::Num(text.fragment().to_string(), self.span(start, i)),
        ))
    }

    fn args<'a>(&self, i: In<'a>, close: char) -> PResult<'a, Vec<Expr>> {
        let (i, _) = ws(i)?;
        if let Ok((r, _)) = char::<_, PErr>(close).parse(i) {
            return Ok((r, vec![]));
        }
        let (i, items) = separated_list1(sym(","), |i| self.rel_expr(i, false)).parse(i)?;
        let (i, _) = ws(i)?;
        if let Ok((after_comma, _)) = char::<_, PErr>(',').parse(i) {
            // The argument after this comma did not parse: report where it failed.
            let err = match self.rel_expr(after_comma, false) {
                Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => e,
                _ => PErr {
                    offset: off(&after_comma),
                    expected: "an argument",
                },
            };
            return Err(nom::Err::Failure(PErr {
                offset: err.offset,
                expected: if err.expected.is_empty() {
                    "an argument"
                } else {
                    err.expected
                },
            }));
        }
        let (i, _) = match char::<_, PErr>(close).parse(i) {
            Ok(r) => r,
            Err(_) => {
                return failure(
                    i,
                    if close == ')' {
                        "`,` or `)`"
                    } else {
                        "`,` or `]`"
                    },
                )
            }
        };
        Ok((i, items))
    }

    fn primary<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let Some(c) = i.fragment().chars().next() else {
            return fail(i, "an expression");
        };
        if c.is_ascii_digit() {
            return self.number(i);
        }
        if c == '(' {
            let (r, _) = char('(').parse(i)?;
            let (r, e) = self.rel_expr(r, false)?;
            let (r, _) = match sym(")")(r) {
                Ok(x) => x,
                Err(_) => return failure(r, "`)`"),
            };
            return Ok((r, e));
        }
        if c == '[' {
            let (r, _) = char('[').parse(i)?;
            let (r, e) = self.rel_expr(r, false)?;
            let (r, _) = match sym("]")(r) {
                Ok(x) => x,
                Err(_) => return failure(r, "`]`"),
            };
            return Ok((r, Expr::Iverson(Box::new(e), self.span(start, r))));
        }
        if !c.is_ascii_alphabetic() {
            return fail(i, "an expression");
        }
        // d(u)/d(a)
        if let Ok(r) = self.deriv(i) {
            return Ok(r);
        }
        let (after_word, w) = word(i)?;
        let w = *w.fragment();
        // softmax_{w}(e) and sum_{i,j}(e)
        if w == "softmax" || w == "sum" {
            if let Ok((r, _)) = char::<_, PErr>('_').parse(after_word) {
                let (r, idx) = if let Ok((r2, _)) = char::<_, PErr>('{').parse(r) {
                    let (r2, ids) = self.ident_list(r2)?;
                    let (r2, _) = sym("}")(r2)?;
                    (r2, ids)
                } else {
                    let (r2, id) = self.ident(r)?;
                    (r2, vec![id])
                };
                let (r, _) = match char::<_, PErr>('(').parse(r) {
                    Ok(x) => x,
                    Err(_) => return failure(r, "`(` after the index"),
                };
                let (r, e) = self.expr(r)?;
                let (r, _) = match sym(")")(r) {
                    Ok(x) => x,
                    Err(_) => return failure(r, "`)`"),
                };
                let span = self.span(start, r);
                if w == "softmax" {
                    let mut idx = idx;
                    if idx.len() != 1 {
                        return failure(start, "one index after softmax_");
                    }
                    return Ok((r, Expr::Softmax(idx.remove(0), Box::new(e), span)));
                }
                return Ok((r, Expr::Sum(idx, Box::new(e), span)));
            }
        }
        // A call: a plain word directly followed by `(`; E[..], Var[..], Cov[..].
        if !RESERVED.contains(&w) {
            if let Ok((r, _)) = char::<_, PErr>('(').parse(after_word) {
                let func = Ident {
                    name: w.to_string(),
                    span: self.span(start, after_word),
                };
                let (r, args) = self.args(r, ')')?;
                return Ok((
                    r,
                    Expr::Call(Call {
                        func,
                        args,
                        brackets: false,
                        span: self.span(start, r),
                    }),
                ));
            }
            if matches!(w, "E" | "Var" | "Cov") {
                if let Ok((r, _)) = char::<_, PErr>('[').parse(after_word) {
                    let func = Ident {
                        name: w.to_string(),
                        span: self.span(start, after_word),
                    };
                    let (r, args) = self.args(r, ']')?;
                    return Ok((
                        r,
                        Expr::Call(Call {
                            func,
                            args,
                            brackets: true,
                            span: self.span(start, r),
                        }),
                    ));
                }
            }
        }
        let (r, reference) = self.reference(i)?;
        Ok((r, Expr::Ref(reference)))
    }

    fn deriv<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let start = i;
        let (i, _) = tag("d(").parse(i)?;
        let (i, num) = self.reference(i)?;
        let (i, _) = sym(")")(i)?;
        let (i, _) = sym("/")(i)?;
        let (i, _) = ws(i)?;
        let (i, _) = tag("d(").parse(i)?;
        let (i, den) = self.reference(i)?;
        let (i, _) = sym(")")(i)?;
        Ok((
            i,
            Expr::Deriv(Box::new(num), Box::new(den), self.span(start, i)),
        ))
    }

    // ----- statements -----

    fn binding<'a>(&self, i: In<'a>) -> PResult<'a, Binding> {
        let (i, n) = self.name(i)?;
        let name = Ident {
            name: super::printer::print_name(&n),
            span: n.span,
        };
        let (i, _) = sym("=")(i)?;
        let (i, value) = self.expr(i)?;
        Ok((i, Binding { name, value }))
    }

    fn vary_param<'a>(&self, i: In<'a>) -> PResult<'a, VaryParam> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, n) = self.name(i)?;
        let name = Ident {
            name: super::printer::print_name(&n),
            span: n.span,
        };
        let (i, _) = match keyword("in")(i) {
            Ok(r) => r,
            Err(_) => return failure(i, "`in` and a range `a..b` or a set `{a, b}`"),
        };
        let (i, _) = ws(i)?;
        if let Ok((r, _)) = char::<_, PErr>('{').parse(i) {
            let (r, items) = self.args(r, '}')?;
            let span = self.span(start, r);
            return Ok((
                r,
                VaryParam {
                    name,
                    domain: VaryDomain::Set(items),
                    span,
                },
            ));
        }
        let (i, from) = self.expr(i)?;
        let (i, _) = match sym("..")(i) {
            Ok(r) => r,
            Err(_) => return failure(i, "`..` in the range"),
        };
        let (i, to) = self.expr(i)?;
        let span = self.span(start, i);
        Ok((
            i,
            VaryParam {
                name,
                domain: VaryDomain::Range(Box::new(from), Box::new(to)),
                span,
            },
        ))
    }

    fn bindings<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Binding>> {
        separated_list1(sym(","), |i| self.binding(i)).parse(i)
    }

    fn range<'a>(&self, i: In<'a>) -> PResult<'a, Range> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, var) = self.ident(i)?;
        let (i, _) = keyword("in")(i)?;
        let (i, from) = self.expr(i)?;
        let (i, _) = match sym("..")(i) {
            Ok(r) => r,
            Err(_) => return failure(i, "`..` in the range"),
        };
        let (i, to) = self.expr(i)?;
        Ok((
            i,
            Range {
                var,
                from,
                to,
                span: self.span(start, i),
            },
        ))
    }

    fn equation<'a>(&self, i: In<'a>) -> PResult<'a, Equation> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, lhs) = self.reference(i)?;
        let (i, _) = ws(i)?;
        let (i, op) = if let Ok((r, _)) = tag::<_, _, PErr>("+=").parse(i) {
            (r, AssignOp::AddAssign)
        } else if let Ok((r, _)) = tag::<_, _, PErr>("-=").parse(i) {
            (r, AssignOp::SubAssign)
        } else if let Ok((r, _)) = (char::<_, PErr>('='), peek(satisfy(|c| c != '='))).parse(i) {
            (r, AssignOp::Set)
        } else {
            return fail(i, "`=`, `+=` or `-=`");
        };
        let (i, rhs) = self.expr(i)?;
        Ok((
            i,
            Equation {
                lhs,
                op,
                rhs,
                span: self.span(start, i),
            },
        ))
    }

    fn decl<'a>(&self, i: In<'a>, kind: DeclKind) -> PResult<'a, Decl> {
        let (i, target) = self.reference(i)?;
        let (i, _) = ws(i)?;
        let (i, init) = if let Ok((r, _)) = char::<_, PErr>('~').parse(i) {
            let (r, e) = self.primary(r)?;
            match e {
                Expr::Call(c) => (r, Some(Init::Dist(c))),
                _ => return failure(i, "a distribution such as `normal(0, 1)` after `~`"),
            }
        } else if let Ok((r, _)) = char::<_, PErr>('=').parse(i) {
            let (r, e) = self.expr(r)?;
            (r, Some(Init::Value(e)))
        } else {
            (i, None)
        };
        let (i, family) = opt(|i| {
            let (i, _) = keyword("for")(i)?;
            self.range(i)
        })
        .parse(i)?;
        Ok((
            i,
            Decl {
                kind,
                target,
                init,
                family,
            },
        ))
    }

    fn claim<'a>(&self, i: In<'a>) -> PResult<'a, Claim> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, body) = self.rel_expr(i, true)?;
        let body_end = i;
        let mut tol = None;
        let mut given = Vec::new();
        let mut at = Vec::new();
        let mut boundary = None;
        let mut i = i;
        loop {
            if let Ok((r, _)) = keyword("tol")(i) {
                let (r, e) = self.expr(r)?;
                tol = Some(e);
                i = r;
            } else if let Ok((r, _)) = keyword("given")(i) {
                let (r, g) = separated_list1(sym(","), |i| {
                    if let Ok((r, _)) = keyword("boundary")(i) {
                        let (r, _) = ws(r)?;
                        let (r2, w) = word(r)?;
                        let b = match *w.fragment() {
                            "zero" => Boundary::Zero,
                            "circular" => Boundary::Circular,
                            "valid" => Boundary::Valid,
                            _ => return failure(r, "`zero`, `circular` or `valid`"),
                        };
                        return Ok((r2, GivenItem::Boundary(b)));
                    }
                    let (r, e) = self.rel_expr(i, true)?;
                    Ok((r, GivenItem::Rel(e)))
                })
                .parse(r)?;
                for item in g {
                    match item {
                        GivenItem::Boundary(b) => boundary = Some(b),
                        GivenItem::Rel(e) => given.push(e),
                    }
                }
                i = r;
            } else if let Ok((r, _)) = keyword("at")(i) {
                let (r, b) = self.bindings(r)?;
                at = b;
                i = r;
            } else {
                break;
            }
        }
        let text = self.ascii.text[off(&start)..off(&body_end)]
            .trim()
            .to_string();
        Ok((
            i,
            Claim {
                body,
                tol,
                given,
                at,
                boundary,
                expect: None,
                text,
                includes: None,
            },
        ))
    }
}

fn print_ref_text(r: &Ref) -> String {
    super::printer::print_ref(r)
}

/// The result of parsing: the program (with what could be read) and the diagnostics.
pub struct Parsed {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole source file. Never fails and never panics: what cannot be read is
/// reported as diagnostics and left out of the program.
pub fn parse(src: &str) -> Parsed {
    if src.len() > MAX_SOURCE_BYTES {
        return Parsed {
            program: Program { items: vec![] },
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
    };
    let mut diagnostics = Vec::new();
    let items = ctx.block(&lines, &mut diagnostics, BlockKind::Top);
    Parsed {
        program: Program { items },
        diagnostics,
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

impl Ctx<'_> {
    /// One line of a derivation: `[op] expr [by rule]`.
    fn step<'a>(&self, i: In<'a>) -> PResult<'a, Option<LineResult>> {
        let (i, _) = ws(i)?;
        let start = i;
        let ops: &[(&str, RelOp)] = &[
            ("==", RelOp::Eq),
            ("<=", RelOp::Le),
            (">=", RelOp::Ge),
            ("~=", RelOp::Approx),
            ("<", RelOp::Lt),
            (">", RelOp::Gt),
            ("=", RelOp::Eq),
        ];
        let mut op = None;
        let mut i = i;
        for (s, o) in ops {
            if let Ok((rest, _)) = tag::<_, _, PErr>(*s).parse(i) {
                op = Some(*o);
                i = rest;
                break;
            }
        }
        let (i, e) = self.expr(i)?;
        let end = i;
        let (i, rule) = match keyword("by")(i) {
            Ok((r, _)) => {
                let (r, _) = ws(r)?;
                let (r2, w) = match take_while1::<_, _, PErr>(|c: char| {
                    c.is_ascii_alphanumeric() || c == '_'
                })
                .parse(r)
                {
                    Ok(x) => x,
                    Err(_) => return failure(r, "the name of a rule (docs/derivations.md)"),
                };
                (
                    r2,
                    Some(Ident {
                        name: w.fragment().to_string(),
                        span: self.span(w, r2),
                    }),
                )
            }
            Err(_) => (i, None),
        };
        Ok((
            i,
            Some(LineResult::Step(
                op,
                Box::new(e),
                rule,
                self.span(start, end),
            )),
        ))
    }

    /// The start and the steps of a derivation block.
    fn derivation_lines(
        &self,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Expr, Vec<Step>)> {
        let mut start: Option<Expr> = None;
        let mut steps = Vec::new();
        let mut pending: Option<(Expectation, Span)> = None;
        let dangling = |diags: &mut Vec<Diagnostic>, span: Span| {
            diags.push(
                Diagnostic::error("E0004", span, "`expect` is not followed by a step")
                    .with_hint("put `expect refuted` on the line just before the step it is about"),
            );
        };
        for l in &line.children {
            match self.line(l, diags, BlockKind::Derivation) {
                Some(LineResult::Expect(e, span)) => {
                    if let Some((_, old)) = pending.replace((e, span)) {
                        dangling(diags, old);
                    }
                }
                Some(LineResult::Step(op, e, rule, span)) => match (op, &start) {
                    (None, None) => {
                        if let Some((_, old)) = pending.take() {
                            dangling(diags, old);
                        }
                        start = Some(*e)
                    }
                    (None, Some(_)) => {
                        diags.push(
                            Diagnostic::error(
                                "E0701",
                                span,
                                "a step of a derivation starts with its relation to the line before",
                            )
                            .with_hint("write `= expr`, `<= expr` or `~= expr`; only the first line is a bare expression"),
                        );
                    }
                    (Some(_), None) => {
                        diags.push(
                            Diagnostic::error(
                                "E0701",
                                span,
                                "the first line of a derivation is the expression it starts from",
                            )
                            .with_hint("put the starting expression (`Var(y)`) on the first line, without a relation"),
                        );
                        start = Some(*e);
                    }
                    (Some(op), Some(_)) => steps.push(Step {
                        op,
                        expr: *e,
                        rule,
                        span,
                        expect: pending.take().map(|(e, _)| e),
                    }),
                },
                _ => {}
            }
        }
        if let Some((_, old)) = pending.take() {
            dangling(diags, old);
        }
        let span = self.ascii.span(line.start, line.end);
        match start {
            Some(s) if !steps.is_empty() => Some((s, steps)),
            _ => {
                diags.push(
                    Diagnostic::error("E0702", span, "a derivation needs a start and at least one step")
                        .with_hint("indent the starting expression and then one `= expr  by rule` line per step"),
                );
                None
            }
        }
    }

    fn block(&self, lines: &[Line], diags: &mut Vec<Diagnostic>, kind: BlockKind) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let mut pending_expect: Option<(Expectation, Span)> = None;
        for line in lines {
            match self.line(line, diags, kind) {
                Some(LineResult::Expect(e, span)) => {
                    if let Some((_, old)) = pending_expect.replace((e, span)) {
                        diags.push(
                            Diagnostic::error("E0004", old, "`expect` is not followed by a claim")
                                .with_hint(
                                    "put `expect refuted` on the line just before its claim",
                                ),
                        );
                    }
                }
                Some(LineResult::Item(mut item)) => {
                    if let Some((e, span)) = pending_expect.take() {
                        if let ItemKind::Claim(c) = &mut item.kind {
                            c.expect = Some(e);
                        } else {
                            diags.push(
                                Diagnostic::error(
                                    "E0004",
                                    span,
                                    "`expect` is not followed by a claim",
                                )
                                .with_hint(
                                    "put `expect refuted` on the line just before its claim",
                                ),
                            );
                        }
                    }
                    items.push(*item);
                }
                Some(LineResult::Step(_, _, _, span)) => diags.push(
                    Diagnostic::error(
                        "E0701",
                        span,
                        "a derivation step outside a `derivation` block",
                    )
                    .with_hint("start the block with `derivation NAME:`"),
                ),
                None => {}
            }
        }
        if let Some((_, span)) = pending_expect {
            diags.push(
                Diagnostic::error("E0004", span, "`expect` is not followed by a claim")
                    .with_hint("put `expect refuted` on the line just before its claim"),
            );
        }
        items
    }

    fn line(
        &self,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
        kind: BlockKind,
    ) -> Option<LineResult> {
        // Byte offsets (the `take` parser would count characters).
        let fragment = self.ascii.text.get(line.start..line.end)?;
        let text = In::new_extra(fragment, line.start);
        let span = self.ascii.span(line.start, line.end);
        if line.too_deep {
            diags.push(
                Diagnostic::error(
                    "E0003",
                    span,
                    format!("blocks are nested more than {MAX_DEPTH} deep"),
                )
                .with_hint("flatten the loops"),
            );
            return None;
        }
        if let Some(bad) = text.fragment().char_indices().find(|(_, c)| !c.is_ascii()) {
            let off = line.start + bad.0;
            diags.push(
                Diagnostic::error(
                    "E0001",
                    self.ascii.span(off, off + bad.1.len_utf8()),
                    format!("unexpected character `{}`", bad.1),
                )
                .with_hint("tq knows the Greek letters, arrows and relation signs listed in docs/language.md; spell anything else in ASCII"),
            );
            return None;
        }
        self.depth.set(0);
        self.operators.set(0);
        match self.statement(text, line, diags, kind) {
            Ok((rest, result)) => {
                let (rest, _) = ws(rest).unwrap_or((rest, rest));
                if !rest.fragment().is_empty() {
                    let off = off(&rest);
                    let tok: String = rest
                        .fragment()
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .take(20)
                        .collect();
                    diags.push(
                        Diagnostic::error(
                            "E0001",
                            self.ascii.span(off, off + tok.len().max(1)),
                            format!("unexpected `{tok}` after the end of the statement"),
                        )
                        .with_label("not expected here")
                        .with_hint(
                            "a product of two factors needs a space or `*` between them; check the brackets",
                        ),
                    );
                    return None;
                }
                result.map(|r| match r {
                    LineResult::Item(mut item) => {
                        item.span = span;
                        LineResult::Item(item)
                    }
                    other => other,
                })
            }
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => {
                let off = e.offset.min(line.end).max(line.start);
                let tok: String = self.ascii.text[off..line.end]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .take(20)
                    .collect();
                let found = if tok.is_empty() {
                    "the end of the line".to_string()
                } else {
                    format!("`{tok}`")
                };
                let expected = if e.expected.is_empty() {
                    "something else".to_string()
                } else {
                    e.expected.to_string()
                };
                if e.expected == TOO_LONG {
                    diags.push(
                        Diagnostic::error(
                            "E0003",
                            self.ascii.span(off, off + tok.len()),
                            format!("the expression has more than {MAX_EXPR_OPERATORS} operators"),
                        )
                        .with_label("operator over the limit")
                        .with_hint("split the sum or product into several equations or claims"),
                    );
                    return None;
                }
                if e.expected == TOO_DEEP {
                    diags.push(
                        Diagnostic::error(
                            "E0003",
                            self.ascii.span(off, off + tok.len()),
                            format!("the expression is nested more than {MAX_EXPR_DEPTH} deep"),
                        )
                        .with_hint("split it into several equations"),
                    );
                    return None;
                }
                diags.push(
                    Diagnostic::error(
                        "E0001",
                        self.ascii.span(off, off + tok.len()),
                        format!("expected {expected}, found {found}"),
                    )
                    .with_label(format!("expected {expected}"))
                    .with_hint("see docs/language.md for the statement forms"),
                );
                None
            }
            Err(nom::Err::Incomplete(_)) => None,
        }
    }

    fn statement<'a>(
        &self,
        i: In<'a>,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
        kind: BlockKind,
    ) -> PResult<'a, Option<LineResult>> {
        let start = i;
        let item = |k: ItemKind| {
            Some(LineResult::Item(Box::new(Item {
                kind: k,
                span: Span::default(),
            })))
        };
        if kind == BlockKind::Derivation {
            // `expect refuted` before a step marks it; every other line is a step.
            if let Ok((r, _)) = keyword("expect")(i) {
                let (r, _) = ws(r)?;
                let (r, w) = word(r)?;
                return match *w.fragment() {
                    "refuted" => Ok((
                        r,
                        Some(LineResult::Expect(
                            Expectation::Refuted,
                            self.span(start, r),
                        )),
                    )),
                    _ => failure(
                        i,
                        "`expect refuted` (a derivation step can only be expected refuted)",
                    ),
                };
            }
            return self.step(i);
        }
        let first = word(i).map(|(_, w)| *w.fragment()).unwrap_or("");
        let needs_block = |what: &'static str| -> Result<(), nom::Err<PErr>> {
            if !line.opens_block {
                return Err(nom::Err::Failure(PErr {
                    offset: line.end,
                    expected: what,
                }));
            }
            Ok(())
        };
        match first {
            "size" => {
                let (i, _) = keyword("size")(i)?;
                let (i, ids) = self.name_list(i)?;
                Ok((i, item(ItemKind::Size(ids))))
            }
            "symbol" => {
                let (i, _) = keyword("symbol")(i)?;
                let (i, ids) = self.name_list(i)?;
                Ok((i, item(ItemKind::Symbol(ids))))
            }
            "scalar" => {
                let (i, _) = keyword("scalar")(i)?;
                let (i, ids) = self.name_list(i)?;
                Ok((i, item(ItemKind::Scalar(ids))))
            }
            "index" => {
                let (i, _) = keyword("index")(i)?;
                let (i, names) = self.ident_list(i)?;
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => return failure(i, "`:` and the size"),
                };
                let (i, size) = self.ident(i)?;
                let (i, centered) = opt(keyword("centered")).parse(i)?;
                Ok((
                    i,
                    item(ItemKind::Index {
                        names,
                        size,
                        centered: centered.is_some(),
                    }),
                ))
            }
            "boundary" => {
                let (i, _) = keyword("boundary")(i)?;
                let (i, _) = ws(i)?;
                let (r, w) = word(i)?;
                let b = match *w.fragment() {
                    "zero" => Boundary::Zero,
                    "circular" => Boundary::Circular,
                    "valid" => Boundary::Valid,
                    _ => return failure(i, "`zero`, `circular` or `valid`"),
                };
                Ok((r, item(ItemKind::Boundary(b))))
            }
            "param" | "input" | "grad" => {
                let k = match first {
                    "param" => DeclKind::Param,
                    "input" => DeclKind::Input,
                    _ => DeclKind::Grad,
                };
                let (i, _) = keyword(match k {
                    DeclKind::Param => "param",
                    DeclKind::Input => "input",
                    DeclKind::Grad => "grad",
                })(i)?;
                // `grad` may also start an equation `grad ...`? No: `grad` is reserved here.
                let (i, d) = self.decl(i, k)?;
                Ok((i, item(ItemKind::Decl(d))))
            }
            "at" | "sample" => {
                let (i, _) = keyword(if first == "at" { "at" } else { "sample" })(i)?;
                let (i, b) = self.bindings(i)?;
                Ok((
                    i,
                    item(if first == "at" {
                        ItemKind::At(b)
                    } else {
                        ItemKind::Sample(b)
                    }),
                ))
            }
            "derivation" => {
                let (i, _) = keyword("derivation")(i)?;
                let (i, _) = ws(i)?;
                let (i, w) = match take_while1::<_, _, PErr>(|c: char| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-'
                })
                .parse(i)
                {
                    Ok(r) => r,
                    Err(_) => return failure(i, "the derivation's name"),
                };
                let name = Ident {
                    name: w.fragment().to_string(),
                    span: self.span(w, i),
                };
                let (i, given) = match keyword("given")(i) {
                    Ok((r, _)) => separated_list1(sym(","), |i| self.rel_expr(i, true)).parse(r)?,
                    Err(_) => (i, vec![]),
                };
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => return failure(i, "`:` and the steps on the indented lines below"),
                };
                needs_block("the derivation's lines, indented below")?;
                let Some((start, steps)) = self.derivation_lines(line, diags) else {
                    return Ok((i, None));
                };
                Ok((
                    i,
                    item(ItemKind::Derivation(Derivation {
                        name,
                        given,
                        start,
                        steps,
                    })),
                ))
            }
            "vary" => {
                let (i, _) = keyword("vary")(i)?;
                let (i, ps) = separated_list1(sym(","), |i| self.vary_param(i)).parse(i)?;
                Ok((i, item(ItemKind::Vary(ps))))
            }
            "claim" => {
                let (i, _) = keyword("claim")(i)?;
                if line.opens_block {
                    let (i, _) = ws(i)?;
                    let body_start = i;
                    let (i, what) = self.reference(i)?;
                    let (i, _) = keyword("includes")(i)?;
                    let (i, _) = sym(":")(i)?;
                    let body = self.block(&line.children, diags, BlockKind::ForIndices);
                    let text = format!(
                        "{} includes ({} statements)",
                        print_ref_text(&what),
                        body.len()
                    );
                    let _ = body_start;
                    return Ok((
                        i,
                        item(ItemKind::Claim(Claim {
                            body: Expr::Ref(what),
                            tol: None,
                            given: vec![],
                            at: vec![],
                            boundary: None,
                            expect: None,
                            text,
                            includes: Some(body),
                        })),
                    ));
                }
                let (i, c) = self.claim(i)?;
                Ok((i, item(ItemKind::Claim(c))))
            }
            "expect" => {
                let (i, _) = keyword("expect")(i)?;
                let (i, _) = ws(i)?;
                let (r, w) = word(i)?;
                match *w.fragment() {
                    "refuted" => Ok((
                        r,
                        Some(LineResult::Expect(
                            Expectation::Refuted,
                            self.span(start, r),
                        )),
                    )),
                    "undecided" => Ok((
                        r,
                        Some(LineResult::Expect(
                            Expectation::Undecided,
                            self.span(start, r),
                        )),
                    )),
                    "error" => {
                        let (r, code) = self.ident(r)?;
                        let valid = code.name.len() == 5
                            && code.name.starts_with('E')
                            && code.name[1..].chars().all(|c| c.is_ascii_digit());
                        if !valid {
                            return failure(r, "a diagnostic code such as `E0202`");
                        }
                        Ok((r, item(ItemKind::ExpectError(code))))
                    }
                    _ => failure(i, "`refuted`, `undecided` or `error CODE`"),
                }
            }
            "rule" => {
                let (i, _) = keyword("rule")(i)?;
                let (i, name) = self.ident(i)?;
                let (i, _) = keyword("over")(i)?;
                let (i, var) = self.ident(i)?;
                let (i, _) = sym(":")(i)?;
                needs_block("an indented block after `:`")?;
                let body = self.block(&line.children, diags, BlockKind::Rule);
                Ok((i, item(ItemKind::Rule(Rule { name, var, body }))))
            }
            "for" => {
                let (i, _) = keyword("for")(i)?;
                // `for l in a..b:` or `for b,x,y,j: ...`
                let is_range = (|i| self.ident(i), keyword("in")).parse(i).is_ok();
                if is_range {
                    let (i, range) = self.range(i)?;
                    let (i, reverse) = opt(keyword("reversed")).parse(i)?;
                    let (i, _) = match sym(":")(i) {
                        Ok(r) => r,
                        Err(_) => return failure(i, "`:` after the range"),
                    };
                    needs_block("an indented block after `:`")?;
                    let body = self.block(&line.children, diags, BlockKind::Loop);
                    return Ok((
                        i,
                        item(ItemKind::Loop(Loop {
                            range,
                            body,
                            reverse: reverse.is_some(),
                        })),
                    ));
                }
                let (i, indices) = self.ident_list(i)?;
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => return failure(i, "`:` after the indices"),
                };
                let (i2, _) = ws(i)?;
                if i2.fragment().is_empty() {
                    needs_block("a statement after `:`")?;
                    let body = self.block(&line.children, diags, BlockKind::ForIndices);
                    return Ok((
                        i2,
                        item(ItemKind::ForIndices(ForIndices {
                            indices,
                            body,
                            inline: false,
                        })),
                    ));
                }
                let (i, eq) = self.equation(i2)?;
                let span = eq.span;
                Ok((
                    i,
                    item(ItemKind::ForIndices(ForIndices {
                        indices,
                        body: vec![Item {
                            kind: ItemKind::Equation(eq),
                            span,
                        }],
                        inline: true,
                    })),
                ))
            }
            _ => {
                if line.opens_block {
                    return failure(
                        i,
                        "a statement (only `for`, `rule` and `claim ... includes` open blocks)",
                    );
                }
                let _ = kind;
                let (i, eq) = self.equation(i)?;
                Ok((i, item(ItemKind::Equation(eq))))
            }
        }
    }
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
