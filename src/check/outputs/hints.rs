//! The messages of the output-size diagnostics (E0303, E0304): where a read falls
//! outside, the sizes that fit, and the size to declare as a formula where the read's
//! form gives one (a window read forward from the output position; one that reaches
//! back, `t-DT`, is suggested read forward).

use super::{Axis, Fit, Point, Read};
use crate::check::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::Boundary;
use std::collections::BTreeSet;

pub(super) fn rule(b: Boundary) -> &'static str {
    match b {
        Boundary::Zero => "zero",
        Boundary::Circular => "circular",
        Boundary::Valid => "valid",
    }
}

/// The values of the sizes and symbols a read involves, for the message.
pub(super) fn point_text(axis: &Axis, r: &Read, p: &Point, env: &Env) -> String {
    let mut names = vec![axis.size.clone(), r.extent.clone()];
    names.extend(r.syms.iter().cloned());
    for w in &r.windows {
        names.push(w.size.clone());
        names.extend(w.syms.iter().cloned());
    }
    let mut seen = BTreeSet::new();
    let parts: Vec<String> = names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .filter_map(|n| p.vals.get(&n).map(|v| format!("{n} = {v}")))
        .collect();
    let _ = env;
    format!("{} ({})", p.what, parts.join(", "))
}

/// The size that fits under `valid` as a formula, where the read's form allows one:
/// `floor((X - DX)/2) + 1`, `X - DX + 1`.
pub(super) fn valid_formula(r: &Read) -> Option<String> {
    if r.coef <= 0 || r.windows.iter().any(|w| w.centered || !w.syms.is_empty()) {
        return None;
    }
    // A window that starts below the output position (`x+DX-1`, or a one-sided window
    // that reaches back, `t-DT`) reads outside at the first position for some sizes: no
    // size formula fits ([`forward_read`] gives the read that has one).
    if r.constant < 0 || r.windows.iter().any(|w| w.coef < 0) {
        return None;
    }
    // fit = floor((N - 1 - hi)/s) + 1, hi = c0 + sum_{c>0} c (W - 1)
    let mut k = -1 - r.constant;
    let mut text = r.extent.clone();
    for w in &r.windows {
        if w.coef > 0 {
            k += w.coef;
            if w.coef == 1 {
                text.push_str(&format!(" - {}", w.capital));
            } else {
                text.push_str(&format!(" - {} {}", w.coef, w.capital));
            }
        }
    }
    let stride = if r.syms.is_empty() {
        r.coef.to_string()
    } else if r.coef == 1 {
        r.syms.join(" ")
    } else {
        format!("{} {}", r.coef, r.syms.join(" "))
    };
    if stride == "1" {
        k += 1;
        return Some(match k {
            0 => text,
            k if k > 0 => format!("{text} + {k}"),
            k => format!("{text} - {}", -k),
        });
    }
    let inner = match k {
        0 => text,
        k if k > 0 => format!("{text} + {k}"),
        k => format!("{text} - {}", -k),
    };
    Some(format!("floor(({inner})/{stride}) + 1"))
}

pub(super) fn valid_outside(
    axis: &Axis,
    r: &Read,
    f: &Fit,
    y: i128,
    fit: i128,
    p: &Point,
    env: &Env,
) -> Diagnostic {
    let (lo, hi) = f.reach(y);
    let bad = if hi > f.n - 1 {
        format!("up to position {hi}, beyond its last position {}", f.n - 1)
    } else {
        format!("down to position {lo}, below 0")
    };
    if let Some(hint) = forward_hint(axis, r) {
        return outside(axis, r, &bad, p, env).with_hint(format!(
            "{} ({} = {fit} there): {hint}",
            if fit == 0 {
                "no output position fits".to_string()
            } else {
                format!("{fit} output positions fit")
            },
            axis.size
        ));
    }
    let fits = if fit == 0 && f.lo < 0 && f.s > 0 && !axis.centered {
        // A centred window (`x+DX-1`) under `valid`: the output starts where the window
        // is inside.
        format!(
            "no output position fits: the first one already reads outside, the window starting {0} below the output position; shift the read `{1}` by +{0} and write the output at `{2}+{0}`, which keeps it aligned with the input",
            -f.lo, r.text, axis.index
        )
    } else if fit == 0 {
        "no output position fits: the first one already reads outside".to_string()
    } else {
        format!("{fit} output positions fit")
    };
    let formula = declare_size(axis, r);
    outside(axis, r, &bad, p, env).with_hint(format!(
        "{fits} ({} = {fit} there){formula}; or read under `boundary zero`",
        axis.size
    ))
}

/// E0303 without its hint: `r` read outside (`bad`: where) for the outputs of `axis`.
pub(super) fn outside(axis: &Axis, r: &Read, bad: &str, p: &Point, env: &Env) -> Diagnostic {
    Diagnostic::error(
        "E0303",
        r.span,
        format!(
            "under `boundary valid`, `{}` is read at `{}` {bad} for the outputs `{}` in {}, {}",
            r.tensor,
            r.text,
            axis.index,
            if axis.centered {
                format!("-({0}-1)/2..({0}-1)/2 (centred)", axis.size)
            } else {
                format!("0..{}-1", axis.size)
            },
            point_text(axis, r, p, env)
        ),
    )
    .with_label(format!("reads outside `{}`", r.tensor))
    .with_related(
        axis.index_span,
        format!("the output axis over `{}`", axis.size),
    )
}

