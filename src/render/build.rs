//! The page of a checked file as a [`Document`]: the problem (description, declarations,
//! boundary rule, model, questions) and, for the key, the solution `tq derive` derives
//! (backpropagation in scatter and gather form, the scalar program exactly, the
//! multiplication counts, the moments engine's results, the claims with their
//! verdicts). Every formula is set from its typed form: the syntax tree
//! ([`super::math`]), a `sym::Expr` (`sym::to_latex`), or, for the engines' prose, the
//! formulas in it ([`super::prose`]).

use super::doc::{AlignRow, Block, ClaimRow, Document, Inline, Line, Question};
use super::prose::{formula, prose};
use super::{
    claims_with_reports, declarations, description, header_value, math, moments_section, questions,
    title, verdict_word, Audience,
};
use crate::derive::{derivation, Derivation};
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::*;

fn text(s: &str) -> Inline {
    Inline::Text(s.to_string())
}

fn para(body: Vec<Inline>) -> Block {
    Block::Paragraph { lead: None, body }
}

fn lead(s: &str) -> Block {
    Block::Paragraph {
        lead: Some(s.to_string()),
        body: Vec::new(),
    }
}

/// The lines of a program: equations as math, loop heads, update rules.
pub(crate) fn program_lines(items: &[Item], depth: usize, out: &mut Vec<Line>) {
    for item in items {
        match &item.kind {
            ItemKind::Equation(eq) => out.push(Line::math(depth, math::equation(eq))),
            ItemKind::Loop(l) => {
                let head = format!(
                    "\\textbf{{for}}\\ {}{}:",
                    math::range(&l.range),
                    if l.reverse {
                        "\\ \\textbf{(reversed)}"
                    } else {
                        ""
                    }
                );
                out.push(Line::math(depth, head));
                program_lines(&l.body, depth + 1, out);
            }
            ItemKind::ForIndices(f) => {
                let ids: Vec<String> = f.indices.iter().map(|i| math::ident(&i.name)).collect();
                let head = format!("\\textbf{{for}}\\ {}:", ids.join(","));
                if f.body.len() == 1 {
                    if let ItemKind::Equation(eq) = &f.body[0].kind {
                        out.push(Line::math(
                            depth,
                            format!("{head}\\quad {}", math::equation(eq)),
                        ));
                        continue;
                    }
                }
                out.push(Line::math(depth, head));
                program_lines(&f.body, depth + 1, out);
            }
            ItemKind::Rule(r) => {
                out.push(Line {
                    depth,
                    content: vec![
                        text("Update rule "),
                        Inline::Math(math::ident(&r.name.name)),
                        text(" over "),
                        Inline::Math(math::ident(&r.var.name)),
                        text(":"),
                    ],
                    note: Vec::new(),
                });
                program_lines(&r.body, depth + 1, out);
            }
            _ => {}
        }
    }
}

