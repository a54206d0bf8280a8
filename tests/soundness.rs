//! The soundness generator (issue 14, docs/soundness.md): random well-formed models
//! from a small grammar, everything tq derives about them checked against independent
//! computation:
//!
//! - every closed form of a mean or a variance that the moments engine labels exact,
//!   at every member of its family, against Monte Carlo on the element-wise interpreter
//!   (fresh weights, inputs and incoming gradients per trial, seeded ChaCha8 streams;
//!   the statistics of a trial pooled over the member's elements; refuted beyond z
//!   standard errors with P(|N(0,1)| > z) = 1e-6 over the tests of the model, the rule
//!   of docs/numeric.md);
//! - the derived backward program (scatter and gather form) against central finite
//!   differences (`tq::num::gradcheck`);
//! - claims stating the derived closed forms, decided by the checker: none refuted;
//!   the same claims perturbed (a factor, an exponent, a sign): none proved or
//!   confirmed.
//!
//! `cargo test --release --test soundness` runs a few hundred models;
//! `TQ_SOUNDNESS_CASES=20000 cargo test --release --test soundness -- --ignored`
//! runs the long mode, which counts disagreements instead of stopping at the first.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use tq::claims::Verdict;
use tq::report::{check_source, Options};

/// One generated model: a layer family (dense or convolution) or a time recurrence with
/// one weight shared over the steps.
#[derive(Clone, Debug)]
struct Model {
    boundary: &'static str,
    /// Sizes: channels, positions, filter width, layers.
    c: u32,
    t: u32,
    d: u32,
    layers: u32,
    /// The family (layers or time steps) starts at 0 or 1.
    start: u32,
    layer: Layer,
    act: &'static str,
    /// A gate: the layer's value times `gate(V_{l+1}[...] h_l[...])`.
    gate: Option<&'static str>,
    residual: bool,
    /// One weight for every layer (`W`) instead of a family (`W_{l+1}`).
    shared: bool,
    weight: &'static str,
    input: &'static str,
    /// How the first member is made.
    head: Head,
    dropout: Dropout,
    sigma: &'static str,
    /// The dropout probability's sample value.
    p: &'static str,
    /// Whether the checker's Monte Carlo engine decides the moment claims too.
    monte_carlo: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Head {
    /// `input h_s[B, T, C] ~ ...`
    Input,
    /// `h_s[b, t, c] = E[tok[b, t], c]`, `tok ~ categorical(V)`
    Embed,
    /// `h_s = (x - mean) / std` over the batch and positions, per channel.
    Norm,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dropout {
    None,
    /// `Z / p`, `Z ~ bernoulli(p)`
    Scaled,
    /// `Z`, `Z ~ bernoulli(p)`: a mask of mean p, not rescaled.
    Unscaled,
    /// `Z / (1 - p)`, `Z ~ bernoulli(1 - p)`: the parameter an expression.
    Expr,
}

#[derive(Clone, Debug)]
enum Layer {
    /// `W_{l+1}[c, C'] h_l[b, t, C']`
    Dense,
    /// `W_{l+1}[DT, C', c] h_l[b, k t + s m DT + k0, C']`
    Conv { k: i64, s: i64, m: i64, k0: i64 },
    /// `a[b,t,c] = W[c,C'] h[b,t-1,C'] + U[c,C'] x[b,t,C']`, `h[b,t,c] = act(a[b,t,c])`:
    /// a recurrence over positions with one weight for every step.
    Time,
}

/// The derivative of an activation at `a` (the pre-activation) whose value is `h`, as
/// the table of docs/language.md writes it.
fn derivative(act: &str, a: &str, h: &str) -> String {
    match act {
        "none" => "1".into(),
        "tanh" => format!("(1 - {h}^2)"),
        "sigmoid" => format!("{h} (1 - {h})"),
        "relu" => format!("[{a} > 0]"),
        "abs" => format!("([{a} > 0] - [{a} < 0])"),
        "softplus" => format!("sigmoid({a})"),
        "erf" => format!("2 exp(-{a}^2) / sqrt(pi)"),
        "gelu" => format!("((1 + erf({a} / sqrt(2))) / 2 + {a} exp(-{a}^2 / 2) / sqrt(2 pi))"),
        "exp" => h.to_string(),
        other => panic!("no derivative for {other}"),
    }
}

fn affine(k: i64, s: i64, m: i64, k0: i64) -> String {
    let mut out = match k {
        1 => "t".to_string(),
        -1 => "-t".to_string(),
        k => format!("{k} t"),
    };
    let sm = s * m;
    out.push_str(&match sm {
        1 => " + DT".to_string(),
        -1 => " - DT".to_string(),
        x if x > 0 => format!(" + {x} DT"),
        x => format!(" - {} DT", -x),
    });
    if k0 > 0 {
        out.push_str(&format!(" + {k0}"));
    } else if k0 < 0 {
        out.push_str(&format!(" - {}", -k0));
    }
    out
}

impl Model {
    fn weight_dist(&self) -> &'static str {
        match self.weight {
            "normal" => "normal(0, sigma_W^2)",
            "symmetric" => "symmetric(sigma_W^2)",
            _ => "uniform(-sigma_W, sigma_W)",
        }
    }

    fn input_dist(&self) -> &'static str {
        match self.input {
            "normal" => "normal(0, 1)",
            "mean" => "normal(1/2, 1)",
            _ => "moments(0, 1)",
        }
    }

