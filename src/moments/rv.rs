//! One element of a random tensor, described by what tq knows of its distribution: the
//! mean and second moment as exact expressions (when known), the Gaussian
//! approximation of the mean, upper bounds on the variance, and the structural facts
//! the rules need (symmetry, Gaussianity, linearity in a zero-mean leaf, the random
//! leaves it depends on, a finite support).

use crate::sym::{Expr, Func};
use std::collections::BTreeSet;

/// A position: per dimension, the index variables with their coefficients, and the
/// constant.
pub type Position = Vec<(Vec<(String, i64)>, i64)>;

/// A random leaf a value depends on: a member of a declared tensor (or `past`, the
/// state of a recurrence), at one position or (`pos: None`) at any.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub member: String,
    /// Per dimension: the index variables with their coefficients, and the constant.
    pub pos: Option<Position>,
}

impl Source {
    /// The whole member.
    pub fn whole(member: &str) -> Source {
        Source {
            member: member.to_string(),
            pos: None,
        }
    }

    /// Whether the two may be the same random element: the same member, unless both
    /// positions differ by a constant in some dimension with the same variables.
    pub fn conflicts(&self, o: &Source) -> bool {
        let past = |a: &str, b: &str| a == "past" && b.starts_with("past:");
        if past(&self.member, &o.member) || past(&o.member, &self.member) {
            return true;
        }
        if self.member != o.member {
            return false;
        }
        match (&self.pos, &o.pos) {
            (Some(a), Some(b)) if a.len() == b.len() => {
                !a.iter().zip(b).any(|(x, y)| x.0 == y.0 && x.1 != y.1)
            }
            _ => true,
        }
    }

    /// The same leaf with the positions that use a summed index widened to the member.
    pub fn summed_over(&self, summed: &[String]) -> Source {
        let uses = self.pos.as_ref().is_some_and(|p| {
            p.iter()
                .any(|(vars, _)| vars.iter().any(|(v, _)| summed.contains(v)))
        });
        if uses {
            Source::whole(&self.member)
        } else {
            self.clone()
        }
    }
}

/// How Gaussian a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gauss {
    /// Not Gaussian, as far as tq knows.
    No,
    /// Approximately Gaussian: a sum of many uncorrelated terms (central limit).
    Approx,
    /// Exactly Gaussian (declared `normal`, or a fixed linear combination of such).
    Exact,
}

/// A value computed by Gauss–Hermite quadrature of `f(z)` for Gaussian z.
#[derive(Clone, Debug, PartialEq)]
pub struct Quad {
    pub func: Func,
    /// The mean and variance of the Gaussian input.
    pub mean: Expr,
    pub var: Expr,
    /// Whether the input is only approximately Gaussian.
    pub approx: bool,
}

/// One element of a random tensor.
#[derive(Clone, Debug)]
pub struct Rv {
    /// E[x], exactly, when known.
    pub mean: Option<Expr>,
    /// E[x²], exactly, when known.
    pub m2: Option<Expr>,
    /// E[x] under the Gaussian approximation of the input, with the reason.
    pub approx_mean: Option<(Expr, String)>,
    /// Upper bounds on Var(x), each with its reason.
    pub var_bounds: Vec<(Expr, String)>,
    /// E[x] > 0 is known (relu of a non-degenerate symmetric input).
    pub positive_mean: bool,
    /// The value is f(z) of a Gaussian z: its moments by quadrature.
    pub quad: Option<Quad>,
    /// Symmetric about 0.
    pub symmetric: bool,
    pub gauss: Gauss,
    /// The value is linear in the elements of each of these zero-mean leaves, with
    /// coefficients independent of it: then E[x · y] = 0 for every y that does not
    /// depend on it.
    pub lin0: Vec<String>,
    /// The random leaves (parameter and input members, `past` for a recurrence state)
    /// the value depends on.
    pub sources: BTreeSet<Source>,
    /// A finite support: (value, probability) pairs.
    pub finite: Option<Vec<(Expr, Expr)>>,
    /// Approximations the value rests on (empty: exact).
    pub approx: BTreeSet<String>,
    /// The rules used, for the reader.
    pub rules: BTreeSet<String>,
}

/// The largest finite support tq enumerates.
const MAX_SUPPORT: usize = 64;

