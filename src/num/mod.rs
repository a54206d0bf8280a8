//! The numeric interpreter: runs a checked program (and its derived backward program)
//! on f64 values, with the sizes and symbols of the file's `sample` line and the
//! points of its `at` line.
//!
//! Storage is by element: every tensor member (`L_3`, `W^{h,R}`, `h`) maps index
//! tuples to values, so families over layers, time and scales, fixed start slices
//! (`h[B, 0, J]`), strided and shifted writes and lookups need no shape inference.
//! This is the reference semantics used by gradient checks; the dense executor
//! ([`dense`]) runs the same programs on whole arrays for the Monte Carlo engine and is
//! tested against it.
//!
//! Semantics (documented in docs/numeric.md):
//! - A capital index in a term (a maximal product, not crossing `+`/`-`, not entering
//!   function arguments) is summed over the range of its lower-case index.
//! - A shifted read (`x+dx`, `s*x+dx`) outside `0..size` on a size dimension follows
//!   the boundary rule: circular wraps, zero and valid read 0. A shifted write there
//!   wraps (circular) or is dropped.
//! - An element never written reads as 0 (gradients are accumulators that start at 0;
//!   a gather-form read one step past the end of a loop is 0).
//! - Work and memory are bounded: a run is refused when it would exceed
//!   [`MAX_STEPS`] element evaluations or [`MAX_ELEMENTS`] stored values.

mod compiled;
pub mod dense;
pub mod gradcheck;
mod hash;
mod leaves;
mod pool;
mod run;
pub(crate) use run::taint_key;
pub(crate) use run::RunItems;
pub mod seed;
pub mod sig;
pub mod trials;

use crate::check::Env;
use crate::syntax::ast::*;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Whether `x op y` holds (`~=` within a relative 1e-9): the interpreter's and the dense
/// executor's reading of a relation.
pub fn holds(op: RelOp, x: f64, y: f64) -> bool {
    match op {
        RelOp::Eq => x == y,
        RelOp::Le => x <= y,
        RelOp::Ge => x >= y,
        RelOp::Lt => x < y,
        RelOp::Gt => x > y,
        RelOp::Approx => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
    }
}

/// The values a loop's variable takes, in order: `lo..=hi` (bounds rounded), reversed for
/// a `reversed` loop.
pub fn loop_values(lo: f64, hi: f64, reverse: bool) -> Vec<i64> {
    let (lo, hi) = (lo.round() as i64, hi.round() as i64);
    if reverse {
        (lo..=hi).rev().collect()
    } else {
        (lo..=hi).collect()
    }
}

/// Element evaluations allowed in one run.
pub const MAX_STEPS: u64 = 200_000_000;
/// Stored values allowed in one run (the checker's budget of the file,
/// `check::budget::MAX_TOTAL_ELEMENTS`, is smaller; the dense engine's arrays of the
/// benchmark hold more).
pub const MAX_ELEMENTS: usize = 20_000_000;

/// Why a numeric run could not be made.
#[derive(Clone, Debug, PartialEq)]
pub struct NumError {
    pub message: String,
    /// The run was refused for its size (elements, evaluations): smaller `sample` sizes
    /// would let it run. Other errors say the run cannot be made at all.
    pub too_large: bool,
}

impl std::fmt::Display for NumError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, NumError> {
    Err(NumError {
        too_large: false,
        message: m.into(),
    })
}

/// The refusal of a run past its budget of element evaluations.
fn steps_exceeded(max_steps: u64) -> NumError {
    NumError {
        too_large: true,
        message: format!(
            "the numeric run needs more than {max_steps} element evaluations; use smaller sizes on the `sample` line"
        ),
    }
}

/// The refusal of a run that would store more than `max` values (its
/// `Machine::max_elements`, at most [`MAX_ELEMENTS`]).
fn too_many_elements(max: usize) -> NumError {
    NumError {
        too_large: true,
        message: format!(
            "the numeric run would store more than {max} values; use smaller sizes on the `sample` line"
        ),
    }
}

/// The kink fingerprint after a kinked function's argument `x` fell on one side of the
/// kink `k` (or on it): [`Machine::kink_sides`].
#[inline]
fn kink_side(sides: u64, x: f64, k: i64) -> u64 {
    let side = if x < k as f64 {
        1
    } else if x > k as f64 {
        2
    } else {
        3
    };
    (sides ^ side).wrapping_mul(0x0000_0100_0000_01b3)
}

/// A run refused for its size: the message says which limit and asks for smaller sizes.
fn too_large<T>(m: impl Into<String>) -> Result<T, NumError> {
    Err(NumError {
        too_large: true,
        message: m.into(),
    })
}

