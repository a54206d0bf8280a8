//! size43 (session 43, issue #14): the critical sizes of a claim over sizes, the sizes
//! that the least sizes, the sizes moved apart and the small sizes above the least do not
//! reach, though the claim's givens or the program's own numbers name them:
//!
//! - the boundary of each given that relates sizes (`given X >= D - 1`, `given K <= T`):
//!   the first points, by total increment over the least sizes, at which every given
//!   holds and that given is tight (a step of one of its sizes by one breaks it), so
//!   `X == D - 1` is tried with D = 2, X = 1 (probe42 r12);
//! - the cut-offs on an index value (`[n <= 20]`, `[t - t' < 8]`, `[i <= J + 1]`): for an
//!   index compared with a number (or with sizes), the value t at which the comparison
//!   turns, its extent at floor(t), floor(t) + 1 and floor(t) + 2 (a centred index: twice
//!   that, and the three above), so that the cut-off is crossed (probe42 r03, r18). A
//!   comparison of indices with each other only (`[t' <= t]`) names no cut-off.
//!
//! Each point starts from the least sizes; a size the point does not set but a given
//! reads is raised, least first, until every given holds (`given N <= M` with N = 22:
//! M = 22). At most [`MAX_CRITICAL_POINTS`] points, sizes up to [`MAX_CRITICAL_SIZE`]
//! (the exact check writes the sums out there), [`FIT_CANDIDATES`] candidates per search.

use crate::check::Env;
use crate::syntax::ast::{self, Claim, Expr, RelOp};
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;

/// The largest size a cut-off names that is tried.
pub(crate) const MAX_CRITICAL_SIZE: i64 = 64;
/// The most candidate points one search for a point meeting the givens tries.
const FIT_CANDIDATES: usize = 4_096;
/// The most critical points of one claim.
pub(crate) const MAX_CRITICAL_POINTS: usize = 12;

/// How the boundary points are named in the evidence.
pub(crate) const BOUNDARY: &str = "the boundary of a given that relates sizes";
/// How the cut-off points are named in the evidence.
pub(crate) const CUT_OFF: &str = "sizes that cross a cut-off on an index value";

/// Whether a given holds at whole sizes `vals` (the symbols at `syms`, their sample
/// values): exactly where it reads sizes only, else in floating point (a relative slack of
/// 1e-12); `None` where it cannot be evaluated.
pub(crate) fn given_holds(
    e: &Expr,
    vals: &BTreeMap<String, i64>,
    syms: &BTreeMap<String, f64>,
    env: &Env,
) -> Option<bool> {
    if let Some(h) = crate::check::outputs::relation_holds_at(e, vals, env) {
        return Some(h);
    }
    let Expr::Rel(op, l, r, _) = e else {
        return None;
    };
    let mut consts: BTreeMap<String, f64> = syms.clone();
    for (n, v) in vals {
        consts.insert(n.clone(), *v as f64);
    }
    for (n, info) in &env.indices {
        let cap = n.to_uppercase();
        if let (Some(v), false) = (vals.get(&info.size), consts.contains_key(&cap)) {
            consts.insert(cap, *v as f64);
        }
    }
    let val = |x: &Expr| {
        crate::claims::scalar::lower(x, &crate::claims::scalar::Scope::default())
            .ok()
            .and_then(|s| s.eval_f64(&consts).ok())
            .filter(|v| v.is_finite())
    };
    let (a, b) = (val(l)?, val(r)?);
    let slack = 1e-12 * a.abs().max(b.abs());
    Some(match op {
        RelOp::Le => a <= b + slack,
        RelOp::Lt => a < b - slack,
        RelOp::Ge => a + slack >= b,
        RelOp::Gt => a > b + slack,
        RelOp::Eq | RelOp::Approx => (a - b).abs() <= slack,
    })
}

