//! Statements: the program's items run in order (loops bound one value at a time,
//! `for` blocks checked for statements that read each other's elements elsewhere), and
//! one equation lowered for every value of its array indices, after the checks that
//! refuse what would change its semantics (a `=` that several iterations write, a read
//! of the tensor written at another position).

use super::access::{is_plain, same_ref};
use super::storage::{Ctx, Dense};
use super::{bump, lookup, lower_err, refs_of, sprod, unsup, R};
use crate::num::{Bind, RunItems};
use crate::syntax::ast::*;

/// What one equation's analysis decides at one binding, before any value is computed:
/// the array indices in scope, the member written, the indices summed, those bound one
/// value at a time (and the context without them), the left side's indices. It depends
/// on the statement, the binding, the sizes and the symbols, never on a sampled value,
/// so the trials of a model share it ([`Plans`]).
pub(super) struct StatementPlan {
    /// The binding's names (its values are the key's).
    names: Vec<String>,
    ctx: Ctx,
    key: (String, bool),
    extra: Vec<String>,
    en: Vec<String>,
    narrowed: Option<Ctx>,
    lhs2: Vec<String>,
    ranges: Vec<(i64, usize)>,
    /// [`Dense::lhs_injective`] of the left side in the context the write runs in (the
    /// narrowed one when indices are bound one value at a time): it depends on the left
    /// side and the context's names only, and `write` asked for it up to twice per
    /// statement per trial (session 34).
    injective: bool,
}

/// A statement's plan key: the equation's address in the model, the number of its `for`
/// indices, and the binding's values.
pub(super) type PlanKey = (usize, usize, Vec<i64>);

/// The statements' plans of one model, made by its first trials and read by the others
/// (on every core). At most [`MAX_PLANS`] are kept; beyond, a statement is analysed in
/// every trial, as before.
#[derive(Default)]
pub struct Plans {
    map: std::sync::Mutex<crate::num::hash::FastMap<PlanKey, std::sync::Arc<StatementPlan>>>,
    /// The reads' plans (`access.rs`), keyed by the reference's address and the binding.
    pub(super) reads: std::sync::Mutex<
        crate::num::hash::FastMap<PlanKey, std::sync::Arc<super::access::ReadPlan>>,
    >,
    /// The capitals summed over a term ([`Dense::term_caps`]), keyed by the term's
    /// address: one entry per binding's names and array indices in scope met there.
    caps: std::sync::Mutex<crate::num::hash::FastMap<usize, Vec<std::sync::Arc<CapsPlan>>>>,
}

/// The capitals a term sums: they depend on the term, the names bound (not their
/// values), the names of the array indices in scope and the declarations, never on a
/// sampled value, so the trials of a model share them.
pub(super) struct CapsPlan {
    names: Vec<String>,
    ctx: Vec<String>,
    caps: std::sync::Arc<Vec<String>>,
}

/// The most contexts one term's capitals are kept for (a term is evaluated in few).
const MAX_CAPS_PER_TERM: usize = 8;

/// The most plans of each kind (statements, reads) one model keeps: a plan is a few
/// hundred bytes, so at most about 10 MB each; a trial of more statements than this
/// (each counted 10,000 operations) leaves few trials to share them.
pub const MAX_PLANS: usize = 20_000;

impl Plans {
    fn get(&self, key: &PlanKey) -> Option<std::sync::Arc<StatementPlan>> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Keeps a plan, if there is room; whether it was kept.
    fn put(&self, key: PlanKey, plan: std::sync::Arc<StatementPlan>) -> bool {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let room = m.len() < MAX_PLANS;
        if room {
            m.insert(key, plan);
        }
        room
    }
}

