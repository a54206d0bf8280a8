//! A claim's givens solved as a system: the one resolved substitution, which
//! `analysis::givens` reads into typed parts for every engine.
//!
//! A given `name = expr` (or `name^n = expr`, or `expr = name` with a number on the left)
//! sets a size, a symbol or a scalar. The settings are solved in dependency order: each
//! right side has the values of the names it reads substituted, so that the result is
//! the same whatever order the givens are written in (`given a = 2, s = a` and
//! `given s = a, a = 2` both set s = 2). The other givens (inequalities, element and
//! whole-tensor givens) get the same values substituted. A cycle among the settings, a
//! name set twice, and a setting that no real value satisfies are diagnostics (E0511,
//! E0512; docs/diagnostics.md).

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::{BinOp, Binding, Expr, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use crate::syntax::span::Span;
use crate::syntax::visit::{map_children, walk_expr};
use std::collections::{BTreeSet, HashMap};

/// The most syntax nodes the resolved settings of one claim may hold together, counted
/// before each value is substituted. A chain of settings each reading the one before
/// (`s1 = s0 + 1, s2 = s1 + 1, …`) grows quadratically when written out, a chain of
/// doublings (`s1 = s0 s0, s2 = s1 s1, …`) exponentially: 10,000 chained settings took
/// 3.4 GB before. Past the budget the givens are E0513 at the setting that crosses it.
pub const MAX_GIVEN_NODES: usize = 20_000;

/// One setting: `name = value`, or `name^power = value` (then name = value^(1/power)).
#[derive(Clone, Debug)]
struct Setting {
    name: String,
    /// The name as written (a reference without indices).
    target: Expr,
    power: Option<i64>,
    value: Expr,
    span: Span,
}

/// The givens of a claim resolved: the settings first, in dependency order, each with
/// a right side that reads no name another setting sets; then every other given with
/// the settings substituted. `at` is the claim's own point (its names may not be set by
/// a given as well). Returns a located diagnostic for a cycle, a name set twice or a
/// setting no real value satisfies.
// The error is the one diagnostic a claim's givens produce, on a path taken once per
// claim: its size does not matter here.
#[allow(clippy::result_large_err)]
pub fn resolve(given: &[Expr], at: &[Binding], env: &Env) -> Result<Vec<Expr>, Diagnostic> {
    let mut settings: Vec<Setting> = Vec::new();
    let mut first_set: HashMap<String, Span> = HashMap::new();
    let mut others: Vec<Expr> = Vec::new();
    for g in given {
        match setting(g, env) {
            // `x^2 = 4` of a name that may be negative fixes x only up to its sign: kept
            // as a condition, which the scalar engine decides at both roots and the
            // other engines leave open (`x = 2` alone made `x == 2` proved).
            Some(s) if s.power.is_some_and(|p| p % 2 == 0) && sign_open(&s.name, env) => {
                if let Some(v) = constant(&s.value) {
                    if v < 0.0 {
                        return Err(Diagnostic::error(
                            "E0512",
                            s.span,
                            format!(
                                "the given sets `{}^{}` to {}, which no real `{}` has",
                                s.name,
                                s.power.unwrap_or(2),
                                print_expr(&s.value),
                                s.name
                            ),
                        )
                        .with_label("an even power is never negative")
                        .with_hint("set the power to a non-negative value"));
                    }
                }
                others.push(g.clone());
            }
            Some(s) => {
                if let Some(first) = first_set.get(&s.name) {
                    return Err(twice(&s.name, s.span, *first, true));
                }
                first_set.insert(s.name.clone(), s.span);
                if let Some(b) = at.iter().find(|b| b.name.name == s.name) {
                    return Err(twice(&s.name, s.span, b.name.span, false));
                }
                settings.push(s);
            }
            None => {
                if let Expr::Rel(RelOp::Eq, l, r, span) = g {
                    if let (Some(a), Some(b)) = (constant(l), constant(r)) {
                        if (a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0) {
                            return Err(Diagnostic::error(
                                "E0512",
                                *span,
                                format!("the given `{}` is false", print_expr(g)),
                            )
                            .with_label("no value satisfies this")
                            .with_hint(
                                "a given sets a name (`a = 2`) or restricts one (`a > 0`)",
                            ));
                        }
                    }
                }
                others.push(g.clone());
            }
        }
    }
    // Dependency order: a setting after the settings its right side reads.
    let set: BTreeSet<String> = settings.iter().map(|s| s.name.clone()).collect();
    let deps: Vec<BTreeSet<String>> = settings
        .iter()
        .map(|s| {
            let mut d = BTreeSet::new();
            names(&s.value, &mut d);
            d.retain(|n| set.contains(n));
            d
        })
        .collect();
    let mut order: Vec<usize> = Vec::new();
    let mut state = vec![0u8; settings.len()]; // 0 new, 1 on the stack, 2 done
    let index: HashMap<&str, usize> = settings
        .iter()
        .enumerate()
        .map(|(k, s)| (s.name.as_str(), k))
        .collect();
    fn visit(
        k: usize,
        index: &HashMap<&str, usize>,
        deps: &[BTreeSet<String>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match state[k] {
            2 => return Ok(()),
            1 => {
                let from = path.iter().position(|&p| p == k).unwrap_or(0);
                return Err(path[from..].to_vec());
            }
            _ => {}
        }
        state[k] = 1;
        path.push(k);
        for d in &deps[k] {
            if let Some(&j) = index.get(d.as_str()) {
                visit(j, index, deps, state, order, path)?;
            }
        }
        path.pop();
        state[k] = 2;
        order.push(k);
        Ok(())
    }
    for k in 0..settings.len() {
        if let Err(cycle) = visit(k, &index, &deps, &mut state, &mut order, &mut Vec::new()) {
            let first = &settings[cycle[0]];
            let mut chain: Vec<String> = cycle.iter().map(|&j| settings[j].name.clone()).collect();
            chain.push(first.name.clone());
            return Err(Diagnostic::error(
                "E0511",
                first.span,
                if cycle.len() == 1 {
                    format!("the given sets `{}` from itself", first.name)
                } else {
                    format!("the givens set their names in a cycle: {}", chain.join(" ← "))
                },
            )
            .with_label("this given reads a name that depends on it")
            .with_hint("set each name once, from numbers or from names set by other givens, without going round (write `a = 2, s = a`, not `s = a, a = s`)"));
        }
    }
    // Resolve in dependency order: each value reads only resolved values.
    let mut resolved: Vec<Setting> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut sizes: HashMap<String, usize> = HashMap::new();
    let mut total = 0usize;
    for &k in &order {
        let mut s = settings[k].clone();
        // The size the value will have written out, before writing it out.
        let size = substituted_size(&s.value, &sizes);
        total = total.saturating_add(size);
        if total > MAX_GIVEN_NODES {
            return Err(Diagnostic::error(
                "E0513",
                s.span,
                format!(
                    "the givens written out in each other grow past {MAX_GIVEN_NODES} syntax nodes at `{}`",
                    s.name
                ),
            )
            .with_label("the settings up to this one, with the names they read replaced by their values, are too large")
            .with_hint("set the names to numbers or short expressions; a chain of settings that each read the one before grows with every link"));
        }
        s.value = substitute(&s.value, &resolved, &by_name);
        if let (Some(p), Some(v)) = (s.power, constant(&s.value)) {
            if p % 2 == 0 && v < 0.0 {
                return Err(Diagnostic::error(
                    "E0512",
                    s.span,
                    format!(
                        "the given sets `{}^{p}` to {}, which no real `{}` has",
                        s.name,
                        print_expr(&s.value),
                        s.name
                    ),
                )
                .with_label("an even power is never negative")
                .with_hint("set the power to a non-negative value"));
            }
        }
        // A size counts something: a whole number from 1 (docs/language.md, domains).
        if let (None, true, Some(v)) =
            (s.power, env.sizes.contains_key(&s.name), constant(&s.value))
        {
            if v.is_nan() || v < 1.0 || v.fract() != 0.0 {
                return Err(Diagnostic::error(
                    "E0512",
                    s.span,
                    format!(
                        "the given sets the size `{}` to {}, but a size is a whole number of at least 1",
                        s.name,
                        print_expr(&s.value)
                    ),
                )
                .with_label("outside the size's domain")
                .with_hint(format!(
                    "a claim under this given would hold vacuously: give `{}` a whole number from 1 (`given {} = 1`), or make the quantity a `symbol` if it may be {}",
                    s.name,
                    s.name,
                    print_expr(&s.value)
                )));
            }
        }
        if let Some(d) = outside_domain(&s, env) {
            return Err(d);
        }
        sizes.insert(s.name.clone(), size);
        by_name.insert(s.name.clone(), resolved.len());
        resolved.push(s);
    }
    if let Some(d) = relation_outside(&resolved, env) {
        return Err(d);
    }
    let mut out: Vec<Expr> = resolved
        .iter()
        .map(|s| {
            let name = s.target.clone();
            let lhs = match s.power {
                Some(p) => Expr::Binary(
                    BinOp::Pow,
                    Box::new(name),
                    Box::new(Expr::Num(p.to_string(), s.span)),
                    s.span,
                ),
                None => name,
            };
            Expr::Rel(RelOp::Eq, Box::new(lhs), Box::new(s.value.clone()), s.span)
        })
        .collect();
    // A setting by an expression carries the domain of the name it sets: `given a = b - 1`
    // of a positive symbol a holds only where b - 1 > 0, so every engine reads that
    // condition as one more given (probe37 p13: `a > 0 given a = b - 1` was refuted at
    // b = 1, `Var(c) >= 0 given sb = sw^2 - 1` at sw = 0 with a variance of -1).
    let implied: Vec<Expr> = resolved.iter().flat_map(|s| implied_by(s, env)).collect();
    for g in others {
        out.push(match &g {
            // An element or whole-tensor given keeps its left side.
            Expr::Rel(op, l, r, span) if matches!(&**l, Expr::Ref(_)) && *op == RelOp::Eq => {
                Expr::Rel(
                    *op,
                    l.clone(),
                    Box::new(substitute(r, &resolved, &by_name)),
                    *span,
                )
            }
            _ => substitute(&g, &resolved, &by_name),
        });
        if let Some(d) = out.last().and_then(|g| outside_support(g, env)) {
            return Err(d);
        }
    }
    out.extend(implied);
    Ok(out)
}

/// The conditions a setting's value must meet to lie in the domain of the name it sets
/// (docs/soundness.md, domains): `value >= 1` for a size, the ends of a symbol's or
/// scalar input's declared interval (`value >= 0` for a variance, `0 < value <= 1` for a
/// probability), `value > 0` for a symbol no declaration bounds and whose sign is not
/// open. None for a number (checked at once: E0512), a power setting (its positive
/// root), or a name that takes every real.
fn implied_by(s: &Setting, env: &Env) -> Vec<Expr> {
    use num_traits::{Signed, Zero};
    let mut read = BTreeSet::new();
    names(&s.value, &mut read);
    if s.power.is_some() || constant(&s.value).is_some() || read.is_empty() {
        return Vec::new();
    }
    let span = s.span;
    let num = |r: &num_rational::BigRational| -> Expr {
        let lit = |n: &num_bigint::BigInt| Expr::Num(n.abs().to_string(), span);
        let e = if r.is_integer() {
            lit(r.numer())
        } else {
            Expr::Binary(
                BinOp::Div,
                Box::new(lit(r.numer())),
                Box::new(lit(r.denom())),
                span,
            )
        };
        if r.is_negative() {
            Expr::Unary(crate::syntax::ast::UnOp::Neg, Box::new(e), span)
        } else {
            e
        }
    };
    let rel =
        |op: RelOp, bound: Expr| Expr::Rel(op, Box::new(s.value.clone()), Box::new(bound), span);
    let (lo, hi) = match env.domains.get(&s.name) {
        Some(d) => (d.lo.clone(), d.hi.clone()),
        None if env.symbols.contains_key(&s.name) && !sign_open(&s.name, env) => {
            (Some((num_rational::BigRational::zero(), true)), None)
        }
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    if let Some((b, open)) = lo {
        // A lower end the value meets by its form is not repeated (`J = 2 I` of a size,
        // `s = a b` of a positive symbol): an engine that takes no conditions keeps it.
        let shown = (b.is_zero()
            && match sign_form(&s.value, env) {
                Some(true) => true,
                Some(false) => !open,
                None => false,
            })
            || (b == num_rational::BigRational::from_integer(1.into())
                && !open
                && at_least_one(&s.value, env));
        if !shown {
            out.push(rel(if open { RelOp::Gt } else { RelOp::Ge }, num(&b)));
        }
    }
    if let Some((b, open)) = hi {
        out.push(rel(if open { RelOp::Lt } else { RelOp::Le }, num(&b)));
    }
    out
}

/// Whether `e` is positive by its form: positive numbers, sizes and positive symbols
/// (no declared end below 0, sign not open) combined by `+`, `*`, `/`, and powers of a
/// positive base; a sum with one positive term and the others non-negative (`1 + mu^2`).
fn positive_form(e: &Expr, env: &Env) -> bool {
    sign_form(e, env) == Some(true)
}

/// The sign `e` has by its form: `Some(true)` positive, `Some(false)` non-negative (an
/// even power of any real, `mu^2`; session 38: `given chi = 1 + mu^2` of a second moment
/// carried the needless condition `1 + mu^2 >= 0`), `None` unknown.
fn sign_form(e: &Expr, env: &Env) -> Option<bool> {
    match e {
        Expr::Num(_, _) => match constant(e) {
            Some(v) if v > 0.0 => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            let n = print_name(&r.name);
            let positive = env.sizes.contains_key(&n)
                || (env.symbols.contains_key(&n)
                    && !sign_open(&n, env)
                    && env.domains.get(&n).is_none_or(|d| d.positive()));
            let nonnegative = env
                .domains
                .get(&n)
                .and_then(|d| d.lo.as_ref())
                .is_some_and(|(lo, _)| !num_traits::Signed::is_negative(lo));
            match (positive, nonnegative) {
                (true, _) => Some(true),
                (false, true) => Some(false),
                _ => None,
            }
        }
        Expr::Binary(BinOp::Add, a, b, _) => {
            let (a, b) = (sign_form(a, env)?, sign_form(b, env)?);
            Some(a || b)
        }
        Expr::Binary(BinOp::Mul, a, b, _) => {
            let (a, b) = (sign_form(a, env)?, sign_form(b, env)?);
            Some(a && b)
        }
        // A denominator that may be 0 leaves the quotient undefined there: positive only.
        Expr::Binary(BinOp::Div, a, b, _) => match (sign_form(a, env)?, sign_form(b, env)?) {
            (a, true) => Some(a),
            _ => None,
        },
        Expr::Binary(BinOp::Pow, a, x, _) => match sign_form(a, env) {
            Some(true) => Some(true),
            base => {
                let k = constant(x)?;
                let whole = k.fract() == 0.0;
                if whole && k > 0.0 && (k % 2.0 == 0.0 || base == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
        },
        _ => None,
    }
}

/// Whether `e` is at least 1 by its form: numbers from 1, sizes, sums and products of
/// such, and powers of such with a positive exponent.
fn at_least_one(e: &Expr, env: &Env) -> bool {
    match e {
        Expr::Num(_, _) => constant(e).is_some_and(|v| v >= 1.0),
        Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            env.sizes.contains_key(&print_name(&r.name))
        }
        Expr::Binary(BinOp::Mul, a, b, _) => at_least_one(a, env) && at_least_one(b, env),
        Expr::Binary(BinOp::Add, a, b, _) => {
            (at_least_one(a, env) && positive_form(b, env))
                || (positive_form(a, env) && at_least_one(b, env))
        }
        Expr::Binary(BinOp::Pow, a, x, _) => at_least_one(a, env) && positive_form(x, env),
        _ => false,
    }
}

/// E0512 for a given that sets an element of a leaf (`m[b,i] = 2`), or the whole leaf,
/// to a number outside the values its declaration lets it take (`bernoulli(p)`: {0, 1},
/// `uniform(-1, 1)`: [-1, 1]; [`super::supports`]; a declared value is an initial value,
/// no support). No element
/// satisfies it, so a claim under it held vacuously (probe34 p13: `m^2 == 4 given
/// m[b,i] = 2` was proved, `m^2 == m` refuted with a witness m = 2).
fn outside_support(g: &Expr, env: &Env) -> Option<Diagnostic> {
    let (target, s, value) = super::supports::leaf_given(g, env)?;
    if s.test(value, &Default::default()) != super::supports::Membership::Outside {
        return None;
    }
    let Expr::Rel(_, _, _, span) = g else {
        return None;
    };
    let name = print_expr(target);
    let leaf = match target {
        Expr::Ref(r) => print_name(&r.name),
        _ => name.clone(),
    };
    Some(
        Diagnostic::error(
            "E0512",
            *span,
            format!(
                "the given sets `{name}` to {}, a value no element of `{leaf}` takes: its support is {} ({})",
                print_expr(value),
                s.show(),
                s.why
            ),
        )
        .with_label("outside the leaf's support")
        .with_hint(format!(
            "no element satisfies this given, so a claim under it would hold vacuously: set `{name}` to a value in {} (`given {name} = {}`), or declare `{leaf}` with a distribution that takes {}",
            s.show(),
            example(s),
            print_expr(value)
        )),
    )
}

/// A value in a support, for a hint: its last value, or its lower end.
fn example(s: &super::supports::LeafSupport) -> String {
    use super::supports::Support;
    match &s.support {
        Support::Values(v) => v.last().map(|x| x.to_string()).unwrap_or_default(),
        Support::Interval(a, _) => a.to_string(),
        Support::Unknown => String::new(),
    }
}

/// Whether `name` may be negative, so that a given `name^2 = v` leaves its sign open: a
/// scalar input, a symbol read as a location (a mean, an offset), a scalar leaf
/// (`input a`, `param w` without indices). Sizes, variances and the other symbols are
/// positive (docs/language.md, domains).
pub fn sign_open(name: &str, env: &Env) -> bool {
    env.scalars.contains_key(name)
        || env.signed.contains(name)
        || env.tensors.get(name).is_some_and(|t| {
            t.rank == 0 && t.family_arity == 0 && t.kind != super::TensorKind::Computed
        })
}

/// The claim's givens resolved, or as written when they have a diagnostic (which the
/// checker reports): what every engine reads.
pub fn resolved(given: &[Expr], at: &[Binding], env: &Env) -> Vec<Expr> {
    resolve(given, at, env).unwrap_or_else(|_| given.to_vec())
}

/// E0512 for a setting of a symbol to a number outside the domain its declarations give
/// it (docs/language.md, domains): a probability of `bernoulli(p)` outside (0, 1], a
/// variance or second moment below 0, a standard deviation written squared
/// (`normal(0, sigma^2)`) at 0 or below. The engines assume the domain, so a claim
/// under such a given held vacuously. `sigma^2 = v` sets sigma to ±√v: outside when
/// neither root is inside. A value that names other names is left to the engines.
fn outside_domain(s: &Setting, env: &Env) -> Option<Diagnostic> {
    if env.sizes.contains_key(&s.name) {
        return None;
    }
    let d = env.domains.get(&s.name)?;
    let v = constant(&s.value)?;
    let values: Vec<f64> = match s.power {
        None => vec![v],
        Some(p) if p % 2 == 0 && v >= 0.0 => {
            let r = v.powf(1.0 / p as f64);
            vec![r, -r]
        }
        Some(p) if p != 0 && p % 2 != 0 => vec![v.signum() * v.abs().powf(1.0 / p as f64)],
        Some(_) => return None,
    };
    let inside = |x: f64| num_rational::BigRational::from_float(x).is_some_and(|r| d.contains(&r));
    if values.iter().any(|&x| inside(x)) {
        return None;
    }
    let why = if d.why.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.why.join("; "))
    };
    let what = match s.power {
        Some(p) => format!("`{}^{p}`", s.name),
        None => format!("`{}`", s.name),
    };
    Some(
        Diagnostic::error(
            "E0512",
            s.span,
            format!(
                "the given sets {what} to {}, outside the domain of `{}`: {}{why}",
                print_expr(&s.value),
                s.name,
                d.show(&s.name)
            ),
        )
        .with_label("outside the symbol's domain")
        .with_hint(format!(
            "the engines assume {}, so a claim under this given would hold vacuously: give `{}` a value with {}",
            d.show(&s.name),
            s.name,
            d.show(&s.name)
        )),
    )
}

/// E0512 for settings that together put a distribution's parameter outside its domain,
/// where no one symbol's interval says it: the relations the declarations give between
/// symbols (`normal(0, a - c)`: a - c >= 0; `bernoulli(p q)`: 0 < p q <= 1;
/// `uniform(a, c)`: a < c; `sym::Domain::relations`), evaluated exactly once every
/// symbol a relation reads is set to a number (`given a = 1, c = 2`: a - c = -1). The
/// engines assume the relations, so a claim under such givens held vacuously (probe
/// 30/a s32: `Var(x) == -1 given a = 1, c = 2` was proved).
fn relation_outside(resolved: &[Setting], env: &Env) -> Option<Diagnostic> {
    use crate::sym::{self, Rel};
    let mut values = std::collections::BTreeMap::new();
    for s in resolved {
        if s.power.is_some() {
            continue;
        }
        let Some(v) = sym::parse_ascii(&print_expr(&s.value))
            .ok()
            .map(|x| x.normalize())
            .filter(|x| x.free_symbols().is_empty())
            .and_then(|x| x.eval_exact(&Default::default()).ok())
        else {
            continue;
        };
        values.insert(s.name.clone(), (v, s.span));
    }
    if values.is_empty() {
        return None;
    }
    let mut seen = BTreeSet::new();
    for d in env.domains.values() {
        for (l, rel, r) in &d.relations {
            let names = l.free_symbols().into_iter().chain(r.free_symbols());
            let names: BTreeSet<String> = names.collect();
            if names.is_empty()
                || !names.iter().all(|n| values.contains_key(n))
                || !seen.insert(format!("{l:?} {rel:?} {r:?}"))
            {
                continue;
            }
            let at: std::collections::BTreeMap<String, num_rational::BigRational> = values
                .iter()
                .map(|(n, (v, _))| (n.clone(), v.clone()))
                .collect();
            let (Ok(a), Ok(b)) = (l.eval_exact(&at), r.eval_exact(&at)) else {
                continue;
            };
            let holds = match rel {
                Rel::Eq => a == b,
                Rel::Le => a <= b,
                Rel::Ge => a >= b,
                Rel::Lt => a < b,
                Rel::Gt => a > b,
                _ => true,
            };
            if holds {
                continue;
            }
            // Located at the last setting the relation reads.
            let span = names
                .iter()
                .filter_map(|n| values.get(n).map(|(_, s)| *s))
                .max_by_key(|s| s.start)
                .unwrap_or_default();
            let shown = format!("{} {} {}", sym::to_ascii(l), rel.symbol(), sym::to_ascii(r));
            let set: Vec<String> = names
                .iter()
                .map(|n| format!("{n} = {}", values[n].0))
                .collect();
            return Some(
                Diagnostic::error(
                    "E0512",
                    span,
                    format!(
                        "the givens set {}, where `{shown}` fails: a distribution's parameter outside its domain ({})",
                        set.join(", "),
                        d.why.join("; ")
                    ),
                )
                .with_label("outside the domain the declarations give")
                .with_hint(format!(
                    "the engines assume `{shown}`, so a claim under these givens would hold vacuously: give values with `{shown}`"
                )),
            );
        }
    }
    None
}

/// E0512 for a name set twice: by two of the claim's givens (`given a == 1, a == 2`:
/// no point satisfies both; probe36 h07 got the hint for a `given` beside an `at`), or
/// by a given and the claim's own `at`.
fn twice(name: &str, span: Span, first: Span, both_givens: bool) -> Diagnostic {
    let d = Diagnostic::error("E0512", span, format!("`{name}` is set twice"))
        .with_label("set again here");
    if both_givens {
        d.with_related(first, "first set here").with_hint(format!(
            "the claim's givens set `{name}` twice (two different values hold at no point): keep one of the two settings"
        ))
    } else {
        d.with_related(first, "set by the claim's `at` here")
            .with_hint(format!(
                "set `{name}` once, in the claim's `given` or in its `at`, not both"
            ))
    }
}

/// The name a given sets, if it sets one.
fn setting(g: &Expr, env: &Env) -> Option<Setting> {
    let Expr::Rel(RelOp::Eq, l, r, span) = g else {
        return None;
    };
    if let Some((name, power, target)) = settable(l, env) {
        return Some(Setting {
            name,
            target,
            power,
            value: (**r).clone(),
            span: *span,
        });
    }
    // `2 = a`: a number on the left sets the name on the right.
    if matches!(&**l, Expr::Num(..)) {
        if let Some((name, power, target)) = settable(r, env) {
            return Some(Setting {
                name,
                target,
                power,
                value: (**l).clone(),
                span: *span,
            });
        }
    }
    product_setting(l, r, *span, env)
}

/// `J sigma_W^2 = 1` (a product, possibly with divisions, in which exactly one factor
/// is a `symbol` or a power of one that no other factor and not the right side reads)
/// sets that symbol: `sigma_W^2 = 1/J`. The other factors are divided out as written;
/// the setting holds where they are non-zero (sizes always are; a symbol factor that
/// could be zero makes the given read as a condition instead).
fn product_setting(l: &Expr, r: &Expr, span: Span, env: &Env) -> Option<Setting> {
    fn factors<'a>(e: &'a Expr, up: bool, num: &mut Vec<&'a Expr>, den: &mut Vec<&'a Expr>) {
        match e {
            Expr::Binary(BinOp::Mul | BinOp::Jux, a, b, _) => {
                factors(a, up, num, den);
                factors(b, up, num, den);
            }
            Expr::Binary(BinOp::Div, a, b, _) => {
                factors(a, up, num, den);
                factors(b, !up, num, den);
            }
            _ if up => num.push(e),
            _ => den.push(e),
        }
    }
    let (mut num, mut den) = (Vec::new(), Vec::new());
    factors(l, true, &mut num, &mut den);
    if num.len() + den.len() < 2 {
        return None;
    }
    // The symbol set: with several, the one written as a power (a variance parameter,
    // `sigma^2` in `alpha^2 J sigma^2 = 1`), else the last.
    let candidates: Vec<(usize, String, Option<i64>, Expr)> = num
        .iter()
        .enumerate()
        .filter_map(|(k, f)| {
            let (name, power, target) = settable(f, env)?;
            env.symbols
                .contains_key(&name)
                .then_some((k, name, power, target))
        })
        .collect();
    let powered: Vec<_> = candidates.iter().filter(|c| c.2.is_some()).collect();
    let (k, name, power, target) = match powered.as_slice() {
        [one] => (*one).clone(),
        [] => candidates.last()?.clone(),
        _ => (*powered.last()?).clone(),
    };
    let reads = |e: &Expr| {
        let mut d = BTreeSet::new();
        names(e, &mut d);
        d.contains(&name)
    };
    if reads(r)
        || num.iter().enumerate().any(|(j, f)| j != k && reads(f))
        || den.iter().any(|f| reads(f))
    {
        return None;
    }
    // Every other factor must be non-zero for the division: a number other than 0, a
    // size, or a power of one of them.
    fn nonzero(e: &Expr, env: &Env) -> bool {
        match e {
            Expr::Num(..) => constant(e).is_some_and(|v| v != 0.0),
            Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                env.sizes.contains_key(&print_name(&r.name))
            }
            Expr::Binary(BinOp::Pow, b, p, _) => nonzero(b, env) && matches!(&**p, Expr::Num(..)),
            _ => false,
        }
    }
    // A right side that is a non-zero number makes every factor non-zero wherever the
    // given holds.
    let rhs_nonzero = constant(r).is_some_and(|v| v != 0.0);
    if !rhs_nonzero
        && (!num
            .iter()
            .enumerate()
            .all(|(j, f)| j == k || nonzero(f, env))
            || !den.iter().all(|f| nonzero(f, env)))
    {
        return None;
    }
    let paren = |e: &Expr| e.clone();
    let mut value = paren(r);
    for f in &den {
        value = Expr::Binary(BinOp::Mul, Box::new(value), Box::new(paren(f)), span);
    }
    let divisor = num
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .map(|(_, f)| paren(f))
        .reduce(|a, b| Expr::Binary(BinOp::Jux, Box::new(a), Box::new(b), span));
    if let Some(d) = divisor {
        value = Expr::Binary(BinOp::Div, Box::new(value), Box::new(d), span);
    }
    Some(Setting {
        name,
        target,
        power,
        value,
        span,
    })
}

