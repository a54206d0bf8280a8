//! `tq derive`: everything derivable about one file, as text or JSON.

use crate::grad;
use crate::report::FileReport;
use crate::sym;
use crate::syntax::ast::{Item, ItemKind, Program};
use crate::syntax::printer::print_program;
use serde_json::json;

mod closed;
pub mod steps;

/// The parts of a derivation that tq does not produce yet, named in the output so
/// nobody mistakes their absence for an empty result.
const NOT_YET: &[&str] = &[];

/// Where a derived moment belongs in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentSection {
    Forward,
    Backward,
    /// Solved initializations (`solve(...)` claims).
    Initialization,
    /// Zero padding: the border effect, position by position.
    Border,
    /// A remark of the moments engine (no value).
    Note,
}

impl MomentSection {
    /// The section's name in the text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            MomentSection::Forward => "forward",
            MomentSection::Backward => "backward",
            MomentSection::Initialization => "initialization",
            MomentSection::Border => "border",
            MomentSection::Note => "note",
        }
    }
}

/// One derived moment: `Var(L_l) = (1 + D^2*J*sigma_W^2)^l`, with how it was obtained.
#[derive(Clone, Debug)]
pub struct MomentLine {
    pub section: MomentSection,
    /// The moment in `.tq` notation (`Var(L_l)`, `solve(Var(L_L) == 2, sigma_W^2)`).
    pub name: String,
    /// The claim givens the value holds under (`sigma^2 = 1`), as `.tq` text.
    pub given: Option<String>,
    /// `Var(x) <= value` (a bound) rather than `Var(x) = value`.
    pub bound: bool,
    /// The value as an exact symbolic expression, when it is one.
    pub value: Option<sym::Expr>,
    /// The value as text: the ASCII of `value`, or what is known otherwise (a
    /// quadrature number, the border's positions, "(no closed form)").
    pub expr: String,
    pub note: String,
    /// `expr` is English words (`no closed form`, `unknown`), not a formula: a page sets
    /// it as text (issue #17: `no closed form` was set as the product of three names).
    pub words: bool,
}

impl MomentLine {
    fn exact(section: MomentSection, name: String, value: sym::Expr, note: String) -> MomentLine {
        MomentLine {
            section,
            name,
            given: None,
            bound: false,
            expr: sym::to_ascii(&value),
            value: Some(value),
            note,
            words: false,
        }
    }

    fn text(section: MomentSection, name: String, expr: String, note: String) -> MomentLine {
        MomentLine {
            section,
            name,
            given: None,
            bound: false,
            value: None,
            words: false,
            expr,
            note,
        }
    }

    /// A value known only in words (`no closed form`), with how far it was obtained.
    fn words(section: MomentSection, name: String, words: &str, note: String) -> MomentLine {
        MomentLine {
            words: true,
            ..MomentLine::text(section, name, words.to_string(), note)
        }
    }

    /// The name with its givens, as the text output shows it.
    pub fn shown_name(&self) -> String {
        match &self.given {
            Some(g) => format!("{} given {g}", self.name),
            None => self.name.clone(),
        }
    }
}

/// `step` with each engine placeholder of another state (`M#h`, `E#h.grad`) replaced by
/// the member it stands for, `E(h_l^2)` and `E(h_l)` (the state read at the start of the
/// iteration of `var`, the `from` member of its own recurrence); `None` when a
/// placeholder is left (no engine placeholder is ever shown).
fn readable_states(
    step: &sym::Expr,
    recs: &[crate::moments::Recurrence],
    var: &str,
) -> Option<sym::Expr> {
    let mut e = step.clone();
    for other in recs.iter().filter(|o| o.var == var) {
        let g = if other.grad { ".grad" } else { "" };
        let m = format!(
            "{}{g}",
            crate::moments::member_text(
                &(other.tensor.clone(), false),
                std::slice::from_ref(&other.from)
            )
        );
        let (ms, es) = (
            format!("M#{}{g}", other.tensor),
            format!("E#{}{g}", other.tensor),
        );
        e = e
            .subs(&ms, &sym::Expr::sym(&format!("E({m}^2)")))
            .subs(&es, &sym::Expr::sym(&format!("E({m})")));
    }
    let e = sym::simplify(&e);
    (!e.free_symbols().iter().any(|s| s.contains('#'))).then_some(e)
}

