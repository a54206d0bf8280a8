//! The relation at points: the assumptions, whole-number repairs, definedness, small
//! points of the domains, the verdict at one point with its re-checked witness, and
//! the range of the difference over the domains.

use super::*;

impl Problem<'_> {
    /// The point in floating point, with the named constants.
    pub(super) fn f64_point(&self, at: &BTreeMap<String, BigRational>) -> BTreeMap<String, f64> {
        let mut atf = to_f64_point(at);
        for (k, v) in &self.consts {
            atf.entry(k.clone()).or_insert(*v);
        }
        atf
    }

    pub(super) fn assumptions_hold(&self, at: &BTreeMap<String, BigRational>) -> bool {
        let atf = self.f64_point(at);
        self.whole_at(at)
            && self.opts.assumptions.iter().all(|(a, r, b)| {
                match (a.eval_exact(at), b.eval_exact(at)) {
                    (Ok(x), Ok(y)) => holds_exact(&x, r, &y).unwrap_or(false),
                    _ => match (a.eval_f64(&atf), b.eval_f64(&atf)) {
                        (Ok(x), Ok(y)) => holds(x, r, y),
                        _ => false,
                    },
                }
            })
    }

    /// The point with each whole-number symbol that the assumptions bound linearly
    /// (`Y - 1 <= (X - D)/2` and `(X - D)/2 < Y`: a size derived by `floor`) set to the
    /// smallest whole number they allow at the other symbols' values, so that random
    /// points satisfy a derived size's relation instead of missing it almost always.
    /// `None` when the bounds leave no whole number.
    pub(super) fn repair(
        &self,
        at: &BTreeMap<String, BigRational>,
        ints: &BTreeSet<String>,
    ) -> Option<BTreeMap<String, BigRational>> {
        let mut at = at.clone();
        for s in ints {
            if !at.contains_key(s) {
                continue;
            }
            // Bounds on s: (value, strict).
            let mut lo: Option<(BigRational, bool)> = None;
            let mut hi: Option<(BigRational, bool)> = None;
            let mut tighten = |b: BigRational, strict: bool, lower: bool| {
                let slot = if lower { &mut lo } else { &mut hi };
                let better = match slot {
                    None => true,
                    Some((v, st)) => {
                        if lower {
                            b > *v || (b == *v && strict && !*st)
                        } else {
                            b < *v || (b == *v && strict && !*st)
                        }
                    }
                };
                if better {
                    *slot = Some((b, strict));
                }
            };
            let mut any = false;
            for (a, r, b) in &self.opts.assumptions {
                let d = crate::sym::expand(&(a.clone() - b.clone()));
                if !d.free_symbols().contains(s) {
                    continue;
                }
                let Some(c) = crate::sym::expand(&d.diff(s)).as_num().cloned() else {
                    continue;
                };
                if c.is_zero() {
                    continue;
                }
                let Ok(v) = d.subs(s, &Expr::zero()).eval_exact(&at) else {
                    continue;
                };
                // c s + v  rel  0.
                let x = -v / c.clone();
                let flip = c.is_negative();
                any = true;
                match r {
                    Rel::Eq => {
                        tighten(x.clone(), false, true);
                        tighten(x, false, false);
                    }
                    Rel::Le | Rel::Lt => tighten(x, matches!(r, Rel::Lt), flip),
                    Rel::Ge | Rel::Gt => tighten(x, matches!(r, Rel::Gt), !flip),
                    _ => {}
                }
            }
            if !any {
                continue;
            }
            if let Some(d) = self.opts.domains.get(s) {
                if let Some((v, st)) = &d.lo {
                    tighten(v.clone(), *st, true);
                }
                if let Some((v, st)) = &d.hi {
                    tighten(v.clone(), *st, false);
                }
            }
            let whole = |b: &BigRational, strict: bool, lower: bool| -> BigRational {
                let n = if lower { b.ceil() } else { b.floor() };
                match (strict && n == *b, lower) {
                    (true, true) => n + BigRational::one(),
                    (true, false) => n - BigRational::one(),
                    _ => n,
                }
            };
            let value = match (&lo, &hi) {
                (Some((l, sl)), h) => {
                    let v = whole(l, *sl, true);
                    if let Some((h, sh)) = h {
                        if v > whole(h, *sh, false) {
                            return None;
                        }
                    }
                    v
                }
                (None, Some((h, sh))) => whole(h, *sh, false),
                (None, None) => continue,
            };
            at.insert(s.clone(), value);
        }
        // A real symbol that an equation among the assumptions holds linearly with a
        // number for its coefficient (`2 a = 3`, `a + b = 3`: a given on a computed value
        // read on the inputs, probe36 h21) set to the value the equation gives it at the
        // others' values, one symbol an equation; the caller checks every assumption
        // again at the point.
        let mut fixed: BTreeSet<String> = BTreeSet::new();
        for (a, r, b) in &self.opts.assumptions {
            if *r != Rel::Eq {
                continue;
            }
            let d = crate::sym::expand(&(a.clone() - b.clone()));
            for s in d.free_symbols() {
                if self.dom.integers.contains(&s) || fixed.contains(&s) || !at.contains_key(&s) {
                    continue;
                }
                let Some(c) = crate::sym::expand(&d.diff(&s)).as_num().cloned() else {
                    continue;
                };
                if c.is_zero() {
                    continue;
                }
                let Ok(v) = d.subs(&s, &Expr::zero()).eval_exact(&at) else {
                    continue;
                };
                at.insert(s.clone(), -v / c);
                fixed.insert(s);
                break;
            }
        }
        Some(at)
    }

    /// Whether every definedness condition holds at the point: `Some(false)` when one
    /// fails, `None` when one cannot be decided there.
    pub(super) fn defined_at(&self, at: &BTreeMap<String, BigRational>) -> Option<bool> {
        let mut all = Some(true);
        for c in &self.conds {
            match eval_exact(c.expr(), at) {
                Ok(v) => {
                    if !c.holds_at(&v) {
                        return Some(false);
                    }
                }
                Err(_) => {
                    // A constant (`pi`) keeps exact evaluation from running: the condition
                    // with the point put in, folded, then its range facts (`2 w / pi >= 0`
                    // at w = 0 is `0 >= 0`, which no outward enclosure shows; session 31:
                    // the closed end of a variance's domain was never tested).
                    let put = c.map(|e| subs_point(e, at));
                    match eval_exact(put.expr(), at) {
                        Ok(v) if !put.holds_at(&v) => return Some(false),
                        Ok(_) => continue,
                        Err(_) if condition_holds(&put, &Domains::default()) => continue,
                        Err(_) => {}
                    }
                    match enclose(c.expr(), at) {
                        Some((lo, hi)) => {
                            let ok = match c {
                                Condition::NonZero(_) => lo > 0.0 || hi < 0.0,
                                Condition::Positive(_) => lo > 0.0,
                                Condition::NonNegative(_) => lo >= 0.0,
                                Condition::Power(..) => lo > 0.0,
                            };
                            let bad = match c {
                                Condition::NonZero(_) => false,
                                Condition::Positive(_) => hi <= 0.0,
                                Condition::NonNegative(_) => hi < 0.0,
                                Condition::Power(..) => false,
                            };
                            if bad {
                                return Some(false);
                            }
                            if !ok {
                                all = None;
                            }
                        }
                        None => all = None,
                    }
                }
            }
        }
        all
    }

    /// Small points of the domains, simplest first (at most `cap`).
    pub(super) fn small_points(&self, cap: usize) -> Vec<BTreeMap<String, BigRational>> {
        let names: Vec<&String> = self.syms.iter().collect();
        let cands: Vec<Vec<BigRational>> = names.iter().map(|s| self.dom.candidates(s)).collect();
        if cands.iter().any(|c| c.is_empty()) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let lens: Vec<usize> = cands.iter().map(Vec::len).collect();
        let tuples = tuples_by_total(&lens, cap);
        for idx in tuples {
            out.push(
                names
                    .iter()
                    .zip(&idx)
                    .zip(&cands)
                    .map(|((n, &i), c)| ((*n).clone(), c[i].clone()))
                    .collect(),
            );
        }
        out
    }

    /// Every point of small whole numbers when every symbol is one (sizes, counts), by
    /// increasing total (the smallest sizes first), each coordinate from the least whole
    /// number of its domain up to [`WHOLE_SPAN`] above it, at most `cap` tuples; a point
    /// that misses an assumption is repaired (a size derived by `floor` set to the value
    /// it takes there) or skipped. Empty when a symbol is not a whole number or there is
    /// only one (`univariate` decides that exactly).
    pub(super) fn whole_points(&self, cap: usize) -> Vec<BTreeMap<String, BigRational>> {
        if self.syms.len() < 2
            || !self.consts.is_empty()
            || !self.syms.iter().all(|s| self.dom.integers.contains(s))
        {
            return Vec::new();
        }
        // The symbols the sides read and those the assumptions tie to them (a derived
        // size's relation ties Y to X, D and P); the others stay at the simplest point of
        // the domains where the assumptions hold.
        let mut tied = self.lhs.free_symbols();
        tied.extend(self.rhs.free_symbols());
        loop {
            let before = tied.len();
            for (a, _, b) in &self.opts.assumptions {
                let mut s = a.free_symbols();
                s.extend(b.free_symbols());
                if s.iter().any(|x| tied.contains(x)) {
                    tied.extend(s);
                }
            }
            if tied.len() == before {
                break;
            }
        }
        tied.retain(|s| self.syms.contains(s));
        let rest: BTreeMap<String, BigRational> = if tied.len() == self.syms.len() {
            BTreeMap::new()
        } else {
            let ints: BTreeSet<String> = self.dom.integers.clone();
            let Some(p) = self.small_points(64).into_iter().find_map(|p| {
                if p.is_empty() || self.assumptions_hold(&p) {
                    return (!p.is_empty()).then_some(p);
                }
                self.repair(&p, &ints).filter(|r| self.assumptions_hold(r))
            }) else {
                return Vec::new();
            };
            p.into_iter().filter(|(k, _)| !tied.contains(k)).collect()
        };
        if tied.len() < 2 {
            return Vec::new();
        }
        let names: Vec<&String> = tied.iter().collect();
        let cands: Vec<Vec<BigRational>> = names
            .iter()
            .map(|s| {
                let iv = self.dom.of(s);
                let first = match &iv.lo {
                    // Sizes from 1, a family variable from its first member (0).
                    crate::sym::defined::End::At(v, _) => v.ceil(),
                    crate::sym::defined::End::Unbounded => BigRational::one(),
                };
                (0..WHOLE_SPAN)
                    .map(|k| &first + BigRational::from_integer(BigInt::from(k)))
                    .filter(|v| iv.contains(v))
                    .collect()
            })
            .collect();
        if cands.iter().any(Vec::is_empty) {
            return Vec::new();
        }
        let lens: Vec<usize> = cands.iter().map(Vec::len).collect();
        let ints: BTreeSet<String> = self.syms.clone();
        let mut out = Vec::new();
        for idx in tuples_by_total(&lens, cap) {
            let mut at = rest.clone();
            at.extend(
                names
                    .iter()
                    .zip(&idx)
                    .zip(&cands)
                    .map(|((n, &i), c)| ((*n).clone(), c[i].clone())),
            );
            if self.assumptions_hold(&at) {
                out.push(at);
            } else if let Some(r) = self.repair(&at, &ints) {
                if self.assumptions_hold(&r) && !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Whether every expression that must be a whole number ([`CheckOptions::whole`]) is
    /// one at the point, exactly.
    fn whole_at(&self, at: &BTreeMap<String, BigRational>) -> bool {
        self.opts
            .whole
            .iter()
            .all(|e| eval_exact(e, at).is_ok_and(|v| v.is_integer()))
    }

    /// Whether every assumption certainly holds at the point: exactly, or where a side
    /// is irrational by the interval enclosures of both sides (an equation only
    /// exactly). [`Problem::assumptions_hold`] also accepts a floating-point agreement;
    /// a witness needs this (session 38: a refutation's point satisfies every given).
    pub(super) fn assumptions_certain(&self, at: &BTreeMap<String, BigRational>) -> bool {
        self.whole_at(at)
            && self.opts.assumptions.iter().all(|(a, r, b)| {
                if let (Ok(x), Ok(y)) = (eval_exact(a, at), eval_exact(b, at)) {
                    return holds_exact(&x, r, &y) == Some(true);
                }
                let (Some(l), Some(h)) = (enclose(a, at), enclose(b, at)) else {
                    return false;
                };
                match r {
                    Rel::Le => l.1 <= h.0,
                    Rel::Lt => l.1 < h.0,
                    Rel::Ge => l.0 >= h.1,
                    Rel::Gt => l.0 > h.1,
                    _ => false,
                }
            })
    }

    /// The verdict at one point: `Ok(true)` holds, `Err(witness)` fails (re-checked),
    /// `Ok(false)` cannot tell there. A failure counts only where every assumption
    /// certainly holds ([`Problem::assumptions_certain`]).
    pub(super) fn at_point(&self, at: &BTreeMap<String, BigRational>) -> PointResult {
        match self.at_point_unchecked(at) {
            PointResult::Fails(_) if !self.assumptions_certain(at) => {
                PointResult::Skip("the givens hold here only in floating point: no witness".into())
            }
            r => r,
        }
    }

    fn at_point_unchecked(&self, at: &BTreeMap<String, BigRational>) -> PointResult {
        // A point outside the domains is no point of the claim, whichever search made it
        // (session 28: the sections' simplification moved a positive symbol to 0, and
        // `q >= 1/3 given a > -1` was refuted "at a = 0, q = 0").
        if at.iter().any(|(s, v)| {
            self.syms.contains(s)
                && (!self.dom.of(s).contains(v)
                    || (self.dom.integers.contains(s) && !v.is_integer()))
        }) {
            return PointResult::Skip("the point lies outside the domains".into());
        }
        if !self.assumptions_hold(at) {
            return PointResult::Skip("the assumptions do not hold".into());
        }
        match self.defined_at(at) {
            Some(true) => {}
            Some(false) => return PointResult::Skip("a side is undefined".into()),
            None => return PointResult::Skip("cannot tell whether a side is defined".into()),
        }
        // Exactly; where an irrational constant stops that, once more with the point
        // substituted first, so that a factor it makes 0 folds away (`[sqrt(2) a - a > 0]`
        // at a = 0 is step(0) = 0, which no enclosure of the kink decides).
        let exact = |e: &Expr| {
            eval_exact(e, at).or_else(|_| {
                let mut s = e.clone();
                for (k, v) in at {
                    s = s.subs(k, &Expr::num(v.clone()));
                }
                eval_exact(&s, at)
            })
        };
        if let (Ok(l), Ok(r)) = (exact(self.lhs), exact(self.rhs)) {
            match holds_exact(&l, self.rel, &r) {
                Some(true) => return PointResult::Holds { exact: true },
                Some(false) => {
                    return PointResult::Fails(Witness {
                        point: at.clone(),
                        left: l.to_string(),
                        right: r.to_string(),
                        checked_by: "exact evaluation".into(),
                        ..Witness::default()
                    })
                }
                None => {}
            }
        }
        let atf = self.f64_point(at);
        let (Ok(l), Ok(r)) = (self.lhs.eval_f64(&atf), self.rhs.eval_f64(&atf)) else {
            return PointResult::Skip("a side cannot be evaluated".into());
        };
        // A floating-point comparison counts only where both sides have an enclosure
        // (no overflow, no underflow).
        let (Some(le), Some(re)) = (enclose(self.lhs, at), enclose(self.rhs, at)) else {
            // No enclosure (a root at 0 widened outward leaves its domain): the range facts
            // with the point put in may still show a failure, exactly (`sqrt(2 w / pi) > 0`
            // at w = 0).
            if l.is_finite()
                && r.is_finite()
                && !holds(l, self.rel, r)
                && fails_by_range_at(self.lhs, self.rel, self.rhs, at)
            {
                return PointResult::Fails(Witness {
                    point: at.clone(),
                    left: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).0),
                    right: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).1),
                    checked_by: "range facts at the point (exact rational bounds of both sides)"
                        .into(),
                    ..Witness::default()
                });
            }
            return PointResult::Skip(
                "a side has no interval enclosure (a value under- or overflows in floating point, or leaves a function's domain), so a floating-point comparison decides nothing".into(),
            );
        };
        if !l.is_finite() || !r.is_finite() {
            return PointResult::Skip("a side is not finite".into());
        }
        if holds(l, self.rel, r) {
            // Floating-point agreement counts only where the enclosures carry it: the
            // relation holds for every pair of values in them, or, for a relation a tie
            // satisfies (`==`, `<=`, `>=`), both enclosures are narrow (probe33/b b07:
            // `(1 + a/10^9)^(10^9) ~= 2.71828205 tol 1e-8` at a = 1 was confirmed from an
            // f64 value 2.2e-7 off, the rounding of 1 + 10^-9 amplified by the power).
            if holds_enclosed(le, self.rel, re) {
                return PointResult::Holds { exact: false };
            }
            if let Some(tie) = self.tie_at(at) {
                return tie;
            }
            return PointResult::Skip(format!(
                "{}: left ≈ {l:.10}, right ≈ {r:.10} agree in floating point, but their interval enclosures (left in [{:.10e}, {:.10e}], right in [{:.10e}, {:.10e}]) are too wide to show it",
                at_text(at),
                le.0,
                le.1,
                re.0,
                re.1
            ));
        }
        if fails_enclosed(le, self.rel, re) {
            PointResult::Fails(Witness {
                point: at.clone(),
                left: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).0),
                right: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).1),
                checked_by: "interval enclosure".into(),
                ..Witness::default()
            })
        } else if let Some(tie) = self.tie_at(at) {
            tie
        } else if fails_by_range_at(self.lhs, self.rel, self.rhs, at) {
            // A tie the enclosures cannot separate (`sqrt(2 w / pi) > 0` at w = 0, the
            // closed end of a variance's domain: 0 > 0 with a constant that keeps exact
            // evaluation from running), decided by the second exact path the element
            // claims use: the range facts of both sides with the point put in (session 30:
            // such claims were confirmed although they fail at w = 0).
            PointResult::Fails(Witness {
                point: at.clone(),
                left: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).0),
                right: format!("≈ {}", crate::verdict::distinct_pair(l, r, 10).1),
                checked_by: "range facts at the point (exact rational bounds of both sides)".into(),
                ..Witness::default()
            })
        } else {
            PointResult::Skip(format!(
                "{}: left ≈ {l:.10}, right ≈ {r:.10} differ in floating point, but interval bounds cannot confirm it",
                at_text(at)
            ))
        }
    }

    /// The relation at a point where floating point cannot separate the sides and exact
    /// evaluation stops at an irrational value: with the point put in, both sides the same
    /// number in normal form (probe42 r11: `softplus(x) > ln(2) + x/2` at x = 0, both
    /// sides ln(2), was skipped there and confirmed elsewhere). `None` unless identical.
    fn tie_at(&self, at: &BTreeMap<String, BigRational>) -> Option<PointResult> {
        let put = |e: &Expr| {
            let mut s = e.clone();
            for (k, v) in at {
                s = s.subs(k, &Expr::num(v.clone()));
            }
            s
        };
        let (l, r) = (put(self.lhs), put(self.rhs));
        if !crate::sym::algebra::identical(&l, &r)
            && !crate::sym::exp_form::identical_in_exp_form(&l, &r)
        {
            return None;
        }
        let zero = BigRational::from_integer(0.into());
        match holds_exact(&zero, self.rel, &zero) {
            Some(true) => Some(PointResult::Holds { exact: true }),
            Some(false) => Some(PointResult::Fails(Witness {
                point: at.clone(),
                left: crate::sym::print::to_text(&l),
                right: format!(
                    "{} (the same number: both sides are equal there)",
                    crate::sym::print::to_text(&r)
                ),
                checked_by: "exact evaluation".into(),
                ..Witness::default()
            })),
            None => None,
        }
    }

    /// A simpler witness: each coordinate replaced by the simplest candidate at which
    /// the relation still fails (re-checked at the final point).
    pub(super) fn shrink(&self, w: Witness) -> Witness {
        let mut best = w;
        for s in self.syms.iter() {
            for c in self.dom.candidates(s) {
                if best.point.get(s) == Some(&c) {
                    break;
                }
                let mut p = best.point.clone();
                p.insert(s.clone(), c);
                if let PointResult::Fails(w2) = self.at_point(&p) {
                    best = w2;
                    break;
                }
            }
        }
        best
    }

    pub(super) fn definedness(&self) -> Definedness {
        Definedness {
            open: self
                .conds
                .iter()
                .filter(|c| !condition_holds(c, &self.dom) && !self.assumed(c))
                .cloned()
                .collect(),
        }
    }

    /// Whether an assumption (a given, a relation of the domains) says the condition
    /// itself: `a > c` gives `a - c > 0`, `a - c >= 0` and `a - c != 0`; `a >= c` gives
    /// `a - c >= 0` (session 31: `Var(y) == v (a - c) given a >= c` of `y = sqrt(a - c)
    /// x` is defined wherever the given holds). The condition's expression must be the
    /// difference of the assumption's sides, exactly (either order for `!= 0`).
    fn assumed(&self, c: &Condition) -> bool {
        let e = c.expr();
        self.opts.assumptions.iter().any(|(a, r, b)| {
            let (up, strict) = match r {
                Rel::Gt => (sym_diff(a, b), true),
                Rel::Ge => (sym_diff(a, b), false),
                Rel::Lt => (sym_diff(b, a), true),
                Rel::Le => (sym_diff(b, a), false),
                _ => return false,
            };
            let same = |d: &Expr| crate::sym::simplify(&(d.clone() - e.clone())).is_zero();
            match c {
                Condition::NonNegative(_) => same(&up),
                Condition::Positive(_) => strict && same(&up),
                Condition::NonZero(_) => strict && (same(&up) || same(&-up.clone())),
                Condition::Power(..) => false,
            }
        })
    }

    /// `undecided` when a proof would rest on a condition not shown on the domains,
    /// with a point where the claim is undefined when one is found.
    pub(super) fn undefined(&self, d: &Definedness, what: &str) -> Option<Decision> {
        self.undefined_where(d, what).map(|(u, _)| u)
    }

    /// [`Problem::undefined`], and whether a point where the claim is undefined was found.
    pub(super) fn undefined_where(&self, d: &Definedness, what: &str) -> Option<(Decision, bool)> {
        if d.open.is_empty() {
            return None;
        }
        let shown: Vec<String> = d.open.iter().map(|c| c.to_string()).collect();
        for p in self.small_points(256) {
            if !self.assumptions_hold(&p) {
                continue;
            }
            for c in &d.open {
                if let Ok(v) = eval_exact(c.expr(), &p) {
                    if !c.holds_at(&v) {
                        let at = if p.is_empty() {
                            "everywhere".to_string()
                        } else {
                            format!("at {}", show(&p))
                        };
                        return Some((
                            decision(
                                Verdict::Undecided,
                                Method::None,
                                format!("{what}, but the claim is undefined {at} ({c} fails)"),
                            ),
                            true,
                        ));
                    }
                }
            }
        }
        Some((
            decision(
                Verdict::Undecided,
                Method::None,
                format!(
                    "{what}, but tq cannot show that the claim is defined on the domains ({})",
                    shown.join(", ")
                ),
            ),
            false,
        ))
    }

    /// The range of `lhs − rhs` over the domains and whether it decides the relation:
    /// `Some(true)` proved, `Some(false)` false everywhere.
    pub(super) fn by_range(&self) -> (Interval, Option<bool>) {
        let d = self.lhs.clone() - self.rhs.clone();
        let i = range(&d, &self.dom);
        let verdict = self.by_interval(&i);
        if verdict.is_some() || matches!(self.rel, Rel::Eq | Rel::Approx(..)) {
            return (i, verdict);
        }
        // The difference over one denominator, both expanded (`(x^2 + y)/(1 + x^2) −
        // (x^2 + y)` is `(−x^4 − x^2 y)/(1 + x^2)`): interval arithmetic on a sum of
        // differences loses what the single fraction shows. The two agree wherever the
        // difference is defined (the denominator is the product of its denominators).
        // A factor common to every term of the numerator is taken out (`p s^2 − s^2` is
        // `s^2 (p − 1)`, at most 0 for p <= 1).
        let (n, den) = super::super::algebra::together(&d);
        let (m, rest) = super::super::algebra::content(&n);
        let n = Expr::mul(vec![m, rest]);
        let j = range(
            &Expr::mul(vec![n, Expr::pow(den, Expr::int(-1))]),
            &self.dom,
        );
        match self.by_interval(&j) {
            Some(v) => (j, Some(v)),
            None => (i, None),
        }
    }

    /// What an interval of `lhs − rhs` decides of the relation.
    fn by_interval(&self, i: &Interval) -> Option<bool> {
        if let Rel::Approx(t, _) = self.rel {
            return approx_by_interval(*t, i);
        }
        match self.rel {
            Rel::Ge if i.lo_above_zero(false) => Some(true),
            Rel::Gt if i.lo_above_zero(true) => Some(true),
            Rel::Le if i.hi_below_zero(false) => Some(true),
            Rel::Lt if i.hi_below_zero(true) => Some(true),
            Rel::Eq if i.excludes_zero() => Some(false),
            Rel::Ge if i.hi_below_zero(true) => Some(false),
            Rel::Gt if i.hi_below_zero(false) => Some(false),
            Rel::Le if i.lo_above_zero(true) => Some(false),
            Rel::Lt if i.lo_above_zero(false) => Some(false),
            _ => None,
        }
    }

    /// A refutation by range: a defined point of the domains, where the ranges of the
    /// two sides (the point substituted) separate.
    pub(super) fn range_witness(&self, i: &Interval) -> Option<Witness> {
        for p in self.small_points(256) {
            if !self.assumptions_certain(&p) || self.defined_at(&p) != Some(true) {
                continue;
            }
            let (l, r) = (subs_point(self.lhs, &p), subs_point(self.rhs, &p));
            let (li, ri) = (range(&l, &self.dom), range(&r, &self.dom));
            if super::fails_by_range(&l, self.rel, &r, &self.dom) {
                let side = |e: &Expr, i: &Interval| match e.as_num() {
                    Some(v) => v.to_string(),
                    None => format!("{} ∈ {i}", to_ascii(e)),
                };
                return Some(Witness {
                    point: p,
                    left: side(&l, &li),
                    right: side(&r, &ri),
                    checked_by: format!("range (left − right ∈ {i} on the domains)"),
                    ..Witness::default()
                });
            }
        }
        None
    }
}

