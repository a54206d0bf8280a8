//! Prose with formulas in it, typeset: the engines' evidence, the moments engine's
//! notes, the gather form's notes, diagnostics and the file's description are English
//! text in which names and expressions are written in `.tq` notation (`Var(y_0) = 1`,
//! `W_{l + 1}`, `` `L_l.grad[b,x,y,i]` ``, `D^2*J`). [`prose`] splits such a text into
//! runs of text and runs of math; each formula is set from its `.tq` syntax tree in the
//! course's notation ([`super::math`]) when it parses as an expression, else symbol by
//! symbol ([`ascii_math`]), so that no `^`, `_` or `*` of the ASCII notation is left in
//! the prose.

use super::doc::Inline;
use super::math;
use crate::syntax::ast::{Expr, ItemKind};

/// Whitespace-separated words of the text, with their byte ranges; a word with an
/// unclosed `{` or `[` (`W_{l`, `+`, `1}`), or a call or tuple whose `(` closes a few
/// words later (`N(0,`, `sigma^2)`; `(−∞,`, `0)`), is one word.
fn words(s: &str) -> Vec<(usize, usize)> {
    let mut raw = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(a) = start.take() {
                raw.push((a, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(a) = start {
        raw.push((a, s.len()));
    }
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < raw.len() {
        let (a, mut b) = raw[k];
        let mut next = k + 1;
        if let Some((at, bracket)) = first_unclosed(&s[a..b]) {
            // `{` and `[` always close; a `(` of a call (`N(0,`) too; a `(` that opens
            // the word closes a tuple only across words that are no English words.
            let call = bracket != '(' || at > 0;
            let tuple_opens = call || kind(core(&s[a..b])) != Kind::Word;
            for (j, &(_, end)) in raw
                .iter()
                .enumerate()
                .take(raw.len().min(k + 25))
                .skip(k + 1)
            {
                if !tuple_opens || (!call && kind(core(&s[raw[j].0..end])) == Kind::Word) {
                    break;
                }
                if first_unclosed(&s[a..end]).is_none() {
                    b = end;
                    next = j + 1;
                    break;
                }
            }
        }
        out.push((a, b));
        k = next;
    }
    out
}

fn first_unclosed(w: &str) -> Option<(usize, char)> {
    let mut stack: Vec<(usize, char)> = Vec::new();
    for (i, c) in w.char_indices() {
        match c {
            '(' | '[' | '{' => stack.push((i, c)),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.first().copied()
}

/// Whether the `(` that opens `w` is closed by its last character.
fn closes_at_end(w: &str) -> bool {
    let mut depth = 0usize;
    for (i, c) in w.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1 == w.len();
                }
            }
            _ => {}
        }
    }
    false
}

fn count(w: &str, c: char) -> usize {
    w.chars().filter(|&x| x == c).count()
}

/// The word without the punctuation around it: a trailing `,;:.!?"`, a leading `"`, and
/// a parenthesis that belongs to the sentence (one not matched inside the word).
fn core(w: &str) -> &str {
    let mut w = w;
    loop {
        let before = w.len();
        w = w.trim_end_matches([',', ';', ':', '.', '!', '?', '"']);
        w = w.trim_start_matches('"');
        if w.ends_with(')') && count(w, ')') > count(w, '(') {
            w = &w[..w.len() - 1];
        }
        if w.starts_with('(') && count(w, '(') > count(w, ')') {
            w = &w[1..];
        }
        // A word in parentheses: `(exactly)`, `(docs/derivations.md)`.
        if w.starts_with('(') && w.ends_with(')') && w.len() > 2 && closes_at_end(w) {
            w = &w[1..w.len() - 1];
        }
        if w.len() == before {
            return w;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An operator between two terms (`=`, `+`, `≤`, `×`).
    Op,
    /// Certainly a formula (`Var(y_0)`, `D^2*J`, `[0,1]`).
    Formula,
    /// A name or a number: math when it stands next to a formula or an operator.
    Atom,
    /// An English word.
    Word,
}

const OPS: &[&str] = &[
    "=", "==", "+", "-", "−", "/", "*", "<", ">", "<=", ">=", "≤", "≥", "≈", "×", "·", "~", "∈",
    "≠", "!=", "->", "→",
];

const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
];

/// Words that never join a formula through an operator (`D^2*J × the variance`).
const STOP: &[&str] = &[
    "the", "a", "an", "of", "in", "is", "at", "to", "for", "with", "and", "or", "from", "by", "on",
    "as", "be", "each", "one", "it", "its", "are", "not", "no", "than", "when", "where", "which",
    "that", "this", "so", "if", "then", "all", "every", "any", "left", "right",
];

fn kind(w: &str) -> Kind {
    if w.is_empty() {
        return Kind::Word;
    }
    if OPS.contains(&w) {
        return Kind::Op;
    }
    // A word in parentheses (`(exactly)`, `(least)`).
    if let Some(inner) = w.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        if !inner.is_empty()
            && inner.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
            && inner.len() > 1
        {
            return Kind::Word;
        }
    }
    // A path (`docs/derivations.md`) or two words with a slash (`and/or`).
    if w.contains('/')
        && w.split('/').all(|p| {
            p.len() >= 3
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        })
    {
        return Kind::Word;
    }
    // A file name (`000_f22a5daa73b73d9a.txt`, `seed-problems.md`): text, not a name
    // with a subscript (probe 29: set as one math box 42 pt past the margin).
    if let Some((stem, ext)) = w.rsplit_once('.') {
        if matches!(
            ext,
            "txt" | "md" | "tq" | "py" | "json" | "tex" | "pdf" | "svg" | "csv" | "xml"
        ) && !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.'))
        {
            return Kind::Word;
        }
    }
    // A hyphenated word (`zero-mean`, `1.129-Lipschitz`, `x-term`).
    if let Some((_, tail)) = w.rsplit_once('-') {
        if tail.len() >= 3
            && tail.chars().all(|c| c.is_ascii_alphabetic())
            && !w.contains(['_', '^', '(', '[', '{', '=', '*'])
        {
            return Kind::Word;
        }
    }
    // `t-1`, `1..T`: an index expression.
    let offset = w.split_once(['-', '+']).is_some_and(|(l, r)| {
        l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && l.chars().all(|c| c.is_ascii_alphanumeric())
            && !r.is_empty()
            && r.chars().all(|c| c.is_ascii_digit())
    });
    if offset || w.contains("..") {
        return Kind::Formula;
    }
    if w.contains([
        '_', '^', '*', '=', '(', ')', '[', ']', '{', '}', '/', '+', '<', '>', '|', '≤', '≥', '≈',
        '∈', '×', '·', '−', '∞',
    ]) {
        return Kind::Formula;
    }
    let number = w.chars().all(|c| c.is_ascii_digit() || c == '.')
        && w.chars().next().is_some_and(|c| c.is_ascii_digit());
    let letters = w.trim_end_matches('\'');
    let name = letters.len() == 1 && letters.chars().all(|c| c.is_ascii_alphabetic())
        || GREEK.contains(&letters)
        || (letters.len() > 1
            && letters
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && letters[1..].chars().all(|c| c.is_ascii_digit()));
    if number || name {
        Kind::Atom
    } else {
        Kind::Word
    }
}

/// Whether an atom standing alone is set as math: a one-letter name (not the English
/// `a`, `A`, `I`), a Greek letter's name, a name with digits; not a number.
fn alone_is_math(w: &str) -> bool {
    !w.chars().next().is_some_and(|c| c.is_ascii_digit()) && !matches!(w, "a" | "A" | "I")
}

/// Prose with its formulas typeset.
pub fn prose(s: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    // Backquoted spans are names or expressions of the file.
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        plain(&rest[..open], &mut out);
        let code = &rest[open + 1..open + 1 + len];
        if code.trim().is_empty() {
            text(&mut out, code);
        } else {
            out.push(Inline::Math(formula(code)));
        }
        rest = &rest[open + 2 + len..];
    }
    plain(rest, &mut out);
    out
}

