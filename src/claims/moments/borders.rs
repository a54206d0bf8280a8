//! Claims at the border: unmet conditions, the first border read, the border pool and claims with no interior.

use super::*;

/// Whether a window that reads distinct elements at the sizes the claim is decided at may
/// wrap onto itself at another size the claim is about (docs/language.md, "What a claim
/// over sizes means": a claim no given fixes a size for holds at every size): the reads
/// c d mod N (d < D) are distinct at every size only when D is set to a number by the
/// givens and N is set, or bounded below by a given `N >= k` (`N > k`) with k >= |c| D
/// (then N / gcd(c, N) >= N / |c| >= D). Otherwise why, with the given that would
/// settle it (probe33/a a06: `Var(y) == 3 v` of `y[b,x] = x[b, x+DX]`, circular, D = 3,
/// was proved for every X from the sample X = 5, and at X = 2 it is 5 v).
fn wraps_at_other_sizes(
    w: &crate::moments::Window,
    claim: &ast::Claim,
    sets: &[(String, crate::sym::Expr)],
) -> Option<String> {
    let set = |e: &crate::sym::Expr| -> Option<i64> {
        match e {
            crate::sym::Expr::Sym(n) => sets
                .iter()
                .find(|(s, _)| s == n)
                .and_then(|(_, v)| v.as_num())
                .and_then(|v| v.is_integer().then(|| v.to_integer()))
                .and_then(|v| i64::try_from(v).ok()),
            crate::sym::Expr::Num(v) if v.is_integer() => i64::try_from(v.to_integer()).ok(),
            _ => None,
        }
    };
    let Some(d) = set(&w.len) else {
        return Some(format!(
            "the claim is about every size of `{}` the givens leave free, and where it exceeds the extent the reads coincide: give its value (`given {} = ...`)",
            crate::sym::to_ascii(&w.len),
            crate::sym::to_ascii(&w.len)
        ));
    };
    if set(&w.extent).is_some() || d <= 1 {
        return None;
    }
    let need = (w.coef.unsigned_abs() as i64).saturating_mul(d);
    let crate::sym::Expr::Sym(n) = &w.extent else {
        return Some(format!(
            "the extent {} is not set by the claim's givens, and at some of its values the reads coincide",
            crate::sym::to_ascii(&w.extent)
        ));
    };
    // A lower bound `N >= k` or `N > k` (or `k <= N`, `k < N`) among the givens.
    let bounded = claim.given.iter().any(|g| {
        let ast::Expr::Rel(op, l, r, _) = g else {
            return false;
        };
        let name = |x: &ast::Expr| match x {
            ast::Expr::Ref(r) if r.indices.is_none() => {
                Some(crate::syntax::printer::print_name(&r.name))
            }
            _ => None,
        };
        let whole = |x: &ast::Expr| match x {
            ast::Expr::Num(v, _) => v.parse::<i64>().ok(),
            _ => None,
        };
        let least = match (name(l), whole(r), whole(l), name(r)) {
            (Some(a), Some(k), _, _) if &a == n => match op {
                RelOp::Ge => Some(k),
                RelOp::Gt => Some(k.saturating_add(1)),
                _ => None,
            },
            (_, _, Some(k), Some(a)) if &a == n => match op {
                RelOp::Le => Some(k),
                RelOp::Lt => Some(k.saturating_add(1)),
                _ => None,
            },
            _ => None,
        };
        least.is_some_and(|k| k >= need)
    });
    if bounded {
        return None;
    }
    let first = (1..need).find(|x| crate::moments::Window::distinct(*x, w.coef, d) == Some(false));
    Some(match first {
        Some(x) => format!(
            "the claim is about every {n} (no given sets it), and at {n} = {x} the reads coincide, so the moments engine's value is not that size's: `given {n} >= {need}` says which sizes the claim is about"
        ),
        None => format!(
            "the claim is about every {n} (no given sets it or bounds it by {need}), so the moments engine's value, which counts each read as a distinct element, is not used"
        ),
    })
}

