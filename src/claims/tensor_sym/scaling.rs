//! Gradients under a scaling given (`X.grad[ix] == Y.grad[ix] k given X = m Y`), proved by
//! homogeneity of the written-out loss.

use super::givens::{lowerer, Givens};
use crate::analysis::Analysis;
use crate::check::Env;
use crate::claims::elements::mentions_tensor;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, IndexExpr};
use crate::syntax::printer::print_expr;
use std::collections::BTreeMap;

/// Replaces the `.grad` reference (or the whole tensor) named `key` by a number.
fn replace_ref(e: &ast::Expr, key: &str, grad: bool, by: &str, env: &Env) -> (ast::Expr, usize) {
    let mut count = 0;
    fn walk(e: &mut ast::Expr, key: &str, grad: bool, by: &str, env: &Env, count: &mut usize) {
        match e {
            ast::Expr::Ref(r) if r.grad == grad && env.key_of(&r.name) == key => {
                *count += 1;
                *e = ast::Expr::Num(by.to_string(), r.span);
            }
            ast::Expr::Unary(_, x, _) | ast::Expr::Iverson(x, _) => {
                walk(x, key, grad, by, env, count)
            }
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                walk(l, key, grad, by, env, count);
                walk(r, key, grad, by, env, count);
            }
            ast::Expr::Call(c) => c
                .args
                .iter_mut()
                .for_each(|a| walk(a, key, grad, by, env, count)),
            _ => {}
        }
    }
    let mut e = e.clone();
    walk(&mut e, key, grad, by, env, &mut count);
    (e, count)
}

/// The factor k of an expression linear in one reference: `e = k · ref` (checked by
/// putting 1 and 2 for the reference).
fn linear_factor(e: &ast::Expr, key: &str, grad: bool, env: &Env) -> Option<Expr> {
    let (one, n) = replace_ref(e, key, grad, "1", env);
    let (two, _) = replace_ref(e, key, grad, "2", env);
    if n != 1 {
        return None;
    }
    let sc = crate::claims::scalar::Scope::default();
    let (k1, k2) = (
        crate::claims::scalar::lower(&one, &sc).ok()?,
        crate::claims::scalar::lower(&two, &sc).ok()?,
    );
    sym::identical(&k2, &(Expr::int(2) * k1.clone())).then_some(k1)
}

/// Every element name of tensor `from` renamed to tensor `to`, inside atoms too.
fn rename_tensor(e: &Expr, from: &str, to: &str) -> Expr {
    match e {
        Expr::Sym(s) if mentions_tensor(s, from) => {
            let pat = format!("{from}[");
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(k) = rest.find(&pat) {
                let boundary = !out
                    .chars()
                    .chain(rest[..k].chars())
                    .last()
                    .is_some_and(|c| {
                        c.is_alphanumeric() || c == '_' || c == '\'' || c == '}' || c == '^'
                    });
                out.push_str(&rest[..k]);
                out.push_str(if boundary { to } else { from });
                out.push('[');
                rest = &rest[k + pat.len()..];
            }
            out.push_str(rest);
            Expr::sym(&out)
        }
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(rename_tensor(b, from, to), rename_tensor(x, from, to)),
        Expr::Func(f, x) => Expr::func(*f, rename_tensor(x, from, to)),
        Expr::Mul(v) => Expr::mul(v.iter().map(|x| rename_tensor(x, from, to)).collect()),
        Expr::Add(v) => Expr::add(v.iter().map(|x| rename_tensor(x, from, to)).collect()),
    }
}

