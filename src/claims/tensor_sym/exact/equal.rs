//! The equal-elements point (snd42, probe41 q02, q04): every element of each leaf tensor
//! set to one value, `x[*]`, so that a sum over a size is that size times its summand and
//! the claim, written out, is a scalar claim in the sizes, the symbols and one value per
//! tensor. That scalar claim goes to the scalar engine (`sym::check_relation`: its small
//! and whole points, the univariate search, the points the claim's own expression singles
//! out, the points of larger magnitude), whose sizes range over every whole number from
//! the least at which the claim's elements exist. A claim about every size
//! (docs/language.md, "What a claim over sizes means") false only at sizes above those
//! the exact check writes out (`sum_{i}(1) <= 50`, `sum_{i}(h[i]^2) <= 10` of a tanh
//! layer), or at element values far from its random points (`sigmoid(u[b] - 40)`), is
//! refuted there.
//!
//! Only a refutation is taken, and only after an independent re-check: the model run by
//! the interpreter at the witness's sizes and symbols with every element of each leaf
//! tensor set to its value must fail the claim too. Agreement says nothing here (the
//! equal-elements points are a small part of the claim's points).

use super::super::givens::{lower_side, lowerer, Givens};
use super::kinks::{supports, Support};
use crate::check::Env;
use crate::claims::{Options, Outcome};
use crate::num::{Machine, NumError};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, Program, RelOp};
use crate::verdict::{Method, Verdict};
use num_rational::BigRational;
use num_traits::ToPrimitive;
use std::collections::{BTreeMap, BTreeSet};

