//! Input and output of the built binary (issue 15, class 5): capped reads (`/dev/zero`,
//! endless standard input), `-` for standard input, a UTF-8 byte-order mark, invalid
//! UTF-8 among good files, symbolic link cycles, a full disk and a closed pipe; and the
//! messages of numbers out of range (class 6).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tq() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tq"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env("TQ_NO_CACHE", "1");
    c
}

fn run(args: &[&str]) -> Output {
    tq().args(args).output().expect("tq runs")
}

/// Waits for a child at most `limit`; kills it and fails the test when it takes longer.
fn wait_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tq-io-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn no_panic(out: &Output, what: &str) {
    assert_ne!(out.status.code(), Some(101), "{what} panicked");
    assert_ne!(out.status.code(), None, "{what} was killed by a signal");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{what}: {}",
        text(&out.stderr)
    );
}

const GOOD: &str = "scalar a\nx = a^2\nat a = 3\nclaim x == 9\n";

#[test]
fn dev_zero_is_refused_at_the_cap_and_fast() {
    for cmd in ["check", "derive", "render", "emit", "variants"] {
        let start = Instant::now();
        let child = tq()
            .args([cmd, "/dev/zero"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_within(child, Duration::from_secs(20), cmd);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{cmd} took {:?}",
            start.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", text(&out.stderr));
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(all.contains("E0003"), "{cmd}: {all}");
        assert!(
            all.contains("more than the limit of 1048576 bytes"),
            "{cmd}: {all}"
        );
        no_panic(&out, cmd);
    }
}

#[test]
fn endless_standard_input_is_refused_at_the_cap() {
    let mut child = tq()
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Writes until tq stops reading (then the pipe breaks); at most 64 MiB.
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'#'; 1 << 16];
        let mut written = 0usize;
        while written < 64 << 20 && stdin.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    });
    let out = wait_within(
        child,
        Duration::from_secs(20),
        "tq check - on endless input",
    );
    let written = writer.join().unwrap();
    assert!(
        written < 8 << 20,
        "tq read {written} bytes of standard input"
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("<stdin>"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("E0003"));
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = tq()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    wait_within(child, Duration::from_secs(60), "tq on standard input")
}

