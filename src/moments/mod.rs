//! The symbolic moments engine: the mean and second moment of every tensor element,
//! forward through the model and backward through its derived program, under the
//! declared distributions and the rules of [`rv`] — with recurrences over layers or
//! time solved in closed form.
//!
//! Every tensor element of one tensor (or family member) is assumed to have the same
//! distribution: true with circular padding and away from the border with zero padding
//! (the derivation says which). A family written in a loop from its previous member
//! (`L_{l+1}` from `L_l`) is a recurrence: tq runs the loop body once concretely (the
//! first iteration, with the start's exact distribution) and once symbolically with the
//! state's moments as unknowns, reads off the first-order recurrence and solves it when
//! it is linear with constant coefficients.
//!
//! Files: `mod.rs` the analysis's types ([`Analysis`], [`Entry`], [`Recurrence`]) and
//! [`analyze`]; `walker.rs` the walker's state and its reads; `expr.rs` the
//! distributions of right-hand sides (products, sums); `statements.rs` equations,
//! declarations and loops (recurrences read off a symbolic iteration);
//! `recurrence.rs` recurrences solved in closed form; `refs.rs` syntax helpers (terms,
//! capitals, references); `query.rs` `E`/`Var`/`Cov` of claim expressions; `rv.rs` one
//! element's distribution and the rules; `quadrature.rs` Gauss–Hermite moments of a
//! function of a Gaussian input; `position.rs` zero padding position by position.

mod expr;
pub mod position;
pub mod quadrature;
mod query;
mod recurrence;
pub use recurrence::whole_exponents;
pub mod partial;
mod refs;
pub mod rule;
pub mod rv;
mod statements;
mod walker;

pub use query::{Moment, Opaque};
pub use recurrence::subs_rv;
pub use refs::split_terms;
pub use rule::{Applied, Approximation, Cross, Rule};
pub use walker::member_text;

use crate::check::Env;
use crate::sym::Expr;
use crate::syntax::ast::{self as ast, IndexExpr, Item, Program};
use rv::Rv;
use std::collections::{BTreeMap, BTreeSet};
use walker::Walker;
pub use walker::MOMENT_FILE_WORK;

/// A tensor: its family key and whether it is the gradient.
pub type Key = (String, bool);

/// What is known of one tensor's elements.
#[derive(Clone, Debug)]
pub enum Entry {
    Plain(Box<Rv>),
    Family {
        /// Members at fixed subscripts (the start, the first iteration).
        members: Vec<(Expr, Rv)>,
        /// Members at every subscript of a loop: `rv` with the loop variable `var`
        /// standing for subscript − `offset`.
        templates: Vec<Template>,
    },
}

#[derive(Clone, Debug)]
pub struct Template {
    pub var: String,
    pub offset: Expr,
    pub rv: Rv,
}

/// A recurrence read off a loop, and its solution.
#[derive(Clone, Debug)]
pub struct Recurrence {
    pub tensor: String,
    pub grad: bool,
    /// The loop variable and the subscripts read and written (`l`, `l`, `l + 1`).
    pub var: String,
    pub from: Expr,
    pub to: Expr,
    /// E and Var of the written member in terms of those of the read one (`x` stands
    /// for the read member's value).
    pub mean_step: Expr,
    pub var_step: Option<Expr>,
    /// Closed forms in the member subscript `n`.
    pub mean_closed: Option<Expr>,
    pub var_closed: Option<Expr>,
    /// The same closed forms with each geometric sum's ratio a written `1 + #q<i>`
    /// ([`Analysis::geometric`]), for the members the loop's templates stand for.
    pub mean_inner: Option<Expr>,
    pub var_inner: Option<Expr>,
    /// The start member's subscript.
    pub start: Expr,
    pub rules: BTreeSet<Applied>,
    pub approx: BTreeSet<Approximation>,
    /// Why no closed form, when there is none.
    pub unsolved: Option<String>,
}

impl Recurrence {
    /// "exact", or the approximations the recurrence rests on, joined by `; `.
    pub fn status(&self) -> String {
        if self.approx.is_empty() {
            "exact".to_string()
        } else {
            self.approx
                .iter()
                .map(|a| a.text())
                .collect::<Vec<_>>()
                .join("; ")
        }
    }
}

