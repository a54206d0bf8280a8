//! E0105 for a leaf whose distribution (or declared value) reads the leaf itself:
//! directly (`input x[B] ~ normal(5 + 100 x[1], 1)`, `param Bv[J] = Bv[0] + 1`), through
//! values computed from it (`input x[B] ~ normal(y[0], 1)` with `y[b] = 2 x[b]`) or
//! through other leaves whose distributions read it (`x ~ normal(y[0], 1)`, `y ~
//! normal(x[0], 1)`). Such a model has no draw order: the numeric engines read the
//! leaf's own elements as 0 and confirmed claims about a model the docs call an error of
//! the run (probe36 h27), and the exact engines refuted a declared value's own relation
//! with a witness that broke it. A family leaf that reads an earlier member of its own
//! family (`input z_l ~ normal(z_{l-1}[0], 1) for l in 1..L`) is a chain, not a cycle:
//! families are compared member by member only when the member is written the same way.

use super::{family_key, Env};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A leaf's declaration: its key, its name as written, what its distribution or value
/// reads (key, name as written, span), and whether it is a value (`param W = ...`).
struct Leaf<'a> {
    key: String,
    name: String,
    reads: Vec<(String, &'a Ref)>,
    value: bool,
    span: Span,
}

fn leaves<'a>(items: &'a [Item], out: &mut Vec<Leaf<'a>>) {
    for item in items {
        match &item.kind {
            ItemKind::Decl(d) if d.kind != DeclKind::Grad => {
                let (exprs, value): (Vec<&Expr>, bool) = match &d.init {
                    Some(Init::Dist(c)) => (c.args.iter().collect(), false),
                    Some(Init::Value(e)) => (vec![e], true),
                    None => continue,
                };
                let mut reads = Vec::new();
                for e in exprs {
                    crate::syntax::visit::walk_refs(e, &mut |r| {
                        if !r.grad {
                            reads.push((family_key(&r.name), r));
                        }
                    });
                }
                out.push(Leaf {
                    key: family_key(&d.target.name),
                    name: print_name(&d.target.name),
                    reads,
                    value,
                    span: d.target.span,
                });
            }
            ItemKind::Loop(l) => leaves(&l.body, out),
            ItemKind::ForIndices(f) => leaves(&f.body, out),
            _ => {}
        }
    }
}

pub(super) fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    leaves(&program.items, &mut found);
    if found.is_empty() {
        return;
    }
    let family = |k: &str| env.tensors.get(k).is_some_and(|t| t.family_arity > 0);
    // What each value is computed from: the statements' reads and the leaves'
    // distributions. Families are left out (their members form chains, which this
    // graph, keyed by family, cannot tell from cycles).
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    super::gradients::reads(&program.items, &mut graph);
    for l in &found {
        graph
            .entry(l.key.clone())
            .or_default()
            .extend(l.reads.iter().map(|(k, _)| k.clone()));
    }
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(k) = todo.pop() {
            if family(&k) {
                continue;
            }
            for x in graph.get(&k).into_iter().flatten() {
                if seen.insert(x.clone()) {
                    todo.push(x.clone());
                }
            }
        }
        seen
    };
    let mut reported: Vec<String> = Vec::new();
    for l in &found {
        let what = if l.value { "value" } else { "distribution" };
        // Directly: the same member (or the same plain tensor).
        let own = l
            .reads
            .iter()
            .find(|(k, r)| *k == l.key && (!family(k) || print_name(&r.name) == l.name));
        let (r, msg) = if let Some((_, r)) = own {
            (
                *r,
                format!("the {what} of `{}` reads `{}` itself", l.name, l.name),
            )
        } else if family(&l.key) {
            continue;
        } else {
            // Through computed values or other leaves.
            let Some((k, r)) = l
                .reads
                .iter()
                .find(|(k, _)| *k != l.key && !family(k) && reach(k).contains(&l.key))
            else {
                continue;
            };
            // The same cycle seen from another of its leaves is reported once.
            if reported
                .iter()
                .any(|o| reach(o).contains(&l.key) && reach(&l.key).contains(o))
            {
                continue;
            }
            let via = print_name(&r.name);
            let how = if found.iter().any(|o| o.key == *k) {
                format!("another leaf whose distribution reads `{}`", l.name)
            } else {
                format!("a value computed from `{}`", l.name)
            };
            (
                *r,
                format!("the {what} of `{}` reads `{via}`, {how}", l.name),
            )
        };
        reported.push(l.key.clone());
        diags.push(
            Diagnostic::error("E0105", r.span, msg)
                .with_label("reads the leaf it declares")
                .with_related(l.span, "declared here")
                .with_hint(format!(
                    "a leaf is drawn after the values its {what} reads, so it cannot read `{}` or a value computed from it: read other leaves, sizes and symbols",
                    l.name
                )),
        );
    }
}
