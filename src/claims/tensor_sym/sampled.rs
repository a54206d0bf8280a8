//! The sampled check of a claim whose givens set whole tensors: the model run with
//! those tensors put in, the claim evaluated element by element.

use super::givens::Givens;
use super::und;
use crate::analysis::Analysis;
use crate::check::Env;
use crate::claims::Options;
use crate::claims::Outcome;
use crate::num::gradcheck::run_model_at;
use crate::num::{Machine, NumError};
use crate::syntax::ast::{self as ast, IndexExpr, RelOp};
use crate::syntax::printer::print_expr;
use num_rational::BigRational;
use std::collections::BTreeMap;

/// A claim about tensor elements with givens that set whole tensors (`U = c W`): the
/// model is run with those tensors set from the givens, then the claim is evaluated
/// element by element (confirmed at best).
///
/// given43 (issue #14, probe42 r04): not at the `sample` point alone. Such a claim holds
/// for every value of the symbols (inside their domains and the claim's givens) and every
/// size, and one run at `sample c = 1` confirmed `U.grad[j] == W.grad[j]/c given U == c W`
/// (true only at c = 1). The runs are made at the sample point, then with each symbol the
/// givens do not set moved to other values of its domain (simple values of both signs
/// where it is real, and the values on both sides of the program's thresholds in it,
/// [`super::thresholds`]), then at other sizes (the least sizes, sizes moved apart, small
/// sizes above the least; for a model with loops, each size at 1, 2 and one above its
/// sample value), each with the tensor givens imposed on the run. A difference at any of
/// them is re-checked on the gather form's run at the same point; the claim is confirmed
/// only when it held at the sample point and at one other point at least.
pub(super) fn sampled_with_tensor_givens(
    claim: &ast::Claim,
    a: &Analysis,
    g: &Givens,
    opts: &Options,
    why_not_symbolic: &str,
) -> Outcome {
    let ast::Expr::Rel(RelOp::Eq, l, r, _) = &claim.body else {
        return und(format!("not proved symbolically ({why_not_symbolic}); only equations are evaluated on a sampled run"));
    };
    let env = a.env;
    let rest: Vec<ast::Expr> = claim
        .given
        .iter()
        .filter(|e| !matches!(e, ast::Expr::Rel(RelOp::Eq, l, _, _) if matches!(&**l, ast::Expr::Ref(r) if r.indices.is_none() && env.tensor_of(&r.name).is_some_and(|t| t.rank > 0))))
        .cloned()
        .collect();
    let sets: Vec<String> = g
        .tensor
        .iter()
        .map(|(k, e)| format!("{k} = {}", print_expr(e)))
        .collect();
    let sets = sets.join(", ");
    let first = at_point(a, g, opts, (l, r, &rest), &Point::default());
    if first.verdict != crate::verdict::Verdict::Confirmed {
        return Outcome {
            evidence: format!(
                "{}, with {sets} set in the run; not proved symbolically: {why_not_symbolic}",
                first.evidence
            ),
            ..first
        };
    }
    let mut held: Vec<String> = Vec::new();
    let mut skipped: Option<String> = None;
    for p in other_points(claim, a, g, opts) {
        let o = at_point(a, g, opts, (l, r, &rest), &p);
        match o.verdict {
            crate::verdict::Verdict::Confirmed => held.push(p.shown.clone()),
            crate::verdict::Verdict::Refuted => {
                return Outcome {
                    evidence: format!(
                        "{} (at {}), with {sets} set in the run; it held at the sample point{}",
                        o.evidence,
                        p.shown,
                        if held.is_empty() {
                            String::new()
                        } else {
                            format!(" and at {}", held.join("; "))
                        }
                    ),
                    ..o
                };
            }
            _ => {
                skipped.get_or_insert_with(|| format!("at {}: {}", p.shown, o.evidence));
            }
        }
    }
    if held.is_empty() {
        return und(format!(
            "{} with {sets} set in the run, but at no other point of the symbols and sizes: a claim with a whole-tensor given is not confirmed from one point{}; not proved symbolically: {why_not_symbolic}",
            first.evidence.replacen("holds", "held", 1),
            match &skipped {
                Some(why) => format!(" (the first other point tried: {why})"),
                None => " (the model has no symbol or size to move, and no other seed ran)".into(),
            }
        ));
    }
    Outcome {
        evidence: format!(
            "{}, with {sets} set in the run, and at {} other point(s) of the symbols and sizes ({}); not proved symbolically: {why_not_symbolic}",
            first.evidence,
            held.len(),
            held.join("; ")
        ),
        ..first
    }
}

