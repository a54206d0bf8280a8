//! Tensors a loop writes at part of a dimension (session 39, issue #14 item 5).
//!
//! The walk stores one distribution per tensor (its elements share it). A loop that
//! writes `y[b,t]` at the positions of its own range (`for t in 1..T-1`) writes only
//! those: y[b,0] is never written and reads 0 (the runs' semantics, `tq emit`'s arrays),
//! so the distribution the loop body gives is each *written* element's, not every
//! element's. Before session 39 the engine stored it for the whole tensor, and `Var(y)
//! == 4` was proved, `Var(z) == 4` of `z[b,t] = y[b,t] + 1` (which reads y[b,0] = 0) too.
//!
//! A loop covers a dimension it writes at `v + c` when its written positions start at
//! 0, no start is declared on that dimension, and they end at S − 1 for every size S the
//! dimension has: the size whose index the loop variable is named like (`t` of `T`), the
//! declared extent, and the size of every plain index that reads the tensor there
//! elsewhere (`z[b,t] = y[b,t]` outside the loop: T). A loop that does not cover it
//! records a [`Partial`]; a read of the tensor ([`Walker::partial_read`]) is then known
//! only where it provably falls on written positions: along a loop variable whose range
//! (plus the read's offset) lies inside the written range, at a fixed position inside
//! it, or, in a claim, at the loop's own variable at the written offset (a claim's loop
//! variable ranges over the loop's range, docs/numeric.md). A whole-tensor read
//! (`Var(y)`), a read at a plain index over a size, or one at another offset is not
//! known, with the reason.

use super::walker::Walker;
use super::Key;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, IndexExpr, Item, ItemKind, Ref};
use std::collections::{BTreeMap, BTreeSet};

/// One dimension of a tensor that a loop writes only in part.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    /// The dimension (from 0).
    pub dim: usize,
    /// The loop variable and the loop's range (first and last value, in the sizes).
    pub var: String,
    pub from: Expr,
    pub to: Expr,
    /// The written position is `var + offset`; `None` for another form (`t + s`, `-t`),
    /// whose positions are not read off.
    pub offset: Option<i64>,
    /// Whether the written positions end at the dimension's last position (every size
    /// it has, or the last written position when it has none): a fixed position from
    /// the first written one is then written wherever it exists.
    pub upper: bool,
    /// Why a read that does not provably fall on written positions is not known.
    pub why: String,
}

impl Partial {
    /// The first and last written positions.
    fn written(&self) -> Option<(Expr, Expr)> {
        let c = Expr::int(self.offset?);
        Some((
            sym::simplify(&(self.from.clone() + c.clone())),
            sym::simplify(&(self.to.clone() + c)),
        ))
    }
}

/// A whole number ≥ 0, when `e` simplifies to one.
fn non_negative(e: Expr) -> bool {
    sym::simplify(&e).as_int().is_some_and(|n| n >= 0)
}

fn is_zero(e: Expr) -> bool {
    sym::simplify(&e).is_zero()
}

/// The sizes of the plain indices that read each tensor's dimension outside the loops
/// whose variable they would be (`z[b,t] = y[b,t]` after the loop over `t`: (y, 1) →
/// T), in the forward and backward programs: the extents the rest of the program reads
/// a loop-written dimension at.
pub(super) fn plain_reads(
    env: &crate::check::Env,
    lists: &[&[Item]],
) -> BTreeMap<(Key, usize), BTreeSet<String>> {
    fn note(
        env: &crate::check::Env,
        r: &Ref,
        vars: &[String],
        out: &mut BTreeMap<(Key, usize), BTreeSet<String>>,
    ) {
        let key: Key = (env.key_of(&r.name), r.grad);
        for (k, ix) in r.indices.iter().flatten().enumerate() {
            let IndexExpr::Affine(a) = ix else { continue };
            let [t] = a.terms.as_slice() else { continue };
            let [f] = t.factors.as_slice() else { continue };
            if t.coef != 1 || vars.contains(&f.name) {
                continue;
            }
            if let Some(s) = env.index_size(&f.name) {
                out.entry((key.clone(), k)).or_default().insert(s);
            }
        }
    }
    fn walk(
        env: &crate::check::Env,
        items: &[Item],
        vars: &mut Vec<String>,
        out: &mut BTreeMap<(Key, usize), BTreeSet<String>>,
    ) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(eq) => {
                    note(env, &eq.lhs, vars, out);
                    crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| note(env, r, vars, out));
                }
                ItemKind::ForIndices(f) => walk(env, &f.body, vars, out),
                ItemKind::Loop(l) => {
                    vars.push(l.range.var.name.clone());
                    walk(env, &l.body, vars, out);
                    vars.pop();
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    for items in lists {
        walk(env, items, &mut Vec::new(), &mut out);
    }
    out
}

/// The equations of a block, in `for` blocks and nested loops too.
fn equations<'i>(items: &'i [Item], out: &mut Vec<&'i ast::Equation>) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => out.push(eq),
            ItemKind::ForIndices(f) => equations(&f.body, out),
            ItemKind::Loop(l) => equations(&l.body, out),
            _ => {}
        }
    }
}

