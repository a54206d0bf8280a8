//! Reads of a declared tensor at a fixed position its declaration does not have (E0215,
//! session 31, probe31/d e26): an integer in a declaration's shape is a fixed position,
//! so `param a[1]` has one element, `a[1]`, and `a[0]` is no element of it. Before this
//! check nothing said so: the element-wise run read `a[0]` as 0, and the claim engine
//! took it as a free leaf, so `y[b] == a[0] x[b]` was proved and `a[0] == 0` refuted
//! with a value the model can never have.
//!
//! Only tensors that no statement writes are asked (a recurrence's declared start,
//! `input h[B, 0, J]`, has the loop's positions besides; those are the start rule's,
//! E0401): every read, in the statements, claims (body, givens, `includes` blocks),
//! update rules and derivations, at a plain integer on a dimension declared at fixed
//! positions must name one of them.

use super::env::{Env, TensorKind};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;
use std::collections::BTreeSet;

mod computed;

/// E0215 for each read at a fixed position a declared, never-written tensor lacks.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut written = BTreeSet::new();
    writes(&program.items, env, &mut written);
    computed::check(program, env, diags);
    let mut reported = BTreeSet::new();
    let mut exprs = Vec::new();
    reads(&program.items, &mut exprs);
    for e in exprs {
        walk_refs(e, &mut |r| {
            let key = env.key_of(&r.name);
            if written.contains(&key) {
                return;
            }
            let Some(t) = env.tensors.get(&key) else {
                return;
            };
            if t.kind == TensorKind::Computed {
                return;
            }
            for (pos, ix) in r.indices.iter().flatten().enumerate() {
                let IndexExpr::Affine(a) = ix else { continue };
                if !a.terms.is_empty() {
                    continue;
                }
                let Some(dim) = t.dims.get(pos) else { continue };
                if !dim.starts_with('@') {
                    continue;
                }
                let have: Vec<i64> = t
                    .start_positions
                    .iter()
                    .filter(|(p, _)| *p == pos)
                    .map(|(_, v)| *v)
                    .collect();
                if have.is_empty() || have.contains(&a.constant) {
                    continue;
                }
                if !reported.insert((a.span.start, a.span.end)) {
                    continue;
                }
                let list = have
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let (its, only) = if have.len() == 1 {
                    ("its only position", format!("is {list}"))
                } else {
                    ("its positions", format!("are {list}"))
                };
                let what = if r.grad {
                    format!("`{key}.grad`")
                } else {
                    format!("`{key}`")
                };
                diags.push(
                    Diagnostic::error(
                        "E0215",
                        a.span,
                        format!(
                            "{what} is read at position {} of dimension {}, which its declaration does not have: {its} there {only}",
                            a.constant,
                            pos + 1
                        ),
                    )
                    .with_label("no such element")
                    .with_related(
                        t.span,
                        format!("dimension {} declared at fixed position {list}", pos + 1),
                    )
                    .with_hint(format!(
                        "an integer in a declaration's shape is a fixed position, not an extent: `{key}`'s {} {only} on dimension {}; read it there, or declare the dimension with a size (`size K = {}` and `{key}[K]` for positions 0..K-1)",
                        if have.len() == 1 { "only position" } else { "positions" },
                        pos + 1,
                        have.iter().max().map_or(1, |m| m + 1),
                    )),
                );
            }
        });
    }
}

/// The tensors some statement writes (an equation's left side, anywhere).
fn writes(items: &[Item], env: &Env, out: &mut BTreeSet<String>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if !eq.lhs.grad => {
                out.insert(env.key_of(&eq.lhs.name));
            }
            ItemKind::Loop(l) => writes(&l.body, env, out),
            ItemKind::ForIndices(f) => writes(&f.body, env, out),
            ItemKind::Rule(r) => writes(&r.body, env, out),
            ItemKind::Claim(c) => writes(c.includes.as_deref().unwrap_or(&[]), env, out),
            _ => {}
        }
    }
}

/// Every expression that reads values: right sides, claims and their givens, `includes`
/// blocks.
fn reads<'p>(items: &'p [Item], out: &mut Vec<&'p Expr>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => out.push(&eq.rhs),
            ItemKind::Loop(l) => reads(&l.body, out),
            ItemKind::ForIndices(f) => reads(&f.body, out),
            ItemKind::Rule(r) => reads(&r.body, out),
            ItemKind::Claim(c) => {
                out.push(&c.body);
                out.extend(c.given.iter());
                reads(c.includes.as_deref().unwrap_or(&[]), out);
            }
            _ => {}
        }
    }
}
