//! The symbol table the checker builds and later stages read.

use crate::syntax::ast::Boundary;
use crate::syntax::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// What a tensor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// Declared with `param`: trainable, gets a gradient.
    Param,
    /// Declared with `input`: data or the start of a family or recurrence.
    Input,
    /// Defined by an equation.
    Computed,
}

#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// The number of indices in brackets.
    pub rank: usize,
    /// The number of family subscripts (`L_l`: 1, `L_{l,s}`: 2, plain tensors: 0).
    pub family_arity: usize,
    pub kind: TensorKind,
    /// Where it was declared or first defined.
    pub span: Span,
    /// Per dimension: the size name, `@c` for a fixed position (a start slice), `~v`
    /// for a dimension along loop variable `v`, `?` when unknown.
    pub dims: Vec<String>,
    /// Integer-valued (`~ categorical(n)`): may be used as an index.
    pub is_int: bool,
    /// Family members declared as starts (`input L_0` gives `[0]`).
    pub start_members: Vec<Vec<i64>>,
    /// Fixed positions declared as starts (`input h[B, 0, J]` gives `(1, 0)`).
    pub start_positions: Vec<(usize, i64)>,
}

/// Where the members of a family lie (`h` of `h_l`), as its definitions place them
/// ([`super::member_range::spans`]): with the start `h_0` and `for l in 0..L-1:
/// h_{l+1} = ...`, h_0 to h_L. A claim about every member (`Var(h_l)`) is about these
/// values of its family variable, the first included.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FamilySpan {
    /// The least member, when every definition's lower end is a number.
    pub first: Option<i64>,
    /// The last member in the sizes (`L`), when every definition's upper end is one
    /// form in the sizes plus a number, or a number below it: the largest.
    pub last: Option<crate::sym::Expr>,
}

#[derive(Clone, Debug)]
pub struct IndexInfo {
    pub size: String,
    pub centered: bool,
    pub span: Span,
}

/// Everything declared or defined in a file.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// The values all tensors store together at the `sample` sizes (the size budget's
    /// count, `check::budget`): what a numeric run of the file allocates, in values.
    pub sample_values: i128,
    pub sizes: BTreeMap<String, Span>,
    pub indices: BTreeMap<String, IndexInfo>,
    pub symbols: BTreeMap<String, Span>,
    /// Scalar inputs (`scalar a, b`) and scalar values defined by equations.
    pub scalars: BTreeMap<String, Span>,
    /// Scalar values defined by equations (`x = a^2`), not inputs.
    pub computed_scalars: BTreeSet<String>,
    /// Scalars in the order they were declared or defined.
    pub scalar_order: Vec<String>,
    pub tensors: BTreeMap<String, TensorInfo>,
    /// Tensors in the order they were declared or defined.
    pub decl_order: Vec<String>,
    pub boundary: Option<Boundary>,
    pub rules: BTreeMap<String, Span>,
    /// Names read by a rule's statements and written by none (`g` in `v[t+1] = mu v[t] +
    /// g[t]`): the rules' inputs, which a claim may read at a fixed step (`g[0]`).
    pub rule_inputs: BTreeSet<String>,
    /// `grad T ~ ...` declarations: the key and the member as written (`L_L`).
    pub grad_seeds: Vec<(String, String)>,
    /// The domains of sizes and symbols, inferred from the declarations
    /// ([`super::domains::infer`]).
    pub domains: BTreeMap<String, crate::sym::Domain>,
    /// The members of each family, by key ([`FamilySpan`]).
    pub family_spans: BTreeMap<String, FamilySpan>,
    /// Sizes derived from sizes that vary (`size Y = floor((X - DX)/2) + 1`) and their
    /// values, set by the caller of the member expansion
    /// ([`super::members::expand_derived`]); empty otherwise.
    pub derived_sizes: Vec<(String, crate::syntax::ast::Expr)>,
    /// Symbols a `sample` or `at` line gives a value that is not a whole number: never
    /// read as whole numbers in exponents (docs/language.md, domains).
    pub fractional: std::collections::BTreeSet<String>,
    /// Symbols read as a location (a mean in `normal(mu, v)` or `moments(mu, s)`, an end
    /// of `uniform(a, b)`): every real, not the positive-real convention of other
    /// symbols ([`super::domains::signed`], docs/soundness.md, "The domains").
    pub signed: std::collections::BTreeSet<String>,
    /// Scalar leaves (`input a`, `param w` without indices): the interval of their
    /// distribution's support where it has numeric ends (`bernoulli`: [0, 1],
    /// `uniform(-1, 1)`, `categorical(3)`: [0, 2]); every real otherwise
    /// ([`super::domains::leaves`], docs/soundness.md, "The domains").
    pub leaf_domains: BTreeMap<String, crate::sym::Domain>,
    /// Scalar leaves whose support is narrower than that interval: the whole numbers
    /// they take (a mask, a class), or `None` when not written out (`uniform(-s, s)`).
    /// A scalar claim is refuted at a point only where each of them takes such a value.
    pub leaf_values: BTreeMap<String, Option<Vec<i64>>>,
    /// The supports of the leaves' elements (tensors and scalar leaves declared with a
    /// distribution narrower than the reals or with a value), by key
    /// ([`super::supports::of`]): what an element given may set them to (E0512).
    pub elem_supports: BTreeMap<String, super::supports::LeafSupport>,
    /// The ranges (from, to) of the `for v in from..to` loops over each variable.
    pub loop_ranges: BTreeMap<String, Vec<(crate::syntax::ast::Expr, crate::syntax::ast::Expr)>>,
}

