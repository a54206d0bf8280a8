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

/// The code block of docs/language.md under the heading `heading`.
fn language_example(heading: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
        .expect("docs/language.md exists");
    let at = doc
        .find(heading)
        .expect("the heading is in docs/language.md");
    let rest = &doc[at..];
    let start = rest.find("```\n").expect("a code block") + 4;
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end].to_string()
}

fn errors(src: &str) -> Vec<(&'static str, String)> {
    let r = check_source("t.tq", src, &fast());
    r.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.message.clone()))
        .collect()
}

#[test]
fn the_per_member_sizes_example_of_the_language_page_is_checked() {
    let src = language_example("### Per-member sizes and fixed sizes");
    let r = check_source("example.tq", &src, &Options::default());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let shown: Vec<(String, &str)> = r
        .claims
        .iter()
        .map(|c| (c.source.clone(), c.verdict.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("Var(a_l) == 2 (l = 1)".to_string(), "proved"),
            ("Var(a_l) == 2 (l = 2)".to_string(), "proved"),
            ("Var(a_l) == 2 (l = 3)".to_string(), "proved"),
            (
                "mults(a_1) + mults(a_2) + mults(a_3) == B (N_0 N_1 + N_1 N_2 + N_2 N_3)"
                    .to_string(),
                "proved"
            ),
        ]
    );
    // The numeric engines allocate each layer's own shape: the gradient check runs on
    // the unrolled members and passes.
    assert!(!r.gradcheck.is_empty(), "no gradient check ran");
    assert!(
        r.gradcheck.iter().all(|g| g.passed),
        "{:?}",
        r.gradcheck
            .iter()
            .map(|g| (&g.tensor, g.max_rel_error))
            .collect::<Vec<_>>()
    );
    assert!(r.gradcheck.iter().any(|g| g.tensor == "W_2"));
}

#[test]
fn per_member_sizes_reach_each_layer_with_its_own_width() {
    // A wrong per-layer count (the widths swapped) and a variance that ignores the
    // width ratio are refuted: the members are distinct sizes, not one.
    let src = "size B
size N_l for l in 0..2
input x_0[B, N_0] ~ normal(0, 1)
param W_l[N_l, N_{l-1}] ~ normal(0, 1) for l in 1..2
for l in 1..2:
  x_l[b, n_l] = W_l[n_l, N_{l-1}] x_{l-1}[b, N_{l-1}]
claim Var(x_2) == N_0 N_1
claim Var(x_l) == N_{l-1} Var(x_{l-1})
claim mults(x_2) == B N_1 N_2
expect refuted
claim mults(x_2) == B N_0 N_1
expect refuted
claim Var(x_2) == N_1^2
sample B = 2, N_0 = 3, N_1 = 5, N_2 = 2
";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let got: Vec<(&str, &str)> = r
        .claims
        .iter()
        .map(|c| (c.source.as_str(), c.verdict.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Var(x_2) == N_0 N_1", "proved"),
            ("Var(x_l) == N_{l-1} Var(x_{l-1}) (l = 1)", "proved"),
            ("Var(x_l) == N_{l-1} Var(x_{l-1}) (l = 2)", "proved"),
            ("mults(x_2) == B N_1 N_2", "proved"),
            ("mults(x_2) == B N_0 N_1", "refuted"),
            ("Var(x_2) == N_1^2", "refuted"),
        ]
    );
    assert!(r.passed(&fast()));
}

