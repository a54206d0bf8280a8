//! The sizes a claim's givens set, a condition's failure at a point, and how a point is
//! shown: helpers of the exact element check.

use super::*;

/// Whether a definedness condition fails at the point (evaluated exactly; a condition
/// that cannot be is not known to fail).
pub(super) fn fails_at(c: &sym::Condition, pt: &BTreeMap<String, BigRational>) -> bool {
    let Ok(v) = sym::eval_exact(c.expr(), pt) else {
        return false;
    };
    let zero = BigRational::from_integer(0.into());
    match c {
        sym::Condition::NonZero(_) => v == zero,
        sym::Condition::Positive(_) => v <= zero,
        sym::Condition::NonNegative(_) => v < zero,
        sym::Condition::Power(..) => false,
    }
}

/// The largest size a given may set for the exact check (the sums are written out at it).
pub(super) const MAX_GIVEN_SIZE: i64 = 64;

/// The largest size a given may set for the exact check ([`sizes_under_givens`]): the
/// lowering refuses the sums it cannot write out (past `elements::MAX_WRITTEN_SIZE`) and
/// the free indices past 16 elements itself, so a size no sum runs over may be large
/// (probe39/h l10: `given K == 100` of `categorical(K)` labels left the check undone, and
/// a claim false at the class 99 only was confirmed on a sampled run).
pub(super) const MAX_SET_SIZE: i64 = 4_096;

/// The sample sizes with those the claim's givens set (`given I = 1`, `given T = 2 K`)
/// put in, solved in dependency order (each given evaluated again until none changes):
/// the sums are written out, the free indices run and the point drawn at the sizes the
/// claim is about, never at sample sizes the givens exclude (`sum_{i}(x[b,i]) == x[b,0]
/// given I = 1` was refuted at I = 3). A given that sets a size to anything but a whole
/// number from 1 to [`MAX_SET_SIZE`], or givens that do not settle, leave the claim to
/// the other engines (`Err`).
pub(super) fn sizes_under_givens(
    m: &mut Machine,
    env: &Env,
    g: &Givens,
    mut sizes: BTreeMap<String, i64>,
) -> Result<BTreeMap<String, i64>, String> {
    let set: Vec<(&String, &ast::Expr)> = g
        .syms
        .iter()
        .filter(|(n, _, power)| power.is_none() && env.sizes.contains_key(n))
        .map(|(n, v, _)| (n, v))
        .collect();
    for _ in 0..=set.len() {
        let mut changed = false;
        for &(n, v) in &set {
            let x = m.const_expr(v).map_err(|e| {
                format!(
                    "the size `{n}` the givens set cannot be computed: {}",
                    e.message
                )
            })?;
            if !x.is_finite() || x.fract() != 0.0 || x < 1.0 || x > MAX_SET_SIZE as f64 {
                return Err(format!(
                    "the givens set the size `{n}` to {x}, not a whole number from 1 to {MAX_SET_SIZE} at which the claim can be written out"
                ));
            }
            let x = x as i64;
            if sizes.get(n) != Some(&x) {
                sizes.insert(n.clone(), x);
                m.consts.insert(n.clone(), x as f64);
                changed = true;
            }
        }
        if !changed {
            return Ok(sizes);
        }
    }
    Err("the givens that set sizes do not settle (each depends on another)".into())
}

/// The point of an exact check in words: the leaf values, the sample sizes and the
/// element (`x[0] = 1/2 (N = 2): n = 0`); a claim without leaf values says so, and one
/// without a free index names no element, instead of printing an empty point.
pub(super) fn point_text(
    pt: &BTreeMap<String, BigRational>,
    env: &Env,
    sizes: &BTreeMap<String, i64>,
    at: &str,
    which: &str,
) -> String {
    let shown: Vec<String> = pt
        .iter()
        .filter(|(k, _)| !env.sizes.contains_key(*k))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let sizes = sizes
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let values = if shown.is_empty() {
        format!("{which} {sizes} (no leaf values: the claim fails at every value)")
    } else {
        format!("{} ({sizes})", shown.join(", "))
    };
    if at.is_empty() {
        values
    } else {
        format!("{values}: {at}")
    }
}

/// A rational in words, a long one by its size and floating-point value.
pub(super) fn short(x: &BigRational) -> String {
    let t = x.to_string();
    if t.len() <= 40 {
        return t;
    }
    match num_traits::ToPrimitive::to_f64(x).filter(|v| v.is_finite()) {
        Some(v) => format!("≈ {v:.6e}"),
        None => format!(
            "a rational of {} characters (beyond floating point)",
            t.len()
        ),
    }
}
