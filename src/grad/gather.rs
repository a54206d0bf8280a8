//! The gather form: every scatter statement `A.grad[x+dx] += ...` rewritten so that
//! its left side is one plain element `A.grad[x]`, the shifted reads solved for
//! (`x - DX`) and the remaining loop indices summed (capitals). Strides and lookups
//! cannot be solved this way; those statements stay in scatter form, with a note.

use crate::check::Env;
use crate::syntax::ast::*;
use crate::syntax::visit::{children, children_mut, map_children, walk_expr, walk_operand_refs};
use std::collections::BTreeMap;

/// What a solved loop index becomes on the right side: `v_old = sign·v + Σ rest + constant`
/// (`t - 2dt` written at `t` gives `t_old = t + 2dt`).
#[derive(Clone, Debug)]
struct Solved {
    sign: i64,
    rest: Vec<AffineTerm>,
    constant: i64,
}

type Subst = BTreeMap<String, Solved>;

/// A gather-form statement and the remarks about its ranges.
#[derive(Clone, Debug)]
pub struct Gathered {
    pub item: Item,
    pub notes: Vec<String>,
    /// The recurrence variable and shift when the statement's target was written at
    /// `t - c` in scatter form (it must run first in its iteration, and once more
    /// after the loop for the targets below the loop's start).
    pub recurrence: Option<(String, i64)>,
}

/// Rewrites backward items into gather form (loops kept, statements solved).
///
/// A written position `a·v + Σ c·u + k` is solved for the loop index `v` when its
/// coefficient `a` is ±1, `v` runs over the written dimension's extent (same size, not
/// centered), occurs nowhere else on the left, and is read on the right only in
/// dimensions of that extent: then `v_old = a·(v − Σ c·u − k)` for every written `v`,
/// one to one (circular padding wraps both ways; under zero padding and valid ranges
/// the writes dropped outside are the reads outside, which are zero). Positions without
/// such an index (strides `2x + dx`, lookups) stay scatters, with the reason.
pub fn gather_form(items: &[Item], env: &Env) -> Vec<Gathered> {
    let mut out = Vec::new();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let body = gather_form(&l.body, env);
                let mut notes = Vec::new();
                // Statements whose target is shifted read only the finished iteration
                // t+c, and their target t is read by the rest of this iteration: they
                // run first.
                let (first, rest): (Vec<Gathered>, Vec<Gathered>) =
                    body.into_iter().partition(|g| {
                        g.recurrence
                            .as_ref()
                            .is_some_and(|(v, _)| *v == l.range.var.name)
                    });
                let start = match &l.range.from {
                    Expr::Num(n, _) => n.parse::<i64>().ok(),
                    _ => None,
                };
                let mut after = Vec::new();
                for g in &first {
                    let c = g.recurrence.as_ref().map_or(0, |r| r.1);
                    match start {
                        Some(lo) => {
                            for k in 1..=c {
                                after.push(fix_var_item(&g.item, &l.range.var.name, lo - k));
                            }
                        }
                        None => notes.push(format!(
                            "`{}` is also needed below the loop's start; run its statement once more there",
                            l.range.var.name
                        )),
                    }
                }
                if !first.is_empty() {
                    notes.push(format!(
                        "statements with a shifted recurrence index run first in each iteration; at the last {} their reads one step later are zero, and they run once more after the loop for the first targets",
                        l.range.var.name
                    ));
                }
                let body_items = first
                    .into_iter()
                    .chain(rest)
                    .map(|g| {
                        notes.extend(g.notes);
                        g.item
                    })
                    .collect();
                let mut seen = std::collections::BTreeSet::new();
                notes.retain(|n| seen.insert(n.clone()));
                out.push(Gathered {
                    item: Item {
                        kind: ItemKind::Loop(Loop {
                            range: l.range.clone(),
                            body: body_items,
                            reverse: l.reverse,
                        }),
                        span: it.span,
                    },
                    notes,
                    recurrence: None,
                });
                out.extend(after.into_iter().map(|item| Gathered {
                    item,
                    notes: vec![],
                    recurrence: None,
                }));
            }
            ItemKind::ForIndices(f) if f.body.len() == 1 => {
                if let ItemKind::Equation(eq) = &f.body[0].kind {
                    out.push(solve(eq, &f.indices, it, env));
                } else {
                    out.push(Gathered {
                        item: it.clone(),
                        notes: vec![],
                        recurrence: None,
                    });
                }
            }
            _ => out.push(Gathered {
                item: it.clone(),
                notes: vec![],
                recurrence: None,
            }),
        }
    }
    out
}

