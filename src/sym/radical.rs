//! The radical form: roots of products split into products of roots where that is an
//! identity, so `sqrt(2 v / pi)` and `2 sqrt(v / (2 pi))` (both `2^(1/2) v^(1/2)
//! pi^(-1/2)`) are recognised as equal ([`identical_in_radical_form`], part of the rule
//! `normal-form` of docs/soundness.md).
//!
//! Each step is an identity wherever the original is defined:
//! - `(a · R)^r = a^r · R^r` for a rational, non-integer r and a factor `a` that the
//!   range facts show non-negative on the domains (a positive number, `pi`, a variance):
//!   with a > 0 both sides agree wherever either is defined, and at a = 0 the left is 0
//!   (r > 0) and the right is 0 times an atom;
//! - `(b^k)^r = b^(k r)` for b non-negative on the domains;
//! - `n^(p/q)` for a positive rational n is written over its prime factors (each below
//!   10⁶; otherwise left as it is) with the whole part of each exponent taken out as a
//!   rational coefficient: `2^(-1/2) = 2^(1/2) / 2`, `12^(1/2) = 2 · 3^(1/2)`.

use super::defined::{range, Domains};
use super::*;

/// Whether `a` and `b` are identical once roots of products of non-negative factors are
/// split ([`radical`]). Only called when the plain normal forms differ; false when
/// neither side has a fractional power.
pub fn identical_in_radical_form(a: &Expr, b: &Expr, dom: &Domains) -> bool {
    if !has_root(a) && !has_root(b) {
        return false;
    }
    let (ra, rb) = (radical(a, dom), radical(b, dom));
    if ra == *a && rb == *b {
        return false;
    }
    super::algebra::identical(&ra, &rb)
}

fn fractional(e: &Expr) -> Option<BigRational> {
    e.as_num().filter(|r| !r.is_integer()).cloned()
}

fn has_root(e: &Expr) -> bool {
    match e {
        Expr::Num(_) | Expr::Sym(_) => false,
        Expr::Pow(b, x) => fractional(x).is_some() || has_root(b) || has_root(x),
        Expr::Func(_, x) => has_root(x),
        Expr::Mul(v) | Expr::Add(v) => v.iter().any(has_root),
    }
}

/// The radical form of `e` (see the module's documentation).
pub fn radical(e: &Expr, dom: &Domains) -> Expr {
    match e {
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| radical(t, dom)).collect()),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| radical(f, dom)).collect()),
        Expr::Func(f, x) => Expr::func(*f, radical(x, dom)),
        Expr::Pow(b, x) => {
            let b = radical(b, dom);
            let x = radical(x, dom);
            match fractional(&x) {
                Some(r) => root(b, r, dom),
                None => Expr::pow(b, x),
            }
        }
    }
}

/// `b^r` for a non-integer rational r, split as far as is an identity.
fn root(b: Expr, r: BigRational, dom: &Domains) -> Expr {
    let nonneg = |f: &Expr| range(f, dom).lo_above_zero(false);
    match b {
        Expr::Num(n) if n.is_positive() => number_root(&n, &r),
        Expr::Mul(fs) => {
            let (out, rest): (Vec<Expr>, Vec<Expr>) = fs.into_iter().partition(|f| nonneg(f));
            if out.is_empty() {
                return Expr::pow(Expr::mul(rest), Expr::num(r));
            }
            let mut parts: Vec<Expr> = out.into_iter().map(|f| root(f, r.clone(), dom)).collect();
            if !rest.is_empty() {
                parts.push(Expr::pow(Expr::mul(rest), Expr::num(r)));
            }
            Expr::mul(parts)
        }
        Expr::Pow(base, k) if nonneg(&base) => match k.as_num() {
            Some(k) => {
                let e = k * &r;
                if e.is_integer() {
                    Expr::pow(*base, Expr::num(e))
                } else {
                    root(*base, e, dom)
                }
            }
            None => Expr::pow(Expr::Pow(base, k), Expr::num(r)),
        },
        other => Expr::pow(other, Expr::num(r)),
    }
}

