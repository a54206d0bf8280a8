//! Output sizes against the reads and the boundary rule (docs/language.md, "Output
//! sizes and the boundary rule").
//!
//! A statement that writes `y[..., y, ...]` and reads `x[..., 2y + DX, ...]` ties the
//! size of its written axis (Y) to the extent of the dimension it reads (X) through the
//! read's index form (stride 2, window DX, offset 0) and the file's boundary rule:
//!
//! - `valid`: Y is the largest size whose every read is inside: each output position
//!   reads in range, and one more position would read out of range. A read out of range
//!   is E0303 (an error), a smaller Y is E0304 (a warning); both name the size that fits.
//! - `zero`: Y is the `same` size, ceil(X/|s|) for stride s, or larger up to the `full`
//!   size (the largest Y whose every position reads at least one element inside);
//!   anything else is E0304.
//! - `circular`: Y is the `same` size ceil(X/|s|); anything else is E0304.
//!
//! A read of a dimension whose extent is the output index's own size (`x + dx` on X for
//! an output over X) is the `same` convolution by construction; under `valid` its reads
//! that fall outside read 0 as under zero padding (docs/moments.md), which is E0304.
//!
//! An output written at a shifted position (`h[b, x+1]`) is checked as a plain one: its
//! reads move with `x` over x's range. A centred output index (`index x : X centered`)
//! runs over -(X-1)/2..; its reads are checked from there.
//!
//! Everything is decided exactly, in whole numbers, at points: the sample values, each
//! claim's givens (with the sample values for the rest), and, where a size involved is
//! derived (`size Y = floor((X - DX)/2) + 1`), every combination of the sizes its value
//! uses from 1 to [`SEARCH_MAX`] (the other names at their sample values). A diagnostic
//! names the point it was found at; no point, no diagnostic.

mod hints;
use hints::*;

use super::{givens, members, Env};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_affine;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// The largest value each base size of a derived size takes in the search.
pub const SEARCH_MAX: i64 = 12;
/// The most base sizes searched together.
const SEARCH_NAMES: usize = 4;

/// One term of a read's position other than the output index: `coef * syms * index`.
#[derive(Clone, Debug)]
struct Window {
    coef: i64,
    syms: Vec<String>,
    size: String,
    centered: bool,
    /// The index's capital as written in a size (`DX` for `dx`).
    capital: String,
}

/// A read of a dimension at a position that moves with the output index.
#[derive(Clone, Debug)]
struct Read {
    span: Span,
    tensor: String,
    text: String,
    extent: String,
    /// The output index's coefficient: `coef * syms` (the stride).
    coef: i64,
    syms: Vec<String>,
    windows: Vec<Window>,
    constant: i64,
}

/// An output axis of one statement and the reads that move with it.
#[derive(Clone, Debug)]
struct Axis {
    index: String,
    index_span: Span,
    size: String,
    /// The output index is centred (`index x : X centered`): its positions run from
    /// -(X-1)/2, not from 0.
    centered: bool,
    reads: Vec<Read>,
}

/// A point: a whole value for every size and symbol that has one there, and how to
/// describe it.
struct Point {
    vals: BTreeMap<String, i64>,
    boundary: Boundary,
    what: String,
    /// The claim whose givens make the point.
    claim: Option<Span>,
}