/// Moments that rest on circular windows reading distinct elements
/// ([`Approximation::Wrap`]) are no element's where a window wraps onto itself
/// (`x[b, x+DX]` with D > X reads an element twice): then why (a claim resting on them is
/// `undecided`). Each window of [`Analysis::wraps`] is decided exactly (D <= N / gcd(c, N),
/// `crate::moments::Window`) at the sizes the claim is decided at (the file's `sample` values and the claim's givens); one that fails, or
/// that a size without a value leaves open, leaves the claim to Monte Carlo.
pub fn wrap_unmet(
    claim: &ast::Claim,
    program: &ast::Program,
    env: &Env,
    a: &Analysis,
) -> Option<String> {
    if a.wraps.is_empty() {
        return Some(
            "the moments rest on a circular window whose reads tq cannot show distinct".into(),
        );
    }
    let sets = match super::super::montecarlo::given_values(claim, env) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "the moments rest on circular windows reading distinct elements, and tq cannot set the claim's sizes to check that: {e}"
            ))
        }
    };
    let consts: BTreeMap<String, f64> = match crate::num::Machine::new(program, env) {
        Ok(mut m) => {
            if let Err(e) =
                super::super::montecarlo::apply_givens(&mut m, program, env, &sets, None)
            {
                return Some(format!(
                    "the moments rest on circular windows reading distinct elements, and tq cannot set the claim's sizes to check that: {}",
                    e.message
                ));
            }
            m.consts.clone().into_iter().collect()
        }
        Err(_) => sets
            .iter()
            .filter_map(|(n, v)| v.eval_f64(&BTreeMap::new()).ok().map(|x| (n.clone(), x)))
            .collect(),
    };
    for w in &a.wraps {
        let text = &w.text;
        match w.distinct_at(&consts) {
            Some(true) => {
                if let Some(why) = wraps_at_other_sizes(w, claim, &sets) {
                    return Some(format!("{text}; {why}"));
                }
            }
            Some(false) => {
                return Some(format!(
                    "{text}, and it does not fit at the sizes the claim is decided at (the `sample` values and the givens): the moments engine's value counts each read as a distinct element, so it is no element's value here"
                ))
            }
            None => {
                return Some(format!(
                    "{text}; the sizes the claim is decided at (the `sample` values and the givens) do not set it, so the moments engine's value is not used"
                ))
            }
        }
    }
    None
}

/// The tensors a claim's moments read whose value holds away from the border only (zero
/// padding), each once, handed to `visit` with how many of its elements are away from
/// the border and how many are not at the sizes the claim is decided at (the file's
/// `sample` values and the claim's givens, under the claim's boundary rule or the
/// file's): the interior run charged to the file's interior runs
/// (`montecarlo::interior::split`; `Err(Spent)` past their budget). The first reason
/// `visit` gives; `Err` when the claim's sizes cannot be set. The one set-up of
/// [`border_pool`] and [`no_interior`].
pub(super) fn first_border_ref(
    claim: &ast::Claim,
    program: &ast::Program,
    env: &Env,
    a: &Analysis,
    mut visit: impl FnMut(&ast::Ref, String, BorderSplit) -> Option<String>,
) -> Result<Option<String>, String> {
    use super::super::montecarlo::interior;
    let mut refs = Vec::new();
    moment_refs(&claim.body, &mut refs);
    let sets = super::super::montecarlo::given_values(claim, env)?;
    let boundary = claim.boundary.or(env.boundary);
    let mut seen = BTreeSet::new();
    for r in refs {
        let text = crate::syntax::printer::print_ref(r);
        if !seen.insert(text.clone()) {
            continue;
        }
        let border = a
            .element(env, &ast::Expr::Ref(r.clone()))
            .is_ok_and(|rv| rv.approx.contains(&Approximation::Border));
        if !border {
            continue;
        }
        let split = interior::split(program, env, r, &Vec::new(), &sets, boundary, false);
        if let Some(why) = visit(r, text, split) {
            return Ok(Some(why));
        }
    }
    Ok(None)
}

/// A tensor's elements away from the border and at it (`None`: the member does not
/// exist at these sizes), why the interior run failed, or `Spent`: the file's interior
/// runs are past their budget.
pub(super) type BorderSplit =
    Result<Result<Option<(usize, usize)>, String>, super::super::montecarlo::interior::Spent>;

/// Why a claim resting on whether `text` has elements `which` is not decided: the
/// file's interior runs are past their budget.
fn split_spent(text: &str, which: &str) -> String {
    format!(
        "whether {text} has elements {which} is not known: {}",
        super::super::montecarlo::interior::spent_reason()
    )
}