impl Rv {
    /// A constant.
    pub fn constant(c: Expr) -> Rv {
        Rv {
            mean: Some(c.clone()),
            m2: Some(Expr::pow(c.clone(), Expr::int(2))),
            approx_mean: None,
            var_bounds: vec![(Expr::zero(), "a constant".into())],
            positive_mean: false,
            quad: None,
            symmetric: c.is_zero(),
            gauss: Gauss::Exact,
            lin0: vec![],
            sources: BTreeSet::new(),
            finite: Some(vec![(c, Expr::one())]),
            approx: BTreeSet::new(),
            rules: BTreeSet::new(),
        }
    }

    /// A random leaf with the given moments.
    pub fn leaf(source: Source, mean: Expr, m2: Expr) -> Rv {
        Rv {
            mean: Some(mean),
            m2: Some(m2),
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: false,
            quad: None,
            symmetric: false,
            gauss: Gauss::No,
            lin0: vec![],
            sources: [source].into(),
            finite: None,
            approx: BTreeSet::new(),
            rules: BTreeSet::new(),
        }
    }

    pub fn is_constant(&self) -> bool {
        self.sources.is_empty()
    }

    /// The constant value, for a constant.
    pub fn value(&self) -> Option<&Expr> {
        if self.is_constant() {
            self.mean.as_ref()
        } else {
            None
        }
    }

    /// Var(x) = E[x²] − E[x]², when both are known.
    pub fn var(&self) -> Option<Expr> {
        Some(self.m2.clone()? - Expr::pow(self.mean.clone()?, Expr::int(2)))
    }

    fn merged(&self, other: &Rv) -> (BTreeSet<Source>, BTreeSet<String>, BTreeSet<String>) {
        (
            self.sources.union(&other.sources).cloned().collect(),
            self.approx.union(&other.approx).cloned().collect(),
            self.rules.union(&other.rules).cloned().collect(),
        )
    }

    /// Whether the two depend on no common random leaf.
    pub fn independent(&self, other: &Rv) -> bool {
        !self
            .sources
            .iter()
            .any(|a| other.sources.iter().any(|b| a.conflicts(b)))
    }

    /// Whether the value depends on any element of this member.
    pub fn depends_on(&self, member: &str) -> bool {
        self.sources.iter().any(|s| s.member == member)
    }

    fn shared(&self, other: &Rv) -> String {
        let mut names: Vec<String> = self
            .sources
            .iter()
            .filter(|a| other.sources.iter().any(|b| a.conflicts(b)))
            .map(|a| a.member.clone())
            .collect();
        names.dedup();
        names.join(", ")
    }

    /// c · x for a constant c.
    pub fn scale(&self, c: &Expr) -> Rv {
        let c2 = Expr::pow(c.clone(), Expr::int(2));
        Rv {
            mean: self.mean.clone().map(|m| c.clone() * m),
            m2: self.m2.clone().map(|m| c2.clone() * m),
            approx_mean: self.approx_mean.clone().map(|(m, r)| (c.clone() * m, r)),
            var_bounds: self
                .var_bounds
                .iter()
                .map(|(b, r)| (c2.clone() * b.clone(), r.clone()))
                .collect(),
            positive_mean: false,
            quad: None,
            symmetric: self.symmetric,
            gauss: self.gauss,
            lin0: self.lin0.clone(),
            sources: self.sources.clone(),
            finite: self
                .finite
                .clone()
                .map(|s| s.into_iter().map(|(v, p)| (c.clone() * v, p)).collect()),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
        }
    }

    /// x + c for a constant c.
    fn shift(&self, c: &Expr) -> Rv {
        let two = Expr::int(2);
        Rv {
            mean: self.mean.clone().map(|m| m + c.clone()),
            m2: match (&self.m2, &self.mean) {
                (Some(m2), Some(m)) => Some(
                    m2.clone() + two * c.clone() * m.clone() + Expr::pow(c.clone(), Expr::int(2)),
                ),
                _ => None,
            },
            approx_mean: self.approx_mean.clone().map(|(m, r)| (m + c.clone(), r)),
            var_bounds: self.var_bounds.clone(),
            positive_mean: false,
            quad: None,
            symmetric: self.symmetric && c.is_zero(),
            gauss: self.gauss,
            lin0: if c.is_zero() {
                self.lin0.clone()
            } else {
                vec![]
            },
            sources: self.sources.clone(),
            finite: self
                .finite
                .clone()
                .map(|s| s.into_iter().map(|(v, p)| (v + c.clone(), p)).collect()),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
        }
    }

