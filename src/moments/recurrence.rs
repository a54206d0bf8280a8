//! Recurrences: the state placeholders in a distribution, and first-order linear
//! recurrences with constant coefficients solved in closed form.

use super::rv::Rv;
use super::{m2_sym, mean_sym, rv, Key, Recurrence};
use crate::sym::{self, Expr};

pub(super) fn mentions_state(rv: &Rv) -> bool {
    holds_state(&rv.mean) || holds_state(&rv.m2)
}

/// Whether an expression holds a state's placeholder (`E#h`, `M#h`).
pub(super) fn holds_state(e: &Option<Expr>) -> bool {
    e.as_ref().is_some_and(|e| {
        e.free_symbols()
            .iter()
            .any(|s| s.starts_with("E#") || s.starts_with("M#"))
    })
}

/// Substitutes a symbol in every expression of a distribution.
pub fn subs_rv(rv: &Rv, name: &str, value: &Expr) -> Rv {
    let s = |e: &Expr| sym::simplify(&e.subs(name, value));
    let mut out = rv.clone();
    out.mean = rv.mean.as_ref().map(s);
    out.m2 = rv.m2.as_ref().map(s);
    out.approx_mean = rv.approx_mean.as_ref().map(|(e, r)| (s(e), r.clone()));
    out.positive_mean = rv.positive_mean.as_ref().map(s);
    out.var_bounds = rv
        .var_bounds
        .iter()
        .map(|(e, r)| (s(e), r.clone()))
        .collect();
    out.quad = rv.quad.as_ref().map(|q| rv::Quad {
        func: q.func,
        mean: s(&q.mean),
        var: s(&q.var),
        approx: q.approx,
    });
    out.uniform = rv.uniform.as_ref().map(|(a, b)| (s(a), s(b)));
    out.finite = rv
        .finite
        .as_ref()
        .map(|f| f.iter().map(|(v, p)| (s(v), s(p))).collect());
    out.sources = rv.sources.iter().map(|x| x.subs(name, value)).collect();
    out.lin0 = rv.lin0.iter().map(|x| x.subs(name, value)).collect();
    out
}

/// [`geometric`] with the ratio a written `1 + q` for a fresh placeholder `q`, recorded
/// in `geom` as `a - 1` ([`super::Analysis::geometric`]): the form a member at a whole
/// subscript expands into a polynomial.
fn geometric_inner(a: &Expr, b: &Expr, x0: &Expr, k: &Expr, geom: &mut Vec<Expr>) -> Expr {
    if sym::identical(a, &Expr::one()) || b.is_zero() {
        return geometric(a, b, x0, k);
    }
    let q = Expr::sym(&format!("#q{}", geom.len()));
    geom.push(sym::simplify(&(a.clone() - Expr::one())));
    let ak = Expr::pow(Expr::one() + q.clone(), k.clone());
    sym::simplify(&(whole_pow(a, k) * x0.clone() + b.clone() * (ak - Expr::one()) / q))
}

/// The placeholders `#q<i>` of [`geometric_inner`] in a member's distribution resolved:
/// with `expand` (a member at a whole subscript, whose powers of `1 + q` are then
/// polynomials that the division by `q` leaves without a denominator) and then `q`
/// replaced by `a - 1`.
pub fn resolve_geometric(rv: &Rv, geom: &[Expr], expand: bool) -> Rv {
    let mentions = |e: &Option<Expr>| {
        e.as_ref()
            .is_some_and(|e| e.free_symbols().iter().any(|s| s.starts_with("#q")))
    };
    if !mentions(&rv.mean) && !mentions(&rv.m2) {
        return rv.clone();
    }
    let mut out = rv.clone();
    if expand {
        let ex = |e: &Option<Expr>| e.as_ref().map(|e| sym::simplify(&sym::expand(e)));
        out.mean = ex(&rv.mean);
        out.m2 = ex(&rv.m2);
    }
    for (i, a1) in geom.iter().enumerate().rev() {
        out = subs_rv(&out, &format!("#q{i}"), a1);
    }
    out
}

