//! Refutations by enclosure and range, the supports of leaves, and the points at a claim's kinks.

use super::*;

/// Whether an interval enclosure of both sides at the point shows the relation failing
/// (`None`: a side has no enclosure).
pub(super) fn enclosed_fails(
    op: RelOp,
    a: &sym::Expr,
    b: &sym::Expr,
    pt: &BTreeMap<String, BigRational>,
) -> Option<bool> {
    let (l, r) = (sym::defined::enclose(a, pt)?, sym::defined::enclose(b, pt)?);
    Some(match op {
        RelOp::Eq | RelOp::Approx => l.1 < r.0 || r.1 < l.0,
        RelOp::Le => l.0 > r.1,
        RelOp::Lt => l.0 >= r.1,
        RelOp::Ge => l.1 < r.0,
        RelOp::Gt => l.1 <= r.0,
    })
}

/// Whether the range facts of both sides at the point (exact rational bounds,
/// `sym::fails_by_range_at`) show the relation failing: the second path of an exact
/// failure that an enclosure in floating point cannot separate.
pub(super) fn ranged_fails(
    op: RelOp,
    a: &sym::Expr,
    b: &sym::Expr,
    pt: &BTreeMap<String, BigRational>,
) -> bool {
    crate::claims::scalar::relation(op).is_some_and(|rel| sym::fails_by_range_at(a, &rel, b, pt))
}

/// Where a declared tensor's elements lie (its distribution's support), when that is
/// narrower than every real.
#[derive(Debug)]
pub(super) enum Support {
    /// One of these whole numbers (a Bernoulli mask, a class).
    Values(Vec<i64>),
    /// Between these ends (both included).
    Interval(BigRational, BigRational),
    /// Narrower than the reals, but not written out at the sample values (`uniform(-s,
    /// s)`): the exact check is not run on such elements.
    Unknown,
}

/// The supports of the tensors declared with a distribution, at the sample sizes.
pub(super) fn supports(
    program: &Program,
    sizes: &BTreeMap<String, i64>,
) -> BTreeMap<String, Support> {
    let number = |e: &ast::Expr| -> Option<BigRational> {
        let t = crate::syntax::printer::print_expr(e);
        let t = t.trim();
        if let Some(n) = sizes.get(t) {
            return Some(rat(*n, 1));
        }
        match t.strip_prefix('-') {
            Some(r) => sym::parse_number(r.trim()).map(|x| -x),
            None => sym::parse_number(t),
        }
    };
    let mut out = BTreeMap::new();
    for item in &program.items {
        let ast::ItemKind::Decl(d) = &item.kind else {
            continue;
        };
        if d.kind == ast::DeclKind::Grad {
            continue;
        }
        let Some(ast::Init::Dist(c)) = &d.init else {
            continue;
        };
        let key = crate::syntax::printer::print_name(&d.target.name);
        let support = match (c.func.name.as_str(), c.args.as_slice()) {
            ("bernoulli", [p]) => match number(p) {
                Some(p) if p == rat(1, 1) => Support::Values(vec![1]),
                Some(p) if p == rat(0, 1) => Support::Values(vec![0]),
                _ => Support::Values(vec![0, 1]),
            },
            ("uniform", [lo, hi]) => match (number(lo), number(hi)) {
                (Some(lo), Some(hi)) if lo <= hi => Support::Interval(lo, hi),
                _ => Support::Unknown,
            },
            ("categorical", [n]) => match number(n).and_then(|n| {
                num_traits::ToPrimitive::to_i64(&n.to_integer()).filter(|k| (1..=64).contains(k))
            }) {
                Some(k) => Support::Values((0..k).collect()),
                None => Support::Unknown,
            },
            ("normal" | "moments", _) => continue,
            _ => Support::Unknown,
        };
        out.insert(key, support);
    }
    out
}

