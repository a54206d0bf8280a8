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

/// The most members a per-member size or an unrolled loop may have.
pub const MAX_MEMBERS: i64 = 256;

/// The fixed sizes' values and the per-member sizes found while expanding.
#[derive(Default)]
struct Expander {
    /// Sizes fixed by a value (`size L = 3`) and the unrolled loop variables in scope.
    consts: BTreeMap<String, i64>,
    /// Per-member sizes: base (`N`) to the first and last member and the declaration.
    families: BTreeMap<String, (i64, i64, Span)>,
    /// The unrolled loops' variables and their ranges (the first loop of each name).
    unrolled: BTreeMap<String, (i64, i64)>,
    diags: Vec<Diagnostic>,
    /// Names whose uses are consequences of an error reported here (`N_` for every
    /// member of `N`, `h_` for the members a dropped loop defines), for the checker's
    /// `unparsed`.
    suppress: BTreeSet<String>,
    /// Sizes derived from sizes that vary (`size Y = floor((X - DX)/2) + 1`): the name,
    /// the value, and the givens that state it in claims.
    derived: Vec<(Ident, Expr, Vec<Expr>)>,
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
        return (diags, Vec::new());
    }
    let mut x = Expander::default();
    nested_sizes(&program.items, false, &mut x.diags);
    let items = std::mem::take(&mut program.items);
    // Fixed sizes first, in order: a value may use the sizes fixed before it.
    let mut rest = Vec::new();
    for item in items {
        match item.kind {
            ItemKind::SizeValue { name, value } => {
                x.suppress.insert(name.name.clone());
                let mut value = value;
                x.subst_expr(&mut value);
                match eval_const(&value) {
                    Some(Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                        x.suppress.remove(&name.name);
                        x.consts.insert(name.name.clone(), v);
                    }
                    Some(Exact::Int(v)) => x.diags.push(
                        Diagnostic::error(
                            "E0412",
                            value.span(),
                            format!("`{}` would be {v}: a size is a whole number from 1 to 1,000,000", name.name),
                        )
                        .with_label("this value")
                        .with_hint("give the size a value of at least 1"),
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
            x.subst_expr(&mut range.from);
            x.subst_expr(&mut range.to);
            let Some((a, b)) = x.fixed_range(range, "the per-member size") else {
                x.suppress
                    .extend(names.iter().map(|n| format!("{}_", n.name)));
                continue;
            };
            let mut ids = Vec::new();
            for n in names.iter() {
                x.families.insert(n.name.clone(), (a, b, n.span));
                ids.extend((a..=b).map(|k| Ident {
                    name: format!("{}_{k}", n.name),
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
    let mut expanded = Vec::new();
    for item in items {
        x.claim_members(item, &mut expanded);
    }
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
    /// The range's ends as whole numbers, or E0410.
    fn fixed_range(&mut self, r: &Range, what: &str) -> Option<(i64, i64)> {
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
        if b < a || b - a >= MAX_MEMBERS {
            self.diags.push(
                Diagnostic::error(
                    "E0410",
                    r.span,
                    format!(
                        "the range of {what} has {} members; per-member sizes allow 1 to {MAX_MEMBERS}",
                        (b - a + 1).max(0)
                    ),
                )
                .with_label("this range")
                .with_hint("the first value comes first: `for l in 1..3`"),
            );
            return None;
        }
        Some((a, b))
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
                        self.fixed_range(&r, "a loop that uses per-member sizes");
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
                let Some((a, b)) = self.fixed_range(&l.range, "the loop") else {
                    return;
                };
                let var = l.range.var.name.clone();
                self.unrolled.entry(var.clone()).or_insert((a, b));
                let values: Vec<i64> = if l.reverse {
                    (a..=b).rev().collect()
                } else {
                    (a..=b).collect()
                };
                let saved = self.consts.get(&var).copied();
                for v in values {
                    self.consts.insert(var.clone(), v);
                    for b in &l.body {
                        self.item(b.clone(), out);
                    }
                }
                match saved {
                    Some(s) => self.consts.insert(var, s),
                    None => self.consts.remove(&var),
                };
            }
            ItemKind::Decl(d) if d.family.is_some() => {
                let r = d.family.as_mut().expect("a family");
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
                        self.fixed_range(&r, "a family that uses per-member sizes");
                        self.suppress_defined(&item);
                        return;
                    }
                    self.subst_item(&mut item);
                    out.push(item);
                    return;
                }
                let r = r.clone();
                let Some((a, b)) = self.fixed_range(&r, "the family") else {
                    return;
                };
                let var = r.var.name.clone();
                self.unrolled.entry(var.clone()).or_insert((a, b));
                let saved = self.consts.get(&var).copied();
                for v in a..=b {
                    self.consts.insert(var.clone(), v);
                    let mut m = item.clone();
                    if let ItemKind::Decl(d) = &mut m.kind {
                        d.family = None;
                    }
                    self.subst_item(&mut m);
                    out.push(m);
                }
                match saved {
                    Some(s) => self.consts.insert(var, s),
                    None => self.consts.remove(&var),
                };
            }
            _ => {
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

    /// A claim that uses an unrolled loop's variable becomes one claim per member.
    fn claim_members(&mut self, item: Item, out: &mut Vec<Item>) {
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
        let Some(var) = used.into_iter().next() else {
            out.push(item);
            return;
        };
        let (a, b) = self.unrolled[&var];
        let text = c.text.clone();
        for v in a..=b {
            let mut m = item.clone();
            self.consts.insert(var.clone(), v);
            self.subst_item(&mut m);
            self.consts.remove(&var);
            if let ItemKind::Claim(c) = &mut m.kind {
                c.text = format!("{text} ({var} = {v})");
            }
            // Another unrolled variable in the same claim: expanded in turn.
            self.claim_members(m, out);
        }
    }

    /// Replaces the fixed sizes and loop variables in every part of an item.
    fn subst_item(&mut self, item: &mut Item) {
        match &mut item.kind {
            ItemKind::Decl(d) => {
                self.subst_ref(&mut d.target);
                match &mut d.init {
                    Some(Init::Dist(c)) => c.args.iter_mut().for_each(|a| self.subst_expr(a)),
                    Some(Init::Value(e)) => self.subst_expr(e),
                    None => {}
                }
                if let Some(r) = &mut d.family {
                    self.subst_expr(&mut r.from);
                    self.subst_expr(&mut r.to);
                }
            }
            ItemKind::Equation(eq) => {
                self.subst_ref(&mut eq.lhs);
                self.subst_expr(&mut eq.rhs);
            }
            ItemKind::Loop(l) => {
                self.subst_expr(&mut l.range.from);
                self.subst_expr(&mut l.range.to);
                l.body.iter_mut().for_each(|b| self.subst_item(b));
            }
            ItemKind::ForIndices(f) => f.body.iter_mut().for_each(|b| self.subst_item(b)),
            ItemKind::Rule(r) => r.body.iter_mut().for_each(|b| self.subst_item(b)),
            ItemKind::At(bs) => bs.iter_mut().for_each(|b| self.subst_expr(&mut b.value)),
            ItemKind::Sample(bs) => {
                let consts = &self.consts;
                let mut fixed = Vec::new();
                bs.retain(|b| {
                    if let Some(v) = consts.get(&b.name.name) {
                        fixed.push((b.name.clone(), *v));
                        false
                    } else {
                        true
                    }
                });
                for (n, v) in fixed {
                    self.diags.push(
                        Diagnostic::error(
                            "E0412",
                            n.span,
                            format!(
                                "`{}` is fixed at {v} by its `size` line and takes no sample value",
                                n.name
                            ),
                        )
                        .with_label("fixed size")
                        .with_hint(format!("remove `{}` from the `sample` line", n.name)),
                    );
                }
                bs.iter_mut().for_each(|b| self.subst_expr(&mut b.value));
            }
            ItemKind::Vary(ps) => {
                for p in ps.iter() {
                    if let Some(v) = self.consts.get(&p.name.name) {
                        self.diags.push(
                            Diagnostic::error(
                                "E0412",
                                p.name.span,
                                format!(
                                    "`{}` is fixed at {v} by its `size` line and cannot be varied",
                                    p.name.name
                                ),
                            )
                            .with_hint("declare it `size NAME` to vary it"),
                        );
                    }
                }
            }
            ItemKind::Claim(c) => {
                self.subst_expr(&mut c.body);
                if let Some(t) = &mut c.tol {
                    self.subst_expr(t);
                }
                c.given.iter_mut().for_each(|g| self.subst_expr(g));
                c.at.iter_mut().for_each(|b| self.subst_expr(&mut b.value));
                if let Some(body) = &mut c.includes {
                    body.iter_mut().for_each(|b| self.subst_item(b));
                }
            }
            ItemKind::Derivation(d) => {
                d.given.iter_mut().for_each(|g| self.subst_expr(g));
                self.subst_expr(&mut d.start);
                d.steps
                    .iter_mut()
                    .for_each(|s| self.subst_expr(&mut s.expr));
            }
            _ => {}
        }
    }

    fn subst_expr(&mut self, e: &mut Expr) {
        if let Expr::Ref(r) = e {
            if r.indices.is_none()
                && !r.grad
                && r.name.sub.is_empty()
                && r.name.sup.is_empty()
                && r.name.primes == 0
            {
                if let Some(v) = self.consts.get(&r.name.base) {
                    *e = Expr::Num(v.to_string(), r.span);
                    return;
                }
            }
            self.subst_ref(r);
            return;
        }
        match e {
            Expr::Deriv(a, b, _) => {
                self.subst_ref(a);
                self.subst_ref(b);
            }
            Expr::Sum(ids, _, _) => ids.iter_mut().for_each(|i| self.subst_factor(i)),
            Expr::Softmax(id, _, _) => self.subst_factor(id),
            _ => {}
        }
        for c in children_mut(e) {
            self.subst_expr(c);
        }
    }

    fn subst_ref(&mut self, r: &mut Ref) {
        for s in r.name.sub.iter_mut() {
            self.subst_index(s);
        }
        if let Some(ix) = &mut r.indices {
            for s in ix.iter_mut() {
                self.subst_index(s);
            }
        }
    }

    fn subst_index(&mut self, ix: &mut IndexExpr) {
        match ix {
            IndexExpr::Lookup(r) => self.subst_ref(r),
            IndexExpr::Affine(a) => {
                let mut terms = Vec::new();
                for mut t in std::mem::take(&mut a.terms) {
                    let mut factors = Vec::new();
                    for mut f in t.factors {
                        if let Some(v) = self.consts.get(&f.name) {
                            t.coef = t.coef.saturating_mul(*v);
                        } else {
                            self.subst_factor(&mut f);
                            factors.push(f);
                        }
                    }
                    if factors.is_empty() {
                        a.constant = a.constant.saturating_add(t.coef);
                    } else if t.coef != 0 {
                        t.factors = factors;
                        terms.push(t);
                    }
                }
                a.terms = terms;
            }
        }
    }

    /// `N_{l-1}` or `n_l'` in an index position, with the variables in scope: `N_1`.
    fn subst_factor(&mut self, f: &mut Ident) {
        let Some((base, sub, primes)) = split_member(&f.name) else {
            return;
        };
        if !self.families.contains_key(&base.to_uppercase()) {
            return;
        }
        if let Some(v) = eval_subscript(sub, &self.consts) {
            f.name = format!("{base}_{v}{primes}");
        }
    }

    /// Derived sizes: their givens added to every claim, their sample values computed
    /// from the sample line (E0412 when they cannot be, or when one is given).
    fn derived_sizes(&mut self, items: &mut [Item]) {
        if self.derived.is_empty() {
            return;
        }
        // Index capitals in values (`DX` with `index dx : D`) take their size's value.
        let mut capitals = BTreeMap::new();
        for item in items.iter() {
            if let ItemKind::Index { names, size, .. } = &item.kind {
                for n in names {
                    capitals.insert(n.name.to_uppercase(), size.name.clone());
                }
            }
        }
        for item in items.iter_mut() {
            if let ItemKind::Claim(c) = &mut item.kind {
                // Givens that fix sizes to whole numbers (`given X = 9, D = 3`): a
                // derived size they determine is given its exact value.
                let mut vals = BTreeMap::new();
                for g in &c.given {
                    if let Expr::Rel(RelOp::Eq, l, r, _) = g {
                        if let (Expr::Ref(rf), Some(Exact::Int(v))) = (&**l, eval_const(r)) {
                            if rf.indices.is_none() && rf.name.sub.is_empty() {
                                vals.insert(rf.name.base.clone(), v);
                            }
                        }
                    }
                }
                for (cap, size) in &capitals {
                    if let Some(v) = vals.get(size).copied() {
                        vals.entry(cap.clone()).or_insert(v);
                    }
                }
                for (name, value, givens) in &self.derived {
                    match eval_with(value, &vals) {
                        Some(Exact::Int(v)) if !vals.contains_key(&name.name) => {
                            vals.insert(name.name.clone(), v);
                            let y = Expr::Ref(Ref::plain(&name.name, name.span));
                            c.given.push(Expr::Rel(
                                RelOp::Eq,
                                Box::new(y),
                                Box::new(Expr::Num(v.to_string(), value.span())),
                                value.span(),
                            ));
                        }
                        _ => c.given.extend(givens.iter().cloned()),
                    }
                }
            }
        }
        let Some(first) = items
            .iter()
            .position(|i| matches!(i.kind, ItemKind::Sample(_)))
        else {
            return;
        };
        let mut vals = BTreeMap::new();
        for item in items.iter() {
            if let ItemKind::Sample(bs) = &item.kind {
                for b in bs {
                    if let Some(Exact::Int(v)) = eval_const(&b.value) {
                        vals.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
        for (cap, size) in &capitals {
            if let Some(v) = vals.get(size).copied() {
                vals.entry(cap.clone()).or_insert(v);
            }
        }
        let mut added = Vec::new();
        for (name, value, _) in self.derived.clone() {
            if let Some(b) = items.iter().find_map(|i| match &i.kind {
                ItemKind::Sample(bs) => bs.iter().find(|b| b.name.name == name.name),
                _ => None,
            }) {
                self.diags.push(
                    Diagnostic::error(
                        "E0412",
                        b.name.span,
                        format!(
                            "`{}` is derived by its `size` line and takes no sample value",
                            name.name
                        ),
                    )
                    .with_label("derived size")
                    .with_hint(format!(
                        "remove `{}` from the `sample` line: its value is computed from the others",
                        name.name
                    )),
                );
                continue;
            }
            match eval_with(&value, &vals) {
                Some(Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                    vals.insert(name.name.clone(), v);
                    added.push(Binding {
                        name: name.clone(),
                        value: Expr::Num(v.to_string(), name.span),
                    });
                }
                got => self.diags.push(
                    Diagnostic::error(
                        "E0412",
                        value.span(),
                        match got {
                            Some(Exact::Int(v)) => format!("`{}` would be {v} at the sample values: a size is a whole number from 1 to 1,000,000", name.name),
                            Some(Exact::Frac(n, d)) => format!("`{}` would be {n}/{d} at the sample values, not a whole number", name.name),
                            None => {
                                let mut missing: Vec<String> = Vec::new();
                                crate::syntax::visit::walk_refs(&value, &mut |r| {
                                    let n = &r.name.base;
                                    if r.name.sub.is_empty()
                                        && !vals.contains_key(n)
                                        && !missing.contains(n)
                                    {
                                        missing.push(n.clone());
                                    }
                                });
                                if missing.is_empty() {
                                    format!("`{}` cannot be computed at the sample values: it divides by zero or is too large to compute exactly", name.name)
                                } else {
                                    format!("`{}` cannot be computed at the sample values: {} has no sample value", name.name, missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
                                }
                            }
                        },
                    )
                    .with_label("this value")
                    .with_hint("give the sizes it uses values on the `sample` line that make it a whole number of at least 1"),
                ),
            }
        }
        if let ItemKind::Sample(bs) = &mut items[first].kind {
            bs.extend(added);
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
                .map(|k| format!("{base}_{k}"))
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
                            .map(|k| format!("{base}_{k} = 4"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }
}

/// The givens that state `name = value` in a claim, for a value the symbolic engine
/// reads: `floor(e) + c` (`Y - c <= e` and `e < Y - c + 1`), `ceil(e) + c` (`e <= Y - c`
/// and `Y - c - 1 < e`), or an expression without `floor` and `ceil` (`Y == value`).
/// `None` for `floor`/`ceil` anywhere else.
fn derived_givens(name: &Ident, value: &Expr) -> Option<Vec<Expr>> {
    let sp = value.span();
    let y = Expr::Ref(Ref::plain(&name.name, name.span));
    let num = |n: i64| Expr::Num(n.to_string(), sp);
    let bin = |op, a: Expr, b: Expr| Expr::Binary(op, Box::new(a), Box::new(b), sp);
    let rel = |op, a: Expr, b: Expr| Expr::Rel(op, Box::new(a), Box::new(b), sp);
    // value = round(e) + c
    let split = |v: &Expr| -> Option<(bool, Expr, Expr)> {
        let round = |x: &Expr| match x {
            Expr::Call(c)
                if c.args.len() == 1 && matches!(c.func.name.as_str(), "floor" | "ceil") =>
            {
                Some((c.func.name == "floor", c.args[0].clone()))
            }
            _ => None,
        };
        if let Some((f, e)) = round(v) {
            return Some((f, e, num(0)));
        }
        match v {
            Expr::Binary(BinOp::Add, a, b, _) => {
                if let Some((f, e)) = round(a) {
                    return Some((f, e, (**b).clone()));
                }
                round(b).map(|(f, e)| (f, e, (**a).clone()))
            }
            Expr::Binary(BinOp::Sub, a, b, _) => {
                round(a).map(|(f, e)| (f, e, Expr::Unary(UnOp::Neg, b.clone(), sp)))
            }
            _ => None,
        }
    };
    let has_round = |e: &Expr| {
        let mut found = false;
        crate::syntax::visit::walk_expr(e, |x| {
            if let Expr::Call(c) = x {
                if matches!(c.func.name.as_str(), "floor" | "ceil") {
                    found = true;
                }
            }
            true
        });
        found
    };
    if !has_round(value) {
        return Some(vec![rel(RelOp::Eq, y, value.clone())]);
    }
    let (floor, e, c) = split(value)?;
    if has_round(&e) || has_round(&c) {
        return None;
    }
    // `Y - c` and `Y - c ± 1`, folded when c is a whole number (`(X - D)/2 < Y`, not
    // `(X - D)/2 < Y - 1 + 1`).
    let plus = |k: i64| match k {
        0 => y.clone(),
        k if k > 0 => bin(BinOp::Add, y.clone(), num(k)),
        k => bin(BinOp::Sub, y.clone(), num(k.saturating_neg())),
    };
    let (shifted, next) = match eval_const(&c) {
        Some(Exact::Int(k))
            if k.checked_neg()
                .is_some_and(|m| m.checked_add(1).is_some() && m.checked_sub(1).is_some()) =>
        {
            (plus(-k), plus(if floor { 1 - k } else { -k - 1 }))
        }
        _ => {
            let shifted = bin(BinOp::Sub, y.clone(), c);
            let next = if floor {
                bin(BinOp::Add, shifted.clone(), num(1))
            } else {
                bin(BinOp::Sub, shifted.clone(), num(1))
            };
            (shifted, next)
        }
    };
    Some(if floor {
        vec![rel(RelOp::Le, shifted, e.clone()), rel(RelOp::Lt, e, next)]
    } else {
        vec![rel(RelOp::Le, e.clone(), shifted), rel(RelOp::Lt, next, e)]
    })
}

/// An expression with the names of `vals` replaced by their values, evaluated.
pub(crate) fn eval_with(e: &Expr, vals: &BTreeMap<String, i64>) -> Option<Exact> {
    let mut x = Expander {
        consts: vals.clone(),
        ..Expander::default()
    };
    let mut e = e.clone();
    x.subst_expr(&mut e);
    eval_const(&e)
}

/// `N_{l-1}'` as (`N`, `l-1`, `'`); `n_0` as (`n`, `0`, ``).
fn split_member(name: &str) -> Option<(&str, &str, &str)> {
    let (base, rest) = name.split_once('_')?;
    if base.is_empty() || !base.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let body = rest.trim_end_matches('\'');
    let primes = &rest[body.len()..];
    let sub = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .unwrap_or(body);
    if sub.is_empty() {
        return None;
    }
    Some((base, sub, primes))
}

/// An affine subscript (`l-1`, `2l+1`, `L`) with the values in scope; `None` when a
/// name has no value or the text is not affine.
fn eval_subscript(sub: &str, vals: &BTreeMap<String, i64>) -> Option<i64> {
    let s: String = sub.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() || s.contains(',') {
        return None;
    }
    let mut total: i64 = 0;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while chars.peek().is_some() {
        let mut sign = 1;
        match chars.peek() {
            Some('+') => {
                chars.next();
            }
            Some('-') => {
                sign = -1;
                chars.next();
            }
            _ if !first => return None,
            _ => {}
        }
        first = false;
        let mut term: i64 = 1;
        loop {
            let mut tok = String::new();
            while let Some(c) = chars.peek().copied() {
                if c.is_ascii_digit() && (tok.is_empty() || tok.chars().all(|d| d.is_ascii_digit()))
                {
                    tok.push(c);
                    chars.next();
                } else if c.is_ascii_alphabetic() || (c.is_ascii_digit() && !tok.is_empty()) {
                    if !tok.is_empty() && tok.chars().all(|d| d.is_ascii_digit()) {
                        break; // `2l`: the coefficient ends before the name
                    }
                    tok.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if tok.is_empty() {
                return None;
            }
            let v = match tok.parse::<i64>() {
                Ok(n) => n,
                Err(_) => *vals.get(&tok)?,
            };
            term = term.checked_mul(v)?;
            match chars.peek() {
                Some('*') => {
                    chars.next();
                }
                Some(c) if c.is_ascii_alphanumeric() => {}
                _ => break,
            }
        }
        total = total.checked_add(sign * term)?;
    }
    Some(total)
}

/// An exact rational value of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Exact {
    Int(i64),
    Frac(i64, i64),
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

fn norm(n: i64, d: i64) -> Option<Exact> {
    if d == 0 {
        return None;
    }
    let g = gcd(n, d).max(1);
    let (mut n, mut d) = (n / g, d / g);
    if d < 0 {
        n = n.checked_neg()?;
        d = d.checked_neg()?;
    }
    Some(if d == 1 {
        Exact::Int(n)
    } else {
        Exact::Frac(n, d)
    })
}

fn parts(x: Exact) -> (i64, i64) {
    match x {
        Exact::Int(n) => (n, 1),
        Exact::Frac(n, d) => (n, d),
    }
}

/// Whether an expression names anything (after the fixed sizes were
/// written in as numbers): a value without names that cannot be computed
/// divides by zero or overflows.
fn uses_a_name(e: &Expr) -> bool {
    let mut any = false;
    crate::syntax::visit::walk_refs(e, &mut |_| any = true);
    any
}

/// The value of an expression of numbers, `+ - * /`, whole powers, `floor` and `ceil`
/// (with the fixed sizes already replaced by numbers), in checked exact arithmetic.
pub(crate) fn eval_const(e: &Expr) -> Option<Exact> {
    match e {
        Expr::Num(s, _) => s.parse::<i64>().ok().map(Exact::Int),
        Expr::Unary(UnOp::Neg, x, _) => {
            let (n, d) = parts(eval_const(x)?);
            norm(n.checked_neg()?, d)
        }
        Expr::Binary(op, l, r, _) => {
            let (a, b) = (parts(eval_const(l)?), parts(eval_const(r)?));
            match op {
                BinOp::Add => norm(
                    a.0.checked_mul(b.1)?.checked_add(b.0.checked_mul(a.1)?)?,
                    a.1.checked_mul(b.1)?,
                ),
                BinOp::Sub => norm(
                    a.0.checked_mul(b.1)?.checked_sub(b.0.checked_mul(a.1)?)?,
                    a.1.checked_mul(b.1)?,
                ),
                BinOp::Mul | BinOp::Jux => norm(a.0.checked_mul(b.0)?, a.1.checked_mul(b.1)?),
                BinOp::Div => norm(a.0.checked_mul(b.1)?, a.1.checked_mul(b.0)?),
                BinOp::Pow => {
                    if b.1 != 1 || !(0..=62).contains(&b.0) {
                        return None;
                    }
                    let k = b.0 as u32;
                    norm(a.0.checked_pow(k)?, a.1.checked_pow(k)?)
                }
            }
        }
        Expr::Call(c) if c.args.len() == 1 && matches!(c.func.name.as_str(), "floor" | "ceil") => {
            let (n, d) = parts(eval_const(&c.args[0])?);
            let q = n.div_euclid(d);
            let v = if c.func.name == "floor" || n.rem_euclid(d) == 0 {
                q
            } else {
                q.checked_add(1)?
            };
            Some(Exact::Int(v))
        }
        _ => None,
    }
}

/// Calls `f` with the base of every subscripted name and member factor of an item
/// (`N` for `N_{l-1}`, `n` for `n_l`, `W` for `W_l`).
fn visit_item_names(item: &Item, f: &mut dyn FnMut(&str)) {
    visit_item_members(item, &mut |base, _, _| f(base));
}

/// Calls `f` with (base, subscript text, span) of every member-like name of an item:
/// factors of index positions (`N_{l-1}`, `n_0`) and names with one subscript in
/// formulas (`N_{l-1}` in `2/N_{l-1}`).
fn visit_item_members(item: &Item, f: &mut dyn FnMut(&str, &str, Span)) {
    let on_factor = |id: &Ident, f: &mut dyn FnMut(&str, &str, Span)| {
        if let Some((base, sub, _)) = split_member(&id.name) {
            f(base, sub, id.span);
        }
    };
    let mut refs: Vec<&Ref> = Vec::new();
    let mut factors: Vec<&Ident> = Vec::new();
    item_parts(item, &mut refs, &mut factors);
    for id in factors {
        on_factor(id, f);
    }
    for r in refs {
        if r.name.sub.len() == 1 && r.name.sup.is_empty() && r.indices.is_none() && !r.grad {
            let sub = crate::syntax::printer::print_index(&r.name.sub[0]);
            f(&r.name.base, &sub, r.name.span);
        }
    }
}

/// Calls `f` with every name an item's subscripts and index positions use (`l` in
/// `h_{l-1}`, `x[b,l]`) and every bare name of its formulas.
fn visit_item_vars(item: &Item, f: &mut dyn FnMut(&str)) {
    let mut refs: Vec<&Ref> = Vec::new();
    let mut factors: Vec<&Ident> = Vec::new();
    item_parts(item, &mut refs, &mut factors);
    for id in factors {
        f(&id.name);
        if let Some((_, sub, _)) = split_member(&id.name) {
            for w in sub.split(|c: char| !c.is_ascii_alphanumeric()) {
                f(w);
            }
        }
    }
    for r in refs {
        if r.name.sub.is_empty() && r.indices.is_none() {
            f(&r.name.base);
        }
    }
}

/// The references and index-position factors of an item, its blocks included.
fn item_parts<'a>(item: &'a Item, refs: &mut Vec<&'a Ref>, factors: &mut Vec<&'a Ident>) {
    let mut exprs: Vec<&'a Expr> = Vec::new();
    let mut top_refs: Vec<&'a Ref> = Vec::new();
    match &item.kind {
        ItemKind::Decl(d) => {
            top_refs.push(&d.target);
            match &d.init {
                Some(Init::Dist(c)) => exprs.extend(c.args.iter()),
                Some(Init::Value(e)) => exprs.push(e),
                None => {}
            }
        }
        ItemKind::Equation(eq) => {
            top_refs.push(&eq.lhs);
            exprs.push(&eq.rhs);
        }
        ItemKind::Loop(l) => {
            exprs.push(&l.range.from);
            exprs.push(&l.range.to);
            for b in &l.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::ForIndices(fi) => {
            for b in &fi.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::Rule(r) => {
            for b in &r.body {
                item_parts(b, refs, factors);
            }
        }
        ItemKind::Claim(c) => {
            exprs.push(&c.body);
            exprs.extend(c.tol.iter());
            exprs.extend(c.given.iter());
            exprs.extend(c.at.iter().map(|b| &b.value));
            if let Some(body) = &c.includes {
                for b in body {
                    item_parts(b, refs, factors);
                }
            }
        }
        ItemKind::At(bs) | ItemKind::Sample(bs) => exprs.extend(bs.iter().map(|b| &b.value)),
        _ => {}
    }
    for e in exprs {
        crate::syntax::visit::walk_expr(e, |x| {
            match x {
                Expr::Ref(r) => top_refs.push(r),
                Expr::Deriv(a, b, _) => {
                    top_refs.push(a);
                    top_refs.push(b);
                }
                Expr::Sum(ids, _, _) => factors.extend(ids.iter()),
                Expr::Softmax(id, _, _) => factors.push(id),
                _ => {}
            }
            true
        });
    }
    while let Some(r) = top_refs.pop() {
        refs.push(r);
        for ix in r.name.sub.iter().chain(r.indices.iter().flatten()) {
            match ix {
                IndexExpr::Lookup(l) => top_refs.push(l),
                IndexExpr::Affine(a) => {
                    factors.extend(a.terms.iter().flat_map(|t| t.factors.iter()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_split_into_base_subscript_and_primes() {
        assert_eq!(split_member("N_{l-1}"), Some(("N", "l-1", "")));
        assert_eq!(split_member("n_l'"), Some(("n", "l", "'")));
        assert_eq!(split_member("N_0"), Some(("N", "0", "")));
        assert_eq!(split_member("N"), None);
        assert_eq!(split_member("_x"), None);
    }

    #[test]
    fn subscripts_evaluate_with_the_values_in_scope() {
        let vals: BTreeMap<String, i64> = [("l".to_string(), 2), ("L".to_string(), 3)].into();
        assert_eq!(eval_subscript("l-1", &vals), Some(1));
        assert_eq!(eval_subscript("2l+1", &vals), Some(5));
        assert_eq!(eval_subscript("2*l - L", &vals), Some(1));
        assert_eq!(eval_subscript("L", &vals), Some(3));
        assert_eq!(eval_subscript("k", &vals), None);
        assert_eq!(eval_subscript("l,1", &vals), None);
        assert_eq!(eval_subscript("l+", &vals), None);
    }

    #[test]
    fn constant_values_are_exact_and_round_only_by_floor_and_ceil() {
        let v = |src: &str| {
            let p = crate::syntax::parser::parse(&format!("size X = {src}\n")).program;
            match &p.items[0].kind {
                ItemKind::SizeValue { value, .. } => eval_const(value),
                k => panic!("{k:?}"),
            }
        };
        assert_eq!(v("floor((32 - 3)/2) + 1"), Some(Exact::Int(15)));
        assert_eq!(v("ceil(29/2)"), Some(Exact::Int(15)));
        assert_eq!(v("ceil(28/2)"), Some(Exact::Int(14)));
        assert_eq!(v("floor(-1/2)"), Some(Exact::Int(-1)));
        assert_eq!(v("7/2"), Some(Exact::Frac(7, 2)));
        assert_eq!(v("2^10"), Some(Exact::Int(1024)));
        assert_eq!(v("1/0"), None);
        assert_eq!(v("J + 1"), None);
    }
}
