//! The derivative of a right-hand side with respect to one occurrence: the
//! differentiation context, function derivative templates, explicit summed indices,
//! and the simplification of the result.

use super::build::{bin, call, jux, neg, num};
use super::occurrences::index_vars;
use crate::sym::func::D;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::visit::{children, map_children};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Differentiation with respect to one occurrence of a tensor element.
pub(super) struct DerivCtx<'a> {
    /// The checked file's symbols: which capitals are declared indices or sizes, read
    /// by the one summation rule the interpreter shares (`check::capitals`).
    pub(super) env: &'a crate::check::Env,
    /// The left-hand side of the equation (`G` in `G = σ(...)` gives σ' = G (1 − G)).
    pub(super) lhs: &'a Ref,
    /// The whole right-hand side.
    pub(super) whole: &'a Expr,
    /// The target's number among the occurrences of `whole`.
    pub(super) number: usize,
    /// The occurrences each node of `whole` holds (see [`number_occurrences`]): whether
    /// a subexpression contains the target is one look-up, so differentiating an
    /// equation of n terms is quadratic at worst, not cubic (a walk per node before).
    pub(super) spans: &'a HashMap<*const Expr, (usize, usize)>,
    /// The target occurrence's summed capitals and the loop indices they become
    /// (`I` → `i`). Where a capital is bound by a term that encloses a function call
    /// (`Y[T,K] ln(P[T,K])`: one sum over t, k of the product, as the interpreter reads
    /// it), the copies of the call's argument in the derivative are renamed inside it
    /// too; elsewhere the caller renames them (outside calls).
    pub(super) rename: &'a BTreeMap<String, String>,
    /// The terms of each sum in `whole` (see [`sum_terms`]), by the sum's root: the
    /// derivative of a sum is its term's, found by a binary search instead of a walk down
    /// the sum's left spine (a walk per occurrence made an n-term sum quadratic: 3,300
    /// terms of 60 nested minus signs took 2.2 s).
    pub(super) terms: &'a SumTerms<'a>,
}

/// Per sum root (an addition or subtraction whose parent is neither): its terms in
/// order, each with its occurrences' range and how many subtractions negate it.
pub(super) type SumTerms<'a> = HashMap<*const Expr, Vec<(usize, usize, &'a Expr, u32)>>;

/// The terms of every sum of `e` ([`SumTerms`]), with the occurrence ranges of
/// `number_occurrences`.
pub(super) fn sum_terms<'a>(
    e: &'a Expr,
    spans: &HashMap<*const Expr, (usize, usize)>,
    out: &mut SumTerms<'a>,
) {
    fn is_sum(e: &Expr) -> bool {
        matches!(e, Expr::Binary(BinOp::Add | BinOp::Sub, ..))
    }
    // The terms of the sum rooted at `e`, left to right; the sums inside terms after.
    fn collect<'a>(
        e: &'a Expr,
        negs: u32,
        spans: &HashMap<*const Expr, (usize, usize)>,
        terms: &mut Vec<(usize, usize, &'a Expr, u32)>,
        inner: &mut Vec<&'a Expr>,
    ) {
        // The left spine iteratively (a long sum leans left), the right children by
        // recursion (as deep as the expression's nesting, which the parser bounds).
        let mut spine = Vec::new();
        let mut x = e;
        while let Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) = x {
            spine.push((*op, &**r));
            x = l;
        }
        let push = |t: &'a Expr, n: u32, terms: &mut Vec<_>, inner: &mut Vec<&'a Expr>| {
            if let Some(&(a, b)) = spans.get(&(t as *const Expr)) {
                if a < b {
                    terms.push((a, b, t, n));
                }
            }
            inner.push(t);
        };
        push(x, negs, terms, inner);
        for (op, r) in spine.into_iter().rev() {
            let n = if op == BinOp::Sub { negs + 1 } else { negs };
            if is_sum(r) {
                collect(r, n, spans, terms, inner);
            } else {
                push(r, n, terms, inner);
            }
        }
    }
    let mut todo = vec![e];
    while let Some(x) = todo.pop() {
        if is_sum(x) {
            let mut terms = Vec::new();
            let mut inner = Vec::new();
            collect(x, 0, spans, &mut terms, &mut inner);
            out.insert(x as *const Expr, terms);
            for t in inner {
                todo.extend(children(t));
            }
        } else {
            todo.extend(children(x));
        }
    }
}

