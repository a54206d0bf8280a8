//! The regression files of issue #15: every file in tests/robustness/ is run by the
//! binary under resource limits (1 GB of address space, 2 s of CPU time, via
//! `prlimit`), and must end with the exit status and diagnostic code its header states:
//!
//! ```text
//! # expect: exit 1, E0302
//! # command: derive            (optional; `check` by default, several lines allowed)
//! # output: gradcheck  not run (optional; a text the output must contain)
//! ```
//!
//! An abort, a panic (exit 101), a stack overflow or a run over the limits fails the test.
//! The wall time and peak memory of each file are recorded in docs/fuzzing.md.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address-space limit of each run.
pub const MEMORY_BYTES: u64 = 1 << 30;
/// CPU-time limit of each run (the kernel stops the process beyond it).
pub const CPU_SECONDS: u64 = 2;
/// Wall-clock limit: generous, because the test machine is shared; the CPU limit is
/// the one that bounds tq's own work.
pub const WALL: Duration = Duration::from_secs(20);

struct Expect {
    status: i32,
    code: Option<String>,
    commands: Vec<String>,
    outputs: Vec<String>,
}

fn expectations(src: &str, path: &Path) -> Expect {
    let mut e = Expect {
        status: -1,
        code: None,
        commands: vec![],
        outputs: vec![],
    };
    for line in src.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(rest) = line.strip_prefix("expect:") {
            let mut parts = rest.split(',').map(str::trim);
            let status = parts.next().and_then(|s| s.strip_prefix("exit "));
            e.status = status
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| panic!("{}: bad `# expect:` line", path.display()));
            e.code = parts.next().map(str::to_string);
        } else if let Some(rest) = line.strip_prefix("command:") {
            e.commands.push(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("output:") {
            e.outputs.push(rest.trim().to_string());
        }
    }
    assert!(
        e.status >= 0,
        "{}: no `# expect: exit N` header",
        path.display()
    );
    if e.commands.is_empty() {
        e.commands.push("check".to_string());
    }
    e
}

/// Runs `tq ARGS FILE` under the limits; returns (exit status, stdout + stderr, wall).
pub fn run_limited(args: &[&str], file: &Path) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new("prlimit")
        .arg(format!("--as={MEMORY_BYTES}"))
        .arg(format!("--cpu={CPU_SECONDS}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_tq"))
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs");
    let out_pipe = child.stdout.take();
    let err_pipe = child.stderr.take();
    let reader = |p: Option<std::process::ChildStdout>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut p) = p {
                let _ = std::io::Read::read_to_end(&mut p, &mut s);
            }
            s
        })
    };
    let out_t = reader(out_pipe);
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut p) = err_pipe {
            let _ = std::io::Read::read_to_end(&mut p, &mut s);
        }
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > WALL {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = start.elapsed();
    let mut text = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).to_string();
    text.push_str(&String::from_utf8_lossy(&err_t.join().unwrap_or_default()));
    (status.code(), text, wall)
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/robustness");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/robustness exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tq"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_regression_file_ends_as_its_header_says() {
    let files = files();
    assert!(files.len() >= 15, "the regression files are missing");
    let mut failures = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable");
        let e = expectations(&src, f);
        for cmd in &e.commands {
            let args: Vec<&str> = cmd.split_whitespace().collect();
            let (status, text, wall) = run_limited(&args, f);
            let name = format!("{} ({cmd})", f.display());
            if status != Some(e.status) {
                failures.push(format!(
                    "{name}: exit {status:?} (killed by a signal or a limit when None), expected {} after {wall:?}\n{}",
                    e.status,
                    text.chars().take(2000).collect::<String>()
                ));
                continue;
            }
            if let Some(code) = &e.code {
                // The code and a located message (`FILE:LINE:COL`).
                let located = format!("{}:", f.display());
                if !text.contains(code.as_str()) || !text.contains(&located) {
                    failures.push(format!(
                        "{name}: no located {code} in the output\n{}",
                        text.chars().take(2000).collect::<String>()
                    ));
                }
            }
            for o in &e.outputs {
                if !text.contains(o.as_str()) {
                    failures.push(format!("{name}: the output lacks `{o}`"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
