//! The least sizes a claim is about: every size 1, or the least at which every element
//! the claim names exists, with derived sizes computed from the others.

use super::*;

/// The least sizes at which every element the claim and the model name exists: each
/// size the claim's givens do not set (`set`) is 1, or one past the largest fixed position of a
/// dimension it is the extent of (`y[b,1]` needs K >= 2). `None` where the model has
/// loops, families or derived sizes (their ranges tie the sizes in ways not read here),
/// or where the least sizes are the sample's. The claim's meaning (docs/language.md): a
/// claim with no size given holds at every size at which every element it names exists.
/// With `keep_copies` (Monte Carlo and the sampled runs), a size that only counts copies
/// ([`super::copies::copy_sizes`]) keeps its sample value.
pub(crate) fn least_sizes(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sample: &BTreeMap<String, i64>,
    keep_copies: bool,
) -> Option<BTreeMap<String, i64>> {
    match least_search(claim, program, env, set, sample, keep_copies) {
        Search::Found(out) => (out != *sample).then_some(out),
        Search::Unfound(_) | Search::NotApplicable => None,
    }
}

/// What the search for the least sizes found.
pub(crate) enum Search {
    /// The least point (every size, the sample's where they do not move).
    Found(BTreeMap<String, i64>),
    /// With derived sizes, no point where they are whole and meet the claim's needs among
    /// this many candidates (docs/language.md: such a claim is not confirmed on the sample
    /// sizes alone).
    Unfound(usize),
    /// Loops, families, a given that ties the sizes: no least sizes are read.
    NotApplicable,
}

/// Why a model is not moved to its least sizes, if it is not: a loop over layers or
/// time steps, per-member sizes or an update rule (their ranges tie the sizes in ways
/// the search does not read). A claim Monte Carlo confirmed on such a model says so in
/// its evidence (snd37, probe36 b19: a tied-weight RNN's claim, false at J = 1 and 2, was
/// confirmed at J = 6 and 7 with nothing saying that smaller sizes were not tried).
pub(crate) fn form_not_moved(program: &ast::Program) -> Option<&'static str> {
    // The model's items, listed once per file (perf42): every claim's search read them.
    crate::syntax::model_items::model_items(program).find_map(|i| {
        if element_loop(i) {
            return None;
        }
        match i.kind {
            ast::ItemKind::Loop(_) => Some("the model has loops over layers or steps"),
            ast::ItemKind::SizeMembers { .. } => Some("the model has per-member sizes"),
            ast::ItemKind::Rule(_) => Some("the model has update rules"),
            ast::ItemKind::ForIndices(_) | ast::ItemKind::SizeValue { .. } => {
                Some("the model's loops tie its sizes")
            }
            ast::ItemKind::Size(_)
            | ast::ItemKind::Index { .. }
            | ast::ItemKind::Symbol(_)
            | ast::ItemKind::Scalar(_)
            | ast::ItemKind::Boundary(_)
            | ast::ItemKind::Decl(_)
            | ast::ItemKind::Equation(_)
            | ast::ItemKind::Claim(_)
            | ast::ItemKind::Sample(_)
            | ast::ItemKind::At(_)
            | ast::ItemKind::Vary(_)
            | ast::ItemKind::Derivation(_)
            | ast::ItemKind::ExpectError(_) => None,
        }
    })
}

