//! `tq export`: questions a learning platform grades by itself, from checked problem
//! files. For every claim that states a value (an equality or `~=` whose right side is a
//! number, or a formula in symbols left free such as a layer index `l`; or a relation
//! `M1 == c M2` between moments, asked as M1/M2 with `c`'s exact value) and that tq
//! proved or confirmed in every variant, the question asks for that value: the
//! answer of each variant is the one tq's variants engine computed for it
//! ([`crate::variants::prepare`]), and only variants that passed tq's check are kept.
//! [`prairielearn`] writes one question directory (info.json, question.html, server.py),
//! [`moodle`] a Moodle XML quiz. No IO: the command line writes the files.

pub mod moodle;
pub mod prairielearn;
pub mod uuid;

use crate::claims::{ClaimReport, Verdict};
use crate::render::doc::Inline;
use crate::render::{self, math};
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::*;
use crate::variants::Variant;
use std::collections::{BTreeMap, BTreeSet};

/// The relative tolerance an exact answer (`==`) is graded with: four significant
/// digits; PrairieLearn also accepts fractions such as `1/18`.
pub const EXACT_RTOL: f64 = 1e-3;
/// The absolute tolerance of an exact answer (PrairieLearn's default), so that 0 can be
/// answered.
pub const EXACT_ATOL: f64 = 1e-8;
/// The tolerance of `~=` without `tol` (docs/language.md).
pub const DEFAULT_APPROX_TOL: f64 = 1e-6;
/// The topic every exported question is filed under.
pub const TOPIC: &str = "Mathematics of deep learning";

/// The functions PrairieLearn's symbolic input knows by these names (its built-in
/// function table); a formula with another function is not asked for symbolically.
const SYMBOLIC_FUNCTIONS: &[&str] = &[
    "exp", "log", "ln", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh", "tanh",
];
/// Names a variable of PrairieLearn's symbolic input cannot have: its built-in constants
/// and functions (`prairielearn.sympy_utils`: a variable by such a name is a "question
/// configuration error", or reads as the constant), the names SymPy's parser writes
/// into the code it evaluates (`Integer(2)`, `Symbol('x')`: a variable `Integer` turned
/// every number into it); and Python's keywords, which are not repeated here
/// ([`sym::func::PYTHON_KEYWORDS`], the list `tq emit` reads too: the expression is
/// parsed by Python, `lambda*4**k` is a syntax error; probe37 j11). Such a name is renamed in the answer
/// ([`pl_name`]) and the question says how to write it. Other names SymPy knows
/// (`E`, `I`, `S`, `N`, `Q`, `O`, `beta`, `gamma`) are plain symbols once declared in
/// `variables`, which PrairieLearn puts before SymPy's own names.
const SYMBOLIC_RESERVED: &[&str] = &[
    "e",
    "pi",
    "infty",
    "i",
    "j",
    "oo",
    "exp",
    "log",
    "ln",
    "sqrt",
    "factorial",
    "abs",
    "sgn",
    "max",
    "min",
    "sign",
    "Abs",
    "Max",
    "Min",
    "Number",
    "cos",
    "sin",
    "tan",
    "sec",
    "cot",
    "csc",
    "cosh",
    "sinh",
    "tanh",
    "arccos",
    "arcsin",
    "arctan",
    "acos",
    "asin",
    "atan",
    "arctan2",
    "atan2",
    "atanh",
    "acosh",
    "asinh",
    "Interval",
    "FiniteSet",
    "Union",
    "Intersection",
    "U",
    "cup",
    "cap",
    "Integer",
    "Float",
    "Rational",
    "Symbol",
    "Function",
    "Lambda",
];

/// The name a variable has in a PrairieLearn formula: its own, or for a name in
/// [`SYMBOLIC_RESERVED`] SymPy's spelling (`lambda` → `lamda`, which SymPy prints as
/// λ) or the name with `_` after it (`e` → `e_`, `pi` → `pi_`, `is` → `is_`).
pub fn pl_name(name: &str) -> String {
    if !SYMBOLIC_RESERVED.contains(&name) && !sym::func::PYTHON_KEYWORDS.contains(&name) {
        name.to_string()
    } else if name == "lambda" {
        "lamda".to_string()
    } else {
        format!("{name}_")
    }
}

