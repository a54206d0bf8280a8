//! `tq plot`: variance against depth (or time) as an SVG. The predicted curve is the
//! right side of the file's claims `Var(L_l) == f(l)` (forward) and `Var(L_l.grad) ==
//! g(l)` (backward) at the `sample` values; the sampled points are the interpreter's
//! variance of every member over independent runs (weights and inputs resampled per
//! run), with 95% intervals from the spread across runs. No IO: the SVG is a string.

use crate::claims::scalar::{lower, Scope};
use crate::num::gradcheck::run_model;
use crate::num::Machine;
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::*;
use crate::syntax::printer::print_claim_body;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// The most runs `tq plot` makes.
pub const MAX_TRIALS: usize = 10_000;

/// One curve: predicted values and sampled points of one family's variance.
#[derive(Clone, Debug)]
pub struct Series {
    /// `Var(L_l)` or `Var(L_l.grad)`.
    pub label: String,
    pub grad: bool,
    /// The claim the prediction comes from.
    pub claim: String,
    /// (l, predicted variance).
    pub predicted: Vec<(f64, f64)>,
    /// (l, mean of the per-run variances, half-width of the 95% interval).
    pub sampled: Vec<(f64, f64, f64)>,
}

struct Wanted {
    key: String,
    var: String,
    grad: bool,
    rhs: Expr,
    text: String,
    label: String,
}

fn claims(items: &[Item], out: &mut Vec<Claim>) {
    for item in items {
        match &item.kind {
            ItemKind::Claim(c) => out.push(c.clone()),
            ItemKind::Loop(l) => claims(&l.body, out),
            _ => {}
        }
    }
}

/// The first claim `Var(F_v) == f(v)` and the first `Var(F_v.grad) == g(v)` over a loop
/// variable `v`, without assumptions.
fn wanted(r: &FileReport) -> Vec<Wanted> {
    let loops: Vec<String> = crate::claims::program_loops(&r.program.items)
        .into_iter()
        .map(|l| l.var.name)
        .collect();
    let mut cs = Vec::new();
    claims(&r.program.items, &mut cs);
    let mut out: Vec<Wanted> = Vec::new();
    for c in cs {
        if !c.given.is_empty() || !c.at.is_empty() || c.boundary.is_some() || c.expect.is_some() {
            continue;
        }
        let Expr::Rel(RelOp::Eq, lhs, rhs, _) = &c.body else {
            continue;
        };
        let Expr::Call(call) = &**lhs else { continue };
        if call.func.name != "Var" || call.args.len() != 1 {
            continue;
        }
        let Expr::Ref(rf) = &call.args[0] else {
            continue;
        };
        if rf.indices.is_some() || rf.name.sub.len() != 1 {
            continue;
        }
        let IndexExpr::Affine(a) = &rf.name.sub[0] else {
            continue;
        };
        if a.constant != 0
            || a.terms.len() != 1
            || a.terms[0].coef != 1
            || a.terms[0].factors.len() != 1
        {
            continue;
        }
        let var = a.terms[0].factors[0].name.clone();
        if !loops.contains(&var)
            || out.iter().any(|w| w.grad == rf.grad)
            || lower(rhs, &Scope::default()).is_err()
        {
            continue;
        }
        out.push(Wanted {
            key: r.env.key_of(&rf.name),
            var,
            grad: rf.grad,
            rhs: (**rhs).clone(),
            text: print_claim_body(&c),
            label: crate::syntax::printer::print_expr(lhs),
        });
    }
    out.sort_by_key(|w| w.grad);
    out
}

/// The member number of `L_{3}` for family `L`.
fn member_index(member: &str, key: &str) -> Option<i64> {
    member
        .strip_prefix(key)?
        .strip_prefix("_{")?
        .strip_suffix('}')?
        .parse()
        .ok()
}

