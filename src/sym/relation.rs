//! Deciding relations between expressions, honestly: `proved` only from the normal
//! form (or exact constants), `confirmed` from agreement at random points, `refuted`
//! with the point and both values, `undecided` with the reason.

use super::defined::{
    condition_holds, conditions_of, enclose, range, Condition, Domains, Interval,
};
use super::sturm::{self, Poly};
use super::{eval_exact, identical, to_ascii, Expr};
use crate::verdict::{Method, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// The relation claimed.
#[derive(Clone, Debug, PartialEq)]
pub enum Rel {
    /// `==`
    Eq,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `|l − r| ≤ tol` (absolute tolerance).
    Approx(f64),
    /// `|l − r| ≤ tol · max(|l|, |r|)` (relative tolerance).
    ApproxRel(f64),
}

impl Rel {
    /// The operator as written in the ASCII syntax (`~=` for both approximations).
    pub fn symbol(&self) -> &'static str {
        match self {
            Rel::Eq => "==",
            Rel::Le => "<=",
            Rel::Ge => ">=",
            Rel::Lt => "<",
            Rel::Gt => ">",
            Rel::Approx(_) | Rel::ApproxRel(_) => "~=",
        }
    }
}

/// A restriction on the sampled points, `lhs rel rhs` (`x > 0`, `p >= 1/2`); read one
/// with [`super::parse_relation`].
pub type Assumption = (Expr, Rel, Expr);

/// How points are chosen.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Seed of the `ChaCha8Rng` that draws the points.
    pub seed: u64,
    /// How many points must agree for `confirmed` (default 8).
    pub points: usize,
    /// Sampled as integers 1..=12 (sizes, depths, exponents); symbols in exponents are
    /// added automatically.
    pub integer_symbols: BTreeSet<String>,
    /// Assumptions every point must satisfy: (lhs, rel, rhs). Points are drawn and
    /// rejected until they hold (at most 20 tries per point wanted).
    pub assumptions: Vec<Assumption>,
    /// Symbols known to be positive. Every non-integer symbol is sampled positive
    /// unless it is in `signed_symbols`; listing it here overrides `signed_symbols`.
    pub positive_symbols: BTreeSet<String>,
    /// Symbols that may take either sign (their domain is every real): sampled as
    /// ±n/d. Symbols under `log`, bases of non-integer powers and `positive_symbols`
    /// stay positive in the random draws regardless; the search for small witnesses
    /// and for points where a side is undefined covers the whole domain, 0 included.
    pub signed_symbols: BTreeSet<String>,
    /// The symbols' domains (from the declarations and the givens): a symbol with a
    /// domain is drawn inside it (docs/symbolic.md, "Domains"), so no point lies
    /// outside what the model allows.
    pub domains: BTreeMap<String, super::Domain>,
    /// Definedness conditions of the sides as written, collected while they were built
    /// (see [`super::collecting`]): what the normal form may have folded away (`x/x`).
    pub conditions: Vec<Condition>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            seed: 0,
            points: 8,
            integer_symbols: BTreeSet::new(),
            assumptions: Vec::new(),
            positive_symbols: BTreeSet::new(),
            signed_symbols: BTreeSet::new(),
            domains: BTreeMap::new(),
            conditions: Vec::new(),
        }
    }
}

/// The rule a `proved` verdict rests on. Only these may prove (docs/soundness.md lists
/// them with what each establishes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProofRule {
    /// Both sides have the same normal form (directly, expanded, or over one
    /// denominator), and every definedness condition holds on the domains.
    NormalForm,
    /// Both sides are constants whose exact rational values satisfy the relation.
    ExactEvaluation,
    /// The expanded difference of the sides is a rational constant of the right sign.
    ConstantDifference,
    /// Exact interval bounds on the difference of the sides over the domains
    /// (`exp > 0`, `sigmoid ∈ (0, 1)`, a positive base to any power is positive, …).
    RangeBound,
    /// The moments engine's exact closed form, then one of the rules above on it.
    MomentsClosedForm,
    /// The moments engine's exact variance at a fixed position under zero padding.
    MomentsByPosition,
    /// A bound on a moment (Lipschitz or range) proved by the moments engine, then the
    /// bound compared by one of the rules above.
    MomentsBound,
    /// `E[relu(y)] = E[|y|]/2 > 0` for a symmetric input of positive variance.
    ReluMeanPositive,
    /// An update rule's linear recurrence (Cayley–Hamilton / Faddeev–LeVerrier): both
    /// sides obey the same recurrence and agree on its first steps.
    LinearRecurrence,
    /// A claim about tensor elements written out symbolically at a generic element:
    /// an identity, a non-negativity certificate, a gradient scaling, or an invariance
    /// (the element unchanged, as an identity, when a leaf is shifted).
    TensorSymbolic,
    /// A one-variable polynomial or rational inequality: the sign of left − right at a
    /// test point between and around every real root in the domain (Sturm sequences,
    /// exact root isolation; `sym::sturm`).
    RealRootIsolation,
}

impl ProofRule {
    /// The name printed in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ProofRule::NormalForm => "normal-form",
            ProofRule::ExactEvaluation => "exact-evaluation",
            ProofRule::ConstantDifference => "constant-difference",
            ProofRule::RangeBound => "range-bound",
            ProofRule::MomentsClosedForm => "moments-closed-form",
            ProofRule::MomentsByPosition => "moments-by-position",
            ProofRule::MomentsBound => "moments-bound",
            ProofRule::ReluMeanPositive => "relu-mean-positive",
            ProofRule::LinearRecurrence => "linear-recurrence",
            ProofRule::TensorSymbolic => "tensor-symbolic",
            ProofRule::RealRootIsolation => "real-root-isolation",
        }
    }
}

/// A point at which the relation fails, re-checked by a path other than the one that
/// found it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Witness {
    /// The value of every symbol of the claim (empty for constants); for a refutation
    /// by a sampled run or Monte Carlo, every size and symbol of the run.
    pub point: BTreeMap<String, BigRational>,
    /// The left side there (exact, or `≈` a floating-point value, or its range; a
    /// Monte Carlo estimate).
    pub left: String,
    /// The right side there.
    pub right: String,
    /// How the failure was re-checked: `exact evaluation`, `interval enclosure`,
    /// `range`, the gather form of the backward program, the halves of the trials.
    pub checked_by: String,
    /// Sampled runs and Monte Carlo: the element (`b = 0, t = 1, c = 0`), the
    /// statement of an `includes` block, or the layer or step the moments are taken at.
    pub element: Option<String>,
    /// Sampled runs and Monte Carlo: the seed of the run or of the trials.
    pub seed: Option<u64>,
    /// Monte Carlo: the estimate of left − right, its interval (estimate ± z standard
    /// errors) and the number of trials.
    pub estimate: Option<String>,
}

