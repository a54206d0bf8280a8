//! Scalar expressions and scalar programs lowered to the exact symbolic engine:
//! claims about them are decided exactly, and `tq derive` prints their forward values
//! and adjoints.

use crate::grad;
use crate::sym::{self, Expr, Func};
use crate::syntax::ast::{self as ast, AssignOp, BinOp, Item, ItemKind, Program, RelOp, UnOp};
use crate::syntax::printer::print_name;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::sym::parse_number;

/// Why [`parse_number`] refused a literal: an exponent beyond ±400 is out of range (the
/// number is not mis-described as no number).
pub fn not_read_exactly(s: &str) -> String {
    let exponent = s.find(['e', 'E']).map(|k| &s[k + 1..]);
    let out_of_range = exponent.is_some_and(|e| {
        let digits = e.trim_start_matches(['+', '-']);
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && e.parse::<i32>().map_or(true, |x| x.unsigned_abs() > 400)
    });
    if out_of_range {
        format!("`{s}` is out of range: tq reads exact numbers with exponents from -400 to 400")
    } else {
        format!("`{s}` is not a number tq reads exactly")
    }
}

/// The relation `sym` decides for an operator, `None` for `~=` (whose tolerance the
/// claim says).
pub fn relation(op: RelOp) -> Option<sym::Rel> {
    Some(match op {
        RelOp::Eq => sym::Rel::Eq,
        RelOp::Le => sym::Rel::Le,
        RelOp::Ge => sym::Rel::Ge,
        RelOp::Lt => sym::Rel::Lt,
        RelOp::Gt => sym::Rel::Gt,
        RelOp::Approx => return None,
    })
}

/// A given that bounds a symbol by a number (`beta < 1`, `0 < eta`, `mu >= 1/2`), both
/// sides lowered by `lower` ([`sym::Rel::number_bound`]): (symbol, relation with the
/// symbol on the left, number).
pub fn number_bound(
    e: &ast::Expr,
    lower: &mut dyn FnMut(&ast::Expr) -> Result<Expr, String>,
) -> Option<(String, sym::Rel, num_rational::BigRational)> {
    let ast::Expr::Rel(op, l, r, _) = e else {
        return None;
    };
    sym::Rel::number_bound(&lower(l).ok()?, &relation(*op)?, &lower(r).ok()?)
}

/// What lowering needs: scalar definitions and, for `.grad` references, adjoints.
#[derive(Default, Clone)]
pub struct Scope {
    pub defs: BTreeMap<String, Expr>,
    pub grads: BTreeMap<String, Expr>,
    /// Values of derived calls in the claim (`mults(R)`, `order(backward, T)`), keyed by
    /// their printed text.
    pub calls: BTreeMap<String, Result<Expr, String>>,
    /// The definedness conditions of each call's value, keyed as `calls` (a moment's:
    /// `a - c >= 0` of `Var(y)` for `y = sqrt(a - c) x`, whose value `v (a - c)` no
    /// longer shows it), noted wherever the call is lowered.
    pub call_conditions: BTreeMap<String, Vec<sym::Condition>>,
    /// The definedness conditions of each defined value (its divisions, logs and roots,
    /// and those of the values it reads), noted again wherever the value is used, so
    /// that `u = x/x` then `claim u == 1` keeps `x ≠ 0` (docs/soundness.md).
    pub def_conditions: BTreeMap<String, Vec<sym::Condition>>,
    /// Values the program computes that are not in `defs` (a statement tq cannot write
    /// out as an expression of the symbols: a sum over a tensor, a value computed in a
    /// loop), with the reason. They lower to atoms of their own name, so a claim over
    /// them holds for every value they could take (a proof stands), but a point where
    /// it fails need not be one the program computes: no refutation may rest on one
    /// (taking `b` of `b = a^2 + 1` as free refuted `b > 0` "at b = 0").
    pub opaque: BTreeMap<String, String>,
    /// Families whose members are computed in a loop (`h` of `h_{l+1} = ...`): a member
    /// the scope does not define (`h_2`) is opaque too.
    pub opaque_families: BTreeSet<String>,
    /// Values of the scalar program not written out because they would have more than
    /// [`MAX_VALUE_NODES`] nodes, or read such a value (they are in `opaque` too):
    /// a value or adjoint of the program that reads one is not written out either.
    pub large: BTreeSet<String>,
}

/// The most expression nodes ([`Expr::node_count`]) a value or an adjoint of a scalar
/// program may have when written out in the inputs, counted as it is lowered (each
/// value read counts its nodes). Substituting values into values can grow them
/// geometrically along a chain (`u_{k+1} = (u_k + a) (u_k - a)` doubles at each
/// statement); past this budget the value stays a name (opaque, see
/// [`Scope::opaque`]) and an adjoint is left out, never written in part. The largest
/// value among `problems/` and `tests/cases/` has far fewer nodes (docs/fuzzing.md).
pub const MAX_VALUE_NODES: usize = 2_000;

