//! A claim that sets a derived size while the sizes it is computed from stay free
//! (`given Y = 1` with `size Y = X - DX + 1`): E0512 at the claim's setting, saying how
//! the size is computed and what to give instead (probe35/p a17).

use super::*;

/// The claim's own setting of `name` (a `given name = value` or an `at name = value`):
/// its span and, where it is a whole number, its value.
pub(super) fn own_setting(
    given: &[Expr],
    at: &[Binding],
    name: &str,
) -> Option<(Span, Option<i64>)> {
    for g in given {
        if let Expr::Rel(RelOp::Eq, l, r, sp) = g {
            if let Expr::Ref(rf) = &**l {
                if rf.indices.is_none()
                    && rf.name.sub.is_empty()
                    && rf.name.primes == 0
                    && rf.name.base == name
                {
                    let w = match eval_const(r) {
                        Some(Exact::Int(w)) => Some(w),
                        _ => None,
                    };
                    return Some((*sp, w));
                }
            }
        }
    }
    at.iter().find(|b| b.name.name == name).map(|b| {
        let w = match eval_const(&b.value) {
            Some(Exact::Int(w)) => Some(w),
            _ => None,
        };
        (b.value.span(), w)
    })
}

/// Whether a derived size's givens state it as an equation (`Y == X - DX + 1`): a size
/// written without `floor`/`ceil`. (With them the givens are inequalities, and a claim's
/// `given Y = 2` is a condition on the sizes it reads.)
pub(super) fn states_equal(givens: &[Expr], name: &str) -> bool {
    givens.iter().any(|g| {
        matches!(g, Expr::Rel(RelOp::Eq, l, _, _)
            if matches!(&**l, Expr::Ref(r) if r.name.base == name && r.indices.is_none()))
    })
}

impl Expander {
    /// E0512 at a claim's setting of the derived size `name` (to `w`), the sizes its
    /// value reads not all set by the claim. The hint gives a setting of those sizes at
    /// which `name` is `w`: one size (`X = 7`), or one size as another plus a constant
    /// (`X = D`, `X = D + 5`, `X = 2 D`), found by trying values.
    pub(super) fn derived_set_alone(
        &self,
        name: &Ident,
        value: &Expr,
        w: Option<i64>,
        at: Span,
        vals: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
    ) -> Diagnostic {
        let mut reads: Vec<String> = Vec::new();
        crate::syntax::visit::walk_refs(value, &mut |r| {
            if r.name.sub.is_empty() {
                let n = capitals.get(&r.name.base).unwrap_or(&r.name.base).clone();
                if !reads.contains(&n) && n != name.name {
                    reads.push(n);
                }
            }
        });
        let relation = crate::syntax::printer::print_expr(value);
        // The fixed sizes kept as sizes (`size D = 2` with `index dx : D`) at their values.
        let mut vals = vals.clone();
        for (d, dv, _) in &self.derived {
            if let Some(Exact::Int(v)) = eval_const(dv) {
                vals.entry(d.name.clone()).or_insert(v);
                for (cap, size) in capitals {
                    if *size == d.name {
                        vals.entry(cap.clone()).or_insert(v);
                    }
                }
            }
        }
        let vals = &vals;
        let free: Vec<String> = reads
            .iter()
            .filter(|n| !vals.contains_key(*n) && !self.consts.contains_key(*n))
            .cloned()
            .collect();
        let fix = w.and_then(|w| self.fix_for(value, w, &free, vals, capitals));
        let from = if reads.is_empty() {
            "the sizes it reads".to_string()
        } else {
            join_and(&reads)
        };
        let shown = w.map_or_else(|| "a value".to_string(), |w| w.to_string());
        let mut d = Diagnostic::error(
            "E0512",
            at,
            format!(
                "`{0}` is computed from {from} by its `size` line (`{0} = {relation}`), so a claim does not set it: this one sets it to {shown}{1}",
                name.name,
                if free.is_empty() {
                    String::new()
                } else {
                    format!(" without giving {}", join_and(&free))
                }
            ),
        )
        .with_label("a derived size set by the claim")
        .with_related(value.span(), format!("`{}` is computed here", name.name));
        d = match fix {
            Some(f) => d.with_hint(format!(
                "give the sizes it is computed from instead: `{f}` makes `{}` {shown}",
                name.name
            )),
            None => d.with_hint(format!(
                "give the sizes it is computed from instead ({from}), at values where `{0} = {relation}` is {shown}",
                name.name
            )),
        };
        d
    }

    /// A setting of the free sizes at which `value` is `w`: `X = 7` for one free size;
    /// for two (`X`, `D`), `X` as `a D + c`, read off the values of X that give `w` at
    /// D = 1, 2, 3 and kept when they lie on one line.
    fn fix_for(
        &self,
        value: &Expr,
        w: i64,
        free: &[String],
        vals: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
    ) -> Option<String> {
        let with = |sets: &[(&String, i64)]| {
            let mut at = vals.clone();
            for (n, v) in sets {
                at.insert((*n).clone(), *v);
                for (cap, size) in capitals {
                    if size == *n {
                        at.insert(cap.clone(), *v);
                    }
                }
            }
            eval_with(value, &at)
        };
        let solve = |others: &[(&String, i64)], n: &String| {
            (1..=1_000i64).find(|x| {
                let mut sets = others.to_vec();
                sets.push((n, *x));
                matches!(with(&sets), Some(Exact::Int(y)) if y == w)
            })
        };
        match free {
            [n] => solve(&[], n).map(|x| format!("{n} = {x}")),
            [n, m] => {
                let xs: Vec<i64> = (1..=3)
                    .map(|k| solve(&[(m, k)], n))
                    .collect::<Option<Vec<_>>>()?;
                let a = xs[1] - xs[0];
                if xs[2] - xs[1] != a || a < 0 {
                    return None;
                }
                let c = xs[0] - a;
                let lead = match a {
                    0 => return Some(format!("{n} = {}", xs[0])),
                    1 => m.clone(),
                    _ => format!("{a} {m}"),
                };
                Some(match c {
                    0 => format!("{n} = {lead}"),
                    c if c > 0 => format!("{n} = {lead} + {c}"),
                    c => format!("{n} = {lead} - {}", -c),
                })
            }
            _ => None,
        }
    }
}

/// `X`, `X and D`, `X, D and B`.
fn join_and(names: &[String]) -> String {
    match names {
        [] => "nothing".to_string(),
        [a] => format!("`{a}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let (last, rest) = quoted.split_last().unwrap();
            format!("{} and {last}", rest.join(", "))
        }
    }
}
