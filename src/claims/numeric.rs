//! Claims about tensor elements (`b.grad[j] == 0`, `s.grad[t,w] == P[t,w] - [w == w[t]]`),
//! evaluated on one sampled run of the model and its derived backward program, at every
//! element where all the quantities of the claim exist. Agreement is `confirmed`
//! (numeric), never `proved`; a disagreement is `refuted` with the element and both values.

use super::Verdict;
use crate::claims::{Method, Outcome};
use crate::num::{Bind, Machine};
use crate::syntax::ast::{self as ast, IndexExpr, Program, RelOp};
use crate::syntax::visit::sum_ids;

/// Elements evaluated at most per claim.
const MAX_ELEMENTS: usize = 200_000;

fn free_vars(e: &ast::Expr, m: &Machine, out: &mut Vec<String>) {
    crate::check::walk_refs(e, &mut |r| {
        for ix in r
            .indices
            .iter()
            .flatten()
            .chain(m.env.member_subscripts(&r.name))
        {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    let n = &f.name;
                    let lower = n.chars().next().is_some_and(|c| c.is_ascii_lowercase());
                    if lower && !m.consts.contains_key(n) && !out.contains(n) {
                        out.push(n.clone());
                    }
                }
            }
        }
    });
}

/// Where a sampled run refuted a claim about tensor elements: the element and both
/// sides there (the witness, to be re-checked by another path).
#[derive(Clone, Debug)]
pub struct Found {
    pub bind: Bind,
    pub left: f64,
    pub right: f64,
    /// The loop variables an explicit sum of the claim ran over, with their loops'
    /// ranges (a re-check on another run must sum over the same ranges).
    pub sums: Vec<(String, (i64, i64))>,
}

/// Decides `lhs == rhs` over tensor elements on a model run.
/// Free indices range over their sizes and loop variables over their loops' ranges;
/// `given` relations restrict the elements (`given 1 <= l, l <= L-1`); an element where
/// one does not hold is skipped. On a refutation, the element where the sides differ is in `found`;
/// `untested` is set when the run cannot test the claim at this seed (both sides, or one
/// term, 0 at every element: every mask drawn 0), so that another seed may.
#[allow(clippy::too_many_arguments)]
pub fn decide_found(
    op: RelOp,
    lhs: &ast::Expr,
    rhs: &ast::Expr,
    given: &[ast::Expr],
    program: &Program,
    m: &mut Machine,
    seed: u64,
    found: &mut Option<Found>,
    untested: &mut bool,
) -> Outcome {
    // The loop ranges the claim's sums set are the claim's only: the run's machine is
    // left as it was.
    let kept = m.loop_ranges.clone();
    let q = Query {
        op,
        lhs,
        rhs,
        given,
        program,
        seed,
    };
    let o = decide_found_in(q, m, found, untested);
    m.loop_ranges = kept;
    o
}

/// What [`decide_found`] is asked, read by its body.
#[derive(Clone, Copy)]
struct Query<'q> {
    op: RelOp,
    lhs: &'q ast::Expr,
    rhs: &'q ast::Expr,
    given: &'q [ast::Expr],
    program: &'q Program,
    seed: u64,
}

