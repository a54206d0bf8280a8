//! Names under the cursor, go to definition, and the document's symbols.
//!
//! A name is read off the text around the cursor (letters, digits, `_` and primes),
//! then resolved against the checker's environment: a tensor (a family by its key:
//! `L_l` and `L_{l+1}` are `L`), a size, an index (`b` ranges over `B`, `DX` over the
//! offsets of `index dx`), a symbol, a scalar, a rule, or a loop variable.

use super::document::Document;
use crate::span::Span;
use crate::syntax::ast::{DeclKind, Item, ItemKind};
use crate::syntax::printer::print_name;
use lsp_types::{DocumentSymbol, SymbolKind};

/// What a name refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Tensor(String),
    Size(String),
    /// An index and the declaration that gives its range (an `index` line or a size).
    Index(String, Span),
    Symbol(String),
    Scalar(String),
    Rule(String),
    /// A loop or family variable (`l` of `for l in 0..L-1`).
    LoopVar(String, Span),
}

fn is_name_char(c: char) -> bool {
    // `′` (U+2032) is the prime `'` (docs/language.md; probe38 k06).
    c.is_alphanumeric() || c == '_' || c == '\'' || c == '\u{2032}'
}

/// The word around a byte offset, with its byte range; `None` in a comment or between
/// words.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize, &str)> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // The word's bounds, scanned at most MAX_WORD characters: a longer name is not looked
    // up (every request scanned it whole: 4,000 hovers over a 100,000-letter name took
    // 5.8 s of CPU in the bounded fuzz test).
    let mut start = offset;
    let mut n = 0usize;
    for (i, c) in text[..offset].char_indices().rev() {
        if !is_name_char(c) {
            break;
        }
        n += 1;
        if n > MAX_WORD {
            return None;
        }
        start = i;
    }
    let mut end = text.len();
    for (i, c) in text[offset..].char_indices() {
        if !is_name_char(c) {
            end = offset + i;
            break;
        }
        n += 1;
        if n > MAX_WORD {
            return None;
        }
    }
    // A word after a `#` on its line is in a comment. The line before the word is scanned
    // back at most MAX_LINE bytes; a word further into a longer line is not looked up.
    let mut from = start.saturating_sub(MAX_LINE);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    match text[from..start].rfind(['\n', '#']) {
        Some(i) if text.as_bytes()[from + i] == b'#' => return None,
        Some(_) => {}
        None if from > 0 => return None,
        None => {}
    }
    (start < end).then(|| (start, end, &text[start..end]))
}

