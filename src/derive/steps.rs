//! `tq derive --steps`: the moments tq derives, written out as worked solutions
//! (`derivation` blocks, docs/derivations.md) and then checked by tq line by line.
//!
//! The chains are proposed from the moments engine's own work: the statement that
//! defines a tensor, the split of its variance over the terms (with the engine's reason
//! they are uncorrelated), the variance of each term in terms of the previous member
//! (with the engine's rules), the recurrence, and its closed form. Nothing in a chain is
//! taken on trust: every line is decided as a claim by the same engines as `tq check`
//! (the Monte Carlo runs left out), and printed with its verdict.

use crate::moments::{self, rv::Rv, Analysis, Applied, Entry, Rule};
use crate::report::{check_source, FileReport, Options};
use crate::sym::{self, Expr, Func};
use crate::syntax::ast::{self, AssignOp, BinOp, IndexExpr, Item, ItemKind};
use crate::syntax::printer::{print_expr, print_ref};
use std::collections::{BTreeMap, BTreeSet};

/// One line of a chain: the relation to the previous line, the expression, the rule and
/// the engine's reason.
#[derive(Clone, Debug)]
pub struct StepLine {
    pub op: &'static str,
    pub expr: String,
    pub rule: &'static str,
    pub why: String,
    /// The verdict of the check (`proved`, ...), its method and evidence.
    pub verdict: String,
    pub method: String,
    pub evidence: String,
}

/// A worked chain: `Var(L_{l+1}) = ... = (1 + D^2 J sigma_W^2) Var(L_l)`.
#[derive(Clone, Debug)]
pub struct Chain {
    pub name: String,
    pub start: String,
    pub lines: Vec<StepLine>,
}

/// The engine's rules as the name of a derivation rule (docs/derivations.md), the
/// most specific rule first.
fn rule_name(rules: &BTreeSet<Applied>) -> &'static str {
    let has = |p: &dyn Fn(Rule) -> bool| rules.iter().any(|a| p(a.rule));
    if has(&|r| r == Rule::SymmetricShare(Func::Relu)) {
        "relu_half"
    } else if has(&|r| r == Rule::GaussianMean(Func::Relu)) {
        "relu_gaussian"
    } else if has(&|r| matches!(r, Rule::Lipschitz(_))) {
        "lipschitz"
    } else if has(&|r| matches!(r, Rule::Popoviciu(_))) {
        "range"
    } else if has(&|r| {
        matches!(
            r,
            Rule::OddMean(_)
                | Rule::OddPowerMean
                | Rule::ComplementMean(_, 1, 2)
                | Rule::ComplementMean(_, 0, _)
        )
    }) {
        "symmetry"
    } else if has(&|r| r == Rule::ProductIndependent) {
        "product_variance"
    } else if has(&Rule::by_uncorrelated_weights) {
        "uncorrelated_sum"
    } else if has(&|r| {
        matches!(
            r,
            Rule::FiniteEnumerated | Rule::GaussianPower | Rule::UniformPower
        )
    }) {
        "declared"
    } else {
        "algebra"
    }
}

/// The texts of the rules, in order.
fn why(rules: &BTreeSet<Applied>) -> String {
    let v: Vec<&str> = rules.iter().map(|a| a.text.as_str()).collect();
    v.join("; ")
}

/// Renames index names inside the index lists of every reference.
fn rename(e: &mut ast::Expr, map: &BTreeMap<String, String>) {
    match e {
        ast::Expr::Ref(r) => crate::syntax::visit::rename_indices(r, map),
        _ => crate::syntax::visit::children_mut(e).for_each(|x| rename(x, map)),
    }
}

/// The plain index names of a reference's index list (`[b,x,y,j]`), if it has only those.
fn plain_indices(r: &ast::Ref) -> Option<Vec<String>> {
    let Some(ixs) = r.indices.as_ref() else {
        return Some(vec![]);
    };
    ixs.iter()
        .map(|ix| match ix {
            IndexExpr::Affine(a)
                if a.constant == 0
                    && a.terms.len() == 1
                    && a.terms[0].coef == 1
                    && a.terms[0].factors.len() == 1 =>
            {
                Some(a.terms[0].factors[0].name.clone())
            }
            _ => None,
        })
        .collect()
}

