//! E0805: a gradient the backward pass cannot have.
//!
//! - `grad x ~ normal(0, 1)` states the gradient arriving at `x` from the layers after
//!   it; on a tensor no statement computes (an `input`, a `param`, a family's declared
//!   start) nothing arrives: the backward pass would start at a leaf and derive nothing.
//!   The gradient of a leaf is derived, not declared: the claim names `x.grad`.
//! - A claim about `T.grad` in a file with neither a loss (a scalar defined by an
//!   equation: the last one is the loss) nor a `grad` declaration: the backward pass
//!   has no start, and the claim was left undecided without a word.

use super::{family_key, Env};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::{BTreeMap, BTreeSet};

/// The family keys and printed names that equations of the forward program write,
/// recursively through blocks.
pub(super) fn written(items: &[Item], out: &mut BTreeSet<String>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                out.insert(family_key(&eq.lhs.name));
                out.insert(print_name(&eq.lhs.name));
            }
            ItemKind::Loop(l) => written(&l.body, out),
            ItemKind::ForIndices(f) => written(&f.body, out),
            _ => {}
        }
    }
}

/// The loss: the key of the last scalar an equation defines (at the top level or in a
/// block), the start of the backward pass when the file has no `grad` line. The whole
/// name is the value's: `loss'`, `loss_2`, `loss_{reg}` and `L^{tot}` are values of
/// their own, not `loss` or `L` (probe39/h l07: the base letters alone were taken, and
/// the regularized loss's gradient was proved to be the unregularized one). A member of
/// a family (`s_{t+1}` in a loop) is not a loss. The backward program keys it by
/// [`Env::key_of`], the checks' read graphs by [`family_key`].
pub(crate) fn loss_of(items: &[Item], env: &Env) -> Option<Name> {
    let mut defs = Vec::new();
    scalar_defs(items, env, &mut defs);
    defs.pop()
}

/// The last tensor the forward program writes at the top level or in a loop (the
/// output a `grad` declaration names), as written.
fn last_output(items: &[Item]) -> Option<String> {
    items.iter().rev().find_map(|item| match &item.kind {
        ItemKind::Equation(eq) if !eq.lhs.grad => Some(print_name(&eq.lhs.name)),
        ItemKind::Loop(l) => last_output(&l.body),
        ItemKind::ForIndices(f) => last_output(&f.body),
        _ => None,
    })
}

/// The first gradient a claim reads, in its relation or, for `claim backprop
/// includes:`, in the statements of its block (either side).
fn first_grad(c: &Claim) -> Option<(String, crate::span::Span)> {
    let mut first = None;
    let mut see = |r: &Ref| {
        if r.grad && first.is_none() {
            first = Some((print_name(&r.name), r.span));
        }
    };
    crate::syntax::visit::walk_refs(&c.body, &mut see);
    fn block(items: &[Item], see: &mut dyn FnMut(&Ref)) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    crate::syntax::visit::walk_ref(&eq.lhs, see);
                    crate::syntax::visit::walk_refs(&eq.rhs, see);
                }
                ItemKind::Loop(l) => block(&l.body, see),
                ItemKind::ForIndices(f) => block(&f.body, see),
                _ => {}
            }
        }
    }
    if let Some(items) = &c.includes {
        block(items, &mut see);
    }
    first
}

/// The family keys each forward equation's value reads, by the key it writes
/// (recursively through loops and `for` blocks).
pub(super) fn reads(items: &[Item], out: &mut BTreeMap<String, BTreeSet<String>>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if !eq.lhs.grad => {
                let set = out.entry(family_key(&eq.lhs.name)).or_default();
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| {
                    set.insert(family_key(&r.name));
                });
            }
            ItemKind::Loop(l) => reads(&l.body, out),
            ItemKind::ForIndices(f) => reads(&f.body, out),
            _ => {}
        }
    }
}

/// E0807: a claim about the gradient of a tensor the backward pass never reaches (the
/// loss, or the output a `grad` line names, does not read it, directly or through the
/// values it reads): that gradient is 0 everywhere and tq derives no statement for it,
/// so the claim was left undecided without a word.
/// `shown`: the starts as the messages name them (`loss_2`, whose graph key is `loss`).
fn unreached(
    program: &Program,
    env: &Env,
    starts: &[String],
    shown: &[String],
    diags: &mut Vec<Diagnostic>,
) {
    let mut graph = BTreeMap::new();
    reads(&program.items, &mut graph);
    let mut reached: BTreeSet<String> = starts.iter().cloned().collect();
    let mut todo: Vec<String> = starts.to_vec();
    while let Some(k) = todo.pop() {
        for r in graph.get(&k).into_iter().flatten() {
            if reached.insert(r.clone()) {
                todo.push(r.clone());
            }
        }
    }
    let start_text = shown
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut told = BTreeSet::new();
    for item in &program.items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        let mut found = None;
        let mut see = |r: &Ref| {
            let key = family_key(&r.name);
            if r.grad
                && found.is_none()
                && (env.tensors.contains_key(&key) || graph.contains_key(&key))
                && !reached.contains(&key)
            {
                found = Some((print_name(&r.name), key, r.span));
            }
        };
        crate::syntax::visit::walk_refs(&c.body, &mut see);
        let Some((name, key, span)) = found else {
            continue;
        };
        if !told.insert(key) {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                "E0807",
                span,
                format!(
                    "the backward pass starts at {start_text}, which does not read `{name}`: `{name}.grad` is 0 everywhere and tq derives no statement for it"
                ),
            )
            .with_label("a gradient the loss does not reach")
            .with_hint(format!(
                "claim the gradient of a tensor {start_text} reads, or make {start_text} read `{name}` (the backward pass reaches only what it reads, directly or through other values); a claim that the gradient is 0 is left undecided"
            )),
        );
    }
}

