//! Sizes moved apart: points at which the free sizes differ from each other, so that a
//! claim that holds only where two sizes are equal is tested where they are not.

use crate::check::Env;
use std::collections::BTreeMap;

/// From the least sizes `least` (every size the claim is about at its least value), the
/// points where the sizes the givens do not set (`set`) and that are not derived from
/// others are moved apart: sorted by name, the i-th raised by i, then the i-th raised by
/// k - 1 - i (k of them), so each pair of them differs once each way (probe33/a a11:
/// `sum_{k}([k == j]) == 1` with sizes J, K was confirmed at J = K = 2 and J = K = 1, and it
/// fails at J = 2, K = 1). Derived sizes are computed again; a point where one is not a
/// whole number of at least 1 is left out. Empty with fewer than two such sizes, and when
/// a given of the claim reads one of them (`given J > K`: a point moved apart could break
/// it, and a refutation there would be outside the claim).
pub(crate) fn apart_points(
    claim: &crate::syntax::ast::Claim,
    least: &BTreeMap<String, i64>,
    set: &[String],
    env: &Env,
) -> Vec<BTreeMap<String, i64>> {
    let derived: Vec<&String> = env.derived_sizes.iter().map(|(n, _)| n).collect();
    let free: Vec<&String> = least
        .keys()
        .filter(|n| env.sizes.contains_key(*n) && !set.contains(n) && !derived.contains(n))
        .collect();
    let k = free.len();
    let mut read = false;
    for g in &claim.given {
        crate::syntax::visit::walk_refs(g, &mut |r| {
            read |= free.contains(&&crate::syntax::printer::print_name(&r.name));
        });
    }
    if k < 2 || read {
        return Vec::new();
    }
    let mut out = Vec::new();
    for up in [true, false] {
        let mut p: BTreeMap<String, i64> = least
            .iter()
            .filter(|(n, _)| !derived.contains(n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        for (i, n) in free.iter().enumerate() {
            let step = if up { i } else { k - 1 - i } as i64;
            if let Some(v) = p.get_mut(*n) {
                *v += step;
            }
        }
        if crate::check::outputs::derive_sizes_at(&mut p, env) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}
