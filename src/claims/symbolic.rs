//! Scalar claims decided in `sym`: the claim lowered with its givens and point, its
//! domains, and the node limit of the exact engines.

use super::*;
use crate::analysis::givens::{Given, Givens, Setting, SignOpen};
use crate::syntax::printer::print_expr;

/// What the exact engines read of a claim besides the claim and the values of the
/// calls it makes (moments, counts): its point (`at`), the scalar program's scope, the
/// environment and the options.
#[derive(Clone, Copy)]
pub(super) struct Lowering<'a> {
    pub at: &'a [Binding],
    pub base: &'a scalar::Scope,
    pub env: &'a Env,
    pub opts: &'a Options,
}

pub(super) fn decide(
    claim: &Claim,
    calls: BTreeMap<String, Result<Expr, String>>,
    x: Lowering,
) -> Outcome {
    let Lowering { env, .. } = x;
    if claim.includes.is_some() {
        return undecided("`includes` blocks are decided on a sampled run of the model");
    }
    if claim.boundary.is_some() {
        return undecided(
            "claims under another boundary rule need the moments engine, which is not built yet",
        );
    }
    // `given x^2 = 4` of a name that may be negative: the claim at both roots.
    if let Some(open) = Givens::read(&claim.given, env).sign_open() {
        return at_both_roots(claim, open, env, |c| decide(c, calls.clone(), x));
    }
    let Prepared {
        lhs,
        rhs,
        rel,
        opts,
        opaque,
    } = match prepare(claim, calls, x) {
        Ok(p) => p,
        Err(o) => return *o,
    };
    let o = Outcome::from_decision(sym::check_relation(&lhs, &rel, &rhs, &opts));
    // snd41 (issue #14, snd40): a given with a closed end that is an irrational constant
    // (`given a >= sqrt(2)`, `s <= pi/2`, `x >= log(3)`): the points drawn approximate
    // the end, so a claim false exactly there (`a^2 > 2`) was confirmed. Only a proof
    // decides it; agreement at the points is undecided.
    if o.verdict == Verdict::Confirmed {
        if let Some(end) = irrational_closed_end(&opts, env, &[&lhs, &rhs]) {
            return undecided(format!(
                "a given's closed end, {end}, is irrational: the points tried only approximate it, and the claim at the end itself is not decided exactly ({})",
                o.evidence
            ));
        }
    }
    // A scalar leaf whose support is narrower than its interval (a mask is 0 or 1): a
    // point where it takes another value is no counterexample.
    if o.verdict == Verdict::Refuted {
        if let Some(w) = &o.witness {
            for (name, vals) in &env.leaf_values {
                let Some(v) = w.point.get(name) else { continue };
                let inside = vals.as_ref().is_some_and(|vals| {
                    v.is_integer()
                        && num_traits::ToPrimitive::to_i64(&v.to_integer())
                            .is_some_and(|k| vals.contains(&k))
                });
                if !inside {
                    return undecided(format!(
                        "fails only at {name} = {v}, which its distribution never draws ({}); no point inside the support was found: {}",
                        match vals {
                            Some(vals) => format!(
                                "it takes {}",
                                vals.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
                            ),
                            None => "its support is not written out".to_string(),
                        },
                        o.evidence
                    ));
                }
            }
        }
    }
    // A point where a derived size is not a whole number of at least 1 is no point of
    // the model (its relation among the givens was met with a fraction: probe35/p a08).
    if o.verdict == Verdict::Refuted {
        if let Some((name, v)) = o.witness.as_ref().and_then(|w| {
            crate::check::outputs::derived_size_off(&with_given_sizes(claim, &w.point, env), env)
        }) {
            return undecided(format!(
                "fails only at a point where the size `{name}` would be {v}, not a whole number of at least 1 (no point of the model); no point where every size is whole was found: {}",
                o.evidence
            ));
        }
    }
    if let (Verdict::Refuted, Some((name, why))) = (o.verdict, opaque.first()) {
        return Outcome {
            on_elements: true,
            ..undecided(format!(
                "fails only with `{name}` taken as a free value, but the program computes it ({why}), so the point need not be one it reaches: {}",
                o.evidence
            ))
        };
    }
    o
}