/// `a` or `a^n` (a whole n ≥ 1) for a name that is not a tensor, a rule's sequence or a
/// gradient.
fn settable(e: &Expr, env: &Env) -> Option<(String, Option<i64>, Expr)> {
    match e {
        Expr::Ref(r) if r.indices.is_none() && !r.grad && !r.name.base.contains('.') => {
            let name = print_name(&r.name);
            // A size or symbol is set by name, even where a family shares its letter
            // (`L` the depth beside the family `L_l`).
            // A computed scalar is no name to set: a given on it constrains what the
            // program computes it from (`claims::collect` reads it on the inputs).
            ((!env.tensors.contains_key(&name) && !env.computed_scalars.contains(&name))
                || env.sizes.contains_key(&name)
                || env.symbols.contains_key(&name))
            .then(|| (name, None, e.clone()))
        }
        Expr::Binary(BinOp::Pow, b, p, _) => {
            let Expr::Num(n, _) = &**p else { return None };
            let n: i64 = n.parse().ok().filter(|n| *n >= 1)?;
            let (name, None, target) = settable(b, env)? else {
                return None;
            };
            Some((name, if n == 1 { None } else { Some(n) }, target))
        }
        _ => None,
    }
}

/// The names (sizes, symbols, scalars) an expression reads.
fn names(e: &Expr, out: &mut BTreeSet<String>) {
    super::walk_refs(e, &mut |r| {
        if r.indices.is_none() && !r.grad {
            out.insert(print_name(&r.name));
        }
    });
}

