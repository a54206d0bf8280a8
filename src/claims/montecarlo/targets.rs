//! What the moment claims of a file ask of the trials: the tensors and fixed-position
//! patterns their moments pool, the position classes of each pattern, and the settings
//! (givens and boundary) they are decided under.

use super::extract::{bind_positions, extract, pattern_of, Pattern};
use crate::check::Env;
use crate::num::dense::Needed;
use crate::num::Bind;
use crate::syntax::ast::{self as ast, Claim, Item, ItemKind, Program, Ref};
use crate::syntax::printer::print_expr;
use std::collections::{BTreeMap, BTreeSet};
/// What the moment claims of a file need from the trials.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// Gradient or not → family key → the fixed-position patterns claims select (keyed
    /// by name alone so that every trial looks its members up without building a key).
    pub(super) patterns: [BTreeMap<String, BTreeSet<Pattern>>; 2],
    /// Gradient or not → family key → pattern → the sets of dimensions along which the
    /// pattern's elements may fall into position classes (`classes::class_dims`): each
    /// trial records the elements of each class apart (`trials::class_key`).
    #[allow(clippy::type_complexity)]
    pub(super) classes: [BTreeMap<String, BTreeMap<Pattern, BTreeSet<Vec<usize>>>>; 2],
    /// Per setting (givens and boundary): the tensors its claims mention.
    pub(super) settings: BTreeMap<String, Needed>,
}

/// The trials' cache key of a claim: its givens and boundary rule.
pub(super) fn setting_key(claim: &Claim) -> String {
    format!(
        "{:?} {:?}",
        claim.given.iter().map(print_expr).collect::<Vec<_>>(),
        claim.boundary
    )
}

/// Every tensor (and fixed positions) whose moments a claim of the program mentions.
pub fn moment_keys(program: &Program, env: &Env, back: &[Item]) -> Targets {
    let mut out = Targets::default();
    let loops = crate::claims::program_loops(&program.items);
    let sample: BTreeMap<String, f64> = crate::claims::rules::sample_point(program)
        .into_iter()
        .filter_map(|(k, v)| Some((k, num_traits::ToPrimitive::to_f64(&v)?)))
        .collect();
    let cx = (env, &loops[..], &sample);
    // The position classes read the model only: its claims left out once (perf42: each
    // moment claim's classes walked every other claim).
    let model = crate::claims::with_moments::without_claims(program);
    let parts = (&model.items[..], back);
    type Cx<'x> = (&'x Env, &'x [ast::Range], &'x BTreeMap<String, f64>);
    fn add(c: &Claim, cx: Cx<'_>, parts: (&[Item], &[Item]), out: &mut Targets) {
        let env = cx.0;
        let circular = matches!(c.boundary.or(env.boundary), Some(ast::Boundary::Circular));
        let mut ms = Vec::new();
        if let ast::Expr::Rel(_, l, r, _) = &c.body {
            let _ = extract(l, &mut ms);
            let _ = extract(r, &mut ms);
        }
        let binds = position_bindings(c, cx);
        for m in &ms {
            let k = (env.key_of(&m.target.name), m.target.grad);
            let pats = out.patterns[k.1 as usize].entry(k.0.clone()).or_default();
            pats.insert(pattern_of(&m.target));
            // A position at a loop variable (`h[b,t]`): one pattern per value of it.
            for b in &binds {
                pats.insert(pattern_of(&bind_positions(&m.target, b)));
            }
            // The position classes of each pattern (session 33).
            let items: Vec<&[Item]> = if m.target.grad {
                vec![parts.0, parts.1]
            } else {
                vec![parts.0]
            };
            let targets: Vec<Ref> = std::iter::once(m.target.clone())
                .chain(binds.iter().map(|b| bind_positions(&m.target, b)))
                .collect();
            for t in targets {
                let pat = pattern_of(&t);
                if let Some(dims) = super::classes::class_dims(&items, env, &t, &pat, circular)
                    .filter(|d| !d.is_empty())
                {
                    out.classes[k.1 as usize]
                        .entry(k.0.clone())
                        .or_default()
                        .entry(pat)
                        .or_default()
                        .insert(dims);
                }
            }
            out.settings.entry(setting_key(c)).or_default().insert(k);
        }
    }
    fn walk(items: &[Item], cx: Cx<'_>, parts: (&[Item], &[Item]), out: &mut Targets) {
        for it in items {
            match &it.kind {
                ItemKind::Claim(c) => add(c, cx, parts, out),
                ItemKind::Derivation(d) => {
                    for (_, c) in d.step_claims() {
                        add(&c, cx, parts, out);
                    }
                }
                ItemKind::Loop(l) => walk(&l.body, cx, parts, out),
                _ => {}
            }
        }
    }
    walk(&program.items, cx, parts, &mut out);
    out
}

