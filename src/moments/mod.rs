//! The symbolic moments engine: the mean and second moment of every tensor element,
//! forward through the model and backward through its derived program, under the
//! declared distributions and the rules of [`rv`] — with recurrences over layers or
//! time solved in closed form.
//!
//! Every tensor element of one tensor (or family member) is assumed to have the same
//! distribution: true with circular padding and away from the border with zero padding
//! (the derivation says which). A family written in a loop from its previous member
//! (`L_{l+1}` from `L_l`) is a recurrence: tq runs the loop body once concretely (the
//! first iteration, with the start's exact distribution) and once symbolically with the
//! state's moments as unknowns, reads off the first-order recurrence and solves it when
//! it is linear with constant coefficients.

pub mod position;
pub mod rv;

use crate::check::Env;
use crate::lower::{self as scalar, Scope};
use crate::sym::{self, Expr, Func};
use crate::syntax::ast::{
    self as ast, AssignOp, BinOp, DeclKind, IndexExpr, Init, Item, ItemKind, Program, Ref, UnOp,
};
use crate::syntax::printer::{print_expr, print_name};
use rv::{Gauss, Rv, Source};
use std::collections::{BTreeMap, BTreeSet};

/// The approximation note of a zero-padded moment that holds away from the border only.
pub const BORDER: &str = "zero padding: holds away from the border";

/// A tensor: its family key and whether it is the gradient.
pub type Key = (String, bool);

/// What is known of one tensor's elements.
#[derive(Clone, Debug)]
pub enum Entry {
    Plain(Box<Rv>),
    Family {
        /// Members at fixed subscripts (the start, the first iteration).
        members: Vec<(Expr, Rv)>,
        /// Members at every subscript of a loop: `rv` with the loop variable `var`
        /// standing for subscript − `offset`.
        templates: Vec<Template>,
    },
}

#[derive(Clone, Debug)]
pub struct Template {
    pub var: String,
    pub offset: Expr,
    pub rv: Rv,
}

/// A recurrence read off a loop, and its solution.
#[derive(Clone, Debug)]
pub struct Recurrence {
    pub tensor: String,
    pub grad: bool,
    /// The loop variable and the subscripts read and written (`l`, `l`, `l + 1`).
    pub var: String,
    pub from: Expr,
    pub to: Expr,
    /// E and Var of the written member in terms of those of the read one (`x` stands
    /// for the read member's value).
    pub mean_step: Expr,
    pub var_step: Option<Expr>,
    /// Closed forms in the member subscript `n`.
    pub mean_closed: Option<Expr>,
    pub var_closed: Option<Expr>,
    /// The start member's subscript.
    pub start: Expr,
    pub rules: BTreeSet<String>,
    pub approx: BTreeSet<String>,
    /// Why no closed form, when there is none.
    pub unsolved: Option<String>,
}

/// The moments of every tensor of a program.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub entries: BTreeMap<Key, Entry>,
    /// Why a tensor's moments are not known.
    pub unknown: BTreeMap<Key, String>,
    pub recurrences: Vec<Recurrence>,
    /// Remarks (the boundary rule the results hold under).
    pub notes: Vec<String>,
    /// One symbolic iteration per loop: the members it reads and writes, in terms of
    /// the loop variable, before the closed forms are put in (for covariances between
    /// members of the same iteration).
    pub iterations: Vec<Iteration>,
    /// The declared tensors and the iid ones, for reading claim expressions.
    leaves: BTreeSet<(Key, Option<Expr>)>,
    iid: BTreeSet<Key>,
}

/// The distributions of one symbolic iteration.
#[derive(Clone, Debug)]
pub struct Iteration {
    pub var: String,
    /// Per tensor: (subscript − loop variable, distribution).
    pub members: BTreeMap<Key, Vec<(Expr, Rv)>>,
    /// The state placeholders' closed forms at this iteration.
    pub closed: BTreeMap<String, Expr>,
}

/// The placeholder symbols of a recurrence state.
fn mean_sym(k: &Key) -> String {
    format!("E#{}{}", k.0, if k.1 { ".grad" } else { "" })
}
fn m2_sym(k: &Key) -> String {
    format!("M#{}{}", k.0, if k.1 { ".grad" } else { "" })
}

/// An index expression as a symbolic expression.
pub fn index_expr(ix: &IndexExpr) -> Result<Expr, String> {
    match ix {
        IndexExpr::Affine(a) => {
            let mut terms = vec![Expr::int(a.constant)];
            for t in &a.terms {
                let mut f = vec![Expr::int(t.coef)];
                f.extend(t.factors.iter().map(|i| Expr::sym(&i.name)));
                terms.push(Expr::mul(f));
            }
            Ok(Expr::add(terms))
        }
        IndexExpr::Lookup(_) => Err("a lookup subscript".into()),
    }
}

fn position(indices: &Option<Vec<IndexExpr>>) -> Option<rv::Position> {
    let mut out = Vec::new();
    for ix in indices.as_ref()? {
        let IndexExpr::Affine(a) = ix else {
            return None;
        };
        let mut vars = Vec::new();
        for t in &a.terms {
            if t.factors.len() != 1 {
                return None;
            }
            vars.push((t.factors[0].name.clone(), t.coef));
        }
        vars.sort();
        out.push((vars, a.constant));
    }
    Some(out)
}

struct Walker<'a> {
    env: &'a Env,
    a: Analysis,
    /// Loop variables bound to their current value (a symbol or a number).
    bind: BTreeMap<String, Expr>,
    /// Families whose members are fresh in the symbolic iteration (read at one offset).
    fresh: BTreeSet<String>,
    /// Inside a symbolic iteration: reads of things that are not fresh depend on `past`.
    symbolic: bool,
    /// Walking the backward program: reads of forward tensors are approximations.
    backward: bool,
    /// iid tensors: every element independent, identically distributed.
    iid: BTreeSet<Key>,
    /// Members written in the current iteration (for `+=` starting from zero).
    written: BTreeSet<String>,
    /// Declared tensors (parameters, inputs, gradient seeds): random leaves; a family
    /// declared for every member has `None`, a declared member its subscript.
    leaves: BTreeSet<(Key, Option<Expr>)>,
}

fn sub_text(e: &Expr) -> String {
    let t = sym::to_ascii(e);
    if t.len() == 1 {
        t
    } else {
        format!("{{{t}}}")
    }
}

/// The name a declared tensor's sources carry: the family key, `.grad` for a seed.
fn leaf_name(key: &Key) -> String {
    if key.1 {
        format!("{}.grad", key.0)
    } else {
        key.0.clone()
    }
}

/// The printed member: `L_{l+1}`, `W_1`, `y`.
pub fn member_text(key: &Key, subs: &[Expr]) -> String {
    let mut s = key.0.clone();
    if !subs.is_empty() {
        let inner: Vec<String> = subs.iter().map(sym::to_ascii).collect();
        let joined = inner.join(",");
        if subs.len() == 1 {
            s = format!("{s}_{}", sub_text(&subs[0]));
        } else {
            s = format!("{s}_{{{joined}}}");
        }
    }
    if key.1 {
        s.push_str(".grad");
    }
    s
}

impl<'a> Walker<'a> {
    /// Whether a member is a declared random leaf.
    fn is_leaf(&self, key: &Key, sub: Option<&Expr>) -> bool {
        self.leaves.contains(&(key.clone(), None))
            || sub.is_some_and(|s| self.leaves.contains(&(key.clone(), Some(s.clone()))))
    }

