//! Walks: the positions of a gather or scatter. An odometer over the array indices
//! ([`Walk`]) is mapped to flat offsets in a member's storage, dimension by dimension
//! ([`Pd`]), following the boundary rule; short rows go through precomputed offset
//! tables ([`Tables`]), long ones as contiguous runs ([`run_span`]).

use super::access::Dix;
use super::{bump, sprod, strides_of};
use crate::num::FastMap;
use crate::syntax::ast::Boundary;
use std::cell::RefCell;
use std::rc::Rc;

/// A dimension's position as a function of the odometer: constant, affine in some of
/// its digits, or looked up.
pub(super) enum Pd<'v> {
    Fixed(i64),
    Affine {
        c0: i64,
        terms: Vec<(usize, i64)>,
        shifted: bool,
        extent: Option<i64>,
    },
    Lookup {
        data: &'v [f64],
        /// Per lookup axis: odometer digit and stride in the lookup's data.
        digits: Vec<(usize, usize)>,
    },
}

pub(super) fn plan_dims<'v>(dims: &'v [Dix], order: &[String]) -> Vec<Pd<'v>> {
    dims.iter()
        .map(|d| match d {
            Dix::Fixed(p) => Pd::Fixed(p.unwrap_or(i64::MIN)),
            Dix::Affine {
                c0,
                terms,
                shifted,
                extent,
            } => Pd::Affine {
                c0: *c0,
                terms: terms
                    .iter()
                    .map(|(a, c)| (order.iter().position(|o| o == a).unwrap_or(0), *c))
                    .collect(),
                shifted: *shifted,
                extent: *extent,
            },
            Dix::Lookup(v) => {
                let st = strides_of(v.data.shape());
                Pd::Lookup {
                    data: v.data.as_slice().unwrap_or(&[]),
                    digits: v
                        .axes
                        .iter()
                        .enumerate()
                        .map(|(k, a)| (order.iter().position(|o| o == a).unwrap_or(0), st[k]))
                        .collect(),
                }
            }
        })
        .collect()
}

/// The storage dimension along which the odometer's digit `inner` moves one position
/// per step (coefficient 1, in no other dimension), when it is the last (contiguous) one.
pub(super) fn run_dim(plan: &[Pd], inner: usize, nd: usize) -> Option<usize> {
    let mut found = None;
    for (k, d) in plan.iter().enumerate() {
        match d {
            Pd::Fixed(_) => {}
            Pd::Affine { terms, .. } => {
                let hits: Vec<&(usize, i64)> = terms.iter().filter(|t| t.0 == inner).collect();
                if hits.is_empty() {
                    continue;
                }
                if hits.len() > 1 || hits[0].1 != 1 || found.is_some() {
                    return None;
                }
                found = Some(k);
            }
            Pd::Lookup { digits, .. } => {
                if digits.iter().any(|d| d.0 == inner) {
                    return None;
                }
            }
        }
    }
    let k = found?;
    (k + 1 == nd).then_some(k)
}

/// The storage dimension (other than `k`) in which the odometer's digit `digit` is the
/// only term with coefficient 1, when no other dimension (and no lookup) depends on it:
/// consecutive values of the digit are then consecutive rows of that dimension.
fn block_dim(plan: &[Pd], digit: usize, k: usize) -> Option<usize> {
    let mut found = None;
    for (d, pd) in plan.iter().enumerate() {
        match pd {
            Pd::Fixed(_) => {}
            Pd::Affine { terms, .. } => {
                if !terms.iter().any(|t| t.0 == digit) {
                    continue;
                }
                if d == k || terms.len() != 1 || terms[0].1 != 1 || found.is_some() {
                    return None;
                }
                found = Some(d);
            }
            Pd::Lookup { digits, .. } => {
                if digits.iter().any(|x| x.0 == digit) {
                    return None;
                }
            }
        }
    }
    found
}

/// An odometer over `shape` (digit `i` runs from `los[i]`) and the positions `plan` gives
/// it in a member's storage: the box `alo` of extent `ashape`, row-major strides `astr`,
/// positions outside read 0 or drop the write unless `boundary` wraps them.
pub(super) struct Walk<'w> {
    pub(super) plan: &'w [Pd<'w>],
    pub(super) shape: &'w [usize],
    pub(super) los: &'w [i64],
    pub(super) alo: &'w [i64],
    pub(super) ashape: &'w [usize],
    pub(super) astr: &'w [usize],
    pub(super) boundary: Option<Boundary>,
}

