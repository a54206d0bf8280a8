//! Element claims decided elsewhere, their witnesses, and the re-check of a refutation with fresh seeds.

use super::*;

/// What the runs of a claim at the other points read ([`elements_elsewhere`],
/// [`includes_elsewhere`]): the claim, the model, its derived backward program in scatter
/// and gather form, the loss and the seed.
pub(super) struct Elsewhere<'a> {
    pub claim: &'a Claim,
    pub program: &'a ast::Program,
    pub env: &'a Env,
    pub scatter: &'a [Item],
    pub gather: &'a [Item],
    pub loss: Option<&'a str>,
    pub seed: u64,
}

/// An element claim confirmed on the sampled run at the `sample` values, run again at
/// the other points of [`with_moments::other_points`] (every size one larger; every
/// symbol 8 times and 1/8 of its value, inside its domain), at the same seed: the first
/// point whose run refutes it, with the refutation re-checked on the gather form's run at
/// that point, refutes the claim (`y0^2 + y1^2 == x0^2 + x1^2` of a rotation by `c`, `s`
/// holds at the sample values c = 0.6, s = 0.8 only). A point whose run cannot be made
/// or tests nothing, or whose values are not finite, decides nothing.
pub(super) fn elements_elsewhere(
    at: &Elsewhere,
    (op, l, r): (RelOp, &ast::Expr, &ast::Expr),
    first: Outcome,
) -> Outcome {
    let &Elsewhere {
        claim,
        program,
        env,
        scatter,
        gather,
        loss,
        seed,
    } = at;
    let mut held = Vec::new();
    let (sets, residual) = sampled_givens(claim, env);
    // The other points, then runs at the sample values with every element drawn as a
    // small whole number (session 33): ties and zeros happen there, so a claim false
    // only at a kink is tested at one (a max-pool's `x.grad[b,0] == p.grad[b,0] [x[b,0]
    // >= x[b,1]]`, false at a tie only, was confirmed).
    #[allow(clippy::type_complexity)]
    let mut runs: Vec<(String, Vec<(String, f64)>, bool, u64)> = Vec::new();
    for (point, _) in with_moments::other_points(claim, program, env) {
        let (shown, values) = point_values(&point);
        runs.push((shown, values, false, seed));
    }
    for k in 0..SMALL_INTEGER_RUNS {
        runs.push((
            format!(
                "the sample values with every element a whole number from -2 to 2 (seed {})",
                seed + k
            ),
            Vec::new(),
            true,
            seed + k,
        ));
    }
    for (shown, values, small, seed) in runs {
        let setup = |m: &mut crate::num::Machine| {
            at_point(m, (program, env), &values, &sets)?;
            m.small_integers = small;
            Ok(())
        };
        let Ok(mut run) =
            crate::num::gradcheck::run_model_with(program, env, scatter, loss, seed, &setup)
        else {
            continue;
        };
        let mut found = None;
        let mut untested = false;
        let o = numeric::decide_found(
            op,
            l,
            r,
            &residual,
            program,
            &mut run.machine,
            seed,
            &mut found,
            &mut untested,
        );
        match (o.verdict, found) {
            (Verdict::Refuted, Some(f)) if f.left.is_finite() && f.right.is_finite() => {
                let mut second =
                    crate::num::gradcheck::run_model_with(program, env, gather, loss, seed, &setup)
                        .map_err(|e| e.message);
                let Ok(checked_by) = recheck_element(&mut second, op, l, r, &f) else {
                    held.push(format!("at {shown} not refuted (the gather form's run does not confirm the difference)"));
                    continue;
                };
                let mut out = Outcome::new(
                    Verdict::Refuted,
                    Method::Numeric,
                    format!(
                        "at {shown} ({} at the sample values: {}): {}",
                        if first.verdict == Verdict::Confirmed {
                            "it held"
                        } else {
                            "undecided"
                        },
                        first.evidence,
                        o.evidence
                    ),
                );
                out.witness = Some(element_witness(
                    &run.machine.consts,
                    env,
                    &f,
                    seed,
                    checked_by,
                ));
                return out;
            }
            // An agreement at small whole numbers adds nothing to the evidence (the
            // runs there look for a refutation only).
            (Verdict::Confirmed, _) if !small => held.push(format!("holds at {shown}")),
            _ => {}
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

/// The witness of an element claim a sampled run refuted at `f` (the run's sizes and
/// symbols, the element, both sides), with the re-check that confirmed it.
pub(super) fn element_witness(
    consts: &BTreeMap<String, f64>,
    env: &Env,
    f: &numeric::Found,
    seed: u64,
    checked_by: String,
) -> sym::Witness {
    let element = if f.bind.is_empty() {
        "the claim's one value (no free index)".to_string()
    } else {
        f.bind
            .iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    sym::Witness::of_run(
        &run_values(consts, env),
        element,
        seed,
        format!("≈ {}", crate::verdict::distinct_pair(f.left, f.right, 10).0),
        format!("≈ {}", crate::verdict::distinct_pair(f.left, f.right, 10).1),
        checked_by,
    )
}

/// How many runs at small whole numbers an element claim confirmed at the sample values
/// is tested on ([`elements_elsewhere`]).
pub(super) const SMALL_INTEGER_RUNS: u64 = 2;

/// How many further seeds a sampled run that tests nothing at the seed is made again at
/// (seed + 1, seed + 2, ...; docs/numeric.md).
pub(super) const SEED_RETRIES: u64 = 3;

/// A sampled run that tests nothing at the seed (every mask 0) is made again at the next
/// seeds, deterministically (docs/numeric.md): `again(seed, untested)` decides at one
/// seed (`None`: the model cannot be run there). The evidence names the seeds that tested
/// nothing; the result is how many seeds past the first were tried.
pub(super) fn retry_seeds(
    o: &mut Outcome,
    mut untested: bool,
    seed: u64,
    mut again: impl FnMut(u64, &mut bool) -> Option<Outcome>,
) -> usize {
    let mut tried = Vec::new();
    for k in 1..=SEED_RETRIES {
        if !untested {
            break;
        }
        tried.push(o.evidence.clone());
        match again(seed.wrapping_add(k), &mut untested) {
            Some(next) => *o = next,
            None => break,
        }
    }
    o.evidence = with_retries(&tried, seed, std::mem::take(&mut o.evidence));
    tried.len()
}

/// The evidence of a sampled run decided after `tried` runs that tested nothing: which
/// seeds those were and why, then the deciding run's evidence (which names its seed).
pub(super) fn with_retries(tried: &[String], seed: u64, evidence: String) -> String {
    match tried {
        [] => evidence,
        [only] => format!("at seed {seed} the run tested nothing ({only}); then {evidence}"),
        _ => format!(
            "the runs at seeds {seed} to {} tested nothing (seed {seed}: {}); then {evidence}",
            seed.wrapping_add(tried.len() as u64 - 1),
            tried[0]
        ),
    }
}

/// Re-evaluates both sides of an element claim at the element a sampled run refuted
/// it, on the run with the gather-form backward program (same seed, same values):
/// the refutation stands when they differ there too.
pub(super) fn recheck_element(
    second: &mut Result<crate::num::gradcheck::ModelRun, String>,
    op: RelOp,
    l: &ast::Expr,
    r: &ast::Expr,
    f: &numeric::Found,
) -> Result<String, String> {
    let run = second
        .as_mut()
        .map_err(|e| format!("the gather form cannot be run to re-check it: {e}"))?;
    let m = &mut run.machine;
    for (n, range) in &f.sums {
        m.loop_ranges.insert(n.clone(), *range);
    }
    let (x, y) = match (m.eval(l, &f.bind), m.eval(r, &f.bind)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            return Err(format!(
                "the gather-form run cannot evaluate it: {}",
                e.message
            ))
        }
    };
    if !x.is_finite() || !y.is_finite() {
        return Err(format!(
            "on the gather-form backward program a side is not finite there (left {x}, right {y}), so the difference is not confirmed"
        ));
    }
    if numeric::compare(op, x, y) == numeric::Compared::Fails {
        Ok(format!(
            "the gather-form backward program run again (left {x:.10}, right {y:.10})"
        ))
    } else {
        Err(format!(
            "on the gather-form backward program the relation holds there (left {x:.10}, right {y:.10}): the two forms of the derived program disagree"
        ))
    }
}

/// A claim's givens for a sampled run: the values its settings give (each lowered
/// without a program; [`crate::analysis::givens`]), which the run is made at, and the
/// other givens, which restrict the elements it tests (a setting whose value cannot be
/// lowered stays among them, as a condition).
pub(super) fn sampled_givens(claim: &Claim, env: &Env) -> (Vec<(String, Expr)>, Vec<ast::Expr>) {
    use crate::analysis::givens::{Given, Givens};
    let givens = Givens::read(&claim.given, env);
    let mut sets = Vec::new();
    let mut residual = Vec::new();
    for (g, written) in givens.all.iter().zip(&givens.written) {
        match g {
            Given::Set(s) => match s.lowered(&scalar::Scope::default()) {
                Ok(v) => sets.push((s.name.clone(), v)),
                Err(_) => residual.push(written.clone()),
            },
            _ => residual.push(written.clone()),
        }
    }
    // Numbers first, then the values computed from them (as a Monte Carlo run).
    sets.sort_by_key(|(_, v)| !v.free_symbols().is_empty());
    (sets, residual)
}

/// A point of [`with_moments::other_points`] as its runs read it: its text for the
/// report (`N = 3, c = 1/2`) and its values.
fn point_values(
    point: &BTreeMap<String, num_rational::BigRational>,
) -> (String, Vec<(String, f64)>) {
    let shown: Vec<String> = point.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    let values = point
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), num_traits::ToPrimitive::to_f64(v)?)))
        .collect();
    (shown.join(", "), values)
}

