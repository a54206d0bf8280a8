//! Sizes moved apart: points at which the free sizes differ from each other, so that a
//! claim that holds only where two sizes are equal is tested where they are not.

use crate::check::Env;
use crate::syntax::ast::{Claim, Expr, RelOp};
use std::collections::BTreeMap;

/// From the least sizes `least` (every size the claim is about at its least value), the
/// points where the sizes the givens do not set (`set`) and that are not derived from
/// others are moved apart: sorted by name, the i-th raised by i, then the i-th raised by
/// k - 1 - i (k of them), so each pair of them differs once each way (probe33/a a11:
/// `sum_{k}([k == j]) == 1` with sizes J, K was confirmed at J = K = 2 and J = K = 1, and it
/// fails at J = 2, K = 1); then each one alone raised by [`GAP`] above the others, and
/// each one alone left [`GAP`] below them (probe34 p05: the size whose name sorts in the
/// middle was never the largest; p25: two sizes never differed by more than one, and a
/// claim false from K = J + 2 was confirmed). Derived sizes are computed again; a point
/// where one is not a whole number of at least 1 is left out, and so is a point where a
/// given of the claim that reads those sizes does not hold there (or cannot be read
/// there): a refutation there would be outside the claim (probe34 p22: `given J >= 1`
/// turned the points off altogether). Empty with fewer than two such sizes.
pub(crate) fn apart_points(
    claim: &Claim,
    least: &BTreeMap<String, i64>,
    set: &[String],
    env: &Env,
) -> Vec<BTreeMap<String, i64>> {
    moved_points(claim, least, set, env, |k| {
        if k < 2 {
            return Vec::new();
        }
        let mut steps: Vec<Vec<i64>> = vec![(0..k as i64).collect(), (0..k as i64).rev().collect()];
        for i in 0..k {
            steps.push((0..k).map(|j| if j == i { GAP } else { 0 }).collect());
            steps.push((0..k).map(|j| if j == i { 0 } else { GAP }).collect());
        }
        steps
    })
}

/// How far one size is moved from the others (a window's offset plus one, say).
const GAP: i64 = 2;

/// From the least sizes `least`, the small sizes above them that [`apart_points`] does
/// not reach: with one free size, that size at one, two and three above its least value;
/// with several, all of them raised together by one and by two. A claim false only at a small size
/// between the least and the sample's (probe40/p p24: `P[k] (1 - P[k]) < 1/4` of a
/// softmax, false at K = 2 with equal logits, was confirmed at `sample K = 8`, tried at
/// K = 1 and K = 8 only) is refuted there. The same sizes are left out as in
/// [`apart_points`]: those the givens set, the derived ones (computed again), and a point
/// where a given that reads a moved size does not hold.
pub(crate) fn raised_points(
    claim: &Claim,
    least: &BTreeMap<String, i64>,
    set: &[String],
    env: &Env,
) -> Vec<BTreeMap<String, i64>> {
    moved_points(claim, least, set, env, |k| {
        let raises: &[i64] = match k {
            0 => &[],
            1 => &[1, 2, 3],
            _ => &[1, 2],
        };
        raises.iter().map(|by| vec![*by; k]).collect()
    })
}

/// The points of [`apart_points`] and [`raised_points`]: `steps(k)` gives, for the k free
/// sizes (those in `least` that are sizes, not set by the givens, not derived), how far
/// each is raised above its least value at each point. The sizes a given sets to a whole
/// number (`given X = 7`), which the derived sizes read, are put in to compute them and
/// left out of the point (snd36, probe35/p a02c: with `given X = 7` no derived size could
/// be computed, and no point was made). A point is kept when every derived size is a whole
/// number of at least 1 there and every given that reads a moved size holds there.
fn moved_points(
    claim: &Claim,
    least: &BTreeMap<String, i64>,
    set: &[String],
    env: &Env,
    steps: impl Fn(usize) -> Vec<Vec<i64>>,
) -> Vec<BTreeMap<String, i64>> {
    let derived: Vec<&String> = env.derived_sizes.iter().map(|(n, _)| n).collect();
    let free: Vec<&String> = least
        .keys()
        .filter(|n| env.sizes.contains_key(*n) && !set.contains(n) && !derived.contains(n))
        .collect();
    let steps = steps(free.len());
    if steps.is_empty() {
        return Vec::new();
    }
    // The givens that read a moved size, each tested at every point.
    let read: Vec<&Expr> = claim
        .given
        .iter()
        .filter(|g| {
            let mut reads = false;
            crate::syntax::visit::walk_refs(g, &mut |r| {
                reads |= free.contains(&&crate::syntax::printer::print_name(&r.name));
            });
            reads
        })
        .collect();
    let held: BTreeMap<String, i64> = claim
        .given
        .iter()
        .filter_map(|g| match g {
            Expr::Rel(RelOp::Eq, l, r, _) => match (&**l, &**r) {
                (Expr::Ref(rf), Expr::Num(v, _)) if rf.indices.is_none() => {
                    let n = crate::syntax::printer::print_name(&rf.name);
                    (env.sizes.contains_key(&n) && !least.contains_key(&n))
                        .then(|| Some((n, v.parse::<i64>().ok()?)))
                        .flatten()
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for step in steps {
        let mut p: BTreeMap<String, i64> = least
            .iter()
            .filter(|(n, _)| !derived.contains(n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        for (i, n) in free.iter().enumerate() {
            if let Some(v) = p.get_mut(*n) {
                *v += step[i];
            }
        }
        p.extend(held.iter().map(|(n, v)| (n.clone(), *v)));
        let fits = crate::check::outputs::derive_sizes_at(&mut p, env)
            && read
                .iter()
                .all(|g| crate::check::outputs::relation_holds_at(g, &p, env) == Some(true));
        p.retain(|n, _| !held.contains_key(n));
        if fits && !out.contains(&p) && p != *least {
            out.push(p);
        }
    }
    out
}