impl Walk<'_> {
    /// Dimension `d`'s position before the boundary rule, for an affine dimension (0
    /// for the others).
    pub(super) fn raw_pos(&self, d: usize, idx: &[usize]) -> i64 {
        let Pd::Affine { c0, terms, .. } = &self.plan[d] else {
            return 0;
        };
        let mut v = *c0;
        for (digit, coef) in terms {
            v = v.saturating_add(coef.saturating_mul(self.los[*digit] + idx[*digit] as i64));
        }
        v
    }

    /// Dimension `d`'s share of the flat offset of the element the odometer points at,
    /// or `None` when that position lies outside.
    pub(super) fn dim_offset(&self, d: usize, idx: &[usize]) -> Option<usize> {
        let p = match &self.plan[d] {
            Pd::Fixed(p) => *p,
            Pd::Affine {
                shifted, extent, ..
            } => {
                let v = self.raw_pos(d, idx);
                match extent {
                    Some(n) if *shifted && (v < 0 || v >= *n) => {
                        if self.boundary == Some(Boundary::Circular) && *n > 0 {
                            v.rem_euclid(*n)
                        } else {
                            return None;
                        }
                    }
                    _ => v,
                }
            }
            Pd::Lookup { data, digits } => {
                let mut o = 0usize;
                for (digit, st) in digits {
                    o += idx[*digit] * st;
                }
                data.get(o).copied().unwrap_or(0.0).round() as i64
            }
        };
        let q = p.checked_sub(self.alo[d])?;
        if q < 0 || q as usize >= self.ashape[d] {
            return None;
        }
        Some(q as usize * self.astr[d])
    }

    /// The flat offset of the element the odometer points at, leaving out the dimensions
    /// in `skip`, or `None` (reads 0 / dropped).
    pub(super) fn locate_except(&self, idx: &[usize], skip: &[usize]) -> Option<usize> {
        let mut off = 0usize;
        for d in 0..self.plan.len() {
            if !skip.contains(&d) {
                off += self.dim_offset(d, idx)?;
            }
        }
        Some(off)
    }

    /// The flat offset of the element the odometer points at, or `None` (reads 0 / dropped).
    pub(super) fn locate(&self, idx: &[usize]) -> Option<usize> {
        self.locate_except(idx, &[])
    }

    /// The offset of a run's row (every dimension but `k`) and the raw position in `k` at
    /// the run's first step; `None` when the row lies outside.
    pub(super) fn locate_run(&self, idx: &[usize], k: usize) -> Option<(usize, i64)> {
        Some((self.locate_except(idx, &[k])?, self.raw_pos(k, idx)))
    }

    pub(super) fn tables(&self) -> Option<Tables> {
        Tables::new(self)
    }

    /// Calls `f(row, located)` for every row of the odometer (every combination of its
    /// digits but the last, in order), with `located` as [`Self::locate_run`] gives it
    /// for that row, the run along storage dimension `k`. When the second-to-last digit
    /// moves one storage row at a time ([`block_dim`]), the other dimensions are located
    /// once per block of rows instead of once per row.
    pub(super) fn rows(&self, k: usize, mut f: impl FnMut(usize, Option<(usize, i64)>)) {
        let shape = self.shape;
        let n = shape.len();
        if n == 0 {
            return;
        }
        let last = n - 1;
        let rows: usize = sprod(shape[..last].iter().copied());
        let mut idx = vec![0usize; n];
        let blk = if n >= 2 {
            block_dim(self.plan, last - 1, k)
        } else {
            None
        };
        let Some(k2) = blk else {
            for row in 0..rows {
                f(row, self.locate_run(&idx, k));
                bump(&mut idx[..last], &shape[..last]);
            }
            return;
        };
        let ny = shape[last - 1];
        if ny == 0 {
            return;
        }
        let mut row = 0;
        for _ in 0..rows / ny {
            // The block's first row, with the block digit at 0: it moves dimension `k2`
            // alone, one stored row per step.
            let base = self.locate_except(&idx, &[k, k2]);
            let p0 = self.raw_pos(k, &idx);
            let py = self.raw_pos(k2, &idx);
            for t in 0..ny {
                let at = base.and_then(|b| {
                    let q = run_pos(
                        &self.plan[k2],
                        py + t as i64,
                        self.alo[k2],
                        self.ashape[k2],
                        self.boundary,
                    )?;
                    Some((b + q * self.astr[k2], p0))
                });
                f(row, at);
                row += 1;
            }
            bump(&mut idx[..last - 1], &shape[..last - 1]);
        }
    }
}