/// The page of a checked file for `audience`.
pub fn document(r: &FileReport, audience: Audience) -> Document {
    let mut blocks = vec![Block::Section("Problem".into())];
    if let Some(d) = description(&r.source) {
        blocks.push(para(prose(&d)));
    }
    if !r.diagnostics.is_empty() {
        blocks.push(lead("Diagnostics."));
        let lines = crate::span::LineIndex::new(&r.source);
        let items = r
            .diagnostics
            .iter()
            .map(|d| {
                let (line, col) = lines.line_col(d.span.start as usize);
                let mut item = vec![text(&format!("{} at line {line}, column {col}: ", d.code))];
                item.extend(prose(&d.message));
                item
            })
            .collect();
        blocks.push(Block::Items(items));
    }
    let decls = declarations(&r.program, &r.env);
    if !decls.is_empty() {
        blocks.push(lead("Given."));
        blocks.push(Block::Items(
            decls
                .into_iter()
                .map(|(kind, m)| vec![text(&format!("{kind}: ")), Inline::Math(m)])
                .collect(),
        ));
    }
    if let Some(s) = super::boundary_sentence(r.env.boundary) {
        blocks.push(para(vec![text(s)]));
    }
    let mut lines = Vec::new();
    program_lines(&r.program.items, 0, &mut lines);
    if !lines.is_empty() {
        blocks.push(Block::Paragraph {
            lead: Some("The model.".into()),
            body: vec![
                text("A capital index is summed over the term in which it occurs (the course's notation); in a "),
                Inline::Strong("for".into()),
                text(" line every listed index is iterated and "),
                Inline::Math("\\mathrel{+}=".into()),
                text(" accumulates."),
            ],
        });
        blocks.push(Block::Lines(lines));
    }
    let claims = claims_with_reports(r);
    let groups = member_groups(&claims);
    let points = super::points::points(&r.program.items);
    for (heading, listed) in questions(&claims) {
        blocks.push(lead(heading));
        blocks.push(Block::Questions(
            listed
                .into_iter()
                .map(|(number, c)| {
                    let mut lines = Vec::new();
                    if let Some(block) = &c.includes {
                        program_lines(block, 0, &mut lines);
                    }
                    Question {
                        number,
                        math: math::claim(&match points.claims.get(number.wrapping_sub(1)) {
                            Some(p) => super::points::with_point(&as_asked(c, r), p),
                            None => as_asked(c, r),
                        }),
                        lines,
                        group: groups.get(number.wrapping_sub(1)).copied().flatten(),
                    }
                })
                .collect(),
        ));
    }
    if audience == Audience::Key {
        blocks.push(Block::Section("Solution (derived by tq)".into()));
        match derivation(r) {
            None => blocks.push(para(vec![text(
                "Nothing is derived from a file with errors.",
            )])),
            Some(d) => {
                solution(r, &d, &mut blocks);
                moments(&d, &mut blocks);
            }
        }
        derivations(r, &mut blocks);
        if !claims.is_empty() {
            blocks.push(Block::Subsection("The claims, checked".into()));
            // The engine's steps that several claims share are listed once, numbered,
            // and each claim's line cites them: one short line per claim.
            let parts: Vec<Vec<String>> = claims
                .iter()
                .map(|(_, rep)| rep.map(|r| evidence_parts(&r.evidence)).unwrap_or_default())
                .collect();
            let shared = shared_steps(&parts);
            if !shared.is_empty() {
                blocks.push(para(vec![text(
                    "Steps of the engines that several claims below rest on, cited by number:",
                )]));
                blocks.push(Block::Items(
                    shared
                        .iter()
                        .enumerate()
                        .map(|(k, step)| {
                            let mut runs = vec![Inline::Strong(format!("({}) ", k + 1))];
                            runs.extend(prose(step));
                            runs
                        })
                        .collect(),
                ));
            }
            let rows = claims
                .iter()
                .enumerate()
                .map(|(k, (_, rep))| match rep {
                    Some(rep) => {
                        let mut evidence = vec![text(&format!("{}: ", rep.method.as_str()))];
                        let mut cited: Vec<usize> = parts[k]
                            .iter()
                            .filter_map(|p| shared.iter().position(|s| s == p))
                            .collect();
                        cited.sort_unstable();
                        let cited: Vec<String> =
                            cited.iter().map(|n| format!("({})", n + 1)).collect();
                        let own: Vec<&String> =
                            parts[k].iter().filter(|p| !shared.contains(p)).collect();
                        if !cited.is_empty() {
                            evidence.push(text(&format!(
                                "step{} {}{}",
                                if cited.len() == 1 { "" } else { "s" },
                                cited.join(", "),
                                if own.is_empty() { "" } else { "; " }
                            )));
                        }
                        let own: Vec<&str> = own.iter().map(|s| s.as_str()).collect();
                        evidence.extend(prose(&own.join("; ")));
                        ClaimRow {
                            number: k + 1,
                            verdict: Some(verdict_word(
                                rep.verdict,
                                rep.expect == Some(Expectation::Refuted),
                            )),
                            evidence,
                            group: groups[k],
                        }
                    }
                    None => ClaimRow {
                        number: k + 1,
                        verdict: None,
                        evidence: vec![text("not decided")],
                        group: groups[k],
                    },
                })
                .collect();
            blocks.push(Block::Claims(rows));
        }
    }
    let mut doc = Document {
        // A title from the header is prose; the file's name (`worked_004`) is words.
        title: match header_value(&r.source, "title") {
            Some(t) => prose(&t),
            None => vec![text(&title(r).replace('_', " "))],
        },
        author: header_value(&r.source, "author").map(|a| prose(&a)),
        path: r.path.clone(),
        blocks,
    };
    doc.fold_runs();
    doc
}

/// The tensors the gradient arrives at, typeset from their declarations (`grad
/// y^{relu}_K ~ ...`); a scalar loss (no declaration) by its name.
fn seeds(r: &FileReport, d: &Derivation) -> Vec<String> {
    let declared: Vec<String> = r
        .program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Decl(decl) if decl.kind == DeclKind::Grad => {
                Some(math::name(&decl.target.name))
            }
            _ => None,
        })
        .collect();
    if !declared.is_empty() && declared.len() == d.backward.seeds.len() {
        return declared;
    }
    d.backward.seeds.iter().map(|s| formula(s)).collect()
}

