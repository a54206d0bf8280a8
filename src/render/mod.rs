//! `tq render`: a problem and the solution tq derives for it, as a LaTeX document or
//! Markdown, in the course's notation. No IO: the command line writes the result.
//!
//! The problem part is the file itself (sizes, declarations, the model's equations, the
//! statements to be shown); the solution part is what `tq derive` derives (the
//! backpropagation program in scatter and gather form, a scalar program's values,
//! adjoints and partials, the multiplication counts, the moments engine's recurrences,
//! closed forms and solved initializations) and every claim with the verdict of
//! the claim engines.
//!
//! Layers: [`build`] makes one typed [`doc::Document`] of the page (sections, paragraphs
//! of text and math runs, program lines, aligned equations, questions, the table of
//! claims) from the checked file; [`latex`] and [`markdown`] print it. Formulas are set
//! from their typed form by [`math`] (syntax trees) and `sym::to_latex`; the engines'
//! prose (evidence, notes, diagnostics) has its formulas typeset by [`prose`].

pub mod build;
pub mod doc;
pub mod latex;
pub mod markdown;
pub mod math;
pub mod points;
pub mod prose;

use crate::claims::{ClaimReport, Verdict};
use crate::derive::{Derivation, MomentLine, MomentSection};
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::*;

/// The output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Latex,
    Markdown,
}

/// What the renderer writes.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub format: Format,
    /// A fragment to include in another document (no preamble, no `\begin{document}`).
    pub fragment: bool,
    /// Who the page is for: the key (problem and worked solution) or students (the
    /// problem and its questions only).
    pub audience: Audience,
}

/// Who a rendered page is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Audience {
    /// The problem, the claims as questions, and the solution derived and checked by tq.
    #[default]
    Key,
    /// The problem and the claims as questions: no solution, no verdicts.
    Student,
}

/// One result of the moments engine, as the solution shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct MomentRow {
    /// `Forward`, `Backward`, `Initialization`, `Zero padding (the border effect)` or
    /// `Note`.
    pub section: &'static str,
    /// `name = expr` as LaTeX math, when it reads as an expression.
    pub math: Option<String>,
    /// `name = expr` as text, when it does not (the border's positions, notes).
    pub text: String,
    /// How it was obtained (`closed form, from Var(L_0) = 1`, `recurrence; exact`).
    pub note: String,
}

/// `Var(L_{l + 1}) = Var(L_l) + ...` as LaTeX: the moment (`.tq` notation, read as the
/// left side of a claim so that it is written in the course's notation, with the
/// claim's givens) and the value, typeset from its symbolic form when it has one.
fn moment_math(m: &MomentLine) -> Option<String> {
    if m.words {
        // A value in words (`no closed form`): the moment as math, the words as text
        // (the lines in words have no givens).
        let words = m.expr.trim_start_matches('(').trim_end_matches(')');
        let parsed = crate::syntax::parser::parse(&format!("claim {} == 0\n", m.name));
        let [Item {
            kind: ItemKind::Claim(c),
            ..
        }] = parsed.program.items.as_slice()
        else {
            return None;
        };
        let Expr::Rel(_, lhs, ..) = &c.body else {
            return None;
        };
        return (parsed.diagnostics.is_empty() && m.given.is_none()).then(|| {
            format!(
                "{} = \\text{{{}}}",
                math::expr(lhs),
                crate::sym::typeset::escape_math_text(words)
            )
        });
    }
    let op = if m.bound { "<=" } else { "==" };
    let given = m
        .given
        .as_ref()
        .map(|g| format!(" given {g}"))
        .unwrap_or_default();
    let src = format!("claim {} {op} {}{given}\n", m.name, m.expr);
    let parsed = crate::syntax::parser::parse(&src);
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    let [Item {
        kind: ItemKind::Claim(c),
        ..
    }] = parsed.program.items.as_slice()
    else {
        return None;
    };
    let whole = math::claim(c);
    // A right side with a symbolic value: in the symbolic engine's notation
    // (`D^{2} J`, fractions), as the multiplication counts are.
    if let (Expr::Rel(rel, lhs, rhs, _), Some(e)) = (&c.body, &m.value) {
        let prefix = format!(
            "{} {} {}",
            math::expr(lhs),
            math::relop(*rel),
            math::expr(rhs)
        );
        if let Some(rest) = whole.strip_prefix(&prefix) {
            return Some(format!(
                "{} {} {}{rest}",
                math::expr(lhs),
                math::relop(*rel),
                sym::to_latex(e)
            ));
        }
    }
    Some(whole)
}

