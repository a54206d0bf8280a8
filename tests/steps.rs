//! `tq derive --steps` (issue 8): the moments tq derives written out as worked chains,
//! every line labelled with a rule and checked by tq; a tampered line is refuted.

use std::path::Path;
use tq::derive::steps;
use tq::report::{check_source, FileReport, Options};
use tq::syntax::ast::DERIVATION_RULES;

fn report(name: &str) -> FileReport {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("problems")
            .join(name),
    )
    .unwrap();
    let opts = Options {
        no_monte_carlo: true,
        ..Options::default()
    };
    check_source(&format!("problems/{name}"), &src, &opts)
}

fn chain<'c>(chains: &'c [steps::Chain], name: &str) -> &'c steps::Chain {
    chains.iter().find(|c| c.name == name).unwrap_or_else(|| {
        panic!(
            "no chain {name}: {:?}",
            chains.iter().map(|c| &c.name).collect::<Vec<_>>()
        )
    })
}

#[test]
fn resnet_chains_forward_and_backward_with_a_rule_on_every_line() {
    let r = report("resnet.tq");
    let chains = tq::derive::steps_of(&r, 0).unwrap();
    let rules: Vec<&str> = DERIVATION_RULES.iter().map(|(n, _)| *n).collect();
    for c in &chains {
        assert!(!c.lines.is_empty(), "{}", c.name);
        for l in &c.lines {
            assert!(rules.contains(&l.rule), "{}: rule {}", c.name, l.rule);
            assert!(
                l.verdict == "proved" || l.verdict == "confirmed",
                "{}: {} {} is {}: {}",
                c.name,
                l.op,
                l.expr,
                l.verdict,
                l.evidence
            );
        }
    }
    let fwd = chain(&chains, "forward_l_step");
    assert_eq!(fwd.start, "Var(L_{l+1})");
    let exprs: Vec<&str> = fwd.lines.iter().map(|l| l.expr.as_str()).collect();
    assert_eq!(exprs[0], "Var(L_l[b,x,y,j] + R_{l+1}[b,x,y,j])");
    assert_eq!(exprs[1], "Var(L_l) + Var(R_{l+1})");
    assert_eq!(fwd.lines[1].rule, "uncorrelated_sum");
    assert_eq!(fwd.lines[2].rule, "product_variance");
    assert_eq!(*exprs.last().unwrap(), "(D^2*J*sigma_W^2 + 1) Var(L_l)");
    let closed = chain(&chains, "forward_l_closed");
    assert_eq!(closed.lines[0].expr, "(D^2*J*sigma_W^2 + 1)^l");
    assert_eq!(closed.lines[0].rule, "recurrence");
    assert_eq!(closed.lines[0].verdict, "proved");
    let back = chain(&chains, "backward_l_closed");
    assert_eq!(back.lines[0].expr, "(D^2*J*sigma_W^2 + 1)^(L - l)");
    let bstep = chain(&chains, "backward_l_step");
    assert_eq!(
        bstep.lines.last().unwrap().expr,
        "(D^2*J*sigma_W^2 + 1) Var(L_{l+1}.grad)"
    );
}

#[test]
fn a_tampered_line_is_refuted_at_that_line() {
    let r = report("resnet.tq");
    let mut chains = steps::propose(&r);
    let fwd = chains
        .iter_mut()
        .find(|c| c.name == "forward_l_step")
        .unwrap();
    // The seeds' kind of slip: one factor J lost.
    fwd.lines[2].expr = "Var(L_l) + D^2*Var(L_l)*sigma_W^2".into();
    let checked = steps::check(&r, chains, 0).unwrap();
    let fwd = chain(&checked, "forward_l_step");
    assert_eq!(fwd.lines[2].verdict, "refuted", "{}", fwd.lines[2].evidence);
    assert_eq!(fwd.lines[1].verdict, "proved", "{}", fwd.lines[1].evidence);
}

#[test]
fn single_unit_and_dropout_chains() {
    let r = report("single_unit.tq");
    let chains = tq::derive::steps_of(&r, 0).unwrap();
    let var_y = chain(&chains, "var_y");
    assert_eq!(var_y.lines.last().unwrap().expr, "chi*d*sigma^2");
    assert_eq!(var_y.lines.last().unwrap().verdict, "proved");
    let mean_u = chain(&chains, "mean_u");
    assert_eq!(mean_u.lines.last().unwrap().expr, "1/2");
    assert_eq!(mean_u.lines.last().unwrap().rule, "symmetry");
    let var_u = chain(&chains, "var_u");
    assert_eq!(var_u.lines[0].op, "<=");
    assert_eq!(var_u.lines[0].rule, "lipschitz");
    assert_eq!(var_u.lines[0].verdict, "proved");
    let r = report("dropout.tq");
    let chains = tq::derive::steps_of(&r, 0).unwrap();
    assert_eq!(chain(&chains, "mean_z").lines.last().unwrap().expr, "a*p");
}
