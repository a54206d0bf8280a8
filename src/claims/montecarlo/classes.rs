//! The position classes the index structure of a model creates (probe32/a w23f, w34e,
//! w23d): whether the elements a Monte Carlo pool holds are identically distributed by the
//! structure of the program, or may differ by position.
//!
//! Every dimension of every tensor is a *slot*; every index variable of one statement is a
//! node; an access `x[b, k]` joins the slot (x, 2) with the node k. A group of joined slots
//! is a set of positions that a permutation (or, where some access shifts, a translation)
//! acting on every slot of the group at once maps to positions of the same distribution,
//! as long as the group is *plain*: every access at its slots reads one index variable with
//! coefficient 1 (plus a constant shift, other groups' variables at any coefficient), no
//! variable of the group is read as a value (`[k == 0]`, `c^k`), no access is at a fixed
//! position, a lookup or a stride or reflection (`x[b, 2k+1]`, `x[b, -k]`), and no
//! distribution reads the group's indices. Then the elements of one tensor along one slot of
//! a plain group are exchangeable. Two free slots of the pooled tensor in one group
//! (`y[i,j] = x[i,j] + x[j,i]`) have classes by the equality or difference of their
//! positions (the diagonal), which the trials' comparison of bands looks for but cannot
//! rule out; a pool over them, or over a slot of a group that is not plain, holds position
//! classes the structure does not name, and its average is no element's: it confirms no
//! claim.

use crate::check::Env;
use crate::syntax::ast::{Expr, IndexExpr, Init, Item, ItemKind, Ref};
use std::collections::{BTreeMap, BTreeSet};

/// A node: a slot (tensor key, dimension) or an index variable of one statement
/// (statement number, name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Slot(String, usize),
    Var(usize, String),
}

#[derive(Default)]
struct Groups {
    parent: BTreeMap<Node, Node>,
    /// Why a node's group is not plain (kept at the node, read at its root).
    broken: Vec<(Node, String)>,
    /// Slots read somewhere at a window (`x[b, t + DT - 1]`, `x[b, 2k + 1]`): under a rule
    /// other than `circular` their groups may have border classes.
    shifted: Vec<Node>,
    /// Slots read somewhere at an index plus a constant (`x[b, k + 1]`), which no rule
    /// wraps (docs/moments.md): their groups may have border classes under every rule.
    offset: Vec<Node>,
}

impl Groups {
    fn find(&mut self, n: &Node) -> Node {
        let mut cur = n.clone();
        while let Some(p) = self.parent.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }

    fn join(&mut self, a: &Node, b: &Node) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent.insert(ra, rb);
        }
    }

    fn node(&mut self, n: Node) -> Node {
        self.parent.entry(n.clone()).or_insert_with(|| n.clone());
        n
    }
}

/// The program's statements and declarations read for their accesses.
struct Reader<'e> {
    env: &'e Env,
    /// The tensors the pooled one depends on (itself included): only their statements
    /// and declarations are read (a reflection elsewhere in the file changes nothing of it).
    cone: BTreeSet<String>,
    g: Groups,
    /// Accesses with more than one variable: (slot, the variables with coefficient 1,
    /// every variable), joined once every other access is.
    others: Vec<(Node, Vec<Node>, Vec<Node>)>,
}

