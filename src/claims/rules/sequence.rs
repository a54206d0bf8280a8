//! Claims about sequences of update rules (`B.theta[t] == A.theta[t]`, closed forms in
//! `t`): the side-by-side system, the claim's givens and starts, the recurrence proof
//! and the exact simulation over random rational gradient sequences.

use super::linear::{at_0, at_t, input_sym, literal, offset, LinearRule};
use super::matrix::{apply, char_poly, input_coefficients, mat_subs, shift, Mat};
use super::{und, MAX_STATES, SEQUENCES, STEPS};
use crate::claims::Verdict;
use crate::claims::{Method, Outcome, ProofRule};
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, RelOp};
use crate::syntax::printer::{print_expr, print_name};
use num_bigint::BigInt;
use num_rational::BigRational;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Several rules side by side, with their starts.
pub(super) struct System {
    pub(super) var: String,
    /// State symbols (`A.v[t]`, ...), with their rule and sequence names.
    pub(super) xs: Vec<(String, String, String)>,
    /// Input symbols shared by the rules (`g[t]`).
    pub(super) gs: Vec<String>,
    pub(super) m: Mat,
    pub(super) n: Mat,
}

pub(super) fn system(rules: &[&LinearRule]) -> Result<System, String> {
    let var = rules[0].var.clone();
    // Each rule read over the first's step variable (alpha-renaming).
    let renamed = rules
        .iter()
        .map(|r| r.over(&var))
        .collect::<Result<Vec<_>, String>>()?;
    let rules: Vec<&LinearRule> = renamed.iter().collect();
    let mut gs: Vec<String> = rules
        .iter()
        .flat_map(|r| r.inputs.iter().map(|g| input_sym(g, &var)))
        .collect();
    gs.sort();
    gs.dedup();
    let mut xs = Vec::new();
    // Updates with a constant term (`s[t+1] = mu s[t] + c`) read one more state, the
    // constant 1 (`one[t+1] = one[t]`, start 1): the system stays linear and homogeneous,
    // so the recurrence proof and the exact simulation apply unchanged.
    let constant = rules.iter().any(|r| r.has_constant());
    let total: usize = rules.iter().map(|r| r.states.len()).sum::<usize>() + usize::from(constant);
    if total > MAX_STATES {
        return Err(format!(
            "the rules have {total} state sequences together; tq eliminates at most {MAX_STATES}"
        ));
    }
    let mut m = vec![vec![Expr::zero(); total]; total];
    let mut n = vec![vec![Expr::zero(); gs.len()]; total];
    let mut base = 0;
    for r in &rules {
        let rg: Vec<String> = r.inputs.iter().map(|g| input_sym(g, &var)).collect();
        for (i, x) in r.states.iter().enumerate() {
            xs.push((at_t(&r.name, x, &var), r.name.clone(), x.clone()));
            for j in 0..r.states.len() {
                m[base + i][base + j] = r.m[i][j].clone();
            }
            for (k, g) in rg.iter().enumerate() {
                let col = gs.iter().position(|h| h == g).unwrap_or(0);
                n[base + i][col] = r.n[i][k].clone();
            }
        }
        base += r.states.len();
    }
    if constant {
        let one = total - 1;
        let mut base = 0;
        for r in rules {
            for (i, c) in r.c.iter().enumerate() {
                m[base + i][one] = c.clone();
            }
            base += r.states.len();
        }
        m[one][one] = Expr::one();
        xs.push((
            at_t(CONSTANT_RULE, CONSTANT_STATE, &var),
            CONSTANT_RULE.to_string(),
            CONSTANT_STATE.to_string(),
        ));
    }
    Ok(System { var, xs, gs, m, n })
}

/// The virtual state of a system whose updates have constant terms: `#.one[t]`, 1 at
/// every step (no claim or given can name it: `#` is no rule name).
const CONSTANT_RULE: &str = "#";
const CONSTANT_STATE: &str = "one";

/// A condition `left rel right` of the givens, lowered.
pub(super) type Implied = (Expr, sym::Rel, Expr);

/// What the givens of a claim set: hyperparameters and start values.
#[derive(Default, Clone)]
pub(super) struct Givens {
    pub(super) params: Vec<(String, Expr)>,
    pub(super) starts: Vec<(String, Expr)>,
    /// Bounds on hyperparameters (`beta < 1`, `eta > 0`): every simulated point
    /// satisfies them, and the definedness of the sides is judged under them.
    pub(super) bounds: Vec<(String, sym::Rel, BigRational)>,
    /// The conditions a setting carries from the domain of the name it sets
    /// (`eta = mu - 1` of a positive eta: `mu - 1 > 0`, `check::givens::implied_by`):
    /// every point a refutation rests on satisfies them, exactly.
    pub(super) implied: Vec<Implied>,
    /// Definedness conditions met while the claim's sides were lowered, before folding
    /// (`(a - 1)/(a - 1)` is 1 only where a != 1).
    pub(super) conds: Vec<sym::Condition>,
    /// Inputs set at fixed steps (`g[1] = g[0]`), by their fixed-step symbols (`g[1]`):
    /// only for claims about fixed steps, where the unrolled inputs are symbols.
    pub(super) inputs: Vec<(String, Expr)>,
}

