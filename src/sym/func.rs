//! The built-in function table: every function of one argument that a `.tq` model
//! may apply (and `step`, relu's derivative, which only sym builds), with everything
//! each stage needs to know about it — its names, exact and floating evaluation, its
//! derivative (a template that sym builds as an [`Expr`] and grad as a `.tq`
//! expression), its LaTeX and NumPy spellings, its non-differentiable points and
//! domain, and the facts the moments engine uses (Lipschitz constant, range,
//! symmetry, and whether its moments follow from an exact rule or from Gauss–Hermite
//! quadrature).
//!
//! The checker, sym (folding, differentiation, evaluation, printing, parsing), grad,
//! the interpreter, the dense executor, emit, render and the moments engine all read
//! this table; adding a function means adding one entry here (and its tests).
//!
//! This module depends on nothing in tq except sym's [`Expr`] (the derivative
//! builder), so every stage may depend on it.

use super::Expr;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Functions of one argument (the order of [`TABLE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Func {
    /// The natural logarithm (printed `log` in ASCII, `ln` in text and LaTeX).
    Ln,
    /// The exponential.
    Exp,
    /// The logistic function `1/(1 + exp(-x))`.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// `max(x, 0)`.
    Relu,
    /// The absolute value.
    Abs,
    /// The Heaviside step `[x > 0]` (relu's derivative).
    Step,
    /// The square root. Only a constructor argument: [`Expr::func`] turns it into the
    /// power `x^(1/2)`, so it never occurs in a canonical expression.
    Sqrt,
    /// The Gaussian error linear unit `x Φ(x)`, Φ the standard normal CDF.
    Gelu,
    /// `ln(1 + exp(x))`.
    Softplus,
    /// The error function `2/√π ∫₀ˣ exp(−t²) dt`.
    Erf,
}

/// A derivative template: an expression in the argument `X` and the function's value
/// `Y = f(X)`. sym builds it as an [`Expr`] ([`D::build`]); grad builds the same shape
/// as a `.tq` expression, so the derived program reuses the forward value where the
/// template says `Y`.
#[derive(Debug)]
pub enum D {
    /// The argument.
    X,
    /// The value of the function at the argument.
    Y,
    Int(i64),
    /// π (the symbol `pi` in sym; a decimal in a derived `.tq` program).
    Pi,
    /// An irrational constant: exact (`exact`, built by sym) and as the decimal a derived
    /// `.tq` program writes (`decimal`, the nearest double).
    Const {
        exact: &'static D,
        decimal: &'static str,
    },
    Add(&'static D, &'static D),
    Sub(&'static D, &'static D),
    Mul(&'static D, &'static D),
    Div(&'static D, &'static D),
    Pow(&'static D, &'static D),
    Neg(&'static D),
    Sqrt(&'static D),
    Call(Func, &'static D),
    /// `[a > 0]` (sym: `step(a)`).
    Positive(&'static D),
    /// `[a < 0]` (sym: `step(-a)`).
    Negative(&'static D),
}

impl D {
    /// The template as a canonical sym expression, with `x` for the argument and `y`
    /// for the value.
    pub fn build(&self, x: &Expr, y: &Expr) -> Expr {
        let b = |d: &D| d.build(x, y);
        match self {
            D::X => x.clone(),
            D::Y => y.clone(),
            D::Int(n) => Expr::int(*n),
            D::Pi => Expr::sym("pi"),
            D::Const { exact, .. } => b(exact),
            D::Add(a, c) => Expr::add(vec![b(a), b(c)]),
            D::Sub(a, c) => Expr::add(vec![b(a), Expr::mul(vec![Expr::int(-1), b(c)])]),
            D::Mul(a, c) => Expr::mul(vec![b(a), b(c)]),
            D::Div(a, c) => Expr::mul(vec![b(a), Expr::pow(b(c), Expr::int(-1))]),
            D::Pow(a, c) => Expr::pow(b(a), b(c)),
            D::Neg(a) => Expr::mul(vec![Expr::int(-1), b(a)]),
            D::Sqrt(a) => Expr::sqrt(b(a)),
            D::Call(f, a) => Expr::func(*f, b(a)),
            D::Positive(a) => Expr::func(Func::Step, b(a)),
            D::Negative(a) => Expr::func(Func::Step, Expr::mul(vec![Expr::int(-1), b(a)])),
        }
    }
}

/// Where a function is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Every real number.
    All,
    /// `x > 0` (0 is a pole: ln).
    Positive,
    /// `x ≥ 0` (sqrt).
    NonNegative,
}

/// A rational constant `n/d` in the table.
pub type Rat = (i64, i64);

/// A symmetry of the function about 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symmetry {
    None,
    /// `f(−x) = −f(x)`: mean 0 for a symmetric input, and the output is symmetric.
    Odd,
    /// `f(−x) = f(x)`.
    Even,
    /// `f(−x) = 2c − f(x)`: mean c for a symmetric input (sigmoid, c = 1/2).
    Complement(Rat),
}

/// How the moments engine gets the moments of `f(y)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentRule {
    /// No rule: only the facts (bounds, symmetry) apply.
    None,
    /// Exact: f is positively homogeneous, `f(x) = f(1) x` for `x > 0` and
    /// `f(x) = −f(−1) x` for `x < 0` (`pos = f(1)`, `neg = f(−1)`). For a symmetric
    /// input, `E[f(y)²] = (pos² + neg²)/2 · E[y²]`; for `z ~ N(0, v)` exactly,
    /// `E[f(z)] = (pos + neg) sqrt(v/(2π))`. Proves.
    Homogeneous { pos: i64, neg: i64 },
    /// The mean and second moment of `f(z)` for a Gaussian `z` by 64-point
    /// Gauss–Hermite quadrature: a floating-point value, so at most `confirmed`.
    Quadrature,
}

/// A Lipschitz constant (an upper bound on |f'|), with how it is written in reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lipschitz {
    /// A rational upper bound L on |f'|: `Var(f(y)) ≤ L² Var(y)`.
    pub bound: Rat,
    /// How the constant is written (`1`, `1/4`, `2/√π < 1.129`).
    pub text: &'static str,
}

/// One built-in function.
#[derive(Debug)]
pub struct Builtin {
    pub func: Func,
    /// The canonical ASCII name (what sym prints and parses, and grad writes).
    pub name: &'static str,
    /// Other names a `.tq` file may use (`sigma`, `ln`).
    pub aliases: &'static [&'static str],
    /// Whether a model equation may apply it (`step` is sym's own).
    pub in_models: bool,
    /// The name in sym's text output (`σ`, `ln`).
    pub text: &'static str,
    /// The LaTeX operator (`\tanh`, `\operatorname{gelu}`); sqrt is written `\sqrt{…}`.
    pub latex: &'static str,
    /// The function in an emitted NumPy module: `np.…`, or a function of the module's
    /// runtime (src/emit/runtime.py).
    pub numpy: &'static str,
    /// The floating-point value.
    pub f64: fn(f64) -> f64,
    /// The exact value at a rational point, when it is rational and known (`None`
    /// otherwise, the application then stays symbolic).
    pub exact: fn(&BigRational) -> Option<BigRational>,
    pub domain: Domain,
    /// The derivative f'(X), a template in X and Y = f(X).
    pub derivative: &'static D,
    /// Points where f is continuous but not differentiable; the derivative template
    /// takes a one-sided or averaged value there (documented in docs/language.md).
    pub kinks: &'static [i64],
    pub lipschitz: Option<Lipschitz>,
    /// Lower and upper bounds of the range, when finite.
    pub range: (Option<Rat>, Option<Rat>),
    pub symmetry: Symmetry,
    pub moments: MomentRule,
}

