//! One PrairieLearn question directory (`type: v3`) per file: `info.json` (the schema of
//! PrairieLearn's `infoQuestion.json`), `question.html` (the problem and one
//! `pl-number-input` or `pl-symbolic-input` per answer), and `server.py`, whose
//! `generate(data)` picks one of the variants tq checked and sets `data["params"]` and
//! `data["correct_answers"]`; the platform's elements grade with the tolerances written in
//! question.html, so there is no `grade`.

use super::{esc_html, number, problem_html, Kind, Question, Style, Value};
use serde_json::json;

/// Writes `$...$` with `{{` and `}}` split, so that PrairieLearn's mustache templates
/// leave the LaTeX alone.
fn inline(latex: &str) -> String {
    format!("${}$", unbrace(latex))
}

fn unbrace(s: &str) -> String {
    let mut s = s.to_string();
    while s.contains("{{") || s.contains("}}") {
        s = s.replace("{{", "{ {").replace("}}", "} }");
    }
    s
}

/// The key of each varied parameter in `data["params"]`, by its name: the name with
/// every character other than an ASCII letter, digit or `_` written as `_` (a prime as
/// `p`), runs of `_` made one: `eta^{lr}` → `eta_lr`, `s^{a,b}` → `s_a_b`. The mustache
/// templates of question.html end a tag at the first `}}`, so a key written as the name
/// (`{{params.eta^{lr}}}`) read as `params.eta^{lr` and the value was missing from the
/// page (probe38 k16). Two names that would share a key (or take `tq_variant`) get
/// `_2`, `_3`, ... after it.
pub fn param_keys(varied: &[String]) -> Vec<(String, String)> {
    let mut taken: Vec<String> = vec!["tq_variant".to_string()];
    let mut out = Vec::new();
    for n in varied {
        let mut k = String::new();
        for c in n.chars() {
            let c = match c {
                '\'' => 'p',
                c if c.is_ascii_alphanumeric() => c,
                _ => '_',
            };
            if !(c == '_' && k.ends_with('_')) {
                k.push(c);
            }
        }
        let mut k = k.trim_matches('_').to_string();
        if k.is_empty() || k.starts_with(|c: char| c.is_ascii_digit()) {
            k = format!("v_{k}");
        }
        let mut key = k.clone();
        let mut m = 2;
        while taken.contains(&key) {
            key = format!("{k}_{m}");
            m += 1;
        }
        taken.push(key.clone());
        out.push((n.clone(), key));
    }
    out
}

fn key_of(keys: &[(String, String)], name: &str) -> String {
    keys.iter()
        .find(|(n, _)| n == name)
        .map(|(_, k)| k.clone())
        .unwrap_or_else(|| name.to_string())
}

