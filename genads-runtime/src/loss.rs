//! The backbone-subtracted, warped flow-matching loss (PAPER.md §5.4).
//!
//! The network is trained on t-velocities: its target is U_t − α·Δr·V_KG(S_t, r_t) (the "residual
//! loss"; with α = 0 it is U_t, the "full-velocity loss"). The norm of a sample is
//! ω(r_t)·[Σ_modes mean_channels (Δφ̃)² + Σ_modes mean_channels (Δπ̃)²] (ω only with
//! `omega_weighting`), averaged over the batch. Hermite paths use the π̃ term only.

use crate::backbone::backbone_t;
use crate::path::PathSample;
use crate::physics::{Modes, PathKind, Physics, State};
use crate::{Error, Result};
use candle_core::Tensor;

/// The regression target of the network at a path sample: U_t − α·Δr·V_KG(S_t, r(t)).
///
/// For Hermite paths the φ̃ part is (1 − α)·U^φ (zero for α = 1) and is not used by [`flow_loss`].
pub fn training_target(physics: &dyn Physics, sample: &PathSample, modes: &Modes) -> Result<State> {
    sample
        .state
        .check_same_shape(&sample.velocity, "path sample")?;
    if physics.constants().alpha == 0.0 {
        sample.state.batch_size()?;
        return Ok(sample.velocity.clone());
    }
    let v = backbone_t(physics, &sample.state, &sample.t, modes)?;
    Ok(State {
        phi: sample.velocity.phi.sub(&v.phi)?,
        pi: sample.velocity.pi.sub(&v.pi)?,
    })
}

/// Per-sample loss weights ω(r_b) (or 1 without `omega_weighting`), checked finite and ≥ 0.
pub fn loss_weights(physics: &dyn Physics, r: &[f64]) -> Result<Vec<f64>> {
    let weighted = physics.constants().omega_weighting;
    r.iter()
        .map(|&ri| {
            if !ri.is_finite() {
                return Err(Error::Invalid(format!("radius r = {ri} is not finite")));
            }
            let w = if weighted {
                physics.radial(ri).omega
            } else {
                1.0
            };
            if w.is_finite() && w >= 0.0 {
                Ok(w)
            } else {
                Err(Error::Invalid(format!("loss weight ω({ri}) = {w}")))
            }
        })
        .collect()
}

/// The scalar training loss, differentiable with respect to `predicted`, at per-sample radii `r`.
///
/// Per sample: ω(r)·[Σ_modes mean_channels (Δφ̃)² + Σ_modes mean_channels (Δπ̃)²] with Δ =
/// predicted − target; for point states (B, C) the "modes" sum is empty (mean over channels
/// only). For `HermiteAffine`/`HermiteRadial` models `predicted.phi` and `target.phi` are ignored
/// (the network predicts π̃ only). The batch mean is returned. Errors on mismatched shapes,
/// `r.len() != B`, non-finite weights or a non-finite loss (NaN in the inputs).
pub fn flow_loss(
    physics: &dyn Physics,
    predicted: &State,
    target: &State,
    r: &[f64],
) -> Result<Tensor> {
    predicted.check_same_shape(target, "prediction and target")?;
    let b = target.batch_size()?;
    if r.len() != b {
        return Err(Error::Invalid(format!(
            "{} radii for a batch of {b}",
            r.len()
        )));
    }
    let dims = target.phi.dims();
    let norm = (dims[1] * b) as f64;
    let w: Vec<f64> = loss_weights(physics, r)?
        .into_iter()
        .map(|x| x / norm)
        .collect();
    let sq = |p: &Tensor, q: &Tensor| -> Result<Tensor> {
        Ok(p.sub(q)?.sqr()?.flatten_from(1)?.sum(1)?)
    };
    let mut per = sq(&predicted.pi, &target.pi)?;
    if physics.constants().path == PathKind::Linear {
        per = per.add(&sq(&predicted.phi, &target.phi)?)?;
    }
    let wt = Tensor::from_vec(w, b, per.device())?.to_dtype(per.dtype())?;
    let loss = per.mul(&wt)?.sum_all()?;
    let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
    if !value.is_finite() {
        return Err(Error::Invalid(format!("the loss is not finite ({value})")));
    }
    Ok(loss)
}
