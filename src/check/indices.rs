//! Index positions: free and summed indices, tensor accesses, extents and the
//! boundary rule for out-of-extent reads.

use super::{affine_vars, lower, Checker, Kind, Scope, TermIndices};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use crate::syntax::span::Span;

impl Checker {
    /// The free and summed indices of an index position.
    pub(super) fn index_expr(&mut self, ix: &IndexExpr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        match ix {
            IndexExpr::Lookup(r) => {
                let key = self.key_of(&r.name);
                match self.env.tensors.get(&key) {
                    None => {
                        let mean = self.did_you_mean(&key, &[Kind::Tensor]);
                        self.missing(
                            &key,
                            Diagnostic::error(
                                "E0101",
                                r.name.span,
                                format!("lookup tensor `{key}` is not declared"),
                            )
                            .with_hint(format!(
                                "{mean}declare it: `input {key}[T] ~ categorical(V)`"
                            )),
                        )
                    }
                    Some(t) if !t.is_int => self.err(
                        Diagnostic::error(
                            "E0209",
                            r.name.span,
                            format!("`{key}` is used as an index but is not integer-valued"),
                        )
                        .with_hint("declare it with `~ categorical(n)`"),
                    ),
                    _ => {}
                }
                let t = self.access(r, scope);
                out.free.extend(t.free);
                out.summed.extend(t.summed);
            }
            IndexExpr::Affine(a) => {
                for term in &a.terms {
                    let mut n_index = 0;
                    for f in &term.factors {
                        let name = &f.name;
                        if scope.is_loop_var(name) {
                            n_index += 1;
                            continue;
                        }
                        // A size declared in lower case (`size n`) used as an index (`n`),
                        // or its capital used as a summed index (`N`): one cause, the
                        // declaration's case, reported once.
                        if let Some(size) = self
                            .lower_case_size(name)
                            .filter(|_| term.factors.len() == 1)
                        {
                            self.missing(
                                &size.to_uppercase(),
                                Diagnostic::error(
                                    "E0201",
                                    f.span,
                                    if is_summed_index(name) {
                                        format!("summed index `{name}` has no size: the size is declared as `size {size}`")
                                    } else {
                                        format!("`{name}` is a size, not an index")
                                    },
                                )
                                .with_hint(super::lower_case_size_hint(&size)),
                            );
                            n_index += 1;
                            continue;
                        }
                        if self.env.symbols.contains_key(name)
                            || (self.env.sizes.contains_key(name) && !self.summed_index_ok(name))
                        {
                            continue;
                        }
                        if is_summed_index(name) {
                            let low = lower(name);
                            if self.index_size(&low).is_none() {
                                let cause = name.trim_end_matches('\'').to_string();
                                let mean = self.did_you_mean(&cause, &[Kind::Summed]);
                                self.missing(
                                    &cause,
                                    Diagnostic::error(
                                        "E0201",
                                        f.span,
                                        format!(
                                            "summed index `{name}` has no size (no index `{low}`)"
                                        ),
                                    )
                                    .with_hint(format!(
                                        "{mean}declare `size {cause}` or `index {low} : N`"
                                    )),
                                );
                            }
                            out.summed.insert(name.clone(), f.span);
                            n_index += 1;
                        } else if let Some(size) = self.index_size(name) {
                            // `e` (or `pi`) at an index position of a file with a size `E`
                            // is the index over E, as if declared with `index e : E`: the
                            // numeric runs then never read it as the constant (probe32/c
                            // h12: `o[b,t,e]` was written at round(2.718...) by emit, and
                            // the gradient check was not run).
                            if matches!(name.as_str(), "e" | "pi")
                                && !self.env.indices.contains_key(name.as_str())
                            {
                                self.env.indices.insert(
                                    name.clone(),
                                    super::env::IndexInfo {
                                        size,
                                        centered: false,
                                        span: f.span,
                                    },
                                );
                            }
                            out.free.insert(name.clone(), f.span);
                            n_index += 1;
                        } else {
                            let cause = name.trim_end_matches('\'').to_uppercase();
                            if let Some(size) = self.position_extent.clone() {
                                self.index_extents.entry(cause.clone()).or_insert(size);
                            }
                            let mean = self.did_you_mean(name, &[Kind::Index]);
                            self.missing(
                                &cause,
                                Diagnostic::error(
                                    "E0201",
                                    f.span,
                                    format!("index `{name}` has no size"),
                                )
                                .with_hint(format!(
                                    "{mean}declare `size {cause}` or `index {name} : N`"
                                )),
                            );
                            n_index += 1;
                        }
                    }
                    if n_index != 1 {
                        self.err(
                            Diagnostic::error(
                                "E0208",
                                a.span,
                                format!(
                                    "each term of an index expression needs exactly one index, this one has {n_index}"
                                ),
                            )
                            .with_hint(self.no_index_hint(term)),
                        );
                    }
                }
            }
        }
        out
    }

