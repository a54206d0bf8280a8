//! `vary` lines: the values each varied parameter takes. The checker reports bad
//! ranges with E0601–E0603; `tq variants` enumerates and samples the values.

use super::env::Env;
use super::MAX_SAMPLE_SIZE;
use crate::diag::Diagnostic;
use crate::syntax::ast::{BinOp, Binding, Expr, Item, ItemKind, UnOp, VaryDomain, VaryParam};
use crate::syntax::span::Span;

/// The finite list of values of one varied parameter, as exact decimal text.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// `lo..hi` in steps of `10^-scale`; `lo` and `hi` are scaled to whole numbers.
    Steps { lo: i64, hi: i64, scale: u32 },
    /// `{a, b, c}` as written.
    Set(Vec<String>),
}

impl Domain {
    /// How many values there are.
    pub fn count(&self) -> u64 {
        match self {
            Domain::Steps { lo, hi, .. } => (hi - lo) as u64 + 1,
            Domain::Set(v) => v.len() as u64,
        }
    }

    /// The `k`-th value (`k < count()`), as decimal text that tq parses back.
    pub fn value(&self, k: u64) -> String {
        match self {
            Domain::Steps { lo, scale, .. } => decimal(lo + k as i64, *scale),
            Domain::Set(v) => v[k as usize].clone(),
        }
    }
}

fn decimal(v: i64, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let sign = if v < 0 { "-" } else { "" };
    let m = v.unsigned_abs();
    let p = 10u64.pow(scale);
    let frac = format!("{:0width$}", m % p, width = scale as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", m / p)
    } else {
        format!("{sign}{}.{frac}", m / p)
    }
}

/// The text of a number literal, with its sign (`-0.5`), or `None`.
fn literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Num(t, _) => Some(t.clone()),
        Expr::Unary(UnOp::Neg, x, _) => match &**x {
            Expr::Num(t, _) => Some(format!("-{t}")),
            _ => None,
        },
        _ => None,
    }
}

/// The end of a range as a decimal: a number literal, or a fraction of two whole
/// numbers whose decimal expansion ends within 9 places (`1/4`, `-3/8` read as `0.25`,
/// `-0.375`; `1/3` is not a decimal and stays an error).
fn range_end(e: &Expr) -> Option<String> {
    let fraction = |e: &Expr| match e {
        Expr::Binary(BinOp::Div, n, d, _) => match (&**n, &**d) {
            (Expr::Num(n, _), Expr::Num(d, _)) => terminating(n, d),
            _ => None,
        },
        _ => None,
    };
    literal(e).or_else(|| match e {
        Expr::Unary(UnOp::Neg, x, _) => fraction(x).map(|t| format!("-{t}")),
        _ => fraction(e),
    })
}

/// `n/d` for whole numbers written as a decimal of at most 9 places, if it is one.
fn terminating(n: &str, d: &str) -> Option<String> {
    let (n, d): (i64, i64) = (n.parse().ok()?, d.parse().ok()?);
    if d <= 0 || n > 999_999_999_999 {
        return None;
    }
    (0..=9u32).find_map(|places| {
        let scaled = n.checked_mul(10i64.pow(places))?;
        (scaled % d == 0).then(|| decimal(scaled / d, places))
    })
}

