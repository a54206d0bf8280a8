//! A claim about a family member that no statement defines (E0506).
//!
//! With `for l in 1..L: h_l[j] = ...` and the start `h_0`, the members are h_0 and
//! h_1..h_L. A claim about `h_{L+2}` or `h_{-5}` is about nothing, yet the moments
//! engine's closed form in `l` happily "proves" it. A subscript whose distance to every
//! defining range is a constant of the wrong sign (an affine form in the same sizes), and
//! that is no constant start, is reported; a subscript tq cannot place is left alone.

use super::member_sizes as sizes;
use super::members::Form;
use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_name;
use std::collections::BTreeMap;

/// `a − b` when it is a constant.
pub(super) fn constant_gap(a: &Form, b: &Form) -> Option<i64> {
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
pub(super) struct Members {
    pub(super) ranges: Vec<(Form, Form)>,
    /// The ranges that declarations give (`param W_l ... for l in 1..L`): the members a
    /// write (`+=`) may add to.
    declared: Vec<(Form, Form)>,
    pub(super) starts: Vec<Form>,
    /// Starts named by a size (`input g_L` before `for l in 1..L-1 reversed`): placed
    /// only by the check at the claim's sizes ([`missing_at_claim_sizes`]).
    pub(super) sized_starts: Vec<Form>,
    pub(super) unplaced: bool,
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
            None => m.sized_starts.push(f),
            _ => m.unplaced = true,
        }
    };
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => member(&eq.lhs.name, out),
            // A `grad` declaration names a member; it defines none.
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => {}
            ItemKind::Decl(d) => match &d.family {
                // A family whose range runs backwards (E0410) places nothing, as a loop's.
                Some(r) => match (Form::of_expr(&r.from), Form::of_expr(&r.to)) {
                    (Some(lo), Some(hi)) if Form::backwards(&r.from, &r.to, |_| true).is_none() => {
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
            // A loop whose range runs backwards (E0410) places nothing: the members it
            // would define are not compared with the claims' (E0506 was a consequence).
            // Any name counts as a size here: marking members unplaced only keeps quiet.
            ItemKind::Loop(l) => match (Form::of_expr(&l.range.from), Form::of_expr(&l.range.to)) {
                (Some(lo), Some(hi))
                    if Form::backwards(&l.range.from, &l.range.to, |_| true).is_none() =>
                {
                    collect(&l.body, Some((&l.range.var.name, &lo, &hi)), out)
                }
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
        Some(range) => {
            m.declared.push(range.clone());
            m.ranges.push(range)
        }
        None => m.unplaced = true,
    }
}

/// E0506 for every family member a claim names that lies outside every defining range
/// (by a constant, whatever the sizes) and is no start.
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) {
    let mut families = BTreeMap::new();
    collect(&program.items, None, &mut families);
    loop_reads(&program.items, None, &families, env, diags);
    writes_past_use(&program.items, &families, env, diags);
    let sample = sizes::sample_values(program, env);
    for item in &program.items {
        let ItemKind::Claim(c) = &item.kind else {
            continue;
        };
        let mut refs = Vec::new();
        crate::syntax::visit::walk_refs(&c.body, &mut |r| refs.push(r));
        for r in refs {
            if let Some(d) = sizes::missing_at_claim_sizes(r, c, &families, &sample, env) {
                diags.push(d);
                continue;
            }
            let Some((key, m, f)) = placed(r, &families, env) else {
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
            let defined = members_text(&key, m);
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
                    key, defined, key
                )),
            );
        }
    }
}

/// The members of every family whose definitions this check places (one subscript, in
/// ranges `v + c` of a loop or a declaration, or constant starts): the least member and
/// the last (docs/soundness.md, "Family variables").
pub fn spans(program: &Program, env: &Env) -> BTreeMap<String, super::FamilySpan> {
    let mut families = BTreeMap::new();
    collect(&program.items, None, &mut families);
    families
        .into_iter()
        .filter(|(key, m)| {
            !m.unplaced
                && m.sized_starts.is_empty()
                && (!m.ranges.is_empty() || !m.starts.is_empty())
                && env.tensors.get(key).is_some_and(|t| t.family_arity == 1)
        })
        .map(|(key, m)| (key, span_of(&m, env)))
        .collect()
}

