//! Slips in a statement that read as something else: a reduction tq does not have
//! (`mean_{i}(x[b,i])`, E0101), and the hint of a capital on the left-hand side (E0204),
//! with the index bracket that writes a block of a tensor (a concatenation).

use super::super::{lower, Checker, TermIndices};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::print_expr;
use std::collections::BTreeSet;

impl Checker {
    /// E0101 for `mean_{i}(...)` (also `avg_`, `average_`) in a right side when no
    /// tensor of that name is declared: tq writes a mean as a sum over the index
    /// divided by its size.
    pub(super) fn reduction_slip(&self, rhs: &Expr) -> Option<Diagnostic> {
        let mut found = None;
        crate::syntax::visit::walk_expr(rhs, |e| {
            // Read as a call since session 39 (`mean_{i}(...)`, a subscripted name
            // directly followed by `(`); with a space, as a product.
            let slip = match e {
                Expr::Call(c) if !c.brackets && c.args.len() == 1 => {
                    c.func.name.split_once('_').and_then(|(base, rest)| {
                        let i = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}'));
                        let i = i.unwrap_or(rest);
                        let plain = i.starts_with(|c: char| c.is_ascii_alphabetic())
                            && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '\'');
                        plain.then(|| (base, i.to_string(), &c.args[0], c.func.span))
                    })
                }
                Expr::Binary(BinOp::Jux | BinOp::Mul, a, b, _) => match &**a {
                    Expr::Ref(r) if r.indices.is_none() => match r.name.sub.as_slice() {
                        [ix] => ix
                            .plain_var()
                            .map(|v| (r.name.base.as_str(), v.name.clone(), &**b, r.name.span)),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            };
            if let Some((base, i, arg, span)) = slip {
                if found.is_none()
                    && matches!(base, "mean" | "avg" | "average")
                    && !self
                        .env
                        .tensors
                        .keys()
                        .any(|k| k.starts_with(&format!("{base}_")))
                {
                    let arg = crate::syntax::printer::print_expr(arg);
                    let arg = arg
                        .strip_prefix('(')
                        .and_then(|x| x.strip_suffix(')'))
                        .unwrap_or(&arg)
                        .to_string();
                    let size = self.env.index_size(&i).unwrap_or_else(|| i.to_uppercase());
                    found = Some(
                        Diagnostic::error(
                            "E0101",
                            span,
                            format!("`{base}_{{{i}}}` is not a function in .tq"),
                        )
                        .with_label("a reduction tq does not have")
                        .with_hint(format!(
                            "tq has no `{base}`: write the mean as a sum over the index divided by its size, `sum_{{{i}}}({arg}) / {size}`"
                        )),
                    );
                }
            }
            found.is_none()
        });
        found
    }

