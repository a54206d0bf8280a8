//! The walker's state and its reads: the distribution of a tensor element at given
//! subscripts (declared leaves, stored members, family templates), and whether a read
//! sits at the border of a zero-padded tensor.

use super::recurrence::subs_rv;
use super::rule::Approximation;
use super::rv::{Gauss, Rv, Source};
use super::{index_expr, position, Analysis, Entry, Key};
use crate::check::Env;
use crate::lower::{self as scalar, Scope};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, IndexExpr, Ref};
use std::collections::{BTreeMap, BTreeSet};

pub(super) struct Walker<'a> {
    pub(super) env: &'a Env,
    /// The analysis so far: owned while the program is walked, borrowed by a query
    /// (a query cloned the whole analysis for each claim: quadratic in claims × families).
    pub(super) a: std::borrow::Cow<'a, Analysis>,
    /// Loop variables bound to their current value (a symbol or a number).
    pub(super) bind: BTreeMap<String, Expr>,
    /// Families whose members are fresh in the symbolic iteration (read at one offset).
    pub(super) fresh: BTreeSet<String>,
    /// Inside a symbolic iteration: reads of things that are not fresh depend on `past`.
    pub(super) symbolic: bool,
    /// Walking the backward program: reads of forward tensors are approximations.
    pub(super) backward: bool,
    /// iid tensors: every element independent, identically distributed.
    pub(super) iid: BTreeSet<Key>,
    /// Members written in the current iteration (for `+=` starting from zero).
    pub(super) written: BTreeSet<String>,
    /// Declared tensors (parameters, inputs, gradient seeds): random leaves; a family
    /// declared for every member has `None`, a declared member its subscript.
    pub(super) leaves: BTreeSet<(Key, Option<Expr>)>,
    /// The work done so far, in expression nodes read, combined and stored
    /// ([`MOMENT_FILE_WORK`]).
    pub(super) work: std::cell::Cell<u64>,
    /// Leaves the symbolic iteration read that earlier iterations may have read too
    /// (not a fresh family's member): what `past` depends on besides the fresh members
    /// and the starts.
    pub(super) past_leaves: std::cell::RefCell<BTreeSet<Source>>,
    /// Symbols set by a claim's givens (`sigma_W^2 = 1/J` as sigma_W = sqrt(1/J)),
    /// substituted wherever the program is read ([`super::analyze_with`]).
    pub(super) settings: Vec<(String, Expr)>,
    /// Capitals summed by the enclosing product terms while a factor of one is walked:
    /// a parenthesized sum or a negation inside `W[j,I] (x[b,I] + y[b,I])` reads the
    /// summand's `i`, it does not sum `I` again (the interpreter's reading,
    /// `check::capitals`).
    pub(super) outer: std::cell::RefCell<Vec<String>>,
    /// The conditions on the sizes under which the windows of the sums walked so far read
    /// distinct elements (circular padding wraps a window longer than its extent onto
    /// itself), to be checked at the sizes of a claim ([`Analysis::wraps`]).
    pub(super) wraps: std::cell::RefCell<Vec<super::Window>>,
    /// Tensors a `+=` or `-=` of an enclosing loop adds to at the same elements in every
    /// iteration (its left side does not move with the loop variable), with the reason:
    /// the walk sees a loop's body twice (the first iteration and a symbolic one), never
    /// the sum of its iterations, so their moments are not known (probe 30b: `for l in
    /// 1..L: y[b] += x[b]` was walked as `y = x`, and `Var(y) == 1` proved).
    pub(super) accumulated: BTreeMap<Key, String>,
    /// The ranges (first and last value) of the loops around the statement walked, by
    /// variable: where a read of a tensor written in part falls ([`super::partial`]).
    pub(super) ranges: BTreeMap<String, (Expr, Expr)>,
    /// Reading a claim's expression (its loop variables range over their loops).
    pub(super) claim: bool,
    /// The sizes of the plain indices reading each tensor's dimension
    /// ([`super::partial::plain_reads`]).
    pub(super) plain_reads: BTreeMap<(Key, usize), BTreeSet<String>>,
}