fn moment_lines(r: &FileReport) -> Vec<MomentLine> {
    use crate::moments::{self, Entry};
    let a = r.analysis().moments();
    let mut out = Vec::new();
    let status = |rv: &moments::rv::Rv| {
        let mut parts: Vec<String> = Vec::new();
        if rv.approx.is_empty() {
            parts.push("exact".into());
        } else {
            parts.extend(rv.approx.iter().map(|a| a.text().to_string()));
        }
        parts.join("; ")
    };
    for rec in &a.recurrences {
        let section = if rec.grad {
            MomentSection::Backward
        } else {
            MomentSection::Forward
        };
        let g = if rec.grad { ".grad" } else { "" };
        let member = |sub: &sym::Expr| {
            format!(
                "{}{g}",
                moments::member_text(&(rec.tensor.clone(), false), std::slice::from_ref(sub))
            )
        };
        let (from, to) = (member(&rec.from), member(&rec.to));
        if let Some(step) = &rec.var_step {
            // With the mean in closed form when it is a constant (zero-mean layers).
            let mean = match &rec.mean_closed {
                Some(m) if m.free_symbols().is_empty() => m.clone(),
                _ => sym::Expr::sym(&format!("E({from})")),
            };
            let step = sym::simplify(&step.subs("E", &mean));
            let step = sym::simplify(&step.subs("x", &sym::Expr::sym(&format!("Var({from})"))));
            // The step may read another state of the loop through the engine's
            // placeholders (`M#h`, `E#h`: that state's second moment and mean at the
            // start of the iteration); they are written as the member they stand for,
            // and a step with a placeholder no recurrence names is not shown.
            let Some(step) = readable_states(&step, &a.recurrences, &rec.var) else {
                continue;
            };
            // The step reads the previous member's moments (`Var(L_l)` as a symbol of
            // the recurrence): as a value it is text in the `.tq` notation, which render
            // typesets as a claim's right side.
            out.push(MomentLine::text(
                section,
                format!("Var({to})"),
                sym::to_ascii(&step),
                format!("recurrence; {}", rec.status()),
            ));
        }
        let n = sym::Expr::sym(&rec.var);
        let at_n = |e: &sym::Expr| sym::simplify(&e.subs("#n", &n));
        let generic = member(&n);
        if let Some(m) = &rec.mean_closed {
            out.push(MomentLine::exact(
                section,
                format!("E({generic})"),
                at_n(m),
                format!(
                    "closed form{}",
                    closed::where_defined(r, rec, &at_n(m), |o| o.mean_closed.as_ref())
                ),
            ));
        }
        match (&rec.var_closed, &rec.unsolved) {
            (Some(v), _) => out.push(MomentLine::exact(
                section,
                format!("Var({generic})"),
                at_n(v),
                format!(
                    "closed form{}, from Var({}) = {}",
                    closed::where_defined(r, rec, &at_n(v), |o| o.var_closed.as_ref()),
                    member(&rec.start),
                    {
                        let start = a
                            .entries
                            .get(&(rec.tensor.clone(), rec.grad))
                            .and_then(|e| match e {
                                Entry::Family { members, .. } => members
                                    .iter()
                                    .find(|(s, _)| sym::identical(s, &rec.start))
                                    .and_then(|(_, rv)| rv.var()),
                                _ => None,
                            });
                        start
                            .map(|v| sym::to_ascii(&sym::simplify(&v)))
                            .unwrap_or_else(|| "?".into())
                    }
                ),
            )),
            (None, Some(why)) => out.push(MomentLine::words(
                section,
                format!("Var({generic})"),
                "(no closed form)",
                why.clone(),
            )),
            _ => {}
        }
    }
    // Tensors outside recurrences.
    for (key, rv) in computed_entries(r, a) {
        if let Some(m) = &rv.mean {
            out.push(MomentLine::exact(
                MomentSection::Forward,
                format!("E({key})"),
                sym::simplify(m),
                status(rv),
            ));
        } else if let Some((m, why)) = &rv.approx_mean {
            out.push(MomentLine::exact(
                MomentSection::Forward,
                format!("E({key})"),
                sym::simplify(m),
                format!("approximately: {why}"),
            ));
        }
        if let Some(v) = rv.var() {
            out.push(MomentLine::exact(
                MomentSection::Forward,
                format!("Var({key})"),
                sym::simplify(&v),
                status(rv),
            ));
        }
        for (b, why) in &rv.var_bounds {
            out.push(MomentLine {
                bound: true,
                ..MomentLine::exact(
                    MomentSection::Forward,
                    format!("Var({key})"),
                    sym::simplify(b),
                    format!("bound: {why}"),
                )
            });
        }
        if let Some(q) = &rv.quad {
            let mean = sym::simplify(&q.mean);
            let var = sym::simplify(&q.var);
            let at: std::collections::BTreeMap<String, f64> =
                [("pi".to_string(), std::f64::consts::PI)].into();
            if let (Ok(m), Ok(v)) = (mean.eval_f64(&at), var.eval_f64(&at)) {
                match moments::quadrature::gauss_hermite_checked(q.func, m, v) {
                    Some(g) if g.error <= moments::quadrature::QUAD_MAX_ERROR => {
                        out.push(MomentLine::text(
                            MomentSection::Forward,
                            format!("Var({key})"),
                            format!("{:.6}", g.m2 - g.mean * g.mean),
                            "Gauss–Hermite quadrature (64 points) over the Gaussian input"
                                .into(),
                        ))
                    }
                    Some(g) => out.push(MomentLine::words(
                        MomentSection::Forward,
                        format!("Var({key})"),
                        "unknown",
                        format!(
                            "Gauss–Hermite quadrature does not converge (64 and 48 points differ by {:.1e})",
                            g.error
                        ),
                    )),
                    None => {}
                }
            }
        }
    }
    // Solved parameters: every `solve(...)` of the file's claims.
    let mut seen = std::collections::BTreeSet::new();
    let analysis = r.analysis();
    let base = crate::claims::scalar::claim_scope(&r.program, analysis.scalar());
    collect_solves(&r.program.items, &mut |claim| {
        let mc = crate::claims::moments::calls(claim, a, &r.env, &base);
        // The claim's `x = value` givens, applied to the solution.
        let mut givens = Vec::new();
        for g in &crate::check::givens::resolved(&claim.given, &claim.at, &r.env) {
            if let crate::syntax::ast::Expr::Rel(crate::syntax::ast::RelOp::Eq, gl, gr, _) = g {
                if let (crate::syntax::ast::Expr::Ref(_), Ok(v)) =
                    (&**gl, crate::claims::scalar::lower(gr, &Default::default()))
                {
                    givens.push((
                        crate::syntax::printer::print_expr(gl),
                        v,
                        crate::syntax::printer::print_expr(g),
                    ));
                }
            }
        }
        for (text, v) in &mc.calls {
            let given = (!givens.is_empty()).then(|| {
                givens
                    .iter()
                    .map(|g| g.2.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let shown = match &given {
                Some(g) => format!("{text} given {g}"),
                None => text.clone(),
            };
            if !text.starts_with("solve(") || !seen.insert(shown) {
                continue;
            }
            let Ok(v) = v else { continue };
            let v = givens
                .iter()
                .fold(v.clone(), |acc, (n, val, _)| acc.subs(n, val));
            let v = sym::simplify(&v);
            out.push(MomentLine {
                given,
                ..MomentLine::exact(
                    MomentSection::Initialization,
                    text.clone(),
                    v,
                    if mc.notes.is_empty() {
                        "exact".into()
                    } else {
                        mc.notes.join("; ")
                    },
                )
            });
        }
    });
    out.extend(border_lines(r));
    for n in &a.notes {
        out.push(MomentLine::text(
            MomentSection::Note,
            String::new(),
            String::new(),
            n.clone(),
        ));
    }
    out
}

/// Whether a claim applies `solve(...)`, in its body or a given (read off the tree, not
/// the claim's text).
fn applies_solve(c: &crate::syntax::ast::Claim) -> bool {
    let mut found = false;
    for e in std::iter::once(&c.body).chain(&c.given) {
        crate::syntax::visit::walk_expr(e, |x| {
            found |= matches!(x, crate::syntax::ast::Expr::Call(k) if k.func.name == "solve");
            !found
        });
    }
    found
}

fn collect_solves(items: &[Item], f: &mut dyn FnMut(&crate::syntax::ast::Claim)) {
    for it in items {
        match &it.kind {
            ItemKind::Claim(c) if applies_solve(c) => f(c),
            ItemKind::Loop(l) => collect_solves(&l.body, f),
            _ => {}
        }
    }
}

/// The derived results of a checked file.
pub struct Derivation<'a> {
    pub backward: &'a grad::Backward,
    pub gather: &'a [grad::Gathered],
    /// A scalar program's values, adjoints and partials, exactly.
    pub scalar: Option<&'a ScalarDerivation>,
    /// Multiplications: per computed tensor of the forward program, then the forward and
    /// the backward program in total (polynomials in the sizes).
    pub costs: Vec<(String, sym::Expr)>,
    /// Means, variances, recurrences, closed forms and solved parameters.
    pub moments: Vec<MomentLine>,
    /// Two update rules: the hyperparameter mapping and starting values that make them
    /// equivalent (`rule A over t:`).
    pub rules: Option<crate::claims::rules::RuleDerivation>,
}

fn costs(r: &FileReport, backward: &grad::Backward) -> Vec<(String, sym::Expr)> {
    use crate::claims::cost::mults;
    let mut out = Vec::new();
    for key in &r.env.decl_order {
        if r.env
            .tensors
            .get(key)
            .is_some_and(|t| t.kind == crate::check::TensorKind::Computed)
        {
            if let Ok(c) = mults(&r.program.items, &r.env, Some(key)) {
                if !c.is_zero() {
                    out.push((format!("mults({key})"), c));
                }
            }
        }
    }
    if let Ok(c) = mults(&r.program.items, &r.env, None) {
        out.push(("forward".to_string(), c));
    }
    if let Ok(c) = mults(&backward.items, &r.env, None) {
        out.push(("backward".to_string(), c));
    }
    out
}

pub use crate::analysis::{Quantity, ScalarDerivation};

impl Quantity {
    fn text(&self) -> String {
        match &self.at {
            Some(v) => format!(
                "{} = {}    at the point: {}",
                self.name,
                sym::to_text(&self.expr),
                sym::to_text(v)
            ),
            None => format!("{} = {}", self.name, sym::to_text(&self.expr)),
        }
    }
    fn json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "expr": sym::to_ascii(&self.expr),
            "latex": sym::to_latex(&self.expr),
            "at": self.at.as_ref().map(sym::to_ascii),
        })
    }
}

