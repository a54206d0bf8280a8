//! Symbol domains, inferred once per file from the declarations (the one place that
//! does): a size is a whole number ≥ 1; a `bernoulli(p)` probability lies in (0, 1]; a
//! variance (`normal(m, v)`, `symmetric(v)`) and a second moment (`moments(m, s)`) are
//! ≥ 0, and a standard deviation written squared in them (`normal(0, sigma^2)`) is > 0;
//! `categorical(n)` makes n a whole number ≥ 1. A claim's givens narrow them further
//! (`given c > 0`, `given 3 <= t`, in the claim engines). Shown by `tq derive`.

use super::Env;
use crate::sym::Domain;
use crate::syntax::ast::{BinOp, Expr, Init, Item, ItemKind, Program};
use crate::syntax::printer::{print_expr, print_name};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

/// The domains of a file's sizes and symbols.
pub fn infer(program: &Program, env: &Env) -> BTreeMap<String, Domain> {
    let mut out: BTreeMap<String, Domain> = BTreeMap::new();
    for s in env.sizes.keys() {
        out.insert(s.clone(), Domain::size("a size"));
    }
    // A scalar input read as a distribution's parameter (`normal(0, alpha)`,
    // `bernoulli(alpha)`) is bounded like a symbol there: the model exists only inside
    // (probe33/a a25: `Var(x) >= 0` was refuted at alpha = -1, `Var(x) == -1 given
    // alpha = -1` proved).
    let scalar_input = |n: &str| env.scalars.contains_key(n) && !env.computed_scalars.contains(n);
    let mut add = |name: String, d: Domain| {
        if env.symbols.contains_key(&name) || env.sizes.contains_key(&name) || scalar_input(&name) {
            out.entry(name).and_modify(|o| o.meet(&d)).or_insert(d);
        }
    };
    fn walk(items: &[Item], f: &mut dyn FnMut(&crate::syntax::ast::Call)) {
        for it in items {
            match &it.kind {
                ItemKind::Decl(d) => {
                    if let Some(Init::Dist(c)) = &d.init {
                        f(c);
                    }
                }
                ItemKind::Loop(l) => walk(&l.body, f),
                ItemKind::ForIndices(l) => walk(&l.body, f),
                _ => {}
            }
        }
    }
    walk(&program.items, &mut |c| {
        let dist = c.func.name.as_str();
        let why = format!(
            "{dist}({})",
            c.args.iter().map(print_expr).collect::<Vec<_>>().join(", ")
        );
        let arg = |k: usize| c.args.get(k);
        match dist {
            "bernoulli" => match arg(0) {
                Some(Expr::Ref(r)) if r.indices.is_none() => {
                    add(
                        print_name(&r.name),
                        Domain::probability(&format!("a probability in {why}")),
                    );
                }
                Some(Expr::Ref(_)) => {}
                // `bernoulli(1 - p)`: 0 <= c + k p <= 1 bounds p.
                Some(e) => {
                    let Some((name, k, c)) = affine_in_one(e, env) else {
                        // `bernoulli(p q)`: 0 <= p q <= 1 as relations of its symbols.
                        // 0 < p q as for a plain probability (p = 0 keeps nothing).
                        let (zero, one) =
                            (Expr::Num("0".into(), c.span), Expr::Num("1".into(), c.span));
                        relate(&mut add, env, e, &[(&zero, "<", e), (e, "<=", &one)], &why);
                        return;
                    };
                    {
                        // The end where the probability is 0 is left out, as for
                        // `bernoulli(p)` (session 26: `bernoulli(1 - q)` took q = 1,
                        // a mask that keeps nothing, and refuted `q < 1` there).
                        let zero = BigRational::zero();
                        let one = BigRational::one();
                        let (a, b) = ((&zero - &c) / &k, (&one - &c) / &k);
                        let (lo, hi) = if a <= b {
                            ((a, true), (b, false))
                        } else {
                            ((b, false), (a, true))
                        };
                        add(
                            name,
                            Domain {
                                lo: Some(lo),
                                hi: Some(hi),
                                integer: false,
                                why: vec![format!("a probability in {why}")],
                                relations: Vec::new(),
                            },
                        );
                    }
                }
                None => {}
            },
            // `uniform(lo, hi)` needs lo < hi: when hi − lo is `k s + c` in one symbol,
            // that bounds s (`uniform(-sigma, sigma)`: sigma > 0).
            "uniform" => {
                if let (Some(lo), Some(hi)) = (arg(0), arg(1)) {
                    let Some((name, k, c)) = difference_in_one(hi, lo, env) else {
                        // `uniform(a, b)`: a < b as a relation of a and b.
                        let both = Expr::Binary(
                            BinOp::Sub,
                            Box::new(hi.clone()),
                            Box::new(lo.clone()),
                            c.span,
                        );
                        relate(&mut add, env, &both, &[(lo, "<", hi)], &why);
                        return;
                    };
                    {
                        let edge = -c / &k;
                        let d = if k.is_positive() {
                            Domain {
                                lo: Some((edge, true)),
                                ..Domain::default()
                            }
                        } else {
                            Domain {
                                hi: Some((edge, true)),
                                ..Domain::default()
                            }
                        };
                        add(
                            name,
                            Domain {
                                why: vec![format!("lower end below the upper in {why}")],
                                ..d
                            },
                        );
                    }
                }
            }
            "categorical" => {
                if let Some(Expr::Ref(r)) = arg(0) {
                    if r.indices.is_none() {
                        add(
                            print_name(&r.name),
                            Domain::size(&format!("a count in {why}")),
                        );
                    }
                }
            }
            "normal" | "symmetric" | "moments" => {
                // `moments(m, s)`: a second moment is at least the mean squared (Var ≥ 0),
                // s ≥ m²: a bound on s when m is a number (`moments(1, q)`: q ≥ 1) (session 24: `Var(h_L) >= v` of a chain of such
                // factors was refuted at q = 0, a distribution of mean 1 that no variable has).
                if let (true, Some(mean), Some(second)) = (dist == "moments", arg(0), arg(1)) {
                    let mean_c = affine(mean, env)
                        .and_then(|(m, k)| m.values().all(|v| v.is_zero()).then_some(k));
                    match (mean_c, second) {
                        (Some(k), _) if k.is_zero() => {}
                        (Some(k), Expr::Ref(r)) if r.indices.is_none() && !r.grad => {
                            add(
                                print_name(&r.name),
                                Domain {
                                    lo: Some((&k * &k, false)),
                                    why: vec![format!(
                                        "a second moment at least the mean squared in {why}"
                                    )],
                                    ..Domain::default()
                                },
                            );
                        }
                        // A symbolic mean (`moments(mu, s)`), or a second moment written
                        // as an expression: mu stays a location (every real), and
                        // mu^2 <= s is kept as a relation of their symbols (session 26:
                        // `Var(e) >= 0` was refuted at mu = 1, s = 0).
                        _ => {
                            let two = Expr::Num("2".into(), c.span);
                            let square = Expr::Binary(
                                BinOp::Pow,
                                Box::new(mean.clone()),
                                Box::new(two),
                                c.span,
                            );
                            let both = Expr::Binary(
                                BinOp::Sub,
                                Box::new(second.clone()),
                                Box::new(square.clone()),
                                c.span,
                            );
                            // A variance written out (`moments(m, v + m^2)`: s − m² is v,
                            // a positive symbol or a non-negative number) needs no relation.
                            let variance = to_sym(&both, env).map(|d| crate::sym::expand(&d));
                            let evident = match &variance {
                                Some(crate::sym::Expr::Sym(n)) => {
                                    env.symbols.contains_key(n) || env.sizes.contains_key(n)
                                }
                                Some(crate::sym::Expr::Num(v)) => !v.is_negative(),
                                _ => false,
                            };
                            if !evident {
                                relate(&mut add, env, &both, &[(&square, "<=", second)], &why);
                            }
                        }
                    }
                }
                // `moments(m, s)` with a mean that is not 0: s >= m^2 above says s >= 0.
                let mean_zero = dist != "moments"
                    || arg(0)
                        .and_then(|m| affine(m, env))
                        .is_some_and(|(m, k)| m.values().all(|v| v.is_zero()) && k.is_zero());
                let k = if dist == "symmetric" { 0 } else { 1 };
                let what = if dist == "moments" {
                    "a second moment"
                } else {
                    "a variance"
                };
                if let Some(v) = arg(k) {
                    let mut factors = Vec::new();
                    if monomial(v, 1, &mut factors) {
                        let free: Vec<&(String, i64)> = factors
                            .iter()
                            .filter(|(n, p)| p % 2 != 0 && !env.sizes.contains_key(n))
                            .collect();
                        for (n, p) in &factors {
                            if p % 2 == 0 {
                                add(
                                    n.clone(),
                                    Domain::nonnegative(
                                        true,
                                        &format!("a standard deviation in {why}"),
                                    ),
                                );
                            }
                        }
                        if let [(n, _)] = free.as_slice() {
                            add(
                                n.clone(),
                                Domain::nonnegative(false, &format!("{what} in {why}")),
                            );
                        }
                    } else if let Some((name, k, c0)) = affine_in_one(v, env) {
                        // A variance written as `k s + c` (`normal(0, w - 1)`,
                        // `normal(0, 1 - r)`): k s + c >= 0 bounds s (session 26: `w >= 1`
                        // was refuted at w = 1/2, a negative variance).
                        let edge = -c0 / &k;
                        let d = if k.is_positive() {
                            Domain {
                                lo: Some((edge, false)),
                                ..Domain::default()
                            }
                        } else {
                            Domain {
                                hi: Some((edge, false)),
                                ..Domain::default()
                            }
                        };
                        add(
                            name,
                            Domain {
                                why: vec![format!("{what} in {why}")],
                                ..d
                            },
                        );
                    } else if mean_zero {
                        // Any other expression of symbols: 0 <= v as a relation.
                        let zero = Expr::Num("0".into(), c.span);
                        relate(
                            &mut add,
                            env,
                            v,
                            &[(&zero, "<=", v)],
                            &format!("{what} in {why}"),
                        );
                    }
                }
            }
            _ => {}
        }
    });
    // A symbol bounded only from above or only by relations (`normal(0, 1 - r)`: r <= 1)
    // is still a positive real unless the model reads it as a location (session 26:
    // once the variance bounded r, `Var(x) <= 1` was refuted at r = -5/6).
    let locations = signed(program, env);
    for (name, d) in out.iter_mut() {
        if d.lo.is_none() && !env.sizes.contains_key(name) && !locations.contains(name) {
            d.meet(&Domain::nonnegative(true, CONVENTION));
        }
    }
    out
}

