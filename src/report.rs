//! The pipeline for one file: parse, check, decide the claims; and the report that
//! the command line prints as text or JSON. No IO here: the caller reads the file.

use crate::analysis::{Analysis, Derived};
use crate::check;
use crate::claims::{self, ClaimReport, Verdict};
use crate::diag::{Diagnostic, Severity};
use crate::num::gradcheck::{self, GradCheck};
use crate::syntax::ast::{ItemKind, Program};
use crate::syntax::parser;
use crate::syntax::span::Span;
use serde_json::json;

pub use crate::claims::Options;

/// Everything tq says about one file.
#[derive(Debug)]
pub struct FileReport {
    pub path: String,
    pub source: String,
    pub program: Program,
    pub env: check::Env,
    pub diagnostics: Vec<Diagnostic>,
    pub claims: Vec<ClaimReport>,
    /// The codes of the file's `expect error CODE` lines (joined by ", " when there are
    /// several), and whether every one of them was reported.
    pub expected_error: Option<(String, bool)>,
    /// Gradient checks of the derived backward program (empty when the file has no
    /// differentiable program).
    pub gradcheck: Vec<GradCheck>,
    /// Why the gradient check could not run, when it could not.
    pub gradcheck_skipped: Option<String>,
    /// What tq derived from the program, computed once (read it through [`FileReport::analysis`]).
    pub derived: Derived,
}

impl FileReport {
    /// The report of a file that could not be read or decoded: nothing but the
    /// diagnostic that says why (over `source`, what could be shown of the file).
    pub fn unreadable(path: &str, source: String, diagnostic: Diagnostic) -> FileReport {
        FileReport {
            path: path.to_string(),
            source,
            program: Program { items: Vec::new() },
            env: check::Env::default(),
            diagnostics: vec![diagnostic],
            claims: Vec::new(),
            expected_error: None,
            gradcheck: Vec::new(),
            gradcheck_skipped: None,
            derived: Derived::new(),
        }
    }

    /// The file's one analysis: the program, its environment and the derived values.
    pub fn analysis(&self) -> Analysis<'_> {
        Analysis::new(&self.program, &self.env, &self.derived)
    }

    /// Errors that count against the file (an expected error does not).
    pub fn unexpected_errors(&self) -> usize {
        match &self.expected_error {
            Some((_, true)) => 0,
            _ => self.diagnostics.iter().filter(|d| d.is_error()).count(),
        }
    }

    /// Whether the file passes `tq check`.
    pub fn passed(&self, opts: &Options) -> bool {
        self.unexpected_errors() == 0
            && self.claims.iter().all(|c| c.acceptable(opts.strict))
            && self.gradcheck.iter().all(|g| g.passed)
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.claims.iter().filter(|c| c.verdict == v).count()
    }

    /// The JSON object of the command-line contract.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "path": self.path,
            "diagnostics": ({
                let lines = crate::span::LineIndex::new(&self.source);
                self.diagnostics.iter().map(|d| d.to_json_at(&lines)).collect::<Vec<_>>()
            }),
            "expected_error": self.expected_error.as_ref().map(|(c, found)| json!({"code": c, "reported": found})),
            "claims": self.claims.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
            "gradcheck": self.gradcheck.iter().map(|g| g.to_json()).collect::<Vec<_>>(),
            "gradcheck_skipped": self.gradcheck_skipped,
        })
    }
}

/// A file's bytes as text: a UTF-8 byte-order mark at the start is dropped (so spans and
/// columns count from the first character after it); bytes that are not UTF-8 give
/// E0002 at the first bad byte, with the text decoded lossily (each bad sequence shown
/// as U+FFFD) so that the diagnostic can be drawn and located.
pub fn decode_source(bytes: &[u8]) -> Result<String, Box<(String, Diagnostic)>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            let (line, column) = crate::span::line_col(&lossy, at);
            let bad = e.error_len().unwrap_or(bytes.len() - at);
            let shown: Vec<String> = bytes[at..at + bad]
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            let span = crate::span::Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8());
            let d = Diagnostic::error(
                "E0002",
                span,
                format!("the file is not valid UTF-8: byte {at} ({}) at line {line}, column {column}", shown.join(" ")),
            )
            .with_label("not UTF-8")
            .with_hint("save the file as UTF-8 (tq reads only UTF-8 text; a byte-order mark at the start is allowed)");
            Err(Box::new((lossy, d)))
        }
    }
}

