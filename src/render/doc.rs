//! The rendered page as a typed document: what `tq render` says, independent of the
//! output language. [`super::build`] makes one from a checked file; the writers
//! ([`super::latex`], [`super::markdown`]) print it. Math is held as LaTeX math (the
//! course's notation, typeset from the syntax tree or from a `sym::Expr`), which both
//! writers set as math (`$...$`); text is held unescaped and each writer escapes it.

/// A run of a paragraph, a list item, a line or a table cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    /// Prose, unescaped.
    Text(String),
    /// LaTeX math, set in math mode.
    Math(String),
    /// Prose set in bold.
    Strong(String),
}

/// One line of a program or of the moments section: indentation depth, content and
/// an optional note set small after it (`[closed form, from ...]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub depth: usize,
    pub content: Vec<Inline>,
    pub note: Vec<Inline>,
}

/// One row of an aligned derivation: `lhs = rhs` and, when known, `= at` (its value at
/// the point).
#[derive(Clone, Debug, PartialEq)]
pub struct AlignRow {
    pub lhs: String,
    pub rhs: String,
    pub at: Option<String>,
}

/// One question: the claim's number in the file, the claim as math, and the lines of
/// an `includes` block under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    /// The claim's number; 0 for the gap of a folded run (the members between).
    pub number: usize,
    pub math: String,
    pub lines: Vec<Line>,
    /// The line of the `claim` it comes from: the members of a claim over an unrolled
    /// loop's variable share it, and a long run of them is folded.
    pub group: Option<usize>,
}

/// One row of the table of claims: number, verdict (none when no engine decided) and
/// how it was decided (method and evidence, with the expressions typeset).
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimRow {
    /// The claim's number; 0 for the gap of a folded run.
    pub number: usize,
    pub verdict: Option<String>,
    pub evidence: Vec<Inline>,
    /// The line of the `claim` it comes from (as [`Question::group`]).
    pub group: Option<usize>,
}

/// A block of the page.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A part of the page (Problem, Solution).
    Section(String),
    /// A section of the solution (Backpropagation, Moments, ...).
    Subsection(String),
    /// A paragraph, with a run-in heading (`Given.`) when `lead` is set.
    Paragraph {
        lead: Option<String>,
        body: Vec<Inline>,
    },
    /// A bulleted list.
    Items(Vec<Vec<Inline>>),
    /// Remarks set apart (the gather form's boundary notes); may be empty.
    Notes(Vec<Vec<Inline>>),
    /// Indented lines (a program, the moments engine's results).
    Lines(Vec<Line>),
    /// Numbered questions (the claims, as asked).
    Questions(Vec<Question>),
    /// An aligned list of equations.
    Align(Vec<AlignRow>),
    /// The table of claims with their verdicts.
    Claims(Vec<ClaimRow>),
}

/// A rendered page.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub title: Vec<Inline>,
    pub author: Option<Vec<Inline>>,
    /// The file the page is rendered from (written as a comment).
    pub path: String,
    pub blocks: Vec<Block>,
}

impl Line {
    /// A line of math.
    pub fn math(depth: usize, m: String) -> Line {
        Line {
            depth,
            content: vec![Inline::Math(m)],
            note: Vec::new(),
        }
    }
}

/// The most entries of a run of like entries shown one by one (a fixed depth of 165
/// layers is unrolled into 165 declarations and 165 counts).
pub const MAX_RUN: usize = 6;

/// An entry's shape (its text with each number written `#`) and its numbers.
fn shape(text: &str) -> (String, Vec<i64>) {
    let mut s = String::new();
    let mut nums = Vec::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            nums.push(digits.parse().unwrap_or(i64::MAX));
            digits.clear();
            s.push('#');
        }
        s.push(c);
    }
    (s, nums)
}

/// The lengths of the runs of `keys`: entries of one shape whose numbers change by the
/// same steps from one entry to the next, some step not 0 (`W_{1}`, `W_{2}`, ...).
fn runs(keys: &[String]) -> Vec<usize> {
    let shapes: Vec<(String, Vec<i64>)> = keys.iter().map(|k| shape(k)).collect();
    let step = |a: &(String, Vec<i64>), b: &(String, Vec<i64>)| -> Option<Vec<i64>> {
        (a.0 == b.0 && a.1.len() == b.1.len())
            .then(|| {
                a.1.iter()
                    .zip(&b.1)
                    .map(|(x, y)| y.wrapping_sub(*x))
                    .collect::<Vec<_>>()
            })
            .filter(|d: &Vec<i64>| d.iter().any(|x| *x != 0))
    };
    let mut out = Vec::new();
    let mut k = 0;
    while k < shapes.len() {
        let mut end = k + 1;
        if let Some(d) = shapes.get(k + 1).and_then(|b| step(&shapes[k], b)) {
            while end < shapes.len() && step(&shapes[end - 1], &shapes[end]).as_ref() == Some(&d) {
                end += 1;
            }
        }
        out.push(end - k);
        k = end;
    }
    out
}