impl Reader<'_> {
    fn access(&mut self, st: usize, r: &Ref, text: &dyn Fn() -> String) {
        let key = self.env.key_of(&r.name);
        for (d, ix) in r.indices.iter().flatten().enumerate() {
            let slot = self.g.node(Node::Slot(key.clone(), d));
            match ix {
                IndexExpr::Lookup(inner) => {
                    self.g.broken.push((
                        slot,
                        format!("`{}` is read at a looked-up position", text()),
                    ));
                    self.access(st, inner, text);
                }
                IndexExpr::Affine(a) => {
                    let vars: Vec<(i64, String)> = a
                        .terms
                        .iter()
                        .flat_map(|t| t.factors.iter().map(move |f| (t.coef, f.name.clone())))
                        .collect();
                    if a.terms.iter().any(|t| t.factors.len() > 1) {
                        self.g.broken.push((
                            slot.clone(),
                            format!("`{}` reads a product of indices", text()),
                        ));
                    }
                    let ones: Vec<Node> = vars
                        .iter()
                        .filter(|(c, _)| *c == 1)
                        .map(|(_, n)| self.g.node(Node::Var(st, n.clone())))
                        .collect();
                    let all: Vec<Node> = vars
                        .iter()
                        .map(|(_, n)| self.g.node(Node::Var(st, n.clone())))
                        .collect();
                    if all.len() > 1 {
                        self.g.shifted.push(slot.clone());
                    } else if a.constant != 0 {
                        self.g.offset.push(slot.clone());
                    }
                    match ones.len() {
                        1 if all.len() == 1 => self.g.join(&slot, &ones[0]),
                        0 => {
                            let why = if vars.is_empty() {
                                format!("`{}` reads a fixed position", text())
                            } else {
                                format!("`{}` reads a strided or reflected position", text())
                            };
                            for v in &all {
                                self.g.join(&slot, v);
                            }
                            self.g.broken.push((slot, why));
                        }
                        // Several variables (`h[b, t + 2 DT, C']`): which is the slot's own
                        // is decided once the other accesses are joined.
                        _ => self.others.push((slot, ones, all)),
                    }
                }
            }
        }
    }

    /// The accesses of an expression, and the index variables it reads as values.
    fn expr(&mut self, st: usize, e: &Expr, vars: &[String], text: &dyn Fn() -> String) {
        crate::syntax::visit::walk_refs(e, &mut |r| {
            // The index's whole name, primes included (`i'` in `[i == i']`: session 33, the
            // primed index was not seen as read, and its dimension was taken as plain).
            let full = format!("{}{}", r.name.base, "'".repeat(r.name.primes as usize));
            if r.indices.is_none() && r.name.sub.is_empty() && vars.contains(&full) {
                self.g.broken.push((
                    Node::Var(st, full.clone()),
                    format!("`{}` reads the index `{full}` as a value", text()),
                ));
            }
            self.access(st, r, text);
        });
    }

    fn items(&mut self, items: &[Item], loops: &mut Vec<String>, next: &mut usize) {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => {
                    let st = *next;
                    *next += 1;
                    if !self.cone.contains(&self.env.key_of(&eq.lhs.name)) {
                        continue;
                    }
                    let mut vars = loops.clone();
                    let mut collect = |r: &Ref| {
                        for ix in r.indices.iter().flatten() {
                            if let IndexExpr::Affine(a) = ix {
                                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                                    if !vars.contains(&f.name) {
                                        vars.push(f.name.clone());
                                    }
                                }
                            }
                        }
                    };
                    collect(&eq.lhs);
                    crate::syntax::visit::walk_refs(&eq.rhs, &mut |r| collect(r));
                    crate::syntax::visit::sum_ids(&eq.rhs, &mut vars);
                    let text = || crate::syntax::printer::print_ref(&eq.lhs);
                    self.access(st, &eq.lhs, &text);
                    self.expr(st, &eq.rhs, &vars, &text);
                }
                ItemKind::Decl(d) => {
                    let st = *next;
                    *next += 1;
                    if !self.cone.contains(&self.env.key_of(&d.target.name)) {
                        continue;
                    }
                    let text = || crate::syntax::printer::print_ref(&d.target);
                    // The declared shape: a size or an index is a whole dimension.
                    let key = self.env.key_of(&d.target.name);
                    let mut vars = Vec::new();
                    for (k, ix) in d.target.indices.iter().flatten().enumerate() {
                        let slot = self.g.node(Node::Slot(key.clone(), k));
                        match ix.plain_var() {
                            // A lower-case index is the name the distribution's arguments
                            // read the position by; a size is a whole dimension of its own
                            // (`input x[N, N]` draws every element alike).
                            Some(v)
                                if !crate::syntax::ast::is_summed_index(&v.name)
                                    && !self.env.sizes.contains_key(&v.name) =>
                            {
                                let n = self.g.node(Node::Var(st, v.name.clone()));
                                self.g.join(&slot, &n);
                                vars.push(v.name.clone());
                            }
                            Some(_) => {}
                            None => self.g.broken.push((
                                slot,
                                format!("`{}` is declared at a fixed position", text()),
                            )),
                        }
                    }
                    let args: Vec<&Expr> = match &d.init {
                        Some(Init::Dist(c)) => c.args.iter().collect(),
                        Some(Init::Value(e)) => vec![e],
                        None => vec![],
                    };
                    for a in args {
                        self.expr(st, a, &vars, &text);
                    }
                }
                ItemKind::Loop(l) => {
                    loops.push(l.range.var.name.clone());
                    self.items(&l.body, loops, next);
                    loops.pop();
                }
                ItemKind::ForIndices(f) => {
                    let n = loops.len();
                    loops.extend(f.indices.iter().map(|i| i.name.clone()));
                    self.items(&f.body, loops, next);
                    loops.truncate(n);
                }
                _ => {}
            }
        }
    }
}