    /// E[x · y] when tq knows it, with the rule used.
    pub fn cross(&self, other: &Rv) -> Result<(Expr, &'static str), String> {
        if self.lin0.iter().any(|p| !other.depends_on(p))
            || other.lin0.iter().any(|p| !self.depends_on(p))
        {
            return Ok((
                Expr::zero(),
                "zero-mean weights: the terms are uncorrelated",
            ));
        }
        if self.independent(other) {
            if let (Some(a), Some(b)) = (&self.mean, &other.mean) {
                return Ok((a.clone() * b.clone(), "independent terms"));
            }
            return Err("the means of independent terms are not known".into());
        }
        Err(format!(
            "tq cannot tell whether terms that share {} are correlated",
            self.shared(other)
        ))
    }

    /// x + y.
    pub fn add(&self, other: &Rv) -> Result<Rv, String> {
        if let Some(c) = other.value() {
            return Ok(self.shift(c));
        }
        if let Some(c) = self.value() {
            return Ok(other.shift(c));
        }
        let (cross, rule) = self.cross(other)?;
        let (sources, approx, mut rules) = self.merged(other);
        rules.insert(format!("Var of a sum: {rule}"));
        let indep = self.independent(other);
        let common: Vec<String> = self
            .lin0
            .iter()
            .filter(|p| other.lin0.contains(p))
            .cloned()
            .collect();
        let same_lin0 = !common.is_empty();
        let m2 = match (&self.m2, &other.m2) {
            (Some(a), Some(b)) => Some(a.clone() + b.clone() + Expr::int(2) * cross),
            _ => None,
        };
        let mean = match (&self.mean, &other.mean) {
            (Some(a), Some(b)) => Some(a.clone() + b.clone()),
            _ => None,
        };
        Ok(Rv {
            mean,
            m2,
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: false,
            quad: None,
            symmetric: (indep && self.symmetric && other.symmetric) || same_lin0,
            gauss: if indep {
                self.gauss.min(other.gauss)
            } else {
                Gauss::No
            },
            lin0: common,
            sources,
            finite: if indep {
                combine(&self.finite, &other.finite, |a, b| a + b)
            } else {
                None
            },
            approx,
            rules,
        })
    }

    /// x · y.
    pub fn mul(&self, other: &Rv) -> Result<Rv, String> {
        if let Some(c) = other.value() {
            return Ok(self.scale(c));
        }
        if let Some(c) = self.value() {
            return Ok(other.scale(c));
        }
        if !self.independent(other) {
            return Err(format!(
                "tq cannot take the moments of a product of dependent factors (both depend on {})",
                self.shared(other)
            ));
        }
        let (sources, approx, mut rules) = self.merged(other);
        rules.insert("moments of a product of independent factors".into());
        let both = |a: &Option<Expr>, b: &Option<Expr>| match (a, b) {
            (Some(a), Some(b)) => Some(a.clone() * b.clone()),
            _ => None,
        };
        let lin0: Vec<String> = self
            .lin0
            .iter()
            .filter(|p| !other.depends_on(p))
            .chain(other.lin0.iter().filter(|p| !self.depends_on(p)))
            .cloned()
            .collect();
        Ok(Rv {
            mean: both(&self.mean, &other.mean),
            m2: both(&self.m2, &other.m2),
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: false,
            quad: None,
            symmetric: self.symmetric || other.symmetric,
            gauss: Gauss::No,
            lin0,
            sources,
            finite: combine(&self.finite, &other.finite, |a, b| a * b),
            approx,
            rules,
        })
    }

