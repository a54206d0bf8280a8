//! The exact element engine's atoms: reads of tensor elements as scalar atoms.

use super::*;

/// The element lowering as [`scalar::Atoms`] of the shared lowering: summations bound
/// by `bind`, whole tensors of a given by `whole`.
pub(super) struct Elements<'l, 'a> {
    pub(super) lw: &'l mut Lowerer<'a>,
    pub(super) bind: &'l BTreeMap<String, String>,
    pub(super) whole: &'l BTreeMap<String, Expr>,
}

impl scalar::Atoms for Elements<'_, '_> {
    fn reference(&mut self, r: &ast::Ref) -> Result<Expr, scalar::Unlowered> {
        Ok(self.lw.reference(r, self.bind, self.whole)?)
    }
    fn call(&mut self, _e: &ast::Expr, c: &ast::Call) -> Option<Result<Expr, scalar::Unlowered>> {
        self.lw
            .call(c, self.bind)
            .map(|v| v.map_err(scalar::Unlowered::from))
    }
    /// A parenthesized sum inside a term sums the capitals only it reads.
    fn parenthesized_sum(&mut self, e: &ast::Expr) -> Option<Result<Expr, scalar::Unlowered>> {
        Some(
            self.lw
                .lower_terms(e, self.bind)
                .map_err(scalar::Unlowered::from),
        )
    }
    /// A function's argument is a context of terms of its own (capitals summed inside).
    fn argument(&mut self, x: &ast::Expr) -> Result<Expr, scalar::Unlowered> {
        Ok(self.lw.lower_terms(x, self.bind)?)
    }
    fn sqrt(&mut self, x: Expr) -> Expr {
        self.lw.sqrt(&x)
    }
    fn sum(&mut self, ids: &[ast::Ident], body: &ast::Expr) -> Result<Expr, scalar::Unlowered> {
        Ok(self.lw.explicit_sum(ids, body, self.bind)?)
    }
    fn softmax(
        &mut self,
        id: &ast::Ident,
        body: &ast::Expr,
    ) -> Option<Result<Expr, scalar::Unlowered>> {
        Some(
            self.lw
                .softmax(id, body, self.bind)
                .map_err(scalar::Unlowered::from),
        )
    }
    /// `[k == k']` of two indices is a Kronecker delta; a relation of two values
    /// (`[a[b,h] > 0]`, relu's derivative) is a Heaviside step of their difference,
    /// exact at rational points. A bracket whose sides sum a capital is left to the
    /// sampled run.
    fn bracket(&mut self, inner: &ast::Expr) -> Option<Result<Expr, scalar::Unlowered>> {
        if let Some(d) = self.lw.index_bracket(inner, self.bind) {
            return Some(Ok(d));
        }
        let ast::Expr::Rel(op, l, r, _) = inner else {
            return None;
        };
        if *op == ast::RelOp::Approx
            || !self.lw.capitals(l, self.bind).is_empty()
            || !self.lw.capitals(r, self.bind).is_empty()
        {
            return None;
        }
        Some((|| {
            let d = scalar::lower_with(l, self)? - scalar::lower_with(r, self)?;
            scalar::iverson_step_within(*op, d)
        })())
    }
}

/// Whether the symbol names an element of tensor `t` (`b[j]`, also inside sum atoms).
pub fn mentions_tensor(sym_name: &str, t: &str) -> bool {
    let pat = format!("{t}[");
    sym_name.match_indices(&pat).any(|(k, _)| {
        !sym_name[..k]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '\'' || c == '}' || c == '^')
    })
}

/// Whether the symbol is the scalar `t` or reads it inside an atom (a sum written as one
/// symbol): `t` as a whole name, not a part of a longer one (`z` in `z` and in
/// `sum_{·1}(relu(z x[·1]))`, not in `z_2` nor in `zz`).
pub fn mentions_scalar(sym_name: &str, t: &str) -> bool {
    if t.is_empty() {
        return false;
    }
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '\'' || c == '^';
    sym_name.match_indices(t).any(|(k, _)| {
        let before = sym_name[..k].chars().last();
        let after = sym_name[k + t.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '}' || c == '.')
            && !after.is_some_and(|c| ident(c) || c == '{' || c == '[' || c == '.')
    })
}

/// Whether the symbol reads the random leaf `t`: an element of the tensor `t`, or the
/// scalar `t` itself when `scalar` (an input declared without indices, `input z ~
/// normal(0, 1)`: probe39/p p03, where it was a free symbol, so `Var(z x[0])` was 0 and
/// the true `Var(z x[0]) == x[0]^2` refuted).
pub fn mentions_leaf(sym_name: &str, t: &str, scalar: bool) -> bool {
    mentions_tensor(sym_name, t) || (scalar && mentions_scalar(sym_name, t))
}
