//! Integers longer than the lexer's limit written as `.tq` source (issue #18: b13, b14,
//! b15, b18). The lexer refuses a numeral of more than 40 characters (E0003), so a
//! printer whose text is meant to be read back (`derive --steps` chains, the editor's
//! "replace the right side" action, the variants' restated claims and `sample` lines)
//! writes a longer integer as a power or a product of short ones (`7^60`, `30^30`,
//! `2^30*3^7`), and when it has no such form, as a sum of short parts
//! (`123…*10^72 + 456…*10^36 + 789…`). Every form is exact and reads back to the same
//! integer.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Pow, Signed, Zero};

/// The lexer's limit on a numeral's characters (`syntax::parser::tokens::MAX_NUMBER_CHARS`).
pub const SOURCE_DIGITS: usize = 40;

/// How an integer's source text binds: a bare numeral, a power, a product or a sum
/// (the caller parenthesises by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IntForm {
    Sum,
    Product,
    Power,
    Numeral,
}

/// Digits in one part of the sum form.
const CHUNK: usize = 36;

/// Primes tried by trial division for the product form.
const SMALL_PRIMES: [u32; 25] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];

/// What trial division leaves is searched for a perfect power only up to this many
/// digits (the roots are the costly part); a longer rest is written in the sum form.
const SEARCH_DIGITS: usize = 2_000;

/// Exponents tried for the perfect-power form of what trial division leaves.
const MAX_ROOT: u32 = 64;

/// A non-negative integer as `.tq` source of at most [`SOURCE_DIGITS`] characters per
/// numeral, and how it binds. A negative integer is its absolute value's text after a
/// minus, which the caller writes (`-` binds like a product's factor).
pub fn integer_source(n: &BigInt) -> (String, IntForm) {
    let m = n.abs();
    let text = m.to_string();
    if text.len() <= SOURCE_DIGITS {
        return (text, IntForm::Numeral);
    }
    if let Some(f) = factored(&m) {
        return f;
    }
    (chunked(&text), IntForm::Sum)
}

/// `n` as a product of powers: small primes grouped by their exponent (`2^30*3^30*5^30`
/// is `30^30`), times a perfect power or a short rest. None when the rest is long and
/// no power.
fn factored(n: &BigInt) -> Option<(String, IntForm)> {
    let mut rest = n.clone();
    let mut exps: Vec<(u32, u32)> = Vec::new();
    for &p in &SMALL_PRIMES {
        let e = divide_out(&mut rest, p);
        if e > 0 {
            exps.push((p, e));
        }
    }
    // Primes with the same exponent share one base.
    let mut by_exp: std::collections::BTreeMap<u32, BigInt> = std::collections::BTreeMap::new();
    for (p, e) in exps {
        *by_exp.entry(e).or_insert_with(BigInt::one) *= p;
    }
    let mut parts: Vec<(BigInt, u32)> = by_exp.into_iter().map(|(e, b)| (b, e)).collect();
    if !rest.is_one() {
        let len = rest.to_string().len();
        if len <= SOURCE_DIGITS {
            parts.push((rest, 1));
        } else if len <= SEARCH_DIGITS {
            parts.push(perfect_power(&rest)?);
        } else {
            return None;
        }
    }
    // A common exponent joins everything: 2^60*3^60 is 6^60 (only when the base stays short).
    if parts.len() > 1 {
        let e = parts.iter().map(|(_, e)| *e).fold(0, num_integer::gcd);
        if e > 1 {
            let base: BigInt = parts.iter().map(|(b, k)| b.pow(k / e)).product();
            if base.to_string().len() <= SOURCE_DIGITS {
                parts = vec![(base, e)];
            }
        }
    }
    let mut texts = Vec::new();
    for (b, e) in &parts {
        let bt = b.to_string();
        if bt.len() > SOURCE_DIGITS {
            return None;
        }
        texts.push(if *e == 1 { bt } else { format!("{bt}^{e}") });
    }
    let form = match parts.as_slice() {
        [(_, e)] if *e > 1 => IntForm::Power,
        [_] => IntForm::Numeral,
        _ => IntForm::Product,
    };
    Some((texts.join("*"), form))
}

/// Divides every factor `p` out of `n` and says how many there were, in about 2 log2(e)
/// divisions: by p, p^2, p^4, ... while they divide, then back down. One division per
/// factor made printing 3^(2^15) (60 givens each the square of the one before, session
/// 35) take 3 s: e full divisions of a number of e bits, quadratic in its length.
fn divide_out(n: &mut BigInt, p: u32) -> u32 {
    let mut e = 0u32;
    let mut pows = vec![BigInt::from(p)];
    // Up: p^(2^i) for i = 0, 1, ... while it divides what is left.
    loop {
        let top = pows.last().expect("one power at least");
        let (q, r) = n.div_rem(top);
        if !r.is_zero() {
            pows.pop();
            break;
        }
        *n = q;
        e += 1 << (pows.len() - 1);
        let next = top * top;
        if next.bits() > n.bits() {
            break;
        }
        pows.push(next);
    }
    // Down: what is left has fewer than 2^(len) factors p; each power divides at most once.
    for (i, pw) in pows.iter().enumerate().rev() {
        let (q, r) = n.div_rem(pw);
        if r.is_zero() {
            *n = q;
            e += 1 << i;
        }
    }
    e
}

