//! The checker: names, index kinds, ranks, free and summed indices, ranges, family
//! starts and claims. It reads the AST and builds an [`Env`] (the symbol table later
//! stages use); every problem becomes a [`Diagnostic`] with a code from
//! docs/diagnostics.md. The checker never stops at the first error.
//!
//! Files, by concept:
//! - `mod.rs`: the entry point [`check`], the checker's state and scopes, small helpers.
//! - `functions.rs`: the names an expression may apply (model and claim functions,
//!   distributions).
//! - `declare.rs`: the first two passes (loop variables, family names, declarations,
//!   ranks of defined tensors).
//! - `statements.rs`: the third pass over statements (bindings, rules, equations, family
//!   subscripts and starts).
//! - `terms.rs`: expressions as sums of product terms with their free and summed indices.
//! - `indices.rs`: index positions, tensor accesses, extents and the boundary rule.
//! - `claims.rs`: claims, givens, `at`/`sample` bindings and family starts.
//! - `walk.rs`: walks that collect references and calls.
//! - `defs.rs`: definitions (`def`), `env.rs`: the environment, `budget.rs`: size
//!   budgets, `domains.rs`: value domains, `givens.rs`: givens as a system, `vary.rs`:
//!   what a claim varies.

mod at_cycles;
mod boundary_use;
mod brackets;
pub mod budget;
pub mod capitals;
mod claim_indices;
mod claim_positions;
mod claim_sides;
mod claims;
mod declare;
mod defs;
mod derived_extent;
pub mod domains;
mod env;
mod fixed_reads;
mod functions;
mod given_cycles;
pub mod givens;
mod gradients;
pub(crate) use gradients::loss_of;
mod indices;
mod leaf_cycles;
pub mod loop_extents;
mod member_order;
mod member_range;
mod member_sizes;
pub mod members;
pub mod numbers;
pub mod outputs;
mod range_reads;
mod repeated;
mod rule_reads;
mod sample_sizes;
mod shadowing;
mod statements;
pub mod supports;
mod terms;
pub mod vary;
mod walk;
mod whole_claims;
mod write_extents;

pub use claims::resolve_index_capitals;
pub use env::{Env, FamilySpan, IndexInfo, TensorInfo, TensorKind};
pub use functions::{function_arity, CLAIM_FUNCTIONS, DISTRIBUTIONS, MAX_SAMPLE_SIZE};
pub use walk::walk_refs;

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// Checks a parsed program. Returns the environment and the diagnostics (errors and
/// warnings); the environment is usable even when there are errors.
pub fn check(program: &Program) -> (Env, Vec<Diagnostic>) {
    check_after_parse(program, &[])
}

/// [`check`] of a program whose lines that failed to parse would have defined
/// `unparsed` (from [`crate::syntax::parser::Parsed::unparsed`]): uses of those names
/// are consequences of the syntax error already reported, and are not reported again.
pub fn check_after_parse(program: &Program, unparsed: &[String]) -> (Env, Vec<Diagnostic>) {
    check_expanded(program, unparsed, &[])
}

