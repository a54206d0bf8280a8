//! The background worker: for each new version of a document, first the derived
//! backward program and moments (for hover and the code actions), then the claims'
//! verdicts (for inlay hints, code lenses and the refuted-claim warnings).
//!
//! One thread, one job at a time. A job waiting for the thread is replaced when a newer
//! version of its document arrives; a job already running is checked between its
//! stages and between two claims (`claims::Options::cancel`), and dropped when a newer
//! version exists, and whatever it delivers late is ignored by the server (the store
//! keeps results only for the version it holds). Across documents the one touched last
//! goes first: the waiting job of the document opened, changed or asked about last is
//! taken next, and a running job of another document gives way (between two claims) to
//! a document opened or changed after it, and is queued again behind it (probe38 k08).

use super::document::quick_report;
use crate::claims::cache::VerdictCache;
use crate::claims::{self, Options, Verdict};
use crate::derive;
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::{Expr, Item, ItemKind, RelOp};
use crate::syntax::printer::{print_expr, print_item};
use crossbeam_channel::Sender;
use lsp_types::Uri;
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};

/// The stack of the worker thread (the walks over expressions recurse; the binary's
/// threads have the same).
const STACK_BYTES: usize = 64 << 20;

/// What tq derived about one tensor (a family's key: `L` for `L_l`).
#[derive(Clone, Debug, Default)]
pub struct TensorFacts {
    /// The backward program's statements that write its gradient, scatter form.
    pub scatter: Vec<String>,
    /// The same in gather form.
    pub gather: Vec<String>,
    /// Its moments and its gradient's, as `tq derive` prints them.
    pub moments: Vec<String>,
}

/// The derived values of one version of a document.
#[derive(Clone, Debug, Default)]
pub struct Derived {
    pub version: i32,
    /// Why nothing was derived (errors in the file), if so.
    pub unavailable: Option<String>,
    pub tensors: BTreeMap<String, TensorFacts>,
    /// The backward program as a `claim backprop includes:` block, if there is one.
    pub backprop_block: Option<String>,
    /// Derived values by the claim text they answer (whitespace removed): `Var(L_l)`,
    /// `mults(R)`, `d(u)/d(a)`.
    pub values: HashMap<String, String>,
}

/// One claim's verdict as the editor shows it.
#[derive(Clone, Debug)]
pub struct ClaimView {
    /// 1-based line of the claim.
    pub line: usize,
    pub verdict: Verdict,
    /// Whether the verdict lets the file pass (an `expect refuted` claim refuted does).
    pub acceptable: bool,
    /// A short label: the verdict and its reason or witness.
    pub label: String,
    /// The full report of the claim (`tq check`'s lines).
    pub detail: String,
    /// A refuted `lhs == rhs` claim whose left side tq derived: the byte range of the
    /// right side and the derived value.
    pub replacement: Option<(usize, usize, String)>,
}

/// The verdicts of one version of a document.
#[derive(Clone, Debug, Default)]
pub struct Verdicts {
    pub version: i32,
    pub claims: Vec<ClaimView>,
    /// Why no claim was decided (errors in the file), if so.
    pub unavailable: Option<String>,
}

/// What the worker delivers.
pub enum Output {
    Derived(Uri, Derived),
    Verdicts(Uri, Verdicts),
    /// A stage panicked: the message, for the log.
    Failed(Uri, i32, String),
}

struct Job {
    uri: Uri,
    version: i32,
    text: String,
    /// When the version was submitted (the queue's clock): a job running is preempted
    /// by a job of another document submitted after it.
    submitted: u64,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Job>,
    latest: HashMap<Uri, i32>,
    /// When each open document was last opened, changed or named by a request (the
    /// queue's clock): the job of the document touched last is taken first.
    touched: HashMap<Uri, u64>,
    clock: u64,
    stopped: bool,
    /// A document was closed: the worker returns its freed memory when idle.
    release: bool,
}

