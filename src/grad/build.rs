//! Building and rewriting expressions: item and expression constructors, products
//! and signs, renaming of indices.

use super::occurrences::index_vars;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::visit::map_children;
use std::collections::BTreeMap;

pub(super) fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
    }
}

pub(super) fn num(s: &str) -> Expr {
    Expr::Num(s.to_string(), Span::default())
}

pub(super) fn scalar_ref(name: &str, grad: bool) -> Ref {
    Ref {
        grad,
        ..Ref::plain(name, Span::default())
    }
}

pub(super) fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary(op, Box::new(l), Box::new(r), Span::default())
}

pub(super) fn jux(l: Expr, r: Expr) -> Expr {
    bin(BinOp::Jux, l, r)
}

pub(super) fn neg(e: Expr) -> Expr {
    Expr::Unary(UnOp::Neg, Box::new(e), Span::default())
}

pub(super) fn call(f: &str, arg: Expr) -> Expr {
    Expr::Call(Call {
        func: Ident {
            name: f.to_string(),
            span: Span::default(),
        },
        args: vec![arg],
        brackets: false,
        span: Span::default(),
    })
}

/// Whether a reference mentions a variable in its subscripts or indices.
pub(super) fn mentions(r: &Ref, var: &str) -> bool {
    r.name
        .sub
        .iter()
        .chain(r.indices.iter().flatten())
        .any(|ix| index_vars(ix).iter().any(|v| v == var))
}

/// The factors of a product (juxtaposition or `*`), left to right.
pub(super) fn flatten_product(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinOp::Jux | BinOp::Mul, l, r, _) => {
            flatten_product(*l, out);
            flatten_product(*r, out);
        }
        other => out.push(other),
    }
}

/// Splits a leading negation off: (sign, factor or `None` for 1).
pub(super) fn split_sign(e: Expr) -> (i32, Option<Expr>) {
    match e {
        Expr::Unary(UnOp::Neg, x, _) => {
            let (s, f) = split_sign(*x);
            (-s, f)
        }
        Expr::Num(t, _) if t == "1" => (1, None),
        other => (1, Some(other)),
    }
}

pub(super) fn rename_ref(r: &mut Ref, map: &BTreeMap<String, String>) {
    if !map.is_empty() {
        crate::syntax::visit::rename_indices(r, map);
    }
}

/// Renames summed capitals in the factors of a product (not inside function
/// arguments, which are their own summation scopes).
pub(super) fn rename_expr(e: &Expr, map: &BTreeMap<String, String>) -> Expr {
    if map.is_empty() {
        return e.clone();
    }
    match e {
        Expr::Ref(r) => {
            let mut r = r.clone();
            rename_ref(&mut r, map);
            Expr::Ref(r)
        }
        Expr::Unary(..) | Expr::Binary(..) => map_children(e, |x| rename_expr(x, map)),
        other => other.clone(),
    }
}
