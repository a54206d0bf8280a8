//! Claims and their `at`/`sample` bindings, and family starts.

use super::functions::claim_functions_hint;
use super::walk::{collect_calls, collect_claim_refs};
use super::{
    collect_equations, function_arity, givens, single_offset_sub, var_offset, walk_refs, Checker,
    Kind, Scope, CLAIM_FUNCTIONS,
};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use std::collections::BTreeMap;
mod tolerance;
#[allow(unused_imports)]
pub use tolerance::*;

impl Checker {
    /// A claim's givens must solve as a system (no cycle, no name set twice, no setting
    /// that no real value satisfies).
    pub(super) fn givens(&mut self, given: &[Expr], at: &[Binding], body: Option<&Expr>) {
        if let Some(d) = given.iter().find_map(|g| self.given_on_index(g, body)) {
            self.err(d);
            return;
        }
        if let Err(d) = givens::resolve(given, at, &self.env) {
            self.err(d);
        }
    }

    /// E0514: a given that sets or bounds an index (`given j = 0`). An element claim
    /// holds for every value of its indices, and no engine reads a value given to one:
    /// the given meant nothing (the claim was decided for every j). The hint writes the
    /// claim's first reference at that index with the value in its place.
    fn given_on_index(&self, g: &Expr, body: Option<&Expr>) -> Option<Diagnostic> {
        let Expr::Rel(op, l, r, _) = g else {
            return None;
        };
        let index = |e: &Expr| match e {
            Expr::Ref(x) if x.indices.is_none() && !x.grad && x.name.sub.is_empty() => {
                let key = self.key_of(&x.name);
                self.is_index(&key).then_some((x.span, key))
            }
            _ => None,
        };
        // The relation read with the index on the left (`0 < j` is `j > 0`).
        let ((span, name), value, op) = index(l).map(|x| (x, &**r, *op)).or_else(|| {
            let flipped = match op {
                RelOp::Lt => RelOp::Gt,
                RelOp::Gt => RelOp::Lt,
                RelOp::Le => RelOp::Ge,
                RelOp::Ge => RelOp::Le,
                other => *other,
            };
            index(r).map(|x| (x, &**l, flipped))
        })?;
        let text = crate::syntax::printer::print_expr(value);
        // The first position the given allows (positions start at 0): `j > 0` allows 1.
        let whole = match super::members::eval_const(value) {
            Some(super::members::Exact::Int(v)) => Some(v),
            _ => None,
        };
        let position = match (op, whole) {
            (RelOp::Gt, Some(v)) => v.saturating_add(1).max(0).to_string(),
            (RelOp::Ge, Some(v)) => v.max(0).to_string(),
            (RelOp::Gt, None) => format!("{text}+1"),
            (RelOp::Lt | RelOp::Le, _) => "0".to_string(),
            _ => text,
        };
        Some(self.index_set(span, &name, &position, op == RelOp::Eq, body))
    }

    /// The hint for a built-in function's name with a prime in a claim (`tanh'(a)`, read
    /// as the name `tanh'` times `(a)`): tq writes a derivative `d(u)/d(a)`, of a value
    /// the program names, so the hint names one (a name the file does not use).
    fn primed_function(&self, key: &str, at: Span, body: &Expr) -> Option<String> {
        let f = key.trim_end_matches('\'');
        if f.len() == key.len() || !crate::sym::func::model_names().contains(&f) {
            return None;
        }
        // The factor after the name: its argument.
        let mut arg = None;
        crate::syntax::visit::walk_expr(body, |e| {
            if let Expr::Binary(BinOp::Jux | BinOp::Mul, a, b, _) = e {
                if matches!(&**a, Expr::Ref(x) if x.span == at) && arg.is_none() {
                    arg = Some(crate::syntax::printer::print_expr(b));
                }
            }
            arg.is_none()
        });
        let arg = arg.unwrap_or_else(|| "a".to_string());
        let arg = arg
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .unwrap_or(&arg)
            .to_string();
        let taken = |n: &str| {
            self.env.tensors.contains_key(n)
                || self.env.symbols.contains_key(n)
                || self.env.sizes.contains_key(n)
                || self.is_scalar_name(n, &Scope::default())
        };
        let name = ["u", "v", "f", "g", "q"]
            .into_iter()
            .map(String::from)
            .chain((1..100).map(|k| format!("u{k}")))
            .find(|n| !taken(n))?;
        Some(format!(
            "`{key}` is not a derivative in .tq: a derivative is `d(u)/d(a)`, of a value the program computes with respect to an input; write `{name} = {f}({arg})` on a line before the claim and claim `d({name})/d({arg}) == ...`"
        ))
    }

