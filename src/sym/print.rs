//! Printing in three syntaxes: ASCII for computer algebra systems (explicit `*` and
//! `^`), the course's notation (juxtaposition, superscripts, Greek letters), LaTeX.

use super::Expr;
use num_rational::BigRational;
use num_traits::{One, Signed};

mod integers;
pub use integers::{integer_source, IntForm, SOURCE_DIGITS};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Ascii,
    Text,
    Latex,
}

/// CAS-readable: `2*a*(b^2 + 1)/(a^2 + b^2 + 1)^2`.
pub fn to_ascii(e: &Expr) -> String {
    p(e, Style::Ascii, 0)
}

thread_local! {
    /// Set while [`ascii_len`] measures: integers past [`MEASURE_BITS`] are written as
    /// placeholders of their estimated digit count instead of being converted to decimal.
    static MEASURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Integers wider than this are not converted to decimal when a printed length is only
/// measured (a 25,000-bit integer takes about a millisecond to convert, and a
/// simplification measures every candidate).
const MEASURE_BITS: u64 = 128;

/// The length of [`to_ascii`]'s text with every integer counted by its decimal digits
/// (an integer wider than 128 bits by its estimated number, off by at most one; the
/// printer writes one past 40 digits as a power or product of short numerals, so this is
/// an upper bound there): the measure `simplify` compares candidates by, without
/// converting huge numbers to decimal.
pub fn ascii_len(e: &Expr) -> usize {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            MEASURING.with(|m| m.set(false));
        }
    }
    MEASURING.with(|m| m.set(true));
    let _reset = Reset;
    to_ascii(e).len()
}

/// An integer's decimal text, or under [`ascii_len`] a placeholder as long as its
/// estimated digit count when it is wider than [`MEASURE_BITS`].
fn int_text(n: &num_bigint::BigInt) -> String {
    if n.bits() > MEASURE_BITS && MEASURING.with(|m| m.get()) {
        let digits = (n.bits() as f64 * std::f64::consts::LOG10_2).ceil() as usize;
        let sign = usize::from(n.is_negative());
        return "9".repeat(digits + sign);
    }
    n.to_string()
}

/// The course's notation: `2a(b² + 1)/(a² + b² + 1)²`.
pub fn to_text(e: &Expr) -> String {
    p(&for_display(e), Style::Text, 0)
}

/// LaTeX: `\frac{2 a \left(b^{2} + 1\right)}{\left(a^{2} + b^{2} + 1\right)^{2}}`.
pub fn to_latex(e: &Expr) -> String {
    p(&for_display(e), Style::Latex, 0)
}

/// The expression as a reader wants it: a power of 1 is 1 (`1^{k-1}`, left by the
/// canonical form when the exponent is symbolic, as a variant's values make a base 1).
/// The CAS syntax ([`to_ascii`]) prints the canonical form as it is.
fn for_display(e: &Expr) -> std::borrow::Cow<'_, Expr> {
    fn one_power(e: &Expr) -> bool {
        match e {
            Expr::Num(_) | Expr::Sym(_) => false,
            Expr::Pow(b, x) => {
                b.as_num().is_some_and(|r| r.is_one()) || one_power(b) || one_power(x)
            }
            Expr::Func(_, x) => one_power(x),
            Expr::Mul(v) | Expr::Add(v) => v.iter().any(one_power),
        }
    }
    fn rebuild(e: &Expr) -> Expr {
        match e {
            Expr::Num(_) | Expr::Sym(_) => e.clone(),
            Expr::Pow(b, _) if b.as_num().is_some_and(|r| r.is_one()) => Expr::one(),
            Expr::Pow(b, x) => Expr::pow(rebuild(b), rebuild(x)),
            Expr::Func(f, x) => Expr::func(*f, rebuild(x)),
            Expr::Mul(v) => Expr::mul(v.iter().map(rebuild).collect()),
            Expr::Add(v) => Expr::add(v.iter().map(rebuild).collect()),
        }
    }
    if one_power(e) {
        std::borrow::Cow::Owned(rebuild(e))
    } else {
        std::borrow::Cow::Borrowed(e)
    }
}