    fn key(&self, r: &Ref) -> Key {
        (self.env.key_of(&r.name), r.grad)
    }

    fn is_family(&self, key: &Key) -> bool {
        self.env
            .tensors
            .get(&key.0)
            .is_some_and(|t| t.family_arity > 0)
    }

    /// The subscripts of a family reference under the current bindings.
    fn subs(&self, r: &Ref) -> Result<Vec<Expr>, String> {
        if !self.is_family(&self.key(r)) {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for ix in &r.name.sub {
            let mut e = index_expr(ix)?;
            for (v, val) in &self.bind {
                e = e.subs(v, val);
            }
            out.push(e);
        }
        Ok(out)
    }

    fn lower_scalar(&self, e: &ast::Expr) -> Result<Expr, String> {
        let mut x = scalar::lower(e, &Scope::default())?;
        for (v, val) in &self.bind {
            x = x.subs(v, val);
        }
        Ok(x)
    }

    /// The element distribution of a declaration.
    fn declared(
        &self,
        key: &Key,
        sub: Option<Expr>,
        dist: &ast::Call,
    ) -> Result<(Rv, bool), String> {
        let args: Vec<Expr> = dist
            .args
            .iter()
            .map(|a| self.lower_scalar(a))
            .collect::<Result<_, _>>()?;
        let src = Source::member(&leaf_name(key), sub);
        let rv = match (dist.func.name.as_str(), args.as_slice()) {
            ("normal", [m, v]) => {
                let mut rv = Rv::leaf(
                    src,
                    m.clone(),
                    v.clone() + Expr::pow(m.clone(), Expr::int(2)),
                );
                rv.gauss = Gauss::Exact;
                rv.symmetric = m.is_zero();
                rv
            }
            ("symmetric", [v]) => {
                let mut rv = Rv::leaf(src, Expr::zero(), v.clone());
                rv.symmetric = true;
                rv
            }
            ("moments", [m, s]) => Rv::leaf(src, m.clone(), s.clone()),
            ("uniform", [a, b]) => {
                let mean = (a.clone() + b.clone()) / Expr::int(2);
                let m2 = (Expr::pow(a.clone(), Expr::int(2))
                    + a.clone() * b.clone()
                    + Expr::pow(b.clone(), Expr::int(2)))
                    / Expr::int(3);
                let mut rv = Rv::leaf(src, mean, m2);
                rv.symmetric = (a.clone() + b.clone()).is_zero();
                rv
            }
            ("bernoulli", [p]) => {
                let mut rv = Rv::leaf(src, p.clone(), p.clone());
                rv.finite = Some(vec![
                    (Expr::zero(), Expr::one() - p.clone()),
                    (Expr::one(), p.clone()),
                ]);
                rv
            }
            (f, _) => return Err(format!("the distribution `{f}` has no moments rule")),
        };
        Ok((rv, true))
    }

    fn store(&mut self, key: Key, subs: Vec<Expr>, rv: Rv) {
        if subs.is_empty() {
            self.a.entries.insert(key, Entry::Plain(Box::new(rv)));
            return;
        }
        let sub = subs[0].clone();
        match self.a.entries.get_mut(&key) {
            Some(Entry::Family { members, .. }) => {
                members.retain(|(s, _)| *s != sub);
                members.push((sub, rv));
            }
            _ => {
                self.a.entries.insert(
                    key,
                    Entry::Family {
                        members: vec![(sub, rv)],
                        templates: vec![],
                    },
                );
            }
        }
    }

    /// The distribution of a member, if known.
    fn lookup(&self, key: &Key, subs: &[Expr]) -> Result<Rv, String> {
        let text = member_text(key, subs);
        match self.a.entries.get(key) {
            Some(Entry::Plain(rv)) if subs.is_empty() => Ok((**rv).clone()),
            Some(Entry::Family { members, templates }) if subs.len() == 1 => {
                let sub = &subs[0];
                if let Some((_, rv)) = members.iter().find(|(s, _)| sym::identical(s, sub)) {
                    return Ok(rv.clone());
                }
                if let Some(t) = templates.last() {
                    let val = sub.clone() - t.offset.clone();
                    return Ok(subs_rv(&t.rv, &t.var, &val));
                }
                Err(self.why(key, &text))
            }
            _ => Err(self.why(key, &text)),
        }
    }

    fn why(&self, key: &Key, text: &str) -> String {
        match self.a.unknown.get(key) {
            Some(w) => format!("the moments of {text} are not known: {w}"),
            None if self.is_family(key) && !key.1 => {
                format!("the moments of {text} are not known (tq has none for that member)")
            }
            None => format!("the moments of {text} are not known"),
        }
    }

    /// The distribution of one read element.
    fn read(&self, r: &Ref) -> Result<Rv, String> {
        let key = self.key(r);
        let subs = self.subs(r)?;
        let member = member_text(&key, &subs);
        let mut rv = self.lookup(&key, &subs)?;
        if rv.is_constant() {
            return Ok(rv);
        }
        let leaf = self.is_leaf(&key, subs.first());
        // Reads of an iid tensor at a position: distinct positions are independent.
        let state = rv.sources.iter().any(|s| s.member == "past");
        let iid = self.iid.contains(&key);
        if leaf {
            let this = Source::member(&leaf_name(&key), subs.first().cloned());
            if rv.mean.as_ref().is_some_and(|m| m.is_zero()) {
                // A zero-mean leaf: anything linear in it is uncorrelated with what
                // does not depend on it.
                rv.lin0 = vec![this.clone()];
            }
            rv.sources = [Source {
                pos: if iid { position(&r.indices) } else { None },
                ..this
            }]
            .into();
        } else if state && iid {
            rv.sources = [Source {
                pos: position(&r.indices),
                ..Source::whole(&format!("past:{member}"))
            }]
            .into();
        }
        if self.symbolic && !state {
            let fresh = self.fresh.contains(&key.0) && !subs.is_empty();
            if !fresh {
                rv.sources.insert(Source::whole("past"));
            }
        }
        if self.edge_dependent(r) {
            rv.approx.insert(BORDER.into());
        }
        if self.backward && !key.1 && !leaf {
            rv.sources.insert(Source::whole("forward pass"));
            rv.approx.insert(
                "the gradients are taken independent of the forward values they are multiplied by (the usual assumption of Glorot & Bengio)".into(),
            );
        }
        Ok(rv)
    }

    /// Whether the element a read gives depends on where the reading element is:
    /// positions that follow the boundary rule (two indices, a stride, a sign or a
    /// symbol factor: `x+dx`, `t-2dt`, `2x+1`, `-x`) read zeros outside the extent
    /// under zero padding, valid ranges and no rule (only circular padding wraps them);
    /// an index plus a constant (`x+1`) is never wrapped (docs/numeric.md), so the
    /// last elements read elements nobody wrote, under every rule — except along a
    /// loop's own variable, whose range the loop sets (`h[b,t-1,j]` for t in 1..T).
    fn edge_dependent(&self, r: &Ref) -> bool {
        let dims = self
            .env
            .tensors
            .get(&self.env.key_of(&r.name))
            .map(|t| t.dims.clone())
            .unwrap_or_default();
        r.indices.iter().flatten().enumerate().any(|(k, ix)| {
            let IndexExpr::Affine(a) = ix else {
                return false;
            };
            let wraps =
                a.terms.len() >= 2 || a.terms.iter().any(|t| t.coef != 1 || t.factors.len() != 1);
            if wraps {
                return match self.env.boundary {
                    Some(ast::Boundary::Circular) => false,
                    // Valid ranges: a tensor declared with its own extent (`X0` read at
                    // `s*x+dx`) is sized so that every read falls inside, as the rule
                    // says; a read at the extent of its own index (`t-2dt` on a `T`
                    // dimension) falls outside at the border and reads 0.
                    Some(ast::Boundary::Valid) => a.terms.iter().any(|t| {
                        t.factors.iter().any(|f| {
                            let lower = f.name.to_lowercase();
                            self.env
                                .index_size(&lower)
                                .or_else(|| self.env.index_size(&f.name))
                                .is_some_and(|s| dims.get(k) == Some(&s))
                        })
                    }),
                    _ => true,
                };
            }
            a.constant != 0
                && a.terms
                    .iter()
                    .all(|t| t.factors.iter().all(|f| !self.bind.contains_key(&f.name)))
                && !a.terms.is_empty()
        })
    }

    /// The distribution of one summand of a right-hand side (a product term).
    fn product(&self, e: &ast::Expr) -> Result<Rv, String> {
        match e {
            ast::Expr::Num(..) => Ok(Rv::constant(self.lower_scalar(e)?)),
            ast::Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                let name = print_name(&r.name);
                let key = (self.env.key_of(&r.name), false);
                if self.env.tensors.contains_key(&key.0)
                    || self.a.entries.contains_key(&key)
                    || self.a.unknown.contains_key(&key)
                {
                    return self.read(r);
                }
                if let Some(v) = self.bind.get(&name) {
                    return Ok(Rv::constant(v.clone()));
                }
                Ok(Rv::constant(Expr::sym(&name)))
            }
            ast::Expr::Ref(r) => self.read(r),
            ast::Expr::Unary(UnOp::Neg, x, _) => Ok(self.value(x)?.scale(&Expr::int(-1))),
            ast::Expr::Binary(op, l, r, _) => match op {
                BinOp::Add | BinOp::Sub => self.value(e),
                BinOp::Mul | BinOp::Jux => self.product(l)?.mul(&self.product(r)?),
                BinOp::Div => {
                    let d = self.product(r)?;
                    let Some(c) = d.value() else {
                        return Err("the moments of a quotient by a random value".into());
                    };
                    Ok(self.product(l)?.scale(&(Expr::one() / c.clone())))
                }
                BinOp::Pow => {
                    let b = self.product(l)?;
                    let p = self.lower_scalar(r)?;
                    match (b.value(), p.as_int()) {
                        (Some(v), _) => Ok(Rv::constant(Expr::pow(v.clone(), p))),
                        (None, Some(2)) => Ok(b.square()),
                        (None, Some(1)) => Ok(b),
                        _ => Err("the moments of a power other than the square".into()),
                    }
                }
            },
            ast::Expr::Call(c) => {
                let f = c.func.name.as_str();
                let Some(func) = Func::from_name(f) else {
                    return Err(format!("`{f}` has no moments rule"));
                };
                if c.args.len() != 1 {
                    return Err(format!("`{f}` takes one argument"));
                }
                let x = self.value(&c.args[0])?;
                if let Some(v) = x.value() {
                    return Ok(Rv::constant(Expr::func(func, v.clone())));
                }
                x.activation(func)
            }
            ast::Expr::Sum(ids, body, _) => {
                let names: Vec<String> = ids.iter().map(|i| i.name.clone()).collect();
                let t = self.product(body)?;
                self.sum_over(t, body, &names)
            }
            _ => Err(format!("`{}` has no moments rule", print_expr(e))),
        }
    }

