//! Update rules over steps (`rule A over t:`): claims about their sequences
//! (`B.theta[t] == A.theta[t]`, closed forms in `t`) and `equivalent(A, B)`, decided by
//! linear-system algebra in `sym`, and the hyperparameter mapping `tq derive` prints.
//!
//! A rule whose updates are linear in its state and inputs is a system
//! `x[t+1] = M x[t] + N g[t]`. A quantity `y[t] = c·x[t]` (over one rule or several side
//! by side) satisfies the recurrence of the characteristic polynomial p of M
//! (Cayley–Hamilton): `Σ_k p_k y[t+k] = Σ_i d_i g[t+i]` with
//! `d_i = c Σ_{k>i} p_k M^(k−1−i) N`. A claim `c·x[t] == f(t)` with f free of the inputs is
//! proved when every d_i is identically 0, f satisfies the same recurrence (powers `r^t`
//! are shifted as atoms), and both sides agree at `t = 0 .. n−1`: two sequences that obey
//! one recurrence of order n and share n starting values are equal. Independently, both
//! sides are compared exactly in rationals over 20 steps of random rational gradient
//! sequences (seeded); a disagreement refutes the claim with the values.

use super::scalar::{self, Scope};
use super::Verdict;
use crate::check::Env;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, BinOp, IndexExpr, ItemKind, Program, RelOp, UnOp};
use crate::syntax::printer::{print_expr, print_name};
use num_bigint::BigInt;
use num_rational::BigRational;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

type Outcome = (Verdict, String, String);

fn und(why: impl Into<String>) -> Outcome {
    (Verdict::Undecided, "none".into(), why.into())
}

/// Steps of the exact simulation.
const STEPS: i64 = 20;
/// State sequences of the rules compared, together, at most (the characteristic
/// polynomial is computed symbolically).
const MAX_STATES: usize = 6;
/// Random gradient sequences (and parameter points) simulated.
const SEQUENCES: usize = 6;

/// One rule, linear: `x[t+1] = M x[t] + N g[t]`.
#[derive(Clone, Debug)]
pub struct LinearRule {
    pub name: String,
    pub var: String,
    /// State sequences in assignment order (`v`, `theta`).
    pub states: Vec<String>,
    /// Input sequences, read only (`g`).
    pub inputs: Vec<String>,
    pub m: Vec<Vec<Expr>>,
    pub n: Vec<Vec<Expr>>,
}

/// The symbol of a sequence at the current step: `A.theta[t]`.
fn at_t(rule: &str, x: &str, var: &str) -> String {
    format!("{rule}.{x}[{var}]")
}

/// The symbol of a start value: `A.theta[0]`.
fn at_0(rule: &str, x: &str) -> String {
    format!("{rule}.{x}[0]")
}

fn input_sym(g: &str, var: &str) -> String {
    format!("{g}[{var}]")
}

/// The offset `k` of an index `var + k`.
fn offset(ix: &IndexExpr, var: &str) -> Option<i64> {
    let IndexExpr::Affine(a) = ix else {
        return None;
    };
    match a.terms.as_slice() {
        [] => None,
        [t] if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var => Some(a.constant),
        _ => None,
    }
}

/// A fixed position `k` (a literal index).
fn literal(ix: &IndexExpr) -> Option<i64> {
    let IndexExpr::Affine(a) = ix else {
        return None;
    };
    a.terms.is_empty().then_some(a.constant)
}

/// Lowers an expression with a resolver for references.
fn lower_with(
    e: &ast::Expr,
    refs: &mut dyn FnMut(&ast::Ref) -> Result<Expr, String>,
) -> Result<Expr, String> {
    Ok(match e {
        ast::Expr::Num(..) => scalar::lower(e, &Scope::default())?,
        ast::Expr::Ref(r) => refs(r)?,
        ast::Expr::Unary(UnOp::Neg, x, _) => -lower_with(x, refs)?,
        ast::Expr::Binary(op, l, r, _) => {
            let (a, b) = (lower_with(l, refs)?, lower_with(r, refs)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul | BinOp::Jux => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => Expr::pow(a, b),
            }
        }
        ast::Expr::Call(c) if c.args.len() == 1 => match sym::Func::from_name(&c.func.name) {
            Some(f) => Expr::func(f, lower_with(&c.args[0], refs)?),
            None => return Err(format!("`{}(...)` is not read in rule claims", c.func.name)),
        },
        other => {
            return Err(format!(
                "`{}` is not read in rule claims",
                print_expr(other)
            ))
        }
    })
}

/// The rules of a program, linearised; a rule that is not linear gives the reason.
pub fn rules(program: &Program) -> Vec<Result<LinearRule, (String, String)>> {
    program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Rule(r) => Some(linear_rule(r).map_err(|e| (r.name.name.clone(), e))),
            _ => None,
        })
        .collect()
}