    /// E0208's hint. A term that is one symbol named like the index a size implies
    /// (`symbol n` beside `size N`, `y[n]`): the symbol hides the index, and the hint
    /// names that (name38_open: the hint was about strides).
    fn no_index_hint(&self, term: &AffineTerm) -> String {
        if let [f] = term.factors.as_slice() {
            let upper = f.name.to_uppercase();
            if self.env.symbols.contains_key(&f.name)
                && f.name != upper
                && self.env.sizes.contains_key(&upper)
            {
                let n = &f.name;
                return format!(
                    "`{n}` is the symbol declared `symbol {n}`, a number here, so it is not the index over `{upper}` that the size implies: rename the symbol wherever it is a number (`symbol {n}0`), or index with another name (`index i : {upper}`, then `i`)"
                );
            }
        }
        "write strides as `s*x` with `s` a declared symbol, offsets as `x+dx`".to_string()
    }

    /// The size declared in lower case (`size n`) that `name` in an index position is
    /// meant as: `n` itself (a size is not an index) or `N` (no index `n` to sum over),
    /// when no index makes that name an index.
    fn lower_case_size(&self, name: &str) -> Option<String> {
        let low = lower(name);
        let size = self.env.sizes.keys().find(|s| **s == low)?.clone();
        if !size.starts_with(|c: char| c.is_ascii_lowercase()) || self.index_size(&low).is_some() {
            return None;
        }
        if name == size || (is_summed_index(name) && !self.env.sizes.contains_key(name)) {
            Some(size)
        } else {
            None
        }
    }

    /// Whether an upper-case name in an index position is a summed index (its lower
    /// case has a size) rather than a size symbol used as a coefficient.
    pub(super) fn summed_index_ok(&self, name: &str) -> bool {
        self.index_size(&lower(name)).is_some()
    }

    /// Checks a tensor access (rank, family subscripts) and returns its indices.
    pub(super) fn access(&mut self, r: &Ref, scope: &Scope) -> TermIndices {
        let key = self.key_of(&r.name);
        self.check_family_subscripts(&r.name, scope);
        let mut out = TermIndices::default();
        let used = r.indices.as_ref().map_or(0, |v| v.len());
        match self.env.tensors.get(&key) {
            Some(t) => {
                if t.rank != used {
                    let rank = t.rank;
                    self.rank_error(&key, rank, used, r.span);
                }
            }
            None if used > 0 && super::function_arity(&key).is_some() => {
                return self.function_in_brackets(r, &key, scope);
            }
            None => {
                if used > 0 || !self.is_scalar_name(&key, scope) {
                    self.undeclared(r, &key);
                }
            }
        }
        if let Some(idx) = &r.indices {
            let transposed = self.transposed_access(&key, idx, scope, r.grad);
            for (pos, ix) in idx.iter().enumerate() {
                self.position_extent = self
                    .env
                    .tensors
                    .get(&key)
                    .and_then(|t| t.dims.get(pos))
                    .filter(|d| self.env.sizes.contains_key(d.as_str()))
                    .cloned();
                let ti = self.index_expr(ix, scope);
                self.position_extent = None;
                self.range_check(&key, pos, ix, scope);
                if !transposed && self.env.tensors.get(&key).is_some_and(|t| t.rank == used) {
                    self.extent_check(&key, pos, ix, scope, r.grad);
                }
                out.free.extend(ti.free);
                out.summed.extend(ti.summed);
            }
        }
        out
    }

