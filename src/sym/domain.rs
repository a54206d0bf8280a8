//! The domain of a symbol: an interval (each end open or closed, or absent), possibly
//! of whole numbers. Inferred once per file from the declarations
//! (`crate::check::domains`) and narrowed by a claim's givens; every random-point and
//! exact-evaluation test draws its points inside the domains, so a counterexample is
//! always a point the model can have (docs/symbolic.md, "Domains").

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rand::Rng;

/// One end of an interval: the value and whether it is excluded.
pub type Bound = (BigRational, bool);

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Domain {
    pub lo: Option<Bound>,
    pub hi: Option<Bound>,
    pub integer: bool,
    /// Where it comes from (`size`, `bernoulli(p)`, `normal(0, sigma^2)`, `given`).
    pub why: Vec<String>,
    /// Relations with other symbols that no interval says (`uniform(a, b)`: a < b;
    /// `bernoulli(p q)`: 0 <= p q <= 1), kept on each symbol they involve: every
    /// random point must satisfy them (they become assumptions of the claim).
    pub relations: Vec<(super::Expr, super::Rel, super::Expr)>,
}

fn int(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

/// Whether `v` lies between the ends (an absent end is unbounded, an end marked `true`
/// excluded): the one interval test of domains, sections and real-root isolation.
pub fn within(lo: &Option<Bound>, hi: &Option<Bound>, v: &BigRational) -> bool {
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

/// A simple positive fraction n/d, n in 1..=40, d in 1..=12 (numerator drawn first).
fn small_fraction(rng: &mut impl Rng) -> BigRational {
    BigRational::new(
        BigInt::from(rng.random_range(1..=40)),
        BigInt::from(rng.random_range(1..=12)),
    )
}

impl Domain {
    /// A size: a whole number ≥ 1.
    pub fn size(why: &str) -> Domain {
        Domain {
            lo: Some((int(1), false)),
            hi: None,
            integer: true,
            why: vec![why.to_string()],
            relations: Vec::new(),
        }
    }

    /// A probability: [0, 1].
    /// The probability of `bernoulli(p)`: (0, 1]. p = 0 is left out: a mask that is never
    /// 1 keeps nothing, and the rescaling of dropout (`x mask / p`) is undefined there.
    pub fn probability(why: &str) -> Domain {
        Domain {
            lo: Some((int(0), true)),
            hi: Some((int(1), false)),
            integer: false,
            why: vec![why.to_string()],
            relations: Vec::new(),
        }
    }

    /// `x ≥ 0` (strict: `x > 0`).
    pub fn nonnegative(strict: bool, why: &str) -> Domain {
        Domain {
            lo: Some((int(0), strict)),
            hi: None,
            integer: false,
            why: vec![why.to_string()],
            relations: Vec::new(),
        }
    }

    /// `x op c` for a given (`op` one of `<`, `<=`, `>`, `>=`, `=`), or `None`.
    pub fn relation(op: &str, c: BigRational, why: &str) -> Option<Domain> {
        let mut d = Domain {
            why: vec![why.to_string()],
            ..Domain::default()
        };
        match op {
            ">" => d.lo = Some((c, true)),
            ">=" => d.lo = Some((c, false)),
            "<" => d.hi = Some((c, true)),
            "<=" => d.hi = Some((c, false)),
            "=" => {
                d.lo = Some((c.clone(), false));
                d.hi = Some((c, false));
            }
            _ => return None,
        }
        Some(d)
    }

    /// The intersection.
    pub fn meet(&mut self, o: &Domain) {
        self.integer |= o.integer;
        if let Some((v, s)) = &o.lo {
            let tighter = match &self.lo {
                None => true,
                Some((w, t)) => v > w || (v == w && *s && !*t),
            };
            if tighter {
                self.lo = Some((v.clone(), *s));
            }
        }
        if let Some((v, s)) = &o.hi {
            let tighter = match &self.hi {
                None => true,
                Some((w, t)) => v < w || (v == w && *s && !*t),
            };
            if tighter {
                self.hi = Some((v.clone(), *s));
            }
        }
        for w in &o.why {
            if !self.why.contains(w) {
                self.why.push(w.clone());
            }
        }
        for r in &o.relations {
            if !self.relations.contains(r) {
                self.relations.push(r.clone());
            }
        }
    }

    pub fn contains(&self, v: &BigRational) -> bool {
        if self.integer && !v.is_integer() {
            return false;
        }
        within(&self.lo, &self.hi, v)
    }

    /// Whether every value of the domain is positive.
    pub fn positive(&self) -> bool {
        matches!(&self.lo, Some((b, s)) if b.is_positive() || (b.is_zero() && *s))
    }

    /// Whether no value is negative.
    pub fn nonnegative_only(&self) -> bool {
        matches!(&self.lo, Some((b, _)) if !b.is_negative())
    }

    /// The smallest whole number the lower end allows (1 when there is none): where
    /// [`Domain::sample`] and [`Domain::sample_wide`] start counting.
    fn least_whole(&self) -> BigInt {
        match &self.lo {
            Some((b, s)) => {
                let c = b.ceil().to_integer();
                if *s && BigRational::from_integer(c.clone()) == *b {
                    c + 1
                } else {
                    c
                }
            }
            None => BigInt::from(1),
        }
    }

    /// A point inside the domain, small where possible: whole numbers 1..12 above the
    /// lower end for integers, simple fractions strictly inside an interval. `None`
    /// when the domain is empty.
    pub fn sample(&self, rng: &mut impl Rng) -> Option<BigRational> {
        if self.integer {
            let lo = self.least_whole();
            let hi = match &self.hi {
                Some((b, s)) => {
                    let f = b.floor().to_integer();
                    if *s && BigRational::from_integer(f.clone()) == *b {
                        f - 1
                    } else {
                        f
                    }
                }
                None => lo.clone() + 11,
            };
            if hi < lo {
                return None;
            }
            let span: i64 = (hi.clone() - lo.clone()).try_into().unwrap_or(11).min(11);
            let k = rng.random_range(0..=span);
            return Some(BigRational::from_integer(lo + k));
        }
        match (&self.lo, &self.hi) {
            (Some((a, sa)), Some((b, sb))) => {
                if a > b || (a == b && (*sa || *sb)) {
                    return None;
                }
                if a == b {
                    return Some(a.clone());
                }
                // Strictly inside: a + (b − a) k/n.
                let n = rng.random_range(2..=12);
                let k = rng.random_range(1..n);
                Some(a + (b - a) * BigRational::new(BigInt::from(k), BigInt::from(n)))
            }
            (Some((a, _)), None) => Some(a + small_fraction(rng)),
            (None, Some((b, _))) => Some(b - small_fraction(rng)),
            (None, None) => Some(small_fraction(rng)),
        }
    }

    /// A point of the domain far from the small values `sample` draws: a whole number
    /// 12 to 10^4 above the lower bound, or a rational scaled by 2^k, k in -12..=16,
    /// from the bound it has (`N <= 12` or `a <= 40` holds at every small point and
    /// fails here). A domain bounded on both sides is sampled as `sample` does.
    pub fn sample_wide(&self, rng: &mut impl Rng) -> Option<BigRational> {
        if self.lo.is_some() && self.hi.is_some() {
            return self.sample(rng);
        }
        if self.integer {
            let lo = self.least_whole();
            let span = 10f64.powf(rng.random_range(1.0..4.0)) as i64;
            return Some(BigRational::from_integer(lo + 12 + span));
        }
        let k: i32 = rng.random_range(-12..=16);
        let scale = if k >= 0 {
            BigRational::from_integer(BigInt::from(1u32) << k as usize)
        } else {
            BigRational::new(BigInt::from(1), BigInt::from(1u32) << (-k) as usize)
        };
        let frac = small_fraction(rng) * scale;
        match (&self.lo, &self.hi) {
            (Some((a, _)), _) => Some(a + frac),
            (None, Some((b, _))) => Some(b - frac),
            (None, None) => Some(frac),
        }
    }

    /// `p in [0, 1]`, `sigma > 0`, `L in {1, 2, ...}`.
    pub fn show(&self, name: &str) -> String {
        let base = if self.integer {
            match (&self.lo, &self.hi) {
                (Some((a, false)), None) if a.is_integer() => {
                    format!("{name} in {{{a}, {}, ...}}", a + BigRational::one())
                }
                _ => format!("{name} whole, {}", self.interval(name)),
            }
        } else {
            self.interval(name)
        };
        if self.relations.is_empty() {
            return base;
        }
        // `a < b` for a relation with another symbol; alone when no interval is known.
        let rels: Vec<String> = self
            .relations
            .iter()
            .map(|(l, r, rr)| {
                format!(
                    "{} {} {}",
                    super::to_ascii(l),
                    r.symbol(),
                    super::to_ascii(rr)
                )
            })
            .collect();
        if self.lo.is_none() && self.hi.is_none() && !self.integer {
            rels.join(", ")
        } else {
            format!("{base}, {}", rels.join(", "))
        }
    }

    fn interval(&self, name: &str) -> String {
        match (&self.lo, &self.hi) {
            (Some((a, s)), None) => format!("{name} {} {a}", if *s { ">" } else { ">=" }),
            (None, Some((b, s))) => format!("{name} {} {b}", if *s { "<" } else { "<=" }),
            (None, None) => format!("{name} real"),
            _ => {
                let (a, l) = end(&self.lo, "(", "[", "-inf");
                let (b, r) = end(&self.hi, ")", "]", "inf");
                format!("{name} in {l}{a}, {b}{r}")
            }
        }
    }
}

/// One end of an interval as text, with its bracket.
fn end(b: &Option<Bound>, open: &str, closed: &str, inf: &str) -> (String, String) {
    match b {
        Some((v, true)) => (format!("{v}"), open.to_string()),
        Some((v, false)) => (format!("{v}"), closed.to_string()),
        None => (inf.to_string(), open.to_string()),
    }
}
