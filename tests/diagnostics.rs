//! Diagnostics at the level of issue #18, item 4: `=` in a claim (E0504, with the
//! corrected line), a bracket left open reported at its opening (E0006), "did you
//! mean" for names, keywords and functions, and one diagnostic for one cause.

mod common;

use tq::report::{check_source, Options};

/// (code, line, column, message, hint) of every diagnostic of `src`.
fn diags(src: &str) -> Vec<(String, usize, usize, String, String)> {
    let r = common::new_author::report(src);
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

// ---- did you mean ----

fn hint_of(src: &str, code: &str) -> String {
    let d = diags(src);
    d.iter()
        .find(|x| x.0 == code)
        .unwrap_or_else(|| panic!("{src}: no {code} in {d:?}"))
        .4
        .clone()
}

#[test]
fn an_unknown_first_word_is_named_with_the_statement_forms() {
    // `dim N = 2` is no tq (it is `size N` and `sample N = 2`): the message names the word,
    // not the `N` after it, and the hint lists the keywords.
    let d = diags("blah N = 2\n");
    let first = d.first().unwrap_or_else(|| panic!("no diagnostic"));
    assert_eq!(
        (first.0.as_str(), first.1, first.2),
        ("E0001", 1, 1),
        "{d:?}"
    );
    assert!(
        first.3.contains("`blah` is not a statement keyword"),
        "{d:?}"
    );
    assert!(first.4.contains("size, symbol"), "{d:?}");
    assert!(first.4.contains("name[indices] = ..."), "{d:?}");
}

#[test]
fn misspelled_keywords_get_did_you_mean() {
    let cases = [
        ("size B, I\nparm W[I] ~ normal(0, 1)\n", "param", (2, 1)),
        ("size B, I\ninptu x[B, I] ~ normal(0, 1)\n", "input", (2, 1)),
        (
            "size B\ninput x[B] ~ normal(0, 1)\nclam Var(x) == 1\n",
            "claim",
            (3, 1),
        ),
        ("size B\nsmaple B = 3\n", "sample", (2, 1)),
        ("szie B\n", "size", (1, 1)),
        ("size B\nsymbl s\n", "symbol", (2, 1)),
        ("size B\nindx b : B\n", "index", (2, 1)),
        // Words other notations use for the same statement.
        ("dim N\n", "size", (1, 1)),
        ("size I\nweight W[I] ~ normal(0, 1)\n", "param", (2, 1)),
        ("symbol a\nassert a == a\n", "claim", (2, 1)),
    ];
    for (src, kw, at) in cases {
        let d = diags(src);
        let first = d.first().unwrap_or_else(|| panic!("{src}: no diagnostic"));
        assert_eq!(first.0, "E0001", "{src}: {d:?}");
        assert_eq!((first.1, first.2), at, "{src}: at the word: {d:?}");
        assert!(
            first.4.contains(&format!("did you mean `{kw}`?")),
            "{src}: {}",
            first.4
        );
    }
    // A misspelled `given` inside a claim, at that word.
    for (src, at) in [
        ("symbol a, s\nclaim a == 2 givn s = 2\n", (2, 14)),
        ("symbol a, s\nclaim a <= 2 gvien s = 2, a = 1\n", (2, 14)),
    ] {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:?}");
        assert_eq!((d[0].1, d[0].2), at, "{src}: {d:?}");
        assert!(d[0].4.contains("did you mean `given`?"), "{src}: {d:?}");
    }
    // A word far from every keyword gets no suggestion.
    let h = hint_of("size B\nfrobnicate W[B] ~ normal(0, 1)\n", "E0001");
    assert!(!h.contains("did you mean"), "{h}");
}

