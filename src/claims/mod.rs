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
pub use options::{Cancel, MemoryGate, MemoryTicket, Options, Progress, FULL_WORK_SHARES};
pub use outcome::Outcome;
pub use route::Route;

mod near_miss;
mod supports;
mod symbolic;
mod with_moments;

use symbolic::decide;
pub use symbolic::{claim_domains, MAX_CLAIM_NODES};
use with_moments::{
    claim_at_point, claim_with_point, confirm_elsewhere, decide_with_moments, without_at,
};
pub use with_moments::{other_points, ratio_roots};

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
        // An expectation is met only by its own verdict: an `expect refuted` claim that
        // comes out undecided has not been shown false, so the file does not pass.
        match (self.expect, self.verdict) {
            (Some(Expectation::Refuted), v) => v == Verdict::Refuted,
            (Some(Expectation::Undecided), v) => v == Verdict::Undecided,
            (None, Verdict::Undecided) => !strict,
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

pub use crate::syntax::visit::program_loops;
mod collect;
mod exact_vs_mc;
pub use collect::claim_items;
use collect::collect;
mod element_checks;
#[allow(unused_imports)]
pub use element_checks::*;

/// Whether `text` uses the variable `var` as a name of its own (`l` in `h_l`, `l+1`,
/// not in `ln` or `l'`).
pub fn mentions(text: &str, var: &str) -> bool {
    text.match_indices(var).any(|(k, _)| {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '\'');
        !word(text[..k].chars().last()) && !word(text[k + var.len()..].chars().next())
    })
}

/// Why a claim is undecided once its file's exact work is spent.
fn exact_file_reason(file: &sym::ExactWork, opts: &Options) -> String {
    format!(
        "the exact work of this file exceeded its budget of {} units (sym::EXACT_FILE_WORK{}), spent by the claims and analyses before this one; no exact engine was started",
        file.limit(),
        opts.exact_share_note()
    )
}

/// Why a claim after the file's symbolic work ran out is undecided.
fn sym_file_reason(file_work: usize, opts: &Options) -> String {
    format!(
        "the symbolic work of this file exceeded its budget of {} units (sym::FILE_WORK{}), spent by the claims before this one",
        file_work,
        opts.share_note()
    )
}

/// Decides every claim of a checked program, in file order.
pub fn decide_all(a: &Analysis, source: &str, opts: &Options) -> Vec<ClaimReport> {
    // Everything below charges the file's exact work (`sym::ExactWork`); each claim runs
    // under a counter of its own, added to the file's after it.
    // And the interior runs of its claims, one budget (`montecarlo::interior`).
    let within = || montecarlo::with_interior_runs(|| decide_all_within(a, source, opts));
    // The model's items listed once (perf41, `syntax::model_items`).
    let within = || crate::syntax::model_items::with_model_items(a.program, within);
    // And the sampled runs of the model its claims make, one budget (`num::gradcheck::
    // FILE_RUNS_BUDGET`; a variant's share of it).
    let runs = opts.work_share(crate::num::gradcheck::FILE_RUNS_BUDGET);
    let within = || crate::num::gradcheck::with_file_runs(runs, within);
    sym::with_exact_work(a.exact_work(), within)
}

/// The outcomes of the file's `includes` blocks, decided on the file itself (its own
/// `sample` values, the whole of its budgets), for the checks of its variants
/// ([`includes::Shared`], `Options::shared_includes`).
pub fn shared_includes(a: &Analysis, source: &str, opts: &Options, into: &mut includes::Shared) {
    let opts = Options {
        includes_only: true,
        shared_includes: None,
        cache: None,
        ..opts.clone()
    };
    let reports = decide_all(a, source, &opts);
    let mut claims = Vec::new();
    collect(&a.program.items, a.env, &mut Vec::new(), &mut claims);
    let blocks: Vec<(&[Item], Outcome)> = claims
        .iter()
        .filter_map(|(_, c, _, _)| c.includes.as_deref())
        .zip(reports)
        .map(|(b, r)| {
            let mut o = Outcome::new(r.verdict, r.method, r.evidence);
            o.rule = r.rule;
            o.witness = r.witness;
            (b, o)
        })
        .collect();
    into.add(a.program, blocks);
}

