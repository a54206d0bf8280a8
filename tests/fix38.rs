//! Session 38 (fix38): derived programs through a value that is a derivative (probe38/p
//! a08), and the moments engine's cost in loop nesting (probe38/h k10).

mod common;

use tq::report::{check_source, Options};

/// `tq derive`'s text of a source (no diagnostics expected).
fn derived(src: &str) -> String {
    let r = check_source("d.tq", src, &common::fast());
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    tq::derive::derive_text(&r, None)
}

/// The backward program `tq derive` prints: its lines between the loop-and-scatter
/// heading and the next heading.
fn backward_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("# backpropagation program (loop-and-scatter"))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Models whose loss reads a value `d(u)/d(a)`: the deriver has no rule for it, and it
/// printed a program that read `u.grad` (never written) and dropped the path through the
/// derivative. Now no program, with the reason; the partial derivatives of the loss (the
/// claims' symbolic differentiation) are still right.
#[test]
fn a_loss_through_a_derivative_gets_no_backward_program() {
    let cases = [
        // a08: a gradient penalty.
        "scalar a, b\nu = a^3 b\ndu = d(u)/d(a)\npen = du^2\nat a = 1, b = 2\n",
        // The derivative with respect to the other input, then a sum with a plain value.
        "scalar a, b\nu = a b^2 + a\ng = d(u)/d(b)\nloss = g + a^2\nat a = 2, b = 3\n",
        // A derivative of a computed value of two steps, in an exponential.
        "scalar w\nh = tanh(w)\nv = h^2\ns = d(v)/d(w)\nloss = exp(s)\nat w = 1/2\n",
    ];
    for src in cases {
        let text = derived(src);
        let lines = backward_lines(&text);
        assert!(lines.is_empty(), "{src}\n{text}");
        assert!(
            text.contains("no backpropagation program") && text.contains("claim form"),
            "{src}\n{text}"
        );
        // Never a program that reads a gradient nothing writes.
        assert!(!text.contains("u.grad a"), "{text}");
        // The gradient check says why it did not run.
        let r = check_source("d.tq", src, &common::fast());
        let g = &r.gradcheck_skipped;
        assert!(
            g.as_ref()
                .is_some_and(|e| e.contains("no backpropagation program")),
            "{src}: {g:?}"
        );
    }
    // The same model without the derivative keeps its program.
    let text = derived("scalar a, b\nu = a^3 b\npen = u^2\nat a = 1, b = 2\n");
    let lines = backward_lines(&text);
    assert!(lines.iter().any(|l| l.starts_with("a.grad")), "{text}");
    assert!(!text.contains("no backpropagation program"), "{text}");
}

/// N nested loops whose variables the body does not read, around one `+=`: the moments
/// engine walked each loop body twice (2^N walks: N = 22 took 46 s and 345 MB). At N = 30
/// that is 2^30 walks (hours); now each body is walked once. Not timed: the old code does
/// not end within any test run.
#[test]
fn nested_loops_cost_linear_in_depth() {
    let n = 30;
    let mut src = String::from("size B, T\ninput x[B] ~ normal(0, 1)\nz[b] = 0\n");
    for i in 0..n {
        src.push_str(&format!("{}for t{i} in 1..T:\n", "  ".repeat(i)));
    }
    src.push_str(&format!("{}z[b] += x[b]\n", "  ".repeat(n)));
    src.push_str("claim mults(z) == 0\nsample B = 1, T = 1\n");
    let r = check_source("n.tq", &src, &Options::default());
    assert!(
        r.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        r.diagnostics
    );
    assert_eq!(r.claims.len(), 1);
    let text = tq::derive::derive_text(&r, None);
    assert!(text.contains("# claims"), "{text}");
}
