//! The layering of ARCHITECTURE.md, enforced: every `crate::` path in the library's
//! sources must name a module that the table lets the file's top-level module depend on.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Table = BTreeMap<String, BTreeSet<String>>;

/// The "may depend on" table of ARCHITECTURE.md's `## Layering` section.
fn read_table(architecture: &str) -> Table {
    let section = architecture
        .split("\n## Layering")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layering` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut table = Table::new();
    for line in section.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 3 || !cells[0].starts_with('`') {
            continue;
        }
        let name = cells[0].trim_matches('`').to_string();
        let deps = cells[2]
            .split(',')
            .map(|d| d.trim().trim_matches('`').to_string())
            .filter(|d| !d.is_empty() && d != "—")
            .collect();
        assert!(
            table.insert(name.clone(), deps).is_none(),
            "module `{name}` is listed twice in the layering table"
        );
    }
    table
}

/// The top-level modules that `text` (one source file, comments removed) refers to
/// through `crate::` paths, including `crate::{a, b::c}` groups.
fn referenced_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = text;
    while let Some(k) = rest.find("crate::") {
        let before = rest[..k].chars().last();
        rest = &rest[k + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Only the first path segment of each top-level item of the group.
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            out.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Source text with `//` comments (doc comments included) removed, so that a doc
/// link is not an edge. String literals containing `//` are rare in `src/`; a line
/// whose `//` is inside a string only loses its tail, which can hide an edge in that
/// tail but never invents one.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(k) => &l[..k],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level library module a file of `src/` belongs to; `None` for the crate
/// root and for the binary (`main.rs`, `cli/`), which sit above every layer.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    match name.as_str() {
        "lib" | "main" | "cli" => None,
        _ => Some(name),
    }
}

