//! One file's budget of exact work ([`ExactWork`]), shared by every exact engine.
//!
//! The bit budget ([`super::MAX_BITS`]) bounds the size of one exact number, and the
//! expansion budgets ([`super::CLAIM_WORK`], [`super::FILE_WORK`]) bound multiplying
//! out; nothing bounded how many exact operations a file could ask for. A flood of
//! claims each valuing `(1 + 1e-308)^60` exactly (2,547 copies: 170 s), 2,000 claims
//! each refuted at random points (5-7 s), or the moments engine asked once per claim
//! (its own budget is per query) each stayed under every budget.
//!
//! One counter per file now: every exact sum and product of rationals
//! ([`super::rat::add_within`], [`super::rat::mul_within`], so the constructors'
//! coefficients and [`super::eval_exact`]), every exact power ([`super::rat_pow`]),
//! every node [`super::eval_exact`] visits and every expression node the moments engine
//! reads or builds is charged to it **before** it is done. The cost of a rational
//! operation is `1 + w_a w_b` for operands of `w_a` and `w_b` 64-bit words (numerator and
//! denominator together): the gcds that reduce the result are quadratic in the length of
//! the operands, linear when one is small. Once the counter is spent every further
//! charge is refused: the constructors keep their coefficients exactly in parts (as past
//! the bit budget), an exact evaluation fails with [`super::EvalError::TooLarge`], the
//! moments engine stops deriving, and the claims engine leaves every later claim
//! `undecided`, naming this budget, without starting its exact engines.
//!
//! The counter is installed on a thread for a scope ([`with_exact_work`]); outside any
//! scope nothing is counted. A file's checker installs its counter
//! (`analysis::Derived::exact_work`) around the claims and the derived analyses, so
//! `tq derive`, `render` and `emit` of the same file share it too.

