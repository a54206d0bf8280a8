//! The statistics of the Monte Carlo test: normal and Student-t tail probabilities and
//! quantiles, and the delta-method estimate of a claim's left − right with its standard error.

use super::extract::Moment;
use crate::sym::Expr;
use std::collections::BTreeMap;

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

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error about 1e−15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    // One Lentz step with the partial numerator `aa`: updates c and d, returns the factor
    // of h.
    let mut step = |aa: f64| {
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        d * c
    };
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(|T| > t) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub fn t_tail(t: f64, df: f64) -> f64 {
    beta_inc(0.5 * df, 0.5, df / (df + t * t))
}

/// The t with P(|T_df| > t) = p: the threshold of a test on `df + 1` trials. Student's
/// quantile rather than the normal one, so that the early looks of a sequential test,
/// on few trials, keep their level (at 40 trials and p = 1e−9 it is 8.0 where the normal
/// quantile is 6.1).
pub fn t_for(p: f64, df: f64) -> f64 {
    // Remembered per thread: the bisection costs 200 tail integrals, and every claim of
    // a file asks for the same few (p, df) pairs at its looks (2,000 Monte Carlo claims
    // spent 1.5 s here). Bounded: cleared when full.
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::HashMap<(u64, u64), f64>> =
            Default::default();
    }
    let key = (p.to_bits(), df.to_bits());
    if let Some(t) = KNOWN.with(|k| k.borrow().get(&key).copied()) {
        return t;
    }
    let t = t_for_uncached(p, df);
    KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() >= 4096 {
            k.clear();
        }
        k.insert(key, t);
    });
    t
}

