//! A variant's answers written out: Markdown, LaTeX and JSON.

use super::*;

/// A checked variant.
pub struct Variant {
    pub prepared: Prepared,
    pub report: FileReport,
}

impl Variant {
    /// A prepared variant with its check. A variant that is no model (a derived size not
    /// a whole number of at least 1 at its values, [`Prepared::invalid`]) fails: its
    /// report carries E0412 with the reason, and no claim of it is decided (its check ran
    /// on the expanded program, where the derived size is a plain size under its relation,
    /// and proved `mults(y) == B Y D` with Y = 5/2: probe34 p09).
    pub fn new(prepared: Prepared, mut report: FileReport) -> Variant {
        if let Some(why) = &prepared.invalid {
            report.claims.clear();
            report.gradcheck.clear();
            report.diagnostics.push(
                crate::diag::Diagnostic::error(
                    "E0412",
                    Span::default(),
                    format!("this variant is no model: {why}"),
                )
                .with_hint("choose `vary` values at which every derived size is a whole number of at least 1 (a derived size written with `floor(...)` or `ceil(...)` is whole at every value)"),
            );
        }
        Variant { prepared, report }
    }

    pub(super) fn claims(&self) -> Vec<(Claim, Option<&crate::claims::ClaimReport>)> {
        crate::render::claims_with_reports(&self.report)
    }

    /// Each derivation as one row: its name, the chain as a claim, its answer, and the
    /// report of its weakest step (refuted, then undecided, then confirmed, else the last).
    #[allow(clippy::type_complexity)]
    pub(super) fn derivation_rows(
        &self,
    ) -> Vec<(
        String,
        &Claim,
        Result<&String, &String>,
        Option<&ClaimReport>,
    )> {
        let rank = |v: Verdict| match v {
            Verdict::Refuted => 0,
            Verdict::Undecided => 1,
            Verdict::Confirmed => 2,
            _ => 3,
        };
        self.prepared
            .derivations
            .iter()
            .map(|(name, c, a)| {
                let prefix = format!("{name} step ");
                let rep = self
                    .report
                    .claims
                    .iter()
                    .filter(|r| r.source.starts_with(&prefix))
                    .min_by_key(|r| rank(r.verdict));
                (format!("derivation {name}"), c, a.as_ref(), rep)
            })
            .collect()
    }

    /// The index among the prepared claims (`Prepared::answers`) of row `j` of the
    /// variant's report: the same claim text, counted in order, so that a claim of the
    /// variant that failed to parse takes its answer with it instead of shifting every
    /// later answer by one row.
    pub(super) fn slot(&self, j: usize, c: &Claim) -> Option<usize> {
        let text = crate::syntax::printer::print_claim_body(c);
        let claims = self.claims();
        let before = claims
            .iter()
            .take(j)
            .filter(|(o, _)| crate::syntax::printer::print_claim_body(o) == text)
            .count();
        self.prepared
            .claim_texts
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == text)
            .nth(before)
            .map(|(k, _)| k)
    }

    /// Whether every claim came out as expected and nothing failed.
    pub fn passed(&self) -> bool {
        self.report.passed(&crate::report::Options::default())
    }

    /// Why the variant did not pass, in words (`tq export`'s note when it is left out):
    /// what it is not, the first claim that did not come out as expected and what it came
    /// out as, or the gradient that failed its check. The note said "a claim refuted or a
    /// gradient check failed" when an `expect refuted` claim held (probe36 b09).
    pub fn why_failed(&self) -> String {
        if let Some(why) = &self.prepared.invalid {
            return format!("it is no model ({why})");
        }
        if let Some(d) = self.report.diagnostics.iter().find(|d| d.is_error()) {
            return format!("its check reports {}: {}", d.code, d.message);
        }
        let opts = crate::report::Options::default();
        if let Some(c) = self
            .report
            .claims
            .iter()
            .find(|c| !c.acceptable(opts.strict))
        {
            let got = verdict_word(c.verdict);
            let what = match c.expect {
                Some(Expectation::Refuted) if c.verdict == Verdict::Undecided => {
                    "is expected refuted, but is undecided at this variant's values".to_string()
                }
                Some(Expectation::Refuted) => {
                    format!("is expected refuted, but holds at this variant's values ({got})")
                }
                Some(Expectation::Undecided) => {
                    format!("is expected undecided, but is {got} at this variant's values")
                }
                None => format!("is {got} at this variant's values"),
            };
            return format!("the claim `{}` {what}", c.source);
        }
        if let Some(g) = self.report.gradcheck.iter().find(|g| !g.passed) {
            return format!("the gradient check of `{}` failed", g.tensor);
        }
        "it did not pass tq's check".to_string()
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Proved => "proved",
        Verdict::Confirmed => "confirmed",
        Verdict::Refuted => "refuted",
        Verdict::Undecided => "undecided",
    }
}

