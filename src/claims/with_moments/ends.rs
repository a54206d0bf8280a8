//! The closed ends a claim Monte Carlo confirmed is tried at besides its sample values:
//! the closed ends of the symbols' declared domains (session 32) and the closed bounds
//! of the claim's givens (session 39, probe38/p a12: `E(y^2) < v given a >= 0, a <= 1`
//! of a leaky ReLU, false only at a = 1, was confirmed; Monte Carlo tried the domain's
//! ends and never a given's).

use super::*;
use num_rational::BigRational;

/// A point of [`closed_end_points`] (the symbols it moves) and what it is, as the
/// evidence names it (`a closed end of the domain`, `a closed end of a given`).
pub(super) type EndPoint = (BTreeMap<String, BigRational>, &'static str);

/// The closed ends of the symbols' domains (session 32) and of the claim's givens
/// (session 39): for each symbol with a `sample` value that the claim's givens do not
/// set, each end of its declared domain that the domain includes (a variance's 0, a
/// probability's 1), and each point where a closed given (`a <= 1`, `a + b >= 1`, `a^2
/// <= 4`) meets its bound with the other names at their sample values (a rational root
/// of left − right in that symbol, inside its domain: [`given_ends`]), the point with
/// that symbol there and every other at its sample value. A point where a relation of
/// the declarations between symbols fails (`uniform(a, b)`: a < b) or where the claim's
/// own conditions fail (`given v > 0`) is left out. Monte Carlo's other points never
/// reach an end (they move by factors and reflections), so a claim false only there
/// (`Var(relu(z)) < v`, 0 < 0 at v = 0) was confirmed.
pub(super) fn closed_end_points(claim: &Claim, program: &ast::Program, env: &Env) -> Vec<EndPoint> {
    let Ok(set) = montecarlo::given_values(claim, env) else {
        return Vec::new();
    };
    let set_values: BTreeMap<String, BigRational> = set
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.as_num()?.clone())))
        .collect();
    let set: Vec<String> = set.into_iter().map(|(n, _)| n).collect();
    let (sample, sizes) = sample_values(&set, program, env);
    // Whether a point (the sample values with some symbols moved to their ends) meets
    // every relation of the declarations that reads a moved symbol (exactly; one that
    // cannot be evaluated leaves the point out) and the claim's givens.
    let fits = |moved: &BTreeMap<String, BigRational>| {
        let mut point = sample.clone();
        point.extend(moved.iter().map(|(n, v)| (n.clone(), v.clone())));
        moved
            .keys()
            .all(|n| montecarlo::spread::admissible(claim, env, &point, n))
    };
    // (name, end, whether a given's bound).
    let mut singles: Vec<(String, BigRational, bool)> = Vec::new();
    for (name, x) in &sample {
        let Some(d) = env.domains.get(name) else {
            continue;
        };
        let ends = [&d.lo, &d.hi]
            .into_iter()
            .filter_map(|e| e.as_ref().filter(|(_, open)| !open).map(|(v, _)| v.clone()));
        for end in ends {
            if &end == x || !d.contains(&end) {
                continue;
            }
            singles.push((name.clone(), end, false));
        }
    }
    let mut known = sizes;
    known.extend(set_values);
    known.extend(sample.iter().map(|(n, v)| (n.clone(), v.clone())));
    for (name, end) in given_ends(claim, env, &sample, &known) {
        if !singles.iter().any(|(n, v, _)| *n == name && *v == end) {
            singles.push((name, end, true));
        }
    }
    let label = |given: bool, domain: bool| match (given, domain) {
        (true, true) => "closed ends of the domain and of the givens",
        (true, false) => "a closed end of a given",
        _ => "a closed end of the domain",
    };
    let mut out: Vec<EndPoint> = Vec::new();
    let mut push = |p: BTreeMap<String, BigRational>, what: &'static str| {
        if !out.iter().any(|(q, _)| *q == p) && fits(&p) {
            out.push((p, what));
        }
    };
    for (n, v, g) in &singles {
        push(BTreeMap::from([(n.clone(), v.clone())]), label(*g, false));
    }
    // Then the corners: two symbols at closed ends at once, and every symbol at the
    // first of its closed ends (probe34 p27: `E(z) + Var(m) > 0`, false only at p = 1
    // and v = 0 together, was confirmed, each end being tried alone). At most
    // [`MAX_CORNER_SYMBOLS`] symbols are paired.
    let names: Vec<&String> = {
        let mut v: Vec<&String> = singles.iter().map(|(n, _, _)| n).collect();
        v.sort();
        v.dedup();
        v
    };
    if names.len() >= 2 && names.len() <= MAX_CORNER_SYMBOLS {
        for (i, (a, va, ga)) in singles.iter().enumerate() {
            for (b, vb, gb) in &singles[i + 1..] {
                if a != b {
                    push(
                        BTreeMap::from([(a.clone(), va.clone()), (b.clone(), vb.clone())]),
                        label(*ga || *gb, !*ga || !*gb),
                    );
                }
            }
        }
    }
    if names.len() >= 3 {
        let mut all = BTreeMap::new();
        let (mut given, mut domain) = (false, false);
        for (n, v, g) in &singles {
            if !all.contains_key(n) {
                all.insert(n.clone(), v.clone());
                given |= *g;
                domain |= !*g;
            }
        }
        push(all, label(given, domain));
    }
    out
}