fn linear_rule(r: &ast::Rule) -> Result<LinearRule, String> {
    let (name, var) = (r.name.name.clone(), r.var.name.clone());
    let mut states: Vec<String> = Vec::new();
    for item in &r.body {
        if let ItemKind::Equation(eq) = &item.kind {
            let x = print_name(&eq.lhs.name);
            match eq.lhs.indices.as_deref() {
                Some([ix]) if offset(ix, &var) == Some(1) => {}
                _ => {
                    return Err(format!(
                        "`{x}` is not updated as `{x}[{var}+1] = ...` in rule `{name}`"
                    ))
                }
            }
            if eq.op != ast::AssignOp::Set || states.contains(&x) {
                return Err(format!("`{x}` is updated more than once in rule `{name}`"));
            }
            states.push(x);
        }
    }
    let mut inputs: Vec<String> = Vec::new();
    let mut new: BTreeMap<String, Expr> = BTreeMap::new();
    let mut updates = Vec::new();
    for item in &r.body {
        let ItemKind::Equation(eq) = &item.kind else {
            continue;
        };
        let v = lower_with(&eq.rhs, &mut |rf| {
            let x = print_name(&rf.name);
            let Some(idx) = &rf.indices else {
                return Ok(Expr::sym(&x));
            };
            let k = match idx.as_slice() {
                [ix] => offset(ix, &var),
                _ => None,
            };
            match (states.contains(&x), k) {
                (true, Some(0)) => Ok(Expr::sym(&at_t(&name, &x, &var))),
                (true, Some(1)) => new
                    .get(&x)
                    .cloned()
                    .ok_or_else(|| format!("`{x}[{var}+1]` is read before it is updated")),
                (false, Some(0)) => {
                    if !inputs.contains(&x) {
                        inputs.push(x.clone());
                    }
                    Ok(Expr::sym(&input_sym(&x, &var)))
                }
                _ => Err(format!(
                    "`{}` is not a read at step `{var}` or `{var}+1`",
                    crate::syntax::printer::print_ref(rf)
                )),
            }
        })?;
        new.insert(print_name(&eq.lhs.name), v.clone());
        updates.push(v);
    }
    inputs.sort();
    let xs: Vec<String> = states.iter().map(|x| at_t(&name, x, &var)).collect();
    let gs: Vec<String> = inputs.iter().map(|g| input_sym(g, &var)).collect();
    let (mut m, mut n) = (Vec::new(), Vec::new());
    for (u, x) in updates.iter().zip(&states) {
        let row: Vec<Expr> = xs.iter().map(|s| sym::expand(&u.diff(s))).collect();
        let nrow: Vec<Expr> = gs.iter().map(|s| sym::expand(&u.diff(s))).collect();
        let mut rest = u.clone();
        for (c, s) in row.iter().zip(&xs).chain(nrow.iter().zip(&gs)) {
            let fs = c.free_symbols();
            if xs.iter().chain(&gs).any(|s| fs.contains(s)) {
                return Err(format!(
                    "the update of `{x}` in rule `{name}` is not linear in the state and the inputs"
                ));
            }
            rest = rest - c.clone() * Expr::sym(s);
        }
        if !sym::expand(&rest).is_zero() {
            return Err(format!(
                "the update of `{x}` in rule `{name}` has a term free of the state and the inputs"
            ));
        }
        m.push(row);
        n.push(nrow);
    }
    Ok(LinearRule {
        name,
        var,
        states,
        inputs,
        m,
        n,
    })
}

// ---- matrices of expressions ----

type Mat = Vec<Vec<Expr>>;

fn mat_mul(a: &Mat, b: &Mat) -> Mat {
    let cols = b.first().map_or(0, Vec::len);
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| {
                    sym::expand(&Expr::add(
                        row.iter()
                            .zip(b)
                            .map(|(x, brow)| x.clone() * brow[j].clone())
                            .collect(),
                    ))
                })
                .collect()
        })
        .collect()
}

fn identity(n: usize) -> Mat {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Expr::one() } else { Expr::zero() })
                .collect()
        })
        .collect()
}

fn mat_subs(a: &Mat, subs: &[(String, Expr)]) -> Mat {
    a.iter()
        .map(|r| r.iter().map(|x| sym::expand(&apply(x, subs))).collect())
        .collect()
}

fn apply(e: &Expr, subs: &[(String, Expr)]) -> Expr {
    subs.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v))
}

/// The characteristic polynomial `det(z I − M)` as coefficients `p_0 .. p_n` (p_n = 1),
/// by Faddeev–LeVerrier.
pub fn char_poly(m: &Mat) -> Vec<Expr> {
    let n = m.len();
    let mut c = vec![Expr::zero(); n + 1];
    c[n] = Expr::one();
    let mut mk = vec![vec![Expr::zero(); n]; n];
    for k in 1..=n {
        let prev = mat_mul(m, &mk);
        mk = prev
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                row.into_iter()
                    .enumerate()
                    .map(|(j, x)| {
                        if i == j {
                            sym::expand(&(x + c[n - k + 1].clone()))
                        } else {
                            x
                        }
                    })
                    .collect()
            })
            .collect();
        let amk = mat_mul(m, &mk);
        let tr = Expr::add((0..n).map(|i| amk[i][i].clone()).collect());
        c[n - k] = sym::expand(&(-tr / Expr::int(k as i64)));
    }
    c
}

/// The input coefficients `d_i` (one row per input) of the recurrence of `y = c·x`.
fn input_coefficients(m: &Mat, nmat: &Mat, c: &[Expr], p: &[Expr]) -> Vec<Vec<Expr>> {
    let n = m.len();
    let crow: Mat = vec![c.to_vec()];
    let mut powers = vec![identity(n)];
    for k in 1..n {
        powers.push(mat_mul(m, &powers[k - 1]));
    }
    let inputs = nmat.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            // c Σ_{k>i} p_k M^(k−1−i) N
            let mut acc = vec![Expr::zero(); inputs];
            for k in (i + 1)..=n {
                let t = mat_mul(&mat_mul(&crow, &powers[k - 1 - i]), nmat);
                for (a, x) in acc.iter_mut().zip(&t[0]) {
                    *a = sym::expand(&(a.clone() + p[k].clone() * x.clone()));
                }
            }
            acc
        })
        .collect()
}

/// `f(t + k)` with every power `r^(e(t))` written as the atom `⟨r^e⟩` times `r^(e(t+k) − e(t))`,
/// so that a recurrence can be checked as an identity in the atoms.
fn shift(f: &Expr, t: &str, k: i64) -> Expr {
    match f {
        Expr::Sym(s) if s == t => Expr::sym(t) + Expr::int(k),
        Expr::Num(_) | Expr::Sym(_) => f.clone(),
        Expr::Pow(b, e) if e.free_symbols().contains(t) => {
            let moved = e.subs(t, &(Expr::sym(t) + Expr::int(k)));
            let delta = sym::expand(&(moved - (**e).clone()));
            Expr::sym(&format!("<{}>", sym::to_ascii(f))) * Expr::pow(shift(b, t, k), delta)
        }
        Expr::Pow(b, e) => Expr::pow(shift(b, t, k), shift(e, t, k)),
        Expr::Func(func, x) => Expr::func(*func, shift(x, t, k)),
        Expr::Mul(fs) => Expr::mul(fs.iter().map(|x| shift(x, t, k)).collect()),
        Expr::Add(ts) => Expr::add(ts.iter().map(|x| shift(x, t, k)).collect()),
    }
}

/// Several rules side by side, with their starts.
struct System {
    var: String,
    /// State symbols (`A.v[t]`, ...), with their rule and sequence names.
    xs: Vec<(String, String, String)>,
    /// Input symbols shared by the rules (`g[t]`).
    gs: Vec<String>,
    m: Mat,
    n: Mat,
}