/// Checks every output axis of `program` against its reads (see the module comment).
/// `derived` lists the derived sizes and their values ([`members::expand_derived`]).
pub fn check(program: &Program, env: &Env, derived: &[(String, Expr)]) -> Vec<Diagnostic> {
    let Some(boundary) = env.boundary else {
        return Vec::new();
    };
    let mut axes = Vec::new();
    collect(&program.items, env, &BTreeSet::new(), &mut axes);
    if axes.is_empty() {
        return Vec::new();
    }
    let capitals = capitals(env);
    let sample = sample_values(program, env, &capitals);
    let mut points = Vec::new();
    if let Some(vals) = &sample {
        points.push(Point {
            vals: vals.clone(),
            boundary,
            what: "at the sample values".to_string(),
            claim: None,
        });
    }
    for item in &program.items {
        if let ItemKind::Claim(c) = &item.kind {
            let base = sample.clone().unwrap_or_default();
            let mut vals = base.clone();
            for g in givens::resolved(&c.given, &c.at, env) {
                let Expr::Rel(RelOp::Eq, l, r, _) = &g else {
                    continue;
                };
                let Expr::Ref(rf) = &**l else { continue };
                if rf.indices.is_some() || rf.grad {
                    continue;
                }
                let name = crate::syntax::printer::print_name(&rf.name);
                if !env.sizes.contains_key(&name) && !env.symbols.contains_key(&name) {
                    continue;
                }
                if let Some(members::Exact::Int(v)) =
                    members::eval_with(r, &with_caps(&base, &capitals))
                {
                    vals.insert(name, v);
                }
            }
            recompute_derived(&mut vals, derived, &capitals, &base);
            let b = c.boundary.unwrap_or(boundary);
            if vals != base || b != boundary {
                points.push(Point {
                    vals,
                    boundary: b,
                    what: "at the givens of a claim".to_string(),
                    claim: Some(item.span),
                });
            }
        }
    }
    let mut out = Vec::new();
    for axis in &axes {
        let mut found = None;
        for p in &points {
            found = judge(axis, p, env);
            if found.is_some() {
                break;
            }
        }
        if found.is_none() {
            found = search(axis, derived, &capitals, sample.as_ref(), boundary, env);
        }
        out.extend(found);
    }
    out
}

/// Index capitals to their sizes (`DX` to `D`), for values written with capitals.
fn capitals(env: &Env) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, info) in &env.indices {
        let cap = name.trim_end_matches('\'').to_uppercase();
        if cap != info.size && !env.sizes.contains_key(&cap) {
            out.insert(cap, info.size.clone());
        }
    }
    out
}

fn with_caps(
    vals: &BTreeMap<String, i64>,
    caps: &BTreeMap<String, String>,
) -> BTreeMap<String, i64> {
    let mut v = vals.clone();
    for (cap, size) in caps {
        if let Some(x) = vals.get(size) {
            v.entry(cap.clone()).or_insert(*x);
        }
    }
    v
}

/// The sample line's whole values (sizes, derived sizes, whole symbols).
fn sample_values(
    program: &Program,
    env: &Env,
    _caps: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, i64>> {
    let mut vals = BTreeMap::new();
    let mut any = false;
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            any = true;
            for b in bs {
                if !env.sizes.contains_key(&b.name.name) && !env.symbols.contains_key(&b.name.name)
                {
                    continue;
                }
                if let Some(members::Exact::Int(v)) = members::eval_const(&b.value) {
                    vals.insert(b.name.name.clone(), v);
                }
            }
        }
    }
    any.then_some(vals)
}

/// The derived sizes at a point whose other sizes changed (a claim's givens): computed
/// again from their values, unless the point sets them itself.
fn recompute_derived(
    vals: &mut BTreeMap<String, i64>,
    derived: &[(String, Expr)],
    caps: &BTreeMap<String, String>,
    base: &BTreeMap<String, i64>,
) {
    for (name, value) in derived {
        if vals.get(name) != base.get(name) {
            continue;
        }
        match members::eval_with(value, &with_caps(vals, caps)) {
            Some(members::Exact::Int(v)) => {
                vals.insert(name.clone(), v);
            }
            _ => {
                vals.remove(name);
            }
        }
    }
}

/// The derived sizes (`env.derived_sizes`) computed again at a point of the other
/// sizes (`vals`, which must not set them): `false` when one is not a whole number of at
/// least 1 there (the point is no point of the model). Monte Carlo's other points use it.
pub fn derive_sizes_at(vals: &mut BTreeMap<String, i64>, env: &Env) -> bool {
    let caps = capitals(env);
    for (name, value) in &env.derived_sizes {
        match members::eval_with(value, &with_caps(vals, &caps)) {
            Some(members::Exact::Int(v)) if v >= 1 => {
                vals.insert(name.clone(), v);
            }
            _ => return false,
        }
    }
    true
}