impl RunItems for Dense<'_> {
    type Error = super::DenseError;
    fn run_equation(&mut self, eq: &Equation, b: &mut Bind) -> R<()> {
        self.statement(eq, &[], b)
    }
    fn run_for(&mut self, f: &ForIndices, b: &mut Bind) -> R<()> {
        self.for_block(f, b)
    }
    fn loop_ends(&mut self, range: &Range, b: &Bind) -> R<(f64, f64)> {
        let lo = self.m.eval(&range.from, b).map_err(lower_err)?;
        let hi = self.m.eval(&range.to, b).map_err(lower_err)?;
        Ok((lo, hi))
    }
}

impl<'a> Dense<'a> {
    pub(super) fn run_items(&mut self, items: &[Item], b: &mut Bind) -> R<()> {
        RunItems::walk_items(self, items, b)
    }

    pub(super) fn for_block(&mut self, f: &ForIndices, b: &mut Bind) -> R<()> {
        let vars: Vec<String> = f.indices.iter().map(|i| i.name.clone()).collect();
        let mut eqs = Vec::new();
        for it in &f.body {
            match &it.kind {
                ItemKind::Equation(e) => eqs.push(e),
                _ => return unsup("a `for` block holds more than equations"),
            }
        }
        if eqs.len() > 1 {
            // Run statement by statement only when each iteration touches its own
            // elements: every read of a tensor the block writes is at the position
            // every statement writes it, and every write covers all the block's indices.
            let plain_all = |r: &Ref| {
                let mut seen = Vec::new();
                for ix in r.indices.iter().flatten() {
                    if let IndexExpr::Affine(a) = ix {
                        if is_plain(a) && a.constant == 0 && a.terms.len() == 1 {
                            seen.push(a.terms[0].factors[0].name.clone());
                        }
                    }
                }
                vars.iter().all(|v| seen.contains(v))
            };
            for w in &eqs {
                if !plain_all(&w.lhs) {
                    return unsup("a `for` block of several statements writes a tensor without all its indices");
                }
                let wk = (self.m.env.key_of(&w.lhs.name), w.lhs.grad);
                for r in &eqs {
                    let mut rs = Vec::new();
                    refs_of(&r.rhs, &mut rs);
                    for x in rs {
                        if (self.m.env.key_of(&x.name), x.grad) == wk && !same_ref(x, &w.lhs) {
                            return unsup("a `for` block of several statements reads a tensor it writes at another position");
                        }
                    }
                }
            }
        }
        for eq in eqs {
            self.statement(eq, &vars, b)?;
        }
        Ok(())
    }

    pub(super) fn range(&self, name: &str) -> R<(i64, usize)> {
        let (lo, hi) = self.m.index_range(name).map_err(lower_err)?;
        Ok((lo, (hi - lo + 1).max(0) as usize))
    }

    pub(super) fn add_axis(&self, ctx: &mut Ctx, name: &str, b: &Bind) -> R<()> {
        if ctx.has(name) || lookup(b, name).is_some() {
            return unsup(format!("index `{name}` is bound twice"));
        }
        let (lo, n) = self.range(name)?;
        ctx.axes.push((name.to_string(), lo, n));
        Ok(())
    }

    /// One equation, for every value of the block's indices and its free indices.
    pub(super) fn statement(&mut self, eq: &Equation, for_vars: &[String], b: &Bind) -> R<()> {
        let (plan, made) = self.statement_plan(eq, for_vars, b)?;
        self.statement_start(made)?;
        let lhs_ix: &[IndexExpr] = eq.lhs.indices.as_deref().unwrap_or_default();
        let p = &*plan;
        let (key, extra, en, lhs2, ranges) = (&p.key, &p.extra, &p.en, &p.lhs2, &p.ranges);
        let injective = p.injective;
        let mut b2 = b.clone();
        let ctx2 = p.narrowed.as_ref().unwrap_or(&p.ctx);
        let mut digits = vec![0usize; en.len()];
        let combos: usize = sprod(ranges.iter().map(|r| r.1));
        for c in 0..combos {
            if c > 0 {
                // The same plan: a statement's planned cost.
                self.statement_start(None)?;
            }
            b2.truncate(b.len());
            for (k, v) in en.iter().enumerate() {
                b2.push((v.clone(), ranges[k].0 + digits[k] as i64));
            }
            let val = self.eval_summed(&eq.rhs, &b2, ctx2, extra)?;
            self.write(key, &eq.lhs, lhs_ix, injective, eq.op, val, &b2, ctx2, lhs2)?;
            let shape: Vec<usize> = ranges.iter().map(|r| r.1).collect();
            bump(&mut digits, &shape);
        }
        Ok(())
    }

