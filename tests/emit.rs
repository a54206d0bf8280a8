//! `tq emit --target numpy`: the emitted module, run with python3 and NumPy on the
//! inputs of tq's own sampled run, gives the same forward values and gradients as tq's
//! interpreter. Skipped, with a note, when python3 or NumPy is missing.

mod common;

use common::{numpy_available, quick, root};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tq::report::{check_source, Options};
use tq::syntax::ast::{DeclKind, ItemKind};

/// A JSON array of numbers, each read by `get`.
fn numbers<T>(v: &Value, get: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| get(x).unwrap())
        .collect()
}

/// Emits the module, runs it on tq's inputs, and compares every value and gradient.
/// Returns the number of elements compared.
fn compare(file: &str) -> usize {
    compare_path(&format!("problems/{file}.tq"))
}

/// [`compare`] for a file given by its path from the repository's root.
fn compare_path(path: &str) -> usize {
    let file = path;
    let src = std::fs::read_to_string(root().join(path)).unwrap();
    let r = check_source(path, &src, &quick());
    assert_eq!(r.unexpected_errors(), 0);
    let module = tq::emit::numpy(&r).expect("the file can be emitted");
    let back = tq::grad::backward(&r.program, &r.env);
    let loss = back.seeds.first().map(String::as_str);
    let run = tq::num::gradcheck::run_model(&r.program, &r.env, &back.items, loss, 0)
        .expect("tq runs the model");

    // The leaves (declared elements and scalar inputs) and the incoming gradients.
    let mut fwd = run.forward.clone();
    let mut values = Vec::new();
    for item in &r.program.items {
        match &item.kind {
            ItemKind::Decl(d) if d.kind != DeclKind::Grad => {
                for (member, pos) in fwd.decl_elements(d).unwrap() {
                    let v = run.forward.vals[&(member.clone(), false)][&pos];
                    values.push(
                        json!({"member": member, "grad": false, "positions": [pos], "values": [v]}),
                    );
                }
            }
            ItemKind::Scalar(names) => {
                for n in names {
                    let v = run.forward.vals[&(n.name.clone(), false)][&vec![]];
                    values.push(
                        json!({"member": n.name, "grad": false, "positions": [[]], "values": [v]}),
                    );
                }
            }
            _ => {}
        }
    }
    for ((member, pos), g) in &run.seeds {
        values.push(json!({"member": member, "grad": true, "positions": [pos], "values": [g]}));
    }
    let dir = std::env::temp_dir().join(format!("tq-emit-test-{}-{file}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.py"), &module).unwrap();
    std::fs::write(
        dir.join("inputs.json"),
        serde_json::to_string(&json!({ "values": values })).unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new("python3")
        .arg(dir.join("model.py"))
        .arg("--inputs")
        .arg(dir.join("inputs.json"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{file}: the emitted module fails:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the module prints JSON");
    let _ = std::fs::remove_dir_all(&dir);

    // NumPy's values by (member, grad) and position.
    let mut py: BTreeMap<(String, bool), BTreeMap<Vec<i64>, f64>> = BTreeMap::new();
    for e in doc["values"].as_array().unwrap() {
        let member = e["member"].as_str().unwrap().to_string();
        let grad = e["grad"].as_bool().unwrap();
        let off = numbers(&e["offset"], Value::as_i64);
        let shape = numbers(&e["shape"], Value::as_i64);
        let data = numbers(&e["data"], Value::as_f64);
        let slot = py.entry((member, grad)).or_default();
        for (k, v) in data.iter().enumerate() {
            let mut rest = k as i64;
            let mut pos = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                pos[d] = off[d] + rest % shape[d];
                rest /= shape[d];
            }
            slot.insert(pos, *v);
        }
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let mut n = 0;
    for ((member, grad), elems) in &run.machine.vals {
        for (pos, v) in elems {
            let p = py
                .get(&(member.clone(), *grad))
                .and_then(|m| m.get(pos))
                .copied()
                .unwrap_or(0.0);
            assert!(
                close(*v, p),
                "{file}: {member}{}{pos:?}: tq {v}, NumPy {p}",
                if *grad { ".grad" } else { "" }
            );
            n += 1;
        }
    }
    // And nothing NumPy computed that tq does not have (an element tq never wrote is 0).
    for ((member, grad), elems) in &py {
        for (pos, p) in elems {
            let v = run
                .machine
                .vals
                .get(&(member.clone(), *grad))
                .and_then(|m| m.get(pos))
                .copied()
                .unwrap_or(0.0);
            assert!(close(v, *p), "{file}: {member}{pos:?}: NumPy {p}, tq {v}");
        }
    }
    n
}

#[test]
fn emitted_numpy_agrees_with_the_interpreter() {
    if !numpy_available() {
        return;
    }
    // Every problem file: the emitted module's values and gradients are tq's, element by
    // element, and tq's derived gradients pass finite differences (tests/problems/gradcheck.rs),
    // so the module's do too.
    let dir = root().join("problems");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "tq").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    files.sort();
    let mut compared = 0;
    for file in &files {
        // quantized_grad has free values (below); sgd_l2_momentum has only update rules.
        if file == "quantized_grad" || file == "sgd_l2_momentum" {
            continue;
        }
        let n = compare(file);
        eprintln!("{file}: {n} elements agree");
        assert!(n >= 5, "{file}: only {n} elements compared");
        compared += 1;
    }
    assert_eq!(compared, files.len() - 2);
}

/// A capital inside an explicit sum's argument (`sum_{j}(W[j,I] x[b,I])`, docs/language.md
/// summation scope; probe30/d finding 1): the emitted module sums it over the term, as
/// the interpreter does.
#[test]
fn emitted_explicit_sums_sum_their_capitals_over_the_term() {
    if !numpy_available() {
        return;
    }
    for f in ["explicit_sum_capitals", "explicit_sum_of_products"] {
        let n = compare_path(&format!("tests/cases/speed30/{f}.tq"));
        assert!(n >= 5, "{f}: only {n} elements compared");
    }
}

/// A leaf whose distribution reads its own index and free values
/// (`input gtilde[i] ~ bernoulli((g[i] - b)/a)` in problems/quantized_grad.tq, where `g`,
/// `a` and `b` have no value tq could run with): the module takes the free values from
/// `--inputs`, draws each element from its own parameter, and the quantizer comes out
/// unbiased, E[ghat] = g, over independent draws (the file's claim, checked here on the
/// module's own runs).
#[test]
fn emitted_numpy_draws_each_element_from_its_own_parameter() {
    if !numpy_available() {
        return;
    }
    let path = "problems/quantized_grad.tq";
    let src = std::fs::read_to_string(root().join(path)).unwrap();
    let r = check_source(path, &src, &quick());
    let module = tq::emit::numpy(&r).expect("quantized_grad is emitted");
    let dir = std::env::temp_dir().join(format!("tq-emit-dependent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.py"), &module).unwrap();
    // g inside [b, a + b], as the file's givens ask.
    let g = [0.25, -1.0, 0.5, 1.0, 0.0];
    let driver = format!(
        r#"
import json, sys
import numpy as np
sys.path.insert(0, {dir:?})
import model
g = {g:?}
runs, total, ok = 4000, np.zeros(5), True
for seed in range(runs):
    st = model.Store()
    st.set_elements("g", False, [[k] for k in range(5)], g)
    st.set_elements("a", False, np.zeros((1, 0)), [2.0])
    st.set_elements("b", False, np.zeros((1, 0)), [-1.0])
    st = model.sample_inputs(seed, st)
    model.forward(st)
    off, gt = st.t[("gtilde", False)]
    off2, gh = st.t[("ghat", False)]
    ok = ok and set(np.unique(gt)) <= {{0.0, 1.0}} and np.allclose(gh, 2.0 * gt - 1.0)
    total += gh
print(json.dumps({{"ok": bool(ok), "mean": (total / runs).tolist()}}))
"#,
        dir = dir.display().to_string()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &driver])
        .output()
        .unwrap();
    // Run without --inputs, the module names the free values instead of computing with
    // zeros (it printed NaN and norm 0 before).
    let bare = std::process::Command::new("python3")
        .arg(dir.join("model.py"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!bare.status.success());
    assert!(
        String::from_utf8_lossy(&bare.stderr)
            .contains("the file leaves g, a, b free (no distribution or `sample` value)"),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    assert!(
        program_part(&module).contains("ghat[...] = (a * gtilde) + b"),
        "readable NumPy: {module}"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["ok"], true,
        "every gtilde is 0 or 1 and ghat = a gtilde + b"
    );
    for (k, want) in g.iter().enumerate() {
        let got = doc["mean"][k].as_f64().unwrap();
        // ghat is -1 or 1: its standard deviation is at most 1, and over 4,000 runs the
        // mean's is at most 1/63; six of them.
        assert!(
            (got - want).abs() < 6.0 / 63.0,
            "E[ghat[{k}]]: {got}, g = {want}"
        );
    }
    // The extreme elements are exact: g = -1 and g = 1 are drawn with probability 0 and 1.
    assert_eq!(doc["mean"][1].as_f64().unwrap(), -1.0);
    assert_eq!(doc["mean"][3].as_f64().unwrap(), 1.0);
}

#[test]
fn a_file_with_errors_is_not_emitted() {
    let r = check_source("bad.tq", "size B\ny[b] = W[b]\n", &Options::default());
    assert!(tq::emit::numpy(&r).is_err());
}

fn emitted(file: &str) -> String {
    let path = format!("problems/{file}.tq");
    let src = std::fs::read_to_string(root().join(&path)).unwrap();
    let r = check_source(&path, &src, &quick());
    tq::emit::numpy(&r).expect("the file can be emitted")
}

/// The program part of a module: `forward` and `backward` (up to `sample_dependent`).
fn program_part(module: &str) -> &str {
    let start = module.find("def forward(st):").expect("a forward function");
    let end = module
        .find("def sample_dependent")
        .expect("sample_dependent");
    &module[start..end]
}

/// The readable form: every statement of resnet (a circular convolution over layers),
/// gru (a recurrence over time) and conv (zero padding) is an `np.einsum` or slice
/// statement on named arrays with its `.tq` line as a comment, and no statement calls
/// the generic runtime (`st.read`, `st.write`).
#[test]
fn emitted_numpy_is_einsum_and_slices_without_runtime_calls() {
    for (file, gathers) in [("resnet", true), ("gru", false), ("conv", true)] {
        let module = emitted(file);
        let prog = program_part(&module);
        assert!(
            !prog.contains("st.read("),
            "{file}: a runtime read:\n{prog}"
        );
        assert!(
            !prog.contains("st.write("),
            "{file}: a runtime write:\n{prog}"
        );
        assert!(!prog.contains("generic runtime"), "{file}:\n{prog}");
        assert!(
            module.contains("statements, each in readable NumPy (no generic runtime call)"),
            "{file}: the header does not say every statement is readable"
        );
        assert!(
            prog.contains("np.einsum('"),
            "{file}: no np.einsum:\n{prog}"
        );
        // Every statement line is preceded by the comment with its .tq text.
        let lines: Vec<&str> = prog.lines().map(str::trim).collect();
        let mut statements = 0;
        for (k, l) in lines.iter().enumerate() {
            let is_stmt = l.contains(" = ")
                && !l.contains("st.array(")
                && !l.contains("st.family(")
                && !l.contains("np.ogrid[")
                || l.contains(" += ")
                || l.contains(" -= ")
                || l.starts_with("np.add.at(")
                || l.starts_with("np.subtract.at(");
            if !is_stmt || l.starts_with('#') {
                continue;
            }
            statements += 1;
            let mut j = k - 1;
            if lines[j].contains("np.ogrid[") {
                j -= 1;
            }
            assert!(
                lines[j].starts_with("# line ") || lines[j].starts_with("# backward: "),
                "{file}: `{l}` has no .tq comment (`{}`)",
                lines[j]
            );
        }
        assert!(statements >= 3, "{file}: {statements} statements");
        if gathers {
            // Shifted reads: gathers with open grids (circular: modulo the size;
            // zero: from a zero-padded array); shifted writes: np.add.at.
            assert!(prog.contains("np.ogrid["), "{file}:\n{prog}");
            assert!(prog.contains("np.add.at("), "{file}:\n{prog}");
        } else {
            // Time steps are a Python loop and slices at t and t - 1.
            assert!(
                prog.contains("for t in range(1, T + 1):"),
                "{file}:\n{prog}"
            );
            assert!(prog.contains("h[:, t - 1, :]"), "{file}:\n{prog}");
        }
    }
    // Circular (resnet) wraps; zero padding (conv) pads reads and masks writes.
    let resnet = emitted("resnet");
    assert!(program_part(&resnet).contains("(x + dx) % X"));
    let conv = emitted("conv");
    assert!(program_part(&conv).contains("np.pad(L, "));
    assert!(program_part(&conv).contains("np.where((x + dx >= 0)"));
}

/// Every problem file emits, and says how many statements need the generic runtime.
#[test]
fn every_problem_file_emits_and_counts_its_generic_statements() {
    let dir = root().join("problems");
    let mut generic = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "tq") {
            continue;
        }
        let file = p.file_stem().unwrap().to_str().unwrap().to_string();
        let module = emitted(&file);
        let prog = program_part(&module);
        if prog.contains("st.write(") || prog.contains("st.read(") {
            generic.push(file);
        }
    }
    generic.sort();
    // quantized_grad too: g, a and b have no values, and tq's run for the extents gives
    // them arbitrary ones (the positions do not depend on them).
    assert!(generic.is_empty(), "{generic:?}");
}

#[test]
fn snapshot_of_the_emitted_gru_program() {
    let module = emitted("gru");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!("emit_numpy@gru", program_part(&module));
    });
}

