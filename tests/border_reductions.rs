//! Session 39 (border39, probe38/p a02): reductions over a padded dimension read at a
//! shift by the element's own index. A convolution's weight gradient
//! `W.grad[dx] = sum_{b,x} y.grad[b,x] h[b, s x + c dx + o]` and a correlation at a lag
//! `c[b,k] = u[b,X] v[b, X + g k + o]` sum over the border at (almost) every shift, at
//! every size: the value "away from the border" is the shift 0's, no generic element's.
//! `Var(W.grad) == B X v` was proved. The generator below builds such models with random
//! taps, strides, dilations, signs, offsets and boundaries, computes every element's
//! moment by counting the reads inside the range (independent of tq), and checks that no
//! whole-tensor claim is proved unless it holds at every element, and that every one
//! true at every element of a circular model is still proved (the fix refuses only
//! what it must).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tq::report::check_source;
use tq::verdict::Verdict;

/// One generated model: its source and, per tap (element along the shifted axis), the
/// number of summed positions whose read falls inside the range.
struct Model {
    src: String,
    counts: Vec<i64>,
    /// The claimed count (the whole-tensor claim says every tap has it).
    claimed: i64,
    what: &'static str,
}

/// Reads `p` of a dimension of extent `n` under the boundary: inside or wrapped.
fn inside(p: i64, n: i64, circular: bool) -> bool {
    circular || (0..n).contains(&p)
}

/// A 1-D convolution `o[b,y,j] = W[DX,C,j] h[b, s y + g DX + f, C]` and the claim
/// `Var(W.grad) == B Y v` at fixed sizes (every tap of W.grad sums B Y terms of variance
/// v under circular padding; under zero padding, only its reads inside).
fn weight_gradient(rng: &mut ChaCha8Rng) -> Model {
    let d: i64 = rng.random_range(1..=4);
    let x: i64 = rng.random_range(2..=7);
    let stride: i64 = rng.random_range(1..=2);
    let dil: i64 = rng.random_range(1..=2);
    let sign: i64 = if rng.random_bool(0.3) { -1 } else { 1 };
    let off: i64 = match rng.random_range(0..3) {
        0 => 0,
        1 => -(d - 1) / 2,
        _ => -1,
    };
    let circular = rng.random_bool(0.35);
    // Output positions: the read dimension's own extent X (a "same" convolution) or
    // ceil(X / stride).
    let same = stride == 1 || rng.random_bool(0.5);
    let y = if same { x } else { (x + stride - 1) / stride };
    let (ysize, yi) = if same { ("X", "x") } else { ("Y", "y") };
    let mut pos = if stride == 1 {
        yi.to_string()
    } else {
        format!("{stride} {yi}")
    };
    pos.push_str(if sign < 0 { " - " } else { " + " });
    pos.push_str(&if dil == 1 {
        "DX".to_string()
    } else {
        format!("{dil} DX")
    });
    if off != 0 {
        pos.push_str(&format!(" - {}", -off));
    }
    let counts: Vec<i64> = (0..d)
        .map(|dx| {
            (0..y)
                .filter(|&yy| inside(stride * yy + sign * dil * dx + off, x, circular))
                .count() as i64
        })
        .collect();
    let out_decl = if same {
        String::new()
    } else {
        format!("size Y = ceil(X / {stride})\n")
    };
    let src = format!(
        "size B, X, C, J, D\n{out_decl}index dx : D\nsymbol s, v\nboundary {}\nparam W[D, C, J] ~ normal(0, s)\ninput h[B, X, C] ~ normal(0, v)\ngrad o ~ normal(0, 1)\no[b,{yi},j] = W[DX,C,j] h[b,{pos},C]\nclaim Var(W.grad) == B {ysize} v given D = {d}, X = {x}\nsample B = 2, X = {x}, C = 2, J = 2, D = {d}, s = 1/2, v = 1\n",
        if circular { "circular" } else { "zero" },
    );
    Model {
        src,
        counts,
        claimed: y,
        what: "weight gradient",
    }
}

/// A correlation at a lag, `c[b,k] = u[b,X] v[b, X + g k + o]`, u and v ~ N(1, 1)
/// independent: E(c[b,k]) is the number of its reads inside; the claim `E(c) == X`.
fn lag_correlation(rng: &mut ChaCha8Rng) -> Model {
    let k: i64 = rng.random_range(2..=4);
    let x: i64 = rng.random_range(2..=6);
    let sign: i64 = if rng.random_bool(0.5) { -1 } else { 1 };
    let off: i64 = rng.random_range(0..=1);
    let circular = rng.random_bool(0.35);
    let counts: Vec<i64> = (0..k)
        .map(|kk| {
            (0..x)
                .filter(|&xx| inside(xx + sign * kk - off, x, circular))
                .count() as i64
        })
        .collect();
    let pos = format!(
        "X {} k{}",
        if sign < 0 { "-" } else { "+" },
        if off != 0 { " - 1" } else { "" }
    );
    let src = format!(
        "size B, X, K\nindex k : K\nboundary {}\ninput u[B, X] ~ normal(1, 1)\ninput v[B, X] ~ normal(1, 1)\nc[b,k] = u[b,X] v[b,{pos}]\nclaim E(c) == X given K = {k}, X = {x}\nsample B = 2, X = {x}, K = {k}\n",
        if circular { "circular" } else { "zero" },
    );
    Model {
        src,
        counts,
        claimed: x,
        what: "lag correlation",
    }
}

