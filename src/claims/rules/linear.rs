//! One update rule read as a linear system `x[t+1] = M x[t] + N g[t]`: the state
//! sequences and inputs of `rule A over t:` and the lowering of its updates.

use crate::claims::scalar;
use crate::sym::{self, Expr};
use crate::syntax::ast::{self as ast, IndexExpr, ItemKind, Program};
use crate::syntax::printer::print_name;
use std::collections::BTreeMap;

/// One rule, linear: `x[t+1] = M x[t] + N g[t]`.
#[derive(Clone, Debug)]
pub struct LinearRule {
    pub name: String,
    pub var: String,
    /// State sequences in assignment order (`v`, `theta`).
    pub states: Vec<String>,
    /// Input sequences, read only (`g`).
    pub inputs: Vec<String>,
    pub m: Vec<Vec<Expr>>,
    pub n: Vec<Vec<Expr>>,
    /// The constant term of each update (`s[t+1] = mu s[t] + c`: c), zero when there is
    /// none; [`super::sequence::system`] reads it as a virtual state fixed at 1.
    pub c: Vec<Expr>,
}

impl LinearRule {
    /// The same rule stepping over `var`: the step variable is bound by
    /// `rule A over t:`, so renaming it changes nothing (session 36, h24: two rules
    /// differing only in its name were never compared). Refused when `var` is also a
    /// symbol the rule's coefficients read.
    pub fn over(&self, var: &str) -> Result<LinearRule, String> {
        if self.var == var {
            return Ok(self.clone());
        }
        let all = || self.m.iter().chain(&self.n).flatten().chain(&self.c);
        if all().any(|e| e.free_symbols().contains(var)) {
            return Err(format!(
                "the rules compared step over different variables, and `{var}` is also a symbol of rule `{}`",
                self.name
            ));
        }
        let v = Expr::sym(var);
        let r = |rows: &[Vec<Expr>]| -> Vec<Vec<Expr>> {
            rows.iter()
                .map(|row| row.iter().map(|e| e.subs(&self.var, &v)).collect())
                .collect()
        };
        Ok(LinearRule {
            var: var.to_string(),
            m: r(&self.m),
            n: r(&self.n),
            c: self.c.iter().map(|e| e.subs(&self.var, &v)).collect(),
            ..self.clone()
        })
    }

    /// Whether an update has a constant term.
    pub fn has_constant(&self) -> bool {
        self.c.iter().any(|c| !c.is_zero())
    }
}

/// The symbol of a sequence at the current step: `A.theta[t]`.
pub(super) fn at_t(rule: &str, x: &str, var: &str) -> String {
    format!("{rule}.{x}[{var}]")
}

/// The symbol of a start value: `A.theta[0]`.
pub(super) fn at_0(rule: &str, x: &str) -> String {
    format!("{rule}.{x}[0]")
}

pub(super) fn input_sym(g: &str, var: &str) -> String {
    format!("{g}[{var}]")
}

/// The offset `k` of an index `var + k`.
pub(super) fn offset(ix: &IndexExpr, var: &str) -> Option<i64> {
    let IndexExpr::Affine(a) = ix else {
        return None;
    };
    match a.terms.as_slice() {
        [] => None,
        [t] if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var => Some(a.constant),
        _ => None,
    }
}

/// A fixed position `k` (a literal index).
pub(super) fn literal(ix: &IndexExpr) -> Option<i64> {
    let IndexExpr::Affine(a) = ix else {
        return None;
    };
    a.terms.is_empty().then_some(a.constant)
}

/// The rules of a program, linearised; a rule that is not linear gives the reason.
pub fn rules(program: &Program) -> Vec<Result<LinearRule, (String, String)>> {
    program
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Rule(r) => Some(linear_rule(r).map_err(|e| (r.name.name.clone(), e))),
            _ => None,
        })
        .collect()
}

/// The state sequences one rule may update to be read as a linear system.
pub const MAX_RULE_STATES: usize = 64;

