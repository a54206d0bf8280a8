//! `tq fmt`: on every `.tq` file of the repository that parses, the formatter keeps the
//! meaning (the same program, spans aside), is idempotent and keeps every comment in
//! order; the files of problems/ are formatted (`tq fmt --check problems/` in CI); and the
//! command rewrites, checks and refuses what does not parse.

mod common;

use common::{rel, root, tq_files};
use tq::syntax::ast::{Item, ItemKind};
use tq::syntax::format::{format_source, same_meaning};
use tq::syntax::parser::parse;

fn comments(text: &str) -> Vec<String> {
    // A lone carriage return ends a line (and so a comment) for tq as for editors.
    tq::span::normalize_line_ends(text)
        .lines()
        .filter_map(|l| l.find('#').map(|i| l[i..].trim_end().to_string()))
        .collect()
}

#[test]
fn formatting_keeps_meaning_and_comments_and_is_idempotent() {
    let mut checked = 0;
    for dir in [
        "problems",
        "tests/cases",
        "tests/robustness",
        "tests/givens",
    ] {
        for path in tq_files(&root().join(dir)) {
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(once) = format_source(&src) else {
                continue;
            };
            let name = rel(&path);
            assert!(
                same_meaning(&src, &once),
                "{name}: meaning changed:\n{once}"
            );
            assert_eq!(
                format_source(&once).ok().as_deref(),
                Some(once.as_str()),
                "{name}: not idempotent"
            );
            assert_eq!(
                comments(&src),
                comments(&once),
                "{name}: comments changed:\n{once}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} files formatted");
}

/// The statements of a parsed text as line ranges (0-based first and last line), block
/// bodies and a derivation's start and steps each their own: `(first, last, leaf)`,
/// `leaf` for a statement that holds no other.
fn units(text: &str) -> Vec<(usize, usize, bool)> {
    fn line(text: &str, offset: u32) -> usize {
        text[..(offset as usize).min(text.len())]
            .matches('\n')
            .count()
    }
    fn walk(text: &str, items: &[Item], out: &mut Vec<(usize, usize, bool)>) {
        for item in items {
            let first = line(text, item.span.start);
            let last = line(text, item.span.end.max(item.span.start + 1) - 1).max(first);
            let body: &[Item] = match &item.kind {
                ItemKind::Loop(l) => &l.body,
                ItemKind::Rule(r) => &r.body,
                ItemKind::ForIndices(f) if !(f.inline && f.body.len() == 1) => &f.body,
                ItemKind::Claim(c) if c.includes.is_some() => c.includes.as_deref().unwrap(),
                ItemKind::Derivation(d) => {
                    out.push((first, first, false));
                    let s = d.start.span();
                    out.push((line(text, s.start), line(text, s.start), true));
                    for st in &d.steps {
                        let l = line(text, st.span.start);
                        out.push((l, l, true));
                    }
                    continue;
                }
                _ => {
                    out.push((first, last, true));
                    continue;
                }
            };
            let head = body.first().map_or(first, |b| line(text, b.span.start));
            out.push((first, first.max(head.saturating_sub(1)), false));
            walk(text, body, out);
        }
    }
    let text = &*tq::span::normalize_line_ends(text);
    let mut out = Vec::new();
    walk(text, &parse(text).program.items, &mut out);
    out
}

/// Each comment with the number of statements that start before it (a trailing comment
/// counts its own statement). A comment inside a statement of several lines that holds
/// no other (a claim continued at `given`) is counted before that statement, where
/// docs/cli.md says `tq fmt` moves it.
fn comment_places(text: &str) -> Vec<(String, usize)> {
    let units = units(text);
    let norm = tq::span::normalize_line_ends(text);
    norm.lines()
        .enumerate()
        .filter_map(|(n, l)| {
            let c = l[l.find('#')?..].trim_end().to_string();
            let inside = units
                .iter()
                .find(|&&(a, b, leaf)| leaf && b > a && a <= n && n <= b);
            let place = match inside {
                Some(&(a, _, _)) => units.iter().filter(|u| u.0 < a).count(),
                None => units.iter().filter(|u| u.0 <= n).count(),
            };
            Some((c, place))
        })
        .collect()
}

/// `tq fmt` keeps each comment among the same statements, in every block kind
/// (session 36, h04: the comments of a `derivation` moved after the whole block).
#[test]
fn formatting_keeps_each_comment_among_its_statements() {
    let mut checked = 0;
    for dir in ["problems", "tests/cases", "tests/givens"] {
        for path in tq_files(&root().join(dir)) {
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(once) = format_source(&src) else {
                continue;
            };
            assert_eq!(
                comment_places(&src),
                comment_places(&once),
                "{}: a comment moved among the statements:\n{once}",
                rel(&path)
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} files formatted");
}

/// Generated files: a comment before and after every line of blocks of each kind
/// (derivations, rules, loops, `includes` blocks, index loops), on lines of their own and
/// at the ends of lines; `tq fmt` keeps each one by its line, keeps the meaning and is
/// idempotent.
#[test]
fn generated_comments_in_every_block_kind_stay_by_their_lines() {
    let blocks = [
        "scalar a\nx = a^2\nderivation d:\n  x\n  = a a    by definition\n  = a^2    by definition\nclaim x == a a\n",
        "scalar a, b\nx = a b\nderivation e given a == 1:\n  x\n  expect refuted\n  = 2 b    by given\n  = b    by given\n",
        "symbol mu\nrule A over t:\n  v[t+1] = mu v[t] + g[t]\n  w[t+1] = w[t] - v[t+1]\nclaim A.v[2] == mu^2 A.v[0] + mu g[0] + g[1]\n",
        "size L\nsymbol a\nscalar h\nfor l in 0..L:\n  h = h + a\n  h = 2 h\nsample L = 2\n",
        "size B, J\nparam w[J] ~ normal(0, 1)\ninput x[B, J] ~ normal(0, 1)\nfor b:\n  y[b] = w[J] x[b, J]\n  z[b] = 2 y[b]\nclaim backprop includes:\n  z.grad[b] = 1\n  y.grad[b] += 2 z.grad[b]\nsample B = 2, J = 2\n",
    ];
    let mut tried = 0;
    for base in blocks {
        let lines: Vec<&str> = base.lines().collect();
        for k in 0..lines.len() {
            for trailing in [false, true] {
                let mut src = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    if i == k && !trailing {
                        src.push_str(&format!("{indent}# note {i}\n"));
                    }
                    src.push_str(l);
                    if i == k && trailing {
                        src.push_str(&format!("  # note {i}"));
                    }
                    src.push('\n');
                }
                let Ok(once) = format_source(&src) else {
                    panic!("does not format:\n{src}");
                };
                assert!(same_meaning(&src, &once), "meaning changed:\n{src}\n{once}");
                assert_eq!(format_source(&once).ok().as_deref(), Some(once.as_str()));
                assert_eq!(
                    comment_places(&src),
                    comment_places(&once),
                    "a comment moved:\n{src}\n---\n{once}"
                );
                // The comment is on the line of, or the line before, the same text.
                let find = |t: &str| {
                    let ls: Vec<&str> = t.lines().collect();
                    let at = ls
                        .iter()
                        .position(|l| l.contains(&format!("# note {k}")))
                        .unwrap();
                    let code = |l: &str| {
                        l.split('#')
                            .next()
                            .unwrap()
                            .split_whitespace()
                            .collect::<String>()
                    };
                    if trailing {
                        code(ls[at])
                    } else {
                        code(ls[at + 1])
                    }
                };
                assert_eq!(find(&src), find(&once), "{src}\n---\n{once}");
                tried += 1;
            }
        }
    }
    assert!(tried >= 50, "{tried}");
}

#[test]
fn problem_files_are_formatted() {
    let mut unformatted = Vec::new();
    for path in tq_files(&root().join("problems")) {
        let src = std::fs::read_to_string(&path).unwrap();
        match format_source(&src) {
            Ok(f) if f == src => {}
            _ => unformatted.push(rel(&path)),
        }
    }
    assert!(
        unformatted.is_empty(),
        "run `tq fmt problems/`: {unformatted:?}"
    );
}

#[test]
fn the_command_rewrites_checks_and_refuses_what_does_not_parse() {
    let dir = std::env::temp_dir().join(format!("tq-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("a.tq");
    let bad = dir.join("b.tq");
    std::fs::write(&good, "size B,J # sizes\ninput x[B,J] ~ normal(0,1)\n").unwrap();
    std::fs::write(&bad, "size B\ninput x[B ~ normal(0, 1)\n").unwrap();
    let tq = env!("CARGO_BIN_EXE_tq");
    let run = |args: &[&str]| std::process::Command::new(tq).args(args).output().unwrap();
    let g = good.to_str().unwrap();
    let out = run(&["fmt", "--check", g]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "unformatted file passes --check"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not formatted"));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "size B,J # sizes\ninput x[B,J] ~ normal(0,1)\n",
        "--check changed the file"
    );
    assert_eq!(run(&["fmt", g]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "size B, J  # sizes\ninput x[B,J] ~ normal(0, 1)\n"
    );
    assert_eq!(run(&["fmt", "--check", g]).status.code(), Some(0));
    let before = std::fs::read_to_string(&bad).unwrap();
    let out = run(&["fmt", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("E0"),
        "no diagnostic code"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        before,
        "a file that does not parse was changed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
