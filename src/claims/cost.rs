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

/// Multiplications in an expression evaluated at every point of the index space
/// `space` (the names of the indices in scope: the statement's point, the capitals an
/// enclosing term sums, explicit sums' indices), `trips` times (the loops around it);
/// `bound` are the capitals an enclosing term already sums (they do not widen the space
/// again). A term sums the capitals [`Capitals::of_term`] names, the same reading as the
/// interpreter's: a capital inside one parenthesized sum only is summed there, so
/// `2 (W[j,I] x[b,I] - z[b,j])` is B J I + B J, not B J I + B J I².
///
/// order43 (#14, probe42 r14): each product and each softmax's normalisation is counted
/// once per point of the indices in scope that it reads ([`reads`]), not at every point
/// of the space: a value that does not depend on an index is computed once and
/// broadcast along it (loop-invariant code motion). The row sum of the softmax
/// derivative `P[b,k] (P.grad[b,k] - sum_{k'}(P.grad[b,k'] P[b,k']))` is B K, not B K²,
/// and the quotient rule through a sum, `e.grad[b,k'] -= P.grad[b,K] (e[b,K]/S[b]^2)`,
/// reads no k': B K, not B K².
///
/// `summed` are the indices the value is summed over on its way into the left side (a
/// `for` index the left side does not name: the scatter of the loop-and-scatter form),
/// which a product term may pull its other factors out of ([`eliminated`]).
fn count(
    e: &ast::Expr,
    space: &[String],
    trips: &Expr,
    bound: &[String],
    summed: &[String],
    env: &Env,
) -> Result<Expr, String> {
    Ok(match e {
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
            count(l, space, trips, bound, summed, env)?
                + count(r, space, trips, bound, summed, env)?
        }
        ast::Expr::Call(c) => {
            let mut total = Expr::zero();
            for a in &c.args {
                total = total + count(a, space, trips, bound, &[], env)?;
            }
            total
        }
        ast::Expr::Sum(ids, body, _) => {
            let mut sp = space.to_vec();
            let mut inner = bound.to_vec();
            let mut over = summed.to_vec();
            for i in ids {
                size_of(env, &i.name)?;
                sp.retain(|n| *n != i.name);
                sp.push(i.name.clone());
                inner.push(i.name.clone());
                over.push(i.name.clone());
            }
            count(body, &sp, trips, &inner, &over, env)?
        }
        // `softmax_{k}(e)`: k is an index of the point already; the argument's
        // multiplications at every point, and the normalisation, exp(e) divided by the
        // row's sum of exponentials (a function and additions, not counted), one division
        // per point of the result (order43: before, the normalisation was not counted,
        // while the derivative's products were, so the backward pass of a softmax over K
        // had a higher order in K than its forward pass by the counting rule alone).
        ast::Expr::Softmax(w, body, _) => {
            let mut r = reads(body);
            r.insert(w.name.clone());
            count(body, space, trips, bound, &[], env)? + at(space, &r, trips, env)?
        }
        term => {
            // A product term: its summed capitals widen the space; each `*`, juxtaposition
            // or `/` is one multiplication per point it reads.
            let is_bound = |n: &str| bound.iter().any(|b| b == n);
            let caps = Capitals {
                env,
                bound: &is_bound,
            }
            .of_term(term);
            let mut sp = space.to_vec();
            let mut inner_bound = bound.to_vec();
            let mut over = summed.to_vec();
            for c in &caps {
                size_of(env, c)?;
                sp.push(c.clone());
                inner_bound.push(c.clone());
                over.push(c.clone());
            }
            let (mults, inner) = products(term);
            let mut total = match eliminated(term, &sp, &over) {
                Some((plan, chained)) => {
                    let mut t = Expr::zero();
                    for (n, r) in &plan {
                        t = t + Expr::int(*n as i64) * at(&sp, r, trips, env)?;
                    }
                    // Products nested in the factors (a power's base) as before.
                    t + Expr::int((mults - chained) as i64) * at(&sp, &reads(term), trips, env)?
                }
                None if mults > 0 => Expr::int(mults as i64) * at(&sp, &reads(term), trips, env)?,
                None => Expr::zero(),
            };
            for x in inner {
                total = total + count(x, &sp, trips, &inner_bound, &[], env)?;
            }
            total
        }
    })
}