    /// The size of a summed index (`I` → the size of `i`).
    fn summed_size(&self, name: &str) -> Result<Expr, String> {
        let lower = name.to_lowercase();
        self.env
            .index_size(&lower)
            .or_else(|| self.env.index_size(name))
            .map(|s| Expr::sym(&s))
            .ok_or_else(|| format!("the range of the summed index `{name}` is not known"))
    }

    /// Σ over `summed` of a term whose one summand has distribution `t`.
    fn sum_over(&self, t: Rv, term: &ast::Expr, summed: &[String]) -> Result<Rv, String> {
        if summed.is_empty() {
            return Ok(t);
        }
        let mut n = Expr::one();
        for s in summed {
            n = n * self.summed_size(s)?;
        }
        let reads = refs_in(term);
        let uses_all = |r: &Ref| {
            let vars: BTreeSet<String> = r
                .indices
                .iter()
                .flatten()
                .filter_map(|ix| match ix {
                    IndexExpr::Affine(a) => Some(
                        a.terms
                            .iter()
                            .flat_map(|t| t.factors.iter().map(|f| f.name.clone())),
                    ),
                    _ => None,
                })
                .flatten()
                .collect();
            summed.iter().all(|s| vars.contains(s))
        };
        let widen = |rv: &mut Rv| {
            rv.sources = rv.sources.iter().map(|s| s.summed_over(summed)).collect();
        };
        // Distinct zero-mean weights per summand: the summands are uncorrelated.
        let carrier = t.lin0.iter().find(|p| {
            reads.iter().any(|r| {
                let key = self.key(r);
                let subs = self.subs(r).unwrap_or_default();
                let same_sub = match (&p.sub, subs.first()) {
                    (Some(a), Some(b)) => sym::identical(a, b),
                    (None, None) => true,
                    _ => false,
                };
                p.member == leaf_name(&key) && same_sub && uses_all(r)
            })
        });
        if let Some(p) = carrier {
            {
                let mut out = t.clone();
                out.mean = Some(Expr::zero());
                out.m2 = t.m2.clone().map(|m| n.clone() * m);
                out.gauss = Gauss::Approx;
                out.symmetric = true;
                out.finite = None;
                out.var_bounds.clear();
                out.quad = None;
                out.approx_mean = None;
                out.positive_mean = false;
                out.rules.insert(format!(
                    "Var of a sum of uncorrelated terms (a distinct zero-mean weight of {} in each): {} × the variance of one",
                    p.text(),
                    sym::to_ascii(&n)
                ));
                widen(&mut out);
                return Ok(out);
            }
        }
        // Summands built from iid elements at distinct positions: independent.
        let mut random: Vec<&Ref> = Vec::new();
        for r in reads.iter().copied() {
            let key = self.key(r);
            if !(self.env.tensors.contains_key(&key.0) || self.a.entries.contains_key(&key)) {
                continue;
            }
            if !self.lookup(&key, &self.subs(r)?)?.is_constant() {
                random.push(r);
            }
        }
        if !random.is_empty()
            && random
                .iter()
                .all(|r| self.iid.contains(&self.key(r)) && uses_all(r))
        {
            let (Some(m), Some(v)) = (t.mean.clone(), t.var()) else {
                return Err("the moments of the summands are not known".into());
            };
            let mut out = t.clone();
            out.mean = Some(n.clone() * m.clone());
            out.m2 = Some(n.clone() * v + Expr::pow(n.clone() * m, Expr::int(2)));
            out.gauss = if t.gauss == Gauss::Exact {
                Gauss::Exact
            } else {
                Gauss::Approx
            };
            out.finite = None;
            out.var_bounds.clear();
            out.quad = None;
            out.approx_mean = None;
            out.lin0 = vec![];
            out.rules.insert(format!(
                "Var of a sum of independent terms (iid elements): {} × the variance of one",
                sym::to_ascii(&n)
            ));
            widen(&mut out);
            return Ok(out);
        }
        Err(format!(
            "tq cannot tell whether the terms of the sum over {} are uncorrelated",
            summed.join(", ")
        ))
    }

