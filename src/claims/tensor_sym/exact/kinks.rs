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

/// Whether an interval enclosure of both sides at the point carries a floating-point
/// agreement: the relation holds for every pair of values in them, or it is one a tie
/// satisfies and both enclosures are narrow (a relative width of at most 1e-9, the
/// tolerance of the comparison). No enclosure (an underflow to 0, an overflow): false.
pub(super) fn enclosed_holds(
    op: RelOp,
    a: &sym::Expr,
    b: &sym::Expr,
    pt: &BTreeMap<String, BigRational>,
) -> bool {
    let (Some(l), Some(r)) = (sym::defined::enclose(a, pt), sym::defined::enclose(b, pt)) else {
        return false;
    };
    let narrow = |e: (f64, f64)| e.1 - e.0 <= 1e-9 * e.0.abs().max(e.1.abs()).max(1.0);
    // A tie only where the enclosures meet: two narrow enclosures apart (`exp(x - 30)`
    // against 0, 10⁻¹³ apart, within the absolute 1e-9 of the floating-point
    // comparison) show the sides exactly different, so their agreement within the
    // tolerance is no evidence (session 38, issue 14 p16).
    let meet = l.0 <= r.1 && r.0 <= l.1;
    let tie = narrow(l) && narrow(r) && meet;
    match op {
        RelOp::Eq | RelOp::Approx => tie,
        RelOp::Le => l.1 <= r.0 || tie,
        RelOp::Ge => l.0 >= r.1 || tie,
        RelOp::Lt => l.1 < r.0,
        RelOp::Gt => l.0 > r.1,
    }
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

/// The supports of the tensors declared with a distribution, at the sample sizes and
/// under the claim's settings (`settings`: `given p = 1` makes a `bernoulli(p)` mask 1
/// everywhere, a closed end of its domain: probe36 b20, where `y[n] == x[n] given p = 1`
/// of inverted dropout was refuted at a mask drawn 0).
pub(super) fn supports(
    program: &Program,
    sizes: &BTreeMap<String, i64>,
    settings: &[(String, ast::Expr, Option<i64>)],
) -> BTreeMap<String, Support> {
    let number = |e: &ast::Expr| -> Option<BigRational> {
        let t = crate::syntax::printer::print_expr(e);
        let t = t.trim();
        if let Some(n) = sizes.get(t) {
            return Some(rat(*n, 1));
        }
        if let Some((_, v, None)) = settings.iter().find(|(n, _, _)| n == t) {
            let v = crate::syntax::printer::print_expr(v);
            let v = v.trim();
            return match v.strip_prefix('-') {
                Some(r) => sym::parse_number(r.trim()).map(|x| -x),
                None => sym::parse_number(v),
            };
        }
        match t.strip_prefix('-') {
            Some(r) => sym::parse_number(r.trim()).map(|x| -x),
            None => sym::parse_number(t),
        }
    };
    let mut out = BTreeMap::new();
    // Top-level declarations only: the model's items, listed once per file (perf42).
    for item in crate::syntax::model_items::model_items(program) {
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
                num_traits::ToPrimitive::to_i64(&n.to_integer())
                    .filter(|k| (1..=MAX_CLASSES).contains(k))
            }) {
                Some(k) => Support::Values((0..k).collect()),
                None => Support::Unknown,
            },
            // Every real: a `symmetric(v)` element is any distribution symmetric about 0
            // with variance v, the normal among them (probe39/h l03: the exact check was
            // not run, and a claim false on (2/5, 3/5) was confirmed on 4 sampled
            // elements).
            ("normal" | "moments" | "symmetric", _) => continue,
            _ => Support::Unknown,
        };
        out.insert(key, support);
    }
    out
}

