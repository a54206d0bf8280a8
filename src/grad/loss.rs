//! The log-loss of a softmax: outputs read only by `-ln(P[.., lookup, ..])` get the
//! folded gradient `P - onehot`.

use crate::check::Env;
use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// Softmax outputs whose only reader is `loss += -ln(P[.., lookup, ..])` (or
/// `loss -= ln(...)`): the output's key and the index that selects the class.
pub(super) fn log_loss_softmax(
    items: &[Item],
    loss: &str,
    env: &Env,
) -> BTreeMap<String, IndexExpr> {
    let mut softmax: BTreeMap<String, usize> = BTreeMap::new();
    let mut eqs = Vec::new();
    fn flat<'a>(items: &'a [Item], out: &mut Vec<&'a Equation>) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(e) => out.push(e),
                ItemKind::Loop(l) => flat(&l.body, out),
                ItemKind::ForIndices(f) => flat(&f.body, out),
                _ => {}
            }
        }
    }
    flat(items, &mut eqs);
    for e in &eqs {
        if let Expr::Softmax(w, _, _) = &e.rhs {
            let pos = e.lhs.indices.iter().flatten().position(|ix| {
                matches!(ix, IndexExpr::Affine(a) if a.terms.len() == 1 && a.terms[0].factors.len() == 1 && a.terms[0].factors[0].name == w.name)
            });
            if let Some(pos) = pos {
                softmax.insert(env.key_of(&e.lhs.name), pos);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (p, pos) in softmax {
        let mut readers = 0;
        let mut class = None;
        for e in &eqs {
            let mut refs = Vec::new();
            crate::check::walk_refs(&e.rhs, &mut |r| {
                if env.key_of(&r.name) == p {
                    refs.push(r.clone())
                }
            });
            if refs.is_empty() {
                continue;
            }
            readers += refs.len();
            let is_loss =
                e.lhs.indices.is_none() && e.lhs.name.base == loss && e.lhs.name.sub.is_empty();
            let log_read = match (&e.op, &e.rhs) {
                (AssignOp::AddAssign, Expr::Unary(UnOp::Neg, x, _)) => log_arg(x),
                (AssignOp::SubAssign, x) => log_arg(x),
                _ => None,
            };
            if let (true, Some(r)) = (is_loss, log_read) {
                if env.key_of(&r.name) == p {
                    class = r.indices.as_ref().and_then(|ix| ix.get(pos)).cloned();
                }
            }
        }
        if let (1, Some(c)) = (readers, class) {
            out.insert(p, c);
        }
    }
    out
}

pub(super) fn log_arg(e: &Expr) -> Option<&Ref> {
    match e {
        Expr::Call(c) if (c.func.name == "ln" || c.func.name == "log") && c.args.len() == 1 => {
            match &c.args[0] {
                Expr::Ref(r) => Some(r),
                _ => None,
            }
        }
        _ => None,
    }
}
