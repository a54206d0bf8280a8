//! E0001/E0103 diagnostics for slips met while recovering from a failed line: a
//! power on the left of a `sample` or `at` setting, a function applied with brackets,
//! an index position in parentheses.

use super::tokens::Ctx;
use crate::diag::Diagnostic;

impl Ctx<'_> {
    /// E0001 at `^` in a `sample` or `at` setting (`sigma^2 = 0.5`): a setting gives a
    /// name its value; the hint writes the value of the name itself, the root of the
    /// power's (`sigma = sqrt(0.5)`; a claim's `given sigma^2 = 0.5` sets the power).
    pub(super) fn set_power(&self, start: usize, off: usize, end: usize) -> Diagnostic {
        let text = &self.ascii.text;
        let name = super::names::name_ending(text[start..off].trim_end());
        let rest = &text[off..end];
        let power: String = rest[1..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let value = rest
            .split_once('=')
            .map(|(_, v)| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty() && !v.contains('#'));
        let root = match (power.as_str(), value) {
            ("2", Some(v)) => format!("`{name} = sqrt({v})`"),
            (p, Some(v)) if !p.is_empty() => format!("`{name} = ({v})^(1/{p})`"),
            _ => format!("`{name} = ...`"),
        };
        let caret_end = off + 1 + rest[1..].len() - rest[1..].trim_start().len() + power.len();
        Diagnostic::error(
            "E0001",
            self.ascii.span(off, caret_end.min(end)),
            format!("`{name}^{power}` on the left of a setting: a `sample` or `at` line sets a name, not a power of it"),
        )
        .with_label("a power of the name")
        .with_hint(format!(
            "set the name itself: {root} (in a claim, `given {name}^{power} = ...` sets the power)"
        ))
    }

    /// E0103 for a function applied with brackets whose argument is not an index list
    /// (`relu[W[j,I] x[b,I]]`): the error is inside the brackets, the mistake is the
    /// bracket after the function's name. (An argument that parses as an index, as in
    /// `relu[x[b,j]]`, reaches the checker, which reports the same.)
    pub(super) fn function_in_brackets(
        &self,
        start: usize,
        off: usize,
        end: usize,
    ) -> Option<Diagnostic> {
        let text = &self.ascii.text;
        let b = text.as_bytes();
        let open = unclosed_bracket(b, start, off.min(end))?;
        let name_start = text[start..open]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            .last()
            .map(|(k, _)| start + k)?;
        let name = &text[name_start..open];
        crate::sym::func::model_function(name)?;
        // The argument: up to the matching `]` on the line, if there is one.
        let mut depth = 0i32;
        let mut close = None;
        for (k, &c) in b.iter().enumerate().take(end).skip(open) {
            match c {
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(k);
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = match close {
            Some(c) => format!("`{name}({})`", &text[open + 1..c]),
            None => format!("`{name}(...)`"),
        };
        Some(
            Diagnostic::error(
                "E0103",
                self.ascii.span(name_start, open),
                format!("`{name}` is a function, applied with brackets: `[...]` indexes a tensor"),
            )
            .with_label("a function call takes parentheses")
            .with_hint(format!("call it with parentheses: {call}")),
        )
    }

    /// E0001 at the `(` that opens an index position (`x[b, (i)]`, `x[(b), i]`,
    /// `x[b, (t+1)]`): a position takes no parentheses, and the parser stopped at the
    /// comma before it (or after it), which it then named as the offending token (probe
    /// 30b h04). The diagnostic points at the parenthesis; the hint writes the position
    /// without it when the parentheses enclose the whole position.
    pub(super) fn parenthesized_position(
        &self,
        start: usize,
        off: usize,
        end: usize,
    ) -> Option<Diagnostic> {
        let text = &self.ascii.text;
        let b = text.as_bytes();
        let off = off.min(end);
        let open = unclosed_bracket(b, start, off)?;
        // The name before it: an index list belongs to a tensor.
        if !open.checked_sub(1).is_some_and(|k| {
            k >= start && (b[k].is_ascii_alphanumeric() || matches!(b[k], b'_' | b'\'' | b'}'))
        }) {
            return None;
        }
        // The positions of the list, split at its own commas, up to its `]`.
        let (mut round, mut square) = (0i32, 0i32);
        let mut from = open + 1;
        let mut positions = Vec::new();
        let mut close = None;
        for (k, &c) in b.iter().enumerate().take(end).skip(open + 1) {
            match c {
                b'(' => round += 1,
                b')' => round -= 1,
                b'[' => square += 1,
                b']' if square == 0 && round <= 0 => {
                    positions.push((from, k));
                    close = Some(k);
                    break;
                }
                b']' => square -= 1,
                b',' if square == 0 && round == 0 => {
                    positions.push((from, k));
                    from = k + 1;
                }
                _ => {}
            }
        }
        let close = close?;
        if off > close {
            return None;
        }
        let (p, q) = positions
            .into_iter()
            .find(|&(p, q)| text[p..q].trim_start().starts_with('('))?;
        let paren = p + (text[p..q].len() - text[p..q].trim_start().len());
        // The `)` matching it, and whether it ends the position.
        let mut depth = 0i32;
        let matching = (paren..q).find(|&k| {
            match b[k] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            depth == 0
        });
        let whole = matching.filter(|&m| text[m + 1..q].trim().is_empty());
        let name_start = text[start..open]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '{' | '}'))
            .last()
            .map_or(open, |(k, _)| start + k);
        let hint = match whole {
            Some(m) => {
                let mut inner = text[paren + 1..m].trim();
                // `((b+1))`: every pair that encloses the whole position.
                while let Some(x) = inner.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
                    let mut depth = 0i32;
                    let balanced = x.chars().all(|c| {
                        depth += match c {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        depth >= 0
                    });
                    if !balanced || depth != 0 {
                        break;
                    }
                    inner = x.trim();
                }
                let fixed = format!(
                    "{}{}{}{}",
                    &text[name_start..paren],
                    inner,
                    &text[m + 1..close],
                    "]"
                );
                format!(
                    "an index position is written without parentheses: `{}`",
                    fixed.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            }
            None => "an index position is written without parentheses: a position is a sum of whole multiples of indices, sizes and symbols plus a whole number (`t`, `t-1`, `2t+1`, `x+DX`)".to_string(),
        };
        Some(
            Diagnostic::error(
                "E0001",
                self.ascii.span(paren, paren + 1),
                "an index position in parentheses".to_string(),
            )
            .with_label("a position takes no parentheses")
            .with_hint(hint),
        )
    }
}

/// The last `[` in `b[start..off]` that is not closed before `off`.
fn unclosed_bracket(b: &[u8], start: usize, off: usize) -> Option<usize> {
    let mut depth = 0i32;
    for k in (start..off).rev() {
        match b[k] {
            b']' => depth += 1,
            b'[' if depth == 0 => return Some(k),
            b'[' => depth -= 1,
            _ => {}
        }
    }
    None
}
