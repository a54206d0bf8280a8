//! Tensor elements written out symbolically at a generic index: `BN[n,j]` becomes an
//! expression in leaf elements (`W[j,⟨1⟩]`, `b[j]`, `beta[j]`), with every summation —
//! a capital index or `sum_{n}(...)` — taken apart by linearity: a factor free of the
//! summed index comes out (a constant sums to the size times itself), and what depends
//! on it stays inside one atom, `sum_{·1}(W[j,·1]*x[n,·1])`, named canonically so that
//! the same sum written twice is the same atom. Identities between such expressions are
//! identities for every size and every value of the leaves (wherever both sides are
//! defined), so they are `proved`.
//!
//! Also here: expectations over independent Bernoulli elements computed exactly
//! (`E(f) = p f|₁ + (1 − p) f|₀` for each element) and `min(T)` and `max(T)` as atoms
//! bounding every element; inequalities between such expressions are proved by a
//! certificate (`certificate.rs`).

mod certificate;
pub(crate) mod extremes;
mod grads;
mod kron;

pub use certificate::{extreme_facts, nonneg_certificate, Fact};

use super::scalar;
use crate::check::Env;
use crate::sym::{self, Expr};
use crate::syntax::ast::{
    self as ast, BinOp, DeclKind, Equation, IndexExpr, Init, ItemKind, Program, UnOp,
};
use crate::syntax::printer::print_name;
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};
mod atoms;
#[allow(unused_imports)]
pub use atoms::*;

/// How deep definitions may nest while lowering (a guard against cycles).
const MAX_DEPTH: usize = 48;
/// The largest written-out element, in expression nodes (a guard against definitions
/// that double in size at every level).
const MAX_NODES: usize = 200_000;
/// The largest size a sum is written out over (the exact checks use the small `sample`
/// sizes of the problem files).
pub const MAX_WRITTEN_SIZE: i64 = 8;
/// Terms a written-out sum at concrete sizes may create, all sums of one lowering together.
const MAX_UNROLLED: usize = 50_000;

/// The number of nodes of an expression.
pub fn node_count(e: &Expr) -> usize {
    match e {
        Expr::Num(_) | Expr::Sym(_) => 1,
        Expr::Pow(b, x) => 1 + node_count(b) + node_count(x),
        Expr::Func(_, x) => 1 + node_count(x),
        Expr::Mul(v) | Expr::Add(v) => 1 + v.iter().map(node_count).sum::<usize>(),
    }
}

/// An element given over an index that only the givens name (`g[j] = 1` where the
/// relation sums j): it holds at each value of that index, so it sets every element of
/// the tensor it matches, with the index bound to the element's.
#[derive(Clone, Debug)]
pub struct ElemPattern {
    /// The tensor's key.
    pub key: String,
    /// The given's index texts under the claim's binding.
    pub ix: Vec<String>,
    /// Which of them stand for every value.
    pub vars: BTreeSet<String>,
    /// The given's value, lowered at each match.
    pub value: ast::Expr,
    /// The claim's binding, which the match extends.
    pub bind: BTreeMap<String, String>,
}

impl ElemPattern {
    /// The binding at which the element `key[ix]` is one the given sets, if it is.
    pub fn matches(&self, key: &str, ix: &[String]) -> Option<BTreeMap<String, String>> {
        if self.key != key || self.ix.len() != ix.len() {
            return None;
        }
        // `g[j,j] = 1` matches the diagonal only.
        let mut set: BTreeMap<String, String> = BTreeMap::new();
        for (p, x) in self.ix.iter().zip(ix) {
            if self.vars.contains(p) {
                if set
                    .insert(p.clone(), x.clone())
                    .is_some_and(|prev| prev != *x)
                {
                    return None;
                }
            } else if p != x {
                return None;
            }
        }
        let mut bind = self.bind.clone();
        bind.extend(set);
        Some(bind)
    }
}