    /// The distribution of an expression: its additive terms, each summed over its own
    /// capital indices.
    fn value(&self, e: &ast::Expr) -> Result<Rv, String> {
        self.value_with(e, &[])
    }

    fn value_with(&self, e: &ast::Expr, extra: &[String]) -> Result<Rv, String> {
        let mut terms = Vec::new();
        split_terms(e, false, &mut terms);
        let mut acc: Option<Rv> = None;
        for (neg, t) in terms {
            let mut summed: Vec<String> = capitals(t);
            for x in extra {
                if !summed.contains(x) {
                    summed.push(x.clone());
                }
            }
            let one = self.product(t)?;
            let mut rv = self.sum_over(one, t, &summed)?;
            if neg {
                rv = rv.scale(&Expr::int(-1));
            }
            acc = Some(match acc {
                None => rv,
                Some(a) => a.add(&rv)?,
            });
        }
        acc.ok_or_else(|| "an empty expression".into())
    }

    fn equation(&mut self, eq: &ast::Equation, for_indices: &[String]) {
        let key = self.key(&eq.lhs);
        let subs = match self.subs(&eq.lhs) {
            Ok(s) => s,
            Err(e) => {
                self.a.unknown.insert(key, e);
                return;
            }
        };
        let member = member_text(&key, &subs);
        let lhs_vars: BTreeSet<String> = refs_vars(&eq.lhs);
        let extra: Vec<String> = for_indices
            .iter()
            .filter(|i| !lhs_vars.contains(*i))
            .cloned()
            .collect();
        // A statement that reads the member it writes, other than a `=` reading each
        // element where it writes it: later iterations see earlier writes.
        let self_read = refs_in(&eq.rhs).into_iter().any(|r| {
            let same = self.key(r) == key
                && self.subs(r).map_or(true, |s| {
                    s.len() == subs.len() && s.iter().zip(&subs).all(|(a, b)| sym::identical(a, b))
                });
            same && (eq.op != AssignOp::Set || r.indices != eq.lhs.indices)
        });
        let leaf_start = eq.op != AssignOp::Set
            && !self.written.contains(&member)
            && self.is_leaf(&key, subs.first());
        let result = if self_read {
            Err(format!(
                "{member} is read by the statement that writes it (iterations see each other's writes)"
            ))
        } else if let Some(why) = scattered(&eq.lhs) {
            // Elements written through a stride or a lookup receive a number of terms
            // that depends on the position (or on the looked-up values): the summed
            // indices do not count them.
            Err(format!("{member} is written at {why}"))
        } else {
            self.value_with(&eq.rhs, &extra)
        };
        let result = result.and_then(|rhs| {
            let rhs = if eq.op == AssignOp::SubAssign {
                rhs.scale(&Expr::int(-1))
            } else {
                rhs
            };
            if eq.op == AssignOp::Set || (!self.written.contains(&member) && !leaf_start) {
                Ok(rhs)
            } else {
                self.lookup(&key, &subs)?.add(&rhs)
            }
        });
        let iid_out = eq.op == AssignOp::Set && extra.is_empty() && self.iid_output(eq);
        self.written.insert(member);
        match result {
            Ok(rv) => {
                if iid_out {
                    self.iid.insert(key.clone());
                } else {
                    self.iid.remove(&key);
                }
                self.a.unknown.remove(&key);
                self.store(key, subs, rv)
            }
            Err(e) => {
                self.a.unknown.insert(key.clone(), e);
                if let Some(Entry::Plain(_)) = self.a.entries.get(&key) {
                    self.a.entries.remove(&key);
                }
            }
        }
    }

    /// Whether every element of the left side is computed from its own, disjoint set of
    /// iid elements (element-wise maps, and strided windows that do not overlap).
    fn iid_output(&self, eq: &ast::Equation) -> bool {
        if !capitals(&eq.rhs).is_empty() {
            return false;
        }
        let lhs_vars = refs_vars(&eq.lhs);
        let mut by_member: BTreeMap<String, Vec<rv::Position>> = BTreeMap::new();
        for r in refs_in(&eq.rhs) {
            let key = self.key(r);
            if !self.env.tensors.contains_key(&key.0) && !self.a.entries.contains_key(&key) {
                continue;
            }
            let Ok(subs) = self.subs(r) else { return false };
            let Ok(rv) = self.lookup(&key, &subs) else {
                return false;
            };
            if rv.is_constant() {
                continue;
            }
            if !self.iid.contains(&key) || refs_vars(r) != lhs_vars {
                return false;
            }
            let Some(pos) = position(&r.indices) else {
                return false;
            };
            by_member
                .entry(member_text(&key, &subs))
                .or_default()
                .push(pos);
        }
        // Reads of one member: per dimension the same variable and coefficient, and
        // constants closer together than the stride.
        by_member.values().all(|reads| {
            let first = &reads[0];
            (0..first.len()).all(|d| {
                let vars = &first[d].0;
                if reads.iter().any(|p| p[d].0 != *vars) {
                    return false;
                }
                let stride = vars.first().map(|(_, c)| c.abs()).unwrap_or(1);
                let lo = reads.iter().map(|p| p[d].1).min().unwrap_or(0);
                let hi = reads.iter().map(|p| p[d].1).max().unwrap_or(0);
                hi - lo < stride.max(1)
            })
        }) && by_member.len() <= 1
    }

    fn items(&mut self, items: &[Item], for_indices: &[String]) {
        for it in items {
            match &it.kind {
                ItemKind::Decl(d) => self.decl(d),
                ItemKind::Equation(eq) => self.equation(eq, for_indices),
                ItemKind::ForIndices(f) => {
                    let mut ids = for_indices.to_vec();
                    ids.extend(f.indices.iter().map(|i| i.name.clone()));
                    self.items(&f.body, &ids);
                }
                ItemKind::Loop(l) => self.run_loop(l),
                _ => {}
            }
        }
    }

    fn decl(&mut self, d: &ast::Decl) {
        let key = (self.env.key_of(&d.target.name), d.kind == DeclKind::Grad);
        let fam = d.family.is_some();
        let subs = if fam {
            vec![]
        } else {
            match self.subs(&d.target) {
                Ok(s) => s,
                Err(e) => {
                    self.a.unknown.insert(key, e);
                    return;
                }
            }
        };
        let _member = if fam {
            key.0.clone()
        } else {
            member_text(&key, &subs)
        };
        let rv = match &d.init {
            Some(Init::Dist(c)) => self
                .declared(&key, subs.first().cloned(), c)
                .map(|(rv, _)| rv),
            Some(Init::Value(v)) => self.lower_scalar(v).map(Rv::constant),
            None => Err("declared without a distribution".into()),
        };
        let rv = match rv {
            Ok(rv) => rv,
            Err(e) => {
                self.a.unknown.insert(key, e);
                return;
            }
        };
        self.iid.insert(key.clone());
        self.leaves.insert((
            key.clone(),
            if d.family.is_some() {
                None
            } else {
                subs.first().cloned()
            },
        ));
        if let Some(range) = &d.family {
            // Every member: the source names the member by the family variable.
            let var = range.var.name.clone();
            let mut rv = rv;
            if !rv.is_constant() {
                rv.sources = [Source::member(&leaf_name(&key), Some(Expr::sym(&var)))].into();
            }
            self.a.entries.insert(
                key,
                Entry::Family {
                    members: vec![],
                    templates: vec![Template {
                        var,
                        offset: Expr::zero(),
                        rv,
                    }],
                },
            );
        } else {
            self.store(key, subs, rv);
        }
    }