/// The moments engine's results (variance recurrences, closed forms, solved
/// initializations, the border effect under zero padding), as `tq derive` derives them
/// ([`crate::derive::MomentLine`]), for the solution's Moments section.
pub fn moments_section(d: &Derivation) -> Vec<MomentRow> {
    d.moments
        .iter()
        .map(|m| {
            let section = match m.section {
                MomentSection::Forward => "Forward",
                MomentSection::Backward => "Backward",
                MomentSection::Initialization => "Initialization",
                MomentSection::Border => "Zero padding (the border effect)",
                MomentSection::Note => "Note",
            };
            if m.section == MomentSection::Note {
                return MomentRow {
                    section,
                    math: None,
                    text: m.note.clone(),
                    note: String::new(),
                };
            }
            let shown = if m.bound { "<=" } else { "=" };
            let math = if m.section == MomentSection::Border {
                None
            } else {
                moment_math(m)
            };
            MomentRow {
                section,
                math,
                text: format!("{} {shown} {}", m.shown_name(), m.expr),
                note: m.note.clone(),
            }
        })
        .collect()
}

/// The description of the problem: the first comment line of the file's leading
/// comment block that is not a reference to a seed document (`NNN_xxx.txt ...`).
/// A header line of the file's first comments: `# title: ...` or `# author: ...`.
fn header(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.split_once(':')?;
    let key = key.trim();
    (key.eq_ignore_ascii_case("title") || key.eq_ignore_ascii_case("author"))
        .then(|| (key, value.trim()))
        .filter(|(_, v)| !v.is_empty())
}

/// The value of a header (`title`, `author`) among the file's leading comment lines.
fn header_value(source: &str, wanted: &str) -> Option<String> {
    source
        .lines()
        .map_while(|l| {
            l.trim_start()
                .strip_prefix('#')
                .or(l.trim().is_empty().then_some(""))
        })
        .filter_map(|t| header(t.trim()))
        .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
        .map(|(_, v)| v.to_string())
}

fn description(source: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in source.lines() {
        let Some(text) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let text = text.trim();
        match out.as_mut() {
            None => {
                if text.is_empty() || text.contains(".txt") || header(text).is_some() {
                    continue;
                }
                out = Some(text.to_string());
            }
            // A sentence that runs on over the next comment lines is read to its end.
            Some(d) => {
                if text.is_empty() || header(text).is_some() {
                    break;
                }
                d.push(' ');
                d.push_str(text);
            }
        }
        if out
            .as_ref()
            .is_some_and(|d| d.ends_with('.') || first_sentence_end(d).is_some())
        {
            break;
        }
    }
    // The first sentence only: a second sentence on its line (the solution, probe36 b07:
    // "A layer with weights W. The answer is Var = 2/3 at the border.") is no part of it
    // and was printed on the student page.
    out.map(|d| match first_sentence_end(&d) {
        Some(k) => d[..k].to_string(),
        None => d,
    })
}