/// `info.json`.
pub fn info_json(q: &Question) -> String {
    let doc = json!({
        "uuid": q.uuid,
        "title": q.title,
        "topic": super::TOPIC,
        "tags": q.tags,
        "type": "v3",
        "singleVariant": q.variants.len() == 1,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

/// `question.html`.
pub fn question_html(q: &Question) -> String {
    let style = Style {
        inline,
        value: {
            let keys = param_keys(&q.varied);
            Box::new(move |n: &str| format!(" {{{{params.{}}}}}", key_of(&keys, n)))
        },
    };
    let mut out = format!(
        "<!-- Exported by tq from {} ({} variant{} checked by tq); export again instead of editing. -->\n",
        esc_html(&q.path).replace("--", "- -"),
        q.variants.len(),
        if q.variants.len() == 1 { "" } else { "s" }
    );
    out.push_str("<pl-question-panel>\n");
    out.push_str(&problem_html(q, &style));
    out.push_str("</pl-question-panel>\n\n");
    for a in &q.answers {
        if let Some(c) = &a.conditions {
            out.push_str(&format!(
                "<p>({}) Given {}:</p>\n",
                &a.name[1..],
                inline(&esc_html(c))
            ));
        }
        let label = esc_html(&format!("({}) ${} =$", &a.name[1..], unbrace(&a.label)));
        match &a.kind {
            Kind::Number { rtol, atol } => out.push_str(&format!(
                "<pl-number-input answers-name=\"{}\" comparison=\"relabs\" rtol=\"{}\" atol=\"{}\" label=\"{label}\"></pl-number-input>\n\n",
                a.name,
                number(*rtol),
                number(*atol)
            )),
            Kind::Symbolic { variables } => {
                // A variable PrairieLearn cannot read by its own name is written as the
                // name the answer uses (`lambda` → `lamda`): said before the input.
                if !a.renamed.is_empty() {
                    let each: Vec<String> = a
                        .renamed
                        .iter()
                        .map(|(v, n)| {
                            format!("{} as <code>{}</code>", inline(&esc_html(&crate::render::math::ident(v))), esc_html(n))
                        })
                        .collect();
                    out.push_str(&format!(
                        "<p>In your answer write {}.</p>\n",
                        each.join(", ")
                    ));
                }
                out.push_str(&format!(
                "<pl-symbolic-input answers-name=\"{}\" variables=\"{}\" label=\"{label}\"></pl-symbolic-input>\n\n",
                a.name,
                esc_html(&variables.join(", "))
            ))
            }
        }
    }
    out
}

/// `server.py`.
pub fn server_py(q: &Question) -> String {
    let keys = param_keys(&q.varied);
    let variants: Vec<serde_json::Value> = q
        .variants
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let mut params = serde_json::Map::new();
            params.insert("tq_variant".into(), json!(k + 1));
            for (n, x) in &v.values {
                params.insert(key_of(&keys, n), json!(x));
            }
            let mut correct = serde_json::Map::new();
            for (a, value) in q.answers.iter().zip(&v.answers) {
                let x = match value {
                    Value::Number { value, .. } => json!(value),
                    Value::Formula { expr, .. } => json!(expr),
                };
                correct.insert(a.name.clone(), x);
            }
            json!({"params": params, "correct_answers": correct})
        })
        .collect();
    // JSON of strings and numbers only is a Python literal.
    let literal = serde_json::to_string_pretty(&variants).unwrap_or_default();
    let varied = if q.varied.is_empty() {
        "The file varies nothing, so there is one variant: the file's own values.".to_string()
    } else {
        format!(
            "Each variant is one combination of the file's `vary` parameters ({}), chosen with seed {}.",
            q.varied.join(", "),
            q.seed
        )
    };
    let answers: Vec<String> = q
        .answers
        .iter()
        .map(|a| format!("#   {}: claim {} of the file", a.name, a.claim))
        .collect();
    format!(
        "# server.py of the PrairieLearn question \"{title}\", exported by tq from {path}.\n\
         # {varied}\n\
         # Every variant passed tq's check of the file (each claim decided as the file expects,\n\
         # the gradient check), and its correct answers are the values tq computed for it:\n\
         {answers}\n\
         # PrairieLearn grades them with the tolerances written in question.html; there is no\n\
         # grade(). Export again instead of editing.\n\
         import random\n\
         \n\
         VARIANTS = {literal}\n\
         \n\
         \n\
         def generate(data):\n    \
             variant = random.choice(VARIANTS)\n    \
             data[\"params\"].update(variant[\"params\"])\n    \
             data[\"correct_answers\"].update(variant[\"correct_answers\"])\n",
        title = q.title.replace('\n', " "),
        path = q.path.replace('\n', " "),
        answers = answers.join("\n"),
    )
}

/// The question's files: (path relative to the export directory, contents).
pub fn files(q: &Question) -> Vec<(String, String)> {
    vec![
        (format!("{}/info.json", q.qid), info_json(q)),
        (format!("{}/question.html", q.qid), question_html(q)),
        (format!("{}/server.py", q.qid), server_py(q)),
    ]
}
