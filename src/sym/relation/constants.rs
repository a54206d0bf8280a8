//! Named constants and the simplest numbers near a value, for the points a relation is tried at.

use super::*;

/// At most this many points of small whole numbers are tested
/// ([`Problem::whole_points`]).
pub(super) const WHOLE_POINTS: usize = 100;

/// The named constants and their bounds (in units of 10⁻⁹): π ∈ [3.141592653,
/// 3.141592654], e ∈ [2.718281828, 2.718281829].
pub(super) const CONSTANT_BOUNDS: &[(&str, (i64, i64))] = &[
    ("pi", (3_141_592_653, 3_141_592_654)),
    ("e", (2_718_281_828, 2_718_281_829)),
];

/// The named constants among `syms`: `pi` and `e`, unless the options give the name a
/// domain or a sampling class (a symbol the file declares).
pub(super) fn named_constants(
    syms: &BTreeSet<String>,
    opts: &CheckOptions,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, v) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)] {
        let declared = opts.domains.contains_key(name)
            || opts.integer_symbols.contains(name)
            || opts.positive_symbols.contains(name)
            || opts.signed_symbols.contains(name);
        if syms.contains(name) && !declared {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// Symbols that must be sampled positive: those under `log` and in the bases of
/// non-integer powers.
pub(super) fn positive_required(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| positive_required(x, out)),
        Expr::Pow(b, x) => {
            if x.as_int().is_none() {
                out.extend(b.free_symbols());
            }
            positive_required(b, out);
            positive_required(x, out);
        }
        Expr::Func(f, x) => {
            if f.entry().domain != super::super::func::Domain::All {
                out.extend(x.free_symbols());
            }
            positive_required(x, out);
        }
    }
}

/// The rational with the smallest denominator (up to 10⁴) within 10⁻¹² relative of `v`:
/// `0.1` as 1/10, not its binary expansion.
pub(super) fn simplest_near(v: f64) -> Option<BigRational> {
    if !v.is_finite() || v.abs() > 1e12 {
        return None;
    }
    (1i64..=10_000).find_map(|d| {
        let n = (v * d as f64).round();
        ((n / d as f64 - v).abs() <= 1e-12 * v.abs().max(1e-300))
            .then(|| BigRational::new(BigInt::from(n as i64), BigInt::from(d)))
    })
}
