//! Moments position by position, for zero padding, where border elements differ from
//! interior ones.
//!
//! For a multilinear program whose random leaves all have mean zero, and whose sums the
//! moments engine has shown to be sums of uncorrelated terms (for a generic element; the
//! argument — a distinct zero-mean weight in each term, or independent zero-mean
//! factors — does not depend on the position), the second moment of every element obeys
//! the *second-moment program*: the same statements with every random leaf replaced by
//! its second moment, every coefficient squared and every sign made `+`
//! (E[(Σ c_t Π x)²] = Σ c_t² Π E[x²]). tq runs that program on the interpreter; reads
//! outside the tensor follow the boundary rule (zero padding reads 0), so border
//! elements come out with their own, smaller, variance.

use crate::check::Env;
use crate::num::{Machine, NumError};
use crate::syntax::ast::{
    self as ast, AssignOp, BinOp, Decl, DeclKind, Init, Item, ItemKind, Program, UnOp,
};
use crate::syntax::span::Span;

/// Work budget of one second-moment run (element evaluations). About 0.3 µs each on the
/// interpreter (docs/numeric.md): 20 M took 6 s of CPU, a claim's run in problems/ and
/// tests/cases/ takes at most 6,000.
pub const BUDGET: u64 = 4_000_000;

fn num(s: &str, span: Span) -> ast::Expr {
    ast::Expr::Num(s.to_string(), span)
}

fn square(e: ast::Expr) -> ast::Expr {
    let span = e.span();
    ast::Expr::Binary(BinOp::Pow, Box::new(e), Box::new(num("2", span)), span)
}

/// What the second-moment transform needs to know beyond the declarations: which
/// tensors and computed scalars have mean zero at every position (`zero_mean`).
struct Ctx<'a> {
    env: &'a Env,
    /// The right-hand sides writing each tensor or scalar (`None`: a declaration,
    /// `Some(true)` when its distribution has mean zero), by [`Ctx::key`].
    sources: std::collections::HashMap<String, Vec<Source>>,
    /// Whether each value (by [`Ctx::key`]) has mean zero at every position.
    centred: std::collections::HashMap<String, bool>,
}

enum Source {
    Decl(bool),
    Rhs(ast::Expr),
}

impl<'a> Ctx<'a> {
    fn new(env: &'a Env, lists: &[&[Item]]) -> Self {
        let mut ctx = Ctx {
            env,
            sources: Default::default(),
            centred: Default::default(),
        };
        for its in lists {
            ctx.collect(its);
        }
        // The greatest fixed point: every value zero-mean to begin with, then each one
        // some statement writes with a right side not zero-mean under the current
        // assignment struck out, until nothing changes. The program runs in order, so
        // by induction over its steps (an element never written reads 0) what remains is
        // zero-mean; a recurrence `h_{l+1} = h_l + g_l` keeps its mean zero.
        ctx.centred = ctx.sources.keys().map(|k| (k.clone(), true)).collect();
        loop {
            let struck: Vec<String> = ctx
                .sources
                .iter()
                .filter(|(k, srcs)| {
                    ctx.centred[*k]
                        && !srcs.iter().all(|s| match s {
                            Source::Decl(z) => *z,
                            Source::Rhs(x) => ctx.zero_mean(x),
                        })
                })
                .map(|(k, _)| k.clone())
                .collect();
            if struck.is_empty() {
                break;
            }
            for k in struck {
                ctx.centred.insert(k, false);
            }
        }
        ctx
    }

    fn key(&self, r: &ast::Ref) -> String {
        format!(
            "{}{}",
            if r.grad { "grad " } else { "" },
            self.env.key_of(&r.name)
        )
    }

