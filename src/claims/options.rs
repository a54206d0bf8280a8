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
    /// Decide no claim (the file is parsed and checked only): the base check of
    /// `tq variants` and `tq export`, which reads the program and its diagnostics, not
    /// the claims' verdicts (each variant's claims are decided in its own check).
    pub no_claims: bool,
    /// Leave out the gradient check only (`derive --steps` re-checks its file to decide
    /// the steps; the file's own gradient check has already run).
    pub no_gradcheck: bool,
    /// How many checks share one file's Monte Carlo budgets (`tq variants` and
    /// `tq export`: the variants of a file); each trial setting gets this share of its
    /// budget, so K variants together do the work of one file. 0 or 1: the whole budget.
    pub monte_carlo_shares: u64,
    /// Shared by files checked at the same time (`tq check` of several files, the
    /// variants of `tq variants` and `tq export`): a file's numeric runs wait until the
    /// values of the files already running them and its own fit in one file's budget
    /// (see [`MemoryGate`]); none by default (one file, the library, the tests).
    pub memory: Option<std::sync::Arc<MemoryGate>>,
    /// The verdict cache to read and write claims' reports from (`tq check` and
    /// `tq errata` unless `--no-cache`; none by default, so the library and the tests
    /// compute every claim).
    pub cache: Option<super::cache::VerdictCache>,
    /// The element type of the Monte Carlo trials' matrix products on the dense
    /// executor (`--precision`, docs/numeric.md "Single precision"); f64 by default.
    pub precision: crate::num::dense::Precision,
    /// Told what is being decided or run (`line 45: Var(R_{l+1}) == …`, `gradient
    /// check`), for a progress display; none by default.
    pub progress: Option<Progress>,
    /// Asked before each claim whether the check is still wanted (`tq lsp`: a newer
    /// version of the document has arrived, so this one's verdicts would be thrown
    /// away); once it answers yes, no further claim is decided and the reports end
    /// there (the caller drops them). None by default: every claim is decided.
    pub cancel: Option<Cancel>,
    /// The outcomes of the file's `includes` blocks decided once on the file itself
    /// (`tq variants`, `tq export`: see [`super::includes::Shared`]); a variant whose
    /// statements are the file's takes them instead of running its blocks again.
    pub shared_includes: Option<std::sync::Arc<super::includes::Shared>>,
    /// Decide the `includes` blocks only, leaving every other claim out of the reports
    /// ([`super::shared_includes`]).
    pub includes_only: bool,
}

/// How many checks sharing one file's budgets (`monte_carlo_shares`: the variants of
/// `tq variants` and `tq export`) each still get the whole of a file's budgets of the
/// work that is not Monte Carlo (the symbolic engines' [`crate::sym::FILE_WORK`] and
/// the gradient check's [`crate::num::gradcheck::BUDGET`]). Past it each of K checks
/// gets `FULL_WORK_SHARES / K` of them, so K variants together do at most the work of
/// this many files: `tq variants --count 100` about ten files' worth, not a hundred.
pub const FULL_WORK_SHARES: u64 = 10;

impl Options {
    /// `budget` scaled to this check's share of the work budgets (see
    /// [`FULL_WORK_SHARES`]): the whole budget for up to that many checks together, else
    /// `budget * FULL_WORK_SHARES / K`. Fixed before any check runs, so the verdicts do
    /// not depend on which variant ran first.
    pub fn work_share(&self, budget: u64) -> u64 {
        let k = self.monte_carlo_shares.max(1);
        if k <= FULL_WORK_SHARES {
            budget
        } else {
            ((budget as u128 * FULL_WORK_SHARES as u128) / k as u128) as u64
        }
    }

    /// This check's share of the file's exact work ([`crate::sym::EXACT_FILE_WORK`]):
    /// the K checks of one invocation sharing one file's budgets (`monte_carlo_shares`:
    /// the variants of `tq variants` and `tq export`) each get `budget / K`, so the
    /// variants of one run together do at most one file's exact work, whatever K is.
    /// Fixed before any check runs (a counter shared first-come by variants checked on
    /// parallel threads would make the verdicts depend on scheduling).
    pub fn exact_share(&self, budget: u64) -> u64 {
        budget / self.monte_carlo_shares.max(1)
    }

