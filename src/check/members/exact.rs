//! Exact values of sizes and subscripts: member names split into base, subscript and
//! primes, subscripts evaluated with the values in scope, constants as exact fractions.

use super::*;

/// An expression with the names of `vals` replaced by their values, evaluated.
pub(crate) fn eval_with(e: &Expr, vals: &BTreeMap<String, i64>) -> Option<Exact> {
    let mut x = Expander {
        consts: vals.clone(),
        ..Expander::default()
    };
    let mut e = e.clone();
    x.subst_expr(&mut e);
    eval_const(&e)
}

/// The name of member `k` of the per-member size `base`: `N_1`, and `N_{-1}` for a
/// negative member, as an author writes it (`N_-1` read as no name: probe36 h26).
pub(super) fn member_name(base: &str, k: i64) -> String {
    if k < 0 {
        format!("{base}_{{{k}}}")
    } else {
        format!("{base}_{k}")
    }
}

/// `N_{l-1}'` as (`N`, `l-1`, `'`); `n_0` as (`n`, `0`, ``).
pub(super) fn split_member(name: &str) -> Option<(&str, &str, &str)> {
    let (base, rest) = name.split_once('_')?;
    if base.is_empty() || !base.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let body = rest.trim_end_matches('\'');
    let primes = &rest[body.len()..];
    let sub = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .unwrap_or(body);
    if sub.is_empty() {
        return None;
    }
    Some((base, sub, primes))
}

/// An affine subscript (`l-1`, `2l+1`, `L`) with the values in scope; `None` when a
/// name has no value or the text is not affine.
pub(super) fn eval_subscript(sub: &str, vals: &BTreeMap<String, i64>) -> Option<i64> {
    Form::of_text(sub)?.eval(vals)
}

/// A subscript as a form: the coefficient of each monomial (a product of names, sorted:
/// `l`, `2l`, `L*l`) and a constant. The one reader of subscripts, from a member name's
/// text (`N_{l-1}`), the syntax tree's index positions and range ends (`+`, `-`, numbers
/// and plain names); [`Form::eval`] gives its value with the values in scope, and the
/// forms compare symbolically (E0506's distances between members).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Form {
    pub terms: BTreeMap<Vec<String>, i64>,
    pub constant: i64,
}

impl Form {
    fn term(names: Vec<String>, coef: i64) -> Form {
        let mut f = Form::default();
        f.add_term(names, coef).map(|()| f).unwrap_or_default()
    }

    fn add_term(&mut self, mut names: Vec<String>, coef: i64) -> Option<()> {
        if names.is_empty() {
            self.constant = self.constant.checked_add(coef)?;
            return Some(());
        }
        names.sort();
        let c = self.terms.entry(names.clone()).or_insert(0);
        *c = c.checked_add(coef)?;
        if *c == 0 {
            self.terms.remove(&names);
        }
        Some(())
    }

    /// `self + sign * other`, in checked arithmetic.
    fn plus(mut self, other: Form, sign: i64) -> Option<Form> {
        for (m, c) in other.terms {
            self.add_term(m, c.checked_mul(sign)?)?;
        }
        self.add_term(Vec::new(), other.constant.checked_mul(sign)?)?;
        Some(self)
    }

    /// `self - other`, in checked arithmetic.
    pub fn minus(&self, other: &Form) -> Option<Form> {
        self.clone().plus(other.clone(), -1)
    }

    /// The least value when every name is a size (at least 1): the constant plus the
    /// coefficients, when none is negative (each monomial is least at 1); `None` when
    /// some coefficient is negative (no least value in the sizes).
    pub fn least(&self) -> Option<i64> {
        self.terms.values().try_fold(self.constant, |acc, c| {
            (*c >= 0).then(|| acc.checked_add(*c))?
        })
    }

    /// The coefficient of a name alone (`2` in `2l + 1` for `l`).
    pub fn coef(&self, name: &str) -> i64 {
        self.terms
            .get([name.to_string()].as_slice())
            .copied()
            .unwrap_or(0)
    }

    pub fn is_constant(&self) -> bool {
        self.terms.is_empty()
    }

    /// An index position of the syntax tree (`l`, `l-1`, `2x+dx`).
    pub fn of_affine(a: &Affine) -> Option<Form> {
        let mut f = Form::default();
        for t in &a.terms {
            f.add_term(t.factors.iter().map(|x| x.name.clone()).collect(), t.coef)?;
        }
        f.add_term(Vec::new(), a.constant)?;
        Some(f)
    }

