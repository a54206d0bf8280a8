//! A claim's values at a variant: its sides through the file's scope or the moments
//! engine, under its own givens; a relation between moments split into its factor;
//! an answer as shown (exact, or exact with four significant digits).

use super::*;

/// Whether an expression reads a moment (`E`, `Var`, `Cov`, `Std`).
pub(super) fn has_moment(e: &Expr) -> bool {
    let mut found = false;
    crate::syntax::visit::walk_expr(e, |x| {
        if let Expr::Call(c) = x {
            found |= matches!(c.func.name.as_str(), "E" | "Var" | "Cov" | "Std");
        }
        !found
    });
    found
}

/// A right side `c M` (or `c M / d`, `M`) with `M` its one factor that reads a moment:
/// the factors of `c`'s numerator, those of its denominator, and `M`. `None` when no
/// factor or more than one reads a moment, or when a divisor does.
pub(super) fn moment_factor(e: &Expr) -> Option<(Vec<&Expr>, Vec<&Expr>, &Expr)> {
    fn factors<'a>(e: &'a Expr, num: &mut Vec<&'a Expr>, den: &mut Vec<&'a Expr>) {
        match e {
            Expr::Binary(BinOp::Mul | BinOp::Jux, a, b, _) => {
                factors(a, num, den);
                factors(b, num, den);
            }
            Expr::Binary(BinOp::Div, a, b, _) => {
                factors(a, num, den);
                den.push(b);
            }
            _ => num.push(e),
        }
    }
    let (mut num, mut den) = (Vec::new(), Vec::new());
    factors(e, &mut num, &mut den);
    if den.iter().any(|d| has_moment(d)) {
        return None;
    }
    let mut moments = num.iter().filter(|f| has_moment(f));
    let m = *moments.next()?;
    if moments.next().is_some() {
        return None;
    }
    // The moment factor is a moment, not a sum that reads one: `s Var(h_l) + sb` is no
    // factor times a moment (`tq export` asked `Var(h_{l+1}) / (s Var(h_l) + sb)`, whose
    // answer is 1 in every variant, and so showed its own answer: a probe's finding).
    if matches!(m, Expr::Binary(BinOp::Add | BinOp::Sub, ..)) {
        return None;
    }
    num.retain(|f| !std::ptr::eq(*f, m));
    Some((num, den, m))
}

/// A value as an answer shows it: exact where it is a number or a formula in what is left
/// free (a layer index `l`), else exact with four significant digits.
pub(super) fn shown(v: &sym::Expr) -> String {
    if !v.free_symbols().is_empty() {
        return sym::to_latex(v);
    }
    match v.as_num() {
        Some(r) => sym::to_latex(&sym::Expr::num(r.clone())),
        None => match v.eval_f64(&BTreeMap::new()) {
            Ok(x) if x.is_finite() => format!("{} \\approx {}", sym::to_latex(v), sig(x)),
            _ => sym::to_latex(v),
        },
    }
}

/// A claim's side as a symbolic value: written in the sizes and symbols, or through the
/// moments engine's exact values of the moments it names (`Var(R_{l+1})`, `solve(...)`);
/// `None` when a moment has no exact closed form (an approximation, a bound, quadrature).
pub(super) fn side_value(
    e: &Expr,
    claim: &Claim,
    env: &Env,
    base: &Scope,
    moments: &std::cell::OnceCell<crate::moments::Analysis>,
    p: &Program,
    backward: &crate::grad::Backward,
) -> Option<sym::Expr> {
    // The file's scope first: a value a scalar program computes (`x` of `claim x > a`) is
    // written out by its definition, so an inequality's answer relates the two values
    // (fixd33_open/var_ineq.tq: the answer was `x > 3`, the left side unevaluated).
    if let Ok(v) = lower(e, base).or_else(|_| lower(e, &Scope::default())) {
        return Some(v);
    }
    let a = moments.get_or_init(|| {
        sym::with_work_budget(sym::FILE_WORK, || {
            crate::moments::analyze(p, env, &backward.items)
        })
        .0
    });
    let mc = crate::claims::moments::calls(claim, a, env, base);
    if !mc.approx.is_empty() || !mc.opaque.is_empty() || !mc.bounds.is_empty() {
        return None;
    }
    let mut scope = base.clone();
    scope.calls.extend(mc.calls);
    lower(e, &scope).ok()
}

/// A value under the claim's own givens: each setting's value (`name^n = value`: the
/// positive root), as the one reader of givens reads them
/// ([`crate::analysis::givens::Givens`]).
pub(super) fn claim_givens(mut v: sym::Expr, c: &Claim, env: &Env) -> sym::Expr {
    let givens = crate::analysis::givens::Givens::resolve_and_read(&c.given, &c.at, env);
    for (name, x) in givens.values(false).unwrap_or_default() {
        v = sym::subs(&v, &name, &x);
    }
    sym::simplify(&v)
}

/// Four significant digits.
pub(super) fn sig(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if (-3..6).contains(&mag) {
        let places = (3 - mag).max(0) as usize;
        let s = format!("{x:.places$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.3e}");
        match s.split_once('e') {
            Some((m, e)) => format!("{m} \\cdot 10^{{{e}}}"),
            None => s,
        }
    }
}

/// The values of a point's bindings (`sample` lines, then the `at` settings in force,
/// a later one of a name replacing an earlier): each a constant. A value may read the
/// point's other names, in any order (`at a = 1, b = 2 a`, docs/language.md): those are
/// resolved with the values found, until none is added (probe35/p a09: `b = 2 a` was
/// left out, so no stated number of the scalar program was restated and every variant
/// but the file's own failed).
pub(super) fn point_values<'a>(
    bindings: impl Iterator<Item = &'a Binding>,
) -> BTreeMap<String, sym::Expr> {
    let mut written: BTreeMap<String, sym::Expr> = BTreeMap::new();
    for b in bindings {
        match lower(&b.value, &Scope::default()) {
            Ok(v) => {
                written.insert(b.name.name.clone(), sym::simplify(&v));
            }
            Err(_) => {
                written.remove(&b.name.name);
            }
        }
    }
    let mut consts: BTreeMap<String, sym::Expr> = BTreeMap::new();
    for _ in 0..=written.len() {
        let mut added = false;
        for (n, v) in &written {
            if consts.contains_key(n) {
                continue;
            }
            let mut v = v.clone();
            let free = v.free_symbols();
            if free.contains(n) {
                continue;
            }
            for m in &free {
                if let Some(x) = consts.get(m) {
                    v = sym::subs(&v, m, x);
                }
            }
            let v = sym::simplify(&v);
            if v.free_symbols().is_empty() {
                consts.insert(n.clone(), v);
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    consts
}

/// `e` with a point's values substituted, simplified.
pub(super) fn subs_in(e: &sym::Expr, consts: &BTreeMap<String, sym::Expr>) -> sym::Expr {
    let mut e = e.clone();
    for (n, v) in consts {
        e = sym::subs(&e, n, v);
    }
    sym::simplify(&e)
}
