//! `tq variants`: randomized versions of a problem. The parameters of the file's `vary`
//! lines are sampled (`ChaCha8Rng::seed_from_u64(seed)`) into distinct combinations;
//! each combination replaces the values of the `sample` line (sizes, symbols) or of the
//! `at` line (scalar inputs), every answer is computed again, and the variant is checked
//! by the claim engines like any file. No IO here.

use crate::check::vary::{domain, Domain};
use crate::check::Env;
use crate::claims::scalar::{lower, scalar_program, Scope};
use crate::claims::{ClaimReport, Verdict};
use crate::render::doc::Inline;
use crate::render::math;
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::*;
use crate::syntax::printer::print_program;
use crate::syntax::span::Span;
use num_rational::BigRational;
use num_traits::Signed;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
mod members;
mod output;
mod values;
use members::*;
#[allow(unused_imports)]
pub use output::*;
use values::*;

/// The most variants one run makes.
pub const MAX_VARIANTS: usize = 100;

/// Below this many combinations all are listed and `count` of them are chosen without
/// replacement; above it combinations are drawn until `count` distinct ones are found.
const ENUMERATE_BELOW: u64 = 100_000;

/// The variants to make: the parameter names and each variant's values.
#[derive(Clone, Debug)]
pub struct Plan {
    pub names: Vec<String>,
    /// How many distinct combinations exist (saturating).
    pub available: u64,
    pub requested: usize,
    pub chosen: Vec<Vec<String>>,
}

