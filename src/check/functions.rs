//! The names an expression may apply: model functions (from the built-in function
//! table), claim-only functions and distributions.

/// The argument count of a function an expression may apply: the built-in function
/// table (`crate::sym::func`) is the one list.
pub fn function_arity(name: &str) -> Option<usize> {
    crate::sym::func::model_function(name).map(|_| 1)
}

/// "known functions: …", with "did you mean" when a known name is close.
pub(super) fn known_functions_hint(name: &str, with_claims: bool) -> String {
    functions_hint(name, with_claims, true, true)
}

/// An argument as a factor: a name, a number or a call as written, anything else in
/// parentheses.
fn factor(e: &crate::syntax::ast::Expr) -> String {
    let text = crate::syntax::printer::print_expr(e);
    use crate::syntax::ast::Expr;
    match e {
        Expr::Ref(_) | Expr::Num(..) | Expr::Call(_) => text,
        _ => format!("({text})"),
    }
}

/// Its negation as an argument: `-x[b]`, `-(a + b)`.
fn negated(e: &crate::syntax::ast::Expr) -> String {
    format!("-{}", factor(e))
}

/// An activation (or other function) tq has no entry for, written with the functions it
/// has: `leaky_relu(x[b])` is `relu(x[b]) - alpha relu(-x[b])`. `name` is read without
/// case, `_`, braces and trailing digits (`Leaky_ReLU`, `silu_2`); `free` is a name for
/// a new symbol (a slope) the file does not use. None for a name not in the table.
pub(super) fn spelled_function(
    name: &str,
    args: &[crate::syntax::ast::Expr],
    free: &str,
) -> Option<String> {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '{' | '}' | '\''))
        .collect::<String>()
        .to_lowercase();
    let key = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let (x, xs) = match args {
        [a] => (crate::syntax::printer::print_expr(a), factor(a)),
        [a, b] if matches!(key, "max" | "maximum" | "min" | "minimum") => {
            let (u, v) = (factor(a), factor(b));
            let sign = if key.starts_with("max") { '+' } else { '-' };
            let what = if key.starts_with("max") {
                "maximum"
            } else {
                "minimum"
            };
            return Some(format!(
                "an element-wise {what} of two values is written with `abs`: `({u} + {v})/2 {sign} abs({u} - {v})/2`"
            ));
        }
        _ => return None,
    };
    let neg = match args {
        [a] => negated(a),
        _ => unreachable!(),
    };
    let slope = format!("(declare the slope, `symbol {free}`)");
    let (what, formula) = match key {
        "leakyrelu" | "lrelu" | "prelu" | "leaky" => (
            "a leaky ReLU",
            format!("`relu({x}) - {free} relu({neg})` {slope}"),
        ),
        "swish" | "silu" => ("a swish (SiLU)", format!("`{xs} sigmoid({x})`")),
        "mish" => ("a mish", format!("`{xs} tanh(softplus({x}))`")),
        "elu" => (
            "an ELU",
            format!("`relu({x}) + {free} (exp(-relu({neg})) - 1)` {slope}"),
        ),
        "softsign" => ("a softsign", format!("`{xs} / (1 + abs({x}))`")),
        "hardtanh" => (
            "a hard tanh",
            format!("`relu({x} + 1) - relu({x} - 1) - 1`"),
        ),
        "relu" => ("a ReLU capped at 6", format!("`relu({x}) - relu({x} - 6)`")),
        "logsigmoid" => ("a log-sigmoid", format!("`-softplus({neg})`")),
        "sinh" => ("sinh", format!("`(exp({x}) - exp({neg}))/2`")),
        "cosh" => ("cosh", format!("`(exp({x}) + exp({neg}))/2`")),
        "square" | "sq" => ("a square", format!("`{xs}^2`")),
        "log" => (
            "a logarithm to another base",
            format!("`ln({x}) / ln(2)` (base 2)"),
        ),
        _ => return None,
    };
    // `relu6` is the only "relu" with digits in the table's reading; `relu` itself is
    // known and never reaches here, nor `log`: only `log2`, `log10`.
    let digits = name.trim_end_matches(|c: char| c.is_ascii_digit()).len() < name.len();
    match key {
        "relu" if !name.ends_with('6') => return None,
        "log" if !digits => return None,
        "log" => {
            let base = &name[name.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
            return Some(format!(
                "tq has no `{name}`: a logarithm to base {base} is written with the functions it has: `ln({x}) / ln({base})`"
            ));
        }
        _ => {}
    }
    Some(format!(
        "tq has no `{name}`: {what} is written with the functions it has: {formula}"
    ))
}

