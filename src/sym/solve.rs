//! Solving one equation for one unknown, in the forms these problems need, and the
//! seeds' approximation `(1 + e)^N ≈ exp(e N)` as a labelled step.

use super::eval::{eval_f64, EvalError};
use super::{expand, identical, Expr};
use std::collections::BTreeMap;

/// The solution of `lhs = rhs` when it is linear in `x` after expansion: `a x + b = 0`
/// with a and b free of x and a not identically 0 gives `x = −b/a` (valid where
/// `a ≠ 0`). `None` when the equation is not of that form.
pub fn solve_linear(lhs: &Expr, rhs: &Expr, x: &str) -> Option<Expr> {
    let f = expand(&(lhs.clone() - rhs.clone()));
    if !f.free_symbols().contains(x) {
        return None;
    }
    let a = f.diff(x);
    if a.is_zero() || a.free_symbols().contains(x) {
        return None;
    }
    let b = f.subs(x, &Expr::zero());
    // f must be exactly a x + b: a zero derivative does not make a term constant
    // (`step(x)` has derivative 0 almost everywhere).
    let rest = f.clone() - (a.clone() * Expr::sym(x) + b.clone());
    if !(rest.is_zero() || expand(&rest).is_zero()) {
        return None;
    }
    // −b multiplied out, so that `−(1 − c)` reads `c − 1`.
    Some(expand(&-b) / a)
}

/// A rational equation whose numerator, over one denominator, is linear in x:
/// `2 I / (I + J) = 1` gives `2 I - (I + J) = 0`, so J = I. The solution is kept only
/// when the denominator at it is not identically 0 (else it solves nothing: `x / x = 2`
/// has none).
pub fn solve_rational_linear(lhs: &Expr, rhs: &Expr, x: &str) -> Option<Expr> {
    let (num, den) = super::algebra::together(&(lhs.clone() - rhs.clone()));
    if !den.free_symbols().contains(x) {
        return None;
    }
    let s = solve_linear(&num, &Expr::zero(), x)?;
    let (at, _) = super::algebra::together(&den.subs(x, &s));
    if expand(&at).is_zero() {
        return None;
    }
    Some(s)
}

/// The real solutions of `x^n = c` (either side may be the power) with n free of x and
/// c free of x: `c^(1/n)`, and also `−c^(1/n)` when n is an even integer. `None` when
/// the equation is not of that form.
pub fn solve_pow(lhs: &Expr, rhs: &Expr, x: &str) -> Option<Vec<Expr>> {
    for (side, other) in [(lhs, rhs), (rhs, lhs)] {
        if other.free_symbols().contains(x) {
            continue;
        }
        let (base, n) = match side {
            Expr::Pow(b, n) => ((**b).clone(), (**n).clone()),
            _ => continue,
        };
        if base != Expr::sym(x) || n.free_symbols().contains(x) {
            continue;
        }
        let root = Expr::pow(other.clone(), Expr::pow(n.clone(), Expr::int(-1)));
        return Some(match n.as_int() {
            Some(k) if k % 2 == 0 => vec![root.clone(), -root],
            _ => vec![root],
        });
    }
    None
}

/// The solution of `(1 + a u)^L = c` for u (either side may be the power; a, L and c
/// free of u): `u = (c^(1/L) − 1)/a`, the real root for positive c. For an even
/// integer L only this (non-negative-base) root is returned; [`solve`] reports both.
pub fn solve_one_plus_pow(lhs: &Expr, rhs: &Expr, u: &str) -> Option<Expr> {
    for (side, other) in [(lhs, rhs), (rhs, lhs)] {
        if other.free_symbols().contains(u) {
            continue;
        }
        let Expr::Pow(base, l) = side else { continue };
        if l.free_symbols().contains(u) {
            continue;
        }
        // The base must be 1 + a u exactly.
        let a = base.diff(u);
        if a.is_zero() || a.free_symbols().contains(u) {
            continue;
        }
        let rest = (**base).clone() - (Expr::one() + a.clone() * Expr::sym(u));
        if !(rest.is_zero() || expand(&rest).is_zero()) {
            continue;
        }
        let root = Expr::pow(other.clone(), Expr::pow((**l).clone(), Expr::int(-1)));
        return Some((root - Expr::one()) / a);
    }
    None
}