    fn run_loop(&mut self, lp: &ast::Loop) {
        let var = lp.range.var.name.clone();
        let (lo, hi) = match (
            self.lower_scalar(&lp.range.from),
            self.lower_scalar(&lp.range.to),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return,
        };
        // Offsets written and read per family (single subscript `var + c`).
        let mut writes: BTreeMap<Key, BTreeSet<i64>> = BTreeMap::new();
        let mut reads: BTreeMap<Key, BTreeSet<i64>> = BTreeMap::new();
        let mut complex = false;
        visit_refs(&lp.body, &mut |r, is_lhs| {
            let key = self.key(r);
            if !self.is_family(&key) {
                return;
            }
            if r.name.sub.len() != 1 {
                complex = true;
                return;
            }
            let Ok(e) = index_expr(&r.name.sub[0]) else {
                complex = true;
                return;
            };
            let off = e.clone() - Expr::sym(&var);
            match off.as_int() {
                Some(c) => {
                    if is_lhs {
                        writes.entry(key).or_default().insert(c);
                    } else {
                        reads.entry(key).or_default().insert(c);
                    }
                }
                None if e.free_symbols().contains(&var) => complex = true,
                None => {}
            }
        });
        let dir: i64 = if lp.reverse { -1 } else { 1 };
        let first = if lp.reverse { hi.clone() } else { lo.clone() };
        // State families: written at var + cw, read at var + cr with cw − cr = dir.
        let mut states: Vec<(Key, i64, i64)> = Vec::new();
        for (k, ws) in &writes {
            if ws.len() != 1 {
                continue;
            }
            let cw = *ws.iter().next().unwrap_or(&0);
            if let Some(rs) = reads.get(k) {
                for cr in rs {
                    if *cr != cw && cw - cr == dir {
                        states.push((k.clone(), *cr, cw));
                    }
                }
            }
        }
        // Fresh families: parameters and inputs read at a single offset.
        let fresh_offsets: Vec<(String, i64)> = reads
            .iter()
            .filter(|(k, offs)| {
                offs.len() == 1
                    && !writes.contains_key(*k)
                    && self.leaves.contains(&((*k).clone(), None))
            })
            .map(|(k, offs)| (leaf_name(k), *offs.iter().next().unwrap_or(&0)))
            .collect();
        let fresh: BTreeSet<String> = reads
            .iter()
            .filter(|(k, offs)| {
                offs.len() == 1
                    && !k.1
                    && !writes.contains_key(*k)
                    && self
                        .env
                        .tensors
                        .get(&k.0)
                        .is_some_and(|t| t.kind != crate::check::TensorKind::Computed)
            })
            .map(|(k, _)| k.0.clone())
            .collect();
        if complex {
            for k in writes.keys() {
                self.a.unknown.insert(
                    k.clone(),
                    "its loop has subscripts tq does not solve recurrences for (two subscripts, or a subscript that is not the loop variable plus a constant)".into(),
                );
            }
            return;
        }
        // The first iteration, concretely.
        let saved_bind = self.bind.clone();
        self.bind.insert(var.clone(), first.clone());
        self.written.clear();
        self.items(&lp.body, &[]);
        let after_first = self.a.clone();
        let iid_first = self.iid.clone();
        // The symbolic iteration with the state's moments as unknowns.
        let mut starts: BTreeMap<Key, (Expr, Rv)> = BTreeMap::new();
        for (k, cr, cw) in &states {
            let n0 = sym::simplify(&(first.clone() + Expr::int(*cr)));
            let n1 = sym::simplify(&(first.clone() + Expr::int(*cw)));
            let (Ok(s0), Ok(s1)) = (
                self.lookup(k, std::slice::from_ref(&n0)),
                self.lookup(k, &[n1]),
            ) else {
                self.a.unknown.insert(
                    k.clone(),
                    format!(
                        "the start {} of its recurrence has no known distribution",
                        member_text(k, &[n0])
                    ),
                );
                continue;
            };
            let mut ph = Rv::leaf(
                Source::whole("past"),
                Expr::sym(&mean_sym(k)),
                Expr::sym(&m2_sym(k)),
            );
            ph.symmetric = s0.symmetric && s1.symmetric;
            ph.gauss = s0.gauss.min(s1.gauss);
            // The step's rules are the symbolic iteration's own; the start's
            // approximations carry over.
            ph.approx = s1.approx.clone();
            if !(iid_first.contains(k)) {
                self.iid.remove(k);
            }
            starts.insert(k.clone(), (n0, s0));
            let sub = sym::simplify(&(Expr::sym(&var) + Expr::int(*cr)));
            self.store(k.clone(), vec![sub], ph);
        }
        let saved_fresh = std::mem::replace(&mut self.fresh, fresh);
        let saved_sym = self.symbolic;
        self.symbolic = true;
        self.bind.insert(var.clone(), Expr::sym(&var));
        self.written.clear();
        self.items(&lp.body, &[]);
        self.symbolic = saved_sym;
        self.fresh = saved_fresh;
        self.bind = saved_bind;
        // Read off and solve the recurrences.
        let mut closed: BTreeMap<String, Expr> = BTreeMap::new();
        let mut closed_by_key: BTreeMap<Key, (Expr, Expr)> = BTreeMap::new();
        let mut recs = Vec::new();
        for (k, cr, cw) in &states {
            let Some((n0, s0)) = starts.get(k) else {
                continue;
            };
            let wsub = sym::simplify(&(Expr::sym(&var) + Expr::int(*cw)));
            let next = match self.lookup(k, &[wsub]) {
                Ok(n) => n,
                Err(e) => {
                    self.a.unknown.insert(k.clone(), e);
                    continue;
                }
            };
            // Steps from the start to member n: (n − n0)·dir.
            let steps = |n: Expr| sym::simplify(&((n - n0.clone()) * Expr::int(dir)));
            let rec = solve_state(k, &next, s0, &var, *cr, *cw, n0, &steps);
            if let (Some(mc), Some(vc)) = (&rec.mean_closed, &rec.var_closed) {
                let at = |e: &Expr, c: i64| {
                    sym::simplify(&e.subs("#n", &(Expr::sym(&var) + Expr::int(c))))
                };
                let mean_state = at(mc, *cr);
                closed.insert(mean_sym(k), mean_state.clone());
                closed.insert(m2_sym(k), at(vc, *cr) + Expr::pow(mean_state, Expr::int(2)));
                closed_by_key.insert(k.clone(), (at(mc, *cw), at(vc, *cw)));
            }
            recs.push(rec);
        }
        // Templates for every family written in the loop.
        let unsolved = states.len() > closed.len() / 2;
        for (k, ws) in &writes {
            if ws.len() != 1 {
                continue;
            }
            let cw = *ws.iter().next().unwrap_or(&0);
            let wsub = sym::simplify(&(Expr::sym(&var) + Expr::int(cw)));
            let Ok(rv) = self.lookup(k, &[wsub]) else {
                continue;
            };
            if unsolved && mentions_state(&rv) {
                self.a.unknown.insert(
                    k.clone(),
                    "its recurrence has no closed form tq can derive".into(),
                );
                continue;
            }
            let mut rv = rv;
            for (s, v) in &closed {
                rv = subs_rv(&rv, s, v);
            }
            if let Some((m, v)) = closed_by_key.get(k) {
                // The state's own closed form reads better than the step applied to it.
                rv.m2 = Some(sym::simplify(
                    &(v.clone() + Expr::pow(m.clone(), Expr::int(2))),
                ));
                rv.mean = Some(m.clone());
            }
            // `past` (what the earlier iterations computed) becomes what it stands
            // for: the fresh families' members of the earlier iterations, and
            // whatever the starts depend on.
            if rv
                .sources
                .iter()
                .any(|s| s.member == "past" || s.member.starts_with("past:"))
            {
                rv.sources
                    .retain(|s| s.member != "past" && !s.member.starts_with("past:"));
                for (f, c) in &fresh_offsets {
                    rv.sources.insert(Source {
                        member: f.clone(),
                        // Members the earlier iterations read: up to var + c − 1
                        // (from var + c + 1 when the loop runs backward); this
                        // iteration's reads carry their own sources.
                        sub: Some(sym::simplify(&(Expr::sym(&var) + Expr::int(*c - dir)))),
                        reach: if dir > 0 {
                            rv::Reach::UpTo
                        } else {
                            rv::Reach::From
                        },
                        pos: None,
                    });
                }
                for (_, s0) in starts.values() {
                    rv.sources.extend(s0.sources.iter().map(|s| Source {
                        pos: None,
                        ..s.clone()
                    }));
                }
            }
            self.template(k.clone(), var.clone(), Expr::int(cw), rv);
        }
        // Members at subscripts in the loop variable were the symbolic run's; the
        // templates stand for them now (the iteration keeps them for covariances).
        let mut iteration = Iteration {
            var: var.clone(),
            members: BTreeMap::new(),
            closed: closed.clone(),
        };
        for (k, e) in &self.a.entries {
            if let Entry::Family { members, .. } = e {
                for (sub, rv) in members {
                    if sub.free_symbols().contains(&var) {
                        let off = sym::simplify(&(sub.clone() - Expr::sym(&var)));
                        iteration
                            .members
                            .entry(k.clone())
                            .or_default()
                            .push((off, rv.clone()));
                    }
                }
            }
        }
        self.a.iterations.push(iteration);
        for e in self.a.entries.values_mut() {
            if let Entry::Family { members, .. } = e {
                members.retain(|(s, _)| !s.free_symbols().contains(&var));
            }
        }
        let _ = after_first;
        self.iid = iid_first;
        self.a.recurrences.extend(recs);
    }