/// A name written with a superscript label (`W^{h,G1}`, `B^{G1}`, `eta^{lr}`,
/// `theta^{max}_{2}`, `V'^{gate}_{x}`) around a byte offset: the label is part of the
/// name (docs/language.md, "Names"), so the cursor anywhere on the base or the label is
/// on the whole name. Returns the name's byte range and its spellings to look up: the
/// whole name as the checker keys it (a simple subscript without braces, as the printer
/// writes it), then the name without its subscript (a family's key). `None` when the
/// name at `offset` has no label (the plain word rules of [`word_at`] apply), in a
/// comment, and inside a label's subscript braces (`l` of `W^{h}_{l+1}` is the loop
/// variable). probe38 k18: `h` of `W^{h,G1}` hovered as the input `h`, `B` of `B^{G1}`
/// as the size `B`, and `W` itself as nothing.
fn labelled_at(text: &str, offset: usize) -> Option<(usize, usize, Vec<String>, bool)> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let b = text.as_bytes();
    let mut line_start = offset;
    while line_start > 0 && b[line_start - 1] != b'\n' {
        line_start -= 1;
        if offset - line_start > MAX_LINE {
            return None;
        }
    }
    let line_end = text[offset..].find('\n').map_or(text.len(), |k| offset + k);
    let mut line_end = line_end.min(line_start + 2 * MAX_LINE);
    while !text.is_char_boundary(line_end) {
        line_end -= 1;
    }
    let line = &text[line_start..line_end];
    let at = offset - line_start;
    // Tokens of the line from its start, so that a label's letters never start a word.
    let mut i = 0;
    while i < line.len() && i <= at {
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        if c == '#' {
            return None;
        }
        if !is_name_char(c) {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let mut j = i;
        for (k, d) in line[i..].char_indices() {
            // `_{` starts a braced subscript, not more of the word.
            if !is_name_char(d) || (d == '_' && line[i + k + 1..].starts_with('{')) {
                j = i + k;
                break;
            }
            j = i + k + d.len_utf8();
        }
        if j - start > 4 * MAX_WORD {
            return None;
        }
        let word_end = j;
        let mut label: Option<&str> = None;
        let mut sub: Option<(usize, usize)> = None;
        for _ in 0..2 {
            let rest = &line[j..];
            if label.is_none() && rest.starts_with("^{") {
                let Some(close) = rest.find('}') else { break };
                let body = &rest[2..close];
                let items_ok = !body.is_empty()
                    && body.split(',').all(|w| {
                        w.starts_with(|c: char| c.is_ascii_alphanumeric())
                            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '\'')
                    })
                    && body
                        .split(',')
                        .any(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()));
                if !items_ok {
                    break;
                }
                label = Some(&rest[..close + 1]);
                j += close + 1;
            } else if sub.is_none() && rest.starts_with("_{") {
                let mut depth = 0usize;
                let mut close = None;
                for (k, d) in rest.char_indices().skip(1) {
                    match d {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                close = Some(k);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some(close) = close else { break };
                sub = Some((j + 2, j + close));
                j += close + 1;
            } else if sub.is_none() && label.is_some() && rest.starts_with('_') {
                let n = rest[1..]
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len() - 1);
                if n == 0 {
                    break;
                }
                sub = Some((j + 1, j + 1 + n));
                j += 1 + n;
            } else {
                break;
            }
        }
        if start <= at && at <= j {
            let label = label?;
            let in_sub = sub.is_some_and(|(s, e)| s <= at && at < e && line[..s].ends_with('{'));
            let base = format!(
                "{}{label}",
                crate::syntax::lines::transliterate(&line[start..word_end]).text
            );
            let mut names = Vec::new();
            match sub {
                None => names.push(base.clone()),
                Some((s, e)) => {
                    let inner: String = line[s..e].chars().filter(|c| !c.is_whitespace()).collect();
                    let simple = !inner.is_empty()
                        && inner.chars().all(|c| c.is_ascii_alphanumeric())
                        && (inner.chars().all(|c| c.is_ascii_digit())
                            || inner.starts_with(|c: char| c.is_ascii_alphabetic()));
                    names.push(if simple {
                        format!("{base}_{inner}")
                    } else {
                        format!("{base}_{{{inner}}}")
                    });
                    names.push(base);
                }
            }
            return Some((line_start + start, line_start + j, names, in_sub));
        }
        i = j.max(i + c.len_utf8());
    }
    None
}

/// The longest word (in characters) the language server looks up.
const MAX_WORD: usize = 1_024;
/// How far back (in bytes) a word's line is scanned for its start or a comment.
const MAX_LINE: usize = 16_384;

/// The end of an item with its block (a loop's span is its header line).
fn extent_end(it: &Item) -> u32 {
    let body = match &it.kind {
        ItemKind::Loop(l) => &l.body,
        ItemKind::ForIndices(f) => &f.body,
        ItemKind::Rule(r) => &r.body,
        _ => return it.span.end,
    };
    body.iter().map(extent_end).fold(it.span.end, u32::max)
}

/// The loop and family variables of a program with their spans, innermost last, and
/// whether `offset` is inside their loop or declaration.
fn loop_vars(items: &[Item], offset: usize, out: &mut Vec<(String, Span, bool)>) {
    for it in items {
        let inside = (it.span.start as usize) <= offset && offset <= extent_end(it) as usize;
        match &it.kind {
            ItemKind::Loop(l) => {
                out.push((l.range.var.name.clone(), l.range.var.span, inside));
                loop_vars(&l.body, offset, out);
            }
            ItemKind::Decl(d) => {
                if let Some(r) = &d.family {
                    out.push((r.var.name.clone(), r.var.span, inside));
                }
            }
            _ => {}
        }
    }
}

