//! Whether a claim's setting is empty: the givens, the relations the declarations give
//! between symbols and the symbols' domains admit no point (`given a < c` with
//! `normal(0, a - c)`, which needs a ≥ c). A claim about no point is never proved or
//! confirmed: it is `undecided`, "the givens contradict the domains" (docs/soundness.md,
//! "The verdicts"; session 32: `Var(x) == a - c given a < c` was proved vacuously).
//!
//! The test is exact and one-sided: every relation is read as a linear inequality in its
//! monomials (`p q` is one unknown, `a^2` another), and Fourier–Motzkin elimination in
//! rationals shows the inequalities inconsistent. Treating the monomials as independent
//! unknowns only adds points, so an inconsistency found is one of the claim's setting; a
//! setting this test cannot show empty is left to the engines (a bounded number of rows).

use super::*;
use crate::sym::expand;

/// The most rows an elimination step may produce before the test gives up.
const MAX_ROWS: usize = 400;
/// The most unknowns (monomials) the test eliminates.
const MAX_UNKNOWNS: usize = 24;

/// `Σ coef · monomial + constant > 0` (strict) or `≥ 0`, with the indices of the written
/// relations it was derived from.
#[derive(Clone, Debug)]
struct Row {
    coef: BTreeMap<Expr, BigRational>,
    constant: BigRational,
    strict: bool,
    from: BTreeSet<usize>,
}

/// `e` as a linear form in its monomials: the constant and each monomial's coefficient.
fn linear(e: &Expr) -> (BTreeMap<Expr, BigRational>, BigRational) {
    let e = expand(e);
    let terms: Vec<&Expr> = match &e {
        Expr::Add(ts) => ts.iter().collect(),
        e => vec![e],
    };
    let mut coef: BTreeMap<Expr, BigRational> = BTreeMap::new();
    let mut constant = BigRational::zero();
    for t in terms {
        let factors: Vec<&Expr> = match t {
            Expr::Mul(fs) => fs.iter().collect(),
            t => vec![t],
        };
        let mut c = BigRational::one();
        let mut rest = Vec::new();
        for f in factors {
            match f {
                Expr::Num(r) => c *= r,
                f => rest.push(f.clone()),
            }
        }
        if rest.is_empty() {
            constant += c;
            continue;
        }
        let m = if rest.len() == 1 {
            rest.pop().expect("one factor")
        } else {
            Expr::Mul(rest).normalize()
        };
        let entry = coef.entry(m).or_insert_with(BigRational::zero);
        *entry += c;
    }
    coef.retain(|_, c| !c.is_zero());
    (coef, constant)
}

/// The rows of `lhs rel rhs` (none for an approximation).
fn rows_of(lhs: &Expr, rel: &Rel, rhs: &Expr, at: usize) -> Vec<Row> {
    let (coef, constant) = linear(&(lhs.clone() - rhs.clone()));
    let row = |sign: i64, strict: bool| {
        let s = BigRational::from_integer(sign.into());
        Row {
            coef: coef.iter().map(|(m, c)| (m.clone(), c * &s)).collect(),
            constant: &constant * &s,
            strict,
            from: BTreeSet::from([at]),
        }
    };
    match rel {
        Rel::Eq => vec![row(1, false), row(-1, false)],
        Rel::Ge => vec![row(1, false)],
        Rel::Gt => vec![row(1, true)],
        Rel::Le => vec![row(-1, false)],
        Rel::Lt => vec![row(-1, true)],
        Rel::Approx(..) | Rel::ApproxRel(_) => Vec::new(),
    }
}

/// A row with no unknown left that fails (`0 > 0`, `−1 ≥ 0`).
fn fails(r: &Row) -> bool {
    r.coef.is_empty() && (r.constant.is_negative() || (r.strict && r.constant.is_zero()))
}

/// The relations (written as text) from which the rows show that no point satisfies
/// them all, or `None` when the elimination finds them consistent or gives up.
/// `relations` are the givens and the declarations' relations; `bounds` each symbol's
/// interval (its domain), given as relations of the symbol with a number.
pub fn contradiction(relations: &[(Assumption, String)]) -> Option<Vec<String>> {
    let mut rows: Vec<Row> = Vec::new();
    for (k, ((a, r, b), _)) in relations.iter().enumerate() {
        rows.extend(rows_of(a, r, b, k));
    }
    let shown =
        |r: &Row| -> Vec<String> { r.from.iter().map(|k| relations[*k].1.clone()).collect() };
    if let Some(r) = rows.iter().find(|r| fails(r)) {
        return Some(shown(r));
    }
    let unknowns: BTreeSet<Expr> = rows.iter().flat_map(|r| r.coef.keys().cloned()).collect();
    if unknowns.len() > MAX_UNKNOWNS {
        return None;
    }
    let mut left: Vec<Expr> = unknowns.into_iter().collect();
    while !left.is_empty() {
        // The unknown whose elimination makes the fewest rows.
        let count = |m: &Expr| {
            let pos = rows
                .iter()
                .filter(|r| r.coef.get(m).is_some_and(|c| c.is_positive()))
                .count();
            let neg = rows
                .iter()
                .filter(|r| r.coef.get(m).is_some_and(|c| c.is_negative()))
                .count();
            pos * neg
        };
        let (at, _) = left.iter().enumerate().min_by_key(|(_, m)| count(m))?;
        let m = left.remove(at);
        let (with, mut next): (Vec<Row>, Vec<Row>) =
            rows.into_iter().partition(|r| r.coef.contains_key(&m));
        let (pos, neg): (Vec<Row>, Vec<Row>) =
            with.into_iter().partition(|r| r.coef[&m].is_positive());
        for p in &pos {
            for n in &neg {
                let a = p.coef[&m].clone();
                let b = -n.coef[&m].clone();
                let mut coef: BTreeMap<Expr, BigRational> = BTreeMap::new();
                for (k, c) in &p.coef {
                    *coef.entry(k.clone()).or_insert_with(BigRational::zero) += c * &b;
                }
                for (k, c) in &n.coef {
                    *coef.entry(k.clone()).or_insert_with(BigRational::zero) += c * &a;
                }
                coef.retain(|_, c| !c.is_zero());
                let row = Row {
                    coef,
                    constant: &p.constant * &b + &n.constant * &a,
                    strict: p.strict || n.strict,
                    from: p.from.union(&n.from).cloned().collect(),
                };
                if fails(&row) {
                    return Some(shown(&row));
                }
                next.push(row);
            }
        }
        if next.len() > MAX_ROWS {
            return None;
        }
        rows = next;
    }
    None
}