/// `a^k` for a whole number of steps `k`: `(x^n)^k = x^(n k)` for a whole `n`, an identity
/// at every whole `k` (the recurrence's step count, whatever the sign of `x`), so a closed
/// form meets a claim written `c^(2 l)` in the normal form (`(c^2)^l` did not: a true
/// `Var(h_l) == c^(2 l) + ...` of an affine recurrence was only confirmed;
/// tests/cases/lead24/whole_powers.tq). A power of a product is left as it is, as the
/// normal form leaves it on a claim's side (`(J sigma^2/2)^l`), and `solve` takes its root.
pub fn whole_pow(a: &Expr, k: &Expr) -> Expr {
    match a {
        Expr::Pow(x, n) if n.as_int().is_some() => {
            Expr::pow((**x).clone(), Expr::mul(vec![(**n).clone(), k.clone()]))
        }
        _ => Expr::pow(a.clone(), k.clone()),
    }
}

/// `e` with every power whose exponent is whole-valued (a polynomial with whole
/// coefficients in the names of `whole`, which take whole values: a family's subscript)
/// written by [`whole_pow`]: `(c^2)^l` is `c^(2 l)`, `(c^-1)^(l-1)` is `c^(1 - l)`.
/// Identities at every whole exponent, whatever the sign of the base. Applied to the
/// closed forms of the moments engine and to both sides of a scalar claim.
pub fn whole_exponents(e: &Expr, whole: &std::collections::BTreeSet<String>) -> Expr {
    match e {
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| whole_exponents(t, whole)).collect()),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| whole_exponents(f, whole)).collect()),
        Expr::Func(f, x) => Expr::func(*f, whole_exponents(x, whole)),
        Expr::Pow(b, k) => {
            let (b, k) = (whole_exponents(b, whole), whole_exponents(k, whole));
            if whole_valued(&k, whole) {
                whole_pow(&b, &k)
            } else {
                Expr::pow(b, k)
            }
        }
    }
}

/// Whether `k` takes whole values wherever the names of `whole` do: a polynomial with
/// whole coefficients in them.
fn whole_valued(k: &Expr, whole: &std::collections::BTreeSet<String>) -> bool {
    match k {
        Expr::Num(r) => r.is_integer(),
        Expr::Sym(s) => whole.contains(s),
        Expr::Add(ts) => ts.iter().all(|t| whole_valued(t, whole)),
        Expr::Mul(fs) => fs.iter().all(|f| whole_valued(f, whole)),
        Expr::Pow(b, n) => n.as_int().is_some_and(|n| n >= 0) && whole_valued(b, whole),
        Expr::Func(..) => false,
    }
}

/// `x' = a x + b` → the value after k steps from x0.
fn geometric(a: &Expr, b: &Expr, x0: &Expr, k: &Expr) -> Expr {
    if sym::identical(a, &Expr::one()) {
        return sym::simplify(&(x0.clone() + b.clone() * k.clone()));
    }
    let ak = whole_pow(a, k);
    if b.is_zero() {
        return sym::simplify(&(ak * x0.clone()));
    }
    sym::simplify(
        &(ak.clone() * x0.clone() + b.clone() * (ak - Expr::one()) / (a.clone() - Expr::one())),
    )
}

