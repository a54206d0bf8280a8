//! Positions a declared tensor does not have (E0211): along a loop variable, and a
//! centred index on a dimension declared from 0 (or the other way round).
//!
//! A recurrence reads and writes its own tensor along the loop (`h[b,t,j]`, `h[b,t-1,j]`),
//! and its starts are declared (`input h[B, 0, J]`); those positions are the family and
//! start rules' business. A tensor declared with a whole size along that dimension
//! (`input x[B, T, I]`) has elements 0..T-1 only, and a loop `for t in 1..T` that reads
//! `x[b,t,I]` reads x[b,T,·], an element that does not exist: the element-wise
//! semantics read it as 0 (an element never written), so the last step silently ran on
//! zeros (red team round 3: a gated recurrence's variance at its last step came out as
//! the step before's). Such a read or write is an error: at the `sample` values (and
//! the enclosing loops' ranges there), every position `t + c` of a declared tensor's
//! size dimension, for every value of the loop, must lie inside the extent.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;
use std::collections::BTreeMap;

/// Adds an E0211 for every position along a loop variable that leaves a declared
/// tensor's extent at the `sample` values.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut consts: BTreeMap<String, i64> = BTreeMap::new();
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs {
                if let Expr::Num(t, _) = &b.value {
                    if let Ok(v) = t.parse::<i64>() {
                        consts.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
    }
    let mut w = Walk {
        env,
        consts,
        loops: Vec::new(),
        per_step: BTreeMap::new(),
        centered: BTreeMap::new(),
        diags,
        reported: Default::default(),
    };
    w.per_step_decls(&program.items);
    w.items(&program.items);
}

struct Walk<'a> {
    env: &'a Env,
    consts: BTreeMap<String, i64>,
    /// Enclosing loops: variable, lowest and highest value at the sample.
    loops: Vec<(String, i64, i64, String)>,
    /// Dimensions declared per step (`input x[B, t, I] ~ ... for t in 1..T`): the
    /// positions the declaration covers (its range at the sample values; `None` when it
    /// cannot be evaluated there).
    per_step: BTreeMap<(String, usize), Option<(i64, i64)>>,
    /// Per declared tensor and dimension: whether its positions are centred (declared
    /// with a `centered` index, `param W[dx]`) or run from 0 (a size or a plain index).
    centered: BTreeMap<(String, usize), bool>,
    diags: &'a mut Vec<Diagnostic>,
    /// One diagnostic per tensor and dimension.
    reported: std::collections::BTreeSet<(String, usize)>,
}