/// Chooses the variants: `count` distinct combinations, or all there are when fewer.
pub fn plan(program: &Program, count: usize, seed: u64) -> Result<Plan, String> {
    if count == 0 || count > MAX_VARIANTS {
        return Err(format!(
            "--count must be from 1 to {MAX_VARIANTS} (asked for {count})"
        ));
    }
    let mut names = Vec::new();
    let mut domains: Vec<Domain> = Vec::new();
    for item in &program.items {
        if let ItemKind::Vary(ps) = &item.kind {
            for p in ps {
                if names.contains(&p.name.name) {
                    continue;
                }
                let d = domain(p).map_err(|(_, m, _)| m)?;
                names.push(p.name.name.clone());
                domains.push(d);
            }
        }
    }
    if names.is_empty() {
        return Err(
            "the file has no `vary` line: declare the parameter ranges, e.g. `vary L in 2..12, sigma_W in 0.05..0.2`"
                .into(),
        );
    }
    let available = domains
        .iter()
        .fold(1u64, |a, d| a.saturating_mul(d.count()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let want = (count as u64).min(available) as usize;
    let decode = |mut k: u64| -> Vec<u64> {
        let mut out = vec![0; domains.len()];
        for (j, d) in domains.iter().enumerate().rev() {
            out[j] = k % d.count();
            k /= d.count();
        }
        out
    };
    let mut picks: Vec<Vec<u64>> = Vec::new();
    if available <= ENUMERATE_BELOW {
        // A partial Fisher–Yates shuffle of the combination numbers.
        let mut all: Vec<u64> = (0..available).collect();
        for k in 0..want {
            let j = rng.random_range(k..all.len());
            all.swap(k, j);
            picks.push(decode(all[k]));
        }
    } else {
        let mut seen = BTreeSet::new();
        while picks.len() < want {
            let p: Vec<u64> = domains
                .iter()
                .map(|d| rng.random_range(0..d.count()))
                .collect();
            if seen.insert(p.clone()) {
                picks.push(p);
            }
        }
    }
    let chosen = picks
        .iter()
        .map(|p| p.iter().zip(&domains).map(|(&k, d)| d.value(k)).collect())
        .collect();
    Ok(Plan {
        names,
        available,
        requested: count,
        chosen,
    })
}

/// A value of a `vary` line as an expression: a number, or the constant expression
/// it was written as (`1/3`, `sqrt(2)/4`), parsed back.
fn num_expr(t: &str) -> Expr {
    if !t
        .trim_start_matches('-')
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
    {
        let parsed = crate::syntax::parser::parse(&format!("sample v = {t}\n"));
        if let Some(ItemKind::Sample(bs)) = parsed.program.items.first().map(|i| &i.kind) {
            if let Some(b) = bs.first() {
                return b.value.clone();
            }
        }
    }
    match t.strip_prefix('-') {
        Some(r) => Expr::Unary(
            UnOp::Neg,
            Box::new(Expr::Num(r.to_string(), Span::default())),
            Span::default(),
        ),
        None => Expr::Num(t.to_string(), Span::default()),
    }
}

fn rational_expr(r: &BigRational) -> Expr {
    let n = Expr::Num(r.numer().abs().to_string(), Span::default());
    let e = if r.is_integer() {
        n
    } else {
        Expr::Binary(
            BinOp::Div,
            Box::new(n),
            Box::new(Expr::Num(r.denom().to_string(), Span::default())),
            Span::default(),
        )
    };
    if r.is_negative() {
        Expr::Unary(UnOp::Neg, Box::new(e), Span::default())
    } else {
        e
    }
}

/// The relation a chain of steps establishes between its start and its last step, by
/// transitivity: `=` steps keep the relation, `<=` and `<` (or `>=` and `>`) combine to
/// the strict one when any step is strict; opposite directions and `~=` combine to none.
pub fn chain_relation(ops: impl Iterator<Item = RelOp>) -> Option<RelOp> {
    let mut acc = RelOp::Eq;
    for op in ops {
        acc = match (acc, op) {
            (RelOp::Approx, _) | (_, RelOp::Approx) => return None,
            (a, RelOp::Eq) => a,
            (RelOp::Eq, b) => b,
            (RelOp::Le, RelOp::Le) => RelOp::Le,
            (RelOp::Le | RelOp::Lt, RelOp::Le | RelOp::Lt) => RelOp::Lt,
            (RelOp::Ge, RelOp::Ge) => RelOp::Ge,
            (RelOp::Ge | RelOp::Gt, RelOp::Ge | RelOp::Gt) => RelOp::Gt,
            _ => return None,
        };
    }
    Some(acc)
}

/// A constant value as `.tq` source, read back by the parser (`(3001/3000)^3000`): the
/// ASCII printer writes long integers as powers or sums of short ones, so the text parses.
fn constant_expr(v: &sym::Expr) -> Option<Expr> {
    let parsed = crate::syntax::parser::parse(&format!("sample v = {}\n", sym::to_ascii(v)));
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    match parsed.program.items.first().map(|i| &i.kind) {
        Some(ItemKind::Sample(bs)) => bs.first().map(|b| b.value.clone()),
        _ => None,
    }
}

/// A number literal, a negated one, or a quotient of them: a stated answer.
pub fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Num(..) => true,
        Expr::Unary(UnOp::Neg, x, _) => is_constant(x),
        Expr::Binary(BinOp::Div, a, b, _) => is_constant(a) && is_constant(b),
        _ => false,
    }
}

/// One variant before it is checked.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub values: Vec<(String, String)>,
    /// The variant as a `.tq` file (the printed program with the values substituted).
    pub source: String,
    /// Per claim, in file order: the answer tq computed for this variant, if it has one.
    pub answers: Vec<Option<String>>,
    /// Per claim, in file order: the right side's exact value at this variant's values
    /// (the claim's own givens applied first), for `tq export`: a number, or a formula in
    /// the symbols left free (a family index such as `l`); `None` where `answers` has no
    /// answer and the value is not a formula either.
    pub values_exact: Vec<Option<sym::Expr>>,
    /// Per claim, in file order: for a relation between moments (`Var(L_{l+1}) == c
    /// Var(L_l)`, or written the other way round, `c Var(L_l) == Var(L_{l+1})`), the side
    /// that is the moment alone and the moment `c` multiplies on the other side;
    /// `values_exact` then holds `c`'s exact value at this variant (a number, or a formula
    /// in a family index left free: `2^l` in `Var(h_l) == 2^l Var(h_0)`), and `tq export`
    /// asks for the ratio of the first to the second.
    pub per_moment: Vec<Option<(Expr, Expr)>>,
    /// Per claim, in file order: why `values_exact` has no value, when the reason is the
    /// budget (the variant's share of the symbolic or exact work was spent before or
    /// while its value was computed), so that a page or a question never leaves a blank
    /// without a reason, nor gives a wrong one (probe30/b: `--count 100` left 8 of 13
    /// answers blank with no word why, and `tq export` said "no exact value").
    pub budget_spent: Vec<Option<String>>,
    /// Per `derivation`, in file order: the chain as one claim (its start equals its last
    /// step, under the derivation's givens) and the last step's value at this variant,
    /// or why it has none.
    pub derivations: Vec<(String, Claim, Result<String, String>)>,
    /// Per claim, in file order: the claim as printed into `source`. A row of the
    /// variant's report is matched to its answer by this text, not by position: a claim
    /// of the variant that does not parse leaves the report one row short, and every
    /// later answer moved onto the claim before it (probe33/b b15).
    pub claim_texts: Vec<String>,
    /// Why this variant is no model at all (E0412's words: a derived size is not a whole
    /// number of at least 1 at its values, `Y` = 5/2): it has no answers and fails.
    pub invalid: Option<String>,
}

