//! Exact rational arithmetic without needless gcds.
//!
//! `num_rational::Ratio` reduces every sum and product by gcds, and `num_integer`'s
//! gcd of big integers (Stein's binary algorithm) takes time quadratic in the length of
//! the larger operand even when the other one is 1 or small: multiplying a 3,000-bit
//! integer coefficient by 40 cost a quadratic gcd against the denominator 1. Products
//! of a few hundred factors in the moments engine and the symbolic normal form spent
//! almost all their time there (a scalar product of 200 copies of a sum took 7 s to
//! check). These helpers give the same reduced results and skip the gcd where its
//! value is known (a denominator 1), or take one Euclid step first where the operands'
//! sizes differ.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// The greatest common divisor (non-negative), fast when one side is small.
pub fn gcd(a: &BigInt, b: &BigInt) -> BigInt {
    let (a, b) = (a.abs(), b.abs());
    if a.is_zero() {
        return b;
    }
    if b.is_zero() {
        return a;
    }
    if a.is_one() || b.is_one() {
        return BigInt::one();
    }
    let (big, small) = if a.bits() >= b.bits() { (a, b) } else { (b, a) };
    // One Euclid step brings the larger operand down to the size of the smaller.
    let r = &big % &small;
    if r.is_zero() {
        return small;
    }
    small.gcd(&r)
}

/// The greatest common divisor of two rationals: the largest rational of which both are
/// whole multiples, gcd(a_n b_d, b_n a_d) / (a_d b_d) (never negative).
pub fn gcd_rational(a: &BigRational, b: &BigRational) -> BigRational {
    let n = Integer::gcd(&(a.numer() * b.denom()), &(b.numer() * a.denom()));
    BigRational::new(n, a.denom() * b.denom())
}

/// `a · b`, reduced.
pub fn mul(a: &BigRational, b: &BigRational) -> BigRational {
    if a.is_zero() || b.is_zero() {
        return BigRational::zero();
    }
    let (an, ad, bn, bd) = (a.numer(), a.denom(), b.numer(), b.denom());
    if ad.is_one() && bd.is_one() {
        return BigRational::from_integer(an * bn);
    }
    let g1 = gcd(an, bd);
    let g2 = gcd(ad, bn);
    let n = (an / &g1) * (bn / &g2);
    let d = (ad / &g2) * (bd / &g1);
    normalized(n, d)
}

/// `a + b`, reduced.
///
/// By Knuth's method (TAOCP 4.5.1): with g = gcd(b_d, a_d), the sum is
/// t / (a_d b_d / g) with t = a_n (b_d / g) + b_n (a_d / g), and only gcd(t, g) is left
/// to divide out. Denominators that are powers of ten (decimals) or coprime make both
/// gcds cheap; the gcd of `t` against the whole product of the denominators, which was
/// a binary gcd of two 150,000-bit numbers for a sum of decimal coefficients, is not
/// taken.
pub fn add(a: &BigRational, b: &BigRational) -> BigRational {
    let (an, ad, bn, bd) = (a.numer(), a.denom(), b.numer(), b.denom());
    if ad.is_one() && bd.is_one() {
        return BigRational::from_integer(an + bn);
    }
    if a.is_zero() {
        return b.clone();
    }
    if b.is_zero() {
        return a.clone();
    }
    let g = gcd(ad, bd);
    if g.is_one() {
        // Coprime denominators: (an bd + bn ad) / (ad bd) is already reduced.
        return normalized(an * bd + bn * ad, ad * bd);
    }
    let (ad_g, bd_g) = (ad / &g, bd / &g);
    let t = an * &bd_g + bn * &ad_g;
    if t.is_zero() {
        return BigRational::zero();
    }
    let g2 = gcd(&t, &g);
    normalized(t / &g2, ad_g * (bd / g2))
}

