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
        Some(sturm::reduce(&np, &dp))
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
        let f = sturm::mul(&np, &dp);
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

    /// Several variables: along each variable, with the others fixed at each base
    /// point, the test points between and around that section's real roots.
    pub(super) fn sections_along_each_variable(
        &self,
        bases: &[BTreeMap<String, BigRational>],
    ) -> SectionResult {
        if self.syms.len() < 2 || !self.consts.is_empty() || matches!(self.rel, Rel::Eq) {
            return SectionResult::Held(0);
        }
        let mut tested = 0;
        for base in bases {
            for x in &self.syms {
                let mut others = base.clone();
                others.remove(x);
                let (l, r) = (subs_point(self.lhs, &others), subs_point(self.rhs, &others));
                let Some((np, dp)) = self.fraction_in(&l, &r, x) else {
                    continue;
                };
                let iv = self.dom.of(x);
                let integer = self.dom.integers.contains(x);
                let f = sturm::mul(&np, &dp);
                let Some(s) = sturm::sections(&f, &sturm_end(&iv.lo), &sturm_end(&iv.hi), integer)
                else {
                    continue;
                };
                let mut pts = s.points.clone();
                pts.extend(s.exact_roots.iter().cloned());
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
}
