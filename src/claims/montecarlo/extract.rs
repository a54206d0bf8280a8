//! The moments a claim mentions (`Var(T)`, `E[T]` as symbols `mc_k`) and the elements of a
//! tensor a moment pools.

use crate::syntax::ast::{self as ast, IndexExpr, Ref};
use crate::syntax::printer::print_ref;

/// One moment the claim mentions.
#[derive(Clone, Debug)]
pub(super) struct Moment {
    pub(super) var: bool,
    pub(super) target: Ref,
}

/// Replaces `Var(T)` and `E[T]` by symbols `mc_k`; other calls that cannot be estimated
/// are reported.
/// `x` when the arguments are the one expression `x^2` with `x` a reference.
fn square_of_ref(args: &[ast::Expr]) -> Option<&ast::Expr> {
    match args {
        [ast::Expr::Binary(ast::BinOp::Pow, x, k, _)]
            if matches!(**x, ast::Expr::Ref(_))
                && matches!(&**k, ast::Expr::Num(n, _) if n.parse::<f64>() == Ok(2.0)) =>
        {
            Some(x)
        }
        _ => None,
    }
}

/// `Cov(x, x)`: the same reference twice.
pub(super) fn self_cov(c: &ast::Call) -> bool {
    c.func.name == "Cov"
        && matches!(c.args.as_slice(), [ast::Expr::Ref(a), ast::Expr::Ref(b)]
            if print_ref(a) == print_ref(b))
}

pub(super) fn extract(e: &ast::Expr, out: &mut Vec<Moment>) -> Result<ast::Expr, String> {
    // `E(x^2)` of an element is `Var(x) + E(x)^2`, both estimated.
    if let ast::Expr::Call(c) = e {
        if let (true, Some(x)) = (c.func.name == "E", square_of_ref(&c.args)) {
            let call = |name: &str| {
                ast::Expr::Call(ast::Call {
                    func: ast::Ident {
                        name: name.into(),
                        span: c.func.span,
                    },
                    args: vec![x.clone()],
                    brackets: c.brackets,
                    span: c.span,
                })
            };
            let second = ast::Expr::Binary(
                ast::BinOp::Add,
                Box::new(call("Var")),
                Box::new(ast::Expr::Binary(
                    ast::BinOp::Pow,
                    Box::new(call("E")),
                    Box::new(ast::Expr::Num("2".into(), c.span)),
                    c.span,
                )),
                c.span,
            );
            return extract(&second, out);
        }
    }
    Ok(match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Var" | "E") => {
            let [ast::Expr::Ref(r)] = c.args.as_slice() else {
                return Err(format!(
                    "`{}` of an expression is not estimated yet",
                    c.func.name
                ));
            };
            // An upper-case name in an index position is a summed index (docs/language.md):
            // `Var(x[I])` is the variance of a sum, not of one element.
            let summed = r.indices.iter().flatten().any(|ix| match ix {
                ast::IndexExpr::Affine(a) => a
                    .terms
                    .iter()
                    .any(|t| t.factors.iter().any(|f| ast::is_summed_index(&f.name))),
                ast::IndexExpr::Lookup(_) => false,
            });
            if summed {
                return Err(format!(
                    "`{}` of a sum over a capital index is not estimated yet",
                    c.func.name
                ));
            }
            out.push(Moment {
                var: c.func.name == "Var",
                target: r.clone(),
            });
            ast::Expr::Ref(Ref::plain(&format!("mc_{}", out.len() - 1), c.span))
        }
        // `Cov(x, x)` is `Var(x)` (the same element twice): estimated as such.
        ast::Expr::Call(c) if self_cov(c) => {
            let mut v = c.clone();
            v.func.name = "Var".into();
            v.args.truncate(1);
            return extract(&ast::Expr::Call(v), out);
        }
        ast::Expr::Call(c) if c.func.name == "Cov" => {
            return Err(
                "`Cov(x, y)` of two different values is not estimated by Monte Carlo yet: each trial pools the first and second moments of one tensor's elements, not the products of paired elements of two (only `Cov(x, x)`, which is `Var(x)`, is estimated)"
                    .into(),
            )
        }
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "solve" | "sup") => {
            return Err(format!(
                "`{}(...)` is not estimated by Monte Carlo yet",
                c.func.name
            ))
        }
        ast::Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c
                .args
                .iter()
                .map(|a| extract(a, out))
                .collect::<Result<_, _>>()?;
            ast::Expr::Call(c)
        }
        ast::Expr::Unary(op, x, s) => ast::Expr::Unary(*op, Box::new(extract(x, out)?), *s),
        ast::Expr::Binary(op, l, r, s) => ast::Expr::Binary(
            *op,
            Box::new(extract(l, out)?),
            Box::new(extract(r, out)?),
            *s,
        ),
        ast::Expr::Sum(..) => return Err("sums of moments are not estimated yet".into()),
        other => other.clone(),
    })
}

