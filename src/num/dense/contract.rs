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
        // A summed index no factor depends on multiplies by its number of values.
        let absent: f64 = sum
            .iter()
            .filter(|a| !fs.iter().any(|f| f.axes.contains(a)))
            .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
            .product();
        // The order search: every pair of the remaining factors is looked at before each
        // contraction (n³/6 looks for n factors), charged before it starts.
        self.tick(search_cost(fs.len()))?;
        let mut order = if fs.len() > 2 {
            Some(Order::new(&fs, sum, ctx)?)
        } else {
            None
        };
        while fs.len() > 1 {
            let (i, j) = order.as_ref().map_or((0, 1), Order::best);
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
            if let Some(o) = order.as_mut() {
                o.merged(i, j, &r.axes);
            }
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

/// Operations charged for each pair of factors the contraction order search looks at
/// (measured: about 6 ns a look on the shared 2-core machine, where a statement's fixed
/// cost is 1.5-3 ns per operation charged; tests/dense_cost.rs, docs/numeric.md).
pub const PAIR_SEARCH_COST: u64 = 6;
/// Looks of the order search covered by the statement's fixed cost: a product of up to
/// 8 factors (84 looks) is charged nothing for its order, as before this charge existed.
pub const FREE_PAIR_SEARCHES: u64 = 84;

/// The operations charged for ordering a product of `n` factors: the looks at each pair
/// of the remaining factors before each of the n − 1 contractions, C(n + 1, 3) in all,
/// past the [`FREE_PAIR_SEARCHES`].
pub fn search_cost(n: usize) -> u64 {
    let n = n as u64;
    let looks = (n + 1)
        .saturating_mul(n)
        .saturating_mul(n.saturating_sub(1))
        / 6;
    looks
        .saturating_sub(FREE_PAIR_SEARCHES)
        .saturating_mul(PAIR_SEARCH_COST)
}

/// The greedy order of a contraction (the pair with the smallest result first, the
/// first such pair in factor order on a tie) on bit masks of the factors' indices: a
/// look at a pair is a few word operations, not a walk over the other factors.
struct Order {
    masks: Vec<u64>,
    names: Vec<String>,
    sizes: Vec<f64>,
    sum: u64,
}

impl Order {
    fn new(fs: &[Val], sum: &[String], ctx: &Ctx) -> R<Order> {
        let mut names: Vec<String> = Vec::new();
        for a in fs.iter().flat_map(|f| f.axes.iter()).chain(sum) {
            if !names.contains(a) {
                names.push(a.clone());
            }
        }
        if names.len() > 64 {
            return unsup("a product over more than 64 indices");
        }
        let sizes = names
            .iter()
            .map(|a| ctx.get(a).map_or(1.0, |r| r.1 as f64))
            .collect();
        let mut o = Order {
            masks: vec![],
            names,
            sizes,
            sum: 0,
        };
        o.sum = o.mask(sum);
        o.masks = fs.iter().map(|f| o.mask(&f.axes)).collect();
        Ok(o)
    }

    fn mask(&self, axes: &[String]) -> u64 {
        axes.iter()
            .filter_map(|a| self.names.iter().position(|n| n == a))
            .fold(0, |m, b| m | 1 << b)
    }

    /// The pair to contract next: the smallest result (its indices: those of either
    /// factor, less the summed ones no other factor has).
    fn best(&self) -> (usize, usize) {
        // Indices held by at least two, and at least three, of the factors.
        let (mut ge1, mut ge2, mut ge3) = (0u64, 0u64, 0u64);
        for m in &self.masks {
            ge3 |= ge2 & m;
            ge2 |= ge1 & m;
            ge1 |= m;
        }
        let mut best = (0, 1, f64::INFINITY);
        for (i, &mi) in self.masks.iter().enumerate() {
            for (j, &mj) in self.masks.iter().enumerate().skip(i + 1) {
                let others = (mi & mj & ge3) | ((mi ^ mj) & ge2);
                let mut out = (mi | mj) & !(self.sum & !others);
                let mut s = 1.0;
                while out != 0 {
                    s *= self.sizes[out.trailing_zeros() as usize];
                    out &= out - 1;
                }
                if s < best.2 {
                    best = (i, j, s);
                }
            }
        }
        (best.0, best.1)
    }

    /// Factors `i < j` were replaced by their product (last), over `axes`.
    fn merged(&mut self, i: usize, j: usize, axes: &[String]) {
        self.masks.remove(j);
        self.masks.remove(i);
        let m = self.mask(axes);
        self.masks.push(m);
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