pub(super) enum Span {
    /// Steps a..b read or write consecutive stored positions.
    Range(usize, usize),
    /// Positions wrap: step by step.
    Each,
}

pub(super) fn run_span(
    pd: &Pd,
    p0: i64,
    n: usize,
    lo: i64,
    len: usize,
    boundary: Option<Boundary>,
) -> Span {
    let (shifted, extent) = match pd {
        Pd::Affine {
            shifted, extent, ..
        } => (*shifted, *extent),
        _ => (false, None),
    };
    let mut a = (lo - p0).max(0);
    let mut b = (lo + len as i64 - p0).min(n as i64);
    if let (true, Some(e)) = (shifted, extent) {
        if boundary == Some(Boundary::Circular) && e > 0 {
            if p0 < 0 || p0 + n as i64 > e {
                return Span::Each;
            }
        } else {
            a = a.max(-p0);
            b = b.min(e - p0);
        }
    }
    if a >= b {
        return Span::Range(0, 0);
    }
    Span::Range(a as usize, b as usize)
}

/// The stored position (relative to the box) of raw position `p` in a run's dimension.
pub(super) fn run_pos(
    pd: &Pd,
    p: i64,
    lo: i64,
    len: usize,
    boundary: Option<Boundary>,
) -> Option<usize> {
    let mut p = p;
    if let Pd::Affine {
        shifted: true,
        extent: Some(e),
        ..
    } = pd
    {
        if p < 0 || p >= *e {
            if boundary == Some(Boundary::Circular) && *e > 0 {
                p = p.rem_euclid(*e);
            } else {
                return None;
            }
        }
    }
    let q = p - lo;
    (q >= 0 && (q as usize) < len).then_some(q as usize)
}

/// Per storage dimension, the offset contribution (or `None`: outside, read 0 / write
/// dropped) of every combination of the odometer digits it depends on; the digits'
/// steps in each table. Walking the odometer then costs a few table reads per element.
pub(super) struct Odometer {
    tabs: Vec<Vec<Option<usize>>>,
    /// tstride[digit][dim]
    tstride: Vec<Vec<usize>>,
    shape: Vec<usize>,
}

/// The offsets of a walk, element by element in the odometer's order ([`NONE`]: outside),
/// or the per-dimension tables when an offset does not fit 32 bits.
pub(super) enum Tables {
    Flat(Rc<[u32]>),
    Odometer(Odometer),
}

/// An element outside (reads 0 / write dropped) in [`Tables::Flat`].
const NONE: u32 = u32::MAX;

/// The most offsets of one walk that are kept for the next trials, and of all the walks
/// one thread keeps (4 bytes each); past the second the thread's cache is emptied.
const CACHE_ONE: usize = 1 << 20;
const CACHE_ALL: usize = 1 << 22;

/// The kept offsets of one thread, by walk key, and how many offsets they hold.
type Kept = (FastMap<Vec<i64>, Rc<[u32]>>, usize);

thread_local! {
    /// The offsets of the walks this thread has made, by everything they depend on
    /// ([`walk_key`]): every trial of a setting walks the same positions with the same
    /// sizes, so the first trial works them out and the others read them (the key holds
    /// every input of [`Odometer::new`], so an entry is never used for another walk).
    static CACHE: RefCell<Kept> = RefCell::default();
}