fn solution(r: &FileReport, d: &Derivation, blocks: &mut Vec<Block>) {
    if !d.backward.items.is_empty() {
        blocks.push(Block::Subsection(
            "Backpropagation (loop-and-scatter form)".into(),
        ));
        let mut body = vec![text("The gradient arrives at ")];
        for (k, s) in seeds(r, d).into_iter().enumerate() {
            if k > 0 {
                body.push(text(", "));
            }
            body.push(Inline::Math(s));
        }
        body.push(text("."));
        blocks.push(para(body));
        let mut lines = Vec::new();
        program_lines(&d.backward.items, 0, &mut lines);
        blocks.push(Block::Lines(lines));
        blocks.push(Block::Subsection("Backpropagation (gather form)".into()));
        let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        let mut lines = Vec::new();
        program_lines(&items, 0, &mut lines);
        blocks.push(Block::Lines(lines));
        blocks.push(Block::Notes(
            d.gather
                .iter()
                .flat_map(|g| g.notes.iter())
                .chain(d.backward.notes.iter())
                .map(|n| prose(n))
                .collect(),
        ));
    } else if !d.backward.notes.is_empty() {
        // No program, and why (a value that is a derivative: probe38/p a08).
        blocks.push(Block::Notes(
            d.backward.notes.iter().map(|n| prose(n)).collect(),
        ));
    }
    if let Some(sc) = &d.scalar {
        blocks.push(Block::Subsection("The scalar program, exactly".into()));
        if !sc.point.is_empty() {
            let pt: Vec<String> = sc
                .point
                .iter()
                .map(|(n, v)| format!("{} = {}", math::ident(n), sym::to_latex(v)))
                .collect();
            blocks.push(para(vec![
                text("At "),
                Inline::Math(pt.join(",\\ ")),
                text("."),
            ]));
        }
        for (title, qs) in [
            ("Forward values.", &sc.values),
            (
                "Backward adjoints (the derived program run exactly).",
                &sc.adjoints,
            ),
            ("Partial derivatives of the loss.", &sc.partials),
        ] {
            blocks.push(lead(title));
            blocks.push(Block::Align(
                qs.iter()
                    .map(|q| AlignRow {
                        lhs: quantity_name(&q.name),
                        rhs: sym::to_latex(&q.expr),
                        at: q.at.as_ref().map(sym::to_latex),
                    })
                    .collect(),
            ));
        }
        if let Some(note) = sc.omitted_note() {
            blocks.push(para(vec![text(&format!("Not shown: {note}."))]));
        }
    }
    if !d.costs.is_empty() {
        blocks.push(Block::Subsection("Multiplications".into()));
        blocks.push(Block::Align(
            d.costs
                .iter()
                .map(|(n, c)| AlignRow {
                    lhs: cost_name(n),
                    rhs: sym::to_latex(c),
                    at: None,
                })
                .collect(),
        ));
    }
}

/// The moments engine's results, section by section.
fn moments(d: &Derivation, blocks: &mut Vec<Block>) {
    let rows = moments_section(d);
    if rows.is_empty() {
        return;
    }
    blocks.push(Block::Subsection("Moments (the moments engine)".into()));
    let mut last = "";
    for r in rows {
        if r.section != last {
            blocks.push(lead(&format!("{}.", r.section)));
            blocks.push(Block::Lines(Vec::new()));
            last = r.section;
        }
        let line = Line {
            depth: 0,
            content: match r.math {
                Some(m) => vec![Inline::Math(m)],
                None => prose(&r.text),
            },
            note: prose(&r.note),
        };
        if let Some(Block::Lines(lines)) = blocks.last_mut() {
            lines.push(line);
        }
    }
}

/// `u.grad` → `u.\mathrm{grad}`, `d(u)/d(a)` → `\partial u/\partial a`.
fn quantity_name(n: &str) -> String {
    if let Some(base) = n.strip_suffix(".grad") {
        return format!("{}.\\mathrm{{grad}}", math::ident(base));
    }
    if let Some(rest) = n.strip_prefix("d(") {
        if let Some((u, a)) = rest.split_once(")/d(") {
            let a = a.trim_end_matches(')');
            return format!(
                "\\frac{{\\partial {}}}{{\\partial {}}}",
                math::ident(u),
                math::ident(a)
            );
        }
    }
    math::ident(n)
}

/// `mults(R)` → `\operatorname{mults}(R)`; `forward`, `backward` as words.
fn cost_name(n: &str) -> String {
    match n.strip_prefix("mults(").and_then(|s| s.strip_suffix(')')) {
        Some(t) => format!("\\operatorname{{mults}}({})", formula(t)),
        None => format!("\\text{{{} program}}", super::esc_text(n)),
    }
}

