//! `.tq` syntax trees as LaTeX math in the course's notation: Greek letters (`sigma_W` →
//! `\sigma_{W}`), `Δx` for `dx`, subscripted layers (`W_{l+1}`), capital summed
//! indices kept as written (`W[j,I] x[b,I]`), juxtaposition as a thin space.

use crate::syntax::ast::*;

use crate::sym::typeset::{escape_math_text, ident_latex, label_latex, word_latex};

/// One identifier: Greek words become letters, `dx`/`DX` become `\Delta x`/`\Delta X`,
/// longer words are one italic word, a trailing `_W` becomes a subscript; the rule the
/// symbolic printer shares (`sym::typeset`). A name written with a superscript label
/// (`eta^{lr}`, `W^{h,G1}`, `theta^{max}_2`: a `sample` or `vary` line's name, a
/// declaration list's) is set as the model's lines set it, the label upright
/// (`\eta^{\mathrm{lr}}`), not as one word with its `^` and braces escaped (probe38 k16:
/// `\mathrm{eta\wedge \{lr\}}`).
pub fn ident(name: &str) -> String {
    if name.contains("^{") {
        labelled(name).unwrap_or_else(|| crate::sym::typeset::name_latex(name))
    } else {
        ident_latex(name)
    }
}

/// A labelled name as printed (`theta^{max}_2`, `W'^{h,G1}`, `s^{a}_{b,c}`) set as
/// [`name`] sets the parsed name: the base, its primes, the labels upright, the
/// subscript's items braced; `None` for anything else.
fn labelled(printed: &str) -> Option<String> {
    let (head, rest) = printed.split_once("^{")?;
    let (labels, tail) = rest.split_once('}')?;
    let base = head.trim_end_matches('\'');
    let is_word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric());
    if !is_word(base) || !labels.split(',').all(is_word) {
        return None;
    }
    let mut s = word(base);
    s.push_str(&"'".repeat(head.len() - base.len()));
    let labels: Vec<String> = labels.split(',').map(label).collect();
    s = format!("{s}^{{{}}}", labels.join(","));
    if tail.is_empty() {
        return Some(s);
    }
    let sub = tail.strip_prefix('_')?;
    let sub = sub
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(sub);
    if !sub.split(',').all(is_word) {
        return None;
    }
    let items: Vec<String> = sub
        .split(',')
        .map(|i| {
            if i.chars().all(|c| c.is_ascii_digit()) {
                i.to_string()
            } else {
                ident_latex(i)
            }
        })
        .collect();
    Some(format!("{s}_{{{}}}", items.join(",")))
}

fn word(w: &str) -> String {
    word_latex(w)
}

/// A superscript label: a word (`relu`, `out`) is set upright.
pub fn label(w: &str) -> String {
    label_latex(w)
}

/// A name with primes, superscript labels and subscripts: `W^{h,R}_{l+1}`.
pub fn name(n: &Name) -> String {
    // A rule's sequence named from outside the rule (`A.theta`): the rule's name, a
    // point, and the sequence's name by the one rule for names (`A.\theta`; probe37
    // p08: `\mathrm{A.theta}`).
    let mut s = match n.base.split_once('.') {
        Some((rule, seq)) if !rule.is_empty() && !seq.is_empty() => {
            format!("{}.{}", word(rule), word(seq))
        }
        _ => word(&n.base),
    };
    for _ in 0..n.primes {
        s.push('\'');
    }
    if !n.sup.is_empty() {
        let labels: Vec<String> = n.sup.iter().map(|l| label(l)).collect();
        s = format!("{s}^{{{}}}", labels.join(","));
    }
    if !n.sub.is_empty() {
        let subs: Vec<String> = n.sub.iter().map(index).collect();
        s = format!("{s}_{{{}}}", subs.join(","));
    }
    s
}

/// A reference: `L_{l}.\mathrm{grad}[b, x+\Delta x, ...]`.
pub fn reference(r: &Ref) -> String {
    let mut s = name(&r.name);
    if r.grad {
        s = format!("{{{s}}}.\\mathrm{{grad}}");
    }
    if let Some(ix) = &r.indices {
        let items: Vec<String> = ix.iter().map(index).collect();
        s.push_str(&format!("[{}]", items.join(",")));
    }
    s
}

pub fn index(ix: &IndexExpr) -> String {
    match ix {
        IndexExpr::Lookup(r) => reference(r),
        IndexExpr::Affine(a) => affine(a),
    }
}

fn affine(a: &Affine) -> String {
    crate::syntax::printer::affine_with(a, |mag, t| {
        let factors: Vec<String> = t.factors.iter().map(|f| ident(&f.name)).collect();
        let factors = factors.join(" ");
        if mag == 1 {
            factors
        } else {
            format!("{mag}{factors}")
        }
    })
}