const GREEK: &[(&str, &str, &str)] = &[
    ("alpha", "α", "\\alpha"),
    ("beta", "β", "\\beta"),
    ("gamma", "γ", "\\gamma"),
    ("delta", "δ", "\\delta"),
    ("epsilon", "ε", "\\epsilon"),
    ("eta", "η", "\\eta"),
    ("theta", "θ", "\\theta"),
    ("lambda", "λ", "\\lambda"),
    ("mu", "μ", "\\mu"),
    ("rho", "ρ", "\\rho"),
    ("sigma", "σ", "\\sigma"),
    ("tau", "τ", "\\tau"),
    ("chi", "χ", "\\chi"),
    ("pi", "π", "\\pi"),
];

fn symbol(s: &str, style: Style) -> String {
    let (base, sub) = match s.split_once('_') {
        Some((b, r)) => (b, Some(r)),
        None => (s, None),
    };
    let greek = GREEK.iter().find(|(n, _, _)| *n == base);
    match style {
        Style::Ascii => s.to_string(),
        Style::Text => {
            let b = greek.map_or(base.to_string(), |g| g.1.to_string());
            match sub {
                Some(r) => format!("{b}_{r}"),
                None => b,
            }
        }
        // The one rule for a name in LaTeX, which the syntax tree's printer shares
        // (`lam` one word, `v0` subscripted, `lambda` a letter: issue #17).
        Style::Latex => super::typeset::name_latex(s),
    }
}

fn superscript(n: &str) -> Option<String> {
    n.chars()
        .map(|c| match c {
            '0' => Some('⁰'),
            '1' => Some('¹'),
            '2' => Some('²'),
            '3' => Some('³'),
            '4' => Some('⁴'),
            '5' => Some('⁵'),
            '6' => Some('⁶'),
            '7' => Some('⁷'),
            '8' => Some('⁸'),
            '9' => Some('⁹'),
            '-' => Some('⁻'),
            _ => None,
        })
        .collect()
}

/// Precedence: 1 sum, 2 product, 3 power, 4 atom.
fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Add(_) => 1,
        Expr::Mul(_) => 2,
        Expr::Num(r) if r.is_negative() || !r.is_integer() => 2,
        // An integer shown by its leading digits and its power of ten is a product
        // (`1.239…×10¹¹⁵⁹⁴`): raised to a power it is parenthesised (probe31/b h27c: LaTeX
        // `10^{11594}^{2}` is a double superscript, the page did not compile, and the text
        // `…×10¹¹⁵⁹⁴²` read as a power of 115942).
        Expr::Num(r) if r.numer().bits() > SHOWN_BITS => 2,
        Expr::Pow(_, ex)
            if ex
                .as_num()
                .is_some_and(|r| *r == BigRational::new(1.into(), 2.into())) =>
        {
            4
        }
        Expr::Pow(..) => 3,
        _ => 4,
    }
}

fn p(e: &Expr, style: Style, ctx: u8) -> String {
    let s = raw(e, style);
    let level = match e {
        // An integer past the lexer's limit is written in ASCII as a power, product or
        // sum of short numerals ([`integer_source`]): it binds as what it was written as.
        Expr::Num(r) if style == Style::Ascii && r.is_integer() && !r.is_negative() => {
            ascii_int_level(&s)
        }
        _ => prec(e),
    };
    if level < ctx || (ctx >= 2 && matches!(e, Expr::Mul(_)) && s.starts_with('-')) {
        match style {
            Style::Latex => format!("\\left({s}\\right)"),
            _ => format!("({s})"),
        }
    } else {
        s
    }
}

/// Integers wider than this are shown to readers (text and LaTeX, never ASCII, which
/// stays exact for machines and for the editor's replacements) by their leading digits
/// and their size: `9.81490936196…×10¹³⁴`. No reader checks a 7,000-digit number by eye,
/// and converting one to decimal for every line of a derivation took seconds.
const SHOWN_BITS: u64 = 200;

/// Leading significant digits shown of an abbreviated integer.
const SHOWN_DIGITS: usize = 12;

