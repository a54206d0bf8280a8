//! A claim's givens read once, typed: the one reader every engine uses.
//!
//! The checker solves a claim's givens as a system ([`crate::check::givens::resolve`]:
//! dependency order, chains, product settings, domains); this module reads the solved
//! givens into typed parts, so that the symbolic engine, the moments engine, Monte
//! Carlo, the element engines and `tq variants` see the same settings, in the same
//! order, with the same meaning: `name = value` sets a size, a symbol or a scalar leaf;
//! `name^n = value` sets it to the positive root `value^(1/n)` (a name whose sign is
//! open keeps an even power as [`SignOpen`]); a whole tensor or one element set to a
//! value; and every other relation is a [`Condition`] on the point. Which forms an
//! engine supports is the engine's policy; what a form means is decided here only.

use crate::check::Env;
use crate::lower::{self, Scope, Unlowered};
use crate::sym;
use crate::syntax::ast::{BinOp, Expr, RelOp};
use crate::syntax::printer::{print_expr, print_index, print_name};

/// `name = value` or `name^power = value`: a size, a symbol, a scalar input or leaf (a
/// name that is not a tensor of rank above 0), set to a value that reads no other name
/// a setting of the same claim sets (the checker resolved the chain).
#[derive(Clone, Debug)]
pub struct Setting {
    pub name: String,
    /// `Some(n)` for `name^n = value` (n ≥ 2): the name is the positive root.
    pub power: Option<i64>,
    pub value: Expr,
    /// Whether the name is a size (a whole number from 1).
    pub size: bool,
}

impl Setting {
    /// The value the name takes, lowered in `scope`: `value`, or `value^(1/n)` for a
    /// power setting.
    pub fn lowered(&self, scope: &Scope) -> Result<sym::Expr, Unlowered> {
        let v = lower::lower_or_why(&self.value, scope)?;
        Ok(self.root(v))
    }

    /// `v`, or `v^(1/n)` for a power setting.
    pub fn root(&self, v: sym::Expr) -> sym::Expr {
        Setting::root_of(v, self.power)
    }

    /// `v`, or `v^(1/n)` for `Some(n)`.
    pub fn root_of(v: sym::Expr, power: Option<i64>) -> sym::Expr {
        match power {
            Some(p) => sym::Expr::pow(v, sym::Expr::pow(sym::Expr::int(p), sym::Expr::int(-1))),
            None => v,
        }
    }
}

/// `name^n = value` (n even) of a name that may be negative
/// ([`crate::check::givens::sign_open`]): it fixes the name only up to its sign.
#[derive(Clone, Debug)]
pub struct SignOpen {
    /// The given's position among the claim's givens.
    pub position: usize,
    pub name: String,
    pub power: i64,
    pub value: Expr,
    /// The name as written (the base of the power).
    pub target: Expr,
}

/// A relation that sets nothing (`c > 0`, `a + b = 3`, `x ~= 1`): a condition on the
/// point the claim is decided at.
#[derive(Clone, Debug)]
pub struct Condition {
    pub op: RelOp,
    pub left: Expr,
    pub right: Expr,
    /// The given as written.
    pub given: Expr,
}

/// One given, by what it does.
#[derive(Clone, Debug)]
pub enum Given {
    Set(Setting),
    SignOpen(SignOpen),
    /// A whole tensor (rank above 0) set to a value: `W = 0`.
    Tensor {
        name: String,
        value: Expr,
    },
    /// One element set to a value: `beta[j] = 0`, keyed `beta[j]` (the tensor's key and
    /// the indices as written).
    Element {
        key: String,
        value: Expr,
    },
    Condition(Condition),
    /// Not a relation, or a relation about a gradient (`W.grad = 0`).
    Other(Expr),
}

/// A claim's givens, in the order the checker resolved them (settings first, in
/// dependency order; then the others as written).
#[derive(Clone, Debug, Default)]
pub struct Givens {
    pub all: Vec<Given>,
    /// Each given as resolved, beside `all`: what a message quotes.
    pub written: Vec<Expr>,
}

