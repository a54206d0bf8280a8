//! `invariant(T, x)`: whether the tensor T depends on x, decided by the dependency
//! structure of the program and checked by a perturbed run.

use super::givens::{lower_side, lowerer, read_givens};
use super::und;
use crate::check::Env;
use crate::claims::elements::mentions_tensor;
use crate::claims::Options;
use crate::claims::Verdict;
use crate::claims::{Method, Outcome, ProofRule};
use crate::num::gradcheck::run_forward_split;
use crate::num::{Machine, NumError};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, DeclKind, IndexExpr, Init, ItemKind, Program};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// `invariant(T, x)`: T's elements do not depend on x. For a leaf (an input, a parameter,
/// a scalar input) that is T as a function of the leaves; for a computed tensor or value
/// it is an intervention: x's values are changed where it is computed and everything
/// that reads it is recomputed (docs/language.md). Decided by the dependency graph (T
/// does not read x at all), by writing T out with x kept as an atom, and on a sampled
/// run with x shifted.
pub(super) fn invariant(
    c: &ast::Call,
    claim: &ast::Claim,
    program: &Program,
    env: &Env,
    opts: &Options,
) -> Outcome {
    let (Some(ast::Expr::Ref(t)), Some(ast::Expr::Ref(x))) = (c.args.first(), c.args.get(1)) else {
        return und("`invariant(T, x)` names a tensor and the tensor it does not depend on");
    };
    if c.args.len() != 2 || t.indices.is_some() || x.indices.is_some() {
        return und("`invariant(T, x)` names two whole tensors");
    }
    if t.grad || x.grad {
        return und(
            "`invariant(T, x)` is decided for values of the forward program, not gradients",
        );
    }
    let (tk, xk) = (env.key_of(&t.name), env.key_of(&x.name));
    let declared_scalar = program
        .items
        .iter()
        .any(|it| matches!(&it.kind, ItemKind::Scalar(ids) if ids.iter().any(|i| i.name == xk)));
    let (x_computed, x_rank0) = match env.tensors.get(&xk) {
        Some(info) => (info.kind == crate::check::TensorKind::Computed, info.rank == 0),
        None if env.scalars.contains_key(&xk) => (!declared_scalar, true),
        None => {
            return und(format!(
                "`{xk}` is a symbol or a size, not a value of the program: `invariant(T, x)` is about tensors and scalar values"
            ))
        }
    };
    let Some(eq) = program.items.iter().find_map(|it| match &it.kind {
        ItemKind::Equation(eq) if env.key_of(&eq.lhs.name) == tk => Some(eq),
        _ => None,
    }) else {
        return und(format!("`{tk}` is not computed by an equation"));
    };
    let g = match read_givens(&claim.given, env) {
        Ok(mut g) => {
            g.every = super::relation::given_only_indices(claim, env);
            g
        }
        Err(e) => return und(e),
    };
    // A given that names x: shifting x would break it, and what the claim asks is not
    // defined (fix42).
    if let Some(gv) = claim.given.iter().find(|gv| {
        let mut names = false;
        crate::syntax::visit::walk_refs(gv, &mut |r| names |= env.key_of(&r.name) == xk);
        names
    }) {
        return und(format!(
            "the given `{}` names `{xk}`: `invariant(T, x)` shifts x to every value, so a given on x is not read",
            crate::syntax::printer::print_expr(gv)
        ));
    }
    // The runs read the claim's givens and point (fix42, probe42 r07): the program without
    // its `at` lines, with the names the givens set to numbers; a given that is not such
    // a setting leaves the runs out (they would run off the claim's condition).
    let run_program = given_program(program, &g, &claim.given);
    let program_for_runs = match &run_program {
        Ok(p) => p,
        Err(_) => program,
    };
    let depends = tk == xk || depends_on(program, env, &claim.given, &tk, &xk);
    // The numeric check of a claim that a dependency or an identity proves is one
    // shifted run (a sanity check); otherwise it is the only evidence, and one random
    // shift of one sign on one run confirmed false claims (probe37 p10: layer norm of
    // `s x` is invariant only for scales of one sign; `relu(x - 3)` of x ~ normal(0, 1)
    // rarely moves under a shift below 2): shifts of both signs and several sizes on
    // several sampled runs ([`SHIFTS`]).
    let numeric_with = |rounds: &[(u64, f64)]| {
        if opts.no_numeric {
            Err(NumOutcome::Failed("numeric runs are turned off".into()))
        } else if let Err(e) = &run_program {
            Err(NumOutcome::Failed(e.clone()))
        } else {
            perturbed_runs(
                program_for_runs,
                env,
                &tk,
                &xk,
                x_computed,
                opts.seed,
                rounds,
            )
        }
    };
    let numeric = numeric_with(&SHIFTS[..1]);
    let how = if x_computed {
        format!(
            "`{xk}` is computed: shifting it where it is computed and recomputing what reads it"
        )
    } else {
        format!("shifting every element of `{xk}`")
    };
    if let Err(NumOutcome::Changed(w, witness)) = numeric {
        let mut o = Outcome::new(
            Verdict::Refuted,
            Method::Numeric,
            format!("{w}; {how} changes `{tk}`"),
        );
        o.witness = Some(*witness);
        return o;
    }
    if !depends {
        let num = match &numeric {
            Ok(n) => format!("numerically, {how} changes none of the {n} elements of `{tk}` (one sampled run, seed {})", opts.seed),
            Err(NumOutcome::Failed(e)) => format!("no numeric check: {e}"),
            Err(NumOutcome::Changed(..)) => unreachable!("handled above"),
        };
        return Outcome::proved(
            ProofRule::TensorSymbolic,
            Method::Dependency,
            format!("no statement that computes `{tk}` reads `{xk}`, directly or through the values it reads; {num}"),
        );
    }
    let symbolic = (|| -> Result<bool, String> {
        let (mut lw, syms) = lowerer(program, env, &g, None, &BTreeMap::new(), None)?;
        if x_computed {
            lw.opaque.insert(xk.clone());
        }
        let e = lower_side(
            &mut lw,
            &ast::Expr::Ref(eq.lhs.clone()),
            &BTreeMap::new(),
            &syms,
        )?;
        // Invariance: shifting each element of x (by a fresh symbol) leaves the element
        // of T unchanged, as an identity; an x inside a sum atom is not taken apart.
        // Every other atom is a leaf: computed values that cannot be written out (in
        // loops, gradients, family members) make the lowering fail instead.
        let mentions = |s: &str| {
            if x_rank0 {
                s == xk || (s.starts_with("sum_") && mentions_word(s, &xk))
            } else {
                mentions_tensor(s, &xk)
            }
        };
        let mut ok = true;
        for s in e.free_symbols() {
            if mentions(&s) {
                if s.starts_with("sum_") {
                    ok = false;
                    break;
                }
                let moved = e.subs(&s, &(Expr::sym(&s) + Expr::sym("δ")));
                if !sym::identical(&moved, &e) {
                    ok = false;
                    break;
                }
            }
        }
        Ok(ok)
    })();
    let ix = eq
        .lhs
        .indices
        .iter()
        .flatten()
        .map(crate::syntax::printer::print_index)
        .collect::<Vec<_>>()
        .join(",");
    let (numeric, runs) = match (&symbolic, numeric) {
        (Ok(true), numeric) => (numeric, format!("one sampled run, seed {}", opts.seed)),
        (_, Ok(_)) => {
            let shifted = numeric_with(SHIFTS);
            // Then x set on both sides of the program's thresholds and of 0 (a
            // threshold beyond the shifts' reach, a sign the shifts did not cross).
            let set = match &shifted {
                Ok(_) => set_runs(program_for_runs, env, (&tk, &xk, x_computed), opts.seed),
                Err(_) => Ok(0),
            };
            match set {
                Err(changed) => (Err(changed), String::new()),
                Ok(k) => (
                    shifted,
                    format!(
                        "{} shifts of both signs, 0.5 to 20 in size, on 3 sampled runs, seeds {} to {}{}",
                        SHIFTS.len(),
                        opts.seed,
                        opts.seed + 2,
                        if k > 0 {
                            format!(", and {k} pairs of runs with `{xk}` set near two values (on both sides of the program's numbers and of 0, or at its support's ends and middle)")
                        } else {
                            String::new()
                        }
                    ),
                ),
            }
        }
        (_, numeric) => (numeric, format!("one sampled run, seed {}", opts.seed)),
    };
    if let Err(NumOutcome::Changed(w, witness)) = numeric {
        let mut o = Outcome::new(
            Verdict::Refuted,
            Method::Numeric,
            format!("{w}; {how} changes `{tk}`"),
        );
        o.witness = Some(*witness);
        return o;
    }
    let kept = if x_computed {
        format!(" (with `{xk}` kept as one atom per element: it is computed, and T may read it)")
    } else {
        String::new()
    };
    match (symbolic, numeric) {
        (_, Err(NumOutcome::Changed(..))) => unreachable!("handled above"),
        (Ok(true), Ok(n)) => Outcome::proved(
            ProofRule::TensorSymbolic,
            Method::Symbolic,
            format!(
                "`{tk}[{ix}]` written out in the leaf elements{kept} (sums taken apart by linearity) is unchanged, as an identity, when any element of `{xk}` is shifted by δ; numerically, {how} changes none of the {n} elements of `{tk}` (one sampled run, seed {})",
                opts.seed
            ),
        ),
        (Ok(true), Err(NumOutcome::Failed(e))) => Outcome::proved(
            ProofRule::TensorSymbolic,
            Method::Symbolic,
            format!("`{tk}[{ix}]` written out in the leaf elements{kept} is unchanged, as an identity, when any element of `{xk}` is shifted by δ (no numeric check: {e})"),
        ),
        (Ok(false), Ok(n)) | (Err(_), Ok(n)) => Outcome::new(
            Verdict::Confirmed,
            Method::Numeric,
            format!("{how} changes none of the {n} elements of `{tk}` ({runs}); not proved symbolically"),
        ),
        (Ok(false), Err(NumOutcome::Failed(e))) | (Err(_), Err(NumOutcome::Failed(e))) => und(format!(
            "`{tk}` depends on `{xk}` through the program, written out it still contains `{xk}` or cannot be written out, and the numeric check failed: {e}"
        )),
    }
}

