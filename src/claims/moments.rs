//! Claims about moments decided by the symbolic moments engine (`src/moments`): each
//! `E(...)`, `Var(...)`, `Cov(...)` and `solve(...)` of a claim becomes an exact
//! expression, and the relation is decided by the symbolic engine. Moments known only
//! by bounds decide inequalities through the bound; moments of a function of a Gaussian
//! are computed by quadrature (then the verdict is at most `confirmed`); results that
//! rest on an approximation are never `proved` here.

use super::scalar::{self, Scope};
use crate::check::Env;
use crate::moments::{Analysis, Opaque};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, BinOp, RelOp};
use crate::syntax::printer::print_expr;
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};

/// The marker of results that hold away from the border only (zero padding).
pub const BORDER: &str = "zero padding: holds away from the border";

/// The moments a claim mentions.
#[derive(Clone, Debug, Default)]
pub struct MomentCalls {
    pub calls: BTreeMap<String, Result<Expr, String>>,
    pub rules: BTreeSet<String>,
    pub approx: BTreeSet<String>,
    pub bounds: BTreeMap<String, Vec<(Expr, String)>>,
    pub opaque: BTreeMap<String, Opaque>,
    /// Notes for the evidence (the approximation step of a solution).
    pub notes: Vec<String>,
}

impl MomentCalls {
    pub fn any(&self) -> bool {
        !self.calls.is_empty()
    }
}

/// Lowers every moment and `solve` call of a claim.
pub fn calls(claim: &ast::Claim, a: &Analysis, env: &Env) -> MomentCalls {
    let mut out = MomentCalls::default();
    let mut found = Vec::new();
    find(&claim.body, &mut found);
    for c in found {
        let text = print_expr(&ast::Expr::Call(c.clone()));
        if out.calls.contains_key(&text) {
            continue;
        }
        let value = if c.func.name == "solve" {
            solve_call(c, claim, a, env, &mut out)
        } else {
            match a.moment(env, c) {
                Ok(m) => {
                    out.rules.extend(m.rules);
                    out.approx.extend(m.approx);
                    if !m.bounds.is_empty() {
                        out.bounds.insert(text.clone(), m.bounds);
                    }
                    out.opaque.extend(m.opaque);
                    Ok(m.value)
                }
                Err(e) => Err(e),
            }
        };
        out.calls.insert(text, value);
    }
    out
}

fn find<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Call>) {
    match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "E" | "Var" | "Cov" | "solve") => {
            out.push(c)
        }
        ast::Expr::Call(c) => c.args.iter().for_each(|a| find(a, out)),
        ast::Expr::Unary(_, x, _) => find(x, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            find(l, out);
            find(r, out);
        }
        _ => {}
    }
}

