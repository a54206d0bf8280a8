//! Moments position by position, for zero padding, where border elements differ from
//! interior ones.
//!
//! For a multilinear program whose random leaves all have mean zero, and whose sums the
//! moments engine has shown to be sums of uncorrelated terms (for a generic element; the
//! argument — a distinct zero-mean weight in each term, or independent zero-mean
//! factors — does not depend on the position), the second moment of every element obeys
//! the *second-moment program*: the same statements with every random leaf replaced by
//! its second moment, every coefficient squared and every sign made `+`
//! (E[(Σ c_t Π x)²] = Σ c_t² Π E[x²]). tq runs that program on the interpreter; reads
//! outside the tensor follow the boundary rule (zero padding reads 0), so border
//! elements come out with their own, smaller, variance.

use crate::check::Env;
use crate::num::{Machine, NumError};
use crate::syntax::ast::{
    self as ast, AssignOp, BinOp, Decl, DeclKind, Init, Item, ItemKind, Program, UnOp,
};
use crate::syntax::span::Span;

/// Work budget of one second-moment run (element evaluations).
pub const BUDGET: u64 = 20_000_000;

fn num(s: &str, span: Span) -> ast::Expr {
    ast::Expr::Num(s.to_string(), span)
}

fn square(e: ast::Expr) -> ast::Expr {
    let span = e.span();
    ast::Expr::Binary(BinOp::Pow, Box::new(e), Box::new(num("2", span)), span)
}

/// The second-moment transform of a right-hand side; `None` when it is not multilinear.
fn rhs(e: &ast::Expr, env: &Env) -> Option<ast::Expr> {
    Some(match e {
        ast::Expr::Num(..) => square(e.clone()),
        ast::Expr::Ref(r) => {
            let is_tensor = r.indices.is_some()
                || env.tensors.contains_key(&env.key_of(&r.name))
                || env
                    .scalars
                    .contains_key(&crate::syntax::printer::print_name(&r.name));
            if is_tensor {
                e.clone()
            } else {
                square(e.clone())
            }
        }
        ast::Expr::Unary(UnOp::Neg, x, _) => rhs(x, env)?,
        ast::Expr::Binary(op, l, r, s) => match op {
            BinOp::Add | BinOp::Sub => ast::Expr::Binary(
                BinOp::Add,
                Box::new(rhs(l, env)?),
                Box::new(rhs(r, env)?),
                *s,
            ),
            BinOp::Mul | BinOp::Jux => {
                ast::Expr::Binary(*op, Box::new(rhs(l, env)?), Box::new(rhs(r, env)?), *s)
            }
            BinOp::Div => {
                // Only by a constant: its square.
                if !refs_free(r, env) {
                    return None;
                }
                ast::Expr::Binary(
                    BinOp::Div,
                    Box::new(rhs(l, env)?),
                    Box::new(square((**r).clone())),
                    *s,
                )
            }
            BinOp::Pow => return None,
        },
        ast::Expr::Sum(ids, b, s) => ast::Expr::Sum(ids.clone(), Box::new(rhs(b, env)?), *s),
        _ => return None,
    })
}

fn refs_free(e: &ast::Expr, env: &Env) -> bool {
    match e {
        ast::Expr::Num(..) => true,
        ast::Expr::Ref(r) => r.indices.is_none() && !env.tensors.contains_key(&env.key_of(&r.name)),
        ast::Expr::Unary(_, x, _) => refs_free(x, env),
        ast::Expr::Binary(_, l, r, _) => refs_free(l, env) && refs_free(r, env),
        _ => false,
    }
}

fn second_moment_of(init: &Init) -> Option<Init> {
    match init {
        Init::Value(v) => Some(Init::Value(square(v.clone()))),
        Init::Dist(c) => {
            let zero =
                |a: &ast::Expr| matches!(a, ast::Expr::Num(n, _) if n.parse::<f64>() == Ok(0.0));
            match (c.func.name.as_str(), c.args.as_slice()) {
                ("normal", [m, v]) if zero(m) => Some(Init::Value(v.clone())),
                ("symmetric", [v]) => Some(Init::Value(v.clone())),
                ("moments", [m, s]) if zero(m) => Some(Init::Value(s.clone())),
                _ => None,
            }
        }
    }
}

