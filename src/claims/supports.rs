//! Claims under a given that sets an element of a leaf (`given m[b,i] = p`) to a value
//! whose membership in the leaf's support is not decided ([`crate::check::supports`]):
//! a number outside is E0512 in the checker; a symbol, or a support with symbolic ends,
//! leaves the claim undecided, unless it was refuted at a witness where the value is
//! inside (then the witness is an element the given allows). docs/soundness.md, "The
//! domains".

use super::outcome::Outcome;
use super::Verdict;
use crate::check::supports::{leaf_given, LeafSupport, Membership, Support};
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
        if s.test(value, &Default::default()) == Membership::Inside
            || proved_inside(claim, s, value, env)
        {
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

/// Whether `lo <= value <= hi` is proved for an interval support (`uniform(lo, hi)`,
/// numbers or not) by a rule of [`crate::sym::check_relation`], under the symbols'
/// domains and the claim's other givens on symbols and sizes (a number a given sets is
/// put in first: `given s = 4` with `uniform(-s, s)`). A float never proves, so a
/// value inside only by the random points stays open.
fn proved_inside(claim: &Claim, s: &LeafSupport, value: &Expr, env: &Env) -> bool {
    use crate::sym::{self, Expr as S, Rel};
    let Some((lo, hi)) = &s.ends else {
        return false;
    };
    let known = |e: &S| {
        e.free_symbols()
            .iter()
            .all(|n| env.symbols.contains_key(n) || env.sizes.contains_key(n))
    };
    let parse = |e: &Expr| {
        sym::parse_ascii(&print_expr(e))
            .ok()
            .map(|e| e.normalize())
            .filter(known)
    };
    let (Some(mut v), Some(mut lo), Some(mut hi)) = (parse(value), parse(lo), parse(hi)) else {
        return false;
    };
    let mut assumptions: Vec<sym::Assumption> = Vec::new();
    let mut set: Vec<(String, S)> = Vec::new();
    for g in &claim.given {
        if leaf_given(g, env).is_some() {
            continue;
        }
        let Expr::Rel(op, l, r, _) = g else {
            continue;
        };
        let (Some(a), Some(b)) = (parse(l), parse(r)) else {
            continue;
        };
        let Some(rel) = crate::lower::relation(*op) else {
            continue;
        };
        match (&a, &rel, &b) {
            (S::Sym(n), Rel::Eq, S::Num(_)) => set.push((n.clone(), b.clone())),
            (S::Num(_), Rel::Eq, S::Sym(n)) => set.push((n.clone(), a.clone())),
            _ => {}
        }
        assumptions.push((a, rel, b));
    }
    for (n, c) in &set {
        v = v.subs(n, c);
        lo = lo.subs(n, c);
        hi = hi.subs(n, c);
    }
    let check = sym::CheckOptions {
        domains: super::symbolic::claim_domains(env, &assumptions),
        assumptions,
        signed_symbols: super::symbolic::signed_symbols(env),
        integer_symbols: env.sizes.keys().cloned().collect(),
        ..Default::default()
    };
    let proved =
        |a: &S, b: &S| sym::check_relation(a, &Rel::Le, b, &check).verdict == Verdict::Proved;
    proved(&lo, &v) && proved(&v, &hi)
}
