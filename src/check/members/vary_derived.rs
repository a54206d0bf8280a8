//! E0604 (a warning): a `vary` value of a size at which a derived size is no size
//! (`size H = X/2` with `vary X in {6, 7}`: H = 7/2). `tq variants` and `tq export`
//! leave such a variant out with E0412's words; `tq check` said nothing, so the author
//! learnt of it only from a handout with fewer variants (probe35/p a06).

use super::*;

/// The most values of a `vary` range tried one by one; a longer range has its two ends
/// tried.
const MAX_TRIED: i64 = 10_000;

impl Expander {
    /// Each value of each varied size that a derived size reads, tried with the other
    /// sizes at their `sample` values: E0604 at the first value (of a set) or the range
    /// at which a derived size is not a whole number from 1 to 1,000,000, naming the
    /// values and the size. Nothing when the sample values themselves give no size
    /// (E0412 there) or a derived size cannot be computed from the sample line.
    pub(super) fn varied_values_derived(
        &mut self,
        items: &[Item],
        capitals: &BTreeMap<String, String>,
    ) {
        let mut sampled = BTreeMap::new();
        for item in items {
            if let ItemKind::Sample(bs) = &item.kind {
                for b in bs {
                    if let Some(Exact::Int(v)) = eval_const(&b.value) {
                        sampled.insert(b.name.name.clone(), v);
                    }
                }
            }
        }
        if !matches!(self.no_size(&sampled, capitals), Some(None)) {
            return;
        }
        let mut diags = Vec::new();
        for item in items {
            let ItemKind::Vary(ps) = &item.kind else {
                continue;
            };
            for p in ps {
                let n = &p.name.name;
                if self.consts.contains_key(n) || self.derived.iter().any(|(d, ..)| d.name == *n) {
                    continue;
                }
                let read = self.derived.iter().any(|(_, v, _)| {
                    let mut found = false;
                    crate::syntax::visit::walk_refs(v, &mut |r| {
                        let m = capitals.get(&r.name.base).unwrap_or(&r.name.base);
                        found |= r.name.sub.is_empty() && m == n;
                    });
                    found
                });
                if !read {
                    continue;
                }
                let (values, range): (Vec<(i64, Span)>, bool) = match &p.domain {
                    VaryDomain::Set(es) => (
                        es.iter()
                            .filter_map(|e| match eval_const(e) {
                                Some(Exact::Int(v)) => Some((v, e.span())),
                                _ => None,
                            })
                            .collect(),
                        false,
                    ),
                    VaryDomain::Range(a, b) => match (eval_const(a), eval_const(b)) {
                        (Some(Exact::Int(a)), Some(Exact::Int(b))) if a <= b => {
                            let vs: Vec<i64> = if b - a < MAX_TRIED {
                                (a..=b).collect()
                            } else {
                                vec![a, b]
                            };
                            (vs.into_iter().map(|v| (v, p.span)).collect(), true)
                        }
                        _ => continue,
                    },
                };
                let mut bad: Vec<(i64, Span, String)> = Vec::new();
                let mut good: Vec<i64> = Vec::new();
                for (v, sp) in &values {
                    let mut vals = sampled.clone();
                    vals.insert(n.clone(), *v);
                    match self.no_size(&vals, capitals) {
                        Some(Some(why)) => bad.push((*v, *sp, why)),
                        Some(None) => good.push(*v),
                        None => {}
                    }
                }
                let Some((_, first_span, why)) = bad.first().cloned() else {
                    continue;
                };
                let shown: Vec<String> = bad.iter().take(5).map(|(v, ..)| v.to_string()).collect();
                let more = if bad.len() > 5 {
                    format!(" and {} more", bad.len() - 5)
                } else {
                    String::new()
                };
                let span = if range { p.span } else { first_span };
                let hint = if good.is_empty() {
                    format!("no value of the `vary` line gives a model: choose values of `{n}` at which every derived size is a whole number of at least 1")
                } else if range && good.windows(2).all(|w| w[1] == w[0] + 1) {
                    format!(
                        "vary `{n}` over the values that give a model: `{n} in {}..{}`",
                        good[0],
                        good[good.len() - 1]
                    )
                } else {
                    let list: Vec<String> = good.iter().take(8).map(i64::to_string).collect();
                    format!(
                        "list only values that give a model (`{n} in {{{}}}`); `tq variants` and `tq export` leave the others out",
                        list.join(", ")
                    )
                };
                diags.push(
                    Diagnostic::warning(
                        "E0604",
                        span,
                        format!(
                            "at `{n}` = {}{more} (the other sizes at their `sample` values) {why}: that variant describes no model",
                            shown.join(", ")
                        ),
                    )
                    .with_label("a value that gives no model")
                    .with_hint(hint),
                );
            }
        }
        self.diags.extend(diags);
    }

    /// The derived sizes computed in order at `vals`: `Some(None)` when every one is a
    /// whole number from 1 to 1,000,000, `Some(Some(why))` naming the first that is not
    /// (`` the size `H` = X/2 would be 7/2 ``), `None` when one cannot be computed (a
    /// size it reads has no value).
    fn no_size(
        &self,
        vals: &BTreeMap<String, i64>,
        capitals: &BTreeMap<String, String>,
    ) -> Option<Option<String>> {
        let mut vals = vals.clone();
        for (cap, size) in capitals {
            if let Some(v) = vals.get(size).copied() {
                vals.entry(cap.clone()).or_insert(v);
            }
        }
        for (name, value, _) in &self.derived {
            let shown = match eval_with(value, &vals)? {
                Exact::Int(v) if (1..=1_000_000).contains(&v) => {
                    vals.insert(name.name.clone(), v);
                    for (cap, size) in capitals {
                        if *size == name.name {
                            vals.entry(cap.clone()).or_insert(v);
                        }
                    }
                    continue;
                }
                Exact::Int(v) => v.to_string(),
                Exact::Frac(a, b) => format!("{a}/{b}"),
            };
            return Some(Some(format!(
                "the size `{}` = {} would be {shown}, not a whole number from 1 to 1,000,000",
                name.name,
                crate::syntax::printer::print_expr(value)
            )));
        }
        Some(None)
    }
}
