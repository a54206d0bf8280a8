//! Running statements: the order in which a program's items run ([`RunItems`], shared
//! with the dense executor), and the interpreter's statements: an equation over the free
//! indices of its left side, its write (`=`, `+=`, `-=`, or the shadow store), `for`
//! blocks over their indices.

use super::compiled::{self, Site};
use super::hash::MemberKey;
use super::{lookup, loop_values, Bind, Machine, NumError};
use crate::syntax::ast::{
    AssignOp, Equation, Expr, ForIndices, Ident, IndexExpr, Item, ItemKind, Range, Ref,
};
use std::borrow::Cow;

/// The order in which a program's items run, shared by the interpreter and the dense
/// executor: equations and `for` blocks as they come, a loop's body once for each value
/// of its variable (bound innermost); declarations and claims are skipped.
pub(crate) trait RunItems {
    type Error;
    fn run_equation(&mut self, eq: &Equation, b: &mut Bind) -> Result<(), Self::Error>;
    fn run_for(&mut self, f: &ForIndices, b: &mut Bind) -> Result<(), Self::Error>;
    /// A loop's two ends (both inclusive), evaluated at the binding.
    fn loop_ends(&mut self, range: &Range, b: &Bind) -> Result<(f64, f64), Self::Error>;
    /// Called once before each iteration of a loop.
    fn before_iteration(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn walk_items(&mut self, items: &[Item], b: &mut Bind) -> Result<(), Self::Error> {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.run_equation(eq, b)?,
                ItemKind::ForIndices(f) => self.run_for(f, b)?,
                ItemKind::Loop(l) => {
                    let (lo, hi) = self.loop_ends(&l.range, b)?;
                    for v in loop_values(lo, hi, l.reverse) {
                        self.before_iteration()?;
                        b.push((l.range.var.name.clone(), v));
                        let r = self.walk_items(&l.body, b);
                        b.pop();
                        r?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether `y = f(x)` lost its exact value to rounding at an asymptote or below the
/// smallest normal number: `exp` and the sigmoid are never 0, the sigmoid, tanh and erf
/// never reach ±1, softplus and gelu never equal 0 or `x` (for x ≠ 0), yet in floating
/// point they do far enough out (`exp(x - 1000)` is 0.0); a subnormal result has lost
/// digits. A value that is not finite is judged elsewhere (it decides nothing).
pub(crate) fn saturates(f: crate::sym::func::Func, x: f64, y: f64) -> bool {
    use crate::sym::func::Func;
    if !x.is_finite() || !y.is_finite() {
        return false;
    }
    let tiny = y != 0.0 && y.abs() < f64::MIN_POSITIVE;
    match f {
        Func::Exp | Func::Sigmoid => y == 0.0 || tiny || (f == Func::Sigmoid && y == 1.0),
        Func::Tanh | Func::Erf => y.abs() == 1.0,
        Func::Softplus | Func::Gelu => x != 0.0 && (y == 0.0 || tiny || y == x),
        _ => false,
    }
}

/// The key of a tensor in [`Machine::tainted`]: its name without subscripts (a family's
/// members share one key: `h_1` and `h_{t-1}` are `h`).
pub(crate) fn taint_key(n: &crate::syntax::ast::Name) -> String {
    let mut k = n.base.clone();
    k.extend(std::iter::repeat_n('\'', n.primes as usize));
    if !n.sup.is_empty() {
        k.push('^');
        k.push_str(&n.sup.join(","));
    }
    k
}

/// The tensors (name, gradient or not) an expression reads.
fn reads(e: &Expr, out: &mut Vec<(String, bool)>) {
    crate::check::walk_refs(e, &mut |r| out.push((taint_key(&r.name), r.grad)));
}

impl Machine<'_> {
    /// After statements writing `targets` and reading `read` ran: the targets are
    /// tainted when a value saturated while they ran (`saturated_before`) or they read
    /// a tainted tensor ([`Machine::tainted`]).
    fn taint(&mut self, saturated_before: u64, targets: &[&Ref], read: &[&Expr]) {
        let mut hit = self.saturated > saturated_before;
        if !hit && !self.tainted.is_empty() {
            let mut names = Vec::new();
            for e in read {
                reads(e, &mut names);
            }
            hit = names.iter().any(|n| self.tainted.contains(n));
        }
        if hit {
            for t in targets {
                self.tainted.insert((taint_key(&t.name), t.grad));
            }
        }
    }
}

/// The equations of a block's items, nested `for` blocks and loops included.
fn block_equations<'i>(items: &'i [Item], out: &mut Vec<&'i Equation>) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => out.push(eq),
            ItemKind::ForIndices(f) => block_equations(&f.body, out),
            ItemKind::Loop(l) => block_equations(&l.body, out),
            _ => {}
        }
    }
}

impl RunItems for Machine<'_> {
    type Error = NumError;
    fn run_equation(&mut self, eq: &Equation, b: &mut Bind) -> Result<(), NumError> {
        let before = self.saturated;
        let r = self.equation(eq, b);
        self.taint(before, &[&eq.lhs], &[&eq.rhs]);
        r
    }
    fn run_for(&mut self, f: &ForIndices, b: &mut Bind) -> Result<(), NumError> {
        let before = self.saturated;
        let r = self.run_for_block(f, b);
        let mut eqs = Vec::new();
        block_equations(&f.body, &mut eqs);
        let targets: Vec<&Ref> = eqs.iter().map(|eq| &eq.lhs).collect();
        let read: Vec<&Expr> = eqs.iter().map(|eq| &eq.rhs).collect();
        self.taint(before, &targets, &read);
        r
    }
    fn loop_ends(&mut self, range: &Range, b: &Bind) -> Result<(f64, f64), NumError> {
        Ok((self.eval(&range.from, b)?, self.eval(&range.to, b)?))
    }
    fn before_iteration(&mut self) -> Result<(), NumError> {
        if self.shadow.is_some() {
            // The iterations of a widened loop count (see `equation_over`).
            self.tick()?;
        }
        Ok(())
    }
}