/// The work the moments engine may do on one file (one [`super::analyze`] call or one
/// query), counted in expression nodes: every distribution read (cloned from a stored
/// member), every product and sum of distributions computed (its result's nodes), and
/// every statement's result. Each of these costs time in proportion to its nodes (clones,
/// products of the means and second moments, drops), so the count follows the time
/// without measuring it. A product of 149 factors in each of 300 backward statements
/// (`tests/robustness/scalar_product_150_copies.tq`) or a chain of square roots read
/// through a sum of 169 copies took seconds with every value under
/// [`super::statements::MAX_MOMENT_NODES`]; past this budget every later statement's
/// moments are unknown with the reason (docs/fuzzing.md). The largest use among
/// `problems/` and `tests/cases/` is 5,833 (`tests/cases/red14c/adam_bias.tq`).
pub const MOMENT_FILE_WORK: u64 = 1_000_000;

/// The reason given for a statement whose moments were not derived because the file's
/// work budget ([`MOMENT_FILE_WORK`]) was spent.
pub(super) fn work_spent() -> String {
    format!(
        "the moments engine's work on this file exceeded its budget of {MOMENT_FILE_WORK} expression nodes (not derived further)"
    )
}

/// The units of the file's exact work (`sym::ExactWork`) one expression node of this
/// engine costs: a node read, combined and stored costs about as much time as a few
/// products of machine words in exact arithmetic.
pub const MOMENT_NODE_UNITS: u64 = 20;

/// The reason given once the file's exact work is spent.
fn exact_spent() -> String {
    sym::current_exact_work().map_or_else(
        || "the exact work budget was spent".to_string(),
        |w| format!("the moments engine stopped: {}", w.reason()),
    )
}

/// The expression nodes of a distribution (its exact moments, approximate mean,
/// variance bounds, quadrature input and finite support together).
pub(super) fn rv_nodes(rv: &Rv) -> usize {
    let mut n = 0usize;
    let mut add = |e: &Expr| n = n.saturating_add(e.node_count());
    rv.mean.iter().chain(rv.m2.iter()).for_each(&mut add);
    rv.approx_mean.iter().for_each(|(e, _)| add(e));
    rv.positive_mean.iter().for_each(&mut add);
    rv.var_bounds.iter().for_each(|(e, _)| add(e));
    if let Some(q) = &rv.quad {
        add(&q.mean);
        add(&q.var);
    }
    rv.finite.iter().flatten().for_each(|(v, p)| {
        add(v);
        add(p);
    });
    n
}

/// The expression nodes above which a statement's moments are brought to a normal form
/// before they are checked against the budget and stored ([`compact`]).
pub(super) const COMPACT_NODES: usize = 2_000;

/// `rv` with each of its expressions replaced by its expanded form (`sym::expand`: the
/// like terms collected) where that has fewer nodes, when together they have more than
/// [`COMPACT_NODES`]. A value the next statement reads twice (`h_{l+1} = h_l + α W_l
/// h_l`: E[h_{l+1}²] = E[h_l²] + α² E[h_l²]) doubled its tree at every statement, so a
/// residual net of fixed depth was derived to 12 layers only (probe37 p11); in the
/// normal form it grows with the polynomial's terms (l + 1 there). Below the threshold
/// the moments keep the form the rules wrote (as `tq derive` prints them); the budget
/// ([`super::statements::MAX_MOMENT_NODES`]) stays the guard for what no normal form
/// shrinks.
pub(super) fn compact(rv: Rv) -> Rv {
    if rv_nodes(&rv) <= COMPACT_NODES {
        return rv;
    }
    // One budget for all the expansions of one value (each `sym::expand` alone may spend
    // MAX_EXPAND_WORK): 20 nested tanh in a scalar program spent more than a minute here,
    // in the editor's derivation (the bounded fuzz run's deadline, session 38). Past it the
    // value keeps the form the rules wrote.
    let (out, work) = sym::with_work_budget(COMPACT_WORK, || compact_within(rv.clone()));
    if work.exhausted {
        rv
    } else {
        out
    }
}

/// The expansion work (units of `sym::algebra::product_weight`) one [`compact`] may spend.
const COMPACT_WORK: usize = 200_000;

