//! Update rules (`rule A over t:`) as NumPy: one Python function per rule that runs its
//! statements step by step, one Python statement per `.tq` statement, each preceded by
//! its `# line N:` comment. The sequences a rule assigns (`v`, `theta`) are arrays of
//! `steps + 1` entries with their starts at position 0; the sequences it only reads
//! (`g`) are inputs of `steps` entries; symbols are read from the module's `P` (the
//! `sample` values, with those of `--inputs` on top), so a rule whose symbols have no
//! value (`mu'`) asks for them by name instead of running.

use super::{py_str, readable::py_reserved};
use crate::span::LineIndex;
use crate::syntax::ast::*;
use crate::syntax::printer::print_equation;
use std::collections::BTreeSet;

/// A rule's names: its step variable, the sequences it assigns and the ones it reads.
struct RuleNames {
    var: String,
    states: Vec<String>,
    inputs: BTreeSet<String>,
    symbols: BTreeSet<String>,
}

fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| match c {
            '\'' => 'p',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("s_{s}");
    }
    while py_reserved(&s) || ["np", "P", "t", "steps", "inputs", "start"].contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The position `var + k` or `k` of a sequence read, as Python.
fn position(ix: &[IndexExpr], var: &str) -> Result<String, String> {
    let [IndexExpr::Affine(a)] = ix else {
        return Err("a sequence is read at one position".into());
    };
    match a.terms.as_slice() {
        [] => Ok(a.constant.to_string()),
        [t] if t.coef == 1 && t.factors.len() == 1 && t.factors[0].name == var => {
            Ok(match a.constant {
                0 => var.to_string(),
                k if k > 0 => format!("{var} + {k}"),
                k => format!("{var} - {}", -k),
            })
        }
        _ => Err(format!(
            "a position other than `{var} + k` or a number (`{}`)",
            crate::syntax::printer::print_affine(a)
        )),
    }
}

impl RuleNames {
    /// An expression as Python, parenthesized only where Python's precedence needs it.
    fn expr(&self, e: &Expr) -> Result<String, String> {
        self.prec(e).map(|(s, _)| s)
    }

    /// An expression and its precedence: 1 a sum, 2 a product, 3 a negation, 4 a
    /// power, 5 an atom.
    fn prec(&self, e: &Expr) -> Result<(String, u8), String> {
        let wrap = |(s, p): (String, u8), min: u8| if p < min { format!("({s})") } else { s };
        Ok(match e {
            Expr::Num(s, _) => (s.clone(), 5),
            Expr::Ref(r) => {
                if r.grad {
                    return Err("a rule reads no gradients".into());
                }
                let name = crate::syntax::printer::print_name(&r.name);
                let s = match &r.indices {
                    Some(ix) if self.states.contains(&name) || self.inputs.contains(&name) => {
                        format!("{}[{}]", ident(&name), position(ix, &self.var)?)
                    }
                    None if self.symbols.contains(&name) => format!("P[{}]", py_str(&name)),
                    _ => return Err(format!("`{name}` is not a sequence or symbol of the rule")),
                };
                (s, 5)
            }
            Expr::Unary(UnOp::Neg, x, _) => (format!("-{}", wrap(self.prec(x)?, 3)), 3),
            Expr::Binary(op, a, b, _) => {
                let (o, p, left, right) = match op {
                    BinOp::Add => ("+", 1, 1, 2),
                    BinOp::Sub => ("-", 1, 1, 2),
                    BinOp::Mul | BinOp::Jux => ("*", 2, 2, 3),
                    BinOp::Div => ("/", 2, 2, 3),
                    BinOp::Pow => ("**", 4, 5, 3),
                };
                let a = wrap(self.prec(a)?, left);
                let b = wrap(self.prec(b)?, right);
                (format!("{a} {o} {b}"), p)
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let f = crate::sym::func::model_function(&c.func.name)
                    .ok_or_else(|| format!("`{}` is not a function of a rule", c.func.name))?;
                (format!("{}({})", f.numpy, self.expr(&c.args[0])?), 5)
            }
            _ => {
                return Err(
                    "an expression a rule cannot run (only arithmetic and functions)".into(),
                )
            }
        })
    }
}

