//! Floating-point enclosures: [`enclose`] bounds the value of an expression at a point
//! with every operation widened outward (docs/soundness.md); moved out of `defined.rs`,
//! which re-exports it.

use super::{Expr, Func};
use num_rational::BigRational;
use num_traits::ToPrimitive;
use std::collections::BTreeMap;

/// An interval of floating-point numbers known to contain a value.
pub type Enclosure = (f64, f64);

const REL: f64 = 1e-12;
const ABS: f64 = 1e-300;

fn widen(lo: f64, hi: f64) -> Option<Enclosure> {
    if !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    // An end that underflowed (subnormal) has lost its relative accuracy.
    if lo.is_subnormal() || hi.is_subnormal() {
        return None;
    }
    Some((lo - lo.abs() * REL - ABS, hi + hi.abs() * REL + ABS))
}

/// Whether `y = f(x)` lies within a relative 1e-9 (the tie tolerance of the exact
/// checks) of a limit `f` approaches but never reaches: ±1 for the sigmoid's upper end,
/// tanh and erf, `x` for softplus at large x.
fn near_limit(f: Func, x: f64, y: f64) -> bool {
    const TIE: f64 = 1e-9;
    match f {
        Func::Sigmoid => 1.0 - y <= TIE,
        Func::Tanh | Func::Erf => 1.0 - y.abs() <= TIE,
        Func::Softplus => x > 0.0 && y - x <= TIE * y,
        _ => false,
    }
}

/// A floating-point enclosure of the value of `e` at the point, widened outward at
/// every operation; `None` when it overflows or leaves the domain of a function.
pub fn enclose(e: &Expr, at: &BTreeMap<String, BigRational>) -> Option<Enclosure> {
    match e {
        Expr::Num(r) => {
            let v = r.to_f64()?;
            widen(v, v)
        }
        Expr::Sym(s) => {
            let v = match (at.get(s), s.as_str()) {
                (Some(v), _) => v.to_f64()?,
                // The named constants, when no point gives the name a value: the f64
                // value is within one rounding of the constant, far inside the widening.
                (None, "pi") => std::f64::consts::PI,
                (None, "e") => std::f64::consts::E,
                (None, _) => return None,
            };
            widen(v, v)
        }
        Expr::Add(ts) => {
            let (mut lo, mut hi) = (0.0, 0.0);
            for t in ts {
                let (a, b) = enclose(t, at)?;
                lo += a;
                hi += b;
            }
            widen(lo, hi)
        }
        Expr::Mul(fs) => {
            let (mut lo, mut hi) = (1.0, 1.0);
            for f in fs {
                let (a, b) = enclose(f, at)?;
                let c = [lo * a, lo * b, hi * a, hi * b];
                let pairs = [(lo, a), (lo, b), (hi, a), (hi, b)];
                if pairs
                    .iter()
                    .any(|(x, y)| x * y == 0.0 && *x != 0.0 && *y != 0.0)
                {
                    return None;
                }
                lo = c.iter().cloned().fold(f64::INFINITY, f64::min);
                hi = c.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let (l, h) = widen(lo, hi)?;
                lo = l;
                hi = h;
            }
            Some((lo, hi))
        }
        Expr::Pow(b, x) => {
            let (bl, bh) = enclose(b, at)?;
            if let Some(n) = x.as_int() {
                let n32 = i32::try_from(n).ok()?;
                let p = n32.unsigned_abs() as i32;
                let (mut lo, mut hi) = if p % 2 == 0 {
                    let (al, ah) = if bl >= 0.0 {
                        (bl, bh)
                    } else if bh <= 0.0 {
                        (-bh, -bl)
                    } else {
                        (0.0, bl.abs().max(bh))
                    };
                    (al.powi(p), ah.powi(p))
                } else {
                    (bl.powi(p), bh.powi(p))
                };
                if (lo == 0.0 && bl != 0.0 && bh != 0.0 && (bl > 0.0 || bh < 0.0))
                    || (hi == 0.0 && bh != 0.0)
                {
                    return None;
                }
                if n < 0 {
                    if lo <= 0.0 && hi >= 0.0 {
                        return None;
                    }
                    (lo, hi) = (1.0 / hi, 1.0 / lo);
                }
                return widen(lo, hi);
            }
            if bl <= 0.0 {
                return None;
            }
            let (xl, xh) = enclose(x, at)?;
            let c = [bl.powf(xl), bl.powf(xh), bh.powf(xl), bh.powf(xh)];
            if c.contains(&0.0) {
                return None;
            }
            widen(
                c.iter().cloned().fold(f64::INFINITY, f64::min),
                c.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            )
        }
        Expr::Func(f, x) => {
            let (l, h) = enclose(x, at)?;
            // A monotone function; a result that underflowed to 0 (exp(−10⁵)) is no
            // enclosure, nor is one within the comparison's tolerance of a limit the
            // function never reaches (`sigmoid(x + 60)` is 1 − 9·10⁻²⁷, which no
            // floating-point enclosure tells from 1; `softplus(x + 50)` from x + 50):
            // such a value would make a tie of two exactly different sides (session 38,
            // issue 14 p16).
            let mono = |g: fn(f64) -> f64| {
                let (a, b) = (g(l), g(h));
                let lost = |x: f64, y: f64| {
                    (y == 0.0 && matches!(f, Func::Exp | Func::Sigmoid | Func::Softplus))
                        || near_limit(*f, x, y)
                };
                if lost(l, a) || lost(h, b) {
                    return None;
                }
                widen(a, b)
            };
            match f {
                Func::Exp => mono(f64::exp),
                Func::Sigmoid => mono(|v| 1.0 / (1.0 + (-v).exp())),
                Func::Tanh => mono(f64::tanh),
                Func::Relu => mono(|v| v.max(0.0)),
                // Increasing; `max(x, 0) + ln_1p(e^(−|x|))` from the standard library's
                // exp and ln_1p, within a few roundings (an underflow to 0 is no enclosure).
                Func::Softplus => mono(|v| v.max(0.0) + (-v.abs()).exp().ln_1p()),
                // Increasing; `sym::func::erf` is accurate to about 10⁻¹⁵ relative
                // (a series of positive terms, a continued fraction in the tails; its
                // unit tests), far inside the widening.
                Func::Erf => mono(super::func::erf),
                // x Φ(x) is not monotone: the product of the enclosures of x and of
                // Φ(x) = erfc(−x/√2)/2 (increasing), by interval arithmetic.
                Func::Gelu => {
                    let phi = |v: f64| 0.5 * super::func::erfc(-v / std::f64::consts::SQRT_2);
                    let (pl, ph) = widen(phi(l), phi(h))?;
                    let c = [l * pl, l * ph, h * pl, h * ph];
                    widen(
                        c.iter().cloned().fold(f64::INFINITY, f64::min),
                        c.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                    )
                }
                Func::Step => {
                    if l > 0.0 {
                        Some((1.0, 1.0))
                    } else if h <= 0.0 {
                        Some((0.0, 0.0))
                    } else {
                        Some((0.0, 1.0))
                    }
                }
                Func::Abs => {
                    if l >= 0.0 {
                        widen(l, h)
                    } else if h <= 0.0 {
                        widen(-h, -l)
                    } else {
                        widen(0.0, (-l).max(h))
                    }
                }
                Func::Ln => {
                    if l <= 0.0 {
                        None
                    } else {
                        mono(f64::ln)
                    }
                }
                Func::Sqrt => {
                    if l < 0.0 {
                        None
                    } else {
                        mono(f64::sqrt)
                    }
                }
            }
        }
    }
}
