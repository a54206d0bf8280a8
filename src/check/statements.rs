//! The third pass: every statement in order with what is in scope (bindings, rules,
//! equations, family subscripts and family starts).

use super::{affine_vars, family_key, walk_refs, Checker, Kind, Scope, MAX_SAMPLE_SIZE};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_name, print_ref};
use crate::syntax::span::Span;
use std::collections::BTreeMap;

mod slips;

impl Checker {
    /// E0410 for a loop whose range runs backwards: its last value minus its first is
    /// negative at every size (`for l in 3..1:`, `L..L-2`, `T..0`; the loop has no
    /// members), or at most zero and zero only where every size it names is 1 (`T..1`:
    /// one member at T = 1, none beyond). Sizes fixed by a value are the expansion's
    /// (`check::members`), which reports the same with their values. Returns whether it
    /// reported.
    fn range_backwards(&mut self, l: &Loop) -> bool {
        self.backwards_range(&l.range, None)
    }

    /// [`Self::range_backwards`] for a loop (`family` is None) or a family declaration
    /// (`param W_l ... for l in 10..1`, whose family has no members: it was read as 0
    /// everywhere with no diagnostic, session 31).
    fn backwards_range(&mut self, range: &Range, family: Option<&Name>) -> bool {
        let Some((largest, names)) = super::members::Form::backwards(&range.from, &range.to, |n| {
            self.env.sizes.contains_key(n)
        }) else {
            return false;
        };
        // The ends as an author writes them (`L-1`, not the printer's `L - 1`).
        let print = |e: &Expr| {
            crate::syntax::printer::print_expr(e)
                .replace(" - ", "-")
                .replace(" + ", "+")
        };
        let (a, b) = (print(&range.from), print(&range.to));
        let var = &range.var.name;
        let what = if largest < 0 {
            "it has no members at any size".to_string()
        } else {
            let names: Vec<String> = names.iter().map(|n| format!("{n} = 1")).collect();
            format!(
                "it has one member at {} and none at larger sizes",
                names.join(", ")
            )
        };
        let (whose, hint) = match family {
            None => (
                "the loop".to_string(),
                format!(
                    "a range is written first value first: `for {var} in {b}..{a}:` (a loop that runs from the last value down, a backward recurrence, adds the word reversed after the range)"
                ),
            ),
            Some(n) => (
                format!("the family `{}`", family_key(n)),
                format!(
                    "a range is written first value first: `{} ... for {var} in {b}..{a}`",
                    print_name(n)
                ),
            ),
        };
        self.err(
            Diagnostic::error(
                "E0410",
                range.span,
                format!("the range of {whose} runs from `{a}` down to `{b}`: {what}"),
            )
            .with_label("this range")
            .with_hint(hint),
        );
        true
    }

    /// E0402 for a declaration whose family subscript names a variable that nothing
    /// binds on its line: `param W_l[J, J] ~ ...` without `for l in ...`, read as `W_l`
    /// in a loop over `l`, declared no member, and every member read as 0 with no
    /// diagnostic (probe30/b n05c); a declaration inside a loop declares one tensor, not
    /// one per value of the loop variable, and was read as 0 alike.
    fn decl_subscripts_bound(&mut self, d: &Decl, scope: &Scope) {
        let n = &d.target.name;
        if !self.is_family_ref(n) {
            return;
        }
        let own = d.family.as_ref().map(|r| r.var.name.as_str());
        let mut seen = std::collections::BTreeSet::new();
        for ix in &n.sub {
            for v in affine_vars(ix) {
                let label = matches!(v.name.as_str(), "left" | "up" | "right" | "down");
                if label
                    || own == Some(v.name.as_str())
                    || self.env.symbols.contains_key(&v.name)
                    || self.env.sizes.contains_key(&v.name)
                    || !seen.insert(v.name.clone())
                {
                    continue;
                }
                let member = print_name(n);
                let head = match d.kind {
                    DeclKind::Param => "param",
                    DeclKind::Input => "input",
                    DeclKind::Grad => "grad",
                };
                // The range of a loop over the variable, as the family's range.
                let range = self
                    .family_ranges
                    .get(&v.name)
                    .cloned()
                    .unwrap_or_else(|| format!("1..{}", v.name.to_uppercase()));
                let var = &v.name;
                let (message, hint) = if scope.is_loop_var(var) {
                    (
                        format!(
                            "`{member}` is declared inside the loop over `{var}`: a declaration declares one tensor, not one per value of `{var}`"
                        ),
                        format!(
                            "declare the family before the loop, with its range at the end of the line: `{head} {member}[...] ... for {var} in {range}`"
                        ),
                    )
                } else if let Some(own) = own {
                    (
                        format!(
                            "`{var}` in `{member}` is not bound: the declaration's family variable is `{own}`"
                        ),
                        format!(
                            "write the subscript in the family variable `{own}`, or bind `{var}` instead: `{head} {member}[...] ... for {var} in ...`"
                        ),
                    )
                } else {
                    (
                        format!(
                            "`{var}` in `{member}` is not bound: the declaration has no `for {var} in ...`, so it declares no member of `{}`",
                            family_key(n)
                        ),
                        format!(
                            "declare the family with its range at the end of the line: `{head} {member}[...] ... for {var} in {range}`"
                        ),
                    )
                };
                self.err(Diagnostic::error("E0402", v.span, message).with_hint(hint));
            }
        }
    }

