//! given43 (issue #14, probe42 r01, r04): the values of one name of the program on both
//! sides of the program's thresholds, where a step (`[c c > 1000]`), a kink (`relu`,
//! `abs`, `max`) or a rounding switches as a function of that name alone. The numbers
//! the program writes are not those values when the threshold is a nonlinear function of
//! them (|c| = √1000 ≈ 31.6 for `[c c > 1000]`): `invariant(y, c)` was confirmed with c
//! set near ±1000 and ±1 only, never across 31.6.
//!
//! Each argument is written out in the name (every element of it read as the one value
//! `v`, every size and symbol at its value on the run, computed values through their one
//! defining statement); its sign is read on a ladder of values (0, ±2^k for k = −4 .. 20)
//! and, where the argument is a polynomial of degree 1 or 2, at its real roots. Each sign
//! change gives a pair of values, one on each side. The values only choose where runs are
//! made: a verdict still comes from the runs (a threshold not found costs points, never a
//! verdict).

use crate::check::Env;
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, BinOp, ItemKind, Program};
use num_rational::BigRational;
use num_traits::ToPrimitive;
use std::collections::BTreeMap;

/// The name the argument is written out in.
const V: &str = "v·threshold";

/// At most this many pairs are returned.
const MAX_PAIRS: usize = 8;

/// Pairs of values of `name` (below, above) on both sides of each switch of a step or
/// kink argument of the program that reads `name` and nothing else varying; `consts` are
/// the sizes' and symbols' values of the run. Nearest the origin first, each pair once.
pub(super) fn crossing_pairs(
    program: &Program,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    name: &str,
) -> Vec<(f64, f64)> {
    let mut defs: BTreeMap<String, Vec<&ast::Expr>> = BTreeMap::new();
    let mut args: Vec<ast::Expr> = Vec::new();
    let mut eqs = Vec::new();
    equations(&program.items, &mut eqs);
    for eq in &eqs {
        defs.entry(env.key_of(&eq.lhs.name))
            .or_default()
            .push(&eq.rhs);
        step_arguments(&eq.rhs, &mut args);
    }
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for arg in &args {
        let Ok(e) = written_out(arg, env, consts, &defs, name, 0) else {
            continue;
        };
        let free = e.free_symbols();
        if free.len() != 1 || !free.contains(V) {
            continue;
        }
        for p in sign_changes(&e) {
            if !pairs.contains(&p) {
                pairs.push(p);
            }
        }
    }
    pairs.sort_by(|a, b| (a.0.abs() + a.1.abs()).total_cmp(&(b.0.abs() + b.1.abs())));
    pairs.truncate(MAX_PAIRS);
    pairs
}

/// Every equation of the program, inside loops and `for` blocks too.
fn equations<'p>(items: &'p [ast::Item], out: &mut Vec<&'p ast::Equation>) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => out.push(eq),
            ItemKind::Loop(l) => equations(&l.body, out),
            ItemKind::ForIndices(f) => equations(&f.body, out),
            _ => {}
        }
    }
}

/// The arguments of the steps and kinks in `e`: `l - r` of a bracket `[l > r]`, the
/// argument of `relu`/`abs`/a function with a kink, `a - b` of `max(a, b)`.
fn step_arguments(e: &ast::Expr, out: &mut Vec<ast::Expr>) {
    crate::syntax::visit::walk_expr(e, |x| {
        match x {
            ast::Expr::Iverson(rel, _) => {
                if let ast::Expr::Rel(_, l, r, s) = &**rel {
                    out.push(ast::Expr::Binary(BinOp::Sub, l.clone(), r.clone(), *s));
                }
            }
            ast::Expr::Call(c) => {
                let f = c.func.name.as_str();
                let kinked = crate::sym::func::lookup(f).is_some_and(|b| !b.kinks.is_empty())
                    || matches!(f, "sign" | "step" | "floor" | "ceil");
                match c.args.as_slice() {
                    [a] if kinked => out.push(a.clone()),
                    [a, b] if matches!(f, "max" | "min") => out.push(ast::Expr::Binary(
                        BinOp::Sub,
                        Box::new(a.clone()),
                        Box::new(b.clone()),
                        c.span,
                    )),
                    _ => {}
                }
            }
            _ => {}
        }
        true
    });
}

/// `e` written out in the one value [`V`] of `name`: sizes and symbols at their values,
/// a computed value through its one defining statement (at most 8 deep).
fn written_out(
    e: &ast::Expr,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    defs: &BTreeMap<String, Vec<&ast::Expr>>,
    name: &str,
    depth: usize,
) -> Result<Expr, String> {
    if depth > 8 {
        return Err("too deep".into());
    }
    crate::lower::lower_refs(e, &mut |r: &ast::Ref| {
        let key = env.key_of(&r.name);
        if r.grad {
            return Err("a gradient".into());
        }
        if key == name {
            return Ok(Expr::sym(V));
        }
        if r.indices.is_none() {
            if let Some(v) = consts.get(&key) {
                let q = BigRational::from_float(*v).ok_or("not finite")?;
                return Ok(Expr::num(q));
            }
        }
        match defs.get(&key).map(Vec::as_slice) {
            Some([rhs]) => written_out(rhs, env, consts, defs, name, depth + 1),
            _ => Err(format!("`{key}` is not written out")),
        }
    })
}

/// The pairs of values on both sides of each sign change of `e` in [`V`]: on the ladder,
/// and around the real roots of a polynomial of degree 1 or 2.
fn sign_changes(e: &Expr) -> Vec<(f64, f64)> {
    let sign = |v: f64| -> Option<i8> {
        let at: BTreeMap<String, f64> = [(V.to_string(), v)].into();
        let y = e.eval_f64(&at).ok()?;
        y.is_finite().then_some(if y > 0.0 {
            1
        } else if y < 0.0 {
            -1
        } else {
            0
        })
    };
    let mut ladder: Vec<f64> = vec![0.0];
    for k in -4..=20 {
        let p = 2f64.powi(k);
        ladder.push(p);
        ladder.push(-p);
    }
    ladder.sort_by(f64::total_cmp);
    let mut out = Vec::new();
    let mut last: Option<(f64, i8)> = None;
    for v in ladder {
        let Some(s) = sign(v) else { continue };
        if let Some((u, t)) = last {
            if t != s {
                out.push((u, v));
            }
        }
        last = Some((v, s));
    }
    if let Some(p) = crate::sym::sturm::poly_of(&crate::sym::expand(e), V) {
        let c: Vec<f64> = p.iter().filter_map(|x| x.to_f64()).collect();
        let roots: Vec<f64> = match c.as_slice() {
            [c0, c1] if *c1 != 0.0 => vec![-c0 / c1],
            [c0, c1, c2] if *c2 != 0.0 => {
                let d = c1 * c1 - 4.0 * c2 * c0;
                if d >= 0.0 {
                    vec![(-c1 - d.sqrt()) / (2.0 * c2), (-c1 + d.sqrt()) / (2.0 * c2)]
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        for r in roots {
            if r.is_finite() && r.abs() < 1e7 {
                let d = (r.abs() / 32.0).max(0.125);
                out.push((r - d, r + d));
            }
        }
    }
    out
}

/// The values of [`crossing_pairs`], each once, in their order.
pub(super) fn crossing_values(
    program: &Program,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    name: &str,
) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for (a, b) in crossing_pairs(program, env, consts, name) {
        for v in [a, b] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}
