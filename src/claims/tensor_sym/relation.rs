//! Relations between tensor elements (`==`, `<=`, ...): the free indices of the claim, the
//! symbolic proof (identity, non-negativity certificate, term by term over sums), and
//! which cross-check confirms or refutes what is not proved.

use super::exact::{exact_check, Exact, SharedSides};
use super::givens::{fact_expr, lower_side, lowerer, read_givens, Givens};
use super::sampled::sampled_with_tensor_givens;
use super::scaling::gradient_scaling;
use super::{has_moment, non_bernoulli_random, und};
use crate::analysis::Analysis;
use crate::check::Env;
use crate::claims::elements::{extreme_facts, nonneg_certificate, Fact};
use crate::claims::Options;
use crate::claims::Verdict;
use crate::claims::{Method, Outcome, ProofRule};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, IndexExpr, Program, RelOp};
use num_bigint::BigInt;
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};

/// Free lower-case indices of the claim (not bound by its explicit sums): those of its
/// relation and those of its givens that the relation also has. An index that only a
/// given names (`sum_{j}(y[b,j]) == ... given g[j] = 1`) is no element of the claim: the
/// given holds for each of its values ([`given_only_indices`]).
pub(super) fn free_indices(claim: &ast::Claim, env: &Env) -> Vec<String> {
    let body = indices_of(&[&claim.body], env);
    let mut out = indices_of(
        &std::iter::once(&claim.body)
            .chain(&claim.given)
            .collect::<Vec<_>>(),
        env,
    );
    let only = given_only_indices(claim, env);
    out.retain(|n| body.contains(n) || !only.contains(n));
    out
}

/// The indices the claim's relation itself names (not its givens).
pub(super) fn body_indices(claim: &ast::Claim, env: &Env) -> Vec<String> {
    indices_of(&[&claim.body], env)
}

/// The indices a claim's element givens name that its relation does not (free in the
/// givens, absent from the relation): such a given holds at every value of them, so
/// `g[j] = 1` with j summed in the relation sets every element of g (session 29: the
/// given was kept for one j only, and a true layer-norm claim was refuted with a witness
/// where g[0] = -6/5).
pub(super) fn given_only_indices(claim: &ast::Claim, env: &Env) -> BTreeSet<String> {
    let body = indices_of(&[&claim.body], env);
    let elements: Vec<&ast::Expr> = claim
        .given
        .iter()
        .filter(|g| {
            matches!(g, ast::Expr::Rel(RelOp::Eq, l, _, _)
                if matches!(&**l, ast::Expr::Ref(r) if r.indices.is_some() && !r.grad))
        })
        .collect();
    indices_of(&elements, env)
        .into_iter()
        .filter(|n| !body.contains(n))
        .collect()
}

/// Free lower-case indices of `all` (not bound by their explicit sums).
fn indices_of(all: &[&ast::Expr], env: &Env) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut bound: Vec<String> = Vec::new();
    for e in all {
        crate::syntax::visit::sum_ids(e, &mut bound);
        crate::check::walk_refs(e, &mut |r| {
            for ix in r.indices.iter().flatten() {
                if let IndexExpr::Affine(a) = ix {
                    for t in &a.terms {
                        for f in &t.factors {
                            let n = &f.name;
                            if n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                                && env.index_size(n).is_some()
                                && !out.contains(n)
                            {
                                out.push(n.clone());
                            }
                        }
                    }
                }
            }
        });
    }
    out.retain(|n| !bound.contains(n));
    out
}