/// The name sym gives the constant π.
const PI: &str = "pi";

/// How an answer is entered and graded.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A number, correct within `atol + rtol |answer|` (PrairieLearn's `relabs`).
    Number { rtol: f64, atol: f64 },
    /// A formula in these variables, graded by symbolic equivalence.
    Symbolic { variables: Vec<String> },
}

/// One answer a question asks for.
#[derive(Clone, Debug)]
pub struct Answer {
    /// `a1`, `a2`, ...: the name of the input and of its correct answer.
    pub name: String,
    /// The claim's number in file order (1-based).
    pub claim: usize,
    /// The claim's left side as LaTeX math: what is asked for.
    pub label: String,
    /// The claim's givens, point and boundary rule as LaTeX math, if any.
    pub conditions: Option<String>,
    pub kind: Kind,
    /// A formula's variables that PrairieLearn cannot read by their own names, with the
    /// name the answer uses instead (`lambda` → `lamda`): the question states each.
    pub renamed: Vec<(String, String)>,
}

/// One variant's correct answer to one [`Answer`].
#[derive(Clone, Debug)]
pub enum Value {
    /// `latex` is the exact value (`\frac{1}{18}`).
    Number { value: f64, latex: String },
    /// `expr` in PrairieLearn's syntax (`**` for powers).
    Formula { expr: String, latex: String },
}

/// One variant: the values of the varied parameters and the correct answers.
#[derive(Clone, Debug)]
pub struct QuestionVariant {
    pub values: Vec<(String, String)>,
    pub answers: Vec<Value>,
}

/// A question made from one checked file.
pub struct Question {
    pub path: String,
    /// The question's directory name (the file's stem).
    pub qid: String,
    pub uuid: String,
    pub title: String,
    pub tags: Vec<String>,
    pub parts: render::ProblemParts,
    /// The `sample` and `at` values that are not varied: (LaTeX name, LaTeX value).
    pub constants: Vec<(String, String)>,
    /// The varied parameters (in the plan's order).
    pub varied: Vec<String>,
    pub answers: Vec<Answer>,
    pub variants: Vec<QuestionVariant>,
    /// What was left out and why (variants that failed, claims without an answer).
    pub notes: Vec<String>,
    pub seed: u64,
}

/// The question's directory name for a file: its stem, with characters other than ASCII
/// letters, digits, `-` and `_` replaced by `_`.
pub fn qid(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| path.to_string());
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The stable identifier of a question: the version-5 UUID of `tq-question:QID` in tq's
/// namespace, so that exporting the same file again keeps it.
pub fn question_uuid(qid: &str) -> String {
    uuid::uuid5(&uuid::TQ_NAMESPACE, &format!("tq-question:{qid}"))
}

/// The variants to check for a file checked once (`base`): for a file with `vary` lines,
/// `count` combinations chosen with `seed` ([`crate::variants::plan`]); otherwise the file
/// itself, with nothing varied. Returns the varied names and each variant prepared (its
/// source, to be checked by the claim engines, and its answers). `Err` says why the file
/// gives no question.
pub fn plan_file(
    base: &FileReport,
    count: usize,
    seed: u64,
) -> Result<(Vec<String>, Vec<crate::variants::Prepared>), String> {
    if base.unexpected_errors() > 0 || base.expected_error.is_some() {
        return Err("the file has errors (an `expect error` example or a file to fix)".into());
    }
    let varies = base
        .program
        .items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Vary(_)));
    let (names, chosen) = if varies {
        let p = crate::variants::plan(&base.program, count, seed)?;
        (p.names, p.chosen)
    } else {
        (Vec::new(), vec![Vec::new()])
    };
    let prepared = crate::variants::prepare_all(&base.program, &base.env, &names, &chosen);
    Ok((names, prepared))
}

fn vetted(rep: Option<&ClaimReport>) -> bool {
    rep.is_some_and(|r| {
        matches!(r.verdict, Verdict::Proved | Verdict::Confirmed)
            && r.expect != Some(Expectation::Refuted)
    })
}

