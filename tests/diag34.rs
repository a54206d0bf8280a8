//! Session 34, diag34 (issues #17, #18): every `expect error` line checked, a claim's own
//! `at` checked against the domains, one rule for numbers with exponents out of range,
//! dotted declared names, a claim's second `tol` or `at`, long whole numbers in a
//! variant's heading, and a block statement written after its header's `:` kept as the
//! block's statement.

use tq::report::{check_source, FileReport, Options};

fn quick() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

fn check(src: &str) -> FileReport {
    check_source("t.tq", src, &quick())
}

/// (code, line, column) of every error.
fn errors(src: &str) -> Vec<(String, usize, usize)> {
    let r = check(src);
    r.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let (l, c) = d.line_col(src);
            (d.code.to_string(), l, c)
        })
        .collect()
}

fn at(code: &str, line: usize, column: usize) -> (String, usize, usize) {
    (code.to_string(), line, column)
}

// ---- every `expect error` line ----

#[test]
fn each_expect_error_line_that_is_not_reported_is_e0503_at_its_line() {
    // Neither code is reported: one E0503 each (the second line was dropped).
    let src = "scalar a\nexpect error E0202\nexpect error E0101\nx = a^2\n";
    assert_eq!(
        errors(src),
        vec![at("E0503", 2, 1), at("E0503", 3, 1)],
        "{src}"
    );
    // The first is reported, the second is not: the file fails on the second alone.
    let src = "scalar a\nexpect error E0101\nexpect error E0202\nx = zz\n";
    let r = check(src);
    let e0503: Vec<usize> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == "E0503")
        .map(|d| d.line_col(src).0)
        .collect();
    assert_eq!(e0503, vec![3], "{:?}", r.diagnostics);
    assert!(r.unexpected_errors() > 0);
    assert_eq!(
        r.expected_error,
        Some(("E0101, E0202".to_string(), false)),
        "{:?}",
        r.expected_error
    );
    // Three lines, each reported (E0102 twice-declared, E0101 undeclared, E0504 `=` in a
    // claim): the file passes.
    let src = "scalar a\nscalar a\nexpect error E0102\nexpect error E0101\nexpect error E0504\nx = zz\nclaim a = 1\n";
    let r = check(src);
    assert_eq!(r.unexpected_errors(), 0, "{:?}", r.diagnostics);
    assert_eq!(
        r.expected_error,
        Some(("E0102, E0101, E0504".to_string(), true))
    );
    // One line, as before.
    let r = check("expect error E0202\nsize I\n");
    assert_eq!(r.expected_error, Some(("E0202".to_string(), false)));
}

// ---- a claim's own `at` against the domains ----

#[test]
fn a_claims_own_at_outside_a_domain_is_e0106_at_the_value() {
    for (src, line, column) in [
        // A standard deviation written squared: s > 0.
        (
            "size B\nsymbol s\ninput z[B] ~ normal(0, s^2)\ny[b] = 3 z[b]\nclaim Var(y) == 9 s^2 at B = 4, s = 0\nsample B = 4, s = 1\n",
            5,
            37,
        ),
        // A probability: 0 < p <= 1.
        (
            "size B\nsymbol p\ninput m[B] ~ bernoulli(p)\ny[b] = m[b] / p\nclaim E(y) == 1 at B = 3, p = 3/2\nsample B = 3, p = 1/2\n",
            5,
            31,
        ),
        // A variance: v >= 0, inside a rule-free loop-free model, in a given-free claim.
        (
            "size B\nsymbol v\ninput x[B] ~ normal(0, v)\ny[b] = 2 x[b]\nclaim Var(y) == 4 v at v = -1\nsample B = 2, v = 1\n",
            5,
            28,
        ),
    ] {
        assert_eq!(errors(src), vec![at("E0106", line, column)], "{src}");
        // Inside the domain the claim is decided.
        let ok = src
            .replace("s = 0\n", "s = 1/2\n")
            .replace("p = 3/2\n", "p = 1/2\n")
            .replace("v = -1\n", "v = 2\n");
        assert!(errors(&ok).is_empty(), "{ok}: {:?}", errors(&ok));
        assert!(
            check(&ok)
                .claims
                .iter()
                .all(|c| c.verdict.as_str() == "proved"),
            "{ok}"
        );
    }
}

// ---- numbers with exponents out of range ----