    /// E0103: a function applied with brackets, `relu[x[b,j]]`: read as a tensor named
    /// `relu` indexed by a lookup, it gave E0101 and an E0209 per argument. Reported once,
    /// at the name; the argument's own indices are checked as the call's would be.
    fn function_in_brackets(&mut self, r: &Ref, key: &str, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        let args: Vec<String> = r
            .indices
            .iter()
            .flatten()
            .map(crate::syntax::printer::print_index)
            .collect();
        self.err(
            Diagnostic::error(
                "E0103",
                r.name.span,
                format!("`{key}` is a function, applied with brackets: `[...]` indexes a tensor"),
            )
            .with_label("a function call takes parentheses")
            .with_hint(format!(
                "call it with parentheses: `{key}({})`",
                args.join(", ")
            )),
        );
        for ix in r.indices.iter().flatten() {
            if let IndexExpr::Lookup(inner) = ix {
                let ti = self.access(inner, scope);
                out.free.extend(ti.free);
                out.summed.extend(ti.summed);
            }
        }
        out
    }

    pub(super) fn is_scalar_name(&self, key: &str, scope: &Scope) -> bool {
        self.env.sizes.contains_key(key)
            || self.env.symbols.contains_key(key)
            || self.env.scalars.contains_key(key)
            || scope.is_loop_var(key)
            || self.loop_vars.contains(key)
            // The constants, unless the file declares an index of that name (then the
            // name is the index everywhere: a claim reading it as a number names an
            // index it does not bind, E0501 as for `j`; probe39/h l18, where
            // `E(y[b,0]) == e` was proved equal to the index atom of E(y[b,e]) = e).
            || (matches!(key, "pi" | "e") && !self.env.indices.contains_key(key))
    }

    pub(super) fn undeclared(&mut self, r: &Ref, key: &str) {
        if let Some(d) = self.bare_function("E0101", r, key) {
            return self.missing(key, d);
        }
        if let Some((span, message, hint)) = super::functions::foreign_name(r, key, &self.env) {
            let d = Diagnostic::error("E0101", span, message)
                .with_label("not tq's notation")
                .with_hint(hint);
            return self.missing(key, d);
        }
        // `W^{T}[n,N]`, `W^⊤`: a transpose written as on paper, of a declared tensor.
        // Declaring `W^{T}` as the hint said made a new, independent tensor (probe33/b
        // b20): tq has no transpose; the indices are swapped.
        let transposed = r.name.sup.len() == 1
            && matches!(r.name.sup[0].as_str(), "T" | "top" | "⊤" | "\\top")
            && self.env.tensors.contains_key(&r.name.base);
        let hint = if transposed {
            let swapped = r
                .indices
                .as_ref()
                .filter(|ix| ix.len() == 2)
                .map(|ix| {
                    format!(
                        "`{}[{}, {}]`",
                        r.name.base,
                        crate::syntax::printer::print_index(&ix[1]),
                        crate::syntax::printer::print_index(&ix[0])
                    )
                })
                .unwrap_or_else(|| format!("`{}[...]` with its indices swapped", r.name.base));
            format!(
                "tq has no transpose: the transposed `{}` is read with its indices swapped, {swapped}; declaring `{key}` would make a new tensor, independent of `{}`",
                r.name.base, r.name.base
            )
        } else if r.indices.is_some() {
            let mean = self.did_you_mean(key, &[Kind::Tensor]);
            format!("{mean}declare it with `param {key}[...]` or `input {key}[...]`, or define it by an equation")
        } else if let Some(f) = key
            .strip_suffix('\'')
            .filter(|f| crate::sym::func::model_names().contains(f))
        {
            // `relu'(a[b,j])`: a derivative written as a function.
            format!(
                "tq derives the backward program itself (`tq derive`), so a model needs no `{f}'`; where the derivative is meant as a value, write its formula (`relu'(a)` is `[a > 0]`, `tanh'(a)` is `1 - tanh(a)^2`, `sigmoid'(a)` is `sigmoid(a) (1 - sigmoid(a))`)"
            )
        } else {
            let mean =
                self.did_you_mean(key, &[Kind::Tensor, Kind::Size, Kind::Symbol, Kind::Scalar]);
            format!("{mean}declare it with `symbol {key}`, `size {key}` or `scalar {key}`")
        };
        self.missing(
            key,
            Diagnostic::error("E0101", r.name.span, format!("`{key}` is not declared"))
                .with_hint(hint),
        );
    }