/// The most expression nodes all the values of a scalar program together may have
/// written out in the inputs, and likewise all its adjoints (each counted as
/// [`MAX_VALUE_NODES`] counts one): every value under [`MAX_VALUE_NODES`] can still
/// make a chain of 200 statements of up to 2,000 nodes each, which every later engine
/// (simplification in `tq derive`, moments, claims) walks statement by statement. Past
/// this budget a value stays a name and an adjoint is left out, exactly as past
/// [`MAX_VALUE_NODES`]. The largest scalar program among `problems/` and `tests/cases/`
/// has far fewer nodes (docs/fuzzing.md).
pub const MAX_PROGRAM_NODES: usize = 20_000;

fn over_program_budget() -> String {
    format!(
        "the values written out before it already have more than {MAX_PROGRAM_NODES} expression nodes together"
    )
}

/// [`lower`] under [`MAX_VALUE_NODES`]: `Err` with `over` set when the written-out
/// value would be larger, or reads a value that was (`Scope::large`).
fn lower_counted(e: &ast::Expr, sc: &Scope) -> Result<Expr, (bool, String)> {
    struct Counted<'s> {
        sc: &'s Scope,
        used: usize,
        over: Option<String>,
    }
    impl Atoms for Counted<'_> {
        fn reference(&mut self, r: &ast::Ref) -> Result<Expr, Unlowered> {
            let name = print_name(&r.name);
            if r.indices.is_none() && !r.grad && self.sc.large.contains(&name) {
                let why = format!("it reads `{name}`, which is not written out");
                self.over = Some(why.clone());
                return Err(why.into());
            }
            let mut sc = self.sc;
            let v = sc.reference(r)?;
            // The value's definedness conditions are noted again where it is read:
            // they count too (a chain of `1/(u_k + a)` carries one per statement).
            let conds = self.sc.def_conditions.get(&name).map_or(0, |cs| {
                cs.iter().map(|c| c.expr().node_count()).sum::<usize>()
            });
            self.used = self
                .used
                .saturating_add(v.node_count())
                .saturating_add(conds);
            if self.used > MAX_VALUE_NODES {
                let why = format!(
                    "written out in the inputs it would have more than {MAX_VALUE_NODES} expression nodes"
                );
                self.over = Some(why.clone());
                return Err(why.into());
            }
            Ok(v)
        }
        fn call(&mut self, e: &ast::Expr, c: &ast::Call) -> Option<Result<Expr, Unlowered>> {
            let mut sc = self.sc;
            sc.call(e, c)
        }
        fn opaque_in(&self, e: &Expr) -> Option<(String, String)> {
            let sc = self.sc;
            Atoms::opaque_in(&sc, e)
        }
    }
    let mut c = Counted {
        sc,
        used: 0,
        over: None,
    };
    let v = lower_with(e, &mut c);
    if let Some(why) = c.over {
        return Err((true, why));
    }
    let v = v.map_err(|u| (false, u.message))?;
    if v.node_count() > MAX_VALUE_NODES {
        return Err((
            true,
            format!("written out in the inputs it would have more than {MAX_VALUE_NODES} expression nodes"),
        ));
    }
    Ok(v)
}

/// Why an expression could not be lowered: what it met, and the reason in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unlowered {
    /// The expression reads tensor elements or explicit sums (a scalar claim cannot
    /// hold them; a sampled run of the model can).
    pub elements: bool,
    pub message: String,
}

impl From<String> for Unlowered {
    fn from(message: String) -> Unlowered {
        Unlowered {
            elements: false,
            message,
        }
    }
}

fn on_elements(message: String) -> Unlowered {
    Unlowered {
        elements: true,
        message,
    }
}

