//! A persistent pool of worker threads for the row split of large matrix products
//! (`dense::contract`): started at the first split, one thread fewer than the cores,
//! kept for the life of the process. Before it, every split product spawned its
//! threads afresh (`std::thread::scope`): `tq bench --threads 1` created 434 threads
//! for 3 trials, each with a fresh allocator heap and packing buffers
//! (docs/performance.md, session 29).
//!
//! Only leaf work runs on the pool: a task never waits for another task, so callers on
//! several threads at once cannot deadlock (each also runs one task itself). Which rows
//! a task computes does not depend on the thread that runs it, so results are the same
//! bits as with spawned threads.

use crossbeam_channel::{unbounded, Receiver, Sender};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool's queue; `None` when no worker could be started (then tasks run inline).
fn queue() -> Option<&'static Sender<Job>> {
    static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = unbounded::<Job>();
            let workers = super::trials::cores().saturating_sub(1).max(1);
            let started = (0..workers)
                .filter(|w| {
                    let rx: Receiver<Job> = rx.clone();
                    std::thread::Builder::new()
                        .name(format!("tq-products-{w}"))
                        .spawn(move || {
                            for job in rx {
                                job();
                            }
                        })
                        .is_ok()
                })
                .count();
            (started > 0).then_some(tx)
        })
        .as_ref()
}

/// Waits, when dropped, for `left` reports of the tasks sent to the pool (so a caller
/// whose own task panics still does not return while a task borrows its data), and
/// keeps the first panic of a task.
struct Pending {
    done: Receiver<std::thread::Result<()>>,
    left: usize,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl Pending {
    fn wait(&mut self) {
        while self.left > 0 {
            // Every task sent reports exactly once (its wrapper catches a panic), and the
            // sender it holds lives until it has reported.
            match self.done.recv() {
                Ok(Err(p)) if self.panic.is_none() => self.panic = Some(p),
                Ok(_) => {}
                Err(_) => break,
            }
            self.left -= 1;
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.wait();
    }
}

/// Runs every task, the last one on the calling thread and the others on the pool's
/// threads, and returns when all of them have ended; a task's panic is resumed on the
/// caller after that. The tasks may borrow the caller's data.
pub fn run_scoped<'s>(mut tasks: Vec<Box<dyn FnOnce() + Send + 's>>) {
    let Some(own) = tasks.pop() else {
        return;
    };
    let (report, done) = unbounded::<std::thread::Result<()>>();
    let mut pending = Pending {
        done,
        left: 0,
        panic: None,
    };
    for task in tasks {
        let report = report.clone();
        let wrapped: Box<dyn FnOnce() + Send + 's> = Box::new(move || {
            let _ = report.send(catch_unwind(AssertUnwindSafe(task)));
        });
        match queue() {
            Some(q) => {
                // SAFETY: the job borrows data of lifetime 's at most. It is counted in
                // `pending` before it is sent, and this function does not return (nor
                // unwind past `pending`, whose drop waits) before the job has reported
                // on `report`, which it does as its last action; so nothing it borrows
                // ends while it can still run.
                let job: Job =
                    unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 's>, Job>(wrapped) };
                pending.left += 1;
                if let Err(e) = q.send(job) {
                    // No worker receives (cannot happen: they live as long as the
                    // process): run it here; it reports all the same.
                    (e.into_inner())();
                }
            }
            None => {
                pending.left += 1;
                wrapped();
            }
        }
    }
    drop(report);
    let own = catch_unwind(AssertUnwindSafe(own));
    pending.wait();
    if let Err(p) = own {
        std::panic::resume_unwind(p);
    }
    if let Some(p) = pending.panic.take() {
        std::panic::resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_once_and_borrows_are_released() {
        let mut rows = vec![0u64; 64];
        for round in 1..=50u64 {
            let tasks: Vec<Box<dyn FnOnce() + Send + '_>> = rows
                .chunks_mut(16)
                .enumerate()
                .map(|(k, part)| {
                    Box::new(move || {
                        for (i, r) in part.iter_mut().enumerate() {
                            *r += round * (16 * k + i) as u64;
                        }
                    }) as Box<dyn FnOnce() + Send + '_>
                })
                .collect();
            run_scoped(tasks);
        }
        let total: u64 = (1..=50).sum();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(*r, total * i as u64, "row {i}");
        }
    }

    #[test]
    fn a_task_that_panics_is_resumed_after_the_others_ended() {
        let mut hits = [0u32; 3];
        let out = catch_unwind(AssertUnwindSafe(|| {
            let [a, b, c] = &mut hits;
            run_scoped(vec![
                Box::new(move || *a += 1),
                Box::new(move || {
                    *b += 1;
                    panic!("planted");
                }),
                Box::new(move || *c += 1),
            ]);
        }));
        assert!(out.is_err(), "the planted panic reaches the caller");
        assert_eq!(hits, [1, 1, 1]);
    }
}
