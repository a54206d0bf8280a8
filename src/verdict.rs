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

/// Two floating-point values printed so that a reader sees them differ when they do: with
/// `decimals` fixed decimals when those already tell them apart (or the values are
/// equal), else with as many significant digits as it takes, in exponent notation
/// (`6.6666667e-2` against `6.6666670e-2`; `2.65e-261` against `0e0`). A witness whose
/// two sides printed the same number showed no failure (probe33/a a19: "left 0.066667,
/// right 0.066667"; probe33/b b16: "≈ 0.0000000000" twice).
pub fn distinct_pair(a: f64, b: f64, decimals: usize) -> (String, String) {
    let (fa, fb) = (format!("{a:.decimals$}"), format!("{b:.decimals$}"));
    if fa != fb || a == b || !a.is_finite() || !b.is_finite() {
        return (fa, fb);
    }
    for p in 1..=17 {
        let (ea, eb) = (format!("{a:.p$e}"), format!("{b:.p$e}"));
        if ea != eb {
            return (ea, eb);
        }
    }
    (format!("{a:e}"), format!("{b:e}"))
}

#[cfg(test)]
mod distinct_tests {
    use super::distinct_pair;

    #[test]
    fn values_that_differ_print_differently() {
        let cases = [
            (1.0 / 15.0, 0.06666667),
            (2.65e-261, 0.0),
            (1e-12, 2e-12),
            (1.0, 1.0 + 1e-15),
            (-3.5e300, -3.5000001e300),
            (123456.789, 123456.78900001),
        ];
        for (a, b) in cases {
            let (x, y) = distinct_pair(a, b, 6);
            assert_ne!(x, y, "{a} {b}");
            // Read back, each is closer to its own value than to the other.
            let (xa, yb): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((xa - a).abs() < (xa - b).abs() || a == b, "{x} {a} {b}");
            assert!((yb - b).abs() < (yb - a).abs() || a == b, "{y} {a} {b}");
        }
        assert_eq!(
            distinct_pair(0.5, 0.25, 6),
            ("0.500000".into(), "0.250000".into())
        );
        assert_eq!(distinct_pair(2.0, 2.0, 3), ("2.000".into(), "2.000".into()));
    }
}
