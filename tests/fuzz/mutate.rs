//! The mutations of the fuzz run: by characters (fragments of the language and hostile
//! ones, numbers at their limits) and by the language's structure (lines, numbers,
//! operator chains, nesting), and how one is applied to a source.

use super::*;

/// Fragments a mutation may insert: the language's tokens and some hostile ones.
pub(crate) const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "_",
    "^",
    "^{",
    "_{",
    "'",
    ",",
    ":",
    "=",
    "+=",
    "-=",
    "==",
    "~=",
    "<=",
    "~",
    "..",
    ".grad",
    "+",
    "-",
    "*",
    "/",
    " ",
    "\n",
    "\n  ",
    "\t",
    "#",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    "1e400",
    "0.5",
    "x",
    "I",
    "J'",
    "dx",
    "DX",
    "l",
    "l+1",
    "t-1",
    "2x+1",
    "for ",
    "for l in 0..L-1:\n  ",
    "claim ",
    "expect refuted\n",
    "expect error E0202\n",
    "param ",
    "input ",
    "grad ",
    "size ",
    "index ",
    "symbol ",
    "boundary zero\n",
    "softmax_{w}(",
    "sum_{i}(",
    "sigmoid(",
    "σ",
    "Δx",
    "≈",
    "ℓ",
    "←",
    "é",
    "\u{0}",
    "d(u)/d(a)",
    "Var(",
    "E[",
    "solve(",
    "at a = 2",
    "given ",
    "sample B = 1000000000\n",
    "[a > 0]",
    "w[t]",
    // Added in the 2026-12-04 night round: line ends, invisible and look-alike
    // characters, numbers in forms the lexer may not expect.
    "\r",
    "\r\n",
    "\u{FEFF}",
    "\u{200B}",
    "\u{202E}",
    "e\u{0301}",
    "𝒩",
    "−",
    "×",
    "·",
    "∑",
    "∂",
    "²",
    "½",
    "tol 1e400",
    "tol -1",
    "at a = 1e400",
    "1e-400",
    "0x10",
    "1_000",
    "1.5e",
    ".5",
    "5.",
    "vary ",
    "vary L in 1..1000000\n",
    "variants ",
];

/// Numbers a grammar-aware mutation puts in place of a number of the file.
pub(crate) const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "10000",
    "10001",
    "1000000",
    "1000001",
    "2147483648",
    "999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999999",
    "1e400",
    "-1e400",
    "0.000001",
    "4096",
    "2000",
    "800",
    "1e308",
    "1e-308",
    "1e99999",
    "0.5e-3",
    "7/3",
    "1/0",
];

/// Index lists a grammar-aware mutation puts in place of a bracket's contents
/// (added in the 2026-12-05 round): repeated, shifted, affine, capital, empty and
/// very long index patterns.
pub(crate) const INDEX_PATTERNS: &[&str] = &[
    "i,i,i",
    "b,b",
    "I,I'",
    "i+999999999",
    "i-i",
    "2i+1",
    "l+1",
    "t-1,t+1",
    "",
    ",",
    "J",
    "b,J',K''",
    "x[i]",
    "i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,f,g,h",
    "b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b+b",
    "-j",
    "j'''''''''''",
    "0",
    "999999999999",
    "σ",
];

/// `vary` lines a mutation appends or puts in place of a line (2026-12-05 round):
/// ranges at and past the limits, every form of value list, names that are not
/// parameters.
pub(crate) const VARY_LINES: &[&str] = &[
    "vary B in 1..1000000",
    "vary B in 1..1000001",
    "vary L in 0..0",
    "vary L in 5..1",
    "vary J in 1..999999, B in 1..999999, L in 2..12",
    "vary sigma_W in 0.000000001..0.2",
    "vary sigma_W in 0.05..0.2, sigma_W in 0.1..0.3",
    "vary a in 1e400..1e401",
    "vary J in {2, 3, 4, 2}",
    "vary J in {1/0, sqrt(-1), 2^2000}",
    "vary s in {1/3, sqrt(2)/4, 2^(-3), 10^400}",
    "vary L in 2..10, J in {2, 3, 4}, sigma_W in 0.05..0.2, B in 1..100000",
    "vary nothing in 1..2",
    "vary",
    "vary L in",
    "vary L in 1..2..3",
];

