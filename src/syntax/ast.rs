//! The abstract syntax of `.tq` files.
//!
//! Every node that a diagnostic may point at carries a [`Span`] into the original
//! source. Names are stored in their canonical ASCII spelling (`σ_W` is stored as
//! `sigma_W`, `Δx` as `dx`), so later stages never see Unicode variants.
//!
//! Equality of programs for the printer round-trip ignores spans: compare
//! `strip_spans(a) == strip_spans(b)` (see [`Program::without_spans`]).

use super::span::Span;

/// A whole `.tq` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

/// One statement, with the span of its logical line(s).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `size B, X, Y, J`
    Size(Vec<Ident>),
    /// `size N_l for l in 0..L`: one size per member (`N_0`, `N_1`, ... `N_L`); `names`
    /// holds the bases (`N`). Expanded into plain sizes before checking
    /// ([`crate::check::members`]).
    SizeMembers { names: Vec<Ident>, range: Range },
    /// `size L = 3`, `size Y = floor((X - DX)/2) + 1`: a size fixed by its value.
    SizeValue { name: Ident, value: Expr },
    /// `index dx, dy : D` (the indices range over `0..D`); `centered` makes them range
    /// over `-(D-1)/2 ..= (D-1)/2`.
    Index {
        names: Vec<Ident>,
        size: Ident,
        centered: bool,
    },
    /// `symbol sigma_W, mu` — real parameters that appear in formulas.
    Symbol(Vec<Ident>),
    /// `scalar a, b` — the inputs of a scalar program.
    Scalar(Vec<Ident>),
    /// `boundary zero|circular|valid`
    Boundary(Boundary),
    /// `param`, `input`, `grad` declarations.
    Decl(Decl),
    /// `T[i, j] = expr`, `+=`, `-=`, or a scalar `x = expr`.
    Equation(Equation),
    /// `for l in 0..L-1:` followed by an indented block (families over layers, time, scales).
    Loop(Loop),
    /// `for b,x,y,j: stmt` or `for b,x,y,j:` followed by an indented block (the seeds' loop form).
    ForIndices(ForIndices),
    /// `rule A over t:` followed by an indented block of update equations.
    Rule(Rule),
    /// `at a = 2, b = 1` — the point at which a scalar program is evaluated.
    At(Vec<Binding>),
    /// `sample B = 2, X = 8` — concrete sizes and values for numeric runs.
    Sample(Vec<Binding>),
    /// `claim ...`
    Claim(Claim),
    /// `expect error E0102` — the whole file is expected to be rejected with this code.
    ExpectError(Ident),
    /// `derivation NAME given ...:` followed by a start expression and steps
    /// (`= expr  by rule`), each checked on its own.
    Derivation(Derivation),
    /// `vary L in 2..12, J in {16, 32, 64}, sigma_W in 0.05..0.2` — parameter ranges
    /// that `tq variants` samples.
    Vary(Vec<VaryParam>),
}

/// One parameter of a `vary` line.
#[derive(Clone, Debug, PartialEq)]
pub struct VaryParam {
    pub name: Ident,
    pub domain: VaryDomain,
    pub span: Span,
}

/// The values a varied parameter takes.
#[derive(Clone, Debug, PartialEq)]
pub enum VaryDomain {
    /// `a..b`, both ends included: whole numbers when both ends are whole, otherwise
    /// steps of the finest decimal place written (`0.05..0.2` steps by 0.01).
    Range(Box<Expr>, Box<Expr>),
    /// `{16, 32, 64}`
    Set(Vec<Expr>),
}

