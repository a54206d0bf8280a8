//! `tq emit --target numpy`: the forward program and the derived backward program
//! (loop-and-scatter form) as an executable Python module on NumPy.
//!
//! Each statement is written in readable form where it has one (`readable.rs`): named
//! arrays allocated at the extents of tq's own run, one `np.einsum` or slice statement
//! per `.tq` statement, gathers and `np.add.at` for shifted positions, Python loops for
//! family and time loops. A statement without one (and every statement when tq cannot
//! run the model, so no extents are known) keeps the generic form below: the indices it
//! iterates and the capitals it sums are axes of one broadcast grid and reads and writes
//! go through the runtime's store (`runtime.py`), with tq's reference semantics
//! (docs/numeric.md). No IO.

use crate::check::Env;
use crate::num::Machine;
use crate::report::FileReport;
use crate::syntax::ast::*;
use crate::syntax::printer::{print_equation, print_name};
use crate::syntax::visit::sum_ids;
use std::collections::{BTreeMap, BTreeSet};

mod generic;
mod leaves;
use leaves::*;
mod readable;
mod rules;

/// Per member (and gradient): the lowest and highest position of each dimension.
type Extents = BTreeMap<(String, bool), Vec<(i64, i64)>>;

const RUNTIME: &str = include_str!("runtime.py");

/// The most axes one statement may have (np.einsum's letters).
const MAX_AXES: usize = 52;

fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn san(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\'' => "_p".to_string(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => "_".to_string(),
        })
        .collect()
}

fn py_float(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else if v.is_nan() {
        "float('nan')".into()
    } else if v > 0.0 {
        "float('inf')".into()
    } else {
        "float('-inf')".into()
    }
}

struct Gen<'a> {
    env: &'a Env,
    consts: &'a BTreeMap<String, f64>,
    out: String,
    depth: usize,
    loop_vars: Vec<String>,
    /// Axes of the statement being emitted.
    axes: Vec<String>,
    /// Every index name used (for the INDEX table).
    used: BTreeSet<String>,
    /// Per member (and gradient): the lowest and highest position of each dimension in
    /// tq's own run; `None` when tq cannot run the model (every statement is generic).
    extents: Option<Extents>,
    /// Whether statements get the readable form (else the generic runtime's calls).
    readable: bool,
    /// Python identifiers taken, of constants, of tensors, and those bound in the
    /// function being emitted.
    taken: BTreeSet<String>,
    const_ids: BTreeMap<String, String>,
    tensor_ids: BTreeMap<(String, bool), String>,
    bound_here: Vec<(String, bool)>,
    /// The same pairs as a set (a look-up per reference; a scan of the list made `tq emit`
    /// quadratic in the number of tensors a function binds).
    bound_set: BTreeSet<(String, bool)>,
    /// The loop variables in scope: (tq name, Python identifier).
    loop_ids: Vec<(String, String)>,
    loop_names: BTreeMap<String, String>,
    /// The loop variables' ranges (tq name, lowest, highest), where known.
    loop_ranges: Vec<(String, i64, i64)>,
    stmt: readable::Stmt,
    lines: crate::span::LineIndex<'a>,
    /// Statements in readable form, and those left to the generic runtime (with why).
    n_readable: usize,
    fallbacks: Vec<String>,
}

