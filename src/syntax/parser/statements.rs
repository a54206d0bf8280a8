//! Statements: declarations, equations, bindings, ranges, `vary` parameters, and the
//! dispatch of one logical line to the statement it starts.

use super::tokens::{fail, failure, keyword, sym, word, ws, Ctx, In, PErr, PResult, SET_POWER};
use super::{print_ref_text, BlockKind, LineResult};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::lines::Line;
use crate::syntax::span::Span;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::char;
use nom::combinator::{not, opt};
use nom::multi::separated_list1;
use nom::Parser;

impl Ctx<'_> {
    /// A block's header without its `:` (`for l in 0..L-1`, then the indented block;
    /// `lines.rs` gives it the block): reported where the `:` belongs, at the header's
    /// end, with the header written with it, and read as if it were there, so the
    /// block's statements are checked and nothing that follows is a consequence
    /// (probe 29b n10: it was reported at the body's `=`, plus an E0501 for the
    /// family the loop defines). Any other place without the `:` fails as before.
    fn missing_colon<'a>(
        &self,
        i: In<'a>,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
        expected: &'static str,
    ) -> PResult<'a, In<'a>> {
        let (rest, _) = ws(i)?;
        let header = self.ascii.text[line.start..line.end].trim_end();
        if !rest.fragment().trim().is_empty() || !line.opens_block || header.ends_with(':') {
            return failure(i, expected);
        }
        let end = line.start + header.len();
        let shown = header.split_whitespace().collect::<Vec<_>>().join(" ");
        diags.push(
            Diagnostic::error(
                "E0001",
                self.ascii.span(end, end),
                format!("expected {expected}, found the end of the line"),
            )
            .with_label("`:` goes here")
            .with_hint(format!(
                "a block's header ends with `:`, and its block is indented below it: `{shown}:`"
            )),
        );
        Ok((rest, rest))
    }

    /// A loop over a range (or a rule) with its statement after the `:` on the same
    /// line (`for t in 1..T: h_t = h_{t-1} + 1`), which only `for b,j: ...` allows: the
    /// statement's own mistake is reported first, at its token (issue #18: everything was
    /// reported at the line's end as "expected an indented block"); a statement without
    /// one is reported at its start, with the two lines the block takes. `None` when
    /// nothing follows the `:`. The statement parsed is the block's one statement, so
    /// the rest of the file is checked as if it were written below the header (the
    /// tensors it writes are declared: no E0501 for the claim that reads them).
    fn inline_body<'a>(
        &self,
        i: In<'a>,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
        header_kind: &str,
    ) -> Option<PResult<'a, Item>> {
        let (body, _) = ws(i).ok()?;
        if line.opens_block || body.fragment().trim().is_empty() {
            return None;
        }
        let (rest, eq) = match self.equation(body) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        // Words after a complete statement are the line's trailing words, reported there.
        if rest.fragment().trim().is_empty() {
            let at = super::tokens::off(&body);
            let header = self.ascii.text[line.start..at].trim_end();
            let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
            let stmt = body.fragment().trim();
            let stmt = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
            diags.push(
                Diagnostic::error(
                    "E0001",
                    self.ascii.span(at, line.end),
                    format!("{header_kind} takes its statements on the lines below it, not after `:`"),
                )
                .with_label("a statement of the block")
                .with_hint(format!(
                    "write the statement on its own line, indented under the header: `{header}` on one line, then `  {stmt}` on the next (only `for b,j: ...`, over indices, takes its statement on the same line)"
                )),
            );
        }
        let span = eq.span;
        Some(Ok((
            rest,
            Item {
                kind: ItemKind::Equation(eq),
                span,
            },
        )))
    }

    pub(super) fn binding<'a>(&self, i: In<'a>) -> PResult<'a, Binding> {
        let (i, n) = self.name(i)?;
        let name = Ident {
            name: crate::syntax::printer::print_name(&n),
            span: n.span,
        };
        if let Ok((r, _)) = ws(i) {
            if r.fragment().starts_with('^') {
                return failure(r, SET_POWER);
            }
        }
        let (i, _) = sym("=")(i)?;
        let (i, value) = self.expr(i)?;
        Ok((i, Binding { name, value }))
    }

    pub(super) fn vary_param<'a>(&self, i: In<'a>) -> PResult<'a, VaryParam> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, n) = self.name(i)?;
        let name = Ident {
            name: crate::syntax::printer::print_name(&n),
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

    pub(super) fn bindings<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Binding>> {
        separated_list1(sym(","), |i| self.binding(i)).parse(i)
    }

    pub(super) fn range<'a>(&self, i: In<'a>) -> PResult<'a, Range> {
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

    pub(super) fn equation<'a>(&self, i: In<'a>) -> PResult<'a, Equation> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, lhs) = self.reference(i)?;
        let (i, _) = ws(i)?;
        let (i, op) = if let Ok((r, _)) = tag::<_, _, PErr>("+=").parse(i) {
            (r, AssignOp::AddAssign)
        } else if let Ok((r, _)) = tag::<_, _, PErr>("-=").parse(i) {
            (r, AssignOp::SubAssign)
        } else if let Ok((r, _)) = (char::<_, PErr>('='), not(char::<_, PErr>('='))).parse(i) {
            // `=` at the end of the line too (`y = `): the right side is what is missing,
            // not the `=` (probe33/b b02 was told "expected `=`, found `=`").
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

    pub(super) fn decl<'a>(&self, i: In<'a>, kind: DeclKind) -> PResult<'a, Decl> {
        let (i, target) = self.reference(i)?;
        let (i, _) = ws(i)?;
        let (i, init) = if let Ok((r, _)) = char::<_, PErr>('~').parse(i) {
            let (r, e) = self.primary(r)?;
            match e {
                Expr::Call(c) => (r, Some(Init::Dist(c))),
                _ => return failure(i, "a distribution such as `normal(0, 1)` after `~`"),
            }
        } else if let Ok((r, _)) = char::<_, PErr>('=').parse(i) {
            let (r2, e) = self.expr(r)?;
            // `param W[J, I] = normal(0, 1/I)`: a distribution after `=` (a value).
            if let Expr::Call(c) = &e {
                // The distributions of docs/language.md (the checker's table is one layer
                // up); `const(...)` is not one a value is confused with.
                const DRAWN: [&str; 6] = [
                    "normal",
                    "uniform",
                    "symmetric",
                    "moments",
                    "bernoulli",
                    "categorical",
                ];
                if DRAWN.contains(&c.func.name.as_str()) {
                    return failure(i, "`~` before a distribution (`=` sets a value)");
                }
            }
            (r2, Some(Init::Value(e)))
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

    pub(super) fn statement<'a>(
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
                if let Ok((r, _)) = keyword("for")(i) {
                    let (r, range) = self.range(r)?;
                    let suffixes = [
                        format!("_{}", range.var.name),
                        format!("_{{{}}}", range.var.name),
                    ];
                    let mut names = Vec::new();
                    for id in ids {
                        let base = suffixes
                            .iter()
                            .find_map(|s| id.name.strip_suffix(s.as_str()))
                            .filter(|b| {
                                !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric())
                            });
                        match base {
                            Some(b) => names.push(Ident {
                                name: b.to_string(),
                                span: id.span,
                            }),
                            None => {
                                return failure(
                                    i,
                                    "a per-member size written with the range's variable as its subscript (`size N_l for l in 0..L`)",
                                )
                            }
                        }
                    }
                    return Ok((r, item(ItemKind::SizeMembers { names, range })));
                }
                if let Ok((r, _)) = sym("=")(i) {
                    if ids.len() != 1 {
                        return failure(
                            i,
                            "one size before `=` (`size Y = floor((X - DX)/2) + 1`)",
                        );
                    }
                    let (r, value) = self.expr(r)?;
                    let name = ids.into_iter().next().expect("one name");
                    return Ok((r, item(ItemKind::SizeValue { name, value })));
                }
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
                // Names with a subscript (`d_k : D_k`) as a `size` line declares them.
                let (i, names) = self.name_list(i)?;
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => return failure(i, "`:` and the size"),
                };
                let (i, size) = {
                    let (i, n) = self.name(i)?;
                    let size = Ident {
                        name: crate::syntax::printer::print_name(&n),
                        span: n.span,
                    };
                    (i, size)
                };
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
                let (i, (c, single_eq)) = self.claim(i)?;
                if let Some(at) = single_eq {
                    diags.push(self.single_eq_in_claim(line, at));
                    return Ok((i, None));
                }
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
                        // Reported at the code, which the message quotes (`e0202` was
                        // "found the end of the line", and no code at all "expected a
                        // name": probe33/b b10).
                        let (c0, _) = ws(r)?;
                        let Ok((r, code)) = self.ident(c0) else {
                            return failure(c0, "a diagnostic code such as `E0202`");
                        };
                        let valid = code.name.len() == 5
                            && code.name.starts_with('E')
                            && code.name[1..].chars().all(|c| c.is_ascii_digit());
                        if !valid {
                            return failure(c0, "a diagnostic code such as `E0202`");
                        }
                        Ok((r, item(ItemKind::ExpectError(code))))
                    }
                    _ => failure(i, "`refuted`, `undecided` or `error CODE`"),
                }
            }
            "rule" => {
                let (i, _) = keyword("rule")(i)?;
                let (i, name) = self.ident(i)?;
                let (i, _) = match keyword("over")(i) {
                    Ok(r) => r,
                    Err(_) => return failure(i, "`over` and the step variable (`rule A over t:`)"),
                };
                let (i, var) = self.ident(i)?;
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => self.missing_colon(i, line, diags, "`:` after the step variable")?,
                };
                if let Some(r) = self.inline_body(i, line, diags, "a rule") {
                    let (i, stmt) = r?;
                    let body = vec![stmt];
                    return Ok((i, item(ItemKind::Rule(Rule { name, var, body }))));
                }
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
                        Err(_) => self.missing_colon(i, line, diags, "`:` after the range")?,
                    };
                    if let Some(r) = self.inline_body(i, line, diags, "a loop over a range") {
                        let (i, stmt) = r?;
                        return Ok((
                            i,
                            item(ItemKind::Loop(Loop {
                                range,
                                body: vec![stmt],
                                reverse: reverse.is_some(),
                            })),
                        ));
                    }
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
                // An index may carry a subscript: the members of a family of sizes
                // (`size N_l for l in 0..L`) have the indices `n_1`, `n_2`, which the
                // derived program iterates (`for b,n_3,n_2: ...` did not parse back).
                let (i, indices) = self.name_list(i)?;
                let (i, _) = match sym(":")(i) {
                    Ok(r) => r,
                    Err(_) => self.missing_colon(i, line, diags, "`:` after the indices")?,
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
