//! Exact rational bounds on `exp`, `ln` and `sqrt` at a rational point (and through them
//! on `sigmoid`, `tanh` and `softplus`), for the range facts of [`super::defined::range`]:
//! a lower and an upper bound, both rationals, computed by series with a bounded
//! remainder and rounded outward to multiples of 2⁻¹²⁸ — no floating point. So
//! `exp(1) > 2.718`, `sqrt(2) ~= 1.41421 tol 1e-5` and `ln(2) < 0.7` are decided by the
//! `range-bound` rule (docs/soundness.md, "Range facts").
//!
//! Every function here returns `None` past its budget (an argument beyond ±512 for
//! `exp`, a number of more than [`MAX_BITS`] bits): the caller keeps its coarser facts.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::cell::RefCell;
use std::collections::HashMap;

/// Fractional bits of every rounded bound.
const PREC: u32 = 128;
/// The largest numerator or denominator (in bits) a bound is computed for.
const MAX_BITS: u64 = 8_192;
/// The largest |x| for which exp(x) is bounded (e^512 has 739 bits).
const MAX_EXP_ARG: i64 = 512;

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn too_big(x: &BigRational) -> bool {
    x.numer().bits() > MAX_BITS || x.denom().bits() > MAX_BITS
}

fn scale() -> BigInt {
    BigInt::one() << PREC
}

/// The largest multiple of 2⁻¹²⁸ that is at most `x`.
fn down(x: &BigRational) -> BigRational {
    BigRational::new(
        (x * BigRational::from(scale())).floor().to_integer(),
        scale(),
    )
}

/// The smallest multiple of 2⁻¹²⁸ that is at least `x`.
fn up(x: &BigRational) -> BigRational {
    BigRational::new(
        (x * BigRational::from(scale())).ceil().to_integer(),
        scale(),
    )
}

/// Fractional bits of the fixed-point series below (64 guard bits over [`PREC`]).
const FIX: u32 = PREC + 64;

/// `x` as a fixed-point integer `X` with X/2^FIX within one unit of x (truncated).
fn fixed(x: &BigRational) -> BigInt {
    (x * BigRational::from(BigInt::one() << FIX))
        .trunc()
        .to_integer()
}

/// The rational `X/2^FIX ± slack` units, rounded outward to multiples of 2⁻¹²⁸.
fn unfixed(x: &BigInt, slack: i64) -> (BigRational, BigRational) {
    let den = BigInt::one() << FIX;
    (
        down(&BigRational::new(x - BigInt::from(slack), den.clone())),
        up(&BigRational::new(x + BigInt::from(slack), den)),
    )
}

/// Bounds on e^y for |y| <= 1/2: the Taylor sum of 40 terms in fixed point (each term
/// truncated: its error at most 4 units, the sum's at most 170 with the input's), the
/// tail below one unit (2|y|^40/40! < 2⁻¹⁹⁰); 1,024 units of slack cover both.
fn exp_small(y: &BigRational) -> (BigRational, BigRational) {
    let one = BigInt::one() << FIX;
    let yf = fixed(y);
    let mut sum = one.clone();
    let mut term = one;
    for k in 1..=40u32 {
        term = ((&term * &yf) >> FIX) / BigInt::from(k);
        sum += &term;
    }
    unfixed(&sum, 1_024)
}

/// Bounds on e^x.
pub fn exp(x: &BigRational) -> Option<(BigRational, BigRational)> {
    if too_big(x) || x.abs() > rat(MAX_EXP_ARG, 1) {
        return None;
    }
    // Both ends from the outward-rounded argument: exp is increasing.
    let (xl, xh) = (down(x), up(x));
    let half = rat(1, 2);
    let reduce = |x: &BigRational| {
        let mut k = 0u32;
        let mut y = x.clone();
        while y.abs() > half {
            y /= BigRational::from(BigInt::from(2));
            k += 1;
        }
        (y, k)
    };
    let (yl, kl) = reduce(&xl);
    let (yh, kh) = reduce(&xh);
    let mut lo = exp_small(&yl).0;
    let mut hi = exp_small(&yh).1;
    if !lo.is_positive() {
        return None;
    }
    for _ in 0..kl {
        lo = down(&(&lo * &lo));
    }
    for _ in 0..kh {
        hi = up(&(&hi * &hi));
    }
    Some((lo, hi))
}

/// Bounds on atanh(z) for 0 <= z <= 1/3: the series Σ z^(2n+1)/(2n+1) to 60 terms in
/// fixed point (the powers truncated, each at most 2n + 2 units low; every term at most
/// one more: under 12,000 units in all), the tail below z^121/(121 (1 − z²)) < 2⁻¹⁹¹;
/// 100,000 units of slack cover all.
fn atanh_small(z: &BigRational) -> (BigRational, BigRational) {
    let zf = fixed(z);
    let z2 = (&zf * &zf) >> FIX;
    let mut pow = zf;
    let mut sum = BigInt::zero();
    for k in 0..60u32 {
        sum += &pow / BigInt::from(2 * k + 1);
        pow = (&pow * &z2) >> FIX;
    }
    unfixed(&sum, 100_000)
}

