//! `tq derive`: everything derivable about one file, as text or JSON.

use crate::report::FileReport;
use crate::syntax::printer::print_program;
use serde_json::json;

/// The parts of a derivation that tq does not produce yet, named in the output so
/// nobody mistakes their absence for an empty result.
const NOT_YET: &[&str] = &[
    "backpropagation program (.grad statements)",
    "variance recurrences and closed forms",
    "operation counts",
];

/// The text form: the checked program, the derived results, the claims.
pub fn derive_text(r: &FileReport, theme: Option<miette::GraphicalTheme>) -> String {
    let mut out = String::new();
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        let rendered = match theme {
            Some(t) => crate::diag::render_with(&r.path, &r.source, &r.diagnostics, t),
            None => crate::diag::render_plain(&r.path, &r.source, &r.diagnostics),
        };
        out.push_str(&rendered);
        if r.unexpected_errors() > 0 {
            out.push_str("nothing is derived from a file with errors\n");
            return out;
        }
    }
    out.push_str(&format!("# {} — the checked program\n", r.path));
    out.push_str(&print_program(&r.program));
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
    json!({
        "path": r.path,
        "diagnostics": r.diagnostics.iter().map(|d| d.to_json(&r.source)).collect::<Vec<_>>(),
        "program": print_program(&r.program).lines().collect::<Vec<_>>(),
        "not_derived_yet": NOT_YET,
        "claims": r.claims.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
    })
}
