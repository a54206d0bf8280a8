//! Definitions that contradict themselves: a tensor or scalar defined twice, or defined
//! although it is declared as an input (E0104), and a value read before any statement
//! has computed it: defined from itself, or two values defined from each other, without
//! a shift along a loop (E0105).
//!
//! Every statement that writes a value (a declaration, an equation) covers a region:
//! per family subscript and per position, the whole extent (a plain index `b`), one
//! fixed position (`0`), or a position along a loop (`t-1` in `for t in 1..T`, kept as
//! its text with the loop's range). Two regions surely overlap when every slot does (the
//! whole extent overlaps anything, equal fixed positions, equal loop texts); they may
//! overlap unless two fixed positions differ. Both checks only report sure overlaps, so
//! the legitimate multi-part definitions stay accepted: starts and recurrences (`input
//! h[B, 0, J]` with `h[b,t,j]` in a loop), constant family members beside the loop
//! (`h_0`, `h_{l+1}`), parts over different fixed positions, and accumulations (`=`
//! followed by `+=`/`-=`, or `+=` alone).

use super::members::Form;
use super::Checker;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_expr, print_index, print_name};
use crate::syntax::span::Span;
use std::collections::{HashMap, HashSet};

/// The positions in `writes` of each key's writes, in order: the checks below compare a
/// write with the others of its key only (a scan of every earlier write made 50,000
/// declarations or statements quadratic: 4 s and more than 20 s).
fn by_key<'w>(writes: &'w [Write]) -> HashMap<&'w str, Vec<usize>> {
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, w) in writes.iter().enumerate() {
        out.entry(w.key.as_str()).or_default().push(i);
    }
    out
}

fn article(what: &str) -> &'static str {
    if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// E0104 for an equation that defines a declared input, parameter, scalar input, symbol
/// or size (`p` the declaration, `w` the equation).
fn declared_and_defined(w: &Write, p: &Write, key: &str) -> Diagnostic {
    let WriteKind::Declared(what) = p.kind else {
        unreachable!("called for a declaration")
    };
    Diagnostic::error(
        "E0104",
        w.span,
        format!(
            "`{key}` is declared as {} {what} and also defined by an equation",
            article(what)
        ),
    )
    .with_label("defined here")
    .with_related(p.span, format!("declared as {} {what} here", article(what)))
    .with_hint(format!(
        "a declared {what} is not computed: rename the computed value or remove the declaration"
    ))
}

impl Checker {
    /// The first read of its own tensor `key` in `eq` a number of steps along an index of
    /// its left side (`h[b,t-1,J']` in `h[b,t,j] = ...`: `t`, -1), whose step `keep`
    /// accepts: the index, the step, the position as written and the read's span.
    fn own_step(
        &self,
        eq: &Equation,
        key: &str,
        keep: impl Fn(i64) -> bool,
    ) -> Option<(String, i64, String, Span)> {
        let lhs: Vec<Option<String>> = eq
            .lhs
            .indices
            .iter()
            .flatten()
            .map(|ix| ix.plain_var().map(|v| v.name.clone()))
            .collect();
        let mut found = None;
        super::walk_refs(&eq.rhs, &mut |r| {
            if found.is_some() || r.grad || self.key_of(&r.name) != key {
                return;
            }
            for (k, ix) in r.indices.iter().flatten().enumerate() {
                let (IndexExpr::Affine(a), Some(Some(var))) = (ix, lhs.get(k)) else {
                    continue;
                };
                let along = matches!(a.terms.as_slice(), [t] if t.coef == 1
                    && matches!(t.factors.as_slice(), [f] if f.name == *var));
                if along && a.constant != 0 && keep(a.constant) {
                    found = Some((var.clone(), a.constant, print_index(ix), r.span));
                    return;
                }
            }
        });
        found
    }