/// A rough rank of how long checking a file's text takes, read from the text alone
/// (no parse): its moment claims (`Var(`, `E(`, `E[`, `Cov(` on a claim line: Monte
/// Carlo), five for each `includes` block (runs of every derived statement), one for
/// each incoming gradient or loss (the gradient check), and its length in kilobytes.
/// `tq check DIR` starts the files with the highest rank first, so that a long file
/// does not start last and run alone on one core; the reports still come back in file
/// order. Only an order: no verdict depends on it.
pub fn cost_hint(source: &str) -> u64 {
    let mut rank = (source.len() / 1000) as u64;
    for line in source.lines() {
        let line = line.split('#').next().unwrap_or("").trim_start();
        if line.starts_with("claim") {
            if ["Var(", "E(", "E[", "Cov("]
                .iter()
                .any(|m| line.contains(m))
            {
                rank += 1;
            }
            if line.contains("includes") {
                rank += 5;
            }
        } else if line.starts_with("grad ") || line.starts_with("loss") {
            rank += 1;
        }
    }
    rank
}

/// The order in which to check files of the given texts: the highest [`cost_hint`]
/// first, files of the same rank in their own order.
pub fn costliest_first<'s>(sources: impl IntoIterator<Item = &'s str>) -> Vec<usize> {
    let hints: Vec<u64> = sources.into_iter().map(cost_hint).collect();
    let mut order: Vec<usize> = (0..hints.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(hints[k]));
    order
}

/// Runs the pipeline on one file's bytes ([`decode_source`], then [`check_source`]).
pub fn check_bytes(path: &str, bytes: &[u8], opts: &Options) -> FileReport {
    match decode_source(bytes) {
        Ok(src) => check_source(path, &src, opts),
        Err(e) => {
            let (shown, d) = *e;
            FileReport::unreadable(path, shown, d)
        }
    }
}

/// The stack of the gradient check's thread: the same as the binary gives every thread
/// that runs the pipeline (the interpreter's walks recurse over expressions).
const GRADCHECK_STACK_BYTES: usize = 64 << 20;

/// A file's text checked: the program as every later stage reads it (members and
/// derived sizes expanded, index capitals resolved to their sizes), its environment
/// and its diagnostics, sorted.
pub struct Checked {
    pub program: Program,
    pub env: check::Env,
    pub diagnostics: Vec<Diagnostic>,
}

