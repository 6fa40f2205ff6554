//! The interpreted physics: a [`Physics`] built at run time from any [`Derived`] by walking its
//! expression trees (`Expr::eval_r`) at every call. The macro-generated models are the compiled
//! counterpart and must agree with it numerically.
//!
//! The affine parameter of the Hermite path uses the closed form when the derivation found one,
//! otherwise a table of ∫ds/ω (composite Gauss–Legendre + quintic Hermite interpolation, see
//! [`quadrature`]); dr/du = Z·ω(r) is always evaluated exactly.

pub mod quadrature;

use crate::envelope::{numerical_envelope_of, EnvelopeSpec};
use crate::physics::{AffinePoint, Constants, Physics, RadialCoefficients};
use crate::{Error, Result};
use genads_dsl::derived::{Affine, Propagator};
use genads_dsl::{Derived, Expr};
use quadrature::IntegralTable;

/// Gauss–Legendre panels of the numerical affine table (10 nodes each).
pub const AFFINE_PANELS: usize = 128;

#[derive(Debug, Clone)]
enum AffineImpl {
    Closed { u: Expr, dr_du: Expr },
    Table { table: IntegralTable, z: f64 },
}

/// A model interpreted from its [`Derived`] form.
#[derive(Debug, Clone)]
pub struct Interpreted {
    derived: Derived,
    affine: AffineImpl,
    envelope: EnvelopeSpec,
}

fn eval(expr: &Expr, r: f64, what: &str) -> Result<f64> {
    expr.eval_r(r)
        .map_err(|e| Error::Invalid(format!("{what} at r = {r}: {e}")))
}

impl Interpreted {
    /// Interprets a derived model. Checks the radial range and that every coefficient evaluates
    /// to a finite number at r_IR, r_UV and the midpoint; tabulates ∫ds/ω when no closed form
    /// exists.
    pub fn new(derived: Derived) -> Result<Self> {
        let (r0, r1) = (derived.constants.r_ir, derived.constants.r_uv);
        if !(r0.is_finite() && r1.is_finite()) || r0 == r1 {
            return Err(Error::Invalid(format!(
                "model `{}`: radial range [{r0}, {r1}] is empty or not finite",
                derived.constants.name
            )));
        }
        if !derived.constants.alpha.is_finite() {
            return Err(Error::Invalid(format!(
                "model `{}`: α is not finite",
                derived.constants.name
            )));
        }
        let affine = match &derived.affine {
            Affine::ClosedForm { u, dr_du, .. } => AffineImpl::Closed {
                u: u.clone(),
                dr_du: dr_du.clone(),
            },
            Affine::Numerical => {
                let (om, dom) = (&derived.omega, &derived.omega_prime);
                let g = |s: f64| -> Result<f64> { Ok(1.0 / eval(om, s, "ω")?) };
                let dg = |s: f64| -> Result<f64> {
                    let w = eval(om, s, "ω")?;
                    Ok(-eval(dom, s, "ω′")? / (w * w))
                };
                let table = IntegralTable::with_derivative(&g, &dg, r0, r1, AFFINE_PANELS)?;
                let z = table.total();
                if !(z.is_finite() && z != 0.0) {
                    return Err(Error::Invalid(format!(
                        "model `{}`: ∫ds/ω over the radial range is {z}",
                        derived.constants.name
                    )));
                }
                AffineImpl::Table { table, z }
            }
        };
        let envelope = EnvelopeSpec::from_derived(&derived);
        let model = Self {
            derived,
            affine,
            envelope,
        };
        for r in [r0, 0.5 * (r0 + r1), r1] {
            model.try_radial(r)?;
            model.try_affine(r)?;
        }
        Ok(model)
    }

    /// The derived model this interprets.
    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    /// [`Physics::radial`] with evaluation errors reported.
    pub fn try_radial(&self, r: f64) -> Result<RadialCoefficients> {
        let d = &self.derived;
        Ok(RadialCoefficients {
            omega: eval(&d.omega, r, "ω")?,
            omega_prime: eval(&d.omega_prime, r, "ω′")?,
            friction: eval(&d.backbone.friction, r, "backbone friction")?,
            laplacian: eval(&d.backbone.laplacian, r, "backbone laplacian")?,
            mass: eval(&d.backbone.mass, r, "backbone mass")?,
        })
    }

    /// [`Physics::affine`] with evaluation errors reported.
    pub fn try_affine(&self, r: f64) -> Result<AffinePoint> {
        match &self.affine {
            AffineImpl::Closed { u, dr_du } => Ok(AffinePoint {
                u: eval(u, r, "affine u")?,
                dr_du: eval(dr_du, r, "dr/du")?,
            }),
            AffineImpl::Table { table, z } => Ok(AffinePoint {
                u: table.eval(r) / z,
                dr_du: z * eval(&self.derived.omega, r, "ω")?,
            }),
        }
    }
}

impl Physics for Interpreted {
    fn constants(&self) -> &Constants {
        &self.derived.constants
    }

    /// Coefficients at r; NaN where an expression cannot be evaluated (outside the model's
    /// domain) — the path, backbone and loss reject non-finite coefficients.
    fn radial(&self, r: f64) -> RadialCoefficients {
        self.try_radial(r).unwrap_or(RadialCoefficients {
            omega: f64::NAN,
            omega_prime: f64::NAN,
            friction: f64::NAN,
            laplacian: f64::NAN,
            mass: f64::NAN,
        })
    }

    /// Affine parameter at r; NaN where it cannot be evaluated.
    fn affine(&self, r: f64) -> AffinePoint {
        self.try_affine(r).unwrap_or(AffinePoint {
            u: f64::NAN,
            dr_du: f64::NAN,
        })
    }

    /// Closed-form envelopes by family ([`EnvelopeSpec`], in the model's normalisation); the
    /// `Numerical` family integrates this model's radial mode equation from the deep IR.
    fn envelope(&self, k_abs: f64) -> Result<(f64, f64)> {
        match self.derived.constants.propagator {
            Propagator::Numerical => numerical_envelope_of(self, k_abs),
            _ => self.envelope.eval(k_abs),
        }
    }
}