/// A statement writing a tensor, with the `for` indices around it.
struct Writer {
    eq: ast::Equation,
    fors: Vec<String>,
}

/// The statements writing `(name, grad)` whose family subscript satisfies `sub`, in the
/// items (looking into `for` blocks, and into loops over `var` only).
fn writers(
    items: &[Item],
    env: &crate::check::Env,
    key: &(String, bool),
    var: Option<&str>,
    sub: &dyn Fn(&[IndexExpr]) -> bool,
    fors: &[String],
    out: &mut Vec<Writer>,
) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq)
                if env.key_of(&eq.lhs.name) == key.0
                    && eq.lhs.grad == key.1
                    && sub(&eq.lhs.name.sub) =>
            {
                out.push(Writer {
                    eq: eq.clone(),
                    fors: fors.to_vec(),
                });
            }
            ItemKind::ForIndices(f) => {
                let mut inner = fors.to_vec();
                inner.extend(f.indices.iter().map(|i| i.name.clone()));
                writers(&f.body, env, key, var, sub, &inner, out);
            }
            ItemKind::Loop(l) if var.is_some_and(|v| v == l.range.var.name) => {
                writers(&l.body, env, key, None, sub, fors, out)
            }
            _ => {}
        }
    }
}

/// The right side that defines the element: the statements' right sides added (`-=`
/// subtracted), the summed `for` indices written as capitals, the left sides' index
/// names made those of the first statement.
fn definition(ws: &[Writer]) -> Option<(ast::Expr, Vec<ast::Expr>)> {
    let first = plain_indices(&ws.first()?.eq.lhs)?;
    let mut terms = Vec::new();
    let mut total: Option<ast::Expr> = None;
    for w in ws {
        let lhs = plain_indices(&w.eq.lhs)?;
        if lhs.len() != first.len() {
            return None;
        }
        let mut map: BTreeMap<String, String> = lhs
            .iter()
            .zip(&first)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for f in &w.fors {
            if !lhs.contains(f) {
                map.insert(f.clone(), f.to_uppercase());
            }
        }
        let mut rhs = w.eq.rhs.clone();
        rename(&mut rhs, &map);
        let span = rhs.span();
        let mut split = Vec::new();
        split_terms(&rhs, w.eq.op == AssignOp::SubAssign, &mut split);
        terms.extend(split);
        total = Some(match (total, w.eq.op) {
            (None, AssignOp::SubAssign) => ast::Expr::Unary(ast::UnOp::Neg, Box::new(rhs), span),
            (None, _) => rhs,
            (Some(t), AssignOp::SubAssign) => {
                ast::Expr::Binary(BinOp::Sub, Box::new(t), Box::new(rhs), span)
            }
            (Some(t), _) => ast::Expr::Binary(BinOp::Add, Box::new(t), Box::new(rhs), span),
        });
    }
    Some((total?, terms))
}

/// The terms of a sum (the moments engine's split), negated where subtracted.
fn split_terms(e: &ast::Expr, neg: bool, out: &mut Vec<ast::Expr>) {
    let mut terms = Vec::new();
    moments::split_terms(e, neg, &mut terms);
    out.extend(terms.into_iter().map(|(n, t)| {
        if n {
            ast::Expr::Unary(ast::UnOp::Neg, Box::new(t.clone()), t.span())
        } else {
            t.clone()
        }
    }));
}

/// `Var(term)`: a term that is one element at plain indices is written as its tensor
/// (`Var(R_{l+1})`), a negated one without the sign (the variance is the same).
fn var_of(term: &ast::Expr) -> String {
    let t = match term {
        ast::Expr::Unary(ast::UnOp::Neg, x, _) => x,
        _ => term,
    };
    if let ast::Expr::Ref(r) = t {
        if plain_indices(r).is_some() {
            let mut bare = r.clone();
            bare.indices = None;
            return format!("Var({})", print_ref(&bare));
        }
    }
    format!("Var({})", print_expr(t))
}

fn member(name: &str, grad: bool, sub: &Expr) -> String {
    // The printer's spelling (`L_{l+1}`), so that the same member reads the same.
    let m = moments::member_text(&(name.to_string(), false), std::slice::from_ref(sub))
        .replace(' ', "");
    if grad {
        format!("{m}.grad")
    } else {
        m
    }
}