/// Very long numbers for [`Mutation::Long`]: thousands of digits, as an integer, a
/// decimal, an exponent or a quotient.
pub(crate) fn long_number(kind: usize, digits: usize) -> String {
    let d = "9".repeat(digits);
    match kind % 6 {
        0 => d,
        1 => format!("0.{}1", "0".repeat(digits)),
        2 => format!("1e{d}"),
        3 => format!("1e-{d}"),
        4 => format!("{d}/{}", "7".repeat(digits / 2 + 1)),
        _ => format!("1/{d}"),
    }
}

/// Exact constants that grow when multiplied or summed (decimals whose reduced
/// numerator and denominator are both long, powers near the fold limits): the
/// coefficients of [`Mutation::Coefficient`] and the values of [`Mutation::ClaimTail`].
pub(crate) const EXACT_CONSTANTS: &[&str] = &[
    "1e-308",
    "1e308",
    "1.0000000000000000000000000000000000001",
    "0.9999999999999999999999999999999999999",
    "(10^300 + 1)/10^300",
    "(3/7)^4000",
    "(10^30 + 1)^2000",
    "123456789012345678901234567890123456789/987654321098765432109876543210987654321",
    "2^-4096",
    "(1 + 1e-300)^4096",
    "1/3",
];

/// What [`Mutation::ClaimTail`] appends to a claim line (or puts on the line after it).
pub(crate) const CLAIM_TAILS: &[&str] = &[
    " tol ",
    " given L = ",
    " given a = ",
    " given sigma = ",
    "\nat a = ",
    "\nat a = 2, b = ",
];