    /// A range end: whole numbers, plain names, `+`, `-` and negation.
    pub fn of_expr(e: &Expr) -> Option<Form> {
        match e {
            Expr::Num(t, _) => Some(Form::term(Vec::new(), t.parse().ok()?)),
            Expr::Ref(r) if r.indices.is_none() && !r.grad && r.name.sub.is_empty() => Some(
                Form::term(vec![crate::syntax::printer::print_name(&r.name)], 1),
            ),
            Expr::Unary(UnOp::Neg, x, _) => Form::default().plus(Form::of_expr(x)?, -1),
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) => {
                let sign = if *op == BinOp::Add { 1 } else { -1 };
                Form::of_expr(l)?.plus(Form::of_expr(r)?, sign)
            }
            _ => None,
        }
    }

    /// A subscript's text (`l-1`, `2l+1`, `2*l - L`); `None` when it is not affine.
    pub fn of_text(sub: &str) -> Option<Form> {
        let s: String = sub.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() || s.contains(',') {
            return None;
        }
        let mut form = Form::default();
        let mut chars = s.chars().peekable();
        let mut first = true;
        while chars.peek().is_some() {
            let mut sign = 1;
            match chars.peek() {
                Some('+') => {
                    chars.next();
                }
                Some('-') => {
                    sign = -1;
                    chars.next();
                }
                _ if !first => return None,
                _ => {}
            }
            first = false;
            let (mut coef, mut names): (i64, Vec<String>) = (sign, Vec::new());
            loop {
                let mut tok = String::new();
                while let Some(c) = chars.peek().copied() {
                    if c.is_ascii_digit()
                        && (tok.is_empty() || tok.chars().all(|d| d.is_ascii_digit()))
                    {
                        tok.push(c);
                        chars.next();
                    } else if c.is_ascii_alphabetic() || (c.is_ascii_digit() && !tok.is_empty()) {
                        if !tok.is_empty() && tok.chars().all(|d| d.is_ascii_digit()) {
                            break; // `2l`: the coefficient ends before the name
                        }
                        tok.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if tok.is_empty() {
                    return None;
                }
                match tok.parse::<i64>() {
                    Ok(n) => coef = coef.checked_mul(n)?,
                    Err(_) => names.push(tok),
                }
                match chars.peek() {
                    Some('*') => {
                        chars.next();
                    }
                    Some(c) if c.is_ascii_alphanumeric() => {}
                    _ => break,
                }
            }
            form.add_term(names, coef)?;
        }
        Some(form)
    }

    /// Whether the range `from..to` runs backwards: `to - from` is negative at every
    /// size (`3..1`, `L..L-2`, `T..0`: no members), or at most zero and zero only where
    /// every size it names is 1 (`T..1`, `L-1..0`: one member there, none beyond).
    /// Every name of `to - from` must be a size (`is_size`: at least 1) with a
    /// coefficient of at most 0, so its largest value is at every size 1. Returns that
    /// largest value and the sizes named, or `None` when the range is not backwards or
    /// not an affine form in sizes.
    pub fn backwards(
        from: &Expr,
        to: &Expr,
        is_size: impl Fn(&str) -> bool,
    ) -> Option<(i64, Vec<String>)> {
        let diff = Form::of_expr(to)?.plus(Form::of_expr(from)?, -1)?;
        let sizes_only = diff.terms.keys().all(|m| m.iter().all(|n| is_size(n)));
        if !sizes_only || diff.terms.values().any(|c| *c > 0) {
            return None;
        }
        let largest = diff
            .terms
            .values()
            .try_fold(diff.constant, |acc, c| acc.checked_add(*c))?;
        if largest > 0 || (largest == 0 && diff.terms.is_empty()) {
            return None;
        }
        let mut names: Vec<String> = diff.terms.keys().flatten().cloned().collect();
        names.sort();
        names.dedup();
        Some((largest, names))
    }

    /// The value with the values in scope; `None` when a name has none (or on overflow).
    pub fn eval(&self, vals: &BTreeMap<String, i64>) -> Option<i64> {
        let mut total = self.constant;
        for (m, c) in &self.terms {
            let mut t = *c;
            for n in m {
                t = t.checked_mul(*vals.get(n)?)?;
            }
            total = total.checked_add(t)?;
        }
        Some(total)
    }
}

/// An exact rational value of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Exact {
    Int(i64),
    Frac(i64, i64),
}

