//! The first two passes: loop variables and family names, then the declarations
//! (sizes, indices, symbols, scalars, tensors, distributions) and the ranks and family
//! arities of tensors defined by equations.

use super::{
    affine_vars, family_key, fixed_positions, walk_refs, Checker, IndexInfo, Kind, Scope,
    TensorInfo, TensorKind, DISTRIBUTIONS,
};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_expr, print_name};
use std::collections::BTreeSet;

impl Checker {
    pub(super) fn collect_loop_vars(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Loop(l) => {
                    self.loop_vars.insert(l.range.var.name.clone());
                    self.env
                        .loop_ranges
                        .entry(l.range.var.name.clone())
                        .or_default()
                        .push((l.range.from.clone(), l.range.to.clone()));
                    let print = |e: &Expr| print_expr(e).replace(" - ", "-").replace(" + ", "+");
                    self.family_ranges
                        .entry(l.range.var.name.clone())
                        .or_insert_with(|| {
                            format!("{}..{}", print(&l.range.from), print(&l.range.to))
                        });
                    self.collect_loop_vars(&l.body);
                }
                ItemKind::Decl(d) => {
                    if let Some(r) = &d.family {
                        self.loop_vars.insert(r.var.name.clone());
                    }
                }
                ItemKind::ForIndices(f) => self.collect_loop_vars(&f.body),
                ItemKind::Rule(r) => {
                    self.loop_vars.insert(r.var.name.clone());
                }
                _ => {}
            }
        }
    }

    /// Whether a name's subscripts are family indices: its key is declared as a family,
    /// or a subscript mentions a loop variable.
    pub(super) fn is_family_ref(&self, n: &Name) -> bool {
        if n.sub.is_empty() {
            return false;
        }
        if let Some(t) = self.env.tensors.get(&family_key(n)) {
            return t.family_arity > 0;
        }
        self.family_keys.contains(&family_key(n))
            || n.sub
                .iter()
                .flat_map(affine_vars)
                .any(|v| self.loop_vars.contains(&v.name))
    }

    /// Finds the names used with a loop variable in a subscript anywhere in the file.
    pub(super) fn collect_family_keys(&mut self, items: &[Item]) {
        let loop_vars = self.loop_vars.clone();
        let visit = |r: &Ref, keys: &mut BTreeSet<String>| {
            if r.name
                .sub
                .iter()
                .flat_map(affine_vars)
                .any(|v| loop_vars.contains(&v.name))
            {
                keys.insert(family_key(&r.name));
            }
        };
        let mut keys = BTreeSet::new();
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    visit(&eq.lhs, &mut keys);
                    walk_refs(&eq.rhs, &mut |r| visit(r, &mut keys));
                }
                ItemKind::Decl(d) if d.family.is_some() => {
                    keys.insert(family_key(&d.target.name));
                }
                ItemKind::Claim(c) => walk_refs(&c.body, &mut |r| visit(r, &mut keys)),
                ItemKind::Loop(l) => self.collect_family_keys(&l.body),
                ItemKind::ForIndices(f) => self.collect_family_keys(&f.body),
                _ => {}
            }
        }
        self.family_keys.extend(keys);
    }

    /// The key under which a referenced name is stored.
    pub(super) fn key_of(&self, n: &Name) -> String {
        if self.is_family_ref(n) {
            family_key(n)
        } else {
            print_name(n)
        }
    }

    pub(super) fn declare_name(&mut self, id: &Ident, what: &'static str) -> bool {
        // A dotted name reads a rule's sequence (`S.theta`); declared (`symbol np.tanh`),
        // `np.tanh(a)` was read as the product of that symbol and `a` (diag33_open).
        if let Some((before, after)) = id.name.split_once('.') {
            let function = crate::sym::func::model_function(after).is_some();
            let hint = if function {
                format!("tq's functions are written bare: `{after}(...)` (no module prefix); to declare a {what}, name it without the dot (`{before}_{after}`)")
            } else {
                format!("name the {what} without the dot (`{before}_{after}`); a dotted name reads a rule's sequence from outside the rule (`S.theta`)")
            };
            self.err(
                Diagnostic::error(
                    "E0108",
                    id.span,
                    format!("`{}` is declared with a `.` in its name", id.name),
                )
                .with_label("a dotted name")
                .with_hint(hint),
            );
            // Declared all the same: its uses are not reported again as undeclared.
        }
        // `size N^{in}`: a label in a superscript is part of a symbol's or a tensor's
        // name, but a size is read in shapes and index positions, where `^` is a power
        // (`param W[J, N^{in}]` failed to parse, and the hint that followed read the
        // label as a power of an undeclared `N`: probe38 k20). A subscript label is
        // read there (`N_in`).
        if what == "size" && id.name.contains("^{") {
            let (base, rest) = id.name.split_once("^{").unwrap_or((&id.name, ""));
            let (labels, after) = rest.split_once('}').unwrap_or((rest, ""));
            let label: String = labels.split(',').collect::<Vec<_>>().join("");
            let plain = if after.is_empty() {
                format!("{base}_{label}")
            } else {
                format!("{base}{after}")
            };
            self.err(
                Diagnostic::error(
                    "E0108",
                    id.span,
                    format!("the size `{}` has a superscript label", id.name),
                )
                .with_label("a size is read in shapes and index positions")
                .with_hint(format!(
                    "a size's name has no superscript label: in a shape or an index position `^` is a power; write `{plain}` (a subscript label: `size {plain}`, `x[{plain}]`, `index k : {plain}`) wherever the size is named"
                )),
            );
        }
        if let Some(prev) = self.env.kind_of(&id.name) {
            self.err(
                Diagnostic::error(
                    "E0102",
                    id.span,
                    format!("`{}` is declared twice (already a {prev})", id.name),
                )
                .with_hint("remove one of the declarations or rename one"),
            );
            return false;
        }
        let _ = what;
        true
    }

    /// First pass: sizes, indices, symbols, scalars, boundary and tensor declarations.
    pub(super) fn declare(&mut self, items: &[Item]) {
        for (k, item) in items.iter().enumerate() {
            match &item.kind {
                ItemKind::Size(ids) => {
                    for id in ids {
                        if self.declare_name(id, "size") {
                            self.declare_size(id);
                        }
                    }
                }
                ItemKind::Symbol(ids) => {
                    for id in ids {
                        if self.declare_name(id, "symbol") {
                            self.env.symbols.insert(id.name.clone(), id.span);
                        }
                    }
                }
                ItemKind::Scalar(ids) => {
                    for id in ids {
                        if self.declare_name(id, "scalar") {
                            self.env.scalars.insert(id.name.clone(), id.span);
                            self.env.scalar_order.push(id.name.clone());
                        }
                    }
                }
                ItemKind::Index {
                    names,
                    size,
                    centered,
                } => {
                    if !self.env.sizes.contains_key(&size.name)
                        && !self.env.symbols.contains_key(&size.name)
                    {
                        let mean = self.did_you_mean(&size.name, &[Kind::Size, Kind::Symbol]);
                        let unprimed = size.name.trim_end_matches('\'');
                        let primed = unprimed.len() < size.name.len()
                            && self.env.sizes.contains_key(unprimed);
                        let hint = match self.size_in_other_case(&size.name) {
                            // `index j' : J'`: a prime belongs to an index's name; the
                            // size is the unprimed one (probe 30b n18: "declare `size J'`").
                            _ if primed => {
                                let listed: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                                format!(
                                    "a prime belongs to an index's name, not to its size: `{}` ranges over `{unprimed}` (and is summed as its capital, `{}`): write `index {} : {unprimed}`",
                                    listed.join("`, `"),
                                    listed.first().map_or(String::new(), |n| n.to_uppercase()),
                                    listed.join(", ")
                                )
                            }
                            Some(other) => format!(
                                "the size is declared as `size {other}`, and a size is named as it is declared: write `: {other}` here (or declare `size {}` instead)",
                                size.name
                            ),
                            None => format!("{mean}declare it first: `size {}`", size.name),
                        };
                        self.missing(
                            &size.name,
                            Diagnostic::error(
                                "E0101",
                                size.span,
                                format!("size `{}` is not declared", size.name),
                            )
                            .with_hint(hint),
                        );
                    }
                    for n in names {
                        if is_summed_index(&n.name) {
                            self.err(
                                Diagnostic::error(
                                    "E0201",
                                    n.span,
                                    format!("index `{}` starts with a capital letter", n.name),
                                )
                                .with_hint("indices are lower-case; their capital form is the summed index"),
                            );
                            continue;
                        }
                        if let Some(prev) = self.env.indices.get(&n.name) {
                            // The first declaration labelled; the fix names a free index
                            // when the sizes differ (session 32: the hint was empty).
                            let (first, before) = (prev.size.clone(), prev.span);
                            let hint = if first == size.name {
                                format!(
                                    "delete this line: `{}` already ranges over `{first}`",
                                    n.name
                                )
                            } else {
                                let free = (2..)
                                    .map(|k| format!("{}{k}", n.name))
                                    .find(|c| {
                                        self.env.kind_of(c).is_none()
                                            && !self.env.indices.contains_key(c)
                                    })
                                    .unwrap_or_default();
                                format!(
                                    "an index ranges over one size, and `{}` already ranges over `{first}`: give the index over `{}` a name of its own, `index {free} : {}`, and write `{free}` where it is meant",
                                    n.name, size.name, size.name
                                )
                            };
                            self.err(
                                Diagnostic::error(
                                    "E0102",
                                    n.span,
                                    format!("index `{}` is declared twice", n.name),
                                )
                                .with_related(before, "first declared here")
                                .with_hint(hint),
                            );
                            continue;
                        }
                        self.env.indices.insert(
                            n.name.clone(),
                            IndexInfo {
                                size: size.name.clone(),
                                centered: *centered,
                                span: n.span,
                            },
                        );
                    }
                }
                ItemKind::Boundary(b) => {
                    if self.env.boundary.is_some() {
                        self.err(
                            Diagnostic::error("E0102", item.span, "the boundary is declared twice")
                                .with_hint("one `boundary` line per file"),
                        );
                    }
                    self.env.boundary = Some(*b);
                }
                ItemKind::Decl(d) => self.declare_tensor(d),
                ItemKind::Loop(l) => self.declare(&l.body),
                ItemKind::Rule(r) => {
                    if let Some(first) = self.env.rules.get(&r.name.name).copied() {
                        // The rule's updates split over two blocks, or two rules with one
                        // name (issue #18: no hint). Right after the first block, deleting
                        // this header joins its updates to it: one rule, as meant.
                        let adjacent = k > 0
                            && matches!(&items[k - 1].kind, ItemKind::Rule(p) if p.name.name == r.name.name);
                        let var = &r.var.name;
                        let hint = if adjacent {
                            format!(
                                "a rule's updates are one block: delete this line, and the updates below it join the first `rule {} over {var}:` block; or, for a second rule, give it a name of its own (`rule {}2 over {var}:`)",
                                r.name.name, r.name.name
                            )
                        } else {
                            format!(
                                "a rule's updates are one block: move the updates below this header into the first `rule {} over {var}:` block and delete this header; or, for a second rule, give it a name of its own (`rule {}2 over {var}:`)",
                                r.name.name, r.name.name
                            )
                        };
                        self.err(
                            Diagnostic::error(
                                "E0102",
                                r.name.span,
                                format!("rule `{}` is declared twice", r.name.name),
                            )
                            .with_related(first, "first declared here")
                            .with_hint(hint),
                        );
                    }
                    self.env.rules.insert(r.name.name.clone(), r.name.span);
                    let mut written = std::collections::BTreeSet::new();
                    let mut read = Vec::new();
                    for it in &r.body {
                        if let ItemKind::Equation(eq) = &it.kind {
                            written.insert(eq.lhs.name.base.clone());
                            super::walk_refs(&eq.rhs, &mut |x| {
                                if x.indices.is_some() {
                                    read.push(x.name.base.clone());
                                }
                            });
                        }
                    }
                    self.env
                        .rule_inputs
                        .extend(read.into_iter().filter(|n| !written.contains(n)));
                }
                _ => {}
            }
        }
    }

    pub(super) fn declare_tensor(&mut self, d: &Decl) {
        let n = &d.target.name;
        let family_arity = if d.family.is_some() || self.is_family_ref(n) {
            n.sub.len()
        } else {
            0
        };
        let key = if family_arity > 0 {
            family_key(n)
        } else {
            print_name(n)
        };
        // A tensor may share its letter with a size (the seeds' bias `B[j]` beside the
        // batch size `B`: an index position tells them apart), not with a symbol or a
        // scalar, which formulas read without indices.
        if let Some(prev) = self
            .env
            .kind_of(&key)
            .filter(|k| matches!(*k, "symbol" | "scalar"))
        {
            let first = self.first_span(&key);
            let mut diag = Diagnostic::error(
                "E0102",
                n.span,
                format!("`{key}` is declared twice (already a {prev})"),
            )
            .with_label("declared again here")
            .with_hint(
                "a name is a size, a symbol, a scalar or a tensor, not two of them: rename one",
            );
            if let Some(sp) = first {
                diag = diag.with_related(sp, "first declared here");
            }
            self.err(diag);
        }
        // `param E[V, I]`: `E[...]`, `Var[...]` and `Cov[...]` are read as moments, so
        // every use of such a tensor would be an unknown function (probe 30d d38). The
        // declaration is the one diagnostic; its uses are not reported again.
        if d.target.indices.is_some() && matches!(n.base.as_str(), "E" | "Var" | "Cov") {
            self.err(
                Diagnostic::error(
                    "E0102",
                    n.span,
                    format!("`{}` is tq's name for a moment and cannot name a tensor", n.base),
                )
                .with_label("a reserved name")
                .with_hint(format!(
                    "`{0}[...]` is read as the moment `{0}(...)` wherever it is written: give the tensor another name (`{0}m`, `{0}mb`)",
                    n.base
                )),
            );
        }
        if d.kind == DeclKind::Grad {
            let member = print_name(n);
            if let Some(first) = self.grad_decls.get(&member).copied() {
                self.err(
                    Diagnostic::error(
                        "E0102",
                        n.span,
                        format!("the gradient arriving at `{member}` is declared twice"),
                    )
                    .with_label("declared again here")
                    .with_related(first, "first declared here")
                    .with_hint("keep one `grad` declaration per tensor"),
                );
            } else {
                self.grad_decls.insert(member.clone(), n.span);
            }
            self.env.grad_seeds.push((key, member));
            return;
        }
        let rank = d.target.indices.as_ref().map_or(0, |v| v.len());
        // Dimensions: sizes, indices, or fixed positions (the start of a recurrence).
        let mut dims = Vec::new();
        for ix in d.target.indices.iter().flatten() {
            dims.push(self.decl_dim(ix));
        }
        let is_int = matches!(&d.init, Some(Init::Dist(c)) if c.func.name == "categorical");
        if let Some(Init::Dist(c)) = &d.init {
            self.check_distribution(d, c);
        }
        {
            let member = print_name(n);
            let fixed = fixed_positions(&dims);
            let seen = self.member_decls.entry(member.clone()).or_default();
            if let Some((_, first, was)) = seen.iter().find(|(f, _, _)| *f == fixed).cloned() {
                let kind = |k: DeclKind| match k {
                    DeclKind::Param => "a `param`",
                    DeclKind::Input => "an `input`",
                    DeclKind::Grad => "a `grad`",
                };
                // A family member or a recurrence's start is declared once per start;
                // a plain tensor once: keep one, or name the second tensor apart.
                let hint = if !n.sub.is_empty() || !fixed.is_empty() {
                    "keep one declaration; a family or a recurrence declares each start once (`input L_0[...]`, `input h[B, 0, J]`)".to_string()
                } else if was == d.kind {
                    format!(
                        "keep one declaration of `{member}` (delete one of the two lines); a second tensor needs a name of its own (`{member}2`)"
                    )
                } else {
                    format!(
                        "`{member}` is already {}: keep one declaration (a tensor is data or a parameter, not both), or give the second tensor a name of its own (`{member}2`)",
                        kind(was)
                    )
                };
                self.err(
                    Diagnostic::error(
                        "E0102",
                        d.target.span,
                        format!("`{member}` is declared twice"),
                    )
                    .with_label("declared again here")
                    .with_related(first, "first declared here")
                    .with_hint(hint),
                );
            } else {
                seen.push((fixed, d.target.span, d.kind));
            }
        }
        if let Some(existing) = self.env.tensors.get(&key) {
            if existing.rank != rank {
                let span = d.target.span;
                let (r0, k) = (existing.rank, key.clone());
                self.err(
                    Diagnostic::error(
                        "E0202",
                        span,
                        format!("`{k}` is declared with rank {r0} and here with rank {rank}"),
                    )
                    .with_hint("every member of a family has the same rank"),
                );
            }
            let constants = self.constant_subscripts(n);
            if let Some(t) = self.env.tensors.get_mut(&key) {
                if let Some(cs) = constants {
                    t.start_members.push(cs);
                }
                t.start_positions.extend(fixed_positions(&dims));
            }
            return;
        }
        let constants = self.constant_subscripts(n);
        let kind = match d.kind {
            DeclKind::Param => TensorKind::Param,
            _ => TensorKind::Input,
        };
        let fixed = fixed_positions(&dims);
        self.env.tensors.insert(
            key.clone(),
            TensorInfo {
                rank,
                family_arity,
                kind,
                span: d.target.span,
                dims,
                is_int,
                start_members: constants.into_iter().collect(),
                start_positions: fixed,
            },
        );
        self.env.decl_order.push(key);
    }

    /// The integer values of a family member's subscripts (`L_0` → [0]), if all constant.
    pub(super) fn constant_subscripts(&self, n: &Name) -> Option<Vec<i64>> {
        if n.sub.is_empty() {
            return None;
        }
        n.sub
            .iter()
            .map(|ix| match ix {
                IndexExpr::Affine(a) if a.terms.is_empty() => Some(a.constant),
                _ => None,
            })
            .collect()
    }

    pub(super) fn decl_dim(&mut self, ix: &IndexExpr) -> String {
        match ix {
            IndexExpr::Affine(a) if a.terms.is_empty() => format!("@{}", a.constant),
            // A plain name only: `2 X` or `X + 1` was read as `X` (session 23).
            IndexExpr::Affine(a) if a.plain_var().is_some() => {
                let f = &a.terms[0].factors[0];
                if self.env.sizes.contains_key(&f.name) {
                    f.name.clone()
                } else if let Some(size) = self.index_size(&f.name) {
                    size
                } else {
                    let name = f.name.clone();
                    let cause = name.trim_end_matches('\'').to_uppercase();
                    let mean = self.did_you_mean(&name, &[Kind::Size, Kind::Index]);
                    let hint = match self.size_in_other_case(&name) {
                        Some(other) => format!(
                            "the size is declared as `size {other}`, and a size is named as it is declared: write `{other}` here (or declare `size {name}` instead)"
                        ),
                        None => format!("{mean}declare `size {cause}` or use a declared size"),
                    };
                    self.missing(
                        &cause,
                        Diagnostic::error(
                            "E0201",
                            f.span,
                            format!("`{name}` is neither a declared size nor an index with a size"),
                        )
                        .with_hint(hint),
                    );
                    "?".to_string()
                }
            }
            other => {
                self.err(
                    Diagnostic::error(
                        "E0201",
                        other.span(),
                        "a declared dimension must be a size, an index or an integer position",
                    )
                    .with_hint(format!(
                        "write the size, e.g. `W[J, I]`; for an extent computed from sizes, declare a size for it (`size U = {}`) and write `U`",
                        crate::syntax::printer::print_index(other)
                    )),
                );
                "?".to_string()
            }
        }
    }

    /// The size of a lower-case index: declared with `index`, or its upper-case letter
    /// (primes stripped) declared with `size`.
    pub(super) fn index_size(&self, name: &str) -> Option<String> {
        self.env.index_size(name)
    }

    /// A declaration's distribution: a known name with its number of arguments (E0103),
    /// parameters that name declared values (E0101) in their range (E0106), and read only
    /// indices the declaration binds (E0203). The references of the parameters are
    /// walked once for both E0101 and E0203.
    pub(super) fn check_distribution(&mut self, d: &Decl, c: &Call) {
        match DISTRIBUTIONS.iter().find(|(n, _)| *n == c.func.name) {
            None => {
                let known: Vec<&str> = DISTRIBUTIONS.iter().map(|(n, _)| *n).collect();
                let written = c.func.name.to_lowercase();
                // The names other texts give the distributions tq has.
                let mean = match written.as_str() {
                    "gaussian" | "gauss" | "norm" | "n" => Some("normal"),
                    "unif" | "rand" => Some("uniform"),
                    "bern" | "binary" => Some("bernoulli"),
                    "cat" | "multinomial" | "discrete" => Some("categorical"),
                    _ => crate::diag::suggest(&c.func.name, known.iter().copied()),
                };
                let mean = mean
                    .map(|m| {
                        let args = DISTRIBUTIONS
                            .iter()
                            .find(|(n, _)| *n == m)
                            .map_or(1, |(_, n)| *n);
                        let form = match m {
                            "normal" => "normal(mean, variance)".to_string(),
                            "uniform" => "uniform(lo, hi)".to_string(),
                            _ => format!("{m}({})", vec!["..."; args].join(", ")),
                        };
                        format!("did you mean `{m}`? (`{form}`) ")
                    })
                    .unwrap_or_default();
                self.err(
                    Diagnostic::error(
                        "E0103",
                        c.func.span,
                        format!("unknown distribution `{}`", c.func.name),
                    )
                    .with_hint(format!("{mean}known distributions: {}", known.join(", "))),
                );
            }
            Some((name, n)) if *n != c.args.len() => {
                let form = match *name {
                    "normal" => "normal(mean, variance)".to_string(),
                    "uniform" => "uniform(lo, hi)".to_string(),
                    "moments" => "moments(mean, second_moment)".to_string(),
                    _ => format!("{name}({})", vec!["..."; *n].join(", ")),
                };
                self.err(
                    Diagnostic::error(
                        "E0103",
                        c.span,
                        format!(
                            "distribution `{name}` takes {n} argument{}, not {}",
                            if *n == 1 { "" } else { "s" },
                            c.args.len()
                        ),
                    )
                    .with_hint(format!(
                        "write `{form}` (docs/language.md, \"Tensors: declarations\"){}",
                        if *name == "normal" {
                            ": the second argument is the variance, `normal(0, sigma^2)`"
                        } else {
                            ""
                        }
                    )),
                );
            }
            _ => {}
        }
        let scope = Scope::default();
        let bound = declaration_binds(d);
        let mut reported = BTreeSet::new();
        let mut unbound = Vec::new();
        for a in &c.args {
            crate::syntax::visit::walk_refs(a, &mut |r: &Ref| {
                if let Some(d) = self.index_as_number(d, r, &bound) {
                    self.err(d);
                    return;
                }
                self.scalar_ref(r, &scope, false);
                self.unbound_parameter_index(d, r, &bound, &mut reported, &mut unbound);
            });
        }
        self.distribution_parameters(c);
        for diag in unbound {
            self.err(diag);
        }
    }

    /// E0101 for an index read as a number in a distribution's argument (`input x[b, i]
    /// ~ normal(0, i + 1)`, probe 30c f25): an index selects elements and has no value
    /// of its own there; the hint says what the argument may read.
    fn index_as_number(&self, d: &Decl, r: &Ref, bound: &BTreeSet<String>) -> Option<Diagnostic> {
        let key = self.key_of(&r.name);
        if r.indices.is_some()
            || r.grad
            || !super::terms::is_bare_index(&key)
            || self.is_scalar_name(&key, &Scope::default())
            || self.env.tensors.contains_key(&key)
        {
            return None;
        }
        let size = self.env.index_size(&key)?;
        let target = print_name(&d.target.name);
        let example = if bound.contains(&key) {
            format!(
                "`normal(0, v[{key}])` with `input v[{size}]` holding one value per position, or `normal(0, s^2)`"
            )
        } else {
            "`normal(0, s^2)` with `symbol s`".to_string()
        };
        Some(
            Diagnostic::error(
                "E0101",
                r.name.span,
                format!("index `{key}` is read as a number in the distribution of `{target}`"),
            )
            .with_label("an index, not a value")
            .with_hint(format!(
                "an index selects elements and has no value of its own here: a distribution's argument may read numbers, sizes, symbols, a family's variable (`l` in `... for l in 1..L`) and tensors at the indices the declaration binds: {example}"
            )),
        )
    }

    /// A distribution's parameter may read an index (`u[i] ~ bernoulli(q[i])`: each
    /// element drawn with its own parameter) only when the declaration binds it: one of
    /// its index positions, its family variable or a subscript of its name. E0203, once
    /// per index name (`reported`), collected in `found`.
    fn unbound_parameter_index(
        &self,
        d: &Decl,
        r: &Ref,
        bound: &BTreeSet<String>,
        reported: &mut BTreeSet<String>,
        found: &mut Vec<Diagnostic>,
    ) {
        for ix in r.indices.iter().flatten() {
            let IndexExpr::Affine(af) = ix else { continue };
            for t in &af.terms {
                for f in &t.factors {
                    let lower = f.name.chars().next().is_some_and(|ch| ch.is_lowercase());
                    if !lower || bound.contains(&f.name) {
                        continue;
                    }
                    let Some(size) = self.env.index_size(&f.name) else {
                        continue;
                    };
                    if !reported.insert(f.name.clone()) {
                        continue;
                    }
                    found.push(
                        Diagnostic::error(
                            "E0203",
                            af.span,
                            format!(
                                "the distribution's parameter reads index `{}`, which the declaration does not bind",
                                f.name
                            ),
                        )
                        .with_hint(format!(
                            "to draw each element with its own parameter, index the declared tensor with `{}` (`{}[..., {}, ...]` over `{size}`); to use one value for every element, do not index the parameter",
                            f.name,
                            print_name(&d.target.name),
                            f.name
                        )),
                    );
                }
            }
        }
    }

    /// A distribution's parameters that are numbers must lie in their range: a
    /// probability in [0, 1], a variance or second moment >= 0 (a second moment at least
    /// the mean squared), `uniform(lo, hi)` with lo < hi, `categorical(n)` a whole
    /// number >= 1. A parameter that names symbols is left to the domains
    /// (`check::domains`). E0106.
    fn distribution_parameters(&mut self, c: &Call) {
        use num_traits::{One, Zero};
        let value = |e: &Expr| -> Option<num_rational::BigRational> {
            let text = crate::syntax::printer::print_expr(e);
            let x = crate::sym::parse_ascii(&text).ok()?;
            if !x.free_symbols().is_empty() {
                return None;
            }
            x.eval_exact(&Default::default()).ok()
        };
        let vals: Vec<Option<num_rational::BigRational>> = c.args.iter().map(value).collect();
        let name = c.func.name.as_str();
        let zero = num_rational::BigRational::zero();
        let one = num_rational::BigRational::one();
        let bad = |k: usize, what: &str, hint: &str| -> Option<(usize, String, String)> {
            Some((k, what.to_string(), hint.to_string()))
        };
        let problem = match (name, vals.as_slice()) {
            ("bernoulli", [Some(p)]) if *p < zero || *p > one => bad(
                0,
                &format!("the probability of `bernoulli` is {p}, outside [0, 1]"),
                "a Bernoulli mask is 1 with probability p: write a number from 0 to 1 (`bernoulli(0.8)`), or a symbol (`symbol p`, `bernoulli(p)`)",
            ),
            ("normal" | "symmetric", [.., Some(v)]) if *v < zero => bad(
                c.args.len() - 1,
                &format!("the variance of `{name}` is {v}, which is negative"),
                "the last parameter is the variance (not the standard deviation): write it >= 0, e.g. `normal(0, 1)` or `normal(0, sigma^2)`",
            ),
            ("moments", [m, Some(s)])
                if *s < zero || m.as_ref().is_some_and(|m| *s < m * m) =>
            {
                bad(
                    1,
                    &format!("the second moment of `moments` is {s}, less than the mean squared"),
                    "`moments(mean, second_moment)` takes E[x] and E[x^2], and E[x^2] >= E[x]^2",
                )
            }
            ("uniform", [Some(lo), Some(hi)]) if lo >= hi => bad(
                1,
                &format!("`uniform({lo}, {hi})` has its upper end not above its lower end"),
                "write `uniform(lo, hi)` with lo < hi",
            ),
            ("categorical", [Some(n)]) if !n.is_integer() || *n < one => bad(
                0,
                &format!("`categorical` takes the number of classes, a whole number >= 1, not {n}"),
                "`categorical(n)` draws whole numbers 0..n-1: write a size (`categorical(V)`) or a whole number >= 1",
            ),
            _ => None,
        };
        if let Some((k, msg, hint)) = problem {
            let span = c.args.get(k).map(|a| a.span()).unwrap_or(c.span);
            self.err(Diagnostic::error("E0106", span, msg).with_hint(hint));
        }
    }

    /// Second pass: tensors defined by equations get their rank and family arity.
    pub(super) fn families_from_defs(&mut self, items: &[Item]) {
        self.families_in(items, &mut Vec::new());
    }

    /// `loops`: the variables of the loops around `items`.
    fn families_in(&mut self, items: &[Item], loops: &mut Vec<String>) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.define_from(eq, loops),
                ItemKind::Loop(l) => {
                    loops.push(l.range.var.name.clone());
                    self.families_in(&l.body, loops);
                    loops.pop();
                }
                ItemKind::ForIndices(f) => self.families_in(&f.body, loops),
                _ => {}
            }
        }
    }

    /// wrong42 (issue #14): a dimension is along a loop variable (`~t`) only where a loop
    /// over it encloses the statement; `y[b,t] = [t >= 1] x[b,t]` written before `for t in
    /// 1..T-1` is over `T` (it was `~t`, so a claim's `t` was drawn as a real there).
    fn define_from(&mut self, eq: &Equation, loops: &[String]) {
        let n = &eq.lhs.name;
        let family = self.is_family_ref(n);
        let key = self.key_of(n);
        let constants = if family {
            self.constant_subscripts(n)
        } else {
            None
        };
        if let Some(cs) = &constants {
            self.start_equations
                .entry((key.clone(), cs.clone()))
                .or_insert(eq.lhs.span);
        }
        if let Some(t) = self.env.tensors.get_mut(&key) {
            if let Some(cs) = constants {
                t.start_members.push(cs);
            }
            return;
        }
        if self.env.scalars.contains_key(&key) || self.env.symbols.contains_key(&key) {
            return;
        }
        let rank = eq.lhs.indices.as_ref().map_or(0, |v| v.len());
        if rank == 0 && !family {
            self.env.computed_scalars.insert(key.clone());
            self.env.scalars.insert(key.clone(), eq.lhs.span);
            self.env.scalar_order.push(key);
            return;
        }
        let mut dims = Vec::new();
        for (pos, ix) in eq.lhs.indices.iter().flatten().enumerate() {
            let dim = match ix {
                IndexExpr::Affine(a) if a.terms.len() == 1 && a.terms[0].factors.len() == 1 => {
                    let f = &a.terms[0].factors[0].name;
                    if loops.contains(f) {
                        format!("~{f}")
                    } else if a.terms[0].coef == 1 {
                        // A plain index, or one shifted by a constant (`h[b,h+1]`, the
                        // documented valid form of a centred window): the index's size.
                        self.index_size(f).unwrap_or_else(|| "?".into())
                    } else {
                        // `y[b,2x]`, `y[b,x+1]`: was taken as `y[b,x]`, extent X, while
                        // the statement writes positions up to 2X - 1 (or X).
                        self.unknown_written_extent(n, pos, a);
                        "?".to_string()
                    }
                }
                IndexExpr::Affine(a)
                    if !a.terms.is_empty()
                        && !a
                            .terms
                            .iter()
                            .flat_map(|t| &t.factors)
                            .any(|f| self.loop_vars.contains(&f.name)) =>
                {
                    self.unknown_written_extent(n, pos, a);
                    "?".to_string()
                }
                _ => "?".to_string(),
            };
            dims.push(dim);
        }
        self.env.tensors.insert(
            key.clone(),
            TensorInfo {
                rank,
                family_arity: if family { n.sub.len() } else { 0 },
                kind: TensorKind::Computed,
                span: eq.lhs.span,
                dims,
                is_int: false,
                start_members: constants.into_iter().collect(),
                start_positions: vec![],
            },
        );
        self.env.decl_order.push(key);
    }
}

