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
    let mut out = Vec::new();
    for it in its {
        let kind = match &it.kind {
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => continue,
            ItemKind::Decl(d) => ItemKind::Decl(Decl {
                init: Some(second_moment_of(d.init.as_ref()?)?),
                ..d.clone()
            }),
            ItemKind::Equation(eq) => {
                let mut eq = eq.clone();
                eq.rhs = rhs(&eq.rhs, env)?;
                if eq.op == AssignOp::SubAssign {
                    eq.op = AssignOp::AddAssign;
                }
                ItemKind::Equation(eq)
            }
            ItemKind::Loop(l) => {
                let mut l = l.clone();
                l.body = items(&l.body, env)?;
                ItemKind::Loop(l)
            }
            ItemKind::ForIndices(f) => {
                let mut f = f.clone();
                f.body = items(&f.body, env)?;
                ItemKind::ForIndices(f)
            }
            ItemKind::Claim(_) => continue,
            other => other.clone(),
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
/// the boundary rule).
pub fn run<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Machine<'a>, String> {
    let sm = second_moment_program(program, env)
        .ok_or("the program is not multilinear in zero-mean leaves")?;
    let mut m = Machine::new(&sm, env).map_err(|e| e.message)?;
    m.max_steps = BUDGET;
    setup(&mut m).map_err(|e| e.message)?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    m.sample_leaves(&sm, &mut rng).map_err(|e| e.message)?;
    m.run_items(&sm.items, &mut Vec::new())
        .map_err(|e| e.message)?;
    Ok(m)
}