    /// x².
    pub fn square(&self) -> Rv {
        let mut out = Rv {
            mean: self.m2.clone(),
            m2: None,
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: false,
            quad: None,
            symmetric: false,
            gauss: Gauss::No,
            lin0: vec![],
            sources: self.sources.clone(),
            finite: self.finite.clone().map(|s| {
                s.into_iter()
                    .map(|(v, p)| (Expr::pow(v, Expr::int(2)), p))
                    .collect()
            }),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
        };
        if self.gauss == Gauss::Exact && self.mean.as_ref().is_some_and(|m| m.is_zero()) {
            // E[z⁴] = 3 Var² for a zero-mean Gaussian.
            out.m2 = self
                .m2
                .clone()
                .map(|v| Expr::int(3) * Expr::pow(v, Expr::int(2)));
        }
        out.fill_from_support();
        out
    }

    /// Moments from a finite support, where they are not known otherwise.
    pub fn fill_from_support(&mut self) {
        if let Some(s) = &self.finite {
            let mean = Expr::add(s.iter().map(|(v, p)| v.clone() * p.clone()).collect());
            let m2 = Expr::add(
                s.iter()
                    .map(|(v, p)| Expr::pow(v.clone(), Expr::int(2)) * p.clone())
                    .collect(),
            );
            if self.mean.is_none() {
                self.mean = Some(mean);
            }
            if self.m2.is_none() {
                self.m2 = Some(m2);
            }
        }
    }

    /// An activation applied element-wise.
    pub fn activation(&self, f: Func) -> Result<Rv, String> {
        let zero_mean = self.mean.as_ref().is_some_and(|m| m.is_zero());
        let mut out = Rv {
            mean: None,
            m2: None,
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: false,
            quad: None,
            symmetric: false,
            gauss: Gauss::No,
            lin0: vec![],
            sources: self.sources.clone(),
            finite: self
                .finite
                .clone()
                .map(|s| s.into_iter().map(|(v, p)| (Expr::func(f, v), p)).collect()),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
        };
        let var_in = self.var();
        let gauss_input = self.gauss != Gauss::No && self.finite.is_none();
        match f {
            Func::Relu => {
                if self.symmetric {
                    out.m2 = self.m2.clone().map(|m| m / Expr::int(2));
                    out.rules
                        .insert("relu of a symmetric input keeps half its second moment".into());
                    out.positive_mean = true;
                }
                if let Some(v) = &var_in {
                    out.var_bounds.push((
                        v.clone(),
                        "relu is 1-Lipschitz: Var(relu(y)) ≤ Var(y)".into(),
                    ));
                }
                if gauss_input && zero_mean {
                    let v = var_in.clone().unwrap_or_else(Expr::zero);
                    let m = Expr::sqrt(v / (Expr::int(2) * Expr::sym("pi")));
                    if self.gauss == Gauss::Exact {
                        out.mean = Some(m);
                        out.rules
                            .insert("E[relu(z)] = sqrt(v/(2π)) for z ~ N(0, v)".into());
                    } else {
                        out.approx_mean = Some((
                            m,
                            "Gaussian approximation of the input (a sum of many uncorrelated terms)"
                                .into(),
                        ));
                    }
                }
            }
            Func::Sigmoid | Func::Tanh => {
                let (centre, range_var, lip2) = if f == Func::Sigmoid {
                    (Expr::rat(1, 2), Expr::rat(1, 4), Expr::rat(1, 16))
                } else {
                    (Expr::zero(), Expr::one(), Expr::one())
                };
                if self.symmetric {
                    out.mean = Some(centre);
                    out.symmetric = f == Func::Tanh;
                    out.rules.insert(if f == Func::Sigmoid {
                        "sigmoid(−y) = 1 − sigmoid(y): mean 1/2 for symmetric y".into()
                    } else {
                        "tanh is odd: mean 0 for symmetric y".into()
                    });
                }
                out.var_bounds.push((
                    range_var,
                    if f == Func::Sigmoid {
                        "sigmoid(y) ∈ [0, 1], so Var ≤ 1/4 (Popoviciu)".into()
                    } else {
                        "tanh(y) ∈ [−1, 1], so Var ≤ 1 (Popoviciu)".into()
                    },
                ));
                if let Some(v) = &var_in {
                    out.var_bounds.push((
                        lip2 * v.clone(),
                        if f == Func::Sigmoid {
                            "sigmoid is 1/4-Lipschitz: Var(sigmoid(y)) ≤ Var(y)/16".into()
                        } else {
                            "tanh is 1-Lipschitz: Var(tanh(y)) ≤ Var(y)".into()
                        },
                    ));
                }
                if gauss_input {
                    if let (Some(m), Some(v)) = (&self.mean, &var_in) {
                        out.quad = Some(Quad {
                            func: f,
                            mean: m.clone(),
                            var: v.clone(),
                            approx: self.gauss != Gauss::Exact,
                        });
                    }
                }
            }
            Func::Exp | Func::Ln | Func::Abs | Func::Step | Func::Sqrt => {}
        }
        out.fill_from_support();
        if out.finite.is_some() {
            out.rules
                .insert("moments of a finite distribution, enumerated".into());
        }
        Ok(out)
    }
}