    /// The dropout factor of layer `n` (`Z_{l+1}[b, t, c] / p`), if any.
    fn mask(&self, at: &str) -> Option<String> {
        match self.dropout {
            Dropout::None => None,
            Dropout::Scaled => Some(format!("Z_{{l+1}}[{at}] / p")),
            Dropout::Unscaled => Some(format!("Z_{{l+1}}[{at}]")),
            Dropout::Expr => Some(format!("Z_{{l+1}}[{at}] / (1 - p)")),
        }
    }

    fn source(&self) -> String {
        if let Layer::Time = self.layer {
            return self.time_source();
        }
        let mut s = String::new();
        let v = if self.head == Head::Embed { ", V" } else { "" };
        s.push_str(&format!(
            "size B, T, C, D, L{v}\nindex dt : D\nsymbol sigma_W, p\n"
        ));
        s.push_str(&format!("boundary {}\n", self.boundary));
        let w_dims = match self.layer {
            Layer::Conv { .. } => "D, C, C",
            _ => "C, C",
        };
        let dist = self.weight_dist();
        let first = self.start + 1;
        if self.shared {
            s.push_str(&format!("param W[{w_dims}] ~ {dist}\n"));
        } else {
            s.push_str(&format!(
                "param W_{{l}}[{w_dims}] ~ {dist} for l in {first}..L\n"
            ));
        }
        if self.gate.is_some() {
            s.push_str(&format!(
                "param G_{{l}}[C, C] ~ {dist} for l in {first}..L\n"
            ));
        }
        match self.dropout {
            Dropout::None => {}
            Dropout::Expr => s.push_str(&format!(
                "input Z_{{l}}[B, T, C] ~ bernoulli(1 - p) for l in {first}..L\n"
            )),
            _ => s.push_str(&format!(
                "input Z_{{l}}[B, T, C] ~ bernoulli(p) for l in {first}..L\n"
            )),
        }
        let input = self.input_dist();
        let h0 = format!("h_{}", self.start);
        match self.head {
            Head::Input => s.push_str(&format!("input {h0}[B, T, C] ~ {input}\n")),
            Head::Embed => {
                s.push_str(&format!("param Emb[V, C] ~ {input}\n"));
                s.push_str("input tok[B, T] ~ categorical(V)\n");
            }
            Head::Norm => s.push_str(&format!("input x[B, T, C] ~ {input}\n")),
        }
        s.push_str("grad h_L ~ normal(0, 1)\n");
        match self.head {
            Head::Input => {}
            Head::Embed => s.push_str(&format!("{h0}[b, t, c] = Emb[tok[b, t], c]\n")),
            Head::Norm => {
                s.push_str("mu[c] = sum_{b,t}(x[b, t, c]) / (B T)\n");
                s.push_str("sd[c] = sqrt(sum_{b,t}((x[b, t, c] - mu[c])^2) / (B T))\n");
                s.push_str(&format!("{h0}[b, t, c] = (x[b, t, c] - mu[c]) / sd[c]\n"));
            }
        }
        let w = if self.shared { "W" } else { "W_{l+1}" };
        let body = match &self.layer {
            Layer::Conv { k, s: sg, m, k0 } => {
                format!("{w}[DT, C', c] h_l[b, {}, C']", affine(*k, *sg, *m, *k0))
            }
            _ => format!("{w}[c, C'] h_l[b, t, C']"),
        };
        let mut rhs = if self.act == "none" {
            body
        } else {
            format!("{}({body})", self.act)
        };
        if let Some(g) = self.gate {
            rhs = format!("{rhs} {g}(G_{{l+1}}[c, C''] h_l[b, t, C''])");
        }
        if let Some(z) = self.mask("b, t, c") {
            rhs = format!("({rhs}) {z}");
        }
        if self.residual {
            rhs = format!("h_l[b, t, c] + {rhs}");
        }
        s.push_str(&format!(
            "for l in {}..L-1:\n  h_{{l+1}}[b, t, c] = {rhs}\n",
            self.start
        ));
        s
    }