/// [`check_after_parse`] of a program whose derived sizes (`size Y = floor((X - DX)/2) +
/// 1`, from [`members::expand_derived`]) are `derived`: their sample values are
/// E0412's, not E0414's ([`Env::derived_sizes`]).
pub fn check_expanded(
    program: &Program,
    unparsed: &[String],
    derived: &[(String, Expr)],
) -> (Env, Vec<Diagnostic>) {
    let mut c = Checker {
        unparsed: unparsed.iter().cloned().collect(),
        ..Checker::default()
    };
    c.env.derived_sizes = derived.to_vec();
    c.bare_functions = functions::operands_without_parentheses(&program.items);
    c.collect_loop_vars(&program.items);
    c.collect_family_keys(&program.items);
    c.declare(&program.items);
    c.families_from_defs(&program.items);
    // The domains before the claims: a given outside its symbol's domain is E0512.
    c.env.domains = domains::infer(program, &c.env);
    // The leaves' supports before the claims: an element given outside is E0512.
    c.env.elem_supports = supports::of(program, &c.env);
    c.items(&program.items, &mut Scope::default());
    c.grad_extents(&program.items);
    c.definitions(&program.items);
    // Positions along a loop variable, each reference once: outside whatever the sizes
    // (E0301, E0303), else outside at the sample values (E0211).
    loop_extents::check(program, &c.env, &mut c.diags);
    // Writes at shifted or strided positions past their tensor's extent (E0213).
    write_extents::check(program, &c.env, &mut c.diags);
    // A claim's fixed negative positions on dimensions from 0 (E0214).
    claim_positions::check(program, &c.env, &mut c.diags);
    // Reads at a fixed position a declared tensor does not have (E0215).
    fixed_reads::check(program, &c.env, &mut c.diags);
    vary::check(&program.items, &c.env, &mut c.diags, &mut c.suggestions);
    vary::check_values(&program.items, &c.env, &mut c.diags);
    // `at` values that set their names in a cycle (E0511).
    at_cycles::check(&program.items, &mut c.diags);
    vary::check_value_names(&program.items, &c.env, &mut c.diags);
    // Numbers written with an exponent tq does not read, wherever they are (E0904).
    numbers::check(&program.items, &mut c.diags);
    c.env.sample_values = budget::check(program, &c.env, &mut c.diags);
    // A line that failed to parse, or a loop or family the expansion dropped (E0410), may
    // be the read the `boundary` line is for: the rule is judged on whole programs only.
    if c.unparsed.is_empty() {
        boundary_use::check(program, &mut c.diags);
    }
    brackets::check(&program.items, &mut c.diags);
    // An index named twice in a left side, a `for` list or a sum's list (E0216).
    repeated::check(&program.items, &c.env, &mut c.diags);
    // A function called by a declared name (`symbol sigma`, `sigma(x + 1)`: E0815).
    functions::check_declared_names(&program.items, &c.env, &mut c.diags);
    // A computed tensor named like a moment (`Var[b] = ...`), a loop, family or rule
    // variable named like an index, a symbol, a scalar or a size (E0102).
    shadowing::check(&program.items, &c.env, &mut c.diags);
    // A given that sets a tensor from a value that reads it (E0511).
    given_cycles::check(program, &c.env, &mut c.diags);
    // A leaf whose distribution or value reads the leaf itself (E0105).
    leaf_cycles::check(program, &c.env, &mut c.diags);
    // A loop's or family's range that reads a value of the model (E0410).
    range_reads::check(&program.items, &c.env, &mut c.diags);
    rule_reads::check(program, &mut c.diags);
    sample_sizes::check(program, &c.env, &mut c.diags);
    member_range::check(program, &c.env, &mut c.diags);
    c.env.family_spans = member_range::spans(program, &c.env);
    // A loop that reads a family member it writes later, in a model with a backward
    // program (E0812).
    member_order::check(program, &c.env, &mut c.diags);
    gradients::check(program, &c.env, &mut c.diags, !c.unparsed.is_empty());
    c.env.domains = domains::infer(program, &c.env);
    c.env.signed = domains::signed(program, &c.env);
    (c.env.leaf_domains, c.env.leaf_values) = domains::leaves(program, &c.env);
    real_symbols(&program.items, &mut c.env);
    exponent_counts(&program.items, &mut c.env);
    c.report_missing();
    // A tensor named without its indices in a claim's relation (E0507), after the names
    // a claim does not define are reported (a claim with an error gets no second one).
    whole_claims::check(&program.items, &c.env, &mut c.diags);
    let slips = std::mem::take(&mut c.size_case_slips);
    // Looked up by the name the message starts with (a scan of the slips for each
    // diagnostic was quadratic in a `sample` line of thousands of names in the other case).
    c.diags.retain(|d| {
        !(d.code == "E0414"
            && d.message
                .strip_prefix("size `")
                .and_then(|rest| rest.split_once("` "))
                .is_some_and(|(size, _)| slips.contains(size)))
    });
    one_diagnostic_per_cause(&mut c.diags, &c.unparsed);
    let unlooped = std::mem::take(&mut c.unlooped);
    c.diags.retain(|d| {
        !(d.code == "E0301"
            && unlooped
                .iter()
                .any(|p| p.start <= d.span.start && d.span.end <= p.end))
    });
    // A position that reads an index whose declaration failed to parse (`index u : X / 2`,
    // then `x[b,2u]`) is checked against nothing: whatever the position checks say of it
    // (E0301, E0210, E0211, ...) is a consequence of the syntax error already reported.
    let undeclared: BTreeSet<String> = c
        .unparsed
        .iter()
        .filter(|n| {
            !(c.env.sizes.contains_key(*n)
                || c.env.indices.contains_key(*n)
                || c.env.tensors.contains_key(*n))
        })
        .cloned()
        .collect();
    let cascaded = positions_reading(&program.items, &undeclared);
    c.diags.retain(|d| {
        !cascaded
            .iter()
            .any(|p| p.start <= d.span.start && d.span.end <= p.end)
    });
    (c.env, c.diags)
}

