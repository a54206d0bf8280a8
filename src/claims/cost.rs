//! Operation counts: the multiplications of a program as a polynomial in its sizes,
//! counted from the index spaces (`mults(R)` for the convolution is B X Y DX DY I J), and
//! the order of a program in one size (`order(backward, T)` is T for the RNN language
//! model: its backward pass is linear in the sequence length).

use super::scalar::{self, Scope};
use crate::check::capitals::Capitals;
use crate::check::Env;
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, BinOp, IndexExpr, Item, ItemKind};
use num_traits::{One, Signed, Zero};

fn size_of(env: &Env, index: &str) -> Result<Expr, String> {
    env.index_size(&index.to_lowercase())
        .map(|s| Expr::sym(&s))
        .ok_or_else(|| format!("the size of index `{index}` is not known"))
}

/// Multiplications in an expression evaluated once per point of `space`; `bound` are the
/// capitals an enclosing term or sum already sums (they do not widen the space again).
/// A term sums the capitals [`Capitals::of_term`] names, the same reading as the
/// interpreter's: a capital inside one parenthesized sum only is summed there, so
/// `2 (W[j,I] x[b,I] - z[b,j])` is B J I + B J, not B J I + B J I².
fn count(e: &ast::Expr, space: &Expr, bound: &[String], env: &Env) -> Result<Expr, String> {
    Ok(match e {
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
            count(l, space, bound, env)? + count(r, space, bound, env)?
        }
        ast::Expr::Call(c) => {
            let mut total = Expr::zero();
            for a in &c.args {
                total = total + count(a, space, bound, env)?;
            }
            total
        }
        ast::Expr::Sum(ids, body, _) => {
            let mut sp = space.clone();
            let mut inner = bound.to_vec();
            for i in ids {
                sp = sp * size_of(env, &i.name)?;
                inner.push(i.name.clone());
            }
            count(body, &sp, &inner, env)?
        }
        // `softmax_{k}(e)`: k is an index of the point already; the argument's
        // multiplications at every point (its normalisation, like a function's work, is
        // not counted).
        ast::Expr::Softmax(_, body, _) => count(body, space, bound, env)?,
        term => {
            // A product term: its summed capitals widen the space; each `*`, juxtaposition
            // or `/` is one multiplication per point.
            let is_bound = |n: &str| bound.iter().any(|b| b == n);
            let caps = Capitals {
                env,
                bound: &is_bound,
            }
            .of_term(term);
            let mut sp = space.clone();
            let mut inner_bound = bound.to_vec();
            for c in &caps {
                sp = sp * size_of(env, c)?;
                inner_bound.push(c.clone());
            }
            let (mults, inner) = products(term);
            let mut total = Expr::int(mults as i64) * sp.clone();
            for x in inner {
                total = total + count(x, &sp, &inner_bound, env)?;
            }
            total
        }
    })
}

/// Multiplication nodes of a product term, and the sub-expressions (sums in
/// parentheses, function calls) counted on their own.
fn products(e: &ast::Expr) -> (usize, Vec<&ast::Expr>) {
    // Numbers combined with numbers are folded before the run: the factors of a
    // product chain that are numbers count as one (`y.grad (1/4)`, the derivative of
    // `x/4`, is one multiplication per point, not two; `z.grad 2 (3)` one, not two: a
    // probe's finding, session 29).
    if literal(e) {
        return (0, vec![]);
    }
    match e {
        ast::Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, ..) => {
            let mut factors = Vec::new();
            chain(e, &mut factors);
            let numbers = factors.iter().any(|f| literal(f));
            let mut n = factors.iter().filter(|f| !literal(f)).count() + usize::from(numbers);
            n = n.saturating_sub(1);
            let mut inner = Vec::new();
            for f in factors.into_iter().filter(|f| !literal(f)) {
                let (a, x) = products(f);
                n += a;
                inner.extend(x);
            }
            (n, inner)
        }
        ast::Expr::Binary(BinOp::Pow, l, _, _) => products(l),
        ast::Expr::Unary(_, x, _) => products(x),
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..)
        | ast::Expr::Call(_)
        | ast::Expr::Sum(..)
        | ast::Expr::Softmax(..) => (0, vec![e]),
        _ => (0, vec![]),
    }
}