fn span_of(m: &Members, env: &Env) -> super::FamilySpan {
    let first = m
        .ranges
        .iter()
        .map(|(lo, _)| lo)
        .chain(&m.starts)
        .map(|f| f.is_constant().then_some(f.constant))
        .collect::<Option<Vec<i64>>>()
        .and_then(|v| v.into_iter().min());
    let (numbers, forms): (Vec<&Form>, Vec<&Form>) = m
        .ranges
        .iter()
        .map(|(_, hi)| hi)
        .chain(&m.starts)
        .partition(|f| f.is_constant());
    let last = match forms.first() {
        None => numbers
            .iter()
            .map(|f| f.constant)
            .max()
            .map(crate::sym::Expr::int),
        // One form in the sizes (positive coefficients: at least their sum plus the
        // constant at every size), the largest constant; a number at or below its least
        // value lies below it.
        Some(top) => {
            let sizes_only = top
                .terms
                .iter()
                .all(|(names, coef)| *coef > 0 && names.iter().all(|n| env.sizes.contains_key(n)));
            let same = forms.iter().all(|f| f.terms == top.terms);
            let c = forms
                .iter()
                .map(|f| f.constant)
                .max()
                .unwrap_or(top.constant);
            let least = top.terms.values().sum::<i64>().saturating_add(c);
            (sizes_only && same && numbers.iter().all(|n| n.constant <= least)).then(|| {
                top.terms
                    .iter()
                    .fold(crate::sym::Expr::int(c), |acc, (names, coef)| {
                        acc + names.iter().fold(crate::sym::Expr::int(*coef), |p, n| {
                            p * crate::sym::Expr::sym(n)
                        })
                    })
            })
        }
    };
    super::FamilySpan { first, last }
}

/// The family of a member reference this check can place: one subscript, one family
/// variable, members in ranges or starts all placed.
fn placed<'m>(
    r: &Ref,
    families: &'m BTreeMap<String, Members>,
    env: &Env,
) -> Option<(String, &'m Members, Form)> {
    let key = super::family_key(&r.name);
    let m = families.get(&key)?;
    if m.unplaced || !m.sized_starts.is_empty() || (m.ranges.is_empty() && m.starts.is_empty()) {
        return None;
    }
    if env.tensors.get(&key).is_none_or(|t| t.family_arity != 1) {
        return None;
    }
    let [IndexExpr::Affine(a)] = r.name.sub.as_slice() else {
        return None;
    };
    let f = Form::of_affine(a).filter(|f| f.terms.keys().all(|m| m.len() == 1))?;
    Some((key, m, f))
}

/// How far `e` lies past the last members of `m`: `Some(k)`, k > 0, when it lies above
/// every range by a constant (k the nearest) and is no start.
fn past_the_last(m: &Members, e: &Form) -> Option<i64> {
    if m.starts.iter().any(|s| constant_gap(e, s) == Some(0)) {
        return None;
    }
    m.ranges
        .iter()
        .map(|(_, hi)| constant_gap(e, hi).filter(|g| *g > 0))
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .min()
}

/// How far `e` lies before the first members of `m`: `Some(k)`, k > 0, when it lies
/// below every range by a constant (k the nearest) and is no start.
fn before_the_first(m: &Members, e: &Form) -> Option<i64> {
    if m.starts.iter().any(|s| constant_gap(e, s) == Some(0)) {
        return None;
    }
    m.ranges
        .iter()
        .map(|(lo, _)| lo)
        .chain(&m.starts)
        .map(|first| constant_gap(first, e).filter(|g| *g > 0))
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .min()
}

/// Where a loop's reference to a family member falls outside the members: past the
/// last at the loop's last value, or before the first at its first value.
enum Outside {
    Past(i64),
    Before(i64),
}

/// E0802: a loop `for v in lo..hi` whose statements read a family member `T_{v+c}` past
/// the last members that exist at the last value of `v`, by a constant whatever the
/// sizes (`W_{l+1}` in `for l in 0..L` beside `param W_l ... for l in 1..L` reads
/// `W_{L+1}`), or before the first at the first value of `v` (`W_l` in `for l in
/// 0..L-1` reads `W_0`), or that writes (`+=`) a member of a declared family outside
/// its declared range: the loop's range (or the subscript) is off by that constant. A
/// read before the first member of a computed family without a start is E0401's.
fn loop_reads(
    items: &[Item],
    lp: Option<(&Loop, &Form, &Form)>,
    families: &BTreeMap<String, Members>,
    env: &Env,
    diags: &mut Vec<Diagnostic>,
) {
    for item in items {
        match &item.kind {
            // A loop whose range runs backwards is E0410's (its reads are consequences).
            ItemKind::Loop(l)
                if Form::backwards(&l.range.from, &l.range.to, |n| env.sizes.contains_key(n))
                    .is_some() => {}
            ItemKind::Loop(l) => {
                if let (Some(lo), Some(hi)) =
                    (Form::of_expr(&l.range.from), Form::of_expr(&l.range.to))
                {
                    loop_reads(&l.body, Some((l, &lo, &hi)), families, env, diags);
                }
            }
            ItemKind::ForIndices(f) => loop_reads(&f.body, lp, families, env, diags),
            ItemKind::Equation(eq) => {
                let Some((l, lo, hi)) = lp else { continue };
                let mut refs = Vec::new();
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| refs.push((r, false)));
                refs.push((&eq.lhs, true));
                for (r, write) in refs {
                    if let Some(d) = outside_member(r, write, l, lo, hi, families, env) {
                        diags.push(d);
                    }
                }
            }
            _ => {}
        }
    }
}

