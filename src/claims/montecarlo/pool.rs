//! Whether the elements a moment pools differ in distribution: each slice of the pool
//! compared with the pool, trial by trial, once per setting and kept for every later look
//! and every other claim about the same tensor.

use super::extract::{pattern_of, Moment, Pattern};
use super::stats::t_for;
use super::trials::{band_key, slice_key, TrialStats, SLICE_TRIALS};
use super::{FALSE_REFUTATION, MIN_TRIALS};
use crate::num::{Bind, Machine};
use std::cell::RefCell;
use std::collections::HashMap;

/// The trials from which the pooled elements are compared ([`heterogeneity`]).
pub(super) const HETERO_MIN: usize = 160;

/// What the comparison of a pool's elements found.
#[derive(Clone, Debug)]
pub(super) enum Pool {
    /// A slice differs from the pool: the reason, whether in its mean (else only in
    /// its mean square), and the finding alone (without the hint).
    Mixed(String, bool, String),
    /// Fewer than [`HETERO_MIN`] trials: not compared yet.
    Untested,
    /// No slice differs (or the pool has no slices).
    Same,
}

/// Whether the elements a moment pools detectably differ in distribution: each slice of
/// the pool (one more position fixed: `y[b, 0]`, `y[b, 1]`, ... along every free
/// dimension, recorded on the first [`SLICE_TRIALS`] trials) is compared with the pool,
/// trial by trial, in its mean (and, for a variance, its mean square): the difference's
/// mean over the independent trials against Student's threshold at
/// [`FALSE_REFUTATION`] split over the slices and the two moments, beyond the
/// floating-point floor (10⁻⁹ of the pool's root mean square, or mean square), on all
/// the trials and on each half of them on its own (a single element's square is skewed,
/// and Student's threshold is optimistic for it on few trials).
///
/// The comparison depends only on the pooled tensor (member, gradient or not, pattern),
/// whether the moment is a variance, and the number of trials compared (a prefix of the
/// setting's trials, which only grow): it is made once per setting and kept in `pools`
/// for every later look and every other claim about the same tensor (it was made again at
/// every look of every claim: 80% of problems/deep_linear.tq's time).
pub(super) fn heterogeneity(
    m0: &mut Machine,
    stats: &[TrialStats],
    pools: &PoolMemo,
    mo: &Moment,
    b: &Bind,
) -> Pool {
    let Ok(member) = m0.member_of(&mo.target.name, b) else {
        return Pool::Same;
    };
    let grad = mo.target.grad;
    let pat = pattern_of(&mo.target);
    let n = stats.len().min(SLICE_TRIALS);
    let memo_key = (member, grad, pat, mo.var, n);
    if let Some(p) = pools.found.borrow().get(&memo_key) {
        return p.clone();
    }
    let pool = compare_pool(stats, mo, &memo_key.0, memo_key.2.clone(), pools);
    pools.found.borrow_mut().insert(memo_key, pool.clone());
    pool
}

/// One trial's statistics of a pool or a slice (`None` when the trial lacks it).
type Stat = Option<(usize, f64, f64)>;

/// The statistics of a pool and of its slices, trial by trial, as far as they have been
/// read ([`PoolMemo`]).
#[derive(Default)]
pub(super) struct PoolColumns {
    pool: Vec<Stat>,
    slices: Vec<Vec<Stat>>,
}

/// A comparison's key: member, gradient or not, pattern, variance or not, trials compared.
type PoolKey = (String, bool, Pattern, bool, usize);

/// What [`heterogeneity`] has found and read for the trials of one setting: the
/// comparisons made (per member, gradient or not, pattern, variance or not, trials
/// compared), and the statistics of each pool and its slices read from the trials so far
/// (per member, gradient or not, pattern): the trials only grow, so each is read once.
#[derive(Default)]
pub(super) struct PoolMemo {
    found: RefCell<HashMap<PoolKey, Pool>>,
    columns: RefCell<HashMap<(String, bool, Pattern), PoolColumns>>,
}

