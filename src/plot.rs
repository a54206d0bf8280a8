//! `tq plot`: variance against depth (or time) as an SVG, forward and backward.
//!
//! The predicted curve of a family is the moments engine's closed form for its
//! variance (`Var(L_l) = (D^2*J*sigma_W^2 + 1)^l`, `Var(L_l.grad) = (...)^(L - l)`, as
//! `tq derive` prints it), evaluated at the file's `sample` values for every member.
//! The sampled points come from independent trials of the model (weights, inputs and
//! incoming gradients resampled each trial, trial t seeded by `num::seed::trial_seed(seed, Plot, t)`), on the dense
//! executor when the program lowers, else on the interpreter: per member, the mean over
//! trials of the per-trial variance over the member's elements (taken about the mean of
//! all trials), with a 95% interval from the spread across trials. Under zero padding the
//! closed form holds away from the border only; the samples pool every position, and a
//! forward family also gets the mean over positions of the second-moment program
//! (`moments::position`), which is what they estimate. No IO: the SVG is a string.

use crate::claims::montecarlo::{DENSE_BUDGET, FILE_BUDGET};
use crate::moments;
use crate::num::dense::Needed;
use crate::num::seed::Domain;
use crate::num::trials::{cores, TrialError, TrialModel, TrialRun};
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::Boundary;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// The most trials `tq plot` accepts (and the fewest: 2, for an interval).
pub const MAX_TRIALS: usize = 10_000;
pub const MIN_TRIALS: usize = 2;
/// Operations all the trials of one plot may use on the dense executor.
pub const PLOT_DENSE_BUDGET: u64 = DENSE_BUDGET;
/// Element evaluations all the trials of one plot may use on the interpreter.
pub const PLOT_BUDGET: u64 = FILE_BUDGET;

/// One curve: predicted values and sampled points of one family's variance.
#[derive(Clone, Debug)]
pub struct Series {
    /// `Var(L_l)` or `Var(L_l.grad)`.
    pub label: String,
    pub grad: bool,
    /// The closed form the prediction comes from (ASCII, in the member subscript).
    pub closed_form: String,
    /// `exact`, or the approximations the closed form rests on.
    pub status: String,
    /// (member subscript, predicted variance).
    pub predicted: Vec<(f64, f64)>,
    /// (member subscript, mean of the per-trial variances, half-width of the 95% interval).
    pub sampled: Vec<(f64, f64, f64)>,
    /// Under zero padding, a forward family: (member subscript, the variance averaged over
    /// all positions, border included) from the moments engine's second-moment program
    /// run position by position (`moments::position`) — what the pooled samples estimate.
    /// Empty otherwise, or when the program is not multilinear in zero-mean leaves.
    pub pooled: Vec<(f64, f64)>,
}

/// Everything `tq plot` draws.
#[derive(Clone, Debug)]
pub struct Plot {
    pub series: Vec<Series>,
    pub trials: usize,
    pub seed: u64,
    /// `dense executor` or `interpreter`.
    pub executor: &'static str,
    /// Zero padding: the closed form holds away from the border only, the sampled
    /// points pool every position.
    pub zero_padding: bool,
    /// The loop variable of the first series (the x axis).
    pub var: String,
}

