//! The claim engine on scalar programs (seed 004 problem 1): every claim of
//! comp_graph.tq proved exactly, a wrong partial refuted with the right value, and the
//! derived values in the JSON as CAS-readable strings.

use std::path::Path;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

/// Everything but the Monte Carlo runs of moment claims (tests/errata.rs covers those).
fn fast() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

fn comp_graph() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/comp_graph.tq"))
        .unwrap()
}

#[test]
fn every_comp_graph_claim_is_proved() {
    let r = check_source("comp_graph.tq", &comp_graph(), &fast());
    assert!(r.claims.len() >= 19);
    for c in &r.claims {
        assert_eq!(
            c.verdict,
            Verdict::Proved,
            "{}: {} {}",
            c.source,
            c.method,
            c.evidence
        );
    }
}

#[test]
fn a_wrong_partial_is_refuted_with_the_true_value() {
    let src = format!(
        "{}\nat a = 2, b = 1\nclaim d(u)/d(a) == 1/9\nclaim a.grad == 1/9\n",
        comp_graph()
    );
    let r = check_source("planted.tq", &src, &fast());
    let planted: Vec<_> = r.claims.iter().rev().take(2).collect();
    for c in planted {
        assert_eq!(c.verdict, Verdict::Refuted, "{}", c.source);
        assert!(c.evidence.contains("2/9"), "{}", c.evidence);
    }
    assert!(!r.passed(&fast()));
}

