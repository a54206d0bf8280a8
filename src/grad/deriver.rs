//! The deriver: which tensors need a gradient, and each forward equation turned into
//! one contribution per right-hand occurrence (softmax rows included).

use super::build::{
    flatten_product, item, jux, mentions, num, rename_expr, rename_ref, scalar_ref, split_sign,
};
use super::derivative::{simplify, DerivCtx};
use super::occurrences::{
    collect_occurrences, enclosing_sums, has_explicit_sum, index_vars, number_occurrences,
    plain_vars,
};
use super::Contribution;
use crate::check::{family_key, Env};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(super) struct Deriver<'e> {
    pub(super) env: &'e Env,
    /// Keys of tensors (and scalars) whose gradient is needed.
    pub(super) needs: BTreeSet<String>,
    pub(super) notes: Vec<String>,
    /// How many contributions each gradient tensor receives.
    pub(super) counts: BTreeMap<String, usize>,
    /// Variables of the enclosing `for v in a..b` loops (not loop indices of statements).
    pub(super) bound: Vec<String>,
    /// The scalar loss whose gradient is 1, if the backward pass starts from one.
    pub(super) unit_seed: Option<String>,
    /// Softmax outputs read only by the log-loss (`Loss += -ln(P[t, w[t]])`): their
    /// gradient is folded into the softmax input's (`P - onehot`), keyed by the
    /// softmax output with the lookup that selects the target class.
    pub(super) folded: BTreeMap<String, IndexExpr>,
}