/// Splits `f(x)` into `a x + b` when it is linear in `x` with a, b free of `others`.
fn linear_in(f: &Expr, x: &str, others: &[&str]) -> Option<(Expr, Expr)> {
    let f = sym::expand(f);
    let a = sym::simplify(&f.diff(x));
    let b = sym::simplify(&(f.clone() - a.clone() * Expr::sym(x)));
    // A coefficient that mentions the moments of another state of the loop (`M#h` of
    // `h_l` in `acc_{l+1} = acc_l + h_{l+1}`) is not constant: that state changes from
    // step to step, and a closed form that took it as a constant would be wrong.
    let free = |e: &Expr| {
        let fs = e.free_symbols();
        !fs.contains(x)
            && others.iter().all(|o| !fs.contains(*o))
            && !fs.iter().any(|s| s.contains('#'))
    };
    if free(&a) && free(&b) {
        Some((a, b))
    } else {
        None
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn solve_state(
    k: &Key,
    next: &Rv,
    start: &Rv,
    var: &str,
    cr: i64,
    cw: i64,
    n0: &Expr,
    steps: &dyn Fn(Expr) -> Expr,
    geom: &mut Vec<Expr>,
) -> Recurrence {
    let (ms, vs) = (mean_sym(k), m2_sym(k));
    let sub_read = sym::simplify(&(Expr::sym(var) + Expr::int(cr)));
    let sub_write = sym::simplify(&(Expr::sym(var) + Expr::int(cw)));
    let mut rec = Recurrence {
        tensor: k.0.clone(),
        grad: k.1,
        var: var.to_string(),
        from: sub_read,
        to: sub_write,
        mean_step: Expr::zero(),
        var_step: None,
        mean_closed: None,
        var_closed: None,
        mean_inner: None,
        var_inner: None,
        start: n0.clone(),
        rules: next.rules.clone(),
        approx: next.approx.clone(),
        unsolved: None,
    };
    // The mean first: its recurrence may be solved when the second moment's is not
    // known at all (the step applies a function with no exact second-moment rule).
    let (Some(mean), Some(m0)) = (&next.mean, start.mean.clone()) else {
        rec.unsolved = Some("the next member's moments are not known exactly".into());
        return rec;
    };
    rec.mean_step = sym::simplify(&mean.subs(&ms, &Expr::sym("x")));
    let Some((am, bm)) = linear_in(mean, &ms, &[var, &vs]) else {
        rec.unsolved =
            Some("the mean's recurrence is not linear with constant coefficients".into());
        return rec;
    };
    let n = Expr::sym("#n");
    let kk = steps(n.clone());
    let mean_closed = geometric(&am, &bm, &m0, &kk);
    let mean_inner = geometric_inner(&am, &bm, &m0, &kk, geom);
    let (Some(m2), Some(v0)) = (&next.m2, start.var()) else {
        rec.unsolved = Some("the next member's second moment is not known exactly".into());
        rec.mean_closed = Some(mean_closed);
        rec.mean_inner = Some(mean_inner);
        return rec;
    };
    // Var(next) in terms of Var(state) and E(state).
    let v_next = sym::simplify(&(m2.clone() - Expr::pow(mean.clone(), Expr::int(2))));
    let v_in = Expr::sym("#v");
    let v_next_in_var = sym::simplify(&v_next.subs(
        &vs,
        &(v_in.clone() + Expr::pow(Expr::sym(&ms), Expr::int(2))),
    ));
    rec.var_step = Some(sym::simplify(
        &v_next_in_var
            .subs("#v", &Expr::sym("x"))
            .subs(&ms, &Expr::sym("E")),
    ));
    // The variance recurrence once the mean is known in closed form at the state.
    let mean_at_state = mean_closed.subs("#n", &(Expr::sym(var) + Expr::int(cr)));
    let v_only = sym::simplify(&v_next_in_var.subs(&ms, &mean_at_state));
    let Some((av, bv)) = linear_in(&v_only, "#v", &[var]) else {
        rec.unsolved =
            Some("the variance's recurrence is not linear with constant coefficients".into());
        rec.mean_closed = Some(mean_closed);
        rec.mean_inner = Some(mean_inner);
        return rec;
    };
    rec.mean_closed = Some(mean_closed);
    rec.mean_inner = Some(mean_inner);
    rec.var_closed = Some(geometric(&av, &bv, &v0, &kk));
    rec.var_inner = Some(geometric_inner(&av, &bv, &v0, &kk, geom));
    rec
}