#[test]
fn derive_json_carries_values_adjoints_and_partials() {
    let r = check_source("comp_graph.tq", &comp_graph(), &fast());
    let j = tq::derive::derive_json(&r);
    let sc = &j["scalar"];
    let at = |list: &str, name: &str| -> String {
        sc[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {list}"))["at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (n, v) in [("x", "4"), ("y", "1"), ("w", "5"), ("v", "6"), ("u", "2/3")] {
        assert_eq!(at("values", n), v, "{n}");
    }
    for (n, v) in [
        ("u.grad", "1"),
        ("v.grad", "-1/9"),
        ("w.grad", "-1/9"),
        ("y.grad", "-1/9"),
        ("b.grad", "-2/9"),
        ("x.grad", "1/18"),
        ("a.grad", "2/9"),
    ] {
        assert_eq!(at("adjoints", n), v, "{n}");
    }
    let partial = |name: &str| {
        sc["partials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .unwrap()["expr"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Read back by the ASCII parser and compared as identities, not as strings only.
    for (name, want) in [
        ("d(u)/d(a)", "2*a*(b^2 + 1)/(a^2 + b^2 + 1)^2"),
        ("d(u)/d(b)", "-2*a^2*b/(a^2 + b^2 + 1)^2"),
    ] {
        let got = partial(name);
        assert_eq!(got, want);
        let (g, w) = (
            tq::sym::parse_ascii(&got).unwrap(),
            tq::sym::parse_ascii(want).unwrap(),
        );
        assert!(tq::sym::identical(&g, &w));
    }
}

#[test]
fn element_claims_are_confirmed_on_a_run_and_a_wrong_one_refuted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/rnn_lm.tq");
    let base = std::fs::read_to_string(path).unwrap();
    let r = check_source("rnn_lm.tq", &base, &fast());
    let c = r
        .claims
        .iter()
        .find(|c| c.source.starts_with("s.grad[t,w]"))
        .unwrap();
    assert_eq!(c.verdict, Verdict::Confirmed, "{}", c.evidence);
    assert_eq!(c.method, "numeric");
    // The onehot dropped: refuted at an element, with both values.
    let src = format!("{base}\nclaim s.grad[t,w] == P[t,w]\n");
    let r = check_source("planted.tq", &src, &fast());
    let c = r.claims.last().unwrap();
    assert_eq!(c.verdict, Verdict::Refuted, "{}", c.evidence);
    assert!(
        c.evidence.contains("left") && c.evidence.contains("right"),
        "{}",
        c.evidence
    );
}

fn problem(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("problems")
            .join(name),
    )
    .unwrap()
}

#[test]
fn includes_blocks_are_confirmed_and_planted_mistakes_refuted() {
    let r = check_source("resnet.tq", &problem("resnet.tq"), &fast());
    let c = r
        .claims
        .iter()
        .find(|c| c.source.contains("includes"))
        .unwrap();
    assert_eq!(c.verdict, Verdict::Confirmed, "{}", c.evidence);
    // A subset of the derived statements is included too.
    let ok =
        "\nclaim backprop includes:\n  for b,x,y,j: L_l.grad[b,x,y,j] += L_{l+1}.grad[b,x,y,j]\n";
    // A dropped factor, a flipped sign, and a statement tq does not derive.
    let planted = [
        "\nclaim backprop includes:\n  for b,x,y,j,dx,dy,j': L_l.grad[b,x+dx,y+dy,j'] += R_{l+1}.grad[b,x,y,j]\n",
        "\nclaim backprop includes:\n  for b,x,y,j: B_{l+1}.grad[j] += R_{l+1}.grad[b,x,y,j]\n",
        "\nclaim backprop includes:\n  for b,x,y,j: R_{l+1}.grad[b,x,y,j] = L_l.grad[b,x,y,j]\n",
    ];
    let r = check_source("ok.tq", &format!("{}{ok}", problem("resnet.tq")), &fast());
    let c = r.claims.last().unwrap();
    assert_eq!(c.verdict, Verdict::Confirmed, "{}", c.evidence);
    for p in planted {
        let r = check_source(
            "planted.tq",
            &format!("{}{p}", problem("resnet.tq")),
            &fast(),
        );
        let c = r.claims.last().unwrap();
        assert_eq!(c.verdict, Verdict::Refuted, "{p}: {}", c.evidence);
    }
}

#[test]
fn a_grouped_gru_statement_with_a_dropped_term_is_refuted() {
    // The seeds group G_2's two contributions as h.grad (R - h[t-1]); dropping `- h[t-1]`
    // leaves one derived statement's worth, which is a different gradient.
    let wrong = "\nclaim backprop includes:\n  for b,j: G_2.grad[b,t,j] = h.grad[b,t,j] R[b,t,j] h[b,t-1,j]\n";
    let r = check_source(
        "planted.tq",
        &format!("{}{wrong}", problem("gru.tq")),
        &fast(),
    );
    let c = r.claims.last().unwrap();
    assert_eq!(c.verdict, Verdict::Refuted, "{}", c.evidence);
}

#[test]
fn operation_counts_from_the_index_spaces() {
    let r = check_source("conv.tq", &problem("conv.tq"), &fast());
    let c = r
        .claims
        .iter()
        .find(|c| c.source.starts_with("mults(R)"))
        .unwrap();
    assert_eq!(c.verdict, Verdict::Proved, "{}", c.evidence);
    let j = tq::derive::derive_json(&r);
    let conv = j["mults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "mults(R)")
        .unwrap()["expr"]
        .clone();
    assert_eq!(conv, "B*DX*DY*I*J*X*Y");
    // The RNN language model's backward pass is linear in T, not quadratic.
    let r = check_source("rnn_lm.tq", &problem("rnn_lm.tq"), &fast());
    for c in r.claims.iter().filter(|c| c.source.starts_with("order(")) {
        let want = if c.expect.is_some() {
            Verdict::Refuted
        } else {
            Verdict::Proved
        };
        assert_eq!(c.verdict, want, "{}: {}", c.source, c.evidence);
    }
    // A wrong count is refuted.
    let src = format!("{}\nclaim mults(R) == B X Y DX DY I\n", problem("conv.tq"));
    let r = check_source("planted.tq", &src, &fast());
    assert_eq!(r.claims.last().unwrap().verdict, Verdict::Refuted);
}