pub(super) fn relation(
    op: RelOp,
    l: &ast::Expr,
    r: &ast::Expr,
    claim: &ast::Claim,
    a: &Analysis,
    opts: &Options,
    shared: &std::cell::RefCell<SharedSides>,
) -> Option<Outcome> {
    let (program, env) = (a.program, a.env);
    let analysis = a;
    let g = match read_givens(&claim.given, env) {
        Ok(mut g) => {
            g.every = given_only_indices(claim, env);
            g
        }
        Err(_) => return None,
    };
    let moment = has_moment(&claim.body);
    // The gradient under a scaling given (`U.grad == W.grad / c given U = c W`).
    if !g.tensor.is_empty() {
        if let Some(proof) = gradient_scaling(l, r, &g, a) {
            return Some(match proof {
                Ok(text) => {
                    let numeric = if opts.no_numeric {
                        None
                    } else {
                        Some(sampled_with_tensor_givens(claim, a, &g, opts, "—"))
                    };
                    match numeric {
                        Some(n) if n.verdict == Verdict::Refuted => Outcome::new(
                            Verdict::Undecided,
                            Method::None,
                            format!(
                                "the symbolic argument ({text}) and the sampled run disagree: {}",
                                n.evidence
                            ),
                        ),
                        Some(n) if n.verdict == Verdict::Confirmed => Outcome::proved(
                            ProofRule::TensorSymbolic,
                            Method::Symbolic,
                            format!(
                                "{text}; on a sampled run with the givens applied: {}",
                                n.evidence.split(", with ").next().unwrap_or("")
                            ),
                        ),
                        _ => Outcome::proved(ProofRule::TensorSymbolic, Method::Symbolic, text),
                    }
                }
                Err(why) => {
                    if opts.no_numeric {
                        und(format!(
                            "not proved symbolically ({why}); numeric runs are turned off"
                        ))
                    } else {
                        sampled_with_tensor_givens(claim, a, &g, opts, &why)
                    }
                }
            });
        }
    }
    // Moments of models with non-Bernoulli random elements belong to other engines.
    let random = non_bernoulli_random(program, env);
    // The sides with the definedness conditions of what they divide by, take the log
    // of or take a root of (`g[n] / g[n]` folds to 1 but is undefined at g[n] = 0).
    // Gradients are written out from the derived backward program for identities and
    // inequalities between elements (not for moments, nor under whole-tensor givens).
    let gather = (!moment && g.tensor.is_empty()).then(|| a.gather());
    let mut used_grads = false;
    let (lowered, conditions) = sym::collecting(|| {
        (|| -> Result<Lowered, String> {
            let (mut lw, syms) = lowerer(program, env, &g, None, &BTreeMap::new(), gather)?;
            let bind = BTreeMap::new();
            let (a, b) = (
                lower_side(&mut lw, l, &bind, &syms)?,
                lower_side(&mut lw, r, &bind, &syms)?,
            );
            let mut facts = Vec::new();
            for f in &g.facts {
                if let Some(x) = fact_expr(&mut lw, f, &syms, &bind)? {
                    facts.push(x);
                }
            }
            used_grads = lw.used_grads;
            // A mask element is 0 or 1, so its positive whole powers are itself.
            let masks: Vec<String> = lw.bernoulli_tensors().cloned().collect();
            let (a, b) = if masks.is_empty() || moment {
                (a, b)
            } else {
                (
                    idempotent(&sym::expand(&a), &masks),
                    idempotent(&sym::expand(&b), &masks),
                )
            };
            Ok((a, b, facts, std::mem::take(&mut lw.sums)))
        })()
    });
    let (a, b, facts, sums) = match lowered {
        Ok(x) => x,
        Err(e) => {
            // Whole-tensor givens are beyond the other engines: decide on a sampled run.
            if !g.tensor.is_empty() {
                if opts.no_numeric {
                    return Some(und(format!(
                        "not written out symbolically ({e}); numeric runs are turned off"
                    )));
                }
                return Some(sampled_with_tensor_givens(claim, a, &g, opts, &e));
            }
            return None;
        }
    };
    if moment {
        let syms: BTreeSet<String> = a.free_symbols().union(&b.free_symbols()).cloned().collect();
        if syms.iter().any(|s| {
            random.iter().any(|t| {
                let scalar = env.tensors.get(t).is_none_or(|x| x.rank == 0);
                crate::claims::elements::mentions_leaf(s, t, scalar)
            })
        }) {
            return None;
        }
    }
    let proof: Option<String> = match op {
        RelOp::Eq if sym::identical(&a, &b) => Some(
            "both sides written out in the leaf elements (sums taken apart by linearity, expectations over the Bernoulli elements exact) agree as rational functions"
                .into(),
        ),
        RelOp::Ge | RelOp::Le | RelOp::Gt | RelOp::Lt => {
            let strict = matches!(op, RelOp::Gt | RelOp::Lt);
            let d = if matches!(op, RelOp::Ge | RelOp::Gt) { a.clone() - b.clone() } else { b.clone() - a.clone() };
            let termwise = termwise(l, r, op, program, env, &g);
            match termwise {
                Some(w) if !strict => Some(w),
                _ if strict => None,
                _ => {
                    let mut fs = facts.clone();
                    fs.extend(extreme_facts(&[&a, &b]));
                    nonneg_certificate(&d, &fs).map(|sub| certificate_text(&sub))
                }
            }
        }
        _ => None,
    };
    // Only a claim defined on the domains is proved (docs/soundness.md, "Definedness"):
    // a condition the range facts do not show withholds the proof.
    let mut conditions = conditions;
    conditions_of_sides(&a, &b, &mut conditions);
    // Conditions on the elements (`g[n] ≠ 0`, also inside a sum: `g[⟨1⟩] ≠ 0`) and on
    // sums taken as one atom (a batch's standard deviation) withhold the proof unless the
    // range facts show them; a sum of non-negative terms is known to be non-negative
    // (round 5). Conditions on the moments engine's placeholders (`#`) are not judged here.
    // A condition that a setting of the givens turns into a constant that fails (`r ≠ 0`
    // `given r = 0`) makes the claim undefined wherever its givens hold (probe33/a a05: it
    // was proved, the written-out sides cancelling `r / r` before the setting was put in).
    let bounds = given_bounds(&g);
    if let Some(c) = failing_constant(&conditions, &bounds) {
        return Some(und(format!(
            "the claim is undefined wherever its givens hold: `{c}` fails there (undefined is never proved and never confirmed)"
        )));
    }
    let open: Vec<String> = undischarged(&conditions, env, &sums, &bounds)
        .into_iter()
        .filter(|c| !c.contains('#'))
        .collect();
    let (proof, withheld) = match (proof, open.is_empty()) {
        (Some(_), false) => {
            let what = open
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                None,
                format!(
                    " (the written-out sides agree, but tq cannot show that they are defined for every value of the elements, which range over every real: {what} may fail)"
                ),
            )
        }
        (p, _) => (p, String::new()),
    };
    // The exact check at random points, with the sums written out at the sample sizes.
    let check = exact_check(
        op,
        claim,
        (program, env),
        &g,
        opts.seed,
        gather,
        Some(shared),
    );
    // A condition over the sizes alone that fails at small sizes (`I - 1 ≠ 0` at I = 1)
    // where the exact check did not reach them (a model with loops has no least sizes):
    // undefined there, so not confirmed (session 33). Only for a claim without givens,
    // which could exclude those sizes.
    if claim.given.is_empty() && matches!(check, Ok(Exact::Agrees { .. })) {
        if let Some(why) = undefined_at_small_sizes(&conditions, env) {
            return Some(und(why));
        }
    }
    // snd42: the equal-elements point over every size (`exact/equal.rs`), for a claim
    // not proved: a refutation there, re-checked on the interpreter's run, is the claim's
    // (also where the exact check's failure found no second path: this one has its own).
    if proof.is_none()
        && !moment
        && !used_grads
        && matches!(
            check,
            Ok(Exact::Agrees { .. }) | Ok(Exact::Unconfirmed(_)) | Err(_)
        )
    {
        if let Some(o) = super::exact::equal::equal_elements(op, claim, (program, env), &g, opts) {
            return Some(o);
        }
    }
    let proof = proof.map(|p| {
        if used_grads {
            format!("{p}, with each gradient written out from the derived backward program (gather form; reverse mode, checked by finite differences in the file's gradient check)")
        } else {
            p
        }
    });
    Some(match (proof, check) {
        // A gradient claim the exact check refutes is refuted by the sampled run instead,
        // whose witness (element, point, seed, both sides) is re-checked on the gather
        // form (docs/soundness.md, "Witnesses").
        // A point the sampled run does not reach (a kink: relu'(0)) is re-checked on
        // the interpreter's run at that very point instead.
        // (also at the simple points: `a.grad[i] == m.grad[i] (2 [a[i] >= z[i]] - 1)` of
        // `m = abs(a - z)` fails at the tie where every element is 1).
        (_, Ok(Exact::Refuted(cx, w, true))) if used_grads => {
            return super::sampled::rerun_at_witness(claim, analysis, (&cx, &w), opts)
        }
        (_, Ok(Exact::Refuted(..))) if used_grads => return None,
        (_, Ok(Exact::Unconfirmed(_))) if used_grads => return None,
        (_, Ok(Exact::Unconfirmed(why))) => und(why),
        // Undefined at a size the claim is about: not confirmed, also for a gradient
        // claim (the sampled run at the sample sizes would confirm it).
        (_, Ok(Exact::Undefined(why))) => und(why),
        (_, Ok(Exact::Refuted(cx, w, _))) => {
            let mut o = Outcome::new(Verdict::Refuted, Method::ExactEval, cx);
            o.witness = Some(w);
            o
        }
        (Some(p), Ok(Exact::Agrees { points: n, floating: fl, sizes })) => Outcome::proved(
            ProofRule::TensorSymbolic,
            Method::Symbolic,
            format!("{p}; evaluation at {n} random points with the sums written out at {sizes} agrees ({})", exactness(fl)),
        ),
        (Some(p), Err(why)) => Outcome::proved(
            ProofRule::TensorSymbolic,
            Method::Symbolic,
            format!("{p}; (no exact check: {why})"),
        ),
        // Confirmed at those sizes only: `A[t,t'] < 1` of a softmax holds at the sample's
        // T = 4 and fails at T = 1 (probe 27), so the evidence names the sizes tested.
        (None, Ok(Exact::Agrees { points: n, floating: fl, sizes })) => Outcome::new(
            Verdict::Confirmed,
            Method::RandomPoints,
            format!("holds at {n} random points with the sums written out at {sizes} ({}); not proved symbolically, and not tested at other sizes{withheld}", exactness(fl)),
        ),
        (None, Err(why)) => {
            // Gradients were decided by the sampled run before they could be written
            // out: without a proof or an exact check, they still are.
            if used_grads {
                return None;
            }
            if !withheld.is_empty() {
                return Some(und(format!("{why}{withheld}")));
            }
            if g.tensor.is_empty() {
                return None;
            }
            und(why)
        }
    })
}

