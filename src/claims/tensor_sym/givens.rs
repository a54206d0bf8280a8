//! The claim's givens (substitutions, scalings, facts) and the lowering of both sides to
//! `sym` at a generic index (`elements::Lowerer` with the givens put in).

use crate::check::Env;
use crate::claims::elements::{Fact, Lowerer};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Program, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use std::collections::{BTreeMap, BTreeSet};

/// What the givens say.
#[derive(Default)]
pub(super) struct Givens {
    pub(super) tensor: Vec<(String, ast::Expr)>,
    pub(super) elems: Vec<(String, ast::Expr)>,
    pub(super) syms: Vec<(String, ast::Expr)>,
    pub(super) positive: BTreeSet<String>,
    /// Relations kept as facts `lhs - rhs >= 0` (and for the exact check).
    pub(super) facts: Vec<(ast::Expr, RelOp, ast::Expr)>,
}

pub(super) fn read_givens(given: &[ast::Expr], env: &Env) -> Result<Givens, String> {
    let mut g = Givens::default();
    for e in given {
        let ast::Expr::Rel(op, l, r, _) = e else {
            return Err(format!("the given `{}` is not a relation", print_expr(e)));
        };
        match (op, &**l) {
            (RelOp::Eq, ast::Expr::Ref(lr)) if !lr.grad => {
                let key = env.key_of(&lr.name);
                let rank = env.tensors.get(&key).map(|t| t.rank);
                match (&lr.indices, rank) {
                    (None, Some(k)) if k > 0 => g.tensor.push((key, (**r).clone())),
                    (Some(ix), Some(_)) => {
                        let texts: Vec<String> =
                            ix.iter().map(crate::syntax::printer::print_index).collect();
                        g.elems
                            .push((format!("{key}[{}]", texts.join(",")), (**r).clone()))
                    }
                    (None, _) => g.syms.push((print_name(&lr.name), (**r).clone())),
                    _ => return Err(format!("the given `{}` is not read", print_expr(e))),
                }
            }
            (RelOp::Gt, ast::Expr::Ref(lr))
                if lr.indices.is_none() && matches!(&**r, ast::Expr::Num(n, _) if n == "0") =>
            {
                g.positive.insert(print_name(&lr.name));
                g.facts.push(((**l).clone(), *op, (**r).clone()));
            }
            (RelOp::Approx, _) => {
                return Err(format!("the given `{}` is approximate", print_expr(e)))
            }
            _ => g.facts.push(((**l).clone(), *op, (**r).clone())),
        }
    }
    Ok(g)
}

/// A lowerer with the givens applied.
pub(super) fn lowerer<'a>(
    program: &'a Program,
    env: &'a Env,
    g: &Givens,
    unroll: Option<BTreeMap<String, i64>>,
    bind: &BTreeMap<String, String>,
    gather: Option<&'a [crate::grad::Gathered]>,
) -> Result<(Lowerer<'a>, Vec<(String, Expr)>), String> {
    let mut lw = Lowerer::new(program, env);
    if let Some(g) = gather {
        lw.with_gradients(g);
    }
    lw.unroll = unroll;
    lw.positive = g.positive.clone();
    for (k, v) in &g.tensor {
        lw.tensor_subs.insert(k.clone(), v.clone());
    }
    let mut syms = Vec::new();
    for (n, v) in &g.syms {
        let v = lw.lower_terms(v, &BTreeMap::new())?;
        syms.push((n.clone(), v));
    }
    for (n, v) in &g.elems {
        let v = lw.lower_terms(v, bind)?;
        // The element's indices under the binding (`beta[j]` is `beta[0]` at j = 0).
        let key = match n.split_once('[') {
            Some((t, rest)) => {
                let ix: Vec<String> = rest
                    .trim_end_matches(']')
                    .split(',')
                    .map(|i| bind.get(i).cloned().unwrap_or_else(|| i.to_string()))
                    .collect();
                format!("{t}[{}]", ix.join(","))
            }
            None => n.clone(),
        };
        lw.elem_subs.push((key, v));
        lw.clear_cache();
    }
    resolve_element_givens(&mut lw.elem_subs)?;
    lw.clear_cache();
    Ok((lw, syms))
}

/// Element givens read each other in any order (`bet[j] = gam[j], gam[j] = 1` sets
/// bet[j] to 1, as `gam[j] = 1, bet[j] = gam[j]` does; docs/language.md: the order of
/// givens does not matter): each value has the others' put in until none changes. A
/// value that reads its own element, directly or through others, is a cycle and
/// leaves the check undone.
fn resolve_element_givens(subs: &mut [(String, Expr)]) -> Result<(), String> {
    for _ in 0..=subs.len() {
        let mut changed = false;
        for i in 0..subs.len() {
            let read = subs[i].1.free_symbols();
            if read.contains(&subs[i].0) {
                return Err(format!(
                    "the givens on `{}` read the element they set (a cycle)",
                    subs[i].0
                ));
            }
            let mut v = subs[i].1.clone();
            for (j, (k, w)) in subs.iter().enumerate() {
                if j != i && read.contains(k) {
                    v = v.subs(k, w);
                    changed = true;
                }
            }
            subs[i].1 = v;
        }
        if !changed {
            return Ok(());
        }
    }
    Err("the givens on elements read each other in a cycle".into())
}

fn subs_all(e: &Expr, syms: &[(String, Expr)]) -> Expr {
    syms.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v))
}

/// Lowers `e` at the binding, with the symbol givens substituted.
pub(super) fn lower_side(
    lw: &mut Lowerer,
    e: &ast::Expr,
    bind: &BTreeMap<String, String>,
    syms: &[(String, Expr)],
) -> Result<Expr, String> {
    Ok(subs_all(&lw.lower_terms(e, bind)?, syms))
}

pub(super) fn fact_expr(
    lw: &mut Lowerer,
    f: &(ast::Expr, RelOp, ast::Expr),
    syms: &[(String, Expr)],
    bind: &BTreeMap<String, String>,
) -> Result<Option<Fact>, String> {
    let (l, r) = (
        lower_side(lw, &f.0, bind, syms)?,
        lower_side(lw, &f.2, bind, syms)?,
    );
    Ok(match f.1 {
        RelOp::Ge | RelOp::Gt => Some(l - r),
        RelOp::Le | RelOp::Lt => Some(r - l),
        _ => None,
    })
}
