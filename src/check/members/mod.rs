//! Per-member sizes (`size N_l for l in 0..L`) and sizes fixed by a value
//! (`size L = 3`), expanded into the plain program every later stage reads.
//!
//! The expansion runs before the checker ([`expand`]); a file with neither construct
//! is returned untouched. With them:
//! - a size with a whole-number value (`size L = 3`) is a constant: its name is
//!   replaced by the number everywhere (ranges, subscripts, formulas, claims);
//! - `size N_l for l in 0..3` declares the plain sizes `N_0`, ..., `N_3`; the range
//!   must be fixed (E0410);
//! - every `for l in a..b:` loop and every family declaration (`param W_l[...] ... for
//!   l in 1..L`) whose range is fixed is unrolled into its members (`W_1`, `W_2`, ...);
//!   a loop that uses per-member sizes over a range that is not fixed is E0410;
//! - in index positions `N_{l-1}` is the size of member l-1 (a summed index over
//!   `n_{l-1}`) and `n_l` the free index over `N_l`, as `J` and `j` are for `size J`;
//! - a claim that uses the variable of an unrolled loop (`Var(h_l) == ...`) is one
//!   claim per member, its text ending in `(l = 2)`;
//! - a member reference must name a member (E0411), and a file that samples gives
//!   every member a value (E0413).
//!
//! So the checker, the moments engine, the counts, the numeric engines, derive,
//! render and emit see plain sizes `N_0`, `N_1` and members `W_1`, `h_2`; the depth is
//! fixed in the file, which is what makes the per-layer widths nameable.

use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::visit::children_mut;
use std::collections::{BTreeMap, BTreeSet};

mod derived;
mod derived_alone;
mod exact;
mod names;
mod subst;
mod vary_derived;

use derived::derived_givens;
pub(crate) use exact::Form;
pub(crate) use exact::{eval_const, eval_with, Exact};
use exact::{eval_subscript, split_member, uses_a_name};
use names::{item_weight, visit_item_members, visit_item_names, visit_item_vars};

/// The most members a per-member size or an unrolled loop may have.
pub const MAX_MEMBERS: i64 = 256;

/// The most the expansion may copy, counted as [`names::item_weight`] (items, expression
/// nodes, references and index positions) over every copy an unrolled loop or family, or
/// a claim split per member, makes: past it the expansion stops with E0302 at the loop or
/// claim, before the copies are made (issue #15: a 62 KB file whose `includes` block of
/// 762 statements was split over 204 members built 155,000 statements, 630 MB; a loop
/// body of 700 statements unrolled 200 times took 1.2 GB and 11 s). A weight unit cost
/// about 0.8 KB and 8 µs through the checker and the engines there; the largest expansion
/// among problems/ and tests/ (`moments_reason_chain_200_fixed_layers.tq`, 200 members of
/// a three-read statement and a family) weighs about 7,000 by hand count.
pub const MAX_EXPANDED_WEIGHT: u64 = 200_000;