/// Both sides written out, the givens' facts, and the sums taken apart (summand, sum).
type Lowered = (Expr, Expr, Vec<Fact>, Vec<(Expr, Expr)>);

/// The conditions still visible in the normal forms of the sides, added to those
/// collected while lowering.
pub(super) fn conditions_of_sides(a: &Expr, b: &Expr, out: &mut Vec<sym::Condition>) {
    let mut all: BTreeSet<sym::Condition> = out.drain(..).collect();
    sym::defined::conditions_of(a, &mut all);
    sym::defined::conditions_of(b, &mut all);
    out.extend(all);
}

/// The bounds the claim's givens put on its symbols, to be judged with the domains: a
/// relation between two sides that lower to a name and a number (`given c < 0`), and a
/// setting to a number (`given r = 0`). Other givens bound nothing here (a condition
/// they would discharge stays open: the proof is withheld, never granted).
pub(super) fn given_bounds(g: &Givens) -> Vec<(Expr, sym::Rel, Expr)> {
    let low = |e: &ast::Expr| {
        crate::claims::scalar::lower(e, &crate::claims::scalar::Scope::default()).ok()
    };
    let mut out = Vec::new();
    for (l, op, r) in &g.facts {
        let rel = match op {
            RelOp::Ge => sym::Rel::Ge,
            RelOp::Gt => sym::Rel::Gt,
            RelOp::Le => sym::Rel::Le,
            RelOp::Lt => sym::Rel::Lt,
            _ => continue,
        };
        if let (Some(a), Some(b)) = (low(l), low(r)) {
            out.push((a, rel, b));
        }
    }
    for (name, value, power) in &g.syms {
        if power.is_none() {
            if let Some(v) = low(value) {
                out.push((Expr::sym(name), sym::Rel::Eq, v));
            }
        }
    }
    out
}

