//! order43 (issues #14/#17, probe42 r14): the derived backward program costs what the
//! forward pass costs, up to a constant factor (reverse mode, the cheap-gradient
//! principle), by tq's own counting rule. Before, a softmax's derivative summed the row's
//! inner product per element and the quotient rule through a sum built a K x K Jacobian
//! per row, so `order(backward, J) == order(forward, J)` was refuted for softmax,
//! normalisation and attention.
//!
//! A generator of the class: random compositions of layers over a width J (softmax,
//! explicit normalisation, layer norm and RMS norm written with inline sums, tanh, a
//! centring, a product by the row sum, a J x J linear layer), each file claiming
//! `order(backward, X) == order(forward, X)` for X = J and B (must be proved) and the
//! backward order one power too high (must be refuted).

mod common;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One layer from `a` to `h` (both [B, J]): its statements, and whether it is a J x J
/// linear layer (forward order J² in J).
fn layer(kind: usize, a: &str, h: &str, n: usize) -> (String, bool) {
    match kind {
        0 => (format!("{h}[b,j] = softmax_{{j}}({a}[b,j])\n"), false),
        1 => (
            format!("e{n}[b,j] = exp({a}[b,j])\n{h}[b,j] = e{n}[b,j]/sum_{{j'}}(e{n}[b,j'])\n"),
            false,
        ),
        2 => (
            format!(
                "m{n}[b] = sum_{{j'}}({a}[b,j'])/J\n{h}[b,j] = ({a}[b,j] - m{n}[b])/sqrt(sum_{{j'}}(({a}[b,j'] - m{n}[b])^2)/J + 1)\n"
            ),
            false,
        ),
        3 => (
            format!("{h}[b,j] = {a}[b,j]/sqrt(sum_{{j'}}({a}[b,j'] {a}[b,j'])/J + 1)\n"),
            false,
        ),
        4 => (format!("{h}[b,j] = tanh({a}[b,j])\n"), false),
        5 => (
            format!("{h}[b,j] = {a}[b,j] - sum_{{j'}}({a}[b,j'])/J\n"),
            false,
        ),
        6 => (
            format!("{h}[b,j] = {a}[b,j] sum_{{j'}}({a}[b,j'] {a}[b,j'])\n"),
            false,
        ),
        _ => (
            format!("param W{n}[J,J] ~ normal(0, 1/J)\n{h}[b,j] = W{n}[j,J'] {a}[b,J']\n"),
            true,
        ),
    }
}

/// The file of one composition, with which of its claims are false.
fn file(kinds: &[usize]) -> (String, Vec<bool>) {
    let mut src = String::from(
        "size B, J\nindex j' : J\ninput x[B,J] ~ normal(0, 1)\ninput r[B,J] ~ normal(0, 1)\n",
    );
    let mut a = "x".to_string();
    let mut linear = false;
    for (n, &k) in kinds.iter().enumerate() {
        let h = format!("h{n}");
        let (text, lin) = layer(k, &a, &h, n);
        src.push_str(&text);
        linear |= lin;
        a = h;
    }
    src.push_str(&format!("Loss = sum_{{b,j}}(r[b,j] {a}[b,j])\n"));
    let too_high = if linear { "J^3" } else { "J^2" };
    src.push_str("claim order(backward, J) == order(forward, J)\n");
    src.push_str("claim order(backward, B) == order(forward, B)\n");
    src.push_str("claim order(backward, B) == B\n");
    src.push_str(&format!(
        "expect refuted\nclaim order(backward, J) == {too_high}\n"
    ));
    src.push_str("sample B = 2, J = 3\n");
    (src, vec![false, false, false, true])
}

/// Every claim's verdict: the true ones proved (a count is exact: nothing less will do),
/// the false one refuted; and, as every generator does, no true claim refuted and no
/// false one confirmed or proved ([`common::generated::judge`]).
fn check(compositions: &[Vec<usize>]) {
    let mut bad = Vec::new();
    for (i, kinds) in compositions.iter().enumerate() {
        let (src, false_claims) = file(kinds);
        let name = format!("order43_{i}.tq");
        common::generated::judge(
            &name,
            &src,
            &false_claims,
            "the backward order one power too high",
            &mut bad,
        );
        let r = tq::report::check_source(&name, &src, &tq::report::Options::default());
        for (c, is_false) in r.claims.iter().zip(&false_claims) {
            let want = if *is_false { "refuted" } else { "proved" };
            if c.verdict.as_str() != want {
                bad.push(format!(
                    "{src}\n  line {}: {} (want {want}): {}",
                    c.line,
                    c.verdict.as_str(),
                    c.evidence
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn every_single_layer_has_backward_order_equal_to_forward() {
    check(&(0..8).map(|k| vec![k]).collect::<Vec<_>>());
}

#[test]
fn random_compositions_have_backward_order_equal_to_forward() {
    let mut rng = Rng(43);
    let n = common::generated::long_cases("TQ_ORDER43_CASES", 30);
    let all: Vec<Vec<usize>> = (0..n)
        .map(|_| {
            let depth = 2 + rng.below(3);
            (0..depth).map(|_| rng.below(8)).collect()
        })
        .collect();
    check(&all);
}
