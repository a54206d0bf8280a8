//! One element of a random tensor, described by what tq knows of its distribution: the
//! mean and second moment as exact expressions (when known), the Gaussian
//! approximation of the mean, upper bounds on the variance, and the structural facts
//! the rules need (symmetry, Gaussianity, linearity in a zero-mean leaf, the random
//! leaves it depends on, a finite support).

use super::rule::{Applied, Approximation, Cross, Rule};
use crate::sym::func::{MomentRule, Rat, Symmetry};
use crate::sym::{Expr, Func};
use std::collections::BTreeSet;

/// A position: per dimension, the index variables with their coefficients, and the
/// constant.
pub type Position = Vec<(Vec<(String, i64)>, i64)>;

/// Which members of a family a source stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// The member at `sub`.
    Exact,
    /// Every member with a subscript up to `sub` (the earlier iterations of a loop).
    UpTo,
    /// Every member with a subscript from `sub` on (the earlier iterations of a
    /// reversed loop).
    From,
}

/// A random leaf a value depends on: a declared tensor (a family member at `sub`, or
/// a range of members), `past` for a recurrence state, at one position or (`pos:
/// None`) at any.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub member: String,
    pub sub: Option<Expr>,
    pub reach: Reach,
    pub pos: Option<Position>,
}

impl Source {
    /// The whole tensor (or every member of a family).
    pub fn whole(member: &str) -> Source {
        Source {
            member: member.to_string(),
            sub: None,
            reach: Reach::Exact,
            pos: None,
        }
    }

    /// One member of a family.
    pub fn member(key: &str, sub: Option<Expr>) -> Source {
        Source {
            member: key.to_string(),
            sub,
            reach: Reach::Exact,
            pos: None,
        }
    }

    /// How the source reads: `W_{l + 1}`, `W_{..l}`.
    pub fn text(&self) -> String {
        match &self.sub {
            None => self.member.clone(),
            Some(s) => {
                let t = crate::sym::to_ascii(s);
                match self.reach {
                    Reach::Exact if t.chars().all(|c| c.is_ascii_alphanumeric()) => {
                        format!("{}_{t}", self.member)
                    }
                    Reach::Exact => format!("{}_{{{t}}}", self.member),
                    Reach::UpTo => format!("{}_{{..{t}}}", self.member),
                    Reach::From => format!("{}_{{{t}..}}", self.member),
                }
            }
        }
    }