fn solve(eq: &Equation, loop_idx: &[Ident], original: &Item, env: &Env) -> Gathered {
    let boundary = env.boundary;
    let keep = |why: String| Gathered {
        item: original.clone(),
        notes: vec![why],
        recurrence: None,
    };
    let name = crate::syntax::printer::print_ref(&eq.lhs);
    let dims: Vec<String> = env
        .tensor_of(&eq.lhs.name)
        .map(|t| t.dims.clone())
        .unwrap_or_default();
    // How often each variable occurs on the left, and the extents it is read at on the
    // right.
    let mut lhs_count: BTreeMap<String, usize> = BTreeMap::new();
    for ix in eq.lhs.indices.iter().flatten() {
        if let IndexExpr::Affine(a) = ix {
            for t in &a.terms {
                for f in &t.factors {
                    *lhs_count.entry(f.name.clone()).or_default() += 1;
                }
            }
        }
    }
    let mut read_dims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    rhs_index_dims(&eq.rhs, env, &mut read_dims);
    let is_loop = |v: &str| loop_idx.iter().any(|i| i.name == v);
    // For each left position: the output variable and what the old variables become.
    let mut subst: Subst = BTreeMap::new();
    let mut new_lhs = eq.lhs.clone();
    let mut outputs: Vec<String> = Vec::new();
    let mut shifted: Vec<String> = Vec::new();
    let mut consts: BTreeMap<String, i64> = BTreeMap::new();
    // Statement indices written at `t-c`: the old t (the new t + c) runs over its own
    // range only, so the new t stops c short of the end.
    let mut ranged: Vec<(String, i64, String)> = Vec::new();
    for (k, ix) in new_lhs.indices.iter_mut().flatten().enumerate() {
        let IndexExpr::Affine(a) = ix else {
            return keep(format!("`{name}` is written through a lookup; it stays a scatter (rows of the lookup table accumulate)"));
        };
        if a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant > 0
        {
            // `t+1`: written one step ahead of the iteration that computes it (a loop
            // `for t in 0..T-1` writing `h[t+1]`). The write is already one element per
            // iteration and runs where the scatter form runs it: kept as written.
            outputs.push(a.terms[0].factors[0].name.clone());
            continue;
        }
        if a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant != 0
        {
            // `t-1`: the old t is the new t shifted back.
            let v = a.terms[0].factors[0].name.clone();
            if is_loop(&v) {
                if let Some(size) = env.index_size(&v) {
                    ranged.push((v.clone(), -a.constant, size));
                }
            }
            consts.insert(v.clone(), -a.constant);
            subst.insert(
                v.clone(),
                Solved {
                    sign: 1,
                    rest: vec![],
                    constant: 0,
                },
            );
            a.constant = 0;
            outputs.push(v);
            continue;
        }
        if a.terms.is_empty() {
            // A fixed position: the left side is already one element.
            continue;
        }
        if a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant == 0
        {
            outputs.push(a.terms[0].factors[0].name.clone());
            continue;
        }
        // `a·v + Σ c·u + k`: solve for an index v with a = ±1 that runs over this
        // dimension's extent.
        let extent = dims.get(k).cloned().unwrap_or_default();
        let pick = a.terms.iter().position(|t| {
            let [f] = t.factors.as_slice() else {
                return false;
            };
            let v = f.name.as_str();
            t.coef.abs() == 1
                && is_loop(v)
                && !env.index_centered(v)
                && env.index_size(v).is_some_and(|s| s == extent)
                && lhs_count.get(v) == Some(&1)
                && read_dims
                    .get(v)
                    .is_none_or(|ds| ds.iter().all(|d| *d == extent))
        });
        let Some(p) = pick else {
            let why = if a
                .terms
                .iter()
                .any(|t| t.coef.abs() != 1 || t.factors.len() != 1)
            {
                "a strided position: no index of the statement runs over it alone with step 1, so each element receives a number of terms that depends on its position (solving it needs divisibility conditions)"
            } else {
                "a position no index of the statement solves one to one (an index over another extent, or read elsewhere at another extent)"
            };
            return keep(format!("`{name}` is written at {why}; it stays a scatter"));
        };
        let out_var = a.terms[p].factors[0].name.clone();
        let sign = a.terms[p].coef;
        let rest: Vec<AffineTerm> = a
            .terms
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != p)
            .map(|(_, t)| AffineTerm {
                coef: -sign * t.coef,
                factors: t.factors.clone(),
            })
            .collect();
        subst.insert(
            out_var.clone(),
            Solved {
                sign,
                rest,
                constant: -sign * a.constant,
            },
        );
        shifted.push(out_var.clone());
        a.terms = vec![AffineTerm {
            coef: 1,
            factors: a.terms[p].factors.clone(),
        }];
        a.constant = 0;
        outputs.push(out_var);
    }
    // Loop indices that are not outputs become summed capitals, when they occur in a
    // factor of the product itself; one that occurs only inside a parenthesized sum
    // gets an explicit `sum_{n}(...)` (a capital there would be summed inside the
    // parentheses only).
    let mut direct = Vec::new();
    direct_vars(&eq.rhs, &mut direct);
    // A solved index read directly brings the indices it was solved with.
    bring_solved(&subst, &mut direct);
    // A capital is summed over its own scope: inside a function's argument or a
    // bracket it would be summed there, and a capital the right side already uses
    // (`tanh(W[DT,C',c] h[b,t+DT,C'])`) would be merged with it. Such indices are
    // summed explicitly, under their own names.
    let mut nested = Vec::new();
    nested_vars(&eq.rhs, false, &mut nested);
    // A loop index read as a value (bare, in a bracket: `[t <= s]`, the causal mask's
    // derivative) has no capital spelling: summed, it is summed explicitly with the
    // references that read it (`sum_{s}(y.grad[b,s] [t <= s])`), and solved or shifted,
    // its value would have to be rewritten as well, so the statement stays a scatter.
    let mut bare = Vec::new();
    bare_vars(&eq.rhs, &mut bare);
    bare.retain(|v| is_loop(v));
    if let Some(v) = bare.iter().find(|v| {
        consts.contains_key(*v)
            || subst
                .get(*v)
                .is_some_and(|s| s.sign != 1 || !s.rest.is_empty() || s.constant != 0)
    }) {
        return keep(format!(
            "`{name}` is written at a shifted position and its right side reads the index `{v}` as a value; it stays a scatter"
        ));
    }
    nested.extend(bare);
    // A solved index read inside a function's argument or a sum brings the indices
    // it was solved with there (`sigmoid(G[c,C''] h[b,t,C''])` read at `t + dt`).
    bring_solved(&subst, &mut nested);
    let mut caps = Vec::new();
    nested_vars(&eq.rhs, true, &mut caps);
    let (summed, explicit): (Vec<&Ident>, Vec<&Ident>) = loop_idx
        .iter()
        .filter(|i| !outputs.contains(&i.name))
        .partition(|i| {
            direct.contains(&i.name)
                && !nested.contains(&i.name)
                && !caps.contains(&i.name.to_uppercase())
        });
    let summed: BTreeMap<String, String> = summed
        .into_iter()
        .map(|i| (i.name.clone(), i.name.to_uppercase()))
        .collect();
    let mut rhs = rewrite_expr(&eq.rhs, &subst, &summed, &consts);
    for (v, c, size) in &ranged {
        if *c > 0 && !border_read(&eq.rhs, v, size, env) {
            rhs = Expr::Binary(
                BinOp::Jux,
                Box::new(rhs),
                Box::new(upper_bracket(v, size, *c)),
                eq.rhs.span(),
            );
        }
    }
    if !explicit.is_empty() {
        rhs = Expr::Sum(
            explicit.into_iter().cloned().collect(),
            Box::new(rhs),
            eq.rhs.span(),
        );
    }
    let new_eq = Equation {
        lhs: new_lhs,
        op: eq.op,
        rhs,
        span: eq.span,
    };
    let mut notes = Vec::new();
    for (v, c) in &consts {
        let target = crate::syntax::printer::print_ref(&new_eq.lhs);
        if let Some((_, _, size)) = ranged.iter().find(|r| r.0 == *v) {
            // A statement index, not a loop's: no iteration runs earlier; the positions
            // past the last one the scatter form wrote get nothing.
            notes.push(format!(
                "`{target}`: the statement index is shifted ({v} here stands for {v}{:+} of the scatter form); the scatter form writes no position above {size} - {}, so the gather form adds nothing there",
                -c,
                c + 1
            ));
        } else {
            notes.push(format!(
                "`{target}`: the recurrence index is shifted ({v} here stands for {v}{:+} of the scatter form, so it runs one step earlier)",
                -c
            ));
        }
    }
    if !shifted.is_empty() {
        let rule = match boundary {
            Some(Boundary::Zero) => {
                "terms whose shifted reads fall outside the extent are zero (zero padding)"
            }
            Some(Boundary::Circular) => "shifted reads wrap around (circular padding)",
            Some(Boundary::Valid) => {
                "only terms whose shifted reads lie inside the extent are summed (valid ranges)"
            }
            None => "shifted reads must stay inside the extent",
        };
        let reads: Vec<String> = shifted
            .iter()
            .map(|v| solved_text(v, &subst[v], &summed))
            .collect();
        notes.push(format!(
            "`{}` reads {} for every summed offset; {rule}",
            crate::syntax::printer::print_ref(&new_eq.lhs),
            reads.join(", ")
        ));
    }
    Gathered {
        item: Item {
            kind: ItemKind::Equation(new_eq),
            span: original.span,
        },
        notes,
        recurrence: consts
            .iter()
            .find(|(v, _)| !ranged.iter().any(|r| r.0 == **v))
            .map(|(v, c)| (v.clone(), *c)),
    }
}