/// The end (past its period) of the first sentence of `d` that another follows: a period
/// then a space and a capital, a digit or a bracket, not after an abbreviation (`e.g.`,
/// `i.e.`, `cf.`, `vs.`, `etc.`, `Fig.`; the word before the period is read whole).
fn first_sentence_end(d: &str) -> Option<usize> {
    const ABBREVIATIONS: &[&str] = &[
        "e.g", "i.e", "cf", "vs", "etc", "fig", "eq", "resp", "approx", "no",
    ];
    let bytes = d.as_bytes();
    for (k, _) in d.match_indices(". ") {
        let word = d[..k]
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("");
        let lower = word.to_ascii_lowercase();
        if ABBREVIATIONS.contains(&lower.as_str()) {
            continue;
        }
        // The next sentence starts with a capital, a digit or a formula's opening.
        let next = bytes.get(k + 2).copied().unwrap_or(b' ');
        if next.is_ascii_uppercase() || next.is_ascii_digit() || next == b'(' || next == b'$' {
            return Some(k + 1);
        }
    }
    None
}

/// Text (not math) escaped for LaTeX; the Unicode the reports use becomes math.
pub fn esc_text(s: &str) -> String {
    let mut out = String::new();
    // Backquoted names of the reports are set in typewriter type.
    let mut code = false;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            // A path in prose (`docs/derivations.md`) may break after its slashes: as one
            // word it was set 60 pt into the margin (problems/worked_003.tq).
            '/' if prev.is_ascii_alphabetic() && !code => out.push_str("/\\allowbreak{}"),
            '`' => {
                out.push_str(if code { "}" } else { "\\texttt{" });
                code = !code;
            }
            '\\' => out.push_str("\\textbackslash{}"),
            '#' | '$' | '%' | '&' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\ensuremath{<}"),
            '>' => out.push_str("\\ensuremath{>}"),
            '|' => out.push_str("\\ensuremath{|}"),
            '−' => out.push_str("\\ensuremath{-}"),
            '—' => out.push_str("---"),
            '–' => out.push_str("--"),
            '×' => out.push_str("\\ensuremath{\\times}"),
            '·' => out.push_str("\\ensuremath{\\cdot}"),
            '≤' => out.push_str("\\ensuremath{\\le}"),
            '≥' => out.push_str("\\ensuremath{\\ge}"),
            '≈' => out.push_str("\\ensuremath{\\approx}"),
            '≠' => out.push_str("\\ensuremath{\\ne}"),
            '±' => out.push_str("\\ensuremath{\\pm}"),
            '→' => out.push_str("\\ensuremath{\\to}"),
            '←' => out.push_str("\\ensuremath{\\leftarrow}"),
            '↑' => out.push_str("\\ensuremath{\\uparrow}"),
            '↓' => out.push_str("\\ensuremath{\\downarrow}"),
            '∞' => out.push_str("\\ensuremath{\\infty}"),
            '²' => out.push_str("\\ensuremath{^2}"),
            '³' => out.push_str("\\ensuremath{^3}"),
            '√' => out.push_str("\\ensuremath{\\surd}"),
            'Δ' => out.push_str("\\ensuremath{\\Delta}"),
            'Σ' => out.push_str("\\ensuremath{\\Sigma}"),
            'σ' => out.push_str("\\ensuremath{\\sigma}"),
            'χ' => out.push_str("\\ensuremath{\\chi}"),
            'μ' => out.push_str("\\ensuremath{\\mu}"),
            'η' => out.push_str("\\ensuremath{\\eta}"),
            'λ' => out.push_str("\\ensuremath{\\lambda}"),
            'α' => out.push_str("\\ensuremath{\\alpha}"),
            'β' => out.push_str("\\ensuremath{\\beta}"),
            'γ' => out.push_str("\\ensuremath{\\gamma}"),
            'ε' => out.push_str("\\ensuremath{\\epsilon}"),
            'θ' => out.push_str("\\ensuremath{\\theta}"),
            'π' => out.push_str("\\ensuremath{\\pi}"),
            'ℓ' => out.push_str("\\ensuremath{\\ell}"),
            '′' => out.push('\''),
            c if c.is_ascii() => out.push(c),
            c => match (prose::unicode_math(c), latin_text(c)) {
                (Some(m), _) => out.push_str(&format!("\\ensuremath{{{}}}", m.trim())),
                (None, Some(t)) => out.push_str(&t),
                (None, None) => out.push('?'),
            },
        }
        prev = c;
    }
    if code {
        out.push('}');
    }
    out
}