/// The identifiers applied as functions in an ASCII formula (`sqrt(`, `ln(`).
fn functions_in(ascii: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            if c == '(' && !word.is_empty() && !word.chars().all(|d| d.is_ascii_digit()) {
                out.push(word.clone());
            }
            word.clear();
        }
    }
    out
}

/// A variant's value of one claim as an answer, or why it is none: a number, or a
/// formula with its variables under the names PrairieLearn reads ([`pl_name`]).
fn value_of(e: &sym::Expr) -> Result<(Value, Option<Vec<String>>), String> {
    // `pi` is the constant (the function table's π), for tq and for PrairieLearn alike.
    let free: Vec<String> = e.free_symbols().into_iter().filter(|s| s != PI).collect();
    if free.is_empty() {
        let at = BTreeMap::from([(PI.to_string(), std::f64::consts::PI)]);
        let exact_zero = e
            .as_num()
            .is_some_and(|r| r == &num_rational::BigRational::from_integer(0.into()));
        return match e.eval_f64(&at) {
            // Below double precision (`2^(-2000)`): the number input would hold 0, or a
            // subnormal number with fewer digits than the grading asks for (probe37
            // j12: the key said v = 0).
            Ok(x) if x.is_finite() && x.abs() < f64::MIN_POSITIVE && !exact_zero => Err(
                "its value is nonzero but below double precision (smaller in size than 2.2e-308), so a number input cannot hold it".into(),
            ),
            Ok(x) if x.is_finite() => Ok((
                Value::Number {
                    value: x,
                    latex: sym::to_latex(e),
                },
                None,
            )),
            Ok(x) if x.is_infinite() => Err(
                "its value is too large for a number input (beyond double precision, about 1.8e308)".into(),
            ),
            _ => Err("its value is not a finite number".into()),
        };
    }
    if let Some(v) = free.iter().find(|v| {
        !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || v.starts_with(|c: char| c.is_ascii_digit() || c == '_')
    }) {
        return Err(format!(
            "its formula is in `{v}`, a name PrairieLearn's symbolic input cannot read"
        ));
    }
    // Renamed where PrairieLearn cannot read the name, unless the new name is taken.
    let latex = sym::to_latex(e);
    let mut e = e.clone();
    for v in &free {
        let n = pl_name(v);
        if n != *v {
            if free.contains(&n) {
                return Err(format!(
                    "its formula is in `{v}`, a name PrairieLearn's symbolic input reserves, and in `{n}`, the name it would be written as"
                ));
            }
            e = sym::subs(&e, v, &sym::Expr::sym(&n));
        }
    }
    let ascii = sym::to_ascii(&e).replace('^', "**");
    if let Some(f) = functions_in(&ascii)
        .into_iter()
        .find(|f| !SYMBOLIC_FUNCTIONS.contains(&f.as_str()))
    {
        return Err(format!(
            "its formula applies `{f}`, which PrairieLearn's symbolic input does not know"
        ));
    }
    Ok((Value::Formula { expr: ascii, latex }, Some(free)))
}

/// The plain names (no indices) an expression reads.
fn names_in(e: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    crate::syntax::visit::walk_refs(e, &mut |r| {
        if r.indices.is_none() {
            out.insert(crate::syntax::printer::print_name(&r.name));
        }
    });
    out
}

/// A name the right side reads that one of the claim's givens fixes by an equation other
/// than `name == value` (`sigma_W^2 == ln(2)/(L D^2 J)`): the variants engine substitutes
/// only `name == value` givens, so the answer would be computed at the sample value
/// instead of the given one.
fn fixed_by_equation(c: &Claim, rhs: &Expr) -> Option<String> {
    let read = names_in(rhs);
    c.given.iter().find_map(|g| match g {
        Expr::Rel(RelOp::Eq, l, _, _)
            if !matches!(&**l, Expr::Ref(n) if n.indices.is_none() && !n.grad) =>
        {
            names_in(g).into_iter().find(|n| read.contains(n))
        }
        _ => None,
    })
}