impl Witness {
    /// `at a = 2, b = 1: left 2/9, right 1/9` (`left …, right …` for constants).
    pub fn describe(&self) -> String {
        let values = format!("left {}, right {}", self.left, self.right);
        if self.point.is_empty() {
            values
        } else {
            format!("at {}: {values}", show(&self.point))
        }
    }

    /// A witness of a sampled run or of Monte Carlo: the run's sizes and symbols (as
    /// exact rationals where the sample value is one), the element, the seed.
    pub fn of_run(
        values: &BTreeMap<String, f64>,
        element: String,
        seed: u64,
        left: String,
        right: String,
        checked_by: String,
    ) -> Witness {
        let point = values
            .iter()
            .filter_map(|(k, v)| {
                let r = BigRational::from_float(*v)?;
                // Sample values are written as short decimals or fractions: the
                // simplest rational within rounding of the float stands for it.
                Some((k.clone(), simplest_near(*v).unwrap_or(r)))
            })
            .collect();
        Witness {
            point,
            left,
            right,
            checked_by,
            element: Some(element),
            seed: Some(seed),
            estimate: None,
        }
    }

    /// The JSON form: `{"point":{"x":"1/2"},"left","right","checked_by"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let point: serde_json::Map<String, serde_json::Value> = self
            .point
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_string())))
            .collect();
        let mut out = serde_json::json!({
            "point": point,
            "left": self.left,
            "right": self.right,
            "checked_by": self.checked_by,
        });
        // The fields of sampled-run and Monte Carlo witnesses, only where they apply.
        if let Some(o) = out.as_object_mut() {
            if let Some(e) = &self.element {
                o.insert("element".into(), serde_json::Value::String(e.clone()));
            }
            if let Some(s) = self.seed {
                o.insert("seed".into(), serde_json::json!(s));
            }
            if let Some(e) = &self.estimate {
                o.insert("estimate".into(), serde_json::Value::String(e.clone()));
            }
        }
        out
    }
}

/// A verdict and what it rests on.
#[derive(Clone, Debug)]
pub struct Decision {
    /// proved, confirmed, refuted or undecided (docs/symbolic.md says exactly when).
    pub verdict: Verdict,
    /// `symbolic`, `exact-eval`, `random-points`, `numeric`, `range` or `none`.
    pub method: Method,
    /// What the verdict rests on: the counterexample with both values, the number of
    /// agreeing points, or why nothing could be decided.
    pub evidence: String,
    /// Points evaluated that counted: agreeing points for confirmed (and for a proof
    /// by exact evaluation), the agreeing points plus the counterexample for refuted,
    /// 0 for a proof from the normal form.
    pub points: usize,
    /// The rule of a `proved` verdict (always set then).
    pub rule: Option<ProofRule>,
    /// The counterexample of a `refuted` verdict (always set then).
    pub witness: Option<Witness>,
}

fn decision(verdict: Verdict, method: Method, evidence: String) -> Decision {
    Decision {
        verdict,
        method,
        evidence,
        points: 0,
        rule: None,
        witness: None,
    }
}

fn proof(rule: ProofRule, method: Method, evidence: String) -> Decision {
    let mut d = decision(Verdict::Proved, method, evidence);
    d.rule = Some(rule);
    d
}

impl Decision {
    fn with_points(mut self, n: usize) -> Decision {
        self.points = n;
        self
    }
}

fn holds(l: f64, rel: &Rel, r: f64) -> bool {
    let tol = 1e-9 * l.abs().max(r.abs()).max(1.0);
    match rel {
        Rel::Eq => (l - r).abs() <= tol,
        Rel::Le => l <= r + tol,
        Rel::Ge => l + tol >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(t) => (l - r).abs() <= *t,
        Rel::ApproxRel(t) => (l - r).abs() <= *t * l.abs().max(r.abs()),
    }
}

/// Whether the relation certainly fails for every pair of values in the enclosures.
fn fails_enclosed(l: (f64, f64), rel: &Rel, r: (f64, f64)) -> bool {
    match rel {
        Rel::Eq => l.1 < r.0 || r.1 < l.0,
        Rel::Le => l.0 > r.1,
        Rel::Lt => l.0 >= r.1,
        Rel::Ge => l.1 < r.0,
        Rel::Gt => l.1 <= r.0,
        Rel::Approx(t) => l.0 - r.1 > *t || r.0 - l.1 > *t,
        Rel::ApproxRel(_) => false,
    }
}

fn holds_exact(l: &BigRational, rel: &Rel, r: &BigRational) -> Option<bool> {
    Some(match rel {
        Rel::Eq => l == r,
        Rel::Le => l <= r,
        Rel::Ge => l >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(t) => {
            let d = (l - r).abs().to_f64()?;
            // Decide exactly unless within rounding of the tolerance.
            if (d - t).abs() <= 1e-12 * t.abs().max(1e-300) {
                return None;
            }
            d <= *t
        }
        Rel::ApproxRel(t) => {
            let t = BigRational::from_float(*t)?;
            (l - r).abs() <= t * l.abs().max(r.abs())
        }
    })
}

fn show(at: &BTreeMap<String, BigRational>) -> String {
    at.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A counterexample: the point (when there are symbols) and both values.
fn refuted(syms: &BTreeSet<String>, w: Witness, exact: bool) -> Decision {
    let method = if syms.is_empty() {
        if exact {
            Method::ExactEval
        } else {
            Method::Numeric
        }
    } else {
        Method::RandomPoints
    };
    let mut d = decision(Verdict::Refuted, method, w.describe());
    d.witness = Some(w);
    d
}

/// What is known of the definedness conditions on the domains.
struct Definedness {
    /// Conditions not shown to hold everywhere on the domains.
    open: Vec<Condition>,
}

/// The sides, the relation and the domains: what every step of the decision reads.
struct Problem<'a> {
    lhs: &'a Expr,
    rel: &'a Rel,
    rhs: &'a Expr,
    opts: &'a CheckOptions,
    dom: Domains,
    syms: BTreeSet<String>,
    conds: Vec<Condition>,
    /// The named constants (`pi`, `e`) the sides read: never drawn, never exact,
    /// evaluated in floating point with an enclosure and bounded in the range facts.
    consts: BTreeMap<String, f64>,
}

