//! The readable form of a statement: named NumPy arrays, one `np.einsum` or slice
//! statement per `.tq` statement (docs/cli.md, `tq emit`).
//!
//! Every tensor is one array allocated at the extent tq's own run gives it (`EXTENTS`
//! in the module), so a position is an array index minus a fixed offset and an element
//! never written is 0. A value inside a statement is an array whose dimensions are some
//! of the statement's indices (`Val::dims`); a shifted read (`x+dx`, `2x+1`, `s*x+dx`)
//! is a gather with open grids (`np.ogrid`) over all of the statement's indices, from a
//! zero-padded array (zero, valid, or outside the extent) or modulo the size (circular).

use super::{push_const, push_term, py_float, san, Gen};
use crate::syntax::ast::*;
use std::collections::BTreeSet;

mod access;
mod arrays;

/// An array value of a statement: the statement axis of each of its dimensions.
#[derive(Clone, Debug)]
pub(super) struct Val {
    code: String,
    dims: Vec<usize>,
}

/// The statement being emitted in readable form.
#[derive(Clone, Debug, Default)]
pub(super) struct Stmt {
    axes: Vec<String>,
    lo: Vec<i64>,
    hi: Vec<i64>,
    size: Vec<String>,
    letters: Vec<char>,
    grids: Vec<String>,
    need_grid: bool,
}

/// How one index position of a reference reads.
enum Pos {
    /// A single index of the statement, as is.
    Axis(usize),
    /// No index of the statement: loop variables and constants (Python code), and
    /// the range of its values over the loops.
    Int(String, i64, i64),
    /// Affine in the statement's indices: printed with the grids, and its range.
    Gather(String, i64, i64, bool),
}

/// Whether Python or the module takes a name: one of Python's keywords (the one list,
/// [`crate::sym::func::PYTHON_KEYWORDS`], `tq export` reads too) or of [`PY_RESERVED`].
pub(in crate::emit) fn py_reserved(name: &str) -> bool {
    crate::sym::func::PYTHON_KEYWORDS.contains(&name) || PY_RESERVED.contains(&name)
}

/// Names the module already uses besides Python's keywords: the builtins it calls, every name
/// the module defines at its top level (tests/emit.rs derives those from an emitted
/// module and emits a model with a size or symbol named like each), and the runtime's
/// functions (those of the built-in functions are [`reserved`]'s too).
pub(in crate::emit) const PY_RESERVED: &[&str] = &[
    "np",
    "st",
    "C",
    "INDEX",
    "DIMS",
    "BOUNDARY",
    "AT",
    "LEAVES",
    "GRAD_SEEDS",
    "EXTENTS",
    "json",
    "sys",
    "softmax",
    "ax",
    "rng_of",
    "mem",
    "Store",
    "total",
    "contract",
    "draw",
    "draw_each",
    "grid",
    "sample_inputs",
    "load_inputs",
    "dump",
    "main",
    "LETTERS",
    "forward",
    "backward",
    "sample_dependent",
    "args",
    "rnd",
    "min",
    "max",
    "sum",
    "abs",
    "range",
    "int",
    "float",
    "len",
    "pow",
    "round",
    "list",
    "dict",
    "set",
    "type",
    "id",
    "input",
    "iter",
    "next",
    "map",
    "filter",
    "zip",
    "all",
    "any",
    "print",
    "open",
    "format",
    "vars",
    "hash",
    "object",
    "str",
    "bool",
    "tuple",
    "slice",
    "super",
    "math",
    "inside",
    "rules",
    "v",
    "seq",
    "P",
    "FREE",
    "RULES",
    "softmax_grid",
    "read_json",
    "run_rules",
    "copy",
];

/// Whether a name is taken by Python or the module's runtime: [`PY_RESERVED`], and the
/// runtime's function of each built-in function without a NumPy one (the table's
/// `numpy` name: `sigmoid`, `relu`, `gelu`, ...).
fn reserved(name: &str) -> bool {
    py_reserved(name) || crate::sym::Func::all().any(|f| f.entry().numpy == name)
}

