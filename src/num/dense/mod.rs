//! The dense executor: runs a checked program and its derived backward program on
//! whole arrays (ndarray, f64) instead of element by element.
//!
//! The semantics are those of the element-wise [`Machine`] (docs/numeric.md), which
//! stays the reference: every statement is lowered to array operations that compute
//! the same values (up to the order of floating-point additions):
//!
//! - every tensor member (`L_{3}`, `W_{2}.grad`) is one array over a box of positions,
//!   with a mask of the elements written (an element never written reads as 0 and is
//!   not an element of the tensor, exactly as in the element-wise store); a box grows
//!   when a write falls outside it;
//! - a product of factors with summed indices (capitals, explicit sums, and the indices
//!   of a `for` list that a `+=` statement does not write) is contracted pairwise, each
//!   pair as a matrix product (permute, reshape, `dot`) or a broadcast product;
//! - a shifted or strided position (`x+dx`, `2x+1`) is a gather (reads) or a scatter
//!   (writes) that follows the boundary rule (circular wraps, zero and valid read 0 and
//!   drop writes); lookups (`E[w[t], J]`) gather by the looked-up positions;
//! - activations, powers, Iverson brackets and softmax are element-wise maps.
//!
//! A statement that cannot be lowered with the same semantics (a `=` that several
//! iterations write, a statement that reads what it writes at another position, a block
//! of several statements that read each other's elements elsewhere, a family subscript
//! that depends on an array index, ...) makes the run return
//! [`DenseError::Unsupported`] with the reason; callers then run the element-wise
//! [`Machine`] instead. Nothing is ever computed with other semantics.
//!
//! Work is counted in operations: one per multiply-add of a contraction, one per element
//! of every other array operation and of every sampled value, [`STATEMENT_COST`] per
//! statement executed ([`PLANNED_STATEMENT_COST`] where an earlier trial made its plan)
//! and [`ARRAY_OP_COST`] per array operation past the first
//! [`STATEMENT_ARRAY_OPS`] of a statement (their fixed costs);
//! [`GATHER_COST`] per element gathered or scattered
//! through shifted positions, and [`PAIR_SEARCH_COST`] per pair of factors the order search
//! of a long product looks at (charged before it starts; past [`FREE_PAIR_SEARCHES`]). An operation is about a nanosecond on the development machine. Memory is bounded like the
//! element-wise interpreter's: the arrays stored may hold at most [`MAX_ELEMENTS`] values
//! together, and no temporary array may be larger; both are checked before allocating.
//!
//! Files, by concept:
//!
//! - `storage.rs`: the members' arrays ([`Arr`]), intermediate values over named array
//!   indices, the indices in scope, and the interpreter state ([`Dense`]) with its work
//!   and memory accounting;
//! - `model.rs`: the model compiled for trials ([`DenseModel`]: pruned statements,
//!   members' boxes, sampling plan) and one seeded run;
//! - `statement.rs`: items, loops and `for` blocks, one equation lowered with the checks
//!   that refuse other semantics; the plans of statements, reads and terms' summed
//!   capitals ([`Plans`]: what an equation, a read or a term decides before it looks at
//!   a value, made by a model's first trial at each binding and read by its later
//!   trials);
//! - `eval.rs`: expressions as values over array indices (element-wise maps,
//!   broadcasting, sums distributed over `+`);
//! - `contract.rs`: products of factors contracted pairwise as matrix products (large
//!   ones split over the cores unless [`serial_products`] asks otherwise);
//! - `access.rs`: how a reference's dimensions are indexed (fixed, affine, shifted,
//!   looked up) and reads (views or gathers);
//! - `write.rs`: writes (slice assignments or scatters) into a member's box;
//! - `walk.rs`: the odometer that maps shifted, strided or looked-up positions to
//!   storage offsets under the boundary rule.
//!
//! Independent trials of a model (on every core) are run by [`super::trials`].
//!
//! [`Machine`]: super::Machine
//! [`MAX_ELEMENTS`]: super::MAX_ELEMENTS

mod access;
mod contract;
mod eval;
mod model;
mod statement;
mod storage;
mod walk;
mod write;

pub use contract::{search_cost, serial_products, F32_RANGE, FREE_PAIR_SEARCHES, PAIR_SEARCH_COST};
pub use model::{prune, DenseModel, DenseRun, Needed};
pub use statement::Plans;
pub use storage::{Arr, Bands, Data, Dense, Slices};

