//! E0511 for givens on tensors that set a tensor from itself: `given W = 2 W`, `given
//! W = W`, `given W = U, U = W`, `given W = y` where y is computed from W, `given W[1] =
//! 2 W[1]`. The engines wrote such a given out in itself without end: a stack overflow
//! that aborted `tq check`, `derive`, `render`, `export`, `errata` and the language
//! server (probe36 h19). The settings of sizes, symbols and scalars have their own cycle
//! check ([`super::givens::resolve`]); this reads the givens that set tensors, whole or
//! by element, with what each right side reads through the statements that compute it.

use super::{family_key, Env};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_name, print_ref};
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// One given that sets a tensor: its family key, the reference as written, where, and
/// every tensor its value reads (through the statements that compute what it reads).
struct TensorSetting {
    key: String,
    target: String,
    span: Span,
    reach: BTreeSet<String>,
    /// The value reads the target itself at the element it sets (`W[1] = 2 W[1]`) or
    /// the whole tensor (`W[1] = W`), or through a computed tensor.
    own: bool,
}

pub(super) fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut reads: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    super::gradients::reads(&program.items, &mut reads);
    // What the declarations' distributions read, joined to `reads` once for the file
    // (perf42: built again for every claim, `tq check` of N claims was quadratic).
    let mut graph: Option<BTreeMap<String, BTreeSet<String>>> = None;
    for item in &program.items {
        let given: &[Expr] = match &item.kind {
            ItemKind::Claim(c) => &c.given,
            ItemKind::Derivation(d) => &d.given,
            _ => continue,
        };
        let settings: Vec<TensorSetting> = given
            .iter()
            .filter_map(|g| setting(g, env, &reads))
            .collect();
        if let Some(d) = cycle(&settings) {
            diags.push(d);
            continue;
        }
        if given.is_empty() {
            continue;
        }
        let followed = graph.get_or_insert_with(|| through_leaves_graph(&program.items, &reads));
        if let Some(d) = through_leaves(given, env, followed) {
            diags.push(d);
        }
    }
}

/// What [`through_leaves`] follows: the statements' reads (`reads`) and what each
/// declaration's distribution or value reads.
fn through_leaves_graph(
    items: &[Item],
    reads: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    fn decls(items: &[Item], out: &mut BTreeMap<String, BTreeSet<String>>) {
        for item in items {
            match &item.kind {
                ItemKind::Decl(d) => {
                    let set = out.entry(family_key(&d.target.name)).or_default();
                    let mut add = |e: &Expr| {
                        crate::syntax::visit::walk_refs(e, &mut |r| {
                            set.insert(family_key(&r.name));
                        })
                    };
                    match &d.init {
                        Some(Init::Dist(c)) => c.args.iter().for_each(&mut add),
                        Some(Init::Value(e)) => add(e),
                        None => {}
                    }
                }
                ItemKind::Loop(l) => decls(&l.body, out),
                _ => {}
            }
        }
    }
    let mut graph = reads.clone();
    decls(items, &mut graph);
    graph
}

/// `given s = x[0]^2 + 1` with `x ~ normal(0, s)`: a given that sets a symbol, size or
/// scalar from a tensor whose distribution (or the statements computing it) reads that
/// name. The setting reads itself through the model; it was left undecided ("the given
/// cannot be read", front37 open) where the other cycles are E0511.
fn through_leaves(
    given: &[Expr],
    env: &Env,
    graph: &BTreeMap<String, BTreeSet<String>>,
) -> Option<Diagnostic> {
    for g in given {
        let Expr::Rel(RelOp::Eq, l, r, span) = g else {
            continue;
        };
        let plain = |e: &Expr| match e {
            Expr::Ref(x)
                if x.indices.is_none()
                    && !x.grad
                    && env
                        .tensors
                        .get(&family_key(&x.name))
                        .is_none_or(|t| t.rank == 0) =>
            {
                let k = print_name(&x.name);
                (env.symbols.contains_key(&k)
                    || env.sizes.contains_key(&k)
                    || env.scalars.contains_key(&k))
                .then_some(k)
            }
            _ => None,
        };
        let Some((name, value)) = plain(l)
            .map(|n| (n, &**r))
            .or_else(|| plain(r).map(|n| (n, &**l)))
        else {
            continue;
        };
        // `given m[b,i] = p`: a tensor (or element) by itself on the other side is the
        // name set, to the symbol's value (an element's setting, E0512's business).
        if let Expr::Ref(t) = value {
            if env.tensors.contains_key(&family_key(&t.name)) {
                continue;
            }
        }
        // The tensors the value reads, and what they are computed or drawn from.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut frontier: Vec<String> = Vec::new();
        crate::syntax::visit::walk_refs(value, &mut |x| {
            let k = family_key(&x.name);
            if env.tensors.contains_key(&k) && seen.insert(k.clone()) {
                frontier.push(k);
            }
        });
        let mut through = None;
        while let Some(t) = frontier.pop() {
            for x in graph.get(&t).into_iter().flatten() {
                if *x == name && through.is_none() {
                    through = Some(t.clone());
                }
                if seen.insert(x.clone()) {
                    frontier.push(x.clone());
                }
            }
        }
        let Some(t) = through else {
            continue;
        };
        return Some(
            Diagnostic::error(
                "E0511",
                *span,
                format!("the given sets `{name}` from a value that reads `{t}`, which is drawn or computed from `{name}` itself"),
            )
            .with_label("this given reads what it sets")
            .with_hint(format!("set `{name}` to a number, or to values that do not depend on it (`given {name} = 2`); a relation between `{name}` and a sample of the model is a claim of its own")),
        );
    }
    None
}