    /// A plain index (`j`, `J`, `j'`) in a position of a tensor ranges over its own size,
    /// which must be the extent of that dimension (E0210): `U[J]` on `param U[I]` reads
    /// U beyond (or short of) its extent. Shifted and strided positions (`x+dx`, `2x`)
    /// are reads under the boundary rule (E0301); positions along a loop variable and
    /// fixed positions are the family and start rules' business.
    pub(super) fn extent_check(
        &mut self,
        key: &str,
        pos: usize,
        ix: &IndexExpr,
        scope: &Scope,
        grad: bool,
    ) {
        let Some(m) = self.extent_mismatch(key, pos, ix, scope) else {
            return;
        };
        let Some(t) = self.env.tensors.get(key) else {
            return;
        };
        let first = t.span;
        let (name, size, dim) = (m.name, m.size, m.dim);
        let what = if grad {
            format!("`{key}.grad`")
        } else {
            format!("`{key}`")
        };
        let how = if is_summed_index(&name) {
            format!("the summed index `{name}` runs over `{size}`")
        } else {
            format!("the index `{name}` runs over `{size}`")
        };
        self.err(
            Diagnostic::error(
                "E0210",
                m.span,
                format!(
                    "{how}, but dimension {} of {what} has extent `{dim}`",
                    pos + 1
                ),
            )
            .with_label(format!("runs over `{size}`"))
            .with_related(first, format!("dimension {} has extent `{dim}`", pos + 1))
            .with_hint(format!(
                "index that dimension with an index of size `{dim}` (`{}`, or `{dim}` to sum over it); if the two sizes are the same, declare one size",
                lower(&dim)
            )),
        );
    }

    /// A plain index in position `pos` of `key` whose size is not the extent of that
    /// dimension (the test of [`Checker::extent_check`]).
    fn extent_mismatch(
        &self,
        key: &str,
        pos: usize,
        ix: &IndexExpr,
        scope: &Scope,
    ) -> Option<Mismatch> {
        let IndexExpr::Affine(a) = ix else {
            return None;
        };
        let f = a.plain_var()?;
        let name = f.name.as_str();
        if scope.is_loop_var(name)
            || self.loop_vars.contains(name)
            || self.env.symbols.contains_key(name)
        {
            return None;
        }
        let size = if is_summed_index(name) {
            if !self.summed_index_ok(name) {
                return None;
            }
            self.index_size(&lower(name))
        } else {
            self.index_size(name)
        }?;
        let dim = self.env.tensors.get(key)?.dims.get(pos)?.clone();
        // An index over a size already reported as undeclared (`index i : N` with
        // `size n`): that size is the one cause.
        if dim.starts_with(['@', '~', '?']) || dim == size || self.missing.contains_key(&size) {
            return None;
        }
        Some(Mismatch {
            name: name.to_string(),
            span: f.span,
            size,
            dim,
        })
    }