/// The declarations of the problem, each as math with a word for its kind.
fn declarations(p: &Program, env: &crate::check::Env) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &p.items {
        match &item.kind {
            // A fixed or derived size with its value or formula (`D = 3`, `U = \lceil X/2
            // \rceil`): listed by name alone, the output size a convolution exercise is
            // about was on no page (probe36 b08).
            ItemKind::Size(ids) => {
                let ids: Vec<String> = ids
                    .iter()
                    .map(
                        |i| match env.derived_sizes.iter().find(|(n, _)| *n == i.name) {
                            Some((_, value)) => {
                                format!("{} = {}", math::ident(&i.name), math::expr(value))
                            }
                            None => math::ident(&i.name),
                        },
                    )
                    .collect();
                out.push(("sizes".into(), ids.join(", ")));
            }
            ItemKind::Index {
                names,
                size,
                centered,
            } => {
                let ids: Vec<String> = names.iter().map(|i| math::ident(&i.name)).collect();
                let n = math::ident(&size.name);
                let range = if *centered {
                    format!("-\\frac{{{n}-1}}{{2}}, \\dots, \\frac{{{n}-1}}{{2}}")
                } else {
                    format!("0, \\dots, {n}-1")
                };
                out.push((
                    "indices".into(),
                    format!("{} \\in \\{{{range}\\}}", ids.join(", ")),
                ));
            }
            ItemKind::Symbol(ids) => {
                let ids: Vec<String> = ids.iter().map(|i| math::ident(&i.name)).collect();
                out.push(("symbols".into(), ids.join(", ")));
            }
            ItemKind::Scalar(ids) => {
                let ids: Vec<String> = ids.iter().map(|i| math::ident(&i.name)).collect();
                out.push(("scalar inputs".into(), ids.join(", ")));
            }
            ItemKind::Decl(d) => {
                let kind = match d.kind {
                    DeclKind::Param => "parameter",
                    DeclKind::Input => "input",
                    DeclKind::Grad => "incoming gradient",
                };
                let mut s = if d.kind == DeclKind::Grad {
                    let mut r = d.target.clone();
                    r.grad = true;
                    math::reference(&r)
                } else {
                    math::reference(&d.target)
                };
                match &d.init {
                    Some(Init::Dist(c)) => s.push_str(&format!(" \\sim {}", math::call(c))),
                    Some(Init::Value(e)) => s.push_str(&format!(" = {}", math::expr(e))),
                    None => {}
                }
                if let Some(r) = &d.family {
                    s.push_str(&format!(",\\quad {}", math::range(r)));
                }
                out.push((kind.into(), s));
            }
            _ => {}
        }
    }
    let _ = env;
    out
}

fn boundary_sentence(b: Option<Boundary>) -> Option<&'static str> {
    b.map(|b| match b {
        Boundary::Zero => "Reads outside a tensor's extent are 0 (zero padding).",
        Boundary::Circular => "Reads outside a tensor's extent wrap around (circular padding).",
        Boundary::Valid => "Outputs are defined only where every read is inside (valid).",
    })
}

/// The claims of the program with the item each comes from, in file order.
fn claim_items(items: &[Item], out: &mut Vec<(Item, Claim)>) {
    for item in items {
        match &item.kind {
            ItemKind::Claim(c) => out.push((item.clone(), c.clone())),
            ItemKind::Loop(l) => claim_items(&l.body, out),
            ItemKind::ForIndices(f) => claim_items(&f.body, out),
            ItemKind::Rule(r) => claim_items(&r.body, out),
            _ => {}
        }
    }
}

