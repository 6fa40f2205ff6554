//! Interpolation paths between the IR prior sample S₀ (t = 0) and the lifted data S₁ (t = 1)
//! (PAPER.md §5.2): the path point S_t and its t-velocity U_t = dS_t/dt.
//!
//! Every path is linear in the endpoints: per sample,
//! `[φ̃_t, π̃_t, U^φ, U^π] = M(t) · [φ̃₀, π̃₀, φ̃₁, π̃₁]` with a 4×4 matrix M(t) computed in f64
//! ([`path_matrix`]). [`sample_path`] builds M for the whole batch and applies it with one batched
//! matmul, so the f64 matrix is also the reference that tests check the tensors against.
//!
//! Hermite paths are cubic in a parameter u with endpoint tangents m_i = (dr/du)(r_i)·π̃_i:
//! - `HermiteAffine`: u = u(r) the affine parameter of [`Physics::affine`], dr/du = Z·ω(r), hence
//!   d²r/du² = (dr/du)²·ω′/ω (from d/dr(dr/du) = Z·ω′ = (dr/du)·ω′/ω);
//! - `HermiteRadial`: u = t, dr/du = Δr, d²r/du² = 0.
//!
//! With φ̃_u, φ̃_uu the u-derivatives of the curve, the momentum is on-shell, π̃_t = φ̃_u/(dr/du)
//! = ∂_r φ̃_t, and U^φ = Δr·π̃_t, U^π = Δr·∂_r π̃_t = Δr·[φ̃_uu/(dr/du)² − (d²r/du²)·φ̃_u/(dr/du)³].

use crate::physics::{per_sample, PathKind, Physics, State};
use crate::{Error, Result};
use candle_core::Tensor;

/// Path coefficients at one t: rows [φ̃_t, π̃_t, U^φ, U^π], columns [φ̃₀, π̃₀, φ̃₁, π̃₁].
pub type PathMatrix = [[f64; 4]; 4];

pub use crate::physics::PathSample;

/// Cubic Hermite basis [h00, h10, h01, h11] and its first and second u-derivatives.
fn hermite_basis(u: f64) -> [[f64; 4]; 3] {
    let (u2, u3) = (u * u, u * u * u);
    [
        [
            2.0 * u3 - 3.0 * u2 + 1.0,
            u3 - 2.0 * u2 + u,
            -2.0 * u3 + 3.0 * u2,
            u3 - u2,
        ],
        [
            6.0 * u2 - 6.0 * u,
            3.0 * u2 - 4.0 * u + 1.0,
            -6.0 * u2 + 6.0 * u,
            3.0 * u2 - 2.0 * u,
        ],
        [
            12.0 * u - 6.0,
            6.0 * u - 4.0,
            -12.0 * u + 6.0,
            6.0 * u - 2.0,
        ],
    ]
}

/// Errors unless t is a finite number in [0, 1].
pub fn check_time(t: f64) -> Result<()> {
    if t.is_finite() && (0.0..=1.0).contains(&t) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "flow time t = {t} is outside [0, 1]"
        )))
    }
}

/// The u-parametrisation of a Hermite path at radius r: (u, dr/du, d²r/du²).
fn hermite_parameter(physics: &dyn Physics, kind: PathKind, t: f64, r: f64) -> Result<[f64; 3]> {
    let span = physics.constants().span();
    let p = match kind {
        PathKind::HermiteRadial => [t, span, 0.0],
        _ => {
            let a = physics.affine(r);
            let c = physics.radial(r);
            if c.omega == 0.0 {
                return Err(Error::Invalid(format!("ω({r}) = 0: affine path undefined")));
            }
            [a.u, a.dr_du, a.dr_du * a.dr_du * c.omega_prime / c.omega]
        }
    };
    if p.iter().all(|x| x.is_finite()) && p[1] != 0.0 {
        Ok(p)
    } else {
        Err(Error::Invalid(format!(
            "Hermite parameter at r = {r} is degenerate (u, dr/du, d²r/du²) = {p:?}"
        )))
    }
}

