//! Where a recurrence's closed form is defined: the condition of a geometric sum's
//! denominator and the closed form where it is zero (`tq derive`'s `[closed form, where
//! mu != 1 (at mu = 1: l*m)]`; moved out of `derive/mod.rs` in session 41).

use crate::report::FileReport;
use crate::sym;

/// Where a recurrence's closed form `value` is defined, when a geometric sum in it
/// divides by zero at a point of its symbol's domain (`m (mu^l - 1)/(mu - 1)` at mu = 1,
/// session 32: printed as exact with no condition), with the closed form there, from the
/// recurrence with the value put into the model (`l m`): `, where mu != 1 (at mu = 1: l
/// m)`. `closed` picks the same closed form of the recurrence there; empty when the value
/// has no such point.
pub(super) fn where_defined(
    r: &FileReport,
    rec: &crate::moments::Recurrence,
    value: &sym::Expr,
    closed: impl Fn(&crate::moments::Recurrence) -> Option<&sym::Expr>,
) -> String {
    let Some((name, roots)) = crate::claims::ratio_roots(&[value], &r.env) else {
        return where_defined_several(r, rec, value, &closed);
    };
    let mut parts = Vec::new();
    let mut at = Vec::new();
    for c in &roots {
        let shown = sym::to_ascii(&sym::Expr::num(c.clone()));
        parts.push(format!("{name} != {shown}"));
        let there = form_at(r, rec, &closed, (name.clone(), sym::Expr::num(c.clone())));
        at.push(match there {
            Some(e) => format!("at {name} = {shown}: {}", sym::to_ascii(&e)),
            None => format!("at {name} = {shown}: not derived"),
        });
    }
    format!(", where {} ({})", parts.join(", "), at.join("; "))
}

/// [`where_defined`] for a geometric sum whose ratio reads several names (probe41 q08:
/// `sb ((d v/2)^k - 1)/(d v/2 - 1)` of a ReLU net with biases was printed as exact with
/// no condition, and it is 0/0 at v = 2/d, He initialisation, where the variance is
/// `alpha + k sb`): each denominator `c` of the value that is zero somewhere is printed as
/// `c != 0`, with the closed form where it is zero, from the recurrence with the first
/// declared symbol it is linear in solved for and put into the model (`at v = 2/d: ...`).
fn where_defined_several(
    r: &FileReport,
    rec: &crate::moments::Recurrence,
    value: &sym::Expr,
    closed: &impl Fn(&crate::moments::Recurrence) -> Option<&sym::Expr>,
) -> String {
    let mut conds = std::collections::BTreeSet::new();
    sym::defined::conditions_of(value, &mut conds);
    let mut parts = Vec::new();
    for c in conds {
        let sym::Condition::NonZero(d) = c else {
            continue;
        };
        let names = d.free_symbols();
        if names.len() < 2
            || !stepped(value, &names)
            || !names
                .iter()
                .all(|x| r.env.symbols.contains_key(x) || r.env.sizes.contains_key(x))
        {
            continue;
        }
        // The first declared symbol the denominator is linear in: d = a s + b.
        let solved = names
            .iter()
            .filter(|x| r.env.symbols.contains_key(*x))
            .find_map(|x| {
                let a = sym::simplify(&d.diff(x));
                if a.is_zero() || a.free_symbols().contains(x) {
                    return None;
                }
                let b = sym::simplify(&sym::Expr::add(vec![
                    d.clone(),
                    sym::Expr::mul(vec![sym::Expr::int(-1), a.clone(), sym::Expr::sym(x)]),
                ]));
                if b.free_symbols().contains(x) {
                    return None;
                }
                let root = sym::simplify(&sym::Expr::mul(vec![
                    sym::Expr::int(-1),
                    b,
                    sym::Expr::pow(a, sym::Expr::int(-1)),
                ]));
                Some((x.clone(), root))
            });
        let condition = format!("{} != 0", sym::to_ascii(&d));
        let Some((name, root)) = solved else {
            parts.push(condition);
            continue;
        };
        let shown = sym::to_ascii(&root);
        let there = form_at(r, rec, closed, (name.clone(), root));
        parts.push(match there {
            Some(e) => format!("{condition} (at {name} = {shown}: {})", sym::to_ascii(&e)),
            None => format!("{condition} (at {name} = {shown}: not derived)"),
        });
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(", where {}", parts.join(", "))
}

/// Whether `e` raises something that reads one of `names` to a power that is not a
/// number (a geometric sum's `q^k`): only such a sum's denominator is a condition of tq's
/// own closed form, not a division the model writes.
fn stepped(e: &sym::Expr, names: &std::collections::BTreeSet<String>) -> bool {
    match e {
        sym::Expr::Pow(b, x) => {
            (x.as_num().is_none() && b.free_symbols().iter().any(|s| names.contains(s)))
                || stepped(b, names)
                || stepped(x, names)
        }
        sym::Expr::Add(v) | sym::Expr::Mul(v) => v.iter().any(|x| stepped(x, names)),
        sym::Expr::Func(_, x) => stepped(x, names),
        sym::Expr::Num(_) | sym::Expr::Sym(_) => false,
    }
}

/// The closed form `closed` picks of the recurrence `rec`, from the moments analysed
/// again with `setting` put into the model (a geometric sum's ratio at 1, the linear form
/// there); `None` when it is not derived there or a condition of that analysis fails.
fn form_at(
    r: &FileReport,
    rec: &crate::moments::Recurrence,
    closed: &impl Fn(&crate::moments::Recurrence) -> Option<&sym::Expr>,
    setting: (String, sym::Expr),
) -> Option<sym::Expr> {
    let (set, conditions) = sym::collecting(|| {
        crate::moments::analyze_with(
            &r.program,
            &r.env,
            &r.analysis().backward().items,
            vec![setting],
        )
    });
    let defined = conditions
        .iter()
        .all(|k| k.expr().as_num().is_none_or(|v| k.holds_at(v)));
    let n = sym::Expr::sym(&rec.var);
    set.recurrences
        .iter()
        .find(|o| o.tensor == rec.tensor && o.grad == rec.grad && o.var == rec.var)
        .and_then(closed)
        .map(|e| sym::simplify(&e.subs("#n", &n)))
        .filter(|e| defined && !e.free_symbols().iter().any(|s| s.contains('#')))
}
