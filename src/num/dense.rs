//! The dense executor: runs a checked program and its derived backward program on
//! whole arrays (ndarray, f64) instead of element by element.
//!
//! The semantics are those of the element-wise [`Machine`] (docs/numeric.md), which
//! stays the reference: every statement is lowered to array operations that compute
//! the same values (up to the order of floating-point additions):
//!
//! - every tensor member (`L_{3}`, `W_{2}.grad`) is one array over a box of positions,
//!   with a mask of the elements written (an element never written reads as 0 and is
//!   not an element of the tensor, exactly as in the element-wise store); a box grows
//!   when a write falls outside it;
//! - a product of factors with summed indices (capitals, explicit sums, and the indices
//!   of a `for` list that a `+=` statement does not write) is contracted pairwise, each
//!   pair as a matrix product (permute, reshape, `dot`) or a broadcast product;
//! - a shifted or strided position (`x+dx`, `2x+1`) is a gather (reads) or a scatter
//!   (writes) that follows the boundary rule (circular wraps, zero and valid read 0 and
//!   drop writes); lookups (`E[w[t], J]`) gather by the looked-up positions;
//! - activations, powers, Iverson brackets and softmax are element-wise maps.
//!
//! A statement that cannot be lowered with the same semantics (a `=` that several
//! iterations write, a statement that reads what it writes at another position, a block
//! of several statements that read each other's elements elsewhere, a family subscript
//! that depends on an array index, ...) makes the run return
//! [`DenseError::Unsupported`] with the reason; callers then run the element-wise
//! [`Machine`] instead. Nothing is ever computed with other semantics.
//!
//! Work is counted in operations: one per multiply-add of a contraction, one per element
//! of every other array operation and of every sampled value, and [`STATEMENT_COST`] per
//! statement executed (its fixed cost); [`GATHER_COST`] per element gathered or scattered
//! through shifted positions. An operation is about a nanosecond on the development machine. Memory is bounded like the
//! element-wise interpreter's: the arrays stored may hold at most [`MAX_ELEMENTS`] values
//! together, and no temporary array may be larger; both are checked before allocating.

use super::{Bind, Machine, NumError, Store, MAX_ELEMENTS};
use crate::check::Env;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use ndarray::{
    linalg::general_mat_mul, ArcArray, ArrayD, ArrayView1, ArrayViewD, Axis, IxDyn, Zip,
};

/// Values of a member or of an intermediate: shared, copied only when written while
/// shared (a plain read of a whole member is not a copy).
pub type Data = ArcArray<f64, IxDyn>;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Operations allowed in one dense run (about a minute of work at most).
pub const MAX_OPS: u64 = 50_000_000_000;
/// Operations counted for each statement executed (its fixed cost: name resolution,
/// index bookkeeping, small allocations; measured at 5–15 µs).
pub const STATEMENT_COST: u64 = 10_000;
/// Operations counted per element of a gather or scatter through shifted, strided or
/// looked-up positions (index arithmetic per element).
pub const GATHER_COST: u64 = 4;

/// Why a dense run was not made.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseError {
    /// A statement does not lower to array operations with the reference semantics;
    /// run the element-wise interpreter instead.
    Unsupported(String),
    /// The run is refused (work or memory budget); the element-wise run would be too.
    Refused(NumError),
}

impl std::fmt::Display for DenseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenseError::Unsupported(m) => write!(f, "not lowered to array operations: {m}"),
            DenseError::Refused(e) => write!(f, "{e}"),
        }
    }
}

type R<T> = Result<T, DenseError>;

fn unsup<T>(m: impl Into<String>) -> R<T> {
    Err(DenseError::Unsupported(m.into()))
}

fn refuse<T>(m: impl Into<String>) -> R<T> {
    Err(DenseError::Refused(NumError { message: m.into() }))
}

/// Errors of the element-wise helpers while lowering: the element-wise run will report
/// them itself.
fn lower_err(e: NumError) -> DenseError {
    if e.message.contains("use smaller sizes") {
        DenseError::Refused(e)
    } else {
        DenseError::Unsupported(e.message)
    }
}

fn lookup(b: &Bind, name: &str) -> Option<i64> {
    b.iter().rev().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// One tensor member: values over a box of positions (`lo[k] .. lo[k] + shape[k]`),
/// and which of them have been written. Always in standard (row-major) layout.
#[derive(Clone, Debug)]
pub struct Arr {
    pub lo: Vec<i64>,
    pub data: Data,
    pub mask: ArrayD<bool>,
}

impl Arr {
    fn new(lo: Vec<i64>, shape: &[usize]) -> Arr {
        Arr {
            lo,
            data: Data::zeros(IxDyn(shape)),
            mask: ArrayD::from_elem(IxDyn(shape), false),
        }
    }

    fn len(&self) -> usize {
        self.data.len()
    }

    /// The flat offset of a position, if it is inside the box.
    fn offset(&self, pos: &[i64]) -> Option<usize> {
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

    /// Count, sum and sum of squares of the written elements whose positions match
    /// `fixed` (`Some(p)`: position p in that dimension; `None`: any), compared
    /// dimension by dimension as far as both go (as the element-wise Monte Carlo does).
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
struct Val {
    axes: Vec<String>,
    data: Data,
}

impl Val {
    fn scalar(v: f64) -> Val {
        Val {
            axes: vec![],
            data: Data::from_elem(IxDyn(&[]), v),
        }
    }
}

/// The array indices in scope: name, first value, number of values.
#[derive(Clone, Debug, Default)]
struct Ctx {
    axes: Vec<(String, i64, usize)>,
}

impl Ctx {
    fn get(&self, name: &str) -> Option<(i64, usize)> {
        self.axes
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, lo, n)| (*lo, *n))
    }

    fn has(&self, name: &str) -> bool {
        self.axes.iter().any(|(n, _, _)| n == name)
    }
}

/// A sampled declaration: its distribution and the elements it covers.
#[derive(Clone, Debug)]
enum Draw {
    Value(f64),
    Normal(f64, f64),
    Uniform(f64, f64),
    Bernoulli(f64),
    Categorical(i64),
}

/// A declaration's distribution and its elements: (member key, position).
type DrawList = (Draw, Vec<(usize, Vec<i64>)>);

#[derive(Clone, Debug)]
struct LeafPlan {
    draw: Draw,
    /// (member key, flat offset) per element, in the element-wise sampling order.
    elements: Vec<(usize, usize)>,
}

/// A model compiled for dense trials: sizes and symbols fixed, the sampling plan of its
/// leaves and incoming gradients, and the statements to run (pruned to those that the
/// tensors asked for depend on).
pub struct DenseModel<'a> {
    pub base: Machine<'a>,
    forward: Vec<Item>,
    backward: Vec<Item>,
    keys: Vec<(String, bool)>,
    template: Vec<Arr>,
    leaves: Vec<LeafPlan>,
    /// Scalar inputs drawn at random (no `at` value): key index.
    scalar_draws: Vec<usize>,
    seeds: Vec<LeafPlan>,
    seed_keys: BTreeSet<usize>,
    /// Whether a distribution given only by moments or symmetry is sampled as a normal.
    pub stood_in: bool,
    pub max_ops: u64,
}