/// The hint of an unknown function in a claim: the spelling of a common activation
/// (`swish(x)` is `x sigmoid(x)`), else the claim functions and the functions.
pub(super) fn claim_functions_hint(name: &str, args: &[crate::syntax::ast::Expr]) -> String {
    match spelled_function(name, args, "a") {
        Some(h) => format!(
            "{h}; functions: {}",
            crate::sym::func::model_names().join(", ")
        ),
        None => known_functions_hint(name, true),
    }
}

/// The hint of an unknown function; `product`: the product it may have meant (`a (b +
/// 1)`, with a space) is named too; `suggest`: a close function's name is ("did you
/// mean"), which a declared value's name directly followed by `(` does not get (it is
/// most likely a product without its space: `sigma_W(b + 1)`, not `sigma`). Written for an
/// undeclared name, that product sent the author to declare it as a symbol, and the
/// "function" became a constant factor (probe38 a10).
pub(super) fn functions_hint(
    name: &str,
    with_claims: bool,
    product: bool,
    suggest: bool,
) -> String {
    // Reductions that name the index they run over, written without it.
    match name {
        "softmax" => {
            return "softmax names the index it normalises over as a subscript: `softmax_{w}(s[t,w])`".into()
        }
        "sum" => {
            return "a sum names the indices it runs over as a subscript: `sum_{i}(x[b,i]^2)` (or sum by the capital: `x[b,I]`)".into()
        }
        "d" if with_claims => {
            return "a derivative is written `d(u)/d(a)`: of a value `u` the program computes, with respect to an input `a`, each a name".into()
        }
        "mean" | "avg" | "average" => {
            return format!("there is no `{name}`: write the mean as a sum over the index divided by its size, `sum_{{i}}(x[b,i]) / I`")
        }
        _ => {}
    }
    let names = crate::sym::func::model_names();
    let mut all: Vec<&str> = names.clone();
    if with_claims {
        all.extend(CLAIM_FUNCTIONS.iter().map(|(n, _)| *n));
    }
    let close = crate::diag::suggest(name, all.iter().copied()).filter(|_| suggest);
    let mut hint = match close {
        Some(s) => format!("did you mean `{s}`? "),
        None => String::new(),
    };
    if with_claims {
        let claim: Vec<&str> = CLAIM_FUNCTIONS.iter().map(|(n, _)| *n).collect();
        hint.push_str(&format!(
            "claim functions: {}; functions: {}",
            claim.join(", "),
            names.join(", ")
        ));
    } else {
        hint.push_str(&format!("known functions: {}", names.join(", ")));
        if product {
            hint.push_str(&format!(
                "; for a product write `{name} (...)` with a space"
            ));
        }
    }
    hint
}

/// Functions that only claims may use (moment operators and claim predicates), with
/// their argument counts (`usize::MAX`: any number).
pub const CLAIM_FUNCTIONS: &[(&str, usize)] = &[
    ("E", 1),
    ("Var", 1),
    ("Cov", 2),
    ("Std", 1),
    ("solve", 2),
    ("mults", 1),
    ("order", 2),
    ("equivalent", usize::MAX),
    ("invariant", usize::MAX),
    ("min", usize::MAX),
    ("max", usize::MAX),
    ("P", 1),
    // Of exact rationals in claims (`floor(7/2) == 3`); a symbolic argument is undecided.
    ("floor", 1),
    ("ceil", 1),
];

/// Distributions a declaration may use, with their argument counts.
pub const DISTRIBUTIONS: &[(&str, usize)] = &[
    ("normal", 2),
    ("uniform", 2),
    ("symmetric", 1),
    ("moments", 2),
    ("bernoulli", 1),
    ("categorical", 1),
    ("const", 1),
];

/// The largest value a size may take in `sample`.
pub const MAX_SAMPLE_SIZE: i64 = 1_000_000;