    fn template(&mut self, key: Key, var: String, offset: Expr, rv: Rv) {
        let t = Template { var, offset, rv };
        match self.a.entries.get_mut(&key) {
            Some(Entry::Family { templates, .. }) => templates.push(t),
            _ => {
                self.a.entries.insert(
                    key,
                    Entry::Family {
                        members: vec![],
                        templates: vec![t],
                    },
                );
            }
        }
    }
}

fn mentions_state(rv: &Rv) -> bool {
    let has = |e: &Option<Expr>| {
        e.as_ref().is_some_and(|e| {
            e.free_symbols()
                .iter()
                .any(|s| s.starts_with("E#") || s.starts_with("M#"))
        })
    };
    has(&rv.mean) || has(&rv.m2)
}

/// Substitutes a symbol in every expression of a distribution.
pub fn subs_rv(rv: &Rv, name: &str, value: &Expr) -> Rv {
    let s = |e: &Expr| sym::simplify(&e.subs(name, value));
    let mut out = rv.clone();
    out.mean = rv.mean.as_ref().map(s);
    out.m2 = rv.m2.as_ref().map(s);
    out.approx_mean = rv.approx_mean.as_ref().map(|(e, r)| (s(e), r.clone()));
    out.var_bounds = rv
        .var_bounds
        .iter()
        .map(|(e, r)| (s(e), r.clone()))
        .collect();
    out.quad = rv.quad.as_ref().map(|q| rv::Quad {
        func: q.func,
        mean: s(&q.mean),
        var: s(&q.var),
        approx: q.approx,
    });
    out.finite = rv
        .finite
        .as_ref()
        .map(|f| f.iter().map(|(v, p)| (s(v), s(p))).collect());
    out.sources = rv.sources.iter().map(|x| x.subs(name, value)).collect();
    out.lin0 = rv.lin0.iter().map(|x| x.subs(name, value)).collect();
    out
}

/// `x' = a x + b` → the value after k steps from x0.
fn geometric(a: &Expr, b: &Expr, x0: &Expr, k: &Expr) -> Expr {
    if sym::identical(a, &Expr::one()) {
        return sym::simplify(&(x0.clone() + b.clone() * k.clone()));
    }
    let ak = Expr::pow(a.clone(), k.clone());
    if b.is_zero() {
        return sym::simplify(&(ak * x0.clone()));
    }
    sym::simplify(
        &(ak.clone() * x0.clone() + b.clone() * (ak - Expr::one()) / (a.clone() - Expr::one())),
    )
}

/// Splits `f(x)` into `a x + b` when it is linear in `x` with a, b free of `others`.
fn linear_in(f: &Expr, x: &str, others: &[&str]) -> Option<(Expr, Expr)> {
    let f = sym::expand(f);
    let a = sym::simplify(&f.diff(x));
    let b = sym::simplify(&(f.clone() - a.clone() * Expr::sym(x)));
    let free = |e: &Expr| {
        let fs = e.free_symbols();
        !fs.contains(x) && others.iter().all(|o| !fs.contains(*o))
    };
    if free(&a) && free(&b) {
        Some((a, b))
    } else {
        None
    }
}

#[allow(clippy::too_many_arguments)]
fn solve_state(
    k: &Key,
    next: &Rv,
    start: &Rv,
    var: &str,
    cr: i64,
    cw: i64,
    n0: &Expr,
    steps: &dyn Fn(Expr) -> Expr,
) -> Recurrence {
    let (ms, vs) = (mean_sym(k), m2_sym(k));
    let sub_read = sym::simplify(&(Expr::sym(var) + Expr::int(cr)));
    let sub_write = sym::simplify(&(Expr::sym(var) + Expr::int(cw)));
    let mut rec = Recurrence {
        tensor: k.0.clone(),
        grad: k.1,
        var: var.to_string(),
        from: sub_read,
        to: sub_write,
        mean_step: Expr::zero(),
        var_step: None,
        mean_closed: None,
        var_closed: None,
        start: n0.clone(),
        rules: next.rules.clone(),
        approx: next.approx.clone(),
        unsolved: None,
    };
    let (Some(mean), Some(m2)) = (&next.mean, &next.m2) else {
        rec.unsolved = Some("the next member's moments are not known exactly".into());
        return rec;
    };
    let (Some(m0), Some(v0)) = (start.mean.clone(), start.var()) else {
        rec.unsolved = Some("the start's moments are not known".into());
        return rec;
    };
    rec.mean_step = sym::simplify(&mean.subs(&ms, &Expr::sym("x")));
    let Some((am, bm)) = linear_in(mean, &ms, &[var, &vs]) else {
        rec.unsolved =
            Some("the mean's recurrence is not linear with constant coefficients".into());
        return rec;
    };
    // Var(next) in terms of Var(state) and E(state).
    let v_next = sym::simplify(&(m2.clone() - Expr::pow(mean.clone(), Expr::int(2))));
    let v_in = Expr::sym("#v");
    let v_next_in_var = sym::simplify(&v_next.subs(
        &vs,
        &(v_in.clone() + Expr::pow(Expr::sym(&ms), Expr::int(2))),
    ));
    rec.var_step = Some(sym::simplify(
        &v_next_in_var
            .subs("#v", &Expr::sym("x"))
            .subs(&ms, &Expr::sym("E")),
    ));
    let n = Expr::sym("#n");
    let kk = steps(n.clone());
    let mean_closed = geometric(&am, &bm, &m0, &kk);
    // The variance recurrence once the mean is known in closed form at the state.
    let mean_at_state = mean_closed.subs("#n", &(Expr::sym(var) + Expr::int(cr)));
    let v_only = sym::simplify(&v_next_in_var.subs(&ms, &mean_at_state));
    let Some((av, bv)) = linear_in(&v_only, "#v", &[var]) else {
        rec.unsolved =
            Some("the variance's recurrence is not linear with constant coefficients".into());
        rec.mean_closed = Some(mean_closed);
        return rec;
    };
    rec.mean_closed = Some(mean_closed);
    rec.var_closed = Some(geometric(&av, &bv, &v0, &kk));
    rec
}

