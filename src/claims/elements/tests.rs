//! Unit tests of the element lowering.

use super::*;
use crate::syntax::ast::Claim;

/// The left side of each claim of `src`.
fn sides(program: &Program) -> Vec<&ast::Expr> {
    program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Claim(Claim {
                body: ast::Expr::Rel(_, l, _, _),
                ..
            }) => Some(&**l),
            _ => None,
        })
        .collect()
}

/// The scalar claims' lowering (a `Scope`), the update rules' (`lower_refs`, names
/// as atoms) and the tensor elements' (`Lowerer`) read each construct alike: the
/// same value, or the same reason for refusing it.
#[test]
fn the_three_lowerings_agree_on_each_construct() {
    let src = "size N\nscalar a, b\nc = 2 a\nclaim sqrt(a) + gelu(b) / 3 == 0\nclaim abs(a - b)^2 == 0\nclaim d(c)/d(a) == 0\nclaim d(c)/d(c) == 0\nclaim softmax_{n}(a) == 0\nclaim [a > 0] + b == 0\nclaim foo(a) == 0\nclaim max(a, b) == 0\nclaim Var(a) + E(b) == 0\nclaim 1e999 + a == 0\n";
    let p = crate::syntax::parser::parse(src).program;
    let (env, _) = crate::check::check(&p);
    let mut scope = scalar::Scope::default();
    scope.defs.insert("c".into(), Expr::int(2) * Expr::sym("a"));
    let mut lw = Lowerer::new(&p, &env);
    let sides = sides(&p);
    assert_eq!(sides.len(), 10);
    let mut refused = 0;
    for e in sides {
        let by_scope = scalar::lower(e, &scope);
        let by_refs = scalar::lower_refs(e, &mut |r| match print_name(&r.name).as_str() {
            "c" => Ok(Expr::int(2) * Expr::sym("a")),
            x => Ok(Expr::sym(x)),
        });
        let by_elements = lw.lower(e, &BTreeMap::new());
        let text = crate::syntax::printer::print_expr(e);
        // Iverson brackets are exact steps in scalar claims (`Atoms::iverson`) and
        // in element claims (`Atoms::bracket`, where a bare index is its value at
        // the element); the references' lowering leaves them to the sampled run.
        if text.starts_with('[') {
            assert!(by_scope.is_ok() && by_refs.is_err(), "{text}");
            assert_eq!(by_elements, by_scope, "{text}");
            refused += 1;
            continue;
        }
        // A softmax is written out over its index by the element lowering only.
        if text.starts_with("softmax") {
            assert!(by_scope.is_err() && by_refs.is_err(), "{text}");
            assert!(by_elements.is_ok(), "{text}");
            refused += 1;
            continue;
        }
        assert_eq!(by_scope, by_refs, "{text}");
        // The moments of constants are exact over Bernoulli elements: only there do
        // the element claims read more than the others.
        if text.starts_with("Var(") {
            assert!(by_scope.is_err() && by_elements.is_ok(), "{text}");
            continue;
        }
        assert_eq!(by_scope, by_elements, "{text}");
        refused += usize::from(by_scope.is_err());
    }
    // An unknown function, `max` of two, `d(c)/d(c)` with `c` computed and a literal
    // out of range are refused everywhere; the Iverson bracket by one of three, the
    // softmax by two.
    assert_eq!(refused, 6);
}