impl DerivCtx<'_> {
    /// Whether the subexpression `e` (a node of `whole`) contains the target.
    pub(super) fn contains(&self, e: &Expr) -> bool {
        self.spans
            .get(&(e as *const Expr))
            .is_some_and(|&(a, b)| a <= self.number && self.number < b)
    }

    /// The derivative of `e` with respect to the target occurrence, `None` when `e`
    /// does not contain it. `Some(num 1)` is the identity.
    pub(super) fn d(&self, e: &Expr) -> Option<Expr> {
        self.d_in(e, &[], true)
    }

    /// A copy of `x`, a part of the right side under a node where the capitals `bound`
    /// are bound by an enclosing term, with those of them that the target's loop
    /// indices replace renamed everywhere in it, inside calls and brackets too (a bound
    /// capital means the enclosing term's index wherever it is read).
    fn scoped(&self, x: &Expr, bound: &[String]) -> Expr {
        self.scoped_as(x, bound, false)
    }

    /// [`Self::scoped`] of a factor (`term` false) or of an expression that starts terms
    /// (`term` true: a call's argument, whose additive terms sum their own capitals).
    fn scoped_as(&self, x: &Expr, bound: &[String], term: bool) -> Expr {
        let x = &self.grouped(x, bound, term);
        let map: BTreeMap<String, String> = self
            .rename
            .iter()
            .filter(|(c, _)| bound.contains(c))
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect();
        rename_deep(x, &map)
    }

    /// A copy of the factor `x` (a part of a term whose capitals `bound` are bound) in
    /// which each capital (the target's or another) that a parenthesized sum inside `x`
    /// sums by itself (`(w[I] x[b,I] - t[b])^2`: I is summed inside the parentheses) becomes an
    /// explicit sum under a fresh name. The caller renames the target's capitals to its
    /// loop indices outside calls and explicit sums; without this, the copy of the group
    /// in the outer factor of a power, product or quotient read the free index in place
    /// of the group's sum (probe36 b25/b26: `2 (w[i] x[b,i] - t[b]) x[b,i]`). With `term`,
    /// `x` starts terms (a call's argument put into a derivative template): each of its
    /// additive terms sums its own capitals ([`Self::group_terms`]).
    fn grouped(&self, x: &Expr, bound: &[String], term: bool) -> Expr {
        // Every capital a group sums by itself, the target's or not: a copy of the group
        // beside another copy reading the same capital would otherwise sum it over both
        // (`2 ((a[J] - m)^2 + 1) 2 (a[J] - m)`: J in two groups is summed over the
        // product, not inside each; grad37).
        let is_bound = |n: &str| bound.iter().any(|b| b == n);
        let mut all = Vec::new();
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &is_bound,
        }
        .deep(x, &mut all);
        let targets: Vec<&String> = all.iter().collect();
        if targets.is_empty() {
            return x.clone();
        }
        let mut used = self.used_names();
        if term {
            self.group_terms(x, bound, &targets, &mut used)
        } else {
            self.group_factor(x, bound, &targets, &mut used)
        }
    }

    /// [`Self::grouped`] on a factor of a term (the interpreter's `term_summed`): a
    /// parenthesized sum starts new terms, other products and powers keep the term.
    fn group_factor(
        &self,
        x: &Expr,
        bound: &[String],
        targets: &[&String],
        used: &mut BTreeSet<String>,
    ) -> Expr {
        match x {
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => self.group_terms(x, bound, targets, used),
            Expr::Binary(op @ (BinOp::Mul | BinOp::Jux | BinOp::Div | BinOp::Pow), l, r, s) => {
                Expr::Binary(
                    *op,
                    Box::new(self.group_factor(l, bound, targets, used)),
                    Box::new(self.group_factor(r, bound, targets, used)),
                    *s,
                )
            }
            Expr::Unary(UnOp::Neg, y, s) => Expr::Unary(
                UnOp::Neg,
                Box::new(self.group_terms(y, bound, targets, used)),
                *s,
            ),
            // A call's argument and an explicit sum's body sum their own capitals: in a
            // copy beside a factor that reads the same capital they would become the
            // term's (`exp(a[b,J] e[b,K] m[b]) (a[b,J] e[b,K])` summed J and K over the
            // product, inside the copied call too; grad37 open, grad38).
            Expr::Sum(ids, body, s) => Expr::Sum(
                ids.clone(),
                Box::new(self.group_terms(body, bound, targets, used)),
                *s,
            ),
            Expr::Call(c) => {
                let mut c = c.clone();
                c.args = c
                    .args
                    .iter()
                    .map(|a| self.group_terms(a, bound, targets, used))
                    .collect();
                Expr::Call(c)
            }
            _ => x.clone(),
        }
    }

    /// [`Self::grouped`] on an expression whose additive terms are terms (the
    /// interpreter's `eval`): each term sums the capitals `check::capitals` gives it, and
    /// those of the target's become an explicit sum around the term.
    fn group_terms(
        &self,
        x: &Expr,
        bound: &[String],
        targets: &[&String],
        used: &mut BTreeSet<String>,
    ) -> Expr {
        if let Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, s) = x {
            return Expr::Binary(
                *op,
                Box::new(self.group_terms(l, bound, targets, used)),
                Box::new(self.group_terms(r, bound, targets, used)),
                *s,
            );
        }
        let is_bound = |n: &str| bound.iter().any(|b| b == n);
        let caps = crate::check::capitals::Capitals {
            env: self.env,
            bound: &is_bound,
        }
        .of_term(x);
        let inner: Vec<String> = bound.iter().cloned().chain(caps.iter().cloned()).collect();
        let body = self.group_factor(x, &inner, targets, used);
        let own: Vec<&String> = caps.iter().filter(|c| targets.contains(c)).collect();
        if own.is_empty() {
            return body;
        }
        fresh_sum(&own, &body, used, x.span())
    }

    /// [`Self::d`] at a node under which the capitals `bound` are bound by enclosing
    /// terms; `term` when the node starts a term (the whole side, an additive term, a
    /// call's argument or an explicit sum's body), whose own capitals it then binds
    /// (`check::capitals`, the interpreter's reading).
    fn d_in(&self, e: &Expr, bound: &[String], term: bool) -> Option<Expr> {
        if !self.contains(e) {
            return None;
        }
        if let Some(terms) = self.terms.get(&(e as *const Expr)) {
            // A sum: the derivative of the term holding the target, negated once per
            // subtraction above it (what the walk down the sum built).
            let k = terms.partition_point(|t| t.1 <= self.number);
            let &(a, b, term, negs) = terms.get(k)?;
            if !(a <= self.number && self.number < b) {
                return None;
            }
            let mut d = self.d_in(term, bound, true)?;
            for _ in 0..negs {
                d = neg(d);
            }
            return Some(d);
        }
        let is_sum = |x: &Expr| matches!(x, Expr::Binary(BinOp::Add | BinOp::Sub, ..));
        let own: Vec<String>;
        let outer = bound;
        let mut others: Vec<String> = Vec::new();
        let bound: &[String] = if term && !is_sum(e) {
            let is_bound = |n: &str| bound.iter().any(|b| b == n);
            let caps = crate::check::capitals::Capitals {
                env: self.env,
                bound: &is_bound,
            }
            .of_term(e);
            others = caps
                .iter()
                .filter(|c| !self.rename.contains_key(*c))
                .cloned()
                .collect();
            own = bound.iter().cloned().chain(caps).collect();
            &own
        } else {
            bound
        };
        // A factor of a product continues its term, unless it is a parenthesized sum.
        let factor = |x: &Expr| self.d_in(x, bound, false);
        let d = match e {
            Expr::Ref(_) => num("1"),
            Expr::Unary(UnOp::Neg, x, _) => neg(factor(x)?),
            Expr::Binary(op, l, r, _) => {
                let in_left = self.contains(l);
                let copy = |x: &Expr| self.scoped(x, bound);
                match op {
                    BinOp::Add => {
                        if in_left {
                            self.d_in(l, bound, true)?
                        } else {
                            self.d_in(r, bound, true)?
                        }
                    }
                    BinOp::Sub => {
                        if in_left {
                            self.d_in(l, bound, true)?
                        } else {
                            neg(self.d_in(r, bound, true)?)
                        }
                    }
                    BinOp::Mul | BinOp::Jux => {
                        if in_left {
                            jux(factor(l)?, copy(r))
                        } else {
                            jux(copy(l), factor(r)?)
                        }
                    }
                    BinOp::Div => {
                        if in_left {
                            bin(BinOp::Div, factor(l)?, copy(r))
                        } else {
                            neg(jux(
                                bin(BinOp::Div, copy(l), bin(BinOp::Pow, copy(r), num("2"))),
                                factor(r)?,
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
                                copy(l)
                            } else {
                                bin(BinOp::Pow, copy(l), copy(&n_minus_1))
                            };
                            jux(jux(copy(&n), power), factor(l)?)
                        } else {
                            jux(jux(copy(e), call("ln", copy(l))), factor(r)?)
                        }
                    }
                }
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let arg = &c.args[0];
                let inner = self.d_in(arg, bound, true)?;
                let whole = std::ptr::eq(e, self.whole);
                let value = if whole {
                    Expr::Ref(self.lhs.clone())
                } else {
                    self.scoped(e, bound)
                };
                let b = crate::sym::func::model_function(&c.func.name)?;
                // The template may put the argument outside the call (`[x > 0]`,
                // `x exp(-x^2/2)`), where its capitals would be summed over the whole
                // term instead of inside the argument: they become explicit sums, each
                // over the additive term (or the parenthesized sum inside it) that sums it
                // (`softplus((a[b,J] - 1) e[b,K])`: k over the term, j inside the
                // parentheses; grad38). A capital an enclosing term binds
                // (`Y[T,K] ln(P[T,K])`) is that term's index inside the call too, and
                // stays as it is.
                let arg = self.scoped_as(arg, bound, true);
                let outer = template(b.derivative, &arg, &value);
                jux(outer, inner)
            }
            Expr::Sum(_, x, _) => self.d_in(x, bound, true)?,
            _ => return None,
        };
        Some(self.keep_sums(d, outer, &others))
    }

    /// The derivative `d` of a term that sums the capitals `others` (not the target's):
    /// d/dθ Σ_K f = Σ_K df/dθ, so each of them must still be summed over the whole of
    /// `d`. Where `d` no longer reads it outside a parenthesized sum (the derivative of
    /// `(a[J] - m) (a[J] - m)` by m is `-(a[J] - m)`, which sums J inside the parentheses
    /// only), `d` becomes an explicit sum over it under a fresh name (probe36 b25).
    fn keep_sums(&self, d: Expr, outer: &[String], others: &[String]) -> Expr {
        if others.is_empty() {
            return d;
        }
        let is_bound = |n: &str| outer.iter().any(|b| b == n) || self.rename.contains_key(n);
        let summed = crate::check::capitals::Capitals {
            env: self.env,
            bound: &is_bound,
        }
        .of_term(&d);
        let missing: Vec<&String> = others.iter().filter(|k| !summed.contains(k)).collect();
        if missing.is_empty() {
            return d;
        }
        // The target's capitals become the caller's loop indices, which it renames
        // outside explicit sums only: inside the new sum they are renamed here.
        let d = super::build::rename_expr(&d, self.rename);
        fresh_sum(&missing, &d, &mut self.used_names(), Span::default())
    }

    /// The lower-case index names of the equation and the target's loop indices, which
    /// a fresh summed name must not meet.
    fn used_names(&self) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        let mut note = |e: &Expr| {
            crate::syntax::visit::walk_refs(e, &mut |r| {
                for ix in r.indices.iter().flatten() {
                    used.extend(index_vars(ix).into_iter().map(|v| v.to_lowercase()));
                }
            })
        };
        note(self.whole);
        note(&Expr::Ref(self.lhs.clone()));
        used.extend(self.rename.values().cloned());
        used
    }
}

