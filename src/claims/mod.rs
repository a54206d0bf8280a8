//! Claims and their verdicts. Each claim is routed to the engine that can decide it;
//! a claim no engine decides is `undecided` with the reason, never `proved`.

pub mod cache;
pub mod cost;
pub mod elements;
pub mod includes;
pub mod moments;
pub mod montecarlo;
pub mod numeric;
mod options;
mod outcome;
pub mod route;
pub mod rules;
/// The AST → sym lowering lives below the claims layer (the moments engine uses it too).
pub use crate::lower as scalar;
pub mod tensor_sym;

use crate::analysis::Analysis;
use crate::check::Env;
use crate::sym::{self, Expr, Rel};
pub use crate::sym::{ProofRule, Witness};
use crate::syntax::ast::{
    self as ast, Binding, Claim, Expectation, Item, ItemKind, Program, RelOp,
};
use serde_json::json;
use std::collections::BTreeMap;

pub use crate::verdict::{Method, Verdict};
pub use options::{Options, Progress};
pub use outcome::Outcome;
pub use route::Route;

/// A decided (or undecided) claim.
#[derive(Clone, Debug)]
pub struct ClaimReport {
    pub line: usize,
    pub column: usize,
    pub source: String,
    pub verdict: Verdict,
    pub method: Method,
    pub evidence: String,
    pub expect: Option<Expectation>,
    /// The second, numeric check of a claim the moments engine decided: Monte Carlo's
    /// outcome.
    pub numeric: Option<Outcome>,
    /// The rule of a `proved` verdict (docs/soundness.md lists them); never `None`
    /// when proved.
    pub rule: Option<ProofRule>,
    /// The re-checked counterexample of a `refuted` verdict from the exact engine.
    pub witness: Option<Witness>,
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
            "method": self.method.as_str(),
            "rule": self.rule.map(ProofRule::name),
            "witness": self.witness.as_ref().map(Witness::to_json),
            "evidence": self.evidence,
            "expected": self.expect.map(|e| match e {
                Expectation::Refuted => "refuted",
                Expectation::Undecided => "undecided",
            }),
            "numeric": self.numeric.as_ref().map(|o| json!({
                "verdict": o.verdict.as_str(),
                "method": Method::MonteCarlo.as_str(),
                "evidence": o.evidence,
            })),
        })
    }

    pub fn text_line(&self) -> String {
        let expect = match self.expect {
            Some(Expectation::Refuted) => " (expected refuted)",
            Some(Expectation::Undecided) => " (expected undecided)",
            None => "",
        };
        let second = match &self.numeric {
            Some(o) => format!(
                "\n             checked again by {}: {}: {}",
                if o.method == Method::None {
                    Method::MonteCarlo
                } else {
                    o.method
                },
                o.verdict.as_str(),
                o.evidence
            ),
            None => String::new(),
        };
        let rule = match self.rule {
            Some(r) => format!(" [rule: {}]", r.name()),
            None => String::new(),
        };
        format!(
            "line {:>3}  {:<9}  {}{expect}\n             {}: {}{rule}{second}",
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
pub fn decide_all(a: &Analysis, source: &str, opts: &Options) -> Vec<ClaimReport> {
    let (program, env) = (a.program, a.env);
    let mut out = Vec::new();
    let mut claims = Vec::new();
    collect(&program.items, env, &mut Vec::new(), &mut claims);
    let scalar = a.scalar();
    let base_scope = scalar::claim_scope(program, scalar);
    // One sampled run of the model and its derived backward program, made when a claim
    // about tensor elements first needs it.
    let mut model: Option<Result<crate::num::gradcheck::ModelRun, String>> = None;
    // The derived statements' contributions on that run, for `includes` blocks.
    let mut derived: Option<Result<includes::Derived, String>> = None;
    // A second run whose backward program is the gather form: the independent path
    // that re-checks a refutation by the sampled run.
    let mut gather_run: Option<Result<crate::num::gradcheck::ModelRun, String>> = None;
    let back = a.backward();
    let loss = a.loss();
    let moment_keys = montecarlo::moment_keys(program, env);
    let mc_ctx = montecarlo::Ctx {
        program,
        env,
        back: &back.items,
        loss,
        seed: opts.seed,
        targets: &moment_keys,
        fixed_budget: false,
    };
    let mut trials = BTreeMap::new();
    let mut mc_budget = montecarlo::FILE_BUDGET;
    let mut sym_left = sym::FILE_WORK;
    let lines = crate::syntax::span::LineIndex::new(source);
    // The verdict cache: what every claim's key shares (the file without its claims,
    // the options, what the moment claims ask of the trials).
    let shared = opts.cache.as_ref().map(|_| {
        let mut spans = Vec::new();
        claim_items(&program.items, &mut spans);
        format!(
            "{}\u{0}{} {} {} {}\u{0}{:?}",
            cache::context(source, &spans),
            opts.seed,
            opts.no_numeric,
            opts.no_monte_carlo,
            opts.no_gradcheck,
            moment_keys
        )
    });
    for (span, claim, at) in &claims {
        let (claim, at) = (claim, at.clone());
        let (line, column) = lines.line_col(span.start as usize);
        if let Some(p) = &opts.progress {
            // The claim as its report prints it, with its `tol`, `given` and `at`.
            p.say(&format!(
                "line {line}: {}{}",
                claim.text,
                crate::syntax::printer::print_claim_tail(claim)
            ));
        }
        let limit = sym::CLAIM_WORK.min(sym_left);
        let key = match (&opts.cache, &shared) {
            (Some(c), Some(shared)) => {
                let at_text: Vec<String> = at
                    .iter()
                    .map(|b| {
                        format!(
                            "{}={}",
                            b.name.name,
                            crate::syntax::printer::print_expr(&b.value)
                        )
                    })
                    .collect();
                Some(
                    c.key(&[
                        shared,
                        source
                            .get(span.start as usize..span.end as usize)
                            .unwrap_or(""),
                        &claim.text,
                        &at_text.join(","),
                        &limit.to_string(),
                    ]),
                )
            }
            _ => None,
        };
        if let (Some(c), Some(key)) = (&opts.cache, &key) {
            if let Some((mut r, work)) = c.get(key) {
                r.line = line;
                r.column = column;
                sym_left = sym_left.saturating_sub(work as usize);
                out.push(r);
                continue;
            }
        }
        // The engine that owns the claim's form answers first (`Elements` may leave the
        // claim to the general engines by answering `None`).
        let route = Route::of(claim, program, env);
        // All the symbolic work of one claim shares one budget (`sym::CLAIM_WORK`), and
        // all the claims of the file one more (`sym::FILE_WORK`); beyond either the claim
        // is undecided, whatever the engines concluded from expressions they could no
        // longer expand.
        let ((handled, o), work) = sym::with_work_budget(limit, || {
            let owned = match (route, &claim.body) {
                (Route::UpdateRules, _) => Some(rules::decide(claim, program, env, opts.seed)),
                (Route::Invariant, ast::Expr::Call(c)) => {
                    Some(tensor_sym::decide_invariant(c, claim, a, opts))
                }
                (Route::Elements, _) => tensor_sym::decide_relation(claim, a, opts),
                _ => None,
            };
            let handled = owned.is_some();
            let o = match owned {
                Some(o) => o,
                None if route == Route::Includes => {
                    undecided("`includes` blocks are decided on a sampled run of the model")
                }
                None => decide_with_moments(
                    claim,
                    &at,
                    cost::cost_calls(&claim.body, program, env, &back.items),
                    a,
                    program,
                    &base_scope,
                    env,
                    opts,
                ),
            };
            (handled, o)
        });
        sym_left -= work.used;
        let mut o = o;
        if work.exhausted && o.verdict != Verdict::Refuted {
            let why = if limit < sym::CLAIM_WORK {
                format!(
                    "the symbolic work of this file exceeded its budget of {} units (sym::FILE_WORK), spent by the claims before this one",
                    sym::FILE_WORK
                )
            } else {
                format!(
                    "the symbolic work exceeded its budget of {} units (sym::CLAIM_WORK)",
                    sym::CLAIM_WORK
                )
            };
            o = Outcome {
                on_elements: o.on_elements,
                ..undecided(why)
            };
        }
        let mut numeric = None;
        let by_moments = !handled && matches!(o.method, Method::Moments | Method::Quadrature);
        if route.general()
            && !handled
            && (o.verdict == Verdict::Undecided || by_moments)
            && !opts.no_numeric
            && !opts.no_monte_carlo
        {
            // A claim the moments engine proved, or confirmed from its closed form, gets
            // a sanity run, a refutation a re-check; Monte Carlo decides the others.
            let need = match (by_moments, o.verdict) {
                (false, _) => montecarlo::Need::Decide,
                (true, Verdict::Refuted) => montecarlo::Need::Recheck,
                (true, _) => montecarlo::Need::Sanity,
            };
            // A refutation at a point of the sizes and symbols is checked again there:
            // Monte Carlo at the `sample` sizes tests another claim (the claim is about
            // every size) and could not see the failure.
            let at_witness = match (&o.witness, need) {
                (Some(w), montecarlo::Need::Recheck) => claim_at_point(claim, &w.point),
                _ => None,
            };
            let mc_claim = at_witness.as_ref().map_or(claim, |(c, _)| c);
            if let Some(mut mc) =
                montecarlo::decide(mc_claim, &mc_ctx, &mut trials, &mut mc_budget, need)
            {
                // Monte Carlo alone confirmed a claim at the sample values of its symbols:
                // the claim is about every value of them, and one that holds only there
                // (`(J sigma^2/2)^(l+1)` at J sigma^2 = 2) was confirmed. It is tested at
                // other points of the symbols' domains too; a refutation there refutes it.
                if need == montecarlo::Need::Decide && mc.verdict == Verdict::Confirmed {
                    mc = confirm_elsewhere(claim, program, env, mc, |c| {
                        montecarlo::decide(
                            c,
                            &mc_ctx,
                            &mut trials,
                            &mut mc_budget,
                            montecarlo::Need::Decide,
                        )
                    });
                }
                if let Some((_, point)) = &at_witness {
                    mc.evidence = format!("at the witness ({point}): {}", mc.evidence);
                }
                if by_moments {
                    // The second check: Monte Carlo on the model itself.
                    let disagree = matches!(
                        (o.verdict, mc.verdict),
                        (Verdict::Proved | Verdict::Confirmed, Verdict::Refuted)
                            | (Verdict::Refuted, Verdict::Confirmed)
                    );
                    if disagree {
                        o.evidence = format!(
                            "the moments engine and Monte Carlo disagree — moments: {} ({}); Monte Carlo: {} ({})",
                            o.verdict.as_str(),
                            o.evidence,
                            mc.verdict.as_str(),
                            mc.evidence
                        );
                        o.verdict = Verdict::Undecided;
                    }
                    numeric = Some(mc);
                } else {
                    o = mc;
                }
            }
        }
        // A refutation by quadrature rests on floating point: it stands only when
        // Monte Carlo on the model, an independent path, refutes the claim too.
        if o.method == Method::Quadrature
            && o.verdict == Verdict::Refuted
            && !matches!(&numeric, Some(n) if n.verdict == Verdict::Refuted)
        {
            o = undecided(format!(
                "{}; not re-checked: Monte Carlo on the model did not refute it ({}), and a floating-point value alone refutes nothing",
                o.evidence,
                numeric.as_ref().map_or("not run".to_string(), |n| format!(
                    "{}: {}",
                    n.verdict.as_str(),
                    n.evidence
                ))
            ));
        }
        if o.verdict != Verdict::Proved {
            o.rule = None;
        }
        if o.verdict != Verdict::Refuted {
            o.witness = None;
        }
        // A sampled run of the model decides `includes` blocks, and the claims the
        // general engines left undecided because they read tensor elements.
        let sampled = route == Route::Includes
            || (!handled && o.verdict == Verdict::Undecided && o.on_elements && at.is_empty());
        if sampled && opts.no_numeric {
            o.evidence = format!("{}; numeric runs are turned off", o.evidence);
        } else if sampled {
            let m = model.get_or_insert_with(|| {
                crate::num::gradcheck::run_model(program, env, &back.items, loss, opts.seed)
                    .map_err(|e| e.message)
            });
            match (m, &claim.includes, &claim.body) {
                (Err(e), _, _) => {
                    o.evidence = format!("{}; the model cannot be run: {e}", o.evidence)
                }
                (Ok(m), Some(block), _) => {
                    let d = derived
                        .get_or_insert_with(|| includes::Derived::new(&back.items, program, m));
                    let mut found = None;
                    o = match d {
                        Ok(d) => includes::decide_found(block, d, opts.seed, &mut found),
                        Err(e) => undecided(e.clone()),
                    };
                    if let (Verdict::Refuted, Some(f)) = (o.verdict, found) {
                        o.witness = Some(sym::Witness::of_run(
                            &run_values(&m.machine.consts, env),
                            match &f.element {
                                Some(e) => format!("{} (`{}`)", e, f.statement),
                                None => format!("`{}`", f.statement),
                            },
                            opts.seed,
                            format!("≈ {:.10}", f.left),
                            format!("≈ {:.10}", f.right),
                            "none independent: the statement's and the derived statements' contributions on one sampled run".into(),
                        ));
                    }
                }
                (Ok(m), None, ast::Expr::Rel(RelOp::Eq, l, r, _)) => {
                    let mut found = None;
                    o = numeric::decide_found(
                        l,
                        r,
                        &claim.given,
                        program,
                        &mut m.machine,
                        opts.seed,
                        &mut found,
                    );
                    if let (Verdict::Refuted, Some(f)) = (o.verdict, found) {
                        // Re-checked on a second run whose backward program is the
                        // gather form (other statements computing the same gradients).
                        let second = gather_run.get_or_insert_with(|| {
                            crate::num::gradcheck::run_model(
                                program,
                                env,
                                &a.gather_items(),
                                loss,
                                opts.seed,
                            )
                            .map_err(|e| e.message)
                        });
                        match recheck_element(second, l, r, &f) {
                            Ok(checked_by) => {
                                o.witness = Some(sym::Witness::of_run(
                                    &run_values(&m.machine.consts, env),
                                    f.bind
                                        .iter()
                                        .map(|(n, v)| format!("{n} = {v}"))
                                        .collect::<Vec<_>>()
                                        .join(", "),
                                    opts.seed,
                                    format!("≈ {:.10}", f.left),
                                    format!("≈ {:.10}", f.right),
                                    checked_by,
                                ));
                            }
                            Err(why) => {
                                o = undecided(format!(
                                    "{}; not counted as a refutation: {why}",
                                    o.evidence
                                ));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        // Only a documented rule may prove.
        if o.verdict == Verdict::Proved && o.rule.is_none() {
            o.verdict = Verdict::Undecided;
            o.evidence = format!(
                "{} (not counted as a proof: no proving rule applies)",
                o.evidence
            );
            o.method = Method::None;
        }
        let report = ClaimReport {
            line,
            column,
            // As written, with its `tol`, `given` and `at` (which decide what it says).
            source: format!(
                "{}{}",
                claim.text,
                crate::syntax::printer::print_claim_tail(claim)
            ),
            verdict: o.verdict,
            method: o.method,
            evidence: o.evidence,
            expect: claim.expect,
            numeric,
            rule: o.rule,
            witness: o.witness,
        };
        if let (Some(c), Some(key)) = (&opts.cache, &key) {
            c.put(key, &report, work.used as u64);
        }
        out.push(report);
    }
    out
}

/// The byte ranges of the `claim` items of a program (in loops too): what the verdict
/// cache leaves out of the context every claim's key shares.
pub fn claim_items(items: &[Item], out: &mut Vec<(usize, usize)>) {
    for it in items {
        match &it.kind {
            ItemKind::Claim(_) => out.push((it.span.start as usize, it.span.end as usize)),
            ItemKind::Loop(l) => claim_items(&l.body, out),
            _ => {}
        }
    }
}

/// Claims with the point (`at a = 2, b = 1`) in force where they stand; each step of a
/// derivation is a claim of its own, at its line. The scoping rule (docs/language.md,
/// "Claims"): the file-level `at` lines before the claim give the point (a later line
/// sets its names again), a claim's own
/// `at` overrides it name by name, and a name the claim's `given` sets takes the
/// given's value. Every claim's givens are solved here, once, in dependency order
/// ([`crate::check::givens`]): every engine reads the resolved givens.
fn collect(
    items: &[Item],
    env: &Env,
    at: &mut Vec<Binding>,
    out: &mut Vec<(crate::syntax::span::Span, Claim, Vec<Binding>)>,
) {
    let scoped = |c: &Claim, at: &[Binding]| -> (Claim, Vec<Binding>) {
        let mut c = c.clone();
        c.given = crate::check::givens::resolved(&c.given, &c.at, env);
        let set = |name: &str| {
            c.at.iter().any(|b| b.name.name == name)
                || c.given.iter().any(|g| match g {
                    ast::Expr::Rel(RelOp::Eq, l, _, _) => {
                        let l = match &**l {
                            ast::Expr::Binary(ast::BinOp::Pow, b, _, _) => b,
                            l => l,
                        };
                        matches!(l, ast::Expr::Ref(r) if r.indices.is_none()
                            && crate::syntax::printer::print_name(&r.name) == name)
                    }
                    _ => false,
                })
        };
        let mut here: Vec<Binding> = at.iter().filter(|b| !set(&b.name.name)).cloned().collect();
        here.extend(c.at.iter().cloned());
        (c, here)
    };
    for item in items {
        match &item.kind {
            // A later `at` line sets its names again and keeps the others.
            ItemKind::At(bs) => {
                at.retain(|b| !bs.iter().any(|n| n.name.name == b.name.name));
                at.extend(bs.iter().cloned());
            }
            ItemKind::Claim(c) => {
                let (c, here) = scoped(c, at);
                out.push((item.span, c, here));
            }
            ItemKind::Derivation(d) => {
                for (span, c) in d.step_claims() {
                    let (c, here) = scoped(&c, at);
                    out.push((span, c, here));
                }
            }
            ItemKind::Loop(l) => collect(&l.body, env, &mut at.clone(), out),
            _ => {}
        }
    }
}

/// Decides a claim with its moments (`E`, `Var`, `Cov`, `solve`) lowered by the moments
/// engine; see [`moments`] for when such a claim may be proved.
#[allow(clippy::too_many_arguments)]
fn decide_with_moments(
    claim: &Claim,
    at: &[Binding],
    mut calls: BTreeMap<String, Result<Expr, String>>,
    a: &Analysis,
    whole: &Program,
    base: &scalar::Scope,
    env: &Env,
    opts: &Options,
) -> Outcome {
    let analysis = a.moments();
    if let Some(o) = moments::decide_by_position(claim, whole, env, analysis) {
        return o;
    }
    let mc = moments::calls(claim, analysis, env);
    if !mc.any() || claim.boundary.is_some() {
        return decide(claim, at, calls, base, env, opts);
    }
    calls.extend(mc.calls.clone());
    let rules = |extra: &str| {
        let mut r: Vec<String> = mc.rules.iter().map(|a| a.text.clone()).collect();
        r.extend(mc.notes.iter().cloned());
        if r.is_empty() {
            extra.to_string()
        } else {
            format!("{}; {extra}", r.join("; "))
        }
    };
    // Results that hold away from the border are exact for claims about a generic
    // element (no fixed position).
    let fixed = claim.text.contains('[');
    let mut approx = mc.approx.clone();
    let border = approx.remove(&crate::moments::Approximation::Border);
    if border && fixed {
        return undecided(
            "the moments depend on the position under zero padding (the moments engine derives them away from the border)",
        );
    }
    if border {
        if let Some(why) = moments::no_interior(claim, whole, env, analysis) {
            return undecided(why);
        }
    }
    let first = decide(claim, at, calls.clone(), base, env, opts);
    let (v, m, e) = (first.verdict, first.method, first.evidence.clone());
    let opaque = !mc.opaque.is_empty();
    // An equation that holds at random values of the unknown moments holds for every
    // value (they cancel); nothing else may rest on an unknown's sampled value.
    let equation = matches!(&claim.body, ast::Expr::Rel(RelOp::Eq, ..));
    let sound = !opaque
        || (v == Verdict::Proved && m == Method::Symbolic)
        || (equation && v == Verdict::Confirmed);
    if sound && v != Verdict::Undecided {
        if !approx.is_empty() {
            return undecided(format!(
                "{} under approximations ({}), so not decided by the moments engine: {e}",
                v.as_str(),
                approx
                    .iter()
                    .map(|a| a.text())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let where_ = if border {
            " (away from the border)"
        } else {
            ""
        };
        return Outcome {
            witness: first.witness,
            ..Outcome::by_rule(
                v,
                ProofRule::MomentsClosedForm,
                Method::Moments,
                rules(&format!("{m}{where_}: {e}")),
            )
        };
    }
    // Inequalities through a bound on the variance.
    if let ast::Expr::Rel(op @ (RelOp::Le | RelOp::Lt), l, _, _) = &claim.body {
        let text = crate::syntax::printer::print_expr(l);
        // The bound in terms of the input first (Lipschitz), then the range bound.
        for (b, why) in mc.bounds.get(&text).into_iter().flatten().rev() {
            let mut c2 = calls.clone();
            c2.insert(text.clone(), Ok(b.clone()));
            let bo = decide(claim, at, c2, base, env, opts);
            let (bv, bm, be) = (bo.verdict, bo.method, bo.evidence);
            let _ = op;
            if (bv == Verdict::Proved || bv == Verdict::Confirmed) && approx.is_empty() {
                return Outcome::by_rule(
                    bv,
                    ProofRule::MomentsBound,
                    Method::Moments,
                    format!(
                        "{why}; then {} {} {}: {bm}: {be}",
                        crate::sym::to_ascii(b),
                        if matches!(op, RelOp::Lt) { "<" } else { "≤" },
                        crate::syntax::printer::print_expr(match &claim.body {
                            ast::Expr::Rel(_, _, r, _) => r,
                            _ => l,
                        })
                    ),
                );
            }
        }
    }
    // `E(relu(y)) > 0` for a symmetric input of positive variance (given).
    if let ast::Expr::Rel(RelOp::Gt, l, r, _) = &claim.body {
        let text = crate::syntax::printer::print_expr(l);
        let zero = crate::syntax::printer::print_expr(r) == "0";
        let positive_given = claim
            .given
            .iter()
            .any(|g| matches!(g, ast::Expr::Rel(RelOp::Gt, _, _, _)));
        if let Some(o) = mc.opaque.get(&text) {
            if zero && o.positive && positive_given && approx.is_empty() {
                return Outcome::proved(
                    ProofRule::ReluMeanPositive,
                    Method::Moments,
                    format!(
                        "{text} is the mean of relu of a symmetric input, positive when the input's variance is (the givens make it so): E[relu(y)] = E[|y|]/2 > 0"
                    ),
                );
            }
        }
    }
    // Moments of a function of a Gaussian, by quadrature.
    let given: Vec<(String, Expr)> = claim
        .given
        .iter()
        .filter_map(|g| match g {
            ast::Expr::Rel(RelOp::Eq, gl, gr, _) => {
                let s = scalar::lower(gr, &scalar::Scope::default()).ok()?;
                Some((crate::syntax::printer::print_expr(gl), s))
            }
            _ => None,
        })
        .collect();
    if let Some(values) = moments::quadrature(&mc, &given) {
        if !values.is_empty() && values.len() == mc.opaque.len() && values.len() <= 4 {
            // The quadrature's values are floats with an error estimate: the claim is
            // decided at every corner of the box of their error intervals, and only a
            // verdict that is the same at every corner counts. The inner engine compares
            // rationals there; nothing here is exact, so a proof is at most `confirmed`,
            // and a refutation is kept only if Monte Carlo's re-check refutes it too
            // (`decide_all`).
            let names: Vec<&String> = values.keys().collect();
            let (mut holds, mut fails, mut unknown) = (0, 0, 0);
            for corner in 0..(1u32 << names.len()) {
                let mut c2 = calls.clone();
                for (i, name) in names.iter().enumerate() {
                    let (v, e) = values[*name];
                    let x = if corner >> i & 1 == 1 { v + e } else { v - e };
                    if let Some(r) = moments::rational(x) {
                        c2.insert((*name).clone(), Ok(r));
                    }
                }
                match decide(claim, at, c2, base, env, opts).verdict {
                    Verdict::Proved | Verdict::Confirmed => holds += 1,
                    Verdict::Refuted => fails += 1,
                    Verdict::Undecided => unknown += 1,
                }
            }
            let shown: Vec<String> = values
                .iter()
                .map(|(n, (v, e))| format!("{n} = {v:.6} (error estimate {e:.0e})"))
                .collect();
            let what = format!(
                "64-point Gauss–Hermite quadrature over the Gaussian input, not exact: {}",
                shown.join(", ")
            );
            if unknown == 0 && approx.is_empty() {
                return match (holds, fails) {
                    (_, 0) => Outcome::new(
                        Verdict::Confirmed,
                        Method::Quadrature,
                        format!("{what}; the claim holds over the whole error interval"),
                    ),
                    (0, _) => Outcome::new(
                        Verdict::Refuted,
                        Method::Quadrature,
                        format!("{what}; the claim fails over the whole error interval"),
                    ),
                    _ => undecided(format!(
                        "{what}; the claim holds at one end of the error interval and fails at the other"
                    )),
                };
            }
        }
    }
    if opaque && v != Verdict::Undecided {
        let names: Vec<String> = mc.opaque.keys().cloned().collect();
        return undecided(format!(
            "{} has no exact closed form in the moments engine (only bounds or approximations)",
            names.join(", ")
        ));
    }
    first
}

/// The claim with the point's values added as givens (`I == 1`, `sigma == 1/2`), those
/// its own givens do not set already, and the point as text; `None` for an empty point
/// or one that adds nothing.
fn claim_at_point(
    claim: &Claim,
    point: &BTreeMap<String, num_rational::BigRational>,
) -> Option<(Claim, String)> {
    use crate::syntax::ast::{BinOp, Ref};
    use num_traits::Signed;
    let set: Vec<String> = montecarlo::given_values(claim)
        .ok()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let span = claim.body.span();
    let mut c = claim.clone();
    let mut shown = Vec::new();
    for (name, v) in point {
        if set.contains(name) {
            continue;
        }
        let num = |i: &num_bigint::BigInt| ast::Expr::Num(i.to_string(), span);
        let mut value = num(&v.numer().abs());
        if !v.is_integer() {
            value = ast::Expr::Binary(BinOp::Div, Box::new(value), Box::new(num(v.denom())), span);
        }
        if v.is_negative() {
            value = ast::Expr::Unary(ast::UnOp::Neg, Box::new(value), span);
        }
        let name_ref = ast::Expr::Ref(Ref::plain(name, span));
        c.given.push(ast::Expr::Rel(
            RelOp::Eq,
            Box::new(name_ref),
            Box::new(value),
            span,
        ));
        shown.push(format!("{name} = {v}"));
    }
    (!shown.is_empty()).then(|| (c, shown.join(", ")))
}

/// The points besides the sample values at which a claim Monte Carlo confirmed is
/// tested again: every symbol of the file that the claim's givens do not set and that
/// has a sample value, moved at once to 8 times and then to 1/8 of it (a value 0 to 1 and
/// to −1); a value outside the symbol's domain is replaced by the midpoint between the
/// sample value and the bound it crosses. A point where a symbol keeps its value or a
/// relation between symbols (`uniform(a, b)`: a < b) constrains a moved one is skipped.
/// Sizes keep their sample values (a run's cost grows with them).
pub fn other_points(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
) -> Vec<BTreeMap<String, num_rational::BigRational>> {
    use num_rational::BigRational;
    use num_traits::{One, Zero};
    let set: Vec<String> = match montecarlo::given_values(claim) {
        Ok(s) => s.into_iter().map(|(n, _)| n).collect(),
        Err(_) => return Vec::new(),
    };
    let mut sample: BTreeMap<String, BigRational> = BTreeMap::new();
    let mut sizes: BTreeMap<String, BigRational> = BTreeMap::new();
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs {
                let name = &b.name.name;
                if set.contains(name) {
                    continue;
                }
                let is_symbol = env.symbols.contains_key(name);
                if !is_symbol && !env.sizes.contains_key(name) {
                    continue;
                }
                if let Some(v) = scalar::lower(&b.value, &scalar::Scope::default())
                    .ok()
                    .and_then(|e| e.as_num().cloned())
                {
                    if is_symbol {
                        sample.insert(name.clone(), v);
                    } else if v.is_integer() && v >= BigRational::one() {
                        sizes.insert(name.clone(), v);
                    }
                }
            }
        }
    }
    // The sizes too: a claim true only at the sample sizes (`Var(y) == 4 sigma^2` where
    // the truth is N sigma^2 and `sample N = 4`) is tested with every size the claim
    // does not set one larger (derived sizes recomputed from them), the symbols at
    // their sample values.
    let mut out = Vec::new();
    if !sizes.is_empty()
        && sizes
            .values()
            .all(|v| *v < BigRational::from_integer(64.into()))
    {
        out.push(
            sizes
                .iter()
                .map(|(n, v)| (n.clone(), v + BigRational::one()))
                .collect(),
        );
    }
    if sample.is_empty() {
        return out;
    }
    let eight = BigRational::from_integer(8.into());
    for up in [true, false] {
        let mut point = BTreeMap::new();
        let mut ok = true;
        for (name, x) in &sample {
            let dom = env.domains.get(name);
            if dom.is_some_and(|d| !d.relations.is_empty()) {
                ok = false;
                break;
            }
            let mut v = if x.is_zero() {
                if up {
                    BigRational::one()
                } else {
                    -BigRational::one()
                }
            } else if up {
                x * &eight
            } else {
                x / &eight
            };
            if let Some(d) = dom {
                if !d.contains(&v) {
                    let bound = match (&d.lo, &d.hi) {
                        (Some((lo, _)), _) if &v <= lo => Some(lo.clone()),
                        (_, Some((hi, _))) if &v >= hi => Some(hi.clone()),
                        _ => None,
                    };
                    match bound {
                        Some(b) => v = (x + b) / BigRational::from_integer(2.into()),
                        None => {
                            ok = false;
                            break;
                        }
                    }
                    if !d.contains(&v) {
                        ok = false;
                        break;
                    }
                }
            }
            if &v == x {
                ok = false;
                break;
            }
            point.insert(name.clone(), v);
        }
        if ok {
            out.push(point);
        }
    }
    out
}

/// A claim Monte Carlo confirmed at the sample values, tested at [`other_points`]:
/// refuted at the first point that refutes it (with that point's witness), confirmed
/// when it held at every point tested, and the evidence names the points.
fn confirm_elsewhere(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
    first: Outcome,
    mut run: impl FnMut(&Claim) -> Option<Outcome>,
) -> Outcome {
    let mut held = Vec::new();
    for point in other_points(claim, program, env) {
        let Some((c, shown)) = claim_at_point(claim, &point) else {
            continue;
        };
        match run(&c) {
            Some(mut o) if o.verdict == Verdict::Refuted => {
                o.evidence = format!(
                    "at {shown} (it held at the sample values: {}): {}",
                    first.evidence, o.evidence
                );
                return o;
            }
            Some(o) if o.verdict == Verdict::Confirmed => {
                held.push(format!("confirmed at {shown}"))
            }
            Some(o) => held.push(format!("at {shown} not refuted ({})", o.evidence)),
            None => {}
        }
    }
    if held.is_empty() {
        return first;
    }
    Outcome {
        evidence: format!("{}; {}", first.evidence, held.join("; ")),
        ..first
    }
}

fn undecided(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

fn decide(
    claim: &Claim,
    at: &[Binding],
    calls: BTreeMap<String, Result<Expr, String>>,
    base: &scalar::Scope,
    env: &Env,
    opts: &Options,
) -> Outcome {
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
    let mut scope = base.clone();
    scope.calls = calls;
    let lower = |e: &ast::Expr| scalar::lower_or_why(e, &scope);
    // Unlowered because of tensor elements or explicit sums: a sampled run owns it next.
    let unlowered = |u: scalar::Unlowered, prefix: &str| Outcome {
        on_elements: u.elements,
        ..undecided(format!("{prefix}{}", u.message))
    };
    // The sides with the definedness conditions of what they divide by, take the log
    // of or take a root of, before the normal form folds them (`x/x`, `0 ln 0`).
    let ((lowered_l, lowered_r), conditions) = sym::collecting(|| (lower(l), lower(r)));
    let mut conditions = conditions;
    let (mut lhs, mut rhs) = match (lowered_l, lowered_r) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return unlowered(e, ""),
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
            (Err(e), _) | (_, Err(e)) => return unlowered(e, "given: "),
        };
        match (gop, &a) {
            (RelOp::Eq, Expr::Sym(name)) => {
                lhs = lhs.subs(name, &b);
                rhs = rhs.subs(name, &b);
                conditions = conditions
                    .iter()
                    .map(|c| c.map(|e| e.subs(name, &b)))
                    .collect();
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
                conditions = conditions
                    .iter()
                    .map(|c| c.map(|e| e.subs(name, &root)))
                    .collect();
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
    // Relations between symbols from the declarations (`uniform(a, b)`: a < b): every
    // point satisfies them too.
    for d in env.domains.values() {
        for rel in &d.relations {
            if !assumptions.contains(rel) {
                assumptions.push(rel.clone());
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
        conditions = conditions
            .iter()
            .map(|c| c.map(|e| scalar::at(e, &pt)))
            .collect();
    }
    // Values the program computes that the scope could not write out stand as atoms:
    // a proof over them holds for whatever they are, a counterexample need not be
    // reachable.
    let opaque: Vec<(String, String)> = [&lhs, &rhs]
        .into_iter()
        .flat_map(|e| scope.opaque_atoms(e))
        .filter(|(n, _)| !env.symbols.contains_key(n) && !env.sizes.contains_key(n))
        .collect();
    let opts = sym::CheckOptions {
        seed: opts.seed,
        integer_symbols: env.sizes.keys().cloned().collect(),
        domains: claim_domains(env, &assumptions),
        assumptions,
        // Scalar inputs range over the reals (0 and negative values included).
        signed_symbols: env.scalars.keys().cloned().collect(),
        // A declared symbol named `pi` or `e` is the file's symbol, not the constant
        // (symbols are drawn positive anyway).
        positive_symbols: env
            .symbols
            .keys()
            .filter(|k| matches!(k.as_str(), "pi" | "e"))
            .cloned()
            .collect(),
        conditions,
        ..Default::default()
    };
    // A claim whose sides (with the values and derivatives written out) are too large
    // is not decided: every exact engine below walks them many times.
    let nodes = [&lhs, &rhs]
        .into_iter()
        .chain(opts.conditions.iter().map(|c| c.expr()))
        .fold(0usize, |n, e| n.saturating_add(e.node_count()));
    if nodes > MAX_CLAIM_NODES {
        return undecided(format!(
            "written out in the inputs the claim has {nodes} expression nodes, more than the limit of {MAX_CLAIM_NODES} for the exact engines"
        ));
    }
    let o = Outcome::from_decision(sym::check_relation(&lhs, &rel, &rhs, &opts));
    if let (Verdict::Refuted, Some((name, why))) = (o.verdict, opaque.first()) {
        return Outcome {
            on_elements: true,
            ..undecided(format!(
                "fails only with `{name}` taken as a free value, but the program computes it ({why}), so the point need not be one it reaches: {}",
                o.evidence
            ))
        };
    }
    o
}

/// The most expression nodes ([`Expr::node_count`]) a scalar claim may have, its
/// sides and definedness conditions together, with the program's values and their
/// derivatives written out (`d(u)/d(a)` of a 200-statement chain of `exp` has 20,000):
/// past it the claim is undecided with the reason, before any exact engine walks it.
/// The largest among `problems/` and `tests/cases/` is far below it (docs/fuzzing.md).
pub const MAX_CLAIM_NODES: usize = 10_000;

/// The domains a claim's points are drawn from: the file's (inferred from the
/// declarations, `crate::check::domains`) narrowed by the claim's givens that bound a
/// symbol by a number (`c > 0`, `3 <= t`, `p <= 1/2`).
pub fn claim_domains(env: &Env, assumptions: &[sym::Assumption]) -> BTreeMap<String, sym::Domain> {
    let mut out = env.domains.clone();
    for (a, r, b) in assumptions {
        let flip = |op: &str| {
            match op {
                ">" => "<",
                ">=" => "<=",
                "<" => ">",
                "<=" => ">=",
                o => o,
            }
            .to_string()
        };
        let op = match r {
            Rel::Gt => ">",
            Rel::Ge => ">=",
            Rel::Lt => "<",
            Rel::Le => "<=",
            _ => continue,
        };
        let (name, op, c) = match (a, b) {
            (Expr::Sym(n), Expr::Num(c)) => (n, op.to_string(), c),
            (Expr::Num(c), Expr::Sym(n)) => (n, flip(op), c),
            _ => continue,
        };
        if let Some(d) = sym::Domain::relation(&op, c.clone(), "given") {
            out.entry(name.clone())
                .and_modify(|o| o.meet(&d))
                .or_insert(d);
        }
    }
    out
}

/// The sizes and symbols of a run, by their sample values.
fn run_values(consts: &BTreeMap<String, f64>, env: &Env) -> BTreeMap<String, f64> {
    consts
        .iter()
        .filter(|(k, _)| env.sizes.contains_key(*k) || env.symbols.contains_key(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Re-evaluates both sides of an element claim at the element a sampled run refuted
/// it, on the run with the gather-form backward program (same seed, same values):
/// the refutation stands when they differ there too.
fn recheck_element(
    second: &mut Result<crate::num::gradcheck::ModelRun, String>,
    l: &ast::Expr,
    r: &ast::Expr,
    f: &numeric::Found,
) -> Result<String, String> {
    let run = second
        .as_mut()
        .map_err(|e| format!("the gather form cannot be run to re-check it: {e}"))?;
    let m = &mut run.machine;
    let (x, y) = match (m.eval(l, &f.bind), m.eval(r, &f.bind)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            return Err(format!(
                "the gather-form run cannot evaluate it: {}",
                e.message
            ))
        }
    };
    let tol = 1e-9 * x.abs().max(y.abs()).max(1.0);
    if (x - y).abs() > tol {
        Ok(format!(
            "the gather-form backward program run again (left {x:.10}, right {y:.10})"
        ))
    } else {
        Err(format!(
            "on the gather-form backward program the sides agree there (left {x:.10}, right {y:.10}): the two forms of the derived program disagree"
        ))
    }
}
