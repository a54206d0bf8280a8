//! Hover: what a name is, where it is declared, and for a tensor its shape, the
//! derived gradient statements and the moments the moments engine found.

use super::document::Document;
use super::navigation::{definition, resolve, Target};
use crate::check::TensorKind;
use crate::span::line_col;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

/// The source line (trimmed) and 1-based number of a byte offset.
fn line_of(doc: &Document, offset: usize) -> (usize, String) {
    let text = doc.text();
    let (line, _) = line_col(text, offset);
    let (s, e) = doc.lines.line_range(text, line - 1);
    (line, text[s..e].trim().to_string())
}

fn dim_text(d: &str) -> String {
    if let Some(c) = d.strip_prefix('@') {
        format!("{c} (fixed position)")
    } else if let Some(v) = d.strip_prefix('~') {
        format!("{v} (along the loop over {v})")
    } else {
        d.to_string()
    }
}

fn code_block(lines: &[String]) -> String {
    fenced("tq", &lines.join("\n"))
}

/// A Markdown code block holding `body` verbatim: its fence is one backtick longer than
/// the longest run of backticks in the body, at least three (CommonMark), so a comment
/// with ```` ``` ```` in a quoted line cannot end the block early and have the rest
/// rendered as Markdown (session 36, h16).
pub fn fenced(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

/// The hover at a byte offset, if the word there names something.
pub fn hover(doc: &Document, offset: usize) -> Option<Hover> {
    let (start, end, target) = resolve(doc, offset)?;
    let env = &doc.report.env;
    let mut md = String::new();
    let declared = |md: &mut String, what: &str| {
        if let Some(span) = definition(doc, &target) {
            let (n, text) = line_of(doc, span.start as usize);
            md.push_str(&format!("{what} at line {n}:\n{}", code_block(&[text])));
        }
    };
    match &target {
        Target::Tensor(k) => {
            let t = env.tensors.get(k)?;
            let kind = match t.kind {
                TensorKind::Param => "parameter",
                TensorKind::Input => "input",
                TensorKind::Computed => "computed tensor",
            };
            let family = if t.family_arity > 0 {
                format!(
                    ", a family ({} subscript{})",
                    t.family_arity,
                    if t.family_arity == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            };
            md.push_str(&format!("**{k}** — {kind}{family}\n\n"));
            let dims: Vec<String> = t.dims.iter().map(|d| dim_text(d)).collect();
            md.push_str(&format!("shape: `[{}]`\n\n", dims.join(", ")));
            declared(
                &mut md,
                if t.kind == TensorKind::Computed {
                    "first defined"
                } else {
                    "declared"
                },
            );
            match &doc.derived {
                None => md.push_str("\n_deriving the backward program and the moments…_\n"),
                Some(d) => match (&d.unavailable, d.tensors.get(k)) {
                    (Some(why), _) => md.push_str(&format!("\n_{why}_\n")),
                    (None, None) => md.push_str(
                        "\nno gradient statement and no moments derived for this tensor\n",
                    ),
                    (None, Some(f)) => {
                        if !f.scatter.is_empty() {
                            md.push_str(&format!(
                                "\n**gradient** (derived backward program):\n{}",
                                code_block(&f.scatter)
                            ));
                        }
                        if !f.gather.is_empty() && f.gather != f.scatter {
                            md.push_str(&format!("gather form:\n{}", code_block(&f.gather)));
                        }
                        if f.scatter.is_empty() {
                            md.push_str("\nno gradient flows to this tensor\n");
                        }
                        if f.moments.is_empty() {
                            md.push_str("\nno moments derived for this tensor\n");
                        } else {
                            md.push_str("\n**moments** (moments engine):\n");
                            md.push_str(&fenced("", &f.moments.join("\n")));
                        }
                    }
                },
            }
        }
        Target::Size(n) => {
            md.push_str(&format!("**{n}** — size\n\n"));
            declared(&mut md, "declared");
        }
        Target::Index(n, _) => {
            let range = env
                .index_size(&n.to_lowercase())
                .map(|s| {
                    if env.index_centered(&n.to_lowercase()) {
                        format!("the centred offsets of {s}")
                    } else {
                        format!("0..{s}-1")
                    }
                })
                .unwrap_or_else(|| "?".into());
            let summed = if crate::syntax::ast::is_summed_index(n) {
                " (a capital: summed)"
            } else {
                ""
            };
            md.push_str(&format!("**{n}** — index over {range}{summed}\n\n"));
            declared(&mut md, "its range is declared");
        }
        Target::Symbol(n) => {
            md.push_str(&format!("**{n}** — symbol\n\n"));
            declared(&mut md, "declared");
        }
        Target::Scalar(n) => {
            md.push_str(&format!("**{n}** — scalar\n\n"));
            declared(&mut md, "declared");
        }
        Target::Rule(n) => {
            md.push_str(&format!("**{n}** — update rule\n\n"));
            declared(&mut md, "declared");
        }
        Target::LoopVar(n, _) => {
            md.push_str(&format!("**{n}** — loop variable\n\n"));
            declared(&mut md, "bound");
        }
    }
    let text = doc.text();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: md,
        }),
        range: Some(doc.lines.range(text, start, end)),
    })
}