/// The predicted and sampled series of a checked file.
pub fn series(r: &FileReport, trials: usize, seed: u64) -> Result<Vec<Series>, String> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return Err("nothing is plotted from a file with errors".into());
    }
    if !(2..=MAX_TRIALS).contains(&trials) {
        return Err(format!(
            "--trials must be from 2 to {MAX_TRIALS} (asked for {trials})"
        ));
    }
    let wanted = wanted(r);
    if wanted.is_empty() {
        return Err("the file has no claim `Var(F_l) == ...` over a loop variable to plot (forward or backward, without `given`)".into());
    }
    let env = &r.env;
    let consts = Machine::new(&r.program, env).map_err(|e| e.message)?.consts;
    let back = crate::grad::backward(&r.program, env);
    let loss = back.seeds.first().map(String::as_str);
    // Per (series, member): the variance of each run.
    let mut per: Vec<BTreeMap<i64, Vec<f64>>> = vec![BTreeMap::new(); wanted.len()];
    for t in 0..trials {
        let run = run_model(
            &r.program,
            env,
            &back.items,
            loss,
            seed.wrapping_add(t as u64),
        )
        .map_err(|e| e.message)?;
        for (w, acc) in wanted.iter().zip(per.iter_mut()) {
            for ((member, grad), elems) in &run.machine.vals {
                if *grad != w.grad || elems.is_empty() {
                    continue;
                }
                let Some(k) = member_index(member, &w.key) else {
                    continue;
                };
                let n = elems.len() as f64;
                let mean = elems.values().sum::<f64>() / n;
                let var = elems.values().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                acc.entry(k).or_default().push(var);
            }
        }
    }
    let mut out = Vec::new();
    for (w, acc) in wanted.iter().zip(per) {
        let rhs = lower(&w.rhs, &Scope::default())?;
        let mut predicted = Vec::new();
        let mut sampled = Vec::new();
        for (k, vs) in &acc {
            let mut e = sym::subs(&rhs, &w.var, &sym::Expr::int(*k));
            for (name, v) in &consts {
                if let Some(q) = num_rational::BigRational::from_float(*v) {
                    e = sym::subs(&e, name, &sym::Expr::num(q));
                }
            }
            if let Ok(y) = sym::simplify(&e).eval_f64(&BTreeMap::new()) {
                predicted.push((*k as f64, y));
            }
            let n = vs.len() as f64;
            let m = vs.iter().sum::<f64>() / n;
            let sd = (vs.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt();
            sampled.push((*k as f64, m, 1.96 * sd / n.sqrt()));
        }
        out.push(Series {
            label: w.label.clone(),
            grad: w.grad,
            claim: w.text.clone(),
            predicted,
            sampled,
        });
    }
    Ok(out)
}

/// The SVG of the series.
pub fn svg(title: &str, series: &[Series], trials: usize) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let xs = series.iter().flat_map(|s| {
            s.sampled
                .iter()
                .map(|p| p.0)
                .chain(s.predicted.iter().map(|p| p.0))
        });
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let ys = series.iter().flat_map(|s| {
            s.sampled
                .iter()
                .flat_map(|p| [p.1 - p.2, p.1 + p.2])
                .chain(s.predicted.iter().map(|p| p.1))
        });
        let (y0, y1) = ys
            .filter(|y| y.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                (a.min(y), b.max(y))
            });
        if !(x0.is_finite() && y0.is_finite()) {
            return Err("nothing to plot: no member of the family was sampled".into());
        }
        let pad = ((y1 - y0) * 0.1).max(1e-3);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0 - 0.5)..(x1 + 0.5), (y0 - pad).min(0.0)..(y1 + pad))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("layer (loop variable)")
            .y_desc("variance")
            .draw()
            .map_err(|e| e.to_string())?;
        for s in series {
            let colour = if s.grad { RED } else { BLUE };
            chart
                .draw_series(LineSeries::new(
                    s.predicted.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(format!("predicted: {}", s.claim))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(s.sampled.iter().map(|&(x, m, h)| {
                    PathElement::new(vec![(x, m - h), (x, m + h)], colour.stroke_width(1))
                }))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(
                    s.sampled
                        .iter()
                        .map(|&(x, m, _)| Circle::new((x, m), 4, colour.filled())),
                )
                .map_err(|e| e.to_string())?
                .label(format!("sampled {} ({trials} runs, 95% interval)", s.label))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}
