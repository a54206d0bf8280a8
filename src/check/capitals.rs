//! The summation convention's reading of capital indices in a statement's right side,
//! shared by the interpreter (`num`), the NumPy emitter (`emit`) and the deriver
//! (`grad::derivative`), so that all three sum over the same capitals.
//!
//! A capital index (`J` of `index j`) in a term is summed over the term. A capital
//! inside a parenthesized sum (`(a[J] + b)`) is summed there, unless another
//! parenthesized sum of the same term also reads it.

use super::Env;
use crate::syntax::ast::{BinOp, Expr, IndexExpr, Ref};

/// The capitals of an expression that a caller has not bound yet (`bound` says which
/// names are bound: loop variables and the capitals of an enclosing term).
pub struct Capitals<'a> {
    pub env: &'a Env,
    pub bound: &'a dyn Fn(&str) -> bool,
}

impl Capitals<'_> {
    /// Unbound capitals read by the references of `e`, outside function arguments and
    /// explicit sums, in order of appearance.
    pub fn shallow(&self, e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Ref(r) => self.in_ref(r, out),
            Expr::Unary(_, x, _) | Expr::Iverson(x, _) => self.shallow(x, out),
            Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
                self.shallow(l, out);
                self.shallow(r, out);
            }
            _ => {}
        }
    }

    fn in_ref(&self, r: &Ref, out: &mut Vec<String>) {
        for ix in r.indices.iter().flatten() {
            match ix {
                IndexExpr::Affine(a) => {
                    for f in a.terms.iter().flat_map(|t| t.factors.iter()) {
                        if crate::syntax::ast::is_summed_index(&f.name)
                            && !(self.bound)(&f.name)
                            && self.env.index_size(&f.name.to_lowercase()).is_some()
                            && !out.contains(&f.name)
                        {
                            out.push(f.name.clone());
                        }
                    }
                }
                IndexExpr::Lookup(r) => self.in_ref(r, out),
            }
        }
    }

    /// Every unbound capital anywhere in the expression.
    pub fn deep(&self, e: &Expr, out: &mut Vec<String>) {
        super::walk_refs(e, &mut |r| self.in_ref(r, out));
    }

    /// The capitals summed over the term `e`: those occurring outside any parenthesized
    /// sum of the term, and those shared by two of its parenthesized sums (a capital
    /// inside one sum only is summed there).
    pub fn of_term(&self, e: &Expr) -> Vec<String> {
        let mut direct = Vec::new();
        let mut opaque: Vec<Vec<String>> = Vec::new();
        self.split(e, &mut direct, &mut opaque);
        let mut out = direct;
        for (k, set) in opaque.iter().enumerate() {
            for c in set {
                if !out.contains(c) && opaque.iter().skip(k + 1).any(|o| o.contains(c)) {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    fn split(&self, e: &Expr, direct: &mut Vec<String>, opaque: &mut Vec<Vec<String>>) {
        match e {
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => {
                let mut set = Vec::new();
                self.shallow(e, &mut set);
                opaque.push(set);
            }
            Expr::Unary(_, x, _) | Expr::Iverson(x, _) => self.split(x, direct, opaque),
            Expr::Binary(_, l, r, _) | Expr::Rel(_, l, r, _) => {
                self.split(l, direct, opaque);
                self.split(r, direct, opaque);
            }
            Expr::Ref(_) => self.shallow(e, direct),
            _ => {}
        }
    }
}