/// How one lowering reads what the shared walk ([`lower_with`]) leaves to it: the one
/// place where the lowerings differ. Scalar claims read a [`Scope`] (defined values,
/// adjoints, derived calls); tensor-element claims write elements out at a generic index
/// (`claims::elements`); update rules read a rule's states at a step (`claims::rules`).
/// Numbers, arithmetic, the built-in functions, derivatives and the constructs no
/// lowering writes out are the walk's, so each is read (or refused, with the same
/// reason) alike everywhere.
pub trait Atoms {
    /// A reference: a value, a symbol, an adjoint, a tensor element, a rule's state.
    fn reference(&mut self, r: &ast::Ref) -> Result<Expr, Unlowered>;
    /// A call this lowering gives a meaning of its own (a derived count, a moment,
    /// `min(T)`), or `None` for the shared reading.
    fn call(&mut self, _e: &ast::Expr, _c: &ast::Call) -> Option<Result<Expr, Unlowered>> {
        None
    }
    /// The argument of a built-in function.
    fn argument(&mut self, x: &ast::Expr) -> Result<Expr, Unlowered> {
        lower_with(x, self)
    }
    /// A sum (`a + b`, `a - b`) met inside a term, or `None` for the shared reading
    /// (the tensor-element lowering sums there the capitals only that sum reads).
    fn parenthesized_sum(&mut self, _e: &ast::Expr) -> Option<Result<Expr, Unlowered>> {
        None
    }
    /// `sqrt` of a lowered argument.
    fn sqrt(&mut self, x: Expr) -> Expr {
        Expr::sqrt(x)
    }
    /// A value this lowering writes as an atom although the program computes it (see
    /// [`Scope::opaque`]), with the reason: a derivative of it is unknown (its atom's
    /// derivative would be 0), so `d(u)/d(a)` of such a value is not lowered.
    fn opaque_in(&self, _e: &Expr) -> Option<(String, String)> {
        None
    }
    /// Whether Iverson brackets are read as exact steps (`[d > 0]` = step(d)): in scalar
    /// claims and programs, whose symbols range over the reals. Not where a bracket
    /// compares an index with an integer-valued tensor (`[k == lab[t]]`): random rational
    /// points there are no labels, so those engines leave brackets to the sampled run.
    fn iverson(&self) -> bool {
        false
    }
    /// `softmax_{k}(body)`, or `None` where this lowering does not write it out.
    fn softmax(&mut self, _id: &ast::Ident, _body: &ast::Expr) -> Option<Result<Expr, Unlowered>> {
        None
    }
    /// An Iverson bracket this lowering reads itself (the tensor-element lowering reads
    /// `[k == k']` of two indices as a Kronecker delta), or `None`.
    fn bracket(&mut self, _inner: &ast::Expr) -> Option<Result<Expr, Unlowered>> {
        None
    }
    /// An explicit sum `sum_{i}(body)`.
    fn sum(&mut self, _ids: &[ast::Ident], _body: &ast::Expr) -> Result<Expr, Unlowered> {
        Err(on_elements(
            "explicit sums in claims are not decided yet".into(),
        ))
    }
}

impl Atoms for &Scope {
    fn iverson(&self) -> bool {
        true
    }

    fn opaque_in(&self, e: &Expr) -> Option<(String, String)> {
        self.opaque_atoms(e).into_iter().next()
    }

    fn reference(&mut self, r: &ast::Ref) -> Result<Expr, Unlowered> {
        let name = print_name(&r.name);
        if r.indices.is_some() {
            return Err(on_elements(format!("`{name}[...]` is a tensor element; claims about tensor elements are not decided yet")));
        }
        if r.grad {
            // An adjoint the scalar program does not write out (a scalar parameter of a
            // tensor program, `c` of `s[b,i] = c z[b,i]`) is the derived backward
            // program's value: a sampled run of the model reads it, as it reads the
            // gradients' elements.
            return self.grads.get(&name).cloned().ok_or_else(|| {
                on_elements(format!("`{name}.grad` is not a scalar program's adjoint"))
            });
        }
        if let Some(cs) = self.def_conditions.get(&name) {
            cs.iter().cloned().for_each(sym::defined::note_condition);
        }
        if let Some(v) = self.defs.get(&name) {
            return Ok(v.clone());
        }
        Ok(Expr::sym(&name))
    }

    fn call(&mut self, e: &ast::Expr, _c: &ast::Call) -> Option<Result<Expr, Unlowered>> {
        if self.calls.is_empty() {
            return None;
        }
        let text = crate::syntax::printer::print_expr(e);
        if let Some(cs) = self.call_conditions.get(&text) {
            cs.iter().cloned().for_each(sym::defined::note_condition);
        }
        self.calls
            .get(&text)
            .map(|v| v.clone().map_err(Unlowered::from))
    }
}

/// [`lower_with`] where only references differ: `refs` reads each one.
pub fn lower_refs(
    e: &ast::Expr,
    refs: &mut dyn FnMut(&ast::Ref) -> Result<Expr, String>,
) -> Result<Expr, String> {
    struct Refs<'f>(&'f mut dyn FnMut(&ast::Ref) -> Result<Expr, String>);
    impl Atoms for Refs<'_> {
        fn reference(&mut self, r: &ast::Ref) -> Result<Expr, Unlowered> {
            (self.0)(r).map_err(Unlowered::from)
        }
    }
    lower_with(e, &mut Refs(refs)).map_err(|u| u.message)
}

