//! A claim at a closed end of a symbol's domain where a distribution degenerates to a
//! constant (session 33, issue #14): a variance at 0 (`normal(m, v)` at v = 0 is m,
//! `symmetric(v)` is 0, `moments(m, s)` at s = m² is m), a probability at 1 or 0
//! (`bernoulli(p)` is the constant 1 or 0), an empty uniform (`uniform(a, b)` at a = b).
//! Monte Carlo cannot refute a claim there that fails by a tie (every trial gives the
//! same values, or the two sides agree in every trial), and the moments engine has no
//! closed form for the model with the random leaf (relu of a normal with a mean, a
//! Bernoulli mixture). Here the model is specialized at the end: the end's value written
//! into every statement, declaration and the claim, and each degenerate leaf replaced by
//! the statement that computes its constant value, so the moments engine reads a
//! constant (`E(c) = c`, `Var(c) = 0`) and a product with 1 or 0. The specialized file is
//! checked and its one claim decided by the exact engines (Monte Carlo's trials there
//! are the original's, which showed the tie); every symbol keeps the domain it has in the
//! original file. A refutation there is the claim's at the end, its witness the
//! specialized claim's point with the end added; the caller re-checks it on the
//! original model's trials at that point (docs/soundness.md, "Witnesses").

use super::*;
use crate::syntax::ast::{DeclKind, Init};
use crate::syntax::printer::{print_expr, print_index, print_name, print_program};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};