fn decide_found_in(
    q: Query<'_>,
    m: &mut Machine,
    found: &mut Option<Found>,
    untested: &mut bool,
) -> Outcome {
    let (op, lhs, rhs, given, program, seed) = (q.op, q.lhs, q.rhs, q.given, q.program, q.seed);
    *untested = false;
    let und = Outcome::undecided;
    for g in given {
        let mut whole = None;
        crate::check::walk_refs(g, &mut |r| {
            let key = m.env.key_of(&r.name);
            if r.indices.is_none() && m.env.tensors.get(&key).is_some_and(|t| t.rank > 0) {
                whole = Some(key);
            }
        });
        if let Some(t) = whole {
            return und(format!(
                "the given `{}` is about the whole tensor `{t}`; givens that set tensors are not supported yet",
                crate::syntax::printer::print_expr(g)
            ));
        }
    }
    let mut vars = Vec::new();
    free_vars(lhs, m, &mut vars);
    free_vars(rhs, m, &mut vars);
    for g in given {
        free_vars(g, m, &mut vars);
    }
    let mut bound = Vec::new();
    sum_ids(lhs, &mut bound);
    sum_ids(rhs, &mut bound);
    vars.retain(|v| !bound.contains(v));
    let mut ranges = Vec::new();
    let loops = super::program_loops(&program.items);
    // An explicit sum over a loop variable (`sum_{b,t}(a.grad[b,t,i] h[b,t-1,j])` beside
    // `for t in 1..T`) runs over the loop's own range, as a free loop variable does (red33:
    // it ran over the size, 0..T-1, and a true weight-sharing gradient was refuted).
    let mut sums: Vec<(String, (i64, i64))> = Vec::new();
    for r in &loops {
        if !bound.contains(&r.var.name) || sums.iter().any(|(n, _)| *n == r.var.name) {
            continue;
        }
        if let (Ok(lo), Ok(hi)) = (m.const_expr(&r.from), m.const_expr(&r.to)) {
            sums.push((r.var.name.clone(), (lo.round() as i64, hi.round() as i64)));
        }
    }
    for (n, r) in &sums {
        m.loop_ranges.insert(n.clone(), *r);
    }
    // The variables whose range was widened past their loop's, with the loop's.
    let mut widened: Vec<(usize, (i64, i64))> = Vec::new();
    for v in &vars {
        // A loop variable ranges over its loop's own range (`for t in 1..T`: 1..T, never
        // t = 0 where the loop never wrote), even when it also indexes a dimension of
        // size T; other indices over their sizes.
        let of_loop = loops.iter().find(|r| r.var.name == *v);
        let loop_range = of_loop.and_then(|r| {
            let lo = m.const_expr(&r.from).ok()?.round() as i64;
            let hi = m.const_expr(&r.to).ok()?.round() as i64;
            Some((lo, hi))
        });
        // wrong42 (issue #14, snd41 p10/p06): a loop variable that also names an index
        // (`t` of `size T`) ranges over both, the loop's range and every position of the
        // dimension, unless the claim reads what the loop computes: the claim is about
        // every element (renamed `k`, it was), and an element no statement wrote is not
        // checked (below). Over the loop's range alone, `x[b,t]^2 > 0` beside `for t in
        // 1..T-1` was never tried at t = 0.
        let index = if m.env.index_size(v).is_some()
            && !super::montecarlo::reads_loop_values(&[lhs, rhs], program, m.env, v)
        {
            m.index_range(v).ok()
        } else {
            None
        };
        if let (Some(l), Some(_)) = (loop_range, index) {
            widened.push((ranges.len(), l));
        }
        let r = match (loop_range, index) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (Some(r), None) => Some(r),
            (None, _) if of_loop.is_some() && m.env.index_size(v).is_none() => None,
            (None, _) => m.index_range(v).ok(),
        };
        match r {
            Some(r) => ranges.push(r),
            None => return und(format!("the range of `{v}` is not known")),
        }
    }
    // Counted with checked arithmetic: four free indices over sizes of a million wrap a
    // plain product of `usize`s to a small number.
    let total: usize = ranges
        .iter()
        .map(|(lo, hi)| (*hi as i128 - *lo as i128 + 1).clamp(0, usize::MAX as i128) as usize)
        .try_fold(1usize, usize::checked_mul)
        .unwrap_or(usize::MAX);
    if total > MAX_ELEMENTS {
        let count = if total == usize::MAX {
            "more elements than a machine word counts".to_string()
        } else {
            format!("{total} elements")
        };
        return und(format!("{count} to evaluate, more than {MAX_ELEMENTS}"));
    }
    // The additive terms of both sides: a term that is 0 at every element of the run
    // (every dropout mask it reads 0, a gradient that does not reach it) is not tested by
    // the run, so the run cannot tell the claim from one with that term changed.
    let mut terms = Vec::new();
    additive_terms(lhs, &mut terms);
    additive_terms(rhs, &mut terms);
    let mut term_seen = vec![terms.len() < 2; terms.len()];
    let mut checked = 0usize;
    // Elements where either side is not 0: a run where both sides vanish everywhere (every
    // dropout mask 0, a gradient that does not reach) cannot tell the claim from a wrong one.
    let mut informative = 0usize;
    let mut excluded = 0usize;
    // Elements where a side is not finite: the first one, shown in the evidence.
    let mut not_finite = 0usize;
    // Elements where a strict relation's sides agree within rounding (`1 < 1` or a
    // rounding away from it): neither held nor failed.
    let mut ties = 0usize;
    let mut first_tie: Option<(Bind, f64, f64)> = None;
    let mut first_not_finite: Option<(Bind, f64, f64)> = None;
    // Elements the givens admit where a value a side reads does not exist on the run (a
    // read before the first position of a shift, `y.grad[b,x-1]` at x = 0; a member the
    // loop never wrote): not tested, and the evidence says so (they were skipped
    // silently, probe30/d d03d).
    let mut absent = 0usize;
    let mut first_absent: Option<Bind> = None;
    // Elements where the sides agree only within rounding while a value they read (or
    // compute) lost its exact value to rounding at an asymptote (`exp(x - 1000)` is 0.0,
    // `sigmoid(40)` is 1.0): floating point cannot tell the claim from one whose exact
    // sides differ there (probe37 p16: `y == x` of `y = exp(-x^2 - 1000) + x` was
    // confirmed), so such an agreement confirms nothing.
    let mut read_tainted: Vec<String> = Vec::new();
    for e in [lhs, rhs] {
        crate::check::walk_refs(e, &mut |r| {
            let key = (crate::num::taint_key(&r.name), r.grad);
            let shown = format!("{}{}", key.0, if r.grad { ".grad" } else { "" });
            if m.tainted.contains(&key) && !read_tainted.contains(&shown) {
                read_tainted.push(shown);
            }
        });
    }
    let mut cannot_tell = 0usize;
    let mut first_cannot_tell: Option<(Bind, f64, f64, bool)> = None;
    // exact43 (probe42 r20): sides apart by less than the rounding their values may
    // carry (the largest value the run computed, or a number the program writes).
    let mut run_scale: Option<f64> = None;
    let mut rounded = 0usize;
    let mut first_rounding: Option<(Bind, f64, f64)> = None;
    let (primal_l, primal_r) = (primal(lhs), primal(rhs));
    let mut pos: Vec<i64> = ranges.iter().map(|r| r.0).collect();
    if ranges.iter().any(|(lo, hi)| hi < lo) {
        return und("an empty range".into());
    }
    loop {
        let b: Bind = vars.iter().cloned().zip(pos.iter().cloned()).collect();
        let mut applies = true;
        for g in given {
            match m.eval(&ast::Expr::Iverson(Box::new(g.clone()), g.span()), &b) {
                Ok(v) => applies &= v != 0.0,
                Err(e) => {
                    return und(format!(
                        "cannot evaluate the given `{}`: {e}",
                        crate::syntax::printer::print_expr(g)
                    ))
                }
            }
        }
        if !applies {
            excluded += 1;
        }
        // Outside the loop's own range a gradient is read only where its value exists
        // (`x.grad[0]` of `input x[t] ... for t in 1..T` reads 0 on the run, but no x[0]).
        let outside = widened
            .iter()
            .any(|(k, (lo, hi))| pos[*k] < *lo || pos[*k] > *hi);
        let exist = applies
            && m.all_exist(lhs, &b)
            && m.all_exist(rhs, &b)
            && (!outside || (m.all_exist(&primal_l, &b) && m.all_exist(&primal_r, &b)));
        if applies && !exist {
            absent += 1;
            first_absent.get_or_insert_with(|| b.clone());
        }
        if exist {
            let saturated_before = m.saturated;
            let (l, r) = match (m.eval(lhs, &b), m.eval(rhs, &b)) {
                (Ok(l), Ok(r)) => (l, r),
                (Err(e), _) | (_, Err(e)) => return und(format!("cannot evaluate: {e}")),
            };
            let saturated_here = m.saturated > saturated_before;
            // A side that is not finite (a division by 0, `log(0)`, an overflow) is
            // undefined there, or no number the run can compare: it agrees with nothing
            // and refutes nothing (a relative tolerance of an infinite side took every
            // value as equal to it). The element is counted and named in the evidence.
            let finite = l.is_finite() && r.is_finite();
            if !finite {
                not_finite += 1;
                first_not_finite.get_or_insert_with(|| (b.clone(), l, r));
            }
            let agrees = !finite
                || match compare(op, l, r) {
                    Compared::Holds => true,
                    Compared::Fails => false,
                    Compared::Tie => {
                        ties += 1;
                        first_tie.get_or_insert_with(|| (b.clone(), l, r));
                        true
                    }
                };
            // exact43 (issue #14, probe42 r20): timestamps near 1.7e9 turned into
            // offsets (`h + x - 1700000000`), or an offset added and taken away again,
            // leave a true identity's sides apart by the rounding of the large value
            // (7e-8 where the sides are about 2); floating point cannot tell that from
            // a false claim, so such a difference refutes nothing.
            let rounding = !agrees && finite && {
                let scale = *run_scale
                    .get_or_insert_with(|| largest_value(m).max(largest_number(program, lhs, rhs)));
                (l - r).abs() <= ROUNDING_ALLOWANCE * scale
            };
            if rounding {
                rounded += 1;
                first_rounding.get_or_insert_with(|| (b.clone(), l, r));
            }
            if !agrees && !rounding {
                if let Some(why) = undefined_objective(lhs, rhs, m) {
                    // Another seed may draw a run where the model is defined.
                    *untested = true;
                    return und(why);
                }
                let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                // A claim with no free index (`c.grad == sum_{b,i}(...)`) has one value.
                let at = if at.is_empty() {
                    "the claim's one value (no free index)".to_string()
                } else {
                    at.join(", ")
                };
                *found = Some(Found {
                    bind: b.clone(),
                    left: l,
                    right: r,
                    sums: sums.clone(),
                });
                return Outcome::new(
                    Verdict::Refuted,
                    Method::Numeric,
                    format!("at {at}: left {l:.10}, right {r:.10} (one sampled run, seed {seed})"),
                );
            }
            if rounding {
                // Neither held nor failed: counted in `rounded`.
            } else if !finite {
                // Nothing to count: the element tested nothing.
            } else {
                if (saturated_here || !read_tainted.is_empty()) && within_rounding(l, r) {
                    cannot_tell += 1;
                    first_cannot_tell.get_or_insert_with(|| (b.clone(), l, r, saturated_here));
                }
                checked += 1;
                if l != 0.0 || r != 0.0 {
                    informative += 1;
                }
                for (t, seen) in terms.iter().zip(term_seen.iter_mut()) {
                    if !*seen {
                        *seen = m.eval(t, &b).is_ok_and(|v| v != 0.0 && v.is_finite());
                    }
                }
            }
        }
        // The next element (an odometer over the ranges); done after the last.
        let mut carried_out = true;
        let mut k = pos.len();
        while k > 0 {
            k -= 1;
            pos[k] += 1;
            if pos[k] <= ranges[k].1 {
                carried_out = false;
                break;
            }
            pos[k] = ranges[k].0;
        }
        if carried_out {
            break;
        }
    }
    if let Some((b, l, r)) = &first_not_finite {
        let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        let at = if at.is_empty() {
            "the claim's one value (no free index)".to_string()
        } else {
            at.join(", ")
        };
        let of = if vars.is_empty() {
            String::new()
        } else {
            format!(" ({not_finite} of {} elements)", checked + not_finite)
        };
        return und(format!(
            "a side is not finite on the sampled run (seed {seed}) at {at}{of}: left {l}, right {r}; a value that is undefined there (a division by 0, the log of 0) or overflows decides nothing, so the claim is not confirmed{}",
            if checked > 0 {
                format!(" (it held at the other {checked} elements)")
            } else {
                String::new()
            }
        ));
    }
    if let Some((b, l, r)) = &first_rounding {
        let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        return und(format!(
            "floating point cannot tell: at {} ({rounded} of {} elements) the sides differ (left {l:.10}, right {r:.10}) by less than the rounding of the largest value the sampled run (seed {seed}) computed or the program writes ({}), so the difference may be rounding alone; a claim true in exact arithmetic is not refuted by it",
            if at.is_empty() { "the claim's one value".to_string() } else { at.join(", ") },
            checked + rounded,
            crate::num::sig::sig(run_scale.unwrap_or(0.0), 4)
        ));
    }
    if let Some((b, l, r)) = &first_tie {
        let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        return und(format!(
            "the strict relation's sides agree within rounding at {} ({ties} of {checked} elements; left {l:.10}, right {r:.10}) on the sampled run (seed {seed}), where floating point cannot tell `<` from `==`",
            if at.is_empty() { "the claim's one value".to_string() } else { at.join(", ") }
        ));
    }
    if let Some((b, l, r, here)) = &first_cannot_tell {
        let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        let what = if *here || read_tainted.is_empty() {
            "the sides themselves".to_string()
        } else {
            read_tainted
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return und(format!(
            "floating point cannot tell: the sides agree within rounding at {} ({cannot_tell} of {checked} elements; left {l:.10}, right {r:.10}) on the sampled run (seed {seed}), but a value read by {what} lost its exact value to rounding there (an exp or a softmax term that underflowed, a sigmoid or tanh rounded to its limit), so the agreement may hide an exact difference",
            if at.is_empty() { "the claim's one value".to_string() } else { at.join(", ") }
        ));
    }
    if checked == 0 && excluded > 0 {
        return und(
            "the givens hold at no element of the sampled run (they ask for other parameter values than the declared ones)".into(),
        );
    }
    if checked == 0 {
        return und("no element where every quantity of the claim exists".into());
    }
    if informative == 0 {
        *untested = true;
        return und(format!(
            "both sides are 0 at all {checked} elements of the sampled run (seed {seed}), which cannot tell the claim from a wrong one (another --seed may give a run where they are not)"
        ));
    }
    if let Some(k) = term_seen.iter().position(|seen| !seen) {
        *untested = true;
        return und(format!(
            "the term `{}` is 0 at all {checked} elements of the sampled run (seed {seed}), so the run does not test it (another --seed may give a run where it is not)",
            crate::syntax::printer::print_expr(terms[k])
        ));
    }
    let where_ = if vars.is_empty() {
        "holds at the claim's one value (no free index)".to_string()
    } else {
        format!("holds at all {checked} elements")
    };
    let skipped = match &first_absent {
        Some(b) => {
            let at: Vec<String> = b.iter().map(|(n, v)| format!("{n} = {v}")).collect();
            format!(
                "; not checked at {absent} element(s) where a value the claim reads does not exist on the run (the first at {}): confirmed at the others only",
                if at.is_empty() { "the claim's one value".to_string() } else { at.join(", ") }
            )
        }
        None => String::new(),
    };
    Outcome::new(
        Verdict::Confirmed,
        Method::Numeric,
        format!("{where_} of one sampled run (seed {seed}), relative tolerance 1e-9{skipped}"),
    )
}