    fn collect(&mut self, its: &[Item]) {
        for it in its {
            match &it.kind {
                ItemKind::Loop(l) => self.collect(&l.body),
                ItemKind::ForIndices(fi) => self.collect(&fi.body),
                ItemKind::Decl(d) => {
                    // A zero-mean distribution, or the value 0 (`param B_l[J] = 0`).
                    let zero = match &d.init {
                        Some(Init::Dist(_)) => d.init.as_ref().and_then(second_moment_of).is_some(),
                        Some(Init::Value(ast::Expr::Num(n, _))) => n.parse::<f64>() == Ok(0.0),
                        _ => false,
                    };
                    let mut k = self.key(&d.target);
                    if d.kind == DeclKind::Grad {
                        k = format!("grad {k}");
                    }
                    self.sources.entry(k).or_default().push(Source::Decl(zero));
                }
                ItemKind::Equation(eq) => {
                    let k = self.key(&eq.lhs);
                    self.sources
                        .entry(k)
                        .or_default()
                        .push(Source::Rhs(eq.rhs.clone()));
                }
                _ => {}
            }
        }
    }

    /// Whether `e` reads a tensor or a computed scalar (a random value); a value that
    /// reads neither (numbers, symbols, sizes, scalar inputs, index values, brackets
    /// and sums of them) is a constant at each position.
    fn constant(&self, e: &ast::Expr) -> bool {
        match e {
            ast::Expr::Num(..) => true,
            ast::Expr::Ref(r) => !self.random_ref(r),
            ast::Expr::Unary(_, x, _) => self.constant(x),
            ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
                self.constant(l) && self.constant(r)
            }
            ast::Expr::Iverson(x, _) => self.constant(x),
            ast::Expr::Sum(_, b, _) => self.constant(b),
            _ => false,
        }
    }

    fn random_ref(&self, r: &ast::Ref) -> bool {
        let name = crate::syntax::printer::print_name(&r.name);
        r.indices.is_some()
            || r.grad
            || self.env.tensors.contains_key(&self.env.key_of(&r.name))
            || (self.env.scalars.contains_key(&name) && self.env.computed_scalars.contains(&name))
    }

    /// The values `e` reads at bottom: a leaf tensor by its key, a family member by its
    /// text (`h_{l}`: members are not followed, a member of a weight family is another
    /// leaf), a computed tensor or scalar by what its right sides read.
    fn reads(&self, e: &ast::Expr) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.reads_into(e, &mut Vec::new(), &mut out);
        out
    }

    fn reads_into(
        &self,
        e: &ast::Expr,
        open: &mut Vec<String>,
        out: &mut std::collections::BTreeSet<String>,
    ) {
        let mut refs = Vec::new();
        crate::syntax::visit::walk_refs(e, &mut |r| refs.push(r.clone()));
        for r in refs {
            if !self.random_ref(&r) {
                continue;
            }
            let key = self.key(&r);
            let family = self
                .env
                .tensors
                .get(&self.env.key_of(&r.name))
                .is_some_and(|t| t.family_arity > 0);
            if family {
                out.insert(format!(
                    "{}{}",
                    if r.grad { "grad " } else { "" },
                    crate::syntax::printer::print_name(&r.name)
                ));
                continue;
            }
            let srcs = self.sources.get(&key);
            let computed = srcs.is_some_and(|v| v.iter().any(|s| matches!(s, Source::Rhs(_))));
            if !computed || open.contains(&key) {
                out.insert(key);
                continue;
            }
            open.push(key.clone());
            for s in srcs.into_iter().flatten() {
                match s {
                    Source::Rhs(x) => self.reads_into(x, open, out),
                    Source::Decl(_) => {
                        out.insert(key.clone());
                    }
                }
            }
            open.pop();
        }
    }

    /// Whether `e` has mean zero at every position, by a rule that needs no position:
    /// a declared leaf with a zero-mean distribution, a value every statement writing it
    /// gives a zero-mean right side, a product with a zero-mean factor (the program's
    /// factors are independent), a sum or a difference of zero-mean terms.
    fn zero_mean(&self, e: &ast::Expr) -> bool {
        match e {
            ast::Expr::Ref(r) if self.random_ref(r) => {
                self.centred.get(&self.key(r)).copied().unwrap_or(false)
            }
            ast::Expr::Unary(UnOp::Neg, x, _) => self.zero_mean(x),
            ast::Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
                self.zero_mean(l) && self.zero_mean(r)
            }
            ast::Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
                self.zero_mean(l) || self.zero_mean(r)
            }
            ast::Expr::Binary(BinOp::Div, l, _, _) => self.zero_mean(l),
            ast::Expr::Sum(_, b, _) => self.zero_mean(b),
            _ => false,
        }
    }
}