/// [`contradiction`] for the options of a claim: its assumptions (the givens and the
/// declarations' relations) and each symbol's domain, closed (its declared interval,
/// non-negative for a symbol neither declared signed nor given a lower bound, the
/// sampling convention of docs/soundness.md, "The domains"). The reason, when the
/// setting is empty.
pub fn empty_setting(opts: &CheckOptions) -> Option<String> {
    let mut relations: Vec<(Assumption, String)> = Vec::new();
    let mut syms = BTreeSet::new();
    for (a, r, b) in &opts.assumptions {
        syms.extend(a.free_symbols());
        syms.extend(b.free_symbols());
        relations.push((
            (a.clone(), r.clone(), b.clone()),
            format!("{} {} {}", to_ascii(a), r.symbol(), to_ascii(b)),
        ));
    }
    // Only a setting some relation restricts can be empty beyond what the interval test
    // of each symbol already reports.
    if relations.is_empty() {
        return None;
    }
    for s in &syms {
        if matches!(s.as_str(), "pi" | "e") && !opts.domains.contains_key(s) {
            continue;
        }
        // An atom that stands for a value (a moment, an element: `#mc0`, `x[0]`) has no
        // domain of its own here.
        if !s.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // The closure of each domain: an open end is taken as closed. A setting at an
        // open end (`given eps = 0` of a symbol positive by the sampling convention) is
        // the checker's to judge (E0512), not a contradiction here; a closure only adds
        // points, so an inconsistency found is still one of the claim's setting.
        let x = Expr::sym(s);
        let d = opts.domains.get(s);
        let lo = d.and_then(|d| d.lo.clone());
        let mut bounds: Vec<(Rel, BigRational)> = Vec::new();
        match lo {
            Some((v, _)) => bounds.push((Rel::Ge, v)),
            None if opts.positive_symbols.contains(s) || !opts.signed_symbols.contains(s) => {
                bounds.push((Rel::Ge, BigRational::zero()))
            }
            None => {}
        }
        if let Some((v, _)) = d.and_then(|d| d.hi.clone()) {
            bounds.push((Rel::Le, v));
        }
        for (r, v) in bounds {
            let text = format!("{s} {} {v} (its domain)", r.symbol());
            relations.push(((x.clone(), r, Expr::num(v)), text));
        }
    }
    let from = contradiction(&relations)?;
    Some(format!(
        "the givens contradict the domains ({}): the claim is about no point",
        from.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: &str, r: Rel, b: &str) -> (Assumption, String) {
        let p = |s: &str| crate::sym::parse_ascii(s).expect("parses");
        ((p(a), r, p(b)), format!("{a} ? {b}"))
    }

    #[test]
    fn a_given_against_a_relation_of_the_domains_is_found() {
        // normal(0, a - c): a - c >= 0; given a < c.
        let rs = [rel("a - c", Rel::Ge, "0"), rel("a", Rel::Lt, "c")];
        assert_eq!(contradiction(&rs).map(|v| v.len()), Some(2));
        // given a <= c leaves a = c: consistent.
        let rs = [rel("a - c", Rel::Ge, "0"), rel("a", Rel::Le, "c")];
        assert!(contradiction(&rs).is_none());
        // a product as one unknown: 0 < p q <= 1 and p q > 1.
        let rs = [
            rel("p*q", Rel::Gt, "0"),
            rel("p*q", Rel::Le, "1"),
            rel("p*q", Rel::Gt, "1"),
        ];
        assert!(contradiction(&rs).is_some());
        // a chain through three symbols: a < b, b < c, c < a.
        let rs = [
            rel("a", Rel::Lt, "b"),
            rel("b", Rel::Lt, "c"),
            rel("c", Rel::Lt, "a"),
        ];
        assert_eq!(contradiction(&rs).map(|v| v.len()), Some(3));
        // and the same chain closed by <= only where it allows equality.
        let rs = [
            rel("a", Rel::Le, "b"),
            rel("b", Rel::Le, "c"),
            rel("c", Rel::Le, "a"),
        ];
        assert!(contradiction(&rs).is_none());
        // an equality against a bound: 2 a + 1 = 2 c with a - c >= 0.
        let rs = [rel("a - c", Rel::Ge, "0"), rel("2*a + 1", Rel::Eq, "2*c")];
        assert!(contradiction(&rs).is_some());
    }
}