impl Env {
    /// The size of a lower-case index: declared with `index`, or its upper-case letter
    /// (primes stripped) declared with `size`.
    pub fn index_size(&self, name: &str) -> Option<String> {
        if let Some(info) = self.indices.get(name) {
            return Some(info.size.clone());
        }
        let base = name.trim_end_matches('\'');
        if let Some(info) = self.indices.get(base) {
            return Some(info.size.clone());
        }
        let up = base.to_uppercase();
        if self.sizes.contains_key(&up) {
            return Some(up);
        }
        // A size whose name is not all capitals (`D_k`, `Dk`, `N_a`): its index is the name
        // in lower case (`d_k`) and its capital the name itself, when exactly one size
        // reads so in lower case (probe37 p07: `D_k` was a size no index could range
        // over, and every hint led to another error).
        let low = base.to_lowercase();
        let mut mixed = self
            .sizes
            .keys()
            .filter(|s| s.to_lowercase() == low && s.as_str() != low);
        match (mixed.next(), mixed.next()) {
            (Some(s), None) => Some(s.clone()),
            _ => None,
        }
    }

    /// The size an index's capital stands for where a size is expected (in a claim):
    /// with `index dx : D`, `DX` is `D`. Only for a capital that names nothing itself.
    pub fn index_capital(&self, name: &str) -> Option<String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || self.kind_of(name).is_some()
        {
            return None;
        }
        let info = self.indices.get(&name.to_lowercase())?;
        (info.size != name).then(|| info.size.clone())
    }

    /// Whether an index ranges symmetrically around zero (`index dx : D centered`).
    pub fn index_centered(&self, name: &str) -> bool {
        let base = name.trim_end_matches('\'');
        self.indices
            .get(name)
            .or_else(|| self.indices.get(base))
            .is_some_and(|i| i.centered)
    }

    /// The key of the tensor a name refers to: the family key (`L`, `W^{h,R}`) for a
    /// family member, the printed name otherwise.
    pub fn key_of(&self, n: &crate::syntax::ast::Name) -> String {
        let fk = super::family_key(n);
        if self.tensors.get(&fk).is_some_and(|t| t.family_arity > 0) {
            fk
        } else {
            crate::syntax::printer::print_name(n)
        }
    }

    /// The subscripts of a name that select a member of a family (`W_l`: `l`); none for a
    /// name whose subscript is part of its own name (`input w_in[H]` declares the tensor
    /// `w_in`, whose `in` is no index: read as one, a sampled run looked for the range of
    /// `in` and never tested the claim, snd42_open).
    pub fn member_subscripts<'n>(
        &self,
        n: &'n crate::syntax::ast::Name,
    ) -> &'n [crate::syntax::ast::IndexExpr] {
        let own = crate::syntax::printer::print_name(n);
        let family = self
            .tensors
            .get(&super::family_key(n))
            .is_some_and(|t| t.family_arity > 0);
        if !family && (self.tensors.contains_key(&own) || self.scalars.contains_key(&own)) {
            &[]
        } else {
            &n.sub
        }
    }

    /// The declaration of the tensor a name refers to (a family member's is its family's:
    /// [`Env::key_of`]).
    pub fn tensor_of(&self, n: &crate::syntax::ast::Name) -> Option<&TensorInfo> {
        self.tensors.get(&self.key_of(n))
    }

    /// What kind of thing a name already is, if anything.
    pub fn kind_of(&self, name: &str) -> Option<&'static str> {
        if self.sizes.contains_key(name) {
            Some("size")
        } else if self.symbols.contains_key(name) {
            Some("symbol")
        } else if self.scalars.contains_key(name) {
            Some("scalar")
        } else if self.tensors.contains_key(name) {
            Some("tensor")
        } else {
            None
        }
    }
}
