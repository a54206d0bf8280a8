//! The checker: names, index kinds, ranks, free and summed indices, ranges, family
//! starts and claims. It reads the AST and builds an [`Env`] (the symbol table later
//! stages use); every problem becomes a [`Diagnostic`] with a code from
//! docs/diagnostics.md. The checker never stops at the first error.

pub mod budget;
mod defs;
pub mod domains;
mod env;
pub mod givens;
pub mod vary;

pub use env::{Env, IndexInfo, TensorInfo, TensorKind};

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_name, print_ref};
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// The argument count of a function an expression may apply: the built-in function
/// table (`crate::sym::func`) is the one list.
pub fn function_arity(name: &str) -> Option<usize> {
    crate::sym::func::model_function(name).map(|_| 1)
}

/// "known functions: …", with "did you mean" when a known name is close.
fn known_functions_hint(name: &str, with_claims: bool) -> String {
    let names = crate::sym::func::model_names();
    let mut all: Vec<&str> = names.clone();
    if with_claims {
        all.extend(CLAIM_FUNCTIONS.iter().map(|(n, _)| *n));
    }
    let mut hint = match crate::sym::func::suggest(name, all.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? "),
        None => String::new(),
    };
    if with_claims {
        let claim: Vec<&str> = CLAIM_FUNCTIONS.iter().map(|(n, _)| *n).collect();
        hint.push_str(&format!(
            "claim functions: {}; functions: {}",
            claim.join(", "),
            names.join(", ")
        ));
    } else {
        hint.push_str(&format!(
            "known functions: {}; for a product write `{name} (...)` with a space",
            names.join(", ")
        ));
    }
    hint
}

/// Functions that only claims may use (moment operators and claim predicates), with
/// their argument counts (`usize::MAX`: any number).
pub const CLAIM_FUNCTIONS: &[(&str, usize)] = &[
    ("E", 1),
    ("Var", 1),
    ("Cov", 2),
    ("Std", 1),
    ("solve", 2),
    ("mults", 1),
    ("order", 2),
    ("equivalent", usize::MAX),
    ("invariant", usize::MAX),
    ("min", usize::MAX),
    ("max", usize::MAX),
    ("P", 1),
];

/// Distributions a declaration may use, with their argument counts.
pub const DISTRIBUTIONS: &[(&str, usize)] = &[
    ("normal", 2),
    ("uniform", 2),
    ("symmetric", 1),
    ("moments", 2),
    ("bernoulli", 1),
    ("categorical", 1),
    ("const", 1),
];

/// The largest value a size may take in `sample`.
pub const MAX_SAMPLE_SIZE: i64 = 1_000_000;

/// Checks a parsed program. Returns the environment and the diagnostics (errors and
/// warnings); the environment is usable even when there are errors.
pub fn check(program: &Program) -> (Env, Vec<Diagnostic>) {
    let mut c = Checker::default();
    c.collect_loop_vars(&program.items);
    c.collect_family_keys(&program.items);
    c.declare(&program.items);
    c.families_from_defs(&program.items);
    c.items(&program.items, &mut Scope::default());
    c.grad_extents(&program.items);
    c.definitions(&program.items);
    vary::check(&program.items, &c.env, &mut c.diags);
    budget::check(program, &c.env, &mut c.diags);
    c.env.domains = domains::infer(program, &c.env);
    (c.env, c.diags)
}

/// A declared member's fixed positions and where it was declared.
type MemberDecl = (Vec<(usize, i64)>, Span);

#[derive(Default)]
struct Checker {
    env: Env,
    diags: Vec<Diagnostic>,
    /// Every variable bound by a `for v in ..` anywhere (these make subscripts family indices).
    loop_vars: BTreeSet<String>,
    /// Names used somewhere with a loop variable in a subscript: families.
    family_keys: BTreeSet<String>,
    /// Declared members (`x`, `L_0`) with their fixed positions and where they were
    /// declared: a second declaration of the same member is E0102.
    member_decls: BTreeMap<String, Vec<MemberDecl>>,
    /// `grad` declarations by member, where they were made.
    grad_decls: BTreeMap<String, Span>,
    /// Names given a value on a file-level `sample` line, where.
    sampled: BTreeMap<String, Span>,
}