/// `x − DX`, `t + 2DT`, `−x + DX − 1`: what a solved index stands for, as a reader sees it.
fn solved_text(v: &str, sol: &Solved, summed: &BTreeMap<String, String>) -> String {
    let mut s = if sol.sign < 0 {
        format!("−{v}")
    } else {
        v.to_string()
    };
    for t in &sol.rest {
        let names: Vec<String> = t
            .factors
            .iter()
            .map(|f| {
                summed
                    .get(&f.name)
                    .cloned()
                    .unwrap_or_else(|| f.name.clone())
            })
            .collect();
        let mag = t.coef.unsigned_abs();
        let body = if mag == 1 {
            names.join("*")
        } else {
            format!("{mag}{}", names.join("*"))
        };
        s.push_str(if t.coef < 0 { " − " } else { " + " });
        s.push_str(&body);
    }
    if sol.constant != 0 {
        s.push_str(if sol.constant < 0 { " − " } else { " + " });
        s.push_str(&sol.constant.unsigned_abs().to_string());
    }
    s
}

/// The extents (size names) at which each index variable is read on the right side.
fn rhs_index_dims(e: &Expr, env: &Env, out: &mut BTreeMap<String, Vec<String>>) {
    let mut visit = |r: &Ref| {
        if r.indices.is_none() && r.name.sub.is_empty() && !r.grad {
            // An index used as a number.
            out.entry(r.name.base.clone())
                .or_default()
                .push("#value".into());
        }
        let dims = env
            .tensor_of(&r.name)
            .map(|t| t.dims.clone())
            .unwrap_or_default();
        for (k, ix) in r.indices.iter().flatten().enumerate() {
            let d = dims.get(k).cloned().unwrap_or_else(|| "?".into());
            match ix {
                IndexExpr::Affine(a) => {
                    for t in &a.terms {
                        for f in &t.factors {
                            out.entry(f.name.clone()).or_default().push(d.clone());
                        }
                    }
                }
                IndexExpr::Lookup(inner) => {
                    // An index inside a lookup is read at the looked-up tensor's extents.
                    rhs_index_dims(&Expr::Ref((**inner).clone()), env, out);
                }
            }
        }
        for ix in &r.name.sub {
            if let IndexExpr::Affine(a) = ix {
                for t in &a.terms {
                    for f in &t.factors {
                        out.entry(f.name.clone())
                            .or_default()
                            .push("#subscript".into());
                    }
                }
            }
        }
    };
    walk_operand_refs(e, &mut visit);
}

