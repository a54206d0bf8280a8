//! The LaTeX writer: a [`Document`] as a standalone `article` (or a fragment to
//! `\input`). Text is escaped ([`esc_text`]); math is set in `$...$`.

use super::doc::{Block, Document, Inline, Line};
use super::esc_text;

/// The preamble of a standalone page (also `tq variants`'s).
pub const PREAMBLE: &str = "\\documentclass[11pt]{article}
\\usepackage[utf8]{inputenc}
\\usepackage[T1]{fontenc}
\\usepackage[a4paper,margin=2cm]{geometry}
\\usepackage{amsmath,amssymb}
\\usepackage{longtable,array}
\\setlength{\\parindent}{0pt}
\\setlength{\\parskip}{3pt}
\\setlength{\\emergencystretch}{3em}
\\newcommand{\\tqline}[2]{\\par{\\rightskip=0pt plus 1fil\\hangindent=\\dimexpr#1+2em\\relax\\hangafter=1\\hspace*{#1}#2\\par}}
";

/// Runs of text and math.
pub fn inlines(runs: &[Inline]) -> String {
    runs.iter()
        .map(|r| match r {
            Inline::Text(t) => breakable_words(&esc_text(t)),
            Inline::Math(m) => format!("${m}$"),
            Inline::Strong(t) => format!("\\textbf{{{}}}", esc_text(t)),
        })
        .collect()
}

/// Escaped text with a place to break after each `_` and `.` of a word of more than 20
/// characters (after `/` [`esc_text`] breaks already) (a file name, `000_f22a5daa73b73d9a.txt`): TeX does not hyphenate such a
/// word, and one at the end of a justified line ran past the margin (problems/errata e1,
/// e6). Shorter words are left as they are.
fn breakable_words(t: &str) -> String {
    t.split(' ')
        .map(|w| {
            if w.chars().count() <= 20 {
                return w.to_string();
            }
            w.replace("\\_", "\\_\\allowbreak{}")
                .replace('.', ".\\allowbreak{}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines, each indented by `2 * (depth + indent)` em; a line of math alone is set in
/// display style.
fn lines(ls: &[Line], indent: usize, out: &mut String) {
    for l in ls {
        let body = match l.content.as_slice() {
            [Inline::Math(m)] => format!("$\\displaystyle {}$", breakable(m)),
            runs => inlines(runs),
        };
        let note = if l.note.is_empty() {
            String::new()
        } else {
            format!(" \\quad {{\\small [{}]}}", inlines(&l.note))
        };
        out.push_str(&format!(
            "\\tqline{{{}em}}{{{body}{note}}}\n",
            2 * (l.depth + indent)
        ));
    }
}

/// The printed width, in glyphs, past which a line of math may not fit the page (a line
/// of A4 at 2 cm margins holds about 80 glyphs of math at this size, less its indent).
const LONG_MATH: usize = 72;

/// About how many glyphs a LaTeX math source prints: a control word (`\Delta`,
/// `\mathrm`) counts one, braces, spacing commands, `^`, `_` and spaces none.
fn visible_len(m: &str) -> usize {
    let mut n = 0;
    let mut chars = m.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut word = String::new();
                while let Some(&d) = chars.peek() {
                    if !d.is_ascii_alphabetic() {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                if word.is_empty() {
                    chars.next();
                } else if !matches!(
                    word.as_str(),
                    "left"
                        | "right"
                        | "mathrm"
                        | "mathit"
                        | "textbf"
                        | "displaystyle"
                        | "quad"
                        | "allowbreak"
                        | "frac"
                        | "operatorname"
                        | "mathrel"
                ) {
                    n += 1;
                }
            }
            '{' | '}' | '^' | '_' | ' ' => {}
            _ => n += 1,
        }
    }
    n
}

/// A long line of math made breakable: TeX breaks inline math only after a relation or
/// a binary operator at the outer level, and never inside `\left( ... \right)` (one
/// box), so a product inside a function's parentheses or a long gather statement ran
/// past the margin (problems/pyramid.tq, ugcnn.tq, video_cnn.tq). Here the parentheses
/// become `\bigl( ... \bigr)` (`\Bigl`, `\Bigr` around a fraction), which do not box
/// their content, and every product's thin space `\,` allows a break; `\tqline` sets its
/// paragraph ragged right, since a math line broken in a justified paragraph has no glue
/// to stretch, and TeX set it overfull instead, and indents a broken line's continuation
/// 2 em past its first line. A short line is left as it is.
fn breakable(m: &str) -> String {
    let only_parentheses = m.matches("\\left").count() == m.matches("\\left(").count()
        && m.matches("\\right").count() == m.matches("\\right)").count();
    if visible_len(m) <= LONG_MATH || !only_parentheses {
        return m.to_string();
    }
    let (open, close) = if m.contains("\\frac") {
        ("\\Bigl(", "\\Bigr)")
    } else {
        ("\\bigl(", "\\bigr)")
    };
    m.replace("\\left(", open)
        .replace("\\right)", close)
        .replace(" \\, ", " \\,\\allowbreak ")
}

/// A question's formula: split into inline runs at its givens (`math::breakable`),
/// each run that is long made breakable inside ([`breakable`]), and the item set ragged
/// right when one is, since a broken formula in a justified line has no glue to stretch
/// (probe 29c e01: a variance of 110 glyphs was one box, 90 pt past the margin).
fn question_math(m: &str) -> String {
    let split = super::math::breakable(m).replace("$ $", "$\\quad $");
    let mut out = String::new();
    // A question longer than a line breaks between its runs too: ragged right, so a
    // line that breaks early is not stretched past its glue (problems/sgd_l2_momentum.tq's
    // fourth question, 0.18 pt over).
    let mut long = visible_len(m) > LONG_MATH;
    for (k, piece) in split.split('$').enumerate() {
        if k % 2 == 1 {
            let b = breakable(piece);
            long |= b != piece;
            out.push('$');
            out.push_str(&b);
            out.push('$');
        } else {
            out.push_str(piece);
        }
    }
    if long {
        format!("{{\\raggedright {out}\\par}}")
    } else {
        out
    }
}

fn itemize(items: &[Vec<Inline>], out: &mut String) {
    if items.is_empty() {
        return;
    }
    out.push_str("\\begin{itemize}\n");
    for i in items {
        out.push_str(&format!("\\item {}\n", inlines(i)));
    }
    out.push_str("\\end{itemize}\n");
}

/// The document in LaTeX; `fragment` leaves out the preamble, the title and
/// `\begin{document}`/`\end{document}`.
pub fn write(doc: &Document, fragment: bool) -> String {
    let mut out = String::new();
    if !fragment {
        out.push_str(PREAMBLE);
        out.push_str(&format!(
            "\\begin{{document}}\n{{\\Large\\bfseries {}}}\\par\\medskip\n",
            inlines(&doc.title)
        ));
        if let Some(a) = &doc.author {
            out.push_str(&format!("{}\\par\\medskip\n", inlines(a)));
        }
    }
    out.push_str(&format!(
        "% Rendered by tq from {}; the solution is derived and checked by tq.\n",
        esc_text(&doc.path)
            .replace('\n', " ")
            .replace("/\\allowbreak{}", "/")
    ));
    blocks(&doc.blocks, &mut out);
    if !fragment {
        out.push_str("\\end{document}\n");
    }
    out
}

/// Blocks as LaTeX (a page's body, or a part of another page: `tq variants`).
pub fn blocks(bs: &[Block], out: &mut String) {
    for b in bs {
        match b {
            Block::Section(t) => out.push_str(&format!("\\section*{{{}}}\n", esc_text(t))),
            Block::Subsection(t) => out.push_str(&format!("\\subsection*{{{}}}\n", esc_text(t))),
            Block::Paragraph { lead, body } => match lead {
                Some(l) if body.is_empty() => {
                    out.push_str(&format!("\\paragraph{{{}}}\n", esc_text(l)))
                }
                Some(l) => out.push_str(&format!(
                    "\\paragraph{{{}}} {}\n\n",
                    esc_text(l),
                    inlines(body)
                )),
                None => out.push_str(&format!("{}\n\n", inlines(body))),
            },
            Block::Items(items) | Block::Notes(items) => itemize(items, out),
            Block::Lines(ls) => lines(ls, 0, out),
            Block::Questions(qs) => {
                out.push_str("\\begin{enumerate}\n");
                for q in qs {
                    // Split at the givens' separators: one `$...$` would not break
                    // between them (problems/sgd_l2_momentum.tq was set 52 pt overfull).
                    out.push_str(&format!(
                        "\\item[{}] {}\n",
                        if q.number == 0 {
                            String::new()
                        } else {
                            format!("{}.", q.number)
                        },
                        // `\quad` before `given` and `tol` kept as text-mode space
                        // (a line may break there too).
                        question_math(&q.math)
                    ));
                    lines(&q.lines, 1, out);
                }
                out.push_str("\\end{enumerate}\n");
            }
            Block::Align(rows) => {
                out.push_str("\\begin{align*}\n");
                for r in rows {
                    let at =
                        r.at.as_ref()
                            .map(|v| format!(" &&= {v}"))
                            .unwrap_or_default();
                    out.push_str(&format!("{} &= {}{at} \\\\\n", r.lhs, r.rhs));
                }
                out.push_str("\\end{align*}\n");
            }
            Block::Claims(rows) => {
                out.push_str("\\begin{longtable}{@{}r>{\\raggedright\\arraybackslash}p{0.2\\textwidth}>{\\raggedright\\arraybackslash}p{0.66\\textwidth}@{}}\n");
                for r in rows {
                    let verdict = match &r.verdict {
                        Some(v) => format!("\\textbf{{{}}}", esc_text(v)),
                        None => "---".into(),
                    };
                    out.push_str(&format!(
                        "{} & {verdict} & {} \\\\\n",
                        if r.number == 0 {
                            "$\\vdots$".to_string()
                        } else {
                            format!("{}.", r.number)
                        },
                        inlines(&r.evidence)
                    ));
                }
                out.push_str("\\end{longtable}\n");
            }
        }
    }
}