/// The first closed end of a given that is an irrational constant (`sqrt(2)` of `given a
/// >= sqrt(2)`, `pi/2`, `log(3)`): a constant side of a `<=` or `>=` assumption that is
/// no rational number ([`decide`]).
fn irrational_closed_end(opts: &sym::CheckOptions, env: &Env, sides: &[&Expr]) -> Option<String> {
    let read: std::collections::BTreeSet<String> =
        sides.iter().flat_map(|e| e.free_symbols()).collect();
    let constant = |e: &Expr| {
        e.as_num().is_none()
            && e.free_symbols().iter().all(|s| {
                matches!(s.as_str(), "pi" | "e")
                    && !env.symbols.contains_key(s)
                    && !env.scalars.contains_key(s)
                    && !env.sizes.contains_key(s)
            })
    };
    opts.assumptions.iter().find_map(|(a, r, b)| {
        if !matches!(r, Rel::Le | Rel::Ge) {
            return None;
        }
        let (end, other) = if constant(a) { (a, b) } else { (b, a) };
        (constant(end) && other.free_symbols().iter().any(|s| read.contains(s)))
            .then(|| format!("`{}`", sym::to_text(end)))
    })
}

/// wrong42 (snd40, the engines other than the scalar one): a claim `confirmed` at points
/// or by trials under a given with a closed end that is an irrational constant, on a
/// declared name (`Var(y[b]) < pi^2/4 given s <= pi/2`, false exactly at s = pi/2, was
/// confirmed by Monte Carlo at s = 1 and 1/8): no point tried is the end, so agreement
/// there is `undecided`, naming the end. Other verdicts are returned as they are.
pub(super) fn confirmed_at_irrational_end(claim: &Claim, env: &Env, o: Outcome) -> Outcome {
    if o.verdict != Verdict::Confirmed {
        return o;
    }
    let declared = |s: &String| {
        env.symbols.contains_key(s) || env.scalars.contains_key(s) || env.sizes.contains_key(s)
    };
    let constant = |e: &Expr| {
        e.as_num().is_none()
            && e.free_symbols()
                .iter()
                .all(|s| matches!(s.as_str(), "pi" | "e") && !declared(s))
    };
    let end = claim.given.iter().find_map(|g| {
        let ast::Expr::Rel(RelOp::Le | RelOp::Ge, l, r, _) = g else {
            return None;
        };
        let lower = |e: &ast::Expr| scalar::lower(e, &scalar::Scope::default()).ok();
        let (l, r) = (lower(l)?, lower(r)?);
        let (end, other) = if constant(&l) { (l, r) } else { (r, l) };
        (constant(&end) && other.free_symbols().iter().any(declared))
            .then(|| format!("`{}`", sym::to_text(&end)))
    });
    match end {
        Some(end) => undecided(format!(
            "a given's closed end, {end}, is irrational: the points and trials tried only approximate it, and the claim at the end itself is not decided exactly ({})",
            o.evidence
        )),
        None => o,
    }
}

/// A witness's point with the sizes the claim's givens compute from it (`given X = 2 D +
/// 2` at D = 1: X = 4), exactly, in a few rounds (a given may read another's size), so
/// that a derived size reading them is judged there too (snd36, probe35/p a08: the claim
/// `mults(y) == 7 given X = 2 D + 2` was refuted at D = 1, where `H = (X - DX)/2 + 1` is
/// 5/2).
fn with_given_sizes(
    claim: &Claim,
    point: &BTreeMap<String, num_rational::BigRational>,
    env: &Env,
) -> BTreeMap<String, num_rational::BigRational> {
    let mut out = point.clone();
    for _ in 0..4 {
        for g in &claim.given {
            let ast::Expr::Rel(RelOp::Eq, l, r, _) = g else {
                continue;
            };
            let ast::Expr::Ref(rf) = &**l else {
                continue;
            };
            let name = crate::syntax::printer::print_name(&rf.name);
            if rf.indices.is_some() || !env.sizes.contains_key(&name) || out.contains_key(&name) {
                continue;
            }
            let Ok(x) = scalar::lower(r, &scalar::Scope::default()) else {
                continue;
            };
            if let Ok(v) = x.eval_exact(&out) {
                out.insert(name, v);
            }
        }
    }
    out
}