    /// `u'` in a claim, where `u` is a value the file defines: a derivative as on paper,
    /// which tq writes `d(u)/d(a)` with respect to a named scalar input (probe 30b n15:
    /// the hint was "did you mean `u`?", another claim).
    fn primed_value(&self, key: &str) -> Option<String> {
        let u = key.trim_end_matches('\'');
        if u.len() == key.len() || u.is_empty() {
            return None;
        }
        let inputs: Vec<&String> = self
            .env
            .scalar_order
            .iter()
            .filter(|a| a.as_str() != u && !self.env.computed_scalars.contains(*a))
            .collect();
        if self.env.computed_scalars.contains(u) || self.env.scalars.contains_key(u) {
            let a = inputs.first().map_or("a", |a| a.as_str());
            let which = if inputs.len() > 1 {
                format!(" (one claim per input: `d({u})/d({a})`, ...)")
            } else {
                String::new()
            };
            return Some(format!(
                "`{key}` is not a derivative in .tq: the derivative of `{u}` with respect to the input `{a}` is written `d({u})/d({a})`{which}"
            ));
        }
        self.env.tensors.contains_key(u).then(|| {
            format!(
                "`{key}` is not a derivative in .tq: the gradient of the loss with respect to `{u}` is written `{u}.grad` (with its indices, `{u}.grad[...]`), and a derivative of a scalar value `d(v)/d(a)`"
            )
        })
    }

    /// `dloss/dW` (or `∂loss/∂W`, transliterated to `d`): a quotient of two names that
    /// are not defined, each a `d` before a name that is. Each is one E0501 at the
    /// quotient, with tq's spelling of the derivative: `W.grad[j,i]` for a tensor,
    /// `d(loss)/d(a)` for a scalar.
    fn derivative_quotients(&self, body: &Expr, scope: &Scope) -> Vec<(Span, Diagnostic)> {
        let mut out = Vec::new();
        let plain = |e: &Expr| match e {
            Expr::Ref(r)
                if !r.grad
                    && r.indices.is_none()
                    && r.name.sub.is_empty()
                    && r.name.sup.is_empty()
                    && r.name.primes == 0 =>
            {
                Some(r.name.base.clone())
            }
            _ => None,
        };
        let defined = |n: &str| {
            self.env.tensors.contains_key(n)
                || self.is_scalar_name(n, scope)
                || self.env.sizes.contains_key(n)
                || self.env.symbols.contains_key(n)
        };
        crate::syntax::visit::walk_expr(body, |e| {
            let Expr::Binary(BinOp::Div, num, den, span) = e else {
                return true;
            };
            let (Some(dn), Some(dd)) = (plain(num), plain(den)) else {
                return true;
            };
            let (Some(u), Some(a)) = (dn.strip_prefix('d'), dd.strip_prefix('d')) else {
                return true;
            };
            if u.is_empty() || a.is_empty() || defined(&dn) || defined(&dd) {
                return true;
            }
            if !defined(u) || !defined(a) {
                return true;
            }
            let by_tensor = self.env.tensors.get(a).filter(|t| t.rank > 0);
            let hint = match by_tensor {
                Some(t) => {
                    let ix: Vec<String> = t
                        .dims
                        .iter()
                        .map(|d| d.trim_start_matches('~').to_lowercase())
                        .collect();
                    format!(
                        "the derivative of the loss by a tensor is its gradient, element by element: `{a}.grad[{}]` (`tq derive` prints it); state a claim about it, `claim {a}.grad[{}] == ...`, or of a scalar input `a` as `d({u})/d(a)`",
                        ix.join(","),
                        ix.join(",")
                    )
                }
                None => format!("a derivative is written `d({u})/d({a})`"),
            };
            out.push((
                *span,
                Diagnostic::error(
                    "E0501",
                    *span,
                    format!(
                        "`{dn}/{dd}` is not a derivative in .tq: it reads as the quotient of `{dn}` and `{dd}`, which are not defined"
                    ),
                )
                .with_label("a derivative written as a quotient")
                .with_hint(hint),
            ));
            false
        });
        out
    }

    /// Whether a name is an index (a lower-case name with a size) and no value.
    fn is_index(&self, key: &str) -> bool {
        let value = self.is_scalar_name(key, &Scope::default())
            || self.env.tensors.contains_key(key)
            || self.env.rules.contains_key(key);
        !value && super::terms::is_bare_index(key) && self.env.index_size(key).is_some()
    }

