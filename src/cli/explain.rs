//! `tq explain CODE`: a diagnostic code's section of docs/diagnostics.md (built into the
//! binary, so it is the same page the examples of which are tested).

use super::io::{finish, say};
use std::process::ExitCode;

const PAGE: &str = include_str!("../../docs/diagnostics.md");

/// The sections of the page: (code, text from its `## ` heading to the next one).
fn sections() -> Vec<(&'static str, &'static str)> {
    let starts: Vec<usize> = PAGE
        .match_indices("\n## ")
        .map(|(i, _)| i + 1)
        .chain(std::iter::once(PAGE.len()))
        .collect();
    starts
        .windows(2)
        .filter_map(|w| {
            let text = &PAGE[w[0]..w[1]];
            let code = text[3..].split_whitespace().next()?;
            code.starts_with(['E', 'W'])
                .then_some((code, text.trim_end()))
        })
        .collect()
}

pub fn explain(code: String) -> ExitCode {
    let wanted = code.trim().to_ascii_uppercase();
    // `203` and `E203` mean E0203.
    let digits: String = wanted.trim_start_matches(['E', 'W']).to_string();
    let all = sections();
    let found = all.iter().find(|(c, _)| {
        *c == wanted
            || (digits.chars().all(|d| d.is_ascii_digit())
                && c[1..].trim_start_matches('0') == digits.trim_start_matches('0')
                && !digits.is_empty())
    });
    match found {
        Some((_, text)) => finish(&format!("{text}\n"), ExitCode::SUCCESS),
        None => {
            let codes: Vec<&str> = all.iter().map(|(c, _)| *c).collect();
            say(format!(
                "no diagnostic code `{code}`; the codes are {}",
                codes.join(", ")
            ));
            ExitCode::from(2)
        }
    }
}