/// `e` with the symbol `name` replaced by `v`.
fn put(e: &Expr, name: &str, v: &Expr) -> Expr {
    match e {
        Expr::Sym(s) if s == name => v.clone(),
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(put(b, name, v), put(x, name, v)),
        Expr::Func(f, x) => Expr::func(*f, put(x, name, v)),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| put(f, name, v)).collect()),
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| put(t, name, v)).collect()),
    }
}

/// A condition with the givens' settings to numbers put in ([`given_bounds`]), for the
/// judgement on the domains.
fn with_settings(c: &sym::Condition, given: &[(Expr, sym::Rel, Expr)]) -> sym::Condition {
    let mut c = c.clone();
    for (l, rel, r) in given {
        if let (Expr::Sym(n), sym::Rel::Eq, Expr::Num(_)) = (l, rel, r) {
            c = c.map(|e| put(e, n, r));
        }
    }
    c
}

/// The first condition that the settings turn into a constant that fails, as text.
fn failing_constant(
    conditions: &[sym::Condition],
    given: &[(Expr, sym::Rel, Expr)],
) -> Option<String> {
    conditions.iter().find_map(|c| {
        let set = with_settings(c, given);
        let e = sym::expand(set.expr());
        let Expr::Num(v) = &e else { return None };
        let holds = match &set {
            sym::Condition::NonZero(_) => !num_traits::Zero::is_zero(v),
            sym::Condition::Positive(_) => num_traits::Signed::is_positive(v),
            sym::Condition::NonNegative(_) => !num_traits::Signed::is_negative(v),
            sym::Condition::Power(..) => return None,
        };
        (!holds).then(|| c.to_string())
    })
}