/// The most classes of a `categorical(n)` input whose elements the exact check draws
/// (probe39/h l10: at `size K = 100` the support was not written out, the exact check
/// not run, and a claim false at the class 99 only confirmed on a sampled run).
const MAX_CLASSES: i64 = 65_536;

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
#[allow(clippy::too_many_arguments)]
pub(super) fn kink_point(
    arg: &sym::Expr,
    draw_syms: &[String],
    sizes: &BTreeMap<String, i64>,
    free: &dyn Fn(&str) -> bool,
    along: &dyn Fn(&str) -> Option<Along>,
    admits: &dyn Fn(&str, &BigRational) -> bool,
    rng: &mut ChaCha8Rng,
    draw: impl Fn(&str, &mut ChaCha8Rng) -> Option<BigRational>,
) -> Option<BTreeMap<String, BigRational>> {
    let pt = base_point(draw_syms, sizes, free, rng, &draw);
    let found = kink_solved(arg, &pt, draw_syms, free, rng);
    if found.is_some() {
        return found;
    }
    // No free element makes the argument 0: one with a narrower support, or a declared
    // symbol, the argument is affine in, solved for and kept when the value lies in its
    // support or domain (probe39: `abs(x[i] - 71/100)` of a `uniform(0, 1)` element;
    // `relu(mg - x[n]^2)`, affine in the margin `mg` only, p04). The claim is decided at
    // the point exactly, with its givens, as at every point.
    let mut others: Vec<&String> = arg
        .free_symbols()
        .into_iter()
        .filter_map(|s| draw_syms.iter().find(|d| **d == s))
        .filter(|s| !free(s) && !sizes.contains_key(*s))
        .collect();
    // Elements with a support before symbols.
    others.sort_by_key(|s| !s.contains('['));
    for s in others {
        if matches!(along(s), Some(Along::Values(_))) {
            continue;
        }
        let Some(v) = root_along(arg, s, &pt) else {
            continue;
        };
        if admits(s, &v) {
            let mut p = pt.clone();
            p.insert(s.clone(), v);
            return Some(p);
        }
    }
    None
}

