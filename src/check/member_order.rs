//! E0812: a loop reads a member of a family that the same loop writes at a later
//! iteration (or later in the same iteration), in a model whose backward program tq
//! derives.
//!
//! `for l in 0..L-1: h_{l+1}[i] = h_l[i] + c h_M[i]` reads `h_M` at every iteration, but
//! `h_M` is written only at l = M - 1: until then the read is of a member not yet
//! computed (0 in a run), and afterwards of the written one. The derived backward
//! program adds every read's contribution to `h_M.grad`, including the reads before the
//! write, whose values never depended on what was written there, so `x.grad` came out
//! (1 + c) times too large while the gradient check of the file failed without a word
//! on why. A forward-only file (no loss, no `grad` line) may read such members; with a
//! backward program the read is refused here, at the read.
//!
//! Decided exactly for the member forms this check can place along the loop variable
//! `v`: a write `F_{v + C}` (C free of v) against a read `F_{v + R}` (read ahead when
//! `R - C > 0`, or `= 0` in an earlier statement of the body) or a read `F_{K}` free of
//! v (read before the write when `K - C` lies in the loop's range, or may: a symbol such
//! as `M` whose value tq does not know is reported). Members of other forms (`F_{2v}`,
//! two subscripts) are not placed and left alone.

use super::gradients::{loss_of, reads};
use super::member_range::{constant_gap, text};
use super::members::Form;
use super::{family_key, Env};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_expr, print_name};
use std::collections::{BTreeMap, BTreeSet};

/// The member of a one-subscript family reference, as an affine form.
fn member(n: &Name) -> Option<Form> {
    match n.sub.as_slice() {
        [IndexExpr::Affine(a)] => Form::of_affine(a),
        _ => None,
    }
}

/// `f` without its `v` term (`f` must have coefficient `coef` on `v` alone).
fn rest(f: &Form, v: &str) -> Form {
    let mut r = f.clone();
    r.terms.remove([v.to_string()].as_slice());
    r
}

/// The equations of a loop body in order, through `for` blocks (not nested loops, which
/// are checked on their own).
fn body<'a>(items: &'a [Item], out: &mut Vec<&'a Equation>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if !eq.lhs.grad => out.push(eq),
            ItemKind::ForIndices(f) => body(&f.body, out),
            _ => {}
        }
    }
}

/// Every loop of `items`, with its range.
fn loops<'a>(items: &'a [Item], out: &mut Vec<&'a Loop>) {
    for item in items {
        match &item.kind {
            ItemKind::Loop(l) => {
                out.push(l);
                loops(&l.body, out);
            }
            ItemKind::ForIndices(f) => loops(&f.body, out),
            _ => {}
        }
    }
}

pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    // Only where tq derives a backward program: from the `grad` lines, else the loss.
    let mut starts: Vec<String> = env.grad_seeds.iter().map(|(k, _)| k.clone()).collect();
    if starts.is_empty() {
        starts.extend(loss_of(&program.items, env).map(|n| family_key(&n)));
    }
    // Without a backward program a forward loop may read ahead (0 until written); a loop
    // that runs `reversed` is checked in every model (probe33/b b22: a forward recurrence
    // written `reversed` read every member before it was computed; the runs read 0 and
    // the moments engine the forward recurrence, with no error).
    let backward = !starts.is_empty();
    // The families the backward pass reaches.
    let mut graph = BTreeMap::new();
    reads(&program.items, &mut graph);
    let mut reached: BTreeSet<String> = starts.iter().cloned().collect();
    let mut todo = starts.clone();
    while let Some(k) = todo.pop() {
        for r in graph.get(&k).into_iter().flatten() {
            if reached.insert(r.clone()) {
                todo.push(r.clone());
            }
        }
    }
    let mut all = Vec::new();
    loops(&program.items, &mut all);
    let mut told: BTreeSet<(u32, u32)> = BTreeSet::new();
    for l in all {
        if !backward && !l.reverse {
            continue;
        }
        let v = l.range.var.name.as_str();
        let (Some(lo), Some(hi)) = (Form::of_expr(&l.range.from), Form::of_expr(&l.range.to))
        else {
            continue;
        };
        let mut eqs = Vec::new();
        body(&l.body, &mut eqs);
        // The writes along v: (position, family, C) for `F_{v + C}`.
        let writes: Vec<(usize, String, Form)> = eqs
            .iter()
            .enumerate()
            .filter(|(_, eq)| eq.op == AssignOp::Set)
            .filter_map(|(p, eq)| {
                let f = member(&eq.lhs.name)?;
                (f.coef(v) == 1 && f.terms.len() == rest(&f, v).terms.len() + 1)
                    .then(|| (p, family_key(&eq.lhs.name), rest(&f, v)))
            })
            .collect();
        if writes.is_empty() {
            continue;
        }
        for (p, eq) in eqs.iter().enumerate() {
            let mut refs: Vec<&Ref> = Vec::new();
            crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| refs.push(r));
            for r in refs {
                if r.grad || r.name.sub.is_empty() {
                    continue;
                }
                let key = family_key(&r.name);
                if !reached.contains(&key) && !l.reverse {
                    continue;
                }
                let Some(rf) = member(&r.name) else { continue };
                for (w, wkey, c) in &writes {
                    if *wkey != key {
                        continue;
                    }
                    // Read by the statement that writes it, at the same member: a
                    // definition from itself (E0105, in `defs.rs`).
                    if p == *w
                        && member(&eqs[*w].lhs.name)
                            .is_some_and(|wf| constant_gap(&rf, &wf) == Some(0))
                    {
                        continue;
                    }
                    let Some(when) = ahead(&rf, v, c, &lo, &hi, p <= *w, l.reverse) else {
                        continue;
                    };
                    let span = r.name.span;
                    if !told.insert((span.start, span.end)) {
                        continue;
                    }
                    let shown = print_name(&r.name);
                    let written_as = print_name(&eqs[*w].lhs.name);
                    if l.reverse {
                        diags.push(
                            Diagnostic::error(
                                "E0812",
                                span,
                                format!(
                                    "`{shown}` is read in the loop over `{v}` before the loop writes it: the loop runs `reversed`, from the last value down, and {when}; every run would read 0 there"
                                ),
                            )
                            .with_label("read before the loop computes it")
                            .with_related(eqs[*w].lhs.span, format!("`{written_as}` is written here"))
                            .with_hint(format!(
                                "a recurrence that computes `{written_as}` from earlier members runs forward: drop `reversed` (`for {v} in {}..{}:`); `reversed` is for a pass that computes a member from the one after it",
                                print_expr(&l.range.from),
                                print_expr(&l.range.to)
                            )),
                        );
                        continue;
                    }
                    diags.push(
                        Diagnostic::error(
                            "E0812",
                            span,
                            format!(
                                "`{shown}` is read in the loop over `{v}` before the loop writes it ({when}): tq cannot derive the backward program through this read"
                            ),
                        )
                        .with_label("read before the loop computes it")
                        .with_related(eqs[*w].lhs.span, format!("`{written_as}` is written here"))
                        .with_hint(format!(
                            "read a member the loop has already computed (`{}_{v}`, or a start defined before the loop such as `{}_{}`), or give the value read here a name of its own; a file without a loss or `grad` line may read it (it is 0 until written)",
                            key,
                            key,
                            print_expr(&l.range.from)
                        )),
                    );
                }
            }
        }
    }
}

/// When the read `r` at iteration v reads a member the write `F_{v + C}` produces at
/// the same or a later iteration (the same only when `same_first`: the read is in the
/// writing statement or an earlier one), the iterations as text; `None` when it never
/// does or the member cannot be placed.
#[allow(clippy::too_many_arguments)]
fn ahead(
    r: &Form,
    v: &str,
    c: &Form,
    lo: &Form,
    hi: &Form,
    same_first: bool,
    reverse: bool,
) -> Option<String> {
    match r.coef(v) {
        1 => {
            let rr = rest(r, v);
            if r.terms.len() != rr.terms.len() + 1 || rr.terms != c.terms {
                return None;
            }
            // Written at iteration v + gap: later when gap > 0, or, in a loop that runs
            // `reversed`, when gap < 0.
            let gap = rr.constant - c.constant;
            let gap = if reverse { -gap } else { gap };
            // The range must hold two iterations `gap` apart.
            let within = |g: i64| constant_gap(hi, lo).is_none_or(|n| g <= n);
            if gap > 0 && within(gap) {
                Some(if gap == 1 {
                    "it is written at the next iteration".to_string()
                } else {
                    format!("it is written {gap} iterations later")
                })
            } else {
                (gap == 0 && same_first)
                    .then(|| "it is written later in the same iteration".to_string())
            }
        }
        0 if r.terms.keys().all(|m| !m.iter().any(|x| x == v)) => {
            // Written at the one iteration k - C.
            let at = Form {
                terms: {
                    let mut t = r.terms.clone();
                    for (m, k) in &c.terms {
                        let e = t.entry(m.clone()).or_insert(0);
                        *e -= k;
                        if *e == 0 {
                            t.remove(m);
                        }
                    }
                    t
                },
                constant: r.constant - c.constant,
            };
            let from_lo = constant_gap(&at, lo);
            let to_hi = constant_gap(hi, &at);
            // The iteration that runs first: the last value in a `reversed` loop.
            let from_first = if reverse { to_hi } else { from_lo };
            let first = from_first == Some(0);
            let inside = match (from_lo, to_hi) {
                (Some(a), _) if a < 0 => false,
                (_, Some(b)) if b < 0 => false,
                _ if first => same_first,
                _ => true,
            };
            inside.then(|| {
                if first {
                    format!("it is written at {v} = {}", text(&at))
                } else {
                    format!(
                        "it is written at {v} = {}, and read at every iteration before",
                        text(&at)
                    )
                }
            })
        }
        _ => None,
    }
}