/// The spans of the index positions (`2u`, `x+dx`) in the statements and claims of
/// `items` that read one of `names` (an index, or an index of the size `names` holds).
fn positions_reading(items: &[Item], names: &BTreeSet<String>) -> Vec<Span> {
    let mut out = Vec::new();
    if names.is_empty() {
        return out;
    }
    let mut of_ref = |r: &Ref| {
        for ix in r.indices.iter().flatten() {
            if let IndexExpr::Affine(a) = ix {
                // The index, or the size it ranges over (`u` of `size U = X // 2`).
                let reads = a.terms.iter().flat_map(|t| &t.factors).any(|f| {
                    names.contains(&f.name)
                        || (f.name.starts_with(|c: char| c.is_ascii_lowercase())
                            && names.contains(&f.name.trim_end_matches('\'').to_uppercase()))
                });
                if reads {
                    out.push(a.span);
                }
            }
        }
    };
    fn visit(items: &[Item], f: &mut dyn FnMut(&Ref)) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    crate::syntax::visit::walk_ref(&eq.lhs, f);
                    walk_refs(&eq.rhs, f);
                }
                ItemKind::Loop(l) => visit(&l.body, f),
                ItemKind::ForIndices(l) => visit(&l.body, f),
                ItemKind::Rule(r) => visit(&r.body, f),
                ItemKind::Claim(c) => {
                    walk_refs(&c.body, f);
                    c.given.iter().for_each(|g| walk_refs(g, f));
                    if let Some(b) = &c.includes {
                        visit(b, f);
                    }
                }
                _ => {}
            }
        }
    }
    visit(items, &mut of_ref);
    out
}

/// Diagnostics that are consequences of another one, dropped: E0203 for an index that
/// E0210 reports at the same place (`c[i]` on `param c[J]`: the index is the one
/// mistake), and E0301 (a read that needs a boundary rule) when the `boundary` line
/// failed to parse.
fn one_diagnostic_per_cause(diags: &mut Vec<Diagnostic>, unparsed: &BTreeSet<String>) {
    let extents: BTreeSet<Span> = diags
        .iter()
        .filter(|d| d.code == "E0210")
        .map(|d| d.span)
        .collect();
    let no_rule = unparsed.contains("boundary");
    diags.retain(|d| {
        !(d.code == "E0203" && extents.contains(&d.span) || d.code == "E0301" && no_rule)
    });
}

/// A declared member's fixed positions, where it was declared and as what.
type MemberDecl = (Vec<(usize, i64)>, Span, DeclKind);

