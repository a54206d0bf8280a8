//! The SVG of a plot (plotters): sampled points with their 95% intervals, predicted
//! curves, a legend, as a string.

use super::*;

/// A line of the legend: its mark and its text.
enum Mark {
    /// A rule's series: its colour and its style number (line pattern and marker).
    Styled(RGBColor, usize),
    Line(RGBColor),
    Dashed(RGBColor),
    Cross(RGBColor),
    Dot(RGBColor),
    Text,
}

/// At most `n` characters of a legend line.
fn clip(s: String, n: usize) -> String {
    if s.chars().count() <= n {
        s
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// The SVG of a plot.
pub fn svg(title: &str, plot: &Plot) -> Result<String, String> {
    let series = &plot.series;
    // Forward in blues and greens, backward in reds and oranges; one colour per family.
    const PALETTES: [[RGBColor; 6]; 2] = [
        [
            RGBColor(31, 119, 180),
            RGBColor(44, 160, 44),
            RGBColor(23, 190, 207),
            RGBColor(148, 103, 189),
            RGBColor(0, 70, 130),
            RGBColor(90, 130, 40),
        ],
        [
            RGBColor(214, 39, 40),
            RGBColor(255, 127, 14),
            RGBColor(227, 119, 194),
            RGBColor(140, 86, 75),
            RGBColor(160, 20, 60),
            RGBColor(200, 160, 20),
        ],
    ];
    // The families drawn so far in each direction (forward, backward).
    let mut drawn = [0usize; 2];
    let colours: Vec<RGBColor> = series
        .iter()
        .map(|s| {
            let (palette, n) = (&PALETTES[s.grad as usize], &mut drawn[s.grad as usize]);
            *n += 1;
            palette[(*n - 1) % palette.len()]
        })
        .collect();
    let tensors = !plot.ticks.is_empty();
    let rules = plot.kind == PlotKind::Rules;
    // The legend, then the caption, under the chart.
    let mut legend: Vec<(Mark, String)> = Vec::new();
    let colours: Vec<RGBColor> = if rules {
        (0..series.len()).map(|k| RULES[k % RULES.len()]).collect()
    } else {
        colours
    };
    if rules {
        for (k, (s, &colour)) in series.iter().zip(&colours).enumerate() {
            legend.push((Mark::Styled(colour, k), s.label.clone()));
        }
        legend.push((
            Mark::Text,
            "lower panel: |each run - the first run| step by step, on a log scale (a run equal to the first at every step has no points there)".into(),
        ));
        legend.push((
            Mark::Text,
            "lines: exact, the rule as the linear system x[t+1] = M x[t] + N g[t] its claims are decided with, iterated in rationals".into(),
        ));
        legend.push((
            Mark::Text,
            "markers: simulated, the rule's statements run one after the other, step by step, in floating point".into(),
        ));
        if !plot.sample.is_empty() {
            legend.push((Mark::Text, format!("sample values: {}", plot.sample)));
        }
        for n in &plot.notes {
            legend.push((Mark::Text, n.clone()));
        }
    }
    for (s, &colour) in series.iter().zip(&colours).filter(|_| !rules) {
        let zp = if plot.zero_padding && !s.approx.contains(&Approximation::Border) {
            "; zero padding: holds away from the border"
        } else {
            ""
        };
        if !s.predicted.is_empty() {
            let text = if !s.closed_form.is_empty() {
                format!(
                    "predicted {} = {} (moments engine, closed form, {}{zp})",
                    s.label, s.closed_form, s.status
                )
            } else if tensors {
                format!(
                    "predicted {} of each tensor (moments engine, {}{zp})",
                    s.label, s.status
                )
            } else {
                format!(
                    "predicted {}, member by member (moments engine, {}{zp})",
                    s.label, s.status
                )
            };
            legend.push((
                if tensors || s.predicted.len() == 1 {
                    Mark::Cross(colour)
                } else {
                    Mark::Line(colour)
                },
                text,
            ));
        }
        if !s.pooled.is_empty() {
            legend.push((
                Mark::Dashed(colour),
                format!(
                    "predicted {}, mean over all positions (second-moment program, zero padding)",
                    s.label
                ),
            ));
        }
        if !s.sampled.is_empty() {
            legend.push((
                Mark::Dot(colour),
                format!(
                    "sampled {}: {} trials (seed {}, {}), 95% interval{}{}",
                    s.label,
                    plot.trials,
                    plot.seed,
                    plot.executor,
                    if plot.zero_padding {
                        "; zero padding: every position, border included"
                    } else {
                        ""
                    },
                    if s.unpredicted.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", s.unpredicted)
                    }
                ),
            ));
        }
    }
    if !plot.sample.is_empty() && !rules {
        legend.push((Mark::Text, format!("sample values: {}", plot.sample)));
    }
    if !rules {
        legend.push((
        Mark::Text,
        "dots: sampled estimates, never exact (mean over trials of each trial's variance over the member's elements; bar: pointwise 95% interval)".into(),
    ));
        legend.push((
        Mark::Text,
        if tensors {
            "crosses: the moments engine's value for each tensor (exact, or the approximation named)".into()
        } else {
            "lines: the moments engine's values member by member (exact, or the approximation named); a family without a line has none".into()
        },
    ));
    }
    if !plot.backward_note.is_empty() {
        legend.push((Mark::Text, plot.backward_note.clone()));
    }
    if !rules {
        for n in &plot.notes {
            legend.push((Mark::Text, n.clone()));
        }
    }
    const W: u32 = 1000;
    let chart_height: u32 = if rules { 640 } else { 500 };
    const LINE: u32 = 18;
    let height = chart_height + 20 + LINE * legend.len() as u32;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (W, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (top, bottom) = root.split_vertically(chart_height);
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
        if rules {
            draw_rules(&top, title, plot, &colours, (x0, x1), (y0, y1))?;
        }
        let pad = ((y1 - y0) * 0.1).max(1e-3);
        // Integer ticks: every member (every few when there are many).
        let (lo, hi) = (x0.round() as i64, x1.round() as i64);
        let step = ((hi - lo) / 20 + 1).max(1);
        let nkeys = (lo..=hi).step_by(step as usize).count();
        let names = plot.ticks.clone();
        let fmt = move |x: &f64| -> String {
            let k = x.round();
            if (x - k).abs() > 1e-9 {
                return String::new();
            }
            if names.is_empty() {
                format!("{}", k as i64)
            } else {
                names.get(k as usize).cloned().unwrap_or_default()
            }
        };
        if !rules {
            let mut chart = ChartBuilder::on(&top)
                .caption(title, ("sans-serif", 20))
                .margin(15)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(
                    (x0 - 0.5)..(x1 + 0.5),
                    if rules {
                        (y0 - pad)..(y1 + pad)
                    } else {
                        // A variance is never negative: the axis starts at 0 (an interval
                        // reaching below 0 is cut there).
                        0.0..(y1 + pad)
                    },
                )
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc(if tensors {
                    "tensor, in program order".to_string()
                } else {
                    plot.var.clone()
                })
                .y_desc(if rules { "value" } else { "variance" })
                .x_labels(nkeys)
                .x_label_formatter(&fmt)
                .draw()
                .map_err(|e| e.to_string())?;
            for (s, &colour) in series.iter().zip(&colours) {
                if !tensors {
                    chart
                        .draw_series(LineSeries::new(
                            s.predicted.iter().copied(),
                            colour.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?;
                }
                // A cross per tensor, or on a family's single member (a line of one point
                // does not show).
                if tensors || s.predicted.len() == 1 {
                    let size = if tensors { 7 } else { 6 };
                    chart
                        .draw_series(
                            s.predicted
                                .iter()
                                .map(|&(x, y)| Cross::new((x, y), size, colour.stroke_width(2))),
                        )
                        .map_err(|e| e.to_string())?;
                }
                // The pooled prediction dashed: one short mark per tensor (tensors are not
                // joined by lines), one line through a family's members.
                let pieces: Vec<Vec<(f64, f64)>> = if tensors {
                    s.pooled
                        .iter()
                        .map(|&(x, y)| vec![(x - 0.2, y), (x + 0.2, y)])
                        .collect()
                } else {
                    vec![s.pooled.clone()]
                };
                for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
                    chart
                        .draw_series(DashedLineSeries::new(piece, 6, 4, colour.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                }
                if !tensors {
                    // A thin faint line joins a family's sampled points, to follow it.
                    chart
                        .draw_series(LineSeries::new(
                            s.sampled.iter().map(|&(x, m, _)| (x, m)),
                            colour.mix(0.35).stroke_width(1),
                        ))
                        .map_err(|e| e.to_string())?;
                }
                chart
                    .draw_series(s.sampled.iter().map(|&(x, m, h)| {
                        PathElement::new(
                            vec![(x, (m - h).max(0.0)), (x, m + h)],
                            colour.stroke_width(1),
                        )
                    }))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(
                        s.sampled
                            .iter()
                            .map(|&(x, m, _)| Circle::new((x, m), 4, colour.filled())),
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        let font = ("sans-serif", 13).into_font();
        for (i, (mark, text)) in legend.iter().enumerate() {
            let y = 10 + (i as i32) * LINE as i32;
            let (x, m) = (20, y + 6);
            let drawn = match mark {
                Mark::Styled(c, k) => draw_style_sample(&bottom, (x, m), *c, *k),
                Mark::Line(c) => bottom.draw(&PathElement::new(
                    vec![(x, m), (x + 24, m)],
                    c.stroke_width(2),
                )),
                Mark::Dashed(c) => bottom
                    .draw(&PathElement::new(
                        vec![(x, m), (x + 8, m)],
                        c.stroke_width(2),
                    ))
                    .and_then(|_| {
                        bottom.draw(&PathElement::new(
                            vec![(x + 14, m), (x + 22, m)],
                            c.stroke_width(2),
                        ))
                    }),
                Mark::Cross(c) => bottom.draw(&Cross::new((x + 12, m), 5, c.stroke_width(2))),
                Mark::Dot(c) => bottom.draw(&Circle::new((x + 12, m), 4, c.filled())),
                Mark::Text => Ok(()),
            };
            drawn.map_err(|e| e.to_string())?;
            let tx = if matches!(mark, Mark::Text) {
                x
            } else {
                x + 34
            };
            bottom
                .draw(&Text::new(clip(text.clone(), 165), (tx, y), font.clone()))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

/// The colours of update rules' runs: far apart, so that overlapping curves stay apart.
const RULES: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Run `k`'s line: the first a wide pale band, the others dashed with their own
/// pattern, so that a run drawn over another stays visible.
fn rule_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    area: &DrawingArea<DB, CT>,
    points: &[(f64, f64)],
    colour: RGBColor,
    k: usize,
) -> Result<(), String> {
    let drawn = if k == 0 {
        area.draw(&PathElement::new(
            points.to_vec(),
            colour.mix(0.45).stroke_width(6),
        ))
    } else {
        let (size, gap) = dash(k);
        let mut r = Ok(());
        for w in points.windows(2) {
            // One dashed path per segment keeps the pattern on steep segments too.
            r = area.draw(&plotters::element::DashedPathElement::new(
                w.to_vec(),
                size,
                gap,
                colour.stroke_width(2),
            ));
            if r.is_err() {
                break;
            }
        }
        r
    };
    drawn.map_err(|e| e.to_string())
}

/// Run `k`'s line pattern after the first (whose line is a wide pale band): its dash
/// and gap lengths.
fn dash(k: usize) -> (u32, u32) {
    [(10, 6), (3, 4), (14, 4), (6, 3), (2, 6)][(k - 1) % 5]
}

/// Run `k`'s marker at a point: circle, triangle, cross, square, ... of its colour; in
/// the chart's coordinates or, for the legend, in pixels.
fn rule_marker<DB: DrawingBackend, C: Clone + 'static, CT: CoordTranslate<From = C>>(
    area: &DrawingArea<DB, CT>,
    at: C,
    colour: RGBColor,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match k % 4 {
        0 => area.draw(&Circle::new(at, 5, colour.filled())),
        1 => area.draw(&TriangleMarker::new(at, 6, colour.filled())),
        2 => area.draw(&Cross::new(at, 5, colour.stroke_width(2))),
        _ => area.draw(&Circle::new(at, 4, colour.stroke_width(2))),
    }
}

/// A legend sample of run `k`'s line and marker, in pixels.
fn draw_style_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    (x, m): (i32, i32),
    colour: RGBColor,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let line = if k == 0 {
        area.draw(&PathElement::new(
            vec![(x, m), (x + 26, m)],
            colour.mix(0.45).stroke_width(6),
        ))
    } else {
        let (size, gap) = dash(k);
        area.draw(&plotters::element::DashedPathElement::new(
            vec![(x, m), (x + 26, m)],
            size,
            gap,
            colour.stroke_width(2),
        ))
    };
    line?;
    rule_marker(area, (x + 13, m), colour, k)
}

/// The chart of update rules: above, each run's parameter over the steps (exact line,
/// simulated markers), each run with its own colour, line pattern and marker; below,
/// each later run's distance from the first, |run − first|, on a log scale (the
/// differences span from rounding, 1e-16, to the transient).
fn draw_rules<DB: DrawingBackend>(
    top: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    plot: &Plot,
    colours: &[RGBColor],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<(), String> {
    let series = &plot.series;
    let (upper, lower) = top.split_vertically(400);
    let pad = ((y1 - y0) * 0.1).max(1e-3);
    let ticks = (((x1 - x0) as usize) / 5).clamp(1, 20) + 1;
    let int_fmt = |x: &f64| {
        if (x - x.round()).abs() > 1e-9 {
            String::new()
        } else {
            format!("{}", x.round() as i64)
        }
    };
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 - 0.5)..(x1 + 0.5), (y0 - pad)..(y1 + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(plot.var.clone())
        .y_desc("value")
        .x_labels(ticks)
        .x_label_formatter(&int_fmt)
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())?;
    let area = chart.plotting_area();
    for (k, (s, &colour)) in series.iter().zip(colours).enumerate() {
        rule_line(area, &s.predicted, colour, k)?;
        for &(x, m, _) in &s.sampled {
            rule_marker(area, (x, m), colour, k).map_err(|e| e.to_string())?;
        }
    }
    // The distances from the first run, where they are not 0.
    let first = series
        .first()
        .map(|s| s.predicted.clone())
        .unwrap_or_default();
    let gaps: Vec<Vec<(f64, f64)>> = series
        .iter()
        .skip(1)
        .map(|s| {
            s.predicted
                .iter()
                .zip(&first)
                .map(|(&(x, a), &(_, b))| (x, (a - b).abs()))
                .filter(|&(_, d)| d > 0.0 && d.is_finite())
                .collect()
        })
        .collect();
    let (lo, hi) = gaps
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, d)| {
            (a.min(d), b.max(d))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo / 3.0, hi * 3.0)
    } else {
        (1e-16, 1.0)
    };
    let mut chart = ChartBuilder::on(&lower)
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 - 0.5)..(x1 + 0.5), (lo..hi).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(plot.var.clone())
        .y_desc("|run - first run|")
        .x_labels(ticks)
        .x_label_formatter(&int_fmt)
        // Powers of ten only: the labels between them crowd on a log scale.
        .y_label_formatter(&|y: &f64| {
            let e = y.log10();
            if (e - e.round()).abs() < 1e-6 {
                format!("1e{}", e.round() as i64)
            } else {
                String::new()
            }
        })
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())?;
    let area = chart.plotting_area();
    for (k, (g, &colour)) in gaps.iter().zip(colours.iter().skip(1)).enumerate() {
        if g.len() > 1 {
            rule_line(area, g, colour, k + 1)?;
        }
        for &p in g {
            rule_marker(area, p, colour, k + 1).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
