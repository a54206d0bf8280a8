//! Expressions as sums of terms: the indices of each product term, function
//! arguments as their own scopes, and scalar expressions.

use super::functions::{functions_hint, known_functions_hint, softmax_fix, spelled_function};
use super::{function_arity, walk_refs, Checker, Kind, Scope, TermIndices, CLAIM_FUNCTIONS};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::BTreeSet;

impl Checker {
    /// The additive terms of an expression with their indices; checks every access and
    /// function on the way. Function arguments are their own summation scopes.
    pub(super) fn expr_terms(&mut self, e: &Expr, scope: &Scope) -> Vec<TermIndices> {
        match e {
            Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
                let mut v = self.expr_terms(l, scope);
                v.extend(self.expr_terms(r, scope));
                v
            }
            Expr::Unary(UnOp::Neg, x, _) => self.expr_terms(x, scope),
            _ => {
                let t = self.term(e, scope);
                // A summed capital beside a free index of the same letter (`W[i,I] h[I]`)
                // is the seeds' notation: I sums over a copy of i, so it is accepted.
                vec![t]
            }
        }
    }

    /// The indices of one product term (all its factors together).
    pub(super) fn term(&mut self, e: &Expr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        match e {
            Expr::Num(..) => {}
            Expr::Ref(r) => {
                if r.indices.is_some() {
                    out = self.access(r, scope);
                } else {
                    let key = self.key_of(&r.name);
                    self.check_family_subscripts(&r.name, scope);
                    // A bare index may be primed: `[k == k']` compares two indices of
                    // `Jac[t,k,k']` (the softmax Jacobian; it was E0101, "`k'` is not
                    // declared", though `k'` indexes the left side).
                    let plain = !r.grad && r.name.sub.is_empty() && r.name.sup.is_empty();
                    match self.env.tensors.get(&key) {
                        // `[w == w[t]]`: a bare index whose name is also a tensor's is the index.
                        Some(t) if t.rank > 0 && plain && self.env.index_size(&key).is_some() => {
                            out.free.insert(key.clone(), r.span);
                        }
                        Some(t) if t.rank > 0 => {
                            let rank = t.rank;
                            self.rank_error(&key, rank, 0, r.span);
                        }
                        Some(_) => {}
                        // `[w == y[t]]`: a bare lower-case index is the index, whatever
                        // the label tensor is called.
                        None if plain
                            && !self.is_scalar_name(&key, scope)
                            && is_bare_index(&r.name.base)
                            && self.env.index_size(&key).is_some() =>
                        {
                            out.free.insert(key.clone(), r.span);
                        }
                        None => {
                            if !self.is_scalar_name(&key, scope) {
                                self.undeclared(r, &key);
                            }
                        }
                    }
                }
            }
            Expr::Unary(_, x, _) => out = self.term(x, scope),
            Expr::Binary(_, l, r, _) => {
                // Sums inside a product belong to the product's scope.
                for side in [l, r] {
                    let ts = self.flat_terms(side, scope);
                    out.free.extend(ts.free);
                    out.summed.extend(ts.summed);
                    out.in_call.extend(ts.in_call);
                }
            }
            // A function's argument is its own summation scope (a capital inside sums
            // there), but its free indices are the term's: `Loss += -ln(P[b, lab[b]])`
            // and `y[b] = exp(x[b,k])` left `b`, `k` free on the right with no E0203
            // (session 33), and the engines read `x[0,k]` as an atom of its own.
            Expr::Call(c) => {
                let free = self.function(c, scope);
                out.in_call.extend(free.keys().cloned());
                out.free.extend(free);
            }
            Expr::Softmax(id, x, span) => {
                let inner = self.expr_terms(x, scope);
                let occurs = inner.iter().any(|t| t.free.contains_key(&id.name));
                if !occurs {
                    // One diagnostic: the index the author meant is one of the
                    // argument's free indices (no E0201 or E0203 for the stray one).
                    let mut free: Vec<&String> = inner.iter().flat_map(|t| t.free.keys()).collect();
                    free.sort();
                    free.dedup();
                    let low = id.name.to_lowercase();
                    let fix = softmax_fix(x, Some(&id.name));
                    let hint = match free.as_slice() {
                        // `softmax_{i}(s[b,I])`: the argument sums the index away.
                        _ if matches!(fix, Some((_, Some(_)))) => {
                            let (text, cap) = fix.unwrap_or_default();
                            format!(
                                "`{}` in the argument is summed before the softmax sees it (a capital sums): write the index in lower case, `{text}`",
                                cap.unwrap_or_default()
                            )
                        }
                        // `softmax_{K}(s[t,k])`: the index is named in lower case.
                        fs if low != id.name && fs.iter().any(|f| **f == low) => format!(
                            "the softmax index is the free index of the argument, in lower case: write `softmax_{{{low}}}(...)` (a capital sums, and the softmax takes its own sum over `{low}`)"
                        ),
                        [] => "the softmax index must be a free index of the argument, e.g. `softmax_{w}(s[t,w])`".to_string(),
                        fs => format!(
                            "the softmax index must be a free index of the argument ({}): e.g. `softmax_{{{}}}(...)`",
                            fs.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                            fs[fs.len() - 1]
                        ),
                    };
                    self.err(
                        Diagnostic::error(
                            "E0207",
                            id.span,
                            format!(
                                "softmax over `{}`, which does not occur in its argument",
                                id.name
                            ),
                        )
                        .with_label("softmax index")
                        .with_hint(hint),
                    );
                }
                let _ = span;
                for t in inner {
                    out.free.extend(t.free);
                }
                if occurs {
                    self.index_needs_size(id, "softmax");
                    out.free.insert(id.name.clone(), id.span);
                }
            }
            Expr::Sum(ids, x, _) => {
                let inner = self.expr_terms(x, scope);
                let bound: BTreeSet<&String> = ids.iter().map(|i| &i.name).collect();
                for id in ids {
                    self.index_needs_size(id, "summed");
                }
                for t in inner {
                    for (k, v) in t.free {
                        if !bound.contains(&k) {
                            out.free.insert(k, v);
                        }
                    }
                }
            }
            Expr::Iverson(x, _) => {
                self.label_comparison(x);
                for t in self.expr_terms(x, scope) {
                    out.free.extend(t.free);
                }
            }
            Expr::Rel(_, l, r, _) => {
                for side in [l, r] {
                    for t in self.expr_terms(side, scope) {
                        out.free.extend(t.free);
                    }
                }
            }
            Expr::Deriv(..) => {}
        }
        out
    }

    /// `[k == lab[t]]`: an index compared with a tensor's element, which must be a label
    /// (integer-valued, `~ categorical(K)`): a real-valued element equals an index with
    /// probability 0, and the bracket would be 0 everywhere (E0209).
    fn label_comparison(&mut self, x: &Expr) {
        let Expr::Rel(RelOp::Eq, l, r, _) = x else {
            return;
        };
        for (a, b) in [(l, r), (r, l)] {
            let (Expr::Ref(ix), Expr::Ref(t)) = (&**a, &**b) else {
                continue;
            };
            if ix.indices.is_some() || t.indices.is_none() || t.grad {
                continue;
            }
            let name = print_name(&ix.name);
            if self.index_size(&name).is_none() {
                continue;
            }
            let key = self.key_of(&t.name);
            let size = self.index_size(&name).unwrap_or_default();
            if self
                .env
                .tensors
                .get(&key)
                .is_some_and(|d| !d.is_int && !matches!(d.kind, super::env::TensorKind::Computed))
            {
                self.err(
                    Diagnostic::error(
                        "E0209",
                        t.span,
                        format!("`{key}` is compared with the index `{name}` but is not integer-valued"),
                    )
                    .with_label("not a label")
                    .with_hint(format!(
                        "an index equals a label: declare `{key}` with `~ categorical({size})` (`input {key}[...] ~ categorical({size})`)"
                    )),
                );
                return;
            }
        }
    }

    /// All indices of an expression as one scope (used for sums inside products).
    pub(super) fn flat_terms(&mut self, e: &Expr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        for t in self.expr_terms_noscope(e, scope) {
            out.free.extend(t.free);
            out.summed.extend(t.summed);
            out.in_call.extend(t.in_call);
        }
        out
    }

    pub(super) fn expr_terms_noscope(&mut self, e: &Expr, scope: &Scope) -> Vec<TermIndices> {
        match e {
            Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
                let mut v = self.expr_terms_noscope(l, scope);
                v.extend(self.expr_terms_noscope(r, scope));
                v
            }
            _ => vec![self.term(e, scope)],
        }
    }

    /// The hint of a function tq does not know, applied in a statement: how it is written
    /// with tq's functions when it is a common activation (`leaky_relu`, `swish`), else
    /// the known functions; a product (`a (b + 1)`) only for a declared value's name.
    fn unknown_function_hint(&self, c: &Call, scope: &Scope) -> String {
        let name = c.func.name.as_str();
        let taken = |n: &str| self.is_scalar_name(n, scope) || self.env.tensors.contains_key(n);
        let free = ["alpha", "a", "slope", "alpha_1", "alpha_2"]
            .into_iter()
            .find(|n| !taken(n))
            .unwrap_or("alpha_3");
        let product = taken(name);
        if let Some(t) = self.env.tensors.get(name) {
            // front41 (issue #18, l05): `W(x)` of a declared tensor `W`.
            let example = match t.rank {
                0 => format!("`{name}` needs no index"),
                2 => format!("`{name}[i, I'] x[I']` is a matrix-vector product"),
                r => format!("one index per dimension, {r} in all"),
            };
            return format!(
                "`{name}` is a tensor; index it with [..] ({example}), or for a product write `{name} (...)` with a space"
            );
        }
        match spelled_function(name, &c.args, free) {
            Some(h) => {
                let known = crate::sym::func::model_names().join(", ");
                format!("{h}; known functions: {known}")
            }
            None => functions_hint(name, false, product, !product),
        }
    }

    /// An activation or other function in a model equation: its argument is a scope.
    pub(super) fn function(
        &mut self,
        c: &Call,
        scope: &Scope,
    ) -> std::collections::BTreeMap<String, crate::syntax::span::Span> {
        let name = c.func.name.as_str();
        match function_arity(name) {
            Some(n) if n != c.args.len() => {
                let args = if n == 1 { "argument" } else { "arguments" };
                let example = vec!["x"; n].join(", ");
                self.err(
                    Diagnostic::error(
                        "E0103",
                        c.span,
                        format!("`{name}` takes {n} {args}, not {}", c.args.len()),
                    )
                    .with_hint(format!(
                        "write `{name}({example})`; a scale or an offset goes outside the call (`2 {name}({example})`, `{name}({example}) + 1`), and a product or sum of several values inside it is one argument (`{name}(a b)`, `{name}(a + b)`)"
                    )),
                )
            }
            Some(_) => {}
            // `E[w[t], i]` of a tensor declared as `E`: its declaration's E0102.
            None if c.brackets && self.env.tensors.contains_key(name) => {}
            None => {
                // `max(0, x)` in a statement: the rectifier.
                let zero = |e: &Expr| matches!(e, Expr::Num(t, _) if t.parse::<f64>() == Ok(0.0));
                let relu = match (name, c.args.as_slice()) {
                    ("max", [a, b]) if zero(a) => Some(b),
                    ("max", [a, b]) if zero(b) => Some(a),
                    _ => None,
                };
                let hint = if let Some(x) = relu {
                    format!(
                        "`max(0, x)` in a statement is the rectifier: write `relu({})`; `max` may only be used in claims",
                        crate::syntax::printer::print_expr(x)
                    )
                } else if CLAIM_FUNCTIONS.iter().any(|(n, _)| *n == name) {
                    match spelled_function(name, &c.args, "a") {
                        Some(h) => format!("`{name}` may only be used in claims; {h}"),
                        None => format!("`{name}` may only be used in claims"),
                    }
                } else if let (Some(h), "softmax") = (softmax_without_index(c), name) {
                    h
                } else {
                    self.unknown_function_hint(c, scope)
                };
                self.err(
                    Diagnostic::error("E0103", c.func.span, format!("unknown function `{name}`"))
                        .with_hint(hint),
                );
            }
        }
        let mut free = std::collections::BTreeMap::new();
        // An unknown function (E0103 above) passes no free index on: one diagnostic, not
        // a cascade (`sum(x[b,i]^2)` is E0103 with the hint of a sum's subscript).
        let known = function_arity(name).is_some();
        for a in &c.args {
            for t in self.expr_terms(a, scope) {
                if known {
                    free.extend(t.free);
                }
            }
        }
        free
    }

    /// E0103 for a function a declared value applies that no engine evaluates: an
    /// unknown name (`param c[J] = zeros(J)`, `= foo(J)`), a claim function or a
    /// wrong number of arguments. A declared value is one scalar for every element, so
    /// NumPy's constructors get the value they fill with (`param c[J] = 0`). Before
    /// session 32 such a value was accepted and every claim of the file was undecided.
    pub(super) fn value_calls(&mut self, item: &Item, value: &Expr) {
        let ItemKind::Decl(d) = &item.kind else {
            return;
        };
        let mut calls = Vec::new();
        crate::syntax::visit::walk_expr(value, |e| {
            if let Expr::Call(c) = e {
                calls.push(c);
            }
            true
        });
        for c in calls {
            let name = c.func.name.as_str();
            let arity = function_arity(name);
            if arity == Some(c.args.len()) {
                continue;
            }
            // The line with the value replaced, in the formatter's layout.
            let with_value = |v: Expr| {
                let mut fixed = item.clone();
                if let ItemKind::Decl(f) = &mut fixed.kind {
                    f.init = Some(Init::Value(v));
                }
                let mut out = String::new();
                crate::syntax::printer::print_item(&fixed, 0, &mut out);
                out.trim().to_string()
            };
            let number = |t: &str| Expr::Num(t.to_string(), c.span);
            let fill = match name {
                "zeros" | "zeros_like" | "empty" | "empty_like" | "zero" => Some(number("0")),
                "ones" | "ones_like" => Some(number("1")),
                "full" | "full_like" | "fill" => c.args.last().cloned(),
                _ => None,
            };
            let target = crate::syntax::printer::print_ref(&d.target);
            let hint = if let Some(v) = fill.filter(|_| arity.is_none()) {
                format!(
                    "a declared value is one number for every element of `{target}`, not an array: write `{}`",
                    with_value(v)
                )
            } else if let Some(n) = arity {
                let example = vec!["x"; n].join(", ");
                format!("write `{name}({example})`: `{name}` takes {n} argument")
            } else if CLAIM_FUNCTIONS.iter().any(|(n, _)| *n == name) {
                format!("`{name}` may only be used in claims: write the number it gives")
            } else {
                known_functions_hint(name, false)
            };
            let message = match arity {
                Some(n) => format!("`{name}` takes {n} argument, not {}", c.args.len()),
                None => format!(
                    "unknown function `{name}` in the value of `{}`",
                    print_name(&d.target.name)
                ),
            };
            self.err(Diagnostic::error("E0103", c.func.span, message).with_hint(hint));
        }
    }

    /// A scalar expression (ranges, distribution arguments, sample values).
    pub(super) fn scalar_expr(&mut self, e: &Expr, scope: &Scope, in_claim: bool) {
        walk_refs(e, &mut |r| self.scalar_ref(r, scope, in_claim));
    }

    /// One reference of a scalar expression: a name without indices must be declared.
    pub(super) fn scalar_ref(&mut self, r: &Ref, scope: &Scope, in_claim: bool) {
        let key = self.key_of(&r.name);
        if r.indices.is_none()
            && !self.env.tensors.contains_key(&key)
            && !self.is_scalar_name(&key, scope)
        {
            let code = if in_claim { "E0501" } else { "E0101" };
            if let Some(d) = self.bare_function(code, r, &key) {
                return self.missing(&key, d);
            }
            if let Some((span, message, hint)) = super::functions::foreign_name(r, &key, &self.env)
            {
                let d = Diagnostic::error(code, span, message)
                    .with_label("not tq's notation")
                    .with_hint(hint);
                return self.missing(&key, d);
            }
            let mean = self.did_you_mean(
                &key,
                &[Kind::Size, Kind::Symbol, Kind::Scalar, Kind::Tensor],
            );
            self.missing(
                &key,
                Diagnostic::error(code, r.name.span, format!("`{key}` is not declared")).with_hint(
                    format!("{mean}declare it with `symbol {key}` or `size {key}`"),
                ),
            );
        }
    }

    /// E0201 for an index a softmax or a sum ranges over without a size (`what`:
    /// "softmax", "summed").
    fn index_needs_size(&mut self, id: &Ident, what: &str) {
        if self.index_size(&id.name).is_some() {
            return;
        }
        let cause = id.name.trim_end_matches('\'').to_uppercase();
        let mean = self.did_you_mean(&id.name, &[Kind::Index]);
        self.missing(
            &cause,
            Diagnostic::error(
                "E0201",
                id.span,
                format!("{what} index `{}` has no size", id.name),
            )
            .with_hint(format!(
                "{mean}declare `size {cause}` or `index {} : N`",
                id.name
            )),
        );
    }
}

/// A name that reads as a free index: it starts with a lower-case letter.
pub(super) fn is_bare_index(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
}

/// The hint of `softmax(...)` written without its index: the softmax it most likely
/// means, written out (`softmax_{i}(s[b,i])` for `softmax(s[b,I])`).
pub(super) fn softmax_without_index(c: &Call) -> Option<String> {
    let [arg] = c.args.as_slice() else {
        return None;
    };
    let (text, cap) = softmax_fix(arg, None)?;
    Some(match cap {
        Some(cap) => format!(
            "softmax names the index it normalises over as a subscript, and the argument keeps it in lower case (`{cap}` would be summed first): write `{text}`"
        ),
        None => format!(
            "softmax names the index it normalises over as a subscript: write `{text}` (or the index you mean)"
        ),
    })
}