    fn sample_line(&self) -> String {
        match self.layer {
            Layer::Time => format!(
                "sample B = 2, T = {}, C = {}, sigma_W = {}\n",
                self.t, self.c, self.sigma
            ),
            _ => format!(
                "sample B = 2, T = {}, C = {}, D = {}, L = {}{}, sigma_W = {}, p = {}\n",
                self.t,
                self.c,
                self.d,
                self.layers,
                if self.head == Head::Embed {
                    ", V = 3"
                } else {
                    ""
                },
                self.sigma,
                self.p
            ),
        }
    }

    /// A recurrence over positions with weights shared by every step, from `h[b, 0, c]`:
    /// the loop `for t in 1..T` (reads `t - 1`) or `for t in 0..T-1` (writes `t + 1`).
    fn time_source(&self) -> String {
        let mut s = String::from("size B, T, C\nindex k : C\nsymbol sigma_W\n");
        let dist = self.weight_dist();
        s.push_str(&format!("param W[C, C] ~ {dist}\nparam U[C, C] ~ {dist}\n"));
        s.push_str(&format!("input h[B, 0, C] ~ {}\n", self.input_dist()));
        let (w, r, range) = self.time_positions();
        s.push_str(&format!(
            "input x[B, t, C] ~ normal(0, 1) for t in {range}\ngrad h[B, t, C] ~ normal(0, 1) for t in 1..T\n"
        ));
        let act = |a: &str| {
            if self.act == "none" {
                a.to_string()
            } else {
                format!("{}({a})", self.act)
            }
        };
        s.push_str(&format!(
            "for t in {range}:\n  a[b, {w}, c] = W[c, C'] h[b, {r}, C'] + U[c, C'] x[b, t, C']\n  h[b, {w}, c] = {}\n",
            act(&format!("a[b, {w}, c]"))
        ));
        s
    }

    /// The written position, the read position and the loop range of a time model.
    fn time_positions(&self) -> (&'static str, &'static str, &'static str) {
        if self.start == 1 {
            ("t", "t-1", "1..T")
        } else {
            ("t+1", "t", "0..T-1")
        }
    }

    /// Claims about gradient elements that hold for every model of this shape (the
    /// chain rule written by hand), and the same perturbed: (text, true?).
    fn element_claims(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        match self.layer {
            Layer::Time => {
                let (w, r, _) = self.time_positions();
                let d = derivative(self.act, &format!("a[b,{w},c]"), &format!("h[b,{w},c]"));
                out.push((format!("a.grad[b,{w},c] == h.grad[b,{w},c] {d}"), true));
                out.push((format!("x.grad[b,t,c] == U[C',c] a.grad[b,{w},C']"), true));
                out.push((
                    format!("backprop includes:\n  for b,c,k: h.grad[b,{r},k] += a.grad[b,{w},c] W[c,k]"),
                    true,
                ));
                {
                    out.push((format!("a.grad[b,{w},c] == 2 h.grad[b,{w},c] {d}"), false));
                    out.push((format!("x.grad[b,t,c] == -U[C',c] a.grad[b,{w},C']"), false));
                    out.push((
                        format!("backprop includes:\n  for b,c,k: h.grad[b,{r},k] += 2 a.grad[b,{w},c] W[c,k]"),
                        false,
                    ));
                }
            }
            Layer::Dense if self.gate.is_none() => {
                let w = if self.shared { "W" } else { "W_{l+1}" };
                let simple = self.act == "none";
                // relu's derivative read from its value: [relu(a) > 0] = [a > 0].
                let by_value = matches!(self.act, "tanh" | "sigmoid" | "exp" | "relu")
                    && !self.residual
                    && self.dropout == Dropout::None;
                if !simple && !by_value {
                    return out;
                }
                let d = match self.act {
                    "relu" => "[h_{l+1}[b,t,C'] > 0]".to_string(),
                    act => derivative(act, "", "h_{l+1}[b,t,C']"),
                };
                let mut chain = format!("{w}[C',c] h_{{l+1}}.grad[b,t,C']");
                if d != "1" {
                    chain = format!("{chain} {d}");
                }
                if let Some(z) = self.mask("b,t,C'") {
                    chain = format!("{chain} {z}");
                }
                let res = if self.residual {
                    "h_{l+1}.grad[b,t,c] + "
                } else {
                    ""
                };
                out.push((format!("h_l.grad[b,t,c] == {res}{chain}"), true));
                out.push((format!("h_l.grad[b,t,c] == {res}2 {chain}"), false));
            }
            _ => {}
        }
        // Softmax over the channels of the head's input, written out by the element
        // writer (or the sampled run, for a family member): each row sums to 1, a shift
        // of the row leaves the softmax-weighted mean unchanged; the twins (a row sum of
        // 2, the mean moved by 1) are false at every size. (A softmax over a free index
        // outside a sum is not evaluated by the sampled run: undecided, not a test.)
        if self.head == Head::Input && !matches!(self.layer, Layer::Time) {
            let h0 = format!("h_{}", self.start);
            let p = format!("softmax_{{c}}({h0}[b,t,c])");
            out.push((format!("sum_{{c}}({p}) == 1"), true));
            out.push((format!("sum_{{c}}({p}) == 2"), false));
            let q = format!("softmax_{{c}}({h0}[b,t,c] + 1)");
            out.push((
                format!("sum_{{c}}({q} {h0}[b,t,c]) == sum_{{c}}({p} {h0}[b,t,c])"),
                true,
            ));
            out.push((
                format!("sum_{{c}}({q} {h0}[b,t,c]) == 1 + sum_{{c}}({p} {h0}[b,t,c])"),
                false,
            ));
        }
        out
    }
}

