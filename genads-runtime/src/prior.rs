//! The IR prior μ_IR (PAPER.md §5.1): independent Gaussians per real component with variance
//! c·(1 + |k|²)^(−s), separately for φ̃ and π̃. Uniform variance c when s = 0, when no |k|² grid is
//! given (the reference checkerboard setting), or for point states (rank-2 shapes).

use crate::physics::{Prior, PriorComponent};
use crate::rng::{normal_vec, ChaCha8Rng};
use crate::{Error, Result, State};
use candle_core::{Device, Tensor};

/// Per-entry standard deviations of one component for a state of `shape`.
fn stds(comp: &PriorComponent, shape: &[usize], k2: Option<&[f64]>) -> Result<Vec<f64>> {
    let (c, s) = (comp.scale, comp.sobolev_power);
    if !(c.is_finite() && c >= 0.0 && s.is_finite()) {
        return Err(Error::Invalid(format!(
            "prior needs a finite scale c ≥ 0 and finite power s, got c = {c}, s = {s}"
        )));
    }
    let n: usize = shape.iter().product();
    match (shape.len(), k2) {
        (4, Some(k2)) if s != 0.0 => {
            let hw = shape[2] * shape[3];
            if k2.len() != hw {
                return Err(Error::Invalid(format!(
                    "|k|² grid has {} modes, the state {hw}",
                    k2.len()
                )));
            }
            if k2.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::Invalid("|k|² grid must be finite and ≥ 0".into()));
            }
            let per_mode: Vec<f64> = k2.iter().map(|k| (c * (1.0 + k).powf(-s)).sqrt()).collect();
            Ok((0..n).map(|i| per_mode[i % hw]).collect())
        }
        _ => Ok(vec![c.sqrt(); n]),
    }
}

fn component(
    rng: &mut ChaCha8Rng,
    comp: &PriorComponent,
    shape: &[usize],
    k2: Option<&[f64]>,
) -> Result<Tensor> {
    let sd = stds(comp, shape, k2)?;
    let z = normal_vec(rng, sd.len(), 1.0);
    let v: Vec<f32> = z.iter().zip(&sd).map(|(z, s)| (z * s) as f32).collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

/// Draws S₀ ~ μ_IR of the given state shape ((B, 2C, H, W) or (B, C)); `k2` is the row-major
/// |k|² per (H, W) mode (e.g. [`crate::encode::Codec::prior_k2`]). φ̃ is drawn first, then π̃.
pub fn sample_prior(
    rng: &mut ChaCha8Rng,
    prior: &Prior,
    shape: &[usize],
    k2: Option<&[f64]>,
) -> Result<State> {
    if shape.is_empty() || shape.contains(&0) || !(shape.len() == 2 || shape.len() == 4) {
        return Err(Error::Invalid(format!(
            "prior: state shape must be (B, C) or (B, 2C, H, W), non-empty; got {shape:?}"
        )));
    }
    let phi = component(rng, &prior.phi, shape, k2)?;
    let pi = component(rng, &prior.pi, shape, k2)?;
    Ok(State { phi, pi })
}

/// The variance of each real component of one prior component for a mode of |k|² = `k2`.
pub fn prior_variance(comp: &PriorComponent, k2: f64) -> f64 {
    comp.scale * (1.0 + k2).powf(-comp.sobolev_power)
}