/// The terms of a chain of `+` and `-` (signs dropped: the second moment squares them).
fn summands<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, l, r, _) => {
            summands(l, out);
            summands(r, out);
        }
        _ => out.push(e),
    }
}

/// The second-moment transform of a right-hand side; `None` when it is not multilinear.
fn rhs(e: &ast::Expr, cx: &Ctx) -> Option<ast::Expr> {
    // A constant at each position (`k + 1`, `[k < 2]`, `sum_j 1`) is squared as a whole:
    // taken apart as uncorrelated terms, `k + 1` became `k^2 + 1`, and a true
    // `Var(u[b,0]) == 5 s v` of a window over `x[b,k] (k + 1)` was refuted (session 33).
    if cx.constant(e) {
        return Some(square(e.clone()));
    }
    Some(match e {
        ast::Expr::Ref(r) => {
            // A computed scalar is a random value, read with its second moment; a scalar
            // input (`scalar alpha`) is a number at the run's point, a coefficient squared
            // like a symbol (probe33/a a23: `alpha W x` gave alpha s v, not alpha^2 s v).
            if cx.random_ref(r) {
                e.clone()
            } else {
                square(e.clone())
            }
        }
        ast::Expr::Unary(UnOp::Neg, x, _) => rhs(x, cx)?,
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, _, _, s) => {
            // E[(C + Σ r)²] = C² + Σ E[r²] when the cross terms vanish: the terms are
            // independent (the engine's argument), so each cross term is a product of
            // means, zero when all the terms but one have mean zero. The constant terms
            // (`x + k + 1`) are one term, squared as a whole.
            let mut terms = Vec::new();
            summands(e, &mut terms);
            let (consts, random): (Vec<&ast::Expr>, Vec<&ast::Expr>) =
                terms.into_iter().partition(|t| cx.constant(t));
            let not_centred = random.iter().filter(|t| !cx.zero_mean(t)).count()
                + usize::from(!consts.is_empty());
            if not_centred > 1 {
                return None;
            }
            let mut out: Vec<ast::Expr> = Vec::new();
            if !consts.is_empty() {
                // The signs of the constant part matter (`k - 1`): rebuilt from `e`.
                out.push(square(constant_part(e, cx)?));
            }
            for t in random {
                out.push(rhs(t, cx)?);
            }
            total(out, *s)?
        }
        ast::Expr::Binary(op, l, r, s) => match op {
            BinOp::Mul | BinOp::Jux => {
                // E[(a b)²] = E[a²] E[b²] needs independent factors: two that read the
                // same leaf (`x x + 1`: E = 3 v² + 2 v + 1, the program's v² + 1; `w x`
                // with `w = x + 1`) make the program give up.
                let (a, b) = (cx.reads(l), cx.reads(r));
                if !a.is_disjoint(&b) {
                    return None;
                }
                ast::Expr::Binary(*op, Box::new(rhs(l, cx)?), Box::new(rhs(r, cx)?), *s)
            }
            BinOp::Div => {
                // Only by a constant: its square.
                if !cx.constant(r) {
                    return None;
                }
                ast::Expr::Binary(
                    BinOp::Div,
                    Box::new(rhs(l, cx)?),
                    Box::new(square((**r).clone())),
                    *s,
                )
            }
            _ => return None,
        },
        // A sum over an index: its terms uncorrelated (the engine's argument) and, for
        // the cross terms to vanish, of mean zero (`sum_j (x[j] + 1)` is not).
        ast::Expr::Sum(ids, b, s) if cx.zero_mean(b) => {
            ast::Expr::Sum(ids.clone(), Box::new(rhs(b, cx)?), *s)
        }
        _ => return None,
    })
}