/// Why a symbol that only relations (or nothing) bound is positive: tq's convention,
/// not a declaration (`check::vary` does not hold `sample`, `at` and `vary` values to it).
pub(crate) const CONVENTION: &str = "a positive real, tq's convention";

/// A product or quotient of names, their whole powers and positive numbers: the
/// names with their powers (`sigma_W^2 / J` gives sigma_W², J⁻¹).
fn monomial(e: &Expr, sign: i64, out: &mut Vec<(String, i64)>) -> bool {
    match e {
        Expr::Num(s, _) => s.parse::<f64>().is_ok_and(|v| v > 0.0),
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            out.push((print_name(&r.name), sign));
            true
        }
        Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            monomial(l, sign, out) && monomial(r, sign, out)
        }
        Expr::Binary(BinOp::Div, l, r, _) => monomial(l, sign, out) && monomial(r, -sign, out),
        Expr::Binary(BinOp::Pow, b, p, _) => match (&**b, super::givens::constant(p)) {
            (Expr::Ref(r), Some(n)) if r.indices.is_none() && n.fract() == 0.0 && n != 0.0 => {
                out.push((print_name(&r.name), sign * n as i64));
                true
            }
            (_, Some(n)) if n.fract() == 0.0 && (n as i64) % 2 == 0 => {
                // An even power of anything is ≥ 0; its names stay unconstrained.
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// An affine form `Σ k_s s + c` of symbols and scalar inputs (no sizes, tensors or
/// functions), exactly.
fn affine(e: &Expr, env: &Env) -> Option<(BTreeMap<String, BigRational>, BigRational)> {
    use crate::syntax::ast::UnOp;
    let scale = |(m, c): (BTreeMap<String, BigRational>, BigRational), f: &BigRational| {
        (
            m.into_iter()
                .map(|(k, v)| (k, v * f))
                .collect::<BTreeMap<_, _>>(),
            c * f,
        )
    };
    let constant = |x: &(BTreeMap<String, BigRational>, BigRational)| {
        x.0.values().all(|v| v.is_zero()).then(|| x.1.clone())
    };
    match e {
        Expr::Num(s, _) => Some((BTreeMap::new(), crate::sym::parse_number(s)?)),
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            let n = print_name(&r.name);
            // A scalar input too (`normal(0, 1 - r)` with `scalar r`: r <= 1).
            let scalar_input = env.scalars.contains_key(&n) && !env.computed_scalars.contains(&n);
            (env.symbols.contains_key(&n) || scalar_input).then(|| {
                (
                    BTreeMap::from([(n, BigRational::one())]),
                    BigRational::zero(),
                )
            })
        }
        Expr::Unary(UnOp::Neg, x, _) => Some(scale(affine(x, env)?, &-BigRational::one())),
        Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) => {
            let (mut m, c) = affine(l, env)?;
            let (n, d) = affine(r, env)?;
            let sign = if *op == BinOp::Add {
                BigRational::one()
            } else {
                -BigRational::one()
            };
            for (k, v) in n {
                let e = m.entry(k).or_insert_with(BigRational::zero);
                *e += v * &sign;
            }
            Some((m, c + d * sign))
        }
        Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            let (a, b) = (affine(l, env)?, affine(r, env)?);
            match (constant(&a), constant(&b)) {
                (Some(f), _) => Some(scale(b, &f)),
                (_, Some(f)) => Some(scale(a, &f)),
                _ => None,
            }
        }
        Expr::Binary(BinOp::Div, l, r, _) => {
            let f = constant(&affine(r, env)?)?;
            if f.is_zero() {
                return None;
            }
            Some(scale(affine(l, env)?, &f.recip()))
        }
        _ => None,
    }
}