#[test]
fn misspelled_names_get_did_you_mean_from_the_environment() {
    let cases = [
        // A tensor read with indices.
        (
            "size B\ninput a[B] ~ normal(0, 1)\ny[b] = 2 aa[b]\n",
            "E0101",
            "`a`",
        ),
        // A tensor named in a claim.
        (
            "size B\ninput x[B] ~ normal(0, 1)\ny[b] = 2 x[b]\nclaim Var(yy) == 4\n",
            "E0501",
            "`y`",
        ),
        // A symbol in a distribution.
        (
            "size I\nsymbol sigma\nparam W[I] ~ normal(0, sigam^2)\n",
            "E0101",
            "`sigma`",
        ),
        // A size on a `sample` line and in an `index` declaration.
        ("size B\nsample BB = 3\n", "E0101", "`B`"),
        ("size D\nindex dx : DD\n", "E0101", "`D`"),
        // A scalar in a scalar program.
        ("scalar alpha\nu = alpah^2\n", "E0101", "`alpha`"),
        // An index whose size is misspelled by one letter of a declared index.
        (
            "size B, D\nindex dx : D\ninput x[B, D] ~ normal(0, 1)\ny[b] = x[b, DY]\n",
            "E0201",
            "`DX`",
        ),
    ];
    for (src, code, want) in cases {
        let h = hint_of(src, code);
        assert!(h.contains(&format!("did you mean {want}?")), "{src}: {h}");
    }
    // Nothing close: no suggestion.
    let h = hint_of(
        "size B\ninput a[B] ~ normal(0, 1)\ny[b] = 2 qqq[b]\n",
        "E0101",
    );
    assert!(!h.contains("did you mean"), "{h}");
}

#[test]
fn misspelled_functions_get_did_you_mean_from_the_function_table() {
    for (bad, good) in [
        ("tahn", "tanh"),
        ("sigmod", "sigmoid"),
        ("rleu", "relu"),
        ("sofptlus", "softplus"),
        ("gleu", "gelu"),
    ] {
        let src = format!("size B\ninput x[B] ~ normal(0, 1)\ny[b] = {bad}(x[b])\n");
        let h = hint_of(&src, "E0103");
        assert!(h.contains(&format!("did you mean `{good}`?")), "{bad}: {h}");
    }
}

// ---- one diagnostic for one cause ----

#[test]
fn a_missing_size_is_reported_once_at_its_first_use() {
    // Issue #18: eight cascaded errors before (the declaration, every use of `j`, the
    // sum over `j`, the `sample` value of `J`).
    let src = "size B, I
param W[J, I] ~ normal(0, 1)
input x[B, I] ~ normal(0, 1)
h[b,j] = W[j,I] x[b,I]
y[b,j] = tanh(h[b,j])
z[b] = sum_{j}(y[b,j])
sample B = 4, I = 3, J = 2
";
    let d = diags(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].0, "E0201");
    assert_eq!((d[0].1, d[0].2), (2, 9), "at the first use");
    assert!(d[0].4.contains("size J"), "{}", d[0].4);
    assert!(d[0].4.contains("7 more times"), "{}", d[0].4);
    // Declared, the file is clean.
    assert!(codes(&src.replace("size B, I", "size B, I, J")).is_empty());
}

#[test]
fn the_first_use_in_the_file_is_the_one_reported() {
    // The equation comes before the declaration that reads the missing size: the
    // diagnostic is at the equation (line 3), not at the declaration the checker reads
    // first.
    let src = "size B
input x[B] ~ normal(0, 1)
for b,k: y[b,k] = x[b]
param W[K] ~ normal(0, 1)
z[b] = W[K] y[b,K]
";
    let d = diags(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].1, d[0].2), (3, 7), "{d:?}");
}

#[test]
fn each_missing_name_is_its_own_cause() {
    // Two missing sizes and an undeclared tensor used three times: three diagnostics.
    let src = "size B
input x[B] ~ normal(0, 1)
for b,j,k: h[b,j,k] = x[b] + q[b]
y[b] = sum_{j}(sum_{k}(h[b,j,k])) q[b]
z[b] = q[b] + y[b]
";
    let d = diags(src);
    let mut got: Vec<(String, usize, usize)> = d.iter().map(|x| (x.0.clone(), x.1, x.2)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("E0101".to_string(), 3, 30),
            ("E0201".to_string(), 3, 7),
            ("E0201".to_string(), 3, 9),
        ],
        "{d:#?}"
    );
}

