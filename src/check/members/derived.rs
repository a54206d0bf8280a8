//! Derived sizes (`size Y = floor((X - D)/2) + 1`): their givens added to every claim and
//! their sample values computed from the sample line.

use super::derived_alone::{own_setting, states_equal};
use super::*;

impl Expander {
    /// Derived sizes: their givens added to every claim, their sample values computed
    /// from the sample line (E0412 when they cannot be, or when one is given).
    pub(super) fn derived_sizes(&mut self, items: &mut [Item]) {
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
            // A derivation's steps are claims under its givens (docs/derivations.md): they
            // take the derived sizes' givens as a claim does (probe35/p a13: `= B Y D` at
            // X = 9, D = 3 was refuted "at Y = 1", `2 Y >= X - D + 1` at a point where Y is
            // not its value, and `D^2 = 9` with `size D = 3` at D = 1).
            match &mut item.kind {
                ItemKind::Claim(c) => self.derived_givens_of(&mut c.given, &mut c.at, &capitals),
                ItemKind::Derivation(d) => {
                    self.derived_givens_of(&mut d.given, &mut Vec::new(), &capitals)
                }
                _ => {}
            }
        }
        self.varied_derived(items);
        self.derived_samples(items, &capitals);
        self.varied_values_derived(items, &capitals);
    }

    /// The derived sizes' givens added to one claim's (or derivation's) givens: the exact
    /// value where the givens and `at` fix the sizes it reads, else its relation; E0512
    /// where they fix them to values at which it is no size.
    fn derived_givens_of(
        &mut self,
        given: &mut Vec<Expr>,
        at: &mut Vec<Binding>,
        capitals: &BTreeMap<String, String>,
    ) {
        {
            {
                // Givens that fix sizes to whole numbers (`given X = 9, D = 3`): a
                // derived size they determine is given its exact value.
                let mut vals = BTreeMap::new();
                // Where each size was set (a given, or the claim's own `at`).
                let mut set_at: BTreeMap<String, Span> = BTreeMap::new();
                for g in given.iter() {
                    if let Expr::Rel(RelOp::Eq, l, r, sp) = g {
                        if let (Expr::Ref(rf), Some(Exact::Int(v))) = (&**l, eval_const(r)) {
                            if rf.indices.is_none() && rf.name.sub.is_empty() {
                                vals.insert(rf.name.base.clone(), v);
                                set_at.insert(rf.name.base.clone(), *sp);
                            }
                        }
                    }
                }
                for b in at.iter() {
                    // (Only the sizes a derived size reads matter below.)
                    if let Some(Exact::Int(v)) = eval_const(&b.value) {
                        vals.entry(b.name.name.clone()).or_insert(v);
                        set_at.entry(b.name.name.clone()).or_insert(b.value.span());
                    }
                }
                for (cap, size) in capitals {
                    if let Some(v) = vals.get(size).copied() {
                        vals.entry(cap.clone()).or_insert(v);
                    }
                }
                for (name, value, givens) in &self.derived {
                    let got = eval_with(value, &vals);
                    // The claim's givens (or `at`) fix the sizes this one reads to values
                    // where it is no size (probe34 p28, p29: `given X = 6` made `Y = (X -
                    // DX)/2 + 1` 5/2, and the claim was refuted with a witness at X = 1 that
                    // breaks the given; `given X = 2` made a floor size 0, reported at the
                    // `size` line with a hint to set `Y`).
                    let bad = match &got {
                        Some(Exact::Int(v)) => !(1..=1_000_000).contains(v),
                        Some(Exact::Frac(..)) => true,
                        None => false,
                    };
                    // A symbolic given of a size it reads (`given X = D + 3` with `size H
                    // = (X - DX)/2 + 1`) that makes it a number at which it is no size
                    // (5/2 for every D): E0512 at that given, as a numeric one is (snd36,
                    // probe35/p a08: `H == 5/2` was proved, vacuously).
                    if got.is_none() && !vals.contains_key(&name.name) {
                        if let Some((shown, sp)) =
                            exact::symbolic_no_size(value, given, &vals, capitals)
                        {
                            self.diags.push(
                                Diagnostic::error(
                                    "E0512",
                                    sp,
                                    format!(
                                        "under this claim's givens the size `{}` = {} is {shown} whatever the other sizes are, not a whole number from 1 to 1,000,000",
                                        name.name,
                                        crate::syntax::printer::print_expr(value)
                                    ),
                                )
                                .with_label("no size satisfies this")
                                .with_hint(format!(
                                    "a claim here would hold vacuously: write a given at which `{}` is a whole number of at least 1, or drop the given",
                                    name.name
                                )),
                            );
                            continue;
                        }
                    }
                    if bad && !vals.contains_key(&name.name) {
                        let shown = match got {
                            Some(Exact::Int(v)) => v.to_string(),
                            Some(Exact::Frac(n, d)) => format!("{n}/{d}"),
                            None => unreachable!(),
                        };
                        let mut reads: Vec<String> = Vec::new();
                        crate::syntax::visit::walk_refs(value, &mut |r| {
                            let n = crate::syntax::printer::print_name(&r.name);
                            let n = capitals.get(&n).cloned().unwrap_or(n);
                            if !reads.contains(&n) {
                                reads.push(n);
                            }
                        });
                        let at = reads
                            .iter()
                            .find_map(|n| set_at.get(n))
                            .copied()
                            .unwrap_or(name.span);
                        let setting: Vec<String> = reads
                            .iter()
                            .filter_map(|n| Some(format!("{n} = {}", vals.get(n)?)))
                            .collect();
                        self.diags.push(
                            Diagnostic::error(
                                "E0512",
                                at,
                                format!(
                                    "under this claim's values ({}) the size `{}` = {} is {shown}, not a whole number from 1 to 1,000,000",
                                    setting.join(", "),
                                    name.name,
                                    crate::syntax::printer::print_expr(value)
                                ),
                            )
                            .with_label("no size satisfies this")
                            .with_hint(format!(
                                "a claim here would hold vacuously: choose values at which `{}` is a whole number of at least 1, or drop the given",
                                name.name
                            )),
                        );
                        continue;
                    }
                    // The claim sets the size itself while the sizes it is computed from
                    // stay free (`given Y = 1` with `size Y = X - DX + 1`): the relation
                    // added as a given set it a second time (E0512 "`Y` is set twice" at
                    // the `size` line, hinting at an `at` the claim did not have; probe35/p
                    // a17). E0512 at the claim's setting, naming what to give instead.
                    if got.is_none() && states_equal(givens, &name.name) {
                        if let Some((sp, w)) = own_setting(given, at, &name.name) {
                            let d = self.derived_set_alone(name, value, w, sp, &vals, capitals);
                            self.diags.push(d);
                            given.retain(
                                |g| !matches!(g, Expr::Rel(RelOp::Eq, _, _, s) if *s == sp),
                            );
                            at.retain(|b| b.value.span() != sp);
                            continue;
                        }
                    }
                    // The claim gives the size itself a value its relation does not give
                    // at the claim's values (probe34 p07: `given Y = 5, X = 9` with `size
                    // Y = floor((X - DX)/2) + 1`, 4 there): E0512 at the given, which is
                    // dropped so that no read is judged at Y = 5 (it was E0303 at the
                    // statement, with a hint to declare the `size Y` line already there).
                    if let (Some(Exact::Int(v)), Some(&w), Some(&sp)) =
                        (&got, vals.get(&name.name), set_at.get(&name.name))
                    {
                        if *v != w {
                            let d =
                                self.contradicting_given(name, value, *v, w, sp, &vals, capitals);
                            self.diags.push(d);
                            given.retain(
                                |g| !matches!(g, Expr::Rel(RelOp::Eq, _, _, s) if *s == sp),
                            );
                            at.retain(|b| b.value.span() != sp);
                            continue;
                        }
                    }
                    // A given (or own `at`) of the size that agrees with its relation at
                    // the claim's values (`given X = 7, Y = 6` with `size Y = X - DX + 1`,
                    // `given D = 2` with `size D = 2`): the relation adds nothing, and added
                    // it set the size a second time (E0512 "`Y` is set twice", pointing at
                    // the `size` line).
                    if let (Some(Exact::Int(v)), Some(&w)) = (&got, vals.get(&name.name)) {
                        if *v == w {
                            continue;
                        }
                    }
                    match got {
                        Some(Exact::Int(v)) if !vals.contains_key(&name.name) => {
                            vals.insert(name.name.clone(), v);
                            // Its index capitals too (`DX` of `size D = 3`), read by the
                            // derived sizes after it.
                            for (cap, size) in capitals {
                                if *size == name.name {
                                    vals.entry(cap.clone()).or_insert(v);
                                }
                            }
                            let y = Expr::Ref(Ref::plain(&name.name, name.span));
                            given.push(Expr::Rel(
                                RelOp::Eq,
                                Box::new(y),
                                Box::new(Expr::Num(v.to_string(), value.span())),
                                value.span(),
                            ));
                        }
                        _ => given.extend(givens.iter().cloned()),
                    }
                }
            }
        }
    }

    /// The derived sizes' sample values, computed from the sample line (E0412 when they
    /// cannot be, or when one is given).
    fn derived_samples(&mut self, items: &mut [Item], capitals: &BTreeMap<String, String>) {
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
        for (cap, size) in capitals {
            if let Some(v) = vals.get(size).copied() {
                vals.entry(cap.clone()).or_insert(v);
            }
        }
        let sampled = vals.clone();
        let mut failed: BTreeSet<String> = BTreeSet::new();
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
                    // A fixed size's index capitals (`DX` of `size D = 3` / `index dx :
                    // D`) take its value for the derived sizes after it (red33: `size U =
                    // floor((X - DX)/2) + 1` was E0412, "cannot be computed").
                    for (cap, size) in capitals {
                        if *size == name.name {
                            vals.entry(cap.clone()).or_insert(v);
                        }
                    }
                    added.push(Binding {
                        name: name.clone(),
                        value: Expr::Num(v.to_string(), name.span),
                    });
                }
                // A value that reads a derived size that failed: that size's E0412 is
                // the one cause (a chain of 30 reported 15 times).
                None if reads_failed(&value, &failed) => {
                    failed.insert(name.name.clone());
                }
                got => {
                    failed.insert(name.name.clone());
                    // The sizes a value on the `sample` line would fix: the missing ones
                    // (given a value), else the sampled ones this value reads (raised).
                    // Through the derived sizes it reads, to the sizes the line sets.
                    let mut reads: Vec<String> = Vec::new();
                    let mut todo = vec![value.clone()];
                    while let Some(v) = todo.pop() {
                        crate::syntax::visit::walk_refs(&v, &mut |r| {
                            let n = capitals.get(&r.name.base).unwrap_or(&r.name.base);
                            if r.name.sub.is_empty() && !reads.contains(n) {
                                reads.push(n.clone());
                                if let Some((_, d, _)) =
                                    self.derived.iter().find(|(d, _, _)| d.name == *n)
                                {
                                    todo.push(d.clone());
                                }
                            }
                        });
                    }
                    let derived_names: BTreeSet<&str> = self
                        .derived
                        .iter()
                        .map(|(d, _, _)| d.name.as_str())
                        .collect();
                    reads.retain(|n| !derived_names.contains(n.as_str()));
                    let missing: Vec<String> = reads
                        .iter()
                        .filter(|n| !vals.contains_key(*n))
                        .cloned()
                        .collect();
                    // A derived size it reads that is declared after it (`size Y = Z + 1`
                    // above `size Z = X - 1`): the order is the cause, not a missing sample
                    // value, which a derived size may not take (probe34 p15b).
                    let mut later: Vec<String> = Vec::new();
                    if got.is_none() {
                        crate::syntax::visit::walk_refs(&value, &mut |r| {
                            let n = capitals.get(&r.name.base).unwrap_or(&r.name.base);
                            if r.name.sub.is_empty()
                                && !vals.contains_key(n)
                                && !failed.contains(n)
                                && !later.contains(n)
                                && self.derived.iter().any(|(d, _, _)| d.name == *n)
                            {
                                later.push(n.clone());
                            }
                        });
                    }
                    if let Some(z) = later.first() {
                        self.diags.push(
                            Diagnostic::error(
                                "E0412",
                                value.span(),
                                format!(
                                    "`{}` cannot be computed: it reads `{z}`, a derived size declared after it",
                                    name.name
                                ),
                            )
                            .with_label("read before it is declared")
                            .with_hint(format!(
                                "move the line that declares `{z}` above the one that declares `{}`: a size's value reads the sizes declared before it",
                                name.name
                            )),
                        );
                        continue;
                    }
                    let fix = self.sample_fix(&sampled, capitals, &missing, &reads);
                    let too_large = matches!(got, Some(Exact::Int(v)) if v > 1_000_000);
                    let hint = match fix {
                        // Over the limit, not under it (probe33/b b01): smaller values.
                        _ if too_large => format!(
                            "give the sizes it uses smaller values on the `sample` line, so that `{}` is at most 1,000,000",
                            name.name
                        ),
                        Some(settings) if !missing.is_empty() => format!(
                            "add `{settings}` to the `sample` line (then every derived size is a whole number of at least 1)"
                        ),
                        Some(settings) => format!(
                            "give the sizes it uses larger values on the `sample` line: `{settings}` makes every derived size a whole number of at least 1"
                        ),
                        None => "give the sizes it uses values on the `sample` line that make it a whole number of at least 1".to_string(),
                    };
                    self.diags.push(
                    Diagnostic::error(
                        "E0412",
                        value.span(),
                        match got {
                            Some(Exact::Int(v)) => format!("`{}` would be {v} at the sample values: a size is a whole number from 1 to 1,000,000", name.name),
                            Some(Exact::Frac(n, d)) => format!("`{}` would be {n}/{d} at the sample values, not a whole number", name.name),
                            None => {
                                let mut missing: Vec<String> = Vec::new();
                                crate::syntax::visit::walk_refs(&value, &mut |r| {
                                    // An index's capital (`DX`) names its size (`D`).
                                    let n = capitals.get(&r.name.base).unwrap_or(&r.name.base);
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
                    .with_hint(hint),
                    );
                }
            }
        }
        if let ItemKind::Sample(bs) = &mut items[first].kind {
            bs.extend(added);
        }
    }
}

/// Whether `value` reads one of the sizes `failed`.
fn reads_failed(value: &Expr, failed: &BTreeSet<String>) -> bool {
    let mut found = false;
    crate::syntax::visit::walk_refs(value, &mut |r| {
        found |= r.name.sub.is_empty() && failed.contains(&r.name.base);
    });
    found
}

impl Expander {
    /// E0512 at a claim's given (or `at`) of a derived or fixed size that its `size` line
    /// does not give at the claim's values: `w` given, `v` by the relation. The hint
    /// names a value of a size the relation reads at which the size is `w`, where one up
    /// to 1,000 is found.
    #[allow(clippy::too_many_arguments)]
    fn contradicting_given(
        &self,
        name: &Ident,
        value: &Expr,
        v: i64,
        w: i64,
        at: Span,
        vals: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
    ) -> Diagnostic {
        let mut reads: Vec<String> = Vec::new();
        crate::syntax::visit::walk_refs(value, &mut |r| {
            if r.name.sub.is_empty() {
                let n = capitals.get(&r.name.base).unwrap_or(&r.name.base).clone();
                if !reads.contains(&n) && n != name.name {
                    reads.push(n);
                }
            }
        });
        let setting: Vec<String> = reads
            .iter()
            .filter_map(|n| Some(format!("{n} = {}", vals.get(n)?)))
            .collect();
        let relation = format!(
            "{} = {}",
            name.name,
            crate::syntax::printer::print_expr(value)
        );
        // A size the relation reads, not fixed, at which it gives `w` (the others kept).
        let free: Vec<&String> = reads
            .iter()
            .filter(|n| {
                !self.consts.contains_key(*n)
                    && !self
                        .derived
                        .iter()
                        .any(|(d, dv, _)| d.name == **n && eval_const(dv).is_some())
            })
            .collect();
        let fix = free.iter().find_map(|n| {
            (1..=1_000i64).find_map(|x| {
                let mut at = vals.clone();
                at.insert((*n).clone(), x);
                for (cap, size) in capitals {
                    if size == *n {
                        at.insert(cap.clone(), x);
                    }
                }
                matches!(eval_with(value, &at), Some(Exact::Int(y)) if y == w)
                    .then(|| format!("{n} = {x}"))
            })
        });
        let shown_at = if setting.is_empty() {
            String::new()
        } else {
            format!(" at this claim's values ({})", setting.join(", "))
        };
        Diagnostic::error(
            "E0512",
            at,
            format!(
                "the given `{0} = {w}` contradicts `size {relation}`, which is {v}{shown_at}",
                name.name
            ),
        )
        .with_label("no size satisfies this")
        .with_hint(match fix {
            Some(f) => format!(
                "`{0}` is computed by its `size` line, not given: drop `{0} = {w}` (it is {v} here), or give `{f}`, at which `{0}` is {w}",
                name.name
            ),
            None => format!(
                "`{0}` is computed by its `size` line, not given: drop `{0} = {w}` (it is {v} here)",
                name.name
            ),
        })
    }

    /// E0412: a `vary` line that names a size its `size` line fixes or derives (`vary D`
    /// of `size D = 3` with `index dx : D`, `vary Y` of `size Y = floor((X - DX)/2) + 1`).
    /// Such a size takes no value, as on the `sample` line: the variant was headed
    /// "D = 5" and answered with D = 3 (probe34 p31, h28).
    fn varied_derived(&mut self, items: &[Item]) {
        let mut capitals: BTreeMap<String, String> = BTreeMap::new();
        for item in items {
            if let ItemKind::Index { names, size, .. } = &item.kind {
                for n in names {
                    capitals.insert(n.name.to_uppercase(), size.name.clone());
                }
            }
        }
        for item in items {
            let ItemKind::Vary(ps) = &item.kind else {
                continue;
            };
            for p in ps {
                let Some((name, value, _)) =
                    self.derived.iter().find(|(n, ..)| n.name == p.name.name)
                else {
                    continue;
                };
                // The sizes it is computed from that a `vary` line may name: an index's
                // capital read as its size (`DX` as `D`), a derived size through what it
                // reads, fixed sizes left out.
                let mut reads: Vec<String> = Vec::new();
                let mut seen: BTreeSet<String> = BTreeSet::new();
                let mut todo = vec![value.clone()];
                while let Some(v) = todo.pop() {
                    crate::syntax::visit::walk_refs(&v, &mut |r| {
                        if !r.name.sub.is_empty() {
                            return;
                        }
                        let n = capitals.get(&r.name.base).unwrap_or(&r.name.base).clone();
                        if !seen.insert(n.clone()) || self.consts.contains_key(&n) {
                            return;
                        }
                        match self.derived.iter().find(|(d, ..)| d.name == n) {
                            Some((_, dv, _)) if eval_const(dv).is_none() => todo.push(dv.clone()),
                            Some(_) => {}
                            None => reads.push(n),
                        }
                    });
                }
                let d = match eval_const(value) {
                    Some(Exact::Int(v)) => Diagnostic::error(
                        "E0412",
                        p.name.span,
                        format!(
                            "`{}` is fixed at {v} by its `size` line and cannot be varied",
                            name.name
                        ),
                    )
                    .with_label("fixed size")
                    .with_hint(format!(
                        "to vary it, declare it without a value (`size {0}`) and give its value on the `sample` line (`sample {0} = {v}`); or remove it from the `vary` line",
                        name.name
                    )),
                    _ => Diagnostic::error(
                        "E0412",
                        p.name.span,
                        format!(
                            "`{}` is derived by its `size` line (`{} = {}`) and cannot be varied",
                            name.name,
                            name.name,
                            crate::syntax::printer::print_expr(value)
                        ),
                    )
                    .with_label("derived size")
                    .with_hint(if reads.is_empty() {
                        format!("remove `{}` from the `vary` line", name.name)
                    } else {
                        format!(
                            "vary the sizes it is computed from ({}): each variant computes `{}` from their values",
                            reads
                                .iter()
                                .map(|r| format!("`{r}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            name.name
                        )
                    }),
                };
                self.diags.push(d);
            }
        }
    }

    /// Values for the `sample` line that make every derived size a whole number from 1
    /// to 1,000,000, written as settings (`U = 4`): the `missing` sizes all given one
    /// value, else one of the sampled sizes in `reads` raised; `None` when no value up
    /// to 64 above does.
    fn sample_fix(
        &self,
        sampled: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
        missing: &[String],
        reads: &[String],
    ) -> Option<String> {
        let valid = |vals: &BTreeMap<String, i64>| {
            let mut vals = vals.clone();
            for (cap, size) in capitals {
                if let Some(v) = vals.get(size).copied() {
                    vals.entry(cap.clone()).or_insert(v);
                }
            }
            self.derived
                .iter()
                .all(|(name, value, _)| match eval_with(value, &vals) {
                    Some(Exact::Int(v)) if (1..=1_000_000).contains(&v) => {
                        vals.insert(name.name.clone(), v);
                        for (cap, size) in capitals {
                            if *size == name.name {
                                vals.entry(cap.clone()).or_insert(v);
                            }
                        }
                        true
                    }
                    _ => false,
                })
        };
        if !missing.is_empty() {
            let v = (4..=64).chain(1..4).find(|v| {
                let mut vals = sampled.clone();
                vals.extend(missing.iter().map(|m| (m.clone(), *v)));
                valid(&vals)
            })?;
            return Some(
                missing
                    .iter()
                    .map(|m| format!("{m} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        reads
            .iter()
            .filter(|n| sampled.contains_key(*n))
            .find_map(|n| {
                let now = sampled[n];
                (now.saturating_add(1)..=now.saturating_add(64)).find_map(|v| {
                    let mut vals = sampled.clone();
                    vals.insert(n.clone(), v);
                    valid(&vals).then(|| format!("{n} = {v}"))
                })
            })
    }
}

/// The givens that state `name = value` in a claim, for a value the symbolic engine
/// reads: `floor(e) + c` (`Y - c <= e` and `e < Y - c + 1`), `ceil(e) + c` (`e <= Y - c`
/// and `Y - c - 1 < e`), or an expression without `floor` and `ceil` (`Y == value`).
/// `None` for `floor`/`ceil` anywhere else.
pub(super) fn derived_givens(name: &Ident, value: &Expr) -> Option<Vec<Expr>> {
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
        // The terms of the sum, with their signs (`floor(e) + 1 - P`: the sum is read
        // from the left, `(floor(e) + 1) - P`, so every level is taken apart).
        fn terms(v: &Expr, neg: bool, out: &mut Vec<(bool, Expr)>) {
            match v {
                Expr::Binary(BinOp::Add, a, b, _) => {
                    terms(a, neg, out);
                    terms(b, neg, out);
                }
                Expr::Binary(BinOp::Sub, a, b, _) => {
                    terms(a, neg, out);
                    terms(b, !neg, out);
                }
                Expr::Unary(UnOp::Neg, a, _) => terms(a, !neg, out),
                v => out.push((neg, v.clone())),
            }
        }
        let mut all = Vec::new();
        terms(v, false, &mut all);
        let k = all.iter().position(|(neg, t)| !neg && round(t).is_some())?;
        let (_, t) = all.remove(k);
        let (f, e) = round(&t)?;
        // The rest, in the order written, as one expression (0 when nothing is left).
        let c = all.into_iter().fold(None, |acc: Option<Expr>, (neg, t)| {
            Some(match (acc, neg) {
                (None, false) => t,
                (None, true) => Expr::Unary(UnOp::Neg, Box::new(t), sp),
                (Some(a), false) => bin(BinOp::Add, a, t),
                (Some(a), true) => bin(BinOp::Sub, a, t),
            })
        });
        Some((f, e, c.unwrap_or_else(|| num(0))))
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
        // A size is a whole number of at least 1, and so is its value: once the equality
        // puts the value in the size's place, `Y >= 1` is what keeps the operands in
        // their domain (`X - D + 1 >= 1`: X >= D), for every engine that reads the
        // claim's givens (a witness at X = 1, D = 2 made Y = 0 and refuted true counts).
        return Some(vec![
            rel(RelOp::Eq, y.clone(), value.clone()),
            rel(RelOp::Ge, y, num(1)),
        ]);
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

/// The sizes of `size X = value` lines that are defined from themselves, directly (`size
/// L = L`) or through one another (`size X = Y + 1`, `size Y = X - 1`): E0412 once per
/// cycle, at the value of its first size in the file, naming the cycle (probe 30b h30:
/// `size L = L` was a derived size "with no sample value" and a given "set from
/// itself", two diagnostics for one cause, neither naming it).
pub(super) fn size_cycles(items: &[Item], diags: &mut Vec<Diagnostic>) -> BTreeSet<String> {
    let sized: Vec<(&Ident, &Expr)> = items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::SizeValue { name, value } => Some((name, value)),
            _ => None,
        })
        .collect();
    let names: BTreeSet<&str> = sized.iter().map(|(n, _)| n.name.as_str()).collect();
    let reads: BTreeMap<&str, BTreeSet<String>> = sized
        .iter()
        .map(|(n, v)| {
            let mut r = BTreeSet::new();
            crate::syntax::visit::walk_refs(v, &mut |rf| {
                if rf.name.sub.is_empty() && names.contains(rf.name.base.as_str()) {
                    r.insert(rf.name.base.clone());
                }
            });
            (n.name.as_str(), r)
        })
        .collect();
    let mut cyclic: BTreeSet<String> = BTreeSet::new();
    for (name, value) in &sized {
        if cyclic.contains(&name.name) {
            continue;
        }
        // The shortest path of reads from this size back to itself (breadth first).
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        let mut todo = std::collections::VecDeque::from([name.name.clone()]);
        let mut found = false;
        while let Some(n) = todo.pop_front() {
            for r in reads.get(n.as_str()).into_iter().flatten() {
                if *r == name.name {
                    back.insert(format!("{r}#"), n.clone());
                    found = true;
                    break;
                }
                if !back.contains_key(r) {
                    back.insert(r.clone(), n.clone());
                    todo.push_back(r.clone());
                }
            }
            if found {
                break;
            }
        }
        if !found {
            continue;
        }
        // The cycle in reading order: X ← Y ← X (X is read from Y, Y from X).
        let mut chain = vec![name.name.clone()];
        let mut at = back[&format!("{}#", name.name)].clone();
        while at != name.name {
            chain.push(at.clone());
            at = back[&at].clone();
        }
        chain[1..].reverse();
        let message = if chain.len() == 1 {
            format!("size `{}` is defined from itself", name.name)
        } else {
            let listed: Vec<String> = chain.iter().map(|c| format!("`{c}`")).collect();
            chain.push(name.name.clone());
            format!(
                "sizes {} are defined from each other: {}",
                listed.join(" and "),
                chain.join(" ← ")
            )
        };
        cyclic.extend(chain.iter().cloned());
        diags.push(
            Diagnostic::error("E0412", value.span(), message)
                .with_label("this value reads the size it defines")
                .with_hint(format!(
                    "give `{}` a number (`size {} = 3`), or declare it without a value (`size {}`) and give it on the `sample` line",
                    name.name, name.name, name.name
                )),
        );
    }
    cyclic
}

impl Expander {
    /// A size set by an `at` (the claim's own, or an `at` line before the claim) is a
    /// given of the claim (`at X = 7` → `given X == 7`): a point of sizes is what a given
    /// that sets them says, and givens are what every check of sizes reads (E0512 for a
    /// size that is not a whole number of at least 1, the derived sizes' exact values,
    /// the extents, the witnesses). Before, the `at` path was checked apart and missed
    /// them: `claim Var(y) < 0 at X = -3` was proved, `mults(y) == 30 at X = 7` met an
    /// E0303 that mixed the claim's X with the sample's, and its witness printed X = 1
    /// (probe35/p a21, a11). A size the claim's `given` sets keeps the given's value, as
    /// for any name; a claim that sets one in both is left for E0512. Derived and fixed
    /// sizes take no value and are left as written.
    pub(super) fn at_sizes_as_givens(&mut self, items: &mut [Item]) {
        let sizes: BTreeSet<String> = items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Size(ns) => Some(ns),
                _ => None,
            })
            .flatten()
            .map(|n| n.name.clone())
            .filter(|n| !self.derived.iter().any(|(d, _, _)| d.name == *n))
            .collect();
        if sizes.is_empty() {
            return;
        }
        let sets = |given: &[Expr], name: &str| {
            given.iter().any(|g| {
                matches!(g, Expr::Rel(RelOp::Eq, l, _, _)
                    if matches!(&**l, Expr::Ref(r) if r.indices.is_none()
                        && r.name.sub.is_empty() && r.name.base == name))
            })
        };
        let mut at: Vec<Binding> = Vec::new();
        for item in items.iter_mut() {
            match &mut item.kind {
                ItemKind::At(bs) => {
                    at.retain(|b| !bs.iter().any(|n| n.name.name == b.name.name));
                    at.extend(bs.iter().filter(|b| sizes.contains(&b.name.name)).cloned());
                }
                ItemKind::Claim(c) => {
                    let own: Vec<Binding> =
                        c.at.iter()
                            .filter(|b| sizes.contains(&b.name.name))
                            .cloned()
                            .collect();
                    if own.iter().any(|b| sets(&c.given, &b.name.name)) {
                        continue;
                    }
                    c.at.retain(|b| !sizes.contains(&b.name.name));
                    let point: Vec<Binding> = at
                        .iter()
                        .filter(|b| !own.iter().any(|o| o.name.name == b.name.name))
                        .chain(own.iter())
                        .cloned()
                        .collect();
                    for b in point {
                        if sets(&c.given, &b.name.name) {
                            continue;
                        }
                        c.given.push(Expr::Rel(
                            RelOp::Eq,
                            Box::new(Expr::Ref(Ref::plain(&b.name.name, b.name.span))),
                            Box::new(b.value.clone()),
                            b.value.span(),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}