/// Lowers a tq expression to an exact symbolic one, or says why it cannot.
pub fn lower(e: &ast::Expr, sc: &Scope) -> Result<Expr, String> {
    lower_or_why(e, sc).map_err(|u| u.message)
}

/// [`lower`], with what stopped it typed ([`Unlowered`]).
pub fn lower_or_why(e: &ast::Expr, sc: &Scope) -> Result<Expr, Unlowered> {
    lower_with(e, &mut { sc })
}

/// The terms of a chain of sums and differences `t1 + t2 - t3 …` (left-leaning, as
/// parsed), each lowered once in order, a subtracted one times -1, for one canonical
/// sum of them all. Built two at a time, the chain re-merged the growing sum at every
/// term: quadratic (and each merge re-collected the exact coefficients).
fn sum_terms<A: Atoms + ?Sized>(e: &ast::Expr, atoms: &mut A) -> Result<Vec<Expr>, Unlowered> {
    let mut rights = Vec::new();
    let mut cur = e;
    let first = loop {
        let ast::Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) = cur else {
            break lower_with(cur, atoms)?;
        };
        rights.push((*op, &**r));
        // A sum on the left is read by the atoms' own rule when they have one.
        if matches!(&**l, ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..)) {
            if let Some(v) = atoms.parenthesized_sum(l) {
                break v?;
            }
        }
        cur = l;
    };
    let mut terms = Vec::with_capacity(rights.len() + 1);
    terms.push(first);
    for (op, r) in rights.into_iter().rev() {
        let t = lower_with(r, atoms)?;
        terms.push(if op == BinOp::Sub {
            Expr::mul(vec![Expr::int(-1), t])
        } else {
            t
        });
    }
    Ok(terms)
}

/// The factors of a chain of products and quotients `f1 f2 / f3 …` (left-leaning, as
/// parsed), each lowered once in order, a divisor to the power -1, for one canonical
/// product of them all: built two at a time, a product of n factors re-merged (and
/// re-sorted, with its exact coefficient) the growing product at every factor, O(n²)
/// merges (2,000 distinct factors in a claim: 2.1 s; the derived gradient of a product
/// of 150 sums, 150 statements of 149 factors each, 2.3 s of `tq check`).
fn product_factors<A: Atoms + ?Sized>(
    e: &ast::Expr,
    atoms: &mut A,
) -> Result<Vec<Expr>, Unlowered> {
    let mut rights = Vec::new();
    let mut cur = e;
    while let ast::Expr::Binary(op @ (BinOp::Mul | BinOp::Jux | BinOp::Div), l, r, _) = cur {
        rights.push((*op, &**r));
        cur = l;
    }
    let mut factors = Vec::with_capacity(rights.len() + 1);
    factors.push(lower_with(cur, atoms)?);
    for (op, r) in rights.into_iter().rev() {
        let f = lower_with(r, atoms)?;
        factors.push(if op == BinOp::Div {
            Expr::pow(f, Expr::int(-1))
        } else {
            f
        });
    }
    Ok(factors)
}