impl<'a> Gen<'a> {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn items(&mut self, items: &[Item], outer: &[Ident]) -> Result<(), String> {
        for item in items {
            match &item.kind {
                ItemKind::Equation(eq) => self.statement(outer, eq)?,
                ItemKind::ForIndices(f) => {
                    let mut idx = outer.to_vec();
                    idx.extend(f.indices.iter().cloned());
                    self.items(&f.body, &idx)?;
                }
                ItemKind::Loop(l) => {
                    if !outer.is_empty() {
                        return Err(
                            "a `for v in a..b` loop inside a `for` over indices cannot be emitted"
                                .into(),
                        );
                    }
                    let name = l.range.var.name.clone();
                    let v = match self.loop_names.get(&name) {
                        Some(v) => v.clone(),
                        None => {
                            let v = self.fresh(&name);
                            self.loop_names.insert(name.clone(), v.clone());
                            v
                        }
                    };
                    let (lo, hi) = match (self.r_scalar(&l.range.from), self.r_scalar(&l.range.to))
                    {
                        (Ok(lo), Ok(hi)) => (lo, hi),
                        _ => {
                            let lo = self.scalar(&l.range.from)?;
                            let hi = self.scalar(&l.range.to)?;
                            (format!("int(round({lo}))"), format!("int(round({hi}))"))
                        }
                    };
                    if l.reverse {
                        let stop = match lo.parse::<i64>() {
                            Ok(n) => (n - 1).to_string(),
                            Err(_) => format!("{lo} - 1"),
                        };
                        self.line(&format!("for {v} in range({hi}, {stop}, -1):"));
                    } else {
                        let stop = match hi.strip_suffix(" - 1") {
                            Some(h) => h.to_string(),
                            None => match hi.parse::<i64>() {
                                Ok(n) => (n + 1).to_string(),
                                Err(_) => format!("{hi} + 1"),
                            },
                        };
                        self.line(&format!("for {v} in range({lo}, {stop}):"));
                    }
                    let range = match (
                        self.bound_range(&l.range.from),
                        self.bound_range(&l.range.to),
                    ) {
                        (Some(a), Some(b)) => (a.0, b.1),
                        // Unknown: any position (reads and writes by it are generic).
                        _ => (i64::MIN / 4, i64::MAX / 4),
                    };
                    self.loop_ranges.push((name.clone(), range.0, range.1));
                    self.loop_ids.push((name, v));
                    self.loop_vars.push(l.range.var.name.clone());
                    self.depth += 1;
                    let before = self.out.len();
                    self.items(&l.body, &[])?;
                    if self.out.len() == before {
                        self.line("pass");
                    }
                    self.depth -= 1;
                    self.loop_vars.pop();
                    self.loop_ids.pop();
                    self.loop_ranges.pop();
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A constant expression (loop bounds): sizes, symbols, loop variables.
    fn scalar(&mut self, e: &Expr) -> Result<String, String> {
        let saved = std::mem::take(&mut self.axes);
        let r = self.eval(e, &BTreeSet::new());
        self.axes = saved;
        r
    }

    fn statement(&mut self, outer: &[Ident], eq: &Equation) -> Result<(), String> {
        let names: Vec<&str> = outer.iter().map(|i| i.name.as_str()).collect();
        let text = if names.is_empty() {
            print_equation(eq)
        } else {
            format!("for {}: {}", names.join(","), print_equation(eq))
        };
        let label = if eq.span == crate::span::Span::default() {
            format!("# backward: {text}")
        } else {
            format!(
                "# line {}: {text}",
                self.lines.line_col(eq.span.start as usize).0
            )
        };
        if !self.readable {
            self.line(&label);
            return self.generic(outer, eq);
        }
        match self.r_statement(outer, eq) {
            Ok(lines) => {
                self.line(&label);
                for l in lines {
                    self.line(&l);
                }
                self.n_readable += 1;
                Ok(())
            }
            Err(why) => {
                self.line(&label);
                self.line(&format!(
                    "# (generic runtime: no readable NumPy form, {why})"
                ));
                self.fallbacks.push(format!("{text}: {why}"));
                self.generic(outer, eq)
            }
        }
    }

    fn axis(&self, name: &str) -> Option<usize> {
        self.axes.iter().position(|a| a == name)
    }
}

/// The indices an explicit sum binds: `bound` with them added, and the axis of each in
/// `axes` (the message `missing` makes of its name when one has none). The generic and the readable forms both read
/// a sum's axes this way.
fn summed_axes(
    ids: &[Ident],
    bound: &BTreeSet<String>,
    axes: &[String],
    missing: impl Fn(&str) -> String,
) -> Result<(BTreeSet<String>, Vec<usize>), String> {
    let mut inner = bound.clone();
    let mut ks = Vec::new();
    for i in ids {
        inner.insert(i.name.clone());
        ks.push(
            axes.iter()
                .position(|a| *a == i.name)
                .ok_or_else(|| missing(&i.name))?,
        );
    }
    Ok((inner, ks))
}

impl<'a> Gen<'a> {
    /// Every unbound capital index anywhere in the expression.
    fn capitals_deep(&self, e: &Expr, bound: &BTreeSet<String>, out: &mut Vec<String>) {
        let is_bound = |n: &str| bound.contains(n);
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &is_bound,
        }
        .deep(e, out)
    }

    /// The capitals a term sums (the interpreter's rule, [`Gen::term_capitals`]), the
    /// names bound inside it (`bound` and those capitals), and the axis of each capital
    /// in `axes` (the module's grid or the readable statement's axes): the split both
    /// forms make before a contraction or a total.
    fn split_capitals(
        &self,
        e: &Expr,
        bound: &BTreeSet<String>,
        axes: &[String],
    ) -> Result<(BTreeSet<String>, Vec<usize>), String> {
        let caps = self.term_capitals(e, bound);
        let mut inner = bound.clone();
        inner.extend(caps.iter().cloned());
        let ks = caps
            .iter()
            .map(|c| {
                axes.iter()
                    .position(|a| a == c)
                    .ok_or_else(|| format!("capital `{c}` has no axis"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((inner, ks))
    }

    /// The interpreter's rule (`check::capitals`): the capitals summed over the term.
    fn term_capitals(&self, e: &Expr, bound: &BTreeSet<String>) -> Vec<String> {
        let is_bound = |n: &str| bound.contains(n);
        crate::check::capitals::Capitals {
            env: self.env,
            bound: &is_bound,
        }
        .of_term(e)
    }
}

fn product_factors<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(BinOp::Mul | BinOp::Jux, l, r, _) => {
            product_factors(l, out);
            product_factors(r, out);
        }
        _ => out.push(e),
    }
}

/// An affine index as Python (`2 * x - dx + 1`, no parentheses), each factor written by
/// `factor`: the one writer of both forms (loop variables and constants in the readable
/// form, every name in the generic one).
fn affine_py(
    a: &Affine,
    mut factor: impl FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut s = String::new();
    for t in &a.terms {
        let mut fs = Vec::new();
        if t.coef.abs() != 1 {
            fs.push(t.coef.abs().to_string());
        }
        for f in &t.factors {
            fs.push(factor(&f.name)?);
        }
        push_term(&mut s, &fs.join(" * "), t.coef < 0);
    }
    push_const(&mut s, a.constant);
    Ok(s)
}

fn push_term(s: &mut String, body: &str, neg: bool) {
    s.push_str(&match (s.is_empty(), neg) {
        (true, false) => body.to_string(),
        (true, true) => format!("-{body}"),
        (false, false) => format!(" + {body}"),
        (false, true) => format!(" - {body}"),
    });
}

fn push_const(s: &mut String, c: i64) {
    if s.is_empty() {
        *s = c.to_string();
    } else if c > 0 {
        s.push_str(&format!(" + {c}"));
    } else if c < 0 {
        s.push_str(&format!(" - {}", c.unsigned_abs()));
    }
}

/// Whether an expression reads a name (an index, a tensor, a symbol without a value):
/// a distribution argument that does is drawn element by element.
fn reads_names(e: &Expr) -> bool {
    match e {
        Expr::Ref(_) => true,
        Expr::Num(..) => false,
        Expr::Unary(_, x, _)
        | Expr::Iverson(x, _)
        | Expr::Softmax(_, x, _)
        | Expr::Sum(_, x, _) => reads_names(x),
        Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => reads_names(l) || reads_names(r),
        Expr::Call(c) => c.args.iter().any(reads_names),
        Expr::Deriv(..) => true,
    }
}

impl Gen<'_> {
    /// A declaration whose distribution's arguments read its indices or other values
    /// (`input gtilde[i] ~ bernoulli((g[i] - b)/a)`): each argument is computed as the
    /// right side of an equation for the declared tensor, taken out of the store, and
    /// the elements are drawn from their own parameters.
    fn dependent_leaf(&mut self, d: &Decl) -> Result<(), String> {
        let Some(Init::Dist(c)) = &d.init else {
            return Ok(());
        };
        if d.family.is_some() {
            return Err(format!(
                "cannot emit `{}`: a family's distribution arguments must be constants",
                crate::syntax::printer::print_ref(&d.target)
            ));
        }
        let member = py_str(&print_name(&d.target.name));
        self.line(&format!(
            "# {} ~ {}(...)",
            crate::syntax::printer::print_ref(&d.target),
            c.func.name
        ));
        self.line(&format!("if ({member}, False) not in st.given:"));
        self.depth += 1;
        self.line("args = []");
        for a in &c.args {
            let eq = Equation {
                lhs: d.target.clone(),
                op: AssignOp::Set,
                rhs: a.clone(),
                span: c.span,
            };
            self.statement(&[], &eq)?;
            self.line(&format!("args.append(st.t.pop(({member}, False)))"));
        }
        self.line(&format!(
            "st.t[({member}, False)] = (args[0][0], draw_each(rnd, {}, [a for _, a in args]))",
            py_str(&c.func.name)
        ));
        self.depth -= 1;
        Ok(())
    }
}

/// The names the program's statements and distributions read (update rules aside: their
/// symbols are the rules' own).
fn program_reads(items: &[Item], out: &mut BTreeSet<String>) {
    let mut add = |e: &Expr| {
        crate::syntax::visit::walk_refs(e, &mut |r| {
            out.insert(print_name(&r.name));
        })
    };
    let mut bodies = Vec::new();
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => add(&eq.rhs),
            ItemKind::Decl(d) => match &d.init {
                Some(Init::Dist(c)) => c.args.iter().for_each(&mut add),
                Some(Init::Value(e)) => add(e),
                None => {}
            },
            ItemKind::Loop(l) => bodies.push(&l.body),
            ItemKind::ForIndices(f) => bodies.push(&f.body),
            _ => {}
        }
    }
    for b in bodies {
        program_reads(b, out);
    }
}

/// Element evaluations of the run for the extents (`tq emit`'s own budget; it borrowed
/// the gradient check's 8,000,000 for each of its up to three runs, 24,000,000 in all).
/// The first run, with the file's own values, may use this many; the two runs with
/// arbitrary values that follow a failed first run half of it each, so one `tq emit`
/// runs at most 2 × [`EXTENTS_STEPS`] (about 0.8 s of CPU on the interpreter's compiled
/// statements, docs/numeric.md). Past it the module is emitted without extents (every
/// statement on the generic runtime) and its header names this budget.
pub const EXTENTS_STEPS: u64 = 4_000_000;

/// Values the run for the extents may store (each of its runs; fewer for members of many
/// indices: [`EXTENTS_BYTES`]). A model of 1,950,000 declared elements (780 layers of
/// 50 × 50 weights) held 600 MB at 1,000,000 (session 35); every file of problems/ stores
/// far fewer. Past it the run is refused like one past [`EXTENTS_STEPS`].
pub const EXTENTS_ELEMENTS: usize = 250_000;

/// Bytes the run for the extents may hold, counted as [`value_bytes`] per stored value
/// at the model's largest rank: a run holds its leaves, the forward values and the
/// values after the backward program at once (three stores), each value a hash entry
/// and a position vector of 8 bytes an index. A family of 16-index tensors held 1 GB
/// under the value cap alone (session 36).
pub const EXTENTS_BYTES: usize = 128 << 20;

/// The bytes one stored value of `rank` indices costs the run for the extents (three
/// stores of a hash entry, a vector header and the positions).
fn value_bytes(rank: usize) -> usize {
    3 * (64 + 8 * rank)
}

/// The values each run for the extents may store: [`EXTENTS_ELEMENTS`], fewer when the
/// model's members have so many indices that [`EXTENTS_BYTES`] binds first.
fn extents_elements(env: &Env) -> usize {
    let rank = env
        .tensors
        .values()
        .map(|t| t.rank + t.family_arity)
        .max()
        .unwrap_or(0);
    EXTENTS_ELEMENTS.min(EXTENTS_BYTES / value_bytes(rank))
}

/// Each member's positions in a run, sorted and laid end to end (each after its length):
/// what two runs with arbitrary values must agree on, without keeping either run's store.
type Positions = BTreeMap<(String, bool), Vec<i64>>;

fn positions(store: &crate::num::Store) -> Positions {
    store
        .iter()
        .map(|(k, e)| {
            let mut pos: Vec<&Vec<i64>> = e.keys().collect();
            pos.sort_unstable();
            let flat = pos
                .into_iter()
                .flat_map(|p| std::iter::once(p.len() as i64).chain(p.iter().copied()));
            (k.clone(), flat.collect())
        })
        .collect()
}

/// Per member: the lowest and highest position of each dimension in a run's store.
fn store_extents(store: &crate::num::Store) -> Extents {
    let mut ext: Extents = BTreeMap::new();
    for (k, elems) in store {
        let mut e: Option<Vec<(i64, i64)>> = None;
        for pos in elems.keys() {
            match &mut e {
                None => e = Some(pos.iter().map(|p| (*p, *p)).collect()),
                Some(e) => {
                    for (d, p) in e.iter_mut().zip(pos) {
                        d.0 = d.0.min(*p);
                        d.1 = d.1.max(*p);
                    }
                }
            }
        }
        if let Some(e) = e {
            ext.insert(k.clone(), e);
        }
    }
    ext
}

/// tq's own run of the model for the extents of its arrays. A model with inputs declared
/// without a distribution, or symbols without a `sample` value, is run with arbitrary
/// values for them (standard normals, symbols 1) twice, with two seeds: the extents are
/// taken only where both runs agree on them (positions read through a value, `P[t, w[t]]`
/// with `w` an arbitrary input, would not). Only the first run's positions are kept while
/// the second runs (its store is dropped). `Err` with the reason when no run gave them
/// (`Some` when a run was refused for its size: [`EXTENTS_STEPS`], [`EXTENTS_ELEMENTS`]).
fn extents_run(
    r: &FileReport,
    scatter: &[Item],
    loss: Option<&str>,
) -> Result<Extents, Option<String>> {
    use crate::num::gradcheck::run_model_with;
    let max_elements = extents_elements(&r.env);
    let own = |m: &mut Machine| {
        m.max_steps = EXTENTS_STEPS;
        m.max_elements = max_elements;
        Ok(())
    };
    match run_model_with(&r.program, &r.env, scatter, loss, 0, &own) {
        Ok(run) => return Ok(store_extents(&run.machine.vals)),
        Err(e) if e.too_large => return Err(Some(e.message)),
        Err(_) => {}
    }
    let arbitrary = |m: &mut Machine| {
        m.max_steps = EXTENTS_STEPS / 2;
        m.max_elements = max_elements;
        m.arbitrary_inputs = true;
        // A symbol without a value is read as a value of the program, as in the module.
        for s in r.env.symbols.keys() {
            if !m.consts.contains_key(s) {
                m.vals
                    .entry((s.clone(), false))
                    .or_default()
                    .insert(vec![], 1.0);
            }
        }
        Ok(())
    };
    let refused = |e: crate::num::NumError| e.too_large.then_some(e.message);
    let (first, ext) = {
        let a =
            run_model_with(&r.program, &r.env, scatter, loss, 0, &arbitrary).map_err(refused)?;
        (positions(&a.machine.vals), store_extents(&a.machine.vals))
    };
    let b = run_model_with(&r.program, &r.env, scatter, loss, 1, &arbitrary).map_err(refused)?;
    if first == positions(&b.machine.vals) {
        Ok(ext)
    } else {
        Err(None)
    }
}

/// The Python module for a checked file, or why it cannot be emitted.
pub fn numpy(r: &FileReport) -> Result<String, String> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return Err("nothing is emitted from a file with errors".into());
    }
    let env = &r.env;
    let mut m = Machine::new(&r.program, env).map_err(|e| e.message)?;
    let back = r.analysis().backward();
    let mut consts = m.consts.clone();
    // Scalar inputs are values of the program, not constants.
    for s in env.scalars.keys() {
        consts.remove(s);
    }
    // The extent of every member in tq's own run at the sample sizes: the readable
    // form allocates each array once at it (the positions do not depend on the values).
    let loss = back.seeds.first().map(String::as_str);
    let run = extents_run(r, &back.items, loss);
    let refused = run.as_ref().err().cloned().flatten();
    let extents = run.ok().map(|mut ext| {
        // Arrays start at position 0 (a centered index below it), and a gradient
        // has at least its tensor's extent: `h.grad[t]` is `h_grad[t]`.
        let values: Extents = ext.clone();
        for ((m, g), e) in &values {
            if !*g {
                if let Some(ge) = ext.get_mut(&(m.clone(), true)) {
                    if ge.len() == e.len() {
                        for (d, v) in ge.iter_mut().zip(e) {
                            *d = (d.0.min(v.0), d.1.max(v.1));
                        }
                    }
                }
            }
        }
        for e in ext.values_mut() {
            for d in e.iter_mut() {
                d.0 = d.0.min(0);
            }
        }
        ext
    });
    // The extents must be small enough to allocate (they are the interpreter's own).
    let mut g = Gen {
        env,
        consts: &consts,
        out: String::new(),
        depth: 1,
        loop_vars: Vec::new(),
        axes: Vec::new(),
        used: BTreeSet::new(),
        readable: extents.is_some(),
        extents,
        taken: BTreeSet::new(),
        const_ids: BTreeMap::new(),
        tensor_ids: BTreeMap::new(),
        bound_here: Vec::new(),
        bound_set: BTreeSet::new(),
        loop_ids: Vec::new(),
        loop_names: BTreeMap::new(),
        loop_ranges: Vec::new(),
        stmt: readable::Stmt::default(),
        lines: crate::span::LineIndex::new(&r.source),
        n_readable: 0,
        fallbacks: Vec::new(),
    };
    // Tensors get their own names first; a size or symbol of the same name gets a `_`.
    for key in env.tensors.keys().chain(env.scalars.keys()) {
        if !g.tensor_ids.contains_key(&(key.clone(), false)) {
            let id = g.fresh(key);
            g.tensor_ids.insert((key.clone(), false), id);
        }
    }
    g.items(&r.program.items, &[])?;
    let fwd_bind = g.bindings();
    let fwd = std::mem::take(&mut g.out);
    g.items(&back.items, &[])?;
    let bwd_bind = g.bindings();
    let bwd = std::mem::take(&mut g.out);
    g.readable = false;
    let mut reads_computed = false;
    let mut dependent_members = Vec::new();
    for item in &r.program.items {
        if let ItemKind::Decl(d) = &item.kind {
            if let Some(init @ Init::Dist(c)) = &d.init {
                if d.kind != DeclKind::Grad
                    && c.args.iter().any(|a| m.const_expr(a).is_err())
                    && c.args.iter().any(reads_names)
                    && !(d.family.is_some() && family_leaf_lines(&mut m, d, c).is_ok())
                {
                    let own = env.key_of(&d.target.name);
                    reads_computed |= crate::num::tensor_reads(env, init, &own).iter().any(|k| {
                        env.tensors
                            .get(k)
                            .is_some_and(|t| t.kind == crate::check::TensorKind::Computed)
                    });
                    dependent_members.push(py_str(&print_name(&d.target.name)));
                    g.dependent_leaf(d)?;
                }
            }
        }
    }
    let mut dependent = std::mem::take(&mut g.out);
    if reads_computed {
        // A distribution that reads a computed tensor (`x ~ normal(0, g[k])` with
        // `g[k] = 2`): the forward program runs first on a copy, the leaves are drawn
        // there with its computed values, and kept (probe32/a w46: drawn before
        // `forward` wrote g, from its zeros).
        let keep: String = dependent_members
            .iter()
            .map(|mb| format!("    full.t[({mb}, False)] = st.t[({mb}, False)]\n"))
            .collect();
        dependent = format!(
            "    import copy\n    full = st\n    st = copy.deepcopy(full)\n    forward(st)\n{dependent}{keep}"
        );
    }
    let used = std::mem::take(&mut g.used);
    let (rules_py, n_rules) = rules::rules(
        &r.program,
        &env.symbols.keys().cloned().collect(),
        &crate::span::LineIndex::new(&r.source),
    )?;

