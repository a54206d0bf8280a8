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
}

/// Rewrites backward items into gather form (loops kept, statements solved).
pub fn gather_form(items: &[Item], boundary: Option<Boundary>) -> Vec<Gathered> {
    let mut out = Vec::new();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let body = gather_form(&l.body, boundary);
                let mut notes = Vec::new();
                let body_items = body
                    .into_iter()
                    .map(|g| {
                        notes.extend(g.notes);
                        g.item
                    })
                    .collect();
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
                });
            }
            ItemKind::ForIndices(f) if f.body.len() == 1 => {
                if let ItemKind::Equation(eq) = &f.body[0].kind {
                    out.push(solve(eq, &f.indices, it, boundary));
                } else {
                    out.push(Gathered {
                        item: it.clone(),
                        notes: vec![],
                    });
                }
            }
            _ => out.push(Gathered {
                item: it.clone(),
                notes: vec![],
            }),
        }
    }
    out
}

fn solve(eq: &Equation, loop_idx: &[Ident], original: &Item, boundary: Option<Boundary>) -> Gathered {
    let keep = |why: String| Gathered {
        item: original.clone(),
        notes: vec![why],
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
        if a.terms.len() == 1 && a.terms[0].coef == 1 && a.terms[0].factors.len() == 1 && a.constant != 0 {
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
    // Loop indices that are not outputs become summed capitals.
    let summed: BTreeMap<String, String> = loop_idx
        .iter()
        .filter(|i| !outputs.contains(&i.name))
        .map(|i| (i.name.clone(), i.name.to_uppercase()))
        .collect();
    let rhs = rewrite_expr(&eq.rhs, &subst, &summed, &consts);
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
            Some(Boundary::Zero) => "terms whose shifted reads fall outside the extent are zero (zero padding)",
            Some(Boundary::Circular) => "shifted reads wrap around (circular padding)",
            Some(Boundary::Valid) => "only terms whose shifted reads lie inside the extent are summed (valid ranges)",
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
                    let name = summed.get(name).cloned().unwrap_or_else(|| name.to_string());
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
        Expr::Unary(op, x, s) => Expr::Unary(*op, Box::new(rewrite_expr(x, subst, summed, consts)), *s),
        Expr::Binary(op, l, r, s) => Expr::Binary(
            *op,
            Box::new(rewrite_expr(l, subst, summed, consts)),
            Box::new(rewrite_expr(r, subst, summed, consts)),
            *s,
        ),
        Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c.args.iter().map(|a| rewrite_expr(a, subst, summed, consts)).collect();
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
