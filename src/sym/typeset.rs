//! How a name is typeset in LaTeX: the one place that decides it (issue #17). The
//! syntax tree's printer (`render/math.rs`: program lines, claims, the problem) and the
//! symbolic printer ([`super::to_latex`]: moments, answers, evidence) both call it, so a
//! name reads the same wherever the page shows it:
//! - a Greek word is its letter (`lambda` → `\lambda`, `Sigma` → `\Sigma`);
//! - `dx`/`DX` (an offset and the extent it ranges over) are `\Delta x`/`\Delta X`;
//! - one letter is itself, one letter or a Greek word followed by digits is subscripted
//!   (`v0` → `v_{0}`, `sigma2` → `\sigma_{2}`);
//! - a longer word is one italic word (`lam` → `\mathit{lam}`, never the product
//!   l·a·m), followed by digits subscripted (`lam2` → `\mathit{lam}_{2}`);
//! - `head_sub` subscripts the second part (`sigma_W` → `\sigma_{W}`), primes kept;
//! - a superscript label is an upright word (`relu` → `\mathrm{relu}`, [`label_latex`]).
//!
//! A symbol of the symbolic engines that is not one identifier (an element atom
//! `A.theta[0]`, `w[i]`, a label `y^{relu}_0`) is typeset word by word ([`name_latex`]):
//! each identifier as above, a field after `.` and a label inside `^{...}` upright, the
//! punctuation kept.

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "varepsilon",
    "vartheta",
    "varphi",
];

/// Upper-case Greek letters LaTeX has a command for.
const CAPITAL_GREEK: &[&str] = &[
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
];

fn greek(w: &str) -> Option<String> {
    (GREEK.contains(&w) || CAPITAL_GREEK.contains(&w)).then(|| format!("\\{w}"))
}

/// One word without `_`: see the module's rules.
pub fn word_latex(w: &str) -> String {
    if let Some(g) = greek(w) {
        return g;
    }
    let b = w.as_bytes();
    if b.len() == 2 && (b[0] == b'd' || b[0] == b'D') && b[1].is_ascii_alphabetic() {
        let second = b[1] as char;
        // `dx` ranges over `DX`: the seeds' Δx and ΔX.
        if (b[0] == b'd') == second.is_ascii_lowercase() {
            return format!("\\Delta {second}");
        }
    }
    if w.is_empty() || !w.chars().all(|c| c.is_ascii_alphanumeric()) {
        return format!("\\mathrm{{{}}}", escape_math_text(w));
    }
    let letters = w.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &w[letters.len()..];
    let head = if letters.is_empty() {
        // All digits: a number.
        return w.to_string();
    } else if letters.chars().count() == 1 {
        letters.to_string()
    } else if let Some(g) = greek(letters) {
        g
    } else if letters.chars().all(|c| c.is_ascii_alphabetic()) {
        format!("\\mathit{{{letters}}}")
    } else {
        // Digits inside the word (`x2y`): one italic word as written.
        return format!("\\mathit{{{w}}}");
    };
    if digits.is_empty() {
        head
    } else {
        format!("{head}_{{{digits}}}")
    }
}

/// A superscript label: a word (`relu`, `out`) is set upright, as a label and not a
/// product of letters; a letter or a Greek name as [`word_latex`] sets it.
pub fn label_latex(w: &str) -> String {
    let shown = word_latex(w);
    match shown.strip_prefix("\\mathit{") {
        Some(rest) => format!("\\mathrm{{{rest}"),
        None => shown,
    }
}

/// Text inside `\mathrm{...}` or `\text{...}`: LaTeX's special characters escaped, spaces
/// kept, anything else that is not printable ASCII shown as `?` (pdflatex has no glyph
/// for it in math).
pub fn escape_math_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '_' | '#' | '$' | '%' | '&' | '{' | '}' => format!("\\{c}"),
            '\\' => "\\backslash ".to_string(),
            '^' => "\\wedge ".to_string(),
            '~' => "\\sim ".to_string(),
            ' ' => " ".to_string(),
            c if c.is_ascii_graphic() => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

/// One identifier: [`word_latex`] of its parts, a trailing `_W` a subscript, primes kept.
pub fn ident_latex(name: &str) -> String {
    let primes = name.len() - name.trim_end_matches('\'').len();
    let base = name.trim_end_matches('\'');
    let (head, sub) = match base.split_once('_') {
        Some((h, s)) if !h.is_empty() && !s.is_empty() => (h, Some(s)),
        _ => (base, None),
    };
    let mut out = word_latex(head);
    if let Some(s) = sub {
        out = format!("{out}_{{{}}}", word_latex(s));
    }
    for _ in 0..primes {
        out.push('\'');
    }
    out
}