struct Wanted {
    key: String,
    grad: bool,
    var: String,
    closed: sym::Expr,
    status: String,
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

/// Per-trial sums of one member: (elements, sum, sum of squares).
type Sums = BTreeMap<(usize, i64), (usize, f64, f64)>;

/// Where the trials run ([`Executor::Auto`]: the dense executor when the program
/// lowers, else the interpreter).
pub use crate::num::trials::Executor;

/// The predicted and sampled series of a checked file: `trials` trials, trial t seeded
/// by [`crate::num::seed::trial_seed`]`(seed, Plot, t)`.
pub fn series(r: &FileReport, trials: usize, seed: u64) -> Result<Plot, String> {
    series_on(r, trials, seed, Executor::Auto)
}

/// [`series`] on a chosen executor.
pub fn series_on(
    r: &FileReport,
    trials: usize,
    seed: u64,
    executor: Executor,
) -> Result<Plot, String> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return Err("nothing is plotted from a file with errors".into());
    }
    if !(MIN_TRIALS..=MAX_TRIALS).contains(&trials) {
        return Err(format!(
            "--trials must be from {MIN_TRIALS} to {MAX_TRIALS} (asked for {trials})"
        ));
    }
    let env = &r.env;
    let back = r.analysis().backward();
    let analysis = r.analysis().moments();
    let mut wanted: Vec<Wanted> = analysis
        .recurrences
        .iter()
        .filter_map(|rec| {
            let closed = rec.var_closed.as_ref()?;
            Some(Wanted {
                key: rec.tensor.clone(),
                grad: rec.grad,
                var: rec.var.clone(),
                closed: sym::simplify(closed),
                status: if rec.approx.is_empty() {
                    "exact".into()
                } else {
                    rec.approx
                        .iter()
                        .map(|a| a.text())
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            })
        })
        .collect();
    wanted.sort_by_key(|w| w.grad);
    if wanted.is_empty() {
        let why = analysis
            .recurrences
            .iter()
            .filter_map(|rec| {
                rec.unsolved
                    .as_ref()
                    .map(|u| format!("{}: {u}", rec.tensor))
            })
            .collect::<Vec<_>>();
        return Err(format!(
            "the moments engine derives no variance recurrence with a closed form for this file{}",
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            }
        ));
    }
    let loss = back.seeds.first().map(String::as_str);
    let needed: Needed = wanted.iter().map(|w| (w.key.clone(), w.grad)).collect();
    let setup = |_: &mut crate::num::Machine| Ok(());
    let mut sums: Vec<Sums> = vec![Sums::new(); wanted.len()];
    let mut add = |t: usize, member: &str, grad: bool, n: usize, s1: f64, s2: f64| {
        for (w, acc) in wanted.iter().zip(sums.iter_mut()) {
            if w.grad != grad || n == 0 {
                continue;
            }
            if let Some(k) = member_index(member, &w.key) {
                acc.insert((t, k), (n, s1, s2));
            }
        }
    };
    // Per member of a trial: (member, grad, elements, sum, sum of squares).
    let members = |run: &TrialRun| -> Vec<(String, bool, usize, f64, f64)> {
        run.keys()
            .into_iter()
            .filter_map(|k| {
                let (n, s1, s2) = run.moments(&k, &[])?;
                Some((k.0, k.1, n, s1, s2))
            })
            .collect()
    };
    let mut model = TrialModel::new(
        &r.program,
        env,
        &back.items,
        loss,
        &setup,
        Some(&needed),
        executor,
        seed,
        Domain::Plot,
    )
    .map_err(|e| format!("the model cannot be run: {e}"))?;
    // The first trial gives the cost of one; a dense run that does not lower falls back
    // to the interpreter.
    let first = match model.run(0) {
        Err(TrialError::Unsupported(_)) if model.fall_back() => model.run(0),
        other => other,
    }
    .map_err(|e| format!("the model cannot be run: {e}"))?;
    let work = first.work().max(1);
    let need = work.saturating_mul(trials as u64);
    if model.is_dense() && need > PLOT_DENSE_BUDGET {
        return Err(format!(
            "{trials} trials need {need} operations on the dense executor ({work} per trial), over the budget of {PLOT_DENSE_BUDGET}; at most {} trials at these sizes",
            PLOT_DENSE_BUDGET / work
        ));
    }
    if !model.is_dense() && need > PLOT_BUDGET {
        return Err(format!(
            "{trials} trials need {need} element evaluations on the interpreter ({work} per trial), over the budget of {PLOT_BUDGET}; at most {} trials at these sizes",
            PLOT_BUDGET / work
        ));
    }
    let consts = first.machine().consts.clone();
    for (member, grad, n, s1, s2) in members(&first) {
        add(0, &member, grad, n, s1, s2);
    }
    drop(first);
    for (t, r) in (1..).zip(model.run_all(1..trials, cores(), |_, run| members(&run))) {
        let per = r.map_err(|e| format!("the model cannot be run: {e}"))?;
        for (member, grad, n, s1, s2) in per {
            add(t, &member, grad, n, s1, s2);
        }
    }
    let executor = model.executor_name();
    let mut at = consts;
    at.insert("pi".into(), std::f64::consts::PI);
    let zero_padding = r.env.boundary == Some(Boundary::Zero);
    // Zero padding: every position's variance from the second-moment program.
    let positions = if zero_padding {
        moments::position::run(&r.program, env, &|_| Ok(())).ok()
    } else {
        None
    };
    let mut out = Vec::new();
    for (w, acc) in wanted.iter().zip(sums) {
        let members: std::collections::BTreeSet<i64> = acc.keys().map(|(_, k)| *k).collect();
        let mut predicted = Vec::new();
        let mut sampled = Vec::new();
        let mut pooled = Vec::new();
        for k in members {
            if let (Some(m), false) = (&positions, w.grad) {
                if let Some(vals) = m.vals.get(&(format!("{}_{{{k}}}", w.key), false)) {
                    if !vals.is_empty() {
                        pooled.push((k as f64, vals.values().sum::<f64>() / vals.len() as f64));
                    }
                }
            }
            let y = w
                .closed
                .subs("#n", &sym::Expr::int(k))
                .eval_f64(&at)
                .map_err(|e| {
                    format!(
                        "the closed form {} cannot be evaluated at the sample values: {e}",
                        sym::to_ascii(&w.closed)
                    )
                })?;
            predicted.push((k as f64, y));
            // Every trial's (n, mean, mean of squares) for this member.
            let per: Vec<(f64, f64)> = (0..trials)
                .filter_map(|t| acc.get(&(t, k)))
                .map(|&(n, s1, s2)| (s1 / n as f64, s2 / n as f64))
                .collect();
            if per.len() < trials {
                continue;
            }
            let nt = per.len() as f64;
            let mu = per.iter().map(|p| p.0).sum::<f64>() / nt;
            // The per-trial variance about the mean of all trials.
            let v: Vec<f64> = per
                .iter()
                .map(|(m1, m2)| m2 - 2.0 * mu * m1 + mu * mu)
                .collect();
            let mean = v.iter().sum::<f64>() / nt;
            let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nt - 1.0)).sqrt();
            sampled.push((k as f64, mean, 1.96 * sd / nt.sqrt()));
        }
        let g = if w.grad { ".grad" } else { "" };
        out.push(Series {
            label: format!("Var({}_{}{g})", w.key, w.var),
            grad: w.grad,
            closed_form: sym::to_ascii(&sym::simplify(
                &w.closed.subs("#n", &sym::Expr::sym(&w.var)),
            )),
            status: w.status.clone(),
            predicted,
            sampled,
            pooled,
        });
    }
    Ok(Plot {
        var: wanted[0].var.clone(),
        series: out,
        trials,
        seed,
        executor,
        zero_padding,
    })
}

