//! E0001 for a line that failed because it was written in another notation: LaTeX
//! commands (`\sigma`, `\frac{1}{I}`, `\cdot`), slices (`x[b, :]`), Python's
//! `range(...)`, a second index list (`W[j][I]`), a derivative of a derivative, a
//! claim's condition after a word other than `given` (`where`, `if`, ...), a claim's
//! settings before its relation, and a `given` line of its own. Each is reported once, at
//! the place the other notation starts, with the author's line rewritten in tq's (the
//! rewritten line is one tq reads: tests/new_author/).

use super::tokens::Ctx;
use crate::diag::Diagnostic;
use crate::syntax::lines::Line;

/// The words of other notations that introduce a claim's conditions, where tq writes
/// `given`.
const CONDITION_WORDS: &[&str] = &[
    "where", "when", "if", "with", "assuming", "provided", "for", "s.t.",
];

impl Ctx<'_> {
    /// The first slip of another notation in a line that failed, if any.
    pub(super) fn notation_slip(&self, line: &Line) -> Option<Diagnostic> {
        let text = self.ascii.text.get(line.start..line.end)?;
        self.latex_command(line.start, text)
            .or_else(|| self.given_line(line.start, text))
            .or_else(|| self.python_range(line.start, text))
            .or_else(|| self.python_sum(line.start, text))
            .or_else(|| self.slice_position(line.start, text))
            .or_else(|| self.claim_limit(line.start, text))
            .or_else(|| self.claim_condition(line.start, text))
            .or_else(|| self.setting_before_relation(line.start, text))
    }

    /// `W[j][I]` (failed at the second `[`, `off`): one pair of brackets holds every index.
    pub(super) fn chained_index(&self, start: usize, off: usize, end: usize) -> Diagnostic {
        let text = &self.ascii.text;
        let head = text[start..off].trim_end_matches(']');
        let name_start = head
            .rfind('[')
            .map(|k| {
                head[..k]
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| {
                        c.is_ascii_alphanumeric() || matches!(c, '_' | '{' | '}' | '\'' | '.')
                    })
                    .last()
                    .map_or(k, |(n, _)| n)
            })
            .unwrap_or(0);
        let first = &head[name_start..];
        let close = text[off..end].find(']').map_or(end, |k| off + k);
        let second = text[(off + 1).min(close)..close].trim();
        let whole = format!("{first},{second}]");
        let written = &text[start + name_start..(close + 1).min(end)];
        Diagnostic::error(
            "E0001",
            self.ascii.span(off, (close + 1).min(end)),
            format!("`{written}`: a second pair of brackets after the indices"),
        )
        .with_label("a second index list")
        .with_hint(format!(
            "the indices of a tensor go in one pair of brackets, separated by commas: `{whole}`"
        ))
    }

    /// `d(d(u)/d(a))/d(a)` (failed at the inner `d(`, `off`): tq takes a derivative of a
    /// named value; the first derivative is named by an equation and differentiated.
    pub(super) fn nested_deriv(&self, start: usize, off: usize, end: usize) -> Diagnostic {
        let text = &self.ascii.text;
        // The inner derivative: `d(u)/d(a)`, up to its second `)`.
        let rest = &text[off..end];
        let mut closes = rest.match_indices(')').map(|(k, _)| k);
        let inner_end = closes.nth(1).map_or(end, |k| off + k + 1);
        let inner = &text[off..inner_end];
        let num = inner
            .get(2..)
            .and_then(|s| s.split(')').next())
            .unwrap_or("u")
            .trim();
        let base: String = num
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let name = self.fresh_name(&format!("d{base}"));
        let line = text[start..end].trim();
        let rewritten = format!("{}{name}{}", &text[start..off], &text[inner_end..end]);
        let rewritten = rewritten.trim();
        Diagnostic::error(
            "E0001",
            self.ascii.span(off, inner_end),
            "a derivative of a derivative: tq differentiates a named value, `d(u)/d(a)`",
        )
        .with_label("the first derivative")
        .with_hint(if line.starts_with("claim") {
            format!(
                "name the first derivative with an equation and differentiate that: `{name} = {inner}` on a line before, then `{rewritten}`"
            )
        } else {
            format!(
                "name the first derivative with an equation of its own (`{name} = {inner}`) and differentiate that: `{rewritten}`"
            )
        })
    }

    /// A name not yet used in the file: `want`, else `want` with a number.
    fn fresh_name(&self, want: &str) -> String {
        let used = |n: &str| {
            self.ascii.text.match_indices(n).any(|(k, _)| {
                let b = self.ascii.text.as_bytes();
                let before = k.checked_sub(1).map(|j| b[j]);
                let after = b.get(k + n.len()).copied();
                let part =
                    |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
                !part(before) && !part(after)
            })
        };
        if !used(want) {
            return want.to_string();
        }
        (2..)
            .map(|k| format!("{want}{k}"))
            .find(|n| !used(n))
            .unwrap_or_else(|| want.to_string())
    }

    /// A LaTeX command (`\sigma`, `\frac{1}{I}`, `\cdot`): the line rewritten in tq's
    /// notation (Greek letters and functions by name, products side by side, `a/b`).
    fn latex_command(&self, start: usize, text: &str) -> Option<Diagnostic> {
        let k = text.find('\\')?;
        let cmd: String = text[k + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let (rewritten, ok) = from_latex(text);
        let rewritten = rewritten.split_whitespace().collect::<Vec<_>>().join(" ");
        let hint = if ok {
            format!(
                "write it in tq's notation (Greek letters and functions by name, a product side by side or with `*`, a fraction with `/`): `{rewritten}`"
            )
        } else {
            "write it in tq's notation: Greek letters and functions by name (`sigma`, `sqrt(x)`), a product side by side or with `*`, a fraction with `/` (docs/language.md)".to_string()
        };
        let shown = if cmd.is_empty() {
            "\\".to_string()
        } else {
            format!("\\{cmd}")
        };
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + k, start + k + shown.len()),
                format!("`{shown}` is LaTeX, not .tq"),
            )
            .with_label("a LaTeX command")
            .with_hint(hint),
        )
    }

    /// `given ...` on a line of its own: the givens belong to a claim, after its
    /// relation; the hint joins them to the claim before or after the line.
    fn given_line(&self, start: usize, text: &str) -> Option<Diagnostic> {
        let givens = text.trim_end();
        if !givens.starts_with("given ") {
            return None;
        }
        let all = &self.ascii.text;
        let prev = all[..start]
            .trim_end()
            .rsplit(['\n', '\r'])
            .next()
            .map(str::trim)
            .filter(|l| l.starts_with("claim "));
        let next = all[start + text.len()..]
            .trim_start()
            .split(['\n', '\r'])
            .next()
            .map(str::trim)
            .filter(|l| l.starts_with("claim "));
        let hint = match (prev, next) {
            (Some(c), _) if !c.contains(" given ") => format!(
                "`given` continues a claim: write it on the claim's line, `{c} {givens}` (or indent this line under the claim)"
            ),
            (_, Some(c)) if !c.contains(" given ") => format!(
                "`given` follows a claim's relation, on the claim's line: `{c} {givens}`"
            ),
            _ => "`given` follows a claim's relation, on the claim's line: `claim Var(y) == 1 given sigma^2 = 1/I`".to_string(),
        };
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start, start + "given".len()),
                "`given` on a line of its own: the givens belong to a claim",
            )
            .with_label("not a statement")
            .with_hint(hint),
        )
    }

    /// `for l in range(L):` (Python): a range is written `0..L-1`, both ends included.
    fn python_range(&self, start: usize, text: &str) -> Option<Diagnostic> {
        if !text.starts_with("for ") {
            return None;
        }
        let k = text.find(" in range(")? + " in ".len();
        let args_start = k + "range(".len();
        let close = text[args_start..].find(')')? + args_start;
        let args = &text[args_start..close];
        let (from, to) = match args.split_once(',') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => ("0", args.trim()),
        };
        if to.is_empty() || to.contains(',') {
            return None;
        }
        let last = last_of(to);
        let range = format!("{from}..{last}");
        let head = text[..k].trim_end();
        let tail = text[close + 1..].trim();
        let fixed = format!("{head} {range}{tail}");
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + k, close + 1 + start),
                format!("`{}` is Python: a range in tq is written with two dots", &text[k..=close]),
            )
            .with_label("expected a range `a..b`")
            .with_hint(format!(
                "a range is written with two dots, both ends included: `range({args})` is `{range}` (`{fixed}`)"
            )),
        )
    }

    /// `sum(W[j,i] x[b,i] for i in I)` (Python's generator): a sum names its indices
    /// as a subscript, `sum_{i}(...)`.
    fn python_sum(&self, start: usize, text: &str) -> Option<Diagnostic> {
        let open = text.find("sum(")?;
        if open > 0 && text.as_bytes()[open - 1].is_ascii_alphanumeric() {
            return None;
        }
        let body_start = open + "sum(".len();
        let mut depth = 1usize;
        let close = text[body_start..].char_indices().find_map(|(k, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(body_start + k)
        })?;
        let inside = &text[body_start..close];
        let f = inside.find(" for ")?;
        let (value, clause) = (&inside[..f], &inside[f + " for ".len()..]);
        let (var, _) = clause.split_once(" in ")?;
        let var = var.trim();
        if var.is_empty()
            || !var
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ',' || c == ' ' || c == '\'')
        {
            return None;
        }
        let vars = var.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        let fixed = format!(
            "{}sum_{{{vars}}}({}){}",
            &text[..open],
            value.trim(),
            &text[close + 1..]
        );
        let fixed = fixed.split_whitespace().collect::<Vec<_>>().join(" ");
        let at = body_start + f + 1;
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + at, start + at + "for".len()),
                "`sum(... for ...)` is Python: a sum in tq names its indices as a subscript",
            )
            .with_label("a generator")
            .with_hint(format!(
                "write the indices the sum runs over after `sum_`: `{fixed}` (a capital also sums: `x[b,I]` is `sum_{{i}}(x[b,i])`)"
            )),
        )
    }

    /// `x[b, :]`, `x[b, 0:2]`: a slice in an index list. tq names every position; a
    /// capital sums over its dimension.
    fn slice_position(&self, start: usize, text: &str) -> Option<Diagnostic> {
        let b = text.as_bytes();
        let mut opens: Vec<usize> = Vec::new();
        let mut colon = None;
        for (k, &c) in b.iter().enumerate() {
            match c {
                b'[' => opens.push(k),
                b']' => {
                    opens.pop();
                }
                b':' if !opens.is_empty() => {
                    colon = Some((k, *opens.last()?));
                    break;
                }
                _ => {}
            }
        }
        let (k, open) = colon?;
        // The tensor's name before the bracket, and which position holds the slice.
        let name = super::names::name_ending(&text[..open]).to_string();
        let position = text[open + 1..k].matches(',').count();
        let close = text[k..].find(']').map_or(text.len(), |j| k + j);
        let positions: Vec<&str> = text[open + 1..close].split(',').map(str::trim).collect();
        // The index of that dimension: its size's letter in the tensor's declaration.
        let index = self
            .declared_shape(&name)
            .and_then(|shape| shape.get(position).cloned())
            .filter(|s| {
                s.chars().all(|c| c.is_ascii_alphanumeric())
                    && s.starts_with(|c: char| c.is_ascii_uppercase())
            })
            .unwrap_or_else(|| "I".to_string());
        let with = |p: &str| {
            let mut ps = positions.clone();
            if let Some(x) = ps.get_mut(position) {
                *x = p;
            }
            format!("{name}[{}]", ps.join(","))
        };
        let lower = index.to_lowercase();
        let hint = format!(
            "tq has no slices: every position is named; write the index of that dimension, `{}` (one element), or its capital, `{}` (the sum over it; `{} / {index}` is the mean)",
            with(&lower),
            with(&index),
            with(&index)
        );
        let slice_end = k + text[k..].find([',', ']']).unwrap_or(text.len() - k);
        let slice_start = text[..k].rfind(['[', ',']).map_or(k, |j| j + 1);
        let slice_start =
            slice_start + (text[slice_start..k].len() - text[slice_start..k].trim_start().len());
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii
                    .span(start + slice_start, start + slice_end.max(slice_start + 1)),
                format!(
                    "`{}` is a slice: an index position names one index",
                    text[slice_start..slice_end].trim()
                ),
            )
            .with_label("a slice")
            .with_hint(hint),
        )
    }

    /// The sizes of the shape `name` is declared with (`input x[B, I] ...`), read off
    /// the text of the file.
    fn declared_shape(&self, name: &str) -> Option<Vec<String>> {
        if name.is_empty() {
            return None;
        }
        self.ascii.text.lines().find_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("input ")
                .or_else(|| l.strip_prefix("param "))?
                .trim_start();
            let rest = rest.strip_prefix(name)?.strip_prefix('[')?;
            let shape = rest.split(']').next()?;
            Some(shape.split(',').map(|s| s.trim().to_string()).collect())
        })
    }

    /// `claim Var(y) / I == s given I -> infinity`: a limit as a given. tq has no limits;
    /// a claim is decided for every value of the name, so the condition is dropped (the
    /// hint used to read `->` as a `-` with nothing after it, and its fix was E0501).
    fn claim_limit(&self, start: usize, text: &str) -> Option<Diagnostic> {
        if !text.starts_with("claim ") {
            return None;
        }
        let body = text.split('#').next().unwrap_or(text);
        let given = body.find(" given ")?;
        let arrow = given + body[given..].find("->")?;
        let list = &body[given + " given ".len()..];
        let kept: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.contains("->"))
            .collect();
        let fixed = if kept.is_empty() {
            body[..given].trim_end().to_string()
        } else {
            format!("{} given {}", body[..given].trim_end(), kept.join(", "))
        };
        let limit = list
            .split(',')
            .map(str::trim)
            .find(|c| c.contains("->"))
            .unwrap_or("->");
        let name = limit.split("->").next().unwrap_or("").trim();
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + arrow, start + arrow + 2),
                "`->` is not a relation in .tq: a claim has no limits",
            )
            .with_label("a limit")
            .with_hint(format!(
                "a claim is decided for every value of `{name}`, so `{limit}` is not needed: drop it, `{fixed}`; for a large value, write it as a given (`{name} = 1000`)"
            )),
        )
    }

    /// `claim Var(y) == 1 where sigma^2 = 1/I`: a claim's conditions introduced by a
    /// word of another notation (`where`, `if`, `when`, ...), where tq writes `given`.
    fn claim_condition(&self, start: usize, text: &str) -> Option<Diagnostic> {
        if !text.starts_with("claim ") {
            return None;
        }
        let rel = ["==", "<=", ">=", "~=", "<", ">"]
            .iter()
            .filter_map(|r| text.find(r))
            .min()?;
        let after = &text[rel..];
        let (k, w) = after.char_indices().find_map(|(k, _)| {
            let boundary = after[..k].ends_with(' ');
            CONDITION_WORDS
                .iter()
                .find(|w| boundary && after[k..].starts_with(&format!("{w} ")))
                .map(|w| (k, *w))
        })?;
        let at = rel + k;
        let rest = text[at + w.len()..].trim();
        // `for all I`, `for every sigma > 0`: the quantifier says nothing (a claim holds
        // for every value of its sizes and symbols); what follows it, if anything but
        // the names, is a condition (session 32: the hint wrote `given all I`, E0501).
        let quantified = ["all ", "every ", "each ", "any "]
            .iter()
            .find_map(|q| rest.strip_prefix(q))
            .map(str::trim);
        let names_only = |r: &str| {
            r.split(',').all(|n| {
                !n.trim().is_empty()
                    && n.trim()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        };
        let (fixed, said) = match quantified {
            Some(r) if names_only(r) => (
                text[..at].to_string(),
                "a claim holds for every value of its sizes and symbols, so a quantifier after its relation says nothing: drop it".to_string(),
            ),
            Some(r) => (
                format!("{}given {}", &text[..at], conditions_as_givens(r)),
                "a claim holds for every value of its sizes and symbols; its conditions follow `given`, after its relation".to_string(),
            ),
            None => (
                format!("{}given {}", &text[..at], conditions_as_givens(rest)),
                "a claim's conditions follow `given`, after its relation".to_string(),
            ),
        };
        let fixed = fixed.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + at, start + at + w.len()),
                format!("`{w}` does not introduce a claim's conditions in .tq"),
            )
            .with_label(if said.ends_with("drop it") {
                "drop it"
            } else {
                "write `given`"
            })
            .with_hint(format!("{said}: `{fixed}`")),
        )
    }

    /// `claim u at a = 1 == 1 + b`: the claim's settings written before its relation;
    /// `at` and `given` follow the relation.
    fn setting_before_relation(&self, start: usize, text: &str) -> Option<Diagnostic> {
        if !text.starts_with("claim ") {
            return None;
        }
        let rel = ["==", "<=", ">=", "~="]
            .iter()
            .filter_map(|r| text.find(r))
            .min()?;
        let head = &text[..rel];
        let (k, w) = [" at ", " given "]
            .iter()
            .filter_map(|w| head.find(w).map(|k| (k + 1, w.trim())))
            .min()?;
        let before = head[..k].trim_end();
        let fixed = if before == "claim" {
            // `claim given I == 4: Var(y) == 4 s^2`: the settings come first, with a
            // relation of their own; they end at a `:`, else after the first relation's
            // right operand.
            let from = k + w.len();
            let (settings, body) = match text[from..].split_once(':') {
                Some((s, b)) => (s.trim(), b.trim()),
                None => {
                    // The givens' own relation: the first `<`, `>`, `=` or `~` after them.
                    let first = text[from..].find(['=', '<', '>', '~'])? + from;
                    let r = &text[first..];
                    let operand = r.trim_start_matches(['=', '<', '>', '~']).trim_start();
                    let end = operand.find(' ').unwrap_or(operand.len());
                    let cut = text.len() - operand.len() + end;
                    (text[from..cut].trim(), text[cut..].trim())
                }
            };
            format!("claim {body} {w} {settings}")
        } else {
            let settings = head[k..].trim();
            format!("{before} {} {settings}", text[rel..].trim())
        };
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(start + k, start + k + w.len()),
                format!("`{w}` before the claim's relation"),
            )
            .with_label("settings come after the relation")
            .with_hint(format!(
                "a claim states its relation first, then `given` and `at`: `{fixed}`"
            )),
        )
    }
}