/// The most symbols whose closed ends [`closed_end_points`] pairs.
const MAX_CORNER_SYMBOLS: usize = 6;

/// The most names a given may read for [`given_ends`] to solve it for each.
const MAX_GIVEN_NAMES: usize = 8;

/// Where the claim's closed givens (`<=`, `>=`: the file's `at` values and the claim's
/// givens, as resolved, with the conditions a setting implies) meet their bounds: for
/// each symbol with a sample value (`sample`) that such a given reads, the other names
/// at their values (`known`: the sample values, the sizes, the numbers the givens set),
/// the rational roots in that symbol of left − right inside its domain other than its
/// sample value (`a <= 1`: a = 1; `a + b >= 1` at b = 1/4: a = 3/4; `a^2 <= 4`: a = 2
/// and, where a may be negative, −2). An open bound (`a < 1`) is no point of the claim;
/// a given that is not a polynomial in the symbol at those values, or whose roots are
/// not rational, gives no point here.
pub(super) fn given_ends(
    claim: &Claim,
    env: &Env,
    sample: &BTreeMap<String, BigRational>,
    known: &BTreeMap<String, BigRational>,
) -> Vec<(String, BigRational)> {
    let read = crate::analysis::givens::Givens::read(&claim.given, env);
    let mut out: Vec<(String, BigRational)> = Vec::new();
    for c in read.conditions() {
        if !matches!(c.op, RelOp::Le | RelOp::Ge) {
            continue;
        }
        let low = |e: &ast::Expr| scalar::lower(e, &scalar::Scope::default()).ok();
        let (Some(l), Some(r)) = (low(&c.left), low(&c.right)) else {
            continue;
        };
        let f = Expr::add(vec![
            l,
            Expr::mul(vec![Expr::num(BigRational::from_integer((-1).into())), r]),
        ]);
        let names = f.free_symbols();
        if names.len() > MAX_GIVEN_NAMES {
            continue;
        }
        for x in &names {
            let Some(x0) = sample.get(x) else {
                continue;
            };
            if !env.symbols.contains_key(x) {
                continue;
            }
            let mut g = f.clone();
            let mut all_known = true;
            for n in names.iter().filter(|n| *n != x) {
                match known.get(n) {
                    Some(v) => g = g.subs(n, &Expr::num(v.clone())),
                    None => all_known = false,
                }
            }
            if !all_known || crate::sym::exact_work_spent() {
                continue;
            }
            let Some(roots) = crate::sym::sturm::poly_of(&crate::sym::expand(&g), x)
                .filter(|p| p.len() >= 2)
                .and_then(|p| crate::sym::sturm::rational_roots(&p))
            else {
                continue;
            };
            for root in roots {
                let inside = env.domains.get(x).is_none_or(|d| d.contains(&root));
                if &root != x0 && inside && !out.iter().any(|(n, v)| n == x && *v == root) {
                    out.push((x.clone(), root));
                }
            }
        }
    }
    out
}
