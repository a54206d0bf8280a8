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
    /// How many checks share one file's Monte Carlo budgets (`tq variants` and
    /// `tq export`: the variants of a file); each trial setting gets this share of its
    /// budget, so K variants together do the work of one file. 0 or 1: the whole budget.
    pub monte_carlo_shares: u64,
    /// The verdict cache to read and write claims' reports from (`tq check` and
    /// `tq errata` unless `--no-cache`; none by default, so the library and the tests
    /// compute every claim).
    pub cache: Option<super::cache::VerdictCache>,
    /// Told what is being decided or run (`line 45: Var(R_{l+1}) == …`, `gradient
    /// check`), for a progress display; none by default.
    pub progress: Option<Progress>,
}

/// A hook told what a check is doing (the command line draws it on a terminal).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl Progress {
    /// Tells the hook.
    pub fn say(&self, what: &str) {
        (self.0)(what)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
