//! Blocks and error recovery: each logical line parsed on its own, a failed line
//! becomes one diagnostic at the furthest position reached.

use super::tokens::{off, ws, Ctx, In, TOO_DEEP, TOO_LONG};
use super::{BlockKind, LineResult, MAX_EXPR_DEPTH, MAX_EXPR_OPERATORS};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::lines::{Line, MAX_DEPTH};
use crate::syntax::span::Span;

impl Ctx<'_> {
    pub(super) fn block(
        &self,
        lines: &[Line],
        diags: &mut Vec<Diagnostic>,
        kind: BlockKind,
    ) -> Vec<Item> {
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

    pub(super) fn line(
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
                if let Some(d) = self.unclosed_delimiter(line) {
                    diags.push(d);
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

    /// E0006: a line that failed to parse and leaves a bracket open (or closes it with
    /// the wrong one), reported at the opening bracket, with the place it was expected
    /// to close.
    pub(super) fn unclosed_delimiter(&self, line: &Line) -> Option<Diagnostic> {
        let text = self.ascii.text.get(line.start..line.end)?;
        let mut stack: Vec<(usize, char)> = Vec::new();
        let closer = |open: char| match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        for (k, ch) in text.char_indices() {
            let at = line.start + k;
            match ch {
                '(' | '[' | '{' => stack.push((at, ch)),
                ')' | ']' | '}' => match stack.pop() {
                    Some((_, open)) if closer(open) == ch => {}
                    Some((open_at, open)) => {
                        let want = closer(open);
                        return Some(
                            Diagnostic::error(
                                "E0006",
                                self.ascii.span(open_at, open_at + 1),
                                format!("mismatched closing delimiter: `{ch}` closes `{open}`"),
                            )
                            .with_label(format!("unclosed `{open}`"))
                            .with_related(
                                self.ascii.span(at, at + 1),
                                format!("`{want}` expected here"),
                            )
                            .with_hint(format!("close `{open}` with `{want}`")),
                        );
                    }
                    // An extra closing bracket: the parser's own message says where.
                    None => return None,
                },
                _ => {}
            }
        }
        let (open_at, open) = stack.pop()?;
        let want = closer(open);
        let end = self.ascii.span(line.end, line.end);
        let mut d = Diagnostic::error(
            "E0006",
            self.ascii.span(open_at, open_at + 1),
            format!("unclosed delimiter `{open}`"),
        )
        .with_label(format!("this `{open}` is never closed"))
        .with_related(
            end,
            format!("`{want}` expected by the end of the statement"),
        );
        for (other_at, other) in stack.iter().rev() {
            d = d.with_related(
                self.ascii.span(*other_at, other_at + 1),
                format!("`{other}` is not closed either"),
            );
        }
        Some(d.with_hint(format!(
            "add `{want}`; a statement goes on to the next line only while a bracket is open and that line is indented more"
        )))
    }
}
