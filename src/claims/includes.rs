//! `claim backprop includes:` blocks, decided on a sampled run of the model and its
//! derived program. Each statement of the block and each statement of the derived
//! program is run on its own, reading the run's final values, and its contribution to
//! the gradient it writes is recorded. A block statement is included when its
//! contribution equals that of one derived statement or the sum of several (the block
//! may group terms: `G.grad = h.grad (R - h[t-1])` is two derived statements).
//! Agreement is `confirmed` (numeric, one sampled run), never `proved`; a statement that
//! no combination matches is `refuted`.

use super::{mentions, program_loops, Verdict};
use crate::claims::{Method, Outcome};
use crate::num::gradcheck::ModelRun;
use crate::num::{Machine, Store};
use crate::syntax::ast::{AssignOp, BinOp, Expr, Item, ItemKind, Loop, Program, Range};
use crate::syntax::printer::print_program;
use std::cell::Cell;
use std::rc::Rc;

fn und(why: impl Into<String>) -> Outcome {
    Outcome::undecided(why)
}

/// Every statement of a derived program with the loops around it, as a runnable item.
fn statements(items: &[Item], around: &[Range], out: &mut Vec<(Item, String)>) {
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => {
                let mut a = around.to_vec();
                a.push(l.range.clone());
                statements(&l.body, &a, out);
            }
            ItemKind::Equation(_) | ItemKind::ForIndices(_) => {
                out.push((wrap(it.clone(), around), target_key(it)))
            }
            _ => {}
        }
    }
}

fn wrap(item: Item, around: &[Range]) -> Item {
    around.iter().rev().fold(item, |body, r| Item {
        kind: ItemKind::Loop(Loop {
            range: r.clone(),
            body: vec![body],
            reverse: false,
        }),
        span: Default::default(),
    })
}

/// Whether a block statement states the whole gradient (`T.grad[...] = ...`) rather
/// than one contribution to it (`+=`, `-=`).
fn sets_whole(it: &Item) -> bool {
    match &it.kind {
        ItemKind::Equation(eq) => eq.op == AssignOp::Set,
        ItemKind::ForIndices(f) => f.body.first().is_some_and(sets_whole),
        _ => false,
    }
}

/// `total` at the elements `mine` writes: what a statement over part of a gradient's
/// elements is compared with.
fn at_elements_of(total: &Store, mine: &Store) -> Store {
    let mut out = Store::default();
    for (k, t) in mine.iter() {
        let slot = out.entry(k.clone()).or_default();
        for pos in t.keys() {
            let v = total
                .get(k)
                .and_then(|t| t.get(pos))
                .copied()
                .unwrap_or(0.0);
            slot.insert(pos.clone(), v);
        }
    }
    out
}