/// Whether a claim that sampling decided (Monte Carlo on the model) is defined on the
/// whole of its domains: its sides lowered as for the exact engines, with each moment
/// (`E`, `Var`, `Cov`) a fresh atom that Monte Carlo estimates, so the conditions
/// collected while the formula was built (`a - 1 ≠ 0` from `m (a - 1)/(a - 1)`, `1 - a² ≠ 0`
/// from an AR(1) closed form) are those of the formula alone; a condition that reads a
/// moment is left out (the trials estimate it). `None` when every condition holds on the
/// domains and the givens (or the claim cannot be lowered: nothing to add), else why
/// not, with a point where a condition fails when one is found (docs/soundness.md,
/// "Definedness": undefined is never confirmed).
pub(super) fn undefined_somewhere(
    claim: &Claim,
    mut calls: BTreeMap<String, Result<Expr, String>>,
    x: Lowering,
) -> Option<String> {
    const ATOM: &str = "#mc";
    let mut found = Vec::new();
    super::moments::find(&claim.body, &mut found);
    for (k, c) in found.into_iter().enumerate() {
        let text = print_expr(&ast::Expr::Call(c.clone()));
        calls
            .entry(text)
            .or_insert_with(|| Ok(Expr::sym(&format!("{ATOM}{k}"))));
    }
    let Prepared {
        lhs,
        rhs,
        opts: mut check,
        ..
    } = prepare(claim, calls, x).ok()?;
    check
        .conditions
        .retain(|c| !c.expr().free_symbols().iter().any(|s| s.starts_with('#')));
    if check.conditions.is_empty() {
        return None;
    }
    // Symbols in the sides' exponents are whole numbers there, as for the claim itself.
    let mut exps = std::collections::BTreeSet::new();
    lhs.exponent_symbols(&mut exps);
    rhs.exponent_symbols(&mut exps);
    check.integer_symbols.extend(exps.into_iter().filter(|s| {
        !s.starts_with('#')
            && !check.signed_symbols.contains(s)
            && !check.fractional_symbols.contains(s)
    }));
    // The conditions alone, as those of an identity (`0 == 0`): the definedness check of
    // the exact engines decides them over the domains, the givens and their relations.
    let zero = Expr::zero();
    let d = sym::check_relation(&zero, &Rel::Eq, &zero, &check);
    if d.verdict == Verdict::Proved {
        return None;
    }
    let why = d.evidence;
    Some(match why.split_once(", but ") {
        Some((_, rest)) => rest.to_string(),
        None => why,
    })
}

