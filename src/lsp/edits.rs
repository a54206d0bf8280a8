//! Edits: formatting through `tq fmt`'s printer, and the code actions (insert the
//! derived backward program as a `claim backprop includes:` block; replace a refuted
//! claim's right side by the value tq derived for its left side).

use super::document::Document;
use crate::syntax::format::format_source;
use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, WorkspaceEdit};
use std::collections::HashMap;

/// The whole document in the formatter's layout: one edit, none when it is already
/// formatted; an error when the text does not parse.
pub fn format(doc: &Document) -> Result<Vec<TextEdit>, String> {
    let text = doc.text();
    let formatted = format_source(text).map_err(|d| {
        format!(
            "not formatted: the file does not parse ({} error{})",
            d.len(),
            if d.len() == 1 { "" } else { "s" }
        )
    })?;
    if formatted == text {
        return Ok(Vec::new());
    }
    Ok(vec![TextEdit {
        range: doc.lines.range(text, 0, text.len()),
        new_text: formatted,
    }])
}

fn action(doc: &Document, title: String, edit: TextEdit, preferred: bool) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(if preferred {
            CodeActionKind::QUICKFIX
        } else {
            CodeActionKind::REFACTOR
        }),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(doc.uri.clone(), vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(preferred),
        ..CodeAction::default()
    })
}

/// The code actions for the lines of `range`.
pub fn code_actions(doc: &Document, range: Range) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    let text = doc.text();
    if let Some(block) = doc.derived.as_ref().and_then(|d| d.backprop_block.as_ref()) {
        let has_block = text.contains("claim backprop includes:");
        if !has_block {
            let end = doc.lines.position(text, text.len());
            let sep = if text.is_empty() || text.ends_with("\n\n") {
                ""
            } else if text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            out.push(action(
                doc,
                "Insert the derived backward program (claim backprop includes:)".into(),
                TextEdit {
                    range: Range::new(end, end),
                    new_text: format!("{sep}# The backward program tq derived.\n{block}"),
                },
                false,
            ));
        }
    }
    if let Some(v) = &doc.verdicts {
        for c in &v.claims {
            let l0 = (c.line as u32).saturating_sub(1);
            if l0 < range.start.line || l0 > range.end.line {
                continue;
            }
            if let Some((s, e, value)) = &c.replacement {
                if *e <= text.len() && s <= e {
                    out.push(action(
                        doc,
                        format!("Replace the right side by the derived value: {value}"),
                        TextEdit {
                            range: doc.lines.range(text, *s, *e),
                            new_text: value.clone(),
                        },
                        true,
                    ));
                }
            }
        }
    }
    out
}