    /// E0105 for a recurrence that reads ahead along its own loop (`h[b,t+1,J']` in
    /// `for t in 1..T: h[b,t,j] = ...`): at every step it reads a step the loop computes
    /// later (0 in the numeric engines), and past the last step one it never computes.
    fn reads_ahead(&mut self, writes: &[Write]) {
        for w in writes {
            let (Some(eq), WriteKind::Set | WriteKind::Accumulate) = (w.eq, w.kind) else {
                continue;
            };
            let Some((var, ahead, shown, span)) = self.own_step(eq, &w.key, |c| c > 0) else {
                continue;
            };
            if !w.loops.iter().any(|l| l.var == var && !l.reverse) {
                continue;
            }
            let back = if ahead == 1 {
                format!("{var}-1")
            } else {
                format!("{var}-{ahead}")
            };
            let key = &w.key;
            self.err(
                Diagnostic::error(
                    "E0105",
                    span,
                    format!(
                        "`{key}` is read at `{shown}`, a step its loop computes after this one"
                    ),
                )
                .with_label("a step not computed yet")
                .with_related(w.span, format!("`{key}` at step `{var}` is computed here"))
                .with_hint(format!(
                    "a recurrence reads the steps before the one it computes: read `{key}` at `{back}`"
                )),
            );
        }
    }

    /// E0104 for a recurrence written without its loop: an equation outside every loop
    /// that reads its own tensor one or more steps back along an index of its left side
    /// (`h[b,t,j] = tanh(W[j,J'] h[b,t-1,J'])` beside `input h[B, 0, J]`). The hint writes
    /// the loop (`for t in 1..T:`, the statement indented under it).
    fn unlooped_step(&self, eq: &Equation, key: &str) -> Option<Diagnostic> {
        let (var, back, shown, span) = self.own_step(eq, key, |c| c < 0)?;
        let back = -back;
        let size = self
            .env
            .index_size(&var)
            .unwrap_or_else(|| var.to_uppercase());
        let head = format!("for {var} in {back}..{size}:");
        Some(
            Diagnostic::error(
                "E0104",
                eq.lhs.span,
                format!(
                    "`{key}` reads itself at `{shown}` but the statement is in no loop over `{var}`: it defines every position of `{key}` at once, the declared start among them"
                ),
            )
            .with_label("a recurrence outside its loop")
            .with_related(span, format!("the step before, at `{shown}`"))
            .with_hint(format!(
                "a recurrence runs step by step in a loop: write `{head}` on the line before and indent the statement under it"
            )),
        )
    }
}

/// One slot of a region: a family subscript or a position.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    /// A plain index: the whole extent.
    Full,
    /// A fixed position or constant subscript.
    Const(i64),
    /// A position along loop variables (or another index form), as text with the
    /// ranges of the loops it uses, and its smallest value when that is known (`t` in
    /// `for t in 1..T` is at least 1, `l+1` in `for l in 0..L-1` at least 1), and for a
    /// family subscript `v + c` along one loop whose ends are forms in the sizes, the
    /// members it writes (`l+1` in `for l in 0..L-1`: 1 to L).
    Text(String, Option<i64>, Option<Box<(Form, Form)>>),
}

/// A loop around a statement: its variable, its range as text, its first value when it
/// is a number.
#[derive(Clone, Debug)]
struct LoopCtx {
    var: String,
    range: String,
    from: Option<i64>,
    /// A loop that runs backwards (`reversed`), where a later step is computed first.
    reverse: bool,
    /// The ends as forms, when they are forms in the sizes (`0`, `L-1`).
    ends: Option<(Form, Form)>,
}

fn loop_ctx(r: &Range, reverse: bool, is_size: impl Fn(&str) -> bool) -> LoopCtx {
    let sized = |f: &Form| f.terms.keys().flatten().all(|n| is_size(n));
    LoopCtx {
        reverse,
        ends: Form::of_expr(&r.from)
            .zip(Form::of_expr(&r.to))
            .filter(|(a, b)| sized(a) && sized(b)),
        var: r.var.name.clone(),
        range: format!("{}..{}", print_expr(&r.from), print_expr(&r.to)),
        from: match &r.from {
            Expr::Num(t, _) => t.parse().ok(),
            _ => None,
        },
    }
}