impl Gen<'_> {
    /// A fresh Python identifier for `want` (sanitized, not reserved, not taken).
    pub(super) fn fresh(&mut self, want: &str) -> String {
        let mut s = String::new();
        for c in want.chars() {
            match c {
                '\'' => s.push_str("_p"),
                c if c.is_ascii_alphanumeric() => s.push(c),
                _ => {
                    if !s.ends_with('_') {
                        s.push('_')
                    }
                }
            }
        }
        let mut s = s.trim_matches('_').to_string();
        if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
            s = format!("t_{s}");
        }
        while reserved(&s) || self.taken.contains(&s) {
            s.push('_');
        }
        self.taken.insert(s.clone());
        s
    }

    /// The identifier of a constant (size, symbol), declared at module level.
    fn const_ident(&mut self, name: &str) -> String {
        if let Some(s) = self.const_ids.get(name) {
            return s.clone();
        }
        let s = self.fresh(name);
        self.const_ids.insert(name.to_string(), s.clone());
        s
    }

    /// The identifier of a tensor (or of its gradient), bound at the top of the function.
    fn tensor_ident(&mut self, key: &str, grad: bool) -> String {
        let k = (key.to_string(), grad);
        if let Some(s) = self.tensor_ids.get(&k) {
            if self.bound_set.insert(k.clone()) {
                self.bound_here.push(k);
            }
            return s.clone();
        }
        let s = self.fresh(&if grad {
            format!("{key}_grad")
        } else {
            key.to_string()
        });
        self.tensor_ids.insert(k.clone(), s.clone());
        self.bound_set.insert(k.clone());
        self.bound_here.push(k);
        s
    }

    /// The lines that bind the tensors a function uses to their arrays.
    pub(super) fn bindings(&mut self) -> String {
        let mut out = String::new();
        self.bound_set.clear();
        for (key, grad) in std::mem::take(&mut self.bound_here) {
            let id = &self.tensor_ids[&(key.clone(), grad)];
            let fam = self
                .env
                .tensors
                .get(&key)
                .is_some_and(|t| t.family_arity > 0);
            let g = if grad { ", grad=True" } else { "" };
            if fam {
                out.push_str(&format!(
                    "    {id} = st.family({}{g})  # {id}[l] is {key}_{{l}}{}\n",
                    super::py_str(&key),
                    if grad { ".grad" } else { "" }
                ));
            } else {
                out.push_str(&format!(
                    "    {id} = st.array({}{g})\n",
                    super::py_str(&key)
                ));
            }
        }
        out
    }

    fn num_const(&self, name: &str) -> Option<i64> {
        let v = *self.consts.get(name)?;
        (v.fract() == 0.0 && v.abs() < 1e12).then_some(v as i64)
    }

    /// A loop bound or other constant expression, as Python.
    pub(super) fn r_scalar(&mut self, e: &Expr) -> Result<String, String> {
        Ok(match e {
            Expr::Num(t, _) => match t.parse::<f64>() {
                Ok(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{}", v as i64),
                Ok(v) => py_float(v),
                Err(_) => return Err(format!("`{t}` is not a number")),
            },
            Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                let p = crate::syntax::printer::print_name(&r.name);
                if self.consts.contains_key(&p) {
                    self.const_ident(&p)
                } else if let Some(v) = self.loop_ids.iter().rev().find(|(n, _)| *n == p) {
                    v.1.clone()
                } else {
                    return Err(format!("`{p}` is not a constant"));
                }
            }
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Jux), l, r, _) => {
                let (a, b) = (self.r_scalar(l)?, self.r_scalar(r)?);
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    _ => "*",
                };
                if matches!(op, BinOp::Mul | BinOp::Jux) {
                    format!("{} {o} {}", paren(&a), paren(&b))
                } else if *op == BinOp::Sub {
                    format!("{a} {o} {}", paren(&b))
                } else {
                    format!("{a} {o} {b}")
                }
            }
            _ => return Err("a loop bound that is not a sum of constants".into()),
        })
    }

    fn loop_ident(&self, name: &str) -> Option<String> {
        self.loop_ids
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|x| x.1.clone())
    }

    /// The statement in readable form (lines without indentation), or why it has none.
    pub(super) fn r_statement(
        &mut self,
        outer: &[Ident],
        eq: &Equation,
    ) -> Result<Vec<String>, String> {
        let mut axes: Vec<String> = Vec::new();
        for ix in eq.lhs.indices.iter().flatten() {
            match ix {
                IndexExpr::Affine(a) => {
                    for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                        if !self.loop_vars.contains(&f.name)
                            && !self.consts.contains_key(&f.name)
                            && !axes.contains(&f.name)
                        {
                            axes.push(f.name.clone());
                        }
                    }
                }
                IndexExpr::Lookup(_) => {}
            }
        }
        let n_lhs = axes.len();
        for i in outer {
            if !axes.contains(&i.name) {
                axes.push(i.name.clone());
            }
        }
        let extras: Vec<usize> = (n_lhs..axes.len()).collect();
        let bound: BTreeSet<String> = axes.iter().cloned().collect();
        let mut caps = Vec::new();
        self.capitals_deep(&eq.rhs, &bound, &mut caps);
        super::sum_ids(&eq.rhs, &mut caps);
        for c in caps {
            if !axes.contains(&c) {
                axes.push(c);
            }
        }
        if axes.len() > 26 {
            return Err("more than 26 indices".into());
        }
        let mut st = Stmt::default();
        for a in &axes {
            let lower = a.to_lowercase();
            let size = self
                .env
                .index_size(&lower)
                .ok_or_else(|| format!("index `{a}` has no size"))?;
            let n = self
                .num_const(&size)
                .ok_or_else(|| format!("size `{size}` has no integer value"))?;
            let lo = if self.env.index_centered(&lower) {
                -((n - 1) / 2)
            } else {
                0
            };
            st.lo.push(lo);
            st.hi.push(lo + n - 1);
            let sid = self.const_ident(&size);
            st.size.push(sid);
            let mut letter = None;
            for c in lower.chars().chain("abcdefghijklmnopqrstuvwxyz".chars()) {
                if c.is_ascii_lowercase() && !st.letters.contains(&c) {
                    letter = Some(c);
                    break;
                }
            }
            st.letters.push(letter.ok_or("no einsum letter left")?);
            let mut g = san(&lower);
            while self.taken.contains(&g) || reserved(&g) || st.grids.contains(&g) {
                g.push('_');
            }
            st.grids.push(g);
        }
        st.axes = axes;
        let saved = std::mem::replace(&mut self.stmt, st);
        let r = self.r_statement_in(eq, &bound, &extras, n_lhs);
        let st = std::mem::replace(&mut self.stmt, saved);
        let (mut lines, line) = r?;
        if st.need_grid {
            let n = st.axes.len();
            let ranges: Vec<String> = (0..n)
                .map(|k| {
                    if st.lo[k] == 0 {
                        format!("0:{}", st.size[k])
                    } else {
                        format!("{}:{}", st.lo[k], st.hi[k] + 1)
                    }
                })
                .collect();
            let grid = if n == 1 {
                format!(
                    "{} = np.arange({})",
                    st.grids[0],
                    ranges[0].replace(':', ", ")
                )
            } else {
                format!("{} = np.ogrid[{}]", st.grids.join(", "), ranges.join(", "))
            };
            lines.push(grid);
        }
        lines.push(line);
        Ok(lines)
    }

    fn r_statement_in(
        &mut self,
        eq: &Equation,
        bound: &BTreeSet<String>,
        extras: &[usize],
        n_lhs: usize,
    ) -> Result<(Vec<String>, String), String> {
        let mut v = if extras.is_empty() {
            self.r_eval(&eq.rhs, bound)?
        } else {
            if eq.op == AssignOp::Set {
                return Err("`=` over indices that are not on its left side".into());
            }
            if matches!(eq.rhs, Expr::Binary(BinOp::Add | BinOp::Sub, ..)) {
                let v = self.r_eval(&eq.rhs, bound)?;
                self.reduce(v, extras, true)?
            } else {
                let (inner, caps) = self.split_capitals(&eq.rhs, bound, &self.stmt.axes)?;
                let mut sum = extras.to_vec();
                sum.extend(caps);
                self.contract(&eq.rhs, &inner, &sum, extras)?
            }
        };
        // The target.
        let key = self.env.key_of(&eq.lhs.name);
        let id = self.tensor_ident(&key, eq.lhs.grad);
        let base = self.member_code(&id, &key, &eq.lhs.name)?;
        let ext = self.extent(&key, eq.lhs.grad, &eq.lhs.name)?;
        let idx = eq.lhs.indices.clone().unwrap_or_default();
        if idx.len() != ext.len() {
            return Err("rank differs from the stored tensor".into());
        }
        let mut pos = Vec::new();
        for (k, ix) in idx.iter().enumerate() {
            pos.push(self.position(ix, &key, k, ext[k])?);
        }
        let gathered = pos.iter().any(|p| matches!(p, Pos::Gather(..)));
        if !gathered {
            let mut parts = Vec::new();
            let mut seen = Vec::new();
            for (k, p) in pos.iter().enumerate() {
                match p {
                    Pos::Axis(a) => {
                        if seen.contains(a) {
                            return Err("an index repeated on the left side".into());
                        }
                        seen.push(*a);
                        parts.push(self.slice(*a, ext[k])?);
                    }
                    Pos::Int(s, mn, mx) => {
                        if *mn < ext[k].0 || *mx > ext[k].1 {
                            return Err("writes outside the stored extent".into());
                        }
                        parts.push(offset_int(s, ext[k].0))
                    }
                    Pos::Gather(..) => unreachable!(),
                }
            }
            if seen.windows(2).any(|w| w[0] > w[1]) {
                return Err("left-side indices out of order".into());
            }
            v = self.canon(v)?;
            if v.dims.iter().any(|d| !seen.contains(d)) {
                return Err("the value has an index the left side does not".into());
            }
            let code = self.expand(&v, &seen);
            let target = if parts.iter().all(|p| p == ":") {
                if eq.op == AssignOp::Set {
                    format!("{base}[...]")
                } else {
                    base
                }
            } else {
                format!("{base}[{}]", parts.join(", "))
            };
            let op = match eq.op {
                AssignOp::Set => "=",
                AssignOp::AddAssign => "+=",
                AssignOp::SubAssign => "-=",
            };
            return Ok((vec![], format!("{target} {op} {}", strip(&code))));
        }
        // A scatter: every position written once per element of the statement's grid.
        let f = match eq.op {
            AssignOp::Set => return Err("`=` to shifted positions".into()),
            AssignOp::AddAssign => "np.add.at",
            AssignOp::SubAssign => "np.subtract.at",
        };
        self.stmt.need_grid = true;
        v = self.canon(v)?;
        if v.dims.iter().any(|d| *d >= n_lhs && !extras.contains(d)) {
            return Err("the value has an index the left side does not".into());
        }
        // The value over the whole grid (size 1 along the indices it is summed over).
        let mut code = self.expand_full(&v, self.stmt.axes.len());
        let mut parts = Vec::new();
        let mut inside = Vec::new();
        for (k, p) in pos.iter().enumerate() {
            let (lo, hi) = ext[k];
            match p {
                Pos::Axis(a) => {
                    if self.stmt.lo[*a] < lo || self.stmt.hi[*a] > hi {
                        return Err("writes outside the stored extent".into());
                    }
                    parts.push(offset_int(&self.stmt.grids[*a], lo));
                }
                Pos::Int(s, mn, mx) => {
                    if *mn < lo || *mx > hi {
                        return Err("writes outside the stored extent".into());
                    }
                    parts.push(offset_int(s, lo))
                }
                Pos::Gather(s, mn, mx, wrap) => {
                    if *wrap {
                        let n = self.size_dim(&key, k).ok_or("no size")?;
                        if lo != 0 || hi - lo + 1 != self.size_value(&key, k) {
                            return Err("a circular dimension stored beyond its size".into());
                        }
                        parts.push(format!("({s}) % {n}"));
                    } else if *mn >= lo && *mx <= hi {
                        parts.push(offset_int(s, lo));
                    } else if self.size_dim(&key, k).is_some() && lo == 0 {
                        // Dropped outside 0..size (boundary zero or valid).
                        let n = self.size_dim(&key, k).unwrap_or_default();
                        inside.push(format!("({s} >= 0) & ({s} < {n})"));
                        parts.push(format!("np.clip({s}, 0, {n} - 1)"));
                        if hi - lo + 1 != self.size_value(&key, k) {
                            return Err("extent differs from the size".into());
                        }
                    } else {
                        return Err("writes outside the stored extent".into());
                    }
                }
            }
        }
        if !inside.is_empty() {
            code = format!("np.where({}, {}, 0.0)", inside.join(" & "), strip(&code));
        }
        let tuple = if parts.len() == 1 {
            format!("({},)", parts[0])
        } else {
            format!("({})", parts.join(", "))
        };
        Ok((vec![], format!("{f}({base}, {tuple}, {})", strip(&code))))
    }
}