fn model() -> impl Strategy<Value = Model> {
    let layer = prop_oneof![
        2 => Just(Layer::Dense),
        4 => (
            prop_oneof![4 => Just(1i64), 1 => Just(-1i64), 1 => Just(2i64)],
            prop_oneof![Just(1i64), Just(-1i64)],
            1i64..=2,
            -1i64..=1
        )
            .prop_map(|(k, s, m, k0)| Layer::Conv { k, s, m, k0 }),
        1 => Just(Layer::Time),
    ];
    (
        (
            prop_oneof![
                3 => Just("circular"),
                2 => Just("zero"),
                1 => Just("valid")
            ],
            1u32..=2,
            3u32..=6,
            1u32..=3,
            1u32..=3,
            0u32..=1,
        ),
        layer,
        (
            prop_oneof![
                6 => Just("none"),
                2 => Just("relu"),
                1 => Just("tanh"),
                1 => Just("sigmoid"),
                1 => Just("gelu"),
                1 => Just("softplus"),
                1 => Just("erf"),
                1 => Just("abs"),
                1 => Just("exp"),
            ],
            any::<bool>(),
            prop_oneof![3 => Just(false), 1 => Just(true)],
            prop_oneof![Just("normal"), Just("symmetric"), Just("uniform")],
            prop_oneof![Just("normal"), Just("mean"), Just("moments")],
            prop_oneof![Just("1/2"), Just("3/5"), Just("1")],
        ),
        (
            prop_oneof![4 => Just(None), 1 => Just(Some("sigmoid")), 1 => Just(Some("tanh"))],
            prop_oneof![4 => Just(Head::Input), 1 => Just(Head::Embed), 1 => Just(Head::Norm)],
            prop_oneof![
                4 => Just(Dropout::None),
                1 => Just(Dropout::Scaled),
                1 => Just(Dropout::Unscaled),
                1 => Just(Dropout::Expr)
            ],
            prop_oneof![Just("1/2"), Just("1/4"), Just("2/3")],
            prop_oneof![29 => Just(false), 1 => Just(true)],
        ),
    )
        .prop_map(
            |(
                (boundary, c, t, d, layers, start),
                layer,
                (act, residual, shared, weight, input, sigma),
                (gate, head, dropout, p, monte_carlo),
            )| {
                let time = matches!(layer, Layer::Time);
                // exp of a sum of exps overflows beyond two dense layers: exp only
                // where the values stay finite.
                let exp_ok = matches!(layer, Layer::Dense) && dropout == Dropout::None;
                let act = match act {
                    "exp" if !exp_ok => "softplus",
                    a => a,
                };
                Model {
                    boundary,
                    c,
                    t,
                    d,
                    layers: if act == "exp" {
                        1 + start
                    } else {
                        layers.max(start + 1)
                    },
                    start,
                    layer,
                    act,
                    gate: if time { None } else { gate },
                    residual: residual && !time,
                    shared,
                    weight,
                    input,
                    head: if time { Head::Input } else { head },
                    dropout: if time { Dropout::None } else { dropout },
                    sigma: if act == "exp" { "1/2" } else { sigma },
                    p,
                    monte_carlo,
                }
            },
        )
}

/// What one model gave.
#[derive(Default, Debug)]
struct Tally {
    /// Closed forms (per member) compared with Monte Carlo.
    moments: usize,
    /// Claims decided by the checker (true and perturbed).
    claims: usize,
    /// Gradient checks.
    gradients: usize,
    /// Claims refuted (each must carry a witness).
    refuted: usize,
    /// Gradient checks that could not be made (a kink hit exactly).
    kinks: usize,
    disagreements: Vec<String>,
}