fn linear_rule(r: &ast::Rule) -> Result<LinearRule, String> {
    let (name, var) = (r.name.name.clone(), r.var.name.clone());
    let mut states: Vec<String> = Vec::new();
    for item in &r.body {
        if let ItemKind::Equation(eq) = &item.kind {
            let x = print_name(&eq.lhs.name);
            match eq.lhs.indices.as_deref() {
                Some([ix]) if offset(ix, &var) == Some(1) => {}
                _ => {
                    return Err(format!(
                        "`{x}` is not updated as `{x}[{var}+1] = ...` in rule `{name}`"
                    ))
                }
            }
            if eq.op != ast::AssignOp::Set || states.contains(&x) {
                return Err(format!("`{x}` is updated more than once in rule `{name}`"));
            }
            states.push(x);
            // Refused before any update is lowered: the system is a dense matrix of
            // derivatives, states × states (2,486 states: 6 million derivatives, 19 s for
            // `tq derive` in the 2026-12-05-d campaign).
            if states.len() > MAX_RULE_STATES {
                return Err(format!(
                    "rule `{name}` updates more than {MAX_RULE_STATES} state sequences; tq reads a rule of at most {MAX_RULE_STATES} as a linear system (and compares at most 6 together)"
                ));
            }
        }
    }
    let mut inputs: Vec<String> = Vec::new();
    let mut new: BTreeMap<String, Expr> = BTreeMap::new();
    let mut updates = Vec::new();
    for item in &r.body {
        let ItemKind::Equation(eq) = &item.kind else {
            continue;
        };
        let v = scalar::lower_refs(&eq.rhs, &mut |rf| {
            let x = print_name(&rf.name);
            if rf.grad {
                return Err(format!(
                    "`{x}.grad` is not a state or an input of rule `{name}`"
                ));
            }
            let Some(idx) = &rf.indices else {
                return Ok(Expr::sym(&x));
            };
            let k = match idx.as_slice() {
                [ix] => offset(ix, &var),
                _ => None,
            };
            match (states.contains(&x), k) {
                (true, Some(0)) => Ok(Expr::sym(&at_t(&name, &x, &var))),
                (true, Some(1)) => new
                    .get(&x)
                    .cloned()
                    .ok_or_else(|| format!("`{x}[{var}+1]` is read before it is updated")),
                (false, Some(0)) => {
                    if !inputs.contains(&x) {
                        inputs.push(x.clone());
                    }
                    Ok(Expr::sym(&input_sym(&x, &var)))
                }
                _ => Err(format!(
                    "`{}` is not a read at step `{var}` or `{var}+1`",
                    crate::syntax::printer::print_ref(rf)
                )),
            }
        })?;
        new.insert(print_name(&eq.lhs.name), v.clone());
        updates.push(v);
    }
    inputs.sort();
    let xs: Vec<String> = states.iter().map(|x| at_t(&name, x, &var)).collect();
    let gs: Vec<String> = inputs.iter().map(|g| input_sym(g, &var)).collect();
    let (mut m, mut n, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for (u, x) in updates.iter().zip(&states) {
        let row: Vec<Expr> = xs.iter().map(|s| sym::expand(&u.diff(s))).collect();
        let nrow: Vec<Expr> = gs.iter().map(|s| sym::expand(&u.diff(s))).collect();
        let mut rest = u.clone();
        for (k, s) in row.iter().zip(&xs).chain(nrow.iter().zip(&gs)) {
            let fs = k.free_symbols();
            if xs.iter().chain(&gs).any(|s| fs.contains(s)) {
                return Err(format!(
                    "the update of `{x}` in rule `{name}` is not linear in the state and the inputs"
                ));
            }
            rest = rest - k.clone() * Expr::sym(s);
        }
        // A term free of the state and the inputs (`v[t+1] = mu v[t] + c`) is a constant:
        // the system reads it through a virtual state fixed at 1 (session 26: such rules
        // were undecided even at fixed steps). A term that reads the step is not one.
        let rest = sym::expand(&rest);
        if rest.free_symbols().contains(&var) {
            return Err(format!(
                "the update of `{x}` in rule `{name}` has a term that depends on the step `{var}`"
            ));
        }
        m.push(row);
        n.push(nrow);
        c.push(rest);
    }
    Ok(LinearRule {
        name,
        var,
        states,
        inputs,
        m,
        n,
        c,
    })
}