/// The rules a derivation step may cite (`by NAME`), with their one-line statements;
/// docs/derivations.md gives an example of each.
pub const DERIVATION_RULES: &[(&str, &str)] = &[
    ("definition", "a name is replaced by the expression that defines it"),
    ("algebra", "the two sides are equal as expressions (expand, collect, simplify)"),
    ("linearity", "E[a X + b Y] = a E[X] + b E[Y]"),
    ("zero_mean", "a declared zero-mean quantity has expectation 0, and so has anything linear in it"),
    ("independence", "E[X Y] = E[X] E[Y] for independent X and Y"),
    ("product_variance", "Var(X Y) = E[X]^2 Var(Y) + E[Y]^2 Var(X) + Var(X) Var(Y) for independent X and Y"),
    ("uncorrelated_sum", "Var(sum of uncorrelated terms) = sum of the variances (a distinct zero-mean weight in each term)"),
    ("iid_sum", "Var(sum of n independent identically distributed terms) = n Var(one term)"),
    ("variance", "Var(X) = E[X^2] - E[X]^2"),
    ("declared", "the moments of a declared distribution (normal, symmetric, moments, uniform, bernoulli)"),
    ("symmetry", "f(-y) = c - f(y) and y symmetric about 0 give E[f(y)] = c/2 (sigmoid: 1/2, tanh: 0)"),
    ("relu_half", "E[relu(y)^2] = E[y^2]/2 for y symmetric about 0"),
    ("relu_gaussian", "E[relu(y)] = sqrt(v/(2 pi)) for y ~ N(0, v)"),
    ("lipschitz", "Var(f(Y)) <= K^2 Var(Y) for a K-Lipschitz f (sigmoid: K = 1/4, tanh and relu: K = 1)"),
    ("range", "Var(X) <= (b - a)^2/4 for X in [a, b] (Popoviciu)"),
    ("recurrence", "a first-order linear recurrence with constant coefficients, solved in closed form"),
    ("given", "the derivation's givens substituted"),
    ("solve", "the equation solved for the unknown"),
];

/// A worked derivation: a chain of expressions, each related to the previous one.
#[derive(Clone, Debug, PartialEq)]
pub struct Derivation {
    pub name: Ident,
    /// Assumptions in force for every step (`given mu = 0, chi = 1`).
    pub given: Vec<Expr>,
    pub start: Expr,
    pub steps: Vec<Step>,
}

/// One line of a derivation: `= Var(W[I] x[I])  by definition`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub op: RelOp,
    pub expr: Expr,
    /// The rule the author cites (one of docs/derivations.md), as written.
    pub rule: Option<Ident>,
    pub span: Span,
    /// `expect refuted` on the line before: a planted wrong step.
    pub expect: Option<Expectation>,
}

impl Derivation {
    /// Each step as a claim relating it to the previous expression, with the
    /// derivation's givens; the text names the derivation, the step and its rule.
    pub fn step_claims(&self) -> Vec<(Span, Claim)> {
        let mut prev = &self.start;
        let mut out = Vec::new();
        for (k, st) in self.steps.iter().enumerate() {
            let body = Expr::Rel(
                st.op,
                Box::new(prev.clone()),
                Box::new(st.expr.clone()),
                st.span,
            );
            let op = st.op.symbol();
            let text = format!(
                "{} step {}{}: {} {op} {}",
                self.name.name,
                k + 1,
                st.rule
                    .as_ref()
                    .map(|r| format!(" (by {})", r.name))
                    .unwrap_or_default(),
                crate::syntax::printer::print_expr(prev),
                crate::syntax::printer::print_expr(&st.expr)
            );
            out.push((
                st.span,
                Claim {
                    body,
                    tol: None,
                    given: self.given.clone(),
                    at: vec![],
                    boundary: None,
                    expect: st.expect,
                    text,
                    includes: None,
                },
            ));
            prev = &st.expr;
        }
        out
    }
}

/// The rule for reading a tensor outside its extent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    Zero,
    Circular,
    Valid,
}

/// The capital-means-summed rule: an index written with a capital letter (`I`, `J'`)
/// is summed over the range of its lower case (`i`, `j'`); a lower-case index is free.
/// The stages that read index names ask this rather than test the first letter.
pub fn is_summed_index(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// An identifier in canonical ASCII spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A possibly decorated name: `W^{h,R}_{l+1}`, `L_l`, `sigma_W`, `j'`, `h'`.
///
/// Whether a subscript is a family index (`L_l`) or part of the name (`sigma_W`)
/// is decided by the checker: a base declared as a family takes its subscripts as
/// index expressions; any other name is looked up by its full printed spelling.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub base: String,
    pub primes: u8,
    /// Superscript labels: `W^{h,R}` has `["h", "R"]`.
    pub sup: Vec<String>,
    /// Subscripts: `L_{l+1}` has `[l+1]`, `sigma_W` has `[W]`.
    pub sub: Vec<IndexExpr>,
    pub span: Span,
}