/// Why a claim's setting is empty, when its givens contradict the symbols' domains or
/// the relations the declarations give between them (`given a < c` with `normal(0, a -
/// c)`): read from the givens alone, so it holds whatever engine decided the claim
/// (tensor-symbolic, the recurrences, Monte Carlo). A given that does not lower to the
/// file's symbols and sizes (an element, a moment) is left out, which only adds points;
/// a name that is no declared symbol or size gets no domain of its own here.
/// (docs/soundness.md, "The verdicts": a claim about no point is never proved.)
pub(super) fn empty_setting(claim: &Claim, x: Lowering) -> Option<String> {
    let Lowering { base, env, .. } = x;
    if claim.given.is_empty() {
        return None;
    }
    let mut assumptions: Vec<sym::Assumption> = Vec::new();
    let givens = Givens::read(&claim.given, env);
    for written in &givens.written {
        let ast::Expr::Rel(op, l, r, _) = written else {
            continue;
        };
        let (Ok(a), Ok(b)) = (scalar::lower(l, base), scalar::lower(r, base)) else {
            continue;
        };
        let Some(rel) = scalar::relation(*op) else {
            continue;
        };
        assumptions.push((a, rel, b));
    }
    if assumptions.is_empty() {
        return None;
    }
    for d in env.domains.values() {
        for rel in &d.relations {
            if !assumptions.contains(rel) {
                assumptions.push(rel.clone());
            }
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (a, _, b) in &assumptions {
        names.extend(a.free_symbols());
        names.extend(b.free_symbols());
    }
    // A name that is neither a declared symbol nor a size (a scalar leaf, a computed
    // value left as an atom) is taken as every real.
    let mut signed = signed_symbols(env);
    signed.extend(
        names
            .into_iter()
            .filter(|n| !env.symbols.contains_key(n) && !env.sizes.contains_key(n)),
    );
    let check = sym::CheckOptions {
        domains: claim_domains(env, &assumptions),
        assumptions,
        signed_symbols: signed,
        ..Default::default()
    };
    sym::empty_setting(&check)
}

/// A scalar claim lowered for the exact engines: its sides, relation, the options of
/// [`sym::check_relation`] (domains, givens, definedness conditions) and the values the
/// program computes that stand as atoms.
struct Prepared {
    lhs: Expr,
    rhs: Expr,
    rel: Rel,
    opts: sym::CheckOptions,
    opaque: Vec<(String, String)>,
}

/// The claim's sides lowered in `base` with `calls` (moments, counts), the definedness
/// conditions collected while they were built, the givens and the point put in, and
/// its domains; `Err` with the claim's outcome (boxed) when it cannot be lowered.
fn prepare(
    claim: &Claim,
    calls: BTreeMap<String, Result<Expr, String>>,
    x: Lowering,
) -> Result<Prepared, Box<Outcome>> {
    let Lowering {
        at,
        base,
        env,
        opts,
    } = x;
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return Err(Box::new(undecided(
            "predicate claims (`f(...)`) are not decided yet",
        )));
    };
    let mut scope = base.clone();
    scope.calls = calls;
    let lower = |e: &ast::Expr| scalar::lower_or_why(e, &scope);
    // Unlowered because of tensor elements or explicit sums: a sampled run owns it next.
    let unlowered = |u: scalar::Unlowered, prefix: &str| Outcome {
        on_elements: u.elements,
        ..undecided(format!("{prefix}{}", u.message))
    };
    // The sides with the definedness conditions of what they divide by, take the log
    // of or take a root of, before the normal form folds them (`x/x`, `0 ln 0`).
    let ((lowered_l, lowered_r), conditions) = sym::collecting(|| (lower(l), lower(r)));
    let mut conditions = conditions;
    let (mut lhs, mut rhs) = match (lowered_l, lowered_r) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(Box::new(unlowered(e, ""))),
    };
    // The conditions the lowered sides still show (a moment's closed form, built before
    // this scope, divides by `a - 1`): kept before the givens are put in, which may fold
    // them away (`c (a^t - 1)/(a - 1)` at a = 1 is 0 · 0^-1, folded to 0).
    {
        let mut visible = std::collections::BTreeSet::new();
        sym::defined::conditions_of(&lhs, &mut visible);
        sym::defined::conditions_of(&rhs, &mut visible);
        for c in visible {
            if !conditions.contains(&c) {
                conditions.push(c);
            }
        }
    }
    // Powers at whole exponents (sizes, loop variables, counts) written one way on both
    // sides, as the moments engine writes its closed forms: `(c^2)^l` is `c^(2 l)`. A
    // symbol read in an exponent is a whole number (docs/language.md, "Claims": a count
    // such as a depth) unless the file reads it as a real or gives it a value that is not
    // whole, and a scalar input is every real: the convention the random points follow.
    let mut in_exponents = std::collections::BTreeSet::new();
    lhs.exponent_symbols(&mut in_exponents);
    rhs.exponent_symbols(&mut in_exponents);
    let whole: std::collections::BTreeSet<String> = env
        .sizes
        .keys()
        .cloned()
        .chain(
            env.domains
                .iter()
                .filter(|(_, d)| d.integer)
                .map(|(n, _)| n.clone()),
        )
        .chain(in_exponents.into_iter().filter(|s| {
            !env.signed.contains(s)
                && !env.fractional.contains(s)
                && !env.scalars.contains_key(s)
                && !env.computed_scalars.contains(s)
        }))
        .collect();
    lhs = crate::moments::whole_exponents(&lhs, &whole);
    rhs = crate::moments::whole_exponents(&rhs, &whole);
    let rel = match scalar::relation(*op) {
        Some(rel) => rel,
        None => {
            let (tol, exact) = match &claim.tol {
                Some(t) => match lower(t).ok().and_then(|t| t.as_num().cloned()) {
                    Some(t) => (num_traits::ToPrimitive::to_f64(&t).unwrap_or(0.0), Some(t)),
                    None => return Err(Box::new(undecided("the tolerance is not a number"))),
                },
                None => (1e-6, None),
            };
            Rel::Approx(tol, exact)
        }
    };
    // Givens (read once, typed: `crate::analysis::givens`): a setting substitutes its
    // value (the positive root for `name^n = value`, and for a sign left open when the
    // claim is not split at both roots), a condition restricts the points.
    let mut assumptions = Vec::new();
    // The family variables of the claim's moments range over the members, the first
    // included (`l >= 0` with `h_0`), and up to the last (`l <= L`): an assumption that
    // the settings and the point below are put into as the sides are.
    let (family_domains, mut family_bounds) = family_variables(claim, env);
    let mut set: Vec<(String, Expr)> = Vec::new();
    let mut whole_sizes: Vec<Expr> = Vec::new();
    let givens = Givens::read(&claim.given, env);
    for (g, written) in givens.all.iter().zip(&givens.written) {
        let substitution = match g {
            Given::Set(s) => Some((s.name.clone(), s.value.clone(), s.power)),
            Given::SignOpen(s) => Some((s.name.clone(), s.value.clone(), Some(s.power))),
            _ => None,
        };
        if let Some((name, value, power)) = substitution {
            let v = match lower(&value) {
                Ok(v) => v,
                Err(e) => return Err(Box::new(unlowered(e, "given: "))),
            };
            let v = Setting::root_of(v, power);
            // A size set by an expression is a whole number there (`J = I/2`: I even).
            if power.is_none() && env.sizes.contains_key(&name) && v.as_num().is_none() {
                whole_sizes.push(v.clone());
            }
            set.push((name.clone(), v.clone()));
            lhs = lhs.subs(&name, &v);
            rhs = rhs.subs(&name, &v);
            conditions = conditions
                .iter()
                .map(|c| c.map(|e| e.subs(&name, &v)))
                .collect();
            for (a, _, b) in &mut family_bounds {
                *a = a.subs(&name, &v);
                *b = b.subs(&name, &v);
            }
            continue;
        }
        let ast::Expr::Rel(gop, gl, gr, _) = written else {
            return Err(Box::new(undecided("a given that is not a relation")));
        };
        let (a, b) = match (lower(gl), lower(gr)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Err(Box::new(unlowered(e, "given: "))),
        };
        let r = scalar::relation(*gop).unwrap_or(Rel::Approx(1e-6, None));
        assumptions.push((a, r, b));
    }
    // A condition reads the values the settings give, whichever order they were
    // written in (`given c > a, a = 0`; a `solve`'s existence condition, added last).
    for (a, _, b) in assumptions.iter_mut() {
        for (name, v) in &set {
            *a = a.subs(name, v);
            *b = b.subs(name, v);
        }
    }
    // Relations between symbols from the declarations (`uniform(a, b)`: a < b): every
    // point satisfies them too, with the settings' values put in (session 38: `given a =
    // c - 1` of `normal(0, a - c)` left a free, so a point met `a >= c` at an a the
    // sides no longer read).
    for d in env.domains.values() {
        for rel in &d.relations {
            let mut rel = rel.clone();
            for (name, v) in &set {
                rel.0 = rel.0.subs(name, v);
                rel.2 = rel.2.subs(name, v);
            }
            if !assumptions.contains(&rel) {
                assumptions.push(rel);
            }
        }
    }
    if !at.is_empty() {
        let pt = match scalar::point(at) {
            Ok(p) => p,
            Err(e) => return Err(Box::new(undecided(format!("the point: {e}")))),
        };
        lhs = scalar::at(&lhs, &pt);
        rhs = scalar::at(&rhs, &pt);
        conditions = conditions
            .iter()
            .map(|c| c.map(|e| scalar::at(e, &pt)))
            .collect();
        for (a, _, b) in &mut family_bounds {
            *a = scalar::at(a, &pt);
            *b = scalar::at(b, &pt);
        }
        for w in &mut whole_sizes {
            *w = scalar::at(w, &pt);
        }
        // The givens' conditions at the point too (fix42, probe42 r08): a given on a
        // computed value, read as a relation on its inputs (`x == 0` of `x = a b` is
        // `a b == 0`), kept the inputs the point sets free, so a witness met it at
        // a = 0, b = 1 while the sides were read at the point's a = 2 ("left 2" of
        // `x == 0 given x == 0`). The point and the condition together: a = 2, b = 0.
        for (a, _, b) in &mut assumptions {
            *a = scalar::at(a, &pt);
            *b = scalar::at(b, &pt);
        }
    }
    for bound in family_bounds {
        if !assumptions.contains(&bound) {
            assumptions.push(bound);
        }
    }
    // Values the program computes that the scope could not write out stand as atoms:
    // a proof over them holds for whatever they are, a counterexample need not be
    // reachable.
    let opaque: Vec<(String, String)> = [&lhs, &rhs]
        .into_iter()
        .flat_map(|e| scope.opaque_atoms(e))
        .filter(|(n, _)| !env.symbols.contains_key(n) && !env.sizes.contains_key(n))
        .collect();
    let check = sym::CheckOptions {
        seed: opts.seed,
        integer_symbols: env.sizes.keys().cloned().collect(),
        domains: {
            let mut d = claim_domains(env, &assumptions);
            for (name, f) in family_domains {
                d.entry(name).and_modify(|o| o.meet(&f)).or_insert(f);
            }
            d
        },
        assumptions,
        signed_symbols: signed_symbols(env),
        // A declared symbol named `pi` or `e` is the file's symbol, not the constant
        // (symbols are drawn positive anyway).
        positive_symbols: env
            .symbols
            .keys()
            .filter(|k| matches!(k.as_str(), "pi" | "e"))
            .cloned()
            .collect(),
        conditions,
        fractional_symbols: env.fractional.clone(),
        whole: whole_sizes,
        ..Default::default()
    };
    // A claim whose sides (with the values and derivatives written out) are too large
    // is not decided: every exact engine below walks them many times.
    let nodes = [&lhs, &rhs]
        .into_iter()
        .chain(check.conditions.iter().map(|c| c.expr()))
        .fold(0usize, |n, e| n.saturating_add(e.node_count()));
    if nodes > MAX_CLAIM_NODES {
        return Err(Box::new(undecided(format!(
            "written out in the inputs the claim has {nodes} expression nodes, more than the limit of {MAX_CLAIM_NODES} for the exact engines"
        ))));
    }
    Ok(Prepared {
        lhs,
        rhs,
        rel,
        opts: check,
        opaque,
    })
}