/// The program the invariance runs read under the claim's givens (its point among
/// them, [`super::decide_invariant`]): without its `at` lines (the interpreter applies
/// every one, the last winning, whatever the claim), with one `at` line at its end that
/// sets each name a given sets to a number. A given of another form (a relation, a
/// tensor or an element, a root) cannot be put into a run: the reason (fix42).
fn given_program(
    program: &Program,
    g: &super::givens::Givens,
    given: &[ast::Expr],
) -> Result<Program, String> {
    let unread = g
        .syms
        .iter()
        .any(|(_, v, power)| power.is_some() || !is_number(v));
    if unread || !g.tensor.is_empty() || !g.elems.is_empty() || !g.facts.is_empty() {
        let shown: Vec<String> = given
            .iter()
            .map(crate::syntax::printer::print_expr)
            .collect();
        return Err(format!(
            "the runs cannot apply the givens `{}` (a run applies a given that sets a scalar or a symbol to a number only)",
            shown.join(", ")
        ));
    }
    let mut p = crate::claims::with_moments::without_at(program);
    if !g.syms.is_empty() {
        let span = crate::syntax::span::Span::default();
        let bs = g
            .syms
            .iter()
            .map(|(n, v, _)| ast::Binding {
                name: ast::Ident {
                    name: n.clone(),
                    span,
                },
                value: v.clone(),
            })
            .collect();
        p.items.push(ast::Item {
            kind: ItemKind::At(bs),
            span,
        });
    }
    Ok(p)
}