/// The order of two rationals by value, as `Ratio`'s `Ord` gives it. `Ratio` compares
/// by continued fractions, a long division of the whole operands at each step: quick when
/// the values part early (the usual case), but two close 65,000-bit numbers agree for
/// thousands of steps, compared 4,000 times slower than they are multiplied, uncounted by
/// any budget, in every sort of a constructor's terms. Here: the signs, then the lengths
/// (a ratio of `n` and `d` bits lies in [2^(n-d-1), 2^(n-d+1))), then at most
/// [`CMP_STEPS`] steps of the continued fractions, then one comparison of cross
/// products (two multiplications, subquadratic).
pub fn cmp(a: &BigRational, b: &BigRational) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (an, ad, bn, bd) = (a.numer(), a.denom(), b.numer(), b.denom());
    if !ad.is_positive() || !bd.is_positive() {
        // Not normalized (never built by this module): the library's comparison.
        return a.cmp(b);
    }
    if ad == bd {
        return an.cmp(bn);
    }
    match an.sign().cmp(&bn.sign()) {
        Ordering::Equal => {}
        other => return other,
    }
    if an.is_zero() {
        return Ordering::Equal;
    }
    // Both of one sign: compare the magnitudes, the order reversed for negatives.
    let flip = |o: Ordering, reversed: bool| if reversed { o.reverse() } else { o };
    let negative = an.is_negative();
    let (mut p, mut q, mut r, mut s) = (
        an.magnitude().clone(),
        ad.magnitude().clone(),
        bn.magnitude().clone(),
        bd.magnitude().clone(),
    );
    let mut reversed = negative;
    for _ in 0..CMP_STEPS {
        // p/q against r/s, all positive; `Ratio`'s shortcuts first (a denominator or a
        // numerator in common, as the continued fractions of close values often have).
        if q == s {
            return flip(p.cmp(&r), reversed);
        }
        if p == r {
            return flip(s.cmp(&q), reversed);
        }
        let (e1, e2) = (
            p.bits() as i128 - q.bits() as i128,
            r.bits() as i128 - s.bits() as i128,
        );
        if e1 >= e2 + 2 {
            return flip(Ordering::Greater, reversed);
        }
        if e2 >= e1 + 2 {
            return flip(Ordering::Less, reversed);
        }
        let (i1, r1) = p.div_rem(&q);
        let (i2, r2) = r.div_rem(&s);
        match i1.cmp(&i2) {
            Ordering::Equal => {}
            other => return flip(other, reversed),
        }
        match (r1.is_zero(), r2.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return flip(Ordering::Less, reversed),
            (false, true) => return flip(Ordering::Greater, reversed),
            (false, false) => {}
        }
        // p/q = i + r1/q: compare the reciprocals q/r1 and s/r2, reversed.
        (p, q, r, s) = (q, r1, s, r2);
        reversed = !reversed;
    }
    flip((&p * &s).cmp(&(&r * &q)), reversed)
}

/// The steps of the continued fractions [`cmp`] takes before it compares cross products.
const CMP_STEPS: usize = 64;

/// The size of a rational in bits: its numerator's and its denominator's together.
pub fn bits(r: &BigRational) -> u64 {
    r.numer().bits() + r.denom().bits()
}

/// An upper bound of the bits of `a · b` (before any reduction), known without
/// computing it.
pub fn mul_bits(a: &BigRational, b: &BigRational) -> u64 {
    bits(a).saturating_add(bits(b))
}

/// An upper bound of the bits of `a + b` (before any reduction): the numerator
/// a_n b_d + b_n a_d has at most one bit more than its larger product, the
/// denominator at most the bits of a_d b_d.
pub fn add_bits(a: &BigRational, b: &BigRational) -> u64 {
    let (an, ad, bn, bd) = (
        a.numer().bits(),
        a.denom().bits(),
        b.numer().bits(),
        b.denom().bits(),
    );
    if a.denom() == b.denom() {
        return an.max(bn) + 1 + ad;
    }
    (an + bd).max(bn + ad) + 1 + ad + bd
}

