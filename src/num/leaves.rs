//! The leaves of a program: the elements a declaration covers, and their values drawn
//! from the declared distributions (or values) before a run.

use super::{err, lookup, too_large, too_many_elements, Bind, Machine, NumError, MAX_ELEMENTS};
use crate::syntax::ast::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeMap, BTreeSet};

/// One element of a declaration: its member, its position, and the value of the
/// declaration's family variable where it has one.
type DeclElement = (String, Vec<i64>, Option<i64>);

/// One member of a declaration ([`Machine::decl_members`]): its name, the values each
/// dimension takes (its elements are their product), and the value of the declaration's
/// family variable where it has one.
pub struct DeclMember {
    pub member: String,
    pub axes: Vec<Vec<i64>>,
    pub fam: Option<i64>,
}

impl DeclMember {
    /// The number of elements (saturating).
    pub fn elements(&self) -> usize {
        self.axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.len()))
            .unwrap_or(usize::MAX)
    }

    /// `f` at every position of the member, the last dimension fastest (the order in
    /// which the leaves are sampled); nothing when a dimension takes no value.
    pub fn for_each_position(&self, mut f: impl FnMut(&[i64])) {
        if self.axes.iter().any(|a| a.is_empty()) {
            return;
        }
        let mut pos = vec![0usize; self.axes.len()];
        let mut at: Vec<i64> = self.axes.iter().map(|a| a[0]).collect();
        'outer: loop {
            f(&at);
            for k in (0..self.axes.len()).rev() {
                pos[k] += 1;
                if pos[k] < self.axes[k].len() {
                    at[k] = self.axes[k][pos[k]];
                    continue 'outer;
                }
                pos[k] = 0;
                at[k] = self.axes[k][0];
            }
            break;
        }
    }
}