/// Why Monte Carlo's pooled statistics do not estimate the moment of `target`'s element:
/// a position that is neither a number nor a plain index of its own (a loop variable
/// the claim binds, an index repeated, an index with an offset or a factor).
pub(super) fn unpooled_position(target: &Ref, loop_vars: &[String]) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    let name = &target.name.base;
    for ix in target.indices.iter().flatten() {
        let IndexExpr::Affine(a) = ix else {
            return Some(format!(
                "Monte Carlo does not estimate the moment of `{name}` at a looked-up position yet"
            ));
        };
        if a.terms.is_empty() {
            continue;
        }
        // A position written only with the claim's loop variables (`h[b,t]`,
        // `h[b,t-1]` of a recurrence along t) is a fixed position at each binding of
        // them: [`bind_positions`] fixes it before the pool is read.
        if a.terms
            .iter()
            .all(|t| t.factors.len() == 1 && loop_vars.contains(&t.factors[0].name))
        {
            continue;
        }
        let plain = match a.terms.as_slice() {
            [t] if a.constant == 0 && t.coef == 1 && t.factors.len() == 1 => {
                Some(t.factors[0].name.clone())
            }
            _ => None,
        };
        let Some(v) = plain else {
            return Some(format!(
                "Monte Carlo pools the elements of `{name}` over its free positions; a shifted or scaled position selects other elements, which it does not estimate yet"
            ));
        };
        if !seen.insert(v.clone()) {
            return Some(format!(
                "Monte Carlo pools the elements of `{name}` over its free positions; the index `{v}` repeated selects a diagonal, which it does not estimate yet"
            ));
        }
    }
    None
}

/// The target with every position written only with bound loop variables fixed at
/// their values (`h[b,t-1]` at t = 3: `h[b,2]`), so that the pool read at that binding
/// is that step's elements alone (session 26: `Var(h[b,t]) == t + 1` of a recurrence
/// along t was undecided, the pool mixing every step). Positions that read no bound
/// variable are kept.
pub(super) fn bind_positions(target: &Ref, b: &[(String, i64)]) -> Ref {
    let mut out = target.clone();
    for ix in out.indices.iter_mut().flatten() {
        let IndexExpr::Affine(a) = ix else {
            continue;
        };
        if a.terms.is_empty() {
            continue;
        }
        let value = |name: &str| b.iter().find(|(v, _)| v == name).map(|(_, x)| *x);
        let mut k = a.constant;
        let mut all = true;
        for t in &a.terms {
            match (
                t.factors.as_slice(),
                t.factors.first().and_then(|f| value(&f.name)),
            ) {
                ([_], Some(x)) => k += t.coef * x,
                _ => all = false,
            }
        }
        if all {
            a.terms.clear();
            a.constant = k;
        }
    }
    out
}

/// A tensor member's elements selected by fixed positions (`[0, x, y, 0]`: `Some(0)`,
/// `None`, `None`, `Some(0)`).
pub(super) type Pattern = Vec<Option<i64>>;

pub(super) fn pattern_of(target: &Ref) -> Pattern {
    target
        .indices
        .iter()
        .flatten()
        .map(|ix| match ix {
            IndexExpr::Affine(a) if a.terms.is_empty() => Some(a.constant),
            _ => None,
        })
        .collect()
}
