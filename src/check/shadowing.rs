//! E0102: a name that the file would read two ways (probe38/h k11, k13).
//!
//! - A computed tensor named `E`, `Var` or `Cov` (`Var[b] = 3 x[b]`): wherever such a
//!   tensor is read, `Var[0]` is parsed as the moment `Var([0])` of an Iverson bracket,
//!   so `claim Var[0] == 0` was proved of a value that is never 0. A declared tensor
//!   with these names has had the diagnostic since probe 30d (`declare.rs`); its first
//!   equation had none.
//! - A loop variable (or a family declaration's variable, or a rule's variable) with the
//!   name of a declared index, a symbol, a scalar or a size; or with the name of the
//!   index a size implies (`j` of `size J`) where it is read at an index position in a
//!   way the two readings disagree on: the moments engine read `j` in `h_{j+1}[b,j]` as
//!   the index over `J` (every position), the runs as the loop's value (one position),
//!   and a claim false for the runs was proved. The seeds' recurrence
//!   `for t in 1..T: h[b,t,j] = ... h[b,t-1,j]` (the loop over the size `T` of the
//!   position it reads, no family subscript in `t`) stays one reading and is accepted.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::walk_refs;
use std::collections::BTreeSet;

/// The names the claim language reads as a moment when an index list follows them.
const MOMENTS: [&str; 3] = ["E", "Var", "Cov"];

/// Adds an E0102 for every computed tensor named like a moment (at its first equation)
/// and every loop, family or rule variable that shadows another name.
pub(super) fn check(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut declared = BTreeSet::new();
    declared_tensors(items, &mut declared);
    let mut reported = BTreeSet::new();
    walk(items, env, &declared, &mut reported, &mut Vec::new(), diags);
}

fn declared_tensors(items: &[Item], out: &mut BTreeSet<String>) {
    for item in items {
        match &item.kind {
            ItemKind::Decl(d) => {
                out.insert(d.target.name.base.clone());
            }
            ItemKind::Loop(l) => declared_tensors(&l.body, out),
            ItemKind::ForIndices(f) => declared_tensors(&f.body, out),
            _ => {}
        }
    }
}

fn walk(
    items: &[Item],
    env: &Env,
    declared: &BTreeSet<String>,
    reported: &mut BTreeSet<String>,
    loops: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => moment_named(&eq.lhs, declared, reported, diags),
            ItemKind::Loop(l) => {
                let var = &l.range.var;
                if let Some(d) = shadowed(var, "loop variable", env, loops)
                    .or_else(|| implied_index(l, env, loops))
                {
                    diags.push(d);
                }
                loops.push(var.name.clone());
                walk(&l.body, env, declared, reported, loops, diags);
                loops.pop();
            }
            ItemKind::ForIndices(f) => walk(&f.body, env, declared, reported, loops, diags),
            ItemKind::Decl(d) => {
                if let Some(r) = &d.family {
                    if let Some(diag) = shadowed(&r.var, "family variable", env, loops) {
                        diags.push(diag);
                    }
                }
            }
            ItemKind::Rule(r) => {
                if let Some(diag) = shadowed(&r.var, "rule variable", env, loops) {
                    diags.push(diag);
                }
                loops.push(r.var.name.clone());
                walk(&r.body, env, declared, reported, loops, diags);
                loops.pop();
            }
            _ => {}
        }
    }
}

/// `Var[b] = ...`: a computed tensor whose reads are moments. Reported once per name,
/// at its first equation; a declared one has its declaration's diagnostic.
fn moment_named(
    lhs: &Ref,
    declared: &BTreeSet<String>,
    reported: &mut BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let n = &lhs.name;
    let plain = n.primes == 0 && n.sup.is_empty() && n.sub.is_empty();
    if lhs.grad
        || lhs.indices.is_none()
        || !plain
        || !MOMENTS.contains(&n.base.as_str())
        || declared.contains(&n.base)
        || !reported.insert(n.base.clone())
    {
        return;
    }
    diags.push(
        Diagnostic::error(
            "E0102",
            n.span,
            format!(
                "`{}` is tq's name for a moment and cannot name a tensor",
                n.base
            ),
        )
        .with_label("a reserved name")
        .with_hint(format!(
            "`{0}[...]` is read as the moment `{0}(...)` wherever it is written (in a claim, `{0}[0]` is the {1} of the number 0, not an element of this tensor): give the tensor another name (`{0}m`, `{0}2`)",
            n.base,
            match n.base.as_str() {
                "E" => "mean",
                "Var" => "variance",
                _ => "covariance",
            }
        )),
    );
}