/// [`derive_sizes_at`], saying why a derived size has no value, in E0412's words
/// (`` `Y` would be 5/2, not a whole number ``): `tq variants` leaves such a variant
/// out with this reason (probe34 p09: `mults(y)` was answered 15 where Y = 5/2).
pub fn derive_sizes_or_why(vals: &mut BTreeMap<String, i64>, env: &Env) -> Result<(), String> {
    let caps = capitals(env);
    for (name, value) in &env.derived_sizes {
        let shown = crate::syntax::printer::print_expr(value);
        match members::eval_with(value, &with_caps(vals, &caps)) {
            Some(members::Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                vals.insert(name.clone(), v);
            }
            Some(members::Exact::Int(v)) => {
                return Err(format!(
                    "`{name}` = {shown} would be {v}: a size is a whole number from 1 to 1,000,000"
                ))
            }
            Some(members::Exact::Frac(n, d)) => {
                return Err(format!(
                    "`{name}` = {shown} would be {n}/{d}, not a whole number"
                ))
            }
            None => {
                return Err(format!(
                    "`{name}` = {shown} cannot be computed: a size it reads has no value, or it divides by zero"
                ))
            }
        }
    }
    Ok(())
}

/// A derived size that is not a whole number of at least 1 at a point of the other
/// sizes (`point`, exact values; a size it reads that the point leaves out, or a value
/// the point gives that is not whole, makes it unknown there): its name and value, for
/// the engines to say that the point is no point of the model (probe35/p a08: a claim was
/// refuted "at D = 1, X = 2" where `size H = (X - DX)/2 + 1` is 3/2). `None` when every
/// derived size it can compute is whole and at least 1.
pub fn derived_size_off(
    point: &BTreeMap<String, num_rational::BigRational>,
    env: &Env,
) -> Option<(String, String)> {
    let caps = capitals(env);
    let mut vals: BTreeMap<String, i64> = BTreeMap::new();
    for (n, v) in point {
        if env.sizes.contains_key(n) && v.is_integer() {
            if let Some(k) = num_traits::ToPrimitive::to_i64(&v.to_integer()) {
                vals.insert(n.clone(), k);
            }
        }
    }
    for (name, value) in &env.derived_sizes {
        let given = point.get(name);
        let got = members::eval_with(value, &with_caps(&vals, &caps));
        let shown = match (&got, given) {
            (Some(members::Exact::Int(v)), _) if *v >= 1 => {
                vals.insert(name.clone(), *v);
                continue;
            }
            (Some(members::Exact::Int(v)), _) => v.to_string(),
            (Some(members::Exact::Frac(n, d)), _) => format!("{n}/{d}"),
            (None, Some(v))
                if !v.is_integer() || *v < num_rational::BigRational::from_integer(1.into()) =>
            {
                v.to_string()
            }
            (None, _) => continue,
        };
        return Some((name.clone(), shown));
    }
    None
}

/// The output axes of every statement, with their moving reads.
fn collect(items: &[Item], env: &Env, loop_vars: &BTreeSet<String>, out: &mut Vec<Axis>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => axes_of(eq, env, loop_vars, out),
            ItemKind::Loop(l) => {
                let mut inner = loop_vars.clone();
                inner.insert(l.range.var.name.clone());
                collect(&l.body, env, &inner, out);
            }
            ItemKind::ForIndices(f) => collect(&f.body, env, loop_vars, out),
            _ => {}
        }
    }
}

