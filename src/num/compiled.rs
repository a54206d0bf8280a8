//! Equations resolved once, then run element by element: the interpreter's fast path.
//!
//! [`Machine::equation`](super::Machine) used to work out, at every element, what does not
//! change from one element of a statement to the next: which binding entry each index
//! names (a search by string), each member's stored name (`L_{3}`, built and hashed), the
//! capitals each term sums, the ranges of the free and summed indices, whether a position
//! is shifted and its extent, the constants read. [`compile`] works all of that out once
//! per run of a lone equation (of two or more elements), and [`compile_for`] once per run
//! of a `for b,x,j: ...` block of equations (whose body the slow path enters once per
//! element), at the binding it runs at: indices become slots of a small integer
//! array (the binding as a stack: the outer binding, then the free indices of the left
//! side, then each summed capital at the depth the interpreter would push it), members
//! become indices into the member maps taken out of the store for the statement's run, and
//! positions become affine forms over slots with their boundary handling decided. The run
//! ([`Machine::run_compiled`]) then does per element only the arithmetic, the position
//! lookups in the member maps and the step count. Within one run of a program
//! ([`Machine::run_items`]) a compiled statement is kept ([`Cache`]) for its later
//! bindings (`for t in 1..T`: compiled at t = 1, not T times), which pays for compiling a
//! lone equation of one element too (a scalar RNN step); a statement of one element
//! without a summed index reads and writes the store in place ([`InPlace`]).
//!
//! **The same results, bit for bit.** Every node is evaluated in the interpreter's order
//! with the interpreter's operations (sums accumulated from 0.0 level by level, the same
//! saturating index arithmetic, the kink fingerprint updated at the same calls), and
//! counts a step exactly where the interpreter ticks (`term`, `term_summed`), so the step
//! count, the refusal point of a budget, the stored values and the kink fingerprint are
//! those of the slow path. What the fast path does not cover (a looked-up position
//! `x[w[t]]`, a softmax, a member whose name depends on an index of the statement, a name
//! the interpreter would refuse, the shadow store of `includes` blocks) makes [`compile`]
//! answer `None`, and the statement runs on the slow path, which gives the error or the
//! value the interpreter always gave. `tests::compiled_runs_agree_with_the_interpreter`
//! runs every problem and case file both ways and compares every stored bit.

use super::hash::{FastMap, MemberKey};
use super::{holds, Bind, Machine, NumError};
use crate::syntax::ast::{
    AssignOp, BinOp, Boundary, Equation, Expr, Ident, IndexExpr, Item, ItemKind, Name, Ref, RelOp,
    UnOp,
};
use std::borrow::Cow;
use std::sync::Arc;
mod run;
#[allow(unused_imports)]
pub use run::*;

/// One factor of an index position: a slot of the binding or an integer constant.
#[derive(Clone, Copy, Debug)]
enum Val {
    Slot(usize),
    Int(i64),
}

/// One index position, as [`Machine::position_into`](super::Machine) reads it.
#[derive(Debug)]
struct Ix {
    /// A plain position (`x`: the slot's value); else the affine form below.
    plain: Option<usize>,
    constant: i64,
    terms: Vec<(i64, Vec<Val>)>,
    /// The extent of a shifted position's dimension, when the boundary rule applies.
    extent: Option<i64>,
}

impl Ix {
    #[inline]
    fn value(&self, slots: &[i64]) -> i64 {
        if let Some(d) = self.plain {
            return slots[d];
        }
        let mut v = self.constant;
        for (coef, factors) in &self.terms {
            let mut p = *coef;
            for f in factors {
                p = p.saturating_mul(match *f {
                    Val::Slot(d) => slots[d],
                    Val::Int(i) => i,
                });
            }
            v = v.saturating_add(p);
        }
        v
    }
}