/// A claim's conditions written in another notation, as tq's givens: `l in 2..L` is
/// `l >= 2, l <= L` (an index set has no `in` in a claim); the rest as written.
fn conditions_as_givens(conditions: &str) -> String {
    conditions
        .split(',')
        .map(|c| {
            let c = c.trim();
            match c
                .split_once(" in ")
                .and_then(|(v, r)| Some((v, r.split_once("..")?)))
            {
                Some((v, (from, to)))
                    if !v.trim().is_empty() && !from.trim().is_empty() && !to.trim().is_empty() =>
                {
                    format!(
                        "{} >= {}, {} <= {}",
                        v.trim(),
                        from.trim(),
                        v.trim(),
                        to.trim()
                    )
                }
                _ => c.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The last value of Python's `range(.., to)`: `to - 1`, written without `+1 - 1`.
fn last_of(to: &str) -> String {
    if let Ok(n) = to.parse::<i64>() {
        return (n - 1).to_string();
    }
    let t = to.replace(' ', "");
    if let Some(base) = t.strip_suffix("+1") {
        return base.to_string();
    }
    if let Some((base, k)) = t.rsplit_once('+') {
        if let Ok(k) = k.parse::<i64>() {
            return format!("{base}+{}", k - 1);
        }
    }
    format!("{t}-1")
}

/// A line of LaTeX rewritten in tq's notation, and whether every command was known.
fn from_latex(text: &str) -> (String, bool) {
    let mut out = String::new();
    let mut ok = true;
    let mut rest = text;
    while let Some(k) = rest.find('\\') {
        out.push_str(&rest[..k]);
        rest = &rest[k + 1..];
        let cmd: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        rest = &rest[cmd.len()..];
        match cmd.as_str() {
            "cdot" | "times" => out.push_str(" * "),
            "left" | "right" | "" => {
                // `\,` `\;` `\!` spacing, and `\left(`, `\right)`.
                if cmd.is_empty() && rest.starts_with([',', ';', '!', ' ']) {
                    rest = &rest[1..];
                    out.push(' ');
                }
            }
            "frac" | "dfrac" | "tfrac" => match (braced(rest), braced_after(rest)) {
                (Some(a), Some((b, used))) => {
                    let a = from_latex(a);
                    let b = from_latex(b);
                    ok &= a.1 && b.1;
                    out.push_str(&format!("({}/{})", grouped(&a.0), grouped(&b.0)));
                    rest = &rest[used..];
                }
                _ => ok = false,
            },
            "sqrt" => match braced(rest) {
                Some(a) => {
                    let used = a.len() + 2;
                    let a = from_latex(a);
                    ok &= a.1;
                    out.push_str(&format!("sqrt({})", a.0.trim()));
                    rest = &rest[used..];
                }
                None => out.push_str("sqrt"),
            },
            "mathrm" | "operatorname" | "text" | "mathbb" => match braced(rest) {
                Some(a) => {
                    out.push_str(a);
                    rest = &rest[a.len() + 2..];
                }
                None => ok = false,
            },
            c if GREEK.contains(&c) || FUNCTIONS.contains(&c) => out.push_str(c),
            "varepsilon" => out.push_str("epsilon"),
            "varphi" => out.push_str("phi"),
            "sum" => out.push_str("sum"),
            "le" | "leq" => out.push_str(" <= "),
            "ge" | "geq" => out.push_str(" >= "),
            "approx" => out.push_str(" ~= "),
            _ => {
                ok = false;
                out.push_str(&cmd);
            }
        }
    }
    out.push_str(rest);
    (out, ok)
}

/// The Greek letters tq reads by name.
const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda", "mu",
    "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Gamma", "Lambda",
    "Theta", "Phi", "Psi", "Omega",
];
/// The LaTeX function names that are tq functions of the same name.
const FUNCTIONS: &[&str] = &["exp", "log", "ln", "tanh"];

/// The text between the braces that open `s` (`{1}{I}` gives `1`).
fn braced(s: &str) -> Option<&str> {
    let s2 = s.strip_prefix('{')?;
    let mut depth = 1;
    for (k, c) in s2.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s2[..k]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The second braced group of `s` and the bytes both groups take.
fn braced_after(s: &str) -> Option<(&str, usize)> {
    let first = braced(s)?.len() + 2;
    let second = braced(&s[first..])?;
    Some((second, first + second.len() + 2))
}

/// `a` as an operand of `/`: in parentheses unless it is one name or number.
fn grouped(a: &str) -> String {
    let a = a.trim();
    if a.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '^'))
    {
        a.to_string()
    } else {
        format!("({a})")
    }
}