/// An integer as a reader sees it: exact up to [`SHOWN_BITS`], beyond that its first
/// [`SHOWN_DIGITS`] digits (truncated, never rounded, and marked by `…`) and its power
/// of ten.
fn shown_int(n: &num_bigint::BigInt, style: Style) -> String {
    if style == Style::Ascii || n.bits() <= SHOWN_BITS || MEASURING.with(|m| m.get()) {
        return int_text(n);
    }
    use num_traits::Pow;
    let sign = if n.is_negative() { "-" } else { "" };
    let m = n.abs();
    // floor(log10 m) lies within one of this estimate; drop all but about 20 digits with
    // one exact division, then read the digits off the quotient.
    let estimate = ((m.bits() - 1) as f64 * std::f64::consts::LOG10_2) as u32;
    let drop = estimate.saturating_sub(20);
    let head = (&m / num_bigint::BigInt::from(10u32).pow(drop)).to_string();
    let exponent = head.len() as u64 - 1 + u64::from(drop);
    let lead = &head[..1];
    let rest = &head[1..SHOWN_DIGITS.min(head.len())];
    match style {
        Style::Latex => format!("{sign}{lead}.{rest}\\ldots{{}}\\times 10^{{{exponent}}}"),
        _ => format!(
            "{sign}{lead}.{rest}…×10{}",
            superscript(&exponent.to_string()).unwrap_or_else(|| format!("^{exponent}"))
        ),
    }
}

/// How [`source_int`]'s text binds, read off the text: 1 a sum, 2 a product, 3 a power,
/// 4 a numeral (the levels of [`prec`]).
fn ascii_int_level(s: &str) -> u8 {
    let s = s.trim_start_matches('-');
    if s.contains(' ') {
        1
    } else if s.contains('*') {
        2
    } else if s.contains('^') {
        3
    } else {
        4
    }
}

/// An integer in ASCII: its decimal digits up to the lexer's 40 characters, beyond that
/// the `.tq` source form of [`integer_source`] (ASCII is read back as `.tq`: the
/// `derive --steps` chains, the editor's replacements). A negative sum is parenthesised.
fn source_int(n: &num_bigint::BigInt) -> String {
    if MEASURING.with(|m| m.get()) || n.bits() < 120 {
        return int_text(n);
    }
    let (text, form) = integer_source(n);
    match (n.is_negative(), form) {
        (false, _) => text,
        (true, IntForm::Sum) => format!("-({text})"),
        (true, _) => format!("-{text}"),
    }
}

fn num(r: &BigRational, style: Style) -> String {
    if style == Style::Ascii {
        if r.is_integer() {
            return source_int(r.numer());
        }
        // Each side as it binds: a sum on top and a product or sum below take brackets.
        let sign = if r.is_negative() { "-" } else { "" };
        let (n, d) = (source_int(&r.numer().abs()), source_int(r.denom()));
        let n = if ascii_int_level(&n) < 2 {
            format!("({n})")
        } else {
            n
        };
        let d = if ascii_int_level(&d) < 3 {
            format!("({d})")
        } else {
            d
        };
        return format!("{sign}{n}/{d}");
    }
    if r.is_integer() {
        return shown_int(r.numer(), style);
    }
    let sign = if r.is_negative() { "-" } else { "" };
    let (n, d) = (
        shown_int(&r.numer().abs(), style),
        shown_int(r.denom(), style),
    );
    match style {
        Style::Latex => format!("{sign}\\frac{{{n}}}{{{d}}}"),
        _ => format!("{sign}{n}/{d}"),
    }
}