/// The AST → `sym` lowering every engine shares: `atoms` reads the references (and the
/// calls and sums it gives a meaning of its own), the rest is read here.
pub fn lower_with<A: Atoms + ?Sized>(e: &ast::Expr, atoms: &mut A) -> Result<Expr, Unlowered> {
    Ok(match e {
        ast::Expr::Num(s, _) => Expr::num(parse_number(s).ok_or_else(|| not_read_exactly(s))?),
        ast::Expr::Ref(r) => atoms.reference(r)?,
        ast::Expr::Unary(UnOp::Neg, x, _) => -lower_with(x, atoms)?,
        ast::Expr::Binary(BinOp::Add | BinOp::Sub, ..) => match atoms.parenthesized_sum(e) {
            Some(v) => v?,
            None => Expr::add(sum_terms(e, atoms)?),
        },
        ast::Expr::Binary(BinOp::Mul | BinOp::Jux | BinOp::Div, ..) => {
            Expr::mul(product_factors(e, atoms)?)
        }
        ast::Expr::Binary(BinOp::Pow, l, r, _) => {
            let (a, b) = (lower_with(l, atoms)?, lower_with(r, atoms)?);
            Expr::pow(a, b)
        }
        ast::Expr::Call(c) => {
            if let Some(v) = atoms.call(e, c) {
                return v;
            }
            let f = c.func.name.as_str();
            if matches!(f, "E" | "Var" | "Cov") {
                return Err(format!(
                    "`{f}(...)` is a moment, not an expression of the symbols (the moments engine decides moments)"
                )
                .into());
            }
            // `floor` and `ceil` of an exact rational are decided exactly; of anything
            // else (a symbol, a size, an irrational) they are not written out: no float
            // decides them.
            if matches!(f, "floor" | "ceil") && c.args.len() == 1 {
                let x = lower_with(&c.args[0], atoms)?;
                return match x.as_num() {
                    Some(q) => Ok(Expr::num(num_rational::BigRational::from_integer(
                        if f == "floor" { q.floor() } else { q.ceil() }.to_integer(),
                    ))),
                    None => Err(format!(
                        "`{f}(...)` of `{}` is not decided: tq takes floor and ceil of exact rational numbers only (its argument here is not a number)",
                        crate::syntax::printer::print_expr(&c.args[0])
                    )
                    .into()),
                };
            }
            let func = match (Func::from_name(f), c.args.as_slice()) {
                (Some(func), [_]) => func,
                _ => return Err(format!("`{f}(...)` claims are not decided yet").into()),
            };
            let x = atoms.argument(&c.args[0])?;
            if func == Func::Sqrt {
                atoms.sqrt(x)
            } else {
                Expr::func(func, x)
            }
        }
        ast::Expr::Deriv(u, a, _) => {
            if u.indices.is_some() || a.indices.is_some() {
                return Err(on_elements(
                    "derivatives of tensor elements are not decided yet".into(),
                ));
            }
            let value = atoms.reference(u)?;
            if let Some((name, why)) = atoms.opaque_in(&value) {
                return Err(format!(
                    "`d({})/d({})`: `{name}` is computed by a statement tq cannot write out ({why}), so its derivative is not known",
                    print_name(&u.name),
                    print_name(&a.name)
                )
                .into());
            }
            // Only a derivative with respect to a free symbol (an input) is the
            // derivative of the value: a computed `x` is written out in the inputs, so
            // `d(y)/d(x)` taken at its symbol would be 0 whatever y is.
            let wrt = print_name(&a.name);
            match (a.grad, atoms.reference(a)?) {
                (false, Expr::Sym(s)) if s == wrt => value.diff(&wrt),
                _ => {
                    return Err(format!(
                        "`d({})/d({wrt})`: `{wrt}` is computed by the program; tq takes derivatives with respect to inputs only",
                        print_name(&u.name)
                    )
                    .into())
                }
            }
        }
        ast::Expr::Sum(ids, body, _) => atoms.sum(ids, body)?,
        ast::Expr::Softmax(id, body, _) => match atoms.softmax(id, body) {
            Some(v) => v?,
            None => return Err(String::from("softmax in claims is not decided yet").into()),
        },
        // An Iverson bracket `[l R r]` is the Heaviside step of the difference
        // (`step(d)` is 1 for d > 0 and 0 otherwise, exactly): `[d > 0]` = step(d),
        // `[d < 0]` = step(-d), `[d >= 0]` = 1 - step(-d), `[d <= 0]` = 1 - step(d),
        // `[d == 0]` = (1 - step(d)) (1 - step(-d)). So it is decided wherever its
        // condition is decided exactly (constants, exact points, range facts).
        ast::Expr::Iverson(inner, _) => match inner.as_ref() {
            _ if !atoms.iverson() => match atoms.bracket(inner) {
                Some(v) => v?,
                None => {
                    return Err(
                        String::from("relations inside expressions are not decided yet").into(),
                    )
                }
            },
            ast::Expr::Rel(op, l, r, _) if *op != RelOp::Approx => {
                let d = lower_with(l, atoms)? - lower_with(r, atoms)?;
                iverson_step_within(*op, d)?
            }
            _ => {
                return Err(String::from(
                    "an Iverson bracket of an approximate relation (`~=`) has no exact value",
                )
                .into())
            }
        },
        ast::Expr::Rel(..) => {
            return Err(String::from("relations inside expressions are not decided yet").into())
        }
    })
}

/// [`iverson_step`], refused when it would write a large difference twice: `[d == 0]`
/// writes `d` twice, so brackets of brackets double at each level (60 nested
/// `[[k == k'] == 1] == 1]…` grew past 2 GB in a minute; hand-made hostile file of
/// 2026-12-05).
pub fn iverson_step_within(op: RelOp, d: Expr) -> Result<Expr, Unlowered> {
    if op == RelOp::Eq && d.node_count() > MAX_VALUE_NODES {
        return Err(format!(
            "an Iverson bracket `==` whose sides have more than {MAX_VALUE_NODES} nodes is not written out (it writes its sides twice, so nested brackets double at each level)"
        )
        .into());
    }
    Ok(iverson_step(op, d))
}