#[derive(Default)]
struct Checker {
    env: Env,
    /// Built-in functions written without parentheses (`exp x[b,j]`), by the place of
    /// the name: where the factor after it ends, and that factor printed.
    bare_functions: BTreeMap<u32, (u32, String)>,
    /// The family members each loop checked so far writes (by subscript, not position):
    /// the family, the first member and the last when the range's end is a number.
    loop_writes: Vec<(String, i64, Option<i64>)>,
    diags: Vec<Diagnostic>,
    /// The code and place of `diags[..seen_upto]`, for [`Checker::err`].
    seen: std::collections::HashSet<(&'static str, u32, u32)>,
    seen_upto: usize,
    /// Every variable bound by a `for v in ..` anywhere (these make subscripts family indices).
    loop_vars: BTreeSet<String>,
    /// The range of the first loop over each loop variable, as written (`1..L`): the
    /// range a hint suggests for a family declared without one.
    family_ranges: std::collections::BTreeMap<String, String>,
    /// Names used somewhere with a loop variable in a subscript: families.
    family_keys: BTreeSet<String>,
    /// Declared members (`x`, `L_0`) with their fixed positions and where they were
    /// declared: a second declaration of the same member is E0102.
    member_decls: BTreeMap<String, Vec<MemberDecl>>,
    /// `grad` declarations by member, where they were made.
    grad_decls: BTreeMap<String, Span>,
    /// Names given a value on a file-level `sample` line, where.
    sampled: BTreeMap<String, Span>,
    /// Names that lines which failed to parse would have defined.
    unparsed: BTreeSet<String>,
    /// A missing name (a size, a tensor, an index's size) by the name to declare: the
    /// diagnostic of its first use and the number of later uses (one diagnostic for one
    /// cause, [`Checker::missing`]).
    missing: BTreeMap<String, (Diagnostic, usize)>,
    /// The names written at the uses of each missing cause (`n`, `n'` for `N`), for the
    /// count of later uses (wrong42, probe41 q10: it named `N`, absent from the file).
    missing_names: BTreeMap<String, BTreeSet<String>>,
    /// The size of the dimension a reference position indexes, while [`Checker::access`]
    /// reads that position; and, by the index a missing size is for, the first such size
    /// seen at any of its uses (E0201's hint names it: `index k : M`).
    position_extent: Option<String>,
    index_extents: BTreeMap<String, String>,
    /// An undeclared name on a `sample` or `at` line: where, and the hint for when
    /// that line is its only use (remove it, or declare it if the model should use it).
    bound_only: BTreeMap<String, (Span, String)>,
    /// The right sides of recurrences written without their loop (E0104): what the
    /// position checks say of their reads (E0301) is a consequence.
    unlooped: Vec<Span>,
    /// Where an equation first defines a family member with constant subscripts (`g_0`),
    /// by family and subscripts: a loop that starts from it must come after it (E0105).
    start_equations: BTreeMap<(String, Vec<i64>), Span>,
    /// Declared sizes a `sample` line named in the other case (`sample n = 3` for
    /// `size N`): their E0414 (no sample value) is a consequence of that slip.
    size_case_slips: BTreeSet<String>,
    /// The declared sizes by their ASCII lower case, for [`Checker::size_in_other_case`].
    sizes_folded: BTreeMap<String, BTreeSet<String>>,
    /// The work the file's "did you mean" searches share (`diag::SUGGEST_WORK`).
    suggestions: crate::diag::Suggestions,
}

impl Checker {
    /// The declared size that `name` spells in the other case (`N` for `n`, `n` for
    /// `N`): looked up by its ASCII lower case (a scan of every size for each name was
    /// quadratic in a `sample` line of thousands of names in the other case).
    fn size_in_other_case(&self, name: &str) -> Option<String> {
        self.sizes_folded
            .get(&name.to_ascii_lowercase())?
            .iter()
            .find(|s| s.as_str() != name)
            .cloned()
    }

