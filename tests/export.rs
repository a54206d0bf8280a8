//! `tq export`: PrairieLearn question directories (info.json valid against PrairieLearn's
//! published schema, server.py run with the platform's calling convention) and Moodle XML
//! (well-formed by xmllint and by a structural check here). A test that needs python3 or
//! xmllint skips with a note when it is missing, and fails when `CI=true`.

mod common;

use common::root;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use tq::export::{Kind, Question};
use tq::report::{check_source, Options};

/// A missing tool: a failure under CI, a note otherwise. Returns whether to go on.
fn tool_available(program: &str, probe: &[&str]) -> bool {
    common::tool_available(program, probe, "install it (.ci/run does)")
}

/// The question of one problem file, made as `tq export` makes it.
fn question(file: &str, count: usize) -> Question {
    let path = format!("problems/{file}.tq");
    let src = std::fs::read_to_string(root().join(&path)).unwrap();
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    question_of(&path, &src, &fast, count).expect("the file has answers")
}

/// The question of a source: the file checked with `opts`, `count` variants planned
/// (seed 0) and each checked with the default options.
fn question_of(path: &str, src: &str, opts: &Options, count: usize) -> Result<Question, String> {
    let base = check_source(path, src, opts);
    let (names, prepared) = tq::export::plan_file(&base, count, 0).expect("the file has variants");
    let variants: Vec<tq::variants::Variant> = prepared
        .into_iter()
        .map(|p| {
            let report = check_source(path, &p.source, &Options::default());
            tq::variants::Variant::new(p, report)
        })
        .collect();
    tq::export::question(path, &base, &names, &variants, 0)
}

