//! Positions along a loop variable against the extent they read or write: one analysis,
//! each reference visited once (docs/language.md, "Output sizes and the boundary rule").
//!
//! In `for t in 1..T:`, a read `x[b,t]` of an `x` declared over `T` positions reaches
//! `x[b,T]` in the last iteration, one past its extent. Two questions are asked of each
//! position `v + c` along a loop variable of a declared tensor's size dimension, in order:
//!
//! 1. Outside whatever the sizes (reads only): the positions a read visits are
//!    `from + c .. to + c`; when the difference to the dimension's first (0) or last
//!    (S − 1) position is a constant of the wrong sign, the read falls outside in every
//!    model: without a boundary rule that is E0301, under `boundary valid` E0303 (under
//!    `zero` and `circular` such a read is defined: it reads padding or wraps around).
//!    Tensors declared over a loop's range (`input x[B, t, J] ~ ... for t in 1..T`) hold
//!    the positions of that range and are not asked this; a recurrence read at its own
//!    start (`h[b,t-1]` with `input h[B, 0, J]`) is governed by the start rule (E0401).
//! 2. Outside at the sample values (reads and writes of declared tensors, when the first
//!    question did not already report the reference): at the `sample` values and the
//!    enclosing loops' ranges there, every position `t + c`, for every value of the loop,
//!    must lie inside the extent (E0211, once per tensor and dimension). A recurrence
//!    reads and writes its own tensor along the loop (`h[b,t,j]`, `h[b,t-1,j]`), and its
//!    starts are declared; those positions are the family and start rules' business. A
//!    tensor declared with a whole size along that dimension (`input x[B, T, I]`) has
//!    elements 0..T-1 only, and a loop `for t in 1..T` that reads `x[b,t,I]` reads
//!    x[b,T,·], an element that does not exist: the element-wise semantics read it as 0,
//!    so the last step silently ran on zeros (red team round 3: a gated recurrence's
//!    variance at its last step came out as the step before's).
//!
//! Also E0211: a centred index on a dimension declared from 0 (or the other way round).
//! A position that moves with something else than the loop variable is the boundary
//! rule's business ([`crate::check::outputs`]).

use super::env::TensorKind;
use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_affine, print_expr};
use crate::syntax::visit::walk_refs;
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};

/// Checks every position along a loop variable of `program` (see the module comment):
/// E0301/E0303 for a read outside whatever the sizes, else E0211 for a position outside
/// at the `sample` values; and E0211 for a centred index on a dimension declared from 0.
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
        ranged: BTreeSet::new(),
        diags,
        reported: Default::default(),
    };
    w.per_step_decls(&program.items);
    w.items(&program.items);
}

/// An enclosing loop: its range, and its lowest and highest value at the sample values
/// (`None` when they cannot be evaluated there or the range is empty).
struct Loop<'a> {
    range: &'a Range,
    at_sample: Option<(i64, i64)>,
}

struct Walk<'a, 'p> {
    env: &'a Env,
    consts: BTreeMap<String, i64>,
    /// Enclosing loops, innermost last.
    loops: Vec<Loop<'p>>,
    /// Dimensions declared per step (`input x[B, t, I] ~ ... for t in 1..T`): the
    /// positions the declaration covers (its range at the sample values; `None` when it
    /// cannot be evaluated there).
    per_step: BTreeMap<(String, usize), Option<(i64, i64)>>,
    /// Per declared tensor and dimension: whether its positions are centred (declared
    /// with a `centered` index, `param W[dx]`) or run from 0 (a size or a plain index).
    centered: BTreeMap<(String, usize), bool>,
    /// Tensors declared over a loop's range (`input x[B, t, J] ~ ... for t in 1..T`):
    /// they hold the positions of that range, not 0..T-1, and are not asked whether a
    /// read is outside whatever the sizes.
    ranged: BTreeSet<String>,
    diags: &'a mut Vec<Diagnostic>,
    /// One E0211 per tensor and dimension (a dimension reported outside in every model
    /// counts as reported).
    reported: BTreeSet<(String, usize)>,
}

