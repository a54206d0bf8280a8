//! The size budget: one limit on how much a file may ask tq to allocate, whatever the
//! origin of the number (a literal range, a `for` bound, a family declaration, a
//! `sample` value), checked before anything is allocated (docs/numeric.md, E0302).
//!
//! - A number written in a range bound (`for l in 0..999999999999`,
//!   `for t in 1..T 2147483648`) is at most [`MAX_SAMPLE_SIZE`].
//! - A range, evaluated with the `sample` values (and the enclosing ranges at their
//!   ends), has at most [`MAX_RANGE_VALUES`] values: loops and families are unrolled
//!   member by member by the numeric, moments and emit engines.
//! - The values stored by all declarations and equations together (members times the
//!   product of their dimensions) are at most [`MAX_TOTAL_ELEMENTS`].
//!
//! All arithmetic is checked (`i128`, overflow is over the budget), so no size can wrap.

use super::{Env, MAX_SAMPLE_SIZE};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// The most values one loop or family range may have.
pub const MAX_RANGE_VALUES: i128 = 10_000;
/// The most values all tensors of a file may store together at the `sample` sizes.
/// The element-wise interpreter keeps each value (with its gradient) in a map, about
/// 115 bytes a value: 2,000,000 values took 230 MB and 1.5 s of CPU through `tq check`,
/// while 18,000,000 (the earlier budget was 20,000,000) passed 1.7 GB before a minute
/// was out.
pub const MAX_TOTAL_ELEMENTS: i128 = 2_000_000;
/// The largest backward program a file may ask for, in expression nodes (see
/// [`backward_size`]): the product rule writes each factor's gradient as the product
/// of all the other factors, so a product of n factors has a backward program of about
/// n² nodes, which every later engine (moments, lowering, printing) walks.
pub const MAX_BACKWARD_NODES: u64 = 300_000;
/// The most work the statements of a file may ask for at the `sample` sizes, each
/// statement's work being its members times the product of the ranges of every index
/// it names, free or summed (see [`Budget::statement_work`]): a contraction
/// `y = x[A] z[B] q[C]` at A = B = C = 3,000 is 2.7·10¹⁰ terms, which the element-wise
/// interpreter would walk (at about 7 million element evaluations a second) until its
/// own budget stopped it. 100,000,000 is a hundred times the work of a forward run the
/// gradient check can afford (`num::gradcheck::BUDGET` is 8,000,000 evaluations for all
/// of its runs).
pub const MAX_TOTAL_WORK: i128 = 100_000_000;

/// The most dimensions a tensor may have (NumPy's limit was 32 until 2.0, and `tq emit`
/// writes NumPy). The engines' bookkeeping per statement grows with the square of its
/// index positions whatever the sizes: a rank-200 tensor of one element took 13 s of CPU
/// and 530 MB in `tq check` (each Monte Carlo trial compared every index name with
/// every other), rank 100 took 4.8 s.
pub const MAX_RANK: usize = 32;

const HINT: &str = "tq unrolls loops and families member by member and refuses larger \
ranges before allocating; write the range with a size (`1..L`) and give the size a small value on the `sample` line";

/// Adds an E0302 for every range or total that exceeds the budget; returns the values
/// all tensors store together at the `sample` sizes (saturating; a value that cannot be
/// counted counts nothing).
pub fn check(program: &Program, env: &Env, diags: &mut Vec<Diagnostic>) -> i128 {
    let mut consts = BTreeMap::new();
    for item in &program.items {
        if let ItemKind::Sample(bs) = &item.kind {
            for b in bs {
                if let Expr::Num(t, _) = &b.value {
                    if let Ok(v) = t.parse::<i64>() {
                        if (1..=MAX_SAMPLE_SIZE).contains(&v) {
                            consts.insert(b.name.name.clone(), v as i128);
                        }
                    }
                }
            }
        }
    }
    run(program, env, consts, "the `sample` sizes", diags)
}