/// The variant's values as math for its heading. A whole number past the lexer's 40
/// digits (`vary s in {2^1000}`) is typeset as the exact engine shows a long integer,
/// by its leading digits and its power of ten (probe33/b b18: the heading printed 302
/// digits and ran 1,794 pt past the page).
pub(super) fn values_math(v: &Prepared) -> String {
    v.values
        .iter()
        .map(|(n, x)| format!("{} = {}", math::ident(n), value_math(x)))
        .collect::<Vec<_>>()
        .join(",\\ ")
}

/// One value of [`values_math`].
pub(super) fn value_math(x: &str) -> String {
    let digits = x.trim_start_matches('-');
    let long =
        digits.len() > crate::sym::SOURCE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit());
    if long {
        if let Ok(e) = crate::sym::parse_ascii(x) {
            return crate::sym::to_latex(&e);
        }
    }
    math::expr(&num_expr(x))
}

/// The heading of the variants page as runs of text and math: the file's path is text
/// (escaped by each format), the varied names are math (`sigma_W` is $\sigma_{W}$).
pub(super) fn heading(path: &str, plan: &Plan, seed: u64) -> Vec<Inline> {
    let mut runs = vec![Inline::Text(format!(
        "{} variant{} of {path} (seed {seed}; {} distinct combination{} of ",
        plan.chosen.len(),
        if plan.chosen.len() == 1 { "" } else { "s" },
        // The count saturates: past 2^64 - 1 it is "more than" (probe38 k04 printed
        // 18446744073709551615 for 10^144 combinations).
        if plan.available == u64::MAX {
            "more than 10^19".to_string()
        } else {
            plan.available.to_string()
        },
        if plan.available == 1 { "" } else { "s" },
    ))];
    for (k, n) in plan.names.iter().enumerate() {
        if k > 0 {
            runs.push(Inline::Text(", ".into()));
        }
        runs.push(Inline::Math(math::ident(n)));
    }
    let mut s = ")".to_string();
    if (plan.requested as u64) > plan.available {
        s.push_str(&format!(
            "; {} were asked for, but only {} distinct exist",
            plan.requested, plan.available
        ));
    }
    if plan.chosen.len() > 1 {
        s.push_str(&format!(
            "; the {} variants share one file's Monte Carlo budget",
            plan.chosen.len()
        ));
    }
    runs.push(Inline::Text(s));
    runs
}

pub(super) fn verdict_of(rep: Option<&crate::claims::ClaimReport>) -> String {
    match rep {
        Some(r) if r.expect == Some(Expectation::Refuted) => {
            format!("{} (expected refuted)", r.verdict.as_str())
        }
        Some(r) => r.verdict.as_str().to_string(),
        None => "not decided".into(),
    }
}

