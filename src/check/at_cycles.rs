//! `at` values that set their names in a cycle (E0511): `at a = a + 1`, a name set from
//! itself, or `at a = b + 1, b = a - 1`, through the point's other names. The point was
//! substituted once around the cycle (`a + 1` written for `a` in both sides, the witness
//! then printed at the free `a`: "at a = 0: left 1, right 2" for `x == a + 1` with `x =
//! a`, where both sides are 0 and 1), so the witness did not show what it said (probe36
//! h03). The point a claim reads is the `at` lines before it, name by name, then its own
//! `at` (docs/language.md): a cycle is looked for in that point.

use crate::diag::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;
use std::collections::{BTreeMap, BTreeSet};

/// One setting of the point: its value's names and where the value is written.
#[derive(Clone)]
struct Setting {
    reads: BTreeSet<String>,
    span: Span,
}

/// E0511 for every `at` setting that reads itself, directly or through the point's
/// other names, once per setting.
pub fn check(items: &[Item], diags: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    walk(items, &mut BTreeMap::new(), &mut seen, diags);
}

fn settings(bs: &[Binding], point: &mut BTreeMap<String, Setting>) {
    for b in bs {
        let mut reads = BTreeSet::new();
        crate::syntax::visit::walk_refs(&b.value, &mut |r| {
            if r.indices.is_none() {
                reads.insert(crate::syntax::printer::print_name(&r.name));
            }
        });
        point.insert(
            b.name.name.clone(),
            Setting {
                reads,
                span: b.value.span(),
            },
        );
    }
}

fn walk(
    items: &[Item],
    point: &mut BTreeMap<String, Setting>,
    seen: &mut BTreeSet<(u32, u32)>,
    diags: &mut Vec<Diagnostic>,
) {
    for item in items {
        match &item.kind {
            ItemKind::At(bs) => {
                settings(bs, point);
                let mut own = BTreeMap::new();
                settings(bs, &mut own);
                cycles(&own, seen, diags);
            }
            ItemKind::Claim(c) => {
                let mut p = point.clone();
                settings(&c.at, &mut p);
                cycles(&p, seen, diags);
            }
            ItemKind::Loop(l) => walk(&l.body, &mut point.clone(), seen, diags),
            ItemKind::ForIndices(f) => walk(&f.body, &mut point.clone(), seen, diags),
            ItemKind::Rule(r) => walk(&r.body, &mut point.clone(), seen, diags),
            _ => {}
        }
    }
}

/// The cycles of one point, each reported at the value of its first name.
fn cycles(
    point: &BTreeMap<String, Setting>,
    seen: &mut BTreeSet<(u32, u32)>,
    diags: &mut Vec<Diagnostic>,
) {
    let chain_of = |name: &str| {
        let (name, s) = point.get_key_value(name)?;
        back_to(
            name,
            s,
            point,
            &mut vec![name.as_str()],
            &mut BTreeSet::new(),
        )
    };
    let mut done: BTreeSet<String> = BTreeSet::new();
    for name in point.keys() {
        if done.contains(name) {
            continue;
        }
        let Some(chain) = chain_of(name) else {
            continue;
        };
        done.extend(chain.iter().cloned());
        // Reported at the value written last: the one that closed the cycle (a claim's
        // own `at` after the file's `at` line).
        let Some(last) = chain
            .iter()
            .max_by_key(|n| point[n.as_str()].span.start)
            .cloned()
        else {
            continue;
        };
        let (name, s) = (&last, &point[last.as_str()]);
        let Some(chain) = chain_of(name) else {
            continue;
        };
        if !seen.insert((s.span.start, s.span.end)) {
            continue;
        }
        let message = if chain.len() == 2 {
            format!("`at` sets `{name}` from itself")
        } else {
            format!(
                "the `at` values set their names in a cycle: {}",
                chain.join(" ← ")
            )
        };
        diags.push(
            Diagnostic::error("E0511", s.span, message)
                .with_label("this value reads the name it sets")
                .with_hint(format!(
                    "give `{name}` a value of numbers or of names set without going round (`a = 1, b = a + 1`, in that order or any); to keep `{name}` free, do not set it in `at`"
                )),
        );
    }
}

fn back_to<'a>(
    start: &'a str,
    s: &'a Setting,
    point: &'a BTreeMap<String, Setting>,
    path: &mut Vec<&'a str>,
    visited: &mut BTreeSet<&'a str>,
) -> Option<Vec<String>> {
    for r in &s.reads {
        if r == start {
            let mut chain: Vec<String> = path.iter().map(|n| n.to_string()).collect();
            chain.push(start.to_string());
            return Some(chain);
        }
        let Some((name, next)) = point.get_key_value(r.as_str()) else {
            continue;
        };
        if !visited.insert(name.as_str()) {
            continue;
        }
        path.push(name.as_str());
        if let Some(c) = back_to(start, next, point, path, visited) {
            return Some(c);
        }
        path.pop();
    }
    None
}