fn system(rules: &[&LinearRule]) -> Result<System, String> {
    let var = rules[0].var.clone();
    if rules.iter().any(|r| r.var != var) {
        return Err("the rules compared step over different variables".into());
    }
    let mut gs: Vec<String> = rules
        .iter()
        .flat_map(|r| r.inputs.iter().map(|g| input_sym(g, &var)))
        .collect();
    gs.sort();
    gs.dedup();
    let mut xs = Vec::new();
    let total: usize = rules.iter().map(|r| r.states.len()).sum();
    if total > MAX_STATES {
        return Err(format!(
            "the rules have {total} state sequences together; tq eliminates at most {MAX_STATES}"
        ));
    }
    let mut m = vec![vec![Expr::zero(); total]; total];
    let mut n = vec![vec![Expr::zero(); gs.len()]; total];
    let mut base = 0;
    for r in rules {
        let rg: Vec<String> = r.inputs.iter().map(|g| input_sym(g, &var)).collect();
        for (i, x) in r.states.iter().enumerate() {
            xs.push((at_t(&r.name, x, &var), r.name.clone(), x.clone()));
            for j in 0..r.states.len() {
                m[base + i][base + j] = r.m[i][j].clone();
            }
            for (k, g) in rg.iter().enumerate() {
                let col = gs.iter().position(|h| h == g).unwrap_or(0);
                n[base + i][col] = r.n[i][k].clone();
            }
        }
        base += r.states.len();
    }
    Ok(System { var, xs, gs, m, n })
}

/// What the givens of a claim set: hyperparameters and start values.
#[derive(Default, Clone)]
struct Givens {
    params: Vec<(String, Expr)>,
    starts: Vec<(String, Expr)>,
}

fn rule_ref(
    rf: &ast::Ref,
    rule_names: &BTreeSet<String>,
    var: &str,
) -> Result<Option<Expr>, String> {
    let x = print_name(&rf.name);
    let Some((rule, seq)) = x.split_once('.') else {
        return Ok(None);
    };
    if !rule_names.contains(rule) {
        return Ok(None);
    }
    match rf.indices.as_deref() {
        Some([ix]) if offset(ix, var) == Some(0) => Ok(Some(Expr::sym(&at_t(rule, seq, var)))),
        Some([ix]) if literal(ix) == Some(0) => Ok(Some(Expr::sym(&at_0(rule, seq)))),
        _ => Err(format!(
            "`{}`: tq reads a rule's sequence at step `{var}` or at the start `0`",
            crate::syntax::printer::print_ref(rf)
        )),
    }
}

fn lower_claim(e: &ast::Expr, rule_names: &BTreeSet<String>, var: &str) -> Result<Expr, String> {
    lower_with(e, &mut |rf| match rule_ref(rf, rule_names, var)? {
        Some(s) => Ok(s),
        None if rf.indices.is_none() && !rf.grad => Ok(Expr::sym(&print_name(&rf.name))),
        None => Err(format!(
            "`{}` is not a sequence of a rule",
            crate::syntax::printer::print_ref(rf)
        )),
    })
}

fn read_givens(
    given: &[ast::Expr],
    rule_names: &BTreeSet<String>,
    var: &str,
) -> Result<Givens, String> {
    let mut g = Givens::default();
    for e in given {
        let ast::Expr::Rel(RelOp::Eq, l, r, _) = e else {
            return Err(format!(
                "the given `{}` is not an equation; rule claims take equations for hyperparameters and starts",
                print_expr(e)
            ));
        };
        let ast::Expr::Ref(lr) = &**l else {
            return Err(format!("the given `{}` does not set a name", print_expr(e)));
        };
        let value = lower_claim(r, rule_names, var)?;
        match rule_ref(lr, rule_names, var)? {
            Some(Expr::Sym(s)) if s.ends_with("[0]") => g.starts.push((s, value)),
            Some(_) => {
                return Err(format!(
                    "the given `{}` sets a sequence at every step; givens set starts (`[0]`)",
                    print_expr(e)
                ))
            }
            None if lr.indices.is_none() => g.params.push((print_name(&lr.name), value)),
            None => {
                return Err(format!(
                    "the given `{}` sets a tensor element",
                    print_expr(e)
                ))
            }
        }
    }
    // Starts may refer to other starts (`B.theta[0] = A.theta[0]`); resolve them.
    for _ in 0..4 {
        let snapshot = g.starts.clone();
        for (_, v) in g.starts.iter_mut() {
            *v = apply(v, &snapshot);
        }
    }
    Ok(g)
}

/// The start of every state of the system after the givens.
fn starts(sys: &System, g: &Givens) -> Vec<Expr> {
    sys.xs
        .iter()
        .map(|(_, r, x)| {
            let s = at_0(r, x);
            let v = g
                .starts
                .iter()
                .find(|(n, _)| *n == s)
                .map_or_else(|| Expr::sym(&s), |(_, v)| v.clone());
            apply(&v, &g.params)
        })
        .collect()
}

/// `c·x[k]` for k = 0..steps, symbolically, with inputs `g[0]`, `g[1]`, ...
fn outputs(sys: &System, m: &Mat, n: &Mat, x0: &[Expr], c: &[Expr], steps: usize) -> Vec<Expr> {
    let mut x = x0.to_vec();
    let mut out = Vec::new();
    for k in 0..steps {
        out.push(sym::expand(&Expr::add(
            c.iter()
                .zip(&x)
                .map(|(a, b)| a.clone() * b.clone())
                .collect(),
        )));
        let g: Vec<Expr> = sys
            .gs
            .iter()
            .map(|s| Expr::sym(&s.replace(&format!("[{}]", sys.var), &format!("[{k}]"))))
            .collect();
        x = (0..x.len())
            .map(|i| {
                let mut terms: Vec<Expr> = (0..x.len())
                    .map(|j| m[i][j].clone() * x[j].clone())
                    .collect();
                terms.extend((0..g.len()).map(|j| n[i][j].clone() * g[j].clone()));
                sym::expand(&Expr::add(terms))
            })
            .collect();
    }
    out
}