/// Whether `e` is a number (`2`, `-1/2`, `0.5`): what an `at` line of a run holds.
fn is_number(e: &ast::Expr) -> bool {
    let mut only = true;
    crate::syntax::visit::walk_expr(e, |x| {
        only &= !matches!(x, ast::Expr::Ref(_) | ast::Expr::Call(_));
        true
    });
    only
}

/// Whether `word` occurs in `s` as a whole name (not part of a longer name).
fn mentions_word(s: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || matches!(c, '_' | '\'' | '^' | '{' | '}' | '.');
    s.match_indices(word).any(|(k, _)| {
        !s[..k].chars().last().is_some_and(ident)
            && !s[k + word.len()..]
                .chars()
                .next()
                .is_some_and(|c| ident(c) || c == '[')
    })
}

/// Whether the value `t` depends on `x` through the program: the statements that compute
/// `t` read `x`, or read values that depend on it (equations anywhere, lookups, strides,
/// loop ranges, distribution arguments and the claim's givens all count).
fn depends_on(program: &Program, env: &Env, given: &[ast::Expr], t: &str, x: &str) -> bool {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    fn names(e: &ast::Expr, env: &Env, out: &mut BTreeSet<String>) {
        crate::check::walk_refs(e, &mut |r| {
            out.insert(env.key_of(&r.name));
            refs_in_indices(r, out);
        });
    }
    fn refs_in_indices(r: &ast::Ref, out: &mut BTreeSet<String>) {
        for ix in r.name.sub.iter().chain(r.indices.iter().flatten()) {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    out.insert(f.name.clone());
                }
            }
        }
    }
    fn walk(
        items: &[ast::Item],
        env: &Env,
        ranges: &mut Vec<BTreeSet<String>>,
        deps: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    let mut read = BTreeSet::new();
                    names(&eq.rhs, env, &mut read);
                    refs_in_indices(&eq.lhs, &mut read);
                    for ix in eq.lhs.indices.iter().flatten() {
                        if let IndexExpr::Lookup(r) = ix {
                            read.insert(env.key_of(&r.name));
                        }
                    }
                    for r in ranges.iter() {
                        read.extend(r.iter().cloned());
                    }
                    deps.entry(env.key_of(&eq.lhs.name))
                        .or_default()
                        .extend(read);
                }
                ItemKind::Decl(d) if d.kind != DeclKind::Grad => {
                    let mut read = BTreeSet::new();
                    match &d.init {
                        Some(Init::Dist(c)) => c.args.iter().for_each(|a| names(a, env, &mut read)),
                        Some(Init::Value(e)) => names(e, env, &mut read),
                        None => {}
                    }
                    deps.entry(env.key_of(&d.target.name))
                        .or_default()
                        .extend(read);
                }
                ItemKind::Loop(l) => {
                    let mut r = BTreeSet::new();
                    names(&l.range.from, env, &mut r);
                    names(&l.range.to, env, &mut r);
                    ranges.push(r);
                    walk(&l.body, env, ranges, deps);
                    ranges.pop();
                }
                ItemKind::ForIndices(f) => walk(&f.body, env, ranges, deps),
                _ => {}
            }
        }
    }
    walk(&program.items, env, &mut Vec::new(), &mut deps);
    for gv in given {
        if let ast::Expr::Rel(_, l, r, _) = gv {
            if let ast::Expr::Ref(lr) = &**l {
                let mut read = BTreeSet::new();
                names(r, env, &mut read);
                deps.entry(env.key_of(&lr.name)).or_default().extend(read);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![t.to_string()];
    while let Some(k) = stack.pop() {
        if !seen.insert(k.clone()) {
            continue;
        }
        for d in deps.get(&k).into_iter().flatten() {
            if d == x {
                return true;
            }
            stack.push(d.clone());
        }
    }
    false
}

enum NumOutcome {
    /// An element of T changed: the evidence in words and its witness.
    Changed(String, Box<sym::Witness>),
    Failed(String),
}

/// Whether a top-level item writes the value `key` (in its loops, too).
fn item_writes(item: &ast::Item, env: &Env, key: &str) -> bool {
    match &item.kind {
        ItemKind::Equation(eq) => !eq.lhs.grad && env.key_of(&eq.lhs.name) == key,
        ItemKind::Loop(l) => l.body.iter().any(|i| item_writes(i, env, key)),
        ItemKind::ForIndices(f) => f.body.iter().any(|i| item_writes(i, env, key)),
        _ => false,
    }
}

/// Runs the forward program twice on the same sampled leaves, the second time with every
/// element of `x` shifted by a random amount — a leaf before the program runs, a computed
/// value right after the last statement that computes it, so that only what reads it is
/// recomputed — and compares the elements of `t`.
/// The shifts tried: (run, size) — the sampled run at `seed + run`, and each element
/// of x moved by a random amount of 0.5 to 2 times `size` (both signs, up to 20); on a
/// bounded support, a fresh random move inside it per entry. The first entry alone is the
/// sanity check of a proved claim (the one shift tq always made).
const SHIFTS: &[(u64, f64)] = &[
    (0, 1.0),
    (0, -1.0),
    (0, 10.0),
    (0, -10.0),
    (1, 1.0),
    (1, -1.0),
    (1, 4.0),
    (1, -4.0),
    (2, 0.25),
    (2, -0.25),
    (2, 10.0),
    (2, -10.0),
];

/// [`perturbed_run`] for each of `rounds`: the first change found, or the number of
/// elements of `t` compared on the first.
fn perturbed_runs(
    program: &Program,
    env: &Env,
    t: &str,
    x: &str,
    x_computed: bool,
    seed: u64,
    rounds: &[(u64, f64)],
) -> Result<usize, NumOutcome> {
    let mut n = 0;
    for (i, &(run, size)) in rounds.iter().enumerate() {
        let k = perturbed_run(
            program,
            env,
            (t, x, x_computed),
            seed + run,
            i as u64,
            Move::Shift(size),
        )?;
        if i == 0 {
            n = k;
        }
    }
    Ok(n)
}

/// How the second run of [`perturbed_run`] changes x: every element shifted by a random
/// 0.5 to 2 times the size, or both runs with x set near two values (each element
/// `v + 0.01 × its sampled value`, so that the elements still differ), across a
/// threshold of the program or a sign change (session 38, issue 14 p10: `relu(x - 100)`
/// of a standard normal x moves under no shift up to 20).
#[derive(Clone, Copy, Debug)]
enum Move {
    Shift(f64),
    /// Near v0, then near v1: each element `v + k (e - c)` (e its sampled value) with
    /// c the middle of a bounded support and k = 0.001 (on the real line c = 0 and
    /// k = 0.01), so that it stays inside.
    Set(f64, f64, f64, f64),
}

/// Every element e of x's values in the run set to `v + k (e - c)` ([`Move::Set`]).
fn set_all(m: &mut Machine, x: &str, v: f64, c: f64, k: f64) -> Result<(), NumError> {
    let Some(store) = m.vals.get_mut(&(x.to_string(), false)) else {
        return Err(NumError {
            too_large: false,
            message: format!("`{x}` has no values in the run"),
        });
    };
    for e in store.values_mut() {
        *e = v + k * (*e - c);
    }
    Ok(())
}

/// The pairs of values [`Move::Set`] tries: for each magnitude of the program's numbers
/// (and 1), a value just above and just below it, the same at its negative, and the
/// magnitude against its negative; on a `uniform(a, b)` support its two ends and its
/// middle (values outside a support are no counterexample).
fn settings(program: &Program, support: Option<&Support>) -> Vec<(f64, f64)> {
    match support {
        Some(Support::Interval(a, b)) => {
            let (lo, hi, mid) = (a + 0.001 * (b - a), b - 0.001 * (b - a), (a + b) / 2.0);
            return vec![(lo, hi), (lo, mid), (mid, hi)];
        }
        Some(_) => return Vec::new(),
        None => {}
    }
    let mut mags: Vec<f64> = vec![1.0];
    let mut visit = |e: &ast::Expr| {
        crate::syntax::visit::walk_expr(e, |x| {
            if let ast::Expr::Num(t, _) = x {
                if let Ok(v) = t.parse::<f64>() {
                    let v = v.abs();
                    if v.is_finite() && v > 0.0 && v < 1e6 && !mags.contains(&v) {
                        mags.push(v);
                    }
                }
            }
            true
        });
    };
    fn equations<'p>(items: &'p [ast::Item], out: &mut Vec<&'p ast::Equation>) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(eq) => out.push(eq),
                ItemKind::Loop(l) => equations(&l.body, out),
                ItemKind::ForIndices(f) => equations(&f.body, out),
                _ => {}
            }
        }
    }
    let mut eqs = Vec::new();
    equations(&program.items, &mut eqs);
    for eq in eqs {
        visit(&eq.rhs);
    }
    // The largest magnitudes first (a threshold far out is what the shifts miss).
    mags.sort_by(|a, b| b.total_cmp(a));
    mags.truncate(MAX_MAGNITUDES);
    let mut out = Vec::new();
    for l in mags {
        let d = (l / 10.0).max(0.5);
        out.extend([(l + d, l - d), (-l + d, -l - d), (l, -l)]);
    }
    out
}