const SQRT2: D = D::Sqrt(&D::Int(2));
/// Φ(X) = (1 + erf(X/√2))/2.
const PHI_CDF: D = D::Div(
    &D::Add(&D::Int(1), &D::Call(Func::Erf, &D::Div(&D::X, &SQRT2))),
    &D::Int(2),
);
/// φ(X) = exp(−X²/2)/√(2π).
const PHI_PDF: D = D::Mul(
    &D::Const {
        exact: &D::Div(&D::Int(1), &D::Sqrt(&D::Mul(&D::Int(2), &D::Pi))),
        decimal: "0.3989422804014327",
    },
    &D::Call(
        Func::Exp,
        &D::Neg(&D::Div(&D::Pow(&D::X, &D::Int(2)), &D::Int(2))),
    ),
);

fn int(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

/// `f(0) = 0`, otherwise irrational (tanh, gelu, erf at rationals other than 0).
fn zero_at_zero(r: &BigRational) -> Option<BigRational> {
    r.is_zero().then(BigRational::zero)
}

/// The table, in the order of [`Func`].
pub static TABLE: [Builtin; 11] = [
    Builtin {
        func: Func::Ln,
        name: "log",
        aliases: &["ln"],
        in_models: true,
        text: "ln",
        latex: "\\ln",
        numpy: "np.log",
        f64: f64::ln,
        exact: |r| r.is_one().then(BigRational::zero),
        domain: Domain::Positive,
        derivative: &D::Div(&D::Int(1), &D::X),
        kinks: &[],
        lipschitz: None,
        range: (None, None),
        symmetry: Symmetry::None,
        moments: MomentRule::None,
    },
    Builtin {
        func: Func::Exp,
        name: "exp",
        aliases: &[],
        in_models: true,
        text: "exp",
        latex: "\\exp",
        numpy: "np.exp",
        f64: f64::exp,
        exact: |r| r.is_zero().then(BigRational::one),
        domain: Domain::All,
        derivative: &D::Y,
        kinks: &[],
        lipschitz: None,
        range: (Some((0, 1)), None),
        symmetry: Symmetry::None,
        moments: MomentRule::None,
    },
    Builtin {
        func: Func::Sigmoid,
        name: "sigmoid",
        aliases: &["sigma"],
        in_models: true,
        text: "σ",
        latex: "\\sigma",
        numpy: "sigmoid",
        f64: sigmoid,
        exact: |r| r.is_zero().then(|| BigRational::new(1.into(), 2.into())),
        domain: Domain::All,
        derivative: &D::Mul(&D::Y, &D::Sub(&D::Int(1), &D::Y)),
        kinks: &[],
        lipschitz: Some(Lipschitz {
            bound: (1, 4),
            text: "1/4",
        }),
        range: (Some((0, 1)), Some((1, 1))),
        symmetry: Symmetry::Complement((1, 2)),
        moments: MomentRule::Quadrature,
    },
    Builtin {
        func: Func::Tanh,
        name: "tanh",
        aliases: &[],
        in_models: true,
        text: "tanh",
        latex: "\\tanh",
        numpy: "np.tanh",
        f64: f64::tanh,
        exact: zero_at_zero,
        domain: Domain::All,
        derivative: &D::Sub(&D::Int(1), &D::Pow(&D::Y, &D::Int(2))),
        kinks: &[],
        lipschitz: Some(Lipschitz {
            bound: (1, 1),
            text: "1",
        }),
        range: (Some((-1, 1)), Some((1, 1))),
        symmetry: Symmetry::Odd,
        moments: MomentRule::Quadrature,
    },
    Builtin {
        func: Func::Relu,
        name: "relu",
        aliases: &[],
        in_models: true,
        text: "relu",
        latex: "\\operatorname{relu}",
        numpy: "relu",
        f64: |x| x.max(0.0),
        exact: |r| Some(if r.is_positive() { r.clone() } else { int(0) }),
        domain: Domain::All,
        derivative: &D::Positive(&D::X),
        kinks: &[0],
        lipschitz: Some(Lipschitz {
            bound: (1, 1),
            text: "1",
        }),
        range: (Some((0, 1)), None),
        symmetry: Symmetry::None,
        moments: MomentRule::Homogeneous { pos: 1, neg: 0 },
    },
    Builtin {
        func: Func::Abs,
        name: "abs",
        aliases: &[],
        in_models: true,
        text: "abs",
        latex: "\\operatorname{abs}",
        numpy: "np.abs",
        f64: f64::abs,
        exact: |r| Some(r.abs()),
        domain: Domain::All,
        derivative: &D::Sub(&D::Positive(&D::X), &D::Negative(&D::X)),
        kinks: &[0],
        lipschitz: Some(Lipschitz {
            bound: (1, 1),
            text: "1",
        }),
        range: (Some((0, 1)), None),
        symmetry: Symmetry::Even,
        moments: MomentRule::Homogeneous { pos: 1, neg: 1 },
    },
    Builtin {
        func: Func::Step,
        name: "step",
        aliases: &[],
        in_models: false,
        text: "step",
        latex: "\\operatorname{step}",
        numpy: "step",
        f64: |x| if x > 0.0 { 1.0 } else { 0.0 },
        exact: |r| Some(int(if r.is_positive() { 1 } else { 0 })),
        domain: Domain::All,
        derivative: &D::Int(0),
        kinks: &[],
        lipschitz: None,
        range: (Some((0, 1)), Some((1, 1))),
        symmetry: Symmetry::None,
        moments: MomentRule::None,
    },
    Builtin {
        func: Func::Sqrt,
        name: "sqrt",
        aliases: &[],
        in_models: true,
        text: "sqrt",
        latex: "\\operatorname{sqrt}",
        numpy: "np.sqrt",
        f64: f64::sqrt,
        // Exact square roots are folded as powers (`x^(1/2)`), never here.
        exact: |_| None,
        domain: Domain::NonNegative,
        derivative: &D::Div(&D::Int(1), &D::Mul(&D::Int(2), &D::Y)),
        kinks: &[],
        lipschitz: None,
        range: (Some((0, 1)), None),
        symmetry: Symmetry::None,
        moments: MomentRule::None,
    },
    Builtin {
        func: Func::Gelu,
        name: "gelu",
        aliases: &[],
        in_models: true,
        text: "gelu",
        latex: "\\operatorname{gelu}",
        numpy: "gelu",
        f64: gelu,
        exact: zero_at_zero,
        domain: Domain::All,
        // Φ(x) + x φ(x)
        derivative: &D::Add(&PHI_CDF, &D::Mul(&D::X, &PHI_PDF)),
        kinks: &[],
        // max |gelu'| = gelu'(√2) = Φ(√2) + √2 φ(√2) = 1.12890…
        lipschitz: Some(Lipschitz {
            bound: (1129, 1000),
            text: "1.129",
        }),
        // min gelu = −0.16997… (at x = −0.75179…)
        range: (Some((-17, 100)), None),
        symmetry: Symmetry::None,
        moments: MomentRule::Quadrature,
    },
    Builtin {
        func: Func::Softplus,
        name: "softplus",
        aliases: &[],
        in_models: true,
        text: "softplus",
        latex: "\\operatorname{softplus}",
        numpy: "softplus",
        f64: softplus,
        // softplus(r) = ln(1 + e^r) is irrational at every rational r.
        exact: |_| None,
        domain: Domain::All,
        derivative: &D::Call(Func::Sigmoid, &D::X),
        kinks: &[],
        lipschitz: Some(Lipschitz {
            bound: (1, 1),
            text: "1",
        }),
        range: (Some((0, 1)), None),
        symmetry: Symmetry::None,
        moments: MomentRule::Quadrature,
    },
    Builtin {
        func: Func::Erf,
        name: "erf",
        aliases: &[],
        in_models: true,
        text: "erf",
        latex: "\\operatorname{erf}",
        numpy: "erf",
        f64: erf,
        exact: zero_at_zero,
        domain: Domain::All,
        // 2/√π exp(−x²)
        derivative: &D::Mul(
            &D::Const {
                exact: &D::Div(&D::Int(2), &D::Sqrt(&D::Pi)),
                decimal: "1.1283791670955126",
            },
            &D::Call(Func::Exp, &D::Neg(&D::Pow(&D::X, &D::Int(2)))),
        ),
        kinks: &[],
        // 2/√π = 1.12838…
        lipschitz: Some(Lipschitz {
            bound: (1129, 1000),
            text: "2/√π < 1.129",
        }),
        range: (Some((-1, 1)), Some((1, 1))),
        symmetry: Symmetry::Odd,
        moments: MomentRule::Quadrature,
    },
];

impl Func {
    /// Every function, in table order.
    pub fn all() -> impl Iterator<Item = Func> {
        TABLE.iter().map(|b| b.func)
    }

    /// The function's table entry.
    pub fn entry(self) -> &'static Builtin {
        &TABLE[self as usize]
    }

    /// The name in the ASCII syntax (`log` for the natural logarithm).
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The function called `n` (`ln` and `log` both name the natural logarithm,
    /// `sigma` the sigmoid).
    pub fn from_name(n: &str) -> Option<Func> {
        lookup(n).map(|b| b.func)
    }

    /// The floating-point value at `x`.
    pub fn eval_f64(self, x: f64) -> f64 {
        (self.entry().f64)(x)
    }
}

/// The entry for a name or alias.
pub fn lookup(n: &str) -> Option<&'static Builtin> {
    TABLE.iter().find(|b| b.name == n || b.aliases.contains(&n))
}