/// The constant terms of a chain of `+` and `-`, with their signs (`x - k + 1` → `-k + 1`,
/// as `0 - k + 1`); `None` when there are none.
fn constant_part(e: &ast::Expr, cx: &Ctx) -> Option<ast::Expr> {
    match e {
        ast::Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, s) => {
            let (l, r) = (constant_part(l, cx), constant_part(r, cx));
            match (l, r) {
                (Some(l), Some(r)) => Some(bin(*op, l, r, *s)),
                (Some(l), None) => Some(l),
                (None, Some(r)) if *op == BinOp::Sub => Some(bin(BinOp::Sub, num("0", *s), r, *s)),
                (None, r) => r,
            }
        }
        _ if cx.constant(e) => Some(e.clone()),
        _ => None,
    }
}

fn second_moment_of(init: &Init) -> Option<Init> {
    match init {
        Init::Value(v) => Some(Init::Value(square(v.clone()))),
        Init::Dist(c) => {
            let zero =
                |a: &ast::Expr| matches!(a, ast::Expr::Num(n, _) if n.parse::<f64>() == Ok(0.0));
            match (c.func.name.as_str(), c.args.as_slice()) {
                ("normal", [m, v]) if zero(m) => Some(Init::Value(v.clone())),
                ("symmetric", [v]) => Some(Init::Value(v.clone())),
                ("moments", [m, s]) if zero(m) => Some(Init::Value(s.clone())),
                _ => None,
            }
        }
    }
}

fn items(its: &[Item], cx: &Ctx) -> Option<Vec<Item>> {
    rewrite_items(its, &mut |it| {
        Some(match &it.kind {
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => None,
            ItemKind::Decl(d) => Some(ItemKind::Decl(Decl {
                init: Some(second_moment_of(d.init.as_ref()?)?),
                ..d.clone()
            })),
            ItemKind::Equation(eq) => {
                let mut eq = eq.clone();
                eq.rhs = rhs(&eq.rhs, cx)?;
                if eq.op == AssignOp::SubAssign {
                    eq.op = AssignOp::AddAssign;
                }
                Some(ItemKind::Equation(eq))
            }
            other => Some(other.clone()),
        })
    })
}

/// Rewrites a statement list for a derived program: `f` maps each statement other
/// than a `for` block or a claim to its new form (`Some(None)` drops it, `None` gives
/// up on the whole program); `for` blocks are rewritten inside and claims dropped.
fn rewrite_items(
    its: &[Item],
    f: &mut dyn FnMut(&Item) -> Option<Option<ItemKind>>,
) -> Option<Vec<Item>> {
    let mut out = Vec::new();
    for it in its {
        let kind = match &it.kind {
            ItemKind::Loop(l) => {
                let mut l = l.clone();
                l.body = rewrite_items(&l.body, f)?;
                ItemKind::Loop(l)
            }
            ItemKind::ForIndices(fi) => {
                let mut fi = fi.clone();
                fi.body = rewrite_items(&fi.body, f)?;
                ItemKind::ForIndices(fi)
            }
            ItemKind::Claim(_) => continue,
            _ => match f(it)? {
                Some(k) => k,
                None => continue,
            },
        };
        out.push(Item {
            kind,
            span: it.span,
        });
    }
    Some(out)
}

/// The second-moment program of a forward program, or `None` when it is not
/// multilinear in zero-mean leaves.
pub fn second_moment_program(program: &Program, env: &Env) -> Option<Program> {
    let cx = Ctx::new(env, &[&program.items]);
    Some(Program {
        items: items(&program.items, &cx)?,
    })
}

/// Runs the second-moment program with the machine set up by `setup` (sizes, symbols,
/// the boundary rule). The forward program only: a gradient element reads 0 in it (use
/// `run_with_backward` for gradients).
pub fn run<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Machine<'a>, String> {
    run_within(program, env, setup, false, BUDGET).map_err(|e| e.message)
}

/// The second-moment program of the forward program followed by that of the derived
/// backward program in gather form, each `grad T ~ dist` seeding `T.grad` with the
/// distribution's second moment (zero mean only). The gather form's terms are the
/// scatter's, solved for the written position, so the same argument holds: a sum of
/// uncorrelated zero-mean terms has the sum of their second moments. `Err` when either
/// program is not multilinear in zero-mean leaves.
pub fn run_with_backward<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Machine<'a>, String> {
    run_within(program, env, setup, true, BUDGET).map_err(|e| e.message)
}