/// The most expression nodes ([`Expr::node_count`]) a scalar claim may have, its
/// sides and definedness conditions together, with the program's values and their
/// derivatives written out (`d(u)/d(a)` of a 200-statement chain of `exp` has 20,000):
/// past it the claim is undecided with the reason, before any exact engine walks it.
/// The largest among `problems/` and `tests/cases/` is far below it (docs/fuzzing.md).
pub const MAX_CLAIM_NODES: usize = 10_000;

/// The names that range over every real: scalar inputs (0 and negative values
/// included), symbols read as a location (a mean: `normal(mu, v)`), and scalar leaves
/// (`input a`, `param w`), the last within their supports (`Env::leaf_domains`). Every
/// other declared symbol without an inferred domain is a positive real.
pub(super) fn signed_symbols(env: &Env) -> std::collections::BTreeSet<String> {
    env.scalars
        .keys()
        .chain(env.signed.iter())
        .chain(
            env.tensors
                .iter()
                .filter(|(_, t)| {
                    t.rank == 0
                        && t.family_arity == 0
                        && t.kind != crate::check::TensorKind::Computed
                })
                .map(|(k, _)| k),
        )
        .cloned()
        .collect()
}

/// The family variables of a claim's moments (`l` of `Var(h_l)`, of `Var(h_{l+1})`):
/// each a whole number over the members of every family it subscripts
/// ([`crate::check::FamilySpan`]), from the first (`h_0` makes l ≥ 0: the sizes'
/// convention of 1 and up skipped it, and `Var(h_l) == 0 given s = 0`, false at l = 0,
/// was confirmed) as the domain, to the last (`l <= L`) as an assumption, or in the
/// domain when it is a number (docs/soundness.md, "Family variables").
fn family_variables(
    claim: &Claim,
    env: &Env,
) -> (BTreeMap<String, sym::Domain>, Vec<sym::Assumption>) {
    let mut calls = Vec::new();
    super::moments::find(&claim.body, &mut calls);
    let mut domains: BTreeMap<String, sym::Domain> = BTreeMap::new();
    let mut bounds: Vec<sym::Assumption> = Vec::new();
    for c in calls {
        for arg in &c.args {
            crate::syntax::visit::walk_refs(arg, &mut |r| {
                let key = env.key_of(&r.name);
                index_domains(r, &key, env, &mut domains, &mut bounds);
                let Some(span) = env.family_spans.get(&key) else {
                    return;
                };
                let [ast::IndexExpr::Affine(a)] = r.name.sub.as_slice() else {
                    return;
                };
                let Some(f) = crate::check::members::Form::of_affine(a) else {
                    return;
                };
                let mut terms = f.terms.iter();
                let (Some((names, 1)), None) = (terms.next(), terms.next()) else {
                    return;
                };
                let [v] = names.as_slice() else {
                    return;
                };
                if env.sizes.contains_key(v)
                    || env.symbols.contains_key(v)
                    || env.scalars.contains_key(v)
                {
                    return;
                }
                let whole = |lo: Option<i64>, hi: Option<i64>| sym::Domain {
                    lo: lo.map(|x| (num_rational::BigRational::from_integer(x.into()), false)),
                    hi: hi.map(|x| (num_rational::BigRational::from_integer(x.into()), false)),
                    integer: true,
                    why: vec![format!("a family variable: the members of `{key}`")],
                    relations: Vec::new(),
                };
                let d = domains
                    .entry(v.clone())
                    .or_insert_with(|| whole(None, None));
                if let Some(first) = span.first {
                    d.meet(&whole(first.checked_sub(f.constant), None));
                }
                if let Some(last) = &span.last {
                    let hi = sym::simplify(&(last.clone() - Expr::int(f.constant)));
                    let number = hi
                        .as_num()
                        .filter(|n| n.is_integer())
                        .and_then(|n| num_traits::ToPrimitive::to_i64(&n.to_integer()));
                    match number {
                        Some(n) => d.meet(&whole(None, Some(n))),
                        None => {
                            let bound = (Expr::sym(v), Rel::Le, hi);
                            if !bounds.contains(&bound) {
                                bounds.push(bound);
                            }
                        }
                    }
                }
            });
        }
    }
    (domains, bounds)
}