/// A one-sided window that reaches back from the output position (`t-DT`, a causal
/// window, at stride 1): the same window read forward from the output position
/// (`t+DT`), whose valid outputs start at 0, and its valid size (`T - DT + 1`). Output
/// `t` of the forward read is output `t + D - 1` of the causal one, the window reversed.
pub(super) fn forward_read(axis: &Axis, r: &Read) -> Option<(String, String)> {
    let back = r.windows.iter().any(|w| w.coef < 0);
    if !back || axis.centered || r.coef != 1 || !r.syms.is_empty() {
        return None;
    }
    let mut fwd = r.clone();
    fwd.constant = 0;
    let mut text = axis.index.clone();
    for w in &mut fwd.windows {
        w.coef = w.coef.abs();
        if w.coef == 1 {
            text.push_str(&format!("+{}", w.capital));
        } else {
            text.push_str(&format!("+{}*{}", w.coef, w.capital));
        }
    }
    Some((text, valid_formula(&fwd)?))
}

/// The hint for a read through a window that reaches back (`t-DT`) under `valid`.
pub(super) fn forward_hint(axis: &Axis, r: &Read) -> Option<String> {
    let (text, formula) = forward_read(axis, r)?;
    Some(format!(
        "the window reaches back from the output position, so under `valid` the first outputs read outside whatever the sizes: read it forward, `{}` at `{text}`, over `size {} = {formula}` (output `{}` then stands for the last position of its window, the weights reversed); or keep the read under `boundary zero`",
        r.tensor, axis.size, axis.index
    ))
}

/// The end of the hints of E0303 and E0304: ": declare `size Y = X - DX + 1`" when the
/// read gives the valid output size a formula ([`valid_formula`]), else nothing.
pub(super) fn declare_size(axis: &Axis, r: &Read) -> String {
    if axis.centered {
        return String::new();
    }
    valid_formula(r)
        .map(|f| format!(": declare `size {} = {f}`", axis.size))
        .unwrap_or_default()
}

pub(super) fn valid_short(
    axis: &Axis,
    reads: &[&Read],
    y: i128,
    fit: i128,
    p: &Point,
    env: &Env,
) -> Diagnostic {
    let r = reads[0];
    // A size to declare only when one read decides the axis.
    let formula = if reads.len() == 1 {
        declare_size(axis, r)
    } else {
        String::new()
    };
    on_output_axis(
        axis,
        r,
        format!(
            "under `boundary valid`, the output axis `{}` has {y} positions but {fit} fit: position {y} reads only inside `{}` as well, {}",
            axis.index,
            r.tensor,
            point_text(axis, r, p, env)
        ),
        format!(
            "a valid output keeps every position whose reads are inside ({} = {fit} there){formula}",
            axis.size
        ),
    )
}

/// E0304 at an output axis whose size does not fit the read `r`.
fn on_output_axis(axis: &Axis, r: &Read, message: String, hint: String) -> Diagnostic {
    Diagnostic::warning("E0304", axis.index_span, message)
        .with_label(format!("over `{}`", axis.size))
        .with_related(r.span, format!("`{}` read here", r.tensor))
        .with_hint(hint)
}

pub(super) fn valid_own(
    axis: &Axis,
    r: &Read,
    f: &Fit,
    y: i128,
    p: &Point,
    env: &Env,
) -> Diagnostic {
    // Every position whose reads are inside, wherever it is (a centred window such as
    // `x+DX-1` reads outside at both ends, not only past the last position).
    let inside = f.inside_count(y);
    Diagnostic::warning(
        "E0304",
        r.span,
        format!(
            "under `boundary valid`, `{}` is read at `{}` over its own extent `{}`: outputs read outside, and those reads give 0 as under zero padding ({inside} of the {y} positions read only inside), {}",
            r.tensor,
            r.text,
            r.extent,
            point_text(axis, r, p, env)
        ),
    )
    .with_label("reads outside at the border")
    .with_related(axis.index_span, format!("the output axis over `{}`", axis.size))
    .with_hint(match forward_read(axis, r) {
        Some((text, formula)) => format!(
            "for a valid convolution, declare the output over a size of its own that fits the reads ({inside} positions there): the window reaches back from the output position, so read it forward, `{}` at `{text}`, over `size H = {formula}` (a size of its own, any name; output `{}` then stands for the last position of its window, the weights reversed); for zero padding, say `boundary zero`",
            r.tensor, axis.index
        ),
        None => format!(
            "for a valid convolution, declare the output over a size of its own that fits the reads ({inside} positions there); for zero padding, say `boundary zero`"
        ),
    })
}

pub(super) fn padded(axis: &Axis, r: &Read, f: &Fit, y: i128, p: &Point, env: &Env) -> Diagnostic {
    let same = f.same();
    let stride = f.s.abs();
    let same_text = if stride == 1 {
        format!("`{}`", r.extent)
    } else {
        format!("ceil({}/{stride})", r.extent)
    };
    let (why, allowed) = if p.boundary == Boundary::Zero {
        let full = f.full();
        let why = if y < same {
            format!("smaller than the `same` size {same_text} = {same}")
        } else {
            match full {
                Some(full) => format!(
                    "larger than the `full` size {full}: the positions from {full} read only padding"
                ),
                None => "every position reads only padding".to_string(),
            }
        };
        let allowed = match full {
            Some(full) if full > same => format!("from {same} (`same`) to {full} (`full`)"),
            _ => format!("{same} (`same`)"),
        };
        (why, allowed)
    } else {
        (
            format!("not the `same` size {same_text} = {same}: the reads wrap around"),
            format!("{same} (`same`)"),
        )
    };
    on_output_axis(
        axis,
        r,
        format!(
            "under `boundary {}`, the output axis `{}` has {y} positions, {why}, {}",
            rule(p.boundary),
            axis.index,
            point_text(axis, r, p, env)
        ),
        format!(
            "under `boundary {}` the output size that fits these reads is {allowed} there",
            rule(p.boundary)
        ),
    )
}