/// What a softmax whose index is missing or not in its argument most likely means,
/// written out: for `softmax(s[b,I])` or `softmax_{i}(s[b,I])`, `softmax_{i}(s[b,i])`
/// and the capital written in lower case (`Some("I")`: a capital sums the argument
/// before the softmax sees it); for `softmax(s[t,w])`, `softmax_{w}(s[t,w])` (the last
/// plain index). `named`: the index the softmax names, if any. `None` when the
/// argument has no plain index to normalise over (or none matching `named`).
pub(super) fn softmax_fix(
    arg: &crate::syntax::ast::Expr,
    named: Option<&str>,
) -> Option<(String, Option<String>)> {
    let mut plain: Vec<String> = Vec::new();
    crate::syntax::visit::walk_refs(arg, &mut |r| {
        for ix in r.indices.iter().flatten() {
            if let Some(v) = ix.plain_var() {
                plain.push(v.name.clone());
            }
        }
    });
    let is_capital = |n: &str| n.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let capital = match named {
        Some(n) => {
            let cap = n.to_uppercase();
            plain.iter().find(|p| **p == cap).cloned()?
        }
        None => match plain.iter().rev().find(|p| is_capital(p)) {
            Some(c) => c.clone(),
            None => {
                let last = plain.last()?;
                let text = crate::syntax::printer::print_expr(arg);
                return Some((format!("softmax_{{{last}}}({text})"), None));
            }
        },
    };
    let low = capital.to_lowercase();
    let text = lower_in_brackets(&crate::syntax::printer::print_expr(arg), &capital);
    Some((format!("softmax_{{{low}}}({text})"), Some(capital)))
}

/// `text` with each whole-word `name` inside square brackets in lower case.
fn lower_in_brackets(text: &str, name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, depth: usize| {
        if depth > 0 && word == name {
            out.push_str(&name.to_lowercase());
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '\'' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out, depth);
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.push(c);
    }
    flush(&mut word, &mut out, depth);
    out
}

/// A dotted name an author brought from NumPy or PyTorch (issue #18): `np.tanh` (a
/// module's function: tq's functions take no prefix) or `W.T` (a transpose: tq writes
/// it by the order of the indices). The span to replace and the hint, whose fix keeps
/// the meaning the author intended: `did you mean `tanh`?` at the name, `did you mean
/// `W[J, i]`?` over the whole reference. `None` for a rule's sequence (`A.v`) or any
/// other name.
pub(super) fn foreign_name(
    r: &crate::syntax::ast::Ref,
    key: &str,
    env: &super::Env,
) -> Option<(crate::span::Span, String, String)> {
    let (module, member) = key.split_once('.')?;
    if env.rules.contains_key(module) || module.is_empty() || member.is_empty() {
        return None;
    }
    let known = |f: &str| {
        crate::sym::func::lookup(f).is_some() || CLAIM_FUNCTIONS.iter().any(|(n, _)| *n == f)
    };
    if known(member) && r.indices.is_none() {
        return Some((
            r.name.span,
            format!("`{key}` is a function of another library: tq has no `{module}.`"),
            format!(
                "did you mean `{member}`? tq's built-in functions are called by their own name, with no module prefix (`np.`, `torch.`, `math.`)"
            ),
        ));
    }
    // Another library's function tq has under another notation (`np.sum`, `torch.mean`,
    // `F.softmax`): the hint writes tq's notation, never a declaration of the dotted name.
    const LIBRARIES: &[&str] = &[
        "np", "numpy", "torch", "math", "F", "jnp", "jax", "tf", "nn", "scipy", "special",
    ];
    if LIBRARIES.contains(&module) && r.indices.is_none() && !env.tensors.contains_key(module) {
        return Some((
            r.name.span,
            format!("`{key}` is a function of another library: tq has no `{module}.`"),
            format!(
                "tq writes it in its own notation: {}",
                known_functions_hint(member, true)
            ),
        ));
    }
    let plain = r.name.sub.is_empty() && r.name.sup.is_empty() && r.name.primes == 0 && !r.grad;
    if member == "T" && plain && env.tensors.contains_key(module) {
        let ix = r.indices.as_ref().filter(|ix| ix.len() == 2)?;
        let swapped: Vec<String> = ix
            .iter()
            .rev()
            .map(crate::syntax::printer::print_index)
            .collect();
        let fixed = format!("{module}[{}]", swapped.join(", "));
        return Some((
            r.span,
            format!("`{key}` is a transpose written as in NumPy: tq has no `.T`"),
            format!(
                "did you mean `{fixed}`? a transpose is the same tensor read with its indices in the other order: `{}` is `{fixed}`",
                crate::syntax::printer::print_ref(r)
            ),
        ));
    }
    None
}

