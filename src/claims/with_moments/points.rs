//! The points a claim is tried at: the least sizes, ratios, and rational values of a given.

use super::*;

/// The first of [`other_points`]: the sizes the claim does not `set` moved from their
/// `sample` values to [`least_sizes`] (only the sizes that move).
pub(super) fn least_point(
    set: &[String],
    sizes: &BTreeMap<String, num_rational::BigRational>,
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
) -> Option<BTreeMap<String, num_rational::BigRational>> {
    let whole: BTreeMap<String, i64> = sizes
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_integer().try_into().ok()?)))
        .collect();
    if whole.len() != sizes.len() {
        return None;
    }
    let least = least_sizes(claim, program, env, set, &whole, true)?;
    Some(
        least
            .into_iter()
            .filter(|(n, v)| whole.get(n) != Some(v))
            .map(|(n, v)| (n, num_rational::BigRational::from_integer(v.into())))
            .collect(),
    )
}

/// With derived sizes, the number of candidates tried when the search for the least sizes
/// (at the settings [`other_points`] uses) found none; `None` when it found one or does
/// not apply.
pub(super) fn least_unfound(claim: &Claim, program: &ast::Program, env: &Env) -> Option<usize> {
    if env.derived_sizes.is_empty() {
        return None;
    }
    let set: Vec<String> = set_by_givens(claim, env)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let set_all: Vec<String> = montecarlo::given_values(claim, env)
        .ok()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let (_, sizes) = sample_values(&set, program, env);
    let whole: BTreeMap<String, i64> = sizes
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.to_integer().try_into().ok()?)))
        .collect();
    if whole.len() != sizes.len() {
        return None;
    }
    match super::least::least_search(claim, program, env, &set_all, &whole, true) {
        super::least::Search::Unfound(n) => Some(n),
        _ => None,
    }
}

