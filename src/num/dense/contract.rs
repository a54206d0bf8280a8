//! Contraction: a product of factors summed over some indices, contracted pairwise
//! (the pair with the smallest result first), each pair as a batched matrix product
//! (permute, reshape, `dot`) or a broadcast product; large matrix products split their
//! rows over the cores, on the persistent threads of `num::pool` (unless the thread already runs one trial of several:
//! [`serial_products`]).

use super::storage::{Ctx, Dense, Val};
use super::{sprod, unsup, Precision, R};
use crate::num::trials::cores;
use ndarray::{linalg::general_mat_mul, Axis, IxDyn, LinalgScalar};

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
        // Single precision: the product in f32 when its operands allow it (else f64),
        // the operands converted from their views in one pass each (no f64 copy).
        let single = if self.precision == Precision::F32 {
            f32_product(&xv, &yv, (nb, m, kk, n))
        } else {
            None
        };
        let xa;
        let ya;
        let (x3, y3) = if single.is_some() {
            (None, None)
        } else {
            xa = xv.as_standard_layout();
            ya = yv.as_standard_layout();
            let Ok(x3) = xa.view().into_shape_with_order((nb, m, kk)) else {
                return unsup("a contraction could not be reshaped");
            };
            let Ok(y3) = ya.view().into_shape_with_order((nb, kk, n)) else {
                return unsup("a contraction could not be reshaped");
            };
            (Some(x3), Some(y3))
        };
        if let Some(target) = into.as_mut() {
            let Some(flat) = target.data.as_slice_mut() else {
                return unsup("a contraction could not be reshaped");
            };
            let Ok(mut c) = ndarray::ArrayViewMut3::from_shape((nb, m, n), flat) else {
                return unsup("a contraction could not be reshaped");
            };
            if let Some(p) = single {
                c.zip_mut_with(&p, |c, p| *c += f64::from(*p));
                return Ok(into.take().expect("set above"));
            }
            let (Some(x3), Some(y3)) = (x3, y3) else {
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
        let c = match (single, x3, y3) {
            (Some(p), _, _) => p.mapv(f64::from),
            (None, Some(x3), Some(y3)) => {
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
                c
            }
            _ => return unsup("a contraction could not be reshaped"),
        };
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
fn matmul<A: LinalgScalar + Send + Sync>(
    a: ndarray::ArrayView2<A>,
    b: ndarray::ArrayView2<A>,
    mut c: ndarray::ArrayViewMut2<A>,
    beta: A,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let threads = if SERIAL.with(|c| c.get()) { 1 } else { cores() };
    if threads < 2 || m < 2 * threads || m.saturating_mul(k).saturating_mul(n) < PARALLEL_MACS {
        general_mat_mul(A::one(), &a, &b, beta, &mut c);
        return;
    }
    let rows = m.div_ceil(threads);
    let mut tasks: Vec<Box<dyn FnOnce() + Send + '_>> = Vec::with_capacity(threads);
    let mut rest_a = a;
    let mut rest_c = c;
    while rest_a.nrows() > rows {
        let (top_a, bot_a) = rest_a.split_at(Axis(0), rows);
        let (mut top_c, bot_c) = rest_c.split_at(Axis(0), rows);
        tasks.push(Box::new(move || {
            general_mat_mul(A::one(), &top_a, &b, beta, &mut top_c)
        }));
        rest_a = bot_a;
        rest_c = bot_c;
    }
    tasks.push(Box::new(move || {
        general_mat_mul(A::one(), &rest_a, &b, beta, &mut rest_c)
    }));
    // On the process's persistent threads (no thread spawned per product).
    crate::num::pool::run_scoped(tasks);
}

/// The magnitudes a matrix product's operands may have for it to run in f32: every
/// nonzero |value| of each operand within [2^-50, 2^50], and (largest |x|) · (largest
/// |y|) · (the summed length) at most 2^100. Then every product of two elements is a
/// normal f32 (at least 2^-100, far above f32's smallest normal 2^-126) and no partial
/// sum can pass 2^100 (f32's largest is about 2^128): the f32 product neither
/// overflows nor loses a term to underflow, and its error is the ordinary rounding of
/// f32 arithmetic (a relative 2^-24 per operation). Zeros are exact in either type.
pub const F32_RANGE: (f64, f64, f64) = (
    8.881_784_197_001_252e-16,  // 2^-50
    1_125_899_906_842_624.0,    // 2^50
    1.267_650_600_228_229_4e30, // 2^100
);

thread_local! {
    /// The f32 operands of this thread's products, kept from one product to the next (a
    /// fresh array per product cost a quarter of the f32 trials' time in the kernel's
    /// clearing of new pages).
    static OPERANDS: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// An operand converted to f32 into `buf` (in the logical order of its view, whatever its
/// layout), in one pass that also finds its largest |value|; `None` when a nonzero value
/// lies outside [`F32_RANGE`] or is not finite.
fn to_f32<D: ndarray::Dimension>(
    a: &ndarray::ArrayView<f64, D>,
    buf: &mut Vec<f32>,
) -> Option<f64> {
    let (lo, hi, _) = F32_RANGE;
    let (mut top, mut bottom, mut nan) = (0.0f64, f64::INFINITY, false);
    buf.clear();
    buf.resize(a.len(), 0.0);
    let mut take = |d: &mut f32, v: f64| {
        let m = v.abs();
        top = top.max(m);
        bottom = bottom.min(if m == 0.0 { f64::INFINITY } else { m });
        nan |= v.is_nan();
        *d = v as f32;
    };
    match a.as_slice() {
        Some(s) => buf.iter_mut().zip(s).for_each(|(d, v)| take(d, *v)),
        None => {
            let out = ndarray::ArrayViewMut::from_shape(a.raw_dim(), buf).ok()?;
            ndarray::Zip::from(out).and(a).for_each(|d, v| take(d, *v));
        }
    }
    if nan || top > hi || bottom < lo {
        return None;
    }
    Some(top)
}

/// The batched product `x y` (`x` of nb·m·k elements read as (nb, m, k) in its logical
/// order, `y` of nb·k·n as (nb, k, n)) computed in f32, the operands converted once from
/// their views; `None` (compute it in f64) when the operands are outside [`F32_RANGE`]
/// or a value of the result is not finite.
fn f32_product<D: ndarray::Dimension, E: ndarray::Dimension>(
    x: &ndarray::ArrayView<f64, D>,
    y: &ndarray::ArrayView<f64, E>,
    (nb, m, k, n): (usize, usize, usize, usize),
) -> Option<ndarray::Array3<f32>> {
    OPERANDS.with(|bufs| {
        let mut bufs = bufs.try_borrow_mut().ok()?;
        let (xb, yb) = &mut *bufs;
        let xm = to_f32(x, xb)?;
        let ym = to_f32(y, yb)?;
        if xm * ym * k as f64 > F32_RANGE.2 {
            return None;
        }
        let x32 = ndarray::ArrayView3::from_shape((nb, m, k), &xb[..]).ok()?;
        let y32 = ndarray::ArrayView3::from_shape((nb, k, n), &yb[..]).ok()?;
        let mut c = ndarray::Array3::<f32>::zeros((nb, m, n));
        for bi in 0..nb {
            matmul(
                x32.index_axis(Axis(0), bi),
                y32.index_axis(Axis(0), bi),
                c.index_axis_mut(Axis(0), bi),
                0.0,
            );
        }
        c.iter().all(|v| v.is_finite()).then_some(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(shape: (usize, usize, usize), scale: f64, rng: &mut ChaCha8Rng) -> Array3<f64> {
        Array3::from_shape_fn(shape, |_| (rng.random::<f64>() - 0.5) * scale)
    }

    fn f64_product(x: &Array3<f64>, y: &Array3<f64>) -> Array3<f64> {
        let (nb, m, _) = x.dim();
        let n = y.dim().2;
        let mut c = Array3::<f64>::zeros((nb, m, n));
        for bi in 0..nb {
            matmul(
                x.index_axis(Axis(0), bi),
                y.index_axis(Axis(0), bi),
                c.index_axis_mut(Axis(0), bi),
                0.0,
            );
        }
        c
    }

    /// Inside the range the f32 product is the f64 one to f32's rounding: each element
    /// within k · 2^-23 of the sum of |x||y| over its terms (the classical bound of a
    /// dot product, twice over for the conversions), at scales from 10^-9 to 10^9.
    #[test]
    fn f32_products_agree_with_f64_to_single_rounding() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (scale, (nb, m, k, n)) in [
            (1.0, (1, 7, 5, 3)),
            (1e-9, (2, 16, 40, 9)),
            (1e9, (3, 33, 17, 65)),
            (3.0, (1, 64, 300, 8)),
        ] {
            let x = random((nb, m, k), scale, &mut rng);
            let y = random((nb, k, n), scale, &mut rng);
            let single = f32_product(&x.view(), &y.view(), (nb, m, k, n)).expect("in range");
            let exact = f64_product(&x, &y);
            let abs = f64_product(&x.mapv(f64::abs), &y.mapv(f64::abs));
            for ((s, e), a) in single.iter().zip(&exact).zip(&abs) {
                let bound = (k as f64 + 2.0) * 2f64.powi(-23) * a;
                assert!(
                    (f64::from(*s) - e).abs() <= bound,
                    "scale {scale}: {s} against {e} (bound {bound})"
                );
            }
        }
    }

    /// Operands outside [2^-50, 2^50], not finite, or whose product could pass 2^100 are
    /// not multiplied in f32 (the caller computes them in f64): 1e30 · 1e30 overflows
    /// f32, 1e-30 · 1e-30 underflows it to 0, and neither may reach a verdict.
    #[test]
    fn f32_products_out_of_range_are_refused() {
        let ones = Array3::<f64>::from_elem((1, 2, 3), 1.0);
        let ones_t = Array3::<f64>::from_elem((1, 3, 2), 1.0);
        assert!(f32_product(&ones.view(), &ones_t.view(), (1, 2, 3, 2)).is_some());
        for v in [
            1e30,
            1e-30,
            f64::NAN,
            f64::INFINITY,
            2f64.powi(51),
            2f64.powi(-51),
        ] {
            let mut x = ones.clone();
            x[[0, 1, 2]] = v;
            assert!(
                f32_product(&x.view(), &ones_t.view(), (1, 2, 3, 2)).is_none(),
                "{v}"
            );
            let mut y = ones_t.clone();
            y[[0, 0, 1]] = v;
            assert!(
                f32_product(&ones.view(), &y.view(), (1, 2, 3, 2)).is_none(),
                "{v}"
            );
        }
        // Each operand in range, their product's bound not: 2^49 · 2^49 · 8 > 2^100.
        let big = Array3::<f64>::from_elem((1, 1, 8), 2f64.powi(49));
        let big_t = Array3::<f64>::from_elem((1, 8, 1), 2f64.powi(49));
        assert!(f32_product(&big.view(), &big_t.view(), (1, 1, 8, 1)).is_none());
        // Zeros are exact and always allowed.
        let zero = Array3::<f64>::zeros((1, 2, 3));
        let p = f32_product(&zero.view(), &ones_t.view(), (1, 2, 3, 2)).expect("zeros");
        assert!(p.iter().all(|v| *v == 0.0));
    }
}