/// The fixed sizes' values and the per-member sizes found while expanding.
#[derive(Default)]
struct Expander {
    /// Sizes fixed by a value (`size L = 3`) and the unrolled loop variables in scope.
    consts: BTreeMap<String, i64>,
    /// Where each fixed size's value is written (`3` of `size L = 3`).
    fixed_at: BTreeMap<String, Span>,
    /// Per-member sizes: base (`N`) to the first and last member and the declaration.
    families: BTreeMap<String, (i64, i64, Span)>,
    /// The unrolled loops' variables and their ranges (the first loop of each name).
    unrolled: BTreeMap<String, (i64, i64)>,
    /// The unrolled loops' and families' variables and the union of their ranges: a
    /// claim over the variable is about every member it names (`Var(h_l)`: h_0 to h_L,
    /// where `param W_l ... for l in 1..L` is the first range over l).
    spans: BTreeMap<String, (i64, i64)>,
    diags: Vec<Diagnostic>,
    /// The fixed sizes whose range E0410 reported as too long.
    too_long: BTreeSet<Vec<String>>,
    /// Names whose uses are consequences of an error reported here (`N_` for every
    /// member of `N`, `h_` for the members a dropped loop defines), for the checker's
    /// `unparsed`.
    suppress: BTreeSet<String>,
    /// Sizes derived from sizes that vary (`size Y = floor((X - DX)/2) + 1`): the name,
    /// the value, and the givens that state it in claims.
    derived: Vec<(Ident, Expr, Vec<Expr>)>,
    /// The weight of the copies made so far ([`MAX_EXPANDED_WEIGHT`]).
    weight: u64,
    /// The expansion went over its budget (reported once; no further copies are made).
    over: bool,
    /// The loops, families and claims being expanded, outermost first (where an E0302
    /// of the budget is reported).
    sites: Vec<(Span, &'static str)>,
}

/// Expands per-member sizes and fixed sizes in place (see the module comment);
/// returns the diagnostics, and adds to `unparsed` the names whose uses are
/// consequences of them (see [`crate::check::check_after_parse`]). A program without
/// `size ... for` or `size X = value` lines is left as it is.
pub fn expand(program: &mut Program, unparsed: &mut Vec<String>) -> Vec<Diagnostic> {
    expand_derived(program, unparsed).0
}

/// [`expand`], with the sizes derived from sizes that vary and their values (for
/// [`crate::check::outputs`]).
pub fn expand_derived(
    program: &mut Program,
    unparsed: &mut Vec<String>,
) -> (Vec<Diagnostic>, Vec<(String, Expr)>) {
    let uses = program.items.iter().any(|i| {
        matches!(
            i.kind,
            ItemKind::SizeMembers { .. } | ItemKind::SizeValue { .. }
        )
    });
    if !uses {
        let mut diags = Vec::new();
        nested_sizes(&program.items, false, &mut diags);
        Expander::default().at_sizes_as_givens(&mut program.items);
        return (diags, Vec::new());
    }
    let mut x = Expander::default();
    nested_sizes(&program.items, false, &mut x.diags);
    let items = std::mem::take(&mut program.items);
    // The sizes indices range over (`index dx : D`): a fixed size among them stays a
    // declared size, valued like a derived one (below).
    let mut index_sizes: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Index { size, .. } => Some(size.name.clone()),
            _ => None,
        })
        .collect();
    // So is a fixed size written alone in an index list (`input x[B, K]`, `W[j,K] x[b,K]`
    // with `size K = 4`): written in as a number it was a position (`x[B, 4]` the slice
    // at 4, `x[b,4]` one element past the end), so the model silently became another
    // (probe 28: true claims refuted, no diagnostic).
    index_lists_sizes(&items, &mut index_sizes);
    // Sizes defined from themselves, directly or through others (`size L = L`): one
    // diagnostic per cycle, its sizes left undeclared and their uses suppressed (each
    // was also a derived size without a sample value and a given set from itself).
    let cyclic = derived::size_cycles(&items, &mut x.diags);
    // Fixed sizes first, in order: a value may use the sizes fixed before it.
    let mut rest = Vec::new();
    for item in items {
        match item.kind {
            ItemKind::SizeValue { name, .. } if cyclic.contains(&name.name) => {
                x.suppress.insert(name.name.clone());
            }
            ItemKind::SizeValue { name, value } => {
                x.suppress.insert(name.name.clone());
                if let Some(d) = exact::decimal_in_size(&name, &value) {
                    x.diags.push(d);
                    continue;
                }
                let mut value = value;
                x.subst_expr(&mut value);
                match eval_const(&value) {
                    // A fixed size an index ranges over (`size D = 3` / `index dx : D`)
                    // is kept as a size, its value a given of every claim and a value on
                    // the sample line, as a derived size's: written in as a number, the
                    // index's size was undeclared (E0101 "size `D` is not declared",
                    // probe 27).
                    Some(Exact::Int(v))
                        if (1..=1_000_000).contains(&v) && index_sizes.contains(&name.name) =>
                    {
                        x.suppress.remove(&name.name);
                        let fixed = Expr::Rel(
                            RelOp::Eq,
                            Box::new(Expr::Ref(Ref::plain(&name.name, name.span))),
                            Box::new(Expr::Num(v.to_string(), value.span())),
                            value.span(),
                        );
                        x.derived.push((name.clone(), value.clone(), vec![fixed]));
                        rest.push(Item {
                            kind: ItemKind::Size(vec![name]),
                            span: item.span,
                        });
                    }
                    Some(Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                        x.suppress.remove(&name.name);
                        x.consts.insert(name.name.clone(), v);
                        x.fixed_at.insert(name.name.clone(), value.span());
                    }
                    Some(Exact::Int(v)) => x.diags.push(
                        Diagnostic::error(
                            "E0412",
                            value.span(),
                            format!("`{}` would be {v}: a size is a whole number from 1 to 1,000,000", name.name),
                        )
                        .with_label("this value")
                        .with_hint(if v < 1 {
                            "give the size a value of at least 1".to_string()
                        } else {
                            // Too large, not too small (probe33/b b01: the hint said "at
                            // least 1" for 1000000000); a depth past the limit is symbolic.
                            format!("give the size a value of at most 1,000,000; a larger depth is kept symbolic: declare `size {}` without a value and give its value in a claim's `given` ({} == {v})", name.name, name.name)
                        }),
                    ),
                    Some(Exact::Frac(n, d)) => x.diags.push(
                        Diagnostic::error(
                            "E0412",
                            value.span(),
                            format!("`{}` would be {n}/{d}, not a whole number", name.name),
                        )
                        .with_label("this value")
                        .with_hint("a size is a whole number: round it with `floor(...)` or `ceil(...)`"),
                    ),
                    None if !uses_a_name(&value) => x.diags.push(
                        Diagnostic::error(
                            "E0412",
                            value.span(),
                            format!(
                                "`{}` cannot be computed: it divides by zero or is too large to compute exactly",
                                name.name
                            ),
                        )
                        .with_label("this value")
                        .with_hint("give the size a whole number from 1 to 1,000,000"),
                    ),
                    None => match derived_givens(&name, &value) {
                        Some(givens) => {
                            // A size derived from sizes that vary: declared as a size,
                            // its relation a given of every claim, its sample value
                            // computed from the sample line.
                            x.suppress.remove(&name.name);
                            x.derived.push((name.clone(), value.clone(), givens));
                            rest.push(Item {
                                kind: ItemKind::Size(vec![name]),
                                span: item.span,
                            });
                        }
                        None => x.diags.push(
                            Diagnostic::error(
                                "E0412",
                                value.span(),
                                format!(
                                    "the value of `{}` is not a whole number tq can compute from the file",
                                    name.name
                                ),
                            )
                            .with_label("not a fixed number")
                            .with_hint(
                                "write a number or an expression of sizes fixed before it (`size L = 3`), or a size derived from others as `floor(...)` or `ceil(...)` plus a whole number (`size Y = floor((X - DX)/2) + 1`)",
                            ),
                        ),
                    },
                }
            }
            kind => rest.push(Item {
                kind,
                span: item.span,
            }),
        }
    }
    // Per-member sizes: plain sizes `N_a` .. `N_b`.
    let mut out = Vec::new();
    for mut item in rest {
        if let ItemKind::SizeMembers { names, range } = &mut item.kind {
            let fixed_sizes = x.fixed_sizes_in(range);
            x.subst_expr(&mut range.from);
            x.subst_expr(&mut range.to);
            let Some((a, b)) = x.fixed_range(range, "the per-member size", &fixed_sizes) else {
                x.suppress
                    .extend(names.iter().map(|n| format!("{}_", n.name)));
                continue;
            };
            let mut ids = Vec::new();
            for n in names.iter() {
                x.families.insert(n.name.clone(), (a, b, n.span));
                ids.extend((a..=b).map(|k| Ident {
                    name: exact::member_name(&n.name, k),
                    span: n.span,
                }));
            }
            out.push(Item {
                kind: ItemKind::Size(ids),
                span: item.span,
            });
        } else {
            out.push(item);
        }
    }
    let mut items = Vec::new();
    for item in out {
        x.item(item, &mut items);
    }
    // Claims over an unrolled loop's variable: one per member.
    let members = defined_members(&items);
    let mut expanded = Vec::new();
    for item in items {
        x.claim_members(item, &members, &mut expanded);
    }
    x.at_sizes_as_givens(&mut expanded);
    x.derived_sizes(&mut expanded);
    x.check_members(&expanded);
    x.check_samples(&expanded);
    program.items = expanded;
    unparsed.extend(x.suppress);
    let derived = x
        .derived
        .iter()
        .map(|(n, v, _)| (n.name.clone(), v.clone()))
        .collect();
    (x.diags, derived)
}