fn target_key(it: &Item) -> String {
    match &it.kind {
        ItemKind::Equation(eq) => crate::syntax::printer::print_name(&crate::syntax::ast::Name {
            sub: vec![],
            ..eq.lhs.name.clone()
        }),
        ItemKind::ForIndices(f) => f.body.first().map(target_key).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The range a block statement runs over for a loop variable it does not list: the
/// loop's own range, one step wider at the top (a statement about layer l may hold at
/// l = L too), and at the bottom only as far as the statement reads ahead (a gather-form
/// `h.grad[b,t,j] += h.grad[b,t+1,j] G[b,t+1,j]` at t stands for the loop's step t+1, so
/// it runs from one step before the loop's start). It never runs where the loop never
/// ran: with `for t in 2..T`, `x.grad[b,t,j] += h.grad[b,t,j]` is not run at t = 1.
fn widen(r: &Range, item: &Item) -> Range {
    let num = |k: i64, s| Box::new(Expr::Num(k.to_string(), s));
    let ahead = reads_ahead(item, &r.var.name);
    Range {
        from: if ahead > 0 {
            Expr::Binary(
                BinOp::Sub,
                Box::new(r.from.clone()),
                num(ahead, r.span),
                r.span,
            )
        } else {
            r.from.clone()
        },
        to: Expr::Binary(BinOp::Add, Box::new(r.to.clone()), num(1, r.span), r.span),
        ..r.clone()
    }
}

/// The largest k of a position `var + k` in a statement (0 when there is none).
fn reads_ahead(item: &Item, var: &str) -> i64 {
    fn of_ref(r: &crate::syntax::ast::Ref, var: &str, best: &mut i64) {
        for ix in r.indices.iter().flatten().chain(r.name.sub.iter()) {
            if let crate::syntax::ast::IndexExpr::Affine(a) = ix {
                if let [t] = a.terms.as_slice() {
                    if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var {
                        *best = (*best).max(a.constant);
                    }
                }
            }
        }
    }
    let mut best = 0;
    match &item.kind {
        ItemKind::Equation(eq) => {
            of_ref(&eq.lhs, var, &mut best);
            crate::check::walk_refs(&eq.rhs, &mut |r| of_ref(r, var, &mut best));
        }
        ItemKind::ForIndices(f) => {
            for it in &f.body {
                best = best.max(reads_ahead(it, var));
            }
        }
        ItemKind::Loop(l) => {
            for it in &l.body {
                best = best.max(reads_ahead(it, var));
            }
        }
        _ => {}
    }
    best
}

/// The outcomes of a file's `includes` blocks, decided once on the file itself at its
/// own `sample` values ([`super::shared_includes`]), for the checks of its variants
/// (`tq variants`, `tq export`: `Options::shared_includes`). A block is a claim about the
/// derived program's statements, and a variant changes no statement (only `sample` and
/// `at` values): a variant whose statements are the file's takes each block's outcome
/// instead of running the blocks again. `tq variants --count 100` of
/// `problems/resnet.tq` ran them once per variant on the interpreter's slow path, 71% of
/// its 16 s of CPU (docs/performance.md).
#[derive(Debug, Default)]
pub struct Shared {
    /// Each block's outcome, with the statements of the file it was decided on.
    blocks: Vec<(String, String, Outcome)>,
}

impl Shared {
    /// Adds the outcomes of the blocks of a file whose statements are `program`.
    pub fn add(&mut self, program: &Program, blocks: Vec<(&[Item], Outcome)>) {
        let key = program_key(program);
        for (b, o) in blocks {
            self.blocks.push((key.clone(), block_key(b), o));
        }
    }

    /// Whether no block was decided.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The outcome of `block` in a file whose statements are `program`, when a file
    /// with the same statements had the block decided; its evidence says where.
    pub fn outcome(&self, program: &Program, block: &[Item]) -> Option<Outcome> {
        let key = block_key(block);
        if !self.blocks.iter().any(|(_, b, _)| *b == key) {
            return None;
        }
        let statements = program_key(program);
        let (_, _, o) = self
            .blocks
            .iter()
            .find(|(p, b, _)| *b == key && *p == statements)?;
        let mut o = o.clone();
        o.evidence = format!(
            "{}; decided once on the file at its own `sample` values, the same statements as this variant's (claims::includes::Shared)",
            o.evidence
        );
        Some(o)
    }
}

/// A program's statements as text: every item but claims and `sample`, `at` and `vary`
/// lines, printed.
fn program_key(program: &Program) -> String {
    print_program(&Program {
        items: program
            .items
            .iter()
            .filter(|i| {
                !matches!(
                    i.kind,
                    ItemKind::Claim(_) | ItemKind::Sample(_) | ItemKind::At(_) | ItemKind::Vary(_)
                )
            })
            .cloned()
            .collect(),
    })
}

fn block_key(block: &[Item]) -> String {
    print_program(&Program {
        items: block.to_vec(),
    })
}

/// Element evaluations all the statement runs of one file's `includes` blocks may use
/// together (the derived program's statements and the blocks' own, each run on its
/// own); an element the run visits and skips (a member that does not exist) counts like
/// one it evaluates. Each run had the sampled run's own budget afresh and skipped
/// elements counted nothing, so a block statement that stands in for a loop over many
/// steps (a read `W_{l+10000}` widens the loops of `l` and `s` by 10,000 steps each) ran
/// for minutes (docs/fuzz-findings/2026-12-04-pyramid-derive-steps.tq.txt); past this budget the
/// block is `undecided` with the reason (docs/fuzzing.md). The largest use among
/// `problems/` is 1,346,910 (`problems/ugcnn.tq`), then 533,150 (`problems/pyramid.tq`).
/// Checks that share one file's budgets (the variants of `tq variants` and `tq export`)
/// each get their share of it (`Options::work_share`), like the gradient check's: the
/// blocks of `problems/resnet.tq` took about 0.25 s of CPU in each of 100 variants, the
/// most of `tq variants --count 100`'s 30 s and more (docs/fuzzing.md, session 28).
pub const INCLUDES_STEPS: u64 = 2_000_000;

/// The element evaluations of one block's runs at the points besides the sample values
/// (the model's runs there and the contributions: `claims::includes_elsewhere`). Points
/// past it are not tried, and the evidence says how many; the least sizes come first,
/// so small points are tried before large ones. The blocks of `problems/ugcnn.tq`,
/// `problems/resnet.tq` and `problems/pyramid.tq` exceed it at their first larger point
/// and say so; `tq check problems/` took the same CPU time with it as without these runs
/// (5.7 s, session 35).
pub const ELSEWHERE_STEPS: u64 = 1_200_000;

/// The budget of one file's `includes` runs: the element evaluations left, the budget
/// itself and the note naming a share of it, for the reason.
pub struct StepBudget {
    left: Rc<Cell<u64>>,
    budget: u64,
    note: String,
}

impl StepBudget {
    /// `budget` element evaluations (a check's share of [`INCLUDES_STEPS`]); `note` is
    /// added to the reason (`Options::share_note`).
    pub fn new(budget: u64, note: String) -> StepBudget {
        StepBudget {
            left: Rc::new(Cell::new(budget)),
            budget,
            note,
        }
    }

    /// A fresh budget of at most `most` element evaluations, with the same note.
    pub fn part(&self, most: u64) -> StepBudget {
        StepBudget::new(self.budget.min(most), self.note.clone())
    }

    /// The same budget: what one run uses, the other has no more.
    pub fn share(&self) -> StepBudget {
        StepBudget {
            left: Rc::clone(&self.left),
            budget: self.budget,
            note: self.note.clone(),
        }
    }

    /// The element evaluations left.
    pub fn left(&self) -> u64 {
        self.left.get()
    }

    /// Charges `used` element evaluations (a model run made outside [`contribution`]).
    pub fn charge(&self, used: u64) {
        self.left.set(self.left.get().saturating_sub(used));
    }

    /// The budget's size.
    pub fn size(&self) -> u64 {
        self.budget
    }

    /// A fresh budget of the same size (a run at another seed).
    pub fn again(&self) -> StepBudget {
        StepBudget::new(self.budget, self.note.clone())
    }
}

/// One statement's contribution, element by element, charged to the file's budget
/// ([`INCLUDES_STEPS`]).
fn contribution(m: &Machine, item: &Item, budget: &StepBudget) -> Result<Store, String> {
    let left = &budget.left;
    let mut m = m.clone();
    m.shadow = Some(Store::default());
    let start = m.steps();
    m.max_steps = start.saturating_add(left.get()).min(m.max_steps);
    let r = m.run_items(std::slice::from_ref(item), &mut Vec::new());
    left.set(left.get().saturating_sub(m.steps().saturating_sub(start)));
    if r.is_err() && left.get() == 0 {
        return Err(format!(
            "the sampled runs of this file's `includes` blocks exceeded their budget of {} element evaluations (claims::includes::INCLUDES_STEPS{})",
            budget.budget, budget.note
        ));
    }
    r.map_err(|e| e.message)?;
    Ok(m.shadow.unwrap_or_default())
}

/// The first element where two contributions differ: its text and both values.
fn same(a: &Store, b: &Store) -> Option<(String, f64, f64)> {
    for (key, t) in a.iter().chain(b.iter()) {
        for pos in t.keys() {
            let x = a.get(key).and_then(|t| t.get(pos)).copied().unwrap_or(0.0);
            let y = b.get(key).and_then(|t| t.get(pos)).copied().unwrap_or(0.0);
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0) {
                return Some((format!("{}.grad{pos:?}", key.0), x, y));
            }
        }
    }
    None
}

/// Where a sampled run refuted an `includes` block: the statement, the element of the
/// gradient it writes, the statement's contribution there and the closest combination
/// of the derived statements' (absent when no derived statement writes the gradient).
#[derive(Clone, Debug)]
pub struct Found {
    pub statement: String,
    pub element: Option<String>,
    pub left: f64,
    pub right: f64,
}

fn sum(parts: &[&Store]) -> Store {
    let mut out = Store::default();
    for p in parts {
        for (k, t) in p.iter() {
            let slot = out.entry(k.clone()).or_default();
            for (pos, v) in t {
                *slot.entry(pos.clone()).or_insert(0.0) += v;
            }
        }
    }
    out
}

/// The derived program's statements run on a sampled run, each on its own: what each
/// contributes to the gradient it writes. Made once per file.
pub struct Derived<'a> {
    machine: Machine<'a>,
    parts: Vec<(String, Store)>,
    loops: Vec<Range>,
    /// What is left of the file's [`INCLUDES_STEPS`] (or its share).
    left: StepBudget,
}