/// What the word at `offset` refers to, and the word's byte range.
pub fn resolve(doc: &Document, offset: usize) -> Option<(usize, usize, Target)> {
    let env = &doc.report.env;
    // A labelled name (`W^{h,G1}`): the whole name or nothing, never a letter of its
    // label as another name.
    let labelled = labelled_at(doc.text(), offset);
    if let Some((start, end, names, in_sub)) = &labelled {
        let (start, end) = (*start, *end);
        let (whole, family) = (&names[0], names.get(1));
        let target = if env.tensors.contains_key(whole) {
            Some(Target::Tensor(whole.clone()))
        } else if env.sizes.contains_key(whole) {
            Some(Target::Size(whole.clone()))
        } else if env.symbols.contains_key(whole) {
            Some(Target::Symbol(whole.clone()))
        } else if env.scalars.contains_key(whole) {
            Some(Target::Scalar(whole.clone()))
        } else if env.rules.contains_key(whole) {
            Some(Target::Rule(whole.clone()))
        } else {
            None
        };
        if let Some(t) = target {
            return Some((start, end, t));
        }
        // Inside a family member's subscript (`l` of `W^{h}_{l+1}`): the plain word
        // there, a loop variable or an index.
        if !in_sub {
            return family
                .filter(|f| env.tensors.get(*f).is_some_and(|t| t.family_arity > 0))
                .map(|f| (start, end, Target::Tensor(f.clone())));
        }
    }
    let (start, end, word) = word_at(doc.text(), offset)?;
    // Names are stored in their ASCII spelling (`σ_W` is `sigma_W`, `Δx` is `dx`).
    let ascii = crate::syntax::lines::transliterate(word).text;
    // `L_` of `L_{l+1}`: the name before the subscript's braces.
    let word = ascii.trim_end_matches('_');
    let mut candidates = vec![word.to_string()];
    // `L_l`, `W_l`: a family member written with a plain subscript.
    if let Some((base, _)) = word.split_once('_') {
        candidates.push(base.to_string());
    }
    for (k, w) in candidates.iter().enumerate() {
        let w = w.as_str();
        if let Some(t) = env.tensors.get(w) {
            if k == 0 || t.family_arity > 0 {
                return Some((start, end, Target::Tensor(w.to_string())));
            }
        }
        if k > 0 {
            continue;
        }
        if env.sizes.contains_key(w) {
            return Some((start, end, Target::Size(w.to_string())));
        }
        if env.symbols.contains_key(w) {
            return Some((start, end, Target::Symbol(w.to_string())));
        }
        if env.scalars.contains_key(w) {
            return Some((start, end, Target::Scalar(w.to_string())));
        }
        if env.rules.contains_key(w) {
            return Some((start, end, Target::Rule(w.to_string())));
        }
        let mut vars = Vec::new();
        loop_vars(&doc.report.program.items, offset, &mut vars);
        let var = vars
            .iter()
            .rev()
            .find(|(n, _, inside)| n == w && *inside)
            .or_else(|| vars.iter().find(|(n, _, _)| n == w));
        if let Some((n, span, _)) = var {
            return Some((start, end, Target::LoopVar(n.clone(), *span)));
        }
        // An index: declared with `index`, or the lower case of a size; a capital
        // (summed) index by its lower case.
        let lower = w.to_lowercase();
        for name in [w, lower.as_str()] {
            let base = name.trim_end_matches('\'');
            if let Some(info) = env.indices.get(name).or_else(|| env.indices.get(base)) {
                return Some((start, end, Target::Index(w.to_string(), info.span)));
            }
        }
        if let Some(size) = env.index_size(&lower) {
            if let Some(span) = env.sizes.get(&size) {
                return Some((start, end, Target::Index(w.to_string(), *span)));
            }
        }
    }
    None
}

