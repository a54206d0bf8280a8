//! Exact and floating-point evaluation at a point, with typed failures.

use super::{rat_pow, Expr, Func, MAX_BITS, MAX_EXPONENT};
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;
use std::fmt;

/// Why an expression has no exact value (or no value at all) at a point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// A symbol that the point does not bind.
    Unbound(String),
    /// A zero denominator: `x^-n` at `x = 0`, `0^-1`, `ln 0`.
    DivisionByZero,
    /// The value exists but is not rational (`ln 2`, `2^(1/2)`, `exp 1`); the text
    /// names what was irrational.
    Irrational(String),
    /// Undefined over the reals: `ln` of a negative number, a negative number to a
    /// fractional power.
    Undefined(String),
    /// An exponent beyond [`MAX_EXPONENT`] or a number beyond [`MAX_BITS`] bits: refused
    /// rather than computed.
    TooLarge,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Unbound(s) => write!(f, "`{s}` has no value"),
            EvalError::DivisionByZero => write!(f, "division by zero at this point"),
            EvalError::Irrational(what) => write!(f, "{what} is not rational at this point"),
            EvalError::Undefined(what) => write!(f, "{what} is undefined at this point"),
            EvalError::TooLarge => write!(f, "the exact value is too large"),
        }
    }
}

impl std::error::Error for EvalError {}

/// The exact rational value of `e` at the point `at`.
///
/// Fails with [`EvalError`] on an unbound symbol, division by zero, an irrational or
/// undefined value, or a computation that would exceed the size guards (integer
/// exponents above [`MAX_EXPONENT`] in absolute value, numbers above [`MAX_BITS`] bits).
pub fn eval_exact(e: &Expr, at: &BTreeMap<String, BigRational>) -> Result<BigRational, EvalError> {
    // Each node visited is exact work of the file ([`super::exact_work`]), charged
    // before; past the file's budget nothing more is evaluated.
    if !super::charge_exact(1) {
        return Err(EvalError::TooLarge);
    }
    match e {
        Expr::Num(r) => Ok(r.clone()),
        Expr::Sym(s) => at
            .get(s)
            .cloned()
            .ok_or_else(|| EvalError::Unbound(s.clone())),
        Expr::Add(ts) => {
            let mut acc = BigRational::zero();
            for t in ts {
                // The size is bounded before the sum is computed (a sum of two numbers
                // of 65,536 bits costs gcds quadratic in their length).
                acc = super::rat::add_within(&acc, &eval_exact(t, at)?, MAX_BITS)
                    .ok_or(EvalError::TooLarge)?;
            }
            Ok(acc)
        }
        Expr::Mul(fs) => {
            let mut acc = BigRational::one();
            for f in fs {
                acc = super::rat::mul_within(&acc, &eval_exact(f, at)?, MAX_BITS)
                    .ok_or(EvalError::TooLarge)?;
            }
            Ok(acc)
        }
        Expr::Pow(b, x) => {
            let bv = eval_exact(b, at)?;
            let xv = eval_exact(x, at)?;
            pow_exact(&bv, &xv)
        }
        Expr::Func(f, x) => {
            let v = eval_exact(x, at)?;
            func_exact(*f, &v)
        }
    }
}

/// `b^x` exactly, when it is rational.
pub(super) fn pow_exact(b: &BigRational, x: &BigRational) -> Result<BigRational, EvalError> {
    if x.is_zero() {
        return Ok(BigRational::one());
    }
    if b.is_zero() {
        return if x.is_negative() {
            Err(EvalError::DivisionByZero)
        } else {
            Ok(BigRational::zero())
        };
    }
    if b.is_one() {
        return Ok(BigRational::one());
    }
    if x.is_integer() {
        let n = x.to_integer().to_i64().ok_or(EvalError::TooLarge)?;
        if n.unsigned_abs() > MAX_EXPONENT as u64 {
            return Err(EvalError::TooLarge);
        }
        return rat_pow(b, n).ok_or(EvalError::TooLarge);
    }
    if b.is_negative() {
        return Err(EvalError::Undefined(
            "a negative number to a fractional power".into(),
        ));
    }
    match Expr::pow(Expr::Num(b.clone()), Expr::Num(x.clone())) {
        Expr::Num(r) => Ok(r),
        _ => {
            // Not a perfect root, or too large to tell: an exponent numerator beyond
            // the guard is reported as such.
            let p = x.numer().to_i64().map_or(u64::MAX, i64::unsigned_abs);
            if p > MAX_EXPONENT as u64 {
                Err(EvalError::TooLarge)
            } else {
                Err(EvalError::Irrational(format!("{b}^({x})")))
            }
        }
    }
}