fn sure(a: &[Slot], b: &[Slot]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Slot::Full, _) | (_, Slot::Full) => true,
            (Slot::Const(p), Slot::Const(q)) => p == q,
            (Slot::Text(p, ..), Slot::Text(q, ..)) => p == q,
            _ => false,
        })
}

/// Whether the member `a` lies in `lo..=hi` at every size.
fn inside(a: &Form, (lo, hi): &(Form, Form)) -> bool {
    let at_least = |x: Option<Form>| x.and_then(|f| f.least()).is_some_and(|v| v >= 0);
    at_least(a.minus(lo)) && at_least(hi.minus(a))
}

/// [`sure`], with the family members loops write compared as ranges: a constant member
/// inside a loop's members (`h_1` beside `for l in 0..L-1: h_{l+1}`), or past its first
/// member when its last grows with the sizes (`h_2` beside `for l in 1..L: h_l`), or two loops'
/// members one of which starts inside the other or lies within it (`for l in 0..K-1`
/// and `for l in 0..L-1`, or `1..L-1` inside `0..L-1`, both writing `h_{l+1}`). A loop
/// range is never empty (E0410), so its first member is always written.
fn sure_members(a: &[Slot], b: &[Slot]) -> bool {
    let at_least = |x: Option<Form>| x.and_then(|f| f.least()).is_some_and(|v| v >= 0);
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Slot::Const(k), Slot::Text(_, _, Some(r)))
            | (Slot::Text(_, _, Some(r)), Slot::Const(k)) => {
                // Inside the members at every size, or past the first member of a
                // loop whose last member grows with the sizes (`h_2` beside `for l in
                // 1..L: h_l`: the same member wherever L >= 2).
                let k = Form {
                    constant: *k,
                    ..Form::default()
                };
                inside(&k, r)
                    || (at_least(k.minus(&r.0))
                        && !r.1.terms.is_empty()
                        && r.1.terms.values().all(|c| *c >= 0))
            }
            (Slot::Text(_, _, Some(r1)), Slot::Text(_, _, Some(r2))) => {
                inside(&r2.0, r1)
                    || inside(&r1.0, r2)
                    || (at_least(r2.0.minus(&r1.0)) && at_least(r1.1.minus(&r2.1)))
                    || (at_least(r1.0.minus(&r2.0)) && at_least(r2.1.minus(&r1.1)))
            }
            _ => sure(std::slice::from_ref(x), std::slice::from_ref(y)),
        })
}

fn may(a: &[Slot], b: &[Slot]) -> bool {
    a.len() != b.len()
        || a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Slot::Const(p), Slot::Const(q)) => p == q,
            (Slot::Const(k), Slot::Text(_, Some(min), _))
            | (Slot::Text(_, Some(min), _), Slot::Const(k)) => k >= min,
            _ => true,
        })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum WriteKind {
    /// `param`, `input`, `scalar`, `symbol`, `size`.
    Declared(&'static str),
    Set,
    Accumulate,
}

struct Write<'a> {
    key: String,
    region: Vec<Slot>,
    kind: WriteKind,
    span: Span,
    /// The equation, for definitions.
    eq: Option<&'a Equation>,
    /// The loops around it.
    loops: Vec<LoopCtx>,
    /// The `for b,j:` block around it, by its span: its statements run element by
    /// element together.
    block: Option<Span>,
}

impl Checker {
    /// E0104 and E0105 over the whole program (claims and rules aside).
    pub(super) fn definitions(&mut self, items: &[Item]) {
        let mut writes: Vec<Write> = Vec::new();
        self.collect_writes(items, &mut Vec::new(), None, &mut writes);
        self.defined_twice(&writes);
        self.read_before_computed(&writes);
        self.reads_ahead(&writes);
        for item in items {
            if let ItemKind::Rule(r) = &item.kind {
                self.rule_defined_twice(r);
            }
        }
    }

