//! An exact refutation that Monte Carlo at its witness does not refute: the trials may
//! add evidence, never veto it (probe36 b17).
//!
//! The moments engine refutes a claim at a point with the exact (rational) values of
//! both sides there; Monte Carlo, the second check, runs at that witness and confirms a
//! claim when its interval resolves 5% of the values, so an error under about 5% (27/8
//! against 13/4) is "confirmed" by data that sit beside the exact value. Monte Carlo
//! stands against the exact engine only when it refutes the exact value itself: each
//! side that reads a moment is tested against the value the exact engine gave it there;
//! when no such test refutes it, the refutation stands with the trials' estimates
//! reported beside it (docs/soundness.md, "Monte Carlo beside an exact refutation").

use super::*;
use num_rational::BigRational;

/// The claims `side == value` at the witness, one for each side of `at_witness` (the
/// claim with the witness's point as givens) that reads a moment, `value` the exact value
/// the witness gives that side; `None` when a value is not an exact rational (nothing is
/// then tested: the disagreement stands).
fn exact_sides(at_witness: &Claim, w: &Witness) -> Option<Vec<(Claim, String)>> {
    let ast::Expr::Rel(_, l, r, span) = &at_witness.body else {
        return None;
    };
    let mut out = Vec::new();
    for (side, value) in [(l, &w.left), (r, &w.right)] {
        let mut found = Vec::new();
        moments::find(side, &mut found);
        if found.is_empty() {
            continue;
        }
        let v: BigRational = value.trim().parse().ok()?;
        let num = |i: &num_bigint::BigInt| ast::Expr::Num(i.to_string(), *span);
        let mut e = num(&num_traits::Signed::abs(v.numer()));
        if !v.is_integer() {
            e = ast::Expr::Binary(
                ast::BinOp::Div,
                Box::new(e),
                Box::new(num(v.denom())),
                *span,
            );
        }
        if num_traits::Signed::is_negative(&v) {
            e = ast::Expr::Unary(ast::UnOp::Neg, Box::new(e), *span);
        }
        let mut c = at_witness.clone();
        c.body = ast::Expr::Rel(RelOp::Eq, side.clone(), Box::new(e), *span);
        out.push((c, value.trim().to_string()));
    }
    (!out.is_empty()).then_some(out)
}

/// Why an exact refutation (`exact`, refuted with an exact witness) stands although Monte
/// Carlo at its witness confirmed the claim (`mc`): every side that reads a moment was
/// tested by `run` against the exact value at the witness and none was refuted. `None`
/// when the refutation is not exact, a value is not a rational, or Monte Carlo refutes an
/// exact value (a disagreement: the verdict is then undecided, as before).
pub(super) fn refutation_stands(
    exact: &Outcome,
    mc: &Outcome,
    at_witness: Option<&Claim>,
    mut run: impl FnMut(&Claim) -> Option<Outcome>,
) -> Option<String> {
    if exact.verdict != Verdict::Refuted || mc.verdict != Verdict::Confirmed {
        return None;
    }
    let w = exact.witness.as_ref()?;
    // Exact evaluation, or the exact range facts of both sides (`range (left − right ∈
    // …)`); a floating-point value or enclosure is no exact witness.
    if w.checked_by != "exact evaluation" && !w.checked_by.starts_with("range") {
        return None;
    }
    let sides = exact_sides(at_witness?, w)?;
    let mut shown = Vec::new();
    for (c, value) in sides {
        let o = run(&c)?;
        if o.verdict == Verdict::Refuted {
            return None;
        }
        shown.push(format!(
            "against the exact value {value}: {} ({})",
            o.verdict.as_str(),
            o.evidence
        ));
    }
    Some(format!(
        "Monte Carlo at the witness does not refute the exact values there ({}); its confirmation of the claim only says its 5% resolution cannot tell the two values apart, so the exact refutation stands",
        shown.join("; ")
    ))
}