/// `sum_{j''',...}(body)`: an explicit sum over the capitals `caps` of `body`, each
/// renamed (everywhere in `body`, inside calls too) to a fresh lower-case name with three
/// or more primes that is not in `used` (which then holds it). The derived statement
/// names its own copies of a summed index with one or two primes (`W.grad[i,i']`).
fn fresh_sum(caps: &[&String], body: &Expr, used: &mut BTreeSet<String>, span: Span) -> Expr {
    let mut map = BTreeMap::new();
    for cap in caps {
        let mut fresh = format!("{}'''", cap.to_lowercase());
        while used.contains(&fresh) {
            fresh.push('\'');
        }
        used.insert(fresh.clone());
        map.insert((*cap).clone(), fresh);
    }
    let ids = map
        .values()
        .map(|n| Ident {
            name: n.clone(),
            span: Span::default(),
        })
        .collect();
    Expr::Sum(ids, Box::new(rename_deep(body, &map)), span)
}

/// `e` with the capitals of `map` renamed everywhere, inside calls, brackets, relations
/// and explicit sums too (the caller knows they are bound outside `e`).
fn rename_deep(e: &Expr, map: &BTreeMap<String, String>) -> Expr {
    if map.is_empty() {
        return e.clone();
    }
    match e {
        Expr::Ref(r) => {
            let mut r = r.clone();
            super::build::rename_ref(&mut r, map);
            Expr::Ref(r)
        }
        _ => map_children(e, |x| rename_deep(x, map)),
    }
}

/// A derivative template of the built-in function table as a `.tq` expression, with
/// `x` for the argument and `y` for the function's value.
pub(super) fn template(d: &D, x: &Expr, y: &Expr) -> Expr {
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
pub(super) fn simplify(e: Expr) -> Expr {
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