/// Everything the offsets of a walk depend on, as numbers; `None` when a dimension is
/// looked up (its positions come from data).
fn walk_key(w: &Walk) -> Option<Vec<i64>> {
    let Walk {
        plan,
        shape,
        los,
        alo,
        ashape,
        astr,
        boundary,
    } = *w;
    let mut k: Vec<i64> = Vec::with_capacity(8 + 6 * plan.len() + 2 * shape.len());
    k.push(match boundary {
        None => 0,
        Some(Boundary::Circular) => 1,
        Some(b) => 2 + b as i64,
    });
    k.push(plan.len() as i64);
    for pd in plan {
        match pd {
            Pd::Fixed(p) => k.extend([0, *p]),
            Pd::Affine {
                c0,
                terms,
                shifted,
                extent,
            } => {
                k.extend([
                    1,
                    *c0,
                    *shifted as i64,
                    extent.is_some() as i64,
                    extent.unwrap_or(0),
                    terms.len() as i64,
                ]);
                for (d, c) in terms {
                    k.extend([*d as i64, *c]);
                }
            }
            Pd::Lookup { .. } => return None,
        }
    }
    k.push(shape.len() as i64);
    k.extend(shape.iter().map(|&x| x as i64));
    k.extend(los.iter().copied());
    k.push(alo.len() as i64);
    k.extend(alo.iter().copied());
    k.extend(ashape.iter().map(|&x| x as i64));
    k.extend(astr.iter().map(|&x| x as i64));
    Some(k)
}

impl Tables {
    /// The offsets of walk `w`: kept from an earlier trial of this thread when there is
    /// one, else worked out (and kept when small enough); `None` when a dimension is
    /// looked up.
    pub(super) fn new(w: &Walk) -> Option<Tables> {
        let key = walk_key(w)?;
        if let Some(offs) = CACHE.with(|c| c.borrow().0.get(&key).cloned()) {
            return Some(Tables::Flat(offs));
        }
        let odo = Odometer::new(w)?;
        let total: usize = sprod(w.shape.iter().copied());
        if total > CACHE_ONE {
            return Some(Tables::Odometer(odo));
        }
        let mut offs = Vec::with_capacity(total);
        let mut fits = true;
        odo.for_each(total, |_, off| match off {
            Some(o) if o < NONE as usize => offs.push(o as u32),
            Some(_) => fits = false,
            None => offs.push(NONE),
        });
        if !fits {
            return Some(Tables::Odometer(odo));
        }
        let offs: Rc<[u32]> = offs.into();
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.1 + total > CACHE_ALL {
                c.0.clear();
                c.1 = 0;
            }
            c.1 += total;
            c.0.insert(key, offs.clone());
        });
        Some(Tables::Flat(offs))
    }

    /// Calls `f(flat index, offset)` for every element of the odometer, in order.
    #[inline]
    pub(super) fn for_each(&self, total: usize, mut f: impl FnMut(usize, Option<usize>)) {
        match self {
            Tables::Flat(offs) => {
                for (flat, &o) in offs.iter().enumerate().take(total) {
                    f(flat, (o != NONE).then_some(o as usize));
                }
            }
            Tables::Odometer(odo) => odo.for_each(total, f),
        }
    }
}

impl Odometer {
    fn new(w: &Walk) -> Option<Odometer> {
        let Walk {
            plan,
            shape,
            los,
            alo,
            ashape,
            astr,
            boundary,
        } = *w;
        let nd = plan.len();
        let mut tabs = Vec::with_capacity(nd);
        let mut tstride = vec![vec![0usize; nd]; shape.len()];
        for (k, pd) in plan.iter().enumerate() {
            let (c0, terms, shifted, extent) = match pd {
                Pd::Fixed(p) => (*p, Vec::new(), false, None),
                Pd::Affine {
                    c0,
                    terms,
                    shifted,
                    extent,
                } => (*c0, terms.clone(), *shifted, *extent),
                Pd::Lookup { .. } => return None,
            };
            let mut digits: Vec<usize> = Vec::new();
            for (d, _) in &terms {
                if !digits.contains(d) {
                    digits.push(*d);
                }
            }
            let size: usize = sprod(digits.iter().map(|d| shape[*d]));
            let mut st = 1usize;
            for d in digits.iter().rev() {
                tstride[*d][k] = st;
                st *= shape[*d];
            }
            let mut tab = Vec::with_capacity(size);
            let mut di = vec![0usize; digits.len()];
            let dshape: Vec<usize> = digits.iter().map(|d| shape[*d]).collect();
            for _ in 0..size {
                let mut v = c0;
                for (d, coef) in &terms {
                    let j = digits.iter().position(|x| x == d).unwrap_or(0);
                    v = v.saturating_add(coef.saturating_mul(los[*d] + di[j] as i64));
                }
                let mut pos = Some(v);
                if let Some(n) = extent {
                    if shifted && (v < 0 || v >= n) {
                        pos = if boundary == Some(Boundary::Circular) && n > 0 {
                            Some(v.rem_euclid(n))
                        } else {
                            None
                        };
                    }
                }
                tab.push(pos.and_then(|p| {
                    let q = p.checked_sub(alo[k])?;
                    (q >= 0 && (q as usize) < ashape[k]).then_some(q as usize * astr[k])
                }));
                bump(&mut di, &dshape);
            }
            tabs.push(tab);
        }
        Some(Odometer {
            tabs,
            tstride,
            shape: shape.to_vec(),
        })
    }

