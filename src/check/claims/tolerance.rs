//! A claim's tolerance, and operators written without parentheses.

use super::*;

/// The range of a claim's tolerance: the numeric engines compare in double precision, so
/// a tolerance past 1e300 (`tol 1e400` read as infinity) or below 1e-300 (`tol 1e-400`
/// read as 0) is not the tolerance written.
pub(super) const TOL_RANGE: (f64, f64) = (1e-300, 1e300);

/// E0901: a claim's tolerance that is a constant but not a positive number within
/// [`TOL_RANGE`] (`tol 0`, `tol -1`, `tol 1e400`, `tol 1e-400`, `tol 1/0`). A tolerance
/// that names values is left to the engines (undecided when they cannot read it).
pub(crate) fn tolerance_out_of_range(t: &Expr) -> Option<Diagnostic> {
    let mut names = false;
    crate::syntax::visit::walk_refs(t, &mut |_| names = true);
    if names {
        return None;
    }
    let text = crate::syntax::printer::print_expr(t);
    crate::sym::take_exact_budget_hit();
    let (v, conditions) = crate::sym::defined::collecting(|| {
        crate::sym::parse_ascii(&text).map(|p| crate::sym::simplify(&p))
    });
    if crate::sym::take_exact_budget_hit() {
        return Some(super::super::vary::exact_too_large(
            "the tolerance",
            &text,
            t.span(),
        ));
    }
    // Undefined (a division by zero, the log of a non-positive number): no value.
    let defined = conditions
        .iter()
        .all(|c| crate::sym::defined::condition_holds(c, &crate::sym::Domains::default()));
    let (float, sign) = match v {
        Ok(_) if !defined => (None, None),
        Ok(v) => {
            let float = v.eval_f64(&BTreeMap::new()).ok();
            let sign = match v.as_num() {
                Some(r) => Some(num_traits::Signed::is_positive(r)),
                None => float.filter(|f| !f.is_nan()).map(|f| f > 0.0),
            };
            (float, sign)
        }
        // A numeral the exact reader does not take (an exponent: `1e400`): its sign from
        // its digits, its size in double precision.
        Err(_) => {
            let t = text.trim();
            // A numeral with an exponent past ±400 is E0904 wherever it is written.
            if crate::check::numbers::out_of_range(t) {
                return None;
            }
            let float = t.parse::<f64>().ok()?;
            let mantissa = t.split(['e', 'E']).next().unwrap_or("");
            let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
            (Some(float), Some(nonzero && !t.starts_with('-')))
        }
    };
    let why = match (sign, float) {
        (Some(false), _) => "is not positive: no difference is within it".to_string(),
        (_, None) => "has no finite value".to_string(),
        (_, Some(f)) if f.is_nan() => "has no finite value".to_string(),
        (_, Some(f)) if f > TOL_RANGE.1 => {
            "is over 1e300: the numeric comparisons would read it as infinite".to_string()
        }
        (Some(true), Some(f)) if f < TOL_RANGE.0 => {
            "is below 1e-300: the numeric comparisons would read it as 0".to_string()
        }
        (None, Some(f)) if f <= 0.0 => "is not positive: no difference is within it".to_string(),
        _ => return None,
    };
    Some(
        Diagnostic::error("E0901", t.span(), format!("the tolerance `{text}` {why}"))
            .with_label("tolerance out of range")
            .with_hint("give a positive tolerance from 1e-300 to 1e300 (`tol 1e-3`); a claim meant exactly is written with `==` and needs none"),
    )
}