/// `grad h ~ normal(0, 1)` on a tensor declared by its start (`input h[B, 0, J]`) and
/// computed past it by a loop (`for t in 1..T-1: h[b,t,j] = ...`): the declaration's
/// extent is the start's, so the gradient would arrive at the start alone, an input, and
/// reach nothing (probe36 b10: every gradient claim read 0, and the gradient check
/// passed vacuously). E0805 at the `grad` line, with the line that seeds the computed
/// steps.
fn start_only(program: &Program, grad: &Decl, member: &str, diags: &mut Vec<Diagnostic>) {
    let start = program.items.iter().find_map(|item| match &item.kind {
        ItemKind::Decl(d) if d.kind != DeclKind::Grad && print_name(&d.target.name) == member => {
            let idx = d.target.indices.as_ref()?;
            let fixed = idx
                .iter()
                .position(|ix| matches!(ix, IndexExpr::Affine(a) if a.terms.is_empty()))?;
            Some((d, idx, fixed))
        }
        _ => None,
    });
    let Some((d, idx, fixed)) = start else {
        return;
    };
    let written = crate::syntax::printer::print_ref(&d.target);
    // The line that seeds the steps a loop computes: the loop's variable in place of the
    // fixed position, and the loop's range.
    let looped = program.items.iter().find_map(|item| match &item.kind {
        ItemKind::Loop(l) if wrote(&l.body, member) => Some(l),
        _ => None,
    });
    let suggestion = looped.map(|l| {
        let dims: Vec<String> = idx
            .iter()
            .enumerate()
            .map(|(k, ix)| {
                if k == fixed {
                    l.range.var.name.clone()
                } else {
                    crate::syntax::printer::print_index(ix)
                }
            })
            .collect();
        format!(
            "`grad {member}[{}] ~ normal(0, 1) for {}`",
            dims.join(", "),
            crate::syntax::printer::print_range(&l.range)
        )
    });
    diags.push(
        Diagnostic::error(
            "E0805",
            grad.target.span,
            format!(
                "`grad {member}` takes the extent of `{written}`, the declared start of `{member}`: the gradient would arrive at the start alone, an input, and reach nothing"
            ),
        )
        .with_label("only the declared start")
        .with_hint(match suggestion {
            Some(line) => format!(
                "state the gradient arriving at the steps the loop computes: {line}"
            ),
            None => format!(
                "state the gradient arriving at the positions of `{member}` that statements compute, with their indices and the loop's range"
            ),
        }),
    );
}

/// Whether a statement of `items` (through blocks) writes `member`.
fn wrote(items: &[Item], member: &str) -> bool {
    items.iter().any(|item| match &item.kind {
        ItemKind::Equation(eq) => !eq.lhs.grad && print_name(&eq.lhs.name) == member,
        ItemKind::Loop(l) => wrote(&l.body, member),
        ItemKind::ForIndices(f) => wrote(&f.body, member),
        _ => false,
    })
}