/// Why the elements of a left side are not each written by the same number of terms
/// of the statement: a position with a stride, two indices, a symbol factor or a
/// lookup (the gather form leaves such writes as scatters). `None` for plain indices,
/// an index plus a constant and fixed positions.
fn scattered(lhs: &Ref) -> Option<String> {
    for ix in lhs.indices.iter().flatten() {
        match ix {
            IndexExpr::Lookup(_) => {
                return Some(format!(
                    "a looked-up position ({}): how many terms reach each element depends on the looked-up values",
                    crate::syntax::printer::print_ref(lhs)
                ))
            }
            IndexExpr::Affine(a) => {
                let plain = a.terms.is_empty()
                    || (a.terms.len() == 1
                        && a.terms[0].coef == 1
                        && a.terms[0].factors.len() == 1);
                if !plain {
                    return Some(format!(
                        "a strided position ({}, a scatter in the gather form): how many terms reach each element depends on the element, and tq does not count them",
                        crate::syntax::printer::print_ref(lhs)
                    ));
                }
            }
        }
    }
    None
}

/// The additive terms of an expression, with their signs.
/// The terms of a sum with their signs (`true`: subtracted).
pub fn split_terms<'e>(e: &'e ast::Expr, neg: bool, out: &mut Vec<(bool, &'e ast::Expr)>) {
    match e {
        ast::Expr::Binary(BinOp::Add, l, r, _) => {
            split_terms(l, neg, out);
            split_terms(r, neg, out);
        }
        ast::Expr::Binary(BinOp::Sub, l, r, _) => {
            split_terms(l, neg, out);
            split_terms(r, !neg, out);
        }
        ast::Expr::Unary(UnOp::Neg, x, _) => split_terms(x, !neg, out),
        other => out.push((neg, other)),
    }
}

