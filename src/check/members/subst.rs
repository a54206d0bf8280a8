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
            ItemKind::At(bs) => {
                self.fixed_in_point(&mut Vec::new(), bs);
                bs.iter_mut().for_each(|b| self.subst_expr(&mut b.value))
            }
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
                self.fixed_in_point(&mut c.given, &mut c.at);
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
                self.fixed_in_point(&mut d.given, &mut Vec::new());
                d.given.iter_mut().for_each(|g| self.subst_expr(g));
                self.subst_expr(&mut d.start);
                d.steps
                    .iter_mut()
                    .for_each(|s| self.subst_expr(&mut s.expr));
            }
            _ => {}
        }
    }

    /// A claim's `at` value or `given` setting of a size its `size` line fixes (`at L = 5`
    /// of `size L = 3`): E0512 at the value, naming the declaration, and the setting
    /// dropped; one that agrees (`at L = 3`) is dropped silently. The size was written in
    /// as a number first, so the `at` name read as undeclared (E0101 "nothing in the file
    /// reads `L`") and the given as "`3 == 5` is false" (probe35/p a22).
    fn fixed_in_point(&mut self, given: &mut Vec<Expr>, at: &mut Vec<Binding>) {
        let mut diags = Vec::new();
        let consts = &self.consts;
        let fixed_at = &self.fixed_at;
        let mut clash = |name: &str, v: i64, shown: String, span: Span, what: &str| {
            let mut d = Diagnostic::error(
                "E0512",
                span,
                format!(
                    "`{name}` is fixed at {v} by its `size` line and takes no other value: {what} sets it to {shown}"
                ),
            )
            .with_label("a fixed size set again");
            if let Some(decl) = fixed_at.get(name) {
                d = d.with_related(*decl, format!("`{name}` is fixed at {v} here"));
            }
            diags.push(d.with_hint(format!(
                "drop `{name} = {shown}` (`{name}` is {v} everywhere), or declare `size {name}` without a value to give it other values"
            )));
        };
        at.retain(|b| {
            let Some(&v) = consts
                .get(&b.name.name)
                .filter(|_| fixed_at.contains_key(&b.name.name))
            else {
                return true;
            };
            let mut value = b.value.clone();
            subst_consts(&mut value, consts);
            match eval_const(&value) {
                Some(Exact::Int(w)) if w == v => {}
                _ => clash(
                    &b.name.name,
                    v,
                    crate::syntax::printer::print_expr(&b.value),
                    b.value.span(),
                    "the `at` line",
                ),
            }
            false
        });
        given.retain(|g| {
            let Expr::Rel(RelOp::Eq, l, r, sp) = g else {
                return true;
            };
            let Expr::Ref(rf) = &**l else {
                return true;
            };
            if rf.indices.is_some() || !rf.name.sub.is_empty() || rf.name.primes != 0 {
                return true;
            }
            let Some(&v) = consts
                .get(&rf.name.base)
                .filter(|_| fixed_at.contains_key(&rf.name.base))
            else {
                return true;
            };
            let mut value = (**r).clone();
            subst_consts(&mut value, consts);
            match eval_const(&value) {
                Some(Exact::Int(w)) if w == v => true,
                Some(_) => {
                    clash(
                        &rf.name.base,
                        v,
                        crate::syntax::printer::print_expr(r),
                        *sp,
                        "the claim's `given`",
                    );
                    false
                }
                None => true,
            }
        });
        self.diags.extend(diags);
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
            // A size whose name has a subscript as part of it (`D_k`, `X_1`), by its whole
            // spelling (probe37 p07: `size D = D_k` was E0412, "cannot be computed").
            if r.indices.is_none()
                && !r.grad
                && !r.name.sub.is_empty()
                && r.name.sup.is_empty()
                && r.name.primes == 0
            {
                let whole = crate::syntax::printer::print_name(&r.name);
                if let Some(v) = self.consts.get(&whole) {
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
            f.name = format!("{}{primes}", super::exact::member_name(base, v));
        }
    }
}

/// The fixed sizes written into an expression (a copy's, for a value compared above).
fn subst_consts(e: &mut Expr, consts: &BTreeMap<String, i64>) {
    let mut x = Expander {
        consts: consts.clone(),
        ..Expander::default()
    };
    x.subst_expr(e);
}