impl Queue {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The job to run next: the one of the document touched last (the one the author is
    /// editing or looking at), not the one opened first (probe38 k08: a small file
    /// opened after ten slow ones waited 22 s for the ten to be decided).
    fn take(&mut self) -> Option<Job> {
        let k = (0..self.pending.len()).max_by_key(|&k| {
            let j = &self.pending[k];
            (self.touched.get(&j.uri).copied().unwrap_or(0), j.submitted)
        })?;
        Some(self.pending.remove(k))
    }

    /// Whether a job of another document was submitted after the running one (`uri`,
    /// submitted at `since`): then the running one gives way at its next stage or claim.
    fn preempted(&self, uri: &Uri, since: u64) -> bool {
        self.pending
            .iter()
            .any(|j| &j.uri != uri && j.submitted > since)
    }
}

/// The handle the server keeps.
pub struct Worker {
    shared: Arc<(Mutex<Queue>, Condvar)>,
}

impl Worker {
    /// Starts the thread; results go to `out`.
    pub fn start(out: Sender<Output>, opts: Options) -> Worker {
        let shared: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("tq-lsp-worker".into())
            .stack_size(STACK_BYTES)
            .spawn(move || run(s, out, opts));
        if let Err(e) = spawned {
            eprintln!("tq lsp: cannot start the background worker: {e}");
        }
        Worker { shared }
    }

    /// Asks for the analysis of a document's version; replaces a waiting job of the
    /// same document. The document is the one touched last: its job is taken next, and
    /// a job of another document that is running gives way to it between two claims
    /// (it is queued again, behind, and resumes from the verdict cache where the
    /// document has one).
    pub fn submit(&self, uri: Uri, version: i32, text: String) {
        let (lock, cv) = &*self.shared;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        let now = q.tick();
        q.latest.insert(uri.clone(), version);
        q.touched.insert(uri.clone(), now);
        q.pending.retain(|j| j.uri != uri);
        q.pending.push(Job {
            uri,
            version,
            text,
            submitted: now,
        });
        cv.notify_one();
    }

    /// A request named an open document (hover, hints, lenses, code actions): its job,
    /// if one waits, is taken next. It does not preempt a running job (an editor asks
    /// for the hints of every visible document: two documents asked for in turn would
    /// keep preempting each other).
    pub fn touch(&self, uri: &Uri) {
        let (lock, _) = &*self.shared;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        if q.latest.contains_key(uri) {
            let now = q.tick();
            q.touched.insert(uri.clone(), now);
        }
    }

    /// Forgets a closed document (its waiting job is dropped, a running one ignored).
    pub fn forget(&self, uri: &Uri) {
        let (lock, cv) = &*self.shared;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        q.latest.remove(uri);
        q.touched.remove(uri);
        q.pending.retain(|j| &j.uri != uri);
        // What the worker allocated for the document (its derived facts, freed by the
        // server's thread) is returned by the worker's own thread.
        q.release = true;
        cv.notify_one();
    }

    pub fn stop(&self) {
        let (lock, cv) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).stopped = true;
        cv.notify_one();
    }
}

/// Whether the running job (`uri` at `version`, submitted at `since`) should stop: its
/// version is stale, or another document's job was submitted after it.
fn should_yield(shared: &(Mutex<Queue>, Condvar), uri: &Uri, version: i32, since: u64) -> bool {
    let q = shared.0.lock().unwrap_or_else(|e| e.into_inner());
    q.stopped || q.latest.get(uri) != Some(&version) || q.preempted(uri, since)
}

/// Puts a preempted job back in the queue, unless its document moved on or closed.
fn requeue(shared: &(Mutex<Queue>, Condvar), job: Job) {
    let mut q = shared.0.lock().unwrap_or_else(|e| e.into_inner());
    if q.latest.get(&job.uri) == Some(&job.version) && !q.pending.iter().any(|j| j.uri == job.uri) {
        q.pending.push(job);
    }
}