/// An expression node. The comments say which interpreter path each mirrors; every
/// node but `Add`, `Sub` and an implicit `Loops` counts one step first, as `term` and
/// `term_summed` do.
#[derive(Debug)]
enum Node {
    /// `eval` of a sum or difference (no step).
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    /// `sum_over`: nested loops over summed indices at slots `depth..`, each level
    /// accumulated from 0.0; `tick` for an explicit `sum_{..}` (a `term`).
    Loops {
        tick: bool,
        depth: usize,
        ranges: Vec<(i64, i64)>,
        leaf: Box<Node>,
    },
    /// `term_summed` of a product, quotient or power.
    Product(BinOp, Box<Node>, Box<Node>),
    /// `term`: a number or a constant read.
    Value(f64),
    /// `term`: a bare index read as a number.
    Bound(usize),
    /// `term`: an element of a member map (0 when never written or outside).
    Read {
        member: usize,
        pos: Vec<Ix>,
    },
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `term` of an Iverson bracket or a relation.
    Truth(Box<Truth>),
    Func {
        f: fn(f64) -> f64,
        func: crate::sym::func::Func,
        kinks: &'static [i64],
        arg: Box<Node>,
    },
    MinMax {
        max: bool,
        args: Vec<Node>,
    },
}

impl Node {
    /// Whether the node sums over an index (a loop inside the element).
    fn sums(&self) -> bool {
        match self {
            Node::Loops { .. } => true,
            Node::Add(l, r) | Node::Sub(l, r) | Node::Product(_, l, r) | Node::Binary(_, l, r) => {
                l.sums() || r.sums()
            }
            Node::Neg(x) | Node::Func { arg: x, .. } => x.sums(),
            Node::Truth(t) => match &**t {
                Truth::Rel(_, l, r) => l.sums() || r.sums(),
                Truth::Nonzero(x) => x.sums(),
            },
            Node::MinMax { args, .. } => args.iter().any(Node::sums),
            Node::Value(_) | Node::Bound(_) | Node::Read { .. } => false,
        }
    }
}

#[derive(Debug)]
enum Truth {
    Rel(RelOp, Node, Node),
    Nonzero(Node),
}

/// One statement of a compiled block: its own free indices (slots `first..`), its value
/// and its write.
struct Stmt {
    first: usize,
    free: Vec<(i64, i64)>,
    rhs: Node,
    lhs_member: usize,
    lhs_pos: Vec<Ix>,
    op: AssignOp,
}

/// Statements resolved at one binding: a lone equation, or the body of a `for` block
/// (`for b,x,j: ...`) with the block's indices as loops around it.
pub(super) struct Compiled {
    /// The members read or written, by key at the binding compiled at; taken out of the
    /// store for the run.
    members: Vec<(String, bool)>,
    /// The names each member was resolved from (several names may resolve to one member:
    /// `h_{l}` and `h_{L}` at l = L), for [`Compiled::members_at`] another binding.
    sources: Vec<Vec<Name>>,
    /// Whether some member's name has subscripts (`L_{l+1}`), so that its key depends on
    /// the binding's values and is resolved again at every other binding.
    rebind: bool,
    /// Whether the statement may be kept for the run's later bindings ([`Cache`]): not when
    /// it reads a symbol's stored scalar, which the slow path reads only while it is stored.
    cacheable: bool,
    /// One element and no summed index: no loop of the block or of a statement's free
    /// indices has more than one value, and no statement sums (run in place:
    /// [`Machine::run_compiled`]).
    single: bool,
    /// The binding's length outside the statements.
    outer: usize,
    depth: usize,
    /// The ranges of the `for` block's indices (slots `outer..`).
    loops: Vec<(i64, i64)>,
    stmts: Vec<Stmt>,
}

struct Compiler<'c, 'a> {
    m: &'c mut Machine<'a>,
    /// The binding's names at the node being compiled (the outer binding with its
    /// values, the inner names with 0): what `lookup` and the capitals read.
    names: Bind,
    outer: usize,
    depth: usize,
    members: Vec<(String, bool)>,
    sources: Vec<Vec<Name>>,
    cacheable: bool,
}

/// A lone equation `eq` at the binding `b` with its free indices `free`, or `None` when it
/// needs the slow path (see the module's documentation).
pub(super) fn compile(
    m: &mut Machine<'_>,
    eq: &Equation,
    b: &Bind,
    free: &[String],
) -> Option<Compiled> {
    block(m, &[], &[eq], b, Some(free))
}

