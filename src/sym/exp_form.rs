//! The exponential form: `sigmoid`, `tanh`, `softplus` and `exp` written in integer
//! powers of exponentials of monomials, so identities between them become identities of
//! rational functions ([`identical_in_exp_form`], the rule `exponential-form` of
//! docs/soundness.md).
//!
//! Every step is an identity on all the reals, and every denominator it introduces is
//! positive everywhere, so where the original sides are defined the rewritten sides
//! are defined and equal to them:
//! - `sigmoid(x) = 1/(1 + exp(−x))`, `tanh(x) = (1 − exp(−2x))/(1 + exp(−2x))`,
//!   `softplus(x) = ln(1 + exp(x))`;
//! - `exp(Σ cᵢ mᵢ) = Π exp(mᵢ/Dᵢ)^(cᵢ Dᵢ)` for the expanded argument (rational
//!   coefficients cᵢ, monomials mᵢ), with Dᵢ the least common multiple of the
//!   denominators of every coefficient of mᵢ met on either side, so `exp(a)` and
//!   `exp(a/2)` become `t²` and `t` in the same atom `t = exp(a/2)`.

use super::*;
use num_integer::Integer;

/// An exponential's argument is rewritten only up to this many terms, and only into
/// integer powers up to this size (beyond, the exponential stays one atom: incomplete,
/// never unsound).
const MAX_ARG_TERMS: usize = 32;
const MAX_POWER: i64 = 64;

/// Whether `a` and `b` are identical once both are written in the exponential form.
/// Only called when the plain normal forms differ; false when neither side has an
/// exponential-family function.
pub fn identical_in_exp_form(a: &Expr, b: &Expr) -> bool {
    if !has_exp_family(a) && !has_exp_family(b) {
        return false;
    }
    // `tanh(x)` is written with `x` twice, so nested ones double at every level
    // (`tanh(a tanh(a ...))`, 15 levels: 500 MB and seconds before any budget was
    // consulted, session 31): past this size the sides are not rewritten (incomplete,
    // never unsound).
    if unfolded_nodes(a).saturating_add(unfolded_nodes(b)) > MAX_UNFOLDED_NODES {
        return false;
    }
    let (a, b) = (unfold(a), unfold(b));
    let mut args = Arguments::default();
    args.collect(&a);
    args.collect(&b);
    let (a, b) = (args.atoms(&a), args.atoms(&b));
    super::algebra::identical(&a, &b)
}

/// Every exponential's argument met on either side, expanded once: its monomials
/// (`None` when too long to rewrite), and per monomial the least common multiple of the
/// denominators of its coefficients.
#[derive(Default)]
struct Arguments {
    expanded: BTreeMap<Expr, Option<Vec<(Expr, BigRational)>>>,
    dens: BTreeMap<Expr, BigInt>,
}

fn has_exp_family(e: &Expr) -> bool {
    match e {
        Expr::Num(_) | Expr::Sym(_) => false,
        Expr::Func(Func::Exp | Func::Sigmoid | Func::Tanh | Func::Softplus, _) => true,
        Expr::Func(_, x) => has_exp_family(x),
        Expr::Pow(b, x) => has_exp_family(b) || has_exp_family(x),
        Expr::Mul(v) | Expr::Add(v) => v.iter().any(has_exp_family),
    }
}

fn rebuild(e: &Expr, f: &impl Fn(&Expr) -> Expr) -> Expr {
    match e {
        Expr::Num(_) | Expr::Sym(_) => e.clone(),
        Expr::Pow(b, x) => Expr::pow(f(b), f(x)),
        Expr::Func(g, x) => Expr::func(*g, f(x)),
        Expr::Mul(v) => Expr::mul(v.iter().map(f).collect()),
        Expr::Add(v) => Expr::add(v.iter().map(f).collect()),
    }
}

/// The most nodes the two sides may have once unfolded ([`unfolded_nodes`]).
const MAX_UNFOLDED_NODES: usize = 20_000;

/// The number of nodes of [`unfold`]'s result, computed without building it (at most
/// a few more: the constructors fold constants), saturating.
fn unfolded_nodes(e: &Expr) -> usize {
    match e {
        Expr::Num(_) | Expr::Sym(_) => 1,
        // (1 - t)(1 + t)^-1 with t = exp(-2x): x twice, and 15 nodes around them.
        Expr::Func(Func::Tanh, x) => unfolded_nodes(x).saturating_mul(2).saturating_add(16),
        Expr::Func(Func::Sigmoid | Func::Softplus, x) => unfolded_nodes(x).saturating_add(7),
        Expr::Func(_, x) => unfolded_nodes(x).saturating_add(1),
        Expr::Pow(b, x) => unfolded_nodes(b)
            .saturating_add(unfolded_nodes(x))
            .saturating_add(1),
        Expr::Mul(v) | Expr::Add(v) => v
            .iter()
            .fold(1usize, |n, t| n.saturating_add(unfolded_nodes(t))),
    }
}

/// `sigmoid`, `tanh`, `softplus` in terms of `exp`, bottom-up.
fn unfold(e: &Expr) -> Expr {
    let neg = |x: &Expr, k: i64| Expr::mul(vec![Expr::int(-k), x.clone()]);
    match e {
        Expr::Func(f @ (Func::Sigmoid | Func::Tanh | Func::Softplus), x) => {
            let x = unfold(x);
            match f {
                Func::Sigmoid => Expr::pow(
                    Expr::add(vec![Expr::int(1), Expr::exp(neg(&x, 1))]),
                    Expr::int(-1),
                ),
                Func::Tanh => {
                    let t = Expr::exp(neg(&x, 2));
                    Expr::mul(vec![
                        Expr::add(vec![
                            Expr::int(1),
                            Expr::mul(vec![Expr::int(-1), t.clone()]),
                        ]),
                        Expr::pow(Expr::add(vec![Expr::int(1), t]), Expr::int(-1)),
                    ])
                }
                _ => Expr::ln(Expr::add(vec![Expr::int(1), Expr::exp(x)])),
            }
        }
        _ => rebuild(e, &unfold),
    }
}