fn t_for_uncached(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1e4);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_tail(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Whether the trials' statistics are too heavy-tailed for their mean to be estimated
/// from `range`: the per-trial second moments of a product of many independent factors
/// (a deep, narrow network whose weights are resampled each trial) are close to
/// log-normal, and the sample mean of n log-normal values with log-spread σ misses the
/// mean (and its estimated standard error the spread) until n exceeds about e^(σ²): 160
/// trials of a 13-layer network of width 2 averaged 0.002 against a true 1.98 with a
/// "standard error" of 0.0007, and refuted a true claim. σ is estimated from the upper
/// half of the logs (their root mean square distance above the median, which is σ for a
/// log-normal; the lower half of the logs is long for values near 0, such as a square
/// of one normal element, without making the mean hard to estimate). A heuristic guard
/// on the class, not a proof: the reason when the trials are too few, else `None`.
pub(super) fn heavy_tail(
    moments: &[Moment],
    cols: &[Vec<(f64, f64)>],
    range: std::ops::Range<usize>,
) -> Option<(String, f64)> {
    let n = range.len();
    for (mo, col) in moments.iter().zip(cols) {
        // A mean is estimated from the trials' first moments (their size), a variance
        // from their second moments.
        let mut logs: Vec<f64> = col[range.clone()]
            .iter()
            .map(|x| if mo.var { x.1 } else { x.0.abs() })
            .filter(|v| *v > 0.0 && v.is_finite())
            .map(f64::ln)
            .collect();
        // Exact zeros in most trials (a deep, narrow relu network whose units die: the
        // mean rests on the rare trials where a path survives, probe36 b16): with fewer
        // than 16 other values the spread of the others, and so the tail that carries the
        // mean, is not seen yet. 160 trials of 250 layers of width 4 were almost all 0 and
        // refuted the true `Var(a_l) == 2` by 5.5 "standard errors". The trials wait
        // until 16 values are not 0 (about 16 n / k trials, k of n so far); then the
        // spread of their logarithms is judged as below. A Bernoulli quantity (0 or 1) is
        // not held back past that: its other values have no spread.
        if logs.len() < 16 {
            let zeros = col[range.clone()]
                .iter()
                .filter(|x| if mo.var { x.1 == 0.0 } else { x.0 == 0.0 })
                .count();
            let k = logs.len();
            if zeros > 0 && k > 0 && n >= 16 {
                let need = 16.0 * n as f64 / k as f64;
                if (n as f64) < need {
                    return Some((
                        format!(
                            "the trials' {} are 0 in {zeros} of {n} trials: the mean rests on the other {k}, too few to show the spread that carries it (about {need:.0} trials give 16)",
                            if mo.var { "second moments" } else { "means" },
                        ),
                        need,
                    ));
                }
            }
            continue;
        }
        logs.sort_by(|a, b| a.total_cmp(b));
        let median = logs[logs.len() / 2];
        let upper = &logs[logs.len() / 2..];
        let sigma2 = upper
            .iter()
            .map(|x| (x - median) * (x - median))
            .sum::<f64>()
            / upper.len() as f64;
        // σ² at the upper end of its 95% interval, m σ̂² / χ²₀.₀₅(m) (the quantile by
        // Wilson–Hilferty): from 40 trials the estimate itself is often half the truth,
        // and a chain of 12 log-normal factors (σ² = 12) read σ² ≈ 3, needed 20 trials
        // and refuted the true `E(h_L) == exp(L/2)` at the first look (a probe, session
        // 28; red28's analysis). The point estimate's need still says whether more trials
        // can help (`need` returned), the upper end only waits for them.
        let m = upper.len() as f64;
        let h = 2.0 / (9.0 * m);
        let chi2_low = m * (1.0 - h - 1.645 * h.sqrt()).max(0.05).powi(3);
        let point = sigma2.min(40.0).exp();
        let sigma2 = sigma2 * m / chi2_low;
        // e^(σ²) trials at least (σ² capped: past 40 no budget reaches it).
        let need = sigma2.min(40.0).exp();
        if (n as f64) < need {
            return Some((
                format!(
                    "the trials' {} may be heavy-tailed (their logarithms spread by σ ≈ {:.2} above the median, as a product of many random factors does): were they log-normal, a mean of {n} trials would not estimate the expectation before about {} trials, so these trials decide nothing",
                    if mo.var { "second moments" } else { "means" },
                    sigma2.sqrt(),
                    if sigma2 >= 40.0 {
                        // The cap, not the value: e^(σ²) itself is astronomically larger.
                        "e^(σ²), more than e^40 ≈ 2.4e17,".to_string()
                    } else {
                        format!("e^(σ²) ≈ {need:.0}")
                    }
                ),
                point,
            ));
        }
    }
    None
}

/// Left, right and the standard error of left − right over the trials `range` (the
/// delta method, as in [`super::decide`]).
pub(super) fn estimate(
    lhs: &Expr,
    rhs: &Expr,
    moments: &[Moment],
    cols: &[Vec<(f64, f64)>],
    at: &BTreeMap<String, f64>,
    range: std::ops::Range<usize>,
) -> Option<(f64, f64, f64)> {
    let n = range.len() as f64;
    let nm = moments.len();
    let mean1: Vec<f64> = cols
        .iter()
        .map(|c| c[range.clone()].iter().map(|x| x.0).sum::<f64>() / n)
        .collect();
    let mean2: Vec<f64> = cols
        .iter()
        .map(|c| c[range.clone()].iter().map(|x| x.1).sum::<f64>() / n)
        .collect();
    let mut at = at.clone();
    for j in 0..nm {
        let v = if moments[j].var {
            mean2[j] - mean1[j] * mean1[j]
        } else {
            mean1[j]
        };
        at.insert(format!("mc_{j}"), v);
    }
    let (lv, rv) = (lhs.eval_f64(&at).ok()?, rhs.eval_f64(&at).ok()?);
    let f = lhs.clone() - rhs.clone();
    let grads: Vec<f64> = (0..nm)
        .map(|j| f.diff(&format!("mc_{j}")).eval_f64(&at).unwrap_or(f64::NAN))
        .collect();
    let lin: Vec<f64> = range
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
    Some((lv, rv, sd / n.sqrt()))
}

/// The floating-point accuracy of `left − right` over the trials `range`: 10⁻⁹ of the
/// larger side, plus, for every moment the claim reads, 10⁻⁹ of the rounding scale of
/// that moment, weighted by how much the difference moves with it. An element computed
/// from values of magnitude up to M (`magnitude`: the mean over the trials of the largest
/// |value| each run wrote) carries rounding of about 2⁻⁵² M, so a mean is known to about
/// that and a variance (E(x²) − E(x)²) to about its mean square plus √E(x²) · M. A
/// difference within this accuracy refutes nothing, and a test that cannot resolve beyond
/// it confirms nothing: a value that is 0 by construction but computed in floating point
/// (a row minus its mean, `d[b,i] = x[b,i] - sum_{i'}(x[b,i']) / I`, or the sum of that
/// row) has trial statistics that are rounding, not sampling, with a standard error of
/// the same size, and a rounding bias of a few standard errors refuted the true `E(d) ==
/// 0` at I = 5 and `Var(s) == 0` for `s[b] = sum_{i}(d[b,i])` (session 20). `rel` is
/// that 10⁻⁹ ([`ROUNDING_F64`]), or [`ROUNDING_F32`] on trials whose matrix products
/// ran in f32.
#[allow(clippy::too_many_arguments)]
pub(super) fn rounding(
    rel: f64,
    lhs: &Expr,
    rhs: &Expr,
    moments: &[Moment],
    cols: &[Vec<(f64, f64)>],
    magnitude: &[f64],
    at: &BTreeMap<String, f64>,
    range: std::ops::Range<usize>,
) -> f64 {
    let n = range.len().max(1) as f64;
    let big = magnitude
        .get(range.clone())
        .map(|m| m.iter().sum::<f64>() / n)
        .filter(|m| m.is_finite())
        .unwrap_or(0.0);
    let mut at = at.clone();
    let mut scales = Vec::with_capacity(moments.len());
    for (j, mo) in moments.iter().enumerate() {
        let m1 = cols[j][range.clone()].iter().map(|x| x.0).sum::<f64>() / n;
        let m2 = cols[j][range.clone()].iter().map(|x| x.1).sum::<f64>() / n;
        at.insert(format!("mc_{j}"), if mo.var { m2 - m1 * m1 } else { m1 });
        // E(x²) ≥ E(x)², so the root mean square bounds the mean's magnitude.
        let rms = m2.abs().sqrt().max(m1.abs());
        // A tensor that is exactly 0 in every trial (every read outside its range) is
        // no rounding of a computed value: its moments are known exactly.
        let exact_zero = cols[j][range.clone()]
            .iter()
            .all(|x| x.0 == 0.0 && x.1 == 0.0);
        scales.push(if exact_zero {
            0.0
        } else if mo.var {
            m2.abs() + rms * big.max(rms)
        } else {
            big.max(rms)
        });
    }
    let sides = match (lhs.eval_f64(&at), rhs.eval_f64(&at)) {
        (Ok(l), Ok(r)) => l.abs().max(r.abs()),
        _ => 0.0,
    };
    let f = lhs.clone() - rhs.clone();
    let moved: f64 = scales
        .iter()
        .enumerate()
        .map(|(j, scale)| {
            let g = f.diff(&format!("mc_{j}")).eval_f64(&at).unwrap_or(0.0);
            if g.is_finite() && scale.is_finite() {
                g.abs() * scale
            } else {
                0.0
            }
        })
        .sum();
    rel * (sides + moved)
}

/// The relative accuracy of trials computed in f64 (see [`rounding`]).
pub(super) const ROUNDING_F64: f64 = 1e-9;
/// The relative accuracy of trials whose matrix products ran in f32 (`--precision f32`):
/// about 170 units of f32's rounding (2⁻²⁴ ≈ 6·10⁻⁸). Trials in f32 never refute (a
/// claim they refute is decided again on f64 trials), so this floor only keeps them
/// from confirming a difference they cannot resolve.
pub(super) const ROUNDING_F32: f64 = 1e-5;

#[cfg(test)]
mod tests {
    use super::*;

    /// I_x(2, 3) = P(Binomial(4, x) >= 2), on both sides of the continued fraction's
    /// switch at x = 3/7; I_x(1, 1) = x.
    #[test]
    fn incomplete_beta_matches_binomial_tails() {
        for (x, want) in [
            (0.3, 1.0 - 0.7f64.powi(4) - 4.0 * 0.3 * 0.7f64.powi(3)),
            (0.5, 11.0 / 16.0),
        ] {
            assert!((beta_inc(2.0, 3.0, x) - want).abs() < 1e-12, "{x}");
        }
        assert!((beta_inc(1.0, 1.0, 0.25) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn student_t_quantiles_match_the_tables() {
        // Two-sided quantiles from the t table, and the normal limit.
        for (p, df, t) in [
            (0.05, 10.0, 2.228),
            (0.01, 39.0, 2.708),
            (0.001, 5.0, 6.869),
            (0.05, 1.0, 12.706),
        ] {
            assert!(
                (t_for(p, df) - t).abs() < 2e-3,
                "t({p}, {df}) = {}",
                t_for(p, df)
            );
        }
        assert!((t_for(1e-6, 1e9) - z_for(1e-6)).abs() < 1e-3);
        assert!((t_for(1e-6, 39_999.0) - 4.892).abs() < 0.01);
        // A small sample needs a larger threshold than the normal one.
        assert!(t_for(1e-9, 39.0) > z_for(1e-9) + 1.0);
    }
}
