//! Matrices of symbolic expressions: products, the characteristic polynomial
//! (Cayley–Hamilton), the input coefficients of the output recurrence, shifts in `t`,
//! and exact linear solves.

use crate::sym::{self, Expr};

pub(super) type Mat = Vec<Vec<Expr>>;

fn mat_mul(a: &Mat, b: &Mat) -> Mat {
    let cols = b.first().map_or(0, Vec::len);
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| {
                    sym::expand(&Expr::add(
                        row.iter()
                            .zip(b)
                            .map(|(x, brow)| x.clone() * brow[j].clone())
                            .collect(),
                    ))
                })
                .collect()
        })
        .collect()
}

fn identity(n: usize) -> Mat {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Expr::one() } else { Expr::zero() })
                .collect()
        })
        .collect()
}

pub(super) fn mat_subs(a: &Mat, subs: &[(String, Expr)]) -> Mat {
    a.iter()
        .map(|r| r.iter().map(|x| sym::expand(&apply(x, subs))).collect())
        .collect()
}

pub(super) fn apply(e: &Expr, subs: &[(String, Expr)]) -> Expr {
    subs.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v))
}

/// The characteristic polynomial `det(z I − M)` as coefficients `p_0 .. p_n` (p_n = 1),
/// by Faddeev–LeVerrier.
pub fn char_poly(m: &Mat) -> Vec<Expr> {
    let n = m.len();
    let mut c = vec![Expr::zero(); n + 1];
    c[n] = Expr::one();
    let mut mk = vec![vec![Expr::zero(); n]; n];
    for k in 1..=n {
        let prev = mat_mul(m, &mk);
        mk = prev
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                row.into_iter()
                    .enumerate()
                    .map(|(j, x)| {
                        if i == j {
                            sym::expand(&(x + c[n - k + 1].clone()))
                        } else {
                            x
                        }
                    })
                    .collect()
            })
            .collect();
        let amk = mat_mul(m, &mk);
        let tr = Expr::add((0..n).map(|i| amk[i][i].clone()).collect());
        c[n - k] = sym::expand(&(-tr / Expr::int(k as i64)));
    }
    c
}

/// The input coefficients `d_i` (one row per input) of the recurrence of `y = c·x`.
pub(super) fn input_coefficients(m: &Mat, nmat: &Mat, c: &[Expr], p: &[Expr]) -> Vec<Vec<Expr>> {
    let n = m.len();
    let crow: Mat = vec![c.to_vec()];
    let mut powers = vec![identity(n)];
    for k in 1..n {
        powers.push(mat_mul(m, &powers[k - 1]));
    }
    let inputs = nmat.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            // c Σ_{k>i} p_k M^(k−1−i) N
            let mut acc = vec![Expr::zero(); inputs];
            for k in (i + 1)..=n {
                let t = mat_mul(&mat_mul(&crow, &powers[k - 1 - i]), nmat);
                for (a, x) in acc.iter_mut().zip(&t[0]) {
                    *a = sym::expand(&(a.clone() + p[k].clone() * x.clone()));
                }
            }
            acc
        })
        .collect()
}

/// `f(t + k)` with every power `r^(e(t))` written as the atom `⟨r^e⟩` times `r^(e(t+k) − e(t))`,
/// so that a recurrence can be checked as an identity in the atoms.
pub(super) fn shift(f: &Expr, t: &str, k: i64) -> Expr {
    match f {
        Expr::Sym(s) if s == t => Expr::sym(t) + Expr::int(k),
        Expr::Num(_) | Expr::Sym(_) => f.clone(),
        Expr::Pow(b, e) if e.free_symbols().contains(t) => {
            let moved = e.subs(t, &(Expr::sym(t) + Expr::int(k)));
            let delta = sym::expand(&(moved - (**e).clone()));
            Expr::sym(&format!("<{}>", sym::to_ascii(f))) * Expr::pow(shift(b, t, k), delta)
        }
        Expr::Pow(b, e) => Expr::pow(shift(b, t, k), shift(e, t, k)),
        Expr::Func(func, x) => Expr::func(*func, shift(x, t, k)),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|x| shift(x, t, k)).collect()),
        Expr::Add(ts) => Expr::add(ts.iter().map(|x| shift(x, t, k)).collect()),
    }
}

/// Solves a small linear system exactly (Gaussian elimination over expressions).
pub(super) fn solve_system(mut a: Mat, mut b: Vec<Expr>) -> Option<Vec<Expr>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).find(|&r| !sym::identical(&a[r][col], &Expr::zero()))?;
        a.swap(col, piv);
        b.swap(col, piv);
        for r in 0..n {
            if r == col {
                continue;
            }
            let f = a[r][col].clone() / a[col][col].clone();
            let pivot_row = a[col].clone();
            for (x, p) in a[r].iter_mut().zip(pivot_row).skip(col) {
                *x = sym::simplify(&(x.clone() - f.clone() * p));
            }
            b[r] = sym::simplify(&(b[r].clone() - f.clone() * b[col].clone()));
        }
    }
    Some(
        (0..n)
            .map(|i| sym::simplify(&(b[i].clone() / a[i][i].clone())))
            .collect(),
    )
}