/// E0802 for one reference of a loop's statement (see [`loop_reads`]).
fn outside_member(
    r: &Ref,
    write: bool,
    l: &Loop,
    lo: &Form,
    hi: &Form,
    families: &BTreeMap<String, Members>,
    env: &Env,
) -> Option<Diagnostic> {
    let v = l.range.var.name.as_str();
    let (key, all, f) = placed(r, families, env)?;
    // A write is checked against the declared members only (the statement itself
    // defines the others).
    let declared;
    let m = if write {
        if all.declared.is_empty() {
            return None;
        }
        declared = Members {
            ranges: all.declared.clone(),
            declared: all.declared.clone(),
            starts: all.starts.clone(),
            sized_starts: vec![],
            unplaced: false,
        };
        &declared
    } else {
        all
    };
    let (first, last) = shifted(&f, v, lo, hi)?;
    let (outside, member, at) = match past_the_last(m, &last) {
        Some(k) => (Outside::Past(k), last, hi),
        None => {
            // Before the first: only a family that has a declaration or a start (one
            // without either is E0401's, the missing start).
            if !write && m.declared.is_empty() && m.starts.is_empty() {
                return None;
            }
            (Outside::Before(before_the_first(m, &first)?), first, lo)
        }
    };
    let defined = members_text(&key, m);
    let does = if write { "writes" } else { "reads" };
    let (k, range, how) = match outside {
        Outside::Past(k) => {
            let end = Form {
                terms: hi.terms.clone(),
                constant: hi.constant - k,
            };
            (k, format!("{}..{}", text(lo), text(&end)), "too far")
        }
        Outside::Before(k) => {
            let start = Form {
                terms: lo.terms.clone(),
                constant: lo.constant + k,
            };
            (k, format!("{}..{}", text(&start), text(hi)), "too early")
        }
    };
    let steps = format!("{k} step{}", if k == 1 { "" } else { "s" });
    let hint = match outside {
        Outside::Past(_) => format!(
            "the members of `{key}` are {defined}: the loop runs {steps} {how}; write `for {v} in {range}:`"
        ),
        Outside::Before(_) => format!(
            "the members of `{key}` are {defined}: the loop starts {steps} {how}; write `for {v} in {range}:`, or shift the subscript by +{k}"
        ),
    };
    Some(
        Diagnostic::error(
            "E0802",
            r.name.span,
            format!(
                "at `{v} = {}` the loop {does} `{key}_{}`, a member of `{key}` that {}",
                text(at),
                show(&member),
                if write {
                    "no declaration gives"
                } else {
                    "nothing defines"
                }
            ),
        )
        .with_label(format!("`{key}_{}` at `{v} = {}`", show(&member), text(at)))
        .with_related(l.range.span, "the loop's range")
        .with_hint(hint),
    )
}

/// The members of a family as a hint lists them: `h_0 and h_1 to h_L`.
pub(super) fn members_text(key: &str, m: &Members) -> String {
    m.starts
        .iter()
        .chain(&m.sized_starts)
        .map(|s| format!("{}_{}", key, show(s)))
        .chain(m.ranges.iter().map(|(lo, hi)| {
            if constant_gap(hi, lo) == Some(0) {
                format!("{}_{}", key, show(lo))
            } else {
                format!("{}_{} to {}_{}", key, show(lo), key, show(hi))
            }
        }))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A subscript in braces when it is more than one letter or number (`h_{L+1}`).
fn show(f: &Form) -> String {
    let s = text(f);
    if s.len() > 1 && !s.chars().all(|c| c.is_ascii_digit()) {
        format!("{{{s}}}")
    } else {
        s
    }
}

/// A form as written in a range or a subscript: `L-1`, `2l+1`, `0`.
pub(super) fn text(f: &Form) -> String {
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
    parts.join("+").replace("+-", "-")
}

/// The references of `items` to family `key`, with whether each lies inside a loop.
fn family_refs<'a>(items: &'a [Item], key: &str, in_loop: bool, out: &mut Vec<(&'a Ref, bool)>) {
    let visit = |r: &'a Ref, out: &mut Vec<(&'a Ref, bool)>| {
        if !r.name.sub.is_empty() && super::family_key(&r.name) == key {
            out.push((r, in_loop));
        }
    };
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                let mut refs = Vec::new();
                crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| refs.push(r));
                for r in refs {
                    visit(r, out);
                }
                if in_loop {
                    visit(&eq.lhs, out);
                }
            }
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => visit(&d.target, out),
            ItemKind::Loop(l) => family_refs(&l.body, key, true, out),
            ItemKind::ForIndices(f) => family_refs(&f.body, key, in_loop, out),
            _ => {}
        }
    }
}