/// The budget of [`check`] at other sizes than the `sample` line's: a numeric run at a
/// claim's given sizes (Monte Carlo trials, the moments engine's position-by-position
/// runs, `claims::montecarlo::apply_givens`) is refused before anything is allocated when
/// at those sizes a range, the values all tensors store or the statements' work exceed
/// what [`check`] allows at the `sample` sizes. (Without it `given X == 1000, Y == 1000,
/// J == 9` enumerated 18,000,000 leaf elements, 2.9 GB, before the run's own limit of
/// 20,000,000 values, and aborted `tq check` and `tq lsp`; docs/fuzzing.md, session 28.)
/// `sizes` are the run's constants; those that are whole numbers from 1 to
/// [`MAX_SAMPLE_SIZE`] count as sizes. `Err` with the first refusal's message.
pub fn within_at(
    program: &Program,
    env: &Env,
    sizes: &BTreeMap<String, f64>,
) -> Result<(), String> {
    let consts = sizes
        .iter()
        .filter(|(_, v)| v.fract() == 0.0 && **v >= 1.0 && **v <= MAX_SAMPLE_SIZE as f64)
        .map(|(n, v)| (n.clone(), *v as i128))
        .collect();
    let mut diags = Vec::new();
    run(program, env, consts, "the claim's given sizes", &mut diags);
    match diags.iter().find(|d| d.severity == crate::diag::Severity::Error) {
        Some(d) => Err(format!(
            "{}: the limits of E0302 (check::budget) hold at a claim's given sizes too; give it smaller sizes",
            d.message
        )),
        None => Ok(()),
    }
}

fn run(
    program: &Program,
    env: &Env,
    consts: BTreeMap<String, i128>,
    place: &str,
    diags: &mut Vec<Diagnostic>,
) -> i128 {
    let mut b = Budget {
        env,
        consts,
        place,
        loops: Vec::new(),
        total: 0,
        reported_total: false,
        backward: 0,
        reported_backward: false,
        work: 0,
        reported_work: false,
        diags,
    };
    b.items(&program.items);
    b.total
}

struct Budget<'a> {
    env: &'a Env,
    /// Integer `sample` values.
    consts: BTreeMap<String, i128>,
    /// Where the sizes come from, for the messages (`the `sample` sizes`).
    place: &'a str,
    /// Enclosing loop variables: name, largest value, number of values (when known).
    loops: Vec<(String, Option<i128>, Option<i128>)>,
    total: i128,
    reported_total: bool,
    /// The size of the backward program so far ([`backward_size`]).
    backward: u64,
    reported_backward: bool,
    /// The work of the statements so far ([`MAX_TOTAL_WORK`]).
    work: i128,
    reported_work: bool,
    diags: &'a mut Vec<Diagnostic>,
}

/// Over the budget: overflow or a value too large.
struct Over;