/// Solutions of `lhs = rhs` for `x`: linear equations, and a power of something linear
/// in x equal to something free of x — `x^n = c` and `(1 + a x)^L = c`
/// (`x = (c^(1/L) − 1)/a`, the real root for positive c; for even integer powers both
/// signs of the root). An honest error otherwise.
pub fn solve(lhs: &Expr, rhs: &Expr, x: &str) -> Result<Vec<Expr>, String> {
    solve_depth(lhs, rhs, x, 0)
}

fn solve_depth(lhs: &Expr, rhs: &Expr, x: &str, depth: usize) -> Result<Vec<Expr>, String> {
    if let Some(s) = solve_linear(lhs, rhs, x) {
        return Ok(vec![s]);
    }
    if let Some(s) = solve_rational_linear(lhs, rhs, x) {
        return Ok(vec![s]);
    }
    if let Some(s) = solve_pow(lhs, rhs, x) {
        return Ok(s);
    }
    // A power of something linear in x equals something free of x.
    if depth < 8 {
        for (side, other) in [(lhs, rhs), (rhs, lhs)] {
            if other.free_symbols().contains(x) {
                continue;
            }
            if let Expr::Pow(base, n) = side {
                if n.free_symbols().contains(x) {
                    continue;
                }
                let root = Expr::pow(other.clone(), Expr::pow((**n).clone(), Expr::int(-1)));
                let inner = solve_depth(base, &root, x, depth + 1)?;
                if let Some(n) = n.as_int() {
                    if n % 2 == 0 {
                        // Even powers: the non-negative root is the one these problems
                        // use (variances); the other sign is reported too.
                        let neg = solve_depth(base, &(-root), x, depth + 1)?;
                        return Ok(inner.into_iter().chain(neg).collect());
                    }
                }
                return Ok(inner);
            }
        }
    }
    if identical(lhs, rhs) {
        return Err(format!("the equation holds for every {x}"));
    }
    if !lhs.free_symbols().contains(x) && !rhs.free_symbols().contains(x) {
        return Err(format!("the equation does not contain {x}"));
    }
    Err(format!(
        "tq cannot solve this equation for {x} (it solves linear equations, rational ones whose numerator is linear, x^n = c and (1 + a x)^L = c)"
    ))
}

/// `(1 + e)^N ≈ exp(e N)`, the step the seeds take for small e, with its error.
#[derive(Clone, Debug)]
pub struct ApproxStep {
    /// `"(1 + e)^N ≈ exp(e N) for small e"`.
    pub label: &'static str,
    /// `(1 + e)^N`.
    pub exact: Expr,
    /// `exp(e N)`.
    pub approx: Expr,
    /// exact − approx, as an expression.
    pub error: Expr,
}

impl ApproxStep {
    /// The error `(1 + e)^N − exp(e N)` in floating point at a point.
    pub fn error_at(&self, at: &BTreeMap<String, f64>) -> Result<f64, EvalError> {
        eval_f64(&self.error, at)
    }

    /// The relative error `((1 + e)^N − exp(e N)) / (1 + e)^N` at a point.
    pub fn relative_error_at(&self, at: &BTreeMap<String, f64>) -> Result<f64, EvalError> {
        let exact = eval_f64(&self.exact, at)?;
        Ok((exact - eval_f64(&self.approx, at)?) / exact)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: &str) -> Expr {
        Expr::sym(n)
    }

    #[test]
    fn linear() {
        // 3x + 2 = x - 4  →  x = -3
        let x = s("x");
        let l = Expr::int(3) * x.clone() + Expr::int(2);
        let r = x.clone() - Expr::int(4);
        assert_eq!(solve_linear(&l, &r, "x"), Some(Expr::int(-3)));
        // a x = b  →  b/a
        let got = solve_linear(&(s("a") * x.clone()), &s("b"), "x");
        assert_eq!(got, Some(s("b") / s("a")));
        // step(x) + x = 5 is not linear, whatever its derivative says.
        let st = Expr::func(super::super::Func::Step, x.clone()) + x.clone();
        assert_eq!(solve_linear(&st, &Expr::int(5), "x"), None);
        assert!(solve(&st, &Expr::int(5), "x").is_err());
        assert_eq!(solve_linear(&x, &x, "x"), None);
    }