/// The free indices of a claim's moment (`k` of `Var(y[b,k])`) over a dimension
/// declared with a plain size `K`: whole numbers from 0 (the first position) with `k <=
/// K - 1`. Before (session 33) they were drawn as positive numbers, so a moment that
/// differs at the first position (`y[b,k] = x[b,k] (1 + [k == 0])`: 4 v at k = 0, v
/// elsewhere) was confirmed as `Var(y[b,k]) == v`. A dimension along a loop variable,
/// a fixed position or a centred index keeps the convention.
fn index_domains(
    r: &ast::Ref,
    key: &str,
    env: &Env,
    domains: &mut BTreeMap<String, sym::Domain>,
    bounds: &mut Vec<sym::Assumption>,
) {
    let (Some(ix), Some(info)) = (&r.indices, env.tensors.get(key)) else {
        return;
    };
    if ix.len() != info.dims.len() {
        return;
    }
    for (i, dim) in ix.iter().zip(&info.dims) {
        let Some(v) = i.plain_var().map(|v| v.name.clone()) else {
            continue;
        };
        if *dim == format!("~{v}") || dim.starts_with('@') {
            loop_position_domain(&v, env, domains, bounds);
            continue;
        }
        if !env.sizes.contains_key(dim)
            || env.sizes.contains_key(&v)
            || env.symbols.contains_key(&v)
            || env.scalars.contains_key(&v)
            || env.indices.get(&v).is_some_and(|x| x.centered)
            || env.index_size(&v).as_deref() != Some(dim.as_str())
        {
            continue;
        }
        let first = sym::Domain {
            lo: Some((num_rational::BigRational::from_integer(0.into()), false)),
            hi: None,
            integer: true,
            why: vec![format!("an index over `{dim}`: its positions from 0")],
            relations: Vec::new(),
        };
        domains
            .entry(v.clone())
            .and_modify(|d| d.meet(&first))
            .or_insert(first);
        let bound = (Expr::sym(&v), Rel::Le, Expr::sym(dim) - Expr::int(1));
        if !bounds.contains(&bound) {
            bounds.push(bound);
        }
    }
}

