//! Contraction: a product of factors summed over some indices, contracted pairwise
//! (the pair with the smallest result first), each pair as a batched matrix product
//! (permute, reshape, `dot`) or a broadcast product; large matrix products split their
//! rows over the cores (unless the thread already runs one trial of several:
//! [`serial_products`]).

use super::storage::{Ctx, Dense, Val};
use super::{sprod, unsup, R};
use crate::num::trials::cores;
use ndarray::{linalg::general_mat_mul, Axis, IxDyn};

impl<'a> Dense<'a> {
    /// The product of the factors, summed over `sum`: pairwise contractions, the pair
    /// with the smallest result first; added to `acc` when given.
    pub(super) fn contract(
        &mut self,
        mut fs: Vec<Val>,
        sum: &[String],
        ctx: &Ctx,
        mut acc: Option<Val>,
    ) -> R<Val> {
        let size = |axes: &[String]| -> f64 {
            axes.iter()
                .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
                .product()
        };
        // A summed index no factor depends on multiplies by its number of values.
        let absent: f64 = sum
            .iter()
            .filter(|a| !fs.iter().any(|f| f.axes.contains(a)))
            .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
            .product();
        while fs.len() > 1 {
            let mut best = (0, 1, f64::INFINITY);
            for i in 0..fs.len() {
                for j in i + 1..fs.len() {
                    let mut u: Vec<String> = fs[i].axes.clone();
                    for a in &fs[j].axes {
                        if !u.contains(a) {
                            u.push(a.clone());
                        }
                    }
                    let out: Vec<String> = u
                        .into_iter()
                        .filter(|a| {
                            !sum.contains(a)
                                || fs
                                    .iter()
                                    .enumerate()
                                    .any(|(k, f)| k != i && k != j && f.axes.contains(a))
                        })
                        .collect();
                    let s = size(&out);
                    if s < best.2 {
                        best = (i, j, s);
                    }
                }
            }
            let (i, j, _) = best;
            let y = fs.remove(j);
            let x = fs.remove(i);
            let summable: Vec<String> = sum
                .iter()
                .filter(|a| !fs.iter().any(|f| f.axes.contains(a)))
                .cloned()
                .collect();
            // The last product may write into the accumulator.
            let into = if fs.is_empty() && absent == 1.0 {
                acc.take()
            } else {
                None
            };
            let r = self.pair(x, y, &summable, ctx, into)?;
            fs.push(r);
        }
        let last = fs.pop().unwrap_or_else(|| Val::scalar(1.0));
        let present: Vec<String> = sum
            .iter()
            .filter(|a| last.axes.contains(a))
            .cloned()
            .collect();
        let mut out = self.sum_axes(last, &present)?;
        if absent != 1.0 {
            out = self.map(out, |x| x * absent)?;
        }
        self.accumulate(acc, out)
    }