/// The per-trial statistics of one member: means of x and x² over its elements.
fn member_stats(m: &tq::num::Machine, member: &str, grad: bool) -> Option<(f64, f64)> {
    let vals = m.vals.get(&(member.to_string(), grad))?;
    if vals.is_empty() {
        return None;
    }
    let n = vals.len() as f64;
    let s1: f64 = vals.values().sum::<f64>() / n;
    let s2: f64 = vals.values().map(|v| v * v).sum::<f64>() / n;
    Some((s1, s2))
}

/// Whether every element of `member` takes one and the same value in three runs of the
/// element-wise interpreter (fresh weights and inputs each): then its variance is 0.
fn last_is_constant(
    program: &tq::syntax::ast::Program,
    env: &tq::check::Env,
    back: &[tq::syntax::ast::Item],
    member: &str,
    seed: u64,
) -> bool {
    // 20 runs: with one channel, a relu of a product of non-negative values and one
    // weight is 0 everywhere whenever that weight is negative (probability 1/2 per
    // run), so three runs called such a member constant one time in eight (the 20,000
    // model run of session 10, model seed 716863, labelled a false `Var(h_3) <= 0` true).
    let mut seen: Option<f64> = None;
    for k in 0..20u64 {
        let Ok(run) = tq::num::gradcheck::run_model(
            program,
            env,
            back,
            None,
            seed.wrapping_mul(7_919).wrapping_add(k + 17),
        ) else {
            return false;
        };
        let Some(vals) = run.machine.vals.get(&(member.to_string(), false)) else {
            return false;
        };
        for &v in vals.values() {
            match seen {
                None => seen = Some(v),
                Some(s) if s == v => {}
                Some(_) => return false,
            }
        }
    }
    seen.is_some()
}

/// Whether some element of `member` is away from the border, tested independently of
/// the checker's interior program: the model run under circular padding and under its
/// own boundary rule, with the same draws; an element whose every read falls inside the
/// range has the same value in both runs, one that reads outside differs (almost
/// surely: its reads outside are 0 in one run and a random value in the other). The
/// generator's shifted reads all have two indices, so circular padding wraps each.
fn has_interior(
    program: &tq::syntax::ast::Program,
    env: &tq::check::Env,
    back: &[tq::syntax::ast::Item],
    member: &str,
    seed: u64,
) -> bool {
    let values = |circular: bool| {
        let setup = |m: &mut tq::num::Machine| {
            if circular {
                m.boundary = Some(tq::syntax::ast::Boundary::Circular);
            }
            Ok(())
        };
        tq::num::gradcheck::run_model_with(program, env, back, None, seed, &setup)
            .ok()
            .and_then(|r| r.machine.vals.get(&(member.to_string(), false)).cloned())
    };
    let (Some(own), Some(wrapped)) = (values(false), values(true)) else {
        // Not established: counted as an interior (no disagreement rests on it).
        return true;
    };
    own.iter()
        .any(|(ix, v)| wrapped.get(ix).is_some_and(|w| w == v))
}

const TRIALS: usize = 240;
/// Fresh trials that must confirm a failure of the first 240.
const SECOND: usize = 4000;

