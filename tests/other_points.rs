//! Monte Carlo's other points cover each symbol's domain (session 31, probe31/a u11,
//! u02): generated files with a location, a variance, a positive slope and a
//! probability at random sample values; the points `claims::other_points` tries must lie
//! inside every symbol's domain, put a location on both sides of 0 and a positive symbol
//! on both sides of 1 (with the sample value itself counted as one side).

mod common;

use num_rational::BigRational;
use proptest::prelude::*;
use std::collections::BTreeMap;
use tq::syntax::ast::ItemKind;

use common::rational::{rat, text};

fn points(sample: &BTreeMap<&str, BigRational>) -> Vec<BTreeMap<String, BigRational>> {
    let src = format!(
        "size B\nsymbol m, v, a, p\ninput x[B] ~ normal(m, v)\ninput g[B] ~ bernoulli(p)\ny[b] = relu(x[b]) - a relu(-x[b]) g[b]\nclaim E(y) <= m + a\nsample B = 3, {}\n",
        sample
            .iter()
            .map(|(n, v)| format!("{n} = {}", text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let parsed = tq::syntax::parser::parse(&src);
    let (env, diags) = tq::check::check(&parsed.program);
    assert!(diags.iter().all(|d| !d.is_error()), "{src}: {diags:?}");
    let claim = parsed
        .program
        .items
        .iter()
        .find_map(|i| match &i.kind {
            ItemKind::Claim(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    let out = tq::claims::other_points(&claim, &parsed.program, &env);
    // Every point inside every domain.
    for (p, _) in &out {
        for (n, v) in p {
            if let Some(d) = env.domains.get(n) {
                assert!(d.contains(v), "{src}: {n} = {v} outside its domain");
            }
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn points_cover_both_sides(
        m in prop::sample::select(vec![rat(-3, 1), rat(-1, 2), rat(0, 1), rat(1, 2), rat(2, 1)]),
        v in prop::sample::select(vec![rat(1, 4), rat(1, 1), rat(3, 1)]),
        a in prop::sample::select(vec![rat(1, 10), rat(1, 1), rat(5, 1)]),
        p in prop::sample::select(vec![rat(1, 5), rat(1, 2), rat(1, 1)]),
    ) {
        let sample: BTreeMap<&str, BigRational> =
            [("m", m.clone()), ("v", v), ("a", a.clone()), ("p", p)].into_iter().collect();
        let pts = points(&sample);
        let zero = rat(0, 1);
        let one = rat(1, 1);
        let ms: Vec<BigRational> = pts.iter().filter_map(|p| p.get("m").cloned()).chain([m]).collect();
        prop_assert!(ms.iter().any(|x| x < &zero) && ms.iter().any(|x| x > &zero), "m: {ms:?}");
        let as_: Vec<BigRational> = pts.iter().filter_map(|p| p.get("a").cloned()).chain([a]).collect();
        prop_assert!(as_.iter().any(|x| x <= &one) && as_.iter().any(|x| x >= &one), "a: {as_:?}");
        prop_assert!(as_.iter().any(|x| x < &one) && as_.iter().any(|x| x > &one), "a: {as_:?}");
    }
}