/// The printer's precedence, except that a fraction is set as `\frac`, which needs no
/// parentheses around it.
fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Binary(BinOp::Div, ..) => 5,
        _ => crate::syntax::printer::precedence(e),
    }
}

fn wrap(e: &Expr, min: u8) -> String {
    let s = expr(e);
    if prec(e) < min {
        format!("\\left({s}\\right)")
    } else {
        s
    }
}

fn number(t: &str) -> String {
    match t.split_once(['e', 'E']) {
        Some((m, x)) => format!("{m} \\cdot 10^{{{}}}", x.trim_start_matches('+')),
        None => t.to_string(),
    }
}

/// An expression in LaTeX math.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::Num(t, _) => number(t),
        Expr::Ref(r) => reference(r),
        Expr::Unary(UnOp::Neg, x, _) => format!("-{}", wrap(x, 3)),
        Expr::Binary(op, l, r, _) => match op {
            BinOp::Add => format!("{} + {}", wrap(l, 1), wrap(r, 2)),
            BinOp::Sub => format!("{} - {}", wrap(l, 1), wrap(r, 2)),
            BinOp::Mul => format!("{} \\cdot {}", wrap(l, 2), wrap(r, 3)),
            BinOp::Jux => format!("{} \\, {}", wrap(l, 2), wrap(r, 4)),
            BinOp::Div => format!("\\frac{{{}}}{{{}}}", expr(l), expr(r)),
            BinOp::Pow => {
                let base = wrap(l, 5);
                // `x_{l}^{2}` reads fine; a base ending in a script needs braces.
                format!("{{{base}}}^{{{}}}", expr(r))
            }
        },
        Expr::Rel(op, l, r, _) => format!("{} {} {}", wrap(l, 1), relop(*op), wrap(r, 1)),
        Expr::Call(c) => call(c),
        Expr::Sum(ids, x, _) => {
            let ids: Vec<String> = ids.iter().map(|i| ident(&i.name)).collect();
            format!("\\sum_{{{}}} {}", ids.join(","), wrap(x, 5))
        }
        Expr::Softmax(id, x, _) => format!(
            "\\operatorname{{softmax}}_{{{}}}\\left({}\\right)",
            ident(&id.name),
            expr(x)
        ),
        Expr::Deriv(n, d, _) => format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            reference(n),
            reference(d)
        ),
        Expr::Iverson(x, _) => format!("\\left[{}\\right]", expr(x)),
    }
}

pub fn relop(op: RelOp) -> &'static str {
    match op {
        RelOp::Eq => "=",
        RelOp::Le => "\\le",
        RelOp::Ge => "\\ge",
        RelOp::Lt => "<",
        RelOp::Gt => ">",
        RelOp::Approx => "\\approx",
    }
}

/// A function application or a distribution.
pub fn call(c: &Call) -> String {
    let args: Vec<String> = c.args.iter().map(expr).collect();
    let args = args.join(", ");
    let f = c.func.name.as_str();
    if let Some(b) = crate::sym::func::model_function(f) {
        if b.func != crate::sym::Func::Sqrt {
            return format!("{}\\left({args}\\right)", b.latex);
        }
    }
    match f {
        "sqrt" if c.args.len() == 1 => format!("\\sqrt{{{args}}}"),
        // A derived size's formula (`size U = floor((X - D)/2) + 1`) as typeset.
        "floor" if c.args.len() == 1 => format!("\\left\\lfloor {args} \\right\\rfloor"),
        "ceil" if c.args.len() == 1 => format!("\\left\\lceil {args} \\right\\rceil"),
        "min" | "max" => {
            format!("\\{f}\\left({args}\\right)")
        }
        "E" => format!("\\mathbb{{E}}\\left[{args}\\right]"),
        "Var" | "Cov" => format!("\\operatorname{{{f}}}\\left({args}\\right)"),
        "normal" => format!("\\mathcal{{N}}\\left({args}\\right)"),
        "uniform" => format!("\\mathcal{{U}}\\left({args}\\right)"),
        _ => format!(
            "\\operatorname{{{}}}\\left({args}\\right)",
            escape_math_text(f)
        ),
    }
}

/// `l = 0, \dots, L - 1`.
pub fn range(r: &Range) -> String {
    format!(
        "{} = {}, \\dots, {}",
        ident(&r.var.name),
        expr(&r.from),
        expr(&r.to)
    )
}

pub fn equation(eq: &Equation) -> String {
    let op = match eq.op {
        AssignOp::Set => "=",
        AssignOp::AddAssign => "\\mathrel{+}=",
        AssignOp::SubAssign => "\\mathrel{-}=",
    };
    format!("{} {op} {}", reference(&eq.lhs), expr(&eq.rhs))
}