    /// Whether the two may share a random element: the same tensor, unless the family
    /// subscripts or the positions tell them apart.
    pub fn conflicts(&self, o: &Source) -> bool {
        let past = |a: &str, b: &str| a == "past" && b.starts_with("past:");
        if past(&self.member, &o.member) || past(&o.member, &self.member) {
            return true;
        }
        if self.member != o.member {
            return false;
        }
        let positions = || match (&self.pos, &o.pos) {
            (Some(a), Some(b)) if a.len() == b.len() => {
                !a.iter().zip(b).any(|(x, y)| x.0 == y.0 && x.1 != y.1)
            }
            _ => true,
        };
        let (Some(sa), Some(sb)) = (&self.sub, &o.sub) else {
            return positions();
        };
        let d = crate::sym::simplify(&(sa.clone() - sb.clone())).as_int();
        let Some(d) = d else {
            return true;
        };
        match (self.reach, o.reach) {
            (Reach::Exact, Reach::Exact) => d == 0 && positions(),
            (Reach::UpTo, Reach::Exact) | (Reach::UpTo, Reach::From) => d >= 0,
            (Reach::Exact, Reach::UpTo) | (Reach::From, Reach::UpTo) => d <= 0,
            (Reach::From, Reach::Exact) => d <= 0,
            (Reach::Exact, Reach::From) => d >= 0,
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
            Source {
                pos: None,
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// The source with a symbol replaced in its subscript.
    pub fn subs(&self, name: &str, value: &Expr) -> Source {
        Source {
            sub: self
                .sub
                .as_ref()
                .map(|s| crate::sym::simplify(&s.subs(name, value))),
            ..self.clone()
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

/// A sum of two values ([`Rv::sum`]): complete, or without the union of their sets.
enum Sum {
    Done(Rv),
    Parts(Rv, Applied),
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
    pub var_bounds: Vec<(Expr, Applied)>,
    /// E[x] > 0 where this variance of the input is positive (relu of a symmetric input:
    /// E[relu(y)] = E[|y|]/2, 0 where Var(y) is; the claim route must show Var(y) > 0 on
    /// the claim's domains and givens, probe33/a a12).
    pub positive_mean: Option<Expr>,
    /// The value is f(z) of a Gaussian z: its moments by quadrature.
    pub quad: Option<Quad>,
    /// Symmetric about 0.
    pub symmetric: bool,
    pub gauss: Gauss,
    /// The value is linear in the elements of each of these zero-mean leaves, with
    /// coefficients independent of it: then E[x · y] = 0 for every y that does not
    /// depend on it.
    pub lin0: Vec<Source>,
    /// The random leaves (parameter and input members, `past` for a recurrence state)
    /// the value depends on.
    pub sources: BTreeSet<Source>,
    /// Exactly `uniform(lo, hi)` (a declared leaf): its raw moments are known.
    pub uniform: Option<(Expr, Expr)>,
    /// A finite support: (value, probability) pairs.
    pub finite: Option<Vec<(Expr, Expr)>>,
    /// Approximations the value rests on (empty: exact).
    pub approx: BTreeSet<Approximation>,
    /// The rules used, each with its text for the reader.
    pub rules: BTreeSet<Applied>,
}

/// The largest finite support tq enumerates.
const MAX_SUPPORT: usize = 64;

/// The largest power `xⁿ` of a Gaussian whose moments tq writes out (they need the raw
/// moment of order `2n`).
pub const MAX_GAUSSIAN_POWER: i64 = 8;

impl Rv {
    /// A quantity of these sources about which nothing is known yet: no moment, bound,
    /// symmetry, support, approximation or rule (the constructors below fill in theirs).
    fn unknown(sources: BTreeSet<Source>) -> Rv {
        Rv {
            mean: None,
            m2: None,
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: None,
            quad: None,
            symmetric: false,
            gauss: Gauss::No,
            lin0: vec![],
            sources,
            uniform: None,
            finite: None,
            approx: BTreeSet::new(),
            rules: BTreeSet::new(),
        }
    }

    /// A constant.
    pub fn constant(c: Expr) -> Rv {
        Rv {
            mean: Some(c.clone()),
            m2: Some(Expr::pow(c.clone(), Expr::int(2))),
            var_bounds: vec![(Expr::zero(), Applied::new(Rule::Constant, "a constant"))],
            symmetric: c.is_zero(),
            gauss: Gauss::Exact,
            finite: Some(vec![(c, Expr::one())]),
            ..Rv::unknown(BTreeSet::new())
        }
    }

    /// A random leaf with the given moments.
    pub fn leaf(source: Source, mean: Expr, m2: Expr) -> Rv {
        Rv {
            mean: Some(mean),
            m2: Some(m2),
            ..Rv::unknown([source].into())
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

    #[allow(clippy::type_complexity)]
    fn merged(&self, other: &Rv) -> (BTreeSet<Source>, BTreeSet<Approximation>, BTreeSet<Applied>) {
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

    /// Whether the value may depend on this leaf.
    pub fn depends_on(&self, leaf: &Source) -> bool {
        self.sources.iter().any(|s| s.conflicts(leaf))
    }

    fn shared(&self, other: &Rv) -> String {
        let mut names: Vec<String> = self
            .sources
            .iter()
            .filter(|a| other.sources.iter().any(|b| a.conflicts(b)))
            .map(|a| a.text())
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
            positive_mean: None,
            quad: None,
            symmetric: self.symmetric,
            gauss: self.gauss,
            lin0: self.lin0.clone(),
            sources: self.sources.clone(),
            uniform: None,
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
                // A constant's E[x²] is its value squared: kept as that square rather
                // than grown by one sum per shift (a chain of n shifts of a constant
                // whose value is a sum was quadratic in n).
                (Some(_), Some(m)) if self.is_constant() => {
                    Some(Expr::pow(m.clone() + c.clone(), Expr::int(2)))
                }
                (Some(m2), Some(m)) => Some(
                    m2.clone() + two * c.clone() * m.clone() + Expr::pow(c.clone(), Expr::int(2)),
                ),
                _ => None,
            },
            approx_mean: self.approx_mean.clone().map(|(m, r)| (m + c.clone(), r)),
            var_bounds: self.var_bounds.clone(),
            positive_mean: None,
            quad: None,
            symmetric: self.symmetric && c.is_zero(),
            gauss: self.gauss,
            lin0: if c.is_zero() {
                self.lin0.clone()
            } else {
                vec![]
            },
            sources: self.sources.clone(),
            uniform: None,
            finite: self
                .finite
                .clone()
                .map(|s| s.into_iter().map(|(v, p)| (v + c.clone(), p)).collect()),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
        }
    }

    /// E[x · y] when tq knows it, with the rule used.
    pub fn cross(&self, other: &Rv) -> Result<(Expr, Cross), String> {
        if self.lin0.iter().any(|p| !other.depends_on(p))
            || other.lin0.iter().any(|p| !self.depends_on(p))
        {
            return Ok((Expr::zero(), Cross::UncorrelatedWeights));
        }
        if self.independent(other) {
            if let (Some(a), Some(b)) = (&self.mean, &other.mean) {
                return Ok((a.clone() * b.clone(), Cross::Independent));
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
        match self.sum(other)? {
            Sum::Done(rv) => Ok(rv),
            Sum::Parts(mut rv, applied) => {
                let (sources, approx, rules) = self.merged(other);
                rv.sources = sources;
                rv.approx = approx;
                rv.rules = rules;
                rv.rules.insert(applied);
                Ok(rv)
            }
        }
    }

    /// x + y, taking x's sets of sources, approximations and rules instead of copying
    /// them: a sum of n terms folded left copied each partial sum's sets again, O(n²)
    /// copies of the leaves' names (2,000 tensors summed in one statement: 43% of
    /// `derive --steps`, docs/fuzzing.md session 27). The result is the one of
    /// [`Rv::add`].
    pub fn add_owned(mut self, other: &Rv) -> Result<Rv, String> {
        match self.sum(other)? {
            Sum::Done(rv) => Ok(rv),
            Sum::Parts(mut rv, applied) => {
                self.sources.extend(other.sources.iter().cloned());
                self.approx.extend(other.approx.iter().cloned());
                self.rules.extend(other.rules.iter().cloned());
                rv.sources = self.sources;
                rv.approx = self.approx;
                rv.rules = self.rules;
                rv.rules.insert(applied);
                Ok(rv)
            }
        }
    }

    /// x + y, without the union of the two sets of sources, approximations and rules
    /// (and the rule this sum applied) when the sum needs them.
    fn sum(&self, other: &Rv) -> Result<Sum, String> {
        if let Some(c) = other.value() {
            return Ok(Sum::Done(self.shift(c)));
        }
        if let Some(c) = self.value() {
            return Ok(Sum::Done(other.shift(c)));
        }
        let (cross, rule) = match self.cross(other) {
            Ok(c) => c,
            // Whether the terms are correlated is not known, and so neither is the
            // variance; the mean is still the sum of the means (linearity of expectation).
            Err(why) => {
                let (Some(a), Some(b)) = (&self.mean, &other.mean) else {
                    return Err(why);
                };
                return Ok(Sum::Parts(
                    Rv {
                        mean: Some(a.clone() + b.clone()),
                        ..Rv::unknown(BTreeSet::new())
                    },
                    Applied::new(
                        Rule::MeanLinear,
                        "E of a sum by linearity: the sum of the means (whether the terms are correlated, and so the variance, is not known)",
                    ),
                ));
            }
        };
        let applied = Applied::new(
            Rule::SumOfTwo(rule),
            format!("Var of a sum: {}", rule.text()),
        );
        let indep = self.independent(other);
        let common: Vec<Source> = self
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
        let rv = Rv {
            mean,
            m2,
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: None,
            quad: None,
            symmetric: (indep && self.symmetric && other.symmetric) || same_lin0,
            gauss: if indep {
                self.gauss.min(other.gauss)
            } else {
                Gauss::No
            },
            lin0: common,
            sources: BTreeSet::new(),
            uniform: None,
            finite: if indep {
                combine(&self.finite, &other.finite, |a, b| a + b)
            } else {
                None
            },
            approx: BTreeSet::new(),
            rules: BTreeSet::new(),
        };
        Ok(Sum::Parts(rv, applied))
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
            let why = format!(
                "tq cannot take the moments of a product of dependent factors (both depend on {})",
                self.shared(other)
            );
            return self.mul_zero_mean_factor(other).ok_or(why);
        }
        let (sources, approx, mut rules) = self.merged(other);
        rules.insert(Applied::new(
            Rule::ProductIndependent,
            "moments of a product of independent factors",
        ));
        let both = |a: &Option<Expr>, b: &Option<Expr>| match (a, b) {
            (Some(a), Some(b)) => Some(a.clone() * b.clone()),
            _ => None,
        };
        let lin0 = self.product_lin0(other);
        Ok(Rv {
            mean: both(&self.mean, &other.mean),
            m2: both(&self.m2, &other.m2),
            approx_mean: None,
            var_bounds: vec![],
            positive_mean: None,
            quad: None,
            symmetric: self.symmetric || other.symmetric,
            gauss: Gauss::No,
            lin0,
            sources,
            uniform: None,
            finite: combine(&self.finite, &other.finite, |a, b| a * b),
            approx,
            rules,
        })
    }

    /// The zero-mean leaves a product x · y is linear in: those of each factor that the
    /// other factor does not read.
    fn product_lin0(&self, other: &Rv) -> Vec<Source> {
        self.lin0
            .iter()
            .filter(|p| !other.depends_on(p))
            .chain(other.lin0.iter().filter(|p| !self.depends_on(p)))
            .cloned()
            .collect()
    }

    /// x · y for dependent factors when one of them is linear in a zero-mean leaf the
    /// other does not read (`lin0`): conditioning on everything but that leaf, the
    /// product is linear in it with a coefficient independent of it, so E[x y] = 0
    /// (`(W x) ⊙ (U x)` with independent zero-mean W, U). The second moment stays
    /// unknown (it needs the joint fourth moments of the shared part).
    fn mul_zero_mean_factor(&self, other: &Rv) -> Option<Rv> {
        let lin0 = self.product_lin0(other);
        let first = lin0.first()?;
        let (sources, approx, mut rules) = self.merged(other);
        rules.insert(Applied::new(
            Rule::ProductZeroMeanFactor,
            format!(
                "E of a product of dependent factors: one is linear in the zero-mean `{}`, which the other does not read, so the mean is 0 (the second moment is not derived)",
                first.member
            ),
        ));
        Some(Rv {
            mean: Some(Expr::zero()),
            lin0,
            sources,
            approx,
            rules,
            ..Rv::unknown(BTreeSet::new())
        })
    }

    /// `g(x)` for an element-wise `g` before anything about it is derived: the random
    /// sources, the finite support mapped by `g`, the approximations and rules of `x`;
    /// no moment, bound or symmetry yet (the rule for `g` fills those in).
    fn mapped(&self, g: impl Fn(Expr) -> Expr) -> Rv {
        Rv {
            finite: self
                .finite
                .clone()
                .map(|s| s.into_iter().map(|(v, p)| (g(v), p)).collect()),
            approx: self.approx.clone(),
            rules: self.rules.clone(),
            ..Rv::unknown(self.sources.clone())
        }
    }

    /// x².
    pub fn square(&self) -> Rv {
        let mut out = Rv {
            mean: self.m2.clone(),
            ..self.mapped(|v| Expr::pow(v, Expr::int(2)))
        };
        if let Some(m4) = self.gaussian_moment(4) {
            // E[x⁴] of an exactly Gaussian x (3 Var² at mean 0).
            out.m2 = Some(m4);
        } else if let Some(m4) = self.uniform_moment(4) {
            out.m2 = Some(m4);
            out.rules.insert(Applied::new(
                Rule::UniformPower,
                "raw moments of a uniform: E[x^4] = (lo^4 + lo^3 hi + ... + hi^4)/5",
            ));
        }
        out.fill_from_support();
        out
    }

    /// `xⁿ` for an exactly Gaussian `x` and `3 ≤ n ≤ MAX_GAUSSIAN_POWER`: the mean and
    /// second moment are its raw moments of orders `n` and `2n`. `None` when `x` is not
    /// exactly Gaussian, its moments are not known, or `n` is out of that range.
    pub fn gaussian_power(&self, n: i64) -> Option<Rv> {
        self.power_from_moments(n, Self::gaussian_moment, Rule::GaussianPower, || {
            format!(
                "raw moments of a Gaussian: E[x^{n}] and E[x^{}] from its mean and variance",
                2 * n
            )
        })
    }

    /// `xⁿ` for an exactly uniform `x` (a declared `uniform(lo, hi)`) and
    /// `3 ≤ n ≤ MAX_GAUSSIAN_POWER`: the mean and second moment are its raw moments of
    /// orders `n` and `2n`, `E[xᵏ] = (lo^k + lo^(k−1) hi + … + hi^k)/(k + 1)`.
    pub fn uniform_power(&self, n: i64) -> Option<Rv> {
        self.power_from_moments(n, Self::uniform_moment, Rule::UniformPower, || {
            format!(
                "raw moments of a uniform: E[x^{n}] and E[x^{}] = (lo^k + lo^(k-1) hi + ... + hi^k)/(k + 1)",
                2 * n
            )
        })
    }

    /// `xⁿ` from the raw moments of `x` of orders `n` and `2n` (`moment`), for
    /// `3 ≤ n ≤ MAX_GAUSSIAN_POWER`, with the rule that gave them.
    fn power_from_moments(
        &self,
        n: i64,
        moment: fn(&Rv, i64) -> Option<Expr>,
        rule: Rule,
        text: impl FnOnce() -> String,
    ) -> Option<Rv> {
        if !(3..=MAX_GAUSSIAN_POWER).contains(&n) {
            return None;
        }
        let mean = moment(self, n)?;
        let m2 = moment(self, 2 * n)?;
        let mut out = self.mapped(|v| Expr::pow(v, Expr::int(n)));
        out.mean = Some(mean);
        out.m2 = Some(m2);
        out.symmetric = self.symmetric && n % 2 == 1;
        out.rules.insert(Applied::new(rule, text()));
        Some(out)
    }

    /// `E[xᵏ]` of an exactly uniform `x` on `[lo, hi]`: `Σ_{i=0..k} lo^i hi^(k−i) / (k + 1)`
    /// (the integral `(hi^(k+1) − lo^(k+1))/((k + 1)(hi − lo))` divided out, exact for every
    /// lo < hi).
    fn uniform_moment(&self, k: i64) -> Option<Expr> {
        let (lo, hi) = self.uniform.as_ref()?;
        let terms = (0..=k)
            .map(|i| Expr::pow(lo.clone(), Expr::int(i)) * Expr::pow(hi.clone(), Expr::int(k - i)))
            .collect();
        Some(Expr::add(terms) / Expr::int(k + 1))
    }

    /// `xⁿ` for an odd `n ≥ 3` and `x` symmetric about 0: symmetric, mean 0 (its second
    /// moment is not known).
    pub fn odd_power(&self, n: i64) -> Option<Rv> {
        if n < 3 || n % 2 == 0 || !self.symmetric {
            return None;
        }
        let mut out = self.mapped(|v| Expr::pow(v, Expr::int(n)));
        out.mean = Some(Expr::zero());
        out.symmetric = true;
        out.rules.insert(Applied::new(
            Rule::OddPowerMean,
            format!("an odd power of a symmetric input: E[x^{n}] = 0"),
        ));
        out.fill_from_support();
        Some(out)
    }

    /// `xⁿ` for `x` with a finite support: the support mapped and enumerated.
    pub fn finite_power(&self, n: i64) -> Option<Rv> {
        self.finite.as_ref()?;
        let mut out = self.mapped(|v| Expr::pow(v, Expr::int(n)));
        out.fill_from_support();
        out.rules.insert(Applied::new(
            Rule::FiniteEnumerated,
            "moments of a finite distribution, enumerated",
        ));
        Some(out)
    }

    /// `E[xⁿ]` for an exactly Gaussian `x` with known moments:
    /// `Σ_j C(n, 2j) μ^(n−2j) v^j (2j − 1)!!`, μ the mean and v the variance.
    fn gaussian_moment(&self, n: i64) -> Option<Expr> {
        if self.gauss != Gauss::Exact {
            return None;
        }
        let mu = self.mean.clone()?;
        let v = self.var()?;
        let mut terms = vec![];
        let mut binom: i64 = 1; // C(n, k), k = 0, 1, ...
        let mut dfact: i64 = 1; // (2j − 1)!!
        for k in 0..=n {
            if k > 0 {
                binom = binom.checked_mul(n - k + 1)? / k;
            }
            if k % 2 == 1 {
                continue;
            }
            let j = k / 2;
            if j > 0 {
                dfact = dfact.checked_mul(2 * j - 1)?;
            }
            let coef = binom.checked_mul(dfact)?;
            terms.push(
                Expr::int(coef)
                    * Expr::pow(mu.clone(), Expr::int(n - k))
                    * Expr::pow(v.clone(), Expr::int(j)),
            );
        }
        Some(Expr::add(terms))
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
        let mut out = self.mapped(|v| Expr::func(f, v));
        let var_in = self.var();
        let gauss_input = self.gauss != Gauss::No && self.finite.is_none();
        let b = f.entry();
        let name = b.name;
        let rat = |(n, d): Rat| Expr::rat(n, d);
        if let MomentRule::Homogeneous { pos, neg } = b.moments {
            // f(x) = pos·x for x > 0, −neg·x for x < 0.
            if self.symmetric {
                let keep = Expr::rat(pos * pos + neg * neg, 2);
                out.m2 = self.m2.clone().map(|m| m * keep);
                let share = match (pos * pos + neg * neg, 2) {
                    (1, 2) => "half".to_string(),
                    (2, 2) => "all of".to_string(),
                    (n, d) => format!("{n}/{d} of"),
                };
                out.rules.insert(Applied::new(
                    Rule::SymmetricShare(f),
                    format!("{name} of a symmetric input keeps {share} its second moment"),
                ));
                // E[f(y)] > 0 for a non-degenerate symmetric y; the claim route states
                // it as relu's rule, so only relu-like entries (f = 0 below 0) set it.
                out.positive_mean = (pos > 0 && neg == 0).then_some(var_in.clone()).flatten();
            }
        }
        if let Symmetry::Odd | Symmetry::Complement(_) = b.symmetry {
            if self.symmetric {
                if let Symmetry::Complement(c) = b.symmetry {
                    let two_c = (2 * c.0, c.1);
                    out.mean = Some(rat(c));
                    out.rules.insert(Applied::new(
                        Rule::ComplementMean(f, c.0, c.1),
                        format!(
                            "{name}(−y) = {} − {name}(y): mean {} for symmetric y",
                            crate::sym::to_text(&rat(two_c)),
                            crate::sym::to_text(&rat(c))
                        ),
                    ));
                } else {
                    out.mean = Some(Expr::zero());
                    out.symmetric = true;
                    out.rules.insert(Applied::new(
                        Rule::OddMean(f),
                        format!("{name} is odd: mean 0 for symmetric y"),
                    ));
                }
            }
        }
        if let (Some(lo), Some(hi)) = b.range {
            let half = Expr::rat(1, 2) * (rat(hi) - rat(lo));
            let bound = Expr::pow(half, Expr::int(2));
            let show = |r: Rat| {
                let s = crate::sym::to_text(&rat(r));
                s.replacen('-', "−", 1)
            };
            out.var_bounds.push((
                bound.clone(),
                Applied::new(
                    Rule::Popoviciu(f),
                    format!(
                        "{name}(y) ∈ [{}, {}], so Var ≤ {} (Popoviciu)",
                        show(lo),
                        show(hi),
                        crate::sym::to_text(&bound)
                    ),
                ),
            ));
        }
        if let (Some(l), Some(v)) = (b.lipschitz, &var_in) {
            let l2 = Expr::pow(rat(l.bound), Expr::int(2));
            let bound = if l.bound == (1, 1) {
                "Var(y)".to_string()
            } else if l.bound.0 == 1 {
                format!("Var(y)/{}", l.bound.1 * l.bound.1)
            } else {
                format!("{} Var(y)", crate::sym::to_text(&l2))
            };
            out.var_bounds.push((
                l2 * v.clone(),
                Applied::new(
                    Rule::Lipschitz(f),
                    format!("{name} is {}-Lipschitz: Var({name}(y)) ≤ {bound}", l.text),
                ),
            ));
        }
        match b.moments {
            MomentRule::Homogeneous { pos, neg } if gauss_input && zero_mean => {
                let v = var_in.clone().unwrap_or_else(Expr::zero);
                let k = pos + neg;
                let m = Expr::int(k) * Expr::sqrt(v / (Expr::int(2) * Expr::sym("pi")));
                if self.gauss == Gauss::Exact {
                    out.mean = Some(m);
                    let coef = if k == 1 {
                        String::new()
                    } else {
                        format!("{k} ")
                    };
                    out.rules.insert(Applied::new(
                        Rule::GaussianMean(f),
                        format!("E[{name}(z)] = {coef}sqrt(v/(2π)) for z ~ N(0, v)"),
                    ));
                } else {
                    out.approx_mean = Some((
                        m,
                        "Gaussian approximation of the input (a sum of many uncorrelated terms)"
                            .into(),
                    ));
                }
            }
            MomentRule::Quadrature if gauss_input => {
                if let (Some(m), Some(v)) = (&self.mean, &var_in) {
                    out.quad = Some(Quad {
                        func: f,
                        mean: m.clone(),
                        var: v.clone(),
                        approx: self.gauss != Gauss::Exact,
                    });
                }
            }
            _ => {}
        }
        out.fill_from_support();
        if out.finite.is_some() {
            out.rules.insert(Applied::new(
                Rule::FiniteEnumerated,
                "moments of a finite distribution, enumerated",
            ));
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