/// The program's numbers [`settings`] takes magnitudes from, at most.
const MAX_MAGNITUDES: usize = 6;

/// [`perturbed_run`] with x set near each pair of [`settings`]: the first change found,
/// or how many pairs were compared. A pair whose runs fail (a value undefined there:
/// the log of a negative number, a row of equal values under a standard deviation) is
/// skipped: these runs can only refute, the shifts are the evidence.
fn set_runs(
    program: &Program,
    env: &Env,
    (t, x, x_computed): (&str, &str, bool),
    seed: u64,
) -> Result<usize, NumOutcome> {
    let support = if x_computed {
        None
    } else {
        let mut m = Machine::new(program, env).map_err(|e| NumOutcome::Failed(e.message))?;
        match leaf_support(program, env, x, &mut m) {
            Ok(s) => s,
            Err(_) => return Ok(0),
        }
    };
    let (c, k) = match &support {
        Some(Support::Interval(a, b)) => ((a + b) / 2.0, 0.001),
        _ => (0.0, 0.01),
    };
    // given43 (probe42 r01): first the pairs across the program's thresholds in x
    // ([`super::thresholds`]: `[c c > 1000]` switches at |c| = 31.6, which no number of
    // the program names), on the real line only.
    let mut pairs = Vec::new();
    if support.is_none() {
        if let Ok(m) = Machine::new(program, env) {
            pairs = super::thresholds::crossing_pairs(program, env, &m.consts, x);
        }
    }
    for p in settings(program, support.as_ref()) {
        if !pairs.contains(&p) {
            pairs.push(p);
        }
    }
    let mut n = 0;
    for (i, (v0, v1)) in pairs.into_iter().enumerate() {
        let round = SHIFTS.len() as u64 + i as u64;
        match perturbed_run(
            program,
            env,
            (t, x, x_computed),
            seed,
            round,
            Move::Set(v0, v1, c, k),
        ) {
            Ok(_) => n += 1,
            Err(NumOutcome::Failed(_)) => {}
            Err(changed) => return Err(changed),
        }
    }
    Ok(n)
}