/// The entry for a name a model equation may apply.
pub fn model_function(n: &str) -> Option<&'static Builtin> {
    lookup(n).filter(|b| b.in_models)
}

/// Every name a model equation may apply, aliases included, in table order.
pub fn model_names() -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|b| b.in_models)
        .flat_map(|b| std::iter::once(b.name).chain(b.aliases.iter().copied()))
        .collect()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `ln(1 + e^x)` without overflow: `max(x, 0) + ln(1 + e^(−|x|))`.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `x Φ(x)`, with Φ(x) = erfc(−x/√2)/2 (accurate in the left tail too).
fn gelu(x: f64) -> f64 {
    x * 0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The error function to about 1e-15 (absolute).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() <= 2.5 {
        erf_series(x)
    } else {
        x.signum() * (1.0 - erfc_cf(x.abs()))
    }
}

/// The complementary error function `1 − erf(x)`, accurate in both tails.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() <= 2.5 {
        1.0 - erf_series(x)
    } else if x > 0.0 {
        erfc_cf(x)
    } else {
        2.0 - erfc_cf(-x)
    }
}

/// erf(x) = 2/√π e^(−x²) Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): every term positive (for x ≥ 0),
/// so no cancellation.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs() && n < 200.0 {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / std::f64::consts::PI.sqrt() * (-x2).exp() * sum
}

