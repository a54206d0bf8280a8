//! A Moodle XML quiz (Moodle's documented question import format): per file a category
//! question (`$course$/top/tq/QID`), then one `numerical` question per numeric answer and
//! variant, its text in CDATA HTML (MathJax `\( \)` math) and one
//! `<answer fraction="100">` with an absolute `<tolerance>`. Formula answers have no
//! Moodle numerical form and are left out (with a note in the file).

use super::{esc_html, problem_html, Kind, Question, Style, Value};

/// A number in decimal notation without an exponent (Rust's `Display`: the shortest
/// digits that read back to the same value), which Moodle's number parser reads.
fn decimal(x: f64) -> String {
    format!("{x}")
}

fn inline(latex: &str) -> String {
    format!("\\({latex}\\)")
}

/// Text inside `<![CDATA[...]]>`: a `]]>` is split across two sections.
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// The absolute tolerance Moodle applies to an answer of this size: the claim's `tol`
/// for `~=`, and for an exact answer the relative tolerance times its size (at least the
/// absolute floor).
pub fn tolerance(kind: &Kind, value: f64) -> f64 {
    match kind {
        Kind::Number { rtol, atol } => atol + rtol * value.abs(),
        Kind::Symbolic { .. } => 0.0,
    }
}

/// The quiz of all questions.
pub fn quiz(questions: &[&Question]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    for q in questions {
        out.push_str(&format!(
            "<!-- {} (exported by tq; {} variant{} checked by tq) -->\n",
            esc_html(&q.path).replace("--", "- -"),
            q.variants.len(),
            if q.variants.len() == 1 { "" } else { "s" }
        ));
        out.push_str(&format!(
            "  <question type=\"category\">\n    <category>\n      <text>$course$/top/tq/{}</text>\n    </category>\n    <info format=\"html\">\n      <text>{}</text>\n    </info>\n  </question>\n",
            esc_html(&q.qid),
            cdata(&esc_html(&q.title))
        ));
        for a in &q.answers {
            if let Kind::Symbolic { .. } = a.kind {
                out.push_str(&format!(
                    "  <!-- claim {} asks for a formula, which a Moodle numerical question cannot grade: left out -->\n",
                    a.claim
                ));
            }
        }
        for (k, v) in q.variants.iter().enumerate() {
            let values = v.values.clone();
            let style = Style {
                inline,
                value: Box::new(move |n: &str| {
                    let x = values
                        .iter()
                        .find(|(m, _)| m == n)
                        .map(|(_, x)| x.clone())
                        .unwrap_or_default();
                    format!(" {}", inline(&esc_html(&x)))
                }),
            };
            let problem = problem_html(q, &style);
            for (a, value) in q.answers.iter().zip(&v.answers) {
                let Value::Number { value, latex } = value else {
                    continue;
                };
                let cond = a
                    .conditions
                    .as_ref()
                    .map(|c| format!(" (given {})", inline(&esc_html(c))))
                    .unwrap_or_default();
                let text = format!(
                    "<p><strong>{}</strong></p>\n{problem}<p>{}{cond}</p>\n",
                    esc_html(&q.title),
                    inline(&esc_html(&format!("{} = ?", a.label)))
                );
                let feedback = format!(
                    "<p>{} (computed and checked by tq)</p>",
                    inline(&esc_html(&format!("{} = {latex}", a.label)))
                );
                out.push_str(&format!(
                    "  <question type=\"numerical\">\n    <name>\n      <text>{}</text>\n    </name>\n    <questiontext format=\"html\">\n      <text>{}</text>\n    </questiontext>\n    <generalfeedback format=\"html\">\n      <text>{}</text>\n    </generalfeedback>\n    <defaultgrade>1</defaultgrade>\n    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n    <answer fraction=\"100\" format=\"moodle_auto_format\">\n      <text>{}</text>\n      <feedback format=\"html\">\n        <text></text>\n      </feedback>\n      <tolerance>{}</tolerance>\n    </answer>\n  </question>\n",
                    esc_html(&format!(
                        "{}: variant {}, claim {}",
                        q.qid,
                        k + 1,
                        a.claim
                    )),
                    cdata(&text),
                    cdata(&feedback),
                    decimal(*value),
                    decimal(tolerance(&a.kind, *value))
                ));
            }
        }
    }
    out.push_str("</quiz>\n");
    out
}

/// How many numerical questions [`quiz`] writes for these questions.
pub fn count(questions: &[&Question]) -> usize {
    questions
        .iter()
        .map(|q| {
            q.variants
                .iter()
                .map(|v| {
                    v.answers
                        .iter()
                        .filter(|a| matches!(a, Value::Number { .. }))
                        .count()
                })
                .sum::<usize>()
        })
        .sum()
}