    /// E0514 at `span`, where an index `name` is given `value` (set when `eq`, else
    /// bounded) by a claim's `given` or `at`.
    fn index_set(
        &self,
        span: Span,
        name: &str,
        value: &str,
        eq: bool,
        body: Option<&Expr>,
    ) -> Diagnostic {
        let size = self.env.index_size(name).unwrap_or_default();
        // The claim's first reference at the index, with the value in its place.
        let mut example = None;
        if let Some(body) = body {
            walk_refs(body, &mut |x| {
                let Some(ix) = &x.indices else { return };
                if example.is_some()
                    || !ix
                        .iter()
                        .any(|i| i.plain_var().is_some_and(|v| v.name == *name))
                {
                    return;
                }
                let texts = |with: Option<&str>| {
                    ix.iter()
                        .map(|i| match (i.plain_var(), with) {
                            (Some(v), Some(w)) if v.name == *name => w.to_string(),
                            _ => crate::syntax::printer::print_index(i),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let base = crate::syntax::printer::print_name(&x.name);
                example = Some((
                    format!("{base}[{}]", texts(Some(value))),
                    format!("{base}[{}]", texts(None)),
                ));
            });
        }
        let (at, of) = example.unwrap_or_else(|| (format!("y[{value}]"), format!("y[{name}]")));
        let hint = if eq {
            format!("an index is not a value; to state the claim at one element, write the position in the claim: `{at}` for `{of}`")
        } else {
            format!("an index is not a value; to state the claim for part of the range, write it at fixed positions, one claim each: `{at}` is the first the given allows")
        };
        Diagnostic::error(
            "E0514",
            span,
            format!(
                "`{name}` is an index (over {size}), not a value a claim can set: the claim holds for every `{name}`"
            ),
        )
        .with_label("an index")
        .with_hint(hint)
    }

    /// E0811: a statement in a `backprop includes` block that writes no gradient
    /// (`y[b] = ...`): the block is compared with the derived backward program, which
    /// writes only `.grad` tensors, so the statement was refuted against `y.grad`.
    fn includes_forward(&mut self, block: &[Item]) {
        for item in block {
            match &item.kind {
                ItemKind::Equation(eq) if !eq.lhs.grad => {
                    let name = crate::syntax::printer::print_name(&eq.lhs.name);
                    self.err(
                        Diagnostic::error(
                            "E0811",
                            eq.lhs.span,
                            format!("`{name}` is not a gradient: a `backprop includes` block lists statements of the backward program"),
                        )
                        .with_label("a forward statement")
                        .with_hint(format!(
                            "write the gradient statement the derived program should contain (`{name}.grad[...] = ...`, `W.grad[...] += ...`; `tq derive` prints the program), or move this statement out of the block"
                        )),
                    );
                }
                ItemKind::Loop(l) => self.includes_forward(&l.body),
                ItemKind::ForIndices(f) => self.includes_forward(&f.body),
                _ => {}
            }
        }
    }

    /// Claims: every name must be defined, functions known.
    pub(super) fn claim(&mut self, c: &Claim, scope: &Scope) {
        if let Some(block) = &c.includes {
            let mut inner = scope.clone();
            inner.backward = true;
            // The program's loop variables are free in the block, except those the block
            // binds with loops of its own (derive's printed form, `for t in 1..T
            // reversed:` around its statements; probe 30d d34c had E0102 "already bound").
            let mut own = std::collections::BTreeSet::new();
            fn loops_in(items: &[Item], own: &mut std::collections::BTreeSet<String>) {
                for it in items {
                    if let ItemKind::Loop(l) = &it.kind {
                        own.insert(l.range.var.name.clone());
                        loops_in(&l.body, own);
                    }
                }
            }
            loops_in(block, &mut own);
            for v in self.loop_vars.clone() {
                if !inner.is_loop_var(&v) && !own.contains(&v) {
                    inner
                        .loops
                        .push((v, Expr::Num("0".into(), Span::default())));
                }
            }
            self.items(block, &mut inner);
            self.includes_forward(block);
            return;
        }
        if let Some(t) = &c.tol {
            if let Some(d) = tolerance_names(t, &self.env) {
                self.err(d);
            } else if let Some(d) = tolerance_out_of_range(t) {
                self.err(d);
            } else if let Some(d) = tolerance_without_approx(c, t) {
                self.err(d);
            }
        }
        let mut names = Vec::new();
        collect_claim_refs(&c.body, &mut names);
        let mut claim_indices: std::collections::BTreeSet<String> = Default::default();
        walk_refs(&c.body, &mut |r| {
            for ix in r.indices.iter().flatten() {
                if let IndexExpr::Affine(a) = ix {
                    for t in &a.terms {
                        claim_indices.extend(t.factors.iter().map(|f| f.name.clone()));
                    }
                }
            }
        });
        for g in &c.given {
            collect_claim_refs(g, &mut names);
        }
        let mut rank_slip = false;
        // `dloss/dW`: a derivative written as a quotient of two names, reported once for
        // both (they were two E0501s, "did you mean `loss`?" and "did you mean `W`?").
        let quotients = self.derivative_quotients(&c.body, scope);
        for (_, d) in &quotients {
            self.err(d.clone());
        }
        for r in names {
            if quotients
                .iter()
                .any(|(s, _)| s.start <= r.span.start && r.span.end <= s.end)
            {
                continue;
            }
            let key = self.key_of(&r.name);
            // `A.v`: a sequence of a rule of this file (`np.tanh`, `W.T` are not).
            let rule_member = r
                .name
                .base
                .split_once('.')
                .is_some_and(|(m, _)| self.env.rules.contains_key(m));
            let known = self.env.tensors.contains_key(&key)
                || self.is_scalar_name(&key, scope)
                || (r.indices.is_none() && self.env.index_capital(&key).is_some())
                // `[w == y[t]]` in an element claim: the index `w`, when the claim
                // indexes a tensor with it (`s.grad[t,w] == ...`).
                || (r.indices.is_none()
                    && !r.grad
                    && r.name.sub.is_empty()
                    && super::terms::is_bare_index(&key)
                    && self.env.index_size(&key).is_some()
                    && claim_indices.contains(&key))
                || self.env.rules.contains_key(&key)
                || (r.indices.is_some() && self.env.rule_inputs.contains(&key))
                || rule_member
                // An index of the claim's elements without a size: E0201 there
                // (`claim_index_sizes`), not a second diagnostic for its use here.
                || (r.indices.is_none()
                    && !r.grad
                    && r.name.sub.is_empty()
                    && super::terms::is_bare_index(&key)
                    && self.env.index_size(&key).is_none()
                    && claim_indices.contains(&key));
            if !known {
                if let Some((span, message, hint)) =
                    super::functions::foreign_name(r, &key, &self.env)
                {
                    let d = Diagnostic::error("E0501", span, message)
                        .with_label("not tq's notation")
                        .with_hint(hint);
                    self.missing(&key, d);
                    continue;
                }
                if let Some(d) = self.bare_function("E0501", r, &key) {
                    self.missing(&key, d);
                    continue;
                }
                let mean = self.did_you_mean(
                    &key,
                    &[
                        Kind::Tensor,
                        Kind::Scalar,
                        Kind::Size,
                        Kind::Symbol,
                        Kind::Rule,
                    ],
                );
                self.missing(
                    &key,
                    Diagnostic::error(
                        "E0501",
                        r.name.span,
                        format!("the claim names `{key}`, which is not defined in this file"),
                    )
                    .with_hint(if let Some(hint) = self.primed_function(&key, r.span, &c.body) {
                        hint
                    } else if let Some(hint) = unrolled_family(&key, r, &c.body, &self.env) {
                        hint
                    } else if let Some(hint) = self.primed_value(&key) {
                        hint
                    } else if let Some(hint) = operator_without_parentheses(&key, r, &c.body) {
                        hint
                    } else if let Some(g) = c.given.iter().find(|g| {
                        let (s, index) = (g.span(), super::terms::is_bare_index(&key));
                        index && self.env.index_size(&key).is_some() && s.start <= r.span.start && r.span.end <= s.end
                    }) {
                        // `given sum_{j}(W[j,i] W[j,i']) = [i == i']` (probe38 a05).
                        format!(
                            "`{key}` is an index the claim's relation does not range over, read as a value in the given `{}`: a condition for every `{key}` on a whole tensor (orthonormal columns, W^T W = I) is not a given tq can decide a claim under (the runs draw the tensor from its distribution, where it never holds); state the claim without it, or set elements (`given W[0,1] = 0`)",
                            crate::syntax::printer::print_expr(g)
                        )
                    } else if super::terms::is_bare_index(&key)
                        && self.env.index_size(&key).is_some()
                    {
                        // An index read as a number (`sum_{n}(n)`): not a typo of `N`.
                        format!(
                            "`{key}` is an index: in a claim it selects tensor elements (`x[{key}]`) and is not read as a number (`sum_{{{key}}}({key})` has no value in claims); compute the sum in the program (`s = sum_{{{key}}}({key})`, decided on a sampled run) and claim about `s`"
                        )
                    } else if r.indices.is_none() && self.env.rule_inputs.contains(&key) {
                        // `given g = 0` in a claim about update rules.
                        format!(
                            "`{key}` is an input sequence of the update rules: a claim reads it at a fixed step (`{key}[0]`), and a claim about step `t` holds for every input sequence (a given may set `{key}[1] = {key}[0]` only in a claim that reads fixed steps)"
                        )
                    } else if !self.env.rules.is_empty() && mean.is_empty() {
                        format!(
                            "declare it (`symbol {key}`): in a claim about update rules a name is a hyperparameter or a constant, a rule's sequence (`A.w[t]`) or an input at a step (`g[0]`)"
                        )
                    } else if crate::syntax::ast::DERIVATION_RULES.iter().any(|(n, _)| *n == key) {
                        // `= M sigma^2  declared`: the rule of a derivation step without `by`.
                        format!(
                            "`{key}` is the name of a rule: a derivation step cites it after `by` (`= ...  by {key}`)"
                        )
                    } else if mean.is_empty() {
                        format!(
                            "claims may name declared tensors, computed tensors, scalars, sizes and symbols; {}",
                            self.names_defined()
                        )
                    } else {
                        format!("{mean}claims may name declared tensors, computed tensors, scalars, sizes and symbols")
                    }),
                );
            }
            if let (Some(t), Some(idx)) = (self.env.tensors.get(&key), &r.indices) {
                if t.rank != idx.len() {
                    let rank = t.rank;
                    rank_slip = true;
                    self.rank_error(&key, rank, idx.len(), r.span);
                } else if !self.transposed_access(&key, idx, scope, r.grad) {
                    for (pos, ix) in idx.iter().enumerate() {
                        self.extent_check(&key, pos, ix, scope, r.grad);
                    }
                }
            }
        }
        // A side with the wrong number of indices (E0202) ranges over other indices
        // than the other side for that reason alone: one cause, one diagnostic.
        if rank_slip || !self.claim_sides(c, scope) {
            self.claim_index_sizes(c, scope);
        }
        self.derivatives_of_scalars(&c.body);
        let mut calls = Vec::new();
        collect_calls(&c.body, &mut calls);
        for call in calls {
            let name = call.func.name.as_str();
            let known = function_arity(name)
                .map(|n| (name, n))
                .or_else(|| CLAIM_FUNCTIONS.iter().find(|(n, _)| *n == name).copied());
            match known {
                None => self.err(
                    Diagnostic::error(
                        "E0103",
                        call.func.span,
                        format!("unknown function `{name}` in a claim"),
                    )
                    .with_hint(
                        super::terms::softmax_without_index(call)
                            .filter(|_| name == "softmax")
                            .unwrap_or_else(|| claim_functions_hint(name, &call.args)),
                    ),
                ),
                Some((_, n)) if n != usize::MAX && n != call.args.len() => {
                    let hint = match (name, call.args.len()) {
                        ("Cov", 1) => "`Cov(a, b)` is the covariance of two values; the variance of one is `Var(a)`".to_string(),
                        ("Var" | "E", 2) => format!("`{name}` is of one value; the covariance of two is `Cov(a, b)`"),
                        ("solve", _) => "`solve` takes the relation and the unknown it is solved for: `solve(Var(y) == 1, sigma^2)`; add the unknown after a comma".to_string(),
                        ("invariant", _) => "`invariant(T, b)` names the tensor and the value it does not depend on".to_string(),
                        ("mults", _) => "`mults(T)` counts the multiplies of one tensor: `mults(y)`".to_string(),
                        _ => format!(
                            "write `{name}(` with {n} argument{} separated by commas",
                            if n == 1 { "" } else { "s" }
                        ),
                    };
                    self.err(
                        Diagnostic::error(
                            "E0502",
                            call.span,
                            format!(
                                "`{name}` takes {n} argument{}, not {}",
                                if n == 1 { "" } else { "s" },
                                call.args.len()
                            ),
                        )
                        .with_hint(hint),
                    )
                }
                _ => {}
            }
        }
        if !matches!(c.body, Expr::Rel(..) | Expr::Call(_)) {
            self.err(
                Diagnostic::error(
                    "E0502",
                    c.body.span(),
                    "a claim must be a relation (`==`, `<=`, `>=`, `~=`) or a predicate such as `equivalent(A, B)`",
                )
                .with_hint("write `claim LEFT == RIGHT`"),
            );
        }
        for b in &c.at {
            // `claim y[b,j] == ... at j = 1`: an index is not a point. So is a name the
            // claim uses as an index that also names a tensor (`at x = 1` in `y[b,x] ==
            // 2 x[b,x]`: was E0101 "the size is `X`, write `X = ...`", a different claim;
            // probe34 p15).
            let as_index = || {
                let mut found = false;
                crate::syntax::visit::walk_refs(&c.body, &mut |r| {
                    found |= r
                        .indices
                        .iter()
                        .flatten()
                        .any(|i| i.plain_var().is_some_and(|v| v.name == b.name.name));
                });
                found
                    && super::terms::is_bare_index(&b.name.name)
                    && self.env.index_size(&b.name.name).is_some()
            };
            if self.is_index(&b.name.name) || as_index() {
                let value = crate::syntax::printer::print_expr(&b.value);
                let d = self.index_set(b.name.span, &b.name.name, &value, true, Some(&c.body));
                self.err(d);
                continue;
            }
            self.binding(b, false);
        }
        self.bindings_once(&c.at, "at");
        self.equivalent_rules(&c.body);
    }

    /// `equivalent(A, B)`: its first two arguments name rules of the file (E0501, with
    /// "did you mean", for one that does not: it was left undecided without a word).
    fn equivalent_rules(&mut self, body: &Expr) {
        let Expr::Call(call) = body else { return };
        if call.func.name != "equivalent" {
            return;
        }
        for a in call.args.iter().take(2) {
            let Expr::Ref(r) = a else { continue };
            let name = crate::syntax::printer::print_name(&r.name);
            if r.indices.is_some() || self.env.rules.contains_key(&name) {
                continue;
            }
            let rules: Vec<&str> = self.env.rules.keys().map(|k| k.as_str()).collect();
            let mean = self
                .suggestions
                .suggest(&name, rules.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            self.err(
                Diagnostic::error(
                    "E0501",
                    r.name.span,
                    format!("`equivalent` compares rules, and `{name}` is not a rule of this file"),
                )
                .with_label("not a rule")
                .with_hint(if rules.is_empty() {
                    "define the rules first (`rule A over t:` with its updates)".to_string()
                } else {
                    format!(
                        "{mean}the rules of this file are {}",
                        rules
                            .iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            );
        }
    }

    /// `d(u)/d(a)` is the derivative of a scalar value by a scalar: a whole tensor on
    /// either side (`d(y)/d(a)` with `y[n] = a x[n]`) has no one derivative, and was
    /// read as an unrelated name (a true element-wise claim refuted). E0505.
    fn derivatives_of_scalars(&mut self, body: &Expr) {
        let mut found = Vec::new();
        crate::syntax::visit::walk_expr(body, |e| {
            if let Expr::Deriv(u, a, _) = e {
                found.push(((**u).clone(), (**a).clone()));
            }
            true
        });
        for (u, a) in found {
            for (r, role) in [(&u, "value"), (&a, "variable")] {
                let key = self.key_of(&r.name);
                let Some(t) = self.env.tensors.get(&key) else {
                    continue;
                };
                if t.rank == 0 {
                    continue;
                }
                let rank = t.rank;
                let hint = if role == "value" {
                    format!(
                        "`d(u)/d(a)` takes a scalar value u; state the derivative of a scalar computed from `{key}` (`s = sum_{{...}}({key}[...])`, then `d(s)/d(...)`), or a claim about an element of a gradient (`{key}.grad[...]`)"
                    )
                } else {
                    format!(
                        "`d(u)/d(a)` differentiates by a scalar input a; for a tensor, state a claim about an element of its gradient (`{key}.grad[...]`)"
                    )
                };
                self.err(
                    Diagnostic::error(
                        "E0505",
                        r.span,
                        format!(
                            "`d(u)/d(a)` of a tensor: `{key}` has rank {rank}, the derivative's {role} must be a scalar"
                        ),
                    )
                    .with_hint(hint),
                );
            }
        }
    }

    /// One `at` list binds each name once (a later `at` line may change the point).
    pub(super) fn bindings_once(&mut self, bs: &[Binding], what: &str) {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for b in bs {
            let name = &b.name.name;
            if let Some(first) = seen.get(name).copied() {
                self.err(
                    Diagnostic::error(
                        "E0102",
                        b.name.span,
                        format!("`{name}` is given two values on one `{what}` line"),
                    )
                    .with_label("second value")
                    .with_related(first, "first value")
                    .with_hint(format!("give `{name}` one value")),
                );
            } else {
                seen.insert(name.clone(), b.name.span);
            }
        }
    }

    /// A name takes one `sample` value in the file.
    pub(super) fn bound_once(&mut self, b: &Binding, what: &str) {
        let name = &b.name.name;
        if let Some(first) = self.sampled.get(name).copied() {
            self.err(
                Diagnostic::error(
                    "E0102",
                    b.name.span,
                    format!("`{name}` is given a `{what}` value twice"),
                )
                .with_label("second value")
                .with_related(first, "first value")
                .with_hint(format!("give `{name}` one `{what}` value")),
            );
        } else {
            self.sampled.insert(name.clone(), b.name.span);
        }
    }

    /// Where a size, symbol, scalar or tensor was first declared or defined.
    pub(super) fn first_span(&self, key: &str) -> Option<Span> {
        self.env
            .sizes
            .get(key)
            .or_else(|| self.env.symbols.get(key))
            .or_else(|| self.env.scalars.get(key))
            .copied()
            .or_else(|| self.env.tensors.get(key).map(|t| t.span))
    }

    /// Family members read at a lower offset than the one the loop defines need a start.
    pub(super) fn check_starts(&mut self, body: &[Item], var: &str, from: &Expr, to: &Expr) {
        let from_value = match from {
            Expr::Num(t, _) => t.parse::<i64>().ok(),
            _ => None,
        };
        // Offsets defined in this loop: family subscript or recurrence position.
        let mut defined: BTreeMap<(String, Option<usize>), i64> = BTreeMap::new();
        let mut reads: Vec<(String, Option<usize>, i64, Span)> = Vec::new();
        let eqs = collect_equations(body);
        for eq in &eqs {
            let key = self.key_of(&eq.lhs.name);
            if let Some(off) = single_offset_sub(&eq.lhs.name, var) {
                defined.entry((key.clone(), None)).or_insert(off);
            }
            for (pos, ix) in eq.lhs.indices.iter().flatten().enumerate() {
                if let Some(off) = var_offset(ix, var) {
                    defined.entry((key.clone(), Some(pos))).or_insert(off);
                }
            }
        }
        for eq in &eqs {
            walk_refs(&eq.rhs, &mut |r| {
                let key = self.key_of(&r.name);
                if let Some(off) = single_offset_sub(&r.name, var) {
                    reads.push((key.clone(), None, off, r.span));
                }
                for (pos, ix) in r.indices.iter().flatten().enumerate() {
                    if let Some(off) = var_offset(ix, var) {
                        reads.push((key.clone(), Some(pos), off, r.span));
                    }
                }
            });
        }
        // The members this loop writes, for the loops after it (`loop_writes`).
        let to_value = match to {
            Expr::Num(t, _) => t.parse::<i64>().ok(),
            _ => None,
        };
        let written: Vec<(String, i64, Option<i64>)> = defined
            .iter()
            .filter(|((_, pos), _)| pos.is_none())
            .filter_map(|((k, _), off)| {
                Some((
                    k.clone(),
                    from_value?.checked_add(*off)?,
                    to_value.and_then(|t| t.checked_add(*off)),
                ))
            })
            .collect();
        // One diagnostic per missing start, however many reads need it.
        let mut reported = std::collections::BTreeSet::new();
        for (key, pos, off, span) in reads {
            let Some(&def) = defined.get(&(key.clone(), pos)) else {
                continue;
            };
            if off >= def {
                continue;
            }
            let Some(from) = from_value else { continue };
            let needed = from + off;
            let Some(t) = self.env.tensors.get(&key) else {
                continue;
            };
            let has_start = match pos {
                None => t
                    .start_members
                    .iter()
                    .any(|m| m.len() == 1 && m[0] == needed),
                Some(p) => t.start_positions.contains(&(p, needed)),
            };
            // A start defined by an equation after the loop is not there yet when the
            // loop's first iteration reads it (the run would read zeros).
            let later = match (pos, body.first()) {
                (None, Some(first)) => self
                    .start_equations
                    .get(&(key.clone(), vec![needed]))
                    .filter(|s| s.start > first.span.start)
                    .copied(),
                _ => None,
            };
            if let Some(def) = later {
                if reported.insert((key.clone(), pos, needed)) {
                    self.err(
                        Diagnostic::error(
                            "E0105",
                            span,
                            format!("`{key}_{needed}` is read in the loop's first iteration, before it is computed"),
                        )
                        .with_label(format!("`{key}_{needed}` is read here"))
                        .with_related(def, format!("`{key}_{needed}` is computed here, after the loop"))
                        .with_hint(format!("move the equation of `{key}_{needed}` above the loop: a loop reads its start as it stands when the loop runs")),
                    );
                }
                continue;
            }
            // A member an earlier loop writes (`for l in 0..L-1: h_{l+1} = ...`, then a
            // loop from 1 reading `h_1`): started by that loop (front37 open, f1.tq: two
            // overlapping loops got E0104 and this E0401 as its consequence).
            let by_earlier_loop = pos.is_none()
                && self.loop_writes.iter().any(|(k, first, last)| {
                    *k == key && *first <= needed && last.is_none_or(|l| needed <= l)
                });
            if !has_start && !by_earlier_loop && reported.insert((key.clone(), pos, needed)) {
                let example = match pos {
                    None if !t.dims.is_empty() => {
                        let dims: Vec<&str> =
                            t.dims.iter().map(|d| d.trim_start_matches('~')).collect();
                        format!("input {key}_{needed}[{}] ~ normal(0, 1)", dims.join(", "))
                    }
                    None => format!("input {key}_{needed}[...] ~ normal(0, 1)"),
                    Some(p) => {
                        let dims: Vec<String> = t
                            .dims
                            .iter()
                            .enumerate()
                            .map(|(i, d)| {
                                if i == p {
                                    needed.to_string()
                                } else {
                                    d.trim_start_matches('~').to_string()
                                }
                            })
                            .collect();
                        format!("input {key}[{}] ~ normal(0, 1)", dims.join(", "))
                    }
                };
                // The slice read, as the start declaration writes it (`h[B, 0, N]`).
                let member = match pos {
                    None => format!("{key}_{needed}"),
                    Some(_) => example
                        .trim_start_matches("input ")
                        .trim_end_matches(" ~ normal(0, 1)")
                        .to_string(),
                };
                let note = if pos.is_some() {
                    " (a recurrence along a position starts from an `input` declaration of its first slice; an equation such as `h[b, 0, n] = 0` does not start it)"
                } else {
                    ""
                };
                self.err(
                    Diagnostic::error(
                        "E0401",
                        span,
                        format!("`{member}` is read in the first iteration but has no start"),
                    )
                    .with_hint(format!("declare the start: `{example}`{note}")),
                );
            }
        }
        self.loop_writes.extend(written);
    }
}

/// Every declared index's capital names its size in claims and derivations: with
/// `index dx : D`, `claim mults(y) == B X DX` is about `B X D`. Rewrites those names
/// (a plain name, no indices, that names nothing itself) to the size, so every claim
/// engine reads the size.
pub fn resolve_index_capitals(program: &mut Program, env: &super::Env) {
    fn expr(e: &mut Expr, env: &super::Env) {
        if let Expr::Ref(r) = e {
            let plain = r.indices.is_none()
                && !r.grad
                && r.name.sub.is_empty()
                && r.name.sup.is_empty()
                && r.name.primes == 0;
            if plain {
                if let Some(size) = env.index_capital(&r.name.base) {
                    r.name.base = size;
                }
            }
            return;
        }
        for c in crate::syntax::visit::children_mut(e) {
            expr(c, env);
        }
    }
    fn items(its: &mut [Item], env: &super::Env) {
        for item in its {
            match &mut item.kind {
                ItemKind::Claim(c) if c.includes.is_none() => {
                    expr(&mut c.body, env);
                    if let Some(t) = &mut c.tol {
                        expr(t, env);
                    }
                    for g in &mut c.given {
                        expr(g, env);
                    }
                    for b in &mut c.at {
                        expr(&mut b.value, env);
                    }
                }
                ItemKind::Derivation(d) => {
                    expr(&mut d.start, env);
                    for s in &mut d.steps {
                        expr(&mut s.expr, env);
                    }
                    for g in &mut d.given {
                        expr(g, env);
                    }
                }
                ItemKind::Loop(l) => items(&mut l.body, env),
                ItemKind::ForIndices(f) => items(&mut f.body, env),
                _ => {}
            }
        }
    }
    items(&mut program.items, env);
}

/// The hint for a bare family name (`mults(h)`) in a file whose depth is fixed (`size L
/// = 3`): the family is unrolled into its members `h_0` ... `h_3`, and the bare name no
/// longer exists (probe34 p10: E0501 listed the members with `W_1` ..., and no sum). The
/// members are listed, and where the name is the argument of `mults` (a count), the sum
/// of the counts of the members the program computes, which is what the bare name meant.
fn unrolled_family(
    key: &str,
    r: &crate::syntax::ast::Ref,
    body: &Expr,
    env: &super::Env,
) -> Option<String> {
    if !r.name.sub.is_empty() || r.indices.is_some() || r.grad {
        return None;
    }
    let prefix = format!("{key}_");
    let mut members: Vec<(i64, &String, bool)> = env
        .tensors
        .iter()
        .filter_map(|(k, t)| {
            let n: i64 = k.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, k, t.kind == super::env::TensorKind::Computed))
        })
        .collect();
    if members.len() < 2 {
        return None;
    }
    members.sort();
    let all = members
        .iter()
        .map(|(_, k, _)| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut call = None;
    crate::syntax::visit::walk_expr(body, |x| {
        if let Expr::Call(c) = x {
            // A count adds over the members; a moment of the family does not.
            if c.func.name == "mults"
                && c.args.len() == 1
                && matches!(&c.args[0], Expr::Ref(a) if a.name.base == key && a.name.sub.is_empty() && a.indices.is_none())
            {
                call = Some(c.func.name.clone());
            }
        }
        call.is_none()
    });
    let sum = call.map(|f| {
        members
            .iter()
            .filter(|(_, _, computed)| *computed)
            .map(|(_, k, _)| format!("{f}({k})"))
            .collect::<Vec<_>>()
            .join(" + ")
    });
    Some(match sum {
        Some(sum) if !sum.is_empty() => format!(
            "`{key}` is a family whose depth is fixed by a value, so it is unrolled into its members {all}, and the bare name is gone: write the sum over the members the program computes, `{sum}` (or declare the depth without a value, `size L`, to claim about the family)"
        ),
        _ => format!(
            "`{key}` is a family whose depth is fixed by a value, so it is unrolled into its members {all}: name a member (or declare the depth without a value, `size L`, to claim about the family)"
        ),
    })
}