/// The definedness conditions the range facts do not show on the domains, as text:
/// sizes are whole numbers ≥ 1, symbols range over their declared domains (a location
/// or a scalar input over every real, else the positive reals, tq's convention) narrowed
/// by the claim's givens (`given`: [`given_bounds`]; probe33/a a03, a05: `z[i] y[i] == 1`
/// with `y = x^2 + c` was proved `given c = -1`, and `y2[i] r == x[i]` with `y2 = x / r`
/// `given r = 0`), and every other atom — a tensor element, a sum taken as one atom —
/// over every real.
pub(super) fn undischarged(
    conditions: &[sym::Condition],
    env: &Env,
    sums: &[(Expr, Expr)],
    given: &[(Expr, sym::Rel, Expr)],
) -> Vec<String> {
    // The sums whose every term is non-negative (positive): their written-out forms
    // stand for a fresh symbol ≥ 0 (> 0: a size is at least 1) in the conditions.
    let mut known: Vec<(Expr, bool)> = Vec::new();
    for (summand, total) in sums {
        let names: BTreeSet<String> = summand.free_symbols();
        let dom = element_domains(&names, env);
        let r = sym::defined::range(summand, &dom);
        if r.lo_above_zero(false) && !known.iter().any(|(t, _)| t == total) {
            known.push((sym::expand(total), r.lo_above_zero(true)));
        }
    }
    conditions
        .iter()
        .filter(|c| {
            let relaxed = with_settings(c, given).map(|e| relax(e, &known, 0));
            let mut names: BTreeSet<String> = relaxed.expr().free_symbols();
            if let sym::Condition::Power(_, x) = &relaxed {
                names.extend(x.free_symbols());
            }
            let mut dom = element_domains(&names, env);
            for (l, rel, r) in given {
                dom.assume(l, rel, r);
            }
            for (k, (_, strict)) in known.iter().enumerate() {
                let z = Expr::sym(&sum_symbol(k));
                let rel = if *strict { sym::Rel::Gt } else { sym::Rel::Ge };
                dom.real.insert(sum_symbol(k));
                dom.assume(&z, &rel, &Expr::zero());
            }
            !sym::defined::condition_holds(&relaxed, &dom)
        })
        .map(|c| c.to_string())
        .collect()
}

/// The fresh symbol that stands for the `k`-th non-negative sum (no name a file can write).
fn sum_symbol(k: usize) -> String {
    format!("Σ≥0#{k}")
}