/// The names of sizes (a capital of an index read as its size) a given reads.
fn sizes_read(e: &Expr, env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    crate::syntax::visit::walk_refs(e, &mut |r| {
        if r.indices.is_some() {
            return;
        }
        let n = crate::syntax::printer::print_name(&r.name);
        let n = if env.sizes.contains_key(&n) {
            Some(n)
        } else {
            env.index_capital(&n)
        };
        if let Some(n) = n {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    });
    out
}

/// The critical points of `claim` from its least point `least` (every size; the sizes
/// `set` by the givens and the derived sizes are not moved), each with how it is named.
/// `syms`: the symbols' sample values, at which a given that reads one is evaluated.
pub(crate) fn critical_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    least: &BTreeMap<String, i64>,
    set: &[String],
    syms: &BTreeMap<String, f64>,
) -> Vec<(BTreeMap<String, i64>, &'static str)> {
    let derived: Vec<&String> = env.derived_sizes.iter().map(|(n, _)| n).collect();
    let free: Vec<String> = least
        .keys()
        .filter(|n| env.sizes.contains_key(*n) && !set.contains(n) && !derived.contains(n))
        .cloned()
        .collect();
    if free.is_empty() {
        return Vec::new();
    }
    // The givens that read a free size, each tested at every point.
    let read: Vec<(&Expr, Vec<String>)> = claim
        .given
        .iter()
        .filter(|g| matches!(g, Expr::Rel(..)))
        .map(|g| (g, sizes_read(g, env)))
        .filter(|(_, s)| s.iter().any(|n| free.contains(n)))
        .collect();
    let base: BTreeMap<String, i64> = least
        .iter()
        .filter(|(n, _)| !derived.contains(n))
        .map(|(n, v)| (n.clone(), *v))
        .collect();
    // A point with its derived sizes, where every given that reads a free size holds.
    let complete = |p: &BTreeMap<String, i64>| -> Option<BTreeMap<String, i64>> {
        let mut p = p.clone();
        if !crate::check::outputs::derive_sizes_at(&mut p, env) {
            return None;
        }
        read.iter()
            .all(|(g, _)| given_holds(g, &p, syms, env) == Some(true))
            .then_some(p)
    };
    let mut out: Vec<(BTreeMap<String, i64>, &'static str)> = Vec::new();
    let mut push = |p: BTreeMap<String, i64>, what: &'static str| {
        if p != *least && out.len() < MAX_CRITICAL_POINTS && !out.iter().any(|(q, _)| *q == p) {
            out.push((p, what));
        }
    };
    // The boundary of each given that relates two names (sizes, or a size and a symbol,
    // whose value stays the sample's): its first two tight points.
    for (g, sizes) in &read {
        let movable: Vec<String> = sizes.iter().filter(|n| free.contains(n)).cloned().collect();
        let names_read = {
            let mut k = 0;
            crate::syntax::visit::walk_refs(g, &mut |r| k += usize::from(r.indices.is_none()));
            k
        };
        if names_read < 2 {
            continue;
        }
        let tight = |p: &BTreeMap<String, i64>| {
            movable.iter().any(|n| {
                [-1i64, 1].iter().any(|d| {
                    let mut q = p.clone();
                    let v = q[n] + d;
                    if v < base[n] {
                        return false;
                    }
                    q.insert(n.clone(), v);
                    crate::check::outputs::derive_sizes_at(&mut q, env)
                        && given_holds(g, &q, syms, env) == Some(false)
                })
            })
        };
        let mut found = 0;
        search(&base, &movable, |p| {
            if let Some(c) = complete(p).filter(|c| tight(c)) {
                push(c, BOUNDARY);
                found += 1;
            }
            found >= 2
        });
    }
    // The cut-offs on an index value.
    for (size, values) in cut_offs(claim, program, env, &base) {
        if !free.contains(&size) {
            continue;
        }
        for v in values {
            if v < base[&size] || !(1..=MAX_CRITICAL_SIZE).contains(&v) {
                continue;
            }
            let mut p = base.clone();
            p.insert(size.clone(), v);
            // The other sizes the givens read, raised least first until every given holds.
            let others: Vec<String> = read
                .iter()
                .flat_map(|(_, s)| s.iter())
                .filter(|n| free.contains(n) && **n != size)
                .fold(Vec::new(), |mut acc, n| {
                    if !acc.contains(n) {
                        acc.push(n.clone());
                    }
                    acc
                });
            let mut got = None;
            search(&p, &others, |q| {
                got = complete(q);
                got.is_some()
            });
            if let Some(q) = got {
                push(q, CUT_OFF);
            }
        }
    }
    out
}