/// The answer of claim `j` of a variant, as runs of text and math: the value tq computed
/// for the variant; else, for a claim tq proved or confirmed in this variant, the right
/// side as stated (a constant that holds here); for a claim stated to be false that tq
/// refuted, "false" and how it was refuted; else why there is no answer (every blank of
/// a page says why: session 31).
pub(super) fn answer(
    v: &Variant,
    j: usize,
    c: &Claim,
    rep: Option<&ClaimReport>,
) -> Result<Vec<Inline>, String> {
    if let Some(why) = &v.prepared.invalid {
        return Err(format!("this variant is left out: {why}"));
    }
    let slot = v.slot(j, c);
    let j = slot.unwrap_or(usize::MAX);
    if let Some(a) = v.prepared.answers.get(j).cloned().flatten() {
        // A value for a claim no engine decided in this variant is not an answer: the
        // value may rest on what the check could not confirm (probe 30c f21: the
        // moments engine's N_3 g^2/(2 N_1) for a claim `tq check` leaves undecided, and
        // false). It is shown, marked as not checked.
        let decided = rep.is_some_and(|r| r.verdict != Verdict::Undecided);
        if !decided {
            let mut runs = vec![Inline::Strong("not an answer".into())];
            runs.push(Inline::Text(" (tq computed ".into()));
            runs.push(Inline::Math(a));
            runs.push(Inline::Text(
                ", but no engine decided the claim in this variant: its verdict says why)".into(),
            ));
            return Ok(runs);
        }
        // A value the claim's check refuted in this variant is the claim's right side
        // at the variant's values, not the answer (issue #17: the key showed it as the
        // answer): marked false, with the evidence, which gives the value tq derived.
        if let Some(rep) = rep.filter(|r| r.verdict == Verdict::Refuted) {
            if c.expect != Some(Expectation::Refuted) {
                let mut runs = vec![Inline::Strong("not an answer".into())];
                runs.push(Inline::Text(" (the claim's value here, ".into()));
                runs.push(Inline::Math(a));
                runs.push(Inline::Text(format!(
                    ", is false at this variant's values; {}: ",
                    rep.method.as_str()
                )));
                runs.extend(crate::render::prose::prose(&rep.evidence));
                runs.push(Inline::Text(")".into()));
                return Ok(runs);
            }
        }
        return Ok(vec![Inline::Math(a)]);
    }
    let budget = v.prepared.budget_spent.get(j).cloned().flatten();
    let Some(rep) = rep else {
        return Err("the claim was not checked in this variant".into());
    };
    let undecided = |rep: &ClaimReport| match rep.verdict {
        Verdict::Refuted => "tq refuted it at this variant's values".to_string(),
        _ => format!(
            "tq did not decide it at this variant's values ({})",
            rep.verdict.as_str()
        ),
    };
    if c.expect == Some(Expectation::Refuted) {
        // Decided at the variant's values (`prepare`): where it holds there, the page
        // says so (and the variant fails its check: no page asks to find an error that
        // is not one).
        if matches!(rep.verdict, Verdict::Proved | Verdict::Confirmed) {
            return Ok(vec![Inline::Strong(format!(
                "holds at this variant's values ({})",
                rep.verdict.as_str()
            ))]);
        }
        if rep.verdict != Verdict::Refuted {
            return Err(format!("stated to be false, but {}", undecided(rep)));
        }
        let mut runs = vec![Inline::Strong("false".into())];
        runs.push(Inline::Text(format!(" ({}: ", rep.method.as_str())));
        runs.extend(crate::render::prose::prose(&rep.evidence));
        runs.push(Inline::Text(")".into()));
        return Ok(runs);
    }
    // Refuted in the variant, with no value computed for it here (a stated constant
    // under givens, a right side tq has no value of): never the right side as the
    // answer, and not a bare blank either (probe34 p20: "— (tq refuted it ...)"): the
    // cell says **not an answer**, with the stated value when it is a constant, that it
    // is false here, and how tq refuted it (the evidence gives the value tq derived).
    if rep.verdict == Verdict::Refuted {
        let mut runs = vec![Inline::Strong("not an answer".into())];
        match &c.body {
            Expr::Rel(_, _, rhs, _) if is_constant(rhs) => {
                runs.push(Inline::Text(" (the claim's value here, ".into()));
                runs.push(Inline::Math(math::expr(rhs)));
                runs.push(Inline::Text(format!(
                    ", is false at this variant's values; {}: ",
                    rep.method.as_str()
                )));
            }
            _ => runs.push(Inline::Text(format!(
                " (the claim is false at this variant's values; {}: ",
                rep.method.as_str()
            ))),
        }
        runs.extend(crate::render::prose::prose(&rep.evidence));
        runs.push(Inline::Text(")".into()));
        return Ok(runs);
    }
    if !matches!(rep.verdict, Verdict::Proved | Verdict::Confirmed) {
        return Err(budget.unwrap_or_else(|| undecided(rep)));
    }
    if let Some(block) = &c.includes {
        return Ok(vec![Inline::Text(format!(
            "holds: each of the {} statements is a statement of the derived backward program or the sum of several",
            block.len()
        ))]);
    }
    match &c.body {
        Expr::Rel(RelOp::Eq | RelOp::Approx, _, rhs, _) if is_constant(rhs) => {
            Ok(vec![Inline::Math(math::expr(rhs))])
        }
        // An inequality whose sides have no value here (a moment without a closed
        // form): it holds, as the verdict says.
        Expr::Rel(RelOp::Le | RelOp::Ge | RelOp::Lt | RelOp::Gt, ..) => Ok(vec![Inline::Text(
            format!("holds ({})", rep.verdict.as_str()),
        )]),
        _ => Err(budget.unwrap_or_else(|| {
            "tq has no exact value of its right side at this variant's values (a moment the moments engine does not give in closed form, or a formula undefined there)".to_string()
        })),
    }
}