/// The groups of a target's slots: for each dimension its group's root, why the group
/// is not plain (if it is not), and whether some access in it is shifted.
struct Slots {
    /// Per dimension of the target: (root, why not plain, read at a window, read at an
    /// index plus a constant).
    dims: Vec<(Node, Option<String>, bool, bool)>,
}

fn analyse(items: &[&[Item]], env: &Env, target: &Ref) -> Option<Slots> {
    let key = env.key_of(&target.name);
    let rank = env.tensors.get(&key)?.rank;
    // The cone: the tensors the pooled one reads, through statements and distributions.
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for part in items {
        crate::num::statement_reads(env, part, &mut deps);
        decl_reads(env, part, &mut deps);
    }
    let mut cone: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![key.clone()];
    while let Some(k) = stack.pop() {
        if cone.insert(k.clone()) {
            stack.extend(deps.get(&k).into_iter().flatten().cloned());
        }
    }
    let mut r = Reader {
        env,
        cone,
        g: Groups::default(),
        others: Vec::new(),
    };
    let mut next = 0;
    for part in items {
        r.items(part, &mut Vec::new(), &mut next);
    }
    // An access with several variables (`h[b, t + 2 DT, C']`): its own is the one with
    // coefficient 1 already in the slot's group (else the first with coefficient 1); any
    // other variable in that group reads the group at a sum of its positions.
    for (slot, ones, all) in std::mem::take(&mut r.others) {
        let root = r.g.find(&slot);
        let own = ones
            .iter()
            .find(|v| r.g.find(v) == root)
            .or(ones.first())
            .cloned();
        let Some(own) = own else { continue };
        r.g.join(&slot, &own);
        let root = r.g.find(&slot);
        for v in all.iter().filter(|v| **v != own) {
            if r.g.find(v) == root {
                r.g.broken.push((
                    slot.clone(),
                    "an access adds two indices of one group".into(),
                ));
            }
        }
    }
    let broken: Vec<(Node, String)> = std::mem::take(&mut r.g.broken)
        .into_iter()
        .map(|(n, why)| (r.g.find(&n), why))
        .collect();
    let shifted: Vec<Node> = std::mem::take(&mut r.g.shifted)
        .into_iter()
        .map(|n| r.g.find(&n))
        .collect();
    let offset: Vec<Node> = std::mem::take(&mut r.g.offset)
        .into_iter()
        .map(|n| r.g.find(&n))
        .collect();
    let dims = (0..rank)
        .map(|d| {
            let root = r.g.find(&Node::Slot(key.clone(), d));
            let why = broken
                .iter()
                .find(|(n, _)| *n == root)
                .map(|(_, w)| w.clone());
            let sh = shifted.contains(&root);
            let off = offset.contains(&root);
            (root, why, sh, off)
        })
        .collect();
    Some(Slots { dims })
}