    let mut out = String::new();
    out.push_str(&format!(
        "\"\"\"Emitted by tq from {}: the forward program and the derived backward program\n(loop-and-scatter form) on NumPy, with tq's reference semantics.\n\nRun it: python3 THIS.py [--seed N] [--inputs FILE.json] [--json]\n\"\"\"\n",
        r.path.replace('\\', "/").replace("\"\"\"", "'''")
    ));
    out.push_str("import json\nimport sys\n\nimport numpy as np\n\n");
    if let (None, Some(why)) = (&g.extents, &refused) {
        out.push_str(&format!(
            "# tq's run of this model for its array extents was refused by its budget (emit::EXTENTS_STEPS:\n# {EXTENTS_STEPS} element evaluations with the file's values, half of it for each run with\n# arbitrary values; emit::EXTENTS_ELEMENTS: {EXTENTS_ELEMENTS} stored values,\n# fewer for members of many indices under emit::EXTENTS_BYTES: {EXTENTS_BYTES} bytes; smaller\n# sizes on the `sample` line let it run): {}\n# so no array extents are known: every statement uses the generic runtime.\n\n",
            why.replace('\n', " ")
        ));
    } else if g.extents.is_none() {
        out.push_str("# tq cannot run this model on its own, even with arbitrary values for what the file\n# leaves free, so no array extents are known: every statement uses the generic runtime.\n\n");
    } else if g.fallbacks.is_empty() {
        out.push_str(&format!(
            "# {} statement{}, each in readable NumPy (no generic runtime call).\n\n",
            g.n_readable,
            if g.n_readable == 1 { "" } else { "s" }
        ));
    } else {
        out.push_str(&format!(
            "# {} statements in readable NumPy; {} use the generic runtime (`st.read`, `st.write`):\n",
            g.n_readable,
            g.fallbacks.len()
        ));
        for f in &g.fallbacks {
            out.push_str(&format!("#   {f}\n"));
        }
        out.push('\n');
    }
    if n_rules > 0 {
        out.push_str(&format!(
            "# {n_rules} update rule{}, each a function `rule_NAME` run step by step (`RULES`).\n\n",
            if n_rules == 1 { "" } else { "s" }
        ));
    }
    out.push_str("# Sizes and symbols (the file's `sample` line).\n");
    for (k, id) in &g.const_ids {
        if let Some(v) = consts.get(k) {
            let v = if v.fract() == 0.0 && v.abs() < 1e12 {
                format!("{}", *v as i64)
            } else {
                py_float(*v)
            };
            out.push_str(&format!("{id} = {v}\n"));
        }
    }
    out.push_str("C = {\n");
    for (k, v) in &consts {
        out.push_str(&format!("    {}: {},\n", py_str(k), py_float(*v)));
    }
    out.push_str("}\n\n# The symbols' values, for update rules (with those of --inputs on top).\nP = dict(C)\n");
    out.push_str("\n# Lower-case index -> (size, centered).\nINDEX = {\n");
    for i in &used {
        if let Some(size) = env.index_size(i) {
            out.push_str(&format!(
                "    {}: ({}, {}),\n",
                py_str(i),
                py_str(&size),
                if env.index_centered(i) {
                    "True"
                } else {
                    "False"
                }
            ));
        }
    }
    out.push_str("}\n\n# Per tensor: the size of each dimension where shifted reads follow the boundary rule.\nDIMS = {\n");
    for (key, t) in &env.tensors {
        let dims: Vec<String> = t
            .dims
            .iter()
            .map(|d| {
                if consts.contains_key(d) {
                    py_str(d)
                } else {
                    "None".into()
                }
            })
            .collect();
        out.push_str(&format!("    {}: [{}],\n", py_str(key), dims.join(", ")));
    }
    out.push_str("}\n\n");
    out.push_str(&format!(
        "BOUNDARY = {}\n\n",
        env.boundary
            .map(|b| py_str(crate::syntax::printer::boundary_word(b)))
            .unwrap_or_else(|| "None".into())
    ));
    out.push_str("# Scalar inputs (the `at` line).\nAT = {\n");
    for item in &r.program.items {
        if let ItemKind::At(bs) = &item.kind {
            for b in bs {
                if env.scalars.contains_key(&b.name.name) {
                    let v = m.const_expr(&b.value).map_err(|e| e.message)?;
                    out.push_str(&format!("    {}: {},\n", py_str(&b.name.name), py_float(v)));
                }
            }
        }
    }
    out.push_str(
        "}\n\n# Leaves: (member, range of each dimension, distribution, arguments).\nLEAVES = [\n",
    );
    let mut seeds = Vec::new();
    for item in &r.program.items {
        if let ItemKind::Decl(d) = &item.kind {
            let lines = leaf_lines(&mut m, d)?;
            if d.kind == DeclKind::Grad {
                seeds.extend(lines);
            } else {
                for l in lines {
                    out.push_str(&l);
                    out.push('\n');
                }
            }
        }
    }
    out.push_str("]\n\n# Incoming gradients (`grad T ~ ...`).\nGRAD_SEEDS = [\n");
    for l in seeds {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("]\n\n");
    // Values the file leaves free: inputs without a distribution and the symbols without a
    // `sample` value that the program reads.
    let mut reads = BTreeSet::new();
    program_reads(&r.program.items, &mut reads);
    out.push_str("# Values the file leaves free (an input without a distribution, a symbol without a\n# `sample` value that the program reads): --inputs must give them.\nFREE = [\n");
    for item in &r.program.items {
        if let ItemKind::Decl(d) = &item.kind {
            if d.kind != DeclKind::Grad && d.init.is_none() {
                out.push_str(&format!("    {},\n", py_str(&print_name(&d.target.name))));
            }
        }
    }
    for s in env.symbols.keys() {
        if !m.consts.contains_key(s) && reads.contains(s) {
            out.push_str(&format!("    {},\n", py_str(s)));
        }
    }
    out.push_str("]\n\n");
    out.push_str("# Per member (and gradient): the positions of each dimension, from tq's own run;\n# the arrays are allocated once at these extents (an element never written is 0).\nEXTENTS = {\n");
    for ((m, gr), e) in g.extents.iter().flatten() {
        let ds: Vec<String> = e.iter().map(|(a, b)| format!("({a}, {b})")).collect();
        out.push_str(&format!(
            "    ({}, {}): [{}],\n",
            py_str(m),
            if *gr { "True" } else { "False" },
            ds.join(", ")
        ));
    }
    out.push_str("}\n\n\ndef forward(st):\n    \"\"\"The forward program.\"\"\"\n");
    out.push_str(&fwd_bind);
    out.push_str(if fwd.is_empty() { "    pass\n" } else { &fwd });
    out.push_str(&format!(
        "\n\ndef backward(st):\n    \"\"\"The derived backward program (loop-and-scatter form), from {}.\"\"\"\n",
        back.seeds.join(", ")
    ));
    out.push_str(&bwd_bind);
    out.push_str(if bwd.is_empty() { "    pass\n" } else { &bwd });
    out.push_str(
        "\n\ndef sample_dependent(st, rnd):\n    \"\"\"Leaves whose distribution's arguments read their indices or other values.\"\"\"\n",
    );
    out.push_str(if dependent.is_empty() {
        "    pass\n"
    } else {
        &dependent
    });
    out.push_str(&rules_py);
    out.push('\n');
    out.push_str(RUNTIME);
    Ok(out)
}
