//! `E`, `Var` and `Cov` of claim expressions, read off a finished [`Analysis`].

use super::rule::{Applied, Approximation, Rule};
use super::rv::Rv;
use super::walker::Walker;
use super::{index_expr, rv, Analysis, Key};
use crate::check::Env;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, Ref};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet};

/// A moment a claim asks for, as an expression, with how it was obtained.
#[derive(Clone, Debug)]
pub struct Moment {
    pub value: Expr,
    pub rules: BTreeSet<Applied>,
    pub approx: BTreeSet<Approximation>,
    /// Upper bounds when the value itself is an unknown symbol.
    pub bounds: Vec<(Expr, Applied)>,
    /// Opaque symbols in `value` with their approximate values and reasons.
    pub opaque: BTreeMap<String, Opaque>,
}

/// What is known of a moment that has no exact closed form.
#[derive(Clone, Debug)]
pub struct Opaque {
    pub approx: Option<(Expr, String)>,
    /// E(...) > 0 where this variance (of relu's input) is positive.
    pub positive: Option<Expr>,
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
    ) -> Option<Result<(Expr, BTreeSet<Applied>), String>> {
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
                        let mut rules: BTreeSet<Applied> =
                            a.rules.union(&b.rules).cloned().collect();
                        rules.insert(Applied::new(
                            Rule::CovWithinIteration(rule),
                            format!(
                                "Cov within one iteration of the loop over {}: {}",
                                it.var,
                                rule.text()
                            ),
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
            a: std::borrow::Cow::Borrowed(self),
            bind: BTreeMap::new(),
            fresh: BTreeSet::new(),
            symbolic: false,
            backward: false,
            iid: self.iid.clone(),
            written: BTreeSet::new(),
            leaves: self.leaves.clone(),
            work: Default::default(),
            past_leaves: Default::default(),
            settings: Vec::new(),
            outer: Default::default(),
            wraps: Default::default(),
            accumulated: BTreeMap::new(),
            ranges: BTreeMap::new(),
            claim: true,
            plain_reads: BTreeMap::new(),
        };
        let rv = w.value(e)?;
        // A window summed in the claim itself: its conditions are not among the
        // program's, so the value is not used (nothing checks them at the claim's sizes).
        if !w.wraps.borrow().is_empty() {
            return Err(
                "a window summed inside the claim may wrap onto itself under circular padding (tq checks that only for the program's statements)".into(),
            );
        }
        Ok(rv)
    }

    /// `Cov(x, y)` by bilinearity when x and y are tensors computed as linear
    /// combinations of declared tensors at the same positions ([`Analysis::linear`]):
    /// `Cov(Σ a_k X_k, Σ b_k X_k) = Σ a_k b_k' Cov(X_k, X_k')`, with `Cov(X_k, X_k) =
    /// Var(X_k)` and the covariance of two declared tensors from their distributions.
    /// `None` when the rule does not apply.
    #[allow(clippy::type_complexity)]
    fn linear_cov(
        &self,
        env: &Env,
        x: &ast::Expr,
        y: &ast::Expr,
    ) -> Option<Result<(Expr, BTreeSet<Applied>, BTreeSet<Approximation>), String>> {
        let (ast::Expr::Ref(rx), ast::Expr::Ref(ry)) = (x, y) else {
            return None;
        };
        // Index lists compared as printed (the syntax tree carries spans).
        let same_list = crate::syntax::printer::print_ref(&Ref {
            indices: ry.indices.clone(),
            ..rx.clone()
        }) == crate::syntax::printer::print_ref(rx);
        if rx.grad || ry.grad || !same_list {
            return None;
        }
        let form = |r: &ast::Ref| -> Option<(Option<String>, Vec<(Key, Expr)>)> {
            let k: Key = (env.key_of(&r.name), false);
            match self.linear.get(&k) {
                Some((list, f)) => Some((Some(list.clone()), f.clone())),
                None if self.leaves.contains(&(k.clone(), None)) && self.iid.contains(&k) => {
                    Some((None, vec![(k, Expr::one())]))
                }
                None => None,
            }
        };
        let (lx, fx) = form(rx)?;
        let (ly, fy) = form(ry)?;
        // Both computed over the same index list (a declared tensor is read at it).
        if let (Some(a), Some(b)) = (&lx, &ly) {
            if a != b {
                return None;
            }
        }
        // The declared tensors are read at the left sides' own positions, which the
        // claim's (identical) index lists name.
        let leaf_ref = |k: &Key| -> Option<ast::Expr> {
            let mut r = Ref::plain(&k.0, rx.span);
            r.indices = rx.indices.clone();
            (env.key_of(&r.name) == k.0).then_some(ast::Expr::Ref(r))
        };
        let mut value = Expr::zero();
        let mut rules = BTreeSet::new();
        let mut approx = BTreeSet::new();
        for (kx, cx) in &fx {
            for (ky, cy) in &fy {
                let ex = leaf_ref(kx)?;
                let ey = leaf_ref(ky)?;
                let (Ok(a), Ok(b)) = (self.element(env, &ex), self.element(env, &ey)) else {
                    return None;
                };
                let (Some(ma), Some(mb)) = (&a.mean, &b.mean) else {
                    return None;
                };
                let cov = if kx == ky {
                    let m2 = a.m2.clone()?;
                    m2 - Expr::pow(ma.clone(), Expr::int(2))
                } else {
                    let (cross, _) = a.cross(&b).ok()?;
                    cross - ma.clone() * mb.clone()
                };
                value = value + cx.clone() * cy.clone() * cov;
                rules.extend(a.rules.iter().cloned());
                rules.extend(b.rules.iter().cloned());
                approx.extend(a.approx.iter().cloned());
                approx.extend(b.approx.iter().cloned());
            }
        }
        rules.insert(Applied::new(
            Rule::CovBilinear,
            format!(
                "Cov by bilinearity: both values are linear combinations of the declared tensors {} at the same position",
                fx.iter()
                    .chain(&fy)
                    .map(|(k, _)| format!("`{}`", k.0))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        Some(Ok((sym::simplify(&value), rules, approx)))
    }

    /// `x` as a linear combination `Σ c_k R_k` of references with constant coefficients
    /// (`a y1 + y2`, `(y1 - y2) / 2`, `-y`): the coefficient and the reference of each
    /// term. `None` when a term is not a constant times one reference.
    fn linear_terms(&self, env: &Env, e: &ast::Expr) -> Option<Vec<(Expr, ast::Expr)>> {
        let constant =
            |e: &ast::Expr| -> Option<Expr> { self.element(env, e).ok()?.value().cloned() };
        match e {
            ast::Expr::Ref(_) => match constant(e) {
                Some(_) => None,
                None => Some(vec![(Expr::one(), e.clone())]),
            },
            ast::Expr::Binary(op @ (ast::BinOp::Add | ast::BinOp::Sub), l, r, _) => {
                let mut out = self.linear_terms(env, l)?;
                let right = self.linear_terms(env, r)?;
                let sign = if matches!(op, ast::BinOp::Sub) {
                    Expr::int(-1)
                } else {
                    Expr::one()
                };
                out.extend(right.into_iter().map(|(c, r)| (sign.clone() * c, r)));
                Some(out)
            }
            ast::Expr::Unary(ast::UnOp::Neg, x, _) => Some(
                self.linear_terms(env, x)?
                    .into_iter()
                    .map(|(c, r)| (Expr::int(-1) * c, r))
                    .collect(),
            ),
            ast::Expr::Binary(ast::BinOp::Mul | ast::BinOp::Jux, l, r, _) => {
                match (constant(l), constant(r)) {
                    (Some(c), None) => Some(
                        self.linear_terms(env, r)?
                            .into_iter()
                            .map(|(k, x)| (c.clone() * k, x))
                            .collect(),
                    ),
                    (None, Some(c)) => Some(
                        self.linear_terms(env, l)?
                            .into_iter()
                            .map(|(k, x)| (c.clone() * k, x))
                            .collect(),
                    ),
                    _ => None,
                }
            }
            ast::Expr::Binary(ast::BinOp::Div, l, r, _) => {
                let c = constant(r)?;
                // A coefficient divided by a constant that may vanish is not a value.
                if c.is_zero() {
                    return None;
                }
                Some(
                    self.linear_terms(env, l)?
                        .into_iter()
                        .map(|(k, x)| (k / c.clone(), x))
                        .collect(),
                )
            }
            _ => None,
        }
    }

    /// `Cov(x, y)` of two linear combinations of references (at least one of them not a
    /// single reference) by bilinearity: `Σ_i Σ_j a_i b_j Cov(X_i, Y_j)`, each pair's
    /// covariance decided exactly by [`Analysis::moment`] (`Var` for the same reference
    /// twice). `None` when a side is not such a combination or a pair's covariance has no
    /// exact value.
    #[allow(clippy::type_complexity)]
    fn expanded_cov(
        &self,
        env: &Env,
        x: &ast::Expr,
        y: &ast::Expr,
    ) -> Option<(Expr, BTreeSet<Applied>, BTreeSet<Approximation>)> {
        if matches!(x, ast::Expr::Ref(_)) && matches!(y, ast::Expr::Ref(_)) {
            return None;
        }
        let tx = self.linear_terms(env, x)?;
        let ty = self.linear_terms(env, y)?;
        // Bounded: a claim writes a few terms; past 16 × 16 pairs this is not the rule.
        if tx.len() * ty.len() > 256 {
            return None;
        }
        let mut value = Expr::zero();
        let mut rules = BTreeSet::new();
        let mut approx = BTreeSet::new();
        for (a, rx) in &tx {
            for (b, ry) in &ty {
                let span = match rx {
                    ast::Expr::Ref(r) => r.span,
                    _ => return None,
                };
                let same = print_expr(rx) == print_expr(ry);
                let call = ast::Call {
                    func: ast::Ident {
                        name: if same { "Var" } else { "Cov" }.into(),
                        span,
                    },
                    args: if same {
                        vec![rx.clone()]
                    } else {
                        vec![rx.clone(), ry.clone()]
                    },
                    brackets: false,
                    span,
                };
                let m = self.moment(env, &call).ok()?;
                if !m.opaque.is_empty() || !m.bounds.is_empty() {
                    return None;
                }
                value = value + a.clone() * b.clone() * m.value;
                rules.extend(m.rules);
                approx.extend(m.approx);
            }
        }
        rules.insert(Applied::new(
            Rule::CovBilinear,
            format!(
                "Cov by bilinearity: {} and {} expanded into the covariances of their terms",
                print_expr(x),
                print_expr(y)
            ),
        ));
        Some((sym::simplify(&value), rules, approx))
    }

    /// The definedness conditions of the moments `e` reads ([`Analysis::conditions`]):
    /// those of every tensor it names, each once.
    pub fn conditions_of(&self, env: &Env, e: &ast::Expr) -> Vec<sym::Condition> {
        let mut out = BTreeSet::new();
        crate::syntax::visit::walk_refs(e, &mut |r: &Ref| {
            let key: Key = (env.key_of(&r.name), r.grad);
            out.extend(self.conditions.get(&key).into_iter().flatten().cloned());
        });
        out.into_iter().collect()
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
                                positive: rv.positive_mean.clone(),
                                quad: rv.quad.clone().map(|q| (q, false)),
                            },
                        );
                        Expr::sym(&text)
                    }
                };
            }
            ("Var", [x]) => {
                // Var(x) = Cov(x, x) by bilinearity when x is linear in declared tensors
                // whose copies the element-wise rules could not combine, or whose second
                // moment they did not derive (only its mean, by linearity).
                let element = self.element(env, x);
                if element.as_ref().map_or(true, |rv| rv.m2.is_none()) {
                    if let Some(lin) = self.linear_cov(env, x, x) {
                        let (value, rules, approx) = lin?;
                        m.value = value;
                        m.rules = rules;
                        m.approx = approx;
                        return Ok(m);
                    }
                    // Var(a y1 + y2) = Cov(a y1 + y2, a y1 + y2), term by term.
                    if let Some((value, rules, approx)) = self.expanded_cov(env, x, x) {
                        m.value = value;
                        m.rules = rules;
                        m.approx = approx;
                        return Ok(m);
                    }
                }
                let rv = element?;
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
                                positive: rv.positive_mean.clone(),
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
                                positive: None,
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
                let direct = self.element(env, x).and_then(|a| {
                    let b = self.element(env, y)?;
                    let c = a.cross(&b)?;
                    Ok((a, b, c))
                });
                let (a, b, (cross, rule)) = match direct {
                    Ok(abc) => abc,
                    Err(why) => {
                        return match self.linear_cov(env, x, y) {
                            Some(lin) => {
                                let (value, rules, approx) = lin?;
                                m.value = value;
                                m.rules = rules;
                                m.approx = approx;
                                Ok(m)
                            }
                            None => match self.expanded_cov(env, x, y) {
                                Some((value, rules, approx)) => {
                                    m.value = value;
                                    m.rules = rules;
                                    m.approx = approx;
                                    Ok(m)
                                }
                                None => Err(why),
                            },
                        }
                    }
                };
                let (Some(ma), Some(mb)) = (&a.mean, &b.mean) else {
                    return Err("the means are not known".into());
                };
                m.rules = a.rules.union(&b.rules).cloned().collect();
                m.rules.insert(Applied::new(
                    Rule::Cov(rule),
                    format!("Cov: {}", rule.text()),
                ));
                m.approx = a.approx.union(&b.approx).cloned().collect();
                m.value = sym::simplify(&(cross - ma.clone() * mb.clone()));
            }
            _ => return Err(format!("`{f}` takes one argument (two for Cov)")),
        }
        Ok(m)
    }
}
