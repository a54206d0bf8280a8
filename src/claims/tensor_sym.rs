//! Claims about tensor elements decided symbolically at a generic index (`elements.rs`):
//! `invariant(T, x)`, identities such as `BN^{c}[n,j] == BN[n,j] given U = c W, c > 0`,
//! exact expectations over Bernoulli elements (`E(ghat[i]) == g[i]`), and inequalities
//! with a non-negativity certificate. Each proof is cross-checked: by exact evaluation at
//! random rational points with the sums written out at the `sample` sizes, or on a
//! sampled run of the model. What is not proved is confirmed or refuted by those checks,
//! or left to the general engines.

use super::elements::{extreme_facts, mentions_tensor, nonneg_certificate, Fact, Lowerer};
use super::Verdict;
use crate::check::Env;
use crate::claims::Options;
use crate::num::gradcheck::{run_forward_split, run_model_after};
use crate::num::{Machine, NumError};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, DeclKind, IndexExpr, Init, ItemKind, Program, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use num_bigint::BigInt;
use num_rational::BigRational;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

type Outcome = (Verdict, String, String);

fn und(why: impl Into<String>) -> Outcome {
    (Verdict::Undecided, "none".into(), why.into())
}

/// Random points of the exact check.
const POINTS: usize = 8;

/// Whether the expression reads tensor elements, explicit sums or `invariant`.
fn about_elements(e: &ast::Expr) -> bool {
    let mut found = false;
    crate::check::walk_refs(e, &mut |r| {
        if r.indices.is_some() {
            found = true;
        }
    });
    found || print_expr(e).contains("sum_{")
}

/// Tensors whose elements are random with a distribution other than Bernoulli (their
/// moments are the Monte Carlo and moments engines' business).
fn non_bernoulli_random(program: &Program, env: &Env) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for it in &program.items {
        if let ItemKind::Decl(d) = &it.kind {
            if d.kind == DeclKind::Grad {
                continue;
            }
            if let Some(Init::Dist(c)) = &d.init {
                if c.func.name != "bernoulli" {
                    out.insert(env.key_of(&d.target.name));
                }
            }
        }
    }
    out
}

fn has_moment(e: &ast::Expr) -> bool {
    let t = print_expr(e);
    ["E(", "E[", "Var(", "Cov("].iter().any(|p| t.contains(p))
}

/// What the givens say.
#[derive(Default)]
struct Givens {
    tensor: Vec<(String, ast::Expr)>,
    elems: Vec<(String, ast::Expr)>,
    syms: Vec<(String, ast::Expr)>,
    positive: BTreeSet<String>,
    /// Relations kept as facts `lhs - rhs >= 0` (and for the exact check).
    facts: Vec<(ast::Expr, RelOp, ast::Expr)>,
}

fn read_givens(given: &[ast::Expr], env: &Env) -> Result<Givens, String> {
    let mut g = Givens::default();
    for e in given {
        let ast::Expr::Rel(op, l, r, _) = e else {
            return Err(format!("the given `{}` is not a relation", print_expr(e)));
        };
        match (op, &**l) {
            (RelOp::Eq, ast::Expr::Ref(lr)) if !lr.grad => {
                let key = env.key_of(&lr.name);
                let rank = env.tensors.get(&key).map(|t| t.rank);
                match (&lr.indices, rank) {
                    (None, Some(k)) if k > 0 => g.tensor.push((key, (**r).clone())),
                    (Some(ix), Some(_)) => {
                        let texts: Vec<String> =
                            ix.iter().map(crate::syntax::printer::print_index).collect();
                        g.elems
                            .push((format!("{key}[{}]", texts.join(",")), (**r).clone()))
                    }
                    (None, _) => g.syms.push((print_name(&lr.name), (**r).clone())),
                    _ => return Err(format!("the given `{}` is not read", print_expr(e))),
                }
            }
            (RelOp::Gt, ast::Expr::Ref(lr))
                if lr.indices.is_none() && matches!(&**r, ast::Expr::Num(n, _) if n == "0") =>
            {
                g.positive.insert(print_name(&lr.name));
                g.facts.push(((**l).clone(), *op, (**r).clone()));
            }
            (RelOp::Approx, _) => {
                return Err(format!("the given `{}` is approximate", print_expr(e)))
            }
            _ => g.facts.push(((**l).clone(), *op, (**r).clone())),
        }
    }
    Ok(g)
}

/// A lowerer with the givens applied.
fn lowerer<'a>(
    program: &'a Program,
    env: &'a Env,
    g: &Givens,
    unroll: Option<BTreeMap<String, i64>>,
    bind: &BTreeMap<String, String>,
) -> Result<(Lowerer<'a>, Vec<(String, Expr)>), String> {
    let mut lw = Lowerer::new(program, env);
    lw.unroll = unroll;
    lw.positive = g.positive.clone();
    for (k, v) in &g.tensor {
        lw.tensor_subs.insert(k.clone(), v.clone());
    }
    let mut syms = Vec::new();
    for (n, v) in &g.syms {
        let v = lw.lower_terms(v, &BTreeMap::new())?;
        syms.push((n.clone(), v));
    }
    for (n, v) in &g.elems {
        let v = lw.lower_terms(v, bind)?;
        // The element's indices under the binding (`beta[j]` is `beta[0]` at j = 0).
        let key = match n.split_once('[') {
            Some((t, rest)) => {
                let ix: Vec<String> = rest
                    .trim_end_matches(']')
                    .split(',')
                    .map(|i| bind.get(i).cloned().unwrap_or_else(|| i.to_string()))
                    .collect();
                format!("{t}[{}]", ix.join(","))
            }
            None => n.clone(),
        };
        lw.elem_subs.push((key, v));
        lw.clear_cache();
    }
    Ok((lw, syms))
}

