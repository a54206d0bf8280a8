//! Every index a claim ranges over has a size (E0201), as in equations: the indices of
//! the tensor elements it reads (`W.grad[i,j]`), the indices of its explicit sums
//! (`sum_{k}(...)`), and those of its givens and `at` values. Without this check such a
//! claim reached the sampled run and was left `undecided` ("the range of `j` is not
//! known", "index `k` has no size"), far from the line that needs the fix.

use super::{lower, Checker, Kind, Scope};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::visit::{walk_expr, walk_refs};
use std::collections::BTreeMap;

impl Checker {
    /// E0201 for each index of the claim `c` that has no size, once per missing size.
    pub(super) fn claim_index_sizes(&mut self, c: &Claim, scope: &Scope) {
        let mut exprs: Vec<&Expr> = vec![&c.body];
        exprs.extend(c.given.iter());
        exprs.extend(c.at.iter().map(|b| &b.value));
        // The extent of the dimension each plain index reads (`W[k,i]`: `k` reads
        // `W`'s first dimension), for the hint.
        let mut extents: BTreeMap<String, String> = BTreeMap::new();
        for e in &exprs {
            walk_refs(e, &mut |r| {
                let key = self.key_of(&r.name);
                let Some(t) = self.env.tensors.get(&key) else {
                    return;
                };
                for (pos, ix) in r.indices.iter().flatten().enumerate() {
                    let IndexExpr::Affine(a) = ix else { continue };
                    let (Some(f), Some(d)) = (a.plain_var(), t.dims.get(pos)) else {
                        continue;
                    };
                    if self.env.sizes.contains_key(d.as_str()) {
                        extents.entry(lower(&f.name)).or_insert_with(|| d.clone());
                    }
                }
            });
        }
        let mut uses: Vec<(Ident, &'static str)> = Vec::new();
        for e in &exprs {
            walk_expr(e, |x| {
                if let Expr::Sum(ids, _, _) = x {
                    uses.extend(ids.iter().map(|id| (id.clone(), "summed index")));
                }
                true
            });
            walk_refs(e, &mut |r| {
                if r.name.base.contains('.') {
                    return; // a rule's state (`A.v[t]`): indexed by the rule's step
                }
                for ix in r.indices.iter().flatten() {
                    let IndexExpr::Affine(a) = ix else { continue };
                    for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                        uses.push((f.clone(), "index"));
                    }
                }
            });
        }
        uses.sort_by_key(|(id, _)| id.span.start);
        for (id, what) in uses {
            let name = id.name.as_str();
            if scope.is_loop_var(name)
                || self.loop_vars.contains(name)
                || self.env.symbols.contains_key(name)
                || self.index_size(&lower(name)).is_some()
                || (self.env.sizes.contains_key(name) && !self.summed_index_ok(name))
            {
                continue;
            }
            let low = lower(name);
            let cause = name.trim_end_matches('\'').to_uppercase();
            let base = low.trim_end_matches('\'');
            let mean = self.did_you_mean(
                name,
                &[if is_summed_index(name) {
                    Kind::Summed
                } else {
                    Kind::Index
                }],
            );
            let hint = match extents.get(&low) {
                Some(size) => {
                    let primed = self.primed_index_of(size);
                    format!(
                        "{mean}declare `index {base} : {size}` (it indexes a dimension of extent `{size}`, so a `size {cause}` of its own would not fit it), or use a primed index of that dimension (`{primed}`)"
                    )
                }
                None => {
                    // A second index over a size of the file, as the example.
                    let (size, primed) = match self.env.sizes.keys().next() {
                        Some(size) => (size.clone(), self.primed_index_of(size)),
                        None => ("I".to_string(), "i'".to_string()),
                    };
                    format!(
                        "{mean}declare `size {cause}` or `index {base} : N`, or use a primed index of a declared one (`{primed}` for a second index over `{size}`)"
                    )
                }
            };
            let message = if is_summed_index(name) {
                format!("the claim's summed index `{name}` has no size (no index `{low}`)")
            } else {
                format!("the claim's {what} `{name}` has no size")
            };
            self.missing(
                &cause,
                Diagnostic::error("E0201", id.span, message).with_hint(hint),
            );
        }
    }

    /// An index over `size` with a prime added (`i'` over `I`): a second index over the
    /// same dimension, which needs no declaration of its own.
    fn primed_index_of(&self, size: &str) -> String {
        let own = lower(size);
        if self.env.index_size(&own).as_deref() == Some(size) {
            return format!("{own}'");
        }
        self.env
            .indices
            .iter()
            .find(|(_, info)| info.size == size)
            .map_or(format!("{own}'"), |(n, _)| format!("{n}'"))
    }
}