/// A point of the runs: sizes and symbols set before the leaves are drawn (empty: the
/// sample point), the seed's offset, and how the evidence names it.
#[derive(Default, Clone)]
struct Point {
    consts: Vec<(String, f64)>,
    seed_offset: u64,
    shown: String,
}

/// At most this many points besides the sample point.
const MAX_POINTS: usize = 16;

/// The points [`sampled_with_tensor_givens`] tries after the sample point.
fn other_points(claim: &ast::Claim, a: &Analysis, g: &Givens, opts: &Options) -> Vec<Point> {
    let (program, env) = (a.program, a.env);
    let seeds = || -> Vec<Point> {
        (1..=2)
            .map(|k| Point {
                consts: Vec::new(),
                seed_offset: k,
                shown: format!("seed {}", opts.seed.wrapping_add(k)),
            })
            .collect()
    };
    let Ok(m) = Machine::new(program, env) else {
        return seeds();
    };
    let set: Vec<String> = g.syms.iter().map(|(n, _, _)| n.clone()).collect();
    let mut out: Vec<Point> = Vec::new();
    // Symbols, one at a time.
    let mut symbols: Vec<&String> = env
        .symbols
        .keys()
        .filter(|s| !set.contains(s) && m.consts.contains_key(*s))
        .collect();
    symbols.sort();
    let mut per_symbol: Vec<Vec<Point>> = Vec::new();
    for s in symbols {
        let sample = m.consts[s];
        let admits = |v: f64| -> bool {
            let Some(q) = BigRational::from_float(v) else {
                return false;
            };
            if g.positive.contains(s) && v <= 0.0 {
                return false;
            }
            match env.domains.get(s) {
                Some(d) => d.contains(&q),
                None => env.signed.contains(s) || v > 0.0,
            }
        };
        let simple = [2.0, -1.0, 0.5, 0.0, 3.0, -2.5, 7.0];
        let crossing = super::thresholds::crossing_values(program, env, &m.consts, s);
        let mut vals: Vec<f64> = Vec::new();
        for v in simple.iter().copied().chain(crossing) {
            if v != sample && admits(v) && !vals.contains(&v) {
                vals.push(v);
            }
        }
        vals.truncate(8);
        per_symbol.push(
            vals.into_iter()
                .map(|v| Point {
                    consts: vec![(s.clone(), v)],
                    seed_offset: 0,
                    shown: format!("{s} = {v}"),
                })
                .collect(),
        );
    }
    // Interleaved, so that every symbol is moved before the cap.
    let longest = per_symbol.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for ps in &per_symbol {
            if let Some(p) = ps.get(k) {
                out.push(p.clone());
            }
        }
    }
    out.truncate(MAX_POINTS / 2 + 2);
    // Sizes.
    let sample: BTreeMap<String, i64> = env
        .sizes
        .keys()
        .filter_map(|s| m.consts.get(s).map(|v| (s.clone(), *v as i64)))
        .collect();
    let mut sizes: Vec<BTreeMap<String, i64>> = Vec::new();
    match crate::claims::with_moments::least_search(claim, program, env, &set, &sample, true) {
        crate::claims::with_moments::Search::Found(least) => {
            sizes.push(least.clone());
            use super::exact::apart;
            sizes.extend(apart::apart_points(claim, &least, &set, env));
            sizes.extend(apart::raised_points(claim, &least, &set, env));
        }
        _ if env.derived_sizes.is_empty() => {
            for (s, v) in &sample {
                if set.contains(s) {
                    continue;
                }
                for w in [1, 2, v + 1] {
                    let mut p = sample.clone();
                    p.insert(s.clone(), w);
                    sizes.push(p);
                }
            }
        }
        _ => {}
    }
    let mut seen = vec![sample.clone()];
    for p in sizes {
        if seen.contains(&p) || out.len() >= MAX_POINTS {
            continue;
        }
        seen.push(p.clone());
        let moved: Vec<String> = p
            .iter()
            .filter(|(k, v)| sample.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        out.push(Point {
            shown: moved.join(", "),
            consts: p.into_iter().map(|(k, v)| (k, v as f64)).collect(),
            seed_offset: 0,
        });
    }
    // Nothing to move: other seeds.
    if out.is_empty() {
        out = seeds();
    }
    out
}