impl Machine<'_> {
    /// Every element a declaration covers: (member, position) pairs.
    pub fn decl_elements(&mut self, d: &Decl) -> Result<Vec<(String, Vec<i64>)>, NumError> {
        Ok(self
            .decl_elements_in(d)?
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect())
    }

    /// [`Machine::decl_elements`], each with the value of the declaration's family
    /// variable (`l` of `W_{l}[...] for l in ...`) where it has one.
    fn decl_elements_in(&mut self, d: &Decl) -> Result<Vec<DeclElement>, NumError> {
        let members = self.decl_members(d)?;
        // Counted before they are listed (about 100 bytes each): a declaration the run
        // could not store is refused here, not after the list is made (`tq emit`'s run
        // for the extents stores at most `emit::EXTENTS_ELEMENTS`; session 35).
        let max = self.max_elements.min(MAX_ELEMENTS);
        let total = members
            .iter()
            .fold(self.elements, |acc, m| acc.saturating_add(m.elements()));
        if total > max {
            return Err(too_many_elements(max));
        }
        let mut out = Vec::new();
        for m in members {
            m.for_each_position(|pos| out.push((m.member.clone(), pos.to_vec(), m.fam)));
        }
        Ok(out)
    }

    /// The members a declaration covers, each with the values its dimensions take,
    /// without enumerating their elements: a caller counts the elements
    /// ([`DeclMember::elements`]) and refuses before it enumerates them (the dense
    /// executor's model, `num::dense::DenseModel::new_within`). A member over
    /// [`MAX_ELEMENTS`] elements is refused here, from the lengths.
    pub fn decl_members(&mut self, d: &Decl) -> Result<Vec<DeclMember>, NumError> {
        let mut out = Vec::new();
        let mut b: Bind = Vec::new();
        let fam: Vec<i64> = match &d.family {
            Some(r) => {
                let lo = self.eval(&r.from, &b)?.round() as i64;
                let hi = self.eval(&r.to, &b)?.round() as i64;
                if (hi as i128) - (lo as i128) >= MAX_ELEMENTS as i128 {
                    return err(format!(
                        "the family range of `{}` has more than {MAX_ELEMENTS} members",
                        r.var.name
                    ));
                }
                (lo..=hi).collect()
            }
            None => vec![0],
        };
        for fv in fam {
            if let Some(r) = &d.family {
                b = vec![(r.var.name.clone(), fv)];
            }
            let member = self.member(&d.target.name, &b)?;
            // Per dimension: the values it takes.
            let mut axes: Vec<Vec<i64>> = Vec::new();
            if d.target.indices.is_none() {
                // `grad L_L ~ ...`: every element of the tensor as defined.
                let key = self.env.key_of(&d.target.name);
                let dims = self
                    .env
                    .tensors
                    .get(&key)
                    .map(|t| t.dims.clone())
                    .unwrap_or_default();
                for dim in dims {
                    if let Some(c) = dim.strip_prefix('@').and_then(|c| c.parse::<i64>().ok()) {
                        axes.push(vec![c]);
                    } else if let Some(n) = self.consts.get(&dim) {
                        axes.push((0..*n as i64).collect());
                    } else {
                        return err(format!(
                            "cannot enumerate the elements of `{member}` (dimension `{dim}`); declare it with indices"
                        ));
                    }
                }
            }
            for ix in d.target.indices.iter().flatten() {
                let vals = match ix {
                    IndexExpr::Affine(a) if a.terms.is_empty() => vec![a.constant],
                    IndexExpr::Affine(a)
                        if a.terms.len() == 1
                            && a.terms[0].factors.len() == 1
                            && a.constant == 0 =>
                    {
                        let n = &a.terms[0].factors[0].name;
                        if let Some(v) = lookup(&b, n) {
                            vec![v]
                        } else if self.env.sizes.contains_key(n) {
                            let s = self.consts.get(n).copied().unwrap_or(0.0) as i64;
                            (0..s).collect()
                        } else {
                            let (lo, hi) = self.index_range(n)?;
                            (lo..=hi).collect()
                        }
                    }
                    _ => vec![self.index(ix, &b)?],
                };
                axes.push(vals);
            }
            let total = axes
                .iter()
                .try_fold(1usize, |acc, a| acc.checked_mul(a.len()))
                .unwrap_or(usize::MAX);
            if total > self.max_elements.min(MAX_ELEMENTS) {
                return too_large(format!(
                    "`{member}` would have {total} elements; use smaller sizes on the `sample` line"
                ));
            }
            out.push(DeclMember {
                member,
                axes,
                fam: d.family.as_ref().map(|_| fv),
            });
        }
        Ok(out)
    }

    /// Every element a declaration covers, each with the names its parameters may read
    /// bound there (the family variable, the plain index names).
    pub(crate) fn decl_element_binds(
        &mut self,
        d: &Decl,
    ) -> Result<Vec<(String, Vec<i64>, Bind)>, NumError> {
        Ok(self
            .decl_elements_in(d)?
            .into_iter()
            .map(|(m, p, fam)| {
                let b = decl_bind(d, &p, fam);
                (m, p, b)
            })
            .collect())
    }

    /// Whether a declaration's parameters differ by element: they read its family
    /// variable or an index of its target, or cannot be evaluated once for all.
    /// A parameter that names the family variable or an index is element-wise even where
    /// a value of that name exists elsewhere (a symbol `l` at a claim's point):
    /// `normal(0, (1 + c l)/J) for l in 1..L` was drawn with one `l` for every member
    /// (probe30/c f10).
    pub(crate) fn element_wise(&mut self, d: &Decl, args: &[Expr]) -> bool {
        let bound = decl_bind_names(d);
        args.iter().any(|a| {
            let mut reads_bound = false;
            crate::syntax::visit::walk_refs(a, &mut |r| {
                reads_bound |= r.indices.is_none()
                    && r.name.sub.is_empty()
                    && bound.contains(&r.name.base.as_str());
            });
            reads_bound || self.const_expr(a).is_err()
        })
    }

    /// Samples one value of a declaration's initializer.
    pub fn draw(&mut self, init: &Init, rng: &mut ChaCha8Rng) -> Result<f64, NumError> {
        self.draw_in(init, rng, &Vec::new())
    }

    /// [`Machine::draw`] with the declaration's indices bound (element-wise parameters,
    /// `gtilde[i] ~ bernoulli((g[i] - b)/a)`).
    fn draw_in(&mut self, init: &Init, rng: &mut ChaCha8Rng, b: &Bind) -> Result<f64, NumError> {
        match init {
            Init::Value(e) => self.eval(e, b),
            Init::Dist(c) => {
                let mut args = Vec::new();
                for a in &c.args {
                    args.push(self.eval(a, b)?);
                }
                match (c.func.name.as_str(), args.as_slice()) {
                    ("normal", [_, v]) if self.small_integers && *v > 0.0 => {
                        Ok(rng.random_range(-2i64..=2) as f64)
                    }
                    ("normal", [m, v]) => {
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(m + v.max(0.0).sqrt() * z)
                    }
                    ("uniform", [a, b]) => Ok(a + (b - a) * rng.random::<f64>()),
                    ("bernoulli", [p]) => Ok(if rng.random::<f64>() < *p { 1.0 } else { 0.0 }),
                    ("categorical", [n]) if *n >= 1.0 => {
                        Ok(rng.random_range(0..(*n as i64)) as f64)
                    }
                    ("moments", [m, s]) if self.stand_in => {
                        self.stood_in = true;
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(m + (s - m * m).max(0.0).sqrt() * z)
                    }
                    ("symmetric", [v]) if self.stand_in => {
                        self.stood_in = true;
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(v.max(0.0).sqrt() * z)
                    }
                    (name, _) => err(format!("cannot sample from `{name}`")),
                }
            }
        }
    }

    /// Samples every `param` and `input` declaration (the leaves of the program): those
    /// whose distribution reads only values at hand first, in the order of the file, then
    /// those that read a computed tensor or a leaf declared after them
    /// ([`Machine::draw_pending`]).
    pub fn sample_leaves(
        &mut self,
        program: &Program,
        rng: &mut ChaCha8Rng,
    ) -> Result<(), NumError> {
        self.sample_ready_leaves(program, rng)?;
        self.draw_pending(program)
    }

    /// The first part of [`Machine::sample_leaves`]: the leaves whose distribution reads
    /// only sizes, symbols, scalars, its own indices and leaves drawn before it. The
    /// others wait for [`Machine::draw_pending`], drawn from a generator of their own
    /// seeded from `rng` (one number taken from it, only when some leaf waits: the draws
    /// of every other file are unchanged).
    pub fn sample_ready_leaves(
        &mut self,
        program: &Program,
        rng: &mut ChaCha8Rng,
    ) -> Result<(), NumError> {
        let mut drawn: BTreeSet<String> = BTreeSet::new();
        let mut waiting: Vec<Decl> = Vec::new();
        for item in &program.items {
            if let ItemKind::Decl(d) = &item.kind {
                if d.kind == DeclKind::Grad {
                    continue;
                }
                let key = self.env.key_of(&d.target.name);
                let Some(init) = &d.init else {
                    if self.arbitrary_inputs {
                        for (member, pos) in self.decl_elements(d)? {
                            let z: f64 = if self.small_integers {
                                rng.random_range(-2i64..=2) as f64
                            } else {
                                StandardNormal.sample(rng)
                            };
                            self.set((member, false), pos, z)?;
                        }
                        drawn.insert(key);
                        continue;
                    }
                    return err(format!(
                        "`{}` has no distribution or value to run it with",
                        crate::syntax::printer::print_ref(&d.target)
                    ));
                };
                // A distribution that reads a tensor no statement has computed yet, or a
                // leaf not drawn yet, waits: read now, its value would be 0 (probe32/a
                // w46: `x[b,k] ~ normal(0, g[k])` with `g[k] = 2` was drawn with
                // variance 0).
                // So does one that reads a scalar input with no value yet (the gradient
                // check gives those a random value after this first part).
                if tensor_reads(self.env, init, &key)
                    .iter()
                    .any(|r| !drawn.contains(r))
                    || self.reads_unset_scalar(init)
                {
                    waiting.push(d.clone());
                    continue;
                }
                self.draw_decl(d, init, rng)?;
                drawn.insert(key);
            }
        }
        if !waiting.is_empty() {
            self.pending = Some(Box::new(Pending {
                decls: waiting,
                rng: ChaCha8Rng::seed_from_u64(rng.random()),
            }));
        }
        Ok(())
    }

    /// Draws every element of one declaration from its distribution.
    fn draw_decl(&mut self, d: &Decl, init: &Init, rng: &mut ChaCha8Rng) -> Result<(), NumError> {
        // Parameters that read the declaration's indices or family variable are
        // evaluated element by element with them bound.
        let args: &[Expr] = match init {
            Init::Value(e) => std::slice::from_ref(e),
            Init::Dist(c) => &c.args,
        };
        // A scalar leaf a claim's given sets (`given a == 2`, a value of the run's
        // constants): that value, drawn from nothing (crit43, probe43 r22: the
        // statements read the constant and a moment of the leaf itself its draw).
        if let Some(v) = self.set_scalar_leaf(d) {
            for (member, pos, _) in self.decl_elements_in(d)? {
                self.set((member, false), pos, v)?;
            }
            return Ok(());
        }
        let element_wise = self.element_wise(d, args);
        for (member, pos, fam) in self.decl_elements_in(d)? {
            let v = if element_wise {
                let b = decl_bind(d, &pos, fam);
                self.draw_in(init, rng, &b)?
            } else {
                self.draw(init, rng)?
            };
            self.set((member, false), pos, v)?;
        }
        Ok(())
    }

    /// The value the run's constants give a scalar leaf (no indices, no family
    /// variable): a claim's given that sets it (`given a == 2`); the interpreter and the
    /// dense executor both read it in place of a draw.
    pub(crate) fn set_scalar_leaf(&self, d: &Decl) -> Option<f64> {
        if d.target.indices.is_some() || d.family.is_some() || d.kind == DeclKind::Grad {
            return None;
        }
        self.consts
            .get(&crate::syntax::printer::print_name(&d.target.name))
            .copied()
    }

    /// Draws the leaves [`Machine::sample_ready_leaves`] left waiting, in rounds: in each,
    /// the forward program runs on a copy of the machine, and every waiting leaf whose
    /// distribution reads only leaves already drawn and computed tensors that depend on no
    /// waiting leaf is drawn with its arguments read from that run. A leaf whose
    /// distribution reads (through the statements) a leaf that waits on it is an error:
    /// the order is circular.
    pub fn draw_pending(&mut self, program: &Program) -> Result<(), NumError> {
        let Some(mut pending) = self.pending.take() else {
            return Ok(());
        };
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        statement_reads(self.env, &program.items, &mut deps);
        while !pending.decls.is_empty() {
            let waiting: BTreeSet<String> = pending
                .decls
                .iter()
                .map(|d| self.env.key_of(&d.target.name))
                .collect();
            let ready: Vec<usize> = (0..pending.decls.len())
                .filter(|&i| {
                    let d = &pending.decls[i];
                    let key = self.env.key_of(&d.target.name);
                    d.init.as_ref().is_some_and(|init| {
                        tensor_reads(self.env, init, &key)
                            .iter()
                            .all(|r| !reaches(&deps, r, &waiting))
                    })
                })
                .collect();
            if ready.is_empty() {
                let d = &pending.decls[0];
                return err(format!(
                    "the distribution of `{}` reads a value that depends on `{}` itself (or on \
                     another leaf that waits for it): the leaves cannot be drawn in any order",
                    crate::syntax::printer::print_ref(&d.target),
                    crate::syntax::printer::print_name(&d.target.name)
                ));
            }
            let mut run = self.clone();
            run.run_items(&program.items, &mut Vec::new())?;
            for &i in &ready {
                let d = &pending.decls[i];
                let Some(init) = &d.init else { continue };
                // Drawn on the run, whose arguments read its computed values, and kept
                // here: the leaf's elements only.
                run.draw_decl(d, init, &mut pending.rng)?;
                for (member, pos) in run.decl_elements(d)? {
                    let v = run.stored(&member, false, &pos);
                    self.set((member, false), pos, v)?;
                }
            }
            self.stood_in |= run.stood_in;
            self.steps = self.steps.max(run.steps);
            let mut k = 0;
            pending.decls.retain(|_| {
                k += 1;
                !ready.contains(&(k - 1))
            });
        }
        Ok(())
    }
}