/// `k s + c` with one symbol s and k ≠ 0: (s, k, c).
fn one_symbol(
    (m, c): (BTreeMap<String, BigRational>, BigRational),
) -> Option<(String, BigRational, BigRational)> {
    let mut live = m.into_iter().filter(|(_, v)| !v.is_zero());
    let (name, k) = live.next()?;
    live.next().is_none().then_some((name, k, c))
}

fn affine_in_one(e: &Expr, env: &Env) -> Option<(String, BigRational, BigRational)> {
    one_symbol(affine(e, env)?)
}

/// `hi − lo` as `k s + c` in one symbol.
fn difference_in_one(
    hi: &Expr,
    lo: &Expr,
    env: &Env,
) -> Option<(String, BigRational, BigRational)> {
    let (mut m, c) = affine(hi, env)?;
    let (n, d) = affine(lo, env)?;
    for (k, v) in n {
        let e = m.entry(k).or_insert_with(BigRational::zero);
        *e -= v;
    }
    one_symbol((m, c - d))
}

/// The arithmetic of numbers and symbols as a `sym` expression (`None` for anything
/// else: tensors, functions).
fn to_sym(e: &Expr, env: &Env) -> Option<crate::sym::Expr> {
    use crate::sym::Expr as S;
    use crate::syntax::ast::UnOp;
    Some(match e {
        Expr::Num(s, _) => S::num(crate::sym::parse_number(s)?),
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            let n = print_name(&r.name);
            if !env.symbols.contains_key(&n) && !env.sizes.contains_key(&n) {
                return None;
            }
            S::sym(&n)
        }
        Expr::Unary(UnOp::Neg, x, _) => -to_sym(x, env)?,
        Expr::Binary(op, l, r, _) => {
            let (a, b) = (to_sym(l, env)?, to_sym(r, env)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul | BinOp::Jux => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => S::pow(a, b),
            }
        }
        _ => return None,
    })
}