impl Givens {
    /// A side of the claim with the givens' starts and then their hyperparameters put
    /// in: the same substitution the rules' starts get ([`starts`]), so that the claim's
    /// text and the unrolled rules are read at one point (rule43, probe43 r01).
    pub(super) fn on_claim(&self, e: &Expr) -> Expr {
        apply(&apply(e, &self.starts), &self.params)
    }

    /// The names the givens set (starts and hyperparameters) with their values at a
    /// point of the names left free, for a witness: the point it shows satisfies every
    /// setting (rule43, probe43 r01: the witness showed `M.v[0] = 8` under
    /// `given M.v[0] == 0`).
    pub(super) fn settings_at(
        &self,
        pt: &BTreeMap<String, BigRational>,
    ) -> BTreeMap<String, BigRational> {
        let mut out = pt.clone();
        for (n, v) in self.starts.iter().chain(&self.params) {
            if out.contains_key(n) {
                continue;
            }
            if let Ok(x) = sym::eval_exact(&self.on_claim(v), pt) {
                out.insert(n.clone(), x);
            }
        }
        out
    }

    /// Refuses givens that set inputs at fixed steps for a claim about every step or
    /// `equivalent`: those hold for every input sequence, and deciding them over all
    /// sequences while the claim restricts some would refute a true claim.
    pub(super) fn for_every_step(self) -> Result<Givens, String> {
        match self.inputs.first() {
            None => Ok(self),
            Some((s, _)) => Err(format!(
                "the given sets the input `{s}`; a claim about step t or `equivalent` is about every input sequence, and givens may set inputs at fixed steps only for claims that read fixed steps (`H.theta[2]`)"
            )),
        }
    }
}

fn rule_ref(
    rf: &ast::Ref,
    rule_names: &BTreeSet<String>,
    var: &str,
) -> Result<Option<Expr>, String> {
    let x = print_name(&rf.name);
    let Some((rule, seq)) = x.split_once('.') else {
        return Ok(None);
    };
    if !rule_names.contains(rule) {
        return Ok(None);
    }
    match rf.indices.as_deref() {
        Some([ix]) if offset(ix, var) == Some(0) => Ok(Some(Expr::sym(&at_t(rule, seq, var)))),
        Some([ix]) if literal(ix) == Some(0) => Ok(Some(Expr::sym(&at_0(rule, seq)))),
        Some([ix]) if literal(ix).is_some_and(|k| (1..=MAX_FIXED_STEP).contains(&k)) => Ok(Some(
            Expr::sym(&format!("{rule}.{seq}[{}]", literal(ix).unwrap_or(0))),
        )),
        _ => Err(format!(
            "`{}`: tq reads a rule's sequence at step `{var}`, at the start `0` or at a fixed step up to {MAX_FIXED_STEP}",
            crate::syntax::printer::print_ref(rf)
        )),
    }
}

/// The latest fixed step a claim may read (`A.theta[3]`): the rules are unrolled that far.
pub(super) const MAX_FIXED_STEP: i64 = 32;

/// The fixed steps (`A.theta[3]`, k >= 1) a lowered side reads: (symbol, rule, sequence, k).
/// Whether a lowered side reads a rule's state at a fixed step or an input at any
/// literal step (`A.theta[3]`, `g[0]`): a claim [`decide_fixed`] decides.
pub(super) fn reads_fixed_steps(e: &Expr) -> bool {
    !fixed_steps(e).is_empty()
        || e.free_symbols().iter().any(|s| {
            s.split_once('[').is_some_and(|(n, rest)| {
                !n.contains('.')
                    && rest
                        .strip_suffix(']')
                        .is_some_and(|k| k.parse::<usize>().is_ok())
            })
        })
}

pub(super) fn fixed_steps(e: &Expr) -> Vec<(String, String, String, usize)> {
    e.free_symbols()
        .into_iter()
        .filter_map(|s| {
            let (name, rest) = s.split_once('[')?;
            let k: usize = rest.strip_suffix(']')?.parse().ok()?;
            let (rule, seq) = name.split_once('.')?;
            (k >= 1).then(|| (s.clone(), rule.to_string(), seq.to_string(), k))
        })
        .collect()
}