fn decide_all_within(a: &Analysis, source: &str, opts: &Options) -> Vec<ClaimReport> {
    let (program, env) = (a.program, a.env);
    let file_exact = a.exact_work();
    let (mut out, mut claims) = (Vec::new(), Vec::new());
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
    let (back, loss) = (a.backward(), a.loss());
    let moment_keys = montecarlo::moment_keys(program, env, &back.items);
    // The settings whose trials the claim being decided read (for the verdict cache).
    let used_settings = std::cell::RefCell::new(std::collections::BTreeSet::new());
    // Monte Carlo's runs read no `at` line (a claim's point reaches them as givens), nor claims.
    let mc_program = without_at(program);
    let mc_model = with_moments::without_claims(&mc_program);
    let _listed = crate::syntax::model_items::listed(&mc_program); // perf42
    let mc_ctx = montecarlo::Ctx {
        program: &mc_model,
        env,
        back: &back.items,
        loss,
        seed: opts.seed,
        targets: &moment_keys,
        fixed_budget: false,
        shares: opts.monte_carlo_shares.max(1),
        precision: opts.precision,
        used: &used_settings,
    };
    let mut trials = BTreeMap::new();
    let positions = moments::PositionRuns::default();
    let mut mc_budget = montecarlo::FILE_BUDGET;
    // The file's symbolic work budget, or its share when several checks share one
    // (`tq variants --count K` past `options::FULL_WORK_SHARES`, docs/cli.md).
    let file_work = opts.work_share(sym::FILE_WORK as u64) as usize;
    let mut sym_left = file_work;
    let lines = crate::syntax::span::LineIndex::new(source);
    // The verdict cache: what every claim's key shares (the file without its claims,
    // the options, what the moment claims ask of the trials).
    // Digested once: the context is as long as the file, and hashing it again for each
    // claim's key was quadratic (50,000 claims in 1 MiB: 2 s of the 3 s of `tq check`).
    let shared = opts.cache.as_ref().map(|_| {
        let mut spans = Vec::new();
        claim_items(&program.items, &mut spans);
        let text = format!(
            "{}\u{0}{}\u{0}{} {} {} {} {} {}",
            cache::context(source, &spans),
            cache::file_facts(env),
            opts.precision.name(),
            opts.seed,
            opts.no_numeric,
            opts.no_monte_carlo,
            opts.no_gradcheck,
            opts.monte_carlo_shares.max(1),
        );
        cache::digest(&[&text])
    });
    // Whether an exact constant of the lowered program reached the bit budget (kept in
    // parts: the claims over it may then not be proved, and say why).
    let program_bits = sym::take_exact_budget_hit();
    // Set once a claim ran out of the file's symbolic work (its limit was what the file
    // had left): every later claim is refused at once, without starting an engine, so
    // a claim past the budget costs the same whatever the engines would have done
    // (20,000 copies of a claim past the budget ran the point evaluations of each, about
    // 1 ms a claim, 21 s in all).
    let mut sym_file_spent = false;
    // The program's update rules read as linear systems, once for all its rule claims.
    let mut rules_read: Option<rules::Read> = None;
    // The left sides of element claims written out for their exact checks, shared by the
    // claims (each replays the work a side cost: verdicts and budgets are as without it).
    let shared_sides = std::cell::RefCell::new(tensor_sym::SharedSides::default());
    for (span, claim, at, written_tail) in &claims {
        let (claim, at) = (claim, at.clone());
        // The claim as written, for its report; the engines read `claim`, where a
        // `given boundary R` that is the file's own rule is dropped: it names the same
        // model, and every engine decides the claim as about that model (a claim with
        // `given boundary circular` in a circular file went to Monte Carlo only).
        let shown = claim;
        let same_model;
        let claim = if claim.boundary.is_some() && claim.boundary == env.boundary {
            same_model = Claim {
                boundary: None,
                ..claim.clone()
            };
            &same_model
        } else {
            claim
        };
        if opts.cancel.as_ref().is_some_and(|c| c.cancelled()) {
            // Nobody wants the rest (`Options::cancel`: the editor's document changed).
            break;
        }
        if opts.includes_only && claim.includes.is_none() {
            continue;
        }
        let (line, column) = lines.line_col(span.start as usize);
        if let Some(p) = &opts.progress {
            // The claim as its report prints it, with its `tol`, `given` and `at`.
            p.say(&format!("line {line}: {}{written_tail}", shown.text));
        }
        let limit = sym::CLAIM_WORK.min(sym_left);
        // The claim's exact work: its own budget, within what the file has left.
        let exact_limit = sym::EXACT_CLAIM_WORK.min(file_exact.left());
        let key = match (&opts.cache, &shared) {
            (Some(c), Some(shared)) => {
                Some(
                    c.key(&[
                        shared,
                        source
                            .get(span.start as usize..span.end as usize)
                            .unwrap_or(""),
                        // The claim's identity (fix42, probe42 r05): its line, `expect`
                        // marker, resolved givens, point and `includes` block.
                        &cache::claim_identity(shown, claim, &at, line),
                        &limit.to_string(),
                        &exact_limit.to_string(),
                        // A moment claim: what its trials' budget reads of the other
                        // claims (the settings' dependencies are checked on reading).
                        &montecarlo::budget_key(&moment_keys, claim).unwrap_or_default(),
                    ]),
                )
            }
            _ => None,
        };
        used_settings.borrow_mut().clear();
        if let (Some(c), Some(key)) = (&opts.cache, &key) {
            // An entry stands only while the settings whose trials it read ask the same
            // of them (the tensors their claims mention).
            let current = |k: &str| montecarlo::setting_needs(&moment_keys, k);
            if let Some((mut r, work, exact)) = c.get(key, current) {
                r.line = line;
                r.column = column;
                sym_left = sym_left.saturating_sub(work as usize);
                file_exact.absorb(exact);
                out.push(r);
                continue;
            }
        }
        // The engine that owns the claim's form answers first (`Elements` may leave the
        // claim to the general engines by answering `None`).
        let route = Route::of(claim, program, env);
        // The point in force at the claim (the `at` lines before it, its own `at`), as
        // givens: the element engines, the sampled run and Monte Carlo read givens, and
        // read no `at` line (probe33/a a20-a22: they drew alpha freely, or ran at the
        // file's last `at`, or declined every claim under an `at`).
        let pointed = claim_with_point(claim, &at, env);
        let with_point = pointed.as_ref().unwrap_or(claim);
        // All the symbolic work of one claim shares one budget (`sym::CLAIM_WORK`), and
        // all the claims of the file one more (`sym::FILE_WORK`); beyond either the claim
        // is undecided, whatever the engines concluded from expressions they could no
        // longer expand.
        sym::take_exact_budget_hit();
        let exact_before = file_exact.used();
        let claim_exact = sym::ExactWork::new(exact_limit);
        // Once the file's exact work is spent no exact engine starts: the claim is
        // undecided at once, with the reason (Monte Carlo, which has its own budget,
        // may still decide it below).
        let file_spent = file_exact.spent() || exact_limit == 0;
        // Likewise once the file's symbolic work is spent.
        let sym_spent = !file_spent && (sym_file_spent || limit == 0);
        let ((handled, o), work) = sym::with_work_budget(limit, || {
            sym::with_exact_work(&claim_exact, || {
                if file_spent {
                    return (false, undecided(exact_file_reason(file_exact, opts)));
                }
                if sym_spent {
                    return (false, undecided(sym_file_reason(file_work, opts)));
                }
                let owned = match (route, &claim.body) {
                    (Route::UpdateRules, _) => {
                        let read = rules_read.get_or_insert_with(|| rules::read(program));
                        Some(rules::decide_read(claim, &at, read, env, opts.seed))
                    }
                    (Route::Invariant, ast::Expr::Call(c)) => {
                        Some(tensor_sym::decide_invariant(c, claim, &at, a, opts))
                    }
                    (Route::Elements, _) => {
                        tensor_sym::decide_relation(with_point, a, opts, &shared_sides)
                    }
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
                        &mc_program,
                        &base_scope,
                        env,
                        opts,
                        &positions,
                    ),
                };
                (handled, o)
            })
        });
        sym_left -= work.used;
        file_exact.absorb(claim_exact.used());
        let mut o = o;
        if claim_exact.spent() && o.verdict != Verdict::Refuted && !file_spent {
            // Some exact operation was refused: whatever the engines concluded without
            // it is not a decision.
            let why = if exact_limit < sym::EXACT_CLAIM_WORK {
                exact_file_reason(file_exact, opts)
            } else {
                format!(
                    "the exact work exceeded its budget of {} units (sym::EXACT_CLAIM_WORK)",
                    sym::EXACT_CLAIM_WORK
                )
            };
            o = Outcome {
                on_elements: o.on_elements,
                ..undecided(why)
            };
        }
        if o.verdict == Verdict::Undecided && (sym::take_exact_budget_hit() || program_bits) {
            o.evidence = format!(
                "{}; an exact constant reached the size budget of {} bits (sym::MAX_BITS) and was left unreduced",
                o.evidence,
                sym::MAX_BITS
            );
        }
        if work.exhausted && limit < sym::CLAIM_WORK {
            sym_file_spent = true;
        }
        if work.exhausted && o.verdict != Verdict::Refuted {
            let why = if limit < sym::CLAIM_WORK {
                sym_file_reason(file_work, opts)
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
            let claim = with_point;
            let at_witness = match (&o.witness, need) {
                (Some(w), montecarlo::Need::Recheck) => claim_at_point(claim, &w.point, env),
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
                    // The exact engines at a point (the least sizes), where the trials
                    // there decide nothing: the moments engine (position by position under
                    // zero padding included), within the claim's own work budgets.
                    let exact_at = |c: &Claim| {
                        let exact = sym::ExactWork::new(exact_limit.min(file_exact.left()));
                        sym::with_work_budget(limit, || {
                            sym::with_exact_work(&exact, || {
                                decide_with_moments(
                                    c,
                                    &at,
                                    cost::cost_calls(&c.body, program, env, &back.items),
                                    a,
                                    program,
                                    &base_scope,
                                    env,
                                    opts,
                                    &positions,
                                )
                            })
                        })
                        .0
                    };
                    mc = confirm_elsewhere(
                        claim,
                        program,
                        env,
                        mc,
                        |c| {
                            montecarlo::decide(
                                c,
                                &mc_ctx,
                                &mut trials,
                                &mut mc_budget,
                                montecarlo::Need::Decide,
                            )
                        },
                        exact_at,
                        opts,
                    );
                }
                if let Some((_, point)) = &at_witness {
                    mc.evidence = format!("at the witness ({point}): {}", mc.evidence);
                }
                // Under zero padding the moments engine's value is the one away from the
                // border; where the tensor has elements at the border too, the trials'
                // pool mixes two position classes and is no element's: it neither
                // refutes nor confirms (session 29: `Var(z) == D C s^2 v` of a strided
                // convolution was "refuted" by the pool's 1.21 against 1.5).
                if let (Some(why), Verdict::Refuted | Verdict::Confirmed) =
                    (&o.border_pool, mc.verdict)
                {
                    mc = undecided(format!(
                        "{why}, so Monte Carlo's {} against the pool decides nothing ({})",
                        mc.verdict.as_str(),
                        mc.evidence
                    ));
                }
                if by_moments {
                    // The second check: Monte Carlo on the model itself.
                    let disagree = matches!(
                        (o.verdict, mc.verdict),
                        (Verdict::Proved | Verdict::Confirmed, Verdict::Refuted)
                            | (Verdict::Refuted, Verdict::Confirmed)
                    );
                    // Monte Carlo's 5% confirmation never vetoes an exact refutation.
                    let w = at_witness.as_ref().map(|(c, _)| c);
                    let need = montecarlo::Need::Recheck;
                    let stands = exact_vs_mc::refutation_stands(&o, &mc, w, |c| {
                        montecarlo::decide(c, &mc_ctx, &mut trials, &mut mc_budget, need)
                    });
                    if let Some(why) = stands {
                        mc.evidence = format!("{}; {why}", mc.evidence);
                    } else if disagree {
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
                    // Neither path decided: the reader sees why each stopped.
                    if mc.verdict == Verdict::Undecided
                        && o.verdict == Verdict::Undecided
                        && !o.evidence.is_empty()
                    {
                        mc.evidence = format!("{}; exact engines: {}", mc.evidence, o.evidence);
                    }
                    o = mc;
                }
            }
        }
        // Sampling confirms a formula only where it is defined: a claim whose formula is
        // undefined at a point of the domains (`m (a - 1)/(a - 1)` at a = 1, an AR(1)
        // closed form over `1 - a^2`) is not confirmed, whatever the trials showed
        // (docs/soundness.md, "Definedness").
        if o.verdict == Verdict::Confirmed && o.method == Method::MonteCarlo {
            let costs = cost::cost_calls(&claim.body, program, env, &back.items);
            // The conditions of the moments the claim reads (`y = sqrt(a - c) x`: a >= c),
            // which the formula's own lowering no longer shows.
            let mut scope = base_scope.clone();
            let mut found = Vec::new();
            moments::find(&claim.body, &mut found);
            for c in found {
                let conds = a.moments().conditions_of(env, &ast::Expr::Call(c.clone()));
                if !conds.is_empty() {
                    let text = crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()));
                    scope.call_conditions.insert(text, conds);
                }
            }
            if let Some(why) = symbolic::undefined_somewhere(
                claim,
                costs,
                symbolic::Lowering {
                    at: &at,
                    base: &scope,
                    env,
                    opts,
                },
            ) {
                o = undecided(format!(
                    "Monte Carlo agrees where the formula is defined ({}), but {why}",
                    o.evidence
                ));
            }
        }
        // Trials never tell a long decimal from the fraction beside it (`<= 0.6666666666`).
        if o.verdict == Verdict::Confirmed && o.method == Method::MonteCarlo {
            if let Some(why) = near_miss::decimal_beside_fraction(claim) {
                o = undecided(format!("Monte Carlo agrees ({}), but {why}", o.evidence));
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
        // A refutation by quadrature that Monte Carlo refuted too carries Monte Carlo's
        // witness (sizes, symbols, estimates): the quadrature found it, the trials re-checked it.
        if o.method == Method::Quadrature && o.verdict == Verdict::Refuted && o.witness.is_none() {
            if let Some(mut w) = numeric.as_ref().and_then(|n| n.witness.clone()) {
                w.checked_by = format!(
                    "found by Gauss–Hermite quadrature ({}), re-checked by Monte Carlo on the model: {}",
                    o.evidence, w.checked_by
                );
                o.witness = Some(w);
            }
        }
        o = symbolic::confirmed_at_irrational_end(claim, env, o); // snd40, wrong42
        if o.verdict != Verdict::Proved {
            o.rule = None;
        }
        if o.verdict != Verdict::Refuted {
            o.witness = None;
        }
        // A sampled run of the model decides `includes` blocks, and the claims the
        // general engines left undecided because they read tensor elements.
        // A variant's block decided once on the file (`Options::shared_includes`).
        let shared_block = match (&opts.shared_includes, &claim.includes) {
            (Some(s), Some(block)) if route == Route::Includes => s.outcome(program, block),
            _ => None,
        };
        let sampled = shared_block.is_none()
            && (route == Route::Includes
                || (!handled && o.verdict == Verdict::Undecided && o.on_elements));
        if let Some(shared) = shared_block {
            o = shared;
        } else if sampled && opts.no_numeric {
            o.evidence = format!("{}; numeric runs are turned off", o.evidence);
        } else if sampled {
            // The runs read the claim's point from its givens, no `at` line of the file.
            let (claim, program) = (with_point, &mc_program);
            // What the runs at the other points read (the gather form written once).
            let gather_all = std::cell::OnceCell::new();
            let elsewhere = |seed| element_checks::Elsewhere {
                claim,
                program,
                env,
                scatter: &back.items,
                gather: gather_all.get_or_init(|| a.gather_items()),
                loss,
                seed,
            };
            // The givens that set values (`c = 2`, `sigma^2 = 1/4`, read by the one reader
            // of givens) are the run's values, as on every other path; the others
            // restrict the elements the run tests.
            let (sets, residual) = sampled_givens(claim, env);
            let run_at = |items: &[Item], s: u64| {
                if sets.is_empty() {
                    crate::num::gradcheck::run_model(program, env, items, loss, s)
                } else {
                    let setup = |m: &mut crate::num::Machine| {
                        montecarlo::apply_givens(m, program, env, &sets, None)?;
                        // Inputs without a distribution are any value, as at the sample values.
                        m.arbitrary_inputs = true;
                        Ok(())
                    };
                    crate::num::gradcheck::run_model_with(program, env, items, loss, s, &setup)
                }
                .map_err(|e| e.message)
            };
            let mut own_run;
            // An `includes` block under a point (`at c = 3`) or a setting given runs at that
            // point, as element claims do (rule43, probe43 r16: it ran at the `sample` values).
            let m = if sets.is_empty() {
                model.get_or_insert_with(|| {
                    crate::num::gradcheck::run_model(program, env, &back.items, loss, opts.seed)
                        .map_err(|e| e.message)
                })
            } else {
                own_run = run_at(&back.items, opts.seed);
                &mut own_run
            };
            // crit43: `l ~= r tol t` is run as `abs(l - r) <= t` (it was not run at all).
            let bound = tensor_sym::approx_as_bound(claim);
            match (
                m,
                &claim.includes,
                bound.as_ref().map_or(&claim.body, |c| &c.body),
            ) {
                (Err(e), _, _) => {
                    o.evidence = format!("{}; the model cannot be run: {e}", o.evidence)
                }
                (Ok(m), Some(block), _) => {
                    let steps = includes::StepBudget::new(
                        opts.work_share(includes::INCLUDES_STEPS),
                        opts.share_note(),
                    );
                    // The file's shared derivation belongs to the run at the sample
                    // values; a block at its own point derives on its own run.
                    let own_derived;
                    let d = if sets.is_empty() {
                        derived.get_or_insert_with(|| {
                            includes::Derived::new(&back.items, program, m, steps.again())
                        })
                    } else {
                        own_derived =
                            includes::Derived::new(&back.items, program, m, steps.again());
                        &own_derived
                    };
                    let mut found = None;
                    let mut untested = false;
                    o = match d {
                        Ok(d) => {
                            includes::decide_found(block, d, opts.seed, &mut found, &mut untested)
                        }
                        Err(e) => undecided(e.clone()),
                    };
                    let tried = retry_seeds(&mut o, untested, opts.seed, |s, untested| {
                        let run = run_at(&back.items, s).ok()?;
                        Some(
                            match includes::Derived::new(&back.items, program, &run, steps.again())
                            {
                                Ok(d) => includes::decide_found(block, &d, s, &mut found, untested),
                                Err(e) => undecided(e),
                            },
                        )
                    });
                    let seed_used = opts.seed.wrapping_add(tried as u64);
                    if let (Verdict::Refuted, Some(f)) = (o.verdict, found) {
                        // Re-checked against the gather form's statements (another
                        // derivation of the same gradients) on the run that refuted it.
                        let gather_items = a.gather_items();
                        let own_retry;
                        let again = if tried == 0 {
                            Ok(&*m)
                        } else {
                            match run_at(&back.items, seed_used) {
                                Ok(r) => {
                                    own_retry = r;
                                    Ok(&own_retry)
                                }
                                Err(e) => Err(e),
                            }
                        };
                        let second = match again {
                            Ok(run) => match includes::Derived::new(
                                &gather_items,
                                program,
                                run,
                                steps.again(),
                            ) {
                                Ok(d) => includes::decide(block, &d, seed_used),
                                Err(e) => undecided(e),
                            },
                            Err(e) => undecided(e),
                        };
                        if second.verdict == Verdict::Refuted {
                            o.witness = Some(includes_witness(
                                &m.machine.consts,
                                env,
                                &f,
                                seed_used,
                                &second.evidence,
                            ));
                        } else {
                            o = undecided(format!(
                                "{}; not counted as a refutation: against the gather form's statements on the same run the block is {} ({})",
                                o.evidence,
                                second.verdict.as_str(),
                                second.evidence
                            ));
                        }
                    } else if o.verdict == Verdict::Confirmed {
                        // One run at the sample values is evidence about those sizes only:
                        // the block is decided again at the points element claims are.
                        o = includes_elsewhere(&elsewhere(seed_used), block, &steps, o);
                    }
                }
                // Equations and inequalities.
                (
                    Ok(m),
                    None,
                    ast::Expr::Rel(
                        op @ (RelOp::Eq | RelOp::Le | RelOp::Ge | RelOp::Lt | RelOp::Gt),
                        l,
                        r,
                        _,
                    ),
                ) => {
                    let op = *op;
                    let mut found = None;
                    let mut untested = false;
                    o = numeric::decide_found(
                        op,
                        l,
                        r,
                        &residual,
                        program,
                        &mut m.machine,
                        opts.seed,
                        &mut found,
                        &mut untested,
                    );
                    let last_untested = std::cell::Cell::new(untested);
                    let tried = retry_seeds(&mut o, untested, opts.seed, |s, untested| {
                        let mut run = run_at(&back.items, s).ok()?;
                        let next = numeric::decide_found(
                            op,
                            l,
                            r,
                            &residual,
                            program,
                            &mut run.machine,
                            s,
                            &mut found,
                            untested,
                        );
                        last_untested.set(*untested);
                        Some(next)
                    });
                    let mut seed_used = opts.seed.wrapping_add(tried as u64);
                    more_draws(op, &mut o, &mut found, &mut seed_used, |s, f| {
                        let (m, n) = (&mut run_at(&back.items, s).ok()?.machine, &mut false);
                        Some(numeric::decide_found(
                            op, l, r, &residual, program, m, s, f, n,
                        ))
                    });
                    if let (Verdict::Refuted, Some(f)) = (o.verdict, found) {
                        // Re-checked on a second run whose backward program is the
                        // gather form (other statements computing the same gradients),
                        // at the seed that refuted it.
                        let gather_items = a.gather_items();
                        let gather_at = |s: u64| run_at(&gather_items, s);
                        let mut other_seed;
                        let second = if seed_used == opts.seed && sets.is_empty() {
                            gather_run.get_or_insert_with(|| gather_at(opts.seed))
                        } else {
                            other_seed = gather_at(seed_used);
                            &mut other_seed
                        };
                        match recheck_element(second, op, l, r, &f) {
                            Ok(checked_by) => {
                                o.witness = Some(element_witness(
                                    &m.machine.consts,
                                    env,
                                    &f,
                                    seed_used,
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
                    } else if o.verdict == Verdict::Confirmed
                        || (o.verdict == Verdict::Undecided && last_untested.get())
                    {
                        // One run at the sample values is evidence about those values
                        // only: a claim about every value of the symbols and sizes is run
                        // again at the points Monte Carlo tests (docs/numeric.md). So is
                        // one whose runs tested nothing there (both sides 0 at every
                        // element: `u.grad[b,7] == 0` of a pool that reads u[7] only at
                        // X >= 9, probe31/d e10b): a refutation elsewhere decides it, an
                        // agreement there leaves it undecided.
                        o = elements_elsewhere(&elsewhere(seed_used), (op, l, r), o);
                    }
                }
                _ => {}
            }
        }
        // A witness names the point its claim is about, `at` values included (probe33/a a22).
        if let (Some(w), Ok(pt)) = (o.witness.as_mut(), scalar::point(&at)) {
            for (n, v) in pt {
                if let Some(r) = v.as_num() {
                    w.point.entry(n).or_insert_with(|| r.clone());
                }
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
        // A claim about no point is never proved or confirmed, whichever engine decided
        // it: givens that contradict the domains or the declarations' relations (session
        // 32: `Var(x) == a - c given a < c` with `normal(0, a - c)` was proved).
        if matches!(o.verdict, Verdict::Proved | Verdict::Confirmed) {
            if let Some(why) = symbolic::empty_setting(
                claim,
                symbolic::Lowering {
                    at: &at,
                    base: &base_scope,
                    env,
                    opts,
                },
            ) {
                o = Outcome {
                    on_elements: o.on_elements,
                    ..undecided(format!(
                        "{why} (it was {} by {})",
                        o.verdict.as_str(),
                        o.method
                    ))
                };
            }
        }
        if let Some(u) = supports::support_open(claim, &o, env) {
            o = u;
        }
        let report = ClaimReport {
            line,
            column,
            // As written, with its `tol`, `given` and `at` (which decide what it says).
            source: format!("{}{written_tail}", shown.text),
            verdict: o.verdict,
            method: o.method,
            evidence: o.evidence,
            expect: claim.expect,
            numeric,
            rule: o.rule,
            witness: o.witness,
        };
        if let (Some(c), Some(key)) = (&opts.cache, &key) {
            let depends: Vec<(String, String)> = used_settings
                .borrow()
                .iter()
                .map(|k| (k.clone(), montecarlo::setting_needs(&moment_keys, k)))
                .collect();
            c.put(
                key,
                &report,
                work.used as u64,
                file_exact.used().saturating_sub(exact_before),
                &depends,
            );
        }
        out.push(report);
    }
    out
}

fn undecided(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

/// The sizes and symbols of a run, by their sample values.
pub(crate) fn run_values(consts: &BTreeMap<String, f64>, env: &Env) -> BTreeMap<String, f64> {
    consts
        .iter()
        .filter(|(k, _)| env.sizes.contains_key(*k) || env.symbols.contains_key(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}