/// A claim Monte Carlo confirmed at the sample values, tested at [`other_points`]:
/// refuted at the first point that refutes it (with that point's witness), confirmed
/// when it held at every point tested, and the evidence names the points.
pub(in crate::claims) fn confirm_elsewhere(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    first: Outcome,
    mut run: impl FnMut(&Claim) -> Option<Outcome>,
    exact: impl Fn(&Claim) -> Outcome,
    opts: &Options,
) -> Outcome {
    let mut held = Vec::new();
    let mut least_open: Option<String> = None;
    // Loops over layers or steps: the least point, if any, is refute-only.
    let loop_model = super::least::form_not_moved(program).is_some();
    // A point of the domain where the trials' estimate is not finite (a side undefined
    // there, or overflowing), and the given that would leave it out: the claim is not
    // confirmed (docs/soundness.md, "Definedness"), but a later point may refute it.
    let mut undefined_at: Option<(String, String)> = None;
    let sample_at = match montecarlo::given_values(claim, env) {
        Ok(set) => {
            sample_values(
                &set.into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
                program,
                env,
            )
            .0
        }
        Err(_) => Default::default(),
    };
    let point_given = |point: &BTreeMap<String, num_rational::BigRational>| -> String {
        point
            .iter()
            .map(|(n, v)| {
                // A scalar with no sample value (a special point of mc34) is shown below it.
                let above = sample_at.get(n).is_none_or(|x| x > v);
                format!("{n} {} {v}", if above { ">" } else { "<" })
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The sizes the claim's relation reads whose sample value is 1, and those of them a
    // point that did run moved off 1: at 1 every power of a size is 1, so the trials
    // there cannot tell `T^3` from `T^40` (probe38/h k10: confirmed from T = 1 alone,
    // the point T = 2 could not be run and was said "not refuted").
    let set_now: Vec<String> = montecarlo::given_values(claim, env)
        .map(|s| s.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    let ones = sizes_at_one(claim, env, &sample_values(&set_now, program, env).1);
    let mut moved: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut note_run =
        |o: &Option<Outcome>, point: &BTreeMap<String, num_rational::BigRational>| {
            if o.as_ref().is_some_and(|o| !not_run(o)) {
                for n in &ones {
                    if point
                        .get(n)
                        .is_some_and(|v| *v != num_rational::BigRational::from_integer(1.into()))
                    {
                        moved.insert(n.clone());
                    }
                }
            }
        };
    for (point, least) in other_points(claim, program, env) {
        let Some((c, shown)) = claim_at_point(claim, &point, env) else {
            continue;
        };
        let o = run(&c);
        note_run(&o, &point);
        // A model with loops over layers or steps is tried at its least sizes with the
        // sizes its loops read kept (session 38, probe36 b19), for refutation only
        // (session 39, the lead's decision): a refutation there, by the trials or an
        // exact engine, is the claim's, with its witness; agreement there is not required
        // for a confirmation, and a run there that decides nothing (imprecise at width 1,
        // every trial the same values) leaves the confirmation as it was, with a note.
        if least && loop_model {
            match o {
                Some(mut o) if o.verdict == Verdict::Refuted => {
                    o.evidence = format!(
                        "at the least sizes the claim names ({shown}; it held at the sample values: {}): {}",
                        first.evidence, o.evidence
                    );
                    return o;
                }
                Some(o) if o.verdict == Verdict::Confirmed => {
                    held.push(format!("confirmed at the least sizes {shown}"))
                }
                o => {
                    let e = exact(&c);
                    if e.verdict == Verdict::Refuted {
                        return Outcome {
                            evidence: format!(
                                "at the least sizes the claim names ({shown}; it held at the sample values: {}): {}",
                                first.evidence, e.evidence
                            ),
                            ..e
                        };
                    }
                    held.push(format!(
                        "at the least sizes {shown} not refuted (a loop model's least sizes are tried for refutation only: {})",
                        o.map_or("the trials cannot be run there".to_string(), |o| o.evidence)
                    ));
                }
            }
            continue;
        }
        // The least sizes are part of what the claim says (docs/language.md, "What a
        // claim over sizes means"): where the trials there decide nothing (too heavy-tailed,
        // too few elements to resolve 5%), the sample sizes alone do not confirm it
        // (`Var(z) <= 2`, true at I = 3 and false at I = 1, was confirmed).
        if least
            && !matches!(&o, Some(o) if matches!(o.verdict, Verdict::Refuted | Verdict::Confirmed))
        {
            // The exact engines at the least sizes first (the moments engine, position by
            // position under zero padding): a refutation there is the claim's, with its
            // witness; a proof there lets the claim stand.
            let e = exact(&c);
            match e.verdict {
                Verdict::Refuted => {
                    return Outcome {
                        evidence: format!(
                            "at the least sizes the claim names ({shown}; it held at the sample values: {}): {}",
                            first.evidence, e.evidence
                        ),
                        ..e
                    };
                }
                Verdict::Proved | Verdict::Confirmed => {
                    held.push(format!(
                        "{} at {shown} by {} ({})",
                        e.verdict.as_str(),
                        e.method,
                        e.evidence
                    ));
                    continue;
                }
                Verdict::Undecided => {}
            }
            // Not decided at the least sizes: the claim is not confirmed, but a later
            // point may still refute it.
            // The hint to restrict the sizes only where the trials there show the claim
            // fails (every trial the same values, at which the relation fails); an
            // imprecise run is no evidence against it (probe35/p a10: a true claim was
            // restricted to B >= 2 on that hint).
            let fails_there = o.as_ref().is_some_and(|o| o.open_at_values);
            let ran = o
                .as_ref()
                .map_or("the trials cannot be run there".to_string(), |o| {
                    o.evidence.clone()
                });
            least_open = Some(if fails_there {
                format!(
                    "held at the sample sizes ({}), but at the least sizes the claim names ({shown}) every trial gives values at which the relation fails ({ran}) and no exact engine decided the claim, so the claim over every size is not confirmed; if it is not meant for those sizes, a given on the sizes (`given {}`) says which sizes it is about",
                    first.evidence,
                    point
                        .keys()
                        .map(|n| format!("{n} >= 2"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "held at the sample sizes ({}), but at the least sizes the claim names ({shown}) Monte Carlo decides nothing ({ran}) and no exact engine decided the claim there, so the claim over every size is not confirmed; the run there was imprecise, which is no evidence against the claim: it stays undecided unless an exact engine decides it (the moments engine decides a claim about one element or a mean over the elements its closed forms reach)",
                    first.evidence
                )
            });
            continue;
        }
        match o {
            Some(mut o) if o.verdict == Verdict::Refuted => {
                o.evidence = format!(
                    "at {shown} (it held at the sample values: {}): {}",
                    first.evidence, o.evidence
                );
                return o;
            }
            Some(o) if o.verdict == Verdict::Confirmed => {
                held.push(format!("confirmed at {shown}"))
            }
            Some(o) if o.not_finite => {
                undefined_at.get_or_insert_with(|| (shown.clone(), point_given(&point)));
            }
            // Every trial at the point gave the same values, at which the relation fails
            // (or a strict relation's sides tied): no number of trials shows it there, so
            // the exact engines decide at the point, and where they do not, the claim over
            // every size and value is not confirmed (session 34, probe34 p06: at sizes
            // moved apart, a class of `y` was 0 in every trial against a claimed variance
            // of 1, and the claim was confirmed with that point "not refuted").
            Some(o) if o.open_at_values => match decided_at(exact(&c), &shown, &shown, &first) {
                Err(refuted) => return *refuted,
                Ok(Some(h)) => held.push(h),
                Ok(None) => {
                    least_open.get_or_insert_with(|| {
                            format!(
                                "held at the sample values ({}), but at {shown} the trials do not show the relation ({}) and no exact engine decided the claim there, so the claim over every size and value is not confirmed; a given (`given {}`) says which values it is about",
                                first.evidence,
                                o.evidence,
                                point_given(&point)
                            )
                        });
                }
            },
            // Elements reached by no statement left out of the pool there (an odd X under
            // a stride-2 pool: the last element's gradient is 0): the trials decide
            // nothing about every element, so where no exact engine decides the claim
            // there, the claim over every size is not confirmed (probe37 p02: it was,
            // with the point "not refuted").
            Some(o) if o.unreached => match decided_at(exact(&c), &shown, &shown, &first) {
                Err(refuted) => return *refuted,
                Ok(Some(h)) => held.push(h),
                Ok(None) => {
                    least_open.get_or_insert_with(|| {
                        format!(
                            "held at the sample values ({}), but at {shown} the trials decide nothing ({}) and no exact engine decided the claim there, so the claim over every size is not confirmed",
                            first.evidence, o.evidence
                        )
                    });
                }
            },
            Some(o) if not_run(&o) => held.push(format!("at {shown} not run ({})", o.evidence)),
            Some(o) => held.push(format!("at {shown} not refuted ({})", o.evidence)),
            None => {}
        }
    }
    // The closed ends of the symbols' domains: a refutation there is the claim's; where
    // the trials there do not show the relation (a strict one tied, or every trial the
    // same values at which it fails) and no exact engine decides the claim at the end,
    // the claim over its whole domain is not confirmed.
    let mut end_open: Option<String> = None;
    if least_open.is_none() {
        let specials = match montecarlo::given_values(claim, env) {
            Ok(set) => {
                let set: Vec<String> = set.into_iter().map(|(n, _)| n).collect();
                montecarlo::spread::special_points(claim, program, env, &sample_at, &set)
            }
            Err(_) => Vec::new(),
        };
        let ends = super::ends::closed_end_points(claim, program, env)
            .into_iter()
            .chain(
                specials
                    .into_iter()
                    .map(|p| (p, "a special value of a free scalar")),
            );
        // A strict relation can fail at an end only by its two sides meeting there, which
        // trials that do not confirm it never exclude: anything short of a confirmation
        // there goes to the exact engines (session 39, probe38/p a12).
        let strict = matches!(&claim.body, ast::Expr::Rel(RelOp::Lt | RelOp::Gt, ..));
        for (point, what) in ends {
            let Some((c, shown)) = claim_at_point(claim, &point, env) else {
                continue;
            };
            let o = run(&c);
            note_run(&o, &point);
            match o {
                Some(mut o) if o.verdict == Verdict::Refuted => {
                    o.evidence = format!(
                        "at {shown}, {what} (it held at the sample values: {}): {}",
                        first.evidence, o.evidence
                    );
                    return o;
                }
                Some(o) if o.verdict == Verdict::Confirmed => {
                    held.push(format!("confirmed at {shown} ({what})"))
                }
                Some(o) if o.not_finite => {
                    undefined_at
                        .get_or_insert_with(|| (format!("{shown} ({what})"), point_given(&point)));
                }
                Some(o) if o.open_at_values || (strict && o.verdict == Verdict::Undecided) => {
                    match decided_at(
                        exact(&c),
                        &format!("{shown}, {what}"),
                        &format!("{shown} ({what})"),
                        &first,
                    ) {
                        Err(refuted) => return *refuted,
                        Ok(Some(h)) => held.push(h),
                        Ok(None) => {
                            // The model specialized at the end, where a leaf is a
                            // constant (session 33): decided by the exact engines, a
                            // refutation re-checked on the trials at its witness.
                            match at_degenerate_end(claim, &point, program, env, opts, &mut run) {
                                Some(e) if e.verdict == Verdict::Refuted => {
                                    return Outcome {
                                        evidence: format!(
                                            "{} (it held at the sample values: {})",
                                            e.evidence, first.evidence
                                        ),
                                        ..e
                                    };
                                }
                                Some(e) if e.verdict == Verdict::Confirmed => {
                                    held.push(format!("held {}", e.evidence));
                                    continue;
                                }
                                _ => {}
                            }
                            end_open.get_or_insert_with(|| format!(
                                "held at the sample values ({}), but at {shown}, {what}, the trials do not show the relation ({}) and no exact engine decided the claim there, so the claim over its whole domain is not confirmed; a given (`given {}`) says which values it is about",
                                first.evidence,
                                o.evidence,
                                point_given(&point)
                            ));
                        }
                    }
                }
                Some(o) if not_run(&o) => {
                    held.push(format!("at {shown} ({what}) not run ({})", o.evidence))
                }
                Some(o) => held.push(format!("at {shown} ({what}) not refuted ({})", o.evidence)),
                None => {}
            }
        }
    }
    // With derived sizes, a least point that the search did not find (probe34 p24: past
    // 16 steps the search gave up and the claim was confirmed on the sample sizes alone).
    let least_open = least_open.or_else(|| {
        let n = least_unfound(claim, program, env)?;
        Some(format!(
            "held at the sample sizes ({}), but the least sizes the claim names were not found among {n} candidate points (the sizes at which every derived size is whole and every element the claim names exists), so the claim over every size is not confirmed; a given on the sizes (`given X >= ...`) says which sizes it is about",
            first.evidence
        ))
    });
    let undefined = undefined_at.map(|(shown, given)| {
        format!(
            "held at the sample values ({}), but at {shown} the trials' estimate is not finite: a side is undefined there (0/0, a logarithm of 0) or overflows, and a claim undefined at a point of its domain is not confirmed (docs/soundness.md, \"Definedness\"); a given (`given {given}`) says which values it is about",
            first.evidence
        )
    });
    let stuck: Vec<&String> = ones.iter().filter(|n| !moved.contains(*n)).collect();
    let at_one = (!stuck.is_empty()).then(|| {
        let names: Vec<String> = stuck.iter().map(|n| n.to_string()).collect();
        format!(
            "held at the sample values ({}), but {} = 1 there and at every other point the trials ran, where every power of {} is 1: the trials cannot tell the claim from one with another power, so it is not confirmed; a `sample` value of at least 2 (at sizes the run can afford) tests it",
            first.evidence,
            names.join(" = "),
            names.join(" or ")
        )
    });
    let least_open = least_open.or(end_open).or(undefined).or(at_one);
    if let Some(why) = least_open {
        return undecided(if held.is_empty() {
            why
        } else {
            format!("{why}; {}", held.join("; "))
        });
    }
    // A model the least sizes are not read for says so (docs/language.md, "What a claim
    // over sizes means"; probe36 b19): the claim held where it was tried, not at the
    // smaller sizes it is also about.
    let set: Vec<String> = montecarlo::given_values(claim, env)
        .map(|s| s.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    let free = |n: &String| !set.contains(n);
    match (
        super::least::form_not_moved(program),
        super::least::loop_pins(program, env),
    ) {
        // Loops alone: the least sizes were tried with the sizes the loops read kept
        // (session 38, b19); the evidence names those.
        (Some(why), Some(pins)) if env.derived_sizes.is_empty() => {
            let kept: Vec<&String> = pins.iter().filter(|n| free(n)).collect();
            if !kept.is_empty() {
                held.push(format!(
                    "at the least sizes tried, {} kept {} tried values ({why}: the sizes the loop ranges and loop-indexed dimensions read are not moved); a given on the sizes (`given T >= 4`) says which sizes the claim is about",
                    kept.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "),
                    if kept.len() == 1 { "its" } else { "their" }
                ));
            }
        }
        (Some(why), _) if env.sizes.keys().any(free) => {
            held.push(format!(
                "the least sizes were not tried ({why}, whose ranges tie the sizes in ways the search for them does not read): the claim is confirmed at the sizes tried only, not at smaller ones; a given on the sizes (`given J >= 4`) says which sizes it is about"
            ));
        }
        _ => {}
    }
    if held.is_empty() {
        return first;
    }
    Outcome {
        evidence: format!("{}; {}", first.evidence, held.join("; ")),
        ..first
    }
}

/// Whether a point's outcome is a run that did not happen (the model cannot be run
/// there: a budget of E0302 at the point's sizes), which is no evidence either way.
fn not_run(o: &Outcome) -> bool {
    o.verdict == Verdict::Undecided && o.evidence.starts_with("the model cannot be run")
}

/// The sizes the claim's relation reads (outside its element positions) whose sample
/// value is 1.
fn sizes_at_one(
    claim: &Claim,
    env: &Env,
    sample: &BTreeMap<String, num_rational::BigRational>,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    crate::syntax::visit::walk_refs(&claim.body, &mut |r| {
        let n = crate::syntax::printer::print_name(&r.name);
        let one = num_rational::BigRational::from_integer(1.into());
        if r.indices.is_none() && env.sizes.contains_key(&n) && sample.get(&n) == Some(&one) {
            out.insert(n);
        }
    });
    out
}

/// What an exact engine decided at a point where the trials could not (`e`): a
/// refutation is the claim's (`Err`, its evidence naming the point, `refuted_at`), a
/// proof or confirmation is one more point where the claim held (`Ok(Some)`, named
/// `held_at`), and nothing decided is `Ok(None)`.
fn decided_at(
    e: Outcome,
    refuted_at: &str,
    held_at: &str,
    first: &Outcome,
) -> Result<Option<String>, Box<Outcome>> {
    match e.verdict {
        Verdict::Refuted => Err(Box::new(Outcome {
            evidence: format!(
                "at {refuted_at} (it held at the sample values: {}): {}",
                first.evidence, e.evidence
            ),
            ..e
        })),
        Verdict::Proved | Verdict::Confirmed => Ok(Some(format!(
            "{} at {held_at} by {} ({})",
            e.verdict.as_str(),
            e.method,
            e.evidence
        ))),
        Verdict::Undecided => Ok(None),
    }
}

/// [`super::degenerate::decide`] at a closed end, its refutation re-checked by Monte
/// Carlo on the original model at the witness (the trials there must not confirm the
/// claim: a disagreement decides nothing).
fn at_degenerate_end(
    claim: &Claim,
    point: &BTreeMap<String, num_rational::BigRational>,
    program: &ast::Program,
    env: &Env,
    opts: &Options,
    run: &mut impl FnMut(&Claim) -> Option<Outcome>,
) -> Option<Outcome> {
    let mut e = super::degenerate::decide(claim, point, program, env, opts)?;
    if e.verdict != Verdict::Refuted {
        return Some(e);
    }
    let w = e.witness.as_mut()?;
    let at: BTreeMap<String, num_rational::BigRational> = w
        .point
        .iter()
        .filter(|(n, _)| env.symbols.contains_key(*n) || env.sizes.contains_key(*n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let (c, shown) = claim_at_point(claim, &at, env)?;
    let again = run(&c)?;
    if again.verdict == Verdict::Confirmed {
        return None;
    }
    w.checked_by = format!(
        "{}; the specialized model is the original at the end, whose trials at the witness ({shown}) do not confirm the claim: {}",
        w.checked_by,
        again.verdict.as_str()
    );
    e.evidence = format!(
        "{}; checked again by Monte Carlo on the model at the witness ({shown}): {} ({})",
        e.evidence,
        again.verdict.as_str(),
        again.evidence
    );
    Some(e)
}

/// The `sample` values of the symbols and sizes that the claim's givens do not set
/// (`set`): the symbols' (numbers), and the sizes' (whole numbers from 1).
pub(super) fn sample_values(
    set: &[String],
    program: &ast::Program,
    env: &Env,
) -> (
    BTreeMap<String, num_rational::BigRational>,
    BTreeMap<String, num_rational::BigRational>,
) {
    use num_rational::BigRational;
    use num_traits::One;
    let mut sample: BTreeMap<String, BigRational> = BTreeMap::new();
    let mut sizes: BTreeMap<String, BigRational> = BTreeMap::new();
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs {
                let name = &b.name.name;
                if set.contains(name) {
                    continue;
                }
                let is_symbol = env.symbols.contains_key(name);
                if !is_symbol && !env.sizes.contains_key(name) {
                    continue;
                }
                if let Some(v) = scalar::lower(&b.value, &scalar::Scope::default())
                    .ok()
                    .and_then(|e| e.as_num().cloned())
                {
                    if is_symbol {
                        sample.insert(name.clone(), v);
                    } else if v.is_integer() && v >= BigRational::one() {
                        sizes.insert(name.clone(), v);
                    }
                }
            }
        }
    }
    (sample, sizes)
}

/// The points `s = c` where a closed form of the claim's moments divides by zero: a
/// denominator that is a polynomial in one symbol of the file (`p - 1`, `1 - beta`,
/// `2 a - 1`, `beta^2 - 1`), with its rational roots inside the symbol's domain (sorted);
/// the geometric sum of a recurrence whose step factor is that symbol (or a power of it).
pub(super) fn ratio_point(
    mc: &moments::MomentCalls,
    env: &Env,
) -> Option<(String, Vec<num_rational::BigRational>)> {
    ratio_roots(&mc.calls.values().flatten().collect::<Vec<_>>(), env)
}

/// [`ratio_point`] of closed forms `values`: the one symbol and its rational roots inside
/// its domain where a geometric sum's denominator vanishes (`tq derive` names them with
/// the closed form, session 32).
pub fn ratio_roots(
    values: &[&Expr],
    env: &Env,
) -> Option<(String, Vec<num_rational::BigRational>)> {
    let mut conds = std::collections::BTreeSet::new();
    for v in values {
        crate::sym::defined::conditions_of(v, &mut conds);
    }
    // Only a geometric sum's ratio: the symbol raised to a step count (`p^t`) in the
    // closed form. A division the model itself writes (`/ (1 - q)`) is no such point.
    let stepped = |name: &str| {
        fn has(e: &Expr, name: &str) -> bool {
            match e {
                Expr::Pow(b, x) => {
                    (matches!(&**b, Expr::Sym(n) if n == name) && x.as_num().is_none())
                        || has(b, name)
                        || has(x, name)
                }
                Expr::Add(v) | Expr::Mul(v) => v.iter().any(|x| has(x, name)),
                Expr::Func(_, x) => has(x, name),
                Expr::Num(_) | Expr::Sym(_) => false,
            }
        }
        values.iter().any(|v| has(v, name))
    };
    // Each denominator that is a polynomial in one stepped symbol (`beta - 1`, and
    // `beta^2 - 1` of a geometric sum in beta^2: r06 was undecided "undefined at
    // beta = 1", a condition of tq's own closed form), with its rational roots inside the
    // symbol's domain.
    let mut found: Option<(String, Vec<num_rational::BigRational>)> = None;
    for c in conds {
        let crate::sym::Condition::NonZero(d) = c else {
            continue;
        };
        let names = d.free_symbols();
        let Some(name) = names.iter().next() else {
            continue;
        };
        // A scalar input is a symbol here too, every real (probe33/a a13: its closed form
        // `(alpha^(2l) - 1)/(alpha^2 - 1)` was printed and decided with no split at ±1).
        let scalar_input = env.scalars.contains_key(name) && !env.computed_scalars.contains(name);
        if names.len() != 1 || !(env.symbols.contains_key(name) || scalar_input) || !stepped(name) {
            continue;
        }
        if found.as_ref().is_some_and(|(n, _)| n != name) {
            continue;
        }
        let Some(roots) = crate::sym::sturm::poly_of(&crate::sym::expand(&d), name)
            .filter(|p| p.len() >= 2)
            .and_then(|p| crate::sym::sturm::rational_roots(&p))
        else {
            continue;
        };
        let inside = |c: &num_rational::BigRational| {
            env.domains.get(name).is_none_or(|d| {
                d.lo.as_ref()
                    .is_none_or(|(lo, open)| if *open { lo < c } else { lo <= c })
                    && d.hi
                        .as_ref()
                        .is_none_or(|(hi, open)| if *open { hi > c } else { hi >= c })
            }) && (num_traits::Signed::is_positive(c)
                || env.signed.contains(name)
                || scalar_input
                || env.domains.get(name).is_some_and(|d| d.lo.is_some()))
        };
        let roots: Vec<_> = roots.into_iter().filter(|c| inside(c)).collect();
        if !roots.is_empty() {
            let entry = found.get_or_insert_with(|| (name.clone(), Vec::new()));
            entry.1.extend(roots);
        }
    }
    let (name, mut roots) = found?;
    roots.sort();
    roots.dedup();
    (!roots.is_empty()).then_some((name, roots))
}

pub(super) fn rational_ast(
    c: &num_rational::BigRational,
    span: crate::syntax::span::Span,
) -> ast::Expr {
    use num_traits::Signed;
    let num = |i: &num_bigint::BigInt| ast::Expr::Num(i.to_string(), span);
    let mut value = num(&c.numer().abs());
    if !c.is_integer() {
        value = ast::Expr::Binary(
            ast::BinOp::Div,
            Box::new(value),
            Box::new(num(c.denom())),
            span,
        );
    }
    if c.is_negative() {
        value = ast::Expr::Unary(ast::UnOp::Neg, Box::new(value), span);
    }
    value
}

/// The sizes and symbols a claim's givens set, less each derived size whose setting is its
/// own `size` line's relation (`Y = X + DX - 1`, and `K = 2` of a fixed size an index
/// ranges over, which the expansion adds to every claim when the sizes it reads are not
/// given): such a size is not held but computed again from the sizes that move
/// ([`crate::check::outputs::derive_sizes_at`]). It counted as set (or, `K = 2`, made the
/// givens unreadable as settings), and the point one size larger was skipped, so a claim
/// over a size without `floor`/`ceil` was never run there (probe31/d e08b, e09b: false
/// gradient claims confirmed); a `floor` size's relation is two inequalities.
pub(super) fn set_by_givens(claim: &Claim, env: &Env) -> Option<Vec<(String, sym::Expr)>> {
    // Index capitals written as their sizes (`DX` as `D`), as the claim's givens show them.
    let mut caps: BTreeMap<String, String> = BTreeMap::new();
    for (name, info) in &env.indices {
        let cap = name.trim_end_matches('\'').to_uppercase();
        if cap != info.size && !env.sizes.contains_key(&cap) {
            caps.insert(cap, info.size.clone());
        }
    }
    // A fixed size an index ranges over (`size K = 2`) as its number: the claim's
    // givens may have it written in (`Y == X + 2 - 1` for `size Y = X + K - 1`), and its
    // own relation was then read as a setting of Y, so no point one size larger was
    // made (red33).
    for (name, value) in &env.derived_sizes {
        if let ast::Expr::Num(..) = value {
            caps.insert(name.clone(), crate::syntax::printer::print_expr(value));
        }
    }
    fn sized(e: &ast::Expr, caps: &BTreeMap<String, String>) -> ast::Expr {
        match e {
            ast::Expr::Ref(r) if r.indices.is_none() && r.name.sub.is_empty() => {
                let mut r = r.clone();
                if let Some(size) = caps.get(&r.name.base) {
                    // An index capital of a fixed size (`DX` of `size D = 2`) is that
                    // size's number too, as the givens write it (probe34 p04: `Y == X -
                    // 2 + 1` did not match `X - DX + 1`, so a size without `floor` was
                    // read as set, and neither the least sizes nor one size larger were
                    // tried).
                    let size = caps
                        .get(size)
                        .filter(|n| n.parse::<i64>().is_ok())
                        .unwrap_or(size);
                    if size.parse::<i64>().is_ok() {
                        return ast::Expr::Num(size.clone(), r.span);
                    }
                    r.name.base = size.clone();
                }
                ast::Expr::Ref(r)
            }
            e => crate::syntax::visit::map_children(e, |x| sized(x, caps)),
        }
    }
    let text = |e: &ast::Expr| crate::syntax::printer::print_expr(&sized(e, &caps));
    let own_relation = |g: &ast::Expr| match g {
        ast::Expr::Rel(RelOp::Eq, l, r, _) => match &**l {
            ast::Expr::Ref(rf) if rf.indices.is_none() && rf.name.sub.is_empty() => env
                .derived_sizes
                .iter()
                .any(|(d, value)| *d == rf.name.base && text(r) == text(value)),
            _ => false,
        },
        _ => false,
    };
    let mut c = claim.clone();
    c.given.retain(|g| !own_relation(g));
    let mut out = montecarlo::given_values(&c, env).ok()?;
    // A derived size whose setting is still its own relation with the numeric settings put
    // in (`Y = 8 - D` from `Y == X - D + 1` and `given X = 7`): not set either, but computed
    // again at each point (snd36, probe35/p a02c, a02f: with `given X = 7` or `given D = 3`
    // the relation was read as setting Y, so no least, apart or larger point was made and a
    // claim false at D = 1 was confirmed at the sample point alone). Compared at three
    // points of the other sizes, exactly.
    let nums: BTreeMap<String, num_rational::BigRational> = out
        .iter()
        .filter_map(|(n, e)| Some((n.clone(), e.as_num()?.clone())))
        .collect();
    out.retain(|(n, e)| {
        let Some((_, value)) = env.derived_sizes.iter().find(|(d, _)| d == n) else {
            return true;
        };
        if e.free_symbols().is_empty() {
            return true;
        }
        // Read as the exact engines read it (`2 X`, juxtaposed, is no ASCII product).
        let read = |v: &ast::Expr| {
            sym::parse_ascii(&text(v))
                .ok()
                .or_else(|| crate::lower::lower(&sized(v, &caps), &Default::default()).ok())
        };
        let Some(mut own) = read(value) else {
            return true;
        };
        // A derived size read from another (`size P = X + 2`, `size Q = P - 1`) is its
        // relation in the sizes that move, the chain written out (`Q = X + 1`): the
        // resolved givens carry it so (snd37: `Q == P - 1` was read as setting Q, and no
        // least sizes were tried).
        for _ in 0..8 {
            let chained: Vec<(String, sym::Expr)> = env
                .derived_sizes
                .iter()
                .filter(|(d, v)| own.free_symbols().contains(d) && !matches!(v, ast::Expr::Num(..)))
                .filter_map(|(d, v)| Some((d.clone(), read(v)?)))
                .collect();
            if chained.is_empty() {
                break;
            }
            for (d, v) in chained {
                own = own.subs(&d, &v);
            }
        }
        let names: std::collections::BTreeSet<String> = own
            .free_symbols()
            .union(&e.free_symbols())
            .cloned()
            .collect();
        let same = (0..3i64).all(|k| {
            let mut at = nums.clone();
            for (i, s) in names.iter().enumerate() {
                at.entry(s.clone()).or_insert_with(|| {
                    num_rational::BigRational::from_integer((5 + 3 * k + 7 * i as i64).into())
                });
            }
            matches!((own.eval_exact(&at), e.eval_exact(&at)), (Ok(a), Ok(b)) if a == b)
        });
        !same
    });
    Some(out)
}