    /// The note an exact-work reason adds when the check had a share of it
    /// ([`Options::exact_share`]).
    pub fn exact_share_note(&self) -> String {
        let k = self.monte_carlo_shares.max(1);
        if k <= 1 {
            String::new()
        } else {
            format!(
                ", this check's share: one file's budget divided among the {k} checked together"
            )
        }
    }

    /// The note a budget reason adds when the check had only a share of it.
    pub fn share_note(&self) -> String {
        let k = self.monte_carlo_shares.max(1);
        if k <= FULL_WORK_SHARES {
            String::new()
        } else {
            format!(
                ", this check's share of {FULL_WORK_SHARES} files' budget divided among the {k} checked together"
            )
        }
    }
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

/// See [`Options::cancel`]: `true` once the check's results are no longer wanted.
#[derive(Clone)]
pub struct Cancel(pub std::sync::Arc<dyn Fn() -> bool + Send + Sync>);

impl Cancel {
    /// Whether the check is no longer wanted.
    pub fn cancelled(&self) -> bool {
        (self.0)()
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel")
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// One file's memory budget shared by files checked at the same time. A file enters
/// with the values it stores at its `sample` sizes (`Env::sample_values`, at most
/// `check::budget::MAX_TOTAL_ELEMENTS` after the checker) and waits while the files
/// inside and itself would hold more than [`MemoryGate::capacity`]; a file alone always
/// enters. So two variants of 1,000,000 values each (2,000,000 values, about 400 MB and
/// 1.1 GB of address space together, which aborted under a 1 GB limit) run one after
/// the other, while small files still run side by side. Waiting changes no result: a
/// file's verdicts depend only on its text and the seed.
#[derive(Debug)]
pub struct MemoryGate {
    capacity: i128,
    inside: std::sync::Mutex<i128>,
    left: std::sync::Condvar,
}

impl MemoryGate {
    pub fn new(capacity: i128) -> MemoryGate {
        MemoryGate {
            capacity,
            inside: std::sync::Mutex::new(0),
            left: std::sync::Condvar::new(),
        }
    }

    /// The gate of one file's budget (`check::budget::MAX_TOTAL_ELEMENTS` values).
    pub fn one_file() -> std::sync::Arc<MemoryGate> {
        std::sync::Arc::new(MemoryGate::new(crate::check::budget::MAX_TOTAL_ELEMENTS))
    }

    pub fn capacity(&self) -> i128 {
        self.capacity
    }

    /// Waits for room for `values` and takes it until the ticket is dropped.
    pub fn enter(&self, values: i128) -> MemoryTicket<'_> {
        let values = values.clamp(0, self.capacity);
        let mut inside = self.inside.lock().unwrap_or_else(|e| e.into_inner());
        while *inside > 0 && *inside + values > self.capacity {
            inside = self.left.wait(inside).unwrap_or_else(|e| e.into_inner());
        }
        *inside += values;
        MemoryTicket { gate: self, values }
    }

    /// The values inside now (for tests).
    pub fn inside(&self) -> i128 {
        *self.inside.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Room taken in a [`MemoryGate`], given back when dropped.
pub struct MemoryTicket<'a> {
    gate: &'a MemoryGate,
    values: i128,
}

impl Drop for MemoryTicket<'_> {
    fn drop(&mut self) {
        let mut inside = self.gate.inside.lock().unwrap_or_else(|e| e.into_inner());
        *inside -= self.values;
        self.gate.left.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    #[test]
    fn files_inside_the_gate_never_hold_more_than_its_capacity() {
        let gate = Arc::new(MemoryGate::new(100));
        let peak = Arc::new(AtomicI64::new(0));
        let threads: Vec<_> = [60, 60, 30, 100, 500, 10, 0, 70]
            .into_iter()
            .map(|v| {
                let (gate, peak) = (gate.clone(), peak.clone());
                std::thread::spawn(move || {
                    let _t = gate.enter(v);
                    peak.fetch_max(gate.inside() as i64, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // 500 is clamped to the capacity: a file alone always enters.
        assert!(peak.load(Ordering::SeqCst) <= 100);
        assert_eq!(gate.inside(), 0);
    }
}
