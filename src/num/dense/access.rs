//! Reads: how each dimension of a reference is indexed ([`Dix`]: a fixed position, an
//! affine combination of array indices, shifted or strided under the boundary rule, or
//! a looked-up position), and the value of a reference over the array indices it uses:
//! a shared view of the member's storage for plain indices inside its box, else a gather
//! through [`super::walk`].

use super::statement::{PlanKey, MAX_PLANS};
use super::storage::{Ctx, Dense, Val};
use super::walk::{plan_dims, run_dim, run_pos, run_span, Span, Walk};
use super::{bump, lookup, lower_err, sprod, strides_of, unsup, DenseError, GATHER_COST, R};
use crate::num::Bind;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use ndarray::{ArrayD, Axis, IxDyn};
use std::sync::Arc;

/// How one dimension of a reference is indexed.
pub(super) enum Dix {
    /// A position fixed by constants and loop variables; `None`: outside, reads 0.
    Fixed(Option<i64>),
    /// `c0 + Σ coef · axis` with the boundary rule when `shifted` (extent n).
    Affine {
        c0: i64,
        terms: Vec<(String, i64)>,
        shifted: bool,
        extent: Option<i64>,
    },
    /// A looked-up position (`w[b,t]`): the value, rounded.
    Lookup(Val),
}

impl Dix {
    /// Whether the dimension is fixed or a plain index (`i`, not shifted): one a view or
    /// a slice can index without a gather or a scatter.
    pub(super) fn is_view(&self) -> bool {
        match self {
            Dix::Fixed(_) => true,
            Dix::Affine {
                c0, terms, shifted, ..
            } => *c0 == 0 && terms.len() == 1 && terms[0].1 == 1 && !shifted,
            Dix::Lookup(_) => false,
        }
    }
}

pub(super) fn same_ref(a: &Ref, b: &Ref) -> bool {
    crate::syntax::printer::print_ref(a) == crate::syntax::printer::print_ref(b)
}

pub(super) fn is_plain(a: &Affine) -> bool {
    !(a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1))
}

