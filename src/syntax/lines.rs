//! The first pass over a source file: Unicode spellings to ASCII (keeping a map back
//! to the original byte offsets), comments blanked out, and the text cut into
//! logical lines arranged in blocks by indentation.

use super::span::Span;

/// The transliterated text and, for each of its bytes, the original offset.
pub struct Ascii {
    pub text: String,
    /// `map[i]` is the offset in the original source of byte `i` of `text`;
    /// `map[text.len()]` is the source length.
    pub map: Vec<u32>,
}

impl Ascii {
    /// The original span of a byte range of the ASCII text.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let s = self.map[start.min(self.map.len() - 1)];
        let e = if end > start {
            // The end of the last byte's original character.
            let last = self.map[(end - 1).min(self.map.len() - 1)];
            let next = self.map[end.min(self.map.len() - 1)];
            next.max(last + 1)
        } else {
            s
        };
        Span { start: s, end: e }
    }
}

/// The ASCII spelling of a Unicode character, if it has one.
fn spell(ch: char, next: Option<char>) -> Option<&'static str> {
    Some(match ch {
        'σ' => "sigma",
        'μ' => "mu",
        'η' => "eta",
        'λ' => "lambda",
        'α' => "alpha",
        'β' => "beta",
        'γ' => "gamma",
        'χ' => "chi",
        'ε' | 'ϵ' => "epsilon",
        'θ' => "theta",
        'π' => "pi",
        'ρ' => "rho",
        'τ' => "tau",
        'φ' | 'ϕ' => "phi",
        'ω' => "omega",
        'δ' => "delta",
        'ν' => "nu",
        'κ' => "kappa",
        'ξ' => "xi",
        'ψ' => "psi",
        'ζ' => "zeta",
        'Φ' => "Phi",
        'Ψ' => "Psi",
        'Ω' => "Omega",
        'Γ' => "Gamma",
        'Λ' => "Lambda",
        'Θ' => "Theta",
        'Σ' => "sum",
        'ℓ' => "l",
        'Δ' => match next {
            Some(c) if c.is_ascii_uppercase() => "D",
            _ => "d",
        },
        '∂' => "d",
        '≈' => "~=",
        '≤' => "<=",
        '≥' => ">=",
        '≠' => "!=",
        '−' | '–' => "-",
        '·' | '×' | '⋅' => "*",
        '′' | '’' => "'",
        '″' => "''",
        '←' => "left",
        '↑' => "up",
        '→' => "right",
        '↓' => "down",
        '∈' => "in",
        '…' => "..",
        '\t' => "    ",
        '\u{a0}' => " ",
        _ => return None,
    })
}

/// Transliterates the source to ASCII and blanks out comments. Characters without an
/// ASCII spelling are kept as they are; the parser reports them.
pub fn transliterate(src: &str) -> Ascii {
    let mut text = String::with_capacity(src.len());
    let mut map = Vec::with_capacity(src.len() + 1);
    let mut chars = src.char_indices().peekable();
    let mut in_comment = false;
    while let Some((i, ch)) = chars.next() {
        // A byte-order mark at the start is no text: the command line drops it when it
        // reads a file (`report::decode_source`), and an editor's text (`tq lsp`) may
        // still hold it, where it cost the first line (session 33: `size B` after it was
        // read as an unexpected character, then every use of `B` was E0201). Dropped
        // here, every reader of a source skips it and spans stay in the source's bytes.
        if i == 0 && ch == '\u{feff}' {
            continue;
        }
        if ch == '\n' {
            in_comment = false;
        } else if ch == '#' {
            in_comment = true;
        }
        if in_comment {
            // Keep one blank per original byte so columns stay put.
            for _ in 0..ch.len_utf8().min(1) {
                text.push(' ');
                map.push(i as u32);
            }
            continue;
        }
        let next = chars.peek().map(|&(_, c)| c);
        match spell(ch, next) {
            Some(s) => {
                for b in s.bytes() {
                    text.push(b as char);
                    map.push(i as u32);
                }
            }
            None => {
                let mut buf = [0u8; 4];
                for _ in ch.encode_utf8(&mut buf).bytes() {
                    map.push(i as u32);
                }
                text.push(ch);
            }
        }
    }
    map.push(src.len() as u32);
    Ascii { text, map }
}