/// No whole-tensor claim over a reduction read at a shift is proved unless every element
/// has the claimed value; a claim true at every element of a circular model stays proved.
#[test]
fn no_shifted_reduction_is_proved_unless_true_at_every_shift() {
    let mut rng = ChaCha8Rng::seed_from_u64(39);
    let (mut proved, mut true_circular, mut refused_false) = (0, 0, 0);
    for i in 0..48 {
        let m = if i % 3 == 2 {
            lag_correlation(&mut rng)
        } else {
            weight_gradient(&mut rng)
        };
        // BORDER_DUMP=DIR writes each model (to run another build of tq on them).
        if let Ok(dir) = std::env::var("BORDER_DUMP") {
            let _ = std::fs::write(format!("{dir}/g{i:02}.tq"), &m.src);
        }
        let r = check_source("g.tq", &m.src, &common::fast());
        let errors: Vec<_> = r
            .diagnostics
            .iter()
            .filter(|d| d.severity == tq::diag::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}\n{errors:?}", m.src);
        assert_eq!(r.claims.len(), 1, "{}", m.src);
        let c = &r.claims[0];
        let holds = m.counts.iter().all(|&n| n == m.claimed);
        if c.verdict == Verdict::Proved {
            proved += 1;
            assert!(
                holds,
                "{} proved though the elements have {:?} (claimed {}):\n{}\n{}",
                m.what, m.counts, m.claimed, m.src, c.evidence
            );
        }
        if c.verdict == Verdict::Confirmed {
            assert!(
                holds,
                "{} confirmed though the elements have {:?} (claimed {}):\n{}\n{}",
                m.what, m.counts, m.claimed, m.src, c.evidence
            );
        }
        if c.verdict == Verdict::Refuted {
            assert!(
                !holds,
                "{} refuted though every element has {}:\n{}\n{}",
                m.what, m.claimed, m.src, c.evidence
            );
        }
        if holds && m.src.contains("circular") {
            true_circular += 1;
            assert_eq!(
                c.verdict,
                Verdict::Proved,
                "{} true at every element of a circular model:\n{}\n{}",
                m.what,
                m.src,
                c.evidence
            );
        }
        if !holds && c.verdict != Verdict::Proved {
            refused_false += 1;
        }
    }
    // The run tests something on both sides.
    assert!(proved > 3 && true_circular > 3, "{proved} {true_circular}");
    assert!(refused_false > 10, "{refused_false}");
}

/// probe38/p a04: im2col, `cols[b,x,dx,c] = h[b,x+dx,c]`: the position `x + dx` has two of
/// the left side's own indices, and the boundary checks took the tap axis `dx` for an
/// output axis (E0304 "the output axis `dx` has 3 positions, smaller than the same size
/// X", and under `valid` E0303 with the hint `size D = X - X + 1`). The position belongs
/// to the index whose size is the read dimension's extent (`x` over `X`).
#[test]
fn im2col_taps_are_not_output_axes() {
    let model = |boundary: &str, cols: &str, read: &str, sizes: &str, extra: &str| {
        format!(
            "size B, X, Y, C, D\nindex dx, dy : D\n{extra}boundary {boundary}\ninput h[B, Y, X, C] ~ normal(0, 1)\ncols[{cols}] = h[{read}]\nclaim mults(cols) == 0\nsample {sizes}\n"
        )
    };
    let sizes = "B = 2, X = 5, Y = 4, C = 2, D = 3";
    let clean = [
        // 1-D (on the x axis), 2-D, dilated, reversed, under zero and circular padding.
        ("zero", "b,y,x,dx,c", "b,y,x+dx,c"),
        ("circular", "b,y,x,dx,c", "b,y,x+dx,c"),
        ("zero", "b,y,x,dy,dx,c", "b,y+dy-1,x+dx-1,c"),
        ("circular", "b,y,x,dy,dx,c", "b,y+dy,x+dx,c"),
        ("zero", "b,y,x,dx,c", "b,y,x+2dx,c"),
        ("zero", "b,y,x,dx,c", "b,y,x-dx,c"),
    ];
    for (boundary, cols, read) in clean {
        let src = model(boundary, cols, read, sizes, "");
        let r = check_source("i.tq", &src, &common::fast());
        let codes: Vec<_> = r.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.is_empty(), "{src}\n{:?}", r.diagnostics);
    }
    // Under `valid` the x axis keeps X positions: its last reads fall outside (E0304 on
    // the axis over `X`), and the hint sizes the x axis, never the taps from `X - X`.
    for (cols, read) in [("b,y,x,dx,c", "b,y,x+dx,c"), ("b,y,x,dx,c", "b,y,x+2dx,c")] {
        let src = model("valid", cols, read, sizes, "");
        let r = check_source("i.tq", &src, &common::fast());
        assert!(
            r.diagnostics
                .iter()
                .any(|d| matches!(d.code, "E0303" | "E0304") && d.message.contains("extent `X`")),
            "{src}\n{:?}",
            r.diagnostics
        );
        for d in &r.diagnostics {
            let text = format!("{} {:?} {:?}", d.message, d.hint, d.label);
            assert!(!text.contains("X - X"), "{src}\n{text}");
            assert!(!text.contains("over `D`"), "{src}\n{text}");
        }
    }
    // The working valid form: an output size for the x axis.
    let src = model(
        "valid",
        "b,y,p,dx,c",
        "b,y,p+dx,c",
        sizes,
        "size P = X - D + 1\n",
    );
    let r = check_source("i.tq", &src, &common::fast());
    assert!(r.diagnostics.is_empty(), "{src}\n{:?}", r.diagnostics);
}