/// The body of `for idx: body` at the binding `b` when every item of it is an equation,
/// or `None` (then the block runs element by element on the slow path).
pub(super) fn compile_for(
    m: &mut Machine<'_>,
    idx: &[Ident],
    body: &[Item],
    b: &Bind,
) -> Option<Compiled> {
    let mut eqs = Vec::with_capacity(body.len());
    for item in body {
        match &item.kind {
            ItemKind::Equation(eq) => eqs.push(eq),
            _ => return None,
        }
    }
    let names: Vec<String> = idx.iter().map(|i| i.name.clone()).collect();
    block(m, &names, &eqs, b, None)
}

fn block(
    m: &mut Machine<'_>,
    idx: &[String],
    eqs: &[&Equation],
    b: &Bind,
    free: Option<&[String]>,
) -> Option<Compiled> {
    if m.shadow.is_some() {
        return None;
    }
    let mut loops = Vec::with_capacity(idx.len());
    for i in idx {
        loops.push(m.index_range(i).ok()?);
    }
    let mut names = b.clone();
    names.extend(idx.iter().map(|i| (i.clone(), 0)));
    let inner = names.len();
    let mut c = Compiler {
        m,
        depth: names.len(),
        names,
        outer: b.len(),
        members: Vec::new(),
        sources: Vec::new(),
        cacheable: true,
    };
    let mut stmts = Vec::with_capacity(eqs.len());
    for &eq in eqs {
        c.names.truncate(inner);
        let free: Vec<String> = match free {
            Some(f) => f.to_vec(),
            None => c.m.free_lhs(&eq.lhs, &c.names),
        };
        let mut ranges = Vec::with_capacity(free.len());
        for f in &free {
            ranges.push(c.m.index_range(f).ok()?);
        }
        c.names.extend(free.iter().map(|f| (f.clone(), 0)));
        c.depth = c.depth.max(c.names.len());
        let rhs = c.eval(&eq.rhs)?;
        let lhs_member = c.member(&eq.lhs)?;
        let lhs_pos = c.positions(&eq.lhs)?;
        stmts.push(Stmt {
            first: inner,
            free: ranges,
            rhs,
            lhs_member,
            lhs_pos,
            op: eq.op,
        });
    }
    let rebind = c.sources.iter().flatten().any(|n| !n.sub.is_empty());
    let one = |r: &[(i64, i64)]| r.iter().all(|(lo, hi)| hi <= lo);
    let single = one(&loops) && stmts.iter().all(|st| one(&st.free) && !st.rhs.sums());
    Some(Compiled {
        members: c.members,
        sources: c.sources,
        rebind,
        cacheable: c.cacheable,
        single,
        outer: b.len(),
        depth: c.depth,
        loops,
        stmts,
    })
}

impl Compiler<'_, '_> {
    /// The slot `lookup` would find a name in (the innermost).
    fn slot(&self, name: &str) -> Option<usize> {
        self.names.iter().rposition(|(n, _)| n == name)
    }

    fn boxed(&mut self, e: &Expr, f: fn(&mut Self, &Expr) -> Option<Node>) -> Option<Box<Node>> {
        f(self, e).map(Box::new)
    }

    /// Summed loops over `caps` (pushed innermost), around `leaf` compiled with them bound.
    fn loops(
        &mut self,
        caps: Vec<String>,
        tick: bool,
        e: &Expr,
        leaf: fn(&mut Self, &Expr) -> Option<Node>,
    ) -> Option<Node> {
        let depth = self.names.len();
        let mut ranges = Vec::with_capacity(caps.len());
        for c in &caps {
            ranges.push(self.m.index_range(c).ok()?);
        }
        let n = self.names.len();
        self.names.extend(caps.into_iter().map(|c| (c, 0)));
        self.depth = self.depth.max(self.names.len());
        let leaf = self.boxed(e, leaf);
        self.names.truncate(n);
        Some(Node::Loops {
            tick,
            depth,
            ranges,
            leaf: leaf?,
        })
    }

    /// `Machine::eval`.
    fn eval(&mut self, e: &Expr) -> Option<Node> {
        match e {
            Expr::Binary(BinOp::Add, l, r, _) => Some(Node::Add(
                self.boxed(l, Self::eval)?,
                self.boxed(r, Self::eval)?,
            )),
            Expr::Binary(BinOp::Sub, l, r, _) => Some(Node::Sub(
                self.boxed(l, Self::eval)?,
                self.boxed(r, Self::eval)?,
            )),
            _ => {
                let caps = self.m.term_capitals(e, &self.names);
                if caps.is_empty() {
                    self.term_summed(e)
                } else {
                    self.loops(caps, false, e, Self::term_summed)
                }
            }
        }
    }