fn axes_of(eq: &Equation, env: &Env, loop_vars: &BTreeSet<String>, out: &mut Vec<Axis>) {
    if eq.lhs.grad {
        return;
    }
    let Some(lhs) = &eq.lhs.indices else { return };
    for ix in lhs {
        let IndexExpr::Affine(a) = ix else { continue };
        let [t] = a.terms.as_slice() else { continue };
        // A shifted output position (`h[b, x+1]`) writes elsewhere, but its reads move
        // with the index `x` as a plain one's do: they are checked over x's range.
        if t.coef != 1 || t.factors.len() != 1 {
            continue;
        }
        let u = &t.factors[0];
        if loop_vars.contains(&u.name)
            || is_summed_index(&u.name)
            || env.symbols.contains_key(&u.name)
        {
            continue;
        }
        let Some(size) = env.index_size(&u.name) else {
            continue;
        };
        let mut reads = Vec::new();
        crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| {
            reads_of(r, &u.name, lhs, env, loop_vars, &mut reads);
        });
        if !reads.is_empty() {
            out.push(Axis {
                index: u.name.clone(),
                index_span: u.span,
                size,
                centered: env.index_centered(&u.name),
                reads,
            });
        }
    }
}

/// The positions of `r` that move with the output index `u`. A position with two of the
/// left side's own indices (im2col, `cols[b,x,dx,c] = h[b,x+dx,c]`) belongs to the one
/// whose size is the read dimension's extent (`x` over `X`): for the other (`dx`, the tap
/// axis, D positions by design) it is not an output position, and was checked as one
/// (E0304 "the output axis `dx` ... smaller than the same size X", and under `valid` an
/// E0303 hint `size D = X - X + 1`; probe38/p a04).
fn reads_of(
    r: &Ref,
    u: &str,
    lhs: &[IndexExpr],
    env: &Env,
    loop_vars: &BTreeSet<String>,
    out: &mut Vec<Read>,
) {
    let own = |name: &str| {
        !is_summed_index(name)
            && lhs.iter().any(|ix| {
                matches!(ix, IndexExpr::Affine(a) if a.terms.iter().any(|t| t.factors.iter().any(|f| f.name == name)))
            })
    };
    let u_size = env.index_size(u);
    let Some(idx) = &r.indices else { return };
    let key = env.key_of(&r.name);
    let Some(t) = env.tensors.get(&key) else {
        return;
    };
    'pos: for (q, ix) in idx.iter().enumerate() {
        let IndexExpr::Affine(a) = ix else { continue };
        let Some(extent) = t.dims.get(q) else {
            continue;
        };
        if extent.starts_with(['@', '~', '?']) || !env.sizes.contains_key(extent) {
            continue;
        }
        if a.plain_var().is_some() {
            continue;
        }
        let mut read = Read {
            span: a.span,
            tensor: key.clone(),
            text: print_affine(a),
            extent: extent.clone(),
            coef: 0,
            syms: Vec::new(),
            windows: Vec::new(),
            constant: a.constant,
        };
        let mut moves = false;
        for term in &a.terms {
            let mut syms = Vec::new();
            let mut index = None;
            for f in &term.factors {
                let n = f.name.as_str();
                if loop_vars.contains(n) {
                    continue 'pos;
                }
                let coefficient = env.symbols.contains_key(n)
                    || (env.sizes.contains_key(n) && env.index_size(&n.to_lowercase()).is_none());
                if coefficient {
                    syms.push(n.to_string());
                } else if index.is_some() {
                    continue 'pos;
                } else {
                    index = Some(n.to_string());
                }
            }
            let Some(index) = index else { continue 'pos };
            if index == u {
                if moves {
                    continue 'pos;
                }
                moves = true;
                read.coef = term.coef;
                read.syms = syms;
                continue;
            }
            let low = if is_summed_index(&index) {
                index.to_lowercase()
            } else {
                index.clone()
            };
            let Some(size) = env.index_size(&low) else {
                continue 'pos;
            };
            // Another own index that spans the read dimension owns the position.
            if own(&index) && &size == extent && u_size.as_ref() != Some(extent) {
                continue 'pos;
            }
            read.windows.push(Window {
                coef: term.coef,
                syms,
                size,
                centered: env.index_centered(&low),
                capital: low.trim_end_matches('\'').to_uppercase(),
            });
        }
        if moves && read.coef != 0 {
            out.push(read);
        }
    }
}