#[test]
fn fixed_sizes_stand_for_their_value() {
    // `size L = floor(7/2)` is 3: the loop runs 3 times, `h_L` is `h_3`, and `L` in a
    // claim is the number.
    let src = "size J
size L = floor(7/2)
size K = 2 L - 1
input h_0[J] ~ normal(0, 1)
param W_l[J, J] ~ normal(0, 1/J) for l in 1..L
for l in 1..L:
  h_l[j] = W_l[j, J'] h_{l-1}[J']
claim Var(h_L) == 1
claim Var(h_3) == 1
claim K == 5
claim L == 3
expect refuted
claim L == 4
sample J = 4
";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    assert_eq!(got, vec!["proved", "proved", "proved", "proved", "refuted"]);
    // A fixed size takes no sample value, and is not varied.
    let e = errors("size J\nsize L = 3\ninput x[J] ~ normal(0, 1)\nsample J = 2, L = 3\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "E0412");
    assert!(e[0].1.contains("takes no sample value"), "{e:?}");
    // A value that is not a whole number, or not fixed.
    assert_eq!(errors("size L = 0\n")[0].0, "E0412");
    let e = errors("size J\nsize L = 2 ceil(J/2)\ninput x[J] ~ normal(0, 1)\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].1.contains("not a whole number tq can compute"),
        "{e:?}"
    );
    // A value of sizes that vary, without rounding, is a derived size (its relation a
    // given of the claims).
    let r = check_source(
        "t.tq",
        "size J\nsize L = J + 1\ninput x[J] ~ normal(0, 1)\nclaim L == J + 1\n",
        &fast(),
    );
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    assert_eq!(r.claims[0].verdict.as_str(), "proved");
}

#[test]
fn per_member_sizes_are_refused_where_they_cannot_be_expanded() {
    // A symbolic depth: the range is not fixed (one diagnostic, its uses not reported).
    let e = errors("size B, L\nsize N_l for l in 0..L\ninput h_0[B, N_0] ~ normal(0, 1)\nclaim Var(h_0) == 1\n");
    assert_eq!(
        e.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec!["E0410"],
        "{e:?}"
    );
    // A loop over a symbolic range that uses members.
    let e = errors(
        "size B, K\nsize N_l for l in 0..2\ninput h_0[B, N_0] ~ normal(0, 1)\nfor l in 1..K:\n  h_l[b, n_l] = h_{l-1}[b, n_{l-1}]\nclaim Var(h_1) == 1\n",
    );
    assert_eq!(
        e.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec!["E0410"],
        "{e:?}"
    );
    // A member outside the range, and one whose subscript is not fixed.
    let e = errors("size B\nsize N_l for l in 0..2\ninput h_0[B, N_0] ~ normal(0, 1)\nparam W[N_3, N_0] ~ normal(0, 1)\n");
    assert_eq!(
        e.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec!["E0411"],
        "{e:?}"
    );
    let e = errors("size B\nsize N_l for l in 0..2\ninput h_0[B, N_0] ~ normal(0, 1)\nparam W[N_k, N_0] ~ normal(0, 1)\n");
    assert_eq!(
        e.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec!["E0411"],
        "{e:?}"
    );
    // A sampled run without a value for every member.
    let e = errors("size B\nsize N_l for l in 0..1\ninput h_0[B, N_0] ~ normal(0, 1)\nparam W[N_1, N_0] ~ normal(0, 1)\nsample B = 2, N_0 = 3\n");
    assert_eq!(
        e.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec!["E0413"],
        "{e:?}"
    );
    assert!(e[0].1.contains("N_1"), "{e:?}");
    // A per-member size whose subscript is not the range's variable does not parse.
    let e = errors("size N_k for l in 0..2\n");
    assert_eq!(e[0].0, "E0001", "{e:?}");
    // A `size` line inside a block.
    let e = errors("size J\nfor l in 0..2:\n  size N_l for l in 0..2\n");
    assert!(e.iter().any(|e| e.0 == "E0410"), "{e:?}");
}

#[test]
fn a_reversed_loop_and_several_per_member_sizes_unroll_in_order() {
    let src = "size N_l, M_l for l in 0..2
input x_2[N_2] ~ normal(0, 1)
input z[M_1] ~ normal(0, 1)
param W_l[N_l, N_{l+1}] ~ normal(0, 1/N_{l+1}) for l in 0..1
for l in 0..1 reversed:
  x_l[n_l] = W_l[n_l, N_{l+1}] x_{l+1}[N_{l+1}]
claim Var(x_0) == 1
claim E(z) == 0
sample N_0 = 3, N_1 = 3, N_2 = 3, M_0 = 2, M_1 = 2, M_2 = 2
";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let eqs: Vec<String> = r
        .program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            tq::syntax::ast::ItemKind::Equation(eq) => {
                Some(tq::syntax::printer::print_ref(&eq.lhs))
            }
            _ => None,
        })
        .collect();
    assert_eq!(eqs, vec!["x_1[n_1]", "x_0[n_0]"]);
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    assert_eq!(got, vec!["proved", "proved"]);
}

