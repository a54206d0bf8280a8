//! Claims under a given that sets an element of a leaf (`given m[b,i] = p`) to a value
//! whose membership in the leaf's support is not decided ([`crate::check::supports`]):
//! a number outside is E0512 in the checker; a symbol, or a support with symbolic ends,
//! leaves the claim undecided, unless it was refuted at a witness where the value is
//! inside (then the witness is an element the given allows). docs/soundness.md, "The
//! domains".

use super::outcome::Outcome;
use super::Verdict;
use crate::check::supports::{leaf_given, Membership, Support};
use crate::check::Env;
use crate::syntax::ast::{Claim, Expr};
use crate::syntax::printer::{print_expr, print_name};

/// The undecided outcome that replaces `o` when one of the claim's (resolved) givens
/// sets a leaf's element to a value not known to be in its support, or a refutation's
/// witness puts it outside.
pub(super) fn support_open(claim: &Claim, o: &Outcome, env: &Env) -> Option<Outcome> {
    if !matches!(
        o.verdict,
        Verdict::Proved | Verdict::Confirmed | Verdict::Refuted
    ) {
        return None;
    }
    for g in &claim.given {
        let Some((target, s, value)) = leaf_given(g, env) else {
            continue;
        };
        if s.test(value, &Default::default()) == Membership::Inside {
            continue;
        }
        let name = print_expr(target);
        let leaf = match target {
            Expr::Ref(r) => print_name(&r.name),
            _ => name.clone(),
        };
        let support = match s.support {
            Support::Unknown => s.why.clone(),
            _ => format!("{}: {}", s.why, s.show()),
        };
        let why = match (&o.verdict, &o.witness) {
            (Verdict::Refuted, Some(w)) => match s.test(value, &w.point) {
                Membership::Inside => continue,
                Membership::Outside => format!(
                    "the refutation's witness sets `{name}` to {} there, a value no element of `{leaf}` takes ({support}): it is no element the given allows",
                    crate::check::supports::exact_value(value, &w.point)
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| print_expr(value)),
                ),
                Membership::Open => format!(
                    "the given sets `{name}` to {}, and whether the elements of `{leaf}` ({support}) take that value at the refutation's witness is not decided",
                    print_expr(value)
                ),
            },
            _ => format!(
                "the given sets `{name}` to {}, and whether the elements of `{leaf}` ({support}) take that value is not decided: where they do not, the claim is about no element",
                print_expr(value)
            ),
        };
        return Some(Outcome {
            on_elements: o.on_elements,
            ..Outcome::undecided(format!(
                "{why} (it was {} by {})",
                o.verdict.as_str(),
                o.method
            ))
        });
    }
    None
}