impl Problem<'_> {
    /// The point in floating point, with the named constants.
    fn f64_point(&self, at: &BTreeMap<String, BigRational>) -> BTreeMap<String, f64> {
        let mut atf = to_f64_point(at);
        for (k, v) in &self.consts {
            atf.entry(k.clone()).or_insert(*v);
        }
        atf
    }

    fn assumptions_hold(&self, at: &BTreeMap<String, BigRational>) -> bool {
        let atf = self.f64_point(at);
        self.opts
            .assumptions
            .iter()
            .all(|(a, r, b)| match (a.eval_exact(at), b.eval_exact(at)) {
                (Ok(x), Ok(y)) => holds_exact(&x, r, &y).unwrap_or(false),
                _ => match (a.eval_f64(&atf), b.eval_f64(&atf)) {
                    (Ok(x), Ok(y)) => holds(x, r, y),
                    _ => false,
                },
            })
    }

    /// The point with each whole-number symbol that the assumptions bound linearly
    /// (`Y - 1 <= (X - D)/2` and `(X - D)/2 < Y`: a size derived by `floor`) set to the
    /// smallest whole number they allow at the other symbols' values, so that random
    /// points satisfy a derived size's relation instead of missing it almost always.
    /// `None` when the bounds leave no whole number.
    fn repair(
        &self,
        at: &BTreeMap<String, BigRational>,
        ints: &BTreeSet<String>,
    ) -> Option<BTreeMap<String, BigRational>> {
        let mut at = at.clone();
        for s in ints {
            if !at.contains_key(s) {
                continue;
            }
            // Bounds on s: (value, strict).
            let mut lo: Option<(BigRational, bool)> = None;
            let mut hi: Option<(BigRational, bool)> = None;
            let mut tighten = |b: BigRational, strict: bool, lower: bool| {
                let slot = if lower { &mut lo } else { &mut hi };
                let better = match slot {
                    None => true,
                    Some((v, st)) => {
                        if lower {
                            b > *v || (b == *v && strict && !*st)
                        } else {
                            b < *v || (b == *v && strict && !*st)
                        }
                    }
                };
                if better {
                    *slot = Some((b, strict));
                }
            };
            let mut any = false;
            for (a, r, b) in &self.opts.assumptions {
                let d = super::expand(&(a.clone() - b.clone()));
                if !d.free_symbols().contains(s) {
                    continue;
                }
                let Some(c) = super::expand(&d.diff(s)).as_num().cloned() else {
                    continue;
                };
                if c.is_zero() {
                    continue;
                }
                let Ok(v) = d.subs(s, &Expr::zero()).eval_exact(&at) else {
                    continue;
                };
                // c s + v  rel  0.
                let x = -v / c.clone();
                let flip = c.is_negative();
                any = true;
                match r {
                    Rel::Eq => {
                        tighten(x.clone(), false, true);
                        tighten(x, false, false);
                    }
                    Rel::Le | Rel::Lt => tighten(x, matches!(r, Rel::Lt), flip),
                    Rel::Ge | Rel::Gt => tighten(x, matches!(r, Rel::Gt), !flip),
                    _ => {}
                }
            }
            if !any {
                continue;
            }
            if let Some(d) = self.opts.domains.get(s) {
                if let Some((v, st)) = &d.lo {
                    tighten(v.clone(), *st, true);
                }
                if let Some((v, st)) = &d.hi {
                    tighten(v.clone(), *st, false);
                }
            }
            let whole = |b: &BigRational, strict: bool, lower: bool| -> BigRational {
                let n = if lower { b.ceil() } else { b.floor() };
                match (strict && n == *b, lower) {
                    (true, true) => n + BigRational::one(),
                    (true, false) => n - BigRational::one(),
                    _ => n,
                }
            };
            let value = match (&lo, &hi) {
                (Some((l, sl)), h) => {
                    let v = whole(l, *sl, true);
                    if let Some((h, sh)) = h {
                        if v > whole(h, *sh, false) {
                            return None;
                        }
                    }
                    v
                }
                (None, Some((h, sh))) => whole(h, *sh, false),
                (None, None) => continue,
            };
            at.insert(s.clone(), value);
        }
        Some(at)
    }

    /// Whether every definedness condition holds at the point: `Some(false)` when one
    /// fails, `None` when one cannot be decided there.
    fn defined_at(&self, at: &BTreeMap<String, BigRational>) -> Option<bool> {
        let mut all = Some(true);
        for c in &self.conds {
            match eval_exact(c.expr(), at) {
                Ok(v) => {
                    if !c.holds_at(&v) {
                        return Some(false);
                    }
                }
                Err(_) => match enclose(c.expr(), at) {
                    Some((lo, hi)) => {
                        let ok = match c {
                            Condition::NonZero(_) => lo > 0.0 || hi < 0.0,
                            Condition::Positive(_) => lo > 0.0,
                            Condition::NonNegative(_) => lo >= 0.0,
                        };
                        let bad = match c {
                            Condition::NonZero(_) => false,
                            Condition::Positive(_) => hi <= 0.0,
                            Condition::NonNegative(_) => hi < 0.0,
                        };
                        if bad {
                            return Some(false);
                        }
                        if !ok {
                            all = None;
                        }
                    }
                    None => all = None,
                },
            }
        }
        all
    }

    /// Small points of the domains, simplest first (at most `cap`).
    fn small_points(&self, cap: usize) -> Vec<BTreeMap<String, BigRational>> {
        let names: Vec<&String> = self.syms.iter().collect();
        let cands: Vec<Vec<BigRational>> = names.iter().map(|s| self.dom.candidates(s)).collect();
        if cands.iter().any(|c| c.is_empty()) {
            return Vec::new();
        }
        let mut out = Vec::new();
        // Tuples of candidate indices by increasing sum (simplest values first).
        fn fill(
            k: usize,
            left: usize,
            lens: &[usize],
            idx: &mut Vec<usize>,
            out: &mut Vec<Vec<usize>>,
            cap: usize,
        ) {
            if out.len() >= cap {
                return;
            }
            if k == lens.len() {
                if left == 0 {
                    out.push(idx.clone());
                }
                return;
            }
            for i in 0..lens[k].min(left + 1) {
                idx.push(i);
                fill(k + 1, left - i, lens, idx, out, cap);
                idx.pop();
            }
        }
        let lens: Vec<usize> = cands.iter().map(Vec::len).collect();
        let max_sum: usize = lens.iter().map(|l| l - 1).sum();
        let mut tuples = Vec::new();
        for total in 0..=max_sum {
            fill(0, total, &lens, &mut Vec::new(), &mut tuples, cap);
            if tuples.len() >= cap {
                break;
            }
        }
        for idx in tuples {
            out.push(
                names
                    .iter()
                    .zip(&idx)
                    .zip(&cands)
                    .map(|((n, &i), c)| ((*n).clone(), c[i].clone()))
                    .collect(),
            );
        }
        out
    }

    /// The verdict at one point: `Ok(true)` holds, `Err(witness)` fails (re-checked),
    /// `Ok(false)` cannot tell there.
    fn at_point(&self, at: &BTreeMap<String, BigRational>) -> PointResult {
        if !self.assumptions_hold(at) {
            return PointResult::Skip("the assumptions do not hold".into());
        }
        match self.defined_at(at) {
            Some(true) => {}
            Some(false) => return PointResult::Skip("a side is undefined".into()),
            None => return PointResult::Skip("cannot tell whether a side is defined".into()),
        }
        if let (Ok(l), Ok(r)) = (eval_exact(self.lhs, at), eval_exact(self.rhs, at)) {
            match holds_exact(&l, self.rel, &r) {
                Some(true) => return PointResult::Holds { exact: true },
                Some(false) => {
                    return PointResult::Fails(Witness {
                        point: at.clone(),
                        left: l.to_string(),
                        right: r.to_string(),
                        checked_by: "exact evaluation".into(),
                        ..Witness::default()
                    })
                }
                None => {}
            }
        }
        let atf = self.f64_point(at);
        let (Ok(l), Ok(r)) = (self.lhs.eval_f64(&atf), self.rhs.eval_f64(&atf)) else {
            return PointResult::Skip("a side cannot be evaluated".into());
        };
        // A floating-point comparison counts only where both sides have an enclosure
        // (no overflow, no underflow).
        let (Some(le), Some(re)) = (enclose(self.lhs, at), enclose(self.rhs, at)) else {
            return PointResult::Skip(
                "a side has no interval enclosure (a value under- or overflows in floating point, or leaves a function's domain), so a floating-point comparison decides nothing".into(),
            );
        };
        if !l.is_finite() || !r.is_finite() {
            return PointResult::Skip("a side is not finite".into());
        }
        if holds(l, self.rel, r) {
            return PointResult::Holds { exact: false };
        }
        if fails_enclosed(le, self.rel, re) {
            PointResult::Fails(Witness {
                point: at.clone(),
                left: format!("≈ {l:.10}"),
                right: format!("≈ {r:.10}"),
                checked_by: "interval enclosure".into(),
                ..Witness::default()
            })
        } else {
            PointResult::Skip(format!(
                "at {}: left ≈ {l:.10}, right ≈ {r:.10} differ in floating point, but interval bounds cannot confirm it",
                show(at)
            ))
        }
    }

    /// A simpler witness: each coordinate replaced by the simplest candidate at which
    /// the relation still fails (re-checked at the final point).
    fn shrink(&self, w: Witness) -> Witness {
        let mut best = w;
        for s in self.syms.iter() {
            for c in self.dom.candidates(s) {
                if best.point.get(s) == Some(&c) {
                    break;
                }
                let mut p = best.point.clone();
                p.insert(s.clone(), c);
                if let PointResult::Fails(w2) = self.at_point(&p) {
                    best = w2;
                    break;
                }
            }
        }
        best
    }

    fn definedness(&self) -> Definedness {
        Definedness {
            open: self
                .conds
                .iter()
                .filter(|c| !condition_holds(c, &self.dom))
                .cloned()
                .collect(),
        }
    }

    /// `undecided` when a proof would rest on a condition not shown on the domains,
    /// with a point where the claim is undefined when one is found.
    fn undefined(&self, d: &Definedness, what: &str) -> Option<Decision> {
        self.undefined_where(d, what).map(|(u, _)| u)
    }

    /// [`Problem::undefined`], and whether a point where the claim is undefined was found.
    fn undefined_where(&self, d: &Definedness, what: &str) -> Option<(Decision, bool)> {
        if d.open.is_empty() {
            return None;
        }
        let shown: Vec<String> = d.open.iter().map(|c| c.to_string()).collect();
        for p in self.small_points(256) {
            if !self.assumptions_hold(&p) {
                continue;
            }
            for c in &d.open {
                if let Ok(v) = eval_exact(c.expr(), &p) {
                    if !c.holds_at(&v) {
                        let at = if p.is_empty() {
                            "everywhere".to_string()
                        } else {
                            format!("at {}", show(&p))
                        };
                        return Some((
                            decision(
                                Verdict::Undecided,
                                Method::None,
                                format!("{what}, but the claim is undefined {at} ({c} fails)"),
                            ),
                            true,
                        ));
                    }
                }
            }
        }
        Some((
            decision(
                Verdict::Undecided,
                Method::None,
                format!(
                    "{what}, but tq cannot show that the claim is defined on the domains ({})",
                    shown.join(", ")
                ),
            ),
            false,
        ))
    }

    /// The range of `lhs − rhs` over the domains and whether it decides the relation:
    /// `Some(true)` proved, `Some(false)` false everywhere.
    fn by_range(&self) -> (Interval, Option<bool>) {
        let d = self.lhs.clone() - self.rhs.clone();
        let i = range(&d, &self.dom);
        let verdict = match self.rel {
            Rel::Ge if i.lo_above_zero(false) => Some(true),
            Rel::Gt if i.lo_above_zero(true) => Some(true),
            Rel::Le if i.hi_below_zero(false) => Some(true),
            Rel::Lt if i.hi_below_zero(true) => Some(true),
            Rel::Eq if i.excludes_zero() => Some(false),
            Rel::Ge if i.hi_below_zero(true) => Some(false),
            Rel::Gt if i.hi_below_zero(false) => Some(false),
            Rel::Le if i.lo_above_zero(true) => Some(false),
            Rel::Lt if i.lo_above_zero(false) => Some(false),
            _ => None,
        };
        (i, verdict)
    }

    /// A refutation by range: a defined point of the domains, where the ranges of the
    /// two sides (the point substituted) separate.
    fn range_witness(&self, i: &Interval) -> Option<Witness> {
        for p in self.small_points(256) {
            if !self.assumptions_hold(&p) || self.defined_at(&p) != Some(true) {
                continue;
            }
            let (l, r) = (subs_point(self.lhs, &p), subs_point(self.rhs, &p));
            let (li, ri) = (range(&l, &self.dom), range(&r, &self.dom));
            let dl = range(&(l.clone() - r.clone()), &self.dom);
            let fails = match self.rel {
                Rel::Eq => dl.excludes_zero(),
                Rel::Ge => dl.hi_below_zero(true),
                Rel::Gt => dl.hi_below_zero(false),
                Rel::Le => dl.lo_above_zero(true),
                Rel::Lt => dl.lo_above_zero(false),
                _ => false,
            };
            if fails {
                let side = |e: &Expr, i: &Interval| match e.as_num() {
                    Some(v) => v.to_string(),
                    None => format!("{} ∈ {i}", to_ascii(e)),
                };
                return Some(Witness {
                    point: p,
                    left: side(&l, &li),
                    right: side(&r, &ri),
                    checked_by: format!("range (left − right ∈ {i} on the domains)"),
                    ..Witness::default()
                });
            }
        }
        None
    }
}