/// E0901: a tolerance that names a value (`tol foo`, `tol a`, `tol inf`, `tol nan`).
/// No engine reads a tolerance but as a number, so such a claim was left undecided with
/// no diagnostic and the file passed (probe37 j09). `e` and `pi` are numbers when the
/// file declares no value of that name.
pub(crate) fn tolerance_names(t: &Expr, env: &crate::check::Env) -> Option<Diagnostic> {
    let mut first: Option<&Ref> = None;
    crate::syntax::visit::walk_refs(t, &mut |r| {
        let plain = r.indices.is_none() && !r.grad && r.name.sub.is_empty();
        let constant = plain
            && matches!(r.name.base.as_str(), "e" | "pi")
            && r.name.primes == 0
            && r.name.sup.is_empty()
            && !env.scalars.contains_key(&r.name.base)
            && !env.symbols.contains_key(&r.name.base)
            && !env.tensors.contains_key(&r.name.base)
            && !env.computed_scalars.contains(&r.name.base);
        if !constant && first.is_none() {
            first = Some(r);
        }
    });
    let r = first?;
    let key = crate::syntax::printer::print_name(&r.name);
    let what = if matches!(
        key.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    ) {
        "is not a number tq reads (tq has no infinity and no NaN)".to_string()
    } else if env.tensors.contains_key(&key)
        || env.scalars.contains_key(&key)
        || env.symbols.contains_key(&key)
        || env.sizes.contains_key(&key)
        || env.computed_scalars.contains(&key)
    {
        "names a value of the model: a tolerance is a fixed positive number".to_string()
    } else {
        if crate::syntax::printer::print_expr(t) == key {
            "is a name, and nothing of that name is declared: a tolerance is a positive number"
                .to_string()
        } else {
            format!("names `{key}`, which is not declared: a tolerance is a positive number")
        }
    };
    Some(
        Diagnostic::error(
            "E0901",
            r.span,
            format!("the tolerance `{}` {what}", crate::syntax::printer::print_expr(t)),
        )
        .with_label("not a number")
        .with_hint("write the tolerance as a number from 1e-300 to 1e300 (`tol 0.01`, `tol 1e-3`, `tol 1/100`); no engine reads a tolerance that names a value"),
    )
}

/// E0803 (a warning): a `tol` on a claim whose relation is not `~=`. Every engine
/// decides `==`, `<=`, `<`, `>=` and `>` exactly (Monte Carlo at its own resolution),
/// so the tolerance changed nothing and the author who wrote it meant `~=` or nothing.
pub(super) fn tolerance_without_approx(c: &Claim, t: &Expr) -> Option<Diagnostic> {
    let Expr::Rel(op, l, r, _) = &c.body else {
        return None;
    };
    if *op == RelOp::Approx {
        return None;
    }
    let print = crate::syntax::printer::print_expr;
    let tol = print(t);
    Some(
        Diagnostic::warning(
            "E0803",
            t.span(),
            format!(
                "`tol {tol}` on a claim with `{}`: a tolerance applies only to `~=`; this claim is decided exactly and the tolerance is ignored",
                op.symbol()
            ),
        )
        .with_label("ignored")
        .with_hint(format!(
            "to allow a difference of {tol}, write `claim {} ~= {} tol {tol}`; to claim it exactly, remove `tol {tol}`",
            print(l),
            print(r)
        )),
    )
}

/// How many names E0501's hint lists.
pub(super) const MAX_LISTED: usize = 12;

impl Checker {
    /// The tensors and scalars this file declares or computes, in order, for a claim
    /// that names none of them: "this file has `x`, `W`, `h`, `y`".
    pub(super) fn names_defined(&self) -> String {
        let names: Vec<&String> = self
            .env
            .decl_order
            .iter()
            .chain(&self.env.scalar_order)
            .filter(|n| !n.contains('.'))
            .collect();
        if names.is_empty() {
            return "this file defines no tensor or scalar yet".to_string();
        }
        let mut shown: Vec<String> = names
            .iter()
            .take(MAX_LISTED)
            .map(|n| format!("`{n}`"))
            .collect();
        if names.len() > MAX_LISTED {
            shown.push(format!("and {} more", names.len() - MAX_LISTED));
        }
        format!("this file has {}", shown.join(", "))
    }
}

/// `claim Var y == I s^2`: a claim operator (`E`, `Var`, `Cov`, `mults`) written without
/// its parentheses reads as a product of an undeclared name and what follows; the hint
/// writes the operator applied (`Var(y)`).
pub(super) fn operator_without_parentheses(key: &str, r: &Ref, body: &Expr) -> Option<String> {
    if !matches!(key, "E" | "Var" | "Cov" | "mults") || r.indices.is_some() || r.grad {
        return None;
    }
    // The factor the operator stands beside in the product (`Var y`: `y`).
    let mut next = None;
    crate::syntax::visit::walk_expr(body, |e| {
        if let Expr::Binary(BinOp::Mul | BinOp::Jux, a, b, _) = e {
            if matches!(&**a, Expr::Ref(x) if x.name.span == r.name.span) && next.is_none() {
                next = Some(crate::syntax::printer::print_expr(b));
            }
        }
        next.is_none()
    });
    let arg = next.unwrap_or_else(|| "y".to_string());
    Some(format!(
        "`{key}` is applied with parentheses: `{key}({arg})`"
    ))
}