/// Relations (`lhs op rhs`) of the symbols `e` mentions, kept on each of them.
fn relate(
    add: &mut dyn FnMut(String, Domain),
    env: &Env,
    e: &Expr,
    rels: &[(&Expr, &str, &Expr)],
    why: &str,
) {
    let mut names = Vec::new();
    super::walk_refs(e, &mut |r| {
        let n = print_name(&r.name);
        if r.indices.is_none() && env.symbols.contains_key(&n) && !names.contains(&n) {
            names.push(n);
        }
    });
    let parsed: Vec<_> = rels
        .iter()
        .filter_map(|(l, op, r)| {
            let rel = match *op {
                "<" => crate::sym::Rel::Lt,
                _ => crate::sym::Rel::Le,
            };
            Some((to_sym(l, env)?, rel, to_sym(r, env)?))
        })
        .collect();
    if parsed.len() != rels.len() {
        return;
    }
    for n in names {
        add(
            n,
            Domain {
                why: vec![format!("a relation in {why}")],
                relations: parsed.clone(),
                ..Domain::default()
            },
        );
    }
}

/// The symbols read as a location: in the mean of `normal(m, v)` or `moments(m, s)`, in
/// an end of `uniform(a, b)`, or as a whole term of a sum in a statement (an offset or a
/// bias, `x[b] + c`). A mean may be negative: taken as a positive real (the
/// convention for other symbols), `E(z) > 0` for `z ~ normal(mu, v)` was proved. They
/// range over every real (their inferred domains, such as `uniform(-s, s)`'s s > 0,
/// still bound them).
pub fn signed(program: &Program, env: &Env) -> std::collections::BTreeSet<String> {
    fn names(e: &Expr, env: &Env, out: &mut std::collections::BTreeSet<String>) {
        if let Expr::Ref(r) = e {
            if r.indices.is_none() && !r.grad {
                let n = print_name(&r.name);
                if env.symbols.contains_key(&n) {
                    out.insert(n);
                }
            }
        }
        for c in crate::syntax::visit::children(e) {
            names(c, env, out);
        }
    }
    // A symbol written as a whole term of a sum with a value in a statement (`x[b] + c`,
    // `W x - m`, also inside a function's argument) is an offset: a location too. A value
    // is a tensor element, a whole tensor, and also a scalar one, computed or a leaf, or
    // a scalar input (`sv = W[I] x1[I]` / `z = sv + m`, `z = c + g` with `input g ~
    // normal(0, 1)`: `E(z) > 0` was proved with m, c drawn positive, probe 27). Beside a
    // number (`1 - a`, `(1 - beta) h`) or a size it stays a weight, a positive real by
    // the convention.
    // One pass, bottom up: whether each subexpression reads a value (a long sum is walked
    // once, not once per `+`).
    // An offset inside the argument of a root or a logarithm, in a denominator, or in the
    // base of a power that is no positive whole number (`x / sqrt(v + eps)`, `log(p +
    // eps)`, `(v + eps)^(-1/2)`) is a regulariser that keeps the value defined, not a
    // location: it stays a positive real (docs/language.md, "Claims": layer norm with
    // `+ eps` is proved; session 33: once the element engines read locations as every real,
    // `sum(LN^2)/J <= 1` was refuted at eps < 0).
    fn offsets(
        e: &Expr,
        env: &Env,
        out: &mut std::collections::BTreeSet<String>,
        shielded: bool,
    ) -> bool {
        let mut tensor = matches!(e, Expr::Ref(r) if r.indices.is_some() || r.grad || {
            let key = env.key_of(&r.name);
            !env.symbols.contains_key(&key)
                && (env.tensors.contains_key(&key) || env.scalars.contains_key(&key))
        });
        let shield = |k: usize| {
            shielded
                || match e {
                    Expr::Call(c) => matches!(c.func.name.as_str(), "sqrt" | "log" | "ln"),
                    Expr::Binary(BinOp::Div, ..) => k == 1,
                    Expr::Binary(BinOp::Pow, _, x, _) => {
                        k == 0
                            && !matches!(&**x, Expr::Num(n, _) if n.parse::<u64>().is_ok_and(|n| n > 0))
                    }
                    _ => false,
                }
        };
        let flags: Vec<bool> = crate::syntax::visit::children(e)
            .enumerate()
            .map(|(k, c)| offsets(c, env, out, shield(k)))
            .collect();
        tensor |= flags.iter().any(|f| *f);
        if let Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) = e {
            if let [fl, fr] = flags.as_slice() {
                for (side, other) in [(&**l, *fr), (&**r, *fl)] {
                    let mut t: &Expr = side;
                    while let Expr::Unary(_, x, _) = t {
                        t = x;
                    }
                    if matches!(t, Expr::Ref(_)) && other && !shielded {
                        names(t, env, out);
                    }
                }
            }
        }
        tensor
    }
    fn walk(items: &[Item], env: &Env, out: &mut std::collections::BTreeSet<String>) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(eq) => {
                    offsets(&eq.rhs, env, out, false);
                }
                ItemKind::Decl(d) => {
                    if let Some(Init::Dist(c)) = &d.init {
                        let locations: &[usize] = match c.func.name.as_str() {
                            "normal" | "moments" => &[0],
                            "uniform" => &[0, 1],
                            _ => &[],
                        };
                        for k in locations {
                            if let Some(a) = c.args.get(*k) {
                                names(a, env, out);
                            }
                        }
                    }
                }
                ItemKind::Loop(l) => walk(&l.body, env, out),
                ItemKind::ForIndices(l) => walk(&l.body, env, out),
                _ => {}
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&program.items, env, &mut out);
    // The members of a scalar leaf family range over every real, within their
    // declaration's support (`member_names`; snd41, issue #14 m01).
    out.extend(member_names(program, env).iter().map(print_name));
    out
}