fn text(out: &mut Vec<Inline>, t: &str) {
    if t.is_empty() {
        return;
    }
    if let Some(Inline::Text(last)) = out.last_mut() {
        last.push_str(t);
    } else {
        out.push(Inline::Text(t.to_string()));
    }
}

fn plain(s: &str, out: &mut Vec<Inline>) {
    let ws = words(s);
    let cores: Vec<(usize, usize)> = ws
        .iter()
        .map(|&(a, b)| {
            let c = core(&s[a..b]);
            // `core` returns a subslice: its offset within the word.
            let off = c.as_ptr() as usize - s[a..b].as_ptr() as usize;
            (a + off, a + off + c.len())
        })
        .collect();
    let kinds: Vec<Kind> = cores.iter().map(|&(a, b)| kind(&s[a..b])).collect();
    let joins = |w: &str, k: Kind| match k {
        Kind::Word => w.chars().all(|c| c.is_ascii_alphanumeric()) && !STOP.contains(&w),
        _ => true,
    };
    // Whether word `j` and word `j + 1` belong to one formula.
    let linked = |j: usize| {
        let (a, b) = (kinds[j], kinds[j + 1]);
        // A sentence ends between them (`1:`, `0.4026,`).
        let tail = &s[cores[j].1..ws[j].1];
        if tail.contains([',', ';', ':', '.', '!', '?']) {
            return false;
        }
        let (wa, wb) = (
            &s[cores[j].0..cores[j].1],
            &s[cores[j + 1].0..cores[j + 1].1],
        );
        // A word that opens a parenthesis of the sentence (`+ (terms free of both)`).
        if b == Kind::Word && cores[j + 1].0 != ws[j + 1].0 {
            return false;
        }
        match (a, b) {
            (Kind::Op, _) => joins(wb, b),
            (_, Kind::Op) => joins(wa, a),
            (Kind::Formula | Kind::Atom, Kind::Formula | Kind::Atom) => true,
            _ => false,
        }
    };
    let mut pos = 0;
    let mut i = 0;
    while i < ws.len() {
        // A run starts at a name or a formula, or at a word an operator follows
        // (`left − right`, `min ≤ element`).
        let word_starts =
            kinds[i] == Kind::Word && i + 1 < ws.len() && kinds[i + 1] == Kind::Op && linked(i);
        if kinds[i] == Kind::Word && !word_starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < ws.len() && linked(j) {
            j += 1;
        }
        let next = j + 1;
        // No operator at either end.
        let (mut a, mut b) = (i, j);
        while a < b && kinds[a] == Kind::Op {
            a += 1;
        }
        while b > a && kinds[b] == Kind::Op {
            b -= 1;
        }
        let words_in = (a..=b).filter(|&k| kinds[k] != Kind::Op).count();
        let first = &s[cores[a].0..cores[a].1];
        let is_math = kinds[a] != Kind::Op
            && (words_in > 1 && (a..=b).any(|k| kinds[k] == Kind::Op || kinds[k] != Kind::Word)
                || kinds[a] == Kind::Formula
                || (kinds[a] == Kind::Atom && alone_is_math(first)));
        // An all-Word run cannot start here (it starts at a non-Word), but a run whose
        // words are English is left as text.
        if is_math {
            let (mut start, mut end) = (cores[a].0, cores[b].1);
            // The sentence's parenthesis that the formula needs: `(1 + e)^N`.
            let f = &s[start..end];
            if count(f, ')') > count(f, '(') && s[pos..start].ends_with('(') {
                start -= 1;
            }
            let f = &s[start..end];
            if count(f, '(') > count(f, ')') && s[end..].starts_with(')') {
                end += 1;
            }
            text(out, &s[pos..start]);
            out.push(Inline::Math(formula(&s[start..end])));
            pos = end;
        }
        i = next;
    }
    text(out, &s[pos..]);
}