/// A generated `rule` block of `n` (states, rules, levels or steps) for
/// [`Mutation::Rules`]: many states chained in one rule, many rules compared, blocks
/// nested in a rule, fixed steps past the unrolling limit, mismatched states, a state
/// that reads itself ahead, and huge shifts.
pub(crate) fn rule_block(kind: usize, n: usize) -> String {
    let n = n.max(1);
    let mut out = String::from("symbol mu, eta\n");
    match kind % 7 {
        0 => {
            for r in ["A", "B"] {
                out += &format!("rule {r} over t:\n");
                for k in 0..n {
                    let prev = if k == 0 {
                        "g[t]".to_string()
                    } else {
                        format!("x{}[t+1]", k - 1)
                    };
                    out += &format!("  x{k}[t+1] = mu x{k}[t] + {prev}\n");
                }
            }
            out += "claim equivalent(A, B) given B.x0[0] = A.x0[0]\n";
        }
        1 => {
            for r in 0..n {
                out += &format!("rule R{r} over t:\n  m[t+1] = mu m[t] + {} g[t]\n", r + 1);
            }
            for r in 1..n {
                out += &format!("claim equivalent(R0, R{r}) given R{r}.m[0] = R0.m[0]\n");
            }
        }
        2 => {
            out += "rule A over t:\n";
            for d in 0..n {
                out += &format!("{}rule B{d} over t:\n", "  ".repeat(d + 1));
            }
            out += &format!("{}v[t+1] = mu v[t] + g[t]\n", "  ".repeat(n + 1));
        }
        3 => {
            out +=
                "rule H over t:\n  v[t+1] = mu v[t] + g[t]\n  theta[t+1] = theta[t] - eta v[t+1]\n";
            for s in [n, 31, 32, 33, 1_000_000_000] {
                out += &format!("claim H.theta[{s}] == H.theta[0] given H.v[0] = 0\n");
            }
        }
        4 => {
            out += "rule A over t:\n  v[t+1] = mu w[t] + g[t]\n  w[t+1] = mu v[t] + g[t]\n";
            out += "rule B over t:\n";
            for k in 0..n {
                out += &format!(
                    "  w{k}[t+1] = mu v{k}[t] + w{k}[t]\n  v{k}[t+1] = eta w{k}[t+1] + g[t]\n"
                );
            }
            out += "claim equivalent(A, B)\n";
        }
        5 => {
            out += "rule A over t:\n";
            for k in 0..n {
                out += &format!("  v{k}[t+1] = v{}[t+1] + mu v{k}[t]\n", (k + 1) % n);
            }
            out += "claim equivalent(A, A)\n";
        }
        _ => {
            out += &format!(
                "rule A over t:\n  v[t+{n}] = mu v[t-{n}] + g[t+999999999999]\nclaim A.v[t] == A.v[0] mu^t\n"
            );
        }
    }
    out
}

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        frag: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Swap {
        a: usize,
        b: usize,
        len: usize,
    },
    /// Grammar-aware: whole lines.
    DeleteLine {
        line: usize,
    },
    DuplicateLine {
        line: usize,
        times: usize,
    },
    SwapLines {
        a: usize,
        b: usize,
    },
    /// The k-th number of the file becomes one of [`NUMBERS`].
    Number {
        k: usize,
        value: usize,
    },
    /// The right-hand side of a line (after its last `=`) repeated as a sum or product.
    Repeat {
        line: usize,
        times: usize,
        product: bool,
    },
    /// The right-hand side of a line wrapped in brackets.
    Deepen {
        line: usize,
        levels: usize,
    },
    /// A byte replaced (invalid UTF-8 is read lossily, as a file would be refused).
    Byte {
        at: usize,
        value: u8,
    },
    /// Line ends rewritten: every `\n` to `\r\n` (0), to a lone `\r` (1), the k-th
    /// only to a lone `\r` (2), or every `\n` to `\n\r` (3).
    LineEnds {
        style: u8,
        k: usize,
    },
    /// The k-th number of the file replaced by a number of `digits` digits
    /// ([`long_number`]).
    Long {
        k: usize,
        kind: usize,
        digits: usize,
    },
    /// A line repeated hundreds to thousands of times (many claims, many statements).
    Flood {
        line: usize,
        times: usize,
    },
    /// The contents of the k-th bracket `[...]` of the file replaced by one of
    /// [`INDEX_PATTERNS`].
    Indices {
        k: usize,
        pattern: usize,
    },
    /// One of [`VARY_LINES`] appended (or put in place of line `line` when `replace`).
    Vary {
        line: usize,
        which: usize,
        replace: bool,
    },
    /// Line `line` replaced by `times` copies of itself with every whole number n in
    /// it made n + k (k = 1..times): many distinct members, layers and claims rather
    /// than one repeated.
    Spread {
        line: usize,
        times: usize,
    },
    /// The right-hand side of line `line` multiplied by `times` copies of one of
    /// [`EXACT_CONSTANTS`] (and each copy plus the right-hand side when `sum`): exact
    /// coefficients that grow past the symbolic engine's bit budget.
    Coefficient {
        line: usize,
        which: usize,
        times: usize,
        sum: bool,
    },
    /// One of [`CLAIM_TAILS`] with one of [`EXACT_CONSTANTS`] raised to `power` added to
    /// the k-th claim: `given`, `at` and `tol` values of thousands of digits.
    ClaimTail {
        k: usize,
        tail: usize,
        which: usize,
        power: u32,
    },
    /// A generated [`rule_block`] of `kind` and size `n` appended (or in place of line
    /// `line` when `replace`).
    Rules {
        line: usize,
        kind: usize,
        n: usize,
        replace: bool,
    },
    /// A generated [`element_block`] (claims about tensor elements with softmax and
    /// Iverson brackets) of `kind` and size `n` appended.
    Element {
        kind: usize,
        n: usize,
    },
    /// A generated [`includes_block`] (`claim backprop includes:` of `n` lines) of `kind`
    /// appended.
    Includes {
        kind: usize,
        n: usize,
    },
    /// Grammar-aware (session 32): the right-hand side `R` of line `line` nested `levels`
    /// deep in one of [`NEST_SHAPES`] (`R^(R^(...))`, `exp(exp(...))`, `tanh(R tanh(...))`):
    /// derived expressions whose size grows with the depth (power towers, probe 31b).
    Nest {
        line: usize,
        shape: usize,
        levels: usize,
    },
}