/// The leaves [`Machine::sample_ready_leaves`] left waiting and their generator.
#[derive(Clone)]
pub(crate) struct Pending {
    decls: Vec<Decl>,
    rng: ChaCha8Rng,
}

/// The tensors (keys of `env.tensors`, families by their family key) a declaration's
/// distribution or value reads, other than the declared tensor itself.
pub fn tensor_reads(env: &crate::check::Env, init: &Init, own: &str) -> BTreeSet<String> {
    let args: &[Expr] = match init {
        Init::Value(e) => std::slice::from_ref(e),
        Init::Dist(c) => &c.args,
    };
    let mut out = BTreeSet::new();
    for a in args {
        crate::syntax::visit::walk_refs(a, &mut |r| {
            let k = env.key_of(&r.name);
            if k != own && env.tensors.contains_key(&k) {
                out.insert(k);
            }
        });
    }
    out
}

/// The value of a scalar input the file gives none (the gradient check's and the trials'
/// random draw), from a standard normal `z`: `z` itself when the symbol's domain is every
/// real, else moved inside its domain, away from its ends (issue 14: a parameter of
/// `bernoulli(p)` is in (0, 1], so `p` is drawn in [1/4, 3/4]; a positive one is
/// 1/2 + |z| above its lower end). One normal per scalar either way: the draws of every
/// other value are unchanged.
pub fn free_scalar_value(env: &crate::check::Env, name: &str, z: f64) -> f64 {
    use num_traits::ToPrimitive;
    let Some(d) = env.domains.get(name).or_else(|| env.leaf_domains.get(name)) else {
        return z;
    };
    let end = |b: &Option<(num_rational::BigRational, bool)>| {
        b.as_ref()
            .and_then(|(v, _)| v.to_f64())
            .filter(|v| v.is_finite())
    };
    match (end(&d.lo), end(&d.hi)) {
        (Some(lo), Some(hi)) if lo < hi => lo + (hi - lo) * (0.5 + 0.25 * z.tanh()),
        (Some(lo), Some(_)) => lo,
        (Some(lo), None) => lo + 0.5 + z.abs(),
        (None, Some(hi)) => hi - 0.5 - z.abs(),
        (None, None) => z,
    }
}

