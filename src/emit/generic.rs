//! The generic form of a statement, for one without a readable form: calls into the
//! module's runtime (`st.read`, `st.write`, `contract`, `total`) over one broadcast grid.

use super::*;

impl Gen<'_> {
    /// The statement as calls into the generic runtime (`st.read`, `st.write`).
    pub(super) fn generic(&mut self, outer: &[Ident], eq: &Equation) -> Result<(), String> {
        let mut axes: Vec<String> = Vec::new();
        for i in outer {
            if !axes.contains(&i.name) {
                axes.push(i.name.clone());
            }
        }
        // Free indices of the left side.
        for ix in eq.lhs.indices.iter().flatten() {
            if let IndexExpr::Affine(a) = ix {
                for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                    if !self.loop_vars.contains(&f.name)
                        && !self.consts.contains_key(&f.name)
                        && !axes.contains(&f.name)
                    {
                        axes.push(f.name.clone());
                    }
                }
            }
        }
        let bound: BTreeSet<String> = axes.iter().cloned().collect();
        // Every capital the right side may sum, and the indices of explicit sums.
        let mut extra = Vec::new();
        self.capitals_deep(&eq.rhs, &bound, &mut extra);
        sum_ids(&eq.rhs, &mut extra);
        for c in extra {
            if !axes.contains(&c) {
                axes.push(c);
            }
        }
        if axes.len() > MAX_AXES {
            return Err(format!(
                "`{}` has more than {MAX_AXES} indices",
                print_equation(eq)
            ));
        }
        let n = axes.len();
        for (k, a) in axes.iter().enumerate() {
            let lower = a.to_lowercase();
            if self.env.index_size(&lower).is_none() {
                return Err(format!("index `{a}` has no size"));
            }
            self.used.insert(lower.clone());
            self.line(&format!(
                "i_{} = ax({k}, *rng_of({}), {n})",
                san(a),
                py_str(&lower)
            ));
        }
        self.axes = axes;
        let value = self.eval(&eq.rhs, &bound)?;
        let (member, key, idx, shifted) = self.place(&eq.lhs, &bound)?;
        let op = match eq.op {
            AssignOp::Set => "=",
            AssignOp::AddAssign => "+=",
            AssignOp::SubAssign => "-=",
        };
        self.line(&format!(
            "st.write({member}, {}, {key}, [{idx}], [{shifted}], {value}, {})",
            if eq.lhs.grad { "True" } else { "False" },
            py_str(op)
        ));
        self.axes.clear();
        Ok(())
    }

    pub(super) fn loop_py(&self, name: &str) -> String {
        self.loop_ids
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or_else(|| format!("v_{}", san(name)), |x| x.1.clone())
    }

    pub(super) fn eval(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<String, String> {
        match e {
            Expr::Binary(BinOp::Add, l, r, _) => Ok(format!(
                "({} + {})",
                self.eval(l, bound)?,
                self.eval(r, bound)?
            )),
            Expr::Binary(BinOp::Sub, l, r, _) => Ok(format!(
                "({} - {})",
                self.eval(l, bound)?,
                self.eval(r, bound)?
            )),
            _ => {
                let (inner, ks) = self.split_capitals(e, bound, &self.axes)?;
                if ks.is_empty() {
                    return self.term(e, bound);
                }
                let ks: Vec<String> = ks.iter().map(usize::to_string).collect();
                let axes = format!("({},)", ks.join(", "));
                let n = self.axes.len();
                let mut factors = Vec::new();
                product_factors(e, &mut factors);
                if factors.len() > 1 {
                    let mut fs = Vec::new();
                    for f in factors {
                        fs.push(self.eval(f, &inner)?);
                    }
                    Ok(format!("contract([{}], {axes}, {n})", fs.join(", ")))
                } else {
                    Ok(format!("total({}, {axes}, {n})", self.term(e, &inner)?))
                }
            }
        }
    }

    pub(super) fn term(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<String, String> {
        Ok(match e {
            Expr::Num(t, _) => match t.parse::<f64>() {
                Ok(v) => py_float(v),
                Err(_) => return Err(format!("`{t}` is not a number")),
            },
            Expr::Ref(r) => self.read(r, bound)?,
            Expr::Unary(UnOp::Neg, x, _) => format!("(-{})", self.eval(x, bound)?),
            Expr::Binary(op, l, r, _) => {
                let (a, b) = (self.eval(l, bound)?, self.eval(r, bound)?);
                match op {
                    BinOp::Add => format!("({a} + {b})"),
                    BinOp::Sub => format!("({a} - {b})"),
                    BinOp::Mul | BinOp::Jux => format!("({a} * {b})"),
                    BinOp::Div => format!("({a} / {b})"),
                    BinOp::Pow => format!("np.power(np.asarray({a}, dtype=float), {b})"),
                }
            }
            Expr::Iverson(x, _) => format!("np.where({}, 1.0, 0.0)", self.truth(x, bound)?),
            Expr::Rel(..) => format!("np.where({}, 1.0, 0.0)", self.truth(e, bound)?),
            Expr::Call(c) => {
                let mut args = Vec::new();
                for a in &c.args {
                    args.push(self.eval(a, bound)?);
                }
                let f = c.func.name.as_str();
                let one = |name: &str| -> Result<String, String> {
                    if args.len() == 1 {
                        Ok(format!("{name}({})", args[0]))
                    } else {
                        Err(format!("`{f}` takes one argument"))
                    }
                };
                if let Some(b) = crate::sym::func::model_function(f) {
                    return one(b.numpy);
                }
                match f {
                    "min" | "max" if !args.is_empty() => {
                        let np_f = if f == "min" {
                            "np.minimum"
                        } else {
                            "np.maximum"
                        };
                        let mut s = args[0].clone();
                        for a in &args[1..] {
                            s = format!("{np_f}({s}, {a})");
                        }
                        s
                    }
                    _ => return Err(format!("`{f}` cannot be emitted as NumPy")),
                }
            }
            Expr::Sum(ids, body, _) => {
                let (inner, ks) = super::summed_axes(ids, bound, &self.axes, |i| {
                    format!("summed index `{i}` has no axis")
                })?;
                let ks: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
                let n = self.axes.len();
                format!(
                    "total({}, ({},), {n})",
                    self.eval(body, &inner)?,
                    ks.join(", ")
                )
            }
            Expr::Softmax(w, body, _) => {
                let k = self.axis(&w.name).ok_or_else(|| {
                    format!(
                        "softmax over `{}` needs `{}` on the left side",
                        w.name, w.name
                    )
                })?;
                let n = self.axes.len();
                let r = py_str(&w.name.to_lowercase());
                format!(
                    "softmax_grid({}, {k}, rng_of({r})[1] - rng_of({r})[0] + 1, {n})",
                    self.eval(body, bound)?
                )
            }
            Expr::Deriv(..) => return Err("d(u)/d(a) is a claim form, not a program value".into()),
        })
    }

    pub(super) fn truth(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<String, String> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let (a, b) = (self.eval(l, bound)?, self.eval(r, bound)?);
                Ok(match op {
                    RelOp::Approx => format!(
                        "(np.abs(({a}) - ({b})) <= 1e-9 * np.maximum(np.maximum(np.abs({a}), np.abs({b})), 1.0))"
                    ),
                    op => format!("({a} {} {b})", op.symbol()),
                })
            }
            other => Ok(format!("({} != 0)", self.eval(other, bound)?)),
        }
    }

    pub(super) fn factor(&self, name: &str, bound: &BTreeSet<String>) -> Result<String, String> {
        if bound.contains(name) && self.axis(name).is_some() {
            return Ok(format!("i_{}", san(name)));
        }
        if self.loop_vars.contains(&name.to_string()) {
            return Ok(self.loop_py(name));
        }
        if self.axis(name).is_some() {
            return Ok(format!("i_{}", san(name)));
        }
        if self.consts.contains_key(name) {
            return Ok(format!("int(round(C[{}]))", py_str(name)));
        }
        Err(format!("index `{name}` is not bound here"))
    }

    pub(super) fn index(
        &mut self,
        ix: &IndexExpr,
        bound: &BTreeSet<String>,
    ) -> Result<String, String> {
        match ix {
            IndexExpr::Affine(a) => {
                let s = affine_py(a, |n| self.factor(n, bound))?;
                Ok(if a.terms.len() + usize::from(a.constant != 0) > 1 {
                    format!("({s})")
                } else {
                    s
                })
            }
            IndexExpr::Lookup(r) => Ok(format!(
                "np.rint({}).astype(np.int64)",
                self.read(r, bound)?
            )),
        }
    }

    pub(super) fn member(
        &mut self,
        n: &Name,
        bound: &BTreeSet<String>,
    ) -> Result<(String, String), String> {
        let key = self.env.key_of(n);
        let fam = self
            .env
            .tensors
            .get(&key)
            .is_some_and(|t| t.family_arity > 0);
        if !fam {
            return Ok((py_str(&key), py_str(&key)));
        }
        let mut parts = Vec::new();
        for s in &n.sub {
            if let Some(f) = s.plain_var().map(|f| &f.name) {
                if !self.loop_vars.contains(f)
                    && self.axis(f).is_none()
                    && !self.consts.contains_key(f)
                {
                    parts.push(py_str(f));
                    continue;
                }
            }
            parts.push(self.index(s, bound)?);
        }
        Ok((
            format!("mem({}, [{}])", py_str(&key), parts.join(", ")),
            py_str(&key),
        ))
    }

    pub(super) fn place(
        &mut self,
        r: &Ref,
        bound: &BTreeSet<String>,
    ) -> Result<(String, String, String, String), String> {
        let (member, key) = self.member(&r.name, bound)?;
        let mut idx = Vec::new();
        let mut shifted = Vec::new();
        for ix in r.indices.iter().flatten() {
            idx.push(self.index(ix, bound)?);
            let s = match ix {
                IndexExpr::Affine(a) => {
                    a.terms.len() > 1 || a.terms.iter().any(|t| t.factors.len() > 1 || t.coef != 1)
                }
                IndexExpr::Lookup(_) => false,
            };
            shifted.push(if s { "True" } else { "False" });
        }
        Ok((member, key, idx.join(", "), shifted.join(", ")))
    }

    pub(super) fn read(&mut self, r: &Ref, bound: &BTreeSet<String>) -> Result<String, String> {
        if r.indices.is_none() && !r.grad {
            let printed = print_name(&r.name);
            if self.consts.contains_key(&printed) {
                return Ok(format!("C[{}]", py_str(&printed)));
            }
            if r.name.sub.is_empty() {
                // A bare index, primed or not (`[k == k']`): its name with the primes.
                let b = &printed;
                if self.loop_vars.contains(b) {
                    return Ok(format!("float({})", self.loop_py(b)));
                }
                if bound.contains(b) && self.axis(b).is_some() {
                    return Ok(format!("i_{}.astype(float)", san(b)));
                }
            }
        }
        let (member, key, idx, shifted) = self.place(r, bound)?;
        Ok(format!(
            "st.read({member}, {}, {key}, [{idx}], [{shifted}])",
            if r.grad { "True" } else { "False" }
        ))
    }
}
