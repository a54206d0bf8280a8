//! Exact sections: a one-variable polynomial or rational relation decided by real-root
//! isolation, and sections of a claim along each variable through random bases.

use super::*;

/// How many random points serve as bases of the sections along each variable.
pub(super) const SECTION_BASES: usize = 4;

pub(super) enum SectionResult {
    /// Held at this many section points.
    Held(usize),
    /// Failed at a point, re-checked.
    Fails(Witness),
}

/// The end of an interval as [`crate::sym::sturm::End`].
fn sturm_end(e: &crate::sym::defined::End) -> crate::sym::sturm::End {
    match e {
        crate::sym::defined::End::Unbounded => None,
        crate::sym::defined::End::At(v, open) => Some((v.clone(), *open)),
    }
}

impl Problem<'_> {
    /// Whether every assumption is a bound of one symbol by a number (which the domains
    /// hold exactly).
    pub(super) fn assumptions_are_bounds(&self) -> bool {
        self.opts.assumptions.iter().all(|(a, _, b)| {
            matches!(
                (a, b),
                (Expr::Sym(_), Expr::Num(_)) | (Expr::Num(_), Expr::Sym(_))
            )
        })
    }

    /// left − right as numerator and denominator polynomials in `x`, in lowest terms.
    pub(super) fn fraction_in(&self, lhs: &Expr, rhs: &Expr, x: &str) -> Option<(Poly, Poly)> {
        let d = lhs.clone() - rhs.clone();
        let (n, den) = crate::sym::together(&d);
        let np = sturm::poly_of(&n, x)?;
        let dp = sturm::poly_of(&den, x)?;
        if dp.is_empty() {
            return None;
        }
        sturm::reduce(&np, &dp)
    }

    /// The exact re-check of a point found by the sections (the original sides
    /// evaluated exactly), with the floating-point value of both sides as a second,
    /// independent path noted in `checked_by`.
    pub(super) fn recheck(&self, at: &BTreeMap<String, BigRational>) -> Option<Witness> {
        let PointResult::Fails(mut w) = self.at_point(at) else {
            return None;
        };
        if w.checked_by != "exact evaluation" {
            return Some(w);
        }
        let atf = self.f64_point(at);
        let note = match (self.lhs.eval_f64(&atf), self.rhs.eval_f64(&atf)) {
            (Ok(l), Ok(r)) if l.is_finite() && r.is_finite() && !holds(l, self.rel, r) => {
                format!("floating point agrees: left ≈ {l:.6e}, right ≈ {r:.6e}")
            }
            (Ok(l), Ok(r)) => {
                format!("floating point cannot see it (left ≈ {l:.6e}, right ≈ {r:.6e}: rounding)")
            }
            _ => "floating point cannot evaluate it".to_string(),
        };
        w.checked_by = format!("exact evaluation; {note}");
        Some(w)
    }

    /// A one-variable polynomial or rational inequality, decided exactly: `proved` when
    /// left − right has the claimed sign at a test point in every interval between and
    /// around its real roots (and, for a strict relation, no root in the domain),
    /// `refuted` at a rational test point or root where it fails (re-checked by exact
    /// and floating-point evaluation), `undecided` when it fails only at an irrational
    /// root. `None` when the claim is not of this form or a budget ran out.
    pub(super) fn univariate(&self, definedness: &Definedness) -> Option<Decision> {
        let (want, strict) = match self.rel {
            Rel::Ge => (1i8, false),
            Rel::Gt => (1, true),
            Rel::Le => (-1, false),
            Rel::Lt => (-1, true),
            _ => return None,
        };
        if self.syms.len() != 1 || !self.consts.is_empty() || !self.assumptions_are_bounds() {
            return None;
        }
        let x = self.syms.iter().next()?.clone();
        let (np, dp) = self.fraction_in(self.lhs, self.rhs, &x)?;
        let iv = self.dom.of(&x);
        let (lo, hi) = (sturm_end(&iv.lo), sturm_end(&iv.hi));
        let integer = self.dom.integers.contains(&x);
        let f = sturm::mul(&np, &dp)?;
        let s = sturm::sections(&f, &lo, &hi, integer)?;
        let point = |v: &BigRational| BTreeMap::from([(x.clone(), v.clone())]);
        let fails_at = |v: &BigRational| {
            let sd = sturm::sign_at(&dp, v);
            if sd == 0 {
                return false;
            }
            let sg = sturm::sign_at(&np, v) * sd;
            sg == -want || (strict && sg == 0)
        };
        let mut candidates: Vec<&BigRational> = s.points.iter().filter(|v| fails_at(v)).collect();
        if strict {
            candidates.extend(s.exact_roots.iter().filter(|v| fails_at(v)));
        }
        // The simplest failing point first.
        candidates.sort_by_key(|v| v.numer().bits() + v.denom().bits());
        let any_failing = !candidates.is_empty();
        for v in candidates {
            let in_domain = |c: &BigRational| {
                crate::sym::domain::within(&lo, &hi, c)
                    && (!integer || c.is_integer())
                    && fails_at(c)
            };
            let v = &sturm::simpler(v, in_domain);
            if let Some(w) = self.recheck(&point(v)) {
                let mut d = decision(Verdict::Refuted, Method::ExactEval, w.describe());
                d.witness = Some(w);
                return Some(d.with_points(1));
            }
        }
        // The polynomial form fails where the sides, evaluated, do not (a point outside
        // a definedness condition): not decided here.
        if any_failing {
            return None;
        }
        // A denominator root in the domain: undefined there; left to the other steps.
        if dp.len() > 1 {
            let sd = sturm::sections(&dp, &lo, &hi, integer)?;
            if sd.roots_inside > 0 {
                return None;
            }
        }
        let degree = f.len().saturating_sub(1);
        if strict && np.len() > 1 {
            let sn = sturm::sections(&np, &lo, &hi, integer)?;
            if sn.roots_inside > 0 {
                return Some(decision(
                    Verdict::Undecided,
                    Method::None,
                    format!(
                        "left − right is 0 at {} real root(s) of a polynomial of degree {} in {x} inside the domain (Sturm sequence), irrational: the strict relation fails there, but no rational witness exists",
                        sn.roots_inside,
                        np.len() - 1
                    ),
                ));
            }
        }
        let what = format!(
            "left − right {} 0 at {} test point(s) between and around the {} real root(s) in the domain of {x} (a polynomial of degree {degree} in {x}, numerator times denominator; Sturm sequence, exact){}",
            if want > 0 {
                if strict { ">" } else { ">=" }
            } else if strict {
                "<"
            } else {
                "<="
            },
            s.points.len(),
            s.roots_inside,
            if integer {
                "; whole numbers tested one by one"
            } else {
                ""
            }
        );
        if let Some(u) = self.undefined(definedness, &what) {
            return Some(u);
        }
        Some(
            proof(ProofRule::RealRootIsolation, Method::Symbolic, what).with_points(s.points.len()),
        )
    }

    /// The refutation at the first failing point of [`Self::sections_along_each_variable`]
    /// through `bases` (after `agreed` points held), if any.
    pub(super) fn refuted_on_sections(
        &self,
        bases: &[BTreeMap<String, BigRational>],
        agreed: usize,
    ) -> Option<super::Decision> {
        match self.sections_along_each_variable(bases) {
            SectionResult::Fails(w) => {
                let mut d = super::decision(Verdict::Refuted, Method::ExactEval, w.describe());
                d.witness = Some(w);
                Some(d.with_points(agreed + 1))
            }
            _ => None,
        }
    }

    /// Several variables: along each variable, with the others fixed at each base
    /// point, the test points between and around that section's real roots.
    pub(super) fn sections_along_each_variable(
        &self,
        bases: &[BTreeMap<String, BigRational>],
    ) -> SectionResult {
        // One variable too when a given is not a bound by a number (`x^2 <= 4.01`): the
        // one-variable rule and the grid do not read its boundary.
        let one = self.syms.len() == 1 && !self.assumptions_are_bounds();
        if (self.syms.len() < 2 && !one) || !self.consts.is_empty() || matches!(self.rel, Rel::Eq) {
            return SectionResult::Held(0);
        }
        let bases = if one {
            &bases[..bases.len().min(1)]
        } else {
            bases
        };
        let mut tested = 0;
        for base in bases {
            for x in &self.syms {
                // Once the exact work is refused nothing below can be done: stop before
                // the symbolic work of the next section (whose budget would then be
                // named as the reason).
                if crate::sym::exact_work::exact_work_spent() {
                    return SectionResult::Held(tested);
                }
                let mut others = base.clone();
                others.remove(x);
                let integer = self.dom.integers.contains(x);
                let Some(pts) = self.section_points(&others, x) else {
                    continue;
                };
                for v in pts {
                    let at = |c: &BigRational| {
                        let mut p = others.clone();
                        p.insert(x.clone(), c.clone());
                        p
                    };
                    match self.at_point(&at(&v)) {
                        PointResult::Holds { .. } => tested += 1,
                        PointResult::Fails(_) => {
                            // The simplest value of x that still fails, then the
                            // simplest values of the others; re-checked there.
                            let v = sturm::simpler(&v, |c| {
                                (!integer || c.is_integer())
                                    && matches!(self.at_point(&at(c)), PointResult::Fails(_))
                            });
                            let mut p = at(&v);
                            if let PointResult::Fails(w) = self.at_point(&p) {
                                p = self.shrink(w).point;
                            }
                            p = self.shrink_along_sections(p);
                            if let Some(w) = self.recheck(&p) {
                                return SectionResult::Fails(w);
                            }
                        }
                        PointResult::Skip(_) => {}
                    }
                }
            }
        }
        SectionResult::Held(tested)
    }

    /// The test points of the section along `x`, the other symbols at `others`: a point
    /// between and around every real root of left − right and of each given's sides
    /// (session 38, probe37 p05: `(1 - e x^2)^2 <= 1 given e x^2 <= 2.01` fails only for
    /// e x^2 in (2, 2.01], between a root of the claim and a given's boundary), the
    /// rational roots met, and each given's rational boundary points (its closed ends),
    /// all inside x's domain. `None` when the section is not rational in x or a budget
    /// ran out.
    fn section_points(
        &self,
        others: &BTreeMap<String, BigRational>,
        x: &str,
    ) -> Option<Vec<BigRational>> {
        let (l, r) = (subs_point(self.lhs, others), subs_point(self.rhs, others));
        let (np, dp) = self.fraction_in(&l, &r, x)?;
        let iv = self.dom.of(x);
        let integer = self.dom.integers.contains(x);
        let f = sturm::mul(&np, &dp)?;
        let (lo, hi) = (sturm_end(&iv.lo), sturm_end(&iv.hi));
        let (with_givens, ends) = self.given_polys(others, x);
        let s = sturm::mul(&f, &with_givens)
            .and_then(|g| sturm::sections(&g, &lo, &hi, integer))
            .or_else(|| sturm::sections(&f, &lo, &hi, integer))?;
        let mut pts = s.points;
        pts.extend(s.exact_roots);
        pts.extend(
            ends.into_iter()
                .filter(|v| crate::sym::domain::within(&lo, &hi, v))
                .filter(|v| !integer || v.is_integer()),
        );
        pts.sort();
        pts.dedup();
        Some(pts)
    }

    /// A simpler failing point, from a failing `p`: each symbol in turn set to a simple
    /// value of its domain ([`Domains::candidates`]), the others moved along their
    /// sections to the simplest value at which the relation still fails; kept when the
    /// point is shorter in all (the sum of the numerators' and denominators' bits).
    /// `(1 - e x^2)^2 <= 1 given e x^2 <= 2.01` fails at x = 1, e = 201/100 rather than
    /// at the first failure the sections meet (e = 55/14, x = 5/7).
    fn shrink_along_sections(
        &self,
        mut p: BTreeMap<String, BigRational>,
    ) -> BTreeMap<String, BigRational> {
        let bits = |q: &BTreeMap<String, BigRational>| -> u64 {
            q.values()
                .map(|v| v.numer().bits() + v.denom().bits())
                .sum()
        };
        let fails =
            |q: &BTreeMap<String, BigRational>| matches!(self.at_point(q), PointResult::Fails(_));
        for y in &self.syms {
            if crate::sym::exact_work::exact_work_spent() {
                break;
            }
            let mut best: Option<BTreeMap<String, BigRational>> = None;
            for c in self.dom.candidates(y) {
                if p.get(y) == Some(&c) {
                    break;
                }
                let mut q = p.clone();
                q.insert(y.clone(), c);
                for x in self.syms.iter().filter(|x| *x != y) {
                    let mut others = q.clone();
                    others.remove(x);
                    let Some(pts) = self.section_points(&others, x) else {
                        continue;
                    };
                    let integer = self.dom.integers.contains(x);
                    let at = |v: &BigRational| {
                        let mut t = others.clone();
                        t.insert(x.clone(), v.clone());
                        t
                    };
                    for v in pts.iter().filter(|v| fails(&at(v))) {
                        let v =
                            sturm::simpler(v, |c| (!integer || c.is_integer()) && fails(&at(c)));
                        let t = at(&v);
                        if bits(&t) < bits(best.as_ref().unwrap_or(&p)) {
                            best = Some(t);
                        }
                    }
                }
                if best.is_some() {
                    break;
                }
            }
            if let Some(b) = best {
                p = b;
            }
        }
        p
    }

    /// The givens along `x`, the other symbols at `others`: the product of the
    /// numerators and denominators of their differences (left − right) as a polynomial
    /// in `x` (1 when none is one), and the rational roots of those numerators, the
    /// points where a given's relation changes (a linear one solved exactly, others by
    /// the rational root theorem).
    fn given_polys(
        &self,
        others: &BTreeMap<String, BigRational>,
        x: &str,
    ) -> (Poly, Vec<BigRational>) {
        let mut prod: Poly = vec![BigRational::one()];
        let mut ends = Vec::new();
        for (a, _, b) in &self.opts.assumptions {
            let (a, b) = (subs_point(a, others), subs_point(b, others));
            if !(a.free_symbols().contains(x) || b.free_symbols().contains(x)) {
                continue;
            }
            let Some((np, dp)) = self.fraction_in(&a, &b, x) else {
                continue;
            };
            for q in [&np, &dp] {
                if q.len() > 1 {
                    if let Some(m) = sturm::mul(&prod, q) {
                        prod = m;
                    }
                }
            }
            match np.len() {
                2 if !np[1].is_zero() => ends.push(-&np[0] / &np[1]),
                n if n > 2 => ends.extend(sturm::rational_roots(&np).unwrap_or_default()),
                _ => {}
            }
        }
        (prod, ends)
    }

    /// Several variables, an ordering: a search for the minimum of left − right (of
    /// right − left for `<=`, `<`) by exact coordinate descent from each base point.
    /// Along each variable, the others fixed, the difference is a polynomial; the
    /// variable moves to its section's critical point (exactly where the section is
    /// quadratic, by Newton's method in floating point, then a rational, where it is of
    /// higher degree), within its domain (rounded for a whole number), when the
    /// difference decreases there, for at most [`DESCENT_SWEEPS`] sweeps. A claim false
    /// only on a small set around a minimum (`(a - 3/7)^2 + (b - 5/11)^2 >= 10^-6`, false
    /// on a disc of radius 10^-3) fails at the point the descent reaches; the failure is
    /// made simpler coordinate by coordinate and re-checked exactly. Evidence only when
    /// it holds: the number of points the descent evaluated.
    pub(super) fn descend(&self, bases: &[BTreeMap<String, BigRational>]) -> SectionResult {
        let want = match self.rel {
            Rel::Ge | Rel::Gt => 1i8,
            Rel::Le | Rel::Lt => -1,
            _ => return SectionResult::Held(0),
        };
        // The variables of the sides (a symbol only the assumptions read stays where the
        // base has it), a few of them, the sides a polynomial of degree 2 or more in one.
        let mut vars = self.lhs.free_symbols();
        vars.extend(self.rhs.free_symbols());
        vars.retain(|s| self.syms.contains(s));
        if vars.len() < 2 || vars.len() > DESCENT_VARIABLES || !self.consts.is_empty() {
            return SectionResult::Held(0);
        }
        let Some(first) = bases.first() else {
            return SectionResult::Held(0);
        };
        let polynomial = vars.iter().any(|x| {
            let mut others = first.clone();
            others.remove(x);
            let (l, r) = (subs_point(self.lhs, &others), subs_point(self.rhs, &others));
            self.fraction_in(&l, &r, x)
                .is_some_and(|(np, dp)| dp.len() == 1 && np.len() >= 3)
        });
        if !polynomial {
            return SectionResult::Held(0);
        }
        let mut tested = 0;
        for base in bases {
            let mut at = base.clone();
            for _ in 0..DESCENT_SWEEPS {
                let mut moved = false;
                for x in &vars {
                    let Some(cur) = at.get(x).cloned() else {
                        continue;
                    };
                    let mut others = at.clone();
                    others.remove(x);
                    let (l, r) = (subs_point(self.lhs, &others), subs_point(self.rhs, &others));
                    let Some((np, dp)) = self.fraction_in(&l, &r, x) else {
                        continue;
                    };
                    if dp.len() != 1 || np.len() < 3 || dp[0].is_zero() {
                        continue;
                    }
                    // Minimize sign · np, sign = want · sign(dp): the difference over a
                    // positive constant.
                    let sign = if (want > 0) == dp[0].is_positive() {
                        BigRational::one()
                    } else {
                        -BigRational::one()
                    };
                    let f: sturm::Poly = np.iter().map(|c| c * &sign).collect();
                    let der: sturm::Poly = f
                        .iter()
                        .enumerate()
                        .skip(1)
                        .map(|(k, c)| c * BigRational::from_integer(BigInt::from(k)))
                        .collect();
                    let Some(mut v) = critical_point(&der, &cur) else {
                        continue;
                    };
                    if self.dom.integers.contains(x) {
                        v = v.round();
                    }
                    if v == cur || !self.dom.of(x).contains(&v) {
                        continue;
                    }
                    if sturm::eval(&f, &v) >= sturm::eval(&f, &cur) {
                        continue;
                    }
                    let mut next = at.clone();
                    next.insert(x.clone(), v.clone());
                    if !self.assumptions_hold(&next) {
                        continue;
                    }
                    tested += 1;
                    if let PointResult::Fails(_) = self.at_point(&next) {
                        // Each coordinate as simple as the failure allows, then the
                        // exact re-check.
                        let mut p = next;
                        for y in &self.syms {
                            let Some(c) = p.get(y).cloned() else { continue };
                            let integer = self.dom.integers.contains(y);
                            let simple = sturm::simpler(&c, |t| {
                                let mut q = p.clone();
                                q.insert(y.clone(), t.clone());
                                (!integer || t.is_integer())
                                    && matches!(self.at_point(&q), PointResult::Fails(_))
                            });
                            p.insert(y.clone(), simple);
                        }
                        if let Some(w) = self.recheck(&p) {
                            return SectionResult::Fails(w);
                        }
                        return SectionResult::Held(tested);
                    }
                    at = next;
                    moved = true;
                }
                if !moved {
                    break;
                }
            }
        }
        SectionResult::Held(tested)
    }
}