impl Machine<'_> {
    /// Whether a declaration's distribution or value reads a scalar input (no equation
    /// defines it) that has no value yet.
    fn reads_unset_scalar(&self, init: &Init) -> bool {
        let args: &[Expr] = match init {
            Init::Value(e) => std::slice::from_ref(e),
            Init::Dist(c) => &c.args,
        };
        let mut found = false;
        for a in args {
            crate::syntax::visit::walk_refs(a, &mut |r| {
                let n = &r.name.base;
                if r.indices.is_none()
                    && r.name.sub.is_empty()
                    && self.env.scalars.contains_key(n)
                    && !self.env.computed_scalars.contains(n)
                    && !self
                        .vals
                        .get(&(n.as_str(), false) as &dyn super::hash::MemberKey)
                        .is_some_and(|m| m.contains_key(&[][..]))
                {
                    found = true;
                }
            });
        }
        found
    }
}

/// For every tensor a statement writes, the tensors its statements read.
pub fn statement_reads(
    env: &crate::check::Env,
    items: &[Item],
    deps: &mut BTreeMap<String, BTreeSet<String>>,
) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                let mut read = BTreeSet::new();
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| {
                    read.insert(env.key_of(&r.name));
                });
                for ix in eq.lhs.indices.iter().flatten() {
                    if let IndexExpr::Lookup(r) = ix {
                        read.insert(env.key_of(&r.name));
                    }
                }
                deps.entry(env.key_of(&eq.lhs.name))
                    .or_default()
                    .extend(read);
            }
            ItemKind::Loop(l) => statement_reads(env, &l.body, deps),
            ItemKind::ForIndices(f) => statement_reads(env, &f.body, deps),
            _ => {}
        }
    }
}