impl Walker<'_> {
    /// Records the dimensions the loop over `var` (first value `lo`, last `hi`) writes
    /// only in part ([`Partial`]); called before its body is walked, so that reads in
    /// the body are judged too (`y[b,t-1]` at the first step reads an unwritten element).
    pub(super) fn note_partial_writes(&mut self, lp: &ast::Loop, lo: &Expr, hi: &Expr) {
        let var = lp.range.var.name.as_str();
        let mut eqs = Vec::new();
        equations(&lp.body, &mut eqs);
        let mut found: Vec<(Key, Partial)> = Vec::new();
        for eq in eqs {
            let key = self.key(&eq.lhs);
            let info = self.env.tensor_of(&eq.lhs.name);
            for (k, ix) in eq.lhs.indices.iter().flatten().enumerate() {
                let IndexExpr::Affine(a) = ix else { continue };
                if !a
                    .terms
                    .iter()
                    .any(|t| t.factors.iter().any(|f| f.name == var))
                {
                    continue;
                }
                let offset = match a.terms.as_slice() {
                    [t] if t.coef == 1 && t.factors.len() == 1 => Some(a.constant),
                    _ => None,
                };
                let mut p = Partial {
                    dim: k,
                    var: var.to_string(),
                    from: lo.clone(),
                    to: hi.clone(),
                    offset,
                    upper: false,
                    why: String::new(),
                };
                let name = crate::syntax::printer::print_ref(&eq.lhs);
                let Some((first, last)) = p.written() else {
                    p.why = format!(
                        "`{name}` is written by the loop over `{var}` at positions tq does not read off (dimension {}): a read elsewhere may fall on elements the loop never writes",
                        k + 1
                    );
                    found.push((key.clone(), p));
                    continue;
                };
                // The sizes the dimension has: the loop variable's own (`t` of `T`), the
                // declared extent, the plain indices that read it elsewhere.
                let mut sizes: BTreeSet<String> = BTreeSet::new();
                if let Some(s) = self.env.index_size(var) {
                    sizes.insert(s);
                }
                if let Some(d) = info.and_then(|i| i.dims.get(k)) {
                    if self.env.sizes.contains_key(d) {
                        sizes.insert(d.clone());
                    }
                }
                if let Some(s) = self.plain_reads.get(&(key.clone(), k)) {
                    sizes.extend(s.iter().cloned());
                }
                let start = info.is_some_and(|i| i.start_positions.iter().any(|(d, _)| *d == k));
                let ends: Vec<&String> = sizes
                    .iter()
                    .filter(|s| !is_zero(last.clone() - (Expr::sym(s) - Expr::int(1))))
                    .collect();
                p.upper = ends.is_empty();
                if is_zero(first.clone()) && !start && p.upper {
                    continue;
                }
                let extent = match sizes.iter().next() {
                    Some(s) => format!("0..{s} - 1"),
                    None => format!("0..{}", sym::to_ascii(&last)),
                };
                p.why = format!(
                    "`{name}` is written by the loop over `{var}` at positions {}..{} of its dimension {} only, not at every position of {extent}{}: the elements it never writes read 0, so a moment of the whole tensor, or of elements read at a plain index, is not the written elements' (name the written elements: `{name}` at the loop's own variable, or a fixed position in the range)",
                    sym::to_ascii(&first),
                    sym::to_ascii(&last),
                    k + 1,
                    if start { ", and a start is declared there" } else { "" },
                );
                found.push((key.clone(), p));
            }
        }
        for (key, p) in found {
            let list = self.a.to_mut().partial.entry(key).or_default();
            if !list.contains(&p) {
                list.push(p);
            }
        }
    }

    /// `Err` with the reason when `r` reads a tensor a loop writes only in part
    /// ([`Partial`]) at positions not provably written.
    pub(super) fn partial_read(&self, r: &Ref, key: &Key) -> Result<(), String> {
        let Some(list) = self.a.partial.get(key) else {
            return Ok(());
        };
        for p in list {
            let Some(IndexExpr::Affine(a)) = r.indices.as_ref().and_then(|ix| ix.get(p.dim)) else {
                return Err(p.why.clone());
            };
            let Some((first, last)) = p.written() else {
                return Err(p.why.clone());
            };
            let known = match a.terms.as_slice() {
                // A fixed position inside the written range.
                [] => {
                    let n = Expr::int(a.constant);
                    non_negative(n.clone() - first.clone())
                        && (p.upper || non_negative(last.clone() - n))
                }
                [t] if t.coef == 1 && t.factors.len() == 1 => {
                    let v = &t.factors[0].name;
                    let c = Expr::int(a.constant);
                    match self.ranges.get(v) {
                        // Along an enclosing loop: its range shifted by the offset.
                        Some((lo, hi)) => {
                            non_negative(lo.clone() + c.clone() - first.clone())
                                && non_negative(last.clone() - hi.clone() - c)
                        }
                        // A claim's loop variable: the loop's own range.
                        None => self.claim && *v == p.var && Some(a.constant) == p.offset,
                    }
                }
                _ => false,
            };
            if !known {
                return Err(p.why.clone());
            }
        }
        Ok(())
    }
}
