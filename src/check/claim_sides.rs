//! An element claim states its relation for every value of its free indices, so both
//! sides range over the same ones. A side with an index the other side lacks, while the
//! other side has one of its own (`claim y[b,i] == 2 x[b,j]`) is a renamed or mistyped
//! index: E0809 at the index, not a refutation at a sampled element. A side that sums
//! the other side's index with its capital (`claim y[b,i] == 2 x[b,I]`) gets E0809 as a
//! warning (it may be meant: `claim m[b,i] == x[b,I] / I`), and the claim is decided. A side without the index at all
//! (`claim y[b,i] == 2 x[b,0]`, `claim y[b,i] == 0`) is a claim for every `i` and stays
//! a claim. Indices inside moments (`Var(x[b,i'])`), explicit sums and softmax are the
//! operator's own and are not compared; a name bound by the claim's `at` or `given` is
//! a value, not a free index.

use super::{Checker, Scope, CLAIM_FUNCTIONS};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_expr;

/// The indices one side of a claim ranges over, in source order: free lower-case
/// indices and summed capitals, each with its first place.
#[derive(Default)]
struct Side {
    free: Vec<Ident>,
    summed: Vec<Ident>,
    /// Indices bound inside the side (explicit sums, softmax).
    bound: Vec<String>,
}

impl Side {
    fn has(&self, name: &str) -> bool {
        self.free.iter().any(|i| i.name == name)
    }
}

impl Checker {
    /// E0809 for an element claim whose sides range over different free indices (see
    /// the module note). Returns whether it reported one (the claim's other index
    /// diagnostics, such as the size of the mistyped index, are then left out).
    pub(super) fn claim_sides(&mut self, c: &Claim, scope: &Scope) -> bool {
        let Expr::Rel(_, l, r, _) = &c.body else {
            return false;
        };
        let mut values: Vec<String> = c.at.iter().map(|b| b.name.name.clone()).collect();
        for g in &c.given {
            crate::syntax::visit::walk_refs(g, &mut |r| values.push(r.name.base.clone()));
        }
        let (left, right) = (self.side(l, scope, &values), self.side(r, scope, &values));
        let only = |a: &Side, b: &Side| -> Vec<Ident> {
            a.free.iter().filter(|i| !b.has(&i.name)).cloned().collect()
        };
        let (l_only, r_only) = (only(&left, &right), only(&right, &left));
        // A capital on one side whose lower case is free on the other only.
        let capital = |a: &Side, other_only: &[Ident]| -> Option<(Ident, Ident)> {
            a.summed.iter().find_map(|cap| {
                other_only
                    .iter()
                    .find(|i| i.name.trim_end_matches('\'').to_uppercase() == cap.name)
                    .map(|i| (cap.clone(), i.clone()))
            })
        };
        // A warning, not an error: the claim may mean what it says, a side that is the
        // same for every `i` (`claim m[b,i] == x[b,I] / I`: every element is the mean),
        // and is decided as written.
        let d = if let Some((cap, i)) = capital(&right, &l_only).or_else(|| capital(&left, &r_only))
        {
            Diagnostic::warning(
                "E0809",
                cap.span,
                format!(
                    "`{}` sums over its dimension, so this side of the claim has no index `{}` while the other side has",
                    cap.name, i.name
                ),
            )
            .with_label("summed here")
            .with_hint(format!(
                "if the element at `{}` is meant, write `{}` here; a claim that one side is the same for every `{}` (a sum, a mean) is decided as written",
                i.name, i.name, i.name
            ))
        } else if let (Some(a), Some(b)) = (l_only.first(), r_only.first()) {
            Diagnostic::error(
                "E0809",
                b.span,
                format!(
                    "the claim's index `{}` is on the right side only, and `{}` on the left side only",
                    b.name, a.name
                ),
            )
            .with_label("on this side only")
            .with_hint(format!(
                "an element claim holds for every value of its free indices, and both sides range over the same ones: write `{}` here if the same element is meant (or put `{}` on both sides)",
                a.name, b.name
            ))
        } else {
            return false;
        };
        self.err(d);
        true
    }

    /// The indices of one side of a claim, outside moments and other claim functions.
    fn side(&self, e: &Expr, scope: &Scope, values: &[String]) -> Side {
        let mut side = Side::default();
        let mut refs: Vec<&Ref> = Vec::new();
        walk_expr(e, |x| match x {
            Expr::Call(c) if CLAIM_FUNCTIONS.iter().any(|(n, _)| *n == c.func.name) => false,
            Expr::Sum(ids, ..) => {
                side.bound.extend(ids.iter().map(|i| i.name.clone()));
                true
            }
            Expr::Softmax(id, ..) => {
                side.bound.push(id.name.clone());
                true
            }
            Expr::Ref(r) => {
                refs.push(r);
                true
            }
            _ => true,
        });
        while let Some(r) = refs.pop() {
            if r.name.base.contains('.') {
                continue; // a rule's state (`A.v[t]`), indexed by the rule's step
            }
            let Some(ixs) = &r.indices else {
                // `[w == y[t]]`: a bare index read as a label.
                let key = &r.name.base;
                if r.name.sub.is_empty()
                    && !r.grad
                    && self.is_index_name(key, scope, values)
                    && key.starts_with(|c: char| c.is_ascii_lowercase())
                    && !self.env.tensors.contains_key(key)
                    && self.env.index_size(key).is_some()
                {
                    side.free.push(Ident {
                        name: key.clone(),
                        span: r.name.span,
                    });
                }
                continue;
            };
            for ix in ixs {
                match ix {
                    IndexExpr::Lookup(inner) => refs.push(inner),
                    IndexExpr::Affine(a) => {
                        for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                            if !self.is_index_name(&f.name, scope, values) {
                                continue;
                            }
                            if f.name.starts_with(|c: char| c.is_ascii_lowercase()) {
                                side.free.push(f.clone());
                            } else {
                                side.summed.push(f.clone());
                            }
                        }
                    }
                }
            }
        }
        // An index an explicit sum or a softmax binds is that operator's own.
        side.free.retain(|i| !side.bound.contains(&i.name));
        side.free.sort_by_key(|i| i.span.start);
        side.summed.sort_by_key(|i| i.span.start);
        side
    }

    /// Whether `name` in an index position is an index of the claim: not a loop's or a
    /// rule's variable, not a symbol or a scalar, not a value the claim binds.
    fn is_index_name(&self, name: &str, scope: &Scope, values: &[String]) -> bool {
        !(scope.is_loop_var(name)
            || self.loop_vars.contains(name)
            || self.env.symbols.contains_key(name)
            || self.env.scalars.contains_key(name)
            || values.iter().any(|v| v == name))
            && (name.starts_with(|c: char| c.is_ascii_lowercase())
                || self.env.sizes.contains_key(name)
                || self.env.index_capital(name).is_some())
    }
}
