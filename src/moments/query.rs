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
