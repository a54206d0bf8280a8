//! An Iverson bracket holds a relation (`[a > 0]`, `[k == lab[t]]`). A bracket around
//! anything else (`[a]`, `[a 0]`, `[[a > 0]]`) was accepted without a word, and the
//! engines then gave reasons that named a relation the file does not have ("an Iverson
//! bracket of an approximate relation (`~=`) has no exact value"): E0903.

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_expr;

/// Adds an E0903 for every Iverson bracket, in any statement, declaration, claim or
/// derivation, whose content is not a relation.
pub(super) fn check(items: &[Item], diags: &mut Vec<Diagnostic>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => expr(&eq.rhs, diags),
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Value(e)) => expr(e, diags),
                Some(Init::Dist(c)) => c.args.iter().for_each(|a| expr(a, diags)),
                None => {}
            },
            ItemKind::Loop(l) => check(&l.body, diags),
            ItemKind::ForIndices(f) => check(&f.body, diags),
            ItemKind::Rule(r) => check(&r.body, diags),
            ItemKind::Claim(c) => {
                expr(&c.body, diags);
                c.given.iter().for_each(|g| expr(g, diags));
                c.at.iter().for_each(|b| expr(&b.value, diags));
                if let Some(block) = &c.includes {
                    check(block, diags);
                }
            }
            ItemKind::Derivation(d) => {
                d.given.iter().for_each(|g| expr(g, diags));
                expr(&d.start, diags);
                d.steps.iter().for_each(|s| expr(&s.expr, diags));
            }
            ItemKind::At(bs) | ItemKind::Sample(bs) => {
                bs.iter().for_each(|b| expr(&b.value, diags));
            }
            _ => {}
        }
    }
}

/// The deepest nesting of softmaxes a statement or claim may have: `softmax_{k}(e)` is
/// written out as `exp(e) / sum_{k}(exp(e))`, `e` twice, so each level doubles what every
/// engine writes out (22 nested softmaxes, a fuzzed mutant of 2026-12-05: over 15 s and
/// 300-400 MB in every command, a hang in the campaign).
pub const MAX_SOFTMAX_DEPTH: usize = 8;

fn softmax_depth(e: &Expr) -> usize {
    let inner = crate::syntax::visit::children(e)
        .map(softmax_depth)
        .max()
        .unwrap_or(0);
    if matches!(e, Expr::Softmax(..)) {
        inner + 1
    } else {
        inner
    }
}

fn expr(e: &Expr, diags: &mut Vec<Diagnostic>) {
    let depth = softmax_depth(e);
    if depth > MAX_SOFTMAX_DEPTH {
        diags.push(
            Diagnostic::error(
                "E0003",
                e.span(),
                format!(
                    "softmaxes are nested {depth} deep here, more than {MAX_SOFTMAX_DEPTH}"
                ),
            )
            .with_label("nested too deep")
            .with_hint(
                "a softmax writes its argument twice (exp(e) / sum exp(e)), so each level doubles the work of every engine: compute the inner softmaxes in statements of their own",
            ),
        );
    }
    walk_expr(e, |x| {
        if let Expr::Iverson(inner, span) = x {
            if !matches!(&**inner, Expr::Rel(..)) {
                diags.push(
                    Diagnostic::error(
                        "E0903",
                        *span,
                        "an Iverson bracket holds a relation, and this one holds a value",
                    )
                    .with_label("not a relation")
                    .with_hint(
                        "`[a > 0]` is 1 where the relation holds and 0 elsewhere; write the relation meant (`[a != 0]` does not exist: `[a > 0] + [a < 0]`), or round brackets `( )` to group",
                    ),
                );
            }
        }
        true
    });
}
