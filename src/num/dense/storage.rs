//! Storage: the arrays of the tensors' members ([`Arr`]), the values over named array
//! indices that statements compute ([`Val`]), the array indices in scope ([`Ctx`]), and
//! the interpreter state ([`Dense`]) with its work and memory accounting (`tick`,
//! `check_alloc`) and the growing and merging of members' boxes.

use super::{refuse, sprod, unsup, R};
use crate::num::hash::FastMap;
use crate::num::{Machine, Store, MAX_ELEMENTS};
use ndarray::Dimension as _;
use ndarray::{ArcArray, ArrayD, Axis, IxDyn, Zip};

/// Values of a member or of an intermediate: shared, copied only when written while
/// shared (a plain read of a whole member is not a copy).
pub type Data = ArcArray<f64, IxDyn>;

/// Statistics (count, sum, sum of squares) per (dimension, position along it).
pub type Slices = std::collections::BTreeMap<(usize, i64), (usize, f64, f64)>;

/// Statistics (count, sum, sum of squares) per pair of dimensions (a < b) and the
/// difference of the positions along them (`pos[a] - pos[b]`): the bands (the diagonal
/// at 0) Monte Carlo compares with the pool, which slices along one dimension at a time
/// do not see (`x[i] x[i']` is `x[i]^2` on the diagonal only).
pub type Bands = std::collections::BTreeMap<(usize, usize, i64), (usize, f64, f64)>;

/// One tensor member: values over a box of positions (`lo[k] .. lo[k] + shape[k]`),
/// and which of them have been written. Always in standard (row-major) layout.
#[derive(Clone, Debug)]
pub struct Arr {
    pub lo: Vec<i64>,
    pub data: Data,
    pub mask: ArrayD<bool>,
}

