//! The Klein–Gordon backbone V_KG(S, r) (PAPER.md §3.3) and the full flow velocity
//! α·V_KG + R (PAPER.md §5.3).
//!
//! Per mode, in the variables the model uses (stabilised or not):
//! dφ̃/dr = π̃,  dπ̃/dr = friction(r)·π̃ + (laplacian(r)·|k|² + mass(r))·φ̃.

use crate::path::check_time;
use crate::physics::{check_finite, per_sample, Modes, PathKind, Physics, State};
use crate::{Error, Result};

/// Errors unless `modes.k2` broadcasts against a state component of shape `dims`:
/// same rank, leading axis 1, every other axis 1 or equal to the state's.
pub fn check_modes(modes: &Modes, dims: &[usize]) -> Result<()> {
    let k = modes.k2.dims();
    let ok = k.len() == dims.len()
        && k.first() == Some(&1)
        && k.iter().zip(dims).skip(1).all(|(&a, &b)| a == 1 || a == b);
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "modes |k|² of shape {k:?} do not broadcast against states of shape {dims:?}"
        )))
    }
}

/// Per-sample radial coefficients [friction, laplacian, mass] at the radii `r`, checked finite.
fn coefficients(physics: &dyn Physics, r: &[f64]) -> Result<[Vec<f64>; 3]> {
    let mut out = [
        Vec::with_capacity(r.len()),
        Vec::with_capacity(r.len()),
        Vec::with_capacity(r.len()),
    ];
    for &ri in r {
        let c = physics.radial(ri);
        if ![c.friction, c.laplacian, c.mass]
            .iter()
            .all(|x| x.is_finite())
        {
            return Err(Error::Invalid(format!(
                "backbone coefficients are not finite at r = {ri}: {c:?}"
            )));
        }
        out[0].push(c.friction);
        out[1].push(c.laplacian);
        out[2].push(c.mass);
    }
    Ok(out)
}

/// V_KG scaled per sample by `scale[b]`: (scale·π̃, scale·(friction·π̃ + (laplacian·|k|² + mass)·φ̃)).
fn scaled_backbone(
    physics: &dyn Physics,
    state: &State,
    r: &[f64],
    scale: &[f64],
    modes: &Modes,
) -> Result<State> {
    let [fr, lap, mass] = coefficients(physics, r)?;
    let s = |v: &[f64]| -> Vec<f64> { v.iter().zip(scale).map(|(x, y)| x * y).collect() };
    let like = &state.phi;
    let k2 = modes.k2.to_dtype(like.dtype())?;
    let phi_coef = per_sample(&s(&lap), like)?
        .broadcast_mul(&k2)?
        .broadcast_add(&per_sample(&s(&mass), like)?)?;
    let dpi = state
        .pi
        .broadcast_mul(&per_sample(&s(&fr), like)?)?
        .add(&state.phi.broadcast_mul(&phi_coef)?)?;
    let dphi = if scale.iter().all(|&x| x == 1.0) {
        state.pi.clone()
    } else {
        state.pi.broadcast_mul(&per_sample(scale, like)?)?
    };
    Ok(State { phi: dphi, pi: dpi })
}

fn check_batch(state: &State, n: usize, what: &str, modes: &Modes) -> Result<usize> {
    let b = state.validate()?;
    if n != b {
        return Err(Error::Invalid(format!("{n} {what} for a batch of {b}")));
    }
    check_modes(modes, state.phi.dims())?;
    Ok(b)
}

/// The r-velocity V_KG(S, r) of the Klein–Gordon backbone at per-sample radii `r` (length B).
///
/// Errors on bad shapes, empty batches, non-finite states or coefficients, `r.len() != B`.
pub fn backbone_velocity(
    physics: &dyn Physics,
    state: &State,
    r: &[f64],
    modes: &Modes,
) -> Result<State> {
    check_batch(state, r.len(), "radii", modes)?;
    scaled_backbone(physics, state, r, &vec![1.0; r.len()], modes)
}

/// α·Δr·V_KG(S, r(t)) per sample (the backbone's t-velocity), shared by the velocity and the
/// training target. `t` is checked against [0, 1].
pub(crate) fn backbone_t(
    physics: &dyn Physics,
    state: &State,
    t: &[f64],
    modes: &Modes,
) -> Result<State> {
    check_batch(state, t.len(), "flow times", modes)?;
    let c = physics.constants();
    let mut r = Vec::with_capacity(t.len());
    for &ti in t {
        check_time(ti)?;
        r.push(c.radius(ti));
    }
    let scale = vec![c.alpha * c.span(); t.len()];
    scaled_backbone(physics, state, &r, &scale, modes)
}

/// The backbone's t-velocity at `state` for a network that asks for it
/// ([`VelocityNet::wants_backbone`]); `None` when it does not or the model has no backbone (α = 0).
pub(crate) fn backbone_for_net(
    net: &dyn crate::nn::VelocityNet,
    physics: &dyn Physics,
    state: &State,
    t: &[f64],
    modes: &Modes,
) -> Result<Option<State>> {
    if !net.wants_backbone() || physics.constants().alpha == 0.0 {
        return Ok(None);
    }
    backbone_t(physics, state, t, modes).map(Some)
}

/// The full t-velocity of the flow: α·Δr·V_KG(S, r(t)) + residual, where `residual_t` is the
/// network's output (already a t-velocity).
///
/// For `HermiteAffine`/`HermiteRadial` models the network predicts only the π̃ part:
/// `residual_t.phi` is ignored (taken as zero), as dφ̃/dr = π̃ holds exactly. With α = 0 the
/// backbone is skipped. Errors on bad shapes, non-finite inputs and t ∉ [0, 1].
pub fn full_velocity_t(
    physics: &dyn Physics,
    state: &State,
    t: &[f64],
    residual_t: &State,
    modes: &Modes,
) -> Result<State> {
    state.check_same_shape(residual_t, "state and residual")?;
    let c = physics.constants();
    let hermite = c.path != PathKind::Linear;
    check_finite(&residual_t.pi, "residual pi")?;
    if !hermite {
        check_finite(&residual_t.phi, "residual phi")?;
    }
    if c.alpha == 0.0 {
        check_batch(state, t.len(), "flow times", modes)?;
        t.iter().try_for_each(|&ti| check_time(ti))?;
        let phi = if hermite {
            residual_t.phi.zeros_like()?
        } else {
            residual_t.phi.clone()
        };
        return Ok(State {
            phi,
            pi: residual_t.pi.clone(),
        });
    }
    let v = backbone_t(physics, state, t, modes)?;
    let phi = if hermite {
        v.phi
    } else {
        v.phi.add(&residual_t.phi)?
    };
    Ok(State {
        phi,
        pi: v.pi.add(&residual_t.pi)?,
    })
}