    /// The slot of a position (`subscript` false) or of a family subscript (true: a plain
    /// size there, `h_L`, is one member, not every member).
    fn slot(&self, ix: &IndexExpr, loops: &[LoopCtx], subscript: bool) -> Slot {
        let IndexExpr::Affine(a) = ix else {
            return Slot::Text(print_index(ix), None, None);
        };
        if a.terms.is_empty() {
            return Slot::Const(a.constant);
        }
        let vars: Vec<&str> = a
            .terms
            .iter()
            .flat_map(|t| t.factors.iter())
            .map(|f| f.name.as_str())
            .collect();
        let in_loop: Vec<&LoopCtx> = loops
            .iter()
            .filter(|l| vars.contains(&l.var.as_str()))
            .collect();
        let plain = a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant == 0;
        if plain && in_loop.is_empty() && !self.loop_vars.contains(vars[0]) {
            if subscript {
                return Slot::Text(print_index(ix), None, None);
            }
            return Slot::Full;
        }
        // `v + c` along one loop starting at a number: its smallest value.
        let min = match (a.terms.as_slice(), in_loop.as_slice()) {
            ([t], [l]) if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == l.var => {
                l.from.map(|f| f + a.constant)
            }
            _ => None,
        };
        // A family subscript `v + c` along one loop with ends in the sizes: its members.
        let members = match (a.terms.as_slice(), in_loop.as_slice()) {
            ([t], [l])
                if subscript
                    && t.coef == 1
                    && t.factors.len() == 1
                    && t.factors[0].name == l.var =>
            {
                l.ends.as_ref().and_then(|(lo, hi)| {
                    let shift = |f: &Form| {
                        Some(Form {
                            terms: f.terms.clone(),
                            constant: f.constant.checked_add(a.constant)?,
                        })
                    };
                    Some(Box::new((shift(lo)?, shift(hi)?)))
                })
            }
            _ => None,
        };
        let mut text = print_index(ix);
        for l in in_loop {
            text.push_str(&format!(" {}∈{}", l.var, l.range));
        }
        Slot::Text(text, min, members)
    }

    fn region(&self, r: &Ref, loops: &[LoopCtx], family: bool) -> Vec<Slot> {
        let mut out = Vec::new();
        if family {
            out.extend(r.name.sub.iter().map(|ix| self.slot(ix, loops, true)));
        }
        out.extend(
            r.indices
                .iter()
                .flatten()
                .map(|ix| self.slot(ix, loops, false)),
        );
        out
    }

    fn is_family(&self, key: &str) -> bool {
        self.env
            .tensors
            .get(key)
            .is_some_and(|t| t.family_arity > 0)
    }