impl Deriver<'_> {
    pub(super) fn key(&self, n: &Name) -> String {
        let fk = family_key(n);
        if self
            .env
            .tensors
            .get(&fk)
            .is_some_and(|t| t.family_arity > 0)
        {
            fk
        } else {
            crate::syntax::printer::print_name(n)
        }
    }

    /// Whether a reference is to something that carries a gradient.
    pub(super) fn differentiable(&self, r: &Ref) -> bool {
        let key = self.key(&r.name);
        if let Some(t) = self.env.tensors.get(&key) {
            return !t.is_int;
        }
        self.env.scalars.contains_key(&key)
    }

    pub(super) fn mark_needs(&mut self, items: &[Item]) {
        // Last statement first: a statement reads what earlier ones define, so straight-line
        // code reaches the fixed point in one pass (first-to-last took one pass per
        // statement of a chain: quadratic).
        for it in items.iter().rev() {
            match &it.kind {
                ItemKind::Equation(eq) if self.needs.contains(&self.key(&eq.lhs.name)) => {
                    let mut found = Vec::new();
                    crate::check::walk_refs(&eq.rhs, &mut |r| found.push(r.clone()));
                    for r in found {
                        if self.differentiable(&r) {
                            self.needs.insert(self.key(&r.name));
                        }
                    }
                }
                ItemKind::ForIndices(f) => self.mark_needs(&f.body),
                ItemKind::Loop(l) => self.mark_needs(&l.body),
                _ => {}
            }
        }
    }

    /// The backward items of a block, in reverse order.
    pub(super) fn items(&mut self, items: &[Item], loop_indices: &[Ident]) -> Vec<Item> {
        let mut out = Vec::new();
        for it in items.iter().rev() {
            match &it.kind {
                ItemKind::Equation(eq) => {
                    for c in self.equation(eq, loop_indices) {
                        out.push(self.contribution_item(c));
                    }
                }
                ItemKind::ForIndices(f) => {
                    let mut idx = loop_indices.to_vec();
                    idx.extend(f.indices.iter().cloned());
                    out.extend(self.items(&f.body, &idx));
                }
                ItemKind::Loop(l) => {
                    self.bound.push(l.range.var.name.clone());
                    let body = self.items(&l.body, loop_indices);
                    self.bound.pop();
                    if !body.is_empty() {
                        out.push(item(ItemKind::Loop(Loop {
                            range: l.range.clone(),
                            body,
                            reverse: !l.reverse,
                        })));
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub(super) fn contribution_item(&self, c: Contribution) -> Item {
        let key = family_key(&c.target.name);
        let single = self.counts.get(&key).copied().unwrap_or(0) == 1;
        let target_vars = plain_vars(&c.target).map(|v| {
            v.into_iter()
                .filter(|n| !self.bound.contains(n))
                .collect::<Vec<_>>()
        });
        // A tensor written once per iteration of every enclosing loop.
        let per_iteration = self.bound.iter().all(|b| mentions(&c.target, b));
        let assign = single
            && per_iteration
            && target_vars.as_ref().is_some_and(|v| {
                let set: BTreeSet<&String> = v.iter().collect();
                set.len() == v.len() && set.len() == c.indices.len()
            });
        let (op, rhs) = match (assign, c.op) {
            (true, AssignOp::AddAssign) => (AssignOp::Set, c.rhs),
            (_, op) => (op, c.rhs),
        };
        let eq = Equation {
            lhs: c.target,
            op,
            rhs,
            span: Span::default(),
        };
        if c.indices.is_empty() {
            return item(ItemKind::Equation(eq));
        }
        item(ItemKind::ForIndices(ForIndices {
            indices: c
                .indices
                .iter()
                .map(|n| Ident {
                    name: n.clone(),
                    span: Span::default(),
                })
                .collect(),
            body: vec![item(ItemKind::Equation(eq))],
            inline: true,
        }))
    }

    /// The contributions of one forward equation.
    pub(super) fn equation(&mut self, eq: &Equation, loop_indices: &[Ident]) -> Vec<Contribution> {
        let lhs_key = self.key(&eq.lhs.name);
        if !self.needs.contains(&lhs_key) {
            return vec![];
        }
        let mut lhs_grad = eq.lhs.clone();
        lhs_grad.grad = true;
        // Loop indices: the `for` list, or the left-hand indices.
        let mut base_indices: Vec<String> = loop_indices.iter().map(|i| i.name.clone()).collect();
        if base_indices.is_empty() {
            for ix in eq.lhs.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if !is_summed_index(&v) && !base_indices.contains(&v) && self.is_index(&v) {
                        base_indices.push(v);
                    }
                }
            }
        }
        let sign_of_op = match eq.op {
            AssignOp::SubAssign => -1,
            _ => 1,
        };
        if let Expr::Softmax(w, arg, _) = &eq.rhs {
            return self.softmax(eq, w, arg, base_indices);
        }
        let mut occurrences = Vec::new();
        collect_occurrences(&eq.rhs, &mut occurrences);
        // Which occurrences each node holds, numbered once for the whole equation.
        let mut spans = HashMap::new();
        number_occurrences(&eq.rhs, &mut 0, &mut spans);
        let mut terms = HashMap::new();
        super::derivative::sum_terms(&eq.rhs, &spans, &mut terms);
        let has_sums = has_explicit_sum(&eq.rhs);
        // Backward statements run in reverse order of the forward reads, as the seeds list them.
        let mut numbered: Vec<(usize, &Ref)> = occurrences.into_iter().enumerate().collect();
        numbered.reverse();
        let mut out = Vec::new();
        for (number, occ) in numbered {
            if !self.differentiable(occ) {
                continue;
            }
            if self.unit_seed.as_deref() == Some(lhs_key.as_str())
                && self.folded.contains_key(&self.key(&occ.name))
            {
                continue;
            }
            // The capitals summed in the occurrence's term become loop indices.
            let mut capitals: Vec<String> = Vec::new();
            for ix in occ.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if is_summed_index(&v) && !capitals.contains(&v) {
                        capitals.push(v);
                    }
                }
            }
            // Each summed capital becomes a fresh lower-case loop index (`I` → `i`, or `i'`
            // when `i` is already free, as in the seeds' `W[i,I] h[I]`).
            let mut taken: BTreeSet<String> = base_indices.iter().cloned().collect();
            let mut rename: BTreeMap<String, String> = BTreeMap::new();
            for c in &capitals {
                let mut fresh = c.to_lowercase();
                while taken.contains(&fresh) {
                    fresh.push('\'');
                }
                taken.insert(fresh.clone());
                rename.insert(c.clone(), fresh);
            }
            let ctx = DerivCtx {
                env: self.env,
                number,
                spans: &spans,
                terms: &terms,
                lhs: &eq.lhs,
                whole: &eq.rhs,
                rename: &rename,
            };
            let Some(local) = ctx.d(&eq.rhs) else {
                continue;
            };
            let mut target = occ.clone();
            target.grad = true;
            rename_ref(&mut target, &rename);
            let local = rename_expr(&local, &rename);
            let mut indices = base_indices.clone();
            let mut sums = Vec::new();
            if has_sums {
                enclosing_sums(&eq.rhs, occ, &mut sums);
            }
            for s in sums {
                if !indices.contains(&s) {
                    indices.push(s);
                }
            }
            for c in &capitals {
                let low = rename[c].clone();
                if !indices.contains(&low) {
                    indices.push(low);
                }
            }
            for ix in target.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if !is_summed_index(&v) && !indices.contains(&v) && self.is_index(&v) {
                        indices.push(v);
                    }
                }
            }
            let (sign, local) = split_sign(simplify(local));
            // The gradient of a scalar loss is 1: it is left out of the products.
            let unit = self.unit_seed.as_deref() == Some(lhs_key.as_str());
            let rhs = match local {
                None => Expr::Ref(lhs_grad.clone()),
                Some(f) if unit => {
                    let mut factors = Vec::new();
                    flatten_product(f, &mut factors);
                    let mut it = factors.into_iter();
                    let first = it.next().unwrap_or_else(|| num("1"));
                    it.fold(first, jux)
                }
                Some(f) => {
                    let mut factors = vec![Expr::Ref(lhs_grad.clone())];
                    flatten_product(f, &mut factors);
                    let mut it = factors.into_iter();
                    let first = it.next().unwrap_or_else(|| num("1"));
                    it.fold(first, jux)
                }
            };
            let op = if sign * sign_of_op < 0 {
                AssignOp::SubAssign
            } else {
                AssignOp::AddAssign
            };
            out.push(Contribution {
                target,
                op,
                rhs,
                indices,
            });
        }
        out
    }

    /// `P[..,w,..] = softmax_{w}(s[..,w,..])`: `s.grad += P (P.grad - Σ_w' P.grad P)`, or
    /// with the log-loss folded, `s.grad += P - [w == target]`.
    pub(super) fn softmax(
        &mut self,
        eq: &Equation,
        w: &Ident,
        arg: &Expr,
        mut indices: Vec<String>,
    ) -> Vec<Contribution> {
        let Expr::Ref(s) = arg else {
            return self.softmax_of_expression(eq, w, arg, indices);
        };
        if !self.differentiable(s) {
            return vec![];
        }
        if !indices.contains(&w.name) {
            indices.push(w.name.clone());
        }
        let mut target = s.clone();
        target.grad = true;
        let p = Expr::Ref(eq.lhs.clone());
        if let Some(class) = self.folded.get(&self.key(&eq.lhs.name)).cloned() {
            let onehot = onehot(w, class);
            return vec![Contribution {
                target,
                op: AssignOp::AddAssign,
                rhs: Expr::Binary(BinOp::Sub, Box::new(p), Box::new(onehot), Span::default()),
                indices,
            }];
        }
        // order43 (#14, probe42 r14): the standard form, `s.grad += P (P.grad -
        // sum_{w'}(P.grad P))`, one statement whose row sum reads no w (computed once per
        // row and broadcast). Before, `s.grad -= P P.grad[.., W, ..] P[.., W, ..]` summed
        // the capital over the whole product, P[.., w, ..] included: a sum per element,
        // K² per row by the counting rule (backward 2B K² against a forward linear in K).
        self.softmax_of_expression(eq, w, arg, indices)
    }

    /// `P = softmax_{w}(z)` with z an expression (`s[t,w] / tau`): by the chain rule
    /// through z, every occurrence in z gets what it would get from `P = z` with `P.grad`
    /// replaced by dL/dz = `P (P.grad - sum_{w'}(P.grad[.., w', ..] P[.., w', ..]))`
    /// (with the log-loss folded, `P - [w == target]`).
    fn softmax_of_expression(
        &mut self,
        eq: &Equation,
        w: &Ident,
        arg: &Expr,
        indices: Vec<String>,
    ) -> Vec<Contribution> {
        let mut pg = eq.lhs.clone();
        pg.grad = true;
        let p = Expr::Ref(eq.lhs.clone());
        let dz = if let Some(class) = self.folded.get(&self.key(&eq.lhs.name)).cloned() {
            Expr::Binary(
                BinOp::Sub,
                Box::new(p),
                Box::new(onehot(w, class)),
                Span::default(),
            )
        } else {
            // A fresh name for the summed copy of w.
            let mut used = BTreeSet::new();
            crate::syntax::visit::walk_refs(arg, &mut |r| {
                for ix in r.indices.iter().flatten() {
                    used.extend(index_vars(ix));
                }
            });
            for ix in eq.lhs.indices.iter().flatten() {
                used.extend(index_vars(ix));
            }
            let mut fresh = format!("{}'", w.name);
            while used.contains(&fresh) {
                fresh.push('\'');
            }
            let map: BTreeMap<String, String> = [(w.name.clone(), fresh.clone())].into();
            let (mut p2, mut pg2) = (eq.lhs.clone(), pg.clone());
            rename_ref(&mut p2, &map);
            rename_ref(&mut pg2, &map);
            let sum = Expr::Sum(
                vec![Ident {
                    name: fresh,
                    span: Span::default(),
                }],
                Box::new(jux(Expr::Ref(pg2), Expr::Ref(p2))),
                Span::default(),
            );
            jux(
                p,
                Expr::Binary(
                    BinOp::Sub,
                    Box::new(Expr::Ref(pg.clone())),
                    Box::new(sum),
                    Span::default(),
                ),
            )
        };
        let through = Equation {
            lhs: eq.lhs.clone(),
            op: eq.op,
            rhs: arg.clone(),
            span: eq.span,
        };
        let loops: Vec<Ident> = indices
            .iter()
            .map(|n| Ident {
                name: n.clone(),
                span: Span::default(),
            })
            .collect();
        let mut out = self.equation(&through, &loops);
        fn put(e: &Expr, pg: &Ref, dz: &Expr) -> Expr {
            match e {
                Expr::Ref(r) if r == pg => dz.clone(),
                _ => crate::syntax::visit::map_children(e, |x| put(x, pg, dz)),
            }
        }
        for c in &mut out {
            c.rhs = put(&c.rhs, &pg, &dz);
        }
        out
    }

    pub(super) fn is_index(&self, name: &str) -> bool {
        if self.bound.iter().any(|b| b == name) {
            return false;
        }
        let base = name.trim_end_matches('\'');
        self.env.indices.contains_key(name)
            || self.env.indices.contains_key(base)
            || self.env.sizes.contains_key(&base.to_uppercase())
    }
}