/// The given as a setting of a tensor (`W = ...`, `W[j] = ...`, or `... = W`).
fn setting(
    g: &Expr,
    env: &Env,
    reads: &BTreeMap<String, BTreeSet<String>>,
) -> Option<TensorSetting> {
    let Expr::Rel(RelOp::Eq, l, r, span) = g else {
        return None;
    };
    let as_target = |e: &Expr| match e {
        Expr::Ref(t) => {
            let key = family_key(&t.name);
            let tensor = env
                .tensors
                .get(&key)
                .or_else(|| env.tensors.get(&print_name(&t.name)));
            tensor
                .is_some_and(|ti| ti.rank > 0)
                .then(|| (t.clone(), key))
        }
        _ => None,
    };
    let ((t, key), value) = as_target(l)
        .map(|x| (x, &**r))
        .or_else(|| as_target(r).map(|x| (x, &**l)))?;
    let mut direct: BTreeSet<String> = BTreeSet::new();
    let mut own = false;
    let written = print_ref(&t);
    crate::syntax::visit::walk_refs(value, &mut |x| {
        let k = family_key(&x.name);
        if k == key
            && x.grad == t.grad
            && (t.indices.is_none() || x.indices.is_none() || print_ref(x) == written)
        {
            own = true;
        }
        direct.insert(k);
    });
    // Through the statements: what the tensors read are computed from.
    let mut reach = BTreeSet::new();
    let mut frontier: Vec<String> = direct.iter().cloned().collect();
    while let Some(n) = frontier.pop() {
        if let Some(rs) = reads.get(&n) {
            for x in rs {
                if reach.insert(x.clone()) {
                    frontier.push(x.clone());
                }
            }
        }
    }
    own |= reach.contains(&key);
    if t.indices.is_none() {
        reach.extend(direct);
    } else {
        // An element set from another element of its own tensor (`g[j] = g[0]`) reads a
        // value the given does not set.
        reach.extend(direct.into_iter().filter(|k| *k != key));
    }
    Some(TensorSetting {
        key,
        target: written,
        span: *span,
        reach,
        own,
    })
}

/// The first setting that reads its own target, directly, through computed tensors or
/// through the other settings.
fn cycle(settings: &[TensorSetting]) -> Option<Diagnostic> {
    for s in settings {
        let mut seen: BTreeSet<&str> = s.reach.iter().map(String::as_str).collect();
        let mut frontier: Vec<&str> = seen.iter().copied().collect();
        while let Some(n) = frontier.pop() {
            for o in settings.iter().filter(|o| o.key == n) {
                for x in &o.reach {
                    if seen.insert(x.as_str()) {
                        frontier.push(x.as_str());
                    }
                }
            }
        }
        let through_others = settings.len() > 1 && seen.contains(s.key.as_str());
        if s.own || through_others {
            return Some(
                Diagnostic::error(
                    "E0511",
                    s.span,
                    if s.own {
                        format!(
                            "the given sets `{}` from a value that reads `{}` itself",
                            s.target, s.target
                        )
                    } else {
                        format!(
                            "the givens set `{}` from values that read it back through the other givens",
                            s.target
                        )
                    },
                )
                .with_label("this given reads what it sets")
                .with_hint("set a tensor from numbers or from other tensors that do not depend on it (`given U = 2 W`); a relation that only some values satisfy (`W = 2 W` holds at W = 0) is a claim of its own"),
            );
        }
    }
    None
}
