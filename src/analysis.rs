//! One analysis per file: the checked program, its environment, and everything tq
//! derives from them — the backward program (scatter and gather form), the moments
//! analysis and the scalar lowering — each computed once, the first time a stage asks.
//!
//! Claims, `tq derive`, render, plot and emit read the derived values from here
//! instead of deriving them again. [`givens`] reads a claim's givens, typed, for every
//! engine.

pub mod givens;

use crate::check::Env;
use crate::grad::{self, Backward, Gathered};
use crate::lower::{self, ScalarProgram};
use crate::moments;
use crate::sym;
use crate::syntax::ast::ItemKind;
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
    border: OnceLock<moments::position::Border>,
    scalar: OnceLock<Option<ScalarProgram>>,
    scalar_derivation: OnceLock<Option<ScalarDerivation>>,
    /// The file's budget of exact work (`sym::ExactWork`): the derived analyses below
    /// and every claim charge it, and `tq derive`, render and emit of the same report
    /// go on charging it.
    exact: sym::ExactWork,
}

/// One derived scalar quantity: its expression in the inputs and its value at the point.
#[derive(Clone, Debug)]
pub struct Quantity {
    pub name: String,
    pub expr: sym::Expr,
    pub at: Option<sym::Expr>,
}

/// A scalar program evaluated exactly: forward values, adjoints (the derived backward
/// program run on exact expressions), and the partial derivatives of the loss, each
/// simplified and valued at the file's point.
#[derive(Clone, Debug)]
pub struct ScalarDerivation {
    pub point: Vec<(String, sym::Expr)>,
    pub values: Vec<Quantity>,
    pub adjoints: Vec<Quantity>,
    pub partials: Vec<Quantity>,
    /// Quantities over [`MAX_SHOWN_NODES`], left out of the lists above (not simplified,
    /// not shown): the name and the size of the expression.
    pub omitted: Vec<(String, usize)>,
}

/// The largest expression (in nodes) a scalar derivation simplifies and shows. A chain
/// of 200 nested `exp` has adjoints of 20,000 nodes whose simplification took minutes, and
/// adjoints of 500-2,000 nodes took seconds
/// (`tests/robustness/scalar_chain_exp_200.tq`, `derive`); no problem file's quantity
/// has more than 101.
pub const MAX_SHOWN_NODES: usize = 500;

/// The most expression nodes a scalar derivation shows in total, over all its quantities;
/// the others are listed as omitted.
pub const MAX_SHOWN_TOTAL: usize = 20_000;

/// The widest number a quantity shown may hold, in bits: simplifying an expression
/// prints its candidates, and printing and reducing numbers of tens of thousands of
/// digits, value after value, took seconds (a fuzz mutant with a product of 90 factors
/// `(10^300 + 1)/10^300`).
pub const MAX_SHOWN_BITS: u64 = 4096;

/// The most bits of any number in `e`.
fn widest_number(e: &sym::Expr) -> u64 {
    match e {
        sym::Expr::Num(r) => sym::rat::bits(r),
        sym::Expr::Sym(_) => 0,
        sym::Expr::Pow(b, x) => widest_number(b).max(widest_number(x)),
        sym::Expr::Func(_, x) => widest_number(x),
        sym::Expr::Mul(v) | sym::Expr::Add(v) => v.iter().map(widest_number).max().unwrap_or(0),
    }
}