thread_local! {
    /// Set while a specialized file is decided: its claims do not specialize again.
    static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The specialized file's claim decided, when every symbol of `point` is at a closed end
/// where some leaf's distribution is a constant: `None` when no leaf degenerates there,
/// the model cannot be specialized (a rule, a family declaration, a leaf whose shape is
/// not written with plain sizes, the symbol read in an index position), the specialized
/// file does not check, or its claim is not decided by an exact engine. The witness's
/// point includes the end.
pub(in crate::claims) fn decide(
    claim: &Claim,
    point: &BTreeMap<String, BigRational>,
    program: &ast::Program,
    env: &Env,
    opts: &Options,
) -> Option<Outcome> {
    if INSIDE.with(|f| f.get()) || point.is_empty() {
        return None;
    }
    let values: BTreeMap<String, ast::Expr> = point
        .iter()
        .map(|(n, v)| Some((n.clone(), number(v)?)))
        .collect::<Option<_>>()?;
    let mut prog = program.clone();
    // Only the claim itself; no derivation, vary or expectation of another claim.
    let mut kept = false;
    prog.items.retain(|it| match &it.kind {
        ItemKind::Claim(c) => {
            let keep =
                !kept && c.text == claim.text && c.body == claim.body && c.given == claim.given;
            kept |= keep;
            keep
        }
        ItemKind::Derivation(_) | ItemKind::Vary(_) | ItemKind::ExpectError(_) => false,
        _ => true,
    });
    if !kept {
        return None;
    }
    let mut degenerate = Vec::new();
    let mut lines = Vec::new();
    for it in &mut prog.items {
        // Statements inside blocks are written into too, but a degenerate leaf declared
        // in a block is not replaced (below: the file is left alone).
        subst_item(it, &values);
        match &mut it.kind {
            ItemKind::Sample(bs) | ItemKind::At(bs) => {
                bs.retain(|b| !values.contains_key(&b.name.name))
            }
            ItemKind::Claim(c) => {
                c.body = subst(&c.body, &values);
                c.given = c.given.iter().map(|g| subst(g, &values)).collect();
                c.expect = None;
            }
            _ => {}
        }
        if let ItemKind::Decl(d) = &it.kind {
            if let Some(Init::Dist(call)) = &d.init {
                if let Some(value) = constant_of(call) {
                    if d.family.is_some() || !matches!(d.kind, DeclKind::Input | DeclKind::Param) {
                        return None;
                    }
                    let name = print_name(&d.target.name);
                    let lhs = match &d.target.indices {
                        None => name.clone(),
                        Some(ix) => {
                            let mut out = Vec::new();
                            for i in ix {
                                let size = print_index(i);
                                if !env.sizes.contains_key(&size) {
                                    return None;
                                }
                                out.push(size.to_lowercase());
                            }
                            format!("{name}[{}]", out.join(", "))
                        }
                    };
                    degenerate.push(format!(
                        "`{name} ~ {}` is {value}",
                        crate::syntax::printer::print_call(call)
                    ));
                    lines.push((it.span, format!("{lhs} = {value}")));
                }
            }
        }
    }
    if degenerate.is_empty() {
        return None;
    }
    // Every degenerate leaf is declared at the top level (none inside a block).
    let mut text = String::new();
    for it in &prog.items {
        let one = ast::Program {
            items: vec![it.clone()],
        };
        if let Some((_, line)) = lines.iter().find(|(s, _)| *s == it.span) {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        if has_degenerate(std::slice::from_ref(it)) {
            return None;
        }
        text.push_str(&print_program(&one));
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    // The end's symbols no longer appear anywhere but their declaration.
    for line in text.lines() {
        if line.trim_start().starts_with("symbol ") {
            continue;
        }
        if values.keys().any(|n| super::super::mentions(line, n)) {
            return None;
        }
    }
    let reports = INSIDE.with(|f| {
        f.set(true);
        let r = specialized_reports(&text, env, point, opts);
        f.set(false);
        r
    })?;
    let r = reports.into_iter().next()?;
    let at: Vec<String> = point.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    let what = format!(
        "at {}, a closed end of the domain, where {}: the model with that constant in its place, decided by the exact engines: {}",
        at.join(", "),
        degenerate.join(", "),
        r.evidence
    );
    match r.verdict {
        Verdict::Refuted => {
            let mut w = r.witness?;
            w.point.extend(point.clone());
            let mut o = Outcome::new(Verdict::Refuted, r.method, what);
            o.witness = Some(w);
            Some(o)
        }
        Verdict::Proved => Some(Outcome::new(Verdict::Confirmed, r.method, what)),
        _ => None,
    }
}

/// The claims' reports of the specialized file, its symbols keeping the original
/// file's domains; `None` when it does not check.
fn specialized_reports(
    text: &str,
    env: &Env,
    point: &BTreeMap<String, BigRational>,
    opts: &Options,
) -> Option<Vec<ClaimReport>> {
    let mut parsed = crate::syntax::parser::parse(text);
    if !parsed.diagnostics.is_empty() || !parsed.unparsed.is_empty() {
        return None;
    }
    let (member_diags, derived) =
        crate::check::members::expand_derived(&mut parsed.program, &mut parsed.unparsed);
    if member_diags.iter().any(|d| d.is_error()) {
        return None;
    }
    let (mut senv, diags) =
        crate::check::check_expanded(&parsed.program, &parsed.unparsed, &derived);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    senv.derived_sizes = derived;
    crate::check::resolve_index_capitals(&mut parsed.program, &senv);
    // The original file's domains: a symbol means the same thing in the specialized
    // file (a location stays every real, a variance keeps its 0), with the end's value
    // written into the relations between symbols.
    let ends: BTreeMap<String, sym::Expr> = point
        .iter()
        .map(|(n, v)| (n.clone(), sym::Expr::num(v.clone())))
        .collect();
    let mut domains = env.domains.clone();
    domains.retain(|n, _| !point.contains_key(n));
    for d in domains.values_mut() {
        for (a, _, b) in &mut d.relations {
            for (n, v) in &ends {
                *a = a.subs(n, v);
                *b = b.subs(n, v);
            }
        }
    }
    senv.domains = domains;
    senv.signed = env.signed.clone();
    senv.fractional = env.fractional.clone();
    let derived = crate::analysis::Derived::new();
    let a = crate::analysis::Analysis::new(&parsed.program, &senv, &derived);
    let inner = Options {
        cache: None,
        progress: None,
        cancel: None,
        shared_includes: None,
        no_monte_carlo: true,
        ..opts.clone()
    };
    Some(super::super::decide_all(&a, text, &inner))
}

/// The constant a distribution is (its parameters already written with the end's
/// values): `normal(m, 0)` is m, `symmetric(0)` is 0, `moments(m, s)` with s = m² is m,
/// `bernoulli(1)` and `bernoulli(0)`, `uniform(a, a)` is a; as `.tq` text.
fn constant_of(call: &ast::Call) -> Option<String> {
    let lower = |e: &ast::Expr| crate::lower::lower(e, &crate::lower::Scope::default()).ok();
    let arg = |k: usize| call.args.get(k);
    let zero = |e: &ast::Expr| lower(e).is_some_and(|x| sym::expand(&x).is_zero());
    let paren = |e: &ast::Expr| format!("({})", print_expr(e));
    match call.func.name.as_str() {
        "normal" if call.args.len() == 2 && zero(arg(1)?) => Some(paren(arg(0)?)),
        "symmetric" if call.args.len() == 1 && zero(arg(0)?) => Some("0".into()),
        "moments" if call.args.len() == 2 => {
            let (m, s) = (lower(arg(0)?)?, lower(arg(1)?)?);
            sym::expand(&(s - m.clone() * m))
                .is_zero()
                .then(|| paren(arg(0).unwrap()))
        }
        "bernoulli" if call.args.len() == 1 => {
            let p = lower(arg(0)?)?;
            let p = p.as_num()?;
            (p.is_zero() || p == &BigRational::from_integer(1.into())).then(|| p.to_string())
        }
        "uniform" if call.args.len() == 2 => {
            let (a, b) = (lower(arg(0)?)?, lower(arg(1)?)?);
            sym::expand(&(b - a))
                .is_zero()
                .then(|| paren(arg(0).unwrap()))
        }
        _ => None,
    }
}

/// A whole number as a `.tq` literal (the closed ends of the inferred domains are 0 and
/// 1; another end is not written in).
fn number(v: &BigRational) -> Option<ast::Expr> {
    if !v.is_integer() || v < &BigRational::zero() {
        return None;
    }
    Some(ast::Expr::Num(
        v.to_integer().to_i64()?.to_string(),
        Default::default(),
    ))
}

/// `e` with each symbol of `values` replaced by its value.
fn subst(e: &ast::Expr, values: &BTreeMap<String, ast::Expr>) -> ast::Expr {
    match e {
        ast::Expr::Ref(r) if r.indices.is_none() && !r.grad => {
            match values.get(&print_name(&r.name)) {
                Some(v) => v.clone(),
                None => e.clone(),
            }
        }
        _ => crate::syntax::visit::map_children(e, |c| subst(c, values)),
    }
}

/// Every expression of an item (statements, declarations, blocks) with the values
/// written in.
fn subst_item(it: &mut ast::Item, values: &BTreeMap<String, ast::Expr>) {
    match &mut it.kind {
        ItemKind::Equation(eq) => eq.rhs = subst(&eq.rhs, values),
        ItemKind::Decl(d) => match &mut d.init {
            Some(Init::Dist(call)) => {
                call.args = call.args.iter().map(|a| subst(a, values)).collect();
            }
            Some(Init::Value(v)) => *v = subst(v, values),
            None => {}
        },
        ItemKind::Loop(l) => l.body.iter_mut().for_each(|i| subst_item(i, values)),
        ItemKind::ForIndices(f) => f.body.iter_mut().for_each(|i| subst_item(i, values)),
        ItemKind::Rule(r) => r.body.iter_mut().for_each(|i| subst_item(i, values)),
        _ => {}
    }
}

/// Whether a declaration among `items` (in blocks too) is a constant.
fn has_degenerate(items: &[ast::Item]) -> bool {
    items.iter().any(|it| match &it.kind {
        ItemKind::Decl(d) => matches!(&d.init, Some(Init::Dist(c)) if constant_of(c).is_some()),
        ItemKind::Loop(l) => has_degenerate(&l.body),
        ItemKind::ForIndices(f) => has_degenerate(&f.body),
        ItemKind::Rule(r) => has_degenerate(&r.body),
        _ => false,
    })
}