/// The moments of every tensor of a program.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub entries: BTreeMap<Key, Entry>,
    /// Why a tensor's moments are not known.
    pub unknown: BTreeMap<Key, String>,
    pub recurrences: Vec<Recurrence>,
    /// Remarks (the boundary rule the results hold under).
    pub notes: Vec<String>,
    /// One symbolic iteration per loop: the members it reads and writes, in terms of
    /// the loop variable, before the closed forms are put in (for covariances between
    /// members of the same iteration).
    pub iterations: Vec<Iteration>,
    /// The declared tensors and the iid ones, for reading claim expressions.
    leaves: BTreeSet<(Key, Option<Expr>)>,
    iid: BTreeSet<Key>,
    /// Tensors computed once, outside loops, as a linear combination of declared tensors
    /// read at the left side's own positions: the left side's index list (as printed) and
    /// the coefficient of each declared tensor ([`Analysis::linear_cov`]).
    pub linear: BTreeMap<Key, (String, Vec<(Key, Expr)>)>,
    /// `a - 1` for each geometric sum `b (a^k - 1)/(a - 1)` of a closed form, written
    /// `b ((1 + #q<i>)^k - 1)/#q<i>` inside templates: a member at a whole subscript
    /// expands it to the polynomial `b (1 + a + ... + a^(k-1))`, defined for every a
    /// (the quotient is not at a = 1), a member at a symbolic subscript puts `a - 1`
    /// back ([`walker::Walker::lookup`]).
    pub geometric: Vec<Expr>,
    /// The circular windows the sums' values rest on reading distinct elements (`x[b,
    /// x+DX]` over X: distinct when D <= X). A value resting on one carries
    /// [`Approximation::Wrap`], and a claim about it is decided by the moments engine only
    /// at sizes where every window reads distinct elements (`claims::moments::wrap_unmet`).
    pub wraps: Vec<Window>,
    /// The definedness conditions of each tensor's moments over the file's symbols and
    /// sizes: those of the statements and declarations that write it (`a - c >= 0` of
    /// `y = sqrt(a - c) x`, `J - 1 != 0` of `normal(0, 1/(J - 1))`) and of every tensor
    /// they read. The values the walker builds fold them away (`Var(y) = v (a - c)`), so
    /// a claim about the tensor's moments is given them back ([`Analysis::conditions_of`]):
    /// a claim whose givens break one is about an undefined value.
    pub conditions: BTreeMap<Key, BTreeSet<crate::sym::Condition>>,
    /// The dimensions of each tensor a loop writes only in part ([`partial::Partial`]):
    /// its moments are the written elements', read only where a read provably falls on
    /// them (session 39).
    pub partial: BTreeMap<Key, Vec<partial::Partial>>,
}

/// A window read under circular padding: the summed index d in 0..D at coefficient c of
/// a position that wraps around an extent N. Its reads c d mod N are distinct exactly
/// when D <= N / gcd(c, N) (the multiples of c mod N repeat with period N / gcd(c, N)):
/// `x[b, x + 2DX]` over X = 5 reads five distinct positions, over X = 4 two.
#[derive(Clone, Debug)]
pub struct Window {
    /// The read and the condition, for the reason.
    pub text: String,
    /// The extent N the position wraps around.
    pub extent: Expr,
    /// The summed index's coefficient c (non-zero).
    pub coef: i64,
    /// The summed range D.
    pub len: Expr,
}

impl Window {
    /// Whether the window reads distinct elements at these values of the sizes: `None`
    /// when N or D is not a whole number there (a size without a value).
    pub fn distinct_at(&self, at: &BTreeMap<String, f64>) -> Option<bool> {
        let whole = |e: &Expr| -> Option<i64> {
            let v = e.eval_f64(at).ok()?;
            let r = v.round();
            ((v - r).abs() < 1e-9 && r.abs() < 1e15).then_some(r as i64)
        };
        Window::distinct(whole(&self.extent)?, self.coef, whole(&self.len)?)
    }