fn set_binding(bs: &mut Vec<Binding>, name: &str, value: &str) {
    match bs.iter_mut().find(|b| b.name.name == name) {
        Some(b) => b.value = num_expr(value),
        None => bs.push(Binding {
            name: Ident {
                name: name.to_string(),
                span: Span::default(),
            },
            value: num_expr(value),
        }),
    }
}

/// The derived sizes (`size Y = floor((X - DX)/2) + 1`) at a variant's values. The
/// checked program's sample line carries their values at the file's own sample; a varied
/// size changes them (every variant kept the file's Y, and answered B Y ... with it).
/// When they cannot be computed at the variant (not a whole number of at least 1), they
/// are removed from the sample line and the reason is returned, in E0412's words: the
/// variant's program has no size there and gets no answer (the variant's check, of the
/// expanded program, cannot see it: probe34 p09 answered `mults(y)` with 15 at Y = 5/2).
fn derived_at_variant(p: &mut Program, env: &Env) -> Result<(), String> {
    if env.derived_sizes.is_empty() {
        return Ok(());
    }
    let derived: BTreeSet<&str> = env.derived_sizes.iter().map(|(n, _)| n.as_str()).collect();
    let mut vals: BTreeMap<String, i64> = BTreeMap::new();
    for item in &p.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs
                .iter()
                .filter(|b| !derived.contains(b.name.name.as_str()))
            {
                let v = lower(&b.value, &Scope::default())
                    .ok()
                    .map(|v| sym::simplify(&v));
                if let Some(n) = v.as_ref().and_then(|v| v.as_num()) {
                    if n.is_integer() {
                        if let Ok(i) = i64::try_from(n.to_integer()) {
                            vals.insert(b.name.name.clone(), i);
                        }
                    }
                }
            }
        }
    }
    let sizes_set = vals.clone();
    let why = crate::check::outputs::derive_sizes_or_why(&mut vals, env);
    let computed = why.is_ok();
    let mut first = true;
    for item in p.items.iter_mut() {
        if let ItemKind::Sample(bs) = &mut item.kind {
            bs.retain(|b| !derived.contains(b.name.name.as_str()));
            if computed && std::mem::take(&mut first) {
                for (name, _) in &env.derived_sizes {
                    if let Some(v) = vals.get(name) {
                        set_binding(bs, name, &v.to_string());
                    }
                }
            }
        }
    }
    why.map_err(|why| {
        let at: Vec<String> = sizes_set
            .iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        format!("{why} at this variant's values ({})", at.join(", "))
    })
}

fn claims_mut<'a>(items: &'a mut [Item], out: &mut Vec<&'a mut Claim>) {
    for item in items {
        match &mut item.kind {
            ItemKind::Claim(c) => out.push(c),
            ItemKind::Loop(l) => claims_mut(&mut l.body, out),
            ItemKind::ForIndices(f) => claims_mut(&mut f.body, out),
            ItemKind::Rule(r) => claims_mut(&mut r.body, out),
            _ => {}
        }
    }
}

/// Substitutes one combination of values into the program and computes the answers,
/// within one file's budgets (a single variant).
pub fn prepare(program: &Program, env: &Env, names: &[String], values: &[String]) -> Prepared {
    prepare_share(program, env, names, values, 1)
}