#[test]
fn what_a_line_that_failed_to_parse_defines_is_not_reported_again() {
    let cases = [
        // An equation with an unclosed bracket: `h` is used twice below.
        "size B, J\ninput a[B, J] ~ normal(0, 1)\nh[b,j] = tanh(a[b,j]\ny[b] = h[b,J]\nclaim Var(h) == 1\n",
        // A declaration that does not parse.
        "size B\nparam W[B] ~ normal(0, 1\ny[b] = W[b]\nz[b] = 2 W[b]\n",
        // A `size` line that does not parse: its sizes are not reported missing.
        "size B, J +\ninput x[B, J] ~ normal(0, 1)\nsample B = 2, J = 3\n",
        // A misspelled keyword: what it declares is not reported missing.
        "size B, I\nparm W[I] ~ normal(0, 1)\ninput x[B, I] ~ normal(0, 1)\ny[b] = W[I] x[b,I]\n",
        // `=` in a claim, then a family whose loop header does not parse.
        "size J, L\ninput h_0[J] ~ normal(0, 1)\nfor l in 0..L-1 +:\n  h_{l+1}[j] = tanh(h_l[j])\ny[j] = h_L[j]\n",
    ];
    for src in cases {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:#?}");
        assert!(
            ["E0001", "E0006"].contains(&d[0].0.as_str()),
            "{src}: {d:?}"
        );
    }
}

// ---- the mistakes a new author makes (tests/new_author/) ----