#[cfg(test)]
thread_local! {
    /// The calls of [`raw`] on this thread: the tests bound the work of printing by it.
    static RAW_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn raw(e: &Expr, style: Style) -> String {
    #[cfg(test)]
    RAW_CALLS.with(|c| c.set(c.get() + 1));
    match e {
        Expr::Num(r) => num(r, style),
        Expr::Sym(s) => symbol(s, style),
        Expr::Func(f, x) => {
            let arg = p(x, style, 0);
            match style {
                Style::Ascii => format!("{}({arg})", f.name()),
                Style::Text => format!("{}({arg})", f.entry().text),
                Style::Latex => {
                    let n = f.entry().latex;
                    format!("{n}\\left({arg}\\right)")
                }
            }
        }
        Expr::Add(ts) => {
            // A sum whose first term is negative starts with its first positive term
            // instead, as the course writes it: `1 - eta*lambda`, not `-eta*lambda + 1`.
            let mut ts = ts.clone();
            if ts.first().is_some_and(|t| t.split_coef().0.is_negative()) {
                if let Some(k) = ts.iter().position(|t| !t.split_coef().0.is_negative()) {
                    let t = ts.remove(k);
                    ts.insert(0, t);
                }
            }
            let mut out = String::new();
            for (k, t) in ts.iter().enumerate() {
                let (c, _) = t.split_coef();
                if k == 0 {
                    out.push_str(&p(t, style, 1));
                } else if c.is_negative() {
                    out.push_str(" - ");
                    out.push_str(&p(&(-t.clone()), style, 2));
                } else {
                    out.push_str(" + ");
                    out.push_str(&p(t, style, 1));
                }
            }
            out
        }
        Expr::Pow(b, ex) => {
            if ex
                .as_num()
                .is_some_and(|r| *r == BigRational::new(1.into(), 2.into()))
            {
                let inner = p(b, style, 0);
                return match style {
                    Style::Ascii => format!("sqrt({inner})"),
                    Style::Text => format!("√({inner})"),
                    Style::Latex => format!("\\sqrt{{{inner}}}"),
                };
            }
            if ex.as_num().is_some_and(|r| r.is_negative()) {
                // A lone negative power: 1/x^n.
                return quotient(
                    &[],
                    &[Expr::pow((**b).clone(), -(**ex).clone())],
                    &BigRational::one(),
                    style,
                );
            }
            let base = p(b, style, 4);
            match style {
                Style::Ascii => format!("{base}^{}", p(ex, style, 4)),
                Style::Text => {
                    // An integer exponent is written as a superscript; anything else is
                    // printed once (printing it twice, to test for a superscript and
                    // then to write it, doubled the work at every level of a power
                    // tower: 2^n for `a^a^...^a`).
                    let sup = ex.as_int().and_then(|_| superscript(&raw(ex, style)));
                    match sup {
                        Some(sup) => format!("{base}{sup}"),
                        None => format!("{base}^{}", p(ex, style, 4)),
                    }
                }
                // `\eta^{\mathrm{lr}}` or `s'_{0}` raised: braced (probe38/h k17).
                Style::Latex => format!(
                    "{}^{{{}}}",
                    super::typeset::power_base(&base),
                    raw(ex, style)
                ),
            }
        }
        Expr::Mul(fs) => {
            let mut coef = BigRational::one();
            let mut up: Vec<Expr> = Vec::new();
            let mut down: Vec<Expr> = Vec::new();
            for f in fs {
                match f {
                    // The normal form keeps a coefficient past the bit budget in parts
                    // (`Expr::mul`): printed as separate factors, not multiplied out (a
                    // product of 65,536-bit parts took minutes of gcds to print).
                    Expr::Num(r) if super::rat::mul_bits(&coef, r) > super::MAX_BITS => {
                        up.push(f.clone())
                    }
                    Expr::Num(r) => coef = super::rat::mul(&coef, r),
                    Expr::Pow(b, ex) if ex.as_num().is_some_and(|r| r.is_negative()) => {
                        down.push(Expr::pow((**b).clone(), -(**ex).clone()))
                    }
                    other => up.push(other.clone()),
                }
            }
            up.sort_by_key(order_key);
            down.sort_by_key(order_key);
            quotient(&up, &down, &coef, style)
        }
    }
}

/// Factors print symbols first, alphabetically (`a^2 b`, not `b a^2`), then the rest
/// in their canonical order.
fn order_key(f: &Expr) -> (u8, String) {
    let base = match f {
        Expr::Pow(b, _) => &**b,
        other => other,
    };
    match base {
        Expr::Sym(s) => (0, s.clone()),
        _ => (1, String::new()),
    }
}

fn product(fs: &[Expr], style: Style) -> String {
    let parts: Vec<String> = fs.iter().map(|f| p(f, style, 3)).collect();
    match style {
        Style::Ascii => parts.join("*"),
        Style::Latex => {
            // A number beside a factor that starts with a digit (`2 \cdot 2^{k}`): a
            // space alone would read as one number.
            // A word of several letters (`\mathit{lam}`) beside another factor takes a
            // thin space, as the program's lines set it (`N \, \mathit{lam}`, not
            // `N\mathit{lam}`, which reads as one word).
            let mut out = String::new();
            for (k, s) in parts.iter().enumerate() {
                if k > 0 {
                    out.push_str(if s.starts_with(|c: char| c.is_ascii_digit()) {
                        " \\cdot "
                    } else if s.contains("\\mathit{") || parts[k - 1].contains("\\mathit{") {
                        " \\, "
                    } else {
                        " "
                    });
                }
                out.push_str(s);
            }
            out
        }
        Style::Text => {
            // Juxtaposition: `2a`, `a b`, `a(b + 1)`.
            let mut out = String::new();
            for (k, s) in parts.iter().enumerate() {
                if k > 0 {
                    let prev_number = parts[k - 1].chars().all(|c| c.is_ascii_digit());
                    let tight = s.starts_with('(')
                        || (prev_number && !s.starts_with(|c: char| c.is_ascii_digit()));
                    if !tight {
                        out.push(' ');
                    }
                }
                out.push_str(s);
            }
            out
        }
    }
}

fn quotient(up: &[Expr], down: &[Expr], coef: &BigRational, style: Style) -> String {
    let neg = coef.is_negative();
    let c = coef.abs();
    let (cn, cd) = (c.numer().clone(), c.denom().clone());
    let mut top: Vec<Expr> = Vec::new();
    if !cn.is_one() || up.is_empty() {
        top.push(Expr::Num(BigRational::from_integer(cn)));
    }
    top.extend(up.iter().cloned());
    let mut bottom: Vec<Expr> = Vec::new();
    if !cd.is_one() {
        bottom.push(Expr::Num(BigRational::from_integer(cd)));
    }
    bottom.extend(down.iter().cloned());
    let sign = if neg { "-" } else { "" };
    if bottom.is_empty() {
        return format!("{sign}{}", product(&top, style));
    }
    // Each part is printed once: printing the numerator twice (to return it alone, then
    // inside the fraction) doubled the work at every level of nested quotients (`tanh`
    // and `sigmoid` derivatives 32 deep: minutes in `tq render`, session 31).
    match style {
        Style::Latex => {
            // A fraction bar groups: a single sum over or under it takes no parentheses.
            let whole = |v: &[Expr]| match v {
                [one] => p(one, style, 0),
                _ => product(v, style),
            };
            format!("{sign}\\frac{{{}}}{{{}}}", whole(&top), whole(&bottom))
        }
        _ => {
            let t = product(&top, style);
            let b = if bottom.len() == 1 {
                p(&bottom[0], style, 3)
            } else {
                format!("({})", product(&bottom, style))
            };
            format!("{sign}{t}/{b}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_traits::Pow;

    fn big(base: u32, exp: u32) -> Expr {
        Expr::Num(BigRational::from_integer(BigInt::from(base).pow(exp)))
    }

    #[test]
    fn a_huge_integer_raised_to_a_power_is_parenthesised() {
        use num_traits::Pow;
        let n = num_bigint::BigInt::from(3u32).pow(400u32);
        // Built unsimplified (the constructor would fold the square of a number), as a
        // power too large to fold is left.
        let e = Expr::Pow(
            Box::new(Expr::Num(BigRational::from_integer(n))),
            Box::new(Expr::int(2)),
        );
        let latex = raw(&e, Style::Latex);
        assert!(
            latex.starts_with("\\left(") && latex.ends_with("\\right)^{2}"),
            "{latex}"
        );
        assert_eq!(latex.matches("}^{").count(), 0, "{latex}");
        let text = raw(&e, Style::Text);
        assert!(text.starts_with('(') && text.ends_with(")²"), "{text}");
    }

    #[test]
    fn huge_integers_are_shown_by_their_true_leading_digits_and_exponent() {
        // 7^1000 = 1.25375...×10^845 (845 = floor(1000 log10 7)).
        let e = big(7, 1000);
        let exact = BigInt::from(7).pow(1000u32).to_string();
        assert_eq!(exact.len(), 846);
        // ASCII is read back as `.tq` source: an integer past 40 digits is written as a
        // power or product of short numerals (session 33, fixd33), exactly.
        assert!(to_ascii(&e).len() <= 40, "{}", to_ascii(&e));
        let shown = to_text(&e);
        assert_eq!(shown, format!("{}.{}…×10⁸⁴⁵", &exact[..1], &exact[1..12]));
        let latex = to_latex(&-e.clone());
        assert_eq!(
            latex,
            format!(
                "-{}.{}\\ldots{{}}\\times 10^{{845}}",
                &exact[..1],
                &exact[1..12]
            )
        );
        // A power of ten: the estimate of the digit count is exact at the boundary.
        assert_eq!(to_text(&big(10, 100)), "1.00000000000…×10¹⁰⁰");
        // Up to 200 bits, numbers are written out.
        let small = big(3, 120);
        assert_eq!(to_text(&small), BigInt::from(3).pow(120u32).to_string());
    }

    #[test]
    fn the_measured_length_is_the_printed_length_within_one_digit_per_huge_number() {
        let a = Expr::sym("a");
        for e in [
            big(7, 1000),
            Expr::add(vec![a.clone(), big(3, 500)]),
            Expr::mul(vec![big(2, 9000), Expr::pow(a.clone(), Expr::int(3))]),
            Expr::mul(vec![a.clone(), Expr::pow(big(5, 300), Expr::int(-1))]),
            Expr::add(vec![a.clone(), Expr::int(12)]),
        ] {
            // The measure counts an integer's digits; the printer now writes one past 40
            // digits as a power or product of short numerals (fixd33), so the measure is an
            // upper bound of the printed length (within one digit per number).
            let (len, exact) = (ascii_len(&e), to_ascii(&e).len());
            assert!(len + 1 >= exact, "{len} vs {exact}");
        }
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn printing_visits_each_node_a_bounded_number_of_times() {
        // A power tower and nested quotients 40 deep, in every syntax: each node is
        // printed a bounded number of times (printing an exponent or a numerator twice
        // made the work 2^40; session 31).
        let a = Expr::sym("a");
        let mut tower = a.clone();
        let mut quotients = a.clone();
        for _ in 0..40 {
            tower = Expr::pow(a.clone(), tower);
            // (1 + q)/(2 + a): the nested part in the numerator.
            quotients = Expr::mul(vec![
                Expr::add(vec![Expr::one(), quotients]),
                Expr::pow(Expr::add(vec![Expr::int(2), a.clone()]), Expr::int(-1)),
            ]);
        }
        for e in [&tower, &quotients] {
            let nodes = e.node_count();
            for print in [to_ascii, to_text, to_latex] {
                RAW_CALLS.with(|c| c.set(0));
                let text = print(e);
                let calls = RAW_CALLS.with(|c| c.get());
                assert!(!text.is_empty());
                assert!(calls <= 4 * nodes, "{calls} calls for {nodes} nodes");
            }
        }
    }

    #[test]
    fn a_power_of_one_is_shown_as_one() {
        let k = Expr::sym("k");
        let e = Expr::mul(vec![
            Expr::pow(Expr::one(), Expr::add(vec![k.clone(), Expr::int(-1)])),
            Expr::pow(Expr::int(2), Expr::int(-1)),
        ]);
        // The constructor folds 1^(k-1) to 1 (session 25), so every form reads 1/2.
        assert_eq!(to_ascii(&e), "1/2");
        assert_eq!(to_latex(&e), "\\frac{1}{2}");
        assert_eq!(to_text(&e), "1/2");
    }
}