    /// Third pass: every statement in order, with what is in scope.
    pub(super) fn items(&mut self, items: &[Item], scope: &mut Scope) {
        let mut defined_here: Vec<(String, Vec<IndexExpr>, Option<Vec<IndexExpr>>)> = Vec::new();
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    self.equation(eq, scope);
                    defined_here.push((
                        self.key_of(&eq.lhs.name),
                        eq.lhs.name.sub.clone(),
                        eq.lhs.indices.clone(),
                    ));
                }
                ItemKind::Loop(l) => {
                    self.scalar_expr(&l.range.from, scope, false);
                    self.scalar_expr(&l.range.to, scope, false);
                    if scope.is_loop_var(&l.range.var.name) {
                        self.err(
                            Diagnostic::error(
                                "E0102",
                                l.range.var.span,
                                format!(
                                    "loop variable `{}` is already bound by an enclosing loop",
                                    l.range.var.name
                                ),
                            )
                            .with_hint("use another name for the inner loop"),
                        );
                    }
                    let backwards = self.range_backwards(l);
                    scope
                        .loops
                        .push((l.range.var.name.clone(), l.range.from.clone()));
                    self.items(&l.body, scope);
                    // A loop that runs backwards has no first iteration to start from:
                    // its E0410 is the cause, the missing start a consequence.
                    if !backwards {
                        self.check_starts(&l.body, &l.range.var.name, &l.range.from, &l.range.to);
                    }
                    scope.loops.pop();
                }
                ItemKind::ForIndices(f) => {
                    let mut inner = scope.clone();
                    let mut set = scope.for_indices.clone().unwrap_or_default();
                    for ix in &f.indices {
                        if is_summed_index(&ix.name) {
                            self.err(
                                Diagnostic::error(
                                    "E0201",
                                    ix.span,
                                    format!("loop index `{}` has no size", ix.name),
                                )
                                .with_hint(format!(
                                    "declare `size {}` or `index {} : N`",
                                    ix.name.trim_end_matches('\'').to_uppercase(),
                                    ix.name
                                )),
                            );
                        } else if self.index_size(&ix.name).is_none() {
                            let cause = ix.name.trim_end_matches('\'').to_uppercase();
                            let mean = self.did_you_mean(&ix.name, &[Kind::Index]);
                            self.missing(
                                &cause,
                                Diagnostic::error(
                                    "E0201",
                                    ix.span,
                                    format!("loop index `{}` has no size", ix.name),
                                )
                                .with_hint(format!(
                                    "{mean}declare `size {cause}` or `index {} : N`",
                                    ix.name
                                )),
                            );
                        }
                        set.insert(ix.name.clone());
                    }
                    inner.for_indices = Some(set);
                    self.items(&f.body, &mut inner);
                }
                ItemKind::Rule(r) => {
                    let mut inner = scope.clone();
                    inner.rule_var = Some(r.var.name.clone());
                    self.rule(r, &mut inner);
                }
                ItemKind::At(bs) | ItemKind::Sample(bs) => {
                    let is_sample = matches!(item.kind, ItemKind::Sample(_));
                    for b in bs {
                        self.binding(b, is_sample);
                        if self.env.symbols.contains_key(&b.name.name) && !whole_value(&b.value) {
                            self.env.fractional.insert(b.name.name.clone());
                        }
                    }
                    if is_sample {
                        for b in bs {
                            self.bound_once(b, "sample");
                        }
                    } else {
                        self.bindings_once(bs, "at");
                    }
                }
                ItemKind::Claim(c) => {
                    self.claim(c, scope);
                    self.givens(&c.given, &c.at, Some(&c.body));
                }
                ItemKind::Derivation(d) => {
                    self.givens(&d.given, &[], None);
                    for st in &d.steps {
                        if let Some(r) = &st.rule {
                            if !crate::syntax::ast::DERIVATION_RULES
                                .iter()
                                .any(|(n, _)| *n == r.name)
                            {
                                self.err(
                                    Diagnostic::error(
                                        "E0703",
                                        r.span,
                                        format!("`{}` is not a rule tq knows", r.name),
                                    )
                                    .with_label("unknown rule")
                                    .with_hint(format!(
                                        "{}the rules are listed in docs/derivations.md: {}",
                                        crate::diag::suggest(
                                            &r.name,
                                            crate::syntax::ast::DERIVATION_RULES
                                                .iter()
                                                .map(|(n, _)| *n)
                                        )
                                        .map(|s| format!("did you mean `{s}`? "))
                                        .unwrap_or_default(),
                                        crate::syntax::ast::DERIVATION_RULES
                                            .iter()
                                            .map(|(n, _)| *n)
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    )),
                                );
                            }
                        }
                    }
                    for (_, c) in d.step_claims() {
                        self.claim(&c, scope);
                    }
                }
                ItemKind::Decl(d) => {
                    if let Some(Init::Value(e)) = &d.init {
                        self.scalar_expr(e, scope, false);
                        self.value_calls(item, e);
                    }
                    if let Some(r) = &d.family {
                        self.scalar_expr(&r.from, scope, false);
                        self.scalar_expr(&r.to, scope, false);
                        self.backwards_range(r, Some(&d.target.name));
                    }
                    self.decl_subscripts_bound(d, scope);
                }
                _ => {}
            }
        }
        let _ = defined_here;
    }

    pub(super) fn binding(&mut self, b: &Binding, is_sample: bool) {
        let name = &b.name.name;
        let known = self.env.sizes.contains_key(name)
            || self.env.symbols.contains_key(name)
            || self.env.scalars.contains_key(name);
        if !known {
            let mean = self.did_you_mean(name, &[Kind::Size, Kind::Symbol, Kind::Scalar]);
            let line = if is_sample { "sample" } else { "at" };
            let declare = if is_sample {
                format!("`size {name}` for a size, `symbol {name}` for a parameter")
            } else {
                format!("`scalar {name}` for an input of the scalar program")
            };
            if let Some(size) = self.size_in_other_case(name) {
                self.size_case_slips.insert(size.clone());
                self.err(
                    Diagnostic::error(
                        "E0101",
                        b.name.span,
                        format!("`{name}` is not declared; the size is `{size}`"),
                    )
                    .with_label("a size named in the other case")
                    .with_hint(format!(
                        "a size is named as it is declared (`size {size}`): write `{size} = ...`"
                    )),
                );
                return;
            }
            if let Some(info) = self.env.tensors.get(name) {
                // `at x = 2` for a tensor: its elements come from its declaration.
                let kind = match info.kind {
                    super::TensorKind::Computed => "computed by the program",
                    _ => "drawn from its declaration in every sampled run",
                };
                let sets = if is_sample {
                    "a `sample` line sets sizes and symbols"
                } else {
                    "an `at` line sets scalar inputs"
                };
                self.err(
                    Diagnostic::error(
                        "E0101",
                        b.name.span,
                        format!("`{name}` is a tensor, not a size, symbol or scalar"),
                    )
                    .with_label("a tensor")
                    .with_hint(format!(
                        "{sets}; the elements of `{name}` are {kind}: remove `{name} = ...` from the `{line}` line, or state a value in the claim with `given {name} = ...`"
                    )),
                );
                return;
            }
            self.bound_only.entry(name.clone()).or_insert((
                    b.name.span,
                    format!(
                        "{mean}nothing in the file reads `{name}`: remove `{name} = ...` from the `{line}` line, or, if the model should use it, declare it ({declare}) and use it"
                    ),
                ));
            self.missing(
                name,
                Diagnostic::error(
                    "E0101",
                    b.name.span,
                    format!("`{name}` is not a declared size, symbol or scalar"),
                )
                .with_hint(format!(
                    "{mean}declare it with `size`, `symbol` or `scalar`"
                )),
            );
        }
        if !is_sample && self.env.computed_scalars.contains(name) {
            // `at x = 4` where the program computes `x = a^2`: the point is of the inputs.
            let inputs: Vec<String> = self
                .env
                .scalar_order
                .iter()
                .filter(|n| !self.env.computed_scalars.contains(*n))
                .map(|n| format!("`{n}`"))
                .collect();
            self.err(
                Diagnostic::error(
                    "E0810",
                    b.name.span,
                    format!("`{name}` is computed by the program; `at` sets the scalar inputs"),
                )
                .with_label("a computed value")
                .with_hint(if inputs.is_empty() {
                    format!("declare the inputs with `scalar` and set them with `at`; `{name}` follows from them")
                } else {
                    format!(
                        "set the inputs `{name}` is computed from ({}) with `at`, or state the value in the claim with `given {name} = ...`",
                        inputs.join(", ")
                    )
                }),
            );
        }
        if is_sample && self.env.sizes.contains_key(name) {
            let whole = |t: &str| {
                format!("a size counts something: give `{name}` a whole number (`{name} = {t}`)")
            };
            let too_large = || {
                "numeric runs use small sizes; tq refuses larger ones before allocating".to_string()
            };
            let problem = match &b.value {
                Expr::Num(t, _) => match t.parse::<i64>() {
                    Ok(v) if (1..=MAX_SAMPLE_SIZE).contains(&v) => None,
                    // Whole, but 0 or too large for the limit (or for 64 bits).
                    Ok(v) if v < 1 => Some((format!("`{name}` = {t} is out of range"), whole("1"))),
                    Ok(_) => Some((format!("`{name}` = {t} is out of range"), too_large())),
                    Err(_) if t.bytes().all(|c| c.is_ascii_digit()) => {
                        Some((format!("`{name}` = {t} is out of range"), too_large()))
                    }
                    Err(_) => {
                        // `2.5`: the whole numbers on either side.
                        let near = t
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite() && *v >= 1.0 && *v < 1e6)
                            .map(|v| {
                                // `3.0`: one whole number, written once.
                                if v.fract() == 0.0 {
                                    format!("{}", v)
                                } else {
                                    format!("{}` or `{name} = {}", v.floor(), v.ceil())
                                }
                            })
                            .unwrap_or_else(|| "1".to_string());
                        Some((
                            format!("`{name}` = {t} is not a whole number"),
                            whole(&near),
                        ))
                    }
                },
                // `-3`: a negative number, out of range like `0`.
                Expr::Unary(_, x, _) if matches!(&**x, Expr::Num(..)) => Some((
                    format!(
                        "`{name}` = {} is out of range",
                        crate::syntax::printer::print_expr(&b.value)
                    ),
                    whole("1"),
                )),
                // `2^10`, `1/2`, `2^(2^(2^(2^10)))`: not evaluated (a tower of powers
                // has no value to compute), named as what it is.
                _ => {
                    let text = crate::syntax::printer::print_expr(&b.value);
                    let shown: String = if text.chars().count() > 40 {
                        format!("{}…", text.chars().take(40).collect::<String>())
                    } else {
                        text
                    };
                    Some((
                        format!(
                            "`{name}` = {shown} is an expression, not a whole number written out"
                        ),
                        whole("1"),
                    ))
                }
            };
            if let Some((problem, hint)) = problem {
                self.err(
                    Diagnostic::error(
                        "E0302",
                        b.value.span(),
                        format!(
                            "sample size {problem}: sizes for numeric runs are whole numbers from 1 to {MAX_SAMPLE_SIZE}"
                        ),
                    )
                    .with_hint(hint),
                );
            }
        }
    }

    pub(super) fn rule(&mut self, r: &Rule, scope: &mut Scope) {
        let var = &r.var.name;
        for item in &r.body {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    // Sequences: every index is an affine expression of the rule variable.
                    for ix in eq.lhs.indices.iter().flatten() {
                        for v in affine_vars(ix) {
                            if &v.name != var {
                                self.err(
                                    Diagnostic::error(
                                        "E0402",
                                        v.span,
                                        format!(
                                            "`{}` is not the step variable `{var}` of rule `{}`",
                                            v.name, r.name.name
                                        ),
                                    )
                                    .with_hint(format!(
                                        "index sequences by `{var}`, e.g. `v[{var}+1]`"
                                    )),
                                );
                            }
                        }
                    }
                    self.rule_update_step(eq, var, &r.name.name);
                    self.rule_expr(&eq.rhs, var, &r.name.name);
                }
                _ => self.err(
                    Diagnostic::error(
                        "E0001",
                        item.span,
                        "a rule holds only update equations such as `v[t+1] = mu v[t] + g[t]`",
                    )
                    .with_hint("move declarations and claims out of the rule"),
                ),
            }
        }
        let _ = scope;
    }

    /// E0806: a rule's update writes the next step, `x[t+1] = ...`; `v[t] = mu v[t-1]`
    /// (the update written one step back) or `v[t+2]` is not an update the rule
    /// engine reads.
    fn rule_update_step(&mut self, eq: &Equation, var: &str, rule: &str) {
        if eq.lhs.indices.is_none() && eq.lhs.name.sub.is_empty() && !eq.lhs.grad {
            // `theta = theta[t] - ...`: the state written without its step.
            let name = print_name(&eq.lhs.name);
            self.err(
                Diagnostic::error(
                    "E0806",
                    eq.lhs.span,
                    format!(
                        "rule `{rule}` updates `{name}` without a step; an update writes the next step, `{name}[{var}+1]`"
                    ),
                )
                .with_label("no step written")
                .with_hint(format!(
                    "write `{name}[{var}+1] = ...` (the right side reads the states at `{var}`, and those already updated at `{var}+1`)"
                )),
            );
            return;
        }
        let Some([IndexExpr::Affine(a)]) = eq.lhs.indices.as_deref() else {
            return;
        };
        let only_var = a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.terms[0].factors[0].name == var;
        if !only_var || a.constant == 1 {
            return;
        }
        let name = print_name(&eq.lhs.name);
        let shift = 1 - a.constant;
        let hint = if shift == 1 {
            format!(
                "write the update one step later: `{name}[{var}+1] = ...`, with every `{var}` on the right side one step later too (`{name}[{var}-1]` becomes `{name}[{var}]`)"
            )
        } else {
            format!(
                "write the update as `{name}[{var}+1] = ...` (the right side reads the states at `{var}`, and those already updated at `{var}+1`)"
            )
        };
        self.err(
            Diagnostic::error(
                "E0806",
                a.span,
                format!(
                    "rule `{rule}` updates `{name}` at `{}`; an update writes the next step, `{name}[{var}+1]`",
                    match a.constant {
                        0 => var.to_string(),
                        c if c < 0 => format!("{var}{c}"),
                        c => format!("{var}+{c}"),
                    }
                ),
            )
            .with_label("the step written")
            .with_hint(hint),
        );
    }

    pub(super) fn rule_expr(&mut self, e: &Expr, var: &str, rule: &str) {
        walk_refs(e, &mut |r| {
            if r.indices.is_none() {
                let key = print_name(&r.name);
                if key == var && !self.env.symbols.contains_key(&key) {
                    self.missing(
                        &key,
                        Diagnostic::error(
                            "E0101",
                            r.name.span,
                            format!("`{key}` is the step of rule `{rule}`, not a value a rule can read"),
                        )
                        .with_label("the step read as a value")
                        .with_hint(format!(
                            "a rule's coefficients are symbols fixed over the steps (tq's rules are linear recurrences with constant coefficients); a coefficient that changes with `{key}` is not supported. A term that adds a multiple of the step alone can read a counter kept as a state (`n[{key}+1] = n[{key}] + 1`); a factor of a state or an input that changes with the step (a warm-up `eta {key} g[{key}]`) is not linear in the states, and no rule states it: write the few steps out as a scalar program instead (`scalar theta0, g0, g1, eta`, `theta1 = theta0 - eta 0 g0`, `theta2 = theta1 - eta 1 g1`) and claim about its values"
                        )),
                    );
                } else if !self.env.symbols.contains_key(&key) && !self.env.sizes.contains_key(&key)
                {
                    let mean = self.did_you_mean(&key, &[Kind::Symbol, Kind::Size]);
                    self.missing(
                        &key,
                        Diagnostic::error(
                            "E0101",
                            r.name.span,
                            format!("`{key}` is not declared (in rule `{rule}`)"),
                        )
                        .with_hint(format!("{mean}declare it with `symbol {key}`, or index it as a sequence: `{key}[{var}]`")),
                    );
                }
            }
        });
    }

    /// E0105: the forward program reads a gradient (`u = a.grad + a`). Gradients are
    /// computed by the backward program, which runs after the forward one, so the read
    /// is of a value not yet computed (the numeric run read 0 and the gradient check
    /// failed). Reported once per statement, at the first such read.
    fn gradient_read_forward(&mut self, eq: &Equation) {
        let mut first: Option<(String, Span)> = None;
        walk_refs(&eq.rhs, &mut |r| {
            if r.grad && first.is_none() {
                first = Some((print_ref(r), r.span));
            }
        });
        if let Some((text, span)) = first {
            self.err(
                Diagnostic::error(
                    "E0105",
                    span,
                    format!(
                        "`{text}` is read in the forward program, but gradients are computed by the backward program, after it"
                    ),
                )
                .with_label("a gradient read before it is computed")
                .with_hint(
                    "the forward program computes values from the inputs; state a property of the gradient as a claim (`claim d(u)/d(a) == ...` or `claim backprop includes:`)",
                ),
            );
        }
    }

    /// Checks one equation: the left side, every right-hand term's indices, ranks.
    pub(super) fn equation(&mut self, eq: &Equation, scope: &Scope) {
        // A statement that writes a gradient is a backward statement (a derived program
        // printed after its model, as tests/problems/gradcheck.rs checks it): its reads
        // of gradients are of values the backward program computed before it.
        if !scope.backward && !eq.lhs.grad {
            self.gradient_read_forward(eq);
        }
        let lhs_key = self.key_of(&eq.lhs.name);
        self.check_family_subscripts(&eq.lhs.name, scope);
        // The left-hand indices.
        let mut lhs_free: BTreeMap<String, Span> = BTreeMap::new();
        if let Some(idx) = &eq.lhs.indices {
            if let Some(t) = self.env.tensors.get(&lhs_key) {
                if t.rank != idx.len() {
                    let r = t.rank;
                    self.rank_error(&lhs_key, r, idx.len(), eq.lhs.span);
                }
            }
            let transposed = self.transposed_access(&lhs_key, idx, scope, eq.lhs.grad);
            for (pos, ix) in idx.iter().enumerate() {
                let ti = self.index_expr(ix, scope);
                if !transposed {
                    self.extent_check(&lhs_key, pos, ix, scope, eq.lhs.grad);
                }
                if let Some((name, span)) = ti.summed.iter().next() {
                    self.err(
                        Diagnostic::error(
                            "E0204",
                            *span,
                            format!(
                                "summed index `{name}` on the left-hand side of `{}`",
                                print_ref(&eq.lhs)
                            ),
                        )
                        .with_hint(self.summed_on_left_hint(eq, pos, ix, name, &ti)),
                    );
                }
                lhs_free.extend(ti.free);
            }
        } else if let Some(t) = self.env.tensors.get(&lhs_key) {
            if t.rank != 0 {
                let r = t.rank;
                self.rank_error(&lhs_key, r, 0, eq.lhs.span);
            }
        }
        if let Some(list) = &scope.for_indices {
            for (name, span) in &lhs_free {
                if !list.contains(name) {
                    self.err(
                        Diagnostic::error(
                            "E0206",
                            *span,
                            format!("index `{name}` is not listed in the enclosing `for`"),
                        )
                        .with_hint(format!("add `{name}` to the `for` list")),
                    );
                }
            }
        }
        // `mean_{i}(x[b,i])`: a reduction tq does not have, read as an undeclared
        // family member times its argument; one diagnostic for it, not also E0203 for
        // the index it would reduce (probe 30b n06).
        if let Some(d) = self
            .reduction_slip(&eq.rhs)
            .or_else(|| self.primed_call(&eq.rhs, scope))
        {
            self.err(d);
            return;
        }
        // The right-hand side, term by term.
        let terms = self.expr_terms(&eq.rhs, scope);
        for t in terms {
            for (name, span) in &t.free {
                let allowed = lhs_free.contains_key(name)
                    || scope.for_indices.as_ref().is_some_and(|l| l.contains(name));
                if !allowed {
                    let hint = if scope.for_indices.is_some() {
                        format!("list `{name}` in the `for` to sum over it")
                    } else if t.in_call.contains(name) {
                        format!(
                            "sum the term over it with `sum_{{{name}}}(...)` around the function (a capital inside a function's argument sums inside the function), or add `{name}` to the left-hand side"
                        )
                    } else {
                        format!(
                            "sum over it with the capital `{}`, or add `{name}` to the left-hand side",
                            name.to_uppercase()
                        )
                    };
                    let code = if scope.for_indices.is_some() {
                        "E0206"
                    } else {
                        "E0203"
                    };
                    self.err(
                        Diagnostic::error(
                            code,
                            *span,
                            format!(
                                "index `{name}` on the right is not on the left-hand side `{}`",
                                print_ref(&eq.lhs)
                            ),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        if scope.for_indices.is_some() && eq.op == AssignOp::Set {
            // `=` in the loop form: every listed index must be on the left.
        }
    }

    pub(super) fn rank_error(&mut self, key: &str, declared: usize, used: usize, span: Span) {
        self.err(
            Diagnostic::error(
                "E0202",
                span,
                format!(
                    "`{key}` has rank {declared} but is used with {used} ind{}",
                    if used == 1 { "ex" } else { "ices" }
                ),
            )
            .with_label(format!(
                "{used} ind{} here",
                if used == 1 { "ex" } else { "ices" }
            ))
            .with_hint(format!(
                "`{key}` was declared with {declared} ind{}; give one index per dimension",
                if declared == 1 { "ex" } else { "ices" }
            )),
        );
    }

    /// Family subscripts must use bound loop variables and constants only.
    pub(super) fn check_family_subscripts(&mut self, n: &Name, scope: &Scope) {
        if !self.is_family_ref(n) {
            return;
        }
        let key = family_key(n);
        if let Some(t) = self.env.tensors.get(&key) {
            if t.family_arity != n.sub.len() && t.family_arity > 0 {
                let arity = t.family_arity;
                self.err(
                    Diagnostic::error(
                        "E0403",
                        n.span,
                        format!(
                            "family `{key}` takes {arity} subscript{} but `{}` has {}",
                            if arity == 1 { "" } else { "s" },
                            print_name(n),
                            n.sub.len()
                        ),
                    )
                    .with_hint("give one subscript per family variable"),
                );
            }
        }
        for ix in &n.sub {
            for v in affine_vars(ix) {
                let label = matches!(v.name.as_str(), "left" | "up" | "right" | "down");
                if label
                    || scope.is_loop_var(&v.name)
                    || self.env.symbols.contains_key(&v.name)
                    || self.env.sizes.contains_key(&v.name)
                {
                    continue;
                }
                let bound: Vec<String> = scope.loops.iter().map(|(v, _)| v.clone()).collect();
                let hint = if bound.is_empty() {
                    // The family's own members as examples: the start and the last one
                    // when the variable's capital is a size (`h_0`, `h_L`).
                    let cap = v.name.to_uppercase();
                    let last = if self.env.sizes.contains_key(&cap) {
                        format!(", the last `{key}_{cap}`")
                    } else {
                        String::new()
                    };
                    format!(
                        "family members outside a loop take constant subscripts or sizes: name one member (`{key}_0`{last}), or move the statement into the loop over `{}`",
                        v.name
                    )
                } else {
                    format!(
                        "here the family is indexed by {}",
                        bound
                            .iter()
                            .map(|b| format!("`{b}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.err(
                    Diagnostic::error(
                        "E0402",
                        v.span,
                        format!(
                            "`{}` in `{}` is not a loop variable in scope",
                            v.name,
                            print_name(n)
                        ),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
}

/// Whether a `sample` or `at` value is a whole number (a value tq cannot read exactly,
/// `sqrt(2)`, counts as not whole).
fn whole_value(e: &crate::syntax::ast::Expr) -> bool {
    let text = crate::syntax::printer::print_expr(e);
    crate::sym::parse_ascii(&text)
        .ok()
        .map(|p| crate::sym::simplify(&p))
        .and_then(|v| v.as_num().map(|r| r.is_integer()))
        .unwrap_or(false)
}