/// Bounds on ln(x) for x > 0.
pub fn ln(x: &BigRational) -> Option<(BigRational, BigRational)> {
    if !x.is_positive() || too_big(x) {
        return None;
    }
    let xl = down(x);
    let xh = up(x);
    if !xl.is_positive() {
        return None;
    }
    let ln2 = {
        let (a, b) = atanh_small(&rat(1, 3));
        (a * rat(2, 1), b * rat(2, 1))
    };
    // x = 2^k m with 1 <= m < 2; ln x = k ln 2 + 2 atanh((m − 1)/(m + 1)).
    let one_side = |x: &BigRational, lower: bool| -> BigRational {
        let mut k: i64 = x.numer().bits() as i64 - x.denom().bits() as i64;
        let two = BigRational::from(BigInt::from(2));
        let pow2 = |k: i64| -> BigRational {
            if k >= 0 {
                BigRational::from(BigInt::one() << k as u32)
            } else {
                BigRational::new(BigInt::one(), BigInt::one() << (-k) as u32)
            }
        };
        let mut m = x / pow2(k);
        while m >= two {
            m /= &two;
            k += 1;
        }
        while m < BigRational::one() {
            m *= &two;
            k -= 1;
        }
        let z = (m.clone() - BigRational::one()) / (m + BigRational::one());
        let (al, ah) = atanh_small(&z);
        let kk = rat(k, 1);
        if lower {
            let l2 = if k >= 0 { &ln2.0 } else { &ln2.1 };
            down(&(kk * l2 + al * rat(2, 1)))
        } else {
            let l2 = if k >= 0 { &ln2.1 } else { &ln2.0 };
            up(&(kk * l2 + ah * rat(2, 1)))
        }
    };
    Some((one_side(&xl, true), one_side(&xh, false)))
}

/// Bounds on √x for x >= 0.
pub fn sqrt(x: &BigRational) -> Option<(BigRational, BigRational)> {
    if x.is_negative() || too_big(x) {
        return None;
    }
    let s2 = BigRational::from(BigInt::one() << (2 * PREC));
    let lo_n = (x * &s2).floor().to_integer().sqrt();
    let hi_n = (x * &s2).ceil().to_integer().sqrt() + BigInt::one();
    Some((
        BigRational::new(lo_n, scale()),
        BigRational::new(hi_n, scale()),
    ))
}

/// A lower and an upper bound, when computed.
type Bounds = Option<(BigRational, BigRational)>;

thread_local! {
    /// Bounds already computed, by function and point (at most 4,096 kept).
    static MEMO: RefCell<HashMap<(u8, BigRational), Bounds>> = RefCell::new(HashMap::new());
}

/// `f` at `x`, remembered.
pub fn memo(
    which: u8,
    x: &BigRational,
    f: impl FnOnce(&BigRational) -> Option<(BigRational, BigRational)>,
) -> Option<(BigRational, BigRational)> {
    if let Some(v) = MEMO.with(|m| m.borrow().get(&(which, x.clone())).cloned()) {
        return v;
    }
    let v = f(x);
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= 4_096 {
            m.clear();
        }
        m.insert((which, x.clone()), v.clone());
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::ToPrimitive;

    fn check(b: Option<(BigRational, BigRational)>, v: f64) {
        let (lo, hi) = b.expect("bounds");
        let (l, h) = (lo.to_f64().unwrap(), hi.to_f64().unwrap());
        assert!(lo <= hi);
        // The true value lies between (to the f64 value's own rounding) ...
        let slack = v.abs() * 1e-15 + 1e-300;
        assert!(l <= v + slack && v <= h + slack, "{l} {v} {h}");
        // ... and the bounds are tight: within 2^-100 of each other (relative above 1).
        let width = hi - lo;
        let scale = BigRational::from_float(v.abs().max(1.0)).unwrap();
        let tiny = BigRational::new(BigInt::one(), BigInt::one() << 100u32);
        assert!(width <= tiny * scale, "{l} {h}");
    }

    #[test]
    fn exp_ln_sqrt_enclose_their_values_tightly() {
        for (n, d) in [
            (0, 1),
            (1, 1),
            (-1, 1),
            (1, 3),
            (-7, 2),
            (50, 1),
            (-50, 1),
            (3, 1000),
        ] {
            let x = rat(n, d);
            let v = n as f64 / d as f64;
            check(exp(&x), v.exp());
            if n > 0 {
                check(ln(&x), v.ln());
                check(sqrt(&x), v.sqrt());
            }
        }
        check(ln(&rat(1, 1_000_000)), (1e-6f64).ln());
        check(sqrt(&rat(2, 1)), 2f64.sqrt());
        // e lies in (2.718281828, 2.718281829); √2 in (1.41421356, 1.41421357).
        let (lo, hi) = exp(&rat(1, 1)).unwrap();
        assert!(lo > rat(2_718_281_828, 1_000_000_000) && hi < rat(2_718_281_829, 1_000_000_000));
        let (lo, hi) = sqrt(&rat(2, 1)).unwrap();
        assert!(&lo * &lo <= rat(2, 1) && &hi * &hi >= rat(2, 1));
        // ln(1) is 0 exactly inside the bounds; ln of a non-positive number has none.
        let (lo, hi) = ln(&rat(1, 1)).unwrap();
        assert!(!lo.is_positive() && !hi.is_negative());
        assert!(ln(&rat(0, 1)).is_none() && ln(&rat(-1, 1)).is_none());
        assert!(exp(&rat(513, 1)).is_none());
    }
}