/// The claims of a checked file with their reports (matched by line), in file order.
pub fn claims_with_reports(r: &FileReport) -> Vec<(Claim, Option<&ClaimReport>)> {
    let mut items = Vec::new();
    claim_items(&r.program.items, &mut items);
    // One line table and one map from line to report: looking each claim up from the
    // start of the file was quadratic (a 1 MiB file of claims took over a minute).
    // The claims of one line (the members of an unrolled claim, `Var(h_l)` at l = 1, 2,
    // 3) are reported in the order written, each with its own verdict: the first
    // member's report was shown for every member (a refuted member read "proved").
    let lines = crate::span::LineIndex::new(&r.source);
    let mut by_line: std::collections::HashMap<usize, std::collections::VecDeque<&ClaimReport>> =
        std::collections::HashMap::new();
    for c in &r.claims {
        by_line.entry(c.line).or_default().push_back(c);
    }
    items
        .into_iter()
        .map(|(item, c)| {
            let (line, _) = lines.line_col(item.span.start as usize);
            let reports = by_line.get_mut(&line);
            let report = match reports {
                // The last report of a line stays for any further claim on it.
                Some(q) if q.len() > 1 => q.pop_front(),
                Some(q) => q.front().copied(),
                None => None,
            };
            (c, report)
        })
        .collect()
}

fn verdict_word(v: Verdict, expected_refuted: bool) -> String {
    let s = v.as_str();
    if expected_refuted {
        format!("{s} (expected refuted)")
    } else {
        s.to_string()
    }
}

/// The two lists of questions: the claims to show, and the claims the file marks
/// `expect refuted`, which are false and are never asked to be shown.
const QUESTIONS: [(&str, bool); 2] = [
    ("Show that.", false),
    ("Each of the following is false. Find the error.", true),
];

/// The non-empty lists of questions, each with its heading and its claims numbered as
/// in the file.
fn questions<'c>(
    claims: &'c [(Claim, Option<&ClaimReport>)],
) -> Vec<(&'static str, Vec<(usize, &'c Claim)>)> {
    QUESTIONS
        .iter()
        .map(|&(heading, false_ones)| {
            let listed = claims
                .iter()
                .enumerate()
                .filter(|(_, (c, _))| stated_false(c) == false_ones)
                .map(|(k, (c, _))| (k + 1, c))
                .collect::<Vec<_>>();
            (heading, listed)
        })
        .filter(|(_, listed)| !listed.is_empty())
        .collect()
}

/// A claim the file states to be false (`expect refuted`).
fn stated_false(c: &Claim) -> bool {
    c.expect == Some(Expectation::Refuted)
}

/// Renders a checked file: one [`doc::Document`] built from the analysis, printed by the
/// writer of the format.
pub fn render(r: &FileReport, opts: RenderOptions) -> String {
    let doc = build::document(r, opts.audience);
    match opts.format {
        Format::Latex => latex::write(&doc, opts.fragment),
        Format::Markdown => markdown::write(&doc),
    }
}

/// The problem of one variant (`tq variants`), as blocks to set under the variant's
/// heading: the student page's problem (description, declarations, boundary rule, model,
/// questions) one level down, with the values of the variant's `sample` and `at` lines
/// stated before the questions, since the answers are computed at them.
pub fn variant_problem(r: &FileReport) -> Vec<doc::Block> {
    use doc::{Block, Inline};
    let d = build::document(r, Audience::Student);
    let mut out: Vec<Block> = d
        .blocks
        .into_iter()
        .map(|b| match b {
            Block::Section(t) => Block::Subsection(t),
            b => b,
        })
        .collect();
    let values = point_values(&r.program);
    if !values.is_empty() {
        let at = out
            .iter()
            .position(|b| {
                matches!(b, Block::Paragraph { lead: Some(l), .. }
                    if QUESTIONS.iter().any(|(h, _)| h == l))
            })
            .unwrap_or(out.len());
        out.insert(
            at,
            Block::Paragraph {
                lead: Some("Values.".into()),
                body: vec![Inline::Math(values.join(",\\ "))],
            },
        );
    }
    out
}