/// Derives what can be derived from a file without errors.
pub fn derivation(r: &FileReport) -> Option<Derivation<'_>> {
    if r.unexpected_errors() > 0 || r.expected_error.is_some() {
        return None;
    }
    let a = r.analysis();
    let backward = a.backward();
    let gather = a.gather();
    let scalar = a.scalar_derivation();
    let costs = costs(r, backward);
    let moments = moment_lines(r);
    let rules = crate::claims::rules::derive(&r.program);
    Some(Derivation {
        backward,
        gather,
        scalar,
        costs,
        moments,
        rules,
    })
}

fn print_items(items: &[Item]) -> String {
    print_program(&Program {
        items: items.to_vec(),
    })
}

/// The text form: the checked program, the derived results, the claims.
pub fn derive_text(r: &FileReport, theme: Option<miette::GraphicalTheme>) -> String {
    let mut out = String::new();
    if !r.diagnostics.is_empty() {
        let rendered = match theme {
            Some(t) => crate::diag::render_with(&r.path, &r.source, &r.diagnostics, t),
            None => crate::diag::render_plain(&r.path, &r.source, &r.diagnostics),
        };
        out.push_str(&rendered);
    }
    let Some(d) = derivation(r) else {
        out.push_str("nothing is derived from a file with errors\n");
        return out;
    };
    out.push_str(&format!("# {} — the checked program\n", r.path));
    out.push_str(&print_program(&r.program));
    // The symbols' domains (sizes are whole numbers >= 1 and are not listed): every
    // random point and exact evaluation of a claim is drawn inside them.
    let domains: Vec<String> = listed_domains(&r.env, false)
        .iter()
        .map(|(n, dom)| format!("{}   ({})\n", dom.show(n), dom.why.join("; ")))
        .collect();
    if !domains.is_empty() {
        out.push_str(
            "\n# domains of the symbols (from the declarations; claims draw points inside them)\n",
        );
        out.push_str(&domains.concat());
    }
    if !d.backward.items.is_empty() {
        out.push_str(&format!(
            "\n# backpropagation program (loop-and-scatter form), from {}\n",
            d.backward.seeds.join(", ")
        ));
        out.push_str(&print_items(&d.backward.items));
        out.push_str("\n# backpropagation program (gather form)\n");
        let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
        out.push_str(&print_items(&items));
        for g in d.gather {
            for n in &g.notes {
                out.push_str(&format!("#   {n}\n"));
            }
        }
        for n in &d.backward.notes {
            out.push_str(&format!("# note: {n}\n"));
        }
    } else {
        for n in &d.backward.notes {
            out.push_str(&format!("\n# note: {n}\n"));
        }
    }
    if let Some(sc) = &d.scalar {
        let pt: Vec<String> = sc
            .point
            .iter()
            .map(|(n, v)| format!("{n} = {}", sym::to_text(v)))
            .collect();
        out.push_str(&format!(
            "\n# scalar program, exactly{}\n# forward values\n",
            if pt.is_empty() {
                String::new()
            } else {
                format!(" (the point: {})", pt.join(", "))
            }
        ));
        for v in &sc.values {
            out.push_str(&format!("{}\n", v.text()));
        }
        out.push_str("# backward adjoints (the derived program run exactly), in the order they are completed\n");
        for v in &sc.adjoints {
            out.push_str(&format!("{}\n", v.text()));
        }
        out.push_str("# partial derivatives of the loss\n");
        for v in &sc.partials {
            out.push_str(&format!("{}\n", v.text()));
        }
        if let Some(note) = sc.omitted_note() {
            out.push_str(&format!("# not shown: {note}\n"));
        }
    }
    if !d.costs.is_empty() {
        out.push_str("\n# multiplications (from the index spaces)\n");
        for (name, c) in &d.costs {
            out.push_str(&format!("{name} = {}\n", sym::to_text(c)));
        }
    }
    if !d.moments.is_empty() {
        for section in [
            MomentSection::Forward,
            MomentSection::Backward,
            MomentSection::Initialization,
            MomentSection::Border,
        ] {
            let lines: Vec<&MomentLine> =
                d.moments.iter().filter(|m| m.section == section).collect();
            if lines.is_empty() {
                continue;
            }
            out.push_str(&if section == MomentSection::Border {
                "\n# moments under zero padding (the border effect)\n".to_string()
            } else {
                format!("\n# moments ({})\n", section.as_str())
            });
            for m in lines {
                let rel = if m.bound { "<=" } else { "=" };
                out.push_str(&format!(
                    "{} {rel} {}    [{}]\n",
                    m.shown_name(),
                    m.expr,
                    m.note
                ));
            }
        }
        for m in d
            .moments
            .iter()
            .filter(|m| m.section == MomentSection::Note)
        {
            out.push_str(&format!("# note: {}\n", m.note));
        }
    }
    if let Some(rd) = &d.rules {
        out.push_str(&rules_text(rd));
    }
    if !NOT_YET.is_empty() {
        out.push_str("\n# not derived yet: ");
        out.push_str(&NOT_YET.join("; "));
        out.push('\n');
    }
    if !r.claims.is_empty() {
        out.push_str("\n# claims\n");
        for c in &r.claims {
            out.push_str(&c.text_line());
            out.push('\n');
        }
    }
    out
}

