//! The rules a `proved` verdict may rest on (docs/soundness.md).

/// The rule a `proved` verdict rests on. Only these may prove (docs/soundness.md lists
/// them with what each establishes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProofRule {
    /// Both sides have the same normal form (directly, expanded, or over one
    /// denominator), and every definedness condition holds on the domains.
    NormalForm,
    /// The same, once `sigmoid`, `tanh`, `softplus` and `exp` are written in integer
    /// powers of exponentials of monomials (`sym::exp_form`: identities on all the reals
    /// whose new denominators are positive everywhere), and every definedness condition
    /// of the original sides holds on the domains.
    ExponentialForm,
    /// Both sides are constants whose exact rational values satisfy the relation.
    ExactEvaluation,
    /// The expanded difference of the sides is a rational constant of the right sign.
    ConstantDifference,
    /// Exact interval bounds on the difference of the sides over the domains
    /// (`exp > 0`, `sigmoid ∈ (0, 1)`, a positive base to any power is positive, …).
    RangeBound,
    /// The moments engine's exact closed form, then one of the rules above on it.
    MomentsClosedForm,
    /// The moments engine's exact variance at a fixed position under zero padding.
    MomentsByPosition,
    /// A bound on a moment (Lipschitz or range) proved by the moments engine, then the
    /// bound compared by one of the rules above.
    MomentsBound,
    /// `E[relu(y)] = E[|y|]/2 > 0` for a symmetric input of positive variance.
    ReluMeanPositive,
    /// An update rule's linear recurrence (Cayley–Hamilton / Faddeev–LeVerrier): both
    /// sides obey the same recurrence and agree on its first steps.
    LinearRecurrence,
    /// A claim about tensor elements written out symbolically at a generic element:
    /// an identity, a non-negativity certificate, a gradient scaling, or an invariance
    /// (the element unchanged, as an identity, when a leaf is shifted).
    TensorSymbolic,
    /// A one-variable polynomial or rational inequality: the sign of left − right at a
    /// test point between and around every real root in the domain (Sturm sequences,
    /// exact root isolation; `sym::sturm`).
    RealRootIsolation,
    /// A quadratic difference (over a denominator of one sign on the domains) whose
    /// symmetric matrix is positive semidefinite: `left − right >= 0` at every point.
    QuadraticForm,
}

impl ProofRule {
    /// The name printed in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ProofRule::NormalForm => "normal-form",
            ProofRule::ExponentialForm => "exponential-form",
            ProofRule::ExactEvaluation => "exact-evaluation",
            ProofRule::ConstantDifference => "constant-difference",
            ProofRule::RangeBound => "range-bound",
            ProofRule::MomentsClosedForm => "moments-closed-form",
            ProofRule::MomentsByPosition => "moments-by-position",
            ProofRule::MomentsBound => "moments-bound",
            ProofRule::ReluMeanPositive => "relu-mean-positive",
            ProofRule::LinearRecurrence => "linear-recurrence",
            ProofRule::TensorSymbolic => "tensor-symbolic",
            ProofRule::RealRootIsolation => "real-root-isolation",
            ProofRule::QuadraticForm => "quadratic-form",
        }
    }
}