#[test]
fn a_number_with_an_exponent_past_400_is_e0904_wherever_it_is_written() {
    let model = "scalar a\nu = a^3 + a\n";
    for (tail, line, column) in [
        ("at a = 1e99999999\nclaim u == 2\n", 3, 8),
        ("at a = 1\nclaim u == 2 + 1e-401\n", 4, 16),
        ("claim u == 2 at a = 2.5e+401\n", 3, 21),
        ("at a = 1\nclaim u ~= 2 tol 1e-500\n", 4, 18),
        ("at a = 1\nclaim u >= 0 given a <= 1e401\n", 4, 25),
        ("v = 1e401 u\nat a = 1\nclaim u == 2\n", 3, 5),
        ("at a = 1\nclaim u == 2\nvary a in {1, 1E9999}\n", 5, 15),
    ] {
        let src = format!("{model}{tail}");
        assert_eq!(errors(&src), vec![at("E0904", line, column)], "{src}");
    }
    // At the ends of the range the numbers are read (exactly) as before: a tolerance
    // past 1e300 is E0901 (its own range), not E0904.
    assert!(errors(&format!("{model}at a = 1e400\nclaim u >= 1e400\n")).is_empty());
    assert!(errors(&format!("{model}at a = 1e-400\nclaim u >= 0\n")).is_empty());
    assert_eq!(
        errors(&format!("{model}at a = 1\nclaim u ~= 2 tol 1e400\n")),
        vec![at("E0901", 4, 18)]
    );
}

// ---- dotted declared names ----

#[test]
fn a_declared_name_with_a_dot_is_e0108_once() {
    for (src, line, column, hint) in [
        (
            "size N\nindex i : N\nsymbol np.tanh\ninput a[N] ~ normal(0, 1)\nh[i] = np.tanh(a[i])\nsample N = 3\n",
            3,
            8,
            "`tanh(...)`",
        ),
        ("scalar torch.exp\nx = torch.exp\n", 1, 8, "`exp(...)`"),
        ("scalar model.lr\nx = 2 model.lr\n", 1, 8, "`model_lr`"),
        ("size B, net.width\n", 1, 9, "`net_width`"),
    ] {
        assert_eq!(errors(src), vec![at("E0108", line, column)], "{src}");
        let r = check(src);
        let d = r.diagnostics.iter().find(|d| d.code == "E0108").unwrap();
        assert!(d.hint.as_deref().unwrap_or("").contains(hint), "{:?}", d.hint);
    }
    // A rule's sequence read from outside is still a dotted name that works.
    let src = "symbol eta\nrule S over t:\n  theta[t+1] = theta[t] - eta g[t]\nclaim S.theta[1] == S.theta[0] - eta g[0]\n";
    assert!(errors(src).is_empty(), "{:?}", errors(src));
}

// ---- a claim's second `tol` or `at`; a unary plus ----

#[test]
fn a_second_tol_or_at_in_one_claim_is_an_error_at_the_second() {
    for (src, column, words) in [
        (
            "scalar a\nat a = 2\nclaim a^2 ~= 4 tol 1e-3 tol 1e-2\n",
            25,
            "one tolerance",
        ),
        (
            "scalar a, b\nat a = 2\nclaim a b == 2 at a = 1 at b = 2\n",
            25,
            "separated by commas",
        ),
        (
            "scalar a, b\nclaim a b == 2 at a = 1 given b > 0 at b = 2\n",
            37,
            "separated by commas",
        ),
    ] {
        let r = check(src);
        let e: Vec<_> = r.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(e.len(), 1, "{src}: {e:?}");
        let line = src.lines().count();
        assert_eq!(e[0].line_col(src), (line, column), "{src}: {e:?}");
        assert!(
            e[0].hint.as_deref().unwrap_or("").contains(words),
            "{:?}",
            e[0].hint
        );
    }
    // A given list may come twice: its relations add up.
    let src = "scalar a, b\nx = a b\nclaim x == 2 given a = 1 given b = 2\n";
    assert!(errors(src).is_empty(), "{:?}", errors(src));
}

#[test]
fn a_value_written_with_a_plus_sign_gets_the_value_in_the_hint() {
    for (src, value) in [
        ("scalar a\nx = a^2\nclaim x == +4 at a = 2\n", "`4`"),
        ("scalar a\nx = a^2\nclaim x >= +1/2 at a = 2\n", "`1/2`"),
        ("scalar a\nx = 3 * +a\n", "`a`"),
    ] {
        let r = check(src);
        let e: Vec<_> = r.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(e.len(), 1, "{src}: {e:?}");
        let hint = e[0].hint.as_deref().unwrap_or("");
        assert!(
            hint.contains("no unary `+`") && hint.contains(value),
            "{hint}"
        );
    }
}

// ---- a block's statement after the header's `:` ----

/// The statement written after `rule S over t:` or `for l in ...:` is reported once,
/// and kept as the block's statement: the claims that read what it defines get nothing
/// more (the rule's `g` was E0501, "not defined in this file").
#[test]
fn a_statement_after_a_blocks_colon_is_reported_once() {
    for (src, line, column) in [
        (
            "symbol eta\nrule S over t: theta[t+1] = theta[t] - eta g[t]\nclaim S.theta[2] == S.theta[0] - eta (g[0] + g[1])\n",
            2,
            16,
        ),
        (
            "symbol beta\nrule M over t: v[t+1] = beta v[t] + g[t]\nclaim M.v[1] == beta M.v[0] + g[0]\n",
            2,
            16,
        ),
        (
            "size L\ninput h_0 ~ normal(0, 1)\nfor l in 1..L-1: h_l = 2 h_{l-1}\nclaim Var(h_2) == 16\nsample L = 3\n",
            3,
            18,
        ),
    ] {
        assert_eq!(errors(src), vec![at("E0001", line, column)], "{src}");
    }
}

