//! The printer: [`Program`] back to `.tq` text in canonical ASCII spelling.
//! `parse(print(p))` gives `p` again, spans aside (tested for every file in problems/).

use super::ast::*;
use super::span::Span;

/// Prints a whole program.
pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    print_items(&p.items, 0, &mut out);
    out
}

fn print_items(items: &[Item], indent: usize, out: &mut String) {
    for item in items {
        print_item(item, indent, out);
    }
}

fn pad(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn idents(ids: &[Ident]) -> String {
    ids.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn bindings(bs: &[Binding]) -> String {
    bs.iter()
        .map(|b| format!("{} = {}", b.name.name, print_value(&b.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints one item (and its block) at the given indentation.
pub fn print_item(item: &Item, indent: usize, out: &mut String) {
    pad(indent, out);
    match &item.kind {
        ItemKind::Size(ids) => out.push_str(&format!("size {}\n", idents(ids))),
        ItemKind::SizeMembers { names, range } => {
            let members: Vec<String> = names
                .iter()
                .map(|n| format!("{}_{}", n.name, range.var.name))
                .collect();
            out.push_str(&format!(
                "size {} for {}\n",
                members.join(", "),
                print_range(range)
            ))
        }
        ItemKind::SizeValue { name, value } => {
            out.push_str(&format!("size {} = {}\n", name.name, print_value(value)))
        }
        ItemKind::Index {
            names,
            size,
            centered,
        } => {
            out.push_str(&format!("index {} : {}", idents(names), size.name));
            if *centered {
                out.push_str(" centered");
            }
            out.push('\n');
        }
        ItemKind::Symbol(ids) => out.push_str(&format!("symbol {}\n", idents(ids))),
        ItemKind::Scalar(ids) => out.push_str(&format!("scalar {}\n", idents(ids))),
        ItemKind::Boundary(b) => out.push_str(&format!("boundary {}\n", boundary_word(*b))),
        ItemKind::Decl(d) => {
            out.push_str(match d.kind {
                DeclKind::Param => "param ",
                DeclKind::Input => "input ",
                DeclKind::Grad => "grad ",
            });
            out.push_str(&print_ref(&d.target));
            match &d.init {
                Some(Init::Dist(c)) => {
                    out.push_str(" ~ ");
                    out.push_str(&print_call(c));
                }
                Some(Init::Value(e)) => {
                    out.push_str(" = ");
                    out.push_str(&print_value(e));
                }
                None => {}
            }
            if let Some(r) = &d.family {
                out.push_str(" for ");
                out.push_str(&print_range(r));
            }
            out.push('\n');
        }
        ItemKind::Equation(eq) => {
            out.push_str(&print_equation(eq));
            out.push('\n');
        }
        ItemKind::Loop(l) => {
            let rev = if l.reverse { " reversed" } else { "" };
            out.push_str(&format!("for {}{rev}:\n", print_range(&l.range)));
            print_items(&l.body, indent + 1, out);
        }
        ItemKind::ForIndices(f) => {
            let head = format!("for {}:", idents_compact(&f.indices));
            if f.inline && f.body.len() == 1 {
                if let ItemKind::Equation(eq) = &f.body[0].kind {
                    out.push_str(&format!("{head} {}\n", print_equation(eq)));
                    return;
                }
            }
            out.push_str(&head);
            out.push('\n');
            print_items(&f.body, indent + 1, out);
        }
        ItemKind::Rule(r) => {
            out.push_str(&format!("rule {} over {}:\n", r.name.name, r.var.name));
            print_items(&r.body, indent + 1, out);
        }
        ItemKind::At(bs) => out.push_str(&format!("at {}\n", bindings(bs))),
        ItemKind::Sample(bs) => out.push_str(&format!("sample {}\n", bindings(bs))),
        ItemKind::Claim(c) => {
            match c.expect {
                Some(Expectation::Refuted) => {
                    out.push_str("expect refuted\n");
                    pad(indent, out);
                }
                Some(Expectation::Undecided) => {
                    out.push_str("expect undecided\n");
                    pad(indent, out);
                }
                None => {}
            }
            out.push_str("claim ");
            if let Some(block) = &c.includes {
                out.push_str(&print_expr(&c.body));
                out.push_str(" includes:\n");
                print_items(block, indent + 1, out);
                return;
            }
            out.push_str(&print_claim_body(c));
            out.push('\n');
        }
        ItemKind::ExpectError(code) => out.push_str(&format!("expect error {}\n", code.name)),
        ItemKind::Derivation(d) => {
            out.push_str(&derivation_header(d));
            out.push('\n');
            pad(indent + 1, out);
            out.push_str(&print_value(&d.start));
            out.push('\n');
            for st in &d.steps {
                out.push_str(&derivation_step(st, indent + 1));
            }
        }
        ItemKind::Vary(ps) => {
            let ps: Vec<String> = ps.iter().map(print_vary).collect();
            out.push_str(&format!("vary {}\n", ps.join(", ")));
        }
    }
}

/// A derivation's first line: `derivation NAME given ...:`.
pub fn derivation_header(d: &Derivation) -> String {
    let mut out = format!("derivation {}", d.name.name);
    if !d.given.is_empty() {
        let g: Vec<String> = d.given.iter().map(print_expr).collect();
        out.push_str(&format!(" given {}", g.join(", ")));
    }
    out.push(':');
    out
}

/// One step of a derivation at the given indentation, its `expect refuted` line first
/// when it has one; each line ends with a newline.
pub fn derivation_step(st: &Step, indent: usize) -> String {
    let mut out = String::new();
    if st.expect == Some(Expectation::Refuted) {
        pad(indent, &mut out);
        out.push_str("expect refuted\n");
    }
    pad(indent, &mut out);
    // A step of a derivation chain writes equality as `=`.
    let op = match st.op {
        RelOp::Eq => "=",
        op => op.symbol(),
    };
    out.push_str(&format!("{op} {}", print_value(&st.expr)));
    if let Some(r) = &st.rule {
        out.push_str(&format!("    by {}", r.name));
    }
    out.push('\n');
    out
}

/// One parameter of a `vary` line: `L in 2..12`, `J in {16, 32}`.
pub fn print_vary(p: &VaryParam) -> String {
    match &p.domain {
        VaryDomain::Range(a, b) => {
            format!("{} in {}..{}", p.name.name, print_value(a), print_value(b))
        }
        VaryDomain::Set(xs) => format!(
            "{} in {{{}}}",
            p.name.name,
            xs.iter().map(print_value).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A claim without the `claim` keyword: body, `tol`, `given`, `at`.
pub fn print_claim_body(c: &Claim) -> String {
    let mut out = print_expr(&c.body);
    out.push_str(&print_claim_tail(c));
    out
}

/// What follows a claim's relation: ` tol ...`, ` given ...`, ` at ...` (empty when
/// it has none).
pub fn print_claim_tail(c: &Claim) -> String {
    let mut out = String::new();
    if let Some(t) = &c.tol {
        out.push_str(" tol ");
        out.push_str(&print_value(t));
    }
    let mut given: Vec<String> = Vec::new();
    if let Some(b) = c.boundary {
        given.push(format!("boundary {}", boundary_word(b)));
    }
    given.extend(c.given.iter().map(print_expr));
    if !given.is_empty() {
        out.push_str(" given ");
        out.push_str(&given.join(", "));
    }
    if !c.at.is_empty() {
        out.push_str(" at ");
        out.push_str(&bindings(&c.at));
    }
    out
}

pub fn boundary_word(b: Boundary) -> &'static str {
    match b {
        Boundary::Zero => "zero",
        Boundary::Circular => "circular",
        Boundary::Valid => "valid",
    }
}

pub fn print_range(r: &Range) -> String {
    format!(
        "{} in {}..{}",
        r.var.name,
        print_value(&r.from),
        print_value(&r.to)
    )
}

pub fn print_equation(eq: &Equation) -> String {
    let op = match eq.op {
        AssignOp::Set => "=",
        AssignOp::AddAssign => "+=",
        AssignOp::SubAssign => "-=",
    };
    format!("{} {} {}", print_ref(&eq.lhs), op, print_value(&eq.rhs))
}

/// A name with its primes, superscript labels and subscripts.
pub fn print_name(n: &Name) -> String {
    let mut s = n.base.clone();
    for _ in 0..n.primes {
        s.push('\'');
    }
    if !n.sup.is_empty() {
        s.push_str(&format!("^{{{}}}", n.sup.join(",")));
    }
    if !n.sub.is_empty() {
        let items: Vec<String> = n.sub.iter().map(print_index).collect();
        // Unbraced only where the parser reads the same subscript back: a whole number
        // (`h_2`) or a name (`h_l`). `2L` (the product 2 L) printed as `h_2L` was read
        // back as a variable named `2L` (probe 30b: `tq fmt` changed a proved claim
        // about `h_{2L}` into a refuted one).
        let simple = items.len() == 1
            && !items[0].is_empty()
            && items[0].chars().all(|c| c.is_ascii_alphanumeric())
            && (items[0].chars().all(|c| c.is_ascii_digit())
                || items[0].starts_with(|c: char| c.is_ascii_alphabetic()));
        if simple {
            s.push('_');
            s.push_str(&items[0]);
        } else {
            s.push_str(&format!("_{{{}}}", items.join(",")));
        }
    }
    s
}

pub fn print_ref(r: &Ref) -> String {
    let mut s = print_name(&r.name);
    if r.grad {
        s.push_str(".grad");
    }
    if let Some(idx) = &r.indices {
        s.push('[');
        s.push_str(&idx.iter().map(print_index).collect::<Vec<_>>().join(","));
        s.push(']');
    }
    s
}

pub fn print_index(ix: &IndexExpr) -> String {
    match ix {
        IndexExpr::Lookup(r) => print_ref(r),
        IndexExpr::Affine(a) => print_affine(a),
    }
}

pub fn print_affine(a: &Affine) -> String {
    affine_with(a, |mag, t| {
        let factors = t
            .factors
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join("*");
        match mag {
            1 => factors,
            m if t.factors.len() == 1 => format!("{m}{factors}"),
            m => format!("{m}*{factors}"),
        }
    })
}

/// An affine position laid out term by term: `term(magnitude, term)` writes a term's
/// coefficient magnitude and factors; the signs between terms and the constant are
/// written here. The one layout of the `.tq` printer and the LaTeX renderer.
pub fn affine_with(a: &Affine, term: impl Fn(u64, &AffineTerm) -> String) -> String {
    let mut s = String::new();
    for (k, t) in a.terms.iter().enumerate() {
        if t.coef < 0 {
            s.push('-');
        } else if k > 0 {
            s.push('+');
        }
        s.push_str(&term(t.coef.unsigned_abs(), t));
    }
    if a.terms.is_empty() {
        s.push_str(&a.constant.to_string());
    } else if a.constant > 0 {
        s.push_str(&format!("+{}", a.constant));
    } else if a.constant < 0 {
        s.push_str(&format!("-{}", a.constant.unsigned_abs()));
    }
    s
}

pub fn print_call(c: &Call) -> String {
    let args = c.args.iter().map(print_expr).collect::<Vec<_>>().join(", ");
    if c.brackets {
        format!("{}[{}]", c.func.name, args)
    } else {
        format!("{}({})", c.func.name, args)
    }
}

/// How tightly an expression binds, for parentheses: relations 0, sums 1, products and
/// quotients 2, signs 3, powers 4, the rest 5. The LaTeX renderer reads it too.
pub fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Rel(..) => 0,
        Expr::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
        Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, ..) => 2,
        Expr::Unary(..) => 3,
        Expr::Binary(BinOp::Pow, ..) => 4,
        Expr::Num(t, _) if long_numeral(t) => match crate::sym::integer_source(&parse_int(t)).1 {
            crate::sym::IntForm::Sum => 1,
            crate::sym::IntForm::Product => 2,
            crate::sym::IntForm::Power => 4,
            crate::sym::IntForm::Numeral => 5,
        },
        _ => 5,
    }
}

/// A whole number whose digits are more than the lexer reads in one numeral (the
/// variants write computed values into the tree: `31^30/30^30` written out, a `vary`
/// value `2^1000`): printed as a power, product or sum of short numerals
/// (`sym::integer_source`), so that the text parses back to the same number.
fn long_numeral(t: &str) -> bool {
    t.len() > crate::sym::SOURCE_DIGITS && t.bytes().all(|b| b.is_ascii_digit())
}

fn parse_int(t: &str) -> num_bigint::BigInt {
    t.parse().unwrap_or_default()
}

fn wrap(e: &Expr, min: u8) -> String {
    let s = print_expr(e);
    if precedence(e) < min {
        format!("({s})")
    } else {
        s
    }
}

/// Prints an expression where the grammar reads a value, not a relation (a right side,
/// a `sample`/`at` value, a function's argument, a sum's body, a derivation's line): a
/// relation there is parenthesized (`a.grad = (a > 1)`), since `a.grad = a > 1` does not
/// parse (session 36, h13: `tq derive` and the editor's inserted program broke the file).
pub fn print_value(e: &Expr) -> String {
    wrap(e, 1)
}

/// Prints an expression with the fewest parentheses that parse back to it, where the
/// grammar reads a relation (a claim's body, a given, inside `[...]` or parentheses).
pub fn print_expr(e: &Expr) -> String {
    match e {
        Expr::Num(t, _) if long_numeral(t) => crate::sym::integer_source(&parse_int(t)).0,
        Expr::Num(t, _) => t.clone(),
        Expr::Ref(r) => print_ref(r),
        Expr::Unary(UnOp::Neg, x, _) => format!("-{}", wrap(x, 3)),
        Expr::Binary(op, l, r, _) => match op {
            BinOp::Add => format!("{} + {}", wrap(l, 1), wrap(r, 2)),
            BinOp::Sub => format!("{} - {}", wrap(l, 1), wrap(r, 2)),
            BinOp::Mul => format!("{} * {}", wrap(l, 2), wrap(r, 3)),
            BinOp::Div => format!("{}/{}", wrap(l, 2), wrap(r, 3)),
            // A juxtaposed factor must start like a primary: no leading minus.
            // A number after a number is parenthesized (`2 (3)`, not `2 3`, once a
            // given's value replaced `D` in `2 D`); it parses back to the same product.
            BinOp::Jux => {
                let left = wrap(l, 2);
                let right = wrap(r, 4);
                let digit = |c: char| c.is_ascii_digit() || c == '.';
                if right.starts_with(digit) && left.ends_with(digit) {
                    format!("{left} ({right})")
                } else {
                    format!("{left} {right}")
                }
            }
            // `^` is right-associative (`a^b^c` is `a^(b^c)`): an exponent that is a power
            // is written without parentheses, so that a tower prints as it was written and
            // parses back within the nesting limit (session 32: a tower of 45 `a`s was
            // printed `a^(a^(...))`, 88 deep, and `tq fmt`'s output was refused by E0003).
            BinOp::Pow => format!("{}^{}", wrap(l, 5), wrap(r, 4)),
        },
        Expr::Rel(op, l, r, _) => {
            format!("{} {} {}", wrap(l, 1), op.symbol(), wrap(r, 1))
        }
        Expr::Call(c) => print_call(c),
        Expr::Sum(ids, x, _) => format!("sum_{{{}}}({})", idents_compact(ids), print_value(x)),
        Expr::Softmax(id, x, _) => format!("softmax_{{{}}}({})", id.name, print_value(x)),
        Expr::Deriv(n, d, _) => format!("d({})/d({})", print_ref(n), print_ref(d)),
        Expr::Iverson(x, _) => format!("[{}]", print_expr(x)),
    }
}

fn idents_compact(ids: &[Ident]) -> String {
    ids.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A copy of the program with every span zeroed and claim texts cleared, for
/// comparing programs by structure (the printer round-trip).
pub fn without_spans(p: &Program) -> Program {
    let mut p = p.clone();
    for item in &mut p.items {
        strip_item(item);
    }
    p
}

fn z(s: &mut Span) {
    *s = Span::default();
}

fn strip_item(item: &mut Item) {
    z(&mut item.span);
    match &mut item.kind {
        ItemKind::Size(ids) | ItemKind::Symbol(ids) | ItemKind::Scalar(ids) => {
            ids.iter_mut().for_each(|i| z(&mut i.span))
        }
        ItemKind::Index { names, size, .. } => {
            names.iter_mut().for_each(|i| z(&mut i.span));
            z(&mut size.span);
        }
        ItemKind::SizeMembers { names, range } => {
            names.iter_mut().for_each(|i| z(&mut i.span));
            strip_range(range);
        }
        ItemKind::SizeValue { name, value } => {
            z(&mut name.span);
            strip_expr(value);
        }
        ItemKind::Boundary(_) => {}
        ItemKind::Decl(d) => {
            strip_ref(&mut d.target);
            match &mut d.init {
                Some(Init::Dist(c)) => strip_call(c),
                Some(Init::Value(e)) => strip_expr(e),
                None => {}
            }
            if let Some(r) = &mut d.family {
                strip_range(r);
            }
        }
        ItemKind::Equation(eq) => strip_eq(eq),
        ItemKind::Loop(l) => {
            strip_range(&mut l.range);
            l.body.iter_mut().for_each(strip_item);
        }
        ItemKind::ForIndices(f) => {
            f.indices.iter_mut().for_each(|i| z(&mut i.span));
            f.body.iter_mut().for_each(strip_item);
        }
        ItemKind::Rule(r) => {
            z(&mut r.name.span);
            z(&mut r.var.span);
            r.body.iter_mut().for_each(strip_item);
        }
        ItemKind::At(bs) | ItemKind::Sample(bs) => bs.iter_mut().for_each(strip_binding),
        ItemKind::Claim(c) => {
            c.text.clear();
            strip_expr(&mut c.body);
            if let Some(t) = &mut c.tol {
                strip_expr(t);
            }
            c.given.iter_mut().for_each(strip_expr);
            c.at.iter_mut().for_each(strip_binding);
            if let Some(block) = &mut c.includes {
                block.iter_mut().for_each(strip_item);
            }
        }
        ItemKind::ExpectError(code) => z(&mut code.span),
        ItemKind::Derivation(d) => {
            z(&mut d.name.span);
            d.given.iter_mut().for_each(strip_expr);
            strip_expr(&mut d.start);
            for st in &mut d.steps {
                z(&mut st.span);
                strip_expr(&mut st.expr);
                if let Some(r) = &mut st.rule {
                    z(&mut r.span);
                }
            }
        }
        ItemKind::Vary(ps) => {
            for p in ps {
                z(&mut p.span);
                z(&mut p.name.span);
                match &mut p.domain {
                    VaryDomain::Range(a, b) => {
                        strip_expr(a);
                        strip_expr(b);
                    }
                    VaryDomain::Set(xs) => xs.iter_mut().for_each(strip_expr),
                }
            }
        }
    }
}

fn strip_binding(b: &mut Binding) {
    z(&mut b.name.span);
    strip_expr(&mut b.value);
}

fn strip_range(r: &mut Range) {
    z(&mut r.span);
    z(&mut r.var.span);
    strip_expr(&mut r.from);
    strip_expr(&mut r.to);
}

fn strip_eq(eq: &mut Equation) {
    z(&mut eq.span);
    strip_ref(&mut eq.lhs);
    strip_expr(&mut eq.rhs);
}

fn strip_ref(r: &mut Ref) {
    z(&mut r.span);
    z(&mut r.name.span);
    r.name.sub.iter_mut().for_each(strip_index);
    if let Some(idx) = &mut r.indices {
        idx.iter_mut().for_each(strip_index);
    }
}

fn strip_index(ix: &mut IndexExpr) {
    match ix {
        IndexExpr::Lookup(r) => strip_ref(r),
        IndexExpr::Affine(a) => {
            z(&mut a.span);
            for t in &mut a.terms {
                t.factors.iter_mut().for_each(|f| z(&mut f.span));
            }
        }
    }
}

fn strip_call(c: &mut Call) {
    z(&mut c.span);
    z(&mut c.func.span);
    c.args.iter_mut().for_each(strip_expr);
}

fn strip_expr(e: &mut Expr) {
    match e {
        Expr::Num(_, s) => z(s),
        Expr::Ref(r) => strip_ref(r),
        Expr::Unary(_, x, s) | Expr::Iverson(x, s) => {
            z(s);
            strip_expr(x);
        }
        Expr::Binary(_, l, r, s) | Expr::Rel(_, l, r, s) => {
            z(s);
            strip_expr(l);
            strip_expr(r);
        }
        Expr::Call(c) => strip_call(c),
        Expr::Sum(ids, x, s) => {
            z(s);
            ids.iter_mut().for_each(|i| z(&mut i.span));
            strip_expr(x);
        }
        Expr::Softmax(id, x, s) => {
            z(s);
            z(&mut id.span);
            strip_expr(x);
        }
        Expr::Deriv(n, d, s) => {
            z(s);
            strip_ref(n);
            strip_ref(d);
        }
    }
}