/// The range of a read's window (every term but the output index's) at a point.
fn window(read: &Read, vals: &BTreeMap<String, i64>) -> Option<(i64, i64)> {
    let (mut lo, mut hi) = (read.constant, read.constant);
    for w in &read.windows {
        let c = coefficient(w.coef, &w.syms, vals)?;
        let n = *vals.get(&w.size)?;
        if n < 1 {
            return None;
        }
        let (a, b) = if w.centered {
            let a = -(n - 1) / 2;
            (a, a + n - 1)
        } else {
            (0, n - 1)
        };
        let (x, y) = (c.checked_mul(a)?, c.checked_mul(b)?);
        lo = lo.checked_add(x.min(y))?;
        hi = hi.checked_add(x.max(y))?;
    }
    Some((lo, hi))
}

fn coefficient(coef: i64, syms: &[String], vals: &BTreeMap<String, i64>) -> Option<i64> {
    let mut c = coef;
    for s in syms {
        c = c.checked_mul(*vals.get(s)?)?;
    }
    Some(c)
}

/// What a read allows at a point: the stride, the window, the extent, and where the
/// output positions start (0, or -(y-1)/2 for a centred output index).
/// In i128: the products of a source's coefficients (any i64) and sizes (at most
/// 1,000,000 at a point) cannot overflow.
struct Fit {
    s: i128,
    lo: i128,
    hi: i128,
    n: i128,
    centered: bool,
}

fn div_floor(a: i128, b: i128) -> i128 {
    a.div_euclid(b) - i128::from(b < 0 && a.rem_euclid(b) != 0)
}

fn div_ceil(a: i128, b: i128) -> i128 {
    -div_floor(-a, b)
}

impl Fit {
    fn at(read: &Read, centered: bool, vals: &BTreeMap<String, i64>) -> Option<Fit> {
        let s = coefficient(read.coef, &read.syms, vals)?;
        let (lo, hi) = window(read, vals)?;
        let n = *vals.get(&read.extent)?;
        (s != 0 && n >= 1).then_some(Fit {
            s: s.into(),
            lo: lo.into(),
            hi: hi.into(),
            n: n.into(),
            centered,
        })
    }

    /// The first of `y` output positions.
    fn start(&self, y: i128) -> i128 {
        if self.centered {
            -((y - 1) / 2)
        } else {
            0
        }
    }

    /// The reads of `y` output positions: the lowest and the highest.
    fn reach(&self, y: i128) -> (i128, i128) {
        let first = self.s * self.start(y);
        let last = self.s * (self.start(y) + y - 1);
        (self.lo + first.min(last), self.hi + first.max(last))
    }

    /// The output positions `u` whose every read `s u + lo ..= s u + hi` is inside.
    fn inside_range(&self) -> (i128, i128) {
        if self.s > 0 {
            (
                div_ceil(-self.lo, self.s),
                div_floor(self.n - 1 - self.hi, self.s),
            )
        } else {
            let t = -self.s;
            (div_ceil(self.hi - self.n + 1, t), div_floor(self.lo, t))
        }
    }

    /// How many of `y` output positions read only inside.
    fn inside_count(&self, y: i128) -> i128 {
        let (a, b) = self.inside_range();
        let (u0, u1) = (self.start(y), self.start(y) + y - 1);
        (b.min(u1) - a.max(u0) + 1).max(0)
    }

    /// The largest `y` from 1 to `max` for which `ok(y)` holds (`ok` holds for every
    /// smaller `y` when it holds for `y`), or 0.
    fn largest(max: i128, ok: impl Fn(i128) -> bool) -> i128 {
        let (mut good, mut bad) = (0, max + 1);
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            if ok(mid) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        good
    }

