//! The model compiled for dense trials ([`DenseModel`]): the statements pruned to those
//! the tensors asked for depend on, the members' boxes, and the sampling plan of the
//! leaves, scalar inputs and incoming gradients; one run ([`DenseModel::run`]) samples
//! them from a seeded generator in the element-wise run's order and executes.

use super::{lower_err, refs_of, refuse, sprod, unsup, Arr, Dense, MAX_OPS, R};
use crate::check::Env;
use crate::num::{DeclMember, Machine, MAX_ELEMENTS};
use crate::syntax::ast::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeSet, HashMap};

/// A sampled declaration: its distribution and the elements it covers.
#[derive(Clone, Debug, PartialEq)]
enum Draw {
    Value(f64),
    Normal(f64, f64),
    Uniform(f64, f64),
    Bernoulli(f64),
    Categorical(i64),
}

/// A declaration's distribution and its members: (member key, the member's box).
type DrawList = (Draw, Vec<(usize, DeclMember)>);

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
    /// Scalar inputs with no value, drawn in each trial (inside their domains).
    scalar_draws: Vec<(usize, String)>,
    seeds: Vec<LeafPlan>,
    seed_keys: BTreeSet<usize>,
    /// The equations of the statements kept (a bound on the members a run adds).
    writes: usize,
    /// Whether a distribution given only by moments or symmetry is sampled as a normal.
    pub stood_in: bool,
    pub max_ops: u64,
    /// The statements' plans, made by the first trial and read by the others.
    plans: std::sync::Arc<super::statement::Plans>,
    /// The element type of the runs' matrix products (f64 unless set).
    pub precision: super::Precision,
}

/// The tensors after a dense run.
pub struct DenseRun<'a> {
    pub machine: Dense<'a>,
}

/// (family key, grad) pairs of every tensor the statements kept must compute.
pub type Needed = BTreeSet<(String, bool)>;

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
                crate::syntax::visit::walk_ref(&eq.lhs, &mut |r| rs.push(r));
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