/// The variance of a symbolic iteration's member in terms of the previous state's
/// `Var(from)` (its mean put in when it is a constant).
fn in_state(rv: &Rv, state: &(String, bool), from: &str, mean: &Expr) -> Option<Expr> {
    let g = if state.1 { ".grad" } else { "" };
    let (e, m) = (format!("E#{}{g}", state.0), format!("M#{}{g}", state.0));
    let v = rv.var()?;
    let second = Expr::sym(&format!("Var({from})")) + Expr::pow(mean.clone(), Expr::int(2));
    let v = sym::simplify(&v.subs(&m, &second).subs(&e, mean));
    (!v.free_symbols().iter().any(|s| s.contains('#'))).then_some(v)
}

/// `c Var(from)` when the total is a multiple of the previous member's variance, else the
/// total (by algebra).
fn factored(total: &Expr, from: &str) -> StepLine {
    let v = Expr::sym(&format!("Var({from})"));
    let c = sym::simplify(&(total.clone() / v.clone()));
    let text = if c.free_symbols().iter().any(|s| s.starts_with("Var(")) {
        sym::to_ascii(total)
    } else {
        format!("({}) {}", sym::to_ascii(&c), sym::to_ascii(&v))
    };
    line("=", text, "algebra", String::new())
}

fn line(op: &'static str, expr: String, rule: &'static str, why: String) -> StepLine {
    StepLine {
        op,
        expr,
        rule,
        why,
        verdict: String::new(),
        method: String::new(),
        evidence: String::new(),
    }
}

