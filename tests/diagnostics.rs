//! Diagnostics at the level of issue #18, item 4: `=` in a claim (E0504, with the
//! corrected line), a bracket left open reported at its opening (E0006), "did you
//! mean" for names, keywords and functions, and one diagnostic for one cause.

use tq::report::{check_source, Options};

/// (code, line, column, message, hint) of every diagnostic of `src`.
fn diags(src: &str) -> Vec<(String, usize, usize, String, String)> {
    let opts = Options {
        no_monte_carlo: true,
        ..Options::default()
    };
    let r = check_source("t.tq", src, &opts);
    r.diagnostics
        .iter()
        .map(|d| {
            let (l, c) = d.line_col(src);
            (
                d.code.to_string(),
                l,
                c,
                d.message.clone(),
                d.hint.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn codes(src: &str) -> Vec<String> {
    diags(src).into_iter().map(|d| d.0).collect()
}

// ---- `=` in a claim ----

#[test]
fn single_equals_in_a_claim_is_an_error_with_the_corrected_line() {
    let src = "size I\nsymbol sigma\ninput a[I] ~ normal(0, sigma^2)\nclaim Var(a) = I sigma^2\n";
    let d = diags(src);
    assert_eq!(d.len(), 1, "{d:?}");
    let (code, line, col, _, hint) = &d[0];
    assert_eq!(code, "E0504");
    assert_eq!((*line, *col), (4, 14), "at the `=`");
    assert!(
        hint.contains("`claim Var(a) == I sigma^2`"),
        "the hint shows the corrected line: {hint}"
    );
    // The corrected line is accepted.
    let fixed = src.replace("Var(a) = I", "Var(a) == I");
    assert!(codes(&fixed).is_empty());
}

#[test]
fn single_equals_in_claims_of_other_shapes() {
    // With a given and an `at`, on an element, in a scalar program: always E0504 at the `=`.
    let cases = [
        (
            "symbol a, s\nsize B\ninput x[B] ~ moments(0, s)\nclaim Var(x) = 2 given s = 2\n",
            (4, 14),
            "`claim Var(x) == 2 given s = 2`",
        ),
        (
            "scalar a\nu = a^2\nclaim u = 4 at a = 2\n",
            (3, 9),
            "`claim u == 4 at a = 2`",
        ),
        (
            "size B\ninput x[B] ~ normal(0, 1)\ny[b] = 2 x[b]\nclaim y[b] = 2 x[b]\n",
            (4, 12),
            "`claim y[b] == 2 x[b]`",
        ),
    ];
    for (src, at, fixed) in cases {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:?}");
        assert_eq!(d[0].0, "E0504", "{src}");
        assert_eq!((d[0].1, d[0].2), at, "{src}");
        assert!(d[0].4.contains(fixed), "{src}: {}", d[0].4);
    }
    // `=` inside a given still sets a value; `==`, `<=`, `~=` are relations.
    for ok in [
        "symbol a, s\nsize B\ninput x[B] ~ moments(0, s)\nclaim Var(x) == 2 given s = 2\n",
        "symbol s\nsize B\ninput x[B] ~ moments(0, s)\nclaim Var(x) <= s\n",
        "symbol s\nsize B\ninput x[B] ~ moments(0, s)\nclaim Var(x) ~= s tol 0.1\n",
    ] {
        assert!(!codes(ok).contains(&"E0504".to_string()), "{ok}");
    }
}

// ---- unclosed delimiters ----

#[test]
fn an_unclosed_parenthesis_is_reported_at_its_opening() {
    let src = "size B, J\ninput a[B, J] ~ normal(0, 1)\nh[b,j] = tanh(a[b,j]\ny[b] = sum_{j}(h[b,j])\nsample B = 4, J = 3\n";
    let d = diags(src);
    let first = &d[0];
    assert_eq!(first.0, "E0006", "{d:?}");
    assert_eq!((first.1, first.2), (3, 14), "at the `(` of `tanh(`: {d:?}");
    assert!(first.3.contains("`(`"), "names the bracket: {}", first.3);
    // The next line is read as its own statement: no error at its `=`.
    assert!(
        !d.iter().any(|x| x.0 == "E0001"),
        "no syntax error at an unrelated token: {d:?}"
    );
    let opts = Options::default();
    let r = check_source("t.tq", src, &opts);
    let related = r.diagnostics[0]
        .related
        .as_ref()
        .expect("a secondary label");
    let (span, label) = &related[0];
    // Expected to close at the end of the line `h[b,j] = tanh(a[b,j]`.
    let end_of_line = src.find("a[b,j]\n").unwrap() + "a[b,j]".len();
    assert_eq!(span.start as usize, end_of_line, "{label}");
    assert!(label.contains("`)`"), "{label}");
}

#[test]
fn unclosed_and_mismatched_brackets_of_each_kind() {
    // An open `[`, an open `{`, a `(` closed by `]`, and an open bracket inside a block.
    let cases = [
        ("size B\ninput x[B ~ normal(0, 1)\ny[b] = x[b]\n", (2, 8), "`[`"),
        ("size L\nvary L in {2, 4\nsymbol s\n", (2, 11), "`{`"),
        (
            "size B, J\ninput a[B, J] ~ normal(0, 1)\nh[b,j] = tanh(a[b,j]]\n",
            (3, 14),
            "`]` closes `(`",
        ),
        (
            "size J, L\ninput h_0[J] ~ normal(0, 1)\nfor l in 0..L-1:\n  h_{l+1}[j] = tanh((h_l[j])\n  g_l[j] = h_l[j]\nsample J = 2, L = 3\n",
            (4, 20),
            "`(`",
        ),
    ];
    for (src, at, what) in cases {
        let d = diags(src);
        assert!(!d.is_empty(), "{src}");
        assert_eq!(d[0].0, "E0006", "{src}: {d:?}");
        assert_eq!((d[0].1, d[0].2), at, "{src}: {d:?}");
        assert!(d[0].3.contains(what), "{src}: {}", d[0].3);
        assert!(!d.iter().any(|x| x.0 == "E0001"), "{src}: {d:?}");
    }
    // A bracket closed on a more indented line, or on a line that starts with it, is
    // one statement, as before.
    for ok in [
        "size B\ninput x[B] ~ normal(0, 1)\ny[b] = tanh(x[b]\n         + 1)\n",
        "size B\ninput x[B] ~ normal(0, 1)\ny[b] = tanh(x[b] +\n    1\n)\n",
    ] {
        let d = diags(ok);
        assert!(d.is_empty(), "{ok}: {d:?}");
    }
}
