//! Exact numbers for generated problem files: a rational from two integers, and its text
//! as a `.tq` file writes it (`3`, `-1/4`).

use num_rational::BigRational;

/// n/d as an exact rational.
pub fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// `v` as a `.tq` number: an integer, or `n/d`.
pub fn text(v: &BigRational) -> String {
    if v.is_integer() {
        v.numer().to_string()
    } else {
        format!("{}/{}", v.numer(), v.denom())
    }
}