/// The JSON form: program lines and derived expressions as strings.
/// The worked chains of `tq derive --steps`, each line checked (see [`steps`]).
pub fn steps_of(r: &FileReport, seed: u64) -> Result<Vec<steps::Chain>, String> {
    steps::checked(r, seed)
}

pub fn derive_json(r: &FileReport) -> serde_json::Value {
    let d = derivation(r);
    let backward = d
        .as_ref()
        .map(|d| {
            print_items(&d.backward.items)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let gather = d
        .as_ref()
        .map(|d| {
            let items: Vec<Item> = d.gather.iter().map(|g| g.item.clone()).collect();
            print_items(&items)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    json!({
        "path": r.path,
        "diagnostics": ({
                let lines = crate::span::LineIndex::new(&r.source);
                r.diagnostics.iter().map(|d| d.to_json_at(&lines)).collect::<Vec<_>>()
            }),
        "program": print_program(&r.program).lines().collect::<Vec<_>>(),
        "backward": backward,
        "backward_gather": gather,
        "domains": listed_domains(&r.env, true).iter().map(|(n, dom)| json!({
            "name": n,
            "domain": dom.show(n),
            "integer": dom.integer,
            "lower": dom.lo.as_ref().map(|(v, strict)| json!({"value": v.to_string(), "strict": strict})),
            "upper": dom.hi.as_ref().map(|(v, strict)| json!({"value": v.to_string(), "strict": strict})),
            "from": dom.why,
        })).collect::<Vec<_>>(),
        "scalar": d.as_ref().and_then(|d| d.scalar.as_ref()).map(|sc| json!({
            "point": sc.point.iter().map(|(n, v)| json!({"name": n, "value": sym::to_ascii(v)})).collect::<Vec<_>>(),
            "values": sc.values.iter().map(Quantity::json).collect::<Vec<_>>(),
            "adjoints": sc.adjoints.iter().map(Quantity::json).collect::<Vec<_>>(),
            "partials": sc.partials.iter().map(Quantity::json).collect::<Vec<_>>(),
            "omitted": sc.omitted.iter().map(|(n, k)| json!({"name": n, "nodes": k})).collect::<Vec<_>>(),
        })),
        "mults": d.as_ref().map(|d| d.costs.iter().map(|(n, c)| json!({"name": n, "expr": sym::to_ascii(c)})).collect::<Vec<_>>()).unwrap_or_default(),
        "moments": d.as_ref().map(|d| d.moments.iter().map(|m| json!({"section": m.section.as_str(), "name": if m.bound { format!("{} <=", m.shown_name()) } else { m.shown_name() }, "expr": m.expr, "note": m.note})).collect::<Vec<_>>()).unwrap_or_default(),
        "rules": d.as_ref().and_then(|d| d.rules.as_ref()).map(rules_json),
        "not_derived_yet": NOT_YET,
        "claims": r.claims.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
    })
}

fn rules_text(rd: &crate::claims::rules::RuleDerivation) -> String {
    let mut out = format!(
        "\n# update rules {} and {}, compared on {}\n# each rule's recurrence in {} (the state eliminated)\n",
        rd.a,
        rd.b,
        rd.compared.join(", "),
        rd.compared.join(", ")
    );
    for (name, rec) in &rd.recurrences {
        out.push_str(&format!("{name}: {rec}\n"));
    }
    if let Some(f) = &rd.failure {
        out.push_str(&format!("# no mapping derived: {f}\n"));
        return out;
    }
    out.push_str(&format!(
        "# {}'s hyperparameters that give the same recurrence\n",
        rd.b
    ));
    for (n, v) in &rd.mapping {
        out.push_str(&format!("{n} = {}\n", sym::to_text(v)));
    }
    out.push_str(&format!(
        "# {}'s starting values that give the same response to the start\n",
        rd.b
    ));
    for (n, v) in &rd.starts {
        out.push_str(&format!("{n} = {}\n", sym::to_text(v)));
    }
    if !rd.starts_at_given.is_empty() {
        out.push_str("# at the starts the equivalence claim gives\n");
        for (n, v) in &rd.starts_at_given {
            out.push_str(&format!("{n} = {}\n", sym::to_text(v)));
        }
    }
    out
}

fn rules_json(rd: &crate::claims::rules::RuleDerivation) -> serde_json::Value {
    let pairs = |v: &[(String, sym::Expr)]| {
        v.iter()
            .map(|(n, e)| json!({"name": n, "expr": sym::to_ascii(e), "latex": sym::to_latex(e)}))
            .collect::<Vec<_>>()
    };
    json!({
        "a": rd.a,
        "b": rd.b,
        "compared": rd.compared,
        "recurrences": rd.recurrences.iter().map(|(n, r)| json!({"rule": n, "recurrence": r})).collect::<Vec<_>>(),
        "mapping": pairs(&rd.mapping),
        "starts": pairs(&rd.starts),
        "starts_at_given": pairs(&rd.starts_at_given),
        "failure": rd.failure,
    })
}

/// The computed tensors and scalars with a moment entry that is not a constant, in
/// declaration order: those whose moments `derive` lists and `--steps` derives.
pub(super) fn computed_entries<'a>(
    r: &'a FileReport,
    a: &'a crate::moments::Analysis,
) -> impl Iterator<Item = (&'a String, &'a crate::moments::rv::Rv)> + 'a {
    r.env
        .decl_order
        .iter()
        .chain(&r.env.scalar_order)
        .filter_map(move |key| match a.entries.get(&(key.clone(), false)) {
            Some(crate::moments::Entry::Plain(rv))
                if !rv.is_constant()
                    && r.env
                        .tensors
                        .get(key)
                        .is_none_or(|t| t.kind == crate::check::TensorKind::Computed) =>
            {
                Some((key, &**rv))
            }
            _ => None,
        })
}

/// The border effect under zero padding at the file's sample sizes (the analysis's one
/// run, `moments::position::border`), or a note saying why it is not shown.
fn border_lines(r: &FileReport) -> Vec<MomentLine> {
    use crate::moments::position::{Border, BORDER_BUDGET};
    let fmt = |p: &[i64]| {
        format!(
            "[{}]",
            p.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    match r.analysis().border() {
        Border::None => Vec::new(),
        Border::TooLarge(_) => vec![MomentLine::text(
            MomentSection::Note,
            String::new(),
            String::new(),
            format!(
                "zero padding: the border effect is not shown: the second-moment program run position by position needs more than {BORDER_BUDGET} element evaluations at the sample sizes; smaller sizes on the `sample` line show it"
            ),
        )],
        Border::Stats(stats) => stats
            .iter()
            .map(|b| {
                MomentLine::text(
                    MomentSection::Border,
                    format!("Var({})", b.member),
                    format!(
                        "{:.4} at {} (least) to {:.4} at {} (most), mean {:.4} over {} positions{}",
                        b.least.1,
                        fmt(&b.least.0),
                        b.most.1,
                        fmt(&b.most.0),
                        b.mean,
                        b.positions,
                        b.closed
                            .map(|c| format!("; the closed form gives {c:.4} away from the border"))
                            .unwrap_or_default()
                    ),
                    format!(
                        "zero padding at the sample sizes ({}): the second-moment program run position by position, exact for these sizes",
                        b.sizes.join(", ")
                    ),
                )
            })
            .collect(),
    }
}

/// Every declared symbol's domain, as claims draw their points from it: those inferred
/// from the declarations (`check::domains`), and the other `symbol`s, positive reals by
/// tq's convention (docs/soundness.md, "The domains"); sizes (whole numbers >= 1) only
/// with `sizes`.
fn listed_domains(env: &crate::check::Env, sizes: bool) -> Vec<(String, crate::sym::Domain)> {
    let mut out: Vec<(String, crate::sym::Domain)> = env
        .domains
        .iter()
        .filter(|(n, _)| sizes || !env.sizes.contains_key(*n))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    for name in env.symbols.keys() {
        if env.domains.contains_key(name) || env.sizes.contains_key(name) {
            continue;
        }
        if env.signed.contains(name) {
            out.push((
                name.clone(),
                crate::sym::Domain {
                    why: vec![
                        "a location (a distribution's mean, an end of uniform, an offset added to a tensor value): every real"
                            .into(),
                    ],
                    ..crate::sym::Domain::default()
                },
            ));
            continue;
        }
        let why = if env.fractional.contains(name) {
            "a `symbol`: a positive real, tq's convention".to_string()
        } else {
            "a `symbol`: a positive real, tq's convention; a whole number >= 1 in a claim that reads it in an exponent".to_string()
        };
        out.push((
            name.clone(),
            crate::sym::Domain {
                lo: Some((num_bigint::BigInt::from(0).into(), true)),
                hi: None,
                integer: false,
                why: vec![why],
                relations: vec![],
            },
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
