//! Names and what hangs off them: identifiers, sub- and superscripts, index
//! expressions and tensor references.

use super::tokens::{
    fail, failure, off, sym, word, ws, Ctx, In, PErr, PResult, SubscriptMemo, RESERVED,
};
use crate::syntax::ast::*;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, recognize};
use nom::multi::separated_list1;
use nom::Parser;

/// The name that ends `text` (`W_{l+1}'` of `y = W_{l+1}'`): letters, digits, `_`,
/// braces and primes read back from the end. For hints that quote the name written
/// before a place in a line that failed to parse.
pub(super) fn name_ending(text: &str) -> &str {
    let len: usize = text
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '{' | '}' | '\''))
        .map(char::len_utf8)
        .sum();
    &text[text.len() - len..]
}

impl Ctx<'_> {
    pub(super) fn ident<'a>(&self, i: In<'a>) -> PResult<'a, Ident> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, w) = match word(i) {
            Ok(r) => r,
            Err(_) => return fail(start, "a name"),
        };
        let (i, primes) = take_while(|c| c == '\'').parse(i)?;
        let mut name = w.fragment().to_string();
        name.push_str(primes.fragment());
        Ok((
            i,
            Ident {
                name,
                span: self.span(start, i),
            },
        ))
    }

    pub(super) fn ident_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Ident>> {
        separated_list1(sym(","), |i| self.ident(i)).parse(i)
    }

    /// A list of declared names, which may carry labels and subscripts (`sigma_W`,
    /// `mu'`, `W^{h,R}`); each is kept by its printed spelling.
    pub(super) fn name_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<Ident>> {
        separated_list1(sym(","), |i| {
            let (i, n) = self.name(i)?;
            Ok((
                i,
                Ident {
                    name: crate::syntax::printer::print_name(&n),
                    span: n.span,
                },
            ))
        })
        .parse(i)
    }

    /// A decorated name: base, primes, `^{labels}`, `_x` or `_{...}` in either order.
    pub(super) fn name<'a>(&self, i: In<'a>) -> PResult<'a, Name> {
        self.parse_step(i)?;
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, w) = match word(i) {
            Ok(r) => r,
            Err(_) => return fail(start, "a name"),
        };
        if RESERVED.contains(w.fragment()) {
            return fail(start, "a name");
        }
        let mut base = w.fragment().to_string();
        // A rule's sequence named from outside the rule: `A.v`, `B.theta`.
        if let Ok((rest, (_, member))) = (char::<_, PErr>('.'), word).parse(i) {
            if *member.fragment() != "grad" {
                base.push('.');
                base.push_str(member.fragment());
                i = rest;
            }
        }
        let (rest, primes) = take_while(|c| c == '\'').parse(i)?;
        i = rest;
        let mut sup = Vec::new();
        let mut sub = Vec::new();
        for _ in 0..2 {
            if sup.is_empty() {
                if let Ok((rest, labels)) = self.sup_labels(i) {
                    sup = labels;
                    i = rest;
                    continue;
                }
            }
            if sub.is_empty() {
                match self.subscript(i) {
                    Ok((rest, items)) => {
                        sub = items;
                        i = rest;
                        continue;
                    }
                    // Past the depth or work limit, or a malformed number: no other
                    // reading of the name gets further (and retrying doubled per level).
                    Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
                    Err(_) => {}
                }
            }
        }
        Ok((
            i,
            Name {
                base,
                primes: primes.fragment().len() as u8,
                sup,
                sub,
                span: self.span(start, i),
            },
        ))
    }

    /// `^{h,R}`: a label only when every item is a word or a word with digits and at
    /// least one item starts with a letter.
    pub(super) fn sup_labels<'a>(&self, i: In<'a>) -> PResult<'a, Vec<String>> {
        let (i, _) = tag("^{").parse(i)?;
        let (i, items) = separated_list1(
            char(','),
            recognize((
                satisfy(|c: char| c.is_ascii_alphanumeric()),
                take_while(|c: char| c.is_ascii_alphanumeric() || c == '\''),
            )),
        )
        .parse(i)?;
        let (i, _) = char('}').parse(i)?;
        if !items
            .iter()
            .any(|s| s.fragment().starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return fail(i, "a label");
        }
        Ok((i, items.iter().map(|s| s.fragment().to_string()).collect()))
    }

    /// `_l`, `_0`, `_W`, `_{l+1}`, `_{l,s+1}`, `_{l+1,left}`.
    pub(super) fn subscript<'a>(&self, i: In<'a>) -> PResult<'a, Vec<IndexExpr>> {
        let (i, _) = char('_').parse(i)?;
        if let Ok((i2, _)) = char::<_, PErr>('{').parse(i) {
            let at = off(&i2);
            let depth = self.depth.get();
            match self.subscripts.borrow().get(&at) {
                // Read before at this offset (see `Ctx::subscripts`).
                Some(SubscriptMemo::Read(end, items)) => {
                    let rest = nom::Input::take_from(&i2, end - at);
                    return Ok((rest, items.clone()));
                }
                Some(SubscriptMemo::Failed {
                    err,
                    hard,
                    depth: d,
                }) if depth >= *d => {
                    return Err(if *hard {
                        nom::Err::Failure(*err)
                    } else {
                        nom::Err::Error(*err)
                    });
                }
                _ => {}
            }
            // A nesting level like a bracket (`h_{h_{…}}`), under the same depth limit.
            let r = self.deeper(i2, |i2| {
                let (i2, items) =
                    separated_list1(sym(","), |i| self.subscript_item(i)).parse(i2)?;
                let (i2, _) = sym("}")(i2)?;
                Ok((i2, items))
            });
            let memo = match &r {
                Ok((rest, items)) => SubscriptMemo::Read(off(rest), items.clone()),
                Err(nom::Err::Error(e)) => SubscriptMemo::Failed {
                    err: *e,
                    hard: false,
                    depth,
                },
                Err(nom::Err::Failure(e)) => SubscriptMemo::Failed {
                    err: *e,
                    hard: true,
                    depth,
                },
                Err(nom::Err::Incomplete(_)) => return r,
            };
            self.subscripts.borrow_mut().insert(at, memo);
            return r;
        }
        let start = i;
        let (i, tok) = take_while1(|c: char| c.is_ascii_alphanumeric()).parse(i)?;
        let span = self.span(start, i);
        let text = tok.fragment();
        let item = if let Ok(n) = text.parse::<i64>() {
            Affine {
                terms: vec![],
                constant: n,
                span,
            }
        } else {
            Affine {
                terms: vec![AffineTerm {
                    coef: 1,
                    factors: vec![Ident {
                        name: text.to_string(),
                        span,
                    }],
                }],
                constant: 0,
                span,
            }
        };
        Ok((i, vec![IndexExpr::Affine(item)]))
    }

    /// One item of a `_{...}` subscript: an index position, or a label that is one of
    /// tq's keywords (`W_{in}`, `h_{at}`, `W_{in,out}`): inside the braces it cannot
    /// start the next part of a statement, so it is a label like any other word (it was
    /// reported as "unexpected `_{in}[J,` after the end of the statement", probe38 k02).
    fn subscript_item<'a>(&self, i: In<'a>) -> PResult<'a, IndexExpr> {
        let (i, _) = ws(i)?;
        let start = i;
        if let Ok((rest, w)) = word(i) {
            let (after, _) = ws(rest)?;
            let ends = after.fragment().starts_with([',', '}']);
            if RESERVED.contains(w.fragment()) && ends {
                let span = self.span(start, rest);
                return Ok((
                    rest,
                    IndexExpr::Affine(Affine {
                        terms: vec![AffineTerm {
                            coef: 1,
                            factors: vec![Ident {
                                name: w.fragment().to_string(),
                                span,
                            }],
                        }],
                        constant: 0,
                        span,
                    }),
                ));
            }
        }
        self.index_expr(start)
    }

    pub(super) fn integer<'a>(&self, i: In<'a>) -> PResult<'a, i64> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, d) = digit1(i)?;
        match d.fragment().parse::<i64>() {
            Ok(n) if n <= 1_000_000_000 => Ok((i, n)),
            _ => failure(start, "an integer below 10^9"),
        }
    }

    /// An index position: an affine expression or a lookup `w[t]`.
    pub(super) fn index_expr<'a>(&self, i: In<'a>) -> PResult<'a, IndexExpr> {
        let (i, _) = ws(i)?;
        let start = i;
        // A lookup: a name directly followed by `[`.
        match self.reference(i) {
            Ok((rest, r)) if r.indices.is_some() => {
                return Ok((rest, IndexExpr::Lookup(Box::new(r))));
            }
            // A hard failure (the depth or work limit) ends the reading here too.
            Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
            _ => {}
        }
        let (mut i, first_neg) = opt(sym("-")).parse(i)?;
        let mut terms = Vec::new();
        let mut constant = 0i64;
        let mut negative = first_neg.is_some();
        loop {
            let (rest, (coef, factors)) = self.affine_term(i)?;
            let coef = if negative { -coef } else { coef };
            if factors.is_empty() {
                constant = constant.saturating_add(coef);
            } else {
                terms.push(AffineTerm { coef, factors });
            }
            i = rest;
            let (rest, _) = ws(i)?;
            if let Ok((rest, _)) = char::<_, PErr>('+').parse(rest) {
                negative = false;
                i = rest;
            } else if let Ok((rest, _)) = char::<_, PErr>('-').parse(rest) {
                negative = true;
                i = rest;
            } else {
                break;
            }
        }
        Ok((
            i,
            IndexExpr::Affine(Affine {
                terms,
                constant,
                span: self.span(start, i),
            }),
        ))
    }

    /// `2`, `x`, `2x`, `2*x`, `s*x`, `J'`.
    pub(super) fn affine_term<'a>(&self, i: In<'a>) -> PResult<'a, (i64, Vec<Ident>)> {
        let (i, _) = ws(i)?;
        let (i, coef) = opt(|i| self.integer(i)).parse(i)?;
        let mut factors = Vec::new();
        let (mut i, _) = if coef.is_some() {
            opt(sym("*")).parse(i)?
        } else {
            (i, None)
        };
        // Factors: names separated by `*` (or directly after the coefficient).
        loop {
            let (rest, _) = ws(i)?;
            match self.ident(rest) {
                Ok((rest2, id)) if !RESERVED.contains(&id.name.as_str()) => {
                    factors.push(self.member_factor(id, rest, rest2, &mut i)?);
                }
                _ => break,
            }
            let (rest, _) = ws(i)?;
            match char::<_, PErr>('*').parse(rest) {
                Ok((rest2, _)) => i = rest2,
                Err(_) => break,
            }
        }
        if coef.is_none() && factors.is_empty() {
            return fail(i, "an index");
        }
        Ok((i, (coef.unwrap_or(1), factors)))
    }

    /// A factor of an index position that may be a member of a per-member size or its
    /// index (`N_l`, `N_{l-1}`, `n_0`, `n_{l}'`): kept by its printed spelling, which
    /// [`crate::check::members`] resolves. `i` is set past the factor.
    /// A hard failure of the subscript (the depth or work limit) is returned.
    fn member_factor<'a>(
        &self,
        id: Ident,
        from: In<'a>,
        after: In<'a>,
        i: &mut In<'a>,
    ) -> Result<Ident, nom::Err<PErr>> {
        *i = after;
        if id.name.ends_with('\'') {
            return Ok(id);
        }
        let (rest, sub) = match self.subscript(after) {
            Ok(r) => r,
            Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
            Err(_) => return Ok(id),
        };
        let Ok((rest, primes)) = take_while::<_, _, PErr>(|c| c == '\'').parse(rest) else {
            return Ok(id);
        };
        let mut name = crate::syntax::printer::print_name(&Name {
            base: id.name,
            primes: 0,
            sup: vec![],
            sub,
            span: id.span,
        });
        name.push_str(primes.fragment());
        *i = rest;
        Ok(Ident {
            name,
            span: self.span(from, rest),
        })
    }

    pub(super) fn index_list<'a>(&self, i: In<'a>) -> PResult<'a, Vec<IndexExpr>> {
        let (i, _) = char('[').parse(i)?;
        // A nesting level like a bracket (lookups in lookups, `x[x[…]]`), under the same
        // depth limit: without it 2,000 nested lookups reached every later walk.
        self.deeper(i, |i| {
            let (i, items) = separated_list1(sym(","), |i| self.index_expr(i)).parse(i)?;
            let (i, _) = match sym("]")(i) {
                Ok(r) => r,
                Err(_) => return failure(i, "`,` or `]`"),
            };
            Ok((i, items))
        })
    }

    pub(super) fn grad_suffix<'a>(&self, i: In<'a>) -> PResult<'a, bool> {
        let (i, g) = opt(tag(".grad")).parse(i)?;
        Ok((i, g.is_some()))
    }

    /// A name with `.grad` and an index list: `L_l.grad[b,x,y,j]`, `L_l[b,x,y,j].grad`, `W`.
    pub(super) fn reference<'a>(&self, i: In<'a>) -> PResult<'a, Ref> {
        let (i, _) = ws(i)?;
        let start = i;
        let (i, name) = self.name(i)?;
        let (i, g1) = self.grad_suffix(i)?;
        let (i, indices) = opt(|i| self.index_list(i)).parse(i)?;
        let (i, g2) = if indices.is_some() {
            self.grad_suffix(i)?
        } else {
            (i, false)
        };
        Ok((
            i,
            Ref {
                name,
                grad: g1 || g2,
                indices,
                span: self.span(start, i),
            },
        ))
    }
}
