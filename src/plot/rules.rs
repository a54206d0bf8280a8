//! `tq plot` of a file with update rules (`rule A over t:`): each rule's parameter over
//! the steps, on one seeded gradient sequence shared by the rules.
//!
//! - **exact** (a line): the rule read as the linear system `x[t+1] = M x[t] + N g[t]`
//!   that its claims are decided with (`claims::rules`), iterated in exact rationals at
//!   the `sample` values, then rounded for drawing;
//! - **simulated** (a marker): the rule's own statements run one after the other, step by
//!   step, in floating point (not through the linear system).
//!
//! A symbol a rule reads with no `sample` value is taken from the mapping `tq derive`
//! prints (`eta' = eta`, `mu' = mu (1 - eta lambda)`, ...), when it has one; a rule that
//! still lacks a value, or is not linear, is not drawn and the caption says why. The
//! parameter (the sequence the rules are compared on, else each rule's last update) starts
//! at 1 and the other states at 0; the second rule of the mapping is drawn a second time
//! from the starting values the mapping gives (`B.v[0] = lambda A.theta[0]/(1 - eta
//! lambda)`), so the equivalent pair shows one curve, and the pair started both at 0 the
//! transient between them.

use super::{Plot, PlotKind, Series};
use crate::claims::rules::{self, LinearRule};
use crate::claims::scalar;
use crate::report::FileReport;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self, ItemKind};
use crate::syntax::printer::print_name;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::ToPrimitive;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::BTreeMap;

/// Steps drawn: t = 0 .. RULE_STEPS.
pub const RULE_STEPS: usize = 40;
/// The gradients are rounded to multiples of 1/GRID, so that the exact and the floating
/// point runs read the same numbers.
const GRID: i64 = 1024;