/// Sets a run's machine at a point: its values, then the claim's givens that set values
/// (`sets`); inputs without a distribution are any value there, as on the first run.
fn at_point(
    m: &mut crate::num::Machine,
    (program, env): (&ast::Program, &Env),
    values: &[(String, f64)],
    sets: &[(String, crate::sym::Expr)],
) -> Result<(), crate::num::NumError> {
    for (n, v) in values {
        m.consts.insert(n.clone(), *v);
    }
    montecarlo::apply_givens(m, program, env, sets, None)?;
    m.arbitrary_inputs = true;
    Ok(())
}

/// An `includes` block confirmed on the sampled run at the `sample` values, decided again
/// on a sampled run at each of the other points of [`with_moments::other_points`] (the
/// least sizes, the sizes moved apart, every size one larger, the symbols moved), as
/// element claims are ([`elements_elsewhere`]): under circular padding a gather in the
/// wrong direction, `y.grad[b,x+DX]` for `y.grad[b,x-DX]`, equals the derived one at
/// X = 2 only (probe34/p p30). A point whose block is refuted against the derived
/// program's statements is re-checked against the gather form's statements (another
/// derivation of the same gradients) on the same run; a refutation stands only when both
/// refute. A point whose run cannot be made, or which tests nothing, decides nothing.
pub(super) fn includes_elsewhere(
    at: &Elsewhere,
    block: &[Item],
    steps: &includes::StepBudget,
    first: Outcome,
) -> Outcome {
    let &Elsewhere {
        claim,
        program,
        env,
        scatter,
        gather,
        loss,
        seed,
    } = at;
    let (sets, _) = sampled_givens(claim, env);
    let mut held = Vec::new();
    let budget = steps.part(includes::ELSEWHERE_STEPS);
    let mut skipped = 0;
    for (point, _) in with_moments::other_points(claim, program, env) {
        if budget.left() == 0 {
            skipped += 1;
            continue;
        }
        let (shown, values) = point_values(&point);
        let setup = |m: &mut crate::num::Machine| {
            at_point(m, (program, env), &values, &sets)?;
            m.max_steps = m.max_steps.min(budget.left());
            Ok(())
        };
        let run = match crate::num::gradcheck::run_model_with(
            program, env, scatter, loss, seed, &setup,
        ) {
            Ok(run) => run,
            // A run past the budget ends the points; one that cannot be made skips this one.
            Err(e) if e.too_large => {
                budget.charge(u64::MAX);
                skipped += 1;
                continue;
            }
            Err(_) => continue,
        };
        budget.charge(run.machine.steps());
        let decide_with = |items: &[Item], found: &mut Option<includes::Found>| {
            let mut untested = false;
            let o = match includes::Derived::new(items, program, &run, budget.share()) {
                Ok(d) => includes::decide_found(block, &d, seed, found, &mut untested),
                Err(e) => undecided(e),
            };
            (o, untested)
        };
        let mut found = None;
        let (o, untested) = decide_with(scatter, &mut found);
        match (o.verdict, found) {
            (Verdict::Refuted, Some(f)) => {
                let mut again = None;
                let (second, _) = decide_with(gather, &mut again);
                if second.verdict != Verdict::Refuted {
                    held.push(format!(
                        "at {shown} not refuted (against the gather form's statements: {})",
                        second.verdict.as_str()
                    ));
                    continue;
                }
                let mut out = Outcome::new(
                    Verdict::Refuted,
                    Method::Numeric,
                    format!(
                        "at {shown} (it held at the sample values: {}): {}",
                        first.evidence, o.evidence
                    ),
                );
                out.witness = Some(includes_witness(
                    &run.machine.consts,
                    env,
                    &f,
                    seed,
                    &second.evidence,
                ));
                return out;
            }
            (Verdict::Confirmed, _) if !untested => held.push(format!("holds at {shown}")),
            _ if budget.left() == 0 => skipped += 1,
            _ => {}
        }
    }
    if skipped > 0 {
        held.push(format!(
            "not tried at {skipped} other point{}: the runs of one block at other points have a budget of {} element evaluations (claims::includes::ELSEWHERE_STEPS)",
            if skipped == 1 { "" } else { "s" },
            budget.size()
        ));
    }
    if held.is_empty() {
        return first;
    }
    Outcome {
        evidence: format!("{}; {}", first.evidence, held.join("; ")),
        ..first
    }
}

