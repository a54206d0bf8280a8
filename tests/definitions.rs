//! Definitions and what claims may say about them (issue 14, classes 6, 8 and 9):
//! `invariant` of computed values decided as an intervention, never proved because a
//! computed value vanished from a written-out formula; definitions that contradict
//! themselves (E0102, E0104, E0105) as located diagnostics; indices whose range is not
//! the extent of the dimension they index (E0210).

use tq::claims::Verdict;
use tq::report::{check_source, FileReport as Report, Options};

fn fast() -> Options {
    Options {
        no_monte_carlo: true,
        ..Options::default()
    }
}

fn run(src: &str) -> Report {
    check_source("t.tq", src, &fast())
}

/// The verdict and evidence of the claim on `line`.
fn verdict(r: &Report, src: &str, line: usize) -> (Verdict, String) {
    let c = r
        .claims
        .iter()
        .find(|c| c.line == line)
        .unwrap_or_else(|| panic!("no claim on line {line}: {src}"));
    (c.verdict, format!("{} {}", c.method, c.evidence))
}

/// The diagnostics with `code`, as (line, column, related lines).
fn located(r: &Report, src: &str, code: &str) -> Vec<(usize, usize, Vec<usize>)> {
    r.diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let (l, c) = d.line_col(src);
            let rel = d
                .related
                .iter()
                .flat_map(|r| r.iter())
                .map(|(s, _)| tq::syntax::span::line_col(src, s.start as usize).0)
                .collect();
            (l, c, rel)
        })
        .collect()
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.diagnostics.iter().map(|d| d.code).collect()
}

// ---- class 6: `invariant` of computed values ----

const CENTERED: &str = "size N
input x[N] ~ normal(0, 1)
m = sum_{n}(x[n]) / N
y[n] = x[n] - m
claim invariant(y, m)
";

#[test]
fn the_issue_file_is_never_proved_and_refuted_on_a_run() {
    // Without sample sizes there is no run: the claim is open, not proved.
    let r = run(CENTERED);
    let (v, e) = verdict(&r, CENTERED, 5);
    assert_eq!(v, Verdict::Undecided, "{e}");
    // With them, shifting m where it is computed changes y.
    let src = format!("{CENTERED}sample N = 4\n");
    let r = run(&src);
    let (v, e) = verdict(&r, &src, 5);
    assert_eq!(v, Verdict::Refuted, "{e}");
    assert!(e.contains("y[0]") && e.contains("before"), "{e}");
}

#[test]
fn a_value_that_cancels_a_computed_shift_is_proved_and_one_that_reads_it_refuted() {
    let src = "size N
input x[N] ~ normal(0, 1)
m = sum_{n}(x[n]) / N
y[n] = x[n] - m
z[n] = y[n] - sum_{n'}(y[n']) / N
claim invariant(z, m)
claim invariant(y, m)
sample N = 4
";
    let r = run(src);
    let (v, e) = verdict(&r, src, 6);
    assert_eq!(v, Verdict::Proved, "{e}");
    assert!(e.starts_with("symbolic"), "{e}");
    let (v, e) = verdict(&r, src, 7);
    assert_eq!(v, Verdict::Refuted, "{e}");
}

#[test]
fn a_value_that_does_not_read_the_other_is_proved_by_dependency() {
    let src = "size N
input x[N] ~ normal(0, 1)
input w[N] ~ normal(0, 1)
y[n] = 2 w[n]
claim invariant(y, x)
sample N = 3
";
    let r = run(src);
    let (v, e) = verdict(&r, src, 5);
    assert_eq!(v, Verdict::Proved, "{e}");
    assert!(e.starts_with("dependency"), "{e}");
}

#[test]
fn scalar_values_are_shifted_too() {
    // A rank-0 value used to be looked for as `b[`: never found, so always "proved".
    let src = "scalar a, b
s = a + b
u = s - b
v = a b
w = s a
claim invariant(u, b)
claim invariant(v, b)
claim invariant(w, s)
at a = 2, b = 3
";
    let r = run(src);
    assert_eq!(
        verdict(&r, src, 6).0,
        Verdict::Proved,
        "{:?}",
        verdict(&r, src, 6)
    );
    assert_eq!(
        verdict(&r, src, 7).0,
        Verdict::Refuted,
        "{:?}",
        verdict(&r, src, 7)
    );
    assert_eq!(
        verdict(&r, src, 8).0,
        Verdict::Refuted,
        "{:?}",
        verdict(&r, src, 8)
    );
}