/// `size ... for` and `size X = ...` inside a block: they declare file-wide sizes.
fn nested_sizes(items: &[Item], nested: bool, diags: &mut Vec<Diagnostic>) {
    for item in items {
        match &item.kind {
            ItemKind::SizeMembers { .. } | ItemKind::SizeValue { .. } if nested => {
                diags.push(
                    Diagnostic::error(
                        "E0410",
                        item.span,
                        "a `size` line inside a block".to_string(),
                    )
                    .with_hint(
                        "sizes are declared for the whole file: move the line to the top level",
                    ),
                );
            }
            ItemKind::Loop(l) => nested_sizes(&l.body, true, diags),
            ItemKind::ForIndices(f) => nested_sizes(&f.body, true, diags),
            ItemKind::Rule(r) => nested_sizes(&r.body, true, diags),
            _ => {}
        }
    }
}

impl Expander {
    /// The sizes fixed by a value that a range reads (`L` in `0..L-1` under `size L =
    /// 1000`), read before the range is substituted, for E0410's hint.
    fn fixed_sizes_in(&self, r: &Range) -> Vec<String> {
        let mut out = Vec::new();
        for e in [&r.from, &r.to] {
            crate::syntax::visit::walk_refs(e, &mut |x| {
                let n = &x.name;
                if x.indices.is_none()
                    && n.sub.is_empty()
                    && n.sup.is_empty()
                    && n.primes == 0
                    && self.consts.contains_key(&n.base)
                    && !self.unrolled.contains_key(&n.base)
                    && !out.contains(&n.base)
                {
                    out.push(n.base.clone());
                }
            });
        }
        out
    }