/// `solve(lhs == rhs, x)` or `solve(..., x^2)`: the solution, exactly.
fn solve_call(
    c: &ast::Call,
    claim: &ast::Claim,
    a: &Analysis,
    env: &Env,
    out: &mut MomentCalls,
) -> Result<Expr, String> {
    let [ast::Expr::Rel(RelOp::Eq, l, r, _), target] = c.args.as_slice() else {
        return Err(
            "`solve` takes an equation and the unknown: solve(Var(y) == 1, sigma^2)".into(),
        );
    };
    // The moments inside the equation.
    let mut inner = Vec::new();
    find(l, &mut inner);
    find(r, &mut inner);
    let mut scope = Scope::default();
    for ic in inner {
        let text = print_expr(&ast::Expr::Call(ic.clone()));
        let m = a.moment(env, ic)?;
        if !m.opaque.is_empty() {
            return Err(format!("{text} has no exact closed form to solve with"));
        }
        out.rules.extend(m.rules);
        out.approx.extend(m.approx);
        scope.calls.insert(text, Ok(m.value));
    }
    let lhs = scalar::lower(l, &scope)?;
    let rhs = scalar::lower(r, &scope)?;
    // The unknown: a symbol, or a symbol squared (a variance parameter).
    let (name, squared) = match target {
        ast::Expr::Ref(t) if t.indices.is_none() => {
            (crate::syntax::printer::print_name(&t.name), false)
        }
        ast::Expr::Binary(BinOp::Pow, b, p, _)
            if matches!(&**b, ast::Expr::Ref(t) if t.indices.is_none())
                && matches!(&**p, ast::Expr::Num(n, _) if n == "2") =>
        {
            let ast::Expr::Ref(t) = &**b else {
                unreachable!()
            };
            (crate::syntax::printer::print_name(&t.name), true)
        }
        _ => return Err("the unknown of `solve` is a symbol or a symbol squared".into()),
    };
    let (lhs, rhs, x) = if squared {
        let u = Expr::sym("#u");
        let root = Expr::sqrt(u);
        (
            sym::simplify(&lhs.subs(&name, &root)),
            sym::simplify(&rhs.subs(&name, &root)),
            "#u",
        )
    } else {
        (lhs, rhs, name.as_str())
    };
    if squared && (lhs.free_symbols().contains(&name) || rhs.free_symbols().contains(&name)) {
        return Err(format!("{name} does not appear only as {name}^2"));
    }
    let mut sols = sym::solve(&lhs, &rhs, x);
    if sols.is_err() && !rhs.is_zero() {
        // Consecutive members of a recurrence: Var(a_k) == Var(a_{k-1}) is the step
        // factor equal to 1.
        let ratio = sym::simplify(&(lhs.clone() / rhs.clone()));
        sols = sym::solve(&ratio, &Expr::one(), x);
        if sols.is_ok() {
            out.notes
                .push("solved as the ratio of the two sides equal to 1".into());
        }
    }
    if sols.is_err() && !squared {
        // x appearing as x^2 only: solve for x^2, then both roots.
        let u = Expr::sym("#u");
        let (l2, r2) = (
            sym::simplify(&lhs.subs(x, &Expr::sqrt(u.clone()))),
            sym::simplify(&rhs.subs(x, &Expr::sqrt(u))),
        );
        if !l2.free_symbols().contains(x) && !r2.free_symbols().contains(x) {
            if let Ok(us) = sym::solve(&l2, &r2, "#u") {
                sols = Ok(us
                    .into_iter()
                    .flat_map(|u| [Expr::sqrt(u.clone()), -Expr::sqrt(u)])
                    .collect());
            }
        }
    }
    let mut sols = sols?;
    if sols.len() > 1 {
        // `given x > 0` picks the positive root.
        let positive = claim.given.iter().any(|g| {
            matches!(g, ast::Expr::Rel(RelOp::Gt, gl, gr, _)
                if print_expr(gl) == name && print_expr(gr) == "0")
        }) || squared;
        if positive {
            sols.retain(is_positive);
        }
    }
    match sols.as_slice() {
        [one] => {
            let sol = sym::simplify(one);
            // The seeds' approximation of (1 + a x)^N = c, as a labelled step.
            if let Some(step) = approx_note(&lhs, &rhs, x, &name, squared) {
                out.notes.push(step);
            }
            Ok(sol)
        }
        [] => Err("no solution of the required sign".into()),
        many => Err(format!(
            "{} solutions: {}",
            many.len(),
            many.iter()
                .map(sym::to_ascii)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Whether an expression is positive at random positive values of its symbols.
fn is_positive(e: &Expr) -> bool {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    (0..5).all(|_| {
        let at: BTreeMap<String, f64> = e
            .free_symbols()
            .into_iter()
            .map(|s| (s, rng.random_range(1.0..5.0)))
            .collect();
        e.eval_f64(&at).is_ok_and(|v| v > 0.0)
    })
}

/// For `(1 + a x)^N = c`: the seeds' step `(1 + e)^N ≈ exp(e N)` and what it gives.
fn approx_note(lhs: &Expr, rhs: &Expr, x: &str, name: &str, squared: bool) -> Option<String> {
    let (Expr::Pow(base, n), c) = (lhs, rhs) else {
        return None;
    };
    if c.free_symbols().contains(x) || n.free_symbols().contains(x) {
        return None;
    }
    let e = sym::simplify(&((**base).clone() - Expr::one()));
    let a = sym::simplify(&e.diff(x));
    if !sym::identical(&sym::simplify(&(a.clone() * Expr::sym(x))), &e) {
        return None;
    }
    let step = sym::approx_one_plus_pow(&e, n);
    // exp(a x N) = c  →  x = ln(c) / (a N).
    let approx = sym::simplify(&(Expr::ln(c.clone()) / (a.clone() * (**n).clone())));
    let shown = if squared {
        format!("{name} = {}", sym::to_ascii(&Expr::sqrt(approx.clone())))
    } else {
        format!("{name} = {}", sym::to_ascii(&approx))
    };
    let reached = sym::simplify(&Expr::pow(
        Expr::one() + sym::simplify(&(a * approx)),
        (**n).clone(),
    ));
    // The error at a few depths, when the exponent is a single size.
    let mut at_depths = Vec::new();
    if let Expr::Sym(depth) = &**n {
        for d in [1i64, 2, 10, 100] {
            let v = reached.subs(depth, &Expr::int(d));
            let want = c.subs(depth, &Expr::int(d));
            let at: BTreeMap<String, f64> = BTreeMap::new();
            if let (Ok(v), Ok(w)) = (v.eval_f64(&at), want.eval_f64(&at)) {
                at_depths.push(format!("{depth} = {d}: {v:.4} (error {:.4})", w - v));
            }
        }
    }
    Some(format!(
        "the seeds' step {}: {shown}, which gives {} instead of {}{}",
        step.label,
        sym::to_ascii(&reached),
        sym::to_ascii(c),
        if at_depths.is_empty() {
            String::new()
        } else {
            format!(" — at {}", at_depths.join(", "))
        }
    ))
}

/// A rational close to a float (for quadrature values).
pub fn rational(x: f64) -> Option<Expr> {
    BigRational::from_float(x).map(Expr::num)
}

/// Numeric values of the quadrature moments of a claim, under the claim's `x = value`
/// givens; `None` when some input is not a number.
pub fn quadrature(mc: &MomentCalls, given: &[(String, Expr)]) -> Option<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for (name, o) in &mc.opaque {
        let Some((q, is_var)) = &o.quad else {
            continue;
        };
        let num = |e: &Expr| -> Option<f64> {
            let mut e = e.clone();
            for (n, v) in given {
                e = e.subs(n, v);
            }
            let at: BTreeMap<String, f64> = [("pi".to_string(), std::f64::consts::PI)].into();
            e.eval_f64(&at).ok()
        };
        let (m, v) = (num(&q.mean)?, num(&q.var)?);
        let (s1, s2) = crate::moments::rv::gauss_hermite(q.func, m, v)?;
        out.insert(name.clone(), if *is_var { s2 - s1 * s1 } else { s1 });
    }
    Some(out)
}