/// The sizes a model whose only tie is loops over layers or steps keeps at their sample
/// values at its least sizes: the sizes its loop ranges and its family declarations'
/// ranges read, and those of every dimension a loop variable indexes (`h[b,t,j]` in
/// `for t in 1..T-1`: T). `None` where the model has another form [`form_not_moved`]
/// names (per-member sizes, update rules, loops that tie the sizes otherwise).
pub(crate) fn loop_pins(program: &ast::Program, env: &Env) -> Option<Vec<String>> {
    fn sizes_in(e: &ast::Expr, env: &Env, out: &mut Vec<String>) {
        crate::syntax::visit::walk_refs(e, &mut |r| {
            let n = crate::syntax::printer::print_name(&r.name);
            if r.indices.is_none() && env.sizes.contains_key(&n) && !out.contains(&n) {
                out.push(n);
            }
        });
    }
    fn range(r: &ast::Range, env: &Env, out: &mut Vec<String>) {
        sizes_in(&r.from, env, out);
        sizes_in(&r.to, env, out);
    }
    fn indexed(r: &ast::Ref, vars: &[String], env: &Env, out: &mut Vec<String>) {
        let Some(dims) = env.tensor_of(&r.name).map(|t| &t.dims) else {
            return;
        };
        for (k, ix) in r.indices.iter().flatten().enumerate() {
            let ast::IndexExpr::Affine(a) = ix else {
                continue;
            };
            let reads = a
                .terms
                .iter()
                .flat_map(|t| t.factors.iter())
                .any(|f| vars.contains(&f.name));
            if let (true, Some(d)) = (reads, dims.get(k)) {
                if env.sizes.contains_key(d.as_str()) && !out.contains(d) {
                    out.push(d.clone());
                }
            }
        }
    }
    fn walk(
        items: &[ast::Item],
        vars: &mut Vec<String>,
        env: &Env,
        out: &mut Vec<String>,
    ) -> Option<()> {
        for item in items {
            match &item.kind {
                ast::ItemKind::Loop(l) => {
                    range(&l.range, env, out);
                    vars.push(l.range.var.name.clone());
                    walk(&l.body, vars, env, out)?;
                    vars.pop();
                }
                ast::ItemKind::Equation(eq) => {
                    indexed(&eq.lhs, vars, env, out);
                    crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| indexed(r, vars, env, out));
                }
                ast::ItemKind::Decl(d) => {
                    if let Some(r) = &d.family {
                        range(r, env, out);
                        vars.push(r.var.name.clone());
                        indexed(&d.target, vars, env, out);
                        vars.pop();
                    }
                }
                // Element loops inside a step loop: their equations too.
                ast::ItemKind::ForIndices(f) if element_loop(item) && !vars.is_empty() => {
                    walk(&f.body, vars, env, out)?;
                }
                ast::ItemKind::ForIndices(_) if element_loop(item) => {}
                ast::ItemKind::SizeMembers { .. }
                | ast::ItemKind::Rule(_)
                | ast::ItemKind::ForIndices(_)
                | ast::ItemKind::SizeValue { .. } => return None,
                _ => {}
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(&program.items, &mut Vec::new(), env, &mut out)?;
    Some(out)
}

/// [`least_sizes`], telling a search that found nothing from one that does not apply.
pub(crate) fn least_search(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    set: &[String],
    sample: &BTreeMap<String, i64>,
    keep_copies: bool,
) -> Search {
    let na = Search::NotApplicable;
    // A size fixed by a number that an index ranges over (`size D = 3` / `index dx : D`)
    // is kept as a derived size whose given sets it (`D == 3`): it ties no other size,
    // and the others still move (session 30: a 3x3 box sum's `y >= 4`, false at X = Y = 1,
    // was confirmed at the sample sizes alone). A size derived from sizes that move
    // (`size Y = floor((X - DX)/2) + 1`) is computed again from them at the least point
    // ([`tied_least`]; session 33: `Var(x.grad[b,2,c]) == 2/3` after a stride-2 valid
    // convolution, false at X = 3 where one output reads position 2, was confirmed at the
    // sample sizes and one size larger, no least sizes being tried with a derived size).
    let tied: Vec<&String> = env
        .derived_sizes
        .iter()
        .filter(|(_, v)| crate::check::members::eval_const(v).is_none())
        .map(|(n, _)| n)
        .collect();
    // A derived size's own relation among the givens (`Y == X - D + 1` for `size Y =
    // X - DX + 1`, which the claim's givens carry) sets nothing: it is recomputed at each
    // point (probe34 p04, p11, p12: a size without `floor` was never moved to its least
    // sizes, and false border claims were confirmed). A given that sets it otherwise
    // (`given Y = 4`) does.
    let really_set: Vec<String> = points::set_by_givens(claim, env)
        .map(|g| g.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_else(|| set.to_vec());
    // A model whose only tie is a loop over layers or steps (session 38, probe36 b19)
    // moves the sizes its loops do not read: those of the loop ranges, of the family
    // declarations' ranges and of every dimension a loop variable indexes keep their
    // sample values ([`loop_pins`]).
    let pinned: Vec<String> = match form_not_moved(program) {
        None => Vec::new(),
        Some(_) if !tied.is_empty() => return na,
        Some(_) => match loop_pins(program, env) {
            Some(p) => p,
            None => return na,
        },
    };
    if tied
        .iter()
        .any(|n| set.contains(*n) && really_set.contains(*n))
    {
        return na;
    }
    // A size that only counts independent copies (a batch: every index over it a plain
    // free index, never summed, shifted or read as a value) changes no element's
    // distribution: it keeps its sample value, where the trials pool more elements
    // (session 28: moving the batch to B = 1 left 40 true claims unresolved).
    let copies = if keep_copies {
        super::copies::copy_sizes(claim, program, env)
    } else {
        Default::default()
    };
    let mut least: BTreeMap<String, i64> = sample
        .keys()
        .filter(|k| {
            !set.contains(k) && !copies.contains(*k) && !tied.contains(k) && !pinned.contains(k)
        })
        .map(|k| (k.clone(), 1))
        .collect();
    let mut needed = named_extents(claim, env);
    note_fixed_in(
        crate::syntax::model_items::model_items(program),
        env,
        &mut needed,
    );
    // What a derived size needs is tested at each candidate point (`y[b,2]`: Y >= 3).
    let mut derived_needs: Vec<(String, RelOp, i64)> = Vec::new();
    let mut relations: Vec<&ast::Expr> = Vec::new();
    for (d, n) in needed {
        if let Some(v) = least.get_mut(&d) {
            *v = (*v).max(n);
        } else if tied.contains(&&d) {
            derived_needs.push((d, RelOp::Ge, n));
        }
    }
    // The givens hold there too: a bound of a size by a whole number (`X >= 3`, `2 < X`)
    // raises its least value; any other given that reads a moved size (`X >= 2 D - 1`)
    // ties the sizes in a way not read here, and no least sizes are tested.
    for e in &claim.given {
        let mut moved = false;
        crate::syntax::visit::walk_refs(e, &mut |r| {
            let name = crate::syntax::printer::print_name(&r.name);
            moved |= r.indices.is_none() && (least.contains_key(&name) || tied.contains(&&name));
        });
        if !moved {
            continue;
        }
        let whole = |x: &ast::Expr| match x {
            ast::Expr::Num(n, _) => n.parse::<i64>().ok(),
            _ => None,
        };
        let size = |x: &ast::Expr| match x {
            ast::Expr::Ref(r) if r.indices.is_none() => {
                Some(crate::syntax::printer::print_name(&r.name))
            }
            _ => None,
        };
        let ast::Expr::Rel(op, l, r, _) = e else {
            return na;
        };
        // With derived sizes, another relation between sizes (the derived size's own
        // `Y - 1 <= (X - D)/2`, a given `X >= 2 D - 1`) is tested at each candidate point.
        let simple = matches!(
            (size(l), whole(r), whole(l), size(r)),
            (Some(_), Some(_), _, _) | (_, _, Some(_), Some(_))
        );
        // size43 (probe42 r12): without derived sizes too, a given that relates sizes
        // (`X >= D - 1`, `K <= T`) or a size and a symbol (`s2 <= 1/(10 I)`, the symbol
        // at its sample value) is tested at each candidate point: such a given used to
        // turn the least sizes off, and false claims were confirmed at the sample sizes.
        if !simple {
            relations.push(e);
            continue;
        }
        let (name, op, c) = match (size(l), whole(r), whole(l), size(r)) {
            (Some(n), Some(c), _, _) => (n, *op, c),
            (_, _, Some(c), Some(n)) => (
                n,
                match op {
                    RelOp::Lt => RelOp::Gt,
                    RelOp::Gt => RelOp::Lt,
                    RelOp::Le => RelOp::Ge,
                    RelOp::Ge => RelOp::Le,
                    o => *o,
                },
                c,
            ),
            _ => return na,
        };
        if tied.contains(&&name) {
            derived_needs.push((name, op, c));
            continue;
        }
        let Some(v) = least.get_mut(&name) else {
            return na;
        };
        match op {
            RelOp::Ge => *v = (*v).max(c),
            RelOp::Gt => *v = (*v).max(c + 1),
            RelOp::Le if *v <= c => {}
            RelOp::Lt if *v < c => {}
            _ => return na,
        }
    }
    // The symbols' sample values, at which a given that reads one is tested.
    let syms: BTreeMap<String, f64> = if relations.is_empty() {
        BTreeMap::new()
    } else {
        points::sample_values(&[], program, env)
            .0
            .into_iter()
            .filter_map(|(n, v)| Some((n, num_traits::ToPrimitive::to_f64(&v)?)))
            .collect()
    };
    if tied.is_empty() && !relations.is_empty() {
        // Each relation holds at the sample point, where it can be evaluated (else the
        // claim is about other sizes than its sample's, which is not read here).
        if relations
            .iter()
            .any(|e| super::critical::given_holds(e, sample, &syms, env) != Some(true))
        {
            return na;
        }
    }
    if !tied.is_empty() || !relations.is_empty() {
        least = match tied_least(
            claim,
            env,
            sample,
            least,
            &tied,
            (&derived_needs, &relations, &syms),
        ) {
            Search::Found(l) => l,
            // Without derived sizes, a search that found nothing leaves the claim as a
            // given that ties the sizes did before (no least sizes read).
            Search::Unfound(_) if tied.is_empty() => return na,
            other => return other,
        };
    }
    let mut out = sample.clone();
    out.extend(least);
    Search::Found(out)
}

/// The least point of the moved sizes (`least`, each at its lower bound) at which every
/// size derived from them (`tied`) is a whole number of at least 1 and meets what the
/// claim needs of it (`needs`: a fixed position it names, a given bounding it) and every
/// other relation between sizes among the givens holds (`relations`), the
/// derived sizes' values included. The points are tried by increasing total increment
/// over the lower bounds, each total's splits over the sizes in a fixed order, at most
/// [`MAX_POINTS`] points in all (one moved size reaches 200,000 steps, two about 630,
/// three about 100), so the result is a least point of the sizes that move;
/// [`Search::Unfound`] when none is found there (probe34 p24: the search stopped at 16
/// steps and the claim was confirmed on the sample sizes alone).
fn tied_least(
    claim: &Claim,
    env: &Env,
    sample: &BTreeMap<String, i64>,
    least: BTreeMap<String, i64>,
    tied: &[&String],
    (needs, relations, syms): Constraints,
) -> Search {
    // The sizes the claim's givens set to a number (a fixed `size D = 3`), which the
    // derived sizes read.
    let Some(held) = points::set_by_givens(claim, env) else {
        return Search::NotApplicable;
    };
    let held: BTreeMap<String, i64> = held
        .into_iter()
        .filter(|(n, _)| env.sizes.contains_key(n))
        .filter_map(|(n, v)| Some((n, v.as_num()?.to_integer().try_into().ok()?)))
        .collect();
    let names: Vec<String> = least.keys().cloned().collect();
    let base: Vec<i64> = names.iter().map(|n| least[n]).collect();
    let holds = |v: i64, op: RelOp, c: i64| match op {
        RelOp::Ge => v >= c,
        RelOp::Gt => v > c,
        RelOp::Le => v <= c,
        RelOp::Lt => v < c,
        RelOp::Eq | RelOp::Approx => v == c,
    };
    let at = |steps: &[i64]| -> Option<BTreeMap<String, i64>> {
        let mut vals: BTreeMap<String, i64> = sample
            .iter()
            .filter(|(n, _)| !tied.contains(n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        for (k, n) in names.iter().enumerate() {
            vals.insert(n.clone(), base[k].checked_add(steps[k])?);
        }
        vals.extend(held.iter().map(|(n, v)| (n.clone(), *v)));
        let fits = crate::check::outputs::derive_sizes_at(&mut vals, env)
            && needs
                .iter()
                .all(|(n, op, c)| vals.get(n).is_some_and(|v| holds(*v, *op, *c)))
            && relations
                .iter()
                .all(|e| super::critical::given_holds(e, &vals, syms, env) == Some(true));
        if !fits {
            return None;
        }
        let mut out = least.clone();
        for (k, n) in names.iter().enumerate() {
            out.insert(n.clone(), base[k] + steps[k]);
        }
        for t in tied {
            out.insert((*t).clone(), *vals.get(*t)?);
        }
        Some(out)
    };
    if names.is_empty() {
        return match at(&[]) {
            Some(out) => Search::Found(out),
            None => Search::Unfound(1),
        };
    }
    let mut tried = 0usize;
    let mut total = 0i64;
    while tried < MAX_POINTS {
        // Every split of `total` over the moved sizes (a composition), the first size
        // taking the most first.
        let mut steps = vec![0i64; names.len()];
        steps[0] = total;
        loop {
            tried += 1;
            if let Some(out) = at(&steps) {
                return Search::Found(out);
            }
            if tried >= MAX_POINTS {
                break;
            }
            // The next composition: move one unit from the first non-zero part (but
            // the last) to the part after it, gathering what lies before it back
            // into the first part.
            let Some(k) = (0..names.len() - 1).find(|&k| steps[k] > 0) else {
                break;
            };
            let moved = steps[k] - 1;
            steps[k] = 0;
            steps[k + 1] += 1;
            steps[0] += moved;
        }
        total += 1;
    }
    Search::Unfound(tried)
}

/// What each candidate of [`tied_least`] must meet: the bounds on single sizes, the
/// relations among the givens, and the symbols' sample values those relations read.
type Constraints<'a> = (
    &'a [(String, RelOp, i64)],
    &'a [&'a ast::Expr],
    &'a BTreeMap<String, f64>,
);

/// The most candidate points [`tied_least`] tries.
const MAX_POINTS: usize = 200_000;

/// Per size: one past the largest fixed position the claim (its body and givens) names
/// on a dimension of that extent (`y[b,1]` needs K >= 2): the least value of each size
/// at which every element the claim names exists.
pub(crate) fn named_extents(claim: &Claim, env: &Env) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    crate::syntax::visit::walk_refs(&claim.body, &mut |r| note_fixed(r, env, &mut out));
    for e in &claim.given {
        crate::syntax::visit::walk_refs(e, &mut |r| note_fixed(r, env, &mut out));
    }
    out
}

/// [`named_extents`] of one reference, added to `out`.
/// The seeds' loop form (`for b,x,d: y[b,x] += W[d] a[b,x+d]`): its indices range over
/// their sizes as an equation's free and summed indices do, so it ties no size and moves to
/// its least sizes as the one-equation form of the same model does (probe36 b03: the loop
/// form of a zero-padded convolution was confirmed at the sample sizes only, its equation
/// form refuted at X = 2). Family loops (`for l in 0..L`) still tie sizes.
fn element_loop(item: &ast::Item) -> bool {
    match &item.kind {
        ast::ItemKind::ForIndices(f) => f
            .body
            .iter()
            .all(|i| matches!(i.kind, ast::ItemKind::Equation(_)) || element_loop(i)),
        _ => false,
    }
}

/// [`note_fixed`] for every reference of the equations among `items`, the bodies of the
/// seeds' loop form included.
fn note_fixed_in<'i>(
    items: impl IntoIterator<Item = &'i ast::Item>,
    env: &Env,
    out: &mut BTreeMap<String, i64>,
) {
    for item in items {
        match &item.kind {
            ast::ItemKind::Equation(eq) => {
                note_fixed(&eq.lhs, env, out);
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| note_fixed(r, env, out));
            }
            ast::ItemKind::ForIndices(f) => note_fixed_in(&f.body, env, out),
            _ => {}
        }
    }
}

fn note_fixed(r: &ast::Ref, env: &Env, out: &mut BTreeMap<String, i64>) {
    let Some(dims) = env.tensor_of(&r.name).map(|t| &t.dims) else {
        return;
    };
    for (k, ix) in r.indices.iter().flatten().enumerate() {
        if let (ast::IndexExpr::Affine(a), Some(d)) = (ix, dims.get(k)) {
            if a.terms.is_empty() && env.sizes.contains_key(d.as_str()) {
                let v = out.entry(d.clone()).or_insert(0);
                *v = (*v).max(a.constant + 1);
            }
        }
    }
}