/// The chains for every recurrence and every computed tensor with known moments.
pub fn propose(r: &FileReport) -> Vec<Chain> {
    let analysis = r.analysis();
    let a: &Analysis = analysis.moments();
    let gather: Vec<Item> = analysis.gather_items();
    let mut out = Vec::new();
    for rec in &a.recurrences {
        let Some(step) = &rec.var_step else { continue };
        let key = (rec.tensor.clone(), rec.grad);
        let items = if rec.grad { &gather } else { &r.program.items };
        let (from, to) = (
            member(&rec.tensor, rec.grad, &rec.from),
            member(&rec.tensor, rec.grad, &rec.to),
        );
        let mean = match &rec.mean_closed {
            Some(m) if m.free_symbols().is_empty() => m.clone(),
            _ => Expr::sym(&format!("E({from})")),
        };
        let offset = sym::simplify(&(rec.to.clone() - Expr::sym(&rec.var)));
        let to_sub = rec.to.clone();
        let mut ws = Vec::new();
        writers(
            items,
            &r.env,
            &key,
            Some(&rec.var),
            &|sub: &[IndexExpr]| {
                sub.len() == 1
                    && moments::index_expr(&sub[0]).is_ok_and(|s| sym::identical(&s, &to_sub))
            },
            &[],
            &mut ws,
        );
        let name = format!(
            "{}_{}",
            if rec.grad { "backward" } else { "forward" },
            ident(&rec.tensor)
        );
        let mut lines = Vec::new();
        let it_rv = a
            .iterations
            .iter()
            .filter(|it| it.var == rec.var)
            .find_map(|it| {
                it.members
                    .get(&key)?
                    .iter()
                    .find(|(o, _)| sym::identical(o, &offset))
                    .map(|(_, rv)| rv.clone())
            });
        if let Some((def, terms)) = definition(&ws) {
            lines.push(line(
                "=",
                format!("Var({})", print_expr(&def)),
                "definition",
                format!(
                    "the statement{} writing {to}",
                    if ws.len() > 1 { "s" } else { "" }
                ),
            ));
            if terms.len() > 1 {
                let split: Vec<String> = terms.iter().map(var_of).collect();
                let reason = it_rv
                    .as_ref()
                    .map(|rv| {
                        rv.rules
                            .iter()
                            .filter(|a| a.rule.is_sum())
                            .cloned()
                            .collect::<BTreeSet<_>>()
                    })
                    .unwrap_or_default();
                lines.push(line(
                    "=",
                    split.join(" + "),
                    "uncorrelated_sum",
                    why(&reason),
                ));
                // Each term's variance in terms of the previous member: the state itself,
                // a member of this iteration from the engine, and the one term left over
                // from the recurrence.
                let mut known: Vec<Option<Expr>> = Vec::new();
                let mut rules = BTreeSet::new();
                for t in &terms {
                    let v = var_of(t);
                    if v == format!("Var({from})") {
                        known.push(Some(Expr::sym(&v)));
                        continue;
                    }
                    let mut got = None;
                    if let ast::Expr::Ref(rf) = t {
                        let k = (r.env.key_of(&rf.name), rf.grad);
                        if let (Some(sub), Some(it)) = (
                            rf.name
                                .sub
                                .first()
                                .and_then(|s| moments::index_expr(s).ok()),
                            a.iterations.iter().find(|it| it.var == rec.var),
                        ) {
                            let off = sym::simplify(&(sub - Expr::sym(&rec.var)));
                            if let Some((_, rv)) = it
                                .members
                                .get(&k)
                                .and_then(|m| m.iter().find(|(o, _)| sym::identical(o, &off)))
                            {
                                got = in_state(rv, &key, &from, &mean);
                                rules.extend(rv.rules.iter().cloned());
                            }
                        }
                    }
                    known.push(got);
                }
                let total = sym::simplify(
                    &step
                        .subs("E", &mean)
                        .subs("x", &Expr::sym(&format!("Var({from})"))),
                );
                let missing = known.iter().filter(|k| k.is_none()).count();
                if missing == 1 {
                    let sum_known = known
                        .iter()
                        .flatten()
                        .fold(Expr::zero(), |s, k| s + k.clone());
                    let rest = sym::simplify(&(total.clone() - sum_known));
                    for k in &mut known {
                        if k.is_none() {
                            *k = Some(rest.clone());
                        }
                    }
                    if let Some(rv) = &it_rv {
                        rules.extend(rv.rules.iter().cloned());
                    }
                }
                if known.iter().all(Option::is_some) {
                    let parts: Vec<String> = known.iter().flatten().map(sym::to_ascii).collect();
                    rules.retain(|a| !matches!(a.rule, Rule::SumOfTwo(_)));
                    lines.push(line("=", parts.join(" + "), rule_name(&rules), why(&rules)));
                }
                lines.push(factored(&total, &from));
            } else {
                let total = sym::simplify(
                    &step
                        .subs("E", &mean)
                        .subs("x", &Expr::sym(&format!("Var({from})"))),
                );
                let rules = it_rv.map(|rv| rv.rules).unwrap_or_default();
                lines.push(line(
                    "=",
                    sym::to_ascii(&total),
                    rule_name(&rules),
                    why(&rules),
                ));
            }
        }
        if !lines.is_empty() {
            out.push(Chain {
                name: format!("{name}_step"),
                start: format!("Var({to})"),
                lines,
            });
        }
        // The closed form.
        if let Some(v) = &rec.var_closed {
            let n = Expr::sym(&rec.var);
            let generic = member(&rec.tensor, rec.grad, &n);
            let start = a.entries.get(&key).and_then(|e| match e {
                Entry::Family { members, .. } => members
                    .iter()
                    .find(|(s, _)| sym::identical(s, &rec.start))
                    .and_then(|(_, rv)| rv.var()),
                _ => None,
            });
            out.push(Chain {
                name: format!("{name}_closed"),
                start: format!("Var({generic})"),
                lines: vec![line(
                    "=",
                    sym::to_ascii(&sym::simplify(&v.subs("#n", &n))),
                    "recurrence",
                    format!(
                        "the recurrence above, from Var({}) = {}",
                        member(&rec.tensor, rec.grad, &rec.start),
                        start
                            .map(|s| sym::to_ascii(&sym::simplify(&s)))
                            .unwrap_or_else(|| "?".into())
                    ),
                )],
            });
        }
    }
    // Computed tensors outside loops: the definition, then the engine's value or bound.
    for (key, rv) in super::computed_entries(r, a) {
        let k = (key.clone(), false);
        let mut ws = Vec::new();
        writers(
            &r.program.items,
            &r.env,
            &k,
            None,
            &|s| s.is_empty(),
            &[],
            &mut ws,
        );
        let Some((def, _)) = definition(&ws) else {
            continue;
        };
        let name = ident(key);
        if let Some(m) = &rv.mean {
            out.push(Chain {
                name: format!("mean_{name}"),
                start: format!("E({key})"),
                lines: vec![
                    line(
                        "=",
                        format!("E({})", print_expr(&def)),
                        "definition",
                        String::new(),
                    ),
                    line(
                        "=",
                        sym::to_ascii(&sym::simplify(m)),
                        mean_rule(&rv.rules, &sym::simplify(m)),
                        why(&rv.rules),
                    ),
                ],
            });
        }
        let mut lines = Vec::new();
        if let Some(v) = rv.var() {
            lines.push(line(
                "=",
                format!("Var({})", print_expr(&def)),
                "definition",
                String::new(),
            ));
            lines.push(line(
                "=",
                sym::to_ascii(&sym::simplify(&v)),
                rule_name(&rv.rules),
                why(&rv.rules),
            ));
        } else if let Some((b, w)) = rv.var_bounds.last() {
            lines.push(line(
                "<=",
                sym::to_ascii(&sym::simplify(b)),
                rule_name(&BTreeSet::from([w.clone()])),
                w.text.clone(),
            ));
        } else {
            continue;
        }
        out.push(Chain {
            name: format!("var_{name}"),
            start: format!("Var({key})"),
            lines,
        });
    }
    out
}