/// A reference to a tensor, a scalar or a symbol: a name, optionally `.grad`,
/// optionally followed by an index list.
#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    pub name: Name,
    pub grad: bool,
    pub indices: Option<Vec<IndexExpr>>,
    pub span: Span,
}

/// An index position: an affine expression over indices (`x+dx`, `2*x+1`, `s*x+DX`,
/// `t-1`, `J'`, `0`), or an integer-valued lookup (`w[t]`).
#[derive(Clone, Debug, PartialEq)]
pub enum IndexExpr {
    Affine(Affine),
    Lookup(Box<Ref>),
}

impl IndexExpr {
    /// The index of a plain position ([`Affine::plain_var`]); `None` for a lookup.
    pub fn plain_var(&self) -> Option<&Ident> {
        match self {
            IndexExpr::Affine(a) => a.plain_var(),
            IndexExpr::Lookup(_) => None,
        }
    }
}

/// `sum of coef * product-of-names + constant`. In `s*x + dx`, the term `s*x` has
/// factors `[s, x]`; the checker decides which factor is the index.
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    pub terms: Vec<AffineTerm>,
    pub constant: i64,
    pub span: Span,
}

impl Affine {
    /// The index of a plain position (`x`, `J`, `t`: one term, coefficient 1, one
    /// factor, no constant), or `None` for a shifted, strided or fixed position.
    pub fn plain_var(&self) -> Option<&Ident> {
        match (self.terms.as_slice(), self.constant) {
            ([t], 0) if t.coef == 1 => match t.factors.as_slice() {
                [f] => Some(f),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AffineTerm {
    pub coef: i64,
    pub factors: Vec<Ident>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    /// Written `*`.
    Mul,
    /// Written by juxtaposition (`W[j,I] x[b,I]`, `2 a`); means the same as `Mul`.
    Jux,
    Div,
    Pow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Le,
    Ge,
    Lt,
    Gt,
    /// `~=` or `≈`
    Approx,
}

impl RelOp {
    /// The operator as written in ASCII `.tq` (and in Python): `==`, `<=`, `>=`, `<`,
    /// `>`, `~=`. The one table the printer, the derivation steps and the NumPy emitter
    /// read.
    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "==",
            RelOp::Le => "<=",
            RelOp::Ge => ">=",
            RelOp::Lt => "<",
            RelOp::Gt => ">",
            RelOp::Approx => "~=",
        }
    }
}

/// Assignment operators of equations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    AddAssign,
    SubAssign,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A numeric literal as written: `2`, `0.04338`, `1e-6`.
    Num(String, Span),
    /// A tensor element, a scalar, a size or a symbol.
    Ref(Ref),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<Expr>, Box<Expr>, Span),
    /// A relation, inside `claim`, `given`, `solve(...)`.
    Rel(RelOp, Box<Expr>, Box<Expr>, Span),
    /// A function application: activations (`sigmoid`, `tanh`, `relu`, `exp`, `ln`,
    /// `sqrt`), moment operators (`E`, `Var`, `Cov`), and claim functions (`solve`,
    /// `mults`, `order`, `equivalent`, ...). `E[u]` is stored as `E(u)` with
    /// `brackets = true`.
    Call(Call),
    /// `sum_{i,j}(expr)` — an explicit sum over the listed indices.
    Sum(Vec<Ident>, Box<Expr>, Span),
    /// `softmax_{w}(expr)` — softmax over index `w`.
    Softmax(Ident, Box<Expr>, Span),
    /// `d(u)/d(a)` — the derivative of a scalar-program value.
    Deriv(Box<Ref>, Box<Ref>, Span),
    /// `[a > 0]` — an Iverson bracket (1 when the relation holds, else 0).
    Iverson(Box<Expr>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub func: Ident,
    pub args: Vec<Expr>,
    pub brackets: bool,
    pub span: Span,
}

/// `name = expr` in `at`, `sample`, `given` lists.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// `param W[J, K] ~ normal(0, 1/K)` — a trainable parameter (gets a gradient).
    Param,
    /// `input x[B, K] ~ normal(0, 1)` — data; also the start of a family or recurrence.
    Input,
    /// `grad L_L ~ normal(0, 1)` — the distribution of the gradient arriving at a tensor.
    Grad,
}