/// `e` with every sum of atoms that is a multiple of a known non-negative sum `R`
/// (`α R + rest`, α free of sum atoms) written `α Z + rest`, Z the sum's fresh symbol:
/// equal to `e` at Z = R, so a range of the result with Z ≥ 0 holds for `e`.
fn relax(e: &Expr, known: &[(Expr, bool)], depth: usize) -> Expr {
    if known.is_empty() || depth > 8 {
        return e.clone();
    }
    if matches!(e, Expr::Sym(_) | Expr::Mul(_) | Expr::Add(_))
        && e.free_symbols().iter().any(|s| s.contains('·'))
    {
        let ex = sym::expand(e);
        for (k, (r, _)) in known.iter().enumerate() {
            if let Some((alpha, rest)) = multiple_of(&ex, r) {
                let z = Expr::sym(&sum_symbol(k));
                return alpha * z + relax(&rest, known, depth + 1);
            }
        }
    }
    match e {
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(relax(b, known, depth + 1), (**x).clone()),
        Expr::Func(f, x) => Expr::func(*f, relax(x, known, depth + 1)),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|f| relax(f, known, depth + 1)).collect()),
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| relax(t, known, depth + 1)).collect()),
    }
}

/// `e = α r + rest` with α free of sum atoms and `rest` smaller than `e`.
fn multiple_of(e: &Expr, r: &Expr) -> Option<(Expr, Expr)> {
    let terms = |x: &Expr| match x {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    let first = terms(r).into_iter().next()?;
    if first.is_zero() {
        return None;
    }
    let size = crate::claims::elements::node_count(e);
    for t in terms(e).into_iter().take(64) {
        let alpha = sym::expand(&(t / first.clone()));
        if alpha.is_zero() || alpha.free_symbols().iter().any(|s| s.contains('·')) {
            continue;
        }
        let rest = sym::expand(&(e.clone() - alpha.clone() * r.clone()));
        if rest.is_zero() || crate::claims::elements::node_count(&rest) < size {
            return Some((alpha, rest));
        }
    }
    None
}

/// The domains of the names of a condition: sizes whole numbers ≥ 1, symbols their
/// declared domains (else positive), every other atom any real.
fn element_domains(names: &BTreeSet<String>, env: &Env) -> sym::Domains {
    let mut dom = sym::Domains::default();
    for n in names {
        if env.sizes.contains_key(n) {
            dom.integers.insert(n.clone());
        } else if let Some(d) = env.domains.get(n) {
            if d.integer {
                dom.integers.insert(n.clone());
            } else if d.lo.is_some() || env.signed.contains(n) || env.scalars.contains_key(n) {
                dom.real.insert(n.clone());
            }
            let x = Expr::sym(n);
            if let Some((v, open)) = &d.lo {
                let r = if *open { sym::Rel::Gt } else { sym::Rel::Ge };
                dom.assume(&x, &r, &Expr::num(v.clone()));
            }
            if let Some((v, open)) = &d.hi {
                let r = if *open { sym::Rel::Lt } else { sym::Rel::Le };
                dom.assume(&x, &r, &Expr::num(v.clone()));
            }
        } else if env.symbols.contains_key(n)
            && !env.signed.contains(n)
            && !env.scalars.contains_key(n)
        {
            dom.positive.insert(n.clone());
        } else {
            dom.real.insert(n.clone());
        }
    }
    dom
}

fn exactness(floating: bool) -> &'static str {
    if floating {
        "in floating point where a square root is irrational, else exactly"
    } else {
        "exactly"
    }
}

fn certificate_text(sub: &[(String, Expr)]) -> String {
    let shown: Vec<String> = sub
        .iter()
        .map(|(n, v)| format!("{n} = {}", sym::to_ascii(&crate::claims::rules::present(v))))
        .collect();
    format!(
        "the difference of the two sides is a polynomial with non-negative coefficients in non-negative slacks s_k (the givens and min ≤ element ≤ max), after {}",
        shown.join(", ")
    )
}