    /// Declares a size (after [`Checker::declare_name`] accepted it).
    fn declare_size(&mut self, id: &Ident) {
        self.env.sizes.insert(id.name.clone(), id.span);
        self.sizes_folded
            .entry(id.name.to_ascii_lowercase())
            .or_default()
            .insert(id.name.clone());
    }
}

/// The hint for a size declared in lower case (`size n`) used as an index (`n`) or
/// summed (`N`): sizes are capitals, their lower-case letter the index over them.
fn lower_case_size_hint(size: &str) -> String {
    let up = size.to_uppercase();
    format!(
        "the size is declared as `size {size}`, in lower case: a size is named with a capital and its lower-case letter is the index over it; declare `size {up}` instead (then `{size}` is an index over it and `{up}` sums), or declare an index over it (`index k : {size}`) and write `k` or `K`"
    )
}

/// What a name could have been meant as, for "did you mean".
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Tensor,
    Size,
    Symbol,
    Scalar,
    Index,
    /// A summed index: the capitals of declared indices, then the sizes.
    Summed,
    Rule,
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
    /// Inside a `claim backprop includes:` block (backward statements, which read
    /// gradients); outside, a statement is the forward program's.
    backward: bool,
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
    /// The free indices that occur inside a function's argument (`b` in
    /// `-ln(P[b, lab[b]])`): a capital there would sum inside the function.
    in_call: BTreeSet<String>,
}

fn lower(name: &str) -> String {
    name.to_lowercase()
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
        // One diagnostic per code and place is enough. The places are kept in a set
        // (a scan of the list made a file of 40,000 errors quadratic: 15 s); passes
        // that push to `diags` directly are taken into it here.
        if self.diags.len() < self.seen_upto {
            self.seen.clear();
            self.seen_upto = 0;
        }
        for o in &self.diags[self.seen_upto..] {
            self.seen.insert((o.code, o.span.start, o.span.end));
        }
        self.seen_upto = self.diags.len();
        if self.seen.insert((d.code, d.span.start, d.span.end)) {
            self.diags.push(d);
            self.seen_upto = self.diags.len();
        }
    }
}

impl Checker {
    /// Reports a use of a name that is not declared, once per name: `cause` is the name
    /// to declare (a size `J` for an index `j` without a size). Only its first use in
    /// the file is reported, with the number of later uses; a name a line that failed
    /// to parse would have defined is not reported at all (the syntax error is the
    /// cause).
    fn missing(&mut self, cause: &str, d: Diagnostic) {
        let member_of_unparsed = cause
            .split_once('_')
            .is_some_and(|(base, _)| self.unparsed.contains(&format!("{base}_")));
        // `N_{l-1}` read as a value is reported as `N`: a per-member size family that
        // failed (E0410) is its cause.
        let family_unparsed = self.unparsed.contains(&format!("{cause}_"));
        // `S.theta` of a rule whose line failed (`rule S over t: ...` on one line).
        let rule_unparsed = cause
            .split_once('.')
            .is_some_and(|(rule, _)| self.unparsed.contains(rule));
        if self.unparsed.contains(cause) || member_of_unparsed || family_unparsed || rule_unparsed {
            return;
        }
        // The name the diagnostic is about: its first quoted name.
        if let Some(name) = d.message.split('`').nth(1) {
            self.missing_names
                .entry(cause.to_string())
                .or_default()
                .insert(name.to_string());
        }
        match self.missing.get_mut(cause) {
            Some((first, later)) => {
                *later += 1;
                if d.span.start < first.span.start {
                    *first = d;
                }
            }
            None => {
                self.missing.insert(cause.to_string(), (d, 0));
            }
        }
    }

