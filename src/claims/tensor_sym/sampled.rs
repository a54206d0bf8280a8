//! The sampled check of a claim whose givens set whole tensors: the model run with
//! those tensors put in, the claim evaluated element by element.

use super::givens::Givens;
use super::und;
use crate::analysis::Analysis;
use crate::check::Env;
use crate::claims::Options;
use crate::claims::Outcome;
use crate::num::gradcheck::run_model_after;
use crate::num::{Machine, NumError};
use crate::syntax::ast::{self as ast, IndexExpr, RelOp};
use crate::syntax::printer::print_expr;

/// A claim about tensor elements with givens that set whole tensors (`U = c W`): the
/// model is run with those tensors set from the givens, then the claim is evaluated
/// element by element (confirmed at best).
pub(super) fn sampled_with_tensor_givens(
    claim: &ast::Claim,
    a: &Analysis,
    g: &Givens,
    opts: &Options,
    why_not_symbolic: &str,
) -> Outcome {
    let ast::Expr::Rel(RelOp::Eq, l, r, _) = &claim.body else {
        return und(format!("not proved symbolically ({why_not_symbolic}); only equations are evaluated on a sampled run"));
    };
    let (program, env) = (a.program, a.env);
    let back = a.backward();
    let loss = a.loss();
    let tensor = g.tensor.clone();
    let setup = move |m: &mut Machine| -> Result<(), NumError> {
        for (key, e) in &tensor {
            set_tensor(m, key, e)?;
        }
        Ok(())
    };
    let run = match run_model_after(program, env, &back.items, loss, opts.seed, &setup) {
        Ok(m) => m,
        Err(e) => {
            return und(format!(
                "the model cannot be run with the givens: {}",
                e.message
            ))
        }
    };
    let mut machine = run.machine;
    let rest: Vec<ast::Expr> = claim
        .given
        .iter()
        .filter(|e| !matches!(e, ast::Expr::Rel(RelOp::Eq, l, _, _) if matches!(&**l, ast::Expr::Ref(r) if r.indices.is_none() && env.tensor_of(&r.name).is_some_and(|t| t.rank > 0))))
        .cloned()
        .collect();
    let o = crate::claims::numeric::decide_found(
        RelOp::Eq,
        l,
        r,
        &rest,
        program,
        &mut machine,
        opts.seed,
        &mut None,
        &mut false,
    );
    let sets: Vec<String> = g
        .tensor
        .iter()
        .map(|(k, e)| format!("{k} = {}", print_expr(e)))
        .collect();
    Outcome {
        evidence: format!(
            "{}, with {} set in the run; not proved symbolically: {why_not_symbolic}",
            o.evidence,
            sets.join(", ")
        ),
        ..o
    }
}

/// Sets every element of `key` from a whole-tensor expression (`c W`).
fn set_tensor(m: &mut Machine, key: &str, e: &ast::Expr) -> Result<(), NumError> {
    let Some(store) = m.vals.get(&(key.to_string(), false)).cloned() else {
        return Err(NumError {
            too_large: false,
            message: format!("`{key}` has no values to set"),
        });
    };
    let mut new = store.clone();
    for pos in store.keys() {
        let indexed = index_whole(e, pos, m.env);
        let v = m.eval(&indexed, &Vec::new())?;
        new.insert(pos.clone(), v);
    }
    m.vals.insert((key.to_string(), false), new);
    Ok(())
}

/// `c W` at position `[1, 2]`: `c W[1, 2]`.
fn index_whole(e: &ast::Expr, pos: &[i64], env: &Env) -> ast::Expr {
    let mut e = e.clone();
    fn walk(e: &mut ast::Expr, pos: &[i64], env: &Env) {
        match e {
            ast::Expr::Ref(r) => {
                let key = env.key_of(&r.name);
                if r.indices.is_none() && env.tensors.get(&key).is_some_and(|t| t.rank > 0) {
                    r.indices = Some(
                        pos.iter()
                            .map(|k| {
                                IndexExpr::Affine(ast::Affine {
                                    terms: vec![],
                                    constant: *k,
                                    span: r.span,
                                })
                            })
                            .collect(),
                    );
                }
            }
            ast::Expr::Unary(_, x, _) | ast::Expr::Iverson(x, _) => walk(x, pos, env),
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                walk(l, pos, env);
                walk(r, pos, env);
            }
            ast::Expr::Call(c) => c.args.iter_mut().for_each(|a| walk(a, pos, env)),
            _ => {}
        }
    }
    walk(&mut e, pos, env);
    e
}
