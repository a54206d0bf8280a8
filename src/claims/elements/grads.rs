//! Gradients written out symbolically: `w.grad[i]` from the derived backward program in
//! gather form (docs/language.md, "Claims about tensor elements, written out
//! symbolically"). A gradient is written out when every statement of the gather form
//! that writes it is at the top level (no loop), writes a plain position with distinct
//! indices, and is not a family member; its value is those statements' right sides in
//! order (`=` sets, `+=` adds, `-=` subtracts, from 0). A gradient declared with a
//! distribution (`grad z ~ normal(0, 1)`) is a leaf. Anything else is an error that
//! leaves the claim to the sampled run, as before.

use super::{node_count, Lowerer, MAX_DEPTH, MAX_NODES};
use crate::grad::Gathered;
use crate::sym::Expr;
use crate::syntax::ast::{AssignOp, Equation, ItemKind};
use std::collections::{BTreeMap, BTreeSet};

/// Each gradient's statements in the gather form, or why it is not written out.
pub(super) type GradDefs<'a> = BTreeMap<String, Result<Vec<&'a Equation>, String>>;

/// The gather form's statements by the tensor whose gradient they write.
pub(super) fn definitions<'a>(lw: &Lowerer<'a>, gather: &'a [Gathered]) -> GradDefs<'a> {
    let mut out: GradDefs<'a> = BTreeMap::new();
    for g in gather {
        match &g.item.kind {
            ItemKind::Equation(eq) if eq.lhs.grad => {
                let key = lw.env.key_of(&eq.lhs.name);
                let why = not_plain(lw, eq, g.recurrence.is_some());
                let entry = out.entry(key).or_insert_with(|| Ok(Vec::new()));
                match (why, entry.as_mut()) {
                    (None, Ok(v)) => v.push(eq),
                    (Some(w), Ok(_)) => *entry = Err(w),
                    (_, Err(_)) => {}
                }
            }
            ItemKind::Loop(_) | ItemKind::ForIndices(_) => {
                let mut inner = Vec::new();
                collect_grads(std::slice::from_ref(&g.item), &mut inner);
                for eq in inner {
                    let key = lw.env.key_of(&eq.lhs.name);
                    out.insert(
                        key.clone(),
                        Err(format!(
                            "`{key}.grad` is computed in a loop of the backward program; tq writes out gradients of statements outside loops only"
                        )),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

fn collect_grads<'a>(items: &'a [crate::syntax::ast::Item], out: &mut Vec<&'a Equation>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if eq.lhs.grad => out.push(eq),
            ItemKind::Loop(l) => collect_grads(&l.body, out),
            ItemKind::ForIndices(f) => collect_grads(&f.body, out),
            _ => {}
        }
    }
}

/// Why a gather-form statement cannot be written out at a generic index.
fn not_plain(lw: &Lowerer, eq: &Equation, recurrence: bool) -> Option<String> {
    let key = lw.env.key_of(&eq.lhs.name);
    if recurrence {
        return Some(format!("`{key}.grad` is written along a recurrence"));
    }
    if lw.env.tensors.get(&key).is_some_and(|t| t.family_arity > 0) {
        return Some("gradients of family members are not written out symbolically".into());
    }
    let mut seen = BTreeSet::new();
    for ix in eq.lhs.indices.iter().flatten() {
        match ix.plain_var() {
            Some(v) if lw.env.index_size(&v.name).is_some() && seen.insert(v.name.clone()) => {}
            _ => {
                return Some(format!(
                    "`{key}.grad` is written at a position that is not a plain index"
                ))
            }
        }
    }
    None
}

impl<'a> Lowerer<'a> {
    /// Lets the lowering write gradients out from the derived backward program.
    pub fn with_gradients(&mut self, gather: &'a [Gathered]) {
        self.grads = Some(definitions(self, gather));
    }

    /// The gradient of `key` at the element `ix` (no indices for a scalar).
    pub(super) fn grad_element(&mut self, key: &str, ix: &[String]) -> Result<Expr, String> {
        let text = if ix.is_empty() {
            format!("{key}.grad")
        } else {
            format!("{key}.grad[{}]", ix.join(","))
        };
        // A family's members share one key (`h` for `h_l`, `h_{l+1}`, `h_L`): a
        // gradient declared on one member (`grad h_L ~ ...`) is not a leaf of the others,
        // and one symbol for all of them equated `h_l.grad` with `h_{l+1}.grad` (a true
        // recurrence `h_l.grad == h_{l+1}.grad + W h_{l+1}.grad` was refuted by exact
        // evaluation, session 22). Family members' gradients go to the sampled run.
        if self
            .env
            .tensors
            .get(key)
            .is_some_and(|t| t.family_arity > 0)
        {
            return Err("gradients of family members are not written out symbolically".into());
        }
        // A gradient declared on part of its tensor (`grad h[B, t, J] ~ ... for t in
        // 1..T`): the other elements are computed, so no one symbol stands for it. Taken
        // as a leaf everywhere, h.grad[b,0,i] was set to 1 by the exact check, and the
        // true BPTT claim `h.grad[b,0,i] == W[J,i] h.grad[b,1,J]` refuted (probe30/d d07).
        if self.partial_grad_leaves.contains(key) {
            return Err(format!(
                "`{key}.grad` is declared on part of its elements only: not written out symbolically"
            ));
        }
        // A declared gradient is a leaf; where the backward program also adds to it (the
        // tensor is read downstream of its seed), it is the leaf plus what it receives.
        let leaf = self.grad_leaves.contains(key);
        if leaf
            && !self
                .grads
                .as_ref()
                .is_some_and(|g| matches!(g.get(key), Some(Ok(e)) if !e.is_empty()))
        {
            return Ok(Expr::sym(&text));
        }
        let Some(grads) = &self.grads else {
            return Err("gradients are not written out symbolically".into());
        };
        let eqs = match grads.get(key) {
            None => {
                return Err(format!(
                    "the derived backward program does not compute `{key}.grad`"
                ))
            }
            Some(Err(why)) => return Err(why.clone()),
            Some(Ok(eqs)) => eqs.clone(),
        };
        if let Some(v) = self.cache.get(&text) {
            return Ok(v.clone());
        }
        if self.depth > MAX_DEPTH {
            return Err("definitions nest too deeply".into());
        }
        let mut total = if leaf { Expr::sym(&text) } else { Expr::zero() };
        for eq in eqs {
            let names: Vec<String> = eq
                .lhs
                .indices
                .iter()
                .flatten()
                .filter_map(|i| i.plain_var().map(|v| v.name.clone()))
                .collect();
            if names.len() != ix.len() {
                return Err(format!("`{key}.grad` is read with {} indices", ix.len()));
            }
            let bind: BTreeMap<String, String> =
                names.into_iter().zip(ix.iter().cloned()).collect();
            self.depth += 1;
            let v = self.lower_terms(&eq.rhs, &bind);
            self.depth -= 1;
            let v = v?;
            total = match eq.op {
                AssignOp::Set => v,
                AssignOp::AddAssign => total + v,
                AssignOp::SubAssign => total - v,
            };
        }
        if node_count(&total) > MAX_NODES {
            return Err(format!(
                "`{text}` written out has more than {MAX_NODES} nodes"
            ));
        }
        self.used_grads = true;
        self.cache.insert(text, total.clone());
        Ok(total)
    }
}