fn items(its: &[Item], env: &Env) -> Option<Vec<Item>> {
    rewrite_items(its, &mut |it| {
        Some(match &it.kind {
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => None,
            ItemKind::Decl(d) => Some(ItemKind::Decl(Decl {
                init: Some(second_moment_of(d.init.as_ref()?)?),
                ..d.clone()
            })),
            ItemKind::Equation(eq) => {
                let mut eq = eq.clone();
                eq.rhs = rhs(&eq.rhs, env)?;
                if eq.op == AssignOp::SubAssign {
                    eq.op = AssignOp::AddAssign;
                }
                Some(ItemKind::Equation(eq))
            }
            other => Some(other.clone()),
        })
    })
}

/// Rewrites a statement list for a derived program: `f` maps each statement other
/// than a `for` block or a claim to its new form (`Some(None)` drops it, `None` gives
/// up on the whole program); `for` blocks are rewritten inside and claims dropped.
fn rewrite_items(
    its: &[Item],
    f: &mut dyn FnMut(&Item) -> Option<Option<ItemKind>>,
) -> Option<Vec<Item>> {
    let mut out = Vec::new();
    for it in its {
        let kind = match &it.kind {
            ItemKind::Loop(l) => {
                let mut l = l.clone();
                l.body = rewrite_items(&l.body, f)?;
                ItemKind::Loop(l)
            }
            ItemKind::ForIndices(fi) => {
                let mut fi = fi.clone();
                fi.body = rewrite_items(&fi.body, f)?;
                ItemKind::ForIndices(fi)
            }
            ItemKind::Claim(_) => continue,
            _ => match f(it)? {
                Some(k) => k,
                None => continue,
            },
        };
        out.push(Item {
            kind,
            span: it.span,
        });
    }
    Some(out)
}

/// The second-moment program of a forward program, or `None` when it is not
/// multilinear in zero-mean leaves.
pub fn second_moment_program(program: &Program, env: &Env) -> Option<Program> {
    Some(Program {
        items: items(&program.items, env)?,
    })
}

/// Runs the second-moment program with the machine set up by `setup` (sizes, symbols,
/// the boundary rule). The forward program only: a gradient element reads 0 in it (use
/// `run_with_backward` for gradients).
pub fn run<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Machine<'a>, String> {
    run_program(program, env, setup, false)
}

/// The second-moment program of the forward program followed by that of the derived
/// backward program in gather form, each `grad T ~ dist` seeding `T.grad` with the
/// distribution's second moment (zero mean only). The gather form's terms are the
/// scatter's, solved for the written position, so the same argument holds: a sum of
/// uncorrelated zero-mean terms has the sum of their second moments. `Err` when either
/// program is not multilinear in zero-mean leaves.
pub fn run_with_backward<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Machine<'a>, String> {
    run_program(program, env, setup, true)
}

fn run_program<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
    backward: bool,
) -> Result<Machine<'a>, String> {
    let not_multilinear = "the program is not multilinear in zero-mean leaves";
    let mut sm = second_moment_program(program, env).ok_or(not_multilinear)?;
    // The gradient seeds: (declaration, its second moment).
    let mut seeds = Vec::new();
    if backward {
        collect_grad_decls(&program.items, &mut seeds);
        if seeds.is_empty() {
            return Err("no gradient is declared (`grad T ~ ...`)".into());
        }
        let back = crate::grad::backward(program, env);
        let gathered: Vec<Item> = crate::grad::gather_form(&back.items, env)
            .into_iter()
            .map(|g| g.item)
            .collect();
        sm.items
            .extend(items(&gathered, env).ok_or("the backward program is not multilinear")?);
    }
    let mut m = Machine::new(&sm, env).map_err(|e| e.message)?;
    m.max_steps = BUDGET;
    setup(&mut m).map_err(|e| e.message)?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    m.sample_leaves(&sm, &mut rng).map_err(|e| e.message)?;
    for d in &seeds {
        let Some(Init::Value(v)) = d.init.as_ref().and_then(second_moment_of) else {
            return Err(format!(
                "the gradient arriving at `{}` has no zero-mean distribution",
                crate::syntax::printer::print_name(&d.target.name)
            ));
        };
        let value = m.eval(&v, &Vec::new()).map_err(|e| e.message)?;
        for (mb, pos) in m.decl_elements(d).map_err(|e| e.message)? {
            m.set((mb, true), pos, value).map_err(|e| e.message)?;
        }
    }
    m.run_items(&sm.items, &mut Vec::new())
        .map_err(|e| e.message)?;
    Ok(m)
}