/// A variable of a formula answer that one of the claim's givens reads (`given l <= 2`):
/// the symbolic input compares formulas at points of its own choosing, so a formula
/// asked under a restriction of its own variable grades a right answer wrong (probe36
/// b18: `(3/2)^l` against `1 + l s + l (l - 1) s^2 / 2 given l <= 2`).
fn restricted_variable(c: &Claim, variables: &[String]) -> Option<String> {
    c.given.iter().find_map(|g| {
        names_in(g)
            .into_iter()
            .find(|n| variables.iter().any(|v| v == n))
    })
}

/// The claim's givens, point and boundary rule as LaTeX math: its own `at` and the
/// settings of a later `at` line in force where it stands (the file's first `at` line is
/// the problem's values; probe37 j05).
fn conditions(c: &Claim, point: Option<&render::points::Point>) -> Option<String> {
    let c = &match point {
        Some(p) => render::points::with_point(c, p),
        None => c.clone(),
    };
    let mut given: Vec<String> = Vec::new();
    if let Some(b) = c.boundary {
        given.push(format!(
            "\\text{{boundary {}}}",
            crate::syntax::printer::boundary_word(b)
        ));
    }
    given.extend(c.given.iter().map(math::expr));
    given.extend(
        c.at.iter()
            .map(|b| format!("{} = {}", math::ident(&b.name.name), math::expr(&b.value))),
    );
    (!given.is_empty()).then(|| given.join(",\\ "))
}

fn tolerance(c: &Claim, op: RelOp) -> Kind {
    if op == RelOp::Approx {
        let tol = c
            .tol
            .as_ref()
            .and_then(|t| crate::lower::lower(t, &Default::default()).ok())
            .and_then(|t| sym::simplify(&t).eval_f64(&BTreeMap::new()).ok())
            .filter(|t| t.is_finite() && *t >= 0.0)
            .unwrap_or(DEFAULT_APPROX_TOL);
        Kind::Number {
            rtol: 0.0,
            atol: tol,
        }
    } else {
        Kind::Number {
            rtol: EXACT_RTOL,
            atol: EXACT_ATOL,
        }
    }
}