impl Givens {
    /// Reads givens the checker has resolved (a claim's `given` as the claim engines
    /// see it: `claims::collect` resolves every claim's givens once).
    pub fn read(resolved: &[Expr], env: &Env) -> Givens {
        let all: Vec<Given> = resolved
            .iter()
            .enumerate()
            .map(|(k, g)| read_one(k, g, env))
            .collect();
        // Element givens in dependency order, as the checker orders the settings: one
        // whose value reads an element another given sets comes after it
        // (`bet[j] = 2 gam[j], gam[j] = 1` means bet[j] = 2, whatever the order).
        let order = element_order(&all, env);
        let written = order.iter().map(|&k| resolved[k].clone()).collect();
        let mut all: Vec<Option<Given>> = all.into_iter().map(Some).collect();
        let all = order.iter().filter_map(|&k| all[k].take()).collect();
        Givens { all, written }
    }

    /// Resolves givens as written (with the claim's `at`) and reads them: for a claim
    /// that did not pass through `claims::collect` (a variant's claim).
    pub fn resolve_and_read(
        given: &[Expr],
        at: &[crate::syntax::ast::Binding],
        env: &Env,
    ) -> Givens {
        Givens::read(&crate::check::givens::resolved(given, at, env), env)
    }

    pub fn settings(&self) -> impl Iterator<Item = &Setting> {
        self.all.iter().filter_map(|g| match g {
            Given::Set(s) => Some(s),
            _ => None,
        })
    }

    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.all.iter().filter_map(|g| match g {
            Given::Condition(c) => Some(c),
            _ => None,
        })
    }

    pub fn sign_open(&self) -> Option<&SignOpen> {
        self.all.iter().find_map(|g| match g {
            Given::SignOpen(s) => Some(s),
            _ => None,
        })
    }

    /// Whether a condition says `name > 0`.
    pub fn positive(&self, name: &str) -> bool {
        self.positive_names().any(|n| n == name)
    }

    /// The names a condition `name > 0` makes positive.
    pub fn positive_names(&self) -> impl Iterator<Item = String> + '_ {
        self.conditions()
            .filter_map(|c| match (&c.op, &c.left, &c.right) {
                (RelOp::Gt, Expr::Ref(r), Expr::Num(n, _))
                    if r.indices.is_none() && !r.grad && n == "0" =>
                {
                    Some(print_name(&r.name))
                }
                _ => None,
            })
    }

    /// The values the settings give, lowered without a program (numbers, sizes,
    /// symbols), in the resolved order: the values a run, a quadrature or a variant's
    /// answer is evaluated at. `Err` names the first given that is not a setting of
    /// that kind when `strict` (a run sets values; it cannot take a tensor, an element
    /// or a sign left open).
    pub fn values(&self, strict: bool) -> Result<Vec<(String, sym::Expr)>, String> {
        let mut out = Vec::new();
        for (g, written) in self.all.iter().zip(&self.written) {
            let not_set = || format!("the given `{}` is not a value to set", print_expr(written));
            match g {
                Given::Set(s) => match s.lowered(&Scope::default()) {
                    Ok(v) => out.push((s.name.clone(), v)),
                    Err(_) if strict => {
                        return Err(format!(
                            "the given `{}` cannot be read",
                            print_expr(written)
                        ))
                    }
                    Err(_) => {}
                },
                Given::SignOpen(s) if strict => {
                    return Err(format!(
                        "the given sets `{}^{}`, which leaves the sign of `{}` open",
                        s.name, s.power, s.name
                    ))
                }
                Given::Condition(c) if strict && matches!(c.op, RelOp::Approx | RelOp::Eq) => {
                    return Err(not_set())
                }
                Given::Tensor { .. } | Given::Element { .. } | Given::Other(_) if strict => {
                    return Err(not_set())
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

fn read_one(position: usize, g: &Expr, env: &Env) -> Given {
    let Expr::Rel(op, l, r, _) = g else {
        return Given::Other(g.clone());
    };
    let condition = || {
        Given::Condition(Condition {
            op: *op,
            left: (**l).clone(),
            right: (**r).clone(),
            given: g.clone(),
        })
    };
    if *op != RelOp::Eq {
        return condition();
    }
    // `name^n = value`.
    if let Expr::Binary(BinOp::Pow, b, p, _) = &**l {
        if let (Expr::Ref(br), Expr::Num(n, _)) = (&**b, &**p) {
            if let (true, Ok(n)) = (plain_scalar(br, env), n.parse::<i64>()) {
                if n >= 1 {
                    let name = print_name(&br.name);
                    if n > 1 && n % 2 == 0 && crate::check::givens::sign_open(&name, env) {
                        return Given::SignOpen(SignOpen {
                            position,
                            name,
                            power: n,
                            value: (**r).clone(),
                            target: (**b).clone(),
                        });
                    }
                    return Given::Set(Setting {
                        size: env.sizes.contains_key(&name),
                        name,
                        power: (n > 1).then_some(n),
                        value: (**r).clone(),
                    });
                }
            }
        }
        return condition();
    }
    let Expr::Ref(lr) = &**l else {
        return condition();
    };
    if lr.grad {
        return Given::Other(g.clone());
    }
    // A size or symbol is set by name, even where a family shares its letter (`L` the
    // depth beside the family `L_l`).
    let name = print_name(&lr.name);
    if lr.indices.is_none() && (env.sizes.contains_key(&name) || env.symbols.contains_key(&name)) {
        return Given::Set(Setting {
            size: env.sizes.contains_key(&name),
            name,
            power: None,
            value: (**r).clone(),
        });
    }
    let key = env.key_of(&lr.name);
    let rank = env.tensors.get(&key).map(|t| t.rank);
    match (&lr.indices, rank) {
        (None, Some(k)) if k > 0 => Given::Tensor {
            name: key,
            value: (**r).clone(),
        },
        (Some(ix), Some(_)) => {
            let texts: Vec<String> = ix.iter().map(print_index).collect();
            Given::Element {
                key: format!("{key}[{}]", texts.join(",")),
                value: (**r).clone(),
            }
        }
        (None, _) if plain_scalar(lr, env) => Given::Set(Setting {
            size: env.sizes.contains_key(&name),
            name,
            power: None,
            value: (**r).clone(),
        }),
        (None, _) => condition(),
        _ => Given::Other(g.clone()),
    }
}

/// A reference without indices or gradient to a name a given may set: a size, a symbol,
/// or a scalar the program does not compute (a computed scalar set to a value is a
/// condition on what it reads).
fn plain_scalar(r: &crate::syntax::ast::Ref, env: &Env) -> bool {
    let name = print_name(&r.name);
    r.indices.is_none()
        && !r.grad
        && (env.sizes.contains_key(&name)
            || env.symbols.contains_key(&name)
            || (!env.computed_scalars.contains(&name)
                && env
                    .tensor_of(&r.name)
                    .is_none_or(|t| t.rank == 0 && t.kind != crate::check::TensorKind::Computed)))
}

/// The positions of `all` with the element givens in dependency order (each after the
/// element givens its value reads; a cycle keeps the order written), every other given
/// where it stands.
fn element_order(all: &[Given], env: &Env) -> Vec<usize> {
    let elements: Vec<(usize, &str, Vec<String>)> = all
        .iter()
        .enumerate()
        .filter_map(|(k, g)| match g {
            Given::Element { key, value } => {
                let mut reads = Vec::new();
                crate::syntax::visit::walk_refs(value, &mut |r| {
                    if let (Some(ix), false) = (&r.indices, r.grad) {
                        let texts: Vec<String> = ix.iter().map(print_index).collect();
                        reads.push(format!("{}[{}]", env.key_of(&r.name), texts.join(",")));
                    }
                });
                Some((k, key.as_str(), reads))
            }
            _ => None,
        })
        .collect();
    let mut placed: Vec<usize> = Vec::new();
    let mut left: Vec<&(usize, &str, Vec<String>)> = elements.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|(_, _, reads)| {
            reads
                .iter()
                .all(|r| !left.iter().any(|(_, key, _)| *key == r.as_str()))
        });
        // A cycle: the first left, as written.
        let k = ready.unwrap_or(0);
        placed.push(left.remove(k).0);
    }
    // The element givens' slots, in their written positions, take the sorted order.
    let mut sorted = placed.into_iter();
    (0..all.len())
        .map(|k| match all[k] {
            Given::Element { .. } => sorted.next().unwrap_or(k),
            _ => k,
        })
        .collect()
}
