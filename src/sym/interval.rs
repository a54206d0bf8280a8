//! Intervals of the reals with exact rational ends, open or closed, and their
//! arithmetic: what the range facts of [`super::defined::range`] compute with.

use super::rat_pow;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::fmt;

/// One end of an interval: unbounded, or a rational that is excluded (`open`) or not.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    Unbounded,
    At(BigRational, bool),
}

/// An interval of the reals with exact ends (`lo` is −∞ when unbounded, `hi` +∞).
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    pub lo: End,
    pub hi: End,
}

pub(super) fn closed(r: BigRational) -> End {
    End::At(r, false)
}
pub(super) fn open(r: BigRational) -> End {
    End::At(r, true)
}

impl Interval {
    /// Every real.
    pub fn all() -> Interval {
        Interval {
            lo: End::Unbounded,
            hi: End::Unbounded,
        }
    }
    /// One value.
    pub fn point(r: BigRational) -> Interval {
        Interval {
            lo: closed(r.clone()),
            hi: closed(r),
        }
    }
    pub(super) fn new(lo: End, hi: End) -> Interval {
        Interval { lo, hi }
    }
    pub(super) fn positive() -> Interval {
        Interval::new(open(BigRational::zero()), End::Unbounded)
    }
    pub(super) fn nonnegative() -> Interval {
        Interval::new(closed(BigRational::zero()), End::Unbounded)
    }

    /// Whether 0 is outside.
    pub fn excludes_zero(&self) -> bool {
        self.lo_above_zero(true) || self.hi_below_zero(true)
    }
    /// Every value > 0 (`strict`) or ≥ 0.
    pub fn lo_above_zero(&self, strict: bool) -> bool {
        match &self.lo {
            End::Unbounded => false,
            End::At(r, o) => r.is_positive() || (r.is_zero() && (*o || !strict)),
        }
    }
    /// Every value < 0 (`strict`) or ≤ 0.
    pub fn hi_below_zero(&self, strict: bool) -> bool {
        match &self.hi {
            End::Unbounded => false,
            End::At(r, o) => r.is_negative() || (r.is_zero() && (*o || !strict)),
        }
    }
    pub(super) fn as_point(&self) -> Option<&BigRational> {
        match (&self.lo, &self.hi) {
            (End::At(a, false), End::At(b, false)) if a == b => Some(a),
            _ => None,
        }
    }
    pub(super) fn contains_zero_attained(&self) -> bool {
        !self.excludes_zero()
    }

    pub(super) fn intersect(&self, o: &Interval) -> Interval {
        let lo = match (&self.lo, &o.lo) {
            (End::Unbounded, x) | (x, End::Unbounded) => x.clone(),
            (End::At(a, ao), End::At(b, bo)) => {
                if a > b || (a == b && *ao) {
                    End::At(a.clone(), *ao)
                } else {
                    End::At(b.clone(), *bo)
                }
            }
        };
        let hi = match (&self.hi, &o.hi) {
            (End::Unbounded, x) | (x, End::Unbounded) => x.clone(),
            (End::At(a, ao), End::At(b, bo)) => {
                if a < b || (a == b && *ao) {
                    End::At(a.clone(), *ao)
                } else {
                    End::At(b.clone(), *bo)
                }
            }
        };
        Interval { lo, hi }
    }

    pub(super) fn add(&self, o: &Interval) -> Interval {
        let f = |a: &End, b: &End| match (a, b) {
            (End::At(x, xo), End::At(y, yo)) => {
                match super::rat::add_within(x, y, super::MAX_BITS) {
                    Some(v) => End::At(v, *xo || *yo),
                    // Past the bit budget or the file's exact work: unknown (wider).
                    None => End::Unbounded,
                }
            }
            _ => End::Unbounded,
        };
        Interval::new(f(&self.lo, &o.lo), f(&self.hi, &o.hi))
    }

    pub(super) fn neg(&self) -> Interval {
        let f = |a: &End| match a {
            End::At(x, o) => End::At(-x, *o),
            End::Unbounded => End::Unbounded,
        };
        Interval::new(f(&self.hi), f(&self.lo))
    }

    /// The sign class: (may be negative, may be zero, may be positive).
    pub(super) fn signs(&self) -> (bool, bool, bool) {
        let neg = !self.lo_above_zero(false);
        let pos = !self.hi_below_zero(false);
        (neg, self.contains_zero_attained(), pos)
    }

