//! The interior program's runs made for one file's claims (`moments::position::
//! interior_split`: how many elements of a tensor are away from the border), under one
//! file budget and a memo. Every moment claim under zero padding ran the interior
//! program once per binding and moment, charged to nothing: a derivation of 464 copies
//! of one step ran it 464 times (18 s of `tq check`, session 34's fuzz finding). The runs
//! of one file now share [`FILE_INTERIOR_BUDGET`] element evaluations; a run already made
//! (the same program, tensor, binding, givens and boundary rule) is read from the memo
//! and costs nothing; past the budget no run starts and the caller gets the reason, so a
//! claim that needed the split is `undecided` with it.
//!
//! The scope is the thread's ([`with_interior_runs`], set by `claims::decide_all`);
//! outside one (a test that calls Monte Carlo directly) each run has its own
//! [`crate::moments::position::BUDGET`] and nothing is remembered.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::check::Env;
use crate::num::{Bind, Machine, NumError};
use crate::sym::Expr;
use crate::syntax::ast;

/// Element evaluations all the interior runs of one file's claims may spend together:
/// five runs at the budget of one ([`crate::moments::position::BUDGET`]; about 0.1 µs
/// each, 2 s in all at most).
pub const FILE_INTERIOR_BUDGET: u64 = 5 * crate::moments::position::BUDGET;

type Split = Result<Option<(usize, usize)>, String>;

#[derive(Default)]
struct Runs {
    memo: HashMap<String, Split>,
    spent: u64,
}

thread_local! {
    static RUNS: RefCell<Option<Runs>> = const { RefCell::new(None) };
}

/// Runs `f` with a fresh file budget and memo of interior runs on this thread (scopes
/// nest: the inner one replaces the outer for its duration).
pub fn with_interior_runs<R>(f: impl FnOnce() -> R) -> R {
    let outer = RUNS.with(|r| r.replace(Some(Runs::default())));
    let out = f();
    RUNS.with(|r| r.replace(outer));
    out
}

/// Why a claim that needed an interior run past the file's budget is not decided.
pub fn spent_reason() -> String {
    format!(
        "the interior runs of this file's claims (which elements are away from the border) have spent their budget of {FILE_INTERIOR_BUDGET} element evaluations (claims::montecarlo::interior::FILE_INTERIOR_BUDGET); use smaller sizes on the `sample` line or fewer claims on distinct tensors"
    )
}

/// Where the budget ran out: the split is not known.
#[derive(Debug)]
pub struct Spent;

/// How many elements of `target` (at `bind`) are away from the border and how many are
/// not, at the sizes `sets` and `boundary` set (`moments::position::interior_split`),
/// charged to the file's budget; `memo`: the program lives for the whole scope (the
/// caller's file-wide program), so the result may be kept and read again.
pub fn split(
    program: &ast::Program,
    env: &Env,
    target: &ast::Ref,
    bind: &Bind,
    sets: &[(String, Expr)],
    boundary: Option<ast::Boundary>,
    memo: bool,
) -> Result<Split, Spent> {
    let setup = |m: &mut Machine| -> Result<(), NumError> {
        super::apply_givens(m, program, env, sets, boundary)
    };
    let key = memo.then(|| {
        format!(
            "{:p} {} {:?} {:?} {:?} {:?}",
            program,
            crate::syntax::printer::print_ref(target),
            target.grad,
            bind,
            sets,
            boundary
        )
    });
    let scoped = RUNS.with(|r| {
        let r = r.borrow();
        let runs = r.as_ref()?;
        Some(
            key.as_ref()
                .and_then(|k| runs.memo.get(k).cloned())
                .ok_or(FILE_INTERIOR_BUDGET.saturating_sub(runs.spent)),
        )
    });
    let left = match scoped {
        None => {
            return Ok(crate::moments::position::interior_split(
                program, env, target, bind, &setup,
            ))
        }
        Some(Ok(known)) => return Ok(known),
        Some(Err(left)) => left,
    };
    if left == 0 {
        return Err(Spent);
    }
    let max = left.min(crate::moments::position::BUDGET);
    let (split, steps) =
        crate::moments::position::interior_split_within(program, env, target, bind, &setup, max);
    // Stopped by what the file had left, not by the run's own budget: not known.
    let stopped = split.is_err() && steps >= max && max < crate::moments::position::BUDGET;
    RUNS.with(|r| {
        if let Some(runs) = r.borrow_mut().as_mut() {
            runs.spent = runs.spent.saturating_add(steps.max(1));
            if let (Some(k), false) = (key, stopped) {
                runs.memo.insert(k, split.clone());
            }
        }
    });
    if stopped {
        return Err(Spent);
    }
    Ok(split)
}
