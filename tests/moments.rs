//! The moments engine (issue 5): what `tq derive` prints for the seeds' models, claims
//! proved or refuted from the derived moments, planted mistakes caught, and nothing
//! proved that rests on an approximation or an unproved independence.

use std::path::Path;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

fn fast() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

fn problem(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("problems")
            .join(name),
    )
    .unwrap()
}

fn derived(name: &str) -> String {
    let r = check_source(name, &problem(name), &fast());
    tq::derive::derive_text(&r, None)
}

/// The verdict of the claim whose source starts with `text` in a model with `claims`.
fn verdict(model: &str, claim: &str) -> (Verdict, String) {
    let src = format!("{model}\nclaim {claim}\n");
    let r = check_source("planted.tq", &src, &fast());
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let c = r.claims.last().expect("the claim");
    (c.verdict, format!("{}: {}", c.method, c.evidence))
}

const RESNET_CORE: &str = "size B, X, Y, J, D, L
index dx, dy : D centered
index j' : J
symbol sigma_W
boundary circular
param W_{l}[dx, dy, J, J] ~ normal(0, sigma_W^2) for l in 1..L
input L_0[B, X, Y, J] ~ normal(0, 1)
for l in 0..L-1:
  for b,x,y,j,dx,dy,j': R_{l+1}[b,x,y,j] += W_{l+1}[dx,dy,j',j] L_l[b,x+dx,y+dy,j']
  for b,x,y,j:
    L_{l+1}[b,x,y,j] = L_l[b,x,y,j] + R_{l+1}[b,x,y,j]
sample B = 1, X = 4, Y = 4, J = 2, D = 3, L = 3, sigma_W = 0.2";

#[test]
fn resnet_recurrences_closed_forms_and_initialization() {
    let d = derived("resnet.tq");
    for want in [
        "Var(L_{l + 1}) = Var(L_l) + D^2*J*Var(L_l)*sigma_W^2    [recurrence; exact]",
        "Var(L_l) = (D^2*J*sigma_W^2 + 1)^l    [closed form, from Var(L_0) = 1]",
        "Var(L_l.grad) = (D^2*J*sigma_W^2 + 1)^(L - l)    [closed form, from Var(L_L.grad) = 1]",
        "solve(Var(L_L) == 2, sigma_W^2) = (2^(1/L) - 1)/(D^2*J)",
        "sigma_W = sqrt(log(2)/(D^2*J*L)), which gives (log(2)/L + 1)^L instead of 2",
        "L = 1: 1.6931 (error 0.3069)",
        "# moments under zero padding (the border effect)",
    ] {
        assert!(d.contains(want), "missing `{want}` in\n{d}");
    }
}

#[test]
fn single_unit_and_deep_linear_answers() {
    let d = derived("single_unit.tq");
    for want in [
        "E(u) = 1/2    [exact]",
        "Var(u) <= 1/4",
        "Var(u) <= chi*d*sigma^2/16",
        "solve(Var(y) == 1, sigma) given mu == 0, chi == 1 = sqrt(1/d)",
        "solve(Var(y) == 1, sigma^2) given chi == 1 + mu^2 = 1/(d + d*mu^2)",
        "solve(Var(a_k) == Var(a_{k-1}), v) = 2/d",
        "E(rg) = sqrt(alpha/(2*pi))    [exact]",
        "Var(a_k) = alpha*(d*v/2)^k",
    ] {
        assert!(d.contains(want), "missing `{want}` in\n{d}");
    }
    let d = derived("deep_linear.tq");
    for want in [
        "Var(y_k) = (M*sigma^2)^k",
        "= 1/M",
        "= 2/M",
        "Var(y^{relu}_k) = (M*sigma^2/2)^k",
    ] {
        assert!(d.contains(want), "missing `{want}` in\n{d}");
    }
}

#[test]
fn planted_wrong_moments_are_refuted() {
    for wrong in [
        "Var(L_l) == (1 + D^2 J sigma_W^2)^(l+1)",
        "Var(R_{l+1}) == D J sigma_W^2 Var(L_l)",
        "Var(L_{l+1}) == Var(L_l) + D^2 J sigma_W^2",
        "solve(Var(L_L) == 2, sigma_W^2) == (2^(1/L) - 1) / (D J)",
    ] {
        let (v, why) = verdict(RESNET_CORE, wrong);
        assert_eq!(v, Verdict::Refuted, "{wrong}: {why}");
    }
    for right in [
        "Var(L_l) == (1 + D^2 J sigma_W^2)^l",
        "Cov(L_l[b,x,y,j], R_{l+1}[b,x,y,j]) == 0",
    ] {
        let (v, why) = verdict(RESNET_CORE, right);
        assert_eq!(v, Verdict::Proved, "{right}: {why}");
    }
    // Dropout with the wrong scale.
    let dropout = "symbol a, p, m, v
input keep ~ bernoulli(p)
input x ~ moments(m, v + m^2)
Z = a keep
y = Z x
sample p = 0.8, a = 1.25, m = 0.5, v = 2";
    let (v, why) = verdict(dropout, "Var(y) == v/p + m^2 (1 - p)/p given a = p");
    assert_eq!(v, Verdict::Refuted, "{why}");
    let (v, why) = verdict(dropout, "Var(y) == v/p + m^2 (1 - p)/p given a = 1/p");
    assert_eq!(v, Verdict::Proved, "{why}");
}

#[test]
fn bounds_decide_inequalities_only_where_they_prove_them() {
    let unit = "size d
index i : d
symbol sigma
param W[d] ~ symmetric(sigma^2)
input x[d] ~ moments(0, 1)
y = W[I] x[I]
u = sigmoid(y)
sample d = 8, sigma = 0.35";
    let (v, why) = verdict(unit, "Var(u) <= Var(y) / 16");
    assert_eq!(v, Verdict::Proved, "{why}");
    // A tighter bound than the Lipschitz one is not proved from the bounds, and an
    // unknown variance is never sampled as if it were a free symbol.
    let (v, why) = verdict(unit, "Var(u) <= Var(y) / 32");
    assert_ne!(v, Verdict::Proved, "{why}");
    let (v, why) = verdict(unit, "Var(u) == 1/8");
    assert_ne!(v, Verdict::Proved, "{why}");
    assert_ne!(v, Verdict::Refuted, "{why}");
}

#[test]
fn dependent_products_and_approximations_are_not_proved() {
    // x[I] x[I]: the factors are the same element; the engine has no rule for it.
    let sq = "size d
index i : d
input x[d] ~ normal(0, 1)
s = x[I] x[I]
sample d = 4";
    let (v, why) = verdict(sq, "Var(s) == 2 d");
    assert_ne!(v, Verdict::Proved, "{why}");
    // E[relu] of a layer that is only approximately Gaussian: not proved.
    let relu = "size M, K
index i, j : M
symbol sigma
param W_k[M, M] ~ normal(0, sigma^2) for k in 1..K
input y_0[M] ~ normal(0, 1)
for k in 1..K:
  x_k[i] = relu(y_{k-1}[i])
  y_k[j] = W_k[j, I] x_k[I]
sample M = 8, K = 3, sigma = 0.3";
    let (v, why) = verdict(relu, "E(x_2) == sqrt(Var(y_1) / (2 pi))");
    assert_ne!(v, Verdict::Proved, "{why}");
    let (v, why) = verdict(relu, "E(x_1) == sqrt(Var(y_0) / (2 pi))");
    assert_eq!(v, Verdict::Proved, "{why}");
}

#[test]
fn zero_padding_border_position_by_position() {
    let src = problem("resnet.tq");
    let r = check_source("resnet.tq", &src, &fast());
    let corner = r
        .claims
        .iter()
        .find(|c| c.source.starts_with("Var(L_L[0,0,0,0])"))
        .unwrap();
    assert_eq!(corner.verdict, Verdict::Confirmed, "{}", corner.evidence);
    assert_eq!(corner.method, "moments-by-position");
    // A wrong corner value is refuted the same way.
    let wrong = src.replace("Var(L_L[0,0,0,0]) ~= 1.40", "Var(L_L[0,0,0,0]) ~= 2.00");
    let r = check_source("resnet.tq", &wrong, &fast());
    let corner = r
        .claims
        .iter()
        .find(|c| c.source.starts_with("Var(L_L[0,0,0,0])"))
        .unwrap();
    assert_eq!(corner.verdict, Verdict::Refuted, "{}", corner.evidence);
}
