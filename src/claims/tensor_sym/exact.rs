//! The exact cross-check: both sides evaluated in rationals at random points satisfying
//! the givens, with the sums written out at the `sample` sizes and every free index run
//! over its range.

use super::givens::{lower_side, lowerer, Givens};
use super::relation::{free_indices, holds, rat};
use super::POINTS;

use crate::check::Env;
use crate::num::Machine;
use crate::sym::{self};
use crate::syntax::ast::{self as ast, Program, RelOp};
use num_rational::BigRational;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
pub(crate) mod apart;
pub(crate) mod equal;
mod kinks;
mod shared;
mod sizes;
#[allow(unused_imports)]
pub use kinks::*;
pub use shared::SharedSides;
use shared::*;
use sizes::*;

/// Random points at which the sides of a claim may fail to be valued before any agrees:
/// past it the search stops (the claim is not decided by exact evaluation).
const MAX_UNVALUED: usize = 64;

/// What the exact check found.
pub(super) enum Exact {
    /// Both sides agree at `points` random points (`floating`: some comparison was in
    /// floating point, where a square root is irrational).
    /// `sizes`: where the sums were written out, in words (the sample sizes, or the
    /// sizes the givens set, with their values).
    Agrees {
        points: usize,
        floating: bool,
        sizes: String,
    },
    /// A counterexample: the evidence in words and the witness (the point, both sides,
    /// the element, and the second evaluation that confirmed it); `true` when the point
    /// is one of the simple points or a kink point (small whole numbers or halves, which
    /// floating point holds exactly, so that a run of the interpreter there reaches the
    /// same values).
    Refuted(String, sym::Witness, bool),
    /// The sides differ at a point, but the second evaluation there does not confirm
    /// it: nothing is decided (why, in words).
    Unconfirmed(String),
    /// The sides are undefined at every point of a size the claim is about: a condition
    /// that reads the sizes alone fails there (`I - 1 ≠ 0` at I = 1). Undefined is never
    /// confirmed (docs/soundness.md, "Definedness"); a refutation at a size where the
    /// claim is defined still stands (session 33).
    Undefined(String),
}

