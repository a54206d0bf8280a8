//! The verdict cache (issue 16, docs/cli.md "The verdict cache"): each claim's report
//! stored under a hash of everything its verdict depends on, so that re-checking an
//! unchanged file recomputes no claim and changing one claim recomputes only it.
//!
//! The key of a claim hashes: the cache format, the identity of the tq build (the
//! caller's `tool` string), the file's text with every `claim` item blanked (its
//! newlines kept, so the positions of the statements are part of it) and without its
//! comments (which nothing but `tq fmt` reads), what the file says of its symbols as
//! the check computed it ([`file_facts`]: other claims contribute to it), the claim's own
//! text and the point in force, the seed and the options that change verdicts, the
//! symbolic work budget left to it, and what the file's moment claims ask of the Monte
//! Carlo trials (the tensors they pool, which set the cost of a trial and so the
//! trials' budget). Nothing else a claim's verdict reads: every engine reads only the
//! program, the claim and these.
//!
//! An entry is a small JSON file named by its key; it repeats the key and the tool, and
//! an entry that does not parse, or names another key or tool, is ignored (and written
//! again). The cache is only an optimisation: writes that fail are ignored.

use super::{ClaimReport, Method, Outcome, ProofRule, Verdict, Witness};
use crate::syntax::ast::Expectation;
use num_rational::BigRational;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The version of the entries' format (part of every key).
const FORMAT: &str = "tq-verdict-cache-2";

/// A cache directory and the identity of the tq build that writes to it.
#[derive(Clone, Debug)]
pub struct VerdictCache {
    dir: PathBuf,
    tool: String,
}

/// A 128-bit hash of the parts, as 32 hex digits (two SipHash runs with different
/// prefixes, each part length-prefixed so that parts cannot run into each other).
pub fn digest(parts: &[&str]) -> String {
    let mut out = String::new();
    for salt in ["first", "second"] {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new();
        salt.hash(&mut h);
        for p in parts {
            p.len().hash(&mut h);
            p.hash(&mut h);
        }
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// The file's text with the given byte ranges (its `claim` items) blanked, their line
/// breaks kept, and without its comments: every `#` starts a comment that runs to the end
/// of its line, which the lexer blanks before parsing (`syntax::lines::transliterate`),
/// so no verdict reads one, and an edited comment decides no claim again. What is left of
/// each line stays where it was, so a report's line numbers are part of the key.
pub fn context(source: &str, claims: &[(usize, usize)]) -> String {
    let blanked = blank_claims(source, claims);
    let mut out = String::with_capacity(blanked.len());
    for (k, line) in blanked.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        out.push_str(line.split('#').next().unwrap_or(""));
    }
    out
}

/// What the file as a whole says of its symbols, as the check computed it ([`Env`]'s
/// domains, fractional and signed symbols, leaf supports, derived sizes): part of every
/// claim's key beside the [`context`]. A claim's verdict reads these facts, and other
/// claims contribute to them (a symbol read in an exponent in one claim is a count in
/// every claim; a claim's fractional `at` value), so the blanked text alone left a
/// stale verdict after an edit of another claim (probe 35, a16).
///
/// [`Env`]: crate::check::Env
pub fn file_facts(env: &crate::check::Env) -> String {
    let derived: Vec<String> = env
        .derived_sizes
        .iter()
        .map(|(n, e)| format!("{n}={}", crate::syntax::printer::print_expr(e)))
        .collect();
    format!(
        "{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}",
        env.domains, env.fractional, env.signed, env.leaf_domains, env.leaf_values, derived
    )
}

/// What identifies one claim in its key beside the file's [`context`] (fix42, probe42
/// r05): its line (two claims written alike at different lines are two claims), its
/// `expect` marker (part of its report), its text, the claim as the engines read it
/// (resolved givens, `tol`, boundary) with the point in force, and, for `claim backprop
/// includes:`, every statement of its block. The item's span covers only the block's
/// header and the `expect` line stands before it, so two `includes` blocks with as many
/// statements shared one entry: the second read the first's verdict, evidence and
/// `expect` marker; so did a derivation's steps under another `given`.
pub fn claim_identity(
    shown: &crate::syntax::ast::Claim,
    read: &crate::syntax::ast::Claim,
    at: &[crate::syntax::ast::Binding],
    line: usize,
) -> String {
    use crate::syntax::printer::{print_claim_body, print_expr, print_item};
    let at_text: Vec<String> = at
        .iter()
        .map(|b| format!("{}={}", b.name.name, print_expr(&b.value)))
        .collect();
    let mut block = String::new();
    for it in shown.includes.iter().flatten() {
        print_item(it, 1, &mut block);
    }
    format!(
        "{line}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        shown.expect,
        shown.text,
        print_claim_body(read),
        at_text.join(","),
        block
    )
}

/// The file's text with the given byte ranges blanked, their line breaks kept.
fn blank_claims(source: &str, claims: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    let mut spans: Vec<(usize, usize)> = claims.to_vec();
    spans.sort();
    for (s, e) in spans {
        let (s, e) = (s.max(at).min(source.len()), e.min(source.len()));
        if s >= e || !source.is_char_boundary(s) || !source.is_char_boundary(e) {
            continue;
        }
        out.push_str(&source[at..s]);
        out.extend(source[s..e].chars().filter(|c| *c == '\n'));
        at = e;
    }
    out.push_str(&source[at..]);
    out
}

/// The environment variable that turns the verdict cache off (as `--no-cache` does);
/// the tests that run tq set it.
pub const NO_CACHE_VAR: &str = "TQ_NO_CACHE";

/// The identity of this tq build in the verdict cache's keys: the version and the
/// executable's size and modification time, so that another build (a changed engine)
/// never reads this one's verdicts. `None` (no cache) when it cannot be known, or when
/// `TQ_NO_CACHE` is set.
pub fn tool_identity() -> Option<String> {
    if std::env::var_os(NO_CACHE_VAR).is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "tq {} {} {}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        modified.as_nanos()
    ))
}