pub use hash::{FastHasher, FastMap, MemberKey};
pub use leaves::{statement_reads, tensor_reads, DeclMember};

/// One tensor member's values, or its gradient's.
pub type Store = FastMap<(String, bool), FastMap<Vec<i64>, f64>>;

/// The interpreter state: constants (sizes, symbols) and stored values.
#[derive(Clone)]
pub struct Machine<'a> {
    pub env: &'a Env,
    pub consts: BTreeMap<String, f64>,
    pub vals: Store,
    pub boundary: Option<Boundary>,
    /// Sample distributions given only by their moments (`moments(m, s)`: mean m,
    /// second moment s) or symmetry (`symmetric(v)`: variance v) as normals with the
    /// same mean and variance. Gradient checks use this (a derivative does not depend
    /// on the distribution); Monte Carlo of moment claims must not.
    pub stand_in: bool,
    /// Whether a stand-in distribution was actually sampled.
    pub stood_in: bool,
    /// Draw an input declared without a distribution (a fixed but arbitrary value) from
    /// a standard normal. For runs whose result holds for every value (the gradient
    /// check, claims about tensor elements, `includes` blocks, `invariant`) or does not
    /// depend on the values (the extents `tq emit` allocates); never for Monte Carlo.
    pub arbitrary_inputs: bool,
    /// Draw every element whose distribution covers every real (a normal with a positive
    /// variance, an input without a distribution, a stand-in) as a whole number from −2
    /// to 2 instead (session 33): a run where ties and zeros happen, so that a claim
    /// about tensor elements false only at a kink (`relu(x[b,2u] - x[b,2u+1])` at equal
    /// elements, relu'(0) = 0) is tested there. Only for runs whose result holds for
    /// every value (claims about tensor elements); never for Monte Carlo.
    pub small_integers: bool,
    /// Element evaluations allowed (at most [`MAX_STEPS`]).
    pub max_steps: u64,
    /// Values the run may store (at most [`MAX_ELEMENTS`]; `tq emit`'s run for the
    /// extents stores fewer, `emit::EXTENTS_ELEMENTS`).
    pub max_elements: usize,
    /// Ranges of loop variables (`t`, `l`) used as statement indices (`for b,t,j:`),
    /// for running claims written outside their loop.
    pub loop_ranges: BTreeMap<String, (i64, i64)>,
    /// When set, statements do not change the values: each statement's contribution
    /// (`=` and `+=` add, `-=` subtracts) is accumulated here instead, and a statement is
    /// skipped at an element where a value it reads (or the member it writes) does not
    /// exist. Used to compare statements of claims with derived statements.
    pub shadow: Option<Store>,
    /// A fingerprint of the side of every kink (relu, abs at 0: the table's `kinks`)
    /// on which each argument of a kinked function fell, in evaluation order. Two runs
    /// with different fingerprints lie on different sides of some kink, so a finite
    /// difference between them is not a derivative (gradcheck.rs).
    pub kink_sides: u64,
    /// How many function values of the run lost the exact value to rounding at an
    /// asymptote: an `exp` that underflowed, a sigmoid or tanh rounded to its limit
    /// (`run::saturates`; session 38, probe37 p16). With [`Self::tainted`] it tells a
    /// claim that its sides' floating-point agreement may hide an exact difference.
    pub saturated: u64,
    /// The tensors (name, gradient or not) a statement of the run wrote while a value
    /// saturated, or that read such a tensor ([`Self::saturated`]).
    pub tainted: std::collections::BTreeSet<(String, bool)>,
    steps: u64,
    elements: usize,
    /// A position buffer reused by every element read and written (taken out while a
    /// position is worked out, so a lookup index that reads another element gets its own).
    pos_buf: Vec<i64>,
    /// The names of the file's tensor families (`env.tensors` with a family arity), asked
    /// for every element read and written: a few names compared inline instead of a
    /// descent of the ordered map.
    families: Vec<String>,
    /// The capitals of each term evaluated by the statement being run, by the term's
    /// address ([`Self::term_capitals_memo`]); empty and unused outside a statement.
    caps_memo: FastMap<usize, Caps>,
    /// Whether a statement is being run ([`Self::equation`]): only then is the memo read.
    caps_active: bool,
    /// Run every statement on the slow path, never compiled (src/num/compiled.rs):
    /// tests/interpreter.rs compares the two.
    pub slow_path: bool,
    /// The statements compiled during the run in progress ([`Machine::run_items`]),
    /// boxed: a machine is moved by value in the trial runners' enums.
    compiled: Box<compiled::Cache>,
    /// Leaves whose distribution reads a value not drawn or computed when their
    /// declaration is sampled (a computed tensor, a leaf declared later), with the
    /// generator they are drawn from ([`Machine::draw_pending`]); boxed for the same reason.
    pending: Option<Box<leaves::Pending>>,
}