impl<'a> Derived<'a> {
    pub fn new(
        backward: &[Item],
        program: &Program,
        run: &ModelRun<'a>,
        left: StepBudget,
    ) -> Result<Self, String> {
        let mut derived = Vec::new();
        statements(backward, &[], &mut derived);
        let loops = program_loops(&program.items);
        let mut m = run.machine.clone();
        for r in &loops {
            if let (Ok(lo), Ok(hi)) = (m.const_expr(&r.from), m.const_expr(&r.to)) {
                m.loop_ranges
                    .insert(r.var.name.clone(), (lo.round() as i64, hi.round() as i64));
            }
        }
        let mut parts = Vec::new();
        for (item, key) in &derived {
            let c = contribution(&m, item, &left)
                .map_err(|e| format!("a derived statement cannot be run: {e}"))?;
            parts.push((key.clone(), c));
        }
        Ok(Derived {
            machine: m,
            parts,
            loops,
            left,
        })
    }
}

pub fn decide(block: &[Item], derived: &Derived, seed: u64) -> Outcome {
    decide_found(block, derived, seed, &mut None, &mut false)
}

/// [`decide`], and on a refutation the statement and element in `found`.
pub fn decide_found(
    block: &[Item],
    derived: &Derived,
    seed: u64,
    found_at: &mut Option<Found>,
    untested: &mut bool,
) -> Outcome {
    *untested = false;
    let (m, derived_parts, all_loops) = (&derived.machine, &derived.parts, &derived.loops);
    let mut matched = 0;
    // A block may be written in derive's own printed form, its statements inside the
    // loops that run them (`for t in 1..T reversed:` around `for b,j,i: W.grad[j,i] +=
    // ...`, probe 30d d34c): each statement stands in its loops' ranges as written.
    let mut flat: Vec<(&Item, Vec<Range>)> = Vec::new();
    fn flatten<'a>(items: &'a [Item], around: &[Range], out: &mut Vec<(&'a Item, Vec<Range>)>) {
        for it in items {
            match &it.kind {
                ItemKind::Loop(l) => {
                    let mut a = around.to_vec();
                    a.push(l.range.clone());
                    flatten(&l.body, &a, out);
                }
                _ => out.push((it, around.to_vec())),
            }
        }
    }
    flatten(block, &[], &mut flat);
    for (it, written) in flat {
        let key = target_key(it);
        if key.is_empty() {
            return und("an `includes` block lists statements (`for ...: T.grad[...] += ...`)");
        }
        // The loops the statement stands in: those of the program whose variable it
        // uses without listing it, over the ranges `widen` gives; elements where it
        // reads nothing computed are skipped.
        let listed: Vec<String> = match &it.kind {
            ItemKind::ForIndices(f) => f.indices.iter().map(|i| i.name.clone()).collect(),
            _ => vec![],
        };
        let text = print_program(&Program {
            items: vec![it.clone()],
        });
        let around: Vec<Range> = written
            .iter()
            .cloned()
            .chain(
                all_loops
                    .iter()
                    .filter(|r| {
                        !listed.contains(&r.var.name)
                            && !written.iter().any(|w| w.var.name == r.var.name)
                            && mentions(&text, &r.var.name)
                    })
                    .map(|r| widen(r, it)),
            )
            .collect();
        let mine = match contribution(m, &wrap(it.clone(), &around), &derived.left) {
            Ok(c) => c,
            Err(e) => return und(format!("`{}` cannot be run: {e}", text.trim())),
        };
        let candidates: Vec<&Store> = derived_parts
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c)
            .collect();
        if candidates.len() > 14 {
            return und(format!(
                "{} derived statements write {key}.grad; too many to combine",
                candidates.len()
            ));
        }
        // A contribution that is not finite (a division by 0, an overflow) is no number
        // to compare: it would match nothing or anything (within a relative tolerance of
        // infinity), so the run decides nothing about the block.
        let not_finite = |st: &Store| {
            st.iter().find_map(|(k, t)| {
                t.iter()
                    .find(|(_, v)| !v.is_finite())
                    .map(|(p, v)| format!("{}.grad{p:?} = {v}", k.0))
            })
        };
        if let Some(at) = std::iter::once(&mine)
            .chain(candidates.iter().copied())
            .find_map(not_finite)
        {
            return und(format!(
                "`{}`: a contribution is not finite on the sampled run (seed {seed}): {at}; a value that is undefined or overflows decides nothing",
                text.trim()
            ));
        }
        let mut found = false;
        let mut closest = None;
        // `=` states the whole gradient at the elements it writes: the sum of every
        // derived statement writing it, not a part (probe32/d f35c: in y = x (W x),
        // `x.grad = Q` was confirmed because Q is one of the two contributions).
        let mut part_of = None;
        if sets_whole(it) && !candidates.is_empty() {
            let total = at_elements_of(&sum(&candidates), &mine);
            match same(&mine, &total) {
                None => found = true,
                Some(d) => {
                    part_of = (1u32..(1u32 << candidates.len())).find_map(|mask| {
                        let parts: Vec<&Store> = (0..candidates.len())
                            .filter(|k| mask & (1 << k) != 0)
                            .map(|k| candidates[k])
                            .collect();
                        same(&mine, &at_elements_of(&sum(&parts), &mine))
                            .is_none()
                            .then_some(parts.len())
                    });
                    closest = Some(d);
                }
            }
        }
        for mask in 1u32..(1u32 << candidates.len()) {
            if sets_whole(it) {
                break;
            }
            let parts: Vec<&Store> = (0..candidates.len())
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| candidates[k])
                .collect();
            match same(&mine, &sum(&parts)) {
                None => {
                    found = true;
                    break;
                }
                Some(d) => {
                    if closest.is_none() {
                        closest = Some(d);
                    }
                }
            }
        }
        if !found {
            let why = if candidates.is_empty() {
                format!("tq's derived program has no statement writing {key}.grad")
            } else if sets_whole(it) {
                let part = match part_of {
                    Some(k) => format!(
                        "; it equals {k} of them, a part of the gradient: write `+=` for a contribution"
                    ),
                    None => String::new(),
                };
                format!(
                    "`=` states the whole of {key}.grad, but the sum of tq's {} derived statements writing it differs (for example {}){part}",
                    candidates.len(),
                    closest
                        .as_ref()
                        .map(|(e, x, y)| format!("{e}: {x:.10} against {y:.10}"))
                        .unwrap_or_default()
                )
            } else {
                format!(
                    "no combination of tq's {} derived statements writing {key}.grad gives it (for example {})",
                    candidates.len(),
                    closest
                        .as_ref()
                        .map(|(e, x, y)| format!("{e}: {x:.10} against {y:.10}"))
                        .unwrap_or_default()
                )
            };
            // The statement's largest contribution stands for it when nothing derived
            // writes the gradient.
            let (element, left, right) = match closest {
                Some((e, x, y)) => (Some(e), x, y),
                None => {
                    let top = mine
                        .iter()
                        .flat_map(|(k, t)| t.iter().map(move |(p, v)| (k, p, *v)))
                        .max_by(|a, b| a.2.abs().total_cmp(&b.2.abs()));
                    match top {
                        Some((k, p, v)) => (Some(format!("{}.grad{p:?}", k.0)), v, 0.0),
                        None => (None, 0.0, 0.0),
                    }
                }
            };
            *found_at = Some(Found {
                statement: text.trim().to_string(),
                element,
                left,
                right,
            });
            return Outcome::new(
                Verdict::Refuted,
                Method::Numeric,
                format!("`{}`: {why} (one sampled run, seed {seed})", text.trim()),
            );
        }
        // A statement whose contribution is 0 everywhere on this run (every mask 0, a
        // gradient that does not reach) matches anything that is 0 too: no evidence.
        if mine.values().all(|t| t.values().all(|v| *v == 0.0)) {
            *untested = true;
            return und(format!(
                "`{}` contributes 0 at every element of the sampled run (seed {seed}), which cannot tell it from a wrong statement (another --seed may give a run where it does not)",
                text.trim()
            ));
        }
        matched += 1;
    }
    Outcome::new(
        Verdict::Confirmed,
        Method::Numeric,
        format!(
            "each of the {matched} statements equals one statement of tq's derived program or the sum of several, element by element (one sampled run, seed {seed})"
        ),
    )
}
