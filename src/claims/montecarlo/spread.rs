//! Points besides the sample values at which Monte Carlo tries a claim it confirmed, that
//! the moves by factors never reach (session 34): the sizes moved apart from each other,
//! and the special values of a free scalar (0, the closed ends of its domain).

use crate::check::Env;
use crate::syntax::ast::{self, Claim};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use std::collections::BTreeMap;

/// A point of values (sizes, symbols, scalar inputs).
pub type Point = BTreeMap<String, BigRational>;

/// The sizes moved apart from each other (the exact engine's
/// [`crate::claims::tensor_sym::exact::apart::apart_points`], from the least sizes at
/// which every element the claim names exists): a claim true only where two sizes are
/// equal (`E(c) == J` where E(c) = min(J, K), with `sample J = 2, K = 2`) was confirmed,
/// the other points moving every size together. Only the sizes that differ from their
/// `sample` values are in a point; none when a given reads a free size, when fewer than
/// two sizes are free, or when the sample sizes are not whole numbers.
pub(crate) fn apart_size_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sizes: &Point,
) -> Vec<Point> {
    let whole: BTreeMap<String, i64> = sizes
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_integer().try_into().ok()?)))
        .collect();
    if whole.len() != sizes.len() {
        return Vec::new();
    }
    let Some(least) =
        crate::claims::with_moments::least_sizes(claim, program, env, set, &whole, true)
    else {
        return Vec::new();
    };
    crate::claims::tensor_sym::exact::apart::apart_points(claim, &least, set, env)
        .into_iter()
        .map(|p| {
            p.into_iter()
                .filter(|(n, v)| whole.get(n) != Some(v))
                .map(|(n, v)| (n, BigRational::from_integer(v.into())))
                .collect::<Point>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `point` (one symbol `name` moved, the others at their sample values) is one
/// the claim is about: every relation of the declarations that reads `name` holds there
/// exactly (one that cannot be evaluated leaves the point out), and so do the claim's
/// own givens.
pub(crate) fn admissible(claim: &Claim, env: &Env, point: &Point, name: &str) -> bool {
    let relations_hold = env
        .domains
        .values()
        .flat_map(|d| &d.relations)
        .all(|(a, r, b)| {
            let (Ok(l), Ok(rv)) = (
                crate::sym::eval_exact(a, point),
                crate::sym::eval_exact(b, point),
            ) else {
                return !(a.free_symbols().contains(name) || b.free_symbols().contains(name));
            };
            crate::sym::holds_exact(&l, r, &rv) == Some(true)
        });
    let consts: BTreeMap<String, f64> = point
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_f64()?)))
        .collect();
    relations_hold && super::unmet_condition(claim, env, &consts, &Default::default()).is_none()
}

/// The special values of the free scalars (session 34): a symbol with a `sample` value
/// that may be negative (a location, a domain below 0) at 0, and a scalar input with no
/// `at` or `sample` value (its trials draw it) at 0 and at each closed end of its domain,
/// the other symbols at their sample values (`sample`, which the givens do not set). A
/// claim false only at 0 (`E(relu(c W x)) > 0`, 0 at c = 0) was confirmed: the moves by
/// factors and reflections never reach 0. A point outside the domain, where a relation
/// of the declarations or the claim's givens fail, is left out.
pub(crate) fn special_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    sample: &Point,
    set: &[String],
) -> Vec<Point> {
    let zero = BigRational::zero();
    let signed = |name: &str| {
        env.signed.contains(name)
            || env.scalars.contains_key(name)
            || env
                .domains
                .get(name)
                .is_some_and(|d| d.lo.as_ref().is_some_and(|(lo, _)| lo < &zero))
    };
    let in_domain =
        |name: &str, v: &BigRational| env.domains.get(name).is_none_or(|d| d.contains(v));
    let mut candidates: Vec<(String, BigRational)> = Vec::new();
    for (name, x) in sample {
        if signed(name) && !x.is_zero() && in_domain(name, &zero) {
            candidates.push((name.clone(), zero.clone()));
        }
    }
    // Scalar inputs the file gives no value: their trials draw them (standard normal).
    let valued: Vec<&str> = program
        .items
        .iter()
        .flat_map(|i| match &i.kind {
            ast::ItemKind::At(bs) | ast::ItemKind::Sample(bs) => bs.as_slice(),
            _ => &[],
        })
        .map(|b| b.name.name.as_str())
        .collect();
    for name in env.scalars.keys() {
        if env.computed_scalars.contains(name)
            || valued.contains(&name.as_str())
            || set.contains(name)
            || sample.contains_key(name)
        {
            continue;
        }
        let mut values = vec![zero.clone()];
        if let Some(d) = env.domains.get(name) {
            values.extend(
                [&d.lo, &d.hi]
                    .into_iter()
                    .filter_map(|e| e.as_ref().filter(|(_, open)| !open).map(|(v, _)| v.clone())),
            );
        }
        values.sort();
        values.dedup();
        for v in values {
            if in_domain(name, &v) {
                candidates.push((name.clone(), v));
            }
        }
    }
    let mut out = Vec::new();
    for (name, v) in candidates {
        let mut point = sample.clone();
        point.insert(name.clone(), v.clone());
        if admissible(claim, env, &point, &name) {
            out.push(BTreeMap::from([(name, v)]));
        }
    }
    out
}
