//! E0808: a rule that reads a step other than the one it updates from (and E0813, a
//! rule that reads a rule's state by its qualified name, [`qualified`]).
//!
//! An update rule (`rule A over t:`) maps the states at step `t` to step `t+1`: each
//! update `x[t+1] = ...` reads the states at `t`, the states the rule has already
//! updated above it at `t+1`, and its inputs (the gradients `g`, names no update
//! writes) at `t`. Any other read — an input one step ahead (`g[t+1]`), a state two
//! steps back (`theta[t-1]`), a state at `t+1` before its update — is not a step of that
//! map: the rule engine cannot write it as a linear system, and the file was accepted
//! with its rule claims left undecided (or no word at all without claims). Each such
//! read is reported once, at its index; a rule whose updates themselves are written at
//! the wrong step (E0806) is not checked again.

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_name, print_ref};
use crate::syntax::visit::walk_refs;

/// The offset `k` of a position `var + k`.
fn offset<'a>(ix: &'a IndexExpr, var: &str) -> Option<(i64, &'a Affine)> {
    let IndexExpr::Affine(a) = ix else {
        return None;
    };
    match a.terms.as_slice() {
        [t] if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var => {
            Some((a.constant, a))
        }
        _ => None,
    }
}

fn step(var: &str, k: i64) -> String {
    match k {
        0 => var.to_string(),
        k if k < 0 => format!("{var}{k}"),
        k => format!("{var}+{k}"),
    }
}

/// Reports the reads of every rule of a program that are not at the step it reads.
pub fn check(program: &Program, diags: &mut Vec<Diagnostic>) {
    let rules: Vec<&str> = program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Rule(r) => Some(r.name.name.as_str()),
            _ => None,
        })
        .collect();
    for item in &program.items {
        if let ItemKind::Rule(r) = &item.kind {
            qualified(r, &rules, diags);
            rule(r, diags);
        }
    }
}

/// E0813: a rule that reads a rule's state by its qualified name (`B.w` inside `rule
/// A`). Inside a rule the names it reads are its states and its inputs; `B.w` there was
/// a free input of A, while the claims read it as B's state: a true claim was refuted
/// with a witness that broke rule B (probe36 h12). Rules are unrolled one by one, so a
/// rule cannot read another's state; its own state is read by its plain name.
fn qualified(r: &Rule, rules: &[&str], diags: &mut Vec<Diagnostic>) {
    for item in &r.body {
        let ItemKind::Equation(eq) = &item.kind else {
            continue;
        };
        let mut found: Option<Diagnostic> = None;
        walk_refs(&eq.rhs, &mut |rf| {
            if found.is_some() {
                return;
            }
            let Some((owner, state)) = rf.name.base.split_once('.') else {
                return;
            };
            if !rules.contains(&owner) {
                return;
            }
            let me = r.name.name.as_str();
            let d = if owner == me {
                Diagnostic::error(
                    "E0813",
                    rf.name.span,
                    format!("rule `{me}` names its own state `{state}` as `{owner}.{state}`"),
                )
                .with_label("a rule's own state")
                .with_hint(format!(
                    "inside its rule a state is read by its plain name: write `{state}` (`{owner}.{state}` names it outside the rule, in claims)"
                ))
            } else {
                Diagnostic::error(
                    "E0813",
                    rf.name.span,
                    format!(
                        "rule `{me}` reads `{owner}.{state}`, a state of rule `{owner}`: a rule reads only its own states and its inputs"
                    ),
                )
                .with_label("another rule's state")
                .with_hint(format!(
                    "rules are unrolled one by one: update `{state}` in rule `{me}` as well (one rule with both states), or read an input of its own (`g[{}]`) in its place",
                    r.var.name
                ))
            };
            found = Some(d);
        });
        diags.extend(found);
    }
}

fn rule(r: &Rule, diags: &mut Vec<Diagnostic>) {
    let var = r.var.name.as_str();
    let eqs: Vec<&Equation> = r
        .body
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Equation(eq) => Some(eq),
            _ => None,
        })
        .collect();
    // Every update written at `t+1` (else E0806 has the one mistake).
    let written_next = eqs.iter().all(|eq| {
        matches!(eq.lhs.indices.as_deref(), Some([ix]) if offset(ix, var).map(|(k, _)| k) == Some(1))
    });
    if !written_next {
        return;
    }
    let states: Vec<String> = eqs.iter().map(|eq| print_name(&eq.lhs.name)).collect();
    for (n, eq) in eqs.iter().enumerate() {
        let mut found: Option<Diagnostic> = None;
        walk_refs(&eq.rhs, &mut |rf| {
            if found.is_some() || rf.grad {
                return;
            }
            let Some([ix]) = rf.indices.as_deref() else {
                return;
            };
            let Some((k, a)) = offset(ix, var) else {
                return;
            };
            let x = print_name(&rf.name);
            let state = states.contains(&x);
            let updated_above = states[..n].contains(&x);
            let text = print_ref(rf);
            let (why, hint) = match (state, k) {
                (true, 0) | (false, 0) => return,
                (true, 1) if updated_above => return,
                (true, 1) => (
                    format!("`{x}` is updated below this line, so `{text}` is not computed yet"),
                    format!(
                        "read `{x}[{var}]`, or move the update of `{x}` above this line (the updates run in order)"
                    ),
                ),
                (false, _) => (
                    format!("`{x}` is an input of the rule, read at the current step `{x}[{var}]` only"),
                    format!(
                        "read `{x}[{var}]`: the update from `{var}` to `{var}+1` uses the input at `{var}`"
                    ),
                ),
                (true, _) => (
                    format!("a rule reads its states at `{var}` (and those already updated at `{var}+1`)"),
                    format!(
                        "keep the earlier value as a state of its own (`p[{var}+1] = {x}[{var}]`, then read `p[{var}]`)"
                    ),
                ),
            };
            found = Some(
                Diagnostic::error(
                    "E0808",
                    a.span,
                    format!(
                        "rule `{}` reads `{text}` at step `{}`: {why}",
                        r.name.name,
                        step(var, k)
                    ),
                )
                .with_label("a step the rule cannot read")
                .with_hint(hint),
            );
        });
        diags.extend(found);
    }
}