/// Why a run refutes no claim that reads a gradient: a forward value of the run that is
/// not finite (`y[1]` of `y = ln(x)` where x[1] < 0 is NaN), so the objective whose
/// gradients the claim reads has no value on that run, though the derived gradient
/// statements may well be finite there (the derivative of `ln` is 1/x): probe31/d e28,
/// `x.grad[i] == y.grad[i] / x[i] + z.grad[i]` of `z = sqrt(x^2)` was refuted at x[1] < 0,
/// where it is not even defined. `None` when the sides read no gradient or every forward
/// value of the run is finite.
fn undefined_objective(lhs: &ast::Expr, rhs: &ast::Expr, m: &Machine) -> Option<String> {
    let mut grads = false;
    for e in [lhs, rhs] {
        crate::check::walk_refs(e, &mut |r| grads |= r.grad);
    }
    if !grads {
        return None;
    }
    let (name, pos, v) = m
        .vals
        .iter()
        .filter(|((_, grad), _)| !grad)
        .flat_map(|((n, _), els)| {
            els.iter()
                .filter(|(_, v)| !v.is_finite())
                .map(move |(p, v)| (n, p, *v))
        })
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))?;
    let at = if pos.is_empty() {
        String::new()
    } else {
        let p: Vec<String> = pos.iter().map(|k| k.to_string()).collect();
        format!("[{}]", p.join(","))
    };
    Some(format!(
        "the sides differ on the sampled run, but the model is undefined on it: `{name}{at}` is {v} (a function outside its domain, such as `ln` or `sqrt` of a negative number, or an overflow), so the objective whose gradients the claim reads has no value there and the run refutes nothing"
    ))
}