/// The second-moment program (with the backward program's when `backward`) run within
/// `budget` element evaluations; `Err` with `too_large` when the budget does not suffice.
pub fn run_within<'a>(
    program: &Program,
    env: &'a Env,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
    backward: bool,
    budget: u64,
) -> Result<Machine<'a>, NumError> {
    let cannot = |m: &str| NumError {
        message: m.to_string(),
        too_large: false,
    };
    let not_multilinear = "the program is not multilinear in zero-mean leaves";
    // The gradient seeds: (declaration, its second moment).
    let mut seeds = Vec::new();
    let mut gathered: Vec<Item> = Vec::new();
    if backward {
        collect_grad_decls(&program.items, &mut seeds);
        if seeds.is_empty() {
            return Err(cannot("no gradient is declared (`grad T ~ ...`)"));
        }
        let back = crate::grad::backward(program, env);
        gathered = crate::grad::gather_form(&back.items, env)
            .into_iter()
            .map(|g| g.item)
            .collect();
    }
    let cx = Ctx::new(env, &[&program.items, &gathered]);
    let mut sm = Program {
        items: items(&program.items, &cx).ok_or_else(|| cannot(not_multilinear))?,
    };
    if backward {
        sm.items.extend(
            items(&gathered, &cx)
                .ok_or_else(|| cannot("the backward program is not multilinear"))?,
        );
    }
    let mut m = Machine::new(&sm, env)?;
    m.max_steps = budget;
    setup(&mut m)?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    m.sample_leaves(&sm, &mut rng)?;
    for d in &seeds {
        let Some(Init::Value(v)) = d.init.as_ref().and_then(second_moment_of) else {
            return Err(cannot(&format!(
                "the gradient arriving at `{}` has no zero-mean distribution",
                crate::syntax::printer::print_name(&d.target.name)
            )));
        };
        let value = m.eval(&v, &Vec::new())?;
        for (mb, pos) in m.decl_elements(d)? {
            m.set((mb, true), pos, value)?;
        }
    }
    m.run_items(&sm.items, &mut Vec::new())?;
    Ok(m)
}

/// Work budget of `tq derive`'s border section (element evaluations). The section is a
/// remark, not a verdict, and `derive`, `render` and the language server all show it,
/// so it gets a tenth of a claim's run: a mutant of erratum e7 with X = Y = 60 spent 7.3 M
/// evaluations (2.3 s of CPU) on it, in `derive` and again in `render`.
pub const BORDER_BUDGET: u64 = 2_000_000;

/// The second moments of the last member of one forward recurrence under zero padding,
/// position by position, at the sample sizes.
#[derive(Clone, Debug)]
pub struct BorderStat {
    /// The member (`L_{4}`).
    pub member: String,
    /// The position with the least second moment, and the value (the first in position
    /// order among equals); likewise the most.
    pub least: (Vec<i64>, f64),
    pub most: (Vec<i64>, f64),
    pub mean: f64,
    pub positions: usize,
    /// The recurrence's closed form at the member, away from the border.
    pub closed: Option<f64>,
    /// `B = 2`, ...: the sizes the run used.
    pub sizes: Vec<String>,
}

/// What the border run gave: the members whose positions differ, or why there is none.
#[derive(Clone, Debug)]
pub enum Border {
    Stats(Vec<BorderStat>),
    /// The run needs more than [`BORDER_BUDGET`] evaluations at the sample sizes.
    TooLarge(String),
    /// No recurrence with a closed form, or the run cannot be made (not multilinear).
    None,
}