impl Checker {
    /// E0212: a computed tensor's first statement writes a dimension at a shifted or
    /// strided position (`y[b,2x] = ...`, `y[b,x+1] = ...`, `z[b,2y+dx] += ...`), so that
    /// statement does not say the dimension's extent (the extent of a computed tensor is
    /// its first left side's: a plain index over a size). It was taken as the index's size
    /// (`2x` over X as extent X) while the statement writes positions past it: the gradient
    /// arriving there, the Monte Carlo pools and the moments read another tensor than the
    /// one written.
    fn unknown_written_extent(&mut self, n: &Name, pos: usize, a: &Affine) {
        let name = print_name(n);
        let written = crate::syntax::printer::print_affine(a);
        self.err(
            Diagnostic::error(
                "E0212",
                a.span,
                format!(
                    "the first statement that computes `{name}` writes its dimension {} at `{written}`, a shifted or strided position, which does not say the dimension's extent",
                    pos + 1
                ),
            )
            .with_label("the extent of this dimension is not known")
            .with_hint(format!(
                "define `{name}` first over a plain index of the size it has (e.g. `size U = 2 X` and `{name}[..., u, ...] = 0`), then add the parts with `+=` (`{name}[..., {written}, ...] += ...`); or write the output at a plain index and shift the read instead"
            )),
        );
    }
}

/// The index names a declaration binds: those of its index positions and of its name's
/// subscripts, and its family variable.
fn declaration_binds(d: &Decl) -> BTreeSet<String> {
    let mut bound = BTreeSet::new();
    let affine_names = |ix: &IndexExpr, out: &mut BTreeSet<String>| {
        if let IndexExpr::Affine(a) = ix {
            for t in &a.terms {
                out.extend(t.factors.iter().map(|f| f.name.clone()));
            }
        }
    };
    for ix in d.target.indices.iter().flatten() {
        affine_names(ix, &mut bound);
    }
    for ix in &d.target.name.sub {
        affine_names(ix, &mut bound);
    }
    if let Some(f) = &d.family {
        bound.insert(f.var.name.clone());
    }
    bound
}
