//! The run of a generator test: each generated file is checked, and each of its claims,
//! known true or known false, is judged by the verdict it must never get.

use tq::report::{check_source, Options};

/// Checks the generated file `src` (named `name`) with the default options and adds to
/// `bad` one line per wrong verdict: a claim marked false in `false_claims` (in file
/// order) must never be `confirmed` or `proved`, a true one never `refuted`. `why_false`
/// says why the false ones are false, for the message.
pub fn judge(name: &str, src: &str, false_claims: &[bool], why_false: &str, bad: &mut Vec<String>) {
    let r = check_source(name, src, &Options::default());
    assert_eq!(r.unexpected_errors(), 0, "{src}\n{:?}", r.diagnostics);
    assert_eq!(r.claims.len(), false_claims.len(), "{src}");
    for (c, is_false) in r.claims.iter().zip(false_claims) {
        let v = c.verdict.as_str();
        let wrong = if *is_false {
            v == "confirmed" || v == "proved"
        } else {
            v == "refuted"
        };
        if wrong {
            let what = if *is_false { why_false } else { "true" };
            bad.push(format!("{src}\n  line {}: {v} ({what})", c.line));
        }
    }
}

/// How many files a generator's long run checks: the environment variable `var` when it
/// is a number, else `default`.
pub fn long_cases(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
