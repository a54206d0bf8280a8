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

mod compare;
mod critical;
mod feasible;
mod points;
mod quadratic;
mod rule;
mod sections;
mod witness;

use compare::{fails_enclosed, holds, holds_enclosed};
pub use feasible::empty_setting;
pub use rule::ProofRule;
use sections::{SectionResult, SECTION_BASES};
pub use witness::{abbreviated, Witness};
mod constants;
#[allow(unused_imports)]
pub use constants::*;

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
    /// `|l − r| ≤ tol` (absolute tolerance), and the tolerance as the exact rational
    /// the file wrote (`tol 0.1`, `tol 1/10`: 1/10) where it is one, so that exact sides
    /// are compared with it exactly (probe37 p14: `4 ~= 3.9 tol 0.1` was undecided).
    Approx(f64, Option<BigRational>),
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
            Rel::Approx(..) | Rel::ApproxRel(_) => "~=",
        }
    }

    /// The same relation with its sides exchanged (`a < b` is `b > a`).
    pub fn flipped(&self) -> Rel {
        match self {
            Rel::Le => Rel::Ge,
            Rel::Ge => Rel::Le,
            Rel::Lt => Rel::Gt,
            Rel::Gt => Rel::Lt,
            other => other.clone(),
        }
    }

    /// A bound of one symbol by a number (`c > 0`, `1/2 <= p`), read from a lowered
    /// relation with the symbol on either side: (symbol, relation with the symbol on the
    /// left, number). `None` for anything else, and for `==` and the approximations.
    pub fn number_bound(l: &Expr, rel: &Rel, r: &Expr) -> Option<(String, Rel, BigRational)> {
        if !matches!(rel, Rel::Le | Rel::Ge | Rel::Lt | Rel::Gt) {
            return None;
        }
        match (l, r) {
            (Expr::Sym(n), Expr::Num(c)) => Some((n.clone(), rel.clone(), c.clone())),
            (Expr::Num(c), Expr::Sym(n)) => Some((n.clone(), rel.flipped(), c.clone())),
            _ => None,
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
    /// Symbols the file gives a value that is not a whole number (`sample s = 0.5`):
    /// never taken as whole numbers in an exponent (`2^s >= 2` is false at s = 1/2);
    /// they keep their other domain.
    pub fractional_symbols: BTreeSet<String>,
    /// Expressions that are whole numbers at every point of the claim: the value of a
    /// size a given sets by an expression (`given J = I/2`: I/2 is whole, so I is even).
    /// A point where one is not a whole number satisfies no given (session 38).
    pub whole: Vec<Expr>,
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
            fractional_symbols: BTreeSet::new(),
            whole: Vec::new(),
        }
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

/// Whether `l rel r` holds between two exact values (`None` within rounding of an
/// approximation's tolerance).
pub fn holds_exact(l: &BigRational, rel: &Rel, r: &BigRational) -> Option<bool> {
    Some(match rel {
        Rel::Eq => l == r,
        Rel::Le => l <= r,
        Rel::Ge => l >= r,
        Rel::Lt => l < r,
        Rel::Gt => l > r,
        Rel::Approx(_, Some(t)) => (l - r).abs() <= *t,
        Rel::Approx(t, None) => {
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

/// Whether the range facts (exact rational bounds, docs/soundness.md) of `lhs − rhs`
/// over the domains show `lhs rel rhs` failing at every point: with a point substituted
/// into both sides, an exact re-check of a failure found by evaluation, which also
/// decides a tie (`1 < 1`) that a floating-point enclosure cannot separate.
pub fn fails_by_range(lhs: &Expr, rel: &Rel, rhs: &Expr, dom: &Domains) -> bool {
    let dl = range(&(lhs.clone() - rhs.clone()), dom);
    match rel {
        Rel::Eq => dl.excludes_zero(),
        Rel::Ge => dl.hi_below_zero(true),
        Rel::Gt => dl.hi_below_zero(false),
        Rel::Le => dl.lo_above_zero(true),
        Rel::Lt => dl.lo_above_zero(false),
        Rel::Approx(t, _) => points::approx_by_interval(*t, &dl) == Some(false),
        _ => false,
    }
}

/// [`fails_by_range`] at a point: its values substituted into both sides.
pub fn fails_by_range_at(
    lhs: &Expr,
    rel: &Rel,
    rhs: &Expr,
    at: &BTreeMap<String, BigRational>,
) -> bool {
    let (l, r) = (subs_point(lhs, at), subs_point(rhs, at));
    fails_by_range(&l, rel, &r, &Domains::default())
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
    for w in &opts.whole {
        syms.extend(w.free_symbols());
    }
    let mut ints = opts.integer_symbols.clone();
    lhs.exponent_symbols(&mut ints);
    rhs.exponent_symbols(&mut ints);
    // Symbols in the exponents the sides had before folding (`x^(-s) x^s` is 1): the
    // same convention, so that the power's condition is judged at whole exponents.
    for c in &opts.conditions {
        if let Condition::Power(_, x) = c {
            ints.extend(x.free_symbols());
        }
    }
    // A scalar input in an exponent is still every real (`2^x >= 1` is false at
    // x = -1; it was proved with x taken as a positive integer): only symbols the
    // caller does not declare signed are taken as whole numbers there.
    ints.retain(|s| {
        opts.integer_symbols.contains(s)
            || !(opts.signed_symbols.contains(s) || opts.fractional_symbols.contains(s))
    });
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
        whole_from: BTreeMap::new(),
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
            // A whole number from below 1 (a family variable from its first member, 0):
            // the least value is the domain's, not the sizes' 1.
            if let Some((lo, open)) = &d.lo {
                let mut least = lo.ceil().to_integer();
                if *open && BigRational::from_integer(least.clone()) == *lo {
                    least += 1;
                }
                if least < BigInt::one() {
                    dom.whole_from.insert(s.clone(), least);
                }
            }
        } else if d.lo.is_some() && !opts.positive_symbols.contains(s) {
            // A declared lower bound is the domain's own (a probability's 0, a
            // variance's 0): the positive sampling convention must not remove it, or
            // `v + m^2 > m^2` is proved for a variance v >= 0 and `(1 - p)^N < 1`
            // confirmed for a probability p in [0, 1] (false at 0).
            dom.real.insert(s.clone());
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
    // Givens that leave a symbol no value of its domain (`p < -1` for a positive
    // symbol, `x > 3, x < 2`) leave the claim about nothing: undecided, never proved
    // vacuously (session 28: `p > 10 given p < -1` was proved by real-root isolation
    // over the empty interval).
    for s in &syms {
        if consts.contains_key(s) {
            continue;
        }
        let d = dom.of(s);
        if d.is_empty(dom.integers.contains(s)) {
            return decision(
                Verdict::Undecided,
                Method::None,
                format!("no value of `{s}` satisfies its domain and the givens: the claim is about no point"),
            );
        }
    }
    // A given between numbers that fails (or is undefined) leaves the claim about no
    // point either (`given sqrt(D a c) > 0` with a = 0 set: 0 > 0).
    for (a, r, b) in &opts.assumptions {
        if !(a.free_symbols().is_empty() && b.free_symbols().is_empty()) {
            continue;
        }
        let none = BTreeMap::new();
        let holds = match (eval_exact(a, &none), eval_exact(b, &none)) {
            (Ok(x), Ok(y)) => holds_exact(&x, r, &y),
            _ => Some(false),
        };
        if holds == Some(false) {
            return decision(
                Verdict::Undecided,
                Method::None,
                format!(
                    "the givens hold at no point ({} {} {} fails or is undefined): the claim is about no point",
                    to_ascii(a),
                    r.symbol(),
                    to_ascii(b)
                ),
            );
        }
    }
    // Givens that contradict the domains or the relations the declarations give between
    // symbols (`given a < c` with `normal(0, a - c)`) leave no point either (session 32:
    // `Var(x) == a - c given a < c` was proved vacuously).
    if let Some(why) = empty_setting(opts) {
        return decision(Verdict::Undecided, Method::None, why);
    }
    // The definedness conditions: those collected while building the sides and those
    // still visible in their normal forms.
    let mut all = BTreeSet::new();
    for c in &opts.conditions {
        all.insert(c.map(|e| e.normalize()));
    }
    conditions_of(lhs, &mut all);
    conditions_of(rhs, &mut all);
    // A power at an exponent that is not a number (`x^(-s)`) as what it needs of its base
    // on these domains (`x ≠ 0` for a whole exponent that may be negative).
    let all: BTreeSet<Condition> = all.into_iter().filter_map(|c| c.on_domains(&dom)).collect();
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
    // A given holds only where its sides are defined, so what they need is given too
    // (`given 1/(I v) > 0`: v ≠ 0, and each factor of a non-zero product): such a
    // condition of the claim's sides is no gap in a proof (session 30: the solution
    // 1/(I v) of a `solve`, which exists only where it is positive).
    let mut by_givens = BTreeSet::new();
    for (a, r, b) in &opts.assumptions {
        if matches!(r, Rel::Eq | Rel::Le | Rel::Ge | Rel::Lt | Rel::Gt) {
            conditions_of(a, &mut by_givens);
            conditions_of(b, &mut by_givens);
        }
    }
    let mut implied: BTreeSet<Condition> = BTreeSet::new();
    for c in by_givens {
        let c = c.map(|e| e.normalize());
        if let Condition::NonZero(Expr::Mul(fs)) = &c {
            for f in fs {
                let base = match f {
                    Expr::Pow(b, _) => (**b).clone(),
                    other => other.clone(),
                };
                implied.insert(Condition::NonZero(base.normalize()));
            }
        }
        implied.insert(c);
    }
    let given_nonzero = |e: &Expr| {
        let base = match e {
            Expr::Pow(b, _) => (**b).clone(),
            other => other.clone(),
        };
        base.as_num().is_some_and(|v| !v.is_zero())
            || implied.contains(&Condition::NonZero(base.normalize()))
    };
    let implied_by_givens = |c: &Condition| {
        implied.contains(c)
            || matches!(c, Condition::NonZero(Expr::Mul(fs)) if fs.iter().all(given_nonzero))
    };
    let conds: Vec<Condition> = all
        .into_iter()
        .filter(|c| c.expr().as_num().is_none() && !implied_by_givens(c))
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
    if *rel == Rel::Eq && super::identical_in_exp_form(lhs, rhs) {
        let why = "both sides have the same normal form once sigmoid, tanh, softplus and exp are written as powers of exponentials";
        if let Some(u) = pb.undefined(&definedness, why) {
            return u;
        }
        return proof(
            ProofRule::ExponentialForm,
            Method::Symbolic,
            format!("{why} (as rational functions of their atoms)"),
        );
    }
    if *rel == Rel::Eq && super::identical_in_radical_form(lhs, rhs, &pb.dom) {
        let why = "both sides have the same normal form once roots of products are split over their non-negative factors (as in sqrt(2 v/pi) = sqrt(2) sqrt(v)/sqrt(pi) for v >= 0)";
        if let Some(u) = pb.undefined(&definedness, why) {
            return u;
        }
        return proof(
            ProofRule::NormalForm,
            Method::Symbolic,
            format!("{why} (as rational functions of their atoms)"),
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
    // Sizes are whole numbers: a claim over several of them is tested at every point of
    // small sizes first (session 27: `Y + X >= 3` with `size Y = floor((X + 2P - D)/2) + 1`
    // fails only at D = 6, X = 1, past the small points' 1 to 4).
    let mut whole_note = String::new();
    {
        let pts = pb.whole_points(WHOLE_POINTS);
        let mut held = 0;
        for p in &pts {
            match pb.at_point(p) {
                PointResult::Holds { .. } => held += 1,
                PointResult::Fails(w) => {
                    let exact = w.checked_by == "exact evaluation";
                    return refuted(&syms, w, exact).with_points(held + 1);
                }
                PointResult::Skip(_) => {}
            }
        }
        if held > 0 {
            let top = pts
                .iter()
                .flat_map(|p| p.values())
                .max()
                .cloned()
                .unwrap_or_else(BigRational::one);
            whole_note = format!(
                ", at {held} points of small whole numbers (every point of the domains and givens in order of total size, values up to {top})"
            );
        }
    }
    // One variable, a polynomial or rational inequality: decided exactly between and
    // around its real roots (docs/soundness.md, `real-root-isolation`).
    // (A relation the range facts already prove keeps that simpler rule.)
    if by_range != Some(true) {
        if let Some(d) = pb.univariate(&definedness) {
            return d;
        }
        // Several variables, a quadratic difference (over a denominator of one sign):
        // a positive semidefinite form is >= 0 everywhere (`quadratic-form`).
        if let Some(d) = pb.quadratic_form(&definedness) {
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
    // The points the claim's own expression singles out ([`critical`]).
    let critical_note = match pb.at_critical_points(&syms) {
        Ok(note) => note,
        Err(refutation) => return refutation,
    };
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
        // A thin region: sections may still fail between a root and a given's bound (s38).
        if !bases.is_empty() && by_range != Some(true) {
            if let Some(d) = pb.refuted_on_sections(&bases, agreed) {
                return d;
            }
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
            Rel::Approx(_, Some(t)) => c.abs() <= *t,
            Rel::Approx(t, None) => BigRational::from_float(*t).is_some_and(|t| c.abs() <= t),
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
            "holds in floating point, within the interval enclosures of both sides (a side is not evaluated exactly: irrational, or too large)".into(),
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
    // The minimum of the difference searched by coordinate descent from the same bases:
    // a claim false only on a small set around it is not left to the random points.
    match pb.descend(&bases) {
        SectionResult::Fails(w) => {
            let mut d = decision(Verdict::Refuted, Method::ExactEval, w.describe());
            d.witness = Some(w);
            return d.with_points(agreed + 1);
        }
        SectionResult::Held(n) if n > 0 => {
            sections_note = format!(
                "{sections_note}, and at {n} points of a search for the least value of left − right (exact coordinate descent from the same points; evidence, not a proof)"
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
    // A step that switches at an irrational point: no test point reaches the switch, where
    // a claim comparing two steps may fail (probe42 r11).
    if let Some(why) = pb.irrational_switch() {
        return decision(Verdict::Undecided, Method::None, why).with_points(agreed + wide);
    }
    decision(
        Verdict::Confirmed,
        Method::RandomPoints,
        format!(
            "holds at {points} random points{}{grid_note}{critical_note}{whole_note}{sections_note}{}",
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
