//! A claim's givens as the values and conditions of a run.

use crate::analysis::givens::Givens;
use crate::check::Env;
use crate::claims::scalar::{self, Scope};
use crate::num::{Machine, NumError};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Claim, RelOp};
use crate::syntax::printer::print_expr;
use std::collections::BTreeMap;

/// The values a claim's givens set (`X == 8`, `sigma_W^2 == ...` as sigma_W), numbers
/// first, then those computed from them; an error for a given that sets nothing a run
/// can take (a sign left open, a tensor, an element, an equation that sets no name).
/// The givens are read by the one typed reader, [`Givens`].
pub fn given_values(claim: &Claim, env: &Env) -> Result<Vec<(String, Expr)>, String> {
    let mut sets = Givens::read(&claim.given, env).values(true)?;
    // The constants the claim sees: the sample line changed by the givens (in order).
    sets.sort_by_key(|(_, v)| !v.free_symbols().is_empty());
    Ok(sets)
}

/// The first of a claim's conditions (`c > 0`, `Y - 0 <= X/2`: a given that relates
/// instead of setting) that the run's values `consts` do not satisfy, or that cannot be
/// evaluated there (it reads a tensor, a loop variable): the reason the run does not test
/// the claim. `None` when every condition holds at the run's values (in floating point,
/// with a relative slack of 1e-12 against rounding: the values are the run's, not exact).
/// A condition that reads one of `loop_vars` (`given l >= 2`) is not judged here: it
/// selects the loop values the claim is about ([`loop_givens_hold`]).
pub fn unmet_condition(
    claim: &Claim,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    loop_vars: &[String],
) -> Option<String> {
    for c in Givens::read(&claim.given, env).conditions() {
        let (op, gl, gr, g) = (&c.op, &c.left, &c.right, &c.given);
        if matches!(op, RelOp::Eq | RelOp::Approx) || reads_any(&[gl, gr], loop_vars) {
            continue;
        }
        let val = |e: &ast::Expr| {
            scalar::lower(e, &Scope::default())
                .ok()
                .and_then(|x| x.eval_f64(consts).ok())
        };
        let (Some(a), Some(b)) = (val(gl), val(gr)) else {
            return Some(format!(
                "the given `{}` cannot be evaluated at the run's sizes and symbols",
                print_expr(g)
            ));
        };
        let slack = 1e-12 * a.abs().max(b.abs());
        let holds = match op {
            RelOp::Le => a <= b + slack,
            RelOp::Lt => a < b - slack,
            RelOp::Ge => a + slack >= b,
            RelOp::Gt => a > b + slack,
            _ => true,
        };
        if !holds {
            return Some(format!(
                "the run's sizes and symbols do not satisfy the given `{}` ({a} against {b})",
                print_expr(g)
            ));
        }
    }
    None
}

/// Whether one of the expressions reads a name of `vars` (as a scalar: a loop variable).
fn reads_any(es: &[&ast::Expr], vars: &[String]) -> bool {
    es.iter().any(|e| {
        scalar::lower(e, &Scope::default())
            .map(|x| x.free_symbols().iter().any(|s| vars.contains(s)))
            .unwrap_or(false)
    })
}

/// Whether the claim's givens that read a variable of `binding` (a loop or family
/// variable: `given l == 1`, `given l >= 2`, `given t == T`) hold at that binding, with
/// the run's values `consts` for the rest. Such a given selects the members or steps the
/// claim is about, so a run tests the claim only at the bindings where it holds (probe32/c
/// h36-h38: `Var(h_l) == s given l == 1` was refuted "at l = 0", where the given fails).
/// `Err` when such a given cannot be evaluated at the binding.
pub fn loop_givens_hold(
    claim: &Claim,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    binding: &[(String, i64)],
) -> Result<bool, String> {
    let vars: Vec<String> = binding.iter().map(|(n, _)| n.clone()).collect();
    if vars.is_empty() {
        return Ok(true);
    }
    let mut at = consts.clone();
    for (n, v) in binding {
        at.insert(n.clone(), *v as f64);
    }
    let givens = Givens::read(&claim.given, env);
    let cannot = |g: &ast::Expr| {
        format!(
            "the given `{}` cannot be evaluated at the run's sizes and symbols",
            print_expr(g)
        )
    };
    for c in givens.conditions() {
        let (gl, gr) = (&c.left, &c.right);
        if !reads_any(&[gl, gr], &vars) {
            continue;
        }
        let val = |e: &ast::Expr| {
            scalar::lower(e, &Scope::default())
                .ok()
                .and_then(|x| x.eval_f64(&at).ok())
        };
        let (Some(a), Some(b)) = (val(gl), val(gr)) else {
            return Err(cannot(&c.given));
        };
        let slack = 1e-12 * a.abs().max(b.abs()).max(1.0);
        let holds = match c.op {
            RelOp::Le => a <= b + slack,
            RelOp::Lt => a < b - slack,
            RelOp::Ge => a + slack >= b,
            RelOp::Gt => a > b + slack,
            RelOp::Eq | RelOp::Approx => (a - b).abs() <= slack,
        };
        if !holds {
            return Ok(false);
        }
    }
    // Givens that set a loop variable (`given l == 1`, `given l = L - 1`).
    for (n, v) in givens.values(false).unwrap_or_default() {
        let Some((_, b)) = binding.iter().find(|(m, _)| *m == n) else {
            continue;
        };
        let x = v.eval_f64(&at).map_err(|_| {
            format!("the given value of `{n}` cannot be evaluated at the run's sizes and symbols")
        })?;
        if (x - *b as f64).abs() > 1e-9 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sets a machine's constants and boundary rule from a claim's givens, and refuses (as
/// too large) a run whose sizes the givens changed past the checker's budget at them
/// (`check::budget::within_at`), before anything is allocated.
pub fn apply_givens(
    m: &mut Machine,
    program: &ast::Program,
    env: &Env,
    sets: &[(String, Expr)],
    boundary: Option<ast::Boundary>,
) -> Result<(), NumError> {
    for (n, v) in sets {
        let at: BTreeMap<String, f64> = m.consts.clone().into_iter().collect();
        let x = v.eval_f64(&at).map_err(|e| NumError {
            too_large: false,
            message: e,
        })?;
        if env.sizes.contains_key(n) {
            let max = crate::check::MAX_SAMPLE_SIZE;
            let why = if !x.is_finite() || x.abs() > max as f64 || x < 1.0 && x.fract() == 0.0 {
                Some(format!(
                    "is out of range: sizes for numeric runs are whole numbers from 1 to {max}"
                ))
            } else if x.fract() != 0.0 {
                Some("is not a whole number".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                return Err(NumError {
                    too_large: false,
                    message: format!("size {n} = {x} {why}"),
                });
            }
        }
        m.consts.insert(n.clone(), x);
    }
    if sets.iter().any(|(n, _)| env.sizes.contains_key(n)) {
        crate::check::budget::within_at(program, env, &m.consts).map_err(|message| NumError {
            too_large: true,
            message,
        })?;
    }
    if let Some(bd) = boundary {
        m.boundary = Some(bd);
    }
    Ok(())
}
