//! Evaluation: an expression over the array indices in scope, as a [`Val`]. Terms are
//! flattened into factors for [`super::contract`]; sums distribute over `+` and `-`;
//! activations, powers, Iverson brackets and softmax are element-wise maps, and values
//! over different indices are broadcast to a common set (`align`, `zip`).

use super::storage::{Ctx, Dense, Val};
use super::{bump, refs_of, sprod, unsup, R};
use crate::num::Bind;
use crate::syntax::ast::*;
use ndarray::{ArrayViewD, Axis, IxDyn, Zip};

impl<'a> Dense<'a> {
    /// `Σ_extra e`: the expression summed over array indices (the `for` indices a `+=`
    /// does not write). Sums distribute over `+` and `-`.
    pub(super) fn eval_summed(
        &mut self,
        e: &Expr,
        b: &Bind,
        ctx: &Ctx,
        extra: &[String],
    ) -> R<Val> {
        if extra.is_empty() {
            return self.eval(e, b, ctx);
        }
        match e {
            Expr::Binary(BinOp::Add, l, r, _) => {
                let x = self.eval_summed(l, b, ctx, extra)?;
                let y = self.eval_summed(r, b, ctx, extra)?;
                self.zip(x, y, |a, b| a + b)
            }
            Expr::Binary(BinOp::Sub, l, r, _) => {
                let x = self.eval_summed(l, b, ctx, extra)?;
                let y = self.eval_summed(r, b, ctx, extra)?;
                self.zip(x, y, |a, b| a - b)
            }
            _ => {
                let caps = self.term_caps(e, b, ctx);
                if caps.is_empty() {
                    return self.chain(e, b, ctx, extra);
                }
                let mut ctx2 = ctx.clone();
                for c in caps.iter() {
                    self.add_axis(&mut ctx2, c, b)?;
                }
                let mut sum: Vec<String> = extra.to_vec();
                sum.extend(caps.iter().cloned());
                self.chain(e, b, &ctx2, &sum)
            }
        }
    }

    /// An expression over the array indices in scope; capitals of each term summed.
    pub(super) fn eval(&mut self, e: &Expr, b: &Bind, ctx: &Ctx) -> R<Val> {
        match e {
            Expr::Binary(BinOp::Add, l, r, _) => {
                let x = self.eval(l, b, ctx)?;
                let y = self.eval(r, b, ctx)?;
                self.zip(x, y, |a, b| a + b)
            }
            Expr::Binary(BinOp::Sub, l, r, _) => {
                let x = self.eval(l, b, ctx)?;
                let y = self.eval(r, b, ctx)?;
                self.zip(x, y, |a, b| a - b)
            }
            _ => {
                let caps = self.term_caps(e, b, ctx);
                if caps.is_empty() {
                    return self.chain(e, b, ctx, &[]);
                }
                let mut ctx2 = ctx.clone();
                for c in caps.iter() {
                    self.add_axis(&mut ctx2, c, b)?;
                }
                self.chain(e, b, &ctx2, &caps)
            }
        }
    }

    /// A term: its factors (products, quotients, negations flattened) contracted, with
    /// the indices `sum` summed.
    pub(super) fn chain(&mut self, e: &Expr, b: &Bind, ctx: &Ctx, sum: &[String]) -> R<Val> {
        self.chain_into(e, b, ctx, sum, None)
    }