impl VerdictCache {
    /// The cache in `dir`, for the build `tool`.
    pub fn new(dir: impl Into<PathBuf>, tool: impl Into<String>) -> VerdictCache {
        VerdictCache {
            dir: dir.into(),
            tool: tool.into(),
        }
    }

    /// The cache of the file `path`: `.tq-cache/` in its directory.
    pub fn beside(path: &Path, tool: &str) -> VerdictCache {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        VerdictCache::new(dir.join(".tq-cache"), tool)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a claim from the parts its verdict depends on (the tool is added).
    pub fn key(&self, parts: &[&str]) -> String {
        let mut all = vec![FORMAT, self.tool.as_str()];
        all.extend_from_slice(parts);
        digest(&all)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The stored report of `key` (its line and column are the caller's), the symbolic
    /// work it used and the exact work (`sym::ExactWork` units) its decision charged to
    /// the file; `None` when there is none, or it is corrupt or foreign.
    ///
    /// An entry lists the Monte Carlo settings its claim's trials read, each with what
    /// the file asked of that setting when it was written; it is read only when
    /// `current` (the file's ask of a setting now) gives the same for each.
    pub fn get(
        &self,
        key: &str,
        current: impl Fn(&str) -> String,
    ) -> Option<(ClaimReport, u64, u64)> {
        let v = self.get_value(key)?;
        let work = v["work"].as_u64()?;
        let exact = v["exact"].as_u64()?;
        for d in v["depends"].as_array()? {
            let (Some(setting), Some(asked)) = (d[0].as_str(), d[1].as_str()) else {
                return None;
            };
            if current(setting) != asked {
                return None;
            }
        }
        Some((report_from_json(&v["report"])?, work, exact))
    }

    /// Stores the report of `key` with the settings its trials read and what was asked
    /// of each (`depends`, see [`VerdictCache::get`]); failures are ignored (the cache
    /// is an optimisation).
    pub fn put(
        &self,
        key: &str,
        report: &ClaimReport,
        work: u64,
        exact: u64,
        depends: &[(String, String)],
    ) {
        self.put_value(
            key,
            serde_json::json!({
                "work": work,
                "exact": exact,
                "depends": depends,
                "report": report.to_json(),
            }),
        );
    }

    /// The entry of `key`, when it parses and is this key's and this build's.
    pub fn get_value(&self, key: &str) -> Option<serde_json::Value> {
        let text = read_entry(&self.path(key))?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        if v["format"] != FORMAT || v["key"] != key || v["tool"] != self.tool.as_str() {
            return None;
        }
        // The value's checksum: an entry changed after it was written (a byte flipped
        // into other valid JSON, an edit, half of a copy) is ignored, not believed.
        if v["check"] != checksum(key, &v["value"]).as_str() {
            return None;
        }
        Some(v["value"].clone())
    }

    /// Stores `value` under `key`; failures are ignored.
    pub fn put_value(&self, key: &str, value: serde_json::Value) {
        let v = serde_json::json!({
            "format": FORMAT,
            "key": key,
            "tool": self.tool,
            "check": checksum(key, &value),
            "value": value,
        });
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        // Written under a temporary name and renamed, so a reader never sees half an
        // entry (and two processes writing the same entry write the same text).
        let tmp = self.dir.join(format!("{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, v.to_string()).is_ok()
            && std::fs::rename(&tmp, self.path(key)).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
        if prune_due(&self.dir) {
            prune(&self.dir, MAX_ENTRIES, MAX_BYTES);
        }
    }
}

/// The most entries a cache directory keeps: past it, [`prune`] removes the oldest.
/// An entry is a few hundred bytes, so this is a few megabytes of verdicts, far more
/// than a course's problem files make (problems/ and tests/cases/: about 3,500 claims).
pub const MAX_ENTRIES: usize = 20_000;

/// The most bytes of entries a cache directory keeps (with [`MAX_ENTRIES`]).
pub const MAX_BYTES: u64 = 64 << 20;

/// How many entries a process writes to one directory between two prunings (the first
/// write prunes, so a run over a full cache trims it at once).
const PRUNE_EVERY: u64 = 1_000;

/// Whether this write to `dir` is the one that prunes it: the first of this process to
/// the directory, then every [`PRUNE_EVERY`]-th.
fn prune_due(dir: &Path) -> bool {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static WRITES: Mutex<Option<HashMap<PathBuf, u64>>> = Mutex::new(None);
    let Ok(mut writes) = WRITES.lock() else {
        return false;
    };
    let n = writes
        .get_or_insert_with(HashMap::new)
        .entry(dir.to_path_buf())
        .or_insert(0);
    *n += 1;
    *n % PRUNE_EVERY == 1
}

/// Whether `name` is what tq writes into a cache directory: an entry (`<32 lower-case
/// hex digits>.json`) or an entry's temporary file (`<32 hex>.<process id>.tmp`).
pub fn is_cache_file_name(name: &str) -> bool {
    let hex = |s: &str| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if let Some(key) = name.strip_suffix(".json") {
        return hex(key);
    }
    if let Some(rest) = name.strip_suffix(".tmp") {
        if let Some((key, pid)) = rest.split_once('.') {
            return hex(key) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
        }
    }
    false
}

/// A temporary file younger than this may still be written by a running tq.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(3_600);

/// Trims the cache directory `dir` to at most `max_entries` entries and `max_bytes`
/// bytes, removing the oldest entries (by modification time, the time each was
/// written) first, down to three quarters of each limit, so that the next runs do not
/// prune again at once. Only regular files named as tq names its files
/// ([`is_cache_file_name`]) are counted or removed; a temporary file is removed once it
/// is an hour old (a run that stopped between writing and renaming it). Nothing else in
/// the directory is touched: other files, links (even named as entries) and
/// directories are not followed, read or removed. Errors are ignored (another run may
/// prune the same directory at once); returns how many files were removed.
pub fn prune(dir: &Path, max_entries: usize, max_bytes: u64) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    // A directory of millions of files is not listed to its end: past four times the
    // limit, what was listed is pruned and the next pruning goes on.
    for e in rd.flatten().take(max_entries.saturating_mul(4).max(64)) {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        // `file_type` of a directory entry does not follow a link.
        if !is_cache_file_name(name) || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Ok(meta) = e.metadata() else {
            continue;
        };
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        if name.ends_with(".tmp") {
            if now
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_TMP)
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
            continue;
        }
        entries.push((modified, meta.len(), e.path()));
    }
    let mut bytes: u64 = entries.iter().map(|e| e.1).sum();
    if entries.len() <= max_entries && bytes <= max_bytes {
        return removed;
    }
    let (keep_entries, keep_bytes) = (max_entries / 4 * 3, max_bytes / 4 * 3);
    // Oldest first; equal times by name, so the order does not depend on the listing.
    entries.sort();
    let mut left = entries.len();
    for (_, len, path) in entries {
        if left <= keep_entries && bytes <= keep_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
        left -= 1;
        bytes = bytes.saturating_sub(len);
    }
    removed
}

/// The largest entry read: an entry is one claim's report (a few hundred bytes; its
/// evidence and witness keep it far below this). A larger one was not written by tq.
pub const MAX_ENTRY_BYTES: u64 = 1 << 20;

/// The text of an entry when it is a regular file of at most [`MAX_ENTRY_BYTES`]
/// (probe 32b: an entry replaced by a FIFO blocked `tq check` forever, one linked to
/// `/dev/zero` read 2.5 GB). It is opened without blocking (a FIFO with no writer opens
/// at once) and its kind and size are read from the open file, so that what is read is
/// what was checked; the read itself is capped too (a file that grows).
fn read_entry(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// The checksum of an entry's value: the digest of its key and its JSON text (the
/// text `serde_json` writes, which reading it back and writing it again reproduces:
/// objects in key order, and the values hold no floating-point numbers).
fn checksum(key: &str, value: &serde_json::Value) -> String {
    digest(&[key, &value.to_string()])
}

fn verdict(s: &str) -> Option<Verdict> {
    [
        Verdict::Proved,
        Verdict::Confirmed,
        Verdict::Refuted,
        Verdict::Undecided,
    ]
    .into_iter()
    .find(|v| v.as_str() == s)
}

fn method(s: &str) -> Option<Method> {
    [
        Method::Symbolic,
        Method::ExactEval,
        Method::RandomPoints,
        Method::Numeric,
        Method::Range,
        Method::Moments,
        Method::MomentsByPosition,
        Method::Quadrature,
        Method::MonteCarlo,
        Method::Dependency,
        Method::None,
    ]
    .into_iter()
    .find(|m| m.as_str() == s)
}

fn rule(s: &str) -> Option<ProofRule> {
    [
        ProofRule::NormalForm,
        ProofRule::ExponentialForm,
        ProofRule::ExactEvaluation,
        ProofRule::ConstantDifference,
        ProofRule::RangeBound,
        ProofRule::MomentsClosedForm,
        ProofRule::MomentsByPosition,
        ProofRule::MomentsBound,
        ProofRule::ReluMeanPositive,
        ProofRule::LinearRecurrence,
        ProofRule::TensorSymbolic,
        ProofRule::RealRootIsolation,
        ProofRule::QuadraticForm,
    ]
    .into_iter()
    .find(|r| r.name() == s)
}

fn witness(v: &serde_json::Value) -> Option<Witness> {
    let point = v["point"]
        .as_object()?
        .iter()
        .map(|(k, x)| Some((k.clone(), x.as_str()?.parse::<BigRational>().ok()?)))
        .collect::<Option<_>>()?;
    let opt = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some(Witness {
        point,
        left: v["left"].as_str()?.to_string(),
        right: v["right"].as_str()?.to_string(),
        checked_by: v["checked_by"].as_str()?.to_string(),
        element: opt("element"),
        seed: match v.get("seed") {
            Some(s) => Some(s.as_u64()?),
            None => None,
        },
        estimate: opt("estimate"),
    })
}

/// The inverse of [`ClaimReport::to_json`]; `None` on anything unexpected.
fn report_from_json(v: &serde_json::Value) -> Option<ClaimReport> {
    let s = |k: &str| v[k].as_str();
    let numeric = match &v["numeric"] {
        serde_json::Value::Null => None,
        n => Some(Outcome::new(
            verdict(n["verdict"].as_str()?)?,
            method(n["method"].as_str()?)?,
            n["evidence"].as_str()?,
        )),
    };
    let verdict = verdict(s("verdict")?)?;
    let rule = match &v["rule"] {
        serde_json::Value::Null => None,
        r => Some(rule(r.as_str()?)?),
    };
    // A report tq could not have made is not read: `proved` only with the rule that
    // proved it, and a rule only on a proof.
    if (verdict == Verdict::Proved) != rule.is_some() {
        return None;
    }
    Some(ClaimReport {
        line: v["line"].as_u64()? as usize,
        column: v["column"].as_u64()? as usize,
        source: s("source")?.to_string(),
        verdict,
        method: method(s("method")?)?,
        evidence: s("evidence")?.to_string(),
        expect: match &v["expected"] {
            serde_json::Value::Null => None,
            e => Some(match e.as_str()? {
                "refuted" => Expectation::Refuted,
                "undecided" => Expectation::Undecided,
                _ => return None,
            }),
        },
        numeric,
        rule,
        witness: match &v["witness"] {
            serde_json::Value::Null => None,
            w => Some(witness(w)?),
        },
    })
}