/// Values of index and loop variables, innermost last.
pub type Bind = Vec<(String, i64)>;

/// The capital indices a term sums, shared by the elements of a statement.
type Caps = std::sync::Arc<[String]>;

fn lookup(b: &Bind, name: &str) -> Option<i64> {
    b.iter()
        .rev()
        .find(|(n, _)| short_eq(n, name))
        .map(|(_, v)| *v)
}

/// `a == b` for the short names of indices (one to a few bytes), compared inline: the
/// binding is searched for every index of every element, and `==` on `str` calls
/// `memcmp`, whose call cost more than the compare (a fifth of a gradient check's time).
#[inline]
fn short_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether `pi` or `e` names the constant in this file: not when the file declares the
/// name as an index, a tensor (a scalar `param e`, a computed `e`) or a scalar input
/// (probe37 j06: a scalar `param e ~ normal(0, 1)` was read as Euler's e by Monte
/// Carlo, the sampled runs and the gradient check, which failed correct programs).
pub fn is_named_constant(env: &Env, name: &str) -> bool {
    !env.indices.contains_key(name)
        && !env.tensors.contains_key(name)
        && !env.scalars.contains_key(name)
}

impl<'a> Machine<'a> {
    /// A machine with the file's `sample` values (and `at` points for scalar inputs).
    pub fn new(program: &Program, env: &'a Env) -> Result<Self, NumError> {
        let m = Self::before_sizes(program, env)?;
        m.require_sizes()?;
        Ok(m)
    }

    /// Every size has a value (else the error names each size without one: a claim's
    /// givens may set some of them, so a run with givens asks after setting them).
    pub fn require_sizes(&self) -> Result<(), NumError> {
        let missing: Vec<String> = self
            .env
            .sizes
            .keys()
            .filter(|s| !self.consts.contains_key(*s))
            .map(|s| format!("`{s}`"))
            .collect();
        match missing.as_slice() {
            [] => Ok(()),
            [one] => err(format!(
                "size {one} has no value: add it to the `sample` line"
            )),
            many => err(format!(
                "sizes {} have no value: add them to the `sample` line",
                many.join(", ")
            )),
        }
    }

    /// [`Machine::new`] before its check that every size has a value: for a run whose
    /// setup (a claim's givens) sets sizes, followed by [`Machine::require_sizes`].
    pub fn before_sizes(program: &Program, env: &'a Env) -> Result<Self, NumError> {
        let mut m = Machine {
            env,
            consts: BTreeMap::new(),
            vals: Store::default(),
            boundary: env.boundary,
            stand_in: false,
            stood_in: false,
            arbitrary_inputs: false,
            small_integers: false,
            max_steps: MAX_STEPS,
            max_elements: MAX_ELEMENTS,
            loop_ranges: BTreeMap::new(),
            shadow: None,
            kink_sides: 0,
            saturated: 0,
            tainted: Default::default(),
            steps: 0,
            elements: 0,
            pos_buf: Vec::new(),
            families: env
                .tensors
                .iter()
                .filter(|(_, t)| t.family_arity > 0)
                .map(|(k, _)| k.clone())
                .collect(),
            caps_memo: FastMap::default(),
            caps_active: false,
            slow_path: false,
            compiled: Box::default(),
            pending: None,
        };
        // Top-level `sample` and `at` lines: the model's items, listed once per file
        // (perf42: a claim's exact check made a machine, and walked every claim).
        for item in crate::syntax::model_items::model_items(program) {
            if let ItemKind::Sample(bs) = &item.kind {
                for b in bs {
                    let v = m.const_expr(&b.value)?;
                    m.consts.insert(b.name.name.clone(), v);
                }
            }
        }
        for item in crate::syntax::model_items::model_items(program) {
            if let ItemKind::At(bs) = &item.kind {
                for b in bs {
                    let v = m.const_expr(&b.value)?;
                    if env.scalars.contains_key(&b.name.name) {
                        m.set((b.name.name.clone(), false), vec![], v)?;
                    } else {
                        m.consts.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
        // The named constants a formula may read (`e^x`, `sqrt(2 pi)`), unless the file
        // gives the name a value of its own.
        // An index of that name (`index e : E`) is the index, never the constant: read
        // as Euler's e, a softmax over `e` found its own index unbound (probe 27).
        for (name, v) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)] {
            if is_named_constant(env, name) {
                m.consts.entry(name.into()).or_insert(v);
            }
        }
        Ok(m)
    }

    fn tick(&mut self) -> Result<(), NumError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(steps_exceeded(self.max_steps));
        }
        Ok(())
    }