impl Budget<'_> {
    fn items(&mut self, items: &[Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Loop(l) => {
                    let (hi, len) = self.range(&l.range);
                    self.loops.push((l.range.var.name.clone(), hi, len));
                    self.items(&l.body);
                    self.loops.pop();
                }
                ItemKind::ForIndices(f) => self.items(&f.body),
                ItemKind::Decl(d) => {
                    let mut members = self.members();
                    let mut fam_var = None;
                    if let Some(r) = &d.family {
                        let (hi, len) = self.range(r);
                        members = mul(members, len);
                        fam_var = Some((r.var.name.clone(), hi, len));
                    }
                    if let Some(v) = fam_var {
                        self.loops.push(v);
                    }
                    let per = self.tensor_elements(&d.target);
                    if d.family.is_some() {
                        self.loops.pop();
                    }
                    self.add_total(mul(members, per), d.target.span, None);
                    self.check_rank(&d.target);
                }
                ItemKind::Equation(eq) => {
                    self.check_rank(&eq.lhs);
                    let members = self.members();
                    let per = self.tensor_elements(&eq.lhs);
                    // A statement inside loops is counted once per run (probe35/p a18:
                    // 20 nested two-trip loops around `z[i] += h_0[i]` were refused as
                    // "the tensors hold more than 2000000 values", tensors of 4 values).
                    let runs = match (members, per) {
                        (Some(m), Some(p)) if m > 1 => Some((m, p, self.loops.len())),
                        _ => None,
                    };
                    self.add_total(mul(members, per), eq.lhs.span, runs);
                    self.add_backward(&eq.rhs);
                    self.add_work(mul(members, Some(self.statement_work(eq))), eq);
                }
                _ => {}
            }
        }
    }

    /// A declared or computed tensor of more than [`MAX_RANK`] dimensions gets E0302.
    fn check_rank(&mut self, r: &Ref) {
        let rank = r.indices.as_ref().map_or(0, Vec::len);
        if rank > MAX_RANK {
            self.diags.push(
                Diagnostic::error(
                    "E0302",
                    r.span,
                    format!(
                        "`{}` has {rank} dimensions, more than the limit of {MAX_RANK}",
                        crate::syntax::printer::print_name(&r.name)
                    ),
                )
                .with_label("too many dimensions")
                .with_hint(
                    "tq's engines do bookkeeping per index position of every statement, and NumPy arrays have at most 32 dimensions; merge dimensions of size 1 or split the tensor",
                ),
            );
        }
    }

    /// Family members of the enclosing loops (product of their lengths).
    fn members(&self) -> Option<i128> {
        self.loops.iter().try_fold(1i128, |acc, (_, _, len)| {
            len.and_then(|l| acc.checked_mul(l.max(0)))
        })
    }

    /// The elements of one member of a tensor (product of its dimensions' sizes).
    fn tensor_elements(&self, r: &Ref) -> Option<i128> {
        let key = self.env.key_of(&r.name);
        let info = self.env.tensors.get(&key)?;
        let mut n: i128 = 1;
        for (k, dim) in info.dims.iter().enumerate() {
            let d = if dim.starts_with('@') || dim == "?" {
                1
            } else if let Some(v) = dim.strip_prefix('~') {
                // A dimension along a loop variable: written one value at a time inside
                // its loop; a declaration over a family range stores them all.
                let in_loop = self.loops.iter().rev().find(|(n, _, _)| n == v);
                let written_here = r.indices.as_ref().and_then(|ix| ix.get(k)).is_some_and(
                    |ix| matches!(ix, IndexExpr::Affine(a) if a.terms.len() == 1 && a.constant == 0 && a.terms[0].factors.len() == 1 && a.terms[0].factors[0].name == v),
                );
                match in_loop {
                    Some(_) if written_here => 1,
                    Some((_, _, len)) => (*len)?,
                    None => 1,
                }
            } else {
                *self.consts.get(dim)?
            };
            n = n.checked_mul(d.max(0))?;
        }
        Some(n)
    }

    /// Adds `n` stored values; `runs` is (runs, values a run writes, loops around it) for
    /// a statement inside loops, named in the message when it is what crosses the limit.
    fn add_total(
        &mut self,
        n: Option<i128>,
        span: crate::syntax::span::Span,
        runs: Option<(i128, i128, usize)>,
    ) {
        let Some(n) = n else { return };
        let before = self.total;
        self.total = self.total.saturating_add(n);
        if self.total > MAX_TOTAL_ELEMENTS && !self.reported_total {
            self.reported_total = true;
            if let Some((runs, per, depth)) =
                runs.filter(|(runs, per, _)| runs > per || before <= MAX_TOTAL_ELEMENTS / 2)
            {
                let loops = if depth == 1 {
                    "the loop around this statement runs it".to_string()
                } else {
                    format!("the {depth} nested loops around this statement run it")
                };
                self.diags.push(
                    Diagnostic::error(
                        "E0302",
                        span,
                        format!(
                            "at {} {loops} {runs} times, and each run keeps the {per} values it writes: more than {MAX_TOTAL_ELEMENTS} values with the tensors before it",
                            self.place
                        ),
                    )
                    .with_label(format!("run {runs} times"))
                    .with_hint(
                        "tq unrolls loops and keeps every run's values for the numeric engines; use fewer or shorter loops (a range read at the `sample` sizes counts those values)",
                    ),
                );
                return;
            }
            self.diags.push(
                Diagnostic::error(
                    "E0302",
                    span,
                    format!(
                        "at {} the tensors up to here hold more than {MAX_TOTAL_ELEMENTS} values",
                        self.place
                    ),
                )
                .with_hint(
                    "numeric runs store every element; use smaller sizes on the `sample` line or shorter ranges",
                ),
            );
        }
    }

    /// The work of one member of a statement: the product of the ranges of the distinct
    /// indices it names (free, summed capitals, `sum_{i}` variables, the factors of an
    /// affine position such as `s*x + dx`), at the `sample` sizes. Names without a
    /// known size count 1; loop variables are counted by the members.
    fn statement_work(&self, eq: &Equation) -> i128 {
        let mut names: std::collections::BTreeSet<String> = Default::default();
        let mut add_ref = |r: &Ref| {
            for ix in r.indices.iter().flatten() {
                if let IndexExpr::Affine(a) = ix {
                    for t in &a.terms {
                        for f in &t.factors {
                            names.insert(f.name.clone());
                        }
                    }
                }
            }
        };
        crate::syntax::visit::walk_ref(&eq.lhs, &mut add_ref);
        crate::syntax::visit::walk_refs(&eq.rhs, &mut add_ref);
        crate::syntax::visit::walk_expr(&eq.rhs, |x| {
            if let Expr::Sum(vars, _, _) = x {
                names.extend(vars.iter().map(|v| v.name.clone()));
            }
            true
        });
        let mut n: i128 = 1;
        for name in &names {
            let name = name.as_str();
            if self.loops.iter().any(|(v, _, _)| v == name) {
                continue;
            }
            let size = if self.env.sizes.contains_key(name) {
                Some(name.to_string())
            } else {
                self.env.index_size(name)
            };
            let Some(v) = size.and_then(|s| self.consts.get(&s).copied()) else {
                continue;
            };
            n = n.saturating_mul(v.max(1));
        }
        n
    }

    /// Adds a statement's work; the first statement that takes the file past
    /// [`MAX_TOTAL_WORK`] gets E0302.
    fn add_work(&mut self, n: Option<i128>, eq: &Equation) {
        let Some(n) = n else { return };
        self.work = self.work.saturating_add(n);
        if self.work > MAX_TOTAL_WORK && !self.reported_work {
            self.reported_work = true;
            self.diags.push(
                Diagnostic::error(
                    "E0302",
                    eq.span,
                    format!(
                        "at {} the statements up to here take more than {MAX_TOTAL_WORK} element operations (this one: {})",
                        self.place,
                        if n == i128::MAX { "too many to count".to_string() } else { n.to_string() }
                    ),
                )
                .with_label("too much work")
                .with_hint(
                    "a statement costs the product of the ranges of all its indices, the summed capitals included (`x[A] z[B] q[C]` is A B C terms); use smaller sizes on the `sample` line",
                ),
            );
        }
    }

    /// Counts the backward program of one statement's right-hand side; the first
    /// statement that takes the file's count past [`MAX_BACKWARD_NODES`] gets E0003.
    fn add_backward(&mut self, rhs: &Expr) {
        let n = backward_size(rhs).cost;
        self.backward = self.backward.saturating_add(n);
        if self.backward > MAX_BACKWARD_NODES && !self.reported_backward {
            self.reported_backward = true;
            self.diags.push(
                Diagnostic::error(
                    "E0003",
                    rhs.span(),
                    format!(
                        "the backward program derived up to this statement would have about {} expression nodes, more than the limit of {MAX_BACKWARD_NODES}",
                        self.backward
                    ),
                )
                .with_label("a product whose backward program is too large")
                .with_hint(
                    "the product rule writes each factor's gradient as the product of all the other factors (a product of n factors gives about n² nodes); write a repeated factor as a power (`(b + a)^282`) or split the product over several statements",
                ),
            );
        }
    }

    /// Checks a range; returns its largest value and its number of values when known.
    fn range(&mut self, r: &Range) -> (Option<i128>, Option<i128>) {
        let mut literal_bad = false;
        for e in [&r.from, &r.to] {
            for_each_num(e, &mut |text, span| {
                let ok = text
                    .parse::<f64>()
                    .is_ok_and(|v| v.abs() <= MAX_SAMPLE_SIZE as f64);
                if !ok && !literal_bad {
                    literal_bad = true;
                    self.diags.push(
                        Diagnostic::error(
                            "E0302",
                            span,
                            format!(
                                "the number `{text}` in the range of `{}` is larger than {MAX_SAMPLE_SIZE}",
                                r.var.name
                            ),
                        )
                        .with_label("too large")
                        .with_hint(HINT),
                    );
                }
            });
        }
        if literal_bad {
            return (None, None);
        }
        let lo = self.eval(&r.from, false);
        let hi = self.eval(&r.to, true);
        let (lo, hi) = match (lo, hi) {
            (Ok(Some(lo)), Ok(Some(hi))) => (lo, hi),
            (Err(Over), _) | (_, Err(Over)) => {
                self.range_error(r, None);
                return (None, None);
            }
            _ => return (None, None),
        };
        let len = (hi - lo + 1).max(0);
        if len > MAX_RANGE_VALUES {
            self.range_error(r, Some(len));
            return (Some(hi), None);
        }
        (Some(hi), Some(len))
    }

    fn range_error(&mut self, r: &Range, len: Option<i128>) {
        let what = match len {
            Some(n) => format!("{n} values"),
            None => "a bound too large to compute".to_string(),
        };
        self.diags.push(
            Diagnostic::error(
                "E0302",
                r.to.span(),
                format!(
                    "the range of `{}` has {what}, more than the limit of {MAX_RANGE_VALUES}",
                    r.var.name
                ),
            )
            .with_hint(HINT),
        );
    }

    /// An integer bound: `Ok(None)` when it is not known (a size without a sample
    /// value, a symbol), `Err(Over)` on overflow or a value out of range. Enclosing
    /// loop variables take their largest value when `upper` (else their smallest, 0).
    fn eval(&self, e: &Expr, upper: bool) -> Result<Option<i128>, Over> {
        const LIMIT: i128 = 1 << 62;
        let check = |v: Option<i128>| match v {
            Some(v) if v.abs() > LIMIT => Err(Over),
            Some(v) => Ok(Some(v)),
            None => Err(Over),
        };
        Ok(match e {
            Expr::Num(t, _) => match t.parse::<i128>() {
                Ok(v) => check(Some(v))?,
                Err(_) => return Ok(None),
            },
            Expr::Ref(r) if r.indices.is_none() && !r.grad && r.name.sub.is_empty() => {
                let name = &r.name.base;
                if let Some(v) = self.consts.get(name) {
                    Some(*v)
                } else if let Some((_, hi, _)) = self.loops.iter().rev().find(|(n, _, _)| n == name)
                {
                    if upper {
                        *hi
                    } else {
                        Some(0)
                    }
                } else {
                    None
                }
            }
            Expr::Unary(UnOp::Neg, x, _) => self.eval(x, !upper)?.map(|v| -v),
            Expr::Binary(op, l, r, _) => {
                let (Some(a), Some(b)) = (self.eval(l, upper)?, self.eval(r, upper)?) else {
                    return Ok(None);
                };
                match op {
                    BinOp::Add => check(a.checked_add(b))?,
                    BinOp::Sub => check(a.checked_sub(b))?,
                    BinOp::Mul | BinOp::Jux => check(a.checked_mul(b))?,
                    BinOp::Div if b != 0 && a % b == 0 => Some(a / b),
                    BinOp::Div => return Ok(None),
                    BinOp::Pow => match u32::try_from(b) {
                        Ok(k) => check(a.checked_pow(k))?,
                        Err(_) if b < 0 => return Ok(None),
                        Err(_) if a.abs() <= 1 => Some(a),
                        Err(_) => return Err(Over),
                    },
                }
            }
            _ => None,
        })
    }
}

