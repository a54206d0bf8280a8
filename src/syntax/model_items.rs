//! perf41 (issues #15/#16): the model items of the program whose claims are being
//! decided, found once per file.
//!
//! The engines that decide one claim read the model (its declarations, equations and
//! loops) from `program.items`, which also holds every claim of the file: each claim
//! re-scanned every other claim, and `tq check` of N claims took time in N².
//! [`with_model_items`] lists, once, the top-level items that are not claims, for the
//! time its closure runs; [`model_items`] of that same program then walks only them.
//! Any other program (a copy with a claim's point put in, a variant) is walked whole.
//! Only walks that skip top-level claims (and do not look inside them) may use it.

use super::ast::{Item, ItemKind, Program};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

thread_local! {
    /// The programs in scope (their addresses) and the indices of their non-claim items,
    /// innermost last.
    static SCOPE: RefCell<Vec<(usize, Rc<Vec<usize>>)>> = const { RefCell::new(Vec::new()) };
    /// Items handed out by [`model_items`], for tests ([`items_walked`]).
    static WALKED: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` with the model items of `program` listed once. The program must not change
/// while `f` runs (it is borrowed for it).
pub fn with_model_items<R>(program: &Program, f: impl FnOnce() -> R) -> R {
    let _listed = listed(program);
    f()
}

/// The model items of `program` listed once, for as long as the guard lives (perf42: a
/// second program in scope beside the file's, such as the copy without `at` lines that
/// the sampled runs and the moments engine read). The program is borrowed for as long as
/// the guard lives, so no other program can take its address meanwhile.
pub fn listed(program: &Program) -> Listed<'_> {
    let indices: Vec<usize> = program
        .items
        .iter()
        .enumerate()
        .filter(|(_, it)| !matches!(it.kind, ItemKind::Claim(_)))
        .map(|(i, _)| i)
        .collect();
    let key = program as *const Program as usize;
    SCOPE.with(|s| s.borrow_mut().push((key, Rc::new(indices))));
    Listed {
        key,
        _program: std::marker::PhantomData,
    }
}

/// The guard of [`listed`]: takes its program out of scope when dropped.
pub struct Listed<'p> {
    key: usize,
    _program: std::marker::PhantomData<&'p Program>,
}

impl Drop for Listed<'_> {
    fn drop(&mut self) {
        SCOPE.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(k) = s.iter().rposition(|(k, _)| *k == self.key) {
                s.remove(k);
            }
        });
    }
}

/// The top-level items of `program` that a walk skipping claims must see: within
/// [`with_model_items`] (or [`listed`]) of this program, its non-claim items only;
/// otherwise all.
pub fn model_items(program: &Program) -> impl Iterator<Item = &Item> + '_ {
    let key = program as *const Program as usize;
    let listed = SCOPE.with(|s| {
        s.borrow()
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, ix)| ix.clone())
    });
    let n = listed.as_ref().map_or(program.items.len(), |ix| ix.len());
    WALKED.with(|w| w.set(w.get() + n as u64));
    let (all, some) = match listed {
        Some(ix) => (
            None,
            Some((0..ix.len()).map(move |k| &program.items[ix[k]])),
        ),
        None => (Some(program.items.iter()), None),
    };
    all.into_iter().flatten().chain(some.into_iter().flatten())
}

/// How many items [`model_items`] has handed out on this thread (a test reads it: the
/// count grows linearly in the number of claims).
pub fn items_walked() -> u64 {
    WALKED.with(|w| w.get())
}
