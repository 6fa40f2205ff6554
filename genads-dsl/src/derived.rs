//! `Derived`: the fully derived model, the seam between the language and every backend
//! (the run-time interpreter in genads-runtime and the `genads_model!` macro).
//!
//! Every `Expr` stored here is closed except for the radial variable `r` (model parameters are
//! substituted with their values), so `expr.eval_r(r)` evaluates it.

use crate::expr::Expr;
use serde::{Deserialize, Serialize};

/// How the flow interpolates between the IR prior sample S₀ and the lifted data S₁.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathKind {
    /// S_t = (1−t)S₀ + tS₁, U_t = S₁ − S₀.
    Linear,
    /// Cubic Hermite in the affine parameter u(r) = ∫ds/ω / Z, on-shell momentum (PAPER.md §5.2).
    HermiteAffine,
    /// Cubic Hermite in radial time u = t, dr/du = Δr.
    HermiteRadial,
}

/// Variance law of one component of the IR prior: variance = scale · (1 + |k|²)^(−sobolev_power).
/// A uniform prior is `sobolev_power = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PriorComponent {
    /// c: overall variance scale.
    pub scale: f64,
    /// s: Sobolev power (0 = uniform variance).
    pub sobolev_power: f64,
}

/// The Gaussian IR prior μ_IR for (φ̃, π̃).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// Prior of the field φ̃.
    pub phi: PriorComponent,
    /// Prior of the momentum π̃.
    pub pi: PriorComponent,
}

/// How data is lifted into the bulk state at r_UV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// Data is the boundary source; the state is propagator envelope × source.
    Propagator,
    /// Physics-free baseline: φ̃ = the data itself (points, or plain orthonormal FFT of images), π̃ = lift noise.
    None,
}

/// How propagator envelopes are normalised (PAPER.md §4.1 item 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Normalisation {
    /// The clean form: κ̃ → 1 as ξ → 0.
    #[default]
    Clean,
    /// The authors' DC quirk: divide by ξ0^ν K_ν(max(ξ0, ε)) with ξ0 = ε e^(−r_UV) (bit-compatibility).
    Reference,
}

/// The propagator family recognised from the warp factor, which decides how envelopes are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Propagator {
    /// f ≡ e^r exactly (a shifted e^(r + c) is `Numerical`): κ̃ = (2/Γ(ν)) (ξ/2)^ν K_ν(ξ),
    /// ξ = |k| e^(−r).
    Ads {
        /// ν = Δ − d/2.
        nu: f64,
    },
    /// f ≡ (p r)^(−γ), γ = (1−p)/p > 0 (hyperscaling violating, massless field only):
    /// K̂ = (|k|u)^β K_β(|k|u) / (2^(β−1) Γ(β)), u = (p r)^(1/p). p = 1 (γ = 0) is `Flat`.
    PowerLaw {
        /// p with γ = (1−p)/p.
        p: f64,
        /// β = (1 + (d−1)(1−p))/2.
        beta: f64,
    },
    /// f′ ≡ 0 (f constant): exp(−μ r) with μ = sqrt(|k|² f^−2 + max(m², 0)).
    Flat {
        /// The mass term used in μ.
        mass2: f64,
    },
    /// No closed form: solve the radial mode ODE numerically.
    Numerical,
}

/// Δ, m², ν and the radial bounds as exact normal-form constants (rationals stay rationals:
/// Δ = 3/2 gives m² = −3/4), for display; the f64 fields of [`Derived`] are their values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactConstants {
    /// Δ.
    pub delta: Expr,
    /// m² = Δ(Δ − d)/L².
    pub m2: Expr,
    /// ν = Δ − d/2.
    pub nu: Expr,
    /// r_IR.
    pub r_ir: Expr,
    /// r_UV.
    pub r_uv: Expr,
}

impl Default for ExactConstants {
    fn default() -> Self {
        let zero = Expr::int(0);
        ExactConstants {
            delta: zero.clone(),
            m2: zero.clone(),
            nu: zero.clone(),
            r_ir: zero.clone(),
            r_uv: zero,
        }
    }
}

/// The affine parameter u(r) of the Hermite path.
// One per model; the closed form's expressions inline.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Affine {
    /// u(r) and dr/du in closed form.
    ClosedForm {
        /// u(r), 0 at r_IR and 1 at r_UV.
        u: Expr,
        /// dr/du = Z ω(r).
        dr_du: Expr,
        /// Z = ∫_{r_IR}^{r_UV} ds/ω(s).
        z: f64,
        /// Z as an exact constant, and the antiderivative F(r) of 1/ω used (for display).
        #[serde(default = "zero_expr")]
        z_exact: Expr,
        /// F(r) with F' = 1/ω.
        #[serde(default = "zero_expr")]
        antiderivative: Expr,
    },
    /// ∫ds/ω is not elementary: the runtime integrates it numerically.
    Numerical,
}