/// The counts of [`backward_size`] for one subexpression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackwardSize {
    /// Nodes of the expression.
    pub nodes: u64,
    /// References in it (each gets a gradient term).
    pub refs: u64,
    /// Nodes of the gradient terms of its references, counted from this node down: a
    /// reference under a product carries the other factors, under a power or a call
    /// the base or argument (f'(x) repeats x).
    pub cost: u64,
}

/// The size of the backward program of an expression, in one bottom-up pass (linear
/// in the expression): each reference's gradient term has about as many nodes as the
/// factors beside it on its way up through products, powers and calls. A sum adds
/// its terms' counts; a product of n factors of k nodes each counts about n²k.
pub fn backward_size(e: &Expr) -> BackwardSize {
    let leaf = |refs| BackwardSize {
        nodes: 1,
        refs,
        cost: refs,
    };
    // Combines children whose gradients carry `carry(i)` extra nodes each.
    let join = |parts: &[BackwardSize], carry: &dyn Fn(usize) -> u64| {
        let mut out = BackwardSize {
            nodes: 1,
            ..BackwardSize::default()
        };
        for (i, p) in parts.iter().enumerate() {
            out.nodes = out.nodes.saturating_add(p.nodes);
            out.refs = out.refs.saturating_add(p.refs);
            out.cost = out
                .cost
                .saturating_add(p.cost)
                .saturating_add(p.refs.saturating_mul(carry(i)));
        }
        out
    };
    match e {
        Expr::Num(..) => leaf(0),
        Expr::Ref(_) | Expr::Deriv(..) => leaf(1),
        Expr::Unary(_, x, _) | Expr::Sum(_, x, _) | Expr::Iverson(x, _) => {
            join(&[backward_size(x)], &|_| 0)
        }
        Expr::Softmax(_, x, _) => {
            let p = backward_size(x);
            join(&[p], &|_| p.nodes)
        }
        Expr::Rel(_, l, r, _) => join(&[backward_size(l), backward_size(r)], &|_| 0),
        Expr::Binary(op, l, r, _) => {
            let parts = [backward_size(l), backward_size(r)];
            let other = |i: usize| parts[1 - i].nodes;
            match op {
                BinOp::Add | BinOp::Sub => join(&parts, &|_| 0),
                BinOp::Mul | BinOp::Jux | BinOp::Div => join(&parts, &other),
                BinOp::Pow => join(&parts, &|_| parts[0].nodes.saturating_add(parts[1].nodes)),
            }
        }
        Expr::Call(c) => {
            let parts: Vec<BackwardSize> = c.args.iter().map(backward_size).collect();
            let all = parts.iter().fold(0u64, |a, p| a.saturating_add(p.nodes));
            join(&parts, &|_| all)
        }
    }
}

