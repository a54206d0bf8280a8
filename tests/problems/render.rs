//! `tq render`: snapshots of the LaTeX and Markdown of a few problem files, and the
//! LaTeX compiled with pdflatex when it is installed.

use crate::common;
use std::path::Path;
use std::sync::OnceLock;
use tq::render::{render, Format, RenderOptions};
use tq::report::{check_source, FileReport, Options};

const FILES: &[&str] = &["resnet", "comp_graph", "gru"];

/// The reports of the files, made once in this binary (resnet's Monte Carlo claims take
/// seconds) and shared with the snapshot test of every problem file.
fn reports() -> &'static Vec<(String, &'static FileReport)> {
    static REPORTS: OnceLock<Vec<(String, &'static FileReport)>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        FILES
            .iter()
            .map(|f| {
                let path = format!("problems/{f}.tq");
                (
                    f.to_string(),
                    common::shared_report(&path, "full", common::full),
                )
            })
            .collect()
    })
}

fn doc(r: &FileReport, format: Format, fragment: bool) -> String {
    render(
        r,
        RenderOptions {
            format,
            fragment,
            audience: Default::default(),
        },
    )
}

#[test]
fn snapshots_of_rendered_documents() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, r) in reports() {
            insta::assert_snapshot!(format!("render_latex@{name}"), doc(r, Format::Latex, false));
            insta::assert_snapshot!(
                format!("render_markdown@{name}"),
                doc(r, Format::Markdown, false)
            );
        }
    });
}

#[test]
fn a_fragment_has_no_preamble_and_the_document_wraps_it() {
    let (_, r) = &reports()[1];
    let frag = doc(r, Format::Latex, true);
    let full = doc(r, Format::Latex, false);
    assert!(!frag.contains("\\documentclass") && !frag.contains("\\begin{document}"));
    assert!(full.starts_with("\\documentclass") && full.trim_end().ends_with("\\end{document}"));
    assert!(
        full.contains(frag.trim()),
        "the document contains the fragment"
    );
}

#[test]
fn the_solution_carries_the_derived_program_and_the_verdicts() {
    let (_, r) = &reports()[0];
    let tex = doc(r, Format::Latex, false);
    // The seeds' notation: σ_W, Δx, subscripted layers, the loop form.
    assert!(tex.contains("\\sigma_{W}"));
    assert!(tex.contains("x+\\Delta x"));
    assert!(tex.contains("W_{l+1}"));
    assert!(tex.contains("\\textbf{for}\\ l = 0, \\dots, L - 1\\ \\textbf{(reversed)}:"));
    let confirmed = r
        .claims
        .iter()
        .filter(|c| c.verdict == tq::claims::Verdict::Confirmed)
        .count();
    assert!(confirmed > 0);
    assert_eq!(tex.matches("\\textbf{confirmed}").count(), confirmed);
}

/// The reports of every problem file (the claims decided, as `tq render` does), made
/// once in this binary and shared with the other tests of problems/.
fn every_problem() -> &'static Vec<(String, &'static FileReport)> {
    static REPORTS: OnceLock<Vec<(String, &'static FileReport)>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("problems/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tq"))
            .collect();
        files.sort();
        assert!(files.len() >= 20, "the problem files");
        files
            .iter()
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().to_string();
                let path = format!("problems/{name}.tq");
                (name, common::shared_report(&path, "full", common::full))
            })
            .collect()
    })
}

#[test]
fn the_latex_of_every_problem_file_compiles_with_pdflatex() {
    if !common::tool_available("pdflatex", &["--version"], "install texlive-latex-base") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tq-render-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut overfull = Vec::new();
    // The key and the student page of every problem file and of every erratum file.
    let errata_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("problems/errata");
    let mut errata: Vec<_> = std::fs::read_dir(&errata_dir)
        .expect("problems/errata/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tq"))
        .collect();
    errata.sort();
    let errata: Vec<(String, &FileReport)> = errata
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let path = format!("problems/errata/{name}.tq");
            (name, common::shared_report(&path, "full", common::full))
        })
        .collect();
    let mut pages = Vec::new();
    for (name, r) in every_problem().iter().cloned().chain(errata) {
        pages.push((name.clone(), doc(r, Format::Latex, false)));
        let student = render(
            r,
            RenderOptions {
                format: Format::Latex,
                fragment: false,
                audience: tq::render::Audience::Student,
            },
        );
        pages.push((format!("{name}_student"), student));
    }
    for (name, page) in pages {
        let tex = dir.join(format!("{name}.tex"));
        std::fs::write(&tex, page).unwrap();
        let out = std::process::Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error"])
            .arg(format!("{name}.tex"))
            .current_dir(&dir)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}.tex does not compile:\n{}",
            log.lines()
                .filter(|l| l.starts_with('!') || l.starts_with("l."))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let pdf = std::fs::metadata(dir.join(format!("{name}.pdf"))).unwrap();
        assert!(pdf.len() > 1000, "{name}.pdf is empty");
        overfull.extend(
            log.lines()
                .filter(|l| l.starts_with("Overfull \\hbox"))
                .map(|l| format!("{name}: {l}")),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    // No line of any page runs past the margin (probe 29: an erratum's file names and
    // a question of problems/sgd_l2_momentum.tq did).
    assert!(
        overfull.is_empty(),
        "{} overfull boxes:\n{}",
        overfull.len(),
        overfull.join("\n")
    );
}