/// [`heterogeneity`]'s comparison itself, for the pool of `member` selected by `pat`.
fn compare_pool(
    stats: &[TrialStats],
    mo: &Moment,
    member: &str,
    pat: Pattern,
    pools: &PoolMemo,
) -> Pool {
    let member = member.to_string();
    let grad = mo.target.grad;
    let key = (member.clone(), grad, pat.clone());
    let probe = slice_key(&member, grad, Pattern::new()).0;
    let band_probe = band_key(&member, grad, (0, 0, 0), &[]).0;
    let Some(first) = stats.first() else {
        return Pool::Same;
    };
    // The slices (one more position fixed), then the bands (two free positions at a
    // fixed difference: the diagonal and the bands beside it).
    let mut slices: Vec<(String, bool, Pattern)> = first
        .keys()
        .filter(|(name, g, p)| *name == probe && *g == grad && extends(&pat, p))
        .cloned()
        .collect();
    let mut bands: Vec<(String, bool, Pattern)> = first
        .keys()
        .filter(|(name, g, p)| {
            *name == band_probe && *g == grad && p.len() == pat.len() + 3 && p[3..] == pat[..]
        })
        .cloned()
        .collect();
    if slices.len() + bands.len() < 2 {
        return Pool::Same;
    }
    let n = stats.len().min(SLICE_TRIALS);
    if n < HETERO_MIN {
        return Pool::Untested;
    }
    slices.sort();
    // The diagonal first, then the bands beside it (the one named is the first that
    // differs).
    bands.sort_by_key(|k| (k.2[2].map(i64::abs), k.2.clone()));
    let n_slices = slices.len();
    slices.extend(bands);
    // The statistics of the pool and of each slice and band, trial by trial (read from
    // the trials not read yet: one map look-up per trial and slice in the setting's
    // whole run).
    let mut columns = pools.columns.borrow_mut();
    let cols = columns.entry(key.clone()).or_default();
    if cols.pool.len() < n {
        cols.slices.resize(slices.len(), Vec::new());
        for st in &stats[cols.pool.len()..n] {
            cols.pool.push(st.get(&key).copied());
            for (col, sk) in cols.slices.iter_mut().zip(&slices) {
                col.push(st.get(sk).copied());
            }
        }
    }
    let tests = if mo.var { 2 } else { 1 };
    // (mean, standard error, trials) of the slice's difference from the pool.
    let test = |d: &[f64]| -> Option<(f64, f64, usize)> {
        let k = d.len();
        if k < MIN_TRIALS / 2 {
            return None;
        }
        let mean = d.iter().sum::<f64>() / k as f64;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        Some((mean, (var / k as f64).sqrt(), k))
    };
    // Means first: a pool whose elements differ only in their mean squares (the same
    // mean) still has the average of their variances as its variance.
    for second in [false, true].into_iter().take(tests) {
        for (j, (sk, col)) in slices.iter().zip(&cols.slices).enumerate() {
            // Per trial: the slice's and the pool's mean and mean square.
            let mut rows: Vec<[f64; 4]> = Vec::with_capacity(n);
            for (p, s) in cols.pool[..n].iter().zip(&col[..n]) {
                let (Some((pn, p1, p2)), Some((sn, s1, s2))) = (*p, *s) else {
                    continue;
                };
                if pn == 0 || sn == 0 {
                    continue;
                }
                let (pn, sn) = (pn as f64, sn as f64);
                rows.push([s1 / sn, s2 / sn, p1 / pn, p2 / pn]);
            }
            // A variance is compared centred, each side at its own mean over the trials:
            // raw mean squares carry the mean's noise (2 x mean x the noise of the
            // mean), which grows with the mean and hid the diagonal of a transpose at
            // mean 1 and 3 (probe32/a w34e, w34g) that the comparison found at mean 0.
            let k = rows.len().max(1) as f64;
            let mu_s = rows.iter().map(|r| r[0]).sum::<f64>() / k;
            let mu_p = rows.iter().map(|r| r[2]).sum::<f64>() / k;
            let mut d = Vec::with_capacity(rows.len());
            let mut scale = 0.0;
            for [s1, s2, p1, p2] in rows {
                d.push(if second {
                    (s2 - 2.0 * mu_s * s1 + mu_s * mu_s) - (p2 - 2.0 * mu_p * p1 + mu_p * mu_p)
                } else {
                    s1 - p1
                });
                scale += p2;
            }
            let scale = scale / d.len().max(1) as f64;
            let floor = 1e-9 * if second { scale } else { scale.sqrt() };
            let differs = |d: &[f64]| -> Option<(f64, f64, usize, f64)> {
                let (mean, se, k) = test(d)?;
                let z = t_for(
                    FALSE_REFUTATION / (tests * slices.len()) as f64,
                    (k - 1) as f64,
                );
                (mean.is_finite() && se.is_finite() && mean.abs() > z * se + floor)
                    .then_some((mean, se, k, z))
            };
            let half = d.len() / 2;
            let Some((mean, se, k, z)) = differs(&d) else {
                continue;
            };
            if differs(&d[..half]).is_none() || differs(&d[half..]).is_none() {
                continue;
            }
            let which = if j < n_slices {
                let (dim, pos) =
                    sk.2.iter()
                        .enumerate()
                        .find(|(i, p)| p.is_some() && pat.get(*i).is_none_or(|q| q.is_none()))
                        .map(|(i, p)| (i + 1, p.unwrap_or(0)))
                        .unwrap_or((0, 0));
                format!("the elements at position {pos} of its dimension {dim}")
            } else {
                let at = |i: usize| sk.2[i].unwrap_or(0);
                let (a, b, d) = (at(0) + 1, at(1) + 1, at(2));
                if d == 0 {
                    format!("the elements whose positions along its dimensions {a} and {b} are equal (the diagonal)")
                } else {
                    format!("the elements whose position along its dimension {a} exceeds that along its dimension {b} by {d}")
                }
            };
            let core = format!(
                "Monte Carlo pools the elements of `{}`, but they do not share one distribution: {which} differ from the pool in their {} by {mean:.4} (beyond {z:.2} standard errors of {se:.2e} on {k} independent trials, and on each half of them)",
                mo.target.name.base,
                if second { "variance" } else { "mean" },
            );
            return Pool::Mixed(
                format!(
                    "{core}, so the pool's moment is no element's; name the elements to compare (a fixed position)"
                ),
                !second,
                core,
            );
        }
    }
    Pool::Same
}

/// Whether slice pattern `s` is pattern `p` with exactly one more position fixed.
fn extends(p: &Pattern, s: &Pattern) -> bool {
    if s.len() < p.len() {
        return false;
    }
    let mut more = 0;
    for (i, x) in s.iter().enumerate() {
        match (p.get(i).copied().flatten(), x) {
            (Some(a), Some(b)) if a == *b => {}
            (Some(_), _) => return false,
            (None, Some(_)) => more += 1,
            (None, None) => {}
        }
    }
    more == 1
}
