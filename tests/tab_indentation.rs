//! front41 (issue #18, l15): indentation that mixes tabs and spaces so that a line's
//! depth against the line above depends on the width of a tab is E0804, once, at the
//! first such line (docs/diagnostics.md, E0804). A generator: every pair of
//! indentations of a loop's two body lines made of up to two tabs and up to nine
//! spaces, in either order, in a loop nested or not, with LF or CRLF line ends. The
//! diagnostic is expected exactly when the widths 1, 4 and 8 of a tab order the two
//! lines differently; a file indented with tabs only, or spaces only, never gets it.

use tq::syntax::parser::parse;

fn width(indent: &str, tab: usize) -> usize {
    indent
        .chars()
        .map(|c| if c == '\t' { tab } else { 1 })
        .sum()
}

fn indents() -> Vec<String> {
    let mut out = Vec::new();
    for tabs in 0..=2 {
        for spaces in 0..=9 {
            for tab_first in [true, false] {
                if tabs + spaces == 0 {
                    continue;
                }
                let (t, s) = ("\t".repeat(tabs), " ".repeat(spaces));
                out.push(if tab_first { t + &s } else { s + &t });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn tab_width_dependent_indentation_is_reported_once_at_its_first_line() {
    let mut checked = 0;
    for a in indents() {
        for b in indents() {
            for crlf in [false, true] {
                let nl = if crlf { "\r\n" } else { "\n" };
                let lines = [
                    "size I".to_string(),
                    "input x[I] ~ normal(0, 1)".to_string(),
                    "for l in 0..2:".to_string(),
                    format!("{a}y_l[i] = x[i]"),
                    format!("{b}z_l[i] = 2 x[i]"),
                    "claim E(x[0]) == 0".to_string(),
                    "sample I = 2".to_string(),
                ];
                let src = lines.join(nl) + nl;
                let order = |t: usize| width(&b, t).cmp(&width(&a, t));
                let ambiguous = order(1) != order(4) || order(4) != order(8);
                let found: Vec<_> = parse(&src)
                    .diagnostics
                    .into_iter()
                    .filter(|d| d.code == "E0804" && d.message.contains("tabs and spaces"))
                    .collect();
                if ambiguous {
                    assert_eq!(found.len(), 1, "{src:?}");
                    assert_eq!(found[0].line_col(&src), (5, 1), "{src:?}");
                    assert!(found[0]
                        .hint
                        .as_deref()
                        .unwrap_or("")
                        .contains("spaces only"));
                } else {
                    assert!(found.is_empty(), "{src:?}: {found:?}");
                }
                let pure = !(a.contains('\t') || b.contains('\t'))
                    || !(a.contains(' ') || b.contains(' '));
                assert!(!(pure && ambiguous), "{a:?} {b:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 2_000, "{checked}");
}

/// The files of the corpus that mix tabs and spaces the same way whatever a tab's
/// width (a tab and two spaces, then two spaces and a tab) are read as before.
#[test]
fn tab_width_independent_files_are_left_alone() {
    for name in ["mixed_tabs_spaces_indent.tq", "crlf_and_tabs.tq"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/robustness")
            .join(name);
        let src = std::fs::read_to_string(path).unwrap();
        assert!(
            !parse(&src).diagnostics.iter().any(|d| d.code == "E0804"),
            "{name}"
        );
    }
}