impl Walk<'_> {
    fn per_step_decls(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Decl(d) => {
                    let key = self.env.key_of(&d.target.name);
                    for (pos, ix) in d.target.indices.iter().flatten().enumerate() {
                        let IndexExpr::Affine(a) = ix else { continue };
                        if let [t] = a.terms.as_slice() {
                            if let [f] = t.factors.as_slice() {
                                if a.constant == 0 && t.coef == 1 {
                                    self.centered.insert(
                                        (key.clone(), pos),
                                        self.env.index_centered(&f.name),
                                    );
                                }
                            }
                        }
                    }
                    let Some(r) = &d.family else { continue };
                    for (pos, ix) in d.target.indices.iter().flatten().enumerate() {
                        let IndexExpr::Affine(a) = ix else { continue };
                        let plain = a.constant == 0
                            && matches!(a.terms.as_slice(), [t] if t.coef == 1 && matches!(t.factors.as_slice(), [f] if f.name == r.var.name));
                        if plain {
                            let range = self.eval(&r.from).zip(self.eval(&r.to));
                            self.per_step.insert((key.clone(), pos), range);
                        }
                    }
                }
                ItemKind::Loop(l) => self.per_step_decls(&l.body),
                ItemKind::ForIndices(f) => self.per_step_decls(&f.body),
                _ => {}
            }
        }
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Loop(l) => {
                    let (lo, hi) = (self.eval(&l.range.from), self.eval(&l.range.to));
                    let known = matches!((lo, hi), (Some(a), Some(b)) if a <= b);
                    if known {
                        let text = format!(
                            "{}..{}",
                            crate::syntax::printer::print_expr(&l.range.from),
                            crate::syntax::printer::print_expr(&l.range.to)
                        );
                        self.loops
                            .push((l.range.var.name.clone(), lo.unwrap(), hi.unwrap(), text));
                    }
                    self.items(&l.body);
                    if known {
                        self.loops.pop();
                    }
                }
                ItemKind::ForIndices(f) => self.items(&f.body),
                ItemKind::Equation(eq) => {
                    self.reference(&eq.lhs);
                    let mut refs = Vec::new();
                    walk_refs(&eq.rhs, &mut |r| refs.push(r.clone()));
                    for r in &refs {
                        self.reference(r);
                    }
                }
                _ => {}
            }
        }
    }

    fn reference(&mut self, r: &Ref) {
        if r.grad {
            return;
        }
        let key = self.env.key_of(&r.name);
        let env = self.env;
        let Some(t) = env.tensors.get(&key) else {
            return;
        };
        if t.kind == super::env::TensorKind::Computed {
            return;
        }
        for (pos, ix) in r.indices.iter().flatten().enumerate() {
            let IndexExpr::Affine(a) = ix else { continue };
            // One loop variable with coefficient 1, plus a constant.
            let [term] = a.terms.as_slice() else { continue };
            let [f] = term.factors.as_slice() else {
                continue;
            };
            if term.coef != 1 {
                continue;
            }
            self.centred_mismatch(&key, pos, a, &f.name, t.span);
            let Some((_, lo, hi, range)) = self
                .loops
                .iter()
                .rev()
                .find(|(v, _, _, _)| *v == f.name)
                .cloned()
            else {
                continue;
            };
            let Some(dim) = t.dims.get(pos) else { continue };
            if dim.starts_with(['@', '~', '?']) {
                continue;
            }
            // The positions that exist: 0..n-1, or the steps a per-step declaration covers.
            let (low, high) = match self.per_step.get(&(key.clone(), pos)) {
                Some(Some(r)) => *r,
                Some(None) => continue,
                None => match self.consts.get(dim) {
                    Some(&n) => (0, n - 1),
                    None => continue,
                },
            };
            let (first, last) = (lo + a.constant, hi + a.constant);
            if first >= low && last <= high {
                continue;
            }
            if !self.reported.insert((key.clone(), pos)) {
                continue;
            }
            let bad = if last > high { last } else { first };
            let text = crate::syntax::printer::print_affine(a);
            self.diags.push(
                Diagnostic::error(
                    "E0211",
                    a.span,
                    format!(
                        "`{key}` is indexed at `{text}`, which reaches position {bad} for `{}` in {lo}..{hi}, outside the positions {low}..{high} it has at the sample values",
                        f.name,
                    ),
                )
                .with_label(format!("position {bad} does not exist"))
                .with_related(t.span, format!("dimension {} has extent `{dim}`", pos + 1))
                .with_hint(format!(
                    "declare it per step (`... {key}[..., {v}, ...] ~ ... for {v} in {}`), or run the loop over positions 0..{dim}-1",
                    if a.constant == 0 { range } else { "the loop's range".to_string() },
                    v = f.name
                )),
            );
        }
    }

    /// A plain index whose positions are centred (`index dx : D centered`: -1..1) on a
    /// dimension declared from 0 (`param W[D]`: 0..2), or the other way round: the reads
    /// at -1 fall outside and read 0, silently (red team round 3: a centred 3-tap filter
    /// declared `W[D]` was a 2-tap filter). Declare the dimension with the index
    /// (`param W[dx]`), as problems/resnet.tq does.
    fn centred_mismatch(
        &mut self,
        key: &str,
        pos: usize,
        a: &Affine,
        name: &str,
        decl: crate::syntax::span::Span,
    ) {
        // A summed capital (`DX`) reads the positions of its index (`dx`).
        let lower = name.to_lowercase();
        let name = lower.as_str();
        if a.constant != 0 || !self.env.indices.contains_key(name.trim_end_matches('\'')) {
            return;
        }
        let Some(&declared) = self.centered.get(&(key.to_string(), pos)) else {
            return;
        };
        let mine = self.env.index_centered(name);
        if mine == declared || !self.reported.insert((key.to_string(), pos)) {
            return;
        }
        let (how, hint) = if mine {
            (
                "runs over centred positions (from -(n-1)/2)",
                format!("declare that dimension with the centred index itself (`{key}[..., {name}, ...]`) so that its positions are centred too"),
            )
        } else {
            (
                "runs over positions from 0",
                "declare that dimension with a size or a plain index, or read it with the centred index".to_string(),
            )
        };
        let other = if declared {
            "centred positions"
        } else {
            "positions from 0"
        };
        self.diags.push(
            Diagnostic::error(
                "E0211",
                a.span,
                format!("the index `{name}` {how}, but dimension {} of `{key}` is declared with {other}: some reads fall outside it and read 0", pos + 1),
            )
            .with_label("positions do not match the declaration")
            .with_related(decl, format!("dimension {} declared with {other}", pos + 1))
            .with_hint(hint),
        );
    }

    /// A range bound at the sample values: numbers, sizes and `+ - *`.
    fn eval(&self, e: &Expr) -> Option<i64> {
        match e {
            Expr::Num(t, _) => t.parse().ok(),
            Expr::Ref(r) if r.indices.is_none() && !r.grad && r.name.sub.is_empty() => {
                self.consts.get(&r.name.base).copied()
            }
            Expr::Unary(UnOp::Neg, x, _) => self.eval(x)?.checked_neg(),
            Expr::Binary(op, l, r, _) => {
                let (l, r) = (self.eval(l)?, self.eval(r)?);
                match op {
                    BinOp::Add => l.checked_add(r),
                    BinOp::Sub => l.checked_sub(r),
                    BinOp::Mul | BinOp::Jux => l.checked_mul(r),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}