    /// `valid`: the largest number of positions whose every read is inside (0 if the
    /// first position already reads outside).
    fn valid(&self) -> i128 {
        if self.centered {
            // y distinct outputs read at least y distinct positions: y <= n.
            return Fit::largest(self.n, |y| {
                let (lo, hi) = self.reach(y);
                lo >= 0 && hi < self.n
            });
        }
        if self.lo < 0 || self.hi > self.n - 1 {
            return 0;
        }
        if self.s > 0 {
            (self.n - 1 - self.hi).div_euclid(self.s) + 1
        } else {
            self.lo.div_euclid(-self.s) + 1
        }
    }

    /// `same`: ceil(n/|s|).
    fn same(&self) -> i128 {
        let a = self.s.abs();
        (self.n + a - 1) / a
    }

    /// `full` under zero padding: the number of output positions that each read at
    /// least one element inside, or None when the first position reads only padding.
    fn full(&self) -> Option<i128> {
        // position u reads s u + lo ..= s u + hi
        let inside = |u: i128| {
            let a = self.s * u + self.lo;
            let b = self.s * u + self.hi;
            b >= 0 && a < self.n
        };
        if self.centered {
            if !inside(0) {
                return None;
            }
            // The end positions read the farthest; at most n + (hi - lo) + 1 positions
            // read inside.
            let max = self.n + (self.hi - self.lo) + 1;
            return Some(Fit::largest(max, |y| {
                inside(self.start(y)) && inside(self.start(y) + y - 1)
            }));
        }
        if !inside(0) {
            return None;
        }
        let last = if self.s > 0 {
            (self.n - 1 - self.lo).div_euclid(self.s)
        } else {
            self.hi.div_euclid(-self.s)
        };
        Some(last + 1)
    }
}

/// The diagnostic of an axis at a point, if its size breaks the rule there.
fn judge(axis: &Axis, p: &Point, env: &Env) -> Option<Diagnostic> {
    let d = judge_at(axis, p, env)?;
    Some(match p.claim {
        Some(span) => d.with_related(span, "the claim whose givens give these values"),
        None => d,
    })
}

fn judge_at(axis: &Axis, p: &Point, env: &Env) -> Option<Diagnostic> {
    let y = i128::from(*p.vals.get(&axis.size)?);
    if y < 1 {
        return None;
    }
    let (own, other): (Vec<&Read>, Vec<&Read>) =
        axis.reads.iter().partition(|r| r.extent == axis.size);
    match p.boundary {
        Boundary::Valid => {
            // The reads of other extents decide the size: the smallest fit.
            let mut best: Option<(i128, &Read, Fit)> = None;
            for r in &other {
                let Some(f) = Fit::at(r, axis.centered, &p.vals) else {
                    continue;
                };
                let v = f.valid();
                if best.as_ref().is_none_or(|b| v < b.0) {
                    best = Some((v, r, f));
                }
            }
            if let Some((fit, r, f)) = best {
                if y > fit {
                    return Some(valid_outside(axis, r, &f, y, fit, p, env));
                }
                if y < fit {
                    return Some(valid_short(axis, &other, y, fit, p, env));
                }
            }
            for r in &own {
                let Some(f) = Fit::at(r, axis.centered, &p.vals) else {
                    continue;
                };
                let (lo, hi) = f.reach(y);
                if lo < 0 || hi > f.n - 1 {
                    return Some(valid_own(axis, r, &f, y, p, env));
                }
            }
            None
        }
        Boundary::Zero | Boundary::Circular => {
            for r in &other {
                let Some(f) = Fit::at(r, axis.centered, &p.vals) else {
                    continue;
                };
                let same = f.same();
                if y == same {
                    continue;
                }
                if p.boundary == Boundary::Zero
                    && y > same
                    && f.full().is_some_and(|full| y <= full)
                {
                    continue;
                }
                return Some(padded(axis, r, &f, y, p, env));
            }
            None
        }
    }
}

