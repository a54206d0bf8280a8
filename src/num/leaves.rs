//! The leaves of a program: the elements a declaration covers, and their values drawn
//! from the declared distributions (or values) before a run.

use super::{err, lookup, too_large, Bind, Machine, NumError, MAX_ELEMENTS};
use crate::syntax::ast::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// One element of a declaration: its member, its position, and the value of the
/// declaration's family variable where it has one.
type DeclElement = (String, Vec<i64>, Option<i64>);

/// One member of a declaration ([`Machine::decl_members`]): its name, the values each
/// dimension takes (its elements are their product), and the value of the declaration's
/// family variable where it has one.
pub struct DeclMember {
    pub member: String,
    pub axes: Vec<Vec<i64>>,
    pub fam: Option<i64>,
}

impl DeclMember {
    /// The number of elements (saturating).
    pub fn elements(&self) -> usize {
        self.axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.len()))
            .unwrap_or(usize::MAX)
    }

    /// `f` at every position of the member, the last dimension fastest (the order in
    /// which the leaves are sampled); nothing when a dimension takes no value.
    pub fn for_each_position(&self, mut f: impl FnMut(&[i64])) {
        if self.axes.iter().any(|a| a.is_empty()) {
            return;
        }
        let mut pos = vec![0usize; self.axes.len()];
        let mut at: Vec<i64> = self.axes.iter().map(|a| a[0]).collect();
        'outer: loop {
            f(&at);
            for k in (0..self.axes.len()).rev() {
                pos[k] += 1;
                if pos[k] < self.axes[k].len() {
                    at[k] = self.axes[k][pos[k]];
                    continue 'outer;
                }
                pos[k] = 0;
                at[k] = self.axes[k][0];
            }
            break;
        }
    }
}

