//! Array values of a statement: dimensions in statement order, broadcasts, element-wise
//! operations, reductions, contractions as `np.einsum`, terms and truth values.

use super::*;

impl Gen<'_> {
    /// The dimensions in statement order (a transpose where a read has them otherwise).
    pub(super) fn canon(&self, v: Val) -> Result<Val, String> {
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
    pub(super) fn expand(&self, v: &Val, target: &[usize]) -> String {
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
    pub(super) fn expand_full(&self, v: &Val, n: usize) -> String {
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

    pub(super) fn elementwise(&mut self, a: Val, b: Val, op: &str) -> Result<Val, String> {
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
    pub(super) fn reduce(&self, v: Val, axes: &[usize], count_absent: bool) -> Result<Val, String> {
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
    pub(super) fn contract(
        &mut self,
        e: &Expr,
        inner: &BTreeSet<String>,
        sum: &[usize],
        count_absent: &[usize],
    ) -> Result<Val, String> {
        let mut factors = Vec::new();
        crate::emit::product_factors(e, &mut factors);
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

    pub(super) fn r_eval(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
        match e {
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub), l, r, _) => {
                let (a, b) = (self.r_eval(l, bound)?, self.r_eval(r, bound)?);
                self.elementwise(a, b, if *op == BinOp::Add { "+" } else { "-" })
            }
            _ => {
                let (inner, sum) = self.split_capitals(e, bound, &self.stmt.axes)?;
                if sum.is_empty() {
                    return self.r_term(e, bound);
                }
                self.contract(e, &inner, &sum, &[])
            }
        }
    }

    pub(super) fn r_term(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
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
                let (inner, ks) = crate::emit::summed_axes(ids, bound, &self.stmt.axes, |_| {
                    "a summed index without an axis".to_string()
                })?;
                // The body's capitals summed over its terms (docs/language.md).
                let v = self.r_eval(body, &inner)?;
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

    pub(super) fn r_truth(&mut self, e: &Expr, bound: &BTreeSet<String>) -> Result<Val, String> {
        match e {
            Expr::Rel(op, l, r, _) => {
                let (a, b) = (self.r_eval(l, bound)?, self.r_eval(r, bound)?);
                if *op == RelOp::Approx {
                    return Err("`~=` in a program".into());
                }
                self.elementwise(a, b, op.symbol())
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
