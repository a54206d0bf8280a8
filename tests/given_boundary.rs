//! A generator of thin slices a given allows past a claim's boundary (session 38,
//! probe37 p05: `(1 - e x^2)^2 <= 1 given e x^2 <= 2.01, e >= 0` was confirmed, false
//! only for e x^2 in (2, 2.01]).
//!
//! Each file holds claims in one to three variables (`scalar`: every real, `symbol`: a
//! positive real) of four shapes, each with a random monomial `m` (a positive rational
//! times powers of the variables), a random bound `c` and a random width `d` (1/50 to
//! 1/1000):
//!
//! - `m (c - m) >= 0 given m <= c + d` (m > 0: false for m in (c, c + d]);
//! - `(1 - m)^2 <= 1 given m <= 2 + d, m >= 0` (false for m in (2, 2 + d]);
//! - `m/(m + z) <= n/(n + 1) given m <= (n + d) z` (false for m in (n z, (n + d) z]);
//! - `x <= c given x^2 <= c^2 + d` in one real variable (false for x in (c, sqrt(c^2 + d)]);
//!
//! and the same claims with `- d` in place of `+ d`, which are true. The checks, with an
//! exact evaluator of its own (nothing of tq's `sym`):
//!
//! - a false claim is `refuted`, at a witness inside the domains that satisfies every
//!   given exactly and fails the relation exactly here;
//! - a true claim is never `refuted`.
//!
//! `cargo test --release --test given_boundary` runs 24 files (fixed seeds); the long
//! run: `TQ_GIVEN_BOUNDARY_CASES=2000 cargo test --release --test given_boundary --
//! --ignored --nocapture` (docs/soundness.md, the sections).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// An expression the test writes and evaluates itself.
#[derive(Clone, Debug)]
enum E {
    Num(BigRational),
    Var(&'static str),
    Add(Box<E>, Box<E>),
    Sub(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
    Div(Box<E>, Box<E>),
    Pow(Box<E>, u32),
}

impl E {
    fn text(&self) -> String {
        match self {
            E::Num(r) if r.is_integer() => r.to_string(),
            E::Num(r) => format!("({}/{})", r.numer(), r.denom()),
            E::Var(v) => v.to_string(),
            E::Add(a, b) => format!("({} + {})", a.text(), b.text()),
            E::Sub(a, b) => format!("({} - {})", a.text(), b.text()),
            E::Mul(a, b) => format!("({} {})", a.text(), b.text()),
            E::Div(a, b) => format!("({}/{})", a.text(), b.text()),
            E::Pow(a, k) => format!("{}^{k}", a.text()),
        }
    }

    /// The exact value at a point; `None` for a division by zero or a missing variable.
    fn eval(&self, at: &BTreeMap<String, BigRational>) -> Option<BigRational> {
        Some(match self {
            E::Num(r) => r.clone(),
            E::Var(v) => at.get(*v)?.clone(),
            E::Add(a, b) => a.eval(at)? + b.eval(at)?,
            E::Sub(a, b) => a.eval(at)? - b.eval(at)?,
            E::Mul(a, b) => a.eval(at)? * b.eval(at)?,
            E::Div(a, b) => {
                let d = b.eval(at)?;
                if d.is_zero() {
                    return None;
                }
                a.eval(at)? / d
            }
            E::Pow(a, k) => {
                let v = a.eval(at)?;
                (0..*k).fold(BigRational::one(), |acc, _| acc * &v)
            }
        })
    }
}

fn num(r: BigRational) -> E {
    E::Num(r)
}
fn add(a: E, b: E) -> E {
    E::Add(Box::new(a), Box::new(b))
}
fn sub(a: E, b: E) -> E {
    E::Sub(Box::new(a), Box::new(b))
}
fn mul(a: E, b: E) -> E {
    E::Mul(Box::new(a), Box::new(b))
}
fn div(a: E, b: E) -> E {
    E::Div(Box::new(a), Box::new(b))
}

#[derive(Clone, Copy, Debug)]
enum Rel {
    Le,
    Ge,
}

fn holds(l: &BigRational, r: Rel, rhs: &BigRational) -> bool {
    match r {
        Rel::Le => l <= rhs,
        Rel::Ge => l >= rhs,
    }
}

struct Claim {
    lhs: E,
    rel: Rel,
    rhs: E,
    givens: Vec<(E, Rel, E)>,
    truth: bool,
    shape: &'static str,
}

impl Claim {
    fn text(&self) -> String {
        let op = |r: Rel| match r {
            Rel::Le => "<=",
            Rel::Ge => ">=",
        };
        let givens: Vec<String> = self
            .givens
            .iter()
            .map(|(a, r, b)| format!("{} {} {}", a.text(), op(*r), b.text()))
            .collect();
        format!(
            "{} {} {} given {}",
            self.lhs.text(),
            op(self.rel),
            self.rhs.text(),
            givens.join(", ")
        )
    }
}

/// The symbols (positive reals) and the scalars (every real) of every file.
const SYMBOLS: [&str; 3] = ["p", "q", "z"];
const SCALARS: [&str; 2] = ["x", "y"];

/// A monomial: a positive rational times one to three powers of the variables, at least
/// one of them a symbol (so that m > 0 when every scalar is squared).
fn monomial(rng: &mut ChaCha8Rng) -> E {
    let k = rat(rng.random_range(1..=5), rng.random_range(1..=4));
    let mut m = num(k);
    let n = rng.random_range(1..=3usize);
    m = mul(m, E::Var(SYMBOLS[rng.random_range(0..2usize)]));
    for _ in 1..n {
        m = if rng.random_bool(0.5) {
            mul(
                m,
                E::Pow(Box::new(E::Var(SCALARS[rng.random_range(0..2usize)])), 2),
            )
        } else {
            mul(m, E::Var(SYMBOLS[rng.random_range(0..2usize)]))
        };
    }
    m
}

fn width(rng: &mut ChaCha8Rng) -> BigRational {
    rat(1, [50, 100, 200, 1000][rng.random_range(0..4usize)])
}

fn claims(rng: &mut ChaCha8Rng) -> Vec<Claim> {
    let mut out = Vec::new();
    for truth in [false, true] {
        let sign = |d: BigRational| if truth { -d } else { d };
        // m (c - m) >= 0 given m <= c ± d.
        let m = monomial(rng);
        let c = rat(rng.random_range(1..=12), rng.random_range(1..=3));
        out.push(Claim {
            lhs: mul(m.clone(), sub(num(c.clone()), m.clone())),
            rel: Rel::Ge,
            rhs: num(BigRational::zero()),
            givens: vec![(m, Rel::Le, num(c + sign(width(rng))))],
            truth,
            shape: "m (c - m) >= 0",
        });
        // (1 - m)^2 <= 1 given m <= 2 ± d, m >= 0.
        let m = monomial(rng);
        out.push(Claim {
            lhs: E::Pow(Box::new(sub(num(BigRational::one()), m.clone())), 2),
            rel: Rel::Le,
            rhs: num(BigRational::one()),
            givens: vec![
                (m.clone(), Rel::Le, num(rat(2, 1) + sign(width(rng)))),
                (m, Rel::Ge, num(BigRational::zero())),
            ],
            truth,
            shape: "(1 - m)^2 <= 1",
        });
        // m/(m + z) <= n/(n + 1) given m <= (n ± d) z.
        let m = monomial(rng);
        let n = rng.random_range(1..=4i64);
        out.push(Claim {
            lhs: div(m.clone(), add(m.clone(), E::Var("z"))),
            rel: Rel::Le,
            rhs: num(rat(n, n + 1)),
            givens: vec![(
                m,
                Rel::Le,
                mul(
                    num(BigRational::from_integer(n.into()) + sign(width(rng))),
                    E::Var("z"),
                ),
            )],
            truth,
            shape: "m/(m + z) <= n/(n + 1)",
        });
        // x <= c given x^2 <= c^2 ± d.
        let c = rat(rng.random_range(1..=9), rng.random_range(1..=3));
        out.push(Claim {
            lhs: E::Var("x"),
            rel: Rel::Le,
            rhs: num(c.clone()),
            givens: vec![(
                E::Pow(Box::new(E::Var("x")), 2),
                Rel::Le,
                num(c.clone() * c + sign(width(rng))),
            )],
            truth,
            shape: "x <= c given x^2 <= c^2 + d",
        });
    }
    out
}

#[derive(Default)]
struct Tally {
    files: usize,
    claims: usize,
    refuted_false: usize,
    missed_false: Vec<String>,
    disagreements: Vec<String>,
}

fn run_file(seed: u64, tally: &mut Tally) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cs = claims(&mut rng);
    let mut src = format!(
        "symbol {}\nscalar {}\n",
        SYMBOLS.join(", "),
        SCALARS.join(", ")
    );
    for c in &cs {
        src.push_str(&format!("claim {}\n", c.text()));
    }
    let opts = Options {
        seed,
        no_monte_carlo: true,
        no_gradcheck: true,
        ..Options::default()
    };
    let report = check_source("given_boundary.tq", &src, &opts);
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "seed {seed}: {errors:?}\n{src}");
    assert_eq!(report.claims.len(), cs.len(), "seed {seed}\n{src}");
    tally.files += 1;
    for (c, r) in cs.iter().zip(&report.claims) {
        tally.claims += 1;
        let what = format!("seed {seed}, {}: `{}`", c.shape, c.text());
        match (c.truth, r.verdict) {
            (true, Verdict::Refuted) => tally
                .disagreements
                .push(format!("{what}: true, refuted: {}", r.evidence)),
            (false, Verdict::Proved) => tally
                .disagreements
                .push(format!("{what}: false, proved: {}", r.evidence)),
            (false, Verdict::Refuted) => {
                tally.refuted_false += 1;
                let Some(w) = &r.witness else {
                    tally
                        .disagreements
                        .push(format!("{what}: refuted without a witness"));
                    continue;
                };
                let pt = &w.point;
                let inside = SYMBOLS
                    .iter()
                    .all(|s| pt.get(*s).is_none_or(|v| v.is_positive()));
                let givens = c.givens.iter().all(|(a, rel, b)| {
                    matches!((a.eval(pt), b.eval(pt)), (Some(a), Some(b)) if holds(&a, *rel, &b))
                });
                let fails = matches!(
                    (c.lhs.eval(pt), c.rhs.eval(pt)),
                    (Some(l), Some(rv)) if !holds(&l, c.rel, &rv)
                );
                if !(inside && givens && fails) {
                    tally.disagreements.push(format!(
                        "{what}: the witness {pt:?} (inside the domains: {inside}, givens hold exactly: {givens}, the claim fails exactly: {fails})"
                    ));
                }
            }
            (false, v) => tally
                .missed_false
                .push(format!("{what}: {v:?}: {}", r.evidence)),
            _ => {}
        }
    }
}

fn run(first: u64, count: u64) -> Tally {
    let mut t = Tally::default();
    for seed in first..first + count {
        run_file(seed, &mut t);
    }
    eprintln!(
        "given_boundary: {} files, {} claims, {} false claims refuted, {} false claims not refuted, {} disagreements",
        t.files,
        t.claims,
        t.refuted_false,
        t.missed_false.len(),
        t.disagreements.len()
    );
    t
}

#[test]
fn thin_slices_past_a_claims_boundary_are_refuted_at_exact_witnesses() {
    let t = run(1, 24);
    assert!(
        t.disagreements.is_empty(),
        "disagreements:\n{}",
        t.disagreements.join("\n")
    );
    assert!(
        t.missed_false.is_empty(),
        "false claims not refuted:\n{}",
        t.missed_false.join("\n")
    );
}

#[test]
#[ignore]
fn long_run() {
    let count = std::env::var("TQ_GIVEN_BOUNDARY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let first = std::env::var("TQ_GIVEN_BOUNDARY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let t = run(first, count);
    for m in &t.missed_false {
        eprintln!("not refuted: {m}");
    }
    assert!(
        t.disagreements.is_empty(),
        "disagreements:\n{}",
        t.disagreements.join("\n")
    );
}