/// Where the claim's value holds away from the border only (zero padding) and a tensor
/// it reads has elements both away from the border and at it at the sizes the claim is
/// decided at: why a pool of all of them (Monte Carlo's) is no element's.
pub fn border_pool(
    claim: &ast::Claim,
    program: &ast::Program,
    env: &Env,
    a: &Analysis,
) -> Option<String> {
    first_border_ref(claim, program, env, a, |_, text, split| match split {
        Ok(Ok(Some((inside, outside)))) if inside > 0 && outside > 0 => Some(format!(
            "{text} has {inside} elements away from the border and {outside} at it at the sizes the claim is decided at, with different moments under zero padding; the claim's value is the one away from the border, and a pool of all the elements is no element's"
        )),
        Err(_) => Some(split_spent(&text, "both away from the border and at it")),
        _ => None,
    })
    .ok()
    .flatten()
}

/// Moments that hold away from the border are no element's when no element is away
/// from the border: then why (a claim resting on them is `undecided`). Checked with the
/// interior program at the sizes the claim is decided at (the file's `sample` values and
/// the claim's givens), charged to the file's interior runs like [`border_pool`]'s (it
/// ran uncharged, once per claim, until session 36).
pub fn no_interior(
    claim: &ast::Claim,
    program: &ast::Program,
    env: &Env,
    a: &Analysis,
) -> Option<String> {
    first_border_ref(claim, program, env, a, |_, text, split| match split {
        Ok(Ok(Some((inside, _)))) if inside > 0 => None,
        Ok(Ok(None)) => None,
        Ok(Ok(Some(_))) => Some(format!(
            "no element of {text} is away from the border at the sizes the claim is decided at (the `sample` values and the givens): every element reads outside the range, or reads an element that does; the moments engine's value holds away from the border only, so it is no element's value here"
        )),
        Ok(Err(e)) => Some(format!(
            "the moments of {text} hold away from the border only, and tq could not establish that an element is away from the border: {e}"
        )),
        Err(_) => Some(split_spent(&text, "away from the border")),
    })
    .unwrap_or_else(|e| {
        Some(format!(
            "the moments hold away from the border only, and tq cannot set the claim's sizes to find an element there: {e}"
        ))
    })
}

/// Why a claim about a whole tensor whose moments rest on a sum over the whole extent of
/// a padded dimension at a shift by the element's own index
/// ([`Approximation::ShiftedSum`]) is not decided by the moments engine.
pub fn shifted_sum_reason() -> String {
    format!(
        "the moments engine's value holds at the shift 0 only ({}): a weight gradient `W.grad[dx] = sum_x y.grad[x] h[x+dx]` or a correlation at a lag `u[b,X] v[b,X+k]` sums over the border at every other shift, at every size, so the value away from the border is no generic element's; claim an element (`Var(W.grad[1,0,0])`), decided position by position",
        Approximation::ShiftedSum.text()
    )
}

/// Whether every moment a claim takes is a mean (`E(...)`) of a value that is a linear
/// map of the random leaves (sums, differences, scalings by constants, products of
/// values reading disjoint sets of leaf tensors, sums over indices): such a mean is the
/// same map of the leaves' means, whichever elements a circular window reads and however
/// often (linearity of expectation; independent tensors for a product), so it rests on
/// no distinctness of the window's reads (tests/cases/red23/coincident_taps.tq: `E(d) ==
/// 0` of `d = x[i] - x[i+DX]` is exact whatever D and X). A second moment does rest on
/// it, and is not taken here.
pub fn means_by_linearity(claim: &ast::Claim, program: &ast::Program, env: &Env) -> bool {
    let mut found = Vec::new();
    find(&claim.body, &mut found);
    if found.is_empty() {
        return false;
    }
    let mut sources: BTreeMap<String, Vec<Source<'_>>> = BTreeMap::new();
    collect_sources(&program.items, env, &mut sources);
    found.iter().all(|c| {
        c.func.name == "E"
            && matches!(c.args.as_slice(), [x] if {
                let mut leaves = std::collections::BTreeSet::new();
                linear(x, env, &sources, &mut Vec::new(), &mut leaves)
            })
    })
}

enum Source<'p> {
    Leaf,
    Value(&'p ast::Expr),
}