    /// The analysis of one equation at binding `b` ([`StatementPlan`]): read from the
    /// model's plans when an earlier trial made it (it depends on the statement, the
    /// binding, the sizes and the symbols, all fixed for a model, and on no value), else
    /// made and kept; and whether it was made here, and then whether it was kept for the later
    /// trials (`None`: read from the plans), which sets the statement's fixed cost.
    fn statement_plan(
        &mut self,
        eq: &Equation,
        for_vars: &[String],
        b: &Bind,
    ) -> R<(std::sync::Arc<StatementPlan>, Option<bool>)> {
        let Some(plans) = self.plans.clone() else {
            return self
                .analyse(eq, for_vars, b)
                .map(|p| (std::sync::Arc::new(p), Some(false)));
        };
        let key: PlanKey = (
            eq as *const Equation as usize,
            for_vars.len(),
            b.iter().map(|(_, v)| *v).collect(),
        );
        let same_names = |p: &StatementPlan| {
            p.names.len() == b.len() && p.names.iter().zip(b).all(|(n, (m, _))| n == m)
        };
        if let Some(p) = plans.get(&key) {
            if same_names(&p) {
                return Ok((p, None));
            }
        }
        let p = std::sync::Arc::new(self.analyse(eq, for_vars, b)?);
        let kept = plans.put(key, p.clone());
        Ok((p, Some(kept)))
    }

