//! E0410 for a range that reads a value of the model: a loop's or a family
//! declaration's range whose end reads a tensor, a tensor element or a scalar
//! (`for l in 0..x[0]:` with `x` random, `for l in 0..a:` with `scalar a`). How many
//! members such a loop has is not a fixed number: the engines ran one fixed range (the
//! value read as 0) and confirmed claims about members that exist only in some draws
//! (probe36 h28). A range is written with numbers, sizes and the variables of the loops
//! around it.

use super::Env;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_expr, print_ref};

pub(super) fn check(items: &[Item], env: &Env, diags: &mut Vec<Diagnostic>) {
    for item in items {
        match &item.kind {
            ItemKind::Loop(l) => {
                range(&l.range, "the loop", env, diags);
                check(&l.body, env, diags);
            }
            ItemKind::ForIndices(f) => check(&f.body, env, diags),
            ItemKind::Decl(d) => {
                if let Some(r) = &d.family {
                    range(r, "the family declaration", env, diags);
                }
            }
            _ => {}
        }
    }
}

/// The first read of a value of the model in `e`: a reference with indices, or a name
/// the file declares or computes as a tensor or a scalar.
fn value_read<'a>(e: &'a Expr, env: &Env) -> Option<&'a Ref> {
    let mut found = None;
    crate::syntax::visit::walk_refs(e, &mut |r| {
        if found.is_some() {
            return;
        }
        let key = super::family_key(&r.name);
        let plain = crate::syntax::printer::print_name(&r.name);
        let value = r.indices.is_some()
            || r.grad
            || env.tensors.contains_key(&key)
            || env.tensors.contains_key(&plain)
            || (env.scalars.contains_key(&plain) && !env.sizes.contains_key(&plain));
        if value && !env.sizes.contains_key(&plain) && !env.symbols.contains_key(&plain) {
            found = Some(r);
        }
    });
    found
}

fn range(r: &Range, whose: &str, env: &Env, diags: &mut Vec<Diagnostic>) {
    for end in [&r.from, &r.to] {
        let Some(x) = value_read(end, env) else {
            continue;
        };
        let shown = print_ref(x);
        diags.push(
            Diagnostic::error(
                "E0410",
                x.span,
                format!(
                    "the range of {whose} reads `{shown}`, a value of the model: its number of members is not fixed"
                ),
            )
            .with_label("a value, not a size")
            .with_related(r.span, format!("the range `{}`", print_expr(end)))
            .with_hint(format!(
                "write the ends of a range with numbers and sizes (`{}..L-1` with `size L`): the number of members cannot depend on a value the model draws or computes",
                print_expr(&r.from).replace(' ', "")
            )),
        );
        return;
    }
}