/// Sweeps of [`Problem::descend`] from each base point.
pub(super) const DESCENT_SWEEPS: usize = 30;

/// [`Problem::descend`] moves at most this many variables.
pub(super) const DESCENT_VARIABLES: usize = 6;

/// A critical point of the section whose derivative is `der`, near `cur`: the root of a
/// linear derivative exactly, else Newton's method from `cur` in floating point (a
/// minimum: the second derivative positive there), as a rational; long rationals are
/// rounded through floating point so the coordinates stay short.
fn critical_point(der: &sturm::Poly, cur: &BigRational) -> Option<BigRational> {
    let v = match der.len() {
        0 | 1 => return None,
        2 => {
            if !der[1].is_positive() {
                return None;
            }
            -&der[0] / &der[1]
        }
        _ => {
            let d2: sturm::Poly = der
                .iter()
                .enumerate()
                .skip(1)
                .map(|(k, c)| c * BigRational::from_integer(BigInt::from(k)))
                .collect();
            let f1: Vec<f64> = der.iter().map(sturm::to_f64).collect();
            let f2: Vec<f64> = d2.iter().map(sturm::to_f64).collect();
            let horner = |p: &[f64], x: f64| p.iter().rev().fold(0.0, |acc, c| acc * x + c);
            let mut x = sturm::to_f64(cur);
            for _ in 0..60 {
                let (g, h) = (horner(&f1, x), horner(&f2, x));
                if !(g.is_finite() && h.is_finite()) || h <= 0.0 {
                    return None;
                }
                let step = g / h;
                x -= step;
                if step.abs() <= 1e-15 * x.abs().max(1e-300) {
                    break;
                }
            }
            if !x.is_finite() {
                return None;
            }
            BigRational::from_float(x)?
        }
    };
    if v.numer().bits() + v.denom().bits() > 256 {
        return BigRational::from_float(sturm::to_f64(&v));
    }
    Some(v)
}
