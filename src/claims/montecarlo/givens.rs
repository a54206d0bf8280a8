//! A claim's givens as the values and conditions of a run.

use crate::analysis::givens::Givens;
use crate::check::Env;
use crate::claims::scalar::{self, Scope};
use crate::num::{Machine, NumError};
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, Claim, RelOp};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet};

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
/// A condition that reads a name of `per_binding` (a loop or family variable the
/// claim binds: `given l >= 1`) is left to [`binding_holds`], which reads it at each
/// value of the variable.
pub fn unmet_condition(
    claim: &Claim,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    per_binding: &BTreeSet<String>,
) -> Option<String> {
    for c in Givens::read(&claim.given, env).conditions() {
        let (op, gl, gr, g) = (&c.op, &c.left, &c.right, &c.given);
        if matches!(op, RelOp::Eq | RelOp::Approx) {
            continue;
        }
        if reads_any(c, per_binding) {
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

/// Whether a condition of the givens reads one of `names`.
fn reads_any(c: &crate::analysis::givens::Condition, names: &BTreeSet<String>) -> bool {
    [&c.left, &c.right].into_iter().any(|e| {
        scalar::lower(e, &Scope::default())
            .ok()
            .is_some_and(|x| x.free_symbols().iter().any(|s| names.contains(s)))
    })
}

/// Whether the claim's conditions that read a loop or family variable of `binding`
/// (`given l >= 1`, `l == 1` at a witness's layer) hold at its values, with the run's
/// `consts` for the other names (exact for the whole numbers of a binding; a slack of
/// 1e-12 relative for the run's values). A binding where one fails is no member of the
/// claim, and is neither compared nor named in the evidence (probe 31/c g13: the re-check
/// at a witness `l = 1` reported the member l = 0). A condition that cannot be evaluated
/// there keeps the binding.
pub fn binding_holds(
    claim: &Claim,
    env: &Env,
    consts: &BTreeMap<String, f64>,
    binding: &[(String, i64)],
) -> bool {
    let names: BTreeSet<String> = binding.iter().map(|(n, _)| n.clone()).collect();
    let mut at = consts.clone();
    for (n, v) in binding {
        at.insert(n.clone(), *v as f64);
    }
    let val = |e: &ast::Expr| {
        scalar::lower(e, &Scope::default())
            .ok()
            .and_then(|x| x.eval_f64(&at).ok())
    };
    let read = Givens::read(&claim.given, env);
    // `l == 1` reads as a setting of the name `l` (no size or symbol): the binding's
    // value must be the one set.
    let settings_hold = read.all.iter().all(|g| match g {
        crate::analysis::givens::Given::Set(s) if names.contains(&s.name) && s.power.is_none() => {
            let mine = at.get(&s.name).copied();
            match (mine, val(&s.value)) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
                _ => true,
            }
        }
        _ => true,
    });
    settings_hold
        && read.conditions().all(|c| {
            if !reads_any(c, &names) {
                return true;
            }
            let (Some(a), Some(b)) = (val(&c.left), val(&c.right)) else {
                return true;
            };
            let slack = 1e-12 * a.abs().max(b.abs());
            match c.op {
                RelOp::Eq => (a - b).abs() <= slack,
                RelOp::Le => a <= b + slack,
                RelOp::Lt => a < b - slack,
                RelOp::Ge => a + slack >= b,
                RelOp::Gt => a > b + slack,
                _ => true,
            }
        })
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