/// `X.grad[ix] == Y.grad[ix] k given X = m Y` by homogeneity: the loss, written out, is
/// `F(Y) + F(X) + (terms free of X and Y)` with one function F, and `F(m Y) = F(Y)` as an
/// identity; then `F'(m Y) = F'(Y)/m`, so the claim holds exactly when `k = 1/m`.
/// `None` when the claim is not of that form; `Err` when the argument does not go through.
pub(super) fn gradient_scaling(
    l: &ast::Expr,
    r: &ast::Expr,
    g: &Givens,
    a: &Analysis,
) -> Option<Result<String, String>> {
    let (program, env) = (a.program, a.env);
    let ast::Expr::Ref(xr) = l else { return None };
    if !xr.grad || xr.indices.is_none() {
        return None;
    }
    let x = env.key_of(&xr.name);
    let (_, sub) = g.tensor.iter().find(|(k, _)| *k == x)?;
    let mut ys = Vec::new();
    crate::check::walk_refs(r, &mut |rf| {
        if rf.grad {
            ys.push((env.key_of(&rf.name), rf.indices.clone()));
        }
    });
    let [(y, yix)] = ys.as_slice() else {
        return None;
    };
    let printed = |ix: &Option<Vec<IndexExpr>>| -> Vec<String> {
        ix.iter()
            .flatten()
            .map(crate::syntax::printer::print_index)
            .collect()
    };
    if printed(yix) != printed(&xr.indices) {
        return None;
    }
    Some((|| -> Result<String, String> {
        let k = linear_factor(r, y, true, env)
            .ok_or("the right side is not a multiple of one gradient")?;
        let m = linear_factor(sub, y, false, env)
            .ok_or_else(|| format!("the given does not set `{x}` to a multiple of `{y}`"))?;
        if !sym::identical(&(k.clone() * m.clone()), &Expr::one()) {
            return Err(format!(
                "the factor is {} but homogeneity gives 1/({})",
                sym::to_ascii(&k),
                sym::to_ascii(&m)
            ));
        }
        if !env.grad_seeds.is_empty() {
            return Err("the gradient starts from `grad` declarations, not from a loss".into());
        }
        let back = a.backward();
        let loss = back.seeds.first().ok_or("no loss")?.clone();
        let loss_ref = ast::Expr::Ref(ast::Ref::plain(&loss, xr.span));
        let plain = Givens::default();
        // The loss written out, with the definedness conditions of what it divides by,
        // takes the log of or a root of: F is differentiable only where they hold, so the
        // rule proves nothing unless they hold for every value of the elements (probe32/d
        // f37: a loss that divides by `sum V^2` is undefined at V = 0, and so is the claim).
        let mut sums = Vec::new();
        let (l0, mut conditions) = sym::collecting(|| -> Result<Expr, String> {
            let (mut lw, _) = lowerer(program, env, &plain, None, &BTreeMap::new(), None)?;
            let l0 = lw.lower_terms(&loss_ref, &BTreeMap::new())?;
            sums.append(&mut lw.sums);
            Ok(l0)
        });
        let l0 = l0?;
        let terms = match &l0 {
            Expr::Add(ts) => ts.clone(),
            other => vec![other.clone()],
        };
        let (mut fx, mut fy, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        for t in terms {
            let syms = t.free_symbols();
            let has = |n: &str| syms.iter().any(|s| mentions_tensor(s, n));
            match (has(&x), has(y)) {
                (true, true) => {
                    return Err(format!("a term of the loss reads both `{x}` and `{y}`"))
                }
                (true, false) => fx.push(t),
                (false, true) => fy.push(t),
                (false, false) => rest.push(t),
            }
        }
        let (fx, fy, rest) = (Expr::add(fx), Expr::add(fy), Expr::add(rest));
        if fx.is_zero() || fy.is_zero() {
            return Err(format!("the loss does not read both `{x}` and `{y}`"));
        }
        if !sym::identical(&rename_tensor(&fx, &x, y), &fy) {
            return Err(format!(
                "the loss is not F({y}) + F({x}) with one function F"
            ));
        }
        // F(m Y): the loss again with the given applied, less F(Y) and the rest.
        let scaled = Givens {
            tensor: g.tensor.clone(),
            positive: g.positive.clone(),
            ..Default::default()
        };
        let (l1, more) = sym::collecting(|| -> Result<Expr, String> {
            let (mut lw, _) = lowerer(program, env, &scaled, None, &BTreeMap::new(), None)?;
            let l1 = lw.lower_terms(&loss_ref, &BTreeMap::new())?;
            sums.append(&mut lw.sums);
            Ok(l1)
        });
        let l1 = l1?;
        conditions.extend(more);
        if !sym::identical(&l1, &(Expr::int(2) * fy.clone() + rest)) {
            return Err(format!(
                "F({}) is not F({y}) as an identity",
                print_expr(sub)
            ));
        }
        super::relation::conditions_of_sides(&l0, &l1, &mut conditions);
        let open: Vec<String> = super::relation::undischarged(
            &conditions,
            env,
            &sums,
            &super::relation::given_bounds(g),
        )
        .into_iter()
        .filter(|c| !c.contains('#'))
        .collect();
        if !open.is_empty() {
            let shown: Vec<String> = open.iter().take(2).map(|c| format!("`{c}`")).collect();
            let more = match open.len().saturating_sub(shown.len()) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            return Err(format!(
                "homogeneity does not prove it: the loss is F({y}) + F({x}) with F({}) = F({y}), but tq cannot show that F is defined for every value of the elements: {}{more} may fail",
                print_expr(sub),
                shown.join(", ")
            ));
        }
        Ok(format!(
            "by homogeneity: the loss `{loss}` written out is F({y}) + F({x}) + (terms free of both) with one function F, and F({}) = F({y}) as an identity (given {}), so d F/d {x} at {x} = {} is (1/({})) d F/d {y}",
            print_expr(sub),
            g.positive.iter().map(|p| format!("{p} > 0")).collect::<Vec<_>>().join(", "),
            print_expr(sub),
            sym::to_ascii(&m)
        ))
    })())
}