/// The value of an expression without names, when it has one (numbers, `+ - * / ^`;
/// anything else has none).
pub fn constant(e: &Expr) -> Option<f64> {
    let v = match e {
        Expr::Num(s, _) => s.parse::<f64>().ok()?,
        Expr::Unary(_, x, _) => -constant(x)?,
        Expr::Binary(op, l, r, _) => {
            let (a, b) = (constant(l)?, constant(r)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul | BinOp::Jux => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
            }
        }
        _ => return None,
    };
    v.is_finite().then_some(v)
}

/// The syntax nodes of `e` with the resolved values (of the sizes in `sizes`) written in
/// for the names they set (a power setting adds its exponent's 3 nodes).
fn substituted_size(e: &Expr, sizes: &HashMap<String, usize>) -> usize {
    let mut n = 0usize;
    walk_expr(e, |x| {
        let own = match x {
            Expr::Ref(r) if r.indices.is_none() && !r.grad => sizes
                .get(&print_name(&r.name))
                .map_or(1, |s| s.saturating_add(3)),
            _ => 1,
        };
        n = n.saturating_add(own);
        // Sums, softmax and derivatives are not substituted into (see `substitute`).
        !matches!(x, Expr::Sum(..) | Expr::Softmax(..) | Expr::Deriv(..))
    });
    n
}

