//! How a statement reads and writes: sizes and extents, member arrays, affine
//! positions as slices or `np.ogrid` gathers, and the array value of a reference.

use super::*;

impl Gen<'_> {
    /// Size identifier of dimension k of a tensor when the boundary rule applies to it.
    pub(super) fn size_dim(&mut self, key: &str, k: usize) -> Option<String> {
        let d = self.env.tensors.get(key)?.dims.get(k)?.clone();
        if self.consts.contains_key(&d) {
            Some(self.const_ident(&d))
        } else {
            None
        }
    }

    pub(super) fn size_value(&self, key: &str, k: usize) -> i64 {
        self.env
            .tensors
            .get(key)
            .and_then(|t| t.dims.get(k))
            .and_then(|d| self.num_const(d))
            .unwrap_or(-1)
    }

    /// The lowest and highest stored position per dimension, the same for every member
    /// a reference can name.
    pub(super) fn extent(
        &self,
        key: &str,
        grad: bool,
        name: &Name,
    ) -> Result<Vec<(i64, i64)>, String> {
        let ext = self.extents.as_ref().ok_or("no extents")?;
        let fam = self
            .env
            .tensors
            .get(key)
            .is_some_and(|t| t.family_arity > 0);
        if !fam {
            // One look-up: a scan of every member per statement made `tq emit` quadratic in
            // the file's length (issue #15, b03).
            return ext
                .get(&(key.to_string(), grad))
                .cloned()
                .ok_or_else(|| format!("`{key}` is never written in tq's run"));
        }
        let mut out: Option<Vec<(i64, i64)>> = None;
        let prefix = format!("{key}_{{");
        // The members `key_{...}` are one run of the sorted map: from the prefix on, while
        // the names still start with it.
        let start = (prefix.clone(), false);
        for ((m, g), e) in ext.range(start..) {
            if !m.starts_with(&prefix) {
                break;
            }
            if *g != grad || !m.ends_with('}') {
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
    pub(super) fn member_code(&mut self, id: &str, key: &str, n: &Name) -> Result<String, String> {
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
                    parts.push(crate::emit::py_str(&a.terms[0].factors[0].name));
                }
                IndexExpr::Affine(a) => parts.push(self.int_affine(a)?),
                IndexExpr::Lookup(_) => return Err("a lookup in a family subscript".into()),
            }
        }
        Ok(format!("{id}[{}]", parts.join(", ")))
    }

    /// An affine expression of loop variables and constants.
    pub(super) fn int_affine(&mut self, a: &Affine) -> Result<String, String> {
        crate::emit::affine_py(a, |name| {
            if let Some(l) = self.loop_ident(name) {
                Ok(l)
            } else if self.consts.contains_key(name) {
                Ok(self.const_ident(name))
            } else {
                Err(format!("`{name}` is not a loop variable or constant"))
            }
        })
    }

    /// The values of an affine expression of loop variables and constants over the loops.
    pub(super) fn int_range(&self, a: &Affine) -> Option<(i64, i64)> {
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
    pub(in crate::emit) fn bound_range(&self, e: &Expr) -> Option<(i64, i64)> {
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
    pub(super) fn position(
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
    pub(super) fn slice(&self, a: usize, (lo, hi): (i64, i64)) -> Result<String, String> {
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
    pub(super) fn r_read(&mut self, r: &Ref, bound: &BTreeSet<String>) -> Result<Val, String> {
        if r.indices.is_none() && !r.grad {
            let printed = crate::syntax::printer::print_name(&r.name);
            if self.consts.contains_key(&printed) {
                return Ok(Val {
                    code: self.const_ident(&printed),
                    dims: vec![],
                });
            }
            if r.name.sub.is_empty() {
                // A bare index, primed or not (`[k == k']`): its name with the primes.
                let b = &printed;
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
}