    /// The range's ends as whole numbers, or E0410. `fixed` names the sizes fixed by a
    /// value that the range was written with ([`Self::fixed_sizes_in`]).
    fn fixed_range(&mut self, r: &Range, what: &str, fixed: &[String]) -> Option<(i64, i64)> {
        let ends = (eval_const(&r.from), eval_const(&r.to));
        let (Some(Exact::Int(a)), Some(Exact::Int(b))) = ends else {
            self.diags.push(
                Diagnostic::error(
                    "E0410",
                    r.span,
                    format!("the range of {what} is not fixed: its ends are not whole numbers tq can compute"),
                )
                .with_label("this range")
                .with_hint(
                    "per-member sizes need the number of members in the file: fix the depth with `size L = 3` (or write the number)",
                ),
            );
            return None;
        };
        if b < a {
            self.diags.push(
                Diagnostic::error(
                    "E0410",
                    r.span,
                    format!("the range of {what} runs from {a} down to {b}: it has no members"),
                )
                .with_label("this range")
                .with_hint(format!(
                    "the first value comes first: `{b}..{a}` (a loop that runs backwards adds `reversed` after its range)"
                )),
            );
            return None;
        }
        if b - a >= MAX_MEMBERS {
            // One cause, one diagnostic: the loop and the family over the same fixed
            // depth are reported once, at the first.
            if !fixed.is_empty() && !self.too_long.insert(fixed.to_vec()) {
                return None;
            }
            let members = b.saturating_sub(a).saturating_add(1);
            // The fix: the depth as a size without a value, which every engine keeps
            // symbolic (a fixed depth is unrolled member by member).
            // The sample line takes a size of at most 10,000 values of a loop (E0302): a
            // larger depth goes in a claim's `given`, the sample line keeps a small one
            // (probe33/b b06: the hint sent 1000000 to the sample line, which refused it).
            let sample_ok = |v: i64| i128::from(v) <= crate::check::budget::MAX_RANGE_VALUES;
            let hint = if what.contains("per-member") {
                // Per-member sizes cannot have a symbolic range (probe33/a a09: the hint
                // said "declare the size without a value", whose error said "fix it").
                format!(
                    "per-member sizes are unrolled member by member, at most {MAX_MEMBERS} members, and need a fixed range: use at most {MAX_MEMBERS} members, or, for a deeper model, declare one width shared by every member (`size N`) and the depth without a value (`size L`), which the engines keep symbolic"
                )
            } else {
                match fixed {
                    [] if sample_ok(members) => format!(
                        "a range of more than {MAX_MEMBERS} members is written with a size: declare `size L` without a value, write the range with it (`1..L`), and give its value on the `sample` line or in a claim (`given L == {members}`)"
                    ),
                    [] => format!(
                        "a range of more than {MAX_MEMBERS} members is written with a size: declare `size L` without a value, write the range with it (`1..L`), give it a small value on the `sample` line for the numeric runs (`L = 3`) and the large one in a claim (`given L == {members}`)"
                    ),
                    names => {
                        let decls: Vec<String> =
                            names.iter().map(|n| format!("`size {n}`")).collect();
                        let all_small = names.iter().all(|n| sample_ok(self.consts[n]));
                        let values: Vec<String> = names
                            .iter()
                            .map(|n| format!("{n} = {}", self.consts[n]))
                            .collect();
                        if all_small {
                            format!(
                                "a size fixed by a value is unrolled member by member, at most {MAX_MEMBERS} members: declare {} without a value and give `{}` on the `sample` line or in a claim's `given`; the engines keep the depth symbolic",
                                decls.join(", "),
                                values.join(", ")
                            )
                        } else {
                            let givens: Vec<String> = names
                                .iter()
                                .map(|n| format!("{n} == {}", self.consts[n]))
                                .collect();
                            format!(
                                "a size fixed by a value is unrolled member by member, at most {MAX_MEMBERS} members: declare {} without a value, give a small value on the `sample` line for the numeric runs (at most {} values of a loop) and the large one in a claim's `given` (`given {}`); the engines keep the depth symbolic",
                                decls.join(", "),
                                crate::check::budget::MAX_RANGE_VALUES,
                                givens.join(", ")
                            )
                        }
                    }
                }
            };
            self.diags.push(
                Diagnostic::error(
                    "E0410",
                    r.span,
                    format!(
                        "the range of {what} has {members} members; a range fixed by values is unrolled, at most {MAX_MEMBERS} members"
                    ),
                )
                .with_label("this range")
                .with_hint(hint),
            );
            return None;
        }
        Some((a, b))
    }