/// `a · b` when its size bound ([`mul_bits`]) is at most `limit` bits and the file's
/// exact work allows it (charged before, [`super::exact_work`]); `None` (nothing
/// computed) past either.
pub fn mul_within(a: &BigRational, b: &BigRational, limit: u64) -> Option<BigRational> {
    if a.is_zero() || b.is_zero() {
        return Some(BigRational::zero());
    }
    if mul_bits(a, b) > limit || !super::exact_work::charge_exact(super::exact_work::rat_cost(a, b))
    {
        return None;
    }
    Some(mul(a, b))
}

/// `a + b` when its size bound ([`add_bits`]) is at most `limit` bits and the file's
/// exact work allows it (charged before, [`super::exact_work`]); `None` (nothing
/// computed) past either.
pub fn add_within(a: &BigRational, b: &BigRational, limit: u64) -> Option<BigRational> {
    if a.is_zero() {
        return Some(b.clone());
    }
    if b.is_zero() {
        return Some(a.clone());
    }
    if add_bits(a, b) > limit || !super::exact_work::charge_exact(super::exact_work::rat_cost(a, b))
    {
        return None;
    }
    Some(add(a, b))
}

/// `n / d` for coprime `n` and `d != 0`, with the sign on the numerator.
pub fn normalized(n: BigInt, d: BigInt) -> BigRational {
    if d.is_negative() {
        BigRational::new_raw(-n, -d)
    } else {
        BigRational::new_raw(n, d)
    }
}

/// A fixed total order of rationals that is not their value order: the lengths of the
/// denominator and numerator, then their digits, each comparison linear in the numbers'
/// length. For the parts of a coefficient past the bit budget, which only need an order
/// of their own so that equal products compare equal: sorted by [`cmp`], a product of
/// coefficient parts of 65,000 bits spent 82% of `tq export` of
/// tests/robustness/chained_huge_coefficients_derive.tq in long divisions (6 s of CPU).
pub fn cmp_fixed(a: &BigRational, b: &BigRational) -> std::cmp::Ordering {
    (a.denom().bits(), a.numer().bits(), a.denom(), a.numer()).cmp(&(
        b.denom().bits(),
        b.numer().bits(),
        b.denom(),
        b.numer(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn agrees_with_ratio_arithmetic() {
        let values = [
            r(0, 1),
            r(1, 1),
            r(-1, 1),
            r(6, 1),
            r(-40, 1),
            r(3, 4),
            r(-5, 6),
            r(10, 21),
            r(7, 3),
            r(-9, 14),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(mul(a, b), a * b, "{a} * {b}");
                assert_eq!(add(a, b), a + b, "{a} + {b}");
                let (m, s) = (mul(a, b), add(a, b));
                assert!(m.denom() > &BigInt::zero() && s.denom() > &BigInt::zero());
            }
        }
        let big = BigRational::from_integer(BigInt::from(40).pow(300u32));
        assert_eq!(mul(&big, &r(3, 8)), &big * &r(3, 8));
        assert_eq!(add(&big, &r(3, 8)), &big + &r(3, 8));
        assert_eq!(gcd(&BigInt::from(12), &BigInt::from(-18)), BigInt::from(6));
        assert_eq!(gcd(&BigInt::zero(), &BigInt::from(-5)), BigInt::from(5));
    }

    #[test]
    fn cmp_is_ratio_order() {
        // Small values of every sign, equal and unequal denominators, and large close
        // values whose continued fractions agree for many terms.
        let mut values = vec![];
        for n in -7i64..=7 {
            for d in 1i64..=6 {
                values.push(r(n, d));
            }
        }
        let q = BigRational::new(
            BigInt::from(10).pow(300u32) + 1,
            BigInt::from(10).pow(300u32),
        );
        let q90 = (0..90).fold(BigRational::one(), |p, _| &p * &q);
        values.extend([
            q.clone(),
            -q.clone(),
            q90.clone(),
            &q90 + &r(1, 1),
            &q90 * &q,
            -&q90,
            BigRational::new_raw(BigInt::from(3), BigInt::from(-4)),
        ]);
        for a in &values {
            for b in &values {
                assert_eq!(cmp(a, b), a.cmp(b), "{a} vs {b}");
            }
        }
    }
}