/// Calls `visit` on the points that raise the sizes `names` above their values in
/// `from`, by increasing total increment (each total's splits in a fixed order), until it
/// returns true or [`FIT_CANDIDATES`] points were visited.
fn search(
    from: &BTreeMap<String, i64>,
    names: &[String],
    mut visit: impl FnMut(&BTreeMap<String, i64>) -> bool,
) {
    if names.is_empty() {
        visit(from);
        return;
    }
    let mut tried = 0usize;
    let mut total = 0i64;
    while tried < FIT_CANDIDATES {
        let mut steps = vec![0i64; names.len()];
        steps[0] = total;
        loop {
            tried += 1;
            let mut p = from.clone();
            for (k, n) in names.iter().enumerate() {
                *p.entry(n.clone()).or_insert(1) += steps[k];
            }
            if visit(&p) || tried >= FIT_CANDIDATES {
                return;
            }
            let Some(k) = (0..names.len() - 1).find(|&k| steps[k] > 0) else {
                break;
            };
            let moved = steps[k] - 1;
            steps[k] = 0;
            steps[k + 1] += 1;
            steps[0] += moved;
        }
        total += 1;
    }
}

/// A linear form over names (coefficients, constant), of an expression of numbers, names,
/// sums, differences and products or quotients by numbers; `None` otherwise.
type Form = (BTreeMap<String, BigRational>, BigRational);

fn form(e: &Expr) -> Option<Form> {
    let num = |f: &Form| f.0.values().all(|c| c.is_zero()).then(|| f.1.clone());
    let scale = |f: Form, k: &BigRational| -> Form {
        (f.0.into_iter().map(|(n, c)| (n, c * k)).collect(), f.1 * k)
    };
    let add = |a: Form, b: Form, sign: i64| -> Form {
        let b = scale(b, &BigRational::from_integer(sign.into()));
        let mut m = a.0;
        for (n, c) in b.0 {
            *m.entry(n).or_insert_with(BigRational::zero) += c;
        }
        (m, a.1 + b.1)
    };
    match e {
        Expr::Num(..) => {
            let v = crate::claims::scalar::lower(e, &crate::claims::scalar::Scope::default())
                .ok()?
                .as_num()?
                .clone();
            Some((BTreeMap::new(), v))
        }
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            let n = crate::syntax::printer::print_name(&r.name);
            Some((
                BTreeMap::from([(n, BigRational::from_integer(1.into()))]),
                BigRational::zero(),
            ))
        }
        Expr::Unary(ast::UnOp::Neg, x, _) => {
            Some(scale(form(x)?, &BigRational::from_integer((-1).into())))
        }
        Expr::Binary(op, a, b, _) => {
            let (fa, fb) = (form(a)?, form(b)?);
            match op {
                ast::BinOp::Add => Some(add(fa, fb, 1)),
                ast::BinOp::Sub => Some(add(fa, fb, -1)),
                ast::BinOp::Mul | ast::BinOp::Jux => match (num(&fa), num(&fb)) {
                    (Some(k), _) => Some(scale(fb, &k)),
                    (_, Some(k)) => Some(scale(fa, &k)),
                    _ => None,
                },
                ast::BinOp::Div => {
                    let k = num(&fb).filter(|k| !k.is_zero())?;
                    Some(scale(fa, &k.recip()))
                }
                ast::BinOp::Pow => None,
            }
        }
        _ => None,
    }
}

