//! `tq derive`: everything derivable about one file, as text or JSON.

use crate::grad;
use crate::report::FileReport;
use crate::syntax::ast::{Item, Program};
use crate::syntax::printer::print_program;
use serde_json::json;

/// The parts of a derivation that tq does not produce yet, named in the output so
/// nobody mistakes their absence for an empty result.
const NOT_YET: &[&str] = &["variance recurrences and closed forms", "operation counts"];

/// The derived results of a checked file.
pub struct Derivation {
    pub backward: grad::Backward,
    pub gather: Vec<grad::Gathered>,
}

/// Derives what can be derived from a file without errors.
pub fn derivation(r: &FileReport) -> Option<Derivation> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return None;
    }
    let backward = grad::backward(&r.program, &r.env);
    let gather = grad::gather_form(&backward.items, r.env.boundary);
    Some(Derivation { backward, gather })
}

fn print_items(items: &[Item]) -> String {
    print_program(&Program {
        items: items.to_vec(),
    })
}

/// The text form: the checked program, the derived results, the claims.
pub fn derive_text(r: &FileReport, theme: Option<miette::GraphicalTheme>) -> String {
    let mut out = String::new();
    if !r.diagnostics.is_empty() {
        let rendered = match theme {
            Some(t) => crate::diag::render_with(&r.path, &r.source, &r.diagnostics, t),
            None => crate::diag::render_plain(&r.path, &r.source, &r.diagnostics),
        };
        out.push_str(&rendered);
    }
    let Some(d) = derivation(r) else {
        out.push_str("nothing is derived from a file with errors\n");
        return out;
    };
    out.push_str(&format!("# {} — the checked program\n", r.path));
    out.push_str(&print_program(&r.program));
    if !d.backward.items.is_empty() {
        out.push_str(&format!(
            "\n# backpropagation program (loop-and-scatter form), from {}\n",
            d.backward.seeds.join(", ")
        ));
        out.push_str(&print_items(&d.backward.items));
        out.push_str("\n# backpropagation program (gather form)\n");
        let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        out.push_str(&print_items(&items));
        for g in &d.gather {
            for n in &g.notes {
                out.push_str(&format!("#   {n}\n"));
            }
        }
        for n in &d.backward.notes {
            out.push_str(&format!("# note: {n}\n"));
        }
    }
    out.push_str("\n# not derived yet: ");
    out.push_str(&NOT_YET.join("; "));
    out.push('\n');
    if !r.claims.is_empty() {
        out.push_str("\n# claims\n");
        for c in &r.claims {
            out.push_str(&c.text_line());
            out.push('\n');
        }
    }
    out
}

/// The JSON form: program lines and derived expressions as strings.
pub fn derive_json(r: &FileReport) -> serde_json::Value {
    let d = derivation(r);
    let backward = d
        .as_ref()
        .map(|d| {
            print_items(&d.backward.items)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let gather = d
        .as_ref()
        .map(|d| {
            let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
            print_items(&items)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    json!({
        "path": r.path,
        "diagnostics": r.diagnostics.iter().map(|d| d.to_json(&r.source)).collect::<Vec<_>>(),
        "program": print_program(&r.program).lines().collect::<Vec<_>>(),
        "backward": backward,
        "backward_gather": gather,
        "not_derived_yet": NOT_YET,
        "claims": r.claims.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
    })
}