/// Scalar leaves' supports: declared `input a` and `param w` without indices (and outside
/// families) range over every real in scalar claims, not the positive convention of
/// symbols (session 22: `input a ~ normal(0, 1)` / `claim a > 0` was proved), narrowed to
/// the interval of their distribution's support where its ends are numbers: `bernoulli`
/// [0, 1], `uniform(lo, hi)` [lo, hi], `categorical(n)` [0, n − 1]. The second map names
/// the leaves whose support is narrower than that interval: the whole numbers they take,
/// or `None` when these are not known (a symbolic end, another distribution).
#[allow(clippy::type_complexity)]
pub fn leaves(
    program: &Program,
    env: &Env,
) -> (BTreeMap<String, Domain>, BTreeMap<String, Option<Vec<i64>>>) {
    let mut domains = BTreeMap::new();
    let mut values = BTreeMap::new();
    // snd41 (issue #14, m01): a scalar family's members (`input c_l ~ normal(0, 1) for l
    // in 1..L`, read as `c_1`, `c_l`, `c_{l+1}`, `c_L`) have their declaration's support
    // as a plain scalar leaf has, keyed by each member's name as written.
    let mut families: BTreeMap<String, (Option<Domain>, Option<Option<Vec<i64>>>)> =
        BTreeMap::new();
    for it in &program.items {
        let ItemKind::Decl(d) = &it.kind else {
            continue;
        };
        if d.kind == crate::syntax::ast::DeclKind::Grad || d.target.indices.is_some() {
            continue;
        }
        let key = env.key_of(&d.target.name);
        let Some(t) = env.tensors.get(&key) else {
            continue;
        };
        if t.rank != 0 || t.kind == super::TensorKind::Computed {
            continue;
        }
        let family = t.family_arity > 0;
        if family && (d.family.is_none() || written(&program.items, &key, env)) {
            // A declared start of a family the model computes (`input h_0`, the loop
            // writing `h_{l+1}`): its members are computed values, not leaves.
            continue;
        }
        let (domain, vals) = match &d.init {
            Some(Init::Dist(c)) => support(c),
            // A member with a declared value (`param c_l = 0 for l ...`) is every real,
            // as a plain `param c = 0` is (a parameter's value is its initial one).
            _ if family => (None, None),
            _ => continue,
        };
        if family {
            families.insert(key, (domain, vals));
            continue;
        }
        if let Some(dm) = domain {
            domains.insert(key.clone(), dm);
        }
        if let Some(v) = vals {
            values.insert(key, v);
        }
    }
    if !families.is_empty() {
        for name in member_names(program, env) {
            let Some((domain, vals)) = families.get(&super::family_key(&name)) else {
                continue;
            };
            let n = print_name(&name);
            if let Some(dm) = domain {
                domains.insert(n.clone(), dm.clone());
            }
            if let Some(v) = vals {
                values.insert(n, v.clone());
            }
        }
    }
    (domains, values)
}