/// A plain decimal as (digits without the point, places after it).
fn scaled(t: &str) -> Option<(i64, u32)> {
    if t.contains(['e', 'E']) {
        return None;
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if frac.len() > 9 || int.len() > 12 {
        return None;
    }
    let v: i64 = format!("{int}{frac}").parse().ok()?;
    Some((if neg { -v } else { v }, frac.len() as u32))
}

/// Whether `t` is written as a plain decimal (digits, at most one point, a sign).
fn plain_decimal(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// The values of one parameter, or the span and message of what is wrong with them.
pub fn domain(p: &VaryParam) -> Result<Domain, (Span, String, String)> {
    match &p.domain {
        VaryDomain::Range(a, b) => {
            let bad = |e: &Expr| {
                match range_end(e).filter(|t| plain_decimal(t)) {
                // A plain decimal with too many digits is a number out of range.
                Some(t) => (
                    e.span(),
                    format!("the end {t} of the range of `{}` is out of range: range ends have at most 12 digits before the point and 9 after", p.name.name),
                    "use smaller ends, e.g. `2..12` or `0.05..0.2`".to_string(),
                ),
                None => (
                    e.span(),
                    format!("the range of `{}` must have plain decimal numbers as its ends", p.name.name),
                    "write the ends as numbers, e.g. `2..12`, `0.05..0.2` or `1/4..3/4` (no names, no exponents, at most 9 decimal places)".to_string(),
                ),
            }
            };
            let (lo, dl) = range_end(a)
                .as_deref()
                .and_then(scaled)
                .ok_or_else(|| bad(a))?;
            let (hi, dh) = range_end(b)
                .as_deref()
                .and_then(scaled)
                .ok_or_else(|| bad(b))?;
            let scale = dl.max(dh);
            let up = |v: i64, d: u32| v.checked_mul(10i64.pow(scale - d));
            // Each end within the digits allowed, the pair out of range: the range
            // counted in steps of its finest decimal place (probe38 k04: the message
            // blamed the start, `0.000000001`, for the digits of the end).
            let (Some(lo), Some(hi)) = (up(lo, dl), up(hi, dh)) else {
                let (ta, tb) = (
                    range_end(a).unwrap_or_default(),
                    range_end(b).unwrap_or_default(),
                );
                let step = if scale == 0 {
                    "1".to_string()
                } else {
                    format!("0.{}1", "0".repeat(scale as usize - 1))
                };
                return Err((
                    p.span,
                    format!(
                        "the range {ta}..{tb} of `{}` has too many steps of its finest decimal place ({step}): tq counts a range's values as whole numbers of that step, at most about 9.2·10^18 of them",
                        p.name.name
                    ),
                    "write the ends with fewer decimal places or make the range narrower (`0.001..9999`, `1..1000000`), or list the values as a set (`{0.000000001, 9999999999}`)".to_string(),
                ));
            };
            if lo > hi {
                return Err((
                    p.span,
                    format!(
                        "the range of `{}` is empty: its start is above its end",
                        p.name.name
                    ),
                    "write the smaller end first, e.g. `2..12`".into(),
                ));
            }
            Ok(Domain::Steps { lo, hi, scale })
        }
        VaryDomain::Set(xs) => {
            if xs.is_empty() {
                return Err((
                    p.span,
                    format!("the set of values of `{}` is empty", p.name.name),
                    "list the values, e.g. `{16, 32, 64}`".into(),
                ));
            }
            // Counted before any value is read: each value is read and valued exactly
            // (20,000 values of `sqrt(k)/7` took 0.5 s, on every keystroke in the editor,
            // where `tq lsp` checks the text at once).
            if xs.len() > MAX_SET_VALUES {
                return Err((
                    xs[MAX_SET_VALUES].span(),
                    format!(
                        "the set of values of `{}` lists {} values, more than {MAX_SET_VALUES}",
                        p.name.name,
                        xs.len()
                    ),
                    format!("list at most {MAX_SET_VALUES} values, or give a range (`1..20000`, `0.05..0.2`), whose values are not listed one by one"),
                ));
            }
            // Each value's text, exact value and floating-point value; a value that is
            // not a finite constant stops the list there.
            let mut out: Vec<String> = Vec::new();
            let mut vals: Vec<(crate::sym::Expr, f64)> = Vec::new();
            let mut invalid = None;
            for x in xs {
                let Some((t, v)) = literal(x)
                    .filter(|t| plain_decimal(t))
                    .or_else(|| constant(x))
                    .and_then(|t| value(&t).map(|v| (t, v)))
                    // A whole number written as an expression (`2^5`) is listed as the number.
                    .map(|(t, v)| match v.as_num().filter(|r| r.is_integer()) {
                        Some(r) => (r.to_integer().to_string(), v),
                        None => (t, v),
                    })
                else {
                    invalid = Some(x);
                    break;
                };
                let f = v
                    .eval_f64(&std::collections::BTreeMap::new())
                    .unwrap_or(f64::NAN);
                out.push(t);
                vals.push((v, f));
            }
            // The first value listed twice, found among values whose floating-point
            // values are close (equal exact values are), not by comparing every pair.
            if let Some(k) = first_repeat(&vals) {
                return Err((
                    xs[k].span(),
                    format!("the value {} of `{}` is listed twice", out[k], p.name.name),
                    "list each value once".into(),
                ));
            }
            if let Some(x) = invalid {
                return Err((
                    x.span(),
                    format!("a value of `{}` is not a number or a constant expression", p.name.name),
                    "list numbers or expressions of numbers, e.g. `{16, 32, 64}` or `{1/2, 1/3, sqrt(2)/4}`".into(),
                ));
            }
            Ok(Domain::Set(out))
        }
    }
}

/// The smallest `k` whose value equals the value of some earlier one (exactly:
/// `simplify(a - b)` is zero). Only values whose floating-point values lie within a
/// relative 1e-9 of each other are compared exactly (sorted by value, runs of close
/// neighbours), so a long list costs n log n plus its near-ties, not n² simplifications.
/// The most pairs of values that are not numbers a `vary` set compares exactly (each is
/// an exact simplification, about 0.1 ms; `tq lsp` checks the text on every keystroke).
const MAX_SYMBOLIC_PAIRS: usize = 400;

/// The most values a `vary` set may list (E0602 past it, before any is read). Each is
/// valued exactly (10-30 µs), and `tq lsp` checks the text on every keystroke.
pub const MAX_SET_VALUES: usize = 1_000;

fn first_repeat(vals: &[(crate::sym::Expr, f64)]) -> Option<usize> {
    let mut pairs = 0usize;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300);
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[a].1.total_cmp(&vals[b].1));
    let mut best: Option<usize> = None;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len()
            && (close(vals[order[end - 1]].1, vals[order[end]].1) || vals[order[end]].1.is_nan())
        {
            end += 1;
        }
        // Within a run of close values, in the order they are listed. Exact numbers are
        // compared by their value (a set), the other values by an exact simplification
        // against every earlier one: 399 values (10^300 + k)/10^300, all within 10^-9 of
        // each other, made one run of pairwise simplifications (0.4 s on every
        // keystroke in the editor; found by the LSP edit campaign of 2026-12-05).
        let mut run: Vec<usize> = order[start..end].to_vec();
        run.sort_unstable();
        let mut numbers: std::collections::HashSet<&num_rational::BigRational> = Default::default();
        let mut others: Vec<usize> = Vec::new();
        'run: for (b, &j) in run.iter().enumerate() {
            if best.is_some_and(|k| j >= k) {
                break;
            }
            let num = vals[j].0.as_num();
            if let Some(r) = num {
                if numbers.contains(r) {
                    best = Some(j);
                    break 'run;
                }
            }
            let earlier: &[usize] = if num.is_some() { &others } else { &run[..b] };
            for &i in earlier {
                // Values that are not numbers (`1 + k sqrt(2)/10^300`, all close) are
                // compared pairwise up to a bound: a repeat past it goes unreported
                // (it only lists a value twice), the check stays linear.
                pairs += 1;
                if pairs > MAX_SYMBOLIC_PAIRS {
                    break;
                }
                let diff = crate::sym::simplify(&(vals[i].0.clone() - vals[j].0.clone()));
                if diff.is_zero() {
                    best = Some(j);
                    break 'run;
                }
            }
            match num {
                Some(r) => {
                    numbers.insert(r);
                }
                None => others.push(j),
            }
        }
        start = end;
    }
    best
}