/// The rounding a run's values may carry, relative to the largest value it computed or
/// its program writes: 2^-40, about 4,000 roundings of double precision (exact43, from
/// fix42's patch for probe42 r20).
const ROUNDING_ALLOWANCE: f64 = 9.094947017729282e-13;

/// The largest magnitude of a finite value of the run (forward values and gradients).
fn largest_value(m: &Machine) -> f64 {
    m.vals
        .values()
        .flat_map(|els| els.values())
        .filter(|v| v.is_finite())
        .fold(0.0f64, |a, v| a.max(v.abs()))
}

/// The largest magnitude of a number written in the program's equations or the claim's
/// sides: an intermediate value the run does not keep (`(h + x + 1e8) - 1e8`) is as large.
fn largest_number(program: &Program, lhs: &ast::Expr, rhs: &ast::Expr) -> f64 {
    let mut top = 0.0f64;
    let mut see = |e: &ast::Expr| {
        crate::syntax::visit::walk_expr(e, |x| {
            if let ast::Expr::Num(t, _) = x {
                if let Ok(v) = t.parse::<f64>() {
                    if v.is_finite() {
                        top = top.max(v.abs());
                    }
                }
            }
            true
        })
    };
    see(lhs);
    see(rhs);
    fn items(its: &[ast::Item], see: &mut dyn FnMut(&ast::Expr)) {
        for it in its {
            match &it.kind {
                ast::ItemKind::Equation(eq) => see(&eq.rhs),
                ast::ItemKind::Loop(l) => items(&l.body, see),
                ast::ItemKind::ForIndices(f) => items(&f.body, see),
                ast::ItemKind::Rule(r) => items(&r.body, see),
                _ => {}
            }
        }
    }
    items(&program.items, &mut see);
    top
}

