//! The typed outcome every claim engine answers with: a verdict, the method it rests
//! on, the evidence in words, the proving rule of a `proved` verdict and the witness of a
//! `refuted` one.

use crate::sym::{self, ProofRule, Witness};
use crate::verdict::{Method, Verdict};

/// A verdict with its method, evidence, proving rule and witness.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub method: Method,
    pub evidence: String,
    /// The rule of a `proved` verdict (docs/soundness.md lists them).
    pub rule: Option<ProofRule>,
    /// The re-checked counterexample of a `refuted` verdict from the exact engine.
    pub witness: Option<Witness>,
    /// Undecided because the scalar lowering met tensor elements or explicit sums (a
    /// side or a given): a sampled run of the model owns such a claim next.
    pub on_elements: bool,
    /// The claim's value holds away from the border (zero padding) and the tensor has
    /// elements on both sides of it at the decided sizes: why Monte Carlo's pool of all
    /// of them decides nothing (compared per position class, never against the pool).
    pub border_pool: Option<String>,
    /// Monte Carlo decided nothing, and the trials' values do not show the relation: a
    /// strict relation whose interval does not exclude equality, or trials that all gave
    /// the same values, at which the relation fails. At a closed end of a symbol's domain
    /// such a point keeps the claim from being confirmed (`confirm_elsewhere`).
    pub open_at_values: bool,
    /// Monte Carlo's estimate is not finite at these values: a side is undefined there
    /// (`x / sqrt(mean x^2)` at v = 0 is 0/0) or overflows. A claim tried at such a point
    /// of its domain is not confirmed (`confirm_elsewhere`; docs/soundness.md,
    /// "Definedness").
    pub not_finite: bool,
    /// Monte Carlo pooled only the elements of a gradient that the backward program
    /// writes, and some are reached by no statement (their gradient is 0): the pool's
    /// moment is no element's. Like [`Outcome::open_at_values`], such a point of the
    /// other sizes keeps the claim from being confirmed (probe37 p02).
    pub unreached: bool,
}

impl Outcome {
    /// A verdict by `method` with no proving rule: a `proved` verdict without one is
    /// not counted as a proof (`decide_all` makes it undecided).
    pub fn new(verdict: Verdict, method: Method, evidence: impl Into<String>) -> Outcome {
        Outcome {
            verdict,
            method,
            evidence: evidence.into(),
            rule: None,
            witness: None,
            on_elements: false,
            border_pool: None,
            open_at_values: false,
            not_finite: false,
            unreached: false,
        }
    }

    /// A proof by `rule`, reached by `method`.
    pub fn proved(rule: ProofRule, method: Method, evidence: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Proved,
            method,
            evidence: evidence.into(),
            rule: Some(rule),
            witness: None,
            on_elements: false,
            border_pool: None,
            open_at_values: false,
            not_finite: false,
            unreached: false,
        }
    }

    /// A verdict by `method` that is proved by `rule` when it is `proved`.
    pub fn by_rule(
        verdict: Verdict,
        rule: ProofRule,
        method: Method,
        evidence: impl Into<String>,
    ) -> Outcome {
        let mut o = Outcome::new(verdict, method, evidence);
        o.rule = (verdict == Verdict::Proved).then_some(rule);
        o
    }

    /// Nothing decided the claim; `why` says why.
    pub fn undecided(why: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Undecided, Method::None, why)
    }

    /// The exact engine's decision.
    pub fn from_decision(d: sym::Decision) -> Outcome {
        Outcome {
            verdict: d.verdict,
            method: d.method,
            evidence: d.evidence,
            rule: d.rule,
            witness: d.witness,
            on_elements: false,
            border_pool: None,
            open_at_values: false,
            not_finite: false,
            unreached: false,
        }
    }
}
