//! Claims about moments (`Var(L_l) == (1 + D^2 J sigma_W^2)^l`, `E[u] == 1/2`) decided by
//! Monte Carlo: the program is run in independent trials, each with freshly sampled
//! weights and inputs; every moment is estimated from the trial means, and the claim's
//! left − right gets a standard error from the trials (delta method). A claim is refuted
//! only when the estimate lies beyond z standard errors, z chosen so that a true claim is
//! refuted with probability below 1e−6 (split over the layers or steps tested); otherwise
//! it is `confirmed` (method monte-carlo) — or stays `undecided` when a distribution given
//! only by its moments or symmetry had to be stood in for by a normal (one instance can
//! refute a claim about all such distributions, never confirm it).

use super::scalar::{self, Scope};
use super::Verdict;
use crate::check::Env;
use crate::num::gradcheck::{run_model_with, Setup};
use crate::num::{Bind, Machine, NumError, Store};
use crate::sym::Expr;
use crate::syntax::ast::{
    self as ast, Claim, IndexExpr, Item, ItemKind, Name, Program, Ref, RelOp,
};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet};

/// Element evaluations the trials of one setting may use.
pub const BUDGET: u64 = 10_000_000;
/// Element evaluations all the Monte Carlo runs of one file may use together.
pub const FILE_BUDGET: u64 = 20_000_000;
/// Trials at most, and at least (fewer than this and the claim stays undecided).
pub const MAX_TRIALS: usize = 400;
pub const MIN_TRIALS: usize = 40;
/// The probability of refuting a true claim.
pub const FALSE_REFUTATION: f64 = 1e-6;

type Outcome = (Verdict, String, String);

fn und(why: impl Into<String>) -> Outcome {
    (Verdict::Undecided, "none".into(), why.into())
}

/// erfc with fractional error below 1.2e-7 (Numerical Recipes' erfcc).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The z with P(|N(0,1)| > z) = p.
pub fn z_for(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid / std::f64::consts::SQRT_2) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One moment the claim mentions.
#[derive(Clone, Debug)]
struct Moment {
    var: bool,
    target: Ref,
}

/// Replaces `Var(T)` and `E[T]` by symbols `mc_k`; other calls that cannot be estimated
/// are reported.
fn extract(e: &ast::Expr, out: &mut Vec<Moment>) -> Result<ast::Expr, String> {
    Ok(match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Var" | "E") => {
            let [ast::Expr::Ref(r)] = c.args.as_slice() else {
                return Err(format!(
                    "`{}` of an expression is not estimated yet",
                    c.func.name
                ));
            };
            out.push(Moment {
                var: c.func.name == "Var",
                target: r.clone(),
            });
            ast::Expr::Ref(Ref {
                name: Name {
                    base: format!("mc_{}", out.len() - 1),
                    primes: 0,
                    sup: vec![],
                    sub: vec![],
                    span: c.span,
                },
                grad: false,
                indices: None,
                span: c.span,
            })
        }
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "Cov" | "solve" | "sup") => {
            return Err(format!(
                "`{}(...)` is not estimated by Monte Carlo yet",
                c.func.name
            ))
        }
        ast::Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c
                .args
                .iter()
                .map(|a| extract(a, out))
                .collect::<Result<_, _>>()?;
            ast::Expr::Call(c)
        }
        ast::Expr::Unary(op, x, s) => ast::Expr::Unary(*op, Box::new(extract(x, out)?), *s),
        ast::Expr::Binary(op, l, r, s) => ast::Expr::Binary(
            *op,
            Box::new(extract(l, out)?),
            Box::new(extract(r, out)?),
            *s,
        ),
        ast::Expr::Sum(..) => return Err("sums of moments are not estimated yet".into()),
        other => other.clone(),
    })
}

/// Trial means of x and x² over the elements of a moment's tensor (fixed indices fixed,
/// free indices pooled), for every trial.
fn means(m0: &mut Machine, stores: &[Store], target: &Ref, b: &Bind) -> Option<Vec<(f64, f64)>> {
    let probe = ast::Expr::Ref(Ref {
        indices: None,
        ..target.clone()
    });
    if !m0.all_exist(&probe, b) {
        return None;
    }
    let member = m0.member_of(&target.name, b).ok()?;
    let fixed: Vec<Option<i64>> = target
        .indices
        .iter()
        .flatten()
        .map(|ix| match ix {
            IndexExpr::Affine(a) if a.terms.is_empty() => Some(a.constant),
            _ => None,
        })
        .collect();
    let key = (member, target.grad);
    let mut out = Vec::with_capacity(stores.len());
    for store in stores {
        let vals = store.get(&key)?;
        let (mut n, mut s1, mut s2) = (0usize, 0.0, 0.0);
        for (pos, v) in vals {
            if fixed
                .iter()
                .zip(pos)
                .all(|(f, p)| f.is_none_or(|f| f == *p))
            {
                n += 1;
                s1 += v;
                s2 += v * v;
            }
        }
        if n == 0 {
            return None;
        }
        out.push((s1 / n as f64, s2 / n as f64));
    }
    Some(out)
}

