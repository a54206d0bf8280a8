//! E0904: a number written with an exponent tq does not read (beyond ±400), wherever a
//! number is read: equations, declarations, claims and their givens, tolerances and
//! points, `at`, `sample` and `vary` lines, derivations. One rule for every place (issue
//! #18; robust33_open/huge_at_decimal.tq: `at a = 1e99999999` was accepted and every
//! claim left undecided with "the point is out of range", while `tol 1e400` was E0901).

use crate::diag::Diagnostic;
use crate::syntax::ast::{Binding, Expr, Init, Item, ItemKind, Range, VaryDomain};

/// The largest exponent the exact reader takes (`sym::parse_number`, `lower::not_read_exactly`).
pub const MAX_EXPONENT: u32 = 400;

/// Whether a numeral's exponent is beyond what tq reads (`1e401`, `2.5E-99999999`).
pub fn out_of_range(text: &str) -> bool {
    let Some(k) = text.find(['e', 'E']) else {
        return false;
    };
    let e = &text[k + 1..];
    let digits = e.trim_start_matches(['+', '-']);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits
            .trim_start_matches('0')
            .parse::<u64>()
            .map_or(!digits.trim_start_matches('0').is_empty(), |x| {
                x > MAX_EXPONENT as u64
            })
}

/// E0904 for every number of the program written with an exponent out of range.
pub fn check(items: &[Item], diags: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    for item in items {
        item_exprs(item, &mut |e| numbers(e, &mut found));
    }
    for (text, span) in found {
        let negative = text
            .find(['e', 'E'])
            .is_some_and(|k| text[k + 1..].starts_with('-'));
        let size = if negative {
            "so small that double precision reads it as 0"
        } else {
            "so large that double precision reads it as infinite"
        };
        diags.push(
            Diagnostic::error(
                "E0904",
                span,
                format!("the number `{text}` has an exponent beyond ±{MAX_EXPONENT}: tq reads numbers with exponents from -{MAX_EXPONENT} to {MAX_EXPONENT}, and this one is {size}"),
            )
            .with_label("exponent out of range")
            .with_hint(format!(
                "write the number with an exponent from -{MAX_EXPONENT} to {MAX_EXPONENT} (`1e{MAX_EXPONENT}`, `1e-{MAX_EXPONENT}`); a value meant to be 0 or very large is better a symbol with its value on the `sample` line"
            )),
        );
    }
}

fn numbers(e: &Expr, out: &mut Vec<(String, crate::syntax::span::Span)>) {
    crate::syntax::visit::walk_expr(e, |x| {
        if let Expr::Num(t, s) = x {
            if out_of_range(t) {
                out.push((t.clone(), *s));
            }
        }
        true
    });
}

/// Calls `f` on every expression an item holds (its blocks' items included).
pub(super) fn item_exprs(item: &Item, f: &mut dyn FnMut(&Expr)) {
    let range = |r: &Range, f: &mut dyn FnMut(&Expr)| {
        f(&r.from);
        f(&r.to);
    };
    let bindings = |bs: &[Binding], f: &mut dyn FnMut(&Expr)| bs.iter().for_each(|b| f(&b.value));
    match &item.kind {
        ItemKind::SizeValue { value, .. } => f(value),
        ItemKind::SizeMembers { range: r, .. } => range(r, f),
        ItemKind::Decl(d) => {
            match &d.init {
                Some(Init::Dist(c)) => c.args.iter().for_each(&mut *f),
                Some(Init::Value(e)) => f(e),
                None => {}
            }
            if let Some(r) = &d.family {
                range(r, f);
            }
        }
        ItemKind::Equation(eq) => f(&eq.rhs),
        ItemKind::Loop(l) => {
            range(&l.range, f);
            l.body.iter().for_each(|i| item_exprs(i, f));
        }
        ItemKind::ForIndices(fi) => fi.body.iter().for_each(|i| item_exprs(i, f)),
        ItemKind::Rule(r) => r.body.iter().for_each(|i| item_exprs(i, f)),
        ItemKind::At(bs) | ItemKind::Sample(bs) => bindings(bs, f),
        ItemKind::Claim(c) => {
            f(&c.body);
            if let Some(t) = &c.tol {
                f(t);
            }
            c.given.iter().for_each(&mut *f);
            bindings(&c.at, f);
            if let Some(block) = &c.includes {
                block.iter().for_each(|i| item_exprs(i, f));
            }
        }
        ItemKind::Derivation(d) => {
            d.given.iter().for_each(&mut *f);
            f(&d.start);
            d.steps.iter().for_each(|s| f(&s.expr));
        }
        ItemKind::Vary(ps) => {
            for p in ps {
                match &p.domain {
                    VaryDomain::Range(a, b) => {
                        f(a);
                        f(b);
                    }
                    VaryDomain::Set(xs) => xs.iter().for_each(&mut *f),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exponents_past_400_are_out_of_range() {
        for t in [
            "1e401",
            "1e99999999",
            "2.5E-401",
            "1e+500",
            "1e99999999999999999999999",
        ] {
            assert!(super::out_of_range(t), "{t}");
        }
        for t in ["1e400", "1e-400", "1e0400", "2.5", "12", "1e-0", "3E+7"] {
            assert!(!super::out_of_range(t), "{t}");
        }
    }
}
