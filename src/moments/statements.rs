//! Statements: equations, declarations, blocks, and loops: a family's recurrence read
//! off one concrete and one symbolic iteration.

use super::recurrence::{holds_state, mentions_state, solve_state, subs_rv};
use super::refs::{capitals, refs_in, refs_vars, scattered, visit_refs};
use super::rv::{Rv, Source};
use super::walker::{leaf_name, member_text, Walker};
use super::{index_expr, m2_sym, mean_sym, position, rv, Entry, Iteration, Key, Template};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, AssignOp, DeclKind, Init, Item, ItemKind};
use std::collections::{BTreeMap, BTreeSet};

/// A member: its key and subscripts (None: subscripts tq cannot read).
type Member = (Key, Option<Vec<Expr>>);

impl Walker<'_> {
    fn equation(&mut self, eq: &ast::Equation, for_indices: &[String], early: Option<String>) {
        let key = self.key(&eq.lhs);
        let subs = match self.subs(&eq.lhs) {
            Ok(s) => s,
            Err(e) => {
                self.a.to_mut().unknown.insert(key, e);
                return;
            }
        };
        let member = member_text(&key, &subs);
        if self.a.linear.contains_key(&key) {
            self.a.to_mut().linear.remove(&key);
        }
        if eq.op == AssignOp::Set
            && for_indices.is_empty()
            && subs.is_empty()
            && !key.1
            && self.bind.is_empty()
            && !self.written.contains(&member)
        {
            if let Some(form) = self.linear_form(eq) {
                self.a.to_mut().linear.insert(key.clone(), form);
            }
        }
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
        } else if let Some(why) = self.accumulated.get(&key) {
            Err(why.clone())
        } else if let Some(why) = early {
            Err(why)
        } else if let Some(why) = fixed_part(&eq.lhs, self.env.tensor_of(&eq.lhs.name)) {
            Err(why)
        } else if let Some(why) = scattered(&eq.lhs) {
            // Elements written through a stride or a lookup receive a number of terms
            // that depends on the position (or on the looked-up values): the summed
            // indices do not count them.
            Err(format!("{member} is written at {why}"))
        } else {
            self.value_with(&eq.rhs, &extra)
        };
        let result = result.and_then(|rhs| {
            let rhs = super::walker::compact(rhs);
            moments_within_budget(&member, &rhs)?;
            let rhs = if eq.op == AssignOp::SubAssign {
                rhs.scale(&Expr::int(-1))
            } else {
                rhs
            };
            if eq.op == AssignOp::Set || (!self.written.contains(&member) && !leaf_start) {
                Ok(rhs)
            } else {
                self.lookup(&key, &subs)?.add_owned(&rhs)
            }
        });
        let result = result.and_then(|rv| {
            let mut rv = super::walker::compact(rv);
            // A sum over a padded extent at a shift by an own index (probe38/p a02).
            if self.shifted_sum(eq).is_some() {
                rv.approx.insert(super::rule::Approximation::ShiftedSum);
            }
            moments_within_budget(&member, &rv).map(|()| rv)
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
                self.a.to_mut().unknown.remove(&key);
                self.store(key, subs, rv)
            }
            Err(e) => {
                self.a.to_mut().unknown.insert(key.clone(), e);
                if let Some(Entry::Plain(_)) = self.a.entries.get(&key) {
                    self.a.to_mut().entries.remove(&key);
                }
            }
        }
    }

    /// The right side as a linear combination of declared tensors read at the left side's
    /// own index list (directly, or through tensors recorded so), with constant
    /// coefficients; `None` for anything else (a product of two random values, a shifted
    /// or summed read, a function).
    fn linear_form(&self, eq: &ast::Equation) -> Option<(String, Vec<(Key, Expr)>)> {
        let list = crate::syntax::printer::print_ref(&ast::Ref {
            name: eq.lhs.name.clone(),
            ..eq.lhs.clone()
        });
        // Index lists compared as printed (the syntax tree carries spans).
        let own = |r: &ast::Ref| {
            r.indices.is_some()
                && crate::syntax::printer::print_ref(&ast::Ref {
                    indices: r.indices.clone(),
                    ..eq.lhs.clone()
                }) == crate::syntax::printer::print_ref(&eq.lhs)
        };
        let lhs_list = list[list.find('[')?..].to_string();
        let mut terms = Vec::new();
        super::refs::split_terms(&eq.rhs, false, &mut terms);
        let mut out: Vec<(Key, Expr)> = Vec::new();
        let add =
            |k: Key, c: Expr, out: &mut Vec<(Key, Expr)>| match out.iter_mut().find(|x| x.0 == k) {
                Some(x) => x.1 = x.1.clone() + c,
                None => out.push((k, c)),
            };
        for (neg, t) in terms {
            let mut factors = Vec::new();
            super::expr::product_factors(t, &mut factors);
            let mut coef = Expr::int(if neg { -1 } else { 1 });
            let mut read: Option<&ast::Ref> = None;
            for f in factors {
                match f {
                    ast::Expr::Ref(r) if r.indices.is_some() => {
                        if read.is_some() || r.grad || !own(r) {
                            return None;
                        }
                        read = Some(r);
                    }
                    other => {
                        // A constant factor reads no tensor and no computed value (a
                        // computed scalar such as a batch mean is random).
                        let random = refs_in(other).iter().any(|r| {
                            let k = self.key(r);
                            r.indices.is_some()
                                || r.grad
                                || self.env.tensors.contains_key(&k.0)
                                || self.a.entries.contains_key(&k)
                                || self.a.unknown.contains_key(&k)
                                || self.a.entries.contains_key(&(k.0.clone(), false))
                        });
                        if random {
                            return None;
                        }
                        let c = self.lower_scalar(other).ok()?;
                        coef = coef * c;
                    }
                }
            }
            let r = read?;
            let k = self.key(r);
            if self.a.entries.contains_key(&k) && self.is_leaf(&k, None) && self.iid.contains(&k) {
                add(k, coef, &mut out);
            } else if let Some((l, form)) = self.a.linear.get(&k) {
                if *l != lhs_list {
                    return None;
                }
                for (k2, c2) in form {
                    add(k2.clone(), coef.clone() * c2.clone(), &mut out);
                }
            } else {
                return None;
            }
        }
        Some((lhs_list, out))
    }

    /// Whether every element of the left side is computed from its own, disjoint set of
    /// iid elements (element-wise maps, and strided windows that do not overlap).
    fn iid_output(&self, eq: &ast::Equation) -> bool {
        if !capitals(&eq.rhs).is_empty() {
            return false;
        }
        let lhs_vars = refs_vars(&eq.lhs);
        let mut by_member: BTreeMap<String, Vec<rv::Position>> = BTreeMap::new();
        // The random leaves each read member rests on: two members may be combined only
        // when they share none (then the elements at one position are independent of
        // those at every other position).
        let mut leaves: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
            let member = member_text(&key, &subs);
            leaves
                .entry(member.clone())
                .or_default()
                .extend(rv.sources.iter().map(|s| s.member.clone()));
            by_member.entry(member).or_default().push(pos);
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
        }) && (by_member.len() <= 1 || disjoint_leaves(&leaves))
    }

    /// The statements of a `for` block that read, at another position than the one
    /// being written, a member some statement of the block writes (the block runs its
    /// statements element by element, in order: such a read sees a value not yet
    /// written, or one written by an earlier iteration, depending on the position and
    /// the padding; the statement-at-a-time walk would see every element written).
    /// Returned as (statement, reason), for the statements of the block at any depth.
    fn early_reads<'i>(&self, body: &'i [Item]) -> Vec<(&'i ast::Equation, String)> {
        fn eqs<'i>(items: &'i [Item], out: &mut Vec<&'i ast::Equation>) {
            for it in items {
                match &it.kind {
                    ItemKind::Equation(e) => out.push(e),
                    ItemKind::ForIndices(f) => eqs(&f.body, out),
                    ItemKind::Loop(l) => eqs(&l.body, out),
                    _ => {}
                }
            }
        }
        let mut all = Vec::new();
        eqs(body, &mut all);
        let member = |r: &ast::Ref| {
            let key = self.key(r);
            let subs = self.subs(r).ok();
            (key, subs)
        };
        let same_member = |a: &Member, b: &Member| {
            a.0 == b.0
                && match (&a.1, &b.1) {
                    (Some(x), Some(y)) => {
                        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| sym::identical(p, q))
                    }
                    // Subscripts tq cannot read: possibly the same member.
                    _ => true,
                }
        };
        let writes: Vec<(&ast::Equation, Member)> =
            all.iter().map(|w| (*w, member(&w.lhs))).collect();
        let mut out = Vec::new();
        for eq in &all {
            let hit = refs_in(&eq.rhs).into_iter().find_map(|r| {
                let m = member(r);
                writes.iter().find_map(|(w, wm)| {
                    let at_write = position(&r.indices).is_some()
                        && position(&r.indices) == position(&w.lhs.indices);
                    (same_member(&m, wm) && !at_write && !self.disjoint(r, &w.lhs))
                        .then(|| member_text(&m.0, &wm.1.clone().unwrap_or_default()))
                })
            });
            if let Some(t) = hit {
                out.push((
                    *eq,
                    format!(
                        "it reads {t} at another position than the one written, and {t} is written in the same for block: read before it is written in the same for block (the block runs element by element)"
                    ),
                ));
            }
        }
        out
    }

    /// Whether a read and a write of one member never touch the same element: in some
    /// dimension both subscripts use only loop variables (fixed for the block) and
    /// differ by a nonzero constant (`h.grad[b,t,j]` read, `h.grad[b,t-1,j]` written).
    fn disjoint(&self, r: &ast::Ref, w: &ast::Ref) -> bool {
        let (Some(ri), Some(wi)) = (&r.indices, &w.indices) else {
            return false;
        };
        ri.len() == wi.len()
            && ri.iter().zip(wi).any(|(a, b)| {
                let (Ok(a), Ok(b)) = (index_expr(a), index_expr(b)) else {
                    return false;
                };
                let fixed = |e: &Expr| e.free_symbols().iter().all(|v| self.bind.contains_key(v));
                fixed(&a) && fixed(&b) && sym::simplify(&(a - b)).as_int().is_some_and(|c| c != 0)
            })
    }

    pub(super) fn items(&mut self, items: &[Item], for_indices: &[String]) {
        self.items_early(items, for_indices, &[]);
    }

    fn items_early(
        &mut self,
        items: &[Item],
        for_indices: &[String],
        early: &[(&ast::Equation, String)],
    ) {
        for it in items {
            match &it.kind {
                ItemKind::Decl(d) => {
                    let key = (self.env.key_of(&d.target.name), d.kind == DeclKind::Grad);
                    self.with_conditions(key, |w| w.decl(d))
                }
                ItemKind::Equation(eq) => {
                    let why = early
                        .iter()
                        .find(|(e, _)| std::ptr::eq(*e, eq))
                        .map(|(_, w)| w.clone());
                    let key = self.key(&eq.lhs);
                    self.with_conditions(key, |w| w.equation(eq, for_indices, why))
                }
                ItemKind::ForIndices(f) => {
                    let mut ids = for_indices.to_vec();
                    ids.extend(f.indices.iter().map(|i| i.name.clone()));
                    let mut inner = early.to_vec();
                    if for_indices.is_empty() {
                        inner = self.early_reads(&f.body);
                    }
                    self.items_early(&f.body, &ids, &inner);
                }
                ItemKind::Loop(l) => self.run_loop(l),
                _ => {}
            }
        }
    }

    /// Runs `f` (the walk of one statement or declaration writing `key`) collecting the
    /// definedness conditions of what it builds, with those of the tensors it reads
    /// ([`Walker::lookup`] notes them), and keeps those over the file's symbols and
    /// sizes with `key` ([`Analysis::conditions`]). A condition on a loop variable, an
    /// index or an engine placeholder (`M#h`) is left out.
    fn with_conditions(&mut self, key: Key, f: impl FnOnce(&mut Self)) {
        let ((), found) = sym::collecting(|| f(self));
        let env = self.env;
        let named = |s: &String| {
            env.sizes.contains_key(s) || env.symbols.contains_key(s) || env.scalars.contains_key(s)
        };
        let kept: Vec<sym::Condition> = found
            .into_iter()
            .filter(|c| c.expr().free_symbols().iter().all(named))
            .filter(|c| match c {
                sym::Condition::Power(_, x) => x.free_symbols().iter().all(named),
                _ => true,
            })
            .collect();
        if !kept.is_empty() {
            self.a
                .to_mut()
                .conditions
                .entry(key)
                .or_default()
                .extend(kept);
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
                    self.a.to_mut().unknown.insert(key, e);
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
        // A scalar leaf a claim's given sets (`given a == 2`): that constant, whatever
        // its declaration (crit43, probe43 r22).
        let set = (!fam && d.target.indices.is_none())
            .then(|| {
                let name = crate::syntax::printer::print_name(&d.target.name);
                self.settings
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            })
            .flatten();
        let rv = match set {
            Some(v) => Ok(Rv::constant(v)),
            None => rv,
        };
        let rv = match rv {
            Ok(rv) => rv,
            Err(e) => {
                self.a.to_mut().unknown.insert(key, e);
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
            // Members declared before the family (`param W_0 ~ normal(0, 4)` above
            // `param W_l ~ normal(0, 1/J) for l in 1..L`) keep their own distribution:
            // the family's entry replaced them, and W_0 was read with the family's
            // (wrong41, issue #14 item 5: the true `Var(h_0) == 4 J` was refuted).
            let members = match self.a.to_mut().entries.remove(&key) {
                Some(Entry::Family { members, .. }) => members,
                _ => vec![],
            };
            self.a.to_mut().entries.insert(
                key,
                Entry::Family {
                    members,
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
                self.a.to_mut().unknown.insert(
                    k.clone(),
                    "its loop has subscripts tq does not solve recurrences for (two subscripts, or a subscript that is not the loop variable plus a constant)".into(),
                );
            }
            return;
        }
        // A `+=` or `-=` whose left side does not move with the loop variable adds to the
        // same elements in every iteration: neither walk below sees the sum.
        let saved_accumulated = self.accumulated.clone();
        for_each_equation(&lp.body, &mut |eq| {
            if eq.op == AssignOp::Set || moves_with(&eq.lhs, &var) {
                return;
            }
            let key = self.key(&eq.lhs);
            let why = format!(
                "`{}` is added to at the same elements in every iteration of the loop over `{var}`, and tq does not sum the iterations",
                crate::syntax::printer::print_ref(&eq.lhs)
            );
            self.accumulated.entry(key).or_insert(why);
        });
        // The first iteration, concretely: for the starts of the recurrences and the
        // members and positions the loop writes at its first value. A body that writes
        // neither (every write a plain tensor's, at elements that do not move with the
        // loop variable) gets nothing from it that the symbolic iteration does not write
        // again, and walking every body twice made nested loops cost 2^depth (probe38/h
        // k10: 22 nested loops around one `+=`, 46 s and 345 MB in every command).
        let saved_bind = self.bind.clone();
        let mut moves = false;
        for_each_equation(&lp.body, &mut |eq| {
            moves |= self.is_family(&self.key(&eq.lhs)) || moves_with(&eq.lhs, &var);
        });
        if let Err(why) = self.spent() {
            for k in writes.keys() {
                self.a.to_mut().unknown.insert(k.clone(), why.clone());
            }
            return;
        }
        // The dimensions this loop writes only in part, before the body reads them.
        self.note_partial_writes(lp, &lo, &hi);
        let saved_range = self.ranges.insert(var.clone(), (lo.clone(), hi.clone()));
        if moves {
            self.bind.insert(var.clone(), first.clone());
            self.written.clear();
            self.items(&lp.body, &[]);
        }
        // (A copy of the whole analysis was taken here and never read: with many loops
        // it made the moments engine quadratic in the file, 400 families took 8 s.)
        let iid_first = self.iid.clone();
        // The symbolic iteration with the state's moments as unknowns.
        let mut starts: BTreeMap<Key, (Expr, Rv)> = BTreeMap::new();
        for (k, cr, cw) in &states {
            let n0 = sym::simplify(&(first.clone() + Expr::int(*cr)));
            let n1 = sym::simplify(&(first.clone() + Expr::int(*cw)));
            // The start, then the member its first iteration wrote: the reason names the
            // one that is unknown (a probe's RMSNorm residual stack was told its declared
            // normal start had no known distribution, when the first step was the unknown).
            let (s0, s1) = match (
                self.lookup(k, std::slice::from_ref(&n0)),
                self.lookup(k, std::slice::from_ref(&n1)),
            ) {
                (Ok(s0), Ok(s1)) => (s0, s1),
                (Err(_), _) => {
                    self.a.to_mut().unknown.insert(
                        k.clone(),
                        format!(
                            "the start {} of its recurrence has no known distribution",
                            member_text(k, &[n0])
                        ),
                    );
                    continue;
                }
                (Ok(_), Err(why)) => {
                    self.a.to_mut().unknown.insert(
                        k.clone(),
                        format!(
                            "the first step {} of its recurrence has no known moments ({why})",
                            member_text(k, &[n1])
                        ),
                    );
                    continue;
                }
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
        let saved_past = self.past_leaves.take();
        let saved_fresh = std::mem::replace(&mut self.fresh, fresh);
        let saved_sym = self.symbolic;
        self.symbolic = true;
        self.bind.insert(var.clone(), Expr::sym(&var));
        self.written.clear();
        self.items(&lp.body, &[]);
        self.symbolic = saved_sym;
        self.fresh = saved_fresh;
        self.bind = saved_bind;
        match saved_range {
            Some(r) => self.ranges.insert(var.clone(), r),
            None => self.ranges.remove(&var),
        };
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
                    self.a.to_mut().unknown.insert(k.clone(), e);
                    continue;
                }
            };
            // Steps from the start to member n: (n − n0)·dir.
            let steps = |n: Expr| sym::simplify(&((n - n0.clone()) * Expr::int(dir)));
            let mut geom = std::mem::take(&mut self.a.to_mut().geometric);
            let rec = solve_state(k, &next, s0, &var, *cr, *cw, n0, &steps, &mut geom);
            self.a.to_mut().geometric = geom;
            let at =
                |e: &Expr, c: i64| sym::simplify(&e.subs("#n", &(Expr::sym(&var) + Expr::int(c))));
            // A mean solved in closed form is known even when the variance is not (its
            // recurrence does not read the variance).
            if let Some(mc) = &rec.mean_inner {
                closed.insert(mean_sym(k), at(mc, *cr));
            }
            if let (Some(mc), Some(vc)) = (&rec.mean_inner, &rec.var_inner) {
                let mean_state = at(mc, *cr);
                closed.insert(m2_sym(k), at(vc, *cr) + Expr::pow(mean_state, Expr::int(2)));
                closed_by_key.insert(k.clone(), (at(mc, *cw), at(vc, *cw)));
            }
            recs.push(rec);
        }
        // Templates for every family written in the loop.
        let unsolved = states
            .iter()
            .any(|(k, _, _)| !closed.contains_key(&m2_sym(k)));
        for (k, ws) in &writes {
            if ws.len() != 1 {
                continue;
            }
            let cw = *ws.iter().next().unwrap_or(&0);
            let wsub = sym::simplify(&(Expr::sym(&var) + Expr::int(cw)));
            let rv = match self.lookup(k, &[wsub]) {
                Ok(rv) => rv,
                Err(e) => {
                    if self.spent().is_err() {
                        self.a.to_mut().unknown.insert(k.clone(), e);
                    }
                    continue;
                }
            };
            let mut rv = rv;
            if unsolved && mentions_state(&rv) {
                for (s, v) in &closed {
                    rv = subs_rv(&rv, s, v);
                }
                // The mean may be known in closed form without the second moment (whose
                // recurrence is unsolved, or not derived at all): then only the second
                // moment is unknown.
                if holds_state(&rv.mean) || rv.mean.is_none() {
                    self.a.to_mut().unknown.insert(
                        k.clone(),
                        "its recurrence has no closed form tq can derive".into(),
                    );
                    continue;
                }
                rv.m2 = None;
                rv.var_bounds.clear();
                rv.quad = None;
                rv.approx_mean = None;
                rv.positive_mean = None;
            }
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
                rv.sources.extend(self.past_leaves.borrow().iter().cloned());
                for (_, s0) in starts.values() {
                    rv.sources.extend(s0.sources.iter().map(|s| Source {
                        pos: None,
                        ..s.clone()
                    }));
                }
            }
            self.template(k.clone(), var.clone(), Expr::int(cw), rv);
        }
        // An enclosing symbolic iteration's `past` depends on what this loop read too.
        let inner = self.past_leaves.replace(saved_past);
        if self.symbolic {
            self.past_leaves.borrow_mut().extend(inner);
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
        self.a.to_mut().iterations.push(iteration);
        for e in self.a.to_mut().entries.values_mut() {
            if let Entry::Family { members, .. } = e {
                members.retain(|(s, _)| !s.free_symbols().contains(&var));
            }
        }
        self.iid = iid_first;
        self.a.to_mut().recurrences.extend(recs);
        self.accumulated = saved_accumulated;
    }

    fn template(&mut self, key: Key, var: String, offset: Expr, rv: Rv) {
        let t = Template { var, offset, rv };
        match self.a.to_mut().entries.get_mut(&key) {
            Some(Entry::Family { templates, .. }) => templates.push(t),
            _ => {
                self.a.to_mut().entries.insert(
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

/// The most expression nodes the moments of one value may have (its exact moments,
/// approximate mean, variance bounds, quadrature input and finite support together).
/// Moments of a value written out in the inputs grow geometrically along a chain
/// (`u_{k+1} = (u_k + a) (u_k - a)`: E[u²] doubles at each statement); past this budget
/// the value's moments are unknown, with the reason, instead of a slow run
/// (docs/fuzzing.md). The largest among `problems/` is far below it.
pub const MAX_MOMENT_NODES: usize = 20_000;

/// `Err` with the reason when `rv`'s expressions together exceed [`MAX_MOMENT_NODES`].
fn moments_within_budget(member: &str, rv: &Rv) -> Result<(), String> {
    let n = super::walker::rv_nodes(rv);
    if n > MAX_MOMENT_NODES {
        return Err(format!(
            "the moments of {member} written out would have more than {MAX_MOMENT_NODES} expression nodes"
        ));
    }
    Ok(())
}

/// A value written at a fixed position of a dimension that a size indexes (`y[b,0] +=
/// 2 x[b,0]` beside `y[b,1] += x[b,1]`, `z[b,0] = ...` beside `z[b,1] = ...`, and the
/// gradients `x.grad[b,0]`, `x.grad[b,1]` they give): its elements are its parts, each
/// with its own distribution, and one distribution for the member added the parts'
/// contributions together (`Var(y) == 5 v` was proved in session 24, though no element
/// has it) or kept the last part's. A fixed position along a loop's variable (the start
/// of a recurrence, `h.grad[b,0,j]` after the loop) is a step, read per iteration.
fn fixed_part(lhs: &ast::Ref, info: Option<&crate::check::TensorInfo>) -> Option<String> {
    let info = info?;
    let fixed = lhs.indices.iter().flatten().enumerate().any(|(k, ix)| {
        matches!(ix, ast::IndexExpr::Affine(a) if a.terms.is_empty())
            && !info.dims.get(k).is_some_and(|d| d.starts_with('~'))
            && !info.start_positions.iter().any(|(d, _)| *d == k)
    });
    fixed.then(|| {
        format!(
            "{} is written at a fixed position: its elements are parts with distributions of their own (Monte Carlo estimates the moments of each)",
            crate::syntax::printer::print_ref(lhs)
        )
    })
}

/// Whether no two members rest on a common random leaf (and each rests on a known one):
/// `x[b,i] z[b,i]` with independent iid `x` and `z` is iid, `x[b,i] x2[b,i]` with
/// `x2[b,i] = x[b,i+1]` is not.
fn disjoint_leaves(leaves: &BTreeMap<String, BTreeSet<String>>) -> bool {
    let sets: Vec<&BTreeSet<String>> = leaves.values().collect();
    sets.iter().all(|s| !s.is_empty())
        && sets
            .iter()
            .enumerate()
            .all(|(i, a)| sets[i + 1..].iter().all(|b| a.is_disjoint(b)))
}

/// `f` on every equation of a block, in loops and `for` blocks too.
fn for_each_equation(items: &[Item], f: &mut dyn FnMut(&ast::Equation)) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => f(eq),
            ItemKind::ForIndices(fi) => for_each_equation(&fi.body, f),
            ItemKind::Loop(l) => for_each_equation(&l.body, f),
            _ => {}
        }
    }
}

/// Whether a left side names other elements as `var` changes: `var` in a family
/// subscript (`h_{l+1}`) or an index position (`y[b,t]`). A subscript tq cannot read
/// counts as moving (the loop's own check refuses those).
fn moves_with(lhs: &ast::Ref, var: &str) -> bool {
    refs_vars(lhs).contains(var)
        || lhs
            .name
            .sub
            .iter()
            .any(|s| index_expr(s).map_or(true, |e| e.free_symbols().contains(var)))
}