    /// `Machine::term_summed`.
    fn term_summed(&mut self, e: &Expr) -> Option<Node> {
        let Expr::Binary(op @ (BinOp::Mul | BinOp::Jux | BinOp::Div | BinOp::Pow), l, r, _) = e
        else {
            return self.term(e);
        };
        let factor = |c: &mut Self, f: &Expr| match f {
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => c.eval(f),
            _ => c.term_summed(f),
        };
        let x = factor(self, l)?;
        let y = factor(self, r)?;
        Some(Node::Product(*op, Box::new(x), Box::new(y)))
    }

    /// `Machine::term`.
    fn term(&mut self, e: &Expr) -> Option<Node> {
        Some(match e {
            Expr::Num(s, _) => Node::Value(s.parse::<f64>().ok()?),
            Expr::Ref(r) => self.read(r)?,
            Expr::Unary(UnOp::Neg, x, _) => Node::Neg(self.boxed(x, Self::eval)?),
            Expr::Binary(op, l, r, _) => {
                Node::Binary(*op, self.boxed(l, Self::eval)?, self.boxed(r, Self::eval)?)
            }
            Expr::Iverson(x, _) => Node::Truth(Box::new(self.truth(x)?)),
            Expr::Rel(..) => Node::Truth(Box::new(self.truth(e)?)),
            Expr::Call(c) => {
                let f = c.func.name.as_str();
                if let Some(b) = crate::sym::func::model_function(f) {
                    let [arg] = c.args.as_slice() else {
                        return None;
                    };
                    Node::Func {
                        f: b.f64,
                        func: b.func,
                        kinks: b.kinks,
                        arg: self.boxed(arg, Self::eval)?,
                    }
                } else if (f == "min" || f == "max") && !c.args.is_empty() {
                    let mut args = Vec::with_capacity(c.args.len());
                    for a in &c.args {
                        args.push(self.eval(a)?);
                    }
                    Node::MinMax {
                        max: f == "max",
                        args,
                    }
                } else {
                    return None;
                }
            }
            Expr::Sum(ids, body, _) => {
                let caps = ids.iter().map(|i| i.name.clone()).collect();
                // `Machine::sum_over`: the body's capitals summed over its terms.
                self.loops(caps, true, body, Self::eval)?
            }
            Expr::Softmax(..) | Expr::Deriv(..) => return None,
        })
    }

    /// `Machine::truth`.
    fn truth(&mut self, e: &Expr) -> Option<Truth> {
        Some(match e {
            Expr::Rel(op, l, r, _) => Truth::Rel(*op, self.eval(l)?, self.eval(r)?),
            other => Truth::Nonzero(self.eval(other)?),
        })
    }

    /// `Machine::read`.
    fn read(&mut self, r: &Ref) -> Option<Node> {
        if r.indices.is_none() && !r.grad {
            let plain = r.name.sub.is_empty() && r.name.sup.is_empty() && r.name.primes == 0;
            let printed = if plain {
                r.name.base.clone()
            } else {
                crate::syntax::printer::print_name(&r.name)
            };
            if let Some(v) = self.m.consts.get(&printed) {
                return Some(Node::Value(*v));
            }
            if r.name.sub.is_empty() {
                let bare = format!("{}{}", r.name.base, "'".repeat(r.name.primes as usize));
                if let Some(d) = self.slot(&bare) {
                    return Some(Node::Bound(d));
                }
            }
            let stored = self
                .m
                .vals
                .get(&(printed.as_str(), false) as &dyn MemberKey)
                .is_some_and(|m| m.contains_key(&[][..]));
            let env = self.m.env;
            // A scalar input with no value: the interpreter's error too (never 0).
            if !stored
                && env.scalars.contains_key(&printed)
                && !env.computed_scalars.contains(&printed)
            {
                return None;
            }
            if env.symbols.contains_key(&printed) || env.sizes.contains_key(&printed) {
                if !stored {
                    // The interpreter's error, on the slow path.
                    return None;
                }
                // Read as a member only while it is stored: not kept for later bindings.
                self.cacheable = false;
            }
        }
        let member = self.member(r)?;
        let pos = self.positions(r)?;
        Some(Node::Read { member, pos })
    }