impl<'a> DenseModel<'a> {
    /// Compiles a model: `setup` changes the machine before anything is sampled (as in
    /// [`crate::num::gradcheck::run_model_with`]); `needed` prunes the statements.
    pub fn new(
        program: &Program,
        env: &'a Env,
        back: &[Item],
        loss: Option<&str>,
        setup: crate::num::gradcheck::Setup,
        needed: Option<&Needed>,
    ) -> R<DenseModel<'a>> {
        Self::new_within(program, env, back, loss, setup, needed, MAX_OPS)
    }

    /// [`DenseModel::new`], refused (before any leaf is enumerated) when what a run costs
    /// before its first statement, its sampled values and member arrays, is over
    /// `max_ops`: a run with at most `max_ops` operations could not even sample them
    /// ([`DenseModel::run_within`] would stop it at its first statement).
    pub fn new_within(
        program: &Program,
        env: &'a Env,
        back: &[Item],
        loss: Option<&str>,
        setup: crate::num::gradcheck::Setup,
        needed: Option<&Needed>,
        max_ops: u64,
    ) -> R<DenseModel<'a>> {
        let _ = loss;
        let mut base = Machine::before_sizes(program, env).map_err(lower_err)?;
        base.stand_in = true;
        setup(&mut base).map_err(lower_err)?;
        base.require_sizes().map_err(lower_err)?;
        let (forward, backward) = match needed {
            Some(n) => prune(&program.items, back, env, n),
            None => (program.items.clone(), back.to_vec()),
        };
        let mut keys: Vec<(String, bool)> = Vec::new();
        let mut index: HashMap<(String, bool), usize> = HashMap::new();
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
        let mut draw_of = |base: &mut Machine, init: &Init, b: &super::super::Bind| -> R<Draw> {
            Ok(match init {
                Init::Value(e) => Draw::Value(base.eval(e, b).map_err(lower_err)?),
                Init::Dist(c) => {
                    let mut args = Vec::new();
                    for a in &c.args {
                        args.push(base.eval(a, b).map_err(lower_err)?);
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
        // The members each declaration covers, as boxes of values per dimension: their
        // elements are counted, and the run refused, before any is enumerated (60
        // settings at large given sizes each enumerated 800,000 leaves one by one,
        // 5 s in all, only for the first trial to find the setting over its budget).
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
                let grad = d.kind == DeclKind::Grad;
                let list = if grad {
                    &mut seed_elems
                } else {
                    &mut leaf_elems
                };
                let args: &[Expr] = match init {
                    Init::Value(e) => std::slice::from_ref(e),
                    Init::Dist(c) => &c.args,
                };
                // The parameters below are evaluated once, before any trial: one that
                // reads a tensor (a computed one, or a leaf drawn in each trial) is the
                // interpreter's, which draws it after that tensor has its values
                // (`Machine::draw_pending`; probe32/a w46: read here as 0).
                let own = env.key_of(&d.target.name);
                if let Some(t) = crate::num::leaves::tensor_reads(env, init, &own).first() {
                    return unsup(format!(
                        "the distribution of `{}` reads the tensor `{t}`",
                        crate::syntax::printer::print_ref(&d.target)
                    ));
                }
                if !grad && base.element_wise(d, args) {
                    // Parameters that read the family variable or the declared indices
                    // (`normal(0, (1 + c l)/J) for l in 1..L`): a draw per element, in the
                    // element order of the element-wise run; a run of elements with the
                    // same parameters (one family member) shares one list.
                    for (member, pos, b) in base.decl_element_binds(d).map_err(lower_err)? {
                        let draw = draw_of(&mut base, init, &b)?;
                        let i = key_of((member.clone(), grad), &mut keys);
                        let one = DeclMember {
                            member,
                            axes: pos.iter().map(|&p| vec![p]).collect(),
                            fam: None,
                        };
                        match list.last_mut() {
                            Some((last, els)) if *last == draw && !els.is_empty() => {
                                els.push((i, one))
                            }
                            _ => list.push((draw, vec![(i, one)])),
                        }
                    }
                    continue;
                }
                // A scalar leaf a claim's given sets: that value (as the interpreter's
                // `Machine::set_scalar_leaf`; crit43).
                let draw = match base.set_scalar_leaf(d) {
                    Some(v) if !grad => Draw::Value(v),
                    _ => draw_of(&mut base, init, &Vec::new())?,
                };
                let mut els = Vec::new();
                for m in base.decl_members(d).map_err(lower_err)? {
                    if m.elements() == 0 {
                        continue;
                    }
                    let i = key_of((m.member.clone(), grad), &mut keys);
                    els.push((i, m));
                }
                list.push((draw, els));
            }
        }
        let mut scalar_draws = Vec::new();
        for item in &program.items {
            if let ItemKind::Scalar(names) = &item.kind {
                for n in names {
                    let k = (n.name.clone(), false);
                    if !base.vals.get(&k).is_some_and(|t| t.contains_key(&vec![])) {
                        let i = key_of(k, &mut keys);
                        scalar_draws.push((i, n.name.clone()));
                    }
                }
            }
        }
        // What a run costs before its first statement, every leaf sampled and every
        // member array set up (as [`DenseModel::run_within`] counts them): over
        // `max_ops`, the run is refused here, from the counts.
        let sampled = leaf_elems
            .iter()
            .flat_map(|(_, els)| els.iter().map(|(_, m)| m.elements() as u64))
            .fold(0u64, u64::saturating_add);
        let before_statements = (keys.len() as u64)
            .saturating_sub(super::FREE_MEMBERS)
            .saturating_mul(super::MEMBER_COST)
            .saturating_add(sampled);
        if before_statements > max_ops {
            return refuse(format!(
                "the dense run needs more than {max_ops} operations ({sampled} values to sample); use smaller sizes on the `sample` line"
            ));
        }
        // Each member's box: the lowest and highest position per dimension of the values
        // set before sampling, the elements sampled and the scalar draws.
        let mut boxes: Vec<Option<(Vec<i64>, Vec<i64>)>> = vec![None; keys.len()];
        let mut ranks_differ = false;
        let mut widen = |i: usize, lo: &[i64], hi: &[i64]| match &mut boxes[i] {
            None => boxes[i] = Some((lo.to_vec(), hi.to_vec())),
            Some((l, h)) if l.len() == lo.len() => {
                for k in 0..lo.len() {
                    l[k] = l[k].min(lo[k]);
                    h[k] = h[k].max(hi[k]);
                }
            }
            Some(_) => ranks_differ = true,
        };
        for (i, p, _) in &initial {
            widen(*i, p, p);
        }
        for (_, els) in leaf_elems.iter().chain(&seed_elems) {
            for (i, m) in els {
                let lo: Vec<i64> = m
                    .axes
                    .iter()
                    .map(|a| a.iter().copied().min().unwrap_or(0))
                    .collect();
                let hi: Vec<i64> = m
                    .axes
                    .iter()
                    .map(|a| a.iter().copied().max().unwrap_or(0))
                    .collect();
                widen(*i, &lo, &hi);
            }
        }
        for (i, _) in &scalar_draws {
            widen(*i, &[], &[]);
        }
        if ranks_differ {
            return unsup("a declaration's elements have different ranks");
        }
        let mut shapes = Vec::with_capacity(boxes.len());
        let mut total = 0usize;
        for bx in boxes {
            let Some((lo, hi)) = bx else {
                return unsup("a declaration's elements have different ranks");
            };
            let shape: Vec<usize> = lo
                .iter()
                .zip(&hi)
                .map(|(l, h)| h.saturating_sub(*l).saturating_add(1).max(0) as usize)
                .collect();
            total = total.saturating_add(sprod(shape.iter().copied()));
            if total > MAX_ELEMENTS {
                return refuse(format!(
                    "the dense run would store more than {MAX_ELEMENTS} values; use smaller sizes on the `sample` line"
                ));
            }
            shapes.push((lo, shape));
        }
        let mut template: Vec<Arr> = shapes
            .into_iter()
            .map(|(lo, shape)| Arr::new(lo, &shape))
            .collect();
        for (i, p, v) in &initial {
            if let Some(off) = template[*i].offset(p) {
                template[*i].data.as_slice_mut().expect("standard layout")[off] = *v;
                template[*i].mask.as_slice_mut().expect("standard layout")[off] = true;
            }
        }
        let plan = |list: Vec<DrawList>, template: &[Arr]| {
            list.into_iter()
                .map(|(draw, els)| {
                    let mut elements = Vec::new();
                    for (i, m) in els {
                        m.for_each_position(|p| {
                            if let Some(o) = template[i].offset(p) {
                                elements.push((i, o));
                            }
                        });
                    }
                    LeafPlan { draw, elements }
                })
                .collect::<Vec<_>>()
        };
        let leaves = plan(leaf_elems, &template);
        let seeds = plan(seed_elems, &template);
        let seed_keys = seeds
            .iter()
            .flat_map(|p| p.elements.iter().map(|(i, _)| *i))
            .collect();
        fn equations(items: &[Item]) -> usize {
            items
                .iter()
                .map(|it| match &it.kind {
                    ItemKind::Equation(_) => 1,
                    ItemKind::Loop(l) => equations(&l.body),
                    ItemKind::ForIndices(f) => equations(&f.body),
                    _ => 0,
                })
                .sum()
        }
        let writes = equations(&forward) + equations(&backward);
        Ok(DenseModel {
            writes,
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
            plans: Default::default(),
            precision: super::Precision::F64,
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
    /// order, as the element-wise run of [`crate::num::gradcheck::run_model_with`].
    pub fn run(&self, seed: u64) -> R<DenseRun<'a>> {
        self.run_within(seed, self.max_ops)
    }

    /// [`DenseModel::run`], refused past `max_ops` operations (at most the model's own
    /// limit): a run that only has to show whether a trial fits a budget stops there.
    pub fn run_within(&self, seed: u64, max_ops: u64) -> R<DenseRun<'a>> {
        let max_ops = max_ops.min(self.max_ops);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut arrays = self.template.clone();
        // Each member array's fixed cost in a run (cloned from the template, kept in the
        // run's map, read for the trial's statistics, dropped), past the first
        // [`super::FREE_MEMBERS`].
        let mut ops = (self.template.len() as u64)
            .saturating_sub(super::FREE_MEMBERS)
            .saturating_mul(super::MEMBER_COST);
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
        for (i, name) in &self.scalar_draws {
            let z: f64 = StandardNormal.sample(&mut rng);
            let z = crate::num::leaves::free_scalar_value(self.base.env, name, z);
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
        // (Sized for the members sampled and those the statements write, so that it is
        // not grown and rehashed in every trial.)
        let mut map = crate::num::hash::FastMap::with_capacity_and_hasher(
            self.keys.len() + self.writes,
            Default::default(),
        );
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
            plan_ops: 0,
            max_ops,
            stored,
            statement_ops: 0,
            plans: Some(self.plans.clone()),
            precision: self.precision,
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
