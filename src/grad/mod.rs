//! Reverse-mode differentiation as a program transformation: a checked forward
//! program in, its backpropagation program out, as `.tq` items on `.grad` tensors.
//!
//! Each right-hand occurrence of a tensor that the loss depends on contributes one
//! statement, in the seeds' loop-and-scatter form:
//! `for <indices>: A.grad[<A's indices>] += T.grad[<T's indices>] * dRHS/dA`,
//! where the loop runs over the left-hand indices of the forward equation and the
//! indices summed in the term of the occurrence. Forward loops are run backwards
//! (`reversed`), statements in reverse order. A contribution with a negative sign is
//! written `-=` (the seeds' bias convention); a tensor that receives exactly one
//! contribution, through plain indices, is assigned with `=`.
//!
//! [`gather`] solves the scatter indices so that every statement reads like a
//! definition of one `.grad` element (the form an implementer needs).
//!
//! Files, by concept:
//! - `mod.rs`: the entry point [`backward`] and its result.
//! - `deriver.rs`: which tensors need gradients; one contribution per occurrence.
//! - `derivative.rs`: the derivative with respect to one occurrence, function
//!   templates, simplification.
//! - `occurrences.rs`: the occurrences of a tensor in a right-hand side, their indices
//!   and enclosing sums.
//! - `loss.rs`: the log-loss-of-softmax shortcut.
//! - `build.rs`: constructors and renamings of expressions.
//! - `gather.rs`: the gather form.

mod build;
mod derivative;
mod deriver;
mod gather;
mod loss;
mod occurrences;

pub use gather::{gather_form, Gathered};

use crate::check::family_key;
use crate::check::Env;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use build::{item, num};
use deriver::Deriver;
use loss::log_loss_softmax;
use std::collections::{BTreeMap, BTreeSet};

/// The derived backward program and what was noticed on the way.
#[derive(Clone, Debug)]
pub struct Backward {
    /// The `.grad` statements, in loop-and-scatter form, inside reversed loops.
    pub items: Vec<Item>,
    /// The tensors whose gradients arrive from outside (`grad L_L ~ ...`, or the loss).
    pub seeds: Vec<String>,
    /// Remarks for the reader (unsupported constructs, simplifications used).
    pub notes: Vec<String>,
}

/// One contribution before it becomes an item.
struct Contribution {
    target: Ref,
    op: AssignOp,
    rhs: Expr,
    indices: Vec<String>,
}