/// A claim about rules' sequences at fixed steps only (`H.theta[2] == ...`): each fixed
/// step is the rules unrolled exactly from the starts, with the inputs `g[0]`, `g[1]`, …
/// as symbols, so the claim is proved when the two sides agree as rational functions of
/// the hyperparameters, starts and inputs (and every definedness condition is empty),
/// and refuted by exact values at a random rational point (hyperparameters inside their
/// domains and the givens' bounds) where they differ.
pub(super) fn decide_fixed(
    sys: &System,
    g: &Givens,
    lhs: &Expr,
    rhs: &Expr,
    label: &str,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Result<Outcome, String> {
    let m = mat_subs(&sys.m, &g.params);
    let n = mat_subs(&sys.n, &g.params);
    let x0 = starts(sys, g);
    let mut subs: Vec<(String, Expr)> = Vec::new();
    let mut fixed = fixed_steps(lhs);
    fixed.extend(fixed_steps(rhs));
    for (s, rule, seq, k) in fixed {
        let Some(i) = sys.xs.iter().position(|(_, r, x)| *r == rule && *x == seq) else {
            return Err(format!("`{s}` is not a state of the rules compared"));
        };
        let mut c = vec![Expr::zero(); sys.xs.len()];
        c[i] = Expr::one();
        let v = outputs(sys, &m, &n, &x0, &c, k + 1)
            .ok_or_else(|| unrolled_too_far(&s))?
            .pop()
            .ok_or("no step to unroll")?;
        subs.push((s, v));
    }
    // The inputs the givens set at fixed steps replace their symbols in the unrolled
    // values, repeatedly (`g[2] = g[1], g[1] = g[0]`), at most once per given.
    let inputs = |e: Expr| {
        let mut e = e;
        for _ in 0..=g.inputs.len() {
            e = apply(&e, &g.inputs);
        }
        e
    };
    // The starts the givens set (`M.v[0] = 0`) replace their symbols in the claim's own
    // text too, the one substitution the unrolled rules got (rule43, probe43 r01:
    // `M.v[0] == 0 given M.v[0] == 0` was refuted at M.v[0] = 8).
    let side = |e: &Expr| sym::expand(&inputs(apply(&g.on_claim(e), &subs)));
    let (l, r) = (side(lhs), side(rhs));
    let free: BTreeSet<String> = l.free_symbols().union(&r.free_symbols()).cloned().collect();
    if free.contains(&sys.var) || sys.xs.iter().any(|(x, _, _)| free.contains(x)) {
        return Err(
            "the claim mixes fixed steps with the step variable; tq decides either alone".into(),
        );
    }
    let mut conds: BTreeSet<sym::Condition> = g.conds.iter().cloned().collect();
    sym::defined::conditions_of(lhs, &mut conds);
    sym::defined::conditions_of(rhs, &mut conds);
    sym::defined::conditions_of(&l, &mut conds);
    sym::defined::conditions_of(&r, &mut conds);
    if sym::identical(&l, &r) {
        let how = format!(
            "{label}: both sides unrolled exactly from the starts (inputs as symbols) agree as rational functions"
        );
        // Conditions the givens' bounds show (`1 - beta^3 ≠ 0` under `beta < 1`) are met.
        let conds = unshown(conds, &g.bounds, &sys.var);
        return Ok(if conds.is_empty() {
            Outcome::proved(ProofRule::NormalForm, Method::Symbolic, how)
        } else {
            let shown: Vec<String> = conds.iter().map(|c| c.to_string()).collect();
            Outcome::new(
                Verdict::Confirmed,
                Method::Symbolic,
                format!("{how}, where defined ({} may fail)", shown.join(", ")),
            )
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for k in 0..64 {
        let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
        for p in &free {
            let v = match domains.get(p).and_then(|d| d.sample(&mut rng)) {
                Some(v) => v,
                None if p.contains('[') => rat(rng.random_range(-20..=20), rng.random_range(1..=8)),
                // After half the tries, hyperparameters past 1 too: a setting's
                // condition (`eta = mu - 1`: mu > 1) may need them.
                None if k >= 32 && !g.implied.is_empty() => {
                    rat(rng.random_range(1..=40), rng.random_range(1..=12))
                }
                None => rat(rng.random_range(1..=9), rng.random_range(10..=12)),
            };
            pt.insert(p.clone(), v);
        }
        if !within_bounds(&pt, &g.bounds) || !within_implied(&pt, &g.implied) {
            continue;
        }
        if let (Ok(a), Ok(b)) = (sym::eval_exact(&l, &pt), sym::eval_exact(&r, &pt)) {
            if a != b {
                // The second path: an interval enclosure of both unrolled sides in
                // floating point at the same point must separate them too; a point
                // where it cannot (an overflow, a difference below rounding) decides
                // nothing and the next point is tried.
                let separated = matches!(
                    (sym::defined::enclose(&l, &pt), sym::defined::enclose(&r, &pt)),
                    (Some(x), Some(y)) if x.1 < y.0 || y.1 < x.0
                );
                if !separated {
                    continue;
                }
                let pt = g.settings_at(&pt);
                let shown: Vec<String> = pt.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                let mut o = Outcome::new(
                    Verdict::Refuted,
                    Method::ExactEval,
                    format!(
                        "{label}: the rules unrolled exactly at {}: left {a}, right {b}",
                        shown.join(", ")
                    ),
                );
                o.witness = Some(sym::Witness {
                    point: pt.clone(),
                    left: a.to_string(),
                    right: b.to_string(),
                    checked_by: "the rules unrolled exactly in rationals, confirmed by an interval enclosure of both unrolled sides in floating point at the same point".into(),
                    element: Some(label.to_string()),
                    seed: Some(seed),
                    estimate: None,
                });
                return Ok(o);
            }
        }
    }
    Err("the sides differ as rational functions, but no random point inside the domains separates them".into())
}

pub(super) fn lower_claim(
    e: &ast::Expr,
    rule_names: &BTreeSet<String>,
    var: &str,
) -> Result<Expr, String> {
    crate::claims::scalar::lower_refs(e, &mut |rf| match rule_ref(rf, rule_names, var)? {
        Some(s) => Ok(s),
        None if rf.indices.is_none() && !rf.grad => Ok(Expr::sym(&print_name(&rf.name))),
        // An input at a fixed step (`g[0]`), for claims about fixed steps.
        None if !rf.grad => match rf.indices.as_deref() {
            Some([ix]) if literal(ix).is_some_and(|k| (0..=MAX_FIXED_STEP).contains(&k)) => {
                Ok(Expr::sym(&format!(
                    "{}[{}]",
                    print_name(&rf.name),
                    literal(ix).unwrap_or(0)
                )))
            }
            _ => Err(format!(
                "`{}` is not a sequence of a rule",
                crate::syntax::printer::print_ref(rf)
            )),
        },
        None => Err(format!(
            "`{}` is not a sequence of a rule",
            crate::syntax::printer::print_ref(rf)
        )),
    })
}

pub(super) fn read_givens(
    given: &[ast::Expr],
    rule_names: &BTreeSet<String>,
    var: &str,
) -> Result<Givens, String> {
    let mut g = Givens::default();
    // The conditions a setting carries from the domain of the name it sets
    // (`check::givens::implied_by`: `eta' = eta (1 - beta)` carries
    // `eta (1 - beta) > 0`) share the setting's span. The rule engine decides over the
    // hyperparameters' positive reals without them (a proof over more points holds on
    // fewer), but every point a refutation rests on satisfies them (`within_implied`;
    // session 38: `eta = mu - 1` was refuted at mu = 7/10, an eta of -3/10).
    let setting_spans: Vec<_> = given
        .iter()
        .filter_map(|e| match e {
            ast::Expr::Rel(RelOp::Eq, _, _, span) => Some(*span),
            _ => None,
        })
        .collect();
    for e in given {
        if let Some(b) = bound_given(e) {
            g.bounds.push(b);
            continue;
        }
        if let ast::Expr::Rel(op, l, r, span) = e {
            if *op != RelOp::Eq && setting_spans.contains(span) {
                let rel = crate::lower::relation(*op)
                    .ok_or_else(|| format!("the given `{}` is not a relation", print_expr(e)))?;
                let (l, r) = (
                    lower_claim(l, rule_names, var)?,
                    lower_claim(r, rule_names, var)?,
                );
                g.implied.push((l, rel, r));
                continue;
            }
        }
        let ast::Expr::Rel(RelOp::Eq, l, r, _) = e else {
            return Err(format!(
                "the given `{}` is not an equation; rule claims take equations for hyperparameters and starts",
                print_expr(e)
            ));
        };
        let ast::Expr::Ref(lr) = &**l else {
            return Err(format!("the given `{}` does not set a name", print_expr(e)));
        };
        let value = lower_claim(r, rule_names, var)?;
        match rule_ref(lr, rule_names, var)? {
            Some(Expr::Sym(s)) if s.ends_with("[0]") => g.starts.push((s, value)),
            Some(_) => {
                return Err(format!(
                    "the given `{}` sets a sequence at every step; givens set starts (`[0]`)",
                    print_expr(e)
                ))
            }
            None if lr.indices.is_none() => g.params.push((print_name(&lr.name), value)),
            // An input at a fixed step (`g[1] = g[0]`): its fixed-step symbol.
            None if lr.indices.is_some() && fixed_input(l, rule_names, var).is_some() => {
                let s = fixed_input(l, rule_names, var).unwrap_or_default();
                if g.inputs.iter().any(|(n, _)| *n == s) {
                    return Err(format!(
                        "the given `{}` sets `{s}` a second time",
                        print_expr(e)
                    ));
                }
                g.inputs.push((s, value));
            }
            None => {
                return Err(format!(
                    "the given `{}` sets `{}`, which is neither a hyperparameter, a rule's start (`A.v[0]`) nor an input at a fixed step (`g[1]`, at most step {MAX_FIXED_STEP})",
                    print_expr(e),
                    crate::syntax::printer::print_ref(lr)
                ))
            }
        }
    }
    // Starts may refer to other starts (`B.theta[0] = A.theta[0]`); resolve them.
    for _ in 0..4 {
        let snapshot = g.starts.clone();
        for (_, v) in g.starts.iter_mut() {
            *v = apply(v, &snapshot);
        }
    }
    Ok(g)
}

/// The fixed-step symbol (`g[1]`) of an input read at a fixed step.
fn fixed_input(e: &ast::Expr, rule_names: &BTreeSet<String>, var: &str) -> Option<String> {
    match lower_claim(e, rule_names, var) {
        Ok(Expr::Sym(s)) if s.contains('[') => Some(s),
        _ => None,
    }
}

/// A given that bounds a hyperparameter by a number (`beta < 1`, `0 < eta`, `mu >= 1/2`);
/// not a rule's state (`A.v`).
fn bound_given(e: &ast::Expr) -> Option<(String, sym::Rel, BigRational)> {
    crate::claims::scalar::number_bound(e, &mut |x| {
        crate::claims::scalar::lower(x, &Default::default())
    })
    .filter(|(n, _, _)| !n.contains('.'))
}

/// Whether a point satisfies the conditions the givens' settings carry, exactly: a
/// condition that cannot be evaluated exactly there (a symbol the point leaves out, an
/// irrational value) keeps the point from being a witness.
pub(super) fn within_implied(pt: &BTreeMap<String, BigRational>, implied: &[Implied]) -> bool {
    implied.iter().all(
        |(l, rel, r)| match (sym::eval_exact(l, pt), sym::eval_exact(r, pt)) {
            (Ok(a), Ok(b)) => sym::holds_exact(&a, rel, &b) == Some(true),
            _ => false,
        },
    )
}

/// Whether a point satisfies the bounds of the givens.
fn within_bounds(
    pt: &BTreeMap<String, BigRational>,
    bounds: &[(String, sym::Rel, BigRational)],
) -> bool {
    bounds.iter().all(|(n, rel, c)| match pt.get(n) {
        None => true,
        Some(v) => match rel {
            sym::Rel::Lt => v < c,
            sym::Rel::Le => v <= c,
            sym::Rel::Gt => v > c,
            sym::Rel::Ge => v >= c,
            _ => true,
        },
    })
}

/// The definedness conditions of a sequence claim's sides (their denominators,
/// logarithms and roots: `1 - beta ≠ 0` of `... / (1 - beta)`) that the range facts do not
/// show on the domains: hyperparameters positive reals, starts every real, the step a
/// whole number >= 0, each narrowed by the bounds the givens state. A proof is withheld
/// while one is left (docs/soundness.md: `proved` promises both sides defined).
fn undischarged(sc: &SeqClaim) -> Vec<sym::Condition> {
    unshown(sc.conds.iter().cloned().collect(), &sc.bounds, &sc.sys.var)
}

/// The conditions the range facts do not show: hyperparameters positive reals, starts
/// and inputs at fixed steps (`A.v[0]`, `g[1]`) every real, the step a whole number >= 0,
/// each narrowed by the bounds the givens state.
fn unshown(
    conds: BTreeSet<sym::Condition>,
    bounds: &[(String, sym::Rel, BigRational)],
    var: &str,
) -> Vec<sym::Condition> {
    let mut dom = sym::Domains::default();
    for c in &conds {
        for s in c.expr().free_symbols() {
            if s.contains('[') {
                dom.real.insert(s);
            }
        }
    }
    dom.real.insert(var.to_string());
    dom.assume(&Expr::sym(var), &sym::Rel::Ge, &Expr::zero());
    for (n, rel, v) in bounds {
        dom.assume(&Expr::sym(n), rel, &Expr::Num(v.clone()));
    }
    // A power at the step (`(1 - eta lambda)^t`): t is a whole number >= 0.
    let step: BTreeSet<String> = [var.to_string()].into();
    conds
        .into_iter()
        .filter_map(|c| c.on_domains_whole(&dom, &step))
        .filter(|c| !sym::defined::condition_holds(c, &dom))
        .collect()
}

/// The start of every state of the system after the givens.
pub(super) fn starts(sys: &System, g: &Givens) -> Vec<Expr> {
    sys.xs
        .iter()
        .map(|(_, r, x)| {
            if r == CONSTANT_RULE && x == CONSTANT_STATE {
                return Expr::one();
            }
            let s = at_0(r, x);
            let v = g
                .starts
                .iter()
                .find(|(n, _)| *n == s)
                .map_or_else(|| Expr::sym(&s), |(_, v)| v.clone());
            apply(&v, &g.params)
        })
        .collect()
}

/// `c·x[k]` for k = 0..steps, symbolically, with inputs `g[0]`, `g[1]`, ...
pub(super) fn outputs(
    sys: &System,
    m: &Mat,
    n: &Mat,
    x0: &[Expr],
    c: &[Expr],
    steps: usize,
) -> Option<Vec<Expr>> {
    let mut x = x0.to_vec();
    let mut out = Vec::new();
    for k in 0..steps {
        out.push(sym::expand(&Expr::add(
            c.iter()
                .zip(&x)
                .map(|(a, b)| a.clone() * b.clone())
                .collect(),
        )));
        let g: Vec<Expr> = sys
            .gs
            .iter()
            .map(|s| Expr::sym(&s.replace(&format!("[{}]", sys.var), &format!("[{k}]"))))
            .collect();
        x = (0..x.len())
            .map(|i| {
                let mut terms: Vec<Expr> = (0..x.len())
                    .map(|j| m[i][j].clone() * x[j].clone())
                    .collect();
                terms.extend((0..g.len()).map(|j| n[i][j].clone() * g[j].clone()));
                sym::expand(&Expr::add(terms))
            })
            .collect();
        // An expansion that gave up (the claim's symbolic work spent, or one call's
        // cap) leaves its sum of products as it is, and every later step copies each
        // state into every state's sum: the trees doubled at each step (2 states to
        // step 24: 2.6 GB, then an abort). The unrolling stops there.
        if sym::work_exhausted() || x.iter().any(|e| e.node_count() > MAX_UNROLLED_NODES) {
            return None;
        }
    }
    Some(out)
}

/// Why an exact unrolling stopped ([`outputs`]).
fn unrolled_too_far(what: &str) -> String {
    format!(
        "the rules unrolled exactly to {what} outgrew the symbolic work (sym::CLAIM_WORK) or {MAX_UNROLLED_NODES} expression nodes (claims::rules::sequence::MAX_UNROLLED_NODES)"
    )
}

/// The largest state (expression nodes) the exact unrolling ([`outputs`]) keeps: an
/// expanded state of 6 rules at step 8 is about 60,000 nodes; past this the unrolling
/// stops and the claim is undecided with the reason.
pub(super) const MAX_UNROLLED_NODES: usize = 400_000;

/// A claim `c·x[t] == f(t)` over a system, prepared for both engines.
pub(super) struct SeqClaim {
    pub(super) sys: System,
    pub(super) m: Mat,
    pub(super) n: Mat,
    pub(super) x0: Vec<Expr>,
    pub(super) c: Vec<Expr>,
    pub(super) f: Expr,
    /// The quantity as the claim writes it (for the evidence).
    pub(super) label: String,
    /// The givens' bounds on hyperparameters.
    pub(super) bounds: Vec<(String, sym::Rel, BigRational)>,
    /// The conditions the givens' settings carry ([`Givens::implied`]).
    pub(super) implied: Vec<Implied>,
    /// Definedness conditions the normal forms may have folded away.
    pub(super) conds: Vec<sym::Condition>,
    /// Each side of the claim as `coefficients · states + rest(t)`, to show both sides'
    /// values in a refutation (None: the claim is a difference, as `equivalent` states).
    pub(super) sides: Option<[(Vec<Expr>, Expr); 2]>,
    /// The givens, whose settings a witness shows ([`Givens::settings_at`]).
    pub(super) settings: Givens,
}

/// A side of a sequence claim as `Σ c_s · state_s + rest`, the rest free of the states.
fn split_linear(e: &Expr, sys: &System) -> Result<(Vec<Expr>, Expr), String> {
    let mut c = Vec::new();
    let mut rest = e.clone();
    for (s, _, _) in &sys.xs {
        let k = sym::expand(&e.diff(s));
        let fs = k.free_symbols();
        if sys.xs.iter().any(|(x, _, _)| fs.contains(x)) || fs.contains(&sys.var) {
            return Err("the claim is not linear in the rules' sequences".into());
        }
        rest = rest - k.clone() * Expr::sym(s);
        c.push(k);
    }
    let rest = sym::expand(&rest);
    if rest
        .free_symbols()
        .iter()
        .any(|s| sys.xs.iter().any(|(x, _, _)| x == s))
    {
        return Err("the claim is not linear in the rules' sequences".into());
    }
    Ok((c, rest))
}

pub(super) fn seq_claim(
    sys: System,
    g: &Givens,
    lhs: &Expr,
    rhs: &Expr,
    label: String,
) -> Result<SeqClaim, String> {
    // The givens' starts and hyperparameters put into the claim's own sides, as into the
    // rules ([`Givens::on_claim`]; rule43, probe43 r01).
    let d = sym::expand(&g.on_claim(&(lhs.clone() - rhs.clone())));
    let mut conds: Vec<sym::Condition> = Vec::new();
    // The claim's own sides as written: a point where a given is undefined satisfies no
    // given, and the claim says nothing there (as for scalar claims); a side undefined
    // at a point of the domains is what withholds a proof.
    conds.extend(g.conds.iter().cloned());
    for side in [lhs, rhs] {
        let mut set = BTreeSet::new();
        sym::defined::conditions_of(side, &mut set);
        conds.extend(set);
    }
    let (c, rest) = split_linear(&d, &sys)?;
    let f = -rest;
    let sides = match (
        split_linear(&sym::expand(&g.on_claim(lhs)), &sys),
        split_linear(&sym::expand(&g.on_claim(rhs)), &sys),
    ) {
        (Ok(l), Ok(r)) => Some([l, r]),
        _ => None,
    };
    let m = mat_subs(&sys.m, &g.params);
    let n = mat_subs(&sys.n, &g.params);
    let x0 = starts(&sys, g);
    Ok(SeqClaim {
        sys,
        m,
        n,
        x0,
        c,
        f,
        label,
        bounds: g.bounds.clone(),
        implied: g.implied.clone(),
        conds,
        sides,
        settings: g.clone(),
    })
}

/// The symbolic proof: `Ok(())` when proved, `Err(why not)` otherwise.
pub(super) fn prove(sc: &SeqClaim) -> Result<(), String> {
    let t = &sc.sys.var;
    let p = char_poly(&sc.m);
    let order = sc.m.len();
    for (i, row) in input_coefficients(&sc.m, &sc.n, &sc.c, &p)
        .iter()
        .enumerate()
    {
        for (g, d) in sc.sys.gs.iter().zip(row) {
            if !sym::identical(d, &Expr::zero()) {
                return Err(format!(
                    "the quantity depends on the input `{g}` (coefficient {} of {})",
                    sym::to_ascii(&sym::simplify(d)),
                    g.replace(&format!("[{t}]"), &format!("[{t}+{i}]"))
                ));
            }
        }
    }
    let rec = Expr::add(
        (0..=order)
            .map(|k| p[k].clone() * shift(&sc.f, t, k as i64))
            .collect(),
    );
    if !sym::identical(&rec, &Expr::zero()) {
        return Err("the right side does not satisfy the rules' recurrence".into());
    }
    let ys = outputs(&sc.sys, &sc.m, &sc.n, &sc.x0, &sc.c, order)
        .ok_or_else(|| unrolled_too_far(&format!("the first {order} steps")))?;
    for (k, y) in ys.iter().enumerate() {
        let fk = sc.f.subs(t, &Expr::int(k as i64));
        if !sym::identical(y, &fk) {
            return Err(format!("the two sides differ at {t} = {k}"));
        }
    }
    Ok(())
}

pub(super) fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// The exact simulation: `Ok(points)` when both sides agree at every step of every
/// sequence, `Err(counterexample)` at the first disagreement.
fn simulate(
    sc: &SeqClaim,
    sample: &BTreeMap<String, BigRational>,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Result<usize, Box<(String, sym::Witness)>> {
    let t = &sc.sys.var;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params: BTreeSet<String> = BTreeSet::new();
    for e in
        sc.m.iter()
            .chain(&sc.n)
            .flatten()
            .chain(&sc.x0)
            .chain(&sc.c)
    {
        params.extend(e.free_symbols());
    }
    params.extend(sc.f.free_symbols());
    params.remove(t);
    let mut used = 0;
    for k in 0..SEQUENCES * 4 {
        if used == SEQUENCES {
            break;
        }
        let mut pt: BTreeMap<String, BigRational> = BTreeMap::new();
        for p in &params {
            let inside = domains.get(p).and_then(|d| d.sample(&mut rng));
            let v = match sample.get(p) {
                Some(v) if k == 0 => v.clone(),
                // A symbol with a domain is drawn inside it (docs/symbolic.md).
                _ if inside.is_some() => inside.unwrap_or_else(|| rat(1, 2)),
                _ if p.ends_with("[0]") => rat(rng.random_range(-20..=20), rng.random_range(1..=8)),
                // After half the tries, hyperparameters past 1 too (as in `decide_fixed`).
                _ if k >= SEQUENCES * 2 && !sc.implied.is_empty() => {
                    rat(rng.random_range(1..=40), rng.random_range(1..=12))
                }
                _ => rat(rng.random_range(1..=9), rng.random_range(10..=12)),
            };
            pt.insert(p.clone(), v);
        }
        // A point outside the givens' bounds is none of the claim's.
        if !within_bounds(&pt, &sc.bounds) || !within_implied(&pt, &sc.implied) {
            continue;
        }
        let ev = |e: &Expr, pt: &BTreeMap<String, BigRational>| sym::eval_exact(e, pt);
        let Ok(m) =
            sc.m.iter()
                .map(|r| r.iter().map(|x| ev(x, &pt)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(n) =
            sc.n.iter()
                .map(|r| r.iter().map(|x| ev(x, &pt)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(mut x) = sc
            .x0
            .iter()
            .map(|e| ev(e, &pt))
            .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let Ok(c) =
            sc.c.iter()
                .map(|e| ev(e, &pt))
                .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let mut ok = true;
        let mut shown_g: Vec<String> = Vec::new();
        for step in 0..=STEPS {
            let y: BigRational = c.iter().zip(&x).map(|(a, b)| a * b).sum();
            let mut ptt = pt.clone();
            ptt.insert(t.clone(), rat(step, 1));
            let Ok(f) = ev(&sc.f, &ptt) else {
                ok = false;
                break;
            };
            if y != f {
                let pt = sc.settings.settings_at(&pt);
                let shown: Vec<String> = pt.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                // Both sides' own values where the claim's sides split so; else the
                // difference of the sides against 0.
                let side = |(c, rest): &(Vec<Expr>, Expr)| -> Option<BigRational> {
                    let r = ev(rest, &ptt).ok()?;
                    c.iter()
                        .zip(&x)
                        .try_fold(r, |acc, (k, v)| ev(k, &ptt).ok().map(|k| acc + k * v))
                };
                let (y, f) = match &sc.sides {
                    Some([l, r]) => match (side(l), side(r)) {
                        (Some(a), Some(b)) => (a, b),
                        _ => (y, f),
                    },
                    None => (y, f),
                };
                let grads = if shown_g.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", gradients {}{}",
                        shown_g.join(", "),
                        if step > 1 { ", ..." } else { "" }
                    )
                };
                // The structured witness (docs/soundness.md): the symbols and starts,
                // the step and the gradients that reach it, both sides exactly.
                let witness = sym::Witness {
                    point: pt.clone(),
                    left: y.to_string(),
                    right: f.to_string(),
                    checked_by: "exact simulation of the rules in rationals, step by step (no second path: the recurrence proof decides only identities)".into(),
                    element: Some(format!(
                        "{t} = {step}{}",
                        if shown_g.is_empty() {
                            String::new()
                        } else {
                            format!(" (gradients {})", shown_g.join(", "))
                        }
                    )),
                    seed: Some(seed),
                    estimate: None,
                };
                return Err(Box::new((
                    format!(
                        "exactly at {}{grads}: at {t} = {step}: left {y}, right {f}",
                        shown.join(", ")
                    ),
                    witness,
                )));
            }
            let g: Vec<BigRational> = sc
                .sys
                .gs
                .iter()
                .map(|_| rat(rng.random_range(-40..=40), rng.random_range(1..=10)))
                .collect();
            if shown_g.len() < 3 {
                for (s, v) in sc.sys.gs.iter().zip(&g) {
                    shown_g.push(format!(
                        "{} = {v}",
                        s.replace(&format!("[{t}]"), &format!("[{step}]"))
                    ));
                }
            }
            x = (0..x.len())
                .map(|i| {
                    let a: BigRational = (0..x.len()).map(|j| &m[i][j] * &x[j]).sum();
                    let b: BigRational = (0..g.len()).map(|j| &n[i][j] * &g[j]).sum();
                    a + b
                })
                .collect();
        }
        if ok {
            used += 1;
        }
    }
    Ok(used)
}

/// Decides a sequence claim: symbolic proof and exact simulation.
pub(super) fn decide_seq(
    sc: &SeqClaim,
    sample: &BTreeMap<String, BigRational>,
    domains: &BTreeMap<String, sym::Domain>,
    seed: u64,
) -> Outcome {
    let proof = prove(sc).and_then(|()| {
        let left = undischarged(sc);
        if left.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = left.iter().map(|c| c.to_string()).collect();
        Err(format!(
            "the recurrence argument holds, but tq cannot show that the claim is defined on the domains ({} may fail; hyperparameters are positive reals: state a bound such as `beta < 1` in the givens)",
            shown.join(", ")
        ))
    });
    let sim = simulate(sc, sample, domains, seed);
    let sims = |n: usize| {
        format!(
            "{n} random rational gradient sequences of {STEPS} steps agree exactly (seed {seed})"
        )
    };
    match (proof, sim) {
        (_, Err(failure)) => {
            let (cx, w) = *failure;
            let mut o = Outcome::new(
                Verdict::Refuted,
                Method::ExactEval,
                format!("{}: {cx}", sc.label),
            );
            o.witness = Some(w);
            o
        }
        (Ok(()), Ok(n)) if n > 0 => Outcome::proved(
            ProofRule::LinearRecurrence,
            Method::Symbolic,
            format!(
                "{}: no input term in its recurrence, the right side obeys the same recurrence (order {}), and both sides agree at the first {} steps; {}",
                sc.label,
                sc.m.len(),
                sc.m.len(),
                sims(n)
            ),
        ),
        (Ok(()), Ok(_)) => Outcome::proved(
            ProofRule::LinearRecurrence,
            Method::Symbolic,
            format!("{}: proved from the recurrence (no point could be simulated)", sc.label),
        ),
        (Err(why), Ok(n)) if n > 0 => Outcome::new(
            Verdict::Confirmed,
            Method::RandomPoints,
            format!("{}: {} (exactly); no symbolic proof: {why}", sc.label, sims(n)),
        ),
        (Err(why), Ok(_)) => und(format!("{}: no symbolic proof ({why}) and no point could be simulated", sc.label)),
    }
}