impl Machine<'_> {
    /// Every element a declaration covers: (member, position) pairs.
    pub fn decl_elements(&mut self, d: &Decl) -> Result<Vec<(String, Vec<i64>)>, NumError> {
        Ok(self
            .decl_elements_in(d)?
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect())
    }

    /// [`Machine::decl_elements`], each with the value of the declaration's family
    /// variable (`l` of `W_{l}[...] for l in ...`) where it has one.
    fn decl_elements_in(&mut self, d: &Decl) -> Result<Vec<DeclElement>, NumError> {
        let mut out = Vec::new();
        for m in self.decl_members(d)? {
            m.for_each_position(|pos| out.push((m.member.clone(), pos.to_vec(), m.fam)));
        }
        Ok(out)
    }

    /// The members a declaration covers, each with the values its dimensions take,
    /// without enumerating their elements: a caller counts the elements
    /// ([`DeclMember::elements`]) and refuses before it enumerates them (the dense
    /// executor's model, `num::dense::DenseModel::new_within`). A member over
    /// [`MAX_ELEMENTS`] elements is refused here, from the lengths.
    pub fn decl_members(&mut self, d: &Decl) -> Result<Vec<DeclMember>, NumError> {
        let mut out = Vec::new();
        let mut b: Bind = Vec::new();
        let fam: Vec<i64> = match &d.family {
            Some(r) => {
                let lo = self.eval(&r.from, &b)?.round() as i64;
                let hi = self.eval(&r.to, &b)?.round() as i64;
                if (hi as i128) - (lo as i128) >= MAX_ELEMENTS as i128 {
                    return err(format!(
                        "the family range of `{}` has more than {MAX_ELEMENTS} members",
                        r.var.name
                    ));
                }
                (lo..=hi).collect()
            }
            None => vec![0],
        };
        for fv in fam {
            if let Some(r) = &d.family {
                b = vec![(r.var.name.clone(), fv)];
            }
            let member = self.member(&d.target.name, &b)?;
            // Per dimension: the values it takes.
            let mut axes: Vec<Vec<i64>> = Vec::new();
            if d.target.indices.is_none() {
                // `grad L_L ~ ...`: every element of the tensor as defined.
                let key = self.env.key_of(&d.target.name);
                let dims = self
                    .env
                    .tensors
                    .get(&key)
                    .map(|t| t.dims.clone())
                    .unwrap_or_default();
                for dim in dims {
                    if let Some(c) = dim.strip_prefix('@').and_then(|c| c.parse::<i64>().ok()) {
                        axes.push(vec![c]);
                    } else if let Some(n) = self.consts.get(&dim) {
                        axes.push((0..*n as i64).collect());
                    } else {
                        return err(format!(
                            "cannot enumerate the elements of `{member}` (dimension `{dim}`); declare it with indices"
                        ));
                    }
                }
            }
            for ix in d.target.indices.iter().flatten() {
                let vals = match ix {
                    IndexExpr::Affine(a) if a.terms.is_empty() => vec![a.constant],
                    IndexExpr::Affine(a)
                        if a.terms.len() == 1
                            && a.terms[0].factors.len() == 1
                            && a.constant == 0 =>
                    {
                        let n = &a.terms[0].factors[0].name;
                        if let Some(v) = lookup(&b, n) {
                            vec![v]
                        } else if self.env.sizes.contains_key(n) {
                            let s = self.consts.get(n).copied().unwrap_or(0.0) as i64;
                            (0..s).collect()
                        } else {
                            let (lo, hi) = self.index_range(n)?;
                            (lo..=hi).collect()
                        }
                    }
                    _ => vec![self.index(ix, &b)?],
                };
                axes.push(vals);
            }
            let total = axes
                .iter()
                .try_fold(1usize, |acc, a| acc.checked_mul(a.len()))
                .unwrap_or(usize::MAX);
            if total > MAX_ELEMENTS {
                return too_large(format!(
                    "`{member}` would have {total} elements; use smaller sizes on the `sample` line"
                ));
            }
            out.push(DeclMember {
                member,
                axes,
                fam: d.family.as_ref().map(|_| fv),
            });
        }
        Ok(out)
    }

    /// Every element a declaration covers, each with the names its parameters may read
    /// bound there (the family variable, the plain index names).
    pub(crate) fn decl_element_binds(
        &mut self,
        d: &Decl,
    ) -> Result<Vec<(String, Vec<i64>, Bind)>, NumError> {
        Ok(self
            .decl_elements_in(d)?
            .into_iter()
            .map(|(m, p, fam)| {
                let b = decl_bind(d, &p, fam);
                (m, p, b)
            })
            .collect())
    }

    /// Whether a declaration's parameters differ by element: they read its family
    /// variable or an index of its target, or cannot be evaluated once for all.
    /// A parameter that names the family variable or an index is element-wise even where
    /// a value of that name exists elsewhere (a symbol `l` at a claim's point):
    /// `normal(0, (1 + c l)/J) for l in 1..L` was drawn with one `l` for every member
    /// (probe30/c f10).
    pub(crate) fn element_wise(&mut self, d: &Decl, args: &[Expr]) -> bool {
        let bound = decl_bind_names(d);
        args.iter().any(|a| {
            let mut reads_bound = false;
            crate::syntax::visit::walk_refs(a, &mut |r| {
                reads_bound |= r.indices.is_none()
                    && r.name.sub.is_empty()
                    && bound.contains(&r.name.base.as_str());
            });
            reads_bound || self.const_expr(a).is_err()
        })
    }

    /// Samples one value of a declaration's initializer.
    pub fn draw(&mut self, init: &Init, rng: &mut ChaCha8Rng) -> Result<f64, NumError> {
        self.draw_in(init, rng, &Vec::new())
    }

    /// [`Machine::draw`] with the declaration's indices bound (element-wise parameters,
    /// `gtilde[i] ~ bernoulli((g[i] - b)/a)`).
    fn draw_in(&mut self, init: &Init, rng: &mut ChaCha8Rng, b: &Bind) -> Result<f64, NumError> {
        match init {
            Init::Value(e) => self.eval(e, b),
            Init::Dist(c) => {
                let mut args = Vec::new();
                for a in &c.args {
                    args.push(self.eval(a, b)?);
                }
                match (c.func.name.as_str(), args.as_slice()) {
                    ("normal", [m, v]) => {
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(m + v.max(0.0).sqrt() * z)
                    }
                    ("uniform", [a, b]) => Ok(a + (b - a) * rng.random::<f64>()),
                    ("bernoulli", [p]) => Ok(if rng.random::<f64>() < *p { 1.0 } else { 0.0 }),
                    ("categorical", [n]) if *n >= 1.0 => {
                        Ok(rng.random_range(0..(*n as i64)) as f64)
                    }
                    ("moments", [m, s]) if self.stand_in => {
                        self.stood_in = true;
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(m + (s - m * m).max(0.0).sqrt() * z)
                    }
                    ("symmetric", [v]) if self.stand_in => {
                        self.stood_in = true;
                        let z: f64 = StandardNormal.sample(rng);
                        Ok(v.max(0.0).sqrt() * z)
                    }
                    (name, _) => err(format!("cannot sample from `{name}`")),
                }
            }
        }
    }

    /// Samples every `param` and `input` declaration (the leaves of the program).
    pub fn sample_leaves(
        &mut self,
        program: &Program,
        rng: &mut ChaCha8Rng,
    ) -> Result<(), NumError> {
        for item in &program.items {
            if let ItemKind::Decl(d) = &item.kind {
                if d.kind == DeclKind::Grad {
                    continue;
                }
                let Some(init) = &d.init else {
                    if self.arbitrary_inputs {
                        for (member, pos) in self.decl_elements(d)? {
                            let z: f64 = StandardNormal.sample(rng);
                            self.set((member, false), pos, z)?;
                        }
                        continue;
                    }
                    return err(format!(
                        "`{}` has no distribution or value to run it with",
                        crate::syntax::printer::print_ref(&d.target)
                    ));
                };
                // Parameters that read the declaration's indices or family variable are
                // evaluated element by element with them bound.
                let args: &[Expr] = match init {
                    Init::Value(e) => std::slice::from_ref(e),
                    Init::Dist(c) => &c.args,
                };
                let element_wise = self.element_wise(d, args);
                for (member, pos, fam) in self.decl_elements_in(d)? {
                    let v = if element_wise {
                        let b = decl_bind(d, &pos, fam);
                        self.draw_in(init, rng, &b)?
                    } else {
                        self.draw(init, rng)?
                    };
                    self.set((member, false), pos, v)?;
                }
            }
        }
        Ok(())
    }
}

