//! The file's left sides written out once for the exact check of its element claims
//! ([`SharedSides`]), shared by its claims.

use super::*;

/// The most written-out sides [`SharedSides`] keeps, and the most expression nodes they
/// hold together (their sides and lowering states).
const MAX_SHARED_SIDES: usize = 4_096;
const MAX_SHARED_NODES: usize = 2_000_000;

/// The left sides of a file's element claims written out at the sample sizes, each with
/// the state of the fresh lowerer after it and the work it cost, shared by the claims of
/// the file (`claims::decide_all_within` holds one). A flood of claims over the same
/// tensors (`sum_{k'}(J[t,k,k']) == j - j`, 3,000 times) wrote the same left side out
/// again for every claim and every element, each time from a fresh lowerer: 0.65-1.3 ms a
/// claim. The exact check of a claim without givens that change the lowering starts from
/// the stored state instead, which is what its own fresh lowerer would have reached, and
/// charges the recorded work to its budgets, so every verdict and every budget runs out
/// where it did without the store (a claim whose budgets cannot take the recorded work
/// lowers the side itself, as before).
#[derive(Default)]
pub struct SharedSides {
    entries: std::collections::HashMap<SideKey, Shared>,
    nodes: usize,
}

/// A left side's text, the binding of the free indices, whether gradients are written
/// out from the backward program.
type SideKey = (String, Vec<(String, String)>, bool);

struct Shared {
    side: Result<sym::Expr, String>,
    /// The definedness conditions noted while the side was written out (a reuse notes
    /// them again: without them `A[0,1] == 5`, 0 times a sum of 1/0, was refuted "left
    /// 0" at the sample sizes, where the store was used and no condition collected).
    conds: Vec<sym::Condition>,
    state: crate::claims::elements::LoweringState,
    /// The exact work (`sym::ExactWork` units) and symbolic work (`sym::CLAIM_WORK`
    /// units) writing the side out cost.
    exact: u64,
    work: usize,
}

/// Whether the givens leave the lowerer as [`lowerer`] makes it without any: only then
/// is a stored state what the claim's own lowerer would have reached.
pub(super) fn shareable(g: &Givens) -> bool {
    g.tensor.is_empty() && g.elems.is_empty() && g.syms.is_empty() && g.positive.is_empty()
}

/// Charges recorded work to the current budgets when both can take it; `false` (nothing
/// charged) otherwise.
fn replay(exact: u64, work: usize) -> bool {
    let exact_fits = sym::current_exact_work().is_none_or(|w| !w.spent() && w.left() >= exact);
    let work_fits = sym::work_left().is_none_or(|left| left >= work) && !sym::work_exhausted();
    if !(exact_fits && work_fits) {
        return false;
    }
    sym::charge_exact(exact) && sym::charge_work(work)
}

/// The claim's left side written out in `lw` (fresh from [`lowerer`]), from `shared` when
/// it holds it (see [`SharedSides`]), stored there when it does not.
pub(super) fn left_side(
    shared: Option<&std::cell::RefCell<SharedSides>>,
    lw: &mut crate::claims::elements::Lowerer,
    l: &ast::Expr,
    bind: &BTreeMap<String, String>,
    gathered: bool,
) -> Result<sym::Expr, String> {
    let Some(shared) = shared else {
        return lower_side(lw, l, bind, &[]);
    };
    let key: SideKey = (
        crate::syntax::printer::print_expr(l),
        bind.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        gathered,
    );
    if let Some(s) = shared.borrow().entries.get(&key) {
        if replay(s.exact, s.work) {
            lw.resume(s.state.clone());
            // The conditions the lowering noted (what it divided by, also inside the
            // lowerer's cache that the state carries on), noted again in the open scope.
            s.conds
                .iter()
                .cloned()
                .for_each(sym::defined::note_condition);
            return s.side.clone();
        }
    }
    let exact_before = sym::current_exact_work().map(|w| w.used());
    let work_before = sym::work_left();
    let hit_before = sym::exact_budget_hit();
    let (side, conds) = sym::collecting(|| lower_side(lw, l, bind, &[]));
    // Stored only when no budget ran out or was hit meanwhile (the side is then what
    // any claim with room for its work would write out).
    let clean = !sym::exact_work_spent()
        && !sym::work_exhausted()
        && !hit_before
        && !sym::exact_budget_hit();
    let mut sh = shared.borrow_mut();
    if clean && sh.entries.len() < MAX_SHARED_SIDES && !sh.entries.contains_key(&key) {
        let state = lw.snapshot();
        let nodes = state.nodes() + side.as_ref().map_or(0, crate::claims::elements::node_count);
        if sh.nodes + nodes <= MAX_SHARED_NODES {
            let exact = match (exact_before, sym::current_exact_work()) {
                (Some(b), Some(w)) => w.used().saturating_sub(b),
                _ => 0,
            };
            let work = match (work_before, sym::work_left()) {
                (Some(b), Some(a)) => b.saturating_sub(a),
                _ => 0,
            };
            sh.nodes += nodes;
            sh.entries.insert(
                key,
                Shared {
                    side: side.clone(),
                    conds,
                    state,
                    exact,
                    work,
                },
            );
        }
    }
    side
}