/// The positions past a loop's last value at the `sample` sizes that are recorded too
/// ([`position_bindings`]): Monte Carlo also runs at other sizes, one or two larger.
const POSITION_MARGIN: i64 = 4;
/// At most this many bindings of loop variables get patterns of their own.
const MAX_POSITION_BINDINGS: usize = 256;

/// The bindings of the loop variables a claim names, at the `sample` values with the
/// claim's givens (and [`POSITION_MARGIN`] more steps), for the patterns of positions
/// written with them (`Var(h[b,t]) == t + 1`); empty when the claim names none or the
/// ranges cannot be computed there (its pools at those positions are then not recorded,
/// and the claim is not decided there).
fn position_bindings(
    c: &Claim,
    (env, loops, sample): (&Env, &[ast::Range], &BTreeMap<String, f64>),
) -> Vec<Bind> {
    use crate::claims::scalar::{self, Scope};
    let used: Vec<&ast::Range> = loops
        .iter()
        .filter(|r| crate::claims::mentions(&c.text, &r.var.name))
        .collect();
    if used.is_empty() {
        return Vec::new();
    }
    let mut at = sample.clone();
    if let Ok(sets) = super::givens::given_values(c, env) {
        for (name, e) in sets {
            if let Ok(v) = e.eval_f64(&at) {
                at.insert(name, v);
            }
        }
    }
    let value = |e: &ast::Expr| -> Option<i64> {
        let x = scalar::lower(e, &Scope::default())
            .ok()?
            .eval_f64(&at)
            .ok()?;
        x.is_finite().then_some(x.round() as i64)
    };
    let mut binds: Vec<Bind> = vec![vec![]];
    for r in used {
        let (Some(mut lo), Some(hi)) = (value(&r.from), value(&r.to)) else {
            return Vec::new();
        };
        // A loop variable named like an index (`t` of `size T`): its positions from the
        // dimension's first (snd41, issue #14 p10; `decide` reads them all).
        if env.index_size(&r.var.name).is_some() {
            lo = lo.min(0);
        }
        let hi = hi + POSITION_MARGIN;
        if hi < lo || (hi - lo + 1) as usize * binds.len() > MAX_POSITION_BINDINGS {
            return Vec::new();
        }
        binds = each_value(binds, &r.var.name, lo, hi);
    }
    binds
}

/// Every binding of `binds` extended by each value `lo..=hi` of the variable `name`.
pub(super) fn each_value(binds: Vec<Bind>, name: &str, lo: i64, hi: i64) -> Vec<Bind> {
    binds
        .into_iter()
        .flat_map(|b| {
            (lo..=hi).map(move |v| {
                let mut b = b.clone();
                b.push((name.to_string(), v));
                b
            })
        })
        .collect()
}

/// The family key of a stored member (`L_{3}` → `L`).
fn family(member: &str) -> &str {
    member.split_once("_{").map_or(member, |(k, _)| k)
}

/// The class dimensions recorded for a member's patterns ([`Targets`]).
pub(super) fn classes_for<'t>(
    targets: &'t Targets,
    member: &str,
    grad: bool,
) -> Option<&'t BTreeMap<Pattern, BTreeSet<Vec<usize>>>> {
    let by_name = &targets.classes[grad as usize];
    by_name.get(family(member)).or_else(|| by_name.get(member))
}

pub(super) fn patterns_for<'t>(
    targets: &'t Targets,
    member: &str,
    grad: bool,
) -> Option<&'t BTreeSet<Pattern>> {
    let by_name = &targets.patterns[grad as usize];
    by_name.get(family(member)).or_else(|| by_name.get(member))
}