/// A claim's evidence split into its steps: at each `; ` outside brackets.
fn evidence_parts(evidence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut chars = evidence.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if c == ';' && depth == 0 && chars.peek() == Some(&' ') {
            chars.next();
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The steps (longer than a short phrase) that at least two claims' evidence share,
/// in the order they first occur.
fn shared_steps(parts: &[Vec<String>]) -> Vec<String> {
    let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in parts {
        let mut seen = std::collections::BTreeSet::new();
        for s in p {
            if seen.insert(s.as_str()) {
                *count.entry(s.as_str()).or_default() += 1;
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for s in parts.iter().flatten() {
        if count[s.as_str()] >= 2 && s.chars().count() > 30 && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// The file's `derivation` blocks, the worked solution written by the author: each as
/// its chain of steps, every step with the rule it cites and tq's verdict on it.
fn derivations(r: &FileReport, blocks: &mut Vec<Block>) {
    let ds: Vec<&crate::syntax::ast::Derivation> = r
        .program
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Derivation(d) => Some(d),
            _ => None,
        })
        .collect();
    if ds.is_empty() {
        return;
    }
    blocks.push(Block::Subsection(
        "Derivations, checked step by step".into(),
    ));
    for d in ds {
        let mut lines = vec![Line::math(0, math::expr(&d.start))];
        for (k, st) in d.steps.iter().enumerate() {
            let op = math::relop(st.op);
            let prefix = format!("{} step {} ", d.name.name, k + 1);
            let prefix_colon = format!("{} step {}:", d.name.name, k + 1);
            let verdict = r
                .claims
                .iter()
                .find(|c| c.source.starts_with(&prefix) || c.source.starts_with(&prefix_colon))
                .map(|c| verdict_word(c.verdict, c.expect == Some(Expectation::Refuted)))
                .unwrap_or_else(|| "not decided".into());
            let by = st
                .rule
                .as_ref()
                .map(|r| format!("by {}; ", r.name.replace('_', " ")))
                .unwrap_or_default();
            let step = math::expr(&st.expr);
            let note = vec![text(&format!("{by}{verdict}"))];
            // A long step keeps the line to itself, its note on the next.
            if step.len() > 160 {
                lines.push(Line::math(1, format!("{op} {step}")));
                lines.push(Line {
                    depth: 2,
                    content: vec![],
                    note,
                });
            } else {
                lines.push(Line {
                    depth: 1,
                    content: vec![Inline::Math(format!("{op} {step}"))],
                    note,
                });
            }
        }
        let mut lead = vec![Inline::Strong(format!(
            "{}.",
            d.name.name.replace('_', " ")
        ))];
        if !d.given.is_empty() {
            lead.push(text(" Given "));
            let given: Vec<String> = d.given.iter().map(math::expr).collect();
            lead.push(Inline::Math(given.join(",\\ ")));
            lead.push(text("."));
        }
        blocks.push(para(lead));
        blocks.push(Block::Lines(lines));
    }
}

/// For each claim, the line of the `claim` it comes from when it shares that line with
/// others: the members of a claim over an unrolled loop's variable (`Var(h_l)` at l =
/// 1, ..., 50). One pass (a file of thousands of claims).
fn member_groups(claims: &[(Claim, Option<&crate::claims::ClaimReport>)]) -> Vec<Option<usize>> {
    let mut count: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (_, r) in claims {
        if let Some(r) = r {
            *count.entry(r.line).or_default() += 1;
        }
    }
    claims
        .iter()
        .map(|(_, r)| {
            r.map(|r| r.line)
                .filter(|l| count.get(l).is_some_and(|n| *n > 1))
        })
        .collect()
}

/// A claim as its author asked it: without the givens the expansion of fixed and derived
/// sizes added (their relation `X/2 <= U, U - 1 < X/2`, or their value `U == 3` where the
/// claim's givens fix the sizes they read), which carry the span of the size's own line.
/// Printed, they gave the answer of a question about the size away on the student page
/// (probe36 b11: "U = 3 given X = 9, D = 3, U = 3"); the sizes' values and formulas are
/// listed under *Given*.
fn as_asked(c: &Claim, r: &FileReport) -> Claim {
    let lines: Vec<crate::span::Span> = r
        .program
        .items
        .iter()
        .filter(|i| match &i.kind {
            ItemKind::Size(ids) => ids
                .iter()
                .any(|id| r.env.derived_sizes.iter().any(|(n, _)| *n == id.name)),
            _ => false,
        })
        .map(|i| i.span)
        .collect();
    let mut c = c.clone();
    c.given.retain(|g| {
        let s = g.span();
        !lines.iter().any(|l| l.start <= s.start && s.end <= l.end)
    });
    c
}