/// The shapes of [`Mutation::Nest`]: `{r}` is the line's right-hand side, `{e}` the
/// expression nested so far.
pub(crate) const NEST_SHAPES: &[&str] = &[
    "({r})^({e})",
    "exp({e})",
    "ln(2 + {e})",
    "({r})/(1 + {e})",
    "tanh(({r}) {e})",
    "sigmoid(({r}) {e})",
    "sqrt(1 + ({r}) {e})",
    "exp(({r})/(1 + ln(1 + ({e})^2)))",
    "({e}) ({r}) + ({r})^2",
];

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, frag)| Mutation::Insert { at, frag }),
        (any::<usize>(), 1usize..80).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>(), 1usize..20).prop_map(|(a, b, len)| Mutation::Swap {
            a,
            b,
            len
        }),
        any::<usize>().prop_map(|line| Mutation::DeleteLine { line }),
        (any::<usize>(), 1usize..4)
            .prop_map(|(line, times)| Mutation::DuplicateLine { line, times }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(k, value)| Mutation::Number { k, value }),
        (
            any::<usize>(),
            prop_oneof![1usize..10, 10usize..300],
            any::<bool>()
        )
            .prop_map(|(line, times, product)| Mutation::Repeat {
                line,
                times,
                product
            }),
        (any::<usize>(), prop_oneof![1usize..8, 8usize..80])
            .prop_map(|(line, levels)| Mutation::Deepen { line, levels }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Byte { at, value }),
        (0u8..4, any::<usize>()).prop_map(|(style, k)| Mutation::LineEnds { style, k }),
        (
            any::<usize>(),
            any::<usize>(),
            prop_oneof![20usize..400, 400usize..5000]
        )
            .prop_map(|(k, kind, digits)| Mutation::Long { k, kind, digits }),
        (any::<usize>(), 100usize..3000).prop_map(|(line, times)| Mutation::Flood { line, times }),
        (any::<usize>(), 0..INDEX_PATTERNS.len())
            .prop_map(|(k, pattern)| Mutation::Indices { k, pattern }),
        (any::<usize>(), 0..VARY_LINES.len(), any::<bool>()).prop_map(|(line, which, replace)| {
            Mutation::Vary {
                line,
                which,
                replace,
            }
        }),
        (any::<usize>(), prop_oneof![2usize..50, 50usize..2000])
            .prop_map(|(line, times)| Mutation::Spread { line, times }),
        (
            any::<usize>(),
            0..EXACT_CONSTANTS.len(),
            prop_oneof![1usize..10, 10usize..300],
            any::<bool>()
        )
            .prop_map(|(line, which, times, sum)| Mutation::Coefficient {
                line,
                which,
                times,
                sum
            }),
        (
            any::<usize>(),
            0..CLAIM_TAILS.len(),
            0..EXACT_CONSTANTS.len(),
            prop_oneof![Just(1u32), 2u32..50, 50u32..5000]
        )
            .prop_map(|(k, tail, which, power)| Mutation::ClaimTail {
                k,
                tail,
                which,
                power
            }),
        (
            any::<usize>(),
            0usize..7,
            prop_oneof![1usize..8, 8usize..70, 70usize..1500],
            any::<bool>()
        )
            .prop_map(|(line, kind, n, replace)| Mutation::Rules {
                line,
                kind,
                n,
                replace
            }),
    ]
}

/// The long campaign's mutations: [`mutation`] and, since 2026-12-05 evening, generated
/// element claims with softmax and brackets and `includes` blocks (kept out of
/// [`mutation`] so that the bounded run's cases stay the same).
pub(crate) fn mutation_long() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        10 => mutation(),
        1 => (0usize..7, prop_oneof![1usize..8, 8usize..70, 70usize..1500])
            .prop_map(|(kind, n)| Mutation::Element { kind, n }),
        1 => (0usize..5, prop_oneof![1usize..8, 8usize..70, 70usize..1500])
            .prop_map(|(kind, n)| Mutation::Includes { kind, n }),
        1 => (any::<usize>(), 0..NEST_SHAPES.len(), prop_oneof![2usize..16, 16usize..80])
            .prop_map(|(line, shape, levels)| Mutation::Nest { line, shape, levels }),
    ]
}

/// The model the generated element claims read: a softmax over `Kz`, relu brackets, an
/// integer label (its own names, so that it joins any file).
const ELEMENT_MODEL: &str = "size Tz, Kz\nindex tz : Tz\nindex kz, kz' : Kz\ninput sz[Tz, Kz] ~ normal(0, 1)\ninput labz[Tz] ~ categorical(Kz)\nPz[tz,kz] = softmax_{kz}(sz[tz,kz])\nRz[tz,kz] = [sz[tz,kz] > 0] sz[tz,kz]\nJz[tz,kz,kz'] = Pz[tz,kz] ([kz == kz'] - Pz[tz,kz'])\n";

