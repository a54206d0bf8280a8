//! The verdict of a claim and the method it rests on: the one vocabulary every deciding
//! engine answers in.
//! A leaf module: it depends on nothing in the crate.

/// The verdict of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Shown symbolically, or by exact rational evaluation at the stated point.
    Proved,
    /// Agrees numerically (random points, Monte Carlo) but is not proved.
    Confirmed,
    /// Shown false, with a counterexample.
    Refuted,
    /// No engine could decide it; the evidence says why.
    Undecided,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proved => "proved",
            Verdict::Confirmed => "confirmed",
            Verdict::Refuted => "refuted",
            Verdict::Undecided => "undecided",
        }
    }
}

/// How a verdict was reached: the engine or check it rests on. Printed in reports and
/// JSON by [`Method::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// A symbolic identity or certificate (normal forms, a recurrence, an invariance).
    Symbolic,
    /// Exact rational evaluation at the stated point (or the simulated sequence).
    ExactEval,
    /// Agreement, or a counterexample, at random (rational) points.
    RandomPoints,
    /// Floating-point evaluation: a sampled run of the model, or a constant in floats.
    Numeric,
    /// Exact interval bounds over the symbols' domains.
    Range,
    /// The moments engine's closed forms or bounds.
    Moments,
    /// The moments engine's second-moment program, position by position (zero padding).
    MomentsByPosition,
    /// Gauss–Hermite quadrature of a moment of a function of a Gaussian.
    Quadrature,
    /// Independent Monte Carlo trials of the model.
    MonteCarlo,
    /// The dependency structure of the program (`invariant(T, x)`).
    Dependency,
    /// Nothing decided the claim.
    None,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Symbolic => "symbolic",
            Method::ExactEval => "exact-eval",
            Method::RandomPoints => "random-points",
            Method::Numeric => "numeric",
            Method::Range => "range",
            Method::Moments => "moments",
            Method::MomentsByPosition => "moments-by-position",
            Method::Quadrature => "quadrature",
            Method::MonteCarlo => "monte-carlo",
            Method::Dependency => "dependency",
            Method::None => "none",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