/// A value of a set written as an expression of numbers (`1/3`, `sqrt(2)/4`, `2^5`):
/// its printed text, when it names nothing.
fn constant(e: &Expr) -> Option<String> {
    let mut names = false;
    crate::syntax::visit::walk_refs(e, &mut |_| names = true);
    if names {
        return None;
    }
    // The language's text, when the exact reader reads it; a product written by
    // juxtaposition (`2 sqrt(2)`, `3 sqrt(5)/2`) is not in the exact reader's syntax, so it is
    // lowered and written in it (`2*sqrt(2)`) instead of being refused.
    let t = crate::syntax::printer::print_expr(e);
    if crate::sym::parse_ascii(&t).is_ok() {
        return Some(t);
    }
    let t = explicit(e)?;
    crate::sym::parse_ascii(&t).is_ok().then_some(t)
}

/// A constant expression written with every product explicit and every operation in
/// parentheses (`2 sqrt(2)` → `(2*sqrt(2))`), in the exact reader's syntax.
fn explicit(e: &Expr) -> Option<String> {
    Some(match e {
        Expr::Num(n, _) => n.clone(),
        Expr::Unary(UnOp::Neg, x, _) => format!("(-{})", explicit(x)?),
        Expr::Binary(op, l, r, _) => {
            let op = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul | BinOp::Jux => "*",
                BinOp::Div => "/",
                BinOp::Pow => "^",
            };
            format!("({}{op}{})", explicit(l)?, explicit(r)?)
        }
        Expr::Call(c) if c.args.len() == 1 => {
            format!("{}({})", c.func.name, explicit(&c.args[0])?)
        }
        _ => return None,
    })
}