/// Whether a statement writes the tensor or family `key` (its left side).
fn written(items: &[Item], key: &str, env: &Env) -> bool {
    items.iter().any(|it| match &it.kind {
        ItemKind::Equation(eq) => env.key_of(&eq.lhs.name) == key,
        ItemKind::Loop(l) => written(&l.body, key, env),
        ItemKind::ForIndices(l) => written(&l.body, key, env),
        ItemKind::Rule(r) => written(&r.body, key, env),
        _ => false,
    })
}

/// The members of the file's scalar leaf families as written anywhere in it (`c_1`,
/// `c_l`, `c_{l+1}` of `input c_l ~ normal(0, 1) for l in 1..L`): each one is an atom
/// of the claim engines, a real within its declaration's support, never a positive
/// symbol by the convention for symbols (snd41, issue #14 m01: `sqrt(c_1^2) == c_1` was
/// proved).
pub fn member_names(program: &Program, env: &Env) -> Vec<crate::syntax::ast::Name> {
    let families: std::collections::BTreeSet<String> = program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Decl(d)
                if d.family.is_some()
                    && d.target.indices.is_none()
                    && d.kind != crate::syntax::ast::DeclKind::Grad =>
            {
                Some(env.key_of(&d.target.name))
            }
            _ => None,
        })
        .filter(|key| {
            env.tensors.get(key).is_some_and(|t| {
                t.rank == 0 && t.family_arity > 0 && t.kind != super::TensorKind::Computed
            }) && !written(&program.items, key, env)
        })
        .collect();
    let mut out: Vec<crate::syntax::ast::Name> = Vec::new();
    if families.is_empty() {
        return out;
    }
    let mut seen = std::collections::BTreeSet::new();
    for it in &program.items {
        super::numbers::item_exprs(it, &mut |e| {
            crate::syntax::visit::walk_refs(e, &mut |r| {
                if r.indices.is_some() || r.grad || r.name.sub.is_empty() {
                    return;
                }
                if families.contains(&super::family_key(&r.name))
                    && seen.insert(print_name(&r.name))
                {
                    out.push(r.name.clone());
                }
            });
        });
    }
    out
}