/// Whether `e` contains a Heaviside step (an Iverson bracket).
pub(super) fn has_step(e: &sym::Expr) -> bool {
    match e {
        sym::Expr::Num(_) | sym::Expr::Sym(_) => false,
        sym::Expr::Func(f, x) => *f == sym::Func::Step || has_step(x),
        sym::Expr::Pow(b, x) => has_step(b) || has_step(x),
        sym::Expr::Mul(v) | sym::Expr::Add(v) => v.iter().any(has_step),
    }
}

/// A written-out element: where, both sides, the givens' facts, the definedness
/// conditions.
pub(super) type Side = (
    String,
    sym::Expr,
    sym::Expr,
    Vec<(sym::Expr, RelOp, sym::Expr)>,
    BTreeSet<sym::Condition>,
);

/// How a refutation at a kink point says so.
pub(in crate::claims::tensor_sym) const KINK_NOTE: &str = "a point at a kink:";

/// Kink points made for each kink argument (each from a fresh draw of the others).
pub(super) const KINK_TRIES: usize = 4;

/// The most kink arguments a claim's points are made at.
pub(super) const MAX_KINKS: usize = 8;

/// The arguments at which the written-out sides are not differentiable or not continuous:
/// of every step (an Iverson bracket, relu's derivative), relu and abs (the built-in
/// table's kinks, docs/language.md), each once, as `arg − kink`.
pub(super) fn kink_arguments(sides: &[Side]) -> Vec<sym::Expr> {
    pub(super) fn walk(e: &sym::Expr, out: &mut Vec<sym::Expr>) {
        match e {
            sym::Expr::Num(_) | sym::Expr::Sym(_) => {}
            sym::Expr::Func(f, x) => {
                let at: &[i64] = if *f == sym::Func::Step {
                    &[0]
                } else {
                    f.entry().kinks
                };
                for k in at {
                    let arg = sym::Expr::add(vec![(**x).clone(), sym::Expr::int(-k)]);
                    if arg.as_num().is_none() && !out.contains(&arg) {
                        out.push(arg);
                    }
                }
                walk(x, out);
            }
            sym::Expr::Pow(b, x) => {
                walk(b, out);
                walk(x, out);
            }
            sym::Expr::Mul(v) | sym::Expr::Add(v) => v.iter().for_each(|x| walk(x, out)),
        }
    }
    let mut out = Vec::new();
    for (_, a, b, facts, _) in sides {
        walk(a, &mut out);
        walk(b, &mut out);
        for (x, _, y) in facts {
            walk(x, &mut out);
            walk(y, &mut out);
        }
    }
    out.truncate(MAX_KINKS);
    out
}

/// A point where `arg` is exactly 0: every symbol drawn (those `free` says range over
/// every real as small whole numbers, from −2 to 2, so that products of them are powers
/// of two and a floating-point run at the point reaches the kink exactly too; the rest by
/// `draw`, else 1 or 2), then one free
/// symbol the argument is affine in solved for. `None` when no such symbol makes it 0.
pub(super) fn kink_point(
    arg: &sym::Expr,
    draw_syms: &[String],
    sizes: &BTreeMap<String, i64>,
    free: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
    draw: impl Fn(&str, &mut ChaCha8Rng) -> Option<BigRational>,
) -> Option<BTreeMap<String, BigRational>> {
    let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
    for s in draw_syms {
        let v = if free(s) {
            rat(rng.random_range(-2..=2), 1)
        } else {
            draw(s, rng).unwrap_or_else(|| rat(rng.random_range(1..=2), 1))
        };
        pt.insert(s.clone(), v);
    }
    for (s, v) in sizes {
        pt.insert(s.clone(), rat(*v, 1));
    }
    let mut candidates: Vec<&String> = arg
        .free_symbols()
        .into_iter()
        .filter_map(|s| draw_syms.iter().find(|d| **d == s))
        .filter(|s| free(s))
        .collect();
    // A different symbol first on each try.
    if !candidates.is_empty() {
        let k = rng.random_range(0..candidates.len());
        candidates.rotate_left(k);
    }
    // Of the points found, the first whose solved value floating point holds exactly (a
    // denominator that is a power of two), else the first.
    let mut first = None;
    for s in candidates {
        let at = |v: i64, pt: &mut BTreeMap<String, BigRational>| {
            pt.insert(s.clone(), rat(v, 1));
            sym::eval_exact(arg, pt).ok()
        };
        let mut trial = pt.clone();
        let (Some(e0), Some(e1), Some(e2)) =
            (at(0, &mut trial), at(1, &mut trial), at(2, &mut trial))
        else {
            continue;
        };
        let slope = e1.clone() - e0.clone();
        if slope == rat(0, 1) || e2 - e1 != slope {
            continue;
        }
        let v = -e0 / slope;
        let binary = v.denom().magnitude().count_ones() == 1;
        trial.insert(s.clone(), v);
        // Affine along the three points need not mean affine everywhere (a kink of an
        // inner function between them): the argument must be 0 at the point itself.
        if sym::eval_exact(arg, &trial).is_ok_and(|v| v == rat(0, 1)) {
            if binary {
                return Some(trial);
            }
            first.get_or_insert(trial);
        }
    }
    first
}