/// erfc(x) for x > 2.5 by its continued fraction
/// `e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`, evaluated from the tail.
fn erfc_cf(x: f64) -> f64 {
    if x > 27.0 {
        return 0.0;
    }
    let mut t = x;
    for n in (1..=80).rev() {
        t = x + (n as f64 / 2.0) / t;
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * t)
}

/// Python's keywords (Python 3.12's `keyword.kwlist`): names a generated Python text
/// cannot use as a variable. One list for the two outputs that write Python or what
/// Python parses: `tq emit` (its NumPy module's names, `emit::readable`) and `tq export`
/// (PrairieLearn's symbolic input, whose formulas SymPy's parser hands to Python).
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn table_order_matches_the_enum() {
        for (i, b) in TABLE.iter().enumerate() {
            assert_eq!(b.func as usize, i, "{}", b.name);
            assert_eq!(b.func.entry().name, b.name);
        }
    }

    #[test]
    fn every_name_round_trips() {
        for b in &TABLE {
            assert_eq!(Func::from_name(b.name), Some(b.func));
            assert_eq!(b.func.name(), b.name);
            for a in b.aliases {
                assert_eq!(Func::from_name(a), Some(b.func), "alias {a}");
            }
        }
        assert_eq!(Func::from_name("gelu2"), None);
        // No name or alias is claimed twice.
        let mut all: Vec<&str> = TABLE
            .iter()
            .flat_map(|b| std::iter::once(b.name).chain(b.aliases.iter().copied()))
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn erf_matches_known_values() {
        // Values from the series to 16 digits (Abramowitz & Stegun table 7.1, and
        // erfc(4) from its asymptotic series).
        let cases = [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-1.0, -0.842_700_792_949_714_9),
        ];
        for (x, want) in cases {
            assert!((erf(x) - want).abs() < 1e-15, "erf({x}) = {}", erf(x));
        }
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-19);
        assert!((erfc(4.0) - 1.541_725_790_028_002e-8).abs() < 1e-21);
        // Continuity where the two methods meet.
        assert!((erf(2.5 + 1e-12) - erf(2.5 - 1e-12)).abs() < 1e-14);
    }

    /// Every derivative template against central finite differences of the f64
    /// evaluation, at points away from kinks and inside the domain.
    #[test]
    fn derivatives_match_finite_differences() {
        let points = [-2.3, -1.1, -0.4, 0.3, 0.7, 1.6, 2.9];
        for b in &TABLE {
            for &x0 in &points {
                if b.domain != Domain::All && x0 <= 0.0 {
                    continue;
                }
                let h = 1e-6;
                let fd = ((b.f64)(x0 + h) - (b.f64)(x0 - h)) / (2.0 * h);
                let d = b
                    .derivative
                    .build(&Expr::sym("x"), &Expr::func(b.func, Expr::sym("x")));
                let at: BTreeMap<String, f64> = [
                    ("x".to_string(), x0),
                    ("pi".to_string(), std::f64::consts::PI),
                ]
                .into();
                let v = d.eval_f64(&at).unwrap();
                assert!(
                    (v - fd).abs() < 1e-6 * fd.abs().max(1.0),
                    "{}'({x0}) = {v}, finite difference {fd}",
                    b.name
                );
            }
        }
    }

    /// Where an entry has an exact value, the f64 evaluation agrees with it.
    #[test]
    fn exact_values_agree_with_f64() {
        let points = [-3, -1, 0, 1, 2].map(int).into_iter().chain([
            BigRational::new(1.into(), 2.into()),
            BigRational::new((-7).into(), 3.into()),
        ]);
        let mut exact_seen = 0;
        for p in points {
            let xf = num_traits::ToPrimitive::to_f64(&p).unwrap();
            for b in &TABLE {
                if let Some(v) = (b.exact)(&p) {
                    exact_seen += 1;
                    let vf = num_traits::ToPrimitive::to_f64(&v).unwrap();
                    assert!(
                        ((b.f64)(xf) - vf).abs() < 1e-12,
                        "{}({p}) exact {v}, f64 {}",
                        b.name,
                        (b.f64)(xf)
                    );
                }
            }
        }
        assert!(exact_seen >= 20, "{exact_seen}");
        // The new functions fold where they are rational, and only there.
        assert_eq!((Func::Gelu.entry().exact)(&int(0)), Some(int(0)));
        assert_eq!((Func::Erf.entry().exact)(&int(0)), Some(int(0)));
        assert_eq!((Func::Erf.entry().exact)(&int(1)), None);
        assert_eq!((Func::Softplus.entry().exact)(&int(0)), None);
        assert_eq!((Func::Abs.entry().exact)(&int(-3)), Some(int(3)));
        assert_eq!((Func::Ln.entry().exact)(&int(1)), Some(int(0)));
    }

    /// The moment facts are true of the function: the range holds at sampled points,
    /// the Lipschitz bound bounds the derivative, the symmetry holds.
    #[test]
    fn moment_facts_hold() {
        let r = |(n, d): Rat| n as f64 / d as f64;
        for b in &TABLE {
            for k in -400..=400 {
                let x = k as f64 / 40.0;
                if b.domain != Domain::All && x <= 0.0 {
                    continue;
                }
                let y = (b.f64)(x);
                if let Some(lo) = b.range.0 {
                    assert!(y >= r(lo), "{}({x}) = {y}", b.name);
                }
                if let Some(hi) = b.range.1 {
                    assert!(y <= r(hi), "{}({x}) = {y}", b.name);
                }
                if let Some(l) = b.lipschitz {
                    let d = b
                        .derivative
                        .build(&Expr::sym("x"), &Expr::func(b.func, Expr::sym("x")));
                    let at: BTreeMap<String, f64> = [
                        ("x".to_string(), x),
                        ("pi".to_string(), std::f64::consts::PI),
                    ]
                    .into();
                    assert!(
                        d.eval_f64(&at).unwrap().abs() <= r(l.bound),
                        "{} at {x}",
                        b.name
                    );
                }
                let ym = (b.f64)(-x);
                match b.symmetry {
                    Symmetry::None => {}
                    Symmetry::Odd => assert!((ym + y).abs() < 1e-12, "{}", b.name),
                    Symmetry::Even => assert!((ym - y).abs() < 1e-12, "{}", b.name),
                    Symmetry::Complement(c) => {
                        assert!((ym + y - 2.0 * r(c)).abs() < 1e-12, "{}", b.name)
                    }
                }
                if let MomentRule::Homogeneous { pos, neg } = b.moments {
                    let want = if x >= 0.0 {
                        pos as f64 * x
                    } else {
                        -neg as f64 * x
                    };
                    assert_eq!(y, want, "{}({x})", b.name);
                }
            }
        }
    }

    /// The decimal of every irrational constant in a derivative is its exact value.
    #[test]
    fn constant_decimals_match_their_exact_values() {
        fn walk(d: &D, n: &mut usize) {
            match d {
                D::Const { exact, decimal } => {
                    *n += 1;
                    let at: BTreeMap<String, f64> =
                        [("pi".to_string(), std::f64::consts::PI)].into();
                    let v = exact
                        .build(&Expr::zero(), &Expr::zero())
                        .eval_f64(&at)
                        .unwrap();
                    assert_eq!(decimal.parse::<f64>().unwrap(), v, "{decimal}");
                }
                D::Add(a, b) | D::Sub(a, b) | D::Mul(a, b) | D::Div(a, b) | D::Pow(a, b) => {
                    walk(a, n);
                    walk(b, n);
                }
                D::Neg(a) | D::Sqrt(a) | D::Call(_, a) | D::Positive(a) | D::Negative(a) => {
                    walk(a, n)
                }
                D::X | D::Y | D::Int(_) | D::Pi => {}
            }
        }
        let mut n = 0;
        for b in &TABLE {
            walk(b.derivative, &mut n);
        }
        assert_eq!(n, 2);
    }
}