fn compact_within(mut rv: Rv) -> Rv {
    let norm = |e: &mut Expr| {
        if sym::work_exhausted() {
            return;
        }
        let x = sym::expand(e);
        if x.node_count() < e.node_count() {
            *e = x;
        }
    };
    rv.mean.iter_mut().chain(rv.m2.iter_mut()).for_each(norm);
    rv.approx_mean.iter_mut().for_each(|(e, _)| norm(e));
    rv.positive_mean.iter_mut().for_each(norm);
    rv.var_bounds.iter_mut().for_each(|(e, _)| norm(e));
    if let Some(q) = &mut rv.quad {
        norm(&mut q.mean);
        norm(&mut q.var);
    }
    rv.finite.iter_mut().flatten().for_each(|(v, p)| {
        norm(v);
        norm(p);
    });
    rv
}

fn sub_text(e: &Expr) -> String {
    let t = sym::to_ascii(e);
    if t.len() == 1 {
        t
    } else {
        format!("{{{t}}}")
    }
}

/// The name a declared tensor's sources carry: the family key, `.grad` for a seed.
pub(super) fn leaf_name(key: &Key) -> String {
    if key.1 {
        format!("{}.grad", key.0)
    } else {
        key.0.clone()
    }
}

/// The printed member: `L_{l+1}`, `W_1`, `y`.
pub fn member_text(key: &Key, subs: &[Expr]) -> String {
    let mut s = key.0.clone();
    if !subs.is_empty() {
        let inner: Vec<String> = subs.iter().map(sym::to_ascii).collect();
        let joined = inner.join(",");
        if subs.len() == 1 {
            s = format!("{s}_{}", sub_text(&subs[0]));
        } else {
            s = format!("{s}_{{{joined}}}");
        }
    }
    if key.1 {
        s.push_str(".grad");
    }
    s
}

impl<'a> Walker<'a> {
    /// Charges `rv`'s nodes to the file's work ([`MOMENT_FILE_WORK`]); `Err` with the
    /// reason once it is spent.
    ///
    /// The same nodes are charged to the file's exact work (`sym::ExactWork`, shared with
    /// the other exact engines and across the queries of every claim, where this
    /// engine's own budget is per analysis or query).
    pub(super) fn charge(&self, rv: Rv) -> Result<Rv, String> {
        self.spent()?;
        let nodes = rv_nodes(&rv) as u64;
        let w = self.work.get().saturating_add(nodes);
        self.work.set(w);
        if !sym::charge_exact(nodes.saturating_mul(MOMENT_NODE_UNITS)) {
            return Err(exact_spent());
        }
        self.spent()?;
        Ok(rv)
    }

    /// `Err` with the reason when the file's work budget (this engine's, or the file's
    /// exact work) is spent.
    pub(super) fn spent(&self) -> Result<(), String> {
        if self.work.get() > MOMENT_FILE_WORK {
            return Err(work_spent());
        }
        if sym::exact_work_spent() {
            return Err(exact_spent());
        }
        Ok(())
    }

    /// Whether a member is a declared random leaf.
    pub(super) fn is_leaf(&self, key: &Key, sub: Option<&Expr>) -> bool {
        self.leaves.contains(&(key.clone(), None))
            || sub.is_some_and(|s| self.leaves.contains(&(key.clone(), Some(s.clone()))))
    }

    pub(super) fn key(&self, r: &Ref) -> Key {
        (self.env.key_of(&r.name), r.grad)
    }

    pub(super) fn is_family(&self, key: &Key) -> bool {
        self.env
            .tensors
            .get(&key.0)
            .is_some_and(|t| t.family_arity > 0)
    }

