//! Comparing two floating-point values or two enclosures under a relation, with the
//! tolerance of a floating-point agreement (moved out of `relation/mod.rs`, session 41).

use super::Rel;

pub(super) fn holds(l: f64, rel: &Rel, r: f64) -> bool {
    // A side that is not finite holds nothing (a relative tolerance of an infinite side
    // would take every value as equal to it).
    if !l.is_finite() || !r.is_finite() {
        return false;
    }
    let tol = 1e-9 * l.abs().max(r.abs()).max(1.0);
    match rel {
        Rel::Eq => (l - r).abs() <= tol,
        Rel::Le => l <= r + tol,
        Rel::Ge => l + tol >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(t, _) => (l - r).abs() <= *t,
        Rel::ApproxRel(t) => (l - r).abs() <= *t * l.abs().max(r.abs()),
    }
}

/// Whether a floating-point agreement is carried by the enclosures: the relation holds
/// for every pair of values in them, or it is one a tie satisfies (`==`, `<=`, `>=`) and
/// both enclosures are narrow (a relative width of at most 1e-9, the tolerance of
/// [`holds`]), where the values agree as far as floating point can tell.
pub(super) fn holds_enclosed(l: (f64, f64), rel: &Rel, r: (f64, f64)) -> bool {
    let narrow = |e: (f64, f64)| e.1 - e.0 <= 1e-9 * e.0.abs().max(e.1.abs()).max(1.0);
    let tie = narrow(l) && narrow(r);
    match rel {
        Rel::Eq => tie,
        Rel::Le => l.1 <= r.0 || tie,
        Rel::Ge => l.0 >= r.1 || tie,
        Rel::Lt => l.1 < r.0,
        Rel::Gt => l.0 > r.1,
        Rel::Approx(t, _) => l.1 - r.0 <= *t && r.1 - l.0 <= *t,
        Rel::ApproxRel(t) => {
            let least = |e: (f64, f64)| {
                if e.0 <= 0.0 && e.1 >= 0.0 {
                    0.0
                } else {
                    e.0.abs().min(e.1.abs())
                }
            };
            let most = (l.1 - r.0).abs().max((r.1 - l.0).abs());
            most <= *t * least(l).max(least(r))
        }
    }
}

/// Whether the relation certainly fails for every pair of values in the enclosures.
pub(super) fn fails_enclosed(l: (f64, f64), rel: &Rel, r: (f64, f64)) -> bool {
    match rel {
        Rel::Eq => l.1 < r.0 || r.1 < l.0,
        Rel::Le => l.0 > r.1,
        Rel::Lt => l.0 >= r.1,
        Rel::Ge => l.1 < r.0,
        Rel::Gt => l.1 <= r.0,
        Rel::Approx(t, _) => l.0 - r.1 > *t || r.0 - l.1 > *t,
        Rel::ApproxRel(_) => false,
    }
}