    /// The member a reference reads or writes, as an index into `members`; `None` when
    /// its name depends on an index of the statement (or is refused).
    fn member(&mut self, r: &Ref) -> Option<usize> {
        if !self.subscripts_are_outer(&r.name) {
            return None;
        }
        let outer: Bind = self.names[..self.outer].to_vec();
        let name = self.m.member_key(&r.name, &outer).ok()?.into_owned();
        let key = (name, r.grad);
        Some(match self.members.iter().position(|k| *k == key) {
            Some(k) => {
                if !self.sources[k].contains(&r.name) {
                    self.sources[k].push(r.name.clone());
                }
                k
            }
            None => {
                self.members.push(key);
                self.sources.push(vec![r.name.clone()]);
                self.members.len() - 1
            }
        })
    }

    /// Whether every index a member's subscripts read is bound outside the statement.
    fn subscripts_are_outer(&self, n: &Name) -> bool {
        n.sub.iter().all(|s| match s {
            IndexExpr::Lookup(_) => false,
            IndexExpr::Affine(a) => a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .all(|f| self.slot(&f.name).is_none_or(|d| d < self.outer)),
        })
    }

    /// `Machine::position_into`'s index positions of a reference.
    fn positions(&mut self, r: &Ref) -> Option<Vec<Ix>> {
        let Some(ixs) = &r.indices else {
            return Some(Vec::new());
        };
        let env = self.m.env;
        let mut out = Vec::with_capacity(ixs.len());
        for (k, ix) in ixs.iter().enumerate() {
            let IndexExpr::Affine(a) = ix else {
                return None;
            };
            let mut terms = Vec::with_capacity(a.terms.len());
            for t in &a.terms {
                let mut factors = Vec::with_capacity(t.factors.len());
                for f in &t.factors {
                    factors.push(match self.slot(&f.name) {
                        Some(d) => Val::Slot(d),
                        // `int_of`: an integer constant, else the interpreter's error.
                        None => match self.m.consts.get(&f.name) {
                            Some(v) if v.fract() == 0.0 => Val::Int(*v as i64),
                            _ => return None,
                        },
                    });
                }
                terms.push((t.coef, factors));
            }
            let shifted =
                a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1);
            let extent = if shifted {
                env.tensor_of(&r.name)
                    .and_then(|t| t.dims.get(k))
                    .and_then(|d| self.m.consts.get(d))
                    .map(|n| *n as i64)
            } else {
                None
            };
            let plain = match terms.as_slice() {
                [(1, f)] if a.constant == 0 => match f.as_slice() {
                    [Val::Slot(d)] => Some(*d),
                    _ => None,
                },
                _ => None,
            };
            out.push(Ix {
                plain,
                constant: a.constant,
                terms,
                extent,
            });
        }
        Some(out)
    }
}

