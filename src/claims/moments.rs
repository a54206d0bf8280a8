//! Claims about moments decided by the symbolic moments engine (`src/moments`): each
//! `E(...)`, `Var(...)`, `Cov(...)` and `solve(...)` of a claim becomes an exact
//! expression, and the relation is decided by the symbolic engine. Moments known only
//! by bounds decide inequalities through the bound; moments of a function of a Gaussian
//! are computed by quadrature (then the verdict is at most `confirmed`); results that
//! rest on an approximation are never `proved` here.

use super::scalar::{self, Scope};
use crate::check::Env;
use crate::claims::{Method, Outcome};
use crate::moments::{Analysis, Applied, Approximation, Opaque};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, BinOp, RelOp};
use crate::syntax::printer::print_expr;
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};
mod borders;
#[allow(unused_imports)]
pub use borders::*;

/// The moments a claim mentions.
#[derive(Clone, Debug, Default)]
pub struct MomentCalls {
    pub calls: BTreeMap<String, Result<Expr, String>>,
    pub rules: BTreeSet<Applied>,
    pub approx: BTreeSet<Approximation>,
    pub bounds: BTreeMap<String, Vec<(Expr, Applied)>>,
    pub opaque: BTreeMap<String, Opaque>,
    /// Notes for the evidence (the approximation step of a solution).
    pub notes: Vec<String>,
    /// Where a `solve(...)` has its solution: `solve(...) > 0` for a positive unknown
    /// whose root the range facts do not show positive on the domains (`sqrt(D a c)` for
    /// variances a, c ≥ 0: at a = 0 the equation has no solution). A solve claim speaks
    /// only where its solution exists: these are added to its givens, so no point where
    /// they fail is a witness, and a proof names them (docs/soundness.md).
    pub exists: Vec<ast::Expr>,
    /// What `exists` says, for the evidence.
    pub exists_shown: Vec<String>,
    /// The definedness conditions of each call's moments (`moments::Analysis::
    /// conditions`), keyed as `calls`: given to the claim's (`scalar::Scope::
    /// call_conditions`), so a claim whose givens break one is about an undefined value.
    pub conditions: BTreeMap<String, Vec<sym::Condition>>,
}

impl MomentCalls {
    pub fn any(&self) -> bool {
        !self.calls.is_empty()
    }
}

/// Lowers every moment and `solve` call of a claim; `base` is the claim's scope (the
/// scalar program's values and derivatives, the program's index-free values), in which
/// a `solve` equation is written out as the claim's sides are.
pub fn calls(claim: &ast::Claim, a: &Analysis, env: &Env, base: &Scope) -> MomentCalls {
    let mut out = MomentCalls::default();
    let mut found = Vec::new();
    find(&claim.body, &mut found);
    for c in found {
        let text = print_expr(&ast::Expr::Call(c.clone()));
        if out.calls.contains_key(&text) {
            continue;
        }
        let value = if c.func.name == "solve" {
            solve_call(c, claim, a, env, base, &mut out)
        } else {
            match a.moment(env, c) {
                // The engine's placeholders for a state's unknown moments (`M#h`) are
                // not symbols of the file: a value that still holds one is not known.
                Ok(m) if m.value.free_symbols().iter().any(|s| s.contains('#')) => Err(format!(
                    "{text} depends on moments the engine does not know in closed form ({})",
                    m.value
                        .free_symbols()
                        .iter()
                        .filter(|s| s.contains('#'))
                        .map(|s| s.replace("M#", "E[x^2] of ").replace("E#", "E of "))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                // A value that reads an index the claim does not name (`[k == 0]` of
                // `y[b,k] = x[b,k] (1 + [k == 0])`) is one element's moment at a position
                // the engine left as a symbol, which the claim's domains would take for a
                // positive real: `Var(y) <= 2` was proved although Var(y[b,0]) = 4, and
                // `Var(y[b,0]) == 4` refuted "at k = 1" (exact32's repro). Monte Carlo
                // decides such claims, position by position.
                Ok(m) if position_names(&m.value, env, &text).next().is_some() => Err(format!(
                    "{text} depends on the position ({}): the elements have different moments, which the moments engine does not tell apart",
                    position_names(&m.value, env, &text)
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Ok(m) => {
                    out.rules.extend(m.rules);
                    out.approx.extend(m.approx);
                    if !m.bounds.is_empty() {
                        out.bounds.insert(text.clone(), m.bounds);
                    }
                    out.opaque.extend(m.opaque);
                    Ok(m.value)
                }
                Err(e) => Err(e),
            }
        };
        let conditions = a.conditions_of(env, &ast::Expr::Call(c.clone()));
        if !conditions.is_empty() {
            out.conditions.insert(text.clone(), conditions);
        }
        out.calls.insert(text, value);
    }
    out
}

/// The indices (`k` over `K`, not sizes, symbols or scalars) a moment's value reads as
/// atoms that the call does not name: only the call binds one (`Var(w[b,k])`); probe39/h
/// l18: `E(y[b,0]) == e` was proved, the right side's `e` taken for E(y[b,e])'s atom.
fn position_names<'v>(
    value: &'v Expr,
    env: &'v Env,
    call: &'v str,
) -> impl Iterator<Item = String> + 'v {
    value.free_symbols().into_iter().filter(move |s| {
        env.index_size(s).is_some()
            && !env.sizes.contains_key(s)
            && !env.symbols.contains_key(s)
            && !env.scalars.contains_key(s)
            && !crate::claims::mentions(call, s)
    })
}

pub(super) fn find<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Call>) {
    match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "E" | "Var" | "Cov" | "solve") => {
            out.push(c)
        }
        ast::Expr::Call(c) => c.args.iter().for_each(|a| find(a, out)),
        ast::Expr::Unary(_, x, _) => find(x, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            find(l, out);
            find(r, out);
        }
        _ => {}
    }
}

