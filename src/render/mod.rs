//! `tq render`: a problem and the solution tq derives for it, as a LaTeX document or
//! Markdown, in the course's notation. No IO: the command line writes the result.
//!
//! The problem part is the file itself (sizes, declarations, the model's equations, the
//! statements to be shown); the solution part is what `tq derive` derives (the
//! backpropagation program in scatter and gather form, a scalar program's values,
//! adjoints and partials, the multiplication counts, the moments engine's recurrences,
//! closed forms and solved initializations) and every claim with the verdict of
//! the claim engines.

pub mod math;

use crate::claims::{ClaimReport, Verdict};
use crate::derive::{derivation, Derivation, MomentLine, MomentSection};
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

/// The Moments section in LaTeX.
fn latex_moments(rows: &[MomentRow], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    out.push_str("\\subsection*{Moments (the moments engine)}\n");
    let mut last = "";
    for r in rows {
        if r.section != last {
            out.push_str(&format!("\\paragraph{{{}.}}\n", esc_text(r.section)));
            last = r.section;
        }
        let body = match &r.math {
            Some(m) => format!("$\\displaystyle {m}$"),
            None => esc_text(&r.text),
        };
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!(" \\quad {{\\small [{}]}}", esc_text(&r.note))
        };
        out.push_str(&format!("\\tqline{{0em}}{{{body}{note}}}\n"));
    }
}

/// The Moments section in Markdown.
fn md_moments(rows: &[MomentRow], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    out.push_str("### Moments (the moments engine)\n\n");
    let mut last = "";
    for r in rows {
        if r.section != last {
            if !last.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("**{}.**\n\n", r.section));
            last = r.section;
        }
        let body = match &r.math {
            Some(m) => format!("${m}$"),
            None => esc_md(&r.text),
        };
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!(" [{}]", esc_md(&r.note))
        };
        out.push_str(&format!("- {body}{note}\n"));
    }
    out.push('\n');
}

/// One line of a program: its indentation depth and either math or a loop head.
enum Line {
    Math(usize, String),
    Text(usize, String),
}

fn program_lines(items: &[Item], depth: usize, out: &mut Vec<Line>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => out.push(Line::Math(depth, math::equation(eq))),
            ItemKind::Loop(l) => {
                let head = format!(
                    "\\textbf{{for}}\\ {}{}:",
                    math::range(&l.range),
                    if l.reverse {
                        "\\ \\textbf{(reversed)}"
                    } else {
                        ""
                    }
                );
                out.push(Line::Math(depth, head));
                program_lines(&l.body, depth + 1, out);
            }
            ItemKind::ForIndices(f) => {
                let ids: Vec<String> = f.indices.iter().map(|i| math::ident(&i.name)).collect();
                let head = format!("\\textbf{{for}}\\ {}:", ids.join(","));
                if f.body.len() == 1 {
                    if let ItemKind::Equation(eq) = &f.body[0].kind {
                        out.push(Line::Math(
                            depth,
                            format!("{head}\\quad {}", math::equation(eq)),
                        ));
                        continue;
                    }
                }
                out.push(Line::Math(depth, head));
                program_lines(&f.body, depth + 1, out);
            }
            ItemKind::Rule(r) => {
                out.push(Line::Text(
                    depth,
                    format!(
                        "Update rule {} over {}:",
                        esc_text(&r.name.name),
                        esc_text(&r.var.name)
                    ),
                ));
                program_lines(&r.body, depth + 1, out);
            }
            _ => {}
        }
    }
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
    for line in source.lines() {
        let Some(text) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let text = text.trim();
        if text.is_empty() || text.contains(".txt") || header(text).is_some() {
            continue;
        }
        return Some(text.to_string());
    }
    None
}

/// Text (not math) escaped for LaTeX; the Unicode the reports use becomes math.
pub fn esc_text(s: &str) -> String {
    let mut out = String::new();
    // Backquoted names of the reports are set in typewriter type.
    let mut code = false;
    for c in s.chars() {
        match c {
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
            _ => out.push('?'),
        }
    }
    if code {
        out.push('}');
    }
    out
}