    pub(super) fn mul(&self, o: &Interval) -> Interval {
        if let Some(c) = self.as_point() {
            return o.scale(c);
        }
        if let Some(c) = o.as_point() {
            return self.scale(c);
        }
        let product =
            |x: &BigRational, y: &BigRational| super::rat::mul_within(x, y, super::MAX_BITS);
        if let (End::At(a, ao), End::At(b, bo), End::At(c, co), End::At(d, do_)) =
            (&self.lo, &self.hi, &o.lo, &o.hi)
        {
            // The four products, each within the bit budget and the file's exact work;
            // one refused leaves the bound to the signs below.
            let (Some(ac), Some(ad), Some(bc), Some(bd)) =
                (product(a, c), product(a, d), product(b, c), product(b, d))
            else {
                return self.mul_by_signs(o);
            };
            let combos = [
                (ac, *ao || *co),
                (ad, *ao || *do_),
                (bc, *bo || *co),
                (bd, *bo || *do_),
            ];
            let min = combos.iter().map(|x| x.0.clone()).min();
            let max = combos.iter().map(|x| x.0.clone()).max();
            let (Some(min), Some(max)) = (min, max) else {
                return Interval::all();
            };
            let zero_attained = self.contains_zero_attained() || o.contains_zero_attained();
            let openness = |v: &BigRational| {
                if v.is_zero() {
                    !zero_attained
                } else {
                    combos.iter().filter(|x| &x.0 == v).all(|x| x.1)
                }
            };
            let (lo_o, hi_o) = (openness(&min), openness(&max));
            return Interval::new(End::At(min, lo_o), End::At(max, hi_o));
        }
        self.mul_by_signs(o)
    }

    /// A product's interval by its factors' signs only (unbounded ends).
    pub(super) fn mul_by_signs(&self, o: &Interval) -> Interval {
        let (n1, z1, p1) = self.signs();
        let (n2, z2, p2) = o.signs();
        let pos = (p1 && p2) || (n1 && n2);
        let neg = (p1 && n2) || (n1 && p2);
        let zero = z1 || z2;
        match (neg, zero, pos) {
            (false, false, true) => Interval::positive(),
            (false, true, true) | (false, true, false) => Interval::nonnegative(),
            (true, false, false) => Interval::positive().neg(),
            (true, true, false) => Interval::nonnegative().neg(),
            _ => Interval::all(),
        }
    }

    pub(super) fn scale(&self, c: &BigRational) -> Interval {
        if c.is_zero() {
            return Interval::point(BigRational::zero());
        }
        // A product past the bit budget or the file's exact work is not computed: the
        // end is then unknown (a wider interval, still a bound).
        let f = |a: &End| match a {
            End::At(x, o) => match super::rat::mul_within(x, c, super::MAX_BITS) {
                Some(v) => End::At(v, *o),
                None => End::Unbounded,
            },
            End::Unbounded => End::Unbounded,
        };
        if c.is_positive() {
            Interval::new(f(&self.lo), f(&self.hi))
        } else {
            Interval::new(f(&self.hi), f(&self.lo))
        }
    }

    /// `x^n` for an integer `n ≠ 0`.
    pub(super) fn powi(&self, n: i64) -> Interval {
        let pw = |r: &BigRational| rat_pow(r, n);
        if n > 0 {
            let even = n % 2 == 0;
            if !even {
                // Monotone increasing.
                let f = |a: &End| match a {
                    End::At(x, o) => pw(x).map_or(End::Unbounded, |v| End::At(v, *o)),
                    End::Unbounded => End::Unbounded,
                };
                let (lo, hi) = (f(&self.lo), f(&self.hi));
                // An end that was too large to compute is only known by sign.
                let lo = match (&self.lo, lo) {
                    (End::At(x, _), End::Unbounded) if !x.is_negative() => {
                        closed(BigRational::zero())
                    }
                    (_, l) => l,
                };
                return Interval::new(lo, hi);
            }
            let a = self.abs();
            let f = |e: &End| match e {
                End::At(x, o) => pw(x).map(|v| End::At(v, *o)),
                End::Unbounded => Some(End::Unbounded),
            };
            return match (f(&a.lo), f(&a.hi)) {
                (Some(lo), Some(hi)) => Interval::new(lo, hi),
                _ => {
                    if a.excludes_zero() {
                        Interval::positive()
                    } else {
                        Interval::nonnegative()
                    }
                }
            };
        }
        // Negative powers: 1/x^|n| where x excludes 0.
        if !self.excludes_zero() {
            return Interval::all();
        }
        let p = self.powi(-n);
        if p.lo_above_zero(true) {
            match (&p.lo, &p.hi) {
                (End::At(a, ao), End::At(b, bo)) if a.is_positive() => {
                    Interval::new(End::At(b.recip(), *bo), End::At(a.recip(), *ao))
                }
                (End::At(a, ao), End::Unbounded) if a.is_positive() => {
                    Interval::new(open(BigRational::zero()), End::At(a.recip(), *ao))
                }
                _ => Interval::positive(),
            }
        } else {
            let q = p.neg();
            q.powi_recip_positive().neg()
        }
    }