fn zero_expr() -> Expr {
    Expr::int(0)
}

/// The radial Klein–Gordon backbone, per Fourier mode:
/// dφ/dr = π,  dπ/dr = friction(r)·π + (laplacian(r)·|k|² + mass(r))·φ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backbone {
    /// Coefficient of π in dπ/dr.
    pub friction: Expr,
    /// Coefficient of |k|² φ in dπ/dr (f^−2).
    pub laplacian: Expr,
    /// Coefficient of φ in dπ/dr.
    pub mass: Expr,
}

/// Where a model's statements were written (byte ranges of its source).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSpans {
    /// The warp expression.
    pub warp: std::ops::Range<usize>,
    /// The field statement.
    pub field: std::ops::Range<usize>,
    /// The radial statement.
    pub radial: std::ops::Range<usize>,
    /// The model name.
    pub name: std::ops::Range<usize>,
}

/// The numbers and choices of a derived model that training and sampling read: the physics
/// trait's constants. The interpreter borrows them from [`Derived`]; generated code builds the
/// same struct from literals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constants {
    /// Model name (sweep members are named after their value, e.g. `hsv_p0.25`).
    pub name: String,
    /// Stable hash of the canonical derived form (hex).
    pub signature: String,
    /// Boundary dimension d.
    pub d: u32,
    /// Scaling dimension Δ (Δ = d for a massless field).
    pub delta: f64,
    /// ν = Δ − d/2.
    pub nu: f64,
    /// Mass squared m² = Δ(Δ − d).
    pub m2: f64,
    /// r at t = 0 (IR, prior).
    pub r_ir: f64,
    /// r at t = 1 (UV, data).
    pub r_uv: f64,
    /// Backbone scale α (1 = Klein–Gordon on, 0 = off).
    pub alpha: f64,
    /// Whether the state is in UV-stabilised variables φ̃ = e^((d−Δ)r) φ.
    pub stabilised: bool,
    /// Interpolation path.
    pub path: PathKind,
    /// IR prior.
    pub prior: Prior,
    /// Encoding of data into the bulk.
    pub encoding: Encoding,
    /// Propagator family.
    pub propagator: Propagator,
    /// σ of the Gaussian lift noise added to π̃ at encoding.
    pub lift_noise: f64,
    /// Whether the loss is weighted by ω(r_t) (the slice measure).
    pub omega_weighting: bool,
    /// The first zero (or end of definition) of f beyond r_IR in the IR direction, within the
    /// numerical envelope's reach: the numerical propagator starts there with the regular
    /// (finite-action) Frobenius branch instead of crossing it.
    #[serde(default)]
    pub ir_tip: Option<f64>,
}

impl Constants {
    /// Signed radial span Δr = r_UV − r_IR.
    pub fn span(&self) -> f64 {
        self.r_uv - self.r_ir
    }
    /// r(t) = r_IR + t·Δr.
    pub fn radius(&self, t: f64) -> f64 {
        self.r_ir + t * self.span()
    }
}

/// A fully derived model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Name, signature, dimensions, range, path, prior, encoding and propagator: what the
    /// runtime's physics reads.
    #[serde(flatten)]
    pub constants: Constants,
    /// Whether the field was declared massless.
    pub massless: bool,
    /// Envelope normalisation (only meaningful with `Encoding::Propagator`).
    #[serde(default)]
    pub normalisation: Normalisation,
    /// Parameter values this model was derived with, in declaration order (sweep members included).
    #[serde(default)]
    pub params: Vec<(String, f64)>,
    /// Warp factor f(r).
    pub warp: Expr,
    /// ω(r) = f^d.
    pub omega: Expr,
    /// ω′(r).
    pub omega_prime: Expr,
    /// Radial friction d·f′/f.
    pub friction: Expr,
    /// f^−2.
    pub inv_f2: Expr,
    /// Backbone in the variables the model uses (stabilised or not).
    pub backbone: Backbone,
    /// Backbone in unstabilised variables (always available for display and checks).
    pub backbone_unstabilised: Backbone,
    /// Affine parameter of the Hermite path.
    pub affine: Affine,
    /// AdS radius L of the warp's boundary asymptotics (f'/f → 1/L), when it has them.
    #[serde(default)]
    pub ads_radius: Option<f64>,
    /// Exact forms of the constants.
    #[serde(default)]
    pub exact: ExactConstants,
    /// Byte spans of the source (warp expression, field and radial statements, model name),
    /// for diagnostics found after derivation (e.g. by `genads check`'s dry run).
    #[serde(skip)]
    pub spans: SourceSpans,
}