fn subs_all(e: &Expr, syms: &[(String, Expr)]) -> Expr {
    syms.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v))
}

/// Lowers `e` at the binding, with the symbol givens substituted.
fn lower_side(
    lw: &mut Lowerer,
    e: &ast::Expr,
    bind: &BTreeMap<String, String>,
    syms: &[(String, Expr)],
) -> Result<Expr, String> {
    Ok(subs_all(&lw.lower_terms(e, bind)?, syms))
}

fn fact_expr(
    lw: &mut Lowerer,
    f: &(ast::Expr, RelOp, ast::Expr),
    syms: &[(String, Expr)],
    bind: &BTreeMap<String, String>,
) -> Result<Option<Fact>, String> {
    let (l, r) = (
        lower_side(lw, &f.0, bind, syms)?,
        lower_side(lw, &f.2, bind, syms)?,
    );
    Ok(match f.1 {
        RelOp::Ge | RelOp::Gt => Some(l - r),
        RelOp::Le | RelOp::Lt => Some(r - l),
        _ => None,
    })
}

/// Decides the claim when it is about tensor elements and this engine can say something.
pub fn decide(claim: &ast::Claim, program: &Program, env: &Env, opts: &Options) -> Option<Outcome> {
    if claim.boundary.is_some() || !claim.at.is_empty() {
        return None;
    }
    match &claim.body {
        ast::Expr::Call(c) if c.func.name == "invariant" => {
            Some(invariant(c, claim, program, env, opts))
        }
        ast::Expr::Rel(op, l, r, _) if about_elements(&claim.body) => {
            relation(*op, l, r, claim, program, env, opts)
        }
        _ => None,
    }
}

