//! The Markdown writer: a [`Document`] as Markdown with `$...$` math. Text is escaped
//! ([`esc_md`]).

use super::doc::{Block, Document, Inline, Line};

/// Markdown text: the characters Markdown would interpret are escaped.
pub fn esc_md(s: &str) -> String {
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

/// Runs of text and math.
pub fn inlines(runs: &[Inline]) -> String {
    runs.iter()
        .map(|r| match r {
            Inline::Text(t) => esc_md(t),
            Inline::Math(m) => format!("${m}$"),
            Inline::Strong(t) => format!("**{}**", esc_md(t)),
        })
        .collect()
}

/// Lines as a nested list, each line prefixed by `prefix`.
fn lines(ls: &[Line], prefix: &str, out: &mut String) {
    for l in ls {
        let note = if l.note.is_empty() {
            String::new()
        } else {
            format!(" [{}]", inlines(&l.note))
        };
        out.push_str(&format!(
            "{prefix}{}- {}{note}\n",
            "  ".repeat(l.depth),
            inlines(&l.content)
        ));
    }
}

/// The document in Markdown.
pub fn write(doc: &Document) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n", inlines(&doc.title)));
    if let Some(a) = &doc.author {
        out.push_str(&format!("{}\n\n", inlines(a)));
    }
    out.push_str(&format!(
        "<!-- Rendered by tq from {}; the solution is derived and checked by tq. -->\n\n",
        doc.path.replace("--", "- -")
    ));
    blocks(&doc.blocks, &mut out);
    out
}

/// Blocks as Markdown (a page's body, or a part of another page: `tq variants`).
pub fn blocks(bs: &[Block], out: &mut String) {
    for b in bs {
        match b {
            Block::Section(t) => out.push_str(&format!("## {t}\n\n")),
            Block::Subsection(t) => out.push_str(&format!("### {t}\n\n")),
            Block::Paragraph { lead, body } => match lead {
                Some(l) if body.is_empty() => out.push_str(&format!("**{l}**\n\n")),
                Some(l) => out.push_str(&format!("**{l}** {}\n\n", inlines(body))),
                None => out.push_str(&format!("{}\n\n", inlines(body))),
            },
            Block::Items(items) => {
                for i in items {
                    out.push_str(&format!("- {}\n", inlines(i)));
                }
                out.push('\n');
            }
            Block::Notes(items) => {
                for i in items {
                    out.push_str(&format!("> {}\n", inlines(i)));
                }
                out.push('\n');
            }
            Block::Lines(ls) => {
                lines(ls, "", out);
                out.push('\n');
            }
            Block::Questions(qs) => {
                for q in qs {
                    if q.number == 0 {
                        out.push_str(&format!("   ${}$\n", q.math));
                    } else {
                        out.push_str(&format!("{}. ${}$\n", q.number, q.math));
                    }
                    lines(&q.lines, "    ", out);
                }
                out.push('\n');
            }
            Block::Align(rows) => {
                for r in rows {
                    let at = r.at.as_ref().map(|v| format!(" = {v}")).unwrap_or_default();
                    out.push_str(&format!("- ${} = {}{at}$\n", r.lhs, r.rhs));
                }
                out.push('\n');
            }
            Block::Claims(rows) => {
                out.push_str("| # | verdict | method: evidence |\n|---|---|---|\n");
                for r in rows {
                    let verdict = match &r.verdict {
                        Some(v) => format!("**{v}**"),
                        None => "—".into(),
                    };
                    out.push_str(&format!(
                        "| {} | {verdict} | {} |\n",
                        if r.number == 0 {
                            "⋮".to_string()
                        } else {
                            r.number.to_string()
                        },
                        inlines(&r.evidence)
                    ));
                }
                out.push('\n');
            }
        }
    }
}
