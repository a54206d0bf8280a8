//! The claim's givens (substitutions, scalings, facts) and the lowering of both sides to
//! `sym` at a generic index (`elements::Lowerer` with the givens put in).

use crate::analysis::givens::{self as typed, Given};
use crate::check::Env;
use crate::claims::elements::{Fact, Lowerer};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Program, RelOp};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet};

/// What the givens say, for the element engines: [`crate::analysis::givens::Givens`]
/// (the one reader) sorted into what the lowerer substitutes and what it assumes.
#[derive(Default)]
pub(super) struct Givens {
    pub(super) tensor: Vec<(String, ast::Expr)>,
    pub(super) elems: Vec<(String, ast::Expr)>,
    /// Settings: the name, the value and the power (`name^n = value` sets the name to
    /// the positive root).
    pub(super) syms: Vec<(String, ast::Expr, Option<i64>)>,
    pub(super) positive: BTreeSet<String>,
    /// Relations kept as facts `lhs - rhs >= 0` (and for the exact check).
    pub(super) facts: Vec<(ast::Expr, RelOp, ast::Expr)>,
    /// Indices that only element givens name (`relation::given_only_indices`): an
    /// element given over them holds at each of their values.
    pub(super) every: BTreeSet<String>,
}

pub(super) fn read_givens(given: &[ast::Expr], env: &Env) -> Result<Givens, String> {
    let read = typed::Givens::read(given, env);
    let mut g = Givens {
        positive: read.positive_names().collect(),
        ..Givens::default()
    };
    for (given, e) in read.all.into_iter().zip(&read.written) {
        match given {
            Given::Set(s) => g.syms.push((s.name, s.value, s.power)),
            Given::Tensor { name, value } => g.tensor.push((name, value)),
            // An element the model computes (`h[0] = 1` of `h[j] = 2 x[j]`) is not set:
            // set, it gave witnesses off the model (`y[0] == 2 x[0] + 1 given h[0] = 1`
            // of `y = h + 1` was refuted at x[0] = 0, where h[0] is 0; wrong41, issue #14
            // item 2). It is a relation its written-out value must satisfy at every point
            // (no proof reads an equality fact).
            Given::Element { key, value } if computed_element(&key, env) => {
                let ast::Expr::Rel(_, l, _, _) = e else {
                    return Err(format!("the given `{}` is not read", print_expr(e)));
                };
                g.facts.push(((**l).clone(), RelOp::Eq, value));
            }
            Given::Element { key, value } => g.elems.push((key, value)),
            Given::Condition(c) if c.op == RelOp::Approx => {
                return Err(format!("the given `{}` is approximate", print_expr(e)))
            }
            Given::Condition(c) => g.facts.push((c.left, c.op, c.right)),
            // `x^2 = 4` of a name whose sign is open: a fact (both roots satisfy it).
            Given::SignOpen(s) => {
                let ast::Expr::Rel(op, l, r, _) = e else {
                    continue;
                };
                let _ = s;
                g.facts.push(((**l).clone(), *op, (**r).clone()));
            }
            Given::Other(_) => match e {
                ast::Expr::Rel(RelOp::Eq, l, _, _) if matches!(&**l, ast::Expr::Ref(r) if !r.grad) => {
                    return Err(format!("the given `{}` is not read", print_expr(e)))
                }
                ast::Expr::Rel(op, l, r, _) => g.facts.push(((**l).clone(), *op, (**r).clone())),
                _ => return Err(format!("the given `{}` is not a relation", print_expr(e))),
            },
        }
    }
    Ok(g)
}

/// Whether an element given's tensor is one the model computes (not a leaf).
fn computed_element(key: &str, env: &Env) -> bool {
    let (t, rest) = key.split_once('[').unwrap_or((key, ""));
    let Some(info) = env.tensors.get(t) else {
        return false;
    };
    if info.kind == crate::check::TensorKind::Computed {
        return true;
    }
    // A recurrence's declared start (`input h[B, 0]`) is a leaf at its start position
    // only; the loop computes the others (`h[0,1]`).
    let ix: Vec<&str> = rest.trim_end_matches(']').split(',').collect();
    !info.start_positions.is_empty()
        && !info
            .start_positions
            .iter()
            .any(|(d, c)| ix.get(*d).is_some_and(|i| i.trim() == c.to_string()))
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
    for (n, v, power) in &g.syms {
        let v = lw.lower_terms(v, &BTreeMap::new())?;
        syms.push((n.clone(), typed::Setting::root_of(v, *power)));
    }
    // Element givens over an index only the givens name hold at each of its values:
    // patterns, matched against every element the sides read (registered before the
    // single elements below, whose values may read them).
    let mut single = Vec::new();
    for (n, v) in &g.elems {
        let pattern = n.split_once('[').and_then(|(t, rest)| {
            let ix: Vec<String> = rest
                .trim_end_matches(']')
                .split(',')
                .map(|i| bind.get(i).cloned().unwrap_or_else(|| i.to_string()))
                .collect();
            let vars: BTreeSet<String> = ix
                .iter()
                .filter(|i| g.every.contains(*i))
                .cloned()
                .collect();
            (!vars.is_empty()).then(|| crate::claims::elements::ElemPattern {
                key: t.to_string(),
                ix,
                vars,
                value: v.clone(),
                bind: bind.clone(),
            })
        });
        match pattern {
            Some(p) => lw.elem_patterns.push(p),
            None => single.push((n, v)),
        }
    }
    lw.clear_cache();
    for (n, v) in single {
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