/// Why the elements of `target` that a pool holds (its positions that are not fixed:
/// `pattern[d]` is `None`, or past the pattern's end) may differ in distribution by
/// position, by the structure of the program (`items`, forward and backward); `None`
/// when they are exchangeable by it.
pub(super) fn unnamed_classes(
    items: &[&[Item]],
    env: &Env,
    target: &Ref,
    pattern: &[Option<i64>],
) -> Option<String> {
    let slots = analyse(items, env, target)?;
    let mut seen: Vec<(&Node, usize)> = Vec::new();
    let name = crate::syntax::printer::print_name(&target.name);
    for (d, (root, why, _, _)) in slots.dims.iter().enumerate() {
        if pattern.get(d).copied().flatten().is_some() {
            continue;
        }
        if let Some(why) = why {
            return Some(format!(
                "the elements of `{name}` along its dimension {} may differ by position ({why})",
                d + 1
            ));
        }
        if let Some((_, e)) = seen.iter().find(|(n, _)| *n == root) {
            return Some(format!(
                "the elements of `{name}` may differ by how their positions along its dimensions {} and {} compare (the program reads them at each other's positions: the diagonal and the bands beside it are classes of their own)",
                e + 1,
                d + 1
            ));
        }
        seen.push((root, d));
    }
    None
}

/// The free dimensions of `target` (under `pattern`) along which its elements may fall
/// into position classes (session 33): a dimension whose group is not plain, that shares
/// its group with another dimension of the target (fixed or free), whose group is read
/// somewhere at an index plus a constant (`x[b, k + 1]`, never wrapped), or (under a rule
/// other than `circular`) at a window (`x[b, t + DT - 1]`), where elements at the border
/// read padding. Every other free dimension is in a plain group of
/// its own, with no border: permuting (or, under `circular`, translating) its positions
/// maps the program's joint distribution to itself and fixes the positions along the
/// returned dimensions, so the elements that agree on the returned dimensions share one
/// distribution, and each such set (a *class*) can be compared with a claim on its own.
/// `None` when the target cannot be analysed.
pub(super) fn class_dims(
    items: &[&[Item]],
    env: &Env,
    target: &Ref,
    pattern: &[Option<i64>],
    circular: bool,
) -> Option<Vec<usize>> {
    let slots = analyse(items, env, target)?;
    let mut out = Vec::new();
    for (d, (root, why, shifted, offset)) in slots.dims.iter().enumerate() {
        if pattern.get(d).copied().flatten().is_some() {
            continue;
        }
        let shares = slots
            .dims
            .iter()
            .enumerate()
            .any(|(e, (r, _, _, _))| e != d && r == root);
        if why.is_some() || shares || *offset || (*shifted && !circular) {
            out.push(d);
        }
    }
    Some(out)
}