/// The prime factors of a positive integer with their multiplicities, when every one
/// is below 10⁶ (trial division); `None` otherwise.
fn factor(n: &BigInt) -> Option<Vec<(BigInt, i64)>> {
    let mut n = n.clone();
    let mut out = Vec::new();
    let mut p = BigInt::from(2);
    let limit = BigInt::from(1_000_000);
    while n > BigInt::one() {
        if p > limit {
            return None;
        }
        if &p * &p > n {
            out.push((n.clone(), 1));
            break;
        }
        let mut k = 0;
        while (&n % &p).is_zero() {
            n /= &p;
            k += 1;
        }
        if k > 0 {
            out.push((p.clone(), k));
        }
        p += 1;
    }
    Some(out)
}

/// `n^r` for a positive rational n and a non-integer rational r: over the prime factors
/// of n's numerator and denominator, each power's whole part taken out as a rational
/// coefficient, the fractional parts in [0, 1) left as powers of primes.
fn number_root(n: &BigRational, r: &BigRational) -> Expr {
    let (Some(num), Some(den)) = (factor(n.numer()), factor(n.denom())) else {
        return Expr::pow(Expr::Num(n.clone()), Expr::Num(r.clone()));
    };
    let mut coef = BigRational::one();
    let mut parts = Vec::new();
    for (p, k, sign) in num
        .into_iter()
        .map(|(p, k)| (p, k, 1))
        .chain(den.into_iter().map(|(p, k)| (p, k, -1)))
    {
        let e = r * BigRational::from_integer(BigInt::from(k * sign));
        let whole = e.floor();
        let frac = &e - &whole;
        let Some(w) = whole.to_integer().to_i64() else {
            return Expr::pow(Expr::Num(n.clone()), Expr::Num(r.clone()));
        };
        let base = BigRational::from_integer(p.clone());
        if w.unsigned_abs() > 4096 {
            return Expr::pow(Expr::Num(n.clone()), Expr::Num(r.clone()));
        }
        let pw = if w >= 0 {
            num_traits::pow(base.clone(), w as usize)
        } else {
            num_traits::pow(base.clone(), w.unsigned_abs() as usize).recip()
        };
        coef *= pw;
        if !frac.is_zero() {
            parts.push(Expr::Pow(
                Box::new(Expr::Num(base)),
                Box::new(Expr::Num(frac)),
            ));
        }
    }
    parts.push(Expr::Num(coef));
    Expr::mul(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Expr {
        crate::sym::parse_ascii(s).expect("parses")
    }

    /// `sqrt(2 v/pi)` and `2 sqrt(v/(2 pi))` agree in radical form with v >= 0 (and pi a
    /// positive constant); `sqrt(2) sqrt(v)/sqrt(pi)` too; a factor whose sign is unknown
    /// is not split (`sqrt(x y)` against `sqrt(x) sqrt(y)` for real x, y).
    #[test]
    fn roots_of_products_of_nonnegative_factors() {
        let mut dom = Domains::default();
        dom.bounds.insert(
            "pi".into(),
            defined::Interval {
                lo: defined::End::At(BigRational::from_integer(3.into()), false),
                hi: defined::End::At(BigRational::from_integer(4.into()), false),
            },
        );
        let a = parse("sqrt(2*v/pi)");
        let b = parse("2*sqrt(v/(2*pi))");
        let c = parse("sqrt(2)*sqrt(v)/sqrt(pi)");
        assert!(!identical(&a, &b));
        assert!(identical_in_radical_form(&a, &b, &dom));
        assert!(identical_in_radical_form(&a, &c, &dom));
        let wrong = parse("sqrt(v/pi)");
        assert!(!identical_in_radical_form(&a, &wrong, &dom));
        // Every symbol of `dom.real` ranges over all reals: not split.
        dom.real.insert("x".into());
        dom.real.insert("y".into());
        assert!(!identical_in_radical_form(
            &parse("sqrt(x*y)"),
            &parse("sqrt(x)*sqrt(y)"),
            &dom
        ));
        // Numbers: 12^(1/2) = 2 3^(1/2), 2^(-1/2) = 2^(1/2)/2.
        assert!(identical_in_radical_form(
            &parse("sqrt(12)"),
            &parse("2*sqrt(3)"),
            &dom
        ));
        assert!(identical_in_radical_form(
            &parse("1/sqrt(2)"),
            &parse("sqrt(2) / 2"),
            &dom
        ));
    }
}