/// Independent trials of one setting (sizes, symbols, boundary): the values of the
/// tensors whose moments the file's claims mention, per trial.
pub struct Trials<'a> {
    first: Machine<'a>,
    stores: Vec<Store>,
    stood_in: bool,
}

/// The family keys of every tensor whose moments a claim of the program mentions.
pub fn moment_keys(program: &Program, env: &Env) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(items: &[Item], env: &Env, out: &mut BTreeSet<String>) {
        for it in items {
            match &it.kind {
                ItemKind::Claim(c) => {
                    let mut ms = Vec::new();
                    if let ast::Expr::Rel(_, l, r, _) = &c.body {
                        let _ = extract(l, &mut ms);
                        let _ = extract(r, &mut ms);
                    }
                    out.extend(ms.iter().map(|m| env.key_of(&m.target.name)));
                }
                ItemKind::Loop(l) => walk(&l.body, env, out),
                _ => {}
            }
        }
    }
    walk(&program.items, env, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn run_trials<'a>(
    program: &Program,
    env: &'a Env,
    back: &[Item],
    loss: Option<&str>,
    seed: u64,
    setup: Setup,
    keys: &BTreeSet<String>,
    budget: &mut u64,
) -> Result<Trials<'a>, String> {
    let mut stores = Vec::new();
    let mut first = None;
    let mut n_trials = MAX_TRIALS;
    let mut k = 0;
    while k < n_trials {
        let run = run_model_with(
            program,
            env,
            back,
            loss,
            seed.wrapping_add(1_000_003).wrapping_add(k as u64),
            setup,
        )
        .map_err(|e| format!("the model cannot be run: {}", e.message))?;
        let m = run.machine;
        if k == 0 {
            let steps = m.steps().max(1);
            let allowed = BUDGET.min(*budget);
            n_trials = ((allowed / steps) as usize).min(MAX_TRIALS);
            if n_trials < MIN_TRIALS {
                *budget = budget.saturating_sub(steps);
                return Err(format!(
                    "one trial needs {steps} element evaluations; {MIN_TRIALS} trials exceed the Monte Carlo budget left ({allowed} of {BUDGET} per setting, {FILE_BUDGET} per file; use smaller sizes)"
                ));
            }
            *budget = budget.saturating_sub(steps.saturating_mul(n_trials as u64));
        }
        let store: Store = m
            .vals
            .iter()
            .filter(|((member, _), _)| {
                let key = member.split_once("_{").map_or(member.as_str(), |(k, _)| k);
                keys.contains(key) || keys.contains(member)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        stores.push(store);
        if k == 0 {
            first = Some(m);
        }
        k += 1;
    }
    let first = first.ok_or("no trial ran")?;
    Ok(Trials {
        stood_in: first.stood_in,
        first,
        stores,
    })
}

/// The values a claim's givens set (`X == 8`, `sigma_W^2 == ...` as sigma_W), numbers
/// first, then those computed from them; an error for a given that sets nothing.
pub fn given_values(claim: &Claim) -> Result<Vec<(String, Expr)>, String> {
    let mut sets: Vec<(String, Expr)> = Vec::new();
    for g in &claim.given {
        let ast::Expr::Rel(RelOp::Eq, gl, gr, _) = g else {
            return Err(format!(
                "the given `{}` is not a value to set",
                print_expr(g)
            ));
        };
        let (Ok(a), Ok(b)) = (
            scalar::lower(gl, &Scope::default()),
            scalar::lower(gr, &Scope::default()),
        ) else {
            return Err(format!("the given `{}` cannot be read", print_expr(g)));
        };
        match &a {
            Expr::Sym(n) => sets.push((n.clone(), b)),
            Expr::Pow(base, e) if matches!(**base, Expr::Sym(_)) && e.as_int().is_some() => {
                let Expr::Sym(n) = &**base else { continue };
                sets.push((
                    n.clone(),
                    Expr::pow(b, Expr::pow((**e).clone(), Expr::int(-1))),
                ));
            }
            _ => {
                return Err(format!(
                    "the given `{}` is not a value to set",
                    print_expr(g)
                ))
            }
        }
    }
    // The constants the claim sees: the sample line changed by the givens (in order).
    sets.sort_by_key(|(_, v)| !v.free_symbols().is_empty());
    Ok(sets)
}

/// Sets a machine's constants and boundary rule from a claim's givens.
pub fn apply_givens(
    m: &mut Machine,
    env: &Env,
    sets: &[(String, Expr)],
    boundary: Option<ast::Boundary>,
) -> Result<(), NumError> {
    for (n, v) in sets {
        let at: BTreeMap<String, f64> = m.consts.clone().into_iter().collect();
        let x = v.eval_f64(&at).map_err(|e| NumError { message: e })?;
        if env.sizes.contains_key(n) && (x.fract() != 0.0 || !(1.0..=1e6).contains(&x)) {
            return Err(NumError {
                message: format!("size {n} = {x} is not a positive integer"),
            });
        }
        m.consts.insert(n.clone(), x);
    }
    if let Some(bd) = boundary {
        m.boundary = Some(bd);
    }
    Ok(())
}

/// Decides a claim that mentions `Var` or `E`; `None` when it mentions neither.
#[allow(clippy::too_many_arguments)]
pub fn decide<'a>(
    claim: &Claim,
    program: &Program,
    env: &'a Env,
    back: &[Item],
    loss: Option<&str>,
    seed: u64,
    keys: &BTreeSet<String>,
    cache: &mut BTreeMap<String, Result<Trials<'a>, String>>,
    budget: &mut u64,
) -> Option<Outcome> {
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return None;
    };
    let mut moments = Vec::new();
    let (l, r) = match (extract(l, &mut moments), extract(r, &mut moments)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return (!moments.is_empty() || e.contains("Var") || e.contains('E')).then(|| und(e))
        }
    };
    if moments.is_empty() {
        return None;
    }
    let (lhs, rhs) = match (
        scalar::lower(&l, &Scope::default()),
        scalar::lower(&r, &Scope::default()),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Some(und(e)),
    };
    // Givens: sizes and symbols set (`X == 8`, `sigma_W^2 == ...`), a boundary rule.
    let sets = match given_values(claim) {
        Ok(s) => s,
        Err(e) => return Some(und(e)),
    };
    let boundary = claim.boundary;
    let rel = *op;
    let tol = match &claim.tol {
        Some(t) => scalar::lower(t, &Scope::default())
            .ok()
            .and_then(|t| t.eval_f64(&BTreeMap::new()).ok())
            .unwrap_or(0.0),
        // The same default as the exact engines (docs/language.md).
        None => 1e-6,
    };
    let setup = |m: &mut Machine| apply_givens(m, env, &sets, boundary);
    // Loop variables the claim uses: every value of the loop where the tensors exist.
    let used: Vec<ast::Range> = super::program_loops(&program.items)
        .into_iter()
        .filter(|r| super::mentions(&claim.text, &r.var.name))
        .collect();
    // Trials, shared by the claims with the same setting.
    let key = format!(
        "{:?} {:?}",
        claim.given.iter().map(print_expr).collect::<Vec<_>>(),
        boundary
    );
    let trials = match cache
        .entry(key)
        .or_insert_with(|| run_trials(program, env, back, loss, seed, &setup, keys, budget))
    {
        Ok(t) => t,
        Err(e) => return Some(und(e.clone())),
    };
    let mut m0 = trials.first.clone();
    let consts = m0.consts.clone();
    let stood_in = trials.stood_in;
    // Every combination of the used loops' values.
    let mut bindings: Vec<Bind> = vec![vec![]];
    for r in &used {
        let (Ok(lo), Ok(hi)) = (m0.const_expr(&r.from), m0.const_expr(&r.to)) else {
            return Some(und(format!(
                "the range of `{}` is not a constant",
                r.var.name
            )));
        };
        let (lo, hi) = (lo.round() as i64, hi.round() as i64);
        bindings = bindings
            .into_iter()
            .flat_map(|b| {
                (lo..=hi).map(move |v| {
                    let mut b = b.clone();
                    b.push((r.var.name.clone(), v));
                    b
                })
            })
            .collect();
    }
    let nm = moments.len();
    let n_tr = trials.stores.len();
    let n = n_tr as f64;
    let z = z_for(FALSE_REFUTATION / bindings.len().max(1) as f64);
    let mut tested = Vec::new();
    let mut weak = Vec::new();
    for b in bindings.iter() {
        // Means of the trial statistics; skip bindings where a tensor is missing.
        let Some(cols) = moments
            .iter()
            .map(|mo| means(&mut m0, &trials.stores, &mo.target, b))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let mean1: Vec<f64> = cols
            .iter()
            .map(|c| c.iter().map(|x| x.0).sum::<f64>() / n)
            .collect();
        let mean2: Vec<f64> = cols
            .iter()
            .map(|c| c.iter().map(|x| x.1).sum::<f64>() / n)
            .collect();
        let value: Vec<f64> = (0..nm)
            .map(|j| {
                if moments[j].var {
                    mean2[j] - mean1[j] * mean1[j]
                } else {
                    mean1[j]
                }
            })
            .collect();
        let mut at: BTreeMap<String, f64> = consts.clone();
        for (v, x) in b {
            at.insert(v.clone(), *x as f64);
        }
        for (j, v) in value.iter().enumerate() {
            at.insert(format!("mc_{j}"), *v);
        }
        let (Ok(lv), Ok(rv)) = (lhs.eval_f64(&at), rhs.eval_f64(&at)) else {
            return Some(und(
                "the claim's formula cannot be evaluated at the sample values",
            ));
        };
        let f = lhs.clone() - rhs.clone();
        // Delta method: per-trial linearized values of left − right.
        let grads: Vec<f64> = (0..nm)
            .map(|j| f.diff(&format!("mc_{j}")).eval_f64(&at).unwrap_or(f64::NAN))
            .collect();
        let lin: Vec<f64> = (0..n_tr)
            .map(|t| {
                (0..nm)
                    .map(|j| {
                        let (m1, m2) = cols[j][t];
                        grads[j]
                            * if moments[j].var {
                                m2 - 2.0 * mean1[j] * m1
                            } else {
                                m1
                            }
                    })
                    .sum()
            })
            .collect();
        let lm = lin.iter().sum::<f64>() / n;
        let sd = (lin.iter().map(|x| (x - lm) * (x - lm)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        let d = lv - rv;
        if !d.is_finite() || !se.is_finite() {
            return Some(und("the estimate is not finite"));
        }
        let margin = z * se;
        let fails = match rel {
            RelOp::Eq => d.abs() > margin,
            RelOp::Approx => d.abs() > tol + margin,
            RelOp::Le | RelOp::Lt => d > margin,
            RelOp::Ge | RelOp::Gt => d < -margin,
        };
        let at_text: Vec<String> = b.iter().map(|(v, x)| format!("{v} = {x}")).collect();
        let where_ = if at_text.is_empty() {
            String::new()
        } else {
            format!("at {}: ", at_text.join(", "))
        };
        let line = format!("{where_}left {lv:.4}, right {rv:.4}, standard error {se:.2e}");
        if fails {
            return Some((
                Verdict::Refuted,
                "monte-carlo".into(),
                format!(
                    "{line}; left − right = {d:.4} lies beyond {z:.2} standard errors{} ({} independent trials, weights resampled each trial)",
                    if matches!(rel, RelOp::Approx) { format!(" plus the tolerance {tol}") } else { String::new() },
                    n_tr
                ),
            ));
        }
        // Confirmation needs power: the test must resolve 5% of the values compared.
        let scale = lv.abs().max(rv.abs()).max(1e-12);
        let decisive = match rel {
            RelOp::Le | RelOp::Lt => d + margin <= 0.0 || margin <= 0.05 * scale,
            RelOp::Ge | RelOp::Gt => d - margin >= 0.0 || margin <= 0.05 * scale,
            RelOp::Approx => margin <= (0.05 * scale).max(tol),
            RelOp::Eq => margin <= 0.05 * scale,
        };
        if !decisive {
            weak.push(format!(
                "{line} (z × standard error = {margin:.3}, more than 5% of the values)"
            ));
        }
        tested.push(line);
    }
    if tested.is_empty() {
        return Some(und(
            "no layer or step where every tensor of the claim exists",
        ));
    }
    if let Some(w) = weak.first() {
        return Some(und(format!(
            "not refuted, but Monte Carlo with {n_tr} trials is not precise enough to confirm: {w}"
        )));
    }
    let summary = format!(
        "{} ({} independent trials; refuted only beyond {z:.2} standard errors)",
        tested.join("; "),
        n_tr
    );
    if stood_in {
        return Some(und(format!(
            "consistent with Monte Carlo using normal stand-ins for distributions given by moments or symmetry, which does not establish it for all of them: {summary}"
        )));
    }
    Some((Verdict::Confirmed, "monte-carlo".into(), summary))
}