fn combine(
    a: &Option<Vec<(Expr, Expr)>>,
    b: &Option<Vec<(Expr, Expr)>>,
    f: impl Fn(Expr, Expr) -> Expr,
) -> Option<Vec<(Expr, Expr)>> {
    let (a, b) = (a.as_ref()?, b.as_ref()?);
    if a.len() * b.len() > MAX_SUPPORT {
        return None;
    }
    let mut out = Vec::new();
    for (va, pa) in a {
        for (vb, pb) in b {
            out.push((f(va.clone(), vb.clone()), pa.clone() * pb.clone()));
        }
    }
    Some(out)
}

/// ∫ f(m + sqrt(v) z) φ(z) dz and ∫ f(...)² φ(z) dz by Gauss–Hermite quadrature
/// (probabilists' weights, n = 64 nodes by Golub–Welsch on the Jacobi matrix).
pub fn gauss_hermite(f: Func, mean: f64, var: f64) -> Option<(f64, f64)> {
    if !(var.is_finite() && mean.is_finite()) || var < 0.0 {
        return None;
    }
    let (nodes, weights) = hermite_rule();
    let sd = var.sqrt();
    let g = |x: f64| match f {
        Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Func::Tanh => x.tanh(),
        Func::Relu => x.max(0.0),
        _ => f64::NAN,
    };
    let (mut s1, mut s2) = (0.0, 0.0);
    for (z, w) in nodes.iter().zip(&weights) {
        let y = g(mean + sd * z);
        s1 += w * y;
        s2 += w * y * y;
    }
    Some((s1, s2))
}

/// Nodes and weights of the 64-point Gauss–Hermite rule for the standard normal
/// density (eigen-decomposition of the symmetric tridiagonal Jacobi matrix by the
/// implicit QL method).
fn hermite_rule() -> (Vec<f64>, Vec<f64>) {
    const N: usize = 64;
    // Probabilists' Hermite: off-diagonal sqrt(k), diagonal 0.
    let mut d = vec![0.0f64; N];
    let mut e: Vec<f64> = (1..N).map(|k| (k as f64).sqrt()).chain([0.0]).collect();
    // z holds the first components of the eigenvectors.
    let mut z = vec![0.0f64; N];
    z[0] = 1.0;
    for l in 0..N {
        let mut iter = 0;
        loop {
            let mut m = l;
            while m < N - 1 {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > 60 {
                break;
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut i = m;
            let mut early = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    early = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                let fz = z[i + 1];
                z[i + 1] = s * z[i] + c * fz;
                z[i] = c * z[i] - s * fz;
            }
            if early {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    let w: Vec<f64> = z.iter().map(|v| v * v).collect();
    (d, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_matches_known_values() {
        // E[tanh(z)²] for z ~ N(0, 1) is 0.394294 (a smooth integrand: many digits).
        let (m, s) = gauss_hermite(Func::Tanh, 0.0, 1.0).unwrap();
        assert!(m.abs() < 1e-12, "{m}");
        assert!((s - 0.394294).abs() < 1e-5, "{s}");
        // The sigmoid of a unit Gaussian: mean 1/2, variance 0.04338 (seed 001 P1).
        let (m, s) = gauss_hermite(Func::Sigmoid, 0.0, 1.0).unwrap();
        assert!((m - 0.5).abs() < 1e-12, "{m}");
        assert!((s - m * m - 0.043379).abs() < 1e-5, "{}", s - m * m);
        // Weights sum to one.
        let (_, w) = hermite_rule();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