/// The index variables of a reference's affine positions (not those of its lookups).
fn affine_vars(r: &Ref, out: &mut Vec<String>) {
    for ix in r.indices.iter().flatten() {
        if let IndexExpr::Affine(a) = ix {
            out.extend(
                a.terms
                    .iter()
                    .flat_map(|t| t.factors.iter())
                    .map(|f| f.name.clone()),
            );
        }
    }
}

/// Index variables read inside a function's argument, a bracket, an explicit sum or a
/// softmax (`all`: every index variable of the expression).
fn nested_vars(e: &Expr, all: bool, out: &mut Vec<String>) {
    let inner =
        |x: &Expr, out: &mut Vec<String>| walk_operand_refs(x, &mut |r: &Ref| affine_vars(r, out));
    if all {
        inner(e, out);
        return;
    }
    // Signs, operators and relations are walked through; what is below a call, a
    // bracket, a sum or a softmax counts as nested.
    walk_expr(e, |x| match x {
        Expr::Call(_) | Expr::Iverson(..) | Expr::Sum(..) | Expr::Softmax(..) => {
            children(x).for_each(|a| inner(a, out));
            false
        }
        _ => true,
    });
}

/// The index names read as values: references without positions (`t` in `[t <= s]`),
/// printed as the loop lists them (`t'`).
fn bare_vars(e: &Expr, out: &mut Vec<String>) {
    walk_operand_refs(e, &mut |r: &Ref| {
        if r.indices.is_none() && !r.grad && r.name.sub.is_empty() && r.name.sup.is_empty() {
            out.push(crate::syntax::printer::print_name(&r.name));
        }
    });
}