/// `param W_{l}[D, D, J, J] ~ normal(0, sigma_W^2) for l in 1..L`
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    /// The declared tensor; its index list gives the shape: a size (`J`) or an index
    /// (`j`) is a full dimension, an integer (`0`) a fixed position (a start slice).
    pub target: Ref,
    pub init: Option<Init>,
    /// `for l in 1..L`: the declaration is for a family member.
    pub family: Option<Range>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// `~ normal(0, sigma^2)`
    Dist(Call),
    /// `= 0`
    Value(Expr),
}

/// `l in 0..L-1` (both ends inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub var: Ident,
    pub from: Expr,
    pub to: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Equation {
    pub lhs: Ref,
    pub op: AssignOp,
    pub rhs: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loop {
    pub range: Range,
    pub body: Vec<Item>,
    /// `for l in 0..L-1 reversed:` runs from the last value down (backward passes).
    pub reverse: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForIndices {
    pub indices: Vec<Ident>,
    pub body: Vec<Item>,
    /// Written on one line: `for b,j: T[b,j] += ...`.
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: Ident,
    pub var: Ident,
    pub body: Vec<Item>,
}

/// What a claim is expected to come out as (`expect refuted` before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Refuted,
    Undecided,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// A relation (`Var(y) == d sigma^2`) or a predicate call (`equivalent(A, B)`).
    pub body: Expr,
    /// `tol 1e-3` for `~=`.
    pub tol: Option<Expr>,
    /// `given x = 1, y > 0`: assumptions (relations).
    pub given: Vec<Expr>,
    /// `at a = 2, b = 1`: a point.
    pub at: Vec<Binding>,
    /// `given boundary zero`: the claim is about the model under another boundary rule.
    pub boundary: Option<Boundary>,
    pub expect: Option<Expectation>,
    /// The claim's source text as written (for reports).
    pub text: String,
    /// `claim backprop includes:` followed by a block of statements that the derived
    /// backward program must contain (then `body` is the name `backprop`).
    pub includes: Option<Vec<Item>>,
}

impl Ref {
    /// A reference by a plain name (no primes, labels, subscripts, `.grad` or indices):
    /// a size, a symbol or a scalar value, as tq builds them for givens and programs.
    pub fn plain(base: &str, span: Span) -> Ref {
        Ref {
            name: Name {
                base: base.to_string(),
                primes: 0,
                sup: vec![],
                sub: vec![],
                span,
            },
            grad: false,
            indices: None,
            span,
        }
    }
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(_, s)
            | Expr::Unary(_, _, s)
            | Expr::Binary(_, _, _, s)
            | Expr::Rel(_, _, _, s)
            | Expr::Sum(_, _, s)
            | Expr::Softmax(_, _, s)
            | Expr::Deriv(_, _, s)
            | Expr::Iverson(_, s) => *s,
            Expr::Ref(r) => r.span,
            Expr::Call(c) => c.span,
        }
    }
}

impl IndexExpr {
    pub fn span(&self) -> Span {
        match self {
            IndexExpr::Affine(a) => a.span,
            IndexExpr::Lookup(r) => r.span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_summed_index;

    #[test]
    fn capital_indices_are_summed_and_lower_case_ones_free() {
        for summed in ["I", "J'", "DX", "Tb"] {
            assert!(is_summed_index(summed), "{summed}");
        }
        for free in ["i", "j'", "dx", "t2", ""] {
            assert!(!is_summed_index(free), "{free}");
        }
    }
}