/// Claims about tensor elements with softmax and Iverson brackets, `n` deep or `n` many.
pub(crate) fn element_block(kind: usize, n: usize) -> String {
    let claims = match kind {
        // Brackets nested n deep around an index comparison.
        0 => format!(
            "claim sum_{{kz}}({}kz == kz'{} Pz[tz,kz]) == Pz[tz,kz']",
            "[".repeat(n),
            "]".repeat(n)
        ),
        // Brackets of brackets around a value comparison.
        1 => format!(
            "claim Rz[tz,kz] == {}sz[tz,kz] > 0{} sz[tz,kz]",
            "[".repeat(n),
            " > 0]".repeat(n)
        ),
        // n distinct claims, every third a false twin.
        2 => (0..n)
            .map(|j| {
                if j % 3 == 2 {
                    format!("claim sum_{{kz}}(Pz[tz,kz]) == {}", j + 2)
                } else {
                    format!("claim sum_{{kz'}}(Jz[tz,kz,kz']) == {j} - {j}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        // A softmax of a softmax, n deep.
        3 => format!(
            "Qz[tz,kz] = {}sz[tz,kz]{}\nclaim sum_{{kz}}(Qz[tz,kz]) == 1",
            "softmax_{kz}(".repeat(n),
            ")".repeat(n)
        ),
        // A sum of n index brackets against a label.
        4 => format!(
            "claim sum_{{kz}}(({}) Pz[tz,kz]) == Pz[tz,labz[tz]]",
            (0..n)
                .map(|j| format!("[kz == labz[tz] + {j}]"))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        // A bracket raised to the n-th power, and a product of n brackets.
        5 => format!(
            "claim [sz[tz,kz] > 0]^{n} == [sz[tz,kz] > 0]\nclaim {} == [sz[tz,kz] > 0]",
            vec!["[sz[tz,kz] > 0]"; n.min(400)].join(" ")
        ),
        // Element claims under givens and at points.
        _ => (0..n.min(300))
            .map(|j| format!("claim Pz[tz,kz] <= 1 given sz[tz,kz] = {j}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    format!("{ELEMENT_MODEL}{claims}\nsample Tz = 2, Kz = 3")
}

/// A `claim backprop includes:` block of `n` lines over a small tanh network of its own.
pub(crate) fn includes_block(kind: usize, n: usize) -> String {
    let model = "size Bz, Lz, Iz\nindex iz, jz : Iz\nindex bz : Bz\nparam Wz_l[Iz, Iz] ~ normal(0, 1/Iz) for l in 1..Lz\ninput hz_0[Bz, Iz] ~ normal(0, 1)\ngrad hz_Lz ~ normal(0, 1)\nfor l in 0..Lz-1:\n  hz_{l+1}[bz,jz] = tanh(Wz_{l+1}[jz,Iz] hz_l[bz,Iz])\n";
    let line = |j: usize| {
        match kind {
        // The right statement, n copies.
        0 => "  for bz,jz,iz: hz_l.grad[bz,iz] += hz_{l+1}.grad[bz,jz] (1 - hz_{l+1}[bz,jz]^2) Wz_{l+1}[jz,iz]".to_string(),
        // Members far past the family.
        1 => format!("  for bz,jz,iz: Wz_{{l+{}}}.grad[jz,iz] += hz_{{l+1}}.grad[bz,jz] hz_l[bz,iz]", j * 997 + 1),
        // Distinct wrong coefficients.
        2 => format!("  for bz,jz,iz: hz_l.grad[bz,iz] += {} hz_{{l+1}}.grad[bz,jz] Wz_{{l+1}}[jz,iz]", j + 2),
        // Loops inside the block.
        3 => format!("  for l in 0..Lz-{}:\n    for bz,jz: hz_l.grad[bz,jz] += hz_{{l+1}}.grad[bz,jz]", j % 5 + 1),
        // Sums over many shifted indices.
        _ => format!("  for bz,jz: hz_0.grad[bz,jz] += sum_{{iz}}(hz_1.grad[bz,iz+{j}])"),
    }
    };
    let body: Vec<String> = (0..n).map(line).collect();
    format!(
        "{model}claim backprop includes:\n{}\nsample Bz = 2, Lz = 3, Iz = 2",
        body.join("\n")
    )
}

/// The lines of a text (without their ends).
pub(crate) fn lines_of(s: &str) -> Vec<String> {
    s.split('\n').map(str::to_string).collect()
}

/// The byte ranges of the numbers of a text.
pub(crate) fn numbers_in(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if starts {
            let j = (i..b.len())
                .find(|&j| !(b[j].is_ascii_digit() || b[j] == b'.'))
                .unwrap_or(b.len());
            out.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

pub(crate) fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The largest mutant: tq reads at most 1 MiB of a file (E0003 past it), so a larger
/// text tests nothing the cap does not, and a flood of a 170 KB line made a 400 MB input
/// that held the campaign of 2026-12-04 night for half an hour in the harness.
pub(crate) const MAX_MUTANT_BYTES: usize = 1 << 20;

pub(crate) fn apply(src: &str, muts: &[Mutation]) -> String {
    let mut s = src.to_string();
    for m in muts {
        let before = s.clone();
        apply_inner(&mut s, m);
        if s.len() > MAX_MUTANT_BYTES {
            s = before;
        }
    }
    s
}

fn apply_inner(s0: &mut String, m: &Mutation) {
    let mut s = std::mem::take(s0);
    {
        let n = s.len().max(1);
        match *m {
            Mutation::Delete { at, len } => {
                let a = floor_char(&s, at % n);
                let b = floor_char(&s, a + len);
                s.replace_range(a..b, "");
            }
            Mutation::Insert { at, frag } => {
                let a = floor_char(&s, at % n);
                s.insert_str(a, FRAGMENTS[frag]);
            }
            Mutation::Duplicate { at, len } => {
                let a = floor_char(&s, at % n);
                let b = floor_char(&s, a + len);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Mutation::DeleteLine { line } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                ls.remove(k);
                s = ls.join("\n");
            }
            Mutation::DuplicateLine { line, times } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                for _ in 0..times {
                    ls.insert(k, ls[k].clone());
                }
                s = ls.join("\n");
            }
            Mutation::SwapLines { a, b } => {
                let mut ls = lines_of(&s);
                let n = ls.len();
                ls.swap(a % n, b % n);
                s = ls.join("\n");
            }
            Mutation::Number { k, value } => {
                let nums = numbers_in(&s);
                if !nums.is_empty() {
                    let (a, b) = nums[k % nums.len()];
                    s.replace_range(a..b, NUMBERS[value]);
                }
            }
            Mutation::Repeat {
                line,
                times,
                product,
            } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                if let Some(eq) = ls[k].rfind('=') {
                    let rhs = ls[k][eq + 1..].trim().to_string();
                    if !rhs.is_empty() {
                        let sep = if product { " " } else { " + " };
                        let piece = format!("({rhs})");
                        let rep = vec![piece; times + 1].join(sep);
                        ls[k] = format!("{} {rep}", &ls[k][..eq + 1]);
                    }
                }
                s = ls.join("\n");
            }
            Mutation::Deepen { line, levels } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                if let Some(eq) = ls[k].rfind('=') {
                    let rhs = ls[k][eq + 1..].trim().to_string();
                    if !rhs.is_empty() {
                        ls[k] = format!(
                            "{} {}{rhs}{}",
                            &ls[k][..eq + 1],
                            "(".repeat(levels),
                            ")".repeat(levels)
                        );
                    }
                }
                s = ls.join("\n");
            }
            Mutation::Byte { at, value } => {
                let mut bytes = s.into_bytes();
                if !bytes.is_empty() {
                    let k = at % bytes.len();
                    bytes[k] = value;
                }
                s = String::from_utf8_lossy(&bytes).into_owned();
            }
            Mutation::LineEnds { style, k } => {
                s = match style {
                    0 => s.replace('\n', "\r\n"),
                    1 => s.replace('\n', "\r"),
                    2 => {
                        let ends: Vec<usize> = s.match_indices('\n').map(|(i, _)| i).collect();
                        if !ends.is_empty() {
                            let i = ends[k % ends.len()];
                            s.replace_range(i..i + 1, "\r");
                        }
                        s
                    }
                    _ => s.replace('\n', "\n\r"),
                };
            }
            Mutation::Long { k, kind, digits } => {
                let nums = numbers_in(&s);
                if !nums.is_empty() {
                    let (a, b) = nums[k % nums.len()];
                    s.replace_range(a..b, &long_number(kind, digits));
                }
            }
            Mutation::Flood { line, times } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                let l = ls[k].clone();
                ls.splice(k..k, std::iter::repeat_n(l, times));
                s = ls.join("\n");
            }
            Mutation::Indices { k, pattern } => {
                let opens: Vec<usize> = s.match_indices('[').map(|(i, _)| i).collect();
                if !opens.is_empty() {
                    let a = opens[k % opens.len()] + 1;
                    if let Some(len) = s[a..].find(']') {
                        s.replace_range(a..a + len, INDEX_PATTERNS[pattern]);
                    }
                }
            }
            Mutation::Vary {
                line,
                which,
                replace,
            } => {
                let mut ls = lines_of(&s);
                let v = VARY_LINES[which].to_string();
                if replace {
                    let k = line % ls.len();
                    ls[k] = v;
                } else {
                    ls.push(v);
                }
                s = ls.join("\n");
            }
            Mutation::Spread { line, times } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                let l = ls[k].clone();
                let nums = numbers_in(&l);
                let copies: Vec<String> = (1..=times)
                    .map(|d| {
                        let mut c = l.clone();
                        for &(a, b) in nums.iter().rev() {
                            if let Ok(n) = c[a..b].parse::<u64>() {
                                c.replace_range(a..b, &n.saturating_add(d as u64).to_string());
                            }
                        }
                        c
                    })
                    .collect();
                ls.splice(k..k + 1, copies);
                s = ls.join("\n");
            }
            Mutation::Coefficient {
                line,
                which,
                times,
                sum,
            } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                if let Some(eq) = ls[k].rfind('=') {
                    let rhs = ls[k][eq + 1..].trim().to_string();
                    if !rhs.is_empty() {
                        let c = EXACT_CONSTANTS[which];
                        let piece = if sum {
                            format!("(({c}) + {rhs})")
                        } else {
                            format!("({c})")
                        };
                        let rep = vec![piece; times].join(" ");
                        ls[k] = format!("{} {rep} ({rhs})", &ls[k][..eq + 1]);
                    }
                }
                s = ls.join("\n");
            }
            Mutation::ClaimTail {
                k,
                tail,
                which,
                power,
            } => {
                let mut ls = lines_of(&s);
                let claims: Vec<usize> = (0..ls.len())
                    .filter(|&i| ls[i].trim_start().starts_with("claim "))
                    .collect();
                if !claims.is_empty() {
                    let i = claims[k % claims.len()];
                    let c = EXACT_CONSTANTS[which];
                    let value = if power == 1 {
                        c.to_string()
                    } else {
                        format!("({c})^{power}")
                    };
                    ls[i] = format!("{}{}{value}", ls[i], CLAIM_TAILS[tail]);
                }
                s = ls.join("\n");
            }
            Mutation::Rules {
                line,
                kind,
                n,
                replace,
            } => {
                let mut ls = lines_of(&s);
                let block = rule_block(kind, n);
                if replace {
                    let k = line % ls.len();
                    ls[k] = block;
                } else {
                    ls.push(block);
                }
                s = ls.join("\n");
            }
            Mutation::Element { kind, n } => {
                s.push('\n');
                s.push_str(&element_block(kind, n));
            }
            Mutation::Includes { kind, n } => {
                s.push('\n');
                s.push_str(&includes_block(kind, n));
            }
            Mutation::Nest {
                line,
                shape,
                levels,
            } => {
                let mut ls = lines_of(&s);
                let k = line % ls.len();
                if let Some(eq) = ls[k].rfind('=') {
                    let r = ls[k][eq + 1..].trim().to_string();
                    if !r.is_empty() {
                        let mut e = r.clone();
                        // The template's markers are filled in one pass over the
                        // template, so that text of the file that reads `{e}` or `{r}`
                        // (`h_{r}`) is never filled again.
                        let template = NEST_SHAPES[shape % NEST_SHAPES.len()];
                        for _ in 0..levels {
                            if e.len() > MAX_MUTANT_BYTES {
                                break;
                            }
                            e = template
                                .split("{e}")
                                .map(|piece| piece.replace("{r}", &r))
                                .collect::<Vec<_>>()
                                .join(&e);
                        }
                        ls[k] = format!("{} {e}", &ls[k][..eq + 1]);
                    }
                }
                s = ls.join("\n");
            }
            Mutation::Swap { a, b, len } => {
                let a0 = floor_char(&s, a % n);
                let a1 = floor_char(&s, a0 + len);
                let piece = s[a0..a1].to_string();
                s.replace_range(a0..a1, "");
                let n2 = s.len().max(1);
                let b0 = floor_char(&s, b % n2);
                s.insert_str(b0, &piece);
            }
        }
    }
    *s0 = s;
}