use num_rational::BigRational;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The exact work one file may do, in units of [`rat_cost`] (about 2-4 ns each on the
/// project's machine: a unit is one product of two 64-bit words in a gcd or a
/// multiplication). The largest use among `problems/` and `tests/cases/` is far below it
/// (docs/fuzzing.md); a file past it is a hostile one.
pub const EXACT_FILE_WORK: u64 = 400_000_000;

/// The exact work one claim may do (within what its file has left): a claim past it is
/// undecided with the reason, and the claims after it still have the rest of the file's
/// budget.
pub const EXACT_CLAIM_WORK: u64 = 100_000_000;

/// One file's counter of exact work (cloning shares it).
#[derive(Clone, Debug)]
pub struct ExactWork(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    limit: u64,
    used: AtomicU64,
    spent: AtomicBool,
}

impl ExactWork {
    /// A counter of `limit` units.
    pub fn new(limit: u64) -> ExactWork {
        ExactWork(Arc::new(Inner {
            limit,
            used: AtomicU64::new(0),
            spent: AtomicBool::new(false),
        }))
    }

    /// The budget of this counter.
    pub fn limit(&self) -> u64 {
        self.0.limit
    }

    /// Units charged so far.
    pub fn used(&self) -> u64 {
        self.0.used.load(Ordering::Relaxed)
    }

    /// Units left.
    pub fn left(&self) -> u64 {
        self.0.limit.saturating_sub(self.used())
    }

    /// Adds `units` done under another counter (a claim's own, [`EXACT_CLAIM_WORK`]) to
    /// this one, whatever is left: spent when they pass the limit.
    pub fn absorb(&self, units: u64) {
        let used = self.0.used.fetch_add(units, Ordering::Relaxed);
        if used.saturating_add(units) > self.0.limit {
            self.0.spent.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a charge was refused (the budget is spent).
    pub fn spent(&self) -> bool {
        self.0.spent.load(Ordering::Relaxed)
    }

    /// Charges `cost` units if they fit; otherwise refuses, marks the counter spent and
    /// charges nothing.
    fn charge(&self, cost: u64) -> bool {
        if self.spent() {
            return false;
        }
        let mut used = self.0.used.load(Ordering::Relaxed);
        loop {
            let next = used.saturating_add(cost);
            if next > self.0.limit {
                self.0.spent.store(true, Ordering::Relaxed);
                return false;
            }
            match self.0.used.compare_exchange_weak(
                used,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// The reason a claim or a quantity was left undecided once this counter is spent.
    pub fn reason(&self) -> String {
        format!(
            "the exact work exceeded its budget of {} units (sym::EXACT_FILE_WORK for a file, sym::EXACT_CLAIM_WORK for a claim) and was refused",
            self.limit()
        )
    }
}

impl Default for ExactWork {
    fn default() -> ExactWork {
        ExactWork::new(EXACT_FILE_WORK)
    }
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<ExactWork>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with `work` as this thread's counter of exact work (scopes nest: the inner
/// one replaces the outer for its duration).
pub fn with_exact_work<R>(work: &ExactWork, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ExactWork>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = outer);
        }
    }
    let outer = CURRENT.with(|c| c.borrow_mut().replace(work.clone()));
    let _restore = Restore(outer);
    f()
}

/// The counter of the current scope, if any.
pub fn current_exact_work() -> Option<ExactWork> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Charges `cost` units to the current scope's counter: `false` (nothing charged, the
/// work must not be done) once it is spent; `true` outside any scope.
pub fn charge_exact(cost: u64) -> bool {
    CURRENT.with(|c| match &*c.borrow() {
        Some(w) => w.charge(cost),
        None => true,
    })
}

/// The units one term or factor merged by a canonical constructor (`Expr::add`,
/// `Expr::mul`) costs: sorting, comparing, cloning and dropping it take about as long as
/// this many word products.
pub const ITEM_UNITS: u64 = 50;

/// Counts the `n` items a constructor is about to merge. A constructor cannot refuse
/// (its result is always exact); past the budget the counter is marked spent, so the
/// exact arithmetic after it is refused and the next claim does not start.
pub fn count_exact_items(n: usize) {
    let units = (n as u64).saturating_add(1).saturating_mul(ITEM_UNITS);
    CURRENT.with(|c| {
        if let Some(w) = &*c.borrow() {
            w.charge(units);
        }
    });
}

/// Whether the current scope's counter is spent (`false` outside any scope).
pub fn exact_work_spent() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|w| w.spent()))
}

/// The 64-bit words of a rational (numerator and denominator), at least 1.
pub fn words(r: &BigRational) -> u64 {
    (super::rat::bits(r).div_ceil(64)).max(1)
}

/// The units of a gcd of two numbers of `w` words each, per `w²`. `num_integer`'s gcd
/// of big integers is Stein's binary algorithm: each step removes at least one bit and
/// shifts or subtracts the whole operands, 64 w steps of w words, about 60 ns per w² on
/// the project's machine (measured, docs/fuzzing.md session 27), where a unit is 2-4 ns.
/// Products of words alone (`w_a w_b`) priced a gcd of two 32,000-bit numbers 15 times
/// too low: a sum of 759 coefficients of 65,000 bits spent the file's whole budget in
/// 2.2 s of CPU instead of about 1 s, and 40 claims over 200-digit products 1.8 s.
pub const GCD_UNITS: u64 = 16;

/// The cost of one exact sum or product of `a` and `b` with its reducing gcds: the
/// products of their words, and the gcds, which run on numbers of the smaller operand's
/// length once a Euclid step has brought the larger one down ([`super::rat::gcd`]).
/// Two integers are added or multiplied without a gcd.
pub fn rat_cost(a: &BigRational, b: &BigRational) -> u64 {
    let (wa, wb) = (words(a), words(b));
    let products = 1u64.saturating_add(wa.saturating_mul(wb));
    if a.is_integer() && b.is_integer() {
        return products;
    }
    products.saturating_add(gcd_units(wa.min(wb)))
}

/// The units of a gcd whose smaller operand has `w` words ([`GCD_UNITS`] per `w²`).
fn gcd_units(w: u64) -> u64 {
    GCD_UNITS.saturating_mul(w.saturating_mul(w))
}

/// The cost of the gcd (or lcm) of two integers, priced like the gcd of [`rat_cost`].
pub fn gcd_cost(a: &num_bigint::BigInt, b: &num_bigint::BigInt) -> u64 {
    let words = |n: &num_bigint::BigInt| n.bits().div_ceil(64).max(1);
    1u64.saturating_add(gcd_units(words(a).min(words(b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_counted_before_and_refused_past_the_limit() {
        let w = ExactWork::new(10);
        with_exact_work(&w, || {
            assert!(charge_exact(4));
            assert!(charge_exact(6));
            assert!(!exact_work_spent());
            // Past the limit: refused, nothing charged, the counter spent.
            assert!(!charge_exact(1));
            assert!(exact_work_spent());
            assert!(!charge_exact(0));
        });
        assert_eq!(w.used(), 10);
        // Outside a scope nothing is counted.
        assert!(charge_exact(u64::MAX));
        assert!(!exact_work_spent());
    }

    #[test]
    fn scopes_nest_and_restore() {
        let (outer, inner) = (ExactWork::new(100), ExactWork::new(1));
        with_exact_work(&outer, || {
            with_exact_work(&inner, || assert!(!charge_exact(2)));
            assert!(charge_exact(50));
            assert!(!exact_work_spent());
        });
        assert!(inner.spent() && !outer.spent());
        assert_eq!(outer.used(), 50);
    }

    #[test]
    fn clones_share_one_counter() {
        let w = ExactWork::new(5);
        let v = w.clone();
        with_exact_work(&v, || assert!(charge_exact(5)));
        with_exact_work(&w, || assert!(!charge_exact(1)));
        assert!(v.spent());
    }

    #[test]
    fn exact_arithmetic_is_refused_once_spent() {
        let a = BigRational::new(3.into(), 7.into());
        let w = ExactWork::new(2 * rat_cost(&a, &a));
        with_exact_work(&w, || {
            assert!(super::super::rat::mul_within(&a, &a, 1000).is_some());
            assert!(super::super::rat::add_within(&a, &a, 1000).is_some());
            // A third operation does not fit: refused before it is done.
            assert!(super::super::rat::mul_within(&a, &a, 1000).is_none());
            let at = std::collections::BTreeMap::new();
            let e = super::super::Expr::Num(a.clone());
            assert_eq!(
                super::super::eval_exact(&e, &at),
                Err(super::super::EvalError::TooLarge)
            );
        });
    }
}