    fn collect_writes<'a>(
        &self,
        items: &'a [Item],
        loops: &mut Vec<LoopCtx>,
        block: Option<Span>,
        out: &mut Vec<Write<'a>>,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Size(ids) | ItemKind::Symbol(ids) | ItemKind::Scalar(ids) => {
                    let what = match &item.kind {
                        ItemKind::Size(_) => "size",
                        ItemKind::Symbol(_) => "symbol",
                        _ => "scalar input",
                    };
                    for id in ids {
                        out.push(Write {
                            key: id.name.clone(),
                            region: vec![],
                            kind: WriteKind::Declared(what),
                            span: id.span,
                            eq: None,
                            loops: loops.clone(),
                            block,
                        });
                    }
                }
                ItemKind::Decl(d) if d.kind != DeclKind::Grad => {
                    let key = self.key_of(&d.target.name);
                    let mut inner = loops.clone();
                    if let Some(r) = &d.family {
                        inner.push(loop_ctx(r, false, |n| self.env.sizes.contains_key(n)));
                    }
                    let region = self.region(&d.target, &inner, self.is_family(&key));
                    let what = if d.kind == DeclKind::Param {
                        "parameter"
                    } else {
                        "input"
                    };
                    out.push(Write {
                        key,
                        region,
                        kind: WriteKind::Declared(what),
                        span: d.target.span,
                        eq: None,
                        loops: inner,
                        block,
                    });
                }
                ItemKind::Equation(eq) if !eq.lhs.grad => {
                    let key = self.key_of(&eq.lhs.name);
                    let region = self.region(&eq.lhs, loops, self.is_family(&key));
                    out.push(Write {
                        key,
                        region,
                        kind: if eq.op == AssignOp::Set {
                            WriteKind::Set
                        } else {
                            WriteKind::Accumulate
                        },
                        span: eq.lhs.span,
                        eq: Some(eq),
                        loops: loops.clone(),
                        block,
                    });
                }
                ItemKind::Loop(l) => {
                    loops.push(loop_ctx(&l.range, l.reverse, |n| {
                        self.env.sizes.contains_key(n)
                    }));
                    self.collect_writes(&l.body, loops, block, out);
                    loops.pop();
                }
                ItemKind::ForIndices(f) => {
                    self.collect_writes(&f.body, loops, Some(item.span), out)
                }
                _ => {}
            }
        }
    }

    /// E0104: a definition that overlaps an earlier one (`=` after `=` or after `+=`), or
    /// a definition of a declared input, parameter, scalar input, symbol or size.
    fn defined_twice(&mut self, writes: &[Write]) {
        let keys = by_key(writes);
        for (i, w) in writes.iter().enumerate() {
            let same = keys.get(w.key.as_str()).map_or(&[][..], |v| &v[..]);
            for p in same.iter().take_while(|&&k| k < i).map(|&k| &writes[k]) {
                if !sure_members(&p.region, &w.region) {
                    continue;
                }
                let key = &w.key;
                let diag = match (p.kind, w.kind) {
                    // Declared twice: E0102, reported where declarations are read.
                    (WriteKind::Declared(_), WriteKind::Declared(_)) => continue,
                    // Contributions added to a value, or in place to a declared tensor.
                    (WriteKind::Accumulate, WriteKind::Accumulate)
                    | (WriteKind::Set, WriteKind::Accumulate)
                    | (WriteKind::Declared(_), WriteKind::Accumulate) => continue,
                    // `h[b,t,j] = f(h[b,t-1,j])` outside a loop, beside `input h[B, 0, J]`:
                    // a recurrence whose loop is missing (the equation alone defines every
                    // position at once, the start among them).
                    (WriteKind::Declared(_), WriteKind::Set) if w.loops.is_empty() => {
                        match w.eq.and_then(|eq| self.unlooped_step(eq, key)) {
                            Some(d) => {
                                if let Some(eq) = w.eq {
                                    self.unlooped.push(eq.rhs.span());
                                }
                                d
                            }
                            None => declared_and_defined(w, p, key),
                        }
                    }
                    (WriteKind::Declared(_), _) => declared_and_defined(w, p, key),
                    (_, WriteKind::Declared(what)) => Diagnostic::error(
                        "E0104",
                        w.span,
                        format!("`{key}` is defined by an equation and declared again as {} {what}", article(what)),
                    )
                    .with_label("declared here")
                    .with_related(p.span, "defined here")
                    .with_hint(format!(
                        "a declared {what} is not computed: rename the computed value or remove the declaration"
                    )),
                    (WriteKind::Accumulate, WriteKind::Set) => Diagnostic::error(
                        "E0104",
                        w.span,
                        format!("`{key}` is set here after contributions were added to it"),
                    )
                    .with_label("set again here")
                    .with_related(p.span, "contributions added here")
                    .with_hint("the `=` would discard what `+=` added: start with `=`, then add with `+=`"),
                    // Family members written by a loop and by another statement or
                    // loop (`h_1` beside `for l in 0..L-1: h_{l+1}`; probe36 h17: the
                    // later definition won silently).
                    (WriteKind::Set, WriteKind::Set) if !sure(&p.region, &w.region) => {
                        let name = |x: &Write| x.eq.map_or(key.clone(), |eq| print_name(&eq.lhs.name));
                        Diagnostic::error(
                            "E0104",
                            w.span,
                            format!(
                                "a member of `{key}` is defined twice: `{}` writes a member that `{}` already defines",
                                name(w),
                                name(p)
                            ),
                        )
                        .with_label("defined again here")
                        .with_related(p.span, "first defined here")
                        .with_hint("define each member once: start the loop after the members defined before it, or keep one of the two definitions")
                    }
                    (WriteKind::Set, WriteKind::Set) => Diagnostic::error(
                        "E0104",
                        w.span,
                        format!("`{key}` is defined twice"),
                    )
                    .with_label("defined again here")
                    .with_related(p.span, "first defined here")
                    .with_hint("keep one definition; add contributions with `+=`, or define the parts at different fixed positions or family members"),
                };
                self.err(diag);
                break;
            }
        }
    }

    /// E0105: a statement reads a computed value that no earlier statement wrote, and
    /// that this statement or a later one writes at the same position (the same
    /// iteration of every loop): a definition from itself without a shift.
    fn read_before_computed(&mut self, writes: &[Write]) {
        let keys = by_key(writes);
        for (i, w) in writes.iter().enumerate() {
            let Some(eq) = w.eq else { continue };
            let mut reads: Vec<&Ref> = Vec::new();
            super::walk_refs(&eq.rhs, &mut |r| reads.push(r));
            for r in reads {
                if r.grad {
                    continue;
                }
                let key = self.key_of(&r.name);
                let same = keys.get(key.as_str()).map_or(&[][..], |v| &v[..]);
                let computed = same.iter().any(|&k| writes[k].eq.is_some());
                if !computed {
                    continue;
                }
                let region = self.region(r, &w.loops, self.is_family(&key));
                let split = same.partition_point(|&k| k < i);
                if same[..split]
                    .iter()
                    .any(|&k| may(&writes[k].region, &region))
                {
                    // A declared tensor updated in place (`W += ...` after the forward
                    // pass read it) is read at its declared value: not reported.
                    let declared = same
                        .iter()
                        .any(|&k| matches!(writes[k].kind, WriteKind::Declared(_)));
                    if declared {
                        continue;
                    }
                    if let Some(d) = self.added_after_read(writes, &same[split..], r, &region, w) {
                        self.err(d);
                    }
                    continue;
                }
                let Some((j, later)) = same[split..]
                    .iter()
                    .map(|&k| (k, &writes[k]))
                    .find(|(_, x)| x.eq.is_some() && sure(&x.region, &region))
                else {
                    continue;
                };
                let shown = print_name(&r.name);
                let diag = if j == i {
                    Diagnostic::error(
                        "E0105",
                        r.span,
                        format!("`{shown}` is defined from itself without a shift"),
                    )
                    .with_label("reads the value this statement defines")
                    .with_related(w.span, "defined here")
                    .with_hint(if r.indices.is_none() && r.name.sub.is_empty() {
                        format!(
                            "a value cannot depend on itself: if `{shown}` is an input, declare it (`scalar {shown}`) and name the result differently (`{shown}' = ...`)"
                        )
                    } else {
                        format!(
                            "a value cannot depend on itself: a recurrence reads an earlier step along its loop (`{shown}[b,t-1,j]`, `{shown}_l`) and declares its start"
                        )
                    })
                } else {
                    let back = self.reads_through(writes, &keys, j, &w.key);
                    let msg = if back {
                        format!(
                            "`{}` is defined from itself through `{shown}`, without a shift",
                            print_name(&eq.lhs.name)
                        )
                    } else {
                        format!("`{shown}` is read before it is computed")
                    };
                    // The read is the mistake's place; the definition is where its
                    // value comes from.
                    Diagnostic::error("E0105", r.span, msg)
                        .with_label(format!("`{shown}` is read here, before it is computed"))
                        .with_related(later.span, format!("`{shown}` is computed here"))
                        .with_hint("compute a value before reading it; a recurrence reads an earlier step along its loop (`h[t-1]`, `L_l`) and declares its start")
                };
                self.err(diag);
            }
        }
    }

    /// E0105 for a read of a value that a later `+=`/`-=` outside the reader's loops
    /// adds to at the same elements (`z[b] = y[b]` before `y[b] += 1`): the reader sees
    /// the value before the contribution, and an author who meant the total got no word
    /// (probe36 h18). A running sum inside one loop (`s[b] += x[b,t]` read in the same
    /// loop, or a statement of the same `for b,j:` block, run element by element with it)
    /// is not reported, nor is a declared tensor updated in place.
    fn added_after_read(
        &self,
        writes: &[Write],
        later: &[usize],
        r: &Ref,
        region: &[Slot],
        w: &Write,
    ) -> Option<Diagnostic> {
        let same_loop = |a: &[LoopCtx], b: &[LoopCtx]| {
            a.iter()
                .any(|x| b.iter().any(|y| x.var == y.var && x.range == y.range))
        };
        let add = later.iter().map(|&k| &writes[k]).find(|x| {
            x.kind == WriteKind::Accumulate
                && !std::ptr::eq(*x, w)
                && sure_members(&x.region, region)
                && !same_loop(&x.loops, &w.loops)
                && !(x.block.is_some() && x.block == w.block)
        })?;
        let shown = print_name(&r.name);
        Some(
            Diagnostic::error(
                "E0105",
                r.span,
                format!("`{shown}` is read before a later statement adds to it"),
            )
            .with_label(format!("reads `{shown}` without what is added below"))
            .with_related(add.span, "added here, after the read")
            .with_hint(format!(
                "statements run in order, so this read misses the addition: move the `+=` above the read, or give the value after the addition a name of its own (`{shown}' = ...`)"
            )),
        )
    }

    /// Whether the statement `j` reads `key`, directly or through the values it reads
    /// (the definitions of a cycle).
    fn reads_through(
        &self,
        writes: &[Write],
        keys: &HashMap<&str, Vec<usize>>,
        j: usize,
        key: &str,
    ) -> bool {
        let reads_of = |w: &Write| -> Vec<String> {
            let mut out = Vec::new();
            if let Some(eq) = w.eq {
                super::walk_refs(&eq.rhs, &mut |x| {
                    if !x.grad {
                        out.push(self.key_of(&x.name));
                    }
                });
            }
            out
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack = reads_of(&writes[j]);
        while let Some(k) = stack.pop() {
            if k == key {
                return true;
            }
            if seen.contains(&k) {
                continue;
            }
            for &w in keys.get(k.as_str()).map_or(&[][..], |v| &v[..]) {
                stack.extend(reads_of(&writes[w]));
            }
            seen.insert(k);
        }
        false
    }

    /// Each state of a rule is updated once.
    fn rule_defined_twice(&mut self, r: &Rule) {
        let mut seen: Vec<(String, Span)> = Vec::new();
        for item in &r.body {
            if let ItemKind::Equation(eq) = &item.kind {
                let name = print_name(&eq.lhs.name);
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    let first = *first;
                    self.err(
                        Diagnostic::error(
                            "E0104",
                            eq.lhs.span,
                            format!("state `{name}` of rule `{}` is updated twice", r.name.name),
                        )
                        .with_label("updated again here")
                        .with_related(first, "first updated here")
                        .with_hint(format!(
                            "update each state once per step: write both changes in the first update (`{name}[t+1] = ...`), or give the second value a state of its own"
                        )),
                    );
                } else {
                    seen.push((name, eq.lhs.span));
                }
            }
        }
    }
}
