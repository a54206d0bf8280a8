//! The claims of a program with the point in force where each stands (the `at` scoping
//! rule, docs/language.md "Claims"), each derivation step a claim of its own, and the
//! byte ranges of the `claim` items that the verdict cache leaves out of the key every
//! claim shares.

use super::*;

/// The byte ranges of the `claim` items of a program (in loops too): what the verdict
/// cache leaves out of the context every claim's key shares.
pub fn claim_items(items: &[Item], out: &mut Vec<(usize, usize)>) {
    for it in items {
        match &it.kind {
            ItemKind::Claim(_) => out.push((it.span.start as usize, it.span.end as usize)),
            ItemKind::Loop(l) => claim_items(&l.body, out),
            _ => {}
        }
    }
}

/// Claims with the point (`at a = 2, b = 1`) in force where they stand; each step of a
/// derivation is a claim of its own, at its line. The scoping rule (docs/language.md,
/// "Claims"): the file-level `at` lines before the claim give the point (a later line
/// sets its names again), a claim's own
/// `at` overrides it name by name, and a name the claim's `given` sets takes the
/// given's value. Every claim's givens are solved here, once, in dependency order
/// ([`crate::check::givens`]): every engine reads the resolved givens. The last part of
/// each entry is the claim's `tol`, `given` and `at` as written, for its report (the
/// resolved givens, `s = 2 (1)` for `s = 2 t, t = 1`, are what the engines read, not
/// what the author wrote).
#[allow(clippy::type_complexity)]
pub(super) fn collect(
    items: &[Item],
    env: &Env,
    at: &mut Vec<Binding>,
    out: &mut Vec<(crate::syntax::span::Span, Claim, Vec<Binding>, String)>,
) {
    let scoped = |c: &Claim, at: &[Binding]| -> (Claim, Vec<Binding>) {
        let mut c = c.clone();
        c.given = crate::check::givens::resolved(&c.given, &c.at, env);
        let set = |name: &str| {
            c.at.iter().any(|b| b.name.name == name)
                || c.given.iter().any(|g| match g {
                    ast::Expr::Rel(RelOp::Eq, l, _, _) => {
                        let l = match &**l {
                            ast::Expr::Binary(ast::BinOp::Pow, b, _, _) => b,
                            l => l,
                        };
                        matches!(l, ast::Expr::Ref(r) if r.indices.is_none()
                            && crate::syntax::printer::print_name(&r.name) == name)
                    }
                    _ => false,
                })
        };
        let mut here: Vec<Binding> = at.iter().filter(|b| !set(&b.name.name)).cloned().collect();
        here.extend(c.at.iter().cloned());
        (c, here)
    };
    for item in items {
        match &item.kind {
            // A later `at` line sets its names again and keeps the others.
            ItemKind::At(bs) => {
                at.retain(|b| !bs.iter().any(|n| n.name.name == b.name.name));
                at.extend(bs.iter().cloned());
            }
            ItemKind::Claim(c) => {
                let tail = crate::syntax::printer::print_claim_tail(c);
                let (c, here) = scoped(c, at);
                out.push((item.span, c, here, tail));
            }
            ItemKind::Derivation(d) => {
                for (span, c) in d.step_claims() {
                    let tail = crate::syntax::printer::print_claim_tail(&c);
                    let (c, here) = scoped(&c, at);
                    out.push((span, c, here, tail));
                }
            }
            ItemKind::Loop(l) => collect(&l.body, env, &mut at.clone(), out),
            _ => {}
        }
    }
}