/// Capital (summed) indices of a product term, outside function arguments and inner sums.
fn capitals(e: &ast::Expr) -> Vec<String> {
    fn walk(e: &ast::Expr, out: &mut Vec<String>) {
        match e {
            ast::Expr::Ref(r) => {
                for ix in r.indices.iter().flatten() {
                    if let IndexExpr::Affine(a) = ix {
                        for t in &a.terms {
                            for f in &t.factors {
                                if f.name.chars().next().is_some_and(|c| c.is_uppercase())
                                    && !out.contains(&f.name)
                                {
                                    out.push(f.name.clone());
                                }
                            }
                        }
                    }
                }
            }
            ast::Expr::Unary(_, x, _) => walk(x, out),
            ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..) => {}
            ast::Expr::Binary(_, l, r, _) => {
                walk(l, out);
                walk(r, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

/// The tensor references of an expression outside function arguments.
fn refs_in(e: &ast::Expr) -> Vec<&Ref> {
    fn walk<'e>(e: &'e ast::Expr, out: &mut Vec<&'e Ref>) {
        match e {
            ast::Expr::Ref(r) => out.push(r),
            ast::Expr::Unary(_, x, _) => walk(x, out),
            ast::Expr::Binary(_, l, r, _) => {
                walk(l, out);
                walk(r, out);
            }
            ast::Expr::Call(c) => c.args.iter().for_each(|a| walk(a, out)),
            ast::Expr::Sum(_, b, _) => walk(b, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

fn refs_vars(r: &Ref) -> BTreeSet<String> {
    r.indices
        .iter()
        .flatten()
        .filter_map(|ix| match ix {
            IndexExpr::Affine(a) => Some(
                a.terms
                    .iter()
                    .flat_map(|t| t.factors.iter().map(|f| f.name.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Every tensor reference of a block: `f(ref, is_left_side)`.
fn visit_refs(items: &[Item], f: &mut dyn FnMut(&Ref, bool)) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => {
                f(&eq.lhs, true);
                for r in refs_in(&eq.rhs) {
                    f(r, false);
                }
            }
            ItemKind::ForIndices(fi) => visit_refs(&fi.body, f),
            ItemKind::Loop(l) => visit_refs(&l.body, f),
            _ => {}
        }
    }
}

/// The moments of every tensor of a checked program, forward and (with the derived
/// backward program in gather form) backward.
pub fn analyze(program: &Program, env: &Env, backward: &[Item]) -> Analysis {
    let mut w = Walker {
        env,
        a: Analysis::default(),
        bind: BTreeMap::new(),
        fresh: BTreeSet::new(),
        symbolic: false,
        backward: false,
        iid: BTreeSet::new(),
        written: BTreeSet::new(),
        leaves: BTreeSet::new(),
    };
    w.items(&program.items, &[]);
    if !backward.is_empty() {
        let gathered: Vec<Item> = crate::grad::gather_form(backward, env)
            .into_iter()
            .map(|g| g.item)
            .collect();
        w.backward = true;
        w.items(&gathered, &[]);
    }
    w.a.leaves = w.leaves.clone();
    w.a.iid = w.iid.clone();
    match env.boundary {
        Some(ast::Boundary::Zero) => w.a.notes.push(
            "zero padding: the moments hold away from the border (positions whose shifted reads all fall inside); border positions have less variance".into(),
        ),
        Some(ast::Boundary::Circular) => w
            .a
            .notes
            .push("circular padding: every position has the same moments".into()),
        _ => {}
    }
    w.a
}

/// A moment a claim asks for, as an expression, with how it was obtained.
#[derive(Clone, Debug)]
pub struct Moment {
    pub value: Expr,
    pub rules: BTreeSet<String>,
    pub approx: BTreeSet<String>,
    /// Upper bounds when the value itself is an unknown symbol.
    pub bounds: Vec<(Expr, String)>,
    /// Opaque symbols in `value` with their approximate values and reasons.
    pub opaque: BTreeMap<String, Opaque>,
}

/// What is known of a moment that has no exact closed form.
#[derive(Clone, Debug)]
pub struct Opaque {
    pub approx: Option<(Expr, String)>,
    pub positive: bool,
    pub quad: Option<(rv::Quad, bool)>,
}

impl Analysis {
    /// Cov of two family members written or read in the same iteration of a loop
    /// (`Cov(L_l[...], R_{l+1}[...])`), from that iteration's distributions.
    #[allow(clippy::type_complexity)]
    fn same_iteration_cov(
        &self,
        env: &Env,
        x: &ast::Expr,
        y: &ast::Expr,
    ) -> Option<Result<(Expr, BTreeSet<String>), String>> {
        let (ast::Expr::Ref(rx), ast::Expr::Ref(ry)) = (x, y) else {
            return None;
        };
        let sub = |r: &Ref| -> Option<(Key, Expr)> {
            if r.name.sub.len() != 1 {
                return None;
            }
            Some((
                (env.key_of(&r.name), r.grad),
                index_expr(&r.name.sub[0]).ok()?,
            ))
        };
        let ((kx, sx), (ky, sy)) = (sub(rx)?, sub(ry)?);
        for it in &self.iterations {
            let (Some(mx), Some(my)) = (it.members.get(&kx), it.members.get(&ky)) else {
                continue;
            };
            for (ox, a) in mx {
                for (oy, b) in my {
                    let tx = sym::simplify(&(sx.clone() - ox.clone()));
                    let ty = sym::simplify(&(sy.clone() - oy.clone()));
                    if !sym::identical(&tx, &ty) {
                        continue;
                    }
                    let result = a.cross(b).and_then(|(cross, rule)| {
                        let (Some(ma), Some(mb)) = (&a.mean, &b.mean) else {
                            return Err("the means are not known".to_string());
                        };
                        let mut v = cross - ma.clone() * mb.clone();
                        for (name, c) in &it.closed {
                            v = v.subs(name, c);
                        }
                        let v = sym::simplify(&v.subs(&it.var, &tx));
                        let mut rules: BTreeSet<String> =
                            a.rules.union(&b.rules).cloned().collect();
                        rules.insert(format!(
                            "Cov within one iteration of the loop over {}: {rule}",
                            it.var
                        ));
                        Ok((v, rules))
                    });
                    return Some(result);
                }
            }
        }
        None
    }

    /// The distribution of the element a reference names (`L_{l+1}`, `y`, `x_k^2`,
    /// `L_l[b,x,y,j]`), with the family subscripts as written.
    pub fn element(&self, env: &Env, e: &ast::Expr) -> Result<Rv, String> {
        let w = Walker {
            env,
            a: self.clone(),
            bind: BTreeMap::new(),
            fresh: BTreeSet::new(),
            symbolic: false,
            backward: false,
            iid: self.iid.clone(),
            written: BTreeSet::new(),
            leaves: self.leaves.clone(),
        };
        w.value(e)
    }

    /// `E(x)`, `Var(x)`, `Cov(x, y)` as expressions.
    pub fn moment(&self, env: &Env, call: &ast::Call) -> Result<Moment, String> {
        let f = call.func.name.as_str();
        let text = print_expr(&ast::Expr::Call(call.clone()));
        let mut m = Moment {
            value: Expr::zero(),
            rules: BTreeSet::new(),
            approx: BTreeSet::new(),
            bounds: vec![],
            opaque: BTreeMap::new(),
        };
        match (f, call.args.as_slice()) {
            ("E", [x]) => {
                let rv = self.element(env, x)?;
                m.rules = rv.rules.clone();
                m.approx = rv.approx.clone();
                m.value = match &rv.mean {
                    Some(v) => v.clone(),
                    None => {
                        m.opaque.insert(
                            text.clone(),
                            Opaque {
                                approx: rv.approx_mean.clone(),
                                positive: rv.positive_mean,
                                quad: rv.quad.clone().map(|q| (q, false)),
                            },
                        );
                        Expr::sym(&text)
                    }
                };
            }
            ("Var", [x]) => {
                let rv = self.element(env, x)?;
                m.rules = rv.rules.clone();
                m.approx = rv.approx.clone();
                let mean = match &rv.mean {
                    Some(v) => v.clone(),
                    None => {
                        let t = format!("E({})", print_expr(x));
                        m.opaque.insert(
                            t.clone(),
                            Opaque {
                                approx: rv.approx_mean.clone(),
                                positive: rv.positive_mean,
                                quad: rv.quad.clone().map(|q| (q, false)),
                            },
                        );
                        Expr::sym(&t)
                    }
                };
                m.value = match &rv.m2 {
                    Some(m2) => sym::simplify(&(m2.clone() - Expr::pow(mean, Expr::int(2)))),
                    None => {
                        m.bounds = rv.var_bounds.clone();
                        m.opaque.insert(
                            text.clone(),
                            Opaque {
                                approx: None,
                                positive: false,
                                quad: rv.quad.clone().map(|q| (q, true)),
                            },
                        );
                        m.opaque.retain(|k, _| *k == text);
                        Expr::sym(&text)
                    }
                };
            }
            ("Cov", [x, y]) => {
                if let Some(v) = self.same_iteration_cov(env, x, y) {
                    let (value, rules) = v?;
                    m.value = value;
                    m.rules = rules;
                    return Ok(m);
                }
                let a = self.element(env, x)?;
                let b = self.element(env, y)?;
                let (cross, rule) = a.cross(&b)?;
                let (Some(ma), Some(mb)) = (&a.mean, &b.mean) else {
                    return Err("the means are not known".into());
                };
                m.rules = a.rules.union(&b.rules).cloned().collect();
                m.rules.insert(format!("Cov: {rule}"));
                m.approx = a.approx.union(&b.approx).cloned().collect();
                m.value = sym::simplify(&(cross - ma.clone() * mb.clone()));
            }
            _ => return Err(format!("`{f}` takes one argument (two for Cov)")),
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(src: &str) -> (Analysis, Env, Program) {
        let parsed = crate::syntax::parser::parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program;
        let (env, diags) = crate::check::check(&program);
        assert!(diags.is_empty(), "{diags:?}");
        let back = crate::grad::backward(&program, &env);
        (analyze(&program, &env, &back.items), env, program)
    }

    fn var_of(a: &Analysis, env: &Env, text: &str) -> String {
        let p = crate::syntax::parser::parse(&format!("claim Var({text}) == 0\n")).program;
        let ItemKind::Claim(c) = &p.items[0].kind else {
            panic!()
        };
        let ast::Expr::Rel(_, l, _, _) = &c.body else {
            panic!()
        };
        let ast::Expr::Call(call) = &**l else {
            panic!()
        };
        match a.moment(env, call) {
            Ok(m) => sym::to_ascii(&m.value),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn single_unit_variance() {
        let (a, env, _) = analysis(
            "size d\nindex i : d\nsymbol sigma\nparam W[d] ~ normal(0, sigma^2)\ninput x[d] ~ normal(0, 1)\ny = W[I] x[I]\n",
        );
        assert_eq!(var_of(&a, &env, "y"), "d*sigma^2");
    }

    #[test]
    fn deep_linear_recurrence() {
        let (a, env, _) = analysis(
            "size M, K\nindex i, j : M\nsymbol sigma\nparam W_k[M, M] ~ normal(0, sigma^2) for k in 1..K\ninput y_0[M] ~ normal(0, 1)\nfor k in 1..K:\n  y_k[j] = W_k[j, I] y_{k-1}[I]\n",
        );
        assert_eq!(var_of(&a, &env, "y_k"), "(M*sigma^2)^k");
        assert_eq!(var_of(&a, &env, "y_2"), "M^2*sigma^4");
    }
}