/// The factors of a chain of `*`, juxtapositions and `/` (`a b / c`: a, b, c).
fn chain<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Expr>) {
    match e {
        ast::Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, l, r, _) => {
            chain(l, out);
            chain(r, out);
        }
        _ => out.push(e),
    }
}

/// Whether `e` is numbers only (`1/4`, `2 * 3`, `-(1/2)`): a constant folded once.
fn literal(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Num(..) => true,
        ast::Expr::Binary(_, l, r, _) => literal(l) && literal(r),
        ast::Expr::Unary(_, x, _) => literal(x),
        _ => false,
    }
}

/// Which members of a family a count is of.
enum Member {
    /// Every member (`mults(h)`), and a tensor that is no family (`mults(R)`).
    All,
    /// One member with constant subscripts (`mults(h_1)`, `mults(h_L)`): the trips of
    /// the loops that write it, solved from its subscripts.
    Fixed(Vec<Expr>),
    /// A member named with a loop's variable (`mults(h_{l+1})`, `mults(h_l)`): one trip
    /// of each loop whose variable the written subscripts use.
    Generic,
}

/// A loop around a statement: its variable, first and last value.
struct Around {
    var: String,
    from: Expr,
    to: Expr,
}

/// The multiplications of the statements in `items` (only those writing `target`, when
/// given), loops and `for` lists included: every member of a family.
pub fn mults(items: &[Item], env: &Env, target: Option<&str>) -> Result<Expr, String> {
    walk(
        items,
        env,
        target,
        &Member::All,
        &Expr::one(),
        &[],
        &mut Vec::new(),
    )
}

/// The multiplications that compute the tensor `name` names: one member of a family when
/// its subscripts name one (`h_1`, `h_{l+1}`), else [`mults`] of the whole tensor.
pub fn mults_of(items: &[Item], env: &Env, name: &ast::Name) -> Result<Expr, String> {
    let key = env.key_of(name);
    if name.sub.is_empty() || key == crate::syntax::printer::print_name(name) {
        return mults(items, env, Some(&key));
    }
    let subs = name
        .sub
        .iter()
        .map(crate::moments::index_expr)
        .collect::<Result<Vec<_>, _>>()?;
    let known = |v: &String| env.sizes.contains_key(v) || env.symbols.contains_key(v);
    let member = if subs
        .iter()
        .any(|e| e.free_symbols().iter().any(|v| !known(v)))
    {
        Member::Generic
    } else {
        Member::Fixed(subs)
    };
    walk(
        items,
        env,
        Some(&key),
        &member,
        &Expr::one(),
        &[],
        &mut Vec::new(),
    )
}