/// The question of one file: `base` is the file checked once (its program and
/// environment), `variants` its variants checked by the claim engines (one variant with
/// no varied values for a file without `vary` lines). `Err` says why the file gives no
/// question.
pub fn question(
    path: &str,
    base: &FileReport,
    varied: &[String],
    variants: &[Variant],
    seed: u64,
) -> Result<Question, String> {
    if base.unexpected_errors() > 0 || base.expected_error.is_some() {
        return Err("the file has errors (an `expect error` example or a file to fix)".into());
    }
    let mut notes = Vec::new();
    let kept: Vec<&Variant> = variants.iter().filter(|v| v.passed()).collect();
    for (k, v) in variants.iter().enumerate() {
        if !v.passed() {
            notes.push(format!(
                "variant {} ({}) left out: {}",
                k + 1,
                v.prepared
                    .values
                    .iter()
                    .map(|(n, x)| format!("{n} = {x}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.why_failed()
            ));
        }
    }
    if kept.is_empty() {
        // What failed, named: the first variant's reason (probe36 b09: "a claim refuted
        // or a gradient check failed" when an `expect refuted` claim held).
        let first = variants
            .first()
            .map(|v| format!(": in variant 1, {}", v.why_failed()))
            .unwrap_or_default();
        return Err(format!("no variant passed tq's check{first}"));
    }
    let base_claims = render::claims_with_reports(base);
    let points = render::points::points(&base.program.items);
    let per_variant: Vec<Vec<(Claim, Option<&ClaimReport>)>> = kept
        .iter()
        .map(|v| render::claims_with_reports(&v.report))
        .collect();
    let mut answers = Vec::new();
    let mut values: Vec<Vec<Value>> = vec![Vec::new(); kept.len()];
    for (j, (c, _)) in base_claims.iter().enumerate() {
        let Expr::Rel(op, lhs, rhs, _) = &c.body else {
            continue;
        };
        if !matches!(op, RelOp::Eq | RelOp::Approx)
            || c.includes.is_some()
            || c.expect == Some(Expectation::Refuted)
        {
            continue;
        }
        if let Some(name) = fixed_by_equation(c, rhs) {
            notes.push(format!(
                "claim {} not asked: its givens fix `{name}` by an equation, and the answer would use the sample value",
                j + 1
            ));
            continue;
        }
        let mut these = Vec::new();
        let mut variables: Option<Option<Vec<String>>> = None;
        let mut why = None;
        for (v, claims) in kept.iter().zip(&per_variant) {
            if !claims.get(j).is_some_and(|(_, rep)| vetted(*rep)) {
                why = Some("not proved or confirmed in every variant".to_string());
                break;
            }
            let Some(Some(e)) = v.prepared.values_exact.get(j) else {
                why = Some(match &**rhs {
                    // The variant's share of the work ran out: said so, not "no value".
                    _ if v.prepared.budget_spent.get(j).is_some_and(|b| b.is_some()) => {
                        v.prepared.budget_spent[j].clone().unwrap_or_default()
                    }
                    r if crate::variants::is_constant(r) && !varied.is_empty() => {
                        "its right side is a number stated for the file's own values, not a formula tq can recompute for each variant".into()
                    }
                    _ => "tq has no exact value of its right side at the variant's values (a moment the moments engine does not give in closed form, a relation between moments whose factor is not a number, or a value under givens that set other names)".into(),
                });
                break;
            };
            match value_of(e) {
                Ok((value, vars)) => {
                    // A number in one variant and a formula in another (`2^l` is 1 at
                    // a base of 1): asked as a formula in every variant, in the names
                    // any variant's formula reads (issue #17: the file was skipped).
                    variables = Some(match (variables.flatten(), vars) {
                        (None, v) | (v, None) => v,
                        (Some(mut w), Some(v)) => {
                            for n in v {
                                if !w.contains(&n) {
                                    w.push(n);
                                }
                            }
                            Some(w)
                        }
                    });
                    these.push((value, e.clone()));
                }
                Err(e) => {
                    why = Some(e);
                    break;
                }
            }
        }
        if let Some(why) = why {
            if !why.is_empty() {
                notes.push(format!("claim {} not asked: {why}", j + 1));
            }
            continue;
        }
        let variables = variables.flatten();
        if let Some(variables) = &variables {
            if let Some(name) = restricted_variable(c, variables) {
                notes.push(format!(
                    "claim {} not asked: its givens restrict `{name}`, and a formula is graded as a function of `{name}` at points the givens may exclude (an answer right only where the givens hold would be graded wrong)",
                    j + 1
                ));
                continue;
            }
        }
        // Asked in the names PrairieLearn reads; a renamed one is stated.
        let renamed: Vec<(String, String)> = variables
            .iter()
            .flatten()
            .filter(|v| pl_name(v) != **v)
            .map(|v| (v.clone(), pl_name(v)))
            .collect();
        let kind = match variables {
            Some(variables) => Kind::Symbolic {
                variables: variables.iter().map(|v| pl_name(v)).collect(),
            },
            None => tolerance(c, *op),
        };
        let symbolic = matches!(kind, Kind::Symbolic { .. });
        // A relation between moments asks for the factor of the right side's moment:
        // the ratio of the left side to it.
        let label = match kept.first().and_then(|v| v.prepared.per_moment.get(j)) {
            Some(Some((alone, m))) => {
                format!("\\frac{{{}}}{{{}}}", math::expr(alone), math::expr(m))
            }
            _ => math::expr(lhs),
        };
        answers.push(Answer {
            name: format!("a{}", answers.len() + 1),
            claim: j + 1,
            label,
            conditions: conditions(c, points.claims.get(j)),
            kind,
            renamed,
        });
        for (slot, (v, e)) in values.iter_mut().zip(these) {
            slot.push(match v {
                // A number where the answer is asked as a formula: the formula it is.
                Value::Number { latex, .. } if symbolic => Value::Formula {
                    expr: sym::to_ascii(&e).replace('^', "**"),
                    latex,
                },
                v => v,
            });
        }
    }
    if answers.is_empty() {
        let mut why = format!(
            "none of its {} claims states a value tq proved or confirmed (an `==` or `~=` whose right side is a number or a formula in the problem's symbols)",
            base_claims.len()
        );
        for n in &notes {
            why.push_str(&format!("; {n}"));
        }
        return Err(why);
    }
    let mut constants = Vec::new();
    let mut first_at = true;
    for item in &base.program.items {
        // The `sample` lines and the first `at` line: a later `at` line's settings are
        // in the conditions of the claims after it.
        let bs = match &item.kind {
            ItemKind::Sample(bs) => Some(bs),
            ItemKind::At(bs) if std::mem::take(&mut first_at) => Some(bs),
            _ => None,
        };
        if let Some(bs) = bs {
            for b in bs {
                if !varied.contains(&b.name.name) {
                    constants.push((math::ident(&b.name.name), math::expr(&b.value)));
                }
            }
        }
    }
    let qid = qid(path);
    let mut tags = vec!["tq".to_string(), qid.clone()];
    if !varied.is_empty() {
        tags.push("variants".into());
    }
    Ok(Question {
        path: path.to_string(),
        uuid: question_uuid(&qid),
        qid,
        title: render::problem_parts(base).title,
        tags,
        parts: render::problem_parts(base),
        constants,
        varied: varied.to_vec(),
        answers,
        variants: kept
            .iter()
            .zip(values)
            .map(|(v, answers)| QuestionVariant {
                values: v.prepared.values.clone(),
                answers,
            })
            .collect(),
        notes,
        seed,
    })
}

/// HTML text: `&`, `<`, `>` and `"` escaped.
pub fn esc_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// How the problem's text is written for one platform.
pub struct Style {
    /// Inline math from LaTeX (already HTML-safe).
    pub inline: fn(&str) -> String,
    /// A varied parameter's value: a template placeholder, or the variant's value.
    pub value: Box<dyn Fn(&str) -> String>,
}

/// The problem as HTML: description, declarations, boundary rule, the model's lines and
/// the values of the sizes and symbols.
pub fn problem_html(q: &Question, style: &Style) -> String {
    let m = |latex: &str| (style.inline)(&esc_html(latex));
    let p = &q.parts;
    let mut out = String::new();
    if let Some(d) = &p.description {
        // Set as the rendered page sets it: formulas in the prose as math.
        let runs: String = crate::render::prose::prose(d)
            .into_iter()
            .map(|r| match r {
                Inline::Text(t) => esc_html(&t),
                Inline::Math(x) => m(&x),
                Inline::Strong(t) => format!("<strong>{}</strong>", esc_html(&t)),
            })
            .collect();
        out.push_str(&format!("<p>{runs}</p>\n"));
    }
    if !p.declarations.is_empty() {
        out.push_str("<p><strong>Given.</strong></p>\n<ul>\n");
        for (kind, decl) in &p.declarations {
            out.push_str(&format!("<li>{}: {}</li>\n", esc_html(kind), m(decl)));
        }
        out.push_str("</ul>\n");
    }
    if let Some(b) = p.boundary {
        out.push_str(&format!("<p>{}</p>\n", esc_html(b)));
    }
    if !p.model.is_empty() {
        out.push_str("<p><strong>The model.</strong> A capital index is summed over the term in which it occurs; in a <strong>for</strong> line every listed index is iterated.</p>\n");
        for (depth, line, is_math) in &p.model {
            let body = if *is_math {
                m(&format!("\\displaystyle {line}"))
            } else {
                esc_html(line)
            };
            out.push_str(&format!(
                "<div style=\"margin-left: {}em\">{body}</div>\n",
                2 * depth
            ));
        }
    }
    let mut values: Vec<String> = q
        .constants
        .iter()
        .map(|(n, v)| m(&format!("{n} = {v}")))
        .collect();
    for n in &q.varied {
        values.push(format!(
            "{}{}",
            m(&format!("{} =", math::ident(n))),
            (style.value)(n)
        ));
    }
    if !values.is_empty() {
        out.push_str(&format!(
            "<p><strong>Values.</strong> {}.</p>\n",
            values.join(", ")
        ));
    }
    out
}

/// A number as text that both Python and Moodle read back to the same value.
/// (Rust's shortest round-trip form: `0.05555555555555555`, `1e-7`, `4.0`.)
pub fn number(x: f64) -> String {
    format!("{x:?}")
}