/// Every solved index among `vars` brings the indices it was solved with (in `subst`'s
/// order, so an index brought in by an earlier one brings its own too).
fn bring_solved(subst: &Subst, vars: &mut Vec<String>) {
    for (v, sol) in subst {
        if vars.contains(v) {
            for t in &sol.rest {
                vars.extend(t.factors.iter().map(|f| f.name.clone()));
            }
        }
    }
}

/// Index variables of the references that are factors of the product itself (not
/// inside a parenthesized sum or a function argument).
fn direct_vars(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(r) => affine_vars(r, out),
        Expr::Unary(_, x, _) => direct_vars(x, out),
        Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div | BinOp::Pow, l, r, _) => {
            direct_vars(l, out);
            direct_vars(r, out);
        }
        _ => {}
    }
}

/// The item with every occurrence of the index variable `var` replaced by `val`.
fn fix_var_item(item: &Item, var: &str, val: i64) -> Item {
    let mut item = item.clone();
    if let ItemKind::Equation(eq) = &mut item.kind {
        fix_ref(&mut eq.lhs, var, val);
        fix_expr(&mut eq.rhs, var, val);
    }
    item
}

fn fix_ref(r: &mut Ref, var: &str, val: i64) {
    for ix in r.indices.iter_mut().flatten().chain(r.name.sub.iter_mut()) {
        match ix {
            IndexExpr::Affine(a) => {
                for t in &a.terms {
                    if t.factors.len() == 1 && t.factors[0].name == var {
                        a.constant += t.coef * val;
                    }
                }
                a.terms
                    .retain(|t| !(t.factors.len() == 1 && t.factors[0].name == var));
            }
            IndexExpr::Lookup(r) => fix_ref(r, var, val),
        }
    }
}

