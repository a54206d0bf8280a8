//! A confirmation by trials of a claim written with a long decimal that lies within the
//! comparison's slack of a simple fraction, and differs from it (`E(y) <= 0.6666666666`
//! where E(y) is 2/3): no number of trials tells the two apart, so whichever the left
//! side equals, the trials decide nothing about the claim as written. It is undecided
//! with the fraction named (issue 14: a float never confirms a claim that may be exactly
//! false by less than its slack; docs/soundness.md, "Monte Carlo").

use crate::check::supports::exact_value;
use crate::syntax::ast::{Claim, Expr, RelOp};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;

/// The largest denominator of a "simple" fraction.
const MAX_DENOMINATOR: i64 = 10_000;

/// Relative distance within which a number and a different simple fraction are one
/// value to the trials (the comparison's slack).
const SLACK: f64 = 1e-9;

/// Why a confirmation by trials decides nothing: a side of the claim is a number (a
/// literal, or one computed from the claim's numeric givens) within [`SLACK`] of a
/// different fraction with a denominator at most [`MAX_DENOMINATOR`].
pub(super) fn decimal_beside_fraction(claim: &Claim) -> Option<String> {
    let Expr::Rel(op, l, r, _) = &claim.body else {
        return None;
    };
    // A tolerance (`~=`) accepts the difference by what it says.
    if *op == RelOp::Approx {
        return None;
    }
    let at = given_numbers(claim);
    for side in [l, r] {
        let Some(d) = exact_value(side, &at) else {
            continue;
        };
        if let Some(f) = simple_fraction_near(&d) {
            let gap = (&d - &f).abs().to_f64().unwrap_or(f64::NAN);
            return Some(format!(
                "the side {} is {d}, within {gap:.1e} (relative {:.1e}) of {f} and not equal to it: the trials cannot tell the two apart, so they decide nothing about the claim as written (write the fraction, or a tolerance with `~=`)",
                crate::syntax::printer::print_expr(side),
                gap / f.abs().to_f64().unwrap_or(1.0).max(f64::MIN_POSITIVE),
            ));
        }
    }
    None
}

/// The claim's givens that set a name to a number (`v = 1/7`).
fn given_numbers(claim: &Claim) -> BTreeMap<String, BigRational> {
    let mut at = BTreeMap::new();
    for g in &claim.given {
        if let Expr::Rel(RelOp::Eq, l, r, _) = g {
            if let (Expr::Ref(x), Some(v)) = (&**l, exact_value(r, &BTreeMap::new())) {
                if x.indices.is_none() && !x.grad {
                    at.insert(crate::syntax::printer::print_name(&x.name), v);
                }
            }
        }
    }
    at
}

/// The simple fraction (denominator at most [`MAX_DENOMINATOR`]) within [`SLACK`] of `d`
/// and different from it, from the continued fraction of `d` (its convergents are the
/// best approximations).
pub(super) fn simple_fraction_near(d: &BigRational) -> Option<BigRational> {
    if d.is_zero() || d.denom() <= &BigInt::from(MAX_DENOMINATOR) {
        return None;
    }
    let slack = BigRational::from_float(SLACK)?;
    let (mut h0, mut h1) = (BigInt::zero(), BigInt::one());
    let (mut k0, mut k1) = (BigInt::one(), BigInt::zero());
    let mut x = d.clone();
    let mut found = None;
    for _ in 0..64 {
        let a = x.floor().to_integer();
        let h2 = &a * &h1 + &h0;
        let k2 = &a * &k1 + &k0;
        if k2 > BigInt::from(MAX_DENOMINATOR) {
            break;
        }
        let c = BigRational::new(h2.clone(), k2.clone());
        if &c != d && !c.is_zero() && (d - &c).abs() <= &slack * c.abs() {
            found = Some(c);
        }
        let frac = &x - x.floor();
        if frac.is_zero() {
            break;
        }
        x = frac.recip();
        (h0, h1) = (h1, h2);
        (k0, k1) = (k1, k2);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> BigRational {
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        BigRational::new(n.parse().unwrap(), d.parse().unwrap())
    }

    #[test]
    fn finds_the_fraction_a_decimal_misses() {
        // 0.6666666666 beside 2/3; 0.2857142857 beside 2/7; 0.0256410256 beside 1/39.
        let cases = [
            ("6666666666/10000000000", "2/3"),
            ("2857142857/10000000000", "2/7"),
            ("769230769/10000000000", "1/13"),
            ("-8181818182/10000000000", "-9/11"),
        ];
        for (d, f) in cases {
            assert_eq!(simple_fraction_near(&q(d)), Some(q(f)), "{d}");
        }
    }

    #[test]
    fn leaves_exact_and_far_numbers() {
        // A simple fraction itself, a short decimal (0.333 is 1e-3 from 1/3), a number
        // with no simple fraction near it (1/sqrt(2 pi) to 10 digits), zero.
        for d in ["2/3", "333/1000", "3989422804/10000000000", "0", "1/39"] {
            assert_eq!(simple_fraction_near(&q(d)), None, "{d}");
        }
    }
}