    fn report_missing(&mut self) {
        let missing = std::mem::take(&mut self.missing);
        let causes: BTreeSet<String> = missing.keys().cloned().collect();
        for (cause, (mut d, later)) in missing {
            // An index whose only extent is a size that is itself missing: that size is
            // the one cause (`x[B, N]` with `N` undeclared, then `x[b,i]`).
            if d.code == "E0201"
                && self
                    .index_extents
                    .get(&cause)
                    .is_some_and(|s| causes.contains(s))
            {
                continue;
            }
            // An index without a size that indexes a dimension of known extent somewhere.
            // Only `index n : B` fits it: a `size N` of its own would index a dimension of
            // extent `B` with `n` over `N` (E0210; probe41 q10 suggested it first).
            if let (Some(size), Some(h)) = (self.index_extents.get(&cause), d.hint.as_mut()) {
                let own = format!("declare `size {cause}` or `index ");
                if d.code == "E0201" && h.ends_with(" : N`") && h.contains(&own) {
                    h.truncate(h.len() - " : N`".len());
                    *h = h.replacen(&own, "declare `index ", 1);
                    h.push_str(&format!(
                        " : {size}` (it indexes a dimension of extent `{size}`, so a `size {cause}` of its own would not fit it)"
                    ));
                }
            }
            // Declared, but only further down: the fix is to move the declaration.
            if let Some((what, at)) = self.declared_after(&cause, d.span) {
                d.hint = Some(format!(
                    "`{cause}` is declared further down ({what}); a name must be declared before its first use: move the declaration above this line"
                ));
                d = d.with_related(at, "declared here, after its first use");
            }
            // Named only on a `sample` or `at` line: nothing reads it.
            if let Some((at, hint)) = self.bound_only.get(&cause) {
                if later == 0 && *at == d.span && self.declared_after(&cause, d.span).is_none() {
                    d.hint = Some(hint.clone());
                }
            }
            if later > 0 {
                let names = self.missing_names.get(&cause).filter(|n| !n.is_empty());
                let shown = match names {
                    Some(n) if d.code == "E0201" => n
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    _ => format!("`{cause}`"),
                };
                let more = format!(
                    "{shown} is used {later} more time{} below; those uses are not reported again",
                    if later == 1 { "" } else { "s" }
                );
                d.hint = Some(match d.hint.take() {
                    Some(h) => format!("{h} ({more})"),
                    None => more,
                });
            }
            self.err(d);
        }
    }

    /// The kind and span of a declaration of `name` that comes after `used` in the file.
    fn declared_after(&self, name: &str, used: Span) -> Option<(&'static str, Span)> {
        let env = &self.env;
        [
            ("a size", env.sizes.get(name).copied()),
            ("a symbol", env.symbols.get(name).copied()),
            ("a scalar", env.scalars.get(name).copied()),
            ("a tensor", env.tensors.get(name).map(|t| t.span)),
        ]
        .into_iter()
        .find_map(|(what, at)| at.filter(|at| at.start > used.end).map(|at| (what, at)))
    }

    /// "did you mean `x`? " for a name close to one declared as one of `kinds`, or "".
    fn did_you_mean(&mut self, name: &str, kinds: &[Kind]) -> String {
        if self.suggestions.spent() {
            return String::new();
        }
        let env = &self.env;
        let mut cands: Vec<String> = Vec::new();
        for k in kinds {
            match k {
                Kind::Tensor => cands.extend(env.tensors.keys().cloned()),
                Kind::Size => cands.extend(env.sizes.keys().cloned()),
                Kind::Symbol => cands.extend(env.symbols.keys().cloned()),
                Kind::Scalar => cands.extend(env.scalars.keys().cloned()),
                Kind::Rule => cands.extend(env.rules.keys().cloned()),
                Kind::Summed => {
                    cands.extend(env.indices.keys().map(|s| s.to_uppercase()));
                    cands.extend(env.sizes.keys().cloned());
                }
                Kind::Index => {
                    cands.extend(env.indices.keys().cloned());
                    cands.extend(env.sizes.keys().map(|s| s.to_lowercase()));
                }
            }
        }
        match self
            .suggestions
            .suggest(name, cands.iter().map(String::as_str))
        {
            Some(s) => format!("did you mean `{s}`? "),
            None => String::new(),
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

/// Symbols the model reads as real quantities: in a statement's right side or a
/// declaration's distribution or value, outside an exponent (`y = c x`, `normal(0, a)`,
/// `bernoulli(p)`). A symbol read in an exponent is taken as a whole number >= 1 (a
/// count: a depth, a number of steps) only when the model never reads it as such a
/// quantity; these join [`Env::fractional`] (docs/language.md, domains), so
/// `claim 2^c >= 2` beside `y[n] = c x[n]` is refuted at c = 1/2, not proved.
fn real_symbols(items: &[crate::syntax::ast::Item], env: &mut Env) {
    use crate::syntax::ast::{Expr, Init};
    fn walk(e: &Expr, env: &mut Env) {
        match e {
            Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                let name = crate::syntax::printer::print_name(&r.name);
                if env.symbols.contains_key(&name) {
                    env.fractional.insert(name);
                }
            }
            // The exponent of a power is a count, not a real quantity.
            Expr::Binary(crate::syntax::ast::BinOp::Pow, l, _, _) => walk(l, env),
            _ => {
                for c in crate::syntax::visit::children(e) {
                    walk(c, env);
                }
            }
        }
    }
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => walk(&eq.rhs, env),
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Dist(call)) => call.args.iter().for_each(|a| walk(a, env)),
                Some(Init::Value(v)) => walk(v, env),
                None => {}
            },
            ItemKind::Loop(l) => real_symbols(&l.body, env),
            ItemKind::ForIndices(f) => real_symbols(&f.body, env),
            ItemKind::Rule(r) => real_symbols(&r.body, env),
            _ => {}
        }
    }
}

