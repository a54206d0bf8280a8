//! Claims whose moments (`E`, `Var`, `Cov`, `solve`) the moments engine lowers, and the
//! other points at which a claim Monte Carlo confirmed is tested again.

use super::*;
mod copies;
pub(crate) mod critical;
mod degenerate;
mod ends;
mod leaf_givens;
mod least;
mod points;
pub(crate) use least::{least_search, least_sizes, named_extents, Search};
#[allow(unused_imports)]
pub use points::*;

/// Decides a claim with its moments (`E`, `Var`, `Cov`, `solve`) lowered by the moments
/// engine; see [`moments`] for when such a claim may be proved.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide_with_moments<'e>(
    claim: &Claim,
    at: &[Binding],
    calls: BTreeMap<String, Result<Expr, String>>,
    a: &Analysis,
    whole: &Program,
    base: &scalar::Scope,
    env: &'e Env,
    opts: &Options,
    positions: &moments::PositionRuns<'e>,
) -> Outcome {
    // A given that sets a whole tensor (`given U = W`) is put in by the element engine
    // and Monte Carlo (on the sampled values); the moments engine reads the model's
    // distributions (W and U independent) and the scalar engines read the tensors as
    // free symbols: `Var(y) == 4 given U = W` of `y[i] = W[i] + U[i]` was refuted with
    // Var(W) + Var(U) = 2 "at U = 1, W = 1" (probe36 h20).
    if crate::analysis::givens::Givens::read(&claim.given, env)
        .all
        .iter()
        .any(|g| matches!(g, crate::analysis::givens::Given::Tensor { .. }))
    {
        return undecided(
            "a given sets a whole tensor: the moments engine reads the model's own distributions and does not put such a given in",
        );
    }
    // crit43 (probe43 r22): a given that sets a scalar leaf is put into the model's
    // moments; any other given on a random or computed value leaves the moments engine
    // out (it would read the model's own distributions under it).
    let leaf_set = if leaf_givens::has_moments(claim) {
        match leaf_givens::leaf_settings(claim, env) {
            Ok(s) => s,
            Err(why) => return undecided(why),
        }
    } else {
        Vec::new()
    };
    let lowering = symbolic::Lowering {
        at,
        base,
        env,
        opts,
    };
    // The runs below (position by position, the border's pools) read no `at` line
    // (`whole` has none: [`without_at`]): the claim's point reaches them as givens.
    // The claim decided with one analysis of the model's moments.
    let with_analysis = |claim: &Claim,
                         analysis: &crate::moments::Analysis,
                         mut calls: BTreeMap<String, Result<Expr, String>>|
     -> Outcome {
        let at_point = claim_with_point(claim, at, env).unwrap_or_else(|| claim.clone());
        if let Some(o) = moments::decide_by_position(&at_point, whole, env, analysis, positions) {
            return by_position_at_least(&at_point, whole, env, o, |c| {
                moments::decide_by_position(c, whole, env, analysis, positions)
            });
        }
        let mc = moments::calls(claim, analysis, env, base);
        if !mc.any() || claim.boundary.is_some() {
            return decide(claim, calls, lowering);
        }
        calls.extend(mc.calls.clone());
        // The moments' own definedness conditions, noted where each call is lowered.
        let with_conditions;
        let lowering = if mc.conditions.is_empty() {
            lowering
        } else {
            let mut scope = base.clone();
            scope.call_conditions = mc.conditions.clone();
            with_conditions = scope;
            symbolic::Lowering {
                base: &with_conditions,
                ..lowering
            }
        };
        // A `solve(...)` speaks only where its solution exists (`moments::MomentCalls::
        // exists`): the claim is decided under those conditions as givens.
        let with_exists;
        let claim = if mc.exists.is_empty() {
            claim
        } else {
            with_exists = Claim {
                given: claim.given.iter().chain(&mc.exists).cloned().collect(),
                ..claim.clone()
            };
            &with_exists
        };
        let rules = |extra: &str| {
            let mut r: Vec<String> = mc.rules.iter().map(|a| a.text.clone()).collect();
            r.extend(mc.notes.iter().cloned());
            r.extend(mc.exists_shown.iter().cloned());
            if r.is_empty() {
                extra.to_string()
            } else {
                format!("{}; {extra}", r.join("; "))
            }
        };
        // Results that hold away from the border are exact for claims about a generic
        // element (no fixed position).
        let fixed = claim.text.contains('[');
        let mut approx = mc.approx.clone();
        let border = approx.remove(&crate::moments::Approximation::Border);
        // A sum over the whole padded extent at a shift by an own index (a weight
        // gradient, a correlation at a lag): the value away from the border is the shift
        // 0's, no generic element's, at every size (probe38/p a02: `Var(W.grad) == B X v`
        // was proved; the taps dx >= 1 have B (X - dx) v).
        if approx.remove(&crate::moments::Approximation::ShiftedSum) && !fixed {
            return undecided(moments::shifted_sum_reason());
        }
        if border && fixed {
            return undecided(
            "the moments depend on the position under zero padding (the moments engine derives them away from the border)",
        );
        }
        if border {
            if let Some(why) = moments::no_interior(&at_point, whole, env, analysis) {
                return undecided(why);
            }
        }
        let wrap = approx.remove(&crate::moments::Approximation::Wrap);
        // Means of linear maps of the reads are exact whatever the wrap (session 34).
        let linear_means = wrap && moments::means_by_linearity(claim, whole, env);
        let wrap = wrap && !linear_means;
        if wrap {
            if let Some(why) = moments::wrap_unmet(&at_point, whole, env, analysis) {
                return undecided(why);
            }
        }
        let first = decide(claim, calls.clone(), lowering);
        let (v, m, e) = (first.verdict, first.method, first.evidence.clone());
        let opaque = !mc.opaque.is_empty();
        // An equation that holds at random values of the unknown moments holds for every
        // value (they cancel); nothing else may rest on an unknown's sampled value.
        let equation = matches!(&claim.body, ast::Expr::Rel(RelOp::Eq, ..));
        let sound = !opaque
            || (v == Verdict::Proved && m == Method::Symbolic)
            || (equation && v == Verdict::Confirmed);
        if sound && v != Verdict::Undecided {
            if !approx.is_empty() {
                return undecided(format!(
                    "{} under approximations ({}), so not decided by the moments engine: {e}",
                    v.as_str(),
                    approx
                        .iter()
                        .map(|a| a.text())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            let where_ = match (border, wrap) {
                (true, _) => " (away from the border)",
                (false, true) => " (where every circular window fits in its extent)",
                (false, false) if linear_means => {
                    " (means of linear maps of the reads: exact whether or not a circular window wraps onto itself)"
                }
                _ => "",
            };
            return Outcome {
                witness: first.witness,
                border_pool: if border {
                    moments::border_pool(&at_point, whole, env, analysis)
                } else {
                    None
                },
                ..Outcome::by_rule(
                    v,
                    ProofRule::MomentsClosedForm,
                    Method::Moments,
                    rules(&format!("{m}{where_}: {e}")),
                )
            };
        }
        // Inequalities through a bound on the variance.
        if let ast::Expr::Rel(op @ (RelOp::Le | RelOp::Lt), l, _, _) = &claim.body {
            let text = crate::syntax::printer::print_expr(l);
            // The bound in terms of the input first (Lipschitz), then the range bound.
            for (b, why) in mc.bounds.get(&text).into_iter().flatten().rev() {
                let mut c2 = calls.clone();
                c2.insert(text.clone(), Ok(b.clone()));
                let bo = decide(claim, c2, lowering);
                let (bv, bm, be) = (bo.verdict, bo.method, bo.evidence);
                let _ = op;
                if (bv == Verdict::Proved || bv == Verdict::Confirmed) && approx.is_empty() {
                    return Outcome::by_rule(
                        bv,
                        ProofRule::MomentsBound,
                        Method::Moments,
                        format!(
                            "{why}; then {} {} {}: {bm}: {be}",
                            crate::sym::to_ascii(b),
                            if matches!(op, RelOp::Lt) { "<" } else { "≤" },
                            crate::syntax::printer::print_expr(match &claim.body {
                                ast::Expr::Rel(_, _, r, _) => r,
                                _ => l,
                            })
                        ),
                    );
                }
            }
        }
        // `E(relu(y)) > 0` for a symmetric input whose variance is positive at every point
        // of the claim's domains, givens and point: `Var(y) > 0` decided by the exact
        // engines (the rule took any `>` given as the proof of it, and proved the claim
        // with y = alpha W x, 0 at alpha = 0, or c W x with a location c: probe33/a a12).
        if let ast::Expr::Rel(RelOp::Gt, l, r, _) = &claim.body {
            let text = crate::syntax::printer::print_expr(l);
            let zero = crate::syntax::printer::print_expr(r) == "0";
            if let Some(Some(var)) = mc.opaque.get(&text).map(|o| &o.positive) {
                if zero && approx.is_empty() {
                    let mut c2 = calls.clone();
                    c2.insert(text.clone(), Ok(var.clone()));
                    let vo = decide(claim, c2, lowering);
                    if vo.verdict == Verdict::Proved {
                        return Outcome::proved(
                            ProofRule::ReluMeanPositive,
                            Method::Moments,
                            format!(
                                "{text} is the mean of relu of a symmetric input, positive where the input's variance is: E[relu(y)] = E[|y|]/2 > 0, and Var(y) = {} > 0 ({}: {})",
                                crate::sym::to_ascii(var),
                                vo.method,
                                vo.evidence
                            ),
                        );
                    }
                }
            }
        }
        // Moments of a function of a Gaussian, by quadrature.
        // The values the givens set (`sigma^2 = 1/2` as sigma = (1/2)^(1/2)), by the one
        // reader of givens.
        let given: Vec<(String, Expr)> = crate::analysis::givens::Givens::read(&claim.given, env)
            .values(false)
            .unwrap_or_default();
        if let Some(values) = moments::quadrature(&mc, &given) {
            if !values.is_empty() && values.len() == mc.opaque.len() && values.len() <= 4 {
                // The quadrature's values are floats with an error estimate: the claim is
                // decided at every corner of the box of their error intervals, and only a
                // verdict that is the same at every corner counts. The inner engine compares
                // rationals there; nothing here is exact, so a proof is at most `confirmed`,
                // and a refutation is kept only if Monte Carlo's re-check refutes it too
                // (`decide_all`).
                let names: Vec<&String> = values.keys().collect();
                let (mut holds, mut fails, mut unknown) = (0, 0, 0);
                for corner in 0..(1u32 << names.len()) {
                    let mut c2 = calls.clone();
                    for (i, name) in names.iter().enumerate() {
                        let (v, e) = values[*name];
                        let x = if corner >> i & 1 == 1 { v + e } else { v - e };
                        if let Some(r) = moments::rational(x) {
                            c2.insert((*name).clone(), Ok(r));
                        }
                    }
                    match decide(claim, c2, lowering).verdict {
                        Verdict::Proved | Verdict::Confirmed => holds += 1,
                        Verdict::Refuted => fails += 1,
                        Verdict::Undecided => unknown += 1,
                    }
                }
                let shown: Vec<String> = values
                    .iter()
                    .map(|(n, (v, e))| format!("{n} = {v:.6} (error estimate {e:.0e})"))
                    .collect();
                let what = format!(
                    "64-point Gauss–Hermite quadrature over the Gaussian input, not exact: {}",
                    shown.join(", ")
                );
                if unknown == 0 && approx.is_empty() {
                    return match (holds, fails) {
                    (_, 0) => Outcome::new(
                        Verdict::Confirmed,
                        Method::Quadrature,
                        format!("{what}; the claim holds over the whole error interval"),
                    ),
                    (0, _) => Outcome::new(
                        Verdict::Refuted,
                        Method::Quadrature,
                        format!("{what}; the claim fails over the whole error interval"),
                    ),
                    _ => undecided(format!(
                        "{what}; the claim holds at one end of the error interval and fails at the other"
                    )),
                };
                }
            }
        }
        if opaque && v != Verdict::Undecided {
            let names: Vec<String> = mc.opaque.keys().cloned().collect();
            return undecided(format!(
                "{} has no exact closed form in the moments engine (only bounds or approximations)",
                names.join(", ")
            ));
        }
        first
    };
    // A scalar leaf set by a given: the model's moments with the leaf (and the symbols
    // the givens set) put in, and no other analysis (the file's reads the leaf's law).
    if !leaf_set.is_empty() {
        let mut settings: Vec<(String, Expr)> = montecarlo::givens::given_values(claim, env)
            .unwrap_or_default()
            .into_iter()
            .filter(|(n, _)| env.symbols.contains_key(n))
            .collect();
        settings.extend(leaf_set);
        return match analyze_defined(whole, env, &a.backward().items, settings) {
            Ok(set) => with_analysis(claim, &set, calls),
            Err(why) => undecided(why),
        };
    }
    let first = with_analysis(claim, a.moments(), calls.clone());
    if matches!(first.verdict, Verdict::Proved | Verdict::Refuted) {
        return first;
    }
    // A closed form with a geometric sum `(a^k - 1)/(a - 1)` is undefined at a = 1, where
    // the sum is k: the claim decided on each side of that point and at it (with the
    // value put into the model, so the recurrence gets its linear closed form).
    if claim.boundary.is_none() {
        let mc = moments::calls(claim, a.moments(), env, base);
        if let Some((name, roots)) = ratio_point(&mc, env) {
            let show = |c: &num_rational::BigRational| crate::sym::to_ascii(&Expr::num(c.clone()));
            let with_given = |bounds: &[(RelOp, &num_rational::BigRational)]| {
                let mut cl = claim.clone();
                let span = claim.body.span();
                for (op, c) in bounds {
                    cl.given.push(ast::Expr::Rel(
                        *op,
                        Box::new(ast::Expr::Ref(ast::Ref::plain(&name, span))),
                        Box::new(rational_ast(c, span)),
                        span,
                    ));
                }
                cl.given = crate::check::givens::resolved(&cl.given, &cl.at, env);
                cl
            };
            // The open intervals between and around the roots that meet the symbol's
            // domain, then the roots themselves.
            let d = env.domains.get(&name);
            let lo = d.and_then(|d| d.lo.as_ref()).map(|(lo, _)| lo);
            let hi = d.and_then(|d| d.hi.as_ref()).map(|(hi, _)| hi);
            let mut parts: Vec<(String, Outcome)> = Vec::new();
            for i in 0..=roots.len() {
                let (below, above) = (i.checked_sub(1).map(|j| &roots[j]), roots.get(i));
                // Some x with below < x < above inside [lo, hi].
                let from = match (below, lo) {
                    (Some(b), Some(lo)) => Some(b.max(lo)),
                    (x, y) => x.or(y),
                };
                let to = match (above, hi) {
                    (Some(b), Some(hi)) => Some(b.min(hi)),
                    (x, y) => x.or(y),
                };
                if from.zip(to).is_some_and(|(f, t)| f >= t) {
                    continue;
                }
                let mut bounds = Vec::new();
                let mut shown = Vec::new();
                if let Some(b) = below {
                    bounds.push((RelOp::Gt, b));
                    shown.push(format!("{name} > {}", show(b)));
                }
                if let Some(b) = above {
                    bounds.push((RelOp::Lt, b));
                    shown.push(format!("{name} < {}", show(b)));
                }
                let cl = with_given(&bounds);
                // A piece the claim's own givens exclude (`given c >= 1` and c < 1) has no
                // point: nothing to decide there.
                if symbolic::empty_setting(&cl, lowering).is_some() {
                    continue;
                }
                parts.push((
                    shown.join(", "),
                    with_analysis(&cl, a.moments(), calls.clone()),
                ));
            }
            let sides = parts.len();
            for c in &roots {
                let cl = with_given(&[(RelOp::Eq, c)]);
                if symbolic::empty_setting(&cl, lowering).is_some() {
                    continue;
                }
                let outcome = match analyze_defined(
                    whole,
                    env,
                    &a.backward().items,
                    vec![(name.clone(), Expr::num(c.clone()))],
                ) {
                    Ok(set) => with_analysis(&cl, &set, calls.clone()),
                    Err(why) => undecided(why),
                };
                parts.push((format!("{name} = {}", show(c)), outcome));
            }
            let shown_roots = roots.iter().map(show).collect::<Vec<_>>().join(", ");
            // A refutation between the roots stands (its witness satisfies the narrowed
            // domain); the model with a root put in may divide by zero where the engine
            // does not see it, so those branches only ever add to a proof.
            if let Some((_, o)) = parts[..sides]
                .iter()
                .find(|(_, o)| o.verdict == Verdict::Refuted)
            {
                return o.clone();
            }
            if !parts.is_empty()
                && parts
                    .iter()
                    .all(|(_, o)| o.verdict == Verdict::Proved && o.rule.is_some())
            {
                let evidence: Vec<String> = parts
                    .iter()
                    .map(|(w, o)| format!("where {w}: {}", o.evidence))
                    .collect();
                return Outcome::by_rule(
                    Verdict::Proved,
                    ProofRule::MomentsClosedForm,
                    Method::Moments,
                    format!(
                        "the closed form divides by zero at {name} = {shown_roots}, so the claim is decided between and around those points and at each (the recurrence's closed form with the value put in there): {}",
                        evidence.join("; ")
                    ),
                );
            }
            // Not decided: the point is tq's own closed form's (a geometric sum's
            // denominator), not the claim's; the pieces say what was decided where
            // (probe32/a w11, w38: "the claim is undefined at c = 1" named tq's pole).
            // Only for a claim that divides by nothing itself: a claim that writes the
            // quotient (`(c^(2 l) - 1)/(c^2 - 1)`) is undefined there on its own.
            let mut divides = false;
            crate::syntax::visit::walk_expr(&claim.body, |x| {
                divides |= matches!(x, ast::Expr::Binary(ast::BinOp::Div, ..));
                !divides
            });
            if first.verdict == Verdict::Undecided && !parts.is_empty() && !divides {
                let pieces: Vec<String> = parts
                    .iter()
                    .map(|(w, o)| format!("where {w}: {} ({})", o.verdict.as_str(), o.evidence))
                    .collect();
                return Outcome {
                    evidence: format!(
                        "the closed form tq derived divides by zero at {name} = {shown_roots} (a condition of tq's own closed form, not of the claim), so the claim was decided between and around those points and at each, and not on all of them: {}",
                        pieces.join("; ")
                    ),
                    ..first
                };
            }
        }
    }
    // The claim's givens that set symbols (`sigma_W^2 = 1/J`), put into the model
    // before its moments are derived: the file's analysis keeps the symbols free, and a
    // closed form that is undefined where the givens put it (the geometric sum of a
    // step factor the givens make 1) leaves the claim open there.
    let settings: Vec<(String, Expr)> = montecarlo::givens::given_values(claim, env)
        .unwrap_or_default()
        .into_iter()
        .filter(|(n, _)| env.symbols.contains_key(n))
        .collect();
    if settings.is_empty() || claim.boundary.is_some() {
        return first;
    }
    let Ok(set) = analyze_defined(whole, env, &a.backward().items, settings) else {
        return first;
    };
    let second = with_analysis(claim, &set, calls);
    if second.verdict != Verdict::Undecided && second.method != first.method
        || matches!(second.verdict, Verdict::Proved | Verdict::Refuted)
    {
        return second;
    }
    first
}

/// The moments of the model with `settings` put in (`moments::analyze_with`), or why
/// they decide nothing: the model with the values put in divides by zero, takes the log
/// of a non-positive number or a root of a negative one (`y = x / (a - c)` with
/// `given a = c`). The walker builds its values outside the claim's definedness scope,
/// so its closed forms had folded `v (a - c)^-2` at a = c to a value: `Var(y) == 0 given
/// a = c` was proved and `Var(y) == 1 given a = c` refuted (probe30/a s15b).
fn analyze_defined(
    whole: &ast::Program,
    env: &Env,
    backward: &[ast::Item],
    settings: Vec<(String, Expr)>,
) -> Result<crate::moments::Analysis, String> {
    let (set, conditions) =
        sym::collecting(|| crate::moments::analyze_with(whole, env, backward, settings));
    for c in &conditions {
        if let Some(v) = c.expr().as_num() {
            if !c.holds_at(v) {
                return Err(format!(
                    "the model with the givens put in is undefined ({c} fails: a division by zero, the log of a non-positive number or a root of a negative one)"
                ));
            }
        }
    }
    Ok(set)
}

/// A claim the second-moment program confirmed position by position at the sample sizes,
/// read again at the least sizes the claim names (docs/language.md, "What a claim over
/// sizes means"): `Var(y[b,0]) == v` of `y[b,x] = x[b,x+1]` holds at X = 5 and fails at
/// X = 1, where y[b,0] reads the padding (probe 29). A refutation there is the claim's;
/// a reading that decides nothing leaves the claim undecided. Then at the other points of
/// [`other_points`] that move sizes only (moved apart, one larger): a refutation there is
/// the claim's too; a reading that decides nothing there is noted, as Monte Carlo's are.
fn by_position_at_least(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    first: Outcome,
    again: impl Fn(&Claim) -> Option<Outcome>,
) -> Outcome {
    if first.verdict != Verdict::Confirmed {
        return first;
    }
    // The least sizes, then every other point that moves sizes only: the sizes moved
    // apart (a window wider than the input: `Var(y[b,0]) == 1` of a zero-padded
    // convolution held at the sample and at D = X = 1, and fails at X = 1, D = 2; snd36,
    // probe35/p a03) and each size one larger.
    let mut points: Vec<_> = other_points(claim, program, env)
        .into_iter()
        .filter(|(p, least)| *least || p.keys().all(|n| env.sizes.contains_key(n)))
        .collect();
    // size43 (probe42 r18): then the small sizes above the least and the sizes the
    // givens' boundaries and the program's cut-offs name (`critical`): a centred window
    // as wide as the input, false from X = 3, was read at X = 1 and 2 only.
    for p in critical::more_size_points(claim, program, env) {
        if !points.iter().any(|(q, _)| *q == p) {
            points.push((p, false));
        }
    }
    let mut held: Vec<String> = Vec::new();
    for (point, least) in points {
        let Some((c, shown)) = claim_at_point(claim, &point, env) else {
            continue;
        };
        let what = if least {
            "the least sizes the claim names"
        } else {
            "sizes moved from the sample's"
        };
        match again(&c) {
            Some(o) if o.verdict == Verdict::Refuted => {
                return Outcome {
                    evidence: format!(
                        "at {what} ({shown}; it held at the sample sizes: {}): {}",
                        first.evidence, o.evidence
                    ),
                    ..o
                };
            }
            Some(o) if o.verdict == Verdict::Confirmed => {
                if least {
                    held.push(format!("at {shown}: {}", o.evidence));
                } else {
                    held.push(format!("held at {shown}"));
                }
            }
            other if least => {
                return undecided(format!(
                    "position by position at the sample sizes: {}; at the least sizes the claim names ({shown}) not decided ({}), so the claim over every size is not confirmed",
                    first.evidence,
                    other.map_or("the second-moment program does not apply there".to_string(), |o| o.evidence)
                ));
            }
            _ => held.push(format!("at {shown} not decided")),
        }
    }
    if held.is_empty() {
        return first;
    }
    Outcome {
        evidence: format!("{}; {}", first.evidence, held.join("; ")),
        ..first
    }
}

/// The claim with the point's values added as givens (`I == 1`, `sigma == 1/2`), those
/// its own givens do not set already, and the point as text; `None` for an empty point
/// or one that adds nothing.
pub(super) fn claim_at_point(
    claim: &Claim,
    point: &BTreeMap<String, num_rational::BigRational>,
    env: &Env,
) -> Option<(Claim, String)> {
    use crate::syntax::ast::{BinOp, Ref};
    use num_traits::Signed;
    let set: Vec<String> = montecarlo::given_values(claim, env)
        .ok()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let span = claim.body.span();
    let mut c = claim.clone();
    let mut shown = Vec::new();
    for (name, v) in point {
        if set.contains(name) {
            continue;
        }
        let num = |i: &num_bigint::BigInt| ast::Expr::Num(i.to_string(), span);
        let mut value = num(&v.numer().abs());
        if !v.is_integer() {
            value = ast::Expr::Binary(BinOp::Div, Box::new(value), Box::new(num(v.denom())), span);
        }
        if v.is_negative() {
            value = ast::Expr::Unary(ast::UnOp::Neg, Box::new(value), span);
        }
        let name_ref = ast::Expr::Ref(Ref::plain(name, span));
        c.given.push(ast::Expr::Rel(
            RelOp::Eq,
            Box::new(name_ref),
            Box::new(value),
            span,
        ));
        shown.push(format!("{name} = {v}"));
    }
    (!shown.is_empty()).then(|| (c, shown.join(", ")))
}

/// A claim with the point in force at its line (`point`: the file's `at` lines before it,
/// its own `at` over them name by name, the names its givens set left out; docs/language.md,
/// "Claims") added to its givens where the point sets sizes, symbols or scalar inputs
/// (`claim Var(y) == 2 at s = 1, d = 2`): Monte Carlo runs at the givens' values, so the
/// claim's point is the same for every engine (Monte Carlo ran at the `sample` values and
/// called the claim's two engines in disagreement; its runs read every `at` line of the
/// file, the last one winning, and a later `at alpha = 2` refuted a true claim made under
/// `at alpha = 1`: probe33/a a22). `None` when the point sets none of them that a given
/// does not set.
pub(super) fn claim_with_point(claim: &Claim, point: &[Binding], env: &Env) -> Option<Claim> {
    let set: Vec<String> = montecarlo::given_values(claim, env)
        .ok()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut c = claim.clone();
    for b in point {
        let n = &b.name.name;
        let settable =
            env.sizes.contains_key(n) || env.symbols.contains_key(n) || env.scalars.contains_key(n);
        if !settable || set.contains(n) {
            continue;
        }
        let span = b.name.span;
        c.given.push(ast::Expr::Rel(
            RelOp::Eq,
            Box::new(ast::Expr::Ref(crate::syntax::ast::Ref::plain(n, span))),
            Box::new(b.value.clone()),
            span,
        ));
    }
    (c.given.len() > claim.given.len()).then_some(c)
}

/// The program its Monte Carlo runs read: the file without its `at` lines, which the
/// interpreter would otherwise apply all of, the last one winning, whatever claim the run
/// is for; each claim's point reaches its runs as givens ([`claim_with_point`]).
pub(super) fn without_at(program: &ast::Program) -> ast::Program {
    fn strip(items: &[ast::Item]) -> Vec<ast::Item> {
        items
            .iter()
            .filter(|i| !matches!(i.kind, ast::ItemKind::At(_)))
            .map(|i| match &i.kind {
                ast::ItemKind::Loop(l) => {
                    let mut l = l.clone();
                    l.body = strip(&l.body);
                    ast::Item {
                        kind: ast::ItemKind::Loop(l),
                        span: i.span,
                    }
                }
                _ => i.clone(),
            })
            .collect()
    }
    ast::Program {
        items: strip(&program.items),
    }
}

/// The program without its top-level claims, for the walks of each claim's Monte Carlo
/// runs (perf42): they read the model only (the interpreter runs no claim, the position
/// classes and loops are read from statements and declarations), and walking every other
/// claim for each claim made `tq check` of N claims quadratic.
pub(in crate::claims) fn without_claims(program: &ast::Program) -> ast::Program {
    ast::Program {
        items: program
            .items
            .iter()
            .filter(|i| !matches!(i.kind, ast::ItemKind::Claim(_)))
            .cloned()
            .collect(),
    }
}

/// The points besides the sample values at which a claim Monte Carlo confirmed is
/// tested again: every symbol of the file that the claim's givens do not set and that
/// has a sample value, moved at once to 8 times and then to 1/8 of it (a value 0 to 1 and
/// to −1); a value outside the symbol's domain is replaced by the midpoint between the
/// sample value and the bound it crosses. A point where a symbol keeps its value or a
/// relation between symbols (`uniform(a, b)`: a < b) constrains a moved one is skipped.
/// Then the points that cover the rest of each domain (session 31): the same two with
/// every signed symbol's sign flipped, and every symbol reflected (−x, or 1/x for a
/// positive one), where a symbol with no move inside its domain keeps its value.
/// Before them the sizes are moved, each one larger than its sample value; the symbols
/// keep theirs. First of all, the least sizes at which every element the claim names
/// exists ([`least_sizes`]; session 27 tried each size 1 and refuted `Var(y[0,1]) == v`
/// at K = 1, where that element does not exist; a model with loops or families is not
/// moved there, so mean-field values of layer families are not tested at width 1).
/// Each point comes with whether it is that least-sizes point.
pub fn other_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
) -> Vec<(BTreeMap<String, num_rational::BigRational>, bool)> {
    use num_rational::BigRational;
    use num_traits::{One, Zero};
    let Some(given) = points::set_by_givens(claim, env) else {
        return Vec::new();
    };
    let set: Vec<String> = given.iter().map(|(n, _)| n.clone()).collect();
    // The least sizes read every setting, a derived size's own relation too (a fixed
    // `size D = 3` keeps its value there: probe30/a s22).
    let set_all: Option<Vec<String>> = montecarlo::given_values(claim, env)
        .ok()
        .map(|s| s.into_iter().map(|(n, _)| n).collect());
    let (sample, mut sizes) = points::sample_values(&set, program, env);
    // The sizes too: a claim true only at the sample sizes (`Var(y) == 4 sigma^2` where
    // the truth is N sigma^2 and `sample N = 4`) is tested with every size the claim
    // does not set one larger (derived sizes recomputed from them), the symbols at
    // their sample values.
    let mut out = Vec::new();
    // First the least sizes at which every element the claim names exists (each 1, or
    // one past a fixed position it or the model names: `y[b,1]` needs K >= 2), the
    // symbols at their sample values: a claim is about every such size (`Var(z) <= 2`
    // held at I = 3 and fails at I = 1).
    if let Some(least) = set_all
        .as_ref()
        .and_then(|set_all| least_point(set_all, &sizes, claim, program, env))
    {
        out.push((least, true));
    }
    // Then the sizes moved apart from each other ([`montecarlo::spread::apart_size_points`]).
    if let Some(set_all) = set_all.as_ref() {
        out.extend(
            montecarlo::spread::apart_size_points(claim, program, env, set_all, &sizes)
                .into_iter()
                .map(|p| (p, false)),
        );
        // size43: then the boundary of each given that relates sizes and the sizes that
        // cross a cut-off on an index value ([`critical`]; probe42 r12, r03, r18).
        let more = critical::critical_size_points(claim, program, env, set_all, &sizes, &sample);
        for p in more {
            if !out.iter().any(|(q, _)| *q == p) {
                out.push((p, false));
            }
        }
    }
    // A derived size (`size Y = floor(X / 2)`, on the expanded sample line) is not moved
    // with the others: it is computed again from their new values, and a point where it
    // is not a whole number of at least 1 is skipped.
    let derived: Vec<&String> = env.derived_sizes.iter().map(|(n, _)| n).collect();
    let set_derived = derived.iter().any(|d| set.contains(*d));
    sizes.retain(|n, _| !derived.contains(&n));
    if !sizes.is_empty()
        && !set_derived
        && sizes
            .values()
            .all(|v| *v < BigRational::from_integer(64.into()))
    {
        let moved: BTreeMap<String, BigRational> = sizes
            .iter()
            .map(|(n, v)| (n.clone(), v + BigRational::one()))
            .collect();
        let mut whole: BTreeMap<String, i64> = moved
            .iter()
            .filter_map(|(n, v)| Some((n.clone(), v.to_integer().try_into().ok()?)))
            .collect();
        // A size a given sets to a number (`given D = 3`) is read by the derived sizes'
        // values, and stays out of the point.
        let held: BTreeMap<String, i64> = given
            .iter()
            .filter(|(n, _)| env.sizes.contains_key(n))
            .filter_map(|(n, v)| Some((n.clone(), v.as_num()?.to_integer().try_into().ok()?)))
            .collect();
        let all = whole.len() == moved.len();
        whole.extend(held.iter().map(|(n, v)| (n.clone(), *v)));
        if all && crate::check::outputs::derive_sizes_at(&mut whole, env) {
            out.push((
                whole
                    .into_iter()
                    .filter(|(n, _)| !held.contains_key(n))
                    .map(|(n, v)| (n, BigRational::from_integer(v.into())))
                    .collect(),
                false,
            ));
        }
    }
    if sample.is_empty() {
        return out;
    }
    let eight = BigRational::from_integer(8.into());
    // A symbol that may be negative (a location, a scalar input, a domain below 0).
    let signed = |name: &str| {
        env.signed.contains(name)
            || env.scalars.contains_key(name)
            || env.domains.get(name).is_some_and(|d| {
                d.lo.as_ref()
                    .is_some_and(|(lo, _)| lo < &BigRational::zero())
            })
    };
    let any_signed = sample.keys().any(|n| signed(n));
    // The moves: 8 times and 1/8 of the value; then, so that the points cover the
    // domain and not one side of the sample value (probe31/a u11, u02: a location never
    // changed sign, a slope never crossed 1), the same with every signed symbol's sign
    // flipped, and every symbol reflected: a signed one to -x, a positive one to 1/x (1
    // to 2), across 0 and across 1.
    #[derive(Clone, Copy, PartialEq)]
    enum Move {
        Up,
        Down,
        UpFlipped,
        DownFlipped,
        Reflect,
    }
    let mut moves = vec![Move::Up, Move::Down];
    if any_signed {
        moves.extend([Move::UpFlipped, Move::DownFlipped]);
    }
    moves.push(Move::Reflect);
    for mv in moves {
        let mut point = BTreeMap::new();
        let mut ok = true;
        for (name, x) in &sample {
            let dom = env.domains.get(name);
            if dom.is_some_and(|d| !d.relations.is_empty()) {
                ok = false;
                break;
            }
            let flip = matches!(mv, Move::UpFlipped | Move::DownFlipped) && signed(name);
            let up = matches!(mv, Move::Up | Move::UpFlipped);
            let mut v = if mv == Move::Reflect {
                if signed(name) {
                    if x.is_zero() {
                        BigRational::one()
                    } else {
                        -x.clone()
                    }
                } else if x.is_zero() || x == &BigRational::one() {
                    BigRational::from_integer(2.into())
                } else {
                    x.recip()
                }
            } else if x.is_zero() {
                if up {
                    BigRational::one()
                } else {
                    -BigRational::one()
                }
            } else if up {
                x * &eight
            } else {
                x / &eight
            };
            if flip {
                v = -v;
            }
            if let Some(d) = dom {
                if !d.contains(&v) {
                    let bound = match (&d.lo, &d.hi) {
                        (Some((lo, _)), _) if &v <= lo => Some(lo.clone()),
                        (_, Some((hi, _))) if &v >= hi => Some(hi.clone()),
                        _ => None,
                    };
                    v = match bound {
                        Some(b) => (x + b) / BigRational::from_integer(2.into()),
                        None => x.clone(),
                    };
                    if !d.contains(&v) {
                        v = x.clone();
                    }
                }
            }
            // In the two points of 8 and 1/8 every symbol moves; in the others a symbol
            // with no move inside its domain keeps its value.
            if &v == x && matches!(mv, Move::Up | Move::Down) {
                ok = false;
                break;
            }
            point.insert(name.clone(), v);
        }
        let moved = point.iter().any(|(n, v)| sample.get(n) != Some(v));
        if ok && moved && !out.iter().any(|(p, _)| p == &point) {
            out.push((point, false));
        }
    }
    out
}
