//! Claims and their verdicts. Each claim is routed to the engine that can decide it;
//! a claim no engine decides is `undecided` with the reason, never `proved`.

use crate::check::Env;
use crate::report::Options;
use crate::syntax::ast::{Claim, Expectation, Item, ItemKind, Program};
use crate::syntax::span::line_col;
use serde_json::json;

/// The verdict of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Shown symbolically, or by exact rational evaluation at the stated point.
    Proved,
    /// Agrees numerically (random points, Monte Carlo) but is not proved.
    Confirmed,
    /// Shown false, with a counterexample.
    Refuted,
    /// No engine could decide it; the evidence says why.
    Undecided,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proved => "proved",
            Verdict::Confirmed => "confirmed",
            Verdict::Refuted => "refuted",
            Verdict::Undecided => "undecided",
        }
    }
}

/// A decided (or undecided) claim.
#[derive(Clone, Debug)]
pub struct ClaimReport {
    pub line: usize,
    pub column: usize,
    pub source: String,
    pub verdict: Verdict,
    pub method: String,
    pub evidence: String,
    pub expect: Option<Expectation>,
}

impl ClaimReport {
    /// Whether this outcome lets the file pass.
    pub fn acceptable(&self, strict: bool) -> bool {
        match (self.expect, self.verdict) {
            (_, Verdict::Undecided) => !strict,
            (Some(Expectation::Refuted), v) => v == Verdict::Refuted,
            (Some(Expectation::Undecided), _) => false,
            (None, v) => v != Verdict::Refuted,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "line": self.line,
            "column": self.column,
            "source": self.source,
            "verdict": self.verdict.as_str(),
            "method": self.method,
            "evidence": self.evidence,
            "expected": self.expect.map(|e| match e {
                Expectation::Refuted => "refuted",
                Expectation::Undecided => "undecided",
            }),
        })
    }

    pub fn text_line(&self) -> String {
        let expect = match self.expect {
            Some(Expectation::Refuted) => " (expected refuted)",
            Some(Expectation::Undecided) => " (expected undecided)",
            None => "",
        };
        format!(
            "line {:>3}  {:<9}  {}{expect}\n             {}: {}",
            self.line,
            self.verdict.as_str(),
            self.source,
            self.method,
            self.evidence
        )
    }
}

/// Decides every claim of a checked program, in file order.
pub fn decide_all(program: &Program, env: &Env, source: &str, opts: &Options) -> Vec<ClaimReport> {
    let mut out = Vec::new();
    let mut claims = Vec::new();
    collect(&program.items, &mut claims);
    for (item, claim) in claims {
        let (line, column) = line_col(source, item.span.start as usize);
        let (verdict, method, evidence) = decide(claim, program, env, opts);
        out.push(ClaimReport {
            line,
            column,
            source: claim.text.clone(),
            verdict,
            method,
            evidence,
            expect: claim.expect,
        });
    }
    out
}

fn collect<'a>(items: &'a [Item], out: &mut Vec<(&'a Item, &'a Claim)>) {
    for item in items {
        match &item.kind {
            ItemKind::Claim(c) => out.push((item, c)),
            ItemKind::Loop(l) => collect(&l.body, out),
            _ => {}
        }
    }
}

fn decide(
    _claim: &Claim,
    _program: &Program,
    _env: &Env,
    _opts: &Options,
) -> (Verdict, String, String) {
    (
        Verdict::Undecided,
        "none".to_string(),
        "no engine decides this kind of claim yet".to_string(),
    )
}
