//! A `boundary` line that no reference needs (E0305, a warning).
//!
//! The boundary rule says what a read outside a tensor's extent gives; it applies only to
//! positions that can leave the extent: shifted, strided or dilated positions (`x+dx`,
//! `2y+DX`), positions along a loop variable (`h[b,t-1]`), fixed positions and lookups.
//! A file whose every reference, in its statements, claims, `includes` blocks, rules and
//! derivations, indexes each dimension with a plain index (`x`, `J`: one index,
//! coefficient 1, no offset, not a loop variable) never reads outside, so its
//! `boundary` line changes nothing: most likely the shifted read it was written for is
//! missing (`x[b, x]` where `x[b, x+dx]` was meant). The check is conservative: any
//! other position counts as a use.

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;

/// Warns on each `boundary` line of a program in which no reference can read outside.
pub fn check(program: &Program, diags: &mut Vec<Diagnostic>) {
    let lines: Vec<&Item> = program
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Boundary(_)))
        .collect();
    if lines.is_empty() || used(&program.items, &mut Vec::new()) {
        return;
    }
    for item in lines {
        let ItemKind::Boundary(b) = &item.kind else {
            continue;
        };
        let rule = match b {
            Boundary::Zero => "zero",
            Boundary::Circular => "circular",
            Boundary::Valid => "valid",
        };
        diags.push(
            Diagnostic::warning(
                "E0305",
                item.span,
                format!(
                    "`boundary {rule}` applies to no read: every position in this file is a plain index inside its dimension"
                ),
            )
            .with_label("no read can fall outside a tensor")
            .with_hint(
                "remove the line, or write the shifted read it was meant for (`x[b, x+dx]`, `h[b, t-1]`); a claim about another rule says `given boundary zero`",
            ),
        );
    }
}

/// Whether some reference of `items` can read outside (see the module comment).
/// `vars` holds the loop and rule variables in scope.
fn used<'a>(items: &'a [Item], vars: &mut Vec<&'a str>) -> bool {
    for item in items {
        let found = match &item.kind {
            ItemKind::Equation(eq) => {
                let mut refs = vec![&eq.lhs];
                walk_refs(&eq.rhs, &mut |r| refs.push(r));
                refs.iter().any(|r| may_leave(r, vars))
            }
            ItemKind::Loop(l) => {
                vars.push(&l.range.var.name);
                let u = used(&l.body, vars);
                vars.pop();
                u
            }
            ItemKind::ForIndices(f) => used(&f.body, vars),
            ItemKind::Rule(r) => {
                vars.push(&r.var.name);
                let u = used(&r.body, vars);
                vars.pop();
                u
            }
            ItemKind::Claim(c) => {
                let mut exprs = vec![&c.body];
                exprs.extend(&c.given);
                exprs_use(&exprs, vars) || c.includes.as_ref().is_some_and(|b| used(b, vars))
            }
            ItemKind::Derivation(d) => {
                let mut exprs = vec![&d.start];
                exprs.extend(&d.given);
                exprs.extend(d.steps.iter().map(|s| &s.expr));
                exprs_use(&exprs, vars)
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

fn exprs_use(exprs: &[&Expr], vars: &[&str]) -> bool {
    let mut any = false;
    for e in exprs {
        walk_refs(e, &mut |r| any |= may_leave(r, vars));
    }
    any
}

/// Whether one of `r`'s positions can fall outside its dimension.
fn may_leave(r: &Ref, vars: &[&str]) -> bool {
    r.indices.iter().flatten().any(|ix| {
        ix.plain_var()
            .is_none_or(|f| vars.contains(&f.name.as_str()))
    })
}
