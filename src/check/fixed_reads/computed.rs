//! E0215 for a computed tensor: a tensor that statements write only at fixed positions on
//! a dimension (`y[b,1] = 2 x[b]`) has those positions and no others there (docs/language.md:
//! the parts of one tensor may be defined separately at different fixed positions). A
//! read at another fixed position names no element the program computes: the run and
//! `tq emit` read it as 0 (docs/numeric.md, "What is run"), while the exact engines
//! dropped the left side's position and read y[b,0] as 2 x[b], so `y[0,0] == 2 x[0]`
//! was proved and `y[0,0] == 0` refuted (probe36 h11). Family members are the loops'
//! (E0506, E0802); a tensor with a declared start is the start rule's (E0401).

use super::super::env::{Env, TensorKind};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;
use std::collections::{BTreeMap, BTreeSet};

/// Per computed tensor and dimension, the fixed positions its statements write there, or
/// `None` when some statement writes that dimension at a position that moves.
type Written = BTreeMap<(String, usize), Option<BTreeSet<i64>>>;

fn note(items: &[Item], env: &Env, out: &mut Written) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if !eq.lhs.grad => {
                let key = env.key_of(&eq.lhs.name);
                for (k, ix) in eq.lhs.indices.iter().flatten().enumerate() {
                    let fixed = match ix {
                        IndexExpr::Affine(a) if a.terms.is_empty() => Some(a.constant),
                        _ => None,
                    };
                    let slot = out
                        .entry((key.clone(), k))
                        .or_insert_with(|| Some(BTreeSet::new()));
                    match fixed {
                        Some(c) => {
                            if let Some(set) = slot.as_mut() {
                                set.insert(c);
                            }
                        }
                        None => *slot = None,
                    }
                }
            }
            ItemKind::Loop(l) => note(&l.body, env, out),
            ItemKind::ForIndices(f) => note(&f.body, env, out),
            _ => {}
        }
    }
}

pub(super) fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut written = Written::new();
    note(&program.items, env, &mut written);
    let mut exprs = Vec::new();
    super::reads(&program.items, &mut exprs);
    let mut reported = BTreeSet::new();
    for e in exprs {
        walk_refs(e, &mut |r| {
            if r.grad {
                return;
            }
            let key = env.key_of(&r.name);
            let Some(t) = env.tensors.get(&key) else {
                return;
            };
            if t.kind != TensorKind::Computed || t.family_arity > 0 {
                return;
            }
            for (pos, ix) in r.indices.iter().flatten().enumerate() {
                let IndexExpr::Affine(a) = ix else { continue };
                if !a.terms.is_empty() {
                    continue;
                }
                let Some(Some(have)) = written.get(&(key.clone(), pos)) else {
                    continue;
                };
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
                    ("the only position", format!("is {list}"))
                } else {
                    ("the positions", format!("are {list}"))
                };
                diags.push(
                    Diagnostic::error(
                        "E0215",
                        a.span,
                        format!(
                            "`{key}` is read at position {} of dimension {}, which no statement writes: {its} its statements write there {only}",
                            a.constant,
                            pos + 1
                        ),
                    )
                    .with_label("no statement computes this element")
                    .with_hint(format!(
                        "a statement at a fixed position defines that position only: write position {} of `{key}` as well (a statement at that position, or one over an index of its dimension), or read `{key}` where it is written",
                        a.constant
                    )),
                );
            }
        });
    }
}
