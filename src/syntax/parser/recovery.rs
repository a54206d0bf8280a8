//! Blocks and error recovery: each logical line parsed on its own, a failed line
//! becomes one diagnostic at the furthest position reached.

use super::hints::{habit_hint, keyword_for, unexpected_character};
use super::tokens::{
    off, sym, word, ws, Ctx, In, CHAINED_INDEX, KEYWORDS, MAX_NUMBER_CHARS, NESTED_DERIV, RESERVED,
    SET_POWER, TOO_DEEP, TOO_LONG, TOO_LONG_NUMBER,
};
use super::{
    BlockKind, LineResult, MAX_EXPR_DEPTH, MAX_EXPR_OPERATORS, PARSE_STEPS_MIN,
    PARSE_STEPS_PER_BYTE,
};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::lines::{Line, MAX_DEPTH};
use crate::syntax::span::Span;
use nom::multi::separated_list1;
use nom::Parser;
mod lines;
#[allow(unused_imports)]
pub use lines::*;

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

    /// One logical line. A line that fails (with a diagnostic) leaves out what it
    /// would have defined: those names are noted in [`Ctx::unparsed`], so the checker
    /// does not report their uses as a second error of the same cause.
    pub(super) fn line(
        &self,
        line: &Line,
        diags: &mut Vec<Diagnostic>,
        kind: BlockKind,
    ) -> Option<LineResult> {
        let before = diags.len();
        let result = self.parse_line(line, diags, kind);
        if result.is_none() && diags.len() > before {
            self.note_unparsed(line);
        }
        result
    }

    /// The names a line that failed would have defined (and those of its block).
    fn note_unparsed(&self, line: &Line) {
        let Some(fragment) = self.ascii.text.get(line.start..line.end) else {
            return;
        };
        let text = In::new_extra(fragment, line.start);
        // A keyword, or the keyword a misspelled one stands for (`parm W[I]`).
        let written = word(text).map(|(_, w)| *w.fragment()).unwrap_or("");
        let first: &'static str = match KEYWORDS.iter().find(|k| **k == written) {
            Some(k) => k,
            None if self.misspelled_keyword(line).is_some() => {
                crate::diag::suggest(written, KEYWORDS.iter().copied()).unwrap_or("")
            }
            None => "",
        };
        // After the word as written (`keyword` would not match a misspelling).
        let after = if first.is_empty() {
            text
        } else {
            word(text).map(|(r, _)| r).unwrap_or(text)
        };
        let mut names: Vec<Name> = Vec::new();
        let list = |i: In<'_>, names: &mut Vec<Name>| {
            if let Ok((_, ns)) = separated_list1(sym(","), |i| self.name(i)).parse(i) {
                names.extend(ns);
            }
        };
        match first {
            "size" | "symbol" | "scalar" | "index" => {
                list(after, &mut names);
                if first != "index" {
                    // `size B J` (a comma missing): every word of the list is left out.
                    let mut out = self.unparsed.borrow_mut();
                    for w in after
                        .fragment()
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    {
                        if w.starts_with(|c: char| c.is_ascii_alphabetic()) {
                            out.push(w.to_string());
                        }
                    }
                }
            }
            "param" | "input" | "grad" | "rule" => {
                if let Ok((_, n)) = self.name(after) {
                    names.push(n);
                }
                // `param W[J, I] ~ ..., U[J, J] ~ ...`: two declarations on one line.
                let mut depth = 0i32;
                for (k, c) in fragment.char_indices() {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            let rest = &fragment[k + 1..];
                            let lead = rest.len() - rest.trim_start().len();
                            let at = In::new_extra(&rest[lead..], line.start + k + 1 + lead);
                            if let Ok((_, n)) = self.name(at) {
                                names.push(n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "for" => {
                // `for b,j: y[b,j] = ...` defines what its equation defines.
                if let Some(colon) = fragment.find(':') {
                    let rest = In::new_extra(&fragment[colon + 1..], line.start + colon + 1);
                    if let Ok((_, n)) = self.name(rest) {
                        names.push(n);
                    }
                }
            }
            // The reads that need a rule are consequences of the boundary line's error.
            "boundary" => self.unparsed.borrow_mut().push("boundary".to_string()),
            "at" | "sample" | "claim" | "expect" | "vary" | "derivation" => {}
            _ => {
                if let Ok((_, n)) = self.name(text) {
                    names.push(n);
                }
            }
        }
        // An indented line read as this one's continuation (`  y[b] = 2 x[b]` under a
        // declaration): what it would have defined is left out with it.
        for (k, _) in fragment.match_indices('\n') {
            let rest = &fragment[k + 1..];
            let lead = rest.len() - rest.trim_start().len();
            let at = In::new_extra(&rest[lead..], line.start + k + 1 + lead);
            if let Ok((after, n)) = self.name(at) {
                let tail = after.fragment().trim_start();
                let tail = tail
                    .strip_prefix('[')
                    .and_then(|t| t.split_once(']'))
                    .map_or(tail, |(_, t)| t.trim_start());
                if tail.starts_with("+=")
                    || tail.starts_with("-=")
                    || (tail.starts_with('=') && !tail.starts_with("=="))
                {
                    names.push(n);
                }
            }
        }
        let mut out = self.unparsed.borrow_mut();
        for n in &names {
            out.push(crate::syntax::printer::print_name(n));
            // The family key as the checker spells it: `W^{h,R}` for `W^{h,R}_{l+1}`.
            let mut key = n.base.clone();
            key.push_str(&"'".repeat(n.primes as usize));
            if !n.sup.is_empty() {
                key.push_str(&format!("^{{{}}}", n.sup.join(",")));
            }
            if !n.sub.is_empty() {
                // A member of a family (`h_{l+1}`): every member `h_...` is left out.
                out.push(format!("{key}_"));
            }
            out.push(key);
            if first == "index" {
                out.push(n.base.to_uppercase());
            }
        }
        drop(out);
        for child in &line.children {
            self.note_unparsed(child);
        }
    }

    fn parse_line(
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
        // A control character other than a space or a line end (NUL, ESC) is named by its
        // code point here too: read as a token, it was printed `U+0000[I]` (session 32).
        if let Some(bad) = text
            .fragment()
            .char_indices()
            .find(|(_, c)| !c.is_ascii() || (c.is_ascii_control() && !c.is_ascii_whitespace()))
        {
            let off = line.start + bad.0;
            let power = "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|c| c == bad.1);
            let sub = "₀₁₂₃₄₅₆₇₈₉".chars().position(|c| c == bad.1);
            let hint = match (power, sub) {
                (Some(k), _) => format!("write a power with `^`: `^{k}` for `{}`", bad.1),
                (_, Some(k)) => format!("write a subscript with `_`: `_{k}` for `{}`", bad.1),
                _ if bad.1.is_control() => "delete it: a control character means nothing in .tq (it often comes with a copy from another program)".to_string(),
                _ => "tq knows the Greek letters, arrows and relation signs listed in docs/language.md; spell anything else in ASCII".to_string(),
            };
            diags.push(
                Diagnostic::error(
                    "E0001",
                    self.ascii.span(off, off + bad.1.len_utf8()),
                    unexpected_character(bad.1),
                )
                .with_hint(hint),
            );
            return None;
        }
        if line.unindented {
            if let Some(d) = self.unindented_block(line, fragment) {
                diags.push(d);
            }
        }
        self.depth.set(0);
        self.operators.set(0);
        self.steps.set(0);
        self.subscripts.borrow_mut().clear();
        let bytes = line.end.saturating_sub(line.start);
        self.steps_limit
            .set(PARSE_STEPS_MIN.saturating_add(bytes.saturating_mul(PARSE_STEPS_PER_BYTE)));
        if let Some(d) = self.misspelled_reversed(fragment, line.start) {
            diags.push(d);
            return None;
        }
        let parsed = self.statement(text, line, diags, kind);
        // Past the work limit every later step failed, whatever path the parser then
        // took (an alternative may have swallowed the failure): the statement is refused.
        if self.steps.get() > self.steps_limit.get() {
            diags.push(
                Diagnostic::error(
                    "E0003",
                    self.ascii.span(line.start, line.end.min(line.start + 1)),
                    format!(
                        "the statement needs more than {PARSE_STEPS_PER_BYTE} parsing steps per character"
                    ),
                )
                .with_label("this statement")
                .with_hint("names nested in subscripts are read again at every level: write the statement with fewer nested subscripts"),
            );
            return None;
        }
        match parsed {
            Ok((rest, result)) => {
                let (rest, _) = ws(rest).unwrap_or((rest, rest));
                if !rest.fragment().is_empty() {
                    if let Some(d) = self.keyword_as_name(line, kind) {
                        diags.extend(d);
                        return None;
                    }
                    if let Some(d) = self.notation_slip(line) {
                        diags.push(d);
                        return None;
                    }
                    if let Some(d) = self.misspelled_keyword(line) {
                        diags.push(d);
                        return None;
                    }
                    diags.push(self.trailing_words(line, rest));
                    return None;
                }
                result.map(|r| match r {
                    LineResult::Item(mut item) => {
                        item.span = span;
                        if line.opens_block && line.children.is_empty() && !line.too_deep {
                            diags.push(self.empty_block(&item, fragment, span));
                        }
                        LineResult::Item(item)
                    }
                    other => other,
                })
            }
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => {
                let mut off = e.offset.min(line.end).max(line.start);
                // The token found is the next one: a place before a space found what
                // follows the space, not the end of the line (`[k = lab[t]]`).
                while off < line.end && self.ascii.text[off..].starts_with([' ', '\t']) {
                    off += 1;
                }
                let mut tok: String = self.ascii.text[off..line.end]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .take(21)
                    .collect();
                // A longer token is quoted by its first 20 characters, marked as cut (a
                // 31-digit index was quoted as the 20-digit number it is not).
                let cut = tok.chars().count() > 20;
                if cut {
                    tok = tok.chars().take(20).collect();
                }
                let found = if tok.is_empty() {
                    "the end of the line".to_string()
                } else if cut {
                    format!("`{tok}…`")
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
                if e.expected == TOO_LONG_NUMBER {
                    // The whole numeral: digits, a fraction, an exponent.
                    let b = self.ascii.text.as_bytes();
                    let mut end = off;
                    while end < line.end
                        && (b[end].is_ascii_digit()
                            || b[end] == b'.'
                            || ((b[end] == b'e' || b[end] == b'E') && end > off)
                            || ((b[end] == b'+' || b[end] == b'-')
                                && end > off
                                && matches!(b[end - 1], b'e' | b'E')))
                    {
                        end += 1;
                    }
                    diags.push(
                        Diagnostic::error(
                            "E0003",
                            self.ascii.span(off, end),
                            format!(
                                "the number `{}…` has {} characters, more than {MAX_NUMBER_CHARS}",
                                &self.ascii.text[off..off + 12.min(end - off)],
                                end - off
                            ),
                        )
                        .with_label("number too long")
                        .with_hint("write a long number as a power or a quotient of short ones (`10^50`, `2^-100`, `1/3`)"),
                    );
                    return None;
                }
                if e.expected == SET_POWER {
                    diags.push(self.set_power(line.start, off, line.end));
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
                if e.expected == CHAINED_INDEX {
                    diags.push(self.chained_index(line.start, off, line.end));
                    return None;
                }
                if e.expected == NESTED_DERIV {
                    diags.push(self.nested_deriv(line.start, off, line.end));
                    return None;
                }
                if let Some(d) = self.keyword_as_name(line, kind) {
                    diags.extend(d);
                    return None;
                }
                if let Some(d) = self.notation_slip(line) {
                    diags.push(d);
                    return None;
                }
                if let Some(d) = self.misspelled_keyword(line) {
                    diags.push(d);
                    return None;
                }
                if let Some(d) = self.range_with_to(line.start, off) {
                    diags.push(d);
                    return None;
                }
                if let Some(d) = self.unclosed_delimiter(line) {
                    diags.push(d);
                    return None;
                }
                if let Some(d) = self.function_in_brackets(line.start, off, line.end) {
                    diags.push(d);
                    return None;
                }
                if let Some(d) = self.parenthesized_position(line.start, off, line.end) {
                    diags.push(d);
                    return None;
                }
                // The words the place takes, when the parser names them (`zero`,
                // `circular` or `valid`): the nearest to what was written.
                let words: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
                let habit = habit_hint(
                    &self.ascii.text[line.start..off],
                    &self.ascii.text[off..line.end.max(off)],
                    &tok,
                    &expected,
                );
                let hint = match crate::diag::suggest(&tok, words.iter().copied()) {
                    _ if habit.is_some() => habit.unwrap_or_default(),
                    Some(w) if !tok.is_empty() => {
                        format!("did you mean `{w}`? this place takes {expected}")
                    }
                    _ if words.len() > 1 => format!("this place takes {expected}"),
                    _ => "see docs/language.md for the statement forms".to_string(),
                };
                diags.push(
                    Diagnostic::error(
                        "E0001",
                        self.ascii.span(off, off + tok.len()),
                        format!("expected {expected}, found {found}"),
                    )
                    .with_label(format!("expected {expected}"))
                    .with_hint(hint),
                );
                None
            }
            Err(nom::Err::Incomplete(_)) => None,
        }
    }

    /// `for l in 1 to L:`: a range written with the word `to` (read as a factor of the
    /// start), where tq writes `1..L`.
    fn range_with_to(&self, start: usize, off: usize) -> Option<Diagnostic> {
        let head = &self.ascii.text[start..off];
        let from = head.find(" in ")? + 4;
        let words = &head[from..];
        let at = words.match_indices("to").map(|(k, _)| k).find(|&k| {
            let before = words[..k].chars().next_back();
            let after = words[k + 2..].chars().next();
            before.is_some_and(|c| c == ' ' || c == ')')
                && after.is_some_and(|c| c == ' ' || c == '(')
        })?;
        let a = words[..at].trim();
        let b = words[at + 2..].trim().trim_end_matches(':').trim();
        let begin = start + from + at;
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(begin, begin + 2),
                "expected `..` in the range, found `to`",
            )
            .with_label("expected `..`")
            .with_hint(format!(
                "a range is written with two dots, both ends included: `{a}..{b}`"
            )),
        )
    }

    /// `for l in 0..L-1 reverse:`: a word close to `reversed` after a loop's range (it
    /// would be read as a factor of the range's end, an undeclared name).
    fn misspelled_reversed(&self, fragment: &str, start: usize) -> Option<Diagnostic> {
        let head = fragment.strip_prefix("for ")?.strip_suffix(':')?.trim_end();
        if !head.contains(" in ") {
            return None;
        }
        let len = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let w = &head[head.len() - len..];
        let spaced = head[..head.len() - len].ends_with(' ');
        if len < 5 || !spaced || w == "reversed" {
            return None;
        }
        crate::diag::suggest(w, ["reversed"])?;
        let at = start + "for ".len() + head.len() - len;
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(at, at + len),
                format!("`{w}` is not a keyword of a loop"),
            )
            .with_label("unknown keyword")
            .with_hint(
                "did you mean `reversed`? `for l in 0..L-1 reversed:` runs the loop from the last value down",
            ),
        )
    }

    /// E0804 at the first line of a block written at its header's indentation (taken
    /// into the block by [`crate::syntax::lines`], so its statements are read in the
    /// block and their uses of the loop variable are not reported again).
    fn unindented_block(&self, line: &Line, header: &str) -> Option<Diagnostic> {
        let first = line.children.first()?;
        let n = line.children.len();
        let shown: String = header.chars().take(60).collect();
        let lines = if n == 1 {
            "this line".to_string()
        } else {
            format!("this line and the {} after it", n - 1)
        };
        Some(
            Diagnostic::error(
                "E0804",
                self.ascii.span(first.start, first.end),
                format!("the body of `{shown}` is not indented"),
            )
            .with_label("written at the header's indentation")
            .with_related(self.ascii.span(line.start, line.end), "the block's header")
            .with_hint(format!(
                "indent {lines} further than `{shown}` (two spaces, say): a line that ends with `:` owns the lines indented below it"
            )),
        )
    }

    /// E0804 at a block header that owns no line (a loop, a rule or an `includes`
    /// claim with nothing below it: it did nothing, silently).
    fn empty_block(&self, item: &Item, header: &str, span: Span) -> Diagnostic {
        let what = match &item.kind {
            ItemKind::Rule(_) => "the rule's updates (`v[t+1] = ...`)",
            ItemKind::Claim(_) => "the `.grad` statements the backward program should include",
            _ => "the loop's statements",
        };
        let shown: String = header.chars().take(60).collect();
        Diagnostic::error("E0804", span, format!("`{shown}` has no body"))
            .with_label("nothing is indented below this line")
            .with_hint(format!(
                "write {what} on the lines below it, indented further; or delete the line"
            ))
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

    /// A line that failed and starts with a word close to a statement keyword, followed
    /// by another word (`parm W[I] ~ ...`, `inptu x[B]`): a misspelled keyword.
    pub(super) fn misspelled_keyword(&self, line: &Line) -> Option<Diagnostic> {
        let text = self.ascii.text.get(line.start..line.end)?;
        let len = text
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
            .map_or(text.len(), |(k, _)| k);
        let w = &text[..len];
        if w == "claim" {
            return self.misspelled_claim_word(line);
        }
        if w.is_empty() || KEYWORDS.contains(&w) {
            return None;
        }
        let rest = &text[len..];
        let next = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let spaced = rest.len() > next.len();
        if !spaced || !next.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return None;
        }
        let hint = match crate::diag::suggest(w, KEYWORDS.iter().copied())
            .or_else(|| keyword_for(w))
        {
            Some(kw) => format!("did you mean `{kw}`?"),
            // Two words where an equation (`y[b] = ...`) or a statement was expected: the
            // first is taken for a keyword tq does not have.
            None => format!(
                "a line starts with a statement keyword ({}) or is an equation `name[indices] = ...` (docs/language.md)",
                KEYWORDS.join(", ")
            ),
        };
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(line.start, line.start + len),
                format!("`{w}` is not a statement keyword"),
            )
            .with_label("unknown keyword")
            .with_hint(hint),
        )
    }

    /// A claim line that failed with a word close to `given` (or `tol`, `boundary`)
    /// where the claim's parts are (`claim Var(x) == 2 givn s = 2`).
    fn misspelled_claim_word(&self, line: &Line) -> Option<Diagnostic> {
        let text = self.ascii.text.get(line.start..line.end)?;
        let mut k = "claim".len();
        let bytes = text.as_bytes();
        while k < bytes.len() {
            if !bytes[k].is_ascii_alphabetic() || bytes[k - 1].is_ascii_alphanumeric() {
                k += 1;
                continue;
            }
            let len = text[k..]
                .char_indices()
                .find(|(_, c)| !c.is_ascii_alphanumeric())
                .map_or(text.len() - k, |(n, _)| n);
            let w = &text[k..k + len];
            // Only a word of four letters or more, followed by a space (a name read as a
            // factor of the relation's right side).
            let spaced = text[k + len..].starts_with(' ');
            if len >= 4 && spaced && !RESERVED.contains(&w) {
                if let Some(kw) = crate::diag::suggest(w, ["given", "boundary"]) {
                    return Some(
                        Diagnostic::error(
                            "E0001",
                            self.ascii.span(line.start + k, line.start + k + len),
                            format!("`{w}` is not a keyword of a claim"),
                        )
                        .with_label("unknown keyword")
                        .with_hint(format!("did you mean `{kw}`?")),
                    );
                }
            }
            k += len;
        }
        None
    }
}

/// Whether a closing bracket `close` after `statement` closes no bracket it opened.
fn closes_nothing(statement: &str, close: u8) -> bool {
    let open = if close == b')' { b'(' } else { b'[' };
    let mut depth = 0i64;
    for &c in statement.as_bytes() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
        }
    }
    depth <= 0
}
