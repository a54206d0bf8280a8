//! The constructs of issue #18, item 5, beyond the verdict files in tests/cases/
//! (index_capital_in_claims.tq, iverson_label_names.tq, softmax_fixed_class.tq): the
//! printed claim keeps its `given` and `at`, and the limits of the two new readings.

use tq::report::{check_source, text_report, Options};

fn fast() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

#[test]
fn the_printed_claim_includes_its_given_and_at() {
    let src = "scalar a, b
u = a b
claim u == 6 given b = 3 at a = 2
claim u <= 7 given b = 3, a > 0 at a = 2
claim u ~= 6 tol 1e-3 at a = 2, b = 3
";
    let r = check_source("t.tq", src, &fast());
    let shown: Vec<&str> = r.claims.iter().map(|c| c.source.as_str()).collect();
    assert_eq!(
        shown,
        vec![
            "u == 6 given b == 3 at a = 2",
            "u <= 7 given b == 3, a > 0 at a = 2",
            "u ~= 6 tol 1e-3 at a = 2, b = 3",
        ]
    );
    // In the text report and in the JSON object.
    let text = text_report(&r, &fast(), None);
    assert!(text.contains("u == 6 given b == 3 at a = 2"), "{text}");
    let json = r.claims[0].to_json();
    assert_eq!(json["source"], "u == 6 given b == 3 at a = 2");
    // A claim without them is printed as written.
    let r = check_source("t.tq", "scalar a\nu = a\nclaim u == a\n", &fast());
    assert_eq!(r.claims[0].source, "u == a");
}

#[test]
fn an_index_capital_means_its_size_only_where_it_names_nothing_else() {
    // `DX` is a size of its own here: it is that size, not D.
    let src = "size B, X, D, DX
index dx : D
boundary circular
input x[B, X] ~ normal(0, 1)
param W[D] ~ normal(0, 1)
y[b,x] = W[DX] x[b,x+DX]
expect refuted
claim mults(y) == B X DX
claim mults(y) == B X D
";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let v: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    assert_eq!(v, vec!["refuted", "proved"]);
    // A capital of no declared index stays undefined.
    let src =
        "size B, X\ninput x[B, X] ~ normal(0, 1)\ny[b,x] = 2 x[b,x]\nclaim mults(y) == B X DQ\n";
    let r = check_source("t.tq", src, &fast());
    assert!(
        r.diagnostics.iter().any(|d| d.code == "E0501"),
        "{:?}",
        r.diagnostics
    );
}

#[test]
fn a_bare_index_in_a_claim_needs_the_claim_to_index_with_it() {
    // `x` is an index (size X) but the claim indexes nothing with it: still E0501, not
    // a claim about an index value.
    let src = "size B, X\ninput u[B, X] ~ normal(0, 1)\nclaim Var(x) == 1\n";
    let r = check_source("t.tq", src, &fast());
    assert!(
        r.diagnostics.iter().any(|d| d.code == "E0501"),
        "{:?}",
        r.diagnostics
    );
    // In an equation, an index that no tensor is named like is the index.
    let src =
        "size T, K\nindex k : K\ninput lab[T] ~ categorical(K)\nonehot[t,k] = [k == lab[t]]\n";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    // An upper-case name is not taken as a bare index.
    let src = "size T, K\nindex k : K\ninput lab[T] ~ categorical(K)\nz[t] = [Q == lab[t]]\n";
    let r = check_source("t.tq", src, &fast());
    assert!(
        r.diagnostics.iter().any(|d| d.code == "E0101"),
        "{:?}",
        r.diagnostics
    );
}
