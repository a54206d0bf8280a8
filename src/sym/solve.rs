//! Solving one equation for one unknown, in the forms these problems need, and the
//! seeds' approximation `(1 + e)^N ≈ exp(e N)` as a labelled step.

use super::{expand, identical, Expr};

/// Solutions of `lhs = rhs` for `x`: linear equations, `x^n = c`, and `(1 + a x)^L = c`
/// (`x = (c^(1/L) − 1)/a`, the real root for positive c). An honest error otherwise.
pub fn solve(lhs: &Expr, rhs: &Expr, x: &str) -> Result<Vec<Expr>, String> {
    let f = expand(&(lhs.clone() - rhs.clone()));
    // Linear: f = a x + b with a, b free of x.
    let a = f.diff(x);
    if !a.free_symbols().contains(x) && !a.is_zero() {
        let b = f.subs(x, &Expr::zero());
        return Ok(vec![-b / a]);
    }
    // A power of something linear in x equals something free of x.
    for (side, other) in [(lhs, rhs), (rhs, lhs)] {
        if other.free_symbols().contains(x) {
            continue;
        }
        if let Expr::Pow(base, n) = side {
            if n.free_symbols().contains(x) {
                continue;
            }
            let root = Expr::pow(other.clone(), Expr::pow((**n).clone(), Expr::int(-1)));
            let inner = solve(base, &root, x)?;
            if let Some(n) = n.as_int() {
                if n % 2 == 0 {
                    // Even powers: the non-negative root is the one these problems use
                    // (variances); the other sign is reported too.
                    let neg = solve(base, &(-root), x)?;
                    return Ok(inner.into_iter().chain(neg).collect());
                }
            }
            return Ok(inner);
        }
    }
    if identical(lhs, rhs) {
        return Err(format!("the equation holds for every {x}"));
    }
    Err(format!("tq cannot solve this equation for {x} (it solves linear equations, x^n = c and (1 + a x)^L = c)"))
}

/// `(1 + e)^N ≈ exp(e N)`, the step the seeds take for small e, with its error.
#[derive(Clone, Debug)]
pub struct ApproxStep {
    pub label: &'static str,
    pub exact: Expr,
    pub approx: Expr,
    /// exact − approx, as an expression.
    pub error: Expr,
}

/// The labelled approximation for a given e and N.
pub fn approx_one_plus_pow(e: &Expr, n: &Expr) -> ApproxStep {
    let exact = Expr::pow(Expr::one() + e.clone(), n.clone());
    let approx = Expr::exp(e.clone() * n.clone());
    ApproxStep {
        label: "(1 + e)^N ≈ exp(e N) for small e",
        error: exact.clone() - approx.clone(),
        exact,
        approx,
    }
}