/// The exact value of a set's value, when it is a finite real number.
fn value(t: &str) -> Option<crate::sym::Expr> {
    use crate::sym::defined::{collecting, condition_holds};
    // Defined: every denominator non-zero, every logarithm and fractional power of a
    // positive (or non-negative) base, as the constructors record them.
    let (v, conditions) =
        collecting(|| crate::sym::parse_ascii(t).map(|p| crate::sym::simplify(&p)));
    let v = v.ok()?;
    let defined = conditions
        .iter()
        .all(|c| condition_holds(c, &crate::sym::Domains::default()));
    let finite = defined
        && v.free_symbols().is_empty()
        && v.eval_f64(&std::collections::BTreeMap::new())
            .is_ok_and(|f| f.is_finite());
    finite.then_some(v)
}

/// Whether a value is a whole number from 1 to the sample limit (for sizes); an
/// expression counts by its exact value (`2^5` is 32).
fn valid_size(t: &str) -> bool {
    if let Ok(v) = t.parse::<i64>() {
        return (1..=MAX_SAMPLE_SIZE).contains(&v);
    }
    value(t).and_then(|v| v.as_num().cloned()).is_some_and(|r| {
        r.is_integer()
            && r >= num_rational::BigRational::from_integer(1.into())
            && r <= num_rational::BigRational::from_integer(MAX_SAMPLE_SIZE.into())
    })
}

/// E0107: a `sample` or `at` value of a symbol or scalar input written as a constant
/// expression that is undefined or not finite (`sigma = log(0)`, `sqrt(-1)`, `1/0`), decided
/// by the constructors' definedness conditions as for `vary` values. (A value that names
/// other values is computed by the numeric run, which reports a non-finite estimate.)
pub fn check_values(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    for item in items {
        match &item.kind {
            ItemKind::Sample(bs) | ItemKind::At(bs) => binding_values(bs, env, diags),
            // A claim's own `at` is a point as well (diag33_open/claim_at_open_end.tq: `at
            // s = 0` of a standard deviation was proved there and sampled at s = 0).
            ItemKind::Claim(c) => binding_values(&c.at, env, diags),
            ItemKind::Loop(l) => check_values(&l.body, env, diags),
            ItemKind::ForIndices(f) => check_values(&f.body, env, diags),
            ItemKind::Rule(r) => check_values(&r.body, env, diags),
            _ => {}
        }
    }
}

/// The values of one list of settings with the names of the list's other settings
/// replaced by their values (`at q = 1/2, p = 2 q + 1/2` → p = `2 (1/2) + 1/2`), in any
/// order, as the point is read (`lower::point`); names that set each other in a cycle
/// stay, and their values are not constants.
fn resolved(bs: &[Binding]) -> Vec<Expr> {
    fn put(e: &mut Expr, bs: &[Binding], values: &[Expr]) -> bool {
        if let Expr::Ref(r) = e {
            if r.indices.is_none() {
                let n = crate::syntax::printer::print_name(&r.name);
                if let Some(k) = bs.iter().position(|b| b.name.name == n) {
                    *e = values[k].clone();
                    return true;
                }
            }
            return false;
        }
        let mut changed = false;
        for c in crate::syntax::visit::children_mut(e) {
            changed |= put(c, bs, values);
        }
        changed
    }
    let mut values: Vec<Expr> = bs.iter().map(|b| b.value.clone()).collect();
    // As many rounds as settings: a chain resolves, a cycle stops there.
    for _ in 0..bs.len().min(64) {
        let before = values.clone();
        let mut changed = false;
        for v in values.iter_mut() {
            changed |= put(v, bs, &before);
        }
        // A chain that grows its values (`a = b b, b = c c, ...`) stops while they are
        // small; a value left with names is not a constant and is not checked here.
        let nodes = |e: &Expr| {
            let mut n = 0usize;
            crate::syntax::visit::walk_expr(e, |_| {
                n += 1;
                n <= 500
            });
            n
        };
        if !changed || values.iter().any(|v| nodes(v) > 500) {
            break;
        }
    }
    values
}