/// Endpoint derivatives (dr/du)(r_IR), (dr/du)(r_UV) of the model's Hermite path.
fn hermite_endpoints(physics: &dyn Physics, kind: PathKind) -> Result<(f64, f64)> {
    let c = physics.constants();
    let (a0, a1) = match kind {
        PathKind::HermiteRadial => (c.span(), c.span()),
        _ => (physics.affine(c.r_ir).dr_du, physics.affine(c.r_uv).dr_du),
    };
    if a0.is_finite() && a1.is_finite() {
        Ok((a0, a1))
    } else {
        Err(Error::Invalid(format!(
            "non-finite Hermite endpoint tangents dr/du = ({a0}, {a1})"
        )))
    }
}

fn matrix_at(
    physics: &dyn Physics,
    kind: PathKind,
    ends: (f64, f64),
    t: f64,
) -> Result<PathMatrix> {
    check_time(t)?;
    let c = physics.constants();
    let span = c.span();
    if kind == PathKind::Linear {
        return Ok([
            [1.0 - t, 0.0, t, 0.0],
            [0.0, 1.0 - t, 0.0, t],
            [-1.0, 0.0, 1.0, 0.0],
            [0.0, -1.0, 0.0, 1.0],
        ]);
    }
    let [u, a, b] = hermite_parameter(physics, kind, t, c.radius(t))?;
    let (a0, a1) = ends;
    let h = hermite_basis(u);
    let tangent = [1.0, a0, 1.0, a1];
    let mut m = [[0.0; 4]; 4];
    for j in 0..4 {
        let (h0, h1, h2) = (
            h[0][j] * tangent[j],
            h[1][j] * tangent[j],
            h[2][j] * tangent[j],
        );
        m[0][j] = h0;
        m[1][j] = h1 / a;
        m[2][j] = span * h1 / a;
        m[3][j] = span * (h2 / (a * a) - b * h1 / (a * a * a));
    }
    Ok(m)
}

/// The path matrix M(t) of the model's path at flow time t (f64 reference of [`sample_path`]).
pub fn path_matrix(physics: &dyn Physics, t: f64) -> Result<PathMatrix> {
    let kind = physics.constants().path;
    let ends = match kind {
        PathKind::Linear => (0.0, 0.0),
        _ => hermite_endpoints(physics, kind)?,
    };
    matrix_at(physics, kind, ends, t)
}

/// Samples the model's path at per-sample times `t` (length B) between `s0` and `s1`.
///
/// Errors on mismatched shapes, empty batches, non-finite states, `t.len() != B` and t ∉ [0, 1].
pub fn sample_path(physics: &dyn Physics, s0: &State, s1: &State, t: &[f64]) -> Result<PathSample> {
    let b = s0.validate()?;
    s0.check_same_shape(s1, "path endpoints")?;
    s1.validate()?;
    if t.len() != b {
        return Err(Error::Invalid(format!(
            "{} flow times for a batch of {b}",
            t.len()
        )));
    }
    let c = physics.constants();
    let kind = c.path;
    let ends = match kind {
        PathKind::Linear => (0.0, 0.0),
        _ => hermite_endpoints(physics, kind)?,
    };
    let mut coeffs = Vec::with_capacity(16 * b);
    for &ti in t {
        let m = matrix_at(physics, kind, ends, ti)?;
        coeffs.extend(m.iter().flatten());
    }
    let dims = s0.phi.dims().to_vec();
    let x = Tensor::stack(
        &[
            s0.phi.flatten_from(1)?,
            s0.pi.flatten_from(1)?,
            s1.phi.flatten_from(1)?,
            s1.pi.flatten_from(1)?,
        ],
        1,
    )?;
    let m = per_sample(&coeffs, &x)?.reshape((b, 4, 4))?;
    let out = m.matmul(&x)?;
    let part = |i: usize| -> Result<Tensor> { Ok(out.narrow(1, i, 1)?.reshape(dims.as_slice())?) };
    Ok(PathSample {
        state: State {
            phi: part(0)?,
            pi: part(1)?,
        },
        velocity: State {
            phi: part(2)?,
            pi: part(3)?,
        },
        t: t.to_vec(),
        r: t.iter().map(|&ti| c.radius(ti)).collect(),
    })
}