/// What an interval of `left − right` decides of `left ~= right tol t`: proved when it
/// lies in [−t, t], false when it lies beyond. The tolerance is read as written in
/// decimal, so the binary `t` is narrowed (for a proof) or widened (for a refutation) by
/// a relative 10⁻¹², far beyond its rounding.
pub(super) fn approx_by_interval(t: f64, i: &Interval) -> Option<bool> {
    use crate::sym::interval::End;
    let t = BigRational::from_float(t)?;
    if !t.is_positive() {
        return None;
    }
    let eps = BigRational::new(1.into(), 1_000_000_000_000i64.into());
    let one = BigRational::from_integer(1.into());
    let (narrow, wide) = (t.clone() * (one.clone() - eps.clone()), t * (one + eps));
    let (lo, hi) = match (&i.lo, &i.hi) {
        (End::At(a, _), End::At(b, _)) => (Some(a), Some(b)),
        (End::At(a, _), End::Unbounded) => (Some(a), None),
        (End::Unbounded, End::At(b, _)) => (None, Some(b)),
        _ => (None, None),
    };
    if let (Some(a), Some(b)) = (lo, hi) {
        if *a >= -narrow.clone() && *b <= narrow {
            return Some(true);
        }
    }
    if lo.is_some_and(|a| *a > wide) || hi.is_some_and(|b| *b < -wide.clone()) {
        return Some(false);
    }
    None
}