pub(super) fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

pub(super) fn norm(n: i64, d: i64) -> Option<Exact> {
    if d == 0 {
        return None;
    }
    let g = gcd(n, d).max(1);
    let (mut n, mut d) = (n / g, d / g);
    if d < 0 {
        n = n.checked_neg()?;
        d = d.checked_neg()?;
    }
    Some(if d == 1 {
        Exact::Int(n)
    } else {
        Exact::Frac(n, d)
    })
}

pub(super) fn parts(x: Exact) -> (i64, i64) {
    match x {
        Exact::Int(n) => (n, 1),
        Exact::Frac(n, d) => (n, d),
    }
}

/// Whether an expression names anything (after the fixed sizes were
/// written in as numbers): a value without names that cannot be computed
/// divides by zero or overflows.
pub(super) fn uses_a_name(e: &Expr) -> bool {
    let mut any = false;
    crate::syntax::visit::walk_refs(e, &mut |_| any = true);
    any
}

/// The value of an expression of numbers, `+ - * /`, whole powers, `floor` and `ceil`
/// (with the fixed sizes already replaced by numbers), in checked exact arithmetic.
pub(crate) fn eval_const(e: &Expr) -> Option<Exact> {
    match e {
        Expr::Num(s, _) => s.parse::<i64>().ok().map(Exact::Int),
        Expr::Unary(UnOp::Neg, x, _) => {
            let (n, d) = parts(eval_const(x)?);
            norm(n.checked_neg()?, d)
        }
        Expr::Binary(op, l, r, _) => {
            let (a, b) = (parts(eval_const(l)?), parts(eval_const(r)?));
            match op {
                BinOp::Add => norm(
                    a.0.checked_mul(b.1)?.checked_add(b.0.checked_mul(a.1)?)?,
                    a.1.checked_mul(b.1)?,
                ),
                BinOp::Sub => norm(
                    a.0.checked_mul(b.1)?.checked_sub(b.0.checked_mul(a.1)?)?,
                    a.1.checked_mul(b.1)?,
                ),
                BinOp::Mul | BinOp::Jux => norm(a.0.checked_mul(b.0)?, a.1.checked_mul(b.1)?),
                BinOp::Div => norm(a.0.checked_mul(b.1)?, a.1.checked_mul(b.0)?),
                BinOp::Pow => {
                    if b.1 != 1 || !(0..=62).contains(&b.0) {
                        return None;
                    }
                    let k = b.0 as u32;
                    norm(a.0.checked_pow(k)?, a.1.checked_pow(k)?)
                }
            }
        }
        Expr::Call(c) if c.args.len() == 1 && matches!(c.func.name.as_str(), "floor" | "ceil") => {
            let (n, d) = parts(eval_const(&c.args[0])?);
            let q = n.div_euclid(d);
            let v = if c.func.name == "floor" || n.rem_euclid(d) == 0 {
                q
            } else {
                q.checked_add(1)?
            };
            Some(Exact::Int(v))
        }
        _ => None,
    }
}

/// Whether a given is a relation between two numbers that fails (`1 >= 2`: `given l >=
/// 2` of a claim over an unrolled loop's variable at l = 1). A given that is not such a
/// relation, or that cannot be evaluated exactly, does not fail here.
pub(super) fn constant_given_fails(g: &Expr) -> bool {
    let Expr::Rel(op, l, r, _) = g else {
        return false;
    };
    let (Some(a), Some(b)) = (eval_const(l), eval_const(r)) else {
        return false;
    };
    let ((an, ad), (bn, bd)) = (parts(a), parts(b));
    // a/ad against b/bd with positive denominators, in i128 (no overflow).
    let (x, y) = (an as i128 * bd as i128, bn as i128 * ad as i128);
    let (x, y) = if (ad as i128 * bd as i128) < 0 {
        (-x, -y)
    } else {
        (x, y)
    };
    !match op {
        RelOp::Eq => x == y,
        RelOp::Lt => x < y,
        RelOp::Le => x <= y,
        RelOp::Gt => x > y,
        RelOp::Ge => x >= y,
        RelOp::Approx => return false,
    }
}