/// Whether `from` is one of `targets` or its statements read one, directly or through
/// the values they read.
fn reaches(
    deps: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    targets: &BTreeSet<String>,
) -> bool {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(k) = stack.pop() {
        if targets.contains(k) {
            return true;
        }
        if !seen.insert(k) {
            continue;
        }
        if let Some(reads) = deps.get(k) {
            stack.extend(reads.iter().map(String::as_str));
        }
    }
    false
}

/// The names [`decl_bind`] binds: the family variable and the plain index names.
fn decl_bind_names(d: &Decl) -> Vec<&str> {
    let mut out: Vec<&str> = d.family.iter().map(|r| r.var.name.as_str()).collect();
    for ix in d.target.indices.iter().flatten() {
        if let IndexExpr::Affine(a) = ix {
            if let ([t], 0) = (a.terms.as_slice(), a.constant) {
                if t.coef == 1 && t.factors.len() == 1 {
                    out.push(t.factors[0].name.as_str());
                }
            }
        }
    }
    out
}

/// The values of a declaration's family variable and of its plain index names
/// (`gtilde[i]`: `i`) at one element.
fn decl_bind(d: &Decl, pos: &[i64], fam: Option<i64>) -> Bind {
    let mut b: Bind = Vec::new();
    if let (Some(r), Some(v)) = (&d.family, fam) {
        b.push((r.var.name.clone(), v));
    }
    for (ix, &p) in d.target.indices.iter().flatten().zip(pos) {
        if let IndexExpr::Affine(a) = ix {
            if let ([t], 0) = (a.terms.as_slice(), a.constant) {
                if t.coef == 1 && t.factors.len() == 1 && lookup(&b, &t.factors[0].name).is_none() {
                    b.push((t.factors[0].name.clone(), p));
                }
            }
        }
    }
    b
}
