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

mod gather;

pub use gather::{gather_form, Gathered};

use crate::check::Env;
use crate::sym::func::D;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    if seeds.is_empty() {
        // A scalar program or a model with a scalar loss: the last scalar defined.
        if let Some(loss) = last_scalar_definition(&program.items) {
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
    // Count contributions per gradient tensor first (to choose `=` or `+=`).
    let mut probe = d.items(&program.items, &[]);
    d.counts = BTreeMap::new();
    count_targets(&probe, &mut d.counts);
    probe.clear();
    let mut items = Vec::new();
    // A scalar loss starts the backward pass at 1.
    if env.grad_seeds.is_empty() {
        if let Some(loss) = seeds.first() {
            items.push(item(ItemKind::Equation(Equation {
                lhs: scalar_ref(loss, true),
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

/// The loss: the last scalar defined (at the top level or accumulated in a loop).
fn last_scalar_definition(items: &[Item]) -> Option<String> {
    let mut last = None;
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if eq.lhs.indices.is_none() && eq.lhs.name.sub.is_empty() => {
                last = Some(eq.lhs.name.base.clone());
            }
            ItemKind::Loop(l) => {
                if let Some(name) = last_scalar_definition(&l.body) {
                    last = Some(name);
                }
            }
            _ => {}
        }
    }
    last
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

struct Deriver<'e> {
    env: &'e Env,
    /// Keys of tensors (and scalars) whose gradient is needed.
    needs: BTreeSet<String>,
    notes: Vec<String>,
    /// How many contributions each gradient tensor receives.
    counts: BTreeMap<String, usize>,
    /// Variables of the enclosing `for v in a..b` loops (not loop indices of statements).
    bound: Vec<String>,
    /// The scalar loss whose gradient is 1, if the backward pass starts from one.
    unit_seed: Option<String>,
    /// Softmax outputs read only by the log-loss (`Loss += -ln(P[t, w[t]])`): their
    /// gradient is folded into the softmax input's (`P - onehot`), keyed by the
    /// softmax output with the lookup that selects the target class.
    folded: BTreeMap<String, IndexExpr>,
}

/// The key of a name without family subscripts (as the checker stores families).
fn family_key(n: &Name) -> String {
    let mut s = n.base.clone();
    for _ in 0..n.primes {
        s.push('\'');
    }
    if !n.sup.is_empty() {
        s.push_str(&format!("^{{{}}}", n.sup.join(",")));
    }
    s
}

impl Deriver<'_> {
    fn key(&self, n: &Name) -> String {
        let fk = family_key(n);
        if self
            .env
            .tensors
            .get(&fk)
            .is_some_and(|t| t.family_arity > 0)
        {
            fk
        } else {
            crate::syntax::printer::print_name(n)
        }
    }

    /// Whether a reference is to something that carries a gradient.
    fn differentiable(&self, r: &Ref) -> bool {
        let key = self.key(&r.name);
        if let Some(t) = self.env.tensors.get(&key) {
            return !t.is_int;
        }
        self.env.scalars.contains_key(&key)
    }

    fn mark_needs(&mut self, items: &[Item]) {
        // Last statement first: a statement reads what earlier ones define, so straight-line
        // code reaches the fixed point in one pass (first-to-last took one pass per
        // statement of a chain: quadratic).
        for it in items.iter().rev() {
            match &it.kind {
                ItemKind::Equation(eq) if self.needs.contains(&self.key(&eq.lhs.name)) => {
                    let mut found = Vec::new();
                    crate::check::walk_refs(&eq.rhs, &mut |r| found.push(r.clone()));
                    for r in found {
                        if self.differentiable(&r) {
                            self.needs.insert(self.key(&r.name));
                        }
                    }
                }
                ItemKind::ForIndices(f) => self.mark_needs(&f.body),
                ItemKind::Loop(l) => self.mark_needs(&l.body),
                _ => {}
            }
        }
    }

    /// The backward items of a block, in reverse order.
    fn items(&mut self, items: &[Item], loop_indices: &[Ident]) -> Vec<Item> {
        let mut out = Vec::new();
        for it in items.iter().rev() {
            match &it.kind {
                ItemKind::Equation(eq) => {
                    for c in self.equation(eq, loop_indices) {
                        out.push(self.contribution_item(c));
                    }
                }
                ItemKind::ForIndices(f) => {
                    let mut idx = loop_indices.to_vec();
                    idx.extend(f.indices.iter().cloned());
                    out.extend(self.items(&f.body, &idx));
                }
                ItemKind::Loop(l) => {
                    self.bound.push(l.range.var.name.clone());
                    let body = self.items(&l.body, loop_indices);
                    self.bound.pop();
                    if !body.is_empty() {
                        out.push(item(ItemKind::Loop(Loop {
                            range: l.range.clone(),
                            body,
                            reverse: !l.reverse,
                        })));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn contribution_item(&self, c: Contribution) -> Item {
        let key = family_key(&c.target.name);
        let single = self.counts.get(&key).copied().unwrap_or(0) == 1;
        let target_vars = plain_vars(&c.target).map(|v| {
            v.into_iter()
                .filter(|n| !self.bound.contains(n))
                .collect::<Vec<_>>()
        });
        // A tensor written once per iteration of every enclosing loop.
        let per_iteration = self.bound.iter().all(|b| mentions(&c.target, b));
        let assign = single
            && per_iteration
            && target_vars.as_ref().is_some_and(|v| {
                let set: BTreeSet<&String> = v.iter().collect();
                set.len() == v.len() && set.len() == c.indices.len()
            });
        let (op, rhs) = match (assign, c.op) {
            (true, AssignOp::AddAssign) => (AssignOp::Set, c.rhs),
            (_, op) => (op, c.rhs),
        };
        let eq = Equation {
            lhs: c.target,
            op,
            rhs,
            span: Span::default(),
        };
        if c.indices.is_empty() {
            return item(ItemKind::Equation(eq));
        }
        item(ItemKind::ForIndices(ForIndices {
            indices: c
                .indices
                .iter()
                .map(|n| Ident {
                    name: n.clone(),
                    span: Span::default(),
                })
                .collect(),
            body: vec![item(ItemKind::Equation(eq))],
            inline: true,
        }))
    }

    /// The contributions of one forward equation.
    fn equation(&mut self, eq: &Equation, loop_indices: &[Ident]) -> Vec<Contribution> {
        let lhs_key = self.key(&eq.lhs.name);
        if !self.needs.contains(&lhs_key) {
            return vec![];
        }
        let mut lhs_grad = eq.lhs.clone();
        lhs_grad.grad = true;
        // Loop indices: the `for` list, or the left-hand indices.
        let mut base_indices: Vec<String> = loop_indices.iter().map(|i| i.name.clone()).collect();
        if base_indices.is_empty() {
            for ix in eq.lhs.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if !is_capital(&v) && !base_indices.contains(&v) && self.is_index(&v) {
                        base_indices.push(v);
                    }
                }
            }
        }
        let sign_of_op = match eq.op {
            AssignOp::SubAssign => -1,
            _ => 1,
        };
        if let Expr::Softmax(w, arg, _) = &eq.rhs {
            return self.softmax(eq, w, arg, base_indices);
        }
        let mut occurrences = Vec::new();
        collect_occurrences(&eq.rhs, &mut occurrences);
        // Which occurrences each node holds, numbered once for the whole equation.
        let mut spans = HashMap::new();
        number_occurrences(&eq.rhs, &mut 0, &mut spans);
        let has_sums = has_explicit_sum(&eq.rhs);
        // Backward statements run in reverse order of the forward reads, as the seeds list them.
        let mut numbered: Vec<(usize, &Ref)> = occurrences.into_iter().enumerate().collect();
        numbered.reverse();
        let mut out = Vec::new();
        for (number, occ) in numbered {
            if !self.differentiable(occ) {
                continue;
            }
            if self.unit_seed.as_deref() == Some(lhs_key.as_str())
                && self.folded.contains_key(&self.key(&occ.name))
            {
                continue;
            }
            let ctx = DerivCtx {
                number,
                spans: &spans,
                lhs: &eq.lhs,
                whole: &eq.rhs,
            };
            let Some(local) = ctx.d(&eq.rhs) else {
                continue;
            };
            // The capitals summed in the occurrence's term become loop indices.
            let mut capitals: Vec<String> = Vec::new();
            for ix in occ.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if is_capital(&v) && !capitals.contains(&v) {
                        capitals.push(v);
                    }
                }
            }
            // Each summed capital becomes a fresh lower-case loop index (`I` → `i`, or `i'`
            // when `i` is already free, as in the seeds' `W[i,I] h[I]`).
            let mut taken: BTreeSet<String> = base_indices.iter().cloned().collect();
            let mut rename: BTreeMap<String, String> = BTreeMap::new();
            for c in &capitals {
                let mut fresh = c.to_lowercase();
                while taken.contains(&fresh) {
                    fresh.push('\'');
                }
                taken.insert(fresh.clone());
                rename.insert(c.clone(), fresh);
            }
            let mut target = occ.clone();
            target.grad = true;
            rename_ref(&mut target, &rename);
            let local = rename_expr(&local, &rename);
            let mut indices = base_indices.clone();
            let mut sums = Vec::new();
            if has_sums {
                enclosing_sums(&eq.rhs, occ, &mut sums);
            }
            for s in sums {
                if !indices.contains(&s) {
                    indices.push(s);
                }
            }
            for c in &capitals {
                let low = rename[c].clone();
                if !indices.contains(&low) {
                    indices.push(low);
                }
            }
            for ix in target.indices.iter().flatten() {
                for v in index_vars(ix) {
                    if !is_capital(&v) && !indices.contains(&v) && self.is_index(&v) {
                        indices.push(v);
                    }
                }
            }
            let (sign, local) = split_sign(simplify(local));
            // The gradient of a scalar loss is 1: it is left out of the products.
            let unit = self.unit_seed.as_deref() == Some(lhs_key.as_str());
            let rhs = match local {
                None => Expr::Ref(lhs_grad.clone()),
                Some(f) if unit => {
                    let mut factors = Vec::new();
                    flatten_product(f, &mut factors);
                    let mut it = factors.into_iter();
                    let first = it.next().unwrap_or_else(|| num("1"));
                    it.fold(first, jux)
                }
                Some(f) => {
                    let mut factors = vec![Expr::Ref(lhs_grad.clone())];
                    flatten_product(f, &mut factors);
                    let mut it = factors.into_iter();
                    let first = it.next().unwrap_or_else(|| num("1"));
                    it.fold(first, jux)
                }
            };
            let op = if sign * sign_of_op < 0 {
                AssignOp::SubAssign
            } else {
                AssignOp::AddAssign
            };
            out.push(Contribution {
                target,
                op,
                rhs,
                indices,
            });
        }
        out
    }

    /// `P[..,w,..] = softmax_{w}(s[..,w,..])`: `s.grad += P.grad P - P Σ_W P.grad P`, or
    /// with the log-loss folded, `s.grad += P - [w == target]`.
    fn softmax(
        &mut self,
        eq: &Equation,
        w: &Ident,
        arg: &Expr,
        mut indices: Vec<String>,
    ) -> Vec<Contribution> {
        let Expr::Ref(s) = arg else {
            self.notes.push(format!(
                "softmax of an expression (not a single tensor) in `{}` is not differentiated yet",
                crate::syntax::printer::print_ref(&eq.lhs)
            ));
            return vec![];
        };
        if !self.differentiable(s) {
            return vec![];
        }
        if !indices.contains(&w.name) {
            indices.push(w.name.clone());
        }
        let mut target = s.clone();
        target.grad = true;
        let p = Expr::Ref(eq.lhs.clone());
        if let Some(class) = self.folded.get(&self.key(&eq.lhs.name)).cloned() {
            let onehot = Expr::Iverson(
                Box::new(Expr::Rel(
                    RelOp::Eq,
                    Box::new(Expr::Ref(scalar_ref(&w.name, false))),
                    Box::new(match class {
                        IndexExpr::Lookup(r) => Expr::Ref(*r),
                        IndexExpr::Affine(a) => Expr::Ref(Ref {
                            indices: Some(vec![IndexExpr::Affine(a)]),
                            ..scalar_ref(&w.name, false)
                        }),
                    }),
                    Span::default(),
                )),
                Span::default(),
            );
            return vec![Contribution {
                target,
                op: AssignOp::AddAssign,
                rhs: Expr::Binary(BinOp::Sub, Box::new(p), Box::new(onehot), Span::default()),
                indices,
            }];
        }
        let mut pg = eq.lhs.clone();
        pg.grad = true;
        let cap: BTreeMap<String, String> = [(w.name.clone(), w.name.to_uppercase())].into();
        let mut p_cap = eq.lhs.clone();
        rename_ref(&mut p_cap, &cap);
        let mut pg_cap = pg.clone();
        rename_ref(&mut pg_cap, &cap);
        vec![
            Contribution {
                target: target.clone(),
                op: AssignOp::AddAssign,
                rhs: jux(Expr::Ref(pg), p.clone()),
                indices: indices.clone(),
            },
            Contribution {
                target,
                op: AssignOp::SubAssign,
                rhs: jux(jux(p, Expr::Ref(pg_cap)), Expr::Ref(p_cap)),
                indices,
            },
        ]
    }

    fn is_index(&self, name: &str) -> bool {
        if self.bound.iter().any(|b| b == name) {
            return false;
        }
        let base = name.trim_end_matches('\'');
        self.env.indices.contains_key(name)
            || self.env.indices.contains_key(base)
            || self.env.sizes.contains_key(&base.to_uppercase())
    }
}

/// Softmax outputs whose only reader is `loss += -ln(P[.., lookup, ..])` (or
/// `loss -= ln(...)`): the output's key and the index that selects the class.
fn log_loss_softmax(items: &[Item], loss: &str, env: &Env) -> BTreeMap<String, IndexExpr> {
    let mut softmax: BTreeMap<String, usize> = BTreeMap::new();
    let mut eqs = Vec::new();
    fn flat<'a>(items: &'a [Item], out: &mut Vec<&'a Equation>) {
        for it in items {
            match &it.kind {
                ItemKind::Equation(e) => out.push(e),
                ItemKind::Loop(l) => flat(&l.body, out),
                ItemKind::ForIndices(f) => flat(&f.body, out),
                _ => {}
            }
        }
    }
    flat(items, &mut eqs);
    for e in &eqs {
        if let Expr::Softmax(w, _, _) = &e.rhs {
            let pos = e.lhs.indices.iter().flatten().position(|ix| {
                matches!(ix, IndexExpr::Affine(a) if a.terms.len() == 1 && a.terms[0].factors.len() == 1 && a.terms[0].factors[0].name == w.name)
            });
            if let Some(pos) = pos {
                softmax.insert(env.key_of(&e.lhs.name), pos);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (p, pos) in softmax {
        let mut readers = 0;
        let mut class = None;
        for e in &eqs {
            let mut refs = Vec::new();
            crate::check::walk_refs(&e.rhs, &mut |r| {
                if env.key_of(&r.name) == p {
                    refs.push(r.clone())
                }
            });
            if refs.is_empty() {
                continue;
            }
            readers += refs.len();
            let is_loss =
                e.lhs.indices.is_none() && e.lhs.name.base == loss && e.lhs.name.sub.is_empty();
            let log_read = match (&e.op, &e.rhs) {
                (AssignOp::AddAssign, Expr::Unary(UnOp::Neg, x, _)) => log_arg(x),
                (AssignOp::SubAssign, x) => log_arg(x),
                _ => None,
            };
            if let (true, Some(r)) = (is_loss, log_read) {
                if env.key_of(&r.name) == p {
                    class = r.indices.as_ref().and_then(|ix| ix.get(pos)).cloned();
                }
            }
        }
        if let (1, Some(c)) = (readers, class) {
            out.insert(p, c);
        }
    }
    out
}

fn log_arg(e: &Expr) -> Option<&Ref> {
    match e {
        Expr::Call(c) if (c.func.name == "ln" || c.func.name == "log") && c.args.len() == 1 => {
            match &c.args[0] {
                Expr::Ref(r) => Some(r),
                _ => None,
            }
        }
        _ => None,
    }
}

fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
    }
}

fn num(s: &str) -> Expr {
    Expr::Num(s.to_string(), Span::default())
}

fn scalar_ref(name: &str, grad: bool) -> Ref {
    Ref {
        name: Name {
            base: name.to_string(),
            primes: 0,
            sup: vec![],
            sub: vec![],
            span: Span::default(),
        },
        grad,
        indices: None,
        span: Span::default(),
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary(op, Box::new(l), Box::new(r), Span::default())
}

fn jux(l: Expr, r: Expr) -> Expr {
    bin(BinOp::Jux, l, r)
}

fn neg(e: Expr) -> Expr {
    Expr::Unary(UnOp::Neg, Box::new(e), Span::default())
}

fn call(f: &str, arg: Expr) -> Expr {
    Expr::Call(Call {
        func: Ident {
            name: f.to_string(),
            span: Span::default(),
        },
        args: vec![arg],
        brackets: false,
        span: Span::default(),
    })
}

fn is_capital(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn index_vars(ix: &IndexExpr) -> Vec<String> {
    match ix {
        IndexExpr::Affine(a) => a
            .terms
            .iter()
            .flat_map(|t| t.factors.iter().map(|f| f.name.clone()))
            .collect(),
        IndexExpr::Lookup(r) => r.indices.iter().flatten().flat_map(index_vars).collect(),
    }
}

/// The index names of a reference whose positions are all plain single indices.
fn plain_vars(r: &Ref) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for ix in r.indices.iter().flatten() {
        match ix {
            IndexExpr::Affine(a)
                if a.terms.len() == 1
                    && a.terms[0].coef == 1
                    && a.terms[0].factors.len() == 1
                    && a.constant == 0 =>
            {
                out.push(a.terms[0].factors[0].name.clone())
            }
            _ => return None,
        }
    }
    Some(out)
}

fn collect_occurrences<'a>(e: &'a Expr, out: &mut Vec<&'a Ref>) {
    match e {
        Expr::Ref(r) => out.push(r),
        Expr::Unary(_, x, _) | Expr::Sum(_, x, _) | Expr::Softmax(_, x, _) => {
            collect_occurrences(x, out)
        }
        Expr::Binary(_, l, r, _) => {
            collect_occurrences(l, out);
            collect_occurrences(r, out);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| collect_occurrences(a, out)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => {}
    }
}

/// The indices of the explicit sums (`sum_{n}(...)`) that enclose an occurrence.
fn enclosing_sums(e: &Expr, target: &Ref, acc: &mut Vec<String>) -> bool {
    match e {
        Expr::Ref(r) => std::ptr::eq(r, target),
        Expr::Sum(ids, x, _) => {
            let n = acc.len();
            acc.extend(ids.iter().map(|i| i.name.clone()));
            if enclosing_sums(x, target, acc) {
                return true;
            }
            acc.truncate(n);
            false
        }
        Expr::Unary(_, x, _) | Expr::Softmax(_, x, _) => enclosing_sums(x, target, acc),
        Expr::Binary(_, l, r, _) => {
            enclosing_sums(l, target, acc) || enclosing_sums(r, target, acc)
        }
        Expr::Call(c) => c.args.iter().any(|a| enclosing_sums(a, target, acc)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => false,
    }
}

/// Numbers the occurrences of `e` in the order of [`collect_occurrences`] and records,
/// for every node, the numbers of the occurrences it holds (`start..end`).
fn number_occurrences(
    e: &Expr,
    next: &mut usize,
    spans: &mut HashMap<*const Expr, (usize, usize)>,
) {
    let start = *next;
    match e {
        Expr::Ref(_) => *next += 1,
        Expr::Unary(_, x, _) | Expr::Sum(_, x, _) | Expr::Softmax(_, x, _) => {
            number_occurrences(x, next, spans)
        }
        Expr::Binary(_, l, r, _) => {
            number_occurrences(l, next, spans);
            number_occurrences(r, next, spans);
        }
        Expr::Call(c) => c
            .args
            .iter()
            .for_each(|a| number_occurrences(a, next, spans)),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) => {}
    }
    spans.insert(e as *const Expr, (start, *next));
}

fn has_explicit_sum(e: &Expr) -> bool {
    match e {
        Expr::Sum(..) => true,
        Expr::Unary(_, x, _) | Expr::Softmax(_, x, _) => has_explicit_sum(x),
        Expr::Binary(_, l, r, _) => has_explicit_sum(l) || has_explicit_sum(r),
        Expr::Call(c) => c.args.iter().any(has_explicit_sum),
        Expr::Num(..) | Expr::Rel(..) | Expr::Iverson(..) | Expr::Deriv(..) | Expr::Ref(_) => false,
    }
}

/// Differentiation with respect to one occurrence of a tensor element.
struct DerivCtx<'a> {
    /// The left-hand side of the equation (`G` in `G = σ(...)` gives σ' = G (1 − G)).
    lhs: &'a Ref,
    /// The whole right-hand side.
    whole: &'a Expr,
    /// The target's number among the occurrences of `whole`.
    number: usize,
    /// The occurrences each node of `whole` holds (see [`number_occurrences`]): whether
    /// a subexpression contains the target is one look-up, so differentiating an
    /// equation of n terms is quadratic at worst, not cubic (a walk per node before).
    spans: &'a HashMap<*const Expr, (usize, usize)>,
}

impl DerivCtx<'_> {
    /// Whether the subexpression `e` (a node of `whole`) contains the target.
    fn contains(&self, e: &Expr) -> bool {
        self.spans
            .get(&(e as *const Expr))
            .is_some_and(|&(a, b)| a <= self.number && self.number < b)
    }

    /// The derivative of `e` with respect to the target occurrence, `None` when `e`
    /// does not contain it. `Some(num 1)` is the identity.
    fn d(&self, e: &Expr) -> Option<Expr> {
        if !self.contains(e) {
            return None;
        }
        Some(match e {
            Expr::Ref(_) => num("1"),
            Expr::Unary(UnOp::Neg, x, _) => neg(self.d(x)?),
            Expr::Binary(op, l, r, _) => {
                let in_left = self.contains(l);
                match op {
                    BinOp::Add => {
                        if in_left {
                            self.d(l)?
                        } else {
                            self.d(r)?
                        }
                    }
                    BinOp::Sub => {
                        if in_left {
                            self.d(l)?
                        } else {
                            neg(self.d(r)?)
                        }
                    }
                    BinOp::Mul | BinOp::Jux => {
                        if in_left {
                            jux(self.d(l)?, (**r).clone())
                        } else {
                            jux((**l).clone(), self.d(r)?)
                        }
                    }
                    BinOp::Div => {
                        if in_left {
                            bin(BinOp::Div, self.d(l)?, (**r).clone())
                        } else {
                            neg(jux(
                                bin(
                                    BinOp::Div,
                                    (**l).clone(),
                                    bin(BinOp::Pow, (**r).clone(), num("2")),
                                ),
                                self.d(r)?,
                            ))
                        }
                    }
                    BinOp::Pow => {
                        if in_left {
                            let n = (**r).clone();
                            let n_minus_1 = match &n {
                                Expr::Num(t, _) => match t.parse::<i64>() {
                                    Ok(v) => num(&(v - 1).to_string()),
                                    Err(_) => bin(BinOp::Sub, n.clone(), num("1")),
                                },
                                _ => bin(BinOp::Sub, n.clone(), num("1")),
                            };
                            let power = if matches!(&n_minus_1, Expr::Num(t, _) if t == "1") {
                                (**l).clone()
                            } else {
                                bin(BinOp::Pow, (**l).clone(), n_minus_1)
                            };
                            jux(jux(n, power), self.d(l)?)
                        } else {
                            jux(jux(e.clone(), call("ln", (**l).clone())), self.d(r)?)
                        }
                    }
                }
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let arg = &c.args[0];
                let inner = self.d(arg)?;
                let whole = std::ptr::eq(e, self.whole);
                let value = if whole {
                    Expr::Ref(self.lhs.clone())
                } else {
                    e.clone()
                };
                let b = crate::sym::func::model_function(&c.func.name)?;
                // The template may put the argument outside the call (`[x > 0]`,
                // `x exp(-x^2/2)`), where its capitals would be summed over the whole
                // term instead of inside the argument: they become explicit sums.
                let lhs = Expr::Ref(self.lhs.clone());
                let arg = explicit_capitals(arg, &[self.whole, &lhs]);
                let outer = template(b.derivative, &arg, &value);
                jux(outer, inner)
            }
            Expr::Sum(_, x, _) => self.d(x)?,
            _ => return None,
        })
    }
}

/// `x` with its summed capitals (those outside nested calls, which scope their own)
/// written as explicit sums, one per additive term, under fresh lower-case names:
/// `W[i,I] h[I] - 1` becomes `sum_{i'''}(W[i,i'''] h[i''']) - 1`, which means the same
/// wherever it is placed.
fn explicit_capitals(x: &Expr, context: &[&Expr]) -> Expr {
    fn caps(e: &Expr, out: &mut Vec<String>, used: &mut BTreeSet<String>) {
        match e {
            Expr::Ref(r) => {
                for ix in r.indices.iter().flatten() {
                    for v in index_vars(ix) {
                        if is_capital(&v) {
                            if !out.contains(&v) {
                                out.push(v);
                            }
                        } else {
                            used.insert(v);
                        }
                    }
                }
            }
            Expr::Unary(_, x, _) | Expr::Iverson(x, _) => caps(x, out, used),
            Expr::Sum(ids, x, _) => {
                used.extend(ids.iter().map(|i| i.name.clone()));
                caps(x, out, used)
            }
            Expr::Softmax(id, x, _) => {
                used.insert(id.name.clone());
                caps(x, out, used)
            }
            Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
                caps(l, out, used);
                caps(r, out, used);
            }
            // A call's argument sums its own capitals; only its lower-case names count.
            Expr::Call(c) => {
                let mut inner = Vec::new();
                for a in &c.args {
                    caps(a, &mut inner, used);
                }
                used.extend(inner.iter().map(|v| v.to_lowercase()));
            }
            Expr::Num(..) | Expr::Deriv(..) => {}
        }
    }
    fn rename(e: &Expr, map: &BTreeMap<String, String>) -> Expr {
        let ix = |ix: &IndexExpr| match ix {
            IndexExpr::Affine(a) => {
                let mut a = a.clone();
                for t in &mut a.terms {
                    for f in &mut t.factors {
                        if let Some(n) = map.get(&f.name) {
                            f.name = n.clone();
                        }
                    }
                }
                IndexExpr::Affine(a)
            }
            other => other.clone(),
        };
        match e {
            Expr::Ref(r) => {
                let mut r = r.clone();
                if let Some(list) = &mut r.indices {
                    *list = list.iter().map(ix).collect();
                }
                Expr::Ref(r)
            }
            Expr::Unary(op, x, s) => Expr::Unary(*op, Box::new(rename(x, map)), *s),
            Expr::Iverson(x, s) => Expr::Iverson(Box::new(rename(x, map)), *s),
            Expr::Sum(ids, x, s) => Expr::Sum(ids.clone(), Box::new(rename(x, map)), *s),
            Expr::Softmax(id, x, s) => Expr::Softmax(id.clone(), Box::new(rename(x, map)), *s),
            Expr::Binary(op, l, r, s) => {
                Expr::Binary(*op, Box::new(rename(l, map)), Box::new(rename(r, map)), *s)
            }
            Expr::Rel(op, l, r, s) => {
                Expr::Rel(*op, Box::new(rename(l, map)), Box::new(rename(r, map)), *s)
            }
            other => other.clone(),
        }
    }
    // A capital is summed over the additive term of the argument it occurs in
    // (`W[i,I] x[I] - 1` sums the product only): each term becomes its own sum.
    match x {
        Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, s) => {
            return Expr::Binary(
                *op,
                Box::new(explicit_capitals(l, context)),
                Box::new(explicit_capitals(r, context)),
                *s,
            );
        }
        Expr::Unary(UnOp::Neg, inner, s) => {
            return Expr::Unary(UnOp::Neg, Box::new(explicit_capitals(inner, context)), *s);
        }
        _ => {}
    }
    let mut found = Vec::new();
    let mut used = BTreeSet::new();
    caps(x, &mut found, &mut used);
    if found.is_empty() {
        return x.clone();
    }
    // Every lower-case name of the statement is taken, and so is each capital's own
    // lower case (the seeds' `h[i] = W[i,I] h[I]` uses both).
    for c in context {
        let mut ignored = Vec::new();
        caps(c, &mut ignored, &mut used);
    }
    let mut map = BTreeMap::new();
    for cap in &found {
        // Three primes: the derived statement names its own copies of a summed index
        // with one or two (`W.grad[i,i']`), and a fresh name must not meet them.
        let mut fresh = format!("{}'''", cap.to_lowercase());
        while used.contains(&fresh) {
            fresh.push('\'');
        }
        used.insert(fresh.clone());
        map.insert(cap.clone(), fresh);
    }
    let ids = found
        .iter()
        .map(|c| Ident {
            name: map[c].clone(),
            span: Span::default(),
        })
        .collect();
    Expr::Sum(ids, Box::new(rename(x, &map)), x.span())
}

/// A derivative template of the built-in function table as a `.tq` expression, with
/// `x` for the argument and `y` for the function's value.
fn template(d: &D, x: &Expr, y: &Expr) -> Expr {
    let t = |d: &D| template(d, x, y);
    let iverson = |op: RelOp, a: &D| {
        Expr::Iverson(
            Box::new(Expr::Rel(
                op,
                Box::new(t(a)),
                Box::new(num("0")),
                Span::default(),
            )),
            Span::default(),
        )
    };
    match d {
        D::X => x.clone(),
        D::Y => y.clone(),
        D::Int(n) => num(&n.to_string()),
        D::Pi => num("3.141592653589793"),
        D::Const { decimal, .. } => num(decimal),
        D::Add(a, b) => bin(BinOp::Add, t(a), t(b)),
        D::Sub(a, b) => bin(BinOp::Sub, t(a), t(b)),
        D::Mul(a, b) => jux(t(a), t(b)),
        D::Div(a, b) => bin(BinOp::Div, t(a), t(b)),
        D::Pow(a, b) => bin(BinOp::Pow, t(a), t(b)),
        D::Neg(a) => neg(t(a)),
        D::Sqrt(a) => call("sqrt", t(a)),
        D::Call(f, a) => call(f.name(), t(a)),
        D::Positive(a) => iverson(RelOp::Gt, a),
        D::Negative(a) => iverson(RelOp::Lt, a),
    }
}

/// Removes factors of 1 and pulls negations outward.
fn simplify(e: Expr) -> Expr {
    match e {
        Expr::Binary(op @ (BinOp::Mul | BinOp::Jux), l, r, s) => {
            let l = simplify(*l);
            let r = simplify(*r);
            let one = |x: &Expr| matches!(x, Expr::Num(t, _) if t == "1");
            match (l, r) {
                (l, r) if one(&l) => r,
                (l, r) if one(&r) => l,
                (Expr::Unary(UnOp::Neg, a, _), b) | (b, Expr::Unary(UnOp::Neg, a, _)) => {
                    neg(simplify(Expr::Binary(op, a, Box::new(b), s)))
                }
                (l, r) => Expr::Binary(op, Box::new(l), Box::new(r), s),
            }
        }
        Expr::Binary(BinOp::Div, l, r, s) => {
            let l = simplify(*l);
            let r = simplify(*r);
            match l {
                Expr::Unary(UnOp::Neg, a, _) => neg(Expr::Binary(BinOp::Div, a, Box::new(r), s)),
                l => Expr::Binary(BinOp::Div, Box::new(l), Box::new(r), s),
            }
        }
        Expr::Unary(UnOp::Neg, x, s) => match simplify(*x) {
            Expr::Unary(UnOp::Neg, y, _) => *y,
            y => Expr::Unary(UnOp::Neg, Box::new(y), s),
        },
        other => other,
    }
}

/// Whether a reference mentions a variable in its subscripts or indices.
fn mentions(r: &Ref, var: &str) -> bool {
    r.name
        .sub
        .iter()
        .chain(r.indices.iter().flatten())
        .any(|ix| index_vars(ix).iter().any(|v| v == var))
}

/// The factors of a product (juxtaposition or `*`), left to right.
fn flatten_product(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinOp::Jux | BinOp::Mul, l, r, _) => {
            flatten_product(*l, out);
            flatten_product(*r, out);
        }
        other => out.push(other),
    }
}

/// Splits a leading negation off: (sign, factor or `None` for 1).
fn split_sign(e: Expr) -> (i32, Option<Expr>) {
    match e {
        Expr::Unary(UnOp::Neg, x, _) => {
            let (s, f) = split_sign(*x);
            (-s, f)
        }
        Expr::Num(t, _) if t == "1" => (1, None),
        other => (1, Some(other)),
    }
}

fn rename_ref(r: &mut Ref, map: &BTreeMap<String, String>) {
    if map.is_empty() {
        return;
    }
    for ix in r.indices.iter_mut().flatten() {
        rename_index(ix, map);
    }
}

fn rename_index(ix: &mut IndexExpr, map: &BTreeMap<String, String>) {
    match ix {
        IndexExpr::Affine(a) => {
            for t in &mut a.terms {
                for f in &mut t.factors {
                    if let Some(n) = map.get(&f.name) {
                        f.name = n.clone();
                    }
                }
            }
        }
        IndexExpr::Lookup(r) => rename_ref(r, map),
    }
}

/// Renames summed capitals in the factors of a product (not inside function
/// arguments, which are their own summation scopes).
fn rename_expr(e: &Expr, map: &BTreeMap<String, String>) -> Expr {
    if map.is_empty() {
        return e.clone();
    }
    match e {
        Expr::Ref(r) => {
            let mut r = r.clone();
            rename_ref(&mut r, map);
            Expr::Ref(r)
        }
        Expr::Unary(op, x, s) => Expr::Unary(*op, Box::new(rename_expr(x, map)), *s),
        Expr::Binary(op, l, r, s) => Expr::Binary(
            *op,
            Box::new(rename_expr(l, map)),
            Box::new(rename_expr(r, map)),
            *s,
        ),
        other => other.clone(),
    }
}