/// A derived size's `value` with the claim's settings put in: the whole-number ones
/// (`vals`) and the symbolic ones (`X = D + 3`, a size on the left, a value that is no
/// number on the right), index capitals read as their sizes; when what remains is a
/// number that is no size (not whole, or below 1), that number as text and the span of
/// the first symbolic given put in. `None` when no symbolic given applies or the value
/// still reads a size (a value at some sizes only is left to the points' wholeness test).
pub(super) fn symbolic_no_size(
    value: &Expr,
    given: &[Expr],
    vals: &BTreeMap<String, i64>,
    capitals: &BTreeMap<String, String>,
) -> Option<(String, Span)> {
    let mut symbolic: BTreeMap<String, (Expr, Span)> = BTreeMap::new();
    for g in given {
        if let Expr::Rel(RelOp::Eq, l, r, sp) = g {
            if let Expr::Ref(rf) = &**l {
                if rf.indices.is_none() && rf.name.sub.is_empty() && eval_const(r).is_none() {
                    symbolic
                        .entry(rf.name.base.clone())
                        .or_insert(((**r).clone(), *sp));
                }
            }
        }
    }
    if symbolic.is_empty() {
        return None;
    }
    let mut first: Option<Span> = None;
    fn put(
        e: &Expr,
        vals: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
        symbolic: &BTreeMap<String, (Expr, Span)>,
        first: &mut Option<Span>,
    ) -> Expr {
        match e {
            Expr::Ref(r) if r.indices.is_none() && r.name.sub.is_empty() => {
                let n = capitals.get(&r.name.base).unwrap_or(&r.name.base);
                if let Some(v) = vals.get(n).or_else(|| vals.get(&r.name.base)) {
                    return Expr::Num(v.to_string(), r.span);
                }
                if let Some((x, sp)) = symbolic.get(n) {
                    first.get_or_insert(*sp);
                    return x.clone();
                }
                // An index capital as its size (`DX` as `D`), so that it cancels.
                let mut r = r.clone();
                r.name.base = n.clone();
                Expr::Ref(r)
            }
            e => crate::syntax::visit::map_children(e, |x| put(x, vals, capitals, symbolic, first)),
        }
    }
    // Settings may read each other (`X = Z + 1`, `Z = D + 2`): a few rounds.
    let mut e = value.clone();
    for _ in 0..4 {
        e = put(&e, vals, capitals, &symbolic, &mut first);
    }
    let sp = first?;
    // The same value at four points of the names left (whole numbers apart from each
    // other): a constant there (the sizes' values are whole, and these values are the
    // arithmetic of sizes, affine in practice).
    let mut names: Vec<String> = Vec::new();
    crate::syntax::visit::walk_refs(&e, &mut |r| {
        let n = crate::syntax::printer::print_name(&r.name);
        if !names.contains(&n) {
            names.push(n);
        }
    });
    let mut got: Option<Exact> = None;
    for k in 0..4i64 {
        let at: BTreeMap<String, i64> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), 2 + 3 * k + 5 * i as i64 + k * k * i as i64))
            .collect();
        let v = eval_with(&e, &at)?;
        match &got {
            None => got = Some(v),
            Some(g) if *g == v => {}
            Some(_) => return None,
        }
    }
    let shown = match got? {
        Exact::Int(v) if (1..=1_000_000).contains(&v) => return None,
        Exact::Int(v) => v.to_string(),
        Exact::Frac(n, d) => format!("{n}/{d}"),
    };
    Some((shown, sp))
}

/// The first decimal number written in a size's value (`0.5` of `size L = 0.5 * 4`,
/// `2.0` of `size K = 2.0`): E0412 at it, naming the whole number or fraction it stands
/// for. A size is computed exactly from whole numbers and fractions, and a decimal was
/// reported as a value that "divides by zero or is too large" (probe35/p a19).
pub(super) fn decimal_in_size(name: &Ident, value: &Expr) -> Option<Diagnostic> {
    let mut found: Option<(String, Span)> = None;
    crate::syntax::visit::walk_expr(value, |x| {
        if found.is_some() {
            return false;
        }
        if let Expr::Num(s, sp) = x {
            if s.parse::<i64>().is_err() {
                found = Some((s.clone(), *sp));
            }
        }
        true
    });
    let (text, span) = found?;
    let exact = decimal_as_fraction(&text);
    let mut d = Diagnostic::error(
        "E0412",
        span,
        format!(
            "`{text}` in the value of `{}` is a decimal: a size is a whole number, computed exactly from whole numbers and fractions",
            name.name
        ),
    )
    .with_label("a decimal");
    d = match exact {
        Some(w) => d.with_hint(format!(
            "did you mean `{w}`? (sizes are whole: write the number as a whole number or a fraction, and round a quotient with `floor(...)` or `ceil(...)`)"
        )),
        None => d.with_hint(
            "write the number as a whole number or a fraction (`1/2` for `0.5`); a size is a whole number from 1 to 1,000,000",
        ),
    };
    Some(d)
}

