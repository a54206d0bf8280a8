//! Right-hand sides: the distribution of a product term, of a sum over summed indices
//! (independence, linearity in zero-mean leaves), and of a whole expression.

use super::refs::{capitals, refs_in, refs_vars, split_terms};
use super::rule::{Applied, Rule};
use super::rv::{Gauss, Rv, MAX_GAUSSIAN_POWER};
use super::walker::{leaf_name, Walker};
use crate::sym::{self, Expr, Func};
use crate::syntax::ast::{self as ast, BinOp, IndexExpr, Ref, UnOp};
use crate::syntax::printer::{print_expr, print_name, print_ref};

impl Walker<'_> {
    /// The distribution of one summand of a right-hand side (a product term), charged to
    /// the file's work ([`super::walker::MOMENT_FILE_WORK`]).
    fn product(&self, e: &ast::Expr) -> Result<Rv, String> {
        self.spent()?;
        let rv = self.product_uncharged(e)?;
        self.charge(rv)
    }

    fn product_uncharged(&self, e: &ast::Expr) -> Result<Rv, String> {
        match e {
            ast::Expr::Num(..) => Ok(Rv::constant(self.lower_scalar(e)?)),
            ast::Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                let name = print_name(&r.name);
                let key = (self.env.key_of(&r.name), false);
                if self.env.tensors.contains_key(&key.0)
                    || self.a.entries.contains_key(&key)
                    || self.a.unknown.contains_key(&key)
                {
                    return self.read(r);
                }
                if let Some(v) = self.bind.get(&name) {
                    return Ok(Rv::constant(v.clone()));
                }
                if let Some((_, v)) = self.settings.iter().find(|(n, _)| *n == name) {
                    return Ok(Rv::constant(v.clone()));
                }
                Ok(Rv::constant(Expr::sym(&name)))
            }
            ast::Expr::Ref(r) => self.read(r),
            ast::Expr::Unary(UnOp::Neg, x, _) => Ok(self.value(x)?.scale(&Expr::int(-1))),
            ast::Expr::Binary(op, l, r, _) => match op {
                BinOp::Add | BinOp::Sub => self.value(e),
                BinOp::Mul | BinOp::Jux => {
                    // A factor written more than once (`x[b,n] x[b,n]`, `a h a`) is one
                    // value: the product is its power, not a product of independent copies.
                    let mut factors = Vec::new();
                    product_factors(e, &mut factors);
                    let mut groups: Vec<(String, &ast::Expr, i64)> = Vec::new();
                    let mut seen: std::collections::HashMap<String, usize> =
                        std::collections::HashMap::new();
                    for f in factors {
                        let key = print_expr(f);
                        match seen.get(&key) {
                            Some(&k) => groups[k].2 += 1,
                            None => {
                                seen.insert(key.clone(), groups.len());
                                groups.push((key, f, 1));
                            }
                        }
                    }
                    if groups.iter().all(|g| g.2 == 1) {
                        return self.distinct_factors(e);
                    }
                    let walked = groups.into_iter().map(|(_, f, n)| {
                        let b = self.product(f)?;
                        if n == 1 {
                            return Ok(b);
                        }
                        let mut rv = self.power(b, n)?;
                        rv.rules.insert(Applied::new(
                            Rule::RepeatedFactor,
                            format!(
                                "a factor written {n} times is one value to the power {n} (`{}`)",
                                print_expr(f)
                            ),
                        ));
                        Ok(rv)
                    });
                    self.multiply_all(walked, false)
                }
                BinOp::Div => {
                    let d = self.product(r)?;
                    let Some(c) = d.value() else {
                        return Err("the moments of a quotient by a random value".into());
                    };
                    Ok(self.product(l)?.scale(&(Expr::one() / c.clone())))
                }
                BinOp::Pow => {
                    let b = self.product(l)?;
                    let p = self.lower_scalar(r)?;
                    match (b.value(), p.as_int()) {
                        (Some(v), _) => Ok(Rv::constant(Expr::pow(v.clone(), p))),
                        (None, Some(n)) => self.power(b, n),
                        _ => Err("the moments of a power other than the square".into()),
                    }
                }
            },
            ast::Expr::Call(c) => {
                let f = c.func.name.as_str();
                let Some(func) = Func::from_name(f) else {
                    return Err(format!("`{f}` has no moments rule"));
                };
                if c.args.len() != 1 {
                    return Err(format!("`{f}` takes one argument"));
                }
                let x = self.value(&c.args[0])?;
                if let Some(v) = x.value() {
                    return Ok(Rv::constant(Expr::func(func, v.clone())));
                }
                x.activation(func)
            }
            ast::Expr::Sum(ids, body, _) => {
                let names: Vec<String> = ids.iter().map(|i| i.name.clone()).collect();
                // A body that is one term sums its own capitals with the sum's indices
                // (docs/language.md, summation scope: `sum_{j}(W[j,I] x[b,I])` is
                // sum_j sum_i W[j,i] x[b,i]), as the interpreter does.
                if !matches!(
                    body.as_ref(),
                    ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..)
                ) {
                    return self.value_with(body, &names);
                }
                let t = self.product(body)?;
                self.sum_over(t, body, &names)
            }
            _ => Err(format!("`{}` has no moments rule", print_expr(e))),
        }
    }

    /// A product of distinct factors, multiplied as written: along the chain's left
    /// spine (`((f0 f1) f2) f3`), each partial product charged as [`Walker::product`]
    /// charges it. A run of constant factors at the chain's start is multiplied in one
    /// product (`Expr::mul` of all of them): one factor at a time, each partial product
    /// was built again and normalised with the next factor, quadratic in the chain (a
    /// tower of 45 `a`s: 6 s in `tq derive`, its backward program's products of 45
    /// factors of up to 45 nodes). Only the mean of a constant is read when it meets a
    /// random factor ([`Rv::mul`] scales by it), so the result is the same.
    fn distinct_factors(&self, e: &ast::Expr) -> Result<Rv, String> {
        let mut rest = Vec::new();
        let mut spine = e;
        while let ast::Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) = spine {
            rest.push(r.as_ref());
            spine = l;
        }
        rest.reverse();
        let walked = std::iter::once(spine).chain(rest).map(|f| self.product(f));
        self.multiply_all(walked, true)
    }

    /// The product of walked factors, left to right; a run of constants at the start is
    /// one product ([`Walker::distinct_factors`]), which keeps the first factor's rules
    /// as scaling it by the others did. With `charge_partials`, each partial product
    /// that is multiplied further is charged to the file's work.
    fn multiply_all(
        &self,
        mut factors: impl Iterator<Item = Result<Rv, String>>,
        charge_partials: bool,
    ) -> Result<Rv, String> {
        let mut acc = factors.next().ok_or("an empty product")??;
        // Whether `acc` is a factor as walked (charged by `product`) rather than a
        // partial product.
        let mut walked = true;
        let mut pending = None;
        if let Some(first) = acc.value().cloned() {
            let mut constants = vec![first];
            for rv in factors.by_ref() {
                let rv = rv?;
                match rv.value() {
                    Some(v) => constants.push(v.clone()),
                    None => {
                        pending = Some(rv);
                        break;
                    }
                }
            }
            if constants.len() > 1 {
                let rules = std::mem::take(&mut acc.rules);
                acc = Rv::constant(Expr::mul(constants));
                acc.rules = rules;
                walked = false;
            }
        }
        for rv in pending.map(Ok).into_iter().chain(factors) {
            let rv = rv?;
            if charge_partials && !walked {
                acc = self.charge(acc)?;
            }
            acc = acc.mul(&rv)?;
            walked = false;
        }
        Ok(acc)
    }

    /// `b^n` for a whole `n` of a random `b`.
    fn power(&self, b: Rv, n: i64) -> Result<Rv, String> {
        match n {
            2 => Ok(b.square()),
            1 => Ok(b),
            n => b
                .finite_power(n)
                .or_else(|| b.gaussian_power(n))
                .or_else(|| b.uniform_power(n))
                .or_else(|| b.odd_power(n))
                .ok_or_else(|| {
                    format!(
                        "the moments of a power other than the square (tq writes out \
                         x^n for 3 <= n <= {MAX_GAUSSIAN_POWER} only when x is exactly Gaussian or a declared uniform)"
                    )
                }),
        }
    }

    /// The size of a summed index (`I` → the size of `i`).
    fn summed_size(&self, name: &str) -> Result<Expr, String> {
        let lower = name.to_lowercase();
        self.env
            .index_size(&lower)
            .or_else(|| self.env.index_size(name))
            .map(|s| Expr::sym(&s))
            .ok_or_else(|| format!("the range of the summed index `{name}` is not known"))
    }

    /// Σ over `summed` of a term whose one summand has distribution `t`.
    fn sum_over(&self, t: Rv, term: &ast::Expr, summed: &[String]) -> Result<Rv, String> {
        if summed.is_empty() {
            return Ok(t);
        }
        // A summand whose moments read a summed index as a number (`y[b,j] = x[b,j] + j`,
        // E(y) = j): its terms have different moments, and the count times one term's
        // (`E(z) = J*j` for `z[b] = y[b,J]`, probe39/h l18) is no value of the sum.
        if let Some(k) = summed
            .iter()
            .map(|s| s.to_lowercase())
            .find(|k| rv_reads_atom(&t, k))
        {
            return Err(format!(
                "the summands depend on the position `{k}` (a value reads the index as a number): their moments differ, and the sum's are not the count times one term's"
            ));
        }
        let mut n = Expr::one();
        for s in summed {
            n = n * self.summed_size(s)?;
        }
        let reads = refs_in(term);
        // A read whose summands are distinct elements: every summed index owns a position
        // of it (the read's position map is one to one over the summed ranges), with
        // the conditions on the sizes under which a circular window does not wrap onto
        // itself.
        let distinct = |r: &Ref| self.distinct_reads(r, summed);
        let uses_all = |r: &Ref| distinct(r).is_ok();
        let mut why_not: Option<String> = None;
        for r in &reads {
            if let Err(e) = distinct(r) {
                let vars = refs_vars(r);
                if summed.iter().all(|s| vars.contains(s)) {
                    why_not.get_or_insert(e);
                }
            }
        }
        let note = |rv: &mut Rv, conds: Vec<super::Window>| {
            if !conds.is_empty() {
                rv.approx.insert(super::rule::Approximation::Wrap);
                let mut w = self.wraps.borrow_mut();
                for c in conds {
                    if !w.iter().any(|x| x.text == c.text) {
                        w.push(c);
                    }
                }
            }
        };
        let widen = |rv: &mut Rv| {
            rv.sources = rv.sources.iter().map(|s| s.summed_over(summed)).collect();
        };
        // Distinct zero-mean weights per summand: the summands are uncorrelated.
        // A carrier whose reads are distinct whatever the sizes (`W[DX]`) is preferred
        // to one whose circular window must fit (`x[b, x+DX]`).
        let carries = |p: &super::rv::Source, free: bool| {
            reads.iter().find_map(|r| {
                let key = self.key(r);
                let subs = self.subs(r).unwrap_or_default();
                let same_sub = match (&p.sub, subs.first()) {
                    (Some(a), Some(b)) => sym::identical(a, b),
                    (None, None) => true,
                    _ => false,
                };
                if p.member != leaf_name(&key) || !same_sub {
                    return None;
                }
                distinct(r).ok().filter(|c| !free || c.is_empty())
            })
        };
        let carrier = t
            .lin0
            .iter()
            .find_map(|p| carries(p, true).map(|c| (p, c)))
            .or_else(|| {
                t.lin0
                    .iter()
                    .find_map(|p| carries(p, false).map(|c| (p, c)))
            });
        if let Some((p, conds)) = carrier {
            {
                let mut out = t.clone();
                out.mean = Some(Expr::zero());
                out.m2 = t.m2.clone().map(|m| n.clone() * m);
                out.gauss = Gauss::Approx;
                out.symmetric = true;
                forget_summand_facts(&mut out);
                out.positive_mean = None;
                out.rules.insert(Applied::new(
                    Rule::SumUncorrelatedWeights,
                    format!(
                        "Var of a sum of uncorrelated terms (a distinct zero-mean weight of {} in each): {} × the variance of one",
                        p.text(),
                        sym::to_ascii(&n)
                    ),
                ));
                widen(&mut out);
                note(&mut out, conds);
                return Ok(out);
            }
        }
        // Summands built from iid elements at distinct positions: independent. Each
        // tensor is read at one position in the term (`x[b,x+DX] x[b,x+DX+1]`: the
        // terms d and d + 1 share an element).
        let mut random: Vec<&Ref> = Vec::new();
        for r in reads.iter().copied() {
            let key = self.key(r);
            if !(self.env.tensors.contains_key(&key.0) || self.a.entries.contains_key(&key)) {
                continue;
            }
            if !self.lookup(&key, &self.subs(r)?)?.is_constant() {
                random.push(r);
            }
        }
        let one_position = random.iter().all(|r| {
            random
                .iter()
                .all(|o| self.key(o) != self.key(r) || print_ref(o) == print_ref(r))
        });
        if !random.is_empty()
            && one_position
            && random
                .iter()
                .all(|r| self.iid.contains(&self.key(r)) && uses_all(r))
        {
            let conds: Vec<super::Window> = random
                .iter()
                .flat_map(|r| distinct(r).unwrap_or_default())
                .collect();
            let (Some(m), Some(v)) = (t.mean.clone(), t.var()) else {
                return Err("the moments of the summands are not known".into());
            };
            let mut out = t.clone();
            out.mean = Some(n.clone() * m.clone());
            out.m2 = Some(n.clone() * v + Expr::pow(n.clone() * m, Expr::int(2)));
            out.gauss = if t.gauss == Gauss::Exact {
                Gauss::Exact
            } else {
                Gauss::Approx
            };
            forget_summand_facts(&mut out);
            out.lin0 = vec![];
            out.rules.insert(Applied::new(
                Rule::SumIid,
                format!(
                    "Var of a sum of independent terms (iid elements): {} × the variance of one",
                    sym::to_ascii(&n)
                ),
            ));
            widen(&mut out);
            note(&mut out, conds);
            return Ok(out);
        }
        // Otherwise the summands' correlations are unknown, and so is the sum's variance;
        // its mean is still n × the summand's (linearity of expectation).
        let why = why_not.map(|w| format!(" ({w})")).unwrap_or_default();
        let Some(m) = t.mean.clone() else {
            return Err(format!(
                "tq cannot tell whether the terms of the sum over {} are uncorrelated{why}",
                summed.join(", ")
            ));
        };
        let mut out = t.clone();
        out.mean = Some(n.clone() * m);
        out.m2 = None;
        out.gauss = Gauss::No;
        out.symmetric = false;
        forget_summand_facts(&mut out);
        out.positive_mean = None;
        out.lin0 = vec![];
        out.uniform = None;
        out.rules.insert(Applied::new(
            Rule::MeanLinear,
            format!(
                "E of a sum over {} by linearity: {} × the mean of one (whether the terms are correlated, and so the variance, is not known{why})",
                summed.join(", "),
                sym::to_ascii(&n)
            ),
        ));
        widen(&mut out);
        Ok(out)
    }

    /// Whether the summands of a sum over `summed` read distinct elements through `r`:
    /// every summed index owns a position of the read (there with a nonzero coefficient
    /// and beside no other summed index), so the map from the summed values to the
    /// positions is one to one over the integers. Under circular padding a position
    /// other than the plain index wraps around its extent N, and stays one to one
    /// exactly where D ≤ N / gcd(c, N) (D the summed range, c its coefficient): decided
    /// here when N and D are numbers, otherwise returned as a [`super::Window`] to be
    /// checked at the sizes a claim is decided at.
    /// `Err` with the reason when no such ownership exists (`x[b, x+DX+DX']`: x + 1 is
    /// read at (0, 1) and (1, 0); a summed index inside a lookup, `e[w[T], i]`) or a
    /// window longer than its extent wraps onto itself at the sizes set.
    pub(super) fn distinct_reads(
        &self,
        r: &Ref,
        summed: &[String],
    ) -> Result<Vec<super::Window>, String> {
        let text = print_ref(r);
        let dims = self
            .env
            .tensor_of(&r.name)
            .map(|t| t.dims.clone())
            .unwrap_or_default();
        let mut conds = Vec::new();
        for s in summed {
            let mut owner = None;
            for (k, ix) in r.indices.iter().flatten().enumerate() {
                let IndexExpr::Affine(a) = ix else { continue };
                let mine = a
                    .terms
                    .iter()
                    .filter(|t| t.factors.iter().any(|f| f.name == *s))
                    .collect::<Vec<_>>();
                if mine.is_empty() {
                    continue;
                }
                let alone = mine.len() == 1
                    && mine[0].factors.len() == 1
                    && mine[0].coef != 0
                    && a.terms.iter().all(|t| {
                        t.factors.iter().any(|f| f.name == *s)
                            || t.factors.iter().all(|f| !summed.contains(&f.name))
                    });
                if alone {
                    owner = Some((k, a, mine[0].coef));
                    break;
                }
            }
            let Some((k, a, c)) = owner else {
                return Err(format!(
                    "the read {text} is not shown to give each summand its own element: the summed index {s} does not own a position of it alone"
                ));
            };
            let plain = a.terms.len() == 1 && c == 1 && a.constant == 0;
            if plain || self.env.boundary != Some(ast::Boundary::Circular) {
                continue;
            }
            let Some(extent) = dims.get(k) else {
                return Err(format!(
                    "the extent {text} wraps around at position {} is not known",
                    k + 1
                ));
            };
            let mut len = self.summed_size(s)?;
            let mut ext = Expr::sym(extent);
            for (n, v) in &self.settings {
                len = sym::subs(&len, n, v);
                ext = sym::subs(&ext, n, v);
            }
            let (len, ext) = (sym::simplify(&len), sym::simplify(&ext));
            let why = format!(
                "the window of {text} over {s} wraps onto itself under circular padding unless its {} reads {}·{s} mod {extent} are distinct ({} <= {extent}/gcd({}, {extent}))",
                sym::to_ascii(&len),
                c.abs(),
                sym::to_ascii(&len),
                c.abs()
            );
            let window = super::Window {
                text: why.clone(),
                extent: ext,
                coef: c,
                len,
            };
            // Where the sizes are numbers the condition is decided exactly (a dilation 2
            // over X = 5 with D = 4 reads 0, 2, 4, 1: distinct, since gcd(2, 5) = 1).
            match window.distinct_at(&std::collections::BTreeMap::new()) {
                Some(true) => {}
                Some(false) => return Err(why),
                None => conds.push(window),
            }
        }
        Ok(conds)
    }

    /// The distribution of an expression: its additive terms, each summed over its own
    /// capital indices.
    pub(super) fn value(&self, e: &ast::Expr) -> Result<Rv, String> {
        self.value_with(e, &[])
    }

    pub(super) fn value_with(&self, e: &ast::Expr, extra: &[String]) -> Result<Rv, String> {
        self.spent()?;
        let rv = self.value_uncharged(e, extra)?;
        self.charge(rv)
    }

    fn value_uncharged(&self, e: &ast::Expr, extra: &[String]) -> Result<Rv, String> {
        let mut terms = Vec::new();
        split_terms(e, false, &mut terms);
        // A term written more than once (`x + x`, `a - a`) is one value counted with its
        // signs: `x + x` is 2x (variance 4 Var x), not a sum of two independent copies.
        let mut groups: Vec<(String, &ast::Expr, i64)> = Vec::new();
        for (neg, t) in terms {
            let key = print_expr(t);
            let sign = if neg { -1 } else { 1 };
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.2 += sign,
                None => groups.push((key, t, sign)),
            }
        }
        let mut acc: Option<Rv> = None;
        let mut cancelled = Vec::new();
        for (key, t, count) in groups {
            if count == 0 {
                cancelled.push(key);
                continue;
            }
            // The capitals this term sums: those outside its parenthesized sums and those
            // shared by two of them, less those an enclosing term already sums (the
            // interpreter's reading, `check::capitals`): `(W[j,I] + N[j,I]) x[b,I]` is one
            // sum over i, not I × a sum over I.
            let mut summed: Vec<String> = {
                let outer = self.outer.borrow();
                term_capitals(t)
                    .into_iter()
                    .filter(|c| !outer.contains(c))
                    .collect()
            };
            // A capital summed over the term and read again inside a function's argument
            // (`W[I] relu(x[b,I])`) is one sum in the interpreter (Σ_i W[i] relu(x[b,i])):
            // `outer` holds it while the factors are walked, so the argument reads the
            // element at one position and does not sum it a second time.
            for x in extra {
                if !summed.contains(x) {
                    summed.push(x.clone());
                }
            }
            let depth = self.outer.borrow().len();
            self.outer.borrow_mut().extend(summed.iter().cloned());
            let one = self.product(t);
            self.outer.borrow_mut().truncate(depth);
            let mut rv = self.sum_over(one?, t, &summed)?;
            if count != 1 {
                rv = rv.scale(&Expr::int(count));
                rv.rules.insert(Applied::new(
                    Rule::RepeatedTerm,
                    format!(
                        "a term written more than once is one value counted with its signs ({count} × `{}`)",
                        print_expr(t)
                    ),
                ));
            }
            acc = Some(match acc {
                None => rv,
                Some(a) => self.charge(a.add_owned(&rv)?)?,
            });
        }
        // Every term cancelled (`x - x`): the value is 0.
        let mut rv = acc.unwrap_or_else(|| Rv::constant(Expr::zero()));
        if !cancelled.is_empty() {
            let list: Vec<String> = cancelled.iter().map(|k| format!("`{k}`")).collect();
            rv.rules.insert(Applied::new(
                Rule::RepeatedTerm,
                format!(
                    "{} cancels against the same term with the other sign",
                    list.join(", ")
                ),
            ));
        }
        Ok(rv)
    }
}