fn func_exact(f: Func, v: &BigRational) -> Result<BigRational, EvalError> {
    use super::func::Domain;
    let b = f.entry();
    match b.domain {
        Domain::Positive if v.is_zero() => return Err(EvalError::DivisionByZero),
        Domain::Positive | Domain::NonNegative if v.is_negative() => {
            return Err(EvalError::Undefined(format!(
                "{} of a negative number",
                b.name
            )))
        }
        _ => {}
    }
    if f == Func::Sqrt {
        return pow_exact(v, &BigRational::new(1.into(), 2.into()));
    }
    match (b.exact)(v) {
        Some(r) => Ok(r),
        None => Err(EvalError::Irrational(format!("{}({v})", f.name()))),
    }
}

/// The floating-point value of `e` at the point `at`. Non-finite results (`1/0`,
/// `ln(-1)`) are returned as infinities or NaN; only an unbound symbol is an error.
pub fn eval_f64(e: &Expr, at: &BTreeMap<String, f64>) -> Result<f64, EvalError> {
    Ok(match e {
        Expr::Num(r) => r.to_f64().unwrap_or(f64::NAN),
        Expr::Sym(s) => *at.get(s).ok_or_else(|| EvalError::Unbound(s.clone()))?,
        Expr::Add(ts) => {
            let mut acc = 0.0;
            for t in ts {
                acc += eval_f64(t, at)?;
            }
            acc
        }
        Expr::Mul(fs) => {
            let mut acc = 1.0;
            for f in fs {
                acc *= eval_f64(f, at)?;
            }
            acc
        }
        Expr::Pow(b, x) => eval_f64(b, at)?.powf(eval_f64(x, at)?),
        Expr::Func(f, x) => {
            let v = eval_f64(x, at)?;
            f.eval_f64(v)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pairs: &[(&str, i64, i64)]) -> BTreeMap<String, BigRational> {
        pairs
            .iter()
            .map(|(k, n, d)| (k.to_string(), BigRational::new((*n).into(), (*d).into())))
            .collect()
    }

    #[test]
    fn typed_failures() {
        let x = Expr::sym("x");
        let none = BTreeMap::new();
        assert_eq!(eval_exact(&x, &none), Err(EvalError::Unbound("x".into())));
        let inv = Expr::pow(x.clone(), Expr::int(-1));
        assert_eq!(
            eval_exact(&inv, &at(&[("x", 0, 1)])),
            Err(EvalError::DivisionByZero)
        );
        assert!(matches!(
            eval_exact(&Expr::ln(x.clone()), &at(&[("x", 2, 1)])),
            Err(EvalError::Irrational(_))
        ));
        assert!(matches!(
            eval_exact(&Expr::sqrt(x.clone()), &at(&[("x", 2, 1)])),
            Err(EvalError::Irrational(_))
        ));
        assert!(matches!(
            eval_exact(&Expr::sqrt(x.clone()), &at(&[("x", -4, 1)])),
            Err(EvalError::Undefined(_))
        ));
        assert_eq!(
            eval_exact(&Expr::sqrt(x.clone()), &at(&[("x", 9, 4)])),
            Ok(BigRational::new(3.into(), 2.into()))
        );
        let big = Expr::pow(x.clone(), Expr::int(20_000));
        assert_eq!(
            eval_exact(&big, &at(&[("x", 3, 1)])),
            Err(EvalError::TooLarge)
        );
        let huge = Expr::pow(x, Expr::num(BigRational::from_integer(i64::MIN.into())));
        assert_eq!(
            eval_exact(&huge, &at(&[("x", 3, 1)])),
            Err(EvalError::TooLarge)
        );
    }

    #[test]
    fn floating_point() {
        let x = Expr::sym("x");
        let p: BTreeMap<String, f64> = [("x".to_string(), 0.0)].into();
        let s = eval_f64(&Expr::func(Func::Sigmoid, x.clone()), &p);
        assert_eq!(s, Ok(0.5));
        assert!(eval_f64(&Expr::ln(x), &p).is_ok_and(|v| v == f64::NEG_INFINITY));
    }
}
