//! The physics-free point baseline: φ̃ = normalised point, π̃ = σ·noise (PAPER.md §4.3).

use super::{add_lift_noise, check_points, read_tensor, Codec, DataBatch, DataScaling};
use crate::rng::ChaCha8Rng;
use crate::{Modes, Result, State};
use candle_core::{Device, Tensor};

/// Raw 2-D points as a (B, 2) state.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPointCodec {
    /// Data normalisation.
    pub scaling: DataScaling,
}

impl RawPointCodec {
    /// A codec with the given normalisation.
    pub fn new(scaling: DataScaling) -> Self {
        Self { scaling }
    }
}

impl Codec for RawPointCodec {
    fn state_shape(&self, batch: usize) -> Vec<usize> {
        vec![batch, 2]
    }

    fn modes(&self) -> Result<Modes> {
        Ok(Modes {
            k2: Tensor::zeros((1, 1), candle_core::DType::F32, &Device::Cpu)?,
        })
    }

    fn prior_k2(&self) -> Option<Vec<f64>> {
        None
    }

    fn encode(&self, batch: &DataBatch, noise: Option<(&mut ChaCha8Rng, f64)>) -> Result<State> {
        let pts = batch.points()?;
        check_points(pts)?;
        let phi: Vec<f32> = pts
            .iter()
            .flatten()
            .map(|&v| self.scaling.apply(v) as f32)
            .collect();
        let mut pi = vec![0.0f64; phi.len()];
        add_lift_noise(&mut pi, noise)?;
        let pi: Vec<f32> = pi.into_iter().map(|v| v as f32).collect();
        let b = pts.len();
        Ok(State {
            phi: Tensor::from_vec(phi, (b, 2), &Device::Cpu)?,
            pi: Tensor::from_vec(pi, (b, 2), &Device::Cpu)?,
        })
    }

    fn decode(&self, phi: &Tensor) -> Result<DataBatch> {
        let b = phi.dims().first().copied().unwrap_or(0);
        let v = read_tensor(phi, &[b, 2], "raw point decode")?;
        Ok(DataBatch::Points(
            v.chunks_exact(2)
                .map(|c| [self.scaling.invert(c[0]), self.scaling.invert(c[1])])
                .collect(),
        ))
    }
}
