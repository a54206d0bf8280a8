//! Expressions by precedence (relations, sums, products, signs, powers, primaries,
//! calls, derivatives), each bounded in depth and operator count.

use super::tokens::{
    fail, failure, off, sym, word, ws, Ctx, In, PErr, PResult, CHAINED_INDEX, MAX_NUMBER_CHARS,
    NESTED_DERIV, RESERVED, TOO_DEEP, TOO_LONG, TOO_LONG_NUMBER,
};
use super::{MAX_EXPR_DEPTH, MAX_EXPR_OPERATORS};
use crate::syntax::ast::*;
use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, peek, recognize};
use nom::multi::separated_list1;
use nom::Parser;

/// The relational operators as written (ASCII; `≤`, `≈` are transliterated before), the
/// longer before the shorter they begin with. A derivation step also reads `=`.
pub(super) const REL_OPS: &[(&str, RelOp)] = &[
    ("==", RelOp::Eq),
    ("<=", RelOp::Le),
    (">=", RelOp::Ge),
    ("~=", RelOp::Approx),
    ("<", RelOp::Lt),
    (">", RelOp::Gt),
];

impl Ctx<'_> {
    pub(super) fn deeper<'a, T>(
        &self,
        i: In<'a>,
        f: impl FnOnce(In<'a>) -> PResult<'a, T>,
    ) -> PResult<'a, T> {
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
    pub(super) fn count_operator(&self, i: In<'_>) -> Result<(), nom::Err<PErr>> {
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
    pub(super) fn rel_expr<'a>(&self, i: In<'a>, single_eq: bool) -> PResult<'a, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, lhs) = self.expr(i)?;
        let (i2, _) = ws(i)?;
        for (s, op) in REL_OPS {
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

    pub(super) fn expr<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        if self.depth.get() == 0 {
            // Each outermost expression (a side of an equation or relation) has its own
            // operator count, also when the statement parser tries several forms.
            self.operators.set(0);
        }
        self.deeper(i, |i| self.additive(i))
    }

    pub(super) fn additive<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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

    pub(super) fn term<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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
    pub(super) fn starts_primary(&self, i: In<'_>) -> bool {
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

    pub(super) fn unary<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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

    pub(super) fn power<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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

    pub(super) fn number<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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
        if text.fragment().len() > MAX_NUMBER_CHARS {
            return failure(start, TOO_LONG_NUMBER);
        }
        Ok((
            i,
            Expr::Num(text.fragment().to_string(), self.span(start, i)),
        ))
    }

    pub(super) fn args<'a>(&self, i: In<'a>, close: char) -> PResult<'a, Vec<Expr>> {
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

    pub(super) fn primary<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
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
        match self.deriv(i) {
            Ok(r) => return Ok(r),
            Err(nom::Err::Failure(e)) if e.expected == NESTED_DERIV => {
                return Err(nom::Err::Failure(e))
            }
            Err(_) => {}
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
        // A name with a subscript or a superscript label directly followed by `(`
        // (`leaky_relu(x[b])`, `silu_2(x)`, `W^{in}(a)`) is a call, as a plain word
        // directly followed by `(` is: the checker reports the function it does not
        // know. Read as a product, `symbol leaky_relu` made the "function" a constant
        // factor without a word (probe38 a10). A name with primes only (`relu'(a)`)
        // keeps its reading: the checker names the derivative it stands for.
        let decorated = !reference.name.sub.is_empty() || !reference.name.sup.is_empty();
        if decorated && reference.indices.is_none() && !reference.grad {
            if let Ok((r2, _)) = char::<_, PErr>('(').parse(r) {
                let func = Ident {
                    name: crate::syntax::printer::print_name(&reference.name),
                    span: reference.span,
                };
                let (r2, args) = self.args(r2, ')')?;
                return Ok((
                    r2,
                    Expr::Call(Call {
                        func,
                        args,
                        brackets: false,
                        span: self.span(start, r2),
                    }),
                ));
            }
        }
        // `W[j][I]`: a second index list right after the first (the Iverson bracket
        // `[I]` it would otherwise be read as holds no relation).
        if reference.indices.is_some() && r.fragment().starts_with('[') {
            return failure(r, CHAINED_INDEX);
        }
        Ok((r, Expr::Ref(reference)))
    }

    pub(super) fn deriv<'a>(&self, i: In<'a>) -> PResult<'a, Expr> {
        let start = i;
        let (i, _) = tag("d(").parse(i)?;
        // `d(d(u)/d(a))/d(a)`: a second derivative, written as the derivative of one
        // (it would be read as a call of an unknown function `d`, once per level).
        // Only a plain derivative inside is looked for (no recursion: a file of nested
        // `d(` would otherwise recurse once per level); a deeper nesting fails at its
        // innermost derivative, reached through the call it is read as.
        if self.plain_deriv(i) {
            return failure(i, NESTED_DERIV);
        }
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

    /// Whether `d(u)/d(a)` (two references) starts at `i`.
    fn plain_deriv(&self, i: In<'_>) -> bool {
        let two = |i| -> PResult<'_, ()> {
            let (i, _) = tag("d(").parse(i)?;
            let (i, _) = self.reference(i)?;
            let (i, _) = sym(")")(i)?;
            let (i, _) = sym("/")(i)?;
            let (i, _) = ws(i)?;
            let (i, _) = tag("d(").parse(i)?;
            let (i, _) = self.reference(i)?;
            let (i, _) = sym(")")(i)?;
            Ok((i, ()))
        };
        two(i).is_ok()
    }
}