fn walk(
    items: &[Item],
    env: &Env,
    target: Option<&str>,
    member: &Member,
    outer: &Expr,
    listed: &[String],
    loops: &mut Vec<Around>,
) -> Result<Expr, String> {
    let mut total = Expr::zero();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let sc = Scope::default();
                loops.push(Around {
                    var: l.range.var.name.clone(),
                    from: scalar::lower(&l.range.from, &sc)?,
                    to: scalar::lower(&l.range.to, &sc)?,
                });
                let inner = walk(&l.body, env, target, member, outer, listed, loops);
                loops.pop();
                total = total + inner?;
            }
            ItemKind::ForIndices(f) => {
                let mut sp = outer.clone();
                let mut names = listed.to_vec();
                for i in &f.indices {
                    sp = sp * size_of(env, &i.name)?;
                    names.push(i.name.clone());
                }
                total = total + walk(&f.body, env, target, member, &sp, &names, loops)?;
            }
            ItemKind::Equation(eq) => {
                if target.is_some_and(|t| env.key_of(&eq.lhs.name) != t) {
                    continue;
                }
                let Some(trips) = trips(eq, member, loops)? else {
                    continue;
                };
                // The left side's free indices (not the loop variables, not listed).
                let mut sp = outer.clone() * trips;
                if listed.is_empty() {
                    for ix in eq.lhs.indices.iter().flatten() {
                        if let IndexExpr::Affine(a) = ix {
                            if let [t] = a.terms.as_slice() {
                                if let [f] = t.factors.as_slice() {
                                    if !loops.iter().any(|l| l.var == f.name)
                                        && env.index_size(&f.name).is_some()
                                    {
                                        sp = sp * size_of(env, &f.name)?;
                                    }
                                }
                            }
                        }
                    }
                }
                total = total + count(&eq.rhs, &sp, &[], env)?;
            }
            _ => {}
        }
    }
    Ok(total)
}

/// How many times the loops around `eq` run it for the members counted: `None` when it
/// writes none of them.
fn trips(eq: &ast::Equation, member: &Member, loops: &[Around]) -> Result<Option<Expr>, String> {
    let trips_of = |l: &Around| l.to.clone() - l.from.clone() + Expr::one();
    let written: Vec<Expr> = eq
        .lhs
        .name
        .sub
        .iter()
        .map(crate::moments::index_expr)
        .collect::<Result<_, _>>()?;
    let uses = |v: &str| written.iter().any(|e| e.free_symbols().contains(v));
    let mut total = Expr::one();
    match member {
        Member::All => loops
            .iter()
            .for_each(|l| total = total.clone() * trips_of(l)),
        Member::Generic => {
            for l in loops.iter().filter(|l| !uses(&l.var)) {
                total = total * trips_of(l);
            }
        }
        Member::Fixed(want) => {
            let name = crate::syntax::printer::print_name(&eq.lhs.name);
            let unsure =
                || format!("whether `{name}` writes the member counted depends on the sizes");
            if want.len() != written.len() {
                return Ok(None);
            }
            let mut value: Vec<(String, Expr)> = Vec::new();
            for (w, e) in want.iter().zip(&written) {
                let mut e = e.clone();
                for (v, x) in &value {
                    e = e.subs(v, x);
                }
                let vars: Vec<&Around> = loops
                    .iter()
                    .filter(|l| e.free_symbols().contains(&l.var))
                    .collect();
                match vars.as_slice() {
                    [] => match crate::sym::expand(&(e - w.clone())).as_num() {
                        Some(d) if d.is_zero() => {}
                        Some(_) => return Ok(None),
                        None => return Err(unsure()),
                    },
                    [l] => {
                        let c = e.diff(&l.var).normalize();
                        let rest = crate::sym::expand(&(e.clone() - c.clone() * Expr::sym(&l.var)));
                        let Some(c) = c.as_num().filter(|c| c.abs().is_one()) else {
                            return Err(unsure());
                        };
                        let x = ((w.clone() - rest) * Expr::num(c.clone())).normalize();
                        value.push((l.var.clone(), x));
                    }
                    _ => return Err(unsure()),
                }
            }
            for l in loops {
                match value.iter().find(|(v, _)| *v == l.var) {
                    None => total = total * trips_of(l),
                    Some((_, x)) => {
                        let lo = sign_over_sizes(&(x.clone() - l.from.clone()));
                        let hi = sign_over_sizes(&(l.to.clone() - x.clone()));
                        match (lo, hi) {
                            (Some(true), Some(true)) => {}
                            (Some(false), _) | (_, Some(false)) => return Ok(None),
                            _ => return Err(unsure()),
                        }
                    }
                }
            }
        }
    }
    Ok(Some(total))
}