/// The claim on the run at `p` with the tensor givens imposed (and the symbols and sizes
/// the givens set to a value): confirmed, refuted with a witness re-checked on the
/// gather form's run at the same point, or undecided (the run cannot be made there,
/// or the givens hold at none of its elements).
fn at_point(
    a: &Analysis,
    g: &Givens,
    opts: &Options,
    (l, r, rest): (&ast::Expr, &ast::Expr, &[ast::Expr]),
    p: &Point,
) -> Outcome {
    let (program, env) = (a.program, a.env);
    let back = a.backward();
    let loss = a.loss();
    let seed = opts.seed.wrapping_add(p.seed_offset);
    let tensor = g.tensor.clone();
    let before = |m: &mut Machine| -> Result<(), NumError> {
        for (k, v) in &p.consts {
            m.consts.insert(k.clone(), *v);
        }
        // The symbols and sizes the givens set (`given c == 2`, a point's `at`): at
        // their values, in two passes (a value may read another's).
        for _ in 0..2 {
            for (n, v, power) in &g.syms {
                if !(env.symbols.contains_key(n) || env.sizes.contains_key(n)) {
                    continue;
                }
                if let Ok(x) = m.const_expr(v) {
                    let x = match power {
                        Some(k) if *k > 0 && x >= 0.0 => x.powf(1.0 / *k as f64),
                        Some(_) => continue,
                        None => x,
                    };
                    m.consts.insert(n.clone(), x);
                }
            }
        }
        Ok(())
    };
    let after = |m: &mut Machine| -> Result<(), NumError> {
        for (key, e) in &tensor {
            set_tensor(m, key, e)?;
        }
        Ok(())
    };
    let no_seed = |_: &str, _: &[i64]| None;
    let run = match run_model_at(
        program,
        env,
        &back.items,
        loss,
        seed,
        (&before, &after),
        &no_seed,
    ) {
        Ok(m) => m,
        Err(e) => {
            return und(format!(
                "the model cannot be run with the givens: {}",
                e.message
            ))
        }
    };
    let mut machine = run.machine;
    let mut found = None;
    let mut o = crate::claims::numeric::decide_found(
        RelOp::Eq,
        l,
        r,
        rest,
        program,
        &mut machine,
        seed,
        &mut found,
        &mut false,
    );
    // A refutation carries a witness re-checked by a second path: the run of the gather
    // form of the derived program at the same point with the same tensors set
    // (docs/soundness.md).
    if o.verdict == crate::verdict::Verdict::Refuted {
        let gather = a.gather_items();
        let rechecked = found
            .as_ref()
            .filter(|f| f.left.is_finite() && f.right.is_finite())
            .and_then(|f| {
                let mut second = run_model_at(
                    program,
                    env,
                    &gather,
                    loss,
                    seed,
                    (&before, &after),
                    &no_seed,
                )
                .map_err(|e| e.message);
                crate::claims::element_checks::recheck_element(&mut second, RelOp::Eq, l, r, f)
                    .ok()
                    .map(|checked_by| {
                        crate::claims::element_checks::element_witness(
                            &machine.consts,
                            env,
                            f,
                            seed,
                            checked_by,
                        )
                    })
            });
        match rechecked {
            Some(w) => o.witness = Some(w),
            None => {
                o = und(format!(
                    "not refuted: the sampled run with the givens applied found a difference ({}), but the run of the gather form does not confirm it",
                    o.evidence
                ))
            }
        }
    }
    o
}