/// A logical line: a byte range of the ASCII text (possibly spanning several physical
/// lines), its indentation and the lines of the block it opens.
#[derive(Debug)]
pub struct Line {
    pub start: usize,
    pub end: usize,
    pub indent: usize,
    /// The line ends with `:` and owns the more indented lines that follow; so does a
    /// `for` or `rule` header whose `:` is missing, followed by a more indented line
    /// (the parser reports the missing `:` at the header's end).
    pub opens_block: bool,
    pub children: Vec<Line>,
    /// The block depth exceeded the limit; the children were dropped.
    pub too_deep: bool,
    /// The block's lines were written at the header's own indentation (`for l in ...:`
    /// then `h_{l+1}[b] = ...` not indented): the lines that belong to it by their
    /// variables (see [`unindented_body`]) were taken in as its children, and the
    /// parser reports the indentation once (E0804) instead of each line's consequences.
    pub unindented: bool,
}

/// The deepest block nesting accepted.
pub const MAX_DEPTH: usize = 32;

struct Physical {
    start: usize,
    end: usize,
    indent: usize,
}

fn physical_lines(text: &str) -> Vec<Physical> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, ch) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '\n')))
    {
        if ch == '\n' {
            let line = &text[start..i.min(text.len())];
            let trimmed = line.trim_end();
            if !trimmed.trim().is_empty() {
                let indent = line.len() - line.trim_start().len();
                out.push(Physical {
                    start: start + indent,
                    end: start + trimmed.len(),
                    indent,
                });
            }
            start = i + 1;
        }
    }
    out
}