/// The SVG of a plot.
pub fn svg(title: &str, plot: &Plot) -> Result<String, String> {
    let series = &plot.series;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (900, 560)).into_drawing_area();
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
                .chain(s.pooled.iter().map(|p| p.1))
        });
        let (y0, y1) = ys
            .filter(|y| y.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                (a.min(y), b.max(y))
            });
        if !(x0.is_finite() && y0.is_finite()) {
            return Err("nothing to plot: no member of the family was computed".into());
        }
        let pad = ((y1 - y0) * 0.1).max(1e-3);
        // Room above the data for the legend.
        let top = y1 + pad + (y1 - y0.min(0.0)) * 0.45;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0 - 0.5)..(x1 + 0.5), (y0 - pad).min(0.0)..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(format!("member subscript {}", plot.var))
            .y_desc("variance")
            .draw()
            .map_err(|e| e.to_string())?;
        // Forward in blues and greens, backward in reds and oranges; one colour per family.
        const FORWARD: [RGBColor; 4] = [
            RGBColor(31, 119, 180),
            RGBColor(44, 160, 44),
            RGBColor(23, 190, 207),
            RGBColor(148, 103, 189),
        ];
        const BACKWARD: [RGBColor; 4] = [
            RGBColor(214, 39, 40),
            RGBColor(255, 127, 14),
            RGBColor(227, 119, 194),
            RGBColor(140, 86, 75),
        ];
        let (mut nf, mut nb) = (0, 0);
        for s in series {
            let colour = if s.grad {
                nb += 1;
                BACKWARD[(nb - 1) % BACKWARD.len()]
            } else {
                nf += 1;
                FORWARD[(nf - 1) % FORWARD.len()]
            };
            chart
                .draw_series(LineSeries::new(
                    s.predicted.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(format!(
                    "predicted {} = {} (moments engine, closed form, {}{})",
                    s.label,
                    s.closed_form,
                    s.status,
                    if plot.zero_padding && !s.status.contains("border") {
                        "; zero padding: holds away from the border"
                    } else {
                        ""
                    }
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            if !s.pooled.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(
                        s.pooled.iter().copied(),
                        6,
                        4,
                        colour.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(format!(
                        "predicted {}, mean over all positions (second-moment program, zero padding)",
                        s.label
                    ))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 8, y)], colour.stroke_width(2))
                    });
            }
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
                .label(format!(
                    "sampled {}: {} trials (seed {}, {}), 95% interval{}",
                    s.label,
                    plot.trials,
                    plot.seed,
                    plot.executor,
                    if plot.zero_padding {
                        "; zero padding: every position, border included"
                    } else {
                        ""
                    }
                ))
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