/// The names of one rule (assigned sequences in order, read sequences, symbols).
fn names(r: &Rule, symbols: &BTreeSet<String>) -> Result<RuleNames, String> {
    let mut n = RuleNames {
        var: r.var.name.clone(),
        states: Vec::new(),
        inputs: BTreeSet::new(),
        symbols: BTreeSet::new(),
    };
    for item in &r.body {
        let ItemKind::Equation(eq) = &item.kind else {
            return Err("a rule holds only statements".into());
        };
        let name = crate::syntax::printer::print_name(&eq.lhs.name);
        if !n.states.contains(&name) {
            n.states.push(name);
        }
    }
    for item in &r.body {
        if let ItemKind::Equation(eq) = &item.kind {
            crate::syntax::visit::walk_refs(&eq.rhs, &mut |x| {
                let name = crate::syntax::printer::print_name(&x.name);
                if x.indices.is_some() && !n.states.contains(&name) {
                    n.inputs.insert(name);
                } else if x.indices.is_none() && symbols.contains(&name) {
                    n.symbols.insert(name);
                }
            });
        }
    }
    Ok(n)
}

/// The Python of every rule of `program`: the functions and the table `RULES`, and how
/// many rules there are. A rule that cannot be written gives the reason.
pub(super) fn rules(
    program: &Program,
    symbols: &BTreeSet<String>,
    lines: &LineIndex,
) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut table = Vec::new();
    for item in &program.items {
        let ItemKind::Rule(r) = &item.kind else {
            continue;
        };
        let n = names(r, symbols).map_err(|e| format!("rule {}: {e}", r.name.name))?;
        let f = format!("rule_{}", ident(&r.name.name));
        out.push_str(&format!(
            "\n\ndef {f}(steps, inputs, start):\n    \"\"\"Update rule {} over {} (line {}): `steps` steps from the starts `start`\n    (a dict by sequence name), reading the input sequences `inputs`.\"\"\"\n",
            r.name.name,
            r.var.name,
            lines.line_col(item.span.start as usize).0
        ));
        for g in &n.inputs {
            out.push_str(&format!(
                "    {} = np.asarray(inputs[{}], dtype=float)\n",
                ident(g),
                py_str(g)
            ));
        }
        for s in &n.states {
            out.push_str(&format!(
                "    {id} = np.zeros(steps + 1)\n    {id}[0] = start[{}]\n",
                py_str(s),
                id = ident(s)
            ));
        }
        out.push_str(&format!("    for {} in range(steps):\n", n.var));
        for item in &r.body {
            if let ItemKind::Equation(eq) = &item.kind {
                let name = crate::syntax::printer::print_name(&eq.lhs.name);
                let at = eq
                    .lhs
                    .indices
                    .as_deref()
                    .ok_or_else(|| {
                        format!("rule {}: `{name}` is assigned without a step", r.name.name)
                    })
                    .and_then(|ix| position(ix, &n.var))
                    .map_err(|e| format!("rule {}: {e}", r.name.name))?;
                let rhs = n
                    .expr(&eq.rhs)
                    .map_err(|e| format!("rule {}: {e}", r.name.name))?;
                let op = match eq.op {
                    AssignOp::Set => "=",
                    AssignOp::AddAssign => "+=",
                    AssignOp::SubAssign => "-=",
                };
                out.push_str(&format!(
                    "        # line {}: {}\n        {}[{at}] {op} {rhs}\n",
                    lines.line_col(eq.span.start as usize).0,
                    print_equation(eq).replace('\n', " "),
                    ident(&name),
                ));
            }
        }
        let states: Vec<String> = n
            .states
            .iter()
            .map(|s| format!("{}: {}", py_str(s), ident(s)))
            .collect();
        out.push_str(&format!("    return {{{}}}\n", states.join(", ")));
        let list = |v: &mut dyn Iterator<Item = &String>| {
            v.map(|s| py_str(s)).collect::<Vec<_>>().join(", ")
        };
        table.push(format!(
            "    {}: ({f}, [{}], [{}], [{}]),\n",
            py_str(&r.name.name),
            list(&mut n.states.iter()),
            list(&mut n.inputs.iter()),
            list(&mut n.symbols.iter())
        ));
    }
    let count = table.len();
    out.push_str(
        "\n\n# Per rule: (function, the sequences it assigns, the sequences it reads, its symbols).\nRULES = {\n",
    );
    for t in table {
        out.push_str(&t);
    }
    out.push_str("}\n");
    Ok((out, count))
}