fn run(shared: Arc<(Mutex<Queue>, Condvar)>, out: Sender<Output>, opts: Options) {
    let tool = crate::claims::cache::tool_identity();
    loop {
        let job = {
            let (lock, cv) = &*shared;
            let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if q.stopped {
                    return;
                }
                if let Some(job) = q.take() {
                    break job;
                }
                if std::mem::take(&mut q.release) {
                    // Idle after a close: the freed memory back to the system.
                    drop(q);
                    super::server::release_memory();
                    q = lock.lock().unwrap_or_else(|e| e.into_inner());
                    continue;
                }
                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let (uri, version, since) = (job.uri.clone(), job.version, job.submitted);
        let report = match catch_unwind(AssertUnwindSafe(|| quick_report(uri.as_str(), &job.text)))
        {
            Ok(r) => r,
            Err(p) => {
                let _ = out.send(Output::Failed(uri, version, panic_text(&p)));
                continue;
            }
        };
        if should_yield(&shared, &uri, version, since) {
            requeue(&shared, job);
            continue;
        }
        // Stage 1: the backward program and the moments.
        let values = match catch_unwind(AssertUnwindSafe(|| derive_facts(&report, version))) {
            Ok(d) => {
                let values = d.values.clone();
                if out.send(Output::Derived(uri.clone(), d)).is_err() {
                    return;
                }
                values
            }
            Err(p) => {
                let _ = out.send(Output::Failed(uri, version, panic_text(&p)));
                continue;
            }
        };
        if should_yield(&shared, &uri, version, since) {
            requeue(&shared, job);
            continue;
        }
        // Stage 2: the claims, with the verdict cache beside the file (as `tq check`),
        // given up between two claims once a newer version is waiting (its verdicts
        // would be thrown away: the newer version's analysis starts sooner), or once
        // another document was opened or changed (this job is queued again behind it).
        let stale = {
            let (shared, uri) = (shared.clone(), uri.clone());
            claims::Cancel(Arc::new(move || {
                should_yield(&shared, &uri, version, since)
            }))
        };
        let opts = Options {
            // Only beside a file whose folder exists: a buffer for a path not yet saved
            // (`:e newdir/x.tq`) is decided without the cache, and no folder is made for
            // it (probe37 j08: the server created the missing folders).
            cache: tool.as_deref().and_then(|t| {
                file_path(&uri)
                    .filter(|p| p.parent().is_some_and(|d| d.is_dir()))
                    .map(|p| VerdictCache::beside(&p, t))
            }),
            cancel: Some(stale.clone()),
            ..opts.clone()
        };
        match catch_unwind(AssertUnwindSafe(|| {
            decide(&report, version, &opts, &values)
        })) {
            Ok(_) if stale.cancelled() => requeue(&shared, job),
            Ok(v) => {
                if out.send(Output::Verdicts(uri, v)).is_err() {
                    return;
                }
            }
            Err(p) => {
                let _ = out.send(Output::Failed(uri, version, panic_text(&p)));
            }
        }
        // The job's analysis is dropped: its memory back to the system.
        drop(report);
        shared.0.lock().unwrap_or_else(|e| e.into_inner()).release = true;
    }
}

/// A panic's message.
pub fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

fn errors_text(r: &FileReport) -> Option<String> {
    let n = r.diagnostics.iter().filter(|d| d.is_error()).count();
    (n > 0).then(|| {
        format!(
            "the file has {n} error{}: nothing is derived until it checks",
            if n == 1 { "" } else { "s" }
        )
    })
}

/// Whitespace removed: the key under which derived values are looked up.
pub fn value_key(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The statements of a program with its loops removed (a family variable stays free)
/// and every `for` block split into one-line `for` statements: the form of a
/// `claim backprop includes:` block.
pub fn flatten(items: &[Item]) -> Vec<Item> {
    let mut out = Vec::new();
    for it in items {
        match &it.kind {
            ItemKind::Loop(l) => out.extend(flatten(&l.body)),
            ItemKind::ForIndices(f) => {
                for inner in flatten(&f.body) {
                    let merged = match inner.kind {
                        ItemKind::ForIndices(g) => {
                            let mut indices = f.indices.clone();
                            indices.extend(g.indices);
                            crate::syntax::ast::ForIndices {
                                indices,
                                body: g.body,
                                inline: true,
                            }
                        }
                        kind => crate::syntax::ast::ForIndices {
                            indices: f.indices.clone(),
                            body: vec![Item {
                                kind,
                                span: inner.span,
                            }],
                            inline: true,
                        },
                    };
                    out.push(Item {
                        kind: ItemKind::ForIndices(merged),
                        span: it.span,
                    });
                }
            }
            _ => out.push(it.clone()),
        }
    }
    out
}

fn printed(item: &Item) -> String {
    let mut s = String::new();
    print_item(item, 0, &mut s);
    s.trim_end().to_string()
}

/// The tensor key a statement writes the gradient of, if it does.
fn grad_target(item: &Item, r: &FileReport) -> Option<String> {
    match &item.kind {
        ItemKind::Equation(eq) if eq.lhs.grad => Some(r.env.key_of(&eq.lhs.name)),
        ItemKind::ForIndices(f) => f.body.first().and_then(|i| grad_target(i, r)),
        _ => None,
    }
}

/// The tensor a moment line is about: `Var(L_{l + 1}.grad)` → `L`.
fn moment_tensor(name: &str, r: &FileReport) -> Option<String> {
    let inner = name
        .strip_prefix("Var(")
        .or_else(|| name.strip_prefix("E("))?;
    let end = inner.find(['[', '(', ')', '.']).unwrap_or(inner.len());
    let written = inner[..end].trim();
    if r.env.tensors.contains_key(written) || r.env.scalars.contains_key(written) {
        return Some(written.to_string());
    }
    let base = written.split('_').next()?.trim();
    r.env
        .tensors
        .get(base)
        .filter(|t| t.family_arity > 0)
        .map(|_| base.to_string())
}

/// The derived values the editor shows for one version of a checked file (nothing but
/// the reason when it has errors).
pub fn derive_facts(r: &FileReport, version: i32) -> Derived {
    let mut d = Derived {
        version,
        ..Derived::default()
    };
    if let Some(why) = errors_text(r) {
        d.unavailable = Some(why);
        return d;
    }
    let Some(dv) = derive::derivation(r) else {
        d.unavailable = Some("nothing to derive".into());
        return d;
    };
    // The derived values are kept only for what a claim's left side asks (the code
    // action that replaces a refuted claim's right side reads nothing else): every value,
    // adjoint and partial derivative of a 20,000-line scalar program was kept, for no
    // claim (probe38 k14).
    let mut claims = Vec::new();
    claim_items(&r.program.items, &mut claims);
    let asked: std::collections::HashSet<String> = claims
        .iter()
        .filter_map(|c| match &c.kind {
            ItemKind::Claim(claim) => match &claim.body {
                Expr::Rel(RelOp::Eq, lhs, _, _) => Some(value_key(&print_expr(lhs))),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let scatter = flatten(&dv.backward.items);
    for it in &scatter {
        if let Some(k) = grad_target(it, r) {
            d.tensors.entry(k).or_default().scatter.push(printed(it));
        }
    }
    for g in dv.gather {
        for it in flatten(std::slice::from_ref(&g.item)) {
            if let Some(k) = grad_target(&it, r) {
                d.tensors.entry(k).or_default().gather.push(printed(&it));
            }
        }
    }
    if !scatter.is_empty() {
        let mut block = String::from("claim backprop includes:\n");
        for it in &scatter {
            block.push_str("  ");
            block.push_str(&printed(it));
            block.push('\n');
        }
        d.backprop_block = Some(block);
    }
    for m in &dv.moments {
        if let Some(k) = moment_tensor(&m.name, r) {
            d.tensors.entry(k).or_default().moments.push(format!(
                "{} {} {}    [{}]",
                m.shown_name(),
                if m.bound { "<=" } else { "=" },
                m.expr,
                m.note
            ));
        }
        let exact = m.note == "exact" || m.note.starts_with("closed form");
        let key = value_key(&m.name);
        if m.value.is_some() && !m.bound && m.given.is_none() && exact && asked.contains(&key) {
            d.values.insert(key, m.expr.clone());
        }
    }
    for (name, c) in &dv.costs {
        let key = value_key(name);
        if name.starts_with("mults(") && asked.contains(&key) {
            d.values.insert(key, sym::to_ascii(c));
        }
    }
    if let Some(s) = &dv.scalar {
        for q in s.values.iter().chain(&s.adjoints).chain(&s.partials) {
            let key = value_key(&q.name);
            if asked.contains(&key) {
                d.values.insert(key, sym::to_ascii(&q.expr));
            }
        }
    }
    d
}

/// The claim items of a program, nested ones included.
fn claim_items(items: &[Item], out: &mut Vec<Item>) {
    for it in items {
        match &it.kind {
            ItemKind::Claim(_) => out.push(it.clone()),
            ItemKind::Loop(l) => claim_items(&l.body, out),
            _ => {}
        }
    }
}

/// The local path of a `file:` URI (percent-escapes decoded); `None` for other schemes
/// and for paths that are not valid UTF-8 once decoded.
fn file_path(uri: &Uri) -> Option<std::path::PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path`: only the local host (empty or `localhost`).
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        if bytes[k] == b'%' {
            let hex = std::str::from_utf8(bytes.get(k + 1..k + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            k += 3;
        } else {
            out.push(bytes[k]);
            k += 1;
        }
    }
    String::from_utf8(out).ok().map(std::path::PathBuf::from)
}

fn short(text: &str, n: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        let cut: String = one_line.chars().take(n).collect();
        format!("{cut}…")
    }
}

pub fn decide(
    r: &FileReport,
    version: i32,
    opts: &Options,
    values: &HashMap<String, String>,
) -> Verdicts {
    let mut v = Verdicts {
        version,
        ..Verdicts::default()
    };
    if let Some(why) = errors_text(r) {
        v.unavailable = Some(why);
        return v;
    }
    let reports = claims::decide_all(&r.analysis(), &r.source, opts);
    v.claims = claim_views(r, &reports, values);
    v
}

/// The label of a Monte Carlo refutation: the estimates with their standard error and
/// the number of trials, as `tq check` words them (probe37 j07: the hint printed the
/// 160-trial estimate as "left ≈ 0.618741", six digits that read as a computed value).
fn monte_carlo_label(w: &crate::sym::Witness, evidence: &str) -> String {
    let described = w.describe();
    let at = described
        .strip_prefix("at ")
        .and_then(|d| d.split_once(": left"))
        .map(|(p, _)| format!("at {p}: "))
        .unwrap_or_default();
    let first = evidence.split(';').next().unwrap_or("").trim();
    let trials = w.estimate.as_deref().and_then(|e| {
        let k = e.find(" trials")?;
        let n = e[..k].rsplit(|c: char| !c.is_ascii_digit()).next()?;
        (!n.is_empty()).then(|| n.to_string())
    });
    if !first.contains("standard error") {
        return format!("refuted: {}", short(&described, 100));
    }
    let trials = trials.map_or(String::new(), |n| format!(" ({n} trials)"));
    format!("refuted: {at}Monte Carlo {}{trials}", short(first, 100))
}

/// The editor's view of decided claims: labels, details, and the replacement of a
/// refuted claim's right side by a value of `values` (from [`derive_facts`]).
pub fn claim_views(
    r: &FileReport,
    reports: &[claims::ClaimReport],
    values: &HashMap<String, String>,
) -> Vec<ClaimView> {
    let mut out = Vec::new();
    let mut items = Vec::new();
    claim_items(&r.program.items, &mut items);
    // The first claim item of each line, found once (a scan of the text for every item
    // and every refuted claim was cubic in a file of many refuted claims).
    let lines = crate::span::LineIndex::new(&r.source);
    let mut by_line: HashMap<usize, &Item> = HashMap::new();
    for i in &items {
        by_line
            .entry(lines.line_col(i.span.start as usize).0)
            .or_insert(i);
    }
    for c in reports {
        let label = match c.verdict {
            Verdict::Proved => match c.rule {
                Some(rule) => format!("proved [{}]", rule.name()),
                None => format!("proved ({})", c.method),
            },
            Verdict::Confirmed => format!("confirmed ({})", c.method),
            Verdict::Refuted => match &c.witness {
                Some(w) if w.estimate.is_some() => monte_carlo_label(w, &c.evidence),
                Some(w) => format!("refuted: {}", short(&w.describe(), 100)),
                None => format!("refuted: {}", short(&c.evidence, 100)),
            },
            Verdict::Undecided => format!("undecided: {}", short(&c.evidence, 100)),
        };
        // The expectation met, said as the command line says it.
        let label = if c.expect.is_some() && c.acceptable(false) {
            format!("{label} (expected)")
        } else {
            label
        };
        // A claim the file expects to be refuted (`expect refuted`: an exam's planted
        // error) is answered as written: replacing its right side would remove the error
        // and fail the file (probe38 k05).
        let replacement = (c.verdict == Verdict::Refuted && c.expect.is_none())
            .then(|| {
                let item = *by_line.get(&c.line)?;
                let ItemKind::Claim(claim) = &item.kind else {
                    return None;
                };
                if !claim.given.is_empty() || !claim.at.is_empty() || claim.boundary.is_some() {
                    return None;
                }
                let Expr::Rel(RelOp::Eq, lhs, rhs, _) = &claim.body else {
                    return None;
                };
                let value = values.get(&value_key(&print_expr(lhs)))?;
                let s = rhs.span();
                Some((s.start as usize, s.end as usize, value.clone()))
            })
            .flatten();
        out.push(ClaimView {
            line: c.line,
            verdict: c.verdict,
            acceptable: c.acceptable(false),
            label,
            detail: c.text_line(),
            replacement,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    /// A Monte Carlo refutation's label gives the estimates as `tq check` words them,
    /// with the standard error and the number of trials, not six digits (probe37 j07).
    #[test]
    fn a_monte_carlo_label_carries_its_standard_error_and_trials() {
        let values: std::collections::BTreeMap<String, f64> = [("N".to_string(), 3.0)].into();
        let mut w = crate::sym::Witness::of_run(
            &values,
            String::new(),
            0,
            "≈ 0.618741".into(),
            "≈ 0.394000".into(),
            "halves".into(),
        );
        w.estimate = Some("left − right = 0.224741, interval [0.1, 0.3] (z = 6.37 standard errors of 1.63e-2; 160 trials, look 3 of 11, sequential test)".into());
        let evidence = "left 0.6187, right 0.3940, standard error 1.63e-2; left − right = 0.2247 lies beyond 6.37 standard errors";
        let label = super::monte_carlo_label(&w, evidence);
        assert!(label.contains("standard error 1.63e-2"), "{label}");
        assert!(label.contains("(160 trials)"), "{label}");
        assert!(label.contains("left 0.6187"), "{label}");
        assert!(!label.contains("0.618741"), "{label}");
        assert!(label.starts_with("refuted: at N = 3"), "{label}");
    }
}