/// The search over the base sizes of the derived sizes an axis involves.
fn search(
    axis: &Axis,
    derived: &[(String, Expr)],
    caps: &BTreeMap<String, String>,
    sample: Option<&BTreeMap<String, i64>>,
    boundary: Boundary,
    env: &Env,
) -> Option<Diagnostic> {
    let mut involved = BTreeSet::new();
    involved.insert(axis.size.clone());
    for r in &axis.reads {
        involved.insert(r.extent.clone());
        involved.extend(r.syms.iter().cloned());
        for w in &r.windows {
            involved.insert(w.size.clone());
            involved.extend(w.syms.iter().cloned());
        }
    }
    let mine: Vec<&(String, Expr)> = derived
        .iter()
        .filter(|(n, _)| involved.contains(n))
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut bases = BTreeSet::new();
    for (_, value) in &mine {
        crate::syntax::visit::walk_refs(value, &mut |r| {
            let n = r.name.base.clone();
            let n = caps.get(&n).cloned().unwrap_or(n);
            if env.sizes.contains_key(&n) && !derived.iter().any(|(d, _)| *d == n) {
                bases.insert(n);
            }
        });
    }
    let bases: Vec<String> = bases.into_iter().collect();
    if bases.is_empty() || bases.len() > SEARCH_NAMES {
        return None;
    }
    let fixed = sample.cloned().unwrap_or_default();
    let mut points: Vec<Vec<i64>> = vec![Vec::new()];
    for _ in &bases {
        points = points
            .into_iter()
            .flat_map(|p| {
                (1..=SEARCH_MAX).map(move |v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    points.sort_by_key(|p| (p.iter().sum::<i64>(), p.clone()));
    for p in points {
        let mut vals = fixed.clone();
        for (n, v) in bases.iter().zip(&p) {
            vals.insert(n.clone(), *v);
        }
        let mut ok = true;
        for (name, value) in derived {
            match members::eval_with(value, &with_caps(&vals, caps)) {
                Some(members::Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                    vals.insert(name.clone(), v);
                }
                _ => {
                    if mine.iter().any(|(n, _)| n == name) {
                        ok = false;
                    }
                    vals.remove(name);
                }
            }
        }
        if !ok {
            continue;
        }
        let what = format!(
            "at {} (the derived {} computed from them)",
            bases
                .iter()
                .zip(&p)
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            mine.iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let point = Point {
            vals,
            boundary,
            what,
            claim: None,
        };
        if let Some(d) = judge(axis, &point, env) {
            return Some(d);
        }
    }
    None
}

/// Whether a relation between sizes (a claim's given, `Y - 1 <= (X - D)/2`) holds at the
/// whole values `vals` (index capitals read as their sizes); `None` when it is no
/// relation or a side cannot be evaluated there exactly.
pub fn relation_holds_at(
    e: &crate::syntax::ast::Expr,
    vals: &BTreeMap<String, i64>,
    env: &Env,
) -> Option<bool> {
    use crate::syntax::ast::{Expr, RelOp};
    let Expr::Rel(op, l, r, _) = e else {
        return None;
    };
    let vals = with_caps(vals, &capitals(env));
    let frac = |x: members::Exact| -> (i128, i128) {
        match x {
            members::Exact::Int(v) => (v as i128, 1),
            members::Exact::Frac(n, d) if d < 0 => (-(n as i128), -(d as i128)),
            members::Exact::Frac(n, d) => (n as i128, d as i128),
        }
    };
    let (a, b) = (
        frac(members::eval_with(l, &vals)?),
        frac(members::eval_with(r, &vals)?),
    );
    // a.0/a.1 against b.0/b.1, both denominators positive.
    let (x, y) = (a.0.checked_mul(b.1)?, b.0.checked_mul(a.1)?);
    Some(match op {
        RelOp::Eq | RelOp::Approx => x == y,
        RelOp::Le => x <= y,
        RelOp::Lt => x < y,
        RelOp::Ge => x >= y,
        RelOp::Gt => x > y,
    })
}