/// Per size, the sizes at which a cut-off on an index whose extent it is turns: every
/// relation inside an Iverson bracket of the model's equations or of the claim, linear
/// in indices and sizes with a cut-off (a constant or a size term besides the indices),
/// read with the sizes at `at` and the other indices at 0.
fn cut_offs(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    at: &BTreeMap<String, i64>,
) -> Vec<(String, Vec<i64>)> {
    fn brackets<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        crate::syntax::visit::walk_expr(e, |x| {
            if let Expr::Iverson(inner, _) = x {
                crate::syntax::visit::walk_expr(inner, |y| {
                    if matches!(y, Expr::Rel(..)) {
                        out.push(y);
                    }
                    true
                });
            }
            true
        });
    }
    fn items<'a>(list: impl IntoIterator<Item = &'a ast::Item>, out: &mut Vec<&'a Expr>) {
        for item in list {
            match &item.kind {
                ast::ItemKind::Equation(eq) => brackets(&eq.rhs, out),
                ast::ItemKind::Loop(l) => items(&l.body, out),
                ast::ItemKind::ForIndices(f) => items(&f.body, out),
                _ => {}
            }
        }
    }
    let mut rels: Vec<&Expr> = Vec::new();
    items(crate::syntax::model_items::model_items(program), &mut rels);
    brackets(&claim.body, &mut rels);
    let is_index = |n: &str| {
        !env.sizes.contains_key(n)
            && !env.symbols.contains_key(n)
            && !env.scalars.contains_key(n)
            && !env.tensors.contains_key(n)
            && env.index_size(n).is_some()
    };
    let mut out: Vec<(String, Vec<i64>)> = Vec::new();
    for rel in rels {
        let Expr::Rel(_, l, r, _) = rel else { continue };
        let (Some(fl), Some(fr)) = (form(l), form(r)) else {
            continue;
        };
        // l - r, over indices and sizes.
        let mut coefs = fl.0;
        for (n, c) in fr.0 {
            *coefs.entry(n).or_insert_with(BigRational::zero) -= c;
        }
        coefs.retain(|_, c| !c.is_zero());
        let constant = fl.1 - fr.1;
        let mut rest = constant.clone();
        let mut sized = false;
        let mut indices: Vec<(String, BigRational)> = Vec::new();
        let mut ok = true;
        for (n, c) in &coefs {
            if is_index(n) {
                indices.push((n.clone(), c.clone()));
                continue;
            }
            let size = if env.sizes.contains_key(n) {
                Some(n.clone())
            } else {
                env.index_capital(n)
            };
            match size.and_then(|s| at.get(&s)) {
                Some(v) => {
                    rest += c * BigRational::from_integer((*v).into());
                    sized = true;
                }
                None => ok = false,
            }
        }
        // A comparison of indices with each other only names no cut-off.
        if !ok || indices.is_empty() || (constant.is_zero() && !sized) {
            continue;
        }
        for (i, c) in &indices {
            let Some(size) = env.index_size(i) else {
                continue;
            };
            let t = -(&rest) / c;
            let centred = env.index_centered(i);
            if t.is_negative() && !centred {
                continue;
            }
            let Some(f) = t.abs().floor().to_integer().to_i64() else {
                continue;
            };
            let values: Vec<i64> = if centred {
                (0..4).map(|k| 2 * f + k).collect()
            } else {
                (0..3).map(|k| f + k).collect()
            };
            match out.iter_mut().find(|(s, _)| *s == size) {
                Some((_, vs)) => {
                    for v in values {
                        if !vs.contains(&v) {
                            vs.push(v);
                        }
                    }
                }
                None => out.push((size, values)),
            }
        }
    }
    out
}