fn is_ident(s: &str) -> bool {
    let base = s.trim_end_matches('\'');
    !base.is_empty()
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && base.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// A symbol of the symbolic engines as LaTeX: an identifier by [`ident_latex`], anything
/// else (element atoms, labelled names) word by word.
pub fn name_latex(s: &str) -> String {
    if is_ident(s) {
        return ident_latex(s);
    }
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut k = 0;
    // Inside `^{...}`: labels, set upright.
    let mut label_depth: Option<usize> = None;
    let mut depth = 0usize;
    while k < chars.len() {
        let c = chars[k];
        if c.is_ascii_alphabetic() {
            let start = k;
            while k < chars.len() && chars[k].is_ascii_alphanumeric() {
                k += 1;
            }
            let w: String = chars[start..k].iter().collect();
            let after_dot = start > 0 && chars[start - 1] == '.';
            let called = chars.get(k) == Some(&'(');
            let shown = if called && w.chars().count() > 1 && greek(&w).is_none() {
                format!("\\operatorname{{{w}}}")
            } else if label_depth.is_some() || after_dot {
                label_latex(&w)
            } else {
                word_latex(&w)
            };
            out.push_str(&shown);
            continue;
        }
        match c {
            '{' => {
                depth += 1;
                if k > 0 && chars[k - 1] == '^' && label_depth.is_none() {
                    label_depth = Some(depth);
                }
                out.push('{');
            }
            '}' => {
                if label_depth == Some(depth) {
                    label_depth = None;
                }
                depth = depth.saturating_sub(1);
                out.push('}');
            }
            '#' | '$' | '%' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\backslash "),
            '~' => out.push_str("\\sim "),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
        k += 1;
    }
    // Unbalanced braces would break the page: the whole symbol upright instead.
    if out.matches('{').count() != out.matches('}').count() {
        return format!("\\mathrm{{{}}}", escape_math_text(s));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_name() {
        assert_eq!(ident_latex("v0"), "v_{0}");
        assert_eq!(ident_latex("lam"), "\\mathit{lam}");
        assert_eq!(ident_latex("lambda"), "\\lambda");
        assert_eq!(ident_latex("Lambda"), "\\Lambda");
        assert_eq!(ident_latex("sigma_W"), "\\sigma_{W}");
        assert_eq!(ident_latex("sigma2"), "\\sigma_{2}");
        assert_eq!(ident_latex("lam2"), "\\mathit{lam}_{2}");
        assert_eq!(ident_latex("yhat"), "\\mathit{yhat}");
        assert_eq!(ident_latex("dx"), "\\Delta x");
        assert_eq!(ident_latex("W'"), "W'");
        assert_eq!(label_latex("relu"), "\\mathrm{relu}");
        assert_eq!(name_latex("A.theta[0]"), "A.\\theta[0]");
        assert_eq!(name_latex("w[i]"), "w[i]");
        assert_eq!(name_latex("y^{relu}_0"), "y^{\\mathrm{relu}}_0");
        assert_eq!(name_latex("x.grad[b,i]"), "x.\\mathrm{grad}[b,i]");
        assert_eq!(name_latex("E(w[i])"), "E(w[i])");
        assert_eq!(name_latex("Var(h)"), "\\operatorname{Var}(h)");
        assert_eq!(name_latex("a{b"), "\\mathrm{a\\{b}");
    }
}

/// A base about to be raised to a power: braced when it already carries a superscript
/// or a prime outside any group (`\eta^{\mathrm{lr}}`, `s'_{0}`), where a second `^`
/// is TeX's "Double superscript" and no page is built (probe38/h k17); left as it is
/// otherwise (`x_{l}^{2}`, `\left(a + b\right)^{2}`, `{u}`).
pub fn power_base(base: &str) -> String {
    if has_top_superscript(base) {
        format!("{{{base}}}")
    } else {
        base.to_string()
    }
}

/// A base about to take a subscript: braced when it already carries one outside any
/// group (a second `_` is TeX's "Double subscript").
pub fn subscript_base(base: &str) -> String {
    if top_level(base).any(|c| c == '_') {
        format!("{{{base}}}")
    } else {
        base.to_string()
    }
}

/// Whether `^` or a prime stands outside every group of `s` (braces, and the
/// `\left ... \right` pairs, which TeX sets as one group).
pub fn has_top_superscript(s: &str) -> bool {
    top_level(s).any(|c| c == '^' || c == '\'')
}

/// The characters of `s` outside braces and `\left ... \right` pairs.
fn top_level(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut depth = 0usize;
    let mut rest = s;
    std::iter::from_fn(move || loop {
        if let Some(after) = rest.strip_prefix("\\left") {
            depth += 1;
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix("\\right") {
            depth = depth.saturating_sub(1);
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        let c = chars.next()?;
        rest = chars.as_str();
        match c {
            '\\' => {
                // A command's name (or an escaped character) is no script.
                let letters = rest
                    .find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(rest.len());
                let n = match rest.chars().next() {
                    Some(c) if letters == 0 => c.len_utf8(),
                    _ => letters,
                };
                rest = &rest[n..];
            }
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => return Some(c),
            _ => {}
        }
    })
}

#[cfg(test)]
mod script_tests {
    use super::*;

    #[test]
    fn a_base_with_a_superscript_or_prime_is_braced() {
        assert_eq!(power_base("\\eta^{\\mathrm{lr}}"), "{\\eta^{\\mathrm{lr}}}");
        assert_eq!(power_base("s'_{0}"), "{s'_{0}}");
        assert_eq!(power_base("x_{l}"), "x_{l}");
        assert_eq!(
            power_base("\\left(a^{2} + b\\right)"),
            "\\left(a^{2} + b\\right)"
        );
        assert_eq!(power_base("{a^{2}}"), "{a^{2}}");
        assert_eq!(subscript_base("W_{l}"), "{W_{l}}");
        assert_eq!(subscript_base("\\sigma"), "\\sigma");
    }
}
