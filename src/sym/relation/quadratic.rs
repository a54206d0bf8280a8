//! `quadratic-form`: an inequality `left >= right` (or `<=`) in several variables whose
//! difference, over one denominator, is a quadratic polynomial over a denominator of one
//! sign on the domains, proved by showing the polynomial is a positive semidefinite
//! quadratic form: `p(x) = [x; 1]ᵀ M [x; 1]` with M symmetric and positive semidefinite
//! (exact symmetric elimination in rationals), so p ≥ 0 at every real point.
//! `a^2 + b^2 >= 2 a b`, `(a + b)^2 <= 2 (a^2 + b^2)` and `a/b + b/a >= 2` for positive
//! a, b are proved this way (docs/soundness.md).

use super::*;

/// The largest number of variables the form is built for.
const MAX_VARS: usize = 24;

/// A monomial of total degree at most 2: its coefficient and its variables (one, two
/// equal, two different, or none).
fn monomials(e: &Expr, vars: &BTreeSet<String>) -> Option<Vec<(BigRational, Vec<String>)>> {
    let terms: Vec<&Expr> = match e {
        Expr::Add(ts) => ts.iter().collect(),
        e => vec![e],
    };
    let mut out = Vec::new();
    for t in terms {
        let factors: Vec<&Expr> = match t {
            Expr::Mul(fs) => fs.iter().collect(),
            t => vec![t],
        };
        let mut coef = BigRational::one();
        let mut xs: Vec<String> = Vec::new();
        for f in factors {
            match f {
                Expr::Num(r) => coef *= r,
                Expr::Sym(s) if vars.contains(s) => xs.push(s.clone()),
                Expr::Pow(b, k) => match (&**b, k.as_int()) {
                    (Expr::Sym(s), Some(n)) if vars.contains(s) && (1..=2).contains(&n) => {
                        for _ in 0..n {
                            xs.push(s.clone());
                        }
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        if xs.len() > 2 {
            return None;
        }
        out.push((coef, xs));
    }
    Some(out)
}

/// Whether the quadratic polynomial `e` is ≥ 0 at every real point: its symmetric
/// matrix (the constant term in the last row and column) is positive semidefinite.
/// `None` when `e` is not a polynomial of degree ≤ 2 in `vars`.
pub(super) fn nonnegative_everywhere(e: &Expr, vars: &BTreeSet<String>) -> Option<bool> {
    let ms = monomials(e, vars)?;
    let used: Vec<String> = ms
        .iter()
        .flat_map(|(_, xs)| xs.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if used.len() > MAX_VARS {
        return None;
    }
    let n = used.len() + 1;
    let at = |s: &str| used.iter().position(|u| u == s).expect("collected");
    let half = BigRational::new(1.into(), 2.into());
    let mut m = vec![vec![BigRational::zero(); n]; n];
    for (c, xs) in ms {
        match xs.as_slice() {
            [] => m[n - 1][n - 1] += c,
            [x] => {
                let i = at(x);
                m[i][n - 1] += &c * &half;
                m[n - 1][i] += &c * &half;
            }
            [x, y] if x == y => {
                let i = at(x);
                m[i][i] += c;
            }
            [x, y] => {
                let (i, j) = (at(x), at(y));
                m[i][j] += &c * &half;
                m[j][i] += &c * &half;
            }
            _ => return None,
        }
    }
    // Symmetric elimination: a negative pivot, or a zero pivot whose row is not zero,
    // shows a direction where the form is negative.
    for p in 0..n {
        let pivot = m[p][p].clone();
        if pivot.is_negative() {
            return Some(false);
        }
        if pivot.is_zero() {
            if (p + 1..n).any(|j| !m[p][j].is_zero()) {
                return Some(false);
            }
            continue;
        }
        let row_p = m[p].clone();
        for row in m.iter_mut().skip(p + 1) {
            let f = &row[p] / &pivot;
            if f.is_zero() {
                continue;
            }
            for (x, y) in row.iter_mut().zip(&row_p).skip(p + 1) {
                *x -= &f * y;
            }
        }
    }
    Some(true)
}

impl Problem<'_> {
    /// `quadratic-form` (see the module docs): `Some(proof)` when it applies, else `None`
    /// (the claim goes on to the random points).
    pub(super) fn quadratic_form(&self, definedness: &Definedness) -> Option<Decision> {
        let d = match self.rel {
            Rel::Ge => self.lhs.clone() - self.rhs.clone(),
            Rel::Le => self.rhs.clone() - self.lhs.clone(),
            _ => return None,
        };
        if self.syms.is_empty() || !self.consts.is_empty() {
            return None;
        }
        let (num, den) = crate::sym::together(&d);
        let den_range = range(&den, &self.dom);
        let num = if den_range.lo_above_zero(true) {
            crate::sym::expand(&num)
        } else if den_range.hi_below_zero(true) {
            crate::sym::expand(&(Expr::int(-1) * num))
        } else {
            return None;
        };
        if nonnegative_everywhere(&num, &self.syms)? {
            let why = if den.as_num().is_some() {
                "left − right is a positive semidefinite quadratic form in the symbols (exact symmetric elimination)".to_string()
            } else {
                format!(
                    "left − right = N/D with N a positive semidefinite quadratic form in the symbols (exact symmetric elimination) and D = {} of one sign on the domains",
                    to_ascii(&den)
                )
            };
            if let Some(u) = self.undefined(definedness, &why) {
                return Some(u);
            }
            return Some(proof(ProofRule::QuadraticForm, Method::Symbolic, why));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn semidefinite_forms_are_recognised_and_indefinite_ones_are_not() {
        let (a, b) = (Expr::sym("a"), Expr::sym("b"));
        let sq = |e: Expr| Expr::pow(e, Expr::int(2));
        let v = vars(&["a", "b"]);
        // (a − b)² ≥ 0, a² + b² + 1 ≥ 0, (a + b − 1)² ≥ 0.
        let e1 = crate::sym::expand(
            &(sq(a.clone()) + sq(b.clone()) - Expr::int(2) * a.clone() * b.clone()),
        );
        assert_eq!(nonnegative_everywhere(&e1, &v), Some(true));
        let e2 = crate::sym::expand(&sq(a.clone() + b.clone() - Expr::int(1)));
        assert_eq!(nonnegative_everywhere(&e2, &v), Some(true));
        // a b, a² − b², a² + 2ab (indefinite); a − 1 (linear, negative at 0).
        for e in [
            a.clone() * b.clone(),
            sq(a.clone()) - sq(b.clone()),
            crate::sym::expand(&(sq(a.clone()) + Expr::int(2) * a.clone() * b.clone())),
            a.clone() - Expr::int(1),
        ] {
            assert_eq!(nonnegative_everywhere(&e, &v), Some(false), "{e:?}");
        }
        // Degree 3 or a function: not this rule.
        assert_eq!(
            nonnegative_everywhere(&crate::sym::expand(&(sq(a.clone()) * b.clone())), &v),
            None
        );
        assert_eq!(nonnegative_everywhere(&Expr::exp(a), &v), None);
    }
}