/// The claim at the equal-elements point of every size: `Some` refutation, re-checked on
/// the interpreter's run; `None` when it does not apply or finds nothing.
pub(in crate::claims::tensor_sym) fn equal_elements(
    op: RelOp,
    claim: &ast::Claim,
    (program, env): (&Program, &Env),
    g: &Givens,
    opts: &Options,
) -> Option<Outcome> {
    // Givens that set elements or whole tensors tie elements to others: not one value.
    if !g.tensor.is_empty() || !g.elems.is_empty() || !g.every.is_empty() {
        return None;
    }
    if !claim.at.is_empty() || claim.boundary.is_some() || !env.derived_sizes.is_empty() {
        return None;
    }
    let ast::Expr::Rel(_, l, r, _) = &claim.body else {
        return None;
    };
    // An approximate claim's tolerance is not read here.
    if op == RelOp::Approx {
        return None;
    }
    let rel = crate::claims::scalar::relation(op)?;
    // The sides and givens written out with every element of a leaf tensor one symbol.
    let (lowered, conditions) = sym::collecting(|| {
        (|| -> Result<(Expr, Expr, Vec<sym::Assumption>), String> {
            let (mut lw, syms) = lowerer(program, env, g, None, &BTreeMap::new(), None)?;
            lw.equal = true;
            let bind = BTreeMap::new();
            let a = lower_side(&mut lw, l, &bind, &syms)?;
            let b = lower_side(&mut lw, r, &bind, &syms)?;
            let mut facts = Vec::new();
            for (x, fop, y) in &g.facts {
                let rel = crate::claims::scalar::relation(*fop).ok_or("approximate given")?;
                facts.push((
                    lower_side(&mut lw, x, &bind, &syms)?,
                    rel,
                    lower_side(&mut lw, y, &bind, &syms)?,
                ));
            }
            Ok((a, b, facts))
        })()
    });
    let (lhs, rhs, facts) = lowered.ok()?;
    // Sizes fixed by a number in the file keep it.
    let mut fixed: BTreeMap<String, Expr> = BTreeMap::new();
    for it in &program.items {
        if let ast::ItemKind::SizeValue { name, value } = &it.kind {
            let v = sym::parse_number(crate::syntax::printer::print_expr(value).trim());
            match v {
                Some(v) => fixed.insert(name.name.clone(), Expr::num(v)),
                None => fixed.insert(name.name.clone(), Expr::sym("#unfixed")),
            };
        }
    }
    let put = |e: &Expr| fixed.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v));
    let (lhs, rhs) = (put(&lhs), put(&rhs));
    let facts: Vec<sym::Assumption> = facts
        .into_iter()
        .map(|(a, rel, b)| (put(&a), rel, put(&b)))
        .collect();
    let conditions: Vec<sym::Condition> = conditions.iter().map(|c| c.map(|e| put(e))).collect();
    // Every name must be a size, a declared symbol, a scalar input or an element value
    // of a leaf tensor with a known support; anything else (a sum that still depends on
    // its index, a bracket of indices, a scalar leaf, `min(T)`) leaves the point out.
    let mut names: BTreeSet<String> = lhs.free_symbols();
    names.extend(rhs.free_symbols());
    for (a, _, b) in &facts {
        names.extend(a.free_symbols());
        names.extend(b.free_symbols());
    }
    for c in &conditions {
        names.extend(c.expr().free_symbols());
    }
    let sample: BTreeMap<String, i64> = {
        let m = Machine::new(program, env).ok()?;
        env.sizes
            .keys()
            .filter_map(|s| m.consts.get(s).map(|v| (s.clone(), *v as i64)))
            .collect()
    };
    let supports = supports(program, &sample, &g.syms);
    let mut sizes: Vec<String> = Vec::new();
    let mut elements: Vec<(String, String)> = Vec::new();
    for n in &names {
        if env.sizes.contains_key(n) {
            sizes.push(n.clone());
        } else if let Some(key) = n.strip_suffix("[*]") {
            let leaf = program.items.iter().any(|it| {
                matches!(&it.kind, ast::ItemKind::Decl(d)
                    if d.kind != ast::DeclKind::Grad
                        && env.key_of(&d.target.name) == key
                        && !matches!(d.init, Some(ast::Init::Value(_))))
            });
            let rank = env.tensors.get(key).map(|t| (t.rank, t.family_arity));
            if !leaf || !matches!(rank, Some((k, 0)) if k > 0) {
                return None;
            }
            if matches!(supports.get(key), Some(Support::Unknown)) {
                return None;
            }
            elements.push((n.clone(), key.to_string()));
        } else if !(env.symbols.contains_key(n)
            || (env.scalars.contains_key(n) && !env.computed_scalars.contains(n)))
        {
            return None;
        }
    }
    if sizes.is_empty() && elements.is_empty() {
        return None;
    }
    // A support that reads a symbol of the claim (`bernoulli(p)` beside p): the value
    // of the element is tied to it, not free.
    for (_, key) in &elements {
        if supports.contains_key(key) && distribution_reads(program, env, key, &names) {
            return None;
        }
    }
    // The sizes from the least at which every element the claim names exists.
    let set: Vec<String> = g.syms.iter().map(|(n, _, _)| n.clone()).collect();
    let least = crate::claims::with_moments::least_sizes(claim, program, env, &set, &sample, false)
        .unwrap_or_else(|| sample.clone());
    let mut domains = crate::claims::symbolic::claim_domains(env, &facts);
    let mut signed = crate::claims::symbolic::signed_symbols(env);
    for s in &sizes {
        let lo = least.get(s).copied().unwrap_or(1).max(1);
        let mut d = sym::Domain::size("a size");
        d.meet(&sym::Domain::relation(
            ">=",
            BigRational::from_integer(lo.into()),
            "the least size",
        )?);
        domains.insert(s.clone(), d);
    }
    for (n, key) in &elements {
        let d = match supports.get(key) {
            Some(Support::Values(vs)) => {
                let (lo, hi) = (vs.iter().min()?, vs.iter().max()?);
                if (hi - lo + 1) as usize != vs.len() {
                    return None;
                }
                let mut d = sym::Domain::relation(
                    ">=",
                    BigRational::from_integer((*lo).into()),
                    "support",
                )?;
                d.meet(&sym::Domain::relation(
                    "<=",
                    BigRational::from_integer((*hi).into()),
                    "support",
                )?);
                d.integer = true;
                d
            }
            // `uniform(lo, hi)`: [lo, hi).
            Some(Support::Interval(lo, hi)) => {
                let mut d = sym::Domain::relation(">=", lo.clone(), "support")?;
                d.meet(&sym::Domain::relation("<", hi.clone(), "support")?);
                d
            }
            Some(Support::Unknown) => return None,
            None => {
                signed.insert(n.clone());
                continue;
            }
        };
        signed.insert(n.clone());
        domains.insert(n.clone(), d);
    }
    let check = sym::CheckOptions {
        seed: opts.seed,
        integer_symbols: sizes.iter().cloned().collect(),
        domains,
        assumptions: facts,
        signed_symbols: signed,
        conditions,
        fractional_symbols: env.fractional.clone(),
        ..Default::default()
    };
    // A strict relation is first searched for a strict failure (`<` as `<=`): a tie
    // (`D < 82` at D = 82) is a refutation floating point cannot confirm on the
    // interpreter's run, a point past it is.
    let weak = match rel {
        sym::Rel::Lt => Some(sym::Rel::Le),
        sym::Rel::Gt => Some(sym::Rel::Ge),
        _ => None,
    };
    let d = weak
        .map(|w| sym::check_relation(&lhs, &w, &rhs, &check))
        .filter(|d| d.verdict == Verdict::Refuted)
        .unwrap_or_else(|| sym::check_relation(&lhs, &rel, &rhs, &check));
    if d.verdict != Verdict::Refuted {
        return None;
    }
    let w = d.witness?;
    // The re-check: the interpreter at the witness's sizes, every element of each leaf
    // tensor set to its value.
    let rerun = rerun(op, claim, (program, env), &w.point, opts.seed)?;
    let shown: Vec<String> = w
        .point
        .iter()
        .map(|(k, v)| match k.strip_suffix("[*]") {
            Some(t) => format!("every element of {t} = {v}"),
            None => format!("{k} = {v}"),
        })
        .collect();
    let mut w = w;
    w.checked_by = format!(
        "{}, the claim written out with every element of each tensor equal and its sums over a size as the size times the summand; re-checked on the interpreter's run of the model at that point: {rerun}",
        w.checked_by
    );
    w.element = Some("every element (all equal)".into());
    let text = format!(
        "at {}: left {}, right {} (every element of each tensor equal: its sums over a size are the size times the summand, a scalar claim over every size; re-checked on the interpreter's run at that point: {rerun})",
        shown.join(", "),
        w.left,
        w.right
    );
    let mut o = Outcome::new(Verdict::Refuted, Method::ExactEval, text);
    o.witness = Some(w);
    Some(o)
}