/// A formula in `.tq` notation as LaTeX math: from its syntax tree when it parses as an
/// expression or a relation, else symbol by symbol.
pub fn formula(f: &str) -> String {
    if let Some(m) = huge_rational(f) {
        return m;
    }
    parsed(f).unwrap_or_else(|| ascii_math(f))
}

/// The most digits a number is set with in one piece: a longer one (an exact value of
/// 86 digits over 85, probe 30c f11 at `size L = 50`) ran 625 pt past the margin.
const LONG_DIGITS: usize = 24;

/// A whole number or a quotient of two with more than [`LONG_DIGITS`] digits: its
/// decimal value to 7 significant digits, then the exact value with a possible line
/// break after every 10 digits (`\allowbreak`). None for anything else.
fn huge_rational(f: &str) -> Option<String> {
    let f = f.trim();
    let (neg, body) = match f.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, f),
    };
    let (n, d) = body.split_once('/').unwrap_or((body, "1"));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if !digits(n) || !digits(d) || n.len().max(d.len()) <= LONG_DIGITS {
        return None;
    }
    // The leading digits of each as a float, and the powers of ten they leave out.
    let lead = |x: &str| -> (f64, i64) {
        let x = x.trim_start_matches('0');
        let x = if x.is_empty() { "0" } else { x };
        let k = x.len().min(17);
        (x[..k].parse::<f64>().unwrap_or(0.0), (x.len() - k) as i64)
    };
    let ((a, ea), (b, eb)) = (lead(n), lead(d));
    let mut exp = ea - eb;
    let mut v = if b == 0.0 { f64::NAN } else { a / b };
    if v.is_finite() && v != 0.0 {
        let shift = v.abs().log10().floor() as i64;
        v /= 10f64.powi(shift as i32);
        exp += shift;
    }
    let sign = if neg { "-" } else { "" };
    let approx = if !v.is_finite() {
        String::new()
    } else if v == 0.0 {
        "\\approx 0".to_string()
    } else if (-4..6).contains(&exp) {
        let x = v * 10f64.powi(exp as i32);
        let decimals = (6 - exp).clamp(0, 10) as usize;
        format!("\\approx {sign}{x:.decimals$}")
    } else {
        format!("\\approx {sign}{v:.6} \\cdot 10^{{{exp}}}")
    };
    let broken = |x: &str| -> String {
        let b = x.as_bytes();
        b.chunks(10)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\\allowbreak ")
    };
    let exact = if d == "1" {
        format!("{sign}{}", broken(n))
    } else {
        format!("{sign}{} / {}", broken(n), broken(d))
    };
    Some(if approx.is_empty() {
        exact
    } else {
        format!("{approx} \\; (= {exact})")
    })
}