impl Arr {
    pub(super) fn new(lo: Vec<i64>, shape: &[usize]) -> Arr {
        Arr {
            lo,
            data: Data::zeros(IxDyn(shape)),
            mask: ArrayD::from_elem(IxDyn(shape), false),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.data.len()
    }

    /// The flat offset of a position, if it is inside the box.
    pub(super) fn offset(&self, pos: &[i64]) -> Option<usize> {
        if pos.len() != self.lo.len() {
            return None;
        }
        let mut off = 0usize;
        for (k, (&p, &lo)) in pos.iter().zip(&self.lo).enumerate() {
            let n = self.data.shape()[k];
            let q = p - lo;
            if q < 0 || q as usize >= n {
                return None;
            }
            off = off * n + q as usize;
        }
        Some(off)
    }

    /// Every written element: (position, value), in row-major order.
    pub fn elements(&self) -> Vec<(Vec<i64>, f64)> {
        let mut out = Vec::new();
        for ((ix, v), m) in self.data.indexed_iter().zip(self.mask.iter()) {
            if *m {
                let pos = (0..self.lo.len())
                    .map(|k| self.lo[k] + ix[k] as i64)
                    .collect();
                out.push((pos, *v));
            }
        }
        out
    }

    /// Count, sum and sum of squares of the written elements matching `fixed` (as
    /// [`Arr::moments`]), per free dimension and position along it: the slices Monte
    /// Carlo compares with the pool to see whether the pooled elements share one
    /// distribution (`claims::montecarlo::decide`).
    pub fn slice_moments(&self, fixed: &[Option<i64>], max: usize) -> Slices {
        let shape = self.data.shape();
        let free: Vec<usize> = (0..self.lo.len())
            .filter(|k| !fixed.get(*k).is_some_and(|f| f.is_some()))
            .collect();
        // More slices than the caller records: none, before any element is read (a
        // million-element vector made one map entry per element in every trial).
        let total: usize = free.iter().map(|&k| shape[k]).sum();
        if total > max {
            return Slices::new();
        }
        let mut acc: Vec<Vec<(usize, f64, f64)>> = free
            .iter()
            .map(|&k| vec![(0, 0.0, 0.0); shape[k]])
            .collect();
        let nfixed = self.lo.len().min(fixed.len());
        if let (Some(data), Some(mask)) = (self.data.as_slice(), self.mask.as_slice()) {
            // Standard layout: the elements in row-major order (the order of
            // `indexed_iter`, so the same sums), their index counted alongside instead of
            // built per element (a fifth of problems/resnet.tq's time went to it).
            let mut ix = vec![0usize; shape.len()];
            for (v, m) in data.iter().zip(mask) {
                if *m
                    && !(0..nfixed)
                        .any(|k| fixed[k].is_some_and(|f| f != self.lo[k] + ix[k] as i64))
                {
                    for (slot, &k) in acc.iter_mut().zip(&free) {
                        let e = &mut slot[ix[k]];
                        e.0 += 1;
                        e.1 += v;
                        e.2 += v * v;
                    }
                }
                super::bump(&mut ix, shape);
            }
        } else {
            for ((ix, v), m) in self.data.indexed_iter().zip(self.mask.iter()) {
                if !*m {
                    continue;
                }
                let pos = |k: usize| self.lo[k] + ix[k] as i64;
                if (0..nfixed).any(|k| fixed[k].is_some_and(|f| f != pos(k))) {
                    continue;
                }
                for (slot, &k) in acc.iter_mut().zip(&free) {
                    let e = &mut slot[ix[k]];
                    e.0 += 1;
                    e.1 += v;
                    e.2 += v * v;
                }
            }
        }
        let mut out = Slices::new();
        for (slot, &k) in acc.iter().zip(&free) {
            for (i, e) in slot.iter().enumerate() {
                if e.0 > 0 {
                    out.insert((k, self.lo[k] + i as i64), *e);
                }
            }
        }
        out
    }

    /// Count, sum and sum of squares of the written elements matching `fixed` (as
    /// [`Arr::slice_moments`]), per pair of free dimensions and difference of the
    /// positions along them ([`Bands`]); none when there would be more than `max` bands
    /// (counted before any element is read).
    pub fn band_moments(&self, fixed: &[Option<i64>], max: usize) -> Bands {
        let shape = self.data.shape();
        let free: Vec<usize> = (0..self.lo.len())
            .filter(|k| !fixed.get(*k).is_some_and(|f| f.is_some()))
            .collect();
        let pairs: Vec<(usize, usize)> = free
            .iter()
            .enumerate()
            .flat_map(|(i, &a)| free[i + 1..].iter().map(move |&b| (a, b)))
            .collect();
        let total: usize = pairs
            .iter()
            .map(|&(a, b)| (shape[a] + shape[b]).saturating_sub(1))
            .sum();
        if pairs.is_empty() || total > max {
            return Bands::new();
        }
        let mut acc: Vec<Vec<(usize, f64, f64)>> = pairs
            .iter()
            .map(|&(a, b)| vec![(0, 0.0, 0.0); (shape[a] + shape[b]).saturating_sub(1)])
            .collect();
        let nfixed = self.lo.len().min(fixed.len());
        let mut add = |ix: &[usize], v: f64| {
            if (0..nfixed).any(|k| fixed[k].is_some_and(|f| f != self.lo[k] + ix[k] as i64)) {
                return;
            }
            for (slot, &(a, b)) in acc.iter_mut().zip(&pairs) {
                let e = &mut slot[ix[a] + shape[b] - 1 - ix[b]];
                e.0 += 1;
                e.1 += v;
                e.2 += v * v;
            }
        };
        if let (Some(data), Some(mask)) = (self.data.as_slice(), self.mask.as_slice()) {
            // Standard layout: row-major order (that of `indexed_iter`, so the same sums),
            // the index counted alongside instead of built per element (as
            // [`Arr::slice_moments`]: `indexed_iter` was most of a trial's statistics).
            let mut ix = vec![0usize; shape.len()];
            for (v, m) in data.iter().zip(mask) {
                if *m {
                    add(&ix, *v);
                }
                super::bump(&mut ix, shape);
            }
        } else {
            for ((ix, v), m) in self.data.indexed_iter().zip(self.mask.iter()) {
                if *m {
                    add(ix.slice(), *v);
                }
            }
        }
        let mut out = Bands::new();
        for (slot, &(a, b)) in acc.iter().zip(&pairs) {
            for (i, e) in slot.iter().enumerate() {
                if e.0 > 0 {
                    let d = i as i64 - (shape[b] as i64 - 1) + self.lo[a] - self.lo[b];
                    out.insert((a, b, d), *e);
                }
            }
        }
        out
    }

    /// The largest finite |value| among the written elements (0 when there is none).
    pub fn largest(&self) -> f64 {
        let mut m: f64 = 0.0;
        // Every trial asks this of every member: a flat loop over the two buffers (a
        // NaN's |value| is not below infinity, so `a < INFINITY` is `is_finite`).
        if let (Some(data), Some(mask)) = (self.data.as_slice(), self.mask.as_slice()) {
            // Eight running maxima without a branch (the compiler makes it vector code;
            // session 36: a third of `tq export`'s time on a variant of 10^6 values was
            // this loop). An element not written, or not finite, counts as 0, which no
            // maximum is below: the same value as one running maximum.
            const LANES: usize = 8;
            let keep = |v: f64, w: bool| {
                let a = v.abs();
                if w && a < f64::INFINITY {
                    a
                } else {
                    0.0
                }
            };
            let mut lanes = [0.0f64; LANES];
            let (d8, w8) = (data.chunks_exact(LANES), mask.chunks_exact(LANES));
            let (d_rest, w_rest) = (d8.remainder(), w8.remainder());
            for (d, w) in d8.zip(w8) {
                for k in 0..LANES {
                    let a = keep(d[k], w[k]);
                    lanes[k] = if a > lanes[k] { a } else { lanes[k] };
                }
            }
            for (v, w) in d_rest.iter().zip(w_rest) {
                let a = keep(*v, *w);
                if a > m {
                    m = a;
                }
            }
            for a in lanes {
                if a > m {
                    m = a;
                }
            }
            return m;
        }
        Zip::from(&self.data).and(&self.mask).for_each(|v, w| {
            if *w && v.is_finite() {
                m = m.max(v.abs());
            }
        });
        m
    }

    /// Count, sum and sum of squares of the written elements whose positions match
    /// `fixed` (`Some(p)`: position p in that dimension; `None`: any), compared
    /// dimension by dimension as far as both go (as the element-wise Monte Carlo does).
    /// Count, sum and sum of squares of the written elements matching `fixed`, per
    /// combination of their positions along `dims` (a position class of Monte Carlo's
    /// pools); empty beyond `max` combinations.
    pub fn class_moments(
        &self,
        fixed: &[Option<i64>],
        dims: &[usize],
        max: usize,
    ) -> std::collections::BTreeMap<Vec<i64>, (usize, f64, f64)> {
        let mut out = std::collections::BTreeMap::new();
        if dims.iter().any(|&d| d >= self.lo.len()) {
            return out;
        }
        for ((ix, v), m) in self.data.indexed_iter().zip(self.mask.iter()) {
            if !*m {
                continue;
            }
            let pos = |k: usize| self.lo[k] + ix[k] as i64;
            if (0..self.lo.len().min(fixed.len())).any(|k| fixed[k].is_some_and(|f| f != pos(k))) {
                continue;
            }
            let e = out
                .entry(dims.iter().map(|&d| pos(d)).collect())
                .or_insert((0, 0.0, 0.0));
            e.0 += 1;
            e.1 += v;
            e.2 += v * v;
            if out.len() > max {
                return std::collections::BTreeMap::new();
            }
        }
        out
    }

    pub fn moments(&self, fixed: &[Option<i64>]) -> (usize, f64, f64) {
        let mut data = self.data.view();
        let mut mask = self.mask.view();
        let nd = self.lo.len().min(fixed.len());
        for k in (0..nd).rev() {
            if let Some(p) = fixed[k] {
                let q = p - self.lo[k];
                if q < 0 || q as usize >= data.shape()[k] {
                    return (0, 0.0, 0.0);
                }
                data = data.index_axis_move(Axis(k), q as usize);
                mask = mask.index_axis_move(Axis(k), q as usize);
            }
        }
        let (mut n, mut s1, mut s2) = (0usize, 0.0, 0.0);
        Zip::from(&data).and(&mask).for_each(|v, m| {
            if *m {
                n += 1;
                s1 += v;
                s2 += v * v;
            }
        });
        (n, s1, s2)
    }
}

/// A value over some array indices (named axes, each over its index's range).
#[derive(Clone, Debug)]
pub(super) struct Val {
    pub(super) axes: Vec<String>,
    pub(super) data: Data,
}

impl Val {
    pub(super) fn scalar(v: f64) -> Val {
        Val {
            axes: vec![],
            data: Data::from_elem(IxDyn(&[]), v),
        }
    }
}

/// The array indices in scope: name, first value, number of values.
#[derive(Clone, Debug, Default)]
pub(super) struct Ctx {
    pub(super) axes: Vec<(String, i64, usize)>,
}

impl Ctx {
    pub(super) fn get(&self, name: &str) -> Option<(i64, usize)> {
        self.axes
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, lo, n)| (*lo, *n))
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.axes.iter().any(|(n, _, _)| n == name)
    }

    /// The context without the indices `names` (those an odometer fixes one by one).
    pub(super) fn without(&self, names: &[String]) -> Ctx {
        Ctx {
            axes: self
                .axes
                .iter()
                .filter(|a| !names.contains(&a.0))
                .cloned()
                .collect(),
        }
    }

    /// The extent and the first position of each index of `order` (1 and 0 for an index
    /// the context does not range over): the box a gather or a scatter walks.
    pub(super) fn extents(&self, order: &[String]) -> (Vec<usize>, Vec<i64>) {
        order
            .iter()
            .map(|a| self.get(a).map_or((1, 0), |(lo, n)| (n, lo)))
            .unzip()
    }
}