/// `e` with every resolved setting substituted (`a^2` with `a^2 = v` becomes `v`);
/// `by_name` is the position of each resolved name.
fn substitute(e: &Expr, resolved: &[Setting], by_name: &HashMap<String, usize>) -> Expr {
    let find = |r: &crate::syntax::ast::Ref| {
        (r.indices.is_none() && !r.grad)
            .then(|| print_name(&r.name))
            .and_then(|n| by_name.get(&n).map(|&k| &resolved[k]))
    };
    let group = |v: &Expr| v.clone();
    match e {
        Expr::Ref(r) => match find(r) {
            Some(s) => match s.power {
                None => group(&s.value),
                Some(p) => Expr::Binary(
                    BinOp::Pow,
                    Box::new(group(&s.value)),
                    Box::new(Expr::Binary(
                        BinOp::Div,
                        Box::new(Expr::Num("1".into(), r.span)),
                        Box::new(Expr::Num(p.to_string(), r.span)),
                        r.span,
                    )),
                    r.span,
                ),
            },
            None => e.clone(),
        },
        Expr::Binary(BinOp::Pow, b, x, span) => {
            if let (Expr::Ref(r), Expr::Num(n, _)) = (&**b, &**x) {
                if let (Some(s), Ok(n)) = (find(r), n.parse::<i64>()) {
                    if let Some(p) = s.power {
                        if n % p == 0 {
                            let v = group(&s.value);
                            return if n == p {
                                v
                            } else {
                                Expr::Binary(
                                    BinOp::Pow,
                                    Box::new(v),
                                    Box::new(Expr::Num((n / p).to_string(), *span)),
                                    *span,
                                )
                            };
                        }
                    }
                }
            }
            Expr::Binary(
                BinOp::Pow,
                Box::new(substitute(b, resolved, by_name)),
                Box::new(substitute(x, resolved, by_name)),
                *span,
            )
        }
        // Sums, softmax and derivatives bind indices of their own; names inside them
        // are left as written.
        Expr::Sum(..) | Expr::Softmax(..) | Expr::Deriv(..) => e.clone(),
        _ => map_children(e, |x| substitute(x, resolved, by_name)),
    }
}