/// `exp x[b,j]`: a built-in function written without its parentheses reads as a
/// product of an undeclared name and the factor after it (probe37 p15: the hint said to
/// declare `symbol exp`, which made `exp` a number multiplying `x[b,j]`). By the place
/// of each such function name, where the factor it stands before ends and the factor
/// printed (`x[b,j]`).
pub(super) fn operands_without_parentheses(
    items: &[crate::syntax::ast::Item],
) -> std::collections::BTreeMap<u32, (u32, String)> {
    use crate::syntax::ast::{BinOp, Expr};
    fn rightmost(e: &Expr) -> Option<&crate::syntax::ast::Ref> {
        match e {
            Expr::Ref(r) => Some(r),
            Expr::Binary(BinOp::Jux | BinOp::Mul, _, b, _) => rightmost(b),
            _ => None,
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for item in items {
        super::numbers::item_exprs(item, &mut |e| {
            crate::syntax::visit::walk_expr(e, |x| {
                if let Expr::Binary(BinOp::Jux, a, b, _) = x {
                    if let Some(r) = rightmost(a).filter(|r| {
                        r.indices.is_none()
                            && !r.grad
                            && r.name.sub.is_empty()
                            && r.name.sup.is_empty()
                            && r.name.primes == 0
                            && crate::sym::func::model_function(&r.name.base).is_some()
                    }) {
                        out.entry(r.name.span.start).or_insert_with(|| {
                            (b.span().end, crate::syntax::printer::print_expr(b))
                        });
                    }
                }
                true
            });
        });
    }
    out
}

/// The message and hint of a built-in function written without parentheses (see
/// [`operands_without_parentheses`]): `exp` before `operand`.
pub(super) fn function_without_parentheses(name: &str, operand: &str) -> (String, String) {
    (
        format!("`{name}` is a function: its argument is written in parentheses"),
        format!(
            "did you mean `{name}({operand})`? without parentheses `{name} {operand}` reads as a product of a name `{name}` and `{operand}`"
        ),
    )
}

impl super::Checker {
    /// The diagnostic (with `code`) of a built-in function written without parentheses
    /// at `r` (see [`operands_without_parentheses`]), spanning the name and its operand.
    pub(super) fn bare_function(
        &self,
        code: &'static str,
        r: &crate::syntax::ast::Ref,
        key: &str,
    ) -> Option<crate::diag::Diagnostic> {
        let (end, operand) = self.bare_functions.get(&r.name.span.start)?;
        let (message, hint) = function_without_parentheses(key, operand);
        Some(
            crate::diag::Diagnostic::error(
                code,
                crate::span::Span::new(r.name.span.start as usize, *end as usize),
                message,
            )
            .with_label("a function applied without parentheses")
            .with_hint(hint),
        )
    }
}

/// E0815 (a warning; fix42, probe42 r19): a built-in function called by the name of a
/// declared symbol, scalar or size (`symbol sigma`, then `sigma(x + 1)`): the call is the
/// function (`sigma` is the sigmoid), not the product the author most likely meant, and
/// the claims were decided on the sigmoid without a word (a subscripted name,
/// `sigma_W(x + 1)`, is E0103 with the product's spelling).
pub(super) fn check_declared_names(
    items: &[crate::syntax::ast::Item],
    env: &super::Env,
    diags: &mut Vec<crate::diag::Diagnostic>,
) {
    use crate::diag::Diagnostic;
    use crate::syntax::ast::Expr;
    let mut found = Vec::new();
    for item in items {
        super::numbers::item_exprs(item, &mut |e| {
            crate::syntax::visit::walk_expr(e, |x| {
                if let Expr::Call(c) = x {
                    let name = c.func.name.as_str();
                    let declared = if env.symbols.contains_key(name) {
                        Some("a symbol")
                    } else if env.scalars.contains_key(name) {
                        Some("a scalar")
                    } else if env.sizes.contains_key(name) {
                        Some("a size")
                    } else {
                        None
                    };
                    if let Some(what) =
                        declared.filter(|_| crate::sym::func::lookup(name).is_some())
                    {
                        found.push((name.to_string(), what, c.func.span));
                    }
                }
                true
            })
        });
    }
    for (name, what, span) in found {
        let function = crate::sym::func::lookup(&name).map_or(name.clone(), |b| b.name.to_string());
        diags.push(
            Diagnostic::warning(
                "E0815",
                span,
                format!(
                    "`{name}` is declared as {what}, but `{name}(...)` directly followed by `(` is the function `{function}`, not {what} times a value"
                ),
            )
            .with_label("read as a function")
            .with_hint(format!(
                "for a product write `{name} (...)` with a space; for the function write `{function}(...)`"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::lower_in_brackets;

    #[test]
    fn a_capital_is_lowered_only_inside_brackets_and_as_a_whole_word() {
        assert_eq!(
            lower_in_brackets("W[I,J'] s[b,I] / I + x[I']", "I"),
            "W[i,J'] s[b,i] / I + x[I']"
        );
    }
}