fn mul(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_mul(b?).or(Some(i128::MAX))
}

/// Every number literal of an expression, with its span.
fn for_each_num(e: &Expr, f: &mut dyn FnMut(&str, crate::syntax::span::Span)) {
    crate::syntax::visit::walk_expr(e, |x| {
        if let Expr::Num(t, s) = x {
            f(t, *s);
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rhs(src: &str) -> Expr {
        let p = crate::syntax::parser::parse(src).program;
        let Some(ItemKind::Equation(eq)) = p.items.last().map(|i| &i.kind) else {
            panic!("no equation in {src}")
        };
        eq.rhs.clone()
    }

    #[test]
    fn backward_size_is_quadratic_in_a_product_and_linear_in_a_sum() {
        let product = |n: usize| {
            let f = vec!["(b + a)"; n].join(" ");
            backward_size(&rhs(&format!("scalar a, b\nc = {f}\n"))).cost
        };
        let sum = |n: usize| {
            let f = vec!["a"; n].join(" + ");
            backward_size(&rhs(&format!("scalar a\nc = {f}\n"))).cost
        };
        // Two factors of three nodes: each of the four references carries the other (3).
        assert_eq!(product(2), 4 * (1 + 3));
        // Doubling the factors about quadruples the count; doubling the terms doubles it.
        let (p100, p200) = (product(100), product(200));
        assert!(p200 > 3 * p100 && p200 < 5 * p100, "{p100} {p200}");
        assert_eq!(sum(200), 2 * sum(100));
        assert_eq!(sum(100), 100);
        // The campaign's 282 copies are over the budget, 200 copies within it.
        assert!(product(282) > MAX_BACKWARD_NODES);
        assert!(product(200) <= MAX_BACKWARD_NODES);
        // A power carries its base; a call its argument.
        let pow = backward_size(&rhs("scalar a, b\nc = (a + b)^3\n")).cost;
        assert_eq!(pow, 2 * (1 + 4));
        let call = backward_size(&rhs("scalar a, b\nc = tanh(a b)\n")).cost;
        assert_eq!(call, 2 * (1 + 1) + 2 * 3);
    }
}