/// For every declared tensor, the tensors its distribution's arguments read.
fn decl_reads(env: &Env, items: &[Item], deps: &mut BTreeMap<String, BTreeSet<String>>) {
    for item in items {
        if let ItemKind::Decl(d) = &item.kind {
            if let Some(init) = &d.init {
                let own = env.key_of(&d.target.name);
                let reads = crate::num::tensor_reads(env, init, &own);
                deps.entry(own).or_default().extend(reads);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole tensor `target` (no indices, not a gradient).
    fn whole(target: &str) -> Ref {
        Ref {
            name: crate::syntax::ast::Name {
                base: target.into(),
                primes: 0,
                sup: vec![],
                sub: vec![],
                span: Default::default(),
            },
            grad: false,
            indices: None,
            span: Default::default(),
        }
    }

    /// The reason for `Var(target)` (a whole tensor) in `src`, or `None`.
    fn why(src: &str, target: &str) -> Option<String> {
        let p = crate::syntax::parser::parse(src).program;
        let (env, _) = crate::check::check(&p);
        unnamed_classes(&[&p.items], &env, &whole(target), &[])
    }

    /// Each form that gives some positions a distribution of their own is named; the
    /// forms that keep every element alike are not.
    #[test]
    fn classes_are_named_for_strides_reflections_transposes_and_positions_read_as_values() {
        let head = "size B, K, N\nindex k : K\nindex i, j : N\nboundary circular\n\
                    input x[B, K] ~ normal(1, 1)\ninput z[B, K] ~ normal(1, 1)\n\
                    input w[N, N] ~ normal(1, 1)\n";
        let named = [
            "y[b,k] = x[b,k] + x[b,2k+1]\n",
            "y[b,k] = x[b,k] + x[b,-k]\n",
            "y[b,k] = x[b,k] (1 + [k == 0])\n",
            "y[b,k] = x[b,k] + x[b,0]\n",
            "c[k] = 1 + [k == 0]\ny[b,k] = x[b,k] c[k]\n",
            "y[i,j] = w[i,j] + w[j,i]\n",
        ];
        for body in named {
            let src = format!("{head}{body}");
            assert!(why(&src, "y").is_some(), "no class named in {body}");
        }
        let alike = [
            "y[b,k] = x[b,k] + z[b,k]\n",
            "y[b,k] = x[b,k] + x[b,k+1]\n",
            "y[i,j] = w[i,j] + w[i,j]\n",
            "y[b,k] = x[b,k] sum_{k'}(z[b,k'])\n",
            "y[b,k] = x[b,k] + z[b,k]\nu[b,k] = x[b,k] + x[b,-k]\n",
        ];
        for body in alike {
            let src = format!("{head}{body}");
            assert_eq!(why(&src, "y"), None, "a class named in {body}");
        }
        // A square leaf read in a recurrence (problems/worked_003.tq: `W_k[n,n]`, a size
        // named in lower case): its own elements are alike.
        let src = "size n\nindex i, j : n\nparam q[n, n] ~ normal(0, 1)\n\
                   input h[n] ~ normal(0, 1)\nz[j] = q[j,I] h[I]\nu[j] = q[j,I] z[I]\n";
        assert_eq!(why(src, "q"), None);
    }

    /// The class dimensions: a border under zero padding, a stride or a position read as
    /// a value names its dimension; a plain batch dimension, or a shift under circular
    /// padding, is not one.
    #[test]
    fn class_dimensions_are_the_bordered_strided_and_valued_ones() {
        let dims = |src: &str, target: &str, circular: bool| {
            let p = crate::syntax::parser::parse(src).program;
            let (env, _) = crate::check::check(&p);
            class_dims(&[&p.items], &env, &whole(target), &[], circular)
        };
        let head = "size B, T, D\nindex dt : D\ninput x[B, T] ~ normal(0, 1)\n\
                    param W[D] ~ normal(0, 1)\n";
        let conv = format!("{head}y[b,t] = W[DT] x[b, t + DT - 1]\n");
        assert_eq!(dims(&conv, "y", false), Some(vec![1]));
        assert_eq!(dims(&conv, "y", true), Some(vec![]));
        let mask = format!("{head}y[b,t] = x[b,t] (1 + [t == 0])\n");
        assert_eq!(dims(&mask, "y", true), Some(vec![1]));
        let next = format!("{head}y[b,t] = x[b,t] + x[b,t+1]\n");
        assert_eq!(dims(&next, "y", true), Some(vec![1]));
        let plain = format!("{head}y[b,t] = 2 x[b,t]\n");
        assert_eq!(dims(&plain, "y", false), Some(vec![]));
        let stride = "size B, K\nsize X = 2 K\ninput x[B, X] ~ normal(0, 1)\n\
                      y[b,k] = x[b,2k] + x[b,2k+1]\n";
        assert_eq!(dims(stride, "y", true), Some(vec![1]));
        let identity = "size B, I\nsymbol c\ninput x[B, I, I] ~ normal(0, 1)\n\
                        y[b,i,i'] = x[b,i,i'] + c [i == i']\n";
        assert_eq!(dims(identity, "y", true), Some(vec![1, 2]));
        let square = "size N\nindex i, j : N\ninput w[N, N] ~ normal(0, 1)\n\
                      y[i,j] = w[i,j] + w[j,i]\n";
        assert_eq!(dims(square, "y", true), Some(vec![0, 1]));
    }
}