/// Whether a polynomial in whole sizes (each at least 1) is non-negative at every size
/// (`Some(true)`), negative at every size (`Some(false)`), or neither shown (`None`): a
/// polynomial whose non-constant coefficients share one sign takes its extreme value
/// at all sizes 1.
fn sign_over_sizes(e: &Expr) -> Option<bool> {
    let e = crate::sym::expand(e);
    let terms = match &e {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    let (mut at_one, mut up, mut down) = (
        num_rational::BigRational::from_integer(0.into()),
        false,
        false,
    );
    for t in &terms {
        let (c, rest) = t.split_coef();
        if !monomial(&rest) {
            return None;
        }
        if rest.as_num().is_none() {
            up |= c.is_positive();
            down |= c.is_negative();
        }
        at_one += c;
    }
    match (up, down) {
        (_, false) if !at_one.is_negative() => Some(true),
        (false, _) if at_one.is_negative() => Some(false),
        _ => None,
    }
}

/// A product of symbols to positive whole powers (or 1).
fn monomial(e: &Expr) -> bool {
    match e {
        Expr::Num(r) => r.is_one(),
        Expr::Sym(_) => true,
        Expr::Pow(b, x) => matches!(**b, Expr::Sym(_)) && x.as_int().is_some_and(|n| n > 0),
        Expr::Mul(fs) => fs.iter().all(monomial),
        _ => false,
    }
}

/// The values of the cost calls in a claim (`mults(R)`, `order(backward, T)`), keyed by
/// their printed text, for the lowering of the claim.
pub fn cost_calls(
    e: &ast::Expr,
    program: &ast::Program,
    env: &Env,
    backward: &[Item],
) -> std::collections::BTreeMap<String, Result<Expr, String>> {
    let mut out = std::collections::BTreeMap::new();
    let mut calls = Vec::new();
    find_calls(e, &mut calls);
    for c in calls {
        let text = crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()));
        let value = match (c.func.name.as_str(), c.args.as_slice()) {
            // A gradient's multiplications are those of the derived backward program's
            // statements that write it (`mults(W.grad)`): before, the forward program
            // was searched, which writes no `.grad`, and every gradient counted 0
            // (probe30/d d35).
            ("mults", [ast::Expr::Ref(r)]) if r.grad => mults_of(backward, env, &r.name),
            ("mults", [ast::Expr::Ref(r)]) => mults_of(&program.items, env, &r.name),
            ("order", [ast::Expr::Ref(which), ast::Expr::Ref(var)]) => {
                let cost = match which.name.base.as_str() {
                    "forward" => mults(&program.items, env, None),
                    "backward" => mults(backward, env, None),
                    other => Err(format!("`order` is of `forward` or `backward`, not `{other}`")),
                };
                cost.and_then(|c| {
                    let var = crate::syntax::printer::print_name(&var.name);
                    order(&with_derived_sizes(&c, &var, env)?, &var)
                })
            }
            (f, _) => Err(format!("`{f}(...)` takes a tensor (`mults(R)`) or a pass and a size (`order(backward, T)`)")),
        };
        out.insert(text, value);
    }
    out
}

fn find_calls<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Call>) {
    match e {
        ast::Expr::Call(c) if c.func.name == "mults" || c.func.name == "order" => out.push(c),
        ast::Expr::Call(c) => c.args.iter().for_each(|a| find_calls(a, out)),
        ast::Expr::Unary(_, x, _) => find_calls(x, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            find_calls(l, out);
            find_calls(r, out);
        }
        _ => {}
    }
}