/// Symbols read in an exponent anywhere in the file — a statement, a declaration, a
/// rule or any claim (its relation or its givens) — that the model never reads as a
/// real quantity ([`Env::fractional`]) and that are no location ([`Env::signed`]): a
/// count (a depth, a number of steps), a whole number >= 1 in **every** claim of the
/// file, written into [`Env::domains`]. Before (session 33), the exponent was read claim
/// by claim: `s >= 1` was refuted at s = 1/2 beside `2^s >= 2`, confirmed with s whole,
/// in the same file (docs/language.md, domains).
/// The symbols that multiply an index in a position of any reference (`s` in
/// `x[b, s*u + DX]`), in statements, declarations, claims (their `includes` blocks too),
/// rules and derivations.
fn position_symbols(
    items: &[crate::syntax::ast::Item],
    env: &Env,
    out: &mut std::collections::BTreeSet<String>,
) {
    use crate::syntax::ast::{Expr, IndexExpr, Init, Ref};
    let mut see = |r: &Ref| {
        for ix in r.indices.iter().flatten() {
            let IndexExpr::Affine(a) = ix else { continue };
            for t in a.terms.iter().filter(|t| t.factors.len() > 1) {
                for f in &t.factors {
                    if env.symbols.contains_key(&f.name) {
                        out.insert(f.name.clone());
                    }
                }
            }
        }
    };
    let mut exprs: Vec<&Expr> = Vec::new();
    fn collect<'a>(
        items: &'a [crate::syntax::ast::Item],
        exprs: &mut Vec<&'a Expr>,
        lhs: &mut Vec<&'a Ref>,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    lhs.push(&eq.lhs);
                    exprs.push(&eq.rhs);
                }
                ItemKind::Decl(d) => match &d.init {
                    Some(Init::Dist(c)) => exprs.extend(c.args.iter()),
                    Some(Init::Value(v)) => exprs.push(v),
                    None => {}
                },
                ItemKind::Loop(l) => collect(&l.body, exprs, lhs),
                ItemKind::ForIndices(f) => collect(&f.body, exprs, lhs),
                ItemKind::Rule(r) => collect(&r.body, exprs, lhs),
                ItemKind::Claim(c) => {
                    exprs.push(&c.body);
                    exprs.extend(c.given.iter());
                    if let Some(block) = &c.includes {
                        collect(block, exprs, lhs);
                    }
                }
                ItemKind::Derivation(d) => {
                    exprs.extend(d.given.iter());
                    exprs.push(&d.start);
                    exprs.extend(d.steps.iter().map(|s| &s.expr));
                }
                _ => {}
            }
        }
    }
    let mut lhs: Vec<&Ref> = Vec::new();
    collect(items, &mut exprs, &mut lhs);
    for r in lhs {
        crate::syntax::visit::walk_ref(r, &mut see);
    }
    for e in exprs {
        crate::syntax::visit::walk_refs(e, &mut see);
    }
}