/// The names [`decl_bind`] binds: the family variable and the plain index names.
fn decl_bind_names(d: &Decl) -> Vec<&str> {
    let mut out: Vec<&str> = d.family.iter().map(|r| r.var.name.as_str()).collect();
    for ix in d.target.indices.iter().flatten() {
        if let IndexExpr::Affine(a) = ix {
            if let ([t], 0) = (a.terms.as_slice(), a.constant) {
                if t.coef == 1 && t.factors.len() == 1 {
                    out.push(t.factors[0].name.as_str());
                }
            }
        }
    }
    out
}

/// The values of a declaration's family variable and of its plain index names
/// (`gtilde[i]`: `i`) at one element.
fn decl_bind(d: &Decl, pos: &[i64], fam: Option<i64>) -> Bind {
    let mut b: Bind = Vec::new();
    if let (Some(r), Some(v)) = (&d.family, fam) {
        b.push((r.var.name.clone(), v));
    }
    for (ix, &p) in d.target.indices.iter().flatten().zip(pos) {
        if let IndexExpr::Affine(a) = ix {
            if let ([t], 0) = (a.terms.as_slice(), a.constant) {
                if t.coef == 1 && t.factors.len() == 1 && lookup(&b, &t.factors[0].name).is_none() {
                    b.push((t.factors[0].name.clone(), p));
                }
            }
        }
    }
    b
}