/// A claim `c·x[t] == f(t)` over a system, prepared for both engines.
struct SeqClaim {
    sys: System,
    m: Mat,
    n: Mat,
    x0: Vec<Expr>,
    c: Vec<Expr>,
    f: Expr,
    /// The quantity as the claim writes it (for the evidence).
    label: String,
}

fn seq_claim(
    sys: System,
    g: &Givens,
    lhs: &Expr,
    rhs: &Expr,
    label: String,
) -> Result<SeqClaim, String> {
    let d = sym::expand(&apply(&(lhs.clone() - rhs.clone()), &g.params));
    let mut c = Vec::new();
    let mut rest = d.clone();
    for (s, _, _) in &sys.xs {
        let k = sym::expand(&d.diff(s));
        let fs = k.free_symbols();
        if sys.xs.iter().any(|(x, _, _)| fs.contains(x)) || fs.contains(&sys.var) {
            return Err("the claim is not linear in the rules' sequences".into());
        }
        rest = rest - k.clone() * Expr::sym(s);
        c.push(k);
    }
    let f = -sym::expand(&rest);
    if f.free_symbols()
        .iter()
        .any(|s| sys.xs.iter().any(|(x, _, _)| x == s))
    {
        return Err("the claim is not linear in the rules' sequences".into());
    }
    let m = mat_subs(&sys.m, &g.params);
    let n = mat_subs(&sys.n, &g.params);
    let x0 = starts(&sys, g);
    Ok(SeqClaim {
        sys,
        m,
        n,
        x0,
        c,
        f,
        label,
    })
}