/// What is bound at a point of the program.
#[derive(Default, Clone)]
struct Scope {
    /// Family / recurrence loop variables in scope, innermost last, with their start.
    loops: Vec<(String, Expr)>,
    /// Indices listed by an enclosing `for b,x,y:`.
    for_indices: Option<BTreeSet<String>>,
    /// The variable of an enclosing `rule ... over t:`.
    rule_var: Option<String>,
}

impl Scope {
    fn is_loop_var(&self, name: &str) -> bool {
        self.loops.iter().any(|(v, _)| v == name) || self.rule_var.as_deref() == Some(name)
    }
}

/// The indices of one additive term: free (lower-case) and summed (upper-case).
#[derive(Default, Debug, Clone)]
struct TermIndices {
    free: BTreeMap<String, Span>,
    summed: BTreeMap<String, Span>,
}

fn lower(name: &str) -> String {
    name.to_lowercase()
}

fn is_capital(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// The name of a tensor without its family subscripts: `W^{h,R}` for `W^{h,R}_{l+1}`.
pub(crate) fn family_key(n: &Name) -> String {
    let mut s = n.base.clone();
    for _ in 0..n.primes {
        s.push('\'');
    }
    if !n.sup.is_empty() {
        s.push_str(&format!("^{{{}}}", n.sup.join(",")));
    }
    s
}

fn affine_vars(ix: &IndexExpr) -> Vec<&Ident> {
    match ix {
        IndexExpr::Affine(a) => a.terms.iter().flat_map(|t| t.factors.iter()).collect(),
        IndexExpr::Lookup(_) => vec![],
    }
}

impl Checker {
    fn err(&mut self, d: Diagnostic) {
        // One diagnostic per code and place is enough.
        if !self
            .diags
            .iter()
            .any(|o| o.code == d.code && o.span == d.span)
        {
            self.diags.push(d);
        }
    }

    fn collect_loop_vars(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Loop(l) => {
                    self.loop_vars.insert(l.range.var.name.clone());
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
    fn is_family_ref(&self, n: &Name) -> bool {
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
    fn collect_family_keys(&mut self, items: &[Item]) {
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
    fn key_of(&self, n: &Name) -> String {
        if self.is_family_ref(n) {
            family_key(n)
        } else {
            print_name(n)
        }
    }

    fn declare_name(&mut self, id: &Ident, what: &'static str) -> bool {
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
    fn declare(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Size(ids) => {
                    for id in ids {
                        if self.declare_name(id, "size") {
                            self.env.sizes.insert(id.name.clone(), id.span);
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
                        self.err(
                            Diagnostic::error(
                                "E0101",
                                size.span,
                                format!("size `{}` is not declared", size.name),
                            )
                            .with_hint(format!("declare it first: `size {}`", size.name)),
                        );
                    }
                    for n in names {
                        if is_capital(&n.name) {
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
                        if self.env.indices.contains_key(&n.name) {
                            self.err(Diagnostic::error(
                                "E0102",
                                n.span,
                                format!("index `{}` is declared twice", n.name),
                            ));
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
                    if self.env.rules.contains_key(&r.name.name) {
                        self.err(Diagnostic::error(
                            "E0102",
                            r.name.span,
                            format!("rule `{}` is declared twice", r.name.name),
                        ));
                    }
                    self.env.rules.insert(r.name.name.clone(), r.name.span);
                }
                _ => {}
            }
        }
    }

    fn declare_tensor(&mut self, d: &Decl) {
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
            self.check_distribution(c);
        }
        {
            let member = print_name(n);
            let fixed = fixed_positions(&dims);
            let seen = self.member_decls.entry(member.clone()).or_default();
            if let Some((_, first)) = seen.iter().find(|(f, _)| *f == fixed).cloned() {
                self.err(
                    Diagnostic::error(
                        "E0102",
                        d.target.span,
                        format!("`{member}` is declared twice"),
                    )
                    .with_label("declared again here")
                    .with_related(first, "first declared here")
                    .with_hint("keep one declaration; a family or a recurrence declares each start once (`input L_0[...]`, `input h[B, 0, J]`)"),
                );
            } else {
                seen.push((fixed, d.target.span));
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
    fn constant_subscripts(&self, n: &Name) -> Option<Vec<i64>> {
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

    fn decl_dim(&mut self, ix: &IndexExpr) -> String {
        match ix {
            IndexExpr::Affine(a) if a.terms.is_empty() => format!("@{}", a.constant),
            IndexExpr::Affine(a) if a.terms.len() == 1 && a.terms[0].factors.len() == 1 => {
                let f = &a.terms[0].factors[0];
                if self.env.sizes.contains_key(&f.name) {
                    f.name.clone()
                } else if let Some(size) = self.index_size(&f.name) {
                    size
                } else {
                    let name = f.name.clone();
                    self.err(
                        Diagnostic::error(
                            "E0201",
                            f.span,
                            format!("`{name}` is neither a declared size nor an index with a size"),
                        )
                        .with_hint(format!(
                            "declare `size {}` or use a declared size",
                            name.to_uppercase()
                        )),
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
                    .with_hint("write the size, e.g. `W[J, I]`"),
                );
                "?".to_string()
            }
        }
    }

    /// The size of a lower-case index: declared with `index`, or its upper-case letter
    /// (primes stripped) declared with `size`.
    fn index_size(&self, name: &str) -> Option<String> {
        self.env.index_size(name)
    }

    fn check_distribution(&mut self, c: &Call) {
        match DISTRIBUTIONS.iter().find(|(n, _)| *n == c.func.name) {
            None => {
                let known: Vec<&str> = DISTRIBUTIONS.iter().map(|(n, _)| *n).collect();
                self.err(
                    Diagnostic::error(
                        "E0103",
                        c.func.span,
                        format!("unknown distribution `{}`", c.func.name),
                    )
                    .with_hint(format!("known distributions: {}", known.join(", "))),
                );
            }
            Some((name, n)) if *n != c.args.len() => {
                self.err(Diagnostic::error(
                    "E0103",
                    c.span,
                    format!(
                        "distribution `{name}` takes {n} argument{}, not {}",
                        if *n == 1 { "" } else { "s" },
                        c.args.len()
                    ),
                ));
            }
            _ => {}
        }
        let scope = Scope::default();
        for a in &c.args {
            self.scalar_expr(a, &scope, false);
        }
    }

    /// Second pass: tensors defined by equations get their rank and family arity.
    fn families_from_defs(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.define_from(eq),
                ItemKind::Loop(l) => self.families_from_defs(&l.body),
                ItemKind::ForIndices(f) => self.families_from_defs(&f.body),
                _ => {}
            }
        }
    }

    fn define_from(&mut self, eq: &Equation) {
        let n = &eq.lhs.name;
        let family = self.is_family_ref(n);
        let key = self.key_of(n);
        let constants = if family {
            self.constant_subscripts(n)
        } else {
            None
        };
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
            self.env.scalars.insert(key.clone(), eq.lhs.span);
            self.env.scalar_order.push(key);
            return;
        }
        let dims = eq
            .lhs
            .indices
            .iter()
            .flatten()
            .map(|ix| match ix {
                IndexExpr::Affine(a) if a.terms.len() == 1 && a.terms[0].factors.len() == 1 => {
                    let f = &a.terms[0].factors[0].name;
                    if self.loop_vars.contains(f) {
                        format!("~{f}")
                    } else {
                        self.index_size(f).unwrap_or_else(|| "?".into())
                    }
                }
                _ => "?".to_string(),
            })
            .collect();
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

    /// Third pass: every statement in order, with what is in scope.
    fn items(&mut self, items: &[Item], scope: &mut Scope) {
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
                    scope
                        .loops
                        .push((l.range.var.name.clone(), l.range.from.clone()));
                    self.items(&l.body, scope);
                    self.check_starts(&l.body, &l.range.var.name, &l.range.from);
                    scope.loops.pop();
                }
                ItemKind::ForIndices(f) => {
                    let mut inner = scope.clone();
                    let mut set = scope.for_indices.clone().unwrap_or_default();
                    for ix in &f.indices {
                        if is_capital(&ix.name) || self.index_size(&ix.name).is_none() {
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
                    self.givens(&c.given, &c.at);
                }
                ItemKind::Derivation(d) => {
                    self.givens(&d.given, &[]);
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
                                        "the rules are listed in docs/derivations.md: {}",
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
                    }
                    if let Some(r) = &d.family {
                        self.scalar_expr(&r.from, scope, false);
                        self.scalar_expr(&r.to, scope, false);
                    }
                }
                _ => {}
            }
        }
        let _ = defined_here;
    }

    fn binding(&mut self, b: &Binding, is_sample: bool) {
        let name = &b.name.name;
        let known = self.env.sizes.contains_key(name)
            || self.env.symbols.contains_key(name)
            || self.env.scalars.contains_key(name);
        if !known {
            self.err(
                Diagnostic::error(
                    "E0101",
                    b.name.span,
                    format!("`{name}` is not a declared size, symbol or scalar"),
                )
                .with_hint("declare it with `size`, `symbol` or `scalar`"),
            );
        }
        if is_sample && self.env.sizes.contains_key(name) {
            let problem = match &b.value {
                Expr::Num(t, _) => match t.parse::<i64>() {
                    Ok(v) if (1..=MAX_SAMPLE_SIZE).contains(&v) => None,
                    // Whole, but 0 or too large for the limit (or for 64 bits).
                    Ok(_) => Some(format!("`{name}` = {t} is out of range")),
                    Err(_) if t.bytes().all(|c| c.is_ascii_digit()) => {
                        Some(format!("`{name}` = {t} is out of range"))
                    }
                    Err(_) => Some(format!("`{name}` = {t} is not a whole number")),
                },
                _ => Some(format!("`{name}` is not a whole number")),
            };
            if let Some(problem) = problem {
                self.err(
                    Diagnostic::error(
                        "E0302",
                        b.value.span(),
                        format!(
                            "sample size {problem}: sizes for numeric runs are whole numbers from 1 to {MAX_SAMPLE_SIZE}"
                        ),
                    )
                    .with_hint("numeric runs use small sizes; tq refuses larger ones before allocating"),
                );
            }
        }
    }

    fn rule(&mut self, r: &Rule, scope: &mut Scope) {
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

    fn rule_expr(&mut self, e: &Expr, var: &str, rule: &str) {
        walk_refs(e, &mut |r| {
            if r.indices.is_none() {
                let key = print_name(&r.name);
                if !self.env.symbols.contains_key(&key) && !self.env.sizes.contains_key(&key) {
                    self.err(
                        Diagnostic::error(
                            "E0101",
                            r.name.span,
                            format!("`{key}` is not declared (in rule `{rule}`)"),
                        )
                        .with_hint(format!("declare it with `symbol {key}`, or index it as a sequence: `{key}[{var}]`")),
                    );
                }
            }
        });
    }

    /// Checks one equation: the left side, every right-hand term's indices, ranks.
    fn equation(&mut self, eq: &Equation, scope: &Scope) {
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
            for (pos, ix) in idx.iter().enumerate() {
                let ti = self.index_expr(ix, scope);
                self.extent_check(&lhs_key, pos, ix, scope, eq.lhs.grad);
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
                        .with_hint(format!(
                            "the left side names one element: write `{}`",
                            lower(name)
                        )),
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
        // The right-hand side, term by term.
        let terms = self.expr_terms(&eq.rhs, scope);
        for t in terms {
            for (name, span) in &t.free {
                let allowed = lhs_free.contains_key(name)
                    || scope.for_indices.as_ref().is_some_and(|l| l.contains(name));
                if !allowed {
                    let hint = if scope.for_indices.is_some() {
                        format!("list `{name}` in the `for` to sum over it")
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

    fn rank_error(&mut self, key: &str, declared: usize, used: usize, span: Span) {
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
    fn check_family_subscripts(&mut self, n: &Name, scope: &Scope) {
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
                    "family members outside a loop take constant subscripts, e.g. `L_0`".to_string()
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

    /// The free and summed indices of an index position.
    fn index_expr(&mut self, ix: &IndexExpr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        match ix {
            IndexExpr::Lookup(r) => {
                let key = self.key_of(&r.name);
                match self.env.tensors.get(&key) {
                    None => self.err(
                        Diagnostic::error(
                            "E0101",
                            r.name.span,
                            format!("lookup tensor `{key}` is not declared"),
                        )
                        .with_hint(format!("declare it: `input {key}[T] ~ categorical(V)`")),
                    ),
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
                        if self.env.symbols.contains_key(name)
                            || (self.env.sizes.contains_key(name) && !self.summed_index_ok(name))
                        {
                            continue;
                        }
                        if is_capital(name) {
                            let low = lower(name);
                            if self.index_size(&low).is_none() {
                                self.err(
                                    Diagnostic::error(
                                        "E0201",
                                        f.span,
                                        format!(
                                            "summed index `{name}` has no size (no index `{low}`)"
                                        ),
                                    )
                                    .with_hint(format!(
                                        "declare `size {}` or `index {low} : N`",
                                        name.trim_end_matches('\'')
                                    )),
                                );
                            }
                            out.summed.insert(name.clone(), f.span);
                            n_index += 1;
                        } else if self.index_size(name).is_some() {
                            out.free.insert(name.clone(), f.span);
                            n_index += 1;
                        } else {
                            self.err(
                                Diagnostic::error(
                                    "E0201",
                                    f.span,
                                    format!("index `{name}` has no size"),
                                )
                                .with_hint(format!(
                                    "declare `size {}` or `index {name} : N`",
                                    name.trim_end_matches('\'').to_uppercase()
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
                            .with_hint("write strides as `s*x` with `s` a declared symbol, offsets as `x+dx`"),
                        );
                    }
                }
            }
        }
        out
    }

    /// Whether an upper-case name in an index position is a summed index (its lower
    /// case has a size) rather than a size symbol used as a coefficient.
    fn summed_index_ok(&self, name: &str) -> bool {
        self.index_size(&lower(name)).is_some()
    }

    /// Checks a tensor access (rank, family subscripts) and returns its indices.
    fn access(&mut self, r: &Ref, scope: &Scope) -> TermIndices {
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
            None => {
                if used > 0 || !self.is_scalar_name(&key, scope) {
                    self.undeclared(r, &key);
                }
            }
        }
        if let Some(idx) = &r.indices {
            for (pos, ix) in idx.iter().enumerate() {
                let ti = self.index_expr(ix, scope);
                self.range_check(&key, pos, ix, scope);
                if self.env.tensors.get(&key).is_some_and(|t| t.rank == used) {
                    self.extent_check(&key, pos, ix, scope, r.grad);
                }
                out.free.extend(ti.free);
                out.summed.extend(ti.summed);
            }
        }
        out
    }

    fn is_scalar_name(&self, key: &str, scope: &Scope) -> bool {
        self.env.sizes.contains_key(key)
            || self.env.symbols.contains_key(key)
            || self.env.scalars.contains_key(key)
            || scope.is_loop_var(key)
            || self.loop_vars.contains(key)
            || matches!(key, "pi" | "e")
    }

    fn undeclared(&mut self, r: &Ref, key: &str) {
        let hint = if r.indices.is_some() {
            format!("declare it with `param {key}[...]` or `input {key}[...]`, or define it by an equation")
        } else {
            format!("declare it with `symbol {key}`, `size {key}` or `scalar {key}`")
        };
        self.err(
            Diagnostic::error("E0101", r.name.span, format!("`{key}` is not declared"))
                .with_hint(hint),
        );
    }

    /// A plain index (`j`, `J`, `j'`) in a position of a tensor ranges over its own size,
    /// which must be the extent of that dimension (E0210): `U[J]` on `param U[I]` reads
    /// U beyond (or short of) its extent. Shifted and strided positions (`x+dx`, `2x`)
    /// are reads under the boundary rule (E0301); positions along a loop variable and
    /// fixed positions are the family and start rules' business.
    fn extent_check(&mut self, key: &str, pos: usize, ix: &IndexExpr, scope: &Scope, grad: bool) {
        let IndexExpr::Affine(a) = ix else { return };
        let plain = a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant == 0;
        if !plain {
            return;
        }
        let f = &a.terms[0].factors[0];
        let name = f.name.as_str();
        if scope.is_loop_var(name)
            || self.loop_vars.contains(name)
            || self.env.symbols.contains_key(name)
        {
            return;
        }
        let size = if is_capital(name) {
            if !self.summed_index_ok(name) {
                return;
            }
            self.index_size(&lower(name))
        } else {
            self.index_size(name)
        };
        let Some(size) = size else { return };
        let Some(t) = self.env.tensors.get(key) else {
            return;
        };
        let Some(dim) = t.dims.get(pos).cloned() else {
            return;
        };
        if dim.starts_with(['@', '~', '?']) || dim == size {
            return;
        }
        let first = t.span;
        let what = if grad {
            format!("`{key}.grad`")
        } else {
            format!("`{key}`")
        };
        let how = if is_capital(name) {
            format!("the summed index `{name}` runs over `{size}`")
        } else {
            format!("the index `{name}` runs over `{size}`")
        };
        self.err(
            Diagnostic::error(
                "E0210",
                f.span,
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

    /// `grad T[...] ~ ...`: the gradient has the shape of T, dimension by dimension.
    fn grad_extents(&mut self, items: &[Item]) {
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

    /// Out-of-extent reads need a declared boundary rule.
    fn range_check(&mut self, key: &str, pos: usize, ix: &IndexExpr, scope: &Scope) {
        if self.env.boundary.is_some() {
            return;
        }
        let IndexExpr::Affine(a) = ix else { return };
        // Positions along a loop variable (recurrences) are checked by the start rule.
        if affine_vars(ix).iter().any(|v| scope.is_loop_var(&v.name)) {
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
        let text = crate::syntax::printer::print_affine(a);
        self.err(
            Diagnostic::error(
                "E0301",
                a.span,
                format!("`{key}` is read at `{text}`, which can fall outside its extent {dim}"),
            )
            .with_hint("declare how reads outside a tensor behave: `boundary zero`, `boundary circular` or `boundary valid`"),
        );
    }

    /// The additive terms of an expression with their indices; checks every access and
    /// function on the way. Function arguments are their own summation scopes.
    fn expr_terms(&mut self, e: &Expr, scope: &Scope) -> Vec<TermIndices> {
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
    fn term(&mut self, e: &Expr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        match e {
            Expr::Num(..) => {}
            Expr::Ref(r) => {
                if r.indices.is_some() {
                    out = self.access(r, scope);
                } else {
                    let key = self.key_of(&r.name);
                    self.check_family_subscripts(&r.name, scope);
                    let plain = !r.grad
                        && r.name.sub.is_empty()
                        && r.name.sup.is_empty()
                        && r.name.primes == 0;
                    match self.env.tensors.get(&key) {
                        // `[w == w[t]]`: a bare index whose name is also a tensor's is the index.
                        Some(t)
                            if t.rank > 0
                                && plain
                                && self.env.index_size(&r.name.base).is_some() =>
                        {
                            out.free.insert(r.name.base.clone(), r.span);
                        }
                        Some(t) if t.rank > 0 => {
                            let rank = t.rank;
                            self.rank_error(&key, rank, 0, r.span);
                        }
                        Some(_) => {}
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
                }
            }
            Expr::Call(c) => {
                self.function(c, scope);
            }
            Expr::Softmax(id, x, span) => {
                let inner = self.expr_terms(x, scope);
                let occurs = inner.iter().any(|t| t.free.contains_key(&id.name));
                if !occurs {
                    self.err(
                        Diagnostic::error(
                            "E0207",
                            id.span,
                            format!("softmax over `{}`, which does not occur in its argument", id.name),
                        )
                        .with_label("softmax index")
                        .with_hint("the softmax index must be a free index of the argument, e.g. `softmax_{w}(s[t,w])`"),
                    );
                }
                let _ = span;
                for t in inner {
                    out.free.extend(t.free);
                }
                if self.index_size(&id.name).is_none() {
                    self.err(Diagnostic::error(
                        "E0201",
                        id.span,
                        format!("softmax index `{}` has no size", id.name),
                    ));
                }
                out.free.insert(id.name.clone(), id.span);
            }
            Expr::Sum(ids, x, _) => {
                let inner = self.expr_terms(x, scope);
                let bound: BTreeSet<&String> = ids.iter().map(|i| &i.name).collect();
                for id in ids {
                    if self.index_size(&id.name).is_none() {
                        self.err(Diagnostic::error(
                            "E0201",
                            id.span,
                            format!("summed index `{}` has no size", id.name),
                        ));
                    }
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

    /// All indices of an expression as one scope (used for sums inside products).
    fn flat_terms(&mut self, e: &Expr, scope: &Scope) -> TermIndices {
        let mut out = TermIndices::default();
        for t in self.expr_terms_noscope(e, scope) {
            out.free.extend(t.free);
            out.summed.extend(t.summed);
        }
        out
    }

    fn expr_terms_noscope(&mut self, e: &Expr, scope: &Scope) -> Vec<TermIndices> {
        match e {
            Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
                let mut v = self.expr_terms_noscope(l, scope);
                v.extend(self.expr_terms_noscope(r, scope));
                v
            }
            _ => vec![self.term(e, scope)],
        }
    }

    /// An activation or other function in a model equation: its argument is a scope.
    fn function(&mut self, c: &Call, scope: &Scope) {
        let name = c.func.name.as_str();
        match function_arity(name) {
            Some(n) if n != c.args.len() => self.err(Diagnostic::error(
                "E0103",
                c.span,
                format!("`{name}` takes {n} argument, not {}", c.args.len()),
            )),
            Some(_) => {}
            None => {
                let hint = if CLAIM_FUNCTIONS.iter().any(|(n, _)| *n == name) {
                    format!("`{name}` may only be used in claims")
                } else {
                    known_functions_hint(name, false)
                };
                self.err(
                    Diagnostic::error("E0103", c.func.span, format!("unknown function `{name}`"))
                        .with_hint(hint),
                );
            }
        }
        for a in &c.args {
            let _ = self.expr_terms(a, scope);
        }
    }

    /// A scalar expression (ranges, distribution arguments, sample values).
    fn scalar_expr(&mut self, e: &Expr, scope: &Scope, in_claim: bool) {
        walk_refs(e, &mut |r| {
            let key = self.key_of(&r.name);
            if r.indices.is_none()
                && !self.env.tensors.contains_key(&key)
                && !self.is_scalar_name(&key, scope)
            {
                let code = if in_claim { "E0501" } else { "E0101" };
                self.err(
                    Diagnostic::error(code, r.name.span, format!("`{key}` is not declared"))
                        .with_hint(format!("declare it with `symbol {key}` or `size {key}`")),
                );
            }
        });
    }

    /// A claim's givens must solve as a system (no cycle, no name set twice, no setting
    /// that no real value satisfies).
    fn givens(&mut self, given: &[Expr], at: &[Binding]) {
        if let Err(d) = givens::resolve(given, at, &self.env) {
            self.err(d);
        }
    }

    /// Claims: every name must be defined, functions known.
    fn claim(&mut self, c: &Claim, scope: &Scope) {
        if let Some(block) = &c.includes {
            let mut inner = scope.clone();
            for v in self.loop_vars.clone() {
                if !inner.is_loop_var(&v) {
                    inner
                        .loops
                        .push((v, Expr::Num("0".into(), Span::default())));
                }
            }
            self.items(block, &mut inner);
            return;
        }
        let mut names = Vec::new();
        collect_claim_refs(&c.body, &mut names);
        for g in &c.given {
            collect_claim_refs(g, &mut names);
        }
        for r in names {
            let key = self.key_of(&r.name);
            let rule_member = r.name.base.contains('.');
            let known = self.env.tensors.contains_key(&key)
                || self.is_scalar_name(&key, scope)
                || self.env.rules.contains_key(&key)
                || rule_member;
            if !known {
                self.err(
                    Diagnostic::error(
                        "E0501",
                        r.name.span,
                        format!("the claim names `{key}`, which is not defined in this file"),
                    )
                    .with_hint("claims may name declared tensors, computed tensors, scalars, sizes and symbols"),
                );
            }
            if let (Some(t), Some(idx)) = (self.env.tensors.get(&key), &r.indices) {
                if t.rank != idx.len() {
                    let rank = t.rank;
                    self.rank_error(&key, rank, idx.len(), r.span);
                } else {
                    for (pos, ix) in idx.iter().enumerate() {
                        self.extent_check(&key, pos, ix, scope, r.grad);
                    }
                }
            }
        }
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
                    .with_hint(known_functions_hint(name, true)),
                ),
                Some((_, n)) if n != usize::MAX && n != call.args.len() => {
                    self.err(Diagnostic::error(
                        "E0502",
                        call.span,
                        format!(
                            "`{name}` takes {n} argument{}, not {}",
                            if n == 1 { "" } else { "s" },
                            call.args.len()
                        ),
                    ))
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
            self.binding(b, false);
        }
        self.bindings_once(&c.at, "at");
    }

    /// One `at` list binds each name once (a later `at` line may change the point).
    fn bindings_once(&mut self, bs: &[Binding], what: &str) {
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
    fn bound_once(&mut self, b: &Binding, what: &str) {
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
    fn first_span(&self, key: &str) -> Option<Span> {
        self.env
            .sizes
            .get(key)
            .or_else(|| self.env.symbols.get(key))
            .or_else(|| self.env.scalars.get(key))
            .copied()
            .or_else(|| self.env.tensors.get(key).map(|t| t.span))
    }

    /// Family members read at a lower offset than the one the loop defines need a start.
    fn check_starts(&mut self, body: &[Item], var: &str, from: &Expr) {
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
            if !has_start {
                let member = match pos {
                    None => format!("{key}_{needed}"),
                    Some(p) => format!("{key} at position {} = {needed}", p + 1),
                };
                let example = match pos {
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
                self.err(
                    Diagnostic::error(
                        "E0401",
                        span,
                        format!("`{member}` is read in the first iteration but has no start"),
                    )
                    .with_hint(format!("declare the start: `{example}`")),
                );
            }
        }
    }
}

fn fixed_positions(dims: &[String]) -> Vec<(usize, i64)> {
    dims.iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.strip_prefix('@')
                .and_then(|v| v.parse().ok())
                .map(|v| (i, v))
        })
        .collect()
}

/// `var + c` as an offset `c`.
fn var_offset(ix: &IndexExpr, var: &str) -> Option<i64> {
    match ix {
        IndexExpr::Affine(a)
            if a.terms.len() == 1
                && a.terms[0].coef == 1
                && a.terms[0].factors.len() == 1
                && a.terms[0].factors[0].name == var =>
        {
            Some(a.constant)
        }
        _ => None,
    }
}

/// The offset of a single-subscript family member `L_{l+c}`.
fn single_offset_sub(n: &Name, var: &str) -> Option<i64> {
    if n.sub.len() != 1 {
        return None;
    }
    var_offset(&n.sub[0], var)
}

fn collect_equations(items: &[Item]) -> Vec<&Equation> {
    let mut out = Vec::new();
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => out.push(eq),
            ItemKind::ForIndices(f) => out.extend(collect_equations(&f.body)),
            _ => {}
        }
    }
    out
}

/// Calls `f` on every reference in an expression (including lookups in index lists).
pub fn walk_refs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Ref)) {
    match e {
        Expr::Num(..) => {}
        Expr::Ref(r) => walk_ref(r, f),
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => walk_refs(x, f),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            walk_refs(l, f);
            walk_refs(r, f);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| walk_refs(a, f)),
        Expr::Deriv(n, d, _) => {
            walk_ref(n, f);
            walk_ref(d, f);
        }
    }
}

fn walk_ref<'a>(r: &'a Ref, f: &mut dyn FnMut(&'a Ref)) {
    f(r);
    for ix in r.indices.iter().flatten() {
        if let IndexExpr::Lookup(inner) = ix {
            walk_ref(inner, f);
        }
    }
}

fn collect_claim_refs<'a>(e: &'a Expr, out: &mut Vec<&'a Ref>) {
    match e {
        // `order(backward, L)`: the first argument names a pass.
        Expr::Call(c) if c.func.name == "order" => c
            .args
            .iter()
            .skip(1)
            .for_each(|a| collect_claim_refs(a, out)),
        Expr::Rel(_, l, r, _) => {
            collect_claim_refs(l, out);
            collect_claim_refs(r, out);
        }
        // `solve(rel, unknown)`: the unknown is a name or power of one, checked like the rest.
        Expr::Call(c) if c.func.name == "equivalent" => {}
        _ => walk_refs(e, &mut |r| out.push(r)),
    }
}

fn collect_calls<'a>(e: &'a Expr, out: &mut Vec<&'a Call>) {
    match e {
        Expr::Call(c) => {
            out.push(c);
            c.args.iter().for_each(|a| collect_calls(a, out));
        }
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => collect_calls(x, out),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            collect_calls(l, out);
            collect_calls(r, out);
        }
        _ => {}
    }
}