/// Every chosen combination prepared in order, the K of them sharing one file's symbolic
/// and exact work: each gets 1/K of [`sym::FILE_WORK`] (at least [`MIN_SHARE_WORK`]
/// units) and of [`PREPARE_EXACT_WORK`], fixed before any runs, so a variant's
/// answers do not depend on the others. Each variant had a whole file's budgets: 150
/// claims over a product of 60 sums with a `1e-308` coefficient took 10 files' work in
/// `tq variants --count 10` and `tq export --count 10`.
pub fn prepare_all(
    program: &Program,
    env: &Env,
    names: &[String],
    chosen: &[Vec<String>],
) -> Vec<Prepared> {
    let k = chosen.len().max(1);
    chosen
        .iter()
        .map(|vals| prepare_share(program, env, names, vals, k))
        .collect()
}

/// The least symbolic work a variant's answers get, whatever the number of variants
/// (the answers of problems/ use far less).
pub const MIN_SHARE_WORK: usize = 60_000;

fn prepare_share(
    program: &Program,
    env: &Env,
    names: &[String],
    values: &[String],
    shares: usize,
) -> Prepared {
    // The answers are symbolic and exact work like the claims': bounded per variant, and
    // once a budget is spent the remaining claims get no answer (a file of 5,000 claims
    // over 1e-308 products took 48 s in `tq export`).
    let shares = shares.max(1) as u64;
    let exact = sym::ExactWork::new(PREPARE_EXACT_WORK / shares);
    let work = (sym::FILE_WORK / shares as usize).max(MIN_SHARE_WORK);
    let prepared = sym::with_exact_work(&exact, || {
        sym::with_work_budget(work, || {
            prepare_within(program, env, names, values, shares as usize)
        })
        .0
    });
    if std::env::var_os("TQ_DEBUG_EXACT_WORK").is_some() {
        eprintln!(
            "exact work of a variant's answers: {} of {}",
            exact.used(),
            exact.limit()
        );
    }
    prepared
}

/// The exact work the answers of all the variants of one run may do together: a quarter
/// of one file's (`sym::EXACT_FILE_WORK`), on top of the variants' checks, which share
/// one file's. The answers evaluate each claim's sides once at the variant's values
/// (problems/ use at most a few million units); a flood of claims valuing
/// `(1 + 1e-308)^60` spent a whole file's work (about 2 s) on answers alone.
pub const PREPARE_EXACT_WORK: u64 = sym::EXACT_FILE_WORK / 4;