/// `np.pad(a, ...)` with zeros where a read reaches outside the stored extent.
fn padded(base: &str, pads: &[(i64, i64)]) -> String {
    if pads.iter().all(|p| *p == (0, 0)) {
        return base.to_string();
    }
    let ps: Vec<String> = pads.iter().map(|(a, b)| format!("({a}, {b})")).collect();
    if ps.len() == 1 {
        format!("np.pad({base}, ({},))", ps[0])
    } else {
        format!("np.pad({base}, ({}))", ps.join(", "))
    }
}

/// `s - lo` (the array index of position `s` in a dimension stored from `lo`).
fn offset_int(s: &str, lo: i64) -> String {
    if lo == 0 {
        return s.to_string();
    }
    // Fold into a trailing constant: `x + dx + 1` rather than `x + dx - -1`.
    let (head, c) = split_const(s);
    let c = c - lo;
    let mut out = head.to_string();
    if out.is_empty() {
        return c.to_string();
    }
    push_const(&mut out, c);
    out
}

fn split_const(s: &str) -> (&str, i64) {
    if let Some(i) = s.rfind(" + ") {
        if let Ok(c) = s[i + 3..].parse::<i64>() {
            return (&s[..i], c);
        }
    }
    if let Some(i) = s.rfind(" - ") {
        if let Ok(c) = s[i + 3..].parse::<i64>() {
            return (&s[..i], -c);
        }
    }
    if let Ok(c) = s.parse::<i64>() {
        return ("", c);
    }
    (s, 0)
}

/// Trailing full slices can go: `h[:, t - 1]` rather than `h[:, t - 1, :]`... kept, as
/// the rank is easier to read with every position shown.
fn trim_slices(parts: &[String]) -> Vec<String> {
    parts.to_vec()
}

fn paren(s: &str) -> String {
    if s.contains(' ') {
        format!("({s})")
    } else {
        s.to_string()
    }
}

/// Drops one pair of outer parentheses around a whole expression.
fn strip(s: &str) -> &str {
    if s.starts_with('(') && s.ends_with(')') {
        let inner = &s[1..s.len() - 1];
        let mut depth = 0i32;
        for c in inner.chars() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return s;
                    }
                }
                _ => {}
            }
        }
        if depth == 0 {
            return inner;
        }
    }
    s
}