/// `[d R 0]` as Heaviside steps of `d` (`step(d)` is 1 for d > 0, else 0): `[d > 0]` =
/// step(d), `[d < 0]` = step(-d), `[d >= 0]` = 1 - step(-d), `[d <= 0]` = 1 - step(d),
/// `[d == 0]` = (1 - step(d)) (1 - step(-d)). `~=` has no exact value: callers refuse it.
pub fn iverson_step(op: RelOp, d: Expr) -> Expr {
    let step = |x: Expr| Expr::func(Func::Step, x);
    let one = || Expr::int(1);
    match op {
        RelOp::Gt => step(d),
        RelOp::Lt => step(-d),
        RelOp::Ge => one() - step(-d),
        RelOp::Le => one() - step(d),
        _ => (one() - step(d.clone())) * (one() - step(-d)),
    }
}

/// Named entries in the order of their last write: writing a name again moves it to the
/// end. (A `retain` over the whole list at every write made a chain of 50,000 scalar
/// statements quadratic.)
struct Latest<T> {
    items: Vec<Option<(String, T)>>,
    pos: std::collections::HashMap<String, usize>,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest {
            items: Vec::new(),
            pos: std::collections::HashMap::new(),
        }
    }
}

impl<T> Latest<T> {
    fn remove(&mut self, name: &str) {
        if let Some(i) = self.pos.remove(name) {
            self.items[i] = None;
        }
    }

    fn push(&mut self, name: String, v: T) {
        self.remove(&name);
        self.pos.insert(name.clone(), self.items.len());
        self.items.push(Some((name, v)));
    }

    fn into_vec(self) -> Vec<(String, T)> {
        self.items.into_iter().flatten().collect()
    }
}

/// The index-free values of a program, each written out as an expression of the
/// symbols where it can be (in program order), and the values it computes that cannot
/// be (see [`Scope::opaque`]).
fn values_in(program: &Program) -> (Scope, Vec<(String, Expr)>) {
    let mut sc = Scope::default();
    let mut values: Latest<Expr> = Latest::default();
    // The nodes of the values written out so far ([`MAX_PROGRAM_NODES`]).
    let mut file_nodes = 0usize;
    for item in &program.items {
        match &item.kind {
            ItemKind::Equation(eq) => {
                if eq.lhs.indices.is_some() || eq.lhs.grad {
                    continue;
                }
                let name = print_name(&eq.lhs.name);
                if sc.opaque.contains_key(&name) {
                    continue;
                }
                if file_nodes > MAX_PROGRAM_NODES {
                    sc.defs.remove(&name);
                    values.remove(&name);
                    sc.large.insert(name.clone());
                    sc.opaque.insert(
                        name,
                        format!("it is not written out: {}", over_program_budget()),
                    );
                    continue;
                }
                let (v, mut conds) = sym::collecting(|| lower_counted(&eq.rhs, &sc));
                let v = match v {
                    Ok(v) => v,
                    Err((over, why)) => {
                        sc.defs.remove(&name);
                        values.remove(&name);
                        let why = if over {
                            sc.large.insert(name.clone());
                            format!("it is not written out: {why}")
                        } else {
                            "its statement is not an expression of the symbols".into()
                        };
                        sc.opaque.insert(name, why);
                        continue;
                    }
                };
                if let Some(old) = sc.def_conditions.get(&name) {
                    conds.extend(old.iter().cloned());
                }
                sc.def_conditions.insert(name.clone(), conds);
                let v = assign(eq.op, sc.defs.get(&name), v);
                if v.node_count() > MAX_VALUE_NODES {
                    // `+=` on a value: the sum of its parts is over the budget too.
                    sc.defs.remove(&name);
                    values.remove(&name);
                    sc.large.insert(name.clone());
                    sc.opaque.insert(name, format!("it is not written out: written out in the inputs it would have more than {MAX_VALUE_NODES} expression nodes"));
                    continue;
                }
                file_nodes = file_nodes.saturating_add(v.node_count());
                sc.defs.insert(name.clone(), v.clone());
                values.push(name, v);
            }
            ItemKind::Loop(l) => opaque_in(&l.body, &mut sc),
            ItemKind::ForIndices(f) => opaque_in(&f.body, &mut sc),
            ItemKind::Rule(r) => opaque_in(&r.body, &mut sc),
            _ => {}
        }
    }
    (sc, values.into_vec())
}

/// Marks the values written in a block (a loop, an update rule) as opaque: their
/// members or final values are not written out.
fn opaque_in(items: &[Item], sc: &mut Scope) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) if !eq.lhs.grad => {
                if eq.lhs.name.sub.is_empty() {
                    let name = print_name(&eq.lhs.name);
                    sc.defs.remove(&name);
                    sc.opaque
                        .insert(name, "a value written in a loop or an update rule".into());
                } else {
                    sc.opaque_families.insert(eq.lhs.name.base.clone());
                }
            }
            ItemKind::Loop(l) => opaque_in(&l.body, sc),
            ItemKind::ForIndices(f) => opaque_in(&f.body, sc),
            ItemKind::Rule(r) => opaque_in(&r.body, sc),
            _ => {}
        }
    }
}