/// The values of a program's `sample` lines and of its first `at` line (the file's
/// point), in order, as LaTeX `name = value` (a name given twice keeps its last value,
/// at its first place). A later `at` line sets its names for the claims after it, and
/// their questions state it ([`points`]): the line showed the later line's value as the
/// point of every question (probe37 j05).
fn point_values(p: &Program) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut first_at = true;
    for item in &p.items {
        let bs = match &item.kind {
            ItemKind::Sample(bs) => bs,
            ItemKind::At(bs) if std::mem::take(&mut first_at) => bs,
            _ => continue,
        };
        for b in bs {
            let v = format!("{} = {}", math::ident(&b.name.name), math::expr(&b.value));
            match names.iter().position(|n| *n == b.name.name) {
                Some(k) => values[k] = v,
                None => {
                    names.push(b.name.name.clone());
                    values.push(v);
                }
            }
        }
    }
    values
}

/// The problem half of a page, for writers outside this module (`tq export`): the
/// title, the one-line description, the declarations (kind, LaTeX math), the boundary
/// sentence and the model's lines (indentation depth, LaTeX math or plain text).
pub struct ProblemParts {
    pub title: String,
    pub author: Option<String>,
    pub description: Option<String>,
    pub declarations: Vec<(String, String)>,
    pub boundary: Option<&'static str>,
    /// (depth, text, whether `text` is LaTeX math).
    pub model: Vec<(usize, String, bool)>,
}

/// The problem half of a checked file, as [`ProblemParts`].
pub fn problem_parts(r: &FileReport) -> ProblemParts {
    let mut lines = Vec::new();
    build::program_lines(&r.program.items, 0, &mut lines);
    ProblemParts {
        title: title(r),
        author: header_value(&r.source, "author"),
        description: description(&r.source),
        declarations: declarations(&r.program, &r.env),
        boundary: boundary_sentence(r.env.boundary),
        model: lines
            .into_iter()
            .map(|l| match l.content.as_slice() {
                [doc::Inline::Math(m)] => (l.depth, m.clone(), true),
                runs => (l.depth, math_of(runs), true),
            })
            .collect(),
    }
}

/// Runs of text and math as one formula (text in `\text{...}`).
fn math_of(runs: &[doc::Inline]) -> String {
    runs.iter()
        .map(|r| match r {
            doc::Inline::Math(m) => m.clone(),
            doc::Inline::Text(t) | doc::Inline::Strong(t) => format!("\\text{{{}}}", esc_text(t)),
        })
        .collect()
}

fn title(r: &FileReport) -> String {
    if let Some(t) = header_value(&r.source, "title") {
        return t;
    }
    std::path::Path::new(&r.path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| r.path.clone())
}

/// A character outside ASCII that pdflatex sets in text with the preamble's `inputenc`
/// and T1 `fontenc`: Latin letters with accents (`Ü`, `é`, `ø`, `ß`, `ł`) as they are,
/// typographic quotes and guillemets as their LaTeX spellings. `None` for the rest
/// (written as `?`, the one character the page cannot typeset without more packages).
pub(crate) fn latin_text(c: char) -> Option<String> {
    let named = match c {
        '“' | '„' => "``",
        '”' => "''",
        '‘' => "`",
        '’' => "'",
        '«' => "\\guillemotleft{}",
        '»' => "\\guillemotright{}",
        '\u{a0}' => "~",
        _ => "",
    };
    if !named.is_empty() {
        return Some(named.to_string());
    }
    // Latin-1 Supplement letters (not × and ÷) and Latin Extended-A.
    let latin = ('\u{c0}'..='\u{17f}').contains(&c) && c.is_alphabetic();
    latin.then(|| c.to_string())
}

#[cfg(test)]
mod latin_letters {
    use super::esc_text;

    /// Accented Latin letters are typeset (they were `?`); a character the page cannot
    /// typeset without more packages still is.
    #[test]
    fn accented_letters_are_kept_and_others_marked() {
        assert_eq!(
            esc_text("Übung für Schüler — café, Søren, Łódź"),
            "Übung für Schüler --- café, Søren, Łódź"
        );
        assert_eq!(
            esc_text("“quoted” … ok"),
            "``quoted'' \\ensuremath{\\dots} ok"
        );
        assert_eq!(esc_text("漢"), "?");
    }
}