#[test]
fn a_symbol_is_not_a_value_of_the_program() {
    let src = "size N
symbol sigma
input x[N] ~ normal(0, 1)
y[n] = sigma x[n]
claim invariant(y, sigma)
sample N = 3, sigma = 2
";
    let r = run(src);
    let (v, e) = verdict(&r, src, 5);
    assert_eq!(v, Verdict::Undecided, "{e}");
    assert!(e.contains("symbol"), "{e}");
}

#[test]
fn a_value_computed_in_a_loop_is_not_a_free_symbol() {
    // `s` accumulates x in a loop: it cannot be written out, and must not stand for a
    // free symbol that hides its dependence on x.
    let src = "size N, L
input x[N] ~ normal(0, 1)
for l in 1..L:
  s += x[0]
y[n] = x[n] s
claim invariant(y, x)
sample N = 3, L = 2
";
    let r = run(src);
    let (v, e) = verdict(&r, src, 6);
    assert_eq!(v, Verdict::Refuted, "{e}");
}

// ---- class 8: definitions that contradict themselves ----

#[test]
fn a_tensor_defined_twice_points_at_the_second_definition() {
    let src = "size B
input x[B] ~ normal(0, 1)
y[b] = x[b]
y[b] = 2 x[b]
";
    let r = run(src);
    assert_eq!(located(&r, src, "E0104"), vec![(4, 1, vec![3])]);
}

#[test]
fn other_double_definitions() {
    for (src, line, first) in [
        ("scalar a\nu = a^2\nu = a^3\n", 3, 2),
        ("size J\nparam W[J] ~ normal(0, 1)\nW[j] = 0\n", 3, 2),
        (
            "size B, I\ninput x[B, I] ~ normal(0, 1)\nfor b,i: y[b] += x[b,i]\ny[b] = x[b,0]\n",
            4,
            3,
        ),
        ("scalar a\nsymbol s\ns = a + 1\n", 3, 2),
        (
            "symbol mu, eta\nrule A over t:\n  v[t+1] = mu v[t] + g[t]\n  v[t+1] = v[t]\n  theta[t+1] = theta[t] - eta v[t+1]\n",
            4,
            3,
        ),
    ] {
        let r = run(src);
        let found = located(&r, src, "E0104");
        assert_eq!(found.len(), 1, "{src}: {:?}", codes(&r));
        assert_eq!((found[0].0, found[0].2.clone()), (line, vec![first]), "{src}");
    }
}

#[test]
fn declared_twice() {
    for (src, line, first) in [
        ("size B\ninput x[B] ~ normal(0, 1)\ninput x[B] ~ normal(0, 2)\n", 3, 2),
        ("size B\nsymbol x\ninput x[B] ~ normal(0, 1)\n", 3, 2),
        ("scalar a\nsize B\ninput a[B] ~ normal(0, 1)\n", 3, 1),
        (
            "size B\ninput x[B] ~ normal(0, 1)\ny[b] = 2 x[b]\ngrad y ~ normal(0, 1)\ngrad y ~ normal(0, 2)\n",
            5,
            4,
        ),
        ("size B\nsample B = 2, B = 3\n", 2, 2),
        ("size B\nsample B = 2\nsample B = 3\n", 3, 2),
        ("scalar a\nu = a^2\nat a = 1, a = 2\n", 3, 3),
        ("scalar a\nu = a^2\nclaim u == 1 at a = 1, a = 2\n", 3, 3),
        (
            "size J, L\nparam W_{l}[J, J] ~ normal(0, 1) for l in 1..L\nparam W_{l}[J, J] ~ normal(0, 2) for l in 1..L\n",
            3,
            2,
        ),
    ] {
        let r = run(src);
        let found = located(&r, src, "E0102");
        assert_eq!(found.len(), 1, "{src}: {:?}", r.diagnostics);
        assert_eq!((found[0].0, found[0].2.clone()), (line, vec![first]), "{src}");
    }
}