/// wrong42 (issue #14): a claim's index at a dimension along a loop variable (`t` of
/// `Var(h[b,t])`, h written in `for t in 1..T-1`, also when declared with a start `input
/// h[B, 0]`): a whole number over the loop's range, from its first value to its last. It
/// was drawn as a positive real, and `Var(h[b,t]) >= 1` of `h[b,t] = t x[b,t]` was
/// refuted at t = 1/2, no position of the model.
fn loop_position_domain(
    v: &str,
    env: &Env,
    domains: &mut BTreeMap<String, sym::Domain>,
    bounds: &mut Vec<sym::Assumption>,
) {
    let Some(ranges) = env.loop_ranges.get(v) else {
        return;
    };
    let value = |e: &ast::Expr| scalar::lower(e, &scalar::Scope::default()).ok();
    let number = |e: &Expr| {
        e.as_num()
            .filter(|n| n.is_integer())
            .and_then(|n| num_traits::ToPrimitive::to_i64(&n.to_integer()))
    };
    // The first value: the least of the loops' first (0, the first position, where one is
    // not a number). Not a start's position: the moments found along the loop are the
    // loop's (a start `input h[B, 0] ~ normal(0, 5)` is not `t x[b,t]` at t = 0), and a
    // claim that reads what the loop computes is about the loop's range (docs/language.md).
    let mut lo: Option<i64> = None;
    let mut his = Vec::new();
    for (from, to) in ranges {
        let (Some(f), Some(t)) = (value(from), value(to)) else {
            return;
        };
        let f = number(&f).unwrap_or(0).max(0);
        lo = Some(lo.map_or(f, |l| l.min(f)));
        his.push(t);
    }
    let d = sym::Domain {
        lo: Some((
            num_rational::BigRational::from_integer(lo.unwrap_or(0).into()),
            false,
        )),
        hi: None,
        integer: true,
        why: vec![format!("a position along the loop variable `{v}`")],
        relations: Vec::new(),
    };
    domains
        .entry(v.to_string())
        .and_modify(|o| o.meet(&d))
        .or_insert(d);
    // The last value, where every loop over `v` ends at the same one.
    if let Some(hi) = his.first().filter(|h| his.iter().all(|x| x == *h)) {
        let bound = (Expr::sym(v), Rel::Le, hi.clone());
        if !bounds.contains(&bound) {
            bounds.push(bound);
        }
    }
}

