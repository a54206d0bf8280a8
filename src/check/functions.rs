//! The names an expression may apply: model functions (from the built-in function
//! table), claim-only functions and distributions.

/// The argument count of a function an expression may apply: the built-in function
/// table (`crate::sym::func`) is the one list.
pub fn function_arity(name: &str) -> Option<usize> {
    crate::sym::func::model_function(name).map(|_| 1)
}

/// "known functions: …", with "did you mean" when a known name is close.
pub(super) fn known_functions_hint(name: &str, with_claims: bool) -> String {
    // Reductions that name the index they run over, written without it.
    match name {
        "softmax" => {
            return "softmax names the index it normalises over as a subscript: `softmax_{w}(s[t,w])`".into()
        }
        "sum" => {
            return "a sum names the indices it runs over as a subscript: `sum_{i}(x[b,i]^2)` (or sum by the capital: `x[b,I]`)".into()
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
    let mut hint = match crate::diag::suggest(name, all.iter().copied()) {
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
        hint.push_str(&format!(
            "known functions: {}; for a product write `{name} (...)` with a space",
            names.join(", ")
        ));
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