impl Machine<'_> {
    /// Runs a compiled statement at the binding `b` it was compiled at. The members it
    /// reads and writes are taken out of the store for the run (their keys stay, so the
    /// store's order is unchanged) and put back, also after an error; a member the
    /// statement writes first enters the store as the interpreter's first write would
    /// have put it there. A statement of one element without summed indices
    /// ([`Compiled::single`]) reads and writes the store in place instead.
    ///
    /// `members` are the statement's members at `b` ([`Compiled::members_at`]).
    fn run_compiled(
        &mut self,
        c: &Compiled,
        members: &[(String, bool)],
        b: &Bind,
    ) -> Result<(), NumError> {
        let mut slots = std::mem::take(&mut self.compiled.slots);
        slots.clear();
        slots.resize(c.depth.max(c.outer), 0);
        for (s, (_, v)) in slots.iter_mut().zip(b) {
            *s = *v;
        }
        if c.single {
            let maps = InPlace {
                vals: std::mem::take(&mut self.vals),
                keys: members,
            };
            let (r, maps) = self.run_on(c, maps, slots);
            self.vals = maps.vals;
            return r;
        }
        let mut present = Vec::with_capacity(members.len());
        let mut maps = Vec::with_capacity(members.len());
        for (name, grad) in members {
            match self.vals.get_mut(&(name.as_str(), *grad) as &dyn MemberKey) {
                Some(m) => {
                    present.push(true);
                    maps.push(std::mem::take(m));
                }
                None => {
                    present.push(false);
                    maps.push(FastMap::default());
                }
            }
        }
        let (r, maps) = self.run_on(c, maps, slots);
        for ((key, was), map) in members.iter().zip(present).zip(maps) {
            if was {
                if let Some(m) = self
                    .vals
                    .get_mut(&(key.0.as_str(), key.1) as &dyn MemberKey)
                {
                    *m = map;
                }
            } else if !map.is_empty() {
                self.vals.insert(key.clone(), map);
            }
        }
        r
    }

    /// Runs `c`'s block from the binding in `slots` on `maps` (the members in place, or
    /// taken out of the store), with the machine's step, kink and element counts and its
    /// position buffer, which it takes back afterwards, also after an error.
    #[inline]
    fn run_on<M: Members>(
        &mut self,
        c: &Compiled,
        maps: M,
        slots: Vec<i64>,
    ) -> (Result<(), NumError>, M) {
        let mut run = Run {
            steps: self.steps,
            max_steps: self.max_steps,
            kink_sides: self.kink_sides,
            saturated: self.saturated,
            elements: self.elements,
            max_elements: self.max_elements.min(super::MAX_ELEMENTS),
            circular: self.boundary == Some(Boundary::Circular),
            maps,
            slots,
            pos: std::mem::take(&mut self.pos_buf),
        };
        let r = run.block(c, 0);
        self.steps = run.steps;
        self.kink_sides = run.kink_sides;
        self.saturated = run.saturated;
        self.elements = run.elements;
        self.pos_buf = run.pos;
        self.compiled.slots = run.slots;
        (r, run.maps)
    }
}

/// Which statement a compiled entry is: a lone equation or a `for` block, by address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Site {
    Equation(usize),
    For(usize),
}

/// At most this many statements kept per run (a file's statements are far fewer).
const CACHE_ENTRIES: usize = 10_000;

/// The statements compiled during one run of a program ([`Machine::run_items`]), kept for
/// the run's later bindings: a statement inside `for t in 1..T` is compiled once, not T
/// times, and a lone equation of one element (a scalar RNN step `h[t] = w h[t-1] + x[t]`),
/// which compiling each time would not pay for, runs compiled from its second binding on.
///
/// The key is the statement's address and the binding's names (not their values). Why it
/// is sound: the program is borrowed for the whole run, so no other statement can take a
/// statement's address while the cache is active, and it is emptied when the run ends;
/// everything [`compile`] and [`compile_for`] read is fixed for the run (the constants,
/// the loop ranges, the declarations) or depends on the binding's names only (the slots,
/// the free indices, the capitals summed), except the members' keys (`L_{3}` at l = 2),
/// which [`Compiled::members_at`] resolves again at every binding. A statement compiled
/// while it read a symbol's stored scalar is not kept; one the fast path does not cover is
/// kept as `None` and runs on the slow path, as it would have. The same operations in the
/// same order then run as when the statement was compiled afresh: tests/interpreter.rs
/// holds every file to the slow path bit for bit.
#[derive(Default)]
pub(super) struct Cache {
    /// Set by [`Machine::run_items`] for its run; entries are kept only while it is.
    active: bool,
    entries: FastMap<Site, Vec<Kept>>,
    len: usize,
    /// The slots of a compiled statement's binding, reused by every run of one.
    slots: Vec<i64>,
}

/// A statement at a binding of these names: seen once and not compiled yet (a lone
/// equation of one element, compiled at its second binding: one that runs once per run
/// costs no compiling), or compiled (`None`: it runs on the slow path).
type Kept = (Vec<String>, Option<Option<Arc<Compiled>>>);

impl Clone for Cache {
    /// A clone of a machine starts with no compiled statements (its next run fills them).
    fn clone(&self) -> Self {
        Cache::default()
    }
}

