//! The typed vocabulary of the moments engine: the rules it applies and the
//! approximations it makes, each recorded with its text for the reader. `tq derive
//! --steps` names derivation rules from the rules; the claim engines read the
//! approximations.

use crate::sym::Func;

/// How the cross moment `E[x y]` of two terms is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cross {
    /// Each term is linear in a zero-mean leaf the other does not read: `E[x y] = 0`.
    UncorrelatedWeights,
    /// Independent terms: `E[x y] = E[x] E[y]`.
    Independent,
}

impl Cross {
    pub fn text(self) -> &'static str {
        match self {
            Cross::UncorrelatedWeights => "zero-mean weights: the terms are uncorrelated",
            Cross::Independent => "independent terms",
        }
    }
}

/// A rule of the moments engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `Var(x + y)` from the variances and the cross moment.
    SumOfTwo(Cross),
    /// `Var` of a sum over summed indices with a distinct zero-mean weight in each term.
    SumUncorrelatedWeights,
    /// `Var` of a sum of iid elements.
    SumIid,
    /// `E` of a sum over summed indices by linearity (the summands' correlations, and so
    /// the sum's variance, unknown).
    MeanLinear,
    /// The moments of a product of independent factors.
    ProductIndependent,
    /// `E[x y] = 0` for dependent factors when one is linear in a zero-mean leaf the
    /// other does not read (its second moment unknown).
    ProductZeroMeanFactor,
    /// A positively homogeneous function (relu, abs) of a symmetric input keeps a share
    /// of the second moment.
    SymmetricShare(Func),
    /// `f(−y) = 2c − f(y)`: mean `c` (numerator, denominator) for a symmetric input.
    ComplementMean(Func, i64, i64),
    /// An odd function: mean 0 for a symmetric input.
    OddMean(Func),
    /// `E[f(z)]` in closed form for `z ~ N(0, v)`.
    GaussianMean(Func),
    /// The raw moments `E[xⁿ]` of an exactly Gaussian `x` (integer powers).
    GaussianPower,
    /// The raw moments `E[xᵏ]` of a declared `uniform(lo, hi)` (integer powers).
    UniformPower,
    /// An odd power of a symmetric input has mean 0.
    OddPowerMean,
    /// The moments of a finite distribution, enumerated.
    FiniteEnumerated,
    /// The variance of a constant is 0 (a bound).
    Constant,
    /// A function with values in `[a, b]` has variance at most `((b − a)/2)²`
    /// (Popoviciu's inequality; a bound).
    Popoviciu(Func),
    /// An L-Lipschitz function of `y` has variance at most `L² Var(y)` (a bound).
    Lipschitz(Func),
    /// `Cov` of two terms.
    Cov(Cross),
    /// `Cov` of two members written in one iteration of a loop.
    CovWithinIteration(Cross),
    /// A term written k times (with its signs) is k times one value: `x + x` is `2x`.
    RepeatedTerm,
    /// A factor written n times is one value's n-th power: `x x` is `x^2`.
    RepeatedFactor,
    /// `Cov` of linear combinations of declared tensors, by bilinearity.
    CovBilinear,
}

impl Rule {
    /// Whether the rule is the variance of a sum (of two terms, or over summed indices).
    pub fn is_sum(self) -> bool {
        matches!(
            self,
            Rule::SumOfTwo(_) | Rule::SumUncorrelatedWeights | Rule::SumIid
        )
    }

    /// Whether the rule rests on distinct zero-mean weights making terms uncorrelated
    /// (a sum over summed indices, of two terms, or a covariance of two terms).
    pub fn by_uncorrelated_weights(self) -> bool {
        matches!(
            self,
            Rule::SumUncorrelatedWeights
                | Rule::SumOfTwo(Cross::UncorrelatedWeights)
                | Rule::Cov(Cross::UncorrelatedWeights)
                | Rule::CovWithinIteration(Cross::UncorrelatedWeights)
        )
    }
}

/// A rule as applied: what it says here (the text the reader sees) and the rule. Sets
/// of applied rules are ordered by their text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Applied {
    pub text: String,
    pub rule: Rule,
}

impl Applied {
    pub fn new(rule: Rule, text: impl Into<String>) -> Applied {
        Applied {
            text: text.into(),
            rule,
        }
    }
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An approximation a moment rests on (it never proves an equality).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Approximation {
    /// The gradients taken independent of the forward values they multiply.
    GradientIndependence,
    /// Zero padding: the moment holds away from the border only.
    Border,
    /// Circular padding: a window's reads are distinct elements only where it fits in
    /// the extent it wraps around ([`super::Analysis::wraps`]).
    Wrap,
    /// Zero padding, a sum over the whole extent of a padded dimension read at a shift by
    /// the element's own index (`W.grad[dx] = sum_x y.grad[x] h[x+dx]`, a correlation at
    /// lag k `u[X] v[X+k]`): every element with a non-zero shift sums over the border at
    /// every size, so the value "away from the border" is that of the shift 0 only, no
    /// generic element's (probe38/p a02). Always beside [`Approximation::Border`].
    ShiftedSum,
}

impl Approximation {
    pub fn text(self) -> &'static str {
        match self {
            Approximation::GradientIndependence => "the gradients are taken independent of the forward values they are multiplied by (the usual assumption of Glorot & Bengio)",
            Approximation::Border => "zero padding: holds away from the border",
            Approximation::Wrap => "circular padding: holds where every window fits in the extent it wraps around (its reads distinct)",
            Approximation::ShiftedSum => "zero padding: a sum over the whole padded extent read at a shift by the element's own index holds at the shift 0 only (every other element sums over the border at every size)",
        }
    }
}