    /// The plain indices of one access of `key` in another order than its dimensions
    /// (`W[j, i]` on `param W[I, J]`): the sizes of the positions that do not match
    /// are the extents of those positions in another order. One E0210 for the access,
    /// with the order that matches, instead of one per position; true when reported
    /// (the caller then skips [`Checker::extent_check`] for this access).
    pub(super) fn transposed_access(
        &mut self,
        key: &str,
        idx: &[IndexExpr],
        scope: &Scope,
        grad: bool,
    ) -> bool {
        let Some(t) = self.env.tensors.get(key) else {
            return false;
        };
        if t.rank != idx.len() {
            return false;
        }
        let (decl, dims) = (t.span, t.dims.clone());
        let wrong: Vec<(usize, Mismatch)> = idx
            .iter()
            .enumerate()
            .filter_map(|(pos, ix)| Some((pos, self.extent_mismatch(key, pos, ix, scope)?)))
            .collect();
        if wrong.len() < 2 {
            return false;
        }
        // Each misplaced index to a misplaced position with its size, in order.
        let mut order: Vec<Option<&str>> = vec![None; idx.len()];
        for (_, m) in &wrong {
            let Some(&(to, _)) = wrong
                .iter()
                .find(|(p, _)| order[*p].is_none() && dims[*p] == m.size)
            else {
                return false;
            };
            order[to] = Some(&m.name);
        }
        let written: Vec<String> = idx
            .iter()
            .map(crate::syntax::printer::print_index)
            .collect();
        let fixed: Vec<String> = written
            .iter()
            .zip(&order)
            .map(|(w, o)| o.map_or_else(|| w.clone(), str::to_string))
            .collect();
        let shape = &dims;
        let swapped: Vec<String> = (0..idx.len())
            .map(|p| {
                wrong
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map_or_else(|| dims[p].clone(), |(_, m)| m.size.clone())
            })
            .collect();
        let name = if grad {
            format!("{key}.grad")
        } else {
            key.to_string()
        };
        let span = wrong[0].1.span.to(wrong[wrong.len() - 1].1.span);
        self.err(
            Diagnostic::error(
                "E0210",
                span,
                format!(
                    "`{name}[{}]` is indexed in another order than it is declared, `{key}[{}]`: the indices are transposed",
                    written.join(", "),
                    shape.join(", ")
                ),
            )
            .with_label("transposed")
            .with_related(decl, format!("declared `{key}[{}]`", shape.join(", ")))
            .with_hint(format!(
                "the indices are transposed: write `{name}[{}]`, in the order of the declaration; or, if `{key}` has the other shape, declare it `{key}[{}]`",
                fixed.join(", "),
                swapped.join(", ")
            )),
        );
        true
    }