/// order43 (#14, probe42 r14): distributivity, Σ_j f[j] g = g Σ_j f[j]. A product term
/// summed over `summed` (its capitals, an explicit sum's index, or the scatter of a `for`
/// index the left side does not name) is evaluated by eliminating one summed index at a
/// time: the factors that read it are multiplied at the points they read and summed over
/// it, and the sum is one factor of the rest (the contraction order of an einsum). The
/// plan's products, each with the indices it is computed at, and how many of the chain's
/// products it accounts for; `None` (every product at the term's points, as before) when
/// some product of the plan is still at every index the term reads, so that nothing is
/// gained: `2 W[j,I] x[b,I]` stays 2 B J I. The RMS-norm derivative
/// `n.grad[b,j] (h[b,j]/...) (h[b,j']/J)` scattered over j into `h.grad[b,j']` is a
/// vector-Jacobian product, B J, not the Jacobian's B J²; the layer-norm mean's
/// `m.grad[b] += f[b,j] g[b,j']` over j and j' is B J. A number among the factors is
/// multiplied with the first group.
type Plan = Vec<(usize, std::collections::BTreeSet<String>)>;

fn eliminated(term: &ast::Expr, space: &[String], summed: &[String]) -> Option<(Plan, usize)> {
    use std::collections::BTreeSet;
    if summed.is_empty()
        || !matches!(
            term,
            ast::Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, ..)
        )
    {
        return None;
    }
    let mut factors = Vec::new();
    chain(term, &mut factors);
    let mut number = factors.iter().any(|f| literal(f));
    let mut groups: Vec<BTreeSet<String>> = factors
        .iter()
        .filter(|f| !literal(f))
        .map(|f| reads(f))
        .collect();
    let chained = groups.len() + usize::from(number) - 1;
    let in_space = |r: &BTreeSet<String>| -> BTreeSet<String> {
        r.iter().filter(|n| space.contains(n)).cloned().collect()
    };
    let full = in_space(&groups.iter().flatten().cloned().collect());
    let mut plan: Plan = Vec::new();
    for s in summed {
        let (with, without): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| g.contains(s));
        groups = without;
        if with.is_empty() {
            continue;
        }
        let k = with.len() + usize::from(number);
        number = false;
        let mut u: BTreeSet<String> = with.into_iter().flatten().collect();
        if k >= 2 {
            plan.push((k - 1, in_space(&u)));
        }
        u.remove(s);
        groups.push(u);
    }
    let k = groups.len() + usize::from(number);
    if k >= 2 {
        plan.push((k - 1, in_space(&groups.into_iter().flatten().collect())));
    }
    if plan.is_empty() || plan.iter().any(|(_, r)| *r == full) {
        return None;
    }
    Some((plan, chained))
}

/// The points of `space` a value that reads `read` is computed at: the product of the
/// sizes of the indices in scope it reads, `trips` times.
fn at(
    space: &[String],
    read: &std::collections::BTreeSet<String>,
    trips: &Expr,
    env: &Env,
) -> Result<Expr, String> {
    let mut n = trips.clone();
    for i in space.iter().filter(|i| read.contains(*i)) {
        n = n * size_of(env, i)?;
    }
    Ok(n)
}