    pub(crate) fn set(
        &mut self,
        key: (String, bool),
        ix: Vec<i64>,
        v: f64,
    ) -> Result<(), NumError> {
        let slot = self.vals.entry(key).or_default();
        if slot.insert(ix, v).is_none() {
            self.elements += 1;
            if self.elements > self.max_elements.min(MAX_ELEMENTS) {
                return Err(too_many_elements(self.max_elements.min(MAX_ELEMENTS)));
            }
        }
        Ok(())
    }

    /// A constant expression: numbers, sizes, symbols, arithmetic and functions.
    pub fn const_expr(&mut self, e: &Expr) -> Result<f64, NumError> {
        self.eval(e, &Vec::new())
    }

    /// The integer range of a lower-case index (both ends inclusive).
    pub fn index_range(&self, name: &str) -> Result<(i64, i64), NumError> {
        if let Some(r) = self.loop_ranges.get(name) {
            return Ok(*r);
        }
        // (Called for every loop of every element: the lower-case name is borrowed when
        // it already is one, and the size's name is read without a copy.)
        let lowered;
        let lower: &str = if name.bytes().any(|c| c.is_ascii_uppercase()) || !name.is_ascii() {
            lowered = name.to_lowercase();
            &lowered
        } else {
            name
        };
        let base = lower.trim_end_matches('\'');
        let info = self
            .env
            .indices
            .get(lower)
            .or_else(|| self.env.indices.get(base));
        let n = match info {
            Some(info) => match self.consts.get(&info.size) {
                Some(&n) => n,
                None => return err(format!("size `{}` has no value", info.size)),
            },
            None => {
                let Some(size) = self.env.index_size(lower) else {
                    return err(format!("index `{name}` has no size"));
                };
                let Some(&n) = self.consts.get(&size) else {
                    return err(format!("size `{size}` has no value"));
                };
                n
            }
        };
        let n = n as i64;
        if info.is_some_and(|i| i.centered) {
            let lo = -(n - 1) / 2;
            Ok((lo, lo + n - 1))
        } else {
            Ok((0, n - 1))
        }
    }

    fn int_of(&self, name: &str, b: &Bind) -> Result<i64, NumError> {
        if let Some(v) = lookup(b, name) {
            return Ok(v);
        }
        match self.consts.get(name) {
            Some(v) if v.fract() == 0.0 => Ok(*v as i64),
            Some(v) => err(format!(
                "`{name}` = {v} is used as an index but is not an integer"
            )),
            None => err(format!("index `{name}` is not bound here")),
        }
    }

    fn affine(&mut self, a: &Affine, b: &Bind) -> Result<i64, NumError> {
        let mut v = a.constant;
        for t in &a.terms {
            let mut p = t.coef;
            for f in &t.factors {
                p = p.saturating_mul(self.int_of(&f.name, b)?);
            }
            v = v.saturating_add(p);
        }
        Ok(v)
    }

    fn index(&mut self, ix: &IndexExpr, b: &Bind) -> Result<i64, NumError> {
        match ix {
            IndexExpr::Affine(a) => self.affine(a, b),
            IndexExpr::Lookup(r) => {
                let v = self.read(r, b)?;
                Ok(v.round() as i64)
            }
        }
    }

    /// The stored name of a member: `L_{3}`, `W_{2,up}`, or the printed name.
    ///
    /// Called for every element read and written: the family key is borrowed when it is
    /// the base name, and the member's name is written into one string (the same name
    /// as `format!("{key}_{{{}}}", parts.join(","))` of the key [`Env::key_of`] gives).
    fn member(&mut self, n: &Name, b: &Bind) -> Result<String, NumError> {
        self.member_key(n, b).map(Cow::into_owned)
    }