fn bracket_balance(s: &str) -> i64 {
    let mut depth = 0i64;
    for ch in s.chars() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Cuts the text into logical lines and nests them into blocks.
pub fn logical_lines(text: &str) -> Vec<Line> {
    let phys = physical_lines(text);
    // Join continuation lines into logical lines.
    let mut flat: Vec<Line> = Vec::new();
    let mut i = 0;
    while i < phys.len() {
        let first = &phys[i];
        let mut end = first.end;
        let mut depth = bracket_balance(&text[first.start..first.end]);
        let mut j = i + 1;
        while j < phys.len() {
            let current = &text[first.start..end];
            let opens = current.ends_with(':') && depth <= 0;
            let deeper = phys[j].indent > first.indent;
            // An open bracket continues the statement on a more indented line, or on a
            // line that starts by closing it; a line as little indented as the statement
            // that does not close it starts a new statement (the parser then reports the
            // bracket left open at its opening, E0005).
            let closes = text[phys[j].start..phys[j].end].starts_with([')', ']', '}']);
            let continues = (depth > 0 && (deeper || closes)) || (!opens && deeper);
            // A `for` or `rule` header without its `:` (`for l in 0..L-1`, then the
            // indented body): the body is its block, not a continuation of the range,
            // so the parser reports the `:` missing where it belongs, at the end of the
            // header, instead of at the body's `=` (probe 29b n10).
            if continues && depth <= 0 && j == i + 1 && header_without_colon(current) {
                break;
            }
            if !continues {
                break;
            }
            depth += bracket_balance(&text[phys[j].start..phys[j].end]);
            end = phys[j].end;
            j += 1;
        }
        let header = &text[first.start..end];
        let opens_block = header.ends_with(':')
            || (header_without_colon(header)
                && phys.get(j).is_some_and(|next| next.indent > first.indent));
        flat.push(Line {
            start: first.start,
            end,
            indent: first.indent,
            opens_block,
            children: Vec::new(),
            too_deep: false,
            unindented: false,
        });
        i = j;
    }
    nest(text, &mut flat.into_iter().peekable(), 0)
}

/// Whether a line is a loop's or a rule's header with its `:` left out: `for l in
/// 0..L-1`, `for b, j`, `rule A over t` (no `:` anywhere, brackets balanced).
fn header_without_colon(line: &str) -> bool {
    let t = line.trim();
    if t.contains(':') || bracket_balance(t) != 0 {
        return false;
    }
    let mut w = t.split_whitespace();
    match w.next() {
        Some("for") => t.contains(" in ") || !t.contains('='),
        Some("rule") => t.contains(" over "),
        _ => false,
    }
}

/// The words of a line (names, numbers), split at everything else: `h_{l+1}[b,j]` is
/// `h`, `l`, `1`, `b`, `j`.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Whether `line`, written at the indentation of the block header `header` right after
/// it (or after lines already taken in, `taken`), belongs to the block: a statement
/// (no keyword first) that uses the loop's variables (`for l in ...:`, `for b,j:`,
/// `rule A over t:`), a derivation's lines (the start, then lines that begin with a
/// relation), an `includes` block's `.grad` statements. Other lines are left where
/// they are (the block stays empty, also reported).
fn unindented_body(header: &str, line: &str, taken: usize) -> bool {
    let first = |s: &str| words(s).next().unwrap_or("").to_string();
    if line.ends_with(':') || super::parser::KEYWORDS.contains(&first(line).as_str()) {
        return false;
    }
    let head = header.trim_end_matches(':');
    let mut hw = words(head);
    let vars: Vec<&str> = match hw.next() {
        Some("for") => {
            // The first word is `for`, but characters that are not word characters may
            // stand before it (`😀for l in 0..3:`, found by the LSP edit campaign: slicing
            // at `"for".len()` split the emoji and panicked).
            let Some(rest) = head.trim_start().strip_prefix("for") else {
                return false;
            };
            let rest = rest.trim_start();
            match rest.split_once(" in ") {
                Some((v, _)) => vec![v.trim()],
                None => rest.split(',').map(str::trim).collect(),
            }
        }
        Some("rule") => head
            .rsplit_once(" over ")
            .map(|(_, v)| vec![v.trim()])
            .unwrap_or_default(),
        Some("derivation") => {
            return taken == 0 || line.starts_with(['=', '<', '>', '~']);
        }
        Some("claim") => return line.contains(".grad"),
        _ => return false,
    };
    words(line).any(|w| vars.contains(&w))
}

fn nest(
    text: &str,
    lines: &mut std::iter::Peekable<std::vec::IntoIter<Line>>,
    depth: usize,
) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    while let Some(mut line) = lines.next() {
        if line.opens_block {
            let indent = line.indent;
            let mut block = Vec::new();
            while let Some(next) = lines.peek() {
                if next.indent <= indent {
                    break;
                }
                if let Some(l) = lines.next() {
                    block.push(l);
                }
            }
            if block.is_empty() {
                let header = &text[line.start..line.end];
                while let Some(next) = lines.peek() {
                    let body = &text[next.start..next.end];
                    if next.indent != indent || !unindented_body(header, body, block.len()) {
                        break;
                    }
                    if let Some(l) = lines.next() {
                        block.push(l);
                    }
                }
                line.unindented = !block.is_empty();
            }
            if depth + 1 > MAX_DEPTH {
                line.too_deep = true;
            } else {
                line.children = nest(text, &mut block.into_iter().peekable(), depth + 1);
            }
        }
        out.push(line);
    }
    out
}

/// front41 (issue #18, l15): the first line whose indentation, against the line before
/// it, says "deeper", "the same" or "shallower" differently as a tab is read as 1, 4
/// (tq's reading, [`transliterate`]) or 8 spaces: a file that mixes tabs and spaces so
/// that its blocks depend on the tab width (four spaces, then a tab: siblings for tq, a
/// deeper line in an editor showing tabs as eight). Blank and comment-only lines are
/// skipped. The answer is the byte range of that line's indentation in `src`.
pub fn tab_width_dependent(src: &str) -> Option<(usize, usize)> {
    let widths = |indent: &str| {
        let mut w = [0usize; 3];
        for ch in indent.chars() {
            for (k, tab) in [1usize, 4, 8].into_iter().enumerate() {
                w[k] += if ch == '\t' { tab } else { 1 };
            }
        }
        w
    };
    let mut previous: Option<[usize; 3]> = None;
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let here = start;
        start += line.len();
        let body = line.trim_start_matches([' ', '\t']);
        let rest = body.trim();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - body.len()];
        let w = widths(indent);
        if let Some(p) = previous {
            let signs: Vec<std::cmp::Ordering> = (0..3).map(|k| w[k].cmp(&p[k])).collect();
            if signs.iter().any(|s| *s != signs[0]) {
                return Some((here, here + indent.len()));
            }
        }
        previous = Some(w);
    }
    None
}