#[test]
fn a_dash_reads_standard_input() {
    let out = with_stdin(&["check", "--format", "json", "-"], GOOD.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"][0]["path"], "<stdin>");
    assert_eq!(doc["files"][0]["claims"][0]["verdict"], "proved");
    // Standard input among files, and for the one-file commands.
    let out = with_stdin(&["check", "problems/comp_graph.tq", "-"], GOOD.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("<stdin>: ok"));
    assert!(text(&out.stdout).contains("2 files, 0 failed"));
    let out = with_stdin(&["derive", "-"], GOOD.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("x == 9"));
    // An error in standard input is located in `<stdin>`.
    let out = with_stdin(&["render", "-"], b"scalar a\nx = b^2\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("<stdin>:2:5"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_byte_order_mark_is_accepted_and_spans_stay_right() {
    let dir = temp_dir("bom");
    let sources = [
        GOOD.to_string(),
        "x = b\nscalar a\n".to_string(),
        "size B\n  y[b] = W[b] é\n".to_string(),
    ];
    for (k, src) in sources.iter().enumerate() {
        let plain = dir.join(format!("plain{k}.tq"));
        let bom = dir.join(format!("bom{k}.tq"));
        std::fs::write(&plain, src).unwrap();
        std::fs::write(&bom, format!("\u{FEFF}{src}")).unwrap();
        let a = run(&["check", "--format", "json", plain.to_str().unwrap()]);
        let b = run(&["check", "--format", "json", bom.to_str().unwrap()]);
        let mut a: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
        let mut b: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
        a["files"][0]["path"] = "f".into();
        b["files"][0]["path"] = "f".into();
        // Gradient-check errors are floating-point noise of the same run; compare the rest.
        a["files"][0]["gradcheck"] = serde_json::Value::Null;
        b["files"][0]["gradcheck"] = serde_json::Value::Null;
        assert_eq!(a, b, "source {k}");
        if k > 0 {
            let diags = b["files"][0]["diagnostics"].as_array().unwrap();
            assert!(!diags.is_empty(), "source {k} has an error");
        }
    }
    // The first error of source 1 is on line 1, column 5 (`b`), BOM or not.
    let out = run(&[
        "check",
        "--format",
        "json",
        dir.join("bom1.tq").to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(5))
    );
}

#[test]
fn invalid_utf8_in_one_file_is_located_and_the_others_are_checked() {
    let dir = temp_dir("utf8");
    std::fs::write(dir.join("a.tq"), GOOD).unwrap();
    std::fs::write(dir.join("b.tq"), b"scalar a\n# caf\xe9 \xff\nx = a\n").unwrap();
    std::fs::write(dir.join("c.tq"), GOOD).unwrap();
    let out = run(&["check", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for k in [0, 2] {
        assert_eq!(files[k]["claims"][0]["verdict"], "proved", "{}", files[k]);
    }
    let d = &files[1]["diagnostics"][0];
    assert_eq!(d["code"], "E0002");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(6))
    );
    assert!(
        d["message"].as_str().unwrap().contains("byte 14 (0xE9)"),
        "{d}"
    );
    assert!(d["hint"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(doc["summary"]["errors"], 1);
    // The text report names the file and the place, and reports the others.
    let out = run(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out.stdout);
    assert!(t.contains("a.tq: ok") && t.contains("c.tq: ok"), "{t}");
    assert!(t.contains("E0002") && t.contains("b.tq:2:6"), "{t}");
    // One file: the diagnostic goes to stderr, status 2.
    let out = run(&["derive", dir.join("b.tq").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("E0002"), "{}", text(&out.stderr));
    // A missing file among good ones is reported as such, the others still checked.
    let missing = dir.join("missing.tq");
    let out = run(&[
        "check",
        dir.join("a.tq").to_str().unwrap(),
        missing.to_str().unwrap(),
        dir.join("c.tq").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out.stdout);
    assert!(t.contains("E0005") && t.contains("c.tq: ok"), "{t}");
}

#[cfg(unix)]
#[test]
fn symbolic_link_cycles_end_and_each_file_is_checked_once() {
    use std::os::unix::fs::symlink;
    let dir = temp_dir("links");
    std::fs::write(dir.join("a.tq"), GOOD).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub").join("b.tq"), GOOD).unwrap();
    symlink("..", dir.join("sub").join("up")).unwrap();
    symlink(&dir, dir.join("sub").join("root")).unwrap();
    symlink("a.tq", dir.join("again.tq")).unwrap();
    symlink("self.tq", dir.join("self.tq")).unwrap();
    symlink("nowhere.tq", dir.join("broken.tq")).unwrap();
    let child = tq()
        .args(["check", "--format", "json", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_within(child, Duration::from_secs(60), "tq check on a link cycle");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let checked: Vec<&String> = paths
        .iter()
        .filter(|p| !p.ends_with("self.tq") && !p.ends_with("broken.tq"))
        .collect();
    // a.tq (again.tq is the same file) and sub/b.tq, once each.
    assert_eq!(checked.len(), 2, "{paths:?}");
    assert!(checked.iter().any(|p| p.ends_with("/a.tq")), "{paths:?}");
    assert!(checked.iter().any(|p| p.ends_with("sub/b.tq")), "{paths:?}");
    for f in doc["files"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        if p.ends_with("self.tq") || p.ends_with("broken.tq") {
            assert_eq!(f["diagnostics"][0]["code"], "E0005", "{f}");
        } else {
            assert_eq!(f["claims"][0]["verdict"], "proved", "{f}");
        }
    }
    assert!(
        text(&out.stderr).contains("already searched"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_found_in_a_directory_is_not_opened() {
    let dir = temp_dir("fifo");
    std::fs::write(dir.join("a.tq"), GOOD).unwrap();
    let fifo = dir.join("pipe.tq");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipped");
        return;
    }
    let child = tq()
        .args(["check", "--format", "json", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_within(child, Duration::from_secs(60), "tq check on a FIFO");
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"][1]["diagnostics"][0]["code"], "E0005");
    assert!(doc["files"][1]["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
}

/// Every command, on a small file.
fn every_command(test: &str) -> Vec<Vec<String>> {
    // One directory per calling test: the tests run in parallel, and a shared one was
    // removed by one while the other read it (a flaky "cannot be read", E0005).
    let dir = temp_dir(&format!("commands-{test}"));
    let graph = dir.join("graph.tq");
    std::fs::write(
        &graph,
        "scalar a, b\nx = a^2\nu = x / (b^2 + 1)\nat a = 2, b = 1\nclaim u == 2\nvary a in 1..3\n",
    )
    .unwrap();
    let graph = graph.to_str().unwrap();
    [
        vec!["check", "problems/comp_graph.tq"],
        vec!["check", "--format", "json", "problems/comp_graph.tq"],
        vec!["derive", "problems/comp_graph.tq"],
        vec!["derive", "--steps", "problems/comp_graph.tq"],
        vec!["derive", "--format", "json", "problems/comp_graph.tq"],
        vec!["render", "problems/comp_graph.tq"],
        vec!["emit", "problems/comp_graph.tq"],
        vec!["variants", "--count", "2", graph],
        vec!["plot", "--trials", "2", "problems/resnet.tq"],
        vec!["errata", "problems/errata/e1_pyramid_rank.tq"],
        vec!["bench", "--trials", "1"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_status_2_with_a_message() {
    for args in every_command("full-disk") {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = tq()
            .args(&args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        no_panic(&out, &args.join(" "));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("cannot write to standard output"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // A full stderr does not panic either.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = tq()
        .args(["derive", "problems/no-such-file.tq"])
        .stderr(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    for args in every_command("closed-pipe") {
        let mut child = tq()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before tq writes anything.
        drop(child.stdout.take());
        let out = wait_within(child, Duration::from_secs(120), &args.join(" "));
        no_panic(&out, &args.join(" "));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn the_same_seed_repeats_and_another_seed_draws_other_trials() {
    let f = Path::new("problems/resnet.tq");
    let a = run(&["plot", "--trials", "4", "--seed", "1", f.to_str().unwrap()]);
    let b = run(&["plot", "--trials", "4", "--seed", "1", f.to_str().unwrap()]);
    let c = run(&["plot", "--trials", "4", "--seed", "2", f.to_str().unwrap()]);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

/// The messages of a source's diagnostics and claim evidence, without numeric runs
/// unless `numeric`.
fn messages(src: &str, numeric: bool) -> String {
    let opts = tq::report::Options {
        no_numeric: !numeric,
        ..Default::default()
    };
    let r = tq::report::check_source("t.tq", src, &opts);
    let mut out: Vec<String> = r
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    out.extend(r.claims.iter().map(|c| c.to_json().to_string()));
    out.join("\n")
}

#[test]
fn numbers_out_of_range_are_named_as_out_of_range() {
    // `given` a size beyond the limit, in the Monte Carlo run (issue 15's repro).
    let m = messages(
        "size B, I\nsample B = 4, I = 3\ninput x[B, I] ~ normal(0, 1)\ny[b] = x[b,I]\nclaim Var(y) == I given I = 1000000000000\n",
        true,
    );
    assert!(
        m.contains("size I = 1000000000000 is out of range: sizes for numeric runs are whole numbers from 1 to 1000000"),
        "{m}"
    );
    assert!(!m.contains("not a positive integer"), "{m}");
    // `sample`: too large (also beyond 64 bits), zero, and a fraction.
    for (v, words) in [
        ("100000000000", "is out of range"),
        ("99999999999999999999999", "is out of range"),
        ("0", "is out of range"),
        ("2.5", "is not a whole number"),
    ] {
        let m = messages(&format!("size B\nsample B = {v}\n"), false);
        assert!(m.contains("E0302"), "{m}");
        assert!(m.contains(&format!("`B` = {v} {words}")), "{v}: {m}");
        assert!(m.contains("from 1 to 1000000"), "{m}");
    }
    // `vary`: whole values beyond the limit, ends with too many digits, fractions.
    let m = messages("size L\nsample L = 3\nvary L in 1..2000000\n", false);
    assert!(m.contains("E0602") && m.contains("out of range"), "{m}");
    let m = messages("size L\nsample L = 3\nvary L in {4, 0}\n", false);
    assert!(m.contains("E0602") && m.contains("out of range"), "{m}");
    let m = messages("size L\nsample L = 3\nvary L in 1..20000000000000\n", false);
    assert!(
        m.contains("the end 20000000000000 of the range of `L` is out of range"),
        "{m}"
    );
    let m = messages("size L\nsample L = 3\nvary L in {1, 2.5}\n", false);
    assert!(
        m.contains("must be varied over whole numbers") && !m.contains("out of range"),
        "{m}"
    );
    // `at`: a literal whose exponent is beyond exact arithmetic.
    let m = messages("scalar a\nx = a^2\nat a = 1e500\nclaim x == 1\n", false);
    // (session 34: one rule for such numbers wherever they are written, E0904.)
    assert!(
        m.contains("E0904")
            && m.contains("`1e500` has an exponent beyond ±400: tq reads numbers with exponents from -400 to 400"),
        "{m}"
    );
    assert!(!m.contains("is not a number"), "{m}");
}