/// `failed`: a line failed to parse (it may have been the loss): the backward pass's
/// start is then not looked for.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>, failed: bool) {
    let mut computed = BTreeSet::new();
    written(&program.items, &mut computed);
    let loss_name = loss_of(&program.items, env);
    let loss = loss_name.as_ref().map(family_key);
    let loss_shown = loss_name.as_ref().map(print_name);
    let output = last_output(&program.items);
    let declared: BTreeSet<String> = program
        .items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Decl(d) if d.kind != DeclKind::Grad => Some(print_name(&d.target.name)),
            _ => None,
        })
        .collect();
    let mut seeds = 0;
    for item in &program.items {
        let ItemKind::Decl(d) = &item.kind else {
            continue;
        };
        if d.kind != DeclKind::Grad {
            continue;
        }
        seeds += 1;
        let n = &d.target.name;
        let member = print_name(n);
        let key = family_key(n);
        if !env.tensors.contains_key(&key) && !env.tensors.contains_key(&member) {
            continue;
        }
        // A leaf: declared as an input or a parameter (or a family's start) by that
        // very name, or a tensor no equation writes at all.
        let leaf =
            (declared.contains(&member) && !computed.contains(&member)) || !computed.contains(&key);
        if !leaf {
            if d.target.indices.is_none() {
                start_only(program, d, &member, diags);
            }
            continue;
        }
        let hint = match (&loss_shown, &output) {
            (Some(loss), _) => format!(
                "the backward pass starts at the loss `{loss}` (the last scalar defined) and derives `{member}.grad` from it: delete this line and write claims about `{member}.grad`"
            ),
            (None, Some(o)) if *o != member => format!(
                "`grad` states the gradient that arrives at a computed tensor from the layers after it: name the model's output (`grad {o} ~ normal(0, 1)`); `{member}.grad` is then derived"
            ),
            _ => format!(
                "`grad` states the gradient that arrives at a computed tensor from the layers after it; define a scalar loss instead, and `{member}.grad` is derived"
            ),
        };
        diags.push(
            Diagnostic::error(
                "E0805",
                n.span,
                format!(
                    "`grad {member}` declares the gradient arriving at `{member}`, but no statement computes `{member}`"
                ),
            )
            .with_label("a leaf of the model")
            .with_hint(hint),
        );
    }
    if failed {
        return;
    }
    if seeds > 0 || loss.is_some() {
        let mut starts: Vec<String> = program
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Decl(d) if d.kind == DeclKind::Grad => Some(family_key(&d.target.name)),
                _ => None,
            })
            .collect();
        let mut shown = starts.clone();
        if seeds == 0 {
            starts.extend(loss.clone());
            shown.extend(loss_shown.clone());
            shadowed_loss(program, env, diags);
        }
        unreached(program, env, &starts, &shown, diags);
        return;
    }
    // No start for the backward pass: the first claim that reads a gradient.
    for item in &program.items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        let Some((name, span)) = first_grad(c) else {
            continue;
        };
        let seed = match &output {
            Some(o) => format!("`grad {o} ~ normal(0, 1)`"),
            None => "`grad y ~ normal(0, 1)` for the output `y`".to_string(),
        };
        diags.push(
            Diagnostic::error(
                "E0805",
                span,
                format!(
                    "the claim reads `{name}.grad`, but the file has no loss and no `grad` declaration: the backward pass has no start"
                ),
            )
            .with_label("a gradient of nothing")
            .with_hint(format!(
                "define a scalar loss after the model (`loss = sum_{{b}}(y[b]^2)`: the last scalar defined is the loss), or state the gradient arriving at the output: {seed}"
            )),
        );
        return;
    }
}

/// The scalars equations define where [`loss_of`] looks, in order.
fn scalar_defs(items: &[Item], env: &Env, out: &mut Vec<Name>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq)
                if eq.lhs.indices.is_none()
                    && !eq.lhs.grad
                    && env
                        .tensor_of(&eq.lhs.name)
                        .is_none_or(|t| t.family_arity == 0) =>
            {
                out.push(eq.lhs.name.clone())
            }
            ItemKind::Loop(l) => scalar_defs(&l.body, env, out),
            ItemKind::ForIndices(f) => scalar_defs(&f.body, env, out),
            _ => {}
        }
    }
}

/// E0814 (fix42, probe42 r16): the last scalar defined is the loss, so a helper value
/// defined after `Loss` for another claim (`nrm = sum_{b}(w[b]^2)`) silently became the
/// start of the backward pass, and a true claim about the gradient of `Loss` was refuted
/// with no word. Warned when a scalar named as a loss (`loss`, `Loss`, `L`, ...) is
/// defined, a later scalar whose name is not a loss's is the start, and a claim reads a
/// gradient.
fn shadowed_loss(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let loss_like = |n: &Name| {
        let b = n.base.to_lowercase();
        b.starts_with("loss") || n.base == "L"
    };
    if !program.items.iter().any(|item| match &item.kind {
        ItemKind::Claim(c) => first_grad(c).is_some(),
        _ => false,
    }) {
        return;
    }
    let mut defs = Vec::new();
    scalar_defs(&program.items, env, &mut defs);
    let Some(start) = defs.last() else {
        return;
    };
    if loss_like(start) {
        return;
    }
    let Some(named) = defs.iter().rev().find(|n| loss_like(n)) else {
        return;
    };
    let (start_shown, named_shown) = (print_name(start), print_name(named));
    if start_shown == named_shown {
        return;
    }
    diags.push(
        Diagnostic::warning(
            "E0814",
            start.span,
            format!(
                "`{start_shown}` is the last scalar defined, so the backward pass starts at `{start_shown}`, not at `{named_shown}`: every `.grad` is a gradient of `{start_shown}`"
            ),
        )
        .with_label("the start of the backward pass")
        .with_related(named.span, "defined here, before it")
        .with_hint(format!(
            "the loss is the last scalar defined: move `{start_shown}` above `{named_shown}`, or, if `{start_shown}` is the loss, name it so"
        )),
    );
}