/// Free lower-case indices of the claim (not bound by its explicit sums).
fn free_indices(claim: &ast::Claim, env: &Env) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut bound: Vec<String> = Vec::new();
    fn sums(e: &ast::Expr, out: &mut Vec<String>) {
        match e {
            ast::Expr::Sum(ids, x, _) => {
                out.extend(ids.iter().map(|i| i.name.clone()));
                sums(x, out);
            }
            ast::Expr::Unary(_, x, _) | ast::Expr::Iverson(x, _) | ast::Expr::Softmax(_, x, _) => {
                sums(x, out)
            }
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                sums(l, out);
                sums(r, out);
            }
            ast::Expr::Call(c) => c.args.iter().for_each(|a| sums(a, out)),
            _ => {}
        }
    }
    let all: Vec<&ast::Expr> = std::iter::once(&claim.body).chain(&claim.given).collect();
    for e in &all {
        sums(e, &mut bound);
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

fn relation(
    op: RelOp,
    l: &ast::Expr,
    r: &ast::Expr,
    claim: &ast::Claim,
    program: &Program,
    env: &Env,
    opts: &Options,
) -> Option<Outcome> {
    let g = match read_givens(&claim.given, env) {
        Ok(g) => g,
        Err(_) => return None,
    };
    // The gradient under a scaling given (`U.grad == W.grad / c given U = c W`).
    if !g.tensor.is_empty() {
        if let Some(proof) = gradient_scaling(l, r, &g, program, env) {
            return Some(match proof {
                Ok(text) => {
                    let numeric = if opts.no_numeric {
                        None
                    } else {
                        Some(sampled_with_tensor_givens(
                            claim, program, env, &g, opts, "—",
                        ))
                    };
                    match numeric {
                        Some(n) if n.0 == Verdict::Refuted => (
                            Verdict::Undecided,
                            "none".into(),
                            format!(
                                "the symbolic argument ({text}) and the sampled run disagree: {}",
                                n.2
                            ),
                        ),
                        Some(n) if n.0 == Verdict::Confirmed => (
                            Verdict::Proved,
                            "symbolic".into(),
                            format!(
                                "{text}; on a sampled run with the givens applied: {}",
                                n.2.split(", with ").next().unwrap_or("")
                            ),
                        ),
                        _ => (Verdict::Proved, "symbolic".into(), text),
                    }
                }
                Err(why) => {
                    if opts.no_numeric {
                        und(format!(
                            "not proved symbolically ({why}); numeric runs are turned off"
                        ))
                    } else {
                        sampled_with_tensor_givens(claim, program, env, &g, opts, &why)
                    }
                }
            });
        }
    }
    let moment = has_moment(&claim.body);
    // Moments of models with non-Bernoulli random elements belong to other engines.
    let random = non_bernoulli_random(program, env);
    let lowered = (|| -> Result<(Expr, Expr, Vec<Fact>), String> {
        let (mut lw, syms) = lowerer(program, env, &g, None, &BTreeMap::new())?;
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
        Ok((a, b, facts))
    })();
    let (a, b, facts) = match lowered {
        Ok(x) => x,
        Err(e) => {
            // Whole-tensor givens are beyond the other engines: decide on a sampled run.
            if !g.tensor.is_empty() {
                if opts.no_numeric {
                    return Some(und(format!(
                        "not written out symbolically ({e}); numeric runs are turned off"
                    )));
                }
                return Some(sampled_with_tensor_givens(
                    claim, program, env, &g, opts, &e,
                ));
            }
            return None;
        }
    };
    if moment {
        let syms: BTreeSet<String> = a.free_symbols().union(&b.free_symbols()).cloned().collect();
        if syms
            .iter()
            .any(|s| random.iter().any(|t| mentions_tensor(s, t)))
        {
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
    // The exact check at random points, with the sums written out at the sample sizes.
    let check = exact_check(op, claim, program, env, &g, opts.seed);
    Some(match (proof, check) {
        (_, Err(cx)) if cx.starts_with("refuted:") => (
            Verdict::Refuted,
            "exact-eval".into(),
            cx.trim_start_matches("refuted:").trim().to_string(),
        ),
        (Some(p), Ok((n, fl))) => (
            Verdict::Proved,
            "symbolic".into(),
            format!("{p}; evaluation at {n} random points with the sums written out at the sample sizes agrees ({})", exactness(fl)),
        ),
        (Some(p), Err(why)) => (
            Verdict::Proved,
            "symbolic".into(),
            format!("{p}; (no exact check: {why})"),
        ),
        (None, Ok((n, fl))) => (
            Verdict::Confirmed,
            "random-points".into(),
            format!("holds at {n} random points with the sums written out at the sample sizes ({}); not proved symbolically", exactness(fl)),
        ),
        (None, Err(why)) => {
            if g.tensor.is_empty() {
                return None;
            }
            und(why)
        }
    })
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
        .map(|(n, v)| format!("{n} = {}", sym::to_ascii(&super::rules::present(v))))
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
    let (mut lw, syms) = lowerer(program, env, g, None, &BTreeMap::new()).ok()?;
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

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn holds(op: RelOp, a: &BigRational, b: &BigRational) -> bool {
    match op {
        RelOp::Eq | RelOp::Approx => a == b,
        RelOp::Le => a <= b,
        RelOp::Ge => a >= b,
        RelOp::Lt => a < b,
        RelOp::Gt => a > b,
    }
}

/// Exact evaluation at random rational points satisfying the givens, with the sums over
/// the sample sizes written out and every free index run over its range. `Ok((points,
/// whether some comparison was in floating point))`,
/// `Err("refuted: ...")` with a counterexample, or `Err(why not)`.
fn exact_check(
    op: RelOp,
    claim: &ast::Claim,
    program: &Program,
    env: &Env,
    g: &Givens,
    seed: u64,
) -> Result<(usize, bool), String> {
    let ast::Expr::Rel(_, l, r, _) = &claim.body else {
        return Err("not a relation".into());
    };
    let m = Machine::new(program, env).map_err(|e| e.message)?;
    let sizes: BTreeMap<String, i64> = env
        .sizes
        .keys()
        .filter_map(|s| m.consts.get(s).map(|v| (s.clone(), *v as i64)))
        .collect();
    let free = free_indices(claim, env);
    let mut ranges = Vec::new();
    for v in &free {
        let size = env.index_size(v).ok_or("an index without a size")?;
        let n = *sizes.get(&size).ok_or("no sample size")?;
        ranges.push(n);
    }
    let combos: i64 = ranges.iter().product();
    if combos > 16 {
        return Err("too many elements to write out".into());
    }
    let mut sides = Vec::new();
    for k in 0..combos.max(1) {
        let mut bind = BTreeMap::new();
        let mut rest = k;
        for (v, n) in free.iter().zip(&ranges) {
            bind.insert(v.clone(), (rest % n).to_string());
            rest /= n;
        }
        let (mut lw, syms) = lowerer(program, env, g, Some(sizes.clone()), &bind)?;
        let a = lower_side(&mut lw, l, &bind, &syms)?;
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
        let at: Vec<String> = bind.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        sides.push((at.join(", "), a, b, facts));
    }
    // The symbols to draw: leaf elements, parameters; min/max atoms are computed.
    let mut syms_all: BTreeSet<String> = BTreeSet::new();
    for (_, a, b, fs) in &sides {
        syms_all.extend(a.free_symbols());
        syms_all.extend(b.free_symbols());
        for (x, _, y) in fs {
            syms_all.extend(x.free_symbols());
            syms_all.extend(y.free_symbols());
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
        let mut count = 1i64;
        for d in &dims {
            count *= sizes.get(d).copied().unwrap_or(0);
        }
        if dims.len() == 1 {
            for k in 0..count {
                extra.insert(format!("{t}[{k}]"));
            }
        } else {
            return Err("min and max are written out for vectors only".into());
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
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut good = 0;
    let mut floating = false;
    for _ in 0..POINTS * 500 {
        if good == POINTS {
            break;
        }
        let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
        for s in &draw_syms {
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
            } else if s.contains('[') {
                rat(rng.random_range(-40..=40), rng.random_range(1..=12))
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
        let mut bad = None;
        for (at, a, b, facts) in &sides {
            for (x, fop, y) in facts {
                match (sym::eval_exact(x, &pt), sym::eval_exact(y, &pt)) {
                    (Ok(x), Ok(y)) if holds(*fop, &x, &y) => {}
                    _ => ok = false,
                }
            }
            if !ok {
                break;
            }
            match (sym::eval_exact(a, &pt), sym::eval_exact(b, &pt)) {
                (Ok(x), Ok(y)) => {
                    if !holds(op, &x, &y) && bad.is_none() {
                        bad = Some(format!("{at}: left {x}, right {y}"));
                    }
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
                        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
                            floating = true;
                            let tol = 1e-9 * x.abs().max(y.abs()).max(1.0);
                            let fine = match op {
                                RelOp::Eq | RelOp::Approx => (x - y).abs() <= tol,
                                RelOp::Le | RelOp::Lt => x <= y + tol,
                                RelOp::Ge | RelOp::Gt => x + tol >= y,
                            };
                            if !fine && bad.is_none() {
                                bad = Some(format!(
                                    "{at}: left {x:.12}, right {y:.12} (floating point)"
                                ));
                            }
                        }
                        _ => ok = false,
                    }
                }
                _ => ok = false,
            }
        }
        if !ok {
            continue;
        }
        if let Some(b) = bad {
            let shown: Vec<String> = pt
                .iter()
                .filter(|(k, _)| !env.sizes.contains_key(*k))
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            return Err(format!(
                "refuted: exactly at {} ({}): {b}",
                shown.join(", "),
                sizes
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        good += 1;
    }
    if good < POINTS {
        return Err(format!("only {good} random points satisfied the givens"));
    }
    Ok((good, floating))
}

/// `invariant(T, x)`: T's elements do not depend on x. For a leaf (an input, a parameter,
/// a scalar input) that is T as a function of the leaves; for a computed tensor or value
/// it is an intervention: x's values are changed where it is computed and everything
/// that reads it is recomputed (docs/language.md). Decided by the dependency graph (T
/// does not read x at all), by writing T out with x kept as an atom, and on a sampled
/// run with x shifted.
fn invariant(
    c: &ast::Call,
    claim: &ast::Claim,
    program: &Program,
    env: &Env,
    opts: &Options,
) -> Outcome {
    let (Some(ast::Expr::Ref(t)), Some(ast::Expr::Ref(x))) = (c.args.first(), c.args.get(1)) else {
        return und("`invariant(T, x)` names a tensor and the tensor it does not depend on");
    };
    if c.args.len() != 2 || t.indices.is_some() || x.indices.is_some() {
        return und("`invariant(T, x)` names two whole tensors");
    }
    if t.grad || x.grad {
        return und(
            "`invariant(T, x)` is decided for values of the forward program, not gradients",
        );
    }
    let (tk, xk) = (env.key_of(&t.name), env.key_of(&x.name));
    let declared_scalar = program
        .items
        .iter()
        .any(|it| matches!(&it.kind, ItemKind::Scalar(ids) if ids.iter().any(|i| i.name == xk)));
    let (x_computed, x_rank0) = match env.tensors.get(&xk) {
        Some(info) => (info.kind == crate::check::TensorKind::Computed, info.rank == 0),
        None if env.scalars.contains_key(&xk) => (!declared_scalar, true),
        None => {
            return und(format!(
                "`{xk}` is a symbol or a size, not a value of the program: `invariant(T, x)` is about tensors and scalar values"
            ))
        }
    };
    let Some(eq) = program.items.iter().find_map(|it| match &it.kind {
        ItemKind::Equation(eq) if env.key_of(&eq.lhs.name) == tk => Some(eq),
        _ => None,
    }) else {
        return und(format!("`{tk}` is not computed by an equation"));
    };
    let g = match read_givens(&claim.given, env) {
        Ok(g) => g,
        Err(e) => return und(e),
    };
    let depends = tk == xk || depends_on(program, env, &claim.given, &tk, &xk);
    let numeric = if opts.no_numeric {
        Err(NumOutcome::Failed("numeric runs are turned off".into()))
    } else {
        perturbed_run(program, env, &tk, &xk, x_computed, opts.seed)
    };
    let how = if x_computed {
        format!(
            "`{xk}` is computed: shifting it where it is computed and recomputing what reads it"
        )
    } else {
        format!("shifting every element of `{xk}`")
    };
    if let Err(NumOutcome::Changed(w)) = numeric {
        return (
            Verdict::Refuted,
            "numeric".into(),
            format!("{w}; {how} changes `{tk}`"),
        );
    }
    if !depends {
        let num = match &numeric {
            Ok(n) => format!("numerically, {how} changes none of the {n} elements of `{tk}` (one sampled run, seed {})", opts.seed),
            Err(NumOutcome::Failed(e)) => format!("no numeric check: {e}"),
            Err(NumOutcome::Changed(_)) => unreachable!("handled above"),
        };
        return (
            Verdict::Proved,
            "dependency".into(),
            format!("no statement that computes `{tk}` reads `{xk}`, directly or through the values it reads; {num}"),
        );
    }
    let symbolic = (|| -> Result<bool, String> {
        let (mut lw, syms) = lowerer(program, env, &g, None, &BTreeMap::new())?;
        if x_computed {
            lw.opaque.insert(xk.clone());
        }
        let e = lower_side(
            &mut lw,
            &ast::Expr::Ref(eq.lhs.clone()),
            &BTreeMap::new(),
            &syms,
        )?;
        // Invariance: shifting each element of x (by a fresh symbol) leaves the element
        // of T unchanged, as an identity; an x inside a sum atom is not taken apart.
        // Every other atom is a leaf: computed values that cannot be written out (in
        // loops, gradients, family members) make the lowering fail instead.
        let mentions = |s: &str| {
            if x_rank0 {
                s == xk || (s.starts_with("sum_") && mentions_word(s, &xk))
            } else {
                mentions_tensor(s, &xk)
            }
        };
        let mut ok = true;
        for s in e.free_symbols() {
            if mentions(&s) {
                if s.starts_with("sum_") {
                    ok = false;
                    break;
                }
                let moved = e.subs(&s, &(Expr::sym(&s) + Expr::sym("δ")));
                if !sym::identical(&moved, &e) {
                    ok = false;
                    break;
                }
            }
        }
        Ok(ok)
    })();
    let ix = eq
        .lhs
        .indices
        .iter()
        .flatten()
        .map(crate::syntax::printer::print_index)
        .collect::<Vec<_>>()
        .join(",");
    let kept = if x_computed {
        format!(" (with `{xk}` kept as one atom per element: it is computed, and T may read it)")
    } else {
        String::new()
    };
    match (symbolic, numeric) {
        (_, Err(NumOutcome::Changed(_))) => unreachable!("handled above"),
        (Ok(true), Ok(n)) => (
            Verdict::Proved,
            "symbolic".into(),
            format!(
                "`{tk}[{ix}]` written out in the leaf elements{kept} (sums taken apart by linearity) is unchanged, as an identity, when any element of `{xk}` is shifted by δ; numerically, {how} changes none of the {n} elements of `{tk}` (one sampled run, seed {})",
                opts.seed
            ),
        ),
        (Ok(true), Err(NumOutcome::Failed(e))) => (
            Verdict::Proved,
            "symbolic".into(),
            format!("`{tk}[{ix}]` written out in the leaf elements{kept} is unchanged, as an identity, when any element of `{xk}` is shifted by δ (no numeric check: {e})"),
        ),
        (Ok(false), Ok(n)) | (Err(_), Ok(n)) => (
            Verdict::Confirmed,
            "numeric".into(),
            format!("{how} changes none of the {n} elements of `{tk}` (one sampled run, seed {}); not proved symbolically", opts.seed),
        ),
        (Ok(false), Err(NumOutcome::Failed(e))) | (Err(_), Err(NumOutcome::Failed(e))) => und(format!(
            "`{tk}` depends on `{xk}` through the program, written out it still contains `{xk}` or cannot be written out, and the numeric check failed: {e}"
        )),
    }
}

/// Whether `word` occurs in `s` as a whole name (not part of a longer name).
fn mentions_word(s: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || matches!(c, '_' | '\'' | '^' | '{' | '}' | '.');
    s.match_indices(word).any(|(k, _)| {
        !s[..k].chars().last().is_some_and(ident)
            && !s[k + word.len()..]
                .chars()
                .next()
                .is_some_and(|c| ident(c) || c == '[')
    })
}

/// Whether the value `t` depends on `x` through the program: the statements that compute
/// `t` read `x`, or read values that depend on it (equations anywhere, lookups, strides,
/// loop ranges, distribution arguments and the claim's givens all count).
fn depends_on(program: &Program, env: &Env, given: &[ast::Expr], t: &str, x: &str) -> bool {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    fn names(e: &ast::Expr, env: &Env, out: &mut BTreeSet<String>) {
        crate::check::walk_refs(e, &mut |r| {
            out.insert(env.key_of(&r.name));
            refs_in_indices(r, out);
        });
    }
    fn refs_in_indices(r: &ast::Ref, out: &mut BTreeSet<String>) {
        for ix in r.name.sub.iter().chain(r.indices.iter().flatten()) {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    out.insert(f.name.clone());
                }
            }
        }
    }
    fn walk(
        items: &[ast::Item],
        env: &Env,
        ranges: &mut Vec<BTreeSet<String>>,
        deps: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    let mut read = BTreeSet::new();
                    names(&eq.rhs, env, &mut read);
                    refs_in_indices(&eq.lhs, &mut read);
                    for ix in eq.lhs.indices.iter().flatten() {
                        if let IndexExpr::Lookup(r) = ix {
                            read.insert(env.key_of(&r.name));
                        }
                    }
                    for r in ranges.iter() {
                        read.extend(r.iter().cloned());
                    }
                    deps.entry(env.key_of(&eq.lhs.name))
                        .or_default()
                        .extend(read);
                }
                ItemKind::Decl(d) if d.kind != DeclKind::Grad => {
                    let mut read = BTreeSet::new();
                    match &d.init {
                        Some(Init::Dist(c)) => c.args.iter().for_each(|a| names(a, env, &mut read)),
                        Some(Init::Value(e)) => names(e, env, &mut read),
                        None => {}
                    }
                    deps.entry(env.key_of(&d.target.name))
                        .or_default()
                        .extend(read);
                }
                ItemKind::Loop(l) => {
                    let mut r = BTreeSet::new();
                    names(&l.range.from, env, &mut r);
                    names(&l.range.to, env, &mut r);
                    ranges.push(r);
                    walk(&l.body, env, ranges, deps);
                    ranges.pop();
                }
                ItemKind::ForIndices(f) => walk(&f.body, env, ranges, deps),
                _ => {}
            }
        }
    }
    walk(&program.items, env, &mut Vec::new(), &mut deps);
    for gv in given {
        if let ast::Expr::Rel(_, l, r, _) = gv {
            if let ast::Expr::Ref(lr) = &**l {
                let mut read = BTreeSet::new();
                names(r, env, &mut read);
                deps.entry(env.key_of(&lr.name)).or_default().extend(read);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![t.to_string()];
    while let Some(k) = stack.pop() {
        if !seen.insert(k.clone()) {
            continue;
        }
        for d in deps.get(&k).into_iter().flatten() {
            if d == x {
                return true;
            }
            stack.push(d.clone());
        }
    }
    false
}

enum NumOutcome {
    Changed(String),
    Failed(String),
}

/// Whether a top-level item writes the value `key` (in its loops, too).
fn item_writes(item: &ast::Item, env: &Env, key: &str) -> bool {
    match &item.kind {
        ItemKind::Equation(eq) => !eq.lhs.grad && env.key_of(&eq.lhs.name) == key,
        ItemKind::Loop(l) => l.body.iter().any(|i| item_writes(i, env, key)),
        ItemKind::ForIndices(f) => f.body.iter().any(|i| item_writes(i, env, key)),
        _ => false,
    }
}

/// Runs the forward program twice on the same sampled leaves, the second time with every
/// element of `x` shifted by a random amount — a leaf before the program runs, a computed
/// value right after the last statement that computes it, so that only what reads it is
/// recomputed — and compares the elements of `t`.
fn perturbed_run(
    program: &Program,
    env: &Env,
    t: &str,
    x: &str,
    x_computed: bool,
    seed: u64,
) -> Result<usize, NumOutcome> {
    let fail = |e: NumError| NumOutcome::Failed(e.message);
    let split = if x_computed {
        let Some(last) = program.items.iter().rposition(|it| item_writes(it, env, x)) else {
            return Err(NumOutcome::Failed(format!(
                "no top-level statement computes `{x}`"
            )));
        };
        if program.items[..=last]
            .iter()
            .any(|it| item_writes(it, env, t))
        {
            return Err(NumOutcome::Failed(format!(
                "`{t}` is computed before `{x}` or in the same loop, so `{x}` cannot be shifted between them"
            )));
        }
        last + 1
    } else {
        0
    };
    let base = run_forward_split(program, env, seed, split, &|_| Ok(())).map_err(fail)?;
    let key = x.to_string();
    let shift = move |m: &mut Machine| -> Result<(), NumError> {
        let mut rng = ChaCha8Rng::seed_from_u64(crate::num::seed::trial_seed(
            seed,
            crate::num::seed::Domain::Perturbation,
            0,
        ));
        let Some(store) = m.vals.get_mut(&(key.clone(), false)) else {
            return Err(NumError {
                message: format!("`{key}` has no values in the run"),
            });
        };
        let mut ks: Vec<Vec<i64>> = store.keys().cloned().collect();
        ks.sort();
        for k in ks {
            if let Some(v) = store.get_mut(&k) {
                *v += rng.random_range(0.5..2.0);
            }
        }
        Ok(())
    };
    let moved = run_forward_split(program, env, seed, split, &shift).map_err(fail)?;
    let a = base.vals.get(&(t.to_string(), false));
    let b = moved.vals.get(&(t.to_string(), false));
    let (Some(a), Some(b)) = (a, b) else {
        return Err(NumOutcome::Failed(format!(
            "`{t}` has no values in the run"
        )));
    };
    let mut ks: Vec<&Vec<i64>> = a.keys().collect();
    ks.sort();
    let mut n = 0;
    for k in ks {
        let va = a[k];
        let vb = b.get(k).copied().unwrap_or(f64::NAN);
        if !va.is_finite() || !vb.is_finite() {
            return Err(NumOutcome::Failed(format!(
                "`{t}{k:?}` is not a finite number in the run ({va} before, {vb} after the shift)"
            )));
        }
        let tol = 1e-9 * va.abs().max(vb.abs()).max(1.0);
        if (va - vb).abs() > tol {
            return Err(NumOutcome::Changed(format!(
                "at {t}{k:?}: {va:.10} before, {vb:.10} after (one sampled run, seed {seed})"
            )));
        }
        n += 1;
    }
    Ok(n)
}

/// A claim about tensor elements with givens that set whole tensors (`U = c W`): the
/// model is run with those tensors set from the givens, then the claim is evaluated
/// element by element (confirmed at best).
fn sampled_with_tensor_givens(
    claim: &ast::Claim,
    program: &Program,
    env: &Env,
    g: &Givens,
    opts: &Options,
    why_not_symbolic: &str,
) -> Outcome {
    let ast::Expr::Rel(RelOp::Eq, l, r, _) = &claim.body else {
        return und(format!("not proved symbolically ({why_not_symbolic}); only equations are evaluated on a sampled run"));
    };
    let back = crate::grad::backward(program, env);
    let loss = back.seeds.first().map(String::as_str);
    let tensor = g.tensor.clone();
    let setup = move |m: &mut Machine| -> Result<(), NumError> {
        for (key, e) in &tensor {
            set_tensor(m, key, e)?;
        }
        Ok(())
    };
    let run = match run_model_after(program, env, &back.items, loss, opts.seed, &setup) {
        Ok(m) => m,
        Err(e) => {
            return und(format!(
                "the model cannot be run with the givens: {}",
                e.message
            ))
        }
    };
    let mut machine = run.machine;
    let rest: Vec<ast::Expr> = claim
        .given
        .iter()
        .filter(|e| !matches!(e, ast::Expr::Rel(RelOp::Eq, l, _, _) if matches!(&**l, ast::Expr::Ref(r) if r.indices.is_none() && env.tensors.get(&env.key_of(&r.name)).is_some_and(|t| t.rank > 0))))
        .cloned()
        .collect();
    let (v, m, e) = super::numeric::decide(l, r, &rest, program, &mut machine, opts.seed);
    let sets: Vec<String> = g
        .tensor
        .iter()
        .map(|(k, e)| format!("{k} = {}", print_expr(e)))
        .collect();
    (
        v,
        m,
        format!(
            "{e}, with {} set in the run; not proved symbolically: {why_not_symbolic}",
            sets.join(", ")
        ),
    )
}

/// Sets every element of `key` from a whole-tensor expression (`c W`).
fn set_tensor(m: &mut Machine, key: &str, e: &ast::Expr) -> Result<(), NumError> {
    let Some(store) = m.vals.get(&(key.to_string(), false)).cloned() else {
        return Err(NumError {
            message: format!("`{key}` has no values to set"),
        });
    };
    let mut new = store.clone();
    for pos in store.keys() {
        let indexed = index_whole(e, pos, m.env);
        let v = m.eval(&indexed, &Vec::new())?;
        new.insert(pos.clone(), v);
    }
    m.vals.insert((key.to_string(), false), new);
    Ok(())
}

/// `c W` at position `[1, 2]`: `c W[1, 2]`.
fn index_whole(e: &ast::Expr, pos: &[i64], env: &Env) -> ast::Expr {
    let mut e = e.clone();
    fn walk(e: &mut ast::Expr, pos: &[i64], env: &Env) {
        match e {
            ast::Expr::Ref(r) => {
                let key = env.key_of(&r.name);
                if r.indices.is_none() && env.tensors.get(&key).is_some_and(|t| t.rank > 0) {
                    r.indices = Some(
                        pos.iter()
                            .map(|k| {
                                IndexExpr::Affine(ast::Affine {
                                    terms: vec![],
                                    constant: *k,
                                    span: r.span,
                                })
                            })
                            .collect(),
                    );
                }
            }
            ast::Expr::Unary(_, x, _) | ast::Expr::Iverson(x, _) => walk(x, pos, env),
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                walk(l, pos, env);
                walk(r, pos, env);
            }
            ast::Expr::Call(c) => c.args.iter_mut().for_each(|a| walk(a, pos, env)),
            _ => {}
        }
    }
    walk(&mut e, pos, env);
    e
}

/// Replaces the `.grad` reference (or the whole tensor) named `key` by a number.
fn replace_ref(e: &ast::Expr, key: &str, grad: bool, by: &str, env: &Env) -> (ast::Expr, usize) {
    let mut count = 0;
    fn walk(e: &mut ast::Expr, key: &str, grad: bool, by: &str, env: &Env, count: &mut usize) {
        match e {
            ast::Expr::Ref(r) if r.grad == grad && env.key_of(&r.name) == key => {
                *count += 1;
                *e = ast::Expr::Num(by.to_string(), r.span);
            }
            ast::Expr::Unary(_, x, _) | ast::Expr::Iverson(x, _) => {
                walk(x, key, grad, by, env, count)
            }
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                walk(l, key, grad, by, env, count);
                walk(r, key, grad, by, env, count);
            }
            ast::Expr::Call(c) => c
                .args
                .iter_mut()
                .for_each(|a| walk(a, key, grad, by, env, count)),
            _ => {}
        }
    }
    let mut e = e.clone();
    walk(&mut e, key, grad, by, env, &mut count);
    (e, count)
}

/// The factor k of an expression linear in one reference: `e = k · ref` (checked by
/// putting 1 and 2 for the reference).
fn linear_factor(e: &ast::Expr, key: &str, grad: bool, env: &Env) -> Option<Expr> {
    let (one, n) = replace_ref(e, key, grad, "1", env);
    let (two, _) = replace_ref(e, key, grad, "2", env);
    if n != 1 {
        return None;
    }
    let sc = super::scalar::Scope::default();
    let (k1, k2) = (
        super::scalar::lower(&one, &sc).ok()?,
        super::scalar::lower(&two, &sc).ok()?,
    );
    sym::identical(&k2, &(Expr::int(2) * k1.clone())).then_some(k1)
}

/// Every element name of tensor `from` renamed to tensor `to`, inside atoms too.
fn rename_tensor(e: &Expr, from: &str, to: &str) -> Expr {
    match e {
        Expr::Sym(s) if mentions_tensor(s, from) => {
            let pat = format!("{from}[");
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(k) = rest.find(&pat) {
                let boundary = !out
                    .chars()
                    .chain(rest[..k].chars())
                    .last()
                    .is_some_and(|c| {
                        c.is_alphanumeric() || c == '_' || c == '\'' || c == '}' || c == '^'
                    });
                out.push_str(&rest[..k]);
                out.push_str(if boundary { to } else { from });
                out.push('[');
                rest = &rest[k + pat.len()..];
            }
            out.push_str(rest);
            Expr::sym(&out)
        }
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(rename_tensor(b, from, to), rename_tensor(x, from, to)),
        Expr::Func(f, x) => Expr::func(*f, rename_tensor(x, from, to)),
        Expr::Mul(v) => Expr::mul(v.iter().map(|x| rename_tensor(x, from, to)).collect()),
        Expr::Add(v) => Expr::add(v.iter().map(|x| rename_tensor(x, from, to)).collect()),
    }
}

/// `X.grad[ix] == Y.grad[ix] k given X = m Y` by homogeneity: the loss, written out, is
/// `F(Y) + F(X) + (terms free of X and Y)` with one function F, and `F(m Y) = F(Y)` as an
/// identity; then `F'(m Y) = F'(Y)/m`, so the claim holds exactly when `k = 1/m`.
/// `None` when the claim is not of that form; `Err` when the argument does not go through.
fn gradient_scaling(
    l: &ast::Expr,
    r: &ast::Expr,
    g: &Givens,
    program: &Program,
    env: &Env,
) -> Option<Result<String, String>> {
    let ast::Expr::Ref(xr) = l else { return None };
    if !xr.grad || xr.indices.is_none() {
        return None;
    }
    let x = env.key_of(&xr.name);
    let (_, sub) = g.tensor.iter().find(|(k, _)| *k == x)?;
    let mut ys = Vec::new();
    crate::check::walk_refs(r, &mut |rf| {
        if rf.grad {
            ys.push((env.key_of(&rf.name), rf.indices.clone()));
        }
    });
    let [(y, yix)] = ys.as_slice() else {
        return None;
    };
    let printed = |ix: &Option<Vec<IndexExpr>>| -> Vec<String> {
        ix.iter()
            .flatten()
            .map(crate::syntax::printer::print_index)
            .collect()
    };
    if printed(yix) != printed(&xr.indices) {
        return None;
    }
    Some((|| -> Result<String, String> {
        let k = linear_factor(r, y, true, env)
            .ok_or("the right side is not a multiple of one gradient")?;
        let m = linear_factor(sub, y, false, env)
            .ok_or_else(|| format!("the given does not set `{x}` to a multiple of `{y}`"))?;
        if !sym::identical(&(k.clone() * m.clone()), &Expr::one()) {
            return Err(format!(
                "the factor is {} but homogeneity gives 1/({})",
                sym::to_ascii(&k),
                sym::to_ascii(&m)
            ));
        }
        if !env.grad_seeds.is_empty() {
            return Err("the gradient starts from `grad` declarations, not from a loss".into());
        }
        let back = crate::grad::backward(program, env);
        let loss = back.seeds.first().ok_or("no loss")?.clone();
        let loss_ref = ast::Expr::Ref(ast::Ref {
            name: ast::Name {
                base: loss.clone(),
                primes: 0,
                sup: vec![],
                sub: vec![],
                span: xr.span,
            },
            grad: false,
            indices: None,
            span: xr.span,
        });
        let plain = Givens::default();
        let (mut lw, _) = lowerer(program, env, &plain, None, &BTreeMap::new())?;
        let l0 = lw.lower_terms(&loss_ref, &BTreeMap::new())?;
        let terms = match &l0 {
            Expr::Add(ts) => ts.clone(),
            other => vec![other.clone()],
        };
        let (mut fx, mut fy, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        for t in terms {
            let syms = t.free_symbols();
            let has = |n: &str| syms.iter().any(|s| mentions_tensor(s, n));
            match (has(&x), has(y)) {
                (true, true) => {
                    return Err(format!("a term of the loss reads both `{x}` and `{y}`"))
                }
                (true, false) => fx.push(t),
                (false, true) => fy.push(t),
                (false, false) => rest.push(t),
            }
        }
        let (fx, fy, rest) = (Expr::add(fx), Expr::add(fy), Expr::add(rest));
        if fx.is_zero() || fy.is_zero() {
            return Err(format!("the loss does not read both `{x}` and `{y}`"));
        }
        if !sym::identical(&rename_tensor(&fx, &x, y), &fy) {
            return Err(format!(
                "the loss is not F({y}) + F({x}) with one function F"
            ));
        }
        // F(m Y): the loss again with the given applied, less F(Y) and the rest.
        let scaled = Givens {
            tensor: g.tensor.clone(),
            positive: g.positive.clone(),
            ..Default::default()
        };
        let (mut lw, _) = lowerer(program, env, &scaled, None, &BTreeMap::new())?;
        let l1 = lw.lower_terms(&loss_ref, &BTreeMap::new())?;
        if !sym::identical(&l1, &(Expr::int(2) * fy.clone() + rest)) {
            return Err(format!(
                "F({}) is not F({y}) as an identity",
                print_expr(sub)
            ));
        }
        Ok(format!(
            "by homogeneity: the loss `{loss}` written out is F({y}) + F({x}) + (terms free of both) with one function F, and F({}) = F({y}) as an identity (given {}), so d F/d {x} at {x} = {} is (1/({})) d F/d {y}",
            print_expr(sub),
            g.positive.iter().map(|p| format!("{p} > 0")).collect::<Vec<_>>().join(", "),
            print_expr(sub),
            sym::to_ascii(&m)
        ))
    })())
}
