//! `equivalent(A, B)` and compared sequences of two rules: the claim decided per
//! compared sequence, and the closed form of a transient that no input reaches.

use super::linear::{at_0, at_t, LinearRule};
use super::matrix::{char_poly, solve_system, Mat};
use super::present::present;
use super::sequence::{
    decide_seq, outputs, prove, read_givens, seq_claim, system, SeqClaim, System,
};
use super::und;
use crate::claims::Outcome;
use crate::claims::Verdict;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use num_rational::BigRational;
use std::collections::{BTreeMap, BTreeSet};

/// The sequences an `equivalent(A, B)` claim compares: named as further arguments, or
/// those whose starts the givens set equal (`B.theta[0] = A.theta[0]`).
pub(super) fn compared(
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
        // The hint names the sequences the two rules share (session 36, h06: it named
        // `theta` and `x` whatever the rules' states were).
        let shared: Vec<&String> = a.states.iter().filter(|x| b.states.contains(x)).collect();
        let Some(first) = shared.first() else {
            return Err(format!(
                "`{}` and `{}` share no sequence to compare",
                a.name, b.name
            ));
        };
        let names: Vec<&str> = shared.iter().map(|x| x.as_str()).collect();
        return Err(format!(
            "say which sequences to compare: `equivalent({}, {}, {})`, or give equal starts such as `{}`",
            a.name,
            b.name,
            names.join(", "),
            at_eq(b, a, first)
        ));
    }
    Ok(out)
}

/// `B.v[0] = A.v[0]`.
fn at_eq(b: &LinearRule, a: &LinearRule, x: &str) -> String {
    format!("{} = {}", at_0(&b.name, x), at_0(&a.name, x))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn equivalence(
    c: &ast::Call,
    claim: &ast::Claim,
    given: &[ast::Expr],
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
        let g = read_givens(given, names, &a.var)?.for_every_step()?;
        let mut parts = Vec::new();
        for x in &xs {
            let sys = system(&[a, b])?;
            let lhs = Expr::sym(&at_t(&b.name, x, &a.var)) - Expr::sym(&at_t(&a.name, x, &a.var));
            let label = format!("{}.{x}[{t}] − {}.{x}[{t}] == 0", b.name, a.name, t = a.var);
            let sc = seq_claim(sys, &g, &lhs, &Expr::zero(), label)?;
            let mut o = decide_seq(&sc, sample, domains, seed);
            if o.verdict == Verdict::Refuted {
                if let Some(tr) = transient(&sc) {
                    o.evidence = format!("{}; {tr}", o.evidence);
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
        .find(|v| parts.iter().any(|p| p.verdict == *v))
        .unwrap_or(Verdict::Undecided);
        let chosen = parts
            .iter()
            .find(|p| p.verdict == worst)
            .cloned()
            .unwrap_or_else(|| und("nothing compared"));
        let what = format!(
            "`{}` and `{}` compared on {}",
            a.name,
            b.name,
            xs.join(", ")
        );
        Ok(Outcome {
            evidence: format!(
                "{what}: {}",
                parts
                    .iter()
                    .map(|p| p.evidence.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            ..chosen
        })
    };
    run().unwrap_or_else(und)
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
    let ys = outputs(&sc.sys, &sc.m, &sc.n, &sc.x0, &sc.c, sc.m.len())?;
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
        bounds: sc.bounds.clone(),
        implied: sc.implied.clone(),
        conds: sc.conds.clone(),
        sides: None,
        settings: sc.settings.clone(),
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
        "the difference is {} (proved from the recurrence{}), {}",
        shown.join(" + "),
        distinct_roots(&roots),
        decay(&alpha, &roots, &rs)
    ))
}

/// order43 (#14, probe42 r15): what the powers of the roots do, said only as far as it is
/// known. Before, every difference was "the transient ..., decaying like the powers of the
/// roots", also for the root 1 (a permanent offset) and for a symbol's root whose modulus
/// may be 1 or more.
fn decay(alpha: &[Expr], roots: &[Expr], shown: &[String]) -> String {
    use num_traits::{One, Signed};
    let used: Vec<(&Expr, &String)> = alpha
        .iter()
        .zip(roots.iter().zip(shown))
        .filter(|(al, _)| !al.is_zero())
        .map(|(_, r)| r)
        .collect();
    let list = shown.join(", ");
    let modulus = |r: &Expr| r.as_num().map(|q| q.abs());
    let unit: Vec<&String> = used
        .iter()
        .filter(|(r, _)| r.as_num().is_some_and(|q| q.is_one()))
        .map(|(_, s)| *s)
        .collect();
    let lasting: Vec<&String> = used
        .iter()
        .filter(|(r, _)| {
            modulus(r).is_some_and(|m| m >= BigRational::one())
                && !r.as_num().is_some_and(|q| q.is_one())
        })
        .map(|(_, s)| *s)
        .collect();
    let symbolic = used.iter().any(|(r, _)| r.as_num().is_none());
    let roots_of = format!("the roots {list} of the rules' characteristic polynomial");
    if unit.is_empty() && lasting.is_empty() && !symbolic {
        return format!("a transient decaying like the powers of {roots_of}");
    }
    let mut out = format!("a combination of the powers of {roots_of}");
    if !unit.is_empty() {
        out.push_str(": the root 1 leaves a permanent offset (its term does not decay)");
    }
    if !lasting.is_empty() {
        out.push_str(&format!(
            "{} the root{} {} of modulus 1 or more do{} not decay",
            if unit.is_empty() { ":" } else { ";" },
            if lasting.len() > 1 { "s" } else { "" },
            lasting
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if lasting.len() > 1 { "" } else { "es" },
        ));
    }
    if symbolic {
        out.push_str(&format!(
            "{} a term decays only where its root has modulus below 1",
            if unit.is_empty() && lasting.is_empty() {
                ":"
            } else {
                ";"
            }
        ));
    }
    out
}

/// The condition under which the fitted closed form holds: the roots it separates are
/// distinct (at mu = 1 the roots mu and 1 meet, the fit divides by 1 − mu, and the
/// difference there has another form). Empty when every pair differs by a nonzero number.
fn distinct_roots(roots: &[Expr]) -> String {
    let mut conds = Vec::new();
    for (i, a) in roots.iter().enumerate() {
        for b in &roots[i + 1..] {
            let d = sym::simplify(&(a.clone() - b.clone()));
            if d.as_num().is_none() {
                conds.push(format!(
                    "{} ≠ {}",
                    sym::to_ascii(&present(a)),
                    sym::to_ascii(&present(b))
                ));
            }
        }
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(
            ", where the roots are distinct: {}; where they meet the form has a power of t times the root's",
            conds.join(", ")
        )
    }
}
