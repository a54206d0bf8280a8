//! Claims and derivation blocks (a start and its steps, each with its rule).

use super::tokens::{failure, keyword, off, sym, word, ws, Ctx, In, PErr, PResult};
use super::{BlockKind, GivenItem, LineResult};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::lines::Line;
use crate::syntax::span::Span;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::peek;
use nom::multi::separated_list1;
use nom::Parser;

impl Ctx<'_> {
    /// A claim, and the offset of a single `=` used where the claim needs a relation
    /// (the caller reports it, E0504; the rest of the line is still read).
    pub(super) fn claim<'a>(&self, i: In<'a>) -> PResult<'a, (Claim, Option<usize>)> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, mut body) = self.rel_expr(i, false)?;
        let mut single_eq = None;
        if !matches!(body, Expr::Rel(..)) {
            let (at_eq, _) = ws(i)?;
            if let Ok((rest, _)) = (char::<_, PErr>('='), peek(satisfy(|c| c != '='))).parse(at_eq)
            {
                single_eq = Some(off(&at_eq));
                let (rest, rhs) = self.expr(rest)?;
                body = Expr::Rel(
                    RelOp::Eq,
                    Box::new(body),
                    Box::new(rhs),
                    self.span(start, rest),
                );
                i = rest;
            }
        }
        let body_end = i;
        let mut tol = None;
        let mut given = Vec::new();
        let mut at = Vec::new();
        let mut boundary = None;
        loop {
            if let Ok((r, _)) = keyword("tol")(i) {
                // A second `tol` replaced the first without a word (fixd33_open/twotol.tq).
                if tol.is_some() {
                    return failure(i, "the end of the claim (it has a `tol` already)");
                }
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
                // A second `at` list dropped the first one's settings.
                if !at.is_empty() {
                    return failure(i, "the end of the claim (it has an `at` already)");
                }
                let (r, b) = self.bindings(r)?;
                at = b;
                i = r;
            } else {
                break;
            }
        }
        let text = self.ascii.text[off(&start)..off(&body_end)].trim();
        // A claim over several lines is shown on one (its comments are blanked to
        // spaces): printed raw, the continuation stood at column 2 of the report and a
        // comment as trailing spaces (probe38 k15). A tab or a form feed is a space.
        let text = if text.chars().any(|c| c.is_whitespace() && c != ' ') {
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            text.to_string()
        };
        Ok((
            i,
            (
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
                single_eq,
            ),
        ))
    }

    /// E0504: a claim written with `=` (an assignment) where it needs `==`; the hint
    /// is the corrected line.
    pub(super) fn single_eq_in_claim(&self, line: &Line, at: usize) -> Diagnostic {
        let text = &self.ascii.text[line.start..line.end];
        let k = at - line.start;
        let fixed = format!("{}=={}", &text[..k], &text[k + 1..]);
        let fixed = fixed.split_whitespace().collect::<Vec<_>>().join(" ");
        Diagnostic::error(
            "E0504",
            self.ascii.span(at, at + 1),
            "a claim compares with `==`, not `=`",
        )
        .with_label("`=` sets a value; a claim states a relation")
        .with_hint(format!("write `==`: `{fixed}`"))
    }

    /// One line of a derivation: `[op] expr [by rule]`.
    pub(super) fn step<'a>(&self, i: In<'a>) -> PResult<'a, Option<LineResult>> {
        let (i, _) = ws(i)?;
        let start = i;
        let mut op = None;
        let mut i = i;
        for (s, o) in super::expressions::REL_OPS
            .iter()
            .chain(&[("=", RelOp::Eq)])
        {
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
    pub(super) fn derivation_lines(
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
        // A line that failed to parse has its own diagnostic: the derivation is not then
        // also reported as having no steps (session 32: `by rule.` gave both).
        let mut failed = false;
        for l in &line.children {
            let before = diags.len();
            let parsed = self.line(l, diags, BlockKind::Derivation);
            failed |= parsed.is_none() && diags.len() > before;
            match parsed {
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
            _ if failed => None,
            _ => {
                diags.push(
                    Diagnostic::error("E0702", span, "a derivation needs a start and at least one step")
                        .with_hint("indent the starting expression and then one `= expr  by rule` line per step"),
                );
                None
            }
        }
    }
}