fn prepare_within(
    program: &Program,
    env: &Env,
    names: &[String],
    values: &[String],
    shares: usize,
) -> Prepared {
    let mut p = program.clone();
    p.items.retain(|i| !matches!(i.kind, ItemKind::Vary(_)));
    let is_point = |n: &str| env.scalars.contains_key(n) && !env.sizes.contains_key(n);
    for (n, v) in names.iter().zip(values) {
        let kind_at = is_point(n);
        let mut done = false;
        for item in p.items.iter_mut() {
            match &mut item.kind {
                // The file's first `at` line is its point: a later `at` line that sets
                // the name again keeps its value for the claims after it, as a claim's
                // own `at` does (probe37 j05: every `at` line got the variant's value,
                // so the claims the author pinned to a = 1 were asked at the variant's).
                ItemKind::At(bs) if kind_at && !done => {
                    set_binding(bs, n, v);
                    done = true;
                }
                ItemKind::Sample(bs) if !kind_at => {
                    set_binding(bs, n, v);
                    done = true;
                }
                _ => {}
            }
        }
        if !done {
            let b = vec![Binding {
                name: Ident {
                    name: n.clone(),
                    span: Span::default(),
                },
                value: num_expr(v),
            }];
            let kind = if kind_at {
                ItemKind::At(b)
            } else {
                ItemKind::Sample(b)
            };
            // A new `at` line goes before the claims it is for; a `sample` line at the end.
            let at = if kind_at {
                p.items
                    .iter()
                    .position(|i| matches!(i.kind, ItemKind::Claim(_)))
                    .unwrap_or(p.items.len())
            } else {
                p.items.len()
            };
            p.items.insert(
                at,
                Item {
                    kind,
                    span: Span::default(),
                },
            );
        }
    }
    let invalid = derived_at_variant(&mut p, env).err();
    // The values every answer is evaluated at: the `sample` lines and the `at` lines in
    // force where the claim stands, with the claim's own `at` (docs/language.md, the
    // scoping rule `tq check` follows): each claim's own point (probe37 j01: a claim's
    // own `at b = 2` was not applied, so its answer kept the file's number and was
    // refuted in every other variant).
    let samples: Vec<Binding> = p
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Sample(bs) => Some(bs.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    let points = crate::render::points::points(&p.items);
    let point_consts = |at: &[Binding]| -> BTreeMap<String, sym::Expr> {
        point_values(samples.iter().chain(at.iter()))
    };
    let first_at: Vec<Binding> = p
        .items
        .iter()
        .find_map(|i| match &i.kind {
            ItemKind::At(bs) => Some(bs.clone()),
            _ => None,
        })
        .unwrap_or_default();
    // The file's point: the ranges of loops and families are read at it.
    let consts = point_consts(&first_at);
    let subs_all = |e: &sym::Expr| subs_in(e, &consts);
    // The values each family index takes at the variant (`for l in 0..L-1` at L = 3).
    let mut members = BTreeMap::new();
    let value = |e: &Expr| lower(e, &Scope::default()).ok().map(|v| subs_all(&v));
    loop_members(&p.items, &value, &mut members);
    // The members of each family at the variant (`L_0` to `L_L` for `L_{l+1}` written
    // in `for l in 0..L-1`): a claim about `Var(L_l)` is about each of them.
    let mut families = BTreeMap::new();
    family_members(&p.items, &value, &mut families);
    let backward = crate::grad::backward(&p, env);
    let scalar = scalar_program(&p, &backward);
    let scope = scalar.as_ref().map(|s| s.scope()).unwrap_or_default();
    let base_scope = crate::claims::scalar::claim_scope(&p, scalar.as_ref());
    // The moments engine, run once when a claim's side names a moment (`Var(L_l)`).
    let moments = std::cell::OnceCell::new();
    let mut answers = Vec::new();
    let mut values_exact = Vec::new();
    let mut per_moment = Vec::new();
    let mut budget_spent = Vec::new();
    let spent = |shares: usize| -> Option<String> {
        (sym::exact_work_spent() || sym::work_exhausted()).then(|| {
            if shares > 1 {
                format!(
                    "this variant's share of the work for answers (one file's, divided among the {shares} variants) was spent before this claim's value was computed; fewer variants (`--count`) leave each a larger share"
                )
            } else {
                "the work budget for answers was spent before this claim's value was computed".to_string()
            }
        })
    };
    // A stated number for a value the program defines, computed again at the variant's
    // point (`claim u == 4` at x = 2 is `u == 429025` at x = 655).
    // The value is a number, or, where the number is too large to compute within the
    // answers' budgets (`(1 + 1/a)^a` at a = 3000, ten thousand digits), the constant
    // expression it simplifies to (`(3001/3000)^3000`): the claim is restated with that,
    // never left with the file's number, which it was refuted for at the variant and
    // which failed the variant (probe33/b b12).
    let restate = |c: &Claim, at: &BTreeMap<String, sym::Expr>| -> Option<(sym::Expr, Expr)> {
        let Expr::Rel(RelOp::Eq, lhs, rhs, _) = &c.body else {
            return None;
        };
        // Under the claim's own givens when each sets a size, symbol or scalar input to
        // a value (`given b = a`): the value there, then the claim's point (`at`, its
        // own `at` applied) (probe34 p20: `u == 8 given b = a` kept the file's 8 and
        // was refuted in every other variant). A given of anything else (a value the
        // program computes, a condition) keeps the claim as written.
        let own = if c.given.is_empty() {
            Vec::new()
        } else {
            let g = crate::analysis::givens::Givens::resolve_and_read(&c.given, &c.at, env);
            let vals = g.values(true).ok()?;
            let input = |n: &str| {
                env.scalars.contains_key(n)
                    || env.symbols.contains_key(n)
                    || env.sizes.contains_key(n)
            };
            if vals.is_empty() || !vals.iter().all(|(n, _)| input(n)) {
                return None;
            }
            vals
        };
        let v = (scalar.is_some() && is_constant(rhs))
            .then(|| lower(lhs, &scope).ok())
            .flatten()
            .map(|mut v| {
                for (name, x) in &own {
                    v = sym::subs(&v, name, x);
                }
                subs_in(&v, at)
            })?;
        match v.as_num() {
            Some(r) => Some((v.clone(), rational_expr(r))),
            None if v.free_symbols().is_empty() => Some((v.clone(), constant_expr(&v)?)),
            None => None,
        }
    };
    // The restatement is not an answer but the claim the variant is checked with: a claim
    // left with the file's number is refuted at the variant's values. So once the
    // answers' share is spent, the restatements go on in a pool of their own of the same
    // size (probe31/b I: `--count 100` of a file with 100 claims before `claim u == 4`
    // refuted `u == 4` in every variant, and `tq export` exported nothing).
    let restate_exact = sym::ExactWork::new(PREPARE_EXACT_WORK / shares.max(1) as u64);
    let restate_work = std::cell::Cell::new((sym::FILE_WORK / shares.max(1)).max(MIN_SHARE_WORK));
    let restate_in_pool = |c: &Claim, at: &BTreeMap<String, sym::Expr>| {
        let ((r, exact_spent), work) = sym::with_exact_work(&restate_exact, || {
            sym::with_work_budget(restate_work.get(), || {
                (restate(c, at), sym::exact_work_spent())
            })
        });
        restate_work.set(restate_work.get().saturating_sub(work.used));
        r.filter(|_| !exact_spent && !work.exhausted)
    };
    let mut claims = Vec::new();
    let read = p.clone();
    claims_mut(&mut p.items, &mut claims);
    for (j, c) in claims.into_iter().enumerate() {
        let mut answer = None;
        let mut exact_value = None;
        // The claim's point: the `at` lines in force where it stands, then its own. A
        // claim before the first `at` line (a formula claimed for every value, as
        // comp_graph's `u == a^2/(a^2 + b^2 + 1)`) is answered at the file's point, the
        // values the page states.
        let at: Vec<Binding> = points
            .claims
            .get(j)
            .map(|pt| pt.in_force.clone())
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| first_at.clone())
            .into_iter()
            .chain(c.at.iter().cloned())
            .collect();
        let here = point_consts(&at);
        let subs_here = |e: &sym::Expr| subs_in(e, &here);
        // A claim stated to be false is decided again at the variant's values: each
        // varied size or symbol the claim's givens leave free is given its value
        // (`given m = 0`), so a page never calls a claim false where it holds at the
        // page's values (probe 29c e22: `Var(y) == I s v/p` was "false" with a witness
        // at m = 1 on the m = 0 pages, where it holds).
        if c.expect == Some(Expectation::Refuted) {
            for (n, v) in names.iter().zip(values) {
                let set = c.given.iter().any(|g| {
                    matches!(g, Expr::Rel(RelOp::Eq, l, _, _)
                        if matches!(&**l, Expr::Ref(r) if r.indices.is_none() && r.name.sub.is_empty() && r.name.base == *n))
                });
                if is_point(n) || set {
                    continue;
                }
                c.given.push(Expr::Rel(
                    RelOp::Eq,
                    Box::new(Expr::Ref(Ref::plain(n, Span::default()))),
                    Box::new(num_expr(v)),
                    Span::default(),
                ));
            }
        }
        // A claim stated to be false keeps its false value: it has no answer; nor does
        // any claim once the work budgets are spent.
        if c.expect == Some(Expectation::Refuted)
            || sym::exact_work_spent()
            || sym::work_exhausted()
        {
            if c.expect != Some(Expectation::Refuted) {
                if let Some((v, e)) = restate_in_pool(c, &here) {
                    if let Expr::Rel(_, _, rhs, _) = &mut c.body {
                        **rhs = e;
                    }
                    answers.push(Some(sym::to_latex(&v)));
                    values_exact.push(Some(v));
                    per_moment.push(None);
                    budget_spent.push(None);
                    continue;
                }
            }
            answers.push(None);
            values_exact.push(None);
            per_moment.push(None);
            budget_spent.push(spent(shares).filter(|_| c.expect != Some(Expectation::Refuted)));
            continue;
        }
        let claim = c.clone();
        // A claim whose condition given fails at the variant's values (`given L <= 2` at
        // L = 4) is about no point there: it has no answer (probe37 p03: the claimed
        // formula, true at L <= 2 only, was the graded answer at L = 3, 4 and 5).
        if let Some(g) = fails_at_variant(&claim, &subs_here) {
            answers.push(None);
            values_exact.push(None);
            per_moment.push(None);
            budget_spent.push(Some(format!(
                "its given `{g}` does not hold at this variant's values: the claim is about no point here"
            )));
            continue;
        }
        let mut moment = None;
        if let Expr::Rel(op, lhs, rhs, _) = &mut c.body {
            // A stated number for a value the program defines: computed again (not under
            // givens, which set values the variant's point does not have).
            let exact = restate(&claim, &here);
            // A side's value at the variant: the claim's own `given name = value` (and
            // `given name^2 = value`) first, then the variant's values.
            let side = |e: &Expr| -> Option<sym::Expr> {
                let v = side_value(e, &claim, env, &base_scope, &moments, &read, &backward)?;
                let v = claim_givens(v, &claim, env);
                // A formula undefined at the variant (`(s^l - 1)/(s - 1)` at s = 1, where
                // folding would read 0 · 0^-1 as 0) has no value there: no answer.
                defined_at(&v, &subs_here).then(|| subs_here(&v))
            };
            if let Some((v, e)) = exact {
                **rhs = e;
                answer = Some(sym::to_latex(&v));
                exact_value = Some(v);
            } else if matches!(op, RelOp::Eq | RelOp::Approx) {
                // A stated constant is the original answer, not one computed for the variant
                // (unless nothing varies: then it is the file's own answer).
                if is_constant(rhs) && !names.is_empty() {
                    answers.push(None);
                    values_exact.push(None);
                    per_moment.push(None);
                    budget_spent.push(None);
                    continue;
                }
                if let Some(v) = side(rhs) {
                    // `tq export` asks for values stated in the sizes and symbols, not for
                    // relations between moments (`Var(L_{l+1}) == Var(L_l) (...)`).
                    if lower(rhs, &Scope::default()).is_ok() {
                        exact_value = Some(v.clone());
                    } else if let Some((alone, (num, den, m))) = (*op == RelOp::Eq)
                        .then(|| {
                            // `c M2 == M1` (a factor on the left, one moment alone on
                            // the right) asks M1/M2; otherwise `M1 == c M2` asks M1/M2.
                            moment_factor(lhs)
                                .filter(|(num, den, _)| {
                                    !(num.is_empty() && den.is_empty())
                                        && moment_factor(rhs)
                                            .is_some_and(|(n, d, _)| n.is_empty() && d.is_empty())
                                })
                                .map(|f| (&**rhs, f))
                                .or_else(|| {
                                    moment_factor(rhs)
                                        .filter(|_| has_moment(lhs))
                                        .map(|f| (&**lhs, f))
                                })
                        })
                        .flatten()
                    {
                        // A relation between moments: its factor, where it is exact.
                        let lowered = |fs: &[&Expr]| -> Option<sym::Expr> {
                            let v = fs
                                .iter()
                                .map(|f| lower(f, &Scope::default()).ok())
                                .collect::<Option<Vec<_>>>()?;
                            Some(sym::Expr::mul(v))
                        };
                        if let (Some(n), Some(d)) = (lowered(&num), lowered(&den)) {
                            let c = sym::Expr::mul(vec![n, sym::Expr::pow(d, sym::Expr::int(-1))]);
                            let c = subs_here(&claim_givens(c, &claim, env));
                            // A factor in a family index left free (`2^l`) is a formula
                            // in it; `tq export` decides how it is asked.
                            exact_value = Some(c);
                            moment = Some((alone.clone(), m.clone()));
                        }
                    }
                    answer = Some(with_members(
                        &v,
                        &claim_members(&claim, &members, &families),
                    ));
                }
            } else if let (Some(l), Some(r)) = (side(lhs), side(rhs)) {
                // An inequality: both sides' values at the variant, related as claimed.
                let rel = match op {
                    RelOp::Le => "\\le",
                    RelOp::Ge => "\\ge",
                    RelOp::Lt => "<",
                    _ => ">",
                };
                answer = Some(format!("{} {rel} {}", shown(&l), shown(&r)));
            }
        }
        // A value left out because the budget ran out while it was computed says so.
        budget_spent.push(if answer.is_none() || exact_value.is_none() {
            spent(shares)
        } else {
            None
        });
        answers.push(answer);
        values_exact.push(exact_value);
        per_moment.push(moment);
    }
    // Each derivation's result: its last step's value at the variant's values.
    let mut derivations = Vec::new();
    let derivation_points = crate::render::points::points(&read.items).derivations;
    let mut k = 0usize;
    for item in &read.items {
        let ItemKind::Derivation(d) = &item.kind else {
            continue;
        };
        // At the `at` lines in force where it stands.
        let here = derivation_points
            .get(k)
            .filter(|pt| !pt.in_force.is_empty())
            .map(|pt| point_consts(&pt.in_force))
            .unwrap_or_else(|| consts.clone());
        k += 1;
        let Some(last) = d.steps.last() else {
            continue;
        };
        // The chain's relation as its steps combine it (`=` throughout is `=`, `=` and
        // `<` give `<`); a chain whose relations do not combine (`<=` then `>=`, a `~=`
        // step) has no one relation and no row (probe33/b b19: a `<` chain was shown as
        // the equation `x = x + 1`, proved).
        let Some(op) = chain_relation(d.steps.iter().map(|s| s.op)) else {
            continue;
        };
        let claim = Claim {
            body: Expr::Rel(
                op,
                Box::new(d.start.clone()),
                Box::new(last.expr.clone()),
                last.span,
            ),
            tol: None,
            given: d.given.clone(),
            at: vec![],
            boundary: None,
            expect: None,
            text: format!("derivation {}", d.name.name),
            includes: None,
        };
        let answer = side_value(
            &last.expr,
            &claim,
            env,
            &base_scope,
            &moments,
            &read,
            &backward,
        )
        .map(|v| shown(&subs_in(&claim_givens(v, &claim, env), &here)))
        .ok_or_else(|| {
            spent(shares).unwrap_or_else(|| {
                "tq has no exact value of its last step at this variant's values".to_string()
            })
        });
        derivations.push((d.name.name.clone(), claim, answer));
    }
    let mut claim_texts = Vec::new();
    let mut all = Vec::new();
    claims_mut(&mut p.items, &mut all);
    for c in all {
        claim_texts.push(read_back(c));
    }
    if let Some(why) = &invalid {
        // No size, no model: nothing computed above is an answer.
        answers.iter_mut().for_each(|a| *a = None);
        values_exact.iter_mut().for_each(|a| *a = None);
        per_moment.iter_mut().for_each(|a| *a = None);
        budget_spent.iter_mut().for_each(|a| *a = None);
        for d in derivations.iter_mut() {
            d.2 = Err(format!("this variant is left out: {why}"));
        }
    }
    Prepared {
        invalid,
        claim_texts,
        derivations,
        values: names.iter().cloned().zip(values.iter().cloned()).collect(),
        source: print_program(&with_derived_lines(&p, env)),
        answers,
        values_exact,
        per_moment,
        budget_spent,
    }
}

/// A claim's text as the variant's check prints it: printed, read back and printed
/// again. A restated long integer is printed as the exact engine writes it
/// (`121576654590569288010000*10^36 + 1`), and read back as a sum of products, which
/// prints with spaces (`... * 10^36 + 1`): matched by the first text, the report's row
/// found no answer, and `30^40 + 1` was "— (tq has no exact value ...)" while `tq export`
/// asked it (probe34 p03).
fn read_back(c: &Claim) -> String {
    let text = crate::syntax::printer::print_claim_body(c);
    let parsed = crate::syntax::parser::parse(&format!("claim {text}\n"));
    match parsed.program.items.first().map(|i| &i.kind) {
        Some(ItemKind::Claim(back)) if parsed.diagnostics.is_empty() => {
            crate::syntax::printer::print_claim_body(back)
        }
        _ => text,
    }
}