fn check_model(model: &Model, seed: u64) -> Tally {
    let src = format!("{}{}", model.source(), model.sample_line());
    let mut tally = Tally::default();
    let fail = |what: String| {
        tally_push(&src, what);
    };
    let parsed = tq::syntax::parser::parse(&src);
    let (env, diags) = tq::check::check(&parsed.program);
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .chain(&diags)
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    if !errors.is_empty() {
        // The grammar makes well-formed models only: an error here is a bug of the
        // generator or of the checker.
        fail(format!("diagnostics on a well-formed model: {errors:?}"));
        return take(tally);
    }
    let program = parsed.program;
    let back = tq::grad::backward(&program, &env);
    let gather: Vec<_> = tq::grad::gather_form(&back.items, &env)
        .into_iter()
        .map(|g| g.item)
        .collect();
    // Gradients against finite differences (scatter and gather form).
    match tq::num::gradcheck::gradcheck(&program, &env, &back.items, &gather, None, seed) {
        Ok(checks) => {
            for g in checks {
                tally.gradients += 1;
                // A kink (relu, abs at 0) hit exactly: a dropout mask's zeros make the
                // next layer's argument exactly 0, every direction straddles it and
                // the check cannot be made (docs/numeric.md). Not a disagreement.
                let kink = matches!(model.act, "relu" | "abs") && model.dropout != Dropout::None;
                if !g.passed && kink && g.max_rel_error.is_infinite() {
                    tally.kinks += 1;
                    continue;
                }
                if !g.passed {
                    fail(format!(
                        "gradient check of {} fails: relative error {:e}",
                        g.tensor, g.max_rel_error
                    ));
                }
            }
        }
        // Every gradient zero (a stride under zero padding that reads only zeros): no
        // check to make.
        Err(e) if e.message.contains("vacuous") => {}
        Err(e) => fail(format!("gradient check did not run: {}", e.message)),
    }
    // Closed forms labelled exact, member by member.
    let a = tq::moments::analyze(&program, &env, &back.items);
    struct Target {
        member: String,
        text: String,
        grad: bool,
        mean: f64,
        var: f64,
        closed: (String, String),
    }
    let mut consts: BTreeMap<String, f64> = BTreeMap::new();
    let base = match tq::num::Machine::new(&program, &env) {
        Ok(m) => m,
        Err(e) => {
            fail(format!("the interpreter refuses the model: {}", e.message));
            return take(tally);
        }
    };
    consts.extend(base.consts.clone());
    consts.insert("pi".into(), std::f64::consts::PI);
    let layers = model.layers as i64;
    let mut targets = Vec::new();
    let family = !matches!(model.layer, Layer::Time);
    for rec in a.recurrences.iter().filter(|_| family) {
        if !rec.approx.is_empty() {
            continue;
        }
        let (Some(mc), Some(vc)) = (&rec.mean_closed, &rec.var_closed) else {
            continue;
        };
        for n in model.start as i64..=layers {
            let at = |e: &tq::sym::Expr| {
                let e = tq::sym::simplify(&e.subs("#n", &tq::sym::Expr::int(n)));
                (e.eval_f64(&consts), tq::sym::to_ascii(&e))
            };
            let ((Ok(mean), mtext), (Ok(var), vtext)) = (at(mc), at(vc)) else {
                fail(format!(
                    "a closed form of {} does not evaluate at the sample values",
                    rec.tensor
                ));
                continue;
            };
            let member = format!("{}_{{{n}}}", rec.tensor);
            let text = format!("{}_{n}{}", rec.tensor, if rec.grad { ".grad" } else { "" });
            targets.push(Target {
                member,
                text,
                grad: rec.grad,
                mean,
                var,
                closed: (mtext, vtext),
            });
        }
    }
    if !targets.is_empty() {
        // Trials: per target, per trial (mean of x, mean of x²); trials numbered from
        // `first` (each with its own seeded streams).
        let collect = |n: usize, first: u64| -> Result<Vec<Vec<(f64, f64)>>, String> {
            let mut stats: Vec<Vec<(f64, f64)>> = vec![Vec::new(); targets.len()];
            for trial in 0..n as u64 {
                let run = tq::num::gradcheck::run_model(
                    &program,
                    &env,
                    &back.items,
                    None,
                    seed.wrapping_mul(1_000_003).wrapping_add(first + trial + 1),
                )
                .map_err(|e| format!("a trial did not run: {}", e.message))?;
                for (k, t) in targets.iter().enumerate() {
                    if let Some(s) = member_stats(&run.machine, &t.member, t.grad) {
                        stats[k].push(s);
                    }
                }
            }
            Ok(stats)
        };
        let tests = (2 * targets.len()) as f64;
        let z = tq::claims::montecarlo::z_for(1e-6 / tests);
        // The interval test of one target over some trials: what fails, if anything.
        let judge = |t: &Target, st: &[(f64, f64)], want: usize| -> Vec<String> {
            if st.len() < want {
                return vec![format!("{} has no elements in some trials", t.text)];
            }
            let n = st.len() as f64;
            let m1 = st.iter().map(|s| s.0).sum::<f64>() / n;
            let m2 = st.iter().map(|s| s.1).sum::<f64>() / n;
            let c11 = st.iter().map(|s| (s.0 - m1).powi(2)).sum::<f64>() / (n - 1.0);
            let c22 = st.iter().map(|s| (s.1 - m2).powi(2)).sum::<f64>() / (n - 1.0);
            let c12 = st.iter().map(|s| (s.0 - m1) * (s.1 - m2)).sum::<f64>() / (n - 1.0);
            let se_mean = (c11 / n).sqrt();
            // Var = m2 − m1²: gradient (−2 m1, 1).
            let g1 = -2.0 * m1;
            let se_var = ((g1 * g1 * c11 + c22 + 2.0 * g1 * c12) / n).max(0.0).sqrt();
            let est_var = m2 - m1 * m1;
            let slack = 1e-9 * (1.0 + t.var.abs());
            let mut out = Vec::new();
            if (m1 - t.mean).abs() > z * se_mean + slack {
                out.push(format!(
                    "E({}) = {} [exact] is {:.4} by Monte Carlo ({} trials, standard error {:.2e}, z {z:.2})",
                    t.text, t.closed.0, m1, st.len(), se_mean
                ));
            }
            if (est_var - t.var).abs() > z * se_var + slack {
                out.push(format!(
                    "Var({}) = {} = {:.4} [exact] is {:.4} by Monte Carlo ({} trials, standard error {:.2e}, z {z:.2})",
                    t.text, t.closed.1, t.var, est_var, st.len(), se_var
                ));
            }
            out
        };
        let stats = match collect(TRIALS, 0) {
            Ok(s) => s,
            Err(e) => {
                fail(e);
                return take(tally);
            }
        };
        let mut second: Option<Vec<Vec<(f64, f64)>>> = None;
        for (k, (t, st)) in targets.iter().zip(&stats).enumerate() {
            tally.moments += 1;
            if judge(t, st, TRIALS).is_empty() {
                continue;
            }
            // Two stages: with one scalar weight per layer (C = D = 1) the per-trial
            // statistics are heavy-tailed and 240 trials underestimate the standard
            // error; a failure counts only when SECOND fresh trials fail it too.
            if second.is_none() {
                second = Some(match collect(SECOND, 1_000_000) {
                    Ok(s) => s,
                    Err(e) => {
                        fail(e);
                        return take(tally);
                    }
                });
            }
            for f in judge(t, &second.as_ref().expect("collected")[k], SECOND) {
                fail(f);
            }
        }
    }
    // The closed forms as claims, and perturbed; bounds around them; the gradient
    // elements by the chain rule, and perturbed.
    let mut claims = String::new();
    let mut expect: Vec<(bool, String)> = Vec::new();
    let mut add = |text: String, truth: bool| {
        claims.push_str(&format!("claim {text}\n"));
        expect.push((truth, text));
    };
    // With the checker's Monte Carlo on, the claims it decides are the two about the
    // last member below (each Monte Carlo run costs seconds).
    for t in targets.iter().filter(|_| !model.monte_carlo) {
        let v = &t.closed.1;
        add(format!("Var({}) == {v}", t.text), true);
        add(format!("E({}) == {}", t.text, t.closed.0), true);
        if t.var.abs() > 1e-12 {
            add(format!("Var({}) == 2 ({v})", t.text), false);
            add(format!("Var({}) == -({v})", t.text), false);
            if (t.var - 1.0).abs() > 1e-9 {
                add(format!("Var({}) == ({v})^2", t.text), false);
            }
            add(format!("Var({}) >= ({v}) / 2", t.text), true);
            add(format!("Var({}) <= 2 ({v})", t.text), true);
            add(format!("Var({}) >= 2 ({v})", t.text), false);
            add(format!("Var({}) <= ({v}) / 2", t.text), false);
        }
        add(format!("E({}) == {} + 1", t.text, t.closed.0), false);
    }
    // Every model: a variance is never negative; the last member's is not zero unless
    // the interpreter finds it constant. A shifted read that falls outside at every
    // position (`-t - 2 DT - 1`, reversed in time) reads 0 there, so the member is 0 at
    // the sample sizes, while the moments engine's variance of a generic element (away
    // from the border) is not 0: the two semantics differ and the claim says nothing
    // the generator can label, so it is left out (docs/soundness.md).
    let (last, last_member) = match model.layer {
        Layer::Time => ("h".to_string(), "h".to_string()),
        _ => (
            format!("h_{}", model.layers),
            format!("h_{{{}}}", model.layers),
        ),
    };
    let constant = last_is_constant(&program, &env, &back.items, &last_member, seed);
    add(format!("Var({last}) >= 0"), true);
    // A member that is constant (every read outside its range) has variance 0: then the
    // claim is true and must not be refuted (by a value away from the border that no
    // element has, docs/soundness.md).
    // Three runs can all be 0 by chance when dropout masks are all 0 (p = 1/4): then
    // the claim is left out, as its truth is not known.
    // A constant member is constant at the sample sizes, not at every size (at D = 2,
    // T = 4 the reversed read `-t + DT - 1` reaches inside: found by the 20,000-model run
    // of 2026-12-04, seed 21, where tq refuted the claim at other sizes, rightly): the
    // true claim pins the sizes with givens.
    if !constant || model.dropout == Dropout::None {
        let pinned = if constant {
            let sizes: Vec<&str> = src
                .lines()
                .find_map(|l| l.strip_prefix("sample "))
                .unwrap_or("")
                .split(", ")
                .filter(|b| b.starts_with(|c: char| c.is_ascii_uppercase()))
                .collect();
            format!(" given {}", sizes.join(", "))
        } else {
            String::new()
        };
        add(format!("Var({last}) <= 0{pinned}"), constant);
    }
    for (text, truth) in model
        .element_claims()
        .into_iter()
        .filter(|_| !model.monte_carlo)
    {
        add(text, truth);
    }
    let full = format!("{src}{claims}");
    let opts = Options {
        seed,
        strict: false,
        no_numeric: false,
        no_monte_carlo: !model.monte_carlo,
        no_gradcheck: false,
        ..Options::default()
    };
    let report = check_source("generated.tq", &full, &opts);
    if report.unexpected_errors() > 0 {
        fail(format!(
            "the generated claims do not check: {:?}",
            report
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        ));
    }
    if report.claims.len() != expect.len() {
        fail(format!(
            "{} claims written, {} decided",
            expect.len(),
            report.claims.len()
        ));
    }
    // A claim about the last member that the moments engine decides away from the border
    // rests on the value of an element away from the border: some element must be, by
    // an independent test (the same run under circular padding gives it the same value).
    let interior = if model.boundary == "circular" {
        true
    } else {
        has_interior(&program, &env, &back.items, &last_member, seed)
    };
    let about_last = [format!("Var({last}) >= 0"), format!("Var({last}) <= 0")];
    for (c, (truth, text)) in report.claims.iter().zip(&expect) {
        if about_last.contains(text)
            && !interior
            && c.verdict != Verdict::Undecided
            && c.evidence.contains("away from the border")
        {
            fail(format!(
                "claim `{text}` is {:?} by a value away from the border, but no element of {last} is away from the border at the sample sizes: {}",
                c.verdict, c.evidence
            ));
        }
        tally.claims += 1;
        let bad = if *truth {
            c.verdict == Verdict::Refuted
        } else {
            matches!(c.verdict, Verdict::Proved | Verdict::Confirmed)
        };
        if bad {
            fail(format!(
                "claim `{text}` ({}) is {:?}: {}",
                if *truth { "true" } else { "perturbed" },
                c.verdict,
                c.evidence
            ));
        }
        if c.verdict == Verdict::Refuted {
            tally.refuted += 1;
            if c.witness.is_none() {
                fail(format!(
                    "claim `{text}` is refuted without a witness ({}): {}",
                    c.method, c.evidence
                ));
            }
        }
    }
    take(tally)
}