/// The border effect under zero padding at the file's sample sizes: the second-moment
/// program run once, position by position, read at the last member of each forward
/// recurrence with a closed form (`loops`: the program's loops, outer first).
pub fn border(
    program: &Program,
    env: &Env,
    recurrences: &[super::Recurrence],
    loops: &[ast::Range],
) -> Border {
    use crate::syntax::ast::{Affine, IndexExpr, Name};
    let recs: Vec<&super::Recurrence> = recurrences
        .iter()
        .filter(|rec| !rec.grad && rec.var_closed.is_some())
        .collect();
    if recs.is_empty() {
        return Border::None;
    }
    let setup = |m: &mut Machine| -> Result<(), NumError> {
        m.boundary = Some(ast::Boundary::Zero);
        Ok(())
    };
    let mut m = match run_within(program, env, &setup, false, BORDER_BUDGET) {
        Ok(m) => m,
        Err(e) if e.too_large => return Border::TooLarge(e.message),
        Err(_) => return Border::None,
    };
    let mut out = Vec::new();
    for rec in recs {
        // The last member: the loop's end plus the written offset, at the sample.
        let Some(range) = loops.iter().find(|l| l.var.name == rec.var) else {
            continue;
        };
        let Ok(hi) = m.const_expr(&range.to) else {
            continue;
        };
        let Some(off) =
            crate::sym::simplify(&(rec.to.clone() - crate::sym::Expr::sym(&rec.var))).as_int()
        else {
            continue;
        };
        let last = hi.round() as i64 + off;
        let span = range.span;
        let name = Name {
            base: rec.tensor.clone(),
            primes: 0,
            sup: vec![],
            sub: vec![IndexExpr::Affine(Affine {
                terms: vec![],
                constant: last,
                span,
            })],
            span,
        };
        let Ok(member) = m.member_of(&name, &vec![]) else {
            continue;
        };
        let Some(vals) = m.vals.get(&(member.clone(), false)) else {
            continue;
        };
        let mut items: Vec<(Vec<i64>, f64)> = vals.iter().map(|(p, v)| (p.clone(), *v)).collect();
        if items.is_empty() {
            continue;
        }
        items.sort_by(|x, y| x.0.cmp(&y.0));
        let least = items
            .iter()
            .fold(&items[0], |acc, x| if x.1 < acc.1 { x } else { acc });
        let most = items
            .iter()
            .fold(&items[0], |acc, x| if x.1 > acc.1 { x } else { acc });
        // Only worth a section when positions differ.
        if most.1 - least.1 <= 1e-12 * most.1.abs().max(1.0) {
            continue;
        }
        let mean = items.iter().map(|x| x.1).sum::<f64>() / items.len() as f64;
        let at: std::collections::BTreeMap<String, f64> = m.consts.clone().into_iter().collect();
        let closed = rec.var_closed.as_ref().and_then(|c| {
            c.subs("#n", &crate::sym::Expr::int(last))
                .eval_f64(&at)
                .ok()
        });
        let sizes: Vec<String> = env
            .sizes
            .keys()
            .filter_map(|k| m.consts.get(k).map(|v| format!("{k} = {v}")))
            .collect();
        out.push(BorderStat {
            member,
            least: least.clone(),
            most: most.clone(),
            mean,
            positions: items.len(),
            closed,
            sizes,
        });
    }
    Border::Stats(out)
}