/// `entries` with each run longer than [`MAX_RUN`] folded to its first two entries, a
/// `gap` and its last entry.
fn fold<T: Clone>(entries: &[T], key: impl Fn(&T) -> String, gap: impl Fn(&T) -> T) -> Vec<T> {
    let keys: Vec<String> = entries.iter().map(key).collect();
    let mut out = Vec::new();
    let mut k = 0;
    for n in runs(&keys) {
        let run = &entries[k..k + n];
        if n > MAX_RUN {
            out.extend_from_slice(&run[..2]);
            out.push(gap(&run[2]));
            out.push(run[n - 1].clone());
        } else {
            out.extend_from_slice(run);
        }
        k += n;
    }
    out
}

fn inline_key(v: &[Inline]) -> String {
    v.iter()
        .map(|i| match i {
            Inline::Text(t) | Inline::Math(t) | Inline::Strong(t) => t.as_str(),
        })
        .collect::<Vec<_>>()
        .join("\u{1}")
}

/// `entries` with each run of more than [`MAX_RUN`] consecutive entries of one `key`
/// (`None` never runs) folded to its first two, the `gap` for the numbers it leaves
/// out, and its last.
fn fold_by<T: Clone>(
    entries: &[T],
    key: impl Fn(&T) -> Option<String>,
    number: impl Fn(&T) -> usize,
    gap: impl Fn(&T, usize, usize) -> T,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < entries.len() {
        let mut end = k + 1;
        if let Some(first) = key(&entries[k]) {
            while end < entries.len() && key(&entries[end]).as_ref() == Some(&first) {
                end += 1;
            }
        }
        let run = &entries[k..end];
        if run.len() > MAX_RUN {
            out.extend_from_slice(&run[..2]);
            out.push(gap(&run[2], number(&run[2]), number(&run[run.len() - 2])));
            out.push(run[run.len() - 1].clone());
        } else {
            out.extend_from_slice(run);
        }
        k = end;
    }
    out
}