/// Update rules (problems/sgd_l2_momentum.tq) are emitted as one function per rule, a
/// Python statement per `.tq` statement, and the module's sequences satisfy what tq
/// proved of the rules: with B's hyperparameters mapped from A's and B's velocity
/// started at lambda theta_0/(1 - eta lambda), B's theta is A's at every step; with both
/// velocities started at 0 the two differ by the derived transient
/// eta mu lambda theta_0 ((1 - eta lambda)^t - mu^t)/(1 - eta lambda - mu). A rule whose
/// symbols have no value is not run, and says so.
#[test]
fn emitted_update_rules_follow_the_proved_equivalence() {
    let module = emitted("sgd_l2_momentum");
    for line in [
        "def rule_A(steps, inputs, start):",
        "        # line 15: v[t+1] = mu v[t] + g[t]",
        "theta[t + 1] = theta[t] - P[\"eta'\"] * v_[t + 1]",
    ] {
        assert!(module.contains(line), "{line} in\n{module}");
    }
    if !numpy_available() {
        assert!(
            std::env::var("CI").is_err(),
            "python3 with numpy is required under CI=true (pip install numpy)"
        );
        eprintln!("note: python3 with numpy is not available; the emitted rules are not run");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tq-emit-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let py = dir.join("rules.py");
    std::fs::write(&py, &module).unwrap();
    let run = |doc: Value| -> Value {
        let inputs = dir.join("in.json");
        std::fs::write(&inputs, doc.to_string()).unwrap();
        let out = std::process::Command::new("python3")
            .arg(&py)
            .args(["--steps", "30", "--json", "--inputs"])
            .arg(&inputs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (mu, eta, lambda, theta0) = (0.9, 0.1, 0.01, 1.5);
    let g: Vec<f64> = (0..30)
        .map(|k| ((k * 37 % 11) as f64 - 5.0) / 3.0)
        .collect();
    let symbols = json!({
        "eta'": eta,
        "mu'": mu * (1.0 - eta * lambda),
        "lambda'": lambda * (1.0 - mu),
    });
    let seq = |v: &Value, r: &str, s: &str| -> Vec<f64> {
        v["rules"][r][s]
            .as_array()
            .unwrap_or_else(|| panic!("{r}.{s} in {v}"))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let equivalent = run(json!({
        "symbols": symbols,
        "sequences": {"g": g},
        "starts": {"A.v": 0.0, "A.theta": theta0, "B.v": lambda * theta0 / (1.0 - eta * lambda), "B.theta": theta0},
    }));
    let (a, b) = (
        seq(&equivalent, "A", "theta"),
        seq(&equivalent, "B", "theta"),
    );
    assert_eq!(a.len(), 31);
    for t in 0..=30 {
        assert!(
            (a[t] - b[t]).abs() <= 1e-12 * (1.0 + a[t].abs()),
            "step {t}: {} vs {}",
            a[t],
            b[t]
        );
    }
    // A's first step by hand: v[1] = g[0], theta[1] = theta0 - eta (g[0] + lambda theta0).
    assert!((a[1] - (theta0 - eta * (g[0] + lambda * theta0))).abs() < 1e-12);
    let transient = run(json!({
        "symbols": symbols,
        "sequences": {"g": g},
        "starts": {"A.v": 0.0, "A.theta": theta0, "B.v": 0.0, "B.theta": theta0},
    }));
    let (a, b) = (seq(&transient, "A", "theta"), seq(&transient, "B", "theta"));
    let r = 1.0 - eta * lambda;
    for t in 0..=30 {
        let want = eta * mu * lambda * theta0 * (r.powi(t as i32) - mu.powi(t as i32)) / (r - mu);
        assert!(
            (b[t] - a[t] - want).abs() <= 1e-12,
            "step {t}: {} vs {want}",
            b[t] - a[t]
        );
    }
    assert!((b[10] - a[10]).abs() > 1e-4, "the transient is visible");
    // Without values for B's symbols, B is not run and the module says why.
    let partial = run(json!({"sequences": {"g": g}}));
    assert!(partial["rules"]["A"]["theta"].is_array());
    assert!(partial["rules"].get("B").is_none());
    assert!(
        partial["rules_not_run"]["B"]
            .as_str()
            .unwrap()
            .contains("mu'"),
        "{partial}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_family_parameter_that_reads_the_family_variable_is_each_members_own() {
    // probe30/c f10: the family variable was read as 0 where the parameter was evaluated
    // once for the declaration, so every W_l was emitted (and sampled) as normal(0, 1/J).
    let path = "tests/cases/lead30/family_parameter_reads_the_layer.tq";
    let src = std::fs::read_to_string(root().join(path)).unwrap();
    let r = check_source(path, &src, &quick());
    let module = tq::emit::numpy(&r).expect("the family is emitted member by member");
    // (1 + c l)/J at c = 2, J = 4: 3/4, 5/4, 7/4.
    for (member, var) in [("W_{1}", "0.75"), ("W_{2}", "1.25"), ("W_{3}", "1.75")] {
        let line = format!("(\"{member}\", [(0, 3), (0, 3)], \"normal\", [0.0, {var}])");
        assert!(module.contains(&line), "{line} missing from:\n{module}");
    }
}

/// A leaf whose distribution reads a computed tensor (probe32/a w46: `g[k] = 3`,
/// `x[b,k] ~ normal(0, g[k])`): `sample_dependent` drew x before `forward` wrote g, from
/// g's zeros, so x was 0 and Var(y) of y = x + e came out 1. By hand Var(y) = 3 + 1 = 4;
/// the module's own runs (2,000 seeds, 24,000 elements: the variance's standard error is
/// about 4 sqrt(2/24000) = 0.037) must give it within six standard errors.
#[test]
fn emitted_numpy_draws_a_leaf_after_the_tensor_its_distribution_reads() {
    if !numpy_available() {
        return;
    }
    let src = "size B, K\nindex k : K\ng[k] = 3\ninput x[b, k] ~ normal(0, g[k])\n\
               input e[B, K] ~ normal(0, 1)\ny[b,k] = x[b,k] + e[b,k]\nsample B = 3, K = 4\n";
    let r = check_source("dependent.tq", src, &quick());
    let module = tq::emit::numpy(&r).expect("the model is emitted");
    let dir = std::env::temp_dir().join(format!("tq-emit-computed-arg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.py"), &module).unwrap();
    let driver = format!(
        r#"
import sys
import numpy as np
sys.path.insert(0, {dir:?})
import model
ys = []
for seed in range(2000):
    st = model.sample_inputs(seed)
    model.forward(st)
    ys.append(st.t[("y", False)][1].ravel())
print(float(np.concatenate(ys).var()))
"#,
        dir = dir.display().to_string()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &driver])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let var: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!((var - 4.0).abs() < 0.22, "Var(y) = {var}, by hand 4");
}

/// `e` at an index position of a file with `size E` is the index over E (probe32/c h12):
/// the emitted module and the interpreter agree element by element, so no element is
/// written at round(e).
#[test]
fn an_undeclared_index_named_e_is_the_index_in_the_emitted_module() {
    if !numpy_available() {
        return;
    }
    let n = compare_path("tests/cases/lead32/index_e_without_its_declaration.tq");
    assert!(n >= 6, "only {n} elements compared");
}

/// The names an emitted module defines at its top level: assignments, functions,
/// classes and imports (`import numpy as np` defines `np`).
fn top_level_names(module: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = std::collections::BTreeSet::new();
    for line in module.lines() {
        if line.starts_with(|c: char| c.is_whitespace() || c == '#') {
            continue;
        }
        let name = if let Some(rest) = line
            .strip_prefix("def ")
            .or_else(|| line.strip_prefix("class "))
        {
            ident(rest)
        } else if let Some(rest) = line.strip_prefix("import ") {
            ident(rest.rsplit(" as ").next().unwrap_or(rest))
        } else {
            let n = ident(line);
            if !line[n.len()..].starts_with(" = ") {
                continue;
            }
            n
        };
        if !name.is_empty() {
            names.insert(name);
        }
    }
    names.into_iter().collect()
}

/// A model that uses `name` as a size (capitalized names) or as a symbol (others), so
/// the module must keep it apart from its own `name` (probe37 p04: a size `P` was
/// shadowed by the module's `P = dict(C)` and `python3 module.py` died).
fn model_naming(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) {
        format!(
            "size B, {name}\nindex q : {name}\ninput x[B,{name}] ~ normal(0, 1)\n\
             y[b] = sum_{{q}}(x[b,q]) / {name}\nloss = sum_{{b}}(y[b]^2)\n\
             sample B = 2, {name} = 3\n"
        )
    } else {
        format!(
            "size B\nsymbol {name}\ninput x[B] ~ normal(0, 1)\ny[b] = {name} x[b]\n\
             loss = sum_{{b}}(y[b]^2)\nsample B = 2, {name} = 0.5\n"
        )
    }
}

/// Generator (probe37 p04): every name the emitted module defines at its top level —
/// read off emitted modules, not a list kept by hand — used as a size or a symbol of a
/// model; each such model's module runs and agrees with tq element by element.
#[test]
fn no_name_the_module_defines_shadows_a_size_or_symbol() {
    if !numpy_available() {
        return;
    }
    let mut names = std::collections::BTreeSet::new();
    for file in ["gru", "sgd_l2_momentum", "batchnorm"] {
        names.extend(top_level_names(&emitted(file)));
    }
    for must in ["P", "FREE", "RULES", "C", "INDEX", "forward", "read_json"] {
        assert!(names.contains(must), "{must} not found among {names:?}");
    }
    let dir = std::env::temp_dir().join(format!("tq-emit-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tried = Vec::new();
    for name in &names {
        let src = model_naming(name);
        let path = dir.join(format!("n_{name}.tq"));
        std::fs::write(&path, &src).unwrap();
        let path = path.display().to_string();
        let r = check_source(&path, &src, &quick());
        if r.unexpected_errors() > 0 {
            // Not a name a size or symbol can have (a keyword of tq, `x`, `y`, `loss`).
            continue;
        }
        let n = compare_path(&path);
        assert!(n >= 2, "{name}: only {n} elements compared");
        tried.push(name.clone());
    }
    let _ = std::fs::remove_dir_all(&dir);
    for must in ["P", "FREE", "RULES", "C", "read_json", "run_rules"] {
        assert!(
            tried.iter().any(|t| t == must),
            "{must} was not tried: {tried:?}"
        );
    }
}