/// A loop, family or rule variable named like a declared index, a symbol, a scalar or a
/// size: one name, two values in the loop's statements.
fn shadowed(var: &Ident, what: &str, env: &Env, loops: &[String]) -> Option<Diagnostic> {
    let name = var.name.as_str();
    let (is, first) = if let Some(info) = env.indices.get(name) {
        (format!("an index over `{}`", info.size), Some(info.span))
    } else if let Some(is) = builtin(name) {
        // `for pi in 0..L-1:` / `for e in ...`: the subscripts read the loop's value and
        // the statements' values the constant (probe39/h l01: `h_{pi+1} = h_pi + pi`
        // added 3.14159... at every step); `for E in ...`: a claim's `E(h_2)` was read
        // as a claim over the loop variable.
        (is.to_string(), None)
    } else {
        let kind = env.kind_of(name)?;
        let first = match kind {
            "size" => env.sizes.get(name),
            "symbol" => env.symbols.get(name),
            "scalar" => env.scalars.get(name),
            _ => return None,
        };
        (format!("a {kind}"), first.copied())
    };
    let mut d = Diagnostic::error(
        "E0102",
        var.span,
        format!(
            "{what} `{name}` is already {is}: the statements it governs would read `{name}` two ways (the engines disagreed on which)"
        ),
    )
    .with_label(format!("a {what} named like {is}"))
    .with_hint(rename_hint(name, what, env, loops));
    if let Some(sp) = first {
        d = d.with_related(sp, "declared here");
    }
    Some(d)
}

/// What a built-in name is, for a variable that would shadow it.
fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "pi" => Some("the constant π"),
        "e" => Some("Euler's number e"),
        "E" => Some("the mean operator `E`"),
        "Var" => Some("the variance operator `Var`"),
        "Cov" => Some("the covariance operator `Cov`"),
        _ => None,
    }
}

/// `for j in 0..L-1:` beside `size J`: `j` also names the index over `J`. Reported
/// where the loop reads `j` at an index position and also numbers a family member
/// written or read in the loop with it (`h_{j+1}[b,j]`).
fn implied_index(l: &Loop, env: &Env, loops: &[String]) -> Option<Diagnostic> {
    let var = &l.range.var;
    let name = var.name.as_str();
    if env.indices.contains_key(name) || name.contains('\'') {
        return None;
    }
    let size = name.to_uppercase();
    if size == name || !env.sizes.contains_key(&size) {
        return None;
    }
    let (mut at_position, mut in_subscript) = (false, false);
    refs_in(&l.body, &mut |r| {
        let reads = |ixs: &[IndexExpr]| ixs.iter().any(|ix| names_var(ix, name));
        at_position |= r.indices.as_deref().is_some_and(reads);
        in_subscript |= reads(&r.name.sub);
    });
    // A loop that reads `j` at positions only (`for t in 1..L: h[b,t] = h[b,t-1] + ...`,
    // tests/diagnostics.rs) is the loop's reading in every engine; a family member
    // numbered by `j` and read at `j` is the two readings.
    if !(at_position && in_subscript) {
        return None;
    }
    let why = format!("it numbers a family member and is read at an index position, where `{name}` is also the index over `{size}`");
    Some(
        Diagnostic::error(
            "E0102",
            var.span,
            format!(
                "loop variable `{name}` is already the index over `{size}`: {why}, so the statements of the loop would be read two ways (one position per step, or every position)"
            ),
        )
        .with_label("a loop variable named like an index")
        .with_related(env.sizes[&size], "the size whose index is named so")
        .with_hint(rename_hint(name, "loop variable", env, loops)),
    )
}

/// Whether an index expression names `var` as one of its factors.
fn names_var(ix: &IndexExpr, var: &str) -> bool {
    match ix {
        IndexExpr::Affine(a) => a
            .terms
            .iter()
            .any(|t| t.factors.iter().any(|f| f.name == var)),
        IndexExpr::Lookup(r) => r
            .indices
            .iter()
            .flatten()
            .chain(&r.name.sub)
            .any(|ix| names_var(ix, var)),
    }
}

/// Every reference the statements of a block write or read, nested blocks included.
fn refs_in<'a>(items: &'a [Item], f: &mut dyn FnMut(&'a Ref)) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                f(&eq.lhs);
                walk_refs(&eq.rhs, f);
            }
            ItemKind::Loop(l) => refs_in(&l.body, f),
            ItemKind::ForIndices(fi) => refs_in(&fi.body, f),
            _ => {}
        }
    }
}

/// The hint: a free name for the variable, one no index, size, symbol, scalar or
/// enclosing loop has.
fn rename_hint(name: &str, what: &str, env: &Env, loops: &[String]) -> String {
    let free = ["l", "k", "m", "s", "r", "q", "u", "v", "p"]
        .into_iter()
        .map(str::to_string)
        .chain((2..100).map(|k| format!("{name}{k}")))
        .find(|c| {
            c != name
                && env.index_size(c).is_none()
                && env.kind_of(c).is_none()
                && !loops.contains(c)
        })
        .unwrap_or_else(|| format!("{name}2"));
    match builtin(name) {
        Some(is) => format!(
            "rename the {what} and its uses inside (`{free}` is free): `{name}` is {is} wherever a value reads it"
        ),
        None => format!(
            "rename the {what} and its uses inside (`{free}` is free), or rename the other `{name}`; a name is one thing in a file"
        ),
    }
}
