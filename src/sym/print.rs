//! Printing in three syntaxes: ASCII for computer algebra systems (explicit `*` and
//! `^`), the course's notation (juxtaposition, superscripts, Greek letters), LaTeX.

use super::Expr;
use num_rational::BigRational;
use num_traits::{One, Signed};

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

/// The course's notation: `2a(b² + 1)/(a² + b² + 1)²`.
pub fn to_text(e: &Expr) -> String {
    p(e, Style::Text, 0)
}

/// LaTeX: `\frac{2 a \left(b^{2} + 1\right)}{\left(a^{2} + b^{2} + 1\right)^{2}}`.
pub fn to_latex(e: &Expr) -> String {
    p(e, Style::Latex, 0)
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
        Style::Latex => {
            let b = greek.map_or(base.to_string(), |g| g.2.to_string());
            match sub {
                Some(r) => format!("{b}_{{{r}}}"),
                None => b,
            }
        }
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
    if prec(e) < ctx || (ctx >= 2 && matches!(e, Expr::Mul(_)) && s.starts_with('-')) {
        match style {
            Style::Latex => format!("\\left({s}\\right)"),
            _ => format!("({s})"),
        }
    } else {
        s
    }
}

fn num(r: &BigRational, style: Style) -> String {
    if r.is_integer() {
        return r.numer().to_string();
    }
    let sign = if r.is_negative() { "-" } else { "" };
    let (n, d) = (r.numer().abs(), r.denom());
    match style {
        Style::Latex => format!("{sign}\\frac{{{n}}}{{{d}}}"),
        _ => format!("{sign}{n}/{d}"),
    }
}

fn raw(e: &Expr, style: Style) -> String {
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
                    let es = raw(ex, style);
                    match superscript(&es) {
                        Some(sup) if ex.as_int().is_some() => format!("{base}{sup}"),
                        _ => format!("{base}^{}", p(ex, style, 4)),
                    }
                }
                Style::Latex => format!("{base}^{{{}}}", raw(ex, style)),
            }
        }
        Expr::Mul(fs) => {
            let mut coef = BigRational::one();
            let mut up: Vec<Expr> = Vec::new();
            let mut down: Vec<Expr> = Vec::new();
            for f in fs {
                match f {
                    Expr::Num(r) => coef *= r,
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
        Style::Latex => parts.join(" "),
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
    let t = product(&top, style);
    if bottom.is_empty() {
        return format!("{sign}{t}");
    }
    match style {
        Style::Latex => format!("{sign}\\frac{{{t}}}{{{}}}", product(&bottom, style)),
        _ => {
            let b = if bottom.len() == 1 {
                p(&bottom[0], style, 3)
            } else {
                format!("({})", product(&bottom, style))
            };
            format!("{sign}{t}/{b}")
        }
    }
}
