//! Substitution: the fixed sizes, loop variables and members written into every part of
//! an item.

use super::*;

impl Expander {
    /// Replaces the fixed sizes and loop variables in every part of an item.
    pub(super) fn subst_item(&mut self, item: &mut Item) {
        match &mut item.kind {
            ItemKind::Decl(d) => {
                self.subst_ref(&mut d.target);
                match &mut d.init {
                    Some(Init::Dist(c)) => c.args.iter_mut().for_each(|a| self.subst_expr(a)),
                    Some(Init::Value(e)) => self.subst_expr(e),
                    None => {}
                }
                if let Some(r) = &mut d.family {
                    self.subst_expr(&mut r.from);
                    self.subst_expr(&mut r.to);
                }
            }
            ItemKind::Equation(eq) => {
                self.subst_ref(&mut eq.lhs);
                self.subst_expr(&mut eq.rhs);
            }
            ItemKind::Loop(l) => {
                self.subst_expr(&mut l.range.from);
                self.subst_expr(&mut l.range.to);
                l.body.iter_mut().for_each(|b| self.subst_item(b));
            }
            ItemKind::ForIndices(f) => f.body.iter_mut().for_each(|b| self.subst_item(b)),
            ItemKind::Rule(r) => r.body.iter_mut().for_each(|b| self.subst_item(b)),
            ItemKind::At(bs) => bs.iter_mut().for_each(|b| self.subst_expr(&mut b.value)),
            ItemKind::Sample(bs) => {
                let consts = &self.consts;
                let mut fixed = Vec::new();
                bs.retain(|b| {
                    if let Some(v) = consts.get(&b.name.name) {
                        fixed.push((b.name.clone(), *v));
                        false
                    } else {
                        true
                    }
                });
                for (n, v) in fixed {
                    self.diags.push(
                        Diagnostic::error(
                            "E0412",
                            n.span,
                            format!(
                                "`{}` is fixed at {v} by its `size` line and takes no sample value",
                                n.name
                            ),
                        )
                        .with_label("fixed size")
                        .with_hint(format!("remove `{}` from the `sample` line", n.name)),
                    );
                }
                bs.iter_mut().for_each(|b| self.subst_expr(&mut b.value));
            }
            ItemKind::Vary(ps) => {
                for p in ps.iter() {
                    if let Some(v) = self.consts.get(&p.name.name) {
                        self.diags.push(
                            Diagnostic::error(
                                "E0412",
                                p.name.span,
                                format!(
                                    "`{}` is fixed at {v} by its `size` line and cannot be varied",
                                    p.name.name
                                ),
                            )
                            .with_hint("declare it `size NAME` to vary it"),
                        );
                    }
                }
            }
            ItemKind::Claim(c) => {
                self.subst_expr(&mut c.body);
                if let Some(t) = &mut c.tol {
                    self.subst_expr(t);
                }
                c.given.iter_mut().for_each(|g| self.subst_expr(g));
                c.at.iter_mut().for_each(|b| self.subst_expr(&mut b.value));
                if let Some(body) = &mut c.includes {
                    body.iter_mut().for_each(|b| self.subst_item(b));
                }
            }
            ItemKind::Derivation(d) => {
                d.given.iter_mut().for_each(|g| self.subst_expr(g));
                self.subst_expr(&mut d.start);
                d.steps
                    .iter_mut()
                    .for_each(|s| self.subst_expr(&mut s.expr));
            }
            _ => {}
        }
    }

    pub(super) fn subst_expr(&mut self, e: &mut Expr) {
        if let Expr::Ref(r) = e {
            if r.indices.is_none()
                && !r.grad
                && r.name.sub.is_empty()
                && r.name.sup.is_empty()
                && r.name.primes == 0
            {
                if let Some(v) = self.consts.get(&r.name.base) {
                    *e = Expr::Num(v.to_string(), r.span);
                    return;
                }
            }
            self.subst_ref(r);
            return;
        }
        match e {
            Expr::Deriv(a, b, _) => {
                self.subst_ref(a);
                self.subst_ref(b);
            }
            Expr::Sum(ids, _, _) => ids.iter_mut().for_each(|i| self.subst_factor(i)),
            Expr::Softmax(id, _, _) => self.subst_factor(id),
            _ => {}
        }
        for c in children_mut(e) {
            self.subst_expr(c);
        }
    }

    pub(super) fn subst_ref(&mut self, r: &mut Ref) {
        for s in r.name.sub.iter_mut() {
            self.subst_index(s);
        }
        if let Some(ix) = &mut r.indices {
            for s in ix.iter_mut() {
                self.subst_index(s);
            }
        }
    }

    pub(super) fn subst_index(&mut self, ix: &mut IndexExpr) {
        match ix {
            IndexExpr::Lookup(r) => self.subst_ref(r),
            IndexExpr::Affine(a) => {
                let mut terms = Vec::new();
                for mut t in std::mem::take(&mut a.terms) {
                    let mut factors = Vec::new();
                    for mut f in t.factors {
                        if let Some(v) = self.consts.get(&f.name) {
                            t.coef = t.coef.saturating_mul(*v);
                        } else {
                            self.subst_factor(&mut f);
                            factors.push(f);
                        }
                    }
                    if factors.is_empty() {
                        a.constant = a.constant.saturating_add(t.coef);
                    } else if t.coef != 0 {
                        t.factors = factors;
                        terms.push(t);
                    }
                }
                a.terms = terms;
            }
        }
    }

    /// `N_{l-1}` or `n_l'` in an index position, with the variables in scope: `N_1`.
    pub(super) fn subst_factor(&mut self, f: &mut Ident) {
        let Some((base, sub, primes)) = split_member(&f.name) else {
            return;
        };
        if !self.families.contains_key(&base.to_uppercase()) {
            return;
        }
        if let Some(v) = eval_subscript(sub, &self.consts) {
            f.name = format!("{base}_{v}{primes}");
        }
    }
}