impl Cache {
    /// Empties the cache and sets whether the next statements are kept.
    pub(super) fn reset(&mut self, active: bool) {
        self.active = active;
        self.entries.clear();
        self.len = 0;
    }

    pub(super) fn active(&self) -> bool {
        self.active
    }
}

impl Compiled {
    /// The members' keys at the binding `b` (the binding's names those it was compiled at):
    /// the same keys when no name has subscripts, else each resolved again; `None` when a
    /// name cannot be resolved at `b`, or when members that were one would be several
    /// there, or several one (then the statement is compiled afresh).
    fn members_at<'c>(
        &'c self,
        m: &mut Machine<'_>,
        b: &Bind,
    ) -> Option<Cow<'c, [(String, bool)]>> {
        if !self.rebind {
            return Some(Cow::Borrowed(&self.members));
        }
        let mut out: Vec<(String, bool)> = Vec::with_capacity(self.members.len());
        for ((_, grad), names) in self.members.iter().zip(&self.sources) {
            let (first, rest) = names.split_first()?;
            let key = m.member_key(first, b).ok()?.into_owned();
            for n in rest {
                if *m.member_key(n, b).ok()? != *key {
                    return None;
                }
            }
            if out.iter().any(|(k, g)| *k == key && g == grad) {
                return None;
            }
            out.push((key, *grad));
        }
        Some(Cow::Owned(out))
    }
}

/// Whether a cached binding's names are those of `b`.
fn same_names(names: &[String], b: &Bind) -> bool {
    names.len() == b.len() && names.iter().zip(b).all(|(n, (m, _))| n == m)
}

impl Machine<'_> {
    /// Runs the statement at `site` compiled (`make` compiles it at `b`): from the run's
    /// cache when it is active (compiled at the first binding of these names, or at the
    /// second when not `compile_now`, and kept), else compiled now when `compile_now`.
    /// `None`: the statement runs on the slow path.
    pub(super) fn run_cached(
        &mut self,
        site: Site,
        b: &Bind,
        compile_now: bool,
        make: impl Fn(&mut Self) -> Option<Compiled>,
    ) -> Option<Result<(), NumError>> {
        if self.shadow.is_some() {
            return None;
        }
        if !self.compiled.active() {
            if !compile_now {
                return None;
            }
            let c = make(self)?;
            return Some(self.run_compiled(&c, &c.members, b));
        }
        let cache = &mut *self.compiled;
        let kept = cache
            .entries
            .get_mut(&site)
            .and_then(|v| v.iter_mut().find(|(names, _)| same_names(names, b)));
        let c = match kept {
            Some((_, Some(c))) => c.clone()?,
            Some((_, None)) => {
                // The second binding: compile now and keep.
                let c = make(self).map(Arc::new);
                let keep = c.as_ref().is_none_or(|c| c.cacheable);
                let entry = self
                    .compiled
                    .entries
                    .get_mut(&site)
                    .and_then(|v| v.iter_mut().find(|(names, _)| same_names(names, b)));
                if let (true, Some((_, slot))) = (keep, entry) {
                    *slot = Some(c.clone());
                }
                let c = c?;
                return Some(self.run_compiled(&c, &c.members, b));
            }
            None => {
                if cache.len >= CACHE_ENTRIES {
                    if !compile_now {
                        return None;
                    }
                    let c = make(self)?;
                    return Some(self.run_compiled(&c, &c.members, b));
                }
                let names = b.iter().map(|(n, _)| n.clone()).collect();
                cache.len += 1;
                if !compile_now {
                    // Seen once: the slow path now, compiled at the next binding.
                    cache.entries.entry(site).or_default().push((names, None));
                    return None;
                }
                let c = make(self).map(Arc::new);
                if c.as_ref().is_none_or(|c| c.cacheable) {
                    self.compiled
                        .entries
                        .entry(site)
                        .or_default()
                        .push((names, Some(c.clone())));
                }
                let c = c?;
                return Some(self.run_compiled(&c, &c.members, b));
            }
        };
        match c.members_at(self, b) {
            Some(members) => Some(self.run_compiled(&c, &members, b)),
            None => {
                let c = make(self)?;
                Some(self.run_compiled(&c, &c.members, b))
            }
        }
    }
}
