//! The verdict of a claim: the one vocabulary every deciding engine answers in.
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