    /// [`Self::chain`] added to `acc` (when given): the last matrix product of each
    /// term writes into `acc` directly when it has the same indices, so the terms of a
    /// sum bound offset by offset need no temporary each.
    pub(super) fn chain_into(
        &mut self,
        e: &Expr,
        b: &Bind,
        ctx: &Ctx,
        sum: &[String],
        acc: Option<Val>,
    ) -> R<Val> {
        // A summed index in a shifted position (`L[b, x+dx, j']` summed over dx) is
        // summed by binding it to each value in turn: each factor is then a shifted
        // slice and each contraction a matrix product of the unshifted size.
        let mut rs = Vec::new();
        if Self::large(ctx) {
            refs_of(e, &mut rs);
        }
        let en = Self::offsets(&rs, ctx, sum);
        if !en.is_empty() {
            let ranges: Vec<(i64, usize)> =
                en.iter().map(|v| ctx.get(v).unwrap_or((0, 0))).collect();
            let shape: Vec<usize> = ranges.iter().map(|r| r.1).collect();
            let ctx2 = ctx.without(&en);
            let sum2: Vec<String> = sum.iter().filter(|v| !en.contains(v)).cloned().collect();
            let mut b2 = b.clone();
            let mut digits = vec![0usize; en.len()];
            let mut acc = acc;
            for _ in 0..sprod(shape.iter().copied()) {
                b2.truncate(b.len());
                for (k, v) in en.iter().enumerate() {
                    b2.push((v.clone(), ranges[k].0 + digits[k] as i64));
                }
                acc = Some(self.chain_into(e, &b2, &ctx2, &sum2, acc)?);
                bump(&mut digits, &shape);
            }
            return Ok(acc.unwrap_or_else(|| Val::scalar(0.0)));
        }
        fn flatten<'e>(e: &'e Expr, out: &mut Vec<(&'e Expr, bool)>, neg: &mut bool) {
            match e {
                Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
                    flatten(l, out, neg);
                    flatten(r, out, neg);
                }
                Expr::Binary(BinOp::Div, l, r, _) => {
                    flatten(l, out, neg);
                    out.push((r, true));
                }
                Expr::Unary(UnOp::Neg, x, _) => {
                    *neg = !*neg;
                    flatten(x, out, neg);
                }
                other => out.push((other, false)),
            }
        }
        let mut parts = Vec::new();
        let mut neg = false;
        flatten(e, &mut parts, &mut neg);
        let mut fs = Vec::new();
        for (x, inv) in parts {
            let mut v = self.factor(x, b, ctx, sum)?;
            if inv {
                self.tick(v.data.len() as u64)?;
                v.data.mapv_inplace(|y| 1.0 / y);
            }
            fs.push(v);
        }
        if neg {
            fs.push(Val::scalar(-1.0));
        }
        self.contract(fs, sum, ctx, acc)
    }

    /// `acc + v` (`v` when there is no `acc`).
    pub(super) fn accumulate(&mut self, acc: Option<Val>, v: Val) -> R<Val> {
        match acc {
            None => Ok(v),
            Some(mut a) if a.axes == v.axes && a.data.shape() == v.data.shape() => {
                self.array_op(v.data.len() as u64)?;
                a.data += &v.data;
                Ok(a)
            }
            Some(a) => self.zip(a, v, |x, y| x + y),
        }
    }

    /// A factor of a term (anything but a product).
    pub(super) fn factor(&mut self, e: &Expr, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Val> {
        // The factor's own array operation (a read, a number, a call): one operation
        // and its fixed cost.
        self.array_op(1)?;
        match e {
            Expr::Num(s, _) => match s.parse::<f64>() {
                Ok(v) => Ok(Val::scalar(v)),
                Err(_) => unsup(format!("`{s}` is not a number")),
            },
            Expr::Ref(r) => self.read(r, b, ctx, pref),
            Expr::Unary(UnOp::Neg, x, _) => {
                let v = self.eval(x, b, ctx)?;
                self.map(v, |y| -y)
            }
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => self.eval(e, b, ctx),
            Expr::Binary(op, l, r, _) => {
                let x = self.eval(l, b, ctx)?;
                let y = self.eval(r, b, ctx)?;
                match op {
                    BinOp::Pow => self.zip(x, y, f64::powf),
                    BinOp::Div => self.zip(x, y, |a, b| a / b),
                    _ => self.zip(x, y, |a, b| a * b),
                }
            }
            Expr::Iverson(x, _) => self.truth(x, b, ctx),
            Expr::Rel(..) => self.truth(e, b, ctx),
            Expr::Call(c) => self.call(c, b, ctx),
            Expr::Sum(ids, body, _) => {
                let mut ctx2 = ctx.clone();
                let mut caps = Vec::new();
                for i in ids {
                    self.add_axis(&mut ctx2, &i.name, b)?;
                    caps.push(i.name.clone());
                }
                // The body's capitals are summed over each of its terms, with the sum's
                // own indices (docs/language.md, summation scope); a body that is a sum
                // of terms is distributed by `chain`'s factors.
                match body.as_ref() {
                    Expr::Binary(BinOp::Add | BinOp::Sub, ..) => self.chain(body, b, &ctx2, &caps),
                    _ => self.eval_summed(body, b, &ctx2, &caps),
                }
            }
            Expr::Softmax(w, body, _) => {
                let Some(pos) = ctx.axes.iter().position(|a| a.0 == w.name) else {
                    return unsup(format!("softmax over `{}` outside its array index", w.name));
                };
                let _ = pos;
                let v = self.eval(body, b, ctx)?;
                let v = self.broadcast_to(v, std::slice::from_ref(&w.name), ctx)?;
                let k = v.axes.iter().position(|a| *a == w.name).unwrap_or(0);
                self.tick(3 * v.data.len() as u64)?;
                let mut data = v.data;
                for mut lane in data.lanes_mut(Axis(k)) {
                    let mx = lane.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = lane.iter().map(|x| (x - mx).exp()).sum();
                    lane.mapv_inplace(|x| (x - mx).exp() / z);
                }
                Ok(Val { axes: v.axes, data })
            }
            Expr::Deriv(..) => unsup("d(u)/d(a) is a claim form, not a program value"),
        }
    }

    pub(super) fn truth(&mut self, e: &Expr, b: &Bind, ctx: &Ctx) -> R<Val> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let x = self.eval(l, b, ctx)?;
                let y = self.eval(r, b, ctx)?;
                let op = *op;
                self.zip(x, y, move |x, y| {
                    if crate::num::holds(op, x, y) {
                        1.0
                    } else {
                        0.0
                    }
                })
            }
            other => {
                let v = self.eval(other, b, ctx)?;
                self.map(v, |x| if x != 0.0 { 1.0 } else { 0.0 })
            }
        }
    }

    pub(super) fn call(&mut self, c: &Call, b: &Bind, ctx: &Ctx) -> R<Val> {
        let f = c.func.name.as_str();
        let mut args = Vec::new();
        for a in &c.args {
            args.push(self.eval(a, b, ctx)?);
        }
        if matches!(f, "min" | "max") && !args.is_empty() {
            let mut acc = Val::scalar(if f == "min" {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            });
            for a in args {
                acc = if f == "min" {
                    self.zip(acc, a, f64::min)?
                } else {
                    self.zip(acc, a, f64::max)?
                };
            }
            return Ok(acc);
        }
        if args.len() != 1 {
            return unsup(format!("`{f}` takes one argument"));
        }
        let x = args.pop_one();
        let Some(b) = crate::sym::func::model_function(f) else {
            return unsup(format!("`{f}` cannot be evaluated numerically"));
        };
        let g = b.f64;
        self.map(x, g)
    }

    pub(super) fn map(&mut self, mut v: Val, f: impl Fn(f64) -> f64) -> R<Val> {
        self.array_op(v.data.len() as u64)?;
        v.data.mapv_inplace(f);
        Ok(v)
    }

    /// A view of `v` over the axes `to` (a superset of its own, in that order), with
    /// length-1 axes where `v` does not vary.
    pub(super) fn align<'v>(v: &'v Val, to: &[String]) -> ArrayViewD<'v, f64> {
        let mut perm: Vec<usize> = (0..v.axes.len()).collect();
        perm.sort_by_key(|&i| {
            to.iter()
                .position(|a| *a == v.axes[i])
                .unwrap_or(usize::MAX)
        });
        let mut view = v.data.view().permuted_axes(IxDyn(&perm));
        for (k, a) in to.iter().enumerate() {
            if !v.axes.contains(a) {
                view = view.insert_axis(Axis(k));
            }
        }
        view
    }

    pub(super) fn zip(&mut self, x: Val, y: Val, f: impl Fn(f64, f64) -> f64) -> R<Val> {
        // Two values over the same axes, or one of them a number: the elements combined in
        // place in one of the two buffers (copied first only when it is shared), in the
        // same standard layout `map_collect` gives standard-layout operands: the same
        // values, and the same work counted, without the broadcast views' bookkeeping.
        if let Some(v) = self.zip_flat(&x, &y) {
            v?;
            let same = x.axes == y.axes;
            let (mut into, other, swap) = if same || y.axes.is_empty() {
                (x, y, false)
            } else {
                (y, x, true)
            };
            let out = into.data.as_slice_mut().expect("standard layout");
            if same {
                let o = other.data.as_slice().expect("standard layout");
                for (a, b) in out.iter_mut().zip(o) {
                    *a = f(*a, *b);
                }
            } else {
                let c = other.data.iter().next().copied().unwrap_or(0.0);
                for a in out.iter_mut() {
                    *a = if swap { f(c, *a) } else { f(*a, c) };
                }
            }
            return Ok(into);
        }
        let mut axes = x.axes.clone();
        for a in &y.axes {
            if !axes.contains(a) {
                axes.push(a.clone());
            }
        }
        let xv = Self::align(&x, &axes);
        let yv = Self::align(&y, &axes);
        let shape: Vec<usize> = (0..axes.len())
            .map(|k| xv.shape()[k].max(yv.shape()[k]))
            .collect();
        let n: usize = sprod(shape.iter().copied());
        self.check_alloc(n)?;
        self.array_op(n as u64)?;
        let (Some(xb), Some(yb)) = (xv.broadcast(IxDyn(&shape)), yv.broadcast(IxDyn(&shape)))
        else {
            return unsup("arrays of different extents");
        };
        let data = Zip::from(&xb).and(&yb).map_collect(|a, b| f(*a, *b));
        Ok(Val {
            axes,
            data: data.into_shared(),
        })
    }

    /// When [`Self::zip`] can combine `x` and `y` element by element in one of their
    /// buffers (both in standard layout, over the same axes in the same order and shape,
    /// or one of them a number): the accounting of the general path (`Some(Err)` when it
    /// refuses); `None` otherwise.
    fn zip_flat(&mut self, x: &Val, y: &Val) -> Option<R<()>> {
        let flat = |v: &Val| v.data.is_standard_layout();
        let fits = if x.axes == y.axes {
            x.data.shape() == y.data.shape() && flat(x) && flat(y)
        } else if y.axes.is_empty() {
            y.data.len() == 1 && flat(x)
        } else if x.axes.is_empty() {
            x.data.len() == 1 && flat(y)
        } else {
            false
        };
        if !fits {
            return None;
        }
        let n = x.data.len().max(y.data.len());
        Some(self.check_alloc(n).and_then(|()| self.array_op(n as u64)))
    }

    /// `v` with the axes `more` added (repeated values).
    pub(super) fn broadcast_to(&mut self, v: Val, more: &[String], ctx: &Ctx) -> R<Val> {
        let mut axes = v.axes.clone();
        for a in more {
            if !axes.contains(a) {
                axes.push(a.clone());
            }
        }
        if axes.len() == v.axes.len() {
            return Ok(v);
        }
        let shape: Vec<usize> = axes.iter().map(|a| ctx.get(a).map_or(1, |r| r.1)).collect();
        let n: usize = sprod(shape.iter().copied());
        self.check_alloc(n)?;
        self.tick(n as u64)?;
        let view = Self::align(&v, &axes);
        let Some(bv) = view.broadcast(IxDyn(&shape)) else {
            return unsup("arrays of different extents");
        };
        Ok(Val {
            axes,
            data: bv.to_shared(),
        })
    }

    pub(super) fn sum_axes(&mut self, mut v: Val, which: &[String]) -> R<Val> {
        for a in which {
            if let Some(k) = v.axes.iter().position(|x| x == a) {
                self.tick(v.data.len() as u64)?;
                v.data = v.data.sum_axis(Axis(k)).into_shared();
                v.axes.remove(k);
            }
        }
        Ok(v)
    }
}

trait PopOne {
    fn pop_one(self) -> Val;
}

impl PopOne for Vec<Val> {
    fn pop_one(mut self) -> Val {
        self.pop().unwrap_or_else(|| Val::scalar(0.0))
    }
}