/// [`check_values`] of one list of settings.
fn binding_values(bs: &[Binding], env: &Env, diags: &mut Vec<Diagnostic>) {
    // A value may read the list's other names (session 34); it is checked at the value it
    // takes (probe35/p a01: `at q = 1/2, p = 2 q + 1/2` set a probability to 3/2 with no
    // E0106).
    let values = resolved(bs);
    for (b, resolved_value) in bs.iter().zip(&values) {
        let name = &b.name.name;
        if env.sizes.contains_key(name) {
            continue; // sizes: E0302, and a claim's `at` of a size is a given (E0512)
        }
        let Some(text) = constant(resolved_value) else {
            continue;
        };
        // Only a value tq reads exactly and finds undefined (a text it cannot read
        // exactly, such as a numeral with an exponent, is left to the numeric run).
        let readable = crate::sym::parse_ascii(&text).is_ok();
        // E0902: an exact value past the size budget of exact numbers (the exact
        // engines would carry it in parts, or refuse it, at every step).
        crate::sym::take_exact_budget_hit();
        let v = if readable { value(&text) } else { None };
        if crate::sym::take_exact_budget_hit() {
            diags.push(exact_too_large(
                &format!("the value of `{name}`"),
                &text,
                b.value.span(),
            ));
            continue;
        }
        if readable && v.is_none() {
            diags.push(
                    Diagnostic::error(
                        "E0107",
                        b.value.span(),
                        format!("the value of `{name}`, `{text}`, is undefined or not a finite number"),
                    )
                    .with_hint("give a finite value (a division by zero, the log of a non-positive number or a fractional power of a negative number has none)"),
                );
        } else if let Some(d) = v.as_ref().and_then(|v| outside_domain(name, v, env)) {
            diags.push(d.at(b.value.span()));
        }
    }
}

/// E0106: a `sample` or `at` value of a symbol outside the domain a distribution
/// parameter gives it (`sample v = -1` for the variance of `normal(0, v)`, `p = 2` for
/// `bernoulli(p)`): the symbolic engines assume the domain, the numeric runs would draw
/// at a point the model cannot have. Only domains a declaration states are checked
/// (a plain symbol's positive-real convention is not a declaration).
struct Outside {
    message: String,
    hint: String,
}

impl Outside {
    fn at(self, span: Span) -> Diagnostic {
        Diagnostic::error("E0106", span, self.message)
            .with_label("outside the symbol's domain")
            .with_hint(self.hint)
    }
}

