//! Writes against the extent of the tensor they write (E0213, session 23).
//!
//! A statement may write a tensor at a shifted or strided position (`y[b,2x+1] += ...`,
//! a transposed convolution's `z[b,2y+dx,k] += ...`) once the tensor's extent is known
//! (a declaration, or a first statement over plain indices). The interpreter stores such
//! a write only inside that extent (under `boundary circular` it wraps); outside it the
//! write was dropped without a word, so with `size U = X + 1` and `y[b,u] = 0`,
//! `y[b,2x+1] += x[b,x]` lost half of the upsampled values and the gradient check, the
//! moments and Monte Carlo all read another model than the one written.
//!
//! At the `sample` values (with the derived sizes computed from them), every position
//! `c·i + ... + k` a write reaches over its indices' ranges must lie in 0..S-1 of the
//! dimension's extent S, unless the file's boundary rule is `circular`. Positions along
//! a loop variable (`h[b,t+1]`), gradients (`x.grad[b,x+dx] +=`: a scatter whose terms
//! outside are the padding's) and dimensions of unknown extent are not checked here.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_affine, print_name};
use std::collections::{BTreeMap, BTreeSet};

/// E0213 for every write outside its tensor's extent at the sample values (see the
/// module comment); one per tensor and dimension.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    if env.boundary == Some(Boundary::Circular) {
        return;
    }
    let mut vals: BTreeMap<String, i64> = BTreeMap::new();
    let mut any = false;
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            any = true;
            for b in bs {
                if let Some(super::members::Exact::Int(v)) = super::members::eval_const(&b.value) {
                    vals.insert(b.name.name.clone(), v);
                }
            }
        }
    }
    if !any {
        return;
    }
    let mut with_derived = vals.clone();
    if super::outputs::derive_sizes_at(&mut with_derived, env) {
        vals = with_derived;
    }
    let mut w = Walk {
        env,
        vals,
        loop_vars: BTreeSet::new(),
        reported: BTreeSet::new(),
        diags,
    };
    w.items(&program.items);
}

struct Walk<'a> {
    env: &'a Env,
    vals: BTreeMap<String, i64>,
    loop_vars: BTreeSet<String>,
    reported: BTreeSet<(String, usize)>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Walk<'_> {
    fn items(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.equation(eq),
                ItemKind::Loop(l) => {
                    let var = l.range.var.name.clone();
                    let fresh = self.loop_vars.insert(var.clone());
                    self.items(&l.body);
                    if fresh {
                        self.loop_vars.remove(&var);
                    }
                }
                ItemKind::ForIndices(f) => self.items(&f.body),
                _ => {}
            }
        }
    }

    /// The lowest and highest value of an index at the sample values.
    fn index_range(&self, name: &str) -> Option<(i64, i64)> {
        let size = self.env.index_size(name)?;
        let n = *self.vals.get(&size)?;
        if n < 1 {
            return None;
        }
        if self.env.index_centered(name) {
            if n % 2 == 0 {
                return None;
            }
            return Some((-(n - 1) / 2, (n - 1) / 2));
        }
        Some((0, n - 1))
    }

    /// The lowest and highest position an affine form reaches over its indices' ranges,
    /// or `None` when a factor has no value here (a loop variable, a lookup, a symbol
    /// without a whole sample value).
    fn reach(&self, a: &Affine) -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (a.constant as i128, a.constant as i128);
        for t in &a.terms {
            let mut coef = t.coef as i128;
            let mut index: Option<(i64, i64)> = None;
            for f in &t.factors {
                if self.loop_vars.contains(&f.name) {
                    return None;
                }
                if let Some(v) = self.vals.get(&f.name) {
                    if self.env.sizes.contains_key(&f.name)
                        || self.env.symbols.contains_key(&f.name)
                    {
                        coef = coef.checked_mul(*v as i128)?;
                        continue;
                    }
                }
                if index.is_some() {
                    return None;
                }
                index = Some(self.index_range(&f.name)?);
            }
            let (a0, a1) = index.map_or((1, 1), |(l, h)| (l as i128, h as i128));
            let (p, q) = (coef.checked_mul(a0)?, coef.checked_mul(a1)?);
            lo = lo.checked_add(p.min(q))?;
            hi = hi.checked_add(p.max(q))?;
        }
        Some((i64::try_from(lo).ok()?, i64::try_from(hi).ok()?))
    }

    fn equation(&mut self, eq: &Equation) {
        let r = &eq.lhs;
        if r.grad {
            return;
        }
        let key = self.env.key_of(&r.name);
        let Some(t) = self.env.tensors.get(&key) else {
            return;
        };
        for (pos, ix) in r.indices.iter().flatten().enumerate() {
            let IndexExpr::Affine(a) = ix else { continue };
            if a.terms.is_empty() || a.plain_var().is_some() {
                continue;
            }
            // An index plus a constant (`h[b,h+1]`, the documented valid form of a centred
            // window) is left as it was: its last write is past the extent (open, docs/
            // soundness.md, session 23).
            if a.terms.len() == 1 && a.terms[0].coef == 1 && a.terms[0].factors.len() == 1 {
                continue;
            }
            let Some(dim) = t.dims.get(pos) else { continue };
            if dim.starts_with(['@', '~', '?']) {
                continue;
            }
            let Some(&extent) = self.vals.get(dim) else {
                continue;
            };
            let Some((lo, hi)) = self.reach(a) else {
                continue;
            };
            if lo >= 0 && hi < extent {
                continue;
            }
            if !self.reported.insert((key.clone(), pos)) {
                continue;
            }
            let name = print_name(&r.name);
            let written = print_affine(a);
            let at = if hi >= extent { hi } else { lo };
            let need = hi + 1;
            self.diags.push(
                Diagnostic::error(
                    "E0213",
                    a.span,
                    format!(
                        "`{name}` is written at `{written}`, which reaches position {at} of its dimension {}, outside its extent `{dim}` = {extent} at the sample values",
                        pos + 1
                    ),
                )
                .with_label(format!("positions {lo}..{hi}"))
                .with_hint(if lo >= 0 {
                    format!(
                        "the write would be dropped there; give `{name}` the extent the write needs ({need} positions here: e.g. `size U = ...` and define `{name}` over `u` first), or write fewer positions"
                    )
                } else {
                    format!(
                        "positions below 0 do not exist; shift the write (or the loop's range) so that it starts at 0, and give `{name}` the extent it needs"
                    )
                }),
            );
        }
    }
}
