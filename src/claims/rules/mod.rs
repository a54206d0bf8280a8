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
//!
//! Files: `mod.rs` the entry point ([`decide`]: which rule claim is which) and the
//! shared limits; `linear.rs` one rule read as a linear system; `matrix.rs` matrices of
//! expressions (products, characteristic polynomial, input coefficients, exact solves);
//! `sequence.rs` sequence claims (the system side by side, givens and starts, the
//! recurrence proof, the exact simulation); `equivalence.rs` `equivalent(A, B)` and the
//! transient closed form; `present.rs` expressions over one denominator for display;
//! `derivation.rs` the hyperparameter mapping `tq derive` prints.

mod derivation;
mod equivalence;
mod linear;
mod matrix;
mod present;
mod sequence;

pub use derivation::{derive, RuleDerivation};
pub use linear::{rules, LinearRule};
pub use matrix::char_poly;
pub use present::present;

use super::scalar::{self, Scope};
use crate::check::Env;
use crate::claims::Outcome;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, ItemKind, Program, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use equivalence::equivalence;
use num_rational::BigRational;
use sequence::{
    decide_fixed, decide_seq, lower_claim, read_givens, reads_fixed_steps, seq_claim, system,
};
use std::collections::{BTreeMap, BTreeSet};

fn und(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

/// Steps of the exact simulation.
const STEPS: i64 = 20;
/// State sequences of the rules compared, together, at most (the characteristic
/// polynomial is computed symbolically).
const MAX_STATES: usize = 6;
/// Random gradient sequences (and parameter points) simulated.
const SEQUENCES: usize = 6;

/// The `sample` values as exact rationals.
pub fn sample_point(program: &Program) -> BTreeMap<String, BigRational> {
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

/// Every rule of a program read as a linear system, or its name and why it is not one.
type ReadRules = Vec<Result<LinearRule, (String, String)>>;

/// The program's rules read as linear systems, and their names (each once).
fn read_rules(program: &Program) -> (ReadRules, BTreeSet<String>) {
    let all = rules(program);
    let names: BTreeSet<String> = all
        .iter()
        .map(|r| match r {
            Ok(r) => r.name.clone(),
            Err((n, _)) => n.clone(),
        })
        .collect();
    (all, names)
}

/// Whether the claim is this engine's: `equivalent(A, B)`, or a claim that names a rule's
/// sequence (`B.theta[t]`), in a file with rules. The claim router
/// ([`crate::claims::route`]) gives such claims to [`decide`] alone.
pub fn owns(claim: &ast::Claim, program: &Program, env: &Env) -> bool {
    // The checker lists the rules: a file without any is not scanned again for each of
    // its claims (which made checking many claims quadratic).
    if env.rules.is_empty() {
        return false;
    }
    // The rules' names only: reading every rule as a linear system (lowering each of
    // its updates) for each claim's route made a file of n rules and n claims quadratic
    // in that lowering (768 rules and claims: 28 s in the 2026-12-05-d campaign).
    let names: BTreeSet<String> = program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Rule(r) => Some(r.name.name.clone()),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return false;
    }
    let is_equiv = matches!(&claim.body, ast::Expr::Call(c) if c.func.name == "equivalent");
    is_equiv || mentions_rule(&claim.body, &names)
}

/// A program's rules read once for all its claims ([`read`]): each claim of a file of
/// n rules read all n again (n lowerings per claim, quadratic over a file of rule
/// claims).
pub struct Read {
    /// The rules read as linear systems.
    rules: Vec<LinearRule>,
    /// The rules that are not linear systems, each with why: a claim naming one of them is
    /// undecided for that reason, a claim about the others is decided without them
    /// (wrong42, probe41 q09: one Adam rule left every rule claim of its file undecided).
    bad: Vec<(String, String)>,
    names: BTreeSet<String>,
    sample: BTreeMap<String, BigRational>,
}

/// Reads a program's rules and `sample` values for [`decide_read`].
pub fn read(program: &Program) -> Read {
    let (all, names) = read_rules(program);
    let (mut rules, mut bad) = (Vec::new(), Vec::new());
    for r in all {
        match r {
            Ok(r) => rules.push(r),
            Err(e) => bad.push(e),
        }
    }
    Read {
        rules,
        bad,
        names,
        sample: sample_point(program),
    }
}

/// Decides a claim about update rules (one [`owns`]) at the point in force where it
/// stands (`at`: the file's `at` lines before it and its own, [`crate::claims`]'s
/// scoping rule).
pub fn decide(
    claim: &ast::Claim,
    at: &[ast::Binding],
    program: &Program,
    env: &Env,
    seed: u64,
) -> Outcome {
    decide_read(claim, at, &read(program), env, seed)
}

/// The claim's givens with the point in force put in as settings (`at eta = 1/10` is
/// `given eta == 1/10`), for each name of the point that no given sets (the scoping rule
/// of docs/language.md: a name the claim's `given` sets takes the given's value). rule43,
/// probe43 r16: the rules engine read no `at`, and a claim true at its point was refuted
/// at eta = 8/11.
fn givens_at_point(claim: &ast::Claim, at: &[ast::Binding]) -> Vec<ast::Expr> {
    let sets = |name: &str| {
        claim.given.iter().any(|g| {
            matches!(g, ast::Expr::Rel(RelOp::Eq, l, _, _)
                if matches!(&**l, ast::Expr::Ref(r) if r.indices.is_none()
                    && print_name(&r.name) == name))
        })
    };
    let mut given = claim.given.clone();
    // `at` is the point in force, the claim's own `at` already put over the file's.
    for b in at {
        let n = &b.name.name;
        if sets(n)
            || given[claim.given.len()..].iter().any(|g| {
                matches!(g, ast::Expr::Rel(RelOp::Eq, l, _, _)
                if matches!(&**l, ast::Expr::Ref(r) if print_name(&r.name) == *n))
            })
        {
            continue;
        }
        let span = b.name.span;
        given.push(ast::Expr::Rel(
            RelOp::Eq,
            Box::new(ast::Expr::Ref(ast::Ref::plain(n, span))),
            Box::new(b.value.clone()),
            span,
        ));
    }
    given
}

/// [`decide`] with the program's rules already [`read`].
pub fn decide_read(
    claim: &ast::Claim,
    at: &[ast::Binding],
    read: &Read,
    env: &Env,
    seed: u64,
) -> Outcome {
    let given = givens_at_point(claim, at);
    let rules = &read.rules;
    let named = |n: &str| {
        let arg = |a: &ast::Expr| matches!(a, ast::Expr::Ref(r) if print_name(&r.name) == n);
        mentions_rule_named(&claim.body, n)
            || claim.given.iter().any(|g| mentions_rule_named(g, n))
            || matches!(&claim.body, ast::Expr::Call(c) if c.args.iter().any(arg))
    };
    if let Some((n, why)) = read.bad.iter().find(|(n, _)| named(n)) {
        return und(format!("rule `{n}`: {why}"));
    }
    let (names, sample) = (&read.names, &read.sample);
    match &claim.body {
        ast::Expr::Call(c) => {
            equivalence(c, claim, &given, rules, names, sample, &env.domains, seed)
        }
        ast::Expr::Rel(RelOp::Eq, l, r, _) => {
            let used: Vec<&LinearRule> = rules
                .iter()
                .filter(|r| {
                    mentions_rule_named(&claim.body, &r.name)
                        || claim.given.iter().any(|g| mentions_rule_named(g, &r.name))
                })
                .collect();
            if used.is_empty() {
                return und("the claim names no rule's sequence");
            }
            let var = used[0].var.clone();
            let run = || -> Result<Outcome, String> {
                let sys = system(&used)?;
                let mut g = read_givens(&given, names, &var)?;
                let ((a, b), conds) =
                    sym::collecting(|| (lower_claim(l, names, &var), lower_claim(r, names, &var)));
                let (a, b) = (a?, b?);
                g.conds.extend(conds);
                if reads_fixed_steps(&a) || reads_fixed_steps(&b) {
                    let label = format!("{} == {}", print_expr(l), print_expr(r));
                    return decide_fixed(&sys, &g, &a, &b, &label, &env.domains, seed);
                }
                let g = g.for_every_step()?;
                let sc = seq_claim(
                    sys,
                    &g,
                    &a,
                    &b,
                    format!("{} == {}", print_expr(l), print_expr(r)),
                )?;
                Ok(decide_seq(&sc, sample, &env.domains, seed))
            };
            run().unwrap_or_else(und)
        }
        _ => und("rule claims are equations or `equivalent(A, B)`"),
    }
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