fn outside_domain(name: &str, v: &crate::sym::Expr, env: &Env) -> Option<Outside> {
    let d = env.domains.get(name)?;
    if d.why.is_empty() || env.sizes.contains_key(name) {
        return None;
    }
    let r = match v.as_num() {
        Some(r) => r.clone(),
        None => num_rational::BigRational::from_float(
            v.eval_f64(&std::collections::BTreeMap::new()).ok()?,
        )?,
    };
    // The domain as the engines assume it, open ends included (issue #18): a symbol's
    // `bernoulli(p)` has p > 0 and a standard deviation written squared in a variance is
    // > 0, and the proofs divide by them (`m / p`); a `sample p = 0` was accepted and
    // the numeric runs drew at a point the proofs exclude. (A parameter written as a
    // number, `bernoulli(0)`, is E0106's other half and keeps the closed range.)
    if (!d.integer || r.is_integer()) && crate::sym::within(&d.lo, &d.hi, &r) {
        return None;
    }
    // A lower end that only tq's positive convention gives (a symbol that declarations
    // bound by relations alone, `normal(0, (s + 1)/M)`) is not a declaration, as for a
    // plain symbol: `vary s in {0, 1}` was accepted by `tq check` and its variant s = 0
    // then failed with E0106 naming the relation, which 0 satisfies.
    if d.why.iter().any(|w| w == super::domains::CONVENTION)
        && (!d.integer || r.is_integer())
        && crate::sym::within(&None, &d.hi, &r)
    {
        return None;
    }
    let closed = |b: &Option<crate::sym::Bound>| b.as_ref().map(|(v, _)| (v.clone(), false));
    let at_open_end = crate::sym::within(&closed(&d.lo), &closed(&d.hi), &r);
    let shown = d.show(name);
    // A domain with no value at all (`normal(0, -s)`: a variance -s ≥ 0 and a symbol's
    // positive convention leave `(0, 0]`): no value can be given, the declaration is
    // what to change (probe33/a a18: the hint asked for a value in `(0, 0]`).
    let empty = match (&d.lo, &d.hi) {
        (Some((l, lo_open)), Some((h, hi_open))) => l > h || (l == h && (*lo_open || *hi_open)),
        _ => false,
    };
    if empty {
        return Some(Outside {
            message: format!(
                "`{name}` has no value its declarations allow: {} leave {shown}, which is empty",
                d.why.join("; ")
            ),
            hint: format!(
                "change the declaration that makes the domain empty: a variance or a scale is a positive symbol (write `normal(0, {name})`, not `normal(0, -{name})`), or use `{name}` where its sign is free (a mean is any real)"
            ),
        });
    }
    if at_open_end {
        return Some(Outside {
            message: format!(
                "the value of `{name}`, {r}, is at an open end of its domain: {shown} ({})",
                d.why.join("; ")
            ),
            hint: {
                let why = if d.why.iter().any(|w| w.starts_with("a probability")) {
                    " (a keep probability of 0 keeps nothing, and a division by it is undefined)"
                } else if d.why.iter().any(|w| w.starts_with("a standard deviation")) {
                    " (a standard deviation of 0 makes the drawn value a constant)"
                } else {
                    ""
                };
                let near = if num_traits::Zero::is_zero(&r) {
                    format!(", such as `{name} = 1/100`")
                } else {
                    String::new()
                };
                format!(
                    "give `{name}` a value with {shown}: tq's proofs assume `{name}` is not {r}{why}; for the limit, take a value near it{near}"
                )
            },
        });
    }
    Some(Outside {
        message: format!(
            "the value of `{name}`, {r}, is outside its domain: {shown} ({})",
            d.why.join("; ")
        ),
        hint: if d.why.iter().any(|w| w.starts_with("a variance")) {
            format!("give `{name}` a value with {shown}: it is a variance, the square of a standard deviation (a standard deviation of 0.5 is `{name} = 0.25`)")
        } else {
            format!("give `{name}` a value with {shown}")
        },
    })
}

/// E0902: a constant whose exact value passes the size budget of exact numbers
/// (`sym::MAX_BITS`), found while it was computed (the computation stops at the budget,
/// before the number is built).
pub(crate) fn exact_too_large(what: &str, text: &str, span: Span) -> Diagnostic {
    let shown: String = if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text.to_string()
    };
    Diagnostic::error(
        "E0902",
        span,
        format!(
            "{what}, `{shown}`, is an exact number of more than {} bits",
            crate::sym::MAX_BITS
        ),
    )
    .with_label("too large to compute exactly")
    .with_hint("tq reads this value exactly; write it with fewer digits (a decimal of at most 40 characters, or a power with a smaller exponent)")
}