/// problems/resnet.tq with 2 variants (seed 0), made once for the tests that need it:
/// every variant runs resnet's Monte Carlo claims.
fn resnet() -> &'static Question {
    static Q: std::sync::OnceLock<Question> = std::sync::OnceLock::new();
    Q.get_or_init(|| question("resnet", 2))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tq-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_question(q: &Question, dir: &Path) {
    for (rel, text) in tq::export::prairielearn::files(q) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// A validator for the JSON-schema keywords PrairieLearn's infoQuestion schema uses.

fn schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/prairielearn/infoQuestion.schema.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The subset of regular expressions the schema's patterns use: `^`, `$`, groups
/// without alternation, character classes with ranges, literals, `{n}`. Anything else
/// fails the test rather than passing unchecked.
fn pattern_matches(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    assert!(
        p.first() == Some(&'^') && p.last() == Some(&'$'),
        "unsupported pattern {pattern}"
    );
    let mut atoms: Vec<(Vec<(char, char)>, usize)> = Vec::new();
    let mut i = 1;
    while i < p.len() - 1 {
        match p[i] {
            '(' | ')' => i += 1,
            '[' => {
                let mut class = Vec::new();
                i += 1;
                while p[i] != ']' {
                    if p[i + 1] == '-' && p[i + 2] != ']' {
                        class.push((p[i], p[i + 2]));
                        i += 3;
                    } else {
                        class.push((p[i], p[i]));
                        i += 1;
                    }
                }
                i += 1;
                atoms.push((class, 1));
            }
            '{' => {
                let end = i + p[i..].iter().position(|&c| c == '}').unwrap();
                let n: usize = p[i + 1..end].iter().collect::<String>().parse().unwrap();
                atoms.last_mut().unwrap().1 = n;
                i = end + 1;
            }
            c if c.is_ascii_alphanumeric() || c == '-' => {
                atoms.push((vec![(c, c)], 1));
                i += 1;
            }
            c => panic!("unsupported pattern syntax `{c}` in {pattern}"),
        }
    }
    let mut chars = s.chars();
    for (class, n) in atoms {
        for _ in 0..n {
            match chars.next() {
                Some(c) if class.iter().any(|&(a, b)| a <= c && c <= b) => {}
                _ => return false,
            }
        }
    }
    chars.next().is_none()
}

fn validate(v: &Value, s: &Value, root: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(obj) = s.as_object() else {
        return;
    };
    for (k, kv) in obj {
        match k.as_str() {
            "$schema" | "default" | "definitions" | "deprecated" | "description" | "title" => {}
            "$ref" => {
                let r = kv.as_str().unwrap();
                let name = r.strip_prefix("#/definitions/").expect("a local reference");
                validate(v, &root["definitions"][name], root, at, errors);
            }
            "type" => {
                let ok = match kv.as_str().unwrap() {
                    "object" => v.is_object(),
                    "array" => v.is_array(),
                    "string" => v.is_string(),
                    "boolean" => v.is_boolean(),
                    "integer" => v.is_i64() || v.is_u64(),
                    "number" => v.is_number(),
                    "null" => v.is_null(),
                    t => panic!("unknown type {t}"),
                };
                if !ok {
                    errors.push(format!("{at}: not of type {kv}"));
                }
            }
            "enum" => {
                if !kv.as_array().unwrap().contains(v) {
                    errors.push(format!("{at}: {v} not in {kv}"));
                }
            }
            "pattern" => {
                if let Some(t) = v.as_str() {
                    if !pattern_matches(kv.as_str().unwrap(), t) {
                        errors.push(format!("{at}: {t:?} does not match {kv}"));
                    }
                }
            }
            "format" => match kv.as_str().unwrap() {
                "uuid" => {
                    if let Some(t) = v.as_str() {
                        let p = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
                        if !pattern_matches(p, t) {
                            errors.push(format!("{at}: {t:?} is not a uuid"));
                        }
                    }
                }
                f => panic!("unknown format {f}"),
            },
            "minLength" | "maxLength" => {
                if let Some(t) = v.as_str() {
                    let n = t.chars().count() as u64;
                    let b = kv.as_u64().unwrap();
                    if (k == "minLength" && n < b) || (k == "maxLength" && n > b) {
                        errors.push(format!("{at}: length {n} violates {k} {b}"));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let Some(x) = v.as_f64() {
                    let b = kv.as_f64().unwrap();
                    if (k == "minimum" && x < b) || (k == "maximum" && x > b) {
                        errors.push(format!("{at}: {x} violates {k} {b}"));
                    }
                }
            }
            "maxItems" => {
                if let Some(a) = v.as_array() {
                    if a.len() as u64 > kv.as_u64().unwrap() {
                        errors.push(format!("{at}: too many items"));
                    }
                }
            }
            "items" => {
                if let Some(a) = v.as_array() {
                    for (i, x) in a.iter().enumerate() {
                        validate(x, kv, root, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for r in kv.as_array().unwrap() {
                        if !o.contains_key(r.as_str().unwrap()) {
                            errors.push(format!("{at}: missing required {r}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(o) = v.as_object() {
                    for (name, sub) in kv.as_object().unwrap() {
                        if let Some(x) = o.get(name) {
                            validate(x, sub, root, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = v.as_object() {
                    let declared = obj.get("properties").and_then(Value::as_object);
                    for (name, x) in o {
                        if declared.is_some_and(|d| d.contains_key(name)) {
                            continue;
                        }
                        match kv {
                            Value::Bool(false) => {
                                errors.push(format!("{at}: property {name} is not allowed"))
                            }
                            Value::Bool(true) => {}
                            sub => validate(x, sub, root, &format!("{at}.{name}"), errors),
                        }
                    }
                }
            }
            "propertyNames" => {
                if let Some(o) = v.as_object() {
                    for name in o.keys() {
                        validate(&json!(name), kv, root, &format!("{at} key {name}"), errors);
                    }
                }
            }
            "allOf" | "anyOf" => {
                let results: Vec<Vec<String>> = kv
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|sub| {
                        let mut e = Vec::new();
                        validate(v, sub, root, at, &mut e);
                        e
                    })
                    .collect();
                if k == "allOf" {
                    errors.extend(results.into_iter().flatten());
                } else if results.iter().all(|e| !e.is_empty()) {
                    errors.push(format!("{at}: matches none of anyOf"));
                }
            }
            other => panic!("the schema uses `{other}`, which this validator does not check"),
        }
    }
}

fn schema_errors(v: &Value) -> Vec<String> {
    let s = schema();
    let mut errors = Vec::new();
    validate(v, &s, &s, "info.json", &mut errors);
    errors
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let good = json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "title": "t", "topic": "x", "type": "v3", "tags": ["a"]});
    assert!(
        schema_errors(&good).is_empty(),
        "{:?}",
        schema_errors(&good)
    );
    let bad = [
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5", "title": "t", "topic": "x", "type": "v3"}),
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "topic": "x", "type": "v3"}),
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "title": "t", "topic": "x", "type": "v4"}),
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "title": "t", "topic": "x", "type": "v3", "tags": "a"}),
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "title": "t", "topic": "x", "type": "v3", "color": "red"}),
        json!({"uuid": "886313e1-3b8a-5372-9b90-0c9aee199e5d", "title": "t", "topic": "x", "type": "v3", "singleVariant": "yes"}),
    ];
    for b in bad {
        assert!(!schema_errors(&b).is_empty(), "{b} passed");
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn info_json_is_valid_and_its_uuid_stable() {
    for file in ["comp_graph", "dropout", "deep_linear"] {
        let q = question(file, 1);
        let info: Value = serde_json::from_str(&tq::export::prairielearn::info_json(&q)).unwrap();
        let errors = schema_errors(&info);
        assert!(errors.is_empty(), "{file}: {errors:?}");
        assert_eq!(info["type"], "v3");
        assert_eq!(info["singleVariant"], true, "{file} varies nothing");
        // Derived from the question's name: the same on every export, different per file.
        assert_eq!(info["uuid"], tq::export::question_uuid(file));
        assert_eq!(info["uuid"], question(file, 1).uuid);
    }
    assert_ne!(
        tq::export::question_uuid("resnet"),
        tq::export::question_uuid("comp_graph")
    );
}

#[test]
fn comp_graph_asks_for_the_values_tq_proved() {
    let q = question("comp_graph", 1);
    assert_eq!(q.variants.len(), 1);
    let value = |label: &str| {
        let k = q
            .answers
            .iter()
            .position(|a| a.label == label)
            .unwrap_or_else(|| panic!("no answer {label}"));
        match &q.variants[0].answers[k] {
            tq::export::Value::Number { value, .. } => *value,
            v => panic!("{v:?}"),
        }
    };
    // Forward values and adjoints at a = 2, b = 1 (seed-problems.md).
    assert_eq!(value("u"), 2.0 / 3.0);
    assert_eq!(value("x"), 4.0);
    assert_eq!(value("{x}.\\mathrm{grad}"), 1.0 / 18.0);
    assert!(q.answers.iter().all(|a| matches!(
        a.kind,
        Kind::Number { rtol, .. } if rtol == tq::export::EXACT_RTOL
    )));
}

/// A claim the file marks `expect refuted` is never asked; a `~=` claim keeps its tolerance.
#[test]
fn only_vetted_claims_are_asked() {
    let src = "scalar a\nu = a^2\nat a = 3\nclaim u == 9\nexpect refuted\nclaim u == 10\nclaim u ~= 9.0001 tol 0.001\n";
    let q = question_of("t.tq", src, &Options::default(), 1).unwrap();
    let claims: Vec<usize> = q.answers.iter().map(|a| a.claim).collect();
    assert_eq!(claims, vec![1, 3], "the refuted claim 2 is left out");
    assert_eq!(
        q.answers[1].kind,
        Kind::Number {
            rtol: 0.0,
            atol: 0.001
        },
        "a `~=` claim is graded with its own tolerance"
    );
    // A given that fixes a symbol of the answer by an equation (not `name == value`):
    // the variants engine would evaluate the answer at the `at` value, so it is not asked.
    let src = "scalar a, c\nu = a^2 c\nat a = 3, c = 1\nclaim u == 9 c\nclaim u == 9 c given c^2 == 4, c > 0\n";
    let q = question_of("t.tq", src, &Options::default(), 1).unwrap();
    let claims: Vec<usize> = q.answers.iter().map(|a| a.claim).collect();
    assert_eq!(claims, vec![1], "{:?}", q.notes);
    assert!(
        q.notes
            .iter()
            .any(|n| n.contains("claim 2 not asked: its givens fix `c`")),
        "{:?}",
        q.notes
    );
    // A file whose only claim is refuted gives no question.
    let src = "scalar a\nu = a^2\nat a = 3\nexpect refuted\nclaim u == 10\n";
    let err = question_of("t.tq", src, &Options::default(), 1)
        .err()
        .expect("no question");
    assert!(err.contains("none of its 1 claims"), "{err}");
}

/// A relation between moments (`Var(y_k) == M sigma^2 Var(y_{k-1})`) is asked as the
/// ratio of its left side to the right side's moment, with the factor's exact value at
/// the sample values; a relation with two moments on the right (`Var(x_k) + E(x_k)^2`)
/// is not.
#[test]
fn relations_between_moments_are_asked_as_ratios() {
    let q = question("deep_linear", 1);
    let asked = |claim: usize| q.answers.iter().position(|a| a.claim == claim);
    let src = std::fs::read_to_string(root().join("problems/deep_linear.tq")).unwrap();
    let claims: Vec<&str> = src.lines().filter(|l| l.starts_with("claim ")).collect();
    let line = |text: &str| 1 + claims.iter().position(|l| l.starts_with(text)).unwrap();
    let k = asked(line("claim Var(y_k) == M sigma^2 Var(y_{k-1})"))
        .unwrap_or_else(|| panic!("the relation is asked: {:?}", q.notes));
    let a = &q.answers[k];
    assert!(
        a.label.starts_with("\\frac{") && a.label.contains("y_{k-1}"),
        "asked as a ratio to Var(y_{{k-1}}): {}",
        a.label
    );
    // M sigma^2 at the file's sample values, exactly.
    let (m, sigma) = sample_of(&src);
    match &q.variants[0].answers[k] {
        tq::export::Value::Number { value, .. } => {
            assert!(
                (value - m * sigma * sigma).abs() < 1e-12,
                "{value} vs {}",
                m * sigma * sigma
            )
        }
        v => panic!("{v:?}"),
    }
    let half = asked(line(
        "claim Var(y^{relu}_k) == 1/2 M sigma^2 Var(y^{relu}_{k-1})",
    ))
    .expect("the relu relation is asked");
    match &q.variants[0].answers[half] {
        tq::export::Value::Number { value, .. } => {
            assert!((value - m * sigma * sigma / 2.0).abs() < 1e-12, "{value}")
        }
        v => panic!("{v:?}"),
    }
    assert!(
        asked(line(
            "claim Var(y^{relu}_k) == M sigma^2 (Var(x_k) + E(x_k)^2)"
        ))
        .is_none(),
        "two moments on the right: not one factor"
    );
}

/// A relation between moments written the other way round (`c M1 == M2`) is asked as
/// the ratio M2/M1, and one whose factor is a power in the family index (`(J s^2)^l`) as
/// a formula in that index: both were left out (the second silently).
#[test]
fn relations_between_moments_in_other_forms_are_asked() {
    let src = "size B, J, L
symbol s
param W_l[J, J] ~ normal(0, s^2) for l in 1..L
input h_0[B, J] ~ normal(0, 1)
for l in 0..L-1:
  h_{l+1}[b, j] = W_{l+1}[j, J] h_l[b, J]
sample B = 2, J = 3, L = 3, s = 0.5
claim J s^2 Var(h_l) == Var(h_{l+1})
claim Var(h_l) == (J s^2)^l Var(h_0)
";
    let q = question_of("moments.tq", src, &Options::default(), 1).expect("the file has answers");
    let asked = |claim: usize| {
        q.answers
            .iter()
            .position(|a| a.claim == claim)
            .unwrap_or_else(|| panic!("claim {claim} is asked: {:?}", q.notes))
    };
    let k = asked(1);
    let a = &q.answers[k];
    assert!(
        a.label.starts_with("\\frac{") && a.label.contains("h_{l+1}") && a.label.contains("h_{l}"),
        "asked as Var(h_{{l+1}}) / Var(h_l): {}",
        a.label
    );
    match &q.variants[0].answers[k] {
        tq::export::Value::Number { value, .. } => {
            assert!((value - 3.0 * 0.25).abs() < 1e-12, "{value}")
        }
        v => panic!("{v:?}"),
    }
    let k = asked(2);
    assert_eq!(
        q.answers[k].kind,
        Kind::Symbolic {
            variables: vec!["l".to_string()]
        }
    );
    match &q.variants[0].answers[k] {
        tq::export::Value::Formula { expr, .. } => {
            // (3/4)^l, in whatever spelling: its value at l = 2 is 9/16.
            let f = tq::sym::parse_ascii(&expr.replace("**", "^")).expect("the formula parses");
            let at = std::collections::BTreeMap::from([("l".to_string(), 2.0)]);
            let v = f.eval_f64(&at).expect("the formula evaluates");
            assert!((v - 9.0 / 16.0).abs() < 1e-12, "{expr} at l = 2: {v}");
        }
        v => panic!("{v:?}"),
    }
}

/// A recurrence with an added term (`s Var(h_l) + sb`) is no factor times a moment: it
/// is not asked as the ratio `Var(h_{l+1}) / (s Var(h_l) + sb)`, whose answer is 1 in
/// every variant (the question showed its own answer: a probe's finding, session 29).
/// The pure factor claim beside it still is.
#[test]
fn a_sum_beside_a_moment_is_not_asked_as_a_ratio() {
    let src = "size B, J, L
symbol s, sb
param W_l[J, J] ~ normal(0, s/J) for l in 1..L
param c_l[J] ~ normal(0, sb) for l in 1..L
input h_0[B, J] ~ normal(0, 1)
for l in 0..L-1:
  h_{l+1}[b, j] = W_{l+1}[j, J] h_l[b, J] + c_{l+1}[j]
sample B = 2, J = 3, L = 3, s = 2, sb = 1
claim Var(h_{l+1}) == s Var(h_l) + sb
claim Var(h_1) == s Var(h_0) + sb
";
    let q = question_of("bias.tq", src, &Options::default(), 1);
    let asked: Vec<usize> = q
        .as_ref()
        .map(|q| q.answers.iter().map(|a| a.claim).collect())
        .unwrap_or_default();
    let notes = q.as_ref().map(|q| q.notes.clone());
    assert!(!asked.contains(&1), "claim 1 asked as a ratio: {notes:?}");
    assert!(!asked.contains(&2), "claim 2 asked as a ratio: {notes:?}");
}

/// The `sample` values of `M` and `sigma` in a file.
fn sample_of(src: &str) -> (f64, f64) {
    let line = src
        .lines()
        .find(|l| l.starts_with("sample "))
        .expect("a sample line");
    let value = |name: &str| -> f64 {
        line["sample ".len()..]
            .split(',')
            .map(|b| b.trim())
            .find_map(|b| b.strip_prefix(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("{name} in {line}"))
            .parse()
            .unwrap()
    };
    (value("M"), value("sigma"))
}

fn run_server_check(q: &Question, expect: Value) -> Value {
    let dir = temp_dir(&q.qid);
    write_question(q, &dir);
    let expect_path = dir.join("expect.json");
    std::fs::write(&expect_path, expect.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(root().join("tests/data/prairielearn/check_server.py"))
        .arg(dir.join(&q.qid))
        .arg(&expect_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        q.qid,
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn server_py_generates_checked_variants() {
    if !tool_available("python3", &["--version"]) {
        return;
    }
    // resnet: variants over L, J and sigma_W (D = 3 fixed); the answers recomputed here
    // from the variant's params, independently of tq.
    let q = resnet();
    assert_eq!(q.variants.len(), 2, "{:?}", q.notes);
    let symbolic = |label: &str| {
        q.answers
            .iter()
            .find(|a| a.label == label)
            .unwrap_or_else(|| {
                let labels: Vec<&str> = q.answers.iter().map(|a| a.label.as_str()).collect();
                panic!("no answer {label} among {labels:?}; notes {:?}", q.notes)
            })
            .name
            .clone()
    };
    let solve = q
        .answers
        .iter()
        .find(|a| a.label.starts_with("\\operatorname{solve}") && a.label.contains("^{2}"))
        .unwrap()
        .name
        .clone();
    let expect = json!({
        "constants": {"D": 3.0},
        "answers": {
            symbolic("\\operatorname{Var}\\left(L_{l}\\right)"): "(1 + D**2*J*sigma_W**2)**l",
            symbolic("\\operatorname{Var}\\left({L_{l}}.\\mathrm{grad}\\right)"): "(1 + D**2*J*sigma_W**2)**(L - l)",
            solve: "(2**(1/L) - 1)/(D**2*J)",
        }
    });
    let seen = run_server_check(q, expect);
    assert!(
        seen["variants_seen"].as_u64().unwrap() >= 2,
        "generate() picks among the variants: {seen}"
    );
    // comp_graph: one variant, the values of seed-problems.md.
    let q = question("comp_graph", 1);
    let name = |label: &str| {
        q.answers
            .iter()
            .find(|a| a.label == label)
            .unwrap()
            .name
            .clone()
    };
    let expect = json!({"answers": {name("u"): "2/3", name("{a}.\\mathrm{grad}"): "2/9", name("{b}.\\mathrm{grad}"): "-2/9"}});
    run_server_check(&q, expect);
}

// ---------------------------------------------------------------------------------------
// Moodle XML.

/// A structural check of the XML: tags balance, CDATA sections and comments close, and
/// every numerical question has a name, a question text and one answer worth 100% with a
/// number and a non-negative tolerance. Returns the numerical questions' (answer,
/// tolerance).
fn moodle_structure(xml: &str) -> Vec<(f64, f64)> {
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>"));
    let mut stack: Vec<String> = Vec::new();
    let mut rest = &xml[xml.find("?>").unwrap() + 2..];
    let mut found = Vec::new();
    let mut current: Option<(Option<f64>, Option<f64>, usize)> = None;
    let mut last_text = String::new();
    while let Some(k) = rest.find('<') {
        last_text.push_str(&rest[..k]);
        rest = &rest[k..];
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").expect("CDATA closes");
            rest = &r[end + 3..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").expect("comment closes");
            assert!(!r[..end].contains("--"), "`--` inside a comment");
            rest = &r[end + 3..];
            continue;
        }
        let end = rest.find('>').expect("tag closes");
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("a closing tag has an opening one");
            assert_eq!(open, name, "tags nest");
            let text = std::mem::take(&mut last_text);
            if let Some(cur) = current.as_mut() {
                match (name, stack.last().map(String::as_str)) {
                    ("text", Some("answer")) => cur.0 = Some(text.trim().parse().unwrap()),
                    ("tolerance", _) => cur.1 = Some(text.trim().parse().unwrap()),
                    ("question", _) => {
                        let (a, t, answers) = current.take().unwrap();
                        assert_eq!(answers, 1, "one answer per numerical question");
                        let t = t.expect("a tolerance");
                        assert!(t >= 0.0);
                        found.push((a.expect("an answer"), t));
                    }
                    _ => {}
                }
            }
            continue;
        }
        last_text.clear();
        let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
        if name == "question" && tag.contains("type=\"numerical\"") {
            current = Some((None, None, 0));
        }
        if name == "answer" {
            assert!(tag.contains("fraction=\"100\""));
            if let Some(c) = current.as_mut() {
                c.2 += 1;
            }
        }
        if !tag.ends_with('/') {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed tags {stack:?}");
    found
}

#[test]
fn moodle_quiz_is_well_formed() {
    let comp_graph = question("comp_graph", 1);
    let questions = [&comp_graph, resnet()];
    let xml = tq::export::moodle::quiz(&questions);
    let found = moodle_structure(&xml);
    assert_eq!(found.len(), tq::export::moodle::count(&questions));
    // comp_graph's 19 answers, and resnet's numeric answers in each of its 2 variants.
    let resnet_numbers = resnet()
        .answers
        .iter()
        .filter(|a| matches!(a.kind, Kind::Number { .. }))
        .count();
    assert!(resnet_numbers > 0);
    assert_eq!(found.len(), 19 + 2 * resnet_numbers);
    assert!(found.contains(&(1.0 / 18.0, 1e-8 + 1e-3 * (1.0 / 18.0))));
    assert!(xml.contains("<text>$course$/top/tq/comp_graph</text>"));
    assert!(xml.contains("<text>$course$/top/tq/resnet</text>"));
    // The structural check itself fails on broken XML.
    let broken = xml.replacen("</answer>", "", 1);
    assert!(std::panic::catch_unwind(|| moodle_structure(&broken)).is_err());
    if tool_available("xmllint", &["--version"]) {
        let dir = temp_dir("moodle");
        let path = dir.join("quiz.xml");
        std::fs::write(&path, &xml).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------------------------------------------
// The command line.

#[test]
fn cli_exports_files_with_answers_and_skips_the_others() {
    let dir = temp_dir("cli");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_tq"))
            .current_dir(root())
            .args(["export", "--to", "prairielearn"])
            .arg(dir.join("out"))
            .args(["problems/dropout.tq", "problems/gru.tq"])
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("exported problems/dropout.tq"), "{stdout}");
    assert!(
        stdout.contains("skipped problems/gru.tq: none of its 2 claims states a value"),
        "{stdout}"
    );
    let info = std::fs::read_to_string(dir.join("out/dropout/info.json")).unwrap();
    assert!(dir.join("out/dropout/server.py").exists());
    assert!(dir.join("out/dropout/question.html").exists());
    assert!(!dir.join("out/gru").exists());
    // Exported again: the same files, the same uuid.
    assert!(run().status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("out/dropout/info.json")).unwrap(),
        info
    );
    // Moodle: one file.
    let out = Command::new(env!("CARGO_BIN_EXE_tq"))
        .current_dir(root())
        .args(["export", "--to", "moodle"])
        .arg(dir.join("quiz.xml"))
        .arg("problems/dropout.tq")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let xml = std::fs::read_to_string(dir.join("quiz.xml")).unwrap();
    assert_eq!(moodle_structure(&xml).len(), 4);
    // Nothing to export: status 1.
    let out = Command::new(env!("CARGO_BIN_EXE_tq"))
        .current_dir(root())
        .args(["export", "--to", "moodle"])
        .arg(dir.join("none.xml"))
        .arg("problems/gru.tq")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// probe31/b A: OUT forgotten (`tq export --to moodle v.tq w.tq`) overwrote the problem
/// file v.tq with w.tq's quiz, status 0; an OUT that is a `.tq` file or one of the
/// inputs is refused (status 2) before any work, and the files are left as they were.
#[test]
fn an_output_that_is_a_problem_file_is_refused() {
    let dir = temp_dir("clobber");
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/problems/comp_graph.tq"
    ))
    .unwrap();
    let (v, w) = (dir.join("v.tq"), dir.join("w.tq"));
    std::fs::write(&v, &src).unwrap();
    std::fs::write(&w, &src).unwrap();
    for (to, args) in [
        ("moodle", vec![&v, &w]),
        ("moodle", vec![&v, &v]),
        ("prairielearn", vec![&v, &w]),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tq"))
            .args(["export", "--to", to])
            .args(&args)
            .env("TQ_NO_CACHE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to} {args:?}: {err}");
        assert!(err.contains("v.tq") && err.contains("overwrite"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&v).unwrap(),
            src,
            "v.tq was changed"
        );
        assert_eq!(
            std::fs::read_to_string(&w).unwrap(),
            src,
            "w.tq was changed"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An answer that is a number in one variant and a formula in another (`s^l` is 1 at
/// s = 1 and `2^l` at s = 2) is asked as a formula in every variant, the number written
/// as the formula it is (issue #17, session 33: the claim was skipped, "a number in one
/// variant and a formula in another"). Three shapes: a power of a symbol, a power of a
/// sum, and a product with a number.
#[test]
fn an_answer_that_is_a_number_in_one_variant_and_a_formula_in_another_is_asked() {
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    for (var, claim, values) in [
        ("s/M", "s^l", "{1, 2}"),
        ("(s + 1)/M", "(s + 1)^l", "{0, 1}"),
        ("s/M", "3 s^l", "{1, 3}"),
    ] {
        let src = format!(
            "size M, L
index i, j : M
symbol s
param W_l[M,M] ~ normal(0, {var}) for l in 1..L
input h_0[M] ~ normal(0, 3)
for l in 1..L:
  h_l[j] = W_l[j,I] h_{{l-1}}[I]
claim Var(h_l) == {claim}
vary s in {values}
sample M = 3, L = 3, s = 2
"
        );
        // The variance is 3 (gain)^l: for the third shape the claim is right.
        let src = if claim.starts_with('3') {
            src
        } else {
            src.replace("normal(0, 3)", "normal(0, 1)")
        };
        let q = question_of("gain.tq", &src, &fast, 2)
            .unwrap_or_else(|e| panic!("{claim}: no question: {e}"));
        assert_eq!(q.answers.len(), 1, "{claim}: {:?}", q.notes);
        match &q.answers[0].kind {
            tq::export::Kind::Symbolic { variables } => {
                assert_eq!(variables, &vec!["l".to_string()], "{claim}")
            }
            k => panic!("{claim}: asked as {k:?}"),
        }
        assert_eq!(q.variants.len(), 2, "{claim}: {:?}", q.notes);
        for v in &q.variants {
            match &v.answers[0] {
                tq::export::Value::Formula { expr, .. } => assert!(!expr.is_empty()),
                other => panic!("{claim}: a number where a formula is asked: {other:?}"),
            }
        }
        // The variant at which the formula is a number carries that number as its text.
        let numbers: Vec<&str> = q
            .variants
            .iter()
            .filter_map(|v| match &v.answers[0] {
                tq::export::Value::Formula { expr, .. } if !expr.contains('l') => {
                    Some(expr.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            numbers.len(),
            1,
            "{claim}: one variant gives a number: {numbers:?}"
        );
    }
}

/// A variant whose derived size is not whole (Y = (X - DX)/2 + 1 at X = 6: 5/2) is left
/// out of the question with the reason, and no variant kept asks for a count over a
/// fractional number of outputs (probe34 p09: server.py held "a1": 15.0 for X = 6).
#[test]
fn a_variant_with_a_derived_size_not_whole_is_left_out_of_the_question() {
    let src = common::strided_window("(X - DX)/2 + 1", "vary X in 5..8\n");
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    let q = question_of("h09.tq", &src, &fast, 4).expect("X = 5 and 7 have answers");
    assert_eq!(q.variants.len(), 2, "{:?}", q.notes);
    let left: Vec<&String> = q.notes.iter().filter(|n| n.contains("no model")).collect();
    assert_eq!(left.len(), 2, "{:?}", q.notes);
    assert!(
        left.iter().all(|n| n.contains("not a whole number")),
        "{left:?}"
    );
    for v in &q.variants {
        let x: i64 = v.values[0].1.parse().unwrap();
        assert_eq!(x % 2, 1, "{:?}", v.values);
        match &v.answers[0] {
            tq::export::Value::Number { value, .. } => {
                assert_eq!(*value, (2 * ((x - 3) / 2 + 1) * 3) as f64)
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A formula answer under a given that restricts its own variable (`given l <= 2`) is
/// not asked: the symbolic input grades a formula as a function of `l` at points of its
/// own choosing, where the given may not hold (probe36 b18). A given on another name
/// keeps the answer.
#[test]
fn a_formula_under_a_given_on_its_own_variable_is_not_asked() {
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    for given in ["l <= 2", "l >= 1", "l < 3, s > 0", "2 l <= 5"] {
        let src = format!(
            "size M, L
index i, j : M
symbol s
param W_l[M,M] ~ normal(0, s/M) for l in 1..L
input h_0[M] ~ normal(0, 1)
for l in 1..L:
  h_l[j] = W_l[j,I] h_{{l-1}}[I]
claim Var(h_l) == s^l
claim Var(h_l) == s^l given {given}
claim Var(h_l) == s^l given s > 0
vary s in {{2, 3}}
sample M = 3, L = 3, s = 2
"
        );
        let q = question_of("gain.tq", &src, &fast, 2)
            .unwrap_or_else(|e| panic!("{given}: no question: {e}"));
        let claims: Vec<usize> = q.answers.iter().map(|a| a.claim).collect();
        assert_eq!(claims, vec![1, 3], "{given}: {:?}", q.notes);
        assert!(
            q.notes
                .iter()
                .any(|n| n.contains("claim 2 not asked: its givens restrict `l`")),
            "{given}: {:?}",
            q.notes
        );
    }
}

/// A formula in a name PrairieLearn's symbolic input cannot read (`lambda`, a Python
/// keyword: SymPy's code `lambda*4**k` is a syntax error; `e`, its Euler's number; `is`)
/// is asked with the name renamed (`lamda`, `e_`, `is_`), the renaming stated before the
/// input; names SymPy knows but a declared variable shadows (`gamma`, `N`, `E`) keep
/// their names. Every formula answer parses as PrairieLearn parses it (probe37 j11).
#[test]
fn formula_answers_in_names_prairielearn_cannot_read_are_renamed_and_stated() {
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    // (the symbol, the name the answer must use)
    let cases = [
        ("lambda", "lamda"),
        ("e", "e_"),
        ("is", "is_"),
        ("gamma", "gamma"),
        ("N", "N"),
        ("E", "E"),
    ];
    for (name, pl) in cases {
        let src = format!(
            "size M, K
index i, j : M
symbol s, {name}
param W_k[M,M] ~ normal(0, s^2) for k in 1..K
input y_0[M] ~ normal(0, 1)
for k in 1..K:
  y_k[j] = W_k[j,I] y_{{k-1}}[I]
claim {name} Var(y_k) == {name} (M s^2)^k
sample M = 4, K = 3, s = 0.5
vary s in {{0.5, 1}}
"
        );
        let q = question_of("names.tq", &src, &fast, 2)
            .unwrap_or_else(|e| panic!("{name}: no question: {e}"));
        let a = q
            .answers
            .first()
            .unwrap_or_else(|| panic!("{name}: {:?}", q.notes));
        match &a.kind {
            Kind::Symbolic { variables } => {
                assert!(variables.contains(&pl.to_string()), "{name}: {variables:?}");
                assert!(
                    pl == name || !variables.contains(&name.to_string()),
                    "{name}: {variables:?}"
                );
            }
            k => panic!("{name}: asked as {k:?}"),
        }
        let html = tq::export::prairielearn::question_html(&q);
        let server = tq::export::prairielearn::server_py(&q);
        if pl != name {
            assert_eq!(a.renamed, vec![(name.to_string(), pl.to_string())]);
            assert!(
                html.contains(&format!("as <code>{pl}</code>")),
                "{name}: the renaming is not stated\n{html}"
            );
            assert!(
                !server.contains(&format!("\"{name}*")) && server.contains(pl),
                "{name}: {server}"
            );
        } else {
            assert!(a.renamed.is_empty(), "{name}: {:?}", a.renamed);
        }
        if tool_available("python3", &["-c", "import sympy"]) {
            let dir = temp_dir(&format!("names-{pl}"));
            write_question(&q, &dir);
            let out = Command::new("python3")
                .arg(root().join("tests/data/prairielearn/parse_symbolic.py"))
                .arg(dir.join(&q.qid))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: PrairieLearn's parser rejects the answer: {}\n{server}",
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Every formula answer of the problem files parses as PrairieLearn's symbolic input
/// parses it.
#[test]
fn formula_answers_of_the_problem_files_parse_as_prairielearn_parses_them() {
    if !tool_available("python3", &["-c", "import sympy"]) {
        return;
    }
    let mut parsed = 0;
    for file in ["resnet", "deep_linear"] {
        let q = if file == "resnet" {
            resnet()
        } else {
            &question(file, 2)
        };
        let dir = temp_dir(&format!("parse-{file}"));
        write_question(q, &dir);
        let out = Command::new("python3")
            .arg(root().join("tests/data/prairielearn/parse_symbolic.py"))
            .arg(dir.join(&q.qid))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
        parsed += seen["parsed"].as_u64().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(parsed > 0, "no formula answer parsed");
}

/// A number answer that does not fit a double is not asked, with the reason: below
/// double precision (`2^(-2000)` was exported as 0, probe37 j12; `10^(-400)`; the
/// subnormal `2^(-1060)`) or above it (`2^2000`, which is finite); `2^(-1000)` fits.
#[test]
fn an_answer_outside_double_precision_is_not_asked() {
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    let src = "scalar a
u = a^2000
v = a^(-2000)
w = 1/(a + 1)
x = (5 a)^(-400)
y = a^(-1060)
z = a^(-1000)
at a = 2
claim u == 2^2000
claim v == 2^(-2000)
claim w == 1/3
claim x == 10^(-400)
claim y == 2^(-1060)
claim z == 2^(-1000)
";
    let q = question_of("tiny.tq", src, &fast, 1).unwrap();
    let asked: Vec<usize> = q.answers.iter().map(|a| a.claim).collect();
    assert_eq!(asked, vec![3, 6], "{:?}", q.notes);
    for (claim, why) in [
        (1, "too large for a number input"),
        (2, "below double precision"),
        (4, "below double precision"),
        (5, "below double precision"),
    ] {
        assert!(
            q.notes
                .iter()
                .any(|n| n.starts_with(&format!("claim {claim} not asked")) && n.contains(why)),
            "claim {claim}: {:?}",
            q.notes
        );
    }
    for v in &q.variants {
        for a in &v.answers {
            if let tq::export::Value::Number { value, .. } = a {
                assert!(*value != 0.0, "{:?}", v.answers);
            }
        }
    }
    let xml = tq::export::moodle::quiz(&[&q]);
    assert!(!xml.contains("<text>0</text>"), "{xml}");
}

/// Replaces each mustache tag `{{params.KEY}}` as PrairieLearn's templates do: the tag
/// ends at the first `}}`, and a key that is not in `params` renders as nothing.
fn mustache(html: &str, params: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(k) = rest.find("{{") {
        out.push_str(&rest[..k]);
        let after = &rest[k + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[k..]);
            return out;
        };
        let tag = after[..end].trim();
        if let Some(key) = tag.strip_prefix("params.") {
            match params.get(key) {
                Some(Value::String(s)) => out.push_str(s),
                Some(v) => out.push_str(&v.to_string()),
                None => {}
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// probe38 k16: a varied symbol with a superscript label (`eta^{lr}`) was written as
/// `{{params.eta^{lr}}}`, which the template ends at the first `}}`: the page showed
/// "= }" without the value; and the name was typeset `\mathrm{eta\wedge \{lr\}}`. Each
/// varied name now has a key of letters, digits and `_` (`eta_lr`), the same in
/// question.html and in server.py's params, two names that would share one get
/// distinct keys, and the name is typeset as the model's lines set it.
#[test]
fn varied_labelled_names_have_safe_keys_and_the_models_typesetting() {
    let fast = Options {
        no_numeric: true,
        no_monte_carlo: true,
        ..Options::default()
    };
    // (the varied names, their values, their keys, their LaTeX)
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 4] = [
        (
            &["eta^{lr}"],
            &["0.1, 0.5"],
            &["eta_lr"],
            &["\\eta^{\\mathrm{lr}}"],
        ),
        (&["s^{a,b}"], &["2, 3"], &["s_a_b"], &["s^{a,b}"]),
        (
            &["theta^{max}_{2}"],
            &["1, 4"],
            &["theta_max_2"],
            &["\\theta^{\\mathrm{max}}_{2}"],
        ),
        (
            &["eta^{lr}", "eta_lr"],
            &["0.1, 0.5", "2, 3"],
            &["eta_lr", "eta_lr_2"],
            &["\\eta^{\\mathrm{lr}}", "\\eta_{\\mathit{lr}}"],
        ),
    ];
    for (names, sets, keys, latex) in cases {
        let decl = names.join(", ");
        let sum = names.join(" + ");
        let samples: Vec<String> = names
            .iter()
            .zip(sets)
            .map(|(n, s)| format!("{n} = {}", s.split(',').next().unwrap()))
            .collect();
        let varies: Vec<String> = names
            .iter()
            .zip(sets)
            .map(|(n, s)| format!("vary {n} in {{{s}}}\n"))
            .collect();
        let src = format!(
            "scalar w\nsymbol {decl}\nw1 = w - ({sum}) w\nat w = 1\nclaim w1 == 1 - ({sum})\nsample {}\n{}",
            samples.join(", "),
            varies.concat()
        );
        let q = question_of("labels.tq", &src, &fast, 2)
            .unwrap_or_else(|e| panic!("{names:?}: no question: {e}\n{src}"));
        let html = tq::export::prairielearn::question_html(&q);
        let server = tq::export::prairielearn::server_py(&q);
        // The LaTeX with the template's brace pairs split (`} }`) joined again.
        let mut tex = html.clone();
        while tex.contains("} }") {
            tex = tex.replace("} }", "}}");
        }
        for (k, key) in keys.iter().enumerate() {
            assert!(
                html.contains(&format!("{{{{params.{key}}}}}")),
                "{names:?}: no tag for {key}\n{html}"
            );
            assert!(
                server.contains(&format!("\"{key}\": ")),
                "{names:?}: {server}"
            );
            assert!(
                tex.contains(latex[k]),
                "{names:?}: {} not typeset\n{html}",
                latex[k]
            );
        }
        assert!(!html.contains("\\wedge"), "{names:?}: {html}");
        // Every variant's page, rendered as the platform renders it, shows each value
        // and no stray brace pair.
        let literal = server
            .split("VARIANTS = ")
            .nth(1)
            .and_then(|r| r.split("\n\n\ndef generate").next())
            .unwrap();
        let variants: Value = serde_json::from_str(literal).unwrap();
        for v in variants.as_array().unwrap() {
            let params = v["params"].as_object().unwrap();
            let page = mustache(&html, params);
            let values_line = page
                .lines()
                .find(|l| l.contains("<strong>Values.</strong>"))
                .unwrap();
            for key in keys {
                let x = params[*key]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| params[*key].to_string());
                assert!(
                    values_line.contains(&format!("= {x}"))
                        || values_line.contains(&format!("=$ {x}")),
                    "{names:?}: {key} = {x} missing: {values_line}"
                );
            }
            assert!(
                !values_line.contains("=$ }") && !values_line.contains("= }"),
                "{values_line}"
            );
        }
        // The render's list of symbols: the model's typesetting too.
        let path = common::temp_file("export", "labels.tq", &src);
        let out = common::tq_bin(&["render", &path]);
        let tex = String::from_utf8_lossy(&out.stdout);
        assert!(!tex.contains("\\wedge"), "{names:?}: {tex}");
        let symbols = tex.lines().find(|l| l.contains("symbols:")).unwrap_or("");
        assert!(symbols.contains(latex[0]), "{names:?}: {symbols}");
    }
}