/// A derivation name from a tensor's name: `y^{relu}` → `y_relu`.
fn ident(key: &str) -> String {
    let mut s = String::new();
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    s.trim_matches('_').to_string()
}

fn mean_rule(rules: &BTreeSet<Applied>, mean: &Expr) -> &'static str {
    let has = |p: &dyn Fn(Rule) -> bool| rules.iter().any(|a| p(a.rule));
    if has(&|r| r == Rule::GaussianMean(Func::Relu)) {
        "relu_gaussian"
    } else if has(&|r| {
        matches!(
            r,
            Rule::SymmetricShare(_) | Rule::ComplementMean(..) | Rule::OddMean(_)
        )
    }) {
        "symmetry"
    } else if mean.is_zero() && has(&Rule::by_uncorrelated_weights) {
        "zero_mean"
    } else if has(&|r| r == Rule::ProductIndependent) {
        "independence"
    } else {
        "linearity"
    }
}

/// The chains as `derivation` blocks (.tq).
pub fn blocks(chains: &[Chain]) -> String {
    let mut s = String::new();
    for c in chains {
        s.push_str(&format!("derivation {}:\n  {}\n", c.name, c.start));
        for l in &c.lines {
            s.push_str(&format!("  {} {}    by {}\n", l.op, l.expr, l.rule));
        }
        s.push('\n');
    }
    s
}

/// Proposes the chains and checks every line with tq's engines (no Monte Carlo): the
/// blocks are appended to the file and the file is checked again.
pub fn checked(r: &FileReport, seed: u64) -> Result<Vec<Chain>, String> {
    check(r, propose(r), seed)
}

/// Checks every line of the chains as a step of a `derivation` block of the file.
pub fn check(r: &FileReport, mut chains: Vec<Chain>, seed: u64) -> Result<Vec<Chain>, String> {
    if chains.is_empty() {
        return Ok(chains);
    }
    let base_lines = r.source.lines().count();
    let src = format!("{}\n\n{}", r.source.trim_end(), blocks(&chains));
    let opts = Options {
        seed,
        no_monte_carlo: true,
        // Only the steps' verdicts are read: the file's gradient check, which has its
        // own budget of about 2 s, is not run a second time.
        no_gradcheck: true,
        ..Options::default()
    };
    let rep = check_source(&r.path, &src, &opts);
    let errors: Vec<String> = rep
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the proposed steps do not check as a file (a tq bug): {}",
            errors.join("; ")
        ));
    }
    let mut reports = rep.claims.iter().filter(|c| c.line > base_lines + 1);
    for c in &mut chains {
        for l in &mut c.lines {
            let Some(cr) = reports.next() else {
                return Err("fewer verdicts than steps (a tq bug)".into());
            };
            l.verdict = cr.verdict.as_str().to_string();
            l.method = cr.method.to_string();
            l.evidence = cr.evidence.clone();
        }
    }
    Ok(chains)
}