/// The answer cell of a derivation row: its last line at the variant's values when every
/// step held; when a step was refuted, "false" (a planted wrong step, `expect refuted`)
/// or "not an answer", with how tq refuted it; else why there is none (probe36 b22: the
/// planted wrong value of a refuted chain was shown as the answer).
pub(super) fn derivation_answer(
    a: Result<&String, &String>,
    rep: Option<&ClaimReport>,
) -> Result<Vec<Inline>, String> {
    let a = a.map_err(|why| why.clone())?;
    let Some(rep) = rep else {
        return Err("the derivation was not checked in this variant".into());
    };
    match rep.verdict {
        Verdict::Proved | Verdict::Confirmed => Ok(vec![Inline::Math(a.clone())]),
        Verdict::Refuted => {
            let head = if rep.expect == Some(Expectation::Refuted) {
                "false"
            } else {
                "not an answer"
            };
            let mut runs = vec![Inline::Strong(head.into())];
            runs.push(Inline::Text(format!(
                " ({} is false at this variant's values; {}: ",
                rep.source,
                rep.method.as_str()
            )));
            runs.extend(crate::render::prose::prose(&rep.evidence));
            runs.push(Inline::Text(")".into()));
            Ok(runs)
        }
        _ => Err(format!(
            "a step is {} at this variant's values: {}",
            rep.verdict.as_str(),
            rep.source
        )),
    }
}

/// A blank answer with its reason, as a page shows it.
pub(super) fn blank(why: &str) -> Vec<Inline> {
    vec![Inline::Text(format!("— ({why})"))]
}