/// Sets every element of `key` from a whole-tensor expression (`c W`).
fn set_tensor(m: &mut Machine, key: &str, e: &ast::Expr) -> Result<(), NumError> {
    let Some(store) = m.vals.get(&(key.to_string(), false)).cloned() else {
        return Err(NumError {
            too_large: false,
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

/// A gradient claim that the exact check refutes at a point (`witness`, found by writing
/// the gradients out from the gather form): the model and its derived backward program in
/// scatter form run by the interpreter with every value of the point put in (sizes and
/// symbols, leaf elements, incoming gradients), and the claim evaluated on that run. Only
/// when the run fails the claim too is it refuted, with the exact witness and both
/// evaluations named; `None` otherwise (a value of the point that floating point does not
/// hold exactly may miss a kink the exact point sits on), leaving the claim to the sampled
/// run as before.
pub(super) fn rerun_at_witness(
    claim: &ast::Claim,
    a: &Analysis,
    found: (&str, &crate::sym::Witness),
    opts: &Options,
) -> Option<Outcome> {
    let (text, w) = found;
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return None;
    };
    let (program, env) = (a.program, a.env);
    // The elements the claim's givens set are part of the point (mc34 item 5).
    let mut w = w.clone();
    for (k, v) in set_elements(claim, env, &w) {
        w.point.entry(k).or_insert(v);
    }
    let w = &w;
    let f = |v: &num_rational::BigRational| num_traits::ToPrimitive::to_f64(v);
    let mut consts: Vec<(String, f64)> = Vec::new();
    let mut leaves: Vec<((String, bool), Vec<i64>, f64)> = Vec::new();
    for (k, v) in &w.point {
        let v = f(v)?;
        if env.sizes.contains_key(k) || env.symbols.contains_key(k) {
            consts.push((k.clone(), v));
            continue;
        }
        let (name, pos) = match k.split_once('[') {
            Some((n, rest)) => {
                let pos: Option<Vec<i64>> = rest
                    .strip_suffix(']')?
                    .split(',')
                    .map(|x| x.trim().parse().ok())
                    .collect();
                (n, pos?)
            }
            None => (k.as_str(), Vec::new()),
        };
        let (name, grad) = match name.strip_suffix(".grad") {
            Some(n) => (n, true),
            None => (name, false),
        };
        leaves.push(((name.to_string(), grad), pos, v));
    }
    // Only leaves that can take every real value on the run are put in (declared without
    // a distribution, or normal): a fixed value (`param Z[R, I] = 0`) or a Bernoulli mask
    // at the run's `p = 0` set to 1 would make a run of another model (a true claim about
    // LoRA at its zero initialisation was refuted at Z = 1).
    let mut free = std::collections::BTreeSet::new();
    for it in &program.items {
        if let ast::ItemKind::Decl(d) = &it.kind {
            let any_real = match &d.init {
                None => true,
                Some(ast::Init::Dist(c)) => c.func.name == "normal",
                Some(ast::Init::Value(_)) => false,
            };
            if any_real {
                let grad = d.kind == ast::DeclKind::Grad;
                free.insert((env.key_of(&d.target.name), grad));
            }
        }
    }
    if leaves.iter().any(|(k, _, _)| !free.contains(k)) {
        return None;
    }
    let before = |m: &mut Machine| -> Result<(), NumError> {
        for (k, v) in &consts {
            m.consts.insert(k.clone(), *v);
        }
        Ok(())
    };
    let after = |m: &mut Machine| -> Result<(), NumError> {
        for ((name, grad), pos, v) in &leaves {
            if *grad {
                continue;
            }
            let Some(store) = m.vals.get_mut(&(name.clone(), false)) else {
                return Err(NumError {
                    too_large: false,
                    message: format!("`{name}` has no values to set"),
                });
            };
            store.insert(pos.clone(), *v);
        }
        Ok(())
    };
    let seed_value = |member: &str, pos: &[i64]| {
        leaves
            .iter()
            .find(|((n, g), p, _)| *g && n == member && p.as_slice() == pos)
            .map(|(_, _, v)| *v)
    };
    let back = a.backward();
    let mut run = crate::num::gradcheck::run_model_at(
        program,
        env,
        &back.items,
        a.loss(),
        opts.seed,
        (&before, &after),
        &seed_value,
    )
    .ok()?;
    // Every gradient element of the point is an incoming gradient of the run.
    if leaves
        .iter()
        .any(|((n, g), p, _)| *g && !run.seeds.iter().any(|((m, q), _)| m == n && q == p))
    {
        return None;
    }
    let o = crate::claims::numeric::decide_found(
        *op,
        l,
        r,
        &claim.given,
        program,
        &mut run.machine,
        opts.seed,
        &mut None,
        &mut false,
    );
    if o.verdict != crate::verdict::Verdict::Refuted {
        return None;
    }
    let mut w = w.clone();
    w.checked_by = format!(
        "{}; the model and its derived backward program (scatter form) run by the interpreter at the same point fail the claim too: {}",
        w.checked_by, o.evidence
    );
    let mut out = Outcome::new(
        crate::verdict::Verdict::Refuted,
        crate::verdict::Method::ExactEval,
        format!(
            "{text}; re-checked on the interpreter's run of the derived program at the same point"
        ),
    );
    out.witness = Some(w);
    Some(out)
}

/// The elements the claim's element givens set at the witness's element (`given x[b,i] =
/// 2` at `b = 0, i = 1`: `x[0,1] = 2`). The exact check substitutes them into the
/// lowering, so its point left them out: the interpreter's run drew them at random, the
/// givens held at no element of it and the false claim stayed undecided (mc34 item 5).
/// The symbols the givens set to numbers are put in with them. A setting over an index
/// the witness's element does not name, or whose value is not a number at the point, is
/// left out.
fn set_elements(
    claim: &ast::Claim,
    env: &Env,
    w: &crate::sym::Witness,
) -> Vec<(String, num_rational::BigRational)> {
    let bind: std::collections::BTreeMap<&str, i64> = w
        .element
        .as_deref()
        .unwrap_or("")
        .split(", ")
        .filter_map(|p| {
            let (n, v) = p.split_once(" = ")?;
            Some((n.trim(), v.trim().parse().ok()?))
        })
        .collect();
    let read = crate::analysis::givens::Givens::read(&claim.given, env);
    let mut out = Vec::new();
    for g in read.all {
        let (key, value) = match g {
            crate::analysis::givens::Given::Element { key, value } => (key, value),
            // A symbol the givens set to a number (`a = 1/2`), which the lowering
            // substituted too: the run must have it, not the `sample` value.
            crate::analysis::givens::Given::Set(s) if s.power.is_none() => {
                if let Some(v) = crate::check::supports::exact_value(&s.value, &w.point) {
                    out.push((s.name, v));
                }
                continue;
            }
            _ => continue,
        };
        let Some((name, rest)) = key.split_once('[') else {
            continue;
        };
        let pos: Option<Vec<String>> = rest
            .trim_end_matches(']')
            .split(',')
            .map(|i| {
                let i = i.trim();
                i.parse::<i64>()
                    .ok()
                    .or_else(|| bind.get(i).copied())
                    .map(|v| v.to_string())
            })
            .collect();
        let (Some(pos), Some(v)) = (pos, crate::check::supports::exact_value(&value, &w.point))
        else {
            continue;
        };
        out.push((format!("{name}[{}]", pos.join(",")), v));
    }
    out
}
