//! Claims and their verdicts. Each claim is routed to the engine that can decide it;
//! a claim no engine decides is `undecided` with the reason, never `proved`.

pub mod cost;
pub mod elements;
pub mod includes;
pub mod montecarlo;
pub mod numeric;
pub mod rules;
pub mod scalar;
pub mod special;
pub mod tensor_sym;

use crate::check::Env;
use crate::report::Options;
use crate::sym::{self, Expr, Rel};
use crate::syntax::ast::{
    self as ast, Binding, Claim, Expectation, Item, ItemKind, Program, RelOp,
};
use crate::syntax::span::line_col;
use serde_json::json;
use std::collections::BTreeMap;

/// The verdict of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Shown symbolically, or by exact rational evaluation at the stated point.
    Proved,
    /// Agrees numerically (random points, Monte Carlo) but is not proved.
    Confirmed,
    /// Shown false, with a counterexample.
    Refuted,
    /// No engine could decide it; the evidence says why.
    Undecided,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proved => "proved",
            Verdict::Confirmed => "confirmed",
            Verdict::Refuted => "refuted",
            Verdict::Undecided => "undecided",
        }
    }
}

/// A decided (or undecided) claim.
#[derive(Clone, Debug)]
pub struct ClaimReport {
    pub line: usize,
    pub column: usize,
    pub source: String,
    pub verdict: Verdict,
    pub method: String,
    pub evidence: String,
    pub expect: Option<Expectation>,
}

impl ClaimReport {
    /// Whether this outcome lets the file pass.
    pub fn acceptable(&self, strict: bool) -> bool {
        match (self.expect, self.verdict) {
            (_, Verdict::Undecided) => !strict,
            (Some(Expectation::Refuted), v) => v == Verdict::Refuted,
            (Some(Expectation::Undecided), _) => false,
            (None, v) => v != Verdict::Refuted,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "line": self.line,
            "column": self.column,
            "source": self.source,
            "verdict": self.verdict.as_str(),
            "method": self.method,
            "evidence": self.evidence,
            "expected": self.expect.map(|e| match e {
                Expectation::Refuted => "refuted",
                Expectation::Undecided => "undecided",
            }),
        })
    }

    pub fn text_line(&self) -> String {
        let expect = match self.expect {
            Some(Expectation::Refuted) => " (expected refuted)",
            Some(Expectation::Undecided) => " (expected undecided)",
            None => "",
        };
        format!(
            "line {:>3}  {:<9}  {}{expect}\n             {}: {}",
            self.line,
            self.verdict.as_str(),
            self.source,
            self.method,
            self.evidence
        )
    }
}