/// The front end every reader of a file shares: `tq check` ([`check_source`]) and the
/// language server (`lsp::document::quick_report`) build the program and environment
/// here, so that an editor's verdicts are `tq check`'s (the server once skipped the
/// index capitals' resolution: `DX` stayed a free symbol in its claims). `source` has
/// its line ends normalized already.
pub fn check_front(source: &str) -> Checked {
    let mut parsed = parser::parse(source);
    let mut diagnostics = std::mem::take(&mut parsed.diagnostics);
    let (member_diags, derived_sizes) =
        check::members::expand_derived(&mut parsed.program, &mut parsed.unparsed);
    diagnostics.extend(member_diags);
    let (mut env, check_diags) =
        check::check_expanded(&parsed.program, &parsed.unparsed, &derived_sizes);
    env.derived_sizes = derived_sizes.clone();
    check::resolve_index_capitals(&mut parsed.program, &env);
    diagnostics.extend(check_diags);
    if !diagnostics.iter().any(|d| d.is_error()) {
        diagnostics.extend(check::outputs::check(&parsed.program, &env, &derived_sizes));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    Checked {
        program: parsed.program,
        env,
        diagnostics,
    }
}

/// Runs the pipeline on one file's text.
pub fn check_source(path: &str, source: &str, opts: &Options) -> FileReport {
    let source = &*crate::span::normalize_line_ends(source);
    let Checked {
        program,
        env,
        mut diagnostics,
    } = check_front(source);
    let has_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    // The file's exact work budget, or its share when several checks share one file's
    // budgets (`tq variants --count K`: 1/K each, docs/cli.md).
    let derived = Derived::with_exact_limit(opts.exact_share(crate::sym::EXACT_FILE_WORK));
    // Every `expect error CODE` line is checked: one that is not reported is E0503 at its
    // own line (a second line was dropped silently: fixd33_open/two_expect_errors.tq).
    // The report keeps the codes together, reported only when every one of them is.
    let expects: Vec<(String, Span)> = program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::ExpectError(code) => Some((code.name.clone(), i.span)),
            _ => None,
        })
        .collect();
    let mut missing = Vec::new();
    for (code, span) in &expects {
        if !diagnostics.iter().any(|d| d.is_error() && d.code == *code) {
            missing.push(
                Diagnostic::error(
                    "E0503",
                    *span,
                    format!("the file expects error {code}, which was not reported"),
                )
                .with_hint("fix the transcription, or the expectation"),
            );
        }
    }
    let expected_error = (!expects.is_empty()).then(|| {
        let codes: Vec<&str> = expects.iter().map(|(c, _)| c.as_str()).collect();
        (codes.join(", "), missing.is_empty())
    });
    diagnostics.extend(missing);
    // The same test as `FileReport::unexpected_errors() == 0` on the finished report.
    let unexpected_errors = match &expected_error {
        Some((_, true)) => 0,
        _ => diagnostics.iter().filter(|d| d.is_error()).count(),
    };
    let derivable = !opts.no_numeric
        && !opts.no_gradcheck
        && unexpected_errors == 0
        && expected_error.is_none();
    // Files checked together share one file's memory budget: the claims and the
    // gradient check below allocate this file's values (`claims::MemoryGate`).
    let memory = opts
        .memory
        .as_ref()
        .filter(|_| !has_errors)
        .map(|g| g.enter(env.sample_values));
    // The claims and the gradient check read the same analysis and nothing of each
    // other: the gradient check runs on a thread of its own beside the claims (the
    // derived programs are computed once, by whichever asks first).
    let (claims, gradcheck) = {
        let a = Analysis::new(&program, &env, &derived);
        let decide = || {
            if has_errors || opts.no_claims {
                Vec::new()
            } else {
                claims::decide_all(&a, source, opts)
            }
        };
        let check = || {
            derivable
                .then(|| file_gradcheck(&a, source, opts))
                .flatten()
        };
        std::thread::scope(|s| {
            match std::thread::Builder::new()
                .stack_size(GRADCHECK_STACK_BYTES)
                .spawn_scoped(s, check)
            {
                Ok(t) => {
                    let claims = decide();
                    match t.join() {
                        Ok(g) => (claims, g),
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
                // No thread: one after the other.
                Err(_) => (decide(), check()),
            }
        })
    };
    drop(memory);
    if std::env::var_os("TQ_DEBUG_EXACT_WORK").is_some() {
        eprintln!(
            "exact work: {} of {}",
            derived.exact_work_used(),
            opts.exact_share(crate::sym::EXACT_FILE_WORK)
        );
    }
    let mut report = FileReport {
        path: path.to_string(),
        source: source.to_string(),
        program,
        env,
        diagnostics,
        claims,
        expected_error,
        gradcheck: Vec::new(),
        gradcheck_skipped: None,
        derived,
    };
    match gradcheck {
        Some(Ok(g)) => report.gradcheck = g,
        Some(Err(e)) => report.gradcheck_skipped = Some(e),
        None => {}
    }
    report
}

/// The gradient check of a file whose program has a derived backward program (`None`
/// when it has none), read from the verdict cache when it holds it.
fn file_gradcheck(
    a: &Analysis,
    source: &str,
    opts: &Options,
) -> Option<Result<Vec<GradCheck>, String>> {
    if a.backward().items.is_empty() {
        // No program, with a reason (a value that is a derivative): not run, and why.
        return a
            .backward()
            .notes
            .first()
            .filter(|n| n.starts_with("no backpropagation program"))
            .map(|n| Err(n.clone()));
    }
    // The verdict cache holds the gradient check too, under the program without its
    // claims (which the check does not read) and the seed.
    let key = opts.cache.as_ref().map(|c| {
        let mut spans = Vec::new();
        claims::claim_items(&a.program.items, &mut spans);
        let context = claims::cache::context(source, &spans);
        // A share of the budget (many variants checked together) is part of the key.
        let budget = opts.work_share(gradcheck::BUDGET);
        let key = if budget == gradcheck::BUDGET {
            c.key(&["gradcheck", &context, &opts.seed.to_string()])
        } else {
            c.key(&[
                "gradcheck",
                &context,
                &opts.seed.to_string(),
                &budget.to_string(),
            ])
        };
        (c, key)
    });
    let cached = key
        .as_ref()
        .and_then(|(c, k)| c.get_value(k))
        .and_then(|v| gradcheck_from_json(&v));
    if let Some(r) = cached {
        return Some(r);
    }
    if let Some(p) = &opts.progress {
        p.say("gradient check");
    }
    // Checks that share one file's budgets past `claims::options::FULL_WORK_SHARES`
    // (`tq variants --count K`) each get their share of the evaluations.
    let r = gradcheck::gradcheck_within(
        a.program,
        a.env,
        &a.backward().items,
        &a.gather_items(),
        a.loss(),
        opts.seed,
        opts.work_share(gradcheck::BUDGET),
        &opts.share_note(),
    )
    .map_err(|e| e.message);
    if let Some((c, k)) = &key {
        c.put_value(k, gradcheck_to_json(&r));
    }
    Some(r)
}

/// A gradient check's result as a verdict cache entry.
fn gradcheck_to_json(r: &Result<Vec<GradCheck>, String>) -> serde_json::Value {
    match r {
        // The error as Rust prints it (the shortest text that parses back to the same
        // f64): JSON numbers do not always read back to the last bit.
        Ok(g) => json!({ "checks": g.iter().map(|g| json!({
            "tensor": g.tensor,
            "max_rel_error": format!("{:?}", g.max_rel_error),
            "passed": g.passed,
            "at_kink": g.at_kink,
        })).collect::<Vec<_>>() }),
        Err(e) => json!({ "skipped": e }),
    }
}

/// The inverse of [`gradcheck_to_json`]; `None` on anything unexpected (the check then
/// runs again).
fn gradcheck_from_json(v: &serde_json::Value) -> Option<Result<Vec<GradCheck>, String>> {
    if let Some(e) = v.get("skipped") {
        return Some(Err(e.as_str()?.to_string()));
    }
    let checks = v.get("checks")?.as_array()?;
    Some(Ok(checks
        .iter()
        .map(|g| {
            Some(GradCheck {
                tensor: g["tensor"].as_str()?.to_string(),
                max_rel_error: g["max_rel_error"].as_str()?.parse().ok()?,
                passed: g["passed"].as_bool()?,
                at_kink: usize::try_from(g["at_kink"].as_u64()?).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?))
}

/// The `summary` object of the JSON contract over several files.
pub fn summary_json(reports: &[FileReport]) -> serde_json::Value {
    let mut tally = Tally::default();
    reports.iter().for_each(|r| tally.add(r));
    tally.to_json()
}

/// The counts of `summary_json`, added file by file, so that a caller that keeps only
/// each file's output (`tq check DIR`) need not keep its report.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub files: usize,
    pub claims: usize,
    pub proved: usize,
    pub confirmed: usize,
    pub refuted: usize,
    pub undecided: usize,
    pub errors: usize,
}

impl Tally {
    /// The counts of one file.
    pub fn of(r: &FileReport) -> Tally {
        let mut t = Tally::default();
        t.add(r);
        t
    }

    pub fn add(&mut self, r: &FileReport) {
        self.merge(&Tally {
            files: 1,
            claims: r.claims.len(),
            proved: r.count(Verdict::Proved),
            confirmed: r.count(Verdict::Confirmed),
            refuted: r.count(Verdict::Refuted),
            undecided: r.count(Verdict::Undecided),
            errors: r.unexpected_errors(),
        });
    }

    pub fn merge(&mut self, t: &Tally) {
        self.files += t.files;
        self.claims += t.claims;
        self.proved += t.proved;
        self.confirmed += t.confirmed;
        self.refuted += t.refuted;
        self.undecided += t.undecided;
        self.errors += t.errors;
    }

    /// The `summary` object of the command-line contract.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "files": self.files,
            "claims": self.claims,
            "proved": self.proved,
            "confirmed": self.confirmed,
            "refuted": self.refuted,
            "undecided": self.undecided,
            "errors": self.errors,
        })
    }
}

/// The plain-text report of one file (diagnostics drawn without colour unless a
/// theme is given).
pub fn text_report(
    r: &FileReport,
    opts: &Options,
    theme: Option<miette::GraphicalTheme>,
) -> String {
    let mut out = String::new();
    let status = if r.passed(opts) { "ok" } else { "FAILED" };
    out.push_str(&format!(
        "{}: {status} — {} claim{}: {} proved, {} confirmed, {} refuted, {} undecided",
        r.path,
        r.claims.len(),
        if r.claims.len() == 1 { "" } else { "s" },
        r.count(Verdict::Proved),
        r.count(Verdict::Confirmed),
        r.count(Verdict::Refuted),
        r.count(Verdict::Undecided),
    ));
    if let Some((code, found)) = &r.expected_error {
        out.push_str(&format!(
            "; expected error {code} {}",
            if *found { "reported" } else { "NOT reported" }
        ));
    }
    out.push('\n');
    if !r.diagnostics.is_empty() {
        let rendered = match theme {
            Some(t) => crate::diag::render_with(&r.path, &r.source, &r.diagnostics, t),
            None => crate::diag::render_plain(&r.path, &r.source, &r.diagnostics),
        };
        for line in rendered.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    for c in &r.claims {
        out.push_str(&format!("  {}\n", c.text_line()));
    }
    if !r.gradcheck.is_empty() {
        let worst = r
            .gradcheck
            .iter()
            .map(|g| g.max_rel_error)
            .fold(0.0, f64::max);
        let failed: Vec<&str> = r
            .gradcheck
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.tensor.as_str())
            .collect();
        if failed.is_empty() {
            out.push_str(&format!(
                "  gradcheck  passed  {} checks, max relative error {worst:.1e}\n",
                r.gradcheck.len()
            ));
            for g in r.gradcheck.iter().filter(|g| g.at_kink > 0) {
                out.push_str(&format!(
                    "  gradcheck  note    {}: elements on a kink at the sampled point (relu or abs at 0: a step of that element alone crosses it), left out of the directions checked: {}\n",
                    g.tensor, g.at_kink
                ));
            }
        } else {
            for g in r.gradcheck.iter().filter(|g| !g.passed) {
                // An infinite error is no measured error: every direction drawn crossed a
                // kink (docs/numeric.md), and the line says so (it read "relative error
                // inf > 1e-6": fixd33_open/kink.tq).
                if g.max_rel_error.is_infinite() {
                    out.push_str(&format!(
                        "  gradcheck  FAILED  {}: not checked: every direction drawn ({}) crosses a kink (relu or abs at 0), so the sampled point sits on one, where there is no derivative to compare; choose a point off the kink\n",
                        g.tensor,
                        gradcheck::MAX_STRADDLES + 1
                    ));
                    continue;
                }
                out.push_str(&format!(
                    "  gradcheck  FAILED  {}: relative error {:.3e} > {:.0e}\n",
                    g.tensor,
                    g.max_rel_error,
                    gradcheck::THRESHOLD
                ));
            }
        }
    }
    if let Some(why) = &r.gradcheck_skipped {
        out.push_str(&format!("  gradcheck  not run: {why}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{cost_hint, costliest_first};

    #[test]
    fn the_costliest_looking_files_come_first_ties_in_file_order() {
        let plain = "size N\nparam W[N] ~ normal(0, 1)\n";
        let moments = "size N\nparam W[N] ~ normal(0, 1)\nclaim Var(W) == 1\nclaim E(W) == 0\n";
        let includes =
            "grad h ~ normal(0, 1)\nclaim backprop includes:\n  W.grad[i] += h.grad[i]\n";
        // A commented-out claim counts for nothing.
        let commented = "# claim Var(W) == 1\n# claim backprop includes:\n";
        assert_eq!(cost_hint(plain), 0);
        assert_eq!(cost_hint(moments), 2);
        assert_eq!(cost_hint(includes), 6);
        assert_eq!(cost_hint(commented), 0);
        assert_eq!(
            costliest_first([plain, moments, commented, includes]),
            vec![3, 1, 0, 2]
        );
    }
}