fn perturbed_run(
    program: &Program,
    env: &Env,
    (t, x, x_computed): (&str, &str, bool),
    seed: u64,
    round: u64,
    mv: Move,
) -> Result<usize, NumOutcome> {
    let fail = |e: NumError| NumOutcome::Failed(e.message);
    let split = if x_computed {
        let Some(last) = program.items.iter().rposition(|it| item_writes(it, env, x)) else {
            return Err(NumOutcome::Failed(format!(
                "no top-level statement computes `{x}`"
            )));
        };
        if program.items[..=last]
            .iter()
            .any(|it| item_writes(it, env, t))
        {
            return Err(NumOutcome::Failed(format!(
                "`{t}` is computed before `{x}` or in the same loop, so `{x}` cannot be shifted between them"
            )));
        }
        last + 1
    } else {
        0
    };
    let key = x.to_string();
    let set_key = x.to_string();
    // Both runs of a `Move::Set` have x set (near v0, then near v1); a shift leaves the
    // first run as drawn.
    let set_base = |m: &mut Machine| match mv {
        Move::Set(v0, _, c, k) => set_all(m, &set_key, v0, c, k),
        Move::Shift(_) => Ok(()),
    };
    let mut base = run_forward_split(program, env, seed, split, &set_base).map_err(fail)?;
    // A leaf drawn from a distribution with a bounded support is moved inside it
    // (probe31/d e34: `m ~ bernoulli(1/2)` shifted to 1.5 refuted a true
    // `invariant(y, m)` where y = x (m^2 - m)).
    let support = if x_computed {
        None
    } else {
        leaf_support(program, env, x, &mut base).map_err(NumOutcome::Failed)?
    };
    let size = match mv {
        Move::Shift(size) => size,
        Move::Set(..) => 0.0,
    };
    let shift = move |m: &mut Machine| -> Result<(), NumError> {
        if let Move::Set(_, v1, c, k) = mv {
            return set_all(m, &key, v1, c, k);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(crate::num::seed::trial_seed(
            seed,
            crate::num::seed::Domain::Perturbation,
            round,
        ));
        let Some(store) = m.vals.get_mut(&(key.clone(), false)) else {
            return Err(NumError {
                too_large: false,
                message: format!("`{key}` has no values in the run"),
            });
        };
        let mut ks: Vec<Vec<i64>> = store.keys().cloned().collect();
        ks.sort();
        for k in ks {
            if let Some(v) = store.get_mut(&k) {
                *v = match &support {
                    None => *v + size * rng.random_range(0.5..2.0),
                    Some(Support::Binary) => 1.0 - *v,
                    Some(Support::Classes(n)) => {
                        // Another class: v + 1 .. v + n - 1, wrapped.
                        let step = rng.random_range(1..*n) as f64;
                        (*v + step).rem_euclid(*n as f64)
                    }
                    Some(Support::Interval(a, b)) => {
                        a + (*v - a + (b - a) * rng.random_range(0.1..0.9)).rem_euclid(b - a)
                    }
                };
            }
        }
        Ok(())
    };
    let moved = run_forward_split(program, env, seed, split, &shift).map_err(fail)?;
    let a = base.vals.get(&(t.to_string(), false));
    let b = moved.vals.get(&(t.to_string(), false));
    let (Some(a), Some(b)) = (a, b) else {
        return Err(NumOutcome::Failed(format!(
            "`{t}` has no values in the run"
        )));
    };
    let mut ks: Vec<&Vec<i64>> = a.keys().collect();
    ks.sort();
    let mut n = 0;
    for k in ks {
        let va = a[k];
        let vb = b.get(k).copied().unwrap_or(f64::NAN);
        if !va.is_finite() || !vb.is_finite() {
            return Err(NumOutcome::Failed(format!(
                "`{t}{k:?}` is not a finite number in the run ({va} before, {vb} after the shift)"
            )));
        }
        let tol = 1e-9 * va.abs().max(vb.abs()).max(1.0);
        if (va - vb).abs() > tol {
            // The re-check: both runs made again from the seed, the element re-read on
            // each; the change stands only when the second pair shows it too.
            let again = |m: Result<Machine, NumError>| {
                m.ok()
                    .and_then(|m| m.vals.get(&(t.to_string(), false))?.get(k).copied())
            };
            let (ra, rb) = (
                again(run_forward_split(program, env, seed, split, &set_base)),
                again(run_forward_split(program, env, seed, split, &shift)),
            );
            let checked_by = match (ra, rb) {
                (Some(ra), Some(rb))
                    if (ra - va).abs() <= tol && (rb - vb).abs() <= tol && (ra - rb).abs() > tol =>
                {
                    "a second pair of runs (unshifted and shifted, the same seed) made afresh, the element re-read on each: the same values".to_string()
                }
                (ra, rb) => {
                    return Err(NumOutcome::Failed(format!(
                        "`{t}{k:?}` changed ({va} before, {vb} after the shift), but a second pair of runs read {} and {}, so this is not counted as a refutation",
                        ra.map_or("nothing".into(), |v| v.to_string()),
                        rb.map_or("nothing".into(), |v| v.to_string()),
                    )));
                }
            };
            let element = format!(
                "{t}[{}]",
                k.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let how = match mv {
                Move::Shift(_) => format!("before and after shifting every element of `{x}`"),
                Move::Set(v0, v1, ..) => format!(
                    "with every element of `{x}` set near {v0} (a small multiple of its sampled value added), then near {v1}"
                ),
            };
            let witness = sym::Witness::of_run(
                &crate::claims::run_values(&base.consts, env),
                format!("{element}, {how}"),
                seed,
                format!("≈ {va:.10} (before the shift)"),
                format!("≈ {vb:.10} (after)"),
                checked_by,
            );
            let runs = match mv {
                Move::Shift(_) => format!("one sampled run, seed {seed}"),
                Move::Set(v0, v1, ..) => format!(
                    "one sampled run, seed {seed}, with `{x}` set near {v0}, then near {v1}"
                ),
            };
            return Err(NumOutcome::Changed(
                format!("at {t}{k:?}: {va:.10} before, {vb:.10} after ({runs})"),
                Box::new(witness),
            ));
        }
        n += 1;
    }
    Ok(n)
}

/// The support of a leaf's distribution where it is bounded.
enum Support {
    /// `bernoulli(p)`: 0 or 1.
    Binary,
    /// `categorical(n)`: 0 .. n-1 (n ≥ 2).
    Classes(i64),
    /// `uniform(a, b)`.
    Interval(f64, f64),
}

/// The bounded support of leaf `x`'s declared distribution (None: the real line, or no
/// distribution); an error where no move inside it exists (`categorical(1)`: one value)
/// or its ends cannot be read once for all elements.
fn leaf_support(
    program: &Program,
    env: &Env,
    x: &str,
    m: &mut Machine,
) -> Result<Option<Support>, String> {
    fn find<'p>(items: &'p [ast::Item], env: &Env, x: &str) -> Option<&'p ast::Call> {
        items.iter().find_map(|it| match &it.kind {
            ItemKind::Decl(d) if d.kind != DeclKind::Grad && env.key_of(&d.target.name) == x => {
                match &d.init {
                    Some(Init::Dist(c)) => Some(c),
                    _ => None,
                }
            }
            ItemKind::Loop(l) => find(&l.body, env, x),
            ItemKind::ForIndices(l) => find(&l.body, env, x),
            _ => None,
        })
    }
    let Some(c) = find(&program.items, env, x) else {
        return Ok(None);
    };
    let mut arg = |k: usize| -> Result<f64, String> {
        let a = c.args.get(k).ok_or("a distribution argument is missing")?;
        m.const_expr(a).map_err(|_| {
            format!(
                "the support of `{x} ~ {}` differs by element: no shift inside it is tried",
                crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()))
            )
        })
    };
    match c.func.name.as_str() {
        "bernoulli" => {
            let p = arg(0)?;
            if p > 0.0 && p < 1.0 {
                Ok(Some(Support::Binary))
            } else {
                Err(format!(
                    "`{x}` is drawn from `{}` with probability {p} in the run: it takes one value, so there is nothing to shift it to",
                    crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()))
                ))
            }
        }
        "categorical" => {
            let n = arg(0)?.round() as i64;
            if n < 2 {
                Err(format!(
                    "`{x}` is drawn from {n} class (`{}`): it takes one value, so there is nothing to shift it to",
                    crate::syntax::printer::print_expr(&ast::Expr::Call(c.clone()))
                ))
            } else {
                Ok(Some(Support::Classes(n)))
            }
        }
        "uniform" => {
            let (a, b) = (arg(0)?, arg(1)?);
            if b > a {
                Ok(Some(Support::Interval(a, b)))
            } else {
                Err(format!(
                    "`{x}` is drawn from an empty or one-point interval"
                ))
            }
        }
        _ => Ok(None),
    }
}
