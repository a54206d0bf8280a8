//! `min(T)` and `max(T)` in claims about elements (wrong41, issue #14).
//!
//! Of a leaf tensor (an `input` or a `param` no given sets) the extreme is an atom,
//! `max(x)`, with the facts `x[i] <= max(x)` for the elements the claim reads, and the
//! exact check fills in the extreme of the drawn elements, of any rank. Of anything else —
//! a computed tensor, a gradient, a leaf an element given sets — the extreme is written
//! out at the exact check's concrete sizes as the fold `max(a, b) = (a + b)/2 + |a − b|/2`
//! over every element written out, and at a generic index it is an atom named after the
//! value (`max(y)`, `max(x.grad)`) with no facts: no proof reads it, so the claim is
//! decided by the exact check or left to the other engines. Before, the atom was named
//! after the tensor alone (`max(x.grad)` was `max(x)`) and filled in from drawn values of
//! elements the model computes: `max(x.grad) >= x[0]` of `L = -Σ x²/2` was proved, and
//! `max(y) >= y[0]` of `y = 2x - 1` refuted.

use super::Lowerer;
use crate::sym::{Expr, Func};
use crate::syntax::ast;
use std::collections::BTreeMap;

/// The most elements an extreme is written out over.
const MAX_ELEMENTS: usize = 64;

/// Every position of a tensor with these dimensions at these sizes, as index texts
/// (`["0,0", "0,1", ...]`); a fixed-position dimension (`@c`) has the one position.
pub fn positions(dims: &[String], sizes: &BTreeMap<String, i64>) -> Result<Vec<String>, String> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for d in dims {
        let vals: Vec<i64> = if let Some(c) = d.strip_prefix('@') {
            vec![c.parse().map_err(|_| format!("the dimension `{d}`"))?]
        } else if let Some(n) = sizes.get(d) {
            (0..*n).collect()
        } else {
            return Err(format!(
                "min and max are written out over dimensions with a size only (`{d}`)"
            ));
        };
        let mut next = Vec::new();
        for p in &out {
            for v in &vals {
                let mut q = p.clone();
                q.push(v.to_string());
                next.push(q);
            }
        }
        if next.len() > MAX_ELEMENTS {
            return Err(format!(
                "min and max are written out over at most {MAX_ELEMENTS} elements"
            ));
        }
        out = next;
    }
    Ok(out.into_iter().map(|p| p.join(",")).collect())
}

impl Lowerer<'_> {
    /// `min(T)` / `max(T)` (`f` is the function's name).
    pub(super) fn extreme(&mut self, f: &str, r: &ast::Ref) -> Result<Expr, String> {
        let key = self.env.key_of(&r.name);
        let Some(info) = self.env.tensors.get(&key) else {
            return Err(format!("`{f}` of a value that is not a tensor"));
        };
        if info.family_arity > 0 {
            return Err(format!("`{f}` of a family member is not written out"));
        }
        if info.rank == 0 {
            return Err(format!("`{f}` of a value with no index"));
        }
        let name = if r.grad {
            format!("{key}.grad")
        } else {
            key.clone()
        };
        let pre = format!("{key}[");
        let leaf = !r.grad
            && (self.opaque.contains(&key)
                || (!self.eqs.contains_key(&key)
                    && !self.unexpanded.contains(&key)
                    && info.kind != crate::check::TensorKind::Computed
                    && !self.tensor_subs.contains_key(&key)
                    && !self.elem_subs.iter().any(|(n, _)| n.starts_with(&pre))
                    && !self.elem_patterns.iter().any(|p| p.key == key)));
        if leaf {
            return Ok(Expr::sym(&format!("{f}({key})")));
        }
        let Some(sizes) = self.unroll.clone() else {
            // No facts name this atom: nothing is proved from it.
            return Ok(Expr::sym(&format!("{f}({name})")));
        };
        let dims = info.dims.clone();
        let mut acc: Option<Expr> = None;
        for p in positions(&dims, &sizes)? {
            let ix: Vec<String> = if p.is_empty() {
                Vec::new()
            } else {
                p.split(',').map(str::to_string).collect()
            };
            let v = if r.grad {
                self.grad_element(&key, &ix)?
            } else {
                self.element(&key, &ix)?
            };
            acc = Some(match acc {
                None => v,
                Some(a) => fold(f == "max", a, v),
            });
        }
        acc.ok_or_else(|| format!("`{f}` of an empty tensor"))
    }
}

/// max(a, b) = (a + b)/2 + |a − b|/2; min(a, b) = (a + b)/2 − |a − b|/2.
fn fold(max: bool, a: Expr, b: Expr) -> Expr {
    let half = Expr::Num(num_rational::BigRational::new(1.into(), 2.into()));
    let mean = half.clone() * (a.clone() + b.clone());
    let spread = half * Expr::func(Func::Abs, a - b);
    if max {
        mean + spread
    } else {
        mean - spread
    }
}