/// The variants as Markdown: per variant its values, the problem (the student page's,
/// with the variant's values) and the table of answers.
pub fn markdown(path: &str, plan: &Plan, seed: u64, variants: &[Variant]) -> String {
    use crate::render::markdown::{blocks, inlines};
    let mut out = format!("# {}\n\n", inlines(&heading(path, plan, seed)));
    for (k, v) in variants.iter().enumerate() {
        out.push_str(&format!(
            "## Variant {}: ${}$\n\n",
            k + 1,
            values_math(&v.prepared)
        ));
        if let Some(why) = &v.prepared.invalid {
            out.push_str(&format!(
                "**Left out**: {}\n\n",
                crate::render::markdown::esc_md(&format!("this variant is no model: {why}"))
            ));
        }
        blocks(&crate::render::variant_problem(&v.report), &mut out);
        out.push_str("### Answers\n\n| # | claim | answer | verdict |\n|---|---|---|---|\n");
        for (j, (c, rep)) in v.claims().iter().enumerate() {
            out.push_str(&format!(
                "| {} | ${}$ | {} | {} |\n",
                j + 1,
                math::claim(c).replace('|', "\\vert "),
                inlines(&answer(v, j, c, *rep).unwrap_or_else(|why| blank(&why)))
                    .replace('|', "\\vert "),
                verdict_of(*rep)
            ));
        }
        let n = v.claims().len();
        for (j, (name, c, a, rep)) in v.derivation_rows().into_iter().enumerate() {
            out.push_str(&format!(
                "| {} | {}: ${}$ | {} | {} |\n",
                n + j + 1,
                crate::render::markdown::esc_md(&name),
                math::claim(c).replace('|', "\\vert "),
                inlines(&derivation_answer(a, rep).unwrap_or_else(|why| blank(&why)))
                    .replace('|', "\\vert "),
                verdict_of(rep)
            ));
        }
        out.push_str(&format!("\n{}\n\n", gradcheck_line(&v.report)));
    }
    out
}

pub(super) fn gradcheck_line(r: &FileReport) -> String {
    if let Some(why) = &r.gradcheck_skipped {
        return format!("Gradient check not run: {why}.");
    }
    if r.gradcheck.is_empty() {
        return "No gradient check (no differentiable program).".into();
    }
    let failed = r.gradcheck.iter().filter(|g| !g.passed).count();
    if failed == 0 {
        format!("Gradient check passed ({} checks).", r.gradcheck.len())
    } else {
        format!(
            "Gradient check FAILED for {failed} of {} checks.",
            r.gradcheck.len()
        )
    }
}

/// The variants as a LaTeX document: per variant, on its own page, its values, the
/// problem and the table of answers.
pub fn latex(path: &str, plan: &Plan, seed: u64, variants: &[Variant]) -> String {
    use crate::render::latex::{blocks, inlines, PREAMBLE};
    let esc = crate::render::esc_text;
    let mut out = format!("{PREAMBLE}\\begin{{document}}\n");
    out.push_str(&format!(
        "{{\\large\\bfseries {}}}\\par\n",
        inlines(&heading(path, plan, seed))
    ));
    for (k, v) in variants.iter().enumerate() {
        if k > 0 {
            out.push_str("\\clearpage\n");
        }
        out.push_str(&format!(
            "\\section*{{Variant {}: ${}$}}\n",
            k + 1,
            values_math(&v.prepared)
        ));
        if let Some(why) = &v.prepared.invalid {
            out.push_str(&format!(
                "\\textbf{{Left out}}: {}\\par\n",
                esc(&format!("this variant is no model: {why}"))
            ));
        }
        blocks(&crate::render::variant_problem(&v.report), &mut out);
        out.push_str("\\subsection*{Answers}\n");
        out.push_str("\\begin{longtable}{@{}r>{\\raggedright\\arraybackslash}p{0.40\\textwidth}>{\\raggedright\\arraybackslash}p{0.33\\textwidth}>{\\raggedright\\arraybackslash}p{0.14\\textwidth}@{}}\n");
        for (j, (c, rep)) in v.claims().iter().enumerate() {
            out.push_str(&format!(
                "{}. & {} & {} & {} \\\\\n",
                j + 1,
                math::breakable(&math::claim(c)),
                inlines(&answer(v, j, c, *rep).unwrap_or_else(|why| blank(&why))),
                esc(&verdict_of(*rep))
            ));
        }
        let n = v.claims().len();
        for (j, (name, c, a, rep)) in v.derivation_rows().into_iter().enumerate() {
            out.push_str(&format!(
                "{}. & {}: {} & {} & {} \\\\\n",
                n + j + 1,
                esc(&name),
                math::breakable(&math::claim(c)),
                inlines(&derivation_answer(a, rep).unwrap_or_else(|why| blank(&why))),
                esc(&verdict_of(rep))
            ));
        }
        out.push_str("\\end{longtable}\n");
        out.push_str(&format!("{}\n\n", esc(&gradcheck_line(&v.report))));
    }
    out.push_str("\\end{document}\n");
    out
}