/// How far above its least value each whole-number coordinate goes in
/// [`Problem::whole_points`].
pub(super) const WHOLE_SPAN: usize = 32;

/// Tuples of indices `idx[k] < lens[k]` by increasing sum (the simplest values first),
/// at most `cap`.
pub(super) fn tuples_by_total(lens: &[usize], cap: usize) -> Vec<Vec<usize>> {
    fn fill(
        k: usize,
        left: usize,
        lens: &[usize],
        idx: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
        cap: usize,
    ) {
        if out.len() >= cap {
            return;
        }
        if k == lens.len() {
            if left == 0 {
                out.push(idx.clone());
            }
            return;
        }
        for i in 0..lens[k].min(left + 1) {
            idx.push(i);
            fill(k + 1, left - i, lens, idx, out, cap);
            idx.pop();
        }
    }
    let max_sum: usize = lens.iter().map(|l| l.saturating_sub(1)).sum();
    let mut tuples = Vec::new();
    for total in 0..=max_sum {
        fill(0, total, lens, &mut Vec::new(), &mut tuples, cap);
        if tuples.len() >= cap {
            break;
        }
    }
    tuples
}

/// `a - b`, simplified.
fn sym_diff(a: &Expr, b: &Expr) -> Expr {
    crate::sym::simplify(&(a.clone() - b.clone()))
}

/// Where a point's comparison was made, for a reason: `at a = 1, b = 2`, or, for a claim
/// without symbols (an empty point), `at the sample point` (probe37 p14: "at : ").
fn at_text(at: &BTreeMap<String, BigRational>) -> String {
    if at.is_empty() {
        "at the sample point".into()
    } else {
        format!("at {}", show(at))
    }
}