/// The tensors after a dense run.
pub struct DenseRun<'a> {
    pub machine: Dense<'a>,
}

/// (family key, grad) pairs of every tensor the statements kept must compute.
pub type Needed = BTreeSet<(String, bool)>;

fn refs_of(e: &Expr, out: &mut Vec<Ref>) {
    crate::check::walk_refs(e, &mut |r| out.push(r.clone()));
}

/// The statements that the `needed` tensors depend on (all when `needed` is `None`).
pub fn prune(items: &[Item], more: &[Item], env: &Env, needed: &Needed) -> (Vec<Item>, Vec<Item>) {
    fn eqs<'b>(items: &'b [Item], out: &mut Vec<&'b Equation>) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(e) => out.push(e),
                ItemKind::Loop(l) => eqs(&l.body, out),
                ItemKind::ForIndices(f) => eqs(&f.body, out),
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    eqs(items, &mut all);
    eqs(more, &mut all);
    let mut live = needed.clone();
    loop {
        let before = live.len();
        for eq in &all {
            if live.contains(&(env.key_of(&eq.lhs.name), eq.lhs.grad)) {
                let mut rs = Vec::new();
                refs_of(&eq.rhs, &mut rs);
                refs_of(&Expr::Ref(eq.lhs.clone()), &mut rs);
                for r in rs {
                    live.insert((env.key_of(&r.name), r.grad));
                }
            }
        }
        if live.len() == before {
            break;
        }
    }
    fn keep(items: &[Item], env: &Env, live: &Needed) -> Vec<Item> {
        let mut out = Vec::new();
        for it in items {
            match &it.kind {
                ItemKind::Equation(e) if live.contains(&(env.key_of(&e.lhs.name), e.lhs.grad)) => {
                    out.push(it.clone());
                }
                ItemKind::Equation(_) => {}
                ItemKind::Loop(l) => {
                    let body = keep(&l.body, env, live);
                    if !body.is_empty() {
                        let mut l = l.clone();
                        l.body = body;
                        out.push(Item {
                            kind: ItemKind::Loop(l),
                            span: it.span,
                        });
                    }
                }
                ItemKind::ForIndices(f) => {
                    let body = keep(&f.body, env, live);
                    if !body.is_empty() {
                        let mut f = f.clone();
                        f.body = body;
                        out.push(Item {
                            kind: ItemKind::ForIndices(f),
                            span: it.span,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }
    (keep(items, env, &live), keep(more, env, &live))
}

/// The box of a list of positions: lowest position and extent per dimension.
fn bbox(positions: &[&Vec<i64>]) -> Option<(Vec<i64>, Vec<usize>)> {
    let first = positions.first()?;
    let nd = first.len();
    let mut lo = (*first).clone();
    let mut hi = (*first).clone();
    for p in positions {
        if p.len() != nd {
            return None;
        }
        for k in 0..nd {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let shape = (0..nd)
        .map(|k| hi[k].saturating_sub(lo[k]).saturating_add(1).max(0) as usize)
        .collect();
    Some((lo, shape))
}

impl<'a> DenseModel<'a> {
    /// Compiles a model: `setup` changes the machine before anything is sampled (as in
    /// [`super::gradcheck::run_model_with`]); `needed` prunes the statements.
    pub fn new(
        program: &Program,
        env: &'a Env,
        back: &[Item],
        loss: Option<&str>,
        setup: super::gradcheck::Setup,
        needed: Option<&Needed>,
    ) -> R<DenseModel<'a>> {
        let _ = loss;
        let mut base = Machine::new(program, env).map_err(lower_err)?;
        base.stand_in = true;
        setup(&mut base).map_err(lower_err)?;
        let (forward, backward) = match needed {
            Some(n) => prune(&program.items, back, env, n),
            None => (program.items.clone(), back.to_vec()),
        };
        let mut keys: Vec<(String, bool)> = Vec::new();
        let mut index: HashMap<(String, bool), usize> = HashMap::new();
        let mut positions: Vec<Vec<Vec<i64>>> = Vec::new();
        let mut key_of = |k: (String, bool), keys: &mut Vec<(String, bool)>| -> usize {
            if let Some(i) = index.get(&k) {
                return *i;
            }
            keys.push(k.clone());
            index.insert(k, keys.len() - 1);
            keys.len() - 1
        };
        // Values set before sampling (`at` scalars).
        let mut initial: Vec<(usize, Vec<i64>, f64)> = Vec::new();
        let mut init_keys: Vec<_> = base.vals.keys().cloned().collect();
        init_keys.sort();
        for k in init_keys {
            let i = key_of(k.clone(), &mut keys);
            for (p, v) in &base.vals[&k] {
                initial.push((i, p.clone(), *v));
            }
        }
        let mut stood_in = false;
        let mut draw_of = |base: &mut Machine, init: &Init| -> R<Draw> {
            Ok(match init {
                Init::Value(e) => Draw::Value(base.const_expr(e).map_err(lower_err)?),
                Init::Dist(c) => {
                    let mut args = Vec::new();
                    for a in &c.args {
                        args.push(base.const_expr(a).map_err(lower_err)?);
                    }
                    match (c.func.name.as_str(), args.as_slice()) {
                        ("normal", [m, v]) => Draw::Normal(*m, v.max(0.0).sqrt()),
                        ("uniform", [a, b]) => Draw::Uniform(*a, *b),
                        ("bernoulli", [p]) => Draw::Bernoulli(*p),
                        ("categorical", [n]) if *n >= 1.0 => Draw::Categorical(*n as i64),
                        ("moments", [m, s]) => {
                            stood_in = true;
                            Draw::Normal(*m, (s - m * m).max(0.0).sqrt())
                        }
                        ("symmetric", [v]) => {
                            stood_in = true;
                            Draw::Normal(0.0, v.max(0.0).sqrt())
                        }
                        (name, _) => return unsup(format!("cannot sample from `{name}`")),
                    }
                }
            })
        };
        let mut leaf_elems: Vec<DrawList> = Vec::new();
        let mut seed_elems: Vec<DrawList> = Vec::new();
        for item in &program.items {
            if let ItemKind::Decl(d) = &item.kind {
                let Some(init) = &d.init else {
                    if d.kind == DeclKind::Grad {
                        continue;
                    }
                    return unsup(format!(
                        "`{}` has no distribution or value",
                        crate::syntax::printer::print_ref(&d.target)
                    ));
                };
                let draw = draw_of(&mut base, init)?;
                let grad = d.kind == DeclKind::Grad;
                let mut els = Vec::new();
                for (member, pos) in base.decl_elements(d).map_err(lower_err)? {
                    let i = key_of((member, grad), &mut keys);
                    els.push((i, pos));
                }
                if grad {
                    seed_elems.push((draw, els));
                } else {
                    leaf_elems.push((draw, els));
                }
            }
        }
        let mut scalar_draws = Vec::new();
        for item in &program.items {
            if let ItemKind::Scalar(names) = &item.kind {
                for n in names {
                    let k = (n.name.clone(), false);
                    if !base.vals.get(&k).is_some_and(|t| t.contains_key(&vec![])) {
                        let i = key_of(k, &mut keys);
                        scalar_draws.push(i);
                    }
                }
            }
        }
        // Seeds are sampled after the scalar inputs (as in the element-wise run).
        positions.resize(keys.len(), Vec::new());
        for (i, p, _) in &initial {
            positions[*i].push(p.clone());
        }
        for (_, els) in leaf_elems.iter().chain(&seed_elems) {
            for (i, p) in els {
                positions[*i].push(p.clone());
            }
        }
        for i in &scalar_draws {
            positions[*i].push(vec![]);
        }
        let mut template = Vec::new();
        let mut total = 0usize;
        for ps in &positions {
            let refs: Vec<&Vec<i64>> = ps.iter().collect();
            let Some((lo, shape)) = bbox(&refs) else {
                return unsup("a declaration's elements have different ranks");
            };
            let n: usize = sprod(shape.iter().copied());
            total = total.saturating_add(n);
            if total > MAX_ELEMENTS {
                return refuse(format!(
                    "the dense run would store more than {MAX_ELEMENTS} values; use smaller sizes on the `sample` line"
                ));
            }
            template.push(Arr::new(lo, &shape));
        }
        for (i, p, v) in &initial {
            if let Some(off) = template[*i].offset(p) {
                template[*i].data.as_slice_mut().expect("standard layout")[off] = *v;
                template[*i].mask.as_slice_mut().expect("standard layout")[off] = true;
            }
        }
        let plan = |list: Vec<DrawList>, template: &[Arr]| {
            list.into_iter()
                .map(|(draw, els)| LeafPlan {
                    draw,
                    elements: els
                        .into_iter()
                        .filter_map(|(i, p)| template[i].offset(&p).map(|o| (i, o)))
                        .collect(),
                })
                .collect::<Vec<_>>()
        };
        let leaves = plan(leaf_elems, &template);
        let seeds = plan(seed_elems, &template);
        let seed_keys = seeds
            .iter()
            .flat_map(|p| p.elements.iter().map(|(i, _)| *i))
            .collect();
        Ok(DenseModel {
            base,
            forward,
            backward,
            keys,
            template,
            leaves,
            scalar_draws,
            seeds,
            seed_keys,
            stood_in,
            max_ops: MAX_OPS,
        })
    }

    fn sample(draw: &Draw, rng: &mut ChaCha8Rng) -> f64 {
        match draw {
            Draw::Value(v) => *v,
            Draw::Normal(m, s) => {
                let z: f64 = StandardNormal.sample(rng);
                m + s * z
            }
            Draw::Uniform(a, b) => a + (b - a) * rng.random::<f64>(),
            Draw::Bernoulli(p) => {
                if rng.random::<f64>() < *p {
                    1.0
                } else {
                    0.0
                }
            }
            Draw::Categorical(n) => rng.random_range(0..*n) as f64,
        }
    }

    /// One run with the generator seeded with `seed`: the same samples, in the same
    /// order, as the element-wise run of [`super::gradcheck::run_model_with`].
    pub fn run(&self, seed: u64) -> R<DenseRun<'a>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut arrays = self.template.clone();
        let mut ops = 0u64;
        let fill = |plans: &[LeafPlan], arrays: &mut [Arr], rng: &mut ChaCha8Rng, ops: &mut u64| {
            for lp in plans {
                // In sampling order; each run of elements of one member at once.
                for run in lp.elements.chunk_by(|a, b| a.0 == b.0) {
                    let arr = &mut arrays[run[0].0];
                    let data = arr.data.as_slice_mut().expect("standard layout");
                    let mask = arr.mask.as_slice_mut().expect("standard layout");
                    for (_, off) in run {
                        data[*off] = Self::sample(&lp.draw, rng);
                        mask[*off] = true;
                    }
                }
                *ops += lp.elements.len() as u64;
            }
        };
        fill(&self.leaves, &mut arrays, &mut rng, &mut ops);
        for i in &self.scalar_draws {
            let z: f64 = StandardNormal.sample(&mut rng);
            arrays[*i].data.as_slice_mut().expect("standard layout")[0] = z;
            arrays[*i].mask.as_slice_mut().expect("standard layout")[0] = true;
        }
        // The incoming gradients are drawn now and written after the forward program.
        let mut seeds = Vec::new();
        for lp in &self.seeds {
            for (i, off) in &lp.elements {
                seeds.push((*i, *off, Self::sample(&lp.draw, &mut rng)));
            }
        }
        let stored: usize = arrays.iter().map(Arr::len).sum();
        let mut map = HashMap::new();
        let mut seed_arrays = Vec::new();
        for (i, (k, a)) in self.keys.iter().zip(arrays).enumerate() {
            if self.seed_keys.contains(&i) {
                seed_arrays.push((i, k.clone(), a));
            } else if a.mask.iter().any(|m| *m) {
                map.insert(k.clone(), a);
            }
        }
        let mut d = Dense {
            m: self.base.clone(),
            arrays: map,
            ops,
            max_ops: self.max_ops,
            stored,
        };
        d.run_items(&self.forward, &mut Vec::new())?;
        for (i, k, mut a) in seed_arrays {
            for (si, off, v) in &seeds {
                if *si == i {
                    a.data.as_slice_mut().expect("standard layout")[*off] = *v;
                    a.mask.as_slice_mut().expect("standard layout")[*off] = true;
                }
            }
            // A seed written over a value the forward program left there replaces it.
            match d.arrays.remove(&k) {
                Some(old) => {
                    let merged = d.merge(old, a)?;
                    d.arrays.insert(k, merged);
                }
                None => {
                    d.arrays.insert(k, a);
                }
            }
        }
        d.run_items(&self.backward, &mut Vec::new())?;
        Ok(DenseRun { machine: d })
    }
}

/// The dense interpreter state.
pub struct Dense<'a> {
    /// Constants, boundary rule and the helpers of the element-wise machine.
    pub m: Machine<'a>,
    pub arrays: HashMap<(String, bool), Arr>,
    /// Operations so far.
    pub ops: u64,
    pub max_ops: u64,
    stored: usize,
}

/// How one dimension of a reference is indexed.
enum Dix {
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

fn same_ref(a: &Ref, b: &Ref) -> bool {
    crate::syntax::printer::print_ref(a) == crate::syntax::printer::print_ref(b)
}

fn is_plain(a: &Affine) -> bool {
    !(a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1))
}

impl<'a> Dense<'a> {
    fn tick(&mut self, n: u64) -> R<()> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.max_ops {
            return refuse(format!(
                "the dense run needs more than {} operations; use smaller sizes on the `sample` line",
                self.max_ops
            ));
        }
        Ok(())
    }

    fn check_alloc(&self, n: usize) -> R<()> {
        if n > MAX_ELEMENTS {
            return refuse(format!(
                "the dense run would need an array of {n} values, more than {MAX_ELEMENTS}; use smaller sizes on the `sample` line"
            ));
        }
        Ok(())
    }

    /// The tensors as an element-wise store (written elements only).
    pub fn to_store(&self) -> Store {
        let mut out: Store = HashMap::new();
        for (k, a) in &self.arrays {
            let els = a.elements();
            if !els.is_empty() {
                out.insert(k.clone(), els.into_iter().collect());
            }
        }
        out
    }

    /// `new` written over `old` (same member): the union of their boxes.
    fn merge(&mut self, old: Arr, new: Arr) -> R<Arr> {
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
    fn grow(&mut self, a: &mut Arr, lo: &[i64], hi: &[i64]) -> R<()> {
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

    fn run_items(&mut self, items: &[Item], b: &mut Bind) -> R<()> {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.statement(eq, &[], b)?,
                ItemKind::ForIndices(f) => self.for_block(f, b)?,
                ItemKind::Loop(l) => {
                    let lo = self.m.eval(&l.range.from, b).map_err(lower_err)?.round() as i64;
                    let hi = self.m.eval(&l.range.to, b).map_err(lower_err)?.round() as i64;
                    let vals: Vec<i64> = if l.reverse {
                        (lo..=hi).rev().collect()
                    } else {
                        (lo..=hi).collect()
                    };
                    for v in vals {
                        b.push((l.range.var.name.clone(), v));
                        let r = self.run_items(&l.body, b);
                        b.pop();
                        r?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn for_block(&mut self, f: &ForIndices, b: &mut Bind) -> R<()> {
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
                        if (self.m.env.key_of(&x.name), x.grad) == wk && !same_ref(&x, &w.lhs) {
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

    fn range(&self, name: &str) -> R<(i64, usize)> {
        let (lo, hi) = self.m.index_range(name).map_err(lower_err)?;
        Ok((lo, (hi - lo + 1).max(0) as usize))
    }

    fn add_axis(&self, ctx: &mut Ctx, name: &str, b: &Bind) -> R<()> {
        if ctx.has(name) || lookup(b, name).is_some() {
            return unsup(format!("index `{name}` is bound twice"));
        }
        let (lo, n) = self.range(name)?;
        ctx.axes.push((name.to_string(), lo, n));
        Ok(())
    }

    /// One equation, for every value of the block's indices and its free indices.
    fn statement(&mut self, eq: &Equation, for_vars: &[String], b: &Bind) -> R<()> {
        self.tick(STATEMENT_COST)?;
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
        let lhs_ix: Vec<IndexExpr> = eq.lhs.indices.clone().unwrap_or_default();
        let mut lhs_vars: Vec<String> = Vec::new();
        for ix in &lhs_ix {
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
        for r in &rs {
            if r.grad != eq.lhs.grad
                || self.m.env.key_of(&r.name) != self.m.env.key_of(&eq.lhs.name)
            {
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
            en = Self::offsets(std::slice::from_ref(&eq.lhs), &ctx, &lhs_vars);
            // Keep at least one index to write over.
            if en.len() >= lhs_vars.len() {
                en.clear();
            }
        }
        let mut b2 = b.clone();
        let ctx2 = Ctx {
            axes: ctx
                .axes
                .iter()
                .filter(|a| !en.contains(&a.0))
                .cloned()
                .collect(),
        };
        let lhs2: Vec<String> = lhs_vars
            .iter()
            .filter(|v| !en.contains(v))
            .cloned()
            .collect();
        let ranges: Vec<(i64, usize)> = en.iter().map(|v| ctx.get(v).unwrap_or((0, 0))).collect();
        let mut digits = vec![0usize; en.len()];
        let combos: usize = sprod(ranges.iter().map(|r| r.1));
        for c in 0..combos {
            if c > 0 {
                self.tick(STATEMENT_COST)?;
            }
            b2.truncate(b.len());
            for (k, v) in en.iter().enumerate() {
                b2.push((v.clone(), ranges[k].0 + digits[k] as i64));
            }
            let val = self.eval_summed(&eq.rhs, &b2, &ctx2, &extra)?;
            self.write(&key, &eq.lhs, &lhs_ix, eq.op, val, &b2, &ctx2, &lhs2)?;
            let shape: Vec<usize> = ranges.iter().map(|r| r.1).collect();
            bump(&mut digits, &shape);
        }
        Ok(())
    }

    /// Among `among`, the indices to bind one value at a time: in a position that adds
    /// two array indices (`x+dx`), the one with fewer values (at most 32 of them).
    fn offsets(refs: &[Ref], ctx: &Ctx, among: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        // Small arrays are cheaper gathered whole (one statement instead of one per offset).
        let size: f64 = ctx.axes.iter().map(|a| a.2 as f64).product();
        if size < 65536.0 {
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

    fn mentions_axis_ix(&self, ix: &IndexExpr, ctx: &Ctx) -> bool {
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
    fn disjoint(&mut self, r: &Ref, w: &Ref, b: &Bind, ctx: &Ctx) -> bool {
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

    fn fixed_pos(&mut self, ix: &IndexExpr, b: &Bind) -> Option<i64> {
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
    fn lhs_injective(&self, w: &Ref, ctx: &Ctx) -> bool {
        let mut seen: Vec<&str> = Vec::new();
        for ix in w.indices.iter().flatten() {
            let IndexExpr::Affine(a) = ix else {
                return false;
            };
            let axes: Vec<&str> = a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .filter(|f| ctx.has(&f.name))
                .map(|f| f.name.as_str())
                .collect();
            if axes.is_empty() {
                continue;
            }
            if axes.len() > 1 || !is_plain(a) || a.constant != 0 || seen.contains(&axes[0]) {
                return false;
            }
            seen.push(axes[0]);
        }
        ctx.axes.iter().all(|(n, _, _)| seen.contains(&n.as_str()))
    }

    /// Binding with every array index at its first value (for the element-wise helpers
    /// that only ask whether a name is bound).
    fn pseudo_bind(b: &Bind, ctx: &Ctx) -> Bind {
        let mut out = b.clone();
        for (n, lo, _) in &ctx.axes {
            out.push((n.clone(), *lo));
        }
        out
    }

    /// `Σ_extra e`: the expression summed over array indices (the `for` indices a `+=`
    /// does not write). Sums distribute over `+` and `-`.
    fn eval_summed(&mut self, e: &Expr, b: &Bind, ctx: &Ctx, extra: &[String]) -> R<Val> {
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
                let caps = self.m.term_capitals(e, &Self::pseudo_bind(b, ctx));
                let mut ctx2 = ctx.clone();
                for c in &caps {
                    self.add_axis(&mut ctx2, c, b)?;
                }
                let mut sum: Vec<String> = extra.to_vec();
                sum.extend(caps);
                self.chain(e, b, &ctx2, &sum)
            }
        }
    }

    /// An expression over the array indices in scope; capitals of each term summed.
    fn eval(&mut self, e: &Expr, b: &Bind, ctx: &Ctx) -> R<Val> {
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
                let caps = self.m.term_capitals(e, &Self::pseudo_bind(b, ctx));
                if caps.is_empty() {
                    return self.chain(e, b, ctx, &[]);
                }
                let mut ctx2 = ctx.clone();
                for c in &caps {
                    self.add_axis(&mut ctx2, c, b)?;
                }
                self.chain(e, b, &ctx2, &caps)
            }
        }
    }

    /// A term: its factors (products, quotients, negations flattened) contracted, with
    /// the indices `sum` summed.
    fn chain(&mut self, e: &Expr, b: &Bind, ctx: &Ctx, sum: &[String]) -> R<Val> {
        self.chain_into(e, b, ctx, sum, None)
    }

    /// [`Self::chain`] added to `acc` (when given): the last matrix product of each
    /// term writes into `acc` directly when it has the same indices, so the terms of a
    /// sum bound offset by offset need no temporary each.
    fn chain_into(
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
        refs_of(e, &mut rs);
        let en = Self::offsets(&rs, ctx, sum);
        if !en.is_empty() {
            let ranges: Vec<(i64, usize)> =
                en.iter().map(|v| ctx.get(v).unwrap_or((0, 0))).collect();
            let shape: Vec<usize> = ranges.iter().map(|r| r.1).collect();
            let ctx2 = Ctx {
                axes: ctx
                    .axes
                    .iter()
                    .filter(|a| !en.contains(&a.0))
                    .cloned()
                    .collect(),
            };
            let sum2: Vec<String> = sum.iter().filter(|v| !en.contains(v)).cloned().collect();
            let mut b2 = b.clone();
            let mut digits = vec![0usize; en.len()];
            let mut acc = acc;
            for _ in 0..shape.iter().product::<usize>() {
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
    fn accumulate(&mut self, acc: Option<Val>, v: Val) -> R<Val> {
        match acc {
            None => Ok(v),
            Some(mut a) if a.axes == v.axes && a.data.shape() == v.data.shape() => {
                self.tick(v.data.len() as u64)?;
                a.data += &v.data;
                Ok(a)
            }
            Some(a) => self.zip(a, v, |x, y| x + y),
        }
    }

    /// A factor of a term (anything but a product).
    fn factor(&mut self, e: &Expr, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Val> {
        self.tick(1)?;
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
                // The body is a term (its own capitals are not summed at its top).
                self.chain(body, b, &ctx2, &caps)
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

    fn truth(&mut self, e: &Expr, b: &Bind, ctx: &Ctx) -> R<Val> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let x = self.eval(l, b, ctx)?;
                let y = self.eval(r, b, ctx)?;
                let op = *op;
                self.zip(x, y, move |x, y| {
                    let t = match op {
                        RelOp::Eq => x == y,
                        RelOp::Le => x <= y,
                        RelOp::Ge => x >= y,
                        RelOp::Lt => x < y,
                        RelOp::Gt => x > y,
                        RelOp::Approx => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                    };
                    if t {
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

    fn call(&mut self, c: &Call, b: &Bind, ctx: &Ctx) -> R<Val> {
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

    fn map(&mut self, mut v: Val, f: impl Fn(f64) -> f64) -> R<Val> {
        self.tick(v.data.len() as u64)?;
        v.data.mapv_inplace(f);
        Ok(v)
    }

    /// A view of `v` over the axes `to` (a superset of its own, in that order), with
    /// length-1 axes where `v` does not vary.
    fn align<'v>(v: &'v Val, to: &[String]) -> ArrayViewD<'v, f64> {
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

    fn zip(&mut self, x: Val, y: Val, f: impl Fn(f64, f64) -> f64) -> R<Val> {
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
        self.tick(n as u64)?;
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

    /// `v` with the axes `more` added (repeated values).
    fn broadcast_to(&mut self, v: Val, more: &[String], ctx: &Ctx) -> R<Val> {
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

    fn sum_axes(&mut self, mut v: Val, which: &[String]) -> R<Val> {
        for a in which {
            if let Some(k) = v.axes.iter().position(|x| x == a) {
                self.tick(v.data.len() as u64)?;
                v.data = v.data.sum_axis(Axis(k)).into_shared();
                v.axes.remove(k);
            }
        }
        Ok(v)
    }

    /// The product of the factors, summed over `sum`: pairwise contractions, the pair
    /// with the smallest result first; added to `acc` when given.
    fn contract(
        &mut self,
        mut fs: Vec<Val>,
        sum: &[String],
        ctx: &Ctx,
        mut acc: Option<Val>,
    ) -> R<Val> {
        let size = |axes: &[String]| -> f64 {
            axes.iter()
                .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
                .product()
        };
        // A summed index no factor depends on multiplies by its number of values.
        let absent: f64 = sum
            .iter()
            .filter(|a| !fs.iter().any(|f| f.axes.contains(a)))
            .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
            .product();
        while fs.len() > 1 {
            let mut best = (0, 1, f64::INFINITY);
            for i in 0..fs.len() {
                for j in i + 1..fs.len() {
                    let mut u: Vec<String> = fs[i].axes.clone();
                    for a in &fs[j].axes {
                        if !u.contains(a) {
                            u.push(a.clone());
                        }
                    }
                    let out: Vec<String> = u
                        .into_iter()
                        .filter(|a| {
                            !sum.contains(a)
                                || fs
                                    .iter()
                                    .enumerate()
                                    .any(|(k, f)| k != i && k != j && f.axes.contains(a))
                        })
                        .collect();
                    let s = size(&out);
                    if s < best.2 {
                        best = (i, j, s);
                    }
                }
            }
            let (i, j, _) = best;
            let y = fs.remove(j);
            let x = fs.remove(i);
            let summable: Vec<String> = sum
                .iter()
                .filter(|a| !fs.iter().any(|f| f.axes.contains(a)))
                .cloned()
                .collect();
            // The last product may write into the accumulator.
            let into = if fs.is_empty() && absent == 1.0 {
                acc.take()
            } else {
                None
            };
            let r = self.pair(x, y, &summable, ctx, into)?;
            fs.push(r);
        }
        let last = fs.pop().unwrap_or_else(|| Val::scalar(1.0));
        let present: Vec<String> = sum
            .iter()
            .filter(|a| last.axes.contains(a))
            .cloned()
            .collect();
        let mut out = self.sum_axes(last, &present)?;
        if absent != 1.0 {
            out = self.map(out, |x| x * absent)?;
        }
        self.accumulate(acc, out)
    }

    /// Two factors multiplied and summed over `summable` (indices no other factor has),
    /// added to `acc` when given.
    fn pair(&mut self, x: Val, y: Val, summable: &[String], ctx: &Ctx, acc: Option<Val>) -> R<Val> {
        let only_x: Vec<String> = x
            .axes
            .iter()
            .filter(|a| summable.contains(a) && !y.axes.contains(a))
            .cloned()
            .collect();
        let only_y: Vec<String> = y
            .axes
            .iter()
            .filter(|a| summable.contains(a) && !x.axes.contains(a))
            .cloned()
            .collect();
        let x = self.sum_axes(x, &only_x)?;
        let y = self.sum_axes(y, &only_y)?;
        let k: Vec<String> = summable
            .iter()
            .filter(|a| x.axes.contains(a) && y.axes.contains(a))
            .cloned()
            .collect();
        if k.is_empty() {
            let v = self.zip(x, y, |a, b| a * b)?;
            return self.accumulate(acc, v);
        }
        // The larger operand gives the rows.
        let (x, y) = if x.data.len() >= y.data.len() {
            (x, y)
        } else {
            (y, x)
        };
        let batch: Vec<String> = x
            .axes
            .iter()
            .filter(|a| y.axes.contains(a) && !k.contains(a))
            .cloned()
            .collect();
        let xf: Vec<String> = x
            .axes
            .iter()
            .filter(|a| !y.axes.contains(a))
            .cloned()
            .collect();
        let yf: Vec<String> = y
            .axes
            .iter()
            .filter(|a| !x.axes.contains(a))
            .cloned()
            .collect();
        let len =
            |v: &[String]| -> usize { sprod(v.iter().map(|a| ctx.get(a).map_or(1, |r| r.1))) };
        let (nb, m, kk, n) = (len(&batch), len(&xf), len(&k), len(&yf));
        let ox: Vec<String> = batch.iter().chain(&xf).chain(&k).cloned().collect();
        let oy: Vec<String> = batch.iter().chain(&k).chain(&yf).cloned().collect();
        let out_n = sprod([nb, m, n].into_iter());
        let axes: Vec<String> = batch.iter().chain(&xf).chain(&yf).cloned().collect();
        let shape: Vec<usize> = axes.iter().map(|a| ctx.get(a).map_or(1, |r| r.1)).collect();
        // Written into the accumulator when it has the product's indices in its order.
        let (mut acc, mut into) = match acc {
            Some(a)
                if a.axes == axes
                    && a.data.shape() == &shape[..]
                    && a.data.is_standard_layout() =>
            {
                (None, Some(a))
            }
            other => (other, None),
        };
        if into.is_none() {
            self.check_alloc(out_n)?;
        }
        self.tick(sprod([nb, m, kk, n].into_iter()) as u64)?;
        // Copied only when the axes are not already in matrix order.
        let xv = Self::align(&x, &ox);
        let yv = Self::align(&y, &oy);
        let xa = xv.as_standard_layout();
        let ya = yv.as_standard_layout();
        let Ok(x3) = xa.view().into_shape_with_order((nb, m, kk)) else {
            return unsup("a contraction could not be reshaped");
        };
        let Ok(y3) = ya.view().into_shape_with_order((nb, kk, n)) else {
            return unsup("a contraction could not be reshaped");
        };
        if let Some(target) = into.as_mut() {
            let Some(flat) = target.data.as_slice_mut() else {
                return unsup("a contraction could not be reshaped");
            };
            let Ok(mut c) = ndarray::ArrayViewMut3::from_shape((nb, m, n), flat) else {
                return unsup("a contraction could not be reshaped");
            };
            for bi in 0..nb {
                let cv = c.index_axis_mut(Axis(0), bi);
                matmul(
                    x3.index_axis(Axis(0), bi),
                    y3.index_axis(Axis(0), bi),
                    cv,
                    1.0,
                );
            }
            return Ok(into.take().expect("set above"));
        }
        let mut c = ndarray::Array3::<f64>::zeros((nb, m, n));
        for bi in 0..nb {
            let cv = c.index_axis_mut(Axis(0), bi);
            matmul(
                x3.index_axis(Axis(0), bi),
                y3.index_axis(Axis(0), bi),
                cv,
                0.0,
            );
        }
        let Ok(data) = c.into_dyn().into_shape_with_order(IxDyn(&shape)) else {
            return unsup("a contraction could not be reshaped");
        };
        let v = Val {
            axes,
            data: data.into_shared(),
        };
        self.accumulate(acc.take(), v)
    }

    /// How each dimension of a reference is indexed.
    fn dims(&mut self, r: &Ref, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Vec<Dix>> {
        let env = self.m.env;
        let tdims: Vec<String> = env
            .tensors
            .get(&env.key_of(&r.name))
            .map(|t| t.dims.clone())
            .unwrap_or_default();
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
    fn read(&mut self, r: &Ref, b: &Bind, ctx: &Ctx, pref: &[String]) -> R<Val> {
        if r.indices.is_none() && !r.grad {
            let printed = print_name(&r.name);
            if let Some(v) = self.m.consts.get(&printed) {
                return Ok(Val::scalar(*v));
            }
            if r.name.sub.is_empty() {
                if let Some((lo, n)) = ctx.get(&r.name.base) {
                    let data = ArrayD::from_shape_fn(IxDyn(&[n]), |ix| (lo + ix[0] as i64) as f64);
                    return Ok(Val {
                        axes: vec![r.name.base.clone()],
                        data: data.into_shared(),
                    });
                }
                if let Some(v) = lookup(b, &r.name.base) {
                    return Ok(Val::scalar(v as f64));
                }
            }
        }
        for s in &r.name.sub {
            if self.mentions_axis_ix(s, ctx) {
                return unsup("a family subscript that depends on an array index");
            }
        }
        let member = self.m.member_of(&r.name, b).map_err(lower_err)?;
        let key = (member, r.grad);
        let dims = self.dims(r, b, ctx, pref)?;
        let Some(arr) = self.arrays.get(&key) else {
            return Ok(Val::scalar(0.0));
        };
        if dims.len() != arr.lo.len() {
            // Positions of another rank were never written.
            return Ok(Val::scalar(0.0));
        }
        if dims.iter().any(|d| matches!(d, Dix::Fixed(None))) {
            return Ok(Val::scalar(0.0));
        }
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
        // Fast path: plain indices inside the box: a view.
        let plain = dims.iter().all(|d| match d {
            Dix::Fixed(_) => true,
            Dix::Affine {
                c0, terms, shifted, ..
            } => *c0 == 0 && terms.len() == 1 && terms[0].1 == 1 && !shifted,
            Dix::Lookup(_) => false,
        }) && {
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
        let shape: Vec<usize> = ordered
            .iter()
            .map(|a| ctx.get(a).map_or(1, |r| r.1))
            .collect();
        let los: Vec<i64> = ordered
            .iter()
            .map(|a| ctx.get(a).map_or(0, |r| r.0))
            .collect();
        let total: usize = sprod(shape.iter().copied());
        self.check_alloc(total)?;
        self.tick(GATHER_COST.saturating_mul(total as u64))?;
        let arr = self.arrays.get(&key).expect("checked above");
        let src = arr.data.as_slice().expect("standard layout");
        let astr = strides_of(arr.data.shape());
        let boundary = self.m.boundary;
        let plan = plan_dims(&dims, &ordered);
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
        let long_run = !ordered.is_empty() && shape[ordered.len() - 1] >= 16;
        let tables = if long_run { None } else { walk.tables() };
        let run = run_dim(&plan, ordered.len().wrapping_sub(1), arr.lo.len());
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
            axes: ordered,
            data: data.into_shared(),
        })
    }

    /// Writes a value into a member at the left side's positions.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        key: &(String, bool),
        lhs: &Ref,
        lhs_ix: &[IndexExpr],
        op: AssignOp,
        val: Val,
        b: &Bind,
        ctx: &Ctx,
        lhs_vars: &[String],
    ) -> R<()> {
        let dims = self.dims(
            &Ref {
                indices: lhs.indices.clone(),
                ..lhs.clone()
            },
            b,
            ctx,
            &[],
        )?;
        let _ = lhs_ix;
        if dims.iter().any(|d| matches!(d, Dix::Lookup(_))) {
            return unsup("a left side with a looked-up position");
        }
        if dims.iter().any(|d| matches!(d, Dix::Fixed(None))) {
            return Ok(()); // the write is dropped (boundary rule)
        }
        if op == AssignOp::Set && !self.lhs_injective(lhs, ctx) {
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
            None if op != AssignOp::Set || self.lhs_injective(lhs, ctx) => {
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

    fn write_into(
        &mut self,
        arr: &mut Arr,
        dims: &[Dix],
        op: AssignOp,
        val: Val,
        ctx: &Ctx,
        lhs_vars: &[String],
    ) -> R<()> {
        let plain = dims.iter().all(|d| match d {
            Dix::Fixed(_) => true,
            Dix::Affine {
                c0, terms, shifted, ..
            } => *c0 == 0 && terms.len() == 1 && terms[0].1 == 1 && !shifted,
            Dix::Lookup(_) => false,
        }) && dims
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
        let shape: Vec<usize> = order
            .iter()
            .map(|a| ctx.get(a).map_or(1, |r| r.1))
            .collect();
        let los: Vec<i64> = order
            .iter()
            .map(|a| ctx.get(a).map_or(0, |r| r.0))
            .collect();
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
        let long_run = !order.is_empty() && shape[order.len() - 1] >= 16;
        let tables = if long_run { None } else { walk.tables() };
        match (
            &tables,
            run_dim(&plan, order.len().wrapping_sub(1), alo.len()),
        ) {
            (Some(tb), _) => {
                let mut it = bv.iter();
                tb.for_each(total, |_, off| {
                    let v = it.next().copied().unwrap_or(0.0);
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

trait PopOne {
    fn pop_one(self) -> Val;
}

impl PopOne for Vec<Val> {
    fn pop_one(mut self) -> Val {
        self.pop().unwrap_or_else(|| Val::scalar(0.0))
    }
}

/// Multiply-adds from which a matrix product is split over the machine's cores.
const PARALLEL_MACS: usize = 1 << 22;

thread_local! {
    /// Set on threads that already run one trial each (every core busy): their matrix
    /// products stay on the calling thread instead of splitting their rows.
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f(k)` for every `k` in `ks`, on `workers` threads (worker `w` takes every
/// `workers`-th trial), the results in the order of `ks`: independent trials, each seeded
/// from its own number, so the results do not depend on the number of workers. With
/// more than one worker, each worker's matrix products stay on its thread.
pub fn parallel_trials<T: Send>(
    ks: std::ops::Range<usize>,
    workers: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let n = ks.len();
    let workers = workers.clamp(1, n.max(1));
    if workers == 1 {
        return ks.map(f).collect();
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let f = &f;
        let start = ks.start;
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    serial_products(|| {
                        (w..n)
                            .step_by(workers)
                            .map(|i| (i, f(start + i)))
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(rs) => {
                    for (i, r) in rs {
                        slots[i] = Some(r);
                    }
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// The number of cores (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// Runs `f` with this thread's matrix products kept on this thread (for callers that
/// run independent trials on every core already).
pub fn serial_products<T>(f: impl FnOnce() -> T) -> T {
    let old = SERIAL.with(|c| c.replace(true));
    let out = f();
    SERIAL.with(|c| c.set(old));
    out
}

/// `c = a b`, the rows of `c` split over the available cores when the product is large.
/// Every element is computed by the same kernel over the same k order whatever the
/// split, so the result does not depend on the number of threads.
/// `dst op= src` element by element (`=`, `+=`, `-=`), over slices of one length.
fn apply(op: AssignOp, dst: &mut [f64], src: &[f64]) {
    match op {
        AssignOp::Set => dst.copy_from_slice(src),
        AssignOp::AddAssign => dst.iter_mut().zip(src).for_each(|(d, s)| *d += *s),
        AssignOp::SubAssign => dst.iter_mut().zip(src).for_each(|(d, s)| *d -= *s),
    }
}

/// `c = a b + beta c`, with the rows split over the cores when it is large enough.
fn matmul(
    a: ndarray::ArrayView2<f64>,
    b: ndarray::ArrayView2<f64>,
    mut c: ndarray::ArrayViewMut2<f64>,
    beta: f64,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let threads = if SERIAL.with(|c| c.get()) { 1 } else { cores() };
    if threads < 2 || m < 2 * threads || m.saturating_mul(k).saturating_mul(n) < PARALLEL_MACS {
        general_mat_mul(1.0, &a, &b, beta, &mut c);
        return;
    }
    let rows = m.div_ceil(threads);
    std::thread::scope(|s| {
        let mut rest_a = a;
        let mut rest_c = c;
        while rest_a.nrows() > rows {
            let (top_a, bot_a) = rest_a.split_at(Axis(0), rows);
            let (mut top_c, bot_c) = rest_c.split_at(Axis(0), rows);
            s.spawn(move || general_mat_mul(1.0, &top_a, &b, beta, &mut top_c));
            rest_a = bot_a;
            rest_c = bot_c;
        }
        general_mat_mul(1.0, &rest_a, &b, beta, &mut rest_c);
    });
}

/// A product of extents that saturates instead of overflowing (then refused as too large).
fn sprod(it: impl Iterator<Item = usize>) -> usize {
    it.fold(1usize, |a, b| a.saturating_mul(b))
}

fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * shape[k + 1];
    }
    s
}

/// A dimension's position as a function of the odometer: constant, affine in some of
/// its digits, or looked up.
enum Pd<'v> {
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

fn plan_dims<'v>(dims: &'v [Dix], order: &[String]) -> Vec<Pd<'v>> {
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
fn run_dim(plan: &[Pd], inner: usize, nd: usize) -> Option<usize> {
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
struct Walk<'w> {
    plan: &'w [Pd<'w>],
    shape: &'w [usize],
    los: &'w [i64],
    alo: &'w [i64],
    ashape: &'w [usize],
    astr: &'w [usize],
    boundary: Option<Boundary>,
}

impl Walk<'_> {
    /// Dimension `d`'s position before the boundary rule, for an affine dimension (0
    /// for the others).
    fn raw_pos(&self, d: usize, idx: &[usize]) -> i64 {
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
    fn dim_offset(&self, d: usize, idx: &[usize]) -> Option<usize> {
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
    fn locate_except(&self, idx: &[usize], skip: &[usize]) -> Option<usize> {
        let mut off = 0usize;
        for d in 0..self.plan.len() {
            if !skip.contains(&d) {
                off += self.dim_offset(d, idx)?;
            }
        }
        Some(off)
    }

    /// The flat offset of the element the odometer points at, or `None` (reads 0 / dropped).
    fn locate(&self, idx: &[usize]) -> Option<usize> {
        self.locate_except(idx, &[])
    }

    /// The offset of a run's row (every dimension but `k`) and the raw position in `k` at
    /// the run's first step; `None` when the row lies outside.
    fn locate_run(&self, idx: &[usize], k: usize) -> Option<(usize, i64)> {
        Some((self.locate_except(idx, &[k])?, self.raw_pos(k, idx)))
    }

    fn tables(&self) -> Option<Tables> {
        Tables::new(
            self.plan,
            self.shape,
            self.los,
            self.alo,
            self.ashape,
            self.astr,
            self.boundary,
        )
    }

    /// Calls `f(row, located)` for every row of the odometer (every combination of its
    /// digits but the last, in order), with `located` as [`Self::locate_run`] gives it
    /// for that row, the run along storage dimension `k`. When the second-to-last digit
    /// moves one storage row at a time ([`block_dim`]), the other dimensions are located
    /// once per block of rows instead of once per row.
    fn rows(&self, k: usize, mut f: impl FnMut(usize, Option<(usize, i64)>)) {
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

enum Span {
    /// Steps a..b read or write consecutive stored positions.
    Range(usize, usize),
    /// Positions wrap: step by step.
    Each,
}

fn run_span(pd: &Pd, p0: i64, n: usize, lo: i64, len: usize, boundary: Option<Boundary>) -> Span {
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
fn run_pos(pd: &Pd, p: i64, lo: i64, len: usize, boundary: Option<Boundary>) -> Option<usize> {
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
struct Tables {
    tabs: Vec<Vec<Option<usize>>>,
    /// tstride[digit][dim]
    tstride: Vec<Vec<usize>>,
    shape: Vec<usize>,
}

impl Tables {
    #[allow(clippy::too_many_arguments)]
    fn new(
        plan: &[Pd],
        shape: &[usize],
        los: &[i64],
        alo: &[i64],
        ashape: &[usize],
        astr: &[usize],
        boundary: Option<Boundary>,
    ) -> Option<Tables> {
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
        Some(Tables {
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

fn bump(idx: &mut [usize], shape: &[usize]) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < shape[k] {
            return;
        }
        idx[k] = 0;
    }
}

/// Runs a model densely once (forward, then the derived backward program), with the
/// same samples as [`super::gradcheck::run_model_with`].
pub fn run_model_dense<'a>(
    program: &Program,
    env: &'a Env,
    back: &[Item],
    loss: Option<&str>,
    seed: u64,
    setup: super::gradcheck::Setup,
) -> R<DenseRun<'a>> {
    DenseModel::new(program, env, back, loss, setup, None)?.run(seed)
}

/// Which tensors a stored key belongs to, for tests and reports.
pub fn store_keys(s: &Store) -> BTreeMap<(String, bool), usize> {
    s.iter().map(|(k, v)| (k.clone(), v.len())).collect()
}