    /// [`Self::member`], borrowed from the name when it is a plain name of a tensor that
    /// is not a family (`h`, `W`: no string is built for the element reads of most tensors).
    fn member_key<'n>(&mut self, n: &'n Name, b: &Bind) -> Result<Cow<'n, str>, NumError> {
        let families = &self.families;
        let is_family = |k: &str| families.iter().any(|f| short_eq(f, k));
        let owned;
        let fk: &str = if n.primes == 0 && n.sup.is_empty() {
            &n.base
        } else {
            owned = crate::check::family_key(n);
            &owned
        };
        let mut out = if is_family(fk) {
            fk.to_string()
        } else {
            if n.primes == 0 && n.sup.is_empty() && n.sub.is_empty() {
                // The printed name is the base, which is not a family (above).
                return Ok(Cow::Borrowed(&n.base));
            }
            let key = crate::syntax::printer::print_name(n);
            if !is_family(&key) {
                return Ok(Cow::Owned(key));
            }
            key
        };
        out.push_str("_{");
        for (k, s) in n.sub.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            if let Some(f) = s.plain_var().map(|f| &f.name) {
                if lookup(b, f).is_none() && !self.consts.contains_key(f) {
                    out.push_str(f);
                    continue;
                }
            }
            let v = self.index(s, b)?;
            use std::fmt::Write as _;
            let _ = write!(out, "{v}");
        }
        out.push('}');
        Ok(Cow::Owned(out))
    }

    /// Whether every tensor member an expression reads has been written (symbols,
    /// sizes and bound indices always exist).
    pub fn all_exist(&mut self, e: &Expr, b: &Bind) -> bool {
        // Summed capitals at the first value of their range.
        let mut caps = Vec::new();
        self.capitals_deep(e, b, &mut caps);
        let with_caps;
        let b = if caps.is_empty() {
            b
        } else {
            let mut b = b.clone();
            for c in caps {
                if let Ok((lo, _)) = self.index_range(&c) {
                    b.push((c, lo));
                }
            }
            with_caps = b;
            &with_caps
        };
        // The references in order, borrowed from `e` (the test stops at the first that
        // fails, as `all` does).
        let mut refs: Vec<&Ref> = Vec::new();
        crate::check::walk_refs(e, &mut |r| refs.push(r));
        // Indices an explicit sum or a softmax binds: read bare (`[t <= s]` inside
        // `sum_{s}(...)`), they are values the evaluation gives them.
        let mut sum_bound: Vec<&str> = Vec::new();
        crate::syntax::visit::walk_expr(e, |x| {
            match x {
                Expr::Sum(vars, ..) => sum_bound.extend(vars.iter().map(|v| v.name.as_str())),
                Expr::Softmax(v, ..) => sum_bound.push(v.name.as_str()),
                _ => {}
            }
            true
        });
        refs.into_iter().all(|r| {
            if r.indices.is_none() && !r.grad {
                let plain = r.name.sub.is_empty() && r.name.sup.is_empty() && r.name.primes == 0;
                let printed: Cow<str> = if plain {
                    Cow::Borrowed(&r.name.base)
                } else {
                    Cow::Owned(crate::syntax::printer::print_name(&r.name))
                };
                if self.consts.contains_key(&*printed)
                    || sum_bound.contains(&&*printed)
                    || (r.name.sub.is_empty() && lookup(b, &printed).is_some())
                {
                    return true;
                }
            }
            let Ok(m) = self.member_key(&r.name, b) else {
                return false;
            };
            if r.indices.is_none() {
                return self.vals.contains_key(&(&*m, r.grad) as &dyn MemberKey);
            }
            // Gradients are accumulators: an element never written is 0, but only where
            // its value exists (wrong41, issue #14 item 3: `a.grad[0,0] == 1` of an `a`
            // the loop `for t in 1..T-1` writes was refuted at t = 0, where a has no
            // element).
            // A read with a summed capital (`y.grad[b,X-1]`) is bound at its first value
            // only here and reads 0 past the end: kept as an accumulator's read.
            if r.grad {
                let summed = r.indices.iter().flatten().any(|i| {
                    crate::syntax::printer::print_index(i)
                        .chars()
                        .any(|c| c.is_uppercase())
                });
                if summed || !self.vals.contains_key(&(&*m, true) as &dyn MemberKey) {
                    return summed && self.vals.contains_key(&(&*m, true) as &dyn MemberKey);
                }
            }
            // A value must have been computed at this element.
            let mut pos = std::mem::take(&mut self.pos_buf);
            let found = self.position_into(r, b, &mut pos);
            let member = self.vals.get(&(&*m, false) as &dyn MemberKey);
            let exists = match found {
                Ok(true) => member.is_some_and(|t| t.contains_key(pos.as_slice())),
                Ok(false) => true,
                // Summed capitals are not bound here: the member must exist.
                Err(_) => member.is_some(),
            };
            self.pos_buf = pos;
            exists
        })
    }

    /// The stored name of a member at a binding (`L_{3}` for `L_{l+1}` at l = 2).
    pub fn member_of(&mut self, n: &Name, b: &Bind) -> Result<String, NumError> {
        self.member(n, b)
    }

    /// The index tuple of a reference, written into `out` (emptied first); `false` when
    /// a shifted position falls outside and the boundary rule makes it zero (reads) or
    /// dropped (writes).
    fn position_into(&mut self, r: &Ref, b: &Bind, out: &mut Vec<i64>) -> Result<bool, NumError> {
        out.clear();
        let Some(ixs) = &r.indices else {
            return Ok(true);
        };
        // The extents are looked up only for shifted positions (most reads are plain).
        let env = self.env;
        let mut dims: Option<&[String]> = None;
        for (k, ix) in ixs.iter().enumerate() {
            let v = self.index(ix, b)?;
            let shifted = match ix {
                IndexExpr::Affine(a) => {
                    a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1)
                }
                IndexExpr::Lookup(_) => false,
            };
            if !shifted {
                out.push(v);
                continue;
            }
            let dims = dims.get_or_insert_with(|| {
                env.tensor_of(&r.name)
                    .map(|t| t.dims.as_slice())
                    .unwrap_or(&[])
            });
            let extent = dims
                .get(k)
                .and_then(|d| self.consts.get(d))
                .map(|n| *n as i64);
            match extent {
                Some(n) if shifted && (v < 0 || v >= n) => {
                    if self.boundary == Some(Boundary::Circular) && n > 0 {
                        out.push(v.rem_euclid(n));
                    } else {
                        return Ok(false);
                    }
                }
                _ => out.push(v),
            }
        }
        Ok(true)
    }

    /// The stored value at a member's position (0 for an element never written).
    fn stored(&self, member: &str, grad: bool, pos: &[i64]) -> f64 {
        self.vals
            .get(&(member, grad) as &dyn MemberKey)
            .and_then(|m| m.get(pos))
            .copied()
            .unwrap_or(0.0)
    }

    /// The value of a reference at a binding.
    pub fn read(&mut self, r: &Ref, b: &Bind) -> Result<f64, NumError> {
        if r.indices.is_none() && !r.grad {
            let plain = r.name.sub.is_empty() && r.name.sup.is_empty() && r.name.primes == 0;
            // A name bound here (a declaration's family variable or index, a loop's
            // variable) shadows a value of the same name at the claim's point: the layer
            // variable `l` of a claim over layers is not the `l` of `W_l ~ ... for l in`.
            // (A size or symbol is never shadowed: a declaration binds its capital
            // dimensions by name, `J` of `W_l[J, J]`.)
            if plain
                && !b.is_empty()
                && !self.env.sizes.contains_key(&r.name.base)
                && !self.env.symbols.contains_key(&r.name.base)
            {
                if let Some(v) = lookup(b, &r.name.base) {
                    return Ok(v as f64);
                }
            }
            let v = if plain {
                // The printed form of a plain name is its base (no copy).
                self.consts.get(&r.name.base)
            } else {
                self.consts
                    .get(&crate::syntax::printer::print_name(&r.name))
            };
            if let Some(v) = v {
                return Ok(*v);
            }
            if r.name.sub.is_empty() {
                // A bare index, primed or not (`[k == k']` in `Jac[t,k,k']`): the primed
                // index was read as its base, k, so the bracket was always 1.
                let v = if r.name.primes == 0 {
                    lookup(b, &r.name.base)
                } else {
                    lookup(
                        b,
                        &format!("{}{}", r.name.base, "'".repeat(r.name.primes as usize)),
                    )
                };
                if let Some(v) = v {
                    return Ok(v as f64);
                }
            }
            // A symbol or size with no value is not 0: a run that needs it cannot be
            // made (the claim's givens or the `sample` line give it one).
            // (A caller may store one as a value of the program, as emit does.)
            let name: Cow<str> = if plain {
                Cow::Borrowed(&r.name.base)
            } else {
                Cow::Owned(crate::syntax::printer::print_name(&r.name))
            };
            let name = &*name;
            let stored = self
                .vals
                .get(&(name, false) as &dyn MemberKey)
                .is_some_and(|m| m.contains_key(&[][..]));
            // A scalar input (no equation defines it) with no value is not 0 either
            // (edit35 a15: `scalar p`, `m ~ bernoulli(p)`, Monte Carlo ran at p = 0).
            let unset_input =
                self.env.scalars.contains_key(name) && !self.env.computed_scalars.contains(name);
            if !stored
                && (unset_input
                    || self.env.symbols.contains_key(name)
                    || self.env.sizes.contains_key(name))
            {
                return err(format!(
                    "`{name}` has no value to run the model with: give it one on the `sample` line (`sample {name} = ...`) or in the claim's givens"
                ));
            }
            // A bare name that is no tensor, scalar, symbol or size is an index or a loop
            // variable, and none is bound here: it has no value, not 0. (Read as 0, the
            // family variable of `W_l ~ normal(0, c l / J) for l in 1..L` made every
            // member's variance 0 wherever the parameter was evaluated once for the
            // declaration: probe30/c f10.)
            if !stored
                && r.name.sub.is_empty()
                && !self.env.tensors.contains_key(name)
                && !self.env.scalars.contains_key(name)
            {
                return err(format!("index or loop variable `{name}` has no value here"));
            }
        }
        let member = self.member_key(&r.name, b)?;
        let mut pos = std::mem::take(&mut self.pos_buf);
        let v = match self.position_into(r, b, &mut pos) {
            Ok(true) => Ok(self.stored(&member, r.grad, &pos)),
            Ok(false) => Ok(0.0),
            Err(e) => Err(e),
        };
        self.pos_buf = pos;
        v
    }

    /// The capital indices summed over the term `e` (`check::capitals`).
    pub(crate) fn term_capitals(&self, e: &Expr, b: &Bind) -> Vec<String> {
        let bound = |n: &str| lookup(b, n).is_some();
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &bound,
        }
        .of_term(e)
    }

    /// [`Self::term_capitals`], worked out once per term of the statement being run
    /// (kept by the term's address in [`Self::caps_memo`] while [`Self::equation`] runs).
    ///
    /// Why the address is a sound key there: the statement's expressions are borrowed
    /// for the whole of `equation`, so no other expression can take a term's address;
    /// and a term's capitals depend only on which names the binding holds (not their
    /// values), which is the same at every element: the statement's element loop binds
    /// the same names in the same order, and the walk down to a term (sums, softmax)
    /// pushes the same names on every visit, since each term of the tree is reached by
    /// one path.
    fn term_capitals_memo(&mut self, e: &Expr, b: &Bind) -> Caps {
        let addr = e as *const Expr as usize;
        if let Some(c) = self.caps_memo.get(&addr) {
            return c.clone();
        }
        let caps: Caps = self.term_capitals(e, b).into();
        self.caps_memo.insert(addr, caps.clone());
        caps
    }

    /// Every unbound capital index anywhere in the expression.
    fn capitals_deep(&self, e: &Expr, b: &Bind, out: &mut Vec<String>) {
        let bound = |n: &str| lookup(b, n).is_some();
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &bound,
        }
        .deep(e, out)
    }

    /// Evaluates an expression; capital indices of each term are summed.
    pub fn eval(&mut self, e: &Expr, b: &Bind) -> Result<f64, NumError> {
        match e {
            Expr::Binary(BinOp::Add, l, r, _) => Ok(self.eval(l, b)? + self.eval(r, b)?),
            Expr::Binary(BinOp::Sub, l, r, _) => Ok(self.eval(l, b)? - self.eval(r, b)?),
            _ => {
                let (kept, owned);
                let caps: &[String] = if self.caps_active {
                    kept = self.term_capitals_memo(e, b);
                    &kept
                } else {
                    owned = self.term_capitals(e, b);
                    &owned
                };
                if caps.is_empty() {
                    self.term_summed(e, b)
                } else {
                    let mut b2 = b.clone();
                    self.sum_over(caps, 0, e, &mut b2, true)
                }
            }
        }
    }

    /// `e` summed over `caps`; `summed` when they are the capitals of the term `e`
    /// itself (from [`Self::eval`]), so its factors sum nothing more of their own.
    fn sum_over(
        &mut self,
        caps: &[String],
        k: usize,
        e: &Expr,
        b: &mut Bind,
        summed: bool,
    ) -> Result<f64, NumError> {
        if k == caps.len() {
            // The body of an explicit sum (`summed` false) is an expression whose
            // capitals are summed over each of its terms (docs/language.md, summation
            // scope: `sum_{j}(W[j,I] x[b,I])` is sum_j sum_i W[j,i] x[b,i], not sum_j
            // (sum_i W[j,i]) (sum_i x[b,i])).
            return if summed {
                self.term_summed(e, b)
            } else {
                self.eval(e, b)
            };
        }
        let (lo, hi) = self.index_range(&caps[k])?;
        let mut acc = 0.0;
        for v in lo..=hi {
            b.push((caps[k].clone(), v));
            let r = self.sum_over(caps, k + 1, e, b, summed);
            b.pop();
            acc += r?;
        }
        Ok(acc)
    }

    /// A term whose capitals are summed (bound in `b`) or has none: a factor of a
    /// product that is not a sum has no capitals of its own left to sum (its capitals
    /// outside sums are the term's, and those shared by two of its sums are shared in
    /// the term), so it is evaluated as a term without working out its capitals again;
    /// a factor that is a sum is evaluated as an expression (a capital inside one sum
    /// only is summed there). The same values and the same work count as evaluating
    /// every factor with [`Self::eval`], without the quadratic walks of a long product.
    fn term_summed(&mut self, e: &Expr, b: &Bind) -> Result<f64, NumError> {
        let Expr::Binary(op @ (BinOp::Mul | BinOp::Jux | BinOp::Div | BinOp::Pow), l, r, _) = e
        else {
            return self.term(e, b);
        };
        self.tick()?;
        let factor = |m: &mut Self, f: &Expr| match f {
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => m.eval(f, b),
            _ => m.term_summed(f, b),
        };
        let x = factor(self, l)?;
        let y = factor(self, r)?;
        Ok(match op {
            BinOp::Div => x / y,
            BinOp::Pow => x.powf(y),
            _ => x * y,
        })
    }

    fn term(&mut self, e: &Expr, b: &Bind) -> Result<f64, NumError> {
        self.tick()?;
        match e {
            Expr::Num(s, _) => s
                .parse::<f64>()
                .or_else(|_| err(format!("`{s}` is not a number"))),
            Expr::Ref(r) => self.read(r, b),
            Expr::Unary(UnOp::Neg, x, _) => Ok(-self.eval(x, b)?),
            Expr::Binary(op, l, r, _) => {
                let x = self.eval(l, b)?;
                let y = self.eval(r, b)?;
                Ok(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul | BinOp::Jux => x * y,
                    BinOp::Div => x / y,
                    BinOp::Pow => x.powf(y),
                })
            }
            Expr::Iverson(x, _) => Ok(if self.truth(x, b)? { 1.0 } else { 0.0 }),
            Expr::Rel(..) => Ok(if self.truth(e, b)? { 1.0 } else { 0.0 }),
            Expr::Call(c) => self.call(c, b),
            Expr::Sum(ids, body, _) => {
                let caps: Vec<String> = ids.iter().map(|i| i.name.clone()).collect();
                let mut b2 = b.clone();
                self.sum_over(&caps, 0, body, &mut b2, false)
            }
            Expr::Softmax(w, body, _) => {
                let (lo, hi) = self.index_range(&w.name)?;
                let mut b2 = b.clone();
                let mut xs = Vec::new();
                for v in lo..=hi {
                    b2.push((w.name.clone(), v));
                    let x = self.eval(body, &b2);
                    b2.pop();
                    xs.push(x?);
                }
                let Some(me) = lookup(b, &w.name) else {
                    return err(format!(
                        "softmax over `{}` needs `{}` bound on the left side",
                        w.name, w.name
                    ));
                };
                let mx = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = xs.iter().map(|x| (x - mx).exp()).sum();
                // A term that underflowed (an additive mask `- 2000 [t' > t]`) is 0.0
                // here, not its exact value.
                if xs.iter().any(|x| {
                    let e = (x - mx).exp();
                    x.is_finite() && e < f64::MIN_POSITIVE
                }) {
                    self.saturated += 1;
                }
                let k = (me - lo) as usize;
                Ok(xs.get(k).map_or(0.0, |x| (x - mx).exp() / z))
            }
            Expr::Deriv(..) => err("d(u)/d(a) is a claim form, not a program value"),
        }
    }

    fn truth(&mut self, e: &Expr, b: &Bind) -> Result<bool, NumError> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let x = self.eval(l, b)?;
                let y = self.eval(r, b)?;
                Ok(holds(*op, x, y))
            }
            other => Ok(self.eval(other, b)? != 0.0),
        }
    }

    fn call(&mut self, c: &Call, b: &Bind) -> Result<f64, NumError> {
        let f = c.func.name.as_str();
        let mut args = Vec::with_capacity(c.args.len());
        for a in &c.args {
            args.push(self.eval(a, b)?);
        }
        let one = |args: &[f64]| -> Result<f64, NumError> {
            if args.len() == 1 {
                Ok(args[0])
            } else {
                err(format!("`{f}` takes one argument"))
            }
        };
        if let Some(b) = crate::sym::func::model_function(f) {
            let x = one(&args)?;
            for &k in b.kinks {
                self.kink_sides = kink_side(self.kink_sides, x, k);
            }
            let y = (b.f64)(x);
            if run::saturates(b.func, x, y) {
                self.saturated += 1;
            }
            return Ok(y);
        }
        Ok(match f {
            "min" if !args.is_empty() => args.iter().cloned().fold(f64::INFINITY, f64::min),
            "max" if !args.is_empty() => args.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            _ => return err(format!("`{f}` cannot be evaluated numerically")),
        })
    }

    /// Element evaluations so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}