    /// The hint of E0204: a capital alone on the left is the element's index (`i`); a
    /// capital in a sum of indices (`y[b, I + j]`, a block written at an offset: a
    /// concatenation) is a summed index wherever it stands, so the write is made with an
    /// index bracket, in which the capital is the size (probe38 a01: the hint `i + j`
    /// added `h[b,j]` at every `i + j`).
    pub(super) fn summed_on_left_hint(
        &self,
        eq: &Equation,
        pos: usize,
        ix: &IndexExpr,
        name: &str,
        ti: &TermIndices,
    ) -> String {
        let offset = match ix {
            IndexExpr::Affine(a) => a.terms.len() + usize::from(a.constant != 0) >= 2,
            IndexExpr::Lookup(_) => false,
        };
        if !offset {
            return format!("the left side names one element: write `{}`", lower(name));
        }
        let key = self.key_of(&eq.lhs.name);
        let extent = self
            .env
            .tensors
            .get(&key)
            .and_then(|t| t.dims.get(pos).cloned())
            .filter(|d| self.env.sizes.contains_key(d));
        let used: BTreeSet<String> = eq
            .lhs
            .indices
            .iter()
            .flatten()
            .flat_map(|ix| match ix {
                IndexExpr::Affine(a) => a.terms.iter().flat_map(|t| &t.factors).collect(),
                IndexExpr::Lookup(_) => vec![],
            })
            .map(|f| f.name.clone())
            .collect();
        let k = extent
            .as_deref()
            .map(lower)
            .filter(|k| self.env.index_size(k).as_deref() == extent.as_deref() && !used.contains(k))
            .unwrap_or_else(|| {
                ["k", "m", "n", "p"]
                    .into_iter()
                    .find(|k| !used.contains(*k))
                    .unwrap_or("q")
                    .to_string()
            });
        let mut lhs = eq.lhs.clone();
        if let Some(idx) = lhs.indices.as_mut() {
            idx[pos] = IndexExpr::Affine(Affine {
                terms: vec![AffineTerm {
                    coef: 1,
                    factors: vec![Ident {
                        name: k.clone(),
                        span: ix.span(),
                    }],
                }],
                constant: 0,
                span: ix.span(),
            });
        }
        let position = crate::syntax::printer::print_index(ix);
        let rhs = print_expr(&eq.rhs);
        let rhs = match &eq.rhs {
            Expr::Ref(_) | Expr::Num(..) | Expr::Call(_) => rhs,
            _ => format!("({rhs})"),
        };
        let others: Vec<&String> = ti.free.keys().collect();
        let body = format!("[{k} == {position}] {rhs}");
        let value = if others.is_empty() {
            body
        } else {
            let list: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
            format!("sum_{{{}}}({body})", list.join(","))
        };
        let op = match eq.op {
            AssignOp::Set => "=",
            AssignOp::AddAssign => "+=",
            AssignOp::SubAssign => "-=",
        };
        let size = extent.map_or(String::new(), |e| format!(" over `{e}`"));
        format!(
            "a capital in a position is a summed index, so `{position}` does not offset the write by the size `{name}` (and `{}` would write the value at every position it reaches); a block of a tensor (a concatenation) is written with an index bracket, in which `{name}` is the size: `{} {op} {value}`, `{k}`{size} (docs/language.md, \"Concatenation\")",
            position.replace(name, &lower(name)),
            crate::syntax::printer::print_ref(&lhs)
        )
    }

    /// E0103 for a name with primes only directly followed by a parenthesised argument
    /// (`g'(a)`, no space): a call as on paper, of a function tq does not have. Read as
    /// the name times the argument, its hint was to declare `symbol g'`, which made the
    /// "function" a constant factor (the class of probe38 a10). A built-in function's
    /// name with a prime (`relu'(a)`) keeps its own diagnostic (the derivative).
    pub(super) fn primed_call(
        &self,
        rhs: &Expr,
        scope: &super::super::Scope,
    ) -> Option<Diagnostic> {
        let mut found = None;
        crate::syntax::visit::walk_expr(rhs, |e| {
            if let Expr::Binary(BinOp::Jux, a, b, span) = e {
                if let Expr::Ref(r) = &**a {
                    let n = &r.name;
                    let primed = n.primes > 0
                        && n.sub.is_empty()
                        && n.sup.is_empty()
                        && r.indices.is_none()
                        && !r.grad;
                    // Parenthesised: the product's span ends past its factor's (at the
                    // `)`); directly after the name: one character (the `(`) between.
                    let called = b.span().start == r.span.end + 1 && span.end > b.span().end;
                    let function = crate::sym::func::model_names().contains(&n.base.as_str());
                    if found.is_none() && primed && called && !function {
                        let name = crate::syntax::printer::print_name(n);
                        let declared = self.is_scalar_name(&name, scope)
                            || self.env.tensors.contains_key(&name);
                        let product = if declared {
                            format!("; for a product write `{name} (...)` with a space")
                        } else {
                            String::new()
                        };
                        found = Some(
                            Diagnostic::error(
                                "E0103",
                                r.name.span,
                                format!("unknown function `{name}`"),
                            )
                            .with_hint(format!(
                                "a name directly followed by `(` is a call, and tq has no function `{name}`: a derivative is derived by tq (`tq derive`) or claimed as `d(u)/d(a)`; known functions: {}{product}",
                                crate::sym::func::model_names().join(", ")
                            )),
                        );
                    }
                }
            }
            found.is_none()
        });
        found
    }
}