/// Checks every `vary` line of a program.
pub fn check(
    items: &[Item],
    env: &Env,
    diags: &mut Vec<Diagnostic>,
    suggestions: &mut crate::diag::Suggestions,
) {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let ItemKind::Vary(ps) = &item.kind else {
            continue;
        };
        for p in ps {
            let name = &p.name.name;
            if seen.contains(name) {
                diags.push(
                    Diagnostic::error("E0603", p.name.span, format!("`{name}` is varied twice"))
                        .with_hint("give each parameter one range"),
                );
                continue;
            }
            seen.push(name.clone());
            let is_size = env.sizes.contains_key(name);
            if !(is_size || env.symbols.contains_key(name) || env.scalars.contains_key(name)) {
                diags.push(
                    Diagnostic::error(
                        "E0601",
                        p.name.span,
                        format!("`{name}` is not a declared size, symbol or scalar input, so it cannot be varied"),
                    )
                    .with_hint(format!(
                        "{}vary sizes (`size L`), symbols (`symbol sigma_W`) or the inputs of a scalar program (`scalar a`)",
                        suggestions.suggest(
                            name,
                            env.sizes.keys().chain(env.symbols.keys()).chain(env.scalars.keys()).map(String::as_str)
                        )
                        .map(|m| format!("did you mean `{m}`? "))
                        .unwrap_or_default()
                    )),
                );
                continue;
            }
            // A value written with an exponent tq does not read is E0904 at the number
            // (`check::numbers`), not a second diagnostic here.
            let out_of_range = |e: &Expr| {
                let mut found = false;
                crate::syntax::visit::walk_expr(e, |x| {
                    found |= matches!(x, Expr::Num(t, _) if super::numbers::out_of_range(t));
                    !found
                });
                found
            };
            let values: Vec<&Expr> = match &p.domain {
                VaryDomain::Range(a, b) => vec![a, b],
                VaryDomain::Set(xs) => xs.iter().collect(),
            };
            if values.into_iter().any(out_of_range) {
                continue;
            }
            match domain(p) {
                Err((span, msg, hint)) => {
                    diags.push(Diagnostic::error("E0602", span, msg).with_hint(hint))
                }
                Ok(d) if is_size => {
                    let whole = match &d {
                        Domain::Steps { lo, hi, scale } => {
                            valid_size(&decimal(*lo, *scale))
                                && valid_size(&decimal(*hi, *scale))
                                && (*scale == 0 || (lo % 10i64.pow(*scale) == 0 && lo == hi))
                        }
                        Domain::Set(v) => v.iter().all(|t| valid_size(t)),
                    };
                    if !whole {
                        // Whole values beyond the limit are out of range, not "not whole".
                        let whole_values = match &d {
                            Domain::Steps { lo, hi, scale } => {
                                *scale == 0 || (lo % 10i64.pow(*scale) == 0 && lo == hi)
                            }
                            Domain::Set(v) => v.iter().all(|t| {
                                let t = t.strip_prefix('-').unwrap_or(t);
                                !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
                            }),
                        };
                        let message = if whole_values {
                            format!("size `{name}` is varied over values out of range: sizes for numeric runs are whole numbers from 1 to {MAX_SAMPLE_SIZE}")
                        } else {
                            format!("size `{name}` must be varied over whole numbers from 1 to {MAX_SAMPLE_SIZE}")
                        };
                        diags.push(Diagnostic::error("E0602", p.span, message).with_hint(
                            "use whole ends, e.g. `L in 2..12`, or a set of whole numbers",
                        ));
                    }
                }
                Ok(d) => {
                    // Each value of a varied symbol inside the domain its declarations
                    // give it (E0106, as for `sample` and `at`): `vary p in {0, 1/2}`
                    // for `bernoulli(p)` passed `tq check` and its variant p = 0 failed.
                    // A range is checked at its ends (a domain is an interval).
                    let texts: Vec<String> = match &d {
                        Domain::Steps { lo, hi, scale } => {
                            vec![decimal(*lo, *scale), decimal(*hi, *scale)]
                        }
                        Domain::Set(v) => v.clone(),
                    };
                    if let Some(o) = texts
                        .iter()
                        .filter_map(|t| value(t))
                        .find_map(|v| outside_domain(name, &v, env))
                    {
                        diags.push(o.at(p.span));
                    }
                }
            }
        }
    }
}

/// E0101: a name in a `sample` or `at` value (or a claim's own `at`) that nothing
/// declares (`at a = foo`, `sample s = foo`). The value was read with the name as a free
/// symbol: every engine decided the claims at a point the file does not give (a witness
/// "at foo = 1"), and `at a = 0x10`, read as `0 x10`, set a to 0 (probe33/b b04).
pub fn check_value_names(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    for item in items {
        match &item.kind {
            ItemKind::Sample(bs) => value_names(bs, "sample", env, diags),
            ItemKind::At(bs) => value_names(bs, "at", env, diags),
            ItemKind::Claim(c) => value_names(&c.at, "at", env, diags),
            ItemKind::Loop(l) => check_value_names(&l.body, env, diags),
            ItemKind::ForIndices(f) => check_value_names(&f.body, env, diags),
            ItemKind::Rule(r) => check_value_names(&r.body, env, diags),
            _ => {}
        }
    }
}