/// The domains a claim's points are drawn from: the file's (inferred from the
/// declarations, `crate::check::domains`) narrowed by the claim's givens that bound a
/// symbol by a number (`c > 0`, `3 <= t`, `p <= 1/2`). A given narrows the symbol's
/// domain, never widens it: a declared symbol with no inferred domain is a positive
/// real, so `p < 5` bounds it to (0, 5) (session 28: `1/p > 0 given p < 5` was refuted
/// at p = −18, `p > 0 given p >= 0` at p = 0).
pub fn claim_domains(env: &Env, assumptions: &[sym::Assumption]) -> BTreeMap<String, sym::Domain> {
    let mut out = env.domains.clone();
    let signed = signed_symbols(env);
    for (name, d) in &env.leaf_domains {
        out.entry(name.clone())
            .and_modify(|o| o.meet(d))
            .or_insert_with(|| d.clone());
    }
    for (a, r, b) in assumptions {
        let Some((name, op, c)) = Rel::number_bound(a, r, b) else {
            continue;
        };
        if let Some(d) = sym::Domain::relation(op.symbol(), c, "given") {
            out.entry(name.clone())
                .and_modify(|o| o.meet(&d))
                .or_insert_with(|| {
                    if env.symbols.contains_key(&name) && !signed.contains(&name) {
                        let mut base = sym::Domain::nonnegative(true, "a symbol (positive)");
                        base.meet(&d);
                        base
                    } else {
                        d
                    }
                });
        }
    }
    out
}

/// A claim with a given `x^n = v` (n even) of a name `x` that may be negative
/// (`crate::check::givens::sign_open`) decided at both roots, x = v^(1/n) and
/// x = -v^(1/n), each as the claim with that setting in place of the given: `proved` when
/// both are proved, `refuted` when either is (its witness names the root), `confirmed`
/// when both hold so far, else `undecided` (session 25: the positive root alone made
/// `x == 2 given x^2 = 4` proved for a scalar input x).
fn at_both_roots(
    claim: &Claim,
    open: &SignOpen,
    env: &Env,
    decide: impl Fn(&Claim) -> Outcome,
) -> Outcome {
    let (k, name, p, value, target) = (
        open.position,
        &open.name,
        open.power,
        &open.value,
        &open.target,
    );
    let span = claim.body.span();
    let num = |t: String| ast::Expr::Num(t, span);
    let root = ast::Expr::Binary(
        ast::BinOp::Pow,
        Box::new(value.clone()),
        Box::new(ast::Expr::Binary(
            ast::BinOp::Div,
            Box::new(num("1".into())),
            Box::new(num(p.to_string())),
            span,
        )),
        span,
    );
    let exact_root = scalar::lower(&root, &scalar::Scope::default())
        .ok()
        .map(|e| sym::simplify(&e))
        .and_then(|e| e.as_num().cloned());
    let mut outcomes = Vec::new();
    for negative in [false, true] {
        let r = if negative {
            ast::Expr::Unary(ast::UnOp::Neg, Box::new(root.clone()), span)
        } else {
            root.clone()
        };
        let mut c = claim.clone();
        let mut given: Vec<ast::Expr> = c
            .given
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, g)| g.clone())
            .collect();
        given.push(ast::Expr::Rel(
            RelOp::Eq,
            Box::new(target.clone()),
            Box::new(r),
            span,
        ));
        c.given = crate::check::givens::resolved(&given, &c.at, env);
        let shown_root = match &exact_root {
            Some(v) if negative => format!("{name} = {}", -v.clone()),
            Some(v) => format!("{name} = {v}"),
            None if negative => format!("{name} = -({})^(1/{p})", print_expr(value)),
            None => format!("{name} = ({})^(1/{p})", print_expr(value)),
        };
        let mut o = decide(&c);
        if let (Some(w), Some(v)) = (o.witness.as_mut(), &exact_root) {
            w.point.insert(
                name.to_string(),
                if negative { -v.clone() } else { v.clone() },
            );
        }
        o.evidence = format!("at the root {shown_root} of the given: {}", o.evidence);
        outcomes.push(o);
    }
    let neg = outcomes.pop().unwrap_or_else(|| undecided(""));
    let pos = outcomes.pop().unwrap_or_else(|| undecided(""));
    let both = format!("{}; {}", pos.evidence, neg.evidence);
    let v = |o: &Outcome| o.verdict;
    if v(&pos) == Verdict::Refuted {
        return pos;
    }
    if v(&neg) == Verdict::Refuted {
        return neg;
    }
    match (v(&pos), v(&neg)) {
        (Verdict::Proved, Verdict::Proved) if pos.rule.is_some() && neg.rule.is_some() => Outcome {
            evidence: both,
            ..pos
        },
        (Verdict::Proved | Verdict::Confirmed, Verdict::Proved | Verdict::Confirmed) => Outcome {
            verdict: Verdict::Confirmed,
            rule: None,
            witness: None,
            evidence: both,
            ..pos
        },
        _ => Outcome {
            verdict: Verdict::Undecided,
            method: Method::None,
            rule: None,
            witness: None,
            evidence: format!(
                "the given leaves the sign of `{name}` open and one root is not decided: {both}"
            ),
            on_elements: pos.on_elements || neg.on_elements,
            border_pool: None,
            unreached: false,
            open_at_values: false,
            not_finite: false,
        },
    }
}
