//! Recovery within a line: where a failed statement is reported and what its hint says.

use super::*;

/// Where each keyword of tq is used, for the hint of a keyword written as a name.
fn keyword_use(w: &str) -> &'static str {
    match w {
        "given" => "a claim's condition: `claim ... given a = 1`",
        "at" => "a point: `at a = 1`",
        "tol" => "a claim's tolerance: `claim u ~= 2 tol 0.01`",
        "for" | "in" => "a loop: `for l in 1..L:`",
        "over" => "a rule: `rule A over t:`",
        "reversed" => "a loop run backward: `for l in 1..L reversed:`",
        "includes" => {
            "a block of statements the backward program must contain: `claim W.grad includes:`"
        }
        "by" => "a derivation step's rule: `= ... by rule`",
        _ => "a line of its own: `expect refuted`",
    }
}

impl Ctx<'_> {
    /// `scalar a, in`, `u = 2 * tol + a`, `at a = 1, in = 3`: a keyword of tq written
    /// as a name (probe37 j04: reported at the comma before it, with a hint about
    /// products). A keyword is reported when the line parses whole with that word
    /// replaced by a plain name of the same length, and the word stands where only a
    /// name can: in a declaration's list, before `=` or an operator, or after an
    /// operator. The first line that uses a keyword so is reported; later lines with the
    /// same keyword are consequences (`Some(None)`: left out without a diagnostic).
    pub(super) fn keyword_as_name(
        &self,
        line: &Line,
        kind: BlockKind,
    ) -> Option<Option<Diagnostic>> {
        if !line.children.is_empty() || line.end.saturating_sub(line.start) > 2_000 {
            return None;
        }
        let fragment = self.ascii.text.get(line.start..line.end)?;
        let first = fragment.split_whitespace().next().unwrap_or("");
        let declaration = matches!(
            first,
            "size" | "symbol" | "scalar" | "index" | "param" | "input" | "grad"
        );
        let b = fragment.as_bytes();
        let mut k = 0;
        let mut tried = 0;
        while k < b.len() {
            let starts = b[k].is_ascii_alphabetic()
                && (k == 0
                    || !(b[k - 1].is_ascii_alphanumeric()
                        || matches!(b[k - 1], b'_' | b'.' | b'\'')));
            if !starts {
                k += 1;
                continue;
            }
            let mut end = k;
            while end < b.len() && b[end].is_ascii_alphanumeric() {
                end += 1;
            }
            let w = &fragment[k..end];
            let at = k;
            k = end;
            if !RESERVED.contains(&w) {
                continue;
            }
            let before = fragment[..at].trim_end();
            let after = fragment[end..].trim_start();
            let listed = declaration
                && (before.ends_with(',') || before == first)
                && (after.is_empty() || after.starts_with([',', '[', '~', '=']));
            let operand_after = after
                .starts_with(['=', '+', '*', '/', '^', ')', ']', ',', '[', '\''])
                || after.starts_with(".grad");
            let operand_before = before
                .ends_with(['=', '+', '-', '*', '/', '^', '(', ',', '<', '>', '['])
                && !before.ends_with("->");
            if !(listed || operand_after || operand_before) {
                continue;
            }
            tried += 1;
            if tried > 8 {
                break;
            }
            let mut changed = fragment.to_string();
            changed.replace_range(at..end, &"q".repeat(end - at));
            if !self.parses_whole(&changed, line, kind) {
                continue;
            }
            let mut seen = self.keyword_names.borrow_mut();
            if seen.iter().any(|s| s == w) {
                drop(seen);
                // No diagnostic: what the line would have defined is noted here.
                self.note_unparsed(line);
                return Some(None);
            }
            seen.push(w.to_string());
            let start = line.start + at;
            return Some(Some(
                Diagnostic::error(
                    "E0001",
                    self.ascii.span(start, line.start + end),
                    format!("`{w}` is a keyword of tq, not a name"),
                )
                .with_label("a keyword")
                .with_hint(format!(
                    "`{w}` is kept for {}; name the value otherwise (`{w}1`, say) here and wherever it is used; docs/language.md (Names) lists the keywords",
                    keyword_use(w)
                )),
            ));
        }
        None
    }

    /// Whether `text` (a line's text changed in place, the same length) parses as one
    /// whole statement. The parser's per-line state is reset before and after.
    fn parses_whole(&self, text: &str, line: &Line, kind: BlockKind) -> bool {
        let reset = || {
            self.depth.set(0);
            self.operators.set(0);
            self.steps.set(0);
            self.subscripts.borrow_mut().clear();
        };
        reset();
        let mut scratch = Vec::new();
        let unparsed = self.unparsed.borrow().len();
        let input = In::new_extra(text, line.start);
        let whole = match self.statement(input, line, &mut scratch, kind) {
            Ok((rest, Some(_))) => rest.fragment().trim().is_empty(),
            _ => false,
        };
        self.unparsed.borrow_mut().truncate(unparsed);
        reset();
        whole && scratch.is_empty()
    }

    /// Words left after a statement parsed whole (`rest`): E0801 for an `expect` line
    /// run into the statement before it (`claim ... expect refuted`), else E0001 with a
    /// hint for the kind of statement (a list of names, a declaration, an expression).
    pub(super) fn trailing_words(&self, line: &Line, rest: In<'_>) -> Diagnostic {
        let at = off(&rest);
        let stray = rest.fragment().trim_end();
        let tok: String = stray
            .chars()
            .take_while(|c| !c.is_whitespace())
            .take(20)
            .collect();
        let statement = self.ascii.text[line.start..at].trim();
        let first = statement.split_whitespace().next().unwrap_or("");
        if tok == "expect" {
            let what = if first == "claim" {
                "claim"
            } else {
                "statement"
            };
            let shown: String = stray.chars().take(40).collect();
            // A long statement is shortened visibly: a quote cut without a mark reads as
            // the author's whole line with its end missing.
            let shown_statement: String = if statement.chars().count() > 60 {
                statement.chars().take(57).collect::<String>() + "…"
            } else {
                statement.to_string()
            };
            return Diagnostic::error(
                "E0801",
                self.ascii.span(at, at + stray.len()),
                format!("`{shown}` after the end of the {what}"),
            )
            .with_label(format!("the {what} ends before this"))
            .with_hint(if first == "claim" || stray.starts_with("expect error") {
                format!(
                    "`{shown}` is a line of its own, written just before the {what} it marks: \
                     `{shown}` on one line, then `{shown_statement}` on the next"
                )
            } else {
                format!(
                    "`expect refuted` marks the claim on the line after it, and only a claim: \
                     delete `{shown}` here, or write it on its own line before a claim"
                )
            });
        }
        // `sample B = 2, J =`: the last setting has no value; the list was read up to
        // the setting before it, so the place is where the value belongs.
        if matches!(first, "at" | "sample") && stray.starts_with(',') && stray.ends_with('=') {
            let whole = self.ascii.text[line.start..line.end].trim_end();
            let end = line.start + whole.len();
            let shown = whole.split_whitespace().collect::<Vec<_>>().join(" ");
            return Diagnostic::error(
                "E0001",
                self.ascii.span(end, end),
                "expected a value after `=`, found the end of the line".to_string(),
            )
            .with_label("the value goes here")
            .with_hint(format!(
                "write the value after `=` (`{shown} 2`), or remove the setting"
            ));
        }
        if matches!(first, "at" | "sample" | "claim")
            && tok.starts_with('=')
            && !tok.starts_with("==")
        {
            if let Some(d) = self.missing_comma(line.start, at, first) {
                return d;
            }
        }
        // `y[b,j] = x[b,j] if x[b,j] > 0 else 0`: a conditional of another language, read
        // as a product up to the relation; the mistake is the `if`.
        if let Some(k) = statement
            .match_indices(" if ")
            .map(|(k, _)| k + 1)
            .next()
            .filter(|_| statement.contains('='))
        {
            let start = line.start
                + (self.ascii.text[line.start..at].len()
                    - self.ascii.text[line.start..at].trim_start().len())
                + k;
            return Diagnostic::error(
                "E0001",
                self.ascii.span(start, start + 2),
                "tq has no `if`: a value is an expression".to_string(),
            )
            .with_label("not a keyword of an expression")
            .with_hint(
                "a value chosen by a condition is a product with an Iverson bracket, 1 where the relation holds and 0 elsewhere: `x[b,j] [x[b,j] > 0]` (that one is `relu(x[b,j])`), `a [c > 0] + d [c <= 0]` for two branches",
            );
        }
        let word_like = tok.starts_with(|c: char| c.is_ascii_alphabetic());
        let relation = ["==", "<=", ">=", "~=", "<", ">"]
            .iter()
            .any(|r| tok.starts_with(r));
        // A statement's `=` on a line read as a continuation: that line was indented
        // further than the statement before it (a tab counts as one column), so it
        // continued that statement instead of starting its own.
        let continued = self.ascii.text[line.start..at]
            .rfind(['\n', '\r'])
            .map(|k| line.start + k + 1);
        let assigns = tok.starts_with('=') && !tok.starts_with("==")
            || tok.starts_with("+=")
            || tok.starts_with("-=");
        // `  claim x == a^2` under `x = a^2`: an indented line that starts with a
        // statement's keyword was read as a continuation too (`a^2 claim x`), whatever
        // the token the error is at (probe33/b b11).
        let keyword_line = continued.is_some_and(|phys| {
            let first = self.ascii.text[phys..line.end]
                .split_whitespace()
                .next()
                .unwrap_or("");
            KEYWORDS.contains(&first) || first == "expect"
        });
        // `  y[b] = 2 x[b]` under `input x[B] ~ normal(0, 1)`: the statement ended with
        // the line before, and the whole indented line is left over (probe37 p06: the
        // hint said to delete `y[b]`).
        let whole_line = continued.is_some_and(|phys| self.ascii.text[phys..at].trim().is_empty());
        if let (Some(phys), true) = (continued, assigns || keyword_line || whole_line) {
            // A tab is read as four spaces: fewer source bytes than columns.
            let lead = self.ascii.text[phys..at]
                .bytes()
                .take_while(|c| *c == b' ')
                .count();
            let source_bytes = self.ascii.map[phys + lead] - self.ascii.map[phys];
            let tabs = if (source_bytes as usize) < lead {
                " (a tab counts as four spaces)"
            } else {
                ""
            };
            // `expect refuted` at column 0 above an indented derivation step: the fix is
            // to indent the `expect` line like the step (probe36 b06: the hint said to
            // dedent the step, which ends the derivation there).
            let logical_first = self.ascii.text[line.start..phys]
                .split_whitespace()
                .next()
                .unwrap_or("");
            let hint = if logical_first == "expect"
                && tok.starts_with('=')
                && !tok.starts_with("==")
            {
                let spaces = if lead == 1 {
                    "1 space".to_string()
                } else {
                    format!("{lead} spaces")
                };
                format!(
                    "this step is indented further than the `expect` line before it{tabs}, so it was read as that line's continuation: indent the `expect` line like the step ({spaces}) to mark the step"
                )
            } else {
                format!(
                    "this line is indented further than the statement before it{tabs}, so it was read as that statement's continuation: indent it like the line before to make it a statement of its own"
                )
            };
            return Diagnostic::error(
                "E0001",
                self.ascii.span(at, at + tok.len().max(1)),
                format!("unexpected `{tok}` after the end of the statement"),
            )
            .with_label("not expected here")
            .with_hint(hint);
        }
        let hint = match first {
            _ if tok.starts_with('@') => "`@` is not an operator in .tq: a matrix product is written with the summed index as a capital, factors side by side: `W[j,I] x[b,I]`".to_string(),
            _ if tok.starts_with("!=") => "tq has no `!=`: the relations are `==`, `<=`, `>=`, `<`, `>`, `~=`; for a quantity that is not zero claim it positive (`claim Var(y) > 0`)".to_string(),
            // `= ...  by uncorrelated_sum.`: a sentence's period at the end of a line.
            _ if stray == "." => format!(
                "a line ends without a period: delete the `.`: `{statement}`"
            ),
            _ if tok == "." || tok.starts_with(". ") => "`.` is not a product in .tq: write the factors side by side (`W[j,I] x[b,I]`) or with `*`".to_string(),
            // `input x[B] ~ normal(0, 1);`: a statement ends with its line.
            _ if stray == ";" => format!(
                "a statement ends at the end of its line, without `;`: `{}`",
                statement
            ),
            "sample" | "at" | "size" | "symbol" | "scalar" | "index" | "claim" if tok.starts_with(';') => format!(
                "separate the items of a list with `,`, not `;`: `{}`",
                self.ascii.text[line.start..line.end].trim().replace(';', ",")
            ),
            _ if tok.starts_with(';') => format!(
                "one statement per line: end `{statement}` at the `;` and write `{}` on the next line",
                stray[1..].trim()
            ),
            // `tanh(a[b,j]))`: a closing bracket that closes nothing.
            _ if tok.starts_with([')', ']'])
                && closes_nothing(statement, tok.as_bytes()[0]) =>
            {
                let whole = self.ascii.text[line.start..line.end].trim();
                let k = at - line.start - (self.ascii.text[line.start..line.end].len()
                    - self.ascii.text[line.start..line.end].trim_start().len());
                format!(
                    "this `{}` closes no bracket: delete it: `{}{}`",
                    &tok[..1],
                    &whole[..k.min(whole.len())],
                    whole.get(k + 1..).unwrap_or("")
                )
            }
            // `scalar a ~ normal(0, 1)`: a `scalar` is a point set by `at`; a random
            // value is an `input` without indices.
            // `symbol sigma > 0`: domains come from the distributions; a condition is a
            // claim's `given`.
            "symbol" if tok.starts_with(['>', '<']) => {
                let name = statement.split_whitespace().last().unwrap_or("sigma");
                format!(
                    "a `symbol` line only names symbols (their domains come from the distributions they are used in): write `{statement}`, and the condition in the claims that need it: `claim ... given {name} {}`",
                    stray.trim()
                )
            }
            // `symbol s = 2`: a symbol takes its value on the `sample` line or in a
            // claim's `given`.
            "symbol" if tok.starts_with('=') && !tok.starts_with("==") => {
                let name = statement.split_whitespace().last().unwrap_or("s");
                let value = stray.trim_start_matches('=').trim();
                let value = if value.is_empty() { "2" } else { value };
                format!(
                    "a `symbol` line only names symbols: write `{statement}`, and give the value on the `sample` line (`sample {name} = {value}`) or in a claim's `given`"
                )
            }
            // `scalar x = 2, y = 3`: the names declared, their values set by `at`.
            "scalar" if tok.starts_with('=') => {
                let whole = self.ascii.text[line.start..line.end].trim();
                let items = whole.strip_prefix("scalar").unwrap_or(whole).trim();
                let names: Vec<&str> = items
                    .split(',')
                    .filter_map(|item| item.split_once('=').map(|(n, _)| n.trim()))
                    .filter(|n| !n.is_empty())
                    .collect();
                let settings = items.split_whitespace().collect::<Vec<_>>().join(" ");
                format!(
                    "a `scalar` is declared without a value and set to a point by `at`: `scalar {}`, then `at {settings}` on a line of its own",
                    names.join(", ")
                )
            }
            "scalar" if tok.starts_with('~') => {
                let fixed = self.ascii.text[line.start..line.end]
                    .trim()
                    .replacen("scalar", "input", 1);
                format!(
                    "a `scalar` is an input set to a point by `at` (`scalar a` then `at a = 1`); a random value is declared as an `input` without indices: `{}`",
                    fixed.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            }
            "expect" if tok.starts_with(':') => {
                let shown = statement.trim_end();
                format!("`{shown}` is a line of its own, without `:`: write `{shown}`, and the claim it marks on the next line")
            }
            // `given s > 0 and I > 1`: the givens are a list, joined by commas.
            "claim"
                if relation
                    && statement
                        .split_once(" given ")
                        .is_some_and(|(_, g)| g.split_whitespace().any(|w| w == "and")) =>
            {
                let whole = self.ascii.text[line.start..line.end].trim();
                let (head, givens) = whole.split_once(" given ").unwrap_or((whole, ""));
                let givens = givens.replace(" and ", ", ");
                format!("the givens are a list separated by commas, not joined by `and`: `{head} given {givens}`")
            }
            "claim" if relation && statement.split_whitespace().any(|w| w == "and") => {
                "a claim states one relation: write one claim per relation (`claim Var(y) >= 0`, then `claim Var(y) <= I`)".to_string()
            }
            // `given a =` with nothing after: the value is missing, not a comma
            // (probe33/b b02).
            "at" | "sample" | "claim" if tok.trim() == "=" => {
                "the setting has no value: write it after `=` (`given a = 1`), or remove the setting".to_string()
            }
            // A claim's `==` after its relation is a chain (`claim x == 4 == 4`, below),
            // not a setting; a claim's settings are after `given` or `at`.
            "at" | "sample" | "claim"
                if tok.starts_with('=')
                    && !(first == "claim" && tok.starts_with("=="))
                    && (first != "claim"
                        || statement.contains(" given ")
                        || statement.contains(" at ")) =>
            {
                "separate the settings with commas: `name = value, name = value`".to_string()
            }
            _ if tok == "," && stray == "," => {
                "the list ends without a comma: delete the `,` at the end, or write the next item after it".to_string()
            }
            "index" if !word_like && statement.contains(':') => {
                // `index u : X / 2`: the size an index ranges over is a name; an
                // expression is declared as a size first.
                let whole = self.ascii.text[line.start..line.end].trim();
                let whole = whole.split('#').next().unwrap_or(whole).trim();
                let (names, expr) = whole
                    .trim_start_matches("index")
                    .split_once(':')
                    .unwrap_or(("u", "X / 2"));
                let name = names.split(',').next().unwrap_or("u").trim();
                let size = name.to_uppercase();
                // A size is a whole number: a quotient is rounded down.
                let expr = expr.trim();
                let value = if expr.contains('/') && !expr.starts_with("floor") && !expr.starts_with("ceil") {
                    format!("floor({expr})")
                } else {
                    expr.to_string()
                };
                format!(
                    "an index ranges over a declared size, not an expression: declare the size first, `size {size} = {value}`, then `index {} : {size}`",
                    names.trim()
                )
            }
            "index" if word_like => match crate::diag::suggest(&tok, ["centered"]) {
                Some(w) => format!("did you mean `{w}`? an index is declared `index dx : D` or `index dx : D centered`"),
                None => "an index is declared `index dx : D` or `index dx : D centered`; a note goes after `#`".to_string(),
            },
            // `symbol p in [0, 1]`: a symbol takes no range (probe34 p14: the hint
            // proposed `symbol p, in`); its domain comes from the declarations that
            // read it, and a claim narrows it with a given.
            "scalar" if tok == "in" => {
                let name = statement.split_whitespace().nth(1).unwrap_or("a");
                format!(
                    "a `scalar` takes no range: declare `scalar {name}` and give its point on an `at` line (`at {name} = 1/2`); a scalar input is every real, and a claim narrows it with givens (`claim ... given {name} >= 0, {name} <= 1`); to give it values for `tq variants`, write `vary {name} in 0.1..0.9`"
                )
            }
            "symbol" if tok == "in" => {
                let name = statement.split_whitespace().nth(1).unwrap_or("p");
                format!(
                    "a `{first}` takes no range: declare `{first} {name}`; its domain comes from how the model reads it (`bernoulli({name})`: {name} in (0, 1], `normal(0, {name})`: {name} >= 0; docs/language.md, \"Symbols have domains\"), and a claim narrows it with givens (`claim ... given {name} >= 0, {name} <= 1`); to give it values for `tq variants`, write `vary {name} in 0.1..0.9`"
                )
            }
            // `size M_l = N0 + (l - 1) K for l in 1..L`: a per-member size by a formula,
            // which tq does not have (probe38 a06: the hint was `..., for`, itself an
            // error). Per-member sizes take their values from the `sample` line.
            "size" if tok == "for" && statement.contains('=') => {
                let whole = self.ascii.text[line.start..line.end].trim();
                let whole = whole.split('#').next().unwrap_or(whole).trim();
                let name = statement
                    .trim_start_matches("size")
                    .split('=')
                    .next()
                    .unwrap_or("M_l")
                    .trim();
                let range = whole.split_once(" for ").map_or("l in 1..L", |(_, r)| r.trim());
                let base = name.split('_').next().unwrap_or("M");
                format!(
                    "a per-member size has no formula in .tq: declare `size {name} for {range}` and give each member its value on the `sample` line (`sample {base}_1 = ..., {base}_2 = ...`) or in a claim's givens; a claim then states the widths by the members"
                )
            }
            "size" | "symbol" | "scalar" if word_like => {
                format!("`{first}` declares a list of names separated by commas: `{statement}, {tok}`")
            }
            // `param w ~ normal(0, 1) [I]`: the shape written after the distribution; it
            // follows the name (deleting it, the old hint, left `w` a scalar: E0202).
            "param" | "input" | "grad"
                if tok.starts_with('[')
                    && statement
                        .split_whitespace()
                        .nth(1)
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || "_{}+-'".contains(c))) =>
            {
                let name = statement.split_whitespace().nth(1).unwrap_or("w");
                let rest = statement[first.len()..].trim_start()[name.len()..].trim_start();
                format!(
                    "the shape follows the name: `{first} {name}{} {rest}`",
                    stray.trim()
                )
            }
            // `input x[B, I] ~ normal(0, 1), z[B] ~ normal(0, 1)`: two declarations on one
            // line (deleting the `,`, the old hint, left `z[B] ...` stray).
            "param" | "input" | "grad"
                if tok == ","
                    && stray[1..].trim_start().starts_with(|c: char| c.is_ascii_alphabetic())
                    && (stray.contains('~') || stray[1..].contains('=')) =>
            {
                format!(
                    "one declaration per line: `{statement}` on one line, then `{first} {}` on the next",
                    stray[1..].trim()
                )
            }
            "param" | "input" if statement.contains('~') || statement.contains('=') => format!(
                "a declaration ends after its distribution or value: delete `{tok}`, or put it in a comment after `#`"
            ),
            // `h_l[b,j] = ... for l in 1..L`: the range written after the statement, as
            // on paper; tq writes it as a loop around the statement.
            _ if tok == "for" && stray.contains(" in ") => {
                let header = stray.split('#').next().unwrap_or(stray).trim().trim_end_matches(':');
                format!(
                    "a statement over a range is a loop: write `{header}:` on the line before it, and the statement, without its range, indented under it"
                )
            }
            // `symbol sigma_W^2`: a declaration names a name, not a power of it.
            "size" | "symbol" | "scalar" | "index" if tok.starts_with('^') => {
                let name = statement.rsplit([' ', ',']).next().unwrap_or("s");
                format!(
                    "a `{first}` line declares names, not powers of them: write `{statement}`, and the power where it is used (`{name}{tok}`)"
                )
            }
            // `claim Var(y) == I given w ~ normal(0, 1)`: a distribution is part of a
            // declaration; a given sets a value or states a relation.
            "claim" if tok.starts_with('~') && !tok.starts_with("~=") => "a distribution is declared once, on the tensor's `input` or `param` line; a claim's `given` sets names to values or states relations (`given s = 1`, `given s > 0`)".to_string(),
            _ if tok.starts_with('~') && !tok.starts_with("~=") => "`~` follows the name of a declared tensor and gives its distribution: `input x[B, I] ~ normal(0, 1)`".to_string(),
            // `claim 0 <= Var(u) <= 1/4`: two relations, one claim each.
            "claim" if relation => {
                let ops = ["==", "<=", ">=", "~=", "<", ">"];
                let body = statement.strip_prefix("claim").unwrap_or(statement).trim();
                let split = ops
                    .iter()
                    .filter_map(|r| body.find(&format!(" {r} ")).map(|k| (k, *r)))
                    .min();
                let rel2 = ops.iter().find(|r| tok.starts_with(**r)).copied().unwrap_or("<=");
                let right = stray[rel2.len()..].split('#').next().unwrap_or("").trim();
                match split {
                    // `x == 4 == 5`: the same value equal to both, one claim each.
                    Some((k, rel1))
                        if !right.is_empty()
                            && matches!(rel1, "==" | "~=")
                            && matches!(rel2, "==" | "~=") =>
                    {
                        let (left, mid) = (body[..k].trim(), body[k + rel1.len() + 2..].trim());
                        format!(
                            "a claim states one relation, not a chain: write one claim per relation, `claim {left} {rel1} {mid}`, then `claim {left} {rel2} {right}`"
                        )
                    }
                    Some((k, rel1)) if !right.is_empty() => {
                        let (left, mid) = (body[..k].trim(), body[k + rel1.len() + 2..].trim());
                        let flipped = match rel1 {
                            "<=" => ">=",
                            ">=" => "<=",
                            "<" => ">",
                            ">" => "<",
                            r => r,
                        };
                        format!(
                            "a claim states one relation, not a chain: write one claim per bound, `claim {mid} {flipped} {left}`, then `claim {mid} {rel2} {right}`"
                        )
                    }
                    _ => "a claim states one relation, not a chain: write one claim per relation".to_string(),
                }
            }
            // A factor after a complete statement: a product written without a space
            // is the likely intent only here.
            _ if tok.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '(' | '[' | '_')) => format!(
                "the statement was complete before `{tok}`: if `{tok}` is a factor, a product of two factors needs a space or `*` between them; otherwise check the brackets before it"
            ),
            _ => format!(
                "the statement was complete before `{tok}`, which cannot follow it: check the operators and brackets before it, or move a note after `#`"
            ),
        };
        Diagnostic::error(
            "E0001",
            self.ascii.span(at, at + tok.len().max(1)),
            format!("unexpected `{tok}` after the end of the statement"),
        )
        .with_label("not expected here")
        .with_hint(hint)
    }

    /// `at a = 2 b = 1`: the value `2 b` was read as a product and the statement ended
    /// at the second `=`; the mistake is the missing comma before the name `b` that the
    /// `=` sets, so the diagnostic points at that name (E0001), not at the `=`.
    pub(super) fn missing_comma(&self, start: usize, at: usize, first: &str) -> Option<Diagnostic> {
        let before = self.ascii.text[start..at].trim_end();
        let name_end = before.len();
        let name_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '^' | '{' | '}')
            })
            .last()
            .map(|(i, _)| i)?;
        let name = &before[name_start..name_end];
        let lead = before.len() - before.trim_start().len();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        // The name must follow a value on the same statement (`2 b`), not be the
        // statement's own first setting.
        let head = before[lead..name_start].trim_end();
        let settings = match first {
            "claim" => {
                let k = head.rfind(" given ").max(head.rfind(" at "))?;
                &head[k..]
            }
            _ => head.strip_prefix(first)?,
        };
        let value_end = head
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, ')' | ']' | '}' | '.'));
        if !settings.contains('=') || !value_end {
            return None;
        }
        let fixed = format!("{head}, {name}");
        let fixed: String = fixed.trim().chars().take(60).collect();
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + name_start, start + name_end),
                format!("`{name} = ...` starts a new setting, but there is no comma before `{name}`"),
            )
            .with_label("a comma is missing before this name")
            .with_hint(format!(
                "separate the settings with commas: write `{fixed} = ...` (without the comma, `{name}` was read as a factor of the value before it)"
            )),
        )
    }
}