    #[test]
    fn rational_with_a_linear_numerator() {
        // 2 I / (I + J) = 1  →  J = I
        let l = Expr::int(2) * s("I") / (s("I") + s("J"));
        let got = solve_rational_linear(&l, &Expr::one(), "J").map(|e| expand(&e));
        assert_eq!(got, Some(s("I")));
        // 1 / (x - 1) = 2  →  x = 3/2
        let l = Expr::one() / (s("x") - Expr::one());
        let got = solve(&l, &Expr::int(2), "x").map(|v| v.iter().map(expand).collect::<Vec<_>>());
        assert_eq!(
            got,
            Ok(vec![Expr::num(num_rational::BigRational::new(
                3.into(),
                2.into()
            ))])
        );
        // x / x = 2 has no solution: the numerator's root is where the denominator is 0.
        let l = s("x") / (s("x") * s("x"));
        assert_eq!(
            solve_rational_linear(&(l * s("x")), &Expr::int(2), "x"),
            None
        );
        // (x^2 - 1)/(x - 1) = 0: cancels to x + 1 = 0 (x = -1) or keeps x^2 - 1; never x = 1.
        let l = (s("x") * s("x") - Expr::one()) / (s("x") - Expr::one());
        if let Ok(v) = solve(&l, &Expr::zero(), "x") {
            assert!(v.iter().all(|r| expand(r) != Expr::one()), "{v:?}");
        }
    }

    #[test]
    fn powers() {
        let x = s("x");
        let sq = Expr::pow(x.clone(), Expr::int(2));
        assert_eq!(
            solve_pow(&sq, &Expr::int(4), "x"),
            Some(vec![Expr::int(2), Expr::int(-2)])
        );
        assert_eq!(
            solve_pow(&Expr::int(8), &Expr::pow(x.clone(), Expr::int(3)), "x"),
            Some(vec![Expr::int(2)])
        );
        let xl = Expr::pow(x, s("L"));
        assert_eq!(
            solve_pow(&xl, &s("c"), "x"),
            Some(vec![Expr::pow(s("c"), Expr::pow(s("L"), Expr::int(-1)))])
        );
    }

    #[test]
    fn one_plus_pow() {
        // (1 + u)^L = 2  →  u = 2^(1/L) - 1
        let lhs = Expr::pow(Expr::one() + s("u"), s("L"));
        let want = Expr::pow(Expr::int(2), Expr::pow(s("L"), Expr::int(-1))) - Expr::one();
        assert_eq!(
            solve_one_plus_pow(&lhs, &Expr::int(2), "u"),
            Some(want.clone())
        );
        assert_eq!(solve(&lhs, &Expr::int(2), "u"), Ok(vec![want]));
        // (1 + a u)^3 = 8  →  u = 1/a
        let lhs = Expr::pow(Expr::one() + s("a") * s("u"), Expr::int(3));
        assert_eq!(
            solve_one_plus_pow(&lhs, &Expr::int(8), "u"),
            Some(Expr::pow(s("a"), Expr::int(-1)))
        );
        // (2 + u)^L = c is not of the form.
        let lhs = Expr::pow(Expr::int(2) + s("u"), s("L"));
        assert_eq!(solve_one_plus_pow(&lhs, &s("c"), "u"), None);
    }

    #[test]
    fn honest_errors() {
        let x = s("x");
        let e = Expr::exp(x.clone()) + x.clone();
        let err = solve(&e, &Expr::int(3), "x").unwrap_err();
        assert!(err.contains("cannot solve"), "{err}");
        assert!(solve(&s("a"), &s("b"), "x").is_err());
    }

    #[test]
    fn approximation_step() {
        let st = approx_one_plus_pow(&s("e"), &s("N"));
        assert_eq!(st.label, "(1 + e)^N ≈ exp(e N) for small e");
        assert_eq!(st.approx, Expr::exp(s("e") * s("N")));
        let at: BTreeMap<String, f64> = [("e".to_string(), 0.001), ("N".to_string(), 10.0)].into();
        let err = st.error_at(&at).unwrap();
        let want = 1.001f64.powf(10.0) - 0.01f64.exp();
        assert!((err - want).abs() < 1e-15, "{err} vs {want}");
        let rel = st.relative_error_at(&at).unwrap();
        assert!((rel + 5e-6).abs() < 1e-7, "{rel}");
    }
}