/// `n` as `b^k` with `b` of at most [`SOURCE_DIGITS`] digits, the largest such `k` up to
/// [`MAX_ROOT`].
fn perfect_power(n: &BigInt) -> Option<(BigInt, u32)> {
    let digits = n.to_string().len();
    let least = digits.div_ceil(SOURCE_DIGITS) as u32;
    (least.max(2)..=MAX_ROOT).rev().find_map(|k| {
        let b = n.nth_root(k);
        (b.clone().pow(k) == *n && b.to_string().len() <= SOURCE_DIGITS).then_some((b, k))
    })
}

/// The decimal digits as `a*10^72 + b*10^36 + c`: parts of at most [`CHUNK`] digits,
/// leading zeros and zero parts dropped.
fn chunked(text: &str) -> String {
    let mut parts = Vec::new();
    let len = text.len();
    let mut end = len;
    let mut place = 0usize;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let digits = text[start..end].trim_start_matches('0');
        if !digits.is_empty() {
            parts.push(match place {
                0 => digits.to_string(),
                _ => format!("{digits}*10^{place}"),
            });
        }
        place += end - start;
        end = start;
    }
    parts.reverse();
    parts.join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Reads a form back with the same arithmetic the lexer's numbers get: sums of
    /// products of powers of numerals.
    fn read(s: &str) -> BigInt {
        s.split(" + ")
            .map(|term| {
                term.split('*')
                    .map(|f| match f.split_once('^') {
                        Some((b, e)) => {
                            assert!(b.len() <= SOURCE_DIGITS && e.len() <= SOURCE_DIGITS);
                            b.parse::<BigInt>().unwrap().pow(e.parse::<u32>().unwrap())
                        }
                        None => {
                            assert!(f.len() <= SOURCE_DIGITS, "{f}");
                            f.parse::<BigInt>().unwrap()
                        }
                    })
                    .product::<BigInt>()
            })
            .sum()
    }

    /// `divide_out` against one division per factor, on generated products of a prime's
    /// power (multiplicities 0 to 5,000, around the powers of two) and a cofactor.
    #[test]
    fn divide_out_counts_every_factor() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(35);
        for k in 0..300u32 {
            let p = SMALL_PRIMES[rng.random_range(0..SMALL_PRIMES.len())];
            let e = match k % 3 {
                0 => rng.random_range(0u32..5_000),
                1 => (1u32 << rng.random_range(0u32..12)).saturating_sub(rng.random_range(0u32..2)),
                _ => rng.random_range(0u32..40),
            };
            let co = BigInt::from(rng.random_range(1u64..1_000_000));
            let n = BigInt::from(p).pow(e) * &co;
            let (mut naive, mut want) = (n.clone(), 0u32);
            while (&naive % p).is_zero() {
                naive /= p;
                want += 1;
            }
            let mut fast = n.clone();
            assert_eq!(divide_out(&mut fast, p), want, "p = {p}, e = {e}");
            assert_eq!(fast, naive);
        }
        let mut one = BigInt::one();
        assert_eq!(divide_out(&mut one, 3), 0);
    }

    #[test]
    fn long_integers_read_back_and_keep_their_powers() {
        let seven = BigInt::from(7).pow(60u32);
        assert_eq!(integer_source(&seven), ("7^60".to_string(), IntForm::Power));
        let thirty = BigInt::from(30).pow(30u32);
        assert_eq!(integer_source(&thirty).0, "30^30");
        let ten = BigInt::from(10).pow(308u32);
        assert_eq!(integer_source(&ten).0, "10^308");
        let thirty_one = BigInt::from(31).pow(30u32);
        assert_eq!(integer_source(&thirty_one).0, "31^30");
        // A prime power beyond the trial primes: a perfect power of what is left.
        let big_prime = BigInt::from(1_000_000_007u64).pow(7u32);
        assert_eq!(integer_source(&big_prime).0, "1000000007^7");
        let short = BigInt::from(12345);
        assert_eq!(
            integer_source(&short),
            ("12345".to_string(), IntForm::Numeral)
        );
    }

    #[test]
    fn generated_large_integers_round_trip() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(33);
        for _ in 0..400 {
            // Products of random powers, sums of them, and random digit strings.
            let a = BigInt::from(rng.random_range(2u64..10_000)).pow(rng.random_range(1u32..90));
            let b = BigInt::from(rng.random_range(2u64..1_000)).pow(rng.random_range(1u32..60));
            let digits: String = (0..rng.random_range(1..300))
                .map(|k| {
                    let d = rng.random_range(0..10u8);
                    char::from(b'0' + if k == 0 { d.max(1) } else { d })
                })
                .collect();
            let c: BigInt = digits.parse().unwrap();
            for n in [&a * &b, &a + &b, c.clone(), &c * &a, a.clone()] {
                let (text, form) = integer_source(&n);
                assert_eq!(read(&text), n, "{text}");
                if n.to_string().len() <= SOURCE_DIGITS {
                    assert_eq!(form, IntForm::Numeral);
                }
            }
        }
    }
}