/// `sum_{i}(f) >= sum_{i}(h)` proved term by term: `f >= h` at a generic `i`.
fn termwise(
    l: &ast::Expr,
    r: &ast::Expr,
    op: RelOp,
    program: &Program,
    env: &Env,
    g: &Givens,
) -> Option<String> {
    let (ast::Expr::Sum(i1, f, _), ast::Expr::Sum(i2, h, _)) = (l, r) else {
        return None;
    };
    let n1: Vec<&str> = i1.iter().map(|i| i.name.as_str()).collect();
    let n2: Vec<&str> = i2.iter().map(|i| i.name.as_str()).collect();
    if n1 != n2 {
        return None;
    }
    let (mut lw, syms) = lowerer(program, env, g, None, &BTreeMap::new(), None).ok()?;
    let bind = BTreeMap::new();
    let a = lower_side(&mut lw, f, &bind, &syms).ok()?;
    let b = lower_side(&mut lw, h, &bind, &syms).ok()?;
    let mut facts = Vec::new();
    for x in &g.facts {
        facts.push(fact_expr(&mut lw, x, &syms, &bind).ok()??);
    }
    facts.extend(extreme_facts(&[&a, &b]));
    let d = if matches!(op, RelOp::Ge | RelOp::Gt) {
        a - b
    } else {
        b - a
    };
    let sub = nonneg_certificate(&d, &facts)?;
    Some(format!(
        "term by term over {}: {}",
        n1.join(","),
        certificate_text(&sub)
    ))
}

pub(super) fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

pub(super) fn holds(op: RelOp, a: &BigRational, b: &BigRational) -> bool {
    match op {
        RelOp::Eq | RelOp::Approx => a == b,
        RelOp::Le => a <= b,
        RelOp::Ge => a >= b,
        RelOp::Lt => a < b,
        RelOp::Gt => a > b,
    }
}

/// `e` with every positive whole power of an element of a Bernoulli tensor (`u[i]^2`)
/// replaced by the element: true on the mask's values 0 and 1.
fn idempotent(e: &Expr, masks: &[String]) -> Expr {
    // A scalar mask (`input mk ~ bernoulli(p)`) is its own symbol.
    let is_mask = |x: &Expr| match x {
        Expr::Sym(n) => n
            .split_once('[')
            .map_or(masks.iter().any(|m| m == n), |(t, _)| {
                masks.iter().any(|m| m == t)
            }),
        _ => false,
    };
    match e {
        Expr::Pow(base, exp) => {
            let whole_positive = exp
                .as_num()
                .is_some_and(|k| k.is_integer() && *k > BigRational::from_integer(0.into()));
            if whole_positive && is_mask(base) {
                return (**base).clone();
            }
            Expr::pow(idempotent(base, masks), idempotent(exp, masks))
        }
        Expr::Func(f, x) => Expr::func(*f, idempotent(x, masks)),
        Expr::Mul(fs) => fs
            .iter()
            .map(|f| idempotent(f, masks))
            .fold(Expr::one(), |acc, f| acc * f),
        Expr::Add(ts) => ts
            .iter()
            .map(|t| idempotent(t, masks))
            .fold(Expr::zero(), |acc, t| acc + t),
        _ => e.clone(),
    }
}

/// A condition that reads the sizes alone and fails at a point of whole sizes from 1 to
/// 4 (the first found, in the words of the evidence); `None` when none does.
fn undefined_at_small_sizes(conditions: &[sym::Condition], env: &Env) -> Option<String> {
    use num_traits::{Signed, Zero};
    for c in conditions {
        let free: Vec<String> = c.expr().free_symbols().into_iter().collect();
        if free.is_empty() || free.len() > 3 || !free.iter().all(|s| env.sizes.contains_key(s)) {
            continue;
        }
        let combos = 4usize.pow(free.len() as u32);
        for k in 0..combos {
            let mut pt = BTreeMap::new();
            let mut rest = k;
            for s in &free {
                pt.insert(s.clone(), rat((rest % 4) as i64 + 1, 1));
                rest /= 4;
            }
            let Ok(v) = sym::eval_exact(c.expr(), &pt) else {
                continue;
            };
            let fails = match c {
                sym::Condition::NonZero(_) => v.is_zero(),
                sym::Condition::Positive(_) => !v.is_positive(),
                sym::Condition::NonNegative(_) => v.is_negative(),
                sym::Condition::Power(..) => false,
            };
            if fails {
                let at: Vec<String> = pt.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                return Some(format!(
                    "the claim is undefined at {}: `{c}` fails there for every value of the elements, and undefined is never confirmed (a given on the sizes says which sizes the claim is about)",
                    at.join(", ")
                ));
            }
        }
    }
    None
}