    pub(super) fn powi_recip_positive(&self) -> Interval {
        match (&self.lo, &self.hi) {
            (End::At(a, ao), End::At(b, bo)) if a.is_positive() => {
                Interval::new(End::At(b.recip(), *bo), End::At(a.recip(), *ao))
            }
            (End::At(a, ao), End::Unbounded) if a.is_positive() => {
                Interval::new(open(BigRational::zero()), End::At(a.recip(), *ao))
            }
            _ => Interval::positive(),
        }
    }

    pub(super) fn abs(&self) -> Interval {
        if self.lo_above_zero(false) {
            return self.clone();
        }
        if self.hi_below_zero(false) {
            return self.neg();
        }
        let hi = match (&self.lo, &self.hi) {
            (End::At(a, ao), End::At(b, bo)) => {
                if a.abs() > b.abs() {
                    End::At(a.abs(), *ao)
                } else {
                    End::At(b.abs(), *bo)
                }
            }
            _ => End::Unbounded,
        };
        Interval::new(closed(BigRational::zero()), hi)
    }
}

/// An end for the reader: the rational as it is when short, else a decimal of 12
/// significant digits rounded outward (down for a low end, up for a high one), so the
/// printed interval still contains the computed one (`[2.71828182845, 2.71828182846]`
/// rather than two 40-digit fractions).
fn show_end(r: &BigRational, low: bool) -> String {
    let text = r.to_string();
    if text.len() <= 24 {
        return text;
    }
    let Some(v) = num_traits::ToPrimitive::to_f64(r) else {
        return text;
    };
    if !v.is_finite() || v == 0.0 {
        return text;
    }
    // 10^k with 12 digits before the decimal point of r·10^k.
    let k = 11 - v.abs().log10().floor() as i32;
    let ten = num_bigint::BigInt::from(10);
    let scale = |k: i32| -> BigRational {
        if k >= 0 {
            BigRational::from_integer(num_traits::pow(ten.clone(), k as usize))
        } else {
            BigRational::new(1.into(), num_traits::pow(ten.clone(), (-k) as usize))
        }
    };
    if k.unsigned_abs() > 400 {
        return text;
    }
    let scaled = r * scale(k);
    let n = if low {
        scaled.floor().to_integer()
    } else {
        scaled.ceil().to_integer()
    };
    // n · 10^(−k), written out exactly from n's digits.
    let neg = n.is_negative();
    let digits = n.abs().to_string();
    let body = if (0..=24).contains(&k) {
        let k = k as usize;
        let padded = if digits.len() <= k {
            format!("{}{digits}", "0".repeat(k + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - k);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            int.to_string()
        } else {
            format!("{int}.{frac}")
        }
    } else {
        let e = digits.len() as i32 - 1 - k;
        let (first, rest) = digits.split_at(1);
        let rest = rest.trim_end_matches('0');
        if rest.is_empty() {
            format!("{first}e{e}")
        } else {
            format!("{first}.{rest}e{e}")
        }
    };
    format!("{}{body}", if neg { "-" } else { "" })
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lo = match &self.lo {
            End::Unbounded => "(−∞".to_string(),
            End::At(r, o) => format!("{}{}", if *o { "(" } else { "[" }, show_end(r, true)),
        };
        let hi = match &self.hi {
            End::Unbounded => "∞)".to_string(),
            End::At(r, o) => format!("{}{}", show_end(r, false), if *o { ")" } else { "]" }),
        };
        write!(f, "{lo}, {hi}")
    }
}

impl Interval {
    /// Whether the value lies inside.
    pub fn contains(&self, v: &BigRational) -> bool {
        let lo = match &self.lo {
            End::Unbounded => true,
            End::At(a, o) => v > a || (!*o && v == a),
        };
        let hi = match &self.hi {
            End::Unbounded => true,
            End::At(b, o) => v < b || (!*o && v == b),
        };
        lo && hi
    }

    /// Whether no real lies inside (`whole`: no whole number).
    pub fn is_empty(&self, whole: bool) -> bool {
        let (End::At(a, oa), End::At(b, ob)) = (&self.lo, &self.hi) else {
            return false;
        };
        if whole {
            let mut lo = a.ceil();
            if *oa && lo == *a {
                lo += BigRational::one();
            }
            let mut hi = b.floor();
            if *ob && hi == *b {
                hi -= BigRational::one();
            }
            return lo > hi;
        }
        a > b || (a == b && (*oa || *ob))
    }
}