/// How a relation compares two finite values of a sampled run, within a relative 1e-9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compared {
    Holds,
    Fails,
    /// A strict relation whose sides agree within the tolerance: not decided.
    Tie,
}

/// `l op r` on finite values of a run, within a relative 1e-9 of the larger side: `==`
/// (and `~=`, read the same here) holds within it, `<=` and `>=` hold up to it and fail
/// beyond it, and a strict `<` or `>` holds beyond it, fails beyond it the other way and
/// is a tie within it.
pub fn compare(op: RelOp, l: f64, r: f64) -> Compared {
    let tol = 1e-9 * l.abs().max(r.abs()).max(1.0);
    let verdict = |holds: bool| {
        if holds {
            Compared::Holds
        } else {
            Compared::Fails
        }
    };
    match op {
        RelOp::Eq | RelOp::Approx => verdict((l - r).abs() <= tol),
        RelOp::Le => verdict(l <= r + tol),
        RelOp::Ge => verdict(l + tol >= r),
        RelOp::Lt | RelOp::Gt => {
            let d = if op == RelOp::Lt { r - l } else { l - r };
            if d > tol {
                Compared::Holds
            } else if d < -tol {
                Compared::Fails
            } else {
                Compared::Tie
            }
        }
    }
}

/// Whether two finite values agree within the relative 1e-9 of [`compare`] (an `==`
/// that holds, or an inequality decided only up to rounding).
fn within_rounding(l: f64, r: f64) -> bool {
    (l - r).abs() <= 1e-9 * l.abs().max(r.abs()).max(1.0)
}

/// The terms of a sum as written (`a + b - c`: a, b, c; a negation is its operand).
fn additive_terms<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::Binary(ast::BinOp::Add | ast::BinOp::Sub, l, r, _) => {
            additive_terms(l, out);
            additive_terms(r, out);
        }
        ast::Expr::Unary(ast::UnOp::Neg, x, _) => additive_terms(x, out),
        other => {
            // Only a term that reads a tensor element can vanish by chance; a constant
            // (`== 0`) is what it is.
            let mut reads = false;
            crate::check::walk_refs(other, &mut |r| reads |= r.indices.is_some() || r.grad);
            if reads {
                out.push(other);
            }
        }
    }
}

/// The expression with every gradient read as its value (`x.grad[t]` as `x[t]`): where
/// the values exist.
fn primal(e: &ast::Expr) -> ast::Expr {
    match e {
        ast::Expr::Ref(r) if r.grad => ast::Expr::Ref(ast::Ref {
            grad: false,
            ..r.clone()
        }),
        _ => crate::syntax::visit::map_children(e, primal),
    }
}