/// `[w == class]`, the one-hot of the class the folded log-loss reads.
fn onehot(w: &Ident, class: IndexExpr) -> Expr {
    Expr::Iverson(
        Box::new(Expr::Rel(
            RelOp::Eq,
            Box::new(Expr::Ref(scalar_ref(&w.name, false))),
            Box::new(match class {
                IndexExpr::Lookup(r) => Expr::Ref(*r),
                // A fixed class (`P[t, 3]`, `P[t, c+1]`): the position's value, not an
                // element of a tensor named like the softmax index.
                IndexExpr::Affine(a) => affine_value(&a),
            }),
            Span::default(),
        )),
        Span::default(),
    )
}

/// The value of an affine index position as an expression: `2x + 1` is `2 x + 1`.
fn affine_value(a: &Affine) -> Expr {
    let mut acc: Option<Expr> = None;
    for t in &a.terms {
        let mut term = Expr::Num(t.coef.unsigned_abs().to_string(), Span::default());
        for f in &t.factors {
            term = Expr::Binary(
                BinOp::Jux,
                Box::new(term),
                Box::new(Expr::Ref(scalar_ref(&f.name, false))),
                Span::default(),
            );
        }
        acc = Some(match acc {
            None if t.coef < 0 => Expr::Unary(UnOp::Neg, Box::new(term), Span::default()),
            None => term,
            Some(x) => Expr::Binary(
                if t.coef < 0 { BinOp::Sub } else { BinOp::Add },
                Box::new(x),
                Box::new(term),
                Span::default(),
            ),
        });
    }
    let c = Expr::Num(a.constant.unsigned_abs().to_string(), Span::default());
    match acc {
        None if a.constant < 0 => Expr::Unary(UnOp::Neg, Box::new(c), Span::default()),
        None => c,
        Some(x) if a.constant == 0 => x,
        Some(x) => Expr::Binary(
            if a.constant < 0 {
                BinOp::Sub
            } else {
                BinOp::Add
            },
            Box::new(x),
            Box::new(c),
            Span::default(),
        ),
    }
}