fn parsed(f: &str) -> Option<String> {
    // `d F/d U` is a derivative, which the expression grammar reads as a quotient.
    if f.len() > 400 || f.contains(['\n', '#']) || f.contains("/d ") {
        return None;
    }
    let ascii: String = f
        .replace('−', "-")
        .replace('≤', "<=")
        .replace('≥', ">=")
        .replace('≈', "~=")
        .replace(['×', '·'], "*");
    if !ascii.is_ascii() {
        return None;
    }
    // A single `=` between two sides is an equation, read as the claim `==`.
    let rel = relation(&ascii);
    let src = if rel {
        format!("claim {}\n", equals_as_claim(&ascii))
    } else {
        format!("tq_shown = {ascii}\n")
    };
    let p = crate::syntax::parser::parse(&src);
    if !p.diagnostics.is_empty() || p.program.items.len() != 1 {
        return None;
    }
    match &p.program.items[0].kind {
        ItemKind::Claim(c) if rel && c.given.is_empty() && c.at.is_empty() && c.tol.is_none() => {
            matches!(c.body, Expr::Rel(..)).then(|| math::expr(&c.body))
        }
        ItemKind::Equation(eq) if !rel => Some(math::expr(&eq.rhs)),
        _ => None,
    }
}

fn relation(f: &str) -> bool {
    f.contains(['=', '<', '>'])
}

/// `a = b` → `a == b` (and `<=`, `>=`, `==` kept).
fn equals_as_claim(f: &str) -> String {
    let mut out = String::new();
    let b = f.as_bytes();
    for (i, c) in f.char_indices() {
        if c == '=' {
            let prev = i.checked_sub(1).map(|k| b[k]);
            let next = b.get(i + 1).copied();
            let lone =
                !matches!(prev, Some(b'=' | b'<' | b'>' | b'!' | b'~')) && next != Some(b'=');
            out.push_str(if lone { "==" } else { "=" });
        } else {
            out.push(c);
        }
    }
    out
}