/// [`kink_point`]'s search among the free symbols at the point `pt`.
fn kink_solved(
    arg: &sym::Expr,
    pt: &BTreeMap<String, BigRational>,
    draw_syms: &[String],
    free: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
) -> Option<BTreeMap<String, BigRational>> {
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

/// A point made on purpose besides the random ones (each is extra: counted neither as
/// agreeing nor as unvalued).
pub(super) enum Special {
    /// The argument of a step, relu or abs exactly 0 (session 31).
    Kink(sym::Expr),
    /// A given's two sides equal (`x[i] <= c` at x[i] = c): the edge of the region the
    /// given admits (session 33).
    Edge(sym::Expr),
    /// One element halfway between where a given's sides are equal and where a kink's
    /// argument, or the claim's two sides' difference, is 0 (session 33): `x.grad[i] ==
    /// 2 x[i] y.grad[i] given x[i] < 1/1000` of `y = relu(x) + x^2` fails only for x[i]
    /// in (0, 1/1000), which no random point reached, and was confirmed.
    Between(sym::Expr, sym::Expr),
    /// The claim's two sides' difference at one element, a function of that element
    /// alone once the sizes are set (`(x[b] + 1)^2 - 1/100`): the one-variable search
    /// the scalar engine gives the same inequality (probe38/p a03: the element claim
    /// was confirmed by random points, the scalar twin refuted). Part `k` of the
    /// candidates ([`one_variable_points`]), [`KINK_TRIES`] of them per part.
    OneVar(sym::Expr, usize),
}

/// Parts of [`Special::OneVar`] per difference: `ONE_VAR_PARTS * KINK_TRIES` candidates.
pub(super) const ONE_VAR_PARTS: usize = 2;
/// Differences searched along their one element (the elements' differences have one
/// shape; the first few are enough).
const MAX_ONE_VAR: usize = 2;
/// The largest difference (in expression nodes) searched along its one element.
const MAX_ONE_VAR_NODES: usize = 200;

/// Candidate values of `s` for a difference `d` of one variable (every other symbol
/// already set): for a polynomial, one point in every interval of constant sign between
/// its real roots (Sturm sections, `sym::sturm`, as the scalar engine's); then the least
/// and the greatest value of `d` on a grid of [-8, 8] in steps of 1/16 (floating point
/// picks the point; the claim is decided there exactly, as at every point).
/// Where a variable of the one-variable search ranges: every real (an element of a
/// `normal`, `moments` or `symmetric` input, or without a distribution), an interval (a
/// `uniform` element), or whole numbers (a `categorical` class, a Bernoulli mask).
#[derive(Clone, Debug)]
pub(super) enum Along {
    Real,
    Interval(BigRational, BigRational),
    Values(Vec<i64>),
}

/// Where the search may move a symbol: along every real when it is free, else inside
/// its support (`None`: not moved).
pub(super) fn along_of(free: bool, support: Option<&Support>) -> Option<Along> {
    if free {
        return Some(Along::Real);
    }
    match support {
        Some(Support::Interval(lo, hi)) => Some(Along::Interval(lo.clone(), hi.clone())),
        Some(Support::Values(vs)) => Some(Along::Values(vs.clone())),
        _ => None,
    }
}

/// Whether `v` is a value the symbol `s` may take: inside its support (an element), in
/// its domain (a declared symbol: positive without a narrower one, every real when
/// signed; positive also when a given says so). Sizes and other symbols: never.
pub(super) fn admits(
    s: &str,
    v: &BigRational,
    support: Option<&Support>,
    env: &Env,
    positive: &BTreeSet<String>,
) -> bool {
    match support {
        Some(Support::Interval(lo, hi)) => return lo <= v && v <= hi,
        Some(_) => return false,
        None => {}
    }
    if env.sizes.contains_key(s) || (positive.contains(s) && *v <= rat(0, 1)) {
        return false;
    }
    match env.domains.get(s) {
        Some(d) => d.contains(v),
        None if env.symbols.contains_key(s) => env.signed.contains(s) || *v > rat(0, 1),
        None => false,
    }
}

/// The most values of a [`Along::Values`] variable the search evaluates one by one.
const MAX_VALUES_SEARCHED: usize = 4_096;

/// [`one_variable_points`] over where the variable ranges: for an interval, the Sturm
/// sections inside it (its ends among them) and the least and greatest value on a grid
/// of 256 steps across it; for whole numbers, the values where `d` is least and greatest
/// (each value tried, up to [`MAX_VALUES_SEARCHED`]) and the two ends (probe39/h l03,
/// l10: a claim false inside a `uniform` support or at the classes 0 or K − 1 only was
/// confirmed).
pub(super) fn one_variable_points_along(d: &sym::Expr, s: &str, along: &Along) -> Vec<BigRational> {
    match along {
        Along::Real => one_variable_points(d, s),
        Along::Interval(lo, hi) => {
            let mut out = Vec::new();
            if let Some(p) = crate::sym::sturm::poly_of(&crate::sym::expand(d), s) {
                let (l, h) = (Some((lo.clone(), false)), Some((hi.clone(), false)));
                if let Some(sec) = crate::sym::sturm::sections(&p, &l, &h, false) {
                    for v in sec.points {
                        let simple = crate::sym::sturm::simpler(&v, |w| {
                            lo <= w
                                && w <= hi
                                && crate::sym::sturm::sign_at(&p, w)
                                    == crate::sym::sturm::sign_at(&p, &v)
                        });
                        out.push(simple);
                    }
                }
            }
            let at = |k: i64| lo.clone() + (hi.clone() - lo.clone()) * rat(k, 256);
            let value = |k: i64| -> Option<f64> {
                let x = num_traits::ToPrimitive::to_f64(&at(k))?;
                let y = d.eval_f64(&[(s.to_string(), x)].into()).ok()?;
                y.is_finite().then_some(y)
            };
            out.extend(extremes(0..=256, value).into_iter().map(at));
            out
        }
        Along::Values(vs) => {
            let mut out = Vec::new();
            if vs.len() <= MAX_VALUES_SEARCHED {
                let value = |k: i64| -> Option<f64> {
                    let y = d.eval_f64(&[(s.to_string(), k as f64)].into()).ok()?;
                    y.is_finite().then_some(y)
                };
                out.extend(
                    extremes(vs.iter().copied(), value)
                        .into_iter()
                        .map(|k| rat(k, 1)),
                );
            }
            out.extend(vs.first().map(|k| rat(*k, 1)));
            out.extend(vs.last().map(|k| rat(*k, 1)));
            out
        }
    }
}

/// The arguments where `value` is least and where it is greatest (the first of equal
/// values), in that order.
fn extremes(ks: impl Iterator<Item = i64>, value: impl Fn(i64) -> Option<f64>) -> Vec<i64> {
    let mut least: Option<(f64, i64)> = None;
    let mut most: Option<(f64, i64)> = None;
    for k in ks {
        let Some(y) = value(k) else { continue };
        if least.is_none_or(|(m, _)| y < m) {
            least = Some((y, k));
        }
        if most.is_none_or(|(m, _)| y > m) {
            most = Some((y, k));
        }
    }
    least.into_iter().chain(most).map(|(_, k)| k).collect()
}

pub(super) fn one_variable_points(d: &sym::Expr, s: &str) -> Vec<BigRational> {
    let mut out = Vec::new();
    if let Some(p) = crate::sym::sturm::poly_of(&crate::sym::expand(d), s) {
        if let Some(sec) = crate::sym::sturm::sections(&p, &None, &None, false) {
            for v in sec.points {
                let simple = crate::sym::sturm::simpler(&v, |w| {
                    crate::sym::sturm::sign_at(&p, w) == crate::sym::sturm::sign_at(&p, &v)
                });
                out.push(simple);
            }
        }
    }
    let mut least: Option<(f64, i64)> = None;
    let mut most: Option<(f64, i64)> = None;
    for k in -128..=128i64 {
        let at: BTreeMap<String, f64> = [(s.to_string(), k as f64 / 16.0)].into();
        let Ok(y) = d.eval_f64(&at) else { continue };
        if !y.is_finite() {
            continue;
        }
        if least.is_none_or(|(m, _)| y < m) {
            least = Some((y, k));
        }
        if most.is_none_or(|(m, _)| y > m) {
            most = Some((y, k));
        }
    }
    for (_, k) in least.into_iter().chain(most) {
        out.push(rat(k, 16));
    }
    out
}

impl Special {
    /// How a refutation at the point says where it is.
    pub(super) fn note(&self) -> String {
        match self {
            Special::Kink(k) => format!(" ({KINK_NOTE} `{}` = 0 there)", sym::to_ascii(k)),
            Special::Edge(d) => format!(
                " (a point at the edge of a given: `{}` = 0 there)",
                sym::to_ascii(d)
            ),
            Special::Between(d, k) => format!(
                " (a point between the edge of a given, `{}` = 0, and `{}` = 0)",
                sym::to_ascii(d),
                sym::to_ascii(k)
            ),
            Special::OneVar(d, _) => format!(
                " (a point of the one-variable search of `{}`: a section between its real roots, or its least or greatest value on a grid)",
                sym::to_ascii(d)
            ),
        }
    }
}

/// The most given edges a claim's points are made at, and the most arguments each is
/// paired with for the points between.
pub(super) const MAX_EDGES: usize = 4;
pub(super) const MAX_PARTNERS: usize = 6;

/// The special points of a claim: each kink (as before), then each given's edge, then
/// for each given's edge and each kink argument or difference of the claim's sides
/// (where the claim's truth may change), the point between them. A given's edge is its
/// difference `left − right` (facts with numbers on both sides are left out).
pub(super) fn special_points(sides: &[Side]) -> Vec<Special> {
    let kinks = kink_arguments(sides);
    let mut edges: Vec<sym::Expr> = Vec::new();
    let mut diffs: Vec<sym::Expr> = Vec::new();
    for (_, a, b, facts, _) in sides {
        for (x, _, y) in facts {
            let d = x.clone() - y.clone();
            if d.as_num().is_none() && !edges.contains(&d) {
                edges.push(d);
            }
        }
        let d = a.clone() - b.clone();
        if d.as_num().is_none() && !diffs.contains(&d) {
            diffs.push(d);
        }
    }
    edges.truncate(MAX_EDGES);
    let mut out: Vec<Special> = kinks.iter().cloned().map(Special::Kink).collect();
    // A difference of many nodes (a softmax's, written out) reads many elements: it is
    // never of one variable, and its points spent the exact-work budget of claims the
    // random points prove (lead19/scaled_attention_grad.tq line 16 went undecided).
    for d in diffs
        .iter()
        .filter(|d| d.node_count() <= MAX_ONE_VAR_NODES)
        .take(MAX_ONE_VAR)
    {
        for k in 0..ONE_VAR_PARTS {
            out.push(Special::OneVar(d.clone(), k));
        }
    }
    if edges.is_empty() {
        return out;
    }
    let partners: Vec<sym::Expr> = kinks
        .iter()
        .chain(diffs.iter())
        .filter(|k| !edges.contains(k))
        .take(MAX_PARTNERS)
        .cloned()
        .collect();
    for d in &edges {
        out.push(Special::Edge(d.clone()));
        for k in &partners {
            let shared = d
                .free_symbols()
                .intersection(&k.free_symbols())
                .next()
                .is_some();
            if shared {
                out.push(Special::Between(d.clone(), k.clone()));
            }
        }
    }
    out
}

/// The root along `s` of an argument affine in it at the point (others fixed), when
/// there is one.
fn root_along(arg: &sym::Expr, s: &str, pt: &BTreeMap<String, BigRational>) -> Option<BigRational> {
    let mut trial = pt.clone();
    let mut at = |v: i64| {
        trial.insert(s.to_string(), rat(v, 1));
        sym::eval_exact(arg, &trial).ok()
    };
    let (e0, e1, e2) = (at(0)?, at(1)?, at(2)?);
    let slope = e1.clone() - e0.clone();
    if slope == rat(0, 1) || e2 - e1 != slope {
        return None;
    }
    let v = -e0 / slope;
    trial.insert(s.to_string(), v.clone());
    sym::eval_exact(arg, &trial)
        .is_ok_and(|x| x == rat(0, 1))
        .then_some(v)
}

/// A point for a [`Special`]: [`kink_point`] for a kink or a given's edge; for a point
/// between, every symbol drawn as [`kink_point`] draws them (on odd tries the free ones
/// from 1 to 2, so that a given such as `y.grad[i] > 0` beside the edge holds), then one
/// free symbol both arguments are affine in set halfway between their roots.
#[allow(clippy::too_many_arguments)]
pub(super) fn special_point(
    special: &Special,
    try_no: usize,
    draw_syms: &[String],
    sizes: &BTreeMap<String, i64>,
    free: &dyn Fn(&str) -> bool,
    along: &dyn Fn(&str) -> Option<Along>,
    admits: &dyn Fn(&str, &BigRational) -> bool,
    rng: &mut ChaCha8Rng,
    draw: impl Fn(&str, &mut ChaCha8Rng) -> Option<BigRational>,
) -> Option<BTreeMap<String, BigRational>> {
    let positive = try_no % 2 == 1;
    let free_draw = |rng: &mut ChaCha8Rng| {
        if positive {
            rat(rng.random_range(1..=2), 1)
        } else {
            rat(rng.random_range(-2..=2), 1)
        }
    };
    let (d, k) = match special {
        Special::OneVar(d, part) => {
            return one_variable_point(
                d,
                *part * KINK_TRIES + try_no,
                draw_syms,
                sizes,
                (free, along),
                rng,
                draw,
            )
        }
        Special::Kink(a) | Special::Edge(a) if !positive => {
            return kink_point(a, draw_syms, sizes, free, along, admits, rng, draw)
        }
        Special::Kink(a) | Special::Edge(a) => (a, None),
        Special::Between(d, k) => (d, Some(k)),
    };
    let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
    for s in draw_syms {
        let v = if free(s) {
            free_draw(rng)
        } else {
            draw(s, rng).unwrap_or_else(|| rat(rng.random_range(1..=2), 1))
        };
        pt.insert(s.clone(), v);
    }
    for (s, v) in sizes {
        pt.insert(s.clone(), rat(*v, 1));
    }
    let mut candidates: Vec<String> = d
        .free_symbols()
        .into_iter()
        .filter(|s| draw_syms.contains(s) && free(s))
        .filter(|s| k.is_none_or(|k| k.free_symbols().contains(s)))
        .collect();
    if !candidates.is_empty() {
        let r = rng.random_range(0..candidates.len());
        candidates.rotate_left(r);
    }
    for s in candidates {
        let Some(rd) = root_along(d, &s, &pt) else {
            continue;
        };
        let v = match k {
            None => rd,
            Some(k) => {
                let Some(rk) = root_along(k, &s, &pt) else {
                    continue;
                };
                if rk == rd {
                    continue;
                }
                (rd + rk) / rat(2, 1)
            }
        };
        let mut p = pt.clone();
        p.insert(s, v);
        return Some(p);
    }
    None
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

/// A point for [`Special::OneVar`]: every symbol drawn as [`kink_point`] draws them,
/// then, when the difference `d` reads one free element once the sizes are set, that
/// element at its `n`-th candidate ([`one_variable_points`]); `None` otherwise.
///
/// A difference of several elements (`(x[i] - z[i] - 1/3)^2 - 1/10000`, a band away
/// from the origin: probe39/h l03) is searched along one of them with the others at the
/// drawn point: the `n`-th try takes the element `n mod m` of its `m` elements at its
/// candidate `n / m`. An element of a `uniform`, `categorical` or Bernoulli input is
/// searched inside its support ([`one_variable_points_along`]).
fn one_variable_point(
    d: &sym::Expr,
    n: usize,
    draw_syms: &[String],
    sizes: &BTreeMap<String, i64>,
    (free, along): Moves<'_>,
    rng: &mut ChaCha8Rng,
    draw: impl Fn(&str, &mut ChaCha8Rng) -> Option<BigRational>,
) -> Option<BTreeMap<String, BigRational>> {
    let mut d = d.clone();
    for (s, v) in sizes {
        d = d.subs(s, &sym::Expr::int(*v));
    }
    let vars: Vec<String> = d.free_symbols().into_iter().collect();
    if vars.is_empty() || vars.len() > MAX_ONE_VAR_ELEMENTS {
        return None;
    }
    // Every variable must be searchable or drawn at the point; one is searched.
    if vars.iter().any(|s| !draw_syms.contains(s)) {
        return None;
    }
    let searchable: Vec<(&String, Along)> = vars
        .iter()
        .filter_map(|s| along(s).map(|a| (s, a)))
        .collect();
    if let [s] = vars.as_slice() {
        // One variable (as before: a free one only along every real).
        let a = searchable.first().map(|x| x.1.clone())?;
        if matches!(a, Along::Real) && !free(s) {
            return None;
        }
        // Along every real as in session 38; inside a support by rank.
        let cands = one_variable_points_along(&d, s, &a);
        let v = match a {
            Along::Real => cands.into_iter().nth(n)?,
            _ => ranked(&d, s, cands, n)?,
        };
        let mut pt = base_point(draw_syms, sizes, free, rng, &draw);
        pt.insert(s.clone(), v);
        return Some(pt);
    }
    if searchable.is_empty() {
        return None;
    }
    let (s, a) = &searchable[n % searchable.len()];
    let k = n / searchable.len();
    let mut pt = base_point(draw_syms, sizes, free, rng, &draw);
    let mut along_s = d.clone();
    for other in vars.iter().filter(|o| o != s) {
        along_s = along_s.subs(other, &sym::Expr::num(pt.get(other)?.clone()));
    }
    let v = ranked(&along_s, s, one_variable_points_along(&along_s, s, a), k)?;
    pt.insert((*s).clone(), v);
    Some(pt)
}

/// The `k`-th of the candidates `cands` of `s` ranked by the value of `d` there,
/// alternately the least and the greatest (a relation fails where the difference is least
/// or greatest): the few tries reach the section between two close roots first, however
/// many points the bisection left between them and the ends (uniform(2, 6) with roots
/// 597/100 and 599/100: the section between them was the 10th point of 12).
fn ranked(d: &sym::Expr, s: &str, cands: Vec<BigRational>, k: usize) -> Option<BigRational> {
    let mut cands: Vec<(f64, BigRational)> = cands
        .into_iter()
        .filter_map(|v| {
            let at = [(s.to_string(), num_traits::ToPrimitive::to_f64(&v)?)].into();
            let y = d.eval_f64(&at).ok().filter(|y| y.is_finite())?;
            Some((y, v))
        })
        .collect();
    cands.sort_by(|x, y| x.0.total_cmp(&y.0));
    let i = if k.is_multiple_of(2) {
        k / 2
    } else {
        cands.len().checked_sub(1 + k / 2)?
    };
    cands.get(i).map(|x| x.1.clone())
}

/// Whether a symbol is free (every real) and where it may move ([`Along`]).
type Moves<'a> = (&'a dyn Fn(&str) -> bool, &'a dyn Fn(&str) -> Option<Along>);

/// The most elements a difference searched along one of them may read.
const MAX_ONE_VAR_ELEMENTS: usize = 4;

/// The point a special point starts from: each free symbol a small whole number in
/// [-2, 2], every other symbol drawn from its domain (1 or 2 where it has none), the sizes
/// at their values. Shared by [`kink_point`] and [`one_variable_point`].
fn base_point(
    draw_syms: &[String],
    sizes: &BTreeMap<String, i64>,
    free: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
    draw: &impl Fn(&str, &mut ChaCha8Rng) -> Option<BigRational>,
) -> BTreeMap<String, BigRational> {
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
    pt
}