/// The statements of a rule, lowered one by one: (state, its update in `x[t]`,
/// `x[t+1]` of the states already updated, `g[t]` and symbols).
fn statements(rule: &ast::Rule) -> Result<Vec<(String, Expr)>, String> {
    let var = rule.var.name.clone();
    let states: Vec<String> = rule
        .body
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Equation(eq) => Some(print_name(&eq.lhs.name)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for it in &rule.body {
        let ItemKind::Equation(eq) = &it.kind else {
            continue;
        };
        let v = scalar::lower_refs(&eq.rhs, &mut |rf| {
            let x = print_name(&rf.name);
            let Some(idx) = &rf.indices else {
                return Ok(Expr::sym(&x));
            };
            let k = match idx.as_slice() {
                [ast::IndexExpr::Affine(a)] => match a.terms.as_slice() {
                    [t] if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var => {
                        Some(a.constant)
                    }
                    _ => None,
                },
                _ => None,
            };
            match (states.contains(&x), k) {
                (true, Some(0)) => Ok(Expr::sym(&format!("{x}[t]"))),
                (true, Some(1)) => Ok(Expr::sym(&format!("{x}[t+1]"))),
                (false, Some(0)) => Ok(Expr::sym(&format!("{x}[t]"))),
                _ => Err(format!("`{x}` is not read at step `{var}` or `{var}+1`")),
            }
        })?;
        out.push((print_name(&eq.lhs.name), v));
    }
    Ok(out)
}

fn rat(v: &BigRational) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// One drawn run: its label, the exact and the simulated values of the parameter.
struct Run {
    label: String,
    name: String,
    start: String,
    exact: Vec<f64>,
    simulated: Vec<f64>,
}

/// The plot of a file with update rules and no random tensor.
pub fn rule_plot(r: &FileReport, seed: u64) -> Result<Plot, String> {
    let program = &r.program;
    let sample = rules::sample_point(program);
    let linear = rules::rules(program);
    let derivation = rules::derive(program);
    let mut notes: Vec<String> = Vec::new();
    // Values of the symbols a rule reads with no sample value: the derived mapping.
    let mut point: BTreeMap<String, BigRational> = sample.clone();
    if let Some(d) = &derivation {
        for (name, e) in &d.mapping {
            if point.contains_key(name) {
                continue;
            }
            if let Ok(v) = sym::eval_exact(e, &sample) {
                notes.push(format!(
                    "{name} = {} (tq derive's mapping) = {}",
                    sym::to_ascii(e),
                    short(rat(&v))
                ));
                point.insert(name.clone(), v);
            }
        }
    }
    let asts: Vec<&ast::Rule> = program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Rule(rule) => Some(rule),
            _ => None,
        })
        .collect();
    // One gradient sequence per input name, shared by the rules.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inputs: BTreeMap<String, Vec<BigRational>> = BTreeMap::new();
    let mut input_names: Vec<String> = linear
        .iter()
        .filter_map(|l| l.as_ref().ok())
        .flat_map(|l| l.inputs.clone())
        .collect();
    input_names.sort();
    input_names.dedup();
    for g in &input_names {
        let seq = (0..RULE_STEPS)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                let k = (z * GRID as f64).round() as i64;
                BigRational::new(BigInt::from(k), BigInt::from(GRID))
            })
            .collect();
        inputs.insert(g.clone(), seq);
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut var = "t".to_string();
    for (lin, rule) in linear.iter().zip(&asts) {
        let lin = match lin {
            Ok(l) => l,
            Err((name, why)) => {
                notes.push(format!("rule {name} is not drawn: {why}"));
                continue;
            }
        };
        var = lin.var.clone();
        let param = match &derivation {
            Some(d) if d.a == lin.name || d.b == lin.name => d.compared.clone(),
            _ => lin.states.last().cloned().into_iter().collect(),
        };
        let mut starts: Vec<(String, Vec<BigRational>)> = vec![(
            String::new(),
            lin.states
                .iter()
                .map(|x| {
                    if param.contains(x) {
                        BigRational::from_integer(1.into())
                    } else {
                        BigRational::from_integer(0.into())
                    }
                })
                .collect(),
        )];
        if let Some(d) = derivation.as_ref().filter(|d| d.b == lin.name) {
            let mut at = point.clone();
            // A's starts as A is drawn: the parameter at 1, the other states at 0.
            let a_states = linear
                .iter()
                .filter_map(|l| l.as_ref().ok())
                .find(|l| l.name == d.a)
                .map(|l| l.states.clone())
                .unwrap_or_default();
            for x in &a_states {
                let v = if param.contains(x) { 1 } else { 0 };
                at.insert(
                    format!("{}.{x}[0]", d.a),
                    BigRational::from_integer(v.into()),
                );
            }
            let mapped: Option<Vec<BigRational>> = lin
                .states
                .iter()
                .map(|x| {
                    let key = format!("{}.{x}[0]", lin.name);
                    match d.starts.iter().find(|(n, _)| *n == key) {
                        Some((_, e)) => sym::eval_exact(e, &at).ok(),
                        None if param.contains(x) => Some(BigRational::from_integer(1.into())),
                        None => Some(BigRational::from_integer(0.into())),
                    }
                })
                .collect();
            if let Some(s) = mapped.filter(|s| *s != starts[0].1) {
                let zero: Vec<String> = d.starts.iter().map(|(n, _)| format!("{n} = 0")).collect();
                let told: Vec<String> = d
                    .starts
                    .iter()
                    .filter_map(|(n, _)| {
                        let k = lin
                            .states
                            .iter()
                            .position(|x| format!("{}.{x}[0]", lin.name) == *n)?;
                        Some(format!("{n} = {}", short(rat(&s[k]))))
                    })
                    .collect();
                starts[0].0 = format!(", {}", zero.join(", "));
                starts.push((format!(", {} (tq derive's start)", told.join(", ")), s));
                for (n, e) in &d.starts {
                    notes.push(format!("tq derive's start: {n} = {}", sym::to_ascii(e)));
                }
            }
        }
        let Ok(stmts) = statements(rule) else {
            notes.push(format!(
                "rule {} is not drawn: a read the plot cannot run",
                lin.name
            ));
            continue;
        };
        for (label, x0) in starts {
            match run(lin, &stmts, &point, &inputs, &x0, &param) {
                Ok((exact, simulated)) => {
                    for (k, x) in param.iter().enumerate() {
                        runs.push(Run {
                            label: format!("{}.{x}[{var}]{label}", lin.name),
                            name: format!("{}.{x}[{var}]", lin.name),
                            start: label.clone(),
                            exact: exact.iter().map(|v| v[k]).collect(),
                            simulated: simulated.iter().map(|v| v[k]).collect(),
                        });
                    }
                }
                Err(why) => notes.push(format!("rule {} is not drawn: {why}", lin.name)),
            }
        }
    }
    if runs.is_empty() {
        return Err(format!(
            "no update rule of the file can be run: {}",
            if notes.is_empty() {
                "the file has none".to_string()
            } else {
                notes.join("; ")
            }
        ));
    }
    // How far the runs of the same parameter are from the first rule's.
    if runs.len() > 1 {
        let first = &runs[0];
        for other in &runs[1..] {
            let gap = first
                .exact
                .iter()
                .zip(&other.exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            notes.push(format!(
                "largest |{} - {}| over t = 0..{RULE_STEPS}{}: {}",
                other.name,
                first.name,
                other.start,
                short(gap)
            ));
        }
    }
    let worst = runs
        .iter()
        .flat_map(|r| r.exact.iter().zip(&r.simulated).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f64::max);
    notes.push(format!(
        "largest |exact - simulated|: {} (floating-point rounding of the step-by-step run)",
        short(worst)
    ));
    let series = runs
        .into_iter()
        .map(|run| Series {
            label: run.label,
            grad: false,
            closed_form: String::new(),
            status: "exact".into(),
            approx: Default::default(),
            predicted: run
                .exact
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64, v))
                .collect(),
            sampled: run
                .simulated
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64, v, 0.0))
                .collect(),
            pooled: vec![],
            unpredicted: String::new(),
        })
        .collect();
    let sample_text = super::sample_text(program);
    let mut caption = vec![format!(
        "inputs: {} ~ N(0, 1), one sequence per name shared by the rules (seed {seed}), rounded to multiples of 1/{GRID}; the parameter starts at 1, the other states at 0",
        if input_names.is_empty() {
            "none".to_string()
        } else {
            input_names
                .iter()
                .map(|g| format!("{g}[{var}]"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )];
    caption.extend(notes);
    Ok(Plot {
        series,
        trials: 1,
        seed,
        executor: "step by step",
        zero_padding: false,
        var,
        ticks: vec![],
        sample: sample_text,
        backward_note: String::new(),
        kind: PlotKind::Rules,
        notes: caption,
    })
}

/// Four significant digits.
fn short(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (1e-3..1e4).contains(&v.abs()) {
        let digits = (3 - v.abs().log10().floor() as i64).max(0) as usize;
        let s = format!("{v:.digits$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.3e}")
    }
}

type Values = Vec<Vec<f64>>;

/// The parameter's values at steps 0..=RULE_STEPS, exactly through the linear system and
/// by running the statements in floating point.
fn run(
    lin: &LinearRule,
    stmts: &[(String, Expr)],
    point: &BTreeMap<String, BigRational>,
    inputs: &BTreeMap<String, Vec<BigRational>>,
    x0: &[BigRational],
    param: &[String],
) -> Result<(Values, Values), String> {
    let ev = |e: &Expr| -> Result<BigRational, String> {
        sym::eval_exact(e, point).map_err(|_| {
            let missing: Vec<String> = e
                .free_symbols()
                .into_iter()
                .filter(|s| !point.contains_key(s))
                .collect();
            if missing.is_empty() {
                "a coefficient is undefined at the sample values".to_string()
            } else {
                format!("it reads {} with no `sample` value", missing.join(", "))
            }
        })
    };
    let m: Vec<Vec<BigRational>> = lin
        .m
        .iter()
        .map(|row| row.iter().map(&ev).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    let n: Vec<Vec<BigRational>> = lin
        .n
        .iter()
        .map(|row| row.iter().map(&ev).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    let constant: Vec<BigRational> = lin.c.iter().map(&ev).collect::<Result<_, _>>()?;
    let at: Vec<usize> = param
        .iter()
        .filter_map(|p| lin.states.iter().position(|x| x == p))
        .collect();
    let mut x = x0.to_vec();
    let mut exact = vec![at.iter().map(|&i| rat(&x[i])).collect::<Vec<f64>>()];
    let g = |k: usize, t: usize| inputs.get(&lin.inputs[k]).map(|s| s[t].clone());
    for t in 0..RULE_STEPS {
        let mut next = Vec::with_capacity(x.len());
        for (i, row) in m.iter().enumerate() {
            let mut v: BigRational =
                row.iter().zip(&x).map(|(a, b)| a * b).sum::<BigRational>() + &constant[i];
            for (k, c) in n[i].iter().enumerate() {
                v += c * g(k, t).unwrap_or_default();
            }
            next.push(v);
        }
        x = next;
        exact.push(at.iter().map(|&i| rat(&x[i])).collect());
    }
    // The statements, in floating point.
    let mut vals: BTreeMap<String, f64> = point.iter().map(|(k, v)| (k.clone(), rat(v))).collect();
    let mut cur: BTreeMap<String, f64> = lin
        .states
        .iter()
        .zip(x0)
        .map(|(s, v)| (s.clone(), rat(v)))
        .collect();
    let mut simulated = vec![at
        .iter()
        .map(|&i| cur[&lin.states[i]])
        .collect::<Vec<f64>>()];
    for t in 0..RULE_STEPS {
        for (s, v) in &cur {
            vals.insert(format!("{s}[t]"), *v);
        }
        for (g, seq) in inputs {
            vals.insert(format!("{g}[t]"), rat(&seq[t]));
        }
        for (s, e) in stmts {
            let v = sym::eval_f64(e, &vals).map_err(|e| format!("{e:?}"))?;
            vals.insert(format!("{s}[t+1]"), v);
        }
        for (s, v) in cur.iter_mut() {
            *v = vals[&format!("{s}[t+1]")];
        }
        simulated.push(at.iter().map(|&i| cur[&lin.states[i]]).collect());
    }
    Ok((exact, simulated))
}