    /// Whether D reads c d mod N (d in 0..D) are distinct, for whole N and D (`None` when
    /// N < 1 or D < 0: no window).
    pub fn distinct(n: i64, c: i64, d: i64) -> Option<bool> {
        if n < 1 || d < 0 || c == 0 {
            return None;
        }
        let (mut a, mut b) = (c.unsigned_abs(), n.unsigned_abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Some(d.unsigned_abs() <= n.unsigned_abs() / a)
    }
}

/// The distributions of one symbolic iteration.
#[derive(Clone, Debug)]
pub struct Iteration {
    pub var: String,
    /// Per tensor: (subscript − loop variable, distribution).
    pub members: BTreeMap<Key, Vec<(Expr, Rv)>>,
    /// The state placeholders' closed forms at this iteration.
    pub closed: BTreeMap<String, Expr>,
}

/// The placeholder symbols of a recurrence state.
fn mean_sym(k: &Key) -> String {
    format!("E#{}{}", k.0, if k.1 { ".grad" } else { "" })
}
fn m2_sym(k: &Key) -> String {
    format!("M#{}{}", k.0, if k.1 { ".grad" } else { "" })
}

/// An index expression as a symbolic expression.
pub fn index_expr(ix: &IndexExpr) -> Result<Expr, String> {
    match ix {
        IndexExpr::Affine(a) => {
            let mut terms = vec![Expr::int(a.constant)];
            for t in &a.terms {
                let mut f = vec![Expr::int(t.coef)];
                f.extend(t.factors.iter().map(|i| Expr::sym(&i.name)));
                terms.push(Expr::mul(f));
            }
            Ok(Expr::add(terms))
        }
        IndexExpr::Lookup(_) => Err("a lookup subscript".into()),
    }
}

fn position(indices: &Option<Vec<IndexExpr>>) -> Option<rv::Position> {
    let mut out = Vec::new();
    for ix in indices.as_ref()? {
        let IndexExpr::Affine(a) = ix else {
            return None;
        };
        let mut vars = Vec::new();
        for t in &a.terms {
            if t.factors.len() != 1 {
                return None;
            }
            vars.push((t.factors[0].name.clone(), t.coef));
        }
        vars.sort();
        out.push((vars, a.constant));
    }
    Some(out)
}

/// The moments of every tensor of a checked program, forward and (with the derived
/// backward program in gather form) backward.
pub fn analyze(program: &Program, env: &Env, backward: &[Item]) -> Analysis {
    analyze_with(program, env, backward, Vec::new())
}

/// [`analyze`] with symbols set to values (a claim's givens that set symbols:
/// `sigma_W^2 = 1/J`), substituted wherever the program reads them, before any
/// recurrence is solved: a step factor the givens make 1 (`J sigma_W^2 = 1`) gives the
/// linear closed form `x0 + k b` rather than the geometric one, undefined there.
pub fn analyze_with(
    program: &Program,
    env: &Env,
    backward: &[Item],
    settings: Vec<(String, Expr)>,
) -> Analysis {
    let mut w = Walker {
        settings,
        env,
        a: std::borrow::Cow::Owned(Analysis::default()),
        bind: BTreeMap::new(),
        fresh: BTreeSet::new(),
        symbolic: false,
        backward: false,
        iid: BTreeSet::new(),
        written: BTreeSet::new(),
        leaves: BTreeSet::new(),
        work: Default::default(),
        past_leaves: Default::default(),
        outer: Default::default(),
        wraps: Default::default(),
        accumulated: BTreeMap::new(),
        ranges: BTreeMap::new(),
        claim: false,
        plain_reads: BTreeMap::new(),
    };
    let gathered: Vec<Item> = if backward.is_empty() {
        Vec::new()
    } else {
        crate::grad::gather_form(backward, env)
            .into_iter()
            .map(|g| g.item)
            .collect()
    };
    w.plain_reads = partial::plain_reads(env, &[&program.items, &gathered]);
    w.items(&program.items, &[]);
    if !gathered.is_empty() {
        w.backward = true;
        w.items(&gathered, &[]);
    }
    let spent = w.spent().is_err();
    let mut a = w.a.into_owned();
    a.wraps = w.wraps.into_inner();
    a.leaves = w.leaves;
    a.iid = w.iid;
    if spent {
        a.notes.push(walker::work_spent());
    }
    match env.boundary {
        Some(ast::Boundary::Zero) => a.notes.push(
            "zero padding: the moments hold away from the border (positions whose shifted reads all fall inside); border positions have less variance".into(),
        ),
        Some(ast::Boundary::Circular) => a
            .notes
            .push("circular padding: every position has the same moments".into()),
        _ => {}
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sym;
    use crate::syntax::ast::ItemKind;

    fn analysis(src: &str) -> (Analysis, Env, Program) {
        let parsed = crate::syntax::parser::parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let program = parsed.program;
        let (env, diags) = crate::check::check(&program);
        assert!(
            diags
                .iter()
                .all(|d| d.severity == crate::diag::Severity::Warning),
            "{diags:?}"
        );
        let back = crate::grad::backward(&program, &env);
        (analyze(&program, &env, &back.items), env, program)
    }

    fn var_of(a: &Analysis, env: &Env, text: &str) -> String {
        let p = crate::syntax::parser::parse(&format!("claim Var({text}) == 0\n")).program;
        let ItemKind::Claim(c) = &p.items[0].kind else {
            panic!()
        };
        let ast::Expr::Rel(_, l, _, _) = &c.body else {
            panic!()
        };
        let ast::Expr::Call(call) = &**l else {
            panic!()
        };
        match a.moment(env, call) {
            Ok(m) => sym::to_ascii(&m.value),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn single_unit_variance() {
        let (a, env, _) = analysis(
            "size d\nindex i : d\nsymbol sigma\nparam W[d] ~ normal(0, sigma^2)\ninput x[d] ~ normal(0, 1)\ny = W[I] x[I]\n",
        );
        assert_eq!(var_of(&a, &env, "y"), "d*sigma^2");
    }

    #[test]
    fn deep_linear_recurrence() {
        let (a, env, _) = analysis(
            "size M, K\nindex i, j : M\nsymbol sigma\nparam W_k[M, M] ~ normal(0, sigma^2) for k in 1..K\ninput y_0[M] ~ normal(0, 1)\nfor k in 1..K:\n  y_k[j] = W_k[j, I] y_{k-1}[I]\n",
        );
        assert_eq!(var_of(&a, &env, "y_k"), "(M*sigma^2)^k");
        assert_eq!(var_of(&a, &env, "y_2"), "M^2*sigma^4");
    }

    /// A `for` block runs element by element: a statement reading, at another position,
    /// a member the block writes sees it not yet written (or already updated). The
    /// statement-at-a-time walk must not stand in for that.
    #[test]
    fn for_block_reads_before_writes_are_not_derived() {
        let src = |second: &str| {
            format!("size M, K\nindex i, j : M\nsymbol sigma\nboundary circular\nparam W_k[M, M] ~ normal(0, sigma^2) for k in 1..K\ninput y_0[M] ~ normal(0, 1)\nfor k in 1..K:\n  for j:\n    h_k[j] = W_k[j, I] y_{{k-1}}[I]\n    {second}\n")
        };
        for shifted in ["y_k[j] = h_k[j+1]", "y_k[j] = h_k[j-1]", "y_k[j] = h_k[I]"] {
            let (a, env, _) = analysis(&src(shifted));
            let v = var_of(&a, &env, "y_k");
            assert!(
                v.starts_with("error")
                    && v.contains("read before it is written in the same for block"),
                "{shifted}: {v}"
            );
            let v = var_of(&a, &env, "y_1");
            assert!(v.starts_with("error"), "{shifted}: {v}");
            // The tensor written before the shifted read keeps its moments.
            assert_eq!(var_of(&a, &env, "h_1"), "M*sigma^2", "{shifted}");
        }
        // At the position written: exact.
        let (a, env, _) = analysis(&src("y_k[j] = h_k[j]"));
        assert_eq!(var_of(&a, &env, "y_k"), "(M*sigma^2)^k");
        // A read of an earlier member of the family at another position is fine.
        let (a, env, _) = analysis(
            "size M, K\nindex i, j : M\nsymbol sigma\nboundary circular\nparam W_k[M, M] ~ normal(0, sigma^2) for k in 1..K\ninput y_0[M] ~ normal(0, 1)\nfor k in 1..K:\n  for j:\n    h_k[j] = W_k[j, I] y_{k-1}[I+1]\n    y_k[j] = h_k[j]\n",
        );
        assert_eq!(var_of(&a, &env, "y_k"), "(M*sigma^2)^k");
    }
}
