//! wrong42 (session 42, issues #14 and #18): generators of three classes.
//!
//! 1. A claim's index at a dimension along a loop variable is a whole number over the
//!    loop's range: models `h[b,V] = (V - c) x[b,V]` in `for V in a..S-1` with claims true
//!    at every whole V of the range but false between two (`(V - k)(k + 1 - V) <= 0` only
//!    at whole numbers), which the random points refuted at V = k + 1/2.
//! 2. Update rules are read one by one: a non-linear rule beside linear ones leaves the
//!    linear rules' claims decided (probe41 q09).
//! 3. E0201's hint for an index that reads a dimension of known extent suggests only
//!    `index n : B` and names the index (not an absent `N`) in its count of later uses
//!    (probe41 q10), for many index names, sizes and forms.
//!
//! `cargo test --release --test wrong42`.

mod common;
#[path = "wrong42/rename_bound.rs"]
mod rename_bound;

use tq::report::{check_source, Options};

#[test]
fn loop_positions_are_whole_numbers_of_the_loop_range() {
    let mut bad = Vec::new();
    let vars = [("t", "T"), ("s", "S"), ("k", "K"), ("l", "L")];
    let mut n = 0;
    for (v, size) in vars {
        for a in 1..=2i64 {
            for c in 0..a {
                // Var(h[b,v]) = (v - c)^2 on v = a..S-1, so >= (a - c)^2 there.
                let least = (a - c) * (a - c);
                let k = a; // a whole point of the range: (v - k)(k + 1 - v) <= 0 at whole v
                let claims: Vec<(String, bool)> = vec![
                    (format!("Var(h[b,{v}]) >= {least}"), false),
                    (
                        format!("Var(h[b,{v}]) >= ({v} - {c})^2 + ({v} - {k}) ({k} + 1 - {v})"),
                        false,
                    ),
                    (format!("Var(h[b,{v}]) == ({v} - {c})^2"), false),
                    (format!("Var(h[b,{v}]) >= {}", least + 1), true),
                ];
                let mut src = format!(
                    "size B, {size}\ninput x[B, {size}] ~ normal(0, 1)\nfor {v} in {a}..{size}-1:\n  h[b,{v}] = ({v} - {c}) x[b,{v}]\n"
                );
                for (c, is_false) in &claims {
                    if *is_false {
                        src.push_str("expect refuted\n");
                    }
                    src.push_str(&format!("claim {c}\n"));
                }
                src.push_str(&format!("sample B = 2, {size} = {}\n", a + 4));
                let falses: Vec<bool> = claims.iter().map(|c| c.1).collect();
                common::generated::judge(
                    &format!("loop_pos_{n}.tq"),
                    &src,
                    &falses,
                    "false at the loop's first step",
                    &mut bad,
                );
                n += 1;
            }
        }
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn a_rule_that_is_not_linear_leaves_the_other_rules_decided() {
    let adam = "rule Adam over t:\n  m[t+1] = b1 m[t] + (1 - b1) g[t]\n  s[t+1] = b2 s[t] + (1 - b2) g[t]^2\n  w[t+1] = w[t] - eta m[t+1] / (sqrt(s[t+1]) + eps)\n";
    let linear = [
        (
            "rule M over t:\n  m[t+1] = b1 m[t] + (1 - b1) g[t]\n",
            "M.m[2] == (1 - b1) (b1 g[0] + g[1]) given M.m[0] == 0",
            "M.m[2] == (1 - b1) (g[0] + b1 g[1]) given M.m[0] == 0",
        ),
        (
            "rule H over t:\n  v[t+1] = mu v[t] - eta g[t]\n  theta[t+1] = theta[t] + v[t+1]\n",
            "H.theta[2] == H.theta[0] - eta (1 + mu) g[0] - eta g[1] given H.v[0] == 0",
            "H.theta[2] == H.theta[0] - eta g[0] - eta g[1] given H.v[0] == 0",
        ),
        (
            "rule S over t:\n  theta[t+1] = theta[t] - eta g[t]\n",
            "S.theta[3] == S.theta[0] - eta (g[0] + g[1] + g[2])",
            "S.theta[3] == S.theta[0] - eta (g[0] + g[1])",
        ),
    ];
    let mut bad = Vec::new();
    for (rule, truth, lie) in linear {
        for adam_first in [false, true] {
            let head = "symbol b1, b2, eta, eps, mu\n";
            let body = format!("{rule}claim {truth}\nexpect refuted\nclaim {lie}\n");
            let src = if adam_first {
                format!("{head}{adam}{body}")
            } else {
                format!("{head}{body}{adam}")
            };
            let r = check_source("rules.tq", &src, &Options::default());
            let v: Vec<&str> = r.claims.iter().map(|c| c.verdict.as_str()).collect();
            if v != ["proved", "refuted"] {
                bad.push(format!("{src}\n  got {v:?}, want [proved, refuted]"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn an_index_over_a_known_extent_is_hinted_as_an_index_declaration() {
    let mut bad = Vec::new();
    for (ix, size) in [("n", "B"), ("q", "D"), ("r", "K"), ("u", "H"), ("m", "C")] {
        let up = ix.to_uppercase();
        let low = size.to_lowercase();
        let forms = [
            // statements
            format!("size {size}\ninput x[{size}] ~ normal(0, 1)\ny[{ix}] = 2 x[{ix}]\nz[{ix}] = y[{ix}] + 1\n"),
            // a claim
            format!("size {size}\ninput x[{size}] ~ normal(0, 1)\ny[{low}] = 2 x[{low}]\nclaim y[{ix}] == 2 x[{ix}]\nclaim y[{ix}] + 1 == 2 x[{ix}] + 1\n"),
        ];
        for src in forms {
            let r = check_source("hint.tq", &src, &common::new_author::options());
            let e: Vec<_> = r.diagnostics.iter().filter(|d| d.code == "E0201").collect();
            let Some(d) = e.first() else {
                bad.push(format!("{src}\n  no E0201: {:?}", r.diagnostics));
                continue;
            };
            let hint = d.hint.clone().unwrap_or_default();
            let want = format!("declare `index {ix} : {size}`");
            if !hint.contains(&want) {
                bad.push(format!("{src}\n  hint {hint:?} does not say {want:?}"));
            }
            if hint.contains(&format!("declare `size {up}`")) {
                bad.push(format!("{src}\n  hint {hint:?} suggests `size {up}`"));
            }
            if hint.contains(&format!("`{up}` is used")) {
                bad.push(format!(
                    "{src}\n  hint {hint:?} counts uses of `{up}`, absent from the file"
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
