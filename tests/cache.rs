//! The verdict cache (issue 16, docs/cli.md): `.tq-cache/` beside the file; an unchanged
//! file recomputes no claim, a changed claim only itself; corrupt and foreign entries are
//! ignored; `--no-cache` and `TQ_NO_CACHE` bypass it. Each test works in its own
//! temporary directory, so no test reads another's cache.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory holding a copy of `problems/<name>`.
fn copy_of(name: &str, tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tq-cache-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("problems")
            .join(name),
    )
    .unwrap();
    std::fs::write(&file, src).unwrap();
    (dir, file)
}

fn check(file: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tq"))
        .env_remove("TQ_NO_CACHE")
        .args(["check", "--format", "json"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The cache's entries: name → contents.
fn entries(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match std::fs::read_dir(dir.join(".tq-cache")) {
        Ok(rd) => rd
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap_or_default(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn claims(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["files"][0]["claims"].as_array().unwrap()
}

#[test]
fn an_unchanged_file_reads_every_verdict_and_a_changed_claim_only_itself() {
    // dropout.tq: moments, Monte Carlo, `solve`: every engine's reports round-trip.
    let (dir, file) = copy_of("dropout.tq", "unchanged");
    let fresh = check(&file, &["--no-cache"]);
    assert!(entries(&dir).is_empty(), "--no-cache writes nothing");
    let first = check(&file, &[]);
    assert_eq!(
        first, fresh,
        "the first cached run computes what --no-cache does"
    );
    let stored = entries(&dir);
    assert_eq!(
        stored.len(),
        claims(&first).len() + 1,
        "one entry per claim, and the gradient check's"
    );
    let second = check(&file, &[]);
    assert_eq!(second, first, "read back from the cache, the same report");
    assert_eq!(entries(&dir), stored, "nothing was recomputed or written");
    // Change one claim: only it is decided again (one new entry), the others are read.
    let src = std::fs::read_to_string(&file).unwrap();
    let changed = src.replace("claim E(Z) == a p", "claim E(Z) == 2 a p");
    assert_ne!(changed, src);
    std::fs::write(&file, &changed).unwrap();
    let third = check(&file, &[]);
    let now = entries(&dir);
    assert_eq!(now.len(), stored.len() + 1, "one claim decided again");
    assert!(stored.iter().all(|e| now.contains(e)));
    let (a, b) = (claims(&first), claims(&third));
    assert_eq!(b[0]["verdict"], "refuted", "{}", b[0]);
    assert_eq!(a[1..], b[1..]);
    // And the same as a run without the cache.
    assert_eq!(third, check(&file, &["--no-cache"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_and_foreign_entries_are_ignored() {
    let (dir, file) = copy_of("dropout.tq", "corrupt");
    let fresh = check(&file, &["--no-cache"]);
    check(&file, &[]);
    let stored = entries(&dir);
    assert!(!stored.is_empty());
    let cache = dir.join(".tq-cache");
    for (k, (name, text)) in stored.iter().enumerate() {
        let garbage = match k % 4 {
            0 => "not json at all {{{".to_string(),
            1 => String::new(),
            // Valid JSON, but another key's entry (a foreign file under this name).
            2 => text.replace("\"key\":\"", "\"key\":\"0"),
            // Another build's entry with a wrong verdict in it.
            _ => text
                .replace("\"tool\":\"tq ", "\"tool\":\"other ")
                .replace("\"verdict\":\"proved\"", "\"verdict\":\"refuted\""),
        };
        std::fs::write(cache.join(name), garbage).unwrap();
    }
    // A planted entry that parses but lies, under a name no key has.
    std::fs::write(cache.join("0123.json"), "{\"format\":1}").unwrap();
    let after = check(&file, &[]);
    assert_eq!(
        after, fresh,
        "verdicts decided again, not read from bad entries"
    );
    // The bad entries were written again, good this time.
    let again = entries(&dir);
    for (name, text) in &stored {
        assert!(
            again.contains(&(name.clone(), text.clone())),
            "{name} rewritten"
        );
    }
    assert_eq!(check(&file, &[]), fresh);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_environment_variable_turns_the_cache_off() {
    let (dir, file) = copy_of("comp_graph.tq", "env");
    let out = Command::new(env!("CARGO_BIN_EXE_tq"))
        .env("TQ_NO_CACHE", "1")
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!dir.join(".tq-cache").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// An entry of this key and this build whose value changed after it was written (a
/// verdict or its evidence edited in place) is ignored: its checksum no longer matches;
/// and an entry whose checksum matches but whose report tq could not have made (`proved`
/// without a rule) is ignored too.
#[test]
fn entries_changed_in_place_are_ignored() {
    let (dir, file) = copy_of("dropout.tq", "in-place");
    let fresh = check(&file, &["--no-cache"]);
    check(&file, &[]);
    let stored = entries(&dir);
    let cache = dir.join(".tq-cache");
    let mut changed = 0;
    for (k, (name, text)) in stored.iter().enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        let report = &mut v["value"]["report"];
        if report.is_null() {
            continue; // the gradient check's entry
        }
        let was = report["verdict"].as_str().unwrap().to_string();
        if k % 2 == 0 {
            // Edited in place: another verdict and evidence, the checksum left as written.
            report["verdict"] = (if was == "refuted" {
                "proved"
            } else {
                "refuted"
            })
            .into();
            report["evidence"] = "edited".into();
        } else {
            // A lie with a matching checksum: `proved` with no rule.
            report["verdict"] = "proved".into();
            report["rule"] = serde_json::Value::Null;
            let key = v["key"].as_str().unwrap().to_string();
            v["check"] = tq::claims::cache::digest(&[&key, &v["value"].to_string()]).into();
        }
        std::fs::write(cache.join(name), v.to_string()).unwrap();
        changed += 1;
    }
    assert!(
        changed >= 2,
        "dropout.tq's claims give entries of both kinds"
    );
    let after = check(&file, &[]);
    assert_eq!(after, fresh, "the edited entries were not believed");
    assert_eq!(entries(&dir), stored, "and were written again as they were");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Comments are no part of any key (the lexer blanks them, so no verdict reads one):
/// editing a whole-line comment, a statement's trailing comment and one between two
/// claims decides nothing again and writes no entry; an edit of a statement (a
/// distribution's parameter) decides every claim again.
#[test]
fn an_edited_comment_decides_nothing_again() {
    let (dir, file) = copy_of("dropout.tq", "comment");
    let first = check(&file, &[]);
    let stored = entries(&dir);
    let src = std::fs::read_to_string(&file).unwrap();
    let edits = [
        (
            "# Seed and seed-problems.md agree",
            "# The seed and seed-problems.md agree",
        ),
        ("# 1 with probability p", "# 1 with probability p, else 0"),
        ("# with a = 1/p the noise", "# so with a = 1/p the noise"),
    ];
    let mut edited = src.clone();
    for (from, to) in edits {
        assert!(edited.contains(from), "{from}");
        edited = edited.replace(from, to);
    }
    std::fs::write(&file, &edited).unwrap();
    let after = check(&file, &[]);
    assert_eq!(entries(&dir), stored, "no claim decided again");
    assert_eq!(after["files"][0]["claims"], first["files"][0]["claims"]);
    // The same text without its comments' new words is what a fresh run reports.
    assert_eq!(
        after["files"][0]["claims"],
        check(&file, &["--no-cache"])["files"][0]["claims"]
    );
    // A statement's edit is not a comment's: every claim is decided again.
    let statement = edited.replace("moments(m, v + m^2)", "moments(m, 2 v + m^2)");
    assert_ne!(statement, edited);
    std::fs::write(&file, &statement).unwrap();
    check(&file, &[]);
    let now = entries(&dir);
    assert!(
        now.len() >= stored.len() + claims(&first).len(),
        "every claim decided again after a statement's edit: {} entries, then {}",
        stored.len(),
        now.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A claim's key holds what its verdict reads, not the whole file's Monte Carlo asks
/// (issue 16): editing one moment claim's `given` (problems/resnet.tq line 57, `L == 10`
/// made `L == 9`, a setting of its own, so the file keeps as many settings) decides
/// that claim alone again; every other report is read back. Then a claim that shares its
/// setting with another (lines 54 and 55) asks for another tensor: the trials of that
/// setting are pruned otherwise, so both are decided again (the other one because the
/// setting it read is asked for more), and nothing else. Each state is what a run
/// without the cache reports.
#[test]
fn an_edited_given_decides_that_claim_alone_again() {
    let (dir, file) = copy_of("resnet.tq", "given");
    let first = check(&file, &[]);
    let stored = entries(&dir);
    assert_eq!(stored.len(), claims(&first).len() + 1);
    let src = std::fs::read_to_string(&file).unwrap();
    let line57 = "tol 1e-3 given sigma_W^2 == ln(2)/(L D^2 J), L == 10\n";
    assert_eq!(src.matches(line57).count(), 1);
    let edited = src.replace(
        line57,
        "tol 1e-3 given sigma_W^2 == ln(2)/(L D^2 J), L == 9\n",
    );
    std::fs::write(&file, &edited).unwrap();
    let second = check(&file, &[]);
    let now = entries(&dir);
    assert_eq!(now.len(), stored.len() + 1, "one claim decided again");
    assert!(stored.iter().all(|e| now.contains(e)));
    let (a, b) = (claims(&first), claims(&second));
    let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert!(
        changed.iter().all(|&i| b[i]["line"] == 57),
        "only line 57's report may change: {changed:?}"
    );
    assert_eq!(second, check(&file, &["--no-cache"]));
    // Line 54 now asks its setting (shared with line 55) for the gradients too.
    let line54 = "claim Var(L_L) == (1 + ln(2)/L)^L given";
    assert_eq!(edited.matches(line54).count(), 1);
    let asked = edited.replace(line54, "claim Var(L_L.grad) == (1 + ln(2)/L)^L given");
    std::fs::write(&file, &asked).unwrap();
    let before = entries(&dir);
    let third = check(&file, &[]);
    let after = entries(&dir);
    // Line 54's entry is new; line 55's is written again under its key, with what its
    // setting is now asked for.
    let written = after.iter().filter(|e| !before.contains(e)).count();
    assert_eq!(written, 2, "lines 54 and 55 decided again, nothing else");
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(third, check(&file, &["--no-cache"]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Probe 32b: an entry replaced by a FIFO blocked `tq check` forever, one linked to
/// `/dev/zero` read 2.5 GB, a 2 GB sparse entry 2.1 GB. An entry is read only when it is
/// a regular file of at most `MAX_ENTRY_BYTES` (opened without blocking, its kind and
/// size read from the open file); the others are decided again, as for a corrupt entry.
#[cfg(unix)]
#[test]
fn entries_that_are_not_small_regular_files_are_not_read() {
    use std::time::{Duration, Instant};
    let (dir, file) = copy_of("comp_graph.tq", "kinds");
    let fresh = check(&file, &["--no-cache"]);
    check(&file, &[]);
    let cache = dir.join(".tq-cache");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for (k, path) in names.iter().enumerate() {
        std::fs::remove_file(path).unwrap();
        match k % 3 {
            0 => {
                let made = Command::new("mkfifo").arg(path).status();
                assert!(made.is_ok_and(|s| s.success()), "mkfifo {path:?}");
            }
            1 => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            // A sparse regular file past the cap (no disk used).
            _ => std::fs::File::create(path)
                .unwrap()
                .set_len(tq::claims::cache::MAX_ENTRY_BYTES + 1)
                .unwrap(),
        }
    }
    // Run with a deadline, so that a read that blocks fails the test instead of hanging.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tq"))
        .env_remove("TQ_NO_CACHE")
        .args(["check", "--format", "json"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("tq check blocked on a cache entry");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let after: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after, fresh, "decided again, not read from the entries");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An entry's name for the `k`-th planted entry (32 lower-case hex digits).
fn entry_name(k: usize) -> String {
    format!("{k:032x}.json")
}

/// Writes a file and sets its modification time `age_secs` seconds in the past.
fn plant(path: &Path, text: &str, age_secs: u64) {
    std::fs::write(path, text).unwrap();
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age_secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

/// Session 33 (issue #15): the cache was never pruned. `prune` removes the oldest entries
/// down to three quarters of the limit, by count and by bytes, and removes nothing that
/// tq did not write there: other files, names that are nearly an entry's, a directory
/// named as an entry, a link named as an entry (and what it points to), a temporary file
/// younger than an hour.
#[cfg(unix)]
#[test]
fn pruning_removes_the_oldest_entries_and_nothing_else() {
    use tq::claims::cache::{is_cache_file_name, prune};
    let dir = std::env::temp_dir().join(format!("tq-cache-test-prune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = dir.join(".tq-cache");
    std::fs::create_dir_all(&cache).unwrap();
    // 40 entries, the k-th (40 - k) minutes old: entry 39 is the newest.
    for k in 0..40 {
        plant(&cache.join(entry_name(k)), "{}", (40 - k as u64) * 60);
    }
    // What is not an entry, all older than every entry.
    let outside = dir.join("precious.txt");
    plant(&outside, "keep me", 9_000);
    let foreign = [
        "notes.txt",
        "README",
        "0000000000000000000000000000000A.json",
        "000000000000000000000000000000a.json",
        "00000000000000000000000000000000.json.bak",
        "00000000000000000000000000000000.tmp",
        "00000000000000000000000000000000.x1.tmp",
    ];
    for name in foreign {
        assert!(!is_cache_file_name(name), "{name}");
        plant(&cache.join(name), "not tq's", 9_000);
    }
    let subdir = cache.join(entry_name(1000));
    std::fs::create_dir_all(&subdir).unwrap();
    plant(&subdir.join(entry_name(1001)), "{}", 9_000);
    let link = cache.join(entry_name(2000));
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let old_tmp = cache.join(format!("{:032x}.4242.tmp", 3000));
    let new_tmp = cache.join(format!("{:032x}.4243.tmp", 3001));
    plant(&old_tmp, "half", 7_200);
    plant(&new_tmp, "half", 10);
    assert!(is_cache_file_name(&entry_name(7)));
    assert!(is_cache_file_name(&format!("{:032x}.4242.tmp", 3000)));

    // Under the limits nothing but the stale temporary file goes.
    assert_eq!(prune(&cache, 40, 1 << 20), 1);
    assert!(!old_tmp.exists() && new_tmp.exists());
    assert!((0..40).all(|k| cache.join(entry_name(k)).exists()));

    // Over the count: the 25 oldest go, the 15 newest stay (three quarters of 20).
    assert_eq!(prune(&cache, 20, 1 << 20), 25);
    for k in 0..40 {
        assert_eq!(cache.join(entry_name(k)).exists(), k >= 25, "entry {k}");
    }
    // Over the bytes (15 entries of 2 bytes = 30 > 16): down to 12 bytes, the newest 6.
    assert_eq!(prune(&cache, 1_000, 16), 9);
    for k in 25..40 {
        assert_eq!(cache.join(entry_name(k)).exists(), k >= 34, "entry {k}");
    }
    // Everything that is not tq's is still there, as it was.
    for name in foreign {
        assert_eq!(
            std::fs::read_to_string(cache.join(name)).unwrap(),
            "not tq's"
        );
    }
    assert!(subdir.join(entry_name(1001)).exists());
    assert!(std::fs::symlink_metadata(&link).is_ok());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
    assert!(new_tmp.exists());
    // A cache directory that is not there is no error.
    assert_eq!(prune(&dir.join("absent"), 1, 1), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary prunes the cache it writes to: a cache planted with more than
/// `MAX_ENTRIES` old entries is trimmed by one `tq check`, the run's own entries kept
/// (a second run reads every verdict back), a foreign file kept.
#[test]
fn a_full_cache_is_trimmed_by_the_run_that_writes_to_it() {
    use tq::claims::cache::MAX_ENTRIES;
    let (dir, file) = copy_of("comp_graph.tq", "full");
    let cache = dir.join(".tq-cache");
    std::fs::create_dir_all(&cache).unwrap();
    for k in 0..MAX_ENTRIES + 10 {
        let path = cache.join(entry_name(k));
        std::fs::write(&path, "{}").unwrap();
    }
    // Older than anything the run writes.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    for k in 0..MAX_ENTRIES + 10 {
        std::fs::File::options()
            .write(true)
            .open(cache.join(entry_name(k)))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    std::fs::write(cache.join("mine.txt"), "not tq's").unwrap();
    let first = check(&file, &[]);
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let planted = (0..MAX_ENTRIES + 10)
        .filter(|k| cache.join(entry_name(*k)).exists())
        .count();
    assert!(names.len() <= MAX_ENTRIES, "{} files", names.len());
    assert!(
        planted <= MAX_ENTRIES / 4 * 3,
        "{planted} planted entries left"
    );
    assert!(names.iter().any(|n| n == "mine.txt"));
    let written = entries(&dir)
        .into_iter()
        .filter(|(_, text)| text.contains("tq-verdict-cache"))
        .count();
    assert_eq!(
        written,
        claims(&first).len() + 1,
        "the run's entries are kept"
    );
    let before = entries(&dir);
    assert_eq!(check(&file, &[]), first);
    assert_eq!(entries(&dir), before, "read back, nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Probe 35, a16: a claim's verdict reads what the file as a whole says of its symbols,
/// and other claims contribute to it (a symbol read in an exponent, in a claim or in a
/// claim's given, is a whole number >= 1 in every claim). Editing one claim so that the
/// fact changes must decide the other claims again: after each edit, the cached run's
/// verdicts are `--no-cache`'s. Both directions (a stale proof, a stale refutation), and
/// the fact coming from a relation and from a given.
#[test]
fn an_edit_of_one_claim_that_changes_a_symbols_domain_decides_the_others_again() {
    let pairs: [(&str, &str); 4] = [
        (
            "symbol s\nclaim 2^s >= 2\nclaim s >= 1\n",
            "symbol s\nclaim 1 >= 0\nclaim s >= 1\n",
        ),
        (
            "symbol s\nclaim 1 >= 0\nclaim s >= 1\n",
            "symbol s\nclaim 2^s >= 2\nclaim s >= 1\n",
        ),
        (
            "symbol k\nclaim 1 >= 0 given 2^k >= 4\nclaim k^2 >= k\n",
            "symbol k\nclaim 1 >= 0 given k >= 1/4\nclaim k^2 >= k\n",
        ),
        (
            "symbol n\nclaim 2^n >= 2\nclaim n^3 >= n\n",
            "symbol n\nclaim n >= 0\nclaim n^3 >= n\n",
        ),
    ];
    for (k, (before, after)) in pairs.iter().enumerate() {
        let dir =
            std::env::temp_dir().join(format!("tq-cache-test-facts{k}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("facts.tq");
        std::fs::write(&file, before).unwrap();
        let _ = check(&file, &[]);
        std::fs::write(&file, after).unwrap();
        let cached = check(&file, &[]);
        let fresh = check(&file, &["--no-cache"]);
        let verdicts = |v: &serde_json::Value| -> Vec<String> {
            claims(v)
                .iter()
                .map(|c| c["verdict"].as_str().unwrap_or("?").to_string())
                .collect()
        };
        assert_eq!(verdicts(&cached), verdicts(&fresh), "{before}→\n{after}");
        // The edit did change the other claim's verdict: the test can fail.
        std::fs::write(&file, before).unwrap();
        let old = check(&file, &["--no-cache"]);
        assert_ne!(verdicts(&old)[1], verdicts(&fresh)[1], "{before}→\n{after}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