/// Every violation of `table` by the files of `sources` (top-level module, text).
fn violations(table: &Table, sources: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (module, text) in sources {
        let Some(allowed) = table.get(module) else {
            out.push(format!(
                "module `{module}` is not in ARCHITECTURE.md's layering table"
            ));
            continue;
        };
        for dep in referenced_modules(&strip_comments(text)) {
            if &dep != module && !allowed.contains(&dep) {
                out.push(format!(
                    "`{module}` depends on `{dep}`, which the layering table does not allow"
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A cycle in the table, if any (depth-first search).
fn table_cycle(table: &Table) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        table: &Table,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let k = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut cycle = stack[k..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in table.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, table, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in table.keys() {
        if let Some(c) = visit(n, table, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn every_crate_path_respects_the_layering_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = read_table(&std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap());
    assert!(
        table.len() >= 10,
        "the layering table was not read: {table:?}"
    );
    for (m, deps) in &table {
        for d in deps {
            assert!(
                table.contains_key(d),
                "`{m}` may depend on `{d}`, which the table does not list"
            );
        }
    }
    if let Some(cycle) = table_cycle(&table) {
        panic!("the layering table has a cycle: {}", cycle.join(" -> "));
    }
    let src = root.join("src");
    let files = common::files_with_extension(&src, "rs");
    let sources: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| Some((top_module(&src, f)?, std::fs::read_to_string(f).unwrap())))
        .collect();
    assert!(sources.len() > 30, "too few source files found under src/");
    let bad = violations(&table, &sources);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));

    // The table lists exactly the library's top-level modules.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').trim().to_string())
        .collect();
    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(
        declared, listed,
        "lib.rs's modules and the layering table differ"
    );
}

#[test]
fn the_layering_check_catches_a_planted_edge_and_a_cycle() {
    let table = read_table(
        "\n## Layering\n\n| module | kind | may depend on |\n|---|---|---|\n\
         | `span` | service | — |\n| `syntax` | stage | `span` |\n| `sym` | service | — |\n\n## Next\n",
    );
    assert_eq!(table.len(), 3);
    let sources = vec![
        (
            "syntax".to_string(),
            "use crate::span::Span;\n// crate::sym in a comment\n".to_string(),
        ),
        (
            "sym".to_string(),
            "fn f() { crate::syntax::parse(); }\n".to_string(),
        ),
        (
            "span".to_string(),
            "use crate::{sym::Expr, span};\n".to_string(),
        ),
        ("emit".to_string(), "use crate::span;\n".to_string()),
    ];
    let bad = violations(&table, &sources);
    assert_eq!(
        bad,
        vec![
            "`span` depends on `sym`, which the layering table does not allow".to_string(),
            "`sym` depends on `syntax`, which the layering table does not allow".to_string(),
            "module `emit` is not in ARCHITECTURE.md's layering table".to_string(),
        ]
    );
    let mut cyclic = table.clone();
    cyclic.get_mut("span").unwrap().insert("syntax".into());
    assert!(table_cycle(&cyclic).is_some());
    assert!(table_cycle(&table).is_none());
}

/// Issue #13: files by concept, none over 1,000 lines (a file that grows past it is split
/// by concept, as `variants/output.rs` and `claims/element_checks.rs` were in session 31).
#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = common::files_with_extension(&src, "rs");
    assert!(files.len() > 30, "too few source files found under src/");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 1000).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "source files over 1,000 lines (split them by concept):\n{}",
        long.join("\n")
    );
}

/// The source files a map fails to name: a file is named when its path under `src/`
/// appears in the map, or its file name appears in a bullet (`- ...`) whose heading (the
/// text before its first ` — `) names the file's top-level module as `src/<module>`.
fn unnamed_files(map: &str, files: &[String]) -> Vec<String> {
    let bullets: Vec<(BTreeSet<String>, &str)> = map
        .split("\n- ")
        .map(|b| {
            let head = b.split(" — ").next().unwrap_or("");
            let tops = head
                .split("src/")
                .skip(1)
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .collect();
            (tops, b)
        })
        .collect();
    files
        .iter()
        .filter(|rel| {
            let top = rel.split(['/', '.']).next().unwrap_or("").to_string();
            let name = rel.rsplit('/').next().unwrap_or(rel);
            let by_path = map.contains(&format!("`{rel}`"))
                || map.contains(&format!("src/{rel}"))
                || map.contains(&format!("{rel}`"));
            let by_bullet = bullets
                .iter()
                .any(|(tops, text)| tops.contains(&top) && text.contains(name));
            !(by_path || by_bullet)
        })
        .cloned()
        .collect()
}

/// The `.rs` paths a map names that are neither a file under `src/` (by any suffix of
/// its path) nor a file of the repository.
fn stale_names(map: &str, files: &[String], root: &Path) -> Vec<String> {
    let mut stale = BTreeSet::new();
    for word in map.split(|c: char| !(c.is_ascii_alphanumeric() || "_/.".contains(c))) {
        let word = word.trim_matches('.');
        if !word.ends_with(".rs") {
            continue;
        }
        let bare = word.trim_start_matches("src/");
        let known = files
            .iter()
            .any(|f| f == bare || f.ends_with(&format!("/{bare}")))
            || root.join(word).exists();
        if !known {
            stale.insert(word.to_string());
        }
    }
    stale.into_iter().collect()
}

/// Issue #13: the code map matches the tree. docs/code-map.md names every source file and
/// no file that is gone; ARCHITECTURE.md's short map names every module of the layering
/// table and stays short enough to read in five minutes.
#[test]
fn the_code_maps_match_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let files: Vec<String> = common::files_with_extension(&src, "rs")
        .iter()
        .map(|f| {
            f.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let map = std::fs::read_to_string(root.join("docs/code-map.md")).unwrap();
    let unnamed = unnamed_files(&map, &files);
    assert!(
        unnamed.is_empty(),
        "source files docs/code-map.md does not name:\n{}",
        unnamed.join("\n")
    );
    let stale = stale_names(&map, &files, root);
    assert!(
        stale.is_empty(),
        "docs/code-map.md names files that do not exist:\n{}",
        stale.join("\n")
    );

    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let start = architecture
        .find("## Code map")
        .expect("a `## Code map` section");
    let end = architecture[start + 1..]
        .find("\n## ")
        .map_or(architecture.len(), |e| start + 1 + e);
    let short = &architecture[start..end];
    let table = read_table(&architecture);
    let missing: Vec<&String> = table
        .keys()
        .filter(|m| !short.contains(&format!("`{m}/`")) && !short.contains(&format!("`{m}.rs`")))
        .collect();
    assert!(
        missing.is_empty(),
        "modules ARCHITECTURE.md's code map does not mention: {missing:?}"
    );
    let words = architecture.split_whitespace().count();
    assert!(
        words <= 1600,
        "ARCHITECTURE.md has {words} words; keep it readable in five minutes \
         (file-by-file detail belongs in docs/code-map.md)"
    );
}

#[test]
fn the_code_map_check_catches_an_unnamed_and_a_stale_file() {
    let files = vec![
        "claims/route.rs".to_string(),
        "claims/cost.rs".to_string(),
        "span.rs".to_string(),
    ];
    let map = "- `src/span.rs` — spans.\n- `src/claims/` — `route.rs` routes, `gone.rs` old.\n";
    assert_eq!(
        unnamed_files(map, &files),
        vec!["claims/cost.rs".to_string()]
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(stale_names(map, &files, root), vec!["gone.rs".to_string()]);
}
