//! One analysis per file: the checked program, its environment, and everything tq
//! derives from them — the backward program (scatter and gather form), the moments
//! analysis and the scalar lowering — each computed once, the first time a stage asks.
//!
//! Claims, `tq derive`, render, plot and emit read the derived values from here
//! instead of deriving them again.

use crate::check::Env;
use crate::grad::{self, Backward, Gathered};
use crate::lower::{self, ScalarProgram};
use crate::moments;
use crate::syntax::ast::{Item, Program};
use std::sync::OnceLock;

/// The derived values of one file, filled lazily. It holds no program of its own: an
/// [`Analysis`] pairs it with the program and environment it belongs to, so a cache is
/// never read against another program.
#[derive(Debug, Default)]
pub struct Derived {
    backward: OnceLock<Backward>,
    gather: OnceLock<Vec<Gathered>>,
    moments: OnceLock<moments::Analysis>,
    scalar: OnceLock<Option<ScalarProgram>>,
}

impl Derived {
    /// An empty cache.
    pub fn new() -> Derived {
        Derived::default()
    }
}

/// A checked program, its environment and its derived values.
#[derive(Clone, Copy, Debug)]
pub struct Analysis<'a> {
    pub program: &'a Program,
    pub env: &'a Env,
    derived: &'a Derived,
}

impl<'a> Analysis<'a> {
    /// The analysis of `program` (checked into `env`), caching into `derived`, which
    /// must be fresh or have been used with this same program and environment only.
    pub fn new(program: &'a Program, env: &'a Env, derived: &'a Derived) -> Analysis<'a> {
        Analysis {
            program,
            env,
            derived,
        }
    }

    /// The derived backward program in scatter form (reverse mode, docs/language.md).
    pub fn backward(&self) -> &'a Backward {
        self.derived
            .backward
            .get_or_init(|| grad::backward(self.program, self.env))
    }

    /// The backward program in gather form, statement by statement with its notes.
    pub fn gather(&self) -> &'a [Gathered] {
        self.derived
            .gather
            .get_or_init(|| grad::gather_form(&self.backward().items, self.env))
    }

    /// The gather-form statements alone.
    pub fn gather_items(&self) -> Vec<Item> {
        self.gather().iter().map(|g| g.item.clone()).collect()
    }

    /// The tensor whose gradient the backward program starts from, if any.
    pub fn loss(&self) -> Option<&'a str> {
        self.backward().seeds.first().map(String::as_str)
    }

    /// The moments engine's analysis of the forward and backward programs.
    pub fn moments(&self) -> &'a moments::Analysis {
        self.derived
            .moments
            .get_or_init(|| moments::analyze(self.program, self.env, &self.backward().items))
    }

    /// The program's scalar part lowered to `sym`, when it has one.
    pub fn scalar(&self) -> Option<&'a ScalarProgram> {
        self.derived
            .scalar
            .get_or_init(|| lower::scalar_program(self.program, self.backward()))
            .as_ref()
    }
}