impl<'p> Walk<'_, 'p> {
    fn per_step_decls(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Decl(d) => {
                    let key = self.env.key_of(&d.target.name);
                    for (pos, ix) in d.target.indices.iter().flatten().enumerate() {
                        if let Some(f) = ix.plain_var() {
                            self.centered
                                .insert((key.clone(), pos), self.env.index_centered(&f.name));
                        }
                    }
                    let Some(r) = &d.family else { continue };
                    self.ranged.insert(key.clone());
                    for (pos, ix) in d.target.indices.iter().flatten().enumerate() {
                        if ix.plain_var().is_some_and(|f| f.name == r.var.name) {
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

    fn items(&mut self, items: &'p [Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Loop(l) => {
                    let (lo, hi) = (self.eval(&l.range.from), self.eval(&l.range.to));
                    let at_sample = lo.zip(hi).filter(|(a, b)| a <= b);
                    self.loops.push(Loop {
                        range: &l.range,
                        at_sample,
                    });
                    self.items(&l.body);
                    self.loops.pop();
                }
                ItemKind::ForIndices(f) => self.items(&f.body),
                ItemKind::Equation(eq) => {
                    self.reference(&eq.lhs, false);
                    let mut refs = Vec::new();
                    walk_refs(&eq.rhs, &mut |r| refs.push(r));
                    for r in refs {
                        self.reference(r, true);
                    }
                }
                _ => {}
            }
        }
    }

    /// The positions of one reference (`read`: on a right side; else the written one).
    fn reference(&mut self, r: &Ref, read: bool) {
        let key = self.env.key_of(&r.name);
        let env = self.env;
        let Some(t) = env.tensors.get(&key) else {
            return;
        };
        // At the sample values: declared tensors' values (not gradients).
        let sampled = !r.grad && t.kind != TensorKind::Computed;
        // Whatever the sizes: reads of tensors not declared over a loop's range.
        let everywhere = read && !self.ranged.contains(&key);
        for (pos, ix) in r.indices.iter().flatten().enumerate() {
            let IndexExpr::Affine(a) = ix else { continue };
            // One variable with coefficient 1, plus a constant.
            let [term] = a.terms.as_slice() else { continue };
            let [f] = term.factors.as_slice() else {
                continue;
            };
            if term.coef != 1 {
                continue;
            }
            if sampled {
                self.centred_mismatch(&key, pos, a, &f.name, t.span);
            }
            // The innermost loop that binds the variable.
            let Some(l) = self.loops.iter().rev().find(|l| l.range.var.name == f.name) else {
                continue;
            };
            let (range, at_sample) = (l.range, l.at_sample);
            let Some(dim) = t.dims.get(pos) else { continue };
            if everywhere && env.sizes.contains_key(dim) {
                if let Some(d) = outside_everywhere(&key, pos, a, range, dim, env) {
                    self.diags.push(d);
                    self.reported.insert((key.clone(), pos));
                    continue;
                }
            }
            if sampled {
                if let Some((lo, hi)) = at_sample {
                    self.outside_at_sample(&key, pos, a, &f.name, range, (lo, hi), dim, t.span);
                }
            }
        }
    }

    /// E0211: the position `a` along the loop `range` (over `lo..hi` at the sample
    /// values) leaves dimension `pos` of `key` (extent `dim`, declared at `decl`).
    #[allow(clippy::too_many_arguments)]
    fn outside_at_sample(
        &mut self,
        key: &str,
        pos: usize,
        a: &Affine,
        var: &str,
        range: &Range,
        (lo, hi): (i64, i64),
        dim: &str,
        decl: crate::syntax::span::Span,
    ) {
        if dim.starts_with(['@', '~', '?']) {
            return;
        }
        // The positions that exist: 0..n-1, or the steps a per-step declaration covers.
        let (low, high) = match self.per_step.get(&(key.to_string(), pos)) {
            Some(Some(r)) => *r,
            Some(None) => return,
            None => match self.consts.get(dim) {
                Some(&n) => (0, n - 1),
                None => return,
            },
        };
        let (first, last) = (lo + a.constant, hi + a.constant);
        if first >= low && last <= high {
            return;
        }
        if !self.reported.insert((key.to_string(), pos)) {
            return;
        }
        let bad = if last > high { last } else { first };
        let text = print_affine(a);
        let range_text = if a.constant == 0 {
            format!("{}..{}", print_expr(&range.from), print_expr(&range.to))
        } else {
            "the loop's range".to_string()
        };
        self.diags.push(
            Diagnostic::error(
                "E0211",
                a.span,
                format!(
                    "`{key}` is indexed at `{text}`, which reaches position {bad} for `{var}` in {lo}..{hi}, outside the positions {low}..{high} it has at the sample values",
                ),
            )
            .with_label(format!("position {bad} does not exist"))
            .with_related(decl, format!("dimension {} has extent `{dim}`", pos + 1))
            .with_hint(format!(
                "declare it per step (`... {key}[..., {var}, ...] ~ ... for {var} in {range_text}`), or run the loop over positions 0..{dim}-1",
            )),
        );
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

/// A whole number, when `text` (a loop end plus an offset, less a position) is one.
fn constant(text: &str) -> Option<BigRational> {
    let x = crate::sym::parse_ascii(text).ok()?.normalize();
    if !x.free_symbols().is_empty() {
        return None;
    }
    x.eval_exact(&Default::default()).ok()
}

/// E0301 (no boundary rule) or E0303 (`boundary valid`): the read `a` along the loop
/// `range` falls outside dimension `pos` of `key` (extent the size `dim`) in every
/// model. `None` when it does not, or when the boundary rule defines such a read.
fn outside_everywhere(
    key: &str,
    pos: usize,
    a: &Affine,
    range: &Range,
    dim: &str,
    env: &Env,
) -> Option<Diagnostic> {
    let var = &range.var.name;
    let zero = BigRational::from_integer(0.into());
    let c = a.constant;
    let from = print_expr(&range.from);
    let to = print_expr(&range.to);
    // Past the last position: to + c - (dim - 1) > 0 for every size.
    let over = constant(&format!("({to}) + ({c}) - ({dim}) + 1")).filter(|d| *d > zero);
    // Before the first: from + c < 0 for every size.
    let under = constant(&format!("({from}) + ({c})")).filter(|d| *d < zero);
    let at = |end: &str| {
        crate::sym::parse_ascii(&format!("({end}) + ({c})"))
            .map(|x| crate::sym::to_ascii(&x.normalize()))
            .unwrap_or_else(|_| format!("{end} + {c}"))
    };
    let (reach, last) = match (&over, &under) {
        (Some(_), _) => (
            format!("up to `{}`", at(&to)),
            format!("past its last position `{dim} - 1`"),
        ),
        (None, Some(_)) => (
            format!("down to `{}`", at(&from)),
            "before its first position 0".to_string(),
        ),
        (None, None) => return None,
    };
    let text = print_affine(a);
    let msg = format!(
        "`{key}` is read at `{text}` in `for {var} in {from}..{to}`, {reach}: {last} (dimension {} has extent `{dim}`)",
        pos + 1
    );
    let fit = if let Some(d) = &over {
        format!(
            "end the loop {d} earlier (`for {var} in {from}..{to} - {d}:`), or read an earlier position (`{var} - {d}`)"
        )
    } else {
        let start = under
            .as_ref()
            .and_then(|d| crate::sym::parse_ascii(&format!("({from}) - ({d})")).ok())
            .map(|x| crate::sym::to_ascii(&x.normalize()))
            .unwrap_or_else(|| from.clone());
        format!("start the loop at `{start}` (`for {var} in {start}..{to}:`)")
    };
    let (code, hint) = match env.boundary {
        None => (
            "E0301",
            format!("{fit}; or declare how reads outside a tensor behave (`boundary zero`, `boundary circular`)"),
        ),
        Some(Boundary::Valid) => (
            "E0303",
            format!("{fit}: under `boundary valid` every read must be inside"),
        ),
        Some(_) => return None,
    };
    Some(
        Diagnostic::error(code, a.span, msg)
            .with_label(format!("reaches outside `{key}`"))
            .with_related(range.span, "the loop's range")
            .with_hint(hint),
    )
}
