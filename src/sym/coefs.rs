//! The rational coefficient of a canonical sum or product, kept in parts within the bit
//! budget (moved out of `sym/mod.rs`, session 33).

use super::{exact_work_spent, note_exact_budget, rat, MAX_BITS};
use num_rational::BigRational;
use num_traits::{One, Zero};

/// The rational coefficient a constructor collects, in parts of at most [`MAX_BITS`]
/// bits each: a product or sum that would pass the budget (by a bound known before it
/// is computed) starts a new part instead. One part in all but hostile inputs (a
/// coefficient `(1 + 10^-308)^150` has 150,000 bits, and the gcds that reduce such
/// numbers are quadratic in their length: 80 s for one scalar program). The value is
/// the product (for [`Coefs::mul`]) or sum (for [`Coefs::add`]) of the parts, always
/// exact; a number past the budget is never built, and [`super::exact_budget_hit`] says the
/// budget was reached.
pub(super) struct Coefs(pub(super) Vec<BigRational>);

impl Coefs {
    pub(super) fn new(r: BigRational) -> Coefs {
        Coefs(vec![r])
    }

    pub(super) fn is_zero(&self) -> bool {
        self.0.iter().any(|r| r.is_zero())
    }

    pub(super) fn mul(&mut self, r: BigRational) {
        if !r.is_one() {
            self.merge(r, rat::mul_within);
        }
    }

    pub(super) fn add(&mut self, r: BigRational) {
        if !r.is_zero() {
            self.merge(r, rat::add_within);
        }
    }

    /// Folds `r` into the first part it combines with (`within`: the product or the sum
    /// within the bit budget), else keeps it as a new part. Once the file's exact work is
    /// spent nothing is combined: a new part, without trying each of the others in turn.
    fn merge(
        &mut self,
        r: BigRational,
        within: fn(&BigRational, &BigRational, u64) -> Option<BigRational>,
    ) {
        if !exact_work_spent() {
            for part in self.0.iter_mut() {
                if let Some(p) = within(part, &r, MAX_BITS) {
                    *part = p;
                    return;
                }
            }
        }
        note_exact_budget();
        self.0.push(r);
    }
}
