//! The hints of a line that fails to parse: a keyword other languages use for a
//! statement, a habit from another language (`**`, `=>`, `//`), an index position that
//! is not affine, a missing operand, and the name of a character the language does not
//! know. Pure functions of the text around the failure; `recovery.rs` chooses which.

/// The keyword for a word other languages and notations use for the same statement
/// (`dim N` for `size N`, `weight W[I, J]` for `param W[I, J]`).
pub(super) fn keyword_for(w: &str) -> Option<&'static str> {
    Some(match w.to_ascii_lowercase().as_str() {
        "dim" | "dims" | "dimension" | "dimensions" | "sizes" => "size",
        "weight" | "weights" | "parameter" | "parameters" | "params" => "param",
        "data" | "inputs" | "observed" | "observe" => "input",
        "const" | "constant" | "constants" | "symbols" => "symbol",
        "scalars" => "scalar",
        "indices" => "index",
        "claims" | "assert" | "check" | "prove" => "claim",
        "set" | "sizes_at" => "sample",
        _ => return None,
    })
}

/// A hint for a habit from another language that E0001 met: `**` for a power, `=>` for
/// `>=`, `//` for a comment, a `for` line without its `:`, `name =` without a value.
/// `before` is the line up to the place, `after` the rest of the line from the place,
/// `tok` what stands there. Where the slip has one fix, the hint quotes the author's own
/// line with it made (`write `==`: `[w == y[t]]``), not a fixed example.
pub(super) fn habit_hint(before: &str, after: &str, tok: &str, expected: &str) -> Option<String> {
    let prev = before.trim_end();
    // The line with the last `drop` bytes before the place and the first `skip` bytes
    // after it replaced by `with`, its white space folded.
    let fixed = |drop: usize, with: &str, skip: usize| -> String {
        let head = &prev[..prev.len().saturating_sub(drop)];
        let gap = &before[prev.len()..];
        let tail = after.get(skip..).unwrap_or("");
        let line = if drop > 0 {
            format!("{head}{with}{tail}")
        } else {
            format!("{head}{gap}{with}{tail}")
        };
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    // A claim's second `tol` or `at` (the parser stops there): one of each per claim.
    if expected.contains("it has a `tol` already") {
        return Some(
            "a claim takes one tolerance: keep the one meant and delete the other `tol ...`".into(),
        );
    }
    if expected.contains("it has an `at` already") {
        return Some(
            "a claim takes one `at` list: write every setting in it, separated by commas (`at a = 1, b = 2`)".into(),
        );
    }
    if tok.starts_with('*') && prev.ends_with('*') {
        return Some(format!(
            "`**` is not a power in .tq: write `^`: `{}`",
            fixed(1, "^", 1).replace(" ^ ", "^")
        ));
    }
    if tok.starts_with('>') && prev.ends_with('=') && !prev.ends_with("==") {
        return Some(format!(
            "write `>=` for \u{2265} (the relations are `==`, `<=`, `>=`, `<`, `>`, `~=`): `{}`",
            fixed(1, ">=", 1)
        ));
    }
    if tok.starts_with('<') && prev.ends_with('=') && !prev.ends_with("==") {
        return Some(format!(
            "write `<=` for \u{2264} (the relations are `==`, `<=`, `>=`, `<`, `>`, `~=`): `{}`",
            fixed(1, "<=", 1)
        ));
    }
    if tok.starts_with("_(") {
        let inner = after.get(2..).unwrap_or("");
        // The subscript's closing parenthesis, nesting counted.
        let mut depth = 1usize;
        let close = inner.char_indices().find_map(|(k, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(k)
        });
        let example = match close {
            Some(k) => fixed(0, &format!("_{{{}}}", &inner[..k]), "_(".len() + k + 1),
            None => "h_{l-1}".to_string(),
        };
        return Some(format!(
            "a subscript with more than one character takes braces, not parentheses: `{example}`"
        ));
    }
    if tok.starts_with(['+', '-']) && expected.contains("`=`") {
        // `h_l+1[b,j] = ...`: the subscript ended at `l`.
        let name: String = prev
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Some((base, sub)) = name.split_once('_') {
            let shift: String = tok.chars().take_while(|c| *c != '[' && *c != ' ').collect();
            return Some(format!(
                "a subscript with more than one character takes braces: `{base}_{{{sub}{shift}}}`"
            ));
        }
    }
    if tok.starts_with('.') && prev.ends_with("..") {
        return Some("a range is written with two dots: `0..L-1` (both ends included)".into());
    }
    if tok.starts_with('=') && !tok.starts_with("==") && expected.contains("`)`") {
        // `normal(mean=0, var=1)`: arguments are positional.
        let name_start = prev
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
            .trim_end();
        if name_start.ends_with(['(', ',']) && prev.ends_with(|c: char| c.is_ascii_alphabetic()) {
            let line = format!("{before}{after}");
            let mut out = String::new();
            let mut rest = line.as_str();
            while let Some(k) = rest.find(['(', ',']) {
                out.push_str(&rest[..=k]);
                rest = &rest[k + 1..];
                let word = rest.trim_start();
                let n = word
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(word.len());
                let after_word = word[n..].trim_start();
                if n > 0 && after_word.starts_with('=') && !after_word.starts_with("==") {
                    if out.ends_with(',') {
                        out.push(' ');
                    }
                    rest = after_word[1..].trim_start();
                }
            }
            out.push_str(rest);
            return Some(format!(
                "arguments are positional, not named: write `{}` (normal's are the mean and the variance)",
                out.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    if tok.starts_with('=') && !tok.starts_with("==") && expected.contains("`]`") {
        return Some(format!(
            "an Iverson bracket compares with `==` (the relations are `==`, `<=`, `>=`, `<`, `>`): write `{}`",
            fixed(0, "==", 1)
        ));
    }
    if tok.starts_with('=') && !tok.starts_with("==") && expected.contains("`)`") {
        return Some(format!(
            "a relation inside parentheses compares with `==` (the relations are `==`, `<=`, `>=`, `<`, `>`): write `{}`",
            fixed(0, "==", 1)
        ));
    }
    // `size U = X // 2`: Python's division rounded down, between two operands.
    if tok.starts_with('/') && prev.ends_with('/') && !prev.ends_with("//") {
        let left = prev[..prev.len() - 1].trim_end();
        let right = after.get(1..).unwrap_or("").trim();
        let operand = |c: char| c.is_ascii_alphanumeric() || matches!(c, ')' | ']' | '_');
        if left.ends_with(operand)
            && !right.is_empty()
            && right.split_whitespace().count() == 1
            && right.chars().all(|c| operand(c) || "([+-*".contains(c))
        {
            let example = match left.split_once('=') {
                Some((head, value)) if !head.contains(['(', '[']) || head.starts_with("size") => {
                    format!("{} = floor({} / {right})", head.trim_end(), value.trim())
                }
                _ => format!("floor(a / {right})"),
            };
            return Some(format!(
                "`//` is not an operator in .tq: a quotient rounded down is written `floor(a / b)`: `{example}`"
            ));
        }
    }
    if tok.starts_with("//")
        || tok.starts_with('%')
        || (tok.starts_with('/') && prev.ends_with('/'))
    {
        let example = if tok.starts_with("//") {
            fixed(0, "#", 2)
        } else if tok.starts_with('%') {
            fixed(0, "#", 1)
        } else {
            fixed(1, " #", 1)
        };
        return Some(format!("a comment starts with `#`: write `{example}`"));
    }
    if expected.starts_with("`~` before a distribution") {
        let example = if tok.starts_with('=') && !tok.starts_with("==") {
            fixed(0, "~", 1)
        } else {
            "param W[J, I] ~ normal(0, 1/I)".to_string()
        };
        return Some(format!(
            "a declaration draws its values from a distribution with `~`: write `~` instead of `=` (`{example}`); `=` gives a fixed value (`param B[J] = 0`)"
        ));
    }
    let first = before.split_whitespace().next().unwrap_or("");
    // `for l = 0..L-1:`: a loop over a range (Python's `range(L)` is `notations.rs`'s).
    if first == "for" && tok.starts_with('=') && after.contains("..") {
        return Some(format!(
            "a loop over a range is written with `in`: `{}`",
            fixed(0, "in", 1)
        ));
    }
    // `index dx in D`: an index is declared with `:` and its size.
    if first == "index" && expected.starts_with("`:`") {
        let size = after.split_whitespace().nth(1).unwrap_or("D");
        let names = before.trim_start().trim_start_matches("index").trim();
        return Some(format!(
            "an index is declared with `:` and the size it ranges over: `index {names} : {size}`"
        ));
    }
    // `sample B: 2, J: 3`: settings are written with `=`.
    if matches!(first, "sample" | "at") && tok.starts_with(':') {
        let line = format!("{before}{after}").replace(':', " =");
        return Some(format!(
            "`{first}` sets each value with `=`: `{}`",
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    // `y[b][j] = ...`: one pair of brackets holds every index.
    if tok.starts_with('[') && prev.ends_with(']') && expected.contains("`=`") {
        let inner = tok.trim_start_matches('[').trim_end_matches(']');
        let head = prev.trim_end_matches(']');
        return Some(format!(
            "the indices of a tensor go in one pair of brackets, separated by commas: `{head},{inner}]`"
        ));
    }
    // `x[b I]`: two indices without the comma between them (the nearest word the place
    // takes, `]`, was the old hint, and `x[b]` has too few indices).
    if expected == "`,` or `]`"
        && before.ends_with([' ', '\t'])
        && tok.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        let line = format!("{prev}, {after}");
        return Some(format!(
            "the indices of a tensor are separated by commas: `{}`",
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    // `boundary: zero`, `size: B, J`: a keyword is followed by what it declares, without
    // a colon (a block's header ends with one).
    if tok.starts_with(':')
        && matches!(
            prev.trim(),
            "boundary"
                | "size"
                | "symbol"
                | "scalar"
                | "index"
                | "param"
                | "input"
                | "grad"
                | "claim"
                | "vary"
        )
    {
        return Some(format!(
            "`{}` is followed by what it declares, without `:`: `{}`",
            prev.trim(),
            fixed(0, "", 1)
        ));
    }
    // `"""A model."""`: a docstring of another language; tq's comments start with `#`.
    if prev.is_empty() && (tok.starts_with('"') || tok.starts_with('\'')) {
        let text = after.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        return Some(format!(
            "tq has no strings or docstrings: a comment starts with `#`: write `# {text}`"
        ));
    }
    if expected.starts_with("`over`") {
        return Some(
            "a rule names the variable it steps over: write `rule A over t:`, and update each state as `x[t+1] = ...`".into(),
        );
    }
    if (tok.is_empty() || expected.contains("after the range")) && expected.starts_with("`:`") {
        // At the end of the header: the author's own header with its `:`.
        if tok.is_empty() && !prev.is_empty() {
            let header = prev.split_whitespace().collect::<Vec<_>>().join(" ");
            return Some(format!(
                "a block's header ends with `:`, and its block is indented below it: `{header}:`"
            ));
        }
        return Some(
            "end the line with `:` (`for l in 0..L-1:`) and indent the block below it".into(),
        );
    }
    let line = format!("{before}{after}");
    let line = line.trim();
    let first = line.split_whitespace().next().unwrap_or("");
    // `vary s in [0.1, 0.2]` or `(0.1, 0.2)`: a list of another language's brackets.
    if first == "vary" {
        if let Some((head, values)) = line.split_once(" in ") {
            let values = values.trim();
            if values.starts_with(['[', '(']) && values.contains(',') {
                let inner = values
                    .trim_start_matches(['[', '('])
                    .trim_end_matches([']', ')']);
                return Some(format!(
                    "a list of values is written in braces (a range with `..`): `{head} in {{{}}}`",
                    inner.trim()
                ));
            }
        }
    }
    // `vary s in 0.1, 0.2, 0.3`: a list of values is a set, in braces.
    if first == "vary" && tok.starts_with(',') && expected.contains("`..`") {
        if let Some((head, values)) = line.split_once(" in ") {
            return Some(format!(
                "a list of values is written in braces (a range with `..`): `{head} in {{{}}}`",
                values.trim()
            ));
        }
    }
    // `index n : 0..N-1`: an index ranges over a size, from 0.
    if first == "index" && prev.ends_with(':') && tok.starts_with(|c: char| c.is_ascii_digit()) {
        if let Some((_, end)) = after.trim().split_once("..") {
            let size = end
                .trim()
                .trim_end_matches("-1")
                .trim_end_matches("- 1")
                .trim();
            return Some(format!(
                "an index ranges over a size, from 0 to one less: `{} {size}` (positions 0 to {size}-1)",
                prev.trim()
            ));
        }
    }
    // `expect error E203`: a code is `E` and four digits.
    if expected.contains("diagnostic code") {
        let written = tok.split_whitespace().next().unwrap_or("");
        // `expect error e0202`: the code in lower case.
        if let Some(d) = written
            .strip_prefix('e')
            .filter(|d| d.len() == 4 && d.chars().all(|c| c.is_ascii_digit()))
        {
            return Some(format!(
                "a diagnostic code is written with a capital `E`: `E{d}`"
            ));
        }
        if written.is_empty() {
            return Some(
                "name the code of the error the next line is expected to give: `expect error E0202` (`tq explain E0202` describes a code)".to_string(),
            );
        }
        if let Some(code) = Some(written)
            .filter(|w| !w.is_empty())
            .or_else(|| prev.split_whitespace().last())
            .and_then(|w| w.strip_prefix('E'))
            .filter(|d| !d.is_empty() && d.len() < 4 && d.chars().all(|c| c.is_ascii_digit()))
        {
            return Some(format!(
                "a diagnostic code is `E` and four digits: `E{code:0>4}`"
            ));
        }
    }
    // `param b[J] ~ 0`: a constant is set with `=`, a distribution follows `~`.
    if expected.contains("a distribution") && tok.starts_with('~') {
        let value = after[1..].trim();
        if value.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Some(format!(
                "a constant value is set with `=`, a distribution follows `~`: `{} = {value}`",
                prev.trim()
            ));
        }
    }
    if tok.is_empty() && prev.ends_with('=') && !prev.ends_with("==") {
        // The example in the line's own statement and name (`size L =` was told
        // `at a = 2`, probe 29b n27).
        let head = prev.trim_end_matches('=').trim_end();
        let keyword = head.split_whitespace().next().unwrap_or("");
        let name = head
            .rsplit([' ', ','])
            .next()
            .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !n.is_empty());
        return Some(match (keyword, name) {
            ("size", Some(n)) if head.split_whitespace().count() == 2 => format!(
                "a size fixed by a value takes a whole number after `=`: `size {n} = 3`; or declare `size {n}` without a value and give it on the `sample` line"
            ),
            ("symbol" | "scalar", Some(n)) => format!(
                "a `{keyword}` line declares names without values: `{keyword} {n}`, and its value is given on the `sample` or `at` line (`{} {n} = 1`)",
                if keyword == "symbol" { "sample" } else { "at" }
            ),
            ("sample" | "at", Some(_)) => format!(
                "write the value after `=` (`{} = 2`), or remove the setting",
                head.split_whitespace().collect::<Vec<_>>().join(" ")
            ),
            _ => "write the value after `=`, or remove the `=`".to_string(),
        });
    }
    if expected == "`,` or `]`" {
        return index_hint(prev, tok);
    }
    if expected == "an expression" || expected == "an argument" {
        return operand_hint(prev, tok);
    }
    None
}

/// E0001 inside an index list at a character that an index position does not take
/// (`x[b, t/2]`, `x[b, floor(t/2)]`, `x[b, t^2]`, `x[b, 0.5t]`, `param W[J/2, I]`):
/// what a position may be, and how the intended read is written.
fn index_hint(before: &str, tok: &str) -> Option<String> {
    let op = tok.chars().next()?;
    let what = match op {
        '/' => "a quotient",
        '^' => "a power",
        '.' => "a fraction",
        '(' => "a function of an index",
        '%' => "a remainder",
        _ => return None,
    };
    let first = before.split_whitespace().next().unwrap_or("");
    if matches!(first, "param" | "input" | "grad") {
        return Some(format!(
            "{what} is not a dimension: a shape lists sizes, indices or whole numbers; declare the size by its value first (`size H = floor(J/2)`) and write `[H, ...]`"
        ));
    }
    let fix = match op {
        '/' | '(' | '%' => "to read every second position, write the output at `t` and read at `2t` (and `2t+1`), under a boundary rule since `2t` passes the end: `boundary zero` on a line before, then `y[b,t] = x[b, 2t]`",
        '.' => "scale the other index instead: `x[b, t]` read by `y[b, 2t]`",
        _ => "write the position with whole multiples of indices",
    };
    Some(format!(
        "{what} is not an index: a position is a sum of whole multiples of indices, sizes and symbols plus a whole number (`t`, `t-1`, `2t+1`, `x+DX`, `s*x+dx`); {fix}"
    ))
}

/// E0001 where an operand is missing: after an operator (`y[b] + )`, `a * ,`, `x +` at
/// the end of the line), in empty brackets (`f()`), after a comma, or a relation with
/// no right side (`claim Var(y) ==`).
fn operand_hint(before: &str, tok: &str) -> Option<String> {
    let prev = before.trim_end();
    let last = prev.chars().last()?;
    let after = if tok.is_empty() {
        "the line ends".to_string()
    } else {
        format!("`{}` follows", tok.chars().take(1).collect::<String>())
    };
    // `claim x == +4`: a value written with a plus sign (fixd33_open/unary_plus.tq: the
    // hint said the relation had no right side).
    if let Some(value) = tok
        .strip_prefix('+')
        .filter(|v| !v.is_empty() && !v.starts_with('+'))
    {
        return Some(format!(
            "there is no unary `+` in .tq: write the value without it, `{value}`"
        ));
    }
    if ["==", "<=", ">=", "~="].iter().any(|r| prev.ends_with(r)) || last == '<' || last == '>' {
        return Some(format!(
            "the relation has no right side ({after}): write the value after it (`claim Var(y) == 1`)"
        ));
    }
    match last {
        '+' | '-' | '*' | '/' | '^' => {
            let operand = match last {
                '+' => "the term it adds",
                '-' => "the term it subtracts",
                '*' => "the factor it multiplies by",
                '/' => "the divisor",
                _ => "the exponent",
            };
            Some(format!(
                "`{last}` has nothing after it ({after}): write {operand}, or delete the `{last}`"
            ))
        }
        '(' if tok.starts_with(')') => Some(
            "the brackets are empty: put the argument between `(` and `)` (`Var(y)`, `relu(a[b,j])`)".into(),
        ),
        ',' => Some(format!(
            "nothing after `,` ({after}): write the next argument or delete the comma"
        )),
        _ => None,
    }
}

/// The message for a character the language does not know, with its code point: an
/// invisible one (a zero-width joiner, a direction override, a variation selector, a
/// control) or a combining mark printed between backticks showed nothing, or an accent on
/// the backtick.
pub(super) fn unexpected_character(c: char) -> String {
    let u = c as u32;
    let kind = if c.is_control() {
        Some("a control character")
    } else if matches!(u, 0x300..=0x36F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
    {
        Some("a combining mark, joined to the character before it")
    } else if matches!(u, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xAD | 0x180E | 0x115F | 0x1160 | 0x3164 | 0xFFA0)
        || matches!(u, 0xFE00..=0xFE0F | 0xE0000..=0xE007F | 0xE0100..=0xE01EF)
    {
        Some("an invisible character: a zero-width, joining, direction or variation mark")
    } else if c.is_whitespace() {
        Some("a space other than the ASCII space")
    } else {
        None
    };
    match kind {
        Some(k) => format!("unexpected character U+{u:04X} ({k})"),
        None => format!("unexpected character `{c}` (U+{u:04X})"),
    }
}