/// Every file under tests/new_author/ gets the one diagnostic its header states
/// (tests/common/new_author.rs reads them), located, with a hint that says what the
/// header's `# hint:` line says. One mistake, one located diagnostic with a hint: no
/// cascade, no diagnostic elsewhere.
#[test]
fn each_new_author_mistake_gets_one_located_diagnostic_with_a_hint() {
    let files = common::new_author::mistakes();
    assert!(files.len() >= 20, "too few files under tests/new_author/");
    let mut failures = Vec::new();
    for m in &files {
        let name = &m.name;
        let d = diags(&m.src);
        match d.as_slice() {
            [(c, l, col, msg, hint)] => {
                if *c != m.code || *l != m.line || m.column.is_some_and(|want| want != *col) {
                    failures.push(format!(
                        "{name}: got {c} at {l}:{col} ({msg}), want {} at {}",
                        m.code,
                        m.place()
                    ));
                } else if hint.trim().is_empty() {
                    failures.push(format!("{name}: {c} has no hint"));
                } else if let Some(want) = &m.hint {
                    if !hint.contains(want.as_str()) {
                        failures.push(format!("{name}: hint {hint:?} does not say {want:?}"));
                    }
                }
            }
            _ => failures.push(format!(
                "{name}: want one diagnostic ({} at line {}), got {d:?}",
                m.code, m.line
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- columns are characters (issue #15, item 5) ----

/// A line with `σ` (two bytes, one UTF-16 unit) and `𝒩` (four bytes, two UTF-16 units)
/// before the error: the text report's header, its `at` line and the JSON count
/// characters, the language server UTF-16 code units.
#[test]
fn columns_count_characters_after_greek_and_astral_letters() {
    use std::str::FromStr;
    let src = "scalar σ\n# 𝒩 σ\nclaim σ + 𝒩 + σ == 2\n";
    // The error is at `𝒩` on line 3: `claim σ + ` is 10 characters (11 bytes).
    let d = diags(src);
    assert_eq!(d.len(), 1, "{d:?}");
    let (code, line, col, _, _) = &d[0];
    assert_eq!((code.as_str(), *line, *col), ("E0001", 3, 11), "{d:?}");

    let r = check_source("t.tq", src, &Options::default());
    let text = tq::diag::render_plain("t.tq", src, &r.diagnostics);
    assert!(text.contains("[t.tq:3:11]"), "the drawn header: {text}");
    assert!(text.contains("at t.tq:3:11"), "the at line: {text}");
    let json = r.diagnostics[0].to_json(src);
    assert_eq!(json["line"], 3, "{json}");
    assert_eq!(json["column"], 11, "{json}");

    // The language server: 0-based line 2, UTF-16 character 10 (σ is one unit).
    let uri = lsp_types::Uri::from_str("file:///t.tq").unwrap();
    let doc = tq::lsp::document::Document::new(uri, 1, src.to_string());
    let published = tq::lsp::diagnostics::publish(&doc);
    let e = published
        .diagnostics
        .iter()
        .find(|d| d.code == Some(lsp_types::NumberOrString::String("E0001".into())))
        .expect("the E0001 diagnostic is published");
    assert_eq!((e.range.start.line, e.range.start.character), (2, 10));
    // And after the astral letter: `σ` past `𝒩` is two units further than characters.
    let src2 = "scalar σ\nclaim 𝒩 + q == 2\n";
    let doc = tq::lsp::document::Document::new(
        lsp_types::Uri::from_str("file:///u.tq").unwrap(),
        1,
        src2.to_string(),
    );
    let r2 = check_source("u.tq", src2, &Options::default());
    let text2 = tq::diag::render_plain("u.tq", src2, &r2.diagnostics);
    assert!(text2.contains("[u.tq:2:7]"), "{text2}");
    let published = tq::lsp::diagnostics::publish(&doc);
    assert!(
        published
            .diagnostics
            .iter()
            .any(|d| (d.range.start.line, d.range.start.character) == (1, 6)),
        "{published:?}"
    );
}

// ---- one check per mechanism, sharper locations (issue #18 leftovers) ----

/// Reads along a loop variable are one analysis: a read outside whatever the sizes is
/// E0301 (E0303 under `valid`) and nothing else; a read outside only at the sample values
/// is E0211; each read is reported once, by one of the two.
#[test]
fn a_loop_read_is_reported_once_by_the_one_loop_analysis() {
    // Outside in every model: E0301 alone (no E0211 on the same read).
    let src = "size B, T\ninput x[B, T] ~ normal(0, 1)\ninput h[B, 0] ~ normal(0, 1)\nfor t in 1..T:\n  h[b,t] = h[b,t-1] + x[b,t]\nsample B = 2, T = 4\n";
    let d = diags(src);
    let at: Vec<(&str, usize, usize)> = d.iter().map(|x| (x.0.as_str(), x.1, x.2)).collect();
    assert_eq!(at, [("E0301", 5, 27)], "{d:?}");
    // Under `valid`: E0303 alone.
    let valid = src.replace("size B, T\n", "size B, T\nboundary valid\n");
    let codes_valid = codes(&valid);
    assert_eq!(codes_valid, ["E0303"], "{valid}");
    // Outside only at the sample values (the reach depends on the sizes): E0211.
    let src = "size B, T, L\ninput x[B, T] ~ normal(0, 1)\ninput h[B, 0] ~ normal(0, 1)\nfor t in 1..L:\n  h[b,t] = h[b,t-1] + x[b,t]\nsample B = 2, T = 4, L = 4\n";
    let d = diags(src);
    let at: Vec<(&str, usize)> = d.iter().map(|x| (x.0.as_str(), x.1)).collect();
    assert_eq!(at, [("E0211", 5)], "{d:?}");
    // The same file at sample values where the loop stays inside: nothing.
    assert!(codes(&src.replace("L = 4", "L = 3")).is_empty());
}

/// E0105 points at the read, with the definition it reads ahead of as a label.
#[test]
fn read_before_computed_points_at_the_read() {
    let src = "size B\ninput x[B] ~ normal(0, 1)\ny[b] = z[b] + x[b]\nz[b] = 2 x[b]\n";
    let r = tq::report::check_source(
        "t.tq",
        src,
        &Options {
            no_monte_carlo: true,
            ..Options::default()
        },
    );
    let d: Vec<_> = r.diagnostics.iter().filter(|d| d.code == "E0105").collect();
    assert_eq!(d.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(d[0].line_col(src), (3, 8), "at the read `z[b]`");
    let related: Vec<usize> = d[0]
        .related
        .iter()
        .flat_map(|r| r.iter())
        .map(|(s, _)| tq::syntax::span::line_col(src, s.start as usize).0)
        .collect();
    assert_eq!(related, [4], "the definition is the secondary label");
}

/// A `boundary` line that no read needs is E0305 (a warning at the line); any position
/// that can leave its dimension counts as a use and silences it.
#[test]
fn an_unused_boundary_line_is_a_warning_and_a_used_one_is_not() {
    let unused = "size B, X\nboundary zero\ninput x[B, X] ~ normal(0, 1)\nparam W[X] ~ normal(0, 1)\ny[b,x] = W[x] x[b,x]\n";
    let d = diags(unused);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("E0305", 2));
    assert!(d[0].4.contains("remove the line"), "{}", d[0].4);
    for used in [
        // a shifted read
        "size B, X, D\nindex dx : D\nboundary zero\ninput x[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1)\ny[b,x] = W[DX] x[b,x+DX]\n",
        // a read along a loop variable
        "size B, T\nboundary zero\ninput x[B, T] ~ normal(0, 1)\ninput h[B, 0] ~ normal(0, 1)\nfor t in 1..T-1:\n  h[b,t] = h[b,t-1] + x[b,t-1]\n",
        // a fixed position
        "size B, X\nboundary zero\ninput x[B, X] ~ normal(0, 1)\ny[b] = x[b,0]\n",
    ] {
        assert!(
            !codes(used).contains(&"E0305".to_string()),
            "{used}: {:?}",
            diags(used)
        );
    }
}

/// A size that a Monte Carlo claim needs and no `sample` line gives is E0414 (a warning
/// at the size's declaration, naming the size and the line to add).
#[test]
fn a_size_without_a_sample_value_for_monte_carlo_is_named() {
    let src = "size B, J\nsymbol sigma\ninput x[B, J] ~ normal(0, sigma^2)\nparam W[J, J] ~ normal(0, 1/J)\ny[b,j] = W[j,J'] x[b,J']\nclaim Var(y) == sigma^2\nsample B = 4, sigma = 1\n";
    let d = diags(src);
    assert_eq!(d.len(), 1, "{d:?}");
    let (code, line, col, msg, hint) = &d[0];
    assert_eq!((code.as_str(), *line, *col), ("E0414", 1, 9));
    assert!(msg.contains("`J`"), "{msg}");
    assert!(hint.contains("J = 4"), "{hint}");
    // Given on the sample line, or by the claim itself: nothing.
    assert!(codes(&src.replace("B = 4,", "B = 4, J = 3,")).is_empty());
    assert!(codes(&src.replace("== sigma^2", "== sigma^2 given J = 3")).is_empty());
    // Without a claim about a moment, the size needs no value.
    assert!(codes(&src.replace("claim Var(y) == sigma^2\n", "")).is_empty());
    // A file without any `sample` line asks for no numeric run: not told.
    let none = src.replace("sample B = 4, sigma = 1\n", "");
    assert!(
        !codes(&none).contains(&"E0414".to_string()),
        "{:?}",
        diags(&none)
    );
}

/// Output sizes with a centred window (`x+DX-1`), a shifted output position (`h[b,x+1]`)
/// and a centred output index are checked against the boundary rule: a wrong size is an
/// error or warning at the read or axis, a right one is accepted.
#[test]
fn output_sizes_of_centred_and_shifted_outputs() {
    let conv = |boundary: &str, size: &str, lhs: &str, read: &str, index: &str| {
        format!("size B, X, D\nindex dx : D\n{index}{size}boundary {boundary}\ninput a[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1/D)\nh[b,{lhs}] = W[DX] a[b, {read}]\nsample B = 2, X = 8, D = 3\n")
    };
    // The centred window under zero padding, output over X: the `same` size, accepted.
    assert!(codes(&conv("zero", "", "x", "x + DX - 1", "")).is_empty());
    // Under `valid` over the input's own extent: a warning that counts the 6 interior
    // positions that read only inside (it said 0: only positions from 0 were counted).
    let d = diags(&conv("valid", "", "x", "x + DX - 1", ""));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "E0304");
    assert!(d[0].3.contains("6 of the 8 positions"), "{}", d[0].3);
    // Under `valid` with the output tied to the input (H = X - DX + 1): written at the
    // shifted position `h+1` and read at `h+DX`, accepted...
    let ok = conv("valid", "size H = X - DX + 1\n", "h+1", "h + DX", "");
    assert!(codes(&ok).is_empty(), "{:?}", diags(&ok));
    // ... with a size one too large, an error at the read (a shifted output position was
    // not checked before).
    let big = conv("valid", "size H = X - DX + 2\n", "h+1", "h + DX", "");
    let d = diags(&big);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("E0303", 7));
    assert!(d[0].4.contains("size H = X - DX + 1"), "{}", d[0].4);
    // The centred window read from output position 0 under `valid`: no position fits, and
    // the hint says how to shift.
    let d = diags(&conv(
        "valid",
        "size H = X - DX + 1\n",
        "h",
        "h + DX - 1",
        "",
    ));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "E0303");
    assert!(d[0].4.contains("write the output at `h+1`"), "{}", d[0].4);
    // A centred output index (positions -(H-1)/2..(H-1)/2) reading a[x + 3] under
    // `valid`: H = 7 fits X = 8 (reads 0..6 + window), H = 9 does not.
    let centred = |h: u32| {
        format!("size B, X, D, H\nindex dx : D\nindex h : H centered\nboundary valid\ninput a[B, X] ~ normal(0, 1)\nparam W[D] ~ normal(0, 1/D)\ny[b,h] = W[DX] a[b, h + DX + 2]\nsample B = 2, X = 9, D = 3, H = {h}\n")
    };
    // H = 6: h in -2..3 reads -2+0+2 = 0 .. 3+2+2 = 7, inside X = 9; H = 7 (h in -3..3)
    // reads -1: 6 is the largest that fits.
    assert!(codes(&centred(6)).is_empty(), "{:?}", diags(&centred(6)));
    let d = diags(&centred(7));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("E0303", 7));
    assert!(d[0].3.contains("centred"), "{}", d[0].3);
    let d = diags(&centred(5));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "E0304", "a smaller centred output is the warning");
}

// ---- a lone carriage return ends a line (issue #15) ----

/// Classic Mac line ends (a lone `\r`), alone and mixed with `\n` and `\r\n`: the
/// diagnostic's line and column, the header miette draws above the snippet, the `at`
/// line, the JSON and the language server agree (the lone `\r` was a space to tq and a
/// line break to miette: the header said 2:1 where the `at` line said 1:8).
#[test]
fn a_lone_carriage_return_ends_a_line_for_every_reader() {
    use std::str::FromStr;
    for src in [
        "scalar a\rb = 2 a\rclaim b == 2 q\r",
        "scalar a\r\nb = 2 a\n\rclaim b == 2 q\r",
        "scalar a # a comment\rb = 2 a\rclaim b == 2 q\n",
    ] {
        let d = diags(src);
        let want_line = if src.contains("\n\r") { 4 } else { 3 };
        assert_eq!(d.len(), 1, "{src:?}: {d:?}");
        let (code, line, col, _, _) = &d[0];
        assert_eq!(
            (code.as_str(), *line, *col),
            ("E0501", want_line, 14),
            "{src:?}: {d:?}"
        );
        let r = check_source("t.tq", src, &Options::default());
        let header = format!("t.tq:{want_line}:14");
        let text = tq::diag::render_plain("t.tq", src, &r.diagnostics);
        assert!(
            text.contains(&format!("[{header}]")),
            "the drawn header: {text}"
        );
        assert!(
            text.contains(&format!("at {header}")),
            "the at line: {text}"
        );
        let json = r.diagnostics[0].to_json(src);
        assert_eq!(
            (json["line"].clone(), json["column"].clone()),
            (want_line.into(), 14.into())
        );
        let doc = tq::lsp::document::Document::new(
            lsp_types::Uri::from_str("file:///t.tq").unwrap(),
            1,
            src.to_string(),
        );
        let published = tq::lsp::diagnostics::publish(&doc);
        let e = &published.diagnostics[0];
        assert_eq!(
            (e.range.start.line as usize, e.range.start.character),
            (want_line - 1, 13),
            "{src:?}"
        );
    }
}

// ---- control characters (probe31/b e05, e21) ----

/// A NUL or another control character in code is named by its code point, as the
/// invisible characters are, with a hint to delete it (it was read as a token and shown
/// as `U+0000[I]`, "after the end of the statement"); in a comment it is not an error.
#[test]
fn a_control_character_in_code_is_named_by_its_code_point() {
    for (src, col) in [
        (
            "size B, I\ninput x[B, I] ~ normal(0, 1)\ny[b] = x\0[b,I]\n",
            9,
        ),
        ("symbol s\ny\u{1b}z = s\n", 2),
    ] {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src:?}: {d:?}");
        let (code, _, c, msg, hint) = &d[0];
        assert_eq!((code.as_str(), *c), ("E0001", col), "{d:?}");
        assert!(
            msg.contains("U+00") && msg.contains("a control character"),
            "{msg}"
        );
        assert!(!msg.contains('\0') && !msg.contains("U+0000["), "{msg}");
        assert!(hint.contains("delete it"), "{hint}");
    }
    assert!(codes("size B # a \0 here\ninput x[B] ~ normal(0, 1)\n").is_empty());
}