fn fix_expr(e: &mut Expr, var: &str, val: i64) {
    match e {
        Expr::Ref(r) => fix_ref(r, var, val),
        Expr::Deriv(a, b, _) => {
            fix_ref(a, var, val);
            fix_ref(b, var, val);
        }
        _ => children_mut(e).for_each(|x| fix_expr(x, var, val)),
    }
}

fn rewrite_index(
    ix: &IndexExpr,
    subst: &Subst,
    summed: &BTreeMap<String, String>,
    consts: &BTreeMap<String, i64>,
) -> IndexExpr {
    match ix {
        IndexExpr::Lookup(r) => IndexExpr::Lookup(Box::new(rewrite_ref(r, subst, summed, consts))),
        IndexExpr::Affine(a) => {
            let mut terms: Vec<AffineTerm> = Vec::new();
            let mut constant = a.constant;
            for t in &a.terms {
                if t.factors.len() == 1 {
                    if let Some(c) = consts.get(&t.factors[0].name) {
                        constant += t.coef * c;
                    }
                }
            }
            let mut extra: Vec<AffineTerm> = Vec::new();
            for t in &a.terms {
                let mut push = |coef: i64, name: &str, template: &Ident| {
                    let name = summed
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| name.to_string());
                    if let Some(existing) = terms
                        .iter_mut()
                        .find(|x| x.factors.len() == 1 && x.factors[0].name == name)
                    {
                        existing.coef += coef;
                    } else {
                        terms.push(AffineTerm {
                            coef,
                            factors: vec![Ident {
                                name,
                                span: template.span,
                            }],
                        });
                    }
                };
                if t.factors.len() == 1 {
                    let f = &t.factors[0];
                    if let Some(sol) = subst.get(&f.name) {
                        push(t.coef * sol.sign, &f.name, f);
                        for r in &sol.rest {
                            if let [g] = r.factors.as_slice() {
                                push(t.coef * r.coef, &g.name, g);
                            } else {
                                let mut r = r.clone();
                                r.coef *= t.coef;
                                for g in &mut r.factors {
                                    if let Some(n) = summed.get(&g.name) {
                                        g.name = n.clone();
                                    }
                                }
                                extra.push(r);
                            }
                        }
                        constant += t.coef * sol.constant;
                        continue;
                    }
                    push(t.coef, &f.name, f);
                } else {
                    let mut t = t.clone();
                    for f in &mut t.factors {
                        if let Some(n) = summed.get(&f.name) {
                            f.name = n.clone();
                        }
                    }
                    terms.push(t);
                }
            }
            terms.extend(extra);
            terms.retain(|t| t.coef != 0);
            IndexExpr::Affine(Affine {
                terms,
                constant,
                span: a.span,
            })
        }
    }
}

fn rewrite_ref(
    r: &Ref,
    subst: &Subst,
    summed: &BTreeMap<String, String>,
    consts: &BTreeMap<String, i64>,
) -> Ref {
    let mut r = r.clone();
    if let Some(idx) = &mut r.indices {
        for ix in idx.iter_mut() {
            *ix = rewrite_index(ix, subst, summed, consts);
        }
    }
    for ix in r.name.sub.iter_mut() {
        *ix = rewrite_index(ix, &BTreeMap::new(), &BTreeMap::new(), consts);
    }
    r
}