enum PointResult {
    Holds { exact: bool },
    Fails(Witness),
    Skip(String),
}

fn to_f64_point(at: &BTreeMap<String, BigRational>) -> BTreeMap<String, f64> {
    at.iter()
        .map(|(k, v)| (k.clone(), v.to_f64().unwrap_or(f64::NAN)))
        .collect()
}

fn subs_point(e: &Expr, at: &BTreeMap<String, BigRational>) -> Expr {
    let mut out = e.clone();
    for (k, v) in at {
        out = out.subs(k, &Expr::num(v.clone()));
    }
    out
}

/// Decides `lhs rel rhs`.
pub fn check_relation(lhs: &Expr, rel: &Rel, rhs: &Expr, opts: &CheckOptions) -> Decision {
    let mut syms = lhs.free_symbols();
    syms.extend(rhs.free_symbols());
    for c in &opts.conditions {
        syms.extend(c.expr().free_symbols());
    }
    for (a, _, b) in &opts.assumptions {
        syms.extend(a.free_symbols());
        syms.extend(b.free_symbols());
    }
    let mut ints = opts.integer_symbols.clone();
    lhs.exponent_symbols(&mut ints);
    rhs.exponent_symbols(&mut ints);
    let mut must_be_positive = opts.positive_symbols.clone();
    positive_required(lhs, &mut must_be_positive);
    positive_required(rhs, &mut must_be_positive);
    for (a, _, b) in &opts.assumptions {
        positive_required(a, &mut must_be_positive);
        positive_required(b, &mut must_be_positive);
    }
    // The domains: integers, positive reals, reals; bounds from the assumptions.
    let mut dom = Domains {
        integers: ints.clone(),
        positive: opts.positive_symbols.clone(),
        real: opts.signed_symbols.clone(),
        bounds: BTreeMap::new(),
    };
    for (a, r, b) in &opts.assumptions {
        dom.assume(a, r, b);
    }
    // The named constants `pi` and `e` (unless the file declares a symbol of that name):
    // not free symbols. A point never gives them a value; exact evaluation leaves them
    // irrational (so a claim reading them is decided in floating point, with an
    // enclosure, or by the range facts), and the range facts know them to 9 digits.
    let consts = named_constants(&syms, opts);
    for (name, (lo, hi)) in CONSTANT_BOUNDS {
        if consts.contains_key(*name) {
            let x = Expr::sym(name);
            dom.assume(
                &x,
                &Rel::Ge,
                &Expr::num(BigRational::new((*lo).into(), 1_000_000_000.into())),
            );
            dom.assume(
                &x,
                &Rel::Le,
                &Expr::num(BigRational::new((*hi).into(), 1_000_000_000.into())),
            );
        }
    }
    syms.retain(|s| !consts.contains_key(s));
    // The symbols' declared domains (a probability in [0, 1], a variance >= 0, sizes):
    // every small point and every witness lies inside them.
    for (s, d) in &opts.domains {
        if d.integer {
            dom.integers.insert(s.clone());
        }
        let x = Expr::sym(s);
        if let Some((v, open)) = &d.lo {
            let r = if *open { Rel::Gt } else { Rel::Ge };
            dom.assume(&x, &r, &Expr::num(v.clone()));
        }
        if let Some((v, open)) = &d.hi {
            let r = if *open { Rel::Lt } else { Rel::Le };
            dom.assume(&x, &r, &Expr::num(v.clone()));
        }
    }
    // The definedness conditions: those collected while building the sides and those
    // still visible in their normal forms.
    let mut all = BTreeSet::new();
    for c in &opts.conditions {
        all.insert(c.map(|e| e.normalize()));
    }
    conditions_of(lhs, &mut all);
    conditions_of(rhs, &mut all);
    for c in &all {
        if let Some(v) = c.expr().as_num() {
            if !c.holds_at(v) {
                return decision(
                    Verdict::Undecided,
                    Method::None,
                    format!("undefined: {c} fails everywhere (a division by zero, the log of a non-positive number, or a fractional power of a negative number)"),
                );
            }
        }
    }
    let conds: Vec<Condition> = all
        .into_iter()
        .filter(|c| c.expr().as_num().is_none())
        .collect();
    // A symbol that only the conditions still mention (`x/x`) has a domain too.
    for c in &conds {
        syms.extend(c.expr().free_symbols());
    }
    syms.retain(|s| !consts.contains_key(s));
    let pb = Problem {
        lhs,
        rel,
        rhs,
        opts,
        dom,
        syms: syms.clone(),
        conds,
        consts,
    };
    let definedness = pb.definedness();
    // Symbolic proof of an identity.
    if *rel == Rel::Eq && identical(lhs, rhs) {
        if let Some(u) = pb.undefined(&definedness, "both sides have the same normal form") {
            return u;
        }
        return proof(
            ProofRule::NormalForm,
            Method::Symbolic,
            "both sides have the same normal form (as rational functions of their atoms)".into(),
        );
    }
    // A relation false everywhere by exact range facts (`sigmoid(1000) == 1`).
    let (range_of_difference, by_range) = pb.by_range();
    if by_range == Some(false) {
        if let Some(w) = pb.range_witness(&range_of_difference) {
            let mut d = decision(Verdict::Refuted, Method::Range, w.describe());
            d.witness = Some(w);
            return d;
        }
    }
    // Small points first: the simplest witness when there is one.
    for p in pb.small_points(64) {
        if p.is_empty() {
            break;
        }
        if let PointResult::Fails(w) = pb.at_point(&p) {
            let exact = w.checked_by == "exact evaluation";
            return refuted(&syms, w, exact).with_points(1);
        }
    }
    // One variable, a polynomial or rational inequality: decided exactly between and
    // around its real roots (docs/soundness.md, `real-root-isolation`).
    // (A relation the range facts already prove keeps that simpler rule.)
    if by_range != Some(true) {
        if let Some(d) = pb.univariate(&definedness) {
            return d;
        }
    }
    // One real variable, not a polynomial claim: a grid of the domain (multiples of 1/8
    // in [−12, 12], powers of two to 1024), so a failure on a short interval is not left
    // to chance. A failure counts as at any point (exact, or separated by enclosures).
    let mut grid_note = String::new();
    if let (1, Some(s)) = (syms.len(), syms.iter().next()) {
        let grid = pb.dom.grid(s);
        let mut held = 0;
        for v in &grid {
            let at: BTreeMap<String, BigRational> = [(s.clone(), v.clone())].into();
            if !pb.assumptions_hold(&at) {
                continue;
            }
            match pb.at_point(&at) {
                PointResult::Holds { .. } => held += 1,
                PointResult::Fails(w) => {
                    let exact = w.checked_by == "exact evaluation";
                    let w = if exact { pb.shrink(w) } else { w };
                    return refuted(&syms, w, exact).with_points(held + 1);
                }
                PointResult::Skip(_) => {}
            }
        }
        if held > 0 {
            grid_note = format!(", at {held} points of a grid of the domain of {s}");
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    // The bases of the sections along each variable: the simplest point of the domains
    // where the claim holds, then the first random points.
    let mut bases: Vec<BTreeMap<String, BigRational>> = pb
        .small_points(8)
        .into_iter()
        .filter(|p| !p.is_empty() && matches!(pb.at_point(p), PointResult::Holds { .. }))
        .take(1)
        .collect();
    let points = if syms.is_empty() {
        1
    } else {
        opts.points.max(1)
    };
    let mut agreed = 0;
    let mut exact_all = true;
    let mut last_failure = String::new();
    let mut tries = 0;
    // Symbols in exponents keep small values even at the wide points (`a^N` at N = 10^4
    // is a number of 10^4 digits).
    let mut exponents = BTreeSet::new();
    lhs.exponent_symbols(&mut exponents);
    rhs.exponent_symbols(&mut exponents);
    let draw = |rng: &mut ChaCha8Rng, wide: bool| -> BTreeMap<String, BigRational> {
        syms.iter()
            .map(|s| {
                let wide = wide && !exponents.contains(s);
                let mut d = opts.domains.get(s).cloned().unwrap_or_else(|| {
                    if wide && ints.contains(s) {
                        super::Domain::size("whole")
                    } else {
                        super::Domain::default()
                    }
                });
                if opts.domains.contains_key(s) || wide {
                    if must_be_positive.contains(s) {
                        d.meet(&super::Domain::nonnegative(true, "positive"));
                    }
                    if ints.contains(s) {
                        d.integer = true;
                    }
                    let v = if wide {
                        d.sample_wide(rng).map(|v| {
                            if opts.signed_symbols.contains(s)
                                && !must_be_positive.contains(s)
                                && d.lo.is_none()
                                && d.hi.is_none()
                                && rng.random_bool(0.5)
                            {
                                -v
                            } else {
                                v
                            }
                        })
                    } else {
                        d.sample(rng)
                    };
                    if let Some(v) = v {
                        return (s.clone(), v);
                    }
                }
                let v = if ints.contains(s) {
                    BigRational::from_integer(BigInt::from(rng.random_range(1..=12)))
                } else {
                    let v = BigRational::new(
                        BigInt::from(rng.random_range(1..=40)),
                        BigInt::from(rng.random_range(1..=12)),
                    );
                    if opts.signed_symbols.contains(s)
                        && !must_be_positive.contains(s)
                        && rng.random_bool(0.5)
                    {
                        -v
                    } else {
                        v
                    }
                };
                (s.clone(), v)
            })
            .collect()
    };
    while agreed < points && tries < points * 20 {
        tries += 1;
        let mut at = draw(&mut rng, false);
        // Assumptions.
        if !pb.assumptions_hold(&at) {
            match pb.repair(&at, &ints) {
                Some(r) if pb.assumptions_hold(&r) => at = r,
                _ => continue,
            }
        }
        match pb.at_point(&at) {
            PointResult::Holds { exact } => {
                agreed += 1;
                exact_all &= exact;
                if bases.len() < SECTION_BASES {
                    bases.push(at);
                }
            }
            PointResult::Fails(w) => {
                let exact = w.checked_by == "exact evaluation";
                let w = if exact { pb.shrink(w) } else { w };
                return refuted(&syms, w, exact).with_points(agreed + 1);
            }
            PointResult::Skip(why) => {
                exact_all = false;
                last_failure = why;
            }
        }
    }
    let range_proof = |agreed: usize| -> Option<Decision> {
        if by_range == Some(true) {
            if let Some(u) = pb.undefined(
                &definedness,
                &format!("left − right ∈ {range_of_difference} on the domains"),
            ) {
                return Some(u);
            }
            return Some(
                proof(
                    ProofRule::RangeBound,
                    Method::Range,
                    format!(
                        "left − right ∈ {range_of_difference} on the domains (exact range facts)"
                    ),
                )
                .with_points(agreed),
            );
        }
        None
    };
    if agreed < points {
        if let Some(d) = range_proof(agreed) {
            return d;
        }
        return decision(
            Verdict::Undecided,
            Method::None,
            if last_failure.is_empty() {
                format!("could not find {points} points satisfying the assumptions")
            } else {
                format!("cannot evaluate: {last_failure}")
            },
        )
        .with_points(agreed);
    }
    if syms.is_empty() && exact_all {
        if let Some(u) = pb.undefined(&definedness, "exact evaluation agrees") {
            return u;
        }
        return proof(
            ProofRule::ExactEvaluation,
            Method::ExactEval,
            format!("left {}, right {}", to_ascii(lhs), to_ascii(rhs)),
        )
        .with_points(1);
    }
    // Ordering of polynomials with a constant difference is decided exactly.
    let d = super::expand(&(lhs.clone() - rhs.clone()));
    if let Expr::Num(c) = &d {
        let ok = match rel {
            Rel::Le => !c.is_positive(),
            Rel::Ge => !c.is_negative(),
            Rel::Lt => c.is_negative(),
            Rel::Gt => c.is_positive(),
            Rel::Eq => c.is_zero(),
            Rel::Approx(t) => BigRational::from_float(*t).is_some_and(|t| c.abs() <= t),
            // A relative tolerance depends on the values, not only on the difference.
            Rel::ApproxRel(_) => false,
        };
        if ok && !syms.is_empty() {
            if let Some(u) =
                pb.undefined(&definedness, &format!("the difference is the constant {c}"))
            {
                return u;
            }
            return proof(
                ProofRule::ConstantDifference,
                Method::Symbolic,
                format!("the difference is the constant {c}"),
            )
            .with_points(agreed);
        }
    }
    if let Some(d) = range_proof(agreed) {
        return d;
    }
    // Agreement where defined is not agreement: a claim undefined at a point of the
    // domains is not confirmed.
    if let Some((u, true)) = pb.undefined_where(&definedness, "holds where defined") {
        return u.with_points(agreed);
    }
    if syms.is_empty() {
        return decision(
            Verdict::Confirmed,
            Method::Numeric,
            "holds in floating point (a side is irrational)".into(),
        )
        .with_points(1);
    }
    // Several variables: a sign change that random points miss is looked for along each
    // variable, the others fixed at the first random points.
    let mut sections_note = String::new();
    match pb.sections_along_each_variable(&bases) {
        SectionResult::Fails(w) => {
            let mut d = decision(Verdict::Refuted, Method::ExactEval, w.describe());
            d.witness = Some(w);
            return d.with_points(agreed + 1);
        }
        SectionResult::Held(n) if n > 0 => {
            sections_note = format!(
                " and at {n} points between and around the real roots in each variable \
                 (the others fixed at the simplest point of the domains that holds and at \
                 the first random points, {} in all; evidence on these lines only, not a \
                 proof: the points are evaluated exactly, other lines are not tested)",
                bases.len()
            );
        }
        SectionResult::Held(_) => {}
    }
    // Points far from the small ones (whole numbers to 10^4, magnitudes 2^-12 to 2^16):
    // `N <= 12` and `a <= 40` hold at every small point. Only an exact failure refutes
    // here; a point where floating point overflows says nothing.
    let mut wide = 0;
    let mut wide_tries = 0;
    while wide < points && wide_tries < points * 20 {
        wide_tries += 1;
        let mut at = draw(&mut rng, true);
        if !pb.assumptions_hold(&at) {
            match pb.repair(&at, &ints) {
                Some(r) if pb.assumptions_hold(&r) => at = r,
                _ => continue,
            }
        }
        match pb.at_point(&at) {
            PointResult::Holds { .. } => wide += 1,
            PointResult::Fails(w) if w.checked_by == "exact evaluation" => {
                let w = pb.shrink(w);
                return refuted(&syms, w, true).with_points(agreed + wide + 1);
            }
            _ => {}
        }
    }
    decision(
        Verdict::Confirmed,
        Method::RandomPoints,
        format!(
            "holds at {points} random points{}{grid_note}{sections_note}{}",
            if exact_all { " (exactly)" } else { "" },
            if wide > 0 {
                format!(" and at {wide} points of larger magnitude")
            } else {
                String::new()
            }
        ),
    )
    .with_points(agreed + wide)
}

/// How many random points serve as bases of the sections along each variable.
const SECTION_BASES: usize = 4;

enum SectionResult {
    /// Held at this many section points.
    Held(usize),
    /// Failed at a point, re-checked.
    Fails(Witness),
}

/// Whether `v` lies between the ends.
fn iv_contains(lo: &super::sturm::End, hi: &super::sturm::End, v: &BigRational) -> bool {
    let above = match lo {
        None => true,
        Some((l, open)) => v > l || (!open && v == l),
    };
    let below = match hi {
        None => true,
        Some((h, open)) => v < h || (!open && v == h),
    };
    above && below
}

/// The end of an interval as [`super::sturm::End`].
fn sturm_end(e: &super::defined::End) -> super::sturm::End {
    match e {
        super::defined::End::Unbounded => None,
        super::defined::End::At(v, open) => Some((v.clone(), *open)),
    }
}

impl Problem<'_> {
    /// Whether every assumption is a bound of one symbol by a number (which the domains
    /// hold exactly).
    fn assumptions_are_bounds(&self) -> bool {
        self.opts.assumptions.iter().all(|(a, _, b)| {
            matches!(
                (a, b),
                (Expr::Sym(_), Expr::Num(_)) | (Expr::Num(_), Expr::Sym(_))
            )
        })
    }

    /// left − right as numerator and denominator polynomials in `x`, in lowest terms.
    fn fraction_in(&self, lhs: &Expr, rhs: &Expr, x: &str) -> Option<(Poly, Poly)> {
        let d = lhs.clone() - rhs.clone();
        let (n, den) = super::together(&d);
        let np = sturm::poly_of(&n, x)?;
        let dp = sturm::poly_of(&den, x)?;
        if dp.is_empty() {
            return None;
        }
        Some(sturm::reduce(&np, &dp))
    }

    /// The exact re-check of a point found by the sections (the original sides
    /// evaluated exactly), with the floating-point value of both sides as a second,
    /// independent path noted in `checked_by`.
    fn recheck(&self, at: &BTreeMap<String, BigRational>) -> Option<Witness> {
        let PointResult::Fails(mut w) = self.at_point(at) else {
            return None;
        };
        if w.checked_by != "exact evaluation" {
            return Some(w);
        }
        let atf = self.f64_point(at);
        let note = match (self.lhs.eval_f64(&atf), self.rhs.eval_f64(&atf)) {
            (Ok(l), Ok(r)) if l.is_finite() && r.is_finite() && !holds(l, self.rel, r) => {
                format!("floating point agrees: left ≈ {l:.6e}, right ≈ {r:.6e}")
            }
            (Ok(l), Ok(r)) => {
                format!("floating point cannot see it (left ≈ {l:.6e}, right ≈ {r:.6e}: rounding)")
            }
            _ => "floating point cannot evaluate it".to_string(),
        };
        w.checked_by = format!("exact evaluation; {note}");
        Some(w)
    }

    /// A one-variable polynomial or rational inequality, decided exactly: `proved` when
    /// left − right has the claimed sign at a test point in every interval between and
    /// around its real roots (and, for a strict relation, no root in the domain),
    /// `refuted` at a rational test point or root where it fails (re-checked by exact
    /// and floating-point evaluation), `undecided` when it fails only at an irrational
    /// root. `None` when the claim is not of this form or a budget ran out.
    fn univariate(&self, definedness: &Definedness) -> Option<Decision> {
        let (want, strict) = match self.rel {
            Rel::Ge => (1i8, false),
            Rel::Gt => (1, true),
            Rel::Le => (-1, false),
            Rel::Lt => (-1, true),
            _ => return None,
        };
        if self.syms.len() != 1 || !self.consts.is_empty() || !self.assumptions_are_bounds() {
            return None;
        }
        let x = self.syms.iter().next()?.clone();
        let (np, dp) = self.fraction_in(self.lhs, self.rhs, &x)?;
        let iv = self.dom.of(&x);
        let (lo, hi) = (sturm_end(&iv.lo), sturm_end(&iv.hi));
        let integer = self.dom.integers.contains(&x);
        let f = sturm::mul(&np, &dp);
        let s = sturm::sections(&f, &lo, &hi, integer)?;
        let point = |v: &BigRational| BTreeMap::from([(x.clone(), v.clone())]);
        let fails_at = |v: &BigRational| {
            let sd = sturm::sign_at(&dp, v);
            if sd == 0 {
                return false;
            }
            let sg = sturm::sign_at(&np, v) * sd;
            sg == -want || (strict && sg == 0)
        };
        let mut candidates: Vec<&BigRational> = s.points.iter().filter(|v| fails_at(v)).collect();
        if strict {
            candidates.extend(s.exact_roots.iter().filter(|v| fails_at(v)));
        }
        // The simplest failing point first.
        candidates.sort_by_key(|v| v.numer().bits() + v.denom().bits());
        let any_failing = !candidates.is_empty();
        for v in candidates {
            let in_domain = |c: &BigRational| {
                iv_contains(&lo, &hi, c) && (!integer || c.is_integer()) && fails_at(c)
            };
            let v = &sturm::simpler(v, in_domain);
            if let Some(w) = self.recheck(&point(v)) {
                let mut d = decision(Verdict::Refuted, Method::ExactEval, w.describe());
                d.witness = Some(w);
                return Some(d.with_points(1));
            }
        }
        // The polynomial form fails where the sides, evaluated, do not (a point outside
        // a definedness condition): not decided here.
        if any_failing {
            return None;
        }
        // A denominator root in the domain: undefined there; left to the other steps.
        if dp.len() > 1 {
            let sd = sturm::sections(&dp, &lo, &hi, integer)?;
            if sd.roots_inside > 0 {
                return None;
            }
        }
        let degree = f.len().saturating_sub(1);
        if strict && np.len() > 1 {
            let sn = sturm::sections(&np, &lo, &hi, integer)?;
            if sn.roots_inside > 0 {
                return Some(decision(
                    Verdict::Undecided,
                    Method::None,
                    format!(
                        "left − right is 0 at {} real root(s) of a polynomial of degree {} in {x} inside the domain (Sturm sequence), irrational: the strict relation fails there, but no rational witness exists",
                        sn.roots_inside,
                        np.len() - 1
                    ),
                ));
            }
        }
        let what = format!(
            "left − right {} 0 at {} test point(s) between and around the {} real root(s) in the domain of {x} (a polynomial of degree {degree} in {x}, numerator times denominator; Sturm sequence, exact){}",
            if want > 0 {
                if strict { ">" } else { ">=" }
            } else if strict {
                "<"
            } else {
                "<="
            },
            s.points.len(),
            s.roots_inside,
            if integer {
                "; whole numbers tested one by one"
            } else {
                ""
            }
        );
        if let Some(u) = self.undefined(definedness, &what) {
            return Some(u);
        }
        Some(
            proof(ProofRule::RealRootIsolation, Method::Symbolic, what).with_points(s.points.len()),
        )
    }

    /// Several variables: along each variable, with the others fixed at each base
    /// point, the test points between and around that section's real roots.
    fn sections_along_each_variable(
        &self,
        bases: &[BTreeMap<String, BigRational>],
    ) -> SectionResult {
        if self.syms.len() < 2 || !self.consts.is_empty() || matches!(self.rel, Rel::Eq) {
            return SectionResult::Held(0);
        }
        let mut tested = 0;
        for base in bases {
            for x in &self.syms {
                let mut others = base.clone();
                others.remove(x);
                let (l, r) = (subs_point(self.lhs, &others), subs_point(self.rhs, &others));
                let Some((np, dp)) = self.fraction_in(&l, &r, x) else {
                    continue;
                };
                let iv = self.dom.of(x);
                let integer = self.dom.integers.contains(x);
                let f = sturm::mul(&np, &dp);
                let Some(s) = sturm::sections(&f, &sturm_end(&iv.lo), &sturm_end(&iv.hi), integer)
                else {
                    continue;
                };
                let mut pts = s.points.clone();
                pts.extend(s.exact_roots.iter().cloned());
                for v in pts {
                    let at = |c: &BigRational| {
                        let mut p = others.clone();
                        p.insert(x.clone(), c.clone());
                        p
                    };
                    match self.at_point(&at(&v)) {
                        PointResult::Holds { .. } => tested += 1,
                        PointResult::Fails(_) => {
                            // The simplest value of x that still fails, then the
                            // simplest values of the others; re-checked there.
                            let v = sturm::simpler(&v, |c| {
                                (!integer || c.is_integer())
                                    && matches!(self.at_point(&at(c)), PointResult::Fails(_))
                            });
                            let mut p = at(&v);
                            if let PointResult::Fails(w) = self.at_point(&p) {
                                p = self.shrink(w).point;
                            }
                            if let Some(w) = self.recheck(&p) {
                                return SectionResult::Fails(w);
                            }
                        }
                        PointResult::Skip(_) => {}
                    }
                }
            }
        }
        SectionResult::Held(tested)
    }
}

/// The named constants and their bounds (in units of 10⁻⁹): π ∈ [3.141592653,
/// 3.141592654], e ∈ [2.718281828, 2.718281829].
const CONSTANT_BOUNDS: &[(&str, (i64, i64))] = &[
    ("pi", (3_141_592_653, 3_141_592_654)),
    ("e", (2_718_281_828, 2_718_281_829)),
];

/// The named constants among `syms`: `pi` and `e`, unless the options give the name a
/// domain or a sampling class (a symbol the file declares).
fn named_constants(syms: &BTreeSet<String>, opts: &CheckOptions) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, v) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)] {
        let declared = opts.domains.contains_key(name)
            || opts.integer_symbols.contains(name)
            || opts.positive_symbols.contains(name)
            || opts.signed_symbols.contains(name);
        if syms.contains(name) && !declared {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// Symbols that must be sampled positive: those under `log` and in the bases of
/// non-integer powers.
fn positive_required(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Num(_) | Expr::Sym(_) => {}
        Expr::Add(v) | Expr::Mul(v) => v.iter().for_each(|x| positive_required(x, out)),
        Expr::Pow(b, x) => {
            if x.as_int().is_none() {
                out.extend(b.free_symbols());
            }
            positive_required(b, out);
            positive_required(x, out);
        }
        Expr::Func(f, x) => {
            if f.entry().domain != super::func::Domain::All {
                out.extend(x.free_symbols());
            }
            positive_required(x, out);
        }
    }
}

/// The rational with the smallest denominator (up to 10⁴) within 10⁻¹² relative of `v`:
/// `0.1` as 1/10, not its binary expansion.
fn simplest_near(v: f64) -> Option<BigRational> {
    if !v.is_finite() || v.abs() > 1e12 {
        return None;
    }
    (1i64..=10_000).find_map(|d| {
        let n = (v * d as f64).round();
        ((n / d as f64 - v).abs() <= 1e-12 * v.abs().max(1e-300))
            .then(|| BigRational::new(BigInt::from(n as i64), BigInt::from(d)))
    })
}