fn value_names(bs: &[Binding], line: &str, env: &Env, diags: &mut Vec<Diagnostic>) {
    for b in bs {
        let mut unknown: Vec<&crate::syntax::ast::Ref> = Vec::new();
        crate::syntax::visit::walk_refs(&b.value, &mut |r| {
            let key = env.key_of(&r.name);
            let constant = matches!(key.as_str(), "pi" | "e") && !env.indices.contains_key(&key);
            if env.kind_of(&key).is_none()
                && !constant
                && !env.indices.contains_key(&key)
                && !unknown.iter().any(|u| u.name == r.name)
            {
                unknown.push(r);
            }
        });
        for r in unknown {
            let key = crate::syntax::printer::print_name(&r.name);
            let hex = hex_literal(&b.value, &key);
            let known = env
                .sizes
                .keys()
                .chain(env.symbols.keys())
                .chain(env.scalars.keys())
                .map(String::as_str);
            let mean = crate::diag::suggest(&key, known)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            let article = if line == "at" { "an" } else { "a" };
            let (message, hint) = match hex {
                Some((written, value)) => (
                    format!("`{key}` is not declared: `{written}` was read as the number 0 times `{key}`"),
                    format!("tq has no hexadecimal, octal or binary numbers: write the value in decimal (`{} = {value}`)", b.name.name),
                ),
                None => (
                    format!("`{key}` is not declared: the value of `{}` on the `{line}` line names it", b.name.name),
                    format!("{mean}{article} `{line}` value is a number or a constant expression (`{} = 2`, `1/3`, `sqrt(2)`), or an expression in the declared sizes, symbols and scalars: write the number, or declare `{key}`", b.name.name),
                ),
            };
            diags.push(
                Diagnostic::error("E0101", r.span, message)
                    .with_label("not declared")
                    .with_hint(hint),
            );
        }
    }
}

/// `0x10`, `0b101`, `0o17` as the lexer reads them, the number 0 beside a name: the
/// literal as written and its decimal value.
fn hex_literal(value: &Expr, name: &str) -> Option<(String, i128)> {
    let mut found = None;
    crate::syntax::visit::walk_expr(value, |e| {
        if let Expr::Binary(BinOp::Jux | BinOp::Mul, l, r, _) = e {
            if matches!(&**l, Expr::Num(t, _) if t == "0")
                && matches!(&**r, Expr::Ref(x) if crate::syntax::printer::print_name(&x.name) == name)
            {
                let radix = match name.chars().next() {
                    Some('x' | 'X') => 16,
                    Some('o' | 'O') => 8,
                    Some('b' | 'B') => 2,
                    _ => 0,
                };
                if radix > 0 && name.len() > 1 {
                    if let Ok(v) = i128::from_str_radix(&name[1..], radix) {
                        found = Some((format!("0{name}"), v));
                    }
                }
            }
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_steps() {
        let d = Domain::Steps {
            lo: 5,
            hi: 20,
            scale: 2,
        };
        assert_eq!(d.count(), 16);
        assert_eq!(d.value(0), "0.05");
        assert_eq!(d.value(5), "0.1");
        assert_eq!(d.value(15), "0.2");
        assert_eq!(decimal(-150, 2), "-1.5");
        assert_eq!(scaled("0.05"), Some((5, 2)));
        assert_eq!(scaled("1e-3"), None);
    }

    #[test]
    fn fraction_range_ends_are_read_as_their_finite_decimals() {
        assert_eq!(terminating("1", "4").as_deref(), Some("0.25"));
        assert_eq!(terminating("3", "8").as_deref(), Some("0.375"));
        assert_eq!(terminating("6", "3").as_deref(), Some("2"));
        assert_eq!(terminating("1", "3"), None);
        assert_eq!(terminating("1", "0"), None);
        assert_eq!(terminating("1", "1024"), None); // 10 places
    }

    #[test]
    fn set_values_are_finite_constants() {
        assert!(super::value("1/0").is_none());
        assert!(super::value("0/0").is_none());
        assert!(super::value("sqrt(-1)").is_none());
        assert!(super::value("sqrt(2)/4").is_some());
        assert!(super::value("2^(-3)").is_some());
    }
}