// ---- a name directly followed by `(` is a call (session 39, probe38 a10) ----

/// A generator over spellings of a function call tq does not know (underscores, digits,
/// subscripts in braces, superscript labels; activations tq spells with its own
/// functions and names it has no notion of) in four places (an element statement, a
/// scaled call of a sum, a scalar program, a claim): each gets one E0103 at the name,
/// whose hint never proposes to declare the name (which made `leaky_relu(x[b])` a
/// constant times `x[b]`). A hint that spells the function with tq's functions,
/// applied (the call replaced by the formula, the slope declared), gives a file tq
/// accepts; otherwise the hint lists the known functions and names the product only
/// for a declared name, where writing the space gives a file tq accepts.
#[test]
fn every_call_spelling_gets_one_unknown_function_with_a_hint_that_applies() {
    let names = [
        "leaky_relu",
        "Leaky_ReLU",
        "silu_2",
        "swish_1",
        "mish_a",
        "relu_6",
        "log_2",
        "sinh_1",
        "elu_1",
        "softsign_0",
        "foo_bar",
        "act_2",
        "g_{l}",
        "h_{in}",
        "W^{in}",
        "f^{act}_1",
        "lrelu",
        "swish",
    ];
    // (source, the call as written, its argument, line, column of the name)
    let places = |n: &str| {
        vec![
            (
                format!("size B\ninput x[B] ~ normal(0, 1)\ny[b] = {n}(x[b])\nsample B = 2\n"),
                format!("{n}(x[b])"),
                3,
                8,
            ),
            (
                format!(
                    "size B\ninput x[B] ~ normal(0, 1)\ny[b] = 2 {n}(x[b] + 1)\nsample B = 2\n"
                ),
                format!("{n}(x[b] + 1)"),
                3,
                10,
            ),
            (
                format!("scalar a\nu = {n}(a)\nat a = 1\n"),
                format!("{n}(a)"),
                2,
                5,
            ),
            (
                format!("scalar a\nu = a^2\nat a = 1\nclaim u >= {n}(a)\n"),
                format!("{n}(a)"),
                4,
                12,
            ),
        ]
    };
    let mut failures = Vec::new();
    let mut spelled = 0;
    for n in names {
        for (src, call, line, col) in places(n) {
            let d = diags(&src);
            let [(code, l, c, msg, hint)] = d.as_slice() else {
                failures.push(format!("{src:?}: want one E0103, got {d:?}"));
                continue;
            };
            if code != "E0103" || (*l, *c) != (line, col) {
                failures.push(format!(
                    "{src:?}: {code} at {l}:{c} ({msg}), want E0103 at {line}:{col}"
                ));
                continue;
            }
            if hint.contains("declare it") || hint.contains("for a product") {
                failures.push(format!("{src:?}: the hint leads to another model: {hint}"));
                continue;
            }
            let Some(formula) = hint
                .split_once("functions it has: `")
                .and_then(|(_, r)| r.split('`').next())
            else {
                if !hint.contains("functions:") {
                    failures.push(format!("{src:?}: the hint lists no functions: {hint}"));
                }
                continue;
            };
            spelled += 1;
            let mut fixed = src.replace(&call, &format!("({formula})"));
            if hint.contains("`symbol alpha`") {
                fixed = format!("symbol alpha\n{fixed}");
                if fixed.contains("sample ") {
                    fixed = fixed.replace("sample B = 2", "sample B = 2, alpha = 0.1");
                }
            }
            let errors = common::new_author::errors(&fixed);
            if !errors.is_empty() {
                failures.push(format!("{fixed:?}: the hint applied gives {errors:?}"));
            }
        }
        // Declared as a symbol, the name directly followed by `(` is still a call; the
        // hint names the product, and the space gives the product tq accepts (a name
        // tq spells as a function gets that spelling instead).
        let src = format!("scalar a\nsymbol {n}\nu = {n}(a + 1)\nat a = 1\nclaim u == {n} (a + 1)\nsample {n} = 2\n");
        let d = diags(&src);
        match d.as_slice() {
            [(code, 3, 5, _, hint)] if code == "E0103" && !hint.contains("declare it") => {
                if hint.contains("for a product") {
                    let fixed = src.replace(&format!("{n}(a + 1)"), &format!("{n} (a + 1)"));
                    let errors = common::new_author::errors(&fixed);
                    if !errors.is_empty() {
                        failures.push(format!("{fixed:?}: the product gives {errors:?}"));
                    }
                } else if !hint.contains("tq has no") {
                    failures.push(format!("{src:?}: no product and no spelling: {hint}"));
                }
            }
            _ => failures.push(format!("{src:?}: want one E0103 at 3:5, got {d:?}")),
        }
    }
    // A name with primes only, not a built-in function's, called in a statement
    // (`g'(a)`): the same E0103, never "declare it". Not yet after a factor
    // (`2 g'(x[b] + 1)`, read as (2 g') (x[b] + 1): open, /work/reports/front39.md).
    for n in ["g'", "act''", "h2'"] {
        for (src, _, line, col) in [0, 2].map(|k| places(n).swap_remove(k)) {
            let d = diags(&src);
            match d.as_slice() {
                [(code, l, c, _, hint)]
                    if code == "E0103"
                        && (*l, *c) == (line, col)
                        && !hint.contains("declare it") => {}
                _ => failures.push(format!(
                    "{src:?}: want one E0103 at {line}:{col}, got {d:?}"
                )),
            }
        }
    }
    assert!(spelled >= 30, "only {spelled} spelled hints");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- a claim over several lines is shown on one (probe38 k15) ----

/// A claim continued on an indented line, with or without a comment on its first
/// line, is shown on one line in the text report and the JSON `source`: printed raw,
/// the continuation stood at column 2 and the comment as trailing spaces.
#[test]
fn a_claim_over_several_lines_is_shown_on_one() {
    for (src, want) in [
        ("scalar a\nu = a^2\nat a = 2\nclaim u ==\n  4\n", "u == 4"),
        ("scalar a\nu = a^2\nat a = 2\nclaim u ==  # c\n  4\n", "u == 4"),
        (
            "scalar a\nu = a^2\nat a = 2\nclaim u ==   # first\n    2 a   # second\n    given a > 0\n",
            "u == 2 a given a > 0",
        ),
    ] {
        let r = check_source("t.tq", src, &Options::default());
        assert_eq!(r.claims.len(), 1, "{src:?}");
        let shown = &r.claims[0].source;
        assert!(shown.starts_with(want), "{src:?}: shown {shown:?}");
        assert!(!shown.contains('\n') && !shown.contains("  "), "{shown:?}");
        let text = tq::report::text_report(&r, &Options::default(), None);
        assert!(
            text.lines().any(|l| l.contains("line   4") && l.trim_end().ends_with(shown.as_str())),
            "{text}"
        );
    }
}