impl Scope {
    /// The atoms of `e` that stand for values the program computes but this scope does
    /// not write out (see [`Scope::opaque`]), each with the reason.
    pub fn opaque_atoms(&self, e: &Expr) -> Vec<(String, String)> {
        e.free_symbols()
            .into_iter()
            .filter_map(|name| {
                if let Some(why) = self.opaque.get(&name) {
                    return Some((name, why.clone()));
                }
                let (base, sub) = name.split_once('_')?;
                (!sub.is_empty() && self.opaque_families.contains(base))
                    .then(|| (name.clone(), "a family member computed in a loop".into()))
            })
            .collect()
    }
}

/// The scope in which a claim's sides are written out: the scalar program's when the
/// file has one, otherwise the program's index-free values; with the computed values it
/// cannot write out marked opaque either way (see [`Scope::opaque`]).
pub fn claim_scope(program: &Program, scalar: Option<&ScalarProgram>) -> Scope {
    let (mut sc, _) = values_in(program);
    if let Some(p) = scalar {
        let (opaque, families) = (sc.opaque, sc.opaque_families);
        sc = p.scope();
        sc.opaque = opaque
            .into_iter()
            .filter(|(n, _)| !sc.defs.contains_key(n))
            .collect();
        sc.opaque_families = families;
    }
    sc
}

/// A scalar program (`scalar a, b` and scalar equations), evaluated symbolically.
#[derive(Clone, Debug)]
pub struct ScalarProgram {
    pub inputs: Vec<String>,
    /// Each defined value as an expression in the inputs, in program order.
    pub values: Vec<(String, Expr)>,
    /// Each adjoint as an expression in the inputs, in the order of its last write.
    pub adjoints: Vec<(String, Expr)>,
    /// The definedness conditions of each value (see [`Scope::def_conditions`]).
    pub conditions: BTreeMap<String, Vec<sym::Condition>>,
    /// The value the backward program starts from.
    pub loss: Option<String>,
}

impl ScalarProgram {
    pub fn scope(&self) -> Scope {
        Scope {
            defs: self.values.iter().cloned().collect(),
            grads: self.adjoints.iter().cloned().collect(),
            calls: BTreeMap::new(),
            def_conditions: self.conditions.clone(),
            ..Scope::default()
        }
    }
}

/// The value after `=`, `+=` or `-=` (an unset value counts as 0).
fn assign(op: AssignOp, old: Option<&Expr>, v: Expr) -> Expr {
    let old = || old.cloned().unwrap_or_else(Expr::zero);
    match op {
        AssignOp::Set => v,
        AssignOp::AddAssign => old() + v,
        AssignOp::SubAssign => old() - v,
    }
}

/// The scalar program of a file, when it has one (`scalar` inputs).
pub fn scalar_program(program: &Program, back: &grad::Backward) -> Option<ScalarProgram> {
    let mut inputs = Vec::new();
    for item in &program.items {
        if let ItemKind::Scalar(names) = &item.kind {
            inputs.extend(names.iter().map(|n| n.name.clone()));
        }
    }
    if inputs.is_empty() {
        return None;
    }
    let (mut sc, values) = values_in(program);
    sc.opaque.clear();
    sc.opaque_families.clear();
    // Adjoints: the derived backward program, run exactly.
    let mut order: Latest<()> = Latest::default();
    let mut failed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    // The nodes of the adjoint contributions written out so far ([`MAX_PROGRAM_NODES`]).
    let mut file_nodes = 0usize;
    for item in &back.items {
        let ItemKind::Equation(eq) = &item.kind else {
            continue;
        };
        if !eq.lhs.grad || eq.lhs.indices.is_some() {
            continue;
        }
        let name = print_name(&eq.lhs.name);
        if failed.contains(&name) {
            continue;
        }
        if file_nodes > MAX_PROGRAM_NODES {
            // Past the file's budget every adjoint still to come is left out, and so
            // is one whose contributions are not all in.
            sc.grads.remove(&name);
            order.remove(&name);
            failed.insert(name);
            continue;
        }
        // A contribution that cannot be lowered leaves the adjoint unknown: it is
        // dropped, never kept without that term (and what reads it fails in turn).
        let Ok(v) = lower_counted(&eq.rhs, &sc) else {
            sc.grads.remove(&name);
            order.remove(&name);
            failed.insert(name);
            continue;
        };
        file_nodes = file_nodes.saturating_add(v.node_count());
        let v = assign(eq.op, sc.grads.get(&name), v);
        if v.node_count() > MAX_VALUE_NODES {
            sc.grads.remove(&name);
            order.remove(&name);
            failed.insert(name);
            continue;
        }
        sc.grads.insert(name.clone(), v);
        order.push(name, ());
    }
    let adjoints = order
        .into_vec()
        .into_iter()
        .map(|(n, ())| {
            let v = sc.grads[&n].clone();
            (n, v)
        })
        .collect();
    Some(ScalarProgram {
        inputs,
        values,
        adjoints,
        conditions: sc.def_conditions.clone(),
        loss: back.seeds.first().cloned(),
    })
}

