//! A claim about a family member that no statement defines (E0506).
//!
//! With `for l in 1..L: h_l[j] = ...` and the start `h_0`, the members are h_0 and
//! h_1..h_L. A claim about `h_{L+2}` or `h_{-5}` is about nothing, yet the moments
//! engine's closed form in `l` happily "proves" it. A subscript whose distance to every
//! defining range is a constant of the wrong sign (an affine form in the same sizes), and
//! that is no constant start, is reported; a subscript tq cannot place is left alone.

use super::members::Form;
use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::BTreeMap;

/// `a − b` when it is a constant.
fn constant_gap(a: &Form, b: &Form) -> Option<i64> {
    (a.terms == b.terms).then(|| a.constant - b.constant)
}

/// `v + c` for the loop variable `v`: `b + c` for each end `b` of its range.
fn shifted(f: &Form, v: &str, lo: &Form, hi: &Form) -> Option<(Form, Form)> {
    (f.terms.len() == 1 && f.coef(v) == 1).then(|| {
        let shift = |b: &Form| Form {
            terms: b.terms.clone(),
            constant: b.constant + f.constant,
        };
        (shift(lo), shift(hi))
    })
}

/// Where a family's members are defined: ranges `lo..=hi` and constant starts. `None`
/// when a definition is of a shape this check does not place.
#[derive(Default)]
struct Members {
    ranges: Vec<(Form, Form)>,
    starts: Vec<Form>,
    unplaced: bool,
}

fn collect(
    items: &[Item],
    loop_var: Option<(&str, &Form, &Form)>,
    out: &mut BTreeMap<String, Members>,
) {
    let sub_form = |n: &Name| -> Option<Form> {
        match n.sub.as_slice() {
            [IndexExpr::Affine(a)] => Form::of_affine(a),
            _ => None,
        }
    };
    let member = |n: &Name, out: &mut BTreeMap<String, Members>| {
        if n.sub.is_empty() {
            return;
        }
        let m = out.entry(super::family_key(n)).or_default();
        let Some(f) = sub_form(n) else {
            m.unplaced = true;
            return;
        };
        match loop_var {
            Some((v, lo, hi)) if f.coef(v) != 0 => match shifted(&f, v, lo, hi) {
                Some(range) => m.ranges.push(range),
                None => m.unplaced = true,
            },
            _ if f.is_constant() => m.starts.push(f),
            _ => m.unplaced = true,
        }
    };
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => member(&eq.lhs.name, out),
            ItemKind::Decl(d) => match &d.family {
                Some(r) => match (Form::of_expr(&r.from), Form::of_expr(&r.to)) {
                    (Some(lo), Some(hi)) => {
                        collect_decl(&d.target.name, &r.var.name, &lo, &hi, out)
                    }
                    _ => {
                        out.entry(super::family_key(&d.target.name))
                            .or_default()
                            .unplaced = true
                    }
                },
                None => member(&d.target.name, out),
            },
            ItemKind::Loop(l) => match (Form::of_expr(&l.range.from), Form::of_expr(&l.range.to)) {
                (Some(lo), Some(hi)) => collect(&l.body, Some((&l.range.var.name, &lo, &hi)), out),
                _ => {
                    let mut inner = BTreeMap::new();
                    collect(&l.body, None, &mut inner);
                    for k in inner.into_keys() {
                        out.entry(k).or_default().unplaced = true;
                    }
                }
            },
            ItemKind::ForIndices(f) => collect(&f.body, loop_var, out),
            _ => {}
        }
    }
}

fn collect_decl(n: &Name, var: &str, lo: &Form, hi: &Form, out: &mut BTreeMap<String, Members>) {
    let m = out.entry(super::family_key(n)).or_default();
    let range = match n.sub.as_slice() {
        [IndexExpr::Affine(a)] => Form::of_affine(a).and_then(|f| shifted(&f, var, lo, hi)),
        _ => None,
    };
    match range {
        Some(range) => m.ranges.push(range),
        None => m.unplaced = true,
    }
}

/// E0506 for every family member a claim names that lies outside every defining range
/// (by a constant, whatever the sizes) and is no start.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut families = BTreeMap::new();
    collect(&program.items, None, &mut families);
    for item in &program.items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        let mut refs = Vec::new();
        crate::syntax::visit::walk_refs(&c.body, &mut |r| refs.push(r));
        for r in refs {
            let key = super::family_key(&r.name);
            let Some(m) = families.get(&key) else {
                continue;
            };
            if m.unplaced || (m.ranges.is_empty() && m.starts.is_empty()) {
                continue;
            }
            if env.tensors.get(&key).is_none_or(|t| t.family_arity != 1) {
                continue;
            }
            let [IndexExpr::Affine(a)] = r.name.sub.as_slice() else {
                continue;
            };
            let Some(f) = Form::of_affine(a).filter(|f| f.terms.keys().all(|m| m.len() == 1))
            else {
                continue;
            };
            let is_start = m.starts.iter().any(|s| constant_gap(&f, s) == Some(0));
            let outside = m.ranges.iter().all(|(lo, hi)| {
                constant_gap(lo, &f).is_some_and(|g| g > 0)
                    || constant_gap(&f, hi).is_some_and(|g| g > 0)
            });
            if is_start || !outside {
                continue;
            }
            let defined: Vec<String> = m
                .starts
                .iter()
                .map(|s| format!("{}_{}", key, s.constant))
                .chain(
                    m.ranges
                        .iter()
                        .map(|(lo, hi)| format!("{}_{} to {}_{}", key, show(lo), key, show(hi))),
                )
                .collect();
            diags.push(
                Diagnostic::error(
                    "E0506",
                    r.name.span,
                    format!(
                        "the claim names `{}`, a member of `{}` that no statement defines",
                        print_name(&r.name),
                        key
                    ),
                )
                .with_hint(format!(
                    "the members of `{}` are {}: name one of them (or the family variable, `{}_l`)",
                    key,
                    defined.join(" and "),
                    key
                )),
            );
        }
    }
}

fn show(f: &Form) -> String {
    let mut parts: Vec<String> = f
        .terms
        .iter()
        .map(|(m, c)| {
            let k = m.join("*");
            match c {
                1 => k,
                -1 => format!("-{k}"),
                c => format!("{c}{k}"),
            }
        })
        .collect();
    if f.constant != 0 || parts.is_empty() {
        parts.push(f.constant.to_string());
    }
    let s = parts.join("+").replace("+-", "-");
    if s.len() > 1 && !s.chars().all(|c| c.is_ascii_digit()) {
        format!("{{{s}}}")
    } else {
        s
    }
}
