//! E0001/E0103 diagnostics for two slips met while recovering from a failed line: a
//! power on the left of a `sample` or `at` setting, a function applied with brackets.

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
        // The last `[` before the place that is not closed before it.
        let mut depth = 0i32;
        let mut open = None;
        for k in (start..off.min(end)).rev() {
            match b[k] {
                b']' => depth += 1,
                b'[' if depth == 0 => {
                    open = Some(k);
                    break;
                }
                b'[' => depth -= 1,
                _ => {}
            }
        }
        let open = open?;
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
}