/// The variants as JSON.
pub fn to_json(path: &str, plan: &Plan, seed: u64, variants: &[Variant]) -> serde_json::Value {
    json!({
        "path": path,
        "seed": seed,
        "requested": plan.requested,
        "available": plan.available,
        "parameters": plan.names,
        "variants": variants.iter().map(|v| json!({
            "values": v.prepared.values.iter().map(|(n, x)| json!({"name": n, "value": x})).collect::<Vec<_>>(),
            "passed": v.passed(),
            "left_out": v.prepared.invalid.as_ref().map(|why| format!("this variant is no model: {why}")),
            "claims": v.claims().iter().enumerate().map(|(j, (c, rep))| json!({
                "claim": crate::syntax::printer::print_claim_body(c),
                "answer_latex": match answer(v, j, c, *rep).as_deref() {
                    Ok([Inline::Math(m)]) => Some(m.clone()),
                    _ => None,
                },
                // An answer in words (an `includes` block that holds, a refutation).
                "answer_text": match answer(v, j, c, *rep).as_deref() {
                    Ok([Inline::Math(_)]) | Err(_) => None,
                    Ok(runs) => Some(runs.iter().map(|r| match r {
                        Inline::Text(t) | Inline::Strong(t) => t.clone(),
                        Inline::Math(m) => format!("${m}$"),
                    }).collect::<String>()),
                },
                // Why there is no answer (null where there is one).
                "no_answer": answer(v, j, c, *rep).err(),
                "verdict": rep.map(|r| r.verdict.as_str()),
                "method": rep.map(|r| r.method.as_str()),
                "evidence": rep.map(|r| r.evidence.clone()),
            })).collect::<Vec<_>>(),
            "derivations": v.derivation_rows().into_iter().map(|(name, c, a, rep)| json!({
                "derivation": name,
                "claim": crate::syntax::printer::print_claim_body(c),
                // The last line's value only when every step held (probe36 b22).
                "answer_latex": rep
                    .filter(|r| matches!(r.verdict, Verdict::Proved | Verdict::Confirmed))
                    .and(a.ok()),
                "no_answer": match derivation_answer(a, rep) {
                    Ok(_) if rep.is_some_and(|r| r.verdict == Verdict::Refuted) =>
                        Some(format!("{} is false at this variant's values", rep.map_or("", |r| r.source.as_str()))),
                    Ok(_) => None,
                    Err(why) => Some(why),
                },
                "verdict": rep.map(|r| r.verdict.as_str()),
            })).collect::<Vec<_>>(),
            "gradcheck": v.report.gradcheck.iter().map(|g| g.to_json()).collect::<Vec<_>>(),
            "gradcheck_skipped": v.report.gradcheck_skipped,
            "diagnostics": ({
                let lines = crate::span::LineIndex::new(&v.report.source);
                v.report.diagnostics.iter().map(|d| d.to_json_at(&lines)).collect::<Vec<_>>()
            }),
        })).collect::<Vec<_>>(),
    })
}

/// Whether any verdict of the variants is `refuted` against expectation.
pub fn any_failed(variants: &[Variant]) -> bool {
    variants.iter().any(|v| !v.passed())
}