impl<'a> Dense<'a> {
    /// How each dimension of a reference is indexed.
    pub(super) fn dims(&mut self, r: &Ref, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Vec<Dix>> {
        let env = self.m.env;
        // The extents are looked up only for shifted positions (most reads are plain).
        let mut tdims: Option<&[String]> = None;
        let mut out = Vec::new();
        for (k, ix) in r.indices.iter().flatten().enumerate() {
            match ix {
                IndexExpr::Lookup(inner) => {
                    let mut v = self.read(inner, b, ctx, pref)?;
                    if v.axes.is_empty() {
                        // One position (`e[w[t], i]` at a bound t): not shifted.
                        let p = v.data.iter().next().copied().unwrap_or(0.0).round() as i64;
                        out.push(Dix::Fixed(Some(p)));
                        continue;
                    }
                    if v.data.as_slice().is_none() {
                        v.data = v.data.as_standard_layout().into_owned().into_shared();
                    }
                    out.push(Dix::Lookup(v));
                }
                IndexExpr::Affine(a) => {
                    let shifted = !is_plain(a);
                    let extent = if shifted {
                        tdims
                            .get_or_insert_with(|| {
                                env.tensor_of(&r.name)
                                    .map(|t| t.dims.as_slice())
                                    .unwrap_or(&[])
                            })
                            .get(k)
                            .and_then(|d| self.m.consts.get(d))
                            .map(|n| *n as i64)
                    } else {
                        None
                    };
                    let mut c0 = a.constant;
                    let mut terms: Vec<(String, i64)> = Vec::new();
                    for t in &a.terms {
                        let mut coef = t.coef;
                        let mut axis: Option<String> = None;
                        for f in &t.factors {
                            if ctx.has(&f.name) && lookup(b, &f.name).is_none() {
                                if axis.is_some() {
                                    return unsup("a product of two array indices in a position");
                                }
                                axis = Some(f.name.clone());
                            } else if let Some(v) = lookup(b, &f.name) {
                                coef = coef.saturating_mul(v);
                            } else {
                                match self.m.consts.get(&f.name) {
                                    Some(v) if v.fract() == 0.0 => {
                                        coef = coef.saturating_mul(*v as i64)
                                    }
                                    _ => {
                                        return unsup(format!(
                                            "index `{}` is not bound here",
                                            f.name
                                        ))
                                    }
                                }
                            }
                        }
                        match axis {
                            Some(ax) => terms.push((ax, coef)),
                            None => c0 = c0.saturating_add(coef),
                        }
                    }
                    if terms.is_empty() {
                        let p = match extent {
                            Some(n) if c0 < 0 || c0 >= n => {
                                if self.m.boundary == Some(Boundary::Circular) && n > 0 {
                                    Some(c0.rem_euclid(n))
                                } else {
                                    None
                                }
                            }
                            _ => Some(c0),
                        };
                        out.push(Dix::Fixed(p));
                    } else {
                        out.push(Dix::Affine {
                            c0,
                            terms,
                            shifted,
                            extent,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// The value of a reference over the array indices it uses.
    pub(super) fn read(&mut self, r: &Ref, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Val> {
        if r.indices.is_none() && !r.grad {
            let printed = print_name(&r.name);
            if let Some(v) = self.m.consts.get(&printed) {
                return Ok(Val::scalar(*v));
            }
            if r.name.sub.is_empty() {
                // A bare index, primed or not (`[k == k']`): its name with the primes.
                let ix = format!("{}{}", r.name.base, "'".repeat(r.name.primes as usize));
                if let Some((lo, n)) = ctx.get(&ix) {
                    let data = ArrayD::from_shape_fn(IxDyn(&[n]), |ix| (lo + ix[0] as i64) as f64);
                    return Ok(Val {
                        axes: vec![ix],
                        data: data.into_shared(),
                    });
                }
                if let Some(v) = lookup(b, &ix) {
                    return Ok(Val::scalar(v as f64));
                }
            }
        }
        let plan = self.read_plan(r, b, ctx, pref)?;
        let ReadPlan {
            key,
            dims,
            axes,
            ordered,
            ..
        } = &*plan;
        let Some(arr) = self.arrays.get(key) else {
            return Ok(Val::scalar(0.0));
        };
        if dims.len() != arr.lo.len() {
            // Positions of another rank were never written.
            return Ok(Val::scalar(0.0));
        }
        if dims.iter().any(|d| matches!(d, Dix::Fixed(None))) {
            return Ok(Val::scalar(0.0));
        }
        // Fast path: plain indices inside the box: a view.
        let plain = dims.iter().all(Dix::is_view) && {
            let names: Vec<&String> = dims
                .iter()
                .filter_map(|d| match d {
                    Dix::Affine { terms, .. } => Some(&terms[0].0),
                    _ => None,
                })
                .collect();
            names.len() == axes.len()
        };
        if plain {
            let inside = dims.iter().enumerate().all(|(k, d)| match d {
                Dix::Fixed(Some(p)) => {
                    let q = p - arr.lo[k];
                    q >= 0 && (q as usize) < arr.data.shape()[k]
                }
                Dix::Affine { terms, .. } => {
                    let (lo, n) = ctx.get(&terms[0].0).unwrap_or((0, 0));
                    lo >= arr.lo[k] && lo + n as i64 <= arr.lo[k] + arr.data.shape()[k] as i64
                }
                _ => false,
            });
            if inside {
                // The member's storage, shared (not copied) when the box read is laid
                // out in row-major order within it.
                let mut view = arr.data.clone();
                let mut names = Vec::new();
                for k in (0..dims.len()).rev() {
                    match &dims[k] {
                        Dix::Fixed(Some(p)) => {
                            view.index_axis_inplace(Axis(k), (p - arr.lo[k]) as usize);
                        }
                        Dix::Affine { terms, .. } => {
                            let (lo, n) = ctx.get(&terms[0].0).unwrap_or((0, 0));
                            let s = (lo - arr.lo[k]) as usize;
                            view.slice_axis_inplace(Axis(k), (s..s + n).into());
                            names.push(terms[0].0.clone());
                        }
                        _ => {}
                    }
                }
                names.reverse();
                let data = if view.is_standard_layout() {
                    view
                } else {
                    view.as_standard_layout().into_owned().into_shared()
                };
                self.tick(data.len() as u64)?;
                return Ok(Val { axes: names, data });
            }
        }
        // General gather.
        let (shape, los) = ctx.extents(ordered);
        let total: usize = sprod(shape.iter().copied());
        self.check_alloc(total)?;
        self.tick(GATHER_COST.saturating_mul(total as u64))?;
        let arr = self.arrays.get(key).expect("checked above");
        let src = arr.data.as_slice().expect("standard layout");
        let astr = strides_of(arr.data.shape());
        let boundary = self.m.boundary;
        let plan = plan_dims(dims, ordered);
        let walk = Walk {
            plan: &plan,
            shape: &shape,
            los: &los,
            alo: &arr.lo,
            ashape: arr.data.shape(),
            astr: &astr,
            boundary,
        };
        // Short innermost rows go through offset tables, long ones row by row.
        // (Long rows that are not contiguous in storage, `2x` innermost, go through the
        // tables too: a few table reads per element instead of locating each.)
        let long_run = !ordered.is_empty() && shape[ordered.len() - 1] >= 16;
        let run = run_dim(&plan, ordered.len().wrapping_sub(1), arr.lo.len());
        let tables = if long_run && run.is_some() {
            None
        } else {
            walk.tables()
        };
        let out = match (&tables, run) {
            (Some(tb), _) => {
                let mut out = vec![0.0; total];
                tb.for_each(total, |flat, off| {
                    if let Some(off) = off {
                        out[flat] = src[off];
                    }
                });
                out
            }
            (None, Some(k)) if total > 0 => {
                // Contiguous runs along the innermost index, appended row by row (zeros
                // only where a row reaches outside).
                let n_in = shape[ordered.len() - 1];
                let mut out = Vec::with_capacity(total);
                let (lo_k, len_k) = (arr.lo[k], arr.data.shape()[k]);
                walk.rows(k, |_, at| {
                    let start = out.len();
                    if let Some((off, p0)) = at {
                        match run_span(&plan[k], p0, n_in, lo_k, len_k, boundary) {
                            Span::Range(a, b) if a < b => {
                                let q = (p0 + a as i64 - lo_k) as usize;
                                out.resize(start + a, 0.0);
                                out.extend_from_slice(&src[off + q..off + q + (b - a)]);
                            }
                            Span::Range(..) => {}
                            Span::Each => {
                                for t in 0..n_in {
                                    let v = run_pos(&plan[k], p0 + t as i64, lo_k, len_k, boundary)
                                        .map_or(0.0, |q| src[off + q]);
                                    out.push(v);
                                }
                            }
                        }
                    }
                    out.resize(start + n_in, 0.0);
                });
                out
            }
            (None, _) => {
                let mut out = vec![0.0; total];
                let mut idx = vec![0usize; ordered.len()];
                for slot in out.iter_mut() {
                    if let Some(off) = walk.locate(&idx) {
                        *slot = src[off];
                    }
                    bump(&mut idx, &shape);
                }
                out
            }
        };
        let data = ArrayD::from_shape_vec(IxDyn(&shape), out)
            .map_err(|e| DenseError::Unsupported(e.to_string()))?;
        Ok(Val {
            axes: ordered.clone(),
            data: data.into_shared(),
        })
    }

    /// The member, the dimensions and the output axes of a read ([`ReadPlan`]): read from
    /// the model's plans when an earlier trial made them in the same context, else made
    /// (and kept unless a position is looked up, which depends on the values).
    fn read_plan(&mut self, r: &Ref, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Arc<ReadPlan>> {
        let looked_up = r
            .indices
            .iter()
            .flatten()
            .any(|ix| matches!(ix, IndexExpr::Lookup(_)));
        let plans = if looked_up { None } else { self.plans.clone() };
        let key: PlanKey = (
            r as *const Ref as usize,
            0,
            b.iter().map(|(_, v)| *v).collect(),
        );
        if let Some(plans) = &plans {
            let hit = plans
                .reads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            if let Some(p) = hit {
                if p.names.len() == b.len()
                    && p.names.iter().zip(b).all(|(n, (m, _))| n == m)
                    && p.ctx == ctx.axes
                    && p.pref == pref
                {
                    return Ok(p);
                }
            }
        }
        for s in &r.name.sub {
            if self.mentions_axis_ix(s, ctx) {
                return unsup("a family subscript that depends on an array index");
            }
        }
        let member = self.m.member_of(&r.name, b).map_err(lower_err)?;
        let dims = self.dims(r, b, ctx, pref)?;
        // Output axes: the array indices used, those to be summed last (in `pref` order).
        let mut axes: Vec<String> = Vec::new();
        for d in &dims {
            match d {
                Dix::Affine { terms, .. } => {
                    for (a, _) in terms {
                        if !axes.contains(a) {
                            axes.push(a.clone());
                        }
                    }
                }
                Dix::Lookup(v) => {
                    for a in &v.axes {
                        if !axes.contains(a) {
                            axes.push(a.clone());
                        }
                    }
                }
                Dix::Fixed(_) => {}
            }
        }
        let mut ordered: Vec<String> = axes.iter().filter(|a| !pref.contains(a)).cloned().collect();
        ordered.extend(pref.iter().filter(|a| axes.contains(a)).cloned());
        let plan = Arc::new(ReadPlan {
            names: b.iter().map(|(n, _)| n.clone()).collect(),
            ctx: ctx.axes.clone(),
            pref: pref.to_vec(),
            key: (member, r.grad),
            dims,
            axes,
            ordered,
        });
        if let Some(plans) = plans {
            let mut m = plans.reads.lock().unwrap_or_else(|e| e.into_inner());
            if m.len() < MAX_PLANS {
                m.insert(key, plan.clone());
            }
        }
        Ok(plan)
    }
}

/// What a read decides before it looks at the member's values: the member, how each
/// dimension is indexed, and the axes of its value (in the order the contraction wants).
/// It depends on the reference, the binding, the array indices in scope and the sizes,
/// never on a sampled value (a read with a looked-up position is never kept), so the
/// trials of a model share it.
pub(super) struct ReadPlan {
    names: Vec<String>,
    ctx: Vec<(String, i64, usize)>,
    pref: Vec<String>,
    key: (String, bool),
    dims: Vec<Dix>,
    axes: Vec<String>,
    ordered: Vec<String>,
}
