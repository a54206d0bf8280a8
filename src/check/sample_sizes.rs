//! A size or symbol without a value for the Monte Carlo run (E0414, a warning).
//!
//! A claim about a moment (`E`, `Var`, `Cov`) is checked by Monte Carlo, which runs the
//! model at the `sample` values (docs/numeric.md); the run needs a value for every size
//! of the model. A size with no value on a `sample` or `at` line (nor in the claim's own
//! `given`/`at`) leaves every such claim's Monte Carlo check undecided ("the model cannot
//! be run"), which the report otherwise shows only under each claim. Sizes fixed or
//! derived by a value (`size L = 3`, `size Y = X - DX + 1`) take theirs from it. A file
//! without a `sample` line asks for no numeric run and is not told.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::visit::walk_expr;
use std::collections::BTreeSet;

/// The moments a claim may ask Monte Carlo for.
const MOMENTS: [&str; 3] = ["E", "Var", "Cov"];

/// Warns once per size that a Monte Carlo claim needs and no line gives a value.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut valued: BTreeSet<&str> = BTreeSet::new();
    let mut sample_line: Option<Span> = None;
    let mut claims: Vec<(&Claim, Span)> = Vec::new();
    for item in &program.items {
        match &item.kind {
            ItemKind::Sample(bs) => {
                sample_line.get_or_insert(item.span);
                valued.extend(bs.iter().map(|b| b.name.name.as_str()));
            }
            ItemKind::At(bs) => valued.extend(bs.iter().map(|b| b.name.name.as_str())),
            ItemKind::SizeValue { name, .. } => {
                valued.insert(name.name.as_str());
            }
            ItemKind::Claim(c) if c.includes.is_none() && about_moments(&c.body) => {
                claims.push((c, item.span));
            }
            _ => {}
        }
    }
    // A file without a `sample` line is one whose author asks for no numeric run (the
    // exact engines decide its claims; Monte Carlo says it has no values): only a file
    // that samples and leaves a size out is told.
    let Some(line) = sample_line else { return };
    if claims.is_empty() {
        return;
    }
    // A derived size, and a size one is derived from, without a value is E0412's (the
    // derived size cannot be computed at the sample values; its hint gives the values).
    let mut derived: BTreeSet<String> = env.derived_sizes.iter().map(|(n, _)| n.clone()).collect();
    for (_, value) in &env.derived_sizes {
        crate::syntax::visit::walk_refs(value, &mut |r| {
            if !r.name.sub.is_empty() {
                return;
            }
            let base = r.name.base.as_str();
            if env.sizes.contains_key(base) {
                derived.insert(base.to_string());
            } else if let Some(size) = env.index_size(&base.to_lowercase()) {
                // An index's capital (`DX`) reads its size (`D`).
                derived.insert(size);
            }
        });
    }
    for (size, span) in &env.sizes {
        if valued.contains(size.as_str()) || derived.contains(size.as_str()) {
            continue;
        }
        // A member of a per-member size (`N_1`) missing from a `sample` line is E0413's.
        if size.contains('_') {
            continue;
        }
        // The first Monte Carlo claim that does not set the size itself.
        let Some((_, claim)) = claims.iter().find(|(c, _)| !sets(c, size)) else {
            continue;
        };
        let d = Diagnostic::warning(
            "E0414",
            *span,
            format!(
                "size `{size}` has no `sample` value: the Monte Carlo check of the claims about moments cannot run the model"
            ),
        )
        .with_label("no sample value")
        .with_related(*claim, "a claim about a moment, checked by Monte Carlo at the sample values")
        .with_related(line, "the sample line")
        .with_hint(format!(
            "add it to the `sample` line (`{size} = 4`, a small whole number the run can afford)"
        ));
        diags.push(d);
    }
    // A symbol the model reads (a distribution's parameter, an equation) with no value:
    // the run would have nothing to read, so every such Monte Carlo check is undecided.
    let mut read: BTreeSet<&str> = BTreeSet::new();
    model_symbols(&program.items, env, &mut read);
    for (symbol, span) in &env.symbols {
        if valued.contains(symbol.as_str()) || !read.contains(symbol.as_str()) {
            continue;
        }
        // A claim whose givens mention the symbol at all (`given b <= min(g)`) treats it
        // as a parameter of its own; the others need a value to run.
        let Some((_, claim)) = claims.iter().find(|(c, _)| !mentions(c, symbol)) else {
            continue;
        };
        diags.push(
            Diagnostic::warning(
                "E0414",
                *span,
                format!(
                    "symbol `{symbol}` has no `sample` value: the Monte Carlo check of the claims about moments cannot run the model"
                ),
            )
            .with_label("no sample value")
            .with_related(*claim, "a claim about a moment, checked by Monte Carlo at the sample values")
            .with_related(line, "the sample line")
            .with_hint(format!(
                "add it to the `sample` line (`{symbol} = 1/2`, any value in its domain), or set it in the claim's givens"
            )),
        );
    }
}

/// Whether a claim's `given` or `at` names `symbol`.
fn mentions(c: &Claim, symbol: &str) -> bool {
    let mut found = c.at.iter().any(|b| b.name.name == symbol);
    for g in &c.given {
        crate::syntax::visit::walk_refs(g, &mut |r| {
            found |= r.indices.is_none() && r.name.sub.is_empty() && r.name.base == symbol;
        });
    }
    found
}

/// The symbols the model's declarations and statements read.
fn model_symbols<'a>(items: &'a [Item], env: &Env, out: &mut BTreeSet<&'a str>) {
    let refs = |e: &'a Expr, out: &mut BTreeSet<&'a str>| {
        crate::syntax::visit::walk_refs(e, &mut |r| {
            if r.indices.is_none()
                && r.name.sub.is_empty()
                && env.symbols.contains_key(&r.name.base)
            {
                out.insert(r.name.base.as_str());
            }
        })
    };
    for item in items {
        match &item.kind {
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Dist(c)) => c.args.iter().for_each(|a| refs(a, out)),
                Some(Init::Value(e)) => refs(e, out),
                None => {}
            },
            ItemKind::Equation(eq) => refs(&eq.rhs, out),
            ItemKind::Loop(l) => model_symbols(&l.body, env, out),
            ItemKind::ForIndices(f) => model_symbols(&f.body, env, out),
            _ => {}
        }
    }
}

/// Whether a claim's body asks for `E`, `Var` or `Cov`.
fn about_moments(body: &Expr) -> bool {
    let mut found = false;
    walk_expr(body, |e| {
        if let Expr::Call(c) = e {
            found |= MOMENTS.contains(&c.func.name.as_str());
        }
        !found
    });
    found
}

/// Whether a claim's own `given` or `at` sets `size` to a value.
fn sets(c: &Claim, size: &str) -> bool {
    c.at.iter().any(|b| b.name.name == size)
        || c.given.iter().any(|g| {
            let named = |e: &Expr| {
                matches!(e, Expr::Ref(r) if r.indices.is_none() && r.name.sub.is_empty() && r.name.base == size)
            };
            // `s = ...`, or a power of it (`s^2 = 1/D`).
            matches!(g, Expr::Rel(RelOp::Eq, l, _, _)
                if named(l) || matches!(&**l, Expr::Binary(BinOp::Pow, b, _, _) if named(b)))
        })
}