impl ScalarDerivation {
    /// The quantities left out and why, `u3 (612 nodes), ... (over the limit of 500
    /// expression nodes)`, which `tq derive` and `tq render` both print; `None` when
    /// nothing was left out.
    pub fn omitted_note(&self) -> Option<String> {
        if self.omitted.is_empty() {
            return None;
        }
        Some(format!(
            "{} (over the limit of {MAX_SHOWN_NODES} expression nodes each or {MAX_SHOWN_TOTAL} in all, or a number of more than {MAX_SHOWN_BITS} bits)",
            self.omitted
                .iter()
                .map(|(n, k)| format!("{n} ({k} nodes)"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

impl Derived {
    /// An empty cache.
    pub fn new() -> Derived {
        Derived::default()
    }

    /// The exact work used so far.
    pub fn exact_work_used(&self) -> u64 {
        self.exact.used()
    }

    /// An empty cache whose file may do `limit` units of exact work (its share of
    /// [`sym::EXACT_FILE_WORK`] when several checks share one file's budget).
    pub fn with_exact_limit(limit: u64) -> Derived {
        Derived {
            exact: sym::ExactWork::new(limit),
            ..Derived::default()
        }
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

    /// The file's counter of exact work (`sym::ExactWork`).
    pub fn exact_work(&self) -> &'a sym::ExactWork {
        &self.derived.exact
    }

    /// The tensor whose gradient the backward program starts from, if any.
    pub fn loss(&self) -> Option<&'a str> {
        self.backward().seeds.first().map(String::as_str)
    }

    /// The moments engine's analysis of the forward and backward programs.
    /// The border effect under zero padding at the sample sizes (`tq derive`'s border
    /// section, which render and the language server show too): one run, within
    /// [`moments::position::BORDER_BUDGET`].
    pub fn border(&self) -> &'a moments::position::Border {
        self.derived.border.get_or_init(|| {
            moments::position::border(
                self.program,
                self.env,
                &self.moments().recurrences,
                &crate::syntax::visit::program_loops(&self.program.items),
            )
        })
    }

    pub fn moments(&self) -> &'a moments::Analysis {
        self.derived.moments.get_or_init(|| {
            sym::with_exact_work(&self.derived.exact, || {
                moments::analyze(self.program, self.env, &self.backward().items)
            })
        })
    }

    /// The program's scalar part lowered to `sym`, when it has one.
    pub fn scalar(&self) -> Option<&'a ScalarProgram> {
        self.derived
            .scalar
            .get_or_init(|| {
                sym::with_exact_work(&self.derived.exact, || {
                    lower::scalar_program(self.program, self.backward())
                })
            })
            .as_ref()
    }

    /// The scalar program's values, adjoints and partials, simplified and valued at the
    /// file's `at` point, computed once for every output that shows them.
    pub fn scalar_derivation(&self) -> Option<&'a ScalarDerivation> {
        self.derived
            .scalar_derivation
            .get_or_init(|| {
                // Every simplification shares one budget of symbolic work (a
                // simplification past it keeps the value as written): a mutated chain
                // with two products of 50 copies of a sum expanded polynomials of degree
                // 2,750 with 25,000-bit coefficients for every later value, for minutes.
                sym::with_exact_work(&self.derived.exact, || {
                    sym::with_work_budget(sym::FILE_WORK, || self.scalar_derivation_within()).0
                })
            })
            .as_ref()
    }

    fn scalar_derivation_within(&self) -> Option<ScalarDerivation> {
        let p = self.scalar()?;
        let point = self
            .program
            .items
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::At(bs) => lower::point(bs).ok(),
                _ => None,
            })
            .unwrap_or_default();
        let omitted = std::cell::RefCell::new(Vec::new());
        // Every quantity shown is simplified, and a simplification measures its candidates
        // by printing them: the nodes shown are bounded in total too (a fuzz mutant of
        // 1,000 chained values with 1e-300 factors took 5 s in derive).
        let shown = std::cell::Cell::new(0usize);
        let q = |name: String, e: &sym::Expr| {
            let nodes = e.node_count();
            if nodes > MAX_SHOWN_NODES
                || shown.get() + nodes > MAX_SHOWN_TOTAL
                || widest_number(e) > MAX_SHOWN_BITS
            {
                omitted.borrow_mut().push((name, nodes));
                return None;
            }
            shown.set(shown.get() + nodes);
            let expr = sym::simplify(e);
            let at = (!point.is_empty()).then(|| sym::simplify(&lower::at(&expr, &point)));
            Some(Quantity { name, expr, at })
        };
        let values = p
            .values
            .iter()
            .filter_map(|(n, e)| q(n.clone(), e))
            .collect();
        let adjoints = p
            .adjoints
            .iter()
            .filter_map(|(n, e)| q(format!("{n}.grad"), e))
            .collect();
        let mut partials = Vec::new();
        if let Some(loss) = &p.loss {
            if let Some((_, u)) = p.values.iter().find(|(n, _)| n == loss) {
                for a in &p.inputs {
                    let name = format!("d({loss})/d({a})");
                    // A derivative can be quadratic in its value's size (200 nested
                    // `exp`: 201 nodes, the derivative 20,301), so the value is bounded
                    // before the derivative is built, and the derivative after.
                    if u.node_count() > MAX_SHOWN_NODES / 2 {
                        omitted.borrow_mut().push((name, u.node_count()));
                        continue;
                    }
                    partials.extend(q(name, &u.diff(a)));
                }
            }
        }
        Some(ScalarDerivation {
            point,
            values,
            adjoints,
            partials,
            omitted: omitted.into_inner(),
        })
    }
}