/// The equations of a loop's body (through `for b,j:` blocks, not nested loops).
fn body_equations<'a>(items: &'a [Item], out: &mut Vec<&'a Equation>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => out.push(eq),
            ItemKind::ForIndices(f) => body_equations(&f.body, out),
            _ => {}
        }
    }
}

/// E0802 for a write past the last member of a computed family that the model uses:
/// `for l in 0..L: h_{l+1} = ...` writes `h_{L+1}` while the statements after the loop
/// (the loss, a `grad` declaration) read `h_L` at the most. A family with no
/// declaration has no declared last member; the last one the model reads outside the
/// loop stands for it. Only a family that no other loop reads and whose every read
/// outside loops lies a constant below the last write is judged (claims do not count:
/// a claim may be about any layer); the loop's range is then off by that constant.
fn writes_past_use(
    items: &[Item],
    families: &BTreeMap<String, Members>,
    env: &Env,
    diags: &mut Vec<Diagnostic>,
) {
    for (k, item) in items.iter().enumerate() {
        let ItemKind::Loop(l) = &item.kind else {
            continue;
        };
        let (Some(lo), Some(hi)) = (Form::of_expr(&l.range.from), Form::of_expr(&l.range.to))
        else {
            continue;
        };
        let v = l.range.var.name.as_str();
        let mut eqs = Vec::new();
        body_equations(&l.body, &mut eqs);
        let mut judged = std::collections::BTreeSet::new();
        for eq in eqs {
            let Some((key, m, f)) = placed(&eq.lhs, families, env) else {
                continue;
            };
            if !m.declared.is_empty() || !judged.insert(key.clone()) {
                continue;
            }
            let Some((_, last)) = shifted(&f, v, &lo, &hi) else {
                continue;
            };
            // Reads elsewhere: the other top-level items (the loop itself excluded).
            let mut refs = Vec::new();
            for (j, other) in items.iter().enumerate() {
                if j != k {
                    family_refs(std::slice::from_ref(other), &key, false, &mut refs);
                }
            }
            if refs.is_empty() || refs.iter().any(|(_, in_loop)| *in_loop) {
                continue;
            }
            let mut nearest: Option<(i64, &Ref)> = None;
            let mut comparable = true;
            for (r, _) in &refs {
                let gap = match r.name.sub.as_slice() {
                    [IndexExpr::Affine(a)] => {
                        Form::of_affine(a).and_then(|u| constant_gap(&last, &u))
                    }
                    _ => None,
                };
                match gap {
                    Some(g) if nearest.is_none_or(|(n, _)| g < n) => nearest = Some((g, r)),
                    Some(_) => {}
                    None => comparable = false,
                }
            }
            let Some((gap, used)) = nearest.filter(|(g, _)| comparable && *g > 0) else {
                continue;
            };
            let end = Form {
                terms: hi.terms.clone(),
                constant: hi.constant - gap,
            };
            let steps = format!("{gap} step{}", if gap == 1 { "" } else { "s" });
            let used_name = print_name(&used.name);
            diags.push(
                Diagnostic::error(
                    "E0802",
                    eq.lhs.name.span,
                    format!(
                        "at `{v} = {}` the loop writes `{key}_{}`, past `{used_name}`, the last member of `{key}` the model reads",
                        text(&hi),
                        show(&last)
                    ),
                )
                .with_label(format!("`{key}_{}` at `{v} = {}`", show(&last), text(&hi)))
                .with_related(used.name.span, "the last member read")
                .with_related(l.range.span, "the loop's range")
                .with_hint(format!(
                    "nothing reads the members after `{used_name}`: the loop runs {steps} too far; write `for {v} in {}..{}:`",
                    text(&lo),
                    text(&end)
                )),
            );
        }
    }
}