#[test]
fn the_derived_size_example_of_the_language_page_is_checked() {
    let src = language_example("### Sizes derived from other sizes");
    let r = check_source("example.tq", &src, &Options::default());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    assert_eq!(got, vec!["proved", "proved", "refuted"]);
    assert!(r.passed(&Options::default()));
    // Y = floor((9 - 3)/2) + 1 = 4 is added to the sample line; the gradient check runs
    // on y[B, 4] and x[B, 9].
    assert!(!r.gradcheck.is_empty() && r.gradcheck.iter().all(|g| g.passed));
    let sampled: Vec<String> = r
        .program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            tq::syntax::ast::ItemKind::Sample(bs) => Some(
                bs.iter()
                    .map(|b| {
                        format!(
                            "{}={}",
                            b.name.name,
                            tq::syntax::printer::print_expr(&b.value)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(sampled, vec!["B=2,X=9,D=3,Y=4"]);
}

#[test]
fn derived_sizes_round_only_where_the_rounding_is_known() {
    let src = "size B, X, D
size Y = ceil((X - D + 1)/3)
size Z = X - D + 1
input x[B, X] ~ normal(0, 1)
claim Z == X - D + 1
claim Y == 2 given X = 7, D = 2
expect refuted
claim Y == 3 given X = 7, D = 2
expect refuted
claim Y == (X - D + 1)/3
claim 3 Y >= X - D + 1
sample B = 2, X = 8, D = 3
";
    let r = check_source("t.tq", src, &fast());
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    // The last one needs the ceiling's inequality: proved, or undecided with a reason,
    // never refuted.
    assert_eq!(
        &got[..4],
        &["proved", "proved", "refuted", "refuted"],
        "{got:?}"
    );
    assert_ne!(got[4], "refuted");
    // Derived sizes take no sample value, and must be whole at the sample values.
    let e = errors("size X, D\nsize Y = floor((X - D)/2) + 1\ninput x[X] ~ normal(0, 1)\nsample X = 9, D = 3, Y = 4\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].1.contains("derived"), "{e:?}");
    let e =
        errors("size X, D\nsize Y = (X - D)/2\ninput x[X] ~ normal(0, 1)\nsample X = 8, D = 3\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].1.contains("5/2"), "{e:?}");
    // `floor` inside another expression than `floor(e) + c`.
    let e = errors("size X\nsize Y = 2 floor(X/2)\n");
    assert_eq!(e[0].0, "E0412", "{e:?}");
    // A value of fixed sizes that divides by zero or overflows is an error, not a
    // size derived from nothing; at the sample values, the message says why.
    for v in ["floor((X - D)/0)", "X/0", "2^100"] {
        let e = errors(&format!("size X = 8\nsize D = 2\nsize Y = {v}\n"));
        assert_eq!(e.len(), 1, "{v}: {e:?}");
        assert_eq!(e[0].0, "E0412", "{v}: {e:?}");
        assert!(e[0].1.contains("divides by zero"), "{v}: {e:?}");
    }
    let e = errors(
        "size X, D\nsize Y = floor((X - D)/0)\ninput x[X] ~ normal(0, 1)\nsample X = 8, D = 2\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].1.contains("divides by zero"), "{e:?}");
    assert!(!e[0].1.contains("no sample value"), "{e:?}");
}

/// The output-size diagnostics (E0303, E0304) of every `.tq` file under a directory:
/// (file, code, severity, message).
fn output_size_diagnostics(dir: &str) -> Vec<(String, &'static str, bool, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "tq") {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let src = std::fs::read_to_string(&p).unwrap();
        let name = p.strip_prefix(&root).unwrap().display().to_string();
        let r = tq::lsp::document::quick_report(&name, &src);
        for d in &r.diagnostics {
            if matches!(d.code, "E0303" | "E0304") {
                out.push((name.clone(), d.code, d.is_error(), d.message.clone()));
            }
        }
    }
    out
}

#[test]
fn no_problem_or_case_file_gets_an_output_size_error() {
    let mut warnings = Vec::new();
    for dir in [
        "problems",
        "tests/cases",
        "tests/givens",
        "tests/robustness",
    ] {
        for (file, code, error, message) in output_size_diagnostics(dir) {
            assert!(!error, "{dir}/{file}: {code}: {message}");
            warnings.push(format!("{dir}/{file}"));
        }
    }
    // The two files that read a dimension over its own extent under `valid` on purpose
    // (reads outside give 0, as zero padding: docs/moments.md) get the warning, once per
    // such read; and red14d's pooling of a circular convolution to floor(X/2) outputs,
    // where `circular` wants the `same` size ceil(X/2) (at odd X the last input is not
    // pooled; the red team wrote it from the docs, and the warning is right); and red27's
    // stride-2 convolution whose claims set the padding P = 3 beyond the window (D = 3),
    // where the last output position reads only padding (the warning is right: the file
    // is about the derived size's arithmetic, not a model to run); nothing else does.
    warnings.dedup();
    assert_eq!(
        warnings,
        vec![
            // border39's lag correlations `c[b,k] = u[b,X] v[b,X+k]` under `zero`/`circular`:
            // the spanning index is summed, not one of the element's own, and the E0304 on
            // `k` is the open half of probe38/p a04 (/work/reports/border39.md, open 3).
            "tests/cases/border39/contrasts_stay_proved.tq",
            "tests/cases/border39/lag_correlation.tq",
            // diag29's derived size `floor((X - DX)/2) + 1 - P` at P = 1 keeps one output
            // fewer than fit (the file is about parsing that size, and the warning is right).
            "tests/cases/diag29/derived_size_minus_a_size.tq",
            "tests/cases/red14d/pool_of_conv.tq",
            "tests/cases/red27/derived_size_sweep.tq",
            "tests/cases/soundness/border_interior_valid_and_constant_offsets.tq",
            "tests/cases/soundness/valid_reads_outside_everywhere.tq",
        ]
    );
}

/// The output-size diagnostics of a source: (code, is an error, message, hint).
fn sizes(src: &str) -> Vec<(&'static str, bool, String, String)> {
    let r = tq::lsp::document::quick_report("t.tq", src);
    r.diagnostics
        .iter()
        .filter(|d| matches!(d.code, "E0303" | "E0304"))
        .map(|d| {
            (
                d.code,
                d.is_error(),
                d.message.clone(),
                d.hint.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn the_output_size_example_of_the_language_page_is_checked() {
    let src = language_example("### Output sizes and the boundary rule");
    let r = check_source("example.tq", &src, &Options::default());
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let got: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
    assert_eq!(got, vec!["proved", "proved"]);
    assert!(!r.gradcheck.is_empty() && r.gradcheck.iter().all(|g| g.passed));
    // The undilated size along y reads outside: E0303, found by the search over the
    // sizes Y1 is computed from, and its hint names the size that fits.
    let wrong = src.replace("size Y1 = Y - 2 DY + 2", "size Y1 = Y - DY + 1");
    let d = sizes(&wrong);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0, d[0].1), ("E0303", true), "{d:?}");
    assert!(d[0].3.contains("size Y1 = Y - 2 DY + 2"), "{d:?}");
    // Without the floor's `+ 1` the output is one short: E0304, a warning.
    let short = src.replace("floor((X - DX)/2) + 1", "floor((X - DX)/2)");
    let d = sizes(&short);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0, d[0].1), ("E0304", false), "{d:?}");
    assert!(d[0].3.contains("size X1 = floor((X - DX)/2) + 1"), "{d:?}");
    // The same sizes under zero padding: X1 is below the `same` size ceil(X/2) = 5.
    let zero = src.replace("boundary valid", "boundary zero");
    let d = sizes(&zero);
    assert!(
        d.iter().any(|x| x.0 == "E0304" && x.2.contains("`same`")),
        "{d:?}"
    );
}

#[test]
fn output_sizes_are_checked_at_a_claims_givens() {
    let src = "size B, T, D, T1
index dt : D
boundary valid
input x[B, T] ~ normal(0, 1)
param W[D] ~ normal(0, 1/D)
y[b,t1] = W[DT] x[b, t1 + DT]
sample B = 2, T = 9, D = 3, T1 = 7
claim mults(y) == B T1 D
";
    assert!(sizes(src).is_empty());
    // T = 5 with T1 = 7 from the sample line: the reads reach 8, beyond 4.
    let d = sizes(&format!("{src}claim mults(y) == B T1 D given T = 5\n"));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1 && d[0].2.contains("givens of a claim"), "{d:?}");
    // ... and under the claim's own boundary rule: with zero padding the reads are
    // defined, but positions 5 and 6 read only padding (full = 5): a warning; at T = 6
    // (full = 6) still one, at T = 7 (same) none.
    let zero = |t: i64| {
        sizes(&format!(
            "{src}claim mults(y) == B T1 D given boundary zero, T = {t}\n"
        ))
    };
    let d = zero(5);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(!d[0].1 && d[0].2.contains("`full` size 5"), "{d:?}");
    assert_eq!(zero(6).len(), 1);
    assert!(zero(7).is_empty());
    // A symbol stride at its sample value: s = 2 reads up to 2 (T1 - 1) + 2 = 14 > 8.
    let strided = src
        .replace("size B, T, D, T1", "size B, T, D, T1\nsymbol s")
        .replace("t1 + DT", "s*t1 + DT")
        .replace("T1 = 7", "T1 = 7, s = 2");
    let d = sizes(&strided);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1 && d[0].3.contains("floor((T - DT)/s) + 1"), "{d:?}");
}

/// A small deterministic generator (an LCG: the test needs no randomness source).
struct Gen(u64);
impl Gen {
    fn next(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

/// The reads of output positions 0..y of `x[s y + d dx + c]`, dx in 0..D-1.
fn positions(s: i64, d: i64, c: i64, dd: i64, y: i64) -> Vec<Vec<i64>> {
    (0..y)
        .map(|u| (0..dd).map(|w| s * u + d * w + c).collect())
        .collect()
}

#[test]
fn generated_convolutions_get_the_size_the_rule_gives() {
    // Strides, dilations (negative ones are causal reads), offsets, window and input
    // sizes at random; what each boundary rule allows is computed here by listing every
    // read of every position, independently of the checker, and the checker must
    // agree: no diagnostic at the allowed sizes, E0303 (valid) or E0304 just outside.
    let mut g = Gen(18);
    let mut checked = 0;
    for _ in 0..300 {
        let s = 1 + g.next(3);
        let d = [1, 2, 3, -1, -2][g.next(5) as usize];
        let c = g.next(5) - 1;
        let dd = 1 + g.next(4);
        let x = 1 + g.next(16);
        let boundary = ["valid", "zero", "circular"][g.next(3) as usize];
        let inside = |v: &Vec<i64>| v.iter().all(|p| (0..x).contains(p));
        let some_inside = |v: &Vec<i64>| v.iter().any(|p| (0..x).contains(p));
        let same = (x + s - 1) / s;
        // The allowed sizes, from 1 to 40.
        let allowed: Vec<i64> = (1..=40)
            .filter(|&y| {
                let reads = positions(s, d, c, dd, y);
                match boundary {
                    "valid" => {
                        reads.iter().all(inside)
                            && !inside(&positions(s, d, c, dd, y + 1)[y as usize])
                    }
                    "zero" => y == same || (y > same && reads.iter().all(some_inside)),
                    _ => y == same,
                }
            })
            .collect();
        let read = format!(
            "{s}y + {}{} + {c}",
            if d < 0 { "-" } else { "" },
            match d.abs() {
                1 => "DX".to_string(),
                k => format!("{k}DX"),
            }
        )
        .replace("+ -", "- ")
        .replace("1y", "y");
        for y in 1..=40 {
            let src = format!(
                "size B, X, D, Y\nindex dx : D\nboundary {boundary}\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,y] = W[DX] x[b, {read}]\nsample B = 1, X = {x}, D = {dd}, Y = {y}\n"
            );
            let got = sizes(&src);
            let ok = allowed.contains(&y);
            assert_eq!(got.is_empty(), ok, "{src}allowed {allowed:?}: {got:?}");
            if let Some(first) = got.first() {
                let reads = positions(s, d, c, dd, y);
                let error = boundary == "valid" && !reads.iter().all(inside);
                assert_eq!(first.1, error, "{src}{got:?}");
                assert_eq!(first.0, if error { "E0303" } else { "E0304" });
            }
            checked += 1;
        }
        // Under valid with a positive fit, the declaration in the hint removes the
        // diagnostic at every size the search tries.
        if boundary == "valid" && allowed.len() == 1 && s > 0 {
            let src = format!(
                "size B, X, D, Y\nindex dx : D\nboundary {boundary}\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,y] = W[DX] x[b, {read}]\nsample B = 1, X = {x}, D = {dd}, Y = {}\n",
                allowed[0] + 1
            );
            let got = sizes(&src);
            let hint = &got[0].3;
            if let Some(at) = hint.find("declare `") {
                let decl = &hint[at + 9..];
                let decl = &decl[..decl.find('`').unwrap()];
                let fixed = src
                    .replace("size B, X, D, Y\n", "size B, X, D\n")
                    .replace("index dx : D\n", &format!("index dx : D\n{decl}\n"))
                    .replace(&format!(", Y = {}", allowed[0] + 1), "");
                let again = sizes(&fixed);
                assert!(again.is_empty(), "{fixed}{again:?}");
            }
        }
    }
    assert_eq!(checked, 300 * 40);
}

#[test]
fn output_sizes_with_extreme_coefficients_do_not_overflow() {
    // Coefficients are below 10^9 (the parser's limit) and sizes at most 1,000,000;
    // their products are decided exactly (within the value budget): the reads fall outside, E0303.
    for read in [
        "999999999y + 999999999DX",
        "-999999999y - 999999999DX + 999999999",
    ] {
        let src = format!(
            "size B, X, D, Y\nindex dx : D\nboundary valid\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,y] = W[DX] x[b, {read}]\nsample B = 1, X = 1000000, D = 1000, Y = 1000\n"
        );
        let d = sizes(&src);
        assert_eq!(d.len(), 1, "{read}: {d:?}");
        assert!(d[0].1, "{read}: {d:?}");
    }
}