/// The witness of an `includes` block refuted on a sampled run at `f` (the run's sizes
/// and symbols, the element and statement, both contributions), re-checked against the
/// gather form's statements on the same run (`again`: that decision's evidence).
pub(super) fn includes_witness(
    consts: &BTreeMap<String, f64>,
    env: &Env,
    f: &includes::Found,
    seed: u64,
    again: &str,
) -> sym::Witness {
    let (left, right) = crate::verdict::distinct_pair(f.left, f.right, 10);
    sym::Witness::of_run(
        &run_values(consts, env),
        match &f.element {
            Some(e) => format!("{} (`{}`)", e, f.statement),
            None => format!("`{}`", f.statement),
        },
        seed,
        format!("≈ {left}"),
        format!("≈ {right}"),
        format!(
            "the gather form's statements (another derivation of the same gradients) on the same run: {again}"
        ),
    )
}

/// How many more independent runs an inequality between tensor elements that one sampled
/// run confirmed is tried on ([`more_draws`]).
pub(super) const INEQUALITY_DRAWS: u64 = 15;

/// An inequality about values the model draws holds on every draw, not on one (probe40/h
/// m03, snd41: `w_1[0] > 0` of a family `param w_l[J] ~ normal(0, 1)` and `y[0] > 0` of
/// `y[j] = w_1[j] + 1` were confirmed on the one run at seed 0, and each is false on half
/// the draws). A confirmed inequality is run again at [`INEQUALITY_DRAWS`] further seeds
/// (seed + 1001, ...): the first run that refutes it replaces the outcome, its element in
/// `found` and its seed in `seed_used` (so the caller re-checks that run's witness as any
/// other); otherwise the evidence counts the runs that held. An equation is left as it is.
pub(super) fn more_draws(
    op: RelOp,
    o: &mut Outcome,
    found: &mut Option<numeric::Found>,
    seed_used: &mut u64,
    mut draw: impl FnMut(u64, &mut Option<numeric::Found>) -> Option<Outcome>,
) {
    if o.verdict != Verdict::Confirmed || matches!(op, RelOp::Eq | RelOp::Approx) {
        return;
    }
    let mut held = 0;
    for k in 1..=INEQUALITY_DRAWS {
        let s = seed_used.wrapping_add(1000 + k);
        let mut f = None;
        let Some(next) = draw(s, &mut f) else { break };
        match next.verdict {
            Verdict::Refuted => {
                *o = next;
                *found = f;
                *seed_used = s;
                return;
            }
            Verdict::Confirmed => held += 1,
            _ => {}
        }
    }
    if held > 0 {
        o.evidence = format!(
            "{}; holds on {held} more independent runs (seeds {} to {})",
            o.evidence,
            seed_used.wrapping_add(1001),
            seed_used.wrapping_add(1000 + INEQUALITY_DRAWS)
        );
    }
}
