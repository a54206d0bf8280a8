//! The gather form: every scatter statement `A.grad[x+dx] += ...` rewritten so that
//! its left side is one plain element `A.grad[x]`, the shifted reads solved for
//! (`x - DX`) and the remaining loop indices summed (capitals). Strides and lookups
//! cannot be solved this way; those statements stay in scatter form, with a note.

use crate::syntax::ast::*;
use std::collections::BTreeMap;

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
pub fn gather_form(items: &[Item], boundary: Option<Boundary>) -> Vec<Gathered> {
    let mut out = Vec::new();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let body = gather_form(&l.body, boundary);
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
                    out.push(solve(eq, &f.indices, it, boundary));
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

fn solve(
    eq: &Equation,
    loop_idx: &[Ident],
    original: &Item,
    boundary: Option<Boundary>,
) -> Gathered {
    let keep = |why: String| Gathered {
        item: original.clone(),
        notes: vec![why],
        recurrence: None,
    };
    let name = crate::syntax::printer::print_ref(&eq.lhs);
    // For each left position: the output variable and what the old variables become.
    let mut subst: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    let mut new_lhs = eq.lhs.clone();
    let mut outputs: Vec<String> = Vec::new();
    let mut shifted: Vec<String> = Vec::new();
    let mut consts: BTreeMap<String, i64> = BTreeMap::new();
    for ix in new_lhs.indices.iter_mut().flatten() {
        let IndexExpr::Affine(a) = ix else {
            return keep(format!("`{name}` is written through a lookup; it stays a scatter (rows of the lookup table accumulate)"));
        };
        if a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
            && a.constant != 0
        {
            // `t-1`: the old t is the new t shifted back.
            let v = a.terms[0].factors[0].name.clone();
            consts.insert(v.clone(), -a.constant);
            subst.insert(v.clone(), vec![]);
            a.constant = 0;
            outputs.push(v);
            continue;
        }
        if a.constant != 0 || a.terms.iter().any(|t| t.coef != 1 || t.factors.len() != 1) {
            return keep(format!(
                "`{name}` is written at a strided or constant position; it stays a scatter (solving it needs divisibility conditions)"
            ));
        }
        let vars: Vec<String> = a.terms.iter().map(|t| t.factors[0].name.clone()).collect();
        let Some(out_var) = vars.first().cloned() else {
            continue;
        };
        if vars.len() > 1 {
            // out = v0 + v1 + ...  ⇒  v0 = out − v1 − ...
            let rest: Vec<(i64, String)> = vars[1..].iter().map(|v| (-1, v.clone())).collect();
            subst.insert(out_var.clone(), rest);
            shifted.push(out_var.clone());
            a.terms.truncate(1);
        }
        outputs.push(out_var);
    }
    // Loop indices that are not outputs become summed capitals, when they occur in a
    // factor of the product itself; one that occurs only inside a parenthesized sum
    // gets an explicit `sum_{n}(...)` (a capital there would be summed inside the
    // parentheses only).
    let mut direct = Vec::new();
    direct_vars(&eq.rhs, &mut direct);
    let (summed, explicit): (Vec<&Ident>, Vec<&Ident>) = loop_idx
        .iter()
        .filter(|i| !outputs.contains(&i.name))
        .partition(|i| direct.contains(&i.name));
    let summed: BTreeMap<String, String> = summed
        .into_iter()
        .map(|i| (i.name.clone(), i.name.to_uppercase()))
        .collect();
    let mut rhs = rewrite_expr(&eq.rhs, &subst, &summed, &consts);
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
        notes.push(format!(
            "`{}`: the recurrence index is shifted ({v} here stands for {v}{:+} of the scatter form, so it runs one step earlier)",
            crate::syntax::printer::print_ref(&new_eq.lhs),
            -c
        ));
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
            .map(|v| {
                let offs: Vec<String> = subst[v].iter().map(|(_, s)| s.to_uppercase()).collect();
                format!("{v} − {}", offs.join(" − "))
            })
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
        recurrence: consts.iter().next().map(|(v, c)| (v.clone(), *c)),
    }
}

/// Index variables of the references that are factors of the product itself (not
/// inside a parenthesized sum or a function argument).
fn direct_vars(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(r) => {
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
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Sum(_, x, _)
        | Expr::Softmax(_, x, _) => fix_expr(x, var, val),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
            fix_expr(l, var, val);
            fix_expr(r, var, val);
        }
        Expr::Call(c) => c.args.iter_mut().for_each(|a| fix_expr(a, var, val)),
        Expr::Deriv(a, b, _) => {
            fix_ref(a, var, val);
            fix_ref(b, var, val);
        }
        Expr::Num(..) => {}
    }
}

fn rewrite_index(
    ix: &IndexExpr,
    subst: &BTreeMap<String, Vec<(i64, String)>>,
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
                    if let Some(rest) = subst.get(&f.name) {
                        push(t.coef, &f.name, f);
                        for (c, v) in rest {
                            push(t.coef * c, v, f);
                        }
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
    subst: &BTreeMap<String, Vec<(i64, String)>>,
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
    subst: &BTreeMap<String, Vec<(i64, String)>>,
    summed: &BTreeMap<String, String>,
    consts: &BTreeMap<String, i64>,
) -> Expr {
    match e {
        Expr::Ref(r) => Expr::Ref(rewrite_ref(r, subst, summed, consts)),
        Expr::Unary(op, x, s) => {
            Expr::Unary(*op, Box::new(rewrite_expr(x, subst, summed, consts)), *s)
        }
        Expr::Binary(op, l, r, s) => Expr::Binary(
            *op,
            Box::new(rewrite_expr(l, subst, summed, consts)),
            Box::new(rewrite_expr(r, subst, summed, consts)),
            *s,
        ),
        Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c
                .args
                .iter()
                .map(|a| rewrite_expr(a, subst, summed, consts))
                .collect();
            Expr::Call(c)
        }
        Expr::Iverson(x, s) => Expr::Iverson(Box::new(rewrite_expr(x, subst, summed, consts)), *s),
        Expr::Rel(op, l, r, s) => Expr::Rel(
            *op,
            Box::new(rewrite_expr(l, subst, summed, consts)),
            Box::new(rewrite_expr(r, subst, summed, consts)),
            *s,
        ),
        other => other.clone(),
    }
}