/// The symbolic proof: `Ok(())` when proved, `Err(why not)` otherwise.
fn prove(sc: &SeqClaim) -> Result<(), String> {
    let t = &sc.sys.var;
    let p = char_poly(&sc.m);
    let order = sc.m.len();
    for (i, row) in input_coefficients(&sc.m, &sc.n, &sc.c, &p)
        .iter()
        .enumerate()
    {
        for (g, d) in sc.sys.gs.iter().zip(row) {
            if !sym::identical(d, &Expr::zero()) {
                return Err(format!(
                    "the quantity depends on the input `{g}` (coefficient {} of {})",
                    sym::to_ascii(&sym::simplify(d)),
                    g.replace(&format!("[{t}]"), &format!("[{t}+{i}]"))
                ));
            }
        }
    }
    let rec = Expr::add(
        (0..=order)
            .map(|k| p[k].clone() * shift(&sc.f, t, k as i64))
            .collect(),
    );
    if !sym::identical(&rec, &Expr::zero()) {
        return Err("the right side does not satisfy the rules' recurrence".into());
    }
    let ys = outputs(&sc.sys, &sc.m, &sc.n, &sc.x0, &sc.c, order);
    for (k, y) in ys.iter().enumerate() {
        let fk = sc.f.subs(t, &Expr::int(k as i64));
        if !sym::identical(y, &fk) {
            return Err(format!("the two sides differ at {t} = {k}"));
        }
    }
    Ok(())
}

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// The exact simulation: `Ok(points)` when both sides agree at every step of every
/// sequence, `Err(counterexample)` at the first disagreement.
fn simulate(
    sc: &SeqClaim,
    sample: &BTreeMap<String, BigRational>,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Result<usize, String> {
    let t = &sc.sys.var;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params: BTreeSet<String> = BTreeSet::new();
    for e in
        sc.m.iter()
            .chain(&sc.n)
            .flatten()
            .chain(&sc.x0)
            .chain(&sc.c)
    {
        params.extend(e.free_symbols());
    }
    params.extend(sc.f.free_symbols());
    params.remove(t);
    let mut used = 0;
    for k in 0..SEQUENCES * 4 {
        if used == SEQUENCES {
            break;
        }
        let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
        for p in &params {
            let inside = domains.get(p).and_then(|d| d.sample(&mut rng));
            let v = match sample.get(p) {
                Some(v) if k == 0 => v.clone(),
                // A symbol with a domain is drawn inside it (docs/symbolic.md).
                _ if inside.is_some() => inside.unwrap_or_else(|| rat(1, 2)),
                _ if p.ends_with("[0]") => rat(rng.random_range(-20..=20), rng.random_range(1..=8)),
                _ => rat(rng.random_range(1..=9), rng.random_range(10..=12)),
            };
            pt.insert(p.clone(), v);
        }
        let ev = |e: &Expr, pt: &BTreeMap<String, BigRational>| sym::eval_exact(e, pt);
        let Ok(m) =
            sc.m.iter()
                .map(|r| r.iter().map(|x| ev(x, &pt)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(n) =
            sc.n.iter()
                .map(|r| r.iter().map(|x| ev(x, &pt)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(mut x) = sc
            .x0
            .iter()
            .map(|e| ev(e, &pt))
            .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(c) =
            sc.c.iter()
                .map(|e| ev(e, &pt))
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let mut ok = true;
        let mut shown_g: Vec<String> = Vec::new();
        for step in 0..=STEPS {
            let y: BigRational = c.iter().zip(&x).map(|(a, b)| a * b).sum();
            let mut ptt = pt.clone();
            ptt.insert(t.clone(), rat(step, 1));
            let Ok(f) = ev(&sc.f, &ptt) else {
                ok = false;
                break;
            };
            if y != f {
                let shown: Vec<String> = pt.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                let grads = if shown_g.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", gradients {}{}",
                        shown_g.join(", "),
                        if step > 1 { ", ..." } else { "" }
                    )
                };
                return Err(format!(
                    "exactly at {}{grads}: at {t} = {step}: left {y}, right {f}",
                    shown.join(", ")
                ));
            }
            let g: Vec<BigRational> = sc
                .sys
                .gs
                .iter()
                .map(|_| rat(rng.random_range(-40..=40), rng.random_range(1..=10)))
                .collect();
            if shown_g.len() < 3 {
                for (s, v) in sc.sys.gs.iter().zip(&g) {
                    shown_g.push(format!(
                        "{} = {v}",
                        s.replace(&format!("[{t}]"), &format!("[{step}]"))
                    ));
                }
            }
            x = (0..x.len())
                .map(|i| {
                    let a: BigRational = (0..x.len()).map(|j| &m[i][j] * &x[j]).sum();
                    let b: BigRational = (0..g.len()).map(|j| &n[i][j] * &g[j]).sum();
                    a + b
                })
                .collect();
        }
        if ok {
            used += 1;
        }
    }
    Ok(used)
}

/// Decides a sequence claim: symbolic proof and exact simulation.
fn decide_seq(
    sc: &SeqClaim,
    sample: &BTreeMap<String, BigRational>,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Outcome {
    let proof = prove(sc);
    let sim = simulate(sc, sample, domains, seed);
    let sims = |n: usize| {
        format!(
            "{n} random rational gradient sequences of {STEPS} steps agree exactly (seed {seed})"
        )
    };
    match (proof, sim) {
        (_, Err(cx)) => (Verdict::Refuted, "exact-eval".into(), format!("{}: {cx}", sc.label)),
        (Ok(()), Ok(n)) if n > 0 => (
            Verdict::Proved,
            "symbolic".into(),
            format!(
                "{}: no input term in its recurrence, the right side obeys the same recurrence (order {}), and both sides agree at the first {} steps; {}",
                sc.label,
                sc.m.len(),
                sc.m.len(),
                sims(n)
            ),
        ),
        (Ok(()), Ok(_)) => (
            Verdict::Proved,
            "symbolic".into(),
            format!("{}: proved from the recurrence (no point could be simulated)", sc.label),
        ),
        (Err(why), Ok(n)) if n > 0 => (
            Verdict::Confirmed,
            "random-points".into(),
            format!("{}: {} (exactly); no symbolic proof: {why}", sc.label, sims(n)),
        ),
        (Err(why), Ok(_)) => und(format!("{}: no symbolic proof ({why}) and no point could be simulated", sc.label)),
    }
}

/// The `sample` values as exact rationals.
fn sample_point(program: &Program) -> BTreeMap<String, BigRational> {
    let mut out = BTreeMap::new();
    for it in &program.items {
        if let ItemKind::Sample(bs) = &it.kind {
            for b in bs {
                if let Ok(Expr::Num(r)) = scalar::lower(&b.value, &Scope::default()) {
                    out.insert(b.name.name.clone(), r);
                }
            }
        }
    }
    out
}

fn mentions_rule(e: &ast::Expr, rule_names: &BTreeSet<String>) -> bool {
    let mut found = false;
    crate::check::walk_refs(e, &mut |r| {
        let x = print_name(&r.name);
        if x.split_once('.')
            .is_some_and(|(a, _)| rule_names.contains(a))
        {
            found = true;
        }
    });
    found
}

/// Decides a claim about update rules, or `None` when the claim is not about them.
pub fn decide(claim: &ast::Claim, program: &Program, env: &Env, seed: u64) -> Option<Outcome> {
    // The checker lists the rules: a file without any is not scanned again for each of
    // its claims (which made checking many claims quadratic).
    if env.rules.is_empty() {
        return None;
    }
    let all = rules(program);
    if all.is_empty() {
        return None;
    }
    let names: BTreeSet<String> = all
        .iter()
        .map(|r| match r {
            Ok(r) => r.name.clone(),
            Err((n, _)) => n.clone(),
        })
        .collect();
    let is_equiv = matches!(&claim.body, ast::Expr::Call(c) if c.func.name == "equivalent");
    if !is_equiv && !mentions_rule(&claim.body, &names) {
        return None;
    }
    if let Some(bad) = all.iter().find_map(|r| r.as_ref().err()) {
        return Some(und(format!("rule `{}`: {}", bad.0, bad.1)));
    }
    let rules: Vec<LinearRule> = all.into_iter().filter_map(Result::ok).collect();
    let sample = sample_point(program);
    Some(match &claim.body {
        ast::Expr::Call(c) => equivalence(c, claim, &rules, &names, &sample, &env.domains, seed),
        ast::Expr::Rel(RelOp::Eq, l, r, _) => {
            let used: Vec<&LinearRule> = rules
                .iter()
                .filter(|r| {
                    mentions_rule_named(&claim.body, &r.name)
                        || claim.given.iter().any(|g| mentions_rule_named(g, &r.name))
                })
                .collect();
            if used.is_empty() {
                return Some(und("the claim names no rule's sequence"));
            }
            let var = used[0].var.clone();
            let run = || -> Result<Outcome, String> {
                let sys = system(&used)?;
                let g = read_givens(&claim.given, &names, &var)?;
                let (a, b) = (lower_claim(l, &names, &var)?, lower_claim(r, &names, &var)?);
                let sc = seq_claim(
                    sys,
                    &g,
                    &a,
                    &b,
                    format!("{} == {}", print_expr(l), print_expr(r)),
                )?;
                Ok(decide_seq(&sc, &sample, &env.domains, seed))
            };
            run().unwrap_or_else(und)
        }
        _ => und("rule claims are equations or `equivalent(A, B)`"),
    })
}

fn mentions_rule_named(e: &ast::Expr, rule: &str) -> bool {
    let mut found = false;
    crate::check::walk_refs(e, &mut |r| {
        if print_name(&r.name)
            .split_once('.')
            .is_some_and(|(a, _)| a == rule)
        {
            found = true;
        }
    });
    found
}

/// The sequences an `equivalent(A, B)` claim compares: named as further arguments, or
/// those whose starts the givens set equal (`B.theta[0] = A.theta[0]`).
fn compared(
    c: &ast::Call,
    claim: &ast::Claim,
    a: &LinearRule,
    b: &LinearRule,
) -> Result<Vec<String>, String> {
    if c.args.len() > 2 {
        let mut out = Vec::new();
        for e in &c.args[2..] {
            match e {
                ast::Expr::Ref(r) if r.indices.is_none() => {
                    let x = print_name(&r.name);
                    if !a.states.contains(&x) || !b.states.contains(&x) {
                        return Err(format!(
                            "`{x}` is not a sequence of both `{}` and `{}`",
                            a.name, b.name
                        ));
                    }
                    out.push(x);
                }
                other => return Err(format!("`{}` is not a sequence name", print_expr(other))),
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for g in &claim.given {
        if let ast::Expr::Rel(RelOp::Eq, l, r, _) = g {
            let (l, r) = (print_expr(l), print_expr(r));
            for x in a.states.iter().filter(|x| b.states.contains(x)) {
                let (sa, sb) = (at_0(&a.name, x), at_0(&b.name, x));
                if (l == sa && r == sb) || (l == sb && r == sa) {
                    out.push(x.clone());
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "say which sequences to compare: `equivalent({}, {}, theta)`, or give equal starts such as `{}.x[0] = {}.x[0]`",
            a.name, b.name, b.name, a.name
        ));
    }
    Ok(out)
}

fn equivalence(
    c: &ast::Call,
    claim: &ast::Claim,
    rules: &[LinearRule],
    names: &BTreeSet<String>,
    sample: &BTreeMap<String, BigRational>,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Outcome {
    let find = |e: &ast::Expr| -> Option<&LinearRule> {
        match e {
            ast::Expr::Ref(r) => rules.iter().find(|x| x.name == print_name(&r.name)),
            _ => None,
        }
    };
    let (Some(a), Some(b)) = (c.args.first().and_then(find), c.args.get(1).and_then(find)) else {
        return und("`equivalent(A, B)` names two rules");
    };
    let run = || -> Result<Outcome, String> {
        let xs = compared(c, claim, a, b)?;
        let g = read_givens(&claim.given, names, &a.var)?;
        let mut parts = Vec::new();
        for x in &xs {
            let sys = system(&[a, b])?;
            let lhs = Expr::sym(&at_t(&b.name, x, &a.var)) - Expr::sym(&at_t(&a.name, x, &a.var));
            let label = format!("{}.{x}[{t}] − {}.{x}[{t}] == 0", b.name, a.name, t = a.var);
            let sc = seq_claim(sys, &g, &lhs, &Expr::zero(), label)?;
            let mut o = decide_seq(&sc, sample, domains, seed);
            if o.0 == Verdict::Refuted {
                if let Some(tr) = transient(&sc) {
                    o.2 = format!("{}; {tr}", o.2);
                }
            }
            parts.push(o);
        }
        let worst = [
            Verdict::Refuted,
            Verdict::Undecided,
            Verdict::Confirmed,
            Verdict::Proved,
        ]
        .into_iter()
        .find(|v| parts.iter().any(|p| p.0 == *v))
        .unwrap_or(Verdict::Undecided);
        let chosen = parts
            .iter()
            .find(|p| p.0 == worst)
            .cloned()
            .unwrap_or_else(|| und("nothing compared"));
        let what = format!(
            "`{}` and `{}` compared on {}",
            a.name,
            b.name,
            xs.join(", ")
        );
        Ok((
            chosen.0,
            chosen.1,
            format!(
                "{what}: {}",
                parts
                    .iter()
                    .map(|p| p.2.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ))
    };
    run().unwrap_or_else(und)
}

/// Solves a small linear system exactly (Gaussian elimination over expressions).
fn solve_system(mut a: Mat, mut b: Vec<Expr>) -> Option<Vec<Expr>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).find(|&r| !sym::identical(&a[r][col], &Expr::zero()))?;
        a.swap(col, piv);
        b.swap(col, piv);
        for r in 0..n {
            if r == col {
                continue;
            }
            let f = a[r][col].clone() / a[col][col].clone();
            let pivot_row = a[col].clone();
            for (x, p) in a[r].iter_mut().zip(pivot_row).skip(col) {
                *x = sym::simplify(&(x.clone() - f.clone() * p));
            }
            b[r] = sym::simplify(&(b[r].clone() - f.clone() * b[col].clone()));
        }
    }
    Some(
        (0..n)
            .map(|i| sym::simplify(&(b[i].clone() / a[i][i].clone())))
            .collect(),
    )
}

/// The closed form of a quantity that no input reaches (a transient): `Σ α_j r_j^t` over the
/// distinct roots among the diagonal entries of M, fitted at the first steps and proved by
/// [`prove`]. `None` when it is not of that form.
fn transient(sc: &SeqClaim) -> Option<String> {
    if !sym::identical(&sc.f, &Expr::zero()) {
        return None;
    }
    let t = &sc.sys.var;
    let p = char_poly(&sc.m);
    let mut roots: Vec<Expr> = Vec::new();
    for i in 0..sc.m.len() {
        let r = sym::simplify(&sc.m[i][i]);
        let val = Expr::add(
            p.iter()
                .enumerate()
                .map(|(k, c)| c.clone() * Expr::pow(r.clone(), Expr::int(k as i64)))
                .collect(),
        );
        if sym::identical(&val, &Expr::zero()) && !roots.iter().any(|q| sym::identical(q, &r)) {
            roots.push(r);
        }
    }
    if roots.is_empty() {
        return None;
    }
    let ys = outputs(&sc.sys, &sc.m, &sc.n, &sc.x0, &sc.c, sc.m.len());
    let k = roots.len();
    let a: Mat = (0..k)
        .map(|s| {
            roots
                .iter()
                .map(|r| Expr::pow(r.clone(), Expr::int(s as i64)))
                .collect()
        })
        .collect();
    let alpha = solve_system(a, ys[..k].to_vec())?;
    let f = Expr::add(
        alpha
            .iter()
            .zip(&roots)
            .map(|(al, r)| al.clone() * Expr::pow(r.clone(), Expr::sym(t)))
            .collect(),
    );
    let check = SeqClaim {
        sys: System {
            var: sc.sys.var.clone(),
            xs: sc.sys.xs.clone(),
            gs: sc.sys.gs.clone(),
            m: sc.sys.m.clone(),
            n: sc.sys.n.clone(),
        },
        m: sc.m.clone(),
        n: sc.n.clone(),
        x0: sc.x0.clone(),
        c: sc.c.clone(),
        f: f.clone(),
        label: String::new(),
    };
    prove(&check).ok()?;
    let shown: Vec<String> = alpha
        .iter()
        .zip(&roots)
        .filter(|(al, _)| !al.is_zero())
        .map(|(al, r)| {
            format!(
                "({})·({})^{t}",
                sym::to_ascii(&present(al)),
                sym::to_ascii(&present(r))
            )
        })
        .collect();
    let rs: Vec<String> = roots.iter().map(|r| sym::to_ascii(&present(r))).collect();
    Some(format!(
        "the difference is the transient {} (proved from the recurrence), decaying like the powers of the roots {} of the rules' characteristic polynomial",
        shown.join(" + "),
        rs.join(", ")
    ))
}

// ---- presentation ----

/// The expression over one denominator with each side's common factor taken out:
/// `mu*(1 - eta*lambda)`, `lambda*A.theta[0]/(1 - eta*lambda)`.
pub fn present(e: &Expr) -> Expr {
    let (mut n, mut d) = sym::together(e);
    // The denominator's constant (or, without one, its first term) positive:
    // `(a + b)/(1 - x)`, not `(-a - b)/(x - 1)`.
    let lead = match &d {
        Expr::Add(ts) => ts
            .last()
            .filter(|t| t.as_num().is_some())
            .or(ts.first())
            .map(|t| t.split_coef().0),
        other => Some(other.split_coef().0),
    };
    if lead.is_some_and(|c| num_traits::Signed::is_negative(&c)) {
        n = sym::expand(&-n);
        d = sym::expand(&-d);
    }
    let (cn, rn) = content(&n);
    let (cd, rd) = content(&d);
    let out = Expr::mul(vec![
        cn,
        rn,
        Expr::pow(Expr::mul(vec![cd, rd]), Expr::int(-1)),
    ]);
    let s = sym::simplify(e);
    if sym::to_ascii(&s).len() + 4 < sym::to_ascii(&out).len() {
        s
    } else {
        out
    }
}

/// A polynomial as (content, primitive part): the rational gcd of the coefficients and the
/// common powers of the atoms.
fn content(e: &Expr) -> (Expr, Expr) {
    let e = sym::expand(e);
    let terms: Vec<Expr> = match &e {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    if terms.len() < 2 {
        return (Expr::one(), e);
    }
    let mut common: Option<BTreeMap<Expr, i64>> = None;
    let mut g: Option<BigRational> = None;
    for t in &terms {
        let (c, rest) = t.split_coef();
        g = Some(match g {
            None => c.clone(),
            Some(g0) => {
                let n =
                    num_integer::Integer::gcd(&(g0.numer() * c.denom()), &(c.numer() * g0.denom()));
                BigRational::new(n, g0.denom() * c.denom())
            }
        });
        let fs = match &rest {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        };
        let mut here = BTreeMap::new();
        for f in fs {
            match &f {
                Expr::Pow(b, k) if k.as_int().is_some_and(|k| k > 0) => {
                    here.insert((**b).clone(), k.as_int().unwrap_or(1));
                }
                Expr::Num(_) => {}
                other => {
                    here.insert(other.clone(), 1);
                }
            }
        }
        common = Some(match common {
            None => here,
            Some(c0) => c0
                .into_iter()
                .filter_map(|(b, k)| here.get(&b).map(|k2| (b, k.min(*k2))))
                .collect(),
        });
    }
    let mut cf = vec![Expr::Num(g.unwrap_or_else(|| rat(1, 1)))];
    for (b, k) in common.unwrap_or_default() {
        cf.push(Expr::pow(b, Expr::int(k)));
    }
    let c = Expr::mul(cf);
    if c.is_zero() {
        return (Expr::one(), e);
    }
    let rest = sym::expand(&(e.clone() / c.clone()));
    // A leading minus belongs to the content: `-(a - 1)` is written `1 - a` when the
    // constant is positive.
    (c, rest)
}

// ---- the derivation printed by `tq derive` ----

/// What `tq derive` says about two update rules: the hyperparameters of the second in
/// terms of the first, and its starting values.
#[derive(Clone, Debug)]
pub struct RuleDerivation {
    pub a: String,
    pub b: String,
    /// The compared sequences (`theta`).
    pub compared: Vec<String>,
    /// Each rule's recurrence in the compared sequence: (rule, text).
    pub recurrences: Vec<(String, String)>,
    /// `eta'` → `eta`, ...
    pub mapping: Vec<(String, Expr)>,
    /// `B.v[0]` → ..., in A's starts, then at the claim's starts (when it gives them).
    pub starts: Vec<(String, Expr)>,
    pub starts_at_given: Vec<(String, Expr)>,
    /// Why the mapping could not be derived, when it could not.
    pub failure: Option<String>,
}

fn recurrence_text(p: &[Expr], d: &[Vec<Expr>], y: &str, gs: &[String], t: &str) -> String {
    let at = |k: usize| {
        if k == 0 {
            t.to_string()
        } else {
            format!("{t}+{k}")
        }
    };
    let term = |c: &Expr, what: String| {
        let c = present(c);
        if c == Expr::one() {
            what
        } else if c == -Expr::one() {
            format!("-{what}")
        } else {
            format!("({})*{what}", sym::to_ascii(&c))
        }
    };
    let mut lhs = Vec::new();
    for (k, c) in p.iter().enumerate().rev() {
        if !c.is_zero() {
            lhs.push(term(c, format!("{y}[{}]", at(k))));
        }
    }
    let mut rhs = Vec::new();
    for (i, row) in d.iter().enumerate() {
        for (g, c) in gs.iter().zip(row) {
            if !sym::identical(c, &Expr::zero()) {
                let base = g.split('[').next().unwrap_or(g);
                rhs.push(term(c, format!("{base}[{}]", at(i))));
            }
        }
    }
    format!(
        "{} = {}",
        lhs.join(" + "),
        if rhs.is_empty() {
            "0".into()
        } else {
            rhs.join(" + ")
        }
    )
}

/// Derives the mapping between the two rules of the file's first `equivalent` claim
/// (or its first two rules, compared on the sequences they share that are assigned last).
pub fn derive(program: &Program) -> Option<RuleDerivation> {
    let all: Vec<LinearRule> = rules(program).into_iter().filter_map(Result::ok).collect();
    if all.len() < 2 {
        return None;
    }
    let names: BTreeSet<String> = all.iter().map(|r| r.name.clone()).collect();
    let claim = program.items.iter().find_map(|it| match &it.kind {
        ItemKind::Claim(c) => match &c.body {
            ast::Expr::Call(call) if call.func.name == "equivalent" => Some((c, call)),
            _ => None,
        },
        _ => None,
    });
    let pick = |e: Option<&ast::Expr>| -> Option<&LinearRule> {
        match e? {
            ast::Expr::Ref(r) => all.iter().find(|x| x.name == print_name(&r.name)),
            _ => None,
        }
    };
    let (a, b, xs, given) = match claim {
        Some((c, call)) => {
            let (a, b) = (pick(call.args.first())?, pick(call.args.get(1))?);
            let xs = compared(call, c, a, b).ok()?;
            (a, b, xs, read_givens(&c.given, &names, &a.var).ok())
        }
        None => {
            let (a, b) = (&all[0], &all[1]);
            let x = a.states.last()?.clone();
            if b.states.last() != Some(&x) {
                return None;
            }
            (a, b, vec![x], None)
        }
    };
    let mut out = RuleDerivation {
        a: a.name.clone(),
        b: b.name.clone(),
        compared: xs.clone(),
        recurrences: Vec::new(),
        mapping: Vec::new(),
        starts: Vec::new(),
        starts_at_given: Vec::new(),
        failure: None,
    };
    if a.states.len() != b.states.len() || a.var != b.var {
        out.failure = Some("the rules have different numbers of state sequences".into());
        return Some(out);
    }
    let t = a.var.clone();
    let sa: BTreeSet<String> =
        a.m.iter()
            .chain(&a.n)
            .flatten()
            .flat_map(|e| e.free_symbols())
            .collect();
    let sb: BTreeSet<String> =
        b.m.iter()
            .chain(&b.n)
            .flatten()
            .flat_map(|e| e.free_symbols())
            .collect();
    let unknowns: Vec<String> = sb.difference(&sa).cloned().collect();
    // Each rule's transfer from the inputs to the compared sequence.
    let mut eqs: Vec<(Expr, Expr)> = Vec::new();
    let mut per_rule = Vec::new();
    for r in [a, b] {
        let sys = system(&[r]).ok()?;
        let c: Vec<Expr> = r
            .states
            .iter()
            .map(|s| {
                if xs.contains(s) {
                    Expr::one()
                } else {
                    Expr::zero()
                }
            })
            .collect();
        let p = char_poly(&sys.m);
        let d = input_coefficients(&sys.m, &sys.n, &c, &p);
        out.recurrences.push((
            r.name.clone(),
            recurrence_text(&p, &d, &format!("{}.{}", r.name, xs.join(",")), &sys.gs, &t),
        ));
        per_rule.push((sys, c, p, d));
    }
    if per_rule[0].0.gs != per_rule[1].0.gs {
        out.failure = Some("the rules read different inputs".into());
        return Some(out);
    }
    for k in 0..per_rule[0].2.len() {
        eqs.push((per_rule[0].2[k].clone(), per_rule[1].2[k].clone()));
    }
    for (ra, rb) in per_rule[0].3.iter().zip(&per_rule[1].3) {
        for (x, y) in ra.iter().zip(rb) {
            eqs.push((x.clone(), y.clone()));
        }
    }
    let mut solved: Vec<(String, Expr)> = Vec::new();
    let mut left: Vec<String> = unknowns.clone();
    while !left.is_empty() {
        let mut progress = false;
        for (l, r) in &eqs {
            let (l, r) = (apply(l, &solved), apply(r, &solved));
            let d = sym::expand(&(l.clone() - r.clone()));
            let fs = d.free_symbols();
            let here: Vec<&String> = left.iter().filter(|u| fs.contains(*u)).collect();
            if here.len() == 1 {
                let u = here[0].clone();
                if let Some(v) = sym::solve_linear(&l, &r, &u) {
                    let v = sym::simplify(&v);
                    solved = solved
                        .into_iter()
                        .map(|(n, e)| (n, apply(&e, &[(u.clone(), v.clone())])))
                        .collect();
                    solved.push((u.clone(), v));
                    left.retain(|x| *x != u);
                    progress = true;
                    break;
                }
            }
        }
        if !progress {
            out.failure = Some(format!(
                "no equation of the matched recurrences is linear in one of {} alone",
                left.join(", ")
            ));
            return Some(out);
        }
    }
    for (l, r) in &eqs {
        if !sym::identical(&apply(l, &solved), &apply(r, &solved)) {
            out.failure = Some("the recurrences cannot be matched".into());
            return Some(out);
        }
    }
    out.mapping = unknowns
        .iter()
        .filter_map(|u| {
            solved
                .iter()
                .find(|(n, _)| n == u)
                .map(|(n, v)| (n.clone(), present(v)))
        })
        .collect();
    // Starting values: B's starts of the sequences not compared, from the first outputs.
    let mut g = Givens {
        params: solved.clone(),
        starts: xs
            .iter()
            .map(|x| (at_0(&b.name, x), Expr::sym(&at_0(&a.name, x))))
            .collect(),
    };
    let sys = system(&[a, b]).ok()?;
    let c: Vec<Expr> = sys
        .xs
        .iter()
        .map(|(_, r, x)| {
            if !xs.contains(x) {
                Expr::zero()
            } else if *r == b.name {
                Expr::one()
            } else {
                -Expr::one()
            }
        })
        .collect();
    let free_starts: Vec<String> = b
        .states
        .iter()
        .filter(|x| !xs.contains(x))
        .map(|x| at_0(&b.name, x))
        .collect();
    let m = mat_subs(&sys.m, &g.params);
    let n = mat_subs(&sys.n, &g.params);
    let x0 = starts(&sys, &g);
    let ys = outputs(&sys, &m, &n, &x0, &c, a.states.len());
    let mut found: Vec<(String, Expr)> = Vec::new();
    let mut todo = free_starts.clone();
    for y in &ys {
        let y = apply(y, &found);
        let fs = y.free_symbols();
        let here: Vec<String> = todo.iter().filter(|u| fs.contains(*u)).cloned().collect();
        if here.len() == 1 {
            if let Some(v) = sym::solve_linear(&y, &Expr::zero(), &here[0]) {
                found.push((here[0].clone(), sym::simplify(&v)));
                todo.retain(|u| *u != here[0]);
            }
        }
    }
    if !todo.is_empty() {
        out.failure = Some(format!(
            "the starting values {} are not determined",
            todo.join(", ")
        ));
        return Some(out);
    }
    g.starts.extend(found.iter().cloned());
    out.starts = found.iter().map(|(n, v)| (n.clone(), present(v))).collect();
    if let Some(given) = given {
        let a_starts: Vec<(String, Expr)> = given
            .starts
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{}.", a.name)))
            .cloned()
            .collect();
        if !a_starts.is_empty() {
            out.starts_at_given = found
                .iter()
                .map(|(n, v)| (n.clone(), present(&apply(v, &a_starts))))
                .collect();
        }
    }
    Some(out)
}