fn collect_grad_decls(its: &[Item], out: &mut Vec<Decl>) {
    for it in its {
        match &it.kind {
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => out.push(d.clone()),
            ItemKind::Loop(l) => collect_grad_decls(&l.body, out),
            ItemKind::ForIndices(fi) => collect_grad_decls(&fi.body, out),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// Whether any element is away from the border.
//
// The moments engine's value for a read that crosses the border (zero padding, valid
// ranges, an index plus a constant) is that of an element *away from the border*: one
// whose every read, of its window and recursively of the elements it reads, falls inside
// the range and on an element away from the border itself. At small sizes, or for some
// read forms at every size (a reversed read `-t + DT - 1`: every window starts below 0),
// no element is; the engine's value is then no element's, and no verdict may rest on it.
//
// The *interior program* computes, element by element, whether it is away from the
// border: every declared leaf is 1, and every statement writes 1 where all the reads of
// its right side (every element of their windows: the same capitals and sums) read 1,
// and 2 where some read does not; an element outside the range, or never written, reads
// 0. A read's defect is `(r - 1)(r - 1)` (summed over the read's own capitals, as a
// product term), zero exactly when it reads 1; `[defects > 0]` is 0 exactly on the
// interior (a function's argument, an explicit sum: the same, inside). An accumulation (`+=`) keeps 1 only while every
// contribution is away from the border.
// ---------------------------------------------------------------------------------

/// `[x > 0]`: 1 where some read of `x`'s defects is not away from the border.
fn positive(x: ast::Expr, span: Span) -> ast::Expr {
    ast::Expr::Iverson(
        Box::new(ast::Expr::Rel(
            ast::RelOp::Gt,
            Box::new(x),
            Box::new(num("0", span)),
            span,
        )),
        span,
    )
}

fn bin(op: BinOp, l: ast::Expr, r: ast::Expr, span: Span) -> ast::Expr {
    ast::Expr::Binary(op, Box::new(l), Box::new(r), span)
}

fn total(terms: Vec<ast::Expr>, span: Span) -> Option<ast::Expr> {
    terms.into_iter().reduce(|a, b| bin(BinOp::Add, a, b, span))
}

/// The defects of the reads of an expression: terms that are zero exactly when every
/// read (over its window) reads an element away from the border.
fn defects(e: &ast::Expr, env: &Env, out: &mut Vec<ast::Expr>) {
    match e {
        ast::Expr::Ref(r) => {
            let tensor =
                r.indices.is_some() || r.grad || env.tensors.contains_key(&env.key_of(&r.name));
            if tensor {
                let s = r.span;
                let d = bin(BinOp::Sub, e.clone(), num("1", s), s);
                out.push(bin(BinOp::Mul, d.clone(), d, s));
            }
        }
        ast::Expr::Unary(_, x, _) => defects(x, env, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            defects(l, env, out);
            defects(r, env, out);
        }
        ast::Expr::Call(c) => {
            let mut inner = Vec::new();
            for a in &c.args {
                defects(a, env, &mut inner);
            }
            if let Some(t) = total(inner, c.span) {
                out.push(positive(t, c.span));
            }
        }
        ast::Expr::Iverson(x, s) => {
            let mut inner = Vec::new();
            defects(x, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(positive(t, *s));
            }
        }
        ast::Expr::Sum(ids, b, s) => {
            let mut inner = Vec::new();
            defects(b, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(ast::Expr::Sum(ids.clone(), Box::new(t), *s));
            }
        }
        ast::Expr::Softmax(id, b, s) => {
            let mut inner = Vec::new();
            defects(b, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(ast::Expr::Sum(vec![id.clone()], Box::new(t), *s));
            }
        }
        ast::Expr::Num(..) | ast::Expr::Deriv(..) => {}
    }
}

fn interior_items(its: &[Item], env: &Env) -> Vec<Item> {
    let rewritten = rewrite_items(its, &mut |it| {
        Some(Some(match &it.kind {
            ItemKind::Decl(d) => {
                let categorical =
                    matches!(&d.init, Some(Init::Dist(c)) if c.func.name == "categorical");
                let init = if categorical {
                    d.init.clone()
                } else {
                    Some(Init::Value(num("1", it.span)))
                };
                ItemKind::Decl(Decl { init, ..d.clone() })
            }
            ItemKind::Equation(eq) => {
                let s = eq.span;
                let mut ds = Vec::new();
                defects(&eq.rhs, env, &mut ds);
                let bad = match total(ds, s) {
                    Some(t) => positive(t, s),
                    None => num("0", s),
                };
                let mut eq = eq.clone();
                if eq.op == AssignOp::Set {
                    eq.rhs = bin(BinOp::Add, num("1", s), bad, s);
                } else {
                    // Unwritten (0) and good: 1; written and good: unchanged; bad: ≥ 2.
                    let old = ast::Expr::Ref(eq.lhs.clone());
                    let first = positive(bin(BinOp::Sub, num("1", s), old, s), s);
                    let good = bin(BinOp::Sub, num("1", s), bad.clone(), s);
                    eq.rhs = bin(
                        BinOp::Add,
                        bin(BinOp::Mul, first, good, s),
                        bin(BinOp::Mul, num("2", s), bad, s),
                        s,
                    );
                    eq.op = AssignOp::AddAssign;
                }
                ItemKind::Equation(eq)
            }
            other => other.clone(),
        }))
    });
    // The statement rewrite above never gives up.
    rewritten.unwrap_or_default()
}

/// The interior program of a forward program and (for gradients) its derived backward
/// program in gather form: every element 1 exactly where it is away from the border.
pub fn interior_program(program: &Program, env: &Env, backward: bool) -> Program {
    let mut items = interior_items(&program.items, env);
    if backward {
        let back = crate::grad::backward(program, env);
        let gathered: Vec<Item> = crate::grad::gather_form(&back.items, env)
            .into_iter()
            .map(|g| g.item)
            .collect();
        items.extend(interior_items(&gathered, env));
    }
    Program { items }
}

/// Whether some element of the tensor `target` (a member without fixed positions, or
/// a gradient) is away from the border, at the sizes the machine is set up with by
/// `setup`: `Ok(None)` when the member cannot be named without a loop variable (a
/// family's generic member).
pub fn interior_exists(
    program: &Program,
    env: &Env,
    target: &ast::Ref,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Option<bool>, String> {
    let ip = interior_program(program, env, target.grad);
    let mut m = Machine::new(&ip, env).map_err(|e| e.message)?;
    m.max_steps = BUDGET;
    setup(&mut m).map_err(|e| e.message)?;
    let Ok(member) = m.member_of(&target.name, &Vec::new()) else {
        return Ok(None);
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    m.sample_leaves(&ip, &mut rng).map_err(|e| e.message)?;
    if target.grad {
        for it in &ip.items {
            if let ItemKind::Decl(d) = &it.kind {
                if d.kind == DeclKind::Grad {
                    for (mb, pos) in m.decl_elements(d).map_err(|e| e.message)? {
                        m.set((mb, true), pos, 1.0).map_err(|e| e.message)?;
                    }
                }
            }
        }
    }
    m.run_items(&ip.items, &mut Vec::new())
        .map_err(|e| e.message)?;
    Ok(Some(
        m.vals
            .get(&(member, target.grad))
            .is_some_and(|vals| vals.values().any(|v| *v == 1.0)),
    ))
}
