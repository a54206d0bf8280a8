//! The hyperparameter mapping between two update rules that `tq derive` prints
//! (`RuleDerivation`).

use super::equivalence::compared;
use super::linear::{at_0, rules, LinearRule};
use super::matrix::{apply, char_poly, input_coefficients, mat_subs};
use super::present::present;
use super::sequence::{outputs, read_givens, starts, system, Givens};
use super::MAX_STATES;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, ItemKind, Program};
use crate::syntax::printer::print_name;
use std::collections::BTreeSet;

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
///
/// The whole derivation runs under one budget of symbolic work ([`sym::FILE_WORK`], as
/// the claims of a file do): a rule whose update is a product of 60 sums made its
/// derivatives' expansion take 3 s for `tq derive` and more than the fuzz run's limit
/// for `render` and the language server, which read it too. Past the budget an
/// expansion keeps its value as written, so a rule reads as not linear (its claims are
/// undecided by the claims engine's own budget alike).
pub fn derive(program: &Program) -> Option<RuleDerivation> {
    sym::with_work_budget(sym::FILE_WORK, || derive_within(program)).0
}

fn derive_within(program: &Program) -> Option<RuleDerivation> {
    // A rule with a constant term is decided through a virtual state (sequence::system);
    // the mapping between two rules is derived for rules without one.
    let all: Vec<LinearRule> = rules(program)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|r| !r.has_constant())
        .collect();
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
            (
                a,
                b,
                xs,
                read_givens(&c.given, &names, &a.var)
                    .and_then(Givens::for_every_step)
                    .ok(),
            )
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
    // The claims engine's limit: the characteristic polynomial of a symbolic matrix
    // grows combinatorially with its order (two dense rules of six states each took
    // more than 10 s; a thousand states each, minutes).
    let together = a.states.len() + b.states.len();
    if together > MAX_STATES {
        out.failure = Some(format!(
            "the rules have {together} state sequences together; tq eliminates at most {MAX_STATES}"
        ));
        return Some(out);
    }
    if a.states.len() != b.states.len() {
        out.failure = Some("the rules have different numbers of state sequences".into());
        return Some(out);
    }
    let renamed = match b.over(&a.var) {
        Ok(r) => r,
        Err(e) => {
            out.failure = Some(e);
            return Some(out);
        }
    };
    let b = &renamed;
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
        bounds: vec![],
        implied: vec![],
        conds: vec![],
        inputs: vec![],
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
    let ys = outputs(&sys, &m, &n, &x0, &c, a.states.len())?;
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