    /// Two factors multiplied and summed over `summable` (indices no other factor has),
    /// added to `acc` when given.
    pub(super) fn pair(
        &mut self,
        x: Val,
        y: Val,
        summable: &[String],
        ctx: &Ctx,
        acc: Option<Val>,
    ) -> R<Val> {
        let only_x: Vec<String> = x
            .axes
            .iter()
            .filter(|a| summable.contains(a) && !y.axes.contains(a))
            .cloned()
            .collect();
        let only_y: Vec<String> = y
            .axes
            .iter()
            .filter(|a| summable.contains(a) && !x.axes.contains(a))
            .cloned()
            .collect();
        let x = self.sum_axes(x, &only_x)?;
        let y = self.sum_axes(y, &only_y)?;
        let k: Vec<String> = summable
            .iter()
            .filter(|a| x.axes.contains(a) && y.axes.contains(a))
            .cloned()
            .collect();
        if k.is_empty() {
            let v = self.zip(x, y, |a, b| a * b)?;
            return self.accumulate(acc, v);
        }
        // The larger operand gives the rows.
        let (x, y) = if x.data.len() >= y.data.len() {
            (x, y)
        } else {
            (y, x)
        };
        let batch: Vec<String> = x
            .axes
            .iter()
            .filter(|a| y.axes.contains(a) && !k.contains(a))
            .cloned()
            .collect();
        let xf: Vec<String> = x
            .axes
            .iter()
            .filter(|a| !y.axes.contains(a))
            .cloned()
            .collect();
        let yf: Vec<String> = y
            .axes
            .iter()
            .filter(|a| !x.axes.contains(a))
            .cloned()
            .collect();
        let len =
            |v: &[String]| -> usize { sprod(v.iter().map(|a| ctx.get(a).map_or(1, |r| r.1))) };
        let (nb, m, kk, n) = (len(&batch), len(&xf), len(&k), len(&yf));
        let ox: Vec<String> = batch.iter().chain(&xf).chain(&k).cloned().collect();
        let oy: Vec<String> = batch.iter().chain(&k).chain(&yf).cloned().collect();
        let out_n = sprod([nb, m, n].into_iter());
        let axes: Vec<String> = batch.iter().chain(&xf).chain(&yf).cloned().collect();
        let shape: Vec<usize> = axes.iter().map(|a| ctx.get(a).map_or(1, |r| r.1)).collect();
        // Written into the accumulator when it has the product's indices in its order.
        let (mut acc, mut into) = match acc {
            Some(a)
                if a.axes == axes
                    && a.data.shape() == &shape[..]
                    && a.data.is_standard_layout() =>
            {
                (None, Some(a))
            }
            other => (other, None),
        };
        if into.is_none() {
            self.check_alloc(out_n)?;
        }
        self.array_op(sprod([nb, m, kk, n].into_iter()) as u64)?;
        // Copied only when the axes are not already in matrix order.
        let xv = Self::align(&x, &ox);
        let yv = Self::align(&y, &oy);
        let xa = xv.as_standard_layout();
        let ya = yv.as_standard_layout();
        let Ok(x3) = xa.view().into_shape_with_order((nb, m, kk)) else {
            return unsup("a contraction could not be reshaped");
        };
        let Ok(y3) = ya.view().into_shape_with_order((nb, kk, n)) else {
            return unsup("a contraction could not be reshaped");
        };
        if let Some(target) = into.as_mut() {
            let Some(flat) = target.data.as_slice_mut() else {
                return unsup("a contraction could not be reshaped");
            };
            let Ok(mut c) = ndarray::ArrayViewMut3::from_shape((nb, m, n), flat) else {
                return unsup("a contraction could not be reshaped");
            };
            for bi in 0..nb {
                let cv = c.index_axis_mut(Axis(0), bi);
                matmul(
                    x3.index_axis(Axis(0), bi),
                    y3.index_axis(Axis(0), bi),
                    cv,
                    1.0,
                );
            }
            return Ok(into.take().expect("set above"));
        }
        let mut c = ndarray::Array3::<f64>::zeros((nb, m, n));
        for bi in 0..nb {
            let cv = c.index_axis_mut(Axis(0), bi);
            matmul(
                x3.index_axis(Axis(0), bi),
                y3.index_axis(Axis(0), bi),
                cv,
                0.0,
            );
        }
        let Ok(data) = c.into_dyn().into_shape_with_order(IxDyn(&shape)) else {
            return unsup("a contraction could not be reshaped");
        };
        let v = Val {
            axes,
            data: data.into_shared(),
        };
        self.accumulate(acc.take(), v)
    }
}

/// Multiply-adds from which a matrix product is split over the machine's cores.
const PARALLEL_MACS: usize = 1 << 22;

thread_local! {
    /// Set on threads that already run one trial each (every core busy): their matrix
    /// products stay on the calling thread instead of splitting their rows.
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread's matrix products kept on this thread (for callers that
/// run independent trials on every core already).
pub fn serial_products<T>(f: impl FnOnce() -> T) -> T {
    let old = SERIAL.with(|c| c.replace(true));
    let out = f();
    SERIAL.with(|c| c.set(old));
    out
}

/// `c = a b + beta c`, with the rows split over the cores when it is large enough.
/// Every element is computed by the same kernel over the same k order whatever the
/// split, so the result does not depend on the number of threads.
fn matmul(
    a: ndarray::ArrayView2<f64>,
    b: ndarray::ArrayView2<f64>,
    mut c: ndarray::ArrayViewMut2<f64>,
    beta: f64,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let threads = if SERIAL.with(|c| c.get()) { 1 } else { cores() };
    if threads < 2 || m < 2 * threads || m.saturating_mul(k).saturating_mul(n) < PARALLEL_MACS {
        general_mat_mul(1.0, &a, &b, beta, &mut c);
        return;
    }
    let rows = m.div_ceil(threads);
    std::thread::scope(|s| {
        let mut rest_a = a;
        let mut rest_c = c;
        while rest_a.nrows() > rows {
            let (top_a, bot_a) = rest_a.split_at(Axis(0), rows);
            let (mut top_c, bot_c) = rest_c.split_at(Axis(0), rows);
            s.spawn(move || general_mat_mul(1.0, &top_a, &b, beta, &mut top_c));
            rest_a = bot_a;
            rest_c = bot_c;
        }
        general_mat_mul(1.0, &rest_a, &b, beta, &mut rest_c);
    });
}