fn collect_sources<'p>(
    items: &'p [ast::Item],
    env: &Env,
    out: &mut BTreeMap<String, Vec<Source<'p>>>,
) {
    for it in items {
        match &it.kind {
            ast::ItemKind::Loop(l) => collect_sources(&l.body, env, out),
            ast::ItemKind::ForIndices(f) => collect_sources(&f.body, env, out),
            ast::ItemKind::Decl(d) if d.kind != ast::DeclKind::Grad => {
                let s = match &d.init {
                    Some(ast::Init::Value(v)) => Source::Value(v),
                    _ => Source::Leaf,
                };
                out.entry(env.key_of(&d.target.name)).or_default().push(s);
            }
            ast::ItemKind::Equation(eq) => out
                .entry(env.key_of(&eq.lhs.name))
                .or_default()
                .push(Source::Value(&eq.rhs)),
            _ => {}
        }
    }
}

/// Whether `e` is a linear map of the leaves (see [`means_by_linearity`]), adding the
/// leaf tensors it reads to `leaves`; `open` holds the values being read (a recurrence
/// that reads itself is not followed: false).
fn linear(
    e: &ast::Expr,
    env: &Env,
    sources: &BTreeMap<String, Vec<Source<'_>>>,
    open: &mut Vec<String>,
    leaves: &mut std::collections::BTreeSet<String>,
) -> bool {
    use crate::syntax::ast::{BinOp, Expr as E};
    match e {
        E::Num(..) => true,
        E::Ref(r) => {
            if r.grad {
                return false;
            }
            let key = env.key_of(&r.name);
            let name = crate::syntax::printer::print_name(&r.name);
            let random = r.indices.is_some()
                || env.tensors.contains_key(&key)
                || env.computed_scalars.contains(&name);
            if !random {
                return true;
            }
            if open.contains(&key) {
                return false;
            }
            let Some(srcs) = sources.get(&key) else {
                return false;
            };
            open.push(key.clone());
            let ok = srcs.iter().all(|s| match s {
                Source::Leaf => {
                    leaves.insert(key.clone());
                    true
                }
                Source::Value(v) => linear(v, env, sources, open, leaves),
            });
            open.pop();
            ok
        }
        E::Unary(_, x, _) => linear(x, env, sources, open, leaves),
        E::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
            linear(l, env, sources, open, leaves) && linear(r, env, sources, open, leaves)
        }
        E::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            let (mut a, mut b) = (Default::default(), Default::default());
            let ok = linear(l, env, sources, open, &mut a) && linear(r, env, sources, open, &mut b);
            if !ok || !a.is_disjoint(&b) {
                return false;
            }
            leaves.extend(a);
            leaves.extend(b);
            true
        }
        E::Binary(BinOp::Div, l, r, _) => {
            !reads_random(r, env) && linear(l, env, sources, open, leaves)
        }
        E::Sum(_, b, _) => linear(b, env, sources, open, leaves),
        _ => false,
    }
}

/// Whether `e` reads a tensor or a computed scalar.
fn reads_random(e: &ast::Expr, env: &Env) -> bool {
    let mut any = false;
    crate::syntax::visit::walk_refs(e, &mut |r| {
        let name = crate::syntax::printer::print_name(&r.name);
        any |= r.grad
            || r.indices.is_some()
            || env.tensors.contains_key(&env.key_of(&r.name))
            || env.computed_scalars.contains(&name);
    });
    any
}

/// Whether `lv op rv` holds, within the claim's tolerance and a relative 1e-9.
pub(super) fn relation_holds(
    claim: &crate::syntax::ast::Claim,
    op: crate::syntax::ast::RelOp,
    lv: f64,
    rv: f64,
) -> bool {
    let tol = claim
        .tol
        .as_ref()
        .and_then(|t| scalar::lower(t, &Scope::default()).ok())
        .and_then(|t| t.eval_f64(&BTreeMap::new()).ok())
        .unwrap_or(1e-6);
    let slack = 1e-9 * lv.abs().max(rv.abs()).max(1.0);
    match op {
        RelOp::Eq => (lv - rv).abs() <= slack,
        RelOp::Approx => (lv - rv).abs() <= tol + slack,
        RelOp::Le => lv <= rv + slack,
        RelOp::Lt => lv < rv + slack,
        RelOp::Ge => lv + slack >= rv,
        RelOp::Gt => lv + slack > rv,
    }
}
