//! Threads: independent trials run on several cores ([`parallel_trials`]), and the
//! per-thread switch that keeps a trial's matrix products on its own thread when every
//! core already runs a trial.

thread_local! {
    /// Set on threads that already run one trial each (every core busy): their matrix
    /// products stay on the calling thread instead of splitting their rows.
    pub(super) static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f(k)` for every `k` in `ks`, on `workers` threads (worker `w` takes every
/// `workers`-th trial), the results in the order of `ks`: independent trials, each seeded
/// from its own number, so the results do not depend on the number of workers. With
/// more than one worker, each worker's matrix products stay on its thread.
pub fn parallel_trials<T: Send>(
    ks: std::ops::Range<usize>,
    workers: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let n = ks.len();
    let workers = workers.clamp(1, n.max(1));
    if workers == 1 {
        return ks.map(f).collect();
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let f = &f;
        let start = ks.start;
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    serial_products(|| {
                        (w..n)
                            .step_by(workers)
                            .map(|i| (i, f(start + i)))
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(rs) => {
                    for (i, r) in rs {
                        slots[i] = Some(r);
                    }
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// The number of cores (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// Runs `f` with this thread's matrix products kept on this thread (for callers that
/// run independent trials on every core already).
pub fn serial_products<T>(f: impl FnOnce() -> T) -> T {
    let old = SERIAL.with(|c| c.replace(true));
    let out = f();
    SERIAL.with(|c| c.set(old));
    out
}