/// The sides written out at `sizes` are undefined for every value of the elements: a
/// condition that reads the sizes alone fails there; or a given on the sizes alone
/// excludes them (`Err`). `None` otherwise.
#[allow(clippy::type_complexity)]
pub(super) fn undefined_at_sizes(
    sides: &[(
        String,
        sym::Expr,
        sym::Expr,
        Vec<(sym::Expr, RelOp, sym::Expr)>,
        BTreeSet<sym::Condition>,
    )],
    sizes: &BTreeMap<String, i64>,
    label: &str,
) -> Option<Result<Exact, String>> {
    // A condition that reads the sizes alone and fails at them (`I - 1 ≠ 0` of a
    // division by `I - 1`, at I = 1): no point of these sizes is a point of the claim,
    // which is undefined there (session 33: `y[b,i] == x[b,i]` of `y = x (I - 1)/(I - 1)`
    // was confirmed from the sample sizes while the least sizes were "not tested").
    let size_point: BTreeMap<String, BigRational> =
        sizes.iter().map(|(k, v)| (k.clone(), rat(*v, 1))).collect();
    // A condition with no symbol (`0 ≠ 0` at one element) is that element's, not the
    // sizes': another element may still refute the claim (sound29 nonfinite_elements.tq).
    let only_sizes = |e: &sym::Expr| {
        let free = e.free_symbols();
        !free.is_empty() && free.iter().all(|s| sizes.contains_key(s))
    };
    let mut undefined = None;
    for (_, _, _, facts, conds) in sides {
        // A given that reads the sizes alone and fails at them (`given I >= 2` at I = 1)
        // excludes these sizes: the claim is not about them.
        let excluded = facts.iter().any(|(x, fop, y)| {
            only_sizes(x)
                && only_sizes(y)
                && match (
                    sym::eval_exact(x, &size_point),
                    sym::eval_exact(y, &size_point),
                ) {
                    (Ok(x), Ok(y)) => !holds(*fop, &x, &y),
                    _ => false,
                }
        });
        if excluded {
            return Some(Err(format!("the givens exclude {}", listed(sizes))));
        }
        let failing = conds
            .iter()
            .find(|c| only_sizes(c.expr()) && fails_at(c, &size_point));
        // Every element undefined there (one defined element may refute the claim).
        let c = failing?;
        undefined.get_or_insert_with(|| {
            format!(
                "the claim is undefined at {label} ({}): `{c}` fails there for every value of the elements, and undefined is never confirmed (a given on the sizes says which sizes the claim is about)",
                listed(sizes)
            )
        });
    }
    undefined.map(|why| Ok(Exact::Undefined(why)))
}