/// The dense interpreter state.
pub struct Dense<'a> {
    /// Constants, boundary rule and the helpers of the element-wise machine.
    pub m: Machine<'a>,
    /// The members' arrays (hashed with [`FastHasher`](crate::num::hash::FastHasher):
    /// every read and write looks a member up; nothing iterates them in an order that
    /// matters).
    pub arrays: FastMap<(String, bool), Arr>,
    /// Operations so far.
    pub ops: u64,
    /// The part of [`Dense::ops`] spent making statement plans that this run keeps for
    /// the later trials of its model ([`super::Plans`]): those trials read the plans and
    /// do not pay it again (session 39, probe38/h k21), so a trial's steady cost is
    /// `ops - plan_ops`.
    pub plan_ops: u64,
    pub max_ops: u64,
    pub(super) stored: usize,
    /// Array operations of the statement being executed (the first
    /// [`super::STATEMENT_ARRAY_OPS`] are covered by its fixed cost).
    pub(super) statement_ops: u64,
    /// The model's statement plans, shared by its trials (none outside a model's run).
    pub(super) plans: Option<std::sync::Arc<super::statement::Plans>>,
    /// The element type of the matrix products ([`super::Precision`]).
    pub precision: super::Precision,
}

impl<'a> Dense<'a> {
    pub(super) fn tick(&mut self, n: u64) -> R<()> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.max_ops {
            return refuse(format!(
                "the dense run needs more than {} operations; use smaller sizes on the `sample` line",
                self.max_ops
            ));
        }
        Ok(())
    }

    /// One array operation over `n` elements: the elements, plus the operation's fixed
    /// cost ([`super::ARRAY_OP_COST`]) past the first [`super::STATEMENT_ARRAY_OPS`] of
    /// its statement, whose fixed cost ([`super::STATEMENT_COST`]) covers those.
    pub(super) fn array_op(&mut self, n: u64) -> R<()> {
        self.statement_ops = self.statement_ops.saturating_add(1);
        let fixed = if self.statement_ops > super::STATEMENT_ARRAY_OPS {
            super::ARRAY_OP_COST
        } else {
            0
        };
        self.tick(n.saturating_add(fixed))
    }

    /// A statement starts: its fixed cost, [`super::PLANNED_STATEMENT_COST`] where its
    /// plan was read from the model's plans (`made` is `None`), [`super::STATEMENT_COST`]
    /// where it was made here; a plan made and kept for the later trials (`Some(true)`)
    /// is counted in [`Dense::plan_ops`] beyond the planned cost.
    pub(super) fn statement_start(&mut self, made: Option<bool>) -> R<()> {
        self.statement_ops = 0;
        if let Some(kept) = made {
            let extra = super::STATEMENT_COST - super::PLANNED_STATEMENT_COST;
            if kept {
                self.plan_ops = self.plan_ops.saturating_add(extra);
            }
            self.tick(extra)?;
        }
        self.tick(super::PLANNED_STATEMENT_COST)
    }

    pub(super) fn check_alloc(&self, n: usize) -> R<()> {
        if n > MAX_ELEMENTS {
            return refuse(format!(
                "the dense run would need an array of {n} values, more than {MAX_ELEMENTS}; use smaller sizes on the `sample` line"
            ));
        }
        Ok(())
    }

    /// The tensors as an element-wise store (written elements only).
    pub fn to_store(&self) -> Store {
        let mut out: Store = Store::default();
        for (k, a) in &self.arrays {
            let els = a.elements();
            if !els.is_empty() {
                out.insert(k.clone(), els.into_iter().collect());
            }
        }
        out
    }

    /// `new` written over `old` (same member): the union of their boxes.
    pub(super) fn merge(&mut self, old: Arr, new: Arr) -> R<Arr> {
        let mut a = old;
        let nd = a.lo.len();
        if new.lo.len() != nd {
            return unsup("a tensor is written with different ranks");
        }
        let hi: Vec<i64> = (0..nd)
            .map(|k| new.lo[k] + new.data.shape()[k] as i64 - 1)
            .collect();
        self.grow(&mut a, &new.lo, &hi)?;
        for (pos, v) in new.elements() {
            if let Some(off) = a.offset(&pos) {
                a.data.as_slice_mut().expect("standard layout")[off] = v;
                a.mask.as_slice_mut().expect("standard layout")[off] = true;
            }
        }
        Ok(a)
    }

    /// Grows an array's box to hold `lo..=hi`.
    pub(super) fn grow(&mut self, a: &mut Arr, lo: &[i64], hi: &[i64]) -> R<()> {
        let nd = a.lo.len();
        let mut nlo = a.lo.clone();
        let mut nhi: Vec<i64> = (0..nd)
            .map(|k| a.lo[k] + a.data.shape()[k] as i64 - 1)
            .collect();
        let mut changed = false;
        for k in 0..nd {
            if lo[k] < nlo[k] {
                nlo[k] = lo[k];
                changed = true;
            }
            if hi[k] > nhi[k] {
                nhi[k] = hi[k];
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let shape: Vec<usize> = (0..nd)
            .map(|k| nhi[k].saturating_sub(nlo[k]).saturating_add(1).max(0) as usize)
            .collect();
        let n: usize = sprod(shape.iter().copied());
        let total = self.stored - a.len() + n;
        if total > MAX_ELEMENTS {
            return refuse(format!(
                "the dense run would store more than {MAX_ELEMENTS} values; use smaller sizes on the `sample` line"
            ));
        }
        let mut b = Arr::new(nlo.clone(), &shape);
        {
            let region: Vec<ndarray::SliceInfoElem> = (0..nd)
                .map(|k| {
                    let s = (a.lo[k] - nlo[k]) as isize;
                    ndarray::SliceInfoElem::Slice {
                        start: s,
                        end: Some(s + a.data.shape()[k] as isize),
                        step: 1,
                    }
                })
                .collect();
            let info: &[ndarray::SliceInfoElem] = &region;
            b.data.slice_mut(info).assign(&a.data);
            b.mask.slice_mut(info).assign(&a.mask);
        }
        self.tick(n as u64)?;
        self.stored = total;
        *a = b;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `largest` (eight lanes) against one running maximum, on generated members of
    /// every length around the lane count, with elements not written, infinite, NaN,
    /// negative and -0.
    #[test]
    fn largest_is_the_largest_finite_written_magnitude() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in 0..70usize {
            for round in 0..6 {
                let mut a = Arr::new(vec![0], &[n]);
                let data = a.data.as_slice_mut().expect("standard layout");
                let mask = a.mask.as_slice_mut().expect("standard layout");
                for i in 0..n {
                    let r = next();
                    data[i] = match r % 11 {
                        0 => f64::INFINITY,
                        1 => f64::NEG_INFINITY,
                        2 => f64::NAN,
                        3 => -0.0,
                        _ => ((r >> 8) % 100_000) as f64 / 97.0 - 500.0,
                    };
                    mask[i] = round == 0 || (r >> 40) % 3 != 0;
                }
                let mut want: f64 = 0.0;
                for (v, w) in data.iter().zip(mask.iter()) {
                    if *w && v.is_finite() {
                        want = want.max(v.abs());
                    }
                }
                assert_eq!(
                    a.largest().to_bits(),
                    want.to_bits(),
                    "n = {n}, round {round}"
                );
            }
        }
    }

    /// The slice statistics of a member, by their definition: every written element
    /// matching `fixed`, added to the slice of each free dimension at its position.
    fn by_definition(a: &Arr, fixed: &[Option<i64>]) -> Slices {
        let mut out = Slices::new();
        for (pos, v) in a.elements() {
            if (0..pos.len().min(fixed.len())).any(|k| fixed[k].is_some_and(|f| f != pos[k])) {
                continue;
            }
            for (k, &p) in pos.iter().enumerate() {
                if fixed.get(k).is_some_and(|f| f.is_some()) {
                    continue;
                }
                let e = out.entry((k, p)).or_insert((0, 0.0, 0.0));
                e.0 += 1;
                e.1 += v;
                e.2 += v * v;
            }
        }
        out
    }

    /// A 3 × 4 × 2 member at lowest position (-1, 2, 0), some elements not written.
    fn member() -> Arr {
        let mut a = Arr::new(vec![-1, 2, 0], &[3, 4, 2]);
        let n = a.len();
        let data = a.data.as_slice_mut().expect("standard layout");
        let mask = a.mask.as_slice_mut().expect("standard layout");
        for i in 0..n {
            data[i] = (i as f64 * 0.37).sin() * 3.0 + 0.25;
            mask[i] = i % 5 != 3;
        }
        a
    }

    #[test]
    fn slice_moments_agree_with_their_definition() {
        let a = member();
        for fixed in [
            vec![],
            vec![None, Some(3)],
            vec![Some(0), None, Some(1)],
            vec![Some(1), Some(5)],
            vec![Some(7)],
        ] {
            let got = a.slice_moments(&fixed, 512);
            assert_eq!(got, by_definition(&a, &fixed), "fixed {fixed:?}");
        }
        // Past `max` slices, none.
        assert!(a.slice_moments(&[], 8).is_empty());
        assert_eq!(a.slice_moments(&[], 9).len(), 9);
    }

    #[test]
    fn slice_moments_of_a_member_not_in_standard_layout() {
        // The same values stored transposed in memory (logical order unchanged): the
        // general path gives the same sums as the flat one.
        let a = member();
        let mut t = a.clone();
        let data = a.data.to_owned();
        let mut transposed = ArrayD::zeros(IxDyn(&[2, 4, 3]));
        transposed.assign(&data.view().reversed_axes());
        t.data = transposed.reversed_axes().into_shared();
        assert!(t.data.as_slice().is_none());
        assert_eq!(t.data, a.data);
        for fixed in [vec![], vec![None, Some(4)], vec![Some(-1)]] {
            assert_eq!(t.slice_moments(&fixed, 512), a.slice_moments(&fixed, 512));
        }
    }

    /// The band statistics of a member, by their definition: every written element
    /// matching `fixed`, added to the band of each pair of free dimensions a < b at the
    /// difference of its positions along them.
    fn bands_by_definition(a: &Arr, fixed: &[Option<i64>]) -> Bands {
        let mut out = Bands::new();
        for (pos, v) in a.elements() {
            if (0..pos.len().min(fixed.len())).any(|k| fixed[k].is_some_and(|f| f != pos[k])) {
                continue;
            }
            let free: Vec<usize> = (0..pos.len())
                .filter(|k| !fixed.get(*k).is_some_and(|f| f.is_some()))
                .collect();
            for (i, &x) in free.iter().enumerate() {
                for &y in &free[i + 1..] {
                    let e = out.entry((x, y, pos[x] - pos[y])).or_insert((0, 0.0, 0.0));
                    e.0 += 1;
                    e.1 += v;
                    e.2 += v * v;
                }
            }
        }
        out
    }

    #[test]
    fn band_moments_agree_with_their_definition_in_both_layouts() {
        // The flat path (standard layout) and the general one (the same values stored
        // transposed) against the definition, with unwritten elements, a box that does
        // not start at 0 and fixed positions inside and outside the box.
        let a = member();
        let mut t = a.clone();
        let mut transposed = ArrayD::zeros(IxDyn(&[2, 4, 3]));
        transposed.assign(&a.data.to_owned().view().reversed_axes());
        t.data = transposed.reversed_axes().into_shared();
        assert!(t.data.as_slice().is_none());
        for fixed in [
            vec![],
            vec![None, Some(3)],
            vec![Some(0)],
            vec![None, None, Some(1)],
            vec![Some(7)],
        ] {
            let want = bands_by_definition(&a, &fixed);
            assert_eq!(a.band_moments(&fixed, 512), want, "fixed {fixed:?}");
            assert_eq!(
                t.band_moments(&fixed, 512),
                want,
                "transposed, fixed {fixed:?}"
            );
        }
        assert!(!bands_by_definition(&a, &[]).is_empty());
    }

    /// A 3×3 member written everywhere with value 10 i + j: the bands of its two
    /// dimensions are the diagonal (d = 0: 0, 11, 22) and the four beside it, each with
    /// its count, sum and sum of squares; a fixed first position leaves one free
    /// dimension and no band.
    #[test]
    fn band_moments_by_difference_of_positions() {
        let mut a = Arr::new(vec![0, 0], &[3, 3]);
        for i in 0..3 {
            for j in 0..3 {
                a.data[[i, j]] = (10 * i + j) as f64;
                a.mask[[i, j]] = true;
            }
        }
        let b = a.band_moments(&[], 100);
        assert_eq!(b.len(), 5);
        assert_eq!(b[&(0, 1, 0)], (3, 33.0, 0.0 + 121.0 + 484.0));
        assert_eq!(b[&(0, 1, 2)], (1, 20.0, 400.0));
        assert_eq!(b[&(0, 1, -1)], (2, 1.0 + 12.0, 1.0 + 144.0));
        assert!(a.band_moments(&[Some(1)], 100).is_empty());
        // More bands than asked for: none.
        assert!(a.band_moments(&[], 4).is_empty());
    }
}