/// Whether the distribution of the leaf `key` reads one of `names`.
fn distribution_reads(program: &Program, env: &Env, key: &str, names: &BTreeSet<String>) -> bool {
    program.items.iter().any(|it| match &it.kind {
        ast::ItemKind::Decl(d) if env.key_of(&d.target.name) == key => match &d.init {
            Some(ast::Init::Dist(c)) => {
                let mut hit = false;
                for a in &c.args {
                    crate::check::walk_refs(a, &mut |r| {
                        hit |= names.contains(&env.key_of(&r.name));
                    });
                }
                hit
            }
            _ => false,
        },
        _ => false,
    })
}

/// The model run by the interpreter at `point` (sizes and symbols; each `x[*]` the value
/// of every element of the leaf x, other leaf tensors every element at the value drawn
/// first): the evidence of the run's refutation, `None` when the run does not fail
/// the claim (or cannot be made).
fn rerun(
    op: RelOp,
    claim: &ast::Claim,
    (program, env): (&Program, &Env),
    point: &BTreeMap<String, BigRational>,
    seed: u64,
) -> Option<String> {
    let ast::Expr::Rel(_, l, r, _) = &claim.body else {
        return None;
    };
    let mut consts: Vec<(String, f64)> = Vec::new();
    let mut scalars: Vec<(String, f64)> = Vec::new();
    let mut equal: BTreeMap<String, f64> = BTreeMap::new();
    for (k, v) in point {
        let v = v.to_f64().filter(|x| x.is_finite())?;
        if let Some(t) = k.strip_suffix("[*]") {
            equal.insert(t.to_string(), v);
        } else if env.sizes.contains_key(k) || env.symbols.contains_key(k) {
            consts.push((k.clone(), v));
        } else {
            scalars.push((k.clone(), v));
        }
    }
    let leaves: Vec<String> = program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ast::ItemKind::Decl(d)
                if d.kind != ast::DeclKind::Grad
                    && !matches!(d.init, Some(ast::Init::Value(_))) =>
            {
                let key = env.key_of(&d.target.name);
                env.tensors
                    .get(&key)
                    .is_some_and(|t| t.rank > 0 && t.family_arity == 0)
                    .then_some(key)
            }
            _ => None,
        })
        .collect();
    let before = |m: &mut Machine| -> Result<(), NumError> {
        for (k, v) in &consts {
            m.consts.insert(k.clone(), *v);
        }
        Ok(())
    };
    let after = |m: &mut Machine| -> Result<(), NumError> {
        for key in &leaves {
            let Some(store) = m.vals.get_mut(&(key.clone(), false)) else {
                continue;
            };
            let v = match equal.get(key) {
                Some(v) => *v,
                None => {
                    let first = store.keys().min().cloned();
                    match first.and_then(|p| store.get(&p).copied()) {
                        Some(v) => v,
                        None => continue,
                    }
                }
            };
            store.values_mut().for_each(|x| *x = v);
        }
        for (k, v) in &scalars {
            m.vals
                .entry((k.clone(), false))
                .or_default()
                .insert(Vec::new(), *v);
        }
        Ok(())
    };
    let mut run = crate::num::gradcheck::run_model_at(
        program,
        env,
        &[],
        None,
        seed,
        (&before, &after),
        &|_, _| None,
    )
    .ok()?;
    let o = crate::claims::numeric::decide_found(
        op,
        l,
        r,
        &claim.given,
        program,
        &mut run.machine,
        seed,
        &mut None,
        &mut false,
    );
    (o.verdict == Verdict::Refuted).then_some(o.evidence)
}