#[test]
fn defined_from_itself() {
    // The issue's two files.
    let src = "size B\ninput x[B] ~ normal(0, 1)\ny[b] = z[b] + x[b]\nz[b] = y[b]\n";
    let r = run(src);
    // At the read of `z` (line 3), the definition it reads ahead of (line 4) labelled.
    assert_eq!(located(&r, src, "E0105"), vec![(3, 8, vec![4])]);
    assert!(r.diagnostics[0].message.contains("defined from itself"));
    let src = "scalar a\nb = b + a\n";
    let r = run(src);
    assert_eq!(located(&r, src, "E0105"), vec![(2, 5, vec![2])]);
    // A cycle of three, a plain read before the value is computed, and a recurrence
    // that reads its own step instead of the one before.
    for (src, line) in [
        ("size B\ninput x[B] ~ normal(0, 1)\na[b] = c[b] + x[b]\np[b] = a[b]\nc[b] = p[b]\n", 3),
        ("size B\ninput x[B] ~ normal(0, 1)\ny[b] = z[b]\nz[b] = x[b]\n", 3),
        (
            "size B, T, J\ninput h[B, 0, J] ~ normal(0, 1)\ninput x[B, t, J] ~ normal(0, 1) for t in 1..T\nfor t in 1..T:\n  h[b,t,j] = h[b,t,j] + x[b,t,j]\n",
            5,
        ),
        ("size J, L\ninput x[J] ~ normal(0, 1)\nfor l in 0..L-1:\n  g_{l+1}[j] = g_{l+1}[j] + x[j]\n", 4),
    ] {
        let r = run(src);
        let found = located(&r, src, "E0105");
        assert!(!found.is_empty(), "{src}: {:?}", codes(&r));
        assert_eq!(found[0].0, line, "{src}");
    }
}

#[test]
fn legitimate_multi_part_definitions_stay_accepted() {
    let src = "size B, T, J, L
input h[B, 0, J] ~ normal(0, 1)
input x[B, t, J] ~ normal(0, 1) for t in 1..T
for t in 1..T:
  h[b,t,j] = tanh(h[b,t-1,j] + x[b,t,j])
input u[J] ~ normal(0, 1)
g_0[j] = u[j]
for l in 0..L-1:
  g_{l+1}[j] = 2 g_l[j]
y[b] = h[b,1,0]
y[b] += h[b,2,0]
q[b,0] = y[b]
q[b,1] = 2 y[b]
for b,j: r[b] += h[b,1,j]
for b: r[b] -= y[b]
sample B = 2, T = 3, J = 2, L = 2
";
    let r = run(src);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

// ---- class 9: extents ----

#[test]
fn a_summed_index_beyond_the_extent_is_an_error() {
    let src = "size I, J
param U[I] ~ normal(0, 1)
input x[J] ~ normal(0, 1)
y = U[J] x[J]
";
    let r = run(src);
    assert_eq!(located(&r, src, "E0210"), vec![(4, 7, vec![2])]);
}

#[test]
fn other_extent_mismatches() {
    for (src, line) in [
        // a free index
        ("size I, J\nparam U[I] ~ normal(0, 1)\ny[j] = U[j]\n", 3),
        // transposed
        (
            "size B, I, J\nparam W[J, I] ~ normal(0, 1)\ninput x[B, I] ~ normal(0, 1)\ny[b,j] = W[I,j] x[b,I]\n",
            4,
        ),
        // a computed tensor read with another size
        (
            "size B, I, J\ninput x[B, I] ~ normal(0, 1)\ny[b,i] = 2 x[b,i]\nz[b,j] = y[b,j]\n",
            4,
        ),
        // a family member
        (
            "size I, J, L\nparam W_{l}[J, I] ~ normal(0, 1) for l in 1..L\ninput h_0[I] ~ normal(0, 1)\nfor l in 0..L-1:\n  h_{l+1}[j] = W_{l+1}[j,J'] h_l[J']\n",
            5,
        ),
        // a primed index
        ("size I, J\nindex j' : J\nparam U[I] ~ normal(0, 1)\ny[i] = U[j']\n", 4),
        // a gradient declaration
        (
            "size B, I, J\ninput x[B, I] ~ normal(0, 1)\ny[b,i] = 2 x[b,i]\ngrad y[B, J] ~ normal(0, 1)\n",
            4,
        ),
        // an element claim
        (
            "size I, J\ninput x[I] ~ normal(0, 1)\ny[i] = 2 x[i]\nclaim y[j] == 2 x[j]\n",
            4,
        ),
    ] {
        let r = run(src);
        let found = located(&r, src, "E0210");
        assert!(!found.is_empty(), "{src}: {:?}", codes(&r));
        assert_eq!(found[0].0, line, "{src}");
    }
}

#[test]
fn matching_extents_and_boundary_reads_are_accepted() {
    let src = "size B, X, I, J, D
index dx : D
index i' : I
boundary zero
param W[D, I, J] ~ normal(0, 1)
input x[B, X, I] ~ normal(0, 1)
y[b,x,j] = W[DX,I',j] x[b,x+DX,I']
z[b,x,j] = W[DX,I,j] x[b,2x+DX,I] + y[b,x,j]
sample B = 1, X = 4, I = 2, J = 2, D = 3
";
    let r = run(src);
    assert!(!codes(&r).contains(&"E0210"), "{:?}", r.diagnostics);
}