    /// Charges one copy of `item` to the expansion's budget, inside an unrolled loop,
    /// family or claim split per member (`sites`); false, with one E0302 at the
    /// outermost site, once the budget is spent.
    fn charge(&mut self, item: &Item) -> bool {
        if self.over {
            return false;
        }
        let Some(&(site, what)) = self.sites.first() else {
            return true;
        };
        self.weight = self.weight.saturating_add(item_weight(item));
        if self.weight <= MAX_EXPANDED_WEIGHT {
            return true;
        }
        self.over = true;
        self.diags.push(
            Diagnostic::error(
                "E0302",
                site,
                format!(
                    "expanding {what} makes more than {MAX_EXPANDED_WEIGHT} parts of statements and claims (items, terms, references and indices, counted over every member's copy)"
                ),
            )
            .with_label("expanded member by member here")
            .with_hint(
                "a size fixed by a value (`size L = 200`) unrolls every loop and family over it and makes a claim that names the loop variable one claim per member: declare the size without a value (`size L`) and give it on the `sample` line or in a claim's `given` (the engines keep the depth symbolic), or shorten the block",
            ),
        );
        false
    }

    /// Whether the item (or its block) names a per-member size or its index.
    fn mentions_members(&self, item: &Item) -> bool {
        let mut found = false;
        let fams = &self.families;
        visit_item_names(item, &mut |base: &str| {
            if fams.contains_key(&base.to_uppercase()) {
                found = true;
            }
        });
        found
    }