// ---- a variant's heading ----

/// A `vary` value that is a whole number past 40 digits is typeset by its leading digits
/// and power of ten in the variant's heading (b18: 302 and 309 digits, 1,794 pt past the
/// page), in LaTeX and Markdown.
#[test]
fn a_long_whole_number_in_a_variants_heading_is_short() {
    use tq::variants::{plan, prepare, Variant};
    let src = "size N\nsymbol s\ninput x[N] ~ normal(0, s^2)\ny[n] = 2 x[n]\nclaim Var(y) == 4 s^2\nsample N = 4, s = 1\nvary s in {2^1000, 10^308, 3^100, 7}\n";
    let opts = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    let base = check_source("v.tq", src, &opts);
    assert_eq!(base.unexpected_errors(), 0, "{:?}", base.diagnostics);
    let p = plan(&base.program, 4, 0).unwrap();
    let vs: Vec<Variant> = p
        .chosen
        .iter()
        .map(|vals| {
            let prepared = prepare(&base.program, &base.env, &p.names, vals);
            let report = check_source("variant.tq", &prepared.source, &opts);
            Variant::new(prepared, report)
        })
        .collect();
    let longest_run = |text: &str| {
        text.split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0)
    };
    for (name, page) in [
        ("latex", tq::variants::latex("v.tq", &p, 0, &vs)),
        ("markdown", tq::variants::markdown("v.tq", &p, 0, &vs)),
    ] {
        let headings: Vec<&str> = page.lines().filter(|l| l.contains("Variant ")).collect();
        assert_eq!(headings.len(), 4, "{name}: {headings:?}");
        // Up to 200 bits (about 60 digits) the exact printer writes an integer out, as
        // everywhere a reader sees one (sym::print, SHOWN_BITS); past that, its leading
        // digits and its power of ten.
        for h in &headings {
            assert!(longest_run(h) <= 61, "{name}: {h}");
        }
        // 2^1000 = 1.0715...×10^301 and 10^308 short; 3^100 (48 digits) and 7 written out.
        let all = headings.join("\n");
        for part in [
            "10^{301}",
            "10^{308}",
            "s = 515377520732011331036461129765621272702107522001",
            "s = 7",
        ] {
            assert!(all.contains(part), "{name}: {part} in {all}");
        }
    }
}

// ---- an inequality's answer in a variant ----

/// The answer of an inequality relates both sides' values at the variant (the left side
/// of `claim x > a`, a value the scalar program computes, was left as `x`).
#[test]
fn an_inequalitys_answer_relates_both_values() {
    use tq::variants::{plan, prepare};
    let src = "scalar a, b\nx = a^2 + b\nat a = 2, b = 1\nclaim x > a\nclaim x >= 2 a b given b = 1\nclaim a < x - 1\nvary a in {3}, b in {1}\n";
    let opts = quick();
    let base = check_source("v.tq", src, &opts);
    assert_eq!(base.unexpected_errors(), 0, "{:?}", base.diagnostics);
    let p = plan(&base.program, 1, 0).unwrap();
    let prepared = prepare(&base.program, &base.env, &p.names, &p.chosen[0]);
    // a = 3, b = 1: x = 10; 2 a b = 6; x - 1 = 9.
    let answers: Vec<String> = prepared
        .answers
        .iter()
        .map(|a| a.clone().unwrap_or_default())
        .collect();
    assert_eq!(answers, vec!["10 > 3", "10 \\ge 6", "3 < 9"], "{answers:?}");
}

// ---- a gradient check at a kink ----

/// A sampled point on a kink (`abs(a)` at a = 0, relu of a zero bias): the failed check
/// says the derivative was not checked there, not "relative error inf".
#[test]
fn a_gradient_check_on_a_kink_says_it_could_not_check() {
    for src in [
        "scalar a\nx = abs(a) + 1\nat a = 0\nclaim x >= 1\n",
        "scalar a, w\nx = relu(a) w + w^2\nat a = 0, w = 2\nclaim x == 4\n",
        "size I\ninput x[I] ~ normal(0, 1)\nparam b[I] = 0\nh[i] = abs(b[i]) + x[i] b[i] + x[i]^2\nLoss = h[I]\nsample I = 3\n",
    ] {
        let r = check(src);
        let text = tq::report::text_report(&r, &quick(), None);
        assert!(
            text.contains("not checked: every direction drawn (9) crosses a kink"),
            "{text}"
        );
        assert!(!text.contains("relative error inf"), "{text}");
    }
}