/// The loops of a program (`for l in 0..L-1`), outer first, each variable once.
pub fn program_loops(items: &[Item]) -> Vec<ast::Range> {
    fn walk(items: &[Item], out: &mut Vec<ast::Range>) {
        for it in items {
            if let ItemKind::Loop(l) = &it.kind {
                if !out.iter().any(|r| r.var.name == l.range.var.name) {
                    out.push(l.range.clone());
                }
                walk(&l.body, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(items, &mut out);
    out
}

/// Whether `text` uses the variable `var` as a name of its own (`l` in `h_l`, `l+1`,
/// not in `ln` or `l'`).
pub fn mentions(text: &str, var: &str) -> bool {
    text.match_indices(var).any(|(k, _)| {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '\'');
        !word(text[..k].chars().last()) && !word(text[k + var.len()..].chars().next())
    })
}

/// Decides every claim of a checked program, in file order.
pub fn decide_all(program: &Program, env: &Env, source: &str, opts: &Options) -> Vec<ClaimReport> {
    let mut out = Vec::new();
    let mut claims = Vec::new();
    collect(&program.items, &mut Vec::new(), &mut claims);
    let scalar = scalar::scalar_program(program, env);
    // One sampled run of the model and its derived backward program, made when a claim
    // about tensor elements first needs it.
    let mut model: Option<Result<crate::num::gradcheck::ModelRun, String>> = None;
    // The derived statements' contributions on that run, for `includes` blocks.
    let mut derived: Option<Result<includes::Derived, String>> = None;
    let back = crate::grad::backward(program, env);
    let loss = back.seeds.first().map(String::as_str);
    let moment_keys = montecarlo::moment_keys(program, env);
    let mut trials = BTreeMap::new();
    let mut mc_budget = montecarlo::FILE_BUDGET;
    for (item, claim, at) in claims {
        let (line, column) = line_col(source, item.span.start as usize);
        // Engines for particular claim forms (update rules, invariances, exact
        // expectations over discrete distributions) answer first; `None` means the
        // claim is not theirs.
        let special = special::decide(claim, program, env, opts);
        let handled = special.is_some();
        let (mut verdict, mut method, mut evidence) = match special {
            Some(o) => o,
            None => decide(
                claim,
                &at,
                cost::cost_calls(&claim.body, program, env, &back.items),
                scalar.as_ref(),
                env,
                opts,
            ),
        };
        if !handled
            && verdict == Verdict::Undecided
            && !opts.no_numeric
            && !opts.no_monte_carlo
            && claim.includes.is_none()
        {
            if let Some(o) = montecarlo::decide(
                claim,
                program,
                env,
                &back.items,
                loss,
                opts.seed,
                &moment_keys,
                &mut trials,
                &mut mc_budget,
            ) {
                (verdict, method, evidence) = o;
            }
        }
        let numeric_claim = !handled
            && verdict == Verdict::Undecided
            && (evidence.contains("tensor element") || evidence.contains("explicit sums"))
            && at.is_empty();
        if (claim.includes.is_some() || numeric_claim) && opts.no_numeric {
            evidence = format!("{evidence}; numeric runs are turned off");
        } else if claim.includes.is_some() || numeric_claim {
            let m = model.get_or_insert_with(|| {
                crate::num::gradcheck::run_model(program, env, &back.items, loss, opts.seed)
                    .map_err(|e| e.message)
            });
            match (m, &claim.includes, &claim.body) {
                (Err(e), _, _) => evidence = format!("{evidence}; the model cannot be run: {e}"),
                (Ok(m), Some(block), _) => {
                    let d = derived
                        .get_or_insert_with(|| includes::Derived::new(&back.items, program, m));
                    (verdict, method, evidence) = match d {
                        Ok(d) => includes::decide(block, d, opts.seed),
                        Err(e) => (Verdict::Undecided, "none".into(), e.clone()),
                    }
                }
                (Ok(m), None, ast::Expr::Rel(RelOp::Eq, l, r, _)) => {
                    (verdict, method, evidence) =
                        numeric::decide(l, r, &claim.given, program, &mut m.machine, opts.seed)
                }
                _ => {}
            }
        }
        out.push(ClaimReport {
            line,
            column,
            source: claim.text.clone(),
            verdict,
            method,
            evidence,
            expect: claim.expect,
        });
    }
    out
}

/// Claims with the point (`at a = 2, b = 1`) in force where they stand.
fn collect<'a>(
    items: &'a [Item],
    at: &mut Vec<Binding>,
    out: &mut Vec<(&'a Item, &'a Claim, Vec<Binding>)>,
) {
    for item in items {
        match &item.kind {
            ItemKind::At(bs) => *at = bs.clone(),
            ItemKind::Claim(c) => {
                let mut here = at.clone();
                here.extend(c.at.iter().cloned());
                out.push((item, c, here));
            }
            ItemKind::Loop(l) => collect(&l.body, &mut at.clone(), out),
            _ => {}
        }
    }
}

fn undecided(why: impl Into<String>) -> (Verdict, String, String) {
    (Verdict::Undecided, "none".to_string(), why.into())
}

fn decide(
    claim: &Claim,
    at: &[Binding],
    calls: BTreeMap<String, Result<Expr, String>>,
    program: Option<&scalar::ScalarProgram>,
    env: &Env,
    opts: &Options,
) -> (Verdict, String, String) {
    if claim.includes.is_some() {
        return undecided("`includes` blocks are decided on a sampled run of the model");
    }
    if claim.boundary.is_some() {
        return undecided(
            "claims under another boundary rule need the moments engine, which is not built yet",
        );
    }
    let ast::Expr::Rel(op, l, r, _) = &claim.body else {
        return undecided("predicate claims (`f(...)`) are not decided yet");
    };
    let mut scope = program.map(|p| p.scope()).unwrap_or_default();
    scope.calls = calls;
    let lower = |e: &ast::Expr| scalar::lower(e, &scope);
    let (mut lhs, mut rhs) = match (lower(l), lower(r)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return undecided(e),
    };
    let rel = match op {
        RelOp::Eq => Rel::Eq,
        RelOp::Le => Rel::Le,
        RelOp::Ge => Rel::Ge,
        RelOp::Lt => Rel::Lt,
        RelOp::Gt => Rel::Gt,
        RelOp::Approx => {
            let tol = match &claim.tol {
                Some(t) => match lower(t).ok().and_then(|t| t.as_num().cloned()) {
                    Some(t) => num_traits::ToPrimitive::to_f64(&t).unwrap_or(0.0),
                    None => return undecided("the tolerance is not a number"),
                },
                None => 1e-6,
            };
            Rel::Approx(tol)
        }
    };
    // Givens: `x == value` substitutes, other relations restrict the points.
    let mut assumptions = Vec::new();
    for g in &claim.given {
        let ast::Expr::Rel(gop, gl, gr, _) = g else {
            return undecided("a given that is not a relation");
        };
        let (a, b) = match (lower(gl), lower(gr)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return undecided(format!("given: {e}")),
        };
        match (gop, &a) {
            (RelOp::Eq, Expr::Sym(name)) => {
                lhs = lhs.subs(name, &b);
                rhs = rhs.subs(name, &b);
            }
            (RelOp::Eq, Expr::Pow(base, e))
                if matches!(**base, Expr::Sym(_)) && e.as_int().is_some() =>
            {
                // `sigma_W^2 == v`: substitute sigma_W = v^(1/n) (sigma_W > 0 is implied
                // by a variance parameter).
                let Expr::Sym(name) = &**base else { continue };
                let root = Expr::pow(b.clone(), Expr::pow((**e).clone(), Expr::int(-1)));
                lhs = lhs.subs(name, &root);
                rhs = rhs.subs(name, &root);
            }
            _ => {
                let r = match gop {
                    RelOp::Eq => Rel::Eq,
                    RelOp::Le => Rel::Le,
                    RelOp::Ge => Rel::Ge,
                    RelOp::Lt => Rel::Lt,
                    RelOp::Gt => Rel::Gt,
                    RelOp::Approx => Rel::Approx(1e-6),
                };
                assumptions.push((a, r, b));
            }
        }
    }
    if !at.is_empty() {
        let pt = match scalar::point(at) {
            Ok(p) => p,
            Err(e) => return undecided(format!("the point: {e}")),
        };
        lhs = scalar::at(&lhs, &pt);
        rhs = scalar::at(&rhs, &pt);
    }
    let opts = sym::CheckOptions {
        seed: opts.seed,
        integer_symbols: env.sizes.keys().cloned().collect(),
        assumptions,
        ..Default::default()
    };
    let d = sym::check_relation(&lhs, &rel, &rhs, &opts);
    (d.verdict, d.method, d.evidence)
}