/// `solve(lhs == rhs, x)` or `solve(..., x^2)`: the solution, exactly.
fn solve_call(
    c: &ast::Call,
    claim: &ast::Claim,
    a: &Analysis,
    env: &Env,
    base: &Scope,
    out: &mut MomentCalls,
) -> Result<Expr, String> {
    let [ast::Expr::Rel(RelOp::Eq, l, r, _), target] = c.args.as_slice() else {
        return Err(
            "`solve` takes an equation and the unknown: solve(Var(y) == 1, sigma^2)".into(),
        );
    };
    // The moments inside the equation.
    let mut inner = Vec::new();
    find(l, &mut inner);
    find(r, &mut inner);
    // The equation reads the file's values as the claim does (`c = 2`, a scalar
    // program's `g` or `d(L)/d(w)`): in an empty scope they were free symbols, and
    // `solve(Var(y) == c, sigma^2) == 2/I` was refuted "at c = 0".
    let mut scope = base.clone();
    scope.calls.clear();
    for ic in inner {
        let text = print_expr(&ast::Expr::Call(ic.clone()));
        let m = a.moment(env, ic)?;
        if !m.opaque.is_empty() {
            return Err(format!("{text} has no exact closed form to solve with"));
        }
        out.rules.extend(m.rules);
        out.approx.extend(m.approx);
        scope.calls.insert(text, Ok(m.value));
    }
    let lhs = scalar::lower(l, &scope)?;
    let rhs = scalar::lower(r, &scope)?;
    // The unknown: a symbol, or a symbol squared (a variance parameter).
    let (name, squared) = match target {
        ast::Expr::Ref(t) if t.indices.is_none() => {
            (crate::syntax::printer::print_name(&t.name), false)
        }
        ast::Expr::Binary(BinOp::Pow, b, p, _)
            if matches!(&**b, ast::Expr::Ref(t) if t.indices.is_none())
                && matches!(&**p, ast::Expr::Num(n, _) if n == "2") =>
        {
            let ast::Expr::Ref(t) = &**b else {
                unreachable!()
            };
            (crate::syntax::printer::print_name(&t.name), true)
        }
        _ => return Err("the unknown of `solve` is a symbol or a symbol squared".into()),
    };
    let (lhs, rhs, x) = if squared {
        let u = Expr::sym("#u");
        let root = Expr::sqrt(u);
        (
            sym::simplify(&lhs.subs(&name, &root)),
            sym::simplify(&rhs.subs(&name, &root)),
            "#u",
        )
    } else {
        (lhs, rhs, name.as_str())
    };
    if squared && (lhs.free_symbols().contains(&name) || rhs.free_symbols().contains(&name)) {
        return Err(format!("{name} does not appear only as {name}^2"));
    }
    let mut sols = sym::solve(&lhs, &rhs, x);
    if sols.is_err() && !rhs.is_zero() {
        // Consecutive members of a recurrence: Var(a_k) == Var(a_{k-1}) is the step factor 1.
        let ratio = sym::simplify(&(lhs.clone() / rhs.clone()));
        sols = sym::solve(&ratio, &Expr::one(), x);
        if sols.is_ok() {
            out.notes
                .push("solved as the ratio of the two sides equal to 1".into());
        }
    }
    if sols.is_err() && !squared {
        // x appearing as x^2 only: solve for x^2, then both roots.
        let u = Expr::sym("#u");
        let (l2, r2) = (
            sym::simplify(&lhs.subs(x, &Expr::sqrt(u.clone()))),
            sym::simplify(&rhs.subs(x, &Expr::sqrt(u))),
        );
        if !l2.free_symbols().contains(x) && !r2.free_symbols().contains(x) {
            if let Ok(us) = sym::solve(&l2, &r2, "#u") {
                sols = Ok(us
                    .into_iter()
                    .flat_map(|u| [Expr::sqrt(u.clone()), -Expr::sqrt(u)])
                    .collect());
            }
        }
    }
    let sols = sols?;
    // A repeated root (`(a + 1)^600 = 0`) is one solution, listed once.
    let mut distinct: Vec<Expr> = Vec::new();
    for s in sols {
        if !distinct.iter().any(|d| sym::identical(d, &s)) {
            distinct.push(s);
        }
    }
    let mut sols = distinct;
    // The unknown is positive by a given (`given x > 0`), as a variance parameter
    // (`sigma^2`) or by the domain convention (a symbol that is not a location or a
    // scalar input: docs/symbolic.md, "Domains"); the positive root is then the one
    // whose range over the other symbols' domains and the givens' bounds is above 0
    // (exact range facts; a root of undecided sign is not picked).
    let given_positive = crate::analysis::givens::Givens::read(&claim.given, env).positive(&name);
    let by_domain = (env.symbols.contains_key(&name) || env.sizes.contains_key(&name))
        && !env.signed.contains(&name)
        && !env.scalars.contains_key(&name);
    let positive = given_positive || squared || by_domain;
    if positive && sols.len() > 1 {
        // The roots not negative anywhere on the domains (one that is 0 at some point
        // is a solution only where it is positive: `exists` below).
        let dom = root_domains(env, claim, &scope);
        let strict: Vec<Expr> = sols
            .iter()
            .filter(|s| sym::defined::range(s, &dom).lo_above_zero(true))
            .cloned()
            .collect();
        if strict.is_empty() {
            sols.retain(|s| sym::defined::range(s, &dom).lo_above_zero(false));
        } else {
            sols = strict;
        }
    } else if let (true, [one]) = (positive, sols.as_slice()) {
        // The one root shown at most 0 lies outside the unknown's domain: no solution
        // there (`(r + 1)^2 = 0` for a positive r).
        let dom = root_domains(env, claim, &scope);
        if sym::defined::range(one, &dom).hi_below_zero(false) {
            return Err(format!(
                "the only solution, {}, is not positive: outside the domain of `{name}` (a symbol that is not a location or a scalar input is positive, docs/language.md)",
                sym::to_ascii(one)
            ));
        }
    }
    match sols.as_slice() {
        [one] => {
            let sol = sym::simplify(one);
            // A positive unknown: the root is a solution only where it is positive
            // (session 30: `solve(Var(sc) == 1, tau) == sqrt(D)` was refuted at a = c = 0,
            // where Var(sc) = 0 for every tau and nothing solves the equation).
            // The root with the claim's settings put in (`given chi = 1 + mu^2`).
            let mut at_givens = sol.clone();
            for (n, v) in crate::analysis::givens::Givens::read(&claim.given, env)
                .values(false)
                .unwrap_or_default()
            {
                at_givens = at_givens.subs(&n, &v);
            }
            let at_givens = sym::simplify(&at_givens);
            // The root is a solution only inside the unknown's whole domain: its declared
            // ends (`bernoulli(1 - p)`: 0 <= p < 1, both ends; probe31/a u23, u24: a true
            // `solve(...) < 1` was refuted where the root is 1 and nothing solves the
            // equation), else the positive convention. Each end the range facts do not
            // show is a condition the claim is decided under.
            let dom = root_domains(env, claim, &scope);
            for (op, end) in solve_ends(env, &name, (positive, given_positive, squared)) {
                let gap = sym::simplify(&(at_givens.clone() - Expr::num(end.clone())));
                let range = sym::defined::range(&gap, &dom);
                let shown = match op {
                    RelOp::Gt => range.lo_above_zero(true),
                    RelOp::Ge => range.lo_above_zero(false),
                    RelOp::Lt => range.hi_below_zero(true),
                    _ => range.hi_below_zero(false),
                };
                if shown {
                    continue;
                }
                let span = c.span;
                let end_text = end.to_string();
                out.exists_shown.push(format!(
                    "a solution exists only where {} {} {end_text} (the domain of `{name}`): the claim is decided there",
                    sym::to_ascii(&sol),
                    op.symbol(),
                ));
                out.exists.push(ast::Expr::Rel(
                    op,
                    Box::new(ast::Expr::Call(c.clone())),
                    Box::new(rational_literal(&end, span)),
                    span,
                ));
            }
            // The seeds' approximation of (1 + a x)^N = c, as a labelled step.
            if let Some(step) = approx_note(&lhs, &rhs, x, &name, squared) {
                out.notes.push(step);
            }
            Ok(sol)
        }
        [] => Err("no solution of the required sign".into()),
        many => Err(format!(
            "{} solutions: {}; a given that bounds the unknown (`given {name} > 0`) picks the positive one",
            many.len(),
            many.iter()
                .map(sym::to_ascii)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The ends of the unknown's domain a root of `solve` must lie within, as relations
/// `root OP end`: the declared domain's ends (a probability's both ends, open or
/// closed as declared), else `> 0` for a positive unknown (the convention); a given
/// `x > 0` adds `> 0`, and a squared unknown (`sigma^2`) is positive.
fn solve_ends(
    env: &Env,
    name: &str,
    (positive, given_positive, squared): (bool, bool, bool),
) -> Vec<(RelOp, BigRational)> {
    let zero = BigRational::from_integer(0.into());
    let declared = (!squared).then(|| env.domains.get(name)).flatten();
    let mut ends = Vec::new();
    match declared.and_then(|d| d.lo.clone()) {
        Some((v, open)) if !(given_positive && v <= zero) => {
            ends.push((if open { RelOp::Gt } else { RelOp::Ge }, v));
        }
        _ if positive => ends.push((RelOp::Gt, zero)),
        _ => {}
    }
    if let Some((v, open)) = declared.and_then(|d| d.hi.clone()) {
        ends.push((if open { RelOp::Lt } else { RelOp::Le }, v));
    }
    ends
}

/// A rational as a literal of the language (`3/4` as a quotient).
fn rational_literal(v: &BigRational, span: crate::span::Span) -> ast::Expr {
    let num = |n: &num_bigint::BigInt| {
        let lit = ast::Expr::Num(n.magnitude().to_string(), span);
        if n.sign() == num_bigint::Sign::Minus {
            ast::Expr::Unary(ast::UnOp::Neg, Box::new(lit), span)
        } else {
            lit
        }
    };
    if v.denom() == &num_bigint::BigInt::from(1) {
        num(v.numer())
    } else {
        ast::Expr::Binary(
            BinOp::Div,
            Box::new(num(v.numer())),
            Box::new(ast::Expr::Num(v.denom().to_string(), span)),
            span,
        )
    }
}

/// The domains a root of `solve` ranges over: sizes are whole, scalar inputs and
/// locations every real, other symbols positive; bounds from the claim's givens.
fn root_domains(env: &Env, claim: &ast::Claim, scope: &Scope) -> sym::Domains {
    let mut dom = sym::Domains {
        integers: env.sizes.keys().cloned().collect(),
        real: env
            .scalars
            .keys()
            .chain(env.signed.iter())
            .cloned()
            .collect(),
        ..Default::default()
    };
    // The declared domains (a variance >= 0, a probability in [0, 1]): a root that is 0
    // where a variance is 0 is not taken as positive (session 30, probe 29's r20).
    for (s, d) in &env.domains {
        let x = Expr::sym(s);
        if d.integer {
            dom.integers.insert(s.clone());
        } else if d.lo.is_some() {
            dom.real.insert(s.clone());
        }
        if let Some((v, open)) = &d.lo {
            let rel = if *open { sym::Rel::Gt } else { sym::Rel::Ge };
            dom.assume(&x, &rel, &Expr::num(v.clone()));
        }
        if let Some((v, open)) = &d.hi {
            let rel = if *open { sym::Rel::Lt } else { sym::Rel::Le };
            dom.assume(&x, &rel, &Expr::num(v.clone()));
        }
    }
    for g in &claim.given {
        if let ast::Expr::Rel(op, l, r, _) = g {
            let (Some(rel), Ok(l), Ok(r)) = (
                scalar::relation(*op),
                scalar::lower(l, scope),
                scalar::lower(r, scope),
            ) else {
                continue;
            };
            dom.assume(&l, &rel, &r);
        }
    }
    dom
}

/// For `(1 + a x)^N = c`: the seeds' step `(1 + e)^N ≈ exp(e N)` and what it gives.
fn approx_note(lhs: &Expr, rhs: &Expr, x: &str, name: &str, squared: bool) -> Option<String> {
    let (Expr::Pow(base, n), c) = (lhs, rhs) else {
        return None;
    };
    if c.free_symbols().contains(x) || n.free_symbols().contains(x) {
        return None;
    }
    // exp(e N) = c needs c > 0 (`(a + 1)^4 = 0` has no such step).
    if !sym::defined::range(c, &sym::Domains::default()).lo_above_zero(true) {
        return None;
    }
    let e = sym::simplify(&((**base).clone() - Expr::one()));
    let a = sym::simplify(&e.diff(x));
    if !sym::identical(&sym::simplify(&(a.clone() * Expr::sym(x))), &e) {
        return None;
    }
    let step = sym::approx_one_plus_pow(&e, n);
    // exp(a x N) = c  →  x = ln(c) / (a N).
    let approx = sym::simplify(&(Expr::ln(c.clone()) / (a.clone() * (**n).clone())));
    let shown = if squared {
        format!("{name} = {}", sym::to_ascii(&Expr::sqrt(approx.clone())))
    } else {
        format!("{name} = {}", sym::to_ascii(&approx))
    };
    let reached = sym::simplify(&Expr::pow(
        Expr::one() + sym::simplify(&(a * approx)),
        (**n).clone(),
    ));
    // The error at a few depths, when the exponent is a single size.
    let mut at_depths = Vec::new();
    if let Expr::Sym(depth) = &**n {
        for d in [1i64, 2, 10, 100] {
            let v = reached.subs(depth, &Expr::int(d));
            let want = c.subs(depth, &Expr::int(d));
            let at: BTreeMap<String, f64> = BTreeMap::new();
            if let (Ok(v), Ok(w)) = (v.eval_f64(&at), want.eval_f64(&at)) {
                at_depths.push(format!("{depth} = {d}: {v:.4} (error {:.4})", w - v));
            }
        }
    }
    Some(format!(
        "the seeds' step {}: {shown}, which gives {} instead of {}{}",
        step.label,
        sym::to_ascii(&reached),
        sym::to_ascii(c),
        if at_depths.is_empty() {
            String::new()
        } else {
            format!(" — at {}", at_depths.join(", "))
        }
    ))
}

/// A rational close to a float (for quadrature values).
pub fn rational(x: f64) -> Option<Expr> {
    BigRational::from_float(x).map(Expr::num)
}

/// Numeric values of the quadrature moments of a claim, under the claim's `x = value`
/// givens, each with a bound on its error taken from the quadrature's error estimate
/// (ten times the difference between the 64- and the 48-point rules, propagated through
/// `E[f²] − E[f]²` for a variance); `None` when some input is not a number or a
/// quadrature did not converge (`quadrature::QUAD_MAX_ERROR`).
pub fn quadrature(
    mc: &MomentCalls,
    given: &[(String, Expr)],
) -> Option<BTreeMap<String, (f64, f64)>> {
    let mut out = BTreeMap::new();
    for (name, o) in &mc.opaque {
        let Some((q, is_var)) = &o.quad else {
            continue;
        };
        // An input that is only approximately Gaussian (a sum of many uncorrelated
        // terms) has no quadrature value to decide with: a_1 = W h_0 summed over J = 8
        // has Var(tanh(a_1)) = 0.3738, the Gaussian's quadrature 0.3943.
        if q.approx {
            return None;
        }
        let num = |e: &Expr| -> Option<f64> {
            let mut e = e.clone();
            for (n, v) in given {
                e = e.subs(n, v);
            }
            let at: BTreeMap<String, f64> = [("pi".to_string(), std::f64::consts::PI)].into();
            e.eval_f64(&at).ok()
        };
        let (m, v) = (num(&q.mean)?, num(&q.var)?);
        let r = crate::moments::quadrature::gauss_hermite_checked(q.func, m, v)?;
        if r.error > crate::moments::quadrature::QUAD_MAX_ERROR {
            return None;
        }
        let e = 10.0 * r.error + 1e-15;
        out.insert(
            name.clone(),
            if *is_var {
                (r.m2 - r.mean * r.mean, e + 2.0 * r.mean.abs() * e + e * e)
            } else {
                (r.mean, e)
            },
        );
    }
    Some(out)
}

/// `Var(T[...])` → `T[...]` and `E(T[...])` → 0 (the claim in terms of the
/// second-moment program); `None` when something else is asked.
fn to_second_moments(e: &ast::Expr, targets: &mut Vec<ast::Expr>) -> Option<ast::Expr> {
    Some(match e {
        ast::Expr::Call(c) if c.func.name == "Var" || c.func.name == "E" => {
            let [x @ ast::Expr::Ref(r)] = c.args.as_slice() else {
                return None;
            };
            r.indices.as_ref()?;
            targets.push(x.clone());
            if c.func.name == "Var" {
                x.clone()
            } else {
                ast::Expr::Num("0".into(), c.span)
            }
        }
        ast::Expr::Call(_) => return None,
        ast::Expr::Unary(op, x, s) => {
            ast::Expr::Unary(*op, Box::new(to_second_moments(x, targets)?), *s)
        }
        ast::Expr::Binary(op, l, r, s) => ast::Expr::Binary(
            *op,
            Box::new(to_second_moments(l, targets)?),
            Box::new(to_second_moments(r, targets)?),
            *s,
        ),
        ast::Expr::Sum(ids, b, s) => {
            ast::Expr::Sum(ids.clone(), Box::new(to_second_moments(b, targets)?), *s)
        }
        ast::Expr::Num(..) | ast::Expr::Ref(_) => e.clone(),
        _ => return None,
    })
}

/// The runs of the second-moment program position by position made for the claims of
/// one file, by the values their givens set (`None`: the program has none), and the
/// element evaluations they have spent: a file's claims share
/// [`FILE_POSITION_BUDGET`], as each setting of the givens is a run of its own.
#[derive(Default)]
pub struct PositionRuns<'e> {
    memo: std::cell::RefCell<BTreeMap<String, Option<crate::num::Machine<'e>>>>,
    spent: std::cell::Cell<u64>,
}

/// The element evaluations all the position-by-position runs of one file's claims may
/// spend together: three runs at the budget of one (`crate::moments::position::BUDGET`).
pub const FILE_POSITION_BUDGET: u64 = 3 * crate::moments::position::BUDGET;

impl<'e> PositionRuns<'e> {
    /// A run of the second-moment program at the setting `setup`, charged to the file;
    /// `Err` with the reason when the file's runs have spent their budget.
    fn run(
        &self,
        program: &ast::Program,
        env: &'e Env,
        setup: &dyn Fn(&mut crate::num::Machine) -> Result<(), crate::num::NumError>,
        backward: bool,
    ) -> Result<Option<crate::num::Machine<'e>>, String> {
        let left = FILE_POSITION_BUDGET.saturating_sub(self.spent.get());
        if left == 0 {
            return Err(format!(
                "the position-by-position runs of this file's claims have spent their budget of {FILE_POSITION_BUDGET} element evaluations; use smaller sizes on the `sample` line or fewer settings of the givens"
            ));
        }
        let budget = left.min(crate::moments::position::BUDGET);
        let run = crate::moments::position::run_within(program, env, setup, backward, budget);
        let spent = match &run {
            Ok(m) => m.steps(),
            Err(_) => budget,
        };
        self.spent
            .set(self.spent.get().saturating_add(spent.max(1)));
        Ok(run.ok())
    }
}

/// Claims about moments at given positions under zero padding, from the second-moment
/// program run position by position (`crate::moments::position`); `None` when the
/// claim is not of that kind.
pub fn decide_by_position<'e>(
    claim: &ast::Claim,
    program: &ast::Program,
    env: &'e Env,
    a: &Analysis,
    runs: &PositionRuns<'e>,
) -> Option<Outcome> {
    let zero = claim.boundary == Some(ast::Boundary::Zero)
        || (claim.boundary.is_none() && env.boundary == Some(ast::Boundary::Zero));
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return None;
    };
    if !zero {
        return None;
    }
    let mut targets = Vec::new();
    let (l2, r2) = (
        to_second_moments(l, &mut targets)?,
        to_second_moments(r, &mut targets)?,
    );
    if targets.is_empty() {
        return None;
    }
    let und = |why: String| Some(Outcome::undecided(why));
    // Only where positions differ: zero padding asked in a circular model, or reads cross the border.
    let border = targets.iter().any(|t| {
        a.element(env, t)
            .is_ok_and(|rv| rv.approx.contains(&Approximation::Border))
    });
    if claim.boundary.is_none() && !border {
        return None;
    }
    // The generic element: zero mean, uncorrelated sums (exact but for the border).
    for t in &targets {
        let rv = match a.element(env, t) {
            Ok(rv) => rv,
            Err(e) => return und(format!("position by position: {e}")),
        };
        let approx: Vec<&Approximation> = rv
            .approx
            .iter()
            .filter(|x| !matches!(x, Approximation::Border | Approximation::ShiftedSum))
            .collect();
        // The second moment known away from the border: the moments engine has shown
        // the sums' terms uncorrelated there. Without it (`h_{l+1}[t] = h_l[t] +
        // h_l[t+1]`: neighbours share leaves) the program's sum of variances is no
        // element's, and `Var(h_2[0,0]) == 6` was refuted by its 4.
        if !rv.mean.as_ref().is_some_and(|m| m.is_zero()) || !approx.is_empty() || rv.m2.is_none() {
            return und(format!(
                "position by position needs zero-mean elements with exact moments; {} is not",
                print_expr(t)
            ));
        }
    }
    let sets = match super::montecarlo::given_values(claim, env) {
        Ok(s) => s,
        Err(e) => return und(e),
    };
    // The run depends only on the program, the values the givens set and whether the
    // backward program runs too (the same setting gives the same run, seeded with 0):
    // made once per setting and cloned. A gradient element needs the backward program
    // (the forward program alone leaves every gradient element at 0).
    let backward = targets
        .iter()
        .any(|t| matches!(t, ast::Expr::Ref(r) if r.grad));
    let key = format!("{sets:?} backward={backward}");
    let memo = runs.memo.borrow().get(&key).cloned();
    let run = match memo {
        Some(run) => run,
        None => {
            let setup = |m: &mut crate::num::Machine| {
                super::montecarlo::apply_givens(m, program, env, &sets, Some(ast::Boundary::Zero))
            };
            let run = match runs.run(program, env, &setup, backward) {
                Ok(run) => run,
                Err(why) => return und(format!("position by position: {why}")),
            };
            runs.memo.borrow_mut().insert(key, run.clone());
            run
        }
    };
    let mut m = run?;
    let run_consts: BTreeMap<String, f64> = m.consts.clone().into_iter().collect();
    // A claim about a loop's members (`Var(I_s[0,0,0,0]) == 4^(-s)`) is read at every
    // value of the loops it names, as Monte Carlo does: read with the variable unbound,
    // `I_s` named no member and was read as 0 (a true claim refuted "left 0").
    let mut bindings = match loop_bindings(claim, program, &mut m) {
        Ok(b) => b,
        Err(why) => return und(format!("position by position: {why}")),
    };
    let loop_vars: std::collections::BTreeSet<String> = bindings
        .first()
        .map(|b| b.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    if let Some(why) = super::montecarlo::unmet_condition(claim, env, &run_consts, &loop_vars) {
        return und(format!("position by position: {why}"));
    }
    // Givens on a loop variable select the bindings (as in Monte Carlo).
    bindings.retain(|b| super::montecarlo::binding_holds(claim, env, &run_consts, b));
    let mut read = None;
    let (mut near, mut not_finite): (Option<String>, Option<String>) = (None, None);
    for b in &bindings {
        let (lv, rv) = match (m.eval(&l2, b), m.eval(&r2, b)) {
            (Ok(a), Ok(v)) => (a, v),
            (Err(e), _) | (_, Err(e)) => {
                return und(format!("position by position: {}", e.message))
            }
        };
        // A side not finite (an overflow, a division by 0) decides nothing; another binding may refute.
        if !lv.is_finite() || !rv.is_finite() {
            not_finite.get_or_insert(format!("position by position: a side is not finite (left {lv}, right {rv}); a value that is undefined or overflows decides nothing"));
            continue;
        }
        let fails = !relation_holds(claim, *op, lv, rv);
        read = Some((b.clone(), lv, rv));
        if fails {
            break;
        }
        // Holding only within the slack (relative 1e-9), by more than rounding, decides
        // nothing (fixd33 m106: `== 0.0666666667`, exactly 1/15 on the left, confirmed).
        if near.is_none() && by_slack(*op, lv, rv) {
            near = Some(format!("left {lv:.15e}, right {rv:.15e}"));
        }
    }
    if let (Some(sides), Some((_, l0, r0))) = (near, &read) {
        if relation_holds(claim, *op, *l0, *r0) {
            // `border_pool`: Monte Carlo's trials cannot resolve it either.
            return Some(Outcome {
                border_pool: Some(format!("position by position the sides differ beyond floating-point rounding ({sides}), which no number of trials resolves")),
                ..Outcome::undecided(format!("position by position: {sides} agree within the comparison's slack but differ by more than the floating-point run's rounding (relative {NEAR_MISS:e}); a float decides nothing exactly, so the claim is not confirmed"))
            });
        }
    }
    let refutes = read
        .as_ref()
        .is_some_and(|r| !relation_holds(claim, *op, r.1, r.2));
    if let (Some(why), false) = (not_finite, refutes) {
        return und(why);
    }
    let Some((bind, lv, rv)) = read else {
        return und("position by position: the loop the claim names has no steps".into());
    };
    let at = if bind.is_empty() {
        String::new()
    } else {
        format!(
            " at {}",
            bind.iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let holds = relation_holds(claim, *op, lv, rv);
    let verdict = if holds {
        super::Verdict::Confirmed
    } else {
        super::Verdict::Refuted
    };
    let mut witness = None;
    if !holds {
        // The re-check: the second-moment program run afresh (not the run kept for the
        // file's other claims) and both sides re-read there, and a side without moments
        // evaluated again by the symbolic evaluator at the run's sizes and symbols; the
        // refutation stands only when both agree with the first reading.
        let setup = |m: &mut crate::num::Machine| {
            super::montecarlo::apply_givens(m, program, env, &sets, Some(ast::Boundary::Zero))
        };
        let fresh = match runs.run(program, env, &setup, backward) {
            Ok(run) => run,
            Err(why) => {
                return und(format!(
                    "position by position: left {lv:.6}, right {rv:.6}, not re-checked by a second run: {why}; so this is not counted as a refutation"
                ))
            }
        };
        let again =
            fresh.and_then(|mut f| Some((f.eval(&l2, &bind).ok()?, f.eval(&r2, &bind).ok()?)));
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
        match again {
            Some((la, ra)) if close(la, lv) && close(ra, rv) => {}
            other => {
                return und(format!(
                    "position by position: left {lv:.6}, right {rv:.6}, but a second run of the second-moment program read {}, so this is not counted as a refutation",
                    other.map_or("nothing".to_string(), |(a, b)| format!("left {a:.6}, right {b:.6}"))
                ));
            }
        }
        let mut at_run = run_consts.clone();
        at_run.extend(bind.iter().map(|(k, v)| (k.clone(), *v as f64)));
        let symbolic = |side: &ast::Expr| {
            scalar::lower(side, &Scope::default())
                .ok()
                .and_then(|e| e.eval_f64(&at_run).ok())
        };
        let mut how = vec![
            "the second-moment program run afresh, both sides re-read: the same values".to_string(),
        ];
        for (name, side, v) in [("left", l, lv), ("right", r, rv)] {
            if let Some(x) = symbolic(side) {
                if !close(x, v) {
                    return und(format!(
                        "position by position: {name} {v:.6}, but the symbolic evaluator reads {x:.6} at the same sizes and symbols, so this is not counted as a refutation"
                    ));
                }
                how.push(format!("the {name} side (no moments) evaluated again by the symbolic evaluator at the run's sizes and symbols: {x:.6}"));
            }
        }
        witness = Some(crate::sym::Witness::of_run(
            &super::run_values(&m.consts, env),
            targets
                .iter()
                .map(print_expr)
                .collect::<Vec<_>>()
                .join(", "),
            0,
            crate::verdict::distinct_pair(lv, rv, 6).0,
            crate::verdict::distinct_pair(lv, rv, 6).1,
            how.join("; "),
        ));
    }
    let mut o = Outcome::new(
        verdict,
        Method::MomentsByPosition,
        format!(
            "the second-moment program (every zero-mean leaf replaced by its variance, coefficients squared; exact for uncorrelated sums) run under zero padding in floating point{}: left {}, right {}",
            if holds && bindings.len() > 1 { format!(" at each of {} steps (the last shown{at})", bindings.len()) } else { at.clone() },
            crate::verdict::distinct_pair(lv, rv, 6).0,
            crate::verdict::distinct_pair(lv, rv, 6).1,
        ),
    );
    o.witness = witness;
    Some(o)
}

/// The relative difference beyond which two floating-point sides are not one value rounded
/// twice: the runs sum a few thousand products at most, each rounding at 2^-53 relative.
const NEAR_MISS: f64 = 1e-12;

/// Whether `lv op rv` holds only through the comparison's slack, the sides differing by
/// more than rounding (see [`NEAR_MISS`]); sides below 1e-9 are left to the slack.
fn by_slack(op: RelOp, lv: f64, rv: f64) -> bool {
    let scale = lv.abs().max(rv.abs());
    let wrong = match op {
        RelOp::Eq => lv != rv,
        RelOp::Le | RelOp::Lt => lv > rv,
        RelOp::Ge | RelOp::Gt => lv < rv,
        RelOp::Approx => false,
    };
    wrong && scale >= 1e-9 && (lv - rv).abs() > NEAR_MISS * scale
}

/// Every combination of the values of the program's loops the claim names (one empty
/// binding when it names none), at most 4,096.
fn loop_bindings(
    claim: &ast::Claim,
    program: &ast::Program,
    m: &mut crate::num::Machine,
) -> Result<Vec<crate::num::Bind>, String> {
    let mut bindings: Vec<crate::num::Bind> = vec![vec![]];
    let loops = super::program_loops(&program.items);
    // A free lower-case index in a moment's position (`Var(y[b,0])`: every b) is read at
    // every value of its range, like a loop's variable (probe 29: "`b` is not bound").
    let mut free: Vec<String> = Vec::new();
    let mut refs = Vec::new();
    moment_refs(&claim.body, &mut refs);
    for r in &refs {
        for ix in r.indices.iter().flatten() {
            if let ast::IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    let n = &f.name;
                    if !ast::is_summed_index(n)
                        && !m.consts.contains_key(n)
                        && !loops.iter().any(|l| l.var.name == *n)
                        && !free.contains(n)
                    {
                        free.push(n.clone());
                    }
                }
            }
        }
    }
    let env = m.env;
    let own = |v: &str| super::montecarlo::reads_loop_values(&[&claim.body], program, env, v);
    let mut ranges: Vec<(String, i64, i64)> = Vec::new();
    for n in free {
        let (lo, hi) = m
            .index_range(&n)
            .map_err(|e| format!("the range of `{n}` is not known: {}", e.message))?;
        ranges.push((n, lo, hi));
    }
    for r in loops
        .into_iter()
        .filter(|r| super::mentions(&claim.text, &r.var.name))
    {
        let (Ok(lo), Ok(hi)) = (m.const_expr(&r.from), m.const_expr(&r.to)) else {
            return Err(format!("the range of `{}` is not a constant", r.var.name));
        };
        let (mut lo, mut hi) = (lo.round() as i64, hi.round() as i64);
        // A family variable stands for every member of its family (`for l in 0..L-1`
        // writes h_1 to h_L), as Monte Carlo reads it; values where a member the claim
        // names does not exist are left out below (probe33/a a16: h_L was never read).
        if super::montecarlo::only_in_subscripts(&refs, &r.var.name) {
            for o in super::montecarlo::member_ranges(&program.items, &r.var.name) {
                if let (Ok(a), Ok(b)) = (m.const_expr(&o.from), m.const_expr(&o.to)) {
                    (lo, hi) = (lo.min(a.round() as i64), hi.max(b.round() as i64));
                }
            }
            lo = lo.saturating_sub(super::montecarlo::MEMBER_MARGIN);
            hi = hi.saturating_add(super::montecarlo::MEMBER_MARGIN);
        } else if let (Ok((a, b)), false) = (m.index_range(&r.var.name), own(&r.var.name)) {
            (lo, hi) = (lo.min(a), hi.max(b)); // named like an index: every position (#14 p10)
        }
        ranges.push((r.var.name.clone(), lo, hi));
    }
    for (name, lo, hi) in ranges {
        if (hi - lo + 1).max(0) as usize * bindings.len() > 4096 {
            return Err(format!("`{name}` takes too many values to read one by one"));
        }
        let name = &name;
        bindings = bindings
            .into_iter()
            .flat_map(|b| {
                (lo..=hi).map(move |v| {
                    let mut b = b.clone();
                    b.push((name.clone(), v));
                    b
                })
            })
            .collect();
    }
    bindings.retain(|b| {
        refs.iter().all(|r| {
            let probe = ast::Expr::Ref(ast::Ref {
                indices: None,
                ..(*r).clone()
            });
            m.all_exist(&probe, b)
        })
    });
    Ok(bindings)
}

/// The references whose moments a claim's `E`, `Var` and `Cov` take.
fn moment_refs<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Ref>) {
    match e {
        ast::Expr::Call(c) if matches!(c.func.name.as_str(), "E" | "Var" | "Cov") => {
            for a in &c.args {
                if let ast::Expr::Ref(r) = a {
                    out.push(r);
                }
            }
        }
        ast::Expr::Call(c) => c.args.iter().for_each(|a| moment_refs(a, out)),
        ast::Expr::Unary(_, x, _) => moment_refs(x, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            moment_refs(l, out);
            moment_refs(r, out);
        }
        _ => {}
    }
}
