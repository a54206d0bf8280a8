//! Names with labels, primes and subscripts raised to powers, typeset (probe38/h k17:
//! `\eta^{\mathrm{lr}}^{2}` and `s'_0^{2}` in the moments section and the scalar
//! program's values, "! Double superscript", no PDF). A generator writes one model per
//! name shape and place (a variance claim of a scaled tensor, a scalar program's value),
//! renders the key, the student page and the Markdown, and checks every formula for a
//! second superscript or subscript on one base; with pdflatex installed, the LaTeX
//! pages compile.

use crate::common;
use tq::render::{render, Audience, Format, RenderOptions};
use tq::report::check_source;

/// The name shapes: a label, a prime, a subscript, and their combinations.
const NAMES: &[&str] = &[
    "eta^{lr}",
    "s'_{0}",
    "theta^{max}_{2}",
    "g'",
    "c''_{k}",
    "lam2^{out}",
    "sigma_W",
    "alpha'^{in}",
    "beta^{a,b}_{1}",
];

/// One model per name and place: `(file name, source)`.
fn models() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, n) in NAMES.iter().enumerate() {
        // A scaled tensor: Var(y) = n^2 (and n^4 after a second scaling).
        out.push((
            format!("scaled{k}"),
            format!(
                "size B\nsymbol {n}\ninput x[B] ~ normal(0, 1)\ny[b] = {n} x[b]\nz[b] = {n} y[b]\n\
                 claim Var(y) == {n}^2\nclaim Var(z) == ({n}^2)^2\nclaim E(z^2) == {n}^4\nsample B = 2, {n} = 2\n"
            ),
        ));
        // A scalar program in the name: its values, adjoints and partials.
        out.push((
            format!("scalar{k}"),
            format!(
                "scalar {n}\nu = {n}^2 + {n}\nv = u^3 {n}^2\nat {n} = 3\nclaim u == 12\n\
                 claim d(v)/d({n}) == 3 u^2 (2 {n} + 1) {n}^2 + 2 u^3 {n}\n"
            ),
        ));
    }
    out
}

/// The first place where one base gets a second superscript (a prime counts as one,
/// and primes directly followed by `^` are one superscript, as in TeX) or a second
/// subscript, or `None`. Groups (`{...}`, `\left ... \right`) are atoms; a script's
/// argument is one character, one command or one group.
fn double_script(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    // Per group level: (superscript set, subscript set, the last script was a prime).
    let mut stack: Vec<(bool, bool, bool)> = vec![(false, false, false)];
    let mut k = 0;
    // Skips one script argument starting at `k` (after spaces).
    let skip_arg = |mut k: usize| -> usize {
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        if k >= b.len() {
            return k;
        }
        match b[k] {
            b'{' => {
                let mut depth = 0;
                while k < b.len() {
                    match b[k] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return k + 1;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                k
            }
            b'\\' => {
                k += 1;
                let start = k;
                while k < b.len() && b[k].is_ascii_alphabetic() {
                    k += 1;
                }
                if k == start {
                    k + 1
                } else {
                    k
                }
            }
            _ => k + 1,
        }
    };
    while k < b.len() {
        let c = b[k];
        if s[k..].starts_with("\\left") {
            stack.push((false, false, false));
            k += 5;
            continue;
        }
        if s[k..].starts_with("\\right") {
            stack.pop();
            if stack.is_empty() {
                stack.push((false, false, false));
            }
            // The delimiter, then the whole is a new atom.
            k = skip_arg(k + 6);
            *stack.last_mut().unwrap() = (false, false, false);
            continue;
        }
        let top = stack.last_mut().unwrap();
        match c {
            b'^' => {
                if top.0 && !top.2 {
                    return Some(k);
                }
                *top = (true, top.1, false);
                k = skip_arg(k + 1);
            }
            b'\'' => {
                if top.0 && !top.2 {
                    return Some(k);
                }
                *top = (true, top.1, true);
                k += 1;
            }
            b'_' => {
                if top.1 {
                    return Some(k);
                }
                *top = (top.0, true, false);
                k = skip_arg(k + 1);
            }
            b'{' => {
                stack.push((false, false, false));
                k += 1;
            }
            b'}' => {
                stack.pop();
                if stack.is_empty() {
                    stack.push((false, false, false));
                }
                *stack.last_mut().unwrap() = (false, false, false);
                k += 1;
            }
            b' ' => k += 1,
            _ => {
                *top = (false, false, false);
                k = if c == b'\\' { skip_arg(k) } else { k + 1 };
            }
        }
    }
    None
}

/// The math of a page: the text between `$...$`, `\[...\]` and display environments
/// would do, but a whole page scanned line by line is enough where the text has no `^`,
/// `_` or `'` outside math (the names are all in math).
fn math_lines(page: &str) -> impl Iterator<Item = &str> {
    page.lines()
        .filter(|l| l.contains('$') || l.contains('&') || l.contains("\\["))
}

#[test]
fn the_detector_finds_double_scripts_and_passes_good_ones() {
    for bad in [
        "\\eta^{\\mathrm{lr}}^{2}",
        "s'_0^{2}",
        "\\theta^{\\mathrm{max}}_2^{2}",
        "a_{1}_{2}",
        "x^2'",
    ] {
        assert!(double_script(bad).is_some(), "{bad}");
    }
    for good in [
        "{\\eta^{\\mathrm{lr}}}^{2}",
        "s'^{2}",
        "s''",
        "x_{l}^{2}",
        "\\left(a^{2}\\right)^{2}",
        "{s'_{0}}^{2}",
        "\\frac{a^{2}}{b^{2}}",
        "W^{h,R}_{l+1}",
    ] {
        assert_eq!(double_script(good), None, "{good}");
    }
}

#[test]
fn names_with_labels_primes_and_subscripts_raised_to_powers_typeset_once() {
    let pdflatex = common::tool_available("pdflatex", &["--version"], "install texlive-latex-base");
    let dir = std::env::temp_dir().join(format!("tq-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (name, src) in models() {
        let r = check_source(&format!("{name}.tq"), &src, &common::fast());
        assert!(
            r.diagnostics.iter().all(|d| !d.is_error()),
            "{name}: {:?}\n{src}",
            r.diagnostics
        );
        let page = |format, audience| {
            render(
                &r,
                RenderOptions {
                    format,
                    fragment: false,
                    audience,
                },
            )
        };
        let key = page(Format::Latex, Audience::default());
        let student = page(Format::Latex, Audience::Student);
        let markdown = page(Format::Markdown, Audience::default());
        for (kind, text) in [
            ("key", &key),
            ("student", &student),
            ("markdown", &markdown),
        ] {
            for line in math_lines(text) {
                if let Some(at) = double_script(line) {
                    failures.push(format!(
                        "{name} ({kind}): {}",
                        &line[at.saturating_sub(40)..]
                    ));
                }
            }
        }
        if pdflatex {
            for (kind, tex) in [("key", &key), ("student", &student)] {
                let file = format!("{name}_{kind}");
                std::fs::write(dir.join(format!("{file}.tex")), tex).unwrap();
                let out = std::process::Command::new("pdflatex")
                    .args(["-interaction=nonstopmode", "-halt-on-error"])
                    .arg(format!("{file}.tex"))
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                if !out.status.success() {
                    let log = String::from_utf8_lossy(&out.stdout);
                    failures.push(format!(
                        "{file}.tex does not compile: {}",
                        log.lines()
                            .filter(|l| l.starts_with('!') || l.starts_with("l."))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
