//! Presentation of rule results: expressions over one denominator with each side's
//! common factor taken out.

use crate::sym::{self, Expr};

/// The expression over one denominator with each side's common factor taken out:
/// `mu*(1 - eta*lambda)`, `lambda*A.theta[0]/(1 - eta*lambda)`.
pub fn present(e: &Expr) -> Expr {
    let (mut n, mut d) = sym::together(e);
    // The denominator's constant (or, without one, its first term) positive:
    // `(a + b)/(1 - x)`, not `(-a - b)/(x - 1)`.
    let lead = match &d {
        Expr::Add(ts) => ts
            .last()
            .filter(|t| t.as_num().is_some())
            .or(ts.first())
            .map(|t| t.split_coef().0),
        other => Some(other.split_coef().0),
    };
    if lead.is_some_and(|c| num_traits::Signed::is_negative(&c)) {
        n = sym::expand(&-n);
        d = sym::expand(&-d);
    }
    let (cn, rn) = sym::content(&n);
    let (cd, rd) = sym::content(&d);
    let out = Expr::mul(vec![
        cn,
        rn,
        Expr::pow(Expr::mul(vec![cd, rd]), Expr::int(-1)),
    ]);
    let s = sym::simplify(e);
    if sym::ascii_len(&s) + 4 < sym::ascii_len(&out) {
        s
    } else {
        out
    }
}