    /// Calls `f(flat index, offset)` for every element of the odometer, in order.
    fn for_each(&self, total: usize, mut f: impl FnMut(usize, Option<usize>)) {
        let nd = self.tabs.len();
        let mut t = vec![0usize; nd];
        let mut idx = vec![0usize; self.shape.len()];
        for flat in 0..total {
            let mut off = Some(0usize);
            for (tab, tk) in self.tabs.iter().zip(&t) {
                match tab.get(*tk).copied().flatten() {
                    Some(o) => off = off.map(|x| x + o),
                    None => {
                        off = None;
                        break;
                    }
                }
            }
            f(flat, off);
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                for (tk, st) in t.iter_mut().zip(&self.tstride[d]) {
                    *tk += st;
                }
                if idx[d] < self.shape[d] {
                    break;
                }
                for (tk, st) in t.iter_mut().zip(&self.tstride[d]) {
                    *tk -= self.shape[d] * st;
                }
                idx[d] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offsets of `x[2i + di - 1, j]` (i in 0..3, di in 0..2, j in 0..2) in a 5×2 box,
    /// as the per-dimension tables give them element by element.
    fn walk<'w>(boundary: Option<Boundary>, plan: &'w [Pd<'w>], shape: &'w [usize]) -> Walk<'w> {
        Walk {
            plan,
            shape,
            los: &[0, 0, 0],
            alo: &[0, 0],
            ashape: &[5, 2],
            astr: &[2, 1],
            boundary,
        }
    }

    fn reference(boundary: Option<Boundary>, plan: &[Pd], shape: &[usize]) -> Vec<Option<usize>> {
        let odo = Odometer::new(&walk(boundary, plan, shape)).unwrap();
        let mut out = Vec::new();
        odo.for_each(sprod(shape.iter().copied()), |_, o| out.push(o));
        out
    }

    fn flat(boundary: Option<Boundary>, plan: &[Pd], shape: &[usize]) -> Vec<Option<usize>> {
        let tb = Tables::new(&walk(boundary, plan, shape)).unwrap();
        assert!(matches!(tb, Tables::Flat(_)));
        let mut out = Vec::new();
        tb.for_each(sprod(shape.iter().copied()), |_, o| out.push(o));
        out
    }

    #[test]
    fn kept_offsets_are_the_walks_own_for_each_boundary() {
        let plan = || {
            vec![
                Pd::Affine {
                    c0: -1,
                    terms: vec![(0, 2), (1, 1)],
                    shifted: true,
                    extent: Some(5),
                },
                Pd::Affine {
                    c0: 0,
                    terms: vec![(2, 1)],
                    shifted: false,
                    extent: Some(2),
                },
            ]
        };
        let shape = [3, 2, 2];
        let zero = reference(Some(Boundary::Zero), &plan(), &shape);
        let circular = reference(Some(Boundary::Circular), &plan(), &shape);
        // Position -1 is outside under zero padding and wraps to 4 when circular.
        assert_eq!(zero[0], None);
        assert_eq!(circular[0], Some(8));
        assert_ne!(zero, circular);
        for _ in 0..2 {
            // The first call works the offsets out, the second reads the kept ones: the
            // same, and never another walk's (the boundary is part of the key).
            assert_eq!(flat(Some(Boundary::Zero), &plan(), &shape), zero);
            assert_eq!(flat(Some(Boundary::Circular), &plan(), &shape), circular);
        }
        // Another shape is another walk.
        let shorter = [2, 2, 2];
        assert_eq!(
            flat(Some(Boundary::Circular), &plan(), &shorter),
            reference(Some(Boundary::Circular), &plan(), &shorter)
        );
    }
}