/// The capitals a product term sums (`check::capitals::Capitals::of_term`): those read
/// outside its parenthesized sums, and those read by two of its parenthesized sums (a
/// capital inside one sum only is summed there); function arguments and explicit sums
/// sum their own.
fn term_capitals(e: &ast::Expr) -> Vec<String> {
    fn in_sum(e: &ast::Expr, out: &mut Vec<String>) {
        match e {
            ast::Expr::Ref(_) => {
                for c in capitals(e) {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
            ast::Expr::Unary(_, x, _) => in_sum(x, out),
            ast::Expr::Binary(_, l, r, _) => {
                in_sum(l, out);
                in_sum(r, out);
            }
            _ => {}
        }
    }
    fn split(e: &ast::Expr, sums: &mut Vec<Vec<String>>) {
        match e {
            ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..) => {
                let mut set = Vec::new();
                in_sum(e, &mut set);
                sums.push(set);
            }
            ast::Expr::Unary(_, x, _) => split(x, sums),
            ast::Expr::Binary(_, l, r, _) => {
                split(l, sums);
                split(r, sums);
            }
            _ => {}
        }
    }
    let mut out = capitals(e);
    let mut sums = Vec::new();
    split(e, &mut sums);
    for (k, set) in sums.iter().enumerate() {
        for c in set {
            if !out.contains(c) && sums.iter().skip(k + 1).any(|o| o.contains(c)) {
                out.push(c.clone());
            }
        }
    }
    out
}

/// The factors of a chain of products (`*` and juxtaposition; a quotient is one factor).
pub(super) fn product_factors<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            product_factors(l, out);
            product_factors(r, out);
        }
        other => out.push(other),
    }
}

/// The facts of one summand that say nothing of a sum of them (every branch of
/// `sum_over` drops them): its finite support, its variance bounds, its quadrature rule
/// and its approximate mean.
fn forget_summand_facts(out: &mut Rv) {
    out.finite = None;
    out.var_bounds.clear();
    out.quad = None;
    out.approx_mean = None;
}

/// Whether any of a value's known moments reads the symbol `name`.
fn rv_reads_atom(t: &Rv, name: &str) -> bool {
    let has = |e: &Expr| sym::free_symbols(e).contains(name);
    t.mean.as_ref().is_some_and(has)
        || t.m2.as_ref().is_some_and(has)
        || t.approx_mean.as_ref().is_some_and(|(e, _)| has(e))
        || t.positive_mean.as_ref().is_some_and(has)
        || t.var_bounds.iter().any(|(e, _)| has(e))
        || t.uniform.as_ref().is_some_and(|(a, b)| has(a) || has(b))
        || t.finite.iter().flatten().any(|(v, p)| has(v) || has(p))
}