/// A lowering of tensor elements to `sym` expressions.
pub struct Lowerer<'a> {
    env: &'a Env,
    /// Each computed tensor's single defining equation (outside loops, `=`).
    eqs: BTreeMap<String, &'a Equation>,
    /// Bernoulli elements: tensor → (declared index names, parameter expression).
    bernoulli: BTreeMap<String, (Vec<String>, &'a ast::Expr)>,
    /// Tensors drawn from any other distribution: their moments are not computed here.
    other_random: BTreeSet<String>,
    /// Whole tensors set by a given (`U = c W`): tensor → the expression.
    pub tensor_subs: BTreeMap<String, ast::Expr>,
    /// Elements set by a given (`beta[j] = 1`): element text → value.
    pub elem_subs: Vec<(String, Expr)>,
    /// Element givens over an index only the givens name (`g[j] = 1` beside
    /// `sum_{j}(...)`): they set every element they match.
    pub elem_patterns: Vec<ElemPattern>,
    /// Symbols known to be positive (`given c > 0`): square roots take them out.
    pub positive: BTreeSet<String>,
    /// Computed tensors and scalars kept as atoms instead of written out (`invariant(T,
    /// m)` shifts the computed `m` itself).
    pub opaque: BTreeSet<String>,
    /// Values computed in loops or by several statements: never written out, and never
    /// taken for free symbols either.
    unexpanded: BTreeSet<String>,
    /// Concrete sizes: sums over them are written out term by term (the exact check).
    pub unroll: Option<BTreeMap<String, i64>>,
    counter: usize,
    depth: usize,
    /// Computed elements already written out, by their text (`mu_B[j]`).
    cache: BTreeMap<String, Expr>,
    /// Terms created by sums written out at concrete sizes so far.
    unrolled: usize,
    /// Every sum taken apart by linearity: (the summand before expansion, the sum as
    /// written out in atoms). The definedness judgement reads them: a sum of non-negative
    /// terms is non-negative whatever its expanded form looks like (docs/soundness.md,
    /// "Definedness", round 5). At most `MAX_SUMS_KEPT`.
    pub sums: Vec<(Expr, Expr)>,
    /// The derived backward program's statements per gradient, when gradients may be
    /// written out (`grads.rs`).
    grads: Option<grads::GradDefs<'a>>,
    /// Gradients declared with a distribution (`grad z ~ normal(0, 1)`): leaves.
    grad_leaves: BTreeSet<String>,
    /// Gradients declared on part of their tensor only (`grad h[B, t, J] ~ ... for t in
    /// 1..T`): neither a leaf everywhere nor computed everywhere, so not written out.
    partial_grad_leaves: BTreeSet<String>,
    /// Whether a gradient was written out from the backward program.
    pub used_grads: bool,
    /// The size each bound index variable runs over.
    var_sizes: BTreeMap<String, String>,
    /// snd42: every element of a leaf tensor is one symbol, `x[*]` (the equal-elements
    /// point: sums over a size collapse to the size times the summand).
    pub equal: bool,
}

/// The state of a [`Lowerer`] that lowering changes ([`Lowerer::snapshot`]).
#[derive(Clone, Debug)]
pub struct LoweringState {
    cache: BTreeMap<String, Expr>,
    counter: usize,
    unrolled: usize,
    sums: Vec<(Expr, Expr)>,
    used_grads: bool,
    var_sizes: BTreeMap<String, String>,
}

impl LoweringState {
    /// The expression nodes the state holds (its written-out elements and sums).
    pub fn nodes(&self) -> usize {
        self.cache.values().map(node_count).sum::<usize>()
            + self
                .sums
                .iter()
                .map(|(a, b)| node_count(a) + node_count(b))
                .sum::<usize>()
    }
}

/// The most sums a lowering records for the definedness judgement.
const MAX_SUMS_KEPT: usize = 64;

fn fresh_name(k: usize) -> String {
    format!("⟨{k}⟩")
}

/// The level marker of canonical bound indices: `·1`, `·2`, ...
fn level_of(s: &str) -> usize {
    let mut best = 0;
    for (k, c) in s.char_indices() {
        if c == '·' {
            let digits: String = s[k + c.len_utf8()..]
                .chars()
                .take_while(|d| d.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                best = best.max(n);
            }
        }
    }
    best
}