thread_local! {
    static FAILURES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn tally_push(src: &str, what: String) {
    FAILURES.with(|f| f.borrow_mut().push(format!("{what}\n--- model ---\n{src}")));
}

fn take(mut t: Tally) -> Tally {
    t.disagreements = FAILURES.with(|f| std::mem::take(&mut *f.borrow_mut()));
    t
}

fn cases(default: u32) -> u32 {
    std::env::var("TQ_SOUNDNESS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 150,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(14),
        ..ProptestConfig::default()
    })]

    /// A few hundred models inside `cargo test --release`.
    #[test]
    fn generated_models_agree_with_independent_computation(m in model(), seed in 0u64..1_000_000) {
        let t = check_model(&m, seed);
        prop_assert!(t.disagreements.is_empty(), "{}", t.disagreements.join("\n\n"));
    }
}

/// The long mode: `TQ_SOUNDNESS_CASES` models (20,000 by default), every disagreement
/// counted and printed, the totals at the end.
#[test]
#[ignore]
fn long_run() {
    let n = cases(20_000);
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            std::env::var("TQ_SOUNDNESS_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(14),
        ),
        ..Config::default()
    });
    let strategy = (model(), 0u64..1_000_000);
    let mut total = Tally::default();
    let mut models = 0usize;
    let mut exact_models = 0usize;
    for _ in 0..n {
        let (m, seed) = strategy.new_tree(&mut runner).expect("a model").current();
        let started = std::time::Instant::now();
        let t = check_model(&m, seed);
        if std::env::var("TQ_SOUNDNESS_TIMES").is_ok() {
            eprintln!(
                "TIME {:.2} mc={} layer={:?} act={} head={:?} drop={:?} gate={:?} layers={} t={} c={} d={}",
                started.elapsed().as_secs_f64(),
                m.monte_carlo,
                m.layer,
                m.act,
                m.head,
                m.dropout,
                m.gate,
                m.layers,
                m.t,
                m.c,
                m.d
            );
        }
        models += 1;
        if t.moments > 0 {
            exact_models += 1;
        }
        total.moments += t.moments;
        total.claims += t.claims;
        total.gradients += t.gradients;
        total.refuted += t.refuted;
        for d in &t.disagreements {
            eprintln!("DISAGREEMENT (seed {seed}):\n{d}\n");
        }
        total.disagreements.extend(t.disagreements);
        if models.is_multiple_of(1000) {
            eprintln!(
                "soundness long run: {models} of {n} models so far, {} claims, {} gradient checks, {} disagreements",
                total.claims,
                total.gradients,
                total.disagreements.len()
            );
        }
    }
    eprintln!(
        "soundness long run: {models} models ({exact_models} with exact closed forms), {} closed forms against Monte Carlo, {} claims ({} refuted, each with a witness), {} gradient checks, {} disagreements",
        total.moments,
        total.claims,
        total.refuted,
        total.gradients,
        total.disagreements.len()
    );
    assert!(total.disagreements.is_empty());
}
