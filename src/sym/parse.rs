//! Reads the ASCII syntax back: numbers (decimals as exact rationals), identifiers,
//! `+ - * / ^`, unary minus, parentheses and function calls. Bounded in length and
//! nesting so that no input can exhaust the stack.

use super::{Expr, Func};
use num_bigint::BigInt;
use num_rational::BigRational;

/// Where and why the text is not an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the input where reading failed.
    pub offset: usize,
    /// What was expected or wrong there.
    pub message: String,
}

const MAX_LEN: usize = 100_000;
const MAX_DEPTH: usize = 200;

/// Parses the ASCII syntax printed by [`super::to_ascii`].
pub fn parse_ascii(s: &str) -> Result<Expr, ParseError> {
    if s.len() > MAX_LEN {
        return Err(ParseError {
            offset: MAX_LEN,
            message: format!("longer than {MAX_LEN} bytes"),
        });
    }
    let mut p = P {
        s: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    let e = p.sum()?;
    p.ws();
    if p.i != p.s.len() {
        return p.err("unexpected text after the expression");
    }
    Ok(e)
}

/// Reads a relation `lhs op rhs` with `op` one of `==` (or `=`), `<=`, `>=`, `<`, `>`,
/// `~=` (absolute tolerance 1e-6): the form of an [`super::Assumption`] such as
/// `x > 0` or `p >= 1/2`. The operator is the first one outside parentheses.
pub fn parse_relation(s: &str) -> Result<(Expr, super::Rel, Expr), ParseError> {
    use super::Rel;
    if s.len() > MAX_LEN {
        return Err(ParseError {
            offset: MAX_LEN,
            message: format!("longer than {MAX_LEN} bytes"),
        });
    }
    let b = s.as_bytes();
    let mut depth: i64 = 0;
    let mut found: Option<(usize, usize, Rel)> = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'<' | b'>' | b'=' | b'~' if depth == 0 => {
                let next = b.get(i + 1).copied();
                found = Some(match (c, next) {
                    (b'<', Some(b'=')) => (i, 2, Rel::Le),
                    (b'>', Some(b'=')) => (i, 2, Rel::Ge),
                    (b'=', Some(b'=')) => (i, 2, Rel::Eq),
                    (b'~', Some(b'=')) => (i, 2, Rel::Approx(1e-6, None)),
                    (b'<', _) => (i, 1, Rel::Lt),
                    (b'>', _) => (i, 1, Rel::Gt),
                    (b'=', _) => (i, 1, Rel::Eq),
                    _ => {
                        return Err(ParseError {
                            offset: i,
                            message: "`~` must be followed by `=`".into(),
                        })
                    }
                });
                break;
            }
            _ => {}
        }
    }
    let Some((i, len, rel)) = found else {
        return Err(ParseError {
            offset: s.len(),
            message: "expected a relation (==, <=, >=, <, >, ~=)".into(),
        });
    };
    // Operators are ASCII, so both cuts fall on character boundaries.
    let left = parse_ascii(&s[..i])?;
    let right = parse_ascii(&s[i + len..]).map_err(|e| ParseError {
        offset: e.offset + i + len,
        message: e.message,
    })?;
    Ok((left, rel, right))
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl P<'_> {
    fn err<T>(&self, m: &str) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.i,
            message: m.to_string(),
        })
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        Ok(())
    }
    fn sum(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut terms = vec![self.product()?];
        loop {
            match self.peek() {
                Some(b'+') => {
                    self.i += 1;
                    terms.push(self.product()?);
                }
                Some(b'-') => {
                    self.i += 1;
                    terms.push(-self.product()?);
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(Expr::add(terms))
    }
    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut acc = self.unary()?;
        loop {
            match self.peek() {
                Some(b'*') => {
                    self.i += 1;
                    acc = acc * self.unary()?;
                }
                Some(b'/') => {
                    self.i += 1;
                    acc = acc / self.unary()?;
                }
                _ => break,
            }
        }
        Ok(acc)
    }
    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            self.enter()?;
            let e = -self.unary()?;
            self.depth -= 1;
            return Ok(e);
        }
        self.power()
    }
    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.peek() == Some(b'^') {
            self.i += 1;
            self.enter()?;
            let ex = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::pow(base, ex));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(b'(') => {
                self.i += 1;
                let e = self.sum()?;
                if self.peek() != Some(b')') {
                    return self.err("expected `)`");
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                if self.peek() == Some(b'(') {
                    self.i += 1;
                    let arg = self.sum()?;
                    if self.peek() != Some(b')') {
                        return self.err("expected `)` after the argument");
                    }
                    self.i += 1;
                    if name == "sqrt" {
                        return Ok(Expr::sqrt(arg));
                    }
                    return match Func::from_name(name) {
                        Some(f) => Ok(Expr::func(f, arg)),
                        None => Err(ParseError {
                            offset: start,
                            message: format!("unknown function `{name}`"),
                        }),
                    };
                }
                Ok(Expr::sym(name))
            }
            Some(_) => self.err("expected a number, a name or `(`"),
            None => self.err("unexpected end of the expression"),
        }
    }
    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let int = std::str::from_utf8(&self.s[start..self.i])
            .unwrap_or("0")
            .to_string();
        let mut frac = String::new();
        if self.i < self.s.len() && self.s[self.i] == b'.' {
            self.i += 1;
            let fs = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            frac = std::str::from_utf8(&self.s[fs..self.i])
                .unwrap_or("")
                .to_string();
        }
        let digits = format!("{int}{frac}");
        if digits.is_empty() {
            return self.err("a number needs digits");
        }
        let n: BigInt = digits.parse().map_err(|_| ParseError {
            offset: start,
            message: "not a number".into(),
        })?;
        let d = num_traits::pow(BigInt::from(10), frac.len());
        Ok(Expr::num(BigRational::new(n, d)))
    }
}

/// A decimal or scientific literal as an exact rational (`0.5` → 1/2, `1e-3` → 1/1000).
pub fn parse_number(s: &str) -> Option<num_rational::BigRational> {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(k) => (&s[..k], s[k + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    if exp.unsigned_abs() > 400 {
        return None;
    }
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits: num_bigint::BigInt = format!("{int}{frac}").parse().ok()?;
    let scale = exp - frac.len() as i32;
    let ten = num_bigint::BigInt::from(10);
    Some(if scale >= 0 {
        num_rational::BigRational::from_integer(digits * num_traits::pow(ten, scale as usize))
    } else {
        num_rational::BigRational::new(digits, num_traits::pow(ten, (-scale) as usize))
    })
}