/// The critical points as Monte Carlo and the position-by-position reading take them:
/// from the least sizes (the sizes the claim does not set, those that only count copies
/// kept where `keep_copies`), only the sizes that differ from their `sample` values.
pub(crate) fn critical_size_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sizes: &BTreeMap<String, BigRational>,
    syms: &BTreeMap<String, BigRational>,
) -> Vec<BTreeMap<String, BigRational>> {
    let Some((whole, least)) = least_of(claim, program, env, set, sizes, true) else {
        return Vec::new();
    };
    let syms: BTreeMap<String, f64> = syms
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_f64()?)))
        .collect();
    critical_points(claim, program, env, &least, set, &syms)
        .into_iter()
        .map(|(p, _)| only_moved(p, &whole))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The small sizes above the least (the exact check's
/// [`crate::claims::tensor_sym::exact::apart::raised_points`]: with one free size that
/// size 1, 2 and 3 above its least value, with several all raised by 1 and by 2), as
/// [`critical_size_points`] gives its points: the position-by-position reading tries them
/// (probe42 r18: a centred window as wide as the input, false from X = 3, was tried at
/// X = 1 and 2 only).
pub(crate) fn raised_size_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sizes: &BTreeMap<String, BigRational>,
) -> Vec<BTreeMap<String, BigRational>> {
    let Some((whole, least)) = least_of(claim, program, env, set, sizes, true) else {
        return Vec::new();
    };
    crate::claims::tensor_sym::exact::apart::raised_points(claim, &least, set, env)
        .into_iter()
        .map(|p| only_moved(p, &whole))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The sample sizes as whole numbers and the least point (found, even where it is the
/// sample's).
fn least_of(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sizes: &BTreeMap<String, BigRational>,
    keep_copies: bool,
) -> Option<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    let whole: BTreeMap<String, i64> = sizes
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_integer().try_into().ok()?)))
        .collect();
    if whole.len() != sizes.len() {
        return None;
    }
    match super::least::least_search(claim, program, env, set, &whole, keep_copies) {
        super::least::Search::Found(least) => Some((whole, least)),
        _ => None,
    }
}

fn only_moved(
    p: BTreeMap<String, i64>,
    whole: &BTreeMap<String, i64>,
) -> BTreeMap<String, BigRational> {
    p.into_iter()
        .filter(|(n, v)| whole.get(n) != Some(v))
        .map(|(n, v)| (n, BigRational::from_integer(v.into())))
        .collect()
}

/// The symbols' sample values (where the `sample` line gives a number).
pub(crate) fn sample_syms(program: &ast::Program, env: &Env) -> BTreeMap<String, f64> {
    super::points::sample_values(&[], program, env)
        .0
        .into_iter()
        .filter_map(|(n, v)| Some((n, v.to_f64()?)))
        .collect()
}

/// The points the position-by-position reading tries besides [`super::other_points`]:
/// the small sizes above the least ([`raised_size_points`]) and the critical points
/// ([`critical_size_points`]), sizes only, each once.
pub(crate) fn more_size_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
) -> Vec<BTreeMap<String, BigRational>> {
    let Ok(set_all) = crate::claims::montecarlo::given_values(claim, env) else {
        return Vec::new();
    };
    let set_all: Vec<String> = set_all.into_iter().map(|(n, _)| n).collect();
    let Some(given) = super::points::set_by_givens(claim, env) else {
        return Vec::new();
    };
    let set: Vec<String> = given.into_iter().map(|(n, _)| n).collect();
    let (syms, sizes) = super::points::sample_values(&set, program, env);
    let mut out: Vec<BTreeMap<String, BigRational>> = Vec::new();
    for p in raised_size_points(claim, program, env, &set_all, &sizes)
        .into_iter()
        .chain(critical_size_points(
            claim, program, env, &set_all, &sizes, &syms,
        ))
    {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}
