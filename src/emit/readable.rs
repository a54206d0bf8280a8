//! The readable form of a statement: named NumPy arrays, one `np.einsum` or slice
//! statement per `.tq` statement (docs/cli.md, `tq emit`).
//!
//! Every tensor is one array allocated at the extent tq's own run gives it (`EXTENTS`
//! in the module), so a position is an array index minus a fixed offset and an element
//! never written is 0. A value inside a statement is an array whose dimensions are some
//! of the statement's indices (`Val::dims`); a shifted read (`x+dx`, `2x+1`, `s*x+dx`)
//! is a gather with open grids (`np.ogrid`) over all of the statement's indices, from a
//! zero-padded array (zero, valid, or outside the extent) or modulo the size (circular).

use super::{py_float, san, Gen};
use crate::syntax::ast::*;
use std::collections::BTreeSet;

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

pub(super) const PY_RESERVED: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
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
    "sigmoid",
    "relu",
    "step",
    "erf",
    "gelu",
    "softplus",
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
];

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
        while PY_RESERVED.contains(&s.as_str()) || self.taken.contains(&s) {
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
            if !self.bound_here.contains(&k) {
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
        self.bound_here.push(k);
        s
    }

    /// The lines that bind the tensors a function uses to their arrays.
    pub(super) fn bindings(&mut self) -> String {
        let mut out = String::new();
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
            while self.taken.contains(&g)
                || PY_RESERVED.contains(&g.as_str())
                || st.grids.contains(&g)
            {
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
                let caps = self.term_capitals(&eq.rhs, bound);
                let mut inner = bound.clone();
                inner.extend(caps.iter().cloned());
                let mut sum = extras.to_vec();
                for c in &caps {
                    sum.push(
                        self.stmt
                            .axes
                            .iter()
                            .position(|a| a == c)
                            .ok_or("no axis")?,
                    );
                }
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

    /// Size identifier of dimension k of a tensor when the boundary rule applies to it.
    fn size_dim(&mut self, key: &str, k: usize) -> Option<String> {
        let d = self.env.tensors.get(key)?.dims.get(k)?.clone();
        if self.consts.contains_key(&d) {
            Some(self.const_ident(&d))
        } else {
            None
        }
    }

    fn size_value(&self, key: &str, k: usize) -> i64 {
        self.env
            .tensors
            .get(key)
            .and_then(|t| t.dims.get(k))
            .and_then(|d| self.num_const(d))
            .unwrap_or(-1)
    }

    /// The lowest and highest stored position per dimension, the same for every member
    /// a reference can name.
    fn extent(&self, key: &str, grad: bool, name: &Name) -> Result<Vec<(i64, i64)>, String> {
        let ext = self.extents.as_ref().ok_or("no extents")?;
        let fam = self
            .env
            .tensors
            .get(key)
            .is_some_and(|t| t.family_arity > 0);
        let mut out: Option<Vec<(i64, i64)>> = None;
        let prefix = format!("{key}_{{");
        for ((m, g), e) in ext {
            if *g != grad {
                continue;
            }
            let ok = if fam {
                m.starts_with(&prefix) && m.ends_with('}')
            } else {
                m == key
            };
            if !ok {
                continue;
            }
            match &out {
                None => out = Some(e.clone()),
                Some(o) if o == e => {}
                Some(_) => {
                    // Members of different extents: only a member named by constants is
                    // fine; the readable form needs one shape for the loop's members.
                    let _ = name;
                    return Err(format!("the members of `{key}` have different extents"));
                }
            }
        }
        out.ok_or_else(|| format!("`{key}` is never written in tq's run"))
    }

    /// The array of a tensor or of a family member (`L[l + 1]`, `W[l + 1, "left"]`).
    fn member_code(&mut self, id: &str, key: &str, n: &Name) -> Result<String, String> {
        let fam = self
            .env
            .tensors
            .get(key)
            .is_some_and(|t| t.family_arity > 0);
        if !fam {
            return Ok(id.to_string());
        }
        let mut parts = Vec::new();
        for s in &n.sub {
            match s {
                IndexExpr::Affine(a)
                    if a.constant == 0
                        && a.terms.len() == 1
                        && a.terms[0].coef == 1
                        && a.terms[0].factors.len() == 1
                        && {
                            let f = &a.terms[0].factors[0].name;
                            !self.loop_vars.contains(f)
                                && self.stmt.axes.iter().all(|x| x != f)
                                && !self.consts.contains_key(f)
                        } =>
                {
                    parts.push(super::py_str(&a.terms[0].factors[0].name));
                }
                IndexExpr::Affine(a) => parts.push(self.int_affine(a)?),
                IndexExpr::Lookup(_) => return Err("a lookup in a family subscript".into()),
            }
        }
        Ok(format!("{id}[{}]", parts.join(", ")))
    }

    /// An affine expression of loop variables and constants.
    fn int_affine(&mut self, a: &Affine) -> Result<String, String> {
        let mut s = String::new();
        for t in &a.terms {
            let mut fs = Vec::new();
            if t.coef.abs() != 1 {
                fs.push(t.coef.abs().to_string());
            }
            for f in &t.factors {
                if let Some(l) = self.loop_ident(&f.name) {
                    fs.push(l);
                } else if self.consts.contains_key(&f.name) {
                    fs.push(self.const_ident(&f.name));
                } else {
                    return Err(format!("`{}` is not a loop variable or constant", f.name));
                }
            }
            push_term(&mut s, &fs.join(" * "), t.coef < 0);
        }
        push_const(&mut s, a.constant);
        Ok(s)
    }

    /// The values of an affine expression of loop variables and constants over the loops.
    fn int_range(&self, a: &Affine) -> Option<(i64, i64)> {
        let (mut mn, mut mx) = (a.constant, a.constant);
        for t in &a.terms {
            let (mut lo, mut hi) = (t.coef, t.coef);
            for f in &t.factors {
                let (x, y) = if let Some(r) = self.loop_ranges.iter().rev().find(|r| r.0 == f.name)
                {
                    if r.1 == i64::MIN / 4 {
                        return None;
                    }
                    (r.1, r.2)
                } else {
                    let v = self.num_const(&f.name)?;
                    (v, v)
                };
                let c = [
                    lo.checked_mul(x)?,
                    lo.checked_mul(y)?,
                    hi.checked_mul(x)?,
                    hi.checked_mul(y)?,
                ];
                lo = *c.iter().min()?;
                hi = *c.iter().max()?;
            }
            mn = mn.checked_add(lo)?;
            mx = mx.checked_add(hi)?;
        }
        Some((mn, mx))
    }

    /// The values of a loop bound over the enclosing loops.
    pub(super) fn bound_range(&self, e: &Expr) -> Option<(i64, i64)> {
        match e {
            Expr::Num(t, _) => {
                let v = t.parse::<f64>().ok()?;
                (v.fract() == 0.0 && v.abs() < 1e12).then_some((v as i64, v as i64))
            }
            Expr::Ref(r) if r.indices.is_none() && !r.grad && r.name.sub.is_empty() => {
                if let Some(r) = self.loop_ranges.iter().rev().find(|x| x.0 == r.name.base) {
                    return Some((r.1, r.2));
                }
                let v = self.num_const(&crate::syntax::printer::print_name(&r.name))?;
                Some((v, v))
            }
            Expr::Ref(r) if r.indices.is_none() && !r.grad => {
                let v = self.num_const(&crate::syntax::printer::print_name(&r.name))?;
                Some((v, v))
            }
            Expr::Binary(op, l, r, _) => {
                let (a, b) = (self.bound_range(l)?, self.bound_range(r)?);
                match op {
                    BinOp::Add => Some((a.0.checked_add(b.0)?, a.1.checked_add(b.1)?)),
                    BinOp::Sub => Some((a.0.checked_sub(b.1)?, a.1.checked_sub(b.0)?)),
                    BinOp::Mul | BinOp::Jux => {
                        let c = [
                            a.0.checked_mul(b.0)?,
                            a.0.checked_mul(b.1)?,
                            a.1.checked_mul(b.0)?,
                            a.1.checked_mul(b.1)?,
                        ];
                        Some((*c.iter().min()?, *c.iter().max()?))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// How index position k of tensor `key` reads or writes.
    fn position(
        &mut self,
        ix: &IndexExpr,
        key: &str,
        k: usize,
        ext: (i64, i64),
    ) -> Result<Pos, String> {
        let a = match ix {
            IndexExpr::Affine(a) => a,
            IndexExpr::Lookup(r) => {
                // An integer-valued tensor read as a position (`e[w[t],I]`): one position
                // per statement, rounded as the interpreter rounds; its values are those of
                // a categorical draw, inside the stored extent as in tq's own run.
                let v = self.r_read(r, &BTreeSet::new())?;
                if !v.dims.is_empty() {
                    return Err("a lookup index that varies over the statement's indices".into());
                }
                return Ok(Pos::Int(format!("int(np.rint({}))", v.code), ext.0, ext.1));
            }
        };
        let axis_of = |g: &Self, n: &str| g.stmt.axes.iter().position(|x| x == n);
        let has_axis = a
            .terms
            .iter()
            .flat_map(|t| t.factors.iter())
            .any(|f| axis_of(self, &f.name).is_some() && self.loop_ident(&f.name).is_none());
        if !has_axis {
            let (mn, mx) = self
                .int_range(a)
                .ok_or("an index whose range over the loops is not known")?;
            return Ok(Pos::Int(self.int_affine(a)?, mn, mx));
        }
        if a.constant == 0
            && a.terms.len() == 1
            && a.terms[0].coef == 1
            && a.terms[0].factors.len() == 1
        {
            return Ok(Pos::Axis(
                axis_of(self, &a.terms[0].factors[0].name).ok_or("no axis")?,
            ));
        }
        // Affine in the statement's indices: the range over the grid.
        let (mut mn, mut mx) = (a.constant, a.constant);
        let mut s = String::new();
        for t in &a.terms {
            let mut c = t.coef;
            let mut ax = None;
            let mut fs = Vec::new();
            if t.coef.abs() != 1 {
                fs.push(t.coef.abs().to_string());
            }
            for f in &t.factors {
                if let Some(p) = axis_of(self, &f.name) {
                    if ax.is_some() {
                        return Err("a product of two indices".into());
                    }
                    ax = Some(p);
                    fs.push(self.stmt.grids[p].clone());
                } else if let Some(v) = self.num_const(&f.name) {
                    c = c.checked_mul(v).ok_or("overflow")?;
                    fs.push(self.const_ident(&f.name));
                } else {
                    return Err(format!("`{}` in a shifted index", f.name));
                }
            }
            match ax {
                Some(p) => {
                    let (x, y) = (c * self.stmt.lo[p], c * self.stmt.hi[p]);
                    mn += x.min(y);
                    mx += x.max(y);
                }
                None => {
                    mn += c;
                    mx += c;
                }
            }
            push_term(&mut s, &fs.join(" * "), t.coef < 0);
        }
        push_const(&mut s, a.constant);
        let shifted =
            a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1);
        let wrap = shifted && self.env.boundary == Some(Boundary::Circular);
        let n = if wrap { self.size_dim(key, k) } else { None };
        Ok(Pos::Gather(s, mn, mx, n.is_some()))
    }

    /// The slice of an index's range in a dimension stored over `lo..=hi`.
    fn slice(&self, a: usize, (lo, hi): (i64, i64)) -> Result<String, String> {
        let (alo, ahi) = (self.stmt.lo[a], self.stmt.hi[a]);
        if alo < lo || ahi > hi {
            return Err("an index range outside the stored extent".into());
        }
        if alo == lo && ahi == hi {
            return Ok(":".into());
        }
        let start = alo - lo;
        let end = ahi - lo + 1;
        Ok(if start == 0 {
            format!(":{end}")
        } else {
            format!("{start}:{end}")
        })
    }

    /// A read of a tensor (or a loop variable, index or constant used as a value).
    fn r_read(&mut self, r: &Ref, bound: &BTreeSet<String>) -> Result<Val, String> {
        if r.indices.is_none() && !r.grad {
            let printed = crate::syntax::printer::print_name(&r.name);
            if self.consts.contains_key(&printed) {
                return Ok(Val {
                    code: self.const_ident(&printed),
                    dims: vec![],
                });
            }
            if r.name.sub.is_empty() {
                let b = &r.name.base;
                if let Some(l) = self.loop_ident(b) {
                    return Ok(Val {
                        code: l,
                        dims: vec![],
                    });
                }
                if let Some(p) = self.stmt.axes.iter().position(|a| a == b) {
                    if bound.contains(b) {
                        return Ok(Val {
                            code: format!(
                                "np.arange({}, {})",
                                self.stmt.lo[p],
                                self.stmt.hi[p] + 1
                            ),
                            dims: vec![p],
                        });
                    }
                }
            }
        }
        let key = self.env.key_of(&r.name);
        let id = self.tensor_ident(&key, r.grad);
        let base = self.member_code(&id, &key, &r.name)?;
        let ext = self.extent(&key, r.grad, &r.name)?;
        let idx = r.indices.clone().unwrap_or_default();
        if idx.len() != ext.len() {
            return Err("rank differs from the stored tensor".into());
        }
        let mut pos = Vec::new();
        for (k, ix) in idx.iter().enumerate() {
            pos.push(self.position(ix, &key, k, ext[k])?);
        }
        if !pos.iter().any(|p| matches!(p, Pos::Gather(..))) {
            // Outside the stored extent an element reads 0: a zero-padded array.
            let mut pads = Vec::new();
            for (k, p) in pos.iter().enumerate() {
                let (lo, hi) = ext[k];
                pads.push(match p {
                    Pos::Axis(a) => (
                        (lo - self.stmt.lo[*a]).max(0),
                        (self.stmt.hi[*a] - hi).max(0),
                    ),
                    Pos::Int(_, mn, mx) => ((lo - mn).max(0), (mx - hi).max(0)),
                    Pos::Gather(..) => unreachable!(),
                });
            }
            let mut parts = Vec::new();
            let mut dims = Vec::new();
            for (k, p) in pos.iter().enumerate() {
                let (lo, hi) = (ext[k].0 - pads[k].0, ext[k].1 + pads[k].1);
                match p {
                    Pos::Axis(a) => {
                        if dims.contains(a) {
                            return Err("an index repeated in a read".into());
                        }
                        dims.push(*a);
                        parts.push(self.slice(*a, (lo, hi))?);
                    }
                    Pos::Int(s, ..) => parts.push(offset_int(s, lo)),
                    Pos::Gather(..) => unreachable!(),
                }
            }
            let src = padded(&base, &pads);
            let code = if parts.iter().all(|p| p == ":") {
                src
            } else {
                format!("{src}[{}]", trim_slices(&parts).join(", "))
            };
            return Ok(Val { code, dims });
        }
        // A gather over the statement's grid, from a zero-padded array where it reads
        // outside the stored extent.
        self.stmt.need_grid = true;
        let mut pads = Vec::new();
        let mut parts = Vec::new();
        for (k, p) in pos.iter().enumerate() {
            let (lo, hi) = ext[k];
            match p {
                Pos::Axis(a) => {
                    let (alo, ahi) = (self.stmt.lo[*a], self.stmt.hi[*a]);
                    let (p0, p1) = ((lo - alo).max(0), (ahi - hi).max(0));
                    pads.push((p0, p1));
                    parts.push(offset_int(&self.stmt.grids[*a], lo - p0));
                }
                Pos::Int(s, mn, mx) => {
                    let (p0, p1) = ((lo - mn).max(0), (mx - hi).max(0));
                    pads.push((p0, p1));
                    parts.push(offset_int(s, lo - p0));
                }
                Pos::Gather(s, mn, mx, wrap) => {
                    if *wrap {
                        let n = self.size_dim(&key, k).ok_or("no size")?;
                        if lo != 0 || hi - lo + 1 != self.size_value(&key, k) {
                            return Err("a circular dimension stored beyond its size".into());
                        }
                        pads.push((0, 0));
                        parts.push(format!("({s}) % {n}"));
                    } else {
                        if self.size_dim(&key, k).is_some()
                            && (lo != 0 || hi - lo + 1 != self.size_value(&key, k))
                        {
                            return Err("a dimension stored beyond its size".into());
                        }
                        let (p0, p1) = ((lo - mn).max(0), (mx - hi).max(0));
                        pads.push((p0, p1));
                        parts.push(offset_int(s, lo - p0));
                    }
                }
            }
        }
        let src = padded(&base, &pads);
        Ok(Val {
            code: format!("{src}[{}]", parts.join(", ")),
            dims: (0..self.stmt.axes.len()).collect(),
        })
    }

    /// The dimensions in statement order (a transpose where a read has them otherwise).
    fn canon(&self, v: Val) -> Result<Val, String> {
        if v.dims.windows(2).all(|w| w[0] < w[1]) {
            return Ok(v);
        }
        let mut sorted = v.dims.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != v.dims.len() {
            return Err("an index repeated in one value".into());
        }
        let from: String = v.dims.iter().map(|d| self.stmt.letters[*d]).collect();
        let to: String = sorted.iter().map(|d| self.stmt.letters[*d]).collect();
        Ok(Val {
            code: format!("np.einsum('{from}->{to}', {})", strip(&v.code)),
            dims: sorted,
        })
    }

    /// A canonical value broadcast against `target` (a sorted superset of its dims).
    fn expand(&self, v: &Val, target: &[usize]) -> String {
        let mut parts: Vec<&str> = target
            .iter()
            .map(|d| if v.dims.contains(d) { ":" } else { "None" })
            .collect();
        while parts.first() == Some(&"None") {
            parts.remove(0);
        }
        while parts.last() == Some(&":") {
            parts.pop();
        }
        if parts.iter().all(|p| *p == ":") {
            v.code.clone()
        } else {
            format!("{}[{}]", v.code, parts.join(", "))
        }
    }

    /// A canonical value with one dimension per statement index (None where absent).
    fn expand_full(&self, v: &Val, n: usize) -> String {
        let mut parts: Vec<&str> = (0..n)
            .map(|d| if v.dims.contains(&d) { ":" } else { "None" })
            .collect();
        while parts.first() == Some(&"None") {
            parts.remove(0);
        }
        if parts.iter().all(|p| *p == ":") {
            v.code.clone()
        } else {
            format!("{}[{}]", v.code, parts.join(", "))
        }
    }

    fn elementwise(&mut self, a: Val, b: Val, op: &str) -> Result<Val, String> {
        // With a scalar, or two values of the same dimensions, no transpose is needed
        // (an einsum around it takes the dimensions in any order).
        let (a, b, dims) = if b.dims.is_empty() || a.dims == b.dims {
            let d = a.dims.clone();
            (a, b, d)
        } else if a.dims.is_empty() {
            let d = b.dims.clone();
            (a, b, d)
        } else {
            let (a, b) = (self.canon(a)?, self.canon(b)?);
            let mut dims: Vec<usize> = a.dims.iter().chain(b.dims.iter()).copied().collect();
            dims.sort();
            dims.dedup();
            (a, b, dims)
        };
        let (x, y) = if (a.dims == dims && (b.dims == dims || b.dims.is_empty()))
            || (b.dims == dims && a.dims.is_empty())
        {
            (a.code.clone(), b.code.clone())
        } else {
            (self.expand(&a, &dims), self.expand(&b, &dims))
        };
        let code = match op {
            "**" => format!("np.power({}, {})", strip(&x), strip(&y)),
            "min" => format!("np.minimum({}, {})", strip(&x), strip(&y)),
            "max" => format!("np.maximum({}, {})", strip(&x), strip(&y)),
            _ => format!("({x} {op} {y})"),
        };
        Ok(Val { code, dims })
    }

    /// Sums a value over statement axes (multiplying by the count where it is constant).
    fn reduce(&self, v: Val, axes: &[usize], count_absent: bool) -> Result<Val, String> {
        let v = self.canon(v)?;
        let mut code = v.code.clone();
        let present: Vec<usize> = axes
            .iter()
            .copied()
            .filter(|a| v.dims.contains(a))
            .collect();
        for a in axes {
            if !v.dims.contains(a) {
                if !count_absent {
                    return Err("a sum over an index the summand does not read".into());
                }
                code = format!("({} * {})", code, self.stmt.size[*a]);
            }
        }
        if present.is_empty() {
            return Ok(Val { code, dims: v.dims });
        }
        let keep: Vec<usize> = v
            .dims
            .iter()
            .copied()
            .filter(|d| !present.contains(d))
            .collect();
        let from: String = v.dims.iter().map(|d| self.stmt.letters[*d]).collect();
        let to: String = keep.iter().map(|d| self.stmt.letters[*d]).collect();
        Ok(Val {
            code: format!("np.einsum('{from}->{to}', {})", strip(&code)),
            dims: keep,
        })
    }

    /// A product of factors summed over `sum` (statement axes), as one `np.einsum`.
    fn contract(
        &mut self,
        e: &Expr,
        inner: &BTreeSet<String>,
        sum: &[usize],
        count_absent: &[usize],
    ) -> Result<Val, String> {
        let mut factors = Vec::new();
        super::product_factors(e, &mut factors);
        let mut scalars = Vec::new();
        let mut ops: Vec<Val> = Vec::new();
        for f in factors {
            let v = if matches!(f, Expr::Binary(BinOp::Add | BinOp::Sub, ..)) {
                self.r_eval(f, inner)?
            } else {
                self.r_term(f, inner)?
            };
            if v.dims.is_empty() {
                scalars.push(v.code);
            } else {
                ops.push(v);
            }
        }
        let mut present: BTreeSet<usize> = BTreeSet::new();
        for o in &ops {
            present.extend(o.dims.iter().copied());
        }
        for s in sum {
            if !present.contains(s) {
                if count_absent.contains(s) {
                    scalars.push(self.stmt.size[*s].clone());
                } else {
                    return Err("a summed index that no factor reads".into());
                }
            }
        }
        let out: Vec<usize> = present
            .iter()
            .copied()
            .filter(|d| !sum.contains(d))
            .collect();
        let core = if ops.is_empty() {
            None
        } else if ops.len() == 1 && out.len() == ops[0].dims.len() {
            Some(self.canon(ops.remove(0))?.code)
        } else {
            let subs: Vec<String> = ops
                .iter()
                .map(|o| o.dims.iter().map(|d| self.stmt.letters[*d]).collect())
                .collect();
            let to: String = out.iter().map(|d| self.stmt.letters[*d]).collect();
            let args: Vec<String> = ops.iter().map(|o| strip(&o.code).to_string()).collect();
            Some(format!(
                "np.einsum('{}->{to}', {})",
                subs.join(","),
                args.join(", ")
            ))
        };
        let mut parts = scalars;
        parts.extend(core);
        Ok(Val {
            code: if parts.len() == 1 {
                parts.remove(0)
            } else {
                format!("({})", parts.join(" * "))
            },
            dims: out,
        })
    }

    fn r_eval(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
        match e {
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) => {
                let (a, b) = (self.r_eval(l, bound)?, self.r_eval(r, bound)?);
                self.elementwise(a, b, if *op == BinOp::Add { "+" } else { "-" })
            }
            _ => {
                let caps = self.term_capitals(e, bound);
                if caps.is_empty() {
                    return self.r_term(e, bound);
                }
                let mut inner = bound.clone();
                inner.extend(caps.iter().cloned());
                let mut sum = Vec::new();
                for c in &caps {
                    sum.push(
                        self.stmt
                            .axes
                            .iter()
                            .position(|a| a == c)
                            .ok_or_else(|| format!("capital `{c}` has no axis"))?,
                    );
                }
                self.contract(e, &inner, &sum, &[])
            }
        }
    }

    fn r_term(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
        Ok(match e {
            Expr::Num(t, _) => match t.parse::<f64>() {
                Ok(v) => Val {
                    code: py_float(v),
                    dims: vec![],
                },
                Err(_) => return Err(format!("`{t}` is not a number")),
            },
            Expr::Ref(r) => self.r_read(r, bound)?,
            Expr::Unary(UnOp::Neg, x, _) => {
                let v = self.r_eval(x, bound)?;
                Val {
                    code: format!("(-{})", v.code),
                    dims: v.dims,
                }
            }
            Expr::Binary(op, l, r, _) => {
                let (a, b) = (self.r_eval(l, bound)?, self.r_eval(r, bound)?);
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul | BinOp::Jux => "*",
                    BinOp::Div => "/",
                    BinOp::Pow => "**",
                };
                self.elementwise(a, b, o)?
            }
            Expr::Iverson(x, _) => {
                let c = self.r_truth(x, bound)?;
                Val {
                    code: format!("np.where({}, 1.0, 0.0)", strip(&c.code)),
                    dims: c.dims,
                }
            }
            Expr::Rel(..) => {
                let c = self.r_truth(e, bound)?;
                Val {
                    code: format!("np.where({}, 1.0, 0.0)", strip(&c.code)),
                    dims: c.dims,
                }
            }
            Expr::Call(c) => {
                let f = c.func.name.as_str();
                let mut args = Vec::new();
                for a in &c.args {
                    args.push(self.r_eval(a, bound)?);
                }
                if let Some(b) = crate::sym::func::model_function(f) {
                    if args.len() != 1 {
                        return Err(format!("`{f}` takes one argument"));
                    }
                    let v = args.remove(0);
                    return Ok(Val {
                        code: format!("{}({})", b.numpy, strip(&v.code)),
                        dims: v.dims,
                    });
                }
                match f {
                    "min" | "max" if !args.is_empty() => {
                        let mut v = args.remove(0);
                        for a in args {
                            v = self.elementwise(v, a, f)?;
                        }
                        v
                    }
                    _ => return Err(format!("`{f}` cannot be emitted as NumPy")),
                }
            }
            Expr::Sum(ids, body, _) => {
                let mut inner = bound.clone();
                let mut ks = Vec::new();
                for i in ids {
                    inner.insert(i.name.clone());
                    ks.push(
                        self.stmt
                            .axes
                            .iter()
                            .position(|a| *a == i.name)
                            .ok_or("a summed index without an axis")?,
                    );
                }
                let v = self.r_term(body, &inner)?;
                self.reduce(v, &ks, false)?
            }
            Expr::Softmax(w, body, _) => {
                let k = self
                    .stmt
                    .axes
                    .iter()
                    .position(|a| *a == w.name)
                    .ok_or("softmax over an index without an axis")?;
                let v = self.r_eval(body, bound)?;
                let v = self.canon(v)?;
                let at = v
                    .dims
                    .iter()
                    .position(|d| *d == k)
                    .ok_or("softmax of a value constant along its index")?;
                Val {
                    code: format!("softmax({}, axis={at})", strip(&v.code)),
                    dims: v.dims,
                }
            }
            Expr::Deriv(..) => return Err("d(u)/d(a) is a claim form".into()),
        })
    }

    fn r_truth(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let (a, b) = (self.r_eval(l, bound)?, self.r_eval(r, bound)?);
                let o = match op {
                    RelOp::Eq => "==",
                    RelOp::Le => "<=",
                    RelOp::Ge => ">=",
                    RelOp::Lt => "<",
                    RelOp::Gt => ">",
                    RelOp::Approx => return Err("`~=` in a program".into()),
                };
                self.elementwise(a, b, o)
            }
            other => {
                let v = self.r_eval(other, bound)?;
                Ok(Val {
                    code: format!("({} != 0)", v.code),
                    dims: v.dims,
                })
            }
        }
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