impl<'a> Lowerer<'a> {
    pub fn new(program: &'a Program, env: &'a Env) -> Self {
        let mut eqs = BTreeMap::new();
        let mut defined_twice = BTreeSet::new();
        let mut bernoulli = BTreeMap::new();
        let mut other_random = BTreeSet::new();
        let mut grad_leaves = BTreeSet::new();
        let mut partial_grad_leaves = BTreeSet::new();
        // perf41: claims are skipped here; the model's items alone (listed once a file).
        let model = || crate::syntax::model_items::model_items(program);
        for item in model() {
            match &item.kind {
                ItemKind::Equation(eq) if eq.op == ast::AssignOp::Set && !eq.lhs.grad => {
                    let key = env.key_of(&eq.lhs.name);
                    if eqs.insert(key.clone(), eq).is_some() {
                        defined_twice.insert(key);
                    }
                }
                ItemKind::Equation(eq) => {
                    defined_twice.insert(env.key_of(&eq.lhs.name));
                }
                ItemKind::Decl(d) if d.kind == DeclKind::Grad => {
                    let whole = d.family.is_none()
                        && d.target.indices.iter().flatten().all(|ix| {
                            ix.plain_var()
                                .is_some_and(|v| env.sizes.contains_key(&v.name))
                        });
                    if whole {
                        grad_leaves.insert(env.key_of(&d.target.name));
                    } else {
                        partial_grad_leaves.insert(env.key_of(&d.target.name));
                    }
                }
                ItemKind::Decl(d) => {
                    if let Some(Init::Dist(c)) = &d.init {
                        if c.func.name == "bernoulli" && c.args.len() == 1 {
                            let names = d
                                .target
                                .indices
                                .iter()
                                .flatten()
                                .map(crate::syntax::printer::print_index)
                                .collect();
                            bernoulli.insert(env.key_of(&d.target.name), (names, &c.args[0]));
                        } else {
                            other_random.insert(env.key_of(&d.target.name));
                        }
                    }
                }
                _ => {}
            }
        }
        for k in defined_twice {
            eqs.remove(&k);
        }
        fn all_eqs<'b>(
            items: impl IntoIterator<Item = &'b ast::Item>,
            out: &mut Vec<&'b Equation>,
        ) {
            for item in items {
                match &item.kind {
                    ItemKind::Equation(eq) if !eq.lhs.grad => out.push(eq),
                    ItemKind::Loop(l) => all_eqs(&l.body, out),
                    ItemKind::ForIndices(f) => all_eqs(&f.body, out),
                    _ => {}
                }
            }
        }
        let mut every = Vec::new();
        all_eqs(model(), &mut every);
        // A value set by one top-level `=` and added to by a `+=`/`-=` (or set again) in a
        // `for` block or a loop is not that `=`'s right side: `y[b,i] = 0` then
        // `for b,i: y[b,i] += x[b,i]` was written out as 0, and the true
        // `Var(y[0,0]) == v` refuted (session 23).
        let mut writes: BTreeMap<String, usize> = BTreeMap::new();
        for eq in &every {
            *writes.entry(env.key_of(&eq.lhs.name)).or_default() += 1;
        }
        eqs.retain(|k, _| writes.get(k).copied().unwrap_or(0) <= 1);
        let unexpanded = every
            .iter()
            .map(|eq| env.key_of(&eq.lhs.name))
            .filter(|k| !eqs.contains_key(k))
            .collect();
        Lowerer {
            env,
            eqs,
            bernoulli,
            other_random,
            tensor_subs: BTreeMap::new(),
            elem_subs: Vec::new(),
            elem_patterns: Vec::new(),
            positive: BTreeSet::new(),
            opaque: BTreeSet::new(),
            unexpanded,
            unroll: None,
            counter: 0,
            depth: 0,
            cache: BTreeMap::new(),
            unrolled: 0,
            sums: Vec::new(),
            grads: None,
            grad_leaves,
            partial_grad_leaves,
            used_grads: false,
            var_sizes: BTreeMap::new(),
            equal: false,
        }
    }

    /// The tensors whose elements are Bernoulli masks (0 or 1).
    pub fn bernoulli_tensors(&self) -> impl Iterator<Item = &String> {
        self.bernoulli.keys()
    }

    /// What lowering has changed in this lowerer so far (the elements written out, the
    /// fresh names used, the terms unrolled, the sums kept): restored by
    /// [`Lowerer::resume`] into a lowerer made the same way, it continues exactly as this
    /// one would.
    pub fn snapshot(&self) -> LoweringState {
        LoweringState {
            cache: self.cache.clone(),
            counter: self.counter,
            unrolled: self.unrolled,
            sums: self.sums.clone(),
            used_grads: self.used_grads,
            var_sizes: self.var_sizes.clone(),
        }
    }

    /// Restores a [`Lowerer::snapshot`] (taken from a lowerer made with the same program,
    /// environment, givens, sizes and gradients).
    pub fn resume(&mut self, s: LoweringState) {
        self.cache = s.cache;
        self.counter = s.counter;
        self.unrolled = s.unrolled;
        self.sums = s.sums;
        self.used_grads = s.used_grads;
        self.var_sizes = s.var_sizes;
    }

    /// Forgets the elements written out so far (after a given changes what they are).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    fn fresh(&mut self) -> String {
        self.counter += 1;
        fresh_name(self.counter)
    }

    /// The size a (lower-case) index ranges over.
    fn size_of(&self, idx: &str) -> Result<String, String> {
        self.env
            .index_size(&idx.to_lowercase())
            .ok_or_else(|| format!("the index `{idx}` has no size"))
    }

    /// Capital (summed) indices of a term that are not bound yet, by the summation
    /// convention every engine shares (`check::capitals`): those read outside the term's
    /// parenthesized sums and function arguments, and those two of its parenthesized sums
    /// share; a capital inside one parenthesized sum only is summed there
    /// ([`Self::lower_terms`] again, through `Atoms::parenthesized_sum`).
    fn capitals(&self, e: &ast::Expr, bind: &BTreeMap<String, String>) -> Vec<String> {
        let bound = |n: &str| bind.contains_key(n);
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &bound,
        }
        .of_term(e)
    }

    /// Σ over `var` (of size `size`) of `e`, by linearity.
    fn sum_over(&mut self, var: &str, size: &str, e: &Expr) -> Expr {
        let ex = sym::expand(e);
        let terms = match &ex {
            Expr::Add(ts) => ts.clone(),
            other => vec![other.clone()],
        };
        let mut out = Vec::new();
        for t in terms {
            let factors = match &t {
                Expr::Mul(fs) => fs.clone(),
                other => vec![other.clone()],
            };
            let (dep, indep): (Vec<Expr>, Vec<Expr>) = factors
                .into_iter()
                .partition(|f| f.free_symbols().iter().any(|s| s.contains(var)));
            if dep.is_empty() {
                out.push(Expr::sym(size) * Expr::mul(indep));
                continue;
            }
            if let Some(v) = self.kronecker_sum(var, size, &dep) {
                out.push(v * Expr::mul(indep));
                continue;
            }
            let body = sym::to_ascii(&Expr::mul(dep));
            let level = level_of(&body) + 1;
            let canon = body.replace(var, &format!("·{level}"));
            let atom = Expr::sym(&format!("sum_{{·{level}}}({canon})"));
            out.push(atom * Expr::mul(indep));
        }
        let total = Expr::add(out);
        if self.sums.len() < MAX_SUMS_KEPT {
            self.sums.push((e.clone(), total.clone()));
        }
        total
    }

    /// Lowers `e` as a context of additive terms: capitals are summed per term.
    pub fn lower_terms(
        &mut self,
        e: &ast::Expr,
        bind: &BTreeMap<String, String>,
    ) -> Result<Expr, String> {
        let mut terms: Vec<(bool, &ast::Expr)> = Vec::new();
        fn flatten<'e>(e: &'e ast::Expr, neg: bool, out: &mut Vec<(bool, &'e ast::Expr)>) {
            match e {
                ast::Expr::Binary(BinOp::Add, l, r, _) => {
                    flatten(l, neg, out);
                    flatten(r, neg, out);
                }
                ast::Expr::Binary(BinOp::Sub, l, r, _) => {
                    flatten(l, neg, out);
                    flatten(r, !neg, out);
                }
                ast::Expr::Unary(UnOp::Neg, x, _) => flatten(x, !neg, out),
                other => out.push((neg, other)),
            }
        }
        flatten(e, false, &mut terms);
        let mut out = Vec::new();
        for (neg, t) in terms {
            let caps = self.capitals(t, bind);
            let mut b = bind.clone();
            let mut vars = Vec::new();
            for c in &caps {
                let v = self.fresh();
                b.insert(c.clone(), v.clone());
                let size = self.size_of(c)?;
                self.var_sizes.insert(v.clone(), size.clone());
                vars.push((v, size));
            }
            let mut x = self.summand(&vars, |lw| lw.lower(t, &b))?;
            for (v, size) in vars.iter().rev() {
                x = self.sum(v, size, &x, t, &b)?;
            }
            out.push(if neg { -x } else { x });
        }
        Ok(Expr::add(out))
    }

    /// A summand lowered at its summed indices `vars` (fresh symbols). Where the sums are
    /// written out at concrete sizes and definedness conditions are being collected, each
    /// condition the summand needs at a summed index (`z[0,⟨1⟩] ≠ 0` of `1/z[0,J]`) is
    /// noted again at every value of that index: the summand may have folded to 0 before
    /// (`z[0,1] / z[0,J]` with z[0,1] = 0 is 0 · Σ 1/z[0,j]), so the written-out sum no
    /// longer shows the division, and `r[0,1] == 7` was refuted "left 0" where r[0,1] is
    /// undefined (probe29/c c17d).
    fn summand(
        &mut self,
        vars: &[(String, String)],
        lower: impl FnOnce(&mut Self) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let counts: Option<Vec<i64>> = vars
            .iter()
            .map(|(_, size)| self.unroll.as_ref().and_then(|u| u.get(size).copied()))
            .collect();
        let counts = match counts {
            Some(c) if !vars.is_empty() && sym::defined::is_collecting() => c,
            _ => return lower(self),
        };
        let (x, conds) = sym::collecting(|| lower(self));
        let mentions = |e: &Expr, v: &str| e.free_symbols().iter().any(|s| s.contains(v));
        let mut pending: Vec<sym::Condition> = conds
            .into_iter()
            .filter(|c| vars.iter().any(|(v, _)| mentions(c.expr(), v)))
            .collect();
        for ((v, _), n) in vars.iter().zip(&counts) {
            let mut next = Vec::new();
            for c in pending {
                if !mentions(c.expr(), v) {
                    next.push(c);
                    continue;
                }
                for k in 0..(*n).max(0) {
                    if next.len() >= MAX_SUMMAND_CONDITIONS {
                        break;
                    }
                    let k = k.to_string();
                    next.push(match &c {
                        sym::Condition::NonZero(e) => sym::Condition::NonZero(rename(e, v, &k)),
                        sym::Condition::Positive(e) => sym::Condition::Positive(rename(e, v, &k)),
                        sym::Condition::NonNegative(e) => {
                            sym::Condition::NonNegative(rename(e, v, &k))
                        }
                        sym::Condition::Power(e, x) => {
                            sym::Condition::Power(rename(e, v, &k), rename(x, v, &k))
                        }
                    });
                }
            }
            pending = next;
        }
        pending.into_iter().for_each(sym::defined::note_condition);
        x
    }

    /// A sum over `var`: by linearity, or written out when the size is concrete.
    fn sum(
        &mut self,
        var: &str,
        size: &str,
        lowered: &Expr,
        _src: &ast::Expr,
        _bind: &BTreeMap<String, String>,
    ) -> Result<Expr, String> {
        let n = self.unroll.as_ref().and_then(|u| u.get(size).copied());
        match n {
            Some(n) => {
                if n > MAX_WRITTEN_SIZE {
                    return Err(format!("`{size}` = {n} is too large to write the sum out"));
                }
                self.unrolled = self
                    .unrolled
                    .saturating_add((n.max(0) as usize).saturating_mul(node_count(lowered)));
                if self.unrolled > MAX_UNROLLED {
                    return Err("the sums are too large to write out at the sample sizes".into());
                }
                // Rename the bound index in every symbol to each concrete value. An
                // element that a given sets (`x[b,j] = c` is `x[0,0] = c` at b = j = 0)
                // is named only now, so its value is put in here too (probe30/a s27b:
                // `mu[b] == c given x[b,j] = c, J = 1` was refuted with x[0,0] = 0 inside
                // the sum and c outside it).
                Ok(Expr::add(
                    (0..n)
                        .map(|k| {
                            let term = rename(lowered, var, &k.to_string());
                            if self.elem_subs.is_empty() {
                                return term;
                            }
                            let read = term.free_symbols();
                            self.elem_subs
                                .iter()
                                .filter(|(name, _)| read.contains(name))
                                .fold(term, |acc, (name, v)| acc.subs(name, v))
                        })
                        .collect(),
                ))
            }
            None => Ok(self.sum_over(var, size, lowered)),
        }
    }

    fn index_text(
        &self,
        ix: &IndexExpr,
        bind: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let IndexExpr::Affine(a) = ix else {
            return Err("lookups are not written out symbolically".into());
        };
        match a.terms.as_slice() {
            [] => Ok(a.constant.to_string()),
            [t] if t.coef == 1 && t.factors.len() == 1 && a.constant == 0 => {
                let n = &t.factors[0].name;
                Ok(bind.get(n).cloned().unwrap_or_else(|| n.clone()))
            }
            _ => Err(format!(
                "the index `{}` is not written out symbolically (only plain indices are)",
                crate::syntax::printer::print_index(ix)
            )),
        }
    }

    /// An element `T[ix]` with its indices as text.
    fn element(&mut self, key: &str, ix: &[String]) -> Result<Expr, String> {
        let text = format!("{key}[{}]", ix.join(","));
        if self.opaque.contains(key) {
            return Ok(Expr::sym(&text));
        }
        if let Some((_, v)) = self.elem_subs.iter().find(|(n, _)| *n == text) {
            return Ok(v.clone());
        }
        if let Some((value, bind)) = self
            .elem_patterns
            .iter()
            .find_map(|p| p.matches(key, ix).map(|b| (p.value.clone(), b)))
        {
            if self.depth > MAX_DEPTH {
                return Err("the element givens read each other too deeply (a cycle?)".into());
            }
            self.depth += 1;
            let v = self.lower_terms(&value, &bind);
            self.depth -= 1;
            return v;
        }
        if let Some(sub) = self.tensor_subs.get(key).cloned() {
            return self.lower_whole(&sub, ix);
        }
        if let Some(v) = self.cache.get(&text) {
            return Ok(v.clone());
        }
        if let Some(eq) = self.eqs.get(key).copied() {
            let names: Vec<String> = match &eq.lhs.indices {
                Some(v) => v.iter().map(crate::syntax::printer::print_index).collect(),
                None => Vec::new(),
            };
            if names.len() != ix.len() {
                return Err(format!("`{key}` is read with {} indices", ix.len()));
            }
            let bind: BTreeMap<String, String> =
                names.into_iter().zip(ix.iter().cloned()).collect();
            if self.depth > MAX_DEPTH {
                return Err("definitions nest too deeply".into());
            }
            self.depth += 1;
            let v = self.lower_terms(&eq.rhs, &bind);
            self.depth -= 1;
            if let Ok(v) = &v {
                if node_count(v) > MAX_NODES {
                    return Err(format!(
                        "`{text}` written out has more than {MAX_NODES} nodes"
                    ));
                }
                self.cache.insert(text, v.clone());
            }
            return v;
        }
        // A tensor declared as an input for its start (`input h[B, 0]`) and computed in
        // a loop after it is no leaf either: `h[b,1]` is the loop's value, and writing it
        // as a free symbol refuted the true `h[b,1] == a h[b,0] + x[b,1]`.
        if self.unexpanded.contains(key)
            || self
                .env
                .tensors
                .get(key)
                .is_some_and(|t| t.kind == crate::check::TensorKind::Computed)
        {
            return Err(format!(
                "`{key}` is computed in a loop or by several statements; tq writes out single definitions only"
            ));
        }
        if self.equal {
            return Ok(Expr::sym(&format!("{key}[*]")));
        }
        Ok(Expr::sym(&text))
    }

    /// A whole-tensor expression (`c W`) at the element `ix`.
    fn lower_whole(&mut self, e: &ast::Expr, ix: &[String]) -> Result<Expr, String> {
        let mut err = None;
        let mut out = Vec::new();
        crate::check::walk_refs(e, &mut |r| {
            let key = self.env.key_of(&r.name);
            let rank = self.env.tensors.get(&key).map(|t| t.rank);
            if r.indices.is_none() && rank.is_some_and(|k| k > 0) {
                if rank != Some(ix.len()) {
                    err = Some(format!(
                        "`{key}` does not have the shape of the tensor it sets"
                    ));
                }
                out.push(key);
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let mut vals = BTreeMap::new();
        for key in out {
            let v = self.element(&key, ix)?;
            vals.insert(key, v);
        }
        self.lower_plain(e, &BTreeMap::new(), &vals)
    }

    /// Lowers an expression whose summations are already bound.
    pub fn lower(
        &mut self,
        e: &ast::Expr,
        bind: &BTreeMap<String, String>,
    ) -> Result<Expr, String> {
        self.lower_plain(e, bind, &BTreeMap::new())
    }

    fn lower_plain(
        &mut self,
        e: &ast::Expr,
        bind: &BTreeMap<String, String>,
        whole: &BTreeMap<String, Expr>,
    ) -> Result<Expr, String> {
        scalar::lower_with(
            e,
            &mut Elements {
                lw: self,
                bind,
                whole,
            },
        )
        .map_err(|u| u.message)
    }

    /// A reference: a scalar written out from its definition, or an element.
    fn reference(
        &mut self,
        r: &ast::Ref,
        bind: &BTreeMap<String, String>,
        whole: &BTreeMap<String, Expr>,
    ) -> Result<Expr, String> {
        let key = self.env.key_of(&r.name);
        if r.grad {
            let ix = match &r.indices {
                Some(ix) => ix
                    .iter()
                    .map(|i| self.index_text(i, bind))
                    .collect::<Result<Vec<_>, _>>()?,
                None => Vec::new(),
            };
            return self.grad_element(&key, &ix);
        }
        if !r.name.sub.is_empty()
            && self
                .env
                .tensors
                .get(&key)
                .is_some_and(|t| t.family_arity > 0)
        {
            return Err("family members are not written out symbolically".into());
        }
        let Some(ix) = &r.indices else {
            if let Some(v) = whole.get(&key) {
                return Ok(v.clone());
            }
            if let Some(t) = self.bare_index(r, bind) {
                return Ok(t);
            }
            let name = print_name(&r.name);
            if self.env.tensors.get(&key).is_some_and(|t| t.rank > 0) {
                return Err(format!("the whole tensor `{name}` in a formula"));
            }
            if self.opaque.contains(&key) {
                return Ok(Expr::sym(&name));
            }
            if let Some(eq) = self.eqs.get(&key).copied() {
                if self.depth > MAX_DEPTH {
                    return Err("definitions nest too deeply".into());
                }
                self.depth += 1;
                let v = self.lower_terms(&eq.rhs, &BTreeMap::new());
                self.depth -= 1;
                return v;
            }
            if let Some(v) = self.elem_subs.iter().find(|(n, _)| *n == name) {
                return Ok(v.1.clone());
            }
            if self.unexpanded.contains(&key) {
                return Err(format!(
                    "`{name}` is computed in a loop or by several statements; tq writes out single definitions only"
                ));
            }
            return Ok(Expr::sym(&name));
        };
        let texts = ix
            .iter()
            .map(|i| self.index_text(i, bind))
            .collect::<Result<Vec<_>, _>>()?;
        self.element(&key, &texts)
    }

    /// `sum_{i,j}(body)`: by linearity, or written out at concrete sizes.
    fn explicit_sum(
        &mut self,
        ids: &[ast::Ident],
        body: &ast::Expr,
        bind: &BTreeMap<String, String>,
    ) -> Result<Expr, String> {
        let mut b = bind.clone();
        let mut vars = Vec::new();
        for id in ids {
            let v = self.fresh();
            b.insert(id.name.clone(), v.clone());
            let size = self.size_of(&id.name)?;
            self.var_sizes.insert(v.clone(), size.clone());
            vars.push((v, size));
        }
        let mut x = self.summand(&vars, |lw| lw.lower_terms(body, &b))?;
        for (v, size) in vars.iter().rev() {
            x = self.sum(v, size, &x, body, &b)?;
        }
        Ok(x)
    }

    /// The calls this lowering reads itself: moments over Bernoulli elements (exact),
    /// and `min(T)`/`max(T)` as atoms; `None` for the shared reading of the others.
    fn call(
        &mut self,
        c: &ast::Call,
        bind: &BTreeMap<String, String>,
    ) -> Option<Result<Expr, String>> {
        let f = c.func.name.as_str();
        Some(match (f, c.args.as_slice()) {
            ("E", [x]) => self.lower_terms(x, bind).and_then(|v| self.expect(&v)),
            ("Var", [x]) => (|| {
                let v = self.lower_terms(x, bind)?;
                let m = self.expect(&v)?;
                let s = self.expect(&sym::expand(&(v.clone() * v)))?;
                Ok(sym::expand(&(s - m.clone() * m)))
            })(),
            ("Cov", [x, y]) => (|| {
                let (a, b) = (self.lower_terms(x, bind)?, self.lower_terms(y, bind)?);
                let (ma, mb) = (self.expect(&a)?, self.expect(&b)?);
                let s = self.expect(&sym::expand(&(a * b)))?;
                Ok(sym::expand(&(s - ma * mb)))
            })(),
            // An atom of a leaf (the exact check fills in the concrete extreme), or
            // written out over the elements (`extremes.rs`).
            ("min" | "max", [ast::Expr::Ref(r)]) if r.indices.is_none() => self.extreme(f, r),
            _ => return None,
        })
    }

    /// `sqrt(x)`, with the square of a positive symbol taken out of every term
    /// (`sqrt(c² q) = c sqrt(q)` for `c > 0`), and a perfect quotient cancelled.
    fn sqrt(&self, x: &Expr) -> Expr {
        // Written out at concrete sizes the expression is only evaluated: no need to
        // simplify (which is costly on the long sums).
        let mut x = if self.unroll.is_some() {
            x.clone()
        } else {
            sym::simplify(x)
        };
        let mut outside = Vec::new();
        for s in &self.positive {
            let ex = sym::expand(&x);
            let terms = match &ex {
                Expr::Add(ts) => ts.clone(),
                other => vec![other.clone()],
            };
            let mut k = i64::MAX;
            for t in &terms {
                let fs = match t {
                    Expr::Mul(fs) => fs.clone(),
                    other => vec![other.clone()],
                };
                let mut p = 0;
                for f in fs {
                    match &f {
                        Expr::Sym(n) if n == s => p += 1,
                        Expr::Pow(b, e) if matches!(&**b, Expr::Sym(n) if n == s) => {
                            p += e.as_int().unwrap_or(0)
                        }
                        _ => {}
                    }
                }
                k = k.min(p);
            }
            if k != i64::MAX && k >= 2 && !terms.is_empty() {
                let half = k / 2;
                let sym_s = Expr::sym(s);
                x = sym::expand(&(ex / Expr::pow(sym_s.clone(), Expr::int(2 * half))));
                outside.push(Expr::pow(sym_s, Expr::int(half)));
            }
        }
        outside.push(Expr::sqrt(x));
        Expr::mul(outside)
    }

    /// Whether `key` is a random leaf declared without indices (a scalar input).
    fn scalar_leaf(&self, key: &str) -> bool {
        self.env.tensors.get(key).is_none_or(|t| t.rank == 0)
    }

    /// The exact expectation over the Bernoulli elements in `v`. A scalar random input
    /// (`input mk ~ bernoulli(p)`, no indices) is a Bernoulli element with no index; one
    /// of another distribution is random like a tensor's elements (probe39/p p03).
    fn expect(&mut self, v: &Expr) -> Result<Expr, String> {
        for s in v.free_symbols() {
            if let Some(t) = self
                .other_random
                .iter()
                .find(|t| mentions_leaf(&s, t, self.scalar_leaf(t)))
            {
                return Err(format!(
                    "`{t}` is random with a distribution other than Bernoulli; its moments are not computed here"
                ));
            }
            // A scalar mask read inside an atom (a sum written as one symbol) is not
            // taken apart: its expectation is not computed here.
            if let Some(k) = self
                .bernoulli
                .keys()
                .find(|k| self.scalar_leaf(k) && s != **k && mentions_scalar(&s, k))
            {
                return Err(format!(
                    "the scalar mask `{k}` inside `{s}`: expectations of sums of random elements are not computed"
                ));
            }
        }
        let mut out = v.clone();
        let mut done: BTreeSet<String> = BTreeSet::new();
        loop {
            let next = out.free_symbols().into_iter().find(|s| {
                !done.contains(s)
                    && self.bernoulli.iter().any(|(k, (names, _))| {
                        (s.starts_with(&format!("{k}[")) && s.ends_with(']'))
                            || (names.is_empty() && s == k && self.scalar_leaf(k))
                    })
            });
            let Some(s) = next else { break };
            if s.starts_with("sum_") {
                return Err("expectations of sums of random elements are not computed".into());
            }
            if self.bernoulli.get(&s).is_some_and(|(n, _)| n.is_empty()) {
                // The scalar mask: E f = p f|₁ + (1 − p) f|₀.
                let p = self.bernoulli[&s].1;
                let p = self.lower_terms(p, &BTreeMap::new())?;
                let one = out.subs(&s, &Expr::one());
                let zero = out.subs(&s, &Expr::zero());
                out = sym::expand(&(p.clone() * one + (Expr::one() - p) * zero));
                done.insert(s);
                continue;
            }
            let key = s.split('[').next().unwrap_or("").to_string();
            let same_tensor: Vec<&String> = done
                .iter()
                .filter(|d| d.starts_with(&format!("{key}[")))
                .collect();
            if !same_tensor.is_empty() {
                return Err(format!(
                    "`{s}` and `{}` may be the same element; tq does not split the cases",
                    same_tensor[0]
                ));
            }
            let (names, p) = self.bernoulli[&key].clone();
            let ix: Vec<String> = s[key.len() + 1..s.len() - 1]
                .split(',')
                .map(str::to_string)
                .collect();
            if ix.len() != names.len() {
                return Err(format!("`{s}` has the wrong number of indices"));
            }
            let bind: BTreeMap<String, String> = names.into_iter().zip(ix).collect();
            let p = self.lower_terms(p, &bind)?;
            let one = out.subs(&s, &Expr::one());
            let zero = out.subs(&s, &Expr::zero());
            out = sym::expand(&(p.clone() * one + (Expr::one() - p) * zero));
            done.insert(s);
        }
        Ok(out)
    }
}

/// `e` with the bound index `var` replaced by `k` in every symbol.
/// The most conditions [`Lowerer::summand`] notes for one summand.
const MAX_SUMMAND_CONDITIONS: usize = 4_096;

fn rename(e: &Expr, var: &str, k: &str) -> Expr {
    match e {
        Expr::Sym(s) if s.contains(var) => kron::renamed_symbol(&s.replace(var, k)),
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(rename(b, var, k), rename(x, var, k)),
        Expr::Func(f, x) => Expr::func(*f, rename(x, var, k)),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|x| rename(x, var, k)).collect()),
        Expr::Add(ts) => Expr::add(ts.iter().map(|x| rename(x, var, k)).collect()),
    }
}

/// A rational as an expression.
pub fn num(r: BigRational) -> Expr {
    Expr::num(r)
}

#[cfg(test)]
mod tests;