/// pdflatex's overfull lines for one LaTeX page (`None` without pdflatex).
fn overfull_lines(name: &str, tex: &str) -> Option<Vec<String>> {
    if !common::tool_available("pdflatex", &["--version"], "install texlive-latex-base") {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("tq-render-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.tex")), tex).unwrap();
    let out = std::process::Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error"])
        .arg(format!("{name}.tex"))
        .current_dir(&dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{name}.tex does not compile:\n{log}");
    Some(
        log.lines()
            .filter(|l| l.starts_with("Overfull \\hbox"))
            .map(String::from)
            .collect(),
    )
}

/// Long questions (probe 29c e01: a variance of 110 glyphs), long claims with givens,
/// and a question over 24 terms: each breaks within the margin, on the key and the
/// student page.
#[test]
fn a_long_question_breaks_within_the_margin() {
    let mut src = String::from(
        "size I, J
symbol s, v, mw, mx, u, mu
input x[I] ~ normal(mx, v)
param w[I] ~ normal(mw, s)
y = w[I] x[I]
param c[J] ~ normal(mu, u)
z = c[J] y
claim Var(z) == J u (I ((s + mw^2) (v + mx^2) - mw^2 mx^2) + I^2 mw^2 mx^2) + J mu^2 I ((s + mw^2) (v + mx^2) - mw^2 mx^2) + J (J - 1) mu^2 mw^2 I v
claim Var(y) == I ((s + mw^2) (v + mx^2) - mw^2 mx^2) given s = 1/2, v = 1, mw = 1/2, mx = 1, u = 1/2, mu = 1, I = 3, J = 2
",
    );
    // A sum of 24 terms of products.
    let terms: Vec<String> = (1..=24).map(|k| format!("{k} s v mw")).collect();
    src.push_str(&format!(
        "claim E(y) == {} - {} + I mw mx\n",
        terms.join(" + "),
        terms.join(" - ")
    ));
    for audience in [tq::render::Audience::Key, tq::render::Audience::Student] {
        let tex = page(&src, Format::Latex, audience);
        assert!(
            tex.contains("\\raggedright"),
            "a long question is set ragged right"
        );
        if let Some(over) = overfull_lines("long_question", &tex) {
            assert!(over.is_empty(), "{over:?}");
        }
    }
}

/// The members of a claim over an unrolled loop's variable (`size L = 12`: 13 members)
/// fold among the questions and in the table of claims, like the unrolled program; each
/// gap says which claims it stands for and, in the table, their one verdict.
#[test]
fn the_members_of_an_unrolled_claim_are_folded_on_the_key() {
    let src = "size B, J
size L = 12
symbol s
input h_0[B, J] ~ normal(0, 1)
param W_l[J, J] ~ normal(0, s/J) for l in 1..L
for l in 0..L-1:
  h_{l+1}[b,j] = W_{l+1}[j,J'] h_l[b,J']
claim Var(h_l) == s^l
expect refuted
claim Var(h_l) == s^(l+1)
sample B = 2, J = 3, s = 1
";
    let md = page(src, Format::Markdown, tq::render::Audience::Key);
    let questions: Vec<&str> = md
        .lines()
        .filter(|l| {
            l.split_once(". $")
                .is_some_and(|(n, _)| n.parse::<usize>().is_ok())
        })
        .collect();
    assert_eq!(questions.len(), 6, "{questions:?}");
    assert!(md.contains("questions 3 to 12: the same claim at each member between"));
    assert!(md.contains("questions 16 to 25: the same claim at each member between"));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    // The header, 2 + gap + last for each of the two claims.
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert!(md.contains("| ⋮ | **proved** | claims 3 to 12,"), "{md}");
    assert!(
        md.contains("| ⋮ | **refuted (expected refuted)** | claims 16 to 25,"),
        "{md}"
    );
    let tex = page(src, Format::Latex, tq::render::Audience::Key);
    assert!(tex.contains("$\\vdots$ & \\textbf{proved}"));
    if let Some(over) = overfull_lines("folded_members", &tex) {
        assert!(over.is_empty(), "{over:?}");
    }
}

