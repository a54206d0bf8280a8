//! The point in force at each claim, by the scoping rule of docs/language.md ("Claims"):
//! the file-level `at` lines before a claim give its point, and a later `at` line sets
//! its names again and keeps the others. The first `at` line is the file's point (the
//! one `tq variants` puts a varied scalar in, and the page's "Values" line states); a
//! later line's settings are, for the claims after it, what a claim's own `at` is: the
//! question states them (`u = 3 at a = 1`), and a variant keeps them (probe37 j05: the
//! variant's value overwrote every `at` line, so the claims the author pinned to a = 1
//! were asked at the variant's a).

use crate::syntax::ast::*;

/// The `at` bindings in force at one claim (or derivation), before its own `at`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    /// Every binding in force, in the order the lines set them.
    pub in_force: Vec<Binding>,
    /// Those a later `at` line set (not the file's first `at` line).
    pub later: Vec<Binding>,
}

/// The points of a program: per claim in file order (the order of the claims in loops,
/// `for` blocks and rules too, as [`super::claims_with_reports`] lists them), and per
/// top-level `derivation`.
#[derive(Clone, Debug, Default)]
pub struct Points {
    pub claims: Vec<Point>,
    pub derivations: Vec<Point>,
}

/// The points in force at each claim and derivation of `items`.
pub fn points(items: &[Item]) -> Points {
    let mut out = Points::default();
    let mut seen_first = false;
    walk(items, &mut Vec::new(), &mut seen_first, &mut out);
    out
}

fn snapshot(state: &[(Binding, bool)]) -> Point {
    Point {
        in_force: state.iter().map(|(b, _)| b.clone()).collect(),
        later: state
            .iter()
            .filter(|(_, later)| *later)
            .map(|(b, _)| b.clone())
            .collect(),
    }
}

fn walk(items: &[Item], state: &mut Vec<(Binding, bool)>, seen_first: &mut bool, out: &mut Points) {
    for item in items {
        match &item.kind {
            ItemKind::At(bs) => {
                let later = std::mem::replace(seen_first, true);
                state.retain(|(b, _)| !bs.iter().any(|n| n.name.name == b.name.name));
                state.extend(bs.iter().map(|b| (b.clone(), later)));
            }
            ItemKind::Claim(_) => out.claims.push(snapshot(state)),
            ItemKind::Derivation(_) => out.derivations.push(snapshot(state)),
            ItemKind::Loop(l) => walk(&l.body, &mut state.clone(), seen_first, out),
            ItemKind::ForIndices(f) => walk(&f.body, &mut state.clone(), seen_first, out),
            ItemKind::Rule(r) => walk(&r.body, &mut state.clone(), seen_first, out),
            _ => {}
        }
    }
}

/// The settings of later `at` lines in force at a claim that its own `at` and `given`
/// leave alone: what the question states beside the claim's own `at`.
pub fn later_settings<'a>(c: &Claim, p: &'a Point) -> Vec<&'a Binding> {
    p.later.iter().filter(|b| !sets(c, &b.name.name)).collect()
}

/// Whether the claim's own `at` or a `given name = ...` (`name^2 = ...`) sets `name`.
pub fn sets(c: &Claim, name: &str) -> bool {
    c.at.iter().any(|b| b.name.name == name)
        || c.given.iter().any(|g| match g {
            Expr::Rel(RelOp::Eq, l, _, _) => {
                let l = match &**l {
                    Expr::Binary(BinOp::Pow, b, _, _) => b,
                    l => l,
                };
                matches!(l, Expr::Ref(r) if r.indices.is_none()
                    && crate::syntax::printer::print_name(&r.name) == name)
            }
            _ => false,
        })
}

/// The claim as asked: the later `at` lines' settings in force at it written into its
/// own `at` (after the claim's own), so the question says where it is asked.
pub fn with_point(c: &Claim, p: &Point) -> Claim {
    let mut c = c.clone();
    let extra: Vec<Binding> = later_settings(&c, p).into_iter().cloned().collect();
    c.at.extend(extra);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Program {
        let p = crate::syntax::parser::parse(src);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        p.program
    }

    #[test]
    fn a_later_at_line_is_a_setting_of_the_claims_after_it() {
        let p = parse(
            "scalar a, b\nu = a^2 b\nat a = 2, b = 3\nclaim u == 12\nat a = 1\nclaim u == 3\nclaim u == 6 at b = 6\nclaim u == 9 at a = 3, b = 1\n",
        );
        let pts = points(&p.items);
        assert_eq!(pts.claims.len(), 4);
        let names = |bs: &[Binding]| -> Vec<String> {
            bs.iter()
                .map(|b| {
                    format!(
                        "{}={}",
                        b.name.name,
                        crate::syntax::printer::print_expr(&b.value)
                    )
                })
                .collect()
        };
        assert_eq!(names(&pts.claims[0].in_force), ["a=2", "b=3"]);
        assert!(pts.claims[0].later.is_empty());
        assert_eq!(names(&pts.claims[1].in_force), ["b=3", "a=1"]);
        assert_eq!(names(&pts.claims[1].later), ["a=1"]);
        let claims: Vec<&Claim> = p
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Claim(c) => Some(c),
                _ => None,
            })
            .collect();
        // Its own `at b = 6` keeps the later a = 1; its own `at a = 3` replaces it.
        assert_eq!(later_settings(claims[2], &pts.claims[2]).len(), 1);
        assert!(later_settings(claims[3], &pts.claims[3]).is_empty());
        assert_eq!(with_point(claims[2], &pts.claims[2]).at.len(), 2);
    }
}