    /// `grad T[...] ~ ...`: the gradient has the shape of T, dimension by dimension.
    pub(super) fn grad_extents(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Decl(d) if d.kind == DeclKind::Grad => {
                    let key = self.key_of(&d.target.name);
                    let Some(t) = self.env.tensors.get(&key) else {
                        continue;
                    };
                    let tdims = t.dims.clone();
                    let tspan = t.span;
                    for (pos, ix) in d.target.indices.iter().flatten().enumerate() {
                        let IndexExpr::Affine(a) = ix else { continue };
                        if a.terms.len() != 1 || a.terms[0].factors.len() != 1 {
                            continue;
                        }
                        let f = &a.terms[0].factors[0];
                        if self.loop_vars.contains(&f.name) {
                            continue;
                        }
                        let Some(mine) = self
                            .env
                            .sizes
                            .contains_key(&f.name)
                            .then(|| f.name.clone())
                            .or_else(|| self.index_size(&f.name))
                        else {
                            continue;
                        };
                        let Some(dim) = tdims.get(pos) else { continue };
                        if dim.starts_with(['@', '~', '?']) || *dim == mine {
                            continue;
                        }
                        self.err(
                            Diagnostic::error(
                                "E0210",
                                f.span,
                                format!(
                                    "the gradient arriving at `{}` is declared with extent `{mine}` in dimension {}, but `{key}` has extent `{dim}` there",
                                    print_name(&d.target.name),
                                    pos + 1
                                ),
                            )
                            .with_label(format!("extent `{mine}`"))
                            .with_related(tspan, format!("extent `{dim}`"))
                            .with_hint(format!("a gradient has the shape of its tensor: write `{dim}`")),
                        );
                    }
                }
                ItemKind::Loop(l) => self.grad_extents(&l.body),
                _ => {}
            }
        }
    }

    /// E0306 (a warning): under `boundary circular`, an index plus a constant
    /// (`x[b, i+1]`) is not wrapped — tq reads it, under every rule, as the element at
    /// that position, 0 past the end (docs/moments.md), so the last position reads an
    /// element nobody wrote; a reader of `circular` expects the wrap.
    fn circular_constant_shift(&mut self, key: &str, pos: usize, a: &crate::syntax::ast::Affine) {
        let one_index = a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant != 0;
        let Some(t) = self.env.tensors.get(key) else {
            return;
        };
        let dim = t.dims.get(pos).cloned().unwrap_or_default();
        if !one_index || dim.starts_with('@') {
            return;
        }
        let text = crate::syntax::printer::print_affine(a);
        let i = &a.terms[0].factors[0].name;
        self.err(
            Diagnostic::warning(
                "E0306",
                a.span,
                format!(
                    "`{key}` is read at `{text}` under `boundary circular`, but an index plus a constant is not wrapped: where `{text}` falls outside 0..{dim}-1 it reads 0 (an element nobody wrote), not the element at the other end"
                ),
            )
            .with_hint({
                // One wrapped neighbour is a one-tap window with the constant kept: a
                // window of D taps sums D neighbours, another model (probe33/a a14).
                let c = a.constant;
                let shift = if c < 0 { format!(" - {}", -c) } else { format!(" + {c}") };
                format!(
                    "only shifted reads with a window, stride or sign (`x+dx`, `2{i}+1`, `-{i}`) wrap; for this one wrapped neighbour read through a window of one tap, keeping the constant: `size D1 = 1`, `index dw : D1`, then `{key}[..., {i} + DW{shift}, ...]` (DW is 0 and the read wraps); or say `boundary zero` if zero padding is meant"
                )
            }),
        );
    }

    /// Out-of-extent reads need a declared boundary rule.
    pub(super) fn range_check(&mut self, key: &str, pos: usize, ix: &IndexExpr, scope: &Scope) {
        let IndexExpr::Affine(a) = ix else { return };
        // Positions along a loop variable (recurrences) are checked by the start rule.
        if affine_vars(ix).iter().any(|v| scope.is_loop_var(&v.name)) {
            return;
        }
        if self.env.boundary == Some(crate::syntax::ast::Boundary::Circular) {
            self.circular_constant_shift(key, pos, a);
        }
        if self.env.boundary.is_some() {
            return;
        }
        let plain = a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant == 0;
        let constant = a.terms.is_empty();
        if plain || constant {
            return;
        }
        let Some(t) = self.env.tensors.get(key) else {
            return;
        };
        let dim = t.dims.get(pos).cloned().unwrap_or_default();
        // A derived extent that keeps every read inside (`size X = 2 T`, `x[b, 2t+1]`
        // with `t` over T): nothing can fall outside, whatever the sizes.
        if super::derived_extent::always_inside(&self.env, a, &dim) {
            return;
        }
        let text = crate::syntax::printer::print_affine(a);
        // A capital in an index position sums (`h[b,T-1]` is the sum over t of
        // h[b,t-1]), and a recurrence's extent is that of its loop (`@0`: from its start
        // at 0): say both rather than print the internal extent.
        let summed: Vec<String> = a
            .terms
            .iter()
            .flat_map(|t| t.factors.iter())
            .filter(|f| is_summed_index(&f.name) && self.env.sizes.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect();
        let extent = if dim.starts_with('@') {
            "the positions its loop writes".to_string()
        } else {
            format!("its extent {dim}")
        };
        let hint = match summed.first() {
            Some(cap) => format!(
                "`{cap}` in an index position is a summed index (over {}), not the number {cap}: `{text}` can fall outside; a fixed position is a whole number (`0`, `3`), and reads outside need a boundary rule: `boundary zero`, `boundary circular` or `boundary valid`",
                lower(cap)
            ),
            None => "declare how reads outside a tensor behave: `boundary zero`, `boundary circular` or `boundary valid`".to_string(),
        };
        self.err(
            Diagnostic::error(
                "E0301",
                a.span,
                format!("`{key}` is read at `{text}`, which can fall outside {extent}"),
            )
            .with_hint(hint),
        );
    }
}

/// A plain index whose size is not the extent of its dimension.
struct Mismatch {
    name: String,
    span: Span,
    size: String,
    dim: String,
}
