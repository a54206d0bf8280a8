//! Options that change how claims are decided (the command line sets them).

/// Options that change how claims are decided.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The seed of every random choice (random points, Monte Carlo).
    pub seed: u64,
    /// Undecided claims fail the file.
    pub strict: bool,
    /// Leave out the numeric runs (gradient checks, claims decided on a sampled run).
    /// The fuzz harness and `tq derive` use this; `tq check` always runs them.
    pub no_numeric: bool,
    /// Leave out the Monte Carlo runs of moment claims only (tests that look at other
    /// engines use this to stay fast).
    pub no_monte_carlo: bool,
    /// Leave out the gradient check only (`derive --steps` re-checks its file to decide
    /// the steps; the file's own gradient check has already run).
    pub no_gradcheck: bool,
}
