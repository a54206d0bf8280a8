//! Writes: a value stored into a member at the left side's positions, the member's box
//! grown to hold them first; a slice assignment for plain indices, else a scatter through
//! [`super::walk`] that drops (zero, valid) or wraps (circular) positions outside.

use super::access::Dix;
use super::storage::{Arr, Ctx, Dense, Val};
use super::walk::{plan_dims, run_dim, run_pos, run_span, Span, Walk};
use super::{bump, refuse, sprod, strides_of, unsup, GATHER_COST, R};
use crate::num::{Bind, MAX_ELEMENTS};
use crate::syntax::ast::*;
use ndarray::{ArrayD, ArrayView1, Axis, IxDyn, Zip};

impl<'a> Dense<'a> {
    /// Writes a value into a member at the left side's positions.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write(
        &mut self,
        key: &(String, bool),
        lhs: &Ref,
        lhs_ix: &[IndexExpr],
        injective: bool,
        op: AssignOp,
        val: Val,
        b: &Bind,
        ctx: &Ctx,
        lhs_vars: &[String],
    ) -> R<()> {
        // (The left side itself: it was copied here, twice, in every trial.)
        let dims = self.dims(lhs, b, ctx, &[])?;
        let _ = lhs_ix;
        if dims.iter().any(|d| matches!(d, Dix::Lookup(_))) {
            return unsup("a left side with a looked-up position");
        }
        if dims.iter().any(|d| matches!(d, Dix::Fixed(None))) {
            return Ok(()); // the write is dropped (boundary rule)
        }
        // (Whether the left side is injective is the statement plan's: it was found
        // again here in every trial.)
        if op == AssignOp::Set && !injective {
            // A `=` through shifted or strided positions: every position must be
            // written once.
            for d in &dims {
                if let Dix::Affine {
                    terms,
                    shifted,
                    extent,
                    ..
                } = d
                {
                    if terms.len() > 1 || terms.iter().any(|t| t.1 == 0) {
                        return unsup("a `=` through positions that several iterations share");
                    }
                    if *shifted && self.m.boundary == Some(Boundary::Circular) && extent.is_some() {
                        return unsup("a `=` through wrapped positions");
                    }
                }
            }
            let mut seen = Vec::new();
            for d in &dims {
                if let Dix::Affine { terms, .. } = d {
                    if seen.contains(&terms[0].0) {
                        return unsup("a `=` through positions that several iterations share");
                    }
                    seen.push(terms[0].0.clone());
                }
            }
        }
        // The box the write covers.
        let nd = dims.len();
        let mut lo = vec![0i64; nd];
        let mut hi = vec![0i64; nd];
        for (k, d) in dims.iter().enumerate() {
            match d {
                Dix::Fixed(Some(p)) => {
                    lo[k] = *p;
                    hi[k] = *p;
                }
                Dix::Affine {
                    c0,
                    terms,
                    shifted,
                    extent,
                } => {
                    let (mut a, mut z) = (*c0, *c0);
                    for (ax, coef) in terms {
                        let (l, n) = ctx.get(ax).unwrap_or((0, 1));
                        let (p, q) = (
                            coef.saturating_mul(l),
                            coef.saturating_mul(l + n as i64 - 1),
                        );
                        a = a.saturating_add(p.min(q));
                        z = z.saturating_add(p.max(q));
                    }
                    if let (true, Some(n)) = (*shifted, extent) {
                        if self.m.boundary == Some(Boundary::Circular) && *n > 0 {
                            if a < 0 || z >= *n {
                                a = 0;
                                z = n - 1;
                            }
                        } else {
                            a = a.max(0);
                            z = z.min(n - 1);
                        }
                    }
                    if a > z {
                        return Ok(()); // every write dropped
                    }
                    lo[k] = a;
                    hi[k] = z;
                }
                _ => {}
            }
        }
        if ctx.axes.iter().any(|a| a.2 == 0) {
            return Ok(());
        }
        let mut arr = match self.arrays.remove(key) {
            Some(a) => a,
            None if op != AssignOp::Set || injective => {
                // A new member written whole by a value over exactly its indices, in
                // their order: the value becomes the member (`+=` into zeros is `=`).
                let names: Vec<&str> = dims
                    .iter()
                    .filter_map(|d| match d {
                        Dix::Affine {
                            c0, terms, shifted, ..
                        } if *c0 == 0 && terms.len() == 1 && terms[0].1 == 1 && !shifted => {
                            Some(terms[0].0.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                let shape: Vec<usize> = (0..nd)
                    .map(|k| hi[k].saturating_sub(lo[k]).saturating_add(1).max(0) as usize)
                    .collect();
                let whole = names.len() == nd
                    && names.len() == lhs_vars.len()
                    && val
                        .axes
                        .iter()
                        .map(String::as_str)
                        .eq(names.iter().copied())
                    && val.data.shape() == &shape[..]
                    && val.data.is_standard_layout();
                let n: usize = sprod(shape.iter().copied());
                if self.stored.saturating_add(n) > MAX_ELEMENTS {
                    return refuse(format!(
                        "the dense run would store more than {MAX_ELEMENTS} values; use smaller sizes on the `sample` line"
                    ));
                }
                if whole {
                    self.stored += n;
                    self.tick(n as u64)?;
                    let mut data = val.data;
                    if op == AssignOp::SubAssign {
                        data.mapv_inplace(|x| -x);
                    }
                    let mask = ArrayD::from_elem(IxDyn(&shape), true);
                    self.arrays.insert(key.clone(), Arr { lo, data, mask });
                    return Ok(());
                }
                self.stored += n;
                Arr::new(lo.clone(), &shape)
            }
            None => {
                let shape: Vec<usize> = (0..nd)
                    .map(|k| hi[k].saturating_sub(lo[k]).saturating_add(1).max(0) as usize)
                    .collect();
                let n: usize = sprod(shape.iter().copied());
                if self.stored.saturating_add(n) > MAX_ELEMENTS {
                    return refuse(format!(
                        "the dense run would store more than {MAX_ELEMENTS} values; use smaller sizes on the `sample` line"
                    ));
                }
                self.stored += n;
                Arr::new(lo.clone(), &shape)
            }
        };
        if arr.lo.len() != nd {
            self.arrays.insert(key.clone(), arr);
            return unsup("a tensor written with different ranks");
        }
        let r = self.grow(&mut arr, &lo, &hi);
        if let Err(e) = r {
            self.arrays.insert(key.clone(), arr);
            return Err(e);
        }
        let r = self.write_into(&mut arr, &dims, op, val, ctx, lhs_vars);
        self.arrays.insert(key.clone(), arr);
        r
    }

    pub(super) fn write_into(
        &mut self,
        arr: &mut Arr,
        dims: &[Dix],
        op: AssignOp,
        val: Val,
        ctx: &Ctx,
        lhs_vars: &[String],
    ) -> R<()> {
        let plain = dims.iter().all(Dix::is_view)
            && dims
                .iter()
                .filter(|d| matches!(d, Dix::Affine { .. }))
                .count()
                == lhs_vars.len();
        let f = |old: f64, v: f64| match op {
            AssignOp::Set => v,
            AssignOp::AddAssign => old + v,
            AssignOp::SubAssign => old - v,
        };
        if plain {
            // A box region: slice, then element-wise with the value broadcast.
            let mut order = Vec::new();
            let region: Vec<ndarray::SliceInfoElem> = dims
                .iter()
                .enumerate()
                .map(|(k, d)| match d {
                    Dix::Fixed(Some(p)) => ndarray::SliceInfoElem::Index((p - arr.lo[k]) as isize),
                    Dix::Affine { terms, .. } => {
                        let (lo, n) = ctx.get(&terms[0].0).unwrap_or((0, 0));
                        order.push(terms[0].0.clone());
                        let s = (lo - arr.lo[k]) as isize;
                        ndarray::SliceInfoElem::Slice {
                            start: s,
                            end: Some(s + n as isize),
                            step: 1,
                        }
                    }
                    _ => ndarray::SliceInfoElem::Index(0),
                })
                .collect();
            let info: &[ndarray::SliceInfoElem] = &region;
            if val.axes.iter().any(|a| !order.contains(a)) {
                return unsup("a value over indices its left side does not have");
            }
            let view = Self::align(&val, &order);
            let mut target = arr.data.slice_mut(info);
            let Some(bv) = view.broadcast(target.raw_dim()) else {
                return unsup("a value of another extent than its left side");
            };
            self.ops = self.ops.saturating_add(target.len() as u64);
            match (bv.as_slice(), target.as_slice_mut()) {
                // Both contiguous in the same order: slice to slice.
                (Some(src), Some(dst)) => apply(op, dst, src),
                _ => Zip::from(&mut target)
                    .and(&bv)
                    .for_each(|t, v| *t = f(*t, *v)),
            }
            arr.mask.slice_mut(info).fill(true);
            return self.tick(0);
        }
        // General scatter: every combination of the left side's indices, in the value's
        // order (its innermost index last).
        let mut order: Vec<String> = val
            .axes
            .iter()
            .filter(|a| lhs_vars.contains(a))
            .cloned()
            .collect();
        order.extend(lhs_vars.iter().filter(|a| !val.axes.contains(a)).cloned());
        let (shape, los) = ctx.extents(&order);
        let total: usize = sprod(shape.iter().copied());
        self.tick(GATHER_COST.saturating_mul(total as u64))?;
        if val.axes.iter().any(|a| !order.contains(a)) {
            return unsup("a value over indices its left side does not have");
        }
        let view = Self::align(&val, &order);
        let Some(bv) = view.broadcast(IxDyn(&shape)) else {
            return unsup("a value of another extent than its left side");
        };
        let plan = plan_dims(dims, &order);
        let astr = strides_of(arr.data.shape());
        let alo = arr.lo.clone();
        let ashape = arr.data.shape().to_vec();
        let boundary = self.m.boundary;
        let data = arr.data.as_slice_mut().expect("standard layout");
        let mask = arr.mask.as_slice_mut().expect("standard layout");
        let walk = Walk {
            plan: &plan,
            shape: &shape,
            los: &los,
            alo: &alo,
            ashape: &ashape,
            astr: &astr,
            boundary,
        };
        // Short innermost rows go through offset tables, long ones row by row.
        // (Long rows that are not contiguous in storage go through the tables too.)
        let long_run = !order.is_empty() && shape[order.len() - 1] >= 16;
        let run = run_dim(&plan, order.len().wrapping_sub(1), alo.len());
        let tables = if long_run && run.is_some() {
            None
        } else {
            walk.tables()
        };
        match (&tables, run) {
            (Some(tb), _) => {
                // The value in its logical order: its storage when laid out so (a slice
                // iterator instead of ndarray's general one), else element by element.
                let mut flat = bv.as_slice().map(|s| s.iter());
                let mut general = flat.is_none().then(|| bv.iter());
                tb.for_each(total, |_, off| {
                    let v = match (&mut flat, &mut general) {
                        (Some(it), _) => it.next(),
                        (None, Some(it)) => it.next(),
                        (None, None) => None,
                    }
                    .copied()
                    .unwrap_or(0.0);
                    if let Some(off) = off {
                        data[off] = f(data[off], v);
                        mask[off] = true;
                    }
                });
            }
            (None, Some(k)) if total > 0 => {
                let last = order.len() - 1;
                let n_in = shape[last];
                // The value's rows: slices of its storage when it is laid out in order,
                // else its lanes (visited in the same order).
                let flat = bv.as_slice();
                let mut lanes = bv.lanes(Axis(last)).into_iter();
                walk.rows(k, |row, at| {
                    let lane = match flat {
                        Some(s) => Some(ArrayView1::from(&s[row * n_in..(row + 1) * n_in])),
                        None => lanes.next(),
                    };
                    let (Some((off, p0)), Some(lane)) = (at, lane) else {
                        return;
                    };
                    match run_span(&plan[k], p0, n_in, alo[k], ashape[k], boundary) {
                        Span::Range(a, b) if a < b => {
                            let q = off + (p0 + a as i64 - alo[k]) as usize;
                            let dst = &mut data[q..q + (b - a)];
                            match lane.as_slice() {
                                Some(src) => apply(op, dst, &src[a..b]),
                                None => {
                                    for (t, v) in dst.iter_mut().zip(lane.iter().skip(a)) {
                                        *t = f(*t, *v);
                                    }
                                }
                            }
                            mask[q..q + (b - a)].fill(true);
                        }
                        Span::Range(..) => {}
                        Span::Each => {
                            for (t, v) in lane.iter().enumerate() {
                                let p = p0 + t as i64;
                                if let Some(q) = run_pos(&plan[k], p, alo[k], ashape[k], boundary) {
                                    data[off + q] = f(data[off + q], *v);
                                    mask[off + q] = true;
                                }
                            }
                        }
                    }
                });
            }
            (None, _) => {
                let mut idx = vec![0usize; order.len()];
                for v in bv.iter() {
                    if let Some(off) = walk.locate(&idx) {
                        data[off] = f(data[off], *v);
                        mask[off] = true;
                    }
                    bump(&mut idx, &shape);
                }
            }
        }
        Ok(())
    }
}

/// `dst op= src` element by element (`=`, `+=`, `-=`), over slices of one length.
fn apply(op: AssignOp, dst: &mut [f64], src: &[f64]) {
    match op {
        AssignOp::Set => dst.copy_from_slice(src),
        AssignOp::AddAssign => dst.iter_mut().zip(src).for_each(|(d, s)| *d += *s),
        AssignOp::SubAssign => dst.iter_mut().zip(src).for_each(|(d, s)| *d -= *s),
    }
}