/// The support of one scalar leaf's distribution as [`leaves`] reads it: the interval
/// when its ends are numbers, and the whole numbers it takes (`Some(None)`: narrower than
/// the interval, not known; `None`: the interval is all).
#[allow(clippy::type_complexity)]
fn support(c: &crate::syntax::ast::Call) -> (Option<Domain>, Option<Option<Vec<i64>>>) {
    let number = |e: &Expr| -> Option<BigRational> {
        let t = print_expr(e);
        let t = t.trim();
        match t.strip_prefix('-') {
            Some(r) => crate::sym::parse_number(r.trim()).map(|x| -x),
            None => crate::sym::parse_number(t),
        }
    };
    let closed = |lo: BigRational, hi: BigRational, why: String| Domain {
        lo: Some((lo, false)),
        hi: Some((hi, false)),
        integer: false,
        why: vec![why],
        relations: Vec::new(),
    };
    let why = format!(
        "{}({})",
        c.func.name,
        c.args.iter().map(print_expr).collect::<Vec<_>>().join(", ")
    );
    match (c.func.name.as_str(), c.args.as_slice()) {
        ("normal" | "moments", _) => (None, None),
        ("bernoulli", [p]) => {
            let one = BigRational::one();
            let zero = BigRational::zero();
            let vals = match number(p) {
                Some(p) if p == one => vec![1],
                Some(p) if p.is_zero() => vec![0],
                _ => vec![0, 1],
            };
            (Some(closed(zero, one, why)), Some(Some(vals)))
        }
        ("uniform", [lo, hi]) => match (number(lo), number(hi)) {
            (Some(lo), Some(hi)) if lo <= hi => (Some(closed(lo, hi, why)), None),
            _ => (None, Some(None)),
        },
        ("categorical", [n]) => {
            let k = number(n).and_then(|n| {
                num_traits::ToPrimitive::to_i64(&n.to_integer()).filter(|k| (1..=64).contains(k))
            });
            match k {
                Some(k) => (
                    Some(closed(
                        BigRational::zero(),
                        BigRational::from_integer((k - 1).into()),
                        why,
                    )),
                    Some(Some((0..k).collect())),
                ),
                None => (None, Some(None)),
            }
        }
        _ => (None, Some(None)),
    }
}