fn rewrite_expr(
    e: &Expr,
    subst: &Subst,
    summed: &BTreeMap<String, String>,
    consts: &BTreeMap<String, i64>,
) -> Expr {
    match e {
        Expr::Ref(r) => Expr::Ref(rewrite_ref(r, subst, summed, consts)),
        // An explicit sum or a softmax binds its own indices; every other index inside
        // is the statement's and is rewritten like anywhere else (`sum_{dt'}(W[dt',c]
        // h[b,t-dt',c])` read at the solved `t + dt`).
        Expr::Sum(vars, x, s) => {
            let (subst, summed, consts) = unbound(vars, subst, summed, consts);
            Expr::Sum(
                vars.clone(),
                Box::new(rewrite_expr(x, &subst, &summed, &consts)),
                *s,
            )
        }
        Expr::Softmax(v, x, s) => {
            let (subst, summed, consts) = unbound(std::slice::from_ref(v), subst, summed, consts);
            Expr::Softmax(
                v.clone(),
                Box::new(rewrite_expr(x, &subst, &summed, &consts)),
                *s,
            )
        }
        Expr::Deriv(..) => e.clone(),
        _ => map_children(e, |x| rewrite_expr(x, subst, summed, consts)),
    }
}

/// The rewriting maps without the indices a sum or a softmax binds.
fn unbound(
    vars: &[Ident],
    subst: &Subst,
    summed: &BTreeMap<String, String>,
    consts: &BTreeMap<String, i64>,
) -> (Subst, BTreeMap<String, String>, BTreeMap<String, i64>) {
    let free = |k: &String| !vars.iter().any(|v| &v.name == k);
    (
        subst
            .iter()
            .filter(|(k, _)| free(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        summed
            .iter()
            .filter(|(k, _)| free(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        consts
            .iter()
            .filter(|(k, _)| free(k))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
    )
}

/// Whether a factor of the product `e` reads the statement index `v` alone, at an
/// offset `d >= 0`, in a dimension of its own extent `size`, under zero padding or valid
/// ranges: rewritten to `v + c + d`, that read falls outside wherever the old index
/// `v + c` does, so it is zero there and the gather form needs no range of its own.
fn border_read(e: &Expr, v: &str, size: &str, env: &Env) -> bool {
    if !matches!(env.boundary, Some(Boundary::Zero | Boundary::Valid)) {
        return false;
    }
    match e {
        Expr::Ref(r) => {
            let dims = env
                .tensor_of(&r.name)
                .map(|t| t.dims.clone())
                .unwrap_or_default();
            r.indices.iter().flatten().enumerate().any(|(k, ix)| {
                matches!(ix, IndexExpr::Affine(a)
                    if a.terms.len() == 1
                        && a.terms[0].coef == 1
                        && a.terms[0].factors.len() == 1
                        && a.terms[0].factors[0].name == v
                        && a.constant >= 0
                        && dims.get(k).is_some_and(|d| d == size))
            })
        }
        Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            border_read(l, v, size, env) || border_read(r, v, size, env)
        }
        Expr::Binary(BinOp::Div, l, _, _) => border_read(l, v, size, env),
        Expr::Unary(UnOp::Neg, x, _) => border_read(x, v, size, env),
        _ => false,
    }
}

/// `[v <= SIZE - 1 - c]`: the positions at which the old index `v + c` is inside.
fn upper_bracket(v: &str, size: &str, c: i64) -> Expr {
    let sp = crate::syntax::span::Span::default();
    let var = |n: &str| Expr::Ref(Ref::plain(n, sp));
    Expr::Iverson(
        Box::new(Expr::Rel(
            RelOp::Le,
            Box::new(var(v)),
            Box::new(Expr::Binary(
                BinOp::Sub,
                Box::new(var(size)),
                Box::new(Expr::Num((c + 1).to_string(), sp)),
                sp,
            )),
            sp,
        )),
        sp,
    )
}