/// Exact evaluation at random rational points satisfying the givens, with the sums over
/// the sample sizes written out and every free index run over its range; `Err(why not)`
/// when it cannot be done.
pub(super) fn exact_check(
    op: RelOp,
    claim: &ast::Claim,
    (program, env): (&Program, &Env),
    g: &Givens,
    seed: u64,
    gather: Option<&[crate::grad::Gathered]>,
    shared: Option<&std::cell::RefCell<SharedSides>>,
) -> Result<Exact, String> {
    let shared = shared.filter(|_| shareable(g));
    let mut m = Machine::new(program, env).map_err(|e| e.message)?;
    let sizes: BTreeMap<String, i64> = env
        .sizes
        .keys()
        .filter_map(|s| m.consts.get(s).map(|v| (s.clone(), *v as i64)))
        .collect();
    let sample = sizes.clone();
    // An element the claim names past the end at the sample sizes (`y[5,7]` at J = 3)
    // exists only at larger sizes, and the claim is about those: the sizes are raised to
    // the least at which it exists (the exact path wrote `W[7,0]` out as a free value at
    // J = 3 and refuted the claim with a witness at elements that do not exist).
    let mut sizes = sizes;
    for (d, n) in crate::claims::with_moments::named_extents(claim, env) {
        let Some(v) = sizes.get_mut(&d) else { continue };
        if *v >= n {
            continue;
        }
        if n > MAX_GIVEN_SIZE || !env.derived_sizes.is_empty() {
            return Err(format!(
                "an element the claim names needs {d} >= {n}, past the sample's {d} = {v}, and the sums are not written out there"
            ));
        }
        *v = n;
        m.consts.insert(d, n as f64);
    }
    let raised = sizes != sample;
    let set: Vec<String> = g.syms.iter().map(|(n, _, _)| n.clone()).collect();
    let least = crate::claims::with_moments::least_sizes(claim, program, env, &set, &sizes, false);
    let before_givens = sizes.clone();
    let sizes = sizes_under_givens(&mut m, env, g, sizes)?;
    let label = if sizes != before_givens {
        "the sizes the givens set"
    } else if raised {
        "the sample sizes raised to the least at which every element the claim names exists"
    } else {
        "the sample sizes"
    };
    let least = least.and_then(|least| {
        let mut m = Machine::new(program, env).ok()?;
        for (k, v) in &least {
            m.consts.insert(k.clone(), *v as f64);
        }
        sizes_under_givens(&mut m, env, g, least)
            .ok()
            .filter(|l| *l != sizes)
    });
    // A refutation at the least sizes, which is still the claim's.
    let refuted_at_least = |least: &BTreeMap<String, i64>| match check_at(
        op,
        claim,
        (program, env),
        g,
        (seed ^ 0x5eed_1ea5, gather, None),
        least,
        LEAST,
    ) {
        Ok(found @ Exact::Refuted(..)) => Some(found),
        _ => None,
    };
    let first = match check_at(
        op,
        claim,
        (program, env),
        g,
        (seed, gather, shared),
        &sizes,
        label,
    ) {
        Ok(first) => first,
        // Too many elements to write out at the sample sizes (probe 29: `sw[b,j] >=
        // -0.25` at B = J = 8, false at a[b,j] = -7/5, was left undecided): the least
        // sizes may still be written out, and a refutation there is the claim's; anything
        // else leaves the claim to the sampled run.
        // The same holds for the small sizes above the least (probe40/p p24: a softmax
        // claim false at K = 2 was confirmed from one draw at `sample K = 10`).
        Err(why) => {
            if let Some(least) = &least {
                if let Some(found) = refuted_at_least(least) {
                    return Ok(found);
                }
                let small = apart::apart_points(claim, least, &set, env)
                    .into_iter()
                    .chain(apart::raised_points(claim, least, &set, env))
                    .chain(critical(claim, program, env, least, &set).map(|(p, _)| p));
                for (k, p) in small.enumerate() {
                    let run = || {
                        check_at(
                            op,
                            claim,
                            (program, env),
                            g,
                            (seed ^ (0xa9a7 + k as u64), gather, None),
                            &p,
                            "small sizes above the least",
                        )
                    };
                    let Some(got) = within_work(run) else {
                        break;
                    };
                    if let Ok(found @ Exact::Refuted(..)) = got {
                        return Ok(found);
                    }
                }
            }
            return Err(why);
        }
    };
    // A claim with no size given is a claim for every size at which every element it
    // names exists (docs/language.md): after the sample sizes it is tested at the least
    // such sizes too (`A[t,t'] < 1` of a softmax holds at T = 4, fails at T = 1).
    if let (Exact::Undefined(_), Some(least)) = (&first, &least) {
        // Undefined at the sizes tested first: a refutation at the least sizes, where
        // the claim may be defined, is still the claim's.
        if let Some(found) = refuted_at_least(least) {
            return Ok(found);
        }
    }
    let Exact::Agrees {
        points,
        floating,
        sizes: tested,
    } = first
    else {
        return Ok(first);
    };
    let Some(least) = least else {
        return Ok(Exact::Agrees {
            points,
            floating,
            sizes: tested,
        });
    };
    let least_listed = listed(&least);
    let (points, floating, tested) = match check_at(
        op,
        claim,
        (program, env),
        g,
        (seed ^ 0x5eed_1ea5, gather, None),
        &least,
        LEAST,
    ) {
        Ok(Exact::Agrees {
            points: more,
            floating: fl,
            ..
        }) => (
            points + more,
            floating || fl,
            format!("{tested} and at {LEAST} ({least_listed})"),
        ),
        Ok(Exact::Undefined(why)) => {
            return Ok(Exact::Undefined(format!(
                "the written-out sides agree at {points} random points at {tested}, but {why}"
            )))
        }
        Ok(found) => return Ok(found),
        Err(why) => (
            points,
            floating,
            format!("{tested} (at {LEAST}, {least_listed}, not tested: {why})"),
        ),
    };
    // Then the sizes moved apart from each other ([`apart::apart_points`]): a claim that
    // holds only where two sizes are equal is refuted there.
    let (mut points, mut floating, mut tested) = (points, floating, tested);
    // And the small sizes above the least ([`apart::raised_points`]): a claim false only
    // at K = 2 is refuted there (probe40/p p24).
    let apart_then_raised = apart::apart_points(claim, &least, &set, env)
        .into_iter()
        .map(|p| (p, "sizes moved apart from each other"))
        .chain(
            apart::raised_points(claim, &least, &set, env)
                .into_iter()
                .map(|p| (p, "small sizes above the least")),
        )
        .chain(critical(claim, program, env, &least, &set));
    // size43: a critical point (a given's boundary, a size past a cut-off) the sums cannot
    // be written out at is not passed over: the claim goes to the sampled runs, which
    // try it there (`claims::other_points`).
    let mut unwritten: Vec<String> = Vec::new();
    let is_critical = |label: &str| {
        use crate::claims::with_moments::critical as c;
        label == c::BOUNDARY || label == c::CUT_OFF
    };
    let mut out_of_work = false;
    for (k, (apart, label)) in apart_then_raised.enumerate() {
        let shown = listed(&apart);
        if out_of_work {
            if is_critical(label) {
                unwritten.push(shown);
            }
            continue;
        }
        let run = || {
            check_at(
                op,
                claim,
                (program, env),
                g,
                (seed ^ (0xa9a7 + k as u64), gather, None),
                &apart,
                label,
            )
        };
        // Each point within what is left of the claim's symbolic work, charged to it: a
        // point that would spend it all is not tried, and neither are the ones after it
        // (session 34: with a size raised alone above and below the others, a batch
        // norm's claim ran out of work and was left undecided).
        let Some(got) = within_work(run) else {
            tested = format!(
                "{tested} (the other sizes moved apart not tested: the symbolic work ran out)"
            );
            out_of_work = true;
            if is_critical(label) {
                unwritten.push(shown);
            }
            continue;
        };
        match got {
            Ok(Exact::Agrees {
                points: more,
                floating: fl,
                ..
            }) => {
                points += more;
                floating |= fl;
                tested = format!("{tested}, and at {label} ({shown})");
            }
            Ok(found) => return Ok(found),
            Err(_) if is_critical(label) => unwritten.push(shown),
            Err(_) => {}
        }
    }
    if !unwritten.is_empty() {
        return Err(format!(
            "the sides agree at {points} random points at {tested}, but the sums are not written out at the sizes the claim's givens or the program's cut-offs name ({})",
            unwritten.join("; ")
        ));
    }
    Ok(Exact::Agrees {
        points,
        floating,
        sizes: tested,
    })
}

