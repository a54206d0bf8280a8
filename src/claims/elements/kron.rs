//! Softmax and index brackets written out (docs/language.md, "Claims about tensor
//! elements, written out symbolically"): `softmax_{k}(e)` at an element is
//! `exp(e) / sum_{k}(exp(e))`, the sum taken apart by linearity like any other; a bracket
//! comparing two indices, `[k == k']`, is the Kronecker delta, an atom `δ[k,k']` that is 1
//! when its two indices are the same text and 0 when they are two different numbers (an index may also be compared with a
//! whole number, `[k == 0]`).
//! Summed over one of its indices it selects the term at the other
//! (`sum_{k'}(δ[k,k'] f(k')) = f(k)`), when both run over the same size. Two different
//! index names are not known to differ, so `δ[k,k']` with both free stays an atom, which
//! every proof treats as any real value (sound: what holds for every value holds for 0
//! and 1); the exact check writes indices out as numbers, where the delta is 0 or 1.

use super::Lowerer;
use crate::sym::{self, Expr, Func};
use crate::syntax::ast::{self, RelOp};
use crate::syntax::printer::print_name;
use std::collections::BTreeMap;

const DELTA: &str = "δ[";

/// The Kronecker delta of two index texts.
pub(super) fn delta(a: &str, b: &str) -> Expr {
    if a == b {
        return Expr::int(1);
    }
    if a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok() {
        return Expr::int(0);
    }
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    Expr::sym(&format!("{DELTA}{a},{b}]"))
}

/// The two index texts of a delta atom's name.
pub(super) fn delta_parts(name: &str) -> Option<(&str, &str)> {
    let inner = name.strip_prefix(DELTA)?.strip_suffix(']')?;
    let (a, b) = inner.split_once(',')?;
    (!b.contains(',')).then_some((a, b))
}

/// A symbol after its indices were renamed: a delta is evaluated again.
/// A bare index renamed to a number is that number.
pub(super) fn renamed_symbol(name: &str) -> Expr {
    if let Ok(k) = name.parse::<i64>() {
        return Expr::int(k);
    }
    match delta_parts(name) {
        Some((a, b)) => delta(a, b),
        None => Expr::sym(name),
    }
}

impl Lowerer<'_> {
    /// `[a == b]` of two plain indices (bound or free): a delta; `None` for any other
    /// bracket, which stays the other engines'.
    pub(super) fn index_bracket(
        &self,
        inner: &ast::Expr,
        bind: &BTreeMap<String, String>,
    ) -> Option<Expr> {
        let ast::Expr::Rel(RelOp::Eq, l, r, _) = inner else {
            return None;
        };
        let text = |e: &ast::Expr| -> Option<String> {
            if let ast::Expr::Num(n, _) = e {
                return n.parse::<u32>().ok().map(|k| k.to_string());
            }
            let ast::Expr::Ref(r) = e else { return None };
            if r.indices.is_some() || r.grad {
                return None;
            }
            let name = print_name(&r.name);
            if let Some(t) = bind.get(&name) {
                return Some(t.clone());
            }
            let key = self.env.key_of(&r.name);
            let plain = !self.env.tensors.contains_key(&key)
                && !self.env.symbols.contains_key(&key)
                && !self.env.sizes.contains_key(&key);
            (plain && self.env.index_size(&name).is_some()).then_some(name)
        };
        let (a, b) = (text(l)?, text(r)?);
        Some(delta(&a, &b))
    }

    /// A bare index in a bracket (`[k == lab[t]]`): its value at the element, a number
    /// where the index is written out, else the index as a symbol. `None` for a name
    /// that is not a plain index.
    pub(super) fn bare_index(&self, r: &ast::Ref, bind: &BTreeMap<String, String>) -> Option<Expr> {
        if r.indices.is_some() || r.grad {
            return None;
        }
        let name = print_name(&r.name);
        let key = self.env.key_of(&r.name);
        let plain = !self.env.tensors.contains_key(&key)
            && !self.env.symbols.contains_key(&key)
            && !self.env.sizes.contains_key(&key)
            && self.env.index_size(&name).is_some();
        if !plain {
            return None;
        }
        let t = bind.get(&name).cloned().unwrap_or(name);
        Some(match t.parse::<i64>() {
            Ok(k) => Expr::int(k),
            Err(_) => Expr::sym(&t),
        })
    }

    /// `softmax_{k}(body)` at the element `bind` names: `exp(body) / Σ_k exp(body)`.
    pub(super) fn softmax(
        &mut self,
        id: &ast::Ident,
        body: &ast::Expr,
        bind: &BTreeMap<String, String>,
    ) -> Result<Expr, String> {
        let num = Expr::func(Func::Exp, self.lower_terms(body, bind)?);
        let size = self.size_of(&id.name)?;
        let v = self.fresh();
        self.var_sizes.insert(v.clone(), size.clone());
        let mut b = bind.clone();
        b.insert(id.name.clone(), v.clone());
        let each = Expr::func(Func::Exp, self.lower_terms(body, &b)?);
        let den = self.sum(&v, &size, &each, body, &b)?;
        Ok(num / den)
    }

    /// The size an index text runs over: a bound variable's, or a free index's.
    fn text_size(&self, t: &str) -> Option<String> {
        self.var_sizes
            .get(t)
            .cloned()
            .or_else(|| self.env.index_size(t))
    }

    /// `Σ_var` of the product `dep` when one of its factors is a delta of `var` and an
    /// index over the same size: the other factors at that index.
    pub(super) fn kronecker_sum(&self, var: &str, size: &str, dep: &[Expr]) -> Option<Expr> {
        let is_delta_of_var = |f: &Expr| -> Option<String> {
            let name = match f {
                Expr::Sym(n) => n,
                Expr::Pow(b, e) if e.as_int().is_some_and(|k| k >= 1) => match &**b {
                    Expr::Sym(n) => n,
                    _ => return None,
                },
                _ => return None,
            };
            let (a, b) = delta_parts(name)?;
            let other = if a == var {
                b
            } else if b == var {
                a
            } else {
                return None;
            };
            // Position 0 is inside every size (sizes are at least 1); another number
            // is not known to be.
            let inside = other == "0" || self.text_size(other).as_deref() == Some(size);
            (!other.contains(var) && inside).then(|| other.to_string())
        };
        let (k, other) = dep
            .iter()
            .enumerate()
            .find_map(|(k, f)| is_delta_of_var(f).map(|o| (k, o)))?;
        let rest: Vec<Expr> = dep
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, f)| f.clone())
            .collect();
        Some(super::rename(&sym::expand(&Expr::mul(rest)), var, &other))
    }
}