/// `2.0` as `2`, `0.5` as `(1/2)`, `1.25` as `(5/4)`, `1e3` as `1000`: the exact value of
/// a decimal written with at most 12 digits after the point; `None` otherwise.
fn decimal_as_fraction(s: &str) -> Option<String> {
    let (mant, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if frac.len() > 12 || int.len() > 12 || !(-12..=12).contains(&exp) {
        return None;
    }
    let digits = format!("{int}{frac}");
    let mut num: i128 = digits.parse().ok()?;
    let mut den: i128 = 10i128.pow(frac.len() as u32);
    if exp >= 0 {
        num = num.checked_mul(10i128.pow(exp as u32))?;
    } else {
        den = den.checked_mul(10i128.pow((-exp) as u32))?;
    }
    let g = gcd128(num.abs(), den);
    let (n, d) = (num / g.max(1), den / g.max(1));
    Some(if d == 1 {
        n.to_string()
    } else {
        format!("({n}/{d})")
    })
}

fn gcd128(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd128(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_split_into_base_subscript_and_primes() {
        assert_eq!(split_member("N_{l-1}"), Some(("N", "l-1", "")));
        assert_eq!(split_member("n_l'"), Some(("n", "l", "'")));
        assert_eq!(split_member("N_0"), Some(("N", "0", "")));
        assert_eq!(split_member("N"), None);
        assert_eq!(split_member("_x"), None);
    }

    #[test]
    fn subscripts_evaluate_with_the_values_in_scope() {
        let vals: BTreeMap<String, i64> = [("l".to_string(), 2), ("L".to_string(), 3)].into();
        assert_eq!(eval_subscript("l-1", &vals), Some(1));
        assert_eq!(eval_subscript("2l+1", &vals), Some(5));
        assert_eq!(eval_subscript("2*l - L", &vals), Some(1));
        assert_eq!(eval_subscript("L", &vals), Some(3));
        assert_eq!(eval_subscript("k", &vals), None);
        assert_eq!(eval_subscript("l,1", &vals), None);
        assert_eq!(eval_subscript("l+", &vals), None);
        assert_eq!(eval_subscript("l*L - 2", &vals), Some(4));
    }

    #[test]
    fn the_tree_and_the_text_read_the_same_form() {
        let p = crate::syntax::parser::parse("y[2l+1, L-l-1] = 1\n").program;
        let ItemKind::Equation(eq) = &p.items[0].kind else {
            panic!("{:?}", p.items[0].kind)
        };
        let ix = eq.lhs.indices.as_ref().unwrap();
        for (ix, text) in ix.iter().zip(["2l+1", "L-l-1"]) {
            let IndexExpr::Affine(a) = ix else { panic!() };
            assert_eq!(Form::of_affine(a), Form::of_text(text), "{text}");
        }
        let f = Form::of_text("L-l-1").unwrap();
        assert_eq!((f.coef("l"), f.coef("L"), f.constant), (-1, 1, -1));
        assert!(Form::of_text("-3").unwrap().is_constant());
    }

    #[test]
    fn constant_values_are_exact_and_round_only_by_floor_and_ceil() {
        let v = |src: &str| {
            let p = crate::syntax::parser::parse(&format!("size X = {src}\n")).program;
            match &p.items[0].kind {
                ItemKind::SizeValue { value, .. } => eval_const(value),
                k => panic!("{k:?}"),
            }
        };
        assert_eq!(v("floor((32 - 3)/2) + 1"), Some(Exact::Int(15)));
        assert_eq!(v("ceil(29/2)"), Some(Exact::Int(15)));
        assert_eq!(v("ceil(28/2)"), Some(Exact::Int(14)));
        assert_eq!(v("floor(-1/2)"), Some(Exact::Int(-1)));
        assert_eq!(v("7/2"), Some(Exact::Frac(7, 2)));
        assert_eq!(v("2^10"), Some(Exact::Int(1024)));
        assert_eq!(v("1/0"), None);
        assert_eq!(v("J + 1"), None);
    }
}