impl Machine<'_> {
    fn run_for_block(&mut self, f: &ForIndices, b: &mut Bind) -> Result<(), NumError> {
        if !self.slow_path {
            // A block of equations resolved once (src/num/compiled.rs), when it can be.
            let site = Site::For(f as *const ForIndices as usize);
            let compile = |m: &mut Self| compiled::compile_for(m, &f.indices, &f.body, b);
            if let Some(r) = self.run_cached(site, b, true, compile) {
                return r;
            }
        }
        self.for_indices(&f.indices, 0, &f.body, b)
    }

    /// Whether a lone equation over the free indices `free` has elements enough to pay
    /// for resolving it once (about the cost of one element on the slow path): two or more.
    /// (A `for` block's body is resolved once for the whole block, in `run_for`; during a
    /// run, a statement of any size is resolved once for all its bindings: `run_items`.)
    fn worth_compiling(&self, free: &[String]) -> bool {
        let mut n: i64 = 1;
        for f in free {
            match self.index_range(f) {
                Ok((lo, hi)) => n = n.saturating_mul((hi - lo + 1).max(0)),
                Err(_) => return false,
            }
        }
        n >= 2
    }

    /// Free lower-case indices of a left side that the binding does not fix.
    pub(super) fn free_lhs(&self, r: &Ref, b: &Bind) -> Vec<String> {
        let mut out = Vec::new();
        for ix in r.indices.iter().flatten() {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    if lookup(b, &f.name).is_none()
                        && !self.consts.contains_key(&f.name)
                        && !out.contains(&f.name)
                    {
                        out.push(f.name.clone());
                    }
                }
            }
        }
        out
    }

    fn equation(&mut self, eq: &Equation, b: &mut Bind) -> Result<(), NumError> {
        let free = self.free_lhs(&eq.lhs, b);
        if !self.slow_path {
            // The statement resolved once (src/num/compiled.rs), when it can be: kept for
            // the run's later bindings, or compiled for this one when it has elements
            // enough to pay for that.
            let site = Site::Equation(eq as *const Equation as usize);
            let now = self.worth_compiling(&free);
            let compile = |m: &mut Self| compiled::compile(m, eq, b, &free);
            if let Some(r) = self.run_cached(site, b, now, compile) {
                return r;
            }
        }
        // The capitals of the statement's terms are worked out at its first element and
        // kept for the others (`term_capitals_memo`), then dropped: the memo never
        // outlives the borrow of `eq`.
        self.caps_memo.clear();
        self.caps_active = true;
        let r = self.equation_over(eq, &free, 0, b);
        self.caps_active = false;
        self.caps_memo.clear();
        r
    }

    fn equation_over(
        &mut self,
        eq: &Equation,
        free: &[String],
        k: usize,
        b: &mut Bind,
    ) -> Result<(), NumError> {
        if k < free.len() {
            let (lo, hi) = self.index_range(&free[k])?;
            for v in lo..=hi {
                b.push((free[k].clone(), v));
                let r = self.equation_over(eq, free, k + 1, b);
                b.pop();
                r?;
            }
            return Ok(());
        }
        if self.shadow.is_some() {
            // Every element visited counts, run or skipped: a statement standing in for a
            // loop over far members (`W_{l+10000}` in an `includes` block) skipped
            // 10⁸ elements without counting one.
            self.tick()?;
            let target = Expr::Ref(eq.lhs.clone());
            if !(self.all_exist(&eq.rhs, b) && self.all_exist(&target, b)) {
                return Ok(());
            }
        }
        let v = self.eval(&eq.rhs, b)?;
        let member = self.member_key(&eq.lhs.name, b)?;
        let mut pos = std::mem::take(&mut self.pos_buf);
        let r = match self.position_into(&eq.lhs, b, &mut pos) {
            Ok(true) => self.store(member, eq.lhs.grad, &pos, eq.op, v),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        };
        self.pos_buf = pos;
        r
    }

    /// Writes a statement's value `v` at a member's position (`=`, `+=`, `-=`), or adds
    /// its contribution to the shadow store; an element already stored is updated in
    /// place, with no key built.
    fn store(
        &mut self,
        member: Cow<str>,
        grad: bool,
        pos: &[i64],
        op: AssignOp,
        v: f64,
    ) -> Result<(), NumError> {
        if self.shadow.is_none() {
            if let Some(slot) = self
                .vals
                .get_mut(&(&*member, grad) as &dyn MemberKey)
                .and_then(|m| m.get_mut(pos))
            {
                let old = *slot;
                *slot = match op {
                    AssignOp::Set => v,
                    AssignOp::AddAssign => old + v,
                    AssignOp::SubAssign => old - v,
                };
                return Ok(());
            }
        }
        let key = (member.into_owned(), grad);
        let pos = pos.to_vec();
        if let Some(sh) = &mut self.shadow {
            let slot = sh.entry(key).or_default().entry(pos).or_insert(0.0);
            match op {
                AssignOp::SubAssign => *slot -= v,
                _ => *slot += v,
            }
            return Ok(());
        }
        let old = self
            .vals
            .get(&key)
            .and_then(|m| m.get(&pos))
            .copied()
            .unwrap_or(0.0);
        let new = match op {
            AssignOp::Set => v,
            AssignOp::AddAssign => old + v,
            AssignOp::SubAssign => old - v,
        };
        self.set(key, pos, new)
    }

    fn for_indices(
        &mut self,
        idx: &[Ident],
        k: usize,
        body: &[Item],
        b: &mut Bind,
    ) -> Result<(), NumError> {
        if k == idx.len() {
            return RunItems::walk_items(self, body, b);
        }
        let (lo, hi) = self.index_range(&idx[k].name)?;
        for v in lo..=hi {
            b.push((idx[k].name.clone(), v));
            let r = self.for_indices(idx, k + 1, body, b);
            b.pop();
            r?;
        }
        Ok(())
    }

    /// Runs the equations and loops of a program (declarations and claims are skipped).
    /// The statements compiled during the run are kept for its later bindings
    /// (src/num/compiled.rs, `Cache`) and dropped when it ends.
    pub fn run_items(&mut self, items: &[Item], b: &mut Bind) -> Result<(), NumError> {
        self.compiled.reset(true);
        let r = RunItems::walk_items(self, items, b);
        self.compiled.reset(false);
        r
    }
}
