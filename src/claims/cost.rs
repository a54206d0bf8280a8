//! Operation counts: the multiplications of a program as a polynomial in its sizes,
//! counted from the index spaces (`mults(R)` for the convolution is B X Y DX DY I J), and
//! the order of a program in one size (`order(backward, T)` is T for the RNN language
//! model: its backward pass is linear in the sequence length).

use super::scalar::{self, Scope};
use crate::check::Env;
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, BinOp, IndexExpr, Item, ItemKind};

fn size_of(env: &Env, index: &str) -> Result<Expr, String> {
    env.index_size(&index.to_lowercase())
        .map(|s| Expr::sym(&s))
        .ok_or_else(|| format!("the size of index `{index}` is not known"))
}

fn capitals(e: &ast::Expr, out: &mut Vec<String>) {
    crate::check::walk_refs(e, &mut |r| {
        for ix in r.indices.iter().flatten() {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    if crate::syntax::ast::is_summed_index(&f.name) && !out.contains(&f.name) {
                        out.push(f.name.clone());
                    }
                }
            }
        }
    });
}

/// Multiplications in an expression evaluated once per point of `space`.
fn count(e: &ast::Expr, space: &Expr, env: &Env) -> Result<Expr, String> {
    Ok(match e {
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
            count(l, space, env)? + count(r, space, env)?
        }
        ast::Expr::Call(c) => {
            let mut total = Expr::zero();
            for a in &c.args {
                total = total + count(a, space, env)?;
            }
            total
        }
        ast::Expr::Sum(ids, body, _) => {
            let mut sp = space.clone();
            for i in ids {
                sp = sp * size_of(env, &i.name)?;
            }
            count(body, &sp, env)?
        }
        term => {
            // A product term: its summed capitals widen the space; each `*`, juxtaposition
            // or `/` is one multiplication per point.
            let mut caps = Vec::new();
            capitals(term, &mut caps);
            let mut sp = space.clone();
            for c in &caps {
                sp = sp * size_of(env, c)?;
            }
            let (mults, inner) = products(term);
            let mut total = Expr::int(mults as i64) * sp.clone();
            for x in inner {
                total = total + count(x, &sp, env)?;
            }
            total
        }
    })
}

/// Multiplication nodes of a product term, and the sub-expressions (sums in
/// parentheses, function calls) counted on their own.
fn products(e: &ast::Expr) -> (usize, Vec<&ast::Expr>) {
    match e {
        ast::Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, l, r, _) => {
            let (a, mut x) = products(l);
            let (b, y) = products(r);
            x.extend(y);
            (a + b + 1, x)
        }
        ast::Expr::Binary(BinOp::Pow, l, _, _) => products(l),
        ast::Expr::Unary(_, x, _) => products(x),
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..)
        | ast::Expr::Call(_)
        | ast::Expr::Sum(..) => (0, vec![e]),
        _ => (0, vec![]),
    }
}

/// The multiplications of the statements in `items` (only those writing `target`, when
/// given), loops and `for` lists included.
pub fn mults(items: &[Item], env: &Env, target: Option<&str>) -> Result<Expr, String> {
    walk(items, env, target, &Expr::one(), &[], &[])
}

fn walk(
    items: &[Item],
    env: &Env,
    target: Option<&str>,
    outer: &Expr,
    listed: &[String],
    loops: &[String],
) -> Result<Expr, String> {
    let mut total = Expr::zero();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let sc = Scope::default();
                let trips = scalar::lower(&l.range.to, &sc)? - scalar::lower(&l.range.from, &sc)?
                    + Expr::one();
                let mut lv = loops.to_vec();
                lv.push(l.range.var.name.clone());
                total = total + walk(&l.body, env, target, &(outer.clone() * trips), listed, &lv)?;
            }
            ItemKind::ForIndices(f) => {
                let mut sp = outer.clone();
                let mut names = listed.to_vec();
                for i in &f.indices {
                    sp = sp * size_of(env, &i.name)?;
                    names.push(i.name.clone());
                }
                total = total + walk(&f.body, env, target, &sp, &names, loops)?;
            }
            ItemKind::Equation(eq) => {
                if target.is_some_and(|t| env.key_of(&eq.lhs.name) != t) {
                    continue;
                }
                // The left side's free indices (not the loop variables, not listed).
                let mut sp = outer.clone();
                if listed.is_empty() {
                    for ix in eq.lhs.indices.iter().flatten() {
                        if let IndexExpr::Affine(a) = ix {
                            if let [t] = a.terms.as_slice() {
                                if let [f] = t.factors.as_slice() {
                                    if !loops.contains(&f.name) && env.index_size(&f.name).is_some()
                                    {
                                        sp = sp * size_of(env, &f.name)?;
                                    }
                                }
                            }
                        }
                    }
                }
                total = total + count(&eq.rhs, &sp, env)?;
            }
            _ => {}
        }
    }
    Ok(total)
}

/// The values of the cost calls in a claim (`mults(R)`, `order(backward, T)`), keyed by
/// their printed text, for the lowering of the claim.
pub fn cost_calls(
    e: &ast::Expr,
    program: &ast::Program,
    env: &Env,
    backward: &[Item],
) -> std::collections::BTreeMap<String, Result<Expr, String>> {
    let mut out = std::collections::BTreeMap::new();
    let mut calls = Vec::new();
    find_calls(e, &mut calls);
    for c in calls {
        let text = crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()));
        let value = match (c.func.name.as_str(), c.args.as_slice()) {
            ("mults", [ast::Expr::Ref(r)]) => mults(&program.items, env, Some(&env.key_of(&r.name))),
            ("order", [ast::Expr::Ref(which), ast::Expr::Ref(var)]) => {
                let cost = match which.name.base.as_str() {
                    "forward" => mults(&program.items, env, None),
                    "backward" => mults(backward, env, None),
                    other => Err(format!("`order` is of `forward` or `backward`, not `{other}`")),
                };
                cost.map(|c| order(&c, &crate::syntax::printer::print_name(&var.name)))
            }
            (f, _) => Err(format!("`{f}(...)` takes a tensor (`mults(R)`) or a pass and a size (`order(backward, T)`)")),
        };
        out.insert(text, value);
    }
    out
}

fn find_calls<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Call>) {
    match e {
        ast::Expr::Call(c) if c.func.name == "mults" || c.func.name == "order" => out.push(c),
        ast::Expr::Call(c) => c.args.iter().for_each(|a| find_calls(a, out)),
        ast::Expr::Unary(_, x, _) => find_calls(x, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            find_calls(l, out);
            find_calls(r, out);
        }
        _ => {}
    }
}

/// The highest power of `var` in a polynomial cost, as `var^k`.
pub fn order(cost: &Expr, var: &str) -> Expr {
    let expanded = crate::sym::expand(cost);
    let terms = match &expanded {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    let mut best = 0i64;
    for t in terms {
        let factors = match &t {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        };
        for f in factors {
            match &f {
                Expr::Sym(s) if s == var => best = best.max(1),
                Expr::Pow(b, e) if matches!(&**b, Expr::Sym(s) if s == var) => {
                    best = best.max(e.as_int().unwrap_or(0))
                }
                _ => {}
            }
        }
    }
    Expr::pow(Expr::sym(var), Expr::int(best))
}