/// size43: the critical points of the claim from its least sizes (the boundary of each
/// given that relates sizes, the sizes that cross a cut-off on an index value;
/// [`crate::claims::with_moments::critical`]).
fn critical<'c>(
    claim: &'c ast::Claim,
    program: &'c Program,
    env: &'c Env,
    least: &BTreeMap<String, i64>,
    set: &[String],
) -> impl Iterator<Item = (BTreeMap<String, i64>, &'static str)> + 'c {
    use crate::claims::with_moments::critical as c;
    let syms = c::sample_syms(program, env);
    c::critical_points(claim, program, env, least, set, &syms).into_iter()
}

/// How the least sizes are named in the evidence.
const LEAST: &str = "the least sizes at which every element the claim names exists";

/// Sizes in words (`I = 1, T = 3`).
fn listed(sizes: &BTreeMap<String, i64>) -> String {
    sizes
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`exact_check`] with the sums written out at `sizes` (named `label` in the evidence).
fn check_at(
    op: RelOp,
    claim: &ast::Claim,
    (program, env): (&Program, &Env),
    g: &Givens,
    (seed, gather, shared): (
        u64,
        Option<&[crate::grad::Gathered]>,
        Option<&std::cell::RefCell<SharedSides>>,
    ),
    sizes: &BTreeMap<String, i64>,
    label: &str,
) -> Result<Exact, String> {
    let ast::Expr::Rel(_, l, r, _) = &claim.body else {
        return Err("not a relation".into());
    };
    let sizes = sizes.clone();
    let free = free_indices(claim, env);
    let mut ranges = Vec::new();
    for v in &free {
        let size = env.index_size(v).ok_or("an index without a size")?;
        let n = *sizes.get(&size).ok_or("no sample size")?;
        ranges.push(n);
    }
    // Checked: four free indices at A = 65536 made a plain product wrap to 0, and the
    // claim was "confirmed" at the one element (0, 0, 0, 0) it then wrote out.
    let combos: i64 = ranges
        .iter()
        .try_fold(1i64, |acc, n| acc.checked_mul(*n))
        .unwrap_or(i64::MAX);
    if combos > 16 {
        return Err("too many elements to write out".into());
    }
    let mut sides = Vec::new();
    // Each element's group: its values of the indices the relation itself names.
    let mut groups: Vec<String> = Vec::new();
    let body = super::relation::body_indices(claim, env);
    for k in 0..combos.max(1) {
        let mut bind = BTreeMap::new();
        let mut rest = k;
        for (v, n) in free.iter().zip(&ranges) {
            bind.insert(v.clone(), (rest % n).to_string());
            rest /= n;
        }
        let build = || -> Result<_, String> {
            let (mut lw, syms) = lowerer(program, env, g, Some(sizes.clone()), &bind, gather)?;
            let a = match shared {
                Some(_) => left_side(shared, &mut lw, l, &bind, gather.is_some())?,
                None => lower_side(&mut lw, l, &bind, &syms)?,
            };
            let b = lower_side(&mut lw, r, &bind, &syms)?;
            let mut facts = Vec::new();
            for f in &g.facts {
                let x = (
                    lower_side(&mut lw, &f.0, &bind, &syms)?,
                    f.1,
                    lower_side(&mut lw, &f.2, &bind, &syms)?,
                );
                facts.push(x);
            }
            Ok((a, b, facts))
        };
        // The definedness conditions met while writing the sides out (what they divide
        // by, take the log or a root of), and those still visible in the results: a point
        // where one fails is no point of the claim (`sum_{i}(z[b,i]^2) == I - 1 given I =
        // 1` of a Bessel-corrected norm folds to `I - 1` on both sides, yet divides by
        // `I - 1`: it was confirmed). The shared store keeps the conditions of the sides
        // it holds and notes them again on a reuse.
        let (built, conds) = sym::collecting(build);
        let (a, b, facts) = built?;
        let mut conds: BTreeSet<sym::Condition> = conds.into_iter().collect();
        sym::defined::conditions_of(&a, &mut conds);
        sym::defined::conditions_of(&b, &mut conds);
        let at: Vec<String> = bind.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        groups.push(
            bind.iter()
                .filter(|(n, _)| body.contains(*n))
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        sides.push((at.join(", "), a, b, facts, conds));
    }
    // Undefined at these sizes for every value of the elements (session 33).
    if let Some(found) = undefined_at_sizes(&sides, &sizes, label) {
        return found;
    }
    // The symbols to draw: leaf elements, parameters; min/max atoms are computed.
    let mut syms_all: BTreeSet<String> = BTreeSet::new();
    for (_, a, b, fs, conds) in &sides {
        syms_all.extend(a.free_symbols());
        syms_all.extend(b.free_symbols());
        for (x, _, y) in fs {
            syms_all.extend(x.free_symbols());
            syms_all.extend(y.free_symbols());
        }
        // The elements only a definedness condition reads (the sides cancelled them:
        // `m^2 / m^2` is 1, undefined where m = x[0,0]/J - x[0,0] is 0, every x at
        // J = 1): drawn too, so that the condition is judged at the point and not passed
        // for lack of a value (probe39/p p02: refuted "left 1" where every point is
        // undefined).
        for c in conds {
            syms_all.extend(
                c.expr().free_symbols().into_iter().filter(|x| {
                    !x.starts_with("sum_") && !x.contains('#') && !sizes.contains_key(x)
                }),
            );
        }
    }
    // Every element of a tensor under min/max.
    let mut extremes: Vec<(String, String)> = Vec::new();
    for s in &syms_all {
        for f in ["min", "max"] {
            if let Some(t) = s
                .strip_prefix(&format!("{f}("))
                .and_then(|x| x.strip_suffix(')'))
            {
                extremes.push((s.clone(), t.to_string()));
            }
        }
    }
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for (_, t) in &extremes {
        let dims = env
            .tensors
            .get(t)
            .map(|x| x.dims.clone())
            .unwrap_or_default();
        // Every element, of any rank (wrong41: rank 2 was "vectors only").
        for p in crate::claims::elements::extremes::positions(&dims, &sizes)? {
            extra.insert(format!("{t}[{p}]"));
        }
    }
    let draw_syms: Vec<String> = syms_all
        .iter()
        .chain(&extra)
        .filter(|s| !extremes.iter().any(|(e, _)| e == *s))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if draw_syms.iter().any(|s| s.starts_with("sum_")) {
        return Err("a sum over a size without a sample value".into());
    }
    // Elements are drawn inside their distribution's support: a Bernoulli mask is 0 or 1
    // (`u[i]^2 == u[i]` was refuted at u[0] = 16), a uniform element lies between its
    // ends, a categorical one is a class.
    let supports = supports(program, &sizes, &g.syms);
    // A scalar leaf (`input m ~ bernoulli(p)`, no brackets) too: `m^2 x[n] == m x[n]`
    // was refuted at m = 160 (session 22). Only declarations with a distribution are
    // keys, so no symbol is found here.
    let support_of = |s: &str| -> Option<&Support> {
        let key = s.split('[').next()?;
        supports.get(key)
    };
    if let Some(s) = draw_syms
        .iter()
        .find(|s| matches!(support_of(s), Some(Support::Unknown)))
    {
        return Err(format!(
            "the element `{s}` is drawn from a distribution whose support tq cannot write out at the sample values"
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Points at the kinks (docs/soundness.md, "Witnesses"): the argument of every step,
    // relu or abs the written-out sides apply is made exactly 0 at a point of its own,
    // drawn from a generator of their own so that the random points stay as they were.
    // A gradient claim false only at a kink (`x.grad[i] == y.grad[i] [x[i] >= 0]` of a
    // relu, relu'(0) = 0) held at every random point: none lands on the kink.
    // Then the edges of the givens and the points between an edge and a kink or a
    // root of the sides' difference (session 33, `Special`).
    let kinks = special_points(&sides);
    let kink_rounds = kinks.len() * KINK_TRIES;
    let mut kink_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b1c_5eed);
    let mut good = 0;
    let mut floating = false;
    // A failure the second path could not confirm (why): it keeps the claim from agreeing.
    let mut pending: Option<String> = None;
    let mut unconfirmed = 0;
    // Points where the givens held but a side could not be valued (an irrational value
    // under a step, a value out of range), while no point has agreed yet.
    let mut unvalued = 0;
    // Random points where a definedness condition failed, and the first such condition.
    let mut undefined: (usize, Option<String>) = (0, None);
    // The first floating-point agreement no enclosure carried (why).
    let mut no_enclosure: Option<String> = None;
    // Points that agreed, not counting the simple ones (every element 0, then 1).
    let mut good_random = 0;
    for round in 0..POINTS * 500 + kink_rounds {
        // Enough points agree, or enough failures went unconfirmed (a claim whose
        // values overflow floating point everywhere is not searched for long).
        if (good == POINTS && round >= 2 + kink_rounds) || unconfirmed >= 16 {
            break;
        }
        // The kink points come right after the two simple ones; they are extra points,
        // counted neither as agreeing nor as unvalued.
        let kink = (2..2 + kink_rounds)
            .contains(&round)
            .then(|| &kinks[(round - 2) / KINK_TRIES]);
        let try_no = round.saturating_sub(2) % KINK_TRIES;

        // Sides that cannot be valued at the first MAX_UNVALUED points are not valued at
        // the next: `sum_{k}([k == lab[t]] P[t,k])` over a softmax (`exp` of a rational
        // is irrational, under an Iverson bracket) drew all 4,000 points, 15 ms a claim;
        // 400 such claims took 6 s in every command.
        // Only random points count as valued here: the all-0 and all-1 points are
        // often the only ones a side can be valued at (`exp(0) = 1` under a bracket),
        // and one of them agreeing kept the search drawing all 4,000 points (400 such
        // claims: 0.16 s -> 4.9 s after the simple points were added, session 28).
        if good_random == 0 && unvalued >= MAX_UNVALUED {
            if let (n, Some(c)) = &undefined {
                if *n >= unvalued {
                    return Err(format!("the claim is undefined at every one of the {n} random points drawn: `{c}` fails there (undefined is never refuted nor confirmed)"));
                }
            }
            return Err(format!(
                "the sides could not be valued exactly at {unvalued} random points where the givens hold (an irrational value under a step or a bracket, or a value out of range){}",
                if good > 0 {
                    format!("; they agree at the {good} simple point(s) (every element 0, then 1), too few to confirm anything")
                } else {
                    String::new()
                }
            ));
        }
        let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
        if let Some(special) = kink {
            let free = |s: &str| {
                support_of(s).is_none()
                    && !env.domains.contains_key(s)
                    && !g.positive.contains(s)
                    && !env.sizes.contains_key(s)
                    && !env.symbols.contains_key(s)
            };
            // Where the one-variable search and the kink points may move a symbol, and
            // whether a solved value lies in its support or domain (`kinks.rs`).
            let along = |s: &str| along_of(free(s), support_of(s));
            let admits = |s: &str, v: &BigRational| admits(s, v, support_of(s), env, &g.positive);
            match special_point(
                special,
                try_no,
                &draw_syms,
                &sizes,
                &free,
                &along,
                &admits,
                &mut kink_rng,
                |s, rng| match support_of(s) {
                    Some(Support::Values(vs)) => Some(rat(vs[rng.random_range(0..vs.len())], 1)),
                    Some(Support::Interval(lo, hi)) => {
                        let t = rat(rng.random_range(0..=4), 4);
                        Some(lo.clone() + t * (hi.clone() - lo.clone()))
                    }
                    _ => env.domains.get(s).and_then(|d| {
                        let mut d = d.clone();
                        if g.positive.contains(s) {
                            d.meet(&sym::Domain::nonnegative(true, "given"));
                        }
                        d.sample(rng)
                    }),
                },
            ) {
                Some(p) => pt = p,
                None => continue,
            }
        }
        // Half the points draw every element positive and the positive symbols small,
        // so that givens such as `b <= min(g)` (b a positive symbol) hold often enough.
        let (elements_positive, narrow) = if kink.is_some() {
            (false, false)
        } else {
            (rng.random_bool(0.5), rng.random_bool(0.5))
        };
        // The first two points are the simplest: every element (and parameter) 0, then
        // every one 1. A relation that fails only where elements are equal is missed by
        // random points (`sum_{k}(P[t,k]^2) > 1/K` of a softmax is 1/K at equal logits;
        // a log-sum-exp against the mean plus log K is tight there).
        let simple: Option<i64> = match round {
            0 => Some(0),
            1 => Some(1),
            _ => None,
        };
        for s in draw_syms.iter().filter(|_| kink.is_none()) {
            match support_of(s) {
                Some(Support::Values(vs)) => {
                    pt.insert(s.clone(), rat(vs[rng.random_range(0..vs.len())], 1));
                    continue;
                }
                Some(Support::Interval(lo, hi)) => {
                    let t = rat(rng.random_range(0..=12), 12);
                    pt.insert(s.clone(), lo.clone() + t * (hi.clone() - lo.clone()));
                    continue;
                }
                _ => {}
            }
            // A symbol with a domain (docs/symbolic.md, "Domains") is drawn inside it.
            if let Some(v) = env.domains.get(s).and_then(|d| {
                let mut d = d.clone();
                if g.positive.contains(s) {
                    d.meet(&sym::Domain::nonnegative(true, "given"));
                }
                d.sample(&mut rng)
            }) {
                pt.insert(s.clone(), v);
                continue;
            }
            let v = if g.positive.contains(s) || env.sizes.contains_key(s) {
                rat(rng.random_range(1..=40), rng.random_range(1..=12))
            } else if let (Some(v), true) = (simple, s.contains('[')) {
                rat(v, 1)
            } else if s.contains('[') {
                let lo = if elements_positive { 1 } else { -40 };
                rat(rng.random_range(lo..=40), rng.random_range(1..=12))
            } else if env.symbols.contains_key(s) && env.signed.contains(s) {
                // A location (an offset added to a value, a mean: docs/soundness.md "The
                // domains") is every real: drawn of both signs and at 0 (probe33/a a15:
                // `x[i]^2 + c >= 0` was confirmed, c drawn positive only).
                match simple {
                    Some(v) => rat(-v, 1),
                    None => rat(rng.random_range(-40..=40), rng.random_range(1..=12)),
                }
            } else if env.symbols.contains_key(s) {
                // A declared symbol without a narrower domain is a positive real (tq's
                // convention, docs/soundness.md "The domains"): never drawn at 0 or below
                // (`eps` in a layer norm's denominator was refuted at eps = -140/3).
                if narrow {
                    rat(rng.random_range(1..=40), rng.random_range(1..=12))
                } else {
                    rat(rng.random_range(1..=400), rng.random_range(1..=4))
                }
            } else if let Some(v) = simple {
                rat(v, 1)
            } else {
                // Parameters range wider than the elements, so that conditions such as
                // `b <= min(g)` hold often enough.
                rat(rng.random_range(-400..=400), rng.random_range(1..=4))
            };
            pt.insert(s.clone(), v);
        }
        for (s, v) in &sizes {
            pt.insert(s.clone(), rat(*v, 1));
        }
        for (atom, t) in &extremes {
            let vals: Vec<&BigRational> = pt
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{t}[")))
                .map(|(_, v)| v)
                .collect();
            let v = if atom.starts_with("min") {
                vals.iter().min().cloned()
            } else {
                vals.iter().max().cloned()
            };
            let Some(v) = v else {
                return Err("an empty tensor".into());
            };
            pt.insert(atom.clone(), v.clone());
        }
        let mut ok = true;
        let mut facts_hold = true;
        let mut bad = None;
        // The givens select elements, not points (session 33): an element whose givens
        // fail at the point is not tested there, and the others are (the givens had to
        // hold at every element at once, so `x.grad[b,i] >= 0 given y.grad[b,i] > 0,
        // x[b,i] > -1/4`, false for x[b,i] in (-1/4, 0), was confirmed: no point put
        // all six elements in the region). The elements that agree on the relation's own
        // indices are one group: a given over an index only the givens name holds at
        // each of its values.
        let mut excluded: BTreeSet<&str> = BTreeSet::new();
        for ((_, _, _, facts, conds), group) in sides.iter().zip(&groups) {
            if let Some(c) = conds.iter().find(|c| fails_at(c, &pt)) {
                if kink.is_none() {
                    undefined.0 += 1;
                    undefined.1.get_or_insert_with(|| c.to_string());
                }
                ok = false;
                break;
            }
            for (x, fop, y) in facts {
                match (sym::eval_exact(x, &pt), sym::eval_exact(y, &pt)) {
                    (Ok(x), Ok(y)) if holds(*fop, &x, &y) => {}
                    // A given that fails at this element: the others may satisfy it.
                    (Ok(_), Ok(_)) => {
                        excluded.insert(group.as_str());
                    }
                    // A given that cannot be valued (irrational, out of range) counts
                    // as a side that cannot: no other point values it either.
                    _ => ok = false,
                }
            }
            if !ok {
                break;
            }
        }
        if ok && groups.iter().all(|g| excluded.contains(g.as_str())) {
            // The givens hold at no element here: another point may satisfy them.
            ok = false;
            facts_hold = false;
        }
        for ((at, a, b, _, _), group) in sides.iter().zip(&groups) {
            if !ok {
                break;
            }
            if excluded.contains(group.as_str()) {
                continue;
            }
            match (sym::eval_exact(a, &pt), sym::eval_exact(b, &pt)) {
                (Ok(x), Ok(y)) => {
                    if !holds(op, &x, &y) && !matches!(bad, Some(Ok(_))) {
                        // The second path: an interval enclosure of both sides in
                        // floating point at the same point must fail the relation too.
                        bad = Some(match enclosed_fails(op, a, b, &pt) {
                            Some(true) => Ok((
                                at.clone(),
                                x.to_string(),
                                y.to_string(),
                                "exact evaluation in rationals, confirmed by an interval enclosure of both sides in floating point at the same point".to_string(),
                            )),
                            // A tie (`1 < 1`: a softmax over one key) no enclosure in
                            // floating point separates; the exact range facts of both
                            // sides with the point substituted are a second exact path.
                            _ if ranged_fails(op, a, b, &pt) => Ok((
                                at.clone(),
                                x.to_string(),
                                y.to_string(),
                                "exact evaluation in rationals, confirmed by the exact range facts of both sides with the point substituted (rational bounds, no floating point)".to_string(),
                            )),
                            // Exact arithmetic is the authority, but a refutation needs
                            // its second path to agree: without it, nothing is decided.
                            found => Err(format!(
                                "exactly at {}: left {}, right {}, but the re-check by an interval enclosure in floating point {}, and no other point was confirmed, so this is not counted as a refutation",
                                point_text(&pt, env, &sizes, at, label),
                                short(&x),
                                short(&y),
                                if found.is_none() {
                                    "cannot be made (a value under- or overflows)"
                                } else {
                                    "does not separate the sides"
                                }
                            )),
                        });
                    }
                }
                // A step of an irrational value is not decided in floating point (its
                // argument may be 0 exactly and a rounding error away from it).
                (Err(sym::EvalError::Irrational(_)), _)
                | (_, Err(sym::EvalError::Irrational(_)))
                    if has_step(a) || has_step(b) =>
                {
                    ok = false
                }
                (Err(sym::EvalError::Irrational(_)), _)
                | (_, Err(sym::EvalError::Irrational(_))) => {
                    // A square root of a non-square: compare in floating point.
                    let fp: BTreeMap<String, f64> = pt
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                num_traits::ToPrimitive::to_f64(v).unwrap_or(f64::NAN),
                            )
                        })
                        .collect();
                    match (sym::eval_f64(a, &fp), sym::eval_f64(b, &fp)) {
                        // A strict relation between sides closer than the tolerance is
                        // not decided in floating point (`A[t,t'] < 1` of a softmax over
                        // one key is 1 < 1, false, but within rounding of holding).
                        (Ok(x), Ok(y))
                            if x.is_finite()
                                && y.is_finite()
                                && matches!(op, RelOp::Lt | RelOp::Gt)
                                && (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) =>
                        {
                            ok = false
                        }
                        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
                            floating = true;
                            let tol = 1e-9 * x.abs().max(y.abs()).max(1.0);
                            let fine = match op {
                                RelOp::Eq | RelOp::Approx => (x - y).abs() <= tol,
                                RelOp::Le | RelOp::Lt => x <= y + tol,
                                RelOp::Ge | RelOp::Gt => x + tol >= y,
                            };
                            // An agreement in floating point counts only where an
                            // interval enclosure of both sides carries it (probe37 p16:
                            // `A[0,1] == 0` of a softmax with `- 1000 [t' > t]` held
                            // at every point once exp underflowed to 0).
                            // Sides that agree only within the tolerance while an
                            // interval enclosure of both shows them apart (`sigmoid(x -
                            // 60) == 0`: 10⁻²⁶ against 0, within the absolute 1e-9) are
                            // exactly different: the enclosure is the second path of
                            // the failure (session 39; the sampled run confirmed it).
                            let apart = fine
                                && matches!(op, RelOp::Eq | RelOp::Le | RelOp::Ge)
                                && enclosed_fails(op, a, b, &pt) == Some(true);
                            if apart {
                                if !matches!(bad, Some(Ok(_))) {
                                    bad = Some(Ok((
                                    at.clone(),
                                    format!("≈ {}", crate::num::sig::sig(x, 13)),
                                    format!("≈ {}", crate::num::sig::sig(y, 13)),
                                    "floating-point evaluation, whose agreement is only within its tolerance (1e-9, absolute near 0), and an interval enclosure of both sides at the same point, which shows them apart".to_string(),
                                )));
                                }
                            } else if fine && !enclosed_holds(op, a, b, &pt) {
                                no_enclosure.get_or_insert_with(|| {
                                    format!(
                                        "at {}: left ≈ {x:.12e}, right ≈ {y:.12e} agree in floating point, but an interval enclosure of the sides does not carry the agreement (a value under- or overflows, or the enclosures are too wide), so it is no evidence",
                                        point_text(&pt, env, &sizes, at, label)
                                    )
                                });
                                ok = false;
                            } else if !fine && !matches!(bad, Some(Ok(_))) {
                                // A floating-point failure is confirmed by an interval
                                // enclosure of both sides (every operation widened
                                // outward); one that cannot be confirmed decides nothing.
                                bad = Some(if enclosed_fails(op, a, b, &pt) == Some(true) {
                                    Ok((
                                        at.clone(),
                                        format!("≈ {x:.12}"),
                                        format!("≈ {y:.12}"),
                                        "floating-point evaluation (a square root or another irrational value), confirmed by an interval enclosure of both sides at the same point".to_string(),
                                    ))
                                } else {
                                    Err(format!(
                                        "exactly at {}: left {x:.12}, right {y:.12} in floating point, but an interval enclosure of the sides does not confirm the difference, and no other point was confirmed, so this is not counted as a refutation",
                                        point_text(&pt, env, &sizes, at, label)
                                    ))
                                });
                            }
                        }
                        _ => ok = false,
                    }
                }
                _ => ok = false,
            }
        }
        if !ok {
            if facts_hold && kink.is_none() {
                unvalued += 1;
            }
            continue;
        }
        if let Some(found) = bad {
            let (at, left, right, checked_by) = match found {
                Ok(f) => f,
                // Not confirmed here: the next points may confirm a failure; if none
                // does, the claim is neither refuted nor agreed with.
                Err(why) => {
                    pending.get_or_insert(why);
                    unconfirmed += 1;
                    continue;
                }
            };
            let floating = left.starts_with('≈');
            let values = if floating {
                format!(
                    "left {}, right {} (floating point)",
                    left.trim_start_matches("≈ "),
                    right.trim_start_matches("≈ ")
                )
            } else {
                format!("left {left}, right {right}")
            };
            let text = format!(
                "exactly at {}: {values}{}",
                point_text(&pt, env, &sizes, &at, label),
                kink.map(Special::note).unwrap_or_default()
            );
            let witness = sym::Witness {
                point: pt.clone(),
                left,
                right,
                checked_by,
                element: Some(if at.is_empty() {
                    "the claim's one value (no free index)".to_string()
                } else {
                    at
                }),
                seed: Some(seed),
                estimate: None,
            };
            return Ok(Exact::Refuted(
                text,
                witness,
                kink.is_some() || simple.is_some(),
            ));
        }
        if kink.is_some() {
            continue;
        }
        good += 1;
        if simple.is_none() {
            good_random += 1;
        }
    }
    if let Some(why) = pending {
        return Ok(Exact::Unconfirmed(why));
    }
    if good < POINTS {
        if let Some(why) = no_enclosure {
            return Ok(Exact::Unconfirmed(why));
        }
        return Err(format!("only {good} random points satisfied the givens"));
    }
    let sizes = format!("{label} ({})", listed(&sizes));
    Ok(Exact::Agrees {
        points: good,
        floating,
        sizes,
    })
}

/// Runs `run` within what is left of the claim's symbolic work, and charges what it used
/// to the claim; `None` when it would spend it all (then neither it nor the points after
/// it are tried: session 34, a batch norm's claim ran out of work on its extra points and
/// was left undecided). Without a budget, `run` is run as it is.
fn within_work<R>(run: impl FnOnce() -> R) -> Option<R> {
    match crate::sym::work_left() {
        Some(left) => {
            let (got, work) = crate::sym::with_work_budget(left, run);
            if work.exhausted {
                return None;
            }
            crate::sym::charge_work(work.used.min(left));
            Some(got)
        }
        None => Some(run()),
    }
}