/// The prose of a LaTeX page: the text outside math (`$...$`, `\(...\)`,
/// `\ensuremath{...}`, `align*`), without the preamble and the comment lines.
fn prose_of_latex(tex: &str) -> String {
    let body = tex.split_once("\\begin{document}").map_or(tex, |(_, b)| b);
    let mut out = String::new();
    let mut math = false;
    let mut align = false;
    for line in body.lines() {
        if line.starts_with('%') {
            continue;
        }
        if line.starts_with("\\begin{align*}") || line.starts_with("\\end{align*}") {
            align = line.starts_with("\\begin");
            continue;
        }
        if align {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let rest: String = chars[i..].iter().take(12).collect();
            if !math && rest == "\\ensuremath{" {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            match chars[i] {
                '\\' if i + 1 < chars.len() => {
                    let n = chars[i + 1];
                    if n == '(' || n == ')' {
                        math = n == '(';
                    } else if !math {
                        out.push('\\');
                        out.push(n);
                    }
                    i += 2;
                }
                '$' => {
                    math = !math;
                    i += 1;
                }
                c => {
                    if !math {
                        out.push(c);
                    }
                    i += 1;
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The lines of a LaTeX page whose prose holds ASCII math: an escaped `_` or `^`
/// (`Var(y\_0)`, `D\textasciicircum{}2`), or a raw `^`, `_` or `*` (other than the star
/// of `\section*`).
/// Also a formula set as upright text inside math (`\mathrm{y^\{relu\}}`).
fn ascii_math_in_latex_prose(tex: &str) -> Vec<String> {
    let upright = tex.lines().filter(|l| {
        l.split("\\mathrm{").skip(1).any(|rest| {
            let word = rest.split('}').next().unwrap_or("");
            word.contains(['^', '*']) || word.contains("\\{") || word.contains("\\_")
        })
    });
    prose_of_latex(tex)
        .lines()
        .map(|l| l.replace("\\section*", "").replace("\\subsection*", ""))
        .filter(|l| {
            l.contains("\\_") || l.contains("textasciicircum") || l.contains(['^', '_', '*'])
        })
        .chain(upright.map(String::from))
        .collect()
}

/// The same for Markdown: outside `$...$` (and the comment), an escaped `_` or `*`, or
/// a `^`.
fn ascii_math_in_markdown_prose(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| !l.starts_with("<!--"))
        .map(|l| l.split('$').step_by(2).collect::<Vec<_>>().join(" "))
        .filter(|l| l.contains("\\_") || l.contains("\\*") || l.contains('^'))
        .collect()
}

#[test]
fn the_check_for_ascii_math_in_prose_finds_what_the_pages_used_to_show() {
    // Lines of the page of worked_004 before names and evidence were typeset.
    for old in [
        "\\tqline{0em}{$\\displaystyle x$ \\quad {\\small [closed form, from Var(y\\_0) = 1]}}",
        "The gradient arrives at $y_{K}$, $\\mathrm{y^\\{relu\\}}_{K}$.",
        "1. & \\textbf{proved} & moments: E(x\\_k) is the mean of relu \\\\",
        "(a distinct zero-mean weight of W\\_\\{l + 1\\} in each): D\\textasciicircum{}2*J \\ensuremath{\\times} the variance",
    ] {
        assert_eq!(ascii_math_in_latex_prose(old).len(), 1, "not found in: {old}");
    }
    for new in [
        "\\tqline{0em}{$\\displaystyle x$ \\quad {\\small [closed form, from $\\operatorname{Var}\\left(y_{0}\\right) = 1$]}}",
        "The gradient arrives at $y_{K}$, $y^{\\mathrm{relu}}_{K}$.",
        "\\subsection*{Moments} \\ensuremath{^2}",
    ] {
        assert!(ascii_math_in_latex_prose(new).is_empty(), "found in: {new}");
    }
    assert_eq!(
        ascii_math_in_markdown_prose("- $x$ [closed form, from Var(y\\_0) = 1]").len(),
        1
    );
    assert!(ascii_math_in_markdown_prose("- $x_0^2$ [closed form, from $y_{0}$]").is_empty());
}

#[test]
fn no_ascii_math_is_left_in_the_prose_of_any_problem_file() {
    let mut found = Vec::new();
    for (name, r) in every_problem() {
        for l in ascii_math_in_latex_prose(&doc(r, Format::Latex, false)) {
            found.push(format!("{name}.tex: {l}"));
        }
        for l in ascii_math_in_markdown_prose(&doc(r, Format::Markdown, false)) {
            found.push(format!("{name}.md: {l}"));
        }
    }
    assert!(
        found.is_empty(),
        "ASCII math in prose:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_gradient_seeds_are_typeset_from_their_declarations() {
    let (_, r) = every_problem()
        .iter()
        .find(|(n, _)| n == "worked_004")
        .expect("worked_004");
    let tex = doc(r, Format::Latex, false);
    assert!(
        tex.contains("The gradient arrives at $y_{K}$, $y^{\\mathrm{relu}}_{K}$."),
        "{tex}"
    );
    // The moments engine's note names the start of the recurrence as math.
    assert!(tex.contains(
        "[closed form, from $\\operatorname{Var}\\left(y^{\\mathrm{relu}}_{0}\\right) = 1$]"
    ));
}

#[test]
fn the_moments_section_shows_what_the_moments_engine_derives() {
    let (_, r) = &reports()[0];
    let d = tq::derive::derivation(r).expect("resnet derives");
    let rows = tq::render::moments_section(&d);
    assert_eq!(rows.len(), d.moments.len(), "one row per derived moment");
    for (row, m) in rows.iter().zip(&d.moments) {
        if ["forward", "backward", "initialization"].contains(&m.section.as_str()) {
            assert!(row.math.is_some(), "not read as math: {}", row.text);
        }
    }
    let md = doc(r, Format::Markdown, false);
    let tex = doc(r, Format::Latex, false);
    assert!(md.contains("### Moments (the moments engine)"));
    assert!(tex.contains("\\subsection*{Moments (the moments engine)}"));
    // The closed forms and solved initializations, as the symbolic engine writes them.
    let mut shown = 0;
    for m in &d.moments {
        if m.note.starts_with("closed form, from") || m.name.starts_with("solve(") {
            let e = tq::sym::parse_ascii(&m.expr).expect("derived expressions read back");
            let latex = tq::sym::to_latex(&e);
            assert!(md.contains(&latex), "{} = {} missing", m.name, m.expr);
            assert!(tex.contains(&latex), "{} = {} missing", m.name, m.expr);
            shown += 1;
        }
    }
    // Var(L_l), Var(L_l.grad), and the two solutions for sigma_W.
    assert_eq!(shown, 4);
    // The section appears exactly when the engine derives something (comp_graph).
    let (_, cg) = &reports()[1];
    let dcg = tq::derive::derivation(cg).expect("comp_graph derives");
    assert_eq!(
        dcg.moments.is_empty(),
        !doc(cg, Format::Markdown, false).contains("### Moments")
    );
}

const WITH_A_FALSE_CLAIM: &str = "# title: Dropout, scaled
# author: Course staff
# A dropout layer.
symbol p, s
input x ~ moments(0, s)
input m ~ bernoulli(p)
y = x m / p
claim Var(y) == s / p
expect refuted
claim Var(y) == s
";

fn page(src: &str, format: Format, audience: tq::render::Audience) -> String {
    let r = check_source("dropout.tq", src, &Options::default());
    render(
        &r,
        RenderOptions {
            format,
            fragment: false,
            audience,
        },
    )
}

#[test]
fn a_claim_expected_refuted_is_never_asked_to_be_shown() {
    use tq::render::Audience;
    for format in [Format::Latex, Format::Markdown] {
        for audience in [Audience::Key, Audience::Student] {
            let doc = page(WITH_A_FALSE_CLAIM, format, audience);
            let show = doc.find("Show that.").expect("a Show that list");
            let false_list = doc
                .find("Each of the following is false. Find the error.")
                .expect("a list of the false claims");
            assert!(show < false_list, "{doc}");
            // The first claim is asked to be shown, the second (false) one is not.
            let between = &doc[show..false_list];
            assert_eq!(between.matches("Var").count(), 1, "{between}");
            assert!(doc[false_list..].contains("2."), "{doc}");
        }
    }
}

#[test]
fn the_student_page_has_the_questions_and_no_solution() {
    use tq::render::Audience;
    for format in [Format::Latex, Format::Markdown] {
        let key = page(WITH_A_FALSE_CLAIM, format, Audience::Key);
        let student = page(WITH_A_FALSE_CLAIM, format, Audience::Student);
        for doc in [&key, &student] {
            assert!(
                doc.contains("Dropout, scaled"),
                "title from the header: {doc}"
            );
            assert!(
                doc.contains("Course staff"),
                "author from the header: {doc}"
            );
            assert!(doc.contains("A dropout layer."), "{doc}");
            assert!(!doc.contains("title:"), "{doc}");
        }
        assert!(key.contains("Solution (derived by tq)"));
        assert!(key.contains("refuted"), "{key}");
        assert!(!student.contains("Solution"), "{student}");
        assert!(!student.contains("refuted"), "{student}");
        assert!(!student.contains("proved"), "{student}");
        if format == Format::Latex {
            assert!(student.trim_end().ends_with("\\end{document}"), "{student}");
        }
    }
}

/// One rule for a name on the whole page (issue #17, session 33): the program lines and
/// the questions (`render/math.rs`) and the moments and answers (`sym::to_latex`) set a
/// multi-letter name as one word (`\mathit{lam}`, never the product l·a·m), a letter with
/// digits subscripted (`v_{0}` everywhere, never `v0`), a Greek name as its letter
/// (`\lambda`); a value known only in words (`no closed form`) is text, not math.
#[test]
fn a_name_is_typeset_the_same_everywhere_on_the_page() {
    // Weight decay `lam`, an input variance `v0`, a Greek `lambda`, a gain `gain2`.
    let src = "size N
index i : N
symbol lam, sigma_w, v0, lambda, gain2
param w[N] ~ normal(0, sigma_w^2)
input x[N] ~ normal(0, v0)
y = gain2 w[I] x[I]
loss = y^2 / 2 + lam w[I] w[I] / 2 + lambda y
claim Var(y) == N gain2^2 sigma_w^2 v0
claim w.grad[i] == y gain2 x[i] + lam w[i] + lambda gain2 x[i]
sample N = 4, lam = 1/10, sigma_w = 1, v0 = 2, lambda = 1/3, gain2 = 2
";
    for format in [Format::Latex, Format::Markdown] {
        let doc = page(src, format, tq::render::Audience::Key);
        let math: String = doc
            .split('$')
            .skip(1)
            .step_by(2)
            .collect::<Vec<_>>()
            .join(" $ ");
        for bad in [
            " lam ",
            " lam}",
            "{lam ",
            "v0",
            "l a m",
            " gain2",
            "\\mathit{no}",
        ] {
            assert!(
                !math.contains(bad),
                "{format:?}: `{bad}` in the math: {math}"
            );
        }
        // Both printers: the problem's lines and the moments section.
        assert!(doc.matches("\\mathit{lam}").count() >= 2, "{doc}");
        assert!(doc.matches("v_{0}").count() >= 3, "{doc}");
        assert!(doc.matches("\\mathit{gain}_{2}").count() >= 3, "{doc}");
        assert!(doc.contains("\\lambda"), "{doc}");
    }
    // A variance with no closed form (a sigmoid residual family, as
    // problems/residual_mlp.tq) is said in words.
    let src = "size I, L
symbol sigma_W
input x[I] ~ normal(0, 1)
param W_l[I,I] ~ normal(0, sigma_W^2) for l in 1..L
h_0[i] = x[i]
for l in 0..L - 1:
  htilde_{l+1}[i] = sigma(W_{l+1}[i,I'] h_l[I'])
  h_{l+1}[i] = htilde_{l+1}[i] + h_l[i]
sample I = 4, L = 3, sigma_W = 0.5
";
    for format in [Format::Latex, Format::Markdown] {
        let doc = page(src, format, tq::render::Audience::Key);
        assert!(!doc.contains("\\mathit{closed}"), "{doc}");
        assert!(doc.contains("\\text{no closed form}"), "{doc}");
    }
    if let Some(over) = overfull_lines("names", &page(src, Format::Latex, Default::default())) {
        assert!(over.is_empty(), "{over:?}");
    }
}