impl Document {
    /// Folds the long runs of like entries in lists, program lines and aligned rows (the
    /// members of a family unrolled at a fixed depth) to their first two, a vertical
    /// ellipsis and their last; and the members of one claim over an unrolled loop's
    /// variable among the questions and in the table of claims (there only a run with
    /// one verdict: a member decided otherwise keeps its own row, so no verdict is
    /// hidden behind another's).
    pub fn fold_runs(&mut self) {
        for b in &mut self.blocks {
            match b {
                Block::Questions(v) => {
                    *v = fold_by(
                        v,
                        |q| q.group.map(|g| g.to_string()),
                        |q| q.number,
                        |_, a, b| {
                            Question {
                            number: 0,
                            math: format!(
                                "\\vdots \\quad \\text{{(questions {a} to {b}: the same claim at each member between)}}"
                            ),
                            lines: Vec::new(),
                            group: None,
                        }
                        },
                    )
                }
                Block::Claims(v) => {
                    *v = fold_by(
                        v,
                        |r| r.group.map(|g| format!("{g}\u{1}{:?}", r.verdict)),
                        |r| r.number,
                        |r, a, b| {
                            ClaimRow {
                            number: 0,
                            verdict: r.verdict.clone(),
                            evidence: vec![Inline::Text(format!(
                                "claims {a} to {b}, the same claim at each member between: every one {}, each on its own evidence, which tq check lists",
                                r.verdict.as_deref().unwrap_or("undecided")
                            ))],
                            group: None,
                        }
                        },
                    )
                }
                Block::Items(v) => {
                    *v = fold(
                        v,
                        |i| inline_key(i),
                        |_| vec![Inline::Math("\\vdots".into())],
                    )
                }
                Block::Lines(v) => {
                    *v = fold(
                        v,
                        |l| {
                            format!(
                                "{}\u{2}{}\u{2}{}",
                                l.depth,
                                inline_key(&l.content),
                                inline_key(&l.note)
                            )
                        },
                        |l| Line::math(l.depth, "\\vdots".into()),
                    )
                }
                Block::Align(v) => {
                    *v = fold(
                        v,
                        |r| format!("{}\u{2}{}\u{2}{:?}", r.lhs, r.rhs, r.at),
                        |_| AlignRow {
                            lhs: "\\vdots".into(),
                            rhs: "\\vdots".into(),
                            at: None,
                        },
                    )
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(texts: &[String]) -> Vec<Vec<Inline>> {
        texts
            .iter()
            .map(|t| vec![Inline::Math(t.clone())])
            .collect()
    }

    fn keys(v: &[Vec<Inline>]) -> Vec<String> {
        v.iter().map(|i| inline_key(i)).collect()
    }

    fn rows(verdicts: &[(usize, &str)]) -> Vec<ClaimRow> {
        verdicts
            .iter()
            .enumerate()
            .map(|(k, (group, v))| ClaimRow {
                number: k + 1,
                verdict: Some(v.to_string()),
                evidence: vec![Inline::Text(format!("evidence {}", k + 1))],
                group: Some(*group),
            })
            .collect()
    }

    /// The table of claims `rows` as [`Document::fold_runs`] leaves it.
    fn folded(rows: Vec<ClaimRow>) -> Vec<ClaimRow> {
        let mut doc = Document {
            title: vec![],
            author: None,
            path: String::new(),
            blocks: vec![Block::Claims(rows)],
        };
        doc.fold_runs();
        match doc.blocks.remove(0) {
            Block::Claims(out) => out,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_members_of_one_claim_fold_in_the_table_only_where_their_verdicts_agree() {
        // 12 members of the claim on line 8, the 7th refuted; 3 of line 9 (too few).
        let mut v: Vec<(usize, &str)> = vec![(8, "proved"); 12];
        v[6] = (8, "refuted");
        v.extend([(9, "proved"); 3]);
        let out = folded(rows(&v));
        let shown: Vec<usize> = out.iter().map(|r| r.number).collect();
        // 1-6 proved (six: not folded), 7 refuted, 8-12 proved (five), 13-15.
        assert_eq!(shown, (1..=15).collect::<Vec<_>>());
        let mut v: Vec<(usize, &str)> = vec![(8, "proved"); 12];
        v.push((9, "refuted"));
        let out = folded(rows(&v));
        let shown: Vec<usize> = out.iter().map(|r| r.number).collect();
        assert_eq!(shown, vec![1, 2, 0, 12, 13]);
        let gap = &out[2];
        assert_eq!(gap.verdict.as_deref(), Some("proved"));
        assert!(
            inline_key(&gap.evidence).contains("claims 3 to 11"),
            "{gap:?}"
        );
        // Claims that are not members of one claim never fold.
        let mut plain = rows(&[(0, "proved"); 10]);
        plain.iter_mut().for_each(|r| r.group = None);
        let out = folded(plain);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn a_long_run_of_members_is_folded_to_first_two_a_gap_and_last() {
        let run: Vec<String> = (1..=165)
            .map(|l| format!("W_{{{l}}}[D,J,J] \\sim \\mathcal{{N}}(0, s^{{2}})"))
            .collect();
        let mut all = vec!["B, X".to_string()];
        all.extend(run.iter().cloned());
        all.push("x_{0}".to_string());
        let folded = fold(
            &items(&all),
            |i| inline_key(i),
            |_| vec![Inline::Math("\\vdots".into())],
        );
        assert_eq!(
            keys(&folded),
            vec![
                "B, X".to_string(),
                run[0].clone(),
                run[1].clone(),
                "\\vdots".to_string(),
                run[164].clone(),
                "x_{0}".to_string(),
            ]
        );
    }

    #[test]
    fn short_runs_and_unlike_entries_are_kept() {
        // Six members: kept one by one.
        let six: Vec<String> = (1..=6).map(|l| format!("h_{{{l}}}")).collect();
        assert_eq!(
            keys(&fold(&items(&six), |i| inline_key(i), |_| vec![])),
            six
        );
        // Numbers that do not change by the same step each time (1, 2, 4, 8, ...).
        let powers: Vec<String> = (0..10).map(|k| format!("x_{{{}}}", 1 << k)).collect();
        assert_eq!(
            keys(&fold(&items(&powers), |i| inline_key(i), |_| vec![])),
            powers
        );
        // The same entry repeated (no number changes) is not a run of members.
        let same = vec!["a_{1}".to_string(); 9];
        assert_eq!(
            keys(&fold(&items(&same), |i| inline_key(i), |_| vec![])),
            same
        );
        // Two members per step (`L_{l+1} = L_{l} + ...`): folded along both.
        let lines: Vec<String> = (0..20)
            .map(|l| format!("L_{{{}}} = L_{{{l}}}", l + 1))
            .collect();
        assert_eq!(fold(&items(&lines), |i| inline_key(i), |_| vec![]).len(), 4);
    }
}