/// A claim's body with its tolerance, assumptions and point.
pub fn claim(c: &Claim) -> String {
    let mut s = if c.includes.is_some() {
        "\\text{the backpropagation program includes}".to_string()
    } else {
        expr(&c.body)
    };
    if let Some(t) = &c.tol {
        s.push_str(&format!(" \\quad (\\text{{tol }} {})", expr(t)));
    }
    let mut given: Vec<String> = Vec::new();
    if let Some(b) = c.boundary {
        given.push(format!(
            "\\text{{boundary {}}}",
            crate::syntax::printer::boundary_word(b)
        ));
    }
    given.extend(c.given.iter().map(expr));
    if !given.is_empty() {
        s.push_str(&format!(" \\quad \\text{{given }} {}", given.join(",\\ ")));
    }
    if !c.at.is_empty() {
        let at: Vec<String> =
            c.at.iter()
                .map(|b| format!("{} = {}", ident(&b.name.name), expr(&b.value)))
                .collect();
        s.push_str(&format!(" \\quad \\text{{at }} {}", at.join(",\\ ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_the_course_notation() {
        assert_eq!(ident("sigma_W"), "\\sigma_{W}");
        assert_eq!(ident("dx"), "\\Delta x");
        assert_eq!(ident("DX"), "\\Delta X");
        assert_eq!(ident("j'"), "j'");
        assert_eq!(ident("yhat"), "\\mathit{yhat}");
        assert_eq!(ident("G1"), "G_{1}");
        assert_eq!(ident("lambda"), "\\lambda");
        let rule_seq = |base: &str| Name {
            base: base.into(),
            primes: 0,
            sup: vec![],
            sub: vec![],
            span: Default::default(),
        };
        assert_eq!(name(&rule_seq("A.theta")), "A.\\theta");
        assert_eq!(name(&rule_seq("B.v")), "B.v");
        assert_eq!(name(&rule_seq("Adam.m1")), "\\mathit{Adam}.m_{1}");
        assert_eq!(label("relu"), "\\mathrm{relu}");
        assert_eq!(label("R"), "R");
        assert_eq!(label("sigma"), "\\sigma");
    }

    /// probe38 k16: a labelled name given as its printed text (a `sample`, `vary` or
    /// declaration list's name) is set as the model's lines set the parsed name, never
    /// as one escaped word (`\mathrm{eta\wedge \{lr\}}`).
    #[test]
    fn a_labelled_name_as_text_is_set_as_the_parsed_name() {
        for written in [
            "eta^{lr}",
            "W^{h,G1}",
            "B^{G1}",
            "s^{a,b}",
            "theta^{max}_{2}",
            "theta^{max}_ab",
            "V'^{gate}_{x}",
            "sigma^{out}_{W,2}",
        ] {
            let parsed = crate::syntax::parser::parse(&format!("u = {written}\n"));
            let Some(ItemKind::Equation(eq)) = parsed.program.items.first().map(|i| &i.kind) else {
                panic!("{written}: {:?}", parsed.diagnostics);
            };
            let Expr::Ref(r) = &eq.rhs else {
                panic!("{written}: {:?}", eq.rhs);
            };
            let printed = crate::syntax::printer::print_name(&r.name);
            assert_eq!(
                ident(&printed),
                name(&r.name),
                "{written} (printed {printed})"
            );
            assert!(!ident(&printed).contains("\\wedge"), "{written}");
        }
    }
}

/// A formula as runs of inline math a line may break between: split at the separators
/// of its top level (`,\ ` between givens and bindings, `\quad` before `given` and
/// `tol`), never inside braces or a `\left ... \right` pair. Each piece is `$...$`.
pub fn breakable(m: &str) -> String {
    let mut pieces: Vec<(String, &str)> = Vec::new();
    let (mut depth, mut cur, mut rest) = (0i64, String::new(), m);
    while let Some(c) = rest.chars().next() {
        let sep = [(",\\ ", ", "), (" \\quad ", " ")]
            .into_iter()
            .find(|(s, _)| depth == 0 && rest.starts_with(s));
        if let Some((s, joint)) = sep {
            pieces.push((std::mem::take(&mut cur), joint));
            rest = &rest[s.len()..];
            continue;
        }
        if rest.starts_with("\\left") {
            depth += 1;
        } else if rest.starts_with("\\right") {
            depth -= 1;
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
        }
        cur.push(c);
        rest = &rest[c.len_utf8()..];
    }
    pieces.push((cur, ""));
    pieces
        .into_iter()
        .filter(|(p, _)| !p.trim().is_empty())
        .map(|(p, joint)| format!("${p}${joint}"))
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod breakable_tests {
    #[test]
    fn breakable_splits_only_at_the_top_level() {
        assert_eq!(
            super::breakable("a = 1 \\quad \\text{given } X = 8,\\ Y = \\left(1,\\ 2\\right)"),
            "$a = 1$ $\\text{given } X = 8$, $Y = \\left(1,\\ 2\\right)$"
        );
        assert_eq!(super::breakable("x"), "$x$");
    }
}