fn collect_grad_decls(its: &[Item], out: &mut Vec<Decl>) {
    for it in its {
        match &it.kind {
            ItemKind::Decl(d) if d.kind == DeclKind::Grad => out.push(d.clone()),
            ItemKind::Loop(l) => collect_grad_decls(&l.body, out),
            ItemKind::ForIndices(fi) => collect_grad_decls(&fi.body, out),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// Whether any element is away from the border.
//
// The moments engine's value for a read that crosses the border (zero padding, valid
// ranges, an index plus a constant) is that of an element *away from the border*: one
// whose every read, of its window and recursively of the elements it reads, falls inside
// the range and on an element away from the border itself. At small sizes, or for some
// read forms at every size (a reversed read `-t + DT - 1`: every window starts below 0),
// no element is; the engine's value is then no element's, and no verdict may rest on it.
//
// The *interior program* computes, element by element, whether it is away from the
// border: every declared leaf is 1, and every statement writes 1 where all the reads of
// its right side (every element of their windows: the same capitals and sums) read 1,
// and 2 where some read does not; an element outside the range, or never written, reads
// 0. A read's defect is `(r - 1)(r - 1)` (summed over the read's own capitals, as a
// product term), zero exactly when it reads 1; `[defects > 0]` is 0 exactly on the
// interior (a function's argument, an explicit sum: the same, inside). An accumulation (`+=`) keeps 1 only while every
// contribution is away from the border.
// ---------------------------------------------------------------------------------

/// `[x > 0]`: 1 where some read of `x`'s defects is not away from the border.
fn positive(x: ast::Expr, span: Span) -> ast::Expr {
    ast::Expr::Iverson(
        Box::new(ast::Expr::Rel(
            ast::RelOp::Gt,
            Box::new(x),
            Box::new(num("0", span)),
            span,
        )),
        span,
    )
}

fn bin(op: BinOp, l: ast::Expr, r: ast::Expr, span: Span) -> ast::Expr {
    ast::Expr::Binary(op, Box::new(l), Box::new(r), span)
}

fn total(terms: Vec<ast::Expr>, span: Span) -> Option<ast::Expr> {
    terms.into_iter().reduce(|a, b| bin(BinOp::Add, a, b, span))
}

/// The defects of the reads of an expression: terms that are zero exactly when every
/// read (over its window) reads an element away from the border.
fn defects(e: &ast::Expr, env: &Env, out: &mut Vec<ast::Expr>) {
    match e {
        ast::Expr::Ref(r) => {
            let tensor =
                r.indices.is_some() || r.grad || env.tensors.contains_key(&env.key_of(&r.name));
            if tensor {
                let s = r.span;
                let d = bin(BinOp::Sub, e.clone(), num("1", s), s);
                out.push(bin(BinOp::Mul, d.clone(), d, s));
            }
        }
        ast::Expr::Unary(_, x, _) => defects(x, env, out),
        ast::Expr::Binary(_, l, r, _) | ast::Expr::Rel(_, l, r, _) => {
            defects(l, env, out);
            defects(r, env, out);
        }
        ast::Expr::Call(c) => {
            let mut inner = Vec::new();
            for a in &c.args {
                defects(a, env, &mut inner);
            }
            if let Some(t) = total(inner, c.span) {
                out.push(positive(t, c.span));
            }
        }
        ast::Expr::Iverson(x, s) => {
            let mut inner = Vec::new();
            defects(x, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(positive(t, *s));
            }
        }
        ast::Expr::Sum(ids, b, s) => {
            let mut inner = Vec::new();
            defects(b, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(ast::Expr::Sum(ids.clone(), Box::new(t), *s));
            }
        }
        ast::Expr::Softmax(id, b, s) => {
            let mut inner = Vec::new();
            defects(b, env, &mut inner);
            if let Some(t) = total(inner, *s) {
                out.push(ast::Expr::Sum(vec![id.clone()], Box::new(t), *s));
            }
        }
        ast::Expr::Num(..) | ast::Expr::Deriv(..) => {}
    }
}

fn interior_items(its: &[Item], env: &Env) -> Vec<Item> {
    let rewritten = rewrite_items(its, &mut |it| {
        Some(Some(match &it.kind {
            ItemKind::Decl(d) => {
                let categorical =
                    matches!(&d.init, Some(Init::Dist(c)) if c.func.name == "categorical");
                let init = if categorical {
                    d.init.clone()
                } else {
                    Some(Init::Value(num("1", it.span)))
                };
                ItemKind::Decl(Decl { init, ..d.clone() })
            }
            ItemKind::Equation(eq) => {
                let s = eq.span;
                let mut ds = Vec::new();
                defects(&eq.rhs, env, &mut ds);
                let bad = match total(ds, s) {
                    Some(t) => positive(t, s),
                    None => num("0", s),
                };
                let mut eq = eq.clone();
                if eq.op == AssignOp::Set {
                    eq.rhs = bin(BinOp::Add, num("1", s), bad, s);
                } else {
                    // Unwritten (0) and good: 1; written and good: unchanged; bad: ≥ 2.
                    let old = ast::Expr::Ref(eq.lhs.clone());
                    let first = positive(bin(BinOp::Sub, num("1", s), old, s), s);
                    let good = bin(BinOp::Sub, num("1", s), bad.clone(), s);
                    eq.rhs = bin(
                        BinOp::Add,
                        bin(BinOp::Mul, first, good, s),
                        bin(BinOp::Mul, num("2", s), bad, s),
                        s,
                    );
                    eq.op = AssignOp::AddAssign;
                }
                ItemKind::Equation(eq)
            }
            other => other.clone(),
        }))
    });
    // The statement rewrite above never gives up.
    rewritten.unwrap_or_default()
}

/// The interior program of a forward program and (for gradients) its derived backward
/// program in gather form: every element 1 exactly where it is away from the border.
pub fn interior_program(program: &Program, env: &Env, backward: bool) -> Program {
    let mut items = interior_items(&program.items, env);
    if backward {
        let back = crate::grad::backward(program, env);
        let gathered: Vec<Item> = crate::grad::gather_form(&back.items, env)
            .into_iter()
            .map(|g| g.item)
            .collect();
        items.extend(interior_items(&gathered, env));
    }
    Program { items }
}

/// Whether some element of the tensor `target` (a member without fixed positions, or
/// a gradient) is away from the border, at the sizes the machine is set up with by
/// `setup`: `Ok(None)` when the member cannot be named without a loop variable (a
/// family's generic member).
pub fn interior_exists(
    program: &Program,
    env: &Env,
    target: &ast::Ref,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Option<bool>, String> {
    Ok(interior_split(program, env, target, &Vec::new(), setup)?.map(|(inside, _)| inside > 0))
}

/// How many elements of `target` are away from the border and how many are not, by the
/// interior program ([`interior_exists`]); `None` when the member does not exist at
/// these sizes. Elements on both sides have different moments under zero padding, so a
/// pool of all of them is no element's.
pub fn interior_split(
    program: &Program,
    env: &Env,
    target: &ast::Ref,
    bind: &crate::num::Bind,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Option<(usize, usize)>, String> {
    interior_split_within(program, env, target, bind, setup, BUDGET).0
}

/// [`interior_split`] within `max_steps` element evaluations (at most [`BUDGET`]), with
/// the evaluations it spent (`max_steps` when it ran out), for the claims' file budget of
/// interior runs (`claims::montecarlo::interior`).
pub fn interior_split_within(
    program: &Program,
    env: &Env,
    target: &ast::Ref,
    bind: &crate::num::Bind,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
    max_steps: u64,
) -> (Result<Option<(usize, usize)>, String>, u64) {
    let ip = interior_program(program, env, target.grad);
    let mut m = match Machine::new(&ip, env) {
        Ok(m) => m,
        Err(e) => return (Err(e.message), 0),
    };
    m.max_steps = max_steps.min(BUDGET);
    let r = split_run(&ip, &mut m, target, bind, setup);
    (r, m.steps().min(m.max_steps))
}

fn split_run(
    ip: &Program,
    m: &mut Machine,
    target: &ast::Ref,
    bind: &crate::num::Bind,
    setup: &dyn Fn(&mut Machine) -> Result<(), NumError>,
) -> Result<Option<(usize, usize)>, String> {
    setup(m).map_err(|e| e.message)?;
    let Ok(member) = m.member_of(&target.name, bind) else {
        return Ok(None);
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    m.sample_leaves(ip, &mut rng).map_err(|e| e.message)?;
    if target.grad {
        for it in &ip.items {
            if let ItemKind::Decl(d) = &it.kind {
                if d.kind == DeclKind::Grad {
                    for (mb, pos) in m.decl_elements(d).map_err(|e| e.message)? {
                        m.set((mb, true), pos, 1.0).map_err(|e| e.message)?;
                    }
                }
            }
        }
    }
    m.run_items(&ip.items, &mut Vec::new())
        .map_err(|e| e.message)?;
    let vals = m.vals.get(&(member, target.grad));
    let inside = vals.map_or(0, |vals| vals.values().filter(|v| **v == 1.0).count());
    let all = vals.map_or(0, |vals| vals.len());
    Ok(Some((inside, all - inside)))
}