/// The values of a point (`at a = 2, b = 1`) as exact rationals.
pub fn point(bindings: &[ast::Binding]) -> Result<Vec<(String, Expr)>, String> {
    let mut pt: Vec<(String, Expr)> = bindings
        .iter()
        .map(|b| {
            Ok((
                b.name.name.clone(),
                sym::simplify(&lower(&b.value, &Scope::default())?),
            ))
        })
        .collect::<Result<_, String>>()?;
    // A value may name another scalar of the point (`at a = 1, b = 2 a + pi`, session 34):
    // each value is resolved with the others, in at most as many rounds as there are
    // values (a cycle keeps its names). Substituted one by one in order, `b`'s `a` was
    // left free and then drawn at random, so `a^2 + b == 3 + pi` was refuted "at a = 0".
    for _ in 0..pt.len() {
        let mut changed = false;
        for i in 0..pt.len() {
            let v = pt
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .fold(pt[i].1.clone(), |acc, (_, (n, x))| acc.subs(n, x));
            let v = sym::simplify(&v);
            if v != pt[i].1 {
                pt[i].1 = v;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Ok(pt)
}

/// Substitutes a point into an expression.
pub fn at(e: &Expr, pt: &[(String, Expr)]) -> Expr {
    pt.iter().fold(e.clone(), |acc, (n, v)| acc.subs(n, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(src: &str) -> Unlowered {
        let p = crate::syntax::parser::parse(&format!("claim {src} == 0\n")).program;
        let ItemKind::Claim(c) = &p.items[0].kind else {
            panic!("not a claim")
        };
        let ast::Expr::Rel(_, l, _, _) = &c.body else {
            panic!("not a relation")
        };
        lower_or_why(l, &Scope::default()).expect_err("does not lower")
    }

    /// Chains whose values grow geometrically (or carry growing conditions): every
    /// value written out stays under the node budget, and the chain's end, past it, is
    /// opaque with the reason, never written out.
    #[test]
    fn chained_values_stay_under_the_node_budget() {
        let forms = [
            ("(u{k} + a) (u{k} - a)", true),
            ("u{k} u{k} + u{k} a", true),
            ("(u{k} + a) (u{k} + 2 a) (u{k} + 3 a)", true),
            ("1/(u{k} + a) + 1/(u{k} - a)", true),
            ("exp(u{k}) + exp(2 u{k})", true),
            ("u{k} + a", false),
        ];
        for (form, grows) in forms {
            let n = 60;
            let mut src = String::from("scalar a\nu0 = a\n");
            for k in 0..n {
                src.push_str(&format!(
                    "u{} = {}\n",
                    k + 1,
                    form.replace("{k}", &k.to_string())
                ));
            }
            let p = crate::syntax::parser::parse(&src).program;
            let (sc, values) = values_in(&p);
            for (name, v) in &values {
                assert!(v.node_count() <= MAX_VALUE_NODES, "{form}: {name}");
            }
            let last = format!("u{n}");
            if grows {
                assert!(sc.large.contains(&last), "{form}");
                assert!(sc.opaque[&last].contains("not written out"), "{form}");
                assert!(!sc.defs.contains_key(&last), "{form}");
            } else {
                assert!(sc.defs.contains_key(&last), "{form}");
            }
        }
    }

    #[test]
    fn tensor_elements_and_explicit_sums_are_typed_obstacles() {
        for e in [
            "x[i] + 1",
            "2 sum_{i}(x[i])",
            "d(y[i])/d(x[i])",
            "exp(a) + w[j]",
        ] {
            let u = why(e);
            assert!(u.elements, "{e}: {}", u.message);
        }
        for e in ["softmax_{i}(x)", "foo(a, b)", "E(a) + 1"] {
            let u = why(e);
            assert!(!u.elements, "{e}: {}", u.message);
            // The untyped lowering says the same in words.
            let p = crate::syntax::parser::parse(&format!("claim {e} == 0\n")).program;
            let ItemKind::Claim(c) = &p.items[0].kind else {
                panic!()
            };
            let ast::Expr::Rel(_, l, _, _) = &c.body else {
                panic!()
            };
            assert_eq!(lower(l, &Scope::default()), Err(u.message));
        }
    }
}