/// The chains as text: each a `derivation` block with the verdict of every line.
pub fn text(chains: &[Chain]) -> String {
    let mut s = String::from(
        "\n# worked steps (tq's derivation of each result; every line checked by tq, Monte Carlo left out)\n",
    );
    for c in chains {
        s.push_str(&format!("derivation {}:\n  {}\n", c.name, c.start));
        for l in &c.lines {
            s.push_str(&format!(
                "  {} {}    by {}    # {}{}\n",
                l.op,
                l.expr,
                l.rule,
                l.verdict,
                if l.why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", l.why)
                }
            ));
        }
        s.push('\n');
    }
    s
}

/// The chains as JSON.
pub fn json(chains: &[Chain]) -> serde_json::Value {
    serde_json::json!(chains
        .iter()
        .map(|c| serde_json::json!({
            "name": c.name,
            "start": c.start,
            "lines": c.lines.iter().map(|l| serde_json::json!({
                "op": l.op, "expr": l.expr, "rule": l.rule, "why": l.why,
                "verdict": l.verdict, "method": l.method, "evidence": l.evidence,
            })).collect::<Vec<_>>(),
        }))
        .collect::<Vec<_>>())
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::moments::Cross;

    fn set(rules: &[Rule]) -> BTreeSet<Applied> {
        // The texts say nothing: the names come from the typed rules alone.
        rules
            .iter()
            .enumerate()
            .map(|(k, r)| Applied::new(*r, format!("rule {k}")))
            .collect()
    }

    #[test]
    fn derivation_rules_are_named_from_the_typed_rules() {
        let cases: &[(&[Rule], &str)] = &[
            (&[Rule::SymmetricShare(Func::Relu)], "relu_half"),
            (&[Rule::SymmetricShare(Func::Abs)], "algebra"),
            (
                &[Rule::GaussianMean(Func::Relu), Rule::ProductIndependent],
                "relu_gaussian",
            ),
            (&[Rule::GaussianMean(Func::Abs)], "algebra"),
            (&[Rule::Lipschitz(Func::Tanh)], "lipschitz"),
            (&[Rule::Popoviciu(Func::Sigmoid)], "range"),
            (&[Rule::ComplementMean(Func::Sigmoid, 1, 2)], "symmetry"),
            (&[Rule::ComplementMean(Func::Sigmoid, 1, 1)], "algebra"),
            (&[Rule::OddMean(Func::Tanh), Rule::SumIid], "symmetry"),
            (
                &[
                    Rule::ProductIndependent,
                    Rule::SumOfTwo(Cross::UncorrelatedWeights),
                ],
                "product_variance",
            ),
            (
                &[Rule::SumOfTwo(Cross::UncorrelatedWeights)],
                "uncorrelated_sum",
            ),
            (&[Rule::SumOfTwo(Cross::Independent)], "algebra"),
            (&[Rule::SumIid], "algebra"),
            (&[Rule::FiniteEnumerated], "declared"),
            (&[Rule::Constant], "algebra"),
        ];
        for (rules, name) in cases {
            assert_eq!(rule_name(&set(rules)), *name, "{rules:?}");
        }
    }

    #[test]
    fn mean_rules_are_named_from_the_typed_rules() {
        let zero = Expr::zero();
        let one = Expr::one();
        assert_eq!(
            mean_rule(&set(&[Rule::GaussianMean(Func::Relu)]), &one),
            "relu_gaussian"
        );
        assert_eq!(
            mean_rule(&set(&[Rule::SymmetricShare(Func::Abs)]), &one),
            "symmetry"
        );
        assert_eq!(
            mean_rule(&set(&[Rule::SumUncorrelatedWeights]), &zero),
            "zero_mean"
        );
        assert_eq!(
            mean_rule(&set(&[Rule::SumUncorrelatedWeights]), &one),
            "linearity"
        );
        assert_eq!(
            mean_rule(&set(&[Rule::ProductIndependent]), &one),
            "independence"
        );
        assert_eq!(mean_rule(&set(&[Rule::SumIid]), &zero), "linearity");
    }
}