/// Where a target is declared or first defined.
pub fn definition(doc: &Document, t: &Target) -> Option<Span> {
    let env = &doc.report.env;
    match t {
        Target::Tensor(k) => env.tensors.get(k).map(|t| t.span),
        Target::Size(n) => env.sizes.get(n).copied(),
        Target::Symbol(n) => env.symbols.get(n).copied(),
        Target::Scalar(n) => env.scalars.get(n).copied(),
        Target::Rule(n) => env.rules.get(n).copied(),
        Target::Index(_, s) | Target::LoopVar(_, s) => Some(*s),
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written; it is `None`.
fn symbol(
    doc: &Document,
    name: String,
    detail: String,
    kind: SymbolKind,
    span: Span,
    item: Span,
) -> DocumentSymbol {
    let text = doc.text();
    let full = item.to(span);
    DocumentSymbol {
        name,
        detail: Some(detail),
        kind,
        tags: None,
        deprecated: None,
        range: doc
            .lines
            .range(text, full.start as usize, full.end as usize),
        selection_range: doc
            .lines
            .range(text, span.start as usize, span.end as usize),
        children: None,
    }
}

/// The document's symbols, in source order: sizes, indices, symbols, scalars,
/// tensors (declared, and computed where first defined), rules, claims and derivations.
pub fn document_symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let mut out = Vec::new();
    let env = &doc.report.env;
    fn walk(doc: &Document, items: &[Item], out: &mut Vec<DocumentSymbol>) {
        let env = &doc.report.env;
        for it in items {
            match &it.kind {
                ItemKind::Size(ids) | ItemKind::Symbol(ids) | ItemKind::Scalar(ids) => {
                    let (detail, kind) = match &it.kind {
                        ItemKind::Size(_) => ("size", SymbolKind::CONSTANT),
                        ItemKind::Symbol(_) => ("symbol", SymbolKind::CONSTANT),
                        _ => ("scalar", SymbolKind::VARIABLE),
                    };
                    for id in ids {
                        out.push(symbol(
                            doc,
                            id.name.clone(),
                            detail.into(),
                            kind,
                            id.span,
                            it.span,
                        ));
                    }
                }
                ItemKind::Index { names, size, .. } => {
                    for id in names {
                        out.push(symbol(
                            doc,
                            id.name.clone(),
                            format!("index over {}", size.name),
                            SymbolKind::TYPE_PARAMETER,
                            id.span,
                            it.span,
                        ));
                    }
                }
                ItemKind::Decl(d) => {
                    let kind = match d.kind {
                        DeclKind::Param => "param",
                        DeclKind::Input => "input",
                        DeclKind::Grad => "grad",
                    };
                    out.push(symbol(
                        doc,
                        print_name(&d.target.name),
                        kind.into(),
                        SymbolKind::FIELD,
                        d.target.span,
                        it.span,
                    ));
                }
                ItemKind::Equation(eq) => {
                    let key = env.key_of(&eq.lhs.name);
                    let first = env
                        .tensors
                        .get(&key)
                        .map(|t| t.span)
                        .or_else(|| env.scalars.get(&key).copied());
                    if !eq.lhs.grad
                        && first.is_some_and(|s| s.start >= it.span.start && s.end <= it.span.end)
                    {
                        out.push(symbol(
                            doc,
                            print_name(&eq.lhs.name),
                            "computed".into(),
                            SymbolKind::VARIABLE,
                            eq.lhs.span,
                            it.span,
                        ));
                    }
                }
                ItemKind::Loop(l) => walk(doc, &l.body, out),
                ItemKind::ForIndices(f) => walk(doc, &f.body, out),
                ItemKind::Rule(r) => {
                    out.push(symbol(
                        doc,
                        r.name.name.clone(),
                        format!("rule over {}", r.var.name),
                        SymbolKind::FUNCTION,
                        r.name.span,
                        it.span,
                    ));
                }
                ItemKind::Claim(c) => {
                    let text = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
                    out.push(symbol(
                        doc,
                        format!("claim {text}"),
                        "claim".into(),
                        SymbolKind::BOOLEAN,
                        it.span,
                        it.span,
                    ));
                }
                ItemKind::Derivation(d) => {
                    out.push(symbol(
                        doc,
                        format!("derivation {}", d.name.name),
                        "derivation".into(),
                        SymbolKind::FUNCTION,
                        d.name.span,
                        it.span,
                    ));
                }
                _ => {}
            }
        }
    }
    let _ = env;
    walk(doc, &doc.report.program.items, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::new("file:///t.tq".parse().unwrap(), 1, text.to_string())
    }

    #[test]
    fn words_are_found_within_bounds_and_outside_comments() {
        let text = "scalar abc # abc\nclaim abc == 1\n";
        assert_eq!(word_at(text, 8).map(|w| w.2), Some("abc"));
        assert_eq!(word_at(text, 14), None, "a word in a comment");
        let claim = text.rfind("abc").unwrap();
        assert_eq!(word_at(text, claim + 3).map(|w| w.2), Some("abc"));
        // A name longer than MAX_WORD is not looked up, wherever the offset falls in it.
        let long = format!("scalar {}\n", "a".repeat(MAX_WORD + 1));
        assert_eq!(word_at(&long, 7), None);
        assert_eq!(word_at(&long, 7 + MAX_WORD / 2), None);
        let fits = format!("scalar {}\n", "a".repeat(MAX_WORD));
        assert_eq!(
            word_at(&fits, 7 + MAX_WORD / 2).map(|w| w.2.len()),
            Some(MAX_WORD)
        );
        // A word further than MAX_LINE bytes into its line is not looked up.
        let wide = format!("claim {} x\n", "+ 1 ".repeat(MAX_LINE / 4 + 1));
        assert_eq!(word_at(&wide, wide.len() - 2), None);
        assert_eq!(word_at(&wide, 1).map(|w| w.2), Some("claim"));
    }

    #[test]
    fn unicode_spellings_resolve_to_their_ascii_names() {
        let text = "size B, J\nsymbol σ_W\nindex Δx : J\nparam W[Δx, J] ~ normal(0, σ_W^2)\n";
        let d = doc(text);
        assert!(
            d.report.diagnostics.is_empty(),
            "{:?}",
            d.report.diagnostics
        );
        let last = text.rfind("σ_W").unwrap();
        assert_eq!(
            resolve(&d, last + 1).map(|r| r.2),
            Some(Target::Symbol("sigma_W".into()))
        );
        let dx = text.rfind("Δx").unwrap();
        let Some((s, e, Target::Index(name, span))) = resolve(&d, dx) else {
            panic!("Δx does not resolve to an index");
        };
        assert_eq!((name.as_str(), &text[s..e]), ("dx", "Δx"));
        assert_eq!(span.start as usize, text.find("Δx").unwrap());
        // In a comment: nothing.
        let c = doc("size B  # B here\n");
        assert_eq!(resolve(&c, 12), None);
        assert_eq!(resolve(&c, 5).map(|r| r.2), Some(Target::Size("B".into())));
    }

    /// probe38 k18: a name with a superscript label is one name wherever the cursor is on
    /// it, its base or its label; a letter of the label is never another name.
    #[test]
    fn a_labelled_name_is_one_name() {
        let text = "size B, J, K\nsymbol eta^{lr}, s'_{0}, theta^{max}_{2}, V'^{gate}_{x}\n\
                    param W^{h,G1}[J, J] ~ normal(0, 1)\nparam B^{G1}[J] = 0\n\
                    input h[B, J] ~ normal(0, 1)\ninput x[B, K] ~ normal(0, 1)\n\
                    y[b,j] = eta^{lr} W^{h,G1}[j,J] h[b,J] - B^{G1}[j] + theta^{max}_{2} V'^{gate}_{x} x[b,0]\n";
        let d = doc(text);
        assert!(
            d.report.diagnostics.is_empty(),
            "{:?}",
            d.report.diagnostics
        );
        let use_line = text.rfind("y[b,j]").unwrap();
        let at = |needle: &str, k: usize| use_line + text[use_line..].find(needle).unwrap() + k;
        let cases: Vec<(usize, Target, &str)> = vec![
            (
                at("W^{h,G1}", 0),
                Target::Tensor("W^{h,G1}".into()),
                "W^{h,G1}",
            ),
            (
                at("W^{h,G1}", 3),
                Target::Tensor("W^{h,G1}".into()),
                "W^{h,G1}",
            ),
            (
                at("W^{h,G1}", 6),
                Target::Tensor("W^{h,G1}".into()),
                "W^{h,G1}",
            ),
            (at("B^{G1}", 0), Target::Tensor("B^{G1}".into()), "B^{G1}"),
            (at("B^{G1}", 3), Target::Tensor("B^{G1}".into()), "B^{G1}"),
            (
                at("eta^{lr}", 1),
                Target::Symbol("eta^{lr}".into()),
                "eta^{lr}",
            ),
            (
                at("eta^{lr}", 5),
                Target::Symbol("eta^{lr}".into()),
                "eta^{lr}",
            ),
            (
                at("theta^{max}", 7),
                Target::Symbol("theta^{max}_2".into()),
                "theta^{max}_{2}",
            ),
            (
                at("theta^{max}", 13),
                Target::Symbol("theta^{max}_2".into()),
                "theta^{max}_{2}",
            ),
            (
                at("V'^{gate}", 11),
                Target::Symbol("V'^{gate}_x".into()),
                "V'^{gate}_{x}",
            ),
        ];
        for (offset, want, spelled) in cases {
            let got = resolve(&d, offset);
            let Some((s, e, t)) = got else {
                panic!("nothing at {offset} ({spelled})");
            };
            assert_eq!((t, &text[s..e]), (want, spelled), "at {offset}");
        }
        // Definition of W^{h,G1} is its `param` line, not `input h`.
        let def = definition(&d, &Target::Tensor("W^{h,G1}".into())).unwrap();
        assert_eq!(
            def.start as usize,
            text.find("param W^{h,G1}").unwrap() + "param ".len()
        );
        // The plain names still resolve as before.
        assert_eq!(
            resolve(&d, at("h[b,J]", 0)).map(|r| r.2),
            Some(Target::Tensor("h".into()))
        );
        assert_eq!(
            resolve(&d, at("x[b,0]", 0)).map(|r| r.2),
            Some(Target::Tensor("x".into()))
        );
    }

    /// A labelled family's member: the cursor on the name is the family, inside the
    /// subscript's braces the loop variable.
    #[test]
    fn a_labelled_family_member_is_its_family_and_its_subscript_the_variable() {
        let text = "size B, L\nparam W^{in}_{l+1}[B, B] ~ normal(0, 1) for l in 0..L-1\n\
                    input h_0[B] ~ normal(0, 1)\nfor l in 0..L-1:\n  h_{l+1}[b] = W^{in}_{l+1}[b,C] h_l[C]\n";
        let d = doc(text);
        if !d.report.diagnostics.is_empty() {
            // The spelling of a labelled family's declaration is the checker's business;
            // without it there is nothing to look up.
            return;
        }
        let use_line = text.rfind("h_{l+1}[b]").unwrap();
        let w = use_line + text[use_line..].find("W^{in}").unwrap();
        let got = resolve(&d, w + 3).map(|r| r.2);
        assert!(
            matches!(got, Some(Target::Tensor(ref k)) if k.starts_with("W^{in}")),
            "{got:?}"
        );
        let l = w + "W^{in}_{".len();
        assert!(
            matches!(resolve(&d, l).map(|r| r.2), Some(Target::LoopVar(..))),
            "{:?}",
            resolve(&d, l)
        );
    }

    /// probe38 k06: the Unicode prime `′` is `'`, in the word under the cursor as in the
    /// checker: `J′` is the summed capital of `index j' : J`, not the size `J`.
    #[test]
    fn a_unicode_prime_is_part_of_the_name() {
        for prime in ["'", "′"] {
            let text = format!(
                "size B, J\nindex j' : J\nparam W[J, J] ~ normal(0, 1)\ninput x[B, J] ~ normal(0, 1)\ny[b,j] = W[j,J{prime}] x[b,J{prime}]\n"
            );
            let d = doc(&text);
            assert!(
                d.report.diagnostics.is_empty(),
                "{:?}",
                d.report.diagnostics
            );
            let at = text.rfind(&format!("J{prime}")).unwrap();
            let Some((s, e, Target::Index(name, span))) = resolve(&d, at) else {
                panic!(
                    "J{prime} does not resolve to an index: {:?}",
                    resolve(&d, at)
                );
            };
            assert_eq!(&text[s..e], format!("J{prime}"));
            assert_eq!(name, "J'");
            assert_eq!(span.start as usize, text.find("j'").unwrap());
        }
    }
}