use super::{Bind, NumError, Store};
use crate::check::Env;
use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// Operations allowed in one dense run (about a minute of work at most).
pub const MAX_OPS: u64 = 50_000_000_000;
/// Operations counted for each statement executed (its fixed cost: name resolution,
/// index bookkeeping, small allocations; measured at 5–15 µs).
pub const STATEMENT_COST: u64 = 10_000;
/// Operations counted for each statement executed whose plan an earlier trial of the
/// model made ([`Plans`]): no analysis, one map read for the plan. Measured on a
/// 1,000-step scalar recurrence (probe38/h k21, `h[b,t] = h[b,t-1] + x[b,t]`), every
/// trial's work included: 1.1 µs a statement when every step was charged
/// [`STATEMENT_COST`] (190 trials, 0.3 s of CPU), 1.5 to 2 µs under load with this
/// charge; 2,000 keeps the budgets' time honest. A plan made for the later trials is
/// charged the difference once, in the trial that makes it ([`Dense::plan_ops`]); a
/// statement past [`statement::MAX_PLANS`] plans is analysed, and charged in full, in
/// every trial.
pub const PLANNED_STATEMENT_COST: u64 = 2_000;
/// Operations counted for each array operation (a factor read or computed, an
/// element-wise map or combination, a matrix product, an accumulation) past the first
/// [`STATEMENT_ARRAY_OPS`] of its statement, on top of its elements: its fixed cost
/// (allocation, axis alignment, bookkeeping), measured at 1.3–2 µs on small arrays. A
/// statement summing 300 small terms costs about 1,000 array operations, which the
/// statement's own fixed cost does not cover.
pub const ARRAY_OP_COST: u64 = 2_000;
/// The array operations of one statement covered by [`STATEMENT_COST`] (the fixed
/// cost of a statement was measured on statements of a few operations).
pub const STATEMENT_ARRAY_OPS: u64 = 16;
/// Operations counted per element of a gather or scatter through shifted, strided or
/// looked-up positions (index arithmetic per element).
pub const GATHER_COST: u64 = 4;

/// Operations counted per member array of a run past the first [`FREE_MEMBERS`]: its
/// fixed cost in every trial (cloned from the model's template, kept in the run's map,
/// read for the trial's statistics, dropped; six allocations and frees), measured at
/// 0.25-0.9 µs on small arrays (3,000 families of 3 members: a trial that was charged
/// 14,000 operations took 220 µs; 40,000 trials of 300 such families ran 8.8 s).
pub const MEMBER_COST: u64 = 1_000;
/// Member arrays of a run covered by its statements' fixed costs (as before this charge).
pub const FREE_MEMBERS: u64 = 64;

/// The element type of the dense executor's matrix products (`--precision`,
/// docs/numeric.md "Single precision"). Every array is stored in f64 either way; with
/// [`Precision::F32`] each matrix product whose operands lie in [`F32_RANGE`] converts
/// them to f32 once, multiplies in f32 and converts the result back (a product outside
/// that range, or whose f32 result is not finite, is computed in f64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// Every operation in f64 (the reference, and the default).
    #[default]
    F64,
    /// Matrix products in f32.
    F32,
}

impl Precision {
    /// `f64` or `f32`, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

/// Why a dense run was not made.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseError {
    /// A statement does not lower to array operations with the reference semantics;
    /// run the element-wise interpreter instead.
    Unsupported(String),
    /// The run is refused (work or memory budget); the element-wise run would be too.
    Refused(NumError),
}

impl std::fmt::Display for DenseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenseError::Unsupported(m) => write!(f, "not lowered to array operations: {m}"),
            DenseError::Refused(e) => write!(f, "{e}"),
        }
    }
}

type R<T> = Result<T, DenseError>;

fn unsup<T>(m: impl Into<String>) -> R<T> {
    Err(DenseError::Unsupported(m.into()))
}

fn refuse<T>(m: impl Into<String>) -> R<T> {
    Err(DenseError::Refused(NumError {
        too_large: true,
        message: m.into(),
    }))
}

/// Errors of the element-wise helpers while lowering: the element-wise run will report
/// them itself.
fn lower_err(e: NumError) -> DenseError {
    if e.too_large {
        DenseError::Refused(e)
    } else {
        DenseError::Unsupported(e.message)
    }
}

fn lookup(b: &Bind, name: &str) -> Option<i64> {
    b.iter().rev().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// Every reference in `e` (lookups' inner references too), borrowed: statements run once
/// per trial, and cloning each reference cost a fifth of a small trial's time.
fn refs_of<'e>(e: &'e Expr, out: &mut Vec<&'e Ref>) {
    crate::check::walk_refs(e, &mut |r| out.push(r));
}

/// A product of extents that saturates instead of overflowing (then refused as too large).
fn sprod(it: impl Iterator<Item = usize>) -> usize {
    it.fold(1usize, |a, b| a.saturating_mul(b))
}

fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * shape[k + 1];
    }
    s
}

fn bump(idx: &mut [usize], shape: &[usize]) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < shape[k] {
            return;
        }
        idx[k] = 0;
    }
}

/// Runs a model densely once (forward, then the derived backward program), with the
/// same samples as [`super::gradcheck::run_model_with`].
pub fn run_model_dense<'a>(
    program: &Program,
    env: &'a Env,
    back: &[Item],
    loss: Option<&str>,
    seed: u64,
    setup: super::gradcheck::Setup,
) -> R<DenseRun<'a>> {
    DenseModel::new(program, env, back, loss, setup, None)?.run(seed)
}

/// Which tensors a stored key belongs to, for tests and reports.
pub fn store_keys(s: &Store) -> BTreeMap<(String, bool), usize> {
    s.iter().map(|(k, v)| (k.clone(), v.len())).collect()
}