fn exponent_counts(items: &[crate::syntax::ast::Item], env: &mut Env) {
    use crate::syntax::ast::{BinOp, Expr, Init};
    use std::collections::BTreeSet;
    fn names(e: &Expr, env: &Env, out: &mut BTreeSet<String>) {
        if let Expr::Ref(r) = e {
            if r.indices.is_none() && !r.grad {
                let name = crate::syntax::printer::print_name(&r.name);
                if env.symbols.contains_key(&name) {
                    out.insert(name);
                }
            }
        }
        for c in crate::syntax::visit::children(e) {
            names(c, env, out);
        }
    }
    fn walk(e: &Expr, env: &Env, out: &mut BTreeSet<String>) {
        if let Expr::Binary(BinOp::Pow, l, r, _) = e {
            walk(l, env, out);
            names(r, env, out);
            return;
        }
        for c in crate::syntax::visit::children(e) {
            walk(c, env, out);
        }
    }
    fn items_walk(items: &[crate::syntax::ast::Item], env: &Env, out: &mut BTreeSet<String>) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => walk(&eq.rhs, env, out),
                ItemKind::Decl(d) => match &d.init {
                    Some(Init::Dist(call)) => call.args.iter().for_each(|a| walk(a, env, out)),
                    Some(Init::Value(v)) => walk(v, env, out),
                    None => {}
                },
                ItemKind::Loop(l) => items_walk(&l.body, env, out),
                ItemKind::ForIndices(f) => items_walk(&f.body, env, out),
                ItemKind::Rule(r) => items_walk(&r.body, env, out),
                ItemKind::Claim(c) => {
                    walk(&c.body, env, out);
                    c.given.iter().for_each(|g| walk(g, env, out));
                }
                _ => {}
            }
        }
    }
    let mut found = BTreeSet::new();
    items_walk(items, env, &mut found);
    // A symbol that multiplies an index in a position (`x[b, s*u + DX]`: a stride or a
    // dilation) is a whole number >= 1 as well: a position is an affine form with whole
    // coefficients (docs/language.md), and at s = 1/2 no such model exists (probe36 b14:
    // `U <= X` after a strided convolution was refuted at s = 5/6144).
    let mut strides = BTreeSet::new();
    position_symbols(items, env, &mut strides);
    for name in &strides {
        if env.fractional.contains(name)
            || env.signed.contains(name)
            || env.scalars.contains_key(name)
            || env.computed_scalars.contains(name)
        {
            continue;
        }
        if env
            .domains
            .get(name)
            .is_some_and(|d| !d.integer && (d.lo.is_some() || d.hi.is_some()))
        {
            continue;
        }
        let count = crate::sym::Domain::size(
            "read as a coefficient of an index in a position (a stride or a dilation): a whole number >= 1 in every claim",
        );
        env.domains
            .entry(name.clone())
            .and_modify(|d| d.meet(&count))
            .or_insert(count);
    }
    for name in found {
        if env.fractional.contains(&name)
            || env.signed.contains(&name)
            || env.scalars.contains_key(&name)
            || env.computed_scalars.contains(&name)
        {
            continue;
        }
        // A domain inferred from a declaration that is not a count (a probability, a
        // variance) keeps its own meaning.
        if env
            .domains
            .get(&name)
            .is_some_and(|d| !d.integer && (d.lo.is_some() || d.hi.is_some()))
        {
            continue;
        }
        let count = crate::sym::Domain::size(
            "read in an exponent: a count, a whole number >= 1 in every claim",
        );
        env.domains
            .entry(name)
            .and_modify(|d| d.meet(&count))
            .or_insert(count);
    }
}