    /// The checks and the bookkeeping of one equation before any value is computed.
    fn analyse(&mut self, eq: &Equation, for_vars: &[String], b: &Bind) -> R<StatementPlan> {
        let mut ctx = Ctx::default();
        for v in for_vars {
            self.add_axis(&mut ctx, v, b)?;
        }
        // Free indices of the left side.
        for ix in eq.lhs.indices.iter().flatten() {
            match ix {
                IndexExpr::Affine(a) => {
                    for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                        if lookup(b, &f.name).is_none()
                            && !self.m.consts.contains_key(&f.name)
                            && !ctx.has(&f.name)
                        {
                            self.add_axis(&mut ctx, &f.name, b)?;
                        }
                    }
                }
                // A looked-up position that depends on no array index is a fixed
                // position; others are refused when the write is lowered.
                IndexExpr::Lookup(_) => {}
            }
        }
        for s in &eq.lhs.name.sub {
            if self.mentions_axis_ix(s, &ctx) {
                return unsup("a family subscript that depends on an array index");
            }
        }
        let member = self.m.member_of(&eq.lhs.name, b).map_err(lower_err)?;
        let key = (member, eq.lhs.grad);
        // Left-side dimensions.
        let lhs_ix: &[IndexExpr] = eq.lhs.indices.as_deref().unwrap_or_default();
        let mut lhs_vars: Vec<String> = Vec::new();
        for ix in lhs_ix {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    if ctx.has(&f.name) && !lhs_vars.contains(&f.name) {
                        lhs_vars.push(f.name.clone());
                    }
                }
            }
        }
        let extra: Vec<String> = ctx
            .axes
            .iter()
            .map(|a| a.0.clone())
            .filter(|v| !lhs_vars.contains(v))
            .collect();
        if eq.op == AssignOp::Set && !extra.is_empty() {
            return unsup("a `=` statement with indices that its left side does not write (the last write wins)");
        }
        // Reads of the tensor written.
        let mut rs = Vec::new();
        refs_of(&eq.rhs, &mut rs);
        let mut lhs_family: Option<String> = None;
        for &r in &rs {
            if r.grad != eq.lhs.grad {
                continue;
            }
            let lhs_family = lhs_family.get_or_insert_with(|| self.m.env.key_of(&eq.lhs.name));
            if self.m.env.key_of(&r.name) != *lhs_family {
                continue;
            }
            let rm = self.m.member_of(&r.name, b).ok();
            if rm.as_deref() != Some(key.0.as_str()) {
                continue;
            }
            let same_place =
                same_ref(r, &eq.lhs) && extra.is_empty() && self.lhs_injective(&eq.lhs, &ctx);
            if !(self.disjoint(r, &eq.lhs, b, &ctx) || same_place) {
                return unsup(format!(
                    "`{}` reads the tensor it writes at another position",
                    crate::syntax::printer::print_ref(&eq.lhs)
                ));
            }
        }
        // A shifted left side (`x+dx`) is written offset by offset: the small index of
        // each shifted position is bound in turn (the contributions of a `+=` add up in
        // any order), so each write is a shifted slice instead of a scatter.
        let mut en = Vec::new();
        if eq.op != AssignOp::Set {
            en = Self::offsets(&[&eq.lhs], &ctx, &lhs_vars);
            // Keep at least one index to write over.
            if en.len() >= lhs_vars.len() {
                en.clear();
            }
        }
        // (Without a copy of the context when no index is bound one value at a time.)
        let narrowed = (!en.is_empty()).then(|| ctx.without(&en));
        let lhs2: Vec<String> = lhs_vars
            .iter()
            .filter(|v| !en.contains(v))
            .cloned()
            .collect();
        let ranges: Vec<(i64, usize)> = en.iter().map(|v| ctx.get(v).unwrap_or((0, 0))).collect();
        let injective = self.lhs_injective(&eq.lhs, narrowed.as_ref().unwrap_or(&ctx));
        Ok(StatementPlan {
            names: b.iter().map(|(n, _)| n.clone()).collect(),
            ctx,
            key,
            extra,
            en,
            narrowed,
            lhs2,
            ranges,
            injective,
        })
    }

    /// Whether the array indices in scope span enough elements (65,536) for
    /// [`Self::offsets`] to bind shifted ones one value at a time: small arrays are
    /// cheaper gathered whole (one statement instead of one per offset).
    pub(super) fn large(ctx: &Ctx) -> bool {
        let size: f64 = ctx.axes.iter().map(|a| a.2 as f64).product();
        size >= 65536.0
    }

    /// Among `among`, the indices to bind one value at a time: in a position that adds
    /// two array indices (`x+dx`), the one with fewer values (at most 32 of them).
    pub(super) fn offsets(refs: &[&Ref], ctx: &Ctx, among: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if !Self::large(ctx) {
            return out;
        }
        for r in refs {
            for ix in r.indices.iter().flatten() {
                let IndexExpr::Affine(a) = ix else { continue };
                let axes: Vec<(&str, usize)> = a
                    .terms
                    .iter()
                    .flat_map(|t| t.factors.iter())
                    .filter_map(|f| ctx.get(&f.name).map(|r| (f.name.as_str(), r.1)))
                    .collect();
                if axes.len() < 2 {
                    continue;
                }
                let Some(&(small, n)) = axes.iter().min_by_key(|x| x.1) else {
                    continue;
                };
                if n <= 32 && among.iter().any(|v| v == small) && !out.iter().any(|o| o == small) {
                    out.push(small.to_string());
                }
            }
        }
        out
    }

    pub(super) fn mentions_axis_ix(&self, ix: &IndexExpr, ctx: &Ctx) -> bool {
        match ix {
            IndexExpr::Affine(a) => a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .any(|f| ctx.has(&f.name)),
            IndexExpr::Lookup(_) => true,
        }
    }

    /// Whether a read and a write of the same member can never meet: some dimension
    /// where both positions are fixed and different.
    pub(super) fn disjoint(&mut self, r: &Ref, w: &Ref, b: &Bind, ctx: &Ctx) -> bool {
        let (Some(ri), Some(wi)) = (&r.indices, &w.indices) else {
            return false;
        };
        for (x, y) in ri.iter().zip(wi) {
            if self.mentions_axis_ix(x, ctx) || self.mentions_axis_ix(y, ctx) {
                continue;
            }
            let px = self.fixed_pos(x, b);
            let py = self.fixed_pos(y, b);
            if let (Some(px), Some(py)) = (px, py) {
                if px != py {
                    return true;
                }
            }
        }
        false
    }

    pub(super) fn fixed_pos(&mut self, ix: &IndexExpr, b: &Bind) -> Option<i64> {
        let IndexExpr::Affine(a) = ix else {
            return None;
        };
        let mut v = a.constant;
        for t in &a.terms {
            let mut p = t.coef;
            for f in &t.factors {
                let x = lookup(b, &f.name).or_else(|| {
                    self.m
                        .consts
                        .get(&f.name)
                        .filter(|c| c.fract() == 0.0)
                        .map(|c| *c as i64)
                })?;
                p = p.saturating_mul(x);
            }
            v = v.saturating_add(p);
        }
        Some(v)
    }

    /// A left side whose every dimension is one plain index, each index once.
    pub(super) fn lhs_injective(&self, w: &Ref, ctx: &Ctx) -> bool {
        // (No vector per dimension: this runs for every statement of every trial.)
        let mut seen: Vec<&str> = Vec::with_capacity(ctx.axes.len());
        for ix in w.indices.iter().flatten() {
            let IndexExpr::Affine(a) = ix else {
                return false;
            };
            let mut axes = a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .filter(|f| ctx.has(&f.name))
                .map(|f| f.name.as_str());
            let Some(first) = axes.next() else {
                continue;
            };
            if axes.next().is_some() || !is_plain(a) || a.constant != 0 || seen.contains(&first) {
                return false;
            }
            seen.push(first);
        }
        ctx.axes.iter().all(|(n, _, _)| seen.contains(&n.as_str()))
    }

    /// The capital indices summed over the term `e` (as the element-wise machine's
    /// `term_capitals`), a name bound when the binding or the array indices in scope hold
    /// it, without copying the binding.
    ///
    /// Read from the model's plans when an earlier trial found them for the same term
    /// with the same names bound and the same array indices in scope (a statement runs
    /// once per trial, and the walk over the term's references cost a twentieth of a
    /// small trial), else found and kept.
    pub(super) fn term_caps(&self, e: &Expr, b: &Bind, ctx: &Ctx) -> std::sync::Arc<Vec<String>> {
        let find = || {
            let bound = |n: &str| lookup(b, n).is_some() || ctx.has(n);
            crate::check::capitals::Capitals {
                env: self.m.env,
                bound: &bound,
            }
            .of_term(e)
        };
        let Some(plans) = &self.plans else {
            return std::sync::Arc::new(find());
        };
        let addr = e as *const Expr as usize;
        let same = |p: &CapsPlan| {
            p.names.len() == b.len()
                && p.names.iter().zip(b).all(|(n, (m, _))| n == m)
                && p.ctx.len() == ctx.axes.len()
                && p.ctx.iter().zip(&ctx.axes).all(|(n, a)| *n == a.0)
        };
        {
            let map = plans.caps.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(p) = map.get(&addr).and_then(|v| v.iter().find(|p| same(p))) {
                return p.caps.clone();
            }
        }
        let caps = std::sync::Arc::new(find());
        let mut map = plans.caps.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() < MAX_PLANS {
            let v = map.entry(addr).or_default();
            if v.len() < MAX_CAPS_PER_TERM && !v.iter().any(|p| same(p)) {
                v.push(std::sync::Arc::new(CapsPlan {
                    names: b.iter().map(|(n, _)| n.clone()).collect(),
                    ctx: ctx.axes.iter().map(|a| a.0.clone()).collect(),
                    caps: caps.clone(),
                }));
            }
        }
        caps
    }
}