/// Derives the backward program of a checked program.
pub fn backward(program: &Program, env: &Env) -> Backward {
    let mut d = Deriver {
        env,
        needs: BTreeSet::new(),
        notes: Vec::new(),
        counts: BTreeMap::new(),
        bound: Vec::new(),
        unit_seed: None,
        folded: BTreeMap::new(),
    };
    let mut seeds: Vec<String> = env.grad_seeds.iter().map(|(k, _)| k.clone()).collect();
    let mut seed_names: Vec<String> = env.grad_seeds.iter().map(|(_, n)| n.clone()).collect();
    let loss_name = crate::check::loss_of(&program.items, env);
    if seeds.is_empty() {
        // A scalar program or a model with a scalar loss: the last scalar defined.
        if let Some(loss) = loss_name.as_ref().map(|n| env.key_of(n)) {
            seed_names.push(loss.clone());
            seeds.push(loss);
        }
    }
    d.needs.extend(seeds.iter().cloned());
    if env.grad_seeds.is_empty() {
        d.unit_seed = seeds.first().cloned();
        if let Some(loss) = &d.unit_seed {
            d.folded = log_loss_softmax(&program.items, loss, env);
            for p in d.folded.keys() {
                d.notes.push(format!(
                    "softmax with log-loss: the gradient of `{p}` is folded into its input's, P − onehot"
                ));
            }
        }
    }
    // The tensors the seeds depend on: a fixed point over all equations.
    loop {
        let before = d.needs.len();
        d.mark_needs(&program.items);
        if d.needs.len() == before {
            break;
        }
    }
    // A value the seeds need that is itself a derivative (`du = d(u)/d(a)`, the form
    // E0001's help gives for a derivative of a derivative): the deriver has no rule for
    // its derivative, and the program it printed read `u.grad`, which nothing wrote, and
    // dropped the path through `du` (probe38/p a08). No program, and the reason the
    // interpreter, the dense executor and `tq emit` give.
    if let Some(line) = derivative_value(&program.items, &d.needs) {
        return Backward {
            items: Vec::new(),
            seeds: seed_names,
            notes: vec![format!(
                "no backpropagation program: `{line}` reads a derivative, and d(u)/d(a) is a claim form, not a program value (the claims `d(L)/d(a)` differentiate the whole program symbolically)"
            )],
        };
    }
    // Count contributions per gradient tensor first (to choose `=` or `+=`).
    let mut probe = d.items(&program.items, &[]);
    d.counts = BTreeMap::new();
    count_targets(&probe, &mut d.counts);
    probe.clear();
    // A declared gradient that also receives contributions (`grad y` and `grad z` with
    // z = 2 y): the contributions add to the declared one (y.grad = Gy + 2 Gz), so none
    // of them is assigned with `=`. Before, `y.grad = z.grad 2` overwrote the seed
    // (probe30/d d07b). Family members' seeds (`grad h_L`) share their family's key
    // with the members the loop writes, and are left as they are.
    for (key, _) in &env.grad_seeds {
        let plain = env.tensors.get(key).is_none_or(|t| t.family_arity == 0);
        if let (true, Some(n)) = (plain, d.counts.get_mut(key)) {
            *n += 1;
        }
    }
    let mut items = Vec::new();
    // A scalar loss starts the backward pass at 1.
    if env.grad_seeds.is_empty() {
        if let Some(loss) = &loss_name {
            // The loss's own name (`y'`, `L^{tot}`, `v_3`): a name built from its printed
            // text would read back as another (`y'` as a base with the prime in it).
            let lhs = Ref {
                name: Name {
                    span: Span::default(),
                    ..loss.clone()
                },
                grad: true,
                indices: None,
                span: Span::default(),
            };
            items.push(item(ItemKind::Equation(Equation {
                lhs,
                op: AssignOp::Set,
                rhs: num("1"),
                span: Span::default(),
            })));
        }
    }
    items.extend(d.items(&program.items, &[]));
    Backward {
        items,
        seeds: seed_names,
        notes: d.notes,
    }
}

/// The first statement the seeds need whose right side reads a derivative `d(u)/d(a)`,
/// as printed.
fn derivative_value(items: &[Item], needs: &BTreeSet<String>) -> Option<String> {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if needs.contains(&family_key(&eq.lhs.name)) => {
                let mut found = false;
                crate::syntax::visit::walk_expr(&eq.rhs, |e| {
                    found |= matches!(e, Expr::Deriv(..));
                    !found
                });
                if found {
                    return Some(crate::syntax::printer::print_equation(eq));
                }
            }
            ItemKind::Loop(l) => {
                if let Some(x) = derivative_value(&l.body, needs) {
                    return Some(x);
                }
            }
            ItemKind::ForIndices(f) => {
                if let Some(x) = derivative_value(&f.body, needs) {
                    return Some(x);
                }
            }
            _ => {}
        }
    }
    None
}

fn count_targets(items: &[Item], counts: &mut BTreeMap<String, usize>) {
    for it in items {
        match &it.kind {
            ItemKind::Equation(eq) => *counts.entry(family_key(&eq.lhs.name)).or_default() += 1,
            ItemKind::ForIndices(f) => count_targets(&f.body, counts),
            ItemKind::Loop(l) => count_targets(&l.body, counts),
            _ => {}
        }
    }
}