/// The expanded argument of an exponential as (monomial, coefficient) pairs, or `None`
/// when it is too long to rewrite.
fn monomials(x: &Expr) -> Option<Vec<(Expr, BigRational)>> {
    let ex = super::algebra::expand(x);
    let terms = match &ex {
        Expr::Add(ts) => ts.clone(),
        other => vec![other.clone()],
    };
    if terms.len() > MAX_ARG_TERMS {
        return None;
    }
    Some(
        terms
            .into_iter()
            .map(|t| match t {
                Expr::Num(c) => (Expr::int(1), c),
                Expr::Mul(fs) => match fs.split_first() {
                    Some((Expr::Num(c), rest)) => (Expr::mul(rest.to_vec()), c.clone()),
                    _ => (Expr::Mul(fs), BigRational::one()),
                },
                other => (other, BigRational::one()),
            })
            .collect(),
    )
}

impl Arguments {
    /// The arguments of the exponentials in `e` (inner ones first), each expanded once,
    /// and the least common multiple of the coefficients' denominators, per monomial.
    fn collect(&mut self, e: &Expr) {
        match e {
            Expr::Num(_) | Expr::Sym(_) => {}
            Expr::Func(Func::Exp, x) => {
                self.collect(x);
                if self.expanded.contains_key(&**x) {
                    return;
                }
                let ms = monomials(x);
                for (m, c) in ms.iter().flatten() {
                    let d = self.dens.entry(m.clone()).or_insert_with(BigInt::one);
                    *d = d.lcm(c.denom());
                }
                self.expanded.insert((**x).clone(), ms);
            }
            Expr::Func(_, x) => self.collect(x),
            Expr::Pow(b, x) => {
                self.collect(b);
                self.collect(x);
            }
            Expr::Mul(v) | Expr::Add(v) => v.iter().for_each(|t| self.collect(t)),
        }
    }

    /// Every exponential as a product of integer powers of the atoms `exp(m/D)`.
    fn atoms(&self, e: &Expr) -> Expr {
        match e {
            Expr::Func(Func::Exp, x) => {
                let Some(Some(ms)) = self.expanded.get(&**x) else {
                    return e.clone();
                };
                let mut factors = Vec::new();
                for (m, c) in ms {
                    let d = self.dens.get(m).cloned().unwrap_or_else(BigInt::one);
                    let k = c * BigRational::from_integer(d.clone());
                    let power = k.to_integer().to_i64().filter(|p| p.abs() <= MAX_POWER);
                    match (k.is_integer(), power) {
                        (true, Some(p)) => {
                            let base = Expr::mul(vec![
                                Expr::num(BigRational::new(1.into(), d)),
                                m.clone(),
                            ]);
                            factors.push(Expr::pow(Expr::exp(base), Expr::int(p)));
                        }
                        _ => return e.clone(),
                    }
                }
                Expr::mul(factors)
            }
            _ => rebuild(e, &|x| self.atoms(x)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sym::parse_ascii;

    fn p(s: &str) -> Expr {
        parse_ascii(s).unwrap()
    }

    #[test]
    fn sigmoid_tanh_and_exp_identities_hold_in_exponential_form() {
        for (a, b) in [
            ("sigmoid(a) + sigmoid(-a)", "1"),
            ("tanh(a)", "2*sigmoid(2*a) - 1"),
            ("exp(a)/(1 + exp(a))", "sigmoid(a)"),
            ("exp(a + b)", "exp(a)*exp(b)"),
            ("exp(a/2)^2", "exp(a)"),
            ("sigmoid(a)*(1 - sigmoid(a))", "exp(-a)/(1 + exp(-a))^2"),
        ] {
            assert!(identical_in_exp_form(&p(a), &p(b)), "{a} == {b}");
        }
    }

    #[test]
    fn the_unfolded_size_is_counted_before_unfolding() {
        // Nested tanh doubles at every level once unfolded: the count says so without
        // building the form, and a tower past the limit is not rewritten.
        let mut e = p("a");
        for depth in 1..=30 {
            e = Expr::func(Func::Tanh, Expr::mul(vec![p("a"), e]));
            let n = unfolded_nodes(&e);
            if depth <= 8 {
                assert!(unfold(&e).node_count() <= n, "depth {depth}");
            }
            assert!(n >= 1 << depth, "depth {depth}: {n}");
        }
        assert!(!identical_in_exp_form(
            &e,
            &Expr::add(vec![e.clone(), p("0")])
        ));
        // Small sides are still rewritten.
        assert!(identical_in_exp_form(
            &p("tanh(a)"),
            &p("(1 - exp(-2*a))/(1 + exp(-2*a))")
        ));
    }

    #[test]
    fn false_identities_stay_unproved() {
        for (a, b) in [
            ("tanh(a)", "2*sigmoid(a) - 1"),
            ("sigmoid(a) + sigmoid(a)", "1"),
            ("exp(a + b)", "exp(a) + exp(b)"),
            ("exp(a/2)", "exp(a)"),
            ("a", "b"),
        ] {
            assert!(!identical_in_exp_form(&p(a), &p(b)), "{a} != {b}");
        }
    }
}