/// The index names an expression's value depends on: the indices at its tensors'
/// positions (lookups' too), names read as values (`[k == lab[b]]` reads k), minus
/// those its explicit sums bind. A capital a term sums is read like any index; the
/// caller keeps only the names in scope.
fn reads(e: &ast::Expr) -> std::collections::BTreeSet<String> {
    fn ix(i: &IndexExpr, out: &mut std::collections::BTreeSet<String>) {
        match i {
            IndexExpr::Affine(a) => {
                for t in &a.terms {
                    out.extend(t.factors.iter().map(|f| f.name.clone()));
                }
            }
            IndexExpr::Lookup(r) => reference(r, out),
        }
    }
    fn reference(r: &ast::Ref, out: &mut std::collections::BTreeSet<String>) {
        if r.indices.is_none() && r.name.sub.is_empty() {
            out.insert(crate::syntax::printer::print_name(&r.name));
        }
        r.name.sub.iter().for_each(|i| ix(i, out));
        r.indices.iter().flatten().for_each(|i| ix(i, out));
    }
    let mut out = std::collections::BTreeSet::new();
    match e {
        ast::Expr::Ref(r) => reference(r, &mut out),
        ast::Expr::Sum(ids, body, _) => {
            out = reads(body);
            for i in ids {
                out.remove(&i.name);
            }
        }
        _ => {
            for c in crate::syntax::visit::children(e) {
                out.extend(reads(c));
            }
        }
    }
    out
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
                let mut names = listed.to_vec();
                for i in &f.indices {
                    size_of(env, &i.name)?;
                    names.push(i.name.clone());
                }
                total = total + walk(&f.body, env, target, member, outer, &names, loops)?;
            }
            ItemKind::Equation(eq) => {
                if target.is_some_and(|t| env.key_of(&eq.lhs.name) != t) {
                    continue;
                }
                let Some(trips) = trips(eq, member, loops)? else {
                    continue;
                };
                // The left side's free indices (not the loop variables, not listed).
                let runs = outer.clone() * trips;
                let mut sp = listed.to_vec();
                if listed.is_empty() {
                    for ix in eq.lhs.indices.iter().flatten() {
                        if let IndexExpr::Affine(a) = ix {
                            if let [t] = a.terms.as_slice() {
                                if let [f] = t.factors.as_slice() {
                                    if !loops.iter().any(|l| l.var == f.name)
                                        && env.index_size(&f.name).is_some()
                                    {
                                        size_of(env, &f.name)?;
                                        sp.push(f.name.clone());
                                    }
                                }
                            }
                        }
                    }
                }
                let scatter: Vec<String> =
                    if matches!(eq.op, ast::AssignOp::AddAssign | ast::AssignOp::SubAssign) {
                        let written = reads(&ast::Expr::Ref(eq.lhs.clone()));
                        listed
                            .iter()
                            .filter(|n| !written.contains(*n))
                            .cloned()
                            .collect()
                    } else {
                        Vec::new()
                    };
                total = total + count(&eq.rhs, &sp, &runs, &[], &scatter, env)?;
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
    // order43: only the derived sizes that grow with `var` (their formula reads it, or
    // reads a derived size that does) are written out. A valid convolution's cost
    // `2 B U J I D` in J has U = X - D + 1 as a positive factor; written out, its terms
    // `-2 B D² I J` had a negative sign and the order in J was refused (undecided).
    let mut grows: std::collections::BTreeSet<String> = [var.to_string()].into();
    for _ in 0..=env.derived_sizes.len() {
        for (name, value) in &env.derived_sizes {
            let mut reads_growing = false;
            crate::syntax::visit::walk_refs(value, &mut |r: &ast::Ref| {
                reads_growing |= grows.contains(&capital(&r.name.base));
            });
            if reads_growing {
                grows.insert(name.clone());
            }
        }
    }
    let mut out = cost.clone();
    // A derived size may be written with another (`size V = U + 1`): a few rounds, as
    // many as there are derived sizes.
    for _ in 0..=env.derived_sizes.len() {
        let mut changed = false;
        for (name, value) in &env.derived_sizes {
            if name == var || !out.free_symbols().contains(name) || !grows.contains(name) {
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