/// A formula that does not parse, set symbol by symbol: names as the course writes them
/// (`sigma_W` → `\sigma_{W}`), `^`/`_` as scripts, `*` as `\cdot`, `<=` as `\le`, braces
/// and bars as symbols. Always valid LaTeX math.
pub fn ascii_math(f: &str) -> String {
    let chars: Vec<char> = f.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    lexical(&chars, &mut i, &mut out, None);
    out
}

/// Sets `chars[*i..]` until `until` (a closing brace of a script) or the end.
fn lexical(chars: &[char], i: &mut usize, out: &mut String, until: Option<char>) {
    while *i < chars.len() {
        let c = chars[*i];
        if Some(c) == until {
            return;
        }
        if c.is_ascii_alphabetic() {
            let start = *i;
            while *i < chars.len() && chars[*i].is_ascii_alphanumeric() {
                *i += 1;
            }
            let w: String = chars[start..*i].iter().collect();
            let call = matches!(chars.get(*i), Some('(' | '['));
            let shown = if call && w == "E" {
                "\\mathbb{E}".to_string()
            } else if call && w.len() > 1 && !GREEK.contains(&w.as_str()) {
                format!("\\operatorname{{{w}}}")
            } else {
                math::ident(&w)
            };
            out.push_str(&shown);
            while chars.get(*i) == Some(&'\'') {
                out.push('\'');
                *i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() {
            let start = *i;
            while *i < chars.len()
                && (chars[*i].is_ascii_digit()
                    || (chars[*i] == '.' && chars.get(*i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                *i += 1;
            }
            let m: String = chars[start..*i].iter().collect();
            // `2.21e-2` → 2.21 · 10^{-2}
            if matches!(chars.get(*i), Some('e' | 'E')) {
                let mut k = *i + 1;
                let sign = matches!(chars.get(k), Some('-' | '+'));
                if sign {
                    k += 1;
                }
                if chars.get(k).is_some_and(|d| d.is_ascii_digit()) {
                    let es = *i + 1;
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    let x: String = chars[es..k].iter().collect();
                    out.push_str(&format!("{m} \\cdot 10^{{{}}}", x.trim_start_matches('+')));
                    *i = k;
                    continue;
                }
            }
            out.push_str(&m);
            continue;
        }
        *i += 1;
        let next = chars.get(*i).copied();
        match c {
            '^' | '_' => script(c, chars, i, out),
            '*' => out.push_str(" \\cdot "),
            '<' if next == Some('=') => {
                *i += 1;
                out.push_str(" \\le ");
            }
            '>' if next == Some('=') => {
                *i += 1;
                out.push_str(" \\ge ");
            }
            '=' if next == Some('=') => {
                *i += 1;
                out.push('=');
            }
            '!' if next == Some('=') => {
                *i += 1;
                out.push_str(" \\ne ");
            }
            '-' if next == Some('>') => {
                *i += 1;
                out.push_str(" \\to ");
            }
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '|' => out.push_str("\\vert "),
            '~' => out.push_str(" \\sim "),
            '\\' => out.push_str("\\backslash "),
            '#' | '$' | '%' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '"' => {}
            c if c.is_ascii() => out.push(c),
            c => match (unicode_math(c), super::latin_text(c)) {
                (Some(m), _) => out.push_str(m),
                (None, Some(t)) => out.push_str(&format!("\\text{{{t}}}")),
                (None, None) => out.push('?'),
            },
        }
    }
}

/// `^{relu}`, `_0`, `^2`, `_{l + 1}` after a name or a bracket.
fn script(c: char, chars: &[char], i: &mut usize, out: &mut String) {
    let mut inner = String::new();
    match chars.get(*i) {
        Some('{') => {
            *i += 1;
            let start = *i;
            // A word label set upright (`^{relu}`).
            let mut k = start;
            while k < chars.len() && chars[k].is_ascii_alphabetic() {
                k += 1;
            }
            let label: String = chars[start..k].iter().collect();
            if c == '^' && chars.get(k) == Some(&'}') && label.len() > 1 {
                inner = math::label(&label);
                *i = k;
            } else {
                lexical(chars, i, &mut inner, Some('}'));
            }
            if chars.get(*i) == Some(&'}') {
                *i += 1;
            }
        }
        Some(d) if d.is_ascii_alphanumeric() => {
            let start = *i;
            while *i < chars.len() && chars[*i].is_ascii_alphanumeric() {
                *i += 1;
            }
            let mut k = 0;
            lexical(&chars[start..*i], &mut k, &mut inner, None);
        }
        Some(&d) if !d.is_whitespace() => {
            *i += 1;
            let one = [d];
            let mut k = 0;
            lexical(&one, &mut k, &mut inner, None);
        }
        _ => {
            // A lone `^` or `_` at the end: a symbol.
            out.push_str(if c == '^' { "\\hat{}" } else { "\\_" });
            return;
        }
    }
    out.push_str(&format!("{c}{{{}}}", inner.trim()));
}

/// The math of a Unicode symbol the reports write.
pub fn unicode_math(c: char) -> Option<&'static str> {
    Some(match c {
        '−' => "-",
        '×' => " \\times ",
        '·' => " \\cdot ",
        '≤' => " \\le ",
        '≥' => " \\ge ",
        '≈' => " \\approx ",
        '≠' => " \\ne ",
        '±' => " \\pm ",
        '→' => " \\to ",
        '←' => " \\leftarrow ",
        '∈' => " \\in ",
        '∞' => "\\infty ",
        '²' => "^{2}",
        '³' => "^{3}",
        '√' => "\\surd ",
        '∂' => "\\partial ",
        '∑' => "\\sum ",
        '…' => "\\dots ",
        '⊙' => " \\odot ",
        '∘' => " \\circ ",
        'Δ' => "\\Delta ",
        'Σ' => "\\Sigma ",
        'Φ' => "\\Phi ",
        'σ' => "\\sigma ",
        'χ' => "\\chi ",
        'μ' => "\\mu ",
        'η' => "\\eta ",
        'λ' => "\\lambda ",
        'α' => "\\alpha ",
        'β' => "\\beta ",
        'γ' => "\\gamma ",
        'ε' => "\\epsilon ",
        'θ' => "\\theta ",
        'π' => "\\pi ",
        'ρ' => "\\rho ",
        'δ' => "\\delta ",
        'ζ' => "\\zeta ",
        'ι' => "\\iota ",
        'κ' => "\\kappa ",
        'ν' => "\\nu ",
        'ξ' => "\\xi ",
        'ψ' => "\\psi ",
        'Γ' => "\\Gamma ",
        'Θ' => "\\Theta ",
        'Λ' => "\\Lambda ",
        'Π' => "\\Pi ",
        'Ψ' => "\\Psi ",
        'Ω' => "\\Omega ",
        'τ' => "\\tau ",
        'φ' => "\\phi ",
        'ω' => "\\omega ",
        'ℓ' => "\\ell ",
        '′' => "'",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maths(s: &str) -> Vec<String> {
        prose(s)
            .into_iter()
            .filter_map(|i| match i {
                Inline::Math(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    fn texts(s: &str) -> String {
        prose(s)
            .into_iter()
            .filter_map(|i| match i {
                Inline::Text(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_huge_exact_number_is_set_with_its_decimal_value_and_may_break() {
        // probe 30c f11 (`size L = 50`): (51/50)^50 exactly, 86 digits over 85.
        let n = "23906104021463695675944970232802506562109352795956288572339180887929402783866828065001";
        let d =
            "8881784197001252323389053344726562500000000000000000000000000000000000000000000000000";
        let m = maths(&format!("exact-eval: left {n}/{d}, right 672897/250000"));
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].starts_with("\\approx 2.691588 "), "{}", m[0]);
        // Every digit kept, in runs of at most ten between the places a line may break.
        let digits: String = m[0]
            .split("(= ")
            .nth(1)
            .unwrap()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        assert_eq!(digits, format!("{n}{d}"));
        assert!(m[0].split("\\allowbreak").all(|run| run
            .chars()
            .filter(|c| c.is_ascii_digit())
            .count()
            <= 20));
        // Short numbers and numbers far from 1 (scientific form) are set as before / with
        // their power of ten.
        assert_eq!(huge_rational("672897/250000"), None);
        let big = format!("-{}", "9".repeat(40));
        let h = huge_rational(&big).unwrap();
        assert!(h.starts_with("\\approx -1.000000 \\cdot 10^{40}"), "{h}");
        assert!(huge_rational(&format!("1/{}", "3".repeat(30)))
            .unwrap()
            .contains("10^{-30}"));
    }

    #[test]
    fn a_file_name_in_prose_is_text() {
        let t = texts("source: 000_f22a5daa73b73d9a.txt problem 2; seed-problems.md");
        assert!(t.contains("000_f22a5daa73b73d9a.txt"), "{t}");
        assert!(maths("source: 000_f22a5daa73b73d9a.txt").is_empty());
    }

    #[test]
    fn names_and_expressions_in_notes_are_math() {
        assert_eq!(
            maths("closed form, from Var(y^{relu}_0) = 1"),
            ["\\operatorname{Var}\\left(y^{\\mathrm{relu}}_{0}\\right) = 1"]
        );
        assert_eq!(
            texts("closed form, from Var(y_0) = 1"),
            "closed form, from "
        );
        assert_eq!(
            maths("a distinct zero-mean weight of W_{l + 1} in each): D^2*J × the variance"),
            ["W_{l+1}", "{D}^{2} \\cdot J"]
        );
        let t = texts("a distinct zero-mean weight of W_{l + 1} in each): D^2*J × the variance");
        assert!(t.contains("zero-mean weight of ") && t.contains(" × the variance"));
    }

    #[test]
    fn a_formula_that_does_not_parse_is_set_symbol_by_symbol() {
        let m = maths("positive when (the givens make it so): E[relu(y)] = E[|y|]/2 > 0");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            !m[0].contains('|'),
            "a bar breaks a Markdown table: {}",
            m[0]
        );
        assert!(m[0].contains("\\mathbb{E}") && m[0].contains("\\operatorname{relu}"));
        assert_eq!(ascii_math("{0,1}^n"), "\\{0,1\\}^{n}");
        assert_eq!(ascii_math("2.21e-2"), "2.21 \\cdot 10^{-2}");
    }

    #[test]
    fn english_stays_text() {
        for s in [
            "holds at 8 random points (exactly)",
            "zero-mean weights: the terms are uncorrelated",
            "a 1.129-Lipschitz function",
            "the h-term and the x-term",
        ] {
            assert!(maths(s).is_empty(), "{s}: {:?}", maths(s));
        }
        // A sentence's parenthesis stays text; the tuple and the call inside are math.
        let m = maths("left − right ∈ (−∞, 0) on the domains (exact range facts)");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("\\in") && m[0].contains("\\infty"),
            "{}",
            m[0]
        );
        for s in [
            "holds at all 2 elements of one sampled run (seed 0), relative tolerance 1e-9",
            "with its reasons (docs/derivations.md): a single unit",
            "1.6931 (error 0.3069)",
        ] {
            assert!(maths(s).is_empty(), "{s}: {:?}", maths(s));
        }
        // "left − right" names the two sides in English: it stays text.
        assert_eq!(
            maths("at k = 1: left 0.4026, right 0.0000; left − right = 0.4026 lies beyond"),
            ["k = 1"]
        );
        assert_eq!(maths("stands for t-1 of the scatter form"), ["t - 1"]);
        // A Greek letter of the engines' text is a symbol, not `?`.
        assert_eq!(
            crate::render::esc_text("shifted by δ"),
            "shifted by \\ensuremath{\\delta}"
        );
        let m = maths("the seeds' step (1 + e)^N ≈ exp(e N) for small e: sigma_W = 1");
        assert_eq!(
            m[0],
            "{\\left(1 + e\\right)}^{N} \\approx \\exp\\left(e \\, N\\right)"
        );
    }
}
