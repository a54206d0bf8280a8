//! The sizes that only count copies (split from `points.rs`, session 39): a claim's
//! moments are the same at every value of them, so the least sizes keep their sample values.

use super::*;

/// The sizes whose value changes the distribution of no element the claim reads: every
/// index over them, in the model's statements, its declarations and the claim, is a plain
/// lower-case position (`x[b,i]`), never a capital, a sum's or a softmax's index, a
/// shifted, strided or looked-up position or a value, and the size itself is read nowhere
/// as a value. Elements at different positions along such a size are copies with one
/// distribution (independent, or sharing the same weights), so a moment of one element
/// is the same at every value of it. None when the claim reads a gradient (a weight's
/// gradient sums over the batch).
pub(super) fn copy_sizes(
    claim: &Claim,
    program: &ast::Program,
    env: &Env,
) -> std::collections::BTreeSet<String> {
    use std::cell::RefCell;
    let out: RefCell<std::collections::BTreeSet<String>> =
        RefCell::new(env.sizes.keys().cloned().collect());
    let size_of = |name: &str| -> Option<String> {
        if env.sizes.contains_key(name) {
            return Some(name.to_string());
        }
        let base = name.trim_end_matches('\'').to_lowercase();
        env.indices.get(&base).map(|i| i.size.clone()).or_else(|| {
            // An undeclared lower-case index names its size in capitals (`b`: `B`).
            let up = base.to_uppercase();
            env.sizes.contains_key(&up).then_some(up)
        })
    };
    let drop = |name: &str| {
        if let Some(s) = size_of(name) {
            out.borrow_mut().remove(&s);
        }
    };
    let mut grad = false;
    let mut check_ref = |r: &ast::Ref| {
        grad |= r.grad;
        let dims = env
            .tensors
            .get(&env.key_of(&r.name))
            .map(|t| t.dims.clone());
        if r.indices.is_none() {
            if !env.tensors.contains_key(&env.key_of(&r.name)) {
                drop(&crate::syntax::printer::print_name(&r.name));
            }
            return;
        }
        for (k, ix) in r
            .indices
            .iter()
            .flatten()
            .chain(r.name.sub.iter())
            .enumerate()
        {
            match ix {
                ast::IndexExpr::Affine(a) => {
                    let plain = a
                        .plain_var()
                        .is_some_and(|v| !ast::is_summed_index(&v.name));
                    if !plain {
                        for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                            drop(&f.name);
                        }
                    }
                }
                ast::IndexExpr::Lookup(_) => {
                    if let Some(d) = dims.as_ref().and_then(|d| d.get(k)) {
                        out.borrow_mut().remove(d);
                    }
                }
            }
        }
    };
    let mut exprs: Vec<&ast::Expr> = vec![&claim.body];
    exprs.extend(claim.given.iter());
    // The seeds' loop form: its equations read as the others, and a loop index that is
    // not a position of what the body writes is summed (`for b,x,d: y[b,x] += ...`: d).
    let mut looped: Vec<&ast::Equation> = Vec::new();
    loop_equations(
        &program.items,
        &mut Vec::new(),
        &mut looped,
        &mut |summed| drop(summed),
    );
    for eq in looped {
        check_ref(&eq.lhs);
        exprs.push(&eq.rhs);
    }
    for item in crate::syntax::model_items::model_items(program) {
        match &item.kind {
            ast::ItemKind::Equation(eq) => {
                check_ref(&eq.lhs);
                exprs.push(&eq.rhs);
            }
            ast::ItemKind::Decl(d) => match &d.init {
                Some(ast::Init::Dist(c)) => exprs.extend(c.args.iter()),
                Some(ast::Init::Value(v)) => exprs.push(v),
                None => {}
            },
            _ => {}
        }
    }
    for e in &exprs {
        crate::syntax::visit::walk_refs(e, &mut check_ref);
        crate::syntax::visit::walk_expr(e, |x| {
            match x {
                ast::Expr::Sum(ids, ..) => ids.iter().for_each(|i| drop(&i.name)),
                ast::Expr::Softmax(i, ..) => drop(&i.name),
                _ => {}
            }
            true
        });
    }
    if grad {
        return std::collections::BTreeSet::new();
    }
    out.into_inner()
}

/// The equations inside the seeds' loop form (`for b,x,d: ...`), each loop index that is not
/// a plain position of the tensor an equation writes passed to `summed`.
fn loop_equations<'p>(
    items: &'p [ast::Item],
    indices: &mut Vec<&'p ast::Ident>,
    out: &mut Vec<&'p ast::Equation>,
    summed: &mut dyn FnMut(&str),
) {
    for item in items {
        match &item.kind {
            ast::ItemKind::ForIndices(f) => {
                let n = indices.len();
                indices.extend(f.indices.iter());
                loop_equations(&f.body, indices, out, summed);
                indices.truncate(n);
            }
            ast::ItemKind::Equation(eq) if !indices.is_empty() => {
                for i in indices.iter() {
                    let written = eq
                        .lhs
                        .indices
                        .iter()
                        .flatten()
                        .any(|ix| ix.plain_var().is_some_and(|v| v.name == i.name));
                    if !written {
                        summed(&i.name);
                    }
                }
                out.push(eq);
            }
            _ => {}
        }
    }
}
