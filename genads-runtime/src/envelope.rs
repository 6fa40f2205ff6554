//! Propagator envelopes (env_φ, env_π) = (mode function, its r-derivative) at r_UV, per
//! propagator family (PAPER.md §3.4, §4.1 item 5, §11):
//!
//! * [`ads_envelope`]: κ̃ = (2/Γ(ν))(ξ/2)^ν K_ν(ξ), ∂_rκ̃ = (2^(1−ν)/Γ(ν)) ξ^(ν+1) K_(ν−1)(ξ), ξ = |k|e^(−r);
//! * [`power_law_envelope`]: K̂ = (|k|u)^β K_β(|k|u)/(2^(β−1)Γ(β)), u = (p r)^(1/p), with ∂_r K̂;
//! * [`flat_envelope`]: e^(−μr) normalised by its k = 0 value, μ = sqrt(|k|² f^(−2) + max(m², 0));
//! * [`numerical`]: any warp, by integrating the radial mode equation from the deep IR;
//! * [`ads_envelope_reference`]: the authors' DC-mode normalisation quirk (bit-compatibility).
//!
//! [`EnvelopeSpec`] bundles a family with r_UV and the normalisation; [`EnvelopeGrid`] tabulates
//! envelopes on a [`ModeGrid`].

mod closed;
pub mod numerical;

pub use closed::{
    ads_envelope, ads_envelope_reference, flat_envelope, flat_envelope_reference,
    power_law_envelope,
};
pub use genads_dsl::derived::Normalisation;
pub use numerical::{numerical_envelope, numerical_envelope_of, ModeEquation, NumericalOptions};

use crate::spectral::ModeGrid;
use crate::{Error, Physics, Result};
use genads_dsl::derived::{Derived, Propagator};

/// The ε of the authors' regularisation |k|_reg = sqrt(|k|² + ε²) (PAPER.md §4.1 item 4).
pub const REFERENCE_EPS: f64 = 0.01;

/// Everything needed to evaluate the closed-form envelope of a model at any |k|.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeSpec {
    /// Propagator family.
    pub propagator: Propagator,
    /// r at the UV end of the flow (t = 1).
    pub r_uv: f64,
    /// f^(−2)(r_UV) (used by the flat family; 1 for f = 1).
    pub inv_f2_uv: f64,
    /// Clean (default) or the reference DC-mode quirk.
    pub normalisation: Normalisation,
    /// ε of the reference quirk.
    pub eps: f64,
}

impl EnvelopeSpec {
    /// The spec of a derived model (ε = [`REFERENCE_EPS`]).
    pub fn from_derived(d: &Derived) -> Self {
        Self {
            propagator: d.constants.propagator.clone(),
            r_uv: d.constants.r_uv,
            inv_f2_uv: d.inv_f2.eval_r(d.constants.r_uv).unwrap_or(1.0),
            normalisation: d.normalisation,
            eps: REFERENCE_EPS,
        }
    }

    /// (env_φ, env_π) at momentum magnitude `k_abs` (un-regularised |k| ≥ 0).
    ///
    /// The reference quirk exists for the AdS and flat families (the ones the authors' encoder
    /// normalises at the DC mode); power-law envelopes are clean under either setting. The numerical
    /// family needs the mode equation: use [`numerical_envelope_of`] (this returns an error).
    pub fn eval(&self, k_abs: f64) -> Result<(f64, f64)> {
        let reference = self.normalisation == Normalisation::Reference;
        match self.propagator {
            Propagator::Ads { nu } if reference => ads_envelope_reference(nu, k_abs, self.r_uv, self.eps),
            Propagator::Ads { nu } => ads_envelope(nu, k_abs, self.r_uv),
            Propagator::PowerLaw { p, beta } => power_law_envelope(p, beta, k_abs, self.r_uv),
            Propagator::Flat { mass2 } if reference => {
                flat_envelope_reference(mass2, self.inv_f2_uv, k_abs, self.r_uv, self.eps)
            }
            Propagator::Flat { mass2 } => flat_envelope(mass2, self.inv_f2_uv, k_abs, self.r_uv),
            Propagator::Numerical => Err(Error::Invalid(
                "the numerical propagator needs the model's mode equation: use envelope::numerical_envelope_of".into(),
            )),
        }
    }
}

/// Envelopes tabulated on a mode grid, row-major like [`ModeGrid::k2`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeGrid {
    /// env_φ per mode.
    pub phi: Vec<f64>,
    /// env_π per mode.
    pub pi: Vec<f64>,
    /// Rows (x modes).
    pub h: usize,
    /// Columns (y modes).
    pub w: usize,
}

impl EnvelopeGrid {
    /// Tabulates `f(|k|)` on `grid` (|k| un-regularised). Errors if `f` fails or returns a
    /// non-finite value.
    pub fn from_fn(grid: &ModeGrid, f: impl Fn(f64) -> Result<(f64, f64)>) -> Result<Self> {
        let k_abs = grid.k_abs();
        let mut phi = Vec::with_capacity(k_abs.len());
        let mut pi = Vec::with_capacity(k_abs.len());
        // Many modes share |k| (symmetry): memoise on the exact bit pattern.
        let mut cache: std::collections::HashMap<u64, (f64, f64)> =
            std::collections::HashMap::new();
        for k in k_abs {
            let (a, b) = match cache.get(&k.to_bits()) {
                Some(v) => *v,
                None => {
                    let v = f(k)?;
                    if !(v.0.is_finite() && v.1.is_finite()) {
                        return Err(Error::Invalid(format!(
                            "envelope at |k| = {k} is not finite: {v:?}"
                        )));
                    }
                    cache.insert(k.to_bits(), v);
                    v
                }
            };
            phi.push(a);
            pi.push(b);
        }
        Ok(Self {
            phi,
            pi,
            h: grid.h,
            w: grid.w,
        })
    }

    /// Tabulates a closed-form spec.
    pub fn from_spec(grid: &ModeGrid, spec: &EnvelopeSpec) -> Result<Self> {
        Self::from_fn(grid, |k| spec.eval(k))
    }

    /// Tabulates a model's own envelope ([`Physics::envelope`], clean normalisation).
    pub fn from_physics<P: Physics + ?Sized>(grid: &ModeGrid, model: &P) -> Result<Self> {
        Self::from_fn(grid, |k| model.envelope(k))
    }

    /// Unit envelopes (env_φ = 1, env_π = 0): the physics-free encodings.
    pub fn identity(h: usize, w: usize) -> Self {
        Self {
            phi: vec![1.0; h * w],
            pi: vec![0.0; h * w],
            h,
            w,
        }
    }
}