/// The cost with every derived size but `var` written as its formula
/// (`size U = X - D + 1`): the order of a valid convolution's backward pass in its input
/// size X is X, its cost `2 B D U` read with U free of X had order 1 (probe36 b13). A
/// `floor` or `ceil` (`size U = floor((X - D)/2) + 1`) is read as its argument: they
/// differ by less than 1, and a cost counts multiplications, a sum of products of sizes
/// with positive coefficients, so the leading power in `var` is the same.
fn with_derived_sizes(cost: &Expr, var: &str, env: &Env) -> Result<Expr, String> {
    fn unfloored(e: &ast::Expr) -> ast::Expr {
        match e {
            ast::Expr::Call(c)
                if matches!(c.func.name.as_str(), "floor" | "ceil") && c.args.len() == 1 =>
            {
                unfloored(&c.args[0])
            }
            e => crate::syntax::visit::map_children(e, unfloored),
        }
    }
    // An index capital (`DX` of `index dx : D`) in a formula is its size.
    let capital = |name: &str| -> String {
        env.indices
            .iter()
            .find(|(i, info)| i.trim_end_matches('\'').to_uppercase() == name && info.size != name)
            .filter(|_| !env.sizes.contains_key(name))
            .map(|(_, info)| info.size.clone())
            .unwrap_or_else(|| name.to_string())
    };
    let mut out = cost.clone();
    // A derived size may be written with another (`size V = U + 1`): a few rounds, as
    // many as there are derived sizes.
    for _ in 0..=env.derived_sizes.len() {
        let mut changed = false;
        for (name, value) in &env.derived_sizes {
            if name == var || !out.free_symbols().contains(name) {
                continue;
            }
            let formula = crate::lower::lower_refs(&unfloored(value), &mut |r: &ast::Ref| {
                if r.indices.is_some() || !r.name.sub.is_empty() {
                    return Err(format!(
                        "the derived size `{name}` is not a formula of the sizes"
                    ));
                }
                Ok(Expr::sym(&capital(&r.name.base)))
            })
            .map_err(|why| format!("the order in `{var}` needs the derived size `{name}` as a formula of the sizes: {why}"))?;
            out = out.subs(name, &formula);
            changed = true;
        }
        if !changed {
            return Ok(out);
        }
    }
    Err(format!(
        "the order in `{var}` needs the derived sizes as formulas of the sizes, and they are written with each other in a cycle"
    ))
}

/// The highest power of `var` in a polynomial cost, as `var^k`; an error when `var`
/// occurs other than in a whole power (under a function, a root, a divisor).
pub fn order(cost: &Expr, var: &str) -> Result<Expr, String> {
    let expanded = crate::sym::expand(cost);
    let terms = match &expanded {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    let mut best = 0i64;
    // Each term's power of `var` and its sign.
    let mut powers = Vec::with_capacity(terms.len());
    for t in &terms {
        let factors = match t {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        };
        let mut k = 0i64;
        for f in factors {
            match &f {
                Expr::Sym(s) if s == var => k += 1,
                Expr::Pow(b, e) if matches!(&**b, Expr::Sym(s) if s == var) => {
                    match e.as_int().filter(|k| *k > 0) {
                        Some(e) => k += e,
                        None => return Err(not_polynomial(var, cost)),
                    }
                }
                f if f.free_symbols().contains(var) => return Err(not_polynomial(var, cost)),
                _ => {}
            }
        }
        best = best.max(k);
        powers.push((k, t.split_coef().0.is_negative()));
    }
    // A leading term with a negative coefficient (`B D X - B D^2` in D, with a derived
    // `U = floor((X - D)/2) + 1` written in: U shrinks as D grows) is no growth rate.
    if best > 0 && powers.iter().any(|&(k, neg)| k == best && neg) {
        return Err(format!(
            "the cost `{}` has a negative leading term in `{var}` (a derived size shrinks as `{var}` grows), so its order in `{var}` is no growth rate tq can state",
            crate::sym::to_text(&expanded)
        ));
    }
    Ok(Expr::pow(Expr::sym(var), Expr::int(best)))
}

fn not_polynomial(var: &str, cost: &Expr) -> String {
    format!(
        "the cost `{}` is not a polynomial in `{var}`, so tq takes no order of it",
        crate::sym::to_text(cost)
    )
}