/// Markdown text: the characters Markdown would interpret are escaped.
fn esc_md(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The declarations of the problem, each as math with a word for its kind.
fn declarations(p: &Program, env: &crate::check::Env) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &p.items {
        match &item.kind {
            ItemKind::Size(ids) => {
                let ids: Vec<String> = ids.iter().map(|i| math::ident(&i.name)).collect();
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
    let lines = crate::span::LineIndex::new(&r.source);
    let mut by_line: std::collections::HashMap<usize, &ClaimReport> =
        std::collections::HashMap::new();
    for c in r.claims.iter().rev() {
        by_line.insert(c.line, c);
    }
    items
        .into_iter()
        .map(|(item, c)| {
            let (line, _) = lines.line_col(item.span.start as usize);
            (c, by_line.get(&line).copied())
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

/// The solution's parts that do not depend on the output language.
struct Solution<'a> {
    derivation: Option<Derivation<'a>>,
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

/// Renders a checked file.
pub fn render(r: &FileReport, opts: RenderOptions) -> String {
    let sol = Solution {
        derivation: derivation(r),
    };
    match opts.format {
        Format::Latex => latex(r, &sol, opts),
        Format::Markdown => markdown(r, &sol, opts.audience),
    }
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
    program_lines(&r.program.items, 0, &mut lines);
    ProblemParts {
        title: title(r),
        author: header_value(&r.source, "author"),
        description: description(&r.source),
        declarations: declarations(&r.program, &r.env),
        boundary: boundary_sentence(r.env.boundary),
        model: lines
            .into_iter()
            .map(|l| match l {
                Line::Math(d, m) => (d, m, true),
                Line::Text(d, t) => (d, t, false),
            })
            .collect(),
    }
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

const PREAMBLE: &str = "\\documentclass[11pt]{article}
\\usepackage[T1]{fontenc}
\\usepackage[a4paper,margin=2cm]{geometry}
\\usepackage{amsmath,amssymb}
\\usepackage{longtable,array}
\\setlength{\\parindent}{0pt}
\\setlength{\\parskip}{3pt}
\\newcommand{\\tqline}[2]{\\par\\hangindent=\\dimexpr#1\\relax\\hangafter=0 #2\\par}
";

fn latex_lines(lines: &[Line], out: &mut String) {
    for l in lines {
        match l {
            Line::Math(d, m) => out.push_str(&format!(
                "\\tqline{{{}em}}{{$\\displaystyle {m}$}}\n",
                2 * d
            )),
            Line::Text(d, t) => out.push_str(&format!("\\tqline{{{}em}}{{{t}}}\n", 2 * d)),
        }
    }
}

fn latex(r: &FileReport, sol: &Solution<'_>, opts: RenderOptions) -> String {
    let fragment = opts.fragment;
    let mut out = String::new();
    if !fragment {
        out.push_str(PREAMBLE);
        out.push_str(&format!(
            "\\begin{{document}}\n{{\\Large\\bfseries {}}}\\par\\medskip\n",
            esc_text(&title(r))
        ));
        if let Some(a) = header_value(&r.source, "author") {
            out.push_str(&format!("{}\\par\\medskip\n", esc_text(&a)));
        }
    }
    out.push_str(&format!(
        "% Rendered by tq from {}; the solution is derived and checked by tq.\n",
        esc_text(&r.path).replace('\n', " ")
    ));
    out.push_str("\\section*{Problem}\n");
    if let Some(d) = description(&r.source) {
        out.push_str(&format!("{}\n\n", esc_text(&d)));
    }
    if !r.diagnostics.is_empty() {
        out.push_str("\\paragraph{Diagnostics.}\n\\begin{itemize}\n");
        let lines = crate::span::LineIndex::new(&r.source);
        for d in &r.diagnostics {
            let (line, col) = lines.line_col(d.span.start as usize);
            out.push_str(&format!(
                "\\item {} at line {line}, column {col}: {}\n",
                esc_text(d.code),
                esc_text(&d.message)
            ));
        }
        out.push_str("\\end{itemize}\n");
    }
    let decls = declarations(&r.program, &r.env);
    if !decls.is_empty() {
        out.push_str("\\paragraph{Given.}\n\\begin{itemize}\n");
        for (kind, m) in &decls {
            out.push_str(&format!("\\item {}: ${m}$\n", esc_text(kind)));
        }
        out.push_str("\\end{itemize}\n");
    }
    if let Some(s) = boundary_sentence(r.env.boundary) {
        out.push_str(&format!("{s}\n\n"));
    }
    let mut lines = Vec::new();
    program_lines(&r.program.items, 0, &mut lines);
    if !lines.is_empty() {
        out.push_str("\\paragraph{The model.} A capital index is summed over the term in which it occurs (the course's notation); in a \\textbf{for} line every listed index is iterated and \\(\\mathrel{+}=\\) accumulates.\n\n");
        latex_lines(&lines, &mut out);
    }
    let claims = claims_with_reports(r);
    for (heading, listed) in questions(&claims) {
        out.push_str(&format!("\\paragraph{{{heading}}}\n\\begin{{enumerate}}\n"));
        for (k, c) in listed {
            out.push_str(&format!("\\item[{k}.] ${}$\n", math::claim(c)));
            if let Some(block) = &c.includes {
                let mut lines = Vec::new();
                program_lines(block, 1, &mut lines);
                latex_lines(&lines, &mut out);
            }
        }
        out.push_str("\\end{enumerate}\n");
    }
    if opts.audience == Audience::Student {
        if !fragment {
            out.push_str("\\end{document}\n");
        }
        return out;
    }
    out.push_str("\\section*{Solution (derived by tq)}\n");
    match &sol.derivation {
        None => out.push_str("Nothing is derived from a file with errors.\n"),
        Some(d) => latex_derivation(r, d, &mut out),
    }
    if let Some(d) = &sol.derivation {
        latex_moments(&moments_section(d), &mut out);
    }
    if !claims.is_empty() {
        out.push_str("\\subsection*{The claims, checked}\n");
        out.push_str("\\begin{longtable}{@{}r>{\\raggedright\\arraybackslash}p{0.2\\textwidth}>{\\raggedright\\arraybackslash}p{0.66\\textwidth}@{}}\n");
        for (k, (_, rep)) in claims.iter().enumerate() {
            match rep {
                Some(rep) => out.push_str(&format!(
                    "{}. & \\textbf{{{}}} & {}: {} \\\\\n",
                    k + 1,
                    esc_text(&verdict_word(
                        rep.verdict,
                        rep.expect == Some(Expectation::Refuted)
                    )),
                    esc_text(rep.method.as_str()),
                    esc_text(&rep.evidence)
                )),
                None => out.push_str(&format!("{}. & --- & not decided \\\\\n", k + 1)),
            }
        }
        out.push_str("\\end{longtable}\n");
    }
    if !fragment {
        out.push_str("\\end{document}\n");
    }
    out
}

fn latex_derivation(r: &FileReport, d: &Derivation, out: &mut String) {
    if !d.backward.items.is_empty() {
        let seeds: Vec<String> = d
            .backward
            .seeds
            .iter()
            .map(|s| format!("${}$", math::ident(s)))
            .collect();
        out.push_str(&format!(
            "\\subsection*{{Backpropagation (loop-and-scatter form)}}\nThe gradient arrives at {}.\n\n",
            seeds.join(", ")
        ));
        let mut lines = Vec::new();
        program_lines(&d.backward.items, 0, &mut lines);
        latex_lines(&lines, out);
        out.push_str("\\subsection*{Backpropagation (gather form)}\n");
        let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        let mut lines = Vec::new();
        program_lines(&items, 0, &mut lines);
        latex_lines(&lines, out);
        let notes: Vec<&String> = d
            .gather
            .iter()
            .flat_map(|g| g.notes.iter())
            .chain(d.backward.notes.iter())
            .collect();
        if !notes.is_empty() {
            out.push_str("\\begin{itemize}\n");
            for n in notes {
                out.push_str(&format!("\\item {}\n", esc_text(n)));
            }
            out.push_str("\\end{itemize}\n");
        }
    }
    if let Some(sc) = &d.scalar {
        out.push_str("\\subsection*{The scalar program, exactly}\n");
        if !sc.point.is_empty() {
            let pt: Vec<String> = sc
                .point
                .iter()
                .map(|(n, v)| format!("{} = {}", math::ident(n), sym::to_latex(v)))
                .collect();
            out.push_str(&format!("At ${}$.\n\n", pt.join(",\\ ")));
        }
        for (title, qs) in [
            ("Forward values", &sc.values),
            (
                "Backward adjoints (the derived program run exactly)",
                &sc.adjoints,
            ),
            ("Partial derivatives of the loss", &sc.partials),
        ] {
            out.push_str(&format!("\\paragraph{{{title}.}}\n\\begin{{align*}}\n"));
            for q in qs.iter() {
                let at =
                    q.at.as_ref()
                        .map(|v| format!(" &&= {}", sym::to_latex(v)))
                        .unwrap_or_default();
                out.push_str(&format!(
                    "{} &= {}{at} \\\\\n",
                    quantity_name(&q.name),
                    sym::to_latex(&q.expr)
                ));
            }
            out.push_str("\\end{align*}\n");
        }
    }
    if !d.costs.is_empty() {
        out.push_str("\\subsection*{Multiplications}\n\\begin{align*}\n");
        for (n, c) in &d.costs {
            out.push_str(&format!("{} &= {} \\\\\n", cost_name(n), sym::to_latex(c)));
        }
        out.push_str("\\end{align*}\n");
    }
    let _ = r;
}

/// `u.grad` → `u.\mathrm{grad}`, `d(u)/d(a)` → `\partial u/\partial a`.
fn quantity_name(n: &str) -> String {
    if let Some(base) = n.strip_suffix(".grad") {
        return format!("{}.\\mathrm{{grad}}", math::ident(base));
    }
    if let Some(rest) = n.strip_prefix("d(") {
        if let Some((u, a)) = rest.split_once(")/d(") {
            let a = a.trim_end_matches(')');
            return format!(
                "\\frac{{\\partial {}}}{{\\partial {}}}",
                math::ident(u),
                math::ident(a)
            );
        }
    }
    math::ident(n)
}

/// `mults(R)` → `\operatorname{mults}(R)`; `forward`, `backward` as words.
fn cost_name(n: &str) -> String {
    match n.strip_prefix("mults(").and_then(|s| s.strip_suffix(')')) {
        Some(t) => {
            let parsed = crate::syntax::parser::parse(&format!("x = {t}"));
            let shown = parsed
                .program
                .items
                .first()
                .and_then(|i| match &i.kind {
                    ItemKind::Equation(eq) if parsed.diagnostics.is_empty() => {
                        Some(math::expr(&eq.rhs))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| format!("\\mathrm{{{}}}", esc_text(t)));
            format!("\\operatorname{{mults}}({shown})")
        }
        None => format!("\\text{{{} program}}", esc_text(n)),
    }
}

fn md_lines(lines: &[Line], out: &mut String) {
    for l in lines {
        match l {
            Line::Math(d, m) => out.push_str(&format!("{}- ${m}$\n", "  ".repeat(*d))),
            Line::Text(d, t) => out.push_str(&format!("{}- {t}\n", "  ".repeat(*d))),
        }
    }
}

fn markdown(r: &FileReport, sol: &Solution<'_>, audience: Audience) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n", esc_md(&title(r))));
    if let Some(a) = header_value(&r.source, "author") {
        out.push_str(&format!("{}\n\n", esc_md(&a)));
    }
    out.push_str(&format!(
        "<!-- Rendered by tq from {}; the solution is derived and checked by tq. -->\n\n",
        r.path.replace("--", "- -")
    ));
    out.push_str("## Problem\n\n");
    if let Some(d) = description(&r.source) {
        out.push_str(&format!("{}\n\n", esc_md(&d)));
    }
    if !r.diagnostics.is_empty() {
        out.push_str("**Diagnostics.**\n\n");
        let lines = crate::span::LineIndex::new(&r.source);
        for d in &r.diagnostics {
            let (line, col) = lines.line_col(d.span.start as usize);
            out.push_str(&format!(
                "- {} at line {line}, column {col}: {}\n",
                d.code,
                esc_md(&d.message)
            ));
        }
        out.push('\n');
    }
    let decls = declarations(&r.program, &r.env);
    if !decls.is_empty() {
        out.push_str("**Given.**\n\n");
        for (kind, m) in &decls {
            out.push_str(&format!("- {kind}: ${m}$\n"));
        }
        out.push('\n');
    }
    if let Some(s) = boundary_sentence(r.env.boundary) {
        out.push_str(&format!("{s}\n\n"));
    }
    let mut lines = Vec::new();
    program_lines(&r.program.items, 0, &mut lines);
    if !lines.is_empty() {
        out.push_str("**The model.** A capital index is summed over the term in which it occurs (the course's notation); in a **for** line every listed index is iterated and $\\mathrel{+}=$ accumulates.\n\n");
        md_lines(&lines, &mut out);
        out.push('\n');
    }
    let claims = claims_with_reports(r);
    for (heading, listed) in questions(&claims) {
        out.push_str(&format!("**{heading}**\n\n"));
        for (k, c) in listed {
            out.push_str(&format!("{k}. ${}$\n", math::claim(c)));
            if let Some(block) = &c.includes {
                let mut lines = Vec::new();
                program_lines(block, 0, &mut lines);
                let mut sub = String::new();
                md_lines(&lines, &mut sub);
                for l in sub.lines() {
                    out.push_str(&format!("    {l}\n"));
                }
            }
        }
        out.push('\n');
    }
    if audience == Audience::Student {
        return out;
    }
    out.push_str("## Solution (derived by tq)\n\n");
    match &sol.derivation {
        None => out.push_str("Nothing is derived from a file with errors.\n\n"),
        Some(d) => md_derivation(d, &mut out),
    }
    if let Some(d) = &sol.derivation {
        md_moments(&moments_section(d), &mut out);
    }
    if !claims.is_empty() {
        out.push_str(
            "### The claims, checked\n\n| # | verdict | method: evidence |\n|---|---|---|\n",
        );
        for (k, (_, rep)) in claims.iter().enumerate() {
            match rep {
                Some(rep) => out.push_str(&format!(
                    "| {} | **{}** | {}: {} |\n",
                    k + 1,
                    verdict_word(rep.verdict, rep.expect == Some(Expectation::Refuted)),
                    esc_md(rep.method.as_str()),
                    esc_md(&rep.evidence)
                )),
                None => out.push_str(&format!("| {} | — | not decided |\n", k + 1)),
            }
        }
        out.push('\n');
    }
    out
}

fn md_derivation(d: &Derivation, out: &mut String) {
    if !d.backward.items.is_empty() {
        out.push_str(&format!(
            "### Backpropagation (loop-and-scatter form)\n\nThe gradient arrives at {}.\n\n",
            d.backward
                .seeds
                .iter()
                .map(|s| format!("${}$", math::ident(s)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut lines = Vec::new();
        program_lines(&d.backward.items, 0, &mut lines);
        md_lines(&lines, out);
        out.push_str("\n### Backpropagation (gather form)\n\n");
        let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        let mut lines = Vec::new();
        program_lines(&items, 0, &mut lines);
        md_lines(&lines, out);
        out.push('\n');
        for n in d
            .gather
            .iter()
            .flat_map(|g| g.notes.iter())
            .chain(d.backward.notes.iter())
        {
            out.push_str(&format!("> {}\n", esc_md(n)));
        }
        out.push('\n');
    }
    if let Some(sc) = &d.scalar {
        out.push_str("### The scalar program, exactly\n\n");
        if !sc.point.is_empty() {
            let pt: Vec<String> = sc
                .point
                .iter()
                .map(|(n, v)| format!("{} = {}", math::ident(n), sym::to_latex(v)))
                .collect();
            out.push_str(&format!("At ${}$.\n\n", pt.join(",\\ ")));
        }
        for (title, qs) in [
            ("Forward values", &sc.values),
            (
                "Backward adjoints (the derived program run exactly)",
                &sc.adjoints,
            ),
            ("Partial derivatives of the loss", &sc.partials),
        ] {
            out.push_str(&format!("**{title}.**\n\n"));
            for q in qs.iter() {
                let at =
                    q.at.as_ref()
                        .map(|v| format!(" = {}", sym::to_latex(v)))
                        .unwrap_or_default();
                out.push_str(&format!(
                    "- ${} = {}{at}$\n",
                    quantity_name(&q.name),
                    sym::to_latex(&q.expr)
                ));
            }
            out.push('\n');
        }
    }
    if !d.costs.is_empty() {
        out.push_str("### Multiplications\n\n");
        for (n, c) in &d.costs {
            out.push_str(&format!("- ${} = {}$\n", cost_name(n), sym::to_latex(c)));
        }
        out.push('\n');
    }
}