    /// Expands one item into `out`: loops and family declarations over fixed ranges
    /// are unrolled, everything else has the fixed sizes and loop variables replaced.
    fn item(&mut self, mut item: Item, out: &mut Vec<Item>) {
        match &mut item.kind {
            ItemKind::Loop(l) => {
                let fixed_sizes = self.fixed_sizes_in(&l.range);
                self.subst_expr(&mut l.range.from);
                self.subst_expr(&mut l.range.to);
                let fixed = matches!(
                    (eval_const(&l.range.from), eval_const(&l.range.to)),
                    (Some(Exact::Int(_)), Some(Exact::Int(_)))
                );
                if !fixed {
                    if self.mentions_members(&item) {
                        let ItemKind::Loop(l) = &item.kind else {
                            unreachable!()
                        };
                        let r = l.range.clone();
                        self.fixed_range(&r, "a loop that uses per-member sizes", &fixed_sizes);
                        self.suppress_defined(&item);
                        return;
                    }
                    let ItemKind::Loop(l) = &mut item.kind else {
                        unreachable!()
                    };
                    let body = std::mem::take(&mut l.body);
                    for b in body {
                        self.item(b, &mut l.body);
                    }
                    out.push(item);
                    return;
                }
                let ItemKind::Loop(l) = item.kind else {
                    unreachable!()
                };
                let Some((a, b)) = self.fixed_range(&l.range, "the loop", &fixed_sizes) else {
                    // The loop's members are not defined, and its variable is not unrolled
                    // in the claims: their uses are consequences.
                    self.suppress.insert(l.range.var.name.clone());
                    self.suppress_defined(&Item {
                        kind: ItemKind::Loop(l),
                        span: item.span,
                    });
                    return;
                };
                let var = l.range.var.name.clone();
                self.unrolled.entry(var.clone()).or_insert((a, b));
                self.widen_span(&var, a, b);
                let values: Vec<i64> = if l.reverse {
                    (a..=b).rev().collect()
                } else {
                    (a..=b).collect()
                };
                let saved = self.consts.get(&var).copied();
                self.sites.push((l.range.span, "this loop"));
                'values: for v in values {
                    self.consts.insert(var.clone(), v);
                    for b in &l.body {
                        if self.over {
                            break 'values;
                        }
                        self.item(b.clone(), out);
                    }
                }
                self.sites.pop();
                if self.over {
                    // The members left out are not defined: their uses are consequences.
                    self.suppress.insert(var.clone());
                    l.body.iter().for_each(|b| self.suppress_defined(b));
                }
                match saved {
                    Some(s) => self.consts.insert(var, s),
                    None => self.consts.remove(&var),
                };
            }
            ItemKind::Decl(d) if d.family.is_some() => {
                let r = d.family.as_mut().expect("a family");
                let fixed_sizes = self.fixed_sizes_in(r);
                self.subst_expr(&mut r.from);
                self.subst_expr(&mut r.to);
                let fixed = matches!(
                    (eval_const(&r.from), eval_const(&r.to)),
                    (Some(Exact::Int(_)), Some(Exact::Int(_)))
                );
                if !fixed {
                    if self.mentions_members(&item) {
                        let ItemKind::Decl(d) = &item.kind else {
                            unreachable!()
                        };
                        let r = d.family.clone().expect("a family");
                        self.fixed_range(&r, "a family that uses per-member sizes", &fixed_sizes);
                        self.suppress_defined(&item);
                        return;
                    }
                    self.subst_item(&mut item);
                    out.push(item);
                    return;
                }
                let r = r.clone();
                let Some((a, b)) = self.fixed_range(&r, "the family", &fixed_sizes) else {
                    self.suppress.insert(r.var.name.clone());
                    self.suppress_defined(&item);
                    return;
                };
                let var = r.var.name.clone();
                self.unrolled.entry(var.clone()).or_insert((a, b));
                self.widen_span(&var, a, b);
                let saved = self.consts.get(&var).copied();
                self.sites.push((r.span, "this family"));
                for v in a..=b {
                    if !self.charge(&item) {
                        self.suppress.insert(var.clone());
                        self.suppress_defined(&item);
                        break;
                    }
                    self.consts.insert(var.clone(), v);
                    let mut m = item.clone();
                    if let ItemKind::Decl(d) = &mut m.kind {
                        d.family = None;
                    }
                    self.subst_item(&mut m);
                    out.push(m);
                }
                self.sites.pop();
                match saved {
                    Some(s) => self.consts.insert(var, s),
                    None => self.consts.remove(&var),
                };
            }
            _ => {
                if !self.charge(&item) {
                    self.suppress_defined(&item);
                    return;
                }
                self.subst_item(&mut item);
                out.push(item);
            }
        }
    }

    /// The names an item that is dropped would define: their uses are not reported.
    fn suppress_defined(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Decl(d) => self.suppress_name(&d.target.name),
            ItemKind::Equation(eq) => self.suppress_name(&eq.lhs.name),
            ItemKind::Loop(l) => l.body.iter().for_each(|b| self.suppress_defined(b)),
            ItemKind::ForIndices(f) => f.body.iter().for_each(|b| self.suppress_defined(b)),
            _ => {}
        }
    }

    fn suppress_name(&mut self, n: &Name) {
        let plain = Name {
            sub: vec![],
            span: n.span,
            ..n.clone()
        };
        let p = crate::syntax::printer::print_name(&plain);
        if !n.sub.is_empty() {
            self.suppress.insert(format!("{p}_"));
        }
        self.suppress.insert(p);
    }

    fn widen_span(&mut self, var: &str, a: i64, b: i64) {
        let e = self.spans.entry(var.to_string()).or_insert((a, b));
        *e = (e.0.min(a), e.1.max(b));
    }

    /// A claim that uses an unrolled loop's variable becomes one claim per member: per
    /// value of the variable at which every family member the claim names exists
    /// (`members`, [`defined_members`]), from two before the least range over the
    /// variable to two after the largest, so a claim about `h_l` is one about h_0 and
    /// h_L too (session 30: with `param W_l ... for l in 1..L` first, `Var(h_l) >= 1 +
    /// s/4` was proved at l = 1..3 and never read at l = 0, where it fails). A claim that
    /// names no member of a family takes the first range over the variable, as before.
    fn claim_members(
        &mut self,
        item: Item,
        members: &(BTreeSet<String>, BTreeSet<String>),
        out: &mut Vec<Item>,
    ) {
        let ItemKind::Claim(c) = &item.kind else {
            out.push(item);
            return;
        };
        let mut used = BTreeSet::new();
        let unrolled = &self.unrolled;
        visit_item_vars(&item, &mut |name: &str| {
            if unrolled.contains_key(name) {
                used.insert(name.to_string());
            }
        });
        // A variable an `includes` block binds with a loop of its own (derive's printed
        // form, `for t in 1..T reversed:` around its statements) is that loop's, not a
        // claim per member: split per member, each claim ran its statement over the
        // whole loop again and a true block was refuted.
        if let Some(block) = &c.includes {
            fn own_loops(items: &[Item], out: &mut BTreeSet<String>) {
                for it in items {
                    if let ItemKind::Loop(l) = &it.kind {
                        out.insert(l.range.var.name.clone());
                        own_loops(&l.body, out);
                    }
                }
            }
            let mut own = BTreeSet::new();
            own_loops(block, &mut own);
            used.retain(|v| !own.contains(v));
        }
        let mut used = used.into_iter();
        let Some(var) = used.next() else {
            out.push(item);
            return;
        };
        // The other unrolled variables of the claim are expanded in turn (below): a
        // member named with one of them (`g_k` while `l` is expanded) is not one that
        // must exist yet (session 34: `claim Var(h_l) + Var(g_k) == 13` read `g_k` as a
        // member that is never defined at every l, and the claim vanished from the report).
        let others: Vec<String> = used.collect();
        let (a, b) = self.unrolled[&var];
        let (lo, hi) = self.spans.get(&var).copied().unwrap_or((a, b));
        let text = c.text.clone();
        let (defined, families) = members;
        let mut per_value = Vec::new();
        let mut names_members = false;
        self.sites.push((item.span, "this claim per member"));
        for v in lo.saturating_sub(2)..=hi.saturating_add(2) {
            if !self.charge(&item) {
                break;
            }
            let mut m = item.clone();
            self.consts.insert(var.clone(), v);
            self.subst_item(&mut m);
            self.consts.remove(&var);
            let mut refs = Vec::new();
            names::item_parts(&m, &mut refs, &mut Vec::new());
            let mut exists = true;
            for r in refs {
                if r.name.sub.is_empty() || !families.contains(&crate::check::family_key(&r.name)) {
                    continue;
                }
                let names_another = r.name.sub.iter().any(|ix| {
                    crate::syntax::printer::print_index(ix)
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| others.iter().any(|o| o == w))
                });
                if names_another {
                    continue;
                }
                names_members = true;
                exists &= defined.contains(&crate::syntax::printer::print_name(&r.name));
            }
            per_value.push((v, exists, m));
        }
        self.sites.pop();
        if self.over {
            return;
        }
        // The members a given on the variable excludes (`given l >= 1` at l = 0: the
        // given is `0 >= 1` there) are not the claim's: the givens select the members,
        // and only those are claims (session 33: each excluded member was a claim of its
        // own, `undecided` "about no point"). When the givens exclude every member, the
        // claim is vacuous: it is kept once, at its first member, and says so.
        let mut vacuous: Option<(i64, Item)> = None;
        let mut any_kept = false;
        for (v, exists, mut m) in per_value {
            let keep = if names_members {
                exists
            } else {
                (a..=b).contains(&v)
            };
            if !keep {
                continue;
            }
            let excluded = matches!(&m.kind, ItemKind::Claim(c) if c.given.iter().any(exact::constant_given_fails));
            if excluded {
                vacuous.get_or_insert((v, m));
                continue;
            }
            any_kept = true;
            if let ItemKind::Claim(c) = &mut m.kind {
                c.text = format!("{text} ({var} = {v})");
            }
            // Another unrolled variable in the same claim: expanded in turn.
            self.claim_members(m, members, out);
        }
        if let (false, Some((v, mut m))) = (any_kept, vacuous) {
            if let ItemKind::Claim(c) = &mut m.kind {
                c.text = format!(
                    "{text} (vacuous: no value of {var} satisfies the givens; shown at {var} = {v})"
                );
            }
            out.push(m);
        }
    }

    /// Every remaining member reference names a member (E0411).
    fn check_members(&mut self, items: &[Item]) {
        let fams = self.families.clone();
        let mut bad: Vec<(Span, String, String)> = Vec::new();
        for item in items {
            visit_item_members(item, &mut |base: &str, sub: &str, span: Span| {
                let Some((a, b, _)) = fams.get(&base.to_uppercase()) else {
                    return;
                };
                let up = base.to_uppercase();
                match sub.parse::<i64>() {
                    Ok(k) if (*a..=*b).contains(&k) => {}
                    Ok(k) => bad.push((
                        span,
                        format!("`{base}_{k}` is not a member: `{up}` has members {up}_{a} to {up}_{b}"),
                        format!("use a member from {a} to {b}, or widen the range of `size {up}_l`"),
                    )),
                    Err(_) => bad.push((
                        span,
                        format!("`{base}_{{{sub}}}` does not name one member of `{up}`: its subscript is not fixed here"),
                        "use the member inside a loop over fixed values (`for l in 1..3:`), or a number (`N_0`)".to_string(),
                    )),
                }
            });
        }
        bad.sort_by_key(|b| b.0.start);
        bad.dedup();
        for (span, msg, hint) in bad {
            if let Some((base, _)) = msg.trim_start_matches('`').split_once('_') {
                self.suppress.insert(format!("{}_", base.to_uppercase()));
            }
            self.diags.push(
                Diagnostic::error("E0411", span, msg)
                    .with_label("here")
                    .with_hint(hint),
            );
        }
    }

    /// A file that samples gives every member a value (E0413).
    fn check_samples(&mut self, items: &[Item]) {
        let mut sampled = BTreeSet::new();
        let mut any = false;
        for item in items {
            if let ItemKind::Sample(bs) = &item.kind {
                any = true;
                sampled.extend(bs.iter().map(|b| b.name.name.clone()));
            }
        }
        if !any {
            return;
        }
        for (base, (a, b, span)) in &self.families {
            let missing: Vec<String> = (*a..=*b)
                .map(|k| exact::member_name(base, k))
                .filter(|n| !sampled.contains(n))
                .collect();
            if !missing.is_empty() {
                self.diags.push(
                    Diagnostic::error(
                        "E0413",
                        *span,
                        format!(
                            "the members {} of `{base}` have no sample value",
                            missing.join(", ")
                        ),
                    )
                    .with_label("per-member size")
                    .with_hint(format!(
                        "give every member a value on the `sample` line: `{}`",
                        (*a..=*b)
                            .map(|k| format!("{} = 4", exact::member_name(base, k)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }
}

/// Names written alone as a whole index (`K` in `x[b, K]`) in the declarations' shapes and
/// the equations' references, loops and `for` blocks included.
fn index_lists_sizes(items: &[Item], out: &mut BTreeSet<String>) {
    fn of_ref(r: &Ref, out: &mut BTreeSet<String>) {
        for ix in r.indices.iter().flatten() {
            if let IndexExpr::Affine(a) = ix {
                if let ([t], 0) = (a.terms.as_slice(), a.constant) {
                    if let ([f], 1) = (t.factors.as_slice(), t.coef) {
                        out.insert(f.name.clone());
                    }
                }
            }
        }
    }
    for item in items {
        match &item.kind {
            ItemKind::Decl(d) => of_ref(&d.target, out),
            ItemKind::Equation(eq) => {
                of_ref(&eq.lhs, out);
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| of_ref(r, out));
            }
            ItemKind::Loop(l) => index_lists_sizes(&l.body, out),
            ItemKind::ForIndices(f) => index_lists_sizes(&f.body, out),
            _ => {}
        }
    }
}

/// The family members the expanded program defines or declares (`h_0`, `h_1`, ... by
/// their printed names) and the families they belong to (by key): where a claim over an
/// unrolled variable names a member ([`Expander::claim_members`]).
fn defined_members(items: &[Item]) -> (BTreeSet<String>, BTreeSet<String>) {
    fn walk(items: &[Item], out: &mut (BTreeSet<String>, BTreeSet<String>)) {
        for it in items {
            let name = match &it.kind {
                ItemKind::Equation(eq) => Some(&eq.lhs.name),
                ItemKind::Decl(d) if d.kind != DeclKind::Grad => Some(&d.target.name),
                ItemKind::Loop(l) => {
                    walk(&l.body, out);
                    None
                }
                ItemKind::ForIndices(f) => {
                    walk(&f.body, out);
                    None
                }
                _ => None,
            };
            if let Some(n) = name.filter(|n| !n.sub.is_empty()) {
                out.0.insert(crate::syntax::printer::print_name(n));
                out.1.insert(crate::check::family_key(n));
            }
        }
    }
    let mut out = Default::default();
    walk(items, &mut out);
    out
}