    /// The subscripts of a family reference under the current bindings.
    pub(super) fn subs(&self, r: &Ref) -> Result<Vec<Expr>, String> {
        if !self.is_family(&self.key(r)) {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for ix in &r.name.sub {
            let mut e = index_expr(ix)?;
            for (v, val) in &self.bind {
                e = e.subs(v, val);
            }
            out.push(e);
        }
        Ok(out)
    }

    pub(super) fn lower_scalar(&self, e: &ast::Expr) -> Result<Expr, String> {
        let mut x = scalar::lower(e, &Scope::default())?;
        for (v, val) in &self.bind {
            x = x.subs(v, val);
        }
        for (v, val) in &self.settings {
            x = sym::simplify(&x.subs(v, val));
        }
        Ok(x)
    }

    /// The element distribution of a declaration.
    pub(super) fn declared(
        &self,
        key: &Key,
        sub: Option<Expr>,
        dist: &ast::Call,
    ) -> Result<(Rv, bool), String> {
        let args: Vec<Expr> = dist
            .args
            .iter()
            .map(|a| self.lower_scalar(a))
            .collect::<Result<_, _>>()?;
        let src = Source::member(&leaf_name(key), sub);
        let rv = match (dist.func.name.as_str(), args.as_slice()) {
            ("normal", [m, v]) => {
                let mut rv = Rv::leaf(
                    src,
                    m.clone(),
                    v.clone() + Expr::pow(m.clone(), Expr::int(2)),
                );
                rv.gauss = Gauss::Exact;
                rv.symmetric = m.is_zero();
                rv
            }
            ("symmetric", [v]) => {
                let mut rv = Rv::leaf(src, Expr::zero(), v.clone());
                rv.symmetric = true;
                rv
            }
            ("moments", [m, s]) => Rv::leaf(src, m.clone(), s.clone()),
            ("uniform", [a, b]) => {
                let mean = (a.clone() + b.clone()) / Expr::int(2);
                let m2 = (Expr::pow(a.clone(), Expr::int(2))
                    + a.clone() * b.clone()
                    + Expr::pow(b.clone(), Expr::int(2)))
                    / Expr::int(3);
                let mut rv = Rv::leaf(src, mean, m2);
                rv.symmetric = (a.clone() + b.clone()).is_zero();
                rv.uniform = Some((a.clone(), b.clone()));
                rv
            }
            ("bernoulli", [p]) => {
                let mut rv = Rv::leaf(src, p.clone(), p.clone());
                rv.finite = Some(vec![
                    (Expr::zero(), Expr::one() - p.clone()),
                    (Expr::one(), p.clone()),
                ]);
                rv
            }
            (f, _) => return Err(format!("the distribution `{f}` has no moments rule")),
        };
        Ok((rv, true))
    }

    pub(super) fn store(&mut self, key: Key, subs: Vec<Expr>, rv: Rv) {
        if subs.is_empty() {
            self.a
                .to_mut()
                .entries
                .insert(key, Entry::Plain(Box::new(rv)));
            return;
        }
        let sub = subs[0].clone();
        match self.a.to_mut().entries.get_mut(&key) {
            Some(Entry::Family { members, .. }) => {
                members.retain(|(s, _)| *s != sub);
                members.push((sub, rv));
            }
            _ => {
                self.a.to_mut().entries.insert(
                    key,
                    Entry::Family {
                        members: vec![(sub, rv)],
                        templates: vec![],
                    },
                );
            }
        }
    }

    /// The distribution of a member, if known.
    pub(super) fn lookup(&self, key: &Key, subs: &[Expr]) -> Result<Rv, String> {
        let text = member_text(key, subs);
        // What the read tensor's moments need to be defined, for the statement reading it
        // (`Walker::with_conditions`).
        for c in self.a.conditions.get(key).into_iter().flatten() {
            sym::defined::note_condition(c.clone());
        }
        match self.a.entries.get(key) {
            Some(Entry::Plain(rv)) if subs.is_empty() => self.charge((**rv).clone()),
            Some(Entry::Family { members, templates }) if subs.len() == 1 => {
                let sub = &subs[0];
                if let Some((_, rv)) = members.iter().find(|(s, _)| sym::identical(s, sub)) {
                    return self.charge(rv.clone());
                }
                if let Some(t) = templates.last() {
                    // A subscript that names no member by itself (`h_l`) ranges over the
                    // starts too: where the loop's form does not give a start's moments
                    // (`E(h_{l+1}) = E(W) E(h_l) = 0` beside `h_0 ~ normal(m, v)`), it
                    // is no form of every member (session 29: `E(h_l) == 0` was proved,
                    // false at l = 0).
                    // The same for a member written outside the loop at a subscript in
                    // the sizes (`h_L = 3 h_{L-1}` after a loop to L - 1: `Var(h_l) ==
                    // (J s)^l v` was proved beside the true `Var(h_L) == 9 (J s)^(L-1) v`),
                    // where a moment one side knows and the other does not differs too.
                    if !sub.free_symbols().is_empty() {
                        for (start, own) in members.iter() {
                            let numeric = start.as_num().is_some();
                            let val = sym::simplify(&(start.clone() - t.offset.clone()));
                            let at = super::recurrence::resolve_geometric(
                                &subs_rv(&t.rv, &t.var, &val),
                                &self.a.geometric,
                                numeric,
                            );
                            let names = start.free_symbols();
                            let whole = |e: &Expr| super::recurrence::whole_exponents(e, &names);
                            let differs = |a: &Option<Expr>, b: &Option<Expr>| match (a, b) {
                                (Some(a), Some(b)) => {
                                    !sym::simplify(&(whole(a) - whole(b))).is_zero()
                                }
                                (None, None) => false,
                                _ => !numeric,
                            };
                            if differs(&at.mean, &own.mean) || differs(&at.m2, &own.m2) {
                                return Err(format!(
                                    "{text} ranges over the {} {} too, whose moments the loop's form for the members it writes does not give (claim the {0} on its own, and the members the loop writes with their subscript, `{}`)",
                                    if numeric { "start" } else { "member" },
                                    member_text(key, std::slice::from_ref(start)),
                                    member_text(key, &[sym::simplify(&(Expr::sym(&t.var) + t.offset.clone()))]),
                                ));
                            }
                        }
                    }
                    let val = sym::simplify(&(sub.clone() - t.offset.clone()));
                    let rv = subs_rv(&t.rv, &t.var, &val);
                    // A member at a whole subscript (within reach of expansion) has its
                    // geometric sums written as polynomials, defined at ratio 1.
                    let whole = val.as_int().is_some_and(|n| (-64..=64).contains(&n));
                    let mut rv =
                        super::recurrence::resolve_geometric(&rv, &self.a.geometric, whole);
                    // The subscript's names are whole numbers (a family's members), so are
                    // the closed form's step counts: `(c^2)^l` is written `c^(2 l)`.
                    let names = sub.free_symbols();
                    let w = |e: &Option<Expr>| {
                        e.as_ref()
                            .map(|e| super::recurrence::whole_exponents(e, &names))
                    };
                    rv.mean = w(&rv.mean);
                    rv.m2 = w(&rv.m2);
                    return self.charge(rv);
                }
                Err(self.why(key, &text))
            }
            _ => Err(self.why(key, &text)),
        }
    }

    fn why(&self, key: &Key, text: &str) -> String {
        match self.a.unknown.get(key) {
            Some(w) => cut_chain(format!("the moments of {text} are not known: {w}")),
            None if self.is_family(key) && !key.1 => {
                format!("the moments of {text} are not known (tq has none for that member)")
            }
            None => format!("the moments of {text} are not known"),
        }
    }

    /// The distribution of one read element.
    pub(super) fn read(&self, r: &Ref) -> Result<Rv, String> {
        let key = self.key(r);
        self.partial_read(r, &key)?;
        let subs = self.subs(r)?;
        let member = member_text(&key, &subs);
        let mut rv = self.lookup(&key, &subs)?;
        if rv.is_constant() {
            return Ok(rv);
        }
        let leaf = self.is_leaf(&key, subs.first());
        // Reads of an iid tensor at a position: distinct positions are independent.
        let state = rv.sources.iter().any(|s| s.member == "past");
        let iid = self.iid.contains(&key);
        // Inside the symbolic iteration, a read of anything but a fresh family's member
        // (a parameter or input read in every iteration, a family's start, a member at
        // a fixed subscript) may have fed the earlier iterations, which `past` stands for.
        let fresh = self.fresh.contains(&key.0) && !subs.is_empty();
        let shared = self.symbolic && !state && !fresh;
        if leaf {
            let this = Source::member(&leaf_name(&key), subs.first().cloned());
            if shared {
                let var_free = this.sub.as_ref().is_none_or(|e| {
                    self.bind.values().all(|b| {
                        b.free_symbols()
                            .iter()
                            .all(|v| !e.free_symbols().contains(v))
                    })
                });
                self.past_leaves.borrow_mut().insert(if var_free {
                    this.clone()
                } else {
                    Source::whole(&this.member)
                });
            }
            // A zero-mean leaf read in every iteration is not uncorrelated with the state:
            // `u_{l+1} = u_l + c` makes u_l = u_0 + l c (probe31/c g29c; the state was
            // taken to be free of c, and Var(u_l) = 1 + l sc was printed exact).
            if rv.mean.as_ref().is_some_and(|m| m.is_zero()) && !shared {
                // A zero-mean leaf: anything linear in it is uncorrelated with what
                // does not depend on it.
                rv.lin0 = vec![this.clone()];
            }
            rv.sources = [Source {
                pos: if iid { position(&r.indices) } else { None },
                ..this
            }]
            .into();
        } else if state && iid {
            rv.sources = [Source {
                pos: position(&r.indices),
                ..Source::whole(&format!("past:{member}"))
            }]
            .into();
        }
        if shared {
            rv.sources.insert(Source::whole("past"));
        }
        if self.edge_dependent(r) {
            rv.approx.insert(Approximation::Border);
        }
        if self.backward && !key.1 && !leaf {
            rv.sources.insert(Source::whole("forward pass"));
            rv.approx.insert(Approximation::GradientIndependence);
        }
        Ok(rv)
    }

    /// The first read of an equation's right side that sums over the whole extent of a
    /// padded dimension at a shift by one of the left side's own indices (printed), where
    /// the read crosses the border ([`Self::edge_dependent`]): a position `i + f` along a
    /// dimension of extent `N` whose `i` is summed (not a left-side index, not a loop
    /// variable) with range `N` or a size computed from `N` (`size Y = ceil(X / 2)` read at
    /// `2y + dx`: a strided convolution's weight gradient) and whose other terms name a
    /// left-side index
    /// (`W.grad[dx,c,j] += y.grad[B,X,j] h[B,X+dx,c]`, the gather form of a convolution's
    /// weight gradient; a correlation at lag k `c[b,k] = u[b,X] v[b,X+k]`). Every element
    /// with a non-zero shift then sums over the border at every size (Var(W.grad[dx]) =
    /// B (X - dx) v), so the moments away from the border are the shift 0's only
    /// ([`Approximation::ShiftedSum`], probe38/p a02). A summed tap over its own range
    /// (`x + DX`, DX over D) is a band at the edges of the element's own positions and is
    /// not this.
    pub(super) fn shifted_sum(&self, eq: &ast::Equation) -> Option<String> {
        let lhs = super::refs::refs_vars(&eq.lhs);
        super::refs::refs_in(&eq.rhs).into_iter().find_map(|r| {
            if !self.edge_dependent(r) {
                return None;
            }
            let dims = self.env.tensor_of(&r.name)?.dims.clone();
            let range = |name: &str| {
                self.env
                    .index_size(&name.to_lowercase())
                    .or_else(|| self.env.index_size(name))
            };
            r.indices
                .iter()
                .flatten()
                .enumerate()
                .any(|(k, ix)| {
                    let IndexExpr::Affine(a) = ix else {
                        return false;
                    };
                    let Some(extent) = dims.get(k) else {
                        return false;
                    };
                    // The summed index spans the dimension: its range is the extent,
                    // or a size computed from it (`size Y = ceil(X / 2)` read at `2y`).
                    let spans = |size: &str| {
                        size == extent
                            || self.env.derived_sizes.iter().any(|(n, e)| {
                                let mut reads = false;
                                crate::syntax::visit::walk_refs(e, &mut |r| {
                                    reads |= r.indices.is_none()
                                        && crate::syntax::printer::print_name(&r.name) == *extent;
                                });
                                n == size && reads
                            })
                    };
                    let whole = a.terms.iter().any(|t| {
                        matches!(t.factors.as_slice(), [f] if t.coef != 0
                            && !lhs.contains(&f.name)
                            && !self.bind.contains_key(&f.name)
                            && range(&f.name).is_some_and(|s| spans(&s)))
                    });
                    let shifted = a
                        .terms
                        .iter()
                        .any(|t| t.factors.iter().any(|f| lhs.contains(&f.name)));
                    whole && shifted
                })
                .then(|| crate::syntax::printer::print_ref(r))
        })
    }

    /// Whether the element a read gives depends on where the reading element is:
    /// positions that follow the boundary rule (two indices, a stride, a sign or a
    /// symbol factor: `x+dx`, `t-2dt`, `2x+1`, `-x`) read zeros outside the extent
    /// under zero padding, valid ranges and no rule (only circular padding wraps them);
    /// an index plus a constant (`x+1`) is never wrapped (docs/numeric.md), so the
    /// last elements read elements nobody wrote, under every rule — except along a
    /// loop's own variable, whose range the loop sets (`h[b,t-1,j]` for t in 1..T).
    fn edge_dependent(&self, r: &Ref) -> bool {
        let dims = self
            .env
            .tensor_of(&r.name)
            .map(|t| t.dims.clone())
            .unwrap_or_default();
        r.indices.iter().flatten().enumerate().any(|(k, ix)| {
            let IndexExpr::Affine(a) = ix else {
                return false;
            };
            let wraps =
                a.terms.len() >= 2 || a.terms.iter().any(|t| t.coef != 1 || t.factors.len() != 1);
            if wraps {
                return match self.env.boundary {
                    Some(ast::Boundary::Circular) => false,
                    // Valid ranges: a tensor declared with its own extent (`X0` read at
                    // `s*x+dx`) is sized so that every read falls inside, as the rule
                    // says; a read at the extent of its own index (`t-2dt` on a `T`
                    // dimension) falls outside at the border and reads 0.
                    Some(ast::Boundary::Valid) => a.terms.iter().any(|t| {
                        t.factors.iter().any(|f| {
                            let lower = f.name.to_lowercase();
                            self.env
                                .index_size(&lower)
                                .or_else(|| self.env.index_size(&f.name))
                                .is_some_and(|s| dims.get(k) == Some(&s))
                        })
                    }),
                    _ => true,
                };
            }
            a.constant != 0
                && a.terms
                    .iter()
                    .all(|t| t.factors.iter().all(|f| !self.bind.contains_key(&f.name)))
                && !a.terms.is_empty()
        })
    }
}

/// A reason that names the member it rests on, which names its own, and so on: one
/// link per member of a family, so over 256 fixed layers each of 229 reasons held up to
/// 256 links (1 MB of `tq check` output, deep_fixed_256.tq, docs/fuzzing.md session 28).
/// Past [`KEPT_LINKS`] links, the first ones are kept with the number of the others cut
/// and the first reason of all (what the chain started from); a reason already cut
/// carries its count along.
fn cut_chain(full: String) -> String {
    const LINK: &str = " are not known: ";
    const CUT: &str = " more reasons of this kind) … ";
    let starts: Vec<usize> = full.match_indices(LINK).map(|(i, _)| i).collect();
    if starts.len() <= KEPT_LINKS {
        return full;
    }
    let head_end = starts[KEPT_LINKS - 1] + LINK.len();
    let last = starts[starts.len() - 1] + LINK.len();
    let tail = &full[last..];
    // A tail already cut: `… (k more reasons of this kind) … root`.
    let (before, root) = match tail
        .strip_prefix("… (")
        .and_then(|t| t.split_once(CUT))
        .and_then(|(k, root)| Some((k.parse::<usize>().ok()?, root)))
    {
        Some((k, root)) => (k, root),
        None => (0, tail),
    };
    let cut = starts.len() - KEPT_LINKS + before;
    format!("{}… ({cut}{CUT}{root}", &full[..head_end])
}

/// The links of a chain of reasons kept whole ([`cut_chain`]).
const KEPT_LINKS: usize = 3;

#[cfg(test)]
mod tests {
    use super::cut_chain;

    /// A chain grown one member at a time, as the walker grows it, stays short and
    /// counts every member it cut; the root reason is kept.
    #[test]
    fn a_chain_of_reasons_is_cut_and_counts_what_it_cut() {
        let mut w = "the root reason".to_string();
        for l in 1..=300 {
            w = cut_chain(format!("the moments of L_{l} are not known: {w}"));
            assert!(w.len() < 200, "{l}: {w}");
            assert!(w.ends_with("the root reason"), "{w}");
        }
        assert!(
            w.starts_with("the moments of L_300 are not known: the moments of L_299 are not known: the moments of L_298 are not known: … (297 more reasons of this kind) … the root reason"),
            "{w}"
        );
        // Short chains are kept whole.
        let short = "the moments of a are not known: the moments of b are not known: x";
        assert_eq!(cut_chain(short.to_string()), short);
    }
}
